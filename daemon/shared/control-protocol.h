/* control-protocol.h — the control interface as both ends see it.
 *
 * What tickctl (the client) and tickd's control server (tickd/control.h)
 * must agree on: the socket's name under the runtime directory, the D-Bus
 * interface, object path, method signatures and error names, and the
 * shape of one finished run. Nothing here knows the daemon's internals. */
#ifndef TICKD_CONTROL_PROTOCOL_H
#define TICKD_CONTROL_PROTOCOL_H

#include <stdint.h>

#define CONTROL_SOCKET_NAME "control"
#define CONTROL_INTERFACE   "org.tickd.Manager1"
#define CONTROL_PATH        "/org/tickd/Manager1"
/* A run id with its NUL: tickd names runs with sd_id128 strings (32 hex
 * digits, SD_ID128_STRING_MAX). Every copy of a run id is this size: the
 * scheduler's, a batch's, the server's, the last-outcomes file's; the
 * batch image handed to the next instance stores it too, so changing it
 * changes that format. */
#define CONTROL_RUN_ID_MAX 33

/* A fresh run id into OUT: 0, or a negative errno with OUT empty (no
 * randomness to be had). The one place runs are named: a run by hand,
 * a scheduled run, a fleet claim, a batch's run without one. */
int control_run_id_new(char out[static CONTROL_RUN_ID_MAX]);
#define CONTROL_NEXT_RUNS 5 /* next fire times returned by GetJob */

/* D-Bus signatures of the interface, shared by server and client.
 * JOB: name, description, file, schedule, zone, user, command, enabled,
 *      next_usec, last_start_usec, last_end_usec, last_result,
 *      last_exit_status (-1 none), last_signal (0 none), running,
 *      scope ("host", or "fleet": each instant runs on one node of the
 *      fleet, and the last run above is this node's, not the fleet's). */
#define CONTROL_JOB_SIG "(sssssssbtttsiius)"
/* ListJobs's array of JOBs is kept under this many bytes: sd-bus refuses
 * to read an array over 64 MiB (BUS_ARRAY_MAX_SIZE) and a message over
 * 128 MiB (BUS_MESSAGE_SIZE_MAX), and the crontab caps do not bound a
 * list: a 16 MiB file may hold 66,666 jobs, each listed with its file's
 * path (up to 4 KiB) and a command of up to 64 KiB, and the directory any
 * number of files. When the jobs do not fit, the list holds those that
 * do, in the daemon's order, and ends with a marker: a JOB whose name is
 * "" (no job's can be), whose `running` field is the number of jobs left
 * out and whose description says so. */
#define CONTROL_LIST_MAX_BYTES (32u * 1024 * 1024)
/* FILE: path, loaded, first error ("" when loaded), jobs. ListFiles's
 * list, and GetStatus's FILE, RUN and BATCH lists together, are kept
 * under CONTROL_LIST_MAX_BYTES too; a cut list ends with its marker: a
 * FILE whose path is "", whose jobs field counts the files left out and
 * whose error says so; a RUN whose job and run id are "" and whose pid
 * counts the runs left out; a BATCH whose id is 0 (ids start at 1) and
 * whose jobs field counts the batches left out. */
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
 *                               the outcome, after one of the signals
 *                               below; CONTROL_ERROR_DROPPED for a run that
 *                               had to wait and never started)
 * Signals (sent to the RunJob(wait) caller only, before the reply):
 *   RunStarted(s name, s run_id)            the run started at once
 *   RunWaiting(s name, s run_id, s state)  state "queued" or "waiting"
 *   CancelJob(s name)        -> u runs signalled, and runs dropped that had
 *                               not started (queued, waiting for a slot)
 *   Reload()                 -> a FILE */
#define CONTROL_ERROR_NO_SUCH_JOB "org.tickd.Error.NoSuchJob"
#define CONTROL_ERROR_NOT_RUNNING "org.tickd.Error.NotRunning"
#define CONTROL_ERROR_BUSY        "org.tickd.Error.Busy"
#define CONTROL_ERROR_DROPPED     "org.tickd.Error.RunDropped"

/* One finished run. RESULT is the name of the journal event that recorded
 * it (log.h): "succeeded", "failed" (a non-zero exit, a signal, or a run
 * that could not be set up or executed), "timed-out", "cancelled" or
 * "lost". */
struct control_outcome {
        const char *run_id;
        const char *result;
        int exit_status;     /* -1 when it did not exit normally */
        int signal;          /* 0 = none */
        uint64_t start_usec; /* CLOCK_REALTIME */
        uint64_t end_usec;
};

/* The socket path under RUNTIME_DIR; malloc'd, NULL on ENOMEM. */
char *control_socket_path(const char *runtime_dir);

#endif
