/* output.c — job stdout/stderr to a journal stream or relayed to stderr;
 * see output.h. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

struct relay {
        sd_event_source *source;
        char *prefix; /* "JOB: " */
        size_t prefix_len;
        size_t used;
        char line[OUTPUT_LINE_MAX];
};

static unsigned relays_open;

unsigned output_relays_open(void) { return relays_open; }

static void relay_free(void *userdata)
{
        struct relay *r = userdata;
        free(r->prefix);
        free(r);
        relays_open--;
}

/* One write per line, so lines of concurrent jobs never interleave. */
static void relay_write_line(struct relay *r)
{
        char buf[OUTPUT_LINE_MAX + 256];
        size_t n = r->prefix_len < 255 ? r->prefix_len : 255;
        memcpy(buf, r->prefix, n);
        memcpy(buf + n, r->line, r->used);
        n += r->used;
        buf[n++] = '\n';
        for (size_t off = 0; off < n;) {
                ssize_t w = write(STDERR_FILENO, buf + off, n - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        break; /* nowhere to report it: drop the line */
                off += (size_t)w;
        }
        r->used = 0;
}

static int relay_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct relay *r = userdata;
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n <= 0) {
                /* EOF (or a read error): the last writer is gone. */
                if (r->used > 0)
                        relay_write_line(r);
                /* The loop's (floating) reference is the only one. */
                sd_event_source_disable_unref(s); /* calls relay_free() */
                return 0;
        }
        for (ssize_t i = 0; i < n; i++) {
                if (buf[i] == '\n') {
                        relay_write_line(r);
                        continue;
                }
                r->line[r->used++] = buf[i];
                if (r->used == sizeof(r->line))
                        relay_write_line(r);
        }
        return 0;
}

int output_open_relay(sd_event *event, const char *job)
{
        if (!event)
                return -EINVAL;
        int pipe_fds[2];
        if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        _cleanup_close_ int read_end = pipe_fds[0], write_end = pipe_fds[1];
        /* Only our end is non-blocking: a job writing faster than we relay
         * waits in write(), as it would on a terminal. */
        if (fcntl(write_end, F_SETFL, 0) < 0)
                return -errno;

        struct relay *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        if (asprintf(&r->prefix, "%s: ", job) < 0) {
                free(r);
                return -ENOMEM;
        }
        r->prefix_len = strlen(r->prefix);
        int ret = sd_event_add_io(event, &r->source, read_end, EPOLLIN, relay_on_io, r);
        if (ret < 0) {
                free(r->prefix);
                free(r);
                return ret;
        }
        relays_open++;
        sd_event_source_set_destroy_callback(r->source, relay_free);
        sd_event_source_set_io_fd_own(r->source, 1);
        TAKE_FD(read_end);
        /* Owned by the loop from here: freed at EOF or with the loop. */
        sd_event_source_set_floating(r->source, 1);
        sd_event_source_unref(r->source);
        return TAKE_FD(write_end);
}

int output_open(sd_event *event, const char *job, int priority)
{
        if (log_current_target() == LOG_TARGET_JOURNAL) {
                int fd = sd_journal_stream_fd(job, priority, 0);
                if (fd >= 0) {
                        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                                int error = -errno;
                                close(fd);
                                return error;
                        }
                        return fd;
                }
        }
        return output_open_relay(event, job);
}

int output_open_job(sd_event *event, const char *job, int *ret_stdout, int *ret_stderr)
{
        _cleanup_close_ int out = output_open(event, job, LOG_INFO);
        if (out < 0)
                return out;
        int err = output_open(event, job, LOG_WARNING);
        if (err < 0)
                return err;
        *ret_stdout = TAKE_FD(out);
        *ret_stderr = err;
        return 0;
}
