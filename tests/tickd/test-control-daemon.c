/* test-control-daemon.c — tickctl against the real tickd: each command's
 * output and exit status, run --wait, cancel, edit driven by scripted
 * editors, authorisation of an unprivileged user, and no descriptor growth
 * in the daemon over 1,000 `tickctl list` calls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-ctl.h"
#include "harness/harness-daemon.h"
#include "harness/harness.h"

static char test_user[32];
static uid_t test_uid;
static gid_t test_gid;

/* tickctl ARGS with the instance's --config-dir, --state-dir and --runtime-dir, through
 * PREFIX (setpriv, or a shell feeding answers) when given. */
static struct ctl_result run_ctl(const struct tickd *t, const char *const *prefix, const char *const *args)
{
        char runtime[512], state[512];
        snprintf(runtime, sizeof(runtime), "%s/runtime", t->dir);
        snprintf(state, sizeof(state), "%s/state", t->dir);
        return harness_ctl(
                &(struct ctl_target){ .runtime_base = runtime, .config_dir = t->config_dir, .state_dir = state },
                prefix, args);
}

#define CTL(t, ...)         run_ctl((t), NULL, (const char *const[]){ __VA_ARGS__, NULL })
#define CTL_AS_USER(t, ...) run_ctl((t), harness_ctl_as(test_uid, test_gid), (const char *const[]){ __VA_ARGS__, NULL })

/* tickctl edit with EDITOR=SCRIPT and ANSWERS on its stdin. */
static struct ctl_result ctl_edit(const struct tickd *t, const char *script, const char *answers, const char *file)
{
        setenv("EDITOR", script, 1);
        unsetenv("VISUAL");
        setenv("TICKCTL_TEST_ANSWERS", answers, 1);
        setenv("TMPDIR", t->dir, 1); /* a copy kept for the person goes away with the tree */
        const char *prefix[] = { "/bin/sh", "-c", "printf '%s' \"$TICKCTL_TEST_ANSWERS\" | exec \"$@\"", "sh", NULL };
        return run_ctl(t, prefix, (const char *const[]){ "edit", file, NULL });
}

static const char jobs_ini[] = "[hello]\nschedule = @daily\ncommand = echo hi\n\n"
                               "[seven]\nschedule = @daily\ncommand = exit 7\n\n"
                               "[long]\nschedule = @daily\ncommand = sleep 60\nkill_grace = 2s\n";

static struct tickd *start(void)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "jobs.ini", jobs_ini);
        /* the start-up reload, then the one for jobs.ini */
        ck_assert(tickd_wait_for(t, "event=reloaded", 2, 5000));
        return t;
}

static void stop(struct tickd *t)
{
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 15000)), 0);
        tickd_free(t);
        /* A cancelled job's processes die together; the ones whose shell
         * died first are orphans this subreaper adopts: reap them. */
        ck_assert_int_eq(harness_reap_children(2000), 0);
}

static char *script(const struct tickd *t, const char *name, const char *body)
{
        char *path;
        ck_assert_int_ge(asprintf(&path, "%s/%s", t->dir, name), 0);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "#!/bin/sh\n%s", body);
        fclose(f);
        ck_assert_int_eq(chmod(path, 0755), 0);
        return path;
}

/* ---- commands ---- */

START_TEST(list_and_status_show_the_daemons_jobs_and_files)
{
        struct tickd *t = start();
        tickd_write_job(t, "broken.ini", "[broken]\nschedule = 61 * * * *\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "event=reloaded", 3, 5000));
        struct ctl_result r = CTL(t, "list");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "hello");
        ck_assert_contains(r.out, "@daily");
        ck_assert_contains(r.out, "3 jobs listed.");
        ctl_result_free(&r);
        r = CTL(t, "list", "--all");
        ck_assert_contains(r.out, "/broken.ini:2: schedule");
        ctl_result_free(&r);
        r = CTL(t, "status");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "loaded    ");
        ck_assert_contains(r.out, "jobs.ini (3 jobs)");
        ck_assert_contains(r.out, "rejected  ");
        ck_assert_contains(r.out, "61 is out of range");
        ck_assert_contains(r.out, "Open batches:\n  none");
        ctl_result_free(&r);
        stop(t);
}
END_TEST

START_TEST(list_works_from_the_files_when_tickd_is_down)
{
        struct tickd *t = start();
        struct ctl_result r = CTL(t, "run", "seven", "--wait");
        ck_assert_int_eq(r.status, 7);
        ctl_result_free(&r);
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 15000)), 0);
        r = CTL(t, "list");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.err, "tickd is not running (no socket at ");
        ck_assert_contains(r.out, "seven");
        /* the last outcome tickd kept in its state directory */
        ck_assert_contains(r.out, "failed (7)");
        ctl_result_free(&r);
        r = CTL(t, "list", "--json");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "\"last_result\": \"failed\"");
        ctl_result_free(&r);
        r = CTL(t, "status");
        ck_assert_int_eq(r.status, 3);
        ck_assert_contains(r.err, "tickd is not running");
        ctl_result_free(&r);
        tickd_free(t);
}
END_TEST

START_TEST(run_wait_exits_with_the_jobs_exit_status)
{
        struct tickd *t = start();
        struct ctl_result r = CTL(t, "run", "seven", "--wait");
        ck_assert_msg(r.status == 7, "status %d\n%s\n%s\nLOG:\n%s", r.status, r.out, r.err, t->log);
        ck_assert_contains(r.out, "failed (exit status 7)");
        ctl_result_free(&r);
        r = CTL(t, "run", "--wait", "hello");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "succeeded (exit status 0)");
        ctl_result_free(&r);
        ck_assert(tickd_wait_for(t, "event=succeeded job=hello", 1, 5000));
        r = CTL(t, "status", "seven");
        ck_assert_contains(r.out, "Last run: ");
        ck_assert_contains(r.out, "failed, exit status 7");
        ctl_result_free(&r);
        r = CTL(t, "run", "nosuch");
        ck_assert_int_eq(r.status, 2);
        ck_assert_contains(r.err, "no such job 'nosuch'");
        ctl_result_free(&r);
        stop(t);
}
END_TEST

/* Every outcome has one word, the journal event's that recorded it
 * (TICKD_EVENT, event=), in list, status and run --wait, text and JSON. */
static const char outcomes_ini[] = "[ok]\nschedule = @daily\ncommand = true\n\n"
                                   "[three]\nschedule = @daily\ncommand = exit 3\n\n"
                                   "[slow]\nschedule = @daily\ncommand = sleep 30\ntimeout = 1s\nkill_grace = 1s\n\n"
                                   "[nodir]\nschedule = @daily\ncommand = true\n"
                                   "working_directory = /nonexistent/tickd-test\n";

static struct tickd *start_with(const char *conf, const char *ini);

/* `run JOB --wait` (text, then JSON on a second run) exits STATUS; both
 * name WORD, and so does the record the daemon wrote. */
static void assert_run_wait_says(struct tickd *t, const char *job, int status, const char *word)
{
        struct ctl_result r = CTL(t, "run", job, "--wait");
        ck_assert_msg(r.status == status, "%s: status %d\n%s%s", job, r.status, r.out, r.err);
        char want[96];
        snprintf(want, sizeof(want), ": %s ", word);
        ck_assert_contains(r.out, want);
        ctl_result_free(&r);
        r = CTL(t, "run", job, "--wait", "--json");
        snprintf(want, sizeof(want), "\"result\": \"%s\"", word);
        ck_assert_contains(r.out, want);
        ctl_result_free(&r);
        snprintf(want, sizeof(want), "event=%s job=%s ", word, job);
        ck_assert_msg(tickd_wait_for(t, want, 2, 5000), "no %s in:\n%s", want, t->log);
}

/* `status JOB` (text and JSON) and JOB's `list` line and object say WORD. */
static void assert_last_outcome_says(struct tickd *t, const char *job, const char *word)
{
        char want[96];
        struct ctl_result r = CTL(t, "status", job);
        snprintf(want, sizeof(want), "): %s", word);
        ck_assert_contains(r.out, want);
        ctl_result_free(&r);
        snprintf(want, sizeof(want), "\"last_result\": \"%s\"", word);
        r = CTL(t, "status", job, "--json");
        ck_assert_contains(r.out, want);
        ctl_result_free(&r);
        r = CTL(t, "list", "--json");
        snprintf(want, sizeof(want), "\"name\": \"%s\"", job);
        const char *obj = strstr(r.out, want);
        ck_assert_msg(obj != NULL, "no %s in:\n%s", job, r.out);
        char *one = strndup(obj, strcspn(obj, "}"));
        snprintf(want, sizeof(want), "\"last_result\": \"%s\"", word);
        ck_assert_contains(one, want);
        free(one);
        ctl_result_free(&r);
        r = CTL(t, "list");
        snprintf(want, sizeof(want), " %s ", job);
        const char *line = strstr(r.out, want);
        ck_assert_msg(line != NULL, "no %s in:\n%s", job, r.out);
        char *row = strndup(line, strcspn(line, "\n"));
        snprintf(want, sizeof(want), "  %s", word);
        ck_assert_contains(row, want);
        free(row);
        ctl_result_free(&r);
}

START_TEST(every_output_names_an_outcome_as_the_journal_does)
{
        struct tickd *t = start_with(NULL, outcomes_ini);
        assert_run_wait_says(t, "ok", 0, "succeeded");
        assert_run_wait_says(t, "three", 3, "failed");
        assert_run_wait_says(t, "slow", 128 + SIGTERM, "timed-out");
        /* A run that could not be set up is a failure in the journal, so
         * everywhere: it has neither an exit status nor a signal. */
        assert_run_wait_says(t, "nodir", 1, "failed");
        struct ctl_result r = CTL(t, "run", "nodir", "--wait");
        ck_assert_contains(r.out, "nodir run ");
        ck_assert_contains(r.out, ": failed after ");
        ctl_result_free(&r);
        assert_last_outcome_says(t, "ok", "succeeded");
        assert_last_outcome_says(t, "three", "failed");
        assert_last_outcome_says(t, "slow", "timed-out");
        assert_last_outcome_says(t, "nodir", "failed");
        stop(t);
}
END_TEST

/* ---- run --wait on a run that has to wait ---- */

/* q and sk run until the test opens their gate (a file): how long they run
 * is up to the test, never up to how fast a loaded machine starts tickctl. */
static const char queue_ini[] =
        "[q]\nschedule = @daily\ncommand = until [ -e @DIR@/gate ]; do sleep 0.05; done; exit 5\n"
        "overlap = queue\n\n"
        "[sk]\nschedule = @daily\ncommand = until [ -e @DIR@/gate ]; do sleep 0.05; done\n\n"
        "[m]\nschedule = @daily\ncommand = exit 4\n";

/* Starts tickd with CONF and INI, in which each @DIR@ is the test's directory. */
static struct tickd *start_with(const char *conf, const char *ini)
{
        struct tickd *t = tickd_start(conf, NULL);
        char text[4096];
        size_t n = 0;
        for (const char *p = ini; *p && n < sizeof(text) - 1;) {
                if (strncmp(p, "@DIR@", 5) == 0) {
                        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s", t->dir);
                        p += 5;
                } else {
                        text[n++] = *p++;
                }
        }
        ck_assert_uint_lt(n, sizeof(text) - 1);
        text[n] = '\0';
        tickd_write_job(t, "jobs.ini", text);
        ck_assert(tickd_wait_for(t, "event=reloaded", 2, 5000));
        return t;
}

/* Lets q and sk finish. */
static void open_gate(const struct tickd *t)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/gate", t->dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
}

/* tickctl ARGS in the background. */
static void spawn_ctl(const struct tickd *t, struct ctl_job *job, const char *const *args)
{
        char runtime[512];
        snprintf(runtime, sizeof(runtime), "%s/runtime", t->dir);
        harness_ctl_spawn(&(struct ctl_target){ .runtime_base = runtime, .config_dir = t->config_dir }, t->dir, job,
                          args);
}
#define SPAWN_CTL(t, job, ...) spawn_ctl((t), (job), (const char *const[]){ __VA_ARGS__, NULL })

/* The run id tickctl printed in "JOB run ID: result". */
static void printed_run_id(const char *out, const char *job, char id[33])
{
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "%s run ", job);
        const char *p = strstr(out, prefix);
        ck_assert_msg(p != NULL, "no run id in:\n%s", out);
        ck_assert_int_eq(sscanf(p + strlen(prefix), "%32[0-9a-f]", id), 1);
}

/* Starts q, then `run q --wait` in WAITER, queued behind it. */
static void wait_for_a_queued_run(struct tickd *t, struct ctl_job *waiter)
{
        struct ctl_result r = CTL(t, "run", "q");
        ck_assert_int_eq(r.status, 0);
        ctl_result_free(&r);
        SPAWN_CTL(t, waiter, "run", "q", "--wait");
        ck_assert(tickd_wait_for(t, "control: uid 0 queued a run of q", 1, 5000));
}

START_TEST(run_wait_on_a_queued_run_waits_for_that_runs_outcome)
{
        struct tickd *t = start_with(NULL, queue_ini);
        struct ctl_job waiter;
        wait_for_a_queued_run(t, &waiter);
        struct ctl_result r;
        /* Still waiting while the first run runs (until the gate opens). */
        ck_assert(tickd_count(t, "event=failed job=q") == 0);
        ck_assert(harness_ctl_running(&waiter));
        open_gate(t);
        r = harness_ctl_finish(&waiter, 10000);
        ck_assert_msg(r.status == 5, "status %d\n%s\n%s", r.status, r.out, r.err);
        ck_assert_contains(r.err, "is queued: it starts when the job's running run finishes");
        ck_assert_contains(r.out, "failed (exit status 5)");
        /* The outcome is the queued run's, the second one. */
        tickd_pump(t, 0);
        ck_assert_int_eq(tickd_count(t, "event=failed job=q"), 2);
        char id[33], line[128];
        printed_run_id(r.out, "q", id);
        snprintf(line, sizeof(line), "event=started job=q run=%s", id);
        const char *first = strstr(t->log, "event=started job=q run=");
        ck_assert_ptr_nonnull(first);
        ck_assert_msg(strstr(t->log, line) > first, "run %s is not the second run of q:\n%s", id, t->log);
        ctl_result_free(&r);
        stop(t);
}
END_TEST

START_TEST(run_wait_on_a_run_waiting_for_a_slot_waits_for_its_outcome)
{
        struct tickd *t = start_with("[daemon]\nmax_concurrent = 1\n", queue_ini);
        struct ctl_result r = CTL(t, "run", "sk");
        ck_assert_int_eq(r.status, 0);
        ctl_result_free(&r);
        struct ctl_job waiter;
        SPAWN_CTL(t, &waiter, "run", "m", "--wait");
        ck_assert(tickd_wait_for(t, "control: uid 0 queued a run of m (waiting for a max_concurrent slot)", 1, 5000));
        ck_assert(harness_ctl_running(&waiter));
        open_gate(t);
        r = harness_ctl_finish(&waiter, 10000);
        ck_assert_msg(r.status == 4, "status %d\n%s\n%s", r.status, r.out, r.err);
        ck_assert_contains(r.err, "is waiting: it starts when a max_concurrent slot is free");
        ck_assert_contains(r.out, "failed (exit status 4)");
        /* It ran after sk, in the slot sk freed. */
        tickd_pump(t, 0);
        const char *sk_done = strstr(t->log, "event=succeeded job=sk");
        const char *m_started = strstr(t->log, "event=started job=m");
        ck_assert(sk_done && m_started && m_started > sk_done);
        ctl_result_free(&r);
        stop(t);
}
END_TEST

/* WAITER (run --wait) exits 75 and says why its run never started. */
static void assert_dropped(struct ctl_job *waiter, const char *reason)
{
        struct ctl_result r = harness_ctl_finish(waiter, 10000);
        ck_assert_msg(r.status == 75, "status %d\n%s\n%s", r.status, r.out, r.err);
        char want[256];
        snprintf(want, sizeof(want), "was dropped before it started: %s", reason);
        ck_assert_contains(r.err, want);
        ctl_result_free(&r);
}

START_TEST(run_wait_on_a_queued_run_removed_by_a_reload_says_it_was_dropped)
{
        struct tickd *t = start_with(NULL, queue_ini);
        struct ctl_job waiter;
        wait_for_a_queued_run(t, &waiter);
        tickd_write_job(t, "jobs.ini", "[m]\nschedule = @daily\ncommand = exit 4\n");
        assert_dropped(&waiter, "the job was removed by a reload");
        stop(t);
}
END_TEST

START_TEST(run_wait_on_a_queued_run_when_tickd_stops_says_it_was_dropped)
{
        struct tickd *t = start_with(NULL, queue_ini);
        struct ctl_job waiter;
        wait_for_a_queued_run(t, &waiter);
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 15000)), 0);
        assert_dropped(&waiter, "tickd is stopping");
        tickd_free(t);
        ck_assert_int_eq(harness_reap_children(2000), 0);
}
END_TEST

START_TEST(run_wait_refused_by_overlap_skip_exits_75)
{
        struct tickd *t = start_with(NULL, queue_ini);
        struct ctl_result r = CTL(t, "run", "sk");
        ctl_result_free(&r);
        r = CTL(t, "run", "sk", "--wait");
        ck_assert_int_eq(r.status, 75);
        ck_assert_contains(r.err, "job 'sk' is already running and its overlap policy is skip");
        ctl_result_free(&r);
        r = CTL(t, "run", "sk"); /* without --wait: a finding */
        ck_assert_int_eq(r.status, 1);
        ctl_result_free(&r);
        stop(t);
}
END_TEST

/* The run id in "JOB run ID is ..." of run --wait's stderr. */
static void waiting_run_id(const char *err, const char *job, char id[33])
{
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "%s run ", job);
        const char *p = strstr(err, prefix);
        ck_assert_msg(p != NULL, "no run id in:\n%s", err);
        ck_assert_int_eq(sscanf(p + strlen(prefix), "%32[0-9a-f]", id), 1);
}

START_TEST(cancel_drops_the_queued_run_too)
{
        struct tickd *t = start_with(NULL, queue_ini);
        struct ctl_job waiter;
        wait_for_a_queued_run(t, &waiter);
        ck_assert(tickd_wait_for(t, "event=started job=q", 1, 5000));
        struct ctl_result r = CTL(t, "cancel", "q");
        ck_assert_msg(r.status == 0, "status %d\n%s\n%s", r.status, r.out, r.err);
        ck_assert_contains(r.out, "Cancelled 2 runs of q.");
        ctl_result_free(&r);
        r = harness_ctl_finish(&waiter, 10000);
        ck_assert_msg(r.status == 75, "status %d\n%s\n%s", r.status, r.out, r.err);
        ck_assert_contains(r.err, "was dropped before it started: cancelled by tickctl cancel");
        char id[33], line[128];
        waiting_run_id(r.err, "q", id);
        ctl_result_free(&r);
        /* The running run ends cancelled, the queued one with its one
         * final record, and nothing of q starts after them. */
        ck_assert(tickd_wait_for(t, "event=cancelled job=q", 1, 5000));
        snprintf(line, sizeof(line), "event=dropped job=q run=%s", id);
        ck_assert(tickd_wait_for(t, line, 1, 5000));
        tickd_pump(t, 1500);
        ck_assert_int_eq(tickd_count(t, "event=dropped job=q"), 1);
        ck_assert_int_eq(tickd_count(t, "event=started job=q"), 1);
        r = CTL(t, "cancel", "q");
        ck_assert_int_eq(r.status, 1);
        ctl_result_free(&r);
        stop(t);
}
END_TEST

START_TEST(cancel_drops_a_run_waiting_for_a_slot)
{
        struct tickd *t = start_with("[daemon]\nmax_concurrent = 1\n", queue_ini);
        struct ctl_result r = CTL(t, "run", "sk");
        ctl_result_free(&r);
        r = CTL(t, "run", "m");
        ck_assert_contains(r.out, "it starts when a max_concurrent slot is free");
        ctl_result_free(&r);
        r = CTL(t, "cancel", "m");
        ck_assert_msg(r.status == 0, "status %d\n%s\n%s", r.status, r.out, r.err);
        ck_assert_contains(r.out, "Cancelled 1 run of m.");
        ctl_result_free(&r);
        ck_assert(tickd_wait_for(t, "event=dropped job=m", 1, 5000));
        open_gate(t);
        ck_assert(tickd_wait_for(t, "event=succeeded job=sk", 1, 10000));
        tickd_pump(t, 1000);
        ck_assert_int_eq(tickd_count(t, "event=started job=m"), 0);
        stop(t);
}
END_TEST

/* The line of `tickctl list` that names JOB. */
static char *list_line(const char *out, const char *job)
{
        char needle[64];
        snprintf(needle, sizeof(needle), " %s ", job);
        const char *p = strstr(out, needle);
        ck_assert_msg(p != NULL, "no %s in:\n%s", job, out);
        const char *start = p;
        while (start > out && start[-1] != '\n')
                start--;
        return strndup(start, strcspn(start, "\n"));
}

START_TEST(last_outcomes_survive_a_restart)
{
        struct tickd *t = start();
        struct ctl_result r = CTL(t, "run", "seven", "--wait");
        ck_assert_int_eq(r.status, 7);
        ctl_result_free(&r);
        tickd_restart(t);
        ck_assert(tickd_wait_for(t, "event=daemon-started", 2, 10000));
        r = CTL(t, "list");
        ck_assert_int_eq(r.status, 0);
        char *seven = list_line(r.out, "seven"), *hello = list_line(r.out, "hello");
        ck_assert_contains(seven, "failed (7)");
        ck_assert_not_contains(hello, "failed"); /* never run */
        free(seven);
        free(hello);
        ctl_result_free(&r);
        r = CTL(t, "status", "seven");
        ck_assert_contains(r.out, "Last run: ");
        ck_assert_contains(r.out, "failed, exit status 7");
        ctl_result_free(&r);
        r = CTL(t, "list", "--json");
        const char *obj = strstr(r.out, "\"name\": \"seven\"");
        ck_assert_ptr_nonnull(obj);
        char *seven_json = strndup(obj, strcspn(obj, "}"));
        ck_assert_contains(seven_json, "\"last_result\": \"failed\", \"last_exit_status\": 7");
        ck_assert_not_contains(seven_json, "\"last_usec\": 0,"); /* LAST is the run's start */
        free(seven_json);
        ctl_result_free(&r);
        stop(t);
}
END_TEST

START_TEST(cancel_stops_a_long_job_and_its_outcome_says_so)
{
        struct tickd *t = start();
        struct ctl_result r = CTL(t, "run", "long");
        ck_assert_int_eq(r.status, 0);
        ctl_result_free(&r);
        ck_assert(tickd_wait_for(t, "event=started job=long", 1, 5000));
        r = CTL(t, "list");
        ck_assert_contains(r.out, "yes"); /* RUNNING */
        ctl_result_free(&r);
        long long t0 = harness_now_ms();
        r = CTL(t, "cancel", "long");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "Cancelled 1 run of long.");
        ctl_result_free(&r);
        ck_assert(tickd_wait_for(t, "event=cancelled job=long", 1, 5000));
        ck_assert_int_lt(harness_now_ms() - t0, 5000);
        r = CTL(t, "status", "long");
        ck_assert_contains(r.out, "Last run: ");
        ck_assert_contains(r.out, "cancelled");
        ctl_result_free(&r);
        r = CTL(t, "cancel", "long");
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.err, "job 'long' is not running");
        ctl_result_free(&r);
        stop(t);
}
END_TEST

START_TEST(reload_reports_per_file_and_fails_on_a_rejected_one)
{
        struct tickd *t = start();
        struct ctl_result r = CTL(t, "reload");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "loaded    ");
        ctl_result_free(&r);
        tickd_write_job(t, "zz.ini", "[zz]\nschedule = @daily\ncommand = true\nbogus = 1\n");
        r = CTL(t, "reload");
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.out, "rejected  ");
        ck_assert_contains(r.out, "zz.ini:4: ");
        ctl_result_free(&r);
        stop(t);
}
END_TEST

START_TEST(a_thousand_lists_leave_the_daemons_descriptors_unchanged)
{
        struct tickd *t = start();
        struct ctl_result r = CTL(t, "list"); /* sd-event's timer descriptors exist from the first peer on */
        ctl_result_free(&r);
        int fds_before, children, zombies;
        harness_proc_counts(t->pid, &fds_before, &children, &zombies);
        /* The unsanitized tickctl when it is built (make check builds both):
         * the sanitized one's start-up would make this loop take minutes.
         * The daemon is still the sanitized one. */
        char plain[PATH_MAX];
        snprintf(plain, sizeof(plain), "%s", harness_source_path("build/tickctl"));
        if (access(plain, X_OK) < 0)
                snprintf(plain, sizeof(plain), "%s", harness_binary("tickctl"));
        char runtime[512];
        snprintf(runtime, sizeof(runtime), "%s/runtime", t->dir);
        char *argv[] = { plain, "list", "--json", "--runtime-dir", runtime, NULL };
        /* posix_spawn (vfork): forking this sanitized process 1,000 times
         * would cost more than the calls themselves. */
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        for (int i = 0; i < 1000; i++) {
                pid_t pid;
                ck_assert_int_eq(posix_spawn(&pid, plain, &actions, NULL, argv, environ), 0);
                int ws;
                ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
                ck_assert_msg(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "call %d failed", i);
        }
        posix_spawn_file_actions_destroy(&actions);
        r = CTL(t, "list", "--json");
        ck_assert_contains(r.out, "\"name\": \"hello\"");
        ctl_result_free(&r);
        int fds_after = 0;
        for (int i = 0; i < 100; i++) {
                harness_proc_counts(t->pid, &fds_after, &children, &zombies);
                if (fds_after == fds_before)
                        break;
                usleep(10 * 1000);
        }
        ck_assert_int_eq(fds_after, fds_before);
        stop(t);
}
END_TEST

/* ---- edit ---- */

START_TEST(edit_installs_a_valid_file_and_the_daemon_takes_it)
{
        struct tickd *t = start();
        char *editor = script(t, "editor.sh", "cat > \"$1\" <<'X'\n[edited]\nschedule = @hourly\ncommand = true\nX\n");
        struct ctl_result r = ctl_edit(t, editor, "", "edited");
        ck_assert_msg(r.status == 0, "status %d\n%s\n%s", r.status, r.out, r.err);
        ck_assert_contains(r.out, "Installed ");
        ck_assert_contains(r.out, "edited.ini (1 job)");
        ck_assert_contains(r.out, "Next runs:");
        ck_assert_contains(r.out, "edited ");
        ctl_result_free(&r);
        char path[600];
        snprintf(path, sizeof(path), "%s/edited.ini", t->jobs_dir);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0644);
        ck_assert_int_eq(st.st_uid, 0);
        r = CTL(t, "list");
        ck_assert_contains(r.out, "edited");
        ctl_result_free(&r);
        free(editor);
        stop(t);
}
END_TEST

START_TEST(edit_shows_errors_and_edits_again_until_valid)
{
        struct tickd *t = start();
        char counter[600];
        snprintf(counter, sizeof(counter), "%s/count", t->dir);
        char body[2048];
        snprintf(body, sizeof(body),
                 "n=$(cat %s 2>/dev/null || echo 0); echo $((n+1)) > %s\n"
                 "if [ \"$n\" = 0 ]; then printf '[again]\\nschedule = 61 * * * *\\ncommand = true\\n' > \"$1\";\n"
                 "else printf '[again]\\nschedule = 1 * * * *\\ncommand = true\\n' > \"$1\"; fi\n",
                 counter, counter);
        char *editor = script(t, "editor.sh", body);
        struct ctl_result r = ctl_edit(t, editor, "e\n", "again.ini");
        ck_assert_msg(r.status == 0, "status %d\n%s\n%s", r.status, r.out, r.err);
        char where[700];
        snprintf(where, sizeof(where), "%s/again.ini:2: error: ", t->jobs_dir);
        ck_assert_contains(r.err, where); /* the target's name, not the temporary copy's */
        ck_assert_contains(r.out, "What now? (e)dit again, (a)bandon:");
        ck_assert_contains(r.out, "Installed ");
        ctl_result_free(&r);
        ck_assert(tickd_wait_for(t, "event=reloaded", 3, 5000));
        r = CTL(t, "status", "again");
        ck_assert_int_eq(r.status, 0);
        ck_assert_contains(r.out, "schedule: 1 * * * *");
        ctl_result_free(&r);
        free(editor);
        stop(t);
}
END_TEST

START_TEST(edit_abandoned_leaves_nothing_behind)
{
        struct tickd *t = start();
        char *editor = script(t, "editor.sh", "printf '[x]\\nschedule = nope\\ncommand = true\\n' > \"$1\"\n");
        struct ctl_result r = ctl_edit(t, editor, "a\n", "x");
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.out, "Abandoned");
        ctl_result_free(&r);
        char path[600];
        snprintf(path, sizeof(path), "%s/x.ini", t->jobs_dir);
        ck_assert_int_eq(access(path, F_OK), -1);
        free(editor);
        stop(t);
}
END_TEST

/* The path after NEEDLE in TEXT, up to the end of its line; malloc'd. */
static char *path_after(const char *text, const char *needle)
{
        const char *p = strstr(text, needle);
        ck_assert_msg(p != NULL, "expected \"%s\" in:\n%s", needle, text);
        p += strlen(needle);
        return strndup(p, strcspn(p, "\n"));
}

START_TEST(edit_abandoned_keeps_the_rejected_text_in_a_file_it_names)
{
        struct tickd *t = start();
        static const char text[] = "[x]\nschedule = nope\ncommand = true\n";
        char *editor = script(t, "editor.sh", "printf '[x]\\nschedule = nope\\ncommand = true\\n' > \"$1\"\n");
        struct ctl_result r = ctl_edit(t, editor, "a\n", "x");
        ck_assert_int_eq(r.status, 1);
        _cleanup_free_ char *kept = path_after(r.out, "Your edited text is in ");
        ck_assert_msg(strncmp(kept, t->dir, strlen(t->dir)) == 0, "%s is not under TMPDIR %s", kept, t->dir);
        struct stat st;
        ck_assert_int_eq(stat(kept, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        char buf[256] = "";
        FILE *f = fopen(kept, "re");
        ck_assert_ptr_nonnull(f);
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        ck_assert_str_eq(buf, text);
        ctl_result_free(&r);
        free(editor);
        stop(t);
}
END_TEST

START_TEST(edit_refuses_to_overwrite_a_file_changed_during_the_edit)
{
        struct tickd *t = start();
        char target[600];
        snprintf(target, sizeof(target), "%s/jobs.ini", t->jobs_dir);
        char body[2048];
        /* Someone else's change lands while our editor runs. */
        snprintf(body, sizeof(body),
                 "printf '[theirs]\\nschedule = @daily\\ncommand = true\\n' > %s.new && mv %s.new %s\n"
                 "printf '[mine]\\nschedule = @daily\\ncommand = true\\n' > \"$1\"\n",
                 target, target, target);
        char *editor = script(t, "editor.sh", body);
        struct ctl_result r = ctl_edit(t, editor, "", "jobs.ini");
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.err, "was changed by someone else while you edited it");
        /* theirs stays; ours is kept aside, not lost */
        FILE *f = fopen(target, "re");
        char content[256] = "";
        ck_assert_ptr_nonnull(f);
        (void)!fread(content, 1, sizeof(content) - 1, f);
        fclose(f);
        ck_assert_contains(content, "[theirs]");
        const char *kept = strstr(r.err, "Your version is in ");
        ck_assert_ptr_nonnull(kept);
        char kept_path[512];
        ck_assert_int_eq(sscanf(kept + strlen("Your version is in "), "%511s", kept_path), 1);
        ck_assert_int_eq(access(kept_path, F_OK), 0);
        unlink(kept_path);
        ctl_result_free(&r);
        free(editor);
        stop(t);
}
END_TEST

/* ---- authorisation ---- */

static void user_setup(void) { harness_user_add("tkcd", test_user, sizeof(test_user), &test_uid, &test_gid); }

static void user_teardown(void) { harness_user_del(test_user); }

START_TEST(an_unprivileged_user_sees_only_their_jobs_and_may_not_run_them)
{
        struct tickd *t = start();
        char jobs[512];
        snprintf(jobs, sizeof(jobs), "[theirs]\nschedule = @daily\ncommand = id -u\nuser = %s\n", test_user);
        tickd_write_job(t, "user.ini", jobs);
        ck_assert(tickd_wait_for(t, "event=reloaded", 3, 5000));
        struct ctl_result r = CTL_AS_USER(t, "list");
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        ck_assert_contains(r.out, "theirs");
        ck_assert_not_contains(r.out, "hello");
        ctl_result_free(&r);
        r = CTL_AS_USER(t, "run", "theirs");
        ck_assert_int_eq(r.status, 4);
        ck_assert_contains(r.err, "permission denied");
        ctl_result_free(&r);
        r = CTL_AS_USER(t, "reload");
        ck_assert_int_eq(r.status, 4);
        ctl_result_free(&r);
        /* Root's job is answered as one that does not exist. */
        r = CTL_AS_USER(t, "status", "hello");
        ck_assert_int_eq(r.status, 2);
        ck_assert_contains(r.err, "no such job 'hello'");
        ctl_result_free(&r);
        ck_assert(tickd_wait_for(t, "permission denied", 3, 2000));
        stop(t);
}
END_TEST

/* ---- running out of descriptors ---- */

static int highest_fd(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        DIR *d = opendir(path);
        ck_assert_ptr_nonnull(d);
        int top = -1;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.' && atoi(e->d_name) > top)
                        top = atoi(e->d_name);
        closedir(d);
        return top;
}

/* User plus system CPU time of PID, in milliseconds. */
static long long cpu_ms(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');
        unsigned long long utime, stime;
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime), 2);
        return (long long)((utime + stime) * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static int connect_control(const struct tickd *t)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/runtime/tickd/control", t->dir);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        return fd;
}

START_TEST(accept_out_of_descriptors_pauses_rather_than_spinning)
{
        struct tickd *t = start();
        /* The first peer makes sd-event create what it keeps for every later one. */
        struct ctl_result r = CTL(t, "list");
        ck_assert_int_eq(r.status, 0);
        ctl_result_free(&r);
        /* No descriptor above the highest one in use: once the gaps below it
         * are filled, accept() fails with EMFILE while peers wait. */
        struct rlimit was;
        ck_assert_int_eq(prlimit(t->pid, RLIMIT_NOFILE, NULL, &was), 0);
        struct rlimit low = { .rlim_cur = (rlim_t)highest_fd(t->pid) + 1, .rlim_max = was.rlim_max };
        ck_assert_int_eq(prlimit(t->pid, RLIMIT_NOFILE, &low, NULL), 0);
        int peers[16];
        for (size_t i = 0; i < ELEMENTSOF(peers); i++)
                peers[i] = connect_control(t);
        ck_assert_msg(tickd_wait_for(t, "errno=EMFILE", 1, 3000), "no EMFILE:\n%s", t->log);

        long long before = cpu_ms(t->pid);
        long long until = harness_now_ms() + 1000;
        while (harness_now_ms() < until)
                tickd_pump(t, 50); /* a spinning daemon must not block on a full stderr */
        long long used = cpu_ms(t->pid) - before;
        ck_assert_msg(used < 200, "tickd used %lld ms of CPU in 1 s while out of descriptors", used);
        ck_assert_int_eq(tickd_count(t, "errno=EMFILE"), 1);

        /* Peers that hang up free their descriptors: a new one is served. */
        for (size_t i = 0; i < ELEMENTSOF(peers); i++)
                close(peers[i]);
        r = CTL(t, "list");
        ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
        ctl_result_free(&r);
        ck_assert(tickd_wait_for(t, "control: accepting connections again", 1, 2000));
        ck_assert_int_eq(prlimit(t->pid, RLIMIT_NOFILE, &was, NULL), 0);
        stop(t);
}
END_TEST

/* ---- size ---- */

#define BIG_FILES     5
#define BIG_JOBS      250 /* per file: 250 jobs of ~60 KB, a file just under 16 MiB */
#define BIG_LINES     15
#define BIG_LINE_SIZE 4000

/* A crontab of BIG_JOBS jobs whose commands are ~60 KB each (continuation
 * lines: a line may hold 4096 bytes), named FILE-0000 and on. */
static char *big_crontab(int file)
{
        char line[BIG_LINE_SIZE + 1];
        memset(line, 'x', BIG_LINE_SIZE);
        line[BIG_LINE_SIZE] = '\0';
        size_t cap = (size_t)BIG_JOBS * (BIG_LINES * (BIG_LINE_SIZE + 3) + 128), len = 0;
        char *text = malloc(cap);
        ck_assert_ptr_nonnull(text);
        for (int j = 0; j < BIG_JOBS; j++) {
                len += (size_t)snprintf(text + len, cap - len, "[f%d-%04d]\nschedule = @yearly\ncommand = : \\\n", file,
                                        j);
                for (int l = 0; l < BIG_LINES; l++)
                        len += (size_t)snprintf(text + len, cap - len, "  %s%s\n", line,
                                                l + 1 < BIG_LINES ? " \\" : "");
        }
        return text;
}

/* 1,250 jobs of 60 KB make a 75 MB list, past what sd-bus reads (an array
 * of 64 MiB): the daemon sends the jobs that fit and says how many it
 * left out, and tickctl lists those and says so, with status 1. */
START_TEST(a_list_too_large_for_one_message_is_cut_with_a_count)
{
        struct tickd *t = tickd_start(NULL, NULL);
        for (int f = 0; f < BIG_FILES; f++) {
                char name[32], *text = big_crontab(f);
                snprintf(name, sizeof(name), "big%d.ini", f);
                tickd_write_job(t, name, text);
                free(text);
        }
        ck_assert_msg(tickd_wait_for(t, "reloaded (jobs directory changed): 1250 jobs", 1, 60000), "log:\n%.4000s",
                      t->log);
        struct ctl_result r = CTL(t, "list");
        ck_assert_msg(r.status == 1, "status %d: %s", r.status, r.err);
        unsigned omitted = 0, listed = 0;
        const char *cut = strstr(r.err, "tickctl list: ");
        ck_assert_msg(
                cut && sscanf(cut, "tickctl list: %u more jobs not listed: the list is cut at 32 MiB", &omitted) == 1,
                "stderr: %s", r.err);
        const char *total = strstr(r.out, "\n\n");
        ck_assert_msg(total && sscanf(total, "\n\n%u jobs listed.", &listed) == 1, "stdout ends: %s",
                      r.out + (strlen(r.out) > 300 ? strlen(r.out) - 300 : 0));
        ck_assert_uint_gt(listed, 400); /* ~60 KB each in 32 MiB */
        ck_assert_uint_eq(listed + omitted, BIG_FILES * BIG_JOBS);
        ctl_result_free(&r);
        stop(t);
}
END_TEST

static Suite *control_daemon_suite(void)
{
        Suite *s = suite_create("control-daemon");
        TCase *tc = tcase_create("commands");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, list_and_status_show_the_daemons_jobs_and_files);
        tcase_add_test(tc, list_works_from_the_files_when_tickd_is_down);
        tcase_add_test(tc, run_wait_exits_with_the_jobs_exit_status);
        tcase_add_test(tc, cancel_stops_a_long_job_and_its_outcome_says_so);
        tcase_add_test(tc, reload_reports_per_file_and_fails_on_a_rejected_one);
        tcase_add_test(tc, last_outcomes_survive_a_restart);
        tcase_add_test(tc, every_output_names_an_outcome_as_the_journal_does);
        suite_add_tcase(s, tc);

        tc = tcase_create("size");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, a_list_too_large_for_one_message_is_cut_with_a_count);
        suite_add_tcase(s, tc);

        tc = tcase_create("run-wait");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, run_wait_on_a_queued_run_waits_for_that_runs_outcome);
        tcase_add_test(tc, run_wait_on_a_run_waiting_for_a_slot_waits_for_its_outcome);
        tcase_add_test(tc, run_wait_on_a_queued_run_removed_by_a_reload_says_it_was_dropped);
        tcase_add_test(tc, run_wait_on_a_queued_run_when_tickd_stops_says_it_was_dropped);
        tcase_add_test(tc, run_wait_refused_by_overlap_skip_exits_75);
        tcase_add_test(tc, cancel_drops_the_queued_run_too);
        tcase_add_test(tc, cancel_drops_a_run_waiting_for_a_slot);
        suite_add_tcase(s, tc);

        tc = tcase_create("edit");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, edit_installs_a_valid_file_and_the_daemon_takes_it);
        tcase_add_test(tc, edit_shows_errors_and_edits_again_until_valid);
        tcase_add_test(tc, edit_abandoned_leaves_nothing_behind);
        tcase_add_test(tc, edit_abandoned_keeps_the_rejected_text_in_a_file_it_names);
        tcase_add_test(tc, edit_refuses_to_overwrite_a_file_changed_during_the_edit);
        suite_add_tcase(s, tc);

        tc = tcase_create("authorisation");
        tcase_add_unchecked_fixture(tc, user_setup, user_teardown);
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, an_unprivileged_user_sees_only_their_jobs_and_may_not_run_them);
        suite_add_tcase(s, tc);

        tc = tcase_create("descriptors");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, a_thousand_lists_leave_the_daemons_descriptors_unchanged);
        suite_add_tcase(s, tc);

        tc = tcase_create("accept");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, accept_out_of_descriptors_pauses_rather_than_spinning);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(control_daemon_suite)
