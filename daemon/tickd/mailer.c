/* mailer.c — a run's mail: the captured output and its delivery through
 * sendmail; see mailer.h. Runs in the runner process only. */
#include "tickd/mailer.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/clock.h"

/* RFC 5322 allows 998 bytes and a CRLF; dma refuses a line of 998 and a
 * LF already (it counts the CR it will add): a margin below both. */
#define MAIL_LINE_MAX 990

struct mail_capture {
        int fd;             /* memfd */
        size_t kept;        /* bytes in FD, <= MAIL_BODY_MAX */
        size_t kept_output; /* bytes of output those hold (not counting the newlines of folded lines) */
        size_t total;       /* bytes of output seen, kept or not */
        bool failed;        /* a write failed: the body is what was kept before */
};

const char *mail_result_name(enum mail_result r)
{
        switch (r) {
        case MAIL_RESULT_SENT: return "sent";
        case MAIL_RESULT_FAILED: return "failed";
        case MAIL_RESULT_NOT_SENT: return "not-sent";
        case MAIL_RESULT_NONE: break;
        }
        return NULL;
}

struct mail_capture *mail_capture_new(void)
{
        struct mail_capture *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->fd = memfd_create("tickd-mail", MFD_CLOEXEC);
        if (c->fd < 0) {
                free(c);
                return NULL;
        }
        return c;
}

static int write_all(int fd, const void *data, size_t len)
{
        const char *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n, len -= (size_t)n;
        }
        return 0;
}

void mail_capture_line(struct mail_capture *c, const char *line, size_t len)
{
        c->total += len + 1;
        /* A longer output line than mail allows goes on on the next line. */
        for (size_t off = 0;;) {
                size_t n = len - off < MAIL_LINE_MAX ? len - off : MAIL_LINE_MAX;
                bool last = off + n == len;
                size_t room = MAIL_BODY_MAX - c->kept;
                if (c->failed || room == 0)
                        return;
                size_t take = n < room ? n : room;
                bool newline = take < room;
                if ((take && write_all(c->fd, line + off, take) < 0) || (newline && write_all(c->fd, "\n", 1) < 0)) {
                        c->failed = true; /* the body is what went in before */
                        return;
                }
                c->kept += take + newline;
                c->kept_output += take + (newline && last); /* a folding newline is not output */
                if (take < n || last)
                        return;
                off += n;
        }
}

bool mail_capture_any(const struct mail_capture *c) { return c->total > 0; }

struct mail_capture *mail_capture_free(struct mail_capture *c)
{
        if (c) {
                close(c->fd);
                free(c);
        }
        return NULL;
}

/* The whole message in a new memfd, at offset 0: headers, the kept
 * output, and a trailer when output was cut or there was none. Returns
 * the descriptor or a negative errno. */
static int message_build(struct mail_capture *c, const struct mail_message *m)
{
        _cleanup_free_ char *headers = NULL;
        size_t headers_len = 0;
        if (mail_format_headers(m, &headers, &headers_len) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = memfd_create("tickd-mail-message", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, headers, headers_len);
        char buf[16384];
        for (off_t off = 0; r == 0 && (size_t)off < c->kept;) {
                ssize_t n = pread(c->fd, buf, sizeof(buf), off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        r = n < 0 ? -errno : -EIO;
                else
                        r = write_all(fd, buf, (size_t)n), off += n;
        }
        if (r == 0 && c->total == 0)
                r = write_all(fd, "[tickd: the run printed nothing]\n", 33);
        if (r == 0 && c->kept_output < c->total) {
                int n = snprintf(buf, sizeof(buf),
                                 "\n[tickd: output cut after %zu of %zu bytes; all of it: tickctl logs %s --run %s]\n",
                                 c->kept_output, c->total, m->job, m->run_id);
                r = write_all(fd, buf, (size_t)n);
        }
        if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
                r = -errno;
        return r < 0 ? r : TAKE_FD(fd);
}

/* The child: the message on stdin, the job's credentials, sendmail. */
static _Noreturn void sendmail_exec(const struct mail_delivery *d, int message_fd)
{
        const struct mail_identity *id = d->identity;
        sigset_t empty;
        sigemptyset(&empty);
        sigprocmask(SIG_SETMASK, &empty, NULL);
        if (dup2(message_fd, STDIN_FILENO) < 0)
                _exit(126);
        close_range(3, ~0U, 0);
        if (id->change &&
            (setgroups((size_t)id->n_groups, id->groups) < 0 || setgid(id->gid) < 0 || setuid(id->uid) < 0))
                _exit(126);
        if (getuid() != id->uid || geteuid() != id->uid)
                _exit(126);
        if (chdir("/") < 0)
                _exit(126);
        char home[4200], user[300], logname[300];
        snprintf(home, sizeof(home), "HOME=%s", id->home);
        snprintf(user, sizeof(user), "USER=%s", id->name);
        snprintf(logname, sizeof(logname), "LOGNAME=%s", id->name);
        char *env[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", home, user, logname,
                        NULL };
        char *argv[] = { "sendmail", "-i", "-t", NULL };
        execve(d->sendmail, argv, env);
        _exit(127);
}

/* Waits for PID, at most MAIL_SEND_TIMEOUT_USEC; a cancel or the timeout
 * kills it. Returns 0 with *WSTATUS, or -ETIMEDOUT / -ECANCELED (reaped). */
static int sendmail_wait(pid_t pid, int sig_fd, int *wstatus)
{
        int64_t deadline = (int64_t)clock_now_usec(CLOCK_MONOTONIC) + (int64_t)MAIL_SEND_TIMEOUT_USEC;
        int verdict = 0;
        for (;;) {
                pid_t r = waitpid(pid, wstatus, verdict ? 0 : WNOHANG);
                if (r == pid)
                        return verdict;
                if (r < 0 && errno != EINTR)
                        return -ECHILD; /* cannot happen: it is our child */
                if (verdict)
                        continue;
                int64_t left = deadline - (int64_t)clock_now_usec(CLOCK_MONOTONIC);
                struct pollfd p = { .fd = sig_fd, .events = POLLIN };
                if (left <= 0 || (poll(&p, 1, (int)((left + 999) / 1000)) < 0 && errno != EINTR)) {
                        verdict = -ETIMEDOUT;
                        (void)kill(pid, SIGKILL);
                        continue;
                }
                struct signalfd_siginfo si;
                while (read(sig_fd, &si, sizeof(si)) == sizeof(si))
                        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                                verdict = -ECANCELED;
                                (void)kill(pid, SIGKILL);
                        }
        }
}

static enum mail_result sendmail_verdict(int r, int wstatus, const char *sendmail, char *detail, size_t size)
{
        if (r == -ETIMEDOUT)
                snprintf(detail, size, "%s took longer than %us and was killed", sendmail,
                         (unsigned)(MAIL_SEND_TIMEOUT_USEC / 1000000));
        else if (r == -ECANCELED)
                snprintf(detail, size, "the run was cancelled while %s ran", sendmail);
        else if (WIFSIGNALED(wstatus))
                snprintf(detail, size, "%s was killed by signal %d", sendmail, WTERMSIG(wstatus));
        else if (WEXITSTATUS(wstatus) == 126)
                snprintf(detail, size, "cannot run %s as the job's user", sendmail);
        else if (WEXITSTATUS(wstatus) == 127)
                snprintf(detail, size, "cannot execute %s", sendmail);
        else if (WEXITSTATUS(wstatus) != 0)
                snprintf(detail, size, "%s exited with status %d", sendmail, WEXITSTATUS(wstatus));
        else {
                detail[0] = '\0';
                return MAIL_RESULT_SENT;
        }
        return MAIL_RESULT_FAILED;
}

enum mail_result mail_send(struct mail_capture *c, const struct mail_delivery *d, char *detail, size_t size)
{
        if (access(d->sendmail, X_OK) < 0) {
                snprintf(detail, size, "no sendmail at %s: %s", d->sendmail, strerror(errno));
                return MAIL_RESULT_NOT_SENT;
        }
        int fd = message_build(c, d->message);
        if (fd < 0) {
                snprintf(detail, size, "cannot make the message: %s", strerror(-fd));
                return MAIL_RESULT_NOT_SENT;
        }
        pid_t pid = fork();
        if (pid == 0)
                sendmail_exec(d, fd);
        int fork_errno = errno;
        close(fd);
        if (pid < 0) {
                snprintf(detail, size, "cannot fork for %s: %s", d->sendmail, strerror(fork_errno));
                return MAIL_RESULT_NOT_SENT;
        }
        int wstatus = 0;
        int r = sendmail_wait(pid, d->sig_fd, &wstatus);
        return sendmail_verdict(r, wstatus, d->sendmail, detail, size);
}
