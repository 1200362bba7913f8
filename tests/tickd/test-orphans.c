/* test-orphans.c — runs outlive a tickd killed outside systemd (no fd
 * store: no NOTIFY_SOCKET), and the next instance on the same state
 * directory records them once and keeps to their overlap policy meanwhile. */
#include <fcntl.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

/* The run id and job pid of JOB's first started record. */
static void started_run(const struct tickd *t, const char *job, char run_id[33], pid_t *pid)
{
        char needle[128];
        snprintf(needle, sizeof(needle), "event=started job=%s run=", job);
        const char *line = strstr(t->log, needle);
        ck_assert_msg(line, "no started record of %s in:\n%s", job, t->log);
        snprintf(run_id, 33, "%.32s", line + strlen(needle));
        const char *as = strstr(line, "started as pid ");
        ck_assert_ptr_nonnull(as);
        *pid = (pid_t)atoi(as + strlen("started as pid "));
        ck_assert_int_gt(*pid, 1);
}

/* Records that end the run RUN_ID (any outcome). */
static int final_records(const struct tickd *t, const char *job, const char *run_id)
{
        static const char *const ends[] = { "succeeded", "failed", "cancelled", "timed-out", "lost" };
        int n = 0;
        for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
                char needle[160];
                snprintf(needle, sizeof(needle), "event=%s job=%s run=%s", ends[i], job, run_id);
                n += tickd_count(t, needle);
        }
        return n;
}

/* A job every second, overlap = skip, that runs until GATE exists and then
 * fails with status 3. Returns tickd with its first run going. */
static struct tickd *start_gated(const char *job, char gate[static 256])
{
        struct tickd *t = tickd_start(NULL, NULL);
        snprintf(gate, 256, "%s/gate", t->dir);
        char ini[640];
        snprintf(ini, sizeof(ini),
                 "[%s]\nschedule = * * * * * *\noverlap = skip\n"
                 "command = while [ ! -e %s ]; do sleep 0.05; done; exit 3\n",
                 job, gate);
        tickd_write_job(t, "job.ini", ini);
        char needle[64];
        snprintf(needle, sizeof(needle), "event=started job=%s ", job);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 8000), "%s", t->log);
        return t;
}

START_TEST(a_run_left_by_a_killed_tickd_is_skipped_over_and_recorded_once)
{
        char gate[256], run_id[33];
        pid_t job_pid;
        struct tickd *t = start_gated("g", gate);
        started_run(t, "g", run_id, &job_pid);
        tickd_stop(t, SIGKILL, 5000);
        ck_assert_msg(kill(job_pid, 0) == 0, "the job died with tickd");

        int skipped = tickd_count(t, "event=skipped job=g ");
        tickd_restart(t);
        /* The next instants find the orphan running: skipped, never started. */
        ck_assert_msg(tickd_wait_for(t, "event=skipped job=g ", skipped + 2, 6000),
                      "no run was skipped while the orphan ran:\n%s", t->log);
        ck_assert_int_eq(tickd_count(t, "event=started job=g "), 1);
        ck_assert_int_eq(final_records(t, "g", run_id), 0);

        /* Its outcome is the job's own: the runner hands it over. */
        int fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
        char needle[160];
        snprintf(needle, sizeof(needle), "event=failed job=g run=%s", run_id);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 5000), "%s", t->log);
        ck_assert_ptr_nonnull(strstr(strstr(t->log, needle), " code=3 "));
        /* Once the orphan is done, the job runs again. */
        ck_assert_msg(tickd_wait_for(t, "event=started job=g ", 2, 5000), "%s", t->log);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 10000), 0);
        ck_assert_int_eq(final_records(t, "g", run_id), 1);

        /* Nothing is left for a third instance to record again. */
        tickd_restart(t);
        tickd_pump(t, 500);
        ck_assert_int_eq(final_records(t, "g", run_id), 1);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 10000), 0);
        harness_reap_children(5000); /* the first instance's runner was orphaned to us */
        tickd_free(t);
}
END_TEST

START_TEST(a_run_whose_runner_died_with_tickd_is_recorded_lost)
{
        char gate[256], run_id[33];
        pid_t job_pid;
        struct tickd *t = start_gated("d", gate);
        started_run(t, "d", run_id, &job_pid);
        tickd_stop(t, SIGKILL, 5000);
        /* Its runner dies too, before any daemon runs again, without a word. */
        pid_t runner = harness_child_by_comm(getpid(), "tickd:d");
        ck_assert_int_gt(runner, 0);
        kill(runner, SIGKILL);
        kill(-job_pid, SIGKILL);
        harness_reap_children(3000);

        tickd_restart(t);
        char needle[160];
        snprintf(needle, sizeof(needle), "event=lost job=d run=%s", run_id);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 3000), "%s", t->log);
        ck_assert_msg(strstr(t->log, "tickd was killed while it ran"), "%s", t->log);
        /* It holds nothing back: the next instant starts a run. */
        ck_assert_msg(tickd_wait_for(t, "event=started job=d ", 2, 5000), "%s", t->log);
        int fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 10000), 0);
        ck_assert_int_eq(final_records(t, "d", run_id), 1);
        harness_reap_children(5000);
        tickd_free(t);
}
END_TEST

START_TEST(a_record_that_is_not_a_regular_file_is_dropped_unread)
{
        struct tickd *t = tickd_start(NULL, NULL);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 10000), 0);
        /* Neither a FIFO (an open would block) nor a link is followed. */
        char path[512];
        snprintf(path, sizeof(path), "%s/state/runs/0123456789abcdef0123456789abcdef", t->dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        snprintf(path, sizeof(path), "%s/state/runs/fedcba9876543210fedcba9876543210", t->dir);
        ck_assert_int_eq(symlink("/etc/passwd", path), 0);
        tickd_restart(t);
        ck_assert_msg(t->starts == 2 && tickd_count(t, "is unreadable") == 2, "%s", t->log);
        ck_assert_int_eq(tickd_count(t, "event=lost"), 0);
        ck_assert_int_ne(access(path, F_OK), 0);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 10000), 0);
        tickd_free(t);
}
END_TEST

/* Whether FILE holds TEXT (waits up to TIMEOUT_MS for it). */
static bool file_gets(const char *file, const char *text, int timeout_ms)
{
        long long deadline = harness_now_ms() + timeout_ms;
        do {
                char buf[4096] = "";
                FILE *fp = fopen(file, "re");
                if (fp) {
                        size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
                        buf[n] = '\0';
                        fclose(fp);
                }
                if (strstr(buf, text))
                        return true;
                usleep(20 * 1000);
        } while (harness_now_ms() < deadline);
        return false;
}

/* Issue 16: the runs of one instant share one runner, so their records
 * name one pid; each is still recorded with its own outcome. */
START_TEST(runs_of_a_shared_runner_left_by_a_killed_tickd_keep_their_own_outcomes)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char gate[256], ini[1024];
        snprintf(gate, sizeof(gate), "%s/gate", t->dir);
        char *at = harness_cron_in(2);
        snprintf(ini, sizeof(ini),
                 "[quick]\nschedule = %s\ncommand = sleep 0.5; exit 5\n\n"
                 "[gated]\nschedule = %s\ncommand = while [ ! -e %s ]; do sleep 0.05; done\n",
                 at, at, gate);
        free(at);
        tickd_write_job(t, "job.ini", ini);
        ck_assert_msg(tickd_wait_for(t, "event=started job=quick ", 1, 8000), "%s", t->log);
        ck_assert_msg(tickd_wait_for(t, "event=started job=gated ", 1, 8000), "%s", t->log);
        ck_assert_int_gt(harness_child_by_comm(t->pid, "tickd:batch"), 0);
        char quick_id[33], gated_id[33], record[600];
        pid_t quick_pid, gated_pid;
        started_run(t, "quick", quick_id, &quick_pid);
        started_run(t, "gated", gated_id, &gated_pid);
        tickd_stop(t, SIGKILL, 5000);
        /* quick ends while no tickd runs: the runner puts its outcome in
         * its record (nobody reads the batch pipe), and goes on with gated. */
        snprintf(record, sizeof(record), "%s/state/runs/%s", t->dir, quick_id);
        ck_assert_msg(file_gets(record, "code=5\n", 5000), "quick's record has no outcome");

        tickd_restart(t);
        char needle[160];
        snprintf(needle, sizeof(needle), "event=failed job=quick run=%s", quick_id);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 5000), "%s", t->log);
        ck_assert_ptr_nonnull(strstr(strstr(t->log, needle), " code=5 "));
        snprintf(needle, sizeof(needle), "event=adopted job=gated run=%s", gated_id);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 5000), "%s", t->log);
        ck_assert_int_eq(final_records(t, "gated", gated_id), 0);
        int fd = open(gate, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        close(fd);
        snprintf(needle, sizeof(needle), "event=succeeded job=gated run=%s", gated_id);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 5000), "%s", t->log);
        ck_assert_int_eq(final_records(t, "quick", quick_id), 1);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 10000), 0);
        harness_reap_children(5000); /* the first instance's runner was orphaned to us */
        tickd_free(t);
}
END_TEST

static Suite *orphans_suite(void)
{
        Suite *s = suite_create("orphans");
        TCase *tc = tcase_create("killed");
        tcase_set_timeout(tc, 60);
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, a_run_left_by_a_killed_tickd_is_skipped_over_and_recorded_once);
        tcase_add_test(tc, a_run_whose_runner_died_with_tickd_is_recorded_lost);
        tcase_add_test(tc, a_record_that_is_not_a_regular_file_is_dropped_unread);
        tcase_add_test(tc, runs_of_a_shared_runner_left_by_a_killed_tickd_keep_their_own_outcomes);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(orphans_suite)
