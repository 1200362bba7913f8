/* json.h — JSON string literals for tickctl's --json output.
 *
 * The one place that decides how text becomes a JSON string: quotes and
 * backslashes escaped, newline, tab and carriage return by their short
 * escapes, other control characters as \u00XX, and every byte from 0x20
 * up (UTF-8 included) passed through as it is, so names in any script
 * stay readable. The numbers and punctuation around the strings are the
 * callers' to write. */
#ifndef TICKD_JSON_H
#define TICKD_JSON_H

#include <stdio.h>

/* Writes S to OUT as a JSON string literal, quotes included; NULL as null. */
void json_write_string(FILE *out, const char *s);

#endif
