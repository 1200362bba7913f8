/* batch.h — one tick's pipe, its runners and its collector.
 *
 * Owns the invariant of docs/ARCHITECTURE.md ("The invariant everything
 * is built around"): a batch is the set of runs dispatched together. It has one pipe (O_CLOEXEC); every
 * runner holds the write end; the daemon closes its own copy as soon as the
 * last runner is forked. A batch's runners are one shared runner for its
 * simple runs plus one per PAM or mail run (runner.h); a struct run's
 * runner_pid is that of its runner, so the runs of the shared one share
 * it, and a runner that dies leaves each of its unfinished runs lost. Each batch's collector (collector.h) reads the
 * read end until EOF — which the kernel delivers exactly when the last
 * runner has exited — then reports the runs that never finished as lost,
 * by name, and frees the batch. So no batch can outlive its runners.
 *
 * batch.c spawns batches, reaps runners (a SIGCHLD source and a waitpid
 * loop; the caller must have blocked SIGCHLD), knows every open batch (age,
 * runs not yet reported) and warns once (batch-stuck) when a batch
 * outlives the deadlines of its jobs. The collector logs each run's start
 * and outcome and then tells the owner (batch_finished_fn); collector.h
 * lists everything a finished run reaches, in order.
 *
 * Restarts (fdstore.h): when the service manager offers a descriptor
 * store, every batch is stored there at dispatch (its pipe and an image of
 * its runs, kept current), and taken out when it completes. A daemon that
 * is restarted, or crashes and is restarted, leaves its runners running;
 * the next instance adopts the stored batches and records their outcomes,
 * including those written while no daemon was running. Without a store,
 * the runs' records in the state directory do the same (orphans.h): each
 * run a killed instance left becomes a batch of its own (orphan), watched
 * through its runner's pidfd. */
#ifndef TICKD_BATCH_H
#define TICKD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "core/crontab.h"
#include "shared/log.h"
#include "tickd/fdstore.h"
#include "shared/control-protocol.h"
#include "tickd/runner.h"

struct batch;
struct batch_manager;

/* One run, owned by its batch. JOB_NAME is a copy: a reload may free the
 * job while it runs, and its outcome is still recorded under its name. */
struct run {
        struct batch *batch;
        uint32_t slot;
        char *job_name;
        char *user; /* the job's user= (TICKD_USER), NULL = the daemon's */
        char run_id[CONTROL_RUN_ID_MAX];
        int64_t scheduled_usec; /* the instant it ran for (CLOCK_REALTIME), 0 = manual */
        bool on_failure;        /* an on_failure command, not the job itself */
        pid_t runner_pid;       /* 0 once reaped (or never forked); the runs of a shared runner share it */
        uint32_t runner_slot;   /* how its runner knows it (SIGRTMIN's value): SLOT, but an orphan's */
        pid_t job_pid;          /* from the STARTED record; 0 before */
        bool finished;          /* FINISHED record received, or lost */
        bool cancel_requested;
        int fork_error; /* the errno of a runner that could not be forked, 0 = none */
};

/* What to run: JOB (borrowed for the duration of batch_spawn() only). */
struct run_request {
        const struct job *job;
        int64_t scheduled_usec;
        const char *command;    /* NULL = job->command */
        int failed_exit_status; /* on_failure: the status that triggered it; -1 otherwise */
        const char *run_id;     /* on_failure: the failed run's id; NULL = a fresh one */
};

/* Called by the collector for every FINISHED record, and with OUTCOME
 * NULL for a lost run, after the outcome is logged. The run (and its
 * batch) stays valid during the call only. */
typedef void (*batch_finished_fn)(void *userdata, const struct run *run, const struct outcome *outcome);

struct batch_manager_options {
        sd_event *event;
        const char *default_path; /* PATH for jobs; NULL = built-in (copied) */
        bool relay_output;        /* job output to stderr, prefixed "JOB: " */
        const char *cgroup_dir;   /* a cgroup per run under it (cgroup.h); NULL = process groups (borrowed) */
        bool pam;                 /* tickd.conf's pam=: PAM for jobs without their own pam= */
        const char *runs_dir;     /* run records (orphans.h), made if missing; NULL = none (copied) */
        batch_finished_fn finished;
        void *userdata;
};

int batch_manager_new(const struct batch_manager_options *options, struct batch_manager **out);
/* Frees every open batch without waiting (the runners are not signalled). */
void batch_manager_free(struct batch_manager *m);

/* The name of the user the daemon runs as, looked up once by
 * batch_manager_new(); NULL when the name service did not know it. Lives
 * as long as M. */
const char *batch_manager_own_user_name(const struct batch_manager *m);

/* A new PATH for the runs dispatched from now on (NULL = built-in); the
 * manager keeps its own copy. On -ENOMEM the previous PATH stays. */
int batch_manager_set_default_path(struct batch_manager *m, const char *path);
/* The mailer for mail_to= (tickd.conf's sendmail), for the runs dispatched
 * from now on; NULL = none. The manager keeps its own copy; on -ENOMEM the
 * previous one stays. */
int batch_manager_set_sendmail(struct batch_manager *m, const char *path);
void batch_manager_set_pam(struct batch_manager *m, bool pam);

/* Dispatches the requests as one new batch: ONE runner for every run that
 * can share it, and one runner each for the runs with PAM in effect or
 * mail_to= (runner.h). Returns the number of runs dispatched (a failed
 * fork is reported as a FAILED outcome, stage "fork", for each run of
 * that runner, straight away), or a negative errno when no batch could be
 * made. */
int batch_spawn(struct batch_manager *m, const struct run_request *requests, size_t n);

/* The first start (issue 16): the runners of an instant's runs, forked
 * ahead of the instant. REQUESTS are the runs the scheduler expects then
 * (their job, and the instant as scheduled_usec; no run_id); they get the
 * runners they would get at the instant (one shared, one per PAM or mail
 * run), which name each run, prepare it (runner_main_prepared(): user
 * look-ups, PAM session, environment, output streams) and wait. The
 * scheduler offers the run under that name (batch_prepared_run_id_of());
 * the batch_spawn() that dispatches any of them at the instant (same job,
 * instant and run id) takes the runners: a go record starts each of their
 * runs it holds, and the runs they prepared that the batch does not hold
 * (skipped by the overlap policy, waiting for a slot) are dropped without
 * a record, as if never prepared (a PAM session opened for one is
 * closed). Nothing is announced or recorded before that, so a runner
 * forked ahead that is never taken costs a fork and nothing else. One
 * instant at a time: a new call drops the last. Returns the number of
 * runs prepared, or a negative errno (nothing prepared: the instant forks
 * as usual). JOBs are compared by address only: whoever frees a job drops
 * the prepared runners first (batch_prepare_drop()). */
int batch_prepare(struct batch_manager *m, const struct run_request *requests, size_t n);
/* The run id the runners forked ahead gave the run of JOB for
 * SCHEDULED_USEC, or NULL when they have no such run (or its runner
 * died). Valid until they are taken or dropped. */
const char *batch_prepared_run_id_of(const struct batch_manager *m, const struct job *job, int64_t scheduled_usec);
/* Drops the runners forked ahead, if any: they release their runs and
 * exit (a reload, a clock step, a change of tickd.conf, the instant
 * passed). */
void batch_prepare_drop(struct batch_manager *m);

/* Restart: forgets every open batch without signalling its runners or
 * waiting for them (they are not killed, and become the service manager's
 * children). Batches in the fd store stay there for the next instance. */
void batch_manager_detach(struct batch_manager *m);
/* Whether every open batch is in the fd store (so a detach loses none). */
bool batch_all_stored(const struct batch_manager *m);
/* Start-up after a restart: adopts the batches the previous instance left
 * in the fd store (named tickd-pipe-ID and tickd-runs-ID in PASSED; the
 * descriptors it takes are set to -1, the other tickd-* ones are dropped
 * from the store). Logs each adopted run; returns how many still run. */
size_t batch_manager_adopt(struct batch_manager *m, struct fdstore_passed *passed);

/* Asks a run to stop: SIGTERM to its runner when the runner serves that
 * run alone, SIGRTMIN with the run's slot when it is a batch's shared
 * runner (the runner forwards SIGTERM to the job's group and SIGKILLs it
 * after kill_grace; the runner's other runs go on). Finds runs by job
 * name; returns how many were signalled. */
size_t batch_cancel_job(struct batch_manager *m, const char *job_name);
/* Shutdown: SIGTERM every running runner (cancel: every run of it). */
void batch_cancel_all(struct batch_manager *m);
/* Shutdown, when time is up: SIGKILL every job group still running, and
 * the runners of runs that never reported their job (a shared runner
 * then takes its other runs with it: they are recorded lost). */
void batch_kill_all(struct batch_manager *m);

/* Introspection for status and tests. */
size_t batch_open_count(const struct batch_manager *m);
size_t batch_running_count(const struct batch_manager *m); /* runs not finished */
size_t batch_running_count_job(const struct batch_manager *m, const char *job_name);
/* Calls FN for every open batch: its id, age in µs and the runs not yet finished. */
typedef void (*batch_visit_fn)(void *userdata, uint64_t id, uint64_t age_usec, const struct run *const *missing,
                               size_t n_missing);
void batch_foreach(const struct batch_manager *m, batch_visit_fn fn, void *userdata);

#endif
