/* fleet.c — tickctl fleet: the fleet as etcd sees it (fleet-query.h): the
 * nodes alive with their versions and heartbeats, each fleet job's last
 * instant with the node that ran it, and the runs going on now. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/json.h"
#include "shared/clock.h"
#include "shared/fleet-record.h"
#include "tickctl/commands.h"
#include "tickctl/common.h"
#include "tickctl/fleet-query.h"
#include "tickctl/journal-query.h"

struct fleet_nodes {
        struct fleet_node *items;
        size_t n;
};

static int nodes_add(void *userdata, const struct etcd_kv *kv)
{
        struct fleet_nodes *nodes = userdata;
        struct fleet_node node;
        if (fleet_node_from_json(kv->value, kv->value_len, &node) < 0 || !node.node[0])
                return 0;
        struct fleet_node *items = realloc(nodes->items, (nodes->n + 1) * sizeof(*items));
        if (!items)
                return -ENOMEM;
        nodes->items = items;
        items[nodes->n++] = node;
        return 0;
}

struct fleet_view {
        struct fleet_nodes nodes;
        struct fleet_records last, running;
};

static void view_free(struct fleet_view *v)
{
        free(v->nodes.items);
        fleet_records_free(&v->last);
        fleet_records_free(&v->running);
}

static int view_read(struct fleet_query *q, struct fleet_view *v)
{
        const char *name = fleet_query_name(q);
        _cleanup_free_ char *nodes = fleet_key_prefix(name, "nodes");
        _cleanup_free_ char *last = fleet_key_prefix(name, "last");
        _cleanup_free_ char *running = fleet_key_prefix(name, "running");
        if (!nodes || !last || !running)
                return -ENOMEM;
        int64_t r = fleet_query_range(q, nodes, true, 0, false, false, nodes_add, &v->nodes);
        if (r >= 0)
                r = fleet_query_range(q, last, true, 0, false, false, fleet_records_add, &v->last);
        if (r >= 0)
                r = fleet_query_range(q, running, true, 0, false, false, fleet_records_add, &v->running);
        return r < 0 ? (int)r : 0;
}

#define CELL 128

/* JOB into CELL, escaped for a terminal. */
static void job_cell(const char *job, bool terminal, char *cell)
{
        char text[CELL];
        snprintf(cell, CELL, "%s", ctl_text(job, terminal, text, sizeof(text)));
}

/* Rows of N_COLUMNS cells under HEADERS, each column as wide as its
 * widest cell; the last column is not padded. */
static void print_columns(const char *const *headers, size_t n_columns, char (*cells)[CELL], size_t n_rows)
{
        size_t width[8] = { 0 };
        for (size_t c = 0; c < n_columns; c++) {
                width[c] = strlen(headers[c]);
                for (size_t i = 0; i < n_rows; i++)
                        if (strlen(cells[i * n_columns + c]) > width[c])
                                width[c] = strlen(cells[i * n_columns + c]);
        }
        for (size_t i = 0; i <= n_rows; i++)
                for (size_t c = 0; c < n_columns; c++) {
                        const char *text = i == 0 ? headers[c] : cells[(i - 1) * n_columns + c];
                        if (c + 1 < n_columns)
                                printf("%-*s  ", (int)width[c], text);
                        else
                                printf("%s\n", text);
                }
}

static void record_exit(const struct fleet_record *r, char *buf, size_t size)
{
        if (r->signal[0])
                snprintf(buf, size, "%s", r->signal);
        else if (r->has_exit_status)
                snprintf(buf, size, "%d", r->exit_status);
        else
                snprintf(buf, size, "-");
}

static int print_nodes(const struct fleet_nodes *nodes, uint64_t now)
{
        static const char *const headers[] = { "NODE", "VERSION", "PID", "STARTED", "HEARTBEAT" };
        char(*cells)[CELL] = calloc(nodes->n * 5 + 1, CELL);
        if (!cells)
                return -ENOMEM;
        for (size_t i = 0; i < nodes->n; i++) {
                const struct fleet_node *n = &nodes->items[i];
                char(*row)[CELL] = cells + i * 5;
                snprintf(row[0], CELL, "%s", n->node);
                snprintf(row[1], CELL, "%s", n->version[0] ? n->version : "-");
                snprintf(row[2], CELL, "%lld", (long long)n->pid);
                ctl_format_time((uint64_t)n->started_usec, row[3], CELL);
                ctl_format_relative((uint64_t)n->heartbeat_usec, now, row[4], CELL);
        }
        print_columns(headers, 5, cells, nodes->n);
        free(cells);
        return 0;
}

static int print_last(const struct ctl_options *o, const struct fleet_records *last)
{
        static const char *const headers[] = { "JOB", "LAST", "NODE", "RESULT", "EXIT", "DURATION" };
        char(*cells)[CELL] = calloc(last->n * 6 + 1, CELL);
        if (!cells)
                return -ENOMEM;
        for (size_t i = 0; i < last->n; i++) {
                const struct fleet_record *r = &last->items[i];
                char(*row)[CELL] = cells + i * 6;
                job_cell(r->job, o->terminal, row[0]);
                ctl_format_time((uint64_t)r->scheduled_usec, row[1], CELL);
                snprintf(row[2], CELL, "%s", r->node[0] ? r->node : "-");
                snprintf(row[3], CELL, "%s", r->state);
                record_exit(r, row[4], CELL);
                journal_query_format_span(r->state[0] && strcmp(r->state, "skipped") != 0 ? r->duration_usec : -1,
                                          row[5], CELL);
        }
        print_columns(headers, 6, cells, last->n);
        free(cells);
        return 0;
}

static int print_running(const struct ctl_options *o, const struct fleet_records *running, uint64_t now)
{
        static const char *const headers[] = { "JOB", "NODE", "SCHEDULED", "SINCE" };
        char(*cells)[CELL] = calloc(running->n * 4 + 1, CELL);
        if (!cells)
                return -ENOMEM;
        for (size_t i = 0; i < running->n; i++) {
                const struct fleet_record *r = &running->items[i];
                char(*row)[CELL] = cells + i * 4;
                job_cell(r->job, o->terminal, row[0]);
                snprintf(row[1], CELL, "%s", r->node[0] ? r->node : "-");
                ctl_format_time((uint64_t)r->scheduled_usec, row[2], CELL);
                ctl_format_relative((uint64_t)(r->started_usec ? r->started_usec : r->claimed_usec), now, row[3], CELL);
        }
        print_columns(headers, 4, cells, running->n);
        free(cells);
        return 0;
}

static int print_text(const struct ctl_options *o, struct fleet_query *q, const struct fleet_view *v)
{
        uint64_t now = clock_now_usec(CLOCK_REALTIME);
        printf("Fleet %s: %zu node%s alive\n\n", fleet_query_name(q), v->nodes.n, v->nodes.n == 1 ? "" : "s");
        int r = print_nodes(&v->nodes, now);
        if (r >= 0 && v->last.n > 0) {
                printf("\n");
                r = print_last(o, &v->last);
        }
        if (r >= 0 && v->running.n > 0) {
                printf("\nRunning now:\n");
                r = print_running(o, &v->running, now);
        }
        if (r >= 0 && v->last.n == 0)
                printf("\nNo fleet job has finished a run yet.\n");
        return r;
}

/* One record as JSON, the members history --fleet --json writes too. */
void ctl_fleet_record_json(const struct fleet_record *r)
{
        printf("{\"job\":");
        json_write_string(stdout, r->job);
        printf(",\"scheduled_usec\":%lld,\"node\":", (long long)r->scheduled_usec);
        json_write_string(stdout, r->node);
        printf(",\"run_id\":");
        json_write_string(stdout, r->run_id);
        printf(",\"result\":");
        json_write_string(stdout, r->state);
        if (r->has_exit_status)
                printf(",\"exit_status\":%d", r->exit_status);
        else
                printf(",\"exit_status\":null");
        printf(",\"signal\":");
        json_write_string(stdout, r->signal[0] ? r->signal : NULL);
        printf(",\"reason\":");
        json_write_string(stdout, r->reason[0] ? r->reason : NULL);
        printf(",\"started_usec\":%lld,\"duration_usec\":%lld}", (long long)r->started_usec,
               (long long)r->duration_usec);
}

static void print_json(struct fleet_query *q, const struct fleet_view *v)
{
        printf("{\"fleet\":");
        json_write_string(stdout, fleet_query_name(q));
        printf(",\"nodes\":[");
        for (size_t i = 0; i < v->nodes.n; i++) {
                const struct fleet_node *n = &v->nodes.items[i];
                printf("%s{\"node\":", i ? "," : "");
                json_write_string(stdout, n->node);
                printf(",\"version\":");
                json_write_string(stdout, n->version);
                printf(",\"pid\":%lld,\"started_usec\":%lld,\"heartbeat_usec\":%lld}", (long long)n->pid,
                       (long long)n->started_usec, (long long)n->heartbeat_usec);
        }
        printf("],\"last\":[");
        for (size_t i = 0; i < v->last.n; i++) {
                printf("%s", i ? "," : "");
                ctl_fleet_record_json(&v->last.items[i]);
        }
        printf("],\"running\":[");
        for (size_t i = 0; i < v->running.n; i++) {
                printf("%s", i ? "," : "");
                ctl_fleet_record_json(&v->running.items[i]);
        }
        printf("]}\n");
}

int ctl_fleet(int argc, char **argv)
{
        struct ctl_options o;
        int r = ctl_parse_args(argc, argv, CTL_OPT_JSON, "fleet [--json] [OPTIONS...]", 0, 0, NULL, &o);
        if (r >= 0)
                return r;
        struct fleet_query *q = NULL;
        r = fleet_query_open(o.command, o.config_dir, &q);
        if (r == -ENOMSG)
                fprintf(stderr, "tickctl fleet: %s/tickd.conf has no [fleet] section: this host is in no fleet\n",
                        o.config_dir);
        struct fleet_view v = {};
        if (r >= 0)
                r = view_read(q, &v);
        if (r >= 0) {
                ctl_pager_open(&o);
                if (o.json)
                        print_json(q, &v);
                else
                        r = print_text(&o, q, &v);
                ctl_pager_close();
        }
        if (r == -ENOMEM)
                fprintf(stderr, "tickctl fleet: out of memory\n");
        view_free(&v);
        fleet_query_free(q);
        ctl_options_free(&o);
        return fleet_query_exit_status(r);
}
