/* mail.h — what a job's mail says, and whether it is sent.
 *
 * Owns the mail format cron users expect (man/tickd.crontab.5, MAIL):
 * which runs mail (mail_on = output, failure or always), which mail_to
 * values are addresses, and the message's header block: From the job's
 * user at the host, To, a Subject naming host, user, job and command like
 * cron's "Cron <user@host> command", and X-Tickd-* headers where cron
 * has X-Cron-Env (the job, the run id, the result, the exit status or
 * signal). Every header value is made safe here: control characters
 * become spaces (no header can be injected through a command or a host
 * name), a long command is cut, and a Subject that is not ASCII is an
 * RFC 2047 encoded word. Pure: no I/O; tickd/mail.c sends it. */
#ifndef TICKD_MAIL_H
#define TICKD_MAIL_H

#include <stdbool.h>
#include <stddef.h>

enum mail_on {
        MAIL_ON_OUTPUT,  /* default, like cron: the run printed something */
        MAIL_ON_FAILURE, /* the run did not succeed */
        MAIL_ON_ALWAYS,
};

/* A mail_to value: at most this long. */
#define MAIL_TO_MAX 512
/* The longest command shown in a Subject, in bytes (cut at a character). */
#define MAIL_SUBJECT_COMMAND_MAX 120

/* "output", "failure", "always"; and back (-EINVAL for another word). */
const char *mail_on_name(enum mail_on on);
int mail_on_from_name(const char *name);

/* NULL when V, a non-empty mail_to value, is one address or several
 * separated by commas (each "local" or "local@domain": RFC 5322's atom
 * characters and dots in the local part, letters, digits, '-' and dots
 * in the domain); otherwise why not, as a phrase. */
const char *mail_address_problem(const char *v);

/* Whether a run mails: HAD_OUTPUT, it printed at least one byte;
 * SUCCEEDED, it exited with status 0 (not killed, timed out or
 * cancelled). */
bool mail_wanted(enum mail_on on, bool had_output, bool succeeded);

struct mail_message {
        const char *user;    /* the job's user: From and the Subject */
        const char *host;    /* this host's name */
        const char *to;      /* mail_to, as validated */
        const char *job;     /* the job's name */
        const char *command; /* the job's command (may hold newlines) */
        const char *run_id;
        const char *result; /* "succeeded", "failed", "timed-out", "cancelled" */
        bool has_exit_status;
        int exit_status;
        int signal; /* 0: none */
};

/* The header block of M, ending in the empty line before the body, into
 * *OUT (malloc'd, NUL-terminated, *LEN bytes). Returns 0 or -ENOMEM. */
int mail_format_headers(const struct mail_message *m, char **out, size_t *len);

#endif
