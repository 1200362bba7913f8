/* scheduler.c — job table, min-heap, one timer, dispatch; see scheduler.h. */
#include "tickd/scheduler.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <systemd/sd-id128.h>
#include <time.h>
#include <unistd.h>

#include "core/catchup.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "core/schedule.h"
#include "shared/state.h"

#define USEC_PER_SEC_I INT64_C(1000000)
#define NONE INT64_MAX

struct entry {
        struct job *job;          /* borrowed from its file */
        struct entry *hash_next;
        int64_t next_sec;         /* next scheduled instant; NONE = none */
        int64_t due_usec;         /* next_sec plus this run's random delay */
        size_t heap_index;        /* SIZE_MAX when not in the heap */
        int64_t last_sec;         /* high-water mark: never run an instant <= this again */
        unsigned running;
        bool queued;              /* overlap = queue/replace: one run waits for the running one */
        int64_t queued_usec;
        char queued_run_id[CONTROL_RUN_ID_MAX]; /* a run_now() run's id, "" = a scheduled one */
};

struct waiting {                  /* a run held back by max_concurrent */
        struct entry *entry;
        int64_t scheduled_usec;
        char run_id[CONTROL_RUN_ID_MAX]; /* as queued_run_id */
};

struct scheduler {
        struct scheduler_options options;
        sd_event *event;
        struct batch_manager *batches;
        sd_event_source *timer;
        sd_event_source *clock_watch;
        int clock_fd;
        int64_t clock_offset;     /* realtime - monotonic at the last look, µs */
        bool started;             /* scheduler_start() ran: @reboot jobs loaded later run at load */
        bool stopped;
        uint64_t random_state;

        struct crontab_file **files;
        size_t n_files;

        struct entry **buckets;   /* name -> entry, chained */
        size_t n_buckets;
        size_t n_entries;

        struct entry **heap;
        size_t heap_len, heap_cap;

        struct waiting *waiting;
        size_t n_waiting, waiting_cap;

        scheduler_dropped_fn dropped;
        void *dropped_userdata;
};

/* A run_now() run that will never start: its waiter must hear of it. */
static void run_dropped(struct scheduler *s, const char *job, const char *run_id, const char *reason)
{
        if (s->dropped && run_id && run_id[0])
                s->dropped(s->dropped_userdata, job, run_id, reason);
}

static int64_t clock_offset_now(void)
{
        return (int64_t)clock_now_usec(CLOCK_REALTIME) - (int64_t)clock_now_usec(CLOCK_MONOTONIC);
}

static uint64_t random_below(struct scheduler *s, uint64_t bound)
{
        /* xorshift64*: uniform enough for spreading load, seeded per daemon. */
        s->random_state ^= s->random_state >> 12;
        s->random_state ^= s->random_state << 25;
        s->random_state ^= s->random_state >> 27;
        uint64_t x = s->random_state * UINT64_C(2685821657736338717);
        return bound ? x % (bound + 1) : 0;
}

/* ---- name table ---- */

static size_t name_hash(const char *name)
{
        size_t h = 14695981039346656037ULL;
        for (; *name; name++)
                h = (h ^ (unsigned char)*name) * 1099511628211ULL;
        return h;
}

static struct entry *entry_find(const struct scheduler *s, const char *name)
{
        if (!s->n_buckets)
                return NULL;
        for (struct entry *e = s->buckets[name_hash(name) & (s->n_buckets - 1)]; e; e = e->hash_next)
                if (strcmp(e->job->name, name) == 0)
                        return e;
        return NULL;
}

static int table_grow(struct scheduler *s)
{
        if (s->n_entries < s->n_buckets)
                return 0;
        size_t n = s->n_buckets ? s->n_buckets * 2 : 64;
        struct entry **b = calloc(n, sizeof(*b));
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_buckets; i++)
                for (struct entry *e = s->buckets[i], *next; e; e = next) {
                        next = e->hash_next;
                        size_t k = name_hash(e->job->name) & (n - 1);
                        e->hash_next = b[k];
                        b[k] = e;
                }
        free(s->buckets);
        s->buckets = b;
        s->n_buckets = n;
        return 0;
}

static void table_unlink(struct scheduler *s, struct entry *e)
{
        for (struct entry **p = &s->buckets[name_hash(e->job->name) & (s->n_buckets - 1)]; *p; p = &(*p)->hash_next)
                if (*p == e) {
                        *p = e->hash_next;
                        s->n_entries--;
                        return;
                }
}

/* ---- heap of due instants ---- */

static void heap_set(struct scheduler *s, size_t i, struct entry *e)
{
        s->heap[i] = e;
        e->heap_index = i;
}

static void heap_up(struct scheduler *s, size_t i)
{
        struct entry *e = s->heap[i];
        while (i > 0) {
                size_t parent = (i - 1) / 2;
                if (s->heap[parent]->due_usec <= e->due_usec)
                        break;
                heap_set(s, i, s->heap[parent]);
                i = parent;
        }
        heap_set(s, i, e);
}

static void heap_down(struct scheduler *s, size_t i)
{
        struct entry *e = s->heap[i];
        for (;;) {
                size_t child = 2 * i + 1;
                if (child >= s->heap_len)
                        break;
                if (child + 1 < s->heap_len && s->heap[child + 1]->due_usec < s->heap[child]->due_usec)
                        child++;
                if (s->heap[child]->due_usec >= e->due_usec)
                        break;
                heap_set(s, i, s->heap[child]);
                i = child;
        }
        heap_set(s, i, e);
}

static void heap_remove(struct scheduler *s, struct entry *e)
{
        size_t i = e->heap_index;
        if (i == SIZE_MAX)
                return;
        e->heap_index = SIZE_MAX;
        struct entry *last = s->heap[--s->heap_len];
        if (last == e)
                return;
        heap_set(s, i, last);
        heap_up(s, i);
        heap_down(s, last->heap_index);
}

static int heap_push(struct scheduler *s, struct entry *e)
{
        if (s->heap_len == s->heap_cap) {
                size_t cap = s->heap_cap ? s->heap_cap * 2 : 64;
                struct entry **h = realloc(s->heap, cap * sizeof(*h));
                if (!h)
                        return -ENOMEM;
                s->heap = h;
                s->heap_cap = cap;
        }
        heap_set(s, s->heap_len++, e);
        heap_up(s, e->heap_index);
        return 0;
}

/* ---- timing ---- */

static void timer_rearm(struct scheduler *s)
{
        if (s->stopped || s->heap_len == 0) {
                sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
                return;
        }
        sd_event_source_set_time(s->timer, (uint64_t)s->heap[0]->due_usec);
        sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

/* Sets E's next instant to the first one strictly after AFTER_SEC (and
 * after its high-water mark), with a fresh random delay, and files it in
 * the heap. */
static void entry_schedule_after(struct scheduler *s, struct entry *e, int64_t after_sec)
{
        heap_remove(s, e);
        e->next_sec = NONE;
        if (!e->job->enabled || schedule_kind(e->job->schedule) == SCHEDULE_REBOOT)
                return;
        if (after_sec < e->last_sec)
                after_sec = e->last_sec;
        int64_t next;
        if (schedule_next(e->job->schedule, e->job->zone, after_sec, &next) < 0)
                return;
        e->next_sec = next;
        e->due_usec = next * USEC_PER_SEC_I + (int64_t)random_below(s, e->job->random_delay_usec);
        if (heap_push(s, e) < 0)
                log_msg(LOG_ERR, "out of memory: %s will not be scheduled", e->job->name);
}

/* ---- dispatch ---- */

static bool entry_may_start(struct scheduler *s, struct entry *e, int64_t scheduled_usec)
{
        if (e->running == 0)
                return true;
        struct log_record rec = { .job = e->job->name, .scheduled_usec = scheduled_usec };
        switch (e->job->overlap) {
        case OVERLAP_ALLOW:
                return true;
        case OVERLAP_QUEUE:
        case OVERLAP_REPLACE:
                if (e->queued) {
                        rec.event = LOG_EVENT_SKIPPED;
                        rec.priority = LOG_NOTICE;
                        log_emit(&rec, "run of %s skipped: the previous run still runs and one is already queued",
                                 e->job->name);
                        return false;
                }
                e->queued = true;
                e->queued_usec = scheduled_usec;
                if (e->job->overlap == OVERLAP_REPLACE) {
                        rec.event = LOG_EVENT_MESSAGE;
                        rec.priority = LOG_NOTICE;
                        log_emit(&rec, "replacing the running run of %s", e->job->name);
                        batch_cancel_job(s->batches, e->job->name);
                } else {
                        rec.event = LOG_EVENT_DELAYED;
                        rec.priority = LOG_NOTICE;
                        log_emit(&rec, "run of %s queued: the previous run still runs", e->job->name);
                }
                return false;
        case OVERLAP_SKIP:
        default:
                rec.event = LOG_EVENT_SKIPPED;
                rec.priority = LOG_NOTICE;
                log_emit(&rec, "run of %s skipped: the previous run still runs", e->job->name);
                return false;
        }
}

/* Adds E to REQUESTS unless max_concurrent holds it back (then it waits
 * its turn, in order). */
static void dispatch_add_id(struct scheduler *s, struct entry *e, int64_t scheduled_usec, const char *run_id,
                            struct run_request *requests, size_t *n)
{
        unsigned max = s->options.max_concurrent;
        if (max && batch_running_count(s->batches) + *n >= max) {
                if (s->n_waiting == s->waiting_cap) {
                        size_t cap = s->waiting_cap ? s->waiting_cap * 2 : 16;
                        struct waiting *w = realloc(s->waiting, cap * sizeof(*w));
                        if (!w) {
                                log_msg(LOG_ERR, "out of memory: run of %s dropped", e->job->name);
                                run_dropped(s, e->job->name, run_id, "out of memory");
                                return;
                        }
                        s->waiting = w;
                        s->waiting_cap = cap;
                }
                s->waiting[s->n_waiting] = (struct waiting){ .entry = e, .scheduled_usec = scheduled_usec };
                snprintf(s->waiting[s->n_waiting++].run_id, CONTROL_RUN_ID_MAX, "%s", run_id ? run_id : "");
                e->running++; /* it counts as running for its overlap policy */
                log_emit(&(struct log_record){ .event = LOG_EVENT_DELAYED, .priority = LOG_NOTICE,
                                                .job = e->job->name, .scheduled_usec = scheduled_usec },
                         "run of %s delayed: max_concurrent=%u runs are running", e->job->name, max);
                return;
        }
        requests[(*n)++] = (struct run_request){ .job = e->job, .scheduled_usec = scheduled_usec,
                                                 .failed_exit_status = -1,
                                                 .run_id = run_id && run_id[0] ? run_id : NULL };
        e->running++;
}

static void dispatch_add(struct scheduler *s, struct entry *e, int64_t scheduled_usec,
                         struct run_request *requests, size_t *n)
{
        dispatch_add_id(s, e, scheduled_usec, NULL, requests, n);
}

static int dispatch_flush(struct scheduler *s, struct run_request *requests, size_t n)
{
        if (n == 0)
                return 0;
        int r = batch_spawn(s->batches, requests, n);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot start a batch of %zu runs: %s", n, strerror(-r));
                for (size_t i = 0; i < n; i++) {
                        struct entry *e = entry_find(s, requests[i].job->name);
                        if (e && e->running)
                                e->running--;
                        run_dropped(s, requests[i].job->name, requests[i].run_id, "cannot start a batch");
                }
        }
        return r;
}

static void entry_stamp(struct scheduler *s, struct entry *e, int64_t scheduled_usec)
{
        if (!e->job->persistent)
                return;
        int r = state_stamp_write(s->options.state_dir, e->job->name, scheduled_usec);
        if (r < 0)
                log_emit(&(struct log_record){ .priority = LOG_WARNING, .job = e->job->name, .errno_value = -r },
                         "cannot write the stamp of %s in %s: %s", e->job->name, s->options.state_dir,
                         strerror(-r));
}

/* Runs waiting for a free slot (max_concurrent), in order. */
static void waiting_drain(struct scheduler *s)
{
        unsigned max = s->options.max_concurrent;
        if (s->stopped || s->n_waiting == 0)
                return;
        size_t room = max ? (batch_running_count(s->batches) < max ? max - batch_running_count(s->batches) : 0)
                          : s->n_waiting;
        if (room > s->n_waiting)
                room = s->n_waiting;
        if (room == 0)
                return;
        struct run_request requests[room];
        /* The waiting array moves before the flush: the ids move out first. */
        char (*run_ids)[CONTROL_RUN_ID_MAX] = malloc(room * CONTROL_RUN_ID_MAX);
        if (!run_ids)
                return; /* they keep waiting, until the next run finishes */
        for (size_t i = 0; i < room; i++) {
                memcpy(run_ids[i], s->waiting[i].run_id, CONTROL_RUN_ID_MAX);
                requests[i] = (struct run_request){ .job = s->waiting[i].entry->job,
                                                    .scheduled_usec = s->waiting[i].scheduled_usec,
                                                    .failed_exit_status = -1,
                                                    .run_id = run_ids[i][0] ? run_ids[i] : NULL };
        }
        memmove(s->waiting, s->waiting + room, (s->n_waiting - room) * sizeof(*s->waiting));
        s->n_waiting -= room;
        dispatch_flush(s, requests, room);
        free(run_ids);
}

/* Dispatches every job whose due time has come, once each (catchup.h
 * decides which instant it runs for and what comes next). */
static void run_due(struct scheduler *s)
{
        int64_t now = (int64_t)clock_now_usec(CLOCK_REALTIME);
        int64_t now_sec = now / USEC_PER_SEC_I;
        size_t cap = 16, n = 0;
        struct run_request *requests = malloc(cap * sizeof(*requests));
        if (!requests)
                return; /* the timer stays armed in the past: we try again at once */

        while (s->heap_len > 0 && s->heap[0]->due_usec <= now && !s->stopped) {
                struct entry *e = s->heap[0];
                struct catchup c;
                catchup_decide(&(struct catchup_job){ .schedule = e->job->schedule, .zone = e->job->zone,
                                                      .high_water_sec = e->last_sec,
                                                      .random_delay_usec = (int64_t)e->job->random_delay_usec,
                                                      .persistent = e->job->persistent },
                               e->next_sec - 1, now, &c);
                e->last_sec = c.high_water_sec;
                if (c.next_sec == CATCHUP_NONE)
                        entry_schedule_after(s, e, now_sec);
                else {
                        heap_remove(s, e);
                        e->next_sec = c.next_sec;
                        e->due_usec = c.next_sec * USEC_PER_SEC_I +
                                      (int64_t)random_below(s, e->job->random_delay_usec);
                        heap_push(s, e);
                }
                if (c.n_due == 0)
                        continue;
                if (!c.run) {
                        log_emit(&(struct log_record){ .event = LOG_EVENT_SKIPPED, .priority = LOG_NOTICE,
                                                        .job = e->job->name,
                                                        .scheduled_usec = c.scheduled_sec * USEC_PER_SEC_I },
                                 "run of %s skipped: its instant passed %llds ago (clock change or suspend) and "
                                 "it is not persistent",
                                 e->job->name, (long long)(now_sec - c.first_due_sec));
                        continue;
                }
                int64_t scheduled = c.scheduled_sec * USEC_PER_SEC_I;
                if (c.n_due > 1)
                        log_emit(&(struct log_record){ .priority = LOG_INFO, .job = e->job->name,
                                                        .scheduled_usec = scheduled },
                                 "%s: %llu missed instants run once, as the latest",
                                 e->job->name, (unsigned long long)c.n_due);
                entry_stamp(s, e, scheduled);
                if (!entry_may_start(s, e, scheduled))
                        continue;
                if (n == cap) {
                        struct run_request *r = realloc(requests, 2 * cap * sizeof(*r));
                        if (!r)
                                break;
                        requests = r;
                        cap *= 2;
                }
                dispatch_add(s, e, scheduled, requests, &n);
        }
        dispatch_flush(s, requests, n);
        free(requests);
        timer_rearm(s);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        run_due(userdata);
        return 0;
}

static int failure_status(const struct outcome *o)
{
        if (o->status == OUTCOME_EXITED)
                return o->code;
        if (o->status == OUTCOME_SIGNALED)
                return 128 + o->signal;
        return 127;
}

static void on_finished(void *userdata, const struct run *run, const struct outcome *o)
{
        struct scheduler *s = userdata;
        if (s->options.observer)
                s->options.observer(s->options.observer_userdata, run, o);
        if (run->on_failure)
                goto drain;
        struct entry *e = entry_find(s, run->job_name);
        if (e && e->running)
                e->running--;
        if (s->stopped)
                return;
        enum log_event end = batch_outcome_event(o);
        bool failed = end == LOG_EVENT_FAILED || end == LOG_EVENT_TIMED_OUT;
        if (e && failed && e->job->on_failure) {
                struct run_request req = { .job = e->job, .scheduled_usec = run->scheduled_usec,
                                           .command = e->job->on_failure,
                                           .failed_exit_status = failure_status(o), .run_id = run->run_id };
                int r = batch_spawn(s->batches, &req, 1);
                if (r < 0)
                        log_msg(LOG_ERR, "cannot start on_failure of %s: %s", run->job_name, strerror(-r));
        }
        if (e && e->queued && e->running == 0) {
                e->queued = false;
                char run_id[CONTROL_RUN_ID_MAX];
                memcpy(run_id, e->queued_run_id, sizeof(run_id));
                e->queued_run_id[0] = '\0';
                struct run_request req;
                size_t n = 0;
                dispatch_add_id(s, e, e->queued_usec, run_id, &req, &n);
                dispatch_flush(s, &req, n);
        }
drain:
        waiting_drain(s);
}

/* ---- clock changes ---- */

static int clock_watch_arm(struct scheduler *s)
{
        /* An absolute timer far in the future that exists only to be
         * cancelled: the kernel does so whenever the realtime clock is set. */
        struct itimerspec its = { .it_value = { .tv_sec = (time_t)4102444800 } }; /* 2100-01-01 */
        if (timerfd_settime(s->clock_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0)
                return -errno;
        s->clock_offset = clock_offset_now();
        return 0;
}

static int on_clock_change(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        struct scheduler *s = userdata;
        uint64_t expirations;
        (void)!read(fd, &expirations, sizeof(expirations)); /* -ECANCELED: the clock was set */
        int64_t old = s->clock_offset;
        clock_watch_arm(s);
        int64_t jump = s->clock_offset - old;
        log_emit(&(struct log_record){ .event = LOG_EVENT_CLOCK_CHANGED },
                 "the system clock was set (%c%lld.%03llds); recomputing next run times", jump < 0 ? '-' : '+',
                 (long long)(llabs(jump) / USEC_PER_SEC_I), (long long)(llabs(jump) % USEC_PER_SEC_I / 1000));
        int64_t now_sec = (int64_t)clock_now_usec(CLOCK_REALTIME) / USEC_PER_SEC_I;
        for (size_t i = 0; i < s->n_buckets; i++)
                for (struct entry *e = s->buckets[i]; e; e = e->hash_next) {
                        /* Instants now in the past are run_due()'s: once,
                         * or skipped when late. Instants still ahead are
                         * recomputed from now (never before the high-water
                         * mark, so a step backwards repeats nothing). */
                        if (e->next_sec != NONE && e->next_sec > now_sec)
                                entry_schedule_after(s, e, now_sec);
                }
        if (!s->stopped)
                run_due(s);
        timer_rearm(s);
        return 0;
}

/* An @reboot job runs once per boot: the first time it is loaded in this
 * boot (at start-up, or by a later reload), as its marker says. */
static void entry_reboot(struct scheduler *s, struct entry *e, const char *boot_id, int64_t now,
                         struct run_request *requests, size_t *n)
{
        int r = boot_id ? state_reboot_claim(s->options.runtime_dir, e->job->name, boot_id) : -ENOENT;
        if (r < 0)
                log_msg(LOG_WARNING, "@reboot job %s: cannot keep its marker in %s: %s", e->job->name,
                        s->options.runtime_dir, strerror(-r));
        if (r != 0)
                dispatch_add(s, e, now, requests, n);
}

/* ---- the table ---- */

static struct entry *entry_new(struct scheduler *s, struct job *job)
{
        if (table_grow(s) < 0)
                return NULL;
        struct entry *e = calloc(1, sizeof(*e));
        if (!e)
                return NULL;
        *e = (struct entry){ .job = job, .next_sec = NONE, .heap_index = SIZE_MAX, .last_sec = INT64_MIN };
        size_t k = name_hash(job->name) & (s->n_buckets - 1);
        e->hash_next = s->buckets[k];
        s->buckets[k] = e;
        s->n_entries++;
        /* A job re-added while an older definition still runs. */
        e->running = (unsigned)batch_running_count_job(s->batches, job->name);
        return e;
}

static void waiting_forget(struct scheduler *s, struct entry *e)
{
        size_t k = 0;
        for (size_t i = 0; i < s->n_waiting; i++)
                if (s->waiting[i].entry != e)
                        s->waiting[k++] = s->waiting[i];
                else
                        run_dropped(s, e->job->name, s->waiting[i].run_id, "the job was removed by a reload");
        s->n_waiting = k;
}

static void entry_free(struct scheduler *s, struct entry *e)
{
        if (e->queued)
                run_dropped(s, e->job->name, e->queued_run_id, "the job was removed by a reload");
        heap_remove(s, e);
        waiting_forget(s, e);
        table_unlink(s, e);
        free(e);
}

static bool same_timing(const struct job *a, const struct job *b)
{
        return strcmp(a->schedule_text, b->schedule_text) == 0 && a->zone == b->zone &&
               a->random_delay_usec == b->random_delay_usec && a->enabled == b->enabled;
}

static ssize_t file_index(const struct scheduler *s, const char *path)
{
        for (size_t i = 0; i < s->n_files; i++)
                if (strcmp(s->files[i]->path, path) == 0)
                        return (ssize_t)i;
        return -1;
}

/* @reboot jobs loaded after start-up (a reload) run now if this boot has
 * not run them yet; before start-up, scheduler_start() sees to them. */
static void scheduler_reboot_loaded(struct scheduler *s, struct entry **loaded, size_t n_loaded, int64_t now)
{
        if (!s->started || s->stopped)
                return;
        size_t k = 0;
        for (size_t i = 0; i < n_loaded; i++)
                if (loaded[i]->job->enabled && schedule_kind(loaded[i]->job->schedule) == SCHEDULE_REBOOT)
                        loaded[k++] = loaded[i];
        if (k == 0)
                return;
        char boot_id[37];
        bool have_boot_id = state_boot_id(boot_id) == 0;
        struct run_request *requests = calloc(k, sizeof(*requests));
        if (!requests) {
                log_msg(LOG_ERR, "out of memory: %zu @reboot job(s) not started", k);
                return;
        }
        size_t n = 0;
        for (size_t i = 0; i < k; i++)
                entry_reboot(s, loaded[i], have_boot_id ? boot_id : NULL, now, requests, &n);
        dispatch_flush(s, requests, n);
        free(requests);
}

int scheduler_set_file(struct scheduler *s, const char *path, struct crontab_file *file, const char **conflict)
{
        ssize_t idx = file_index(s, path);
        struct crontab_file *old = idx >= 0 ? s->files[idx] : NULL;
        if (file) {
                for (size_t i = 0; i < file->n_jobs; i++) {
                        struct entry *e = entry_find(s, file->jobs[i]->name);
                        if (e && strcmp(e->job->file, path) != 0) {
                                *conflict = file->jobs[i]->name;
                                return -EEXIST;
                        }
                }
                if (!old) {
                        struct crontab_file **f = realloc(s->files, (s->n_files + 1) * sizeof(*f));
                        if (!f)
                                return -ENOMEM;
                        s->files = f;
                }
        }
        int64_t now = (int64_t)clock_now_usec(CLOCK_REALTIME), now_sec = now / USEC_PER_SEC_I;
        /* New or retimed jobs: the @reboot ones among them may be due. */
        size_t n_reboot = 0;
        struct entry **reboot_due = calloc((file ? file->n_jobs : 0) + 1, sizeof(*reboot_due));
        if (!reboot_due)
                return -ENOMEM;
        /* Jobs that stay take their new definition and keep their timing
         * unless the timing changed; jobs gone from the file are dropped. */
        if (old)
                for (size_t i = 0; i < old->n_jobs; i++) {
                        struct entry *e = entry_find(s, old->jobs[i]->name);
                        if (!e)
                                continue;
                        struct job *replacement = NULL;
                        for (size_t j = 0; file && j < file->n_jobs; j++)
                                if (strcmp(file->jobs[j]->name, e->job->name) == 0)
                                        replacement = file->jobs[j];
                        if (!replacement) {
                                entry_free(s, e);
                                continue;
                        }
                        bool keep_timing = same_timing(e->job, replacement);
                        e->job = replacement;
                        if (!keep_timing && !s->stopped) {
                                entry_schedule_after(s, e, now_sec);
                                reboot_due[n_reboot++] = e;
                        }
                }
        for (size_t j = 0; file && j < file->n_jobs; j++) {
                if (entry_find(s, file->jobs[j]->name))
                        continue;
                struct entry *e = entry_new(s, file->jobs[j]);
                if (!e) {
                        log_msg(LOG_ERR, "out of memory: job %s not loaded", file->jobs[j]->name);
                        continue;
                }
                e->last_sec = now_sec - 1;
                if (!s->stopped) {
                        entry_schedule_after(s, e, now_sec);
                        reboot_due[n_reboot++] = e;
                }
        }
        scheduler_reboot_loaded(s, reboot_due, n_reboot, now);
        free(reboot_due);
        if (old) {
                crontab_file_free(old);
                if (file)
                        s->files[idx] = file;
                else
                        s->files[idx] = s->files[--s->n_files];
        } else if (file) {
                s->files[s->n_files++] = file;
        }
        timer_rearm(s);
        return 0;
}

const struct crontab_file *scheduler_get_file(const struct scheduler *s, const char *path)
{
        ssize_t i = file_index(s, path);
        return i >= 0 ? s->files[i] : NULL;
}

const char **scheduler_file_paths(const struct scheduler *s)
{
        const char **paths = calloc(s->n_files + 1, sizeof(*paths));
        if (!paths)
                return NULL;
        for (size_t i = 0; i < s->n_files; i++)
                paths[i] = s->files[i]->path;
        return paths;
}

size_t scheduler_job_count(const struct scheduler *s) { return s->n_entries; }
struct batch_manager *scheduler_batches(struct scheduler *s) { return s->batches; }
const char *scheduler_state_dir(const struct scheduler *s) { return s->options.state_dir; }

bool scheduler_next_due(const struct scheduler *s, int64_t *due_usec, const char **job)
{
        if (s->heap_len == 0)
                return false;
        *due_usec = s->heap[0]->due_usec;
        *job = s->heap[0]->job->name;
        return true;
}

void scheduler_set_max_concurrent(struct scheduler *s, unsigned max_concurrent)
{
        s->options.max_concurrent = max_concurrent;
        waiting_drain(s);
}

int scheduler_set_default_path(struct scheduler *s, const char *path)
{
        return batch_manager_set_default_path(s->batches, path);
}

int scheduler_run_now(struct scheduler *s, const char *name)
{
        char run_id[CONTROL_RUN_ID_MAX];
        int r = scheduler_run_now_id(s, name, run_id);
        return r == SCHEDULER_RUN_QUEUED ? 0 : r > 0 ? 1 : r;
}

int scheduler_run_now_id(struct scheduler *s, const char *name, char run_id[static CONTROL_RUN_ID_MAX])
{
        struct entry *e = entry_find(s, name);
        if (!e)
                return -ENOENT;
        if (s->stopped)
                return -ESHUTDOWN;
        /* The id is chosen here, not by the batch, so that a run which
         * has to wait can be named (and waited for) before it starts. */
        sd_id128_t id;
        int r = sd_id128_randomize(&id);
        if (r < 0)
                return r;
        sd_id128_to_string(id, run_id);
        bool was_queued = e->queued;
        if (!entry_may_start(s, e, 0)) {
                if (was_queued || !e->queued)
                        return 0;
                memcpy(e->queued_run_id, run_id, CONTROL_RUN_ID_MAX);
                return SCHEDULER_RUN_QUEUED;
        }
        struct run_request req;
        size_t n = 0;
        dispatch_add_id(s, e, 0, run_id, &req, &n);
        if (n == 0)
                return SCHEDULER_RUN_WAITING;
        r = dispatch_flush(s, &req, n);
        return r < 0 ? r : SCHEDULER_RUN_STARTED;
}

void scheduler_set_dropped(struct scheduler *s, scheduler_dropped_fn fn, void *userdata)
{
        s->dropped = fn;
        s->dropped_userdata = userdata;
}

/* ---- life cycle ---- */

int scheduler_new(const struct scheduler_options *options, struct scheduler **out)
{
        struct scheduler *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->options = *options;
        s->options.default_path = NULL; /* the batch manager keeps the copy */
        s->event = sd_event_ref(options->event);
        s->clock_fd = -1;
        sd_id128_t seed;
        if (sd_id128_randomize(&seed) < 0)
                seed.qwords[0] = clock_now_usec(CLOCK_REALTIME);
        s->random_state = seed.qwords[0] | 1;
        int r = batch_manager_new(&(struct batch_manager_options){ .event = options->event,
                                                                   .default_path = options->default_path,
                                                                   .relay_output = options->relay_output,
                                                                   .finished = on_finished,
                                                                   .userdata = s },
                                  &s->batches);
        if (r >= 0)
                r = sd_event_add_time(s->event, &s->timer, CLOCK_REALTIME, UINT64_MAX, 1, on_timer, s);
        if (r >= 0) {
                /* One microsecond of accuracy: jobs fire at their second,
                 * not up to sd-event's default 250 ms later. */
                sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
                s->clock_fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
                r = s->clock_fd < 0 ? -errno : clock_watch_arm(s);
        }
        if (r >= 0)
                r = sd_event_add_io(s->event, &s->clock_watch, s->clock_fd, EPOLLIN, on_clock_change, s);
        if (r < 0) {
                scheduler_free(s);
                return r;
        }
        *out = s;
        return 0;
}

void scheduler_free(struct scheduler *s)
{
        if (!s)
                return;
        s->stopped = true;
        batch_manager_free(s->batches); /* may call on_finished: the table must still exist */
        s->batches = NULL;
        for (size_t i = 0; i < s->n_buckets; i++)
                for (struct entry *e = s->buckets[i], *next; e; e = next) {
                        next = e->hash_next;
                        free(e);
                }
        free(s->buckets);
        for (size_t i = 0; i < s->n_files; i++)
                crontab_file_free(s->files[i]);
        free(s->files);
        free(s->heap);
        free(s->waiting);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->clock_watch);
        if (s->clock_fd >= 0)
                close(s->clock_fd);
        sd_event_unref(s->event);
        free(s);
}

int scheduler_start(struct scheduler *s)
{
        int64_t now = (int64_t)clock_now_usec(CLOCK_REALTIME);
        int64_t now_sec = now / USEC_PER_SEC_I;
        char boot_id[37];
        bool have_boot_id = state_boot_id(boot_id) == 0;
        struct run_request *requests = calloc(s->n_entries + 1, sizeof(*requests));
        size_t n = 0;
        if (!requests)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_buckets; i++)
                for (struct entry *e = s->buckets[i]; e; e = e->hash_next) {
                        if (!e->job->enabled)
                                continue;
                        if (schedule_kind(e->job->schedule) == SCHEDULE_REBOOT) {
                                entry_reboot(s, e, have_boot_id ? boot_id : NULL, now, requests, &n);
                                continue;
                        }
                        int64_t stamp;
                        if (!e->job->persistent || state_stamp_read(s->options.state_dir, e->job->name, &stamp) < 0)
                                continue;
                        int64_t missed;
                        if (schedule_next(e->job->schedule, e->job->zone, stamp / USEC_PER_SEC_I, &missed) < 0 ||
                            missed > now_sec)
                                continue;
                        /* Missed while we were down: due now; on_timer()
                         * runs it once, as the latest missed instant. */
                        heap_remove(s, e);
                        e->last_sec = stamp / USEC_PER_SEC_I;
                        e->next_sec = missed;
                        e->due_usec = now;
                        heap_push(s, e);
                }
        dispatch_flush(s, requests, n);
        free(requests);
        s->started = true;
        timer_rearm(s);
        return 0;
}

void scheduler_stop(struct scheduler *s)
{
        s->stopped = true;
        for (size_t i = 0; i < s->n_waiting; i++) {
                if (s->waiting[i].entry->running)
                        s->waiting[i].entry->running--;
                run_dropped(s, s->waiting[i].entry->job->name, s->waiting[i].run_id, "tickd is stopping");
        }
        s->n_waiting = 0;
        for (size_t i = 0; i < s->n_buckets; i++)
                for (struct entry *e = s->buckets[i]; e; e = e->hash_next)
                        if (e->queued && e->queued_run_id[0]) {
                                run_dropped(s, e->job->name, e->queued_run_id, "tickd is stopping");
                                e->queued_run_id[0] = '\0';
                        }
        timer_rearm(s);
}
