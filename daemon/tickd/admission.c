/* admission.c — overlap, max_concurrent, on_failure, queued and waiting
 * runs; see admission.h. */
#include "tickd/admission.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/log.h"
#include "tickd/collector.h"

struct waiting {                  /* a run held back by max_concurrent */
        struct admission_job *job;
        int64_t scheduled_usec;
        char run_id[CONTROL_RUN_ID_MAX]; /* "" = a scheduled run */
};

/* The runs admitted since the last flush: one batch to be. */
struct gathered {
        struct run_request *requests;
        char (*run_ids)[CONTROL_RUN_ID_MAX];
        size_t n, cap;
};

struct admission {
        struct admission_options options;
        bool stopped;
        admission_dropped_fn dropped;
        void *dropped_userdata;
        struct gathered batch;
        struct waiting *waiting;
        size_t n_waiting, waiting_cap;
};

/* A tickctl run run that will never start: its waiter must hear of it. */
static void run_dropped(struct admission *a, const char *job, const char *run_id, const char *reason)
{
        if (a->dropped && run_id && run_id[0])
                a->dropped(a->dropped_userdata, job, run_id, reason);
}

static int gathered_reserve(struct gathered *g, size_t more)
{
        if (g->n + more <= g->cap)
                return 0;
        size_t cap = g->cap ? g->cap : 16;
        while (cap < g->n + more)
                cap *= 2;
        struct run_request *requests = realloc(g->requests, cap * sizeof(*requests));
        if (!requests)
                return -ENOMEM;
        g->requests = requests;
        char (*run_ids)[CONTROL_RUN_ID_MAX] = realloc(g->run_ids, cap * sizeof(*run_ids));
        if (!run_ids)
                return -ENOMEM;
        g->run_ids = run_ids;
        g->cap = cap;
        return 0;
}

/* Adds a run to the batch being gathered; the caller has reserved room. */
static void gathered_add(struct gathered *g, const struct job *job, int64_t scheduled_usec, const char *run_id)
{
        snprintf(g->run_ids[g->n], CONTROL_RUN_ID_MAX, "%s", run_id ? run_id : "");
        g->requests[g->n++] = (struct run_request){ .job = job, .scheduled_usec = scheduled_usec,
                                                    .failed_exit_status = -1 };
}

int admission_new(const struct admission_options *options, struct admission **out)
{
        struct admission *a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->options = *options;
        /* Room for a first run up front: tickctl run never fails for want
         * of it. */
        if (gathered_reserve(&a->batch, 1) < 0) {
                admission_free(a);
                return -ENOMEM;
        }
        *out = a;
        return 0;
}

void admission_free(struct admission *a)
{
        if (!a)
                return;
        free(a->batch.requests);
        free(a->batch.run_ids);
        free(a->waiting);
        free(a);
}

void admission_set_dropped(struct admission *a, admission_dropped_fn fn, void *userdata)
{
        a->dropped = fn;
        a->dropped_userdata = userdata;
}

/* The overlap policy: whether a run of JOB may start while others run.
 * Queues the run when the policy says so (and cancels the running one
 * under replace). */
static bool may_start(struct admission *a, struct admission_job *j, int64_t scheduled_usec)
{
        if (j->running == 0)
                return true;
        const char *name = j->job->name;
        struct log_record rec = { .job = name, .scheduled_usec = scheduled_usec };
        switch (j->job->overlap) {
        case OVERLAP_ALLOW:
                return true;
        case OVERLAP_QUEUE:
        case OVERLAP_REPLACE:
                if (j->queued) {
                        rec.event = LOG_EVENT_SKIPPED;
                        rec.priority = LOG_NOTICE;
                        log_emit(&rec, "run of %s skipped: the previous run still runs and one is already queued",
                                 name);
                        return false;
                }
                j->queued = true;
                j->queued_usec = scheduled_usec;
                if (j->job->overlap == OVERLAP_REPLACE) {
                        rec.event = LOG_EVENT_MESSAGE;
                        rec.priority = LOG_NOTICE;
                        log_emit(&rec, "replacing the running run of %s", name);
                        batch_cancel_job(a->options.batches, name);
                } else {
                        rec.event = LOG_EVENT_DELAYED;
                        rec.priority = LOG_NOTICE;
                        log_emit(&rec, "run of %s queued: the previous run still runs", name);
                }
                return false;
        case OVERLAP_SKIP:
        default:
                rec.event = LOG_EVENT_SKIPPED;
                rec.priority = LOG_NOTICE;
                log_emit(&rec, "run of %s skipped: the previous run still runs", name);
                return false;
        }
}

static bool wait_for_slot(struct admission *a, struct admission_job *j, int64_t scheduled_usec, const char *run_id)
{
        if (a->n_waiting == a->waiting_cap) {
                size_t cap = a->waiting_cap ? a->waiting_cap * 2 : 16;
                struct waiting *w = realloc(a->waiting, cap * sizeof(*w));
                if (!w)
                        return false;
                a->waiting = w;
                a->waiting_cap = cap;
        }
        a->waiting[a->n_waiting] = (struct waiting){ .job = j, .scheduled_usec = scheduled_usec };
        snprintf(a->waiting[a->n_waiting++].run_id, CONTROL_RUN_ID_MAX, "%s", run_id ? run_id : "");
        return true;
}

/* Past the overlap policy: into the batch being gathered, unless
 * max_concurrent holds the run back (then it waits its turn, in order). */
static enum admission_result admit(struct admission *a, struct admission_job *j, int64_t scheduled_usec,
                                   const char *run_id)
{
        const char *name = j->job->name;
        unsigned max = a->options.max_concurrent;
        if (max && batch_running_count(a->options.batches) + a->batch.n >= max) {
                if (!wait_for_slot(a, j, scheduled_usec, run_id)) {
                        log_msg(LOG_ERR, "out of memory: run of %s dropped", name);
                        run_dropped(a, name, run_id, "out of memory");
                        return ADMISSION_WAITING;
                }
                j->running++; /* it counts as running for its overlap policy */
                log_emit(&(struct log_record){ .event = LOG_EVENT_DELAYED, .priority = LOG_NOTICE, .job = name,
                                                .scheduled_usec = scheduled_usec },
                         "run of %s delayed: max_concurrent=%u runs are running", name, max);
                return ADMISSION_WAITING;
        }
        if (gathered_reserve(&a->batch, 1) < 0) {
                log_msg(LOG_ERR, "out of memory: run of %s dropped", name);
                run_dropped(a, name, run_id, "out of memory");
                return ADMISSION_WAITING;
        }
        gathered_add(&a->batch, j->job, scheduled_usec, run_id);
        j->running++;
        return ADMISSION_ADMITTED;
}

enum admission_result admission_admit(struct admission *a, struct admission_job *j, int64_t scheduled_usec)
{
        return admit(a, j, scheduled_usec, NULL);
}

enum admission_result admission_offer(struct admission *a, struct admission_job *j, int64_t scheduled_usec,
                                      const char *run_id)
{
        bool was_queued = j->queued;
        if (may_start(a, j, scheduled_usec))
                return admit(a, j, scheduled_usec, run_id);
        if (was_queued || !j->queued)
                return ADMISSION_SKIPPED;
        snprintf(j->queued_run_id, sizeof(j->queued_run_id), "%s", run_id ? run_id : "");
        return ADMISSION_QUEUED;
}

int admission_flush(struct admission *a)
{
        struct gathered g = a->batch;
        if (g.n == 0)
                return 0;
        /* Spawning may report a run finished at once (a fork failed), and
         * the completion policy then gathers and flushes a batch of its
         * own: this one is out of its way first. */
        a->batch = (struct gathered){ 0 };
        for (size_t i = 0; i < g.n; i++)
                g.requests[i].run_id = g.run_ids[i][0] ? g.run_ids[i] : NULL;
        int r = batch_spawn(a->options.batches, g.requests, g.n);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot start a batch of %zu runs: %s", g.n, strerror(-r));
                for (size_t i = 0; i < g.n; i++) {
                        struct admission_job *j = a->options.find(a->options.userdata, g.requests[i].job->name);
                        if (j && j->running)
                                j->running--;
                        run_dropped(a, g.requests[i].job->name, g.requests[i].run_id, "cannot start a batch");
                }
        }
        if (a->batch.requests) {
                free(g.requests);
                free(g.run_ids);
        } else {
                g.n = 0;
                a->batch = g; /* kept for the next batch */
        }
        return r;
}

/* Runs waiting for a free slot (max_concurrent) start, in order. */
static void waiting_drain(struct admission *a)
{
        if (a->stopped || a->n_waiting == 0)
                return;
        unsigned max = a->options.max_concurrent;
        size_t running = batch_running_count(a->options.batches);
        size_t room = max ? (running < max ? max - running : 0) : a->n_waiting;
        if (room > a->n_waiting)
                room = a->n_waiting;
        if (room == 0 || gathered_reserve(&a->batch, room) < 0)
                return; /* out of memory: they keep waiting, until the next run finishes */
        for (size_t i = 0; i < room; i++)
                gathered_add(&a->batch, a->waiting[i].job->job, a->waiting[i].scheduled_usec, a->waiting[i].run_id);
        memmove(a->waiting, a->waiting + room, (a->n_waiting - room) * sizeof(*a->waiting));
        a->n_waiting -= room;
        admission_flush(a);
}

static int failure_status(const struct outcome *o)
{
        if (o->status == OUTCOME_EXITED)
                return o->code;
        if (o->status == OUTCOME_SIGNALED)
                return 128 + o->signal;
        return 127;
}

/* on_failure runs in a batch of its own, under the failed run's id. */
static void start_on_failure(struct admission *a, const struct admission_job *j, const struct run *run,
                             const struct outcome *o)
{
        enum log_event end = collector_outcome_event(o);
        bool failed = end == LOG_EVENT_FAILED || end == LOG_EVENT_TIMED_OUT;
        if (!failed || !j->job->on_failure)
                return;
        struct run_request req = { .job = j->job, .scheduled_usec = run->scheduled_usec,
                                   .command = j->job->on_failure, .failed_exit_status = failure_status(o),
                                   .run_id = run->run_id };
        int r = batch_spawn(a->options.batches, &req, 1);
        if (r < 0)
                log_msg(LOG_ERR, "cannot start on_failure of %s: %s", run->job_name, strerror(-r));
}

static void start_queued(struct admission *a, struct admission_job *j)
{
        if (!j->queued || j->running > 0)
                return;
        j->queued = false;
        char run_id[CONTROL_RUN_ID_MAX];
        memcpy(run_id, j->queued_run_id, sizeof(run_id));
        j->queued_run_id[0] = '\0';
        admit(a, j, j->queued_usec, run_id);
        admission_flush(a);
}

void admission_run_finished(struct admission *a, const struct run *run, const struct outcome *o)
{
        /* An on_failure command holds no slot of its job's, only one of
         * max_concurrent. */
        if (!run->on_failure) {
                struct admission_job *j = a->options.find(a->options.userdata, run->job_name);
                if (j && j->running)
                        j->running--;
                if (a->stopped)
                        return;
                if (j) {
                        start_on_failure(a, j, run, o);
                        start_queued(a, j);
                }
        }
        waiting_drain(a);
}

void admission_set_max_concurrent(struct admission *a, unsigned max_concurrent)
{
        a->options.max_concurrent = max_concurrent;
        waiting_drain(a);
}

void admission_forget(struct admission *a, struct admission_job *j)
{
        static const char reason[] = "the job was removed by a reload";
        if (j->queued)
                run_dropped(a, j->job->name, j->queued_run_id, reason);
        size_t k = 0;
        for (size_t i = 0; i < a->n_waiting; i++)
                if (a->waiting[i].job != j)
                        a->waiting[k++] = a->waiting[i];
                else
                        run_dropped(a, j->job->name, a->waiting[i].run_id, reason);
        a->n_waiting = k;
}

void admission_stop(struct admission *a)
{
        a->stopped = true;
        for (size_t i = 0; i < a->n_waiting; i++) {
                struct admission_job *j = a->waiting[i].job;
                if (j->running)
                        j->running--;
                run_dropped(a, j->job->name, a->waiting[i].run_id, "tickd is stopping");
        }
        a->n_waiting = 0;
}

void admission_drop_queued(struct admission *a, struct admission_job *j, const char *reason)
{
        if (j->queued && j->queued_run_id[0]) {
                run_dropped(a, j->job->name, j->queued_run_id, reason);
                j->queued_run_id[0] = '\0';
        }
}
