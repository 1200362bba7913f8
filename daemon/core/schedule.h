/* schedule.h — cron and systemd calendar expressions, and their next fire time.
 *
 * Two syntaxes, told apart from the text:
 *   cron      5 fields (min hour dom month dow) or 6 (sec first); lists,
 *             ranges, steps, names, 0 and 7 = Sunday; @yearly @annually
 *             @monthly @weekly @daily @midnight @hourly @reboot;
 *             @every SPAN (fires at whole multiples of SPAN since the epoch).
 *             When both dom and dow are restricted a day matches if either
 *             does (Vixie cron).
 *   calendar  systemd.time(7) calendar events: "Mon..Fri *-*-* 09:00:00",
 *             "*-*-01 00:00", "*:0/15", "*-02-~1", "hourly", an optional
 *             trailing IANA zone that overrides the job's zone.
 *
 * Every expression is evaluated in a time zone. DST rules (docs/ARCHITECTURE.md):
 *   - a fixed-time expression (its hour is not a wildcard or a repetition)
 *     whose local time falls in a spring-forward gap fires once, at the
 *     first instant after the gap;
 *   - a fixed-time expression in a fall-back overlap fires once, at the
 *     first occurrence;
 *   - an expression whose hour is a wildcard or a repetition keeps its
 *     cadence in real time: local times in a gap do not exist, local times
 *     in an overlap happen twice.
 *
 * A parsed schedule is immutable plain data (a few hundred bytes at most)
 * and may be shared. Pure: no clock, no I/O but zone loading through the
 * cache given to schedule_parse(), no globals. */
#ifndef TICKD_SCHEDULE_H
#define TICKD_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/tz.h"

struct schedule;

/* The longest @every period: ten years of 365.25 days. Longer periods are
 * rejected (a period past the range of time_t sent next runs backwards). */
#define SCHEDULE_EVERY_MAX_SEC UINT64_C(315576000)

enum schedule_kind {
        SCHEDULE_CRON,
        SCHEDULE_CALENDAR,
        SCHEDULE_EVERY,  /* @every SPAN */
        SCHEDULE_REBOOT, /* @reboot: never fires by time; the daemon runs it at start-up */
};

/* Parses TEXT. ZONES resolves a zone named inside a calendar expression
 * (may be NULL: then such a zone is an error). On failure returns a
 * negative errno (-EINVAL for a bad expression, -ENOENT for an unknown
 * zone) and writes a one-line message naming the field and the bad text
 * into ERR, e.g. "minute: 61 is out of range 0-59". An expression that can
 * never fire ("0 0 30 2 *", "*-02-30") is rejected: "never fires". */
int schedule_parse(const char *text, struct tz_cache *zones, struct schedule **out, char *err, size_t err_size);

void schedule_free(struct schedule *s);

/* The bytes of S that matter (its year ranges in use, not the room for
 * all), a multiple of 8. S holds no pointer to memory of its own, so a
 * memcpy() of that many bytes into memory aligned for a pointer is a copy
 * that schedule_*() take like S (the loader keeps a file's schedules in
 * its blocks, each with its text after it), but not one schedule_free()
 * may free. */
size_t schedule_size(const struct schedule *s);

/* The text S was parsed from, verbatim: it follows S's schedule_size()
 * bytes, in schedule_parse()'s allocation and in every copy (the loader's
 * copies take the text with them), so a job needs no pointer of its own
 * to it (issue 16). */
const char *schedule_text(const struct schedule *s);

enum schedule_kind schedule_kind(const struct schedule *s);

/* The zone named inside the expression, or NULL when it names none. */
const struct tz *schedule_zone(const struct schedule *s);

/* A cron step larger than its field (step 30 in hours) matches the field's
 * first value only, as in Vixie cron, cronie and croniter. Returns the name
 * of the first field with such a step ("hour") and sets STEP and VALUE (the
 * one value it matches), or returns NULL when every step repeats. */
const char *schedule_lone_step(const struct schedule *s, int *step, int *value);

/* For @every: the period in seconds; 0 for other kinds. */
uint64_t schedule_period(const struct schedule *s);

/* How a fire time relates to the zone's DST transitions. */
enum schedule_dst {
        SCHEDULE_DST_NONE,    /* the local time exists exactly once */
        SCHEDULE_DST_GAP,     /* the local time was skipped; fires at the end of the gap */
        SCHEDULE_DST_OVERLAP, /* the local time happened twice; this is the first (fixed-time) or either (wildcard hour) */
};

struct schedule_fire {
        int64_t at; /* seconds since the epoch, UTC */
        enum schedule_dst dst;
};

/* The first fire time strictly after AFTER, evaluated in the expression's
 * own zone if it names one, else in ZONE (NULL = UTC). Returns 0, -ENOENT
 * when there is none (a bounded search: past year 9999, or @reboot). */
int schedule_next(const struct schedule *s, const struct tz *zone, int64_t after, int64_t *out);
int schedule_next_fire(const struct schedule *s, const struct tz *zone, int64_t after, struct schedule_fire *out);
/* Whether a fixed-time fire of S lands in the spring-forward gap at T (the
 * UTC offset grows by D > 0 seconds there): such a fire is moved to T and
 * marked SCHEDULE_DST_GAP. Looks at no more than 4096 fires (more is a
 * cadence, not a fixed time). */
bool schedule_fires_in_gap(const struct schedule *s, const struct tz *zone, int64_t t, int64_t d);

/* The schedule in other schedulers' syntax, for tickctl export. Both
 * return -EOPNOTSUPP with a sentence in ERR when the target cannot say it,
 * -ENOMEM, or 0.
 *
 * schedule_to_calendar(): systemd OnCalendar= expressions whose union
 * fires at exactly the instants schedule_next() gives, DST aside (systemd
 * skips a fixed local time that a spring-forward removes, and runs a
 * repeated local time once). ZONE_NAME is appended to each (NULL: none);
 * @every is written in UTC, where its multiples of the period fall. A cron
 * day rule "day-of-month OR day-of-week" takes two lines; @every needs a
 * period that divides a day; @reboot has no calendar form. *OUT is a
 * NULL-terminated list (strv.h) of at most SCHEDULE_CALENDAR_MAX_LINES.
 *
 * schedule_to_cron(): five cron fields as Kubernetes CronJobs read them
 * (numbers, "*", ranges, lists, steps): no seconds other than 0, no
 * years, no "last day" counts, no day-of-month AND day-of-week; *UTC is
 * set when the fields hold in UTC whatever the job's zone (@every). */
#define SCHEDULE_CALENDAR_MAX_LINES 16
int schedule_to_calendar(const struct schedule *s, const char *zone_name, char ***out, char *err, size_t err_size);
int schedule_to_cron(const struct schedule *s, char **out, bool *utc, char *err, size_t err_size);

#endif
