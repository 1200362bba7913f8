/* metrics-format.c — a metrics snapshot as Prometheus exposition text;
 * see metrics-format.h. */
#include "core/metrics-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const result_names[_METRICS_RESULT_MAX] = {
        [METRICS_SUCCEEDED] = "succeeded", [METRICS_FAILED] = "failed", [METRICS_TIMED_OUT] = "timed-out",
        [METRICS_CANCELLED] = "cancelled", [METRICS_LOST] = "lost",     [METRICS_SKIPPED] = "skipped",
        [METRICS_DROPPED] = "dropped",
};

const char *metrics_result_name(enum metrics_result r) { return r < _METRICS_RESULT_MAX ? result_names[r] : NULL; }

/* A growing text; after the first failed append every later one does
 * nothing, and the caller looks at `failed` once at the end. */
struct text {
        char *buf;
        size_t len, cap;
        bool failed;
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text *t, const char *fmt, ...)
{
        for (int round = 0; round < 2 && !t->failed; round++) {
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        t->failed = true;
                        return;
                }
                if (t->buf && t->len + (size_t)n < t->cap) {
                        t->len += (size_t)n;
                        return;
                }
                size_t cap = t->cap ? t->cap : 4096;
                while (cap <= t->len + (size_t)n)
                        cap *= 2;
                char *b = realloc(t->buf, cap);
                if (!b) {
                        t->failed = true;
                        return;
                }
                t->buf = b;
                t->cap = cap;
        }
}

/* A label value as the text format wants it: backslash, double quote and
 * line feed escaped. */
static void text_add_label(struct text *t, const char *name, const char *value)
{
        text_add(t, "%s=\"", name);
        for (const char *p = value; *p; p++) {
                if (*p == '\\' || *p == '"')
                        text_add(t, "\\%c", *p);
                else if (*p == '\n')
                        text_add(t, "\\n");
                else
                        text_add(t, "%c", *p);
        }
        text_add(t, "\"");
}

static void header(struct text *t, const char *name, const char *type, const char *help)
{
        text_add(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void add_seconds(struct text *t, int64_t usec)
{
        const char *sign = usec < 0 ? "-" : "";
        uint64_t u = usec < 0 ? (uint64_t)0 - (uint64_t)usec : (uint64_t)usec;
        text_add(t, "%s%" PRIu64 ".%06" PRIu64 "\n", sign, u / 1000000, u % 1000000);
}

/* NAME{job="…"[,node="…"][,result="…"]} — the value is for the caller. */
static void job_series(struct text *t, const char *name, const struct metrics_job *j, const char *result)
{
        text_add(t, "%s{", name);
        text_add_label(t, "job", j->name);
        if (j->node) {
                text_add(t, ",");
                text_add_label(t, "node", j->node);
        }
        if (result) {
                text_add(t, ",");
                text_add_label(t, "result", result);
        }
        text_add(t, "} ");
}

static void format_daemon(struct text *t, const struct metrics_snapshot *s)
{
        header(t, "tickd_build_info", "gauge", "Always 1; the version label is tickd's.");
        text_add(t, "tickd_build_info{");
        text_add_label(t, "version", s->version);
        text_add(t, "} 1\n");
        header(t, "tickd_start_time_seconds", "gauge", "When this tickd started; counters count from here.");
        text_add(t, "tickd_start_time_seconds ");
        add_seconds(t, s->start_usec);
        header(t, "tickd_jobs_loaded", "gauge", "Jobs in the job table.");
        text_add(t, "tickd_jobs_loaded %zu\n", s->jobs_loaded);
        header(t, "tickd_crontab_files_rejected", "gauge", "Crontab files rejected as they are now on disk.");
        text_add(t, "tickd_crontab_files_rejected %zu\n", s->files_rejected);
        header(t, "tickd_batches_open", "gauge", "Batches whose runners have not all exited.");
        text_add(t, "tickd_batches_open %zu\n", s->batches_open);
        header(t, "tickd_batch_oldest_open_age_seconds", "gauge", "Age of the oldest open batch, 0 with none.");
        text_add(t, "tickd_batch_oldest_open_age_seconds ");
        add_seconds(t, s->oldest_batch_age_usec);
        header(t, "tickd_reloads_total", "counter", "Reloads of the jobs directory, by result.");
        text_add(t, "tickd_reloads_total{result=\"ok\"} %" PRIu64 "\n", s->reloads[METRICS_RELOAD_OK]);
        text_add(t, "tickd_reloads_total{result=\"rejected\"} %" PRIu64 "\n", s->reloads[METRICS_RELOAD_REJECTED]);
        header(t, "tickd_clock_changes_total", "counter", "Steps of the real-time clock tickd saw.");
        text_add(t, "tickd_clock_changes_total %" PRIu64 "\n", s->clock_changes);
}

/* The gauges of loaded jobs: what the job table says now. */
static void format_table(struct text *t, const struct metrics_snapshot *s)
{
        header(t, "tickd_job_enabled", "gauge", "1 when the job is enabled, 0 when enabled = no.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].loaded) {
                        job_series(t, "tickd_job_enabled", &s->jobs[i], NULL);
                        text_add(t, "%d\n", s->jobs[i].enabled ? 1 : 0);
                }
        header(t, "tickd_job_next_run_timestamp_seconds", "gauge", "The job's next scheduled instant.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].loaded && s->jobs[i].next_usec) {
                        job_series(t, "tickd_job_next_run_timestamp_seconds", &s->jobs[i], NULL);
                        add_seconds(t, s->jobs[i].next_usec);
                }
        header(t, "tickd_job_interval_seconds", "gauge", "Time between the job's next two scheduled instants.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].loaded && s->jobs[i].interval_usec) {
                        job_series(t, "tickd_job_interval_seconds", &s->jobs[i], NULL);
                        add_seconds(t, s->jobs[i].interval_usec);
                }
        header(t, "tickd_job_runs_running", "gauge", "Runs of the job started and not finished.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].loaded || s->jobs[i].running) {
                        job_series(t, "tickd_job_runs_running", &s->jobs[i], NULL);
                        text_add(t, "%u\n", s->jobs[i].running);
                }
}

/* One gauge of the last finished run, in seconds; VALUE < 0 or (when
 * ZERO_UNKNOWN) 0 leaves the job's series out. */
static void format_last(struct text *t, const struct metrics_snapshot *s, const char *name, const char *help,
                        size_t field_offset, bool zero_unknown)
{
        header(t, name, "gauge", help);
        for (size_t i = 0; i < s->n_jobs; i++) {
                const struct metrics_job *j = &s->jobs[i];
                int64_t v;
                memcpy(&v, (const char *)j + field_offset, sizeof(v));
                if (!j->has_last || v < 0 || (zero_unknown && v == 0))
                        continue;
                job_series(t, name, j, NULL);
                add_seconds(t, v);
        }
}

static void format_history(struct text *t, const struct metrics_snapshot *s)
{
        format_last(t, s, "tickd_job_last_run_start_timestamp_seconds", "When the last finished run started.",
                    offsetof(struct metrics_job, last_start_usec), true);
        format_last(t, s, "tickd_job_last_run_end_timestamp_seconds", "When the last finished run ended.",
                    offsetof(struct metrics_job, last_end_usec), true);
        format_last(t, s, "tickd_job_last_run_duration_seconds", "How long the last finished run took.",
                    offsetof(struct metrics_job, last_duration_usec), false);
        header(t, "tickd_job_last_success_timestamp_seconds", "gauge",
               "When the job's last successful run ended (since tickd started).");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].last_success_usec) {
                        job_series(t, "tickd_job_last_success_timestamp_seconds", &s->jobs[i], NULL);
                        add_seconds(t, s->jobs[i].last_success_usec);
                }
        header(t, "tickd_job_last_run_result", "gauge", "1 for the result of the last finished run, 0 for the others.");
        for (size_t i = 0; i < s->n_jobs; i++)
                for (int r = 0; s->jobs[i].has_last && r < METRICS_FINISHED_MAX; r++) {
                        job_series(t, "tickd_job_last_run_result", &s->jobs[i], result_names[r]);
                        text_add(t, "%d\n", (int)s->jobs[i].last_result == r ? 1 : 0);
                }
        header(t, "tickd_job_last_run_exit_status", "gauge", "The exit status of the last finished run.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].has_last && s->jobs[i].last_exit_status >= 0) {
                        job_series(t, "tickd_job_last_run_exit_status", &s->jobs[i], NULL);
                        text_add(t, "%d\n", s->jobs[i].last_exit_status);
                }
        header(t, "tickd_job_runs_total", "counter", "Runs of the job by their final record (since tickd started).");
        for (size_t i = 0; i < s->n_jobs; i++)
                for (int r = 0; r < _METRICS_RESULT_MAX; r++) {
                        job_series(t, "tickd_job_runs_total", &s->jobs[i], result_names[r]);
                        text_add(t, "%" PRIu64 "\n", s->jobs[i].runs[r]);
                }
}

int metrics_format(const struct metrics_snapshot *snapshot, char **out, size_t *len)
{
        struct text t = { 0 };
        format_daemon(&t, snapshot);
        format_table(&t, snapshot);
        format_history(&t, snapshot);
        if (t.failed) {
                free(t.buf);
                return -ENOMEM;
        }
        *out = t.buf;
        *len = t.len;
        return 0;
}
