/* batch-internal.h — what batch.c and collector.c share: a batch and the
 * manager as they are, and the two calls the collector needs back (batch.h
 * is the contract for everyone else). */
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
