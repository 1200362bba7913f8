/* export.c — the key mapping table and what both formats share
 * (diagnostics, DST differences, unit names, quoting); see export.h. The
 * formats are export-systemd.c and export-kubernetes.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/export-internal.h"
#include "core/strbuf.h"
#include "core/strv.h"
#include "core/timespan.h"

static bool set_user(const struct job *j) { return j->user != NULL; }
static bool set_group(const struct job *j) { return job_extra(j)->group != NULL; }
static bool set_random_delay(const struct job *j) { return job_extra(j)->random_delay_usec != 0; }
static bool set_nice(const struct job *j) { return job_extra(j)->has_nice; }
static bool set_on_failure(const struct job *j) { return job_extra(j)->on_failure != NULL; }
static bool set_stdin(const struct job *j) { return job_extra(j)->stdin_text != NULL; }
static bool set_mail_to(const struct job *j) { return job_extra(j)->mail_to != NULL; }
static bool set_memory_max(const struct job *j) { return job_extra(j)->limits.memory_max != 0; }
static bool set_cpu_quota(const struct job *j) { return job_extra(j)->limits.cpu_quota != 0; }
static bool set_tasks_max(const struct job *j) { return job_extra(j)->limits.tasks_max != 0; }
static bool set_pam(const struct job *j) { return job_extra(j)->pam == 1; }
static bool set_io_weight(const struct job *j) { return job_extra(j)->limits.io_weight != 0; }

/* One row per crontab key. A NULL target with IS_SET true: the job is
 * refused (REFUSE) or exported with WHY as a warning. Keys whose meaning
 * depends on their value (schedule, overlap, scope) have a target and are
 * judged in the format's own code. */
static const struct key_rule {
        const char *key;
        const char *target[2]; /* [EXPORT_SYSTEMD], [EXPORT_KUBERNETES] */
        bool (*is_set)(const struct job *);
        bool refuse[2];
        const char *why[2];
} rules[] = {
        { .key = "schedule", .target = { "OnCalendar= (two for a day-of-month OR weekday rule)", "spec.schedule" } },
        { .key = "command", .target = { "ExecStart=/bin/sh -c", "the container's command: /bin/sh -c" } },
        { .key = "description", .target = { "Description=", "metadata.annotations tickd/description" } },
        { "user",
          { "User=", NULL },
          set_user,
          { false, false },
          { NULL, "a container runs as its image's user: set securityContext.runAsUser (a number) yourself" } },
        { "group",
          { "Group=", NULL },
          set_group,
          { false, false },
          { NULL, "a container runs as its image's group: set securityContext.runAsGroup (a number) yourself" } },
        { .key = "timezone", .target = { "OnCalendar='s trailing zone", "spec.timeZone" } },
        { .key = "timeout", .target = { "RuntimeMaxSec=", "activeDeadlineSeconds" } },
        { .key = "kill_grace", .target = { "TimeoutStopSec=", "terminationGracePeriodSeconds" } },
        { .key = "overlap",
          .target = { "skip only (a timer never starts its service while it runs)", "spec.concurrencyPolicy" } },
        { "random_delay",
          { "RandomizedDelaySec=", NULL },
          set_random_delay,
          { false, false },
          { NULL, "Kubernetes has no random delay: runs start on time" } },
        { .key = "persistent", .target = { "Persistent=", "spec.startingDeadlineSeconds" } },
        { .key = "environment", .target = { "Environment=", "the container's env" } },
        { .key = "working_directory",
          .target = { "WorkingDirectory= (~ when not set)", "the container's workingDir" } },
        { .key = "umask", .target = { "UMask=", "'umask' before the command" } },
        { "nice",
          { "Nice=", NULL },
          set_nice,
          { false, false },
          { NULL, "Kubernetes has no nice value: the job runs at the container's" } },
        { "on_failure",
          { "OnFailure= NAME-on-failure.service", NULL },
          set_on_failure,
          { false, true },
          { NULL, "a CronJob has no command to run when a run fails" } },
        /* A job fed its input would run without it: not the same job. */
        { "stdin",
          { NULL, NULL },
          set_stdin,
          { true, true },
          { "not exported: write the input into the command (a here-document) or give the service "
            "StandardInputText= by hand",
            "a CronJob's container has no input text: write it into the command" } },
        { "mail_to",
          { NULL, NULL },
          set_mail_to,
          { false, false },
          { "a timer mails nobody: add OnFailure= to a unit that mails, or read the journal",
            "a CronJob mails nobody: the run's output is in its pod's log" } },
        /* Judged with mail_to, which it only qualifies. */
        { .key = "mail_on" },
        /* A pod's limits are the container's, not the run's: not claimed. */
        { "memory_max",
          { "MemoryMax=", NULL },
          set_memory_max,
          { false, false },
          { NULL, "set the container's resources.limits.memory yourself" } },
        { "cpu_quota",
          { "CPUQuota=", NULL },
          set_cpu_quota,
          { false, false },
          { NULL, "set the container's resources.limits.cpu yourself" } },
        { "tasks_max",
          { "TasksMax=", NULL },
          set_tasks_max,
          { false, false },
          { NULL, "Kubernetes sets a pod's process limit per node (podPidsLimit), not per CronJob" } },
        { "io_weight",
          { "IOWeight=", NULL },
          set_io_weight,
          { false, false },
          { NULL, "Kubernetes has no I/O weight" } },
        /* A service's leftovers die with it (KillMode=control-group), as a pod's. */
        { .key = "kill_leftovers",
          .target = { "KillMode=control-group (systemd's default)", "the pod ends with its containers" } },
        { "pam",
          { "PAMName=tickd", NULL },
          set_pam,
          { false, false },
          { NULL, "a container has no PAM session: limits.conf does not apply" } },
        { .key = "enabled", .target = { "no [Install] in the timer (it cannot be enabled)", "spec.suspend" } },
        { .key = "scope",
          .target = { "none: each host that installs the units runs them", "one run per instant in the cluster" } },
};

const char *export_key_target(const char *key, enum export_format format, bool *known)
{
        for (size_t i = 0; i < ELEMENTSOF(rules); i++)
                if (strcmp(rules[i].key, key) == 0) {
                        *known = true;
                        return rules[i].target[format];
                }
        *known = false;
        return NULL;
}

static unsigned job_line(const struct job *job, const char *key)
{
        if (key && strcmp(key, "schedule") == 0 && job->schedule_line)
                return job->schedule_line;
        return job->line;
}

int export_diag(struct diagnostics *d, enum diag_severity severity, const struct job *job, const char *key,
                const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *message = NULL;
        int n = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        return diag_add_key(d, severity, job->file, job_line(job, key), key, "job '%s': %s%s%s", job->name,
                            key ? key : "", key ? ": " : "", message);
}

int export_check_rules(const struct job *job, enum export_format format, struct diagnostics *diags, bool *refused)
{
        for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
                const struct key_rule *r = &rules[i];
                if (r->target[format] || !r->is_set || !r->is_set(job))
                        continue;
                enum diag_severity sev = r->refuse[format] ? DIAG_ERROR : DIAG_WARNING;
                if (export_diag(diags, sev, job, r->key, "%s%s", r->why[format],
                                r->refuse[format] ? "" : " (exported without it)") < 0)
                        return -ENOMEM;
                if (r->refuse[format])
                        *refused = true;
        }
        return 0;
}

int export_files_add(struct export_files *out, const char *name, char *text)
{
        char *copy = strdup(name);
        struct export_file *items = copy ? realloc(out->items, (out->count + 1) * sizeof(*items)) : NULL;
        if (!items) {
                free(copy);
                free(text);
                return -ENOMEM;
        }
        out->items = items;
        out->items[out->count].name = copy;
        out->items[out->count].text = text;
        out->count++;
        return 0;
}

void export_files_free(struct export_files *files)
{
        for (size_t i = 0; i < files->count; i++)
                free(files->items[i].name), free(files->items[i].text);
        free(files->items);
        *files = (struct export_files){ 0 };
}

const struct tz *export_job_zone(const struct job *job)
{
        return schedule_zone(job->schedule) ? schedule_zone(job->schedule) : job->zone;
}

#define YEAR_SECONDS (366 * INT64_C(86400))

/* Whether a run of S in ZONE differs between tickd and the other
 * scheduler around the DST change at T by D seconds: a fixed time in a
 * spring-forward gap (tickd runs it when the gap ends; systemd and
 * Kubernetes' cron library, robfig/cron, skip it: robfig/cron#541), or a
 * cadence run in the second pass of a fall-back hour (systemd runs a
 * repeated local time once; what robfig/cron does there is not known to
 * us, so it is not claimed). */
static bool dst_differs(const struct schedule *s, const struct tz *zone, int64_t t, int64_t d)
{
        struct schedule_fire f;
        if (d < 0)
                return schedule_next_fire(s, zone, t - 1, &f) == 0 && f.at < t - d && f.dst == SCHEDULE_DST_OVERLAP;
        return schedule_fires_in_gap(s, zone, t, d);
}

int export_warn_dst(const struct job *job, const struct export_options *options, struct diagnostics *diags)
{
        static const char *const names[] = { [EXPORT_SYSTEMD] = "systemd", [EXPORT_KUBERNETES] = "Kubernetes" };
        int64_t now = options->now;
        const struct tz *zone = export_job_zone(job);
        if (schedule_kind(job->schedule) != SCHEDULE_CRON && schedule_kind(job->schedule) != SCHEDULE_CALENDAR)
                return 0;
        struct tz_dates gaps = { "", 0 }, overlaps = { "", 0 };
        int64_t t = now;
        for (int guard = 0; guard < 64; guard++) {
                struct tz_span span;
                tz_span_at(zone, t, &span);
                if (span.end == INT64_MAX || span.end > now + YEAR_SECONDS)
                        break;
                t = span.end;
                int64_t change = (int64_t)span.next_offset - span.offset;
                if ((change > 0 || options->format == EXPORT_SYSTEMD) && dst_differs(job->schedule, zone, t, change))
                        tz_dates_add(change > 0 ? &gaps : &overlaps, zone, t);
        }
        if (gaps.n && export_diag(diags, DIAG_WARNING, job, "schedule",
                                  "on %s (DST gap in %s) %s skips the run whose local time does not exist; "
                                  "tickd runs it when the gap ends",
                                  gaps.text, tz_name(zone), names[options->format]) < 0)
                return -ENOMEM;
        if (overlaps.n && export_diag(diags, DIAG_WARNING, job, "schedule",
                                      "on %s (DST overlap in %s) systemd runs the repeated hour once; tickd keeps "
                                      "the job's cadence and runs it in both passes",
                                      overlaps.text, tz_name(zone)) < 0)
                return -ENOMEM;
        return 0;
}

int export_job(const struct job *job, const struct export_options *options, struct export_files *out,
               struct diagnostics *diags)
{
        bool refused = false;
        int r = export_check_rules(job, options->format, diags, &refused);
        if (r < 0)
                return r;
        /* The format's own judgement runs even when a rule refused the job,
         * so that one run reports every reason. */
        struct export_files files = { 0 };
        r = options->format == EXPORT_SYSTEMD ? export_systemd(job, options, &files, diags)
                                              : export_kubernetes(job, options, &files, diags);
        if (r >= 0 && refused)
                r = -EOPNOTSUPP;
        if (r < 0) {
                export_files_free(&files);
                return r;
        }
        /* all of the job's files or none: one realloc, then moves only */
        struct export_file *items =
                files.count ? realloc(out->items, (out->count + files.count) * sizeof(*items)) : out->items;
        if (!items && files.count) {
                export_files_free(&files);
                return -ENOMEM;
        }
        out->items = items;
        for (size_t i = 0; i < files.count; i++)
                out->items[out->count++] = files.items[i];
        free(files.items);
        return 0;
}

char *export_unit_name(const char *name)
{
        size_t len = strlen(name);
        char *out = malloc(len * 4 + 1), *p = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)name[i];
                bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
                             c == '_' || c == '-' || (c == '.' && i > 0);
                if (plain)
                        *p++ = (char)c;
                else
                        p += sprintf(p, "\\x%02x", c);
        }
        *p = '\0';
        return out;
}

char *export_systemd_quote(const char *string, bool no_expand)
{
        size_t len = strlen(string);
        char *out = malloc(len * 4 + 3), *p = out;
        if (!out)
                return NULL;
        *p++ = '"';
        for (const unsigned char *s = (const unsigned char *)string; *s; s++) {
                if (*s == '"' || *s == '\\')
                        *p++ = '\\', *p++ = (char)*s;
                else if (*s == '\n')
                        *p++ = '\\', *p++ = 'n';
                else if (*s == '\t')
                        *p++ = '\\', *p++ = 't';
                else if (*s < 0x20 || *s == 0x7f)
                        p += sprintf(p, "\\x%02x", *s);
                else if (*s == '%' || (*s == '$' && no_expand))
                        *p++ = (char)*s, *p++ = (char)*s;
                else
                        *p++ = (char)*s;
        }
        *p++ = '"';
        *p = '\0';
        return out;
}

/* A free-text value (Description=): one line, '%' doubled. */
void export_put_plain(struct strbuf *f, const char *s)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c < 0x20 || c == 0x7f)
                        strbuf_putc(f, ' ');
                else if (c == '%')
                        strbuf_puts(f, "%%");
                else
                        strbuf_putc(f, c);
        }
}
