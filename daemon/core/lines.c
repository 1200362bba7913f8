/* lines.c — cutting a byte stream into lines; see lines.h. */
#include "core/lines.h"

#include <string.h>

static char *find_end(char *p, size_t len)
{
        for (size_t i = 0; i < len; i++)
                if (p[i] == '\n' || p[i] == '\0')
                        return p + i;
        return NULL;
}

void line_buffer_take(struct line_buffer *b, size_t n, line_emit_fn emit, void *userdata)
{
        /* Only the new bytes can hold a terminator: the held ones had none. */
        char *start = b->data, *scan = b->data + b->len, *end;
        b->len += n;
        while ((end = find_end(scan, b->len - (size_t)(scan - b->data)))) {
                emit(userdata, start, (size_t)(end - start));
                start = scan = end + 1;
        }
        b->len -= (size_t)(start - b->data);
        memmove(b->data, start, b->len);
        if (b->len == b->size) {
                emit(userdata, b->data, b->len);
                b->len = 0;
        }
}

void line_buffer_flush(struct line_buffer *b, line_emit_fn emit, void *userdata)
{
        if (b->len > 0)
                emit(userdata, b->data, b->len);
        b->len = 0;
}
