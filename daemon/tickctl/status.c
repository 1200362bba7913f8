/* status.c — tickctl status [JOB]: the daemon (version, uptime, files,
 * runs, open batches, descriptors, memory), or one job (definition, next
 * runs, last outcome). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "shared/clock.h"
#include "core/json.h"
#include "shared/control-protocol.h"
#include "tickctl/common.h"
#include "tickctl/commands.h"
#include "tickctl/journal-query.h"
#include "core/timespan.h"

static void print_span_since(uint64_t since_usec, uint64_t now_usec)
{
        char buf[64];
        ctl_format_relative(since_usec, now_usec, buf, sizeof(buf));
        printf("%s", buf);
}

/* Version, uptime, jobs, descriptors, memory: GetStatus's leading fields. */
static int show_daemon_summary(const struct ctl_options *o, sd_bus_message *reply, uint64_t now)
{
        const char *version;
        uint64_t started, rss;
        unsigned n_jobs, fds;
        int r = sd_bus_message_read(reply, "stuut", &version, &started, &n_jobs, &fds, &rss);
        if (r < 0)
                return r;
        if (o->json) {
                printf("{\"version\": ");
                json_write_string(stdout, version);
                printf(", \"instance\": \"%s\", \"started_usec\": %llu, \"jobs\": %u, \"fds\": %u, \"rss_kb\": %llu",
                       o->user_mode ? "user" : "system", (unsigned long long)started, n_jobs, fds,
                       (unsigned long long)rss);
                return 0;
        }
        char when[64], span[64];
        _cleanup_free_ char *socket_path = control_socket_path(o->runtime_dir);
        printf("tickd %s (%s instance)\n", version, o->user_mode ? "user" : "system");
        printf("  Socket: %s\n", socket_path ? socket_path : "?");
        timespan_format(now > started ? (now - started) / USEC_PER_SEC * USEC_PER_SEC : 0, span, sizeof(span));
        printf("  Up: %s (since %s)\n", strcmp(span, "0") == 0 ? "0s" : span,
               ctl_format_time(started, when, sizeof(when)));
        printf("  Jobs: %u\n", n_jobs);
        printf("  Open descriptors: %u\n  Memory (RSS): %llu KiB\n", fds, (unsigned long long)rss);
        return 0;
}

static int show_daemon_files(const struct ctl_options *o, sd_bus_message *reply)
{
        printf(o->json ? ", \"files\": [" : "Config files:\n");
        int r = ctl_print_files(o, reply, NULL, o->json ? "" : "  ", o->json ? ", " : "  ");
        return r < 0 ? r : 0;
}

static int show_daemon_runs(const struct ctl_options *o, sd_bus_message *reply, uint64_t now)
{
        int r = sd_bus_message_enter_container(reply, 'a', CONTROL_RUN_SIG);
        if (r < 0)
                return r;
        printf(o->json ? "], \"runs\": [" : "Running:\n");
        unsigned n_runs = 0;
        for (;; n_runs++) {
                const char *job, *run_id;
                unsigned pid;
                uint64_t start;
                if ((r = sd_bus_message_read(reply, CONTROL_RUN_SIG, &job, &run_id, &pid, &start)) < 0)
                        return r;
                if (r == 0)
                        break;
                if (!*job && !*run_id) { /* the marker of a cut list: PID runs left out */
                        fprintf(stderr, "tickctl status: %u more run%s not listed: the list is cut at %u MiB\n", pid,
                                pid == 1 ? "" : "s", CONTROL_LIST_MAX_BYTES / (1024 * 1024));
                        continue; /* the last item: counted, so "none" is not said */
                }
                if (o->json) {
                        printf("%s{\"job\": ", n_runs ? ", " : "");
                        json_write_string(stdout, job);
                        printf(", \"run_id\": ");
                        json_write_string(stdout, run_id);
                        printf(", \"pid\": %u, \"start_usec\": %llu}", pid, (unsigned long long)start);
                } else {
                        char text[2][256], when[64];
                        printf("  %s  run %s  pid %u  started %s (", ctl_text(job, o->terminal, text[0], 256),
                               ctl_text(run_id, o->terminal, text[1], 256), pid,
                               ctl_format_time(start, when, sizeof(when)));
                        print_span_since(start, now);
                        printf(")\n");
                }
        }
        if (!o->json && n_runs == 0)
                printf("  none\n");
        return sd_bus_message_exit_container(reply);
}

/* One open batch (the BATCH struct of CONTROL_BATCH_SIG, entered). */
static int show_daemon_batch(const struct ctl_options *o, sd_bus_message *reply, unsigned index, uint64_t now)
{
        uint64_t id, created;
        unsigned jobs;
        int r;
        if ((r = sd_bus_message_read(reply, "ttu", &id, &created, &jobs)) < 0 ||
            (r = sd_bus_message_enter_container(reply, 'a', "s")) < 0)
                return r;
        if (id == 0) { /* the marker of a cut list (batch ids start at 1): JOBS batches left out */
                fprintf(stderr, "tickctl status: %u more batch%s not listed: the list is cut at %u MiB\n", jobs,
                        jobs == 1 ? "" : "es", CONTROL_LIST_MAX_BYTES / (1024 * 1024));
                return sd_bus_message_exit_container(reply); /* its empty array */
        }
        if (o->json) {
                printf("%s{\"id\": %llu, \"created_usec\": %llu, \"jobs\": %u, \"missing\": [", index ? ", " : "",
                       (unsigned long long)id, (unsigned long long)created, jobs);
        } else {
                printf("  #%llu opened ", (unsigned long long)id);
                print_span_since(created, now);
                printf(", %u job%s, waiting for:", jobs, jobs == 1 ? "" : "s");
        }
        for (unsigned k = 0;; k++) {
                const char *name;
                if ((r = sd_bus_message_read(reply, "s", &name)) < 0)
                        return r;
                if (r == 0)
                        break;
                if (o->json) {
                        printf("%s", k ? ", " : "");
                        json_write_string(stdout, name);
                } else {
                        printf("%s ", k ? "," : "");
                        ctl_put_text(stdout, name, o->terminal);
                }
        }
        printf(o->json ? "]}" : "\n");
        return sd_bus_message_exit_container(reply);
}

static int show_daemon_batches(const struct ctl_options *o, sd_bus_message *reply, uint64_t now)
{
        int r = sd_bus_message_enter_container(reply, 'a', CONTROL_BATCH_SIG);
        if (r < 0)
                return r;
        printf(o->json ? "], \"batches\": [" : "Open batches:\n");
        unsigned n_batches = 0;
        for (;; n_batches++) {
                if ((r = sd_bus_message_enter_container(reply, 'r', "ttuas")) < 0)
                        return r;
                if (r == 0)
                        break;
                if ((r = show_daemon_batch(o, reply, n_batches, now)) < 0 ||
                    (r = sd_bus_message_exit_container(reply)) < 0)
                        return r;
        }
        if (!o->json && n_batches == 0)
                printf("  none\n");
        return sd_bus_message_exit_container(reply);
}

static int show_daemon(const struct ctl_options *o, sd_bus *bus)
{
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        int r = ctl_call(o, bus, "GetStatus", 0, &reply, NULL);
        if (r < 0)
                return r;
        uint64_t now = clock_now_usec(CLOCK_REALTIME);
        if ((r = show_daemon_summary(o, reply, now)) < 0 || (r = show_daemon_files(o, reply)) < 0 ||
            (r = show_daemon_runs(o, reply, now)) < 0 || (r = show_daemon_batches(o, reply, now)) < 0)
                return r;
        if (o->json)
                printf("]}\n");
        return 0;
}

#define RECENT_RUNS 5

/* The job's last few outcomes from the journal (older than the daemon's
 * uptime too); nothing when there is no journal or no record. */
static void show_recent_runs(const struct ctl_options *o, const char *name)
{
        sd_journal *j = NULL;
        if (journal_query_open(&j, NULL, o->user_mode) < 0)
                return;
        struct run_record records[RECENT_RUNS];
        int n = 0;
        if (journal_query_match(j, "TICKD_JOB", name) >= 0 && sd_journal_add_conjunction(j) >= 0 &&
            journal_query_match_finished(j) >= 0 && sd_journal_seek_tail(j) >= 0)
                while (n < RECENT_RUNS && sd_journal_previous(j) > 0)
                        if (run_record_read(j, &records[n]) == 0)
                                n++;
        sd_journal_close(j);
        if (n == 0)
                return;
        printf("  Recent runs (journal):\n");
        for (int i = 0; i < n; i++) {
                char when[64], span[32];
                const struct run_record *r = &records[i];
                printf("    %s  %s%-9s%s", journal_query_format_time(r->realtime_usec, false, when, sizeof(when)),
                       ctl_color(o, run_record_result(r)), run_record_result(r), ctl_color_off(o));
                if (r->exit_status >= 0)
                        printf(" exit %lld", (long long)r->exit_status);
                if (r->signal) {
                        fputs(" SIG", stdout);
                        ctl_put_text(stdout, r->signal, o->terminal);
                }
                if (r->duration_usec >= 0)
                        printf(" %s", journal_query_format_span(r->duration_usec, span, sizeof(span)));
                fputs("  run ", stdout);
                ctl_put_text(stdout, r->run_id ? r->run_id : "-", o->terminal);
                fputc('\n', stdout);
                run_record_free(&records[i]);
        }
}

/* What GetJob says of a job besides its definition and next runs. */
struct job_summary {
        const char *name, *description, *file, *schedule, *zone, *user, *command, *result, *scope;
        int enabled, exit_status, signal;
        uint64_t next, last_start, last_end;
        unsigned running;
};

static void show_job_header(const struct ctl_options *o, const struct job_summary *j)
{
        if (o->json) {
                printf("{\"name\": ");
                json_write_string(stdout, j->name);
                printf(", \"enabled\": %s, \"running\": %u, \"next_usec\": %llu, \"last_start_usec\": %llu, "
                       "\"last_end_usec\": %llu, \"last_result\": ",
                       j->enabled ? "true" : "false", j->running, (unsigned long long)j->next,
                       (unsigned long long)j->last_start, (unsigned long long)j->last_end);
                json_write_string(stdout, j->result);
                printf(", \"last_exit_status\": %d, \"last_signal\": %d, \"scope\": ", j->exit_status, j->signal);
                json_write_string(stdout, j->scope);
                printf(", \"definition\": [");
                return;
        }
        ctl_put_text(stdout, j->name, o->terminal);
        fputs(*j->description ? " - " : "", stdout);
        ctl_put_text(stdout, j->description, o->terminal);
        printf("%s\n", j->enabled ? "" : " (disabled)");
        printf("  State: %s\n", j->running ? "running" : "waiting");
}

/* The definition, key by key (description and enabled are in the header). */
static int show_job_definition(const struct ctl_options *o, sd_bus_message *reply)
{
        int r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        for (unsigned i = 0;; i++) {
                const char *key, *value;
                if ((r = sd_bus_message_read(reply, "(ss)", &key, &value)) < 0)
                        return r;
                if (r == 0)
                        break;
                if (o->json) {
                        printf("%s[", i ? ", " : "");
                        json_write_string(stdout, key);
                        printf(", ");
                        json_write_string(stdout, value);
                        printf("]");
                } else if (strcmp(key, "description") != 0 && strcmp(key, "enabled") != 0) {
                        printf("  %s: ", key);
                        ctl_put_text(stdout, value, o->terminal);
                        fputc('\n', stdout);
                }
        }
        return sd_bus_message_exit_container(reply);
}

static int show_job_next_runs(const struct ctl_options *o, sd_bus_message *reply, uint64_t now)
{
        int r = sd_bus_message_enter_container(reply, 'a', "t");
        if (r < 0)
                return r;
        printf(o->json ? "], \"next_runs_usec\": [" : "  Next runs:\n");
        for (unsigned i = 0;; i++) {
                uint64_t t;
                char when[64], rel[64];
                if ((r = sd_bus_message_read(reply, "t", &t)) < 0)
                        return r;
                if (r == 0) {
                        if (i == 0 && !o->json)
                                printf("    none\n");
                        break;
                }
                if (o->json)
                        printf("%s%llu", i ? ", " : "", (unsigned long long)t);
                else
                        printf("    %s (%s)\n", ctl_format_time(t, when, sizeof(when)),
                               ctl_format_relative(t, now, rel, sizeof(rel)));
        }
        return sd_bus_message_exit_container(reply);
}

static void show_job_last_run(const struct ctl_options *o, const struct job_summary *j, uint64_t now)
{
        if (!j->last_start) {
                printf("  Last run: none recorded\n");
                return;
        }
        char outcome[64] = "";
        if (j->signal > 0)
                snprintf(outcome, sizeof(outcome), ", signal SIG%s",
                         sigabbrev_np(j->signal) ? sigabbrev_np(j->signal) : "?");
        else if (j->exit_status >= 0)
                snprintf(outcome, sizeof(outcome), ", exit status %d", j->exit_status);
        char span[64] = "?", when[64], rel[64];
        if (j->last_end > j->last_start)
                timespan_format((j->last_end - j->last_start) / 1000 * 1000, span, sizeof(span));
        printf("  Last run: %s (%s): %s%s%s%s, took %s\n", ctl_format_time(j->last_start, when, sizeof(when)),
               ctl_format_relative(j->last_start, now, rel, sizeof(rel)), ctl_color(o, j->result), j->result,
               ctl_color_off(o), outcome, span);
}

static int show_job(const struct ctl_options *o, sd_bus *bus, const char *name)
{
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        int r = ctl_call(o, bus, "GetJob", 0, &reply, "s", name);
        if (r < 0)
                return r;
        struct job_summary j;
        if ((r = sd_bus_message_read(reply, CONTROL_JOB_SIG, &j.name, &j.description, &j.file, &j.schedule, &j.zone,
                                     &j.user, &j.command, &j.enabled, &j.next, &j.last_start, &j.last_end, &j.result,
                                     &j.exit_status, &j.signal, &j.running, &j.scope)) < 0)
                return r;
        uint64_t now = clock_now_usec(CLOCK_REALTIME);
        show_job_header(o, &j);
        if ((r = show_job_definition(o, reply)) < 0 || (r = show_job_next_runs(o, reply, now)) < 0)
                return r;
        if (o->json) {
                printf("]}\n");
                return 0;
        }
        show_job_last_run(o, &j, now);
        show_recent_runs(o, j.name);
        return 0;
}

int ctl_status(int argc, char **argv)
{
        struct ctl_options o;
        int r = ctl_parse_args(argc, argv, CTL_OPT_JSON, "status [JOB] [--json] [OPTIONS...]", 0, 1,
                               "at most one job name", &o);
        if (r >= 0)
                return r;
        sd_bus *bus = NULL;
        r = ctl_connect(&o, false, &bus);
        if (r >= 0) {
                ctl_pager_open(&o);
                r = o.n_args ? show_job(&o, bus, o.args[0]) : show_daemon(&o, bus);
                ctl_pager_close();
                sd_bus_flush_close_unref(bus);
        }
        ctl_options_free(&o);
        return ctl_exit_status(r);
}
