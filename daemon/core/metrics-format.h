/* metrics-format.h — tickd's Prometheus metrics as exposition text.
 *
 * Pure: renders a snapshot (struct metrics_snapshot, plain data that the
 * daemon's metrics module gathers) into the text format 0.0.4 that
 * Prometheus scrapes and node_exporter's textfile collector reads. Every
 * metric has the tickd_ prefix; per-job series carry `job` and, for a
 * fleet job, `node` (the node that ran, or skipped, the instant). The
 * names, types and meanings are listed in man/tickd.8, METRICS; a series
 * whose value is unknown (a job that never ran has no last-run series) is
 * left out rather than written as 0. */
#ifndef TICKD_METRICS_FORMAT_H
#define TICKD_METRICS_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The results runs are counted by (tickd_job_runs_total's `result`): a
 * run's final record, or `skipped`, in the words of the journal's
 * TICKD_EVENT. */
enum metrics_result {
        METRICS_SUCCEEDED,
        METRICS_FAILED,
        METRICS_TIMED_OUT,
        METRICS_CANCELLED,
        METRICS_LOST,
        METRICS_SKIPPED,
        METRICS_DROPPED,
        _METRICS_RESULT_MAX,
};
/* The finished runs' results: the ones a last run can have. */
#define METRICS_FINISHED_MAX (METRICS_LOST + 1)

const char *metrics_result_name(enum metrics_result r);

/* One series set: a job, on one node. Timestamps are µs since the epoch
 * (CLOCK_REALTIME), 0 = unknown (the series is left out). */
struct metrics_job {
        const char *name;
        const char *node; /* NULL = not a fleet job: no `node` label */
        bool loaded;      /* in the job table: enabled, next, interval and running apply */
        bool enabled;
        int64_t next_usec;               /* next scheduled instant, 0 = none */
        int64_t interval_usec;           /* between its next two instants, 0 = none (@reboot, one instant left) */
        unsigned running;                /* runs started and not finished */
        bool has_last;                   /* it finished a run: the last_* fields below apply */
        enum metrics_result last_result; /* < METRICS_FINISHED_MAX */
        int64_t last_start_usec;         /* 0 = unknown (a run lost before it started) */
        int64_t last_end_usec;
        int64_t last_duration_usec; /* < 0 = unknown */
        int last_exit_status;       /* < 0 = none (killed by a signal, lost, not started) */
        int64_t last_success_usec;  /* 0 = never (since tickd started) */
        uint64_t runs[_METRICS_RESULT_MAX];
};

enum metrics_reload { METRICS_RELOAD_OK, METRICS_RELOAD_REJECTED, _METRICS_RELOAD_MAX };

struct metrics_snapshot {
        const char *version;
        int64_t start_usec; /* when this tickd started: counters count from here */
        size_t jobs_loaded;
        size_t files_rejected;
        size_t batches_open;
        int64_t oldest_batch_age_usec; /* 0 with no open batch */
        uint64_t reloads[_METRICS_RELOAD_MAX];
        uint64_t clock_changes;
        const struct metrics_job *jobs;
        size_t n_jobs;
};

/* Renders SNAPSHOT into BUF (SIZE bytes, NUL-terminated) and its length
 * into *LEN. Allocates nothing: the caller owns the buffer, and keeps it
 * from one render to the next (tickd's is kept out of its runners'
 * address spaces, see tickd/metrics.c). Returns 0, or -ENOBUFS when the
 * text and its NUL do not fit: then *LEN is the text's length, and BUF
 * holds an unterminated part of it. */
int metrics_format(const struct metrics_snapshot *snapshot, char *buf, size_t size, size_t *len);

#endif
