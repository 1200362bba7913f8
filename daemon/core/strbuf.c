/* strbuf.c — see strbuf.h. */
#include "core/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for N more bytes and the NUL. */
static bool reserve(struct strbuf *b, size_t n)
{
        if (b->oom)
                return false;
        if (b->len + n + 1 <= b->cap)
                return true;
        size_t cap = (b->len + n + 1) * 2;
        char *s = realloc(b->s, cap);
        if (!s) {
                b->oom = true;
                return false;
        }
        b->s = s, b->cap = cap;
        return true;
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->oom = true;
                return;
        }
        if (!reserve(b, (size_t)n))
                return;
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        b->len += (size_t)n;
}

void strbuf_puts(struct strbuf *b, const char *s)
{
        size_t n = strlen(s);
        if (!reserve(b, n))
                return;
        memcpy(b->s + b->len, s, n + 1);
        b->len += n;
}

void strbuf_putc(struct strbuf *b, char c)
{
        if (!reserve(b, 1))
                return;
        b->s[b->len++] = c;
        b->s[b->len] = '\0';
}

char *strbuf_take(struct strbuf *b)
{
        if (!b->s && reserve(b, 0))
                b->s[0] = '\0';
        char *s = b->oom ? NULL : b->s;
        if (!s)
                free(b->s);
        *b = (struct strbuf){ 0 };
        return s;
}

void strbuf_free(struct strbuf *b)
{
        free(b->s);
        *b = (struct strbuf){ 0 };
}
