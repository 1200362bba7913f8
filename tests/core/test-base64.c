/* test-base64.c — base64 as etcd's gateway carries keys and values:
 * RFC 4648's test vectors, every byte value, and strict rejection of
 * text that is not base64. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "harness/harness.h"

static const char *const vectors[][2] = {
        { "", "" },
        { "f", "Zg==" },
        { "fo", "Zm8=" },
        { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" },
        { "fooba", "Zm9vYmE=" },
        { "foobar", "Zm9vYmFy" },
};

START_TEST(encodes_rfc4648_vectors)
{
        char *text;
        ck_assert_int_eq(base64_encode(vectors[_i][0], strlen(vectors[_i][0]), &text), 0);
        ck_assert_str_eq(text, vectors[_i][1]);
        free(text);
}
END_TEST

START_TEST(decodes_rfc4648_vectors)
{
        char *bytes;
        size_t len;
        ck_assert_int_eq(base64_decode(vectors[_i][1], strlen(vectors[_i][1]), &bytes, &len), 0);
        ck_assert_uint_eq(len, strlen(vectors[_i][0]));
        ck_assert_str_eq(bytes, vectors[_i][0]);
        free(bytes);
}
END_TEST

START_TEST(round_trips_every_byte_value)
{
        unsigned char data[256 + 2];
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (unsigned char)(255 - i % 256);
        for (size_t len = 0; len <= sizeof(data); len++) {
                char *text, *bytes;
                size_t back;
                ck_assert_int_eq(base64_encode(data, len, &text), 0);
                ck_assert_int_eq(base64_decode(text, strlen(text), &bytes, &back), 0);
                ck_assert_uint_eq(back, len);
                ck_assert(memcmp(bytes, data, len) == 0);
                ck_assert_int_eq(bytes[len], '\0');
                free(text);
                free(bytes);
        }
}
END_TEST

static const char *const invalid[] = { "Zg=", "Zg", "Z===", "Zm9v\n", "Zm=v", "Zg==Zg==", "Zm9*", "Zm 9", "====" };

START_TEST(rejects_what_is_not_base64)
{
        char *bytes = (char *)"untouched";
        size_t len = 7;
        ck_assert_int_eq(base64_decode(invalid[_i], strlen(invalid[_i]), &bytes, &len), -EINVAL);
        ck_assert_str_eq(bytes, "untouched");
        ck_assert_uint_eq(len, 7);
}
END_TEST

static Suite *base64_suite(void)
{
        Suite *s = suite_create("base64");
        TCase *tc = tcase_create("codec");
        tcase_add_loop_test(tc, encodes_rfc4648_vectors, 0, (int)(sizeof(vectors) / sizeof(vectors[0])));
        tcase_add_loop_test(tc, decodes_rfc4648_vectors, 0, (int)(sizeof(vectors) / sizeof(vectors[0])));
        tcase_add_test(tc, round_trips_every_byte_value);
        tcase_add_loop_test(tc, rejects_what_is_not_base64, 0, (int)(sizeof(invalid) / sizeof(invalid[0])));
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(base64_suite)
