/* test-collector.c — a finished run's one word when it had a cgroup of its
 * own (issue 19): an OOM kill anywhere in the run's cgroup makes it a
 * failure, whatever its main process's status; a stop still names the
 * stop; without a cgroup the new fields mean nothing. */
#include "harness/harness.h"
#include "shared/log.h"
#include "tickd/collector.h"
#include "tickd/runner.h"

static struct outcome exited(int code)
{
        return (struct outcome){ .kind = OUTCOME_FINISHED, .status = OUTCOME_EXITED, .code = code };
}

START_TEST(oom_kill_in_the_runs_cgroup_is_a_failure_even_after_exit_0)
{
        struct outcome o = exited(0);
        o.in_cgroup = 1;
        o.oom_kills = 1;
        ck_assert_int_eq(collector_outcome_event(&o), LOG_EVENT_FAILED);
        o.oom_kills = 0;
        ck_assert_int_eq(collector_outcome_event(&o), LOG_EVENT_SUCCEEDED);
        o.oom_kills = -1; /* unknown: no memory controller */
        ck_assert_int_eq(collector_outcome_event(&o), LOG_EVENT_SUCCEEDED);
}
END_TEST

START_TEST(oom_fields_without_a_cgroup_are_ignored)
{
        /* A record of the previous version: the bytes are not cgroup fields. */
        struct outcome o = exited(0);
        o.oom_kills = 3;
        ck_assert_int_eq(collector_outcome_event(&o), LOG_EVENT_SUCCEEDED);
}
END_TEST

START_TEST(timeout_and_cancel_still_name_the_stop)
{
        struct outcome o = { .kind = OUTCOME_FINISHED, .status = OUTCOME_SIGNALED, .signal = 9 };
        o.in_cgroup = 1;
        o.oom_kills = 1;
        o.timed_out = 1;
        ck_assert_int_eq(collector_outcome_event(&o), LOG_EVENT_TIMED_OUT);
        o.timed_out = 0;
        o.cancelled = 1;
        ck_assert_int_eq(collector_outcome_event(&o), LOG_EVENT_CANCELLED);
}
END_TEST

static Suite *collector_suite(void)
{
        Suite *s = suite_create("collector");
        TCase *tc = tcase_create("outcome-event");
        tcase_add_test(tc, oom_kill_in_the_runs_cgroup_is_a_failure_even_after_exit_0);
        tcase_add_test(tc, oom_fields_without_a_cgroup_are_ignored);
        tcase_add_test(tc, timeout_and_cancel_still_name_the_stop);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(collector_suite)
