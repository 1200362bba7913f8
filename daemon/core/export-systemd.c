/* export-systemd.c — a job as NAME.service + NAME.timer (and
 * NAME-on-failure.service for on_failure); see export.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/export-internal.h"
#include "core/strbuf.h"
#include "core/strv.h"
#include "core/timespan.h"

static void cleanup_strv(char ***v) { strv_free(*v); }

static int refuse_overlap(const struct job *job, struct diagnostics *diags)
{
        static const char *const why[] = {
                [OVERLAP_ALLOW] = "allow: a timer never starts its service while the previous run goes on",
                [OVERLAP_QUEUE] = "queue: a timer cannot queue a run behind the running one",
                [OVERLAP_REPLACE] = "replace: a timer cannot stop the running service to start it again",
        };
        if (job->overlap == OVERLAP_SKIP)
                return 0;
        int r = export_diag(diags, DIAG_ERROR, job, "overlap",
                            "%s (systemd only does what overlap = skip does; set that to export the job)",
                            why[job->overlap]);
        return r < 0 ? r : -EOPNOTSUPP;
}

static int put_environment(struct strbuf *f, const char *entry)
{
        _cleanup_free_ char *q = export_systemd_quote(entry, false);
        if (!q)
                return -ENOMEM;
        strbuf_printf(f, "Environment=%s\n", q);
        return 0;
}

static void put_key(struct strbuf *f, const char *key, const char *value)
{
        strbuf_printf(f, "%s=", key);
        export_put_plain(f, value);
        strbuf_putc(f, '\n');
}

/* What a unit's text is written from. */
struct unit_args {
        const struct export_options *options;
        const char *failure_unit; /* the service's OnFailure=, or NULL */
        char *const *lines;       /* the timer's OnCalendar= lines; NULL for @reboot */
};

/* tickd's limit keys are systemd's own (limits.h), with its units. */
static void put_limits(struct strbuf *f, const struct job_limits *l)
{
        if (l->memory_max == LIMIT_INFINITY)
                strbuf_puts(f, "MemoryMax=infinity\n");
        else if (l->memory_max)
                strbuf_printf(f, "MemoryMax=%" PRIu64 "\n", l->memory_max);
        if (l->cpu_quota)
                strbuf_printf(f, "CPUQuota=%" PRIu32 "%%\n", l->cpu_quota);
        if (l->tasks_max == LIMIT_INFINITY)
                strbuf_puts(f, "TasksMax=infinity\n");
        else if (l->tasks_max)
                strbuf_printf(f, "TasksMax=%" PRIu64 "\n", l->tasks_max);
        if (l->io_weight)
                strbuf_printf(f, "IOWeight=%" PRIu32 "\n", l->io_weight);
}

/* What the job's service and its on_failure service share: tickd's runner
 * environment (TICKD_JOB, PATH, the user's home as working directory, umask
 * 022), the job's settings, its output under its name in the journal. */
static int put_exec_context(struct strbuf *f, const struct job *job, const struct export_options *options,
                            const char *command)
{
        _cleanup_free_ char *exec = export_systemd_quote(command, true);
        _cleanup_free_ char *name = NULL, *path = NULL;
        if (!exec || asprintf(&name, "TICKD_JOB=%s", job->name) < 0 ||
            asprintf(&path, "PATH=%s", options->path ? options->path : CRONTAB_DEFAULT_PATH) < 0)
                return -ENOMEM;
        strbuf_printf(f, "ExecStart=/bin/sh -c %s\n", exec);
        if (!options->user_units) {
                put_key(f, "User", job->user ? job->user : "root");
                if (job_extra(job)->group)
                        put_key(f, "Group", job_extra(job)->group);
        }
        put_key(f, "WorkingDirectory", job_extra(job)->working_directory ? job_extra(job)->working_directory : "~");
        /* environment= comes after, and overrides, as in tickd's runner */
        if (put_environment(f, name) < 0 || put_environment(f, path) < 0)
                return -ENOMEM;
        for (char **e = job->environment; e && *e; e++)
                if (put_environment(f, *e) < 0)
                        return -ENOMEM;
        strbuf_printf(f, "UMask=%04o\n", job_extra(job)->umask < 0 ? 022 : (unsigned)job_extra(job)->umask);
        if (job_extra(job)->has_nice)
                strbuf_printf(f, "Nice=%d\n", job_extra(job)->nice);
        put_limits(f, &job_extra(job)->limits);
        if (job_extra(job)->pam == 1)
                put_key(f, "PAMName", "tickd");
        put_key(f, "SyslogIdentifier", job->name);
        return 0;
}

static void put_header(struct strbuf *f, const struct job *job)
{
        strbuf_puts(f, "# Exported by tickctl export from ");
        export_put_plain(f, job->file ? job->file : "-");
        strbuf_printf(f, ":%u (job ", job->line);
        export_put_plain(f, job->name);
        strbuf_puts(f, ")\n");
}

/* The text of a unit file: the header, then what WRITE adds. */
static int unit_text(const struct job *job, const struct unit_args *arg,
                     int (*write)(struct strbuf *, const struct job *, const struct unit_args *), char **out)
{
        struct strbuf b = { 0 };
        put_header(&b, job);
        int r = write(&b, job, arg);
        if (r < 0) {
                strbuf_free(&b);
                return r;
        }
        *out = strbuf_take(&b);
        return *out ? 0 : -ENOMEM;
}

static int write_service(struct strbuf *f, const struct job *job, const struct unit_args *arg)
{
        const char *failure_unit = arg->failure_unit;
        strbuf_puts(f, "[Unit]\n");
        if (job_extra(job)->description)
                put_key(f, "Description", job_extra(job)->description);
        else {
                strbuf_puts(f, "Description=tickd job ");
                export_put_plain(f, job->name);
                strbuf_putc(f, '\n');
        }
        if (failure_unit)
                strbuf_printf(f, "OnFailure=%s\n", failure_unit);
        strbuf_puts(f, "\n[Service]\n");
        int r = put_exec_context(f, job, arg->options, job->command);
        if (r < 0)
                return r;
        char span[64];
        if (job->timeout_usec)
                strbuf_printf(f, "RuntimeMaxSec=%s\n", timespan_format(job->timeout_usec, span, sizeof(span)));
        /* tickd sends SIGTERM to the job's process group, then SIGKILL after
         * kill_grace: systemd's stop does the same to the cgroup. */
        if (job_extra(job)->kill_grace_usec)
                strbuf_printf(f, "TimeoutStopSec=%s\n",
                              timespan_format(job_extra(job)->kill_grace_usec, span, sizeof(span)));
        else
                strbuf_puts(f, "KillSignal=SIGKILL\n");
        return 0;
}

/* on_failure runs with TICKD_EXIT_STATUS, as tickd runs it: systemd gives
 * an OnFailure= unit the failed one's status as MONITOR_EXIT_STATUS. */
static int write_failure_service(struct strbuf *f, const struct job *job, const struct unit_args *arg)
{
        strbuf_puts(f, "[Unit]\nDescription=on_failure of tickd job ");
        export_put_plain(f, job->name);
        strbuf_puts(f, "\n\n[Service]\nType=oneshot\n");
        _cleanup_free_ char *command = NULL;
        if (asprintf(&command, "TICKD_EXIT_STATUS=\"$MONITOR_EXIT_STATUS\"; export TICKD_EXIT_STATUS; %s",
                     job_extra(job)->on_failure) < 0)
                return -ENOMEM;
        return put_exec_context(f, job, arg->options, command);
}

static int write_timer(struct strbuf *f, const struct job *job, const struct unit_args *arg)
{
        char *const *lines = arg->lines;
        strbuf_puts(f, "[Unit]\nDescription=Timer of tickd job ");
        export_put_plain(f, job->name);
        strbuf_puts(f, "\n\n[Timer]\n");
        if (!lines)
                strbuf_puts(f, "OnBootSec=0\n"); /* @reboot: once per boot, as tickd's start-up marker */
        for (char *const *l = lines; l && *l; l++)
                strbuf_printf(f, "OnCalendar=%s\n", *l);
        /* systemd's default accuracy is a minute; tickd runs on the second. */
        strbuf_puts(f, "AccuracySec=1s\n");
        if (job->persistent)
                strbuf_puts(f, "Persistent=true\n");
        if (job_extra(job)->random_delay_usec) {
                char span[64];
                strbuf_printf(f, "RandomizedDelaySec=%s\n",
                              timespan_format(job_extra(job)->random_delay_usec, span, sizeof(span)));
        }
        if (job->enabled)
                strbuf_puts(f, "\n[Install]\nWantedBy=timers.target\n");
        else
                strbuf_puts(f, "\n# The job is disabled (enabled = no): without an install section this timer cannot "
                               "be enabled.\n");
        return 0;
}

/* The OnCalendar= lines of JOB in its zone (NULL for @reboot). */
static int calendar_lines(const struct job *job, char ***out, struct diagnostics *diags)
{
        *out = NULL;
        if (schedule_kind(job->schedule) == SCHEDULE_REBOOT)
                return 0;
        const char *zone = tz_name(export_job_zone(job));
        /* A copied zone file has no name systemd could load: local time. */
        if (strcmp(zone, "localtime") == 0)
                zone = NULL;
        char err[256] = "";
        int r = schedule_to_calendar(job->schedule, zone, out, err, sizeof(err));
        if (r == -EOPNOTSUPP && export_diag(diags, DIAG_ERROR, job, "schedule", "%s", err) < 0)
                return -ENOMEM;
        return r;
}

static int add_unit(struct export_files *out, const struct job *job, const char *unit, const char *suffix,
                    const struct unit_args *arg,
                    int (*write)(struct strbuf *, const struct job *, const struct unit_args *))
{
        _cleanup_free_ char *name = NULL;
        char *text = NULL;
        if (asprintf(&name, "%s%s", unit, suffix) < 0)
                return -ENOMEM;
        int r = unit_text(job, arg, write, &text);
        return r < 0 ? r : export_files_add(out, name, text);
}

int export_systemd(const struct job *job, const struct export_options *options, struct export_files *out,
                   struct diagnostics *diags)
{
        int refused = refuse_overlap(job, diags);
        if (refused == -ENOMEM)
                return refused;
        __attribute__((cleanup(cleanup_strv))) char **lines = NULL;
        int r = calendar_lines(job, &lines, diags);
        if (r < 0 && r != -EOPNOTSUPP)
                return r;
        if (r < 0 || refused < 0)
                return -EOPNOTSUPP;
        if (export_warn_dst(job, options, diags) < 0)
                return -ENOMEM;
        if (job->scope == JOB_SCOPE_FLEET &&
            export_diag(diags, DIAG_WARNING, job, "scope",
                        "fleet: a timer runs on every host that has it; install the units on one host only") < 0)
                return -ENOMEM;
        _cleanup_free_ char *unit = export_unit_name(job->name);
        _cleanup_free_ char *failure_unit = NULL;
        if (!unit || (job_extra(job)->on_failure && asprintf(&failure_unit, "%s-on-failure.service", unit) < 0))
                return -ENOMEM;
        const struct unit_args arg = { options, failure_unit, lines };
        if ((r = add_unit(out, job, unit, ".service", &arg, write_service)) < 0 ||
            (r = add_unit(out, job, unit, ".timer", &arg, write_timer)) < 0)
                return r;
        if (job_extra(job)->on_failure &&
            (r = add_unit(out, job, unit, "-on-failure.service", &arg, write_failure_service)) < 0)
                return r;
        return 0;
}
