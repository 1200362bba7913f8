/* test-state.c — stamps and @reboot markers: atomic files, names escaped. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/harness.h"
#include "shared/state.h"

static int count_entries(const char *dir)
{
        DIR *d = opendir(dir);
        int n = 0;
        struct dirent *e;
        while (d && (e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        if (d)
                closedir(d);
        return n;
}

START_TEST(stamp_round_trips)
{
        char *dir = harness_tmpdir();
        int64_t v = 0;
        ck_assert_int_eq(state_stamp_read(dir, "backup", &v), -ENOENT);
        ck_assert_int_eq(state_stamp_write(dir, "backup", INT64_C(1795910010000000)), 0);
        ck_assert_int_eq(state_stamp_read(dir, "backup", &v), 0);
        ck_assert_int_eq(v, INT64_C(1795910010000000));
        ck_assert_int_eq(state_stamp_write(dir, "backup", 42), 0);
        ck_assert_int_eq(state_stamp_read(dir, "backup", &v), 0);
        ck_assert_int_eq(v, 42);
        /* Only the stamp itself: no temporary file left behind. */
        ck_assert_int_eq(count_entries(dir), 1);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(job_names_cannot_escape_the_directory)
{
        char *dir = harness_tmpdir();
        ck_assert_int_eq(state_stamp_write(dir, "../evil/..", 1), 0);
        ck_assert_int_eq(state_stamp_write(dir, ".hidden", 2), 0);
        int64_t v;
        ck_assert_int_eq(state_stamp_read(dir, "../evil/..", &v), 0);
        ck_assert_int_eq(v, 1);
        ck_assert_int_eq(state_stamp_read(dir, ".hidden", &v), 0);
        ck_assert_int_eq(v, 2);
        ck_assert_int_eq(count_entries(dir), 2);
        char path[4200];
        snprintf(path, sizeof(path), "%s/%%2E.%%2Fevil%%2F...stamp", dir);
        FILE *f = fopen(path, "re");
        ck_assert_msg(f != NULL, "expected %s", path);
        fclose(f);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(garbage_stamp_is_an_error)
{
        char *dir = harness_tmpdir();
        free(harness_write_file(dir, "x.stamp", "yesterday\n"));
        int64_t v = 7;
        ck_assert_int_eq(state_stamp_read(dir, "x", &v), -EBADMSG);
        ck_assert_int_eq(v, 7);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(reboot_claim_once_per_boot_id)
{
        char *dir = harness_tmpdir();
        char boot[37];
        ck_assert_int_eq(state_boot_id(boot), 0);
        ck_assert_int_eq(strlen(boot), 36);
        ck_assert_int_eq(state_reboot_claim(dir, "job", boot), 1);
        ck_assert_int_eq(state_reboot_claim(dir, "job", boot), 0);
        ck_assert_int_eq(state_reboot_claim(dir, "other", boot), 1);
        /* A new boot id: due again. */
        ck_assert_int_eq(state_reboot_claim(dir, "job", "00000000-0000-0000-0000-000000000000"), 1);
        ck_assert_int_eq(state_reboot_claim(dir, "job", boot), 1);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(missing_directory_is_reported)
{
        ck_assert_int_eq(state_stamp_write("/nonexistent-tickd-dir", "x", 1), -ENOENT);
}
END_TEST

START_TEST(state_files_are_private)
{
        char *dir = harness_tmpdir();
        ck_assert_int_eq(state_stamp_write(dir, "backup", 1), 0);
        char path[4200];
        snprintf(path, sizeof(path), "%s/backup.stamp", dir);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
        harness_tmpdir_remove(dir);
}
END_TEST

/* A FIFO planted where a marker belongs must not block the daemon in
 * open() or read(): the claim replaces it and the job is due. (Before the
 * fix this hung for ever; the test case's timeout bounds it.) */
START_TEST(fifo_as_reboot_marker_does_not_hang)
{
        char *dir = harness_tmpdir();
        char path[4200], boot[37];
        snprintf(path, sizeof(path), "%s/job.reboot", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        ck_assert_int_eq(state_boot_id(boot), 0);
        ck_assert_int_eq(state_reboot_claim(dir, "job", boot), 1);
        struct stat st;
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        ck_assert_int_eq(state_reboot_claim(dir, "job", boot), 0);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(fifo_or_symlink_as_stamp_is_refused)
{
        char *dir = harness_tmpdir();
        char path[4200];
        snprintf(path, sizeof(path), "%s/fifo.stamp", dir);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        int64_t v = 7;
        ck_assert_int_eq(state_stamp_read(dir, "fifo", &v), -EBADFD);
        char *target = harness_write_file(dir, "elsewhere", "42\n");
        snprintf(path, sizeof(path), "%s/link.stamp", dir);
        ck_assert_int_eq(symlink(target, path), 0);
        ck_assert_int_eq(state_stamp_read(dir, "link", &v), -ELOOP);
        ck_assert_int_eq(v, 7);
        free(target);
        harness_tmpdir_remove(dir);
}
END_TEST

static Suite *state_suite(void)
{
        Suite *s = suite_create("state");
        TCase *tc = tcase_create("files");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, stamp_round_trips);
        tcase_add_test(tc, job_names_cannot_escape_the_directory);
        tcase_add_test(tc, garbage_stamp_is_an_error);
        tcase_add_test(tc, reboot_claim_once_per_boot_id);
        tcase_add_test(tc, missing_directory_is_reported);
        tcase_add_test(tc, state_files_are_private);
        suite_add_tcase(s, tc);
        /* What others may have planted in the directories: bounded, since
         * a FIFO used to block for ever. */
        tc = tcase_create("planted");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 5);
        tcase_add_test(tc, fifo_as_reboot_marker_does_not_hang);
        tcase_add_test(tc, fifo_or_symlink_as_stamp_is_refused);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(state_suite)
