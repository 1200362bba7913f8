/* admission.c — overlap, max_concurrent, on_failure, queued and waiting
 * runs, and batches that cannot be started; see admission.h. */
#include "tickd/admission.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-id128.h>
#include <time.h>

#include "core/cleanup.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "tickd/collector.h"

#define RETRY_FIRST_USEC (UINT64_C(1) * 1000000)
#define RETRY_MAX_USEC   (UINT64_C(16) * 1000000)

/* A run admitted and not dispatched yet: in the batch being gathered, or
 * waiting for a max_concurrent slot or for a retry. */
struct pending {
        struct admission_job *job;
        int64_t scheduled_usec;
        char run_id[CONTROL_RUN_ID_MAX];
        uint64_t failed_usec; /* CLOCK_MONOTONIC of its first failed dispatch, 0 = none */
        int error;            /* the errno of that failure */
};

/* A job's run queued behind its running one (overlap = queue/replace). */
struct admission_queued {
        int64_t scheduled_usec;
        char run_id[CONTROL_RUN_ID_MAX];
};

/* The runs admitted and not yet handed to a batch, in order. */
struct gathered {
        struct pending *runs;
        size_t n, cap;
};

struct admission {
        struct admission_options options;
        bool stopped;
        struct gathered batch;
        /* The slice being spawned: apart from BATCH, which may grow (and
         * move) while it is, since a failed fork reports its run finished
         * at once and the completion policy gathers more. */
        struct pending slice[ADMISSION_SLICE];
        struct run_request slice_requests[ADMISSION_SLICE];
        bool spawning;
        sd_event_source *next_slice; /* a one-shot defer: the gathered runs left after a slice */
        bool slicing;                /* NEXT_SLICE is armed */
        struct pending *waiting;
        size_t n_waiting, waiting_cap;
        sd_event_source *retry; /* armed while a failed batch's runs wait to be retried */
        uint64_t retry_usec;    /* the next back-off, 0 = none yet */
};

/* A run that will never start: its one final record, then the owner (the
 * scheduler: a persistent job's instant, tickctl run --wait callers). */
static void run_dropped(struct admission *a, const char *job, const char *run_id, int64_t scheduled_usec, int error,
                        const char *reason)
{
        log_emit(&(struct log_record){ .event = LOG_EVENT_DROPPED,
                                       .job = job,
                                       .run_id = run_id,
                                       .scheduled_usec = scheduled_usec,
                                       .errno_value = error },
                 "run of %s dropped before it started: %s%s%s", job, reason, error ? ": " : "",
                 error ? strerror(error) : "");
        if (a->options.dropped)
                a->options.dropped(a->options.userdata, job, run_id, scheduled_usec, reason);
}

static void pending_dropped(struct admission *a, const struct pending *p, const char *reason)
{
        run_dropped(a, p->job->job->name, p->run_id, p->scheduled_usec, p->error, reason);
}

static int gathered_reserve(struct gathered *g, size_t more)
{
        if (g->n + more <= g->cap)
                return 0;
        size_t cap = g->cap ? g->cap : 16;
        while (cap < g->n + more)
                cap *= 2;
        struct pending *runs = realloc(g->runs, cap * sizeof(*runs));
        if (!runs)
                return -ENOMEM;
        g->runs = runs;
        g->cap = cap;
        return 0;
}

static void gathered_free(struct gathered *g)
{
        free(g->runs);
        *g = (struct gathered){ 0 };
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
        gathered_free(&a->batch);
        free(a->waiting);
        sd_event_source_disable_unref(a->retry);
        sd_event_source_disable_unref(a->next_slice);
        free(a);
}

/* The overlap policy: whether a run of JOB may start while others run.
 * Queues the run when the policy says so (and cancels the running one
 * under replace). */
static bool may_start(struct admission *a, struct admission_job *j, int64_t scheduled_usec, const char *run_id)
{
        if (j->running == 0)
                return true;
        const char *name = j->job->name;
        struct log_record rec = { .job = name, .run_id = run_id, .scheduled_usec = scheduled_usec };
        switch (j->job->overlap) {
        case OVERLAP_ALLOW: return true;
        case OVERLAP_QUEUE:
        case OVERLAP_REPLACE:
                if (j->queued) {
                        rec.event = LOG_EVENT_SKIPPED;
                        rec.priority = LOG_NOTICE;
                        log_emit(&rec, "run of %s skipped: the previous run still runs and one is already queued",
                                 name);
                        return false;
                }
                j->queued = malloc(sizeof(*j->queued));
                if (!j->queued) {
                        run_dropped(a, name, run_id, scheduled_usec, ENOMEM, "no memory to queue it");
                        return false;
                }
                j->queued->scheduled_usec = scheduled_usec;
                snprintf(j->queued->run_id, sizeof(j->queued->run_id), "%s", run_id);
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

/* Makes room for N more waiting runs. */
static int waiting_reserve(struct admission *a, size_t n)
{
        if (a->n_waiting + n <= a->waiting_cap)
                return 0;
        size_t cap = a->waiting_cap ? a->waiting_cap * 2 : 16;
        while (cap < a->n_waiting + n)
                cap *= 2;
        struct pending *w = realloc(a->waiting, cap * sizeof(*w));
        if (!w)
                return -ENOMEM;
        a->waiting = w;
        a->waiting_cap = cap;
        return 0;
}

/* Past the overlap policy: into the batch being gathered, unless
 * max_concurrent holds the run back (then it waits its turn, in order). */
static enum admission_result admit(struct admission *a, struct admission_job *j, int64_t scheduled_usec,
                                   const char *run_id)
{
        const char *name = j->job->name;
        unsigned max = a->options.max_concurrent;
        struct pending p = { .job = j, .scheduled_usec = scheduled_usec };
        snprintf(p.run_id, sizeof(p.run_id), "%s", run_id);
        if (max && batch_running_count(a->options.batches) + a->batch.n >= max) {
                if (waiting_reserve(a, 1) < 0) {
                        run_dropped(a, name, run_id, scheduled_usec, ENOMEM, "no memory to wait for a slot");
                        return ADMISSION_WAITING;
                }
                a->waiting[a->n_waiting++] = p;
                j->running++; /* it counts as running for its overlap policy */
                log_emit(&(struct log_record){ .event = LOG_EVENT_DELAYED,
                                               .priority = LOG_NOTICE,
                                               .job = name,
                                               .run_id = run_id,
                                               .scheduled_usec = scheduled_usec },
                         "run of %s delayed: max_concurrent=%u runs are running", name, max);
                return ADMISSION_WAITING;
        }
        if (gathered_reserve(&a->batch, 1) < 0) {
                run_dropped(a, name, run_id, scheduled_usec, ENOMEM, "no memory to start it");
                return ADMISSION_WAITING;
        }
        a->batch.runs[a->batch.n++] = p;
        j->running++;
        return ADMISSION_ADMITTED;
}

enum admission_result admission_admit(struct admission *a, struct admission_job *j, int64_t scheduled_usec)
{
        char run_id[CONTROL_RUN_ID_MAX];
        (void)control_run_id_new(run_id); /* none: the batch names it when it starts */
        return admit(a, j, scheduled_usec, run_id);
}

enum admission_result admission_offer(struct admission *a, struct admission_job *j, int64_t scheduled_usec,
                                      const char *run_id)
{
        char id[CONTROL_RUN_ID_MAX];
        if (run_id && run_id[0])
                snprintf(id, sizeof(id), "%s", run_id);
        else
                (void)control_run_id_new(id); /* none: the batch names it when it starts */
        bool was_queued = j->queued != NULL;
        if (may_start(a, j, scheduled_usec, id))
                return admit(a, j, scheduled_usec, id);
        return was_queued || !j->queued ? ADMISSION_SKIPPED : ADMISSION_QUEUED;
}

static void waiting_drain(struct admission *a);

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        waiting_drain(userdata);
        return 0;
}

/* The next retry of runs whose batch could not be started, backing off. */
static void retry_arm(struct admission *a)
{
        a->retry_usec = !a->retry_usec                       ? RETRY_FIRST_USEC
                        : a->retry_usec * 2 > RETRY_MAX_USEC ? RETRY_MAX_USEC
                                                             : a->retry_usec * 2;
        int r;
        if (!a->options.event)
                return; /* a run that finishes still starts them */
        if (a->retry) {
                r = sd_event_source_set_time_relative(a->retry, a->retry_usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(a->retry, SD_EVENT_ONESHOT);
        } else {
                r = sd_event_add_time_relative(a->options.event, &a->retry, CLOCK_MONOTONIC, a->retry_usec, 0, on_retry,
                                               a);
        }
        if (r < 0)
                log_msg(LOG_ERR,
                        "cannot arm the retry of runs that could not start: %s; they start when a run "
                        "finishes",
                        strerror(-r));
}

/* No batch could be made for G's runs (ERROR). Each is recorded by its
 * run id and goes back to the head of the waiting runs, in order, to be
 * retried; one that has failed for ADMISSION_RETRY_LIMIT_USEC is dropped. */
static void batch_failed(struct admission *a, struct gathered *g, int error)
{
        uint64_t now = clock_now_usec(CLOCK_MONOTONIC);
        bool room = !a->stopped && waiting_reserve(a, g->n) >= 0;
        size_t k = 0;
        for (size_t i = 0; i < g->n; i++) {
                struct pending p = g->runs[i];
                const char *name = p.job->job->name;
                p.error = error;
                if (!room || (p.failed_usec && now - p.failed_usec >= ADMISSION_RETRY_LIMIT_USEC)) {
                        if (p.job->running)
                                p.job->running--;
                        pending_dropped(a, &p,
                                        a->stopped ? "tickd is stopping"
                                        : !room    ? "its batch could not be started, and no memory to retry"
                                                   : "its batch could not be started for a minute");
                        continue;
                }
                if (!p.failed_usec) {
                        p.failed_usec = now;
                        log_emit(&(struct log_record){ .event = LOG_EVENT_DELAYED,
                                                       .priority = LOG_WARNING,
                                                       .job = name,
                                                       .run_id = p.run_id,
                                                       .scheduled_usec = p.scheduled_usec,
                                                       .errno_value = error },
                                 "run of %s delayed: its batch could not be started: %s; retrying for up to a "
                                 "minute",
                                 name, strerror(error));
                }
                g->runs[k++] = p;
        }
        if (k == 0)
                return;
        memmove(a->waiting + k, a->waiting, a->n_waiting * sizeof(*a->waiting));
        memcpy(a->waiting, g->runs, k * sizeof(*g->runs));
        a->n_waiting += k;
        retry_arm(a);
}

/* Starts the first ADMISSION_SLICE gathered runs as one batch. Returns
 * the number of runs dispatched, or a negative errno (each run is then
 * recorded `delayed` and retried). */
static int slice_start(struct admission *a)
{
        size_t n = a->batch.n < ADMISSION_SLICE ? a->batch.n : ADMISSION_SLICE;
        memcpy(a->slice, a->batch.runs, n * sizeof(*a->slice));
        memmove(a->batch.runs, a->batch.runs + n, (a->batch.n - n) * sizeof(*a->batch.runs));
        a->batch.n -= n;
        for (size_t i = 0; i < n; i++) {
                const struct pending *p = &a->slice[i];
                a->slice_requests[i] = (struct run_request){ .job = p->job->job,
                                                             .scheduled_usec = p->scheduled_usec,
                                                             .failed_exit_status = -1,
                                                             .run_id = p->run_id[0] ? p->run_id : NULL };
        }
        /* A flush from the completion policy meanwhile (a fork failed)
         * leaves what it gathered to the next slice. */
        a->spawning = true;
        int r = batch_spawn(a->options.batches, a->slice_requests, n);
        a->spawning = false;
        if (r < 0) {
                batch_failed(a, &(struct gathered){ .runs = a->slice, .n = n, .cap = n }, -r);
                return r;
        }
        a->retry_usec = 0;
        for (size_t i = 0; a->options.dispatched && i < n; i++)
                a->options.dispatched(a->options.userdata, a->slice[i].job->job->name, a->slice[i].scheduled_usec);
        return r;
}

static int on_next_slice(sd_event_source *s, void *userdata);

/* Arms the next slice for the next loop iteration, so that the loop
 * (watchdog, control socket, etcd lease) is served between slices.
 * Returns false when it cannot be armed. */
static bool next_slice_arm(struct admission *a)
{
        if (!a->options.event)
                return false;
        int r = 0;
        if (!a->next_slice) {
                r = sd_event_add_defer(a->options.event, &a->next_slice, on_next_slice, a);
                /* Behind whatever else is pending: that is the point. */
                if (r >= 0)
                        r = sd_event_source_set_priority(a->next_slice, SD_EVENT_PRIORITY_IDLE);
        }
        if (r >= 0)
                r = sd_event_source_set_enabled(a->next_slice, SD_EVENT_ONESHOT);
        if (r < 0) {
                a->next_slice = sd_event_source_disable_unref(a->next_slice);
                log_msg(LOG_ERR, "cannot defer the next slice of runs: %s; starting them all now", strerror(-r));
                return false;
        }
        a->slicing = true;
        return true;
}

/* Starts a slice of the gathered runs, and arms the next one for what is
 * left (or, without a loop to come back to, starts it at once). */
static int slices_start(struct admission *a)
{
        if (a->batch.n == 0)
                return 0;
        int r = slice_start(a);
        while (a->batch.n > 0 && !a->stopped && !next_slice_arm(a))
                slice_start(a);
        return r;
}

static int on_next_slice(sd_event_source *s, void *userdata)
{
        struct admission *a = userdata;
        a->slicing = false;
        slices_start(a);
        return 0;
}

int admission_flush(struct admission *a)
{
        /* Runs gathered while slices remain go after them. */
        if (a->spawning || a->slicing)
                return 0;
        return slices_start(a);
}

/* Runs waiting for a free slot (max_concurrent) or a retry start, in order. */
static void waiting_drain(struct admission *a)
{
        if (a->stopped || a->n_waiting == 0)
                return;
        unsigned max = a->options.max_concurrent;
        /* Gathered runs not started yet hold their slots already. */
        size_t busy = batch_running_count(a->options.batches) + a->batch.n;
        size_t room = max ? (busy < max ? max - busy : 0) : a->n_waiting;
        if (room > a->n_waiting)
                room = a->n_waiting;
        if (room == 0 || gathered_reserve(&a->batch, room) < 0)
                return; /* out of memory: they keep waiting, until the next run finishes */
        memcpy(a->batch.runs + a->batch.n, a->waiting, room * sizeof(*a->waiting));
        a->batch.n += room;
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
        if (!failed || !job_extra(j->job)->on_failure)
                return;
        struct run_request req = { .job = j->job,
                                   .scheduled_usec = run->scheduled_usec,
                                   .command = job_extra(j->job)->on_failure,
                                   .failed_exit_status = failure_status(o),
                                   .run_id = run->run_id };
        int r = batch_spawn(a->options.batches, &req, 1);
        if (r < 0)
                log_emit(&(struct log_record){ .priority = LOG_ERR,
                                               .job = run->job_name,
                                               .run_id = run->run_id,
                                               .errno_value = -r,
                                               .on_failure = true },
                         "cannot start on_failure of %s: %s", run->job_name, strerror(-r));
}

static void start_queued(struct admission *a, struct admission_job *j)
{
        if (!j->queued || j->running > 0)
                return;
        struct admission_queued *q = TAKE_PTR(j->queued);
        admit(a, j, q->scheduled_usec, q->run_id);
        free(q);
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

/* Drops the runs of RUNS[0..*N) that are JOB's (every run when JOB is
 * NULL), keeping the others in order. Returns how many were dropped. */
static size_t pending_drop(struct admission *a, struct pending *runs, size_t *n, const struct admission_job *j,
                           const char *reason)
{
        size_t k = 0, dropped = 0;
        for (size_t i = 0; i < *n; i++) {
                struct pending p = runs[i];
                if (j && p.job != j) {
                        runs[k++] = p;
                        continue;
                }
                if (p.job->running)
                        p.job->running--;
                pending_dropped(a, &p, reason);
                dropped++;
        }
        *n = k;
        return dropped;
}

/* The runs of J that have not started: waiting for a slot (or a retry),
 * or gathered for a slice to come. */
static size_t job_drop_pending(struct admission *a, const struct admission_job *j, const char *reason)
{
        return pending_drop(a, a->waiting, &a->n_waiting, j, reason) +
               pending_drop(a, a->batch.runs, &a->batch.n, j, reason);
}

void admission_forget(struct admission *a, struct admission_job *j)
{
        static const char reason[] = "the job was removed by a reload";
        admission_drop_queued(a, j, reason);
        job_drop_pending(a, j, reason);
}

void admission_stop(struct admission *a)
{
        a->stopped = true;
        sd_event_source_set_enabled(a->retry, SD_EVENT_OFF);
        sd_event_source_set_enabled(a->next_slice, SD_EVENT_OFF);
        a->slicing = false;
        job_drop_pending(a, NULL, "tickd is stopping");
}

void admission_drop_queued(struct admission *a, struct admission_job *j, const char *reason)
{
        if (!j->queued)
                return;
        struct admission_queued *q = TAKE_PTR(j->queued);
        run_dropped(a, j->job->name, q->run_id, q->scheduled_usec, 0, reason);
        free(q);
}

size_t admission_cancel(struct admission *a, struct admission_job *j, const char *reason)
{
        size_t n = j->queued ? 1 : 0;
        admission_drop_queued(a, j, reason);
        return n + job_drop_pending(a, j, reason);
}
