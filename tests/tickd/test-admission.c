/* test-admission.c — runs gathered together start in slices of at most
 * ADMISSION_SLICE, one batch each, with the loop served between slices;
 * every run starts exactly once, in offer order; tickd stopping while
 * slices remain drops each remaining run exactly once. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crontab.h"
#include "core/diag.h"
#include "core/tz.h"
#include "harness/harness.h"
#include "shared/log.h"
#include "tickd/admission.h"
#include "tickd/batch.h"

#define N_RUNS 200

static struct {
        sd_event *event;
        struct tz_cache *zones;
        struct crontab_file *file;
        struct batch_manager *batches;
        struct admission *admission;
        struct admission_job jobs[N_RUNS];
        sd_event_source *ticker;
        unsigned ticks; /* how often another source was served */
        size_t n_dispatched, n_dropped;
        int dispatched[N_RUNS];         /* job index, in dispatch order */
        unsigned dispatched_at[N_RUNS]; /* TICKS then */
        unsigned dropped[N_RUNS];       /* per job */
        sigset_t old_mask;
} f;

static size_t job_index(const char *name) { return (size_t)strtoul(name + 1, NULL, 10); }

static struct admission_job *find(void *userdata, const char *name) { return &f.jobs[job_index(name)]; }

static void on_dispatched(void *userdata, const char *job, int64_t scheduled_usec)
{
        ck_assert_uint_lt(f.n_dispatched, N_RUNS);
        f.dispatched_at[f.n_dispatched] = f.ticks;
        f.dispatched[f.n_dispatched++] = (int)job_index(job);
}

static void on_dropped(void *userdata, const char *job, const char *run_id, int64_t scheduled_usec, const char *reason)
{
        f.dropped[job_index(job)]++;
        f.n_dropped++;
}

static void on_finished(void *userdata, const struct run *run, const struct outcome *o)
{
        admission_run_finished(f.admission, run, o);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        f.ticks++;
        ck_assert_int_ge(sd_event_source_set_time_relative(s, 1000), 0);
        return 0;
}

static void setup(void)
{
        memset(&f, 0, sizeof(f));
        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &f.old_mask);
        ck_assert_int_ge(sd_event_new(&f.event), 0);
        f.zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(f.zones);
        const struct tz *utc = NULL;
        ck_assert_int_eq(tz_cache_get(f.zones, "UTC", &utc), 0);
        size_t cap = N_RUNS * 64;
        char *text = calloc(1, cap);
        ck_assert_ptr_nonnull(text);
        for (size_t i = 0; i < N_RUNS; i++)
                snprintf(text + strlen(text), cap - strlen(text), "[j%zu]\nschedule = @yearly\ncommand = true\n\n", i);
        struct crontab_options options = { .owner_uid = geteuid(), .zones = f.zones, .default_zone = utc };
        struct diagnostics diags = { 0 };
        ck_assert_int_eq(crontab_load_buffer("jobs.ini", text, strlen(text), &options, &f.file, &diags), 0);
        diag_free(&diags);
        free(text);
        ck_assert_uint_eq(f.file->n_jobs, N_RUNS);
        for (size_t i = 0; i < N_RUNS; i++)
                f.jobs[job_index(f.file->jobs[i]->name)].job = f.file->jobs[i];
        ck_assert_int_eq(batch_manager_new(&(struct batch_manager_options){ .event = f.event, .finished = on_finished },
                                           &f.batches),
                         0);
        ck_assert_int_eq(admission_new(&(struct admission_options){ .event = f.event,
                                                                    .batches = f.batches,
                                                                    .find = find,
                                                                    .dropped = on_dropped,
                                                                    .dispatched = on_dispatched },
                                       &f.admission),
                         0);
        /* Another source, due at once and again 1 ms after each time it
         * is served: it must be served between slices. */
        ck_assert_int_ge(sd_event_add_time_relative(f.event, &f.ticker, CLOCK_MONOTONIC, 0, 0, on_tick, NULL), 0);
        ck_assert_int_ge(sd_event_source_set_enabled(f.ticker, SD_EVENT_ON), 0);
}

static void teardown(void)
{
        sd_event_source_disable_unref(f.ticker);
        admission_stop(f.admission);
        batch_manager_free(f.batches);
        admission_free(f.admission);
        crontab_file_free(f.file);
        tz_cache_free(f.zones);
        sd_event_unref(f.event);
        sigprocmask(SIG_SETMASK, &f.old_mask, NULL);
}

static void offer_all(void)
{
        for (size_t i = 0; i < N_RUNS; i++)
                ck_assert_int_eq(admission_offer(f.admission, &f.jobs[i], 0, NULL), ADMISSION_ADMITTED);
}

static void run_until_idle(int limit_ms)
{
        long long start = harness_now_ms();
        while (batch_open_count(f.batches) > 0 || (f.n_dispatched + f.n_dropped < N_RUNS)) {
                ck_assert_msg(harness_now_ms() - start < limit_ms, "runs still open after %d ms", limit_ms);
                ck_assert_int_ge(sd_event_run(f.event, 100 * 1000), 0);
        }
}

START_TEST(a_large_flush_starts_in_slices_with_the_loop_served_between)
{
        offer_all();
        ck_assert_int_eq(admission_flush(f.admission), ADMISSION_SLICE);
        ck_assert_uint_eq(f.n_dispatched, ADMISSION_SLICE);
        ck_assert_uint_eq(batch_open_count(f.batches), 1);
        ck_assert_uint_le(batch_running_count(f.batches), ADMISSION_SLICE);
        /* A flush while slices remain starts nothing of its own. */
        ck_assert_int_eq(admission_flush(f.admission), 0);
        ck_assert_uint_eq(f.n_dispatched, ADMISSION_SLICE);
        run_until_idle(60000);
        ck_assert_uint_eq(f.n_dispatched, N_RUNS);
        ck_assert_uint_eq(f.n_dropped, 0);
        /* Every run once, in offer order. */
        for (size_t i = 0; i < N_RUNS; i++)
                ck_assert_int_eq(f.dispatched[i], (int)i);
        /* Slices (runs dispatched at one TICKS) of at most ADMISSION_SLICE,
         * with the other source served between each two. */
        size_t slices = 1, in_slice = 1;
        for (size_t i = 1; i < N_RUNS; i++) {
                if (f.dispatched_at[i] == f.dispatched_at[i - 1]) {
                        ck_assert_uint_lt(in_slice, ADMISSION_SLICE);
                        in_slice++;
                        continue;
                }
                ck_assert_uint_gt(f.dispatched_at[i], f.dispatched_at[i - 1]);
                slices++;
                in_slice = 1;
        }
        ck_assert_uint_eq(slices, (N_RUNS + ADMISSION_SLICE - 1) / ADMISSION_SLICE);
        for (size_t i = 0; i < N_RUNS; i++)
                ck_assert_uint_eq(f.jobs[i].running, 0);
        harness_reap_children(2000);
}
END_TEST

START_TEST(a_stop_between_slices_drops_each_remaining_run_once)
{
        offer_all();
        ck_assert_int_eq(admission_flush(f.admission), ADMISSION_SLICE);
        admission_stop(f.admission);
        ck_assert_uint_eq(f.n_dropped, N_RUNS - ADMISSION_SLICE);
        run_until_idle(30000);
        ck_assert_uint_eq(f.n_dispatched, ADMISSION_SLICE);
        ck_assert_uint_eq(f.n_dropped, N_RUNS - ADMISSION_SLICE);
        for (size_t i = 0; i < N_RUNS; i++) {
                ck_assert_uint_eq(f.dropped[i], i < ADMISSION_SLICE ? 0 : 1);
                ck_assert_uint_eq(f.jobs[i].running, 0);
        }
        harness_reap_children(2000);
}
END_TEST

START_TEST(a_forgotten_job_between_slices_is_dropped_not_started)
{
        offer_all();
        ck_assert_int_eq(admission_flush(f.admission), ADMISSION_SLICE);
        size_t gone = N_RUNS - 1;
        admission_forget(f.admission, &f.jobs[gone]);
        ck_assert_uint_eq(f.dropped[gone], 1);
        run_until_idle(60000);
        ck_assert_uint_eq(f.n_dispatched, N_RUNS - 1);
        for (size_t i = 0; i < f.n_dispatched; i++)
                ck_assert_int_ne(f.dispatched[i], (int)gone);
        ck_assert_uint_eq(f.n_dropped, 1);
        harness_reap_children(2000);
}
END_TEST

static Suite *admission_suite(void)
{
        Suite *s = suite_create("admission");
        TCase *tc = tcase_create("slices");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, a_large_flush_starts_in_slices_with_the_loop_served_between);
        tcase_add_test(tc, a_stop_between_slices_drops_each_remaining_run_once);
        tcase_add_test(tc, a_forgotten_job_between_slices_is_dropped_not_started);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(admission_suite)
