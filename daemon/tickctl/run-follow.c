/* run-follow.c — a run's output from the journal; see run-follow.h. */
#include "tickctl/run-follow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "core/cleanup.h"
#include "shared/control-protocol.h"
#include "tickctl/common.h"
#include "tickctl/journal-query.h"

struct run_follow {
        sd_journal *journal;
        bool terminal_out, terminal_err;
        bool tracking;
        bool seen; /* some entry of the run was read */
        char run_id[CONTROL_RUN_ID_MAX];
};

int run_follow_open(bool user, bool terminal, struct run_follow **ret)
{
        struct run_follow *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        int r = journal_query_open(&f->journal, NULL, user);
        if (r < 0) {
                fprintf(stderr, "tickctl run: cannot open the journal to follow the run: %s\n", strerror(-r));
                free(f);
                return r;
        }
        f->terminal_out = terminal;
        f->terminal_err = isatty(STDERR_FILENO);
        /* Sets up the inotify watch now, so nothing written from here on
         * goes unnoticed. */
        (void)sd_journal_get_fd(f->journal);
        *ret = f;
        return 0;
}

struct run_follow *run_follow_free(struct run_follow *f)
{
        if (f) {
                sd_journal_close(f->journal);
                free(f);
        }
        return NULL;
}

int run_follow_track(struct run_follow *f, const char *run_id, uint64_t since_usec)
{
        if (f->tracking)
                return 0;
        int r = journal_query_match(f->journal, "TICKD_RUN_ID", run_id);
        if (r < 0 || (r = sd_journal_seek_realtime_usec(f->journal, since_usec)) < 0)
                return r;
        snprintf(f->run_id, sizeof(f->run_id), "%s", run_id);
        f->tracking = true;
        return 0;
}

/* The current entry: a line of the job's (printed), its final record
 * (returns 1), or another of its records. */
static int show_entry(struct run_follow *f)
{
        f->seen = true;
        _cleanup_free_ char *stream = NULL;
        if (journal_query_field(f->journal, "TICKD_OUTPUT", &stream) >= 0) {
                _cleanup_free_ char *line = NULL;
                if (journal_query_field(f->journal, "MESSAGE", &line) < 0)
                        return 0;
                bool err = strcmp(stream, "stderr") == 0;
                FILE *out = err ? stderr : stdout;
                ctl_put_text(out, line, err ? f->terminal_err : f->terminal_out);
                fputc('\n', out);
                fflush(out);
                return 0;
        }
        struct run_record record;
        if (run_record_read(f->journal, &record) < 0)
                return 0;
        run_record_free(&record);
        return 1;
}

int run_follow_pump(struct run_follow *f)
{
        if (!f->tracking)
                return 0;
        for (;;) {
                int r = sd_journal_next(f->journal);
                if (r <= 0)
                        return r;
                if (show_entry(f) > 0)
                        return 1;
        }
}

struct pollfd run_follow_pollfd(struct run_follow *f)
{
        int events = sd_journal_get_events(f->journal);
        return (struct pollfd){ .fd = sd_journal_get_fd(f->journal), .events = events > 0 ? (short)events : POLLIN };
}

uint64_t run_follow_timeout(struct run_follow *f)
{
        uint64_t usec = UINT64_MAX;
        if (sd_journal_get_timeout(f->journal, &usec) < 0)
                return UINT64_MAX;
        return usec;
}

void run_follow_process(struct run_follow *f) { (void)sd_journal_process(f->journal); }

void run_follow_explain_missing(const struct run_follow *f)
{
        if (!f->tracking)
                return;
        if (f->seen)
                fprintf(stderr,
                        "tickctl run: the journal did not show the end of run %s in time; "
                        "`tickctl logs JOB --run %s` shows the rest.\n",
                        f->run_id, f->run_id);
        else
                fprintf(stderr,
                        "tickctl run: no record of run %s reached the journal%s: a tickd that logs to its "
                        "standard error (--log-target stderr, as `make run` starts it) relays job output "
                        "there too.\n",
                        f->run_id, getuid() != 0 ? " (or none that you may read)" : "");
}
