/* admission.h — whether a due run starts, and what a finished run starts.
 *
 * The scheduler decides *when* a job is due; this module decides what
 * becomes of the run. Offered a run, it admits it into the batch being
 * gathered (admission_flush() starts that batch), makes it wait for a
 * max_concurrent slot (waiting runs start in the order they came), queues
 * it behind its job's running run (overlap = queue; replace also cancels
 * the running one) or skips it (overlap = skip, or one is queued already),
 * and logs the choice. Told of a finished run, it frees its slot, starts
 * on_failure after a failure, the queued run once its job is idle, and
 * the waiting runs the free slots have room for.
 *
 * Every run offered gets its run id here, before anything becomes of it
 * (a run named by tickctl run keeps its own), and every id ends with
 * exactly one final record: the run's outcome once it started
 * (collector.h), or a `dropped` record written here when it never will
 * (its job removed by a reload, tickd stopping, no memory, or a batch that
 * could not be started for a minute). A batch that cannot be started
 * (pipe(), memory) is not lost: each of its runs is recorded `delayed`
 * with the error and goes back to the head of the waiting runs, which are
 * retried after 1, 2, 4, 8, 16, 16... seconds (and whenever a run
 * finishes) for up to ADMISSION_RETRY_LIMIT_USEC, then dropped with that error.
 *
 * Runs gathered together start in slices of at most ADMISSION_SLICE, each
 * a batch of its own, one slice per loop iteration: forking a thousand
 * runners in one go would keep the loop (watchdog pings, the control
 * socket, a fleet node's etcd lease) from being served for seconds. The
 * runs left after a slice stay gathered, in order, ahead of any gathered
 * later, and count against max_concurrent; they are dropped like waiting
 * runs when their job is removed, cancelled or tickd stops.
 *
 * Its state per job is a struct admission_job that the scheduler's job
 * table keeps (one per job name, found again through options.find); it
 * owns the batch being gathered and the runs waiting for a slot. */
#ifndef TICKD_ADMISSION_H
#define TICKD_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/crontab.h"
#include "shared/control-protocol.h"
#include "tickd/batch.h"

struct admission;

struct admission_queued;

/* One per loaded job, so as small as it goes (issue 16: memory per loaded
 * job): the queued run's instant and id, which most jobs never have, are
 * allocated only while a run is queued. */
struct admission_job {
        const struct job *job; /* the current definition (borrowed) */
        /* overlap = queue/replace: the run waiting for the running one, or NULL */
        struct admission_queued *queued;
        /* Runs started and not finished, and runs waiting for a slot: to
         * the overlap policy, a waiting run is already running. */
        unsigned running;
};

/* The most runs forked in one loop iteration (one batch). */
#define ADMISSION_SLICE 64

/* How long the runs of a batch that cannot be started are retried. */
#define ADMISSION_RETRY_LIMIT_USEC (UINT64_C(60) * 1000000)

typedef struct admission_job *(*admission_find_fn)(void *userdata, const char *job_name);
/* A run that will never start, after its `dropped` record is written. */
typedef void (*admission_dropped_fn)(void *userdata, const char *job, const char *run_id, int64_t scheduled_usec,
                                     const char *reason);
/* The runs of a batch were dispatched (its runners forked, or their fork
 * failures recorded): each one's instant is taken care of. Called per
 * slice, as each one is dispatched. */
typedef void (*admission_dispatched_fn)(void *userdata, const char *job, int64_t scheduled_usec);

struct admission_options {
        sd_event *event;                    /* for the retry timer */
        struct batch_manager *batches;      /* borrowed; outlives the admission */
        unsigned max_concurrent;            /* 0 = unlimited */
        admission_find_fn find;             /* a job's state by name, NULL when it is gone */
        admission_dropped_fn dropped;       /* may be NULL */
        admission_dispatched_fn dispatched; /* may be NULL */
        void *userdata;
};

int admission_new(const struct admission_options *options, struct admission **out);
void admission_free(struct admission *a);

/* What became of an offered run. */
enum admission_result {
        ADMISSION_SKIPPED,  /* overlap = skip, or a run of the job is queued already */
        ADMISSION_ADMITTED, /* in the batch being gathered */
        ADMISSION_QUEUED,   /* behind its job's running run */
        ADMISSION_WAITING,  /* for a max_concurrent slot (or dropped: no memory to wait) */
};

/* Offers a run of JOB for SCHEDULED_USEC (0 = manual), named RUN_ID (NULL
 * or "" = a scheduled run, named here), under the job's overlap
 * policy and max_concurrent. Runs due together are offered one after the
 * other and then flushed, so they start in offer order, in one batch per
 * slice of ADMISSION_SLICE. */
enum admission_result admission_offer(struct admission *a, struct admission_job *job, int64_t scheduled_usec,
                                      const char *run_id);
/* The same past the overlap policy, for @reboot runs (the scheduler's
 * marker keeps those to one a boot): only max_concurrent may hold it back.
 * Returns ADMISSION_ADMITTED or ADMISSION_WAITING. */
enum admission_result admission_admit(struct admission *a, struct admission_job *job, int64_t scheduled_usec);
/* Starts the first slice of the runs gathered since the last flush, and
 * the rest one slice per loop iteration after it (at once without an
 * event loop). While slices remain, a flush starts nothing: its runs go
 * after them. Returns the number of runs started now, or a negative errno
 * when no batch could be made (each run is recorded `delayed` with the
 * error and retried, see above). */
int admission_flush(struct admission *a);

/* A run finished, or was lost (OUTCOME NULL): the completion policy. */
void admission_run_finished(struct admission *a, const struct run *run, const struct outcome *outcome);

/* tickd.conf reloaded: waiting runs the new bound has room for start. */
void admission_set_max_concurrent(struct admission *a, unsigned max_concurrent);

/* JOB leaves the table (a reload removed it): its queued run and its
 * runs waiting for a slot, a retry or their slice are dropped. */
void admission_forget(struct admission *a, struct admission_job *job);
/* Shutdown: nothing starts from now on; runs waiting for a slot, a retry
 * or their slice are dropped here, and the caller drops each job's queued run
 * with admission_drop_queued(). */
void admission_stop(struct admission *a);
void admission_drop_queued(struct admission *a, struct admission_job *job, const char *reason);
/* tickctl cancel: JOB's queued run and its runs waiting for a slot, a
 * retry or their slice are dropped with REASON, so that none starts once the running
 * ones are stopped. Returns how many were dropped. */
size_t admission_cancel(struct admission *a, struct admission_job *job, const char *reason);

#endif
