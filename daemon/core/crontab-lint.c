/* crontab-lint.c — warnings for jobs that are valid but probably wrong;
 * see crontab_lint_job() in crontab.h. Pure: "now" is an argument. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/crontab.h"
#include "core/timespan.h"

#define DAY  (INT64_C(86400))
#define YEAR (366 * DAY)
/* Fires examined per DST overlap; more means a cadence, not a fixed time. */
#define OVERLAP_FIRE_LIMIT 4096

static void format_time(const struct tz *zone, int64_t t, char *buf, size_t size)
{
        struct tz_civil c;
        tz_to_civil(zone, t, &c);
        snprintf(buf, size, "%04" PRId64 "-%02d-%02d %02d:%02d", c.year, c.month, c.day, c.hour, c.minute);
}

/* Whether the fires around the fall-back at T (offset drops by D seconds)
 * include a fixed-time one: fires in the first pass of the repeated local
 * hour, none in the second (a cadence job fires in both). */
static bool fixed_time_in_overlap(const struct schedule *s, const struct tz *zone, int64_t t, int64_t d)
{
        struct schedule_fire f;
        int64_t after = t - d - 1;
        bool first = false, second = false;
        for (int i = 0; i < OVERLAP_FIRE_LIMIT; i++) {
                if (schedule_next_fire(s, zone, after, &f) < 0 || f.at >= t + d)
                        break;
                if (f.dst == SCHEDULE_DST_OVERLAP) {
                        if (f.at < t)
                                first = true;
                        else
                                second = true;
                }
                after = f.at;
                if (i == OVERLAP_FIRE_LIMIT - 1)
                        return false;
        }
        return first && !second;
}

static int lint_dst(const struct job *job, const struct tz *zone, int64_t now, struct diagnostics *diags)
{
        struct tz_dates gaps = { 0 }, overlaps = { 0 };
        int64_t t = now;
        for (int guard = 0; guard < 64; guard++) {
                struct tz_span span;
                tz_span_at(zone, t, &span);
                if (span.end == INT64_MAX || span.end > now + YEAR)
                        break;
                int64_t change = (int64_t)span.next_offset - span.offset;
                t = span.end;
                if (change > 0) {
                        if (schedule_fires_in_gap(job->schedule, zone, t, change))
                                tz_dates_add(&gaps, zone, t - 1);
                } else if (change < 0 && fixed_time_in_overlap(job->schedule, zone, t, -change))
                        tz_dates_add(&overlaps, zone, t);
        }
        int n = 0;
        unsigned line = job->schedule_line ? job->schedule_line : job->line;
        if (gaps.n) {
                if (diag_add_key(diags, DIAG_WARNING, job->file, line, "schedule",
                                 "schedule: job '%s' has a fixed time that does not exist in %s on %s (DST "
                                 "gap): it runs once, when the gap ends",
                                 job->name, tz_name(zone), gaps.text) < 0)
                        return -ENOMEM;
                n++;
        }
        if (overlaps.n) {
                if (diag_add_key(diags, DIAG_WARNING, job->file, line, "schedule",
                                 "schedule: job '%s' has a fixed time that happens twice in %s on %s (DST "
                                 "overlap): it runs once, at the first",
                                 job->name, tz_name(zone), overlaps.text) < 0)
                        return -ENOMEM;
                n++;
        }
        return n;
}

/* The shortest time between two of the next few runs, in seconds; 0 when unknown. */
static int64_t shortest_interval(const struct job *job, const struct tz *zone, int64_t now)
{
        if (schedule_kind(job->schedule) == SCHEDULE_EVERY)
                return (int64_t)schedule_period(job->schedule);
        int64_t prev, next, shortest = 0;
        if (schedule_next(job->schedule, zone, now, &prev) < 0)
                return 0;
        for (int i = 0; i < 32; i++) {
                if (schedule_next(job->schedule, zone, prev, &next) < 0)
                        break;
                if (!shortest || next - prev < shortest)
                        shortest = next - prev;
                prev = next;
        }
        return shortest;
}

/* Step 30 in the hour field is valid cron (hour 0 only) but reads like "every 30 hours". */
static int lint_lone_step(const struct job *job, unsigned line, struct diagnostics *diags)
{
        int step, value;
        const char *field = schedule_lone_step(job->schedule, &step, &value);
        if (!field)
                return 0;
        if (diag_add_key(diags, DIAG_WARNING, job->file, line, "schedule",
                         "schedule: job '%s' has step %d in the %s field, which never repeats there: it means %s %d "
                         "only",
                         job->name, step, field, field, value) < 0)
                return -ENOMEM;
        return 1;
}

int crontab_lint_job(const struct job *job, int64_t now, struct diagnostics *diags)
{
        if (!job->schedule || schedule_kind(job->schedule) == SCHEDULE_REBOOT)
                return 0;
        const struct tz *zone = schedule_zone(job->schedule) ? schedule_zone(job->schedule) : job->zone;
        unsigned line = job->schedule_line ? job->schedule_line : job->line;
        int n = 0, r;
        int64_t next;

        r = schedule_next(job->schedule, zone, now, &next);
        if (r < 0) {
                if (diag_add_key(diags, DIAG_WARNING, job->file, line, "schedule",
                                 "schedule: job '%s' never runs again ('%s' has no time after now)", job->name,
                                 job_schedule_text(job)) < 0)
                        return -ENOMEM;
                return 1;
        }
        if (next - now > YEAR) {
                char when[64];
                format_time(zone, next, when, sizeof(when));
                if (diag_add_key(diags, DIAG_WARNING, job->file, line, "schedule",
                                 "schedule: job '%s' next runs on %s %s, more than a year away", job->name, when,
                                 tz_name(zone)) < 0)
                        return -ENOMEM;
                n++;
        }
        r = lint_lone_step(job, line, diags);
        if (r < 0)
                return r;
        n += r;
        r = lint_dst(job, zone, now, diags);
        if (r < 0)
                return r;
        n += r;
        if (job->overlap == OVERLAP_ALLOW && job->timeout_usec) {
                int64_t interval = shortest_interval(job, zone, now);
                if (interval > 0 && job->timeout_usec > (uint64_t)interval * USEC_PER_SEC) {
                        char t[64], i[64];
                        timespan_format(job->timeout_usec, t, sizeof(t));
                        timespan_format((uint64_t)interval * USEC_PER_SEC, i, sizeof(i));
                        if (diag_add_key(diags, DIAG_WARNING, job->file,
                                         job->timeout_line ? job->timeout_line : job->line, "timeout",
                                         "timeout: job '%s' may run for %s but starts every %s with overlap = allow: "
                                         "runs can pile up",
                                         job->name, t, i) < 0)
                                return -ENOMEM;
                        n++;
                }
        }
        return n;
}
