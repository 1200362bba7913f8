/* schedule-internal.h — the parsed form of a schedule, shared by the parser
 * (schedule-parse.c) and the engine (schedule.c). Not a public contract.
 *
 * A schedule is plain data: one bitmap per field, a few year ranges, and
 * flags. Matching a civil date or time is a handful of bit operations, and
 * "the next matching value" is a count-trailing-zeros. */
#ifndef TICKD_SCHEDULE_INTERNAL_H
#define TICKD_SCHEDULE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/schedule.h"

#define SCHEDULE_YEAR_MIN        1970
#define SCHEDULE_YEAR_MAX        9999
#define SCHEDULE_MAX_YEAR_RANGES 8

struct schedule_years {
        uint16_t first, last, step; /* first, first+step, ... <= last */
};

struct schedule {
        uint8_t kind;          /* enum schedule_kind */
        bool day_or;           /* cron: dom and dow both restricted, a day matches if either does */
        bool from_end;         /* calendar "~": mdays counts days from the end of the month */
        bool hour_wildcard;    /* hour is "*" or a repetition: real-time cadence across DST */
        uint8_t year_count;    /* 0 = every year */
        uint8_t weekdays;      /* bit 0 = Sunday .. bit 6 = Saturday */
        uint16_t months;       /* bits 1..12 */
        uint32_t mdays;        /* bits 1..31: day of month, or with from_end the k-th last day */
        uint32_t hours;        /* bits 0..23 */
        uint64_t minutes;      /* bits 0..59 */
        uint64_t seconds;      /* bits 0..59 */
        const struct tz *zone; /* named in the expression, or NULL */
        /* A kind has at most one of them, so they share 4 bytes (issue 16:
         * a schedule is 48 bytes without year ranges, 46 before them). */
        union {
                /* @every, seconds: at most SCHEDULE_EVERY_MAX_SEC */
                uint32_t period;
                /* cron: the first step that never repeats (step 30 in
                 * hours): its field as schedule_cron_fields[lone_step_field
                 * - 1] (0 = none), the step, and the one value it matches
                 * (a field's first value, at most 59). */
                uint32_t lone_step;
        };
        uint8_t lone_step_field;
        uint8_t lone_step_value;
        /* Last: a schedule ends after years[year_count - 1], rounded to 8
         * (schedule_size()), where its text starts (schedule_text()), so
         * nothing reads past year_count nor copies a schedule by
         * assignment. */
        struct schedule_years years[SCHEDULE_MAX_YEAR_RANGES];
};

/* The names of cron's six fields, in order. */
#define SCHEDULE_CRON_FIELDS 6
extern const char *const schedule_cron_fields[SCHEDULE_CRON_FIELDS];

/* Checks, once the fields are set, that the expression can fire at all;
 * returns false when it never can. Nothing is derived and stored: what
 * a month's days are is computed when schedule_next() enters it. */
bool schedule_finish(struct schedule *s);

#endif
