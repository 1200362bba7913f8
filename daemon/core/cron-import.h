/* cron-import.h — classic crontab(5) files into tickd's INI crontab.
 *
 * Owns the reading of crontabs as Debian cron (Vixie) and cronie accept
 * them, and the INI text `tickctl import` prints (man/tickctl.1, IMPORT):
 *   - a user crontab ("m h dom mon dow command") or the system format of
 *     /etc/crontab and /etc/cron.d (a user field after the schedule);
 *   - 5 time fields (names, ranges, steps, lists) or one of cron's
 *     @keywords, @reboot included, checked with schedule_parse();
 *   - NAME=value lines (blanks around '=', one pair of matching quotes
 *     around the value removed) apply to the lines below them; CRON_TZ and
 *     TZ give the timezone (TZ stays in the environment, as cron leaves
 *     it), RANDOM_DELAY (cronie, minutes) the random delay, MAILTO the
 *     mail address; SHELL other than /bin/sh wraps the command as
 *     "SHELL -c 'command'"; HOME is also the working directory, as cron
 *     starts jobs there;
 *   - the first '%' not escaped by a backslash ends the command, the rest
 *     is the job's standard input with every other '%' a newline and a
 *     newline at its end; "\%" is a '%' in both parts, "\\" one backslash
 *     in the command (Debian's reading; cronie keeps it).
 * Every job is named FILE-LINE and described "FILE:LINE". A line that
 * cannot be imported is an error at that line; nothing is ever dropped.
 * Pure: no I/O, no clock, no globals. */
#ifndef TICKD_CRON_IMPORT_H
#define TICKD_CRON_IMPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"
#include "core/tz.h"

/* One cron line as tickd's keys. Every string is owned by the job. */
struct cron_import_job {
        unsigned line;
        char *schedule;          /* for schedule=: the 5 fields joined by one space, or the @keyword */
        char *user;              /* the system format's user field; NULL in a user crontab */
        char *command;           /* for command=: unescaped, cut at the '%', wrapped for SHELL */
        char *stdin_text;        /* the input after the '%', '%' read as newline; NULL when none or empty */
        char **environment;      /* "NAME=value" set above the line, in order; NULL when none */
        char *timezone;          /* CRON_TZ, else TZ; NULL = none */
        char *mail_to;           /* MAILTO; NULL when unset or empty */
        char *working_directory; /* HOME when set to an absolute path; NULL = the user's home */
        unsigned random_delay_minutes;
};

struct cron_import {
        char *source; /* for descriptions and job names, control characters as '?' ("-" reads as "stdin") */
        struct cron_import_job **jobs;
        size_t n_jobs;
};

/* The jobs of the crontab in BUF (LEN bytes), named SOURCE. SYSTEM_FORMAT:
 * a user field follows the schedule. Returns 0 and fills OUT (free it with
 * cron_import_free()), -EINVAL when a line cannot be imported (every such
 * line has an error in DIAGS, "SOURCE:LINE: error: ..."; OUT is left
 * empty), or -ENOMEM. ZONES, when not NULL, checks the zones CRON_TZ and
 * TZ name (the only loading this does). */
int cron_import_parse(const char *source, const char *buf, size_t len, bool system_format, struct tz_cache *zones,
                      struct cron_import *out, struct diagnostics *diags);
void cron_import_free(struct cron_import *imp);

/* The job name for LINE of SOURCE: its base name with every byte that a
 * section name cannot hold made '-', then "-LINE" ("crontab-17",
 * "e2scrub_all-2"); for "-", PREFIX (or "stdin" when it is NULL). Stable:
 * the same file and line always give the same name. Writes at most SIZE
 * bytes into BUF. */
void cron_import_job_name(const char *source, const char *prefix, unsigned line, char *buf, size_t size);

/* The INI crontab for IMP, malloc'd into *OUT: a comment naming the source,
 * a [defaults] section with USER (when not NULL) and every setting all jobs
 * share (environment, timezone, random_delay, mail_to, working_directory),
 * then one section per job. Returns 0 or -ENOMEM. */
int cron_import_format(const struct cron_import *imp, const char *user, char **out);

#endif
