/* inifile.h — the INI syntax shared by crontabs and tickd.conf, on inih.
 *
 * inih (ini_parse_stream) is driven through our own reader, which sees
 * every raw line first. That closes the traps of Debian's libinih r55
 * (docs/ARCHITECTURE.md, "inih traps"): the reader tracks exact line numbers, reports
 * a line longer than INIFILE_MAX_LINE as an error on that line (never
 * splits or cuts it), keeps values verbatim (a ';' or '#' inside a value
 * is data, not a comment), joins continuation lines itself so they cannot
 * be mistaken for a repeated key, and validates section names. inih only
 * ever receives short synthetic lines, so its own line limit, inline
 * comment and multi-line settings cannot change what we read.
 *
 * Syntax: whole-line comments start with '#' or ';' (after optional
 * blanks); "[NAME]" with NAME of letters, digits, '-', '_' and '.';
 * "KEY = VALUE" with the value verbatim up to the end of the line, blanks
 * around it trimmed; a line starting with a blank right after a key line
 * continues that value (joined with "\n") when the key allows it. A UTF-8
 * BOM at the start and CRLF line ends are accepted. */
#ifndef TICKD_INIFILE_H
#define TICKD_INIFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/diag.h"

/* Longest line accepted, in bytes, without its line end. */
#define INIFILE_MAX_LINE 4096
/* Longest value, continuation lines joined: a million continuation
 * lines must cost one error, not a value that grows without bound. */
#define INIFILE_MAX_VALUE 65536
/* Longest section name (it becomes a job name, a file name in the state
 * directory and a journal field). */
#define INIFILE_MAX_SECTION 200

struct inifile_ops {
        /* A "[NAME]" header. NAME is NULL for a header with an error
         * already reported: the keys under it belong to no valid section
         * (and must not fall to the one before). Returns 0, 1 to stop
         * reading (as entry below) or a negative errno. */
        int (*section)(void *user, const char *name, unsigned line);
        /* "KEY = VALUE" (continuations joined). Returns 0, 1 to stop reading
         * (the file is over a limit; the callback reported it), or a
         * negative errno. */
        int (*entry)(void *user, const char *key, const char *value, unsigned line);
        /* Whether KEY is a known key that takes continuation lines. */
        bool (*continuable)(void *user, const char *key);
        /* Whether KEY is a known key (to flag an indented "key = value"). */
        bool (*known_key)(void *user, const char *key);
        /* A line dropped for an error already reported (too long, a NUL);
         * KEY is its key when one could be told, else NULL. So the caller
         * need not also call that key missing. A crontab(5) line is
         * reported as both "schedule" and "command". May be NULL. */
        void (*dropped)(void *user, const char *key, unsigned line);
};

/* Parses LEN bytes of BUF (need not be NUL-terminated; a NUL byte in it is
 * an error). Syntax errors are appended to DIAGS under FILE. Returns 0
 * (even when there were syntax errors: count them in DIAGS) or a negative
 * errno from a callback or from inih. */
int inifile_parse(const char *file, const char *buf, size_t len, const struct inifile_ops *ops, void *user,
                  struct diagnostics *diags);

/* Whether NAME is a valid section name. */
bool inifile_valid_section(const char *name);

#endif
