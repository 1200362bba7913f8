/* cgroup.c — per-run cgroups under a delegated unit; see cgroup.h. */
#include "tickd/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"

static const char *const run_controllers[] = { "memory", "pids", "cpu", "io" };

/* Writes VALUE to FILE under DIR_FD in one write(). 0 or negative errno. */
static int write_attribute(int dir_fd, const char *file, const char *value)
{
        _cleanup_close_ int fd = openat(dir_fd, file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        size_t len = strlen(value);
        ssize_t n = write(fd, value, len);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EIO;
}

/* Reads FILE under DIR_FD (at most SIZE - 1 bytes, NUL-terminated). */
static int read_attribute(int dir_fd, const char *file, char *buf, size_t size)
{
        _cleanup_close_ int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0 || (len += (size_t)n) == size - 1)
                        break;
        }
        buf[len] = '\0';
        return (int)len;
}

/* This process's cgroup v2 path ("/system.slice/tickd.service") from
 * /proc/self/cgroup, and where cgroup2 is mounted: /sys/fs/cgroup (the
 * unified layout) or /sys/fs/cgroup/unified (systemd's hybrid layout). */
static int own_cgroup(char *path, size_t size, const char **mount)
{
        char buf[4096];
        int n = read_attribute(AT_FDCWD, "/proc/self/cgroup", buf, sizeof(buf));
        if (n < 0)
                return n;
        char *line = strstr(buf, "0::");
        if (!line || (line != buf && line[-1] != '\n'))
                return -ENOENT;
        line += 3;
        size_t len = strcspn(line, "\n");
        if (len == 0 || len >= size)
                return -ENOENT;
        memcpy(path, line, len);
        path[len] = '\0';
        struct statfs fs;
        if (statfs("/sys/fs/cgroup", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                *mount = "/sys/fs/cgroup";
        else if (statfs("/sys/fs/cgroup/unified", &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                *mount = "/sys/fs/cgroup/unified";
        else
                return -ENOENT;
        return 0;
}

/* The system manager (from systemd 251) marks the cgroups it delegates
 * (Delegate=yes) with the xattr trusted.delegate. A user manager of
 * systemd 252 marks none of its units; everything below user@UID.service
 * was delegated to that user by PID 1, so a unit's cgroup there that this
 * user owns is one it may manage (the packaged user unit asks for
 * Delegate=yes, which the manager cannot be asked without a bus call). */
static bool delegated(const char *dir)
{
        char v[8];
        ssize_t n = getxattr(dir, "trusted.delegate", v, sizeof(v));
        if (n <= 0)
                n = getxattr(dir, "user.delegate", v, sizeof(v));
        if (n == 1 && v[0] == '1')
                return true;
        struct stat st;
        return geteuid() != 0 && strstr(dir, "/user@") && stat(dir, &st) == 0 && st.st_uid == geteuid() &&
               access(dir, W_OK) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

static bool has_word(const char *list, const char *word)
{
        size_t len = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += len)
                if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\n' || !p[len]))
                        return true;
        return false;
}

/* The controllers the unit offers, enabled one by one for its children
 * (one that fails is left out: its limits then fail per run, by name). */
static void enable_controllers(int dir_fd, struct cgroup_setup *s)
{
        char offered[256];
        if (read_attribute(dir_fd, "cgroup.controllers", offered, sizeof(offered)) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(run_controllers); i++) {
                const char *c = run_controllers[i];
                char plus[16];
                snprintf(plus, sizeof(plus), "+%s", c);
                if (has_word(offered, c) && write_attribute(dir_fd, "cgroup.subtree_control", plus) == 0) {
                        size_t len = strlen(s->controllers);
                        snprintf(s->controllers + len, sizeof(s->controllers) - len, "%s%s", len ? " " : "", c);
                }
        }
}

/* Empty run cgroups a previous instance's runners could not remove (a
 * runner killed with SIGKILL): removed at start-up. One that still holds
 * processes belongs to a run going on (adopted, or left by a killed
 * daemon) and stays: rmdir fails with EBUSY. */
static void remove_stale_runs(int dir_fd)
{
        int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_type == DT_DIR && strncmp(e->d_name, "run-", 4) == 0)
                        (void)unlinkat(dir_fd, e->d_name, AT_REMOVEDIR);
        closedir(d);
}

int cgroup_setup_detect(struct cgroup_setup **out, char *why, size_t why_size)
{
        char path[2048];
        const char *mount;
        if (own_cgroup(path, sizeof(path), &mount) < 0) {
                snprintf(why, why_size, "no cgroup v2 hierarchy");
                return 0;
        }
        if (!ends_with(path, ".service") || !getenv("INVOCATION_ID")) {
                snprintf(why, why_size, "not started by systemd as a service (cgroup %s)", path);
                return 0;
        }
        struct cgroup_setup *s = calloc(1, sizeof(*s));
        if (!s || asprintf(&s->dir, "%s%s", mount, path) < 0) {
                free(s);
                return -ENOMEM;
        }
        if (!delegated(s->dir)) {
                snprintf(why, why_size, "%s is not delegated to tickd (Delegate=yes in the unit)", s->dir);
                cgroup_setup_free(s);
                return 0;
        }
        _cleanup_close_ int dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = dir_fd < 0 ? -errno : 0;
        if (r == 0 && mkdirat(dir_fd, "daemon", 0755) < 0 && errno != EEXIST)
                r = -errno;
        if (r == 0)
                r = write_attribute(dir_fd, "daemon/cgroup.procs", "0");
        if (r < 0) {
                snprintf(why, why_size, "cannot move into %s/daemon: %s", s->dir, strerror(-r));
                cgroup_setup_free(s);
                return r;
        }
        enable_controllers(dir_fd, s);
        remove_stale_runs(dir_fd);
        *out = s;
        return 1;
}

void cgroup_setup_free(struct cgroup_setup *s)
{
        if (!s)
                return;
        free(s->dir);
        free(s);
}

int cgroup_release(void)
{
        char path[2048];
        const char *mount;
        int r = own_cgroup(path, sizeof(path), &mount);
        if (r < 0)
                return r;
        char *slash = strrchr(path, '/');
        if (!slash || strcmp(slash, "/.control") != 0)
                return 0; /* not a delegated unit's control process: nothing of ours to clear */
        *slash = '\0';
        char dir[2200];
        snprintf(dir, sizeof(dir), "%s%s", mount, path);
        _cleanup_close_ int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(run_controllers); i++) {
                char minus[16];
                snprintf(minus, sizeof(minus), "-%s", run_controllers[i]);
                (void)write_attribute(dir_fd, "cgroup.subtree_control", minus); /* not enabled: fine */
        }
        return 0;
}

static int run_limits(const struct cgroup_run *run, const struct job_limits *limits, char *what, size_t size)
{
        struct limit_attribute attrs[4];
        size_t n = limits_attributes(limits, attrs);
        for (size_t i = 0; i < n; i++) {
                int r = write_attribute(run->dir_fd, attrs[i].file, attrs[i].value);
                if (r == -ENOENT)
                        snprintf(what, size, "%s cannot be set: the %s controller is not enabled for tickd's runs",
                                 attrs[i].file, attrs[i].controller);
                else if (r < 0)
                        snprintf(what, size, "cannot write %s %s: %s", attrs[i].file, attrs[i].value, strerror(-r));
                if (r < 0)
                        return r;
        }
        return 0;
}

int cgroup_run_create(const char *dir, const char *job, const char *run_id, const struct job_limits *limits,
                      struct cgroup_run *out, char *what, size_t what_size)
{
        struct cgroup_run run = { .dir_fd = -1, .procs_fd = -1, .parent_fd = -1 };
        int r = limits_cgroup_name(job, run_id, run.name, sizeof(run.name));
        if (r < 0) {
                snprintf(what, what_size, "the job's name is too long for a cgroup name");
                return r;
        }
        run.parent_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (run.parent_fd < 0 || mkdirat(run.parent_fd, run.name, 0755) < 0) {
                r = -errno;
                snprintf(what, what_size, "cannot make cgroup %s/%s: %s", dir, run.name, strerror(-r));
                cgroup_run_close(&run);
                return r;
        }
        run.dir_fd = openat(run.parent_fd, run.name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (run.dir_fd >= 0)
                run.procs_fd = openat(run.dir_fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        r = run.procs_fd < 0 ? -errno : run_limits(&run, limits, what, what_size);
        if (r < 0) {
                if (!what[0])
                        snprintf(what, what_size, "cannot open cgroup %s/%s: %s", dir, run.name, strerror(-r));
                (void)cgroup_run_remove(&run);
                return r;
        }
        *out = run;
        return 0;
}

/* The pids in the run's cgroup, read afresh. */
static int for_each_pid(const struct cgroup_run *run, int sig)
{
        _cleanup_close_ int fd = openat(run->dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        FILE *f = fdopen(fd, "r");
        if (!f)
                return -errno;
        fd = -1;
        int count = 0;
        long pid;
        while (fscanf(f, "%ld", &pid) == 1) {
                if (sig)
                        (void)kill((pid_t)pid, sig); /* it may be gone already */
                count++;
        }
        fclose(f);
        return count;
}

int cgroup_run_signal(const struct cgroup_run *run, int sig)
{
        if (run->dir_fd < 0)
                return 0;
        if (sig == SIGKILL && write_attribute(run->dir_fd, "cgroup.kill", "1") == 0)
                return 1;
        return for_each_pid(run, sig);
}

int cgroup_run_count(const struct cgroup_run *run) { return run->dir_fd < 0 ? 0 : for_each_pid(run, 0); }

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cgroup_run_wait_empty(const struct cgroup_run *run, int timeout_ms)
{
        if (run->dir_fd < 0)
                return 0;
        _cleanup_close_ int fd = openat(run->dir_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int64_t deadline = now_ms() + timeout_ms;
        for (;;) {
                char buf[256];
                if (pread(fd, buf, sizeof(buf) - 1, 0) < 0)
                        return -errno;
                buf[sizeof(buf) - 1] = '\0';
                if (strstr(buf, "populated 0"))
                        return 0;
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return -ETIMEDOUT;
                /* The kernel signals a change of cgroup.events as POLLPRI. */
                struct pollfd p = { .fd = fd, .events = POLLPRI };
                if (poll(&p, 1, left > 100 ? 100 : (int)left) < 0 && errno != EINTR)
                        return -errno;
        }
}

static int64_t keyed_value(const char *text, const char *key)
{
        size_t len = strlen(key);
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, key, len) == 0 && l[len] == ' ')
                        return strtoll(l + len + 1, NULL, 10);
        return -1;
}

void cgroup_run_stats(const struct cgroup_run *run, struct cgroup_stats *out)
{
        *out = (struct cgroup_stats){ .memory_peak = -1, .cpu_usec = -1, .oom_kills = -1 };
        char buf[1024];
        if (run->dir_fd < 0)
                return;
        if (read_attribute(run->dir_fd, "memory.peak", buf, sizeof(buf)) > 0)
                out->memory_peak = strtoll(buf, NULL, 10);
        if (read_attribute(run->dir_fd, "cpu.stat", buf, sizeof(buf)) > 0)
                out->cpu_usec = keyed_value(buf, "usage_usec");
        if (read_attribute(run->dir_fd, "memory.events", buf, sizeof(buf)) > 0)
                out->oom_kills = keyed_value(buf, "oom_kill");
}

void cgroup_run_close(struct cgroup_run *run)
{
        int *fds[] = { &run->procs_fd, &run->dir_fd, &run->parent_fd };
        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                if (*fds[i] >= 0) {
                        close(*fds[i]);
                        *fds[i] = -1;
                }
}

int cgroup_run_remove(struct cgroup_run *run)
{
        int r = 0;
        if (run->parent_fd >= 0 && run->name[0] && unlinkat(run->parent_fd, run->name, AT_REMOVEDIR) < 0)
                r = -errno;
        cgroup_run_close(run);
        return r;
}

int cgroup_kill_run(const char *dir, const char *job, const char *run_id)
{
        char name[256];
        int r = limits_cgroup_name(job, run_id, name, sizeof(name));
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char file[300];
        snprintf(file, sizeof(file), "%s/cgroup.kill", name);
        return write_attribute(fd, file, "1");
}
