/* strbuf.h — a string built piece by piece (unit files, manifests).
 *
 * Appends never fail on the spot: a failed allocation is remembered, later
 * appends do nothing, and strbuf_take() reports it once, so a writer of
 * many lines checks for memory in one place. Pure: memory only. */
#ifndef TICKD_STRBUF_H
#define TICKD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
        char *s; /* NUL-terminated once anything was added */
        size_t len, cap;
        bool oom;
};

__attribute__((format(printf, 2, 3))) void strbuf_printf(struct strbuf *b, const char *fmt, ...);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_putc(struct strbuf *b, char c);
/* The string (malloc'd, "" when nothing was added), or NULL when an
 * allocation failed; B is left empty either way. */
char *strbuf_take(struct strbuf *b);
void strbuf_free(struct strbuf *b);

#endif
