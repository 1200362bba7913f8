/* test-metrics-format.c — the exposition text from a snapshot
 * (core/metrics-format.c), and tickd.conf's metrics keys (core/conf.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/conf.h"
#include "core/metrics-format.h"
#include "harness/harness.h"

static char *render(const struct metrics_snapshot *s)
{
        size_t len = 0;
        ck_assert_int_eq(metrics_format(s, NULL, 0, &len), -ENOBUFS);
        char *text = malloc(len + 1);
        size_t again = 0;
        ck_assert_int_eq(metrics_format(s, text, len + 1, &again), 0);
        ck_assert_uint_eq(again, len);
        ck_assert_uint_eq(strlen(text), len);
        return text;
}

static int occurrences(const char *text, const char *needle)
{
        int n = 0;
        for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

#define ck_assert_has(text, needle) ck_assert_msg(strstr((text), (needle)), "no \"%s\" in:\n%s", (needle), (text))
#define ck_assert_lacks(text, needle) \
        ck_assert_msg(!strstr((text), (needle)), "unexpected \"%s\" in:\n%s", (needle), (text))

static const struct metrics_job finished_job = {
        .name = "backup",
        .loaded = true,
        .enabled = true,
        .next_usec = INT64_C(1700000060000000),
        .interval_usec = INT64_C(60000000),
        .running = 1,
        .has_last = true,
        .last_result = METRICS_FAILED,
        .last_start_usec = INT64_C(1700000000250000),
        .last_end_usec = INT64_C(1700000001750000),
        .last_duration_usec = 1500000,
        .last_exit_status = 3,
        .last_success_usec = INT64_C(1699999940000001),
        .runs = { [METRICS_SUCCEEDED] = 7, [METRICS_FAILED] = 2, [METRICS_LOST] = 1, [METRICS_SKIPPED] = 4 },
};

START_TEST(daemon_metrics_are_there_without_jobs)
{
        struct metrics_snapshot s = { .version = "1.2.3",
                                      .start_usec = INT64_C(1700000000000000),
                                      .jobs_loaded = 0,
                                      .files_rejected = 2,
                                      .batches_open = 1,
                                      .oldest_batch_age_usec = 90500000,
                                      .reloads = { 5, 1 },
                                      .clock_changes = 3 };
        _cleanup_free_ char *t = render(&s);
        ck_assert_has(t, "tickd_build_info{version=\"1.2.3\"} 1\n");
        ck_assert_has(t, "tickd_start_time_seconds 1700000000.000000\n");
        ck_assert_has(t, "tickd_jobs_loaded 0\n");
        ck_assert_has(t, "tickd_crontab_files_rejected 2\n");
        ck_assert_has(t, "tickd_batches_open 1\n");
        ck_assert_has(t, "tickd_batch_oldest_open_age_seconds 90.500000\n");
        ck_assert_has(t, "tickd_reloads_total{result=\"ok\"} 5\n");
        ck_assert_has(t, "tickd_reloads_total{result=\"rejected\"} 1\n");
        ck_assert_has(t, "tickd_clock_changes_total 3\n");
        ck_assert_has(t, "# TYPE tickd_reloads_total counter\n");
        ck_assert_has(t, "# TYPE tickd_batches_open gauge\n");
        ck_assert_lacks(t, "job=");
}
END_TEST

/* The text format wants each metric's HELP and TYPE once, before its
 * series, and all of a metric's series together. */
START_TEST(each_metric_is_declared_once_before_its_series)
{
        struct metrics_job jobs[2] = { finished_job, finished_job };
        jobs[1].name = "clean";
        struct metrics_snapshot s = { .version = "1", .jobs = jobs, .n_jobs = 2 };
        _cleanup_free_ char *t = render(&s);
        char seen[64][128];
        size_t n_seen = 0;
        char current[128] = "";
        for (char *line = t, *nl; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                ck_assert_ptr_nonnull(nl);
                char name[128];
                if (sscanf(line, "# TYPE %127s", name) == 1) {
                        for (size_t i = 0; i < n_seen; i++)
                                ck_assert_msg(strcmp(seen[i], name) != 0, "%s declared twice", name);
                        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", name);
                        snprintf(current, sizeof(current), "%s", name);
                } else if (line[0] != '#') {
                        size_t k = strcspn(line, "{ ");
                        ck_assert_msg(strlen(current) == k && strncmp(line, current, k) == 0,
                                      "series outside its metric %s: %.*s", current, (int)(nl - line), line);
                }
        }
        ck_assert_uint_eq(n_seen, 19); /* every metric of tickd.8, METRICS */
}
END_TEST

START_TEST(a_job_has_every_series_with_its_values)
{
        struct metrics_snapshot s = { .version = "1", .jobs = &finished_job, .n_jobs = 1 };
        _cleanup_free_ char *t = render(&s);
        ck_assert_has(t, "tickd_job_enabled{job=\"backup\"} 1\n");
        ck_assert_has(t, "tickd_job_next_run_timestamp_seconds{job=\"backup\"} 1700000060.000000\n");
        ck_assert_has(t, "tickd_job_interval_seconds{job=\"backup\"} 60.000000\n");
        ck_assert_has(t, "tickd_job_runs_running{job=\"backup\"} 1\n");
        ck_assert_has(t, "tickd_job_last_run_start_timestamp_seconds{job=\"backup\"} 1700000000.250000\n");
        ck_assert_has(t, "tickd_job_last_run_end_timestamp_seconds{job=\"backup\"} 1700000001.750000\n");
        ck_assert_has(t, "tickd_job_last_run_duration_seconds{job=\"backup\"} 1.500000\n");
        ck_assert_has(t, "tickd_job_last_success_timestamp_seconds{job=\"backup\"} 1699999940.000001\n");
        ck_assert_has(t, "tickd_job_last_run_exit_status{job=\"backup\"} 3\n");
        ck_assert_has(t, "tickd_job_last_run_result{job=\"backup\",result=\"failed\"} 1\n");
        ck_assert_has(t, "tickd_job_last_run_result{job=\"backup\",result=\"succeeded\"} 0\n");
        ck_assert_int_eq(occurrences(t, "tickd_job_last_run_result{"), 5);
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",result=\"succeeded\"} 7\n");
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",result=\"failed\"} 2\n");
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",result=\"timed-out\"} 0\n");
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",result=\"cancelled\"} 0\n");
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",result=\"lost\"} 1\n");
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",result=\"skipped\"} 4\n");
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",result=\"dropped\"} 0\n");
}
END_TEST

/* A value tickd does not know is left out, never written as 0: a 0
 * "last success" would read as 1970 and fire every alert. */
START_TEST(unknown_values_are_left_out)
{
        struct metrics_job j = { .name = "fresh", .loaded = true, .enabled = false, .last_duration_usec = -1 };
        struct metrics_snapshot s = { .version = "1", .jobs = &j, .n_jobs = 1 };
        _cleanup_free_ char *t = render(&s);
        ck_assert_has(t, "tickd_job_enabled{job=\"fresh\"} 0\n");
        ck_assert_lacks(t, "tickd_job_next_run_timestamp_seconds{");
        ck_assert_lacks(t, "tickd_job_interval_seconds{");
        ck_assert_lacks(t, "tickd_job_last_run_start_timestamp_seconds{");
        ck_assert_lacks(t, "tickd_job_last_run_duration_seconds{");
        ck_assert_lacks(t, "tickd_job_last_success_timestamp_seconds{");
        ck_assert_lacks(t, "tickd_job_last_run_result{");
        ck_assert_lacks(t, "tickd_job_last_run_exit_status{");
        ck_assert_has(t, "tickd_job_runs_total{job=\"fresh\",result=\"succeeded\"} 0\n");

        /* A lost run: no exit status, no duration, no start. */
        j.has_last = true;
        j.last_result = METRICS_LOST;
        j.last_end_usec = 5000000;
        j.last_exit_status = -1;
        _cleanup_free_ char *lost = render(&s);
        ck_assert_has(lost, "tickd_job_last_run_result{job=\"fresh\",result=\"lost\"} 1\n");
        ck_assert_has(lost, "tickd_job_last_run_end_timestamp_seconds{job=\"fresh\"} 5.000000\n");
        ck_assert_lacks(lost, "tickd_job_last_run_exit_status{");
        ck_assert_lacks(lost, "tickd_job_last_run_duration_seconds{");
        ck_assert_lacks(lost, "tickd_job_last_run_start_timestamp_seconds{");
}
END_TEST

/* A job no longer in the table keeps its counters, not its table gauges. */
START_TEST(a_removed_job_keeps_only_its_history)
{
        struct metrics_job j = finished_job;
        j.loaded = false;
        j.running = 0;
        struct metrics_snapshot s = { .version = "1", .jobs = &j, .n_jobs = 1 };
        _cleanup_free_ char *t = render(&s);
        ck_assert_lacks(t, "tickd_job_enabled{");
        ck_assert_lacks(t, "tickd_job_next_run_timestamp_seconds{");
        ck_assert_lacks(t, "tickd_job_runs_running{");
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",result=\"succeeded\"} 7\n");
}
END_TEST

START_TEST(fleet_jobs_carry_their_node)
{
        struct metrics_job j = finished_job;
        j.node = "node-a";
        struct metrics_snapshot s = { .version = "1", .jobs = &j, .n_jobs = 1 };
        _cleanup_free_ char *t = render(&s);
        ck_assert_has(t, "tickd_job_enabled{job=\"backup\",node=\"node-a\"} 1\n");
        ck_assert_has(t, "tickd_job_runs_total{job=\"backup\",node=\"node-a\",result=\"lost\"} 1\n");
        ck_assert_lacks(t, "{job=\"backup\"}");
}
END_TEST

START_TEST(label_values_are_escaped)
{
        struct metrics_job j = { .name = "a\"b\\c\nd", .last_duration_usec = -1 };
        struct metrics_snapshot s = { .version = "v\"1", .jobs = &j, .n_jobs = 1 };
        _cleanup_free_ char *t = render(&s);
        ck_assert_has(t, "tickd_build_info{version=\"v\\\"1\"} 1\n");
        ck_assert_has(t, "tickd_job_runs_total{job=\"a\\\"b\\\\c\\nd\",result=\"failed\"} 0\n");
}
END_TEST

/* A buffer one byte short (the NUL) is refused, with the size needed,
 * and nothing is written past it. */
START_TEST(a_short_buffer_is_refused_with_the_size_needed)
{
        struct metrics_snapshot s = { .version = "1", .jobs = &finished_job, .n_jobs = 1 };
        _cleanup_free_ char *whole = render(&s);
        size_t need = strlen(whole), len = 0;
        char *buf = malloc(need + 16);
        memset(buf, 'x', need + 16);
        ck_assert_int_eq(metrics_format(&s, buf, need, &len), -ENOBUFS);
        ck_assert_uint_eq(len, need);
        for (size_t i = need; i < need + 16; i++)
                ck_assert_int_eq(buf[i], 'x');
        ck_assert_int_eq(metrics_format(&s, buf, need + 1, &len), 0);
        ck_assert_str_eq(buf, whole);
        free(buf);
}
END_TEST

START_TEST(a_thousand_jobs_render)
{
        struct metrics_job *jobs = calloc(1000, sizeof(*jobs));
        char(*names)[16] = calloc(1000, sizeof(*names));
        for (int i = 0; i < 1000; i++) {
                snprintf(names[i], sizeof(names[i]), "job%04d", i);
                jobs[i] = finished_job;
                jobs[i].name = names[i];
        }
        struct metrics_snapshot s = { .version = "1", .jobs = jobs, .n_jobs = 1000 };
        _cleanup_free_ char *t = render(&s);
        ck_assert_int_eq(occurrences(t, "tickd_job_runs_total{"), 7000);
        ck_assert_has(t, "tickd_job_runs_total{job=\"job0999\",result=\"dropped\"} 0\n");
        free(jobs);
        free(names);
}
END_TEST

/* ---- tickd.conf ---- */

static int load(const char *text, struct daemon_config *c, struct diagnostics *d)
{
        return daemon_config_load_buffer("tickd.conf", text, strlen(text), c, d);
}

START_TEST(metrics_keys_are_read_and_off_by_default)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load("[daemon]\n", &c, &d), 0);
        ck_assert_ptr_null(c.metrics_file);
        ck_assert_ptr_null(c.metrics_listen);
        daemon_config_free(&c);
        ck_assert_int_eq(load("[daemon]\nmetrics_file = /var/lib/prometheus/node-exporter/tickd.prom\n"
                              "metrics_listen = [::1]:9101\n",
                              &c, &d),
                         0);
        ck_assert_str_eq(c.metrics_file, "/var/lib/prometheus/node-exporter/tickd.prom");
        ck_assert_str_eq(c.metrics_listen, "[::1]:9101");
        daemon_config_free(&c);
        ck_assert_uint_eq(d.count, 0);
}
END_TEST

static const char *const bad_values[] = {
        "metrics_file = relative.prom",     "metrics_file = /var/lib/dir/",    "metrics_listen = localhost:9101",
        "metrics_listen = 127.0.0.1",       "metrics_listen = :9101",          "metrics_listen = 127.0.0.1:0",
        "metrics_listen = 127.0.0.1:65536", "metrics_listen = ::1:9101",       "metrics_listen = [::1]",
        "metrics_listen = 127.0.0.1:91x",   "metrics_listen = [127.0.0.1]:80",
};

START_TEST(malformed_metrics_values_are_errors_on_their_line)
{
        char text[256];
        snprintf(text, sizeof(text), "[daemon]\n%s\n", bad_values[_i]);
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load(text, &c, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 2);
        ck_assert_ptr_null(c.metrics_listen);
        ck_assert_ptr_null(c.metrics_file);
        daemon_config_free(&c);
        diag_free(&d);
}
END_TEST

START_TEST(listen_addresses_parse_for_bind)
{
        struct sockaddr_storage sa;
        socklen_t len;
        ck_assert_int_eq(daemon_config_listen_parse("127.0.0.1:9101", &sa, &len), 0);
        const struct sockaddr_in *in = (const struct sockaddr_in *)&sa;
        ck_assert_int_eq(in->sin_family, AF_INET);
        ck_assert_int_eq(ntohs(in->sin_port), 9101);
        ck_assert_uint_eq(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
        ck_assert_uint_eq(len, sizeof(*in));
        ck_assert_int_eq(daemon_config_listen_parse("[::1]:65535", &sa, &len), 0);
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&sa;
        ck_assert_int_eq(in6->sin6_family, AF_INET6);
        ck_assert_int_eq(ntohs(in6->sin6_port), 65535);
        ck_assert(memcmp(&in6->sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback)) == 0);
        ck_assert_uint_eq(len, sizeof(*in6));
}
END_TEST

static Suite *metrics_format_suite(void)
{
        Suite *s = suite_create("metrics-format");
        TCase *tc = tcase_create("format");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, daemon_metrics_are_there_without_jobs);
        tcase_add_test(tc, each_metric_is_declared_once_before_its_series);
        tcase_add_test(tc, a_job_has_every_series_with_its_values);
        tcase_add_test(tc, unknown_values_are_left_out);
        tcase_add_test(tc, a_removed_job_keeps_only_its_history);
        tcase_add_test(tc, fleet_jobs_carry_their_node);
        tcase_add_test(tc, label_values_are_escaped);
        tcase_add_test(tc, a_short_buffer_is_refused_with_the_size_needed);
        tcase_add_test(tc, a_thousand_jobs_render);
        suite_add_tcase(s, tc);
        tc = tcase_create("conf");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, metrics_keys_are_read_and_off_by_default);
        tcase_add_loop_test(tc, malformed_metrics_values_are_errors_on_their_line, 0, ELEMENTSOF(bad_values));
        tcase_add_test(tc, listen_addresses_parse_for_bind);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(metrics_format_suite)
