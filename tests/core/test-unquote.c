/* test-unquote.c — a crontab value read with systemd's quoting rules
 * (unquote.h): the cases of systemd.exec(5)'s Environment= and of
 * systemd.syntax(7)'s escape table, and what stays verbatim. */
#include <errno.h>
#include <stdlib.h>

#include "core/unquote.h"
#include "harness/harness.h"

struct unquote_case {
        const char *text, *value;
};

static const struct unquote_case cases[] = {
        /* quotes around the whole assignment or the value are removed */
        { "Q=\"x\"", "Q=x" },
        { "Q='x'", "Q=x" },
        { "\"VAR1=word1 word2\"", "VAR1=word1 word2" },
        { "\"VAR3=$word 5 6\"", "VAR3=$word 5 6" },
        { "A=\"\"", "A=" },
        { "A=\"b\"c'd'", "A=bcd" },
        { "A=\"it's\"", "A=it's" },
        { "A='say \"hi\"'", "A=say \"hi\"" },
        /* escapes inside quotes */
        { "A=\"a\\\"b\"", "A=a\"b" },
        { "A=\"a\\\\b\"", "A=a\\b" },
        { "A=\"x\\ty\\nz\"", "A=x\ty\nz" },
        { "A=\"\\s\"", "A= " },
        { "A='\\x41\\102'", "A=AB" },
        { "A=\"\\u00e9\\U0001F600\"", "A=\xc3\xa9\xf0\x9f\x98\x80" },
        /* outside quotes every byte is kept: one line is one value */
        { "A=b c", "A=b c" },
        { "P=C:\\dir\\x", "P=C:\\dir\\x" },
        { "X=1 ; 2", "X=1 ; 2" },
        { "", "" },
};

START_TEST(unquotes_as_systemd)
{
        char *v = NULL, err[128] = "";
        ck_assert_int_eq(unquote_value(cases[_i].text, &v, err, sizeof(err)), 0);
        ck_assert_str_eq(v, cases[_i].value);
        free(v);
}
END_TEST

static const struct unquote_case bad[] = {
        { "A=\"b", "no closing \"" },
        { "A='b", "no closing '" },
        { "A=\"\\q\"", "unknown escape '\\q'" },
        { "A=\"\\", "unknown escape '\\'" },
        { "A=\"\\x4\"", "unknown escape '\\x'" },
        { "A=\"\\x00\"", "escape '\\x00' gives a control character" },
        { "A=\"\\001\"", "escape '\\001' gives a control character" },
        { "A=\"\\xff\"", "escape '\\xff' gives a byte that is not UTF-8 (use \\u)" },
        { "A=\"\\ud800\"", "unknown escape '\\u'" },
};

START_TEST(refuses_with_message)
{
        char *v = NULL, err[128] = "";
        ck_assert_int_eq(unquote_value(bad[_i].text, &v, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_null(v);
        ck_assert_str_eq(err, bad[_i].value);
}
END_TEST

static Suite *unquote_suite(void)
{
        Suite *s = suite_create("unquote");
        TCase *tc = tcase_create("unquote");
        tcase_add_loop_test(tc, unquotes_as_systemd, 0, sizeof(cases) / sizeof(cases[0]));
        tcase_add_loop_test(tc, refuses_with_message, 0, sizeof(bad) / sizeof(bad[0]));
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(unquote_suite)
