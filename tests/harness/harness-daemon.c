/* harness-daemon.c — starting and watching a real tickd; see harness-daemon.h. */
#include "harness/harness-daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness.h"
#include "shared/proc-stat.h"

static char *join(const char *a, const char *b)
{
        char *p;
        if (asprintf(&p, "%s/%s", a, b) < 0)
                abort();
        return p;
}

void tickd_pump(struct tickd *t, int ms)
{
        if (t->err_fd < 0) {
                if (ms > 0)
                        usleep((useconds_t)ms * 1000);
                return;
        }
        struct pollfd p = { .fd = t->err_fd, .events = POLLIN };
        int timeout = ms;
        while (poll(&p, 1, timeout) > 0) {
                if (t->log_len + 4097 > t->log_cap) {
                        t->log_cap = t->log_cap ? t->log_cap * 2 : 65536;
                        t->log = realloc(t->log, t->log_cap);
                }
                ssize_t n = read(t->err_fd, t->log + t->log_len, 4096);
                if (n <= 0) {
                        close(t->err_fd);
                        t->err_fd = -1;
                        break;
                }
                t->log_len += (size_t)n;
                t->log[t->log_len] = '\0';
                timeout = 0; /* drain what is there, then return */
        }
}

const char *tickd_log_tail(const struct tickd *t) { return t->log_len > 3000 ? t->log + t->log_len - 3000 : t->log; }

int tickd_count(const struct tickd *t, const char *needle)
{
        int n = 0;
        for (const char *p = t->log; p && (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

bool tickd_wait_for(struct tickd *t, const char *needle, int count, int timeout_ms)
{
        long long deadline = harness_now_ms() + timeout_ms;
        for (;;) {
                tickd_pump(t, 0);
                if (tickd_count(t, needle) >= count)
                        return true;
                long long left = deadline - harness_now_ms();
                if (left <= 0)
                        return false;
                tickd_pump(t, left > 50 ? 50 : (int)left);
        }
}

static void write_atomic(const char *dir, const char *name, const char *content)
{
        char tmp[64];
        snprintf(tmp, sizeof(tmp), ".tmp-%d", (int)getpid());
        char *path = harness_write_file(dir, tmp, content);
        char *final = join(dir, name);
        if (!path || rename(path, final) < 0)
                abort();
        free(path);
        free(final);
}

/* In the child: FDS to 3, 4, ... (not close-on-exec) and the variables
 * that name them; everything else above 2 is closed. */
static void pass_fds(const int *fds, const char *const *names, size_t n)
{
        int high[64];
        if (n > 64)
                _exit(126);
        for (size_t i = 0; i < n; i++)
                high[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100);
        close_range(3, 99, 0);
        char list[4096] = "";
        size_t len = 0;
        for (size_t i = 0; i < n; i++) {
                if (high[i] < 0 || dup2(high[i], 3 + (int)i) < 0)
                        _exit(126);
                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ":" : "", names[i]);
        }
        close_range(3 + (unsigned)n, ~0U, 0);
        char count[16], pid[16];
        snprintf(count, sizeof(count), "%zu", n);
        snprintf(pid, sizeof(pid), "%d", (int)getpid());
        setenv("LISTEN_FDS", count, 1);
        setenv("LISTEN_PID", pid, 1);
        setenv("LISTEN_FDNAMES", list, 1);
}

static void tickd_spawn_fds(struct tickd *t, const char *const *prefix, const int *fds, const char *const *names,
                            size_t n_fds)
{
        char *state = join(t->dir, "state"), *runtime = join(t->dir, "runtime");
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                abort();
        const char *argv[32];
        int n = 0;
        for (const char *const *a = prefix; a && *a; a++)
                argv[n++] = *a;
        /* Absolute: a prefix (nsenter) may change the working directory. */
        char *binary = realpath(harness_binary("tickd"), NULL);
        argv[n++] = binary ? binary : harness_binary("tickd");
        argv[n++] = "--config-dir";
        argv[n++] = t->config_dir;
        argv[n++] = "--state-dir";
        argv[n++] = state;
        argv[n++] = "--runtime-dir";
        argv[n++] = runtime;
        argv[n++] = "--log-target";
        argv[n++] = "stderr";
        argv[n++] = "--log-level";
        argv[n++] = "debug";
        for (char **a = t->args; a && *a && n < 31; a++)
                argv[n++] = *a;
        argv[n] = NULL;
        t->pid = fork();
        if (t->pid == 0) {
                dup2(p[1], STDERR_FILENO);
                int null = open("/dev/null", O_RDWR);
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                for (char **e = t->env; e && *e; e++)
                        putenv(*e);
                /* Only 0, 1 and 2 (and what is passed): descriptors the test
                 * framework left open would otherwise be counted as tickd's. */
                if (n_fds)
                        pass_fds(fds, names, n_fds);
                else
                        close_range(3, ~0U, 0);
                execv(argv[0], (char **)argv);
                _exit(127);
        }
        close(p[1]);
        free(binary);
        t->err_fd = p[0];
        free(state);
        free(runtime);
        if (t->args)
                return;
        if (!tickd_wait_for(t, "event=daemon-started", t->starts + 1, 20000))
                fprintf(stderr, "tickd did not start; its log:\n%s\n", t->log ? t->log : "");
        t->starts++;
}

static void tickd_spawn(struct tickd *t, const char *const *prefix) { tickd_spawn_fds(t, prefix, NULL, NULL, 0); }

void tickd_respawn_with_fds(struct tickd *t, const int *fds, const char *const *names, size_t n)
{
        tickd_spawn_fds(t, NULL, fds, names, n);
}

static char **strv_copy(const char *const *v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        char **copy = calloc(n + 1, sizeof(char *));
        if (!copy)
                abort();
        for (size_t i = 0; v && i < n; i++)
                copy[i] = strdup(v[i]);
        return copy;
}

static void strv_release(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static struct tickd *tickd_new(const char *conf, const char *const *env)
{
        struct tickd *t = calloc(1, sizeof(*t));
        t->dir = harness_tmpdir();
        t->config_dir = join(t->dir, "config");
        t->jobs_dir = join(t->config_dir, "jobs.d");
        t->err_fd = -1;
        mkdir(t->config_dir, 0755);
        mkdir(t->jobs_dir, 0755);
        if (conf)
                free(harness_write_file(t->config_dir, "tickd.conf", conf));
        t->env = strv_copy(env);
        return t;
}

struct tickd *tickd_start(const char *conf, const char *const *prefix)
{
        struct tickd *t = tickd_new(conf, NULL);
        tickd_spawn(t, prefix);
        return t;
}

struct tickd *tickd_start_env(const char *conf, const char *const *env)
{
        struct tickd *t = tickd_new(conf, env);
        tickd_spawn(t, NULL);
        return t;
}

struct tickd *tickd_start_args(const char *conf, const char *const *prefix, const char *const *args)
{
        struct tickd *t = tickd_new(conf, NULL);
        t->args = strv_copy(args);
        tickd_spawn(t, prefix);
        return t;
}

void tickd_restart(struct tickd *t)
{
        if (t->pid > 0)
                tickd_stop(t, SIGTERM, 20000);
        tickd_spawn(t, NULL);
}

void tickd_write_job(struct tickd *t, const char *name, const char *content)
{
        write_atomic(t->jobs_dir, name, content);
}

void tickd_remove_job(struct tickd *t, const char *name)
{
        char *path = join(t->jobs_dir, name);
        unlink(path);
        free(path);
}

int tickd_stop(struct tickd *t, int sig, int timeout_ms)
{
        if (t->pid <= 0)
                return -1;
        kill(t->pid, sig);
        long long deadline = harness_now_ms() + timeout_ms;
        int status = -1;
        for (;;) {
                tickd_pump(t, 20);
                pid_t w = waitpid(t->pid, &status, WNOHANG);
                if (w == t->pid)
                        break;
                if (harness_now_ms() > deadline) {
                        kill(t->pid, SIGKILL);
                        waitpid(t->pid, &status, 0);
                        status = -1;
                        break;
                }
        }
        t->pid = 0;
        /* Its stderr ends with it, unless runners it left running for a
         * successor (a restart) still hold it. */
        long long eof_deadline = harness_now_ms() + 2000;
        while (t->err_fd >= 0 && harness_now_ms() < eof_deadline)
                tickd_pump(t, 100);
        if (t->err_fd >= 0) {
                close(t->err_fd);
                t->err_fd = -1;
        }
        return status;
}

void tickd_free(struct tickd *t)
{
        if (t->pid > 0)
                tickd_stop(t, SIGKILL, 5000);
        if (t->err_fd >= 0)
                close(t->err_fd);
        free(t->log);
        strv_release(t->env);
        strv_release(t->args);
        free(t->jobs_dir);
        free(t->config_dir);
        harness_tmpdir_remove(t->dir);
        free(t);
}

struct child_by_comm {
        pid_t parent;
        const char *comm;
        pid_t found;
};

static bool is_child_by_comm(void *userdata, const struct proc_stat *p)
{
        struct child_by_comm *want = userdata;
        if (p->ppid != want->parent || p->state == 'Z' || strcmp(p->comm, want->comm) != 0)
                return false;
        want->found = p->pid;
        return true;
}

pid_t harness_child_by_comm(pid_t parent, const char *comm)
{
        struct child_by_comm want = { .parent = parent, .comm = comm };
        (void)proc_stat_find(is_child_by_comm, &want, NULL);
        return want.found;
}

void harness_proc_counts(pid_t pid, int *fds, int *children, int *zombies)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
        *fds = *children = *zombies = 0;
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)))
                if (e->d_name[0] != '.')
                        (*fds)++;
        if (d)
                closedir(d);
        harness_count_children(pid, children, zombies);
}

char *harness_cron_in(int offset_seconds)
{
        time_t at = time(NULL) + offset_seconds;
        struct tm tm;
        gmtime_r(&at, &tm);
        char *s;
        if (asprintf(&s, "%d %d %d * * *", tm.tm_sec, tm.tm_min, tm.tm_hour) < 0)
                abort();
        return s;
}

struct tickd *tickd_start_user(uid_t uid, gid_t gid, const char *const *files)
{
        struct tickd *t = calloc(1, sizeof(*t));
        ck_assert_ptr_nonnull(t);
        t->dir = harness_tmpdir();
        ck_assert_int_ge(asprintf(&t->config_dir, "%s/config", t->dir), 0);
        ck_assert_int_ge(asprintf(&t->jobs_dir, "%s/config/jobs.d", t->dir), 0);
        char state[4200], runtime[4200];
        snprintf(state, sizeof(state), "%s/state", t->dir);
        snprintf(runtime, sizeof(runtime), "%s/runtime", t->dir);
        const char *dirs[] = { t->dir, t->config_dir, t->jobs_dir, state, runtime };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (i > 0)
                        ck_assert_int_eq(mkdir(dirs[i], 0700), 0);
                ck_assert_int_eq(chown(dirs[i], uid, gid), 0);
        }
        for (const char *const *f = files; *f; f += 2) {
                char *path = harness_write_file(t->jobs_dir, f[0], f[1]);
                ck_assert_int_eq(chown(path, uid, gid), 0);
                free(path);
        }
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        const char *argv[] = { harness_binary("tickd"), "--user", "--config-dir", t->config_dir, "--state-dir", state,
                               "--runtime-dir",         runtime,  "--log-target", "stderr",      NULL };
        t->pid = fork();
        if (t->pid == 0) {
                dup2(p[1], STDERR_FILENO);
                int null = open("/dev/null", O_RDWR);
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                close_range(3, ~0U, 0);
                if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
                        _exit(126);
                setenv("HOME", t->dir, 1);
                execv(argv[0], (char **)argv);
                _exit(127);
        }
        close(p[1]);
        t->err_fd = p[0];
        if (!tickd_wait_for(t, "event=daemon-started", 1, 20000))
                fprintf(stderr, "tickd --user did not start; its log:\n%s\n", t->log ? t->log : "");
        t->starts = 1;
        return t;
}
