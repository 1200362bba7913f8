/* test-containment.c — issue 19 outside systemd: runs are process groups
 * and tickd says so, resource limits warn at load, and PAM (pam = yes)
 * refuses an expired account and applies limits.conf. The per-run cgroups
 * themselves need systemd's delegation: tests/integration/systemd-proof.sh.
 * Each suite runs over a private copy of /etc, so users, /etc/pam.d/tickd
 * and /etc/security/limits.d written here never reach the host. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

static void stop_ok(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 20000);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        tickd_free(t);
}

START_TEST(outside_systemd_runs_are_process_groups_and_limits_warn)
{
        struct tickd *t = tickd_start(NULL, NULL);
        ck_assert_msg(tickd_wait_for(t, "runs are process groups, not cgroups: not started by systemd", 1, 5000),
                      "log:\n%s", t->log);
        tickd_write_job(t, "lim.ini", "[lim]\nschedule = * * * * * *\nmemory_max = 50M\ncommand = true\n");
        ck_assert_msg(tickd_wait_for(t, "job 'lim': its resource limits are not enforced", 1, 8000), "log:\n%s",
                      t->log);
        /* A warning, not a rejection: the job runs. */
        ck_assert_msg(tickd_wait_for(t, "event=succeeded job=lim", 1, 8000), "log:\n%s", t->log);
        stop_ok(t);
}
END_TEST

/* /etc/pam.d/tickd as packaged, and tickd.conf's pam = yes. */
static struct tickd *start_with_pam(void)
{
        char *text = NULL;
        FILE *f = fopen(harness_source_path("packaging/pam.d/tickd"), "re");
        ck_assert_ptr_nonnull(f);
        size_t size = 0;
        ck_assert_int_gt(getdelim(&text, &size, '\0', f), 0);
        fclose(f);
        free(harness_write_file("/etc/pam.d", "tickd", text));
        free(text);
        return tickd_start("[daemon]\npam = yes\n", NULL);
}

START_TEST(pam_expired_account_does_not_run)
{
        char name[32], job[512], want[256];
        harness_user_add("tkexp", name, sizeof(name), NULL, NULL);
        char *argv[] = { "/usr/sbin/usermod", "-e", "1", name, NULL };
        ck_assert_int_eq(harness_run(argv, NULL, NULL, NULL), 0);
        struct tickd *t = start_with_pam();
        snprintf(job, sizeof(job),
                 "[exp]\nschedule = * * * * * *\nuser = %s\nworking_directory = /\ncommand = echo expired-ran\n", name);
        tickd_write_job(t, "exp.ini", job);
        /* Debian's common-account ends in pam_deny: PAM's reason reads "Authentication failure". */
        snprintf(want, sizeof(want), "run of exp failed: PAM (service tickd) refused the account of user '%s'", name);
        ck_assert_msg(tickd_wait_for(t, want, 1, 8000), "log:\n%s", t->log);
        ck_assert_msg(tickd_count(t, "expired-ran") == 0, "the expired account's command ran:\n%s", t->log);
        stop_ok(t);
        harness_user_del(name);
}
END_TEST

START_TEST(pam_limits_conf_nofile_reaches_the_job)
{
        char name[32], job[512], limits[128];
        harness_user_add("tklim", name, sizeof(name), NULL, NULL);
        snprintf(limits, sizeof(limits), "%s soft nofile 1234\n%s hard nofile 2345\n", name, name);
        free(harness_write_file("/etc/security/limits.d", "tickd-test.conf", limits));
        struct tickd *t = start_with_pam();
        snprintf(
                job, sizeof(job),
                "[lim]\nschedule = * * * * * *\nuser = %s\nworking_directory = /\ncommand = echo nofile=$(ulimit -n)\n",
                name);
        tickd_write_job(t, "lim.ini", job);
        ck_assert_msg(tickd_wait_for(t, "lim: nofile=1234", 1, 8000), "log:\n%s", t->log);
        stop_ok(t);
        harness_user_del(name);
}
END_TEST

static Suite *containment_suite(void)
{
        Suite *s = suite_create("containment");
        TCase *tc = tcase_create("process-groups");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, outside_systemd_runs_are_process_groups_and_limits_warn);
        tcase_add_test(tc, pam_expired_account_does_not_run);
        tcase_add_test(tc, pam_limits_conf_nofile_reaches_the_job);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(containment_suite)
