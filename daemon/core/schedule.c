/* schedule.c — next fire time of a parsed schedule; see schedule.h.
 *
 * The search runs in "local seconds" (civil time read as if it were UTC).
 * A zone is a sequence of spans of constant offset; within a span the map
 * local = utc + offset is monotonic, so the first matching instant of the
 * span is the first matching local time at or after the span's local
 * start. Finding that local time is field-wise arithmetic on civil dates
 * (next month bit, next day bit, next hour bit, ...), never stepping
 * second by second. The DST rules are applied at span boundaries only. */
#include "core/schedule-internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

/* 9999-12-31 23:59:59 as local seconds: the search gives up after it. */
#define LOCAL_MAX INT64_C(253402300799)
/* 0001-01-01 00:00:00: earlier instants are searched from here. */
#define LOCAL_MIN       INT64_C(-62135596800)
#define SECONDS_PER_DAY 86400
/* More than any two UTC offsets of one zone can differ (RFC 8536: -25h..+26h). */
#define OFFSET_SWING (3 * SECONDS_PER_DAY)

static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Proleptic Gregorian day numbers, day 0 = 1970-01-01. Kept local and
 * inline because they sit on the hot path of every computation. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        *d = (int)(doy - (153 * mp + 2) / 5 + 1);
        *m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *y = yoe + era * 400 + (*m <= 2);
}

static int weekday_of_days(int64_t days) { return (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */ }

static bool leap_year(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int month_days(int64_t y, int m)
{
        static const uint8_t days[] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        return m == 2 && leap_year(y) ? 29 : days[m];
}

static int next_bit(uint64_t mask, int from)
{
        if (from >= 64)
                return -1;
        uint64_t m = mask & (~UINT64_C(0) << from);
        return m ? __builtin_ctzll(m) : -1;
}

static bool year_matches(const struct schedule *s, int64_t y)
{
        if (s->year_count == 0)
                return true;
        for (unsigned i = 0; i < s->year_count; i++) {
                const struct schedule_years *r = &s->years[i];
                if (y >= r->first && y <= r->last && (y - r->first) % r->step == 0)
                        return true;
        }
        return false;
}

/* The first matching year >= Y, or INT64_MAX. */
static int64_t next_year(const struct schedule *s, int64_t y)
{
        int64_t best = INT64_MAX;
        for (unsigned i = 0; i < s->year_count; i++) {
                const struct schedule_years *r = &s->years[i];
                if (y > r->last)
                        continue;
                int64_t c = r->first;
                if (y > c)
                        c += (y - c + r->step - 1) / r->step * r->step;
                if (c <= r->last && c < best)
                        best = c;
        }
        return best;
}

/* The days 1..31 of a month whose 1st is weekday FIRST (0 = Sunday)
 * that fall on one of WEEKDAYS, as bits: the weekday bits turned so that
 * bit 0 is the 1st's, then repeated every 7 days. Computed per month
 * rather than stored per schedule (issue 16: memory per loaded job). */
static uint32_t weekday_days(uint8_t weekdays, int first)
{
        uint64_t turned = ((weekdays >> first) | (weekdays << (7 - first))) & 0x7f;
        uint64_t repeated = turned * (1 | UINT64_C(1) << 7 | UINT64_C(1) << 14 | UINT64_C(1) << 21 | UINT64_C(1) << 28);
        return (uint32_t)(repeated << 1);
}

static uint32_t reverse_bits(uint32_t x)
{
        x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
        x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
        x = ((x >> 4) & 0x0f0f0f0fu) | ((x & 0x0f0f0f0fu) << 4);
        x = ((x >> 8) & 0x00ff00ffu) | ((x & 0x00ff00ffu) << 8);
        return (x >> 16) | (x << 16);
}

/* Calendar "~": bit k of MDAYS (the k-th last day) as day DIM + 1 - k
 * of a month of DIM days. Bits past the month fall below day 1. */
static uint32_t end_days(uint32_t mdays, int dim)
{
        return (uint32_t)(((uint64_t)reverse_bits(mdays) << 1) >> (31 - dim));
}

/* Days 1..31 of month M of year Y that match, as bits. */
static uint32_t month_day_mask(const struct schedule *s, int64_t y, int m)
{
        int dim = month_days(y, m);
        uint32_t valid = (uint32_t)((UINT64_C(1) << (dim + 1)) - 2);
        uint32_t dom = s->from_end ? end_days(s->mdays, dim) : s->mdays;
        uint32_t dow = weekday_days(s->weekdays, weekday_of_days(days_from_civil(y, m, 1)));
        return (s->day_or ? (dom | dow) : (dom & dow)) & valid;
}

/* Moves (Y, M, D) to the first matching date at or after it. False when
 * there is none up to year 9999. At most 12 months are looked at per year
 * and non-matching years are jumped over. */
static bool next_date(const struct schedule *s, int64_t *y, int *m, int *d, int64_t year_limit)
{
        int64_t yy = *y;
        int mm = *m, dd = *d;

        while (yy <= year_limit) {
                if (!year_matches(s, yy)) {
                        yy = next_year(s, yy);
                        mm = 1;
                        dd = 1;
                        continue;
                }
                int nm = next_bit(s->months, mm);
                if (nm < 0 || nm > 12) {
                        yy++;
                        mm = 1;
                        dd = 1;
                        continue;
                }
                if (nm != mm) {
                        mm = nm;
                        dd = 1;
                }
                uint32_t days = month_day_mask(s, yy, mm) & (uint32_t)(~UINT64_C(0) << dd);
                if (days) {
                        *y = yy;
                        *m = mm;
                        *d = __builtin_ctz(days);
                        return true;
                }
                mm++;
                dd = 1;
        }
        return false;
}

/* The first matching time of day at or after *SECOND_OF_DAY; false if none. */
static bool next_time(const struct schedule *s, int *second_of_day)
{
        int h = *second_of_day / 3600, mi = *second_of_day / 60 % 60, sec = *second_of_day % 60;

        for (;;) {
                int nh = next_bit(s->hours, h);
                if (nh < 0 || nh > 23)
                        return false;
                if (nh != h) {
                        h = nh;
                        mi = 0;
                        sec = 0;
                }
                int nmi = next_bit(s->minutes, mi);
                if (nmi < 0) {
                        h++;
                        mi = sec = 0;
                        continue;
                }
                if (nmi != mi) {
                        mi = nmi;
                        sec = 0;
                }
                int nsec = next_bit(s->seconds, sec);
                if (nsec < 0) {
                        if (++mi == 60) {
                                h++;
                                mi = 0;
                        }
                        sec = 0;
                        continue;
                }
                *second_of_day = h * 3600 + mi * 60 + nsec;
                return true;
        }
}

/* The first matching local time at or after FROM (local seconds). */
static bool next_local(const struct schedule *s, int64_t from, int64_t *out)
{
        if (from > LOCAL_MAX)
                return false;
        if (from < LOCAL_MIN)
                from = LOCAL_MIN;
        int64_t days = floor_div(from, SECONDS_PER_DAY);
        int tod = (int)(from - days * SECONDS_PER_DAY);
        int64_t y;
        int m, d;
        civil_from_days(days, &y, &m, &d);

        int64_t y0 = y;
        int m0 = m, d0 = d;
        if (!next_date(s, &y, &m, &d, SCHEDULE_YEAR_MAX))
                return false;
        if (y == y0 && m == m0 && d == d0) {
                if (next_time(s, &tod)) {
                        *out = days * SECONDS_PER_DAY + tod;
                        return true;
                }
                civil_from_days(days + 1, &y, &m, &d);
                if (!next_date(s, &y, &m, &d, SCHEDULE_YEAR_MAX))
                        return false;
        }
        tod = 0;
        if (!next_time(s, &tod))
                return false; /* unreachable: every time field has a bit */
        *out = days_from_civil(y, m, d) * SECONDS_PER_DAY + tod;
        return true;
}

bool schedule_finish(struct schedule *s)
{
        if (s->kind != SCHEDULE_CRON && s->kind != SCHEDULE_CALENDAR)
                return true;
        /* Day patterns repeat every 400 years; with year ranges, search them all. */
        int64_t y = SCHEDULE_YEAR_MIN;
        int m = 1, d = 1;
        if (s->year_count) {
                y = next_year(s, 0);
                return next_date(s, &y, &m, &d, SCHEDULE_YEAR_MAX);
        }
        return next_date(s, &y, &m, &d, SCHEDULE_YEAR_MIN + 400);
}

void schedule_free(struct schedule *s) { free(s); }

_Static_assert(offsetof(struct schedule, years) <= 48, "a schedule without year ranges is 48 bytes (issue 16)");
_Static_assert(SCHEDULE_EVERY_MAX_SEC <= UINT32_MAX, "an @every period fits struct schedule's 32 bits");

size_t schedule_size(const struct schedule *s)
{
        size_t size = offsetof(struct schedule, years) + s->year_count * sizeof(s->years[0]);
        return (size + 7) & ~(size_t)7;
}

const char *schedule_text(const struct schedule *s) { return (const char *)s + schedule_size(s); }

enum schedule_kind schedule_kind(const struct schedule *s) { return (enum schedule_kind)s->kind; }

const struct tz *schedule_zone(const struct schedule *s) { return s->zone; }

const char *const schedule_cron_fields[SCHEDULE_CRON_FIELDS] = { "second",       "minute", "hour",
                                                                 "day-of-month", "month",  "day-of-week" };

const char *schedule_lone_step(const struct schedule *s, int *step, int *value)
{
        if (!s->lone_step_field)
                return NULL;
        *step = (int)s->lone_step;
        *value = s->lone_step_value;
        return schedule_cron_fields[s->lone_step_field - 1];
}

uint64_t schedule_period(const struct schedule *s) { return s->kind == SCHEDULE_EVERY ? s->period : 0; }

static int next_every(const struct schedule *s, int64_t after, struct schedule_fire *out)
{
        int64_t p = (int64_t)s->period;
        int64_t k = floor_div(after, p);
        if (k >= INT64_MAX / p - 1)
                return -ENOENT;
        *out = (struct schedule_fire){ .at = (k + 1) * p, .dst = SCHEDULE_DST_NONE };
        return 0;
}

/* The first fire at or after T in ZONE, span by span. */
static int next_in_zone(const struct schedule *s, const struct tz *zone, int64_t t, struct schedule_fire *out)
{
        /* CACHED is the first match at or after CACHED_FROM (local seconds):
         * while spans only move the local start forward, it stays valid and
         * skipping a span costs one tz_span_at(). */
        int64_t cached = 0, cached_from = INT64_MAX, local;
        bool first_span = true;
        for (;;) {
                struct tz_span span;
                tz_span_at(zone, t, &span);
                int64_t o = span.offset;

                /* Searching from the very instant a gap ends: the previous span's
                 * end-of-span check below never ran for this gap. */
                if (first_span && t == span.start && span.prev_offset < o && !s->hour_wildcard &&
                    next_local(s, t + span.prev_offset, &local) && local < t + o) {
                        *out = (struct schedule_fire){ .at = t, .dst = SCHEDULE_DST_GAP };
                        return 0;
                }
                first_span = false;
                int64_t from = t + o;

                if (from >= cached_from && from <= cached)
                        local = cached;
                else if (!next_local(s, from, &local))
                        return -ENOENT;
                cached = local;
                cached_from = from;

                if (local - o < span.end) {
                        /* Local times below START + PREV_OFFSET already happened in
                         * the previous span: a fixed-time schedule fired there. */
                        if (span.start != INT64_MIN && span.prev_offset > o && local < span.start + span.prev_offset) {
                                if (!s->hour_wildcard) {
                                        t = span.start + span.prev_offset - o;
                                        continue;
                                }
                                *out = (struct schedule_fire){ .at = local - o, .dst = SCHEDULE_DST_OVERLAP };
                                return 0;
                        }
                        bool before_fall_back =
                                span.end != INT64_MAX && span.next_offset < o && local >= span.end + span.next_offset;
                        *out = (struct schedule_fire){
                                .at = local - o,
                                .dst = before_fall_back ? SCHEDULE_DST_OVERLAP : SCHEDULE_DST_NONE,
                        };
                        return 0;
                }
                if (span.end == INT64_MAX)
                        return -ENOENT; /* unreachable: LOCAL_MAX bounds next_local */
                /* Spring forward at END: local times [END+O, END+NEXT_OFFSET) never
                 * happen. A fixed-time schedule due in them fires at END, once. */
                if (!s->hour_wildcard && span.next_offset > o && local < span.end + span.next_offset) {
                        *out = (struct schedule_fire){ .at = span.end, .dst = SCHEDULE_DST_GAP };
                        return 0;
                }
                /* Nothing in [FROM, LOCAL) matches. A later instant U reaches a
                 * local time below FROM only if the offset fell by more than
                 * U - T, and above LOCAL only if it rose by more than
                 * LOCAL - O - U: RFC 8536 keeps offsets within -25h..+26h, so
                 * with OFFSET_SWING of room on both sides, the spans between
                 * can be jumped over instead of visited one by one. */
                int64_t jump = local - o - OFFSET_SWING;
                t = span.end - t >= OFFSET_SWING && jump > span.end ? jump : span.end;
        }
}

int schedule_next_fire(const struct schedule *s, const struct tz *zone, int64_t after, struct schedule_fire *out)
{
        if (s->kind == SCHEDULE_REBOOT)
                return -ENOENT;
        if (s->kind == SCHEDULE_EVERY)
                return next_every(s, after, out);
        if (after >= LOCAL_MAX + 2 * SECONDS_PER_DAY)
                return -ENOENT;
        /* Far enough below year 1 that no offset reaches it, and no overflow. */
        if (after < LOCAL_MIN - OFFSET_SWING)
                after = LOCAL_MIN - OFFSET_SWING;
        if (s->zone)
                zone = s->zone;
        if (zone)
                return next_in_zone(s, zone, after + 1, out);

        int64_t local;
        if (!next_local(s, after + 1, &local))
                return -ENOENT;
        *out = (struct schedule_fire){ .at = local, .dst = SCHEDULE_DST_NONE };
        return 0;
}

/* The walk starts well before T rather than at T - 1, which does not
 * depend on how the engine treats an AFTER just before a gap. */
bool schedule_fires_in_gap(const struct schedule *s, const struct tz *zone, int64_t t, int64_t d)
{
        struct schedule_fire f;
        int64_t after = t - 2 * d - 1;
        for (int i = 0; i < 4096; i++) {
                if (schedule_next_fire(s, zone, after, &f) < 0 || f.at > t)
                        return false;
                if (f.at == t && f.dst == SCHEDULE_DST_GAP)
                        return true;
                after = f.at;
        }
        return false;
}

int schedule_next(const struct schedule *s, const struct tz *zone, int64_t after, int64_t *out)
{
        struct schedule_fire fire;
        int r = schedule_next_fire(s, zone, after, &fire);
        if (r < 0)
                return r;
        *out = fire.at;
        return 0;
}
