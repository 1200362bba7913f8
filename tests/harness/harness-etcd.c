/* harness-etcd.c — a real etcd cluster on loopback; see harness-etcd.h. */
#include "harness/harness-etcd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness.h"

#define MEMBERS_MAX   5
#define START_WAIT_MS 15000

struct etcd_member {
        pid_t pid; /* 0: not running */
        int client_port, peer_port, metrics_port;
        char url[64];
};

struct etcd_cluster {
        const char *binary;
        char *dir;
        char *data; /* the members' data directories: tmpfs when there is one */
        int n;
        struct etcd_cluster_options options;
        char ca[4096], cert[4096], key[4096], other_ca[4096], server_cert[4096], server_key[4096];
        char named_cert[4096], named_key[4096];
        struct etcd_member members[MEMBERS_MAX];
        char endpoints[MEMBERS_MAX * 64];
        char *list[MEMBERS_MAX + 1];
        char initial_cluster[MEMBERS_MAX * 64];
};

/* A temporary directory in /dev/shm, or NULL (none, or not writable).
 * Three members on one host share one disk's fsyncs, which a real
 * cluster does not; on a disk other work loads, they add a delay to
 * every write that says nothing about tickd. On tmpfs they cost nothing:
 * the honest figure for a cluster on one host (tests/bench/RESULTS.md). */
static char *shm_tmpdir(void)
{
        char *path = strdup("/dev/shm/tickd-etcd.XXXXXX");
        if (path && !mkdtemp(path)) {
                free(path);
                return NULL;
        }
        return path;
}

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
        int fds[3 * MEMBERS_MAX];
        for (int i = 0; i < cl->n; i++) {
                struct etcd_member *m = &cl->members[i];
                m->client_port = bind_free_port(&fds[3 * i]);
                m->peer_port = bind_free_port(&fds[3 * i + 1]);
                m->metrics_port = bind_free_port(&fds[3 * i + 2]);
                snprintf(m->url, sizeof(m->url), "%s://127.0.0.1:%d", cl->options.tls ? "https" : "http",
                         m->client_port);
                cl->list[i] = m->url;
        }
        for (int i = 0; i < 3 * cl->n; i++)
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

/* ARGV (NULL-terminated, room for ARGS_MAX) gains the options of a TLS
 * cluster's client side. */
#define ARGS_MAX 48
static void member_args_tls(struct etcd_cluster *cl, char **argv)
{
        size_t n = 0;
        while (argv[n])
                n++;
        char *const tls[] = { "--cert-file",       cl->server_cert, "--key-file",        cl->server_key,
                              "--trusted-ca-file", cl->ca,          "--client-cert-auth" };
        for (size_t i = 0; cl->options.tls && i < sizeof(tls) / sizeof(tls[0]); i++)
                argv[n++] = tls[i];
        ck_assert_uint_lt(n, ARGS_MAX);
        argv[n] = NULL;
}

static void member_spawn(struct etcd_cluster *cl, int i)
{
        struct etcd_member *m = &cl->members[i];
        char name[16], data[4096], log[4096], client[64], peer[64], metrics[64];
        snprintf(name, sizeof(name), "m%d", i);
        snprintf(data, sizeof(data), "%s/%s.etcd", cl->data ? cl->data : cl->dir, name);
        snprintf(log, sizeof(log), "%s/member-%d.log", cl->dir, i);
        snprintf(client, sizeof(client), "%s", m->url);
        snprintf(peer, sizeof(peer), "http://127.0.0.1:%d", m->peer_port);
        snprintf(metrics, sizeof(metrics), "http://127.0.0.1:%d", m->metrics_port);
        char *argv[ARGS_MAX] = { (char *)cl->binary,
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
                                 "--listen-metrics-urls",
                                 metrics,
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
        member_args_tls(cl, argv);
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

/* One GET /health on the metrics port; true when the member says it is
 * healthy (it has a leader and no alarm). */
static bool member_healthy(const struct etcd_member *m)
{
        struct sockaddr_in sa = { .sin_family = AF_INET,
                                  .sin_port = htons((uint16_t)m->metrics_port),
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

/* Runs ARGV (a NULL-terminated list of at most 31 words after PROGRAM)
 * and fails the test, with its error output, unless it succeeds;
 * returns its output (the caller's). */
static char *run_checked(const char *program, const char *const *argv)
{
        char *full[32] = { (char *)program };
        size_t n = 1;
        for (; argv[n - 1]; n++) {
                ck_assert_uint_lt(n, 31);
                full[n] = (char *)argv[n - 1];
        }
        full[n] = NULL;
        char *out = NULL, *err = NULL;
        int status = harness_run(full, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %s %s ... failed (status %d): %s%s", program,
                      full[1], full[2] ? full[2] : "", status, out ? out : "", err ? err : "");
        free(err);
        return out;
}

/* A P-256 key and a certificate for SUBJECT in DIR/NAME.key and
 * DIR/NAME.pem: self-signed as a CA when CA is NULL, else signed by CA
 * (DIR/CA.pem and .key) with EXTENSIONS (openssl x509v3_config lines). */
static void certificate_make(const char *dir, const char *name, const char *subject, const char *ca,
                             const char *extensions)
{
        char key[4096], pem[4096], csr[4096], ca_pem[4096], ca_key[4096];
        snprintf(key, sizeof(key), "%s/%s.key", dir, name);
        snprintf(pem, sizeof(pem), "%s/%s.pem", dir, name);
        snprintf(csr, sizeof(csr), "%s/%s.csr", dir, name);
        if (!ca) {
                free(run_checked("/usr/bin/openssl",
                                 (const char *[]){ "req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
                                                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out",
                                                   pem, "-days", "2", "-subj", subject, NULL }));
                return;
        }
        snprintf(ca_pem, sizeof(ca_pem), "%s/%s.pem", dir, ca);
        snprintf(ca_key, sizeof(ca_key), "%s/%s.key", dir, ca);
        char ext_name[256];
        snprintf(ext_name, sizeof(ext_name), "%s.ext", name);
        _cleanup_free_ char *ext = harness_write_file(dir, ext_name, extensions);
        free(run_checked("/usr/bin/openssl",
                         (const char *[]){ "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                           "-nodes", "-keyout", key, "-out", csr, "-subj", subject, NULL }));
        free(run_checked("/usr/bin/openssl",
                         (const char *[]){ "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-set_serial",
                                           "2", "-days", "2", "-out", pem, "-extfile", ext, NULL }));
}

/* The CA, the server's certificate (for IP 127.0.0.1; also a client's,
 * as etcd's gateway presents it to etcd's own gRPC side), the client's
 * (no Common Name: with authentication on, etcd's gateway refuses one
 * that has), one with a Common Name, and an unrelated CA. */
static void tls_make(struct etcd_cluster *cl)
{
        certificate_make(cl->dir, "ca", "/CN=tickd-test-ca", NULL, NULL);
        certificate_make(cl->dir, "other-ca", "/CN=tickd-test-other-ca", NULL, NULL);
        certificate_make(cl->dir, "server", "/CN=etcd-test-server", "ca",
                         "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth, clientAuth\n");
        certificate_make(cl->dir, "client", "/O=tickd-test-client", "ca", "extendedKeyUsage = clientAuth\n");
        certificate_make(cl->dir, "client-cn", "/CN=tickd-test-client", "ca", "extendedKeyUsage = clientAuth\n");
        snprintf(cl->ca, sizeof(cl->ca), "%s/ca.pem", cl->dir);
        snprintf(cl->other_ca, sizeof(cl->other_ca), "%s/other-ca.pem", cl->dir);
        snprintf(cl->server_cert, sizeof(cl->server_cert), "%s/server.pem", cl->dir);
        snprintf(cl->server_key, sizeof(cl->server_key), "%s/server.key", cl->dir);
        snprintf(cl->cert, sizeof(cl->cert), "%s/client.pem", cl->dir);
        snprintf(cl->key, sizeof(cl->key), "%s/client.key", cl->dir);
        snprintf(cl->named_cert, sizeof(cl->named_cert), "%s/client-cn.pem", cl->dir);
        snprintf(cl->named_key, sizeof(cl->named_key), "%s/client-cn.key", cl->dir);
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
        return etcd_cluster_start_with(n, &(struct etcd_cluster_options){ 0 });
}

struct etcd_cluster *etcd_cluster_start_with(int n, const struct etcd_cluster_options *options)
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
        cl->options = *options;
        cl->dir = harness_tmpdir();
        ck_assert_ptr_nonnull(cl->dir);
        cl->data = shm_tmpdir();
        if (options->tls)
                tls_make(cl);
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
        harness_tmpdir_remove(cl->data);
        harness_tmpdir_remove(cl->dir);
        free(cl);
}

const char *etcd_cluster_endpoints(const struct etcd_cluster *cl) { return cl->endpoints; }
const char *etcd_cluster_endpoint(const struct etcd_cluster *cl, int i) { return cl->members[i].url; }
char *const *etcd_cluster_endpoint_list(const struct etcd_cluster *cl) { return cl->list; }

void etcd_cluster_stop(struct etcd_cluster *cl, int i) { member_end(cl, i, SIGTERM); }
void etcd_cluster_kill(struct etcd_cluster *cl, int i) { member_end(cl, i, SIGKILL); }

/* Whether every thread of PID is stopped ('T' in /proc/PID/task/TID/stat). */
static bool all_threads_stopped(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
        DIR *dir = opendir(path);
        if (!dir)
                return false;
        bool stopped = true;
        for (struct dirent *d; stopped && (d = readdir(dir));) {
                if (d->d_name[0] == '.')
                        continue;
                char stat_path[sizeof(path) + 256 + 8], buf[512];
                snprintf(stat_path, sizeof(stat_path), "%s/%s/stat", path, d->d_name);
                _cleanup_close_ int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
                if (n <= 0)
                        continue; /* a thread that just exited */
                buf[n] = 0;
                const char *state = strrchr(buf, ')');
                stopped = state && (state[2] == 'T' || state[2] == 't');
        }
        closedir(dir);
        return stopped;
}

/* SIGSTOP stops a multi-threaded process asynchronously: kill() returns
 * while etcd's threads may still run, and answer a request sent in that
 * moment (seen: requests made "while paused" answered at once). So the
 * pause lasts until every thread is seen stopped. */
void etcd_cluster_pause(struct etcd_cluster *cl, int i)
{
        ck_assert_msg(cl->members[i].pid > 0, "etcd member %d is not running", i);
        ck_assert_int_eq(kill(cl->members[i].pid, SIGSTOP), 0);
        long long deadline = harness_now_ms() + 5000;
        while (!all_threads_stopped(cl->members[i].pid)) {
                ck_assert_msg(harness_now_ms() < deadline, "etcd member %d did not stop within 5 s", i);
                usleep(1000);
        }
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

const char *etcd_cluster_ca_file(const struct etcd_cluster *cl) { return cl->ca; }
const char *etcd_cluster_cert_file(const struct etcd_cluster *cl) { return cl->cert; }
const char *etcd_cluster_key_file(const struct etcd_cluster *cl) { return cl->key; }
const char *etcd_cluster_other_ca_file(const struct etcd_cluster *cl) { return cl->other_ca; }
const char *etcd_cluster_named_cert_file(const struct etcd_cluster *cl) { return cl->named_cert; }
const char *etcd_cluster_named_key_file(const struct etcd_cluster *cl) { return cl->named_key; }

/* POSTs BODY to PATH of the first running member, with TOKEN when not
 * NULL, by curl(1); fails the test unless etcd answers 200. Returns the
 * answer (the caller's). */
static char *gateway_post(const struct etcd_cluster *cl, const char *path, const char *body, const char *token)
{
        int i = 0;
        while (i < cl->n - 1 && cl->members[i].pid <= 0)
                i++;
        char url[256], authorization[512];
        snprintf(url, sizeof(url), "%s%s", cl->members[i].url, path);
        snprintf(authorization, sizeof(authorization), "Authorization: %s", token ? token : "");
        const char *argv[24] = { "-sS", "--noproxy",        "*",  "--max-time",
                                 "10",  "--fail-with-body", "-H", "Content-Type: application/json" };
        size_t n = 8;
        if (token) {
                argv[n++] = "-H";
                argv[n++] = authorization;
        }
        if (cl->options.tls) {
                const char *const tls[] = { "--cacert", cl->ca, "--cert", cl->cert, "--key", cl->key };
                for (size_t k = 0; k < sizeof(tls) / sizeof(tls[0]); k++)
                        argv[n++] = tls[k];
        }
        argv[n++] = "-d";
        argv[n++] = body;
        argv[n++] = url;
        argv[n] = NULL;
        return run_checked("/usr/bin/curl", argv);
}

/* A token of root's, by POST /v3/auth/authenticate (the caller's). */
static char *root_token(const struct etcd_cluster *cl)
{
        _cleanup_free_ char *answer = gateway_post(cl, "/v3/auth/authenticate",
                                                   "{\"name\":\"root\",\"password\":\"" ETCD_ROOT_PASSWORD "\"}", NULL);
        const char *start = strstr(answer, "\"token\":\"");
        ck_assert_msg(start, "no token in etcd's answer: %s", answer);
        start += strlen("\"token\":\"");
        char *token = strndup(start, strcspn(start, "\""));
        ck_assert_ptr_nonnull(token);
        return token;
}

void etcd_cluster_auth_enable(struct etcd_cluster *cl, const char *user, const char *password)
{
        char body[4][512];
        snprintf(body[0], sizeof(body[0]), "{\"name\":\"%s\",\"password\":\"%s\"}", user, password);
        snprintf(body[1], sizeof(body[1]), "{\"name\":\"%s\"}", user);
        /* key "/tickd/", range_end "/tickd0" (base64): every key under /tickd/. */
        snprintf(body[2], sizeof(body[2]),
                 "{\"name\":\"%s\",\"perm\":{\"permType\":\"READWRITE\",\"key\":\"L3RpY2tkLw==\","
                 "\"range_end\":\"L3RpY2tkMA==\"}}",
                 user);
        snprintf(body[3], sizeof(body[3]), "{\"user\":\"%s\",\"role\":\"%s\"}", user, user);
        const char *const steps[][2] = {
                { "/v3/auth/user/add", "{\"name\":\"root\",\"password\":\"" ETCD_ROOT_PASSWORD "\"}" },
                { "/v3/auth/user/grant", "{\"user\":\"root\",\"role\":\"root\"}" },
                { "/v3/auth/user/add", body[0] },
                { "/v3/auth/role/add", body[1] },
                { "/v3/auth/role/grant", body[2] },
                { "/v3/auth/user/grant", body[3] },
                { "/v3/auth/enable", "{}" },
        };
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
                free(gateway_post(cl, steps[i][0], steps[i][1], NULL));
}

void etcd_cluster_auth_reset(struct etcd_cluster *cl)
{
        _cleanup_free_ char *token = root_token(cl);
        free(gateway_post(cl, "/v3/auth/disable", "{}", token));
        free(gateway_post(cl, "/v3/auth/enable", "{}", NULL));
}
