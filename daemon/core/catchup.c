/* catchup.c — due instants after late wake-ups and clock steps; see catchup.h. */
#include "core/catchup.h"

#include <errno.h>

#define USEC_PER_SEC_I INT64_C(1000000)

static int64_t floor_div(int64_t a, int64_t b)
{
        int64_t q = a / b;
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int catchup_decide(const struct catchup_job *job, int64_t previous_now_sec, int64_t now_usec, struct catchup *out)
{
        int64_t now_sec = floor_div(now_usec, USEC_PER_SEC_I);
        int64_t from = job->high_water_sec > previous_now_sec ? job->high_water_sec : previous_now_sec;
        int r = 0;
        *out = (struct catchup){ .first_due_sec = CATCHUP_NONE,
                                 .scheduled_sec = CATCHUP_NONE,
                                 .high_water_sec = job->high_water_sec,
                                 .next_sec = CATCHUP_NONE };

        /* Walk the due instants; only the first and the latest matter. */
        int64_t t = from, next;
        for (;;) {
                if (schedule_next(job->schedule, job->zone, t, &next) < 0) {
                        next = CATCHUP_NONE;
                        break;
                }
                if (next > now_sec)
                        break;
                if (out->n_due == CATCHUP_WALK_MAX) {
                        r = -E2BIG;
                        if (schedule_next(job->schedule, job->zone, now_sec, &next) < 0)
                                next = CATCHUP_NONE;
                        break;
                }
                if (out->n_due++ == 0)
                        out->first_due_sec = next;
                out->scheduled_sec = next;
                t = next;
        }

        if (out->n_due > 0) {
                int64_t lateness = now_usec - out->first_due_sec * USEC_PER_SEC_I - job->random_delay_usec;
                out->late = lateness > CATCHUP_LATE_USEC;
                out->run = !out->late || job->persistent;
                if (out->scheduled_sec > out->high_water_sec)
                        out->high_water_sec = out->scheduled_sec;
        }
        /* Walked from max(mark, previous now): NEXT is after the mark, so a
         * clock stepped backwards never brings a decided instant back. */
        out->next_sec = next;
        return r;
}
