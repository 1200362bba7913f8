/* test-control-last.c — the last outcome of each job, kept in the state
 * directory across restarts: round trip, damaged lines, the earlier
 * versions' outcome words read as today's, writes only when something
 * changed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "shared/control-last.h"
#include "harness/harness-ctl.h"
#include "harness/harness.h"

static char *dir;
static sd_event *event;

static void setup(void)
{
        dir = harness_tmpdir();
        ck_assert_ptr_nonnull(dir);
        ck_assert_int_ge(sd_event_new(&event), 0);
}

static void teardown(void)
{
        event = sd_event_unref(event);
        harness_tmpdir_remove(dir);
}

static char *file_text(void)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_LAST_FILE);
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        char *text = calloc(1, 4096);
        ck_assert_ptr_nonnull(text);
        (void)!fread(text, 1, 4095, f);
        fclose(f);
        return text;
}

START_TEST(outcomes_read_back_after_a_restart)
{
        struct control_last *l;
        ck_assert_int_eq(control_last_new(event, dir, &l), 0);
        ck_assert_int_eq(control_last_set(l, "backup",
                                          &(struct control_outcome){ .run_id = "r1",
                                                                     .result = "failed",
                                                                     .exit_status = 7,
                                                                     .start_usec = 1700000000000001,
                                                                     .end_usec = 1700000002000002 }),
                         0);
        ck_assert_int_eq(control_last_set(l, "with space",
                                          &(struct control_outcome){ .run_id = "r2",
                                                                     .result = "cancelled",
                                                                     .exit_status = -1,
                                                                     .signal = 15,
                                                                     .start_usec = 5,
                                                                     .end_usec = 6 }),
                         0);
        ck_assert_int_eq(control_last_set(l, "backup",
                                          &(struct control_outcome){ .run_id = "r3",
                                                                     .result = "succeeded",
                                                                     .exit_status = 0,
                                                                     .start_usec = 1700000010000000,
                                                                     .end_usec = 1700000011000000 }),
                         0);
        l = control_last_free(l); /* writes */

        ck_assert_int_eq(control_last_new(event, dir, &l), 0);
        const struct control_outcome *o = control_last_get(l, "backup");
        ck_assert_ptr_nonnull(o);
        ck_assert_str_eq(o->run_id, "r3");
        ck_assert_str_eq(o->result, "succeeded");
        ck_assert_int_eq(o->exit_status, 0);
        ck_assert_uint_eq(o->start_usec, 1700000010000000);
        ck_assert_uint_eq(o->end_usec, 1700000011000000);
        o = control_last_get(l, "with space");
        ck_assert_ptr_nonnull(o);
        ck_assert_str_eq(o->result, "cancelled");
        ck_assert_int_eq(o->exit_status, -1);
        ck_assert_int_eq(o->signal, 15);
        ck_assert_ptr_null(control_last_get(l, "never"));
        control_last_free(l);
}
END_TEST

START_TEST(damaged_lines_are_skipped)
{
        char *path = harness_write_file(dir, CONTROL_LAST_FILE,
                                        "failed 3 0 10 20 r1 good\n"
                                        "garbage\n"
                                        "failed x 0 10 20 r2 bad\n"
                                        "succeeded 0 0 10 20 r3\n"
                                        "no-such-outcome 0 0 10 20 r5 unknown word\n"
                                        "succeeded 0 0 30 40 r4 also good");
        struct control_last *l;
        ck_assert_int_eq(control_last_new(event, dir, &l), 0);
        ck_assert_ptr_nonnull(control_last_get(l, "good"));
        ck_assert_ptr_nonnull(control_last_get(l, "also good"));
        ck_assert_ptr_null(control_last_get(l, "bad"));
        ck_assert_ptr_null(control_last_get(l, "r3"));
        ck_assert_ptr_null(control_last_get(l, "unknown word"));
        control_last_free(l);
        free(path);
}
END_TEST

/* The file as the version before the journal's words wrote it. */
START_TEST(a_file_with_the_earlier_words_reads_as_todays)
{
        char *path = harness_write_file(dir, CONTROL_LAST_FILE,
                                        "success 0 0 10 20 r1 ok\n"
                                        "timeout -1 15 10 20 r2 slow\n"
                                        "exec-failed -1 0 10 20 r3 noexec\n"
                                        "setup-failed -1 0 10 20 r4 nochdir\n"
                                        "failed 3 0 10 20 r5 three\n"
                                        "cancelled -1 15 10 20 r6 stopped\n"
                                        "lost -1 0 10 20 r7 gone\n");
        struct control_last *l;
        ck_assert_int_eq(control_last_read(dir, &l), 0);
        const struct {
                const char *job, *result;
        } want[] = {
                { "ok", "succeeded" }, { "slow", "timed-out" },    { "noexec", "failed" }, { "nochdir", "failed" },
                { "three", "failed" }, { "stopped", "cancelled" }, { "gone", "lost" },
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                const struct control_outcome *o = control_last_get(l, want[i].job);
                ck_assert_msg(o != NULL, "no outcome for %s", want[i].job);
                ck_assert_str_eq(o->result, want[i].result);
        }
        ck_assert_int_eq(control_last_get(l, "slow")->signal, 15);
        control_last_free(l);
        free(path);
}
END_TEST

/* The daemon rewrites an old file with today's words at its next change. */
START_TEST(an_old_file_is_rewritten_with_todays_words)
{
        char *path = harness_write_file(dir, CONTROL_LAST_FILE, "timeout -1 15 10 20 r2 slow\n");
        struct control_last *l;
        ck_assert_int_eq(control_last_new(event, dir, &l), 0);
        ck_assert_int_eq(
                control_last_set(l, "ok",
                                 &(struct control_outcome){
                                         .run_id = "r1", .result = "succeeded", .start_usec = 1, .end_usec = 2 }),
                0);
        l = control_last_free(l);
        char *text = file_text();
        ck_assert_ptr_nonnull(text);
        ck_assert_str_eq(text, "timed-out -1 15 10 20 r2 slow\nsucceeded 0 0 1 2 r1 ok\n");
        free(text);
        free(path);
}
END_TEST

START_TEST(nothing_is_written_without_a_change)
{
        struct control_last *l;
        ck_assert_int_eq(control_last_new(event, dir, &l), 0);
        control_last_free(l);
        ck_assert_ptr_null(file_text());
}
END_TEST

START_TEST(changes_are_written_after_the_delay_in_one_write)
{
        struct control_last *l;
        ck_assert_int_eq(control_last_new(event, dir, &l), 0);
        char name[16];
        for (int i = 0; i < 100; i++) {
                snprintf(name, sizeof(name), "job%d", i);
                ck_assert_int_eq(control_last_set(l, name,
                                                  &(struct control_outcome){ .run_id = "r",
                                                                             .result = "succeeded",
                                                                             .start_usec = 1,
                                                                             .end_usec = 2 }),
                                 0);
        }
        ck_assert_ptr_null(file_text()); /* not yet: one write for the whole burst */
        /* The event loop writes it once the delay is over. */
        long long deadline = harness_now_ms() + 5000;
        char *text = NULL;
        while (!(text = file_text()) && harness_now_ms() < deadline)
                ck_assert_int_ge(sd_event_run(event, 100 * 1000), 0);
        ck_assert_ptr_nonnull(text);
        ck_assert_contains(text, "succeeded 0 0 1 2 r job99\n");
        free(text);
        control_last_free(l);
}
END_TEST

START_TEST(the_file_is_private)
{
        struct control_last *l;
        ck_assert_int_eq(control_last_new(event, dir, &l), 0);
        ck_assert_int_eq(
                control_last_set(l, "a",
                                 &(struct control_outcome){
                                         .run_id = "r1", .result = "succeeded", .start_usec = 1, .end_usec = 2 }),
                0);
        control_last_free(l);
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_LAST_FILE);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

/* A symbolic link in the state directory is not followed: its target,
 * which may be anyone's file, is not read as our outcomes. */
START_TEST(a_symlink_is_not_followed)
{
        char *elsewhere = harness_tmpdir();
        char *target = harness_write_file(elsewhere, "planted", "failed 3 0 10 20 r1 planted\n");
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_LAST_FILE);
        ck_assert_int_eq(symlink(target, path), 0);
        struct control_last *l = NULL;
        ck_assert_int_eq(control_last_read(dir, &l), -ELOOP);
        ck_assert_ptr_null(l);
        free(target);
        harness_tmpdir_remove(elsewhere);
}
END_TEST

/* Nor does a FIFO block the reader (the daemon at start-up, tickctl list). */
START_TEST(a_fifo_is_refused_without_blocking)
{
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", dir, CONTROL_LAST_FILE);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        struct control_last *l = NULL;
        ck_assert_int_eq(control_last_read(dir, &l), -EBADFD);
        ck_assert_ptr_null(l);
        /* The daemon starts with an empty table instead. */
        ck_assert_int_eq(control_last_new(event, dir, &l), 0);
        ck_assert_ptr_null(control_last_get(l, "anything"));
        control_last_free(l);
}
END_TEST

static Suite *control_last_suite(void)
{
        Suite *s = suite_create("control-last");
        TCase *tc = tcase_create("file");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, outcomes_read_back_after_a_restart);
        tcase_add_test(tc, damaged_lines_are_skipped);
        tcase_add_test(tc, a_file_with_the_earlier_words_reads_as_todays);
        tcase_add_test(tc, an_old_file_is_rewritten_with_todays_words);
        tcase_add_test(tc, nothing_is_written_without_a_change);
        tcase_add_test(tc, changes_are_written_after_the_delay_in_one_write);
        tcase_add_test(tc, the_file_is_private);
        suite_add_tcase(s, tc);
        tc = tcase_create("planted");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 5); /* a FIFO used to block for ever */
        tcase_add_test(tc, a_symlink_is_not_followed);
        tcase_add_test(tc, a_fifo_is_refused_without_blocking);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(control_last_suite)
