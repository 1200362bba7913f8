/* schedule-parse.c — cron and calendar-event text into struct schedule.
 *
 * Every error names the field and the text at fault, so that tickctl and
 * the crontab loader can show it verbatim. Choices where implementations
 * differ (documented in tickctl(1)):
 *   - cron: a day field that starts with "*" (a step on "*" too) is
 *     unrestricted for the Vixie OR rule, as in Vixie cron and cronie;
 *     "5/15" means 5-max/15; a weekday range may end in SUN (FRI-SUN is
 *     5-7); any other range whose start is after its end is an error;
 *     a step larger than its range spans ("*" then "/30" in hours) matches
 *     the first value only, as in Vixie cron, cronie and croniter.
 *   - calendar: "M~D" and "M-~D" both count D days from the month's end;
 *     a star with a repetition ("*" then "/N") means MIN/N; fractions of
 *     seconds are refused (tickd works in whole seconds); two-digit years
 *     are 19xx/20xx as in systemd; years run 1970-9999; as in systemd, a
 *     value's repetition must repeat within its field and a range's may
 *     exceed the range. Differences are listed in tickd.crontab(5). */
#include "core/schedule-internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/timespan.h"

#define MAX_WORDS 8
#define MAX_TEXT  1024

struct parse {
        char *err;
        size_t err_size;
};

__attribute__((format(printf, 3, 4))) static int fail(struct parse *p, int r, const char *fmt, ...)
{
        if (p->err && p->err_size) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(p->err, p->err_size, fmt, ap);
                va_end(ap);
        }
        return r;
}

struct field {
        const char *name;
        int min, max;
        const char *const *names; /* 3-letter names of min, min+1, ... */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul",
                                           "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const weekday_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };
static const char *const weekday_long[] = { "sunday",   "monday", "tuesday",  "wednesday",
                                            "thursday", "friday", "saturday", NULL };

static const struct field f_second = { "second", 0, 59, NULL };
static const struct field f_minute = { "minute", 0, 59, NULL };
static const struct field f_hour = { "hour", 0, 23, NULL };
static const struct field f_mday = { "day-of-month", 1, 31, NULL };
static const struct field f_month = { "month", 1, 12, month_names };
static const struct field f_wday = { "day-of-week", 0, 7, weekday_names };
static const struct field f_day = { "day", 1, 31, NULL };
static const struct field f_year = { "year", SCHEDULE_YEAR_MIN, SCHEDULE_YEAR_MAX, NULL };

/* Reads a decimal number of at most 9 digits from *S; -1 when there is none. */
static long read_number(const char **s)
{
        const char *q = *s;
        long v = 0;
        while (isdigit((unsigned char)*q)) {
                if (q - *s >= 9)
                        return -2;
                v = v * 10 + (*q++ - '0');
        }
        if (q == *s)
                return -1;
        *s = q;
        return v;
}

/* A cron value: a number or a 3-letter name. END is the end of the item. */
static int cron_value(struct parse *p, const struct field *f, const char **s, const char *item, int *out, bool *by_name)
{
        const char *start = *s;
        long v = read_number(s);
        *by_name = false;
        if (v == -2)
                return fail(p, -EINVAL, "%s: %s is out of range %d-%d", f->name, item, f->min, f->max);
        if (v < 0 && f->names && isalpha((unsigned char)**s)) {
                for (int i = 0; f->names[i]; i++)
                        if (strncasecmp(*s, f->names[i], 3) == 0 && !isalpha((unsigned char)(*s)[3])) {
                                *s += 3;
                                *out = f->min + i;
                                *by_name = true;
                                return 0;
                        }
                return fail(p, -EINVAL, "%s: '%.*s' is not a name (%s-%s)", f->name, (int)strcspn(start, "-/,"), start,
                            f->names[0], f->names[f->max - f->min - (f == &f_wday ? 1 : 0)]);
        }
        if (v < 0)
                return fail(p, -EINVAL, "%s: '%s' is not a number", f->name, item);
        if (v < f->min || v > f->max)
                return fail(p, -EINVAL, "%s: %.*s is out of range %d-%d", f->name, (int)(*s - start), start, f->min,
                            f->max);
        *out = (int)v;
        return 0;
}

/* A step may exceed its field (step 30 in hours): as in Vixie cron, cronie
 * and croniter it then matches the range's first value only. */
static int read_step(struct parse *p, const struct field *f, const char *s, const char *item, int *step)
{
        long v = read_number(&s);
        if (v == -1 || *s)
                return fail(p, -EINVAL, "%s: '%s' has no valid step", f->name, item);
        if (v < 1)
                return fail(p, -EINVAL, "%s: step %s is out of range 1-999999999", f->name, strchr(item, '/') + 1);
        *step = (int)v;
        return 0;
}

/* The first step in the expression that never repeats, for crontab_lint_job(). */
static void note_lone_step(struct schedule *s, const struct field *f, int step, int value)
{
        if (s->lone_step_field)
                return;
        for (size_t i = 0; i < SCHEDULE_CRON_FIELDS; i++)
                if (strcmp(f->name, schedule_cron_fields[i]) == 0) {
                        s->lone_step_field = (uint8_t)(i + 1);
                        s->lone_step = (uint32_t)step;
                        s->lone_step_value = (uint8_t)value;
                }
}

/* One cron field: "*", lists, ranges, steps, names. */
static int cron_field(struct parse *p, const struct field *f, const char *text, uint64_t *mask, bool *star,
                      struct schedule *sched)
{
        char buf[128];
        if (strlen(text) >= sizeof(buf))
                return fail(p, -EINVAL, "%s: '%s' is too long", f->name, text);
        strcpy(buf, text);
        *star = text[0] == '*';
        *mask = 0;

        char *save = NULL;
        if (buf[0] == ',' || buf[strlen(buf) - 1] == ',' || strstr(buf, ",,"))
                return fail(p, -EINVAL, "%s: empty list item in '%s'", f->name, text);
        for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
                const char *s = item;
                int lo, hi, step = 1, r;
                bool by_name;
                char *slash = strchr(item, '/');
                if (slash) {
                        *slash = '\0';
                        r = read_step(p, f, slash + 1, text, &step);
                        if (r < 0)
                                return r;
                }
                if (strcmp(item, "*") == 0) {
                        lo = f->min;
                        hi = f == &f_wday ? 6 : f->max;
                } else {
                        r = cron_value(p, f, &s, item, &lo, &by_name);
                        if (r < 0)
                                return r;
                        hi = slash ? (f == &f_wday ? 6 : f->max) : lo;
                        if (*s == '-') {
                                s++;
                                r = cron_value(p, f, &s, item, &hi, &by_name);
                                if (r < 0)
                                        return r;
                                /* FRI-SUN: Sunday as a range's end is 7. */
                                if (f == &f_wday && hi == 0 && lo > 0)
                                        hi = 7;
                                if (lo > hi)
                                        return fail(p, -EINVAL, "%s: range %s is backwards", f->name, item);
                        }
                        if (*s)
                                return fail(p, -EINVAL, "%s: '%s' is not a number%s", f->name, item,
                                            f->names ? " or name" : "");
                }
                if (slash && lo + step > hi)
                        note_lone_step(sched, f, step, lo);
                for (int v = lo; v <= hi; v += step)
                        *mask |= UINT64_C(1) << v;
        }
        if (f == &f_wday && (*mask & (1u << 7)))
                *mask = (*mask & 0x7f) | 1;
        return 0;
}

static int split_words(char *buf, char **words, int max)
{
        int n = 0;
        char *save = NULL;
        for (char *w = strtok_r(buf, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
                if (n == max)
                        return -1;
                words[n++] = w;
        }
        return n;
}

static int parse_cron(struct parse *p, char **words, int n, struct schedule *s)
{
        static const struct field *const six[] = { &f_second, &f_minute, &f_hour, &f_mday, &f_month, &f_wday };
        int skip = 6 - n; /* without seconds, field i of six[] is words[i - 1] */
        uint64_t masks[6] = { 1 };
        bool stars[6] = { false };

        for (int i = skip; i < 6; i++) {
                int r = cron_field(p, six[i], words[i - skip], &masks[i], &stars[i], s);
                if (r < 0)
                        return r;
        }
        s->kind = SCHEDULE_CRON;
        s->seconds = masks[0];
        s->minutes = masks[1];
        s->hours = (uint32_t)masks[2];
        s->mdays = (uint32_t)masks[3];
        s->months = (uint16_t)masks[4];
        s->weekdays = (uint8_t)masks[5];
        s->day_or = !stars[3] && !stars[5];
        const char *hour = words[n == 6 ? 2 : 1];
        s->hour_wildcard = hour[0] == '*' || strchr(hour, '/');
        return 0;
}

/* ---- calendar events ---- */

static int weekday_by_name(const char *name, size_t len)
{
        for (int i = 0; i < 7; i++)
                if ((len == 3 && strncasecmp(name, weekday_names[i], 3) == 0) ||
                    (len == strlen(weekday_long[i]) && strncasecmp(name, weekday_long[i], len) == 0))
                        return i;
        return -1;
}

static int calendar_weekdays(struct parse *p, const char *text, uint8_t *out)
{
        const char *s = text;
        *out = 0;
        for (;;) {
                size_t len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
                int lo = weekday_by_name(s, len), hi;
                if (lo < 0)
                        return fail(p, -EINVAL, "weekday: '%.*s' is not a weekday name",
                                    (int)(len ? len : strcspn(s, ",.")), s);
                s += len;
                hi = lo;
                if (strncmp(s, "..", 2) == 0) {
                        s += 2;
                        len = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
                        hi = weekday_by_name(s, len);
                        if (hi < 0)
                                return fail(p, -EINVAL, "weekday: '%.*s' is not a weekday name",
                                            (int)(len ? len : strcspn(s, ",.")), s);
                        s += len;
                        /* systemd weeks run Monday to Sunday: "Sat..Sun" is a range, "Sun..Mon" is not. */
                        int lo_m = (lo + 6) % 7, hi_m = (hi + 6) % 7;
                        if (lo_m > hi_m)
                                return fail(p, -EINVAL, "weekday: range '%s' is backwards", text);
                        for (int d = lo_m; d <= hi_m; d++)
                                *out |= (uint8_t)(1u << ((d + 1) % 7));
                } else {
                        *out |= (uint8_t)(1u << lo);
                }
                if (*s == '\0')
                        return 0;
                if (*s != ',' || s[1] == '\0')
                        return fail(p, -EINVAL, "weekday: unexpected '%s' in '%s'", s, text);
                s++;
        }
}

/* A calendar value for field F; years take two-digit forms. */
static int calendar_value(struct parse *p, const struct field *f, const char **s, const char *comp, long *out)
{
        const char *start = *s;
        long v = read_number(s);
        if (v == -1)
                return fail(p, -EINVAL, "%s: '%s' is not a number", f->name, comp);
        if (v == -2)
                return fail(p, -EINVAL, "%s: '%s' is out of range %d-%d", f->name, comp, f->min, f->max);
        if (**s == '.' && isdigit((unsigned char)(*s)[1]) && f == &f_second)
                return fail(p, -EINVAL, "second: '%s': fractions of a second are not supported", comp);
        if (f == &f_year && *s - start <= 2)
                v += v < 70 ? 2000 : 1900;
        if (v < f->min || v > f->max)
                return fail(p, -EINVAL, "%s: %.*s is out of range %d-%d", f->name, (int)(*s - start), start, f->min,
                            f->max);
        *out = v;
        return 0;
}

/* Values of one calendar component, each item as a (first, last, step). The
 * callback-free shape: items are returned in ITEMS, up to MAX. */
struct cal_item {
        long first, last, step;
        bool single; /* a bare value with a repetition: "5/15" */
};

static int calendar_items(struct parse *p, const struct field *f, const char *comp, struct cal_item *items, int max,
                          int *count, bool *star)
{
        const char *s = comp;
        *count = 0;
        *star = false;
        for (;;) {
                struct cal_item it = { .step = 0 };
                bool range = false;
                if (*count == max)
                        return fail(p, -EINVAL, "%s: too many items in '%s'", f->name, comp);
                if (*s == '*') {
                        s++;
                        *star = true;
                        it.first = f->min;
                        it.last = f->max;
                        it.step = 1;
                } else {
                        int r = calendar_value(p, f, &s, comp, &it.first);
                        if (r < 0)
                                return r;
                        it.last = it.first;
                        if (strncmp(s, "..", 2) == 0) {
                                s += 2;
                                range = true;
                                r = calendar_value(p, f, &s, comp, &it.last);
                                if (r < 0)
                                        return r;
                                if (it.last < it.first)
                                        return fail(p, -EINVAL, "%s: range %ld..%ld is backwards", f->name, it.first,
                                                    it.last);
                        }
                }
                if (*s == '/') {
                        s++;
                        const char *rs = s;
                        long rep = read_number(&s);
                        if (*s == '.' && f == &f_second)
                                return fail(p, -EINVAL, "second: '%s': fractions of a second are not supported", comp);
                        if (rep < 1)
                                return fail(p, -EINVAL, "%s: repetition '%.*s' is not a number of at least 1", f->name,
                                            (int)strcspn(rs, ",:-~"), rs);
                        /* As systemd: a value's repetition must repeat within the field; a
                         * range's may exceed the range and then selects its start only. */
                        if (!range && it.first + rep > f->max)
                                return fail(p, -EINVAL, "%s: repetition '%.*s' never repeats after %ld (at most %ld)",
                                            f->name, (int)strcspn(rs, ",:-~"), rs, it.first, f->max - it.first);
                        if (range && rep > it.last - it.first) {
                                it.last = it.first;
                                rep = 1;
                        }
                        if (!range && it.step == 0) {
                                it.last = f->max;
                                it.single = true;
                        }
                        it.step = rep;
                        *star = false;
                } else if (it.step == 0) {
                        it.step = 1;
                }
                items[(*count)++] = it;
                if (*s == '\0')
                        return 0;
                if (*s != ',' || s[1] == '\0')
                        return fail(p, -EINVAL, "%s: unexpected '%s' in '%s'", f->name, s, comp);
                s++;
        }
}

static int calendar_mask(struct parse *p, const struct field *f, const char *comp, uint64_t *mask, bool *star)
{
        struct cal_item items[64];
        int n, r = calendar_items(p, f, comp, items, 64, &n, star);
        if (r < 0)
                return r;
        *mask = 0;
        for (int i = 0; i < n; i++)
                for (long v = items[i].first; v <= items[i].last; v += items[i].step)
                        *mask |= UINT64_C(1) << v;
        return 0;
}

/* Days counted from the month's end ("~"): 1 is the last day. A repetition
 * of a single value runs towards the end of the month, as systemd does:
 * "~7/2" is the 7th, 5th, 3rd and 1st (the last) day from the end. */
static int calendar_end_days(struct parse *p, const char *comp, uint64_t *mask)
{
        struct cal_item items[64];
        bool star;
        int n, r = calendar_items(p, &f_day, comp, items, 64, &n, &star);
        if (r < 0)
                return r;
        *mask = 0;
        for (int i = 0; i < n; i++) {
                if (items[i].single)
                        for (long v = items[i].first; v >= 1; v -= items[i].step)
                                *mask |= UINT64_C(1) << v;
                else
                        for (long v = items[i].first; v <= items[i].last; v += items[i].step)
                                *mask |= UINT64_C(1) << v;
        }
        return 0;
}

static int calendar_years(struct parse *p, const char *comp, struct schedule *s)
{
        struct cal_item items[SCHEDULE_MAX_YEAR_RANGES];
        bool star;
        int n, r = calendar_items(p, &f_year, comp, items, SCHEDULE_MAX_YEAR_RANGES, &n, &star);
        if (r < 0)
                return r;
        for (int i = 0; i < n; i++)
                if (items[i].first == f_year.min && items[i].last == f_year.max && items[i].step == 1)
                        return 0; /* "*" anywhere in the list: every year */
        for (int i = 0; i < n; i++)
                s->years[i] = (struct schedule_years){ (uint16_t)items[i].first, (uint16_t)items[i].last,
                                                       (uint16_t)items[i].step };
        s->year_count = (uint8_t)n;
        return 0;
}

static int calendar_date(struct parse *p, char *text, struct schedule *s)
{
        char *comps[3], *tilde = strchr(text, '~');
        int n = 0;
        if (tilde) {
                *tilde = '\0';
                size_t len = strlen(text);
                if (len && text[len - 1] == '-')
                        text[len - 1] = '\0'; /* "*-02-~1", tickd's spelling of "*-02~1" */
        }
        for (char *q = text;; q++) {
                char *dash = strchr(q, '-');
                if (n == 3)
                        return fail(p, -EINVAL, "date: '%s' has too many components", text);
                comps[n++] = q;
                if (!dash)
                        break;
                *dash = '\0';
                q = dash;
        }
        if (tilde) {
                if (n > 2)
                        return fail(p, -EINVAL, "date: '%s~%s' has too many components", text, tilde + 1);
                comps[n++] = tilde + 1;
        }
        if (n < 2)
                return fail(p, -EINVAL, "date: '%s' needs a month and a day", text);
        uint64_t mask;
        bool star;
        int r;
        if (n == 3 && (r = calendar_years(p, comps[0], s)) < 0)
                return r;
        if ((r = calendar_mask(p, &f_month, comps[n - 2], &mask, &star)) < 0)
                return r;
        s->months = (uint16_t)mask;
        if (tilde) {
                if ((r = calendar_end_days(p, comps[n - 1], &mask)) < 0)
                        return r;
                s->from_end = true;
        } else if ((r = calendar_mask(p, &f_day, comps[n - 1], &mask, &star)) < 0) {
                return r;
        }
        s->mdays = (uint32_t)mask;
        return 0;
}

static int calendar_time(struct parse *p, char *text, struct schedule *s)
{
        char *comps[3];
        int n = 0;
        for (char *q = text;; q++) {
                char *colon = strchr(q, ':');
                if (n == 3)
                        return fail(p, -EINVAL, "time: '%s' has too many components", text);
                comps[n++] = q;
                if (!colon)
                        break;
                *colon = '\0';
                q = colon;
        }
        if (n < 2)
                return fail(p, -EINVAL, "time: '%s' needs hours and minutes", text);
        uint64_t mask;
        bool star;
        int r;
        if ((r = calendar_mask(p, &f_hour, comps[0], &mask, &star)) < 0)
                return r;
        s->hours = (uint32_t)mask;
        s->hour_wildcard = comps[0][0] == '*' || strchr(comps[0], '/');
        if ((r = calendar_mask(p, &f_minute, comps[1], &mask, &star)) < 0)
                return r;
        s->minutes = mask;
        if (n == 3) {
                if ((r = calendar_mask(p, &f_second, comps[2], &mask, &star)) < 0)
                        return r;
                s->seconds = mask;
        }
        return 0;
}

static int calendar_zone(struct parse *p, const char *name, struct tz_cache *zones, struct schedule *s)
{
        if (!zones)
                return fail(p, -ENOENT, "zone: '%s' cannot be resolved here", name);
        int r = tz_cache_get(zones, name, &s->zone);
        if (r == -ENOENT)
                return fail(p, -ENOENT, "zone: unknown time zone '%s'", name);
        if (r == -ENOMEM)
                return fail(p, r, "zone: '%s': out of memory", name);
        if (r < 0)
                return fail(p, -EINVAL, "zone: '%s' is not a valid time zone", name);
        return 0;
}

static const struct {
        const char *name, *expansion;
} shorthands[] = {
        { "minutely", "*-*-* *:*:00" },
        { "hourly", "*-*-* *:00:00" },
        { "daily", "*-*-* 00:00:00" },
        { "monthly", "*-*-01 00:00:00" },
        { "weekly", "Mon *-*-* 00:00:00" },
        { "yearly", "*-01-01 00:00:00" },
        { "annually", "*-01-01 00:00:00" },
        { "quarterly", "*-01,04,07,10-01 00:00:00" },
        { "semiannually", "*-01,07-01 00:00:00" },
};

static int parse_calendar(struct parse *p, char **words, int n, struct tz_cache *zones, struct schedule *s)
{
        s->kind = SCHEDULE_CALENDAR;
        s->weekdays = 0x7f;
        s->months = 0x1ffe;
        s->mdays = 0xfffffffe;
        s->hours = 1;
        s->minutes = 1;
        s->seconds = 1;

        int i = 0, r;
        for (size_t k = 0; k < sizeof(shorthands) / sizeof(shorthands[0]); k++)
                if (strcasecmp(words[0], shorthands[k].name) == 0) {
                        char buf[64], *sw[4];
                        strcpy(buf, shorthands[k].expansion);
                        int sn = split_words(buf, sw, 4);
                        if (n > 2)
                                return fail(p, -EINVAL, "calendar: unexpected '%s' after '%s'", words[2], words[0]);
                        r = parse_calendar(p, sw, sn, NULL, s);
                        if (r < 0)
                                return r;
                        return n == 2 ? calendar_zone(p, words[1], zones, s) : 0;
                }

        if (isalpha((unsigned char)words[0][0]) && !(n == 1 && strchr(words[0], '/'))) {
                size_t len = strlen(words[0]);
                if (len > 1 && words[0][len - 1] == ',')
                        words[0][len - 1] = '\0'; /* "Wed, 17:48" */
                if ((r = calendar_weekdays(p, words[i++], &s->weekdays)) < 0)
                        return r;
        }
        bool have_date = false, have_time = false;
        if (i < n && !strchr(words[i], ':') && (isdigit((unsigned char)words[i][0]) || words[i][0] == '*')) {
                if ((r = calendar_date(p, words[i++], s)) < 0)
                        return r;
                have_date = true;
        }
        if (i < n && strchr(words[i], ':')) {
                if ((r = calendar_time(p, words[i++], s)) < 0)
                        return r;
                have_time = true;
        }
        if (i == 0)
                return fail(p, -EINVAL, "calendar: '%s' is neither a weekday, a date nor a time", words[0]);
        if (i < n && (isdigit((unsigned char)words[i][0]) || words[i][0] == '*'))
                return fail(p, -EINVAL, "calendar: unexpected '%s'%s", words[i],
                            have_time   ? " after the time"
                            : have_date ? " after the date"
                                        : "");
        if (i < n - 1)
                return fail(p, -EINVAL, "calendar: unexpected '%s'", words[i + 1]);
        if (i == n - 1)
                return calendar_zone(p, words[i], zones, s);
        return 0;
}

static int parse_every(struct parse *p, const char *span, struct schedule *s)
{
        uint64_t usec;
        int r = timespan_parse(span, &usec);
        if (r == -ERANGE || (r == 0 && usec > SCHEDULE_EVERY_MAX_SEC * USEC_PER_SEC))
                return fail(p, -EINVAL, "every: '%s' is longer than the maximum, 10y", span);
        if (r < 0)
                return fail(p, -EINVAL, "every: '%s' is not a time span", span);
        if (usec % USEC_PER_SEC)
                return fail(p, -EINVAL, "every: '%s' is not a whole number of seconds", span);
        if (usec < USEC_PER_SEC)
                return fail(p, -EINVAL, "every: '%s' is shorter than 1s", span);
        s->kind = SCHEDULE_EVERY;
        s->period = (uint32_t)(usec / USEC_PER_SEC); /* <= SCHEDULE_EVERY_MAX_SEC, checked above */
        return 0;
}

static const struct {
        const char *name, *cron;
} keywords[] = {
        { "@yearly", "0 0 1 1 *" }, { "@annually", "0 0 1 1 *" }, { "@monthly", "0 0 1 * *" },
        { "@weekly", "0 0 * * 0" }, { "@daily", "0 0 * * *" },    { "@midnight", "0 0 * * *" },
        { "@hourly", "0 * * * *" },
};

/* True for text that looks like a cron line with the wrong number of fields. */
static bool looks_like_cron(char **words, int n)
{
        for (int i = 0; i < n; i++)
                if (strcmp(words[i], "*") == 0)
                        return true;
        for (int i = 0; i < n; i++)
                if (words[i][strspn(words[i], "0123456789*,/")] != '\0')
                        return false;
        return true;
}

static int parse_text(struct parse *p, const char *text, struct tz_cache *zones, struct schedule *s)
{
        char buf[MAX_TEXT], *words[MAX_WORDS];
        if (strlen(text) >= sizeof(buf))
                return fail(p, -EINVAL, "expression is longer than %d bytes", MAX_TEXT - 1);
        strcpy(buf, text);
        int n = split_words(buf, words, MAX_WORDS);
        if (n < 0)
                return fail(p, -EINVAL, "expression has too many fields");
        if (n == 0)
                return fail(p, -EINVAL, "expression is empty");

        if (words[0][0] == '@') {
                if (strcasecmp(words[0], "@every") == 0) {
                        const char *span = strcasestr(text, "@every") + 6;
                        span += strspn(span, " \t\n");
                        return parse_every(p, span, s);
                }
                if (n > 1)
                        return fail(p, -EINVAL, "%s: unexpected '%s'", words[0], words[1]);
                if (strcasecmp(words[0], "@reboot") == 0) {
                        s->kind = SCHEDULE_REBOOT;
                        return 0;
                }
                for (size_t k = 0; k < sizeof(keywords) / sizeof(keywords[0]); k++)
                        if (strcasecmp(words[0], keywords[k].name) == 0)
                                return parse_text(p, keywords[k].cron, NULL, s);
                return fail(p, -EINVAL, "unknown keyword '%s'", words[0]);
        }

        bool calendar_marks = strpbrk(text, ":~") || strstr(text, "..");
        if (!calendar_marks && (n == 5 || n == 6))
                return parse_cron(p, words, n, s);
        if (!calendar_marks && n >= 3 && looks_like_cron(words, n))
                return fail(p, -EINVAL, "cron: expected 5 or 6 fields, got %d", n);
        return parse_calendar(p, words, n, zones, s);
}

int schedule_parse(const char *text, struct tz_cache *zones, struct schedule **out, char *err, size_t err_size)
{
        struct parse p = { err, err_size };
        if (err && err_size)
                err[0] = '\0';
        size_t text_size = strlen(text) + 1;
        struct schedule *s = calloc(1, sizeof(*s) + text_size);
        if (!s)
                return fail(&p, -ENOMEM, "out of memory");
        int r = parse_text(&p, text, zones, s);
        if (r >= 0 && !schedule_finish(s))
                r = fail(&p, -EINVAL, "'%s' never fires", text);
        if (r < 0) {
                free(s);
                return r;
        }
        /* Right after the bytes that matter (schedule_text()), so that a
         * copy of those and the text is a copy of both. */
        memcpy((char *)s + schedule_size(s), text, text_size);
        *out = s;
        return 0;
}
