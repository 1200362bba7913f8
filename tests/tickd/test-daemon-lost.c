/* test-daemon-lost.c — end to end: every run id tickd hands out ends with
 * exactly one final record, whatever becomes of the run: delayed by
 * max_concurrent, queued behind its job's running run, removed by a
 * reload, or in a batch that cannot start (out of descriptors); and a
 * persistent job's instant that never started is made up after a restart. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-ctl.h"
#include "harness/harness-daemon.h"
#include "harness/harness.h"

#define MAX_IDS 32

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

/* The run ids of the log's records of EVENT (e.g. "delayed"); every such
 * record must carry one. */
static void ids_from_log(struct ids *ids, const char *log, const char *event)
{
        char prefix[64];
        snprintf(prefix, sizeof(prefix), "event=%s ", event);
        for (const char *line = log; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                if (strncmp(line, prefix, strlen(prefix)) == 0) {
                        _cleanup_free_ char *copy = strndup(line, len);
                        const char *run = strstr(copy, " run=");
                        ck_assert_msg(run, "a %s record without a run id: %s", event, copy);
                        char id[33];
                        ck_assert_int_eq(sscanf(run, " run=%32[0-9a-f]", id), 1);
                        ids_add(ids, id);
                }
                line = nl ? nl + 1 : NULL;
        }
}

/* How many final records (how a run ended, or that it never will start)
 * name run ID. */
static int final_records(const char *log, const char *id)
{
        static const char *const ends[] = { "succeeded", "failed", "cancelled", "timed-out", "lost", "dropped" };
        char want[64];
        snprintf(want, sizeof(want), " run=%s ", id);
        int n = 0;
        for (const char *line = log; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                _cleanup_free_ char *copy = strndup(line, len);
                for (size_t i = 0; i < ELEMENTSOF(ends) && strstr(copy, want); i++) {
                        char prefix[32];
                        snprintf(prefix, sizeof(prefix), "event=%s ", ends[i]);
                        n += strncmp(copy, prefix, strlen(prefix)) == 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return n;
}

static void assert_one_final_record_each(const struct tickd *t, const struct ids *ids)
{
        for (size_t i = 0; i < ids->n; i++)
                ck_assert_msg(final_records(t->log, ids->id[i]) == 1, "run %s has %d final records; log:\n%s",
                              ids->id[i], final_records(t->log, ids->id[i]), t->log);
}

static struct ctl_result ctl(const struct tickd *t, const char *const *args)
{
        char runtime[512], state[512];
        snprintf(runtime, sizeof(runtime), "%s/runtime", t->dir);
        snprintf(state, sizeof(state), "%s/state", t->dir);
        return harness_ctl(
                &(struct ctl_target){ .runtime_base = runtime, .config_dir = t->config_dir, .state_dir = state }, NULL,
                args);
}

/* tickctl run JOB; adds the run id it printed to IDS. */
static void ctl_run(const struct tickd *t, const char *job, struct ids *ids)
{
        struct ctl_result r = ctl(t, (const char *const[]){ "run", job, NULL });
        ck_assert_msg(r.status == 0, "tickctl run %s: %d: %s", job, r.status, r.err);
        const char *run = strstr(r.out, ", run ");
        ck_assert_msg(run, "no run id in: %s", r.out);
        char id[33];
        ck_assert_int_eq(sscanf(run, ", run %32[0-9a-f]", id), 1);
        ids_add(ids, id);
        ctl_result_free(&r);
}

/* Writes jobs.d/NAME and waits until tickd has loaded it. */
static void write_job(struct tickd *t, const char *name, const char *ini)
{
        int before = tickd_count(t, "event=reloaded");
        tickd_write_job(t, name, ini);
        ck_assert(tickd_wait_for(t, "event=reloaded", before + 1, 10000));
}

static void stop(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 20000);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d; log:\n%s", status, t->log);
        harness_reap_children(3000);
}

/* A job that runs until the test creates its gate file (never, here: the
 * shutdown cancels it). */
static char *gated(const struct tickd *t, const char *name, const char *extra)
{
        char *ini;
        ck_assert_int_ge(asprintf(&ini,
                                  "[%s]\nschedule = @daily\ncommand = while [ ! -e %s/gate ]; do sleep 0.05; done\n%s",
                                  name, t->dir, extra),
                         0);
        return ini;
}

START_TEST(runs_queued_or_waiting_at_shutdown_each_get_one_final_record)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 2\n", NULL);
        _cleanup_free_ char *hold = gated(t, "hold", ""), *queue = gated(t, "queue", "overlap = queue\n");
        _cleanup_free_ char *at = harness_cron_in(3), *ini = NULL;
        ck_assert_int_ge(asprintf(&ini,
                                  "%s\n%s\n[timed]\nschedule = %s\ncommand = true\n\n"
                                  "[manual]\nschedule = @daily\ncommand = true\n",
                                  hold, queue, at),
                         0);
        write_job(t, "jobs.ini", ini);
        struct ids ids = { 0 };
        ctl_run(t, "hold", &ids);   /* slot 1 */
        ctl_run(t, "queue", &ids);  /* slot 2 */
        ctl_run(t, "queue", &ids);  /* queued behind it */
        ctl_run(t, "manual", &ids); /* waits for a slot */
        ck_assert(tickd_wait_for(t, "event=delayed job=timed ", 1, 10000));
        stop(t);
        ids_from_log(&ids, t->log, "delayed");
        ids_from_log(&ids, t->log, "started");
        ck_assert_uint_eq(ids.n, 5);
        assert_one_final_record_each(t, &ids);
        ck_assert_int_eq(tickd_count(t, "event=dropped "), 3);
        ck_assert_int_eq(tickd_count(t, "event=cancelled "), 2);
        tickd_free(t);
}
END_TEST

START_TEST(persistent_instant_dropped_at_shutdown_is_made_up_after_restart)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        _cleanup_free_ char *hold = gated(t, "hold", ""), *at = harness_cron_in(3), *ini = NULL;
        ck_assert_int_ge(asprintf(&ini, "%s\n[p]\nschedule = %s\ncommand = true\npersistent = yes\n", hold, at), 0);
        write_job(t, "jobs.ini", ini);
        struct ids ids = { 0 };
        ctl_run(t, "hold", &ids);
        ck_assert(tickd_wait_for(t, "event=delayed job=p ", 1, 10000));
        stop(t);
        ck_assert_int_eq(tickd_count(t, "event=started job=p "), 0);

        tickd_restart(t);
        ck_assert_msg(tickd_wait_for(t, "event=succeeded job=p ", 1, 10000), "p was not made up:\n%s", t->log);
        stop(t);
        ck_assert_int_eq(tickd_count(t, "event=dropped job=p "), 1);
        ids_from_log(&ids, t->log, "delayed");
        ids_from_log(&ids, t->log, "started");
        assert_one_final_record_each(t, &ids);
        tickd_free(t);
}
END_TEST

START_TEST(a_waiting_run_of_a_job_a_reload_removes_is_dropped)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        _cleanup_free_ char *hold = gated(t, "hold", "");
        write_job(t, "hold.ini", hold);
        write_job(t, "gone.ini", "[gone]\nschedule = @daily\ncommand = true\n");
        struct ids ids = { 0 };
        ctl_run(t, "hold", &ids);
        ctl_run(t, "gone", &ids);
        int before = tickd_count(t, "event=reloaded");
        tickd_remove_job(t, "gone.ini");
        ck_assert(tickd_wait_for(t, "event=reloaded", before + 1, 10000));
        char want[80];
        snprintf(want, sizeof(want), "event=dropped job=gone run=%s ", ids.id[1]);
        ck_assert_msg(tickd_wait_for(t, want, 1, 3000), "no '%s' in:\n%s", want, t->log);
        ck_assert_ptr_nonnull(strstr(t->log, "removed by a reload"));
        stop(t);
        assert_one_final_record_each(t, &ids);
        tickd_free(t);
}
END_TEST

/* The lowest descriptor number PID has free: with RLIMIT_NOFILE there,
 * it can open nothing more (the limit bounds the number of a new
 * descriptor, and a reload leaves gaps below the highest one). */
static int lowest_free_fd(pid_t pid)
{
        for (int fd = 0;; fd++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
                if (access(path, F_OK) < 0)
                        return fd;
        }
}

/* Three jobs due at one instant, three seconds from now, and tickd unable
 * to open a descriptor when it comes: returns the limit it had. */
static struct rlimit batch_cannot_start(struct tickd *t)
{
        _cleanup_free_ char *at = harness_cron_in(3), *ini = NULL;
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
        return was;
}

START_TEST(a_batch_that_cannot_start_is_retried_and_recorded_by_run)
{
        struct tickd *t = tickd_start(NULL, NULL);
        struct rlimit was = batch_cannot_start(t);
        ck_assert_msg(tickd_wait_for(t, "event=delayed job=b", 3, 10000), "no delayed runs:\n%s", t->log);
        ck_assert_int_eq(tickd_count(t, "errno=EMFILE"), 3);
        ck_assert_int_eq(tickd_count(t, "event=started "), 0);
        ck_assert_int_eq(prlimit(t->pid, RLIMIT_NOFILE, &was, NULL), 0);
        ck_assert_msg(tickd_wait_for(t, "event=succeeded job=b", 3, 10000), "not retried:\n%s", t->log);
        stop(t);
        struct ids ids = { 0 };
        ids_from_log(&ids, t->log, "delayed");
        ck_assert_uint_eq(ids.n, 3);
        ids_from_log(&ids, t->log, "started");
        ck_assert_uint_eq(ids.n, 3); /* the same runs, under the ids they were delayed with */
        assert_one_final_record_each(t, &ids);
        ck_assert_int_eq(tickd_count(t, "event=succeeded job=b"), 3);
        tickd_free(t);
}
END_TEST

START_TEST(a_batch_still_retrying_at_shutdown_is_dropped_by_run)
{
        struct tickd *t = tickd_start(NULL, NULL);
        (void)batch_cannot_start(t);
        ck_assert_msg(tickd_wait_for(t, "event=delayed job=b", 3, 10000), "no delayed runs:\n%s", t->log);
        stop(t);
        struct ids ids = { 0 };
        ids_from_log(&ids, t->log, "delayed");
        ck_assert_uint_eq(ids.n, 3);
        assert_one_final_record_each(t, &ids);
        ck_assert_int_eq(tickd_count(t, "event=dropped job=b"), 3);
        ck_assert_int_eq(tickd_count(t, "event=started "), 0);
        tickd_free(t);
}
END_TEST

static Suite *lost_suite(void)
{
        Suite *s = suite_create("daemon-lost");
        TCase *tc = tcase_create("final-records");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, runs_queued_or_waiting_at_shutdown_each_get_one_final_record);
        tcase_add_test(tc, persistent_instant_dropped_at_shutdown_is_made_up_after_restart);
        tcase_add_test(tc, a_waiting_run_of_a_job_a_reload_removes_is_dropped);
        tcase_add_test(tc, a_batch_that_cannot_start_is_retried_and_recorded_by_run);
        tcase_add_test(tc, a_batch_still_retrying_at_shutdown_is_dropped_by_run);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(lost_suite)
