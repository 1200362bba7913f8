/* log.h — the one call site for tickd's structured records.
 *
 * Every event is a record: an event type (which maps to a fixed MESSAGE_ID
 * in the journal, see message-ids.h), a syslog priority, typed fields and a
 * readable sentence. The target is the journal (sd_journal_sendv, one entry
 * per record, fields MESSAGE, PRIORITY, MESSAGE_ID, SYSLOG_IDENTIFIER,
 * TICKD_EVENT, TICKD_JOB, TICKD_RUN_ID, TICKD_FILE, TICKD_LINE, TICKD_USER,
 * TICKD_SCHEDULED_USEC, TICKD_EXIT_STATUS, TICKD_SIGNAL (a name such as
 * "SIGKILL"), TICKD_DURATION_USEC, TICKD_CPU_USEC, TICKD_MAXRSS_KB,
 * TICKD_PID, TICKD_REASON, TICKD_NODE, ERRNO, with a run's own cgroup
 * TICKD_LEFTOVERS, TICKD_CGROUP_CPU_USEC, TICKD_MEMORY_PEAK, TICKD_OOM_KILLS,
 * CODE_FILE/CODE_LINE/CODE_FUNC) or stderr (one line per record:
 * "event=failed job=backup run=... code=3 duration=1.204s msg=..."), chosen
 * once at start-up. Unset fields are left out. On stderr a value that is
 * empty or holds a space, '"', '\\', '=' or a control character is quoted
 * and escaped (\", \\, \n, \r, \t, \xNN; msg= always), so no value can end
 * the line or add a field (tickd.8, LOGGING).
 *
 * LOG_TARGET_AUTO picks the journal when stderr is the journal stream that
 * systemd gave us ($JOURNAL_STREAM names stderr's device:inode) or when the
 * journal socket /run/systemd/journal/socket accepts a connection; else
 * stderr. (Without a journald, sd_journal_send "succeeds" and drops the
 * entry, so the socket itself is probed.) */
#ifndef TICKD_LOG_H
#define TICKD_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

enum log_target {
        LOG_TARGET_AUTO, /* the journal when it is there, else stderr */
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
};

enum log_event {
        LOG_EVENT_MESSAGE,   /* plain daemon message, no MESSAGE_ID */
        LOG_EVENT_STARTED,   /* a run started */
        LOG_EVENT_SUCCEEDED, /* exit 0 */
        LOG_EVENT_FAILED,    /* non-zero exit, signal, exec or credential failure */
        LOG_EVENT_TIMED_OUT,
        LOG_EVENT_SKIPPED,         /* overlap = skip */
        LOG_EVENT_DELAYED,         /* max_concurrent reached, or queued behind itself */
        LOG_EVENT_LOST,            /* a runner died without reporting */
        LOG_EVENT_CONFIG_REJECTED, /* a crontab (or tickd.conf) error */
        LOG_EVENT_BATCH_STUCK,     /* a batch outlived its jobs' deadlines */
        LOG_EVENT_RELOADED,
        LOG_EVENT_DAEMON_STARTED,
        LOG_EVENT_DAEMON_STOPPING,
        LOG_EVENT_CANCELLED,     /* a run was cancelled (tickctl cancel, replace) */
        LOG_EVENT_CLOCK_CHANGED, /* the realtime clock was set; next instants recomputed */
        LOG_EVENT_ADOPTED,       /* a run started by the previous instance, taken over after a restart */
        LOG_EVENT_DROPPED,       /* a run that was given an id will never start (its only final record) */
        _LOG_EVENT_MAX,
};

struct log_record {
        enum log_event event;
        int priority;           /* LOG_ERR .. LOG_DEBUG; 0 (LOG_EMERG, which tickd
                                   * never uses) = the event's default priority */
        const char *job;        /* TICKD_JOB */
        const char *run_id;     /* TICKD_RUN_ID */
        const char *file;       /* TICKD_FILE */
        unsigned line;          /* with file: TICKD_LINE */
        const char *user;       /* TICKD_USER */
        int64_t scheduled_usec; /* TICKD_SCHEDULED_USEC, 0 = unset */
        bool has_exit_status;
        int exit_status;         /* TICKD_EXIT_STATUS */
        int signal;              /* TICKD_SIGNAL, 0 = unset */
        int64_t duration_usec;   /* TICKD_DURATION_USEC, 0 = unset (use has_ fields if 0 matters) */
        int64_t cpu_usec;        /* TICKD_CPU_USEC */
        long maxrss_kb;          /* TICKD_MAXRSS_KB */
        bool has_resources;      /* duration/cpu/maxrss are set */
        bool has_cgroup;         /* the run had its own cgroup: the four below are set (-1: unknown) */
        int leftovers;           /* TICKD_LEFTOVERS: processes left when the main process exited */
        int64_t cgroup_cpu_usec; /* TICKD_CGROUP_CPU_USEC: CPU of the whole cgroup */
        int64_t memory_peak;     /* TICKD_MEMORY_PEAK: bytes, the whole cgroup */
        int64_t oom_kills;       /* TICKD_OOM_KILLS */
        int errno_value;         /* ERRNO, 0 = unset */
        int job_pid;             /* TICKD_PID, 0 = unset: the job's main process */
        bool on_failure;         /* TICKD_ON_FAILURE=1: a record of the job's on_failure
                                   * command, not a run of the job itself */
        const char *reason;      /* TICKD_REASON: why a run was skipped, dropped or lost (a phrase);
                                  * "oom-kill" on a run failed by an OOM kill */
        const char *node;        /* TICKD_NODE: the fleet node a record is about (fleet jobs) */
        const char *mail;        /* TICKD_MAIL: a finished run's mail: sent, failed, not-sent; NULL = none due */
        const char *mail_reason; /* TICKD_MAIL_REASON: why it failed or was not sent */
};

/* Chooses the target and the most verbose priority shown. Safe to call
 * again (e.g. after --log-level is parsed). */
void log_setup(enum log_target target, int max_priority);
enum log_target log_current_target(void);
int log_max_priority(void);

/* Who else sees every record: FN is called by log_emit() with each one,
 * whatever its priority and target, before it is written (the daemon's
 * metrics count runs by their records, so the two always agree). One
 * observer per process; FN NULL removes it, and a forked child that must
 * not touch the parent's state removes it first thing. */
typedef void (*log_observer_fn)(void *userdata, const struct log_record *record);
void log_set_observer(log_observer_fn fn, void *userdata);

/* Emits one record; FMT is the readable sentence (MESSAGE=):
 * log_emit(record, fmt, ...). RECORD may be a compound literal with commas
 * (&(struct log_record){ .event = ..., .job = ... }): the macro takes it
 * as part of its variadic arguments. */
#define log_emit(...) log_emit_at(__FILE__, __LINE__, __func__, __VA_ARGS__)
__attribute__((format(printf, 5, 6))) void log_emit_at(const char *code_file, int code_line, const char *code_func,
                                                       const struct log_record *record, const char *fmt, ...);

/* Plain messages. */
#define log_msg(prio, ...) log_emit(&(struct log_record){ .priority = (prio) }, __VA_ARGS__)

/* The default priority of an event: failed, lost, config rejected = err;
 * timed out, dropped, batch stuck = warning; skipped, delayed, cancelled, clock
 * changed = notice;
 * started, succeeded, reloaded, daemon started/stopping = info. */
int log_event_default_priority(enum log_event event);
/* "failed", "timed-out", ... (the stderr target's event= and TICKD_EVENT=).
 * A finished run's event name is also its outcome's one word everywhere
 * else: tickctl list, run, status and history, their JSON, the control
 * protocol's results and STATE_DIR/last-outcomes. */
const char *log_event_name(enum log_event event);
/* Whether EVENT is a run's final record: how a started run ended
 * (succeeded, failed, timed-out, cancelled, lost) or that a run given an
 * id will never start (dropped). */
bool log_event_is_outcome(enum log_event event);
/* The event named NAME, or -ENOENT. */
int log_event_from_name(const char *name);
/* The 32-hex-digit MESSAGE_ID of EVENT, NULL for LOG_EVENT_MESSAGE. */
const char *log_event_message_id(enum log_event event);
/* The event whose MESSAGE_ID is ID, or -ENOENT. */
int log_event_from_message_id(const char *id);
/* Whether a journald is reachable from this process (the probe AUTO uses). */
bool log_journal_detect(void);

/* Parses "err", "warning", "notice", "info", "debug" (or 0-7). */
int log_level_from_string(const char *text);
int log_target_from_string(const char *text, enum log_target *out);

#endif
