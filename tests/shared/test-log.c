/* test-log.c — the stderr target's key=value lines: whatever a job name or
 * a message holds, a record stays one line whose fields cannot be forged. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/harness.h"
#include "shared/log.h"

/* Emits RECORD with message MESSAGE to a pipe standing in for stderr and
 * returns what came out (malloc'd). */
static char *capture(const struct log_record *record, const char *message)
{
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        fflush(stderr);
        int saved = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        ck_assert_int_ge(saved, 0);
        ck_assert_int_ge(dup2(fds[1], STDERR_FILENO), 0);
        close(fds[1]);
        log_setup(LOG_TARGET_STDERR, LOG_DEBUG);
        log_emit(record, "%s", message);
        fflush(stderr);
        ck_assert_int_ge(dup2(saved, STDERR_FILENO), 0);
        close(saved);
        char *out = calloc(1, 65536);
        ck_assert_ptr_nonnull(out);
        size_t len = 0;
        ssize_t n;
        while ((n = read(fds[0], out + len, 65535 - len)) > 0)
                len += (size_t)n;
        close(fds[0]);
        return out;
}

static const char forged[] = "x\" \\ \n event=succeeded job=x\r\t\x1b[2J\x1b]0;owned\x07\x7f";
static const char forged_escaped[] = "\"x\\\" \\\\ \\n event=succeeded job=x\\r\\t\\x1b[2J\\x1b]0;owned\\x07\\x7f\"";

START_TEST(a_hostile_job_name_and_message_stay_one_escaped_line)
{
        char *text = capture(&(struct log_record){ .event = LOG_EVENT_FAILED,
                                                   .job = forged,
                                                   .user = forged,
                                                   .run_id = "r1",
                                                   .has_exit_status = true,
                                                   .exit_status = 1 },
                             forged);
        char want[1024];
        snprintf(want, sizeof(want), "event=failed job=%s run=r1 user=%s code=1 msg=%s\n", forged_escaped,
                 forged_escaped, forged_escaped);
        ck_assert_str_eq(text, want);
        free(text);
}
END_TEST

START_TEST(a_runs_cgroup_fields_are_printed_when_it_had_one)
{
        char *text = capture(&(struct log_record){ .event = LOG_EVENT_FAILED,
                                                   .job = "hog",
                                                   .has_cgroup = true,
                                                   .leftovers = 2,
                                                   .cgroup_cpu_usec = 1500000,
                                                   .memory_peak = 52428800,
                                                   .oom_kills = 1,
                                                   .reason = "oom-kill" },
                             "m");
        ck_assert_str_eq(text,
                         "event=failed job=hog reason=oom-kill leftovers=2 cgroup_cpu=1.500000s memory_peak=52428800 "
                         "oom_kills=1 msg=\"m\"\n");
        free(text);
        /* Unknown values (-1) are left out, the count never. */
        text = capture(&(struct log_record){ .event = LOG_EVENT_SUCCEEDED,
                                             .job = "j",
                                             .has_cgroup = true,
                                             .cgroup_cpu_usec = -1,
                                             .memory_peak = -1,
                                             .oom_kills = -1 },
                       "m");
        ck_assert_str_eq(text, "event=succeeded job=j leftovers=0 msg=\"m\"\n");
        free(text);
}
END_TEST

START_TEST(a_job_name_with_a_space_cannot_add_a_field)
{
        char *text = capture(&(struct log_record){ .event = LOG_EVENT_STARTED, .job = "x event=succeeded" }, "m");
        ck_assert_str_eq(text, "event=started job=\"x event=succeeded\" msg=\"m\"\n");
        free(text);
}
END_TEST

START_TEST(plain_values_stay_bare)
{
        char *text = capture(&(struct log_record){ .event = LOG_EVENT_CONFIG_REJECTED,
                                                   .job = "backup-1.daily",
                                                   .file = "/etc/tickd/jobs.d/a.ini",
                                                   .line = 3 },
                             "say \"hi\"");
        ck_assert_str_eq(text, "event=config-rejected job=backup-1.daily file=/etc/tickd/jobs.d/a.ini:3 "
                               "msg=\"say \\\"hi\\\"\"\n");
        free(text);
}
END_TEST

START_TEST(an_empty_value_is_quoted)
{
        char *text = capture(&(struct log_record){ .event = LOG_EVENT_STARTED, .job = "" }, "");
        ck_assert_str_eq(text, "event=started job=\"\" msg=\"\"\n");
        free(text);
}
END_TEST

static Suite *log_suite(void)
{
        Suite *s = suite_create("log");
        TCase *tc = tcase_create("stderr");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, a_hostile_job_name_and_message_stay_one_escaped_line);
        tcase_add_test(tc, a_runs_cgroup_fields_are_printed_when_it_had_one);
        tcase_add_test(tc, a_job_name_with_a_space_cannot_add_a_field);
        tcase_add_test(tc, plain_values_stay_bare);
        tcase_add_test(tc, an_empty_value_is_quoted);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(log_suite)
