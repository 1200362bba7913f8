/* schedule-export.c — a parsed schedule in systemd's calendar syntax and in
 * Kubernetes' cron syntax; see schedule_to_calendar() in schedule.h.
 *
 * Both are written from the bitmaps, not from the text: names, ranges,
 * steps, lists, "7 = Sunday" and lone steps have all been resolved by the
 * parser, so what is written is exactly what tickd matches. */
#include "core/schedule-internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/strbuf.h"
#include "core/strv.h"

#define DAY 86400

enum style {
        STYLE_SYSTEMD, /* ranges "a..b", repetitions "a/s" run to the field's end */
        STYLE_CRON,    /* ranges "a-b", steps "a-max/s" */
};

static bool has(uint64_t bits, int v) { return (bits >> v) & 1; }

/* The step S when BITS (within LO..HI, at least three values) is a, a+s,
 * a+2s, ... up to the field's end; 0 when it is not. */
static int progression(uint64_t bits, int lo, int hi, int *first)
{
        int a = -1, s = 0, n = 0, last = -1;
        for (int v = lo; v <= hi; v++) {
                if (!has(bits, v))
                        continue;
                if (a < 0)
                        a = v;
                else if (!s)
                        s = v - a;
                else if (v - last != s)
                        return 0;
                last = v, n++;
        }
        if (n < 3 || s < 2 || last + s <= hi)
                return 0;
        *first = a;
        return s;
}

/* One field: "*" when every value of LO..HI is in BITS. */
static void add_set(struct strbuf *t, uint64_t bits, int lo, int hi, enum style style, bool two_digits)
{
        uint64_t all = (hi == 63 ? ~UINT64_C(0) : (UINT64_C(1) << (hi + 1)) - 1) & ~((UINT64_C(1) << lo) - 1);
        if ((bits & all) == all) {
                strbuf_putc(t, '*');
                return;
        }
        int width = two_digits ? 2 : 1;
        int a, s = progression(bits, lo, hi, &a);
        if (s) {
                strbuf_printf(t, "%0*d", width, a);
                if (style == STYLE_CRON)
                        strbuf_printf(t, "-%d", hi);
                strbuf_printf(t, "/%d", s);
                return;
        }
        bool first = true;
        for (int v = lo; v <= hi; v++) {
                if (!has(bits, v))
                        continue;
                int end = v;
                while (end < hi && has(bits, end + 1))
                        end++;
                strbuf_printf(t, first ? "" : ",");
                first = false;
                strbuf_printf(t, "%0*d", width, v);
                if (end - v >= 2) {
                        strbuf_printf(t, style == STYLE_CRON ? "-" : "..");
                        strbuf_printf(t, "%0*d", width, end);
                        v = end;
                }
        }
}

/* systemd's weekdays, Monday first so that no run wraps past Sunday. */
static void add_weekdays(struct strbuf *t, uint8_t days)
{
        static const char *const names[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
        static const int order[] = { 1, 2, 3, 4, 5, 6, 0 };
        bool first = true;
        for (int i = 0; i < 7; i++) {
                if (!has(days, order[i]))
                        continue;
                int end = i;
                while (end < 6 && has(days, order[end + 1]))
                        end++;
                strbuf_printf(t, "%s%s", first ? "" : ",", names[order[i]]);
                first = false;
                if (end - i >= 2) {
                        strbuf_printf(t, "..%s", names[order[end]]);
                        i = end;
                }
        }
        strbuf_printf(t, " ");
}

static void add_years(struct strbuf *t, const struct schedule *s)
{
        if (!s->year_count) {
                strbuf_putc(t, '*');
                return;
        }
        for (int i = 0; i < s->year_count; i++) {
                const struct schedule_years *y = &s->years[i];
                strbuf_printf(t, "%s%u", i ? "," : "", y->first);
                if (y->last != y->first)
                        strbuf_printf(t, "..%u", y->last);
                if (y->step > 1)
                        strbuf_printf(t, "/%u", y->step);
        }
}

/* One OnCalendar= expression of S with its day fields replaced. */
struct day_rule {
        uint8_t weekdays; /* 0x7f = any */
        uint32_t mdays;   /* with from_end: k-th last */
        bool from_end;
};

static void add_line(struct strbuf *t, const struct schedule *s, const struct day_rule *d, uint32_t hours,
                     uint64_t minutes, uint64_t seconds, const char *zone)
{
        if ((d->weekdays & 0x7f) != 0x7f)
                add_weekdays(t, d->weekdays);
        add_years(t, s);
        strbuf_printf(t, "-");
        add_set(t, s->months, 1, 12, STYLE_SYSTEMD, true);
        strbuf_printf(t, d->from_end ? "~" : "-");
        add_set(t, d->mdays, 1, 31, STYLE_SYSTEMD, true);
        strbuf_printf(t, " ");
        add_set(t, hours, 0, 23, STYLE_SYSTEMD, true);
        strbuf_printf(t, ":");
        add_set(t, minutes, 0, 59, STYLE_SYSTEMD, true);
        strbuf_printf(t, ":");
        add_set(t, seconds, 0, 59, STYLE_SYSTEMD, true);
        if (zone)
                strbuf_printf(t, " %s", zone);
}

static int append_line(char ***lines, size_t *n, struct strbuf *t)
{
        char *line = strbuf_take(t);
        char **v = line ? realloc(*lines, (*n + 2) * sizeof(*v)) : NULL;
        if (!v) {
                free(line);
                return -ENOMEM;
        }
        v[(*n)++] = line;
        v[*n] = NULL;
        *lines = v;
        return 0;
}

#define ALL_MDAYS UINT32_C(0xfffffffe)

/* The day rules of S: one, or two for cron's "day-of-month OR day-of-week". */
static size_t day_rules(const struct schedule *s, struct day_rule rules[2])
{
        bool all_mdays = (s->mdays & ALL_MDAYS) == ALL_MDAYS, all_weekdays = (s->weekdays & 0x7f) == 0x7f;
        if (s->day_or && (all_mdays || all_weekdays)) {
                rules[0] = (struct day_rule){ 0x7f, ALL_MDAYS, false };
                return 1;
        }
        if (s->day_or) {
                rules[0] = (struct day_rule){ 0x7f, s->mdays, false };
                rules[1] = (struct day_rule){ s->weekdays, ALL_MDAYS, false };
                return 2;
        }
        rules[0] = (struct day_rule){ s->weekdays, s->mdays, s->from_end };
        return 1;
}

/* @every P: the times of day at which multiples of P fall, grouped into
 * (hours, minutes, seconds) products. Returns how many, 0 when P does not
 * divide a day or more than MAX groups are needed, or -ENOMEM. GROUPS has
 * room for 4 * MAX. */
struct every_group {
        uint32_t hours;
        uint64_t minutes, seconds;
};

static long every_groups(uint64_t period, struct every_group *groups, size_t max)
{
        if (period == 0 || DAY % period != 0)
                return 0;
        /* hours_at[m][s]: the hours in which m:s is a fire time. */
        static const size_t cells = 60 * 60;
        uint32_t *hours_at = calloc(cells, sizeof(*hours_at));
        if (!hours_at)
                return -ENOMEM;
        for (uint64_t t = 0; t < DAY; t += period)
                hours_at[t % 3600 / 60 * 60 + t % 60] |= UINT32_C(1) << (t / 3600);
        size_t n = 0;
        for (int m = 0; m < 60; m++)
                for (int sec = 0; sec < 60; sec++) {
                        uint32_t h = hours_at[m * 60 + sec];
                        if (!h)
                                continue;
                        size_t i;
                        /* same hours and seconds: add the minute; same hours
                         * and minute set would need a second pass below */
                        for (i = 0; i < n; i++)
                                if (groups[i].hours == h && groups[i].seconds == (UINT64_C(1) << sec))
                                        break;
                        if (i == n) {
                                if (n == max * 4) {
                                        free(hours_at);
                                        return 0;
                                }
                                groups[n++] = (struct every_group){ h, 0, UINT64_C(1) << sec };
                        }
                        groups[i].minutes |= UINT64_C(1) << m;
                }
        free(hours_at);
        /* merge groups that differ only in their second */
        size_t out = 0;
        for (size_t i = 0; i < n; i++) {
                size_t j;
                for (j = 0; j < out; j++)
                        if (groups[j].hours == groups[i].hours && groups[j].minutes == groups[i].minutes)
                                break;
                if (j == out)
                        groups[out++] = groups[i];
                else
                        groups[j].seconds |= groups[i].seconds;
        }
        return out <= max ? (long)out : 0;
}

static int every_to_calendar(const struct schedule *s, char ***out, char *err, size_t err_size)
{
        struct every_group groups[SCHEDULE_CALENDAR_MAX_LINES * 4];
        long n = every_groups(s->period, groups, SCHEDULE_CALENDAR_MAX_LINES);
        if (n < 0)
                return (int)n;
        if (!n) {
                snprintf(err, err_size,
                         "@every %llus: only a period that divides a day evenly has a calendar form (in at most %d "
                         "expressions)",
                         (unsigned long long)s->period, SCHEDULE_CALENDAR_MAX_LINES);
                return -EOPNOTSUPP;
        }
        static const struct schedule any = { .months = 0x1ffe };
        struct day_rule day = { 0x7f, ALL_MDAYS, false };
        char **lines = NULL;
        size_t n_lines = 0;
        for (long i = 0; i < n; i++) {
                struct strbuf t = { 0 };
                add_line(&t, &any, &day, groups[i].hours, groups[i].minutes, groups[i].seconds, "UTC");
                int r = append_line(&lines, &n_lines, &t);
                if (r < 0) {
                        strv_free(lines);
                        return r;
                }
        }
        *out = lines;
        return 0;
}

int schedule_to_calendar(const struct schedule *s, const char *zone_name, char ***out, char *err, size_t err_size)
{
        if (s->kind == SCHEDULE_REBOOT) {
                snprintf(err, err_size, "@reboot has no calendar form");
                return -EOPNOTSUPP;
        }
        if (s->kind == SCHEDULE_EVERY)
                return every_to_calendar(s, out, err, err_size);
        struct day_rule rules[2];
        size_t n = day_rules(s, rules);
        char **lines = NULL;
        size_t n_lines = 0;
        for (size_t i = 0; i < n; i++) {
                struct strbuf t = { 0 };
                add_line(&t, s, &rules[i], s->hours, s->minutes, s->seconds, zone_name);
                int r = append_line(&lines, &n_lines, &t);
                if (r < 0) {
                        strv_free(lines);
                        return r;
                }
        }
        *out = lines;
        return 0;
}

/* Why S has no five-field cron form, or NULL when it has one. */
static const char *cron_refusal(const struct schedule *s)
{
        if (s->kind == SCHEDULE_REBOOT)
                return "@reboot has no cron schedule in Kubernetes";
        if (s->seconds != 1)
                return "a seconds field other than 0 (Kubernetes cron has minutes at best)";
        if (s->year_count)
                return "a year restriction (Kubernetes cron has no year field)";
        if (s->from_end)
                return "days counted from the end of the month ('~')";
        bool all_mdays = (s->mdays & ALL_MDAYS) == ALL_MDAYS, all_weekdays = (s->weekdays & 0x7f) == 0x7f;
        if (!s->day_or && !all_mdays && !all_weekdays)
                return "a day that must match both day of month AND weekday (Kubernetes cron matches either)";
        return NULL;
}

static int every_to_cron(const struct schedule *s, char **out, char *err, size_t err_size)
{
        struct every_group g[4];
        long n = every_groups(s->period, g, 1);
        if (n < 0)
                return (int)n;
        if (n != 1 || g[0].seconds != 1) {
                snprintf(err, err_size,
                         "@every %llus: Kubernetes cron can only say a period of whole minutes that fits one cron "
                         "line (one that divides an hour, or whole hours dividing a day)",
                         (unsigned long long)s->period);
                return -EOPNOTSUPP;
        }
        struct strbuf t = { 0 };
        add_set(&t, g[0].minutes, 0, 59, STYLE_CRON, false);
        strbuf_printf(&t, " ");
        add_set(&t, g[0].hours, 0, 23, STYLE_CRON, false);
        strbuf_printf(&t, " * * *");
        *out = strbuf_take(&t);
        return *out ? 0 : -ENOMEM;
}

int schedule_to_cron(const struct schedule *s, char **out, bool *utc, char *err, size_t err_size)
{
        *utc = s->kind == SCHEDULE_EVERY;
        if (s->kind == SCHEDULE_EVERY)
                return every_to_cron(s, out, err, err_size);
        const char *why = cron_refusal(s);
        if (why) {
                snprintf(err, err_size, "%s", why);
                return -EOPNOTSUPP;
        }
        bool all_mdays = (s->mdays & ALL_MDAYS) == ALL_MDAYS, all_weekdays = (s->weekdays & 0x7f) == 0x7f;
        /* Kubernetes ORs the two day fields when neither starts with '*':
         * a full field is written "*", and an OR with a full field is every day. */
        bool every_day = s->day_or && (all_mdays || all_weekdays);
        struct strbuf t = { 0 };
        add_set(&t, s->minutes, 0, 59, STYLE_CRON, false);
        strbuf_printf(&t, " ");
        add_set(&t, s->hours, 0, 23, STYLE_CRON, false);
        strbuf_printf(&t, " ");
        add_set(&t, every_day ? ALL_MDAYS : s->mdays, 1, 31, STYLE_CRON, false);
        strbuf_printf(&t, " ");
        add_set(&t, s->months, 1, 12, STYLE_CRON, false);
        strbuf_printf(&t, " ");
        add_set(&t, every_day ? 0x7f : s->weekdays, 0, 6, STYLE_CRON, false);
        *out = strbuf_take(&t);
        return *out ? 0 : -ENOMEM;
}
