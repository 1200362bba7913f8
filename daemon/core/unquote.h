/* unquote.h — systemd's quoting rules (systemd.syntax(7), "Quoting") for
 * one crontab value, as Environment= applies them in systemd.exec(5).
 *
 * Double or single quotes around the whole text or any part of it are
 * removed, and inside them the C escapes systemd knows are read (\n, \t,
 * \\, \", \', \s for a space, \xHH, \NNN octal, \uXXXX, \UXXXXXXXX, ...).
 * Outside quotes every byte, backslashes and white space included, is kept
 * as written: one line is one value, never split into words. Pure. */
#ifndef TICKD_UNQUOTE_H
#define TICKD_UNQUOTE_H

#include <stddef.h>

/* Sets *OUT to a malloc'd copy of TEXT with its quotes removed and their
 * escapes read. Returns 0, -ENOMEM, or -EINVAL with a message in ERR
 * (an unterminated quote, an unknown escape, an escape that gives a NUL
 * or a control character other than tab and newline). */
int unquote_value(const char *text, char **out, char *err, size_t err_size);

#endif
