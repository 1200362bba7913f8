/* clock.h — the current time in microseconds.
 *
 * Every instant the programs keep is a count of microseconds: of
 * CLOCK_REALTIME for what people and the journal see (start and end of a
 * run, next due times), of CLOCK_MONOTONIC for durations and deadlines
 * that a clock change must not stretch. This is the one place that reads
 * a clock for them; core/ takes "now" as an argument instead. */
#ifndef TICKD_CLOCK_H
#define TICKD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Microseconds of CLOCK (CLOCK_REALTIME or CLOCK_MONOTONIC; the metrics'
 * cost figure reads CLOCK_THREAD_CPUTIME_ID), truncated. */
uint64_t clock_now_usec(clockid_t clock);

#endif
