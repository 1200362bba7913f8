/* fileio.h — reading a file whole, and telling whether it is still the
 * file that was read.
 *
 * The loaders (crontabs, tickd.conf, zone files) and tickctl edit read a
 * file into memory in one piece, up to a limit each of them chooses, and
 * keep its identity: device, inode, size and modification time. A reload
 * or a listing compares that identity with what the path names now to
 * tell an unchanged file without reading it again; a file replaced by a
 * rename (a new inode), rewritten in place (a new size or mtime) or gone
 * is a changed one. Functions return 0 or a negative errno. */
#ifndef TICKD_FILEIO_H
#define TICKD_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

/* Reads FD from its current offset to end of file. On success *RET_DATA is
 * a malloc'd copy with a NUL after the *RET_SIZE bytes (the caller frees
 * it); -EFBIG when there are more than MAX_SIZE bytes, another negative
 * errno when read() fails; the outputs are untouched on failure. */
int fileio_read_all(int fd, size_t max_size, char **ret_data, size_t *ret_size);

struct file_identity {
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime;
};

struct file_identity file_identity_of(const struct stat *st);
bool file_identity_equal(const struct file_identity *a, const struct file_identity *b);
/* Whether PATH (followed if a symlink, as the loaders open it) is still
 * the file ID describes; false when it cannot be stat'ed. */
bool file_identity_unchanged(const struct file_identity *id, const char *path);

#endif
