/* diag.h — diagnostics: what a loader found wrong, with where.
 *
 * Loaders never print; they append diagnostics to a list, and the edge
 * (tickctl check, tickd's log) decides how to show them. Format for humans
 * and editors: "FILE:LINE: error: MESSAGE". */
#ifndef TICKD_DIAG_H
#define TICKD_DIAG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum diag_severity {
        DIAG_ERROR,
        DIAG_WARNING,
        DIAG_DEBUG, /* shown only at debug level, e.g. "ignored editor backup x~" */
};

struct diagnostic {
        enum diag_severity severity;
        char *file;    /* may be NULL */
        unsigned line; /* 0 = the whole file */
        char *key;     /* may be NULL */
        /* Message, file and key live in the list's blocks (see struct
         * diagnostics): valid until diag_free() of the list that holds
         * them, never freed one by one. */
        char *message;
        /* A summary of dropped items (diag_add_dropped_summary()): how many
         * errors and others it stands for, so a reader can count them. */
        size_t dropped_errors, dropped_others;
};

struct diag_block;

struct diagnostics {
        struct diagnostic *items;
        size_t count;
        size_t capacity;
        /* When not 0, at most this many items are kept: later ones are
         * only counted (a 100,000-line file of errors must cost neither
         * 100,000 messages nor 100,000 log records). */
        size_t limit;
        size_t dropped_errors, dropped_others;
        /* The items' strings, packed into a few blocks, newest first: a
         * garbled file is mostly diagnostics, and one allocation each made
         * them most of the cost of loading it. */
        struct diag_block *blocks;
};

/* Appends a diagnostic; returns 0 or -ENOMEM. */
__attribute__((format(printf, 5, 6))) int diag_add(struct diagnostics *d, enum diag_severity severity, const char *file,
                                                   unsigned line, const char *fmt, ...);
__attribute__((format(printf, 6, 7))) int diag_add_key(struct diagnostics *d, enum diag_severity severity,
                                                       const char *file, unsigned line, const char *key,
                                                       const char *fmt, ...);
size_t diag_count(const struct diagnostics *d, enum diag_severity severity);
/* Whether D keeps no more items (its limit is reached): a caller may skip
 * the work of composing one (a suggestion). */
bool diag_full(const struct diagnostics *d);
/* When items were dropped, appends "… and N more errors" under FILE at
 * line 0 (past the limit), an error if any dropped item was one, and
 * clears the counts. Returns 0 or -ENOMEM. */
int diag_add_dropped_summary(struct diagnostics *d, const char *file);
/* Moves every item of FROM to the end of TO; FROM is left empty. */
int diag_move(struct diagnostics *to, struct diagnostics *from);
/* "FILE:LINE: error: MESSAGE" (FILE: when line is 0; MESSAGE alone without a file). */
void diag_fprint(FILE *out, const struct diagnostic *item);
/* The first error as one line, "FILE:LINE: KEY: MESSAGE" (no LINE when it
 * is 0, no KEY when there is none or MESSAGE already starts with it), for
 * a table cell such as `tickctl list --all`'s; malloc'd, NULL when D holds
 * no error or on ENOMEM. */
char *diag_first_error(const struct diagnostics *d);
void diag_free(struct diagnostics *d);

#endif
