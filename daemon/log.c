/* log.c — structured records to stderr (the journal backend comes with the
 * systemd integration); see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

#include "timespan.h"

static enum log_target current_target = LOG_TARGET_STDERR;
static int max_priority = LOG_INFO;

static const char *const event_names[_LOG_EVENT_MAX] = {
        [LOG_EVENT_MESSAGE] = "message",
        [LOG_EVENT_STARTED] = "started",
        [LOG_EVENT_SUCCEEDED] = "succeeded",
        [LOG_EVENT_FAILED] = "failed",
        [LOG_EVENT_TIMED_OUT] = "timed-out",
        [LOG_EVENT_SKIPPED] = "skipped",
        [LOG_EVENT_DELAYED] = "delayed",
        [LOG_EVENT_LOST] = "lost",
        [LOG_EVENT_CONFIG_REJECTED] = "config-rejected",
        [LOG_EVENT_BATCH_STUCK] = "batch-stuck",
        [LOG_EVENT_RELOADED] = "reloaded",
        [LOG_EVENT_DAEMON_STARTED] = "daemon-started",
        [LOG_EVENT_DAEMON_STOPPING] = "daemon-stopping",
        [LOG_EVENT_CANCELLED] = "cancelled",
};

void log_setup(enum log_target target, int priority)
{
        current_target = target == LOG_TARGET_AUTO ? LOG_TARGET_STDERR : target;
        max_priority = priority;
}

enum log_target log_current_target(void) { return current_target; }
int log_max_priority(void) { return max_priority; }

static void print_usec(FILE *out, const char *key, int64_t usec)
{
        fprintf(out, " %s=%lld.%06llds", key, (long long)(usec / 1000000), (long long)(usec % 1000000));
}

void log_emit_at(const char *code_file, int code_line, const char *code_func,
                 const struct log_record *r, const char *fmt, ...)
{
        if (r->priority > max_priority)
                return;
        char *message = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        va_end(ap);

        /* One line per record, built in a memory stream and written with one
         * call, so lines from concurrent writers never interleave. */
        char *line = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&line, &len);
        if (!out) {
                free(message);
                return;
        }
        fprintf(out, "event=%s", event_names[r->event]);
        if (r->job)
                fprintf(out, " job=%s", r->job);
        if (r->run_id)
                fprintf(out, " run=%s", r->run_id);
        if (r->scheduled_usec) {
                if (r->scheduled_usec % 1000000)
                        fprintf(out, " scheduled=%lld.%06lld", (long long)(r->scheduled_usec / 1000000),
                                (long long)(r->scheduled_usec % 1000000));
                else
                        fprintf(out, " scheduled=%lld", (long long)(r->scheduled_usec / 1000000));
        }
        if (r->file)
                fprintf(out, r->line ? " file=%s:%u" : " file=%s", r->file, r->line);
        if (r->user)
                fprintf(out, " user=%s", r->user);
        if (r->has_exit_status)
                fprintf(out, " code=%d", r->exit_status);
        if (r->signal)
                fprintf(out, " signal=%s", sigabbrev_np(r->signal) ? sigabbrev_np(r->signal) : "?");
        if (r->has_resources) {
                print_usec(out, "duration", r->duration_usec);
                print_usec(out, "cpu", r->cpu_usec);
                fprintf(out, " maxrss=%ldkB", r->maxrss_kb);
        }
        if (r->errno_value)
                fprintf(out, " errno=%s", strerrorname_np(r->errno_value) ? strerrorname_np(r->errno_value) : "?");
        fprintf(out, " msg=\"%s\"\n", message ? message : "");
        fclose(out);
        fwrite(line, 1, len, stderr);
        fflush(stderr);
        free(line);
        free(message);
}

int log_level_from_string(const char *text)
{
        static const char *const names[] = { "emerg", "alert", "crit", "err",
                                             "warning", "notice", "info", "debug" };
        for (int i = 0; i < 8; i++)
                if (strcasecmp(text, names[i]) == 0)
                        return i;
        if (strcasecmp(text, "error") == 0)
                return LOG_ERR;
        if (text[0] >= '0' && text[0] <= '7' && text[1] == '\0')
                return text[0] - '0';
        return -EINVAL;
}

int log_target_from_string(const char *text, enum log_target *out)
{
        if (strcmp(text, "auto") == 0)
                *out = LOG_TARGET_AUTO;
        else if (strcmp(text, "journal") == 0)
                *out = LOG_TARGET_JOURNAL;
        else if (strcmp(text, "stderr") == 0)
                *out = LOG_TARGET_STDERR;
        else
                return -EINVAL;
        return 0;
}
