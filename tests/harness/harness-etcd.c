/* harness-etcd.c — a real etcd cluster on loopback; see harness-etcd.h. */
#include "harness/harness-etcd.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

#define MEMBERS_MAX   5
#define START_WAIT_MS 15000

struct etcd_member {
        pid_t pid; /* 0: not running */
        int client_port, peer_port;
        char url[64];
};

struct etcd_cluster {
        const char *binary;
        char *dir;
        int n;
        struct etcd_member members[MEMBERS_MAX];
        char endpoints[MEMBERS_MAX * 64];
        char *list[MEMBERS_MAX + 1];
        char initial_cluster[MEMBERS_MAX * 64];
};

/* Binds a TCP socket on 127.0.0.1 port 0 and reports the port the kernel
 * chose; the socket stays open (in *FD) until the caller closes it, so
 * ports picked together are all different. */
static int bind_free_port(int *fd)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_msg(*fd >= 0, "socket: %s", strerror(errno));
        ck_assert_msg(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "bind: %s", strerror(errno));
        ck_assert_msg(getsockname(*fd, (struct sockaddr *)&sa, &len) == 0, "getsockname: %s", strerror(errno));
        return ntohs(sa.sin_port);
}

int harness_closed_port(void)
{
        int fd, port = bind_free_port(&fd);
        close(fd);
        return port;
}

static void pick_ports(struct etcd_cluster *cl)
{
        int fds[2 * MEMBERS_MAX];
        for (int i = 0; i < cl->n; i++) {
                struct etcd_member *m = &cl->members[i];
                m->client_port = bind_free_port(&fds[2 * i]);
                m->peer_port = bind_free_port(&fds[2 * i + 1]);
                snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%d", m->client_port);
                cl->list[i] = m->url;
        }
        for (int i = 0; i < 2 * cl->n; i++)
                close(fds[i]);
        size_t used = 0, used_peers = 0;
        for (int i = 0; i < cl->n; i++) {
                used += (size_t)snprintf(cl->endpoints + used, sizeof(cl->endpoints) - used, "%s%s", i ? "," : "",
                                         cl->members[i].url);
                used_peers +=
                        (size_t)snprintf(cl->initial_cluster + used_peers, sizeof(cl->initial_cluster) - used_peers,
                                         "%sm%d=http://127.0.0.1:%d", i ? "," : "", i, cl->members[i].peer_port);
        }
}

static void member_spawn(struct etcd_cluster *cl, int i)
{
        struct etcd_member *m = &cl->members[i];
        char name[16], data[4096], log[4096], client[64], peer[64];
        snprintf(name, sizeof(name), "m%d", i);
        snprintf(data, sizeof(data), "%s/%s.etcd", cl->dir, name);
        snprintf(log, sizeof(log), "%s/member-%d.log", cl->dir, i);
        snprintf(client, sizeof(client), "http://127.0.0.1:%d", m->client_port);
        snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", m->peer_port);
        char *argv[] = { (char *)cl->binary,
                         "--name",
                         name,
                         "--data-dir",
                         data,
                         "--listen-client-urls",
                         client,
                         "--advertise-client-urls",
                         client,
                         "--listen-peer-urls",
                         peer,
                         "--initial-advertise-peer-urls",
                         peer,
                         "--initial-cluster",
                         cl->initial_cluster,
                         "--initial-cluster-state",
                         "new",
                         "--initial-cluster-token",
                         "tickd-test",
                         "--heartbeat-interval",
                         "50",
                         "--election-timeout",
                         "500",
                         "--logger",
                         "zap",
                         "--log-outputs",
                         "stderr",
                         "--log-level",
                         "error",
                         NULL };
        int out = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        ck_assert_msg(out >= 0, "%s: %s", log, strerror(errno));
        pid_t pid = fork();
        ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0) {
                /* A test that dies takes its members along. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int null = open("/dev/null", O_RDONLY);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
                    dup2(out, STDERR_FILENO) < 0)
                        _exit(126);
                execv(argv[0], argv);
                _exit(127);
        }
        close(out);
        m->pid = pid;
}

/* One GET /health; true when the member says it is healthy (it has a
 * leader and no alarm). */
static bool member_healthy(const struct etcd_member *m)
{
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)m->client_port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        struct timeval tv = { .tv_usec = 500 * 1000 };
        char answer[1024];
        size_t len = 0;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        static const char request[] = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            write(fd, request, sizeof(request) - 1) != (ssize_t)sizeof(request) - 1) {
                close(fd);
                return false;
        }
        ssize_t n;
        while (len < sizeof(answer) - 1 && (n = read(fd, answer + len, sizeof(answer) - 1 - len)) > 0)
                len += (size_t)n;
        close(fd);
        answer[len] = '\0';
        return strstr(answer, "\"health\":\"true\"") != NULL;
}

/* The end of member I's log, for a failure message. */
static void fail_with_log(const struct etcd_cluster *cl, int i, const char *what)
{
        char path[4096], text[2048] = "";
        snprintf(path, sizeof(path), "%s/member-%d.log", cl->dir, i);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                off_t size = lseek(fd, 0, SEEK_END);
                ssize_t n = pread(fd, text, sizeof(text) - 1, size > 2000 ? size - 2000 : 0);
                text[n > 0 ? n : 0] = '\0';
                close(fd);
        }
        ck_abort_msg("etcd member %d %s; its log ends:\n%s", i, what, text);
}

/* Polls every running member until each is healthy, for at most
 * START_WAIT_MS; a member that exits fails the test at once. */
static void wait_healthy(struct etcd_cluster *cl)
{
        long long deadline = harness_now_ms() + START_WAIT_MS;
        for (int i = 0; i < cl->n; i++) {
                struct etcd_member *m = &cl->members[i];
                while (m->pid > 0 && !member_healthy(m)) {
                        int status;
                        if (waitpid(m->pid, &status, WNOHANG) == m->pid) {
                                m->pid = 0;
                                fail_with_log(cl, i, "exited while starting");
                        }
                        if (harness_now_ms() > deadline)
                                fail_with_log(cl, i, "was not healthy within 15 s");
                        usleep(20 * 1000);
                }
        }
}

struct etcd_cluster *etcd_cluster_start(int n)
{
        ck_assert_msg(n >= 1 && n <= MEMBERS_MAX, "etcd_cluster_start: %d members (1 to %d)", n, MEMBERS_MAX);
        const char *binary = getenv("TICKD_ETCD");
        ck_assert_msg(binary && *binary && access(binary, X_OK) == 0,
                      "TICKD_ETCD (%s) names no etcd binary: run the suite through make "
                      "(make build/deps/etcd/usr/bin/etcd unpacks one)",
                      binary ? binary : "unset");
        struct etcd_cluster *cl = calloc(1, sizeof(*cl));
        ck_assert_ptr_nonnull(cl);
        cl->binary = binary;
        cl->n = n;
        cl->dir = harness_tmpdir();
        ck_assert_ptr_nonnull(cl->dir);
        pick_ports(cl);
        for (int i = 0; i < n; i++)
                member_spawn(cl, i);
        wait_healthy(cl);
        return cl;
}

/* Waits (at most 10 s) for member I to exit after SIG, then SIGKILLs it. */
static void member_end(struct etcd_cluster *cl, int i, int sig)
{
        struct etcd_member *m = &cl->members[i];
        if (m->pid <= 0)
                return;
        (void)kill(m->pid, sig);
        (void)kill(m->pid, SIGCONT); /* a paused member cannot act on SIGTERM */
        long long deadline = harness_now_ms() + 10000;
        while (waitpid(m->pid, NULL, WNOHANG) == 0) {
                if (harness_now_ms() > deadline) {
                        (void)kill(m->pid, SIGKILL);
                        (void)waitpid(m->pid, NULL, 0);
                        break;
                }
                usleep(10 * 1000);
        }
        m->pid = 0;
}

void etcd_cluster_free(struct etcd_cluster *cl)
{
        if (!cl)
                return;
        for (int i = 0; i < cl->n; i++)
                member_end(cl, i, SIGKILL);
        harness_tmpdir_remove(cl->dir);
        free(cl);
}

const char *etcd_cluster_endpoints(const struct etcd_cluster *cl) { return cl->endpoints; }
const char *etcd_cluster_endpoint(const struct etcd_cluster *cl, int i) { return cl->members[i].url; }
char *const *etcd_cluster_endpoint_list(const struct etcd_cluster *cl) { return cl->list; }

void etcd_cluster_stop(struct etcd_cluster *cl, int i) { member_end(cl, i, SIGTERM); }
void etcd_cluster_kill(struct etcd_cluster *cl, int i) { member_end(cl, i, SIGKILL); }

void etcd_cluster_pause(struct etcd_cluster *cl, int i)
{
        ck_assert_msg(cl->members[i].pid > 0, "etcd member %d is not running", i);
        ck_assert_int_eq(kill(cl->members[i].pid, SIGSTOP), 0);
}

void etcd_cluster_resume(struct etcd_cluster *cl, int i)
{
        ck_assert_msg(cl->members[i].pid > 0, "etcd member %d is not running", i);
        ck_assert_int_eq(kill(cl->members[i].pid, SIGCONT), 0);
}

void etcd_cluster_restart(struct etcd_cluster *cl, int i)
{
        ck_assert_msg(cl->members[i].pid == 0, "etcd member %d is still running", i);
        member_spawn(cl, i);
        wait_healthy(cl);
}
