/* export-kubernetes.c — a job as one batch/v1 CronJob YAML document; see
 * export.h. Every string is written double-quoted and escaped, so no
 * command, name or value can change the document's structure. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/export-internal.h"
#include "core/strbuf.h"
#include "core/timespan.h"

/* CronJob names: a DNS label of at most 52 characters (Kubernetes adds 11
 * for the Jobs it creates). */
#define NAME_MAX_LEN 52
/* Runs sampled for the shortest interval (startingDeadlineSeconds). */
#define INTERVAL_SAMPLES 500

/* The code point at S (LEN bytes valid UTF-8, shortest form, no
 * surrogates), or -1. */
static long utf8_decode(const unsigned char *s, int *len)
{
        static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        int n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
        if (!n)
                return -1;
        long c = n == 1 ? s[0] : s[0] & (0x7f >> n);
        for (int i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return -1;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return -1;
        *len = n;
        return c;
}

/* Characters YAML would not take literally inside double quotes: C0, DEL,
 * C1 (NEL is a line break), the Unicode line and paragraph separators,
 * the byte-order mark and the non-characters U+FFFE/U+FFFF. */
static bool yaml_needs_escape(long c)
{
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x2028 || c == 0x2029 || c == 0xfeff || c == 0xfffe ||
               c == 0xffff;
}

char *export_yaml_quote(const char *string, int *error)
{
        size_t len = strlen(string);
        char *out = malloc(len * 6 + 3), *p = out;
        if (!out) {
                *error = -ENOMEM;
                return NULL;
        }
        *p++ = '"';
        for (const unsigned char *s = (const unsigned char *)string; *s;) {
                int n;
                long c = utf8_decode(s, &n);
                if (c < 0) {
                        free(out);
                        *error = -EILSEQ;
                        return NULL;
                }
                if (c == '"' || c == '\\')
                        *p++ = '\\', *p++ = (char)c;
                else if (c == '\n')
                        *p++ = '\\', *p++ = 'n';
                else if (c == '\t')
                        *p++ = '\\', *p++ = 't';
                else if (yaml_needs_escape(c))
                        p += sprintf(p, "\\u%04lx", c);
                else {
                        memcpy(p, s, (size_t)n);
                        p += n;
                }
                s += n;
        }
        *p++ = '"';
        *p = '\0';
        return out;
}

/* The job's name as a CronJob's: lower case, '_' and '.' as '-'; NULL
 * with a reason when it cannot be one. */
static char *cronjob_name(const char *name, const char **why)
{
        size_t len = strlen(name);
        if (len > NAME_MAX_LEN) {
                *why = "longer than the 52 characters of a CronJob name";
                return NULL;
        }
        char *out = strdup(name);
        if (!out) {
                *why = NULL;
                return NULL;
        }
        for (char *p = out; *p; p++) {
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
                else if (*p == '_' || *p == '.')
                        *p = '-';
                else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-')) {
                        *why = "not a DNS label (letters, digits, '-', '_' and '.' only)";
                        free(out);
                        return NULL;
                }
        }
        if (!len || out[0] == '-' || out[len - 1] == '-') {
                *why = "not a DNS label (it must start and end with a letter or digit)";
                free(out);
                return NULL;
        }
        return out;
}

/* The shortest time between two runs over the next INTERVAL_SAMPLES, in
 * seconds: a missed run may still start until the next one is due. */
static int64_t shortest_interval(const struct job *job, int64_t now)
{
        if (schedule_kind(job->schedule) == SCHEDULE_EVERY)
                return (int64_t)schedule_period(job->schedule);
        const struct tz *zone = export_job_zone(job);
        int64_t prev, next, shortest = 0;
        if (schedule_next(job->schedule, zone, now, &prev) < 0)
                return 0;
        for (int i = 0; i < INTERVAL_SAMPLES && schedule_next(job->schedule, zone, prev, &next) == 0; i++) {
                if (!shortest || next - prev < shortest)
                        shortest = next - prev;
                prev = next;
        }
        return shortest;
}

static int64_t seconds_up(uint64_t usec) { return (int64_t)((usec + USEC_PER_SEC - 1) / USEC_PER_SEC); }

/* Writes "KEY: QUOTED" at INDENT ("- QUOTED" for KEY "-"); -EILSEQ for
 * VALUE that is not UTF-8. */
static int put_string(struct strbuf *f, int indent, const char *key, const char *value)
{
        int error = 0;
        _cleanup_free_ char *q = export_yaml_quote(value, &error);
        if (!q)
                return error;
        if (strcmp(key, "-") == 0)
                strbuf_printf(f, "%*s- %s\n", indent, "", q);
        else
                strbuf_printf(f, "%*s%s: %s\n", indent, "", key, q);
        return 0;
}

static int put_env(struct strbuf *f, const struct job *job)
{
        strbuf_puts(f, "            env:\n");
        int r = 0;
        _cleanup_free_ char *job_env = NULL;
        if (asprintf(&job_env, "TICKD_JOB=%s", job->name) < 0)
                return -ENOMEM;
        for (size_t i = 0; r == 0; i++) {
                const char *e = i == 0 ? job_env : job->environment ? job->environment[i - 1] : NULL;
                if (!e)
                        break;
                size_t n = strcspn(e, "=");
                _cleanup_free_ char *name = strndup(e, n);
                if (!name)
                        return -ENOMEM;
                if ((r = put_string(f, 12, "- name", name)) == 0)
                        r = put_string(f, 14, "value", e[n] ? e + n + 1 : "");
        }
        return r;
}

static int put_container(struct strbuf *f, const struct job *job, const struct export_options *options)
{
        _cleanup_free_ char *command = NULL;
        int r = job_extra(job)->umask >= 0
                        ? asprintf(&command, "umask %04o; %s", (unsigned)job_extra(job)->umask, job->command)
                        : asprintf(&command, "%s", job->command);
        if (r < 0)
                return -ENOMEM;
        strbuf_puts(f, "          containers:\n");
        if ((r = put_string(f, 10, "- name", "job")) < 0 ||
            (r = put_string(f, 12, "image", options->image ? options->image : EXPORT_DEFAULT_IMAGE)) < 0)
                return r;
        strbuf_puts(f, "            command:\n");
        if ((r = put_string(f, 12, "-", "/bin/sh")) < 0 || (r = put_string(f, 12, "-", "-c")) < 0 ||
            (r = put_string(f, 12, "-", command)) < 0)
                return r;
        if (job_extra(job)->working_directory &&
            (r = put_string(f, 12, "workingDir", job_extra(job)->working_directory)) < 0)
                return r;
        return put_env(f, job);
}

static int refuse(const struct job *job, struct diagnostics *diags, const char *key, const char *why)
{
        return export_diag(diags, DIAG_ERROR, job, key, "%s", why) < 0 ? -ENOMEM : -EOPNOTSUPP;
}

/* The schedule's cron fields and zone, or refusals. */
static int kube_schedule(const struct job *job, char **cron, const char **zone, struct diagnostics *diags)
{
        char err[256] = "";
        bool utc;
        int r = schedule_to_cron(job->schedule, cron, &utc, err, sizeof(err));
        if (r == -EOPNOTSUPP)
                return refuse(job, diags, "schedule", err);
        if (r < 0)
                return r;
        *zone = utc ? "UTC" : tz_name(export_job_zone(job));
        if (strcmp(*zone, "localtime") == 0 &&
            export_diag(diags, DIAG_WARNING, job, "timezone",
                        "the zone is a copied zone file with no name: spec.timeZone is left out, so the schedule "
                        "runs in kube-controller-manager's zone") < 0)
                return -ENOMEM;
        return 0;
}

static int write_spec(struct strbuf *f, const struct job *job, const struct export_options *options, const char *cron,
                      const char *zone)
{
        static const char *const policy[] = {
                [OVERLAP_SKIP] = "Forbid", [OVERLAP_ALLOW] = "Allow", [OVERLAP_REPLACE] = "Replace"
        };
        int r;
        strbuf_puts(f, "spec:\n");
        if ((r = put_string(f, 2, "schedule", cron)) < 0)
                return r;
        if (strcmp(zone, "localtime") != 0 && (r = put_string(f, 2, "timeZone", zone)) < 0)
                return r;
        strbuf_printf(f, "  concurrencyPolicy: \"%s\"\n", policy[job->overlap]);
        if (job->persistent) {
                int64_t deadline = shortest_interval(job, options->now);
                if (deadline > 0)
                        strbuf_printf(f, "  startingDeadlineSeconds: %" PRId64 "\n", deadline);
        }
        strbuf_printf(f, "  suspend: %s\n", job->enabled ? "false" : "true");
        strbuf_puts(f, "  jobTemplate:\n    spec:\n");
        /* tickd never retries a failed run */
        strbuf_puts(f, "      backoffLimit: 0\n");
        if (job->timeout_usec)
                strbuf_printf(f, "      activeDeadlineSeconds: %" PRId64 "\n", seconds_up(job->timeout_usec));
        strbuf_puts(f, "      template:\n        spec:\n          restartPolicy: \"Never\"\n");
        strbuf_printf(f, "          terminationGracePeriodSeconds: %" PRId64 "\n",
                      seconds_up(job_extra(job)->kill_grace_usec));
        return put_container(f, job, options);
}

static int write_manifest(struct strbuf *f, const struct job *job, const struct export_options *options,
                          const char *name, const char *cron, const char *zone)
{
        int r;
        strbuf_puts(f, "---\n# Exported by tickctl export from ");
        export_put_plain(f, job->file ? job->file : "-");
        strbuf_printf(f, ":%u\napiVersion: \"batch/v1\"\nkind: \"CronJob\"\nmetadata:\n", job->line);
        if ((r = put_string(f, 2, "name", name)) < 0)
                return r;
        strbuf_puts(f, "  annotations:\n");
        if ((r = put_string(f, 4, "tickd/job", job->name)) < 0)
                return r;
        if (job_extra(job)->description && (r = put_string(f, 4, "tickd/description", job_extra(job)->description)) < 0)
                return r;
        return write_spec(f, job, options, cron, zone);
}

int export_kubernetes(const struct job *job, const struct export_options *options, struct export_files *out,
                      struct diagnostics *diags)
{
        int refused = 0;
        if (job->overlap == OVERLAP_QUEUE)
                refused = refuse(job, diags, "overlap",
                                 "queue: a CronJob's concurrencyPolicy is Allow, Forbid or Replace, and none "
                                 "queues a run behind the running one");
        const char *why = NULL;
        _cleanup_free_ char *name = cronjob_name(job->name, &why);
        if (!name && !why)
                return -ENOMEM;
        if (!name && refused != -ENOMEM)
                refused = refuse(job, diags, NULL, why);
        _cleanup_free_ char *cron = NULL;
        const char *zone = NULL;
        int r = refused == -ENOMEM ? refused : kube_schedule(job, &cron, &zone, diags);
        if (r == -ENOMEM || refused == -ENOMEM)
                return -ENOMEM;
        if (r < 0 || refused < 0)
                return -EOPNOTSUPP;
        if (export_warn_dst(job, options, diags) < 0)
                return -ENOMEM;

        struct strbuf b = { 0 };
        r = write_manifest(&b, job, options, name, cron, zone);
        char *buf = r < 0 ? NULL : strbuf_take(&b);
        strbuf_free(&b);
        if (r == -EILSEQ)
                return refuse(job, diags, NULL, "a value is not UTF-8, which YAML cannot hold");
        if (!buf)
                return -ENOMEM;
        _cleanup_free_ char *file = NULL;
        if (asprintf(&file, "%s.yaml", name) < 0) {
                free(buf);
                return -ENOMEM;
        }
        return export_files_add(out, file, buf);
}
