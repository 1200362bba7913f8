/* test-fileio.c — whole-file reads under a size cap, and file identity
 * (fileio.h): an unchanged file is recognised, a replaced one is not. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fileio.h"
#include "harness/harness.h"

static char *tmp;

static void setup(void) { tmp = harness_tmpdir(); }
static void teardown(void) { harness_tmpdir_remove(tmp); }

/* A file of SIZE bytes 'x' in the test directory; returns its path. */
static char *file_of_size(const char *name, size_t size)
{
        char *content = malloc(size + 1);
        ck_assert_ptr_nonnull(content);
        memset(content, 'x', size);
        content[size] = '\0';
        char *path = harness_write_file(tmp, name, content);
        free(content);
        return path;
}

/* fileio_read_all() of PATH with MAX_SIZE; the data, if any, into *DATA. */
static int read_path(const char *path, size_t max_size, char **data, size_t *size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fileio_read_all(fd, max_size, data, size);
}

START_TEST(reads_the_whole_file_nul_terminated)
{
        char *path = harness_write_file(tmp, "a", "[job]\ncommand = /bin/true\n");
        char *data = NULL;
        size_t size = 0;
        ck_assert_int_eq(read_path(path, 1024, &data, &size), 0);
        ck_assert_uint_eq(size, strlen("[job]\ncommand = /bin/true\n"));
        ck_assert_str_eq(data, "[job]\ncommand = /bin/true\n");
        free(data);
        free(path);
}
END_TEST

START_TEST(reads_an_empty_file)
{
        char *path = harness_write_file(tmp, "empty", "");
        char *data = NULL;
        size_t size = 1;
        ck_assert_int_eq(read_path(path, 1024, &data, &size), 0);
        ck_assert_uint_eq(size, 0);
        ck_assert_str_eq(data, "");
        free(data);
        free(path);
}
END_TEST

/* Sizes around the growth steps: the cap is exact wherever it falls. */
START_TEST(reads_up_to_the_cap_and_refuses_more)
{
        static const size_t caps[] = { 1, 100, 4095, 4096, 4097, 10000, 70000 };
        size_t cap = caps[_i];
        char *at = file_of_size("at", cap), *over = file_of_size("over", cap + 1);
        char *data = NULL;
        size_t size = 0;
        ck_assert_int_eq(read_path(at, cap, &data, &size), 0);
        ck_assert_uint_eq(size, cap);
        ck_assert_uint_eq(strlen(data), cap);
        free(data);
        data = NULL;
        ck_assert_int_eq(read_path(over, cap, &data, &size), -EFBIG);
        ck_assert_ptr_null(data);
        ck_assert_uint_eq(size, cap); /* untouched */
        free(at);
        free(over);
}
END_TEST

/* A pipe has no size to go by: the cap still holds. */
START_TEST(refuses_a_stream_over_the_cap)
{
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        char chunk[5000];
        memset(chunk, 'y', sizeof(chunk));
        ck_assert_int_eq(write(p[1], chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
        close(p[1]);
        char *data = NULL;
        size_t size = 0;
        ck_assert_int_eq(fileio_read_all(p[0], sizeof(chunk) - 1, &data, &size), -EFBIG);
        ck_assert_ptr_null(data);
        close(p[0]);
}
END_TEST

START_TEST(reports_a_read_error)
{
        _cleanup_close_ int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        char *data = NULL;
        size_t size = 0;
        ck_assert_int_eq(fileio_read_all(fd, 1024, &data, &size), -EISDIR);
        ck_assert_ptr_null(data);
}
END_TEST

static struct file_identity identity_of_path(const char *path)
{
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        return file_identity_of(&st);
}

START_TEST(identity_holds_while_the_file_is_untouched)
{
        char *path = harness_write_file(tmp, "a.ini", "one\n");
        struct file_identity id = identity_of_path(path), again = identity_of_path(path);
        ck_assert(file_identity_equal(&id, &again));
        ck_assert(file_identity_unchanged(&id, path));
        free(path);
}
END_TEST

/* What editors and package managers do: write a new file, rename it over
 * the old one. Same size, same content, even the same mtime: a new inode. */
START_TEST(identity_changes_when_the_file_is_replaced)
{
        char *path = harness_write_file(tmp, "a.ini", "one\n");
        struct file_identity id = identity_of_path(path);
        char *next = harness_write_file(tmp, ".a.ini.new", "one\n");
        struct timespec times[2] = { id.mtime, id.mtime };
        ck_assert_int_eq(utimensat(AT_FDCWD, next, times, 0), 0);
        ck_assert_int_eq(rename(next, path), 0);
        ck_assert(!file_identity_unchanged(&id, path));
        free(next);
        free(path);
}
END_TEST

START_TEST(identity_changes_when_the_file_is_rewritten_in_place)
{
        char *path = harness_write_file(tmp, "a.ini", "one\n");
        struct file_identity id = identity_of_path(path);
        FILE *f = fopen(path, "ae");
        ck_assert_ptr_nonnull(f);
        fputs("two\n", f);
        fclose(f);
        ck_assert(!file_identity_unchanged(&id, path));
        /* the same size with another mtime is a change too */
        struct file_identity before = identity_of_path(path);
        struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = before.mtime.tv_sec - 10 } };
        ck_assert_int_eq(utimensat(AT_FDCWD, path, times, 0), 0);
        ck_assert(!file_identity_unchanged(&before, path));
        free(path);
}
END_TEST

START_TEST(identity_of_a_removed_file_is_not_unchanged)
{
        char *path = harness_write_file(tmp, "a.ini", "one\n");
        struct file_identity id = identity_of_path(path);
        ck_assert_int_eq(unlink(path), 0);
        ck_assert(!file_identity_unchanged(&id, path));
        free(path);
}
END_TEST

static Suite *fileio_suite(void)
{
        Suite *s = suite_create("fileio");
        TCase *tc = tcase_create("read_all");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, reads_the_whole_file_nul_terminated);
        tcase_add_test(tc, reads_an_empty_file);
        tcase_add_loop_test(tc, reads_up_to_the_cap_and_refuses_more, 0, 7);
        tcase_add_test(tc, refuses_a_stream_over_the_cap);
        tcase_add_test(tc, reports_a_read_error);
        suite_add_tcase(s, tc);
        tc = tcase_create("identity");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, identity_holds_while_the_file_is_untouched);
        tcase_add_test(tc, identity_changes_when_the_file_is_replaced);
        tcase_add_test(tc, identity_changes_when_the_file_is_rewritten_in_place);
        tcase_add_test(tc, identity_of_a_removed_file_is_not_unchanged);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(fileio_suite)
