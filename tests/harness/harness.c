/* harness.c — leak fixture and helpers shared by the suites; see harness.h. */
#include "harness/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shared/proc-stat.h"

static struct leak_counts fixture_before;

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return -1;
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory stream's own descriptor */
}

struct children_count {
        pid_t parent;
        int children, zombies;
};

/* Counts P when it is a child of the parent asked about (never stops the walk). */
static bool count_child(void *userdata, const struct proc_stat *p)
{
        struct children_count *c = userdata;
        if (p->ppid == c->parent) {
                c->children++;
                c->zombies += p->state == 'Z';
        }
        return false;
}

void harness_count_children(pid_t parent, int *children, int *zombies)
{
        struct children_count c = { .parent = parent };
        (void)proc_stat_find(count_child, &c, NULL);
        *children = c.children;
        *zombies = c.zombies;
}

void leak_counts_read(struct leak_counts *out)
{
        *out = (struct leak_counts){ .fds = count_fds() };
        harness_count_children(getpid(), &out->children, &out->zombies);
}

void leak_fixture_setup(void)
{
        /* Orphans left by a test's processes become our children: counted. */
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        leak_counts_read(&fixture_before);
}

void leak_fixture_teardown(void)
{
        struct leak_counts after;
        /* Give processes that are exiting right now a moment to be seen. */
        for (int i = 0; i < 50; i++) {
                leak_counts_read(&after);
                if (after.fds == fixture_before.fds && after.children == fixture_before.children &&
                    after.zombies == fixture_before.zombies)
                        break;
                usleep(20 * 1000);
        }
        ck_assert_msg(after.fds == fixture_before.fds, "descriptor leak: %d open before, %d after", fixture_before.fds,
                      after.fds);
        ck_assert_msg(after.children == fixture_before.children, "process leak: %d children before, %d after",
                      fixture_before.children, after.children);
        ck_assert_msg(after.zombies == fixture_before.zombies, "zombie leak: %d before, %d after",
                      fixture_before.zombies, after.zombies);
}

int harness_reap_children(int timeout_ms)
{
        long long deadline = harness_now_ms() + timeout_ms;
        for (;;) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                struct leak_counts c;
                leak_counts_read(&c);
                if (c.children == 0 || harness_now_ms() >= deadline)
                        return c.children;
                usleep(10 * 1000);
        }
}

const char *harness_binary(const char *name)
{
        static char path[PATH_MAX];
        const char *dir = getenv("TICKD_BUILD_DIR");
        snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : "build", name);
        return path;
}

const char *harness_source_path(const char *rel)
{
        static char path[PATH_MAX];
        const char *dir = getenv("TICKD_SOURCE_DIR");
        snprintf(path, sizeof(path), "%s/%s", dir && *dir ? dir : ".", rel);
        return path;
}

char *harness_tmpdir(void)
{
        const char *base = getenv("TMPDIR");
        char *path;
        if (asprintf(&path, "%s/tickd-test.XXXXXX", base && *base ? base : "/tmp") < 0)
                return NULL;
        if (!mkdtemp(path)) {
                free(path);
                return NULL;
        }
        chmod(path, 0755);
        return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) { return remove(path); }

void harness_tmpdir_remove(char *path)
{
        if (!path)
                return;
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(path);
}

char *harness_write_file(const char *dir, const char *name, const char *content)
{
        char *path;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return NULL;
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                free(path);
                return NULL;
        }
        size_t len = strlen(content), done = 0;
        while (done < len) {
                ssize_t w = write(fd, content + done, len - done);
                if (w <= 0)
                        break;
                done += (size_t)w;
        }
        close(fd);
        return path;
}

#define CAPTURE_MAX (64 * 1024)

int harness_run(char *const argv[], char *const envp[], char **out, char **err)
{
        int out_pipe[2], err_pipe[2];
        if (pipe2(out_pipe, O_CLOEXEC) < 0)
                return -1;
        if (pipe2(err_pipe, O_CLOEXEC) < 0) {
                close(out_pipe[0]);
                close(out_pipe[1]);
                return -1;
        }
        pid_t pid = fork();
        if (pid == 0) {
                dup2(out_pipe[1], STDOUT_FILENO);
                dup2(err_pipe[1], STDERR_FILENO);
                int null = open("/dev/null", O_RDONLY);
                if (null >= 0)
                        dup2(null, STDIN_FILENO);
                if (envp)
                        execve(argv[0], argv, envp);
                else
                        execv(argv[0], argv);
                _exit(127);
        }
        close(out_pipe[1]);
        close(err_pipe[1]);
        char *bufs[2] = { calloc(1, CAPTURE_MAX + 1), calloc(1, CAPTURE_MAX + 1) };
        size_t lens[2] = { 0, 0 };
        struct pollfd fds[2] = { { .fd = out_pipe[0], .events = POLLIN }, { .fd = err_pipe[0], .events = POLLIN } };
        int open_count = 2;
        while (open_count > 0) {
                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        char chunk[4096];
                        ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
                        if (n <= 0) {
                                close(fds[i].fd);
                                fds[i].fd = -1;
                                open_count--;
                                continue;
                        }
                        size_t room = CAPTURE_MAX - lens[i];
                        size_t take = (size_t)n < room ? (size_t)n : room;
                        memcpy(bufs[i] + lens[i], chunk, take);
                        lens[i] += take;
                }
        }
        int status = -1;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (out)
                *out = bufs[0];
        else
                free(bufs[0]);
        if (err)
                *err = bufs[1];
        else
                free(bufs[1]);
        return status;
}

void harness_user_add(const char *prefix, char *name, size_t size, uid_t *uid, gid_t *gid)
{
        snprintf(name, size, "%s%d", prefix, (int)getpid() % 100000);
        char *argv[] = { "/usr/sbin/useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name, NULL };
        int status = harness_run(argv, NULL, NULL, NULL);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "useradd %s failed", name);
        struct passwd *pw = getpwnam(name);
        ck_assert_ptr_nonnull(pw);
        if (uid)
                *uid = pw->pw_uid;
        if (gid)
                *gid = pw->pw_gid;
}

void harness_user_del(const char *name)
{
        char *argv[] = { "/usr/sbin/userdel", (char *)name, NULL };
        harness_run(argv, NULL, NULL, NULL);
}

long long harness_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
