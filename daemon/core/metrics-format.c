/* metrics-format.c — a metrics snapshot as Prometheus exposition text;
 * see metrics-format.h. */
#include "core/metrics-format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const result_names[_METRICS_RESULT_MAX] = {
        [METRICS_SUCCEEDED] = "succeeded", [METRICS_FAILED] = "failed", [METRICS_TIMED_OUT] = "timed-out",
        [METRICS_CANCELLED] = "cancelled", [METRICS_LOST] = "lost",     [METRICS_SKIPPED] = "skipped",
        [METRICS_DROPPED] = "dropped",
};

const char *metrics_result_name(enum metrics_result r) { return r < _METRICS_RESULT_MAX ? result_names[r] : NULL; }

/* The text being rendered into a caller's buffer. What does not fit is
 * counted, not written, so the caller learns the size it needs. Appends
 * are memcpy()s and hand-made numbers, not printf: a thousand jobs are
 * some 25,000 lines, rendered up to once a second while runs go on. */
struct text {
        char *buf;
        size_t len, cap;
};

static void text_put(struct text *t, const char *s, size_t n)
{
        if (t->len + n <= t->cap)
                memcpy(t->buf + t->len, s, n);
        t->len += n;
}

static void text_add(struct text *t, const char *s) { text_put(t, s, strlen(s)); }

static void text_u64(struct text *t, uint64_t v)
{
        char digits[20];
        size_t n = 0;
        do
                digits[sizeof(digits) - ++n] = (char)('0' + v % 10);
        while ((v /= 10));
        text_put(t, digits + sizeof(digits) - n, n);
}

/* A value line's end: the number and a line feed. */
static void value_u64(struct text *t, uint64_t v)
{
        text_u64(t, v);
        text_put(t, "\n", 1);
}

static void value_int(struct text *t, int v)
{
        if (v < 0)
                text_put(t, "-", 1);
        value_u64(t, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);
}

/* µs as seconds with six decimals. */
static void value_seconds(struct text *t, int64_t usec)
{
        if (usec < 0)
                text_put(t, "-", 1);
        uint64_t u = usec < 0 ? (uint64_t)0 - (uint64_t)usec : (uint64_t)usec, frac = u % 1000000;
        text_u64(t, u / 1000000);
        char f[8] = ".000000";
        for (int i = 6; i > 0; i--, frac /= 10)
                f[i] = (char)('0' + frac % 10);
        text_put(t, f, 7);
        text_put(t, "\n", 1);
}

/* NAME="VALUE" with VALUE escaped as the text format wants: backslash,
 * double quote and line feed. */
static void text_add_label(struct text *t, const char *name, const char *value)
{
        text_add(t, name);
        text_put(t, "=\"", 2);
        for (const char *p = value; *p;) {
                size_t plain = strcspn(p, "\\\"\n");
                text_put(t, p, plain);
                p += plain;
                if (*p) {
                        text_put(t, *p == '\n' ? "\\n" : *p == '"' ? "\\\"" : "\\\\", 2);
                        p++;
                }
        }
        text_put(t, "\"", 1);
}

static void header(struct text *t, const char *name, const char *type, const char *help)
{
        text_add(t, "# HELP ");
        text_add(t, name);
        text_put(t, " ", 1);
        text_add(t, help);
        text_add(t, "\n# TYPE ");
        text_add(t, name);
        text_put(t, " ", 1);
        text_add(t, type);
        text_put(t, "\n", 1);
}

/* NAME{job="…"[,node="…"][,result="…"]} — the value is for the caller. */
static void job_series(struct text *t, const struct metrics_job *j, const char *name, const char *result)
{
        text_add(t, name);
        text_put(t, "{", 1);
        text_add_label(t, "job", j->name);
        if (j->node) {
                text_put(t, ",", 1);
                text_add_label(t, "node", j->node);
        }
        if (result) {
                text_add(t, ",result=\"");
                text_add(t, result);
                text_put(t, "\"", 1);
        }
        text_put(t, "} ", 2);
}

static void format_daemon(struct text *t, const struct metrics_snapshot *s)
{
        header(t, "tickd_build_info", "gauge", "Always 1; the version label is tickd's.");
        text_add(t, "tickd_build_info{");
        text_add_label(t, "version", s->version);
        text_add(t, "} 1\n");
        header(t, "tickd_start_time_seconds", "gauge", "When this tickd started; counters count from here.");
        text_add(t, "tickd_start_time_seconds ");
        value_seconds(t, s->start_usec);
        header(t, "tickd_jobs_loaded", "gauge", "Jobs in the job table.");
        text_add(t, "tickd_jobs_loaded ");
        value_u64(t, s->jobs_loaded);
        header(t, "tickd_crontab_files_rejected", "gauge", "Crontab files rejected as they are now on disk.");
        text_add(t, "tickd_crontab_files_rejected ");
        value_u64(t, s->files_rejected);
        header(t, "tickd_batches_open", "gauge", "Batches whose runners have not all exited.");
        text_add(t, "tickd_batches_open ");
        value_u64(t, s->batches_open);
        header(t, "tickd_batch_oldest_open_age_seconds", "gauge", "Age of the oldest open batch, 0 with none.");
        text_add(t, "tickd_batch_oldest_open_age_seconds ");
        value_seconds(t, s->oldest_batch_age_usec);
        header(t, "tickd_reloads_total", "counter", "Reloads of the jobs directory, by result.");
        text_add(t, "tickd_reloads_total{result=\"ok\"} ");
        value_u64(t, s->reloads[METRICS_RELOAD_OK]);
        text_add(t, "tickd_reloads_total{result=\"rejected\"} ");
        value_u64(t, s->reloads[METRICS_RELOAD_REJECTED]);
        header(t, "tickd_clock_changes_total", "counter", "Steps of the real-time clock tickd saw.");
        text_add(t, "tickd_clock_changes_total ");
        value_u64(t, s->clock_changes);
}

/* The gauges of loaded jobs: what the job table says now. */
static void format_table(struct text *t, const struct metrics_snapshot *s)
{
        header(t, "tickd_job_enabled", "gauge", "1 when the job is enabled, 0 when enabled = no.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].loaded) {
                        job_series(t, &s->jobs[i], "tickd_job_enabled", NULL);
                        value_u64(t, s->jobs[i].enabled);
                }
        header(t, "tickd_job_next_run_timestamp_seconds", "gauge", "The job's next scheduled instant.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].loaded && s->jobs[i].next_usec) {
                        job_series(t, &s->jobs[i], "tickd_job_next_run_timestamp_seconds", NULL);
                        value_seconds(t, s->jobs[i].next_usec);
                }
        header(t, "tickd_job_interval_seconds", "gauge", "Time between the job's next two scheduled instants.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].loaded && s->jobs[i].interval_usec) {
                        job_series(t, &s->jobs[i], "tickd_job_interval_seconds", NULL);
                        value_seconds(t, s->jobs[i].interval_usec);
                }
        header(t, "tickd_job_runs_running", "gauge", "Runs of the job started and not finished.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].loaded || s->jobs[i].running) {
                        job_series(t, &s->jobs[i], "tickd_job_runs_running", NULL);
                        value_u64(t, s->jobs[i].running);
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
                job_series(t, &s->jobs[i], name, NULL);
                value_seconds(t, v);
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
                        job_series(t, &s->jobs[i], "tickd_job_last_success_timestamp_seconds", NULL);
                        value_seconds(t, s->jobs[i].last_success_usec);
                }
        header(t, "tickd_job_last_run_result", "gauge", "1 for the result of the last finished run, 0 for the others.");
        for (size_t i = 0; i < s->n_jobs; i++)
                for (int r = 0; s->jobs[i].has_last && r < METRICS_FINISHED_MAX; r++) {
                        job_series(t, &s->jobs[i], "tickd_job_last_run_result", result_names[r]);
                        value_u64(t, (int)s->jobs[i].last_result == r);
                }
        header(t, "tickd_job_last_run_exit_status", "gauge", "The exit status of the last finished run.");
        for (size_t i = 0; i < s->n_jobs; i++)
                if (s->jobs[i].has_last && s->jobs[i].last_exit_status >= 0) {
                        job_series(t, &s->jobs[i], "tickd_job_last_run_exit_status", NULL);
                        value_int(t, s->jobs[i].last_exit_status);
                }
        header(t, "tickd_job_runs_total", "counter", "Runs of the job by their final record (since tickd started).");
        for (size_t i = 0; i < s->n_jobs; i++)
                for (int r = 0; r < _METRICS_RESULT_MAX; r++) {
                        job_series(t, &s->jobs[i], "tickd_job_runs_total", result_names[r]);
                        value_u64(t, s->jobs[i].runs[r]);
                }
}

int metrics_format(const struct metrics_snapshot *snapshot, char *buf, size_t size, size_t *len)
{
        struct text t = { .buf = buf, .cap = size };
        format_daemon(&t, snapshot);
        format_table(&t, snapshot);
        format_history(&t, snapshot);
        *len = t.len;
        if (t.len >= size)
                return -ENOBUFS;
        buf[t.len] = '\0';
        return 0;
}
