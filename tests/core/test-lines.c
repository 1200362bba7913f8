/* test-lines.c — cutting job output into lines (lines.h), directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "harness/harness.h"
#include "core/lines.h"

/* The lines emitted, each followed by '|'. */
struct collected {
        char text[16384];
        size_t len;
        int count;
};

static void collect(void *userdata, const char *line, size_t len)
{
        struct collected *c = userdata;
        ck_assert_uint_lt(c->len + len + 1, sizeof(c->text));
        memcpy(c->text + c->len, line, len);
        c->len += len;
        c->text[c->len++] = '|';
        c->text[c->len] = '\0';
        c->count++;
}

/* Feeds INPUT (LEN bytes) in pieces of at most CHUNK into a buffer of SIZE,
 * as read() would, then ends the stream. */
static struct collected feed(const char *input, size_t len, size_t chunk, size_t size)
{
        struct collected c = { .len = 0 };
        char *data = malloc(size);
        ck_assert_ptr_nonnull(data);
        struct line_buffer b = { .data = data, .size = size };
        for (size_t done = 0; done < len;) {
                size_t n = len - done;
                if (n > chunk)
                        n = chunk;
                if (n > line_buffer_space(&b))
                        n = line_buffer_space(&b);
                ck_assert_uint_gt(n, 0);
                memcpy(line_buffer_tail(&b), input + done, n);
                line_buffer_take(&b, n, collect, &c);
                done += n;
        }
        line_buffer_flush(&b, collect, &c);
        ck_assert_uint_eq(b.len, 0);
        free(data);
        return c;
}

static const struct {
        const char *input;
        size_t len; /* 0: strlen */
        size_t size;
        const char *lines;
} cases[] = {
        { "one\ntwo\n", 0, 64, "one|two|" },
        { "no newline at the end", 0, 64, "no newline at the end|" },
        { "\n\nx\n", 0, 64, "||x|" },            /* empty lines are lines */
        { "a\0b\n", 4, 64, "a|b|" },             /* NUL ends a line, as in journald */
        { "<3>text\n", 0, 64, "<3>text|" },      /* no priority parsing here */
        { "abcdefgh\n", 0, 4, "abcd|efgh||" },   /* cut at the size; the newline ends an empty rest */
        { "abcdefghij", 0, 4, "abcd|efgh|ij|" }, /* cut, then the tail at the end */
        { "", 0, 64, "" },                       /* nothing, no line */
        { "crlf\r\n", 0, 64, "crlf\r|" },        /* bytes are kept as written */
};

START_TEST(cuts_lines_whatever_the_reads)
{
        size_t len = cases[_i].len ? cases[_i].len : strlen(cases[_i].input);
        /* One byte at a time, a few at a time, all at once: the same lines. */
        for (size_t chunk = 1; chunk <= len + 1; chunk++) {
                struct collected c = feed(cases[_i].input, len, chunk, cases[_i].size);
                ck_assert_msg(strcmp(c.text, cases[_i].lines) == 0, "case %d, reads of %zu: got '%s', want '%s'", _i,
                              chunk, c.text, cases[_i].lines);
        }
}
END_TEST

START_TEST(a_long_stream_without_newlines_stays_bounded)
{
        /* 10,000 bytes through a 100-byte buffer: 100 lines of 100, all bytes kept. */
        static char input[10000];
        memset(input, 'y', sizeof(input));
        struct collected c = feed(input, sizeof(input), 333, 100);
        ck_assert_int_eq(c.count, 100);
        ck_assert_uint_eq(c.len, sizeof(input) + 100);
}
END_TEST

static Suite *lines_suite(void)
{
        Suite *s = suite_create("lines");
        TCase *tc = tcase_create("split");
        tcase_add_loop_test(tc, cuts_lines_whatever_the_reads, 0, (int)ELEMENTSOF(cases));
        tcase_add_test(tc, a_long_stream_without_newlines_stays_bounded);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(lines_suite)
