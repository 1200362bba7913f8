/* test-faults.c — a real tickd under injected faults.
 *
 * What it injects into a running tickd, one fault per test:
 *   - no free descriptor (prlimit RLIMIT_NOFILE down to its lowest free
 *     one): pipe() of a due batch, accept() on the control socket and the
 *     open() of a changed crontab in a reload fail with EMFILE;
 *   - no process to spare (a pids cgroup at its limit): the fork() of
 *     every runner fails with EAGAIN;
 *   - no process to spare under RLIMIT_NPROC (a user instance of a user
 *     made for the test, the limit at its task count, then two more while
 *     four runs are due at once): every fork() beyond it fails with EAGAIN;
 *   - a state directory (a 64 KiB tmpfs) first full (ENOSPC), then
 *     read-only (EROFS): stamps, last outcomes and run records cannot be
 *     written while a persistent job runs every second;
 *   - journald (a private one) stopped during a run, then its socket
 *     removed, while tickd logs to it.
 * What it asserts: the fault is logged, a bounded number of times; every
 * run id tickd handed out (started or delayed) ends with exactly one final
 * record (an outcome, skipped or dropped), in the journal or on stderr;
 * and once the fault is gone tickd recovers (the delayed runs run, the
 * changed crontab loads, stamps and last outcomes are written again) and
 * is healthy: a new run succeeds, `tickctl list` answers, its descriptor
 * count is back to what it was before the fault and no child of it is a
 * zombie. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-ctl.h"
#include "harness/harness-daemon.h"
#include "harness/harness-journald.h"
#include "harness/harness.h"

/* ---- every run id ends with exactly one final record ---- */

#define MAX_IDS 64

struct ids {
        char id[MAX_IDS][33];
        size_t n;
};

static void ids_add(struct ids *ids, const char *id)
{
        for (size_t i = 0; i < ids->n; i++)
                if (strcmp(ids->id[i], id) == 0)
                        return;
        ck_assert_uint_lt(ids->n, MAX_IDS);
        snprintf(ids->id[ids->n++], sizeof(ids->id[0]), "%s", id);
}

/* The record lines of LOG, each NUL-terminated in a copy, to FN. */
static void each_line(const char *log, void (*fn)(const char *line, void *ctx), void *ctx)
{
        for (const char *line = log; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                if (strncmp(line, "event=", 6) == 0) {
                        _cleanup_free_ char *copy = strndup(line, len);
                        fn(copy, ctx);
                }
                line = nl ? nl + 1 : NULL;
        }
}

static void add_run_id(const char *line, void *ctx)
{
        const char *run = strstr(line, " run=");
        char id[33];
        if (run && sscanf(run, " run=%32[0-9a-f]", id) == 1)
                ids_add(ctx, id);
}

struct final_count {
        const char *id;
        int n;
};

static void count_final(const char *line, void *ctx)
{
        static const char *const ends[] = { "succeeded", "failed",  "cancelled", "timed-out",
                                            "lost",      "dropped", "skipped" };
        struct final_count *fc = ctx;
        char want[64], event[32];
        snprintf(want, sizeof(want), " run=%s ", fc->id);
        if (!strstr(line, want) || sscanf(line, "event=%31[a-z-] ", event) != 1)
                return;
        for (size_t i = 0; i < ELEMENTSOF(ends); i++)
                fc->n += strcmp(event, ends[i]) == 0;
}

static int final_records(const char *log, const char *id)
{
        struct final_count fc = { .id = id };
        each_line(log, count_final, &fc);
        return fc.n;
}

/* Every run id LOG names (in any record: started, delayed, the control
 * socket's "started a run") has exactly one final record there; returns
 * how many ids there were. */
static size_t assert_every_run_accounted_for(const char *log)
{
        struct ids ids = { 0 };
        each_line(log, add_run_id, &ids);
        for (size_t i = 0; i < ids.n; i++) {
                int n = final_records(log, ids.id[i]);
                if (n != 1)
                        fprintf(stderr, "the log:\n%s\n", log);
                ck_assert_msg(n == 1, "run %s has %d final records", ids.id[i], n);
        }
        return ids.n;
}

/* ---- driving tickd ---- */

static struct ctl_target target_of(const struct tickd *t, char runtime[static 512], char state[static 512])
{
        snprintf(runtime, 512, "%s/runtime", t->dir);
        snprintf(state, 512, "%s/state", t->dir);
        return (struct ctl_target){ .runtime_base = runtime, .config_dir = t->config_dir, .state_dir = state };
}

/* tickctl ARGS as the owner of T's tree: root, or a user instance's user
 * (which alone it serves). */
static struct ctl_result ctl(const struct tickd *t, const char *const *args)
{
        char runtime[512], state[512];
        struct ctl_target target = target_of(t, runtime, state);
        struct stat st;
        ck_assert_int_eq(stat(t->dir, &st), 0);
        return harness_ctl(&target, st.st_uid ? harness_ctl_as(st.st_uid, st.st_gid) : NULL, args);
}

/* tickctl run JOB; returns the run id it printed in ID. */
static void ctl_run(const struct tickd *t, const char *job, char id[static 33])
{
        struct ctl_result r = ctl(t, (const char *const[]){ "run", job, NULL });
        ck_assert_msg(r.status == 0, "tickctl run %s: %d: %s", job, r.status, r.err);
        const char *run = strstr(r.out, ", run ");
        ck_assert_msg(run && sscanf(run, ", run %32[0-9a-f]", id) == 1, "no run id in: %s", r.out);
        ctl_result_free(&r);
}

/* Fails the test with tickd's log on stderr (too long for a message). */
#define fail_with_log(t, ...)                                                    \
        do {                                                                     \
                fprintf(stderr, "tickd's log:\n%s\n", (t)->log ? (t)->log : ""); \
                ck_abort_msg(__VA_ARGS__);                                       \
        } while (0)
#define assert_with_log(t, cond, ...)                  \
        do {                                           \
                if (!(cond))                           \
                        fail_with_log(t, __VA_ARGS__); \
        } while (0)

static void wait_for(struct tickd *t, const char *needle, int count, int ms)
{
        assert_with_log(t, tickd_wait_for(t, needle, count, ms), "no %d x '%s' within %d ms", count, needle, ms);
}

/* Writes jobs.d/NAME and waits until tickd has loaded it. */
static void write_job(struct tickd *t, const char *name, const char *ini)
{
        int before = tickd_count(t, "event=reloaded");
        tickd_write_job(t, name, ini);
        wait_for(t, "event=reloaded", before + 1, 10000);
}

/* Runs JOB by hand and waits for its record on stderr: EVENT. */
static void run_and_expect(struct tickd *t, const char *job, const char *event)
{
        char id[33], want[128];
        ctl_run(t, job, id);
        snprintf(want, sizeof(want), "event=%s job=%s run=%s ", event, job, id);
        wait_for(t, want, 1, 10000);
}

/* The daemon's descriptors once it has no run and no connection: the
 * same count twice, 100 ms apart. */
static int quiet_fds(struct tickd *t)
{
        int fds = -1, children, zombies;
        for (int tries = 0; tries < 100; tries++) {
                int before = fds;
                harness_proc_counts(t->pid, &fds, &children, &zombies);
                if (fds == before && children == 0)
                        return fds;
                tickd_pump(t, 100);
        }
        ck_abort_msg("tickd's descriptors or children never settled (%d fds, %d children)", fds, children);
        return -1;
}

/* What tickd holds when idle, once it has served a run and a peer (the
 * first of each creates what it keeps for the later ones). */
static int baseline(struct tickd *t)
{
        run_and_expect(t, "ok", "succeeded");
        struct ctl_result r = ctl(t, (const char *const[]){ "list", NULL });
        ck_assert_msg(r.status == 0, "tickctl list: %d: %s", r.status, r.err);
        ctl_result_free(&r);
        return quiet_fds(t);
}

/* After the fault: a run succeeds, list answers, and tickd is back to its
 * BASELINE descriptors without zombies. */
static void assert_healthy(struct tickd *t, int baseline_fds)
{
        run_and_expect(t, "ok", "succeeded");
        struct ctl_result r = ctl(t, (const char *const[]){ "list", NULL });
        ck_assert_msg(r.status == 0, "tickctl list: %d: %s", r.status, r.err);
        ck_assert_contains(r.out, "ok");
        ctl_result_free(&r);
        int fds = -1, children, zombies;
        for (int tries = 0; tries < 50; tries++) {
                harness_proc_counts(t->pid, &fds, &children, &zombies);
                if (fds == baseline_fds && zombies == 0)
                        break;
                tickd_pump(t, 100);
        }
        ck_assert_msg(fds == baseline_fds, "tickd holds %d descriptors, %d before the fault", fds, baseline_fds);
        ck_assert_int_eq(zombies, 0);
}

static void stop(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 20000);
        assert_with_log(t, WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        harness_reap_children(3000);
}

static const char ok_job[] = "[ok]\nschedule = @daily\ncommand = true\n";

/* ---- 1. no descriptors ---- */

/* The lowest descriptor number PID has free: with RLIMIT_NOFILE there, it
 * can open nothing more. */
static int lowest_free_fd(pid_t pid)
{
        for (int fd = 0;; fd++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
                if (access(path, F_OK) < 0)
                        return fd;
        }
}

START_TEST(out_of_descriptors_delays_runs_pauses_accept_and_keeps_the_crontab)
{
        struct tickd *t = tickd_start(NULL, NULL);
        write_job(t, "ok.ini", ok_job);
        int base = baseline(t);
        _cleanup_free_ char *at = harness_cron_in(3), *ini = NULL, *changed = NULL;
        ck_assert_int_ge(asprintf(&ini,
                                  "[b1]\nschedule = %s\ncommand = true\n\n[b2]\nschedule = %s\ncommand = true\n\n"
                                  "[b3]\nschedule = %s\ncommand = true\n",
                                  at, at, at),
                         0);
        write_job(t, "jobs.ini", ini);
        struct rlimit was;
        ck_assert_int_eq(prlimit(t->pid, RLIMIT_NOFILE, NULL, &was), 0);
        struct rlimit low = { .rlim_cur = (rlim_t)lowest_free_fd(t->pid), .rlim_max = was.rlim_max };
        ck_assert_int_eq(prlimit(t->pid, RLIMIT_NOFILE, &low, NULL), 0);

        /* pipe() at dispatch: the runs wait, under their ids. */
        wait_for(t, "event=delayed job=b", 3, 10000);
        ck_assert_int_eq(tickd_count(t, "event=started job=b"), 0);
        /* accept(): the peer waits in the backlog. */
        char runtime[512], state[512], dir[512];
        struct ctl_target target = target_of(t, runtime, state);
        snprintf(dir, sizeof(dir), "%s", t->dir);
        struct ctl_job lister = { 0 };
        harness_ctl_spawn(&target, dir, &lister, (const char *const[]){ "list", NULL });
        wait_for(t, "control: cannot accept connections", 1, 5000);
        /* open() in a reload: the file it cannot read keeps its version. */
        ck_assert_int_ge(asprintf(&changed, "%s\n[added]\nschedule = @daily\ncommand = true\n", ini), 0);
        tickd_write_job(t, "jobs.ini", changed);
        wait_for(t, "Too many open files; keeping every job", 1, 10000);
        ck_assert_int_eq(tickd_count(t, "event=dropped"), 0);

        ck_assert_int_eq(prlimit(t->pid, RLIMIT_NOFILE, &was, NULL), 0);
        struct ctl_result r = harness_ctl_finish(&lister, 10000);
        ck_assert_msg(r.status == 0, "the waiting tickctl list: %d: %s", r.status, r.err);
        ck_assert_not_contains(r.out, "added");
        ctl_result_free(&r);
        /* The delayed runs are the old version's jobs, still in force. */
        wait_for(t, "event=succeeded job=b", 3, 20000);
        r = ctl(t, (const char *const[]){ "reload", NULL });
        ck_assert_msg(r.status == 0, "tickctl reload: %d: %s%s", r.status, r.out, r.err);
        ctl_result_free(&r);
        run_and_expect(t, "added", "succeeded");

        assert_healthy(t, base);
        stop(t);
        ck_assert_uint_eq(assert_every_run_accounted_for(t->log), 6);
        tickd_free(t);
}
END_TEST

/* ---- 2. no processes ---- */

/* A pids cgroup holding one process at its limit: cgroup v2 (a child of
 * our own cgroup, with the pids controller enabled) or v1's pids
 * hierarchy. RLIMIT_NPROC would not do: it does not apply to root. */
struct pids_cgroup {
        char dir[512];
        char parent_procs[512];
};

static bool file_write(const char *dir, const char *name, const char *text)
{
        char path[600];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
        close(fd);
        return ok;
}

/* Our cgroup's directory in the hierarchy mounted at ROOT, from the line
 * of /proc/self/cgroup whose controllers field is CONTROLLERS. */
static bool own_cgroup(const char *root, const char *controllers, char *out, size_t size)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        char line[1024];
        while (f && fgets(line, sizeof(line), f)) {
                char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
                if (!b)
                        continue;
                *b = '\0';
                b[1 + strcspn(b + 1, "\n")] = '\0';
                if (strcmp(a + 1, controllers) == 0) {
                        snprintf(out, size, "%s%s", root, strcmp(b + 1, "/") == 0 ? "" : b + 1);
                        return true;
                }
        }
        return false;
}

static bool pids_cgroup_make(struct pids_cgroup *cg, const char *parent)
{
        snprintf(cg->parent_procs, sizeof(cg->parent_procs), "%s", parent);
        snprintf(cg->dir, sizeof(cg->dir), "%s/tickd-faults-%d", parent, (int)getpid());
        return mkdir(cg->dir, 0755) == 0 || errno == EEXIST;
}

/* Moves PID into a new pids cgroup; fails the test, saying why, when no
 * mechanism works here. */
static void pids_cgroup_enter(struct pids_cgroup *cg, pid_t pid)
{
        char parent[480];
        bool made = false;
        if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 &&
            own_cgroup("/sys/fs/cgroup", "", parent, sizeof(parent)))
                made = file_write(parent, "cgroup.subtree_control", "+pids") && pids_cgroup_make(cg, parent);
        if (!made && access("/sys/fs/cgroup/pids/cgroup.procs", F_OK) == 0 &&
            own_cgroup("/sys/fs/cgroup/pids", "pids", parent, sizeof(parent)))
                made = pids_cgroup_make(cg, parent);
        ck_assert_msg(made, "no pids cgroup can be made here (cgroup v2 with the pids controller, or v1's "
                            "/sys/fs/cgroup/pids, writable by root): cannot make fork() fail");
        char text[32];
        snprintf(text, sizeof(text), "%d", (int)pid);
        ck_assert_msg(file_write(cg->dir, "cgroup.procs", text), "cannot move tickd into %s: %s", cg->dir,
                      strerror(errno));
        char current[32] = "";
        char path[600];
        snprintf(path, sizeof(path), "%s/pids.current", cg->dir);
        FILE *f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(fgets(current, sizeof(current), f));
        fclose(f);
        ck_assert_msg(file_write(cg->dir, "pids.max", current), "cannot set pids.max in %s", cg->dir);
}

/* Lifts the limit and moves PID back where it was. */
static void pids_cgroup_leave(struct pids_cgroup *cg, pid_t pid)
{
        char text[32];
        snprintf(text, sizeof(text), "%d", (int)pid);
        ck_assert(file_write(cg->dir, "pids.max", "max"));
        ck_assert(file_write(cg->parent_procs, "cgroup.procs", text));
        ck_assert_int_eq(rmdir(cg->dir), 0);
}

START_TEST(runners_that_cannot_be_forked_are_recorded_failed)
{
        struct tickd *t = tickd_start(NULL, NULL);
        write_job(t, "ok.ini", ok_job);
        int base = baseline(t);
        struct pids_cgroup cg = { 0 };
        pids_cgroup_enter(&cg, t->pid);
        run_and_expect(t, "ok", "failed");
        run_and_expect(t, "ok", "failed");
        pids_cgroup_leave(&cg, t->pid);
        ck_assert_int_eq(tickd_count(t, "errno=EAGAIN"), 2);
        ck_assert_int_eq(tickd_count(t, "failed: fork:"), 2);

        assert_healthy(t, base);
        stop(t);
        ck_assert_uint_eq(assert_every_run_accounted_for(t->log), 4);
        tickd_free(t);
}
END_TEST

/* RLIMIT_NPROC counts the tasks of a real uid, and root (or anyone with
 * CAP_SYS_RESOURCE or CAP_SYS_ADMIN) is exempt: so the daemon is a user
 * instance of a user made for this test, whose only tasks are tickd's. */
static int tasks_of(pid_t pid)
{
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        int n = -1;
        while (n < 0 && fgets(line, sizeof(line), f))
                if (sscanf(line, "Threads: %d", &n) != 1)
                        n = -1;
        fclose(f);
        ck_assert_int_gt(n, 0);
        return n;
}

/* Sets PID's soft RLIMIT_NPROC to LIMIT, at most its hard one. Done as
 * PID's own user, UID:GID: without CAP_SYS_RESOURCE (not granted here)
 * root may not change another user's process's limits, while its own user
 * may move the soft limit anywhere below the hard one. */
static void set_nproc(pid_t pid, uid_t uid, gid_t gid, rlim_t limit)
{
        pid_t child = fork();
        ck_assert_int_ge(child, 0);
        if (child == 0) {
                struct rlimit rl;
                if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0 ||
                    prlimit(pid, RLIMIT_NPROC, NULL, &rl) < 0)
                        _exit(126);
                rl.rlim_cur = limit < rl.rlim_max ? limit : rl.rlim_max;
                _exit(prlimit(pid, RLIMIT_NPROC, &rl, NULL) < 0 ? 100 + errno % 100 : 0);
        }
        int status;
        ck_assert_int_eq(waitpid(child, &status, 0), child);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "setting RLIMIT_NPROC failed: status %d", status);
}

START_TEST(runners_refused_by_rlimit_nproc_are_recorded_failed)
{
        char user[64];
        uid_t uid;
        gid_t gid;
        harness_user_add("tkdp", user, sizeof(user), &uid, &gid);
        /* The user has no home to start the jobs in. */
        static const char user_ok_job[] = "[ok]\nschedule = @daily\ncommand = true\nworking_directory = /\n";
        struct tickd *t = tickd_start_user(uid, gid, (const char *const[]){ "ok.ini", user_ok_job, NULL });
        ck_assert(tickd_wait_for(t, "event=reloaded", 1, 10000));
        int base = baseline(t);
        /* Not one process more: each runner's fork() fails. */
        set_nproc(t->pid, uid, gid, (rlim_t)tasks_of(t->pid));
        run_and_expect(t, "ok", "failed");
        run_and_expect(t, "ok", "failed");
        ck_assert_int_eq(tickd_count(t, "errno=EAGAIN"), 2);
        /* Room for one process more, and four runs due at once: the
         * batch's shared runner takes it, and each of its jobs' vfork()
         * fails (with room for two, the first job could start, and its
         * sh could then fail to fork its own command: a job's failure, not
         * ours, and timing decided which); none is lost. */
        set_nproc(t->pid, uid, gid, (rlim_t)tasks_of(t->pid) + 1);
        _cleanup_free_ char *at = harness_cron_in(3);
        char ini[1024] = "";
        for (int i = 1; i <= 4; i++)
                snprintf(ini + strlen(ini), sizeof(ini) - strlen(ini),
                         "[b%d]\nschedule = %s\ncommand = sleep 0.2\nworking_directory = /\n\n", i, at);
        /* A user instance loads only files its user owns. */
        _cleanup_free_ char *temp = harness_write_file(t->dir, "burst.ini", ini), *path = NULL;
        ck_assert_int_eq(chown(temp, uid, gid), 0);
        ck_assert_int_ge(asprintf(&path, "%s/burst.ini", t->jobs_dir), 0);
        int reloads = tickd_count(t, "event=reloaded");
        ck_assert_int_eq(rename(temp, path), 0);
        wait_for(t, "event=reloaded", reloads + 1, 10000);
        for (long long deadline = harness_now_ms() + 15000;
             tickd_count(t, "event=succeeded job=b") + tickd_count(t, "event=failed job=b") < 4;) {
                assert_with_log(t, harness_now_ms() < deadline, "the four runs of the burst did not end");
                tickd_pump(t, 100);
        }
        assert_with_log(t, tickd_count(t, "event=failed job=b") >= 1, "no run of the burst met the limit");
        /* Waited for, not counted: the loop above stops at a record's
         * first words, and the rest of its line (errno=) may still be in
         * the pipe. */
        wait_for(t, "errno=EAGAIN", 3, 10000);
        set_nproc(t->pid, uid, gid, RLIM_INFINITY);

        assert_healthy(t, base);
        stop(t);
        harness_user_del(user);
        ck_assert_uint_eq(assert_every_run_accounted_for(t->log), 8);
        tickd_free(t);
}
END_TEST

/* ---- 3. a full, then read-only, state directory ---- */

/* Writes into DIR/fill until the file system is full. Called again, it
 * takes what tickd freed meanwhile (a finished run's record), so that
 * no write of tickd's finds room by chance. */
static void fill(const char *dir)
{
        char path[600], block[4096];
        memset(block, 'x', sizeof(block));
        snprintf(path, sizeof(path), "%s/fill", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        for (int i = 0; i < 1024 && write(fd, block, sizeof(block)) > 0; i++)
                ;
        while (write(fd, "x", 1) == 1)
                ;
        ck_assert_int_eq(errno, ENOSPC);
        close(fd);
}

/* Waits (as wait_for()) for COUNT x NEEDLE and then N more runs of p,
 * keeping the state directory full meanwhile when FULL. */
static void wait_while_full(struct tickd *t, const char *state, bool full, const char *needle, int count, int n)
{
        int runs = tickd_count(t, "event=succeeded job=p ") + n;
        long long deadline = harness_now_ms() + 15000;
        while ((tickd_count(t, needle) < count || tickd_count(t, "event=succeeded job=p ") < runs) &&
               harness_now_ms() < deadline) {
                if (full)
                        fill(state);
                tickd_pump(t, 100);
        }
        assert_with_log(t, tickd_count(t, needle) >= count, "no %d x '%s'", count, needle);
        assert_with_log(t, tickd_count(t, "event=succeeded job=p ") >= runs, "p did not run %d more times", n);
}

/* The content of DIR/NAME ("" if none). */
static char *slurp(const char *dir, const char *name)
{
        char path[600], *text = calloc(1, 65536);
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                ssize_t n = read(fd, text, 65535);
                (void)n;
                close(fd);
        }
        return text;
}

/* Waits until the persistent job p has run N more times. */
static void runs_of_p(struct tickd *t, int n)
{
        wait_for(t, "event=succeeded job=p ", tickd_count(t, "event=succeeded job=p ") + n, 10000);
}

struct state_files {
        char *stamp, *outcomes;
};

static struct state_files state_files_read(const char *state)
{
        return (struct state_files){ slurp(state, "p.stamp"), slurp(state, "last-outcomes") };
}

static void state_files_free(struct state_files *f)
{
        free(f->stamp);
        free(f->outcomes);
}

/* Once the fault is lifted, p's stamp and the last outcomes are written
 * again: both files change from what they were while it lasted. */
static void assert_state_written_again(struct tickd *t, const char *state, const struct state_files *during)
{
        bool written = false;
        for (int tries = 0; tries < 50 && !written; tries++) {
                tickd_pump(t, 100);
                struct state_files now = state_files_read(state);
                written = strcmp(now.stamp, during->stamp) != 0 && strcmp(now.outcomes, during->outcomes) != 0;
                state_files_free(&now);
        }
        assert_with_log(t, written, "no stamp or last outcome written after the fault");
}

START_TEST(a_full_or_read_only_state_directory_costs_no_run)
{
        /* Our own mount namespace: the tmpfs is seen by tickd (our child)
         * and by nothing else, and goes away with this test's process. */
        ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        struct tickd *t = tickd_start(NULL, NULL);
        stop(t);
        char state[512];
        snprintf(state, sizeof(state), "%s/state", t->dir);
        ck_assert_int_eq(mount("tmpfs", state, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755"), 0);
        tickd_restart(t);
        write_job(t, "ok.ini", ok_job);
        int base = baseline(t);
        write_job(t, "p.ini", "[p]\nschedule = * * * * * *\ncommand = true\npersistent = yes\n");
        runs_of_p(t, 1);

        /* Stamps, run records and last outcomes: each logged once. */
        wait_while_full(t, state, true, "errno=ENOSPC", 3, 6);
        assert_with_log(t, tickd_count(t, "errno=ENOSPC") == 3, "ENOSPC logged per run");
        char path[600];
        snprintf(path, sizeof(path), "%s/fill", state);
        struct state_files during = state_files_read(state);
        ck_assert_int_eq(unlink(path), 0);
        assert_state_written_again(t, state, &during);
        state_files_free(&during);

        ck_assert_int_eq(mount(NULL, state, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL), 0);
        wait_while_full(t, state, false, "errno=EROFS", 3, 6);
        assert_with_log(t, tickd_count(t, "errno=EROFS") == 3, "EROFS logged per run");
        during = state_files_read(state);
        ck_assert_int_eq(mount(NULL, state, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV, NULL), 0);
        assert_state_written_again(t, state, &during);
        state_files_free(&during);

        int before = tickd_count(t, "event=reloaded");
        tickd_remove_job(t, "p.ini");
        wait_for(t, "event=reloaded", before + 1, 10000);
        assert_healthy(t, base);
        stop(t);
        assert_every_run_accounted_for(t->log);
        /* Nothing left that a next instance would record again. */
        tickd_restart(t);
        ck_assert_int_eq(tickd_count(t, "event=lost"), 0);
        stop(t);
        ck_assert_int_eq(umount2(state, MNT_DETACH), 0);
        tickd_free(t);
}
END_TEST

/* ---- 4. journald goes away ---- */

/* Appends "event=E run=ID \n" for each of tickd's records in JD's journal
 * to *LOG, so the journal's records can be counted with the stderr ones. */
static void journal_records(const struct journald *jd, char **log)
{
        ck_assert_int_eq(journald_sync(jd), 0);
        sd_journal *j = NULL;
        ck_assert_int_eq(sd_journal_open_directory(&j, jd->journal_dir, 0), 0);
        size_t len = *log ? strlen(*log) : 0;
        while (sd_journal_next(j) > 0) {
                const void *ev, *id;
                size_t ev_len, id_len;
                if (sd_journal_get_data(j, "TICKD_EVENT", &ev, &ev_len) < 0 ||
                    sd_journal_get_data(j, "TICKD_RUN_ID", &id, &id_len) < 0)
                        continue;
                char line[128];
                int n = snprintf(line, sizeof(line), "event=%.*s run=%.*s \n", (int)ev_len - 12, (const char *)ev + 12,
                                 (int)id_len - 13, (const char *)id + 13);
                *log = realloc(*log, len + (size_t)n + 1);
                memcpy(*log + len, line, (size_t)n + 1);
                len += (size_t)n;
        }
        sd_journal_close(j);
}

START_TEST(records_fall_back_to_stderr_when_journald_goes_away)
{
        struct journald jd;
        ck_assert_int_eq(journald_start(&jd), 0);
        char pid[16];
        snprintf(pid, sizeof(pid), "%d", (int)jd.pid);
        struct tickd *t =
                tickd_start_args(NULL, (const char *const[]){ "/usr/bin/nsenter", "-t", pid, "-m", "--", NULL },
                                 (const char *const[]){ "--log-target", "journal", NULL });
        char gate[600];
        snprintf(gate, sizeof(gate), "%s/gate", t->dir);
        _cleanup_free_ char *gated = NULL;
        ck_assert_int_ge(asprintf(&gated,
                                  "[ok]\nschedule = @daily\ncommand = echo out-$TICKD_RUN_ID\n\n"
                                  "[gated]\nschedule = @daily\n"
                                  "command = while [ ! -e %s ]; do sleep 0.05; done; echo after-$TICKD_RUN_ID\n",
                                  gate),
                         0);
        tickd_write_job(t, "jobs.ini", gated);
        /* Its records go to the journal: it is up once its socket is, and
         * has loaded the jobs once it can run them. */
        char socket_path[600];
        snprintf(socket_path, sizeof(socket_path), "%s/runtime/tickd/control", t->dir);
        for (int tries = 0; tries < 200 && access(socket_path, F_OK) < 0; tries++)
                tickd_pump(t, 50);
        assert_with_log(t, access(socket_path, F_OK) == 0, "tickd did not start");
        struct ctl_result r = ctl(t, (const char *const[]){ "run", "--wait", "ok", NULL });
        ck_assert_msg(r.status == 0, "run --wait ok: %d: %s", r.status, r.err);
        ctl_result_free(&r);
        int base = quiet_fds(t);
        char running[33];
        ctl_run(t, "gated", running);
        /* Its started record is in the journal before journald goes. */
        _cleanup_free_ char *journal = NULL;
        for (int tries = 0; tries < 100; tries++) {
                free(journal);
                journal = NULL;
                journal_records(&jd, &journal);
                if (journal && strstr(journal, "event=started run=") &&
                    strstr(strstr(journal, "event=started"), running))
                        break;
                usleep(50 * 1000);
        }
        ck_assert_msg(journal && strstr(journal, running), "gated did not start:\n%s", journal ? journal : "");
        ck_assert_int_eq(journald_stop(&jd), 0);

        /* The run in progress ends on stderr, its output too. */
        int fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
        char want[128];
        snprintf(want, sizeof(want), "event=succeeded job=gated run=%s ", running);
        wait_for(t, want, 1, 10000);
        snprintf(want, sizeof(want), "gated: after-%s", running);
        wait_for(t, want, 1, 5000);
        /* And so do later runs, also once the socket itself is gone. */
        run_and_expect(t, "ok", "succeeded");
        snprintf(socket_path, sizeof(socket_path), "/proc/%d/root/run/systemd/journal/socket", (int)t->pid);
        ck_assert_int_eq(unlink(socket_path), 0);
        assert_healthy(t, base);

        stop(t);
        size_t len = strlen(journal) + strlen(t->log) + 1;
        _cleanup_free_ char *all = malloc(len);
        snprintf(all, len, "%s%s", journal, t->log);
        /* ok by hand (journal), gated (started in the journal, ended on
         * stderr), ok after journald stopped and after its socket went. */
        ck_assert_uint_eq(assert_every_run_accounted_for(all), 4);
        tickd_free(t);
}
END_TEST

static void add_case(Suite *s, const char *name, const TTest *test)
{
        TCase *tc = tcase_create(name);
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test);
        suite_add_tcase(s, tc);
}

static Suite *faults_suite(void)
{
        Suite *s = suite_create("faults");
        add_case(s, "descriptors", out_of_descriptors_delays_runs_pauses_accept_and_keeps_the_crontab);
        add_case(s, "fork", runners_that_cannot_be_forked_are_recorded_failed);
        add_case(s, "nproc", runners_refused_by_rlimit_nproc_are_recorded_failed);
        add_case(s, "state", a_full_or_read_only_state_directory_costs_no_run);
        add_case(s, "journald", records_fall_back_to_stderr_when_journald_goes_away);
        return s;
}

TEST_MAIN(faults_suite)
