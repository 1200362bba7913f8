/* fileio.c — whole-file reads and file identity; see fileio.h. */
#include "core/fileio.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/cleanup.h"

int fileio_read_all(int fd, size_t max_size, char **ret_data, size_t *ret_size)
{
        assert(max_size < SIZE_MAX / 2);
        /* Room for one byte past the limit, so that a read can show the
         * file is larger; a regular file's size is a good first guess, and
         * its +1 lets the read that sees end of file need no new room. */
        size_t limit = max_size + 1, cap = limit < 4096 ? limit : 4096, len = 0;
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (size_t)st.st_size < limit)
                cap = (size_t)st.st_size + 1;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (len == limit)
                                return -EFBIG;
                        size_t grown = cap > limit / 2 ? limit : cap * 2;
                        char *bigger = realloc(buf, grown + 1);
                        if (!bigger)
                                return -ENOMEM;
                        buf = bigger;
                        cap = grown;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        *ret_data = TAKE_PTR(buf);
        *ret_size = len;
        return 0;
}

struct file_identity file_identity_of(const struct stat *st)
{
        return (struct file_identity){
                .dev = st->st_dev, .ino = st->st_ino, .size = st->st_size, .mtime = st->st_mtim
        };
}

bool file_identity_equal(const struct file_identity *a, const struct file_identity *b)
{
        return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
               a->mtime.tv_nsec == b->mtime.tv_nsec;
}

bool file_identity_unchanged(const struct file_identity *id, const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return false;
        struct file_identity now = file_identity_of(&st);
        return file_identity_equal(id, &now);
}
