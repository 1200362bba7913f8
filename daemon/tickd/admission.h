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
 * Its state per job is a struct admission_job that the scheduler's job
 * table keeps (one per job name, found again through options.find); it
 * owns the batch being gathered and the runs waiting for a slot. A run
 * named by tickctl run (a run id) that will now never start is reported
 * to the dropped function. */
#ifndef TICKD_ADMISSION_H
#define TICKD_ADMISSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/crontab.h"
#include "shared/control-protocol.h"
#include "tickd/batch.h"

struct admission;

struct admission_job {
        const struct job *job;     /* the current definition (borrowed) */
        /* Runs started and not finished, and runs waiting for a slot: to
         * the overlap policy, a waiting run is already running. */
        unsigned running;
        bool queued;               /* overlap = queue/replace: one run waits for the running one */
        int64_t queued_usec;
        char queued_run_id[CONTROL_RUN_ID_MAX]; /* "" = a scheduled run */
};

typedef struct admission_job *(*admission_find_fn)(void *userdata, const char *job_name);
typedef void (*admission_dropped_fn)(void *userdata, const char *job, const char *run_id, const char *reason);

struct admission_options {
        struct batch_manager *batches; /* borrowed; outlives the admission */
        unsigned max_concurrent;       /* 0 = unlimited */
        admission_find_fn find;        /* a job's state by name, NULL when it is gone */
        void *userdata;
};

int admission_new(const struct admission_options *options, struct admission **out);
void admission_free(struct admission *a);

/* Where dropped runs are reported (NULL: nowhere). */
void admission_set_dropped(struct admission *a, admission_dropped_fn fn, void *userdata);

/* What became of an offered run. */
enum admission_result {
        ADMISSION_SKIPPED,         /* overlap = skip, or a run of the job is queued already */
        ADMISSION_ADMITTED,        /* in the batch being gathered */
        ADMISSION_QUEUED,          /* behind its job's running run */
        ADMISSION_WAITING,         /* for a max_concurrent slot (or dropped: no memory to wait) */
};

/* Offers a run of JOB for SCHEDULED_USEC (0 = manual), named RUN_ID (NULL
 * or "" = a scheduled run, named when it starts), under the job's overlap
 * policy and max_concurrent. Runs due together are offered one after the
 * other and then flushed, so they start as one batch, in offer order. */
enum admission_result admission_offer(struct admission *a, struct admission_job *job, int64_t scheduled_usec,
                                      const char *run_id);
/* The same past the overlap policy, for @reboot runs (the scheduler's
 * marker keeps those to one a boot): only max_concurrent may hold it back.
 * Returns ADMISSION_ADMITTED or ADMISSION_WAITING. */
enum admission_result admission_admit(struct admission *a, struct admission_job *job, int64_t scheduled_usec);
/* Starts the batch gathered since the last flush. Returns the number of
 * runs started, or a negative errno when no batch could be made (logged;
 * the runs are dropped). */
int admission_flush(struct admission *a);

/* A run finished, or was lost (OUTCOME NULL): the completion policy. */
void admission_run_finished(struct admission *a, const struct run *run, const struct outcome *outcome);

/* tickd.conf reloaded: waiting runs the new bound has room for start. */
void admission_set_max_concurrent(struct admission *a, unsigned max_concurrent);

/* JOB leaves the table (a reload removed it): its queued run and its
 * runs waiting for a slot are dropped. */
void admission_forget(struct admission *a, struct admission_job *job);
/* Shutdown: nothing starts from now on; runs waiting for a slot are
 * dropped here, and the caller drops each job's queued run with
 * admission_drop_queued(). */
void admission_stop(struct admission *a);
void admission_drop_queued(struct admission *a, struct admission_job *job, const char *reason);

#endif
