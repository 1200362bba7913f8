/* test-strv.c — NULL-terminated string arrays (strv.h) are freed whole;
 * AddressSanitizer's leak check is what fails a test here. */
#include <stdlib.h>
#include <string.h>

#include "core/strv.h"
#include "harness/harness.h"

START_TEST(frees_every_string_and_the_array)
{
        char **v = calloc(4, sizeof(char *));
        ck_assert_ptr_nonnull(v);
        v[0] = strdup("a"), v[1] = strdup("b"), v[2] = strdup("c");
        ck_assert(v[0] && v[1] && v[2]);
        strv_free(v);
}
END_TEST

START_TEST(accepts_null_and_empty)
{
        strv_free(NULL);
        strv_free(calloc(1, sizeof(char *)));
}
END_TEST

static Suite *strv_suite(void)
{
        Suite *s = suite_create("strv");
        TCase *tc = tcase_create("free");
        tcase_add_test(tc, frees_every_string_and_the_array);
        tcase_add_test(tc, accepts_null_and_empty);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(strv_suite)
