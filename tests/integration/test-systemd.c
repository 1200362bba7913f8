/* test-systemd.c — the installed package under a real systemd (issue 7).
 *
 * tests/systemd-proof.sh boots systemd as PID 1 in a throw-away container,
 * installs the .deb that `make deb` built (check-unit depends on it) and
 * runs every check of issue 7's "Proof under a real systemd" once, printing
 * "ok NAME" or "not ok NAME # why" per check. One Check test per check
 * asserts its line, so a failure names the promise that broke.
 *
 * The resource-limit checks need the memory and pids controllers on cgroup
 * v2, which a host that binds them to cgroup v1 (hybrid hierarchy) cannot
 * give any container: on such a host they are not registered, and each is
 * reported as "NOT RUN" (make check's summary counts them apart), never
 * counted as passed. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

/* A check that needs CONTROLLER on cgroup v2. */
struct needs_controller {
        const char *check;
        const char *controller;
};

static const struct needs_controller limit_checks[] = {
        { "memory-max-oom", "memory" },
        { "tasks-max-storm", "pids" },
};

/* Whether this host's cgroup v2 hierarchy offers CONTROLLER (so that a
 * container booted here can delegate it to tickd.service). */
static bool host_cgroup2_has(const char *controller)
{
        static const char *const roots[] = { "/sys/fs/cgroup/cgroup.controllers",
                                             "/sys/fs/cgroup/unified/cgroup.controllers" };
        for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
                FILE *f = fopen(roots[i], "re");
                if (!f)
                        continue;
                char line[512] = "";
                bool found = false;
                if (fgets(line, sizeof(line), f))
                        for (char *w = strtok(line, " \n"); w && !found; w = strtok(NULL, " \n"))
                                found = strcmp(w, controller) == 0;
                fclose(f);
                if (found)
                        return true;
        }
        return false;
}

static char *proof_out;
static char *proof_err;
static int proof_status = -1;
static char proof_name[64];

static const char *find_deb(void)
{
        static char path[4096];
        char pattern[4096];
        glob_t g;
        snprintf(pattern, sizeof(pattern), "%s", harness_source_path("build/deb/tickd_" TICKD_VERSION "_*.deb"));
        if (glob(pattern, 0, NULL, &g) != 0)
                return NULL;
        snprintf(path, sizeof(path), "%s", g.gl_pathv[0]);
        globfree(&g);
        return path;
}

/* Runs the whole proof once, before the tests read its lines. */
static void proof_setup(void)
{
        if (proof_out)
                return;
        const char *deb = find_deb();
        snprintf(proof_name, sizeof(proof_name), "tickd-proof-%d", (int)getpid());
        setenv("TICKD_PROOF_NAME", proof_name, 1);
        char script[4096];
        snprintf(script, sizeof(script), "%s", harness_source_path("tests/integration/systemd-proof.sh"));
        char *argv[] = { "/bin/bash", script, (char *)(deb ? deb : "build/deb/missing.deb"), NULL };
        long long start = harness_now_ms();
        proof_status = harness_run(argv, NULL, &proof_out, &proof_err);
        fprintf(stderr, "systemd proof: %.1f s, exit status %d\n", (harness_now_ms() - start) / 1000.0,
                WIFEXITED(proof_status) ? WEXITSTATUS(proof_status) : -1);
        if (!proof_out)
                proof_out = strdup("");
}

/* The proof's line for CHECK: 1 = "ok", 0 = "not ok" (*why set), -1 = none. */
static int proof_result(const char *check, char *why, size_t why_size)
{
        char ok[128], notok[128];
        snprintf(ok, sizeof(ok), "ok %s\n", check);
        snprintf(notok, sizeof(notok), "not ok %s #", check);
        for (const char *line = proof_out; line && *line;) {
                const char *end = strchrnul(line, '\n');
                if (strncmp(line, ok, strlen(ok)) == 0)
                        return 1;
                if (strncmp(line, notok, strlen(notok)) == 0) {
                        const char *reason = line + strlen(notok);
                        snprintf(why, why_size, "%.*s", (int)(end - reason), reason);
                        return 0;
                }
                line = *end ? end + 1 : end;
        }
        return -1;
}

static void assert_check(const char *check)
{
        char why[1024] = "";
        int result = proof_result(check, why, sizeof(why));
        ck_assert_msg(result >= 0, "the proof printed no line for %s (exit status %d); stderr:\n%s", check,
                      proof_status, proof_err ? proof_err : "");
        ck_assert_msg(result == 1, "%s:%s", check, why);
}

#define PROOF_TEST(fn, check)                   \
        START_TEST(fn) { assert_check(check); } \
        END_TEST

PROOF_TEST(container_boots, "boot")
PROOF_TEST(deb_installs_enabled_with_conffiles, "install")
PROOF_TEST(units_verify_clean, "units-verify")
PROOF_TEST(package_starts_service_on_install, "install-started")
PROOF_TEST(start_reaches_active, "start-active")
PROOF_TEST(dropped_in_job_runs_without_restart, "job-runs")
PROOF_TEST(outcome_has_documented_journal_fields, "journal-fields")
PROOF_TEST(outcome_names_the_user, "journal-user-field")
PROOF_TEST(status_text_names_jobs_and_next, "status-text")
PROOF_TEST(job_output_under_its_name, "job-output")
PROOF_TEST(catalog_text_with_journalctl_x, "journal-catalog")
PROOF_TEST(reload_with_broken_file_keeps_old_jobs, "reload-broken-file")
PROOF_TEST(tickctl_list_as_root, "tickctl-list")
PROOF_TEST(tickctl_status_as_root, "tickctl-status")
PROOF_TEST(tickctl_run_wait_as_root, "tickctl-run")
PROOF_TEST(tickctl_history_as_root, "tickctl-history")
PROOF_TEST(exported_units_run_as_tickd_runs_the_job, "export-systemd")
PROOF_TEST(tickctl_list_unprivileged_sees_own_jobs, "tickctl-list-unprivileged")
PROOF_TEST(watchdog_kills_and_restarts_stopped_daemon, "watchdog-restart")
PROOF_TEST(restart_keeps_running_job_and_logs_it, "restart-keeps-job")
PROOF_TEST(user_restart_keeps_running_job_and_logs_it, "user-restart-keeps-job")
PROOF_TEST(daemon_runs_in_its_own_leaf_cgroup, "daemon-in-leaf-cgroup")
PROOF_TEST(stale_empty_run_cgroup_removed_at_start, "stale-run-cgroup-removed")
PROOF_TEST(timeout_kills_setsid_descendant, "timeout-kills-setsid")
PROOF_TEST(cancel_kills_setsid_descendant_run_shown_by_cgls, "cancel-kills-setsid")
PROOF_TEST(kill_leftovers_no_keeps_them_until_they_exit, "leftovers-kept-then-cgroup-removed")
PROOF_TEST(memory_max_oom_kill_recorded, "memory-max-oom")
PROOF_TEST(tasks_max_stops_fork_storm, "tasks-max-storm")
PROOF_TEST(pam_expired_account_does_not_run, "pam-expired-account")
PROOF_TEST(pam_limits_nofile_reaches_job, "pam-limits-nofile")
PROOF_TEST(pam_session_opened_ahead_of_the_instant_still_limits_the_job, "pam-session-ahead")
PROOF_TEST(upgrade_restarts_service, "upgrade-restarts")
PROOF_TEST(stop_cancels_running_job_and_exits_cleanly, "stop-clean")
PROOF_TEST(user_unit_runs_users_job, "user-unit")
PROOF_TEST(purge_stops_and_removes_state, "purge")
PROOF_TEST(container_powered_off, "poweroff")

/* Whatever the proof's outcome, nothing of the container is left. */
START_TEST(no_cgroup_or_process_left)
{
        const char *hierarchies[] = { "unified", "systemd" };
        for (size_t i = 0; i < 2; i++) {
                char path[256];
                struct stat st;
                snprintf(path, sizeof(path), "/sys/fs/cgroup/%s/%s", hierarchies[i], proof_name);
                ck_assert_msg(stat(path, &st) != 0, "%s left behind", path);
        }
        char *argv[] = { "/usr/bin/pgrep", "-f", proof_name, NULL };
        int status = harness_run(argv, NULL, NULL, NULL);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "processes of %s still running", proof_name);
}
END_TEST

static Suite *systemd_suite(void)
{
        Suite *s = suite_create("systemd");
        TCase *tc = tcase_create("proof");
        tcase_add_unchecked_fixture(tc, proof_setup, NULL);
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, container_boots);
        tcase_add_test(tc, deb_installs_enabled_with_conffiles);
        tcase_add_test(tc, units_verify_clean);
        tcase_add_test(tc, package_starts_service_on_install);
        tcase_add_test(tc, start_reaches_active);
        tcase_add_test(tc, dropped_in_job_runs_without_restart);
        tcase_add_test(tc, outcome_has_documented_journal_fields);
        tcase_add_test(tc, outcome_names_the_user);
        tcase_add_test(tc, status_text_names_jobs_and_next);
        tcase_add_test(tc, job_output_under_its_name);
        tcase_add_test(tc, catalog_text_with_journalctl_x);
        tcase_add_test(tc, reload_with_broken_file_keeps_old_jobs);
        tcase_add_test(tc, tickctl_list_as_root);
        tcase_add_test(tc, tickctl_status_as_root);
        tcase_add_test(tc, tickctl_run_wait_as_root);
        tcase_add_test(tc, tickctl_history_as_root);
        tcase_add_test(tc, exported_units_run_as_tickd_runs_the_job);
        tcase_add_test(tc, tickctl_list_unprivileged_sees_own_jobs);
        tcase_add_test(tc, watchdog_kills_and_restarts_stopped_daemon);
        tcase_add_test(tc, restart_keeps_running_job_and_logs_it);
        tcase_add_test(tc, user_restart_keeps_running_job_and_logs_it);
        tcase_add_test(tc, daemon_runs_in_its_own_leaf_cgroup);
        tcase_add_test(tc, stale_empty_run_cgroup_removed_at_start);
        tcase_add_test(tc, timeout_kills_setsid_descendant);
        tcase_add_test(tc, cancel_kills_setsid_descendant_run_shown_by_cgls);
        tcase_add_test(tc, kill_leftovers_no_keeps_them_until_they_exit);
        const TTest *const limit_tests[] = { memory_max_oom_kill_recorded, tasks_max_stops_fork_storm };
        for (size_t i = 0; i < sizeof(limit_checks) / sizeof(limit_checks[0]); i++) {
                if (host_cgroup2_has(limit_checks[i].controller))
                        tcase_add_test(tc, limit_tests[i]);
                else
                        fprintf(stderr,
                                "NOT RUN %s: this host's cgroup v2 has no %s controller (bound to cgroup v1), so no "
                                "container here can limit a run with it\n",
                                limit_checks[i].check, limit_checks[i].controller);
        }
        tcase_add_test(tc, pam_expired_account_does_not_run);
        tcase_add_test(tc, pam_limits_nofile_reaches_job);
        tcase_add_test(tc, pam_session_opened_ahead_of_the_instant_still_limits_the_job);
        tcase_add_test(tc, upgrade_restarts_service);
        tcase_add_test(tc, stop_cancels_running_job_and_exits_cleanly);
        tcase_add_test(tc, user_unit_runs_users_job);
        tcase_add_test(tc, purge_stops_and_removes_state);
        tcase_add_test(tc, container_powered_off);
        tcase_add_test(tc, no_cgroup_or_process_left);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(systemd_suite)
