/* base64.c — RFC 4648 base64; see base64.h. */
#include "core/base64.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *data, size_t len, char **out)
{
        const unsigned char *in = data;
        char *text = malloc((len + 2) / 3 * 4 + 1);
        if (!text)
                return -ENOMEM;
        char *p = text;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t group = (uint32_t)in[i] << 16;
                if (i + 1 < len)
                        group |= (uint32_t)in[i + 1] << 8;
                if (i + 2 < len)
                        group |= in[i + 2];
                *p++ = alphabet[group >> 18 & 63];
                *p++ = alphabet[group >> 12 & 63];
                *p++ = i + 1 < len ? alphabet[group >> 6 & 63] : '=';
                *p++ = i + 2 < len ? alphabet[group & 63] : '=';
        }
        *p = '\0';
        *out = text;
        return 0;
}

static int sextet(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* One group of four characters; the last group may end in one or two '='. */
static int decode_group(const char *g, bool last, unsigned char *dst, size_t *n)
{
        int pad = (g[3] == '=') + (g[2] == '=' && g[3] == '=');
        if (pad > 0 && !last)
                return -EINVAL;
        uint32_t group = 0;
        for (int k = 0; k < 4 - pad; k++) {
                int v = sextet(g[k]);
                if (v < 0)
                        return -EINVAL;
                group = group << 6 | (uint32_t)v;
        }
        group <<= 6 * pad;
        dst[0] = (unsigned char)(group >> 16);
        dst[1] = (unsigned char)(group >> 8);
        dst[2] = (unsigned char)group;
        *n = 3 - (size_t)pad;
        return 0;
}

int base64_decode(const char *text, size_t len, char **out, size_t *out_len)
{
        if (len % 4 != 0)
                return -EINVAL;
        unsigned char *bytes = malloc(len / 4 * 3 + 1);
        if (!bytes)
                return -ENOMEM;
        size_t done = 0;
        for (size_t i = 0; i < len; i += 4) {
                size_t n;
                if (decode_group(text + i, i + 4 == len, bytes + done, &n) < 0) {
                        free(bytes);
                        return -EINVAL;
                }
                done += n;
        }
        bytes[done] = '\0';
        *out = (char *)bytes;
        *out_len = done;
        return 0;
}
