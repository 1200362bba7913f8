/* test-handover.c — running jobs survive a restart of tickd: the batches go
 * to the service manager's fd store and the next instance adopts them.
 *
 * The test is the service manager: it binds a NOTIFY_SOCKET, keeps what
 * tickd sends with FDSTORE=1 (and drops what FDSTOREREMOVE=1 names, and
 * answers BARRIER=1 by closing its descriptor, as systemd does), then
 * starts the next tickd with the stored descriptors the way systemd passes
 * them ($LISTEN_FDS, $LISTEN_FDNAMES). Nobody can tell this tickd whether
 * SIGTERM means stop or restart (no systemd to ask), and tickd then keeps
 * its jobs going: the restart case. The stop case, with a real systemd,
 * is in the proof (tests/systemd-proof.sh). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

#define MAX_STORED 64

struct manager {
        int fd;
        char address[108];
        size_t n;
        int fds[MAX_STORED];
        char *names[MAX_STORED];
        int removals;
        /* A manager answers at once, also while the test waits for tickd. */
        pthread_t thread;
        pthread_mutex_t lock;
        int stop_pipe[2];
};

static void manager_handle(struct manager *m);

static void *manager_thread(void *userdata)
{
        struct manager *m = userdata;
        for (;;) {
                struct pollfd p[2] = { { .fd = m->fd, .events = POLLIN }, { .fd = m->stop_pipe[0], .events = POLLIN } };
                if (poll(p, 2, -1) < 0 || p[1].revents)
                        return NULL;
                pthread_mutex_lock(&m->lock);
                manager_handle(m);
                pthread_mutex_unlock(&m->lock);
        }
}

static struct manager *manager_new(void)
{
        static int counter;
        struct manager *m = calloc(1, sizeof(*m));
        snprintf(m->address, sizeof(m->address), "@tickd-test-store-%d-%d", (int)getpid(), counter++);
        m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ck_assert_int_ge(m->fd, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(m->address);
        memcpy(sa.sun_path, m->address, len);
        sa.sun_path[0] = '\0';
        ck_assert_int_eq(bind(m->fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)),
                         0);
        ck_assert_int_eq(pipe2(m->stop_pipe, O_CLOEXEC), 0);
        pthread_mutex_init(&m->lock, NULL);
        ck_assert_int_eq(pthread_create(&m->thread, NULL, manager_thread, m), 0);
        return m;
}

static void manager_drop(struct manager *m, const char *name)
{
        for (size_t i = 0; i < m->n;) {
                if (strcmp(m->names[i], name) != 0) {
                        i++;
                        continue;
                }
                close(m->fds[i]);
                free(m->names[i]);
                m->n--;
                m->fds[i] = m->fds[m->n];
                m->names[i] = m->names[m->n];
        }
}

static const char *field(const char *text, const char *key, char *buf, size_t size)
{
        size_t klen = strlen(key);
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
                        size_t n = strcspn(line + klen + 1, "\n");
                        snprintf(buf, size, "%.*s", (int)n, line + klen + 1);
                        return buf;
                }
        return NULL;
}

/* Handles every message waiting (in the manager's thread). */
static void manager_handle(struct manager *m)
{
        struct pollfd p = { .fd = m->fd, .events = POLLIN };
        while (poll(&p, 1, 0) > 0) {
                char text[4096];
                union {
                        struct cmsghdr align;
                        char buf[CMSG_SPACE(sizeof(int) * 16)];
                } control;
                struct iovec iov = { .iov_base = text, .iov_len = sizeof(text) - 1 };
                struct msghdr msg = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control)
                };
                ssize_t n = recvmsg(m->fd, &msg, MSG_CMSG_CLOEXEC);
                if (n < 0)
                        break;
                text[n] = '\0';
                int fds[16];
                size_t n_fds = 0;
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                                n_fds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                memcpy(fds, CMSG_DATA(c), n_fds * sizeof(int));
                        }
                char name[256], flag[16];
                if (field(text, "FDSTORE", flag, sizeof(flag)) && strcmp(flag, "1") == 0) {
                        ck_assert_msg(field(text, "FDNAME", name, sizeof(name)), "FDSTORE=1 without FDNAME: %s", text);
                        ck_assert_msg(field(text, "FDPOLL", flag, sizeof(flag)) && strcmp(flag, "0") == 0,
                                      "a batch pipe must be stored with FDPOLL=0: %s", text);
                        for (size_t i = 0; i < n_fds; i++) {
                                ck_assert_int_lt(m->n, MAX_STORED);
                                m->fds[m->n] = fds[i];
                                m->names[m->n++] = strdup(name);
                        }
                        n_fds = 0;
                } else if (field(text, "FDSTOREREMOVE", flag, sizeof(flag)) &&
                           field(text, "FDNAME", name, sizeof(name))) {
                        manager_drop(m, name);
                        m->removals++;
                }
                for (size_t i = 0; i < n_fds; i++)
                        close(fds[i]); /* BARRIER=1: closing it is the answer */
        }
}

/* Lets the manager's thread work for MS; the store is then the test's
 * until the next call (tests read it between calls, nothing else). */
static void manager_pump(struct manager *m, int ms)
{
        usleep((useconds_t)ms * 1000);
        pthread_mutex_lock(&m->lock);
        pthread_mutex_unlock(&m->lock);
}

static size_t manager_count_prefix(const struct manager *m, const char *prefix)
{
        size_t n = 0;
        for (size_t i = 0; i < m->n; i++)
                if (strncmp(m->names[i], prefix, strlen(prefix)) == 0)
                        n++;
        return n;
}

static bool manager_wait_empty(struct manager *m, int timeout_ms)
{
        long long deadline = harness_now_ms() + timeout_ms;
        do
                manager_pump(m, 50);
        while (m->n > 0 && harness_now_ms() < deadline);
        return m->n == 0;
}

static void manager_free(struct manager *m)
{
        ck_assert_int_eq(write(m->stop_pipe[1], "x", 1), 1);
        pthread_join(m->thread, NULL);
        pthread_mutex_destroy(&m->lock);
        close(m->stop_pipe[0]);
        close(m->stop_pipe[1]);
        for (size_t i = 0; i < m->n; i++) {
                close(m->fds[i]);
                free(m->names[i]);
        }
        close(m->fd);
        free(m);
}

static struct tickd *start_with_store(struct manager *m, const char *fdstore_size)
{
        char notify[160], size[32];
        snprintf(notify, sizeof(notify), "NOTIFY_SOCKET=%s", m->address);
        snprintf(size, sizeof(size), "FDSTORE=%s", fdstore_size);
        const char *env[] = { notify, size, NULL };
        return tickd_start_env(NULL, env);
}

/* The run id and job pid of JOB's started record. */
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

static void respawn_from_store(struct tickd *t, struct manager *m)
{
        const char *names[MAX_STORED];
        for (size_t i = 0; i < m->n; i++)
                names[i] = m->names[i];
        tickd_respawn_with_fds(t, m->fds, names, m->n);
}

START_TEST(restart_leaves_jobs_running_and_the_next_instance_records_them)
{
        struct manager *m = manager_new();
        struct tickd *t = start_with_store(m, "16");
        char *at = harness_cron_in(2), jobs[512];
        snprintf(jobs, sizeof(jobs),
                 "[quick]\nschedule = %s\ncommand = exit 0\n\n[long]\nschedule = %s\ncommand = sleep 5; exit 7\n", at,
                 at);
        free(at);
        tickd_write_job(t, "jobs.ini", jobs);
        ck_assert_msg(tickd_wait_for(t, "event=succeeded job=quick", 1, 8000), "%s", t->log);
        ck_assert(tickd_wait_for(t, "event=started job=long", 1, 2000));
        char run_id[33];
        pid_t job_pid;
        started_run(t, "long", run_id, &job_pid);
        manager_pump(m, 200);
        ck_assert_uint_eq(manager_count_prefix(m, "tickd-pipe-"), 1);
        ck_assert_uint_eq(manager_count_prefix(m, "tickd-runs-"), 1);

        int status = tickd_stop(t, SIGTERM, 10000);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exited with %#x", status);
        ck_assert_msg(strstr(t->log, "stopping for a restart"), "%s", t->log);
        ck_assert_int_eq(tickd_count(t, "event=cancelled"), 0);
        ck_assert_msg(kill(job_pid, 0) == 0, "the restart killed job long (pid %d): %s", (int)job_pid, t->log);
        manager_pump(m, 100);
        ck_assert_uint_eq(m->n, 2); /* still stored, for the next instance */

        /* Removed from the crontab meanwhile: its outcome is still recorded under its name. */
        tickd_remove_job(t, "jobs.ini");
        respawn_from_store(t, m);
        char needle[160];
        snprintf(needle, sizeof(needle), "event=adopted job=long run=%s", run_id);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 2000), "%s", t->log);
        snprintf(needle, sizeof(needle), "event=failed job=long run=%s", run_id);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 8000), "%s", t->log);
        ck_assert_ptr_nonnull(strstr(strstr(t->log, needle), " code=7 "));
        /* quick finished under the first instance: recorded once, never lost. */
        ck_assert_int_eq(tickd_count(t, "event=succeeded job=quick"), 1);
        ck_assert_int_eq(tickd_count(t, "event=lost"), 0);
        ck_assert_msg(manager_wait_empty(m, 3000), "the completed batch is still in the store (%zu fds)", m->n);

        status = tickd_stop(t, SIGTERM, 10000);
        ck_assert_int_eq(status, 0);
        harness_reap_children(5000); /* the first instance's runners were orphaned to us */
        tickd_free(t);
        manager_free(m);
}
END_TEST

START_TEST(outcomes_written_while_no_daemon_runs_are_recorded_after_a_crash)
{
        struct manager *m = manager_new();
        struct tickd *t = start_with_store(m, "16");
        /* c in a batch of its own: a and b share their batch's runner
         * (runner.h), which c's death must not take with it. */
        char *at = harness_cron_in(2), *at_c = harness_cron_in(3), jobs[512];
        snprintf(jobs, sizeof(jobs),
                 "[a]\nschedule = %s\ncommand = sleep 1\n\n[b]\nschedule = %s\ncommand = sleep 1; exit 4\n\n"
                 "[c]\nschedule = %s\ncommand = exec sleep 30\n",
                 at, at, at_c);
        free(at);
        free(at_c);
        tickd_write_job(t, "jobs.ini", jobs);
        ck_assert_msg(tickd_wait_for(t, "event=started", 3, 8000), "%s", t->log);
        char run_a[33], run_b[33], run_c[33];
        pid_t pid_a, pid_b, pid_c;
        started_run(t, "a", run_a, &pid_a);
        started_run(t, "b", run_b, &pid_b);
        started_run(t, "c", run_c, &pid_c);

        tickd_stop(t, SIGKILL, 5000); /* a crash: not a word to anyone */
        /* While no daemon runs: c's runner dies without a record (its job
         * with it), a and b end and write theirs into the stored pipe. */
        pid_t runner_c = harness_child_by_comm(getpid(), "tickd:c");
        ck_assert_int_gt(runner_c, 0);
        kill(runner_c, SIGKILL);
        kill(-pid_c, SIGKILL);
        usleep(1500 * 1000);
        ck_assert_int_ne(kill(pid_a, 0), 0);
        ck_assert_int_ne(kill(pid_b, 0), 0);
        manager_pump(m, 100);

        respawn_from_store(t, m);
        char needle[160];
        snprintf(needle, sizeof(needle), "event=succeeded job=a run=%s", run_a);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 5000), "%s", t->log);
        snprintf(needle, sizeof(needle), "event=failed job=b run=%s", run_b);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 5000), "%s", t->log);
        ck_assert_ptr_nonnull(strstr(strstr(t->log, needle), " code=4 "));
        snprintf(needle, sizeof(needle), "event=lost job=c run=%s", run_c);
        ck_assert_msg(tickd_wait_for(t, needle, 1, 5000), "%s", t->log);
        ck_assert_msg(manager_wait_empty(m, 3000), "the completed batch is still in the store (%zu fds)", m->n);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 10000), 0);
        harness_reap_children(5000);
        tickd_free(t);
        manager_free(m);
}
END_TEST

START_TEST(a_full_store_means_a_plain_stop)
{
        /* Room for one batch (two descriptors): the second is not stored, so
         * a restart cannot hand everything over and tickd stops its jobs. */
        struct manager *m = manager_new();
        struct tickd *t = start_with_store(m, "2");
        char *at1 = harness_cron_in(2), *at2 = harness_cron_in(3), jobs[512];
        snprintf(jobs, sizeof(jobs),
                 "[one]\nschedule = %s\ncommand = exec sleep 30\n\n[two]\nschedule = %s\ncommand = exec sleep 30\n",
                 at1, at2);
        free(at1);
        free(at2);
        tickd_write_job(t, "jobs.ini", jobs);
        ck_assert_msg(tickd_wait_for(t, "event=started", 2, 8000), "%s", t->log);
        ck_assert_msg(strstr(t->log, "the fd store is full"), "%s", t->log);
        manager_pump(m, 100);
        ck_assert_uint_eq(m->n, 2);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 15000), 0);
        ck_assert_msg(strstr(t->log, "some open batches are not in the fd store"), "%s", t->log);
        ck_assert_int_eq(tickd_count(t, "event=cancelled"), 2);
        ck_assert_msg(manager_wait_empty(m, 3000), "%zu fds left in the store", m->n);
        tickd_free(t);
        manager_free(m);
}
END_TEST

START_TEST(an_unreadable_image_is_dropped_and_the_daemon_goes_on)
{
        struct manager *m = manager_new();
        int image = memfd_create("junk", MFD_CLOEXEC);
        ck_assert_int_ge(image, 0);
        ck_assert_int_eq(write(image, "not a batch image at all", 24), 24);
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        close(p[1]);
        pthread_mutex_lock(&m->lock);
        m->fds[0] = image;
        m->names[0] = strdup("tickd-runs-9");
        m->fds[1] = p[0];
        m->names[1] = strdup("tickd-pipe-9");
        m->fds[2] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        m->names[2] = strdup("tickd-pipe-10"); /* a pipe without its image */
        m->n = 3;
        pthread_mutex_unlock(&m->lock);

        struct tickd *t = start_with_store(m, "16");
        tickd_stop(t, SIGKILL, 5000);
        respawn_from_store(t, m);
        ck_assert_msg(strstr(t->log, "stored batch 9 from the previous instance is unreadable"), "%s", t->log);
        ck_assert_msg(strstr(t->log, "stored descriptor tickd-pipe-10 has no batch image"), "%s", t->log);
        ck_assert_msg(manager_wait_empty(m, 3000), "%zu fds left in the store", m->n);
        /* And it works: a job runs. */
        char *at = harness_cron_in(2), job[256];
        snprintf(job, sizeof(job), "[after]\nschedule = %s\ncommand = exit 0\n", at);
        free(at);
        tickd_write_job(t, "after.ini", job);
        ck_assert_msg(tickd_wait_for(t, "event=succeeded job=after", 1, 8000), "%s", t->log);
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 10000), 0);
        tickd_free(t);
        manager_free(m);
}
END_TEST

static Suite *handover_suite(void)
{
        Suite *s = suite_create("handover");
        TCase *tc = tcase_create("fdstore");
        tcase_set_timeout(tc, 60);
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, restart_leaves_jobs_running_and_the_next_instance_records_them);
        tcase_add_test(tc, outcomes_written_while_no_daemon_runs_are_recorded_after_a_crash);
        tcase_add_test(tc, a_full_store_means_a_plain_stop);
        tcase_add_test(tc, an_unreadable_image_is_dropped_and_the_daemon_goes_on);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(handover_suite)
