/* unquote.c — see unquote.h. */
#include "core/unquote.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Reads N digits of BASE from S into *V; false when one is missing. */
static bool read_digits(const char *s, int n, int base, uint32_t *v)
{
        *v = 0;
        for (int i = 0; i < n; i++) {
                int d = hex_digit(s[i]);
                if (d < 0 || d >= base)
                        return false;
                *v = *v * (uint32_t)base + (uint32_t)d;
        }
        return true;
}

/* Appends code point C to OUT as UTF-8; returns the bytes written. */
static size_t put_utf8(uint32_t c, char *out)
{
        if (c < 0x80) {
                out[0] = (char)c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char)(0xc0 | (c >> 6));
                out[1] = (char)(0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char)(0xe0 | (c >> 12));
                out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
                out[2] = (char)(0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char)(0xf0 | (c >> 18));
        out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
        out[3] = (char)(0x80 | (c & 0x3f));
        return 4;
}

/* One escape at S (just after the backslash): its code point in *C and
 * its length in *LEN; false for an escape systemd does not know. */
static bool read_escape(const char *s, uint32_t *c, size_t *len)
{
        static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''s ";
        const char *hit = *s ? strchr(simple, *s) : NULL;
        if (hit && (hit - simple) % 2 == 0) {
                *c = (unsigned char)hit[1];
                *len = 1;
                return true;
        }
        *len = *s == 'x' ? 3 : *s == 'u' ? 5 : *s == 'U' ? 9 : 3;
        if (*s == 'x')
                return read_digits(s + 1, 2, 16, c);
        if (*s == 'u')
                return read_digits(s + 1, 4, 16, c) && (*c < 0xd800 || *c > 0xdfff);
        if (*s == 'U')
                return read_digits(s + 1, 8, 16, c) && *c <= 0x10ffff && (*c < 0xd800 || *c > 0xdfff);
        return read_digits(s, 3, 8, c) && *c <= 0xff;
}

int unquote_value(const char *text, char **out, char *err, size_t err_size)
{
        /* An escape never yields more bytes than it is written with. */
        char *buf = malloc(strlen(text) + 1), *w = buf;
        char quote = 0;
        if (!buf)
                return -ENOMEM;
        for (const char *s = text; *s;) {
                if (!quote && (*s == '"' || *s == '\'')) {
                        quote = *s++;
                } else if (quote && *s == quote) {
                        quote = 0;
                        s++;
                } else if (quote && *s == '\\') {
                        uint32_t c;
                        size_t len;
                        if (!read_escape(s + 1, &c, &len)) {
                                snprintf(err, err_size, "unknown escape '\\%.*s'", s[1] ? 1 : 0, s + 1);
                                free(buf);
                                return -EINVAL;
                        }
                        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
                                snprintf(err, err_size, "escape '\\%.*s' gives a control character", (int)len, s + 1);
                                free(buf);
                                return -EINVAL;
                        }
                        if (c >= 0x80 && (s[1] == 'x' || (s[1] >= '0' && s[1] <= '7'))) {
                                snprintf(err, err_size, "escape '\\%.*s' gives a byte that is not UTF-8 (use \\u)",
                                         (int)len, s + 1);
                                free(buf);
                                return -EINVAL;
                        }
                        w += put_utf8(c, w);
                        s += 1 + len;
                } else {
                        *w++ = *s++;
                }
        }
        if (quote) {
                snprintf(err, err_size, "no closing %c", quote);
                free(buf);
                return -EINVAL;
        }
        *w = '\0';
        *out = buf;
        return 0;
}
