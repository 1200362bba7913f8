/* test-demo.c — `make run`'s demo (config/jobs.d/10-demo.ini) shows, within
 * a minute, everything its header promises: successes, a failure, a
 * timeout and runs skipped because the previous one is still going. The
 * daemon reads the source tree's config/ as `make run` does, on private
 * state and runtime directories, and stops as soon as all have appeared. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

#define DEMO_DEADLINE_MS 60000

static long long now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const promised[] = {
        "event=succeeded",
        "event=failed job=flaky",
        "event=timed-out job=slowpoke",
        "event=skipped job=slowpoke",
};

START_TEST(demo_shows_every_promised_event_within_a_minute)
{
        const char *config = harness_source_path("config");
        struct tickd *t = tickd_start_args(NULL, NULL, (const char *const[]){ "--config-dir", config, NULL });
        long long deadline = now_ms() + DEMO_DEADLINE_MS;
        for (size_t i = 0; i < sizeof(promised) / sizeof(promised[0]); i++) {
                long long left = deadline - now_ms();
                bool seen = left > 0 && tickd_wait_for(t, promised[i], 1, (int)left);
                if (!seen)
                        fprintf(stderr, "%s\n", t->log);
                ck_assert_msg(seen, "the demo showed no '%s' within a minute", promised[i]);
        }
        ck_assert_int_eq(tickd_count(t, "event=config-rejected"), 0);
        tickd_stop(t, SIGTERM, 15000);
        tickd_free(t);
}
END_TEST

static Suite *demo_suite(void)
{
        Suite *s = suite_create("demo");
        TCase *tc = tcase_create("make-run");
        tcase_set_timeout(tc, 90);
        tcase_add_test(tc, demo_shows_every_promised_event_within_a_minute);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(demo_suite)
