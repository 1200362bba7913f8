/* test-export.c — `tickctl export` against the real consumers: every
 * exported unit passes `systemd-analyze verify`; `systemd-analyze
 * calendar` on the exported OnCalendar= lines gives the instants `tickctl
 * next` gives, for 50 schedules (DST differences exactly where the export
 * warns of them); Kubernetes manifests parse back and validate against
 * the batch/v1 CronJob schema (tests/tickctl/kubernetes), field by field. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness.h"

#define ITERATIONS 20
#define MAX_FIRES  (2 * ITERATIONS)

static char *tmp;

static void tmp_setup(void) { tmp = harness_tmpdir(); }
static void tmp_teardown(void)
{
        harness_tmpdir_remove(tmp);
        tmp = NULL;
}

/* Runs ARGV with TZ=UTC; returns the exit status, output in OUT/ERR. */
static int run(char *const argv[], char **out, char **err)
{
        char *env[] = { "TZ=UTC", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_LOG_COLOR=0", "HOME=/root", NULL };
        int status = harness_run(argv, env, out, err);
        ck_assert(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static char *export_to(const char *crontab, const char *format, const char *dir, int *status, char **err)
{
        char *out = NULL;
        char *argv[] = { (char *)harness_binary("tickctl"),
                         "export",
                         "--format",
                         (char *)format,
                         "--config-dir",
                         tmp,
                         (char *)crontab,
                         dir ? "--output-dir" : NULL,
                         (char *)dir,
                         NULL };
        *status = run(argv, &out, err);
        return out;
}

START_TEST(units_pass_systemd_analyze_verify)
{
        char user[64], text[4096], units[4200];
        harness_user_add("tkexp", user, sizeof(user), NULL, NULL);
        snprintf(text, sizeof(text),
                 "[backup]\nschedule = 30 2 * * *\ntimezone = Europe/Berlin\n"
                 "command = tar czf /tmp/b-$(date +%%F).tgz /etc && echo \"100%% done: 'ok'\"\n"
                 "user = %s\ngroup = %s\ntimeout = 2h 30min\nkill_grace = 30s\npersistent = yes\n"
                 "random_delay = 5m\nenvironment = LANG=C.UTF-8\nenvironment = \"A=b c\"\n"
                 "working_directory = /tmp\numask = 027\nnice = 10\ndescription = Nightly: \"all\" 50%%\n"
                 "on_failure = logger -t backup \"failed: $TICKD_EXIT_STATUS\"\n"
                 "[vixie]\nschedule = 0 12 1,15 * mon-fri\ncommand = echo vixie\n"
                 "[every]\nschedule = @every 90m\ncommand = echo every\n"
                 "[boot]\nschedule = @reboot\ncommand = echo boot\n"
                 "[calendar]\nschedule = Mon..Fri *-*-~1 09:00 America/New_York\ncommand = echo cal\n"
                 "[off]\nschedule = */5 * * * *\ncommand = echo off\nenabled = no\n"
                 "[.dotted_name-1]\nschedule = @hourly\ncommand = echo dotted\n",
                 user, user);
        _cleanup_free_ char *crontab = harness_write_file(tmp, "jobs.ini", text);
        snprintf(units, sizeof(units), "%s/units", tmp);
        int status;
        _cleanup_free_ char *err = NULL;
        free(export_to(crontab, "systemd", units, &status, &err));
        ck_assert_msg(status == 0, "export: %d: %s", status, err);

        /* every file written, each verified on its own: a unit that only
         * loads because of another would hide a broken reference */
        const char *names[] = { "backup.service",
                                "backup.timer",
                                "backup-on-failure.service",
                                "vixie.service",
                                "vixie.timer",
                                "every.service",
                                "every.timer",
                                "boot.service",
                                "boot.timer",
                                "calendar.service",
                                "calendar.timer",
                                "off.service",
                                "off.timer",
                                "\\x2edotted_name-1.service",
                                "\\x2edotted_name-1.timer" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char path[4400], unit_path[4300];
                snprintf(path, sizeof(path), "%s/%s", units, names[i]);
                snprintf(unit_path, sizeof(unit_path), "SYSTEMD_UNIT_PATH=%s:", units);
                char *argv[] = { "/usr/bin/systemd-analyze", "verify", "--man=no", path, NULL };
                char *env[] = { unit_path, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_LOG_COLOR=0", NULL };
                _cleanup_free_ char *out = NULL, *verr = NULL;
                int st = harness_run(argv, env, &out, &verr);
                ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "verify %s failed: %s", names[i], verr);
                /* verify reports unknown keys and bad values as warnings: none */
                ck_assert_msg(!verr || !*verr, "verify %s: %s", names[i], verr);
        }
        harness_user_del(user);
}
END_TEST

/* "YYYY-MM-DD HH:MM:SS" in UTC as seconds since the epoch. */
static long long utc_seconds(const char *s)
{
        struct tm tm = { 0 };
        ck_assert_ptr_nonnull(strptime(s, "%Y-%m-%d %H:%M:%S", &tm));
        return (long long)timegm(&tm);
}

static int cmp_ll(const void *a, const void *b)
{
        long long x = *(const long long *)a, y = *(const long long *)b;
        return x < y ? -1 : x > y;
}

/* The instants systemd-analyze calendar prints (TZ=UTC), sorted, unique. */
static size_t systemd_fires(char **lines, size_t n_lines, long long base, long long *fires)
{
        char iterations[32], base_time[64];
        snprintf(iterations, sizeof(iterations), "--iterations=%d", ITERATIONS);
        snprintf(base_time, sizeof(base_time), "--base-time=@%lld", base);
        char *argv[8] = { "/usr/bin/systemd-analyze", "calendar", iterations, base_time };
        size_t argc = 4;
        for (size_t i = 0; i < n_lines; i++)
                argv[argc++] = lines[i];
        argv[argc] = NULL;
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_msg(run(argv, &out, &err) == 0, "systemd-analyze calendar: %s", err);
        size_t n = 0;
        /* "    Next elapse: Tue 2026-12-15 12:00:00 UTC", "       Iter. #2: ..." */
        for (char *line = strtok(out, "\n"); line && n < MAX_FIRES * 2; line = strtok(NULL, "\n")) {
                if (!strstr(line, "Next elapse:") && !strstr(line, "Iter. #"))
                        continue;
                char *end = strstr(line, " UTC");
                ck_assert_msg(end && end - line >= 19, "unexpected line '%s'", line);
                fires[n++] = utc_seconds(end - 19);
        }
        qsort(fires, n, sizeof(*fires), cmp_ll);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
                if (!u || fires[u - 1] != fires[i])
                        fires[u++] = fires[i];
        return u;
}

/* tickctl next's instants ("2026-01-01T06:00:00+05:45") as epoch seconds. */
static size_t tickd_fires(const char *expr, const char *zone, long long base, long long *fires)
{
        char after[32], count[16];
        snprintf(after, sizeof(after), "@%lld", base);
        snprintf(count, sizeof(count), "%d", ITERATIONS);
        char *argv[] = { (char *)harness_binary("tickctl"),
                         "next",
                         "--tz",
                         (char *)zone,
                         "--after",
                         after,
                         "--count",
                         count,
                         "--",
                         (char *)expr,
                         NULL };
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_msg(run(argv, &out, &err) == 0, "tickctl next '%s': %s", expr, err);
        size_t n = 0;
        for (char *line = strtok(out, "\n"); line && n < MAX_FIRES; line = strtok(NULL, "\n")) {
                char civil[20];
                int oh, om;
                char sign;
                ck_assert_int_eq(sscanf(line, "%10[0-9-]T%8[0-9:]%c%d:%d", civil, civil + 11, &sign, &oh, &om), 5);
                civil[10] = ' ';
                long long offset = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
                fires[n++] = utc_seconds(civil) - offset;
        }
        return n;
}

static const struct calendar_case {
        const char *expr, *zone;
        const char *base; /* UTC */
        int tickd_only;   /* instants tickd runs and systemd does not (DST) */
} calendar_cases[] = {
        { "* * * * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "*/7 * * * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "5-50/15 * * * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 */3 * * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "15 9-17 * * mon-fri", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 0 1 * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 0 31 * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 0 29 2 *", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 12 1,15 * mon-fri", "UTC", "2026-01-01 00:00:00", 0 },
        { "30 8 13 * fri", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 0 * jan,jul sun", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 6 1-7 * mon", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 22 * * 1-5", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 0 * * 7", "UTC", "2026-01-01 00:00:00", 0 },
        { "@hourly", "UTC", "2026-01-01 00:00:00", 0 },
        { "@daily", "UTC", "2026-01-01 00:00:00", 0 },
        { "@weekly", "UTC", "2026-01-01 00:00:00", 0 },
        { "@monthly", "UTC", "2026-01-01 00:00:00", 0 },
        { "@yearly", "UTC", "2026-01-01 00:00:00", 0 },
        { "15,45 */2 * * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "0 9 * feb-apr sat,sun", "UTC", "2026-01-01 00:00:00", 0 },
        { "*/20 * * * * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "30 */10 * * * *", "UTC", "2026-01-01 00:00:00", 0 },
        { "@every 15m", "UTC", "2026-01-01 00:07:00", 0 },
        { "@every 90m", "UTC", "2026-01-01 00:07:00", 0 },
        { "@every 1h", "UTC", "2026-01-01 00:07:00", 0 },
        { "@every 45s", "UTC", "2026-01-01 00:07:00", 0 },
        { "Mon..Fri *-*-* 09:00:00", "UTC", "2026-01-01 00:00:00", 0 },
        { "*-*-01 00:00", "UTC", "2026-01-01 00:00:00", 0 },
        { "*:0/15", "UTC", "2026-01-01 00:00:00", 0 },
        { "*-*~1 12:00", "UTC", "2026-01-01 00:00:00", 0 },
        { "*-02-~1", "UTC", "2026-01-01 00:00:00", 0 },
        { "Sat,Sun *-*-* 10:00", "UTC", "2026-01-01 00:00:00", 0 },
        { "2027..2031/2-06-15 12:00", "UTC", "2026-01-01 00:00:00", 0 },
        { "*-*-* 08..18/2:30:00", "UTC", "2026-01-01 00:00:00", 0 },
        { "quarterly", "UTC", "2026-01-01 00:00:00", 0 },
        /* time zones, across DST changes */
        { "30 2 * * *", "Europe/Berlin", "2026-03-28 00:00:00", 1 },   /* gap: tickd at 03:00 */
        { "30 2 * * *", "Europe/Berlin", "2026-10-24 00:00:00", 0 },   /* overlap: both the first */
        { "*/30 * * * *", "Europe/Berlin", "2026-10-25 00:10:00", 2 }, /* the repeated hour's second pass */
        { "*/30 * * * *", "Europe/Berlin", "2026-03-29 00:10:00", 0 },
        { "0 * * * *", "America/New_York", "2026-11-01 04:00:00", 1 },
        { "0 2 * * *", "America/New_York", "2026-03-07 12:00:00", 1 },
        { "0 1 * * *", "America/New_York", "2026-10-31 12:00:00", 0 },
        { "0 9 * * mon-fri", "America/New_York", "2026-03-01 00:00:00", 0 },
        { "0 2 * * *", "Australia/Sydney", "2026-10-03 00:00:00", 1 },
        { "30 2 * * sun", "Australia/Sydney", "2026-04-01 00:00:00", 0 },
        { "0 6 * * *", "Asia/Kathmandu", "2026-01-01 00:00:00", 0 },
        { "*/15 * * * *", "Asia/Kolkata", "2026-01-01 00:00:00", 0 },
        { "0 12 1,15 * mon-fri", "Europe/Berlin", "2026-03-20 00:00:00", 0 },
        { "*-*-* 02:30 Europe/Berlin", "UTC", "2026-03-28 00:00:00", 1 },
        { "@every 15m", "Europe/Berlin", "2026-10-25 00:07:00", 0 },
};

START_TEST(calendar_matches_tickctl_next)
{
        const struct calendar_case *c = &calendar_cases[_i];
        char text[512];
        snprintf(text, sizeof(text), "[j]\nschedule = %s\ntimezone = %s\ncommand = true\n", c->expr, c->zone);
        _cleanup_free_ char *crontab = harness_write_file(tmp, "j.ini", text);
        int status;
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ char *units = export_to(crontab, "systemd", NULL, &status, &err);
        ck_assert_msg(status == 0, "%s: export: %s", c->expr, err);
        /* a difference is never silent (the warning looks a year ahead of
         * today: a zone with DST has such a day every year) */
        if (c->tickd_only > 0)
                ck_assert_msg(strstr(err, "DST"), "%s: no DST warning: '%s'", c->expr, err);
        char *lines[4] = { NULL };
        size_t n_lines = 0;
        for (char *p = units; (p = strstr(p, "\nOnCalendar=")); p++) {
                ck_assert_uint_lt(n_lines, ELEMENTSOF(lines));
                p += strlen("\nOnCalendar=");
                lines[n_lines++] = strndup(p, strcspn(p, "\n"));
        }
        ck_assert_uint_gt(n_lines, 0);

        long long base = utc_seconds(c->base), theirs[MAX_FIRES * 2], ours[MAX_FIRES];
        size_t n_theirs = systemd_fires(lines, n_lines, base, theirs);
        size_t n_ours = tickd_fires(c->expr, c->zone, base, ours);
        for (size_t i = 0; i < n_lines; i++)
                free(lines[i]);
        ck_assert_uint_ge(n_ours, 1);
        ck_assert_uint_ge(n_theirs, 1);
        long long limit = ours[n_ours - 1] < theirs[n_theirs - 1] ? ours[n_ours - 1] : theirs[n_theirs - 1];
        int only_ours = 0, only_theirs = 0;
        size_t i = 0, j = 0;
        while ((i < n_ours && ours[i] <= limit) || (j < n_theirs && theirs[j] <= limit)) {
                bool a = i < n_ours && ours[i] <= limit, b = j < n_theirs && theirs[j] <= limit;
                if (a && b && ours[i] == theirs[j])
                        i++, j++;
                else if (a && (!b || ours[i] < theirs[j])) {
                        fprintf(stderr, "%s (%s): only tickd at %lld\n", c->expr, c->zone, ours[i]);
                        only_ours++, i++;
                } else {
                        fprintf(stderr, "%s (%s): only systemd at %lld\n", c->expr, c->zone, theirs[j]);
                        only_theirs++, j++;
                }
        }
        /* enough was compared: half the runs, or all of a schedule that ends */
        ck_assert_uint_ge(i, n_ours < ITERATIONS ? n_ours : ITERATIONS / 2);
        ck_assert_msg(only_theirs == 0 && only_ours == c->tickd_only,
                      "%s in %s: %d only tickd (expected %d), %d only systemd", c->expr, c->zone, only_ours,
                      c->tickd_only, only_theirs);
}
END_TEST

static const char *schema(void) { return harness_source_path("tests/tickctl/kubernetes/cronjob-batch-v1.json"); }

static int check_manifests(const char *manifest, const char *const *claims, char **out)
{
        char checker[4200], schema_path[4200];
        snprintf(checker, sizeof(checker), "%s", harness_source_path("tests/tickctl/kubernetes/check-cronjob.py"));
        snprintf(schema_path, sizeof(schema_path), "%s", schema());
        char *argv[40] = { "/usr/bin/python3", checker, schema_path, (char *)manifest };
        size_t argc = 4;
        for (; claims && *claims && argc < ELEMENTSOF(argv) - 1; claims++)
                argv[argc++] = (char *)*claims;
        argv[argc] = NULL;
        return run(argv, out, NULL);
}

START_TEST(manifests_validate_against_the_cronjob_schema)
{
        _cleanup_free_ char *crontab =
                harness_write_file(tmp, "jobs.ini",
                                   "[Nightly_Backup]\nschedule = 30 2 * * 1-5\ntimezone = Europe/Berlin\n"
                                   "command = echo \"a: b\" 'c' # d\n  && printf '%s\\n' \"{x: [y]}\"\n"
                                   "description = backup: \"nightly\" - ok\n"
                                   "timeout = 90s\nkill_grace = 1500ms\npersistent = yes\n"
                                   "environment = A=x: y\nenvironment = \"B=multi word: 'q'\"\n"
                                   "working_directory = /srv\numask = 077\nenabled = no\n"
                                   "[every]\nschedule = @every 15m\ncommand = true\noverlap = replace\n"
                                   "[vixie]\nschedule = 0 12 1,15 * mon-fri\ncommand = yes: no\noverlap = allow\n"
                                   "[refused]\nschedule = */10 * * * * *\ncommand = true\n");
        _cleanup_free_ char *manifest_path = NULL;
        ck_assert_int_ge(asprintf(&manifest_path, "%s/cronjobs.yaml", tmp), 0);
        int status;
        _cleanup_free_ char *err = NULL;
        _cleanup_free_ char *yaml = export_to(crontab, "kubernetes", NULL, &status, &err);
        /* the refused job is named, the others are still exported */
        ck_assert_int_eq(status, 1);
        ck_assert_ptr_nonnull(strstr(err, "job 'refused': schedule: a seconds field"));
        free(harness_write_file(tmp, "cronjobs.yaml", yaml));

        const char *const claims[] = {
                "nightly-backup:apiVersion=\"batch/v1\"",
                "nightly-backup:kind=\"CronJob\"",
                "nightly-backup:metadata.annotations.tickd/job=\"Nightly_Backup\"",
                "nightly-backup:metadata.annotations.tickd/description=\"backup: \\\"nightly\\\" - ok\"",
                "nightly-backup:spec.schedule=\"30 2 * * 1-5\"",
                "nightly-backup:spec.timeZone=\"Europe/Berlin\"",
                "nightly-backup:spec.concurrencyPolicy=\"Forbid\"",
                "nightly-backup:spec.startingDeadlineSeconds=86400",
                "nightly-backup:spec.suspend=true",
                "nightly-backup:spec.jobTemplate.spec.activeDeadlineSeconds=90",
                "nightly-backup:spec.jobTemplate.spec.backoffLimit=0",
                "nightly-backup:spec.jobTemplate.spec.template.spec.restartPolicy=\"Never\"",
                "nightly-backup:spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds=2",
                "nightly-backup:spec.jobTemplate.spec.template.spec.containers.0.command="
                "[\"/bin/sh\", \"-c\", \"umask 0077; echo \\\"a: b\\\" 'c' # d\\n&& printf '%s\\\\n' \\\"{x: "
                "[y]}\\\"\"]",
                "nightly-backup:spec.jobTemplate.spec.template.spec.containers.0.workingDir=\"/srv\"",
                "nightly-backup:spec.jobTemplate.spec.template.spec.containers.0.env="
                "[{\"name\": \"TICKD_JOB\", \"value\": \"Nightly_Backup\"}, {\"name\": \"A\", \"value\": \"x: y\"},"
                " {\"name\": \"B\", \"value\": \"multi word: 'q'\"}]",
                "every:spec.schedule=\"0-59/15 * * * *\"",
                "every:spec.timeZone=\"UTC\"",
                "every:spec.concurrencyPolicy=\"Replace\"",
                "every:spec.suspend=false",
                "vixie:spec.schedule=\"0 12 1,15 * 1-5\"",
                "vixie:spec.concurrencyPolicy=\"Allow\"",
                "vixie:spec.jobTemplate.spec.template.spec.containers.0.command.2=\"yes: no\"",
                NULL,
        };
        _cleanup_free_ char *out = NULL;
        int r = check_manifests(manifest_path, claims, &out);
        ck_assert_msg(r == 0, "check-cronjob.py: %s", out);
        ck_assert_ptr_nonnull(strstr(out, "nightly-backup: valid\nevery: valid\nvixie: valid\n"));
}
END_TEST

/* The schema check is not a formality: a misspelt field or a wrong type fails. */
START_TEST(the_schema_check_rejects_a_broken_manifest)
{
        const char *broken[] = {
                "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\nspec:\n  schedule: '* * * * *'\n"
                "  timezone: UTC\n  jobTemplate: {spec: {template: {spec: {containers: []}}}}\n",
                "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\nspec:\n  schedule: '* * * * *'\n"
                "  concurrencyPolicy: Queue\n  jobTemplate: {spec: {template: {spec: {containers: []}}}}\n",
                "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\nspec:\n  schedule: '* * * * *'\n"
                "  startingDeadlineSeconds: soon\n  jobTemplate: {spec: {template: {spec: {containers: []}}}}\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
                _cleanup_free_ char *path = harness_write_file(tmp, "broken.yaml", broken[i]);
                _cleanup_free_ char *out = NULL;
                ck_assert_int_eq(check_manifests(path, NULL, &out), 1);
                ck_assert_msg(strstr(out, "x: invalid at spec"), "%s", out);
        }
}
END_TEST

/* A jobs directory under TMP/config with FILES (name, text) pairs. */
static void write_jobs_dir(const char *const *files)
{
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/jobs.d", tmp);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        for (; *files; files += 2)
                free(harness_write_file(dir, files[0], files[1]));
}

static int export_args(const char *const *args, char **out, char **err)
{
        char *argv[16] = { (char *)harness_binary("tickctl"), "export", "--config-dir", tmp };
        size_t argc = 4;
        for (; *args; args++)
                argv[argc++] = (char *)*args;
        argv[argc] = NULL;
        return run(argv, out, err);
}

START_TEST(jobs_are_named_from_the_jobs_directory)
{
        write_jobs_dir((const char *const[]){ "a.ini", "[x]\nschedule = @daily\ncommand = echo x\n", "b.ini",
                                              "[y]\nschedule = @hourly\ncommand = echo y\n", NULL });
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_int_eq(export_args((const char *const[]){ "--format", "systemd", "y", NULL }, &out, &err), 0);
        ck_assert_msg(strncmp(out, "# y.service\n# Exported by tickctl export from ", 46) == 0, "%s", out);
        ck_assert_ptr_nonnull(strstr(out, "\n\n# y.timer\n"));
        ck_assert_ptr_null(strstr(out, "x.service"));
        free(out), free(err);
        out = err = NULL;
        /* no argument: every job of the directory, in file order */
        ck_assert_int_eq(export_args((const char *const[]){ "--format", "kubernetes", NULL }, &out, &err), 0);
        char *x = strstr(out, "# x.yaml\n---\n"), *y = strstr(out, "# y.yaml\n---\n");
        ck_assert(x && y && x < y);
        free(out), free(err);
        out = err = NULL;
        ck_assert_int_eq(export_args((const char *const[]){ "--format", "systemd", "z", NULL }, &out, &err), 2);
        ck_assert_ptr_nonnull(strstr(err, "no job 'z' in "));
}
END_TEST

START_TEST(usage_errors_exit_2)
{
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_int_eq(export_args((const char *const[]){ "x", NULL }, &out, &err), 2);
        ck_assert_ptr_nonnull(strstr(err, "--format systemd or --format kubernetes is needed"));
        free(out), free(err);
        out = err = NULL;
        ck_assert_int_eq(export_args((const char *const[]){ "--format", "cron", NULL }, &out, &err), 2);
        ck_assert_ptr_nonnull(strstr(err, "'cron' is not systemd or kubernetes"));
        free(out), free(err);
        out = err = NULL;
        ck_assert_int_eq(
                export_args((const char *const[]){ "--format", "systemd", "/nonexistent/j.ini", NULL }, &out, &err), 2);
}
END_TEST

/* A refused job is named with its reason; the others are still written. */
START_TEST(a_refused_job_leaves_the_others_exported)
{
        _cleanup_free_ char *crontab = harness_write_file(tmp, "j.ini",
                                                          "[a_b]\nschedule = @daily\ncommand = true\n"
                                                          "[a-b]\nschedule = @daily\ncommand = true\n"
                                                          "[q]\nschedule = @daily\ncommand = true\noverlap = queue\n"
                                                          "[ok]\nschedule = @daily\ncommand = true\n");
        char dir[4200];
        snprintf(dir, sizeof(dir), "%s/out", tmp);
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_int_eq(
                export_args((const char *const[]){ "--format", "kubernetes", "-o", dir, crontab, NULL }, &out, &err),
                1);
        ck_assert_ptr_nonnull(strstr(err, "j.ini:4: error: job 'a-b': its file a-b.yaml is already written"));
        ck_assert_ptr_nonnull(strstr(err, "j.ini:7: error: job 'q': overlap: queue:"));
        const char *written[] = { "a-b.yaml", "ok.yaml" };
        for (size_t i = 0; i < ELEMENTSOF(written); i++) {
                char path[4400];
                snprintf(path, sizeof(path), "%s/%s", dir, written[i]);
                ck_assert_msg(access(path, F_OK) == 0, "%s not written", path);
        }
        char path[4400];
        snprintf(path, sizeof(path), "%s/q.yaml", dir);
        ck_assert_int_ne(access(path, F_OK), 0);
        snprintf(path, sizeof(path), "%s/a-b.yaml", dir);
        FILE *f = fopen(path, "re");
        ck_assert_ptr_nonnull(f);
        char line[256];
        bool from_a_b = false;
        while (fgets(line, sizeof(line), f))
                from_a_b |= strcmp(line, "    tickd/job: \"a_b\"\n") == 0;
        fclose(f);
        ck_assert_msg(from_a_b, "a-b.yaml is not job a_b's (the first)");
}
END_TEST

static Suite *ctl_export_suite(void)
{
        Suite *s = suite_create("ctl-export");
        TCase *tc = tcase_create("export");
        tcase_set_timeout(tc, 120);
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
        tcase_add_test(tc, units_pass_systemd_analyze_verify);
        tcase_add_loop_test(tc, calendar_matches_tickctl_next, 0, ELEMENTSOF(calendar_cases));
        tcase_add_test(tc, manifests_validate_against_the_cronjob_schema);
        tcase_add_test(tc, the_schema_check_rejects_a_broken_manifest);
        tcase_add_test(tc, jobs_are_named_from_the_jobs_directory);
        tcase_add_test(tc, usage_errors_exit_2);
        tcase_add_test(tc, a_refused_job_leaves_the_others_exported);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(ctl_export_suite)
