/* list.c — tickctl list: every job, its schedule and its next and last
 * runs, the way `systemctl list-timers` shows timers. From the daemon when
 * it runs; from the files (no last runs then) when it does not. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/clock.h"
#include "shared/control-last.h"
#include "shared/control-protocol.h"
#include "core/crontab.h"
#include "core/json.h"
#include "tickctl/common.h"
#include "tickctl/commands.h"
#include "tickctl/fleet-query.h"
#include "core/schedule.h"
#include "core/strv.h"
#include "core/timespan.h"
#include "core/tz.h"

struct row {
        char *name, *schedule, *zone, *user, *file, *result, *description;
        char *node; /* a fleet job's: the node of its last instant, from etcd; NULL = unknown */
        bool enabled, fleet;
        uint64_t next_usec, last_usec;
        int exit_status, signal;
        unsigned running;
};

struct rejected {
        char *path, *error;
};

struct table {
        struct row *rows;
        size_t n_rows;
        struct rejected *rejected;
        size_t n_rejected;
        bool offline;
        bool any_fleet;    /* a row is a fleet job's: list shows SCOPE and NODE */
        unsigned omitted;  /* jobs tickd left out of a cut list (control-protocol.h) */
        char *omitted_why; /* its sentence for them */
};

static void table_free(struct table *t)
{
        for (size_t i = 0; i < t->n_rows; i++) {
                struct row *r = &t->rows[i];
                free(r->name), free(r->schedule), free(r->zone), free(r->user), free(r->file);
                free(r->result), free(r->description), free(r->node);
        }
        for (size_t i = 0; i < t->n_rejected; i++)
                free(t->rejected[i].path), free(t->rejected[i].error);
        free(t->rows);
        free(t->rejected);
        free(t->omitted_why);
}

static struct row *table_add(struct table *t)
{
        struct row *rows = realloc(t->rows, (t->n_rows + 1) * sizeof(*rows));
        if (!rows)
                return NULL;
        t->rows = rows;
        struct row *r = &rows[t->n_rows++];
        *r = (struct row){ .exit_status = -1 };
        return r;
}

/* "PATH: ERROR", with PATH once: the error often names the file itself
 * ("PATH:3: ..."). */
static void print_rejected(FILE *out, const char *path, const char *error)
{
        size_t n = strlen(path);
        if (strncmp(error, path, n) == 0 && error[n] == ':')
                fprintf(out, "%s\n", error);
        else
                fprintf(out, "%s: %s\n", path, error);
}

static int table_add_rejected(struct table *t, const char *path, const char *error)
{
        struct rejected *a = realloc(t->rejected, (t->n_rejected + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        t->rejected = a;
        a[t->n_rejected++] = (struct rejected){ strdup(path), strdup(error ? error : "") };
        return 0;
}

static char *dup0(const char *s) { return strdup(s ? s : ""); }

static int fetch_online(const struct ctl_options *o, sd_bus *bus, struct table *t)
{
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        int r = ctl_call(o, bus, "ListJobs", 0, &reply, "b", (int)o->all);
        if (r < 0)
                return r;
        if ((r = sd_bus_message_enter_container(reply, 'a', CONTROL_JOB_SIG)) < 0)
                return r;
        for (;;) {
                const char *name, *description, *file, *schedule, *zone, *user, *command, *result, *scope;
                int enabled, exit_status, sig;
                uint64_t next, last_start, last_end;
                unsigned running;
                r = sd_bus_message_read(reply, CONTROL_JOB_SIG, &name, &description, &file, &schedule, &zone, &user,
                                        &command, &enabled, &next, &last_start, &last_end, &result, &exit_status, &sig,
                                        &running, &scope);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (!*name) { /* the marker of a cut list: not a job */
                        t->omitted = running;
                        free(t->omitted_why);
                        if (!(t->omitted_why = strdup(description)))
                                return -ENOMEM;
                        continue;
                }
                struct row *row = table_add(t);
                if (!row)
                        return -ENOMEM;
                row->name = dup0(name), row->schedule = dup0(schedule), row->zone = dup0(zone);
                row->user = dup0(user), row->file = dup0(file), row->result = dup0(result);
                row->description = dup0(description);
                row->enabled = enabled, row->next_usec = next, row->last_usec = last_start;
                row->exit_status = exit_status, row->signal = sig, row->running = running;
                row->fleet = strcmp(scope, "fleet") == 0;
        }
        if (!o->all)
                return 0;
        sd_bus_message_unref(reply);
        reply = NULL;
        if ((r = ctl_call(o, bus, "ListFiles", 0, &reply, NULL)) < 0)
                return r;
        if ((r = sd_bus_message_enter_container(reply, 'a', CONTROL_FILE_SIG)) < 0)
                return r;
        for (;;) {
                const char *path, *error;
                int loaded;
                unsigned n_jobs;
                r = sd_bus_message_read(reply, CONTROL_FILE_SIG, &path, &loaded, &error, &n_jobs);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                if (!*path) { /* the marker of a cut list: not a file */
                        fprintf(stderr, "tickctl list: %s\n", error);
                        continue;
                }
                if (!loaded && (r = table_add_rejected(t, path, error)) < 0)
                        return r;
        }
        return 0;
}

/* The last outcomes tickd kept in its state directory (control-last.h),
 * when we may read it: root for the system instance (the directory is
 * 0700), the user for their own. Without it the LAST columns stay empty,
 * and stderr says why: an empty column alone would read as "never ran". */
static void add_last_outcomes(const struct ctl_options *o, struct table *t)
{
        struct control_last *last = NULL;
        int r = control_last_read(o->state_dir, &last);
        if (r < 0) {
                fprintf(stderr, "tickctl %s: last outcomes not shown: %s/%s: %s%s\n", o->command, o->state_dir,
                        CONTROL_LAST_FILE, control_last_strerror(r),
                        r == -EACCES && !o->user_mode ? " (tickd's state directory is root's alone)" : "");
                return;
        }
        for (size_t i = 0; i < t->n_rows; i++) {
                struct row *row = &t->rows[i];
                const struct control_outcome *lo = control_last_get(last, row->name);
                if (!lo || !lo->result || !*lo->result)
                        continue;
                char *result = strdup(lo->result);
                if (!result)
                        break;
                free(row->result);
                row->result = result;
                row->exit_status = lo->exit_status, row->signal = lo->signal, row->last_usec = lo->start_usec;
        }
        control_last_free(last);
}

/* Without the daemon: what the files say, last outcomes from the state
 * directory, next runs computed here. */
static int fetch_offline(const struct ctl_options *o, struct table *t)
{
        _cleanup_free_ char *dir = ctl_jobs_dir(o);
        struct tz_cache *zones = tz_cache_new(NULL);
        if (!dir || !zones) {
                tz_cache_free(zones);
                return -ENOMEM;
        }
        const struct tz *system_zone = NULL;
        if (tz_cache_get_system(zones, &system_zone) < 0)
                tz_cache_get(zones, "UTC", &system_zone);
        struct crontab_options options = {
                .system_mode = !o->user_mode,
                .owner_uid = getuid(),
                .zones = zones,
                .default_zone = system_zone,
                .fleet_configured = ctl_fleet_configured(o->config_dir),
        };
        struct diagnostics diags = {};
        char **paths = NULL;
        int r = crontab_list_dir(dir, &options, &paths, &diags);
        if (r < 0) {
                _cleanup_free_ char *e = diag_first_error(&diags);
                fprintf(stderr, "tickctl %s: cannot read %s: %s\n", o->command, dir, e ? e : strerror(-r));
                diag_free(&diags);
                tz_cache_free(zones);
                return r;
        }
        int64_t now = (int64_t)(clock_now_usec(CLOCK_REALTIME) / USEC_PER_SEC);
        for (char **p = paths; *p && r >= 0; p++) {
                struct diagnostics file_diags = {};
                struct crontab_file *file = NULL;
                if (crontab_load_file(*p, &options, &file, &file_diags) < 0) {
                        _cleanup_free_ char *e = diag_first_error(&file_diags);
                        if (o->all)
                                r = table_add_rejected(t, *p, e);
                        diag_free(&file_diags);
                        continue;
                }
                diag_free(&file_diags);
                for (size_t i = 0; i < file->n_jobs && r >= 0; i++) {
                        const struct job *j = file->jobs[i];
                        if (!j->enabled && !o->all)
                                continue;
                        struct row *row = table_add(t);
                        if (!row) {
                                r = -ENOMEM;
                                break;
                        }
                        int64_t next = 0;
                        if (!j->enabled || schedule_next(j->schedule, j->zone, now, &next) < 0)
                                next = 0;
                        row->name = dup0(j->name), row->schedule = dup0(job_schedule_text(j));
                        row->zone = dup0(j->zone ? tz_name(j->zone) : job_extra(j)->timezone);
                        row->user = dup0(j->user), row->file = dup0(j->file), row->result = dup0("");
                        row->description = dup0(job_extra(j)->description);
                        row->enabled = j->enabled;
                        row->fleet = j->scope == JOB_SCOPE_FLEET;
                        row->next_usec = (uint64_t)next * USEC_PER_SEC;
                }
                crontab_file_free(file);
        }
        strv_free(paths);
        diag_free(&diags);
        tz_cache_free(zones);
        t->offline = true;
        if (r >= 0)
                add_last_outcomes(o, t);
        return r;
}

/* "SIGKILL" as a number; 0 for none or an unknown name. */
static int signal_number(const char *name)
{
        if (strncmp(name, "SIG", 3) != 0)
                return 0;
        for (int i = 1; i < NSIG; i++) {
                const char *abbrev = sigabbrev_np(i);
                if (abbrev && strcmp(abbrev, name + 3) == 0)
                        return i;
        }
        return 0;
}

/* A fleet job's last run is the fleet's, wherever it ran: REC, etcd's
 * last/JOB, replaces this node's (or the state file's), so that LAST,
 * RESULT and NODE describe one run (the one tickctl fleet shows). */
static void row_take_record(struct row *row, const struct fleet_record *rec)
{
        char *node = strdup(rec->node[0] ? rec->node : "-");
        char *result = strdup(rec->state);
        if (!node || !result) {
                free(node);
                free(result);
                return;
        }
        free(row->node);
        row->node = node;
        free(row->result);
        row->result = result;
        row->last_usec = (uint64_t)(rec->started_usec ? rec->started_usec : rec->scheduled_usec);
        row->exit_status = rec->has_exit_status ? rec->exit_status : -1;
        row->signal = signal_number(rec->signal);
}

/* Which node ran each fleet job's last instant: one range of last/ for
 * them all. Without etcd the list is still the list: stderr says what is
 * missing, and the exit status does not change. */
static void add_fleet_last(const struct ctl_options *o, struct table *t)
{
        for (size_t i = 0; i < t->n_rows; i++)
                t->any_fleet |= t->rows[i].fleet;
        if (!t->any_fleet)
                return;
        struct fleet_query *q = NULL;
        int r = fleet_query_open(o->command, o->config_dir, &q);
        if (r == -ENOMSG) /* fleet jobs without [fleet] are the daemon's error to report */
                return;
        _cleanup_free_ char *prefix = r >= 0 ? fleet_key_prefix(fleet_query_name(q), "last") : NULL;
        struct fleet_records last = {};
        if (r >= 0 && !prefix)
                r = -ENOMEM;
        if (r >= 0) {
                int64_t n = fleet_query_range(q, prefix, true, 0, false, true, fleet_records_add, &last);
                r = n < 0 ? (int)n : 0;
        }
        if (r < 0)
                fprintf(stderr, "tickctl %s: the fleet's last runs are unknown (%s)\n", o->command,
                        q && *fleet_query_error(q) ? fleet_query_error(q) : strerror(-r));
        for (size_t i = 0; i < last.n; i++)
                for (size_t k = 0; k < t->n_rows; k++)
                        if (t->rows[k].fleet && strcmp(t->rows[k].name, last.items[i].job) == 0)
                                row_take_record(&t->rows[k], &last.items[i]);
        fleet_records_free(&last);
        fleet_query_free(q);
}

static int row_compare(const void *a, const void *b)
{
        const struct row *x = a, *y = b;
        /* Soonest first; jobs that will not fire last, by name. */
        if (x->next_usec != y->next_usec) {
                if (!x->next_usec || !y->next_usec)
                        return x->next_usec ? -1 : 1;
                return x->next_usec < y->next_usec ? -1 : 1;
        }
        return strcmp(x->name, y->name);
}

static void format_result(const struct row *r, char *buf, size_t size)
{
        if (!r->result || !*r->result) {
                snprintf(buf, size, "-");
        } else if (r->signal > 0) {
                const char *name = sigabbrev_np(r->signal);
                snprintf(buf, size, "%s (SIG%s)", r->result, name ? name : "?");
        } else if (r->exit_status > 0) {
                snprintf(buf, size, "%s (%d)", r->result, r->exit_status);
        } else {
                snprintf(buf, size, "%s", r->result);
        }
}

static void print_json(const struct table *t)
{
        printf("[");
        for (size_t i = 0; i < t->n_rows; i++) {
                const struct row *r = &t->rows[i];
                printf("%s\n  {\"name\": ", i ? "," : "");
                json_write_string(stdout, r->name);
                printf(", \"schedule\": ");
                json_write_string(stdout, r->schedule);
                printf(", \"zone\": ");
                json_write_string(stdout, r->zone);
                printf(", \"user\": ");
                json_write_string(stdout, r->user);
                printf(", \"file\": ");
                json_write_string(stdout, r->file);
                printf(", \"enabled\": %s, \"next_usec\": %llu, \"last_usec\": %llu, \"last_result\": ",
                       r->enabled ? "true" : "false", (unsigned long long)r->next_usec,
                       (unsigned long long)r->last_usec);
                json_write_string(stdout, r->result);
                printf(", \"last_exit_status\": %d, \"last_signal\": %d, \"running\": %u, \"scope\": \"%s\", "
                       "\"last_node\": ",
                       r->exit_status, r->signal, r->running, r->fleet ? "fleet" : "host");
                json_write_string(stdout, r->node);
                printf("}");
        }
        printf("%s]\n", t->n_rows ? "\n" : "");
        if (t->n_rejected) {
                /* rejected files go to stderr: the JSON stays one array of jobs */
                for (size_t i = 0; i < t->n_rejected; i++)
                        fputs("rejected: ", stderr), print_rejected(stderr, t->rejected[i].path, t->rejected[i].error);
        }
}

#define N_COLUMNS     11
#define COLUMN_SCOPE  5
#define COLUMN_RESULT 8
#define COLUMN_NODE   9

static void row_cells(const struct table *t, const struct row *r, uint64_t now, char (*cells)[128])
{
        ctl_format_time(r->next_usec, cells[0], 128);
        ctl_format_relative(r->next_usec, now, cells[1], 128);
        ctl_format_time(r->last_usec, cells[2], 128);
        ctl_format_relative(r->last_usec, now, cells[3], 128);
        snprintf(cells[4], 128, "%s%s", r->name, r->enabled ? "" : " (disabled)");
        snprintf(cells[COLUMN_SCOPE], 128, "%s", r->fleet ? "fleet" : "host");
        snprintf(cells[6], 128, "%s", r->schedule);
        snprintf(cells[7], 128, "%s", *r->zone ? r->zone : "-");
        format_result(r, cells[COLUMN_RESULT], 128);
        snprintf(cells[COLUMN_NODE], 128, "%s", r->node ? r->node : "-");
        snprintf(cells[10], 128, "%s", r->running ? "yes" : (t->offline ? "-" : "no"));
}

static void print_table(const struct ctl_options *o, const struct table *t)
{
        static const char *const headers[N_COLUMNS] = { "NEXT",     "LEFT", "LAST",   "PASSED", "NAME",   "SCOPE",
                                                        "SCHEDULE", "ZONE", "RESULT", "NODE",   "RUNNING" };
        uint64_t now = clock_now_usec(CLOCK_REALTIME);
        size_t n = t->n_rows;
        char(*cells)[N_COLUMNS][128] = calloc(n ? n : 1, sizeof(*cells));
        if (!cells)
                return;
        /* Only a list with fleet jobs has their columns. */
        bool shown[N_COLUMNS];
        size_t width[N_COLUMNS];
        for (int c = 0; c < N_COLUMNS; c++) {
                shown[c] = t->any_fleet || (c != COLUMN_SCOPE && c != COLUMN_NODE);
                width[c] = strlen(headers[c]);
        }
        for (size_t i = 0; i < n; i++) {
                row_cells(t, &t->rows[i], now, cells[i]);
                for (int c = 0; c < N_COLUMNS; c++)
                        if (strlen(cells[i][c]) > width[c])
                                width[c] = strlen(cells[i][c]);
        }
        for (int c = 0; c < N_COLUMNS; c++) {
                if (shown[c] && c + 1 < N_COLUMNS)
                        printf("%-*s  ", (int)width[c], headers[c]);
                else if (shown[c])
                        printf("%s\n", headers[c]);
        }
        for (size_t i = 0; i < n; i++)
                for (int c = 0; c < N_COLUMNS; c++) {
                        if (!shown[c])
                                continue;
                        const char *on = c == COLUMN_RESULT ? ctl_color(o, t->rows[i].result) : "";
                        const char *off = *on ? ctl_color_off(o) : "";
                        if (c + 1 < N_COLUMNS)
                                printf("%s%-*s%s  ", on, (int)width[c], cells[i][c], off);
                        else
                                printf("%s\n", cells[i][c]);
                }
        free(cells);
        printf("\n%zu job%s listed.", n, n == 1 ? "" : "s");
        if (!o->all)
                printf(" Pass --all to see disabled jobs and rejected files.");
        printf("\n");
        for (size_t i = 0; i < t->n_rejected; i++) {
                printf("%srejected%s ", ctl_color(o, "rejected"), ctl_color_off(o));
                print_rejected(stdout, t->rejected[i].path, t->rejected[i].error);
        }
}

int ctl_list(int argc, char **argv)
{
        struct ctl_options o;
        int r = ctl_parse_args(argc, argv, CTL_OPT_JSON | CTL_OPT_ALL, "list [--all] [--json] [OPTIONS...]", 0, 0, NULL,
                               &o);
        if (r >= 0)
                return r;
        struct table t = {};
        sd_bus *bus = NULL;
        r = ctl_connect(&o, true, &bus);
        if (r == -ENOENT || r == -ECONNREFUSED) {
                _cleanup_free_ char *path = control_socket_path(o.runtime_dir);
                fprintf(stderr, "tickctl list: tickd is not running (no socket at %s); listing from the files\n",
                        path ? path : o.runtime_dir);
                r = fetch_offline(&o, &t);
        } else if (r >= 0) {
                r = fetch_online(&o, bus, &t);
                sd_bus_flush_close_unref(bus);
        }
        int status = ctl_exit_status(r);
        if (r >= 0)
                add_fleet_last(&o, &t);
        if (r >= 0) {
                if (t.n_rows > 0) /* rows is NULL when nothing is listed */
                        qsort(t.rows, t.n_rows, sizeof(*t.rows), row_compare);
                ctl_pager_open(&o);
                if (o.json)
                        print_json(&t);
                else
                        print_table(&o, &t);
                ctl_pager_close();
                /* A cut list is a finding: a script reading it must not
                 * take it for all the jobs. */
                if (t.omitted) {
                        fprintf(stderr, "tickctl list: %s\n", t.omitted_why);
                        status = 1;
                }
        }
        table_free(&t);
        ctl_options_free(&o);
        return status;
}
