/* test-cron-import.c — crontab(5) lines into tickd jobs (core/cron-import.c):
 * the fields, the environment lines and cron's own variables, the '%'
 * rules, the errors, and the INI text, read back by the crontab loader. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/cron-import.h"
#include "core/crontab.h"
#include "core/inifile.h"
#include "harness/harness.h"

static struct tz_cache *zones;

static void zones_setup(void)
{
        zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
}

static void zones_teardown(void)
{
        tz_cache_free(zones);
        zones = NULL;
}

static struct cron_import import_ok(const char *text, bool system_format)
{
        struct cron_import imp;
        struct diagnostics d = { 0 };
        int r = cron_import_parse("/etc/cron.d/x", text, strlen(text), system_format, zones, &imp, &d);
        for (size_t i = 0; i < d.count; i++)
                diag_fprint(stderr, &d.items[i]);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(d.count, 0);
        diag_free(&d);
        return imp;
}

/* The errors for TEXT, one "FILE:LINE: error: MESSAGE" per line. */
static char *import_errors(const char *text, bool system_format)
{
        struct cron_import imp;
        struct diagnostics d = { 0 };
        int r = cron_import_parse("/etc/cron.d/x", text, strlen(text), system_format, zones, &imp, &d);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_uint_eq(imp.n_jobs, 0);
        ck_assert_ptr_null(imp.jobs);
        char *out = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&out, &size);
        for (size_t i = 0; i < d.count; i++)
                diag_fprint(f, &d.items[i]);
        fclose(f);
        diag_free(&d);
        return out;
}

static char *import_text(const char *text, bool system_format, const char *user)
{
        struct cron_import imp = import_ok(text, system_format);
        char *out = NULL;
        ck_assert_int_eq(cron_import_format(&imp, user, &out), 0);
        cron_import_free(&imp);
        return out;
}

/* TEXT imported, then loaded by the crontab loader as tickd would. */
static struct crontab_file *import_and_load(const char *text, bool system_format)
{
        _cleanup_free_ char *ini = import_text(text, system_format, NULL);
        struct crontab_options o = { .system_mode = true, .zones = zones };
        ck_assert_int_eq(tz_cache_get(zones, "UTC", &o.default_zone), 0);
        struct diagnostics d = { 0 };
        struct crontab_file *file = NULL;
        int r = crontab_load_buffer("x.ini", ini, strlen(ini), &o, &file, &d);
        for (size_t i = 0; i < d.count; i++)
                diag_fprint(stderr, &d.items[i]);
        ck_assert_msg(r == 0, "the import does not load:\n%s", ini);
        diag_free(&d);
        return file;
}

START_TEST(five_fields_with_names_ranges_steps_and_lists_are_kept)
{
        struct cron_import imp = import_ok("0-30/10  1,13\t*/2 jan-mar,DEC mon-fri cmd one\n", false);
        ck_assert_uint_eq(imp.n_jobs, 1);
        ck_assert_str_eq(imp.jobs[0]->schedule, "0-30/10 1,13 */2 jan-mar,DEC mon-fri");
        ck_assert_str_eq(imp.jobs[0]->command, "cmd one");
        ck_assert_ptr_null(imp.jobs[0]->user);
        ck_assert_uint_eq(imp.jobs[0]->line, 1);
        cron_import_free(&imp);
}
END_TEST

START_TEST(every_cron_keyword_is_accepted_and_others_are_errors)
{
        const char *keywords[] = { "@reboot", "@yearly", "@annually", "@monthly",
                                   "@weekly", "@daily",  "@midnight", "@hourly" };
        for (size_t i = 0; i < ELEMENTSOF(keywords); i++) {
                char line[64];
                snprintf(line, sizeof(line), "%s root run\n", keywords[i]);
                struct cron_import imp = import_ok(line, true);
                ck_assert_str_eq(imp.jobs[0]->schedule, keywords[i]);
                ck_assert_str_eq(imp.jobs[0]->user, "root");
                cron_import_free(&imp);
        }
        _cleanup_free_ char *err = import_errors("@every 5m run\n", false);
        ck_assert_str_eq(err, "/etc/cron.d/x:1: error: '@every' is not a cron keyword (@reboot, @yearly, @annually, "
                              "@monthly, @weekly, @daily, @midnight, @hourly)\n");
}
END_TEST

START_TEST(environment_lines_apply_to_the_lines_below_them)
{
        struct cron_import imp = import_ok("* * * * * first\n"
                                           "A=1\n"
                                           "  B = two words  \n"
                                           "* * * * * second\n"
                                           "A='3'\n"
                                           "\"C\"=\"x\"\n"
                                           "* * * * * third\n",
                                           false);
        ck_assert_uint_eq(imp.n_jobs, 3);
        ck_assert_ptr_null(imp.jobs[0]->environment);
        ck_assert_str_eq(imp.jobs[1]->environment[0], "A=1");
        ck_assert_str_eq(imp.jobs[1]->environment[1], "B=two words");
        ck_assert_ptr_null(imp.jobs[1]->environment[2]);
        /* A later setting replaces the earlier one where it was. */
        ck_assert_str_eq(imp.jobs[2]->environment[0], "A=3");
        ck_assert_str_eq(imp.jobs[2]->environment[1], "B=two words");
        ck_assert_str_eq(imp.jobs[2]->environment[2], "C=x");
        cron_import_free(&imp);
}
END_TEST

/* Debian's cron and cronie read a crontab's times in the system's zone
 * whatever TZ says; TZ reaches the commands only. */
START_TEST(cron_tz_gives_the_timezone_and_tz_stays_in_the_environment)
{
        struct cron_import imp = import_ok("CRON_TZ=Europe/Berlin\n0 9 * * * a\n"
                                           "CRON_TZ=\nTZ=:America/New_York\n0 9 * * * b\n",
                                           false);
        ck_assert_str_eq(imp.jobs[0]->timezone, "Europe/Berlin");
        ck_assert_ptr_null(imp.jobs[0]->environment);
        ck_assert_ptr_null(imp.jobs[1]->timezone);
        ck_assert_str_eq(imp.jobs[1]->environment[0], "TZ=:America/New_York");
        ck_assert_ptr_null(imp.jobs[1]->environment[1]);
        cron_import_free(&imp);
        _cleanup_free_ char *err = import_errors("CRON_TZ=Mars/Olympus\n0 9 * * * a\n", false);
        ck_assert_str_eq(err, "/etc/cron.d/x:1: error: CRON_TZ: unknown time zone 'Mars/Olympus'\n");
}
END_TEST

/* What tickd's mail_to would refuse is refused at the MAILTO line. */
START_TEST(a_mailto_tickd_cannot_mail_is_an_error_at_its_line)
{
        _cleanup_free_ char *err = import_errors("\n\nMAILTO=paul root\n0 9 * * * a\n", false);
        ck_assert_msg(strncmp(err, "/etc/cron.d/x:3: error: MAILTO: 'paul root' is not a mail address", 65) == 0, "%s",
                      err);
}
END_TEST

START_TEST(random_delay_is_minutes)
{
        _cleanup_free_ char *ini = import_text("RANDOM_DELAY=15\n0 9 * * * a\n", false, NULL);
        ck_assert_ptr_nonnull(strstr(ini, "[defaults]\nrandom_delay = 15min\n"));
        ck_assert_ptr_null(strstr(ini, "RANDOM_DELAY"));
        _cleanup_free_ char *err = import_errors("RANDOM_DELAY=1h\n", false);
        ck_assert_str_eq(err, "/etc/cron.d/x:1: error: RANDOM_DELAY: '1h' is not a number of minutes (0 to 527040)\n");
}
END_TEST

START_TEST(a_shell_other_than_bin_sh_runs_the_command)
{
        struct cron_import imp = import_ok("SHELL=/bin/sh\n* * * * * echo 'a'\n"
                                           "SHELL=/bin/bash\n* * * * * echo 'it'\\''s' $BASH\n",
                                           false);
        ck_assert_str_eq(imp.jobs[0]->command, "echo 'a'");
        ck_assert_str_eq(imp.jobs[1]->command, "/bin/bash -c 'echo '\\''it'\\''\\'\\'''\\''s'\\'' $BASH'");
        ck_assert_str_eq(imp.jobs[1]->environment[0], "SHELL=/bin/bash");
        cron_import_free(&imp);
        _cleanup_free_ char *err = import_errors("SHELL=bash\n", false);
        ck_assert_str_eq(err, "/etc/cron.d/x:1: error: SHELL: 'bash' is not an absolute path to a shell\n");
}
END_TEST

START_TEST(mailto_becomes_mail_to_and_an_empty_one_nothing)
{
        _cleanup_free_ char *ini = import_text("MAILTO=paul@example.org\n5 0 * * * a\n", false, NULL);
        ck_assert_str_eq(ini, "# Imported from /etc/cron.d/x by tickctl import; each job's description names its "
                              "line.\n\n[defaults]\nmail_to = paul@example.org\n\n[x-2]\ndescription = "
                              "/etc/cron.d/x:2\nschedule = 5 0 * * *\ncommand = a\n");
        _cleanup_free_ char *none = import_text("MAILTO=\"\"\n5 0 * * * a\n", false, NULL);
        ck_assert_ptr_null(strstr(none, "mail"));
        ck_assert_ptr_null(strstr(none, "MAILTO"));
        /* Per job when the jobs differ. */
        _cleanup_free_ char *two = import_text("MAILTO=a\n5 0 * * * a\nMAILTO=b\n5 0 * * * b\n", false, NULL);
        ck_assert_ptr_nonnull(strstr(two, "command = a\nmail_to = a\n"));
        ck_assert_ptr_nonnull(strstr(two, "command = b\nmail_to = b\n"));
}
END_TEST

START_TEST(percent_ends_the_command_and_the_rest_is_stdin)
{
        struct cron_import imp = import_ok("0 22 * * 1-5 mail -s \"It's 10pm\" joe%Joe,%%Where are your kids?%\n"
                                           "* * * * * date +\\%s%\n"
                                           "* * * * * cat%a\\%b\\c%\\\\%\n"
                                           "* * * * * printf '\\\\n\\x' | cat - %no newline\n",
                                           false);
        ck_assert_str_eq(imp.jobs[0]->command, "mail -s \"It's 10pm\" joe");
        ck_assert_str_eq(imp.jobs[0]->stdin_text, "Joe,\n\nWhere are your kids?\n");
        /* "\%" is a '%' in the command; an empty input is none. */
        ck_assert_str_eq(imp.jobs[1]->command, "date +%s");
        ck_assert_ptr_null(imp.jobs[1]->stdin_text);
        /* In the input "\%" is '%', other backslashes stay, "\\%" is "\%", and
         * a newline ends it, as in do_command.c. */
        ck_assert_str_eq(imp.jobs[2]->command, "cat");
        ck_assert_str_eq(imp.jobs[2]->stdin_text, "a%b\\c\n\\%\n");
        /* In the command "\\" is one backslash (Debian's cron). */
        ck_assert_str_eq(imp.jobs[3]->command, "printf '\\n\\x' | cat -");
        ck_assert_str_eq(imp.jobs[3]->stdin_text, "no newline\n");
        cron_import_free(&imp);
}
END_TEST

START_TEST(stdin_and_environment_read_back_exactly_through_the_loader)
{
        struct crontab_file *file = import_and_load("Q=it's \"quoted\"\\n\n"
                                                    "T=\" a tab\tand blanks \"\n"
                                                    "HOME=/srv\n"
                                                    "0 22 * * 1-5 cat%Joe,%%\"Where\"\\are\tyou?%\n",
                                                    false);
        ck_assert_uint_eq(file->n_jobs, 1);
        const struct job *job = file->jobs[0];
        ck_assert_str_eq(job->name, "x-4");
        ck_assert_str_eq(job_extra(job)->description, "/etc/cron.d/x:4");
        ck_assert_str_eq(job_schedule_text(job), "0 22 * * 1-5");
        ck_assert_str_eq(job->command, "cat");
        ck_assert_str_eq(job_extra(job)->stdin_text, "Joe,\n\n\"Where\"\\are\tyou?\n");
        ck_assert_str_eq(job->environment[0], "Q=it's \"quoted\"\\n");
        ck_assert_str_eq(job->environment[1], "T= a tab\tand blanks ");
        ck_assert_str_eq(job->environment[2], "HOME=/srv");
        /* cron starts jobs in $HOME */
        ck_assert_str_eq(job_extra(job)->working_directory, "/srv");
        crontab_file_free(file);
}
END_TEST

START_TEST(system_format_takes_the_user_after_the_schedule)
{
        struct crontab_file *file = import_and_load("17 *\t* * *\troot\tcd / && run-parts --report /etc/cron.hourly\n"
                                                    "@reboot www-data /usr/bin/warm-cache\n",
                                                    true);
        ck_assert_uint_eq(file->n_jobs, 2);
        ck_assert_str_eq(file->jobs[0]->user, "root");
        ck_assert_str_eq(file->jobs[0]->command, "cd / && run-parts --report /etc/cron.hourly");
        ck_assert_str_eq(file->jobs[1]->user, "www-data");
        ck_assert_int_eq(schedule_kind(file->jobs[1]->schedule), SCHEDULE_REBOOT);
        crontab_file_free(file);
        _cleanup_free_ char *err = import_errors("0 * * * * root\n", true);
        ck_assert_str_eq(err, "/etc/cron.d/x:1: error: no command after the user 'root' (system crontab: m h dom mon "
                              "dow USER command)\n");
        free(err);
        err = import_errors("0 * * * * r@@t x\n", true);
        ck_assert_str_eq(err, "/etc/cron.d/x:1: error: 'r@@t' after the schedule is not a user name (system crontab: "
                              "m h dom mon dow USER command)\n");
}
END_TEST

START_TEST(every_bad_line_is_an_error_at_its_line)
{
        _cleanup_free_ char *err = import_errors("# fine\n"
                                                 "61 * * * * a\n"
                                                 "* * * * * fine\n"
                                                 "* * * *\n"
                                                 "0 0 30 2 * never\n"
                                                 "1BAD=x\n"
                                                 "* * * * *   \n"
                                                 "* * * * * a\r\n"
                                                 "* * * * * echo \xed\xa0\x80\n",
                                                 false);
        ck_assert_str_eq(err, "/etc/cron.d/x:2: error: schedule '61 * * * *': minute: 61 is out of range 0-59\n"
                              "/etc/cron.d/x:4: error: expected five time fields and a command\n"
                              "/etc/cron.d/x:5: error: schedule '0 0 30 2 *' never fires\n"
                              "/etc/cron.d/x:6: error: '1BAD' is not a variable name tickd accepts (letters, "
                              "digits and '_', not starting with a digit)\n"
                              "/etc/cron.d/x:7: error: no command after the schedule\n"
                              "/etc/cron.d/x:8: error: control character 0x0d (a CRLF line end?)\n"
                              "/etc/cron.d/x:9: error: not valid UTF-8\n");
}
END_TEST

START_TEST(job_names_come_from_the_file_and_line)
{
        char name[256];
        cron_import_job_name("/etc/cron.d/e2scrub_all", NULL, 2, name, sizeof(name));
        ck_assert_str_eq(name, "e2scrub_all-2");
        cron_import_job_name("/etc/crontab", NULL, 17, name, sizeof(name));
        ck_assert_str_eq(name, "crontab-17");
        cron_import_job_name("my jobs@host", NULL, 3, name, sizeof(name));
        ck_assert_str_eq(name, "my-jobs-host-3");
        cron_import_job_name("-", "alice", 5, name, sizeof(name));
        ck_assert_str_eq(name, "alice-5");
        cron_import_job_name("-", NULL, 5, name, sizeof(name));
        ck_assert_str_eq(name, "stdin-5");
        char long_name[400];
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        cron_import_job_name(long_name, NULL, 4000000000U, name, sizeof(name));
        ck_assert(inifile_valid_section(name));
}
END_TEST

START_TEST(control_characters_in_the_file_name_do_not_reach_the_text)
{
        struct cron_import imp;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(cron_import_parse("/tmp/a\nb", "@daily x\n", 9, false, zones, &imp, &d), 0);
        _cleanup_free_ char *ini = NULL;
        ck_assert_int_eq(cron_import_format(&imp, NULL, &ini), 0);
        ck_assert_ptr_nonnull(strstr(ini, "\n[a-b-1]\ndescription = /tmp/a?b:1\n"));
        ck_assert_ptr_null(strstr(ini, "a\nb"));
        cron_import_free(&imp);
}
END_TEST

START_TEST(shared_settings_go_to_defaults_and_differing_ones_to_each_job)
{
        _cleanup_free_ char *ini = import_text("PATH=/bin\nCRON_TZ=UTC\n1 * * * * a\nCRON_TZ=Europe/Berlin\n"
                                               "2 * * * * b\n",
                                               false, "alice");
        ck_assert_str_eq(ini, "# Imported from /etc/cron.d/x by tickctl import; each job's description names its "
                              "line.\n\n[defaults]\nuser = alice\nenvironment = PATH=/bin\n\n"
                              "[x-3]\ndescription = /etc/cron.d/x:3\nschedule = 1 * * * *\ncommand = a\n"
                              "timezone = UTC\n\n"
                              "[x-5]\ndescription = /etc/cron.d/x:5\nschedule = 2 * * * *\ncommand = b\n"
                              "timezone = Europe/Berlin\n");
}
END_TEST

START_TEST(a_line_too_long_for_tickd_is_an_error)
{
        char text[8000] = "* * * * * echo ";
        memset(text + strlen(text), 'x', 4100);
        strcat(text, "\n");
        _cleanup_free_ char *err = import_errors(text, false);
        ck_assert_ptr_nonnull(strstr(err, "/etc/cron.d/x:1: error: the command makes a line of"));
        /* A value of quotes doubles in length when written quoted. */
        char env[8000] = "MAILTO=";
        memset(env + strlen(env), '"', 2100);
        strcat(env, "\n");
        _cleanup_free_ char *env_err = import_errors(env, false);
        ck_assert_ptr_nonnull(strstr(env_err, "/etc/cron.d/x:1: error: MAILTO: the value makes a line of 4219 bytes, "
                                              "longer than tickd's 4096\n"));
}
END_TEST

static Suite *cron_import_suite(void)
{
        Suite *s = suite_create("cron-import");
        TCase *tc = tcase_create("import");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
        tcase_add_test(tc, five_fields_with_names_ranges_steps_and_lists_are_kept);
        tcase_add_test(tc, every_cron_keyword_is_accepted_and_others_are_errors);
        tcase_add_test(tc, environment_lines_apply_to_the_lines_below_them);
        tcase_add_test(tc, cron_tz_gives_the_timezone_and_tz_stays_in_the_environment);
        tcase_add_test(tc, a_mailto_tickd_cannot_mail_is_an_error_at_its_line);
        tcase_add_test(tc, random_delay_is_minutes);
        tcase_add_test(tc, a_shell_other_than_bin_sh_runs_the_command);
        tcase_add_test(tc, mailto_becomes_mail_to_and_an_empty_one_nothing);
        tcase_add_test(tc, percent_ends_the_command_and_the_rest_is_stdin);
        tcase_add_test(tc, stdin_and_environment_read_back_exactly_through_the_loader);
        tcase_add_test(tc, system_format_takes_the_user_after_the_schedule);
        tcase_add_test(tc, every_bad_line_is_an_error_at_its_line);
        tcase_add_test(tc, job_names_come_from_the_file_and_line);
        tcase_add_test(tc, control_characters_in_the_file_name_do_not_reach_the_text);
        tcase_add_test(tc, shared_settings_go_to_defaults_and_differing_ones_to_each_job);
        tcase_add_test(tc, a_line_too_long_for_tickd_is_an_error);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(cron_import_suite)
