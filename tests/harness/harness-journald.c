/* harness-journald.c — a private journald per test; see harness-journald.h. */
#include "harness/harness-journald.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

#define JOURNALD_BINARY "/lib/systemd/systemd-journald"

static const char journald_conf[] = "[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\n"
                                    "ForwardToKMsg=no\nForwardToConsole=no\nForwardToWall=no\n"
                                    "RateLimitBurst=0\n";

static void child_exec_journald(const char *dir)
{
        char conf[4096], logfile[4096];
        snprintf(conf, sizeof(conf), "%s/journald.conf", dir);
        snprintf(logfile, sizeof(logfile), "%s/journald.log", dir);
        int log_fd = open(logfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (log_fd >= 0) {
                dup2(log_fd, STDOUT_FILENO);
                dup2(log_fd, STDERR_FILENO);
        }
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null >= 0)
                dup2(null, STDIN_FILENO);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("tmpfs", "/run/systemd", "tmpfs", 0, "mode=0755") < 0 ||
            mount("tmpfs", "/run/log", "tmpfs", 0, "mode=0755") < 0 ||
            mount("tmpfs", "/var/log/journal", "tmpfs", 0, "mode=2755") < 0 ||
            mkdir("/run/systemd/journal", 0755) < 0 ||
            mount(conf, "/etc/systemd/journald.conf", NULL, MS_BIND, NULL) < 0) {
                perror("journald namespace");
                _exit(126);
        }
        setenv("SYSTEMD_LOG_TARGET", "console", 1);
        execl(JOURNALD_BINARY, JOURNALD_BINARY, (char *)NULL);
        perror("exec " JOURNALD_BINARY);
        _exit(127);
}

static int socket_exists(const struct journald *jd, const char *name)
{
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%d/root/run/systemd/journal/%s", (int)jd->pid, name);
        return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

int journald_start(struct journald *jd)
{
        *jd = (struct journald){ .pid = -1 };
        /* Mount points; /run/log does not exist on a fresh machine. */
        mkdir("/run/systemd", 0755);
        mkdir("/run/log", 0755);
        mkdir("/var/log/journal", 02755);
        jd->dir = harness_tmpdir();
        if (!jd->dir)
                return -1;
        free(harness_write_file(jd->dir, "journald.conf", journald_conf));
        jd->pid = fork();
        if (jd->pid < 0)
                return -1;
        if (jd->pid == 0)
                child_exec_journald(jd->dir);
        if (asprintf(&jd->journal_dir, "/proc/%d/root/run/log/journal", (int)jd->pid) < 0)
                jd->journal_dir = NULL;
        for (int i = 0; i < 250; i++) {
                /* The runtime journal directory appears with journald's own
                 * first entry; readers fail with ENOENT before that. */
                struct stat st;
                if (socket_exists(jd, "stdout") && socket_exists(jd, "socket") && jd->journal_dir &&
                    stat(jd->journal_dir, &st) == 0)
                        return 0;
                if (waitpid(jd->pid, NULL, WNOHANG) == jd->pid) {
                        fprintf(stderr, "journald died; see %s/journald.log\n", jd->dir);
                        jd->pid = -1;
                        return -1;
                }
                usleep(20 * 1000);
        }
        fprintf(stderr, "journald not ready after 5 s\n");
        return -1;
}

int journald_stop(struct journald *jd)
{
        int status = -1;
        if (jd->pid > 0) {
                kill(jd->pid, SIGTERM);
                while (waitpid(jd->pid, &status, 0) < 0 && errno == EINTR)
                        ;
        }
        jd->pid = -1;
        harness_tmpdir_remove(jd->dir);
        jd->dir = NULL;
        free(jd->journal_dir);
        jd->journal_dir = NULL;
        return status;
}

int journald_enter(const struct journald *jd)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)jd->pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* setns() moves us to the namespace's root directory; come back to
         * where we were (the same directory is visible there), as
         * `nsenter --wd` does, so relative paths keep working. */
        int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int ret = setns(fd, CLONE_NEWNS) < 0 ? -errno : 0;
        if (ret == 0 && cwd >= 0 && fchdir(cwd) < 0)
                ret = -errno;
        close(fd);
        if (cwd >= 0)
                close(cwd);
        return ret;
}

char **journald_argv(const struct journald *jd, char *const argv[])
{
        size_t n = 0;
        while (argv[n])
                n++;
        char **out = calloc(n + 6, sizeof(char *));
        if (!out)
                return NULL;
        out[0] = "/usr/bin/nsenter";
        out[1] = "-t";
        if (asprintf(&out[2], "%d", (int)jd->pid) < 0) {
                free(out);
                return NULL;
        }
        out[3] = "-m";
        out[4] = "--";
        for (size_t i = 0; i < n; i++)
                out[5 + i] = argv[i];
        return out;
}

void journald_argv_free(char **argv)
{
        if (!argv)
                return;
        free(argv[2]);
        free(argv);
}

int journald_sync(const struct journald *jd)
{
        char **argv = journald_argv(jd, (char *[]){ "journalctl", "--sync", NULL });
        if (!argv)
                return -1;
        int status = harness_run(argv, NULL, NULL, NULL);
        journald_argv_free(argv);
        return status;
}
