/* logs.c — tickctl logs: a job's own output (its stdout and stderr)
 * read back from the journal.
 *
 * A job's output lines are the entries with SYSLOG_IDENTIFIER= the job's
 * name and a TICKD_OUTPUT= field (output.h): another program that logs
 * under the same identifier is not the job. Each line carries its run's
 * TICKD_RUN_ID, so --run selects exactly that run's lines, its background
 * children's and its on_failure command's included, however runs overlap. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "tickctl/commands.h"
#include "tickctl/common.h"
#include "tickctl/journal-query.h"

struct logs_options {
        const char *job, *run_id, *directory;
        long limit; /* -1 = all */
        bool follow, user;
        bool terminal; /* stdout is one: a job's control characters are escaped */
};

static void logs_usage(FILE *out)
{
        fprintf(out, "Usage: tickctl logs JOB [-n N] [--run RUN_ID] [-f] [--user] [--directory DIR]\n");
}

static int logs_parse(int argc, char **argv, struct logs_options *o)
{
        static const struct option longopts[] = {
                { "lines", required_argument, NULL, 'n' },
                { "run", required_argument, NULL, 'R' },
                { "follow", no_argument, NULL, 'f' },
                { "user", no_argument, NULL, 'U' },
                { "directory", required_argument, NULL, 'D' },
                { "no-pager", no_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        *o = (struct logs_options){ .limit = -1, .terminal = isatty(STDOUT_FILENO) };
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
                case 'P': break; /* never paged; taken as every command takes it */
                case 'h': logs_usage(stdout); return 1;
                default: logs_usage(stderr); return -EINVAL;
                }
        }
        if (optind + 1 != argc) {
                logs_usage(stderr);
                return -EINVAL;
        }
        o->job = argv[optind];
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

static void print_line(FILE *out, sd_journal *j, const struct logs_options *o)
{
        _cleanup_free_ char *message = NULL;
        uint64_t t = 0;
        char when[64];
        if (journal_query_field(j, "MESSAGE", &message) < 0)
                return;
        (void)sd_journal_get_realtime_usec(j, &t);
        fprintf(out, "%s ", journal_query_format_time(t, false, when, sizeof(when)));
        ctl_put_text(out, o->job, o->terminal);
        fputs(": ", out);
        ctl_put_text(out, message, o->terminal);
        fputc('\n', out);
}

/* Whether RUN_ID names a run of JOB: its records say so, or its output
 * does. Says why not on stderr. Returns 0, 1 (not found) or 2 (error). */
static int check_run(const struct logs_options *o)
{
        sd_journal *j = NULL;
        if (open_journal(o, &j) < 0)
                return 2;
        int r = journal_query_match(j, "TICKD_RUN_ID", o->run_id);
        bool found = false, other_job = false;
        while (!found && r >= 0 && (r = sd_journal_next(j)) > 0) {
                _cleanup_free_ char *job = NULL, *identifier = NULL, *stream = NULL;
                if (journal_query_field(j, "TICKD_JOB", &job) >= 0)
                        found = strcmp(job, o->job) == 0;
                else if (journal_query_field(j, "TICKD_OUTPUT", &stream) >= 0 &&
                         journal_query_field(j, "SYSLOG_IDENTIFIER", &identifier) >= 0)
                        found = strcmp(identifier, o->job) == 0;
                other_job = other_job || !found;
        }
        sd_journal_close(j);
        if (r < 0) {
                fprintf(stderr, "tickctl logs: reading the journal: %s\n", strerror(-r));
                return 2;
        }
        if (!found) {
                fprintf(stderr,
                        other_job ? "tickctl logs: run %s is not a run of %s\n"
                                  : "tickctl logs: no run %s of %s in the journal\n",
                        o->run_id, o->job);
                return 1;
        }
        return 0;
}

static int show(const struct logs_options *o)
{
        sd_journal *j = NULL;
        if (open_journal(o, &j) < 0)
                return 2;
        int r = journal_query_match(j, "SYSLOG_IDENTIFIER", o->job);
        if (r >= 0)
                r = journal_query_match(j, "TICKD_OUTPUT", "stdout");
        if (r >= 0)
                r = journal_query_match(j, "TICKD_OUTPUT", "stderr");
        if (r >= 0 && o->run_id)
                r = journal_query_match(j, "TICKD_RUN_ID", o->run_id);
        size_t lines = 0;
        if (r >= 0 && o->limit >= 0) {
                /* Position on the N-th newest line, or on the oldest. */
                r = sd_journal_seek_tail(j);
                if (r >= 0 && o->limit > 0 && (r = sd_journal_previous_skip(j, (uint64_t)o->limit)) > 0) {
                        print_line(stdout, j, o);
                        lines++;
                }
        } else if (r >= 0)
                r = sd_journal_seek_head(j);
        for (;;) {
                while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                        print_line(stdout, j, o);
                        lines++;
                }
                if (r >= 0 && lines == 0 && o->limit != 0 && !o->run_id &&
                    journal_query_explain_empty("logs", o->directory, o->user)) {
                        r = 1;
                        break;
                }
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
        return r == 1 ? 1 : 0;
}

int ctl_logs(int argc, char **argv)
{
        struct logs_options o;
        int r = logs_parse(argc, argv, &o);
        if (r != 0)
                return r > 0 ? 0 : 2;
        if (o.run_id && (r = check_run(&o)) != 0)
                return r;
        return show(&o);
}
