/* test-scheduler.c — the scheduler in process, with real runners:
 * scheduler_run_now() (tickctl run) for an unknown job, under overlap =
 * skip and allow, and once the scheduler is stopped; jobs due at the same
 * instant start in file order. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tickd/batch.h"
#include "core/crontab.h"
#include "core/diag.h"
#include "core/cleanup.h"
#include "harness/harness-daemon.h"
#include "harness/harness.h"
#include "shared/log.h"
#include "tickd/scheduler.h"
#include "core/tz.h"

#define CRONTAB                                             \
        "[slow]\nschedule = @yearly\ncommand = sleep 1\n\n" \
        "[together]\nschedule = @yearly\ncommand = sleep 1\noverlap = allow\n"

static struct {
        sd_event *event;
        struct tz_cache *zones;
        struct scheduler *scheduler;
        char *dir;
        sigset_t old_mask;
        int finished_slow, finished_together, lost;
        int finished_ahead;
        struct outcome ahead; /* the last outcome of "ahead" */
        int64_t ahead_scheduled_usec;
} f;

static void on_finished(void *userdata, const struct run *run, const struct outcome *o)
{
        if (!o)
                f.lost++;
        else if (strcmp(run->job_name, "slow") == 0)
                f.finished_slow++;
        else if (strcmp(run->job_name, "together") == 0)
                f.finished_together++;
        else if (strcmp(run->job_name, "ahead") == 0) {
                f.finished_ahead++;
                f.ahead = *o;
                f.ahead_scheduled_usec = run->scheduled_usec;
        }
}

static void setup(void)
{
        memset(&f, 0, sizeof(f));
        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &f.old_mask);
        f.dir = harness_tmpdir();
        ck_assert_int_ge(sd_event_new(&f.event), 0);
        f.zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(f.zones);
        const struct tz *utc = NULL;
        ck_assert_int_eq(tz_cache_get(f.zones, "UTC", &utc), 0);
        struct crontab_options options = { .owner_uid = geteuid(), .zones = f.zones, .default_zone = utc };
        struct diagnostics diags = { 0 };
        struct crontab_file *file = NULL;
        ck_assert_int_eq(crontab_load_buffer("jobs.ini", CRONTAB, strlen(CRONTAB), &options, &file, &diags), 0);
        diag_free(&diags);
        ck_assert_int_eq(
                scheduler_new(&(struct scheduler_options){ .event = f.event, .state_dir = f.dir, .runtime_dir = f.dir },
                              &f.scheduler),
                0);
        scheduler_set_listener(f.scheduler, &(struct scheduler_listener){ .finished = on_finished });
        const char *conflict = NULL;
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "jobs.ini", file, &conflict), 0);
        ck_assert_int_eq(scheduler_start(f.scheduler), 0);
}

static void teardown(void)
{
        scheduler_free(f.scheduler);
        tz_cache_free(f.zones);
        sd_event_unref(f.event);
        harness_tmpdir_remove(f.dir);
        sigprocmask(SIG_SETMASK, &f.old_mask, NULL);
}

static void run_until_idle(int limit_ms)
{
        long long start = harness_now_ms();
        while (batch_open_count(scheduler_batches(f.scheduler)) > 0) {
                ck_assert_msg(harness_now_ms() - start < limit_ms, "runs still open after %d ms", limit_ms);
                ck_assert_int_ge(sd_event_run(f.event, 100 * 1000), 0);
        }
}

START_TEST(run_now_of_an_unknown_job_is_enoent)
{
        ck_assert_int_eq(scheduler_run_now(f.scheduler, "nope"), -ENOENT);
        ck_assert_int_eq(scheduler_run_now(f.scheduler, ""), -ENOENT);
        ck_assert_uint_eq(batch_open_count(scheduler_batches(f.scheduler)), 0);
}
END_TEST

START_TEST(run_now_skips_while_the_previous_run_runs_under_overlap_skip)
{
        ck_assert_int_eq(scheduler_run_now(f.scheduler, "slow"), 1);
        ck_assert_uint_eq(batch_running_count(scheduler_batches(f.scheduler)), 1);
        ck_assert_int_eq(scheduler_run_now(f.scheduler, "slow"), 0); /* skipped, not queued */
        ck_assert_uint_eq(batch_running_count(scheduler_batches(f.scheduler)), 1);
        run_until_idle(10000);
        ck_assert_int_eq(f.finished_slow, 1);
        /* Once it is over, it may run again. */
        ck_assert_int_eq(scheduler_run_now(f.scheduler, "slow"), 1);
        run_until_idle(10000);
        ck_assert_int_eq(f.finished_slow, 2);
        ck_assert_int_eq(f.lost, 0);
        harness_reap_children(2000);
}
END_TEST

START_TEST(run_now_starts_a_second_run_under_overlap_allow)
{
        ck_assert_int_eq(scheduler_run_now(f.scheduler, "together"), 1);
        ck_assert_int_eq(scheduler_run_now(f.scheduler, "together"), 1);
        ck_assert_uint_eq(batch_running_count(scheduler_batches(f.scheduler)), 2);
        run_until_idle(10000);
        ck_assert_int_eq(f.finished_together, 2);
        harness_reap_children(2000);
}
END_TEST

/* Names neither sorted nor in hash order; each runs every second. */
static const char *const in_file_order[] = { "kilo", "charlie", "xray", "alpha", "quebec", "mike", "echo", "bravo" };

struct dispatched {
        uint64_t batch_id;
        size_t n;
        const char *names[16];
};

static void record_batch(void *userdata, uint64_t id, uint64_t age_usec, const struct run *const *runs, size_t n)
{
        struct dispatched *d = userdata;
        if (id != d->batch_id)
                return;
        for (size_t i = 0; i < n && d->n < ELEMENTSOF(d->names); i++)
                d->names[d->n++] = runs[i]->job_name; /* valid while the batch is open */
}

struct find_runner {
        const char *job;
        pid_t *runner;
};

static void find_runner(void *userdata, uint64_t id, uint64_t age_usec, const struct run *const *runs, size_t n)
{
        const struct find_runner *w = userdata;
        for (size_t i = 0; i < n; i++)
                if (strcmp(runs[i]->job_name, w->job) == 0)
                        *w->runner = runs[i]->runner_pid;
}

/* Runs the loop until batch ID is open, and checks its runs' order. */
static void check_batch_in_file_order(uint64_t id)
{
        struct dispatched d = { .batch_id = id };
        long long start = harness_now_ms();
        while (d.n == 0) {
                ck_assert_msg(harness_now_ms() - start < 5000, "no batch %llu after 5 s", (unsigned long long)id);
                ck_assert_int_ge(sd_event_run(f.event, 100 * 1000), 0);
                batch_foreach(scheduler_batches(f.scheduler), record_batch, &d);
        }
        ck_assert_uint_eq(d.n, ELEMENTSOF(in_file_order));
        for (size_t i = 0; i < d.n; i++)
                ck_assert_str_eq(d.names[i], in_file_order[i]);
}

START_TEST(jobs_due_at_the_same_instant_start_in_file_order)
{
        char text[2048] = "";
        for (size_t i = 0; i < ELEMENTSOF(in_file_order); i++)
                snprintf(text + strlen(text), sizeof(text) - strlen(text),
                         "[%s]\nschedule = * * * * * *\ncommand = sleep 3\noverlap = allow\n\n", in_file_order[i]);
        const struct tz *utc = NULL;
        ck_assert_int_eq(tz_cache_get(f.zones, "UTC", &utc), 0);
        struct crontab_options options = { .owner_uid = geteuid(), .zones = f.zones, .default_zone = utc };
        struct diagnostics diags = { 0 };
        struct crontab_file *file = NULL;
        ck_assert_int_eq(crontab_load_buffer("order.ini", text, strlen(text), &options, &file, &diags), 0);
        diag_free(&diags);
        const char *conflict = NULL;
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "order.ini", file, &conflict), 0);
        /* The first tick, and the next: re-armed jobs keep their order. */
        check_batch_in_file_order(1);
        check_batch_in_file_order(2);
        scheduler_stop(f.scheduler);
        batch_cancel_all(scheduler_batches(f.scheduler));
        run_until_idle(10000);
        harness_reap_children(2000);
}
END_TEST

static struct crontab_file *load_text(const char *name, const char *text)
{
        const struct tz *utc = NULL;
        ck_assert_int_eq(tz_cache_get(f.zones, "UTC", &utc), 0);
        struct crontab_options options = { .owner_uid = geteuid(), .zones = f.zones, .default_zone = utc };
        struct diagnostics diags = { 0 };
        struct crontab_file *file = NULL;
        ck_assert_int_eq(crontab_load_buffer(name, text, strlen(text), &options, &file, &diags), 0);
        diag_free(&diags);
        return file;
}

/* Issue 16: a schedule is shared by the jobs of its file only, so a
 * reload that frees one file's schedules leaves every other file's jobs
 * with theirs (under ASan, a use after free would end the test). */
START_TEST(a_reload_of_one_file_leaves_the_schedules_of_another_alone)
{
        static const char a[] =
                "[a1]\nschedule = 0 3 * * *\ncommand = true\n[a2]\nschedule = 0 3 * * *\ncommand = true\n";
        static const char b[] =
                "[b1]\nschedule = 0 3 * * *\ncommand = true\n[b2]\nschedule = 0 3 * * *\ncommand = true\n";
        static const char a_again[] = "[a1]\nschedule = 0 4 * * *\ncommand = true\n";
        const char *conflict = NULL;
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "a.ini", load_text("a.ini", a), &conflict), 0);
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "b.ini", load_text("b.ini", b), &conflict), 0);
        const struct job *a1 = scheduler_find_job(f.scheduler, "a1"), *b1 = scheduler_find_job(f.scheduler, "b1");
        ck_assert_ptr_eq(a1->schedule, scheduler_find_job(f.scheduler, "a2")->schedule);
        ck_assert_ptr_eq(b1->schedule, scheduler_find_job(f.scheduler, "b2")->schedule);
        ck_assert_ptr_ne(a1->schedule, b1->schedule);
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "a.ini", load_text("a.ini", a_again), &conflict), 0);
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "a.ini", NULL, &conflict), 0);
        ck_assert_ptr_null(scheduler_find_job(f.scheduler, "a1"));
        for (const char *const *name = (const char *const[]){ "b1", "b2", NULL }; *name; name++) {
                const struct job *j = scheduler_find_job(f.scheduler, *name);
                ck_assert_ptr_nonnull(j);
                ck_assert_str_eq(job_schedule_text(j), "0 3 * * *");
                int64_t next = 0;
                ck_assert_int_eq(schedule_next(j->schedule, j->zone, 0, &next), 0);
                ck_assert_int_eq(next, 3 * 3600);
        }
        int64_t due = 0;
        const char *job = NULL;
        ck_assert(scheduler_next_due(f.scheduler, &due, &job));
}
END_TEST

/* Our live child (not a zombie) named COMM, or 0. */
static pid_t live_child(const char *comm) { return harness_child_by_comm(getpid(), comm); }

/* Runs the loop in short steps until a runner named tickd:ahead is alive
 * while no batch is open: the runner forked ahead of the next instant. */
static pid_t wait_prepared(void)
{
        for (long long start = harness_now_ms();;) {
                ck_assert_msg(harness_now_ms() - start < 5000, "no runner forked ahead of an instant in 5 s");
                ck_assert_int_ge(sd_event_run(f.event, 2 * 1000), 0);
                pid_t pid = batch_open_count(scheduler_batches(f.scheduler)) == 0 ? live_child("tickd:ahead") : 0;
                if (pid > 0)
                        return pid;
        }
}

/* The runner of run JOB in an open batch, the loop run until there is one. */
static pid_t wait_runner_of(const char *job)
{
        for (long long start = harness_now_ms();;) {
                ck_assert_msg(harness_now_ms() - start < 5000, "no run of %s after 5 s", job);
                ck_assert_int_ge(sd_event_run(f.event, 20 * 1000), 0);
                pid_t runner = 0;
                batch_foreach(scheduler_batches(f.scheduler), find_runner, &(struct find_runner){ job, &runner });
                if (runner > 0)
                        return runner;
        }
}

/* Issue 16, the first start: the runner of an instant's batch is forked
 * ahead of the instant (50 ms): it is alive while no batch is open, and
 * at the instant the run is that runner's, not a fork's; its job starts
 * at the instant, never before. */
START_TEST(the_runner_of_an_instant_is_forked_ahead_and_its_job_starts_at_the_instant)
{
        static const char text[] = "[ahead]\nschedule = * * * * * *\ncommand = sleep 0.2\n";
        const char *conflict = NULL;
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "ahead.ini", load_text("ahead.ini", text), &conflict), 0);
        pid_t prepared = wait_prepared();
        ck_assert_int_eq(wait_runner_of("ahead"), prepared);
        while (f.finished_ahead == 0)
                ck_assert_int_ge(sd_event_run(f.event, 100 * 1000), 0);
        ck_assert_int_eq(f.ahead.status, OUTCOME_EXITED);
        ck_assert_int_gt(f.ahead_scheduled_usec, 0);
        ck_assert_int_ge(f.ahead.start_usec, f.ahead_scheduled_usec);
        scheduler_stop(f.scheduler);
        run_until_idle(10000);
        harness_reap_children(2000);
}
END_TEST

/* A reload between the fork ahead and the instant drops that runner (it
 * knew the jobs of before, by address): it exits without running
 * anything, and the instant's run is forked as always. */
START_TEST(a_reload_drops_the_runner_forked_ahead)
{
        static const char text[] = "[ahead]\nschedule = * * * * * *\ncommand = sleep 0.2\n";
        const char *conflict = NULL;
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "ahead.ini", load_text("ahead.ini", text), &conflict), 0);
        pid_t prepared = wait_prepared();
        ck_assert_int_eq(scheduler_set_file(f.scheduler, "ahead.ini", load_text("ahead.ini", text), &conflict), 0);
        pid_t runner = wait_runner_of("ahead");
        ck_assert_int_ne(runner, prepared);
        while (f.finished_ahead == 0)
                ck_assert_int_ge(sd_event_run(f.event, 100 * 1000), 0);
        ck_assert_int_eq(f.ahead.status, OUTCOME_EXITED);
        ck_assert_int_eq(f.ahead.code, 0);
        ck_assert_int_eq(kill(prepared, 0), -1); /* exited, and reaped, at once */
        scheduler_stop(f.scheduler);
        run_until_idle(10000);
        harness_reap_children(2000);
}
END_TEST

START_TEST(run_now_after_stop_is_refused)
{
        scheduler_stop(f.scheduler);
        ck_assert_int_eq(scheduler_run_now(f.scheduler, "slow"), -ESHUTDOWN);
        ck_assert_int_eq(scheduler_run_now(f.scheduler, "nope"), -ENOENT);
        ck_assert_uint_eq(batch_open_count(scheduler_batches(f.scheduler)), 0);
}
END_TEST

static Suite *scheduler_suite(void)
{
        Suite *s = suite_create("scheduler");
        TCase *tc = tcase_create("run-now");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, run_now_of_an_unknown_job_is_enoent);
        tcase_add_test(tc, run_now_skips_while_the_previous_run_runs_under_overlap_skip);
        tcase_add_test(tc, run_now_starts_a_second_run_under_overlap_allow);
        tcase_add_test(tc, run_now_after_stop_is_refused);
        tcase_add_test(tc, a_reload_of_one_file_leaves_the_schedules_of_another_alone);
        tcase_add_test(tc, jobs_due_at_the_same_instant_start_in_file_order);
        tcase_add_test(tc, the_runner_of_an_instant_is_forked_ahead_and_its_job_starts_at_the_instant);
        tcase_add_test(tc, a_reload_drops_the_runner_forked_ahead);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(scheduler_suite)
