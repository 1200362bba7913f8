/* fuzz-lines.c — line_buffer (lines.h) against a plain reference: the
 * stream fed in arbitrary pieces to a buffer of arbitrary size must give
 * exactly the lines that cutting the whole stream at '\n', at NUL and
 * every SIZE bytes gives. Input: a size byte, a piece-size byte, then the
 * stream. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/lines.h"

struct lines {
        char text[8192]; /* each line, then a 0x01 separator */
        size_t len;
};

static void collect(void *userdata, const char *line, size_t len)
{
        struct lines *l = userdata;
        if (l->len + len + 1 > sizeof(l->text))
                abort(); /* inputs are bounded so this cannot happen */
        memcpy(l->text + l->len, line, len);
        l->len += len;
        l->text[l->len++] = 0x01;
}

/* The reference: the rules of lines.h applied to the whole stream at once. */
static void reference(const uint8_t *data, size_t n, size_t size, struct lines *l)
{
        size_t start = 0, i = 0;
        for (; i < n; i++) {
                if (data[i] == '\n' || data[i] == '\0') {
                        collect(l, (const char *)data + start, i - start);
                        start = i + 1;
                } else if (i + 1 - start == size) {
                        collect(l, (const char *)data + start, size);
                        start = i + 1;
                }
        }
        if (start < n)
                collect(l, (const char *)data + start, n - start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 2 || size > 2050)
                return 0;
        size_t buffer_size = (size_t)data[0] % 64 + 1, piece = (size_t)data[1] % 32 + 1;
        data += 2;
        size -= 2;
        static struct lines got, want;
        got.len = want.len = 0;
        char storage[64];
        struct line_buffer b = { .data = storage, .size = buffer_size };
        for (size_t done = 0; done < size;) {
                size_t n = size - done < piece ? size - done : piece;
                if (n > line_buffer_space(&b))
                        n = line_buffer_space(&b);
                if (n == 0)
                        abort(); /* the buffer must always leave room */
                memcpy(line_buffer_tail(&b), data + done, n);
                line_buffer_take(&b, n, collect, &got);
                done += n;
        }
        line_buffer_flush(&b, collect, &got);
        reference(data, size, buffer_size, &want);
        if (got.len != want.len || memcmp(got.text, want.text, got.len) != 0)
                abort();
        return 0;
}
