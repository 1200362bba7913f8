/* output.c — relaying a job's stdout and stderr; see output.h. */
#include "tickd/output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/lines.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"
/* Room for a whole OUTPUT_LINE_MAX line and its fields in one datagram;
 * the kernel caps it at net.core.wmem_max (212992 by default: enough). */
#define JOURNAL_SNDBUF (8 * 1024 * 1024)

struct output_stream {
        int fd; /* read end; -1 once the stream has ended */
        int priority;
        const char *name; /* TICKD_OUTPUT */
        struct output *owner;
        struct line_buffer lines;
        char data[OUTPUT_LINE_MAX];
};

struct output {
        const char *job, *run_id;
        int journal_fd;    /* connected to journald; -1: lines go to stderr */
        output_tee_fn tee; /* NULL = none */
        void *tee_userdata;
        size_t n_streams;
        struct output_stream streams[2];
};

static int journal_connect(void)
{
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int size = JOURNAL_SNDBUF;
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int error = -errno;
                close(fd);
                return error;
        }
        return fd;
}

static void send_stderr(const struct output *o, const char *line, size_t len)
{
        struct iovec iov[] = {
                { (char *)o->job, strlen(o->job) },
                { ": ", 2 },
                { (char *)line, len },
                { "\n", 1 },
        };
        (void)!writev(STDERR_FILENO, iov, ELEMENTSOF(iov));
}

/* One entry in the native protocol: "FIELD=value\n" each; no value here
 * can hold a newline (lines end at one, names and ids have none). */
static int send_journal(const struct output_stream *s, const char *line, size_t len)
{
        const struct output *o = s->owner;
        const char *priority = s->priority == LOG_WARNING ? "PRIORITY=4\n" : "PRIORITY=6\n";
        struct iovec iov[] = {
                { "MESSAGE=", 8 },
                { (char *)line, len },
                { "\n", 1 },
                { (char *)priority, strlen(priority) },
                { "SYSLOG_IDENTIFIER=", 18 },
                { (char *)o->job, strlen(o->job) },
                { "\nTICKD_RUN_ID=", 14 },
                { (char *)o->run_id, strlen(o->run_id) },
                { "\nTICKD_OUTPUT=", 14 },
                { (char *)s->name, strlen(s->name) },
                { "\n", 1 },
        };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = ELEMENTSOF(iov) };
        for (;;) {
                if (sendmsg(o->journal_fd, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

/* Errors that say no journald listens on the other end any more. */
static bool journal_gone(int error)
{
        return error == ECONNREFUSED || error == ENOTCONN || error == ENOENT || error == EPIPE;
}

static void emit_line(void *userdata, const char *line, size_t len)
{
        struct output_stream *s = userdata;
        struct output *o = s->owner;
        if (o->tee)
                o->tee(o->tee_userdata, line, len);
        int r = o->journal_fd >= 0 ? send_journal(s, line, len) : -EBADF;
        if (r == 0)
                return;
        /* Not sent: the line goes to stderr, not nowhere. If journald went
         * away, so does every line after it; another error (a datagram too
         * large for this machine's limits) costs only this line. */
        if (o->journal_fd >= 0 && journal_gone(-r)) {
                close(o->journal_fd);
                o->journal_fd = -1;
        }
        send_stderr(o, line, len);
}

static void stream_init(struct output *o, struct output_stream *s, int fd, int priority, const char *name)
{
        s->fd = fd;
        s->priority = priority;
        s->name = name;
        s->owner = o;
        s->lines = (struct line_buffer){ .data = s->data, .size = sizeof(s->data) };
}

int output_open(const char *job, const char *run_id, bool to_journal, struct output **ret, int *job_stdout,
                int *job_stderr)
{
        /* Not calloc: the line buffers need no zeroing, and a fresh page is
         * only touched (and faulted in) when output fills it. */
        struct output *o = malloc(sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->job = job, o->run_id = run_id, o->journal_fd = -1, o->n_streams = 0, o->tee = NULL;
        if (to_journal)
                o->journal_fd = journal_connect(); /* negative: no journald, relay to stderr */
        if (o->journal_fd < 0)
                o->journal_fd = -1;
        int out[2] = { -1, -1 }, err[2] = { -1, -1 };
        if (pipe2(out, O_CLOEXEC) < 0 || (o->journal_fd >= 0 && pipe2(err, O_CLOEXEC) < 0)) {
                int error = -errno;
                for (size_t i = 0; i < 2; i++) {
                        if (out[i] >= 0)
                                close(out[i]);
                }
                output_free(o, false);
                return error;
        }
        stream_init(o, &o->streams[0], out[0], LOG_INFO, "stdout");
        o->n_streams = 1;
        if (err[0] >= 0) {
                stream_init(o, &o->streams[1], err[0], LOG_WARNING, "stderr");
                o->n_streams = 2;
        }
        for (size_t i = 0; i < o->n_streams; i++)
                (void)fcntl(o->streams[i].fd, F_SETFL, O_NONBLOCK);
        *job_stdout = out[1];
        *job_stderr = err[1] >= 0 ? err[1] : out[1];
        *ret = o;
        return 0;
}

bool output_to_journal(const struct output *o) { return o->journal_fd >= 0; }

void output_set_tee(struct output *o, output_tee_fn tee, void *userdata)
{
        o->tee = tee;
        o->tee_userdata = userdata;
}

size_t output_pollfds(const struct output *o, struct pollfd fds[OUTPUT_POLLFDS_MAX])
{
        size_t n = 0;
        for (size_t i = 0; i < o->n_streams; i++)
                if (o->streams[i].fd >= 0)
                        fds[n++] = (struct pollfd){ .fd = o->streams[i].fd, .events = POLLIN };
        return n;
}

/* Reads what is there. Returns false at the end of the stream. */
static bool stream_pump(struct output_stream *s)
{
        for (;;) {
                ssize_t n = read(s->fd, line_buffer_tail(&s->lines), line_buffer_space(&s->lines));
                if (n > 0) {
                        line_buffer_take(&s->lines, (size_t)n, emit_line, s);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return true;
                /* EOF (or a read error, which ends the stream the same way) */
                line_buffer_flush(&s->lines, emit_line, s);
                close(s->fd);
                s->fd = -1;
                return false;
        }
}

bool output_pump(struct output *o)
{
        bool open_ = false;
        for (size_t i = 0; i < o->n_streams; i++)
                if (o->streams[i].fd >= 0 && stream_pump(&o->streams[i]))
                        open_ = true;
        return open_;
}

void output_drain(struct output *o)
{
        struct pollfd fds[OUTPUT_POLLFDS_MAX];
        size_t n;
        while ((n = output_pollfds(o, fds)) > 0) {
                if (poll(fds, n, -1) < 0 && errno != EINTR)
                        break;
                output_pump(o);
        }
}

void output_free(struct output *o, bool flush)
{
        if (!o)
                return;
        for (size_t i = 0; i < o->n_streams; i++) {
                struct output_stream *s = &o->streams[i];
                if (flush)
                        line_buffer_flush(&s->lines, emit_line, s);
                if (s->fd >= 0)
                        close(s->fd);
        }
        if (o->journal_fd >= 0)
                close(o->journal_fd);
        free(o);
}
