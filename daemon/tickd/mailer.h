/* mailer.h — a run's mail, sent by its runner once the job has ended.
 *
 * Owns the copy of the job's output that a mail carries and its delivery
 * (man/tickd.crontab.5, MAIL). While the job runs, output.c hands every
 * line it relays to the capture as well: a memfd, so the output of a
 * chatty job costs no heap, holding at most MAIL_BODY_MAX bytes (the rest
 * is counted, and a trailer line says where the whole output is). After
 * the job's main process has exited, the runner asks mail_send() to
 * deliver: the headers (core/mail.h) and the captured body go, as one
 * memfd on its stdin, to `SENDMAIL -i -t` in a child that has dropped to
 * the job's user, group and supplementary groups first (as cron does, so
 * the mailer sees who sends), with a clean environment. The runner waits
 * for it, at most MAIL_SEND_TIMEOUT_USEC (then SIGKILL), and a cancel
 * (SIGTERM to the runner) ends it at once: a mail can delay its run's
 * outcome, never hold it open for good. The daemon's loop never sees
 * any of it. The result, sent or not and why, goes into the run's
 * FINISHED record (runner.h); a failed mail is never the run's failure. */
#ifndef TICKD_MAILER_H
#define TICKD_MAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/mail.h"

#define MAIL_BODY_MAX          (256 * 1024)
#define MAIL_SEND_TIMEOUT_USEC (UINT64_C(60) * 1000000)

/* The result of a run's mail, as its outcome record carries it. */
enum mail_result {
        MAIL_RESULT_NONE = 0, /* no mail_to, or mail_on did not ask for one */
        MAIL_RESULT_SENT = 1,
        MAIL_RESULT_FAILED = 2,   /* sendmail ran and failed, or took too long */
        MAIL_RESULT_NOT_SENT = 3, /* no sendmail, or the message could not be made */
};

/* "sent", "failed", "not-sent" (NULL for NONE): TICKD_MAIL's values. */
const char *mail_result_name(enum mail_result r);

struct mail_capture;

/* A capture, or NULL with errno set (memfd_create failed). */
struct mail_capture *mail_capture_new(void);
/* Appends LINE (LEN bytes, no newline) and a newline, up to MAIL_BODY_MAX. */
void mail_capture_line(struct mail_capture *c, const char *line, size_t len);
/* Whether any output was captured (or counted past the cap). */
bool mail_capture_any(const struct mail_capture *c);
struct mail_capture *mail_capture_free(struct mail_capture *c);

/* Whom sendmail runs as: the job's credentials, resolved by the runner. */
struct mail_identity {
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        int n_groups;
        bool change; /* switch to them (the runner's are not the job's) */
        const char *name, *home;
};

struct mail_delivery {
        const char *sendmail; /* absolute path */
        const struct mail_message *message;
        const struct mail_identity *identity;
        int sig_fd; /* the runner's signalfd (SIGCHLD, SIGTERM, SIGINT) */
};

/* Sends C's output with D's headers; returns SENT, FAILED or NOT_SENT
 * with why in DETAIL (SIZE bytes; empty when sent). Reaps its child. */
enum mail_result mail_send(struct mail_capture *c, const struct mail_delivery *d, char *detail, size_t size);

#endif
