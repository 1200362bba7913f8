/* test-schedule.c — the schedule engine as a specification: what each
 * expression fires at, in UTC and across real DST transitions, and what
 * each bad expression is told. */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness.h"
#include "core/schedule-internal.h"
#include "core/schedule.h"
#include "core/tz.h"

#define MAX_FIRES 6

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

static const struct tz *zone_or_null(const char *name)
{
        if (!name)
                return NULL;
        const struct tz *z = NULL;
        int r = tz_cache_get(cache, name, &z);
        ck_assert_msg(r == 0, "zone %s: %d", name, r);
        return z;
}

/* "2026-03-29T03:00:00+02:00" (the offset is required) to seconds. */
static int64_t iso(const char *text)
{
        int y, mo, d, h, mi, s, oh, om;
        char sign;
        int n = sscanf(text, "%d-%d-%dT%d:%d:%d%c%d:%d", &y, &mo, &d, &h, &mi, &s, &sign, &oh, &om);
        ck_assert_msg(n == 9 && (sign == '+' || sign == '-'), "bad test time '%s'", text);
        int64_t off = (sign == '-' ? -1 : 1) * (oh * 3600 + om * 60);
        return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
}

static const char *format(const struct tz *zone, int64_t t, char *buf, size_t size)
{
        struct tz_civil c = { 0 };
        if (zone) {
                tz_to_civil(zone, t, &c);
        } else {
                int64_t days = t / 86400 - (t % 86400 < 0), sod = t - days * 86400;
                tz_civil_from_days(days, &c.year, &c.month, &c.day);
                c.hour = (int)(sod / 3600);
                c.minute = (int)(sod / 60 % 60);
                c.second = (int)(sod % 60);
        }
        int32_t off = c.offset < 0 ? -c.offset : c.offset;
        snprintf(buf, size, "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", c.year, c.month, c.day, c.hour,
                 c.minute, c.second, c.offset < 0 ? '-' : '+', off / 3600, off / 60 % 60);
        return buf;
}

struct next_case {
        const char *expr;
        const char *zone; /* NULL = UTC */
        const char *after;
        const char *fires[MAX_FIRES]; /* in ZONE, NULL-terminated; "never" = -ENOENT */
};

static void check_next(const struct next_case *c)
{
        struct schedule *s = NULL;
        char err[256];
        int r = schedule_parse(c->expr, cache, &s, err, sizeof(err));
        ck_assert_msg(r == 0, "'%s' should parse: %s", c->expr, err);
        const struct tz *zone = zone_or_null(c->zone);
        const struct tz *shown = schedule_zone(s) ? schedule_zone(s) : zone;
        int64_t after = iso(c->after);
        for (int i = 0; i < MAX_FIRES && c->fires[i]; i++) {
                int64_t at = 0;
                r = schedule_next(s, zone, after, &at);
                if (strcmp(c->fires[i], "never") == 0) {
                        ck_assert_msg(r == -ENOENT, "'%s' after %s: expected never, got %d", c->expr, c->after, r);
                        break;
                }
                char buf[64];
                ck_assert_msg(r == 0, "'%s' fire %d: error %d", c->expr, i + 1, r);
                ck_assert_msg(strcmp(format(shown, at, buf, sizeof(buf)), c->fires[i]) == 0,
                              "'%s' in %s after %s, fire %d: got %s, expected %s", c->expr, c->zone ? c->zone : "UTC",
                              c->after, i + 1, buf, c->fires[i]);
                after = at;
        }
        schedule_free(s);
}

#define Z "+00:00"
/* 2026-01-01 is a Thursday. */
static const struct next_case cron_cases[] = {
        /* fields, lists, ranges, steps */
        { "* * * * *", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T00:01:00" Z, "2026-01-01T00:02:00" Z } },
        { "*/15 * * * *",
          NULL,
          "2026-01-01T00:07:00" Z,
          { "2026-01-01T00:15:00" Z, "2026-01-01T00:30:00" Z, "2026-01-01T00:45:00" Z, "2026-01-01T01:00:00" Z } },
        { "5 * * * *", NULL, "2026-01-01T00:05:00" Z, { "2026-01-01T01:05:00" Z } },
        { "5 * * * *", NULL, "2026-01-01T00:04:59" Z, { "2026-01-01T00:05:00" Z } },
        { "0 9-17/4 * * *",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T09:00:00" Z, "2026-01-01T13:00:00" Z, "2026-01-01T17:00:00" Z, "2026-01-02T09:00:00" Z } },
        /* a step larger than its field: the first value only, as in Vixie cron and cronie */
        { "0 */30 * * *", NULL, "2026-01-01T00:00:00" Z, { "2026-01-02T00:00:00" Z, "2026-01-03T00:00:00" Z } },
        { "*/70 * * * *", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T01:00:00" Z, "2026-01-01T02:00:00" Z } },
        { "0 0 1 */20 *", NULL, "2026-01-01T00:00:00" Z, { "2027-01-01T00:00:00" Z, "2028-01-01T00:00:00" Z } },
        { "0 5/40 * * *", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T05:00:00" Z, "2026-01-02T05:00:00" Z } },
        { "10-50/10 * * * *", NULL, "2026-01-01T00:45:00" Z, { "2026-01-01T00:50:00" Z, "2026-01-01T01:10:00" Z } },
        { "5/15 * * * *",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T00:05:00" Z, "2026-01-01T00:20:00" Z, "2026-01-01T00:35:00" Z, "2026-01-01T00:50:00" Z,
            "2026-01-01T01:05:00" Z } },
        { "0,30 8,20 * * *",
          NULL,
          "2026-01-01T08:00:00" Z,
          { "2026-01-01T08:30:00" Z, "2026-01-01T20:00:00" Z, "2026-01-01T20:30:00" Z, "2026-01-02T08:00:00" Z } },
        { "1-3,58 * * * *",
          NULL,
          "2026-01-01T00:02:00" Z,
          { "2026-01-01T00:03:00" Z, "2026-01-01T00:58:00" Z, "2026-01-01T01:01:00" Z } },
        { "0 0 1 JAN *", NULL, "2026-01-01T00:00:00" Z, { "2027-01-01T00:00:00" Z } },
        { "0 0 1 jan-mar *",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-02-01T00:00:00" Z, "2026-03-01T00:00:00" Z, "2027-01-01T00:00:00" Z } },
        { "0 0 1 */4 *",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-05-01T00:00:00" Z, "2026-09-01T00:00:00" Z, "2027-01-01T00:00:00" Z } },
        { "0 0 * * SUN", NULL, "2026-01-01T00:00:00" Z, { "2026-01-04T00:00:00" Z, "2026-01-11T00:00:00" Z } },
        { "0 0 * * 0", NULL, "2026-01-01T00:00:00" Z, { "2026-01-04T00:00:00" Z } },
        { "0 0 * * 7", NULL, "2026-01-01T00:00:00" Z, { "2026-01-04T00:00:00" Z } },
        { "0 0 * * sat,Sun",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-03T00:00:00" Z, "2026-01-04T00:00:00" Z, "2026-01-10T00:00:00" Z } },
        { "0 0 * * FRI-SUN",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-02T00:00:00" Z, "2026-01-03T00:00:00" Z, "2026-01-04T00:00:00" Z, "2026-01-09T00:00:00" Z } },
        { "0 0 * * 5-7",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-02T00:00:00" Z, "2026-01-03T00:00:00" Z, "2026-01-04T00:00:00" Z, "2026-01-09T00:00:00" Z } },
        { "0 0 * * 1-5",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-02T00:00:00" Z, "2026-01-05T00:00:00" Z, "2026-01-06T00:00:00" Z } },
        { "0 0 * * */2",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-03T00:00:00" Z, "2026-01-04T00:00:00" Z, "2026-01-06T00:00:00" Z, "2026-01-08T00:00:00" Z } },
        { "0 12 * JUN-AUG MON", NULL, "2026-01-01T00:00:00" Z, { "2026-06-01T12:00:00" Z, "2026-06-08T12:00:00" Z } },
        { "0 0 * * mOn", NULL, "2026-01-01T00:00:00" Z, { "2026-01-05T00:00:00" Z } },
        { "30 2 1,15 * *",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T02:30:00" Z, "2026-01-15T02:30:00" Z, "2026-02-01T02:30:00" Z } },
        /* last days, short months, leap years */
        { "0 0 31 * *",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-31T00:00:00" Z, "2026-03-31T00:00:00" Z, "2026-05-31T00:00:00" Z, "2026-07-31T00:00:00" Z,
            "2026-08-31T00:00:00" Z, "2026-10-31T00:00:00" Z } },
        { "0 0 30 2,4 *", NULL, "2026-01-01T00:00:00" Z, { "2026-04-30T00:00:00" Z, "2027-04-30T00:00:00" Z } },
        { "0 0 29 2 *",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2028-02-29T00:00:00" Z, "2032-02-29T00:00:00" Z, "2036-02-29T00:00:00" Z } },
        { "0 0 29 2 *", NULL, "2096-03-01T00:00:00" Z, { "2104-02-29T00:00:00" Z } },
        { "0 0 29 2 *", NULL, "1999-03-01T00:00:00" Z, { "2000-02-29T00:00:00" Z, "2004-02-29T00:00:00" Z } },
        /* Vixie OR rule: Feb 29 or any Monday in February */
        { "0 0 29 2 MON",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-02-02T00:00:00" Z, "2026-02-09T00:00:00" Z, "2026-02-16T00:00:00" Z, "2026-02-23T00:00:00" Z,
            "2027-02-01T00:00:00" Z } },
        { "0 0 29 2 MON",
          NULL,
          "2028-02-27T00:00:00" Z,
          { "2028-02-28T00:00:00" Z, "2028-02-29T00:00:00" Z, "2029-02-05T00:00:00" Z } },
        { "0 0 1-7 * MON",
          NULL,
          "2026-01-07T00:00:00" Z,
          { "2026-01-12T00:00:00" Z, "2026-01-19T00:00:00" Z, "2026-01-26T00:00:00" Z, "2026-02-01T00:00:00" Z } },
        { "0 0 13 * FRI",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-02T00:00:00" Z, "2026-01-09T00:00:00" Z, "2026-01-13T00:00:00" Z, "2026-01-16T00:00:00" Z } },
        /* a day field starting with '*' is unrestricted (Vixie, cronie): AND */
        { "0 0 */2 * MON",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-05T00:00:00" Z, "2026-01-19T00:00:00" Z, "2026-02-09T00:00:00" Z, "2026-02-23T00:00:00" Z } },
        { "0 0 1 * */7", NULL, "2026-01-01T00:00:00" Z, { "2026-02-01T00:00:00" Z } },
        { "0 0 * * MON", NULL, "2026-01-01T00:00:00" Z, { "2026-01-05T00:00:00" Z } },
        { "0 0 13 * *", NULL, "2026-01-01T00:00:00" Z, { "2026-01-13T00:00:00" Z, "2026-02-13T00:00:00" Z } },
        /* year rollover, far future */
        { "0 0 * * *", NULL, "2026-12-31T00:00:00" Z, { "2027-01-01T00:00:00" Z } },
        { "59 23 31 12 *", NULL, "2026-12-31T23:59:00" Z, { "2027-12-31T23:59:00" Z } },
        { "59 23 31 12 *", NULL, "2026-12-31T23:58:59" Z, { "2026-12-31T23:59:00" Z } },
        { "0 0 1 1 *", NULL, "9998-06-01T00:00:00" Z, { "9999-01-01T00:00:00" Z, "never" } },
        { "0 0 1 1 *", NULL, "9999-06-01T00:00:00" Z, { "never" } },
        { "0 0 29 2 *", NULL, "9997-01-01T00:00:00" Z, { "never" } },
        { "0 0 29 2 *", NULL, "9995-01-01T00:00:00" Z, { "9996-02-29T00:00:00" Z } },
        { "* * * * *", NULL, "9999-12-31T23:58:00" Z, { "9999-12-31T23:59:00" Z, "never" } },
        { "0 12 * * *", NULL, "1969-12-31T00:00:00" Z, { "1969-12-31T12:00:00" Z, "1970-01-01T12:00:00" Z } },
        /* seconds */
        { "*/20 * * * * *",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T00:00:20" Z, "2026-01-01T00:00:40" Z, "2026-01-01T00:01:00" Z } },
        { "30 0 0 1 1 *", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T00:00:30" Z, "2027-01-01T00:00:30" Z } },
        { "59 59 23 31 12 *", NULL, "2026-06-01T00:00:00" Z, { "2026-12-31T23:59:59" Z } },
        { "0-2 0 0 * * *", NULL, "2026-01-01T00:00:01" Z, { "2026-01-01T00:00:02" Z, "2026-01-02T00:00:00" Z } },
        /* keywords */
        { "@yearly", NULL, "2026-01-01T00:00:00" Z, { "2027-01-01T00:00:00" Z } },
        { "@annually", NULL, "2026-05-01T00:00:00" Z, { "2027-01-01T00:00:00" Z } },
        { "@monthly", NULL, "2026-01-01T00:00:00" Z, { "2026-02-01T00:00:00" Z } },
        { "@weekly", NULL, "2026-01-01T00:00:00" Z, { "2026-01-04T00:00:00" Z } },
        { "@daily", NULL, "2026-01-01T00:00:00" Z, { "2026-01-02T00:00:00" Z } },
        { "@midnight", NULL, "2026-01-01T12:00:00" Z, { "2026-01-02T00:00:00" Z } },
        { "@hourly", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T01:00:00" Z } },
        { "@HOURLY", NULL, "2026-01-01T00:59:59" Z, { "2026-01-01T01:00:00" Z } },
        /* @every: whole multiples of the span since the epoch */
        { "@every 90m", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T01:30:00" Z, "2026-01-01T03:00:00" Z } },
        { "@every 7s", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T00:00:07" Z, "2026-01-01T00:00:14" Z } },
        { "@every 1d", NULL, "2026-01-01T12:00:00" Z, { "2026-01-02T00:00:00" Z } },
        { "@every 1h 30min", NULL, "2026-01-01T00:00:01" Z, { "2026-01-01T01:30:00" Z } },
        { "@every 1s", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T00:00:01" Z, "2026-01-01T00:00:02" Z } },
        { "@every 1w", NULL, "1970-01-01T00:00:00" Z, { "1970-01-08T00:00:00" Z } },
        { "  0   0  *  * *  ", NULL, "2026-01-01T00:00:00" Z, { "2026-01-02T00:00:00" Z } },
};

static const struct next_case calendar_cases[] = {
        { "Mon..Fri *-*-* 09:00",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T09:00:00" Z, "2026-01-02T09:00:00" Z, "2026-01-05T09:00:00" Z } },
        { "*-*-01 00:00", NULL, "2026-01-01T00:00:00" Z, { "2026-02-01T00:00:00" Z, "2026-03-01T00:00:00" Z } },
        { "*:0/15", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T00:15:00" Z, "2026-01-01T00:30:00" Z } },
        /* a range's repetition may exceed the range (systemd too): its start only */
        { "*:0..5/100", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T01:00:00" Z, "2026-01-01T02:00:00" Z } },
        { "*-1..2/13-01", NULL, "2026-01-01T00:00:00" Z, { "2027-01-01T00:00:00" Z, "2028-01-01T00:00:00" Z } },
        { "*:2/3",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T00:02:00" Z, "2026-01-01T00:05:00" Z, "2026-01-01T00:08:00" Z } },
        { "*:*:*", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T00:00:01" Z } },
        { "*-02~1",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-02-28T00:00:00" Z, "2027-02-28T00:00:00" Z, "2028-02-29T00:00:00" Z } },
        { "*-02-~1", NULL, "2026-01-01T00:00:00" Z, { "2026-02-28T00:00:00" Z, "2027-02-28T00:00:00" Z } },
        { "*-*~1",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-31T00:00:00" Z, "2026-02-28T00:00:00" Z, "2026-03-31T00:00:00" Z, "2026-04-30T00:00:00" Z } },
        { "*-*~03", NULL, "2026-01-01T00:00:00" Z, { "2026-01-29T00:00:00" Z, "2026-02-26T00:00:00" Z } },
        { "*-02~03", NULL, "2028-01-01T00:00:00" Z, { "2028-02-27T00:00:00" Z } },
        { "Mon *-05~07/1", NULL, "2026-01-01T00:00:00" Z, { "2026-05-25T00:00:00" Z, "2027-05-31T00:00:00" Z } },
        { "*-*~07/2",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-25T00:00:00" Z, "2026-01-27T00:00:00" Z, "2026-01-29T00:00:00" Z, "2026-01-31T00:00:00" Z,
            "2026-02-22T00:00:00" Z } },
        { "*-*~1..3/2", NULL, "2026-01-01T00:00:00" Z, { "2026-01-29T00:00:00" Z, "2026-01-31T00:00:00" Z } },
        { "Fri *-*~1..7 18:00", NULL, "2026-01-01T00:00:00" Z, { "2026-01-30T18:00:00" Z, "2026-02-27T18:00:00" Z } },
        { "minutely", NULL, "2026-01-01T00:00:30" Z, { "2026-01-01T00:01:00" Z } },
        { "hourly", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T01:00:00" Z } },
        { "daily", NULL, "2026-01-01T00:00:00" Z, { "2026-01-02T00:00:00" Z } },
        { "weekly", NULL, "2026-01-01T00:00:00" Z, { "2026-01-05T00:00:00" Z, "2026-01-12T00:00:00" Z } },
        { "monthly", NULL, "2026-01-01T00:00:00" Z, { "2026-02-01T00:00:00" Z } },
        { "yearly", NULL, "2026-01-01T00:00:00" Z, { "2027-01-01T00:00:00" Z } },
        { "annually", NULL, "2026-01-01T00:00:00" Z, { "2027-01-01T00:00:00" Z } },
        { "quarterly",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-04-01T00:00:00" Z, "2026-07-01T00:00:00" Z, "2026-10-01T00:00:00" Z, "2027-01-01T00:00:00" Z } },
        { "semiannually", NULL, "2026-01-01T00:00:00" Z, { "2026-07-01T00:00:00" Z, "2027-01-01T00:00:00" Z } },
        { "Sat,Sun 12:00",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-03T12:00:00" Z, "2026-01-04T12:00:00" Z, "2026-01-10T12:00:00" Z } },
        { "Sat..Sun 12:00", NULL, "2026-01-01T00:00:00" Z, { "2026-01-03T12:00:00" Z, "2026-01-04T12:00:00" Z } },
        { "Mon,Wed..Thu,Sat",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-03T00:00:00" Z, "2026-01-05T00:00:00" Z, "2026-01-07T00:00:00" Z } },
        { "Wed", NULL, "2026-01-01T00:00:00" Z, { "2026-01-07T00:00:00" Z } },
        { "wednesday", NULL, "2026-01-01T00:00:00" Z, { "2026-01-07T00:00:00" Z } },
        { "Wed, 17:48", NULL, "2026-01-01T00:00:00" Z, { "2026-01-07T17:48:00" Z } },
        { "Wed *-1", NULL, "2026-01-01T00:00:00" Z, { "2026-04-01T00:00:00" Z } },
        { "monday *-12-* 17:00", NULL, "2026-01-01T00:00:00" Z, { "2026-12-07T17:00:00" Z } },
        { "2026-03-05 05:40", NULL, "2026-01-01T00:00:00" Z, { "2026-03-05T05:40:00" Z, "never" } },
        { "2003-03-05", NULL, "2026-01-01T00:00:00" Z, { "never" } },
        { "2026/2-01-01", NULL, "2026-01-01T00:00:00" Z, { "2028-01-01T00:00:00" Z, "2030-01-01T00:00:00" Z } },
        { "2027..2028-06-01",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2027-06-01T00:00:00" Z, "2028-06-01T00:00:00" Z, "never" } },
        { "2030,2027-01-01", NULL, "2026-01-01T00:00:00" Z, { "2027-01-01T00:00:00" Z, "2030-01-01T00:00:00" Z } },
        { "69-01-01", NULL, "2026-01-01T00:00:00" Z, { "2069-01-01T00:00:00" Z } },
        { "12-*-*", NULL, "2026-01-01T00:00:00" Z, { "never" } },
        { "10-15", NULL, "2026-01-01T00:00:00" Z, { "2026-10-15T00:00:00" Z } },
        { "03-05 08:05:40", NULL, "2026-01-01T00:00:00" Z, { "2026-03-05T08:05:40" Z } },
        { "*-*-* 1..3,8:0",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T01:00:00" Z, "2026-01-01T02:00:00" Z, "2026-01-01T03:00:00" Z, "2026-01-01T08:00:00" Z } },
        { "12,14,13,12:20,10,30", NULL, "2026-01-01T12:25:00" Z, { "2026-01-01T12:30:00" Z, "2026-01-01T13:10:00" Z } },
        { "*-*-* 05:40:23", NULL, "2026-01-01T05:40:23" Z, { "2026-01-02T05:40:23" Z } },
        { "*-*-* */6:00", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T06:00:00" Z, "2026-01-01T12:00:00" Z } },
        { "*-*-31", NULL, "2026-01-01T00:00:00" Z, { "2026-01-31T00:00:00" Z, "2026-03-31T00:00:00" Z } },
        { "*-*-01/10",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-11T00:00:00" Z, "2026-01-21T00:00:00" Z, "2026-01-31T00:00:00" Z, "2026-02-01T00:00:00" Z } },
        /* weekday AND date (unlike cron): Feb 29 that is a Monday */
        { "Mon *-02-29", NULL, "2026-01-01T00:00:00" Z, { "2044-02-29T00:00:00" Z, "2072-02-29T00:00:00" Z } },
        { "Tue *-02-29", NULL, "2026-01-01T00:00:00" Z, { "2028-02-29T00:00:00" Z } },
        { "Fri *-*-13", NULL, "2026-01-01T00:00:00" Z, { "2026-02-13T00:00:00" Z, "2026-03-13T00:00:00" Z } },
        { "Thu,Fri 2012-*-1,5 11:12:13", NULL, "2012-01-01T00:00:00" Z, { "2012-01-05T11:12:13" Z } },
        { "*-*-* 23:59:59", NULL, "2026-12-31T23:59:59" Z, { "2027-01-01T23:59:59" Z } },
        { "9999-12-31 23:59:59", NULL, "2026-01-01T00:00:00" Z, { "9999-12-31T23:59:59" Z, "never" } },
        { "*-*/2-01", NULL, "2026-01-01T00:00:00" Z, { "2026-03-01T00:00:00" Z, "2026-05-01T00:00:00" Z } },
        { "*-1/2-1,3 *:30:45", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T00:30:45" Z, "2026-01-01T01:30:45" Z } },
        { "Mon,Fri *-*-3,1,2 *:30:45",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-02T00:30:45" Z, "2026-01-02T01:30:45" Z } },
        { "12..14:10,20,30",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T12:10:00" Z, "2026-01-01T12:20:00" Z, "2026-01-01T12:30:00" Z } },
        { "2003-02..04-05", NULL, "2026-01-01T00:00:00" Z, { "never" } },
        { "Sat,Thu,Mon..Wed,Sat..Sun",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-03T00:00:00" Z, "2026-01-04T00:00:00" Z, "2026-01-05T00:00:00" Z } },
        { "*-*-* 08..18/2:00", NULL, "2026-01-01T16:00:00" Z, { "2026-01-01T18:00:00" Z, "2026-01-02T08:00:00" Z } },
        { "*-*-* 00:00:00/20",
          NULL,
          "2026-01-01T00:00:00" Z,
          { "2026-01-01T00:00:20" Z, "2026-01-01T00:00:40" Z, "2026-01-02T00:00:00" Z } },
        { "*-*-* 00:00:*", NULL, "2026-01-01T00:00:58" Z, { "2026-01-01T00:00:59" Z, "2026-01-02T00:00:00" Z } },
        { "SUNDAY 2026-*-* 23:59:59", NULL, "2026-12-27T23:59:59" Z, { "never" } },
        { "daily UTC", NULL, "2026-01-01T00:00:00" Z, { "2026-01-02T00:00:00" Z } },
        { "*-*-* 10:00 UTC", NULL, "2026-01-01T00:00:00" Z, { "2026-01-01T10:00:00" Z } },
};
#undef Z

/* Real transitions (tzdata): Europe/Berlin springs forward on 2026-03-29
 * at 02:00 CET and falls back on 2026-10-25 at 03:00 CEST; New York on
 * 2026-03-08 02:00 and 2026-11-01 02:00; Lord Howe moves by 30 minutes,
 * 2026-04-05 02:00 (+11) -> 01:30 (+10:30) and 2026-10-04 02:00 -> 02:30;
 * Chatham moves 02:45 -> 03:45 (+12:45 -> +13:45) on 2026-09-27. */
static const struct next_case zone_cases[] = {
        /* fixed time in a gap: once, when the gap ends */
        { "30 2 * * *",
          "Europe/Berlin",
          "2026-03-28T12:00:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00" } },
        { "0 2 * * *",
          "Europe/Berlin",
          "2026-03-28T12:00:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00" } },
        { "30 2 * * *", "Europe/Berlin", "2026-03-29T01:59:59+01:00", { "2026-03-29T03:00:00+02:00" } },
        { "30 2 * * *", "Europe/Berlin", "2026-03-29T03:00:00+02:00", { "2026-03-30T02:30:00+02:00" } },
        { "0 2,3 * * *",
          "Europe/Berlin",
          "2026-03-29T01:59:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2026-03-30T02:00:00+02:00" } },
        { "0 3 * * *",
          "Europe/Berlin",
          "2026-03-28T12:00:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2026-03-30T03:00:00+02:00" } },
        { "*-*-* 02:30",
          "Europe/Berlin",
          "2026-03-28T12:00:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00" } },
        { "*-*-* 02:30 Europe/Berlin",
          NULL,
          "2026-03-28T12:00:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00" } },
        { "*-*-* 02:30 Europe/Berlin",
          "America/New_York",
          "2026-03-28T12:00:00+01:00",
          { "2026-03-29T03:00:00+02:00" } },
        { "15 2 29 3 *",
          "Europe/Berlin",
          "2026-01-01T00:00:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2027-03-29T02:15:00+02:00" } },
        { "0 2 * * *",
          "Europe/Berlin",
          "2100-03-27T00:00:00+01:00",
          { "2100-03-27T02:00:00+01:00", "2100-03-28T03:00:00+02:00", "2100-03-29T02:00:00+02:00" } },
        /* fixed time in an overlap: once, at the first occurrence */
        { "30 2 * * *",
          "Europe/Berlin",
          "2026-10-24T12:00:00+02:00",
          { "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00" } },
        { "30 2 * * *", "Europe/Berlin", "2026-10-25T02:30:00+02:00", { "2026-10-26T02:30:00+01:00" } },
        { "30 2 * * *", "Europe/Berlin", "2026-10-25T02:10:00+01:00", { "2026-10-26T02:30:00+01:00" } },
        { "0 2 * * *",
          "Europe/Berlin",
          "2026-10-25T01:59:59+02:00",
          { "2026-10-25T02:00:00+02:00", "2026-10-26T02:00:00+01:00" } },
        { "0 3 * * *",
          "Europe/Berlin",
          "2026-10-25T00:00:00+02:00",
          { "2026-10-25T03:00:00+01:00", "2026-10-26T03:00:00+01:00" } },
        { "*-*-* 02:00,30:00",
          "Europe/Berlin",
          "2026-10-25T00:00:00+02:00",
          { "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:00:00+01:00" } },
        /* wildcard or step hours: real-time cadence */
        { "*/30 * * * *",
          "Europe/Berlin",
          "2026-03-29T01:00:00+01:00",
          { "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00" } },
        { "*/30 * * * *",
          "Europe/Berlin",
          "2026-10-25T01:45:00+02:00",
          { "2026-10-25T02:00:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:00:00+01:00",
            "2026-10-25T02:30:00+01:00", "2026-10-25T03:00:00+01:00" } },
        { "0 * * * *",
          "Europe/Berlin",
          "2026-10-25T01:30:00+02:00",
          { "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00" } },
        { "15 */1 * * *",
          "Europe/Berlin",
          "2026-03-29T01:00:00+01:00",
          { "2026-03-29T01:15:00+01:00", "2026-03-29T03:15:00+02:00" } },
        { "hourly",
          "Europe/Berlin",
          "2026-10-25T01:30:00+02:00",
          { "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T03:00:00+01:00" } },
        { "*-*-* *:00,30",
          "Europe/Berlin",
          "2026-03-29T01:45:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00" } },
        { "0 0/2 * * *",
          "Europe/Berlin",
          "2026-10-25T01:00:00+02:00",
          { "2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00", "2026-10-25T04:00:00+01:00" } },
        { "@every 1h",
          "Europe/Berlin",
          "2026-03-29T01:30:00+01:00",
          { "2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00" } },
        /* a repetition that selects one hour still keeps real-time cadence: the
         * second pass of the overlap fires although the next one is a year away */
        { "30 2/24 25 10 *",
          "Europe/Berlin",
          "2026-10-25T02:40:00+02:00",
          { "2026-10-25T02:30:00+01:00", "2027-10-25T02:30:00+02:00" } },
        { "30 2 25 10 *", "Europe/Berlin", "2026-10-25T02:40:00+02:00", { "2027-10-25T02:30:00+02:00" } },
        /* a fixed hour range is not a wildcard */
        { "30 1-3 * * *",
          "Europe/Berlin",
          "2026-10-25T00:00:00+02:00",
          { "2026-10-25T01:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T03:30:00+01:00" } },
        { "30 1-3 * * *",
          "Europe/Berlin",
          "2026-03-29T00:00:00+01:00",
          { "2026-03-29T01:30:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:30:00+02:00" } },
        /* America/New_York */
        { "30 2 * * *",
          "America/New_York",
          "2026-03-07T12:00:00-05:00",
          { "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00" } },
        { "30 1 * * *",
          "America/New_York",
          "2026-10-31T12:00:00-04:00",
          { "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00" } },
        { "*/30 * * * *",
          "America/New_York",
          "2026-11-01T00:45:00-04:00",
          { "2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:30:00-05:00", "2026-11-01T02:00:00-05:00" } },
        { "0 9 * * MON-FRI", "America/New_York", "2026-03-06T10:00:00-05:00", { "2026-03-09T09:00:00-04:00" } },
        /* Lord Howe: half-hour DST */
        { "15 2 * * *",
          "Australia/Lord_Howe",
          "2026-10-03T12:00:00+10:30",
          { "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00" } },
        { "45 1 * * *",
          "Australia/Lord_Howe",
          "2026-04-04T12:00:00+11:00",
          { "2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30" } },
        { "*/15 * * * *",
          "Australia/Lord_Howe",
          "2026-04-05T01:20:00+11:00",
          { "2026-04-05T01:30:00+11:00", "2026-04-05T01:45:00+11:00", "2026-04-05T01:30:00+10:30",
            "2026-04-05T01:45:00+10:30", "2026-04-05T02:00:00+10:30" } },
        { "*/15 * * * *",
          "Australia/Lord_Howe",
          "2026-10-04T01:40:00+10:30",
          { "2026-10-04T01:45:00+10:30", "2026-10-04T02:30:00+11:00" } },
        /* Chatham: +12:45 / +13:45 */
        { "0 3 * * *",
          "Pacific/Chatham",
          "2026-09-26T12:00:00+12:45",
          { "2026-09-27T03:45:00+13:45", "2026-09-28T03:00:00+13:45" } },
        /* zones without DST */
        { "0 0 * * *",
          "Asia/Kathmandu",
          "2026-01-01T00:00:00+05:45",
          { "2026-01-02T00:00:00+05:45", "2026-01-03T00:00:00+05:45" } },
        { "30 2 * * *", "Asia/Kolkata", "2026-03-28T00:00:00+05:30", { "2026-03-28T02:30:00+05:30" } },
        { "30 2 * * *",
          "Asia/Tokyo",
          "2026-10-24T12:00:00+09:00",
          { "2026-10-25T02:30:00+09:00", "2026-10-26T02:30:00+09:00" } },
        { "*-*-* 02:30 Asia/Tokyo", "Europe/Berlin", "2026-10-24T12:00:00+09:00", { "2026-10-25T02:30:00+09:00" } },
        { "0 0 1 1 *", "UTC", "2026-06-01T00:00:00+00:00", { "2027-01-01T00:00:00+00:00" } },
        /* southern hemisphere year rollover in summer time */
        { "0 0 1 1 *", "Australia/Sydney", "2026-06-01T00:00:00+10:00", { "2027-01-01T00:00:00+11:00" } },
        { "0 0 * * *", "Pacific/Kiritimati", "2026-01-01T00:00:00+14:00", { "2026-01-02T00:00:00+14:00" } },
};

START_TEST(cron_next) { check_next(&cron_cases[_i]); }
END_TEST

START_TEST(calendar_next) { check_next(&calendar_cases[_i]); }
END_TEST

START_TEST(zone_next) { check_next(&zone_cases[_i]); }
END_TEST

struct dst_case {
        const char *expr, *zone, *after;
        enum schedule_dst dst;
};

static const struct dst_case dst_cases[] = {
        { "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00+01:00", SCHEDULE_DST_GAP },
        { "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00+02:00", SCHEDULE_DST_OVERLAP },
        { "30 2 * * *", "Europe/Berlin", "2026-10-25T03:00:00+02:00", SCHEDULE_DST_NONE },
        { "*/30 * * * *", "Europe/Berlin", "2026-10-25T02:10:00+01:00", SCHEDULE_DST_OVERLAP },
        { "*/30 * * * *", "Europe/Berlin", "2026-10-25T02:40:00+01:00", SCHEDULE_DST_NONE },
        { "30 2 * * *", NULL, "2026-03-28T12:00:00+01:00", SCHEDULE_DST_NONE },
};

START_TEST(reports_dst_kind)
{
        const struct dst_case *c = &dst_cases[_i];
        struct schedule *s = NULL;
        ck_assert_int_eq(schedule_parse(c->expr, cache, &s, NULL, 0), 0);
        struct schedule_fire fire;
        ck_assert_int_eq(schedule_next_fire(s, zone_or_null(c->zone), iso(c->after), &fire), 0);
        ck_assert_int_eq(fire.dst, c->dst);
        schedule_free(s);
}
END_TEST

struct error_case {
        const char *expr;
        int error;
        const char *message;
};

static const struct error_case error_cases[] = {
        { "61 0 * * *", -EINVAL, "minute: 61 is out of range 0-59" },
        { "0 24 * * *", -EINVAL, "hour: 24 is out of range 0-23" },
        { "0 0 0 * *", -EINVAL, "day-of-month: 0 is out of range 1-31" },
        { "0 0 32 * *", -EINVAL, "day-of-month: 32 is out of range 1-31" },
        { "0 0 1 13 *", -EINVAL, "month: 13 is out of range 1-12" },
        { "0 0 1 0 *", -EINVAL, "month: 0 is out of range 1-12" },
        { "0 0 * * 8", -EINVAL, "day-of-week: 8 is out of range 0-7" },
        { "60 * * * * *", -EINVAL, "second: 60 is out of range 0-59" },
        { "0 1-61 * * *", -EINVAL, "hour: 61 is out of range 0-23" },
        { "1234567890 * * * *", -EINVAL, "minute: 1234567890 is out of range 0-59" },
        { "*/0 * * * *", -EINVAL, "minute: step 0 is out of range 1-999999999" },
        { "*/1234567890 * * * *", -EINVAL, "minute: '*/1234567890' has no valid step" },
        { "*/x * * * *", -EINVAL, "minute: '*/x' has no valid step" },
        { "0 22-2 * * *", -EINVAL, "hour: range 22-2 is backwards" },
        { "0 0 * * SAT-MON", -EINVAL, "day-of-week: range SAT-MON is backwards" },
        { "0 0 * FOO *", -EINVAL, "month: 'FOO' is not a name (jan-dec)" },
        { "0 0 * * MON-FOO", -EINVAL, "day-of-week: 'FOO' is not a name (sun-sat)" },
        { "0 0 * * MONDAY", -EINVAL, "day-of-week: 'MONDAY' is not a name (sun-sat)" },
        { "0 JAN * * *", -EINVAL, "hour: 'JAN' is not a number" },
        { "a * * * *", -EINVAL, "minute: 'a' is not a number" },
        { "1x * * * *", -EINVAL, "minute: '1x' is not a number" },
        { "1,,2 * * * *", -EINVAL, "minute: empty list item in '1,,2'" },
        { "1, * * * *", -EINVAL, "minute: empty list item in '1,'" },
        { "0 0 * *", -EINVAL, "cron: expected 5 or 6 fields, got 4" },
        { "0 0 *", -EINVAL, "cron: expected 5 or 6 fields, got 3" },
        { "* * * * * * *", -EINVAL, "cron: expected 5 or 6 fields, got 7" },
        { "0 0 30 2 *", -EINVAL, "'0 0 30 2 *' never fires" },
        { "0 0 31 4,6,9,11 *", -EINVAL, "'0 0 31 4,6,9,11 *' never fires" },
        { "0 0 30,31 2 *", -EINVAL, "'0 0 30,31 2 *' never fires" },
        { "@foo", -EINVAL, "unknown keyword '@foo'" },
        { "@daily x", -EINVAL, "@daily: unexpected 'x'" },
        { "@every", -EINVAL, "every: '' is not a time span" },
        { "@every 0", -EINVAL, "every: '0' is shorter than 1s" },
        { "@every 1500ms", -EINVAL, "every: '1500ms' is not a whole number of seconds" },
        { "@every soon", -EINVAL, "every: 'soon' is not a time span" },
        { "@every 584542y", -EINVAL, "every: '584542y' is longer than the maximum, 10y" },
        { "@every 10y 1s", -EINVAL, "every: '10y 1s' is longer than the maximum, 10y" },
        { "", -EINVAL, "expression is empty" },
        { "   ", -EINVAL, "expression is empty" },
        { "*-*-* 25:00", -EINVAL, "hour: 25 is out of range 0-23" },
        { "*-*-* 10:60", -EINVAL, "minute: 60 is out of range 0-59" },
        { "*-*-* 10:00:60", -EINVAL, "second: 60 is out of range 0-59" },
        { "*-13-01", -EINVAL, "month: 13 is out of range 1-12" },
        { "*-*-32", -EINVAL, "day: 32 is out of range 1-31" },
        { "*-*-0", -EINVAL, "day: 0 is out of range 1-31" },
        { "1969-01-01", -EINVAL, "year: 1969 is out of range 1970-9999" },
        { "10000-01-01", -EINVAL, "year: 10000 is out of range 1970-9999" },
        { "*-*-* 1234567890:00", -EINVAL, "hour: '1234567890' is out of range 0-23" },
        { "*-02-30", -EINVAL, "'*-02-30' never fires" },
        { "*-04-31", -EINVAL, "'*-04-31' never fires" },
        { "Sat,Sun 2026..2030-02-29", -EINVAL, "'Sat,Sun 2026..2030-02-29' never fires" },
        { "2027-02-29", -EINVAL, "'2027-02-29' never fires" },
        { "Fri..Mon", -EINVAL, "weekday: range 'Fri..Mon' is backwards" },
        { "Foo 10:00", -EINVAL, "weekday: 'Foo' is not a weekday name" },
        { "Mon..Foo", -EINVAL, "weekday: 'Foo' is not a weekday name" },
        { "Mon;Tue", -EINVAL, "weekday: unexpected ';Tue' in 'Mon;Tue'" },
        { "*-*-* 10:00:1.5", -EINVAL, "second: '1.5': fractions of a second are not supported" },
        { "*-*-* 10:00:00/0.5", -EINVAL, "second: '00/0.5': fractions of a second are not supported" },
        { "*-*-* 10", -EINVAL, "calendar: unexpected '10' after the date" },
        { "10:00 11:00", -EINVAL, "calendar: unexpected '11:00' after the time" },
        { "*-*-* 3..1:00", -EINVAL, "hour: range 3..1 is backwards" },
        { "*-*-* 0/0:00", -EINVAL, "hour: repetition '0' is not a number of at least 1" },
        { "*-*-* 0/x:00", -EINVAL, "hour: repetition 'x' is not a number of at least 1" },
        /* as systemd: a value's repetition must repeat within its field */
        { "*-*-* 0/24:00", -EINVAL, "hour: repetition '24' never repeats after 0 (at most 23)" },
        { "*:5/55", -EINVAL, "minute: repetition '55' never repeats after 5 (at most 54)" },
        { "*-2/11-01", -EINVAL, "month: repetition '11' never repeats after 2 (at most 10)" },
        { "*-*-1/31", -EINVAL, "day: repetition '31' never repeats after 1 (at most 30)" },
        { "*:*/60", -EINVAL, "minute: repetition '60' never repeats after 0 (at most 59)" },
        { "*-*-* x:00", -EINVAL, "hour: 'x' is not a number" },
        { "*-*-* 10:", -EINVAL, "minute: '' is not a number" },
        { "*-*-* 10:00:00:00", -EINVAL, "time: '10' has too many components" },
        { "*-*-* 10", -EINVAL, "calendar: unexpected '10' after the date" },
        { "daily extra words", -EINVAL, "calendar: unexpected 'words' after 'daily'" },
        { "*-*-*-*", -EINVAL, "date: '*' has too many components" },
        { "2026", -EINVAL, "date: '2026' needs a month and a day" },
        { "*-1,,2-01", -EINVAL, "month: '1,,2' is not a number" },
        { "10:00 Mars/Olympus", -ENOENT, "zone: unknown time zone 'Mars/Olympus'" },
        { "daily Nowhere/Land", -ENOENT, "zone: unknown time zone 'Nowhere/Land'" },
        { "10:00 ../etc/passwd", -EINVAL, "zone: '../etc/passwd' is not a valid time zone" },
        { "10:00 UTC extra", -EINVAL, "calendar: unexpected 'extra'" },
};

START_TEST(rejects_with_message)
{
        const struct error_case *c = &error_cases[_i];
        struct schedule *s = (struct schedule *)0x1;
        char err[256] = "untouched";
        int r = schedule_parse(c->expr, cache, &s, err, sizeof(err));
        ck_assert_msg(r == c->error, "'%s': expected %d, got %d (%s)", c->expr, c->error, r, err);
        ck_assert_str_eq(err, c->message);
        ck_assert_ptr_eq(s, (struct schedule *)0x1);
}
END_TEST

START_TEST(message_is_truncated_safely)
{
        struct schedule *s = NULL;
        char err[8];
        ck_assert_int_eq(schedule_parse("61 0 * * *", cache, &s, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "minute:");
        ck_assert_int_eq(schedule_parse("61 0 * * *", cache, &s, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(zone_needs_a_cache)
{
        struct schedule *s = NULL;
        char err[128];
        ck_assert_int_eq(schedule_parse("daily Europe/Berlin", NULL, &s, err, sizeof(err)), -ENOENT);
        ck_assert_str_eq(err, "zone: 'Europe/Berlin' cannot be resolved here");
        ck_assert_int_eq(schedule_parse("daily", NULL, &s, err, sizeof(err)), 0);
        schedule_free(s);
}
END_TEST

START_TEST(overlong_expression_is_refused)
{
        char text[2000];
        memset(text, '1', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        struct schedule *s = NULL;
        char err[128];
        ck_assert_int_eq(schedule_parse(text, cache, &s, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "expression is longer than 1023 bytes");
}
END_TEST

START_TEST(kinds_and_properties)
{
        struct schedule *s = NULL;
        ck_assert_int_eq(schedule_parse("@reboot", cache, &s, NULL, 0), 0);
        ck_assert_int_eq(schedule_kind(s), SCHEDULE_REBOOT);
        int64_t at;
        ck_assert_int_eq(schedule_next(s, NULL, 0, &at), -ENOENT);
        schedule_free(s);

        ck_assert_int_eq(schedule_parse("@every 2h 30min", cache, &s, NULL, 0), 0);
        ck_assert_int_eq(schedule_kind(s), SCHEDULE_EVERY);
        ck_assert_uint_eq(schedule_period(s), 9000);
        ck_assert_ptr_null(schedule_zone(s));
        schedule_free(s);

        ck_assert_int_eq(schedule_parse("0 0 * * *", cache, &s, NULL, 0), 0);
        ck_assert_int_eq(schedule_kind(s), SCHEDULE_CRON);
        ck_assert_uint_eq(schedule_period(s), 0);
        schedule_free(s);

        ck_assert_int_eq(schedule_parse("@daily", cache, &s, NULL, 0), 0);
        ck_assert_int_eq(schedule_kind(s), SCHEDULE_CRON);
        schedule_free(s);

        ck_assert_int_eq(schedule_parse("daily", cache, &s, NULL, 0), 0);
        ck_assert_int_eq(schedule_kind(s), SCHEDULE_CALENDAR);
        ck_assert_ptr_null(schedule_zone(s));
        schedule_free(s);

        ck_assert_int_eq(schedule_parse("daily UTC", cache, &s, NULL, 0), 0);
        ck_assert_ptr_nonnull(schedule_zone(s));
        ck_assert_str_eq(tz_name(schedule_zone(s)), "UTC");
        schedule_free(s);
}
END_TEST

START_TEST(schedule_is_small)
{
        /* docs/ARCHITECTURE.md: at most 1 KiB per loaded job, schedule included. */
        struct schedule *s = NULL;
        ck_assert_int_eq(schedule_parse("0 0 * * *", cache, &s, NULL, 0), 0);
        ck_assert_uint_le(malloc_usable_size(s), 256);
        schedule_free(s);
}
END_TEST

START_TEST(every_is_stable_across_restarts)
{
        struct schedule *s = NULL;
        ck_assert_int_eq(schedule_parse("@every 45m", cache, &s, NULL, 0), 0);
        int64_t a, b;
        /* from any instant inside one period, the same next fire */
        ck_assert_int_eq(schedule_next(s, NULL, 1767225600 + 1, &a), 0);
        ck_assert_int_eq(schedule_next(s, NULL, 1767225600 + 2000, &b), 0);
        ck_assert_int_eq(a, b);
        ck_assert_int_eq(a % 2700, 0);
        ck_assert_int_eq(schedule_next(s, NULL, -1, &a), 0);
        ck_assert_int_eq(a, 0);
        ck_assert_int_eq(schedule_next(s, NULL, INT64_MAX - 10, &a), -ENOENT);
        schedule_free(s);
}
END_TEST

START_TEST(far_instants_are_bounded)
{
        struct schedule *s = NULL;
        ck_assert_int_eq(schedule_parse("0 0 * * *", cache, &s, NULL, 0), 0);
        int64_t at;
        ck_assert_int_eq(schedule_next(s, NULL, INT64_MAX, &at), -ENOENT);
        ck_assert_int_eq(schedule_next(s, NULL, INT64_MAX - 1, &at), -ENOENT);
        ck_assert_int_eq(schedule_next(s, NULL, INT64_MIN, &at), 0);
        ck_assert_int_eq(at, INT64_C(-62135596800)); /* 0001-01-01 */
        const struct tz *ny = zone_or_null("America/New_York");
        ck_assert_int_eq(schedule_next(s, ny, INT64_MIN, &at), 0);
        ck_assert_int_lt(at, INT64_C(-62135596800) + 2 * 86400);
        ck_assert_int_eq(schedule_next(s, ny, INT64_MAX, &at), -ENOENT);
        ck_assert_int_eq(schedule_next(s, ny, INT64_C(253402300799), &at), -ENOENT);
        schedule_free(s);
}
END_TEST

/* Every fire is strictly after the previous one over a long walk, and the
 * walk never runs out early: a check against carry bugs in next_time(). */
START_TEST(walk_is_strictly_increasing)
{
        static const char *const exprs[] = { "*/7 */5 * * * *", "13 */3 */4 */5 *", "0 0 29 2 *" /* 4000 years */,
                                             "Mon *-*~2 *:*:10/20" };
        for (size_t k = 0; k < sizeof(exprs) / sizeof(exprs[0]); k++) {
                struct schedule *s = NULL;
                ck_assert_int_eq(schedule_parse(exprs[k], cache, &s, NULL, 0), 0);
                int64_t after = INT64_C(1767225600), at;
                for (int i = 0; i < 1000; i++) {
                        ck_assert_int_eq(schedule_next(s, NULL, after, &at), 0);
                        ck_assert_int_gt(at, after);
                        after = at;
                }
                schedule_free(s);
        }
}
END_TEST

/* ---- a brute-force reference for the DST rules ----
 * Steps minute by minute through real time and applies the DST rules of docs/ARCHITECTURE.md
 * literally: a matching local time fires at its first occurrence (fixed
 * hour) or at every occurrence (wildcard hour); at a spring-forward
 * transition a fixed-hour schedule fires if any skipped local time
 * matches. It shares nothing with the engine but the parsed bitmaps. */
static bool ref_day_matches(const struct schedule *s, const struct tz_civil *c)
{
        int dim = tz_days_in_month(c->year, c->month);
        bool dom = s->from_end ? (s->mdays >> (dim + 1 - c->day)) & 1 : (s->mdays >> c->day) & 1;
        bool dow = (s->weekdays >> c->weekday) & 1;
        return s->day_or ? (dom || dow) : (dom && dow);
}

static bool ref_matches(const struct schedule *s, const struct tz_civil *c)
{
        if (s->year_count) {
                bool any = false;
                for (unsigned i = 0; i < s->year_count; i++)
                        any |= c->year >= s->years[i].first && c->year <= s->years[i].last &&
                               (c->year - s->years[i].first) % s->years[i].step == 0;
                if (!any)
                        return false;
        }
        return ((s->months >> c->month) & 1) && ref_day_matches(s, c) && ((s->hours >> c->hour) & 1) &&
               ((s->minutes >> c->minute) & 1) && ((s->seconds >> c->second) & 1);
}

static bool ref_local_matches(const struct schedule *s, int64_t local)
{
        struct tz_civil c = { 0 };
        int64_t days = local / 86400 - (local % 86400 < 0), sod = local - days * 86400;
        tz_civil_from_days(days, &c.year, &c.month, &c.day);
        c.hour = (int)(sod / 3600);
        c.minute = (int)(sod / 60 % 60);
        c.second = (int)(sod % 60);
        c.weekday = (int)(((days % 7) + 11) % 7);
        return ref_matches(s, &c);
}

/* Minute-granularity schedules only (seconds = {0}). */
static bool ref_next(const struct schedule *s, const struct tz *zone, int64_t after, int64_t limit, int64_t *out)
{
        for (int64_t u = after - after % 60 + 60; u <= limit; u += 60) {
                struct tz_span span;
                tz_span_at(zone, u, &span);
                if (!s->hour_wildcard && span.start == u && span.prev_offset < span.offset)
                        for (int64_t l = u + span.prev_offset; l < u + span.offset; l += 60)
                                if (ref_local_matches(s, l)) {
                                        *out = u;
                                        return true;
                                }
                struct tz_civil c;
                tz_to_civil(zone, u, &c);
                if (!ref_matches(s, &c))
                        continue;
                int64_t first, second;
                if (!s->hour_wildcard && tz_from_civil(zone, &c, &first, &second) == 2 && first != u)
                        continue; /* the second pass of an overlap */
                *out = u;
                return true;
        }
        return false;
}

static const char *const ref_zones[] = { "Europe/Berlin",   "America/New_York", "Australia/Lord_Howe",
                                         "Pacific/Chatham", "America/Santiago", "Europe/London" };

static int ref_random(uint64_t *rng, int n)
{
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        return (int)(*rng % (uint64_t)n);
}

START_TEST(agrees_with_brute_force_around_transitions)
{
        uint64_t rng = 0x243f6a8885a308d3ull + (uint64_t)_i * 0x9e3779b97f4a7c15ull;
#define RND(n) ref_random(&rng, (n))
        const struct tz *zone = zone_or_null(ref_zones[_i % 6]);
        /* a transition between 2025 and 2040, found through the engine's zone */
        struct tz_span span;
        tz_span_at(zone, INT64_C(1735689600) + (int64_t)RND(15 * 365) * 86400, &span);
        int64_t transition = span.end;

        for (int k = 0; k < 40; k++) {
                char expr[128];
                static const char *const hours[] = { "*", "*/2", "1-3", "2", "3", "0/3", "1,2", "*/1", "0-23" };
                static const char *const minutes[] = { "0", "30", "*/15", "*/20", "45", "0,30", "15", "*/7" };
                const char *minute = minutes[RND(8)], *hour = hours[RND(9)], *dow = RND(3) ? "*" : "MON-FRI";
                snprintf(expr, sizeof(expr), "%s %s * * %s", minute, hour, dow);
                struct schedule *s = NULL;
                ck_assert_int_eq(schedule_parse(expr, cache, &s, NULL, 0), 0);
                int64_t after = transition - 6 * 3600 + RND(12 * 3600);
                for (int n = 0; n < 8; n++) {
                        int64_t want, got;
                        if (!ref_next(s, zone, after, after + 4 * 86400, &want))
                                break;
                        ck_assert_int_eq(schedule_next(s, zone, after, &got), 0);
                        char a[64], b[64], c[64];
                        ck_assert_msg(got == want, "'%s' in %s after %s: engine %s, reference %s", expr, tz_name(zone),
                                      format(zone, after, a, sizeof(a)), format(zone, got, b, sizeof(b)),
                                      format(zone, want, c, sizeof(c)));
                        after = got;
                }
                schedule_free(s);
        }
#undef RND
}
END_TEST

static Suite *schedule_suite(void)
{
        Suite *s = suite_create("schedule");
        TCase *tc = tcase_create("cron");
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_loop_test(tc, cron_next, 0, sizeof(cron_cases) / sizeof(cron_cases[0]));
        suite_add_tcase(s, tc);

        tc = tcase_create("calendar");
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_loop_test(tc, calendar_next, 0, sizeof(calendar_cases) / sizeof(calendar_cases[0]));
        suite_add_tcase(s, tc);

        tc = tcase_create("zones");
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_loop_test(tc, zone_next, 0, sizeof(zone_cases) / sizeof(zone_cases[0]));
        tcase_add_loop_test(tc, reports_dst_kind, 0, sizeof(dst_cases) / sizeof(dst_cases[0]));
        tcase_add_loop_test(tc, agrees_with_brute_force_around_transitions, 0, 36);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_loop_test(tc, rejects_with_message, 0, sizeof(error_cases) / sizeof(error_cases[0]));
        tcase_add_test(tc, message_is_truncated_safely);
        tcase_add_test(tc, zone_needs_a_cache);
        tcase_add_test(tc, overlong_expression_is_refused);
        suite_add_tcase(s, tc);

        tc = tcase_create("properties");
        tcase_add_checked_fixture(tc, cache_setup, cache_teardown);
        tcase_add_test(tc, kinds_and_properties);
        tcase_add_test(tc, schedule_is_small);
        tcase_add_test(tc, every_is_stable_across_restarts);
        tcase_add_test(tc, far_instants_are_bounded);
        tcase_add_test(tc, walk_is_strictly_increasing);
        suite_add_tcase(s, tc);
        return s;
}

/* The engine is pure: its tests need no process of their own, and under
 * AddressSanitizer every forked test pays a LeakSanitizer pass at exit
 * (a quarter of a second each on a loaded machine). Leaks are still
 * checked, once, when the suite exits. CK_FORK=yes restores forking. */
__attribute__((constructor)) static void run_in_process(void) { setenv("CK_FORK", "no", 0); }

TEST_MAIN(schedule_suite)
