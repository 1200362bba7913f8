/* test-daemon-exec.c — end to end: when the job's shell itself cannot be
 * executed, the outcome is a failure at stage "exec" with the errno's text,
 * and the daemon goes on. tickd runs in a mount namespace of its own where
 * /bin/sh is a file that is not a program (ENOEXEC); nothing outside that
 * namespace sees it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

START_TEST(shell_that_cannot_be_executed_is_an_exec_failure_with_its_errno)
{
        char *dir = harness_tmpdir();
        char *not_a_shell = harness_write_file(dir, "not-a-shell", "this is not a program\n");
        ck_assert_int_eq(chmod(not_a_shell, 0755), 0);
        char script[4300];
        snprintf(script, sizeof(script), "mount --bind '%s' /bin/sh && exec \"$0\" \"$@\"", not_a_shell);
        const char *prefix[] = { "/usr/bin/unshare", "--mount", "--propagation", "private",
                                 "/bin/bash",        "-c",      script,          NULL };
        struct tickd *t = tickd_start(NULL, prefix);
        tickd_write_job(t, "x.ini", "[x]\nschedule = * * * * * *\ncommand = true\n");
        bool failed = tickd_wait_for(t, "event=failed job=x ", 2, 8000);
        int status = tickd_stop(t, SIGTERM, 20000);
        harness_reap_children(3000);
        ck_assert_msg(failed, "no exec failure (is unshare --mount allowed here?):\n%s", t->log);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d:\n%s", status, t->log);
        const char *rec = strstr(t->log, "event=failed job=x ");
        const char *eol = strchr(rec, '\n');
        const char *errno_field = strstr(rec, " errno=ENOEXEC ");
        ck_assert_msg(errno_field && errno_field < eol, "record: %.*s", (int)(eol - rec), rec);
        const char *msg = strstr(rec, "msg=\"run of x failed: exec: Exec format error\"");
        ck_assert_msg(msg && msg < eol, "record: %.*s", (int)(eol - rec), rec);
        ck_assert_int_eq(tickd_count(t, "event=succeeded job=x "), 0);
        tickd_free(t);
        free(not_a_shell);
        harness_tmpdir_remove(dir);
}
END_TEST

/* The record of a run that cannot start names what failed: the home
 * directory it cannot enter (and whose it is), then the user who has gone. */
START_TEST(missing_home_and_deleted_user_are_named)
{
        char name[64];
        harness_user_add("tkhm", name, sizeof(name), NULL, NULL); /* --no-create-home */
        struct tickd *t = tickd_start(NULL, NULL);
        char job[256], want[512];
        snprintf(job, sizeof(job), "[h]\nschedule = * * * * * *\ncommand = true\nuser = %s\n", name);
        tickd_write_job(t, "h.ini", job);
        snprintf(want, sizeof(want),
                 "msg=\"run of h failed: cannot enter /home/%s, the home directory of user '%s' (set "
                 "working_directory=): No such file or directory\"",
                 name, name);
        ck_assert_msg(tickd_wait_for(t, want, 1, 8000), "log:\n%s", t->log);
        harness_user_del(name);
        snprintf(want, sizeof(want), "msg=\"run of h failed: user '%s' does not exist (deleted since?)\"", name);
        ck_assert_msg(tickd_wait_for(t, want, 1, 8000), "log:\n%s", t->log);
        int status = tickd_stop(t, SIGTERM, 20000);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        tickd_free(t);
}
END_TEST

static Suite *exec_suite(void)
{
        Suite *s = suite_create("daemon-exec");
        TCase *tc = tcase_create("exec");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, shell_that_cannot_be_executed_is_an_exec_failure_with_its_errno);
        tcase_add_test(tc, missing_home_and_deleted_user_are_named);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(exec_suite)
