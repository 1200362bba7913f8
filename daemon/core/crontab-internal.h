/* crontab-internal.h — helpers shared by the crontab module's files
 * (crontab.c, crontab-dir.c, crontab-command.c) and its tests; not part of
 * the contract other modules code against. */
#ifndef TICKD_CRONTAB_INTERNAL_H
#define TICKD_CRONTAB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "core/crontab.h"

/* Levenshtein distance, case-insensitive, when it is at most MAX; a
 * larger value when it is not (found without computing it: a typo's
 * distance is small, a garbled key's need not be measured); SIZE_MAX for
 * words over 64 bytes. */
size_t crontab_edit_distance(const char *a, const char *b, size_t max);
/* The candidate closest to WORD when it is close enough to be a typo. */
const char *crontab_suggest(const char *word, const char *const *candidates, size_t n);
/* Loaders offer a suggestion for this many unknown words per file at
 * most: a file with more is not a few typos (a garbled or wrong file), and
 * each suggestion costs up to one edit distance per known word. */
#define CRONTAB_MAX_SUGGESTIONS 10

/* Whether the program JOB's command starts cannot be run by the job's
 * user: returns 1 and a sentence in WHY when it is not found or not
 * executable, 0 when it is fine or cannot be told (shell syntax, a
 * builtin, an unknown user). */
int crontab_command_problem(const struct job *job, const struct crontab_options *options, char *why, size_t size);

/* The first program COMMAND runs, when it is a plain word: skips leading
 * NAME=value assignments and "exec"/"command"; returns false for shell
 * syntax (quotes, expansions, redirections, keywords, builtins). */
bool crontab_command_program(const char *command, char *out, size_t size);

#endif
