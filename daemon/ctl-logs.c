/* ctl-logs.c — tickctl logs: a job's own output (its stdout and stderr,
 * journal identifier = the job's name) read from the journal.
 *
 * --run RUN_ID: output lines cannot carry TICKD_RUN_ID (a journal stream
 * has no custom fields), so a run's lines are found through its records
 * and the streams journald stamps on every line (_STREAM_ID; tickd opens
 * fresh streams for every run). A stream belongs to the run when one of its
 * lines was written by the run's job process (_PID = the started record's
 * TICKD_PID), or was stamped between the run's started and finished
 * records, or when its first line came at most STREAM_EARLY_USEC before the
 * started record and after the job's previous outcome (a job can print
 * before its start is recorded, and such a line may lack _PID: journald
 * learns a writer's credentials only once it has accepted the stream);
 * but never when the job process of another run of the job (that run's
 * TICKD_PID) wrote to it: it is that run's. All lines of those streams,
 * from shortly before the start to shortly after the end, are the run's
 * output. Runs of one job that overlap in time (overlap = allow) can still
 * mix through a stream that only their children wrote to. Without
 * _STREAM_ID, the lines inside the window are shown.
 *
 * Not exact, and selecting by the pid of the runner (which opens the
 * streams) would not make it so: journald reads streams with
 * SCM_CREDENTIALS and stamps each line with the pid of the process that
 * wrote it, not of the one that connected the stream (seen with Debian
 * 12's journald 252: a job's line carries the job's pid, its children's
 * lines their own). An exact selection needs one entry per stream that the
 * runner writes itself (its _STREAM_ID then names the run's streams), or
 * the runner relaying output with TICKD_RUN_ID: a change of the runner's
 * output, not made here. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ctl.h"
#include "journal-query.h"

/* Slack around a run's window: its job can print before the started
 * record is written, and journald can stamp a line after the outcome. */
#define BEFORE_START_USEC (10 * 1000000ULL)
#define STREAM_EARLY_USEC (500 * 1000ULL)
#define AFTER_END_USEC (60 * 1000000ULL)

struct logs_options {
        const char *job, *run_id, *directory;
        long limit; /* -1 = all */
        bool follow, user;
};

static void logs_usage(FILE *out)
{
        fprintf(out, "Usage: tickctl logs JOB [-n N] [--run RUN_ID] [-f] [--user] [--directory DIR]\n");
}

static int logs_parse(int argc, char **argv, struct logs_options *o)
{
        static const struct option longopts[] = {
                { "lines", required_argument, NULL, 'n' }, { "run", required_argument, NULL, 'R' },
                { "follow", no_argument, NULL, 'f' },      { "user", no_argument, NULL, 'U' },
                { "directory", required_argument, NULL, 'D' }, { "help", no_argument, NULL, 'h' },
                {},
        };
        *o = (struct logs_options){ .limit = -1 };
        int c;
        while ((c = getopt_long(argc, argv, "n:fD:h", longopts, NULL)) >= 0) {
                char *end;
                switch (c) {
                case 'n':
                        o->limit = strtol(optarg, &end, 10);
                        if (end == optarg || *end || o->limit < 0) {
                                fprintf(stderr, "tickctl logs: -n wants a count, not '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'R': o->run_id = optarg; break;
                case 'f': o->follow = true; break;
                case 'U': o->user = true; break;
                case 'D': o->directory = optarg; break;
                case 'h': logs_usage(stdout); return 1;
                default: logs_usage(stderr); return -EINVAL;
                }
        }
        if (optind + 1 != argc) {
                logs_usage(stderr);
                return -EINVAL;
        }
        o->job = argv[optind];
        if (o->follow && o->run_id) {
                fprintf(stderr, "tickctl logs: --run shows a finished window; it cannot be combined with -f\n");
                return -EINVAL;
        }
        if (o->follow && o->limit < 0)
                o->limit = 10;
        return 0;
}

static int open_journal(const struct logs_options *o, sd_journal **ret)
{
        int r = journal_query_open(ret, o->directory, o->user);
        if (r < 0)
                fprintf(stderr, "tickctl logs: cannot open the journal%s%s: %s\n", o->directory ? " in " : "",
                        o->directory ? o->directory : "", strerror(-r));
        return r;
}

static void print_line(FILE *out, sd_journal *j, const char *job)
{
        _cleanup_free_ char *message = NULL;
        uint64_t t = 0;
        char when[64];
        if (journal_query_field(j, "MESSAGE", &message) < 0)
                return;
        (void)sd_journal_get_realtime_usec(j, &t);
        fprintf(out, "%s %s: %s\n", journal_query_format_time(t, false, when, sizeof(when)), job, message);
}

struct stream_set {
        char **ids;
        size_t count;
};

static bool stream_set_has(const struct stream_set *set, const char *id)
{
        for (size_t i = 0; i < set->count; i++)
                if (strcmp(set->ids[i], id) == 0)
                        return true;
        return false;
}

static int stream_set_add(struct stream_set *set, char *id)
{
        if (stream_set_has(set, id)) {
                free(id);
                return 0;
        }
        char **more = realloc(set->ids, (set->count + 1) * sizeof(char *));
        if (!more) {
                free(id);
                return -ENOMEM;
        }
        set->ids = more;
        set->ids[set->count++] = id;
        return 0;
}

static void stream_set_free(struct stream_set *set)
{
        for (size_t i = 0; i < set->count; i++)
                free(set->ids[i]);
        free(set->ids);
}

struct run_window {
        uint64_t start, end; /* end 0 = not finished */
        uint64_t early;      /* streams first heard from since then may be the run's */
        char *job_pid;       /* TICKD_PID; NULL = not recorded */
        struct stream_set other_pids; /* TICKD_PID of the job's other runs around the window */
        struct stream_set foreign;    /* streams one of those wrote to: never this run's */
};

static void run_window_free(struct run_window *w)
{
        free(w->job_pid);
        w->job_pid = NULL;
        stream_set_free(&w->other_pids);
        stream_set_free(&w->foreign);
        w->other_pids = w->foreign = (struct stream_set){ 0 };
}

/* Sets W->early: STREAM_EARLY_USEC before the start, but not before the
 * job's previous outcome, whose streams are not this run's. */
static int find_previous_end(const struct logs_options *o, struct run_window *w)
{
        w->early = w->start > STREAM_EARLY_USEC ? w->start - STREAM_EARLY_USEC : 0;
        sd_journal *j = NULL;
        int r = journal_query_open(&j, o->directory, o->user);
        if (r >= 0)
                r = journal_query_match_finished(j);
        if (r >= 0)
                r = journal_query_match(j, "TICKD_JOB", o->job);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, w->start);
        while (r >= 0 && (r = sd_journal_previous(j)) > 0) {
                uint64_t t;
                _cleanup_free_ char *id = NULL;
                if (sd_journal_get_realtime_usec(j, &t) < 0 || t >= w->start)
                        continue;
                if (journal_query_field(j, "TICKD_RUN_ID", &id) >= 0 && strcmp(id, o->run_id) == 0)
                        continue;
                if (t > w->early)
                        w->early = t;
                break;
        }
        sd_journal_close(j);
        if (r < 0)
                fprintf(stderr, "tickctl logs: reading the journal: %s\n", strerror(-r));
        return r < 0 ? r : 0;
}

/* The job processes of JOB's other runs that started around the window
 * (overlap = allow): a stream one of them wrote to is theirs. */
static int find_other_runs(const struct logs_options *o, struct run_window *w)
{
        uint64_t from = w->start > BEFORE_START_USEC ? w->start - BEFORE_START_USEC : 0;
        uint64_t to = w->end ? w->end + AFTER_END_USEC : UINT64_MAX;
        sd_journal *j = NULL;
        int r = journal_query_open(&j, o->directory, o->user);
        if (r >= 0)
                r = journal_query_match(j, "MESSAGE_ID", log_event_message_id(LOG_EVENT_STARTED));
        if (r >= 0)
                r = journal_query_match(j, "TICKD_JOB", o->job);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, from);
        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                uint64_t t;
                char *pid = NULL;
                _cleanup_free_ char *id = NULL;
                if (sd_journal_get_realtime_usec(j, &t) < 0 || t < from)
                        continue;
                if (t > to)
                        break;
                if (journal_query_field(j, "TICKD_RUN_ID", &id) < 0 || strcmp(id, o->run_id) == 0 ||
                    journal_query_field(j, "TICKD_PID", &pid) < 0)
                        continue;
                if (w->job_pid && strcmp(pid, w->job_pid) == 0) {
                        free(pid);
                        continue;
                }
                if ((r = stream_set_add(&w->other_pids, pid)) < 0)
                        break;
        }
        sd_journal_close(j);
        if (r < 0)
                fprintf(stderr, "tickctl logs: reading the journal: %s\n", strerror(-r));
        return r < 0 ? r : 0;
}

/* Finds the run's records: its start and end, and checks it is JOB's. */
static int find_run(const struct logs_options *o, struct run_window *w)
{
        *w = (struct run_window){ 0 };
        sd_journal *j = NULL;
        int r = open_journal(o, &j);
        if (r < 0)
                return r;
        r = journal_query_match(j, "TICKD_RUN_ID", o->run_id);
        bool found = false, other_job = false;
        int64_t duration = -1;
        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                _cleanup_free_ char *id = NULL, *job = NULL, *dur = NULL;
                uint64_t t;
                if (sd_journal_get_realtime_usec(j, &t) < 0 || journal_query_field(j, "MESSAGE_ID", &id) < 0)
                        continue;
                if (journal_query_field(j, "TICKD_JOB", &job) < 0 || strcmp(job, o->job) != 0) {
                        other_job = true;
                        continue;
                }
                found = true;
                int event = log_event_from_message_id(id);
                if (event == LOG_EVENT_STARTED && (w->start == 0 || t < w->start)) {
                        w->start = t;
                        free(w->job_pid);
                        w->job_pid = NULL;
                        (void)journal_query_field(j, "TICKD_PID", &w->job_pid);
                } else if (event != LOG_EVENT_STARTED && event != LOG_EVENT_DELAYED && t > w->end) {
                        w->end = t;
                        if (journal_query_field(j, "TICKD_DURATION_USEC", &dur) >= 0)
                                duration = strtoll(dur, NULL, 10);
                }
        }
        sd_journal_close(j);
        if (r < 0 || !found) {
                free(w->job_pid);
                w->job_pid = NULL;
        }
        if (r < 0) {
                fprintf(stderr, "tickctl logs: reading the journal: %s\n", strerror(-r));
                return r;
        }
        if (!found) {
                fprintf(stderr, other_job ? "tickctl logs: run %s is not a run of %s\n"
                                          : "tickctl logs: no run %s of %s in the journal\n",
                        o->run_id, o->job);
                return -ENOENT;
        }
        /* Without a started record (rotated away), the duration gives it. */
        if (w->start == 0 && w->end && duration >= 0)
                w->start = w->end - (uint64_t)duration;
        r = find_previous_end(o, w);
        return r < 0 ? r : find_other_runs(o, w);
}

/* Whether the current line belongs to the run, learning its stream into
 * STREAMS (the run's) and SEEN (every stream met so far). */
static int run_line_belongs(sd_journal *j, struct run_window *w, uint64_t t, struct stream_set *streams,
                            struct stream_set *seen)
{
        _cleanup_free_ char *stream = NULL, *pid = NULL;
        bool in_window = t >= w->start && (!w->end || t <= w->end);
        if (journal_query_field(j, "_STREAM_ID", &stream) < 0)
                return in_window;
        if (stream_set_has(&w->foreign, stream))
                return 0;
        bool has_pid = journal_query_field(j, "_PID", &pid) >= 0;
        if (has_pid && stream_set_has(&w->other_pids, pid)) {
                char *copy = strdup(stream);
                return !copy || stream_set_add(&w->foreign, copy) < 0 ? -ENOMEM : 0;
        }
        if (stream_set_has(streams, stream))
                return 1;
        bool first_line = !stream_set_has(seen, stream);
        if (first_line) {
                char *copy = strdup(stream);
                if (!copy || stream_set_add(seen, copy) < 0)
                        return -ENOMEM;
        }
        bool early = first_line && t < w->start && t >= w->early;
        bool by_pid = w->job_pid && has_pid && strcmp(pid, w->job_pid) == 0;
        if (!by_pid && !in_window && !early)
                return 0;
        int r = stream_set_add(streams, TAKE_PTR(stream));
        return r < 0 ? r : 1;
}

static int show_run(const struct logs_options *o)
{
        struct run_window w;
        int r = find_run(o, &w);
        if (r < 0) {
                run_window_free(&w);
                return r == -ENOENT ? 1 : 2;
        }
        uint64_t from = w.start > BEFORE_START_USEC ? w.start - BEFORE_START_USEC : 0;
        uint64_t to = w.end ? w.end + AFTER_END_USEC : UINT64_MAX;
        sd_journal *j = NULL;
        if (open_journal(o, &j) < 0) {
                run_window_free(&w);
                return 2;
        }
        r = journal_query_match(j, "SYSLOG_IDENTIFIER", o->job);
        /* Pass 1 learns the run's streams; pass 2 prints their lines (a
         * stream's early lines come before the line that identifies it). */
        struct stream_set streams = { 0 }, seen = { 0 };
        for (int pass = 1; pass <= 2 && r >= 0; pass++) {
                if ((r = sd_journal_seek_realtime_usec(j, from)) < 0)
                        break;
                size_t shown = 0, skip = 0;
                if (pass == 2 && o->limit >= 0) {
                        /* -n N: count the lines first, then skip all but N. */
                        size_t total = 0;
                        while ((r = sd_journal_next(j)) > 0) {
                                uint64_t t;
                                if (sd_journal_get_realtime_usec(j, &t) < 0 || t < from)
                                        continue;
                                if (t > to)
                                        break;
                                if ((r = run_line_belongs(j, &w, t, &streams, &seen)) < 0)
                                        break;
                                total += r;
                        }
                        if (r < 0 || (r = sd_journal_seek_realtime_usec(j, from)) < 0)
                                break;
                        skip = total > (size_t)o->limit ? total - (size_t)o->limit : 0;
                }
                while ((r = sd_journal_next(j)) > 0) {
                        uint64_t t;
                        if (sd_journal_get_realtime_usec(j, &t) < 0 || t < from)
                                continue;
                        if (t > to)
                                break;
                        int belongs = run_line_belongs(j, &w, t, &streams, &seen);
                        if (belongs < 0) {
                                r = belongs;
                                break;
                        }
                        if (pass == 2 && belongs && shown++ >= skip)
                                print_line(stdout, j, o->job);
                }
        }
        sd_journal_close(j);
        stream_set_free(&streams);
        stream_set_free(&seen);
        run_window_free(&w);
        if (r < 0) {
                fprintf(stderr, "tickctl logs: reading the journal: %s\n", strerror(-r));
                return 2;
        }
        return 0;
}

static int show_job(const struct logs_options *o)
{
        sd_journal *j = NULL;
        if (open_journal(o, &j) < 0)
                return 2;
        int r = journal_query_match(j, "SYSLOG_IDENTIFIER", o->job);
        if (r >= 0 && o->limit >= 0) {
                /* Position on the N-th newest line, or on the oldest. */
                r = sd_journal_seek_tail(j);
                if (r >= 0 && o->limit > 0 && (r = sd_journal_previous_skip(j, (uint64_t)o->limit)) > 0)
                        print_line(stdout, j, o->job);
        } else if (r >= 0)
                r = sd_journal_seek_head(j);
        for (;;) {
                while (r >= 0 && (r = sd_journal_next(j)) > 0)
                        print_line(stdout, j, o->job);
                if (r < 0 || !o->follow)
                        break;
                fflush(stdout);
                r = sd_journal_wait(j, UINT64_MAX);
        }
        sd_journal_close(j);
        if (r < 0) {
                fprintf(stderr, "tickctl logs: reading the journal: %s\n", strerror(-r));
                return 2;
        }
        return 0;
}

int ctl_logs(int argc, char **argv)
{
        struct logs_options o;
        int r = logs_parse(argc, argv, &o);
        if (r != 0)
                return r > 0 ? 0 : 2;
        return o.run_id ? show_run(&o) : show_job(&o);
}
