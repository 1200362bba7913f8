/* test-daemon-metrics.c — end to end: a real tickd writes metrics_file
 * and serves metrics_listen; promtool (Debian's prometheus package,
 * unpacked into build/deps: TICKD_PROMTOOL) checks what it writes, and
 * the values agree with the records of the same runs in tickd's log. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness-ctl.h"
#include "harness/harness-daemon.h"
#include "harness/harness-etcd.h"
#include "harness/harness.h"

static void stop(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 30000);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d:\n%s", status,
                      tickd_log_tail(t));
        harness_reap_children(3000);
}

/* BUF grown to CAP (a test that runs out of memory fails). */
static char *grow(char *buf, size_t cap)
{
        char *b = realloc(buf, cap);
        ck_assert_ptr_nonnull(b);
        return b;
}

static char *read_text(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        size_t cap = 1 << 16, len = 0;
        char *buf = malloc(cap);
        for (ssize_t n; (n = read(fd, buf + len, cap - len - 1)) > 0;) {
                len += (size_t)n;
                if (cap - len < 4096)
                        buf = grow(buf, cap *= 2);
        }
        close(fd);
        buf[len] = '\0';
        return buf;
}

/* The value of SERIES (the whole "name{labels}") in TEXT, or -1. */
static double value_of(const char *text, const char *series)
{
        size_t n = strlen(series);
        for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, series, n) == 0 && p[n] == ' ')
                        return strtod(p + n + 1, NULL);
        return -1;
}

static double file_value(const char *path, const char *series)
{
        char *text = read_text(path);
        double v = text ? value_of(text, series) : -1;
        free(text);
        return v;
}

/* Waits (reading tickd's log meanwhile) until SERIES in PATH is at least MIN. */
static bool wait_value(struct tickd *t, const char *path, const char *series, double min, int timeout_ms)
{
        long long deadline = harness_now_ms() + timeout_ms;
        while (file_value(path, series) < min) {
                if (harness_now_ms() > deadline)
                        return false;
                tickd_pump(t, 50);
        }
        return true;
}

static const char *promtool(void)
{
        const char *p = getenv("TICKD_PROMTOOL");
        ck_assert_msg(p && access(p, X_OK) == 0, "TICKD_PROMTOOL (promtool, `make %s`) is not there: %s",
                      "build/deps/prometheus/usr/bin/promtool", p ? p : "unset");
        return p;
}

/* promtool check metrics < PATH: exit status 0, its output for the message. */
static void promtool_accepts(const char *path)
{
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), "'%s' check metrics < '%s'", promtool(), path);
        char *out = NULL, *err = NULL;
        int status = harness_run((char *const[]){ "/bin/sh", "-c", cmd, NULL }, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "promtool check metrics failed (%d): %s%s", status,
                      out, err);
        free(out);
        free(err);
}

/* How many records of EVENT for JOB the log holds. */
static int log_count(const struct tickd *t, const char *event, const char *job)
{
        char needle[256];
        snprintf(needle, sizeof(needle), "event=%s job=%s ", event, job);
        return tickd_count(t, needle);
}

static char *conf_with_file(char *conf, size_t size, const char *dir)
{
        snprintf(conf, size, "[daemon]\nmetrics_file = %s/tickd.prom\n", dir);
        return conf;
}

static const char *const results[] = { "succeeded", "failed", "timed-out", "cancelled", "lost", "skipped", "dropped" };

/* Every counter of JOB in the file equals the log's records of it. */
static void counters_match_log(const struct tickd *t, const char *text, const char *job)
{
        for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
                char series[256];
                snprintf(series, sizeof(series), "tickd_job_runs_total{job=\"%s\",result=\"%s\"}", job, results[i]);
                ck_assert_msg(value_of(text, series) == log_count(t, results[i], job), "%s is %g, the log has %d",
                              series, value_of(text, series), log_count(t, results[i], job));
        }
}

/* The duration= and code= of JOB's last finished record in the log. */
static void last_record(const struct tickd *t, const char *event, const char *job, double *duration, int *code)
{
        char needle[256];
        snprintf(needle, sizeof(needle), "event=%s job=%s ", event, job);
        const char *last = NULL;
        for (const char *p = t->log; (p = strstr(p, needle)); p++)
                last = p;
        ck_assert_ptr_nonnull(last);
        const char *d = strstr(last, " duration="), *c = strstr(last, " code="), *nl = strchr(last, '\n');
        *duration = d && (!nl || d < nl) ? strtod(d + 10, NULL) : -1;
        *code = c && (!nl || c < nl) ? atoi(c + 6) : -1;
}

#define CK_SERIES(text, series, expected)                                                          \
        ck_assert_msg(value_of((text), (series)) == (expected), "%s is %g, expected %g", (series), \
                      value_of((text), (series)), (double)(expected))

START_TEST(file_after_every_kind_of_run_passes_promtool_and_matches_the_log)
{
        char *dir = harness_tmpdir(), conf[512], path[512];
        snprintf(path, sizeof(path), "%s/tickd.prom", dir);
        struct tickd *t = tickd_start(conf_with_file(conf, sizeof(conf), dir), NULL);
        char *at = harness_cron_in(2), jobs[2048];
        snprintf(jobs, sizeof(jobs),
                 "[ok]\nschedule = %s\ncommand = true\n\n[bad]\nschedule = %s\ncommand = exit 3\n\n"
                 "[slow]\nschedule = %s\ncommand = sleep 30\ntimeout = 1s\n\n"
                 "[long]\nschedule = %s\ncommand = sleep 60\n\n"
                 "[skipper]\nschedule = * * * * * *\ncommand = sleep 2.5\noverlap = skip\n",
                 at, at, at, at);
        free(at);
        tickd_write_job(t, "jobs.ini", jobs);
        ck_assert_msg(tickd_wait_for(t, "event=timed-out job=slow ", 1, 30000), "%s", tickd_log_tail(t));
        ck_assert(tickd_wait_for(t, "event=skipped job=skipper ", 1, 30000));
        ck_assert(tickd_wait_for(t, "event=started job=long ", 1, 1000));
        /* While it runs: the file follows within a second or so. */
        ck_assert_msg(wait_value(t, path, "tickd_job_runs_total{job=\"slow\",result=\"timed-out\"}", 1, 10000),
                      "the file never showed the timed-out run");
        promtool_accepts(path);
        char *live = read_text(path);
        CK_SERIES(live, "tickd_job_runs_running{job=\"long\"}", 1);
        CK_SERIES(live, "tickd_jobs_loaded", 5);
        CK_SERIES(live, "tickd_job_enabled{job=\"ok\"}", 1);
        CK_SERIES(live, "tickd_job_interval_seconds{job=\"skipper\"}", 1);
        ck_assert(value_of(live, "tickd_job_next_run_timestamp_seconds{job=\"skipper\"}") > 1e9);
        free(live);

        /* Shutdown cancels `long`; the last file is written at exit. */
        stop(t);
        promtool_accepts(path);
        char *text = read_text(path);
        const char *names[] = { "ok", "bad", "slow", "long", "skipper" };
        for (size_t i = 0; i < 5; i++)
                counters_match_log(t, text, names[i]);
        CK_SERIES(text, "tickd_job_runs_total{job=\"ok\",result=\"succeeded\"}", 1);
        CK_SERIES(text, "tickd_job_runs_total{job=\"bad\",result=\"failed\"}", 1);
        CK_SERIES(text, "tickd_job_runs_total{job=\"slow\",result=\"timed-out\"}", 1);
        CK_SERIES(text, "tickd_job_runs_total{job=\"long\",result=\"cancelled\"}", 1);
        CK_SERIES(text, "tickd_job_last_run_result{job=\"long\",result=\"cancelled\"}", 1);
        CK_SERIES(text, "tickd_job_last_run_result{job=\"bad\",result=\"failed\"}", 1);
        CK_SERIES(text, "tickd_job_last_run_result{job=\"bad\",result=\"succeeded\"}", 0);
        double duration;
        int code;
        last_record(t, "failed", "bad", &duration, &code);
        CK_SERIES(text, "tickd_job_last_run_exit_status{job=\"bad\"}", code);
        ck_assert_int_eq(code, 3);
        CK_SERIES(text, "tickd_job_last_run_duration_seconds{job=\"bad\"}", duration);
        last_record(t, "succeeded", "ok", &duration, &code);
        CK_SERIES(text, "tickd_job_last_run_duration_seconds{job=\"ok\"}", duration);
        double end = value_of(text, "tickd_job_last_run_end_timestamp_seconds{job=\"ok\"}");
        CK_SERIES(text, "tickd_job_last_success_timestamp_seconds{job=\"ok\"}", end);
        ck_assert(value_of(text, "tickd_job_last_success_timestamp_seconds{job=\"bad\"}") < 0);
        ck_assert(value_of(text, "tickd_job_last_run_start_timestamp_seconds{job=\"slow\"}") <= end + 60);
        free(text);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

/* Whether TEXT is a whole file of N_JOBS jobs j0000..: it begins with the
 * first metric and ends, line complete, with the last series of the last
 * job (jobs are written in name order). */
static bool whole_file(const char *text, int n_jobs)
{
        char last[128];
        snprintf(last, sizeof(last), "tickd_job_runs_total{job=\"j%04d\",result=\"dropped\"} ", n_jobs - 1);
        size_t len = strlen(text);
        if (strncmp(text, "# HELP tickd_build_info ", 24) != 0 || len == 0 || text[len - 1] != '\n')
                return false;
        const char *line = text + len - 1;
        while (line > text && line[-1] != '\n')
                line--;
        return strncmp(line, last, strlen(last)) == 0;
}

static double sum_of(const char *text, const char *prefix, const char *suffix)
{
        double sum = 0;
        for (const char *p = text; (p = strstr(p, prefix)); p++) {
                const char *s = strstr(p, suffix), *nl = strchr(p, '\n');
                if (s && nl && s < nl)
                        sum += strtod(s + strlen(suffix), NULL);
        }
        return sum;
}

#define BURST 1000

/* A reader that opens and reads the file again and again while a thousand
 * runs finish never sees half of it: it is replaced by rename(), whole. */
START_TEST(readers_never_see_a_partial_file_during_a_burst)
{
        char *dir = harness_tmpdir(), conf[512], path[512];
        snprintf(path, sizeof(path), "%s/tickd.prom", dir);
        struct tickd *t = tickd_start(conf_with_file(conf, sizeof(conf), dir), NULL);
        char *at = harness_cron_in(4);
        size_t size = BURST * 64;
        char *jobs = malloc(size);
        size_t len = 0;
        for (int i = 0; i < BURST; i++)
                len += (size_t)snprintf(jobs + len, size - len, "[j%04d]\nschedule = %s\ncommand = true\n", i, at);
        free(at);
        tickd_write_job(t, "burst.ini", jobs);
        free(jobs);
        long long deadline = harness_now_ms() + 240000;
        int reads = 0, versions = 0;
        double last_sum = -1;
        while (tickd_count(t, "event=succeeded job=j") < BURST && harness_now_ms() < deadline) {
                tickd_pump(t, 1);
                char *text = read_text(path);
                if (!text)
                        continue; /* not written yet: no file is not a partial file */
                ck_assert_msg(whole_file(text, BURST) || !strstr(text, "j0000"),
                              "read %d saw a partial file (%zu bytes), ending:\n%s", reads, strlen(text),
                              text + (strlen(text) > 300 ? strlen(text) - 300 : 0));
                double sum = sum_of(text, "tickd_job_runs_total{job=\"j", "result=\"succeeded\"} ");
                versions += sum != last_sum;
                last_sum = sum;
                reads++;
                free(text);
        }
        ck_assert_msg(tickd_count(t, "event=succeeded job=j") == BURST, "only %d of %d runs finished",
                      tickd_count(t, "event=succeeded job=j"), BURST);
        fprintf(stderr, "burst: %d reads of the file, %d versions of the counts\n", reads, versions);
        ck_assert_int_gt(reads, 0);
        stop(t);
        char *text = read_text(path);
        ck_assert(whole_file(text, BURST));
        ck_assert_int_eq((int)sum_of(text, "tickd_job_runs_total{job=\"j", "result=\"succeeded\"} "), BURST);
        free(text);
        promtool_accepts(path);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

/* Nothing happens, nothing is written: the file is the same inode for
 * seconds (every write is a new file renamed over it). */
START_TEST(an_idle_daemon_does_not_rewrite_the_file)
{
        char *dir = harness_tmpdir(), conf[512], path[512];
        snprintf(path, sizeof(path), "%s/tickd.prom", dir);
        struct tickd *t = tickd_start(conf_with_file(conf, sizeof(conf), dir), NULL);
        tickd_write_job(t, "idle.ini", "[idle]\nschedule = 0 0 1 1 *\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "reloaded", 1, 10000));
        ck_assert(wait_value(t, path, "tickd_jobs_loaded", 1, 10000));
        tickd_pump(t, 1500); /* a write the reload asked for may still be due */
        struct stat before, after;
        ck_assert_int_eq(stat(path, &before), 0);
        tickd_pump(t, 3000);
        ck_assert_int_eq(stat(path, &after), 0);
        ck_assert_msg(before.st_ino == after.st_ino && before.st_mtim.tv_nsec == after.st_mtim.tv_nsec,
                      "the file was rewritten while nothing happened");
        ck_assert_int_eq(after.st_mode & 0777, 0644);
        stop(t);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

/* Counters go on across reloads (tickd_start_time_seconds unchanged) and
 * start again from 0 at a restart, which tickd_start_time_seconds marks
 * (tickd.8: Prometheus's rate() and increase() take such a reset). */
START_TEST(reload_keeps_counters_and_a_restart_starts_them_again)
{
        char *dir = harness_tmpdir(), conf[512], path[512];
        snprintf(path, sizeof(path), "%s/tickd.prom", dir);
        struct tickd *t = tickd_start(conf_with_file(conf, sizeof(conf), dir), NULL);
        tickd_write_job(t, "tick.ini", "[tick]\nschedule = * * * * * *\ncommand = true\n");
        const char *ok = "tickd_job_runs_total{job=\"tick\",result=\"succeeded\"}";
        ck_assert(wait_value(t, path, ok, 2, 20000));
        double start = file_value(path, "tickd_start_time_seconds");
        int reloads = tickd_count(t, "reloaded (SIGHUP)");
        double before = file_value(path, ok);
        ck_assert_int_eq(kill(t->pid, SIGHUP), 0);
        ck_assert(tickd_wait_for(t, "reloaded (SIGHUP)", reloads + 1, 10000));
        ck_assert(wait_value(t, path, "tickd_reloads_total{result=\"ok\"}", 1, 10000));
        ck_assert(file_value(path, ok) >= before);
        ck_assert(file_value(path, "tickd_start_time_seconds") == start);
        tickd_write_job(t, "broken.ini", "[broken]\nschedule = never\ncommand = true\n");
        ck_assert(wait_value(t, path, "tickd_crontab_files_rejected", 1, 10000));
        ck_assert(wait_value(t, path, "tickd_reloads_total{result=\"rejected\"}", 1, 10000));
        ck_assert(file_value(path, ok) >= before);

        tickd_restart(t);
        long long deadline = harness_now_ms() + 10000;
        while (file_value(path, "tickd_start_time_seconds") <= start && harness_now_ms() < deadline)
                tickd_pump(t, 50);
        ck_assert(file_value(path, "tickd_start_time_seconds") > start);
        ck_assert(file_value(path, "tickd_reloads_total{result=\"ok\"}") == 0);
        ck_assert(file_value(path, "tickd_crontab_files_rejected") == 1);
        stop(t);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

/* A fleet job's series name the node that ran it; a host job's have no
 * node label (a real etcd, one member). */
START_TEST(fleet_jobs_carry_the_node_that_ran_them)
{
        struct etcd_cluster *cluster = etcd_cluster_start(1);
        char *dir = harness_tmpdir(), conf[1024], path[512];
        snprintf(path, sizeof(path), "%s/tickd.prom", dir);
        snprintf(conf, sizeof(conf),
                 "[daemon]\nmetrics_file = %s\n[fleet]\nendpoints = %s\nname = metrics\nnode = n1\n"
                 "lease_ttl = 2s\nclaim_timeout = 1s\n",
                 path, etcd_cluster_endpoint(cluster, 0));
        struct tickd *t = tickd_start(conf, NULL);
        tickd_write_job(t, "jobs.ini",
                        "[f]\nschedule = * * * * * *\ncommand = true\nscope = fleet\n\n"
                        "[h]\nschedule = * * * * * *\ncommand = true\n");
        ck_assert_msg(wait_value(t, path, "tickd_job_runs_total{job=\"f\",node=\"n1\",result=\"succeeded\"}", 1, 30000),
                      "no fleet run counted under node n1:\n%s", tickd_log_tail(t));
        ck_assert(wait_value(t, path, "tickd_job_runs_total{job=\"h\",result=\"succeeded\"}", 1, 10000));
        promtool_accepts(path);
        char *text = read_text(path);
        CK_SERIES(text, "tickd_job_enabled{job=\"f\",node=\"n1\"}", 1);
        CK_SERIES(text, "tickd_job_enabled{job=\"h\"}", 1);
        ck_assert_not_contains(text, "{job=\"f\"}");
        ck_assert_not_contains(text, "job=\"h\",node=");
        free(text);
        stop(t);
        tickd_free(t);
        etcd_cluster_free(cluster);
        harness_tmpdir_remove(dir);
}
END_TEST

/* ---- metrics_listen ---- */

static int free_port(void)
{
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static int connect_to(int family, int port)
{
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_storage ss = { 0 };
        socklen_t len;
        if (family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *)&ss;
                *in = (struct sockaddr_in){ .sin_family = AF_INET,
                                            .sin_port = htons((uint16_t)port),
                                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                len = sizeof(*in);
        } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
                *in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
                                              .sin6_port = htons((uint16_t)port),
                                              .sin6_addr = in6addr_loopback };
                len = sizeof(*in6);
        }
        if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
                close(fd);
                return -errno;
        }
        return fd;
}

/* Sends REQUEST (LEN bytes) and reads the answer until the server closes
 * (60 s at most); malloc'd, NUL-terminated. */
static char *http_exchange(int family, int port, const char *request, size_t len)
{
        int fd = connect_to(family, port);
        ck_assert_msg(fd >= 0, "connect to port %d: %s", port, strerror(-fd));
        struct timeval tv = { .tv_sec = 60 }; /* behind silent peers: two timeouts and more */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        for (size_t sent = 0; sent < len;) {
                ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
                if (n <= 0)
                        break; /* the server may answer (and stop reading) before all is sent */
                sent += (size_t)n;
        }
        size_t cap = 1 << 16, got = 0;
        char *buf = malloc(cap);
        for (ssize_t n; (n = recv(fd, buf + got, cap - got - 1, 0)) > 0;) {
                got += (size_t)n;
                if (cap - got < 4096)
                        buf = grow(buf, cap *= 2);
        }
        buf[got] = '\0';
        close(fd);
        return buf;
}

static char *http_get(int family, int port, const char *request)
{
        return http_exchange(family, port, request, strlen(request));
}

static struct tickd *start_listening(const char *dir, int port, char *path, size_t size)
{
        char conf[512];
        snprintf(path, size, "%s/scrape.prom", dir);
        snprintf(conf, sizeof(conf), "[daemon]\nmetrics_listen = 127.0.0.1:%d\n", port);
        struct tickd *t = tickd_start(conf, NULL);
        tickd_write_job(t, "a.ini", "[a]\nschedule = * * * * * *\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "event=succeeded job=a ", 1, 20000));
        return t;
}

/* curl scrapes it as Prometheus would, and promtool accepts the text. */
START_TEST(endpoint_answers_a_scrape_that_promtool_accepts)
{
        char *dir = harness_tmpdir(), path[512];
        int port = free_port();
        struct tickd *t = start_listening(dir, port, path, sizeof(path));
        char url[128], cmd[1024];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", port);
        snprintf(cmd, sizeof(cmd), "curl -sSf --max-time 10 -o '%s' '%s'", path, url);
        char *out = NULL, *err = NULL;
        int status = harness_run((char *const[]){ "/bin/sh", "-c", cmd, NULL }, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "curl: %s%s", out, err);
        free(out);
        free(err);
        promtool_accepts(path);
        ck_assert(file_value(path, "tickd_job_runs_total{job=\"a\",result=\"succeeded\"}") >= 1);
        char *head = http_get(AF_INET, port, "HEAD /metrics HTTP/1.0\r\n\r\n");
        ck_assert_msg(strncmp(head, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", head);
        ck_assert_msg(strstr(head, "\r\n\r\n")[4] == '\0', "HEAD got a body: %s", head);
        free(head);
        stop(t);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

static const struct {
        const char *request, *status;
} refused[] = {
        { "GET /other HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 " },
        { "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 404 " },
        { "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 405 " },
        { "DELETE /metrics HTTP/1.1\r\n\r\n", "HTTP/1.1 405 " },
        { "hello\r\n\r\n", "HTTP/1.1 400 " },
        { "GET /metrics SPDY/3\r\n\r\n", "HTTP/1.1 400 " },
        { "GET /metrics HTTP/1.1 extra\r\n\r\n", "HTTP/1.1 400 " },
};

/* Only GET and HEAD of /metrics are served; an oversize head is 431. */
START_TEST(endpoint_refuses_other_requests_and_oversize_ones)
{
        char *dir = harness_tmpdir(), path[512];
        int port = free_port();
        struct tickd *t = start_listening(dir, port, path, sizeof(path));
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
                char *answer = http_get(AF_INET, port, refused[i].request);
                ck_assert_msg(strncmp(answer, refused[i].status, strlen(refused[i].status)) == 0, "%s answered:\n%s",
                              refused[i].request, answer);
                ck_assert_not_contains(answer, "tickd_");
                free(answer);
        }
        size_t big = 64 * 1024;
        char *request = malloc(big);
        memset(request, 'a', big);
        memcpy(request, "GET /metrics HTTP/1.1\r\nX-Filler: ", 33);
        char *answer = http_exchange(AF_INET, port, request, big);
        ck_assert_msg(strncmp(answer, "HTTP/1.1 431 ", 13) == 0, "an oversize request got:\n%.300s", answer);
        free(answer);
        free(request);
        /* And it still serves. */
        answer = http_get(AF_INET, port, "GET /metrics HTTP/1.1\r\n\r\n");
        ck_assert_msg(strncmp(answer, "HTTP/1.1 200 OK\r\n", 17) == 0, "%.300s", answer);
        free(answer);
        stop(t);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

static int daemon_fds(const struct tickd *t)
{
        int fds, children, zombies;
        harness_proc_counts(t->pid, &fds, &children, &zombies);
        return fds;
}

/* Waits (bounded) until tickd holds no more descriptors than BASELINE. */
static bool fds_back_to(const struct tickd *t, int baseline, int timeout_ms)
{
        long long deadline = harness_now_ms() + timeout_ms;
        while (daemon_fds(t) > baseline && harness_now_ms() < deadline)
                usleep(50 * 1000);
        return daemon_fds(t) <= baseline;
}

#define CROWD 1000

struct peer {
        int fd;
        char head[32];
        size_t got;
        bool closed;
};

/* Reads every peer's answer until each has closed; returns how many
 * answers began with 200 and with 503, and the most descriptors tickd
 * held meanwhile. */
static void crowd_read(const struct tickd *t, struct peer *peers, int *ok, int *busy, int *max_fds)
{
        struct pollfd *pfd = calloc(CROWD, sizeof(*pfd));
        long long deadline = harness_now_ms() + 120000;
        for (int open = CROWD; open > 0 && harness_now_ms() < deadline;) {
                int n = 0;
                for (int i = 0; i < CROWD; i++)
                        if (!peers[i].closed)
                                pfd[n++] = (struct pollfd){ .fd = peers[i].fd, .events = POLLIN };
                poll(pfd, (nfds_t)n, 200);
                int fds = daemon_fds(t);
                *max_fds = fds > *max_fds ? fds : *max_fds;
                for (int i = 0; i < CROWD; i++) {
                        struct peer *p = &peers[i];
                        char buf[4096];
                        ssize_t r = p->closed ? 1 : recv(p->fd, buf, sizeof(buf), MSG_DONTWAIT);
                        if (p->closed || (r < 0 && errno == EAGAIN))
                                continue;
                        if (r > 0 && p->got < sizeof(p->head) - 1) {
                                size_t k = (size_t)r < sizeof(p->head) - 1 - p->got ? (size_t)r
                                                                                    : sizeof(p->head) - 1 - p->got;
                                memcpy(p->head + p->got, buf, k);
                                p->got += k;
                        }
                        if (r <= 0) { /* the answer is whole: closed as a scraper would */
                                close(p->fd);
                                p->fd = -1;
                                p->closed = true;
                                open--;
                                *ok += strncmp(p->head, "HTTP/1.1 200 ", 13) == 0;
                                *busy += strncmp(p->head, "HTTP/1.1 503 ", 13) == 0;
                        }
                }
        }
        free(pfd);
}

/* Besides the endpoint's 64 connections, the daemon may hold a few
 * descriptors for a moment of its own (the metrics file being replaced,
 * a journal or state file): failed once with 65 over the baseline under a
 * loaded make check. The bound is what matters: 64, not a thousand. */
#define FDS_OF_ITS_OWN 4

/* A thousand peers at once: each gets its answer (those past the bound
 * wait in the backlog), tickd never holds more than the bound's
 * descriptors, and it holds none of them afterwards. */
START_TEST(endpoint_survives_a_thousand_concurrent_connections)
{
        char *dir = harness_tmpdir(), path[512];
        int port = free_port();
        struct tickd *t = start_listening(dir, port, path, sizeof(path));
        int baseline = daemon_fds(t);
        struct peer *peers = calloc(CROWD, sizeof(*peers));
        for (int i = 0; i < CROWD; i++) {
                peers[i].fd = connect_to(AF_INET, port);
                ck_assert_msg(peers[i].fd >= 0, "connection %d: %s", i, strerror(-peers[i].fd));
        }
        static const char get[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        for (int i = 0; i < CROWD; i++)
                ck_assert_int_eq(send(peers[i].fd, get, sizeof(get) - 1, MSG_NOSIGNAL), (ssize_t)sizeof(get) - 1);
        int ok = 0, busy = 0, max_fds = 0;
        crowd_read(t, peers, &ok, &busy, &max_fds);
        for (int i = 0; i < CROWD; i++)
                if (peers[i].fd >= 0)
                        close(peers[i].fd);
        free(peers);
        fprintf(stderr, "crowd: %d answered 200, %d answered 503, tickd held at most %d descriptors (%d before)\n", ok,
                busy, max_fds, baseline);
        ck_assert_int_eq(ok, CROWD);
        ck_assert_int_eq(busy, 0);
        ck_assert_int_le(max_fds, baseline + 64 + FDS_OF_ITS_OWN);
        ck_assert_msg(fds_back_to(t, baseline, 15000), "tickd holds %d descriptors, %d before", daemon_fds(t),
                      baseline);
        stop(t);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

/* Peers that connect and say nothing are closed after the timeout: they
 * hold at most the bound's descriptors meanwhile, and a scrape queued
 * behind them is answered. */
START_TEST(silent_connections_time_out)
{
        char *dir = harness_tmpdir(), path[512];
        int port = free_port();
        struct tickd *t = start_listening(dir, port, path, sizeof(path));
        int baseline = daemon_fds(t);
        int silent[100];
        for (int i = 0; i < 100; i++)
                ck_assert_int_ge(silent[i] = connect_to(AF_INET, port), 0);
        long long deadline = harness_now_ms() + 5000;
        while (daemon_fds(t) < baseline + 64 && harness_now_ms() < deadline)
                usleep(50 * 1000);
        ck_assert_int_le(daemon_fds(t), baseline + 64 + FDS_OF_ITS_OWN);
        char *answer = http_get(AF_INET, port, "GET /metrics HTTP/1.1\r\n\r\n");
        ck_assert_msg(strncmp(answer, "HTTP/1.1 503 ", 13) == 0 || strncmp(answer, "HTTP/1.1 200 ", 13) == 0, "%.200s",
                      answer);
        free(answer);
        ck_assert_msg(fds_back_to(t, baseline, 30000), "tickd still holds %d descriptors, %d before", daemon_fds(t),
                      baseline);
        answer = http_get(AF_INET, port, "GET /metrics HTTP/1.1\r\n\r\n");
        ck_assert_msg(strncmp(answer, "HTTP/1.1 200 ", 13) == 0, "%.200s", answer);
        free(answer);
        for (int i = 0; i < 100; i++)
                close(silent[i]);
        stop(t);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

/* A reload that changes metrics_listen moves the endpoint: the new
 * address answers ([::1] here), the old one is closed. */
START_TEST(reload_moves_the_endpoint)
{
        char *dir = harness_tmpdir(), path[512], conf[512];
        int port = free_port(), port6 = free_port();
        struct tickd *t = start_listening(dir, port, path, sizeof(path));
        snprintf(conf, sizeof(conf), "[daemon]\nmetrics_listen = [::1]:%d\n", port6);
        free(harness_write_file(t->config_dir, "tickd.conf.new", conf));
        char from[600], to[600];
        snprintf(from, sizeof(from), "%s/tickd.conf.new", t->config_dir);
        snprintf(to, sizeof(to), "%s/tickd.conf", t->config_dir);
        ck_assert_int_eq(rename(from, to), 0);
        int reloads = tickd_count(t, "reloaded (SIGHUP)");
        ck_assert_int_eq(kill(t->pid, SIGHUP), 0);
        ck_assert(tickd_wait_for(t, "reloaded (SIGHUP)", reloads + 1, 10000));
        char *answer = http_get(AF_INET6, port6, "GET /metrics HTTP/1.1\r\n\r\n");
        ck_assert_msg(strncmp(answer, "HTTP/1.1 200 ", 13) == 0, "[::1]:%d answered %.200s", port6, answer);
        ck_assert_contains(answer, "tickd_reloads_total{result=\"ok\"} ");
        free(answer);
        ck_assert_int_eq(connect_to(AF_INET, port), -ECONNREFUSED);
        stop(t);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

/* curl's output for URL, or NULL when it fails (malloc'd). */
static char *curl_get(const char *url)
{
        char *out = NULL, *err = NULL;
        int status = harness_run((char *const[]){ "/usr/bin/curl", "-sf", "--max-time", "5", (char *)url, NULL }, NULL,
                                 &out, &err);
        free(err);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return out;
        free(out);
        return NULL;
}

static pid_t prometheus_start(const char *dir, int tickd_port, int web_port)
{
        const char *binary = getenv("TICKD_PROMETHEUS");
        ck_assert_msg(binary && access(binary, X_OK) == 0, "TICKD_PROMETHEUS (build/deps/prometheus) is not there: %s",
                      binary ? binary : "unset");
        char config[512], data[600], listen[64], log[600], file[600];
        snprintf(config, sizeof(config),
                 "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                 "scrape_configs:\n  - job_name: tickd\n    static_configs:\n      - targets: ['127.0.0.1:%d']\n",
                 tickd_port);
        free(harness_write_file(dir, "prometheus.yml", config));
        snprintf(file, sizeof(file), "--config.file=%s/prometheus.yml", dir);
        snprintf(data, sizeof(data), "--storage.tsdb.path=%s/data", dir);
        snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", web_port);
        snprintf(log, sizeof(log), "%s/prometheus.log", dir);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                dup2(fd, 1);
                dup2(fd, 2);
                if (chdir(dir) == 0)
                        execl(binary, "prometheus", file, data, listen, (char *)NULL);
                _exit(127);
        }
        return pid;
}

/* A real Prometheus server scrapes the endpoint: the target is up, and a
 * query returns the run counted (under exported_job: Prometheus keeps its
 * own `job` label, the scrape job's). */
START_TEST(a_prometheus_server_scrapes_the_endpoint)
{
        char *dir = harness_tmpdir(), path[512];
        int port = free_port(), web = free_port();
        struct tickd *t = start_listening(dir, port, path, sizeof(path));
        pid_t prometheus = prometheus_start(dir, port, web);
        char url[512];
        snprintf(url, sizeof(url),
                 "http://127.0.0.1:%d/api/v1/query?query=tickd_job_runs_total%%7Bexported_job%%3D%%22a%%22,"
                 "result%%3D%%22succeeded%%22%%7D",
                 web);
        char *answer = NULL;
        long long deadline = harness_now_ms() + 90000;
        while (harness_now_ms() < deadline) {
                free(answer);
                answer = curl_get(url);
                if (answer && strstr(answer, "\"exported_job\":\"a\""))
                        break;
                tickd_pump(t, 500);
        }
        kill(prometheus, SIGTERM);
        int status;
        ck_assert_int_eq(waitpid(prometheus, &status, 0), prometheus);
        char log[600];
        snprintf(log, sizeof(log), "%s/prometheus.log", dir);
        char *plog = read_text(log);
        ck_assert_msg(answer && strstr(answer, "\"exported_job\":\"a\""),
                      "Prometheus never had the series: %s\nits log ends:\n%s", answer ? answer : "(no answer)",
                      plog && strlen(plog) > 2000 ? plog + strlen(plog) - 2000 : plog);
        ck_assert_contains(answer, "\"job\":\"tickd\"");
        free(plog);
        free(answer);
        stop(t);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

static Suite *daemon_metrics_suite(void)
{
        Suite *s = suite_create("daemon-metrics");
        TCase *tc = tcase_create("file");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, file_after_every_kind_of_run_passes_promtool_and_matches_the_log);
        tcase_add_test(tc, readers_never_see_a_partial_file_during_a_burst);
        tcase_add_test(tc, an_idle_daemon_does_not_rewrite_the_file);
        tcase_add_test(tc, reload_keeps_counters_and_a_restart_starts_them_again);
        tcase_add_test(tc, fleet_jobs_carry_the_node_that_ran_them);
        suite_add_tcase(s, tc);
        tc = tcase_create("http");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, endpoint_answers_a_scrape_that_promtool_accepts);
        tcase_add_test(tc, endpoint_refuses_other_requests_and_oversize_ones);
        tcase_add_test(tc, endpoint_survives_a_thousand_concurrent_connections);
        tcase_add_test(tc, silent_connections_time_out);
        tcase_add_test(tc, reload_moves_the_endpoint);
        tcase_add_test(tc, a_prometheus_server_scrapes_the_endpoint);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(daemon_metrics_suite)
