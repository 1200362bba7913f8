/* control.h — the control socket that tickctl talks to.
 *
 * Owns RUNTIME_DIR/control (RUNTIME_DIR is tickd's runtime directory:
 * /run/tickd, $XDG_RUNTIME_DIR/tickd, or --runtime-dir): a SOCK_STREAM unix
 * socket on which every accepted connection is a peer-to-peer sd-bus
 * connection (no dbus-daemon), serving CONTROL_INTERFACE at CONTROL_PATH.
 * Each call is authorised from the peer's SO_PEERCRED credentials:
 *   system instance  jobs, runs and job details: root sees all, any other
 *                    user only the jobs that run as that user; config files
 *                    and open batches: root only; RunJob, CancelJob, Reload:
 *                    root only;
 *   user instance    only the uid that owns the instance.
 * A refused call gets org.freedesktop.DBus.Error.AccessDenied
 * ("permission denied: ...") and a log record; a job the peer may not see
 * is answered as one that does not exist (CONTROL_ERROR_NO_SUCH_JOB), so
 * no user can tell which names other users' jobs have. Authorisation
 * compares uids only: the server never asks the name service (it runs on
 * the event loop, and any user could make it wait on LDAP or sssd).
 *
 * Limits, since every local user can connect to the system socket: a job
 * name longer than INIFILE_MAX_SECTION is refused with
 * org.freedesktop.DBus.Error.InvalidArgs and not echoed; a peer that lets
 * CONTROL_MAX_UNREAD_REPLIES replies pile up unread is disconnected; the
 * warnings a peer can cause (denied calls, dropped or refused connections)
 * are at most CONTROL_LOG_BURST per uid in CONTROL_LOG_INTERVAL_SEC, then
 * one line counts the rest.
 *
 * The server knows nothing of the daemon's internals: it reaches daemon
 * state only through struct control_ops, which the daemon implements.
 * Everything the ops hand over is borrowed and need only stay valid until
 * the op returns. The daemon tells the server of every finished run with
 * control_run_finished(), which answers the `RunJob(name, wait=true)` calls
 * waiting for it. */
#ifndef TICKD_CONTROL_H
#define TICKD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "core/crontab.h"
#include "shared/control-protocol.h"

#define CONTROL_MAX_CONNECTIONS    128 /* beyond this, new peers other than root are closed at once */
#define CONTROL_MAX_PER_USER       16  /* and beyond this many of one uid other than root */
#define CONTROL_ACCEPT_RETRY_MSEC  200 /* pause after accept() ran out of descriptors or memory */
#define CONTROL_MAX_UNREAD_REPLIES 64  /* queued in the daemon, beyond the kernel's socket buffer */
#define CONTROL_LOG_BURST          10  /* warnings per uid per interval, */
#define CONTROL_LOG_INTERVAL_SEC   5   /* then one line: "suppressed N more messages" */

struct control_job {
        const struct job *job; /* the definition as loaded */
        /* Who the job runs as, for authorisation: UID when the daemon knows
         * it without the name service, else (uid_t)-1: then a job without
         * user= runs as the daemon's own user, and one whose user= could not
         * be resolved is shown to the privileged peer only. */
        uid_t uid;
        uint64_t next_usec;                 /* 0 = none */
        const struct control_outcome *last; /* NULL = none recorded (kept across restarts) */
        unsigned running;                   /* runs in progress */
};

struct control_file {
        const char *path;
        bool loaded;       /* false: rejected (its previous version may still be in force) */
        const char *error; /* first error, "FILE:LINE: message"; NULL when loaded */
        unsigned n_jobs;
};

struct control_run {
        const char *job;
        const char *user; /* the job's user= (NULL = the daemon's user) */
        uid_t uid;        /* as in struct control_job */
        const char *run_id;
        pid_t pid; /* the runner's pid, 0 = not yet started */
        uint64_t start_usec;
};

struct control_batch {
        uint64_t id;
        uint64_t created_usec;
        unsigned n_jobs;
        const char *const *missing; /* job names whose outcome is still due */
        size_t n_missing;
};

/* An iteration callback returns 0 to go on; non-zero stops the iteration,
 * and the op returns a negative value as is (0 for a positive one). */
typedef int (*control_job_fn)(const struct control_job *job, void *ctx);
typedef int (*control_file_fn)(const struct control_file *file, void *ctx);
typedef int (*control_run_fn)(const struct control_run *run, void *ctx);
typedef int (*control_batch_fn)(const struct control_batch *batch, void *ctx);

struct control_ops {
        /* Each loaded job, in name order (disabled ones included). */
        int (*for_each_job)(void *userdata, control_job_fn each, void *ctx);
        /* Each crontab file of the last (re)load, in name order. */
        int (*for_each_file)(void *userdata, control_file_fn each, void *ctx);
        int (*for_each_run)(void *userdata, control_run_fn each, void *ctx);
        int (*for_each_batch)(void *userdata, control_batch_fn each, void *ctx);
        /* Starts a run of NAME now, outside its schedule, with its overlap
         * policy, and writes its id. Returns 0 (started), CONTROL_RUN_QUEUED
         * (behind the job's running run: overlap = queue/replace) or
         * CONTROL_RUN_WAITING (for a max_concurrent slot): such a run ends
         * with control_run_finished() or control_run_dropped(); -ENOENT
         * (no such job), -EBUSY (skipped: it is running and overlap = skip),
         * -EALREADY (skipped: a run is already queued), or another negative
         * errno. */
        int (*run_job)(void *userdata, const char *name, char run_id[CONTROL_RUN_ID_MAX]);
        /* Cancels NAME's running runs (SIGTERM, SIGKILL after the grace)
         * and drops its runs that have not started (queued, waiting).
         * Returns how many, -ENOENT (no such job) or -ESRCH (none). */
        int (*cancel_job)(void *userdata, const char *name);
        /* Reloads synchronously; for_each_file then reports the result. */
        int (*reload)(void *userdata);
};

struct control_options {
        const char *runtime_dir; /* created if missing (0755, or 0700 in user mode) */
        bool user_mode;
        uid_t owner_uid;       /* user mode: the only uid allowed */
        uint64_t started_usec; /* CLOCK_REALTIME of the daemon's start, for uptime */
};

struct control;

/* Creates the socket (a stale one left by a crash is replaced; one that a
 * live daemon answers on is not: -EADDRINUSE) with mode 0666 (system: each
 * call is authorised) or 0600 (user), and starts accepting on EVENT. Call
 * before READY=1. */
int control_new(sd_event *event, const struct control_options *options, const struct control_ops *ops, void *userdata,
                struct control **out);
/* Closes every connection (pending waits get an error) and removes the
 * socket. NULL is allowed. */
struct control *control_free(struct control *c);

enum { CONTROL_RUN_QUEUED = 1, CONTROL_RUN_WAITING = 2 };

/* Tells the RunJob(wait) caller of a queued or waiting run RUN_ID of JOB
 * that it will never start, and why (REASON, a short phrase). */
void control_run_dropped(struct control *c, const char *job, const char *run_id, const char *reason);

/* Tells waiting RunJob callers that run OUTCOME->run_id of JOB finished. */
void control_run_finished(struct control *c, const char *job, const struct control_outcome *outcome);

/* How many peers are connected (tests, status). */
size_t control_connections(const struct control *c);

#endif
