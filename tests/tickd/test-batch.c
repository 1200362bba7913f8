/* test-batch.c — batches, runners and the collector, in process, with jobs
 * built in code: every outcome kind, the group kill on timeout, a job that
 * leaves a background process, a runner that dies without reporting. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tickd/batch.h"
#include "core/cleanup.h"
#include "harness/harness-daemon.h"
#include "harness/harness.h"
#include "shared/log.h"
#include "shared/proc-stat.h"
#include "tickd/runner.h"

#define MAX_SEEN 64

struct seen {
        size_t count;
        bool lost[MAX_SEEN];
        struct outcome outcomes[MAX_SEEN];
        char names[MAX_SEEN][32];
        char run_ids[MAX_SEEN][CONTROL_RUN_ID_MAX];
};

static void on_finished(void *userdata, const struct run *run, const struct outcome *o)
{
        struct seen *seen = userdata;
        ck_assert_uint_lt(seen->count, MAX_SEEN);
        snprintf(seen->names[seen->count], sizeof(seen->names[0]), "%s", run->job_name);
        snprintf(seen->run_ids[seen->count], sizeof(seen->run_ids[0]), "%s", run->run_id);
        seen->lost[seen->count] = o == NULL;
        if (o)
                seen->outcomes[seen->count] = *o;
        seen->count++;
}

static struct job make_job(const char *name, const char *command)
{
        return (struct job){ .name = (char *)name, .command = (char *)command, .enabled = true };
}

struct fixture {
        sd_event *event;
        struct batch_manager *manager;
        struct seen seen;
        sigset_t old_mask;
};

static void fixture_open(struct fixture *f)
{
        memset(f, 0, sizeof(*f));
        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &f->old_mask);
        ck_assert_int_ge(sd_event_new(&f->event), 0);
        ck_assert_int_eq(batch_manager_new(&(struct batch_manager_options){ .event = f->event,
                                                                            .relay_output = true,
                                                                            .finished = on_finished,
                                                                            .userdata = &f->seen },
                                           &f->manager),
                         0);
}

static void fixture_close(struct fixture *f)
{
        batch_manager_free(f->manager);
        sd_event_unref(f->event);
        sigprocmask(SIG_SETMASK, &f->old_mask, NULL);
}

/* Runs the loop until every batch is closed; returns the milliseconds it took. */
static long long run_until_closed(struct fixture *f, int limit_ms)
{
        long long start = harness_now_ms();
        while (batch_open_count(f->manager) > 0) {
                ck_assert_msg(harness_now_ms() - start < limit_ms, "batch still open after %d ms", limit_ms);
                ck_assert_int_ge(sd_event_run(f->event, 100 * 1000), 0);
        }
        return harness_now_ms() - start;
}

static void spawn(struct fixture *f, const struct job *jobs, size_t n)
{
        struct run_request req[16];
        for (size_t i = 0; i < n; i++)
                req[i] = (struct run_request){ .job = &jobs[i], .scheduled_usec = 1, .failed_exit_status = -1 };
        ck_assert_int_eq(batch_spawn(f->manager, req, n), (int)n);
}

static const struct outcome *outcome_of(const struct fixture *f, const char *name)
{
        for (size_t i = 0; i < f->seen.count; i++)
                if (strcmp(f->seen.names[i], name) == 0)
                        return f->seen.lost[i] ? NULL : &f->seen.outcomes[i];
        ck_abort_msg("no outcome for %s", name);
        return NULL;
}

static bool file_exists(const char *dir, const char *name)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        return access(path, F_OK) == 0;
}

static void read_file_line(const char *dir, const char *name, char *out, size_t size)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *fp = fopen(path, "re");
        ck_assert_msg(fp, "no %s", path);
        ck_assert_ptr_nonnull(fgets(out, (int)size, fp));
        out[strcspn(out, "\n")] = '\0';
        fclose(fp);
}

/* The pid written in DIR/NAME. */
static pid_t pid_in(const char *dir, const char *name)
{
        char line[32];
        int pid = 0;
        read_file_line(dir, name, line, sizeof(line));
        ck_assert_msg(sscanf(line, "%d", &pid) == 1, "no pid in %s/%s: %s", dir, name, line);
        return (pid_t)pid;
}

START_TEST(reports_exit_status_signal_and_setup_failure)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = {
                make_job("ok", "true"),
                make_job("three", "exit 3"),
                make_job("killed", "kill -KILL $$"),
                make_job("nodir", "true"),
                make_job("notfound", "/nonexistent/program"),
        };
        struct job_extra nodir = job_extra_defaults;
        nodir.working_directory = "/nonexistent-dir";
        jobs[3].extra = &nodir;
        spawn(&f, jobs, ELEMENTSOF(jobs));
        ck_assert_uint_eq(batch_open_count(f.manager), 1);
        run_until_closed(&f, 5000);
        ck_assert_uint_eq(f.seen.count, 5);
        const struct outcome *o = outcome_of(&f, "ok");
        ck_assert_int_eq(o->status, OUTCOME_EXITED);
        ck_assert_int_eq(o->code, 0);
        ck_assert_int_gt(o->pid, 0);
        o = outcome_of(&f, "three");
        ck_assert_int_eq(o->status, OUTCOME_EXITED);
        ck_assert_int_eq(o->code, 3);
        o = outcome_of(&f, "killed");
        ck_assert_int_eq(o->status, OUTCOME_SIGNALED);
        ck_assert_int_eq(o->signal, SIGKILL);
        o = outcome_of(&f, "nodir");
        ck_assert_int_eq(o->status, OUTCOME_SETUP_FAILED);
        ck_assert_str_eq(o->stage, "chdir");
        ck_assert_int_eq(o->error, ENOENT);
        o = outcome_of(&f, "notfound");
        ck_assert_int_eq(o->status, OUTCOME_EXITED);
        ck_assert_int_eq(o->code, 127);
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
}
END_TEST

/* Commands that are a path and plain words run without a shell
 * (command.h); when that exec fails, the shell runs them after all, so
 * the outcome is what `sh -c` gives: a script without "#!" is run by the
 * shell, a file that is not executable exits 126, one not found 127. */
START_TEST(direct_exec_falls_back_to_the_shell)
{
        char *dir = harness_tmpdir();
        char *no_shebang = harness_write_file(dir, "no-shebang", "exit 5\n");
        char *not_exec = harness_write_file(dir, "not-exec", "#!/bin/sh\nexit 0\n");
        char *args = harness_write_file(dir, "args", "#!/bin/sh\necho \"$#:$1:$2\" > \"$3\"\n");
        ck_assert_int_eq(chmod(no_shebang, 0755), 0);
        ck_assert_int_eq(chmod(args, 0755), 0);
        char args_cmd[4096], out[1024];
        snprintf(out, sizeof(out), "%s/args.out", dir);
        snprintf(args_cmd, sizeof(args_cmd), "  %s  one\t--two=2 %s ", args, out);
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = {
                make_job("no-shebang", no_shebang),
                make_job("not-exec", not_exec),
                make_job("missing", "/nonexistent/dir/program --flag"),
                make_job("args", args_cmd),
        };
        spawn(&f, jobs, ELEMENTSOF(jobs));
        run_until_closed(&f, 5000);
        ck_assert_int_eq(outcome_of(&f, "no-shebang")->code, 5);
        ck_assert_int_eq(outcome_of(&f, "not-exec")->code, 126);
        ck_assert_int_eq(outcome_of(&f, "missing")->code, 127);
        ck_assert_int_eq(outcome_of(&f, "args")->status, OUTCOME_EXITED);
        ck_assert_int_eq(outcome_of(&f, "args")->code, 0);
        fixture_close(&f);
        FILE *fp = fopen(out, "re");
        ck_assert_ptr_nonnull(fp);
        char line[256] = "";
        ck_assert_ptr_nonnull(fgets(line, sizeof(line), fp));
        fclose(fp);
        ck_assert_str_eq(line, "3:one:--two=2\n"); /* words split as the shell would */
        free(no_shebang);
        free(not_exec);
        free(args);
        harness_tmpdir_remove(dir);
}
END_TEST

/* The NSS modules nsswitch.conf names for users and groups are loaded once,
 * in the daemon, so runners (its forks) need not load them each time.
 * compat and hesiod ship with glibc; nothing in this process loads them. */
START_TEST(nss_modules_are_loaded_once_for_all_runners)
{
        char *dir = harness_tmpdir();
        char *conf = harness_write_file(dir, "nsswitch.conf",
                                        "# users\npasswd:  files compat\n"
                                        "group:\t[NOTFOUND=return] ../hesiod hesiod # systemd\n"
                                        "hosts: files dns\n");
        ck_assert_ptr_null(dlopen("libnss_compat.so.2", RTLD_LAZY | RTLD_NOLOAD));
        ck_assert_ptr_null(dlopen("libnss_hesiod.so.2", RTLD_LAZY | RTLD_NOLOAD));
        runner_preload_nss(conf);
        void *compat = dlopen("libnss_compat.so.2", RTLD_LAZY | RTLD_NOLOAD);
        void *hesiod = dlopen("libnss_hesiod.so.2", RTLD_LAZY | RTLD_NOLOAD);
        ck_assert_msg(compat && hesiod, "compat %p, hesiod %p", compat, hesiod);
        dlclose(compat); /* the NOLOAD references; the modules stay (RTLD_NODELETE) */
        dlclose(hesiod);
        runner_preload_nss("/nonexistent/nsswitch.conf"); /* nothing to load, nothing fails */
        free(conf);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(environment_is_built_from_scratch)
{
        char *dir = harness_tmpdir();
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "/usr/bin/env > %s/env; umask > %s/umask", dir, dir);
        setenv("TICKD_TEST_LEAK", "leaked", 1);
        struct fixture f;
        fixture_open(&f);
        char *env[] = { "FOO=bar", "PATH=/custom", NULL };
        struct job job = make_job("envjob", cmd);
        job.environment = env;
        struct job_extra extra = job_extra_defaults;
        extra.working_directory = dir;
        extra.umask = 027;
        job.extra = &extra;
        spawn(&f, &job, 1);
        run_until_closed(&f, 5000);
        ck_assert_int_eq(outcome_of(&f, "envjob")->code, 0);
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
        char *out = NULL;
        char path[512];
        snprintf(path, sizeof(path), "%s/env", dir);
        char *argv[] = { "/bin/cat", path, NULL };
        harness_run(argv, NULL, &out, NULL);
        ck_assert_ptr_nonnull(strstr(out, "TICKD_JOB=envjob\n"));
        ck_assert_ptr_nonnull(strstr(out, "TICKD_RUN_ID="));
        ck_assert_ptr_nonnull(strstr(out, "FOO=bar\n"));
        ck_assert_ptr_nonnull(strstr(out, "PATH=/custom\n"));
        ck_assert_ptr_nonnull(strstr(out, "LOGNAME="));
        ck_assert_ptr_null(strstr(out, "TICKD_TEST_LEAK"));
        free(out);
        snprintf(path, sizeof(path), "%s/umask", dir);
        harness_run(argv, NULL, &out, NULL);
        ck_assert_str_eq(out, "0027\n");
        free(out);
        unsetenv("TICKD_TEST_LEAK");
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(timeout_kills_the_whole_group)
{
        char *dir = harness_tmpdir();
        char cmd[512];
        /* The child records its pid; the group kill must take it too. */
        snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s/child; wait", dir);
        struct fixture f;
        fixture_open(&f);
        struct job job = make_job("slow", cmd);
        job.timeout_usec = 300 * 1000;
        struct job_extra extra = job_extra_defaults;
        extra.kill_grace_usec = 300 * 1000;
        job.extra = &extra;
        spawn(&f, &job, 1);
        long long ms = run_until_closed(&f, 5000);
        ck_assert_int_lt(ms, 2000);
        const struct outcome *o = outcome_of(&f, "slow");
        ck_assert_int_eq(o->timed_out, 1);
        ck_assert_int_eq(o->status, OUTCOME_SIGNALED);
        ck_assert_int_eq(o->signal, SIGTERM);
        fixture_close(&f);
        pid_t child = pid_in(dir, "child");
        /* The orphaned sleep was reparented to us (subreaper) and killed. */
        ck_assert_int_eq(harness_reap_children(2000), 0);
        ck_assert_int_eq(kill(child, 0) < 0 ? errno : 0, ESRCH);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(background_process_does_not_hold_the_batch)
{
        char *dir = harness_tmpdir();
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "sleep 300 & echo $! > %s/bg; echo started", dir);
        struct fixture f;
        fixture_open(&f);
        struct job job = make_job("daemonises", cmd);
        spawn(&f, &job, 1);
        long long ms = run_until_closed(&f, 3000);
        ck_assert_int_lt(ms, 1500);
        ck_assert_int_eq(outcome_of(&f, "daemonises")->code, 0);
        fixture_close(&f);
        pid_t bg = pid_in(dir, "bg");
        ck_assert_int_eq(kill(bg, 0), 0); /* still running: the batch did not wait for it */
        kill(bg, SIGKILL);
        ck_assert_int_eq(harness_reap_children(2000), 0);
        harness_tmpdir_remove(dir);
}
END_TEST

/* The pid of our live child whose comm is COMM, or 0. */
static pid_t child_by_comm(const char *comm) { return harness_child_by_comm(getpid(), comm); }

/* With the stderr target, the runner relays job output to its stderr. When
 * that is a pipe nobody reads any more, the lines are lost, but not the
 * runner and so not the run's outcome. */
START_TEST(relaying_to_a_closed_stderr_keeps_the_outcome)
{
        struct fixture f;
        fixture_open(&f);
        void (*old_handler)(int) = signal(SIGPIPE, SIG_IGN); /* our own log lines meet EPIPE too */
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        close(p[0]);
        int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_eq(dup2(p[1], STDERR_FILENO), STDERR_FILENO);
        close(p[1]);
        struct job job = make_job("talker", "echo one; echo two >&2; sleep 0.2; echo three");
        spawn(&f, &job, 1);
        run_until_closed(&f, 5000);
        dup2(saved, STDERR_FILENO);
        close(saved);
        signal(SIGPIPE, old_handler);
        const struct outcome *o = outcome_of(&f, "talker");
        ck_assert_msg(o != NULL, "the run was lost: its runner died writing to the closed stderr");
        ck_assert_int_eq(o->status, OUTCOME_EXITED);
        ck_assert_int_eq(o->code, 0);
        fixture_close(&f);
}
END_TEST

START_TEST(killed_runner_is_reported_lost)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("victim", "sleep 0.5"), make_job("bystander", "true") };
        /* Two batches: the runs of one batch share a runner (runner.h). */
        spawn(&f, &jobs[0], 1);
        spawn(&f, &jobs[1], 1);
        pid_t runner = 0;
        for (int tries = 0; tries < 200 && !runner; tries++) {
                runner = child_by_comm("tickd:victim");
                if (!runner)
                        usleep(5 * 1000);
        }
        ck_assert_int_gt(runner, 0);
        kill(runner, SIGKILL);
        run_until_closed(&f, 5000);
        ck_assert_uint_eq(f.seen.count, 2);
        ck_assert_ptr_null(outcome_of(&f, "victim"));
        ck_assert_int_eq(outcome_of(&f, "bystander")->code, 0);
        fixture_close(&f);
        /* The orphaned "sleep 0.5" comes back to us (subreaper) and ends. */
        ck_assert_int_eq(harness_reap_children(3000), 0);
}
END_TEST

/* A runner whose poll() fails while its job runs can no longer enforce the
 * timeout, take a cancel or relay output, and does not know how the job
 * ended: it must not report success. The cause here is a real one, from
 * outside, with no hook in the runner: poll() fails with EINVAL when it is
 * given more descriptors than RLIMIT_NOFILE allows, and prlimit(2) lowers
 * the runner's limit under it once the job has started (the runner opens
 * nothing more after that, so only poll() notices). */
START_TEST(failed_poll_kills_the_job_and_reports_the_stage)
{
        char *dir = harness_tmpdir();
        char cmd[1024], started[512];
        snprintf(started, sizeof(started), "%s/started", dir);
        /* A line every 0.2 s (for 5 s at most): whenever the limit lands,
         * a line soon wakes the runner into a poll() that fails. */
        snprintf(cmd, sizeof(cmd), "touch %s; i=0; while [ $i -lt 25 ]; do sleep 0.2; echo tick; i=$((i+1)); done",
                 started);
        struct fixture f;
        fixture_open(&f);
        struct job job = make_job("unwatched", cmd);
        spawn(&f, &job, 1);
        pid_t runner = 0;
        for (int tries = 0; tries < 400 && (!runner || access(started, F_OK) < 0); tries++) {
                if (!runner)
                        runner = child_by_comm("tickd:unwatched");
                usleep(5 * 1000);
        }
        ck_assert_int_gt(runner, 0);
        ck_assert_int_eq(access(started, F_OK), 0);
        struct rlimit limit;
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &limit), 0);
        limit.rlim_cur = 1; /* below the signalfd and an output pipe the runner polls */
        ck_assert_int_eq(prlimit(runner, RLIMIT_NOFILE, &limit, NULL), 0);
        long long ms = run_until_closed(&f, 5000);
        const struct outcome *o = outcome_of(&f, "unwatched");
        ck_assert_int_eq(o->status, OUTCOME_SETUP_FAILED);
        ck_assert_str_eq(o->stage, "poll");
        ck_assert_int_eq(o->error, EINVAL);
        ck_assert_int_lt(ms, 2000); /* the job was killed, not waited for */
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
        harness_tmpdir_remove(dir);
}
END_TEST

/* A handler of the daemon's (here: the test's) must never run in a
 * runner: a signal that reaches a runner before it has reset its
 * dispositions would otherwise run the daemon's code in the runner — under
 * Check, whose SIGTERM handler kills its whole process group, that killed
 * the test itself. The daemon blocks every signal around fork(), the runner
 * resets dispositions, then unblocks. */
static int handler_fd = -1;

static void record_handler_pid(int sig)
{
        pid_t pid = getpid();
        (void)!write(handler_fd, &pid, sizeof(pid));
}

static void signal_every_runner(void *userdata, uint64_t id, uint64_t age_usec, const struct run *const *runs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (runs[i]->runner_pid > 0)
                        kill(runs[i]->runner_pid, SIGTERM);
}

START_TEST(a_signal_to_a_new_runner_never_runs_a_handler_of_the_daemon)
{
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
        handler_fd = p[1];
        struct sigaction sa = { .sa_handler = record_handler_pid }, old;
        ck_assert_int_eq(sigaction(SIGTERM, &sa, &old), 0);
        struct fixture f;
        fixture_open(&f);
        struct job jobs[16];
        char names[16][16];
        for (size_t i = 0; i < ELEMENTSOF(jobs); i++) {
                snprintf(names[i], sizeof(names[i]), "job%zu", i);
                /* exec: the job is one process. With sh forking sleep,
                 * once in a dozen loaded runs a sleep in the cancelled
                 * job's group outlived its killed sh (and its output relay
                 * with it): leftovers are another story (a cgroup ends
                 * them), not this test's. */
                jobs[i] = make_job(names[i], "exec sleep 10");
        }
        for (int round = 0; round < 4; round++) {
                spawn(&f, jobs, ELEMENTSOF(jobs));
                /* At once: the newest runners are still starting. */
                batch_foreach(f.manager, signal_every_runner, NULL);
                run_until_closed(&f, 20000);
        }
        pid_t ran_in = 0;
        ck_assert_msg(read(p[0], &ran_in, sizeof(ran_in)) < 0, "the daemon's SIGTERM handler ran in runner %d",
                      (int)ran_in);
        ck_assert_uint_eq(f.seen.count, 4 * ELEMENTSOF(jobs));
        for (size_t i = 0; i < f.seen.count; i++)
                ck_assert_msg(!f.seen.lost[i] && f.seen.outcomes[i].cancelled, "run %zu of %s was not cancelled", i,
                              f.seen.names[i]);
        fixture_close(&f);
        sigaction(SIGTERM, &old, NULL);
        close(p[0]);
        close(p[1]);
        harness_reap_children(2000);
}
END_TEST

/* Issue 16: one runner per batch. What the daemon knows of a batch's
 * unfinished runs, by job name: runner and job pids. */
struct runs_seen {
        size_t n;
        char names[16][32];
        pid_t runner[16], job[16];
};

static void collect_runs(void *userdata, uint64_t id, uint64_t age_usec, const struct run *const *runs, size_t n)
{
        struct runs_seen *seen = userdata;
        for (size_t i = 0; i < n && seen->n < 16; i++, seen->n++) {
                snprintf(seen->names[seen->n], sizeof(seen->names[0]), "%s", runs[i]->job_name);
                seen->runner[seen->n] = runs[i]->runner_pid;
                seen->job[seen->n] = runs[i]->job_pid;
        }
}

static struct runs_seen runs_now(struct fixture *f)
{
        struct runs_seen seen = { 0 };
        batch_foreach(f->manager, collect_runs, &seen);
        return seen;
}

static pid_t runner_of(const struct runs_seen *seen, const char *name)
{
        for (size_t i = 0; i < seen->n; i++)
                if (strcmp(seen->names[i], name) == 0)
                        return seen->runner[i];
        ck_abort_msg("%s is not running", name);
        return 0;
}

/* NAME's run ended by itself with exit status CODE: neither cancelled
 * nor timed out. */
static void assert_exited(const struct fixture *f, const char *name, int code)
{
        const struct outcome *o = outcome_of(f, name);
        ck_assert_msg(o, "%s was lost", name);
        ck_assert_int_eq(o->cancelled, 0);
        ck_assert_int_eq(o->timed_out, 0);
        ck_assert_int_eq(o->status, OUTCOME_EXITED);
        ck_assert_int_eq(o->code, code);
}

/* Runs the loop until every unfinished run has its STARTED record. */
static struct runs_seen wait_started(struct fixture *f, size_t n)
{
        long long start = harness_now_ms();
        for (;;) {
                struct runs_seen seen = runs_now(f);
                size_t started = 0;
                for (size_t i = 0; i < seen.n; i++)
                        started += seen.job[i] > 0;
                if (seen.n == n && started == n)
                        return seen;
                ck_assert_msg(harness_now_ms() - start < 5000, "%zu of %zu runs started after 5 s", started, n);
                ck_assert_int_ge(sd_event_run(f->event, 20 * 1000), 0);
        }
}

/* The comm of process PID, waited for until it is not the daemon's own
 * (a runner names itself right after fork()). */
static void comm_of(pid_t pid, char *comm, size_t size)
{
        char path[64], self[32] = "";
        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        FILE *fp = fopen("/proc/self/comm", "re");
        if (fp && fgets(self, sizeof(self), fp))
                self[strcspn(self, "\n")] = '\0';
        if (fp)
                fclose(fp);
        for (int tries = 0; tries < 400; tries++) {
                comm[0] = '\0';
                fp = fopen(path, "re");
                if (fp && fgets(comm, (int)size, fp))
                        comm[strcspn(comm, "\n")] = '\0';
                if (fp)
                        fclose(fp);
                if (comm[0] && strcmp(comm, self) != 0)
                        return;
                usleep(5 * 1000);
        }
}

START_TEST(simple_runs_share_one_runner_and_mail_and_pam_runs_have_their_own)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("s1", "sleep 1"), make_job("s2", "sleep 1"), make_job("s3", "sleep 1"),
                              make_job("mailer", "sleep 1"), make_job("pammed", "sleep 1") };
        struct job_extra mailer = job_extra_defaults, pammed = job_extra_defaults;
        mailer.mail_to = "root";
        pammed.pam = 1;
        jobs[3].extra = &mailer;
        jobs[4].extra = &pammed;
        spawn(&f, jobs, ELEMENTSOF(jobs));
        struct runs_seen seen = runs_now(&f);
        ck_assert_uint_eq(seen.n, 5);
        pid_t shared = runner_of(&seen, "s1");
        ck_assert_int_gt(shared, 0);
        ck_assert_int_eq(runner_of(&seen, "s2"), shared);
        ck_assert_int_eq(runner_of(&seen, "s3"), shared);
        ck_assert_int_gt(runner_of(&seen, "mailer"), 0);
        ck_assert_int_ne(runner_of(&seen, "mailer"), shared);
        /* PAM sessions need root; without it pam = yes does nothing, and
         * the run shares the batch's runner. */
        if (geteuid() == 0) {
                ck_assert_int_ne(runner_of(&seen, "pammed"), shared);
                ck_assert_int_ne(runner_of(&seen, "pammed"), runner_of(&seen, "mailer"));
        } else {
                ck_assert_int_eq(runner_of(&seen, "pammed"), shared);
        }
        char comm[32];
        comm_of(shared, comm, sizeof(comm));
        ck_assert_str_eq(comm, "tickd:batch");
        comm_of(runner_of(&seen, "mailer"), comm, sizeof(comm));
        ck_assert_str_eq(comm, "tickd:mailer");
        run_until_closed(&f, 10000);
        ck_assert_uint_eq(f.seen.count, 5);
        assert_exited(&f, "s1", 0);
        assert_exited(&f, "s2", 0);
        assert_exited(&f, "s3", 0);
        fixture_close(&f);
}
END_TEST

START_TEST(cancelling_one_run_of_a_shared_runner_stops_only_that_run)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("cancelled", "sleep 30"), make_job("three", "sleep 0.5; exit 3"),
                              make_job("fine", "sleep 0.5") };
        spawn(&f, jobs, ELEMENTSOF(jobs));
        struct runs_seen seen = wait_started(&f, 3);
        ck_assert_int_eq(runner_of(&seen, "cancelled"), runner_of(&seen, "three"));
        ck_assert_int_eq(runner_of(&seen, "cancelled"), runner_of(&seen, "fine"));
        ck_assert_uint_eq(batch_cancel_job(f.manager, "cancelled"), 1);
        ck_assert_int_lt(run_until_closed(&f, 5000), 3000);
        const struct outcome *o = outcome_of(&f, "cancelled");
        ck_assert_int_eq(o->cancelled, 1);
        ck_assert_int_eq(o->status, OUTCOME_SIGNALED);
        ck_assert_int_eq(o->signal, SIGTERM);
        assert_exited(&f, "three", 3);
        assert_exited(&f, "fine", 0);
        fixture_close(&f);
}
END_TEST

START_TEST(a_timeout_in_a_shared_runner_kills_that_group_only)
{
        struct fixture f;
        fixture_open(&f);
        /* stubborn ignores SIGTERM (and so does its sleep): only the
         * SIGKILL after kill_grace ends it. */
        struct job jobs[] = { make_job("stubborn", "trap '' TERM; sleep 30; true"),
                              make_job("steady", "sleep 3; exit 5") };
        jobs[0].timeout_usec = 300 * 1000;
        struct job_extra stubborn = job_extra_defaults;
        stubborn.kill_grace_usec = 300 * 1000;
        jobs[0].extra = &stubborn;
        spawn(&f, jobs, ELEMENTSOF(jobs));
        struct runs_seen seen = wait_started(&f, 2);
        ck_assert_int_eq(runner_of(&seen, "stubborn"), runner_of(&seen, "steady"));
        run_until_closed(&f, 8000);
        const struct outcome *o = outcome_of(&f, "stubborn");
        ck_assert_int_eq(o->timed_out, 1);
        ck_assert_int_eq(o->status, OUTCOME_SIGNALED);
        ck_assert_int_eq(o->signal, SIGKILL);
        assert_exited(&f, "steady", 5);
        ck_assert_int_ge(outcome_of(&f, "steady")->duration_usec, 3000 * 1000);
        /* The stubborn run was reported while the steady one went on
         * (0.6 s against 3 s): its runner did not wait for it. */
        ck_assert_str_eq(f.seen.names[0], "stubborn");
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
}
END_TEST

START_TEST(a_daemonising_job_holds_up_neither_its_shared_runner_nor_the_batch)
{
        char *dir = harness_tmpdir();
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "sleep 300 & echo $! > %s/bg; echo started", dir);
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("daemonises", cmd), make_job("quick", "true"),
                              make_job("later", "sleep 0.3; exit 2") };
        spawn(&f, jobs, ELEMENTSOF(jobs));
        long long ms = run_until_closed(&f, 3000);
        ck_assert_int_lt(ms, 1500);
        assert_exited(&f, "daemonises", 0);
        assert_exited(&f, "quick", 0);
        assert_exited(&f, "later", 2);
        fixture_close(&f);
        pid_t bg = pid_in(dir, "bg");
        ck_assert_int_eq(kill(bg, 0), 0); /* still running: nothing waited for it */
        kill(bg, SIGKILL);
        ck_assert_int_eq(harness_reap_children(2000), 0);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(a_killed_shared_runner_leaves_each_unfinished_run_lost)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("first", "sleep 30"), make_job("second", "sleep 30"), make_job("done", "true") };
        spawn(&f, jobs, ELEMENTSOF(jobs));
        long long start = harness_now_ms();
        while (f.seen.count < 1) {
                ck_assert_msg(harness_now_ms() - start < 5000, "done did not finish");
                ck_assert_int_ge(sd_event_run(f.event, 20 * 1000), 0);
        }
        struct runs_seen seen = wait_started(&f, 2);
        pid_t runner = runner_of(&seen, "first");
        ck_assert_int_eq(runner_of(&seen, "second"), runner);
        ck_assert_int_eq(kill(runner, SIGKILL), 0);
        run_until_closed(&f, 5000);
        ck_assert_uint_eq(f.seen.count, 3);
        assert_exited(&f, "done", 0);
        ck_assert_ptr_null(outcome_of(&f, "first"));
        ck_assert_ptr_null(outcome_of(&f, "second"));
        fixture_close(&f);
        for (size_t i = 0; i < seen.n; i++)
                kill(-seen.job[i], SIGKILL); /* orphaned to us (subreaper) */
        ck_assert_int_eq(harness_reap_children(3000), 0);
}
END_TEST

START_TEST(a_setup_failure_in_a_shared_runner_is_that_runs_outcome_only)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("nouser", "true"), make_job("before", "exit 4"), make_job("nodir", "true"),
                              make_job("after", "true") };
        jobs[0].user = "tickd-no-such-user";
        struct job_extra nodir = job_extra_defaults;
        nodir.working_directory = "/nonexistent-dir";
        jobs[2].extra = &nodir;
        spawn(&f, jobs, ELEMENTSOF(jobs));
        run_until_closed(&f, 5000);
        ck_assert_uint_eq(f.seen.count, 4);
        const struct outcome *o = outcome_of(&f, "nouser");
        ck_assert_int_eq(o->status, OUTCOME_SETUP_FAILED);
        ck_assert_str_eq(o->stage, "user");
        ck_assert_ptr_nonnull(strstr(o->detail, "tickd-no-such-user"));
        o = outcome_of(&f, "nodir");
        ck_assert_int_eq(o->status, OUTCOME_SETUP_FAILED);
        ck_assert_str_eq(o->stage, "chdir");
        assert_exited(&f, "before", 4);
        assert_exited(&f, "after", 0);
        fixture_close(&f);
}
END_TEST

/* ---- the runner forked ahead of an instant (batch_prepare(), issue 16) ---- */

static int prepare(struct fixture *f, const struct job *const *jobs, size_t n, int64_t scheduled)
{
        struct run_request req[16];
        for (size_t i = 0; i < n; i++)
                req[i] = (struct run_request){ .job = jobs[i], .scheduled_usec = scheduled, .failed_exit_status = -1 };
        return batch_prepare(f->manager, req, n);
}

/* As the scheduler offers them: under the run id the prepared runner gave
 * each (none when it has no such run). */
static void spawn_at(struct fixture *f, const struct job *const *jobs, size_t n, int64_t scheduled)
{
        struct run_request req[16];
        for (size_t i = 0; i < n; i++)
                req[i] = (struct run_request){ .job = jobs[i],
                                               .scheduled_usec = scheduled,
                                               .failed_exit_status = -1,
                                               .run_id = batch_prepared_run_id_of(f->manager, jobs[i], scheduled) };
        ck_assert_int_eq(batch_spawn(f->manager, req, n), (int)n);
}

/* Runs the loop (whose SIGCHLD handler reaps the manager's children)
 * until PID, WHAT, has exited and been reaped; 5 s at most. */
static void run_until_reaped(struct fixture *f, pid_t pid, const char *what)
{
        for (long long start = harness_now_ms(); kill(pid, 0) == 0;) {
                ck_assert_msg(harness_now_ms() - start < 5000, "%s did not exit", what);
                ck_assert_int_ge(sd_event_run(f->event, 20 * 1000), 0);
        }
}

/* Our live (not zombie) child named COMM, waited for up to 5 s; 0 if none. */
static pid_t live_child_by_comm(const char *comm)
{
        pid_t pid = 0;
        for (long long start = harness_now_ms(); !(pid = child_by_comm(comm)) && harness_now_ms() - start < 5000;)
                usleep(2000);
        return pid;
}

/* The prepared runner starts nothing before its go; at the go the batch's
 * runs are its runs (no fork at the instant), under the run ids it
 * prepared them with (TICKD_RUN_ID in the job's environment); a run it
 * prepared that the batch does not hold (here: one admission would have
 * skipped) never starts and has no record. */
START_TEST(a_prepared_runner_starts_the_batch_s_runs_at_the_go_and_drops_the_rest)
{
        _cleanup_free_ char *dir = harness_tmpdir();
        char one[600], two[600], skipped[600];
        snprintf(one, sizeof(one), "echo $TICKD_RUN_ID > %s/one", dir);
        snprintf(two, sizeof(two), "echo $TICKD_RUN_ID > %s/two", dir);
        snprintf(skipped, sizeof(skipped), "touch %s/skipped", dir);
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("one", one), make_job("skipped", skipped), make_job("two", two) };
        const struct job *all[] = { &jobs[0], &jobs[1], &jobs[2] };
        ck_assert_int_eq(prepare(&f, all, 3, 42000000), 3);
        pid_t prepared = live_child_by_comm("tickd:batch");
        ck_assert_int_gt(prepared, 0);
        ck_assert_uint_eq(batch_open_count(f.manager), 0); /* nothing announced */
        usleep(200 * 1000);                                /* time enough to run `echo`, were it started */
        ck_assert(!file_exists(dir, "one") && !file_exists(dir, "two"));
        const struct job *admitted[] = { &jobs[2], &jobs[0] }; /* another order than prepared */
        spawn_at(&f, admitted, 2, 42000000);
        struct runs_seen seen = runs_now(&f);
        ck_assert_int_eq(runner_of(&seen, "one"), prepared);
        ck_assert_int_eq(runner_of(&seen, "two"), prepared);
        run_until_closed(&f, 5000);
        ck_assert_uint_eq(f.seen.count, 2);
        assert_exited(&f, "one", 0);
        assert_exited(&f, "two", 0);
        for (size_t i = 0; i < f.seen.count; i++) {
                char id[64];
                read_file_line(dir, f.seen.names[i], id, sizeof(id));
                ck_assert_str_eq(id, f.seen.run_ids[i]);
        }
        fixture_close(&f);
        ck_assert(!file_exists(dir, "skipped"));
        ck_assert_int_eq(harness_reap_children(2000), 0);
        harness_tmpdir_remove(TAKE_PTR(dir));
}
END_TEST

/* A batch of other runs (another instant, a run by hand) leaves the
 * prepared runner waiting; a drop (a reload) ends it without a record, and
 * the instant's run then gets a runner of its own. */
START_TEST(a_prepared_runner_waits_for_its_own_runs_and_a_drop_ends_it)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("ahead", "true"), make_job("other", "true") };
        const struct job *ahead[] = { &jobs[0] }, *other[] = { &jobs[1] };
        ck_assert_int_eq(prepare(&f, ahead, 1, 42000000), 1);
        pid_t prepared = live_child_by_comm("tickd:ahead");
        ck_assert_int_gt(prepared, 0);
        spawn_at(&f, other, 1, 42000000); /* not one of its runs */
        spawn_at(&f, ahead, 1, 41000000); /* its job, another instant */
        struct runs_seen seen = runs_now(&f);
        ck_assert_int_ne(runner_of(&seen, "other"), prepared);
        ck_assert_int_ne(runner_of(&seen, "ahead"), prepared);
        run_until_closed(&f, 5000);
        ck_assert_int_eq(kill(prepared, 0), 0); /* still waiting for its instant */
        batch_prepare_drop(f.manager);
        run_until_reaped(&f, prepared, "the dropped runner");
        spawn_at(&f, ahead, 1, 42000000);
        seen = runs_now(&f);
        ck_assert_int_gt(runner_of(&seen, "ahead"), 0);
        ck_assert_int_ne(runner_of(&seen, "ahead"), prepared);
        run_until_closed(&f, 5000);
        ck_assert_uint_eq(f.seen.count, 3);
        for (size_t i = 0; i < f.seen.count; i++)
                ck_assert_msg(!f.seen.lost[i] && f.seen.outcomes[i].code == 0, "%s", f.seen.names[i]);
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
}
END_TEST

/* A prepared runner that died before its instant (killed, and not even
 * reaped yet: its go finds no reader) costs nothing: its runs get a
 * runner at the instant as they always did. */
START_TEST(runs_of_a_prepared_runner_that_died_get_a_fresh_runner)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("ahead", "exit 7") };
        const struct job *ahead[] = { &jobs[0] };
        ck_assert_int_eq(prepare(&f, ahead, 1, 42000000), 1);
        pid_t prepared = live_child_by_comm("tickd:ahead");
        ck_assert_int_gt(prepared, 0);
        ck_assert_int_eq(kill(prepared, SIGKILL), 0);
        struct proc_stat st = { .state = 0 };
        for (long long start = harness_now_ms(); st.state != 'Z'; usleep(1000)) {
                ck_assert_msg(harness_now_ms() - start < 5000, "the killed runner is not a zombie");
                ck_assert_int_eq(proc_stat_read(prepared, &st), 0);
        }
        spawn_at(&f, ahead, 1, 42000000);
        struct runs_seen seen = runs_now(&f);
        ck_assert_int_gt(runner_of(&seen, "ahead"), 0);
        ck_assert_int_ne(runner_of(&seen, "ahead"), prepared);
        run_until_closed(&f, 5000);
        ck_assert_uint_eq(f.seen.count, 1);
        assert_exited(&f, "ahead", 7);
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
}
END_TEST

/* A run whose preparation failed (its user is unknown) is reported at its
 * go, with its slot in the batch, as a runner forked at the instant
 * reports it; the go gives each run its slot, so a cancel reaches the
 * right one. */
START_TEST(a_prepared_run_that_failed_its_preparation_is_reported_at_its_go)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("nouser", "true"), make_job("sleeper", "exec sleep 30"),
                              make_job("five", "sleep 0.3; exit 5") };
        jobs[0].user = "tickd-no-such-user";
        const struct job *all[] = { &jobs[0], &jobs[1], &jobs[2] };
        ck_assert_int_eq(prepare(&f, all, 3, 42000000), 3);
        pid_t prepared = live_child_by_comm("tickd:batch");
        ck_assert_int_gt(prepared, 0);
        const struct job *admitted[] = { &jobs[2], &jobs[1], &jobs[0] };
        spawn_at(&f, admitted, 3, 42000000);
        struct runs_seen seen = wait_started(&f, 2);
        ck_assert_int_eq(runner_of(&seen, "five"), prepared);
        ck_assert_int_eq(runner_of(&seen, "sleeper"), prepared);
        ck_assert_uint_eq(batch_cancel_job(f.manager, "sleeper"), 1);
        run_until_closed(&f, 5000);
        ck_assert_uint_eq(f.seen.count, 3);
        const struct outcome *o = outcome_of(&f, "nouser");
        ck_assert_int_eq(o->status, OUTCOME_SETUP_FAILED);
        ck_assert_str_eq(o->stage, "user");
        ck_assert_ptr_nonnull(strstr(o->detail, "tickd-no-such-user"));
        o = outcome_of(&f, "sleeper");
        ck_assert_int_eq(o->cancelled, 1);
        ck_assert_int_eq(o->signal, SIGTERM);
        assert_exited(&f, "five", 5);
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
}
END_TEST

/* A stopped job whose main process ends at SIGTERM, leaving in its group
 * a process that ignores SIGTERM: the run is recorded at once, and the
 * leftover gets its SIGKILL at the stop's deadline (kill_grace), as the
 * main process would have. */
START_TEST(a_stopped_job_s_leftovers_get_their_sigkill_at_the_deadline)
{
        _cleanup_free_ char *dir = harness_tmpdir();
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "(trap '' TERM; exec sleep 30) & echo $! > %s/left; exec sleep 30", dir);
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("stopped", cmd), make_job("other", "sleep 0.2") };
        jobs[0].timeout_usec = 300 * 1000;
        struct job_extra grace = job_extra_defaults;
        grace.kill_grace_usec = 1500 * 1000;
        jobs[0].extra = &grace;
        spawn(&f, jobs, ELEMENTSOF(jobs));
        long long start = harness_now_ms();
        while (f.seen.count < 2) {
                ck_assert_msg(harness_now_ms() - start < 5000, "no outcomes after 5 s");
                ck_assert_int_ge(sd_event_run(f.event, 50 * 1000), 0);
        }
        const struct outcome *o = outcome_of(&f, "stopped");
        ck_assert_int_eq(o->timed_out, 1);
        ck_assert_int_eq(o->signal, SIGTERM);
        assert_exited(&f, "other", 0);
        pid_t left = pid_in(dir, "left");
        ck_assert_int_eq(kill(left, 0), 0); /* it ignored SIGTERM; its SIGKILL is not due yet */
        run_until_closed(&f, 5000);         /* the runner waits for the deadline; the batch does not */
        for (start = harness_now_ms(); kill(left, 0) == 0 && waitpid(left, NULL, WNOHANG) != left;) {
                ck_assert_msg(harness_now_ms() - start < 5000, "the leftover %d outlived its stop", (int)left);
                usleep(10 * 1000);
        }
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
        harness_tmpdir_remove(TAKE_PTR(dir));
}
END_TEST

/* A run that needs a runner of its own (mail_to here; PAM the same way) is
 * prepared in a runner of its own, as it would be forked at the instant,
 * and the batch takes both runners. */
START_TEST(a_mail_run_is_prepared_in_a_runner_of_its_own)
{
        struct fixture f;
        fixture_open(&f);
        struct job jobs[] = { make_job("plain", "true"), make_job("mailer", "exit 3") };
        struct job_extra mailer = job_extra_defaults;
        mailer.mail_to = "root";
        jobs[1].extra = &mailer;
        const struct job *all[] = { &jobs[0], &jobs[1] };
        ck_assert_int_eq(prepare(&f, all, 2, 42000000), 2);
        pid_t plain = live_child_by_comm("tickd:plain"), mail = live_child_by_comm("tickd:mailer");
        ck_assert_int_gt(plain, 0);
        ck_assert_int_gt(mail, 0);
        spawn_at(&f, all, 2, 42000000);
        struct runs_seen seen = runs_now(&f);
        ck_assert_int_eq(runner_of(&seen, "plain"), plain);
        ck_assert_int_eq(runner_of(&seen, "mailer"), mail);
        run_until_closed(&f, 10000);
        assert_exited(&f, "plain", 0);
        assert_exited(&f, "mailer", 3);
        /* Alone: its own runner is the only one forked ahead. The last
         * one is reaped first, so that the name is the new one's. */
        run_until_reaped(&f, mail, "the last mail runner");
        const struct job *alone[] = { &jobs[1] };
        ck_assert_int_eq(prepare(&f, alone, 1, 43000000), 1);
        mail = live_child_by_comm("tickd:mailer");
        ck_assert_int_gt(mail, 0);
        spawn_at(&f, alone, 1, 43000000);
        seen = runs_now(&f);
        ck_assert_int_eq(runner_of(&seen, "mailer"), mail);
        run_until_closed(&f, 10000);
        ck_assert_uint_eq(f.seen.count, 3);
        ck_assert_int_eq(f.seen.outcomes[2].code, 3);
        fixture_close(&f);
        ck_assert_int_eq(harness_reap_children(2000), 0);
}
END_TEST

static Suite *batch_suite(void)
{
        Suite *s = suite_create("batch");
        TCase *tc = tcase_create("runs");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 20);
        tcase_add_test(tc, reports_exit_status_signal_and_setup_failure);
        tcase_add_test(tc, environment_is_built_from_scratch);
        tcase_add_test(tc, direct_exec_falls_back_to_the_shell);
        tcase_add_test(tc, nss_modules_are_loaded_once_for_all_runners);
        tcase_add_test(tc, timeout_kills_the_whole_group);
        tcase_add_test(tc, background_process_does_not_hold_the_batch);
        tcase_add_test(tc, killed_runner_is_reported_lost);
        tcase_add_test(tc, relaying_to_a_closed_stderr_keeps_the_outcome);
        tcase_add_test(tc, failed_poll_kills_the_job_and_reports_the_stage);
        tcase_add_test(tc, a_signal_to_a_new_runner_never_runs_a_handler_of_the_daemon);
        tcase_add_test(tc, simple_runs_share_one_runner_and_mail_and_pam_runs_have_their_own);
        tcase_add_test(tc, cancelling_one_run_of_a_shared_runner_stops_only_that_run);
        tcase_add_test(tc, a_timeout_in_a_shared_runner_kills_that_group_only);
        tcase_add_test(tc, a_daemonising_job_holds_up_neither_its_shared_runner_nor_the_batch);
        tcase_add_test(tc, a_killed_shared_runner_leaves_each_unfinished_run_lost);
        tcase_add_test(tc, a_setup_failure_in_a_shared_runner_is_that_runs_outcome_only);
        tcase_add_test(tc, a_stopped_job_s_leftovers_get_their_sigkill_at_the_deadline);
        tcase_add_test(tc, a_prepared_runner_starts_the_batch_s_runs_at_the_go_and_drops_the_rest);
        tcase_add_test(tc, a_prepared_runner_waits_for_its_own_runs_and_a_drop_ends_it);
        tcase_add_test(tc, runs_of_a_prepared_runner_that_died_get_a_fresh_runner);
        tcase_add_test(tc, a_prepared_run_that_failed_its_preparation_is_reported_at_its_go);
        tcase_add_test(tc, a_mail_run_is_prepared_in_a_runner_of_its_own);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(batch_suite)
