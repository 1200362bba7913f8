/* test-diag.c — the diagnostics list: what the first error reads like. */
#include <check.h>
#include <stdlib.h>

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
        return s;
}

TEST_MAIN(diag_suite)
