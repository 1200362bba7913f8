/* test-clock.c — end to end: the real tickd while the realtime clock is
 * really stepped (clock_settime; root with CAP_SYS_TIME, else the tests
 * FAIL). A step forward of more than a minute runs a persistent job once
 * for all its skipped instants and skips a non-persistent one; a step of
 * less than a minute runs the skipped instants once; stepping back repeats
 * no instant that already ran or was skipped.
 *
 * Other tests may run on this machine at the same time: the clock stays
 * stepped for a second or two only, and it is always put back, from the
 * monotonic time elapsed since the first step (so the net drift is the
 * latency of one system call): by the test, by an atexit() handler when an
 * assertion ends the test's process, and by the test case's unchecked
 * teardown (in Check's parent process) when the test was killed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

#define USEC INT64_C(1000000)

/* Shared between Check's parent and the forked test (MAP_SHARED), so the
 * parent can put the clock back after a test that died stepped. */
struct clock_guard {
        bool stepped;
        int64_t realtime0_usec;  /* CLOCK_REALTIME just before the first step */
        int64_t monotonic0_usec; /* CLOCK_MONOTONIC at the same moment */
};
static struct clock_guard *guard;

static int64_t clock_usec(clockid_t id)
{
        struct timespec ts;
        clock_gettime(id, &ts);
        return (int64_t)ts.tv_sec * USEC + ts.tv_nsec / 1000;
}

static int realtime_set(int64_t usec)
{
        struct timespec ts = { .tv_sec = (time_t)(usec / USEC), .tv_nsec = (long)(usec % USEC) * 1000 };
        return clock_settime(CLOCK_REALTIME, &ts) < 0 ? -errno : 0;
}

/* Puts the clock where it would be had it never been stepped. */
static void clock_restore(void)
{
        if (!guard || !guard->stepped)
                return;
        int64_t target = guard->realtime0_usec + (clock_usec(CLOCK_MONOTONIC) - guard->monotonic0_usec);
        int r = realtime_set(target);
        if (r < 0) {
                fprintf(stderr, "test-clock: CANNOT RESTORE THE CLOCK: %s\n", strerror(-r));
                return;
        }
        guard->stepped = false;
}

static void clock_step(int64_t delta_usec)
{
        int64_t mono = clock_usec(CLOCK_MONOTONIC), real = clock_usec(CLOCK_REALTIME);
        if (!guard->stepped) {
                guard->realtime0_usec = real;
                guard->monotonic0_usec = mono;
        }
        int r = realtime_set(real + delta_usec);
        ck_assert_msg(r == 0,
                      "clock_settime(CLOCK_REALTIME): %s: this test steps the system clock and must run as root "
                      "with CAP_SYS_TIME (it is not skipped)",
                      strerror(-r));
        guard->stepped = true;
}

static void guard_setup(void) /* unchecked: in Check's parent */
{
        guard = mmap(NULL, sizeof(*guard), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ck_assert_ptr_ne(guard, MAP_FAILED);
        *guard = (struct clock_guard){ 0 };
}

static void guard_teardown(void) /* unchecked: in Check's parent */
{
        clock_restore();
        munmap(guard, sizeof(*guard));
        guard = NULL;
}

static void test_setup(void) /* checked: in the test's process */
{
        /* A failed assertion exit()s the test's process: put the clock back
         * there too, at once, not only when the parent gets to it. */
        atexit(clock_restore);
}

static void test_teardown(void) { clock_restore(); }

static void stop(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 20000);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                fprintf(stderr, "tickd log:\n%s\n", t->log);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        harness_reap_children(3000);
}

/* The scheduled instants (seconds) of JOB's started records after offset
 * FROM, in order; returns how many (at most MAX). */
static int started_instants(const struct tickd *t, size_t from, const char *job, long long *out, int max)
{
        char needle[64];
        snprintf(needle, sizeof(needle), "event=started job=%s ", job);
        int n = 0;
        for (const char *p = t->log + from; (p = strstr(p, needle)); p += strlen(needle)) {
                const char *eol = strchr(p, '\n');
                const char *s = strstr(p, " scheduled=");
                ck_assert_msg(s && (!eol || s < eol), "a started record without scheduled=: %.200s", p);
                if (n < max)
                        out[n] = strtoll(s + strlen(" scheduled="), NULL, 10);
                n++;
        }
        return n;
}

/* The step (seconds) in the first clock-changed record after FROM. */
static double step_logged(const struct tickd *t, size_t from)
{
        const char *p = strstr(t->log + from, "msg=\"the system clock was set (");
        ck_assert_msg(p, "no clock-changed message:\n%s", t->log + from);
        return strtod(p + strlen("msg=\"the system clock was set ("), NULL);
}

/* The sum of the steps (seconds) in the clock-changed records after FROM.
 * The clock is the machine's: another test that steps it meanwhile, and
 * puts it back, adds two records but nothing to the sum (CI once saw a
 * step back logged before this test put the clock back itself). */
static double steps_logged(const struct tickd *t, size_t from)
{
        static const char needle[] = "msg=\"the system clock was set (";
        double sum = 0;
        for (const char *p = t->log + from; (p = strstr(p, needle)); p += strlen(needle))
                sum += strtod(p + strlen(needle), NULL);
        return sum;
}

static int count_after(const struct tickd *t, size_t from, const char *needle)
{
        int n = 0;
        for (const char *p = t->log + from; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* Waits for JOB's next started record after FROM and returns its instant:
 * the test then acts a fraction of a second after an instant. */
static long long wait_for_a_run(struct tickd *t, const char *job, size_t from)
{
        long long at[1];
        long long deadline = harness_now_ms() + 15000;
        while (started_instants(t, from, job, at, 1) == 0 && harness_now_ms() < deadline)
                tickd_pump(t, 100);
        ck_assert_msg(started_instants(t, from, job, at, 1) > 0, "%s never ran:\n%s", job, t->log);
        return at[0];
}

START_TEST(forward_step_over_a_minute_runs_a_persistent_job_once_and_skips_the_other)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "p.ini", "[p]\nschedule = */10 * * * * *\npersistent = yes\ncommand = true\n");
        tickd_write_job(t, "n.ini", "[n]\nschedule = */10 * * * * *\ncommand = true\n");
        long long x0 = wait_for_a_run(t, "p", 0);
        /* Both runs of x0 over, so overlap = skip does not get in the way. */
        ck_assert(tickd_wait_for(t, "event=succeeded job=p ", 1, 5000));
        ck_assert(tickd_wait_for(t, "event=succeeded job=n ", 1, 5000));
        size_t mark = t->log_len;
        /* Counted before the step: p's catch-up run may be logged in the
         * same read as the clock-changed record. */
        int p_runs = count_after(t, 0, "event=started job=p ");

        clock_step(150 * USEC); /* over the instants x0+10 .. x0+150 */
        bool changed = tickd_wait_for(t, "event=clock-changed", 1, 5000);
        bool p_ran = tickd_wait_for(t, "event=started job=p ", p_runs + 1, 5000);
        bool n_skipped = tickd_wait_for(t, "event=skipped job=n ", 1, 5000);
        size_t back = t->log_len;
        clock_restore();
        ck_assert_msg(changed && p_ran && n_skipped, "after the step: clock-changed %d, p ran %d, n skipped %d:\n%s",
                      changed, p_ran, n_skipped, t->log + mark);
        ck_assert_double_eq_tol(step_logged(t, mark), 150.0, 0.5);

        long long got[8];
        ck_assert_int_eq(started_instants(t, mark, "p", got, 8), 1);
        ck_assert_int_eq(got[0], x0 + 150);
        ck_assert_int_eq(started_instants(t, mark, "n", got, 8), 0);
        ck_assert_ptr_nonnull(strstr(t->log + mark, "15 missed instants run once"));

        /* Back where it was: the clock passes x0+10 and x0+20 again, which
         * were decided (run or skipped) in the jump; none of them runs. */
        long long deadline = harness_now_ms() + 5000;
        for (double d = steps_logged(t, back) + 150.0; (d < -2.5 || d > 2.5) && harness_now_ms() < deadline;
             d = steps_logged(t, back) + 150.0)
                tickd_pump(t, 100);
        ck_assert_double_eq_tol(steps_logged(t, back), -150.0, 2.5);
        tickd_pump(t, 22000);
        ck_assert_int_eq(started_instants(t, back, "p", got, 8), 0);
        ck_assert_int_eq(started_instants(t, back, "n", got, 8), 0);
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(forward_step_under_a_minute_runs_skipped_instants_once_and_back_repeats_none)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "n.ini", "[n]\nschedule = */10 * * * * *\ncommand = true\n");
        long long x0 = wait_for_a_run(t, "n", 0);
        ck_assert(tickd_wait_for(t, "event=succeeded job=n ", 1, 5000));
        size_t mark = t->log_len;
        int n_runs = count_after(t, 0, "event=started job=n ");

        clock_step(25 * USEC); /* over x0+10 and x0+20: the run is some 15 s late */
        bool ran = tickd_wait_for(t, "event=started job=n ", n_runs + 1, 5000);
        clock_restore();
        ck_assert_msg(ran, "n did not run after a 25 s step:\n%s", t->log + mark);
        ck_assert(tickd_wait_for(t, "event=clock-changed", 2, 5000));

        /* Back at x0 + ~1 s: x0+10 and x0+20 come round again and must not
         * run; x0+30 is new. */
        long long got[8];
        long long deadline = harness_now_ms() + 40000;
        while (started_instants(t, mark, "n", got, 8) < 2 && harness_now_ms() < deadline)
                tickd_pump(t, 200);
        int n = started_instants(t, mark, "n", got, 8);
        ck_assert_msg(n == 2, "runs after the step: %d\n%s", n, t->log + mark);
        ck_assert_int_eq(got[0], x0 + 20);
        ck_assert_int_eq(got[1], x0 + 30);
        ck_assert_int_eq(count_after(t, mark, "event=skipped job=n "), 0);
        stop(t);
        tickd_free(t);
}
END_TEST

static Suite *clock_suite(void)
{
        Suite *s = suite_create("clock");
        TCase *tc = tcase_create("steps");
        tcase_add_leak_fixture(tc);
        tcase_add_unchecked_fixture(tc, guard_setup, guard_teardown);
        tcase_add_checked_fixture(tc, test_setup, test_teardown);
        tcase_set_timeout(tc, 90);
        tcase_add_test(tc, forward_step_over_a_minute_runs_a_persistent_job_once_and_skips_the_other);
        tcase_add_test(tc, forward_step_under_a_minute_runs_skipped_instants_once_and_back_repeats_none);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(clock_suite)
