/* history-fleet.c — tickctl history --fleet: the fleet's run records from
 * etcd (runs/JOB/INSTANT), one line per instant, oldest first, with the
 * node that ran it. Bounded: at most -n records per job are read (1000
 * when -n is not given), the newest, since runs/ holds every instant of
 * the retention (a job due every second leaves 600,000 in a week). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "tickctl/common.h"
#include "tickctl/fleet-query.h"
#include "tickctl/journal-query.h"

#define DEFAULT_LIMIT 1000

/* The jobs with records: one range of last/ (and of running/, for a job
 * whose first run is going on). */
static int jobs_read(struct fleet_query *q, struct fleet_records *jobs)
{
        _cleanup_free_ char *last = fleet_key_prefix(fleet_query_name(q), "last");
        _cleanup_free_ char *running = fleet_key_prefix(fleet_query_name(q), "running");
        if (!last || !running)
                return -ENOMEM;
        int64_t r = fleet_query_range(q, last, true, 0, false, false, fleet_records_add, jobs);
        if (r >= 0)
                r = fleet_query_range(q, running, true, 0, false, false, fleet_records_add, jobs);
        return r < 0 ? (int)r : 0;
}

static int job_read(struct fleet_query *q, const char *job, int64_t limit, struct fleet_records *runs, int64_t *total)
{
        _cleanup_free_ char *prefix = fleet_key_runs_prefix(fleet_query_name(q), job);
        if (!prefix)
                return -ENOMEM;
        /* Keys end in the instant: descending by key is newest first. */
        int64_t r = fleet_query_range(q, prefix, true, limit, true, false, fleet_records_add, runs);
        if (r < 0)
                return (int)r;
        *total += r;
        return 0;
}

static int runs_read(struct fleet_query *q, const struct fleet_history_options *o, int64_t limit,
                     struct fleet_records *runs, int64_t *total)
{
        if (o->job)
                return job_read(q, o->job, limit, runs, total);
        struct fleet_records jobs = {};
        int r = jobs_read(q, &jobs);
        for (size_t i = 0; r >= 0 && i < jobs.n; i++) {
                bool seen = false;
                for (size_t k = 0; k < i && !seen; k++)
                        seen = strcmp(jobs.items[k].job, jobs.items[i].job) == 0;
                if (!seen)
                        r = job_read(q, jobs.items[i].job, limit, runs, total);
        }
        fleet_records_free(&jobs);
        return r;
}

static bool record_shown(const struct fleet_record *r, const struct fleet_history_options *o)
{
        static const char *const failures[] = { "failed", "timed-out", "lost", "dropped" };
        /* As history: finished runs only; runs going on are tickctl fleet's. */
        if (!fleet_state_is_final(r->state) || (uint64_t)r->scheduled_usec < o->since_usec)
                return false;
        if (!o->failed_only)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(failures); i++)
                if (strcmp(r->state, failures[i]) == 0)
                        return true;
        return false;
}

static int record_compare(const void *a, const void *b)
{
        const struct fleet_record *x = a, *y = b;
        if (x->scheduled_usec != y->scheduled_usec)
                return x->scheduled_usec < y->scheduled_usec ? -1 : 1;
        return strcmp(x->job, y->job);
}

#define COLUMNS 6
#define CELL    128

static void row_cells(const struct fleet_record *r, bool terminal, char cells[COLUMNS][CELL])
{
        journal_query_format_time((uint64_t)r->scheduled_usec, true, cells[0], CELL);
        char text[CELL];
        snprintf(cells[1], CELL, "%s", ctl_text(r->job, terminal, text, sizeof(text)));
        snprintf(cells[2], CELL, "%s", r->node[0] ? r->node : "-");
        snprintf(cells[3], CELL, "%s", r->state);
        if (r->signal[0])
                snprintf(cells[4], CELL, "%s", r->signal);
        else if (r->has_exit_status)
                snprintf(cells[4], CELL, "%d", r->exit_status);
        else
                snprintf(cells[4], CELL, "-");
        journal_query_format_span(r->started_usec ? r->duration_usec : -1, cells[5], CELL);
}

static void print_table(const struct fleet_records *runs, bool terminal)
{
        static const char *const headers[COLUMNS] = { "SCHEDULED", "JOB", "NODE", "RESULT", "EXIT", "DURATION" };
        size_t width[COLUMNS];
        char cells[COLUMNS][CELL];
        for (int c = 0; c < COLUMNS; c++)
                width[c] = strlen(headers[c]);
        for (size_t i = 0; i < runs->n; i++) {
                row_cells(&runs->items[i], terminal, cells);
                for (int c = 0; c < COLUMNS; c++)
                        if (strlen(cells[c]) > width[c])
                                width[c] = strlen(cells[c]);
        }
        for (size_t i = 0; i <= runs->n; i++) {
                if (i > 0)
                        row_cells(&runs->items[i - 1], terminal, cells);
                for (int c = 0; c < COLUMNS; c++) {
                        const char *text = i == 0 ? headers[c] : cells[c];
                        if (c + 1 < COLUMNS)
                                printf("%-*s  ", (int)width[c], text);
                        else
                                printf("%s\n", text);
                }
        }
        printf("\n%zu run%s listed.\n", runs->n, runs->n == 1 ? "" : "s");
}

/* Keeps the records shown, sorted oldest first, and of all jobs together
 * the newest LIMIT. */
static void runs_select(struct fleet_records *runs, const struct fleet_history_options *o, int64_t limit)
{
        size_t kept = 0;
        for (size_t i = 0; i < runs->n; i++)
                if (record_shown(&runs->items[i], o))
                        runs->items[kept++] = runs->items[i];
        runs->n = kept;
        if (kept > 0)
                qsort(runs->items, kept, sizeof(*runs->items), record_compare);
        if ((int64_t)kept > limit) {
                memmove(runs->items, runs->items + (kept - (size_t)limit), (size_t)limit * sizeof(*runs->items));
                runs->n = (size_t)limit;
        }
}

int ctl_history_fleet(const struct fleet_history_options *o)
{
        struct fleet_query *q = NULL;
        int r = fleet_query_open("history", o->config_dir, &q);
        if (r == -ENOMSG)
                fprintf(stderr,
                        "tickctl history: --fleet: %s/tickd.conf has no [fleet] section: this host is in no "
                        "fleet\n",
                        o->config_dir);
        int64_t limit = o->limit >= 0 ? o->limit : DEFAULT_LIMIT, total = 0;
        struct fleet_records runs = {};
        if (r >= 0 && limit > 0)
                r = runs_read(q, o, limit, &runs, &total);
        if (r >= 0) {
                size_t read = runs.n;
                runs_select(&runs, o, limit);
                if (o->json) {
                        for (size_t i = 0; i < runs.n; i++) {
                                ctl_fleet_record_json(&runs.items[i]);
                                printf("\n");
                        }
                } else {
                        print_table(&runs, o->terminal);
                }
                if (total > (int64_t)read)
                        fprintf(stderr,
                                "tickctl history: read the newest %lld of %lld records in etcd (-n N reads more)\n",
                                (long long)read, (long long)total);
        }
        if (r == -ENOMEM)
                fprintf(stderr, "tickctl history: out of memory\n");
        fleet_records_free(&runs);
        fleet_query_free(q);
        return fleet_query_exit_status(r);
}
