/* test-export.c — core/export.h and schedule_to_calendar()/_to_cron():
 * what each crontab key becomes in a systemd unit or a CronJob, what is
 * refused and why, and that every key of the crontab has a rule. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/harness.h"
#include "core/cleanup.h"
#include "core/crontab.h"
#include "core/export.h"
#include "core/schedule.h"
#include "core/strv.h"

/* 2026-01-01T00:00:00Z: the DST warnings look at 2026. */
#define NOW INT64_C(1767225600)

static struct tz_cache *zones;
static struct crontab_file *file;
static struct export_files files;
static struct diagnostics diags;
static struct export_options extra; /* path and user_units for the next export_text() */

static void setup(void)
{
        zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
}

static void teardown(void)
{
        if (file)
                crontab_file_free(file);
        file = NULL;
        export_files_free(&files);
        diag_free(&diags);
        tz_cache_free(zones);
        zones = NULL;
        extra = (struct export_options){ 0 };
}

/* Loads TEXT (one job) and exports it; returns export_job()'s result. */
static int export_text(const char *text, enum export_format format)
{
        struct crontab_options o = { .system_mode = true, .zones = zones, .ignore_ownership = true };
        struct diagnostics load = { 0 };
        int r = crontab_load_buffer("t.ini", text, strlen(text), &o, &file, &load);
        for (size_t i = 0; i < load.count; i++)
                diag_fprint(stderr, &load.items[i]);
        diag_free(&load);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(file->n_jobs, 1);
        struct export_options options = extra;
        options.format = format, options.now = NOW;
        return export_job(file->jobs[0], &options, &files, &diags);
}

static const char *file_text(const char *name)
{
        for (size_t i = 0; i < files.count; i++)
                if (strcmp(files.items[i].name, name) == 0)
                        return files.items[i].text;
        ck_abort_msg("no file %s", name);
        return NULL;
}

/* Whether a diagnostic of SEVERITY contains NEEDLE. */
static bool has_diag(enum diag_severity severity, const char *needle)
{
        for (size_t i = 0; i < diags.count; i++)
                if (diags.items[i].severity == severity && strstr(diags.items[i].message, needle))
                        return true;
        return false;
}

static void calendar_is(const char *expr, const char *zone, const char *const *expected)
{
        struct schedule *s = NULL;
        char err[256];
        ck_assert_int_eq(schedule_parse(expr, zones, &s, err, sizeof(err)), 0);
        char **lines = NULL;
        int r = schedule_to_calendar(s, zone, &lines, err, sizeof(err));
        ck_assert_msg(r == 0, "%s: %s", expr, err);
        size_t i = 0;
        for (; expected[i]; i++) {
                ck_assert_ptr_nonnull(lines[i]);
                ck_assert_str_eq(lines[i], expected[i]);
        }
        ck_assert_ptr_null(lines[i]);
        strv_free(lines);
        schedule_free(s);
}

static void cron_is(const char *expr, const char *expected, bool utc_expected)
{
        struct schedule *s = NULL;
        char err[256], *cron = NULL;
        bool utc;
        ck_assert_int_eq(schedule_parse(expr, zones, &s, err, sizeof(err)), 0);
        int r = schedule_to_cron(s, &cron, &utc, err, sizeof(err));
        ck_assert_msg(r == 0, "%s: %s", expr, err);
        ck_assert_str_eq(cron, expected);
        ck_assert(utc == utc_expected);
        free(cron);
        schedule_free(s);
}

static void cron_refused(const char *expr, const char *why)
{
        struct schedule *s = NULL;
        char err[256], *cron = NULL;
        bool utc;
        ck_assert_int_eq(schedule_parse(expr, zones, &s, err, sizeof(err)), 0);
        ck_assert_int_eq(schedule_to_cron(s, &cron, &utc, err, sizeof(err)), -EOPNOTSUPP);
        ck_assert_ptr_null(cron);
        ck_assert_msg(strstr(err, why), "%s: '%s' lacks '%s'", expr, err, why);
        schedule_free(s);
}

START_TEST(every_crontab_key_has_an_export_rule)
{
        size_t n = 0;
        for (const char *key; (key = crontab_key_name(n)); n++) {
                bool known;
                export_key_target(key, EXPORT_SYSTEMD, &known);
                ck_assert_msg(known, "crontab key '%s' has no row in export.c's table", key);
        }
        ck_assert_uint_ge(n, 18);
        bool known;
        export_key_target("no_such_key", EXPORT_SYSTEMD, &known);
        ck_assert(!known);
}
END_TEST

START_TEST(cron_fields_become_calendar_components)
{
        calendar_is("30 2 * * *", "Europe/Berlin", (const char *const[]){ "*-*-* 02:30:00 Europe/Berlin", NULL });
        calendar_is("*/15 9-17 * jan,jul mon-fri", NULL,
                    (const char *const[]){ "Mon..Fri *-01,07-* 09..17:00/15:00", NULL });
        calendar_is("0 0 * * 0,6", NULL, (const char *const[]){ "Sat,Sun *-*-* 00:00:00", NULL });
        calendar_is("0 0 * * 7", NULL, (const char *const[]){ "Sun *-*-* 00:00:00", NULL });
        calendar_is("5,10 * * * *", NULL, (const char *const[]){ "*-*-* *:05,10:00", NULL });
        calendar_is("@monthly", NULL, (const char *const[]){ "*-*-01 00:00:00", NULL });
        calendar_is("*/20 * * * * *", NULL, (const char *const[]){ "*-*-* *:*:00/20", NULL });
}
END_TEST

START_TEST(day_of_month_or_weekday_takes_two_lines)
{
        calendar_is("0 12 1,15 * mon-fri", "UTC",
                    (const char *const[]){ "*-*-01,15 12:00:00 UTC", "Mon..Fri *-*-* 12:00:00 UTC", NULL });
        /* an OR with a full field is every day */
        calendar_is("0 12 1-31 * mon", NULL, (const char *const[]){ "*-*-* 12:00:00", NULL });
        /* "*" in either field: AND, one line */
        calendar_is("0 12 * * mon", NULL, (const char *const[]){ "Mon *-*-* 12:00:00", NULL });
}
END_TEST

START_TEST(calendar_forms_round_trip)
{
        calendar_is("Mon..Fri *-*-* 09:00:00", "UTC", (const char *const[]){ "Mon..Fri *-*-* 09:00:00 UTC", NULL });
        calendar_is("*-02~01 00:00", NULL, (const char *const[]){ "*-02~01 00:00:00", NULL });
        calendar_is("2027..2031/2-*-* 00:00", NULL, (const char *const[]){ "2027..2031/2-*-* 00:00:00", NULL });
        /* a zone inside the expression is the schedule's: the caller passes it */
        calendar_is("hourly", NULL, (const char *const[]){ "*-*-* *:00:00", NULL });
}
END_TEST

START_TEST(every_that_divides_a_day_is_written_in_utc)
{
        calendar_is("@every 15m", "Europe/Berlin", (const char *const[]){ "*-*-* *:00/15:00 UTC", NULL });
        calendar_is("@every 90m", NULL, (const char *const[]){ "*-*-* 00/3:00:00 UTC", "*-*-* 01/3:30:00 UTC", NULL });
        calendar_is("@every 1s", NULL, (const char *const[]){ "*-*-* *:*:* UTC", NULL });
        struct schedule *s = NULL;
        char err[256], **lines = NULL;
        ck_assert_int_eq(schedule_parse("@every 7m", zones, &s, err, sizeof(err)), 0);
        ck_assert_int_eq(schedule_to_calendar(s, NULL, &lines, err, sizeof(err)), -EOPNOTSUPP);
        ck_assert_ptr_null(lines);
        ck_assert_ptr_nonnull(strstr(err, "divides a day"));
        schedule_free(s);
}
END_TEST

START_TEST(kubernetes_cron_fields)
{
        cron_is("30 2 * * *", "30 2 * * *", false);
        cron_is("*/15 9-17 * jan,jul mon-fri", "0-59/15 9-17 * 1,7 1-5", false);
        cron_is("0 12 1,15 * mon-fri", "0 12 1,15 * 1-5", false);
        cron_is("0 12 1-31 * mon", "0 12 * * *", false);
        cron_is("0 0 * * 7", "0 0 * * 0", false);
        cron_is("Mon..Fri *-*-* 09:00:00", "0 9 * * 1-5", false);
        cron_is("@every 15m", "0-59/15 * * * *", true);
        cron_is("@every 2h", "0 0-23/2 * * *", true);
}
END_TEST

START_TEST(kubernetes_refuses_what_cron_cannot_say)
{
        cron_refused("*/20 * * * * *", "seconds");
        cron_refused("*-02~01 00:00", "end of the month");
        cron_refused("2027-*-* 00:00", "year");
        cron_refused("Mon *-*-01 00:00", "both");
        cron_refused("@every 90m", "@every");
        cron_refused("@every 7m", "@every");
        cron_refused("@reboot", "@reboot");
}
END_TEST

START_TEST(systemd_units_carry_every_setting)
{
        ck_assert_int_eq(export_text("[backup]\n"
                                     "schedule = 30 2 * * *\n"
                                     "command = tar czf /b/$(date +%F).tgz /home && echo \"100%\"\n"
                                     "description = Nightly backup\n"
                                     "user = root\n"
                                     "group = adm\n"
                                     "timezone = Europe/Berlin\n"
                                     "timeout = 2h 30min\n"
                                     "kill_grace = 30s\n"
                                     "persistent = yes\n"
                                     "random_delay = 5m\n"
                                     "environment = LANG=C.UTF-8\n"
                                     "working_directory = /srv/backup\n"
                                     "umask = 027\n"
                                     "nice = 10\n"
                                     "on_failure = logger \"failed: $TICKD_EXIT_STATUS\"\n",
                                     EXPORT_SYSTEMD),
                         0);
        ck_assert_uint_eq(files.count, 3);
        const char *service = file_text("backup.service"), *timer = file_text("backup.timer");
        const char *failure = file_text("backup-on-failure.service");
        const char *want_service[] = {
                "Description=Nightly backup\n",
                "OnFailure=backup-on-failure.service\n",
                "ExecStart=/bin/sh -c \"tar czf /b/$$(date +%%F).tgz /home && echo \\\"100%%\\\"\"\n",
                "User=root\n",
                "Group=adm\n",
                "WorkingDirectory=/srv/backup\n",
                "Environment=\"TICKD_JOB=backup\"\n",
                "Environment=\"LANG=C.UTF-8\"\n",
                "UMask=0027\n",
                "Nice=10\n",
                "RuntimeMaxSec=2h 30min\n",
                "TimeoutStopSec=30s\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(want_service); i++)
                ck_assert_msg(strstr(service, want_service[i]), "service lacks %s:\n%s", want_service[i], service);
        const char *want_timer[] = {
                "OnCalendar=*-*-* 02:30:00 Europe/Berlin\n",
                "Persistent=true\n",
                "RandomizedDelaySec=5min\n",
                "AccuracySec=1s\n",
                "WantedBy=timers.target\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(want_timer); i++)
                ck_assert_msg(strstr(timer, want_timer[i]), "timer lacks %s:\n%s", want_timer[i], timer);
        ck_assert_ptr_nonnull(strstr(failure, "TICKD_EXIT_STATUS=\\\"$$MONITOR_EXIT_STATUS\\\""));
        ck_assert_ptr_nonnull(strstr(failure, "logger \\\"failed: $$TICKD_EXIT_STATUS\\\""));
        /* 2026-03-29 02:30 does not exist in Berlin: systemd skips it */
        ck_assert(has_diag(DIAG_WARNING, "2026-03-29"));
}
END_TEST

START_TEST(systemd_defaults_match_tickd)
{
        ck_assert_int_eq(export_text("[j]\nschedule = @daily\ncommand = true\n", EXPORT_SYSTEMD), 0);
        const char *service = file_text("j.service");
        ck_assert_ptr_nonnull(strstr(service, "User=root\n"));
        ck_assert_ptr_nonnull(strstr(service, "WorkingDirectory=~\n"));
        ck_assert_ptr_nonnull(
                strstr(service, "Environment=\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"\n"));
        ck_assert_ptr_nonnull(strstr(service, "UMask=0022\n"));
        ck_assert_ptr_nonnull(strstr(service, "TimeoutStopSec=10s\n"));
        ck_assert_ptr_null(strstr(service, "RuntimeMaxSec"));
        ck_assert_ptr_null(strstr(file_text("j.timer"), "Persistent"));
        ck_assert_uint_eq(diags.count, 0);
}
END_TEST

START_TEST(user_units_have_no_user_and_take_the_configured_path)
{
        extra = (struct export_options){ .path = "/opt/bin:/usr/bin", .user_units = true };
        ck_assert_int_eq(export_text("[j]\nschedule = @daily\ncommand = true\ngroup = adm\n"
                                     "environment = PATH=/mine\n",
                                     EXPORT_SYSTEMD),
                         0);
        const char *service = file_text("j.service");
        ck_assert_ptr_null(strstr(service, "User="));
        ck_assert_ptr_null(strstr(service, "Group="));
        /* the configured PATH, then the job's own, which wins (systemd keeps the last) */
        const char *configured = strstr(service, "Environment=\"PATH=/opt/bin:/usr/bin\"\n");
        const char *own = strstr(service, "Environment=\"PATH=/mine\"\n");
        ck_assert(configured && own && configured < own);
}
END_TEST

START_TEST(disabled_job_timer_cannot_be_enabled)
{
        ck_assert_int_eq(export_text("[j]\nschedule = @daily\ncommand = true\nenabled = no\n", EXPORT_SYSTEMD), 0);
        ck_assert_ptr_null(strstr(file_text("j.timer"), "[Install]"));
}
END_TEST

START_TEST(reboot_is_a_boot_timer)
{
        ck_assert_int_eq(export_text("[j]\nschedule = @reboot\ncommand = true\n", EXPORT_SYSTEMD), 0);
        ck_assert_ptr_nonnull(strstr(file_text("j.timer"), "OnBootSec=0\n"));
        ck_assert_ptr_null(strstr(file_text("j.timer"), "OnCalendar"));
}
END_TEST

static const struct overlap_case {
        const char *overlap;
        enum export_format format;
        int result;
        const char *expect; /* in the error, or in the manifest */
} overlap_cases[] = {
        { "skip", EXPORT_SYSTEMD, 0, NULL },
        { "allow", EXPORT_SYSTEMD, -EOPNOTSUPP, "allow:" },
        { "queue", EXPORT_SYSTEMD, -EOPNOTSUPP, "queue:" },
        { "replace", EXPORT_SYSTEMD, -EOPNOTSUPP, "replace:" },
        { "skip", EXPORT_KUBERNETES, 0, "concurrencyPolicy: \"Forbid\"\n" },
        { "allow", EXPORT_KUBERNETES, 0, "concurrencyPolicy: \"Allow\"\n" },
        { "replace", EXPORT_KUBERNETES, 0, "concurrencyPolicy: \"Replace\"\n" },
        { "queue", EXPORT_KUBERNETES, -EOPNOTSUPP, "queue:" },
};

START_TEST(overlap_is_mapped_or_refused)
{
        const struct overlap_case *c = &overlap_cases[_i];
        char text[200];
        snprintf(text, sizeof(text), "[j]\nschedule = @daily\ncommand = true\noverlap = %s\n", c->overlap);
        ck_assert_int_eq(export_text(text, c->format), c->result);
        if (c->result < 0) {
                ck_assert_uint_eq(files.count, 0);
                ck_assert(has_diag(DIAG_ERROR, c->expect));
        } else if (c->expect)
                ck_assert_ptr_nonnull(strstr(file_text("j.yaml"), c->expect));
}
END_TEST

START_TEST(kubernetes_manifest_carries_every_setting)
{
        ck_assert_int_eq(export_text("[Nightly_Backup]\n"
                                     "schedule = 30 2 * * 1-5\n"
                                     "command = echo \"a: b\" 'c'\n"
                                     "  && printf '%s\\n' x\n"
                                     "description = backup: \"nightly\"\n"
                                     "timezone = Europe/Berlin\n"
                                     "timeout = 90s\n"
                                     "kill_grace = 1500ms\n"
                                     "persistent = yes\n"
                                     "environment = A=x: y\n"
                                     "working_directory = /srv\n"
                                     "umask = 077\n"
                                     "enabled = no\n",
                                     EXPORT_KUBERNETES),
                         0);
        const char *y = file_text("nightly-backup.yaml");
        const char *want[] = {
                "apiVersion: \"batch/v1\"\n",
                "kind: \"CronJob\"\n",
                "  name: \"nightly-backup\"\n",
                "    tickd/job: \"Nightly_Backup\"\n",
                "    tickd/description: \"backup: \\\"nightly\\\"\"\n",
                "  schedule: \"30 2 * * 1-5\"\n",
                "  timeZone: \"Europe/Berlin\"\n",
                "  startingDeadlineSeconds: 86400\n",
                "  suspend: true\n",
                "      activeDeadlineSeconds: 90\n",
                "          terminationGracePeriodSeconds: 2\n",
                "            - \"umask 0077; echo \\\"a: b\\\" 'c'\\n&& printf '%s\\\\n' x\"\n",
                "            workingDir: \"/srv\"\n",
                "            - name: \"A\"\n              value: \"x: y\"\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                ck_assert_msg(strstr(y, want[i]), "manifest lacks %s:\n%s", want[i], y);
}
END_TEST

START_TEST(kubernetes_warns_and_refuses_by_the_table)
{
        ck_assert_int_eq(export_text("[j]\nschedule = @daily\ncommand = true\nuser = root\nnice = 5\n"
                                     "random_delay = 1m\n",
                                     EXPORT_KUBERNETES),
                         0);
        ck_assert(has_diag(DIAG_WARNING, "runAsUser"));
        ck_assert(has_diag(DIAG_WARNING, "nice"));
        ck_assert(has_diag(DIAG_WARNING, "random delay"));
        export_files_free(&files);
        diag_free(&diags);
        crontab_file_free(file);
        file = NULL;
        ck_assert_int_eq(
                export_text("[j]\nschedule = 30 * * * * *\ncommand = true\non_failure = true\n", EXPORT_KUBERNETES),
                -EOPNOTSUPP);
        /* every reason, in one run */
        ck_assert(has_diag(DIAG_ERROR, "on_failure"));
        ck_assert(has_diag(DIAG_ERROR, "seconds"));
        ck_assert_uint_eq(files.count, 0);
}
END_TEST

/* A job's input cannot be carried: refused in both formats; mail is
 * dropped with a warning (neither format mails). */
START_TEST(stdin_is_refused_and_mail_is_warned_in_both_formats)
{
        for (enum export_format f = EXPORT_SYSTEMD; f <= EXPORT_KUBERNETES; f++) {
                ck_assert_int_eq(export_text("[j]\nschedule = @daily\ncommand = cat\nstdin = \"a\\nb\"\n"
                                             "mail_to = root\nmail_on = always\n",
                                             f),
                                 -EOPNOTSUPP);
                ck_assert(has_diag(DIAG_ERROR, "stdin: "));
                ck_assert(has_diag(DIAG_WARNING, "mail_to: "));
                ck_assert_uint_eq(files.count, 0);
                export_files_free(&files);
                diag_free(&diags);
                crontab_file_free(file);
                file = NULL;
                ck_assert_int_eq(export_text("[j]\nschedule = @daily\ncommand = true\nmail_to = root\n", f), 0);
                ck_assert(has_diag(DIAG_WARNING, "mails nobody"));
                ck_assert_uint_gt(files.count, 0);
                export_files_free(&files);
                diag_free(&diags);
                crontab_file_free(file);
                file = NULL;
        }
}
END_TEST

/* The limits are systemd's own keys; a CronJob cannot carry them. */
START_TEST(limits_become_resource_control_keys)
{
        ck_assert_int_eq(export_text("[j]\nschedule = @daily\ncommand = true\nmemory_max = 50M\ncpu_quota = 150%\n"
                                     "tasks_max = 20\nio_weight = 300\npam = yes\n",
                                     EXPORT_SYSTEMD),
                         0);
        const char *unit = file_text("j.service");
        ck_assert_ptr_nonnull(unit);
        static const char *const want[] = { "\nMemoryMax=52428800\n", "\nCPUQuota=150%\n", "\nTasksMax=20\n",
                                            "\nIOWeight=300\n", "\nPAMName=tickd\n" };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                ck_assert_msg(strstr(unit, want[i]), "j.service lacks %s:\n%s", want[i], unit);
        ck_assert_uint_eq(diags.count, 0);
        export_files_free(&files);
        diag_free(&diags);
        crontab_file_free(file);
        file = NULL;
        ck_assert_int_eq(export_text("[j]\nschedule = @daily\ncommand = true\nmemory_max = 50M\ntasks_max = 20\n",
                                     EXPORT_KUBERNETES),
                         0);
        ck_assert(has_diag(DIAG_WARNING, "resources.limits.memory"));
        ck_assert(has_diag(DIAG_WARNING, "podPidsLimit"));
}
END_TEST

/* Kubernetes' cron library skips a time a spring-forward removes, as
 * systemd does (robfig/cron#541); its overlap behaviour is not claimed. */
START_TEST(kubernetes_warns_of_a_dst_gap_only)
{
        ck_assert_int_eq(export_text("[j]\nschedule = 30 2 * * *\ntimezone = Europe/Berlin\ncommand = true\n",
                                     EXPORT_KUBERNETES),
                         0);
        ck_assert(has_diag(DIAG_WARNING, "on 2026-03-29 (DST gap in Europe/Berlin) Kubernetes skips"));
        export_files_free(&files);
        diag_free(&diags);
        crontab_file_free(file);
        file = NULL;
        ck_assert_int_eq(export_text("[j]\nschedule = */30 * * * *\ntimezone = Europe/Berlin\ncommand = true\n",
                                     EXPORT_KUBERNETES),
                         0);
        ck_assert_uint_eq(diags.count, 0);
        export_files_free(&files);
        diag_free(&diags);
        crontab_file_free(file);
        file = NULL;
        ck_assert_int_eq(
                export_text("[j]\nschedule = */30 * * * *\ntimezone = Europe/Berlin\ncommand = true\n", EXPORT_SYSTEMD),
                0);
        ck_assert(has_diag(DIAG_WARNING,
                           "on 2026-10-25 (DST overlap in Europe/Berlin) systemd runs the repeated hour once"));
}
END_TEST

START_TEST(names_are_made_safe)
{
        char *u = export_unit_name("db backup/x");
        ck_assert_str_eq(u, "db\\x20backup\\x2fx");
        free(u);
        u = export_unit_name(".hidden-job_1:a");
        ck_assert_str_eq(u, "\\x2ehidden-job_1:a");
        free(u);
        ck_assert_int_eq(export_text("[bad_]\nschedule = @daily\ncommand = true\n", EXPORT_KUBERNETES), -EOPNOTSUPP);
        ck_assert(has_diag(DIAG_ERROR, "DNS label"));
}
END_TEST

START_TEST(quoting_keeps_values_whole)
{
        char *q = export_systemd_quote("a \"b\" \\ $X %i\n\t\x01", true);
        ck_assert_str_eq(q, "\"a \\\"b\\\" \\\\ $$X %%i\\n\\t\\x01\"");
        free(q);
        q = export_systemd_quote("$X", false);
        ck_assert_str_eq(q, "\"$X\"");
        free(q);
        int error = 0;
        q = export_yaml_quote("a: \"b\"\\\n\x7f\xc2\x85\xe2\x80\xa8\xef\xbb\xbf é", &error);
        ck_assert_str_eq(q, "\"a: \\\"b\\\"\\\\\\n\\u007f\\u0085\\u2028\\ufeff é\"");
        free(q);
        ck_assert_ptr_null(export_yaml_quote("\xff", &error));
        ck_assert_int_eq(error, -EILSEQ);
        ck_assert_ptr_null(export_yaml_quote("\xc0\xaf", &error)); /* overlong '/' */
}
END_TEST

static Suite *export_suite(void)
{
        Suite *s = suite_create("export");
        TCase *tc = tcase_create("export");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, every_crontab_key_has_an_export_rule);
        tcase_add_test(tc, cron_fields_become_calendar_components);
        tcase_add_test(tc, day_of_month_or_weekday_takes_two_lines);
        tcase_add_test(tc, calendar_forms_round_trip);
        tcase_add_test(tc, every_that_divides_a_day_is_written_in_utc);
        tcase_add_test(tc, kubernetes_cron_fields);
        tcase_add_test(tc, kubernetes_refuses_what_cron_cannot_say);
        tcase_add_test(tc, systemd_units_carry_every_setting);
        tcase_add_test(tc, systemd_defaults_match_tickd);
        tcase_add_test(tc, user_units_have_no_user_and_take_the_configured_path);
        tcase_add_test(tc, disabled_job_timer_cannot_be_enabled);
        tcase_add_test(tc, reboot_is_a_boot_timer);
        tcase_add_loop_test(tc, overlap_is_mapped_or_refused, 0, ELEMENTSOF(overlap_cases));
        tcase_add_test(tc, kubernetes_manifest_carries_every_setting);
        tcase_add_test(tc, kubernetes_warns_and_refuses_by_the_table);
        tcase_add_test(tc, stdin_is_refused_and_mail_is_warned_in_both_formats);
        tcase_add_test(tc, limits_become_resource_control_keys);
        tcase_add_test(tc, kubernetes_warns_of_a_dst_gap_only);
        tcase_add_test(tc, names_are_made_safe);
        tcase_add_test(tc, quoting_keeps_values_whole);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(export_suite)
