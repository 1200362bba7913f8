/* test-timespan.c — systemd span syntax. */
#include <errno.h>
#include <stdint.h>

#include "harness/harness.h"
#include "core/timespan.h"

static uint64_t parse_ok(const char *text)
{
        uint64_t usec = 0;
        int r = timespan_parse(text, &usec);
        ck_assert_msg(r == 0, "'%s' should parse, got %d", text, r);
        return usec;
}

static const struct {
        const char *text;
        uint64_t usec;
} good[] = {
        { "90s", 90 * USEC_PER_SEC },
        { "90", 90 * USEC_PER_SEC },
        { "15m", 900 * USEC_PER_SEC },
        { "15min", 900 * USEC_PER_SEC },
        { "2h 30min", 9000 * USEC_PER_SEC },
        { "2h30min", 9000 * USEC_PER_SEC },
        { "1d", 86400 * USEC_PER_SEC },
        { "1 day", 86400 * USEC_PER_SEC },
        { "500ms", 500 * USEC_PER_MSEC },
        { "1.5h", 5400 * USEC_PER_SEC },
        { " 10 s ", 10 * USEC_PER_SEC },
        { "1w", 604800 * USEC_PER_SEC },
        { "3 hours 5 seconds", 10805 * USEC_PER_SEC },
        { "7us", 7 },
        { "0", 0 },
};

START_TEST(parses_spans) { ck_assert_uint_eq(parse_ok(good[_i].text), good[_i].usec); }
END_TEST

static const char *const bad[] = { "", "   ", "h", "10 parsecs", "-5s", "1.h", "5s x", "1e3" };

START_TEST(rejects_non_spans)
{
        uint64_t usec = 42;
        ck_assert_int_eq(timespan_parse(bad[_i], &usec), -EINVAL);
        ck_assert_uint_eq(usec, 42);
}
END_TEST

START_TEST(rejects_overflow)
{
        uint64_t usec;
        ck_assert_int_eq(timespan_parse("99999999999999999999", &usec), -ERANGE);
        ck_assert_int_eq(timespan_parse("999999999999y", &usec), -ERANGE);
        /* Fits uint64_t, but not an instant plus it in int64_t microseconds. */
        usec = 42;
        ck_assert_int_eq(timespan_parse("584542y", &usec), -ERANGE);
        ck_assert_int_eq(timespan_parse("146000y 1000y", &usec), -ERANGE);
        ck_assert_uint_eq(usec, 42);
        ck_assert_int_eq(timespan_parse("100000y", &usec), 0);
        ck_assert_uint_le(usec, TIMESPAN_MAX_USEC);
}
END_TEST

START_TEST(formats_round_trip)
{
        char buf[64];
        ck_assert_str_eq(timespan_format(9000 * USEC_PER_SEC, buf, sizeof(buf)), "2h 30min");
        ck_assert_str_eq(timespan_format(0, buf, sizeof(buf)), "0");
        ck_assert_str_eq(timespan_format(90061 * USEC_PER_SEC + 5000, buf, sizeof(buf)), "1d 1h 1min 1s 5ms");
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                timespan_format(good[i].usec, buf, sizeof(buf));
                ck_assert_uint_eq(parse_ok(buf), good[i].usec);
        }
}
END_TEST

static Suite *timespan_suite(void)
{
        Suite *s = suite_create("timespan");
        TCase *tc = tcase_create("parse");
        tcase_add_loop_test(tc, parses_spans, 0, sizeof(good) / sizeof(good[0]));
        tcase_add_loop_test(tc, rejects_non_spans, 0, sizeof(bad) / sizeof(bad[0]));
        tcase_add_test(tc, rejects_overflow);
        tcase_add_test(tc, formats_round_trip);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(timespan_suite)
