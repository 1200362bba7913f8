/* test-catchup.c — the rule behind late wake-ups and clock steps
 * (catchup.h) as a specification: which instant a job runs for after a
 * jump forward, that a jump backward repeats nothing, persistent versus
 * not, and a job in a DST zone. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/catchup.h"
#include "harness/harness.h"
#include "core/schedule.h"
#include "core/tz.h"

#define SEC  INT64_C(1000000)
#define NONE CATCHUP_NONE

static struct tz_cache *cache;

static void cache_setup(void)
{
        cache = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(cache);
}

static void cache_teardown(void)
{
        tz_cache_free(cache);
        cache = NULL;
}

/* "2026-01-15T12:00:00+00:00" (the offset is required) to seconds. */
static int64_t iso(const char *text)
{
        int y, mo, d, h, mi, s, oh, om;
        char sign;
        int n = sscanf(text, "%d-%d-%dT%d:%d:%d%c%d:%d", &y, &mo, &d, &h, &mi, &s, &sign, &oh, &om);
        ck_assert_msg(n == 9 && (sign == '+' || sign == '-'), "bad test time '%s'", text);
        int64_t off = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
}

struct expect {
        bool run, late;
        uint64_t n_due;
        const char *scheduled;  /* NULL = none */
        const char *next;       /* NULL = none */
        const char *high_water; /* NULL = unchanged */
};

struct scenario {
        const char *what;
        const char *schedule;
        const char *zone; /* NULL = UTC */
        bool persistent;
        int64_t random_delay_usec;
        const char *high_water; /* NULL = none yet */
        const char *previous_now;
        const char *now;
        int64_t now_extra_usec; /* added to NOW */
        struct expect want;
};

static const struct scenario scenarios[] = {
        { "on time: the instant due now runs",
          "* * * * *",
          NULL,
          false,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:59+00:00",
          "2026-01-15T12:01:00+00:00",
          2000,
          { true, false, 1, "2026-01-15T12:01:00+00:00", "2026-01-15T12:02:00+00:00", "2026-01-15T12:01:00+00:00" } },
        { "nothing due yet",
          "* * * * *",
          NULL,
          false,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:59+00:00",
          "2026-01-15T12:00:59+00:00",
          999999,
          { false, false, 0, NULL, "2026-01-15T12:01:00+00:00", NULL } },
        { "forward 30 s over an instant: runs once, not persistent",
          "* * * * *",
          NULL,
          false,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:50+00:00",
          "2026-01-15T12:01:20+00:00",
          0,
          { true, false, 1, "2026-01-15T12:01:00+00:00", "2026-01-15T12:02:00+00:00", "2026-01-15T12:01:00+00:00" } },
        { "forward 2 min, not persistent: skipped, mark raised",
          "* * * * *",
          NULL,
          false,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:50+00:00",
          "2026-01-15T12:02:50+00:00",
          0,
          { false, true, 2, "2026-01-15T12:02:00+00:00", "2026-01-15T12:03:00+00:00", "2026-01-15T12:02:00+00:00" } },
        { "forward 2 min, persistent: runs once for the latest",
          "* * * * *",
          NULL,
          true,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:50+00:00",
          "2026-01-15T12:02:50+00:00",
          0,
          { true, true, 2, "2026-01-15T12:02:00+00:00", "2026-01-15T12:03:00+00:00", "2026-01-15T12:02:00+00:00" } },
        { "15 missed instants of a 10 s job: one run",
          "*/10 * * * * *",
          NULL,
          true,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:05+00:00",
          "2026-01-15T12:02:35+00:00",
          0,
          { true, true, 15, "2026-01-15T12:02:30+00:00", "2026-01-15T12:02:40+00:00", "2026-01-15T12:02:30+00:00" } },
        { "several missed instants within a minute run once, not persistent",
          "*/10 * * * * *",
          NULL,
          false,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:05+00:00",
          "2026-01-15T12:00:58+00:00",
          0,
          { true, false, 5, "2026-01-15T12:00:50+00:00", "2026-01-15T12:01:00+00:00", "2026-01-15T12:00:50+00:00" } },
        { "exactly a minute late is not late",
          "* * * * *",
          NULL,
          false,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:59+00:00",
          "2026-01-15T12:02:00+00:00",
          0,
          { true, false, 2, "2026-01-15T12:02:00+00:00", "2026-01-15T12:03:00+00:00", "2026-01-15T12:02:00+00:00" } },
        { "a minute and a microsecond late is late",
          "* * * * *",
          NULL,
          false,
          0,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:59+00:00",
          "2026-01-15T12:02:00+00:00",
          1,
          { false, true, 2, "2026-01-15T12:02:00+00:00", "2026-01-15T12:03:00+00:00", "2026-01-15T12:02:00+00:00" } },
        { "lateness counts after the random delay",
          "* * * * *",
          NULL,
          false,
          300 * SEC,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T12:00:59+00:00",
          "2026-01-15T12:05:00+00:00",
          0,
          { true, false, 5, "2026-01-15T12:05:00+00:00", "2026-01-15T12:06:00+00:00", "2026-01-15T12:05:00+00:00" } },
        { "backward 1 min after a run: the instant that ran is not due again",
          "* * * * *",
          NULL,
          true,
          0,
          "2026-01-15T12:01:00+00:00",
          "2026-01-15T12:01:30+00:00",
          "2026-01-15T12:00:30+00:00",
          0,
          { false, false, 0, NULL, "2026-01-15T12:02:00+00:00", NULL } },
        { "backward across several instants: next is after the mark",
          "* * * * *",
          NULL,
          true,
          0,
          "2026-01-15T12:05:00+00:00",
          "2026-01-15T12:05:20+00:00",
          "2026-01-15T12:01:10+00:00",
          0,
          { false, false, 0, NULL, "2026-01-15T12:06:00+00:00", NULL } },
        { "backward by a day: a daily job waits for its next day",
          "0 3 * * *",
          NULL,
          true,
          0,
          "2026-01-15T03:00:00+00:00",
          "2026-01-15T04:00:00+00:00",
          "2026-01-14T02:00:00+00:00",
          0,
          { false, false, 0, NULL, "2026-01-16T03:00:00+00:00", NULL } },
        { "mark ahead of the previous now (persistent catch-up): nothing at or before it",
          "* * * * *",
          NULL,
          true,
          0,
          "2026-01-15T12:03:00+00:00",
          "2026-01-15T12:00:50+00:00",
          "2026-01-15T12:03:30+00:00",
          0,
          { false, false, 0, NULL, "2026-01-15T12:04:00+00:00", NULL } },
        { "a first run with no mark",
          "0/15 * * * * *",
          NULL,
          false,
          0,
          NULL,
          "2026-01-15T12:00:10+00:00",
          "2026-01-15T12:00:15+00:00",
          500,
          { true, false, 1, "2026-01-15T12:00:15+00:00", "2026-01-15T12:00:30+00:00", "2026-01-15T12:00:15+00:00" } },
        { "@reboot never falls due",
          "@reboot",
          NULL,
          true,
          0,
          NULL,
          "2026-01-15T12:00:00+00:00",
          "2026-01-15T13:00:00+00:00",
          0,
          { false, false, 0, NULL, NULL, NULL } },
        { "DST gap: forward 30 s over 03:00 CEST (the 02:30 that does not exist) runs it",
          "30 2 * * *",
          "Europe/Berlin",
          false,
          0,
          "2026-03-28T02:30:00+01:00",
          "2026-03-29T01:59:50+01:00",
          "2026-03-29T03:00:20+02:00",
          0,
          { true, false, 1, "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-29T03:00:00+02:00" } },
        { "DST gap: forward 2 h over it, not persistent: skipped",
          "30 2 * * *",
          "Europe/Berlin",
          false,
          0,
          "2026-03-28T02:30:00+01:00",
          "2026-03-29T01:59:50+01:00",
          "2026-03-29T05:00:00+02:00",
          0,
          { false, true, 1, "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00", "2026-03-29T03:00:00+02:00" } },
        { "DST overlap: stepped back after the first 02:30, the second one does not run",
          "30 2 * * *",
          "Europe/Berlin",
          true,
          0,
          "2026-10-25T02:30:00+02:00",
          "2026-10-25T02:40:00+01:00",
          "2026-10-25T02:20:00+02:00",
          0,
          { false, false, 0, NULL, "2026-10-26T02:30:00+01:00", NULL } },
        { "DST zone, several days missed while suspended, persistent: once",
          "30 2 * * *",
          "Europe/Berlin",
          true,
          0,
          "2026-03-27T02:30:00+01:00",
          "2026-03-27T02:30:00+01:00",
          "2026-03-31T08:00:00+02:00",
          0,
          { true, true, 4, "2026-03-31T02:30:00+02:00", "2026-04-01T02:30:00+02:00", "2026-03-31T02:30:00+02:00" } },
};

static int64_t at(const char *text, int64_t none) { return text ? iso(text) : none; }

START_TEST(decides_each_scenario)
{
        const struct scenario *sc = &scenarios[_i];
        struct schedule *schedule = NULL;
        char err[128] = "";
        ck_assert_msg(schedule_parse(sc->schedule, cache, &schedule, err, sizeof(err)) == 0, "%s: %s", sc->schedule,
                      err);
        const struct tz *zone = NULL;
        if (sc->zone)
                ck_assert_int_eq(tz_cache_get(cache, sc->zone, &zone), 0);
        int64_t high_water = at(sc->high_water, INT64_MIN);
        struct catchup c;
        int r = catchup_decide(&(struct catchup_job){ .schedule = schedule,
                                                      .zone = zone,
                                                      .high_water_sec = high_water,
                                                      .random_delay_usec = sc->random_delay_usec,
                                                      .persistent = sc->persistent },
                               iso(sc->previous_now), iso(sc->now) * SEC + sc->now_extra_usec, &c);
        schedule_free(schedule);
        ck_assert_msg(r == 0, "%s: r=%d", sc->what, r);
        ck_assert_msg(c.run == sc->want.run, "%s: run=%d", sc->what, c.run);
        ck_assert_msg(c.late == sc->want.late, "%s: late=%d", sc->what, c.late);
        ck_assert_msg(c.n_due == sc->want.n_due, "%s: n_due=%llu", sc->what, (unsigned long long)c.n_due);
        ck_assert_msg(c.scheduled_sec == at(sc->want.scheduled, NONE), "%s: scheduled=%lld", sc->what,
                      (long long)c.scheduled_sec);
        ck_assert_msg(c.next_sec == at(sc->want.next, NONE), "%s: next=%lld", sc->what, (long long)c.next_sec);
        ck_assert_msg(c.high_water_sec == at(sc->want.high_water, high_water), "%s: high_water=%lld", sc->what,
                      (long long)c.high_water_sec);
        if (c.n_due)
                ck_assert_int_le(c.first_due_sec, c.scheduled_sec);
}
END_TEST

START_TEST(too_many_missed_instants_still_run_once)
{
        struct schedule *schedule = NULL;
        ck_assert_int_eq(schedule_parse("* * * * * *", cache, &schedule, NULL, 0), 0);
        int64_t now = iso("2026-01-15T12:00:00+00:00");
        struct catchup c;
        int r = catchup_decide(
                &(struct catchup_job){ .schedule = schedule, .high_water_sec = INT64_MIN, .persistent = true },
                now - 3 * CATCHUP_WALK_MAX, now * SEC, &c);
        schedule_free(schedule);
        ck_assert_int_eq(r, -E2BIG);
        ck_assert(c.run);
        ck_assert_uint_eq(c.n_due, CATCHUP_WALK_MAX);
        ck_assert_int_eq(c.next_sec, now + 1);
        ck_assert_int_ge(c.high_water_sec, c.scheduled_sec);
}
END_TEST

/* A daemon's life as the scheduler lives it, one decision whenever the
 * job's instant comes: the clock wanders forward and back; count the runs
 * of each instant. */
struct simulation {
        struct catchup_job job;
        int64_t next_sec;
        int64_t runs[64]; /* scheduled instants that ran, in order */
        size_t n_runs;
};

static void simulate_until(struct simulation *sim, int64_t from_sec, int64_t to_sec)
{
        for (int64_t now = from_sec; now <= to_sec; now++) {
                if (sim->next_sec == NONE || sim->next_sec > now)
                        continue;
                struct catchup c;
                ck_assert_int_eq(catchup_decide(&sim->job, sim->next_sec - 1, now * SEC + 1000, &c), 0);
                sim->job.high_water_sec = c.high_water_sec;
                sim->next_sec = c.next_sec;
                if (c.run) {
                        ck_assert_uint_lt(sim->n_runs, 64);
                        sim->runs[sim->n_runs++] = c.scheduled_sec;
                }
        }
}

START_TEST(clock_wandering_back_and_forth_runs_no_instant_twice)
{
        struct schedule *schedule = NULL;
        ck_assert_int_eq(schedule_parse("*/10 * * * * *", cache, &schedule, NULL, 0), 0);
        int64_t t0 = iso("2026-01-15T12:00:00+00:00");
        struct simulation sim = { .job = { .schedule = schedule, .high_water_sec = t0 - 1, .persistent = false },
                                  .next_sec = t0 };
        simulate_until(&sim, t0, t0 + 35);        /* 12:00:00, :10, :20, :30 */
        simulate_until(&sim, t0 - 20, t0 + 45);   /* stepped back 55 s: only :40 is new */
        simulate_until(&sim, t0 + 50, t0 + 55);   /* forward 5 s: :50 */
        simulate_until(&sim, t0 + 200, t0 + 200); /* forward 145 s, not persistent: skipped */
        simulate_until(&sim, t0 + 100, t0 + 215); /* back 100 s: only :03:30 is new */
        schedule_free(schedule);
        int64_t want[] = { t0, t0 + 10, t0 + 20, t0 + 30, t0 + 40, t0 + 50, t0 + 210 };
        ck_assert_uint_eq(sim.n_runs, sizeof(want) / sizeof(want[0]));
        for (size_t i = 0; i < sim.n_runs; i++) {
                ck_assert_int_eq(sim.runs[i], want[i]);
                for (size_t j = 0; j < i; j++)
                        ck_assert_int_ne(sim.runs[i], sim.runs[j]);
        }
}
END_TEST

static Suite *catchup_suite(void)
{
        Suite *s = suite_create("catchup");
        TCase *tc = tcase_create("decide");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_loop_test(tc, decides_each_scenario, 0, (int)(sizeof(scenarios) / sizeof(scenarios[0])));
        tcase_add_test(tc, too_many_missed_instants_still_run_once);
        tcase_add_test(tc, clock_wandering_back_and_forth_runs_no_instant_twice);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(catchup_suite)
