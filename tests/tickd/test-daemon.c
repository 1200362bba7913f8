/* test-daemon.c — end to end: the real tickd, second-granularity schedules,
 * every kind of outcome, the batch/collector guarantees and shutdown. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness-ctl.h"
#include "harness/harness-daemon.h"
#include "harness/harness.h"

static char *file_in(const struct tickd *t, const char *name)
{
        char *p;
        ck_assert_int_ge(asprintf(&p, "%s/%s", t->dir, name), 0);
        return p;
}

static long read_long(const char *path)
{
        FILE *f = fopen(path, "re");
        long v = -1;
        if (f) {
                if (fscanf(f, "%ld", &v) != 1)
                        v = -1;
                fclose(f);
        }
        return v;
}

START_TEST(fires_at_the_right_second)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *out = file_in(t, "times");
        char job[512];
        snprintf(job, sizeof(job), "[clock]\nschedule = */2 * * * * *\ncommand = date +%%s.%%N >> %s\n", out);
        tickd_write_job(t, "clock.ini", job);
        ck_assert(tickd_wait_for(t, "event=succeeded job=clock", 3, 12000));
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 10000)), 0);
        FILE *f = fopen(out, "re");
        ck_assert_ptr_nonnull(f);
        double when;
        int lines = 0;
        while (fscanf(f, "%lf", &when) == 1) {
                long second = (long)when;
                ck_assert_msg(second % 2 == 0, "ran at %.3f, not an even second", when);
                ck_assert_msg(when - (double)second < 0.5, "ran at %.3f, late in its second", when);
                lines++;
        }
        fclose(f);
        ck_assert_int_ge(lines, 3);
        free(out);
        tickd_free(t);
}
END_TEST

START_TEST(logs_each_kind_of_outcome)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *at = harness_cron_in(2);
        char jobs[2048];
        snprintf(jobs, sizeof(jobs),
                 "[ok]\nschedule = %s\ncommand = echo fine\n\n"
                 "[three]\nschedule = %s\ncommand = exit 3\n\n"
                 "[signalled]\nschedule = %s\ncommand = kill -TERM $$\n\n"
                 "[nodir]\nschedule = %s\ncommand = true\nworking_directory = /nonexistent-tickd-dir\n\n"
                 "[notfound]\nschedule = %s\ncommand = /nonexistent/program\n",
                 at, at, at, at, at);
        tickd_write_job(t, "outcomes.ini", jobs);
        ck_assert(tickd_wait_for(t, "job=notfound", 2, 10000));
        ck_assert(tickd_wait_for(t, "job=nodir", 1, 5000));
        tickd_wait_for(t, "event=failed", 4, 5000);
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 10000)), 0);
        ck_assert_ptr_nonnull(strstr(t->log, "ok: fine\n"));
        ck_assert_int_eq(tickd_count(t, "event=succeeded job=ok "), 1);
        ck_assert_int_eq(tickd_count(t, "event=failed job=three "), 1);
        ck_assert_ptr_nonnull(strstr(strstr(t->log, "event=failed job=three "), "code=3 "));
        ck_assert_ptr_nonnull(strstr(strstr(t->log, "event=failed job=signalled "), "signal=TERM "));
        const char *nodir = strstr(t->log, "event=failed job=nodir ");
        ck_assert_ptr_nonnull(nodir);
        ck_assert_msg(strstr(nodir, "errno=ENOENT msg=\"run of nodir failed: cannot enter working_directory "
                                    "/nonexistent-tickd-dir: No such file"),
                      "%.300s", nodir);
        ck_assert_ptr_nonnull(strstr(strstr(t->log, "event=failed job=notfound "), "code=127 "));
        ck_assert_ptr_nonnull(strstr(t->log, "notfound: sh: 1: /nonexistent/program: not found"));
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(timeout_kills_the_job_group)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *child = file_in(t, "child");
        char *at = harness_cron_in(2);
        char job[1024];
        snprintf(job, sizeof(job),
                 "[slow]\nschedule = %s\ncommand = sleep 60 & echo $! > %s; wait\ntimeout = 1s\nkill_grace = 1s\n", at,
                 child);
        tickd_write_job(t, "slow.ini", job);
        ck_assert(tickd_wait_for(t, "event=started job=slow", 1, 8000));
        long long start = harness_now_ms();
        /* timeout = 1s, not the 60 s of the sleep (a bound with room for
         * a loaded machine). */
        ck_assert(tickd_wait_for(t, "event=timed-out job=slow", 1, 20000));
        ck_assert_int_lt(harness_now_ms() - start, 20000);
        ck_assert_ptr_nonnull(strstr(strstr(t->log, "event=timed-out job=slow"), "signal=TERM"));
        long pid = read_long(child);
        ck_assert_int_gt(pid, 0);
        /* The background sleep was in the job's group: it is gone too
         * (reaped by us, the subreaper, once orphaned). */
        harness_reap_children(2000);
        ck_assert_int_eq(kill((pid_t)pid, 0) < 0 ? errno : 0, ESRCH);
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 10000)), 0);
        free(child);
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(daemonised_child_does_not_hold_the_batch)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *bg = file_in(t, "bg");
        char *at = harness_cron_in(2);
        char job[1024];
        snprintf(job, sizeof(job), "[daemoniser]\nschedule = %s\ncommand = setsid sleep 300 & echo $! > %s\n", at, bg);
        tickd_write_job(t, "d.ini", job);
        ck_assert(tickd_wait_for(t, "event=started job=daemoniser", 1, 8000));
        long long start = harness_now_ms();
        /* Its outcome comes when its main process exits, not when the
         * 300 s sleep does. */
        ck_assert(tickd_wait_for(t, "event=succeeded job=daemoniser", 1, 5000));
        ck_assert_int_lt(harness_now_ms() - start, 5000);
        /* No batch left open: the log has no batch-stuck, and the daemon
         * stops without waiting for it (a held batch would make shutdown
         * wait for the 90 s shutdown_timeout; the bound leaves room for a
         * loaded machine). */
        long long stop = harness_now_ms();
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 60000)), 0);
        ck_assert_int_lt(harness_now_ms() - stop, 30000);
        ck_assert_int_eq(tickd_count(t, "event=batch-stuck"), 0);
        long pid = read_long(bg);
        ck_assert_int_gt(pid, 0);
        ck_assert_int_eq(kill((pid_t)pid, SIGKILL), 0); /* still alive: we kill it */
        harness_reap_children(2000);
        free(bg);
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(killed_runner_is_lost_and_the_daemon_goes_on)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *at = harness_cron_in(2);
        char job[1024];
        snprintf(job, sizeof(job),
                 "[victim]\nschedule = %s\ncommand = sleep 3\n\n[ticker]\nschedule = * * * * * *\ncommand = true\n",
                 at);
        tickd_write_job(t, "v.ini", job);
        ck_assert(tickd_wait_for(t, "event=started job=victim", 1, 8000));
        /* victim shares its batch's runner with that instant's ticker run
         * (runner.h): whichever it is, killing it loses victim's run. */
        pid_t runner = harness_child_by_comm(t->pid, "tickd:victim");
        if (runner <= 0)
                runner = harness_child_by_comm(t->pid, "tickd:batch");
        ck_assert_int_gt(runner, 0);
        ck_assert_int_eq(kill(runner, SIGKILL), 0);
        ck_assert(tickd_wait_for(t, "event=lost job=victim", 1, 5000));
        int before = tickd_count(t, "event=succeeded job=ticker");
        ck_assert(tickd_wait_for(t, "event=succeeded job=ticker", before + 2, 5000));
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 10000)), 0);
        harness_reap_children(5000); /* the orphaned sleep 3 */
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(sigterm_records_the_running_job)
{
        struct tickd *t = tickd_start("[daemon]\nshutdown_timeout = 5s\n", NULL);
        char *at = harness_cron_in(2);
        char job[1024];
        snprintf(job, sizeof(job), "[long]\nschedule = %s\ncommand = sleep 60\n", at);
        tickd_write_job(t, "l.ini", job);
        ck_assert(tickd_wait_for(t, "event=started job=long", 1, 8000));
        long long start = harness_now_ms();
        int status = tickd_stop(t, SIGTERM, 15000);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        ck_assert_int_lt(harness_now_ms() - start, 4000);
        ck_assert_int_eq(tickd_count(t, "event=daemon-stopping"), 1);
        const char *rec = strstr(t->log, "event=cancelled job=long");
        ck_assert_ptr_nonnull(rec);
        ck_assert_ptr_nonnull(strstr(rec, "signal=TERM"));
        /* The shell dies first; its sleep, killed with it, and the relay
         * that took over the output pipes it still held end a moment
         * later, as our orphans (subreaper): they must end, and be reaped. */
        ck_assert_int_eq(harness_reap_children(3000), 0);
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(shutdown_timeout_kills_what_ignores_sigterm)
{
        struct tickd *t = tickd_start("[daemon]\nshutdown_timeout = 1s\n", NULL);
        char *at = harness_cron_in(2);
        char job[1024];
        snprintf(job, sizeof(job), "[stubborn]\nschedule = %s\ncommand = trap '' TERM; sleep 60\nkill_grace = 30s\n",
                 at);
        tickd_write_job(t, "s.ini", job);
        ck_assert(tickd_wait_for(t, "event=started job=stubborn", 1, 8000));
        usleep(200 * 1000); /* let the shell install its trap */
        long long start = harness_now_ms();
        int status = tickd_stop(t, SIGTERM, 15000);
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        ck_assert_int_lt(harness_now_ms() - start, 5000);
        const char *rec = strstr(t->log, "event=cancelled job=stubborn");
        ck_assert_ptr_nonnull(rec);
        ck_assert_ptr_nonnull(strstr(rec, "signal=KILL"));
        harness_reap_children(3000);
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(stuck_batch_is_reported_by_name)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *at = harness_cron_in(2);
        char job[512];
        snprintf(job, sizeof(job), "[stuck]\nschedule = %s\ncommand = sleep 30\ntimeout = 1s\nkill_grace = 1s\n", at);
        tickd_write_job(t, "s.ini", job);
        ck_assert(tickd_wait_for(t, "event=started job=stuck", 1, 8000));
        pid_t runner = harness_child_by_comm(t->pid, "tickd:stuck");
        ck_assert_int_gt(runner, 0);
        /* A stopped runner cannot enforce the timeout: the batch outlives
         * timeout + kill_grace, and the daemon says so. */
        ck_assert_int_eq(kill(runner, SIGSTOP), 0);
        ck_assert(tickd_wait_for(t, "event=batch-stuck", 1, 10000));
        ck_assert_ptr_nonnull(strstr(strstr(t->log, "event=batch-stuck"), "waiting for: stuck"));
        ck_assert_int_eq(kill(runner, SIGCONT), 0);
        ck_assert(tickd_wait_for(t, "event=timed-out job=stuck", 1, 8000));
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 10000)), 0);
        int left = harness_reap_children(3000);
        if (left)
                system("ps -o pid,ppid,stat,comm,args --ppid $PPID >&2");
        ck_assert_int_eq(left, 0);
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(random_delay_stays_within_its_bound)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *out = file_in(t, "times");
        char job[512];
        snprintf(job, sizeof(job),
                 "[spread]\nschedule = */3 * * * * *\nrandom_delay = 2s\ncommand = date +%%s.%%N >> %s\n", out);
        tickd_write_job(t, "spread.ini", job);
        ck_assert(tickd_wait_for(t, "event=succeeded job=spread", 3, 15000));
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 10000)), 0);
        FILE *f = fopen(out, "re");
        ck_assert_ptr_nonnull(f);
        double when, max_offset = 0;
        int lines = 0;
        while (fscanf(f, "%lf", &when) == 1) {
                long base = (long)when - (long)when % 3;
                double offset = when - (double)base;
                ck_assert_msg(offset < 2.5, "ran %.3fs after its instant, past random_delay", offset);
                if (offset > max_offset)
                        max_offset = offset;
                lines++;
        }
        fclose(f);
        ck_assert_int_ge(lines, 3);
        /* Three draws all under 50 ms: about 1 in 64,000 if uniform. */
        ck_assert_msg(max_offset > 0.05, "no delay drawn (max offset %.3fs)", max_offset);
        free(out);
        tickd_free(t);
}
END_TEST

/* Issue 16: the runs of one instant share one runner; tickctl cancel of
 * one of them stops that run only (SIGRTMIN with its slot, runner.h). */
START_TEST(tickctl_cancel_stops_one_run_of_a_shared_runner)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *at = harness_cron_in(2);
        char job[1024];
        snprintf(job, sizeof(job),
                 "[stop-me]\nschedule = %s\ncommand = sleep 30\n\n[keep-me]\nschedule = %s\ncommand = sleep 2\n", at,
                 at);
        tickd_write_job(t, "c.ini", job);
        ck_assert(tickd_wait_for(t, "event=started job=stop-me", 1, 8000));
        ck_assert(tickd_wait_for(t, "event=started job=keep-me", 1, 8000));
        ck_assert_int_gt(harness_child_by_comm(t->pid, "tickd:batch"), 0);
        char runtime[512], state[512];
        snprintf(runtime, sizeof(runtime), "%s/runtime", t->dir);
        snprintf(state, sizeof(state), "%s/state", t->dir);
        struct ctl_result r = harness_ctl(
                &(struct ctl_target){ .runtime_base = runtime, .config_dir = t->config_dir, .state_dir = state }, NULL,
                (const char *const[]){ "cancel", "stop-me", NULL });
        ck_assert_msg(r.status == 0, "tickctl cancel: %d: %s", r.status, r.err);
        ctl_result_free(&r);
        ck_assert(tickd_wait_for(t, "event=cancelled job=stop-me", 1, 5000));
        ck_assert_msg(tickd_wait_for(t, "event=succeeded job=keep-me", 1, 8000), "%s", t->log);
        ck_assert_int_eq(tickd_count(t, "event=cancelled job=keep-me"), 0);
        ck_assert_int_eq(WEXITSTATUS(tickd_stop(t, SIGTERM, 10000)), 0);
        harness_reap_children(3000);
        free(at);
        tickd_free(t);
}
END_TEST

static Suite *daemon_suite(void)
{
        Suite *s = suite_create("daemon");
        TCase *tc = tcase_create("end-to-end");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, fires_at_the_right_second);
        tcase_add_test(tc, logs_each_kind_of_outcome);
        tcase_add_test(tc, timeout_kills_the_job_group);
        tcase_add_test(tc, daemonised_child_does_not_hold_the_batch);
        tcase_add_test(tc, killed_runner_is_lost_and_the_daemon_goes_on);
        tcase_add_test(tc, sigterm_records_the_running_job);
        tcase_add_test(tc, shutdown_timeout_kills_what_ignores_sigterm);
        tcase_add_test(tc, stuck_batch_is_reported_by_name);
        tcase_add_test(tc, random_delay_stays_within_its_bound);
        tcase_add_test(tc, tickctl_cancel_stops_one_run_of_a_shared_runner);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(daemon_suite)
