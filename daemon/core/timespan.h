/* timespan.h — durations in systemd's time-span syntax (systemd.time(7)).
 *
 * "90s", "15m", "2h 30min", "1d", "1h30m", "500ms"; a bare number is
 * seconds. Units: us usec, ms msec, s sec second(s), m min minute(s),
 * h hr hour(s), d day(s), w week(s), M month(s) (30.44 d), y year(s)
 * (365.25 d). Pure: no I/O, no globals. */
#ifndef TICKD_TIMESPAN_H
#define TICKD_TIMESPAN_H

#include <stddef.h>
#include <stdint.h>

#define USEC_PER_SEC  UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)

/* The longest span accepted, about 146,000 years: any span added to any
 * instant before then still fits a signed 64-bit count of microseconds
 * (584542y fits uint64_t but sent next runs backwards). */
#define TIMESPAN_MAX_USEC ((uint64_t)INT64_MAX / 2)

/* Parses TEXT into microseconds. Returns 0, -EINVAL for text that is not a
 * span (including an empty one), or -ERANGE for one over TIMESPAN_MAX_USEC. */
int timespan_parse(const char *text, uint64_t *out_usec);

/* Writes USEC in the shortest exact form ("2h 30min", "0"), always
 * NUL-terminated within SIZE. Returns BUF. */
char *timespan_format(uint64_t usec, char *buf, size_t size);

#endif
