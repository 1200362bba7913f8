/* metrics.h — the daemon's Prometheus metrics: counting, the textfile,
 * the HTTP endpoint.
 *
 * Counts runs by their records: it observes every log_emit() (log.h,
 * log_set_observer()), so tickd_job_runs_total{result} and the last-run
 * gauges agree with the journal by construction (a run's final record:
 * collector.c for a finished or lost run, admission.c and scheduler.c for
 * skipped and dropped ones, fleet*.c for fleet skips and runs lost on a
 * dead node). on_failure commands are not runs of their job and are not
 * counted. The gauges of the job table (enabled, next instant, interval,
 * runs running, open batches) are read from the scheduler when a snapshot
 * is taken. Counters live in memory: they start at 0 when tickd starts
 * (tickd_start_time_seconds says when) and survive reloads.
 *
 * metrics_file: the exposition text is written to PATH atomically (a
 * temporary file in the same directory, then rename()), so a reader never
 * sees a partial file: after a change (a run started or finished, a
 * reload, a clock step) at most once a second, and at exit. Nothing
 * changes, nothing is written: no timer runs while tickd is idle.
 *
 * metrics_listen: GET /metrics over HTTP/1.x, served on the daemon's
 * sd-event loop (metrics-http.h). */
#ifndef TICKD_METRICS_H
#define TICKD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "tickd/reload.h"
#include "tickd/scheduler.h"

struct metrics;

/* Starts counting: installs the log observer (one metrics per process).
 * START_USEC is when tickd started (CLOCK_REALTIME). */
int metrics_new(sd_event *event, int64_t start_usec, struct metrics **out);
/* Writes the file one last time when one is set (tickd's exit), removes
 * the observer, closes the endpoint. Accepts NULL; returns NULL. */
struct metrics *metrics_free(struct metrics *m);

/* Where the table gauges come from (both borrowed; they must outlive M's
 * use of them: clear with NULL before freeing them). */
void metrics_set_sources(struct metrics *m, struct scheduler *scheduler, const struct reload_memory *rejected);
/* This node's fleet name (copied), NULL = no fleet: fleet jobs' series
 * get node="NAME". */
int metrics_set_node(struct metrics *m, const char *node);

/* metrics_file = PATH (NULL = none), written soon after. Returns 0 or
 * -ENOMEM. */
int metrics_set_file(struct metrics *m, const char *path);
/* metrics_listen = ADDRESS:PORT (NULL = none). An unchanged address keeps
 * the socket; a new one is bound before the old one is closed, and on
 * failure (a negative errno) the old one stays. */
int metrics_set_listen(struct metrics *m, const char *address);

/* A reload ended; REJECTED when a file or tickd.conf was rejected. */
void metrics_reloaded(struct metrics *m, bool rejected);

/* The exposition text now, in *OUT (LEN bytes, NUL-terminated): M's,
 * valid until the next render. */
int metrics_render(struct metrics *m, const char **out, size_t *len);
/* Writes the file now (when one is set). */
int metrics_write(struct metrics *m);

#endif
