/* batch-internal.h — what batch.c, batch-prepare.c and collector.c
 * share: a batch and the manager as they are, the calls the collector
 * needs back, and the runners forked ahead's (batch.h is the contract for
 * everyone else). */
#ifndef TICKD_BATCH_INTERNAL_H
#define TICKD_BATCH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "shared/state.h"
#include "tickd/batch.h"
#include "tickd/runner.h"

struct image;

struct batch {
        struct batch_manager *manager;
        struct batch *prev, *next;
        uint64_t id;
        int fd;
        sd_event_source *io;
        sd_event_source *stuck;
        uint64_t created_usec; /* CLOCK_MONOTONIC */
        struct image *image;   /* mapped while the batch is in the fd store */
        size_t image_size;
        bool adopted; /* started by the previous instance: its runners are not our children */
        bool orphan;  /* one run a killed instance left (orphans.h): FD is its runner's pidfd */
        size_t n_runs;
        size_t n_finished;
        size_t buf_len;
        unsigned char buf[sizeof(struct outcome)];
        struct run runs[];
};

struct batch_manager {
        struct batch_manager_options options; /* .default_path unused: see default_path */
        sd_event *event;
        char *default_path; /* our copy; NULL = the runner's built-in PATH */
        char *sendmail;     /* our copy; NULL = none configured */
        sd_event_source *sigchld;
        struct batch *first;
        size_t n_open;
        size_t n_running;
        pid_t *children; /* runners forked and not yet reaped (only they: a subreaper's orphans are not counted) */
        struct batch_prepared *prepared; /* the runner forked ahead of the next instant, or NULL (batch-prepare.c) */
        size_t n_children, children_size;
        size_t n_stored; /* batches in the fd store (two descriptors each) */
        bool store_full_logged;
        uint64_t next_id;
        /* Who runs jobs without user=: looked up once here, at start-up,
         * so records name a user without an NSS call per run. */
        char *own_user;
        bool own_user_is_name; /* false: the uid in digits (no passwd entry) */
        /* STATE_DIR/runs (orphans.h), NULL and -1 without one. */
        char *runs_dir;
        int runs_fd;
        struct state_writes record_writes; /* the runners' records there, as their STARTED records say */
        /* Records of recorded runs that could not be removed (a read-only or
         * failing state directory): removed when a later run finishes and at
         * shutdown, so that the next instance does not record them again. */
        char **unremoved;
        size_t n_unremoved;
};

/* Who a run of JOB is recorded as (TICKD_USER): its user=, else the
 * daemon's own (looked up once), else "?". */
const char *batch_run_user(const struct batch_manager *m, const struct job *job);
/* What runner_main() needs for REQ's run, as SLOT of its batch, reporting
 * on WRITE_FD, named RUN_ID, for USER (the record's). */
struct runner_request batch_runner_request(const struct batch_manager *m, const struct run_request *req, uint32_t slot,
                                           int write_fd, const char *run_id, const char *user);
/* Whether REQ's run needs a runner of its own (runner.h): a PAM session
 * acts on the process that opens it (pam_loginuid, pam_limits), and mail
 * is sent after the job, waiting up to a minute. */
bool batch_request_needs_own_runner(const struct batch_manager *m, const struct run_request *req);
/* Forks a runner for the N runs of RUNNER_REQUESTS (runner_main(), or
 * runner_main_prepared() waiting on GO_FD when it is not -1) and counts
 * it among M's children. Returns its pid, or a negative errno. */
pid_t batch_runner_fork(struct batch_manager *m, struct runner_request *runner_requests, size_t n, int go_fd);

/* batch-prepare.c: the runners forked ahead of an instant
 * (batch_prepare()). batch_spawn() takes them when one of its requests is
 * a run they prepared: *MATCH (to free()) then holds, for each request,
 * the index of its prepared run or BATCH_UNPREPARED; M has no prepared
 * runners any more. Returns NULL (and *MATCH NULL) when none is. */
#define BATCH_UNPREPARED SIZE_MAX
struct batch_prepared *batch_prepared_take(struct batch_manager *m, const struct run_request *requests, size_t n,
                                           size_t **match);
/* Its batch pipe, for the batch that took it: P[0] the read end, P[1] the
 * daemon's write end (to fork the batch's other runners with, then close). */
void batch_prepared_pipe(const struct batch_prepared *prepared, int p[2]);
/* Gives B's runs that PREPARED prepared (MATCH) their runners and sends
 * each runner its runs' go records, then ends the word (EOF drops the
 * others) and frees PREPARED. The runs of a runner that is gone are left
 * without one, for batch_spawn() to fork one as usual. */
void batch_prepared_go(struct batch *b, struct batch_prepared *prepared, const size_t *match);
/* A runner forked ahead died (PID reaped) before its instant. */
void batch_prepared_reaped(struct batch_manager *m, pid_t pid);

/* Mirrors what changes in RUN (job pid, reaped runner, cancel, finished)
 * into its batch's image in the fd store, if it has one. */
void batch_image_sync(const struct run *run);
/* Asks RUN's runner to cancel RUN: SIGTERM to a runner of one run,
 * SIGRTMIN with RUN's slot to a shared one (runner.h). */
void batch_signal_cancel(const struct run *run);
/* Gives B a place among M's open batches (B->manager). */
void batch_link(struct batch *b);
/* Closes B's pipe, takes it out of the fd store and the manager, frees it. */
void batch_free(struct batch *b);

#endif
