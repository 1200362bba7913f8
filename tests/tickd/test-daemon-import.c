/* test-daemon-import.c — end to end: a crontab(5) line imported by
 * `tickctl import` and installed in a real tickd's jobs.d fires on its
 * schedule with what cron would have given it: the '%' input on its
 * standard input, the variables set above it, and the SHELL it names. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "core/cleanup.h"
#include "harness/harness-daemon.h"
#include "harness/harness.h"

static char *read_text(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *text = NULL;
        size_t size = 0;
        if (getdelim(&text, &size, '\0', f) < 0) {
                free(text);
                text = strdup("");
        }
        fclose(f);
        return text;
}

START_TEST(imported_line_fires_with_its_input_environment_and_shell)
{
        char *dir = harness_tmpdir();
        char crontab[4096];
        snprintf(crontab, sizeof(crontab),
                 "SHELL=/bin/bash\n"
                 "GREETING=\"hello there\"\n"
                 "* * * * * printf '\\%%s|' \"$GREETING\" \"${BASH_VERSION:+bash}\" > %s/env; "
                 "cat > %s/stdin%%line one%%%%line three\\%%%%\n",
                 dir, dir);
        _cleanup_free_ char *path = harness_write_file(dir, "jobs", crontab);
        char *argv[] = { (char *)harness_binary("tickctl"), "import", path, NULL };
        _cleanup_free_ char *ini = NULL, *err = NULL;
        int status = harness_run(argv, NULL, &ini, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "import: %s", err);
        ck_assert_msg(strstr(ini, "\n[jobs-3]\n"), "%s", ini);

        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "imported.ini", ini);
        /* The next whole minute, and then some: the wait is for the event. */
        bool ran = tickd_wait_for(t, "event=succeeded job=jobs-3 ", 1, 75000);
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 15000)), 0);
        ck_assert_msg(ran, "the imported job did not run:\n%s", tickd_log_tail(t));
        tickd_free(t);

        char file[4200];
        snprintf(file, sizeof(file), "%s/stdin", dir);
        _cleanup_free_ char *input = read_text(file);
        ck_assert_ptr_nonnull(input);
        ck_assert_str_eq(input, "line one\n\nline three%\n");
        snprintf(file, sizeof(file), "%s/env", dir);
        _cleanup_free_ char *env = read_text(file);
        ck_assert_ptr_nonnull(env);
        ck_assert_str_eq(env, "hello there|bash|");
        harness_tmpdir_remove(dir);
}
END_TEST

/* stdin= is the command's: it arrives whole and once (a second reader
 * finds its end, as with cron's pipe), and the on_failure command of the
 * same job reads /dev/null. */
START_TEST(stdin_reaches_the_command_whole_and_not_its_on_failure)
{
        char *dir = harness_tmpdir();
        char job[4096];
        _cleanup_free_ char *once = harness_cron_in(2);
        snprintf(job, sizeof(job),
                 "[s]\nschedule = %s\n"
                 "command = cat > %s/in; cat > %s/again; exit 3\n"
                 "on_failure = cat > %s/failure\n"
                 "stdin = \"first\\nsecond\\n\"\n",
                 once, dir, dir, dir);
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "s.ini", job);
        bool failed = tickd_wait_for(t, "event=failed job=s ", 1, 15000);
        bool handled = failed && tickd_wait_for(t, "on_failure command of s succeeded", 1, 15000);
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 15000)), 0);
        ck_assert_msg(failed && handled, "%s", tickd_log_tail(t));
        tickd_free(t);
        char file[4200];
        snprintf(file, sizeof(file), "%s/in", dir);
        _cleanup_free_ char *input = read_text(file);
        ck_assert_ptr_nonnull(input);
        ck_assert_str_eq(input, "first\nsecond\n");
        /* read once, like a pipe: the second cat is at the end */
        snprintf(file, sizeof(file), "%s/again", dir);
        _cleanup_free_ char *again = read_text(file);
        ck_assert_ptr_nonnull(again);
        ck_assert_str_eq(again, "");
        snprintf(file, sizeof(file), "%s/failure", dir);
        _cleanup_free_ char *failure = read_text(file);
        ck_assert_ptr_nonnull(failure);
        ck_assert_str_eq(failure, "");
        harness_tmpdir_remove(dir);
}
END_TEST

static Suite *daemon_import_suite(void)
{
        Suite *s = suite_create("daemon-import");
        TCase *tc = tcase_create("import");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 150);
        tcase_add_test(tc, imported_line_fires_with_its_input_environment_and_shell);
        tcase_add_test(tc, stdin_reaches_the_command_whole_and_not_its_on_failure);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(daemon_import_suite)
