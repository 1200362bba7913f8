/* command.h — when a job's command needs no shell. Pure: no I/O, no globals.
 *
 * Every command means what `/bin/sh -c COMMAND` makes of it. For the most
 * common kind, a program's path and plain arguments
 * (`/usr/local/bin/backup --full /srv`), the shell would only split the
 * words and exec the program, so the runner can do that itself and save
 * starting a shell per run. A command qualifies when:
 *
 * - it is made of words separated by spaces or tabs, every character of
 *   which is a letter, a digit or one of `_ - . / , : + = @ %`: nothing
 *   the shell would quote, expand, glob, redirect or treat as an operator
 *   or a comment;
 * - its first word contains a '/' (the shell runs a path as it is: no
 *   builtin, function or PATH search can stand in for it) and no '=' (a
 *   variable assignment).
 *
 * Anything else goes to the shell. So does a command whose direct exec
 * fails (see runner.c): the shell then reports it as it always would,
 * with its own message and exit status 126 or 127. */
#ifndef TICKD_COMMAND_H
#define TICKD_COMMAND_H

/* Sets *RET_ARGV to the words of COMMAND (a NULL-terminated array, freed
 * with strv_free()) and returns 1 when it needs no shell; returns
 * 0 (and *RET_ARGV = NULL) when it does, -ENOMEM when out of memory. */
int command_split_simple(const char *command, char ***ret_argv);

#endif
