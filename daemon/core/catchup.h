/* catchup.h — what a job does when its instants fall due: the pure rule
 * behind late wake-ups, clock steps and suspend.
 *
 * Owns one decision and nothing else: given a job's schedule, its
 * high-water mark (the latest scheduled instant already run or decided;
 * never run again), its persistent flag, the clock when its instants were
 * last decided ("previous now") and the clock now, it says whether the job
 * runs now, for which scheduled instant, and which instant comes next.
 *
 *   - Every instant in (max(high-water, previous now), now] is due. However
 *     many there are (a clock stepped forward, a machine resumed from
 *     suspend), the job runs ONCE, for the latest of them.
 *   - A run that is more than CATCHUP_LATE_USEC late (measured from the
 *     first due instant plus the job's random delay: a jump of a minute or
 *     more, or a long suspend) happens only for persistent jobs; other jobs
 *     skip it (late = true, run = false).
 *   - Due instants, run or skipped, raise the high-water mark; the next
 *     instant is the first one after both now and the new mark. So when the
 *     clock steps backwards no instant runs twice: instants at or before the
 *     mark are never due again.
 *
 * Pure: no clock, no I/O, no globals (schedule_next() only). */
#ifndef TICKD_CATCHUP_H
#define TICKD_CATCHUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/schedule.h"

#define CATCHUP_NONE INT64_MAX
/* A run later than this after its instant is "late" (issue 4: "the jump
 * was under a minute"). */
#define CATCHUP_LATE_USEC (INT64_C(60) * 1000000)

struct catchup_job {
        const struct schedule *schedule;
        const struct tz *zone;     /* the job's zone (NULL = UTC) */
        int64_t high_water_sec;    /* instants <= this never run again; INT64_MIN = none */
        int64_t random_delay_usec; /* its bound: a run is late only past its delay too */
        bool persistent;
};

struct catchup {
        bool run;               /* run once now, for scheduled_sec */
        bool late;              /* instants were due more than a minute late */
        uint64_t n_due;         /* instants that fell due (0: none; > 1: a jump or suspend) */
        int64_t first_due_sec;  /* the earliest due instant, CATCHUP_NONE if none */
        int64_t scheduled_sec;  /* the latest due instant (what a run is for), CATCHUP_NONE if none */
        int64_t high_water_sec; /* the job's new high-water mark */
        int64_t next_sec;       /* the next instant to wait for, CATCHUP_NONE if none */
};

/* Decides for JOB. PREVIOUS_NOW_SEC: the second up to which the job's
 * instants were already decided (the clock before a step; the daemon
 * passes its pending instant minus one). NOW_USEC: the clock now. Returns
 * 0, or -E2BIG when more than CATCHUP_WALK_MAX instants fell due (then
 * *OUT still holds a usable decision: run once for the last one walked,
 * next instant computed from now). */
#define CATCHUP_WALK_MAX 100000
int catchup_decide(const struct catchup_job *job, int64_t previous_now_sec, int64_t now_usec, struct catchup *out);

#endif
