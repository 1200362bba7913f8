/* scheduler.h — the job table, the timer queue, the timer and the clock.
 *
 * Owns the loaded crontab files and their jobs (by name), a min-heap of
 * the jobs' next due instants (core/heap.h), and ONE sd-event
 * CLOCK_REALTIME timer armed at the earliest of them: between due
 * instants the daemon does not wake up. On expiry every job due at that
 * instant is offered to the admission policy (admission.h) and what it
 * admits starts in batches (batch.h) of at most ADMISSION_SLICE runs, one
 * per loop iteration, in the order the jobs were loaded (file order; jobs
 * a later reload adds come after). A job's next instant is computed from the instant
 * it was scheduled for, never from "now", so late wake-ups neither drift
 * nor skip; instants missed by more than a minute (suspend, a clock jumped
 * forward) are run once, and only for persistent jobs. No job ever runs
 * twice for the same scheduled instant (a high-water mark per job), so a
 * clock stepped backwards repeats nothing; catchup.h holds that rule. A
 * TFD_TIMER_CANCEL_ON_SET timerfd reports clock steps: each is logged
 * (clock-changed), every next instant is recomputed, and what fell due in
 * a step forward is dispatched at once.
 *
 * Also owns random_delay, persistent stamps and @reboot markers
 * (state.h): an @reboot job runs once per boot, at start-up or when a
 * reload first loads it. What becomes of a due run (overlap, waiting for
 * a max_concurrent slot, on_failure, queued and dropped runs) is the
 * admission module's; the scheduler keeps its per-job state in the table
 * and hands it every finished run (see scheduler_set_listener()).
 *
 * A fleet job (scope = fleet, with a fleet configured) is claimed in etcd
 * at each due instant before it is offered (fleet.h); only the node that
 * claims it offers the run, named by the claim's run id, and the runs
 * that claims let through start together at the next loop iteration. A
 * run by hand (tickctl run) of a fleet job runs here, unclaimed.
 *
 * Files are swapped whole by the reloader: scheduler_set_file() replaces
 * one file's jobs. Runs in progress are never touched by a change of the
 * table: they carry their job's name and are accounted under it. */
#ifndef TICKD_SCHEDULER_H
#define TICKD_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "tickd/batch.h"
#include "tickd/fleet.h"
#include "core/crontab.h"
#include "shared/control-protocol.h"

struct scheduler;

struct scheduler_options {
        sd_event *event;
        const char *state_dir;    /* stamps; must exist (borrowed) */
        const char *runtime_dir;  /* @reboot markers; must exist (borrowed) */
        const char *default_path; /* PATH for jobs, NULL = built-in (copied) */
        unsigned max_concurrent;  /* 0 = unlimited */
        bool relay_output;        /* job output to stderr as "JOB: line" */
        const char *cgroup_dir;   /* per-run cgroups under it (cgroup.h); NULL = none (borrowed) */
        bool pam;                 /* tickd.conf's pam= */
        struct fleet *fleet;      /* scope = fleet jobs are claimed here first; NULL = no fleet (borrowed,
                                   * outlives the scheduler's use of it: free it after scheduler_stop()) */
};

int scheduler_new(const struct scheduler_options *options, struct scheduler **out);
/* Frees the table and every batch (runners still alive are killed). */
void scheduler_free(struct scheduler *s);

/* Replaces the jobs that came from PATH with those of FILE (taking
 * ownership), or removes them when FILE is NULL. A job of FILE whose name
 * belongs to another file makes the whole file rejected: returns -EEXIST,
 * sets *CONFLICT to that name (valid until FILE is freed), and leaves the
 * table and FILE (still the caller's) unchanged. */
int scheduler_set_file(struct scheduler *s, const char *path, struct crontab_file *file, const char **conflict);
/* The file loaded from PATH, or NULL. */
const struct crontab_file *scheduler_get_file(const struct scheduler *s, const char *path);
/* The paths of all loaded files; a NULL-terminated array to free() (the
 * strings are borrowed from the table). */
const char **scheduler_file_paths(const struct scheduler *s);
size_t scheduler_job_count(const struct scheduler *s);

/* Start-up: persistent catch-up and @reboot runs, then arms the timer. */
int scheduler_start(struct scheduler *s);
/* Shutdown: dispatches nothing more (queued and waiting runs are dropped). */
void scheduler_stop(struct scheduler *s);

/* A new max_concurrent (tickd.conf reloaded; 0 = unlimited). Runs in
 * progress are untouched; runs waiting for a slot start at once if the
 * new bound has room for them. */
void scheduler_set_max_concurrent(struct scheduler *s, unsigned max_concurrent);

/* A new PATH for jobs (tickd.conf reloaded; NULL = built-in), copied: the
 * runs dispatched from now on get it, runs in progress keep theirs.
 * Returns 0, or -ENOMEM with the previous PATH still in force. */
int scheduler_set_default_path(struct scheduler *s, const char *path);
/* The same for tickd.conf's sendmail (batch_manager_set_sendmail()). */
int scheduler_set_sendmail(struct scheduler *s, const char *path);
/* tickd.conf's pam= for the runs dispatched from now on. */
void scheduler_set_pam(struct scheduler *s, bool pam);

/* Runs JOB now (tickctl run), under its overlap policy. -ENOENT if unknown. */
int scheduler_run_now(struct scheduler *s, const char *job);

/* The same, and names the run (RUN_ID, also when it has to wait): returns
 * SCHEDULER_RUN_STARTED, SCHEDULER_RUN_QUEUED (overlap = queue/replace:
 * behind the running run), SCHEDULER_RUN_WAITING (for a max_concurrent
 * slot), 0 when it was skipped (overlap = skip, or a run is already
 * queued), or a negative errno (-ENOENT, -ESHUTDOWN). */
enum { SCHEDULER_RUN_STARTED = 1, SCHEDULER_RUN_QUEUED = 2, SCHEDULER_RUN_WAITING = 3 };
int scheduler_run_now_id(struct scheduler *s, const char *job, char run_id[static CONTROL_RUN_ID_MAX]);

/* tickctl cancel: drops JOB's runs that have not started (its queued run,
 * its runs waiting for a slot) with REASON, each with its `dropped`
 * record. Returns how many, or -ENOENT. */
int scheduler_drop_pending(struct scheduler *s, const char *job, const char *reason);

/* Who hears of runs besides the scheduler itself: the control socket
 * (control-daemon.h). FINISHED is told of every run that finished, or was
 * lost (outcome NULL), after its journal record and before the completion
 * policy acts on it. DROPPED is told when a run that was queued or waiting
 * (for a slot or a retry) will never start (the job was removed by a
 * reload, the scheduler stopped, no memory, its batch could not be
 * started for a minute), after its `dropped` record; REASON is a short
 * phrase. Either may be NULL; LISTENER NULL sets none. */
typedef void (*scheduler_dropped_fn)(void *userdata, const char *job, const char *run_id, const char *reason);
struct scheduler_listener {
        batch_finished_fn finished;
        scheduler_dropped_fn dropped;
        void *userdata;
};
void scheduler_set_listener(struct scheduler *s, const struct scheduler_listener *listener);

/* The next due instant (µs, CLOCK_REALTIME) and its job, for status;
 * returns false when nothing is scheduled. */
bool scheduler_next_due(const struct scheduler *s, int64_t *due_usec, const char **job);

/* The fleet fleet jobs are claimed in from now on: one that tickd.conf
 * gained on a reload, or NULL once it is freed at shutdown (runs that
 * end from then on are recorded here only). */
void scheduler_set_fleet(struct scheduler *s, struct fleet *fleet);

/* A job of the table as the metrics see it: its definition, its next
 * instant (µs, 0 = none) and the time between that one and the one after
 * (µs, 0 = none or unknown). */
struct scheduler_job_view {
        const struct job *job;
        int64_t next_usec;
        int64_t interval_usec;
};
typedef void (*scheduler_job_fn)(void *userdata, const struct scheduler_job_view *view);
/* Calls FN for every job of the table, in no particular order. */
void scheduler_foreach_job(const struct scheduler *s, scheduler_job_fn fn, void *userdata);
/* JOB's current definition, or NULL when the table has none by that name. */
const struct job *scheduler_find_job(const struct scheduler *s, const char *name);

struct batch_manager *scheduler_batches(struct scheduler *s);
/* The state directory of the options (borrowed). */
const char *scheduler_state_dir(const struct scheduler *s);

#endif
