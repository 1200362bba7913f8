/* test-clock-now.c — clock_now_usec() (clock.h) agrees with the clock it reads. */
#include <stdint.h>
#include <time.h>

#include "harness/harness.h"
#include "shared/clock.h"

/* Between two readings of CLOCK taken around it, in µs. */
static void assert_between_readings(clockid_t clock)
{
        struct timespec before, after;
        clock_gettime(clock, &before);
        uint64_t now = clock_now_usec(clock);
        clock_gettime(clock, &after);
        uint64_t lo = (uint64_t)before.tv_sec * 1000000 + (uint64_t)before.tv_nsec / 1000;
        uint64_t hi = (uint64_t)after.tv_sec * 1000000 + (uint64_t)after.tv_nsec / 1000;
        ck_assert_uint_ge(now, lo);
        ck_assert_uint_le(now, hi);
}

START_TEST(realtime_is_microseconds_since_the_epoch) { assert_between_readings(CLOCK_REALTIME); }
END_TEST

START_TEST(monotonic_is_microseconds_since_boot) { assert_between_readings(CLOCK_MONOTONIC); }
END_TEST

static Suite *clock_suite(void)
{
        Suite *s = suite_create("clock");
        TCase *tc = tcase_create("now");
        tcase_add_test(tc, realtime_is_microseconds_since_the_epoch);
        tcase_add_test(tc, monotonic_is_microseconds_since_boot);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(clock_suite)
