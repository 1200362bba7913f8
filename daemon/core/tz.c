/* tz.c — TZif reader, POSIX TZ rules and civil-time conversion; see tz.h.
 *
 * A zone is a table of transitions (the 64-bit block of the TZif file,
 * with no-op entries folded away) plus, optionally, the POSIX TZ rule of
 * the file's footer. Instants before RULE_FROM use the table (binary
 * search); instants from it on use the rule, which is evaluated for the
 * few years around the instant on every call: a zone costs a few KiB
 * whatever its range, and stays immutable (safe to share between threads). */
#include "core/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fileio.h"

#define SECS_PER_DAY  86400
#define TZIF_MAX_SIZE (1024 * 1024)
#define ZONE_NAME_MAX 255

/* ---- calendar ---------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;
        return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t sat_add(int64_t a, int64_t b)
{
        int64_t r;
        if (__builtin_add_overflow(a, b, &r))
                return b > 0 ? INT64_MAX : INT64_MIN;
        return r;
}

static int64_t sat_mul(int64_t a, int64_t b)
{
        int64_t r;
        if (__builtin_mul_overflow(a, b, &r))
                return ((a < 0) != (b < 0)) ? INT64_MIN : INT64_MAX;
        return r;
}

bool tz_is_leap_year(int64_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int tz_days_in_month(int64_t year, int month)
{
        static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (month < 1 || month > 12)
                return 0;
        return days[month - 1] + (month == 2 && tz_is_leap_year(year));
}

/* The era arithmetic (400-year cycles of 146097 days) of H. Hinnant's
 * public-domain algorithms, written so that no intermediate overflows:
 * any year whose day count fits in int64 is exact; beyond, the result
 * saturates. A month outside 1-12 carries into the year, and the day
 * is simply added, so "March 0" is the last day of February. */
int64_t tz_days_from_civil(int64_t year, int month, int day)
{
        int64_t m0 = (int64_t)month - 1;
        year = sat_add(year, floor_div(m0, 12));
        m0 -= floor_div(m0, 12) * 12;
        /* Years counted from March, so the leap day ends the year. */
        int64_t y = m0 < 2 ? sat_add(year, -1) : year;
        int64_t mp = m0 < 2 ? m0 + 10 : m0 - 2; /* 0 = March */
        int64_t era = y / 400, yoe = y % 400;
        if (yoe < 0) {
                yoe += 400;
                era--;
        }
        int64_t doy = (153 * mp + 2) / 5;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        /* 719468 = days from 0000-03-01 to 1970-01-01. The sum is taken
         * in 128 bits so that only the final result saturates. */
        __int128 days = (__int128)era * 146097 + doe - 719468 + ((int64_t)day - 1);
        return days > INT64_MAX ? INT64_MAX : days < INT64_MIN ? INT64_MIN : (int64_t)days;
}

void tz_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
        /* Split first, shift by 719468 after, so DAYS near INT64_MAX does
         * not overflow: 719468 = 4 * 146097 + 135080. */
        int64_t era = days / 146097, doe = days % 146097;
        if (doe < 0) {
                doe += 146097;
                era--;
        }
        doe += 135080;
        era += 4 + doe / 146097;
        doe %= 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int d = (int)(doy - (153 * mp + 2) / 5 + 1);
        int m = (int)(mp < 10 ? mp + 3 : mp - 9);
        *year = era * 400 + yoe + (m <= 2);
        *month = m;
        *day = d;
}

static int weekday_of_days(int64_t days)
{
        int64_t w = days % 7 + 4; /* 1970-01-01 was a Thursday; no overflow at the ends */
        return (int)(w < 0 ? w + 7 : w % 7);
}

/* ---- POSIX TZ rules (the TZif footer) ---------------------------------- */

enum rule_kind { RULE_JULIAN_NO_LEAP, RULE_ZERO_BASED, RULE_MONTH_WEEK_DAY };

struct rule_date {
        enum rule_kind kind;
        int day;      /* J: 1-365; n: 0-365; M: weekday 0-6 */
        int week;     /* M: 1-5 */
        int month;    /* M: 1-12 */
        int32_t time; /* local seconds after midnight, -167h..167h */
        /* The day of the year (0-based) the rule picks, by whether the
         * year is a leap year and by the weekday of its January 1st:
         * every year is one of these 14 kinds. */
        int16_t doy[2][7];
};

struct posix_rule {
        int32_t std_offset; /* seconds east */
        int32_t dst_offset;
        bool has_dst;      /* false: STD_OFFSET all the time */
        bool dst_all_year; /* rules that keep DST across the year's end */
        struct rule_date start, end;
};

static const char *parse_name(const char *p)
{
        const char *s = p;
        if (*p == '<') {
                for (p++; *p != '>'; p++)
                        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                              *p == '+' || *p == '-'))
                                return NULL;
                return p - s >= 2 ? p + 1 : NULL; /* at least one character inside */
        }
        while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
                p++;
        return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hh <= MAX_HOURS; returns the end or NULL. */
static const char *parse_hms(const char *p, int max_hours, int32_t *out)
{
        int sign = 1;
        if (*p == '+' || *p == '-')
                sign = *p++ == '-' ? -1 : 1;
        int32_t parts[3] = { 0, 0, 0 };
        for (int i = 0; i < 3; i++) {
                if (i > 0) {
                        if (*p != ':')
                                break;
                        p++;
                }
                if (*p < '0' || *p > '9')
                        return NULL;
                int32_t v = 0;
                int digits = 0;
                while (*p >= '0' && *p <= '9') {
                        v = v * 10 + (*p++ - '0');
                        if (++digits > 3)
                                return NULL;
                }
                if ((i == 0 && v > max_hours) || (i > 0 && v > 59))
                        return NULL;
                parts[i] = v;
        }
        *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
        return p;
}

static const char *parse_int(const char *p, int lo, int hi, int *out)
{
        if (*p < '0' || *p > '9')
                return NULL;
        int v = 0;
        while (*p >= '0' && *p <= '9') {
                v = v * 10 + (*p++ - '0');
                if (v > hi)
                        return NULL;
        }
        if (v < lo)
                return NULL;
        *out = v;
        return p;
}

static const char *parse_rule_date(const char *p, struct rule_date *out)
{
        *out = (struct rule_date){ .time = 2 * 3600 };
        if (*p == 'J') {
                out->kind = RULE_JULIAN_NO_LEAP;
                p = parse_int(p + 1, 1, 365, &out->day);
        } else if (*p == 'M') {
                out->kind = RULE_MONTH_WEEK_DAY;
                p = parse_int(p + 1, 1, 12, &out->month);
                if (!p || *p != '.')
                        return NULL;
                p = parse_int(p + 1, 1, 5, &out->week);
                if (!p || *p != '.')
                        return NULL;
                p = parse_int(p + 1, 0, 6, &out->day);
        } else {
                out->kind = RULE_ZERO_BASED;
                p = parse_int(p, 0, 365, &out->day);
        }
        if (p && *p == '/')
                p = parse_hms(p + 1, 167, &out->time); /* RFC 8536: -167..167 hours */
        return p;
}

/* Local midnight (as local seconds) of the rule's day in YEAR. */
static int64_t rule_day(const struct rule_date *r, int64_t year)
{
        switch (r->kind) {
        case RULE_JULIAN_NO_LEAP:
                return tz_days_from_civil(year, 1, 1) + r->day - 1 + (r->day >= 60 && tz_is_leap_year(year));
        case RULE_ZERO_BASED: return tz_days_from_civil(year, 1, 1) + r->day;
        case RULE_MONTH_WEEK_DAY:
        default: {
                int64_t first = tz_days_from_civil(year, r->month, 1);
                int d = 1 + (r->day - weekday_of_days(first) + 7) % 7 + (r->week - 1) * 7;
                if (d > tz_days_in_month(year, r->month))
                        d -= 7;
                return first + d - 1;
        }
        }
}

static void rule_date_tabulate(struct rule_date *r)
{
        /* 28 consecutive years hold all 14 kinds. */
        for (int64_t y = 2000; y < 2028; y++) {
                int64_t jan1 = tz_days_from_civil(y, 1, 1);
                r->doy[tz_is_leap_year(y)][weekday_of_days(jan1)] = (int16_t)(rule_day(r, y) - jan1);
        }
}

struct year_kind {
        int64_t year, jan1;
        bool leap;
        int weekday; /* of January 1st */
};

/* Day number of January 1st of YEAR, for |YEAR| below about 10^13 (the
 * rule code's years, which come from instants): tz_days_from_civil()
 * without the carries and saturation. */
static int64_t jan1_days(int64_t year)
{
        int64_t y = year - 1; /* March-based: January belongs to the year before */
        int64_t era = y / 400, yoe = y % 400;
        if (yoe < 0) {
                yoe += 400;
                era--;
        }
        return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + 306 - 719468;
}

/* The kind of the year that holds day DAYS: an estimate from the mean
 * year length, off by at most one, then corrected. */
static void year_kind_at(int64_t days, struct year_kind *out)
{
        int64_t year = 1970 + floor_div(days * 400 + 200, 146097);
        int64_t jan1 = jan1_days(year);
        bool leap = tz_is_leap_year(year);
        if (days < jan1) {
                year--;
                leap = tz_is_leap_year(year);
                jan1 -= 365 + leap;
        } else if (days >= jan1 + 365 + leap) {
                jan1 += 365 + leap;
                year++;
                leap = tz_is_leap_year(year);
        }
        out->year = year;
        out->jan1 = jan1;
        out->leap = leap;
        out->weekday = weekday_of_days(jan1);
}

static void year_kind_of(int64_t year, struct year_kind *out)
{
        out->year = year;
        out->jan1 = tz_days_from_civil(year, 1, 1);
        out->leap = tz_is_leap_year(year);
        out->weekday = weekday_of_days(out->jan1);
}

static void year_kind_step(const struct year_kind *y, int delta, struct year_kind *out)
{
        out->year = y->year + delta;
        out->leap = tz_is_leap_year(out->year);
        int len = delta > 0 ? (y->leap ? 366 : 365) : (out->leap ? 366 : 365);
        out->jan1 = y->jan1 + delta * len;
        out->weekday = (y->weekday + delta * len % 7 + 7) % 7;
}

/* The UTC instant at which rule R fires in year Y, while OFFSET is in force. */
static int64_t rule_instant_in(const struct rule_date *r, const struct year_kind *y, int32_t offset)
{
        int64_t day = y->jan1 + r->doy[y->leap][y->weekday];
        return sat_add(sat_mul(day, SECS_PER_DAY), (int64_t)r->time - offset);
}

static int64_t rule_instant(const struct rule_date *r, int64_t year, int32_t offset)
{
        struct year_kind y;
        year_kind_of(year, &y);
        return rule_instant_in(r, &y, offset);
}

/* Whether the rule's transitions alternate, start and end, in every
 * year; the calendar repeats every 400 years (146097 days, a whole number
 * of weeks), so checking one cycle checks all. RFC 8536 3.3.1's
 * "EST5EDT,0/0,J365/25" form, where each year's end meets or passes the
 * next year's start, is DST all year (tzcode reads it so). A rule that
 * does neither, its times shifted so far that years interleave in some
 * years only, has no sensible reading: zic never writes one, and tz
 * refuses it, so spans computed around any instant agree. */
static int rule_check_years(struct posix_rule *r)
{
        int64_t prev_second = INT64_MIN;
        bool all_year = true, alternates = true, northern = true;
        for (int64_t y = 2000; y <= 2400; y++) {
                int64_t s = rule_instant(&r->start, y, r->std_offset);
                int64_t e = rule_instant(&r->end, y, r->dst_offset);
                int64_t s_next = rule_instant(&r->start, y + 1, r->std_offset);
                if (!(s < e && e >= s_next))
                        all_year = false;
                if (y == 2000)
                        northern = s < e;
                int64_t first = northern ? s : e, second = northern ? e : s;
                if (!(first < second && (y == 2000 || prev_second < first)))
                        alternates = false;
                prev_second = second;
        }
        r->dst_all_year = all_year;
        return all_year || alternates ? 0 : -EBADMSG;
}

static int parse_posix_rule(const char *s, struct posix_rule *out)
{
        *out = (struct posix_rule){ 0 };
        const char *p = parse_name(s);
        int32_t v;
        if (!p || !(p = parse_hms(p, 24, &v)))
                return -EBADMSG;
        out->std_offset = -v; /* POSIX counts west-positive */
        if (!*p) {
                out->dst_offset = out->std_offset;
                return 0;
        }
        if (!(p = parse_name(p)))
                return -EBADMSG;
        out->has_dst = true;
        out->dst_offset = out->std_offset + 3600;
        if (*p && *p != ',') {
                if (!(p = parse_hms(p, 24, &v)))
                        return -EBADMSG;
                out->dst_offset = -v;
        }
        if (!*p) {
                /* No rule: POSIX leaves it to the implementation; glibc and
                 * tzcode use the US rules. */
                out->start = (struct rule_date){
                        .kind = RULE_MONTH_WEEK_DAY, .day = 0, .week = 2, .month = 3, .time = 7200
                };
                out->end = (struct rule_date){
                        .kind = RULE_MONTH_WEEK_DAY, .day = 0, .week = 1, .month = 11, .time = 7200
                };
        } else {
                if (*p != ',' || !(p = parse_rule_date(p + 1, &out->start)))
                        return -EBADMSG;
                if (*p != ',' || !(p = parse_rule_date(p + 1, &out->end)))
                        return -EBADMSG;
                if (*p)
                        return -EBADMSG;
        }
        rule_date_tabulate(&out->start);
        rule_date_tabulate(&out->end);
        return rule_check_years(out);
}

struct rule_transition {
        int64_t at;
        bool to_dst;
};

static void rule_span_fill(const struct posix_rule *r, int64_t start, int64_t end, bool dst, struct tz_span *out)
{
        int32_t off = dst ? r->dst_offset : r->std_offset;
        int32_t other = dst ? r->std_offset : r->dst_offset;
        *out = (struct tz_span){ start, end, off, other, other, dst };
        if (end == INT64_MAX)
                out->next_offset = off;
        if (start == INT64_MIN)
                out->prev_offset = off;
}

/* Year Y's two transitions, in time order. */
static void rule_year(const struct posix_rule *r, const struct year_kind *y, struct rule_transition out[2])
{
        struct rule_transition s = { rule_instant_in(&r->start, y, r->std_offset), true };
        struct rule_transition e = { rule_instant_in(&r->end, y, r->dst_offset), false };
        out[0] = e.at < s.at ? e : s;
        out[1] = e.at < s.at ? s : e;
}

/* Any rule: the transitions of the years around YEAR, sorted, with those
 * that change nothing folded away. */
static bool rule_span_window(const struct posix_rule *r, int64_t t, int64_t year, int64_t radius, struct tz_span *out)
{
        struct rule_transition tr[14] = { { 0 } };
        size_t n = 0;
        for (int64_t y = year - radius; y <= year + radius && n + 2 <= ELEMENTSOF(tr); y++) {
                tr[n++] = (struct rule_transition){ rule_instant(&r->start, y, r->std_offset), true };
                tr[n++] = (struct rule_transition){ rule_instant(&r->end, y, r->dst_offset), false };
        }
        /* Stable insertion sort: within one instant, generation order. */
        for (size_t i = 1; i < n; i++) {
                struct rule_transition x = tr[i];
                size_t j = i;
                for (; j > 0 && tr[j - 1].at > x.at; j--)
                        tr[j] = tr[j - 1];
                tr[j] = x;
        }
        /* Keep only the transitions that change the state; one that
         * shares its instant with the next lasts zero seconds. */
        size_t k = 0;
        bool initial = !tr[0].to_dst;
        for (size_t i = 0; i < n; i++) {
                if (k > 0 && tr[k - 1].at == tr[i].at)
                        k--;
                bool state = k > 0 ? tr[k - 1].to_dst : initial;
                if (tr[i].to_dst != state)
                        tr[k++] = tr[i];
        }
        if (k < 2 || t < tr[0].at || t >= tr[k - 1].at)
                return false;
        size_t i = 0;
        while (tr[i + 1].at <= t)
                i++;
        rule_span_fill(r, tr[i].at, tr[i + 1].at, tr[i].to_dst, out);
        return true;
}

/* The hot path: year Y's two transitions and, on one side, a
 * neighbour's. The rule alternates (rule_check_years()), so these bracket
 * T unless its times cross into other years: then false, for the window. */
static bool rule_span_near(const struct posix_rule *r, int64_t t, const struct year_kind *y, struct tz_span *out)
{
        struct rule_transition cur[2], near[2];
        struct year_kind other;
        rule_year(r, y, cur);
        if (cur[0].at >= cur[1].at)
                return false;
        if (t >= cur[0].at && t < cur[1].at) {
                rule_span_fill(r, cur[0].at, cur[1].at, cur[0].to_dst, out);
                return true;
        }
        if (t < cur[0].at) {
                year_kind_step(y, -1, &other);
                rule_year(r, &other, near);
                if (near[1].at > t || near[1].to_dst == cur[0].to_dst)
                        return false;
                rule_span_fill(r, near[1].at, cur[0].at, near[1].to_dst, out);
                return true;
        }
        year_kind_step(y, 1, &other);
        rule_year(r, &other, near);
        if (near[0].at <= t || near[0].to_dst == cur[1].to_dst)
                return false;
        rule_span_fill(r, cur[1].at, near[0].at, cur[1].to_dst, out);
        return true;
}

/* Span of rule R that contains T (offsets and DST flag filled in). */
static void rule_span_at(const struct posix_rule *r, int64_t t, struct tz_span *out)
{
        if (!r->has_dst || r->dst_all_year) {
                int32_t off = r->has_dst ? r->dst_offset : r->std_offset;
                *out = (struct tz_span){ INT64_MIN, INT64_MAX, off, off, off, r->has_dst };
                return;
        }
        struct year_kind y;
        year_kind_at(floor_div(sat_add(t, r->std_offset), SECS_PER_DAY), &y);
        int64_t year = y.year;

        if (rule_span_near(r, t, &y, out))
                return;
        /* Times may be shifted by up to a week (-167h..167h), so the
         * neighbouring years bracket T; a wider window is the fallback for
         * rules too odd even for that. */
        if (rule_span_window(r, t, year, 1, out) || rule_span_window(r, t, year, 3, out))
                return;
        /* Unreachable for any rule parse_posix_rule() accepts; be total. */
        *out = (struct tz_span){ INT64_MIN, INT64_MAX, r->std_offset, r->std_offset, r->std_offset, false };
}

/* ---- zones --------------------------------------------------------------- */

struct tz {
        char *name;
        size_t n;        /* transitions */
        int64_t *at;     /* [n], strictly increasing */
        int32_t *offset; /* [n + 1]: offset[0] before at[0], offset[i + 1] from at[i] */
        uint8_t *dst;    /* [n + 1], likewise */
        bool has_rule;
        int64_t rule_from; /* the rule governs instants >= RULE_FROM */
        struct posix_rule rule;
};

const char *tz_name(const struct tz *zone) { return zone->name; }

void tz_free(struct tz *zone)
{
        if (!zone)
                return;
        free(zone->name);
        free(zone->at);
        free(zone);
}

/* The three arrays of a table with room for CAPACITY transitions share
 * one allocation, owned through AT. */
static size_t table_size(size_t capacity)
{
        return capacity * sizeof(int64_t) + (capacity + 1) * (sizeof(int32_t) + 1);
}

static void table_layout(struct tz *zone, size_t capacity)
{
        uint8_t *mem = (uint8_t *)zone->at;
        zone->offset = (int32_t *)(mem + capacity * sizeof(int64_t));
        zone->dst = mem + capacity * sizeof(int64_t) + (capacity + 1) * sizeof(int32_t);
}

/* Index i such that at[i - 1] <= t < at[i] (0 = before the first). */
static size_t table_index(const struct tz *zone, int64_t t)
{
        /* Past the table (the rule's years, and "now" in slim files). */
        if (zone->n == 0 || t >= zone->at[zone->n - 1])
                return zone->n;
        size_t lo = 0, len = zone->n;
        while (len > 0) {
                size_t half = len / 2;
                if (zone->at[lo + half] <= t) {
                        lo += half + 1;
                        len -= half + 1;
                } else
                        len = half;
        }
        return lo;
}

void tz_span_at(const struct tz *zone, int64_t t, struct tz_span *out)
{
        size_t n = zone->n;
        size_t i = table_index(zone, t);

        if (i < n || !zone->has_rule || t < zone->rule_from) {
                out->start = i > 0 ? zone->at[i - 1] : INT64_MIN;
                out->offset = zone->offset[i];
                out->is_dst = zone->dst[i];
                out->prev_offset = i > 0 ? zone->offset[i - 1] : zone->offset[i];
                if (i < n) {
                        out->end = zone->at[i];
                        out->next_offset = zone->offset[i + 1];
                } else if (zone->has_rule) {
                        /* Between the last kept transition and RULE_FROM; the
                         * rule agrees with the table there (see join_rule). */
                        struct tz_span f;
                        rule_span_at(&zone->rule, zone->rule_from, &f);
                        out->end = f.end;
                        out->next_offset = f.next_offset;
                } else {
                        out->end = INT64_MAX;
                        out->next_offset = out->offset;
                }
                return;
        }

        rule_span_at(&zone->rule, t, out);
        if (out->start <= zone->rule_from) {
                /* The rule's span began before the table ended: the table's
                 * last transition (if any is left) is where it really starts. */
                out->start = n > 0 ? zone->at[n - 1] : INT64_MIN;
                out->prev_offset = n > 0 ? zone->offset[n - 1] : out->offset;
        }
}

int32_t tz_offset_at(const struct tz *zone, int64_t t)
{
        size_t i = table_index(zone, t);
        if (i < zone->n || !zone->has_rule || t < zone->rule_from)
                return zone->offset[i];
        struct tz_span s;
        rule_span_at(&zone->rule, t, &s);
        return s.offset;
}

void tz_to_civil(const struct tz *zone, int64_t t, struct tz_civil *out)
{
        struct tz_span s;
        tz_span_at(zone, t, &s);
        int64_t local = sat_add(t, s.offset);
        int64_t days = local / SECS_PER_DAY, secs = local % SECS_PER_DAY;
        if (secs < 0) {
                secs += SECS_PER_DAY;
                days--;
        }
        tz_civil_from_days(days, &out->year, &out->month, &out->day);
        out->hour = (int)(secs / 3600);
        out->minute = (int)(secs / 60 % 60);
        out->second = (int)(secs % 60);
        out->weekday = weekday_of_days(days);
        out->offset = s.offset;
        out->is_dst = s.is_dst;
}

/* Is T an instant whose local time is LOCAL? S is a span known to hold
 * T when T falls inside it; otherwise T's own span is looked up. */
static bool is_solution(const struct tz *zone, const struct tz_span *s, int64_t local, int32_t offset, int64_t *t)
{
        int64_t u = sat_add(local, -(int64_t)offset);
        if (u >= s->start && u < s->end) {
                *t = u;
                return s->offset == offset;
        }
        *t = u;
        return tz_offset_at(zone, u) == offset;
}

int tz_from_civil(const struct tz *zone, const struct tz_civil *civil, int64_t *first, int64_t *second)
{
        int64_t days = tz_days_from_civil(civil->year, civil->month, civil->day);
        int64_t secs = (int64_t)civil->hour * 3600 + (int64_t)civil->minute * 60 + civil->second;
        int64_t local = sat_add(sat_mul(days, SECS_PER_DAY), secs);

        /* Offsets are far smaller than spans are long, so the answers lie
         * in the span of LOCAL read as UTC or in one of its neighbours. */
        struct tz_span s;
        tz_span_at(zone, local, &s);
        int32_t candidates[3] = { s.prev_offset, s.offset, s.next_offset };
        int64_t found[3];
        int count = 0;
        for (int c = 0; c < 3; c++) {
                bool dup = false;
                for (int d = 0; d < c; d++)
                        dup |= candidates[d] == candidates[c];
                int64_t t;
                if (!dup && is_solution(zone, &s, local, candidates[c], &t))
                        found[count++] = t;
        }
        if (count > 0) {
                int64_t lo = found[0], hi = found[0];
                for (int c = 1; c < count; c++) {
                        lo = found[c] < lo ? found[c] : lo;
                        hi = found[c] > hi ? found[c] : hi;
                }
                *first = lo;
                if (second)
                        *second = hi;
                return lo == hi ? 1 : 2;
        }

        /* A gap: LOCAL is skipped by a transition that moves the clock
         * forward, at the start or the end of S. */
        if (s.start != INT64_MIN && local >= sat_add(s.start, s.prev_offset) && local < sat_add(s.start, s.offset))
                *first = s.start;
        else if (s.end != INT64_MAX && local >= sat_add(s.end, s.offset) && local < sat_add(s.end, s.next_offset))
                *first = s.end;
        else
                /* Only for spans shorter than an offset change; the best
                 * answer left is the instant read with S's offset. */
                *first = sat_add(local, -(int64_t)s.offset);
        if (second)
                *second = *first;
        return 0;
}

/* ---- TZif ---------------------------------------------------------------- */

struct tzif_header {
        int version;
        uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const uint8_t *p)
{
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

static int parse_header(const uint8_t *p, size_t len, struct tzif_header *h)
{
        if (len < 44 || memcmp(p, "TZif", 4) != 0)
                return -EBADMSG;
        if (p[4] == 0)
                h->version = 1;
        else if (p[4] >= '2' && p[4] <= '9')
                h->version = p[4] - '0';
        else
                return -EBADMSG;
        h->isutcnt = be32(p + 20);
        h->isstdcnt = be32(p + 24);
        h->leapcnt = be32(p + 28);
        h->timecnt = be32(p + 32);
        h->typecnt = be32(p + 36);
        h->charcnt = be32(p + 40);
        if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > TZIF_MAX_SIZE || h->leapcnt > TZIF_MAX_SIZE ||
            h->charcnt > TZIF_MAX_SIZE || (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
            (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
                return -EBADMSG;
        return 0;
}

static size_t block_size(const struct tzif_header *h, size_t time_size)
{
        return (size_t)h->timecnt * time_size + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
               (size_t)h->leapcnt * (time_size + 4) + h->isstdcnt + h->isutcnt;
}

/* Fills ZONE's table from a data block; folds away transitions that change
 * neither the offset nor the DST flag (only the abbreviation). */
static int parse_block(const uint8_t *p, const struct tzif_header *h, size_t time_size, struct tz *zone,
                       int64_t *last_transition)
{
        const uint8_t *times = p;
        const uint8_t *idx = times + (size_t)h->timecnt * time_size;
        const uint8_t *types = idx + h->timecnt;

        /* Leap-second ("right/") zones count TAI-like seconds; tickd keeps
         * POSIX time, where they would be wrong by up to half a minute. */
        if (h->leapcnt > 0)
                return -EBADMSG;
        for (uint32_t i = 0; i < h->typecnt; i++) {
                const uint8_t *ty = types + (size_t)i * 6;
                int32_t off = (int32_t)be32(ty);
                /* RFC 8536 3.2: -24:59:59 .. +25:59:59. */
                if (off < -89999 || off > 93599 || ty[4] > 1 || ty[5] >= h->charcnt)
                        return -EBADMSG;
        }

        size_t n = h->timecnt;
        /* Room for one transition more than the file has: join_rule()
         * may add one where the table hands over to the rule. */
        zone->at = malloc(table_size(n + 1));
        if (!zone->at)
                return -ENOMEM;
        table_layout(zone, n + 1);

        /* RFC 8536: type 0 is in force before the first transition. */
        zone->offset[0] = (int32_t)be32(types);
        zone->dst[0] = types[4];
        size_t k = 0;
        int64_t prev = INT64_MIN;
        for (size_t i = 0; i < n; i++) {
                int64_t at = time_size == 8 ? be64(times + i * 8) : (int32_t)be32(times + i * 4);
                if (i > 0 && at <= prev)
                        return -EBADMSG;
                prev = at;
                if (idx[i] >= h->typecnt)
                        return -EBADMSG;
                const uint8_t *ty = types + (size_t)idx[i] * 6;
                int32_t off = (int32_t)be32(ty);
                if (off == zone->offset[k] && ty[4] == zone->dst[k])
                        continue;
                zone->at[k] = at;
                zone->offset[k + 1] = off;
                zone->dst[k + 1] = ty[4];
                k++;
        }
        zone->n = k;
        *last_transition = n > 0 ? prev : INT64_MIN;
        return 0;
}

/* Makes the table and the rule meet at RULE_FROM, the file's last
 * transition. From there on the rule is in force, as glibc and tzcode
 * read it, even where it disagrees with the table's last entry (older
 * zic versions wrote such files): the entry at RULE_FROM takes the rule's
 * state, or, if that entry was folded away, one is added. */
static void join_rule(struct tz *zone)
{
        struct tz_span f;
        rule_span_at(&zone->rule, zone->rule_from, &f);
        size_t n = zone->n;
        if (zone->rule_from == INT64_MIN || (f.offset == zone->offset[n] && f.is_dst == zone->dst[n]))
                return;
        if (n > 0 && zone->at[n - 1] == zone->rule_from) {
                zone->offset[n] = f.offset;
                zone->dst[n] = f.is_dst;
                if (zone->offset[n - 1] == f.offset && zone->dst[n - 1] == f.is_dst)
                        zone->n--;
                return;
        }
        /* parse_block() left room for one more entry. */
        zone->at[n] = zone->rule_from;
        zone->offset[n + 1] = f.offset;
        zone->dst[n + 1] = f.is_dst;
        zone->n = n + 1;
}

static int tz_parse(const uint8_t *buf, size_t len, struct tz *zone)
{
        struct tzif_header h;
        int r = parse_header(buf, len, &h);
        if (r < 0)
                return r;
        size_t v1 = block_size(&h, 4);
        if (len - 44 < v1)
                return -EBADMSG;
        int64_t last = INT64_MIN;
        if (h.version == 1)
                return parse_block(buf + 44, &h, 4, zone, &last);

        const uint8_t *p = buf + 44 + v1;
        size_t left = len - 44 - v1;
        r = parse_header(p, left, &h);
        if (r < 0)
                return r;
        size_t v2 = block_size(&h, 8);
        if (left - 44 < v2)
                return -EBADMSG;
        r = parse_block(p + 44, &h, 8, zone, &last);
        if (r < 0)
                return r;

        /* Footer: "\n" TZ "\n". An empty TZ means no rule. */
        const char *f = (const char *)p + 44 + v2;
        size_t flen = left - 44 - v2;
        if (flen < 2 || f[0] != '\n' || f[flen - 1] != '\n')
                return -EBADMSG;
        if (flen == 2)
                return 0;
        char tzstr[256];
        if (flen - 2 >= sizeof(tzstr) || memchr(f + 1, '\n', flen - 2) || memchr(f + 1, '\0', flen - 2))
                return -EBADMSG;
        memcpy(tzstr, f + 1, flen - 2);
        tzstr[flen - 2] = '\0';
        r = parse_posix_rule(tzstr, &zone->rule);
        if (r < 0)
                return r;
        zone->has_rule = true;
        zone->rule_from = last;
        join_rule(zone);
        return 0;
}

static int tz_load(int dir_fd, const char *path, const char *name, struct tz **out)
{
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return errno == ENOTDIR || errno == ELOOP ? -ENOENT : -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -ENOENT;
        if (!S_ISREG(st.st_mode) || st.st_size > TZIF_MAX_SIZE)
                return -EBADMSG;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        int r = fileio_read_all(fd, TZIF_MAX_SIZE, &buf, &size);
        if (r < 0)
                return r == -EFBIG ? -EBADMSG : r;
        return tz_new_from_tzif(name, buf, size, out);
}

int tz_new_from_tzif(const char *name, const void *data, size_t size, struct tz **out)
{
        struct tz *zone = calloc(1, sizeof(*zone));
        if (!zone)
                return -ENOMEM;
        zone->name = strdup(name);
        int r = zone->name ? tz_parse(data, size, zone) : -ENOMEM;
        if (r < 0) {
                tz_free(zone);
                return r;
        }
        *out = zone;
        return 0;
}

static struct tz *tz_new_utc(void)
{
        struct tz *zone = calloc(1, sizeof(*zone));
        if (!zone)
                return NULL;
        zone->name = strdup("UTC");
        zone->at = calloc(1, table_size(1));
        if (!zone->name || !zone->at) {
                tz_free(zone);
                return NULL;
        }
        table_layout(zone, 1);
        return zone;
}

/* ---- the cache ----------------------------------------------------------- */

struct tz_cache {
        char *dir;
        struct tz **zones;
        size_t n, allocated;
};

struct tz_cache *tz_cache_new(const char *zoneinfo_dir)
{
        struct tz_cache *cache = calloc(1, sizeof(*cache));
        if (!cache)
                return NULL;
        cache->dir = strdup(zoneinfo_dir ? zoneinfo_dir : "/usr/share/zoneinfo");
        if (!cache->dir) {
                free(cache);
                return NULL;
        }
        return cache;
}

void tz_cache_free(struct tz_cache *cache)
{
        if (!cache)
                return;
        for (size_t i = 0; i < cache->n; i++)
                tz_free(cache->zones[i]);
        free(cache->zones);
        free(cache->dir);
        free(cache);
}

bool tz_name_is_valid(const char *name)
{
        size_t len = strlen(name);
        // cppcheck-suppress arrayIndexOutOfBoundsCond ; len <= ZONE_NAME_MAX is strlen(name), in bounds
        if (len == 0 || len > ZONE_NAME_MAX || name[0] == '/' || name[len - 1] == '/')
                return false;
        for (const char *p = name; *p; p++) {
                bool ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                          *p == '_' || *p == '+' || *p == '-' || *p == '/';
                /* '.' is never part of a zone name, which also rules out
                 * "." and ".." components. */
                if (!ok || (*p == '/' && p[1] == '/'))
                        return false;
        }
        return true;
}

static int cache_add(struct tz_cache *cache, struct tz *zone)
{
        if (cache->n == cache->allocated) {
                size_t want = cache->allocated ? cache->allocated * 2 : 8;
                struct tz **z = realloc(cache->zones, want * sizeof(*z));
                if (!z)
                        return -ENOMEM;
                cache->zones = z;
                cache->allocated = want;
        }
        cache->zones[cache->n++] = zone;
        return 0;
}

int tz_cache_get(struct tz_cache *cache, const char *name, const struct tz **out)
{
        if (!name || !tz_name_is_valid(name))
                return -EINVAL;
        for (size_t i = 0; i < cache->n; i++)
                if (strcmp(cache->zones[i]->name, name) == 0) {
                        *out = cache->zones[i];
                        return 0;
                }

        struct tz *zone = NULL;
        if (strcmp(name, "UTC") == 0) {
                zone = tz_new_utc();
                if (!zone)
                        return -ENOMEM;
        } else {
                _cleanup_close_ int dir_fd = open(cache->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dir_fd < 0)
                        return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
                int r = tz_load(dir_fd, name, name, &zone);
                if (r < 0)
                        return r;
        }
        int r = cache_add(cache, zone);
        if (r < 0) {
                tz_free(zone);
                return r;
        }
        *out = zone;
        return 0;
}

/* The zone name in a link target such as "../usr/share/zoneinfo/Europe/Berlin". */
static const char *zone_in_path(const char *target)
{
        const char *best = NULL;
        for (const char *p = strstr(target, "zoneinfo/"); p; p = strstr(p + 1, "zoneinfo/"))
                best = p + strlen("zoneinfo/");
        return best;
}

int tz_cache_get_system_in(struct tz_cache *cache, const char *root, const struct tz **out)
{
        char path[PATH_MAX], target[PATH_MAX];
        if (!root)
                root = "";

        snprintf(path, sizeof(path), "%s/etc/localtime", root);
        ssize_t k = readlink(path, target, sizeof(target) - 1);
        if (k > 0) {
                target[k] = '\0';
                const char *name = zone_in_path(target);
                if (name)
                        return tz_cache_get(cache, name, out);
        }

        snprintf(path, sizeof(path), "%s/etc/timezone", root);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (f && fgets(target, sizeof(target), f)) {
                target[strcspn(target, " \t\r\n")] = '\0';
                if (target[0])
                        // cppcheck-suppress resourceLeak ; f is closed by its cleanup attribute
                        return tz_cache_get(cache, target, out);
        }

        /* A copy of a zone file (containers often have one), or a link to
         * one outside any zoneinfo tree: its content, named "localtime". */
        snprintf(path, sizeof(path), "%s/etc/localtime", root);
        for (size_t i = 0; i < cache->n; i++)
                if (strcmp(cache->zones[i]->name, "localtime") == 0) {
                        *out = cache->zones[i];
                        return 0;
                }
        struct tz *zone = NULL;
        int r = tz_load(AT_FDCWD, path, "localtime", &zone);
        if (r == -ENOENT)
                return tz_cache_get(cache, "UTC", out);
        if (r < 0)
                return r;
        r = cache_add(cache, zone);
        if (r < 0) {
                tz_free(zone);
                return r;
        }
        *out = zone;
        return 0;
}

int tz_cache_get_system(struct tz_cache *cache, const struct tz **out)
{
        return tz_cache_get_system_in(cache, NULL, out);
}

void tz_dates_add(struct tz_dates *d, const struct tz *zone, int64_t t)
{
        struct tz_civil c;
        tz_to_civil(zone, t, &c);
        size_t len = strlen(d->text);
        if (len + 16 < sizeof(d->text))
                snprintf(d->text + len, sizeof(d->text) - len, "%s%04" PRId64 "-%02d-%02d", d->n ? ", " : "", c.year,
                         c.month, c.day);
        d->n++;
}
