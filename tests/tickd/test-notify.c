/* test-notify.c — the service-manager protocol: notify.c against a
 * NOTIFY_SOCKET we bind ourselves, then the real tickd's life cycle. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"
#include "tickd/notify.h"

/* A datagram socket at an abstract address, as systemd's NOTIFY_SOCKET. */
static int listener_open(char *name, size_t size)
{
        static int counter;
        snprintf(name, size, "@tickd-test-notify-%d-%d", (int)getpid(), counter++);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ck_assert_int_ge(fd, 0);
        int one = 1;
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(name);
        memcpy(sa.sun_path, name, len);
        sa.sun_path[0] = '\0';
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
                         0);
        return fd;
}

struct message {
        char text[4096];
        pid_t sender;
        long long at_ms;
};

/* Receives one message within TIMEOUT_MS; closes any descriptors passed
 * along (a sender may pass FDSTORE fds). Returns false on timeout. */
static bool listener_recv(int fd, int timeout_ms, struct message *m)
{
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, timeout_ms) <= 0)
                return false;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * 16)];
        } control;
        struct iovec iov = { .iov_base = m->text, .iov_len = sizeof(m->text) - 1 };
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
        };
        ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return false;
        m->text[n] = '\0';
        m->sender = 0;
        m->at_ms = harness_now_ms();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                        struct ucred cred;
                        memcpy(&cred, CMSG_DATA(c), sizeof(cred));
                        m->sender = cred.pid;
                } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        for (size_t i = 0; i < count; i++) {
                                int passed;
                                memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                close(passed);
                        }
                }
        }
        return true;
}

START_TEST(without_notify_socket_nothing_is_sent_and_nothing_fails)
{
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        ck_assert_int_eq(notify_ready(), 0);
        ck_assert_int_eq(notify_status("x"), 0);
        ck_assert_int_eq(notify_ready_status("x"), 0);
        ck_assert_int_eq(notify_reloading(), 0);
        ck_assert_int_eq(notify_stopping(), 0);
        ck_assert_int_eq(notify_errno(-ENOENT, "x"), 0);
        sd_event *e = NULL;
        ck_assert_int_eq(sd_event_new(&e), 0);
        ck_assert_int_eq(notify_watchdog_setup(e), 0);
        sd_event_unref(e);
}
END_TEST

START_TEST(messages_reach_the_socket_with_our_credentials)
{
        char name[108];
        int fd = listener_open(name, sizeof(name));
        setenv("NOTIFY_SOCKET", name, 1);
        struct message m;
        ck_assert_int_gt(notify_ready_status("3 jobs"), 0);
        ck_assert(listener_recv(fd, 2000, &m));
        ck_assert_str_eq(m.text, "READY=1\nSTATUS=3 jobs");
        ck_assert_int_eq(m.sender, getpid());

        struct timespec before;
        clock_gettime(CLOCK_MONOTONIC, &before);
        ck_assert_int_gt(notify_reloading(), 0);
        ck_assert(listener_recv(fd, 2000, &m));
        unsigned long long usec = 0;
        ck_assert_int_eq(sscanf(m.text, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1);
        unsigned long long before_usec =
                (unsigned long long)before.tv_sec * 1000000 + (unsigned long long)before.tv_nsec / 1000;
        ck_assert_msg(usec >= before_usec && usec < before_usec + 5000000, "MONOTONIC_USEC=%llu, before %llu", usec,
                      before_usec);

        ck_assert_int_gt(notify_ready(), 0);
        ck_assert(listener_recv(fd, 2000, &m));
        ck_assert_str_eq(m.text, "READY=1");
        ck_assert_int_gt(notify_status("busy"), 0);
        ck_assert(listener_recv(fd, 2000, &m));
        ck_assert_str_eq(m.text, "STATUS=busy");
        ck_assert_int_gt(notify_stopping(), 0);
        ck_assert(listener_recv(fd, 2000, &m));
        ck_assert_str_eq(m.text, "STOPPING=1");
        ck_assert_int_gt(notify_errno(-ENOENT, "no config"), 0);
        ck_assert(listener_recv(fd, 2000, &m));
        ck_assert_str_eq(m.text, "ERRNO=2\nSTATUS=no config");
        ck_assert(!listener_recv(fd, 0, &m));
        unsetenv("NOTIFY_SOCKET");
        close(fd);
}
END_TEST

START_TEST(status_sentence_names_jobs_running_and_next)
{
        setenv("TZ", "UTC", 1);
        tzset();
        char buf[256];
        uint64_t now = 1764370800000000ULL; /* 2025-11-28 23:00:00 UTC */
        ck_assert_str_eq(notify_format_status(buf, sizeof(buf), 42, 1, "backup", now + 30 * 60 * 1000000ULL, now),
                         "42 jobs, 1 running; next: backup at 23:30:00");
        ck_assert_str_eq(notify_format_status(buf, sizeof(buf), 1, 0, "x", now + 2 * 3600 * 1000000ULL, now),
                         "1 job, 0 running; next: x at 2025-11-29 01:00:00");
        ck_assert_str_eq(notify_format_status(buf, sizeof(buf), 0, 0, NULL, 0, now),
                         "0 jobs, 0 running; no job scheduled");
        ck_assert_str_eq(notify_format_status(buf, 12, 42, 1, "backup", now, now), "42 jobs, 1 ");
}
END_TEST

/* ---- the real tickd ------------------------------------------------- */

struct daemon_run {
        char *dir;
        pid_t pid;
};

static void daemon_start(struct daemon_run *d, const char *socket_name, const char *watchdog_usec,
                         const char *state_dir)
{
        d->dir = harness_tmpdir();
        char config[4096], jobs[4096], state[4096], runtime[4096];
        snprintf(config, sizeof(config), "%s/config", d->dir);
        snprintf(jobs, sizeof(jobs), "%s/config/jobs.d", d->dir);
        snprintf(state, sizeof(state), "%s/state", d->dir);
        snprintf(runtime, sizeof(runtime), "%s/runtime", d->dir);
        mkdir(config, 0755);
        mkdir(jobs, 0755);
        free(harness_write_file(jobs, "tick.ini", "[tick]\nschedule = * * * * * *\ncommand = sleep 0.4\n"));
        d->pid = fork();
        ck_assert_int_ge(d->pid, 0);
        if (d->pid == 0) {
                char pid[32];
                snprintf(pid, sizeof(pid), "%d", (int)getpid());
                setenv("NOTIFY_SOCKET", socket_name, 1);
                if (watchdog_usec) {
                        setenv("WATCHDOG_USEC", watchdog_usec, 1);
                        setenv("WATCHDOG_PID", pid, 1);
                }
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                execl(harness_binary("tickd"), "tickd", "--config-dir", config, "--state-dir",
                      state_dir ? state_dir : state, "--runtime-dir", runtime, "--log-target", "stderr", (char *)NULL);
                _exit(127);
        }
}

/* Waits for a message starting with PREFIX from tickd; counts and times
 * the watchdog pings seen on the way. */
struct watch {
        int fd;
        pid_t daemon;
        int pings;
        long long last_ping_ms, max_gap_ms;
        bool saw_running;
};

static bool wait_for(struct watch *w, const char *prefix, int timeout_ms, struct message *m)
{
        long long deadline = harness_now_ms() + timeout_ms;
        while (harness_now_ms() < deadline) {
                if (!listener_recv(w->fd, 50, m))
                        continue;
                ck_assert_msg(m->sender == w->daemon, "message '%s' from pid %d, not tickd %d", m->text, (int)m->sender,
                              (int)w->daemon);
                if (strcmp(m->text, "WATCHDOG=1") == 0) {
                        if (w->pings++ > 0 && m->at_ms - w->last_ping_ms > w->max_gap_ms)
                                w->max_gap_ms = m->at_ms - w->last_ping_ms;
                        w->last_ping_ms = m->at_ms;
                }
                if (strstr(m->text, "STATUS=1 job, 1 running"))
                        w->saw_running = true;
                if (strncmp(m->text, prefix, strlen(prefix)) == 0)
                        return true;
        }
        return false;
}

START_TEST(tickd_reports_ready_status_reload_stopping_and_pings_the_watchdog)
{
        char name[108];
        int fd = listener_open(name, sizeof(name));
        struct daemon_run d;
        daemon_start(&d, name, "1000000", NULL);
        struct watch w = { .fd = fd, .daemon = d.pid };
        struct message m;

        ck_assert_msg(wait_for(&w, "READY=1", 10000, &m), "no READY=1");
        ck_assert_msg(strncmp(m.text, "READY=1\nSTATUS=1 job, 0 running; next: tick at ", 47) == 0, "%s", m.text);
        /* Let it run jobs for a while: STATUS follows them, pings go on. */
        wait_for(&w, "never", 3000, &m);
        ck_assert_msg(w.saw_running, "no STATUS= with the running job");

        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        ck_assert_msg(wait_for(&w, "RELOADING=1\nMONOTONIC_USEC=", 5000, &m), "no RELOADING=1");
        ck_assert_msg(wait_for(&w, "READY=1", 5000, &m), "no READY=1 after the reload");

        ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
        ck_assert_msg(wait_for(&w, "STOPPING=1", 5000, &m), "no STOPPING=1");
        int status;
        ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
        /* A job's children killed with its group at shutdown outlive their
         * parent shell by a moment: as our orphans (subreaper) they are ours
         * to reap. */
        ck_assert_int_eq(harness_reap_children(2000), 0); /* none still alive */
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd status %d", status);

        /* WatchdogSec=1s: systemd kills a service silent for 1 s. sd-event
         * pings about every half period; over the ~4 s above, that is at
         * least 4 pings and never a gap reaching the period. */
        ck_assert_msg(w.pings >= 4, "only %d watchdog pings", w.pings);
        ck_assert_msg(w.max_gap_ms < 1000, "watchdog gap of %lld ms", w.max_gap_ms);
        close(fd);
        harness_tmpdir_remove(d.dir);
}
END_TEST

START_TEST(tickd_without_watchdog_sends_no_pings)
{
        char name[108];
        int fd = listener_open(name, sizeof(name));
        struct daemon_run d;
        daemon_start(&d, name, NULL, NULL);
        struct watch w = { .fd = fd, .daemon = d.pid };
        struct message m;
        ck_assert(wait_for(&w, "READY=1", 10000, &m));
        wait_for(&w, "never", 1500, &m);
        kill(d.pid, SIGTERM);
        ck_assert(wait_for(&w, "STOPPING=1", 5000, &m));
        waitpid(d.pid, NULL, 0);
        /* A job's children killed with its group at shutdown outlive their
         * parent shell by a moment: as our orphans (subreaper) they are ours
         * to reap. */
        ck_assert_int_eq(harness_reap_children(2000), 0); /* none still alive */
        ck_assert_int_eq(w.pings, 0);
        close(fd);
        harness_tmpdir_remove(d.dir);
}
END_TEST

START_TEST(tickd_reports_errno_when_start_up_fails)
{
        char name[108];
        int fd = listener_open(name, sizeof(name));
        struct daemon_run d;
        daemon_start(&d, name, NULL, "/proc/self/no/such/dir"); /* mkdir fails: ENOENT */
        struct watch w = { .fd = fd, .daemon = d.pid };
        struct message m;
        ck_assert_msg(wait_for(&w, "ERRNO=", 10000, &m), "no ERRNO=");
        ck_assert_str_eq(m.text, "ERRNO=2\nSTATUS=start-up failed");
        int status;
        ck_assert_int_eq(waitpid(d.pid, &status, 0), d.pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0);
        ck_assert(!listener_recv(fd, 0, &m)); /* and never READY=1 */
        close(fd);
        harness_tmpdir_remove(d.dir);
}
END_TEST

static Suite *notify_suite(void)
{
        Suite *s = suite_create("notify");
        TCase *tc = tcase_create("protocol");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, without_notify_socket_nothing_is_sent_and_nothing_fails);
        tcase_add_test(tc, messages_reach_the_socket_with_our_credentials);
        tcase_add_test(tc, status_sentence_names_jobs_running_and_next);
        suite_add_tcase(s, tc);
        tc = tcase_create("tickd");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 40);
        tcase_add_test(tc, tickd_reports_ready_status_reload_stopping_and_pings_the_watchdog);
        tcase_add_test(tc, tickd_without_watchdog_sends_no_pings);
        tcase_add_test(tc, tickd_reports_errno_when_start_up_fails);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(notify_suite)
