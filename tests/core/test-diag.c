/* test-diag.c — the diagnostics list: what the first error reads like,
 * and that every item's strings stay intact however they are stored. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "harness/harness.h"

static char *first(enum diag_severity severity, const char *file, unsigned line, const char *key, const char *msg)
{
        struct diagnostics d = { 0 };
        ck_assert_int_eq(diag_add(&d, DIAG_WARNING, "w.ini", 1, "a warning comes first"), 0);
        ck_assert_int_eq(diag_add_key(&d, severity, file, line, key, "%s", msg), 0);
        ck_assert_int_eq(diag_add(&d, DIAG_ERROR, "later.ini", 9, "a later error"), 0);
        char *s = diag_first_error(&d);
        diag_free(&d);
        return s;
}

START_TEST(first_error_names_file_line_and_key)
{
        char *s = first(DIAG_ERROR, "a.ini", 3, "schedule", "'61 * * * *': minute 61 is out of range");
        ck_assert_str_eq(s, "a.ini:3: schedule: '61 * * * *': minute 61 is out of range");
        free(s);
}
END_TEST

START_TEST(first_error_does_not_repeat_a_key_the_message_starts_with)
{
        char *s = first(DIAG_ERROR, "a.ini", 3, "user", "user: 'nobody2' does not exist");
        ck_assert_str_eq(s, "a.ini:3: user: 'nobody2' does not exist");
        free(s);
}
END_TEST

START_TEST(first_error_of_a_whole_file_has_no_line_zero)
{
        char *s = first(DIAG_ERROR, "a.ini", 0, NULL, "owned by uid 1000, not root");
        ck_assert_str_eq(s, "a.ini: owned by uid 1000, not root");
        free(s);
}
END_TEST

START_TEST(warnings_alone_have_no_first_error)
{
        struct diagnostics d = { 0 };
        ck_assert_int_eq(diag_add(&d, DIAG_WARNING, "w.ini", 1, "only a warning"), 0);
        ck_assert_ptr_null(diag_first_error(&d));
        diag_free(&d);
}
END_TEST

/* Item I's message: lengths from 1 byte to past the largest block. */
static void expected_message(size_t i, char *buf, size_t size)
{
        size_t len = i == 7 ? 20000 : 1 + (i * 37) % 300;
        ck_assert_uint_lt(len, size);
        int n = snprintf(buf, size, "m%zu:", i);
        memset(buf + n, 'a' + (char)(i % 26), len);
        buf[n + len] = '\0';
}

static void add_messages(struct diagnostics *d, size_t from, size_t to, const char *file)
{
        static char buf[20100];
        for (size_t i = from; i < to; i++) {
                expected_message(i, buf, sizeof(buf));
                char key[32];
                snprintf(key, sizeof(key), "k%zu", i);
                ck_assert_int_eq(diag_add_key(d, DIAG_ERROR, file, (unsigned)i, key, "%s", buf), 0);
        }
}

static void check_messages(const struct diagnostics *d, size_t at, size_t from, size_t to, const char *file)
{
        static char buf[20100];
        for (size_t i = from; i < to; i++, at++) {
                const struct diagnostic *it = &d->items[at];
                expected_message(i, buf, sizeof(buf));
                char key[32];
                snprintf(key, sizeof(key), "k%zu", i);
                ck_assert_str_eq(it->message, buf);
                ck_assert_str_eq(it->file, file);
                ck_assert_str_eq(it->key, key);
                ck_assert_uint_eq(it->line, i);
        }
}

START_TEST(many_messages_of_every_length_stay_intact)
{
        struct diagnostics d = { 0 };
        add_messages(&d, 0, 500, "a.ini");
        ck_assert_uint_eq(d.count, 500);
        check_messages(&d, 0, 0, 500, "a.ini");
        diag_free(&d);
        ck_assert_uint_eq(d.count, 0);
}
END_TEST

START_TEST(moved_messages_survive_later_additions_to_either_list)
{
        struct diagnostics to = { 0 }, from = { 0 };
        add_messages(&to, 0, 3, "to.ini");
        add_messages(&from, 100, 160, "from.ini");
        ck_assert_int_eq(diag_move(&to, &from), 0);
        ck_assert_uint_eq(from.count, 0);
        /* TO keeps writing where it did; FROM starts afresh. */
        add_messages(&to, 200, 260, "to.ini");
        add_messages(&from, 300, 310, "again.ini");
        ck_assert_uint_eq(to.count, 3 + 60 + 60);
        check_messages(&to, 0, 0, 3, "to.ini");
        check_messages(&to, 3, 100, 160, "from.ini");
        check_messages(&to, 63, 200, 260, "to.ini");
        check_messages(&from, 0, 300, 310, "again.ini");
        diag_free(&to);
        diag_free(&from);
}
END_TEST

START_TEST(a_move_into_an_empty_list_hands_over_every_item)
{
        struct diagnostics to = { 0 }, from = { .limit = 100 };
        add_messages(&from, 0, 150, "f.ini");
        ck_assert_int_eq(diag_add_dropped_summary(&from, "f.ini"), 0);
        ck_assert_int_eq(diag_move(&to, &from), 0);
        ck_assert_uint_eq(to.count, 101);
        check_messages(&to, 0, 0, 100, "f.ini");
        ck_assert_str_eq(to.items[100].message, "\u2026 and 50 more errors");
        ck_assert_uint_eq(to.items[100].dropped_errors, 50);
        ck_assert_uint_eq(diag_count(&to, DIAG_ERROR), 101);
        diag_free(&to);
        diag_free(&from);
}
END_TEST

static Suite *diag_suite(void)
{
        Suite *s = suite_create("diag");
        TCase *tc = tcase_create("first-error");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, first_error_names_file_line_and_key);
        tcase_add_test(tc, first_error_does_not_repeat_a_key_the_message_starts_with);
        tcase_add_test(tc, first_error_of_a_whole_file_has_no_line_zero);
        tcase_add_test(tc, warnings_alone_have_no_first_error);
        suite_add_tcase(s, tc);
        tc = tcase_create("storage");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, many_messages_of_every_length_stay_intact);
        tcase_add_test(tc, moved_messages_survive_later_additions_to_either_list);
        tcase_add_test(tc, a_move_into_an_empty_list_hands_over_every_item);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(diag_suite)
