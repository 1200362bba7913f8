/* lines.h — cutting a byte stream into lines. Pure: no I/O, no globals.
 *
 * A line ends at '\n' or at a NUL byte, the two places journald cuts a
 * stream, so a job's output reads the same whichever way it reaches the
 * journal. The terminator is not part of the line. A line longer than the
 * buffer is cut at the buffer's size: split, never lost, and the buffer
 * never grows, so a job that prints without newlines costs a bounded
 * amount of memory. */
#ifndef TICKD_LINES_H
#define TICKD_LINES_H

#include <stddef.h>

typedef void (*line_emit_fn)(void *userdata, const char *line, size_t len);

struct line_buffer {
        char *data; /* caller's storage, SIZE bytes */
        size_t size;
        size_t len; /* bytes held: the start of an unfinished line */
};

/* Where new bytes go: line_buffer_space() bytes at line_buffer_tail(). Never
 * empty, since line_buffer_take() always leaves room. */
static inline char *line_buffer_tail(struct line_buffer *b) { return b->data + b->len; }
static inline size_t line_buffer_space(const struct line_buffer *b) { return b->size - b->len; }

/* N bytes were stored at the tail: emits every line they complete, and a
 * full buffer as one cut line. */
void line_buffer_take(struct line_buffer *b, size_t n, line_emit_fn emit, void *userdata);
/* End of stream: emits the unfinished line, if there is one. */
void line_buffer_flush(struct line_buffer *b, line_emit_fn emit, void *userdata);

#endif
