/* state.c — stamps and @reboot markers, written atomically; see state.h. */
#include "shared/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/log.h"

static void escape_name(const char *job, const char *suffix, char *out, size_t size)
{
        size_t n = 0;
        for (const unsigned char *p = (const unsigned char *)job; *p && n + 4 < size; p++) {
                bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                             *p == '_' || *p == '-' || *p == '@' || (*p == '.' && p != (const unsigned char *)job);
                if (plain)
                        out[n++] = (char)*p;
                else
                        n += (size_t)snprintf(out + n, size - n, "%%%02X", *p);
        }
        snprintf(out + n, size - n, "%s", suffix);
}

int state_open_file(const char *dir, const char *name)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        /* Whatever else may have been put there: a symlink is not followed
         * and a FIFO cannot block open() or read(). */
        int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EBADFD;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

static int read_small(const char *dir, const char *name, char *buf, size_t size)
{
        _cleanup_close_ int fd = state_open_file(dir, name);
        if (fd < 0)
                return fd;
        ssize_t n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

int state_write_atomic(const char *dir, const char *name, const char *content)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        char tmp[300];
        snprintf(tmp, sizeof(tmp), ".#%.200s.%d", name, (int)getpid());
        _cleanup_close_ int fd =
                openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0)
                return -errno;
        size_t len = strlen(content);
        int r = 0;
        if (write(fd, content, len) != (ssize_t)len)
                r = errno ? -errno : -EIO;
        else if (fsync(fd) < 0)
                r = -errno;
        else if (renameat(dfd, tmp, dfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dfd, tmp, 0);
                return r;
        }
        /* The rename is durable only once the directory is. */
        return fsync(dfd) < 0 ? -errno : 0;
}

int state_stamp_read(const char *dir, const char *job, int64_t *out_usec)
{
        char name[1100], buf[64];
        escape_name(job, ".stamp", name, sizeof(name));
        int r = read_small(dir, name, buf, sizeof(buf));
        if (r < 0)
                return r;
        char *end;
        errno = 0;
        long long v = strtoll(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n') || v < 0)
                return -EBADMSG;
        *out_usec = v;
        return 0;
}

int state_stamp_write(const char *dir, const char *job, int64_t usec)
{
        char name[1100], buf[32];
        escape_name(job, ".stamp", name, sizeof(name));
        snprintf(buf, sizeof(buf), "%" PRId64 "\n", usec);
        return state_write_atomic(dir, name, buf);
}

int state_boot_id(char out[static 37])
{
        char buf[64];
        int r = read_small("/proc/sys/kernel/random", "boot_id", buf, sizeof(buf));
        if (r < 0)
                return r;
        buf[strcspn(buf, "\n")] = '\0';
        if (strlen(buf) != 36)
                return -EBADMSG;
        memcpy(out, buf, 37);
        return 0;
}

int state_reboot_claim(const char *dir, const char *job, const char *boot_id)
{
        char name[1100], buf[64];
        escape_name(job, ".reboot", name, sizeof(name));
        if (read_small(dir, name, buf, sizeof(buf)) == 0 && strncmp(buf, boot_id, 36) == 0)
                return 0;
        char content[40];
        snprintf(content, sizeof(content), "%s\n", boot_id);
        int r = state_write_atomic(dir, name, content);
        return r < 0 ? r : 1;
}

void state_writes_report(struct state_writes *w, const char *what, const char *dir, int r)
{
        int error = r < 0 ? -r : 0;
        if (error == w->error)
                return;
        if (error)
                log_emit(&(struct log_record){ .priority = LOG_WARNING, .errno_value = error },
                         "cannot write %s in %s: %s; runs go on, and this is not logged again until the error "
                         "changes or a write succeeds",
                         what, dir, strerror(error));
        else
                log_msg(LOG_NOTICE, "%s are written in %s again", what, dir);
        w->error = error;
}
