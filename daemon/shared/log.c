/* log.c — structured records to the journal or to stderr; see log.h. */
#include "shared/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
/* We send CODE_FILE/CODE_LINE/CODE_FUNC of our caller ourselves. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/message-ids.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static enum log_target current_target = LOG_TARGET_STDERR;
static int max_priority = LOG_INFO;
static log_observer_fn observer;
static void *observer_userdata;

/* The one table of event names. A finished run's (OUTCOME) is also the
 * word for that outcome in every other output (log.h). */
static const struct {
        const char *name;
        const char *message_id;
        int priority;
        bool outcome;
} events[_LOG_EVENT_MAX] = {
        [LOG_EVENT_MESSAGE] = { "message", NULL, LOG_INFO, false },
        [LOG_EVENT_STARTED] = { "started", TICKD_MESSAGE_STARTED, LOG_INFO, false },
        [LOG_EVENT_SUCCEEDED] = { "succeeded", TICKD_MESSAGE_SUCCEEDED, LOG_INFO, true },
        [LOG_EVENT_FAILED] = { "failed", TICKD_MESSAGE_FAILED, LOG_ERR, true },
        [LOG_EVENT_TIMED_OUT] = { "timed-out", TICKD_MESSAGE_TIMED_OUT, LOG_WARNING, true },
        [LOG_EVENT_SKIPPED] = { "skipped", TICKD_MESSAGE_SKIPPED, LOG_NOTICE, false },
        [LOG_EVENT_DELAYED] = { "delayed", TICKD_MESSAGE_DELAYED, LOG_NOTICE, false },
        [LOG_EVENT_LOST] = { "lost", TICKD_MESSAGE_LOST, LOG_ERR, true },
        [LOG_EVENT_CONFIG_REJECTED] = { "config-rejected", TICKD_MESSAGE_CONFIG_REJECTED, LOG_ERR, false },
        [LOG_EVENT_BATCH_STUCK] = { "batch-stuck", TICKD_MESSAGE_BATCH_STUCK, LOG_WARNING, false },
        [LOG_EVENT_RELOADED] = { "reloaded", TICKD_MESSAGE_RELOADED, LOG_INFO, false },
        [LOG_EVENT_DAEMON_STARTED] = { "daemon-started", TICKD_MESSAGE_DAEMON_STARTED, LOG_INFO, false },
        [LOG_EVENT_DAEMON_STOPPING] = { "daemon-stopping", TICKD_MESSAGE_DAEMON_STOPPING, LOG_INFO, false },
        [LOG_EVENT_CANCELLED] = { "cancelled", TICKD_MESSAGE_CANCELLED, LOG_NOTICE, true },
        [LOG_EVENT_CLOCK_CHANGED] = { "clock-changed", TICKD_MESSAGE_CLOCK_CHANGED, LOG_NOTICE, false },
        [LOG_EVENT_ADOPTED] = { "adopted", TICKD_MESSAGE_ADOPTED, LOG_INFO, false },
        [LOG_EVENT_DROPPED] = { "dropped", TICKD_MESSAGE_DROPPED, LOG_WARNING, true },
};

int log_event_default_priority(enum log_event event) { return events[event].priority; }
const char *log_event_name(enum log_event event) { return events[event].name; }
const char *log_event_message_id(enum log_event event) { return events[event].message_id; }
bool log_event_is_outcome(enum log_event event) { return events[event].outcome; }

int log_event_from_name(const char *name)
{
        for (int e = 0; e < _LOG_EVENT_MAX; e++)
                if (strcmp(events[e].name, name) == 0)
                        return e;
        return -ENOENT;
}

int log_event_from_message_id(const char *id)
{
        for (int e = 0; e < _LOG_EVENT_MAX; e++)
                if (events[e].message_id && strcasecmp(events[e].message_id, id) == 0)
                        return e;
        return -ENOENT;
}

/* systemd sets $JOURNAL_STREAM to "DEV:INO" of the stream it connected to
 * our stdout/stderr; it only counts if stderr still is that stream (a
 * child whose stderr was redirected inherits the variable, not the stream). */
static bool stderr_is_journal_stream(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;
        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == (dev_t)dev && st.st_ino == (ino_t)ino;
}

/* A datagram connect() to a socket nobody listens on fails with
 * ECONNREFUSED, so this tells a live journald from a stale socket file. */
static bool journal_socket_connectable(void)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

bool log_journal_detect(void) { return stderr_is_journal_stream() || journal_socket_connectable(); }

void log_setup(enum log_target target, int priority)
{
        if (target == LOG_TARGET_AUTO)
                target = log_journal_detect() ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
        current_target = target;
        max_priority = priority;
}

enum log_target log_current_target(void) { return current_target; }

void log_set_observer(log_observer_fn fn, void *userdata)
{
        observer = fn;
        observer_userdata = userdata;
}
int log_max_priority(void) { return max_priority; }

static void print_usec(FILE *out, const char *key, int64_t usec)
{
        fprintf(out, " %s=%lld.%06llds", key, (long long)(usec / 1000000), (long long)(usec % 1000000));
}

/* Whether VALUE can stand bare after "key=": anything that could end the
 * field (a space), open a quoted one, or end the line needs quoting. */
static bool value_is_bare(const char *value)
{
        if (!value[0])
                return false;
        for (const unsigned char *p = (const unsigned char *)value; *p; p++)
                if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' || *p == 0x7f)
                        return false;
        return true;
}

/* Writes VALUE inside double quotes so that it cannot end the line or
 * the field, nor carry terminal escapes: a job name or a message may come
 * from an unprivileged peer of the control socket. */
static void print_quoted(FILE *out, const char *value)
{
        fputc('"', out);
        for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
                switch (*p) {
                case '"': fputs("\\\"", out); break;
                case '\\': fputs("\\\\", out); break;
                case '\n': fputs("\\n", out); break;
                case '\r': fputs("\\r", out); break;
                case '\t': fputs("\\t", out); break;
                default:
                        if (*p < ' ' || *p == 0x7f)
                                fprintf(out, "\\x%02x", *p);
                        else
                                fputc(*p, out);
                }
        }
        fputc('"', out);
}

/* " KEY=VALUE", VALUE bare when that is unambiguous, else quoted. */
static void print_field(FILE *out, const char *key, const char *value)
{
        fprintf(out, " %s=", key);
        if (value_is_bare(value))
                fputs(value, out);
        else
                print_quoted(out, value);
}

static void print_file(FILE *out, const char *file, unsigned line)
{
        _cleanup_free_ char *where = NULL;
        if (!line) {
                print_field(out, "file", file);
                return;
        }
        if (asprintf(&where, "%s:%u", file, line) < 0)
                where = NULL;
        print_field(out, "file", where ? where : file);
}

static void emit_stderr(const struct log_record *r, const char *message)
{
        /* One line per record, built in a memory stream and written with one
         * call, so lines from concurrent writers never interleave. */
        char *line = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&line, &len);
        if (!out)
                return;
        fprintf(out, "event=%s", events[r->event].name);
        if (r->job)
                print_field(out, "job", r->job);
        if (r->run_id)
                print_field(out, "run", r->run_id);
        if (r->scheduled_usec) {
                if (r->scheduled_usec % 1000000)
                        fprintf(out, " scheduled=%lld.%06lld", (long long)(r->scheduled_usec / 1000000),
                                (long long)(r->scheduled_usec % 1000000));
                else
                        fprintf(out, " scheduled=%lld", (long long)(r->scheduled_usec / 1000000));
        }
        if (r->file)
                print_file(out, r->file, r->line);
        if (r->on_failure)
                fprintf(out, " on_failure=1");
        if (r->user)
                print_field(out, "user", r->user);
        if (r->node)
                print_field(out, "node", r->node);
        if (r->reason)
                print_field(out, "reason", r->reason);
        if (r->mail)
                print_field(out, "mail", r->mail);
        if (r->mail_reason)
                print_field(out, "mail_reason", r->mail_reason);
        if (r->has_exit_status)
                fprintf(out, " code=%d", r->exit_status);
        if (r->signal)
                fprintf(out, " signal=%s", sigabbrev_np(r->signal) ? sigabbrev_np(r->signal) : "?");
        if (r->has_resources) {
                print_usec(out, "duration", r->duration_usec);
                print_usec(out, "cpu", r->cpu_usec);
                fprintf(out, " maxrss=%ldkB", r->maxrss_kb);
        }
        if (r->has_cgroup) {
                fprintf(out, " leftovers=%d", r->leftovers);
                if (r->cgroup_cpu_usec >= 0)
                        print_usec(out, "cgroup_cpu", r->cgroup_cpu_usec);
                if (r->memory_peak >= 0)
                        fprintf(out, " memory_peak=%lld", (long long)r->memory_peak);
                if (r->oom_kills > 0)
                        fprintf(out, " oom_kills=%lld", (long long)r->oom_kills);
        }
        if (r->errno_value)
                fprintf(out, " errno=%s", strerrorname_np(r->errno_value) ? strerrorname_np(r->errno_value) : "?");
        fputs(" msg=", out);
        print_quoted(out, message);
        fputc('\n', out);
        fclose(out);
        fwrite(line, 1, len, stderr);
        fflush(stderr);
        free(line);
}

/* Up to this many fields per entry; see the list in log.h. */
#define MAX_FIELDS 32

struct fields {
        struct iovec iov[MAX_FIELDS];
        int count;
        bool failed;
};

__attribute__((format(printf, 2, 3))) static void field_add(struct fields *f, const char *fmt, ...)
{
        char *text;
        va_list ap;
        if (f->count >= MAX_FIELDS) {
                f->failed = true;
                return;
        }
        va_start(ap, fmt);
        int n = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (n < 0) {
                f->failed = true;
                return;
        }
        f->iov[f->count++] = (struct iovec){ .iov_base = text, .iov_len = (size_t)n };
}

static void fields_free(struct fields *f)
{
        for (int i = 0; i < f->count; i++)
                free(f->iov[i].iov_base);
}

static int emit_journal(const char *code_file, int code_line, const char *code_func, const struct log_record *r,
                        int priority, const char *message)
{
        struct fields f = { .count = 0 };
        field_add(&f, "MESSAGE=%s", message);
        field_add(&f, "PRIORITY=%d", priority);
        field_add(&f, "SYSLOG_IDENTIFIER=%s", program_invocation_short_name);
        if (events[r->event].message_id) {
                field_add(&f, "MESSAGE_ID=%s", events[r->event].message_id);
                field_add(&f, "TICKD_EVENT=%s", events[r->event].name);
        }
        if (r->job)
                field_add(&f, "TICKD_JOB=%s", r->job);
        if (r->run_id)
                field_add(&f, "TICKD_RUN_ID=%s", r->run_id);
        if (r->file)
                field_add(&f, "TICKD_FILE=%s", r->file);
        if (r->file && r->line)
                field_add(&f, "TICKD_LINE=%u", r->line);
        if (r->user)
                field_add(&f, "TICKD_USER=%s", r->user);
        if (r->scheduled_usec)
                field_add(&f, "TICKD_SCHEDULED_USEC=%lld", (long long)r->scheduled_usec);
        if (r->has_exit_status)
                field_add(&f, "TICKD_EXIT_STATUS=%d", r->exit_status);
        if (r->signal)
                field_add(&f, "TICKD_SIGNAL=SIG%s", sigabbrev_np(r->signal) ? sigabbrev_np(r->signal) : "UNKNOWN");
        if (r->has_resources) {
                field_add(&f, "TICKD_DURATION_USEC=%lld", (long long)r->duration_usec);
                field_add(&f, "TICKD_CPU_USEC=%lld", (long long)r->cpu_usec);
                field_add(&f, "TICKD_MAXRSS_KB=%ld", r->maxrss_kb);
        }
        if (r->has_cgroup) {
                field_add(&f, "TICKD_LEFTOVERS=%d", r->leftovers);
                if (r->cgroup_cpu_usec >= 0)
                        field_add(&f, "TICKD_CGROUP_CPU_USEC=%lld", (long long)r->cgroup_cpu_usec);
                if (r->memory_peak >= 0)
                        field_add(&f, "TICKD_MEMORY_PEAK=%lld", (long long)r->memory_peak);
                if (r->oom_kills >= 0)
                        field_add(&f, "TICKD_OOM_KILLS=%lld", (long long)r->oom_kills);
        }
        if (r->job_pid)
                field_add(&f, "TICKD_PID=%d", r->job_pid);
        if (r->on_failure)
                field_add(&f, "TICKD_ON_FAILURE=1");
        if (r->reason)
                field_add(&f, "TICKD_REASON=%s", r->reason);
        if (r->node)
                field_add(&f, "TICKD_NODE=%s", r->node);
        if (r->mail)
                field_add(&f, "TICKD_MAIL=%s", r->mail);
        if (r->mail_reason)
                field_add(&f, "TICKD_MAIL_REASON=%s", r->mail_reason);
        if (r->errno_value)
                field_add(&f, "ERRNO=%d", r->errno_value);
        field_add(&f, "CODE_FILE=%s", code_file);
        field_add(&f, "CODE_LINE=%d", code_line);
        field_add(&f, "CODE_FUNC=%s", code_func);
        int ret = f.failed ? -ENOMEM : sd_journal_sendv(f.iov, f.count);
        fields_free(&f);
        return ret;
}

void log_emit_at(const char *code_file, int code_line, const char *code_func, const struct log_record *r,
                 const char *fmt, ...)
{
        int saved_errno = errno;
        if (observer) /* before the level filter: what is counted must not depend on what is shown */
                observer(observer_userdata, r);
        int priority = r->priority > 0 ? r->priority : events[r->event].priority;
        if (priority > max_priority) {
                errno = saved_errno;
                return;
        }
        _cleanup_free_ char *message = NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        va_end(ap);

        /* A record the journal refused (it went away, out of memory) still
         * reaches stderr rather than vanishing. sd_journal_sendv() itself
         * reports a journald that stopped (ECONNREFUSED) but "succeeds"
         * when the socket is gone (ENOENT), dropping the entry: hence the
         * look for the socket first. */
        if (current_target != LOG_TARGET_JOURNAL || access(JOURNAL_SOCKET, F_OK) < 0 ||
            emit_journal(code_file, code_line, code_func, r, priority, message ? message : "") < 0)
                emit_stderr(r, message ? message : "");
        errno = saved_errno;
}

int log_level_from_string(const char *text)
{
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
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
