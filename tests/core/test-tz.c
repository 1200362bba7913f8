/* test-tz.c — TZif zones, POSIX footer rules, civil time, the zone cache.
 *
 * Expected instants come from zdump(8) on tzdata 2025b; the differential
 * cases compare with glibc's localtime_r() (tests may set TZ; tz.c never). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"
#include "core/tz.h"

/* For assertions in loops: Check's ck_assert* records every passing
 * assertion's location with a write to the parent, which would dominate. */
#define expect(cond, ...)                          \
        do {                                       \
                if (!(cond))                       \
                        ck_abort_msg(__VA_ARGS__); \
        } while (0)

#define H 3600
#define M 60

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

static const struct tz *zone(const char *name)
{
        const struct tz *z = NULL;
        int r = tz_cache_get(cache, name, &z);
        ck_assert_msg(r == 0, "zone %s: %s", name, strerror(-r));
        ck_assert_ptr_nonnull(z);
        return z;
}

/* Seconds since the epoch of a UTC civil time, computed independently of tz.c. */
static int64_t utc(int year, int month, int day, int hour, int minute, int second)
{
        struct tm tm = { .tm_year = year - 1900,
                         .tm_mon = month - 1,
                         .tm_mday = day,
                         .tm_hour = hour,
                         .tm_min = minute,
                         .tm_sec = second };
        return (int64_t)timegm(&tm);
}

static void assert_civil(const struct tz *z, int64_t t, int64_t year, int month, int day, int hour, int minute,
                         int second, int32_t offset, bool dst)
{
        struct tz_civil c;
        tz_to_civil(z, t, &c);
        ck_assert_msg(c.year == year && c.month == month && c.day == day && c.hour == hour && c.minute == minute &&
                              c.second == second && c.offset == offset && c.is_dst == dst,
                      "%s @%lld: got %lld-%02d-%02d %02d:%02d:%02d off=%d dst=%d, want %lld-%02d-%02d "
                      "%02d:%02d:%02d off=%d dst=%d",
                      tz_name(z), (long long)t, (long long)c.year, c.month, c.day, c.hour, c.minute, c.second, c.offset,
                      c.is_dst, (long long)year, month, day, hour, minute, second, offset, dst);
}

/* A transition at T from offset BEFORE to AFTER, seen from both sides. */
static void assert_transition(const struct tz *z, int64_t t, int32_t before, int32_t after, bool dst_after)
{
        struct tz_span s;
        tz_span_at(z, t - 1, &s);
        ck_assert_msg(s.end == t && s.offset == before && s.next_offset == after,
                      "%s before %lld: end %lld off %d next %d", tz_name(z), (long long)t, (long long)s.end, s.offset,
                      s.next_offset);
        ck_assert(s.start < t - 1 || s.start == t - 1);
        tz_span_at(z, t, &s);
        ck_assert_msg(s.start == t && s.offset == after && s.prev_offset == before && s.is_dst == dst_after,
                      "%s at %lld: start %lld off %d prev %d dst %d", tz_name(z), (long long)t, (long long)s.start,
                      s.offset, s.prev_offset, s.is_dst);
        ck_assert_int_eq(tz_offset_at(z, t - 1), before);
        ck_assert_int_eq(tz_offset_at(z, t), after);
}

static int from_civil(const struct tz *z, int64_t year, int month, int day, int hour, int minute, int second,
                      int64_t *first, int64_t *second_out)
{
        struct tz_civil c = {
                .year = year, .month = month, .day = day, .hour = hour, .minute = minute, .second = second
        };
        return tz_from_civil(z, &c, first, second_out);
}

static void compare_with_glibc(const struct tz *z, const char *name, int64_t from, int64_t to, int64_t step);

/* ---- calendar ----------------------------------------------------------- */

START_TEST(days_from_civil_matches_timegm)
{
        for (int year = 1600; year <= 2500; year += 7)
                for (int month = 1; month <= 12; month++) {
                        int day = 1 + (year + month) % tz_days_in_month(year, month);
                        expect(tz_days_from_civil(year, month, day) * 86400 == utc(year, month, day, 0, 0, 0),
                               "%d-%d-%d", year, month, day);
                }
        ck_assert_int_eq(tz_days_from_civil(1970, 1, 1), 0);
        ck_assert_int_eq(tz_days_from_civil(2000, 3, 1), 11017);
        ck_assert_int_eq(tz_days_from_civil(0, 1, 1), -719528);
}
END_TEST

START_TEST(civil_from_days_round_trips)
{
        for (int64_t days = -3000000; days <= 3000000; days += 997) {
                int64_t y;
                int m, d;
                tz_civil_from_days(days, &y, &m, &d);
                expect(m >= 1 && m <= 12 && d >= 1 && d <= tz_days_in_month(y, m), "day %lld: %lld-%d-%d",
                       (long long)days, (long long)y, m, d);
                expect(tz_days_from_civil(y, m, d) == days, "day %lld does not round-trip", (long long)days);
        }
}
END_TEST

START_TEST(calendar_extremes)
{
        int64_t y;
        int m, d;
        /* Day counts at the ends of int64 still give a valid date. */
        tz_civil_from_days(INT64_MAX / 86400, &y, &m, &d);
        ck_assert(y > 290000000000LL && m >= 1 && m <= 12 && d >= 1 && d <= 31);
        ck_assert_int_eq(tz_days_from_civil(y, m, d), INT64_MAX / 86400);
        tz_civil_from_days(INT64_MIN / 86400, &y, &m, &d);
        ck_assert(y < -290000000000LL);
        ck_assert_int_eq(tz_days_from_civil(y, m, d), INT64_MIN / 86400);
        tz_civil_from_days(INT64_MAX, &y, &m, &d);
        ck_assert(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        ck_assert_int_eq(tz_days_from_civil(y, m, d), INT64_MAX);
        tz_civil_from_days(INT64_MIN, &y, &m, &d);
        ck_assert_int_eq(tz_days_from_civil(y, m, d), INT64_MIN);
        /* Years whose day count does not fit saturate. */
        ck_assert_int_eq(tz_days_from_civil(INT64_MAX, 12, 31), INT64_MAX);
        ck_assert_int_eq(tz_days_from_civil(INT64_MIN, 1, 1), INT64_MIN);
        /* Months and days out of range carry. */
        ck_assert_int_eq(tz_days_from_civil(2026, 13, 1), tz_days_from_civil(2027, 1, 1));
        ck_assert_int_eq(tz_days_from_civil(2026, 0, 1), tz_days_from_civil(2025, 12, 1));
        ck_assert_int_eq(tz_days_from_civil(2024, 3, 0), tz_days_from_civil(2024, 2, 29));
}
END_TEST

START_TEST(leap_years)
{
        ck_assert(tz_is_leap_year(2024));
        ck_assert(!tz_is_leap_year(2100));
        ck_assert(tz_is_leap_year(2000));
        ck_assert(tz_is_leap_year(2400));
        ck_assert(!tz_is_leap_year(2026));
        ck_assert(tz_is_leap_year(0));
        ck_assert(tz_is_leap_year(-4));
        ck_assert(!tz_is_leap_year(-100));
        ck_assert_int_eq(tz_days_in_month(2024, 2), 29);
        ck_assert_int_eq(tz_days_in_month(2100, 2), 28);
        ck_assert_int_eq(tz_days_in_month(2026, 4), 30);
        ck_assert_int_eq(tz_days_in_month(2026, 12), 31);
        ck_assert_int_eq(tz_days_in_month(2026, 13), 0);
}
END_TEST

/* ---- transitions ---------------------------------------------------------- */

START_TEST(berlin_2026)
{
        const struct tz *z = zone("Europe/Berlin");
        ck_assert_str_eq(tz_name(z), "Europe/Berlin");
        assert_transition(z, utc(2026, 3, 29, 1, 0, 0), 1 * H, 2 * H, true);
        assert_transition(z, utc(2026, 10, 25, 1, 0, 0), 2 * H, 1 * H, false);
        assert_civil(z, utc(2026, 3, 29, 0, 59, 59), 2026, 3, 29, 1, 59, 59, H, false);
        assert_civil(z, utc(2026, 3, 29, 1, 0, 0), 2026, 3, 29, 3, 0, 0, 2 * H, true);
        assert_civil(z, utc(2026, 10, 25, 0, 59, 59), 2026, 10, 25, 2, 59, 59, 2 * H, true);
        assert_civil(z, utc(2026, 10, 25, 1, 0, 0), 2026, 10, 25, 2, 0, 0, H, false);
}
END_TEST

START_TEST(new_york_2026)
{
        const struct tz *z = zone("America/New_York");
        assert_transition(z, utc(2026, 3, 8, 7, 0, 0), -5 * H, -4 * H, true);
        assert_transition(z, utc(2026, 11, 1, 6, 0, 0), -4 * H, -5 * H, false);
        assert_civil(z, utc(2026, 3, 8, 7, 0, 0), 2026, 3, 8, 3, 0, 0, -4 * H, true);
        assert_civil(z, utc(2026, 11, 1, 6, 0, 0), 2026, 11, 1, 1, 0, 0, -5 * H, false);
        struct tz_civil c;
        tz_to_civil(z, utc(2026, 11, 1, 6, 0, 0), &c);
        ck_assert_int_eq(c.weekday, 0); /* a Sunday */
}
END_TEST

START_TEST(lord_howe_half_hour_dst)
{
        const struct tz *z = zone("Australia/Lord_Howe");
        assert_transition(z, utc(2026, 4, 4, 15, 0, 0), 11 * H, 10 * H + 30 * M, false);
        assert_transition(z, utc(2026, 10, 3, 15, 30, 0), 10 * H + 30 * M, 11 * H, true);
        assert_civil(z, utc(2026, 10, 3, 15, 30, 0), 2026, 10, 4, 2, 30, 0, 11 * H, true);
}
END_TEST

START_TEST(kathmandu_quarter_hour)
{
        const struct tz *z = zone("Asia/Kathmandu");
        assert_transition(z, utc(1985, 12, 31, 18, 30, 0), 5 * H + 30 * M, 5 * H + 45 * M, false);
        assert_civil(z, utc(2026, 6, 1, 0, 0, 0), 2026, 6, 1, 5, 45, 0, 5 * H + 45 * M, false);
        struct tz_span s;
        tz_span_at(z, utc(2026, 6, 1, 0, 0, 0), &s);
        ck_assert_int_eq(s.start, utc(1985, 12, 31, 18, 30, 0));
        ck_assert_int_eq(s.end, INT64_MAX);
        ck_assert_int_eq(s.next_offset, 5 * H + 45 * M);
}
END_TEST

START_TEST(chatham)
{
        const struct tz *z = zone("Pacific/Chatham");
        assert_transition(z, utc(2026, 4, 4, 14, 0, 0), 13 * H + 45 * M, 12 * H + 45 * M, false);
        assert_transition(z, utc(2026, 9, 26, 14, 0, 0), 12 * H + 45 * M, 13 * H + 45 * M, true);
        assert_civil(z, utc(2026, 9, 26, 14, 0, 0), 2026, 9, 27, 3, 45, 0, 13 * H + 45 * M, true);
}
END_TEST

START_TEST(berlin_1947_double_summer_time)
{
        const struct tz *z = zone("Europe/Berlin");
        assert_transition(z, utc(1947, 4, 6, 2, 0, 0), H, 2 * H, true);
        assert_transition(z, utc(1947, 5, 11, 1, 0, 0), 2 * H, 3 * H, true);
        assert_transition(z, utc(1947, 6, 29, 0, 0, 0), 3 * H, 2 * H, true);
        assert_transition(z, utc(1947, 10, 5, 1, 0, 0), 2 * H, H, false);
        assert_civil(z, utc(1947, 6, 1, 12, 0, 0), 1947, 6, 1, 15, 0, 0, 3 * H, true);
}
END_TEST

START_TEST(sao_paulo_dst_abolished)
{
        const struct tz *z = zone("America/Sao_Paulo");
        assert_transition(z, utc(2018, 11, 4, 3, 0, 0), -3 * H, -2 * H, true);
        assert_transition(z, utc(2019, 2, 17, 2, 0, 0), -2 * H, -3 * H, false);
        /* No DST in the southern summer of 2019/20 or ever after. */
        struct tz_span s;
        tz_span_at(z, utc(2019, 12, 1, 0, 0, 0), &s);
        ck_assert_int_eq(s.start, utc(2019, 2, 17, 2, 0, 0));
        ck_assert_int_eq(s.end, INT64_MAX);
        ck_assert_int_eq(s.offset, -3 * H);
        ck_assert(!s.is_dst);
        ck_assert_int_eq(tz_offset_at(z, utc(2300, 1, 1, 0, 0, 0)), -3 * H);
}
END_TEST

START_TEST(zones_without_dst)
{
        struct tz_span s;
        const struct tz *z = zone("UTC");
        tz_span_at(z, 0, &s);
        ck_assert(s.start == INT64_MIN && s.end == INT64_MAX && s.offset == 0 && !s.is_dst);
        assert_civil(z, 0, 1970, 1, 1, 0, 0, 0, 0, false);
        assert_civil(z, -1, 1969, 12, 31, 23, 59, 59, 0, false);

        z = zone("Etc/GMT+5");
        tz_span_at(z, utc(2026, 1, 1, 0, 0, 0), &s);
        ck_assert(s.start == INT64_MIN && s.end == INT64_MAX && s.offset == -5 * H && !s.is_dst);
        ck_assert_int_eq(s.prev_offset, -5 * H);
        ck_assert_int_eq(s.next_offset, -5 * H);
        assert_civil(z, utc(2026, 1, 1, 0, 0, 0), 2025, 12, 31, 19, 0, 0, -5 * H, false);

        z = zone("Asia/Tokyo");
        tz_span_at(z, utc(2026, 7, 1, 0, 0, 0), &s);
        ck_assert(s.end == INT64_MAX && s.offset == 9 * H && !s.is_dst);
}
END_TEST

START_TEST(apia_skips_a_day)
{
        const struct tz *z = zone("Pacific/Apia");
        int64_t t = utc(2011, 12, 30, 10, 0, 0);
        assert_transition(z, t, -10 * H, 14 * H, true);
        assert_civil(z, t - 1, 2011, 12, 29, 23, 59, 59, -10 * H, true);
        assert_civil(z, t, 2011, 12, 31, 0, 0, 0, 14 * H, true);
        /* All of 30 December never happened there. */
        int64_t a = 0;
        ck_assert_int_eq(from_civil(z, 2011, 12, 30, 0, 0, 0, &a, NULL), 0);
        ck_assert_int_eq(a, t);
        ck_assert_int_eq(from_civil(z, 2011, 12, 30, 23, 59, 59, &a, NULL), 0);
        ck_assert_int_eq(a, t);
        ck_assert_int_eq(from_civil(z, 2011, 12, 31, 0, 0, 0, &a, NULL), 1);
        ck_assert_int_eq(a, t);
}
END_TEST

/* Moscow 2011: the offset changed, the DST flag did not ("permanent
 * summer time" was declared standard time). */
START_TEST(moscow_2011_offset_only)
{
        const struct tz *z = zone("Europe/Moscow");
        assert_transition(z, utc(2011, 3, 26, 23, 0, 0), 3 * H, 4 * H, false);
        assert_civil(z, utc(2012, 1, 1, 0, 0, 0), 2012, 1, 1, 4, 0, 0, 4 * H, false);
        assert_transition(z, utc(2014, 10, 25, 22, 0, 0), 4 * H, 3 * H, false);
}
END_TEST

/* Ireland's standard time is summer time: winter is "negative DST". */
START_TEST(dublin_negative_dst)
{
        const struct tz *z = zone("Europe/Dublin");
        assert_civil(z, utc(2026, 1, 15, 12, 0, 0), 2026, 1, 15, 12, 0, 0, 0, true);
        assert_civil(z, utc(2026, 7, 15, 12, 0, 0), 2026, 7, 15, 13, 0, 0, H, false);
        assert_transition(z, utc(2026, 3, 29, 1, 0, 0), 0, H, false);
        assert_transition(z, utc(2026, 10, 25, 1, 0, 0), H, 0, true);
        assert_transition(z, utc(2100, 3, 28, 1, 0, 0), 0, H, false);
        int64_t a = 0, b = 0;
        ck_assert_int_eq(from_civil(z, 2026, 3, 29, 1, 30, 0, &a, NULL), 0);
        ck_assert_int_eq(a, utc(2026, 3, 29, 1, 0, 0));
        ck_assert_int_eq(from_civil(z, 2026, 10, 25, 1, 30, 0, &a, &b), 2);
        ck_assert_int_eq(a, utc(2026, 10, 25, 0, 30, 0));
        ck_assert_int_eq(b, utc(2026, 10, 25, 1, 30, 0));
}
END_TEST

/* Far beyond the table (fat files end in 2037): only the footer knows. */
START_TEST(far_future_via_footer)
{
        const struct tz *z = zone("Europe/Berlin");
        /* Last Sunday of March at 01:00 UTC. */
        assert_transition(z, utc(2100, 3, 28, 1, 0, 0), H, 2 * H, true);
        assert_transition(z, utc(2100, 10, 31, 1, 0, 0), 2 * H, H, false);
        assert_transition(z, utc(2400, 3, 26, 1, 0, 0), H, 2 * H, true);
        assert_transition(z, utc(9999, 3, 28, 1, 0, 0), H, 2 * H, true);
        assert_transition(z, utc(9999, 10, 31, 1, 0, 0), 2 * H, H, false);
        assert_civil(z, utc(9999, 12, 31, 22, 59, 59), 9999, 12, 31, 23, 59, 59, H, false);

        z = zone("America/New_York");
        /* Second Sunday of March, first Sunday of November. */
        assert_transition(z, utc(2100, 3, 14, 7, 0, 0), -5 * H, -4 * H, true);
        assert_transition(z, utc(2100, 11, 7, 6, 0, 0), -4 * H, -5 * H, false);
        assert_transition(z, utc(9999, 3, 14, 7, 0, 0), -5 * H, -4 * H, true);

        z = zone("Australia/Lord_Howe");
        /* 2400-10-01 and 2401-04-01 are Sundays. */
        assert_transition(z, utc(2400, 9, 30, 15, 30, 0), 10 * H + 30 * M, 11 * H, true);

        /* The span that straddles the year's end in the southern hemisphere. */
        struct tz_span s;
        tz_span_at(z, utc(2401, 1, 1, 0, 0, 0), &s);
        ck_assert_int_eq(s.start, utc(2400, 9, 30, 15, 30, 0));
        ck_assert_int_eq(s.end, utc(2401, 3, 31, 15, 0, 0));
}
END_TEST

/* The footer's year arithmetic against the general calendar helpers,
 * out to where years have twelve digits. */
START_TEST(footer_far_years)
{
        const struct tz *z = zone("Europe/Berlin");
        static const int64_t years[] = {
                2999, 3000, 12345, 100000, 1000007, 1000000003, 99999999999LL, 290000000000LL
        };
        for (size_t i = 0; i < sizeof(years) / sizeof(years[0]); i++) {
                int64_t mar = tz_days_from_civil(years[i], 3, 31);
                mar -= ((mar + 4) % 7 + 7) % 7;
                int64_t oct = tz_days_from_civil(years[i], 10, 31);
                oct -= ((oct + 4) % 7 + 7) % 7;
                assert_transition(z, mar * 86400 + H, H, 2 * H, true);
                assert_transition(z, oct * 86400 + H, 2 * H, H, false);
                struct tz_civil c;
                tz_to_civil(z, mar * 86400 + H, &c);
                ck_assert_int_eq(c.year, years[i]);
                ck_assert_int_eq(c.month, 3);
                ck_assert_int_eq(c.hour, 3);
                ck_assert_int_eq(c.weekday, 0);
        }
}
END_TEST

/* The hand-over from the last table entry to the footer (2037 in fat files). */
START_TEST(table_to_footer_boundary)
{
        const struct tz *z = zone("Europe/Berlin");
        for (int year = 2035; year <= 2040; year++) {
                /* Last Sundays: March and October. */
                int64_t mar = tz_days_from_civil(year, 3, 31);
                mar -= (mar + 4) % 7;
                int64_t oct = tz_days_from_civil(year, 10, 31);
                oct -= (oct + 4) % 7;
                assert_transition(z, mar * 86400 + H, H, 2 * H, true);
                assert_transition(z, oct * 86400 + H, 2 * H, H, false);
        }
}
END_TEST

/* ---- civil to UTC ----------------------------------------------------------- */

START_TEST(from_civil_normal)
{
        const struct tz *z = zone("Europe/Berlin");
        int64_t a = 0, b = 0;
        ck_assert_int_eq(from_civil(z, 2026, 7, 1, 12, 0, 0, &a, &b), 1);
        ck_assert_int_eq(a, utc(2026, 7, 1, 10, 0, 0));
        ck_assert_int_eq(from_civil(z, 2026, 1, 1, 0, 0, 0, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2025, 12, 31, 23, 0, 0));
        ck_assert_int_eq(from_civil(zone("UTC"), 2026, 1, 1, 0, 0, 0, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2026, 1, 1, 0, 0, 0));
        /* The edges of the gap and of the overlap are ordinary times. */
        ck_assert_int_eq(from_civil(z, 2026, 3, 29, 1, 59, 59, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2026, 3, 29, 0, 59, 59));
        ck_assert_int_eq(from_civil(z, 2026, 3, 29, 3, 0, 0, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2026, 3, 29, 1, 0, 0));
        ck_assert_int_eq(from_civil(z, 2026, 10, 25, 1, 59, 59, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2026, 10, 24, 23, 59, 59));
        ck_assert_int_eq(from_civil(z, 2026, 10, 25, 3, 0, 0, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2026, 10, 25, 2, 0, 0));
}
END_TEST

static const struct gap_case {
        const char *zone;
        int year, month, day, hour, minute;
        int64_t transition; /* filled from the utc() fields below */
        int ty, tmo, td, th, tmi;
} gaps[] = {
        { "Europe/Berlin", 2026, 3, 29, 2, 0, 0, 2026, 3, 29, 1, 0 },
        { "Europe/Berlin", 2026, 3, 29, 2, 30, 0, 2026, 3, 29, 1, 0 },
        { "Europe/Berlin", 2026, 3, 29, 2, 59, 0, 2026, 3, 29, 1, 0 },
        { "America/New_York", 2026, 3, 8, 2, 0, 0, 2026, 3, 8, 7, 0 },
        { "America/New_York", 2026, 3, 8, 2, 30, 0, 2026, 3, 8, 7, 0 },
        { "Australia/Lord_Howe", 2026, 10, 4, 2, 0, 0, 2026, 10, 3, 15, 30 },
        { "Australia/Lord_Howe", 2026, 10, 4, 2, 29, 0, 2026, 10, 3, 15, 30 },
        { "Pacific/Chatham", 2026, 9, 27, 2, 45, 0, 2026, 9, 26, 14, 0 },
        { "Pacific/Chatham", 2026, 9, 27, 3, 44, 0, 2026, 9, 26, 14, 0 },
        { "Asia/Kathmandu", 1986, 1, 1, 0, 10, 0, 1985, 12, 31, 18, 30 },
        { "Europe/Berlin", 2100, 3, 28, 2, 15, 0, 2100, 3, 28, 1, 0 },
        { "America/New_York", 9999, 3, 14, 2, 1, 0, 9999, 3, 14, 7, 0 },
        { "Europe/Berlin", 1947, 5, 11, 3, 30, 0, 1947, 5, 11, 1, 0 },
};

START_TEST(from_civil_gap)
{
        const struct gap_case *g = &gaps[_i];
        int64_t a = 0, b = 0;
        ck_assert_int_eq(from_civil(zone(g->zone), g->year, g->month, g->day, g->hour, g->minute, 0, &a, &b), 0);
        ck_assert_int_eq(a, utc(g->ty, g->tmo, g->td, g->th, g->tmi, 0));
}
END_TEST

static const struct overlap_case {
        const char *zone;
        int year, month, day, hour, minute;
        int fy, fmo, fd, fh, fmi; /* earlier instant, UTC */
        int32_t apart;            /* seconds to the later one */
} overlaps[] = {
        { "Europe/Berlin", 2026, 10, 25, 2, 0, 2026, 10, 25, 0, 0, H },
        { "Europe/Berlin", 2026, 10, 25, 2, 30, 2026, 10, 25, 0, 30, H },
        { "Europe/Berlin", 2026, 10, 25, 2, 59, 2026, 10, 25, 0, 59, H },
        { "America/New_York", 2026, 11, 1, 1, 0, 2026, 11, 1, 5, 0, H },
        { "America/New_York", 2026, 11, 1, 1, 45, 2026, 11, 1, 5, 45, H },
        { "Australia/Lord_Howe", 2026, 4, 5, 1, 30, 2026, 4, 4, 14, 30, 30 * M },
        { "Australia/Lord_Howe", 2026, 4, 5, 1, 59, 2026, 4, 4, 14, 59, 30 * M },
        { "Pacific/Chatham", 2026, 4, 5, 3, 0, 2026, 4, 4, 13, 15, H },
        { "Europe/Berlin", 2400, 10, 29, 2, 30, 2400, 10, 29, 0, 30, H },
        { "Europe/Berlin", 1947, 6, 29, 2, 30, 1947, 6, 28, 23, 30, H },
};

START_TEST(from_civil_overlap)
{
        const struct overlap_case *o = &overlaps[_i];
        int64_t a = 0, b = 0;
        ck_assert_int_eq(from_civil(zone(o->zone), o->year, o->month, o->day, o->hour, o->minute, 0, &a, &b), 2);
        int64_t want = utc(o->fy, o->fmo, o->fd, o->fh, o->fmi, 0);
        ck_assert_int_eq(a, want);
        ck_assert_int_eq(b, want + o->apart);
        /* Both read back as the asked-for local time. */
        for (int k = 0; k < 2; k++) {
                struct tz_civil c;
                tz_to_civil(zone(o->zone), k == 0 ? a : b, &c);
                ck_assert(c.year == o->year && c.month == o->month && c.day == o->day && c.hour == o->hour &&
                          c.minute == o->minute && c.second == 0);
        }
}
END_TEST

/* Fields out of range count as the seconds they add up to. */
START_TEST(from_civil_unnormalised_fields)
{
        const struct tz *z = zone("Europe/Berlin");
        int64_t a = 0, b = 0;
        ck_assert_int_eq(from_civil(z, 2026, 3, 28, 24, 0, 0, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2026, 3, 28, 23, 0, 0));
        /* 2026-03-28 26:30 is 2026-03-29 02:30: in the gap. */
        ck_assert_int_eq(from_civil(z, 2026, 3, 28, 26, 30, 0, &a, NULL), 0);
        ck_assert_int_eq(a, utc(2026, 3, 29, 1, 0, 0));
        ck_assert_int_eq(from_civil(z, 2026, 10, 24, 26, 30, 0, &a, &b), 2);
        ck_assert_int_eq(a, utc(2026, 10, 25, 0, 30, 0));
        ck_assert_int_eq(from_civil(z, 2026, 13, 1, 0, 0, 0, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2026, 12, 31, 23, 0, 0));
        ck_assert_int_eq(from_civil(z, 2026, 2, 29, 0, 0, -1, &a, NULL), 1);
        ck_assert_int_eq(a, utc(2026, 2, 28, 22, 59, 59));
        /* Far outside any calendar: saturates, never overflows. */
        ck_assert_int_ge(from_civil(z, INT64_MAX, 12, 31, 23, 59, 59, &a, NULL), 0);
        ck_assert_int_ge(from_civil(z, INT64_MIN, 1, 1, 0, 0, 0, &a, NULL), 0);
}
END_TEST

/* Every instant maps to a local time that maps back to (among others) it. */
START_TEST(from_civil_round_trips)
{
        static const char *const names[] = { "Europe/Berlin",   "America/New_York", "Australia/Lord_Howe",
                                             "Pacific/Chatham", "Asia/Kathmandu",   "America/Sao_Paulo",
                                             "Europe/Dublin" };
        for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
                const struct tz *z = zone(names[n]);
                for (int64_t t = utc(1900, 1, 1, 0, 0, 0); t < utc(2200, 1, 1, 0, 0, 0); t += 86400 * 9 + 3607) {
                        struct tz_civil c;
                        tz_to_civil(z, t, &c);
                        int64_t a, b;
                        int r = tz_from_civil(z, &c, &a, &b);
                        expect(r == 1 || r == 2, "%s @%lld: %d", names[n], (long long)t, r);
                        expect(a == t || (r == 2 && b == t), "%s @%lld: got %lld/%lld", names[n], (long long)t,
                               (long long)a, (long long)b);
                }
        }
}
END_TEST

/* ---- the cache and loading ---------------------------------------------------- */

START_TEST(loads_each_zone_once)
{
        const struct tz *a = zone("Europe/Berlin"), *b = zone("Europe/Berlin"), *c = zone("Europe/Paris");
        ck_assert_ptr_eq(a, b);
        ck_assert_ptr_ne(a, c);
        ck_assert_str_eq(tz_name(c), "Europe/Paris");
}
END_TEST

static const char *const invalid_names[] = {
        "",
        "/etc/passwd",
        "../etc/passwd",
        "Europe/../../etc/passwd",
        "Europe/./Berlin",
        ".",
        "..",
        "Europe//Berlin",
        "Europe/Berlin/",
        "Europe/Ber lin",
        "Europe\\Berlin",
        "Europe/Berlin\n",
        "Zürich",
        "a.b",
        "Europe/Berlin;",
        "*",
};

START_TEST(rejects_invalid_names)
{
        const struct tz *z = (const struct tz *)&z;
        ck_assert_int_eq(tz_cache_get(cache, invalid_names[_i], &z), -EINVAL);
        ck_assert_ptr_eq(z, (const struct tz *)&z);
        ck_assert(!tz_name_is_valid(invalid_names[_i]));
}
END_TEST

START_TEST(accepts_valid_names)
{
        ck_assert(tz_name_is_valid("Europe/Berlin"));
        ck_assert(tz_name_is_valid("Etc/GMT+5"));
        ck_assert(tz_name_is_valid("Etc/GMT-14"));
        ck_assert(tz_name_is_valid("America/Argentina/Buenos_Aires"));
        ck_assert(tz_name_is_valid("UTC"));
        zone("Etc/GMT-14");
        zone("America/Argentina/Buenos_Aires");
        /* Longer than any zone name can be (NAME_MAX). */
        char long_name[300];
        memset(long_name, 'A', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        const struct tz *z;
        ck_assert(!tz_name_is_valid(long_name));
        ck_assert_int_eq(tz_cache_get(cache, long_name, &z), -EINVAL);
        ck_assert_int_eq(tz_cache_get(cache, NULL, &z), -EINVAL);
        zone("posix/Europe/Berlin");
}
END_TEST

START_TEST(missing_zones)
{
        const struct tz *z;
        ck_assert_int_eq(tz_cache_get(cache, "Mars/Olympus_Mons", &z), -ENOENT);
        ck_assert_int_eq(tz_cache_get(cache, "Europe", &z), -ENOENT);          /* a directory */
        ck_assert_int_eq(tz_cache_get(cache, "Europe/Berlin/x", &z), -ENOENT); /* below a file */
        /* Still missing on the second try, and the cache still works. */
        ck_assert_int_eq(tz_cache_get(cache, "Mars/Olympus_Mons", &z), -ENOENT);
        zone("Europe/Berlin");
}
END_TEST

START_TEST(utc_without_tzdata)
{
        char *dir = harness_tmpdir();
        struct tz_cache *empty = tz_cache_new(dir);
        const struct tz *z;
        ck_assert_int_eq(tz_cache_get(empty, "UTC", &z), 0);
        ck_assert_str_eq(tz_name(z), "UTC");
        ck_assert_int_eq(tz_offset_at(z, 1234567890), 0);
        ck_assert_int_eq(tz_cache_get(empty, "Europe/Berlin", &z), -ENOENT);
        tz_cache_free(empty);
        struct tz_cache *nowhere = tz_cache_new("/nonexistent-tickd-zoneinfo");
        ck_assert_int_eq(tz_cache_get(nowhere, "UTC", &z), 0);
        ck_assert_int_eq(tz_cache_get(nowhere, "Europe/Berlin", &z), -ENOENT);
        tz_cache_free(nowhere);
        harness_tmpdir_remove(dir);
}
END_TEST

/* ---- hand-made TZif files ------------------------------------------------------ */

struct tzif_builder {
        uint8_t buf[4096];
        size_t len;
};

static void put(struct tzif_builder *b, const void *p, size_t n)
{
        if (n == 0)
                return;
        ck_assert(b->len + n <= sizeof(b->buf));
        memcpy(b->buf + b->len, p, n);
        b->len += n;
}

static void put32(struct tzif_builder *b, uint32_t v)
{
        uint8_t p[4] = { v >> 24, v >> 16, v >> 8, v };
        put(b, p, 4);
}

static void put64(struct tzif_builder *b, int64_t v)
{
        put32(b, (uint32_t)((uint64_t)v >> 32));
        put32(b, (uint32_t)v);
}

struct tzif_type {
        int32_t offset;
        uint8_t dst;
};

/* A version-VERSION file with the given transitions and types, the same
 * data in both blocks (v1 times truncated), and FOOTER (NULL: none). */
static void tzif_build(struct tzif_builder *b, char version, const int64_t *times, const uint8_t *idx, size_t ntimes,
                       const struct tzif_type *types, size_t ntypes, const char *footer)
{
        b->len = 0;
        for (int pass = 0; pass < (version ? 2 : 1); pass++) {
                size_t tsize = pass == 0 ? 4 : 8;
                put(b, "TZif", 4);
                put(b, &version, 1);
                put(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 15);
                put32(b, 0);
                put32(b, 0);
                put32(b, 0);
                put32(b, (uint32_t)ntimes);
                put32(b, (uint32_t)ntypes);
                put32(b, 4);
                for (size_t i = 0; i < ntimes; i++) {
                        if (tsize == 4)
                                put32(b, (uint32_t)(int32_t)times[i]);
                        else
                                put64(b, times[i]);
                }
                put(b, idx, ntimes);
                for (size_t i = 0; i < ntypes; i++) {
                        put32(b, (uint32_t)types[i].offset);
                        uint8_t rest[2] = { types[i].dst, 0 };
                        put(b, rest, 2);
                }
                put(b, "ABC", 4);
        }
        if (version) {
                put(b, "\n", 1);
                if (footer)
                        put(b, footer, strlen(footer));
                put(b, "\n", 1);
        }
}

static void write_zone(const char *dir, const char *name, const void *data, size_t len)
{
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
        close(fd);
}

START_TEST(rejects_corrupt_files)
{
        char *dir = harness_tmpdir();
        struct tz_cache *c = tz_cache_new(dir);
        const struct tz *z;
        static const int64_t times[] = { 0, 1000 };
        static const uint8_t idx[] = { 1, 0 };
        static const struct tzif_type types[] = { { 0, 0 }, { 3600, 1 } };
        struct tzif_builder b;

        write_zone(dir, "Empty", "", 0);
        ck_assert_int_eq(tz_cache_get(c, "Empty", &z), -EBADMSG);
        write_zone(dir, "Text", "not a zone file at all, just some text\n", 39);
        ck_assert_int_eq(tz_cache_get(c, "Text", &z), -EBADMSG);

        tzif_build(&b, '2', times, idx, 2, types, 2, "UTC0");
        write_zone(dir, "Good", b.buf, b.len);
        ck_assert_int_eq(tz_cache_get(c, "Good", &z), 0);

        write_zone(dir, "Truncated", b.buf, b.len - 20);
        ck_assert_int_eq(tz_cache_get(c, "Truncated", &z), -EBADMSG);
        write_zone(dir, "Header", b.buf, 30);
        ck_assert_int_eq(tz_cache_get(c, "Header", &z), -EBADMSG);

        struct tzif_builder bad = b;
        bad.buf[0] = 'X';
        write_zone(dir, "Magic", bad.buf, bad.len);
        ck_assert_int_eq(tz_cache_get(c, "Magic", &z), -EBADMSG);

        static const uint8_t bad_idx[] = { 1, 7 };
        tzif_build(&bad, '2', times, bad_idx, 2, types, 2, "UTC0");
        write_zone(dir, "Index", bad.buf, bad.len);
        ck_assert_int_eq(tz_cache_get(c, "Index", &z), -EBADMSG);

        static const int64_t unordered[] = { 1000, 0 };
        tzif_build(&bad, '2', unordered, idx, 2, types, 2, "UTC0");
        write_zone(dir, "Order", bad.buf, bad.len);
        ck_assert_int_eq(tz_cache_get(c, "Order", &z), -EBADMSG);

        tzif_build(&bad, '2', times, idx, 2, types, 2, "CET-1CEST,M3.5.0,M13.5.0");
        write_zone(dir, "Footer", bad.buf, bad.len);
        ck_assert_int_eq(tz_cache_get(c, "Footer", &z), -EBADMSG);

        static const struct tzif_type huge[] = { { 0, 0 }, { 100000, 1 } };
        tzif_build(&bad, '2', times, idx, 2, huge, 2, NULL);
        write_zone(dir, "Offset", bad.buf, bad.len);
        ck_assert_int_eq(tz_cache_get(c, "Offset", &z), -EBADMSG);

        /* Footer without its closing newline. */
        tzif_build(&bad, '2', times, idx, 2, types, 2, "UTC0");
        write_zone(dir, "Newline", bad.buf, bad.len - 1);
        ck_assert_int_eq(tz_cache_get(c, "Newline", &z), -EBADMSG);

        tz_cache_free(c);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(reads_version_1_files)
{
        char *dir = harness_tmpdir();
        struct tz_cache *c = tz_cache_new(dir);
        const struct tz *z;
        static const int64_t times[] = { -100000, 2000000000 };
        static const uint8_t idx[] = { 1, 0 };
        static const struct tzif_type types[] = { { -3600, 0 }, { 7200, 1 } };
        struct tzif_builder b;
        tzif_build(&b, 0, times, idx, 2, types, 2, NULL);
        write_zone(dir, "Old", b.buf, b.len);
        ck_assert_int_eq(tz_cache_get(c, "Old", &z), 0);
        ck_assert_int_eq(tz_offset_at(z, -100001), -3600);
        assert_transition(z, -100000, -3600, 7200, true);
        assert_transition(z, 2000000000, 7200, -3600, false);
        ck_assert_int_eq(tz_offset_at(z, INT64_MAX), -3600);
        tz_cache_free(c);
        harness_tmpdir_remove(dir);
}
END_TEST

/* POSIX TZ forms the real tzdata rarely or never uses. */
static const struct footer_case {
        const char *footer;
        int64_t at; /* a transition the rule implies */
        int32_t before, after;
} footers[] = {
        /* Julian day without Feb 29: J60 is March 1 in 2028 too. */
        { "XST3XDT,J60/0,J300", 0, -3 * H, -2 * H },
        /* Zero-based day: 59 is March 1 in 2027, Feb 29 in 2028. */
        { "XST3XDT,59/0,300", 0, -3 * H, -2 * H },
        /* Negative and >24h times (RFC 8536 3.3.1). */
        { "<-03>3<-02>,M3.5.0/-2,M10.5.0/49", 0, -3 * H, -2 * H },
        /* Explicit DST offset of 30 minutes and quoted names. */
        { "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", 0, 10 * H + 30 * M, 11 * H },
        /* DST without rules: the US rules. */
        { "EST5EDT", 0, -5 * H, -4 * H },
};

static int64_t footer_expected(size_t i)
{
        switch (i) {
        case 0: return utc(2028, 3, 1, 3, 0, 0);
        case 1: return utc(2028, 2, 29, 3, 0, 0);
        case 2: return utc(2030, 3, 31, 1, 0, 0); /* Sun 31 March -02:00 at -03 */
        case 3: return utc(2030, 10, 5, 15, 30, 0);
        default: return utc(2030, 3, 10, 7, 0, 0);
        }
}

START_TEST(footer_rule_forms)
{
        char *dir = harness_tmpdir();
        struct tz_cache *c = tz_cache_new(dir);
        const struct tz *z;
        static const int64_t times[] = { 0 };
        static const uint8_t idx[] = { 0 };
        const struct footer_case *f = &footers[_i];
        struct tzif_type types[] = { { f->before, 0 } };
        struct tzif_builder b;
        tzif_build(&b, _i % 2 ? '4' : '3', times, idx, 1, types, 1, f->footer); /* v4 reads as v3 */
        write_zone(dir, "Rule", b.buf, b.len);
        ck_assert_int_eq(tz_cache_get(c, "Rule", &z), 0);
        assert_transition(z, footer_expected(_i), f->before, f->after, true);
        tz_cache_free(c);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(footer_dst_all_year)
{
        char *dir = harness_tmpdir();
        struct tz_cache *c = tz_cache_new(dir);
        const struct tz *z;
        static const int64_t times[] = { 0 };
        static const uint8_t idx[] = { 0 };
        static const struct tzif_type types[] = { { -4 * H, 1 } };
        struct tzif_builder b;
        tzif_build(&b, '3', times, idx, 1, types, 1, "EST5EDT,0/0,J365/25");
        write_zone(dir, "AllYear", b.buf, b.len);
        ck_assert_int_eq(tz_cache_get(c, "AllYear", &z), 0);
        struct tz_span s;
        tz_span_at(z, utc(2030, 1, 1, 4, 30, 0), &s);
        ck_assert_int_eq(s.offset, -4 * H);
        ck_assert(s.is_dst);
        ck_assert_int_eq(s.start, INT64_MIN);
        ck_assert_int_eq(s.end, INT64_MAX);
        tz_cache_free(c);
        harness_tmpdir_remove(dir);
}
END_TEST

/* Times shifted so far that one year's end falls after the next year's
 * start in some years only: no sensible reading, refused. */
START_TEST(rejects_interleaving_rules)
{
        static const char *const rules[] = {
                "AAA3BBB,M1.1.0,J365/120",
                "AAA3BBB,J3/-30,M12.5.0/160",
                "AAA3BBB,M12.5.0/167,M1.1.0/-100",
        };
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
                struct tzif_builder b;
                static const struct tzif_type types[] = { { -3 * H, 0 } };
                tzif_build(&b, '3', NULL, NULL, 0, types, 1, rules[i]);
                struct tz *z = NULL;
                ck_assert_int_eq(tz_new_from_tzif("Odd", b.buf, b.len, &z), -EBADMSG);
                ck_assert_ptr_null(z);
        }
        /* Each year's end passing the next year's start: DST all year. */
        struct tz *all = NULL;
        struct tzif_builder a;
        static const struct tzif_type dst_type[] = { { -2 * H, 1 } };
        tzif_build(&a, '3', NULL, NULL, 0, dst_type, 1, "AAA3BBB,J1/-167,J365/167");
        ck_assert_int_eq(tz_new_from_tzif("AllYear", a.buf, a.len, &all), 0);
        ck_assert_int_eq(tz_offset_at(all, utc(2031, 1, 4, 1, 0, 0)), -2 * H);
        ck_assert_int_eq(tz_offset_at(all, utc(2031, 7, 4, 1, 0, 0)), -2 * H);
        tz_free(all);

        /* A rule whose times cross into the neighbouring years but that
         * alternates every year is fine. */
        struct tzif_builder b;
        static const struct tzif_type types[] = { { -3 * H, 0 } };
        tzif_build(&b, '3', NULL, NULL, 0, types, 1, "AAA3BBB,M2.2.0/-167,M12.5.6/167");
        struct tz *z = NULL;
        ck_assert_int_eq(tz_new_from_tzif("Shifted", b.buf, b.len, &z), 0);
        ck_assert_str_eq(tz_name(z), "Shifted");
        /* 2030: the last Saturday of December is the 28th; +167h is
         * 2031-01-03 23:00 local DST (-2h). */
        assert_transition(z, utc(2031, 1, 4, 1, 0, 0), -2 * H, -3 * H, false);
        struct tz_span s;
        tz_span_at(z, utc(2031, 1, 2, 0, 0, 0), &s);
        ck_assert(s.is_dst);
        tz_free(z);
}
END_TEST

/* A table whose only transition changes nothing: the rule governs from
 * that instant, and the span before it reaches back to the beginning. */
START_TEST(footer_after_folded_table)
{
        const int64_t times[] = { utc(2000, 1, 1, 0, 0, 0) };
        static const uint8_t idx[] = { 0 };
        static const struct tzif_type types[] = { { 0, 0 } };
        struct tzif_builder b;
        tzif_build(&b, '2', times, idx, 1, types, 1, "AAA0BBB,M3.5.0/1,M10.5.0/2");
        struct tz *z = NULL;
        ck_assert_int_eq(tz_new_from_tzif("Folded", b.buf, b.len, &z), 0);
        struct tz_span s;
        tz_span_at(z, utc(1999, 7, 1, 0, 0, 0), &s); /* the table: no DST in 1999 */
        ck_assert(s.start == INT64_MIN && s.offset == 0 && !s.is_dst);
        ck_assert_int_eq(s.end, utc(2000, 3, 26, 1, 0, 0));
        tz_span_at(z, utc(2000, 2, 1, 0, 0, 0), &s); /* the rule, same span */
        ck_assert(s.start == INT64_MIN && s.offset == 0 && s.prev_offset == 0);
        ck_assert_int_eq(s.end, utc(2000, 3, 26, 1, 0, 0));
        assert_transition(z, utc(2000, 3, 26, 1, 0, 0), 0, H, true);
        tz_free(z);
}
END_TEST

/* The footer disagrees with the table's last entry (older zic wrote
 * America/Ojinaga so): from that entry on the footer rules, as in glibc. */
START_TEST(footer_wins_over_last_entry)
{
        char *dir = harness_tmpdir();
        struct tz_cache *c = tz_cache_new(dir);
        const struct tz *z;
        const int64_t times[] = { utc(2022, 10, 30, 8, 0, 0) };
        static const uint8_t idx[] = { 1 };
        static const struct tzif_type types[] = { { -7 * H, 0 }, { -6 * H, 0 } };
        struct tzif_builder b;
        tzif_build(&b, '2', times, idx, 1, types, 2, "CST6CDT,M3.2.0,M11.1.0");
        write_zone(dir, "Ojinaga", b.buf, b.len);
        ck_assert_int_eq(tz_cache_get(c, "Ojinaga", &z), 0);
        assert_transition(z, times[0], -7 * H, -5 * H, true);
        assert_transition(z, utc(2022, 11, 6, 7, 0, 0), -5 * H, -6 * H, false);

        char env[PATH_MAX];
        snprintf(env, sizeof(env), ":%s/Ojinaga", dir);
        setenv("TZ", env, 1);
        tzset();
        compare_with_glibc(z, "Ojinaga", times[0] - 86400 * 3, times[0] + 86400 * 400, 3593);
        unsetenv("TZ");
        tzset();
        tz_cache_free(c);
        harness_tmpdir_remove(dir);
}
END_TEST

/* ---- the system zone ---------------------------------------------------------- */

START_TEST(system_zone_from_symlink)
{
        char *root = harness_tmpdir();
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/etc", root);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/etc/localtime", root);
        ck_assert_int_eq(symlink("../usr/share/zoneinfo/America/New_York", path), 0);
        const struct tz *z;
        ck_assert_int_eq(tz_cache_get_system_in(cache, root, &z), 0);
        ck_assert_str_eq(tz_name(z), "America/New_York");
        ck_assert_ptr_eq(z, zone("America/New_York"));
        harness_tmpdir_remove(root);
}
END_TEST

START_TEST(system_zone_from_etc_timezone)
{
        char *root = harness_tmpdir();
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/etc", root);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        free(harness_write_file(path, "timezone", "Asia/Kathmandu\n"));
        const struct tz *z;
        ck_assert_int_eq(tz_cache_get_system_in(cache, root, &z), 0);
        ck_assert_str_eq(tz_name(z), "Asia/Kathmandu");
        /* A configured zone that is not installed is an error, not UTC. */
        free(harness_write_file(path, "timezone", "Mars/Olympus_Mons\n"));
        ck_assert_int_eq(tz_cache_get_system_in(cache, root, &z), -ENOENT);
        harness_tmpdir_remove(root);
}
END_TEST

START_TEST(system_zone_from_copied_file)
{
        char *root = harness_tmpdir();
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/etc", root);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        FILE *in = fopen("/usr/share/zoneinfo/Australia/Lord_Howe", "re");
        ck_assert_ptr_nonnull(in);
        char buf[8192];
        size_t n = fread(buf, 1, sizeof(buf), in);
        fclose(in);
        snprintf(path, sizeof(path), "%s/etc", root);
        write_zone(path, "localtime", buf, n);
        const struct tz *z, *again;
        ck_assert_int_eq(tz_cache_get_system_in(cache, root, &z), 0);
        ck_assert_str_eq(tz_name(z), "localtime");
        assert_transition(z, utc(2026, 4, 4, 15, 0, 0), 11 * H, 10 * H + 30 * M, false);
        ck_assert_int_eq(tz_cache_get_system_in(cache, root, &again), 0);
        ck_assert_ptr_eq(z, again);
        harness_tmpdir_remove(root);
}
END_TEST

START_TEST(system_zone_corrupt_copy)
{
        char *root = harness_tmpdir();
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/etc", root);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        write_zone(path, "localtime", "garbage", 7);
        const struct tz *z;
        ck_assert_int_eq(tz_cache_get_system_in(cache, root, &z), -EBADMSG);
        harness_tmpdir_remove(root);
}
END_TEST

START_TEST(system_zone_defaults_to_utc)
{
        char *root = harness_tmpdir();
        const struct tz *z;
        ck_assert_int_eq(tz_cache_get_system_in(cache, root, &z), 0);
        ck_assert_str_eq(tz_name(z), "UTC");
        /* The real system zone loads (whatever it is). */
        ck_assert_int_eq(tz_cache_get_system(cache, &z), 0);
        harness_tmpdir_remove(root);
}
END_TEST

/* ---- differential: glibc ------------------------------------------------------- */

static const char *const glibc_zones[] = {
        "Europe/Berlin",     "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",   "Pacific/Chatham",
        "America/Sao_Paulo", "Europe/Dublin",    "Africa/Casablanca",   "America/Santiago", "Asia/Tehran",
        "Pacific/Apia",      "America/St_Johns", "Europe/London",       "Australia/Sydney", "Antarctica/Troll",
};

static void compare_with_glibc(const struct tz *z, const char *name, int64_t from, int64_t to, int64_t step)
{
        for (int64_t t = from; t < to; t += step) {
                time_t tt = (time_t)t;
                struct tm tm;
                expect(localtime_r(&tt, &tm), "localtime_r(%lld) failed", (long long)t);
                struct tz_civil c;
                tz_to_civil(z, t, &c);
                expect(c.year == tm.tm_year + 1900 && c.month == tm.tm_mon + 1 && c.day == tm.tm_mday &&
                               c.hour == tm.tm_hour && c.minute == tm.tm_min && c.second == tm.tm_sec &&
                               c.weekday == tm.tm_wday && c.offset == tm.tm_gmtoff && c.is_dst == (tm.tm_isdst > 0),
                       "%s @%lld: tz %lld-%02d-%02d %02d:%02d:%02d off %d dst %d; glibc %d-%02d-%02d "
                       "%02d:%02d:%02d off %ld dst %d",
                       name, (long long)t, (long long)c.year, c.month, c.day, c.hour, c.minute, c.second, c.offset,
                       c.is_dst, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       tm.tm_gmtoff, tm.tm_isdst);
                /* And back: the civil time resolves to T among its instants. */
                int64_t a = 0, b = 0;
                int n = tz_from_civil(z, &c, &a, &b);
                expect((n == 1 && a == t) || (n == 2 && (a == t || b == t)), "%s @%lld: from_civil gave %d: %lld %lld",
                       name, (long long)t, n, (long long)a, (long long)b);
        }
}

START_TEST(matches_glibc)
{
        const char *name = glibc_zones[_i];
        const struct tz *z = zone(name);
        char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
        char env[128];
        snprintf(env, sizeof(env), ":%s", name);
        setenv("TZ", env, 1);
        tzset();
        /* 1970-2037: ~4,000 instants, with an odd step so every hour and
         * minute of the day is hit; then to 2100, where glibc too uses the
         * footer; then every hour around this year's transitions. */
        compare_with_glibc(z, name, 0, utc(2037, 12, 31, 0, 0, 0), 521743 + 7);
        compare_with_glibc(z, name, utc(2037, 1, 1, 0, 0, 0), utc(2100, 1, 1, 0, 0, 0), 1987013);
        compare_with_glibc(z, name, utc(2026, 1, 1, 0, 0, 0), utc(2027, 1, 1, 0, 0, 0), 3600 * 7 + 1);
        if (saved)
                setenv("TZ", saved, 1);
        else
                unsetenv("TZ");
        tzset();
        free(saved);
}
END_TEST

/* Every zone installed (fat files, as Debian ships them) against glibc:
 * about 300 instants each from 1900 to 2100, then the last transitions
 * of each table and the footer years. */
struct zone_list {
        char **names;
        size_t n, allocated;
        size_t prefix;
};

static struct zone_list *walk_list;

static int collect_zone(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        if (type != FTW_F || !S_ISREG(st->st_mode))
                return 0;
        const char *name = path + walk_list->prefix;
        if (strncmp(name, "right/", 6) == 0 || strncmp(name, "posix/", 6) == 0 || strchr(name, '.') ||
            strcmp(name, "localtime") == 0 || strcmp(name, "posixrules") == 0 || strcmp(name, "Factory") == 0)
                return 0;
        char magic[4] = { 0 };
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        size_t got = fread(magic, 1, 4, f);
        fclose(f);
        if (got != 4 || memcmp(magic, "TZif", 4) != 0)
                return 0;
        if (walk_list->n == walk_list->allocated) {
                walk_list->allocated = walk_list->allocated ? walk_list->allocated * 2 : 256;
                walk_list->names = realloc(walk_list->names, walk_list->allocated * sizeof(char *));
                ck_assert_ptr_nonnull(walk_list->names);
        }
        walk_list->names[walk_list->n++] = strdup(name);
        return 0;
}

static void list_zones(const char *dir, struct zone_list *out)
{
        *out = (struct zone_list){ .prefix = strlen(dir) + 1 };
        walk_list = out;
        ck_assert_int_eq(nftw(dir, collect_zone, 16, FTW_PHYS), 0);
        walk_list = NULL;
}

static void free_zone_list(struct zone_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->names[i]);
        free(l->names);
}

START_TEST(all_zones_match_glibc)
{
        struct zone_list l;
        list_zones("/usr/share/zoneinfo", &l);
        ck_assert_uint_gt(l.n, 300);
        char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
        for (size_t i = 0; i < l.n; i++) {
                const struct tz *z = zone(l.names[i]);
                char env[300];
                snprintf(env, sizeof(env), ":%s", l.names[i]);
                setenv("TZ", env, 1);
                tzset();
                compare_with_glibc(z, l.names[i], utc(1900, 1, 1, 0, 0, 0), utc(2100, 1, 1, 0, 0, 0), 21037973);
                compare_with_glibc(z, l.names[i], utc(2030, 1, 1, 0, 0, 0), utc(2045, 1, 1, 0, 0, 0), 1209599);
        }
        if (saved)
                setenv("TZ", saved, 1);
        else
                unsetenv("TZ");
        tzset();
        free(saved);
        free_zone_list(&l);
}
END_TEST

/* Walk every span of every installed zone from 1800 to 2200: spans meet
 * their neighbours exactly, and instants at and around each transition
 * resolve back from their civil time. */
static void check_span_walk(const struct tz *z, const char *name, int64_t from, int64_t to)
{
        struct tz_span s;
        tz_span_at(z, from, &s);
        for (int64_t guard = 0; s.end < to; guard++) {
                expect(guard < 100000, "%s: endless span walk", name);
                struct tz_span next;
                tz_span_at(z, s.end, &next);
                expect(next.start == s.end && next.offset == s.next_offset && next.prev_offset == s.offset,
                       "%s: span [%lld,%lld) off %d next %d, then [%lld,%lld) off %d prev %d", name, (long long)s.start,
                       (long long)s.end, s.offset, s.next_offset, (long long)next.start, (long long)next.end,
                       next.offset, next.prev_offset);
                expect(next.offset != s.offset || next.is_dst != s.is_dst, "%s: no-op transition at %lld", name,
                       (long long)s.end);
                const int64_t probes[] = { s.end - 1, s.end, s.end + 1, s.end - 3600, s.end + 3600 };
                for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
                        int64_t t = probes[i], a = 0, b = 0;
                        struct tz_civil c;
                        tz_to_civil(z, t, &c);
                        int n = tz_from_civil(z, &c, &a, &b);
                        expect((n == 1 && a == t) || (n == 2 && (a == t || b == t)),
                               "%s @%lld: from_civil gave %d: %lld %lld", name, (long long)t, n, (long long)a,
                               (long long)b);
                }
                /* Just inside a gap: the transition instant. */
                if (s.next_offset > s.offset) {
                        struct tz_civil c;
                        tz_to_civil(z, s.end - 1, &c);
                        c.second += 1;
                        int64_t a = 0;
                        expect(tz_from_civil(z, &c, &a, NULL) == 0 && a == s.end, "%s: gap at %lld gave %lld", name,
                               (long long)s.end, (long long)a);
                }
                s = next;
        }
}

START_TEST(all_zones_span_walk)
{
        struct zone_list l;
        list_zones("/usr/share/zoneinfo", &l);
        ck_assert_uint_gt(l.n, 300);
        for (size_t i = 0; i < l.n; i++)
                check_span_walk(zone(l.names[i]), l.names[i], utc(1800, 1, 1, 0, 0, 0), utc(2200, 1, 1, 0, 0, 0));
        free_zone_list(&l);
}
END_TEST

/* zic's "slim" output ends the table early and leaves the rest to the
 * footer. Every slim file must read as glibc reads it; and for zones
 * whose data this machine's zic compiles as the installed (newer) zic
 * did, exactly as the fat files do, span for span. */
static const char *const slim_zones[] = {
        "Europe/Berlin",    "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham",  "America/Sao_Paulo",
        "Europe/Dublin",    "Asia/Tehran",      "America/Santiago",    "Australia/Sydney", "America/St_Johns",
        "Africa/Cairo",     "Asia/Jerusalem",   "America/Nuuk",        "Europe/London",    "America/Havana",
        "Antarctica/Troll", "Pacific/Auckland", "Asia/Kolkata",        "Europe/Moscow",    "America/Los_Angeles",
};

START_TEST(slim_files_match_fat)
{
        char *dir = harness_tmpdir();
        char *argv[] = { "/usr/sbin/zic", "-b", "slim", "-d", dir, "/usr/share/zoneinfo/tzdata.zi", NULL };
        char *err = NULL;
        int status = harness_run(argv, NULL, NULL, &err);
        ck_assert_msg(status == 0, "zic: %s", err ? err : "");
        free(err);

        struct tz_cache *slim = tz_cache_new(dir);
        for (size_t i = 0; i < sizeof(slim_zones) / sizeof(slim_zones[0]); i++) {
                const struct tz *fat = zone(slim_zones[i]), *thin;
                ck_assert_int_eq(tz_cache_get(slim, slim_zones[i], &thin), 0);
                for (int64_t t = utc(1850, 1, 1, 0, 0, 0); t < utc(2200, 1, 1, 0, 0, 0); t += 1000003) {
                        struct tz_span a, b;
                        tz_span_at(fat, t, &a);
                        tz_span_at(thin, t, &b);
                        expect(a.start == b.start && a.end == b.end && a.offset == b.offset &&
                                       a.prev_offset == b.prev_offset && a.next_offset == b.next_offset &&
                                       a.is_dst == b.is_dst,
                               "%s @%lld: fat [%lld,%lld) %d/%d/%d dst %d, slim [%lld,%lld) %d/%d/%d dst %d",
                               slim_zones[i], (long long)t, (long long)a.start, (long long)a.end, a.prev_offset,
                               a.offset, a.next_offset, a.is_dst, (long long)b.start, (long long)b.end, b.prev_offset,
                               b.offset, b.next_offset, b.is_dst);
                }
        }

        struct zone_list l;
        list_zones(dir, &l);
        ck_assert_uint_gt(l.n, 300);
        for (size_t i = 0; i < l.n; i++) {
                const struct tz *thin;
                int r = tz_cache_get(slim, l.names[i], &thin);
                ck_assert_msg(r == 0, "slim %s: %s", l.names[i], strerror(-r));
                char env[PATH_MAX];
                snprintf(env, sizeof(env), ":%s/%s", dir, l.names[i]);
                setenv("TZ", env, 1);
                tzset();
                compare_with_glibc(thin, l.names[i], utc(1900, 1, 1, 0, 0, 0), utc(2100, 1, 1, 0, 0, 0), 13776019);
        }
        unsetenv("TZ");
        tzset();
        free_zone_list(&l);
        tz_cache_free(slim);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(rejects_leap_second_zones)
{
        const struct tz *z;
        if (access("/usr/share/zoneinfo/right/Europe/Berlin", F_OK) == 0)
                ck_assert_int_eq(tz_cache_get(cache, "right/Europe/Berlin", &z), -EBADMSG);
        /* The posix/ twin of a zone is the same zone. */
        const struct tz *p = zone("posix/Europe/Berlin"), *b = zone("Europe/Berlin");
        for (int64_t t = 0; t < utc(2100, 1, 1, 0, 0, 0); t += 86400 * 17)
                expect(tz_offset_at(p, t) == tz_offset_at(b, t), "posix/ differs at %lld", (long long)t);
}
END_TEST

static Suite *tz_suite(void)
{
        Suite *s = suite_create("tz");
        TCase *tc = tcase_create("calendar");
        tcase_add_test(tc, days_from_civil_matches_timegm);
        tcase_add_test(tc, civil_from_days_round_trips);
        tcase_add_test(tc, calendar_extremes);
        tcase_add_test(tc, leap_years);
        suite_add_tcase(s, tc);

        tc = tcase_create("transitions");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_test(tc, berlin_2026);
        tcase_add_test(tc, new_york_2026);
        tcase_add_test(tc, lord_howe_half_hour_dst);
        tcase_add_test(tc, kathmandu_quarter_hour);
        tcase_add_test(tc, chatham);
        tcase_add_test(tc, berlin_1947_double_summer_time);
        tcase_add_test(tc, sao_paulo_dst_abolished);
        tcase_add_test(tc, zones_without_dst);
        tcase_add_test(tc, apia_skips_a_day);
        tcase_add_test(tc, moscow_2011_offset_only);
        tcase_add_test(tc, dublin_negative_dst);
        tcase_add_test(tc, far_future_via_footer);
        tcase_add_test(tc, table_to_footer_boundary);
        tcase_add_test(tc, footer_far_years);
        suite_add_tcase(s, tc);

        tc = tcase_create("from_civil");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_test(tc, from_civil_normal);
        tcase_add_loop_test(tc, from_civil_gap, 0, sizeof(gaps) / sizeof(gaps[0]));
        tcase_add_loop_test(tc, from_civil_overlap, 0, sizeof(overlaps) / sizeof(overlaps[0]));
        tcase_add_test(tc, from_civil_unnormalised_fields);
        tcase_add_test(tc, from_civil_round_trips);
        suite_add_tcase(s, tc);

        tc = tcase_create("cache");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_test(tc, loads_each_zone_once);
        tcase_add_loop_test(tc, rejects_invalid_names, 0, sizeof(invalid_names) / sizeof(invalid_names[0]));
        tcase_add_test(tc, accepts_valid_names);
        tcase_add_test(tc, missing_zones);
        tcase_add_test(tc, utc_without_tzdata);
        tcase_add_test(tc, rejects_corrupt_files);
        tcase_add_test(tc, reads_version_1_files);
        tcase_add_loop_test(tc, footer_rule_forms, 0, sizeof(footers) / sizeof(footers[0]));
        tcase_add_test(tc, footer_dst_all_year);
        tcase_add_test(tc, footer_wins_over_last_entry);
        tcase_add_test(tc, footer_after_folded_table);
        tcase_add_test(tc, rejects_interleaving_rules);
        tcase_add_test(tc, system_zone_from_symlink);
        tcase_add_test(tc, system_zone_from_etc_timezone);
        tcase_add_test(tc, system_zone_from_copied_file);
        tcase_add_test(tc, system_zone_corrupt_copy);
        tcase_add_test(tc, system_zone_defaults_to_utc);
        suite_add_tcase(s, tc);

        tc = tcase_create("glibc");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_set_timeout(tc, 30);
        tcase_add_loop_test(tc, matches_glibc, 0, sizeof(glibc_zones) / sizeof(glibc_zones[0]));
        tcase_add_test(tc, all_zones_match_glibc);
        tcase_add_test(tc, all_zones_span_walk);
        tcase_add_test(tc, slim_files_match_fat);
        tcase_add_test(tc, rejects_leap_second_zones);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(tz_suite)
