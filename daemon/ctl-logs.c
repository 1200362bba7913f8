/* ctl-logs.c — tickctl logs: a job's own output (its stdout and stderr,
 * journal identifier = the job's name) read from the journal.
 *
 * --run RUN_ID: output lines cannot carry TICKD_RUN_ID (a journal stream
 * has no custom fields), so a run's output is found through its records:
 * the window from the run's "started" record to its finished record names
 * the journal streams (_STREAM_ID) that wrote for the job in it; since tickd
 * opens fresh streams for every run, those streams' lines are the run's
 * output, including lines journald stamped slightly outside the window.
 * Only concurrent runs of one job (overlap = allow) can share a window; then
 * their streams mix. Journals without _STREAM_ID fall back to the window. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "ctl.h"
#include "journal-query.h"

/* Slack around a run's window when collecting its streams' lines. */
#define BEFORE_START_USEC (5 * 1000000ULL)
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

struct run_window {
        uint64_t start, end; /* end 0 = not finished */
};

/* Finds the run's records: its start and end, and checks it is JOB's. */
static int find_run(const struct logs_options *o, struct run_window *w)
{
        sd_journal *j = NULL;
        int r = open_journal(o, &j);
        if (r < 0)
                return r;
        r = journal_query_match(j, "TICKD_RUN_ID", o->run_id);
        bool found = false, other_job = false;
        int64_t duration = -1;
        *w = (struct run_window){ 0 };
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
                if (event == LOG_EVENT_STARTED && (w->start == 0 || t < w->start))
                        w->start = t;
                else if (event != LOG_EVENT_STARTED && event != LOG_EVENT_DELAYED && t > w->end) {
                        w->end = t;
                        if (journal_query_field(j, "TICKD_DURATION_USEC", &dur) >= 0)
                                duration = strtoll(dur, NULL, 10);
                }
        }
        sd_journal_close(j);
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
        return 0;
}

struct stream_set {
        char **ids;
        size_t count;
};

static bool stream_set_has(const struct stream_set *s, const char *id)
{
        for (size_t i = 0; i < s->count; i++)
                if (strcmp(s->ids[i], id) == 0)
                        return true;
        return false;
}

static void stream_set_free(struct stream_set *s)
{
        for (size_t i = 0; i < s->count; i++)
                free(s->ids[i]);
        free(s->ids);
}

static int show_run(const struct logs_options *o)
{
        struct run_window w;
        int r = find_run(o, &w);
        if (r < 0)
                return r == -ENOENT ? 1 : 2;
        sd_journal *j = NULL;
        if (open_journal(o, &j) < 0)
                return 2;
        r = journal_query_match(j, "SYSLOG_IDENTIFIER", o->job);
        /* Pass 1: the streams that wrote inside the window. */
        struct stream_set streams = { 0 };
        bool have_stream_ids = false;
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, w.start);
        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                uint64_t t;
                _cleanup_free_ char *id = NULL;
                if (sd_journal_get_realtime_usec(j, &t) < 0 || t < w.start)
                        continue;
                if (w.end && t > w.end)
                        break;
                if (journal_query_field(j, "_STREAM_ID", &id) < 0 || stream_set_has(&streams, id))
                        continue;
                char **more = realloc(streams.ids, (streams.count + 1) * sizeof(char *));
                if (!more) {
                        r = -ENOMEM;
                        break;
                }
                streams.ids = more;
                streams.ids[streams.count++] = TAKE_PTR(id);
                have_stream_ids = true;
        }
        /* Pass 2: those streams' lines (or, without stream ids, the window). */
        uint64_t from = w.start > BEFORE_START_USEC ? w.start - BEFORE_START_USEC : 0;
        uint64_t to = w.end ? w.end + AFTER_END_USEC : UINT64_MAX;
        if (!have_stream_ids)
                from = w.start, to = w.end ? w.end : UINT64_MAX;
        char **lines = NULL;
        size_t count = 0;
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, from);
        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                uint64_t t;
                _cleanup_free_ char *id = NULL;
                if (sd_journal_get_realtime_usec(j, &t) < 0 || t < from)
                        continue;
                if (t > to)
                        break;
                if (have_stream_ids && (journal_query_field(j, "_STREAM_ID", &id) < 0 || !stream_set_has(&streams, id)))
                        continue;
                char *line = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&line, &len);
                if (!f) {
                        r = -ENOMEM;
                        break;
                }
                print_line(f, j, o->job);
                fclose(f);
                char **more = realloc(lines, (count + 1) * sizeof(char *));
                if (!more) {
                        free(line);
                        r = -ENOMEM;
                        break;
                }
                lines = more;
                lines[count++] = line;
        }
        sd_journal_close(j);
        stream_set_free(&streams);
        size_t skip = o->limit >= 0 && (size_t)o->limit < count ? count - (size_t)o->limit : 0;
        for (size_t i = 0; i < count; i++) {
                if (i >= skip)
                        fputs(lines[i], stdout);
                free(lines[i]);
        }
        free(lines);
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
