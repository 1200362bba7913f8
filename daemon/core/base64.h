/* base64.h — RFC 4648 base64 (the standard alphabet, '=' padding), as
 * etcd's JSON gateway carries keys and values.
 *
 * Both directions return a malloc'd, NUL-terminated buffer, so a decoded
 * byte string can also be used as text when it holds none of its own
 * NULs. Decoding is strict: a character outside the alphabet, a missing
 * or misplaced '=', or a length that is not a multiple of four is
 * -EINVAL, because a gateway answer that is not base64 is a broken
 * answer, not data. */
#ifndef TICKD_BASE64_H
#define TICKD_BASE64_H

#include <stddef.h>

/* Encodes LEN bytes of DATA into *OUT; returns 0 or -ENOMEM. */
int base64_encode(const void *data, size_t len, char **out);
/* Decodes LEN characters of TEXT into *OUT (*OUT_LEN bytes, plus a NUL not
 * counted); returns 0, -EINVAL or -ENOMEM. *OUT is untouched on failure. */
int base64_decode(const char *text, size_t len, char **out, size_t *out_len);

#endif
