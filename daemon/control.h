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
 * ("permission denied: ...") and a log record.
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

#include "crontab.h"

#define CONTROL_SOCKET_NAME "control"
#define CONTROL_INTERFACE "org.tickd.Manager1"
#define CONTROL_PATH "/org/tickd/Manager1"
#define CONTROL_RUN_ID_MAX 64
#define CONTROL_NEXT_RUNS 5          /* next fire times returned by GetJob */
#define CONTROL_MAX_CONNECTIONS 128  /* beyond this, new peers other than root are closed at once */
#define CONTROL_MAX_PER_USER 16      /* and beyond this many of one uid other than root */

/* D-Bus signatures of the interface, shared by server and client.
 * JOB: name, description, file, schedule, zone, user, command, enabled,
 *      next_usec, last_start_usec, last_end_usec, last_result,
 *      last_exit_status (-1 none), last_signal (0 none), running. */
#define CONTROL_JOB_SIG "(sssssssbtttsiiu)"
/* FILE: path, loaded, first error ("" when loaded), jobs. */
#define CONTROL_FILE_SIG "(sbsu)"
/* RUN: job, run id, pid, start_usec. */
#define CONTROL_RUN_SIG "(ssut)"
/* BATCH: id, created_usec, jobs, missing job names. */
#define CONTROL_BATCH_SIG "(ttuas)"
/* Methods (in -> out):
 *   ListJobs(b all)          -> a JOB          (all: disabled jobs too)
 *   ListFiles()              -> a FILE
 *   GetJob(s name)           -> JOB, a(ss) definition, at next runs
 *   GetStatus()              -> s version, t started_usec, u jobs, u fds,
 *                               t rss_kb, a FILE, a RUN, a BATCH
 *   RunJob(s name, b wait)   -> s run_id, s result, i exit_status,
 *                               i signal, t duration_usec
 *                               (without wait: result "started", or for a
 *                               run that has to wait "queued" (behind the
 *                               job's running run) or "waiting" (for a
 *                               max_concurrent slot); -1, 0, 0. With wait,
 *                               the outcome; a run that has to wait first
 *                               gets the signal below, and CONTROL_ERROR_DROPPED
 *                               if it never starts)
 * Signals (sent to the RunJob(wait) caller only):
 *   RunWaiting(s name, s run_id, s state)  state "queued" or "waiting"
 *   CancelJob(s name)        -> u runs signalled
 *   Reload()                 -> a FILE */
#define CONTROL_ERROR_NO_SUCH_JOB "org.tickd.Error.NoSuchJob"
#define CONTROL_ERROR_NOT_RUNNING "org.tickd.Error.NotRunning"
#define CONTROL_ERROR_BUSY "org.tickd.Error.Busy"
#define CONTROL_ERROR_DROPPED "org.tickd.Error.RunDropped"

/* One finished run. Results: "success", "failed", "timeout", "lost",
 * "cancelled", "exec-failed", "credentials-failed". */
struct control_outcome {
        const char *run_id;
        const char *result;
        int exit_status;     /* -1 when it did not exit normally */
        int signal;          /* 0 = none */
        uint64_t start_usec; /* CLOCK_REALTIME */
        uint64_t end_usec;
};

struct control_job {
        const struct job *job;                /* the definition as loaded */
        /* Who the job runs as, for authorisation: UID when the daemon knows
         * it, else (uid_t)-1 and the server compares job->user (a name or a
         * number) with the peer's user name; a job without user= runs as the
         * daemon's own user. */
        uid_t uid;
        uint64_t next_usec;                   /* 0 = none */
        const struct control_outcome *last;   /* NULL = none recorded (kept across restarts) */
        unsigned running;                     /* runs in progress */
};

struct control_file {
        const char *path;
        bool loaded;          /* false: rejected (its previous version may still be in force) */
        const char *error;    /* first error, "FILE:LINE: message"; NULL when loaded */
        unsigned n_jobs;
};

struct control_run {
        const char *job;
        const char *user;     /* the job's user= (NULL = the daemon's user) */
        uid_t uid;            /* as in struct control_job */
        const char *run_id;
        pid_t pid;            /* the runner's pid, 0 = not yet started */
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
        /* Cancels NAME's running runs (SIGTERM, SIGKILL after the grace).
         * Returns how many, -ENOENT (no such job) or -ESRCH (not running). */
        int (*cancel_job)(void *userdata, const char *name);
        /* Reloads synchronously; for_each_file then reports the result. */
        int (*reload)(void *userdata);
};

struct control_options {
        const char *runtime_dir;  /* created if missing (0755, or 0700 in user mode) */
        bool user_mode;
        uid_t owner_uid;          /* user mode: the only uid allowed */
        uint64_t started_usec;    /* CLOCK_REALTIME of the daemon's start, for uptime */
};

struct control;

/* Creates the socket (a stale one left by a crash is replaced; one that a
 * live daemon answers on is not: -EADDRINUSE) with mode 0666 (system: each
 * call is authorised) or 0600 (user), and starts accepting on EVENT. Call
 * before READY=1. */
int control_new(sd_event *event, const struct control_options *options,
                const struct control_ops *ops, void *userdata, struct control **out);
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

/* The socket path under RUNTIME_DIR; malloc'd, NULL on ENOMEM. */
char *control_socket_path(const char *runtime_dir);

#endif
