/* test-json.c — JSON string literals (json.h): what is escaped and what
 * passes through as it is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "harness/harness.h"

/* What json_write_string() writes for S, malloc'd. */
static char *written(const char *s)
{
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&text, &size);
        ck_assert_ptr_nonnull(out);
        json_write_string(out, s);
        ck_assert_int_eq(fclose(out), 0);
        return text;
}

static void assert_written(const char *s, const char *expected)
{
        char *text = written(s);
        ck_assert_str_eq(text, expected);
        free(text);
}

START_TEST(plain_text_is_quoted)
{
        assert_written("backup", "\"backup\"");
        assert_written("", "\"\"");
}
END_TEST

START_TEST(null_is_json_null) { assert_written(NULL, "null"); }
END_TEST

START_TEST(quotes_and_backslashes_are_escaped)
{
        assert_written("say \"hi\"", "\"say \\\"hi\\\"\"");
        assert_written("C:\\dir\\", "\"C:\\\\dir\\\\\"");
}
END_TEST

START_TEST(control_characters_are_escaped)
{
        assert_written("a\nb\tc\rd", "\"a\\nb\\tc\\rd\"");
        assert_written("\x01\x1f\x1b[0m", "\"\\u0001\\u001f\\u001b[0m\"");
        /* 0x7f is not a control character to JSON */
        assert_written("\x7f", "\"\x7f\"");
}
END_TEST

START_TEST(utf8_passes_through) { assert_written("Zürich 東京 ✓", "\"Zürich 東京 ✓\""); }
END_TEST

static Suite *json_suite(void)
{
        Suite *s = suite_create("json");
        TCase *tc = tcase_create("string");
        tcase_add_test(tc, plain_text_is_quoted);
        tcase_add_test(tc, null_is_json_null);
        tcase_add_test(tc, quotes_and_backslashes_are_escaped);
        tcase_add_test(tc, control_characters_are_escaped);
        tcase_add_test(tc, utf8_passes_through);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(json_suite)
