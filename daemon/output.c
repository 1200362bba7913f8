/* output.c — journal streams for a job's stdout and stderr; see output.h. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "cleanup.h"

static int stream_open(const char *job, int priority)
{
        int fd = sd_journal_stream_fd(job, priority, 0);
        if (fd < 0)
                return fd;
        /* libsystemd opens it close-on-exec today; the runner's descriptor
         * discipline must not depend on that. */
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                int error = -errno;
                close(fd);
                return error;
        }
        return fd;
}

int output_journal_streams(const char *job, int *ret_stdout, int *ret_stderr)
{
        _cleanup_close_ int out = stream_open(job, LOG_INFO);
        if (out < 0)
                return out;
        int err = stream_open(job, LOG_WARNING);
        if (err < 0)
                return err;
        *ret_stdout = TAKE_FD(out);
        *ret_stderr = err;
        return 0;
}
