/* scheduler.c — job table, timer queue, one timer, clock changes; the
 * fate of each due run is admission.c's. See scheduler.h. */
#include "tickd/scheduler.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <systemd/sd-id128.h>
#include <time.h>
#include <unistd.h>

#include "core/catchup.h"
#include "core/fnv.h"
#include "core/heap.h"
#include "shared/clock.h"
#include "core/schedule.h"
#include "shared/log.h"
#include "shared/state.h"
#include "tickd/admission.h"
#include "tickd/collector.h"
#include "tickd/orphans.h"

#define USEC_PER_SEC_I INT64_C(1000000)
#define NONE           INT64_MAX
/* The runners of an instant's batch are forked this long ahead of it
 * (batch_prepare(): issue 16's first start), for at most PREPARE_MAX of
 * its runs, and only when the lead is still ahead when the timer is armed. */
#define PREPARE_LEAD_USEC INT64_C(50000)
#define PREPARE_MAX       ADMISSION_SLICE

/* One per loaded job: 64 bytes (issue 16: memory per loaded job). Its
 * job is admission.job (borrowed from its file). */
struct entry {
        struct heap_node node; /* first: a heap node is its entry; due = next_sec plus this run's random delay */
        struct entry *hash_next;
        int64_t next_sec;               /* next scheduled instant; NONE = none */
        int64_t last_sec;               /* high-water mark: never run an instant <= this again */
        struct admission_job admission; /* its runs: running, queued (admission.h) */
};
_Static_assert(sizeof(struct entry) == 64, "a loaded job's scheduler entry is 64 bytes (issue 16)");

#define ENTRY_BLOCK 63 /* a block is just under 4 KiB */
struct entry_block {
        struct entry_block *next;
        struct entry entries[ENTRY_BLOCK];
};

struct scheduler {
        struct scheduler_options options;
        sd_event *event;
        struct batch_manager *batches;
        sd_event_source *timer;
        sd_event_source *lead; /* PREPARE_LEAD_USEC before the timer */
        sd_event_source *clock_watch;
        int clock_fd;
        int64_t clock_offset; /* realtime - monotonic at the last look, µs */
        bool started;         /* scheduler_start() ran: @reboot jobs loaded later run at load */
        bool stopped;
        uint64_t random_state;

        struct crontab_file **files;
        size_t n_files;

        struct entry **buckets; /* name -> entry, chained */
        size_t n_buckets;
        size_t n_entries;
        /* Entries come from blocks of ENTRY_BLOCK (a malloc chunk each
         * would add 16 bytes a job); a free one is on FREE_ENTRIES, linked
         * through hash_next. Blocks last as long as the scheduler, so the
         * most jobs ever loaded at once set what they hold. */
        struct entry_block *entry_blocks;
        struct entry *free_entries;

        struct heap heap; /* entries by (due, load order) */
        struct state_writes stamp_writes;
        struct admission *admission;
        sd_event_source *flush; /* runs that fleet claims let through start together */
        struct scheduler_listener listener;
};

static struct entry *entry_of(struct heap_node *node)
{
        return (struct entry *)node; /* the node is an entry's first member */
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

static size_t name_hash(const char *name) { return (size_t)fnv1a_string(FNV1A_OFFSET, name); }

static struct entry *entry_find(const struct scheduler *s, const char *name)
{
        if (!s->n_buckets)
                return NULL;
        for (struct entry *e = s->buckets[name_hash(name) & (s->n_buckets - 1)]; e; e = e->hash_next)
                if (strcmp(e->admission.job->name, name) == 0)
                        return e;
        return NULL;
}

/* Buckets for at least WANT entries: a power of two above half of it,
 * so chains average at most two entries: a name is looked up per run
 * event, reload or request, where a second strcmp() is nothing next to a
 * fork, and a bucket per entry cost 13 bytes a loaded job (issue 16). */
static int table_reserve(struct scheduler *s, size_t want)
{
        size_t n = s->n_buckets ? s->n_buckets : 64;
        while (2 * n <= want)
                n *= 2;
        if (n == s->n_buckets)
                return 0;
        struct entry **b = calloc(n, sizeof(*b));
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_buckets; i++)
                for (struct entry *e = s->buckets[i], *next; e; e = next) {
                        next = e->hash_next;
                        size_t k = name_hash(e->admission.job->name) & (n - 1);
                        e->hash_next = b[k];
                        b[k] = e;
                }
        free(s->buckets);
        s->buckets = b;
        s->n_buckets = n;
        return 0;
}

static int table_grow(struct scheduler *s) { return table_reserve(s, s->n_entries + 1); }

static void table_unlink(struct scheduler *s, struct entry *e)
{
        for (struct entry **p = &s->buckets[name_hash(e->admission.job->name) & (s->n_buckets - 1)]; *p;
             p = &(*p)->hash_next)
                if (*p == e) {
                        *p = e->hash_next;
                        s->n_entries--;
                        return;
                }
}

/* ---- timing ---- */

static void timer_rearm(struct scheduler *s)
{
        const struct heap_node *top = heap_top(&s->heap);
        if (s->stopped || !top) {
                sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
                sd_event_source_set_enabled(s->lead, SD_EVENT_OFF);
                return;
        }
        sd_event_source_set_time(s->timer, (uint64_t)top->due);
        sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        int64_t lead_at = top->due - PREPARE_LEAD_USEC;
        if (lead_at > (int64_t)clock_now_usec(CLOCK_REALTIME)) {
                sd_event_source_set_time(s->lead, (uint64_t)lead_at);
                sd_event_source_set_enabled(s->lead, SD_EVENT_ONESHOT);
        } else
                sd_event_source_set_enabled(s->lead, SD_EVENT_OFF);
}

/* Whether E's next run can be prepared ahead: a run of the scheduler's
 * own that admission will most likely start (nothing of the job running
 * or queued, not a fleet job's, whose claim decides). A guess: what
 * admission then refuses is dropped unstarted (batch.h). */
static bool entry_preparable(const struct scheduler *s, const struct entry *e)
{
        const struct job *job = e->admission.job;
        return job->enabled && e->next_sec != NONE && e->admission.running == 0 && !e->admission.queued &&
               !(s->options.fleet && job->scope == JOB_SCOPE_FLEET);
}

/* The first PREPARE_MAX entries due at one instant in load order (the
 * heap's sequence), which is the order admission starts them in: the
 * runners forked ahead prepare the instant's first slice. */
struct prepare_set {
        const struct entry *entries[PREPARE_MAX];
        size_t n;
};

static void prepare_add(struct prepare_set *set, const struct entry *e)
{
        size_t i = set->n;
        if (set->n == PREPARE_MAX) {
                if (e->node.seq >= set->entries[PREPARE_MAX - 1]->node.seq)
                        return;
                i = PREPARE_MAX - 1;
        } else
                set->n++;
        for (; i > 0 && set->entries[i - 1]->node.seq > e->node.seq; i--)
                set->entries[i] = set->entries[i - 1];
        set->entries[i] = e;
}

/* The entries due at DUE below heap node I (the top's equals: a heap keeps
 * them in the subtree of nodes due then). */
static void prepare_collect(const struct scheduler *s, size_t i, int64_t due, struct prepare_set *set)
{
        if (i >= s->heap.len || s->heap.nodes[i]->due != due)
                return;
        const struct entry *e = entry_of(s->heap.nodes[i]);
        if (entry_preparable(s, e))
                prepare_add(set, e);
        prepare_collect(s, 2 * i + 1, due, set);
        prepare_collect(s, 2 * i + 2, due, set);
}

static int on_lead(sd_event_source *source, uint64_t usec, void *userdata)
{
        struct scheduler *s = userdata;
        const struct heap_node *top = heap_top(&s->heap);
        if (s->stopped || !top)
                return 0;
        struct prepare_set set = { .n = 0 };
        prepare_collect(s, 0, top->due, &set);
        struct run_request requests[PREPARE_MAX];
        for (size_t i = 0; i < set.n; i++)
                requests[i] = (struct run_request){ .job = set.entries[i]->admission.job,
                                                    .scheduled_usec = set.entries[i]->next_sec * USEC_PER_SEC_I,
                                                    .failed_exit_status = -1 };
        (void)batch_prepare(s->batches, requests, set.n); /* failed: the instant forks as it always did */
        return 0;
}

/* Files E in the heap for NEXT_SEC plus a fresh random delay. An entry
 * already there keeps its sequence: jobs due at the same instant start in
 * the order they were loaded, however often they were re-armed. */
static void entry_arm(struct scheduler *s, struct entry *e, int64_t next_sec)
{
        e->next_sec = next_sec;
        int64_t due =
                next_sec * USEC_PER_SEC_I + (int64_t)random_below(s, job_extra(e->admission.job)->random_delay_usec);
        if (heap_set(&s->heap, &e->node, due) < 0)
                log_msg(LOG_ERR, "out of memory: %s will not be scheduled", e->admission.job->name);
}

/* Sets E's next instant to the first one strictly after AFTER_SEC (and
 * after its high-water mark), or takes it out of the heap when it has
 * none. */
static void entry_schedule_after(struct scheduler *s, struct entry *e, int64_t after_sec)
{
        int64_t next;
        if (after_sec < e->last_sec)
                after_sec = e->last_sec;
        if (!e->admission.job->enabled || schedule_kind(e->admission.job->schedule) == SCHEDULE_REBOOT ||
            schedule_next(e->admission.job->schedule, e->admission.job->zone, after_sec, &next) < 0) {
                heap_remove(&s->heap, &e->node);
                e->next_sec = NONE;
                return;
        }
        entry_arm(s, e, next);
}

/* ---- dispatch ---- */

static void entry_stamp(struct scheduler *s, struct entry *e, int64_t usec)
{
        int r = state_stamp_write(s->options.state_dir, e->admission.job->name, usec);
        state_writes_report(&s->stamp_writes, "the stamps of persistent jobs", s->options.state_dir, r);
}

/* Whether the stamp rules apply to a run of E for SCHEDULED_USEC: a
 * persistent job's scheduled instant (not a run by hand, not @reboot). */
static bool entry_stamped(const struct entry *e, int64_t scheduled_usec)
{
        return e && e->admission.job->persistent && scheduled_usec > 0 &&
               schedule_kind(e->admission.job->schedule) != SCHEDULE_REBOOT;
}

/* A persistent job's instant is stamped when its run is dispatched, not
 * when it falls due: a run that waits for a slot (or a retry) and never
 * starts leaves the stamp before its instant, so the next start makes it
 * up (entry_catch_up()). */
static void on_dispatched(void *userdata, const char *job, int64_t scheduled_usec)
{
        struct scheduler *s = userdata;
        struct entry *e = entry_find(s, job);
        if (entry_stamped(e, scheduled_usec))
                entry_stamp(s, e, scheduled_usec);
        if (s->options.fleet)
                fleet_run_dispatched(s->options.fleet, job, scheduled_usec);
}

/* A run that will never start. At shutdown, a persistent job's instant
 * is left for the next start to make up: a job that has no stamp yet gets
 * one just before that instant, which entry_catch_up() reads as missed
 * (an older stamp says so already). */
static void on_dropped(void *userdata, const char *job, const char *run_id, int64_t scheduled_usec, const char *reason)
{
        struct scheduler *s = userdata;
        struct entry *e = entry_find(s, job);
        int64_t stamp;
        if (s->stopped && entry_stamped(e, scheduled_usec) &&
            state_stamp_read(s->options.state_dir, job, &stamp) == -ENOENT)
                entry_stamp(s, e, scheduled_usec - USEC_PER_SEC_I);
        if (s->options.fleet)
                fleet_run_ended(s->options.fleet, run_id, LOG_EVENT_DROPPED, reason);
        if (s->listener.dropped)
                s->listener.dropped(s->listener.userdata, job, run_id, reason);
}

/* ---- fleet jobs: claimed first ---- */

static int on_flush(sd_event_source *source, void *userdata)
{
        admission_flush(((struct scheduler *)userdata)->admission);
        return 0;
}

/* What a claim decided. The job may have gone meanwhile (a reload): a
 * run claimed for it never starts. */
static void on_claimed(void *userdata, const struct fleet_claim_result *c)
{
        struct scheduler *s = userdata;
        struct entry *e = entry_find(s, c->job);
        bool runs_here = c->verdict == FLEET_RUN || c->verdict == FLEET_RUN_LOCALLY;
        if (runs_here && (!e || s->stopped)) {
                const char *reason = e ? "tickd is stopping" : "its job was removed by a reload";
                log_emit(&(struct log_record){ .event = LOG_EVENT_DROPPED,
                                               .job = c->job,
                                               .run_id = c->run_id,
                                               .scheduled_usec = c->scheduled_usec,
                                               .reason = reason },
                         "run of %s dropped: %s", c->job, reason);
                fleet_run_ended(s->options.fleet, c->run_id, LOG_EVENT_DROPPED, reason);
                return;
        }
        if (!e || c->verdict == FLEET_CANCELLED)
                return; /* cancelled: tickd stops; a persistent job's instant is made up at the next start */
        if (!runs_here) {
                on_dispatched(s, c->job, c->scheduled_usec); /* the instant is taken care of */
                return;
        }
        if (admission_offer(s->admission, &e->admission, c->scheduled_usec, c->run_id) == ADMISSION_SKIPPED)
                fleet_run_ended(s->options.fleet, c->run_id, LOG_EVENT_SKIPPED, "a run of it is still going on here");
        sd_event_source_set_enabled(s->flush, SD_EVENT_ONESHOT);
}

static void entry_offer(struct scheduler *s, struct entry *e, int64_t scheduled)
{
        if (!s->options.fleet || e->admission.job->scope != JOB_SCOPE_FLEET) {
                /* Under the name the runners forked ahead gave it, if they
                 * did: that is how the batch finds it there. */
                admission_offer(s->admission, &e->admission, scheduled,
                                batch_prepared_run_id_of(s->batches, e->admission.job, scheduled));
                return;
        }
        char run_id[CONTROL_RUN_ID_MAX];
        if (control_run_id_new(run_id) < 0 ||
            fleet_claim(s->options.fleet, e->admission.job, scheduled, run_id, on_claimed, s) < 0)
                log_emit(&(struct log_record){ .event = LOG_EVENT_SKIPPED,
                                               .priority = LOG_ERR,
                                               .job = e->admission.job->name,
                                               .scheduled_usec = scheduled,
                                               .reason = "no memory to claim it" },
                         "run of %s skipped: no memory to claim it in the fleet", e->admission.job->name);
}

/* Dispatches every job whose due time has come, once each (catchup.h
 * decides which instant it runs for and what comes next). */
static void run_due(struct scheduler *s)
{
        int64_t now = (int64_t)clock_now_usec(CLOCK_REALTIME);
        int64_t now_sec = now / USEC_PER_SEC_I;
        struct heap_node *top;
        while ((top = heap_top(&s->heap)) && top->due <= now && !s->stopped) {
                struct entry *e = entry_of(top);
                struct catchup c;
                catchup_decide(&(struct catchup_job){ .schedule = e->admission.job->schedule,
                                                      .zone = e->admission.job->zone,
                                                      .high_water_sec = e->last_sec,
                                                      .random_delay_usec =
                                                              (int64_t)job_extra(e->admission.job)->random_delay_usec,
                                                      .persistent = e->admission.job->persistent },
                               e->next_sec - 1, now, &c);
                e->last_sec = c.high_water_sec;
                if (c.next_sec == CATCHUP_NONE)
                        entry_schedule_after(s, e, now_sec);
                else
                        entry_arm(s, e, c.next_sec);
                if (c.n_due == 0)
                        continue;
                if (!c.run) {
                        log_emit(&(struct log_record){ .event = LOG_EVENT_SKIPPED,
                                                       .priority = LOG_NOTICE,
                                                       .job = e->admission.job->name,
                                                       .scheduled_usec = c.scheduled_sec * USEC_PER_SEC_I },
                                 "run of %s skipped: its instant passed %llds ago (clock change or suspend) and "
                                 "it is not persistent",
                                 e->admission.job->name, (long long)(now_sec - c.first_due_sec));
                        continue;
                }
                int64_t scheduled = c.scheduled_sec * USEC_PER_SEC_I;
                if (c.n_due > 1)
                        log_emit(&(struct log_record){ .priority = LOG_INFO,
                                                       .job = e->admission.job->name,
                                                       .scheduled_usec = scheduled },
                                 "%s: %llu missed instants run once, as the latest", e->admission.job->name,
                                 (unsigned long long)c.n_due);
                entry_offer(s, e, scheduled);
        }
        admission_flush(s->admission);
        /* Its instant is past: what the batch did not take never starts. */
        batch_prepare_drop(s->batches);
        timer_rearm(s);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        run_due(userdata);
        return 0;
}

/* A run finished, or was lost (OUTCOME NULL). This is where its outcome
 * goes once the collector has written its journal record (collector.h):
 * first to the listener (control: the job's last outcome, RunJob(wait)
 * callers), then to the completion policy (admission.h), which may start
 * on_failure, the queued run or runs waiting for a slot. */
static void on_run_finished(void *userdata, const struct run *run, const struct outcome *o)
{
        struct scheduler *s = userdata;
        if (s->listener.finished)
                s->listener.finished(s->listener.userdata, run, o);
        if (s->options.fleet && !run->on_failure)
                fleet_run_finished(s->options.fleet, run->run_id, collector_outcome_event(o), o);
        admission_run_finished(s->admission, run, o);
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
        batch_prepare_drop(s->batches); /* prepared for an instant that moved */
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
static void entry_reboot(struct scheduler *s, struct entry *e, const char *boot_id, int64_t now)
{
        int r = boot_id ? state_reboot_claim(s->options.runtime_dir, e->admission.job->name, boot_id) : -ENOENT;
        if (r < 0)
                log_msg(LOG_WARNING, "@reboot job %s: cannot keep its marker in %s: %s", e->admission.job->name,
                        s->options.runtime_dir, strerror(-r));
        if (r != 0)
                admission_admit(s->admission, &e->admission, now);
}

/* ---- the table ---- */

static struct entry *entry_alloc(struct scheduler *s)
{
        if (!s->free_entries) {
                struct entry_block *b = malloc(sizeof(*b));
                if (!b)
                        return NULL;
                b->next = s->entry_blocks;
                s->entry_blocks = b;
                for (size_t i = ENTRY_BLOCK; i-- > 0;) {
                        b->entries[i].hash_next = s->free_entries;
                        s->free_entries = &b->entries[i];
                }
        }
        struct entry *e = s->free_entries;
        s->free_entries = e->hash_next;
        return e;
}

static struct entry *entry_new(struct scheduler *s, struct job *job)
{
        if (table_grow(s) < 0)
                return NULL;
        struct entry *e = entry_alloc(s);
        if (!e)
                return NULL;
        *e = (struct entry){
                .node = HEAP_NODE_INIT, .next_sec = NONE, .last_sec = INT64_MIN, .admission = { .job = job }
        };
        size_t k = name_hash(job->name) & (s->n_buckets - 1);
        e->hash_next = s->buckets[k];
        s->buckets[k] = e;
        s->n_entries++;
        /* A job re-added while an older definition still runs. */
        e->admission.running = (unsigned)batch_running_count_job(s->batches, job->name);
        return e;
}

static struct admission_job *admission_job_find(void *userdata, const char *name)
{
        struct entry *e = entry_find(userdata, name);
        return e ? &e->admission : NULL;
}

static void entry_free(struct scheduler *s, struct entry *e)
{
        admission_forget(s->admission, &e->admission);
        heap_remove(&s->heap, &e->node);
        table_unlink(s, e);
        e->hash_next = s->free_entries;
        s->free_entries = e;
}

static bool same_timing(const struct job *a, const struct job *b)
{
        return strcmp(job_schedule_text(a), job_schedule_text(b)) == 0 && a->zone == b->zone &&
               job_extra(a)->random_delay_usec == job_extra(b)->random_delay_usec && a->enabled == b->enabled;
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
                if (loaded[i]->admission.job->enabled &&
                    schedule_kind(loaded[i]->admission.job->schedule) == SCHEDULE_REBOOT)
                        loaded[k++] = loaded[i];
        if (k == 0)
                return;
        char boot_id[37];
        bool have_boot_id = state_boot_id(boot_id) == 0;
        for (size_t i = 0; i < k; i++)
                entry_reboot(s, loaded[i], have_boot_id ? boot_id : NULL, now);
        admission_flush(s->admission);
}

/* The jobs of OLD, the file at this path until now: those that stay take
 * their new definition from FILE (NULL: none stay) and keep their timing
 * unless it changed; the others are dropped. Retimed ones are added to
 * RETIMED (the @reboot ones among them may be due). */
static void file_update_jobs(struct scheduler *s, const struct crontab_file *old, struct crontab_file *file,
                             int64_t now_sec, struct entry **retimed, size_t *n_retimed)
{
        for (size_t i = 0; i < old->n_jobs; i++) {
                struct entry *e = entry_find(s, old->jobs[i]->name);
                if (!e)
                        continue;
                struct job *replacement = NULL;
                for (size_t j = 0; file && j < file->n_jobs; j++)
                        if (strcmp(file->jobs[j]->name, e->admission.job->name) == 0)
                                replacement = file->jobs[j];
                if (!replacement) {
                        entry_free(s, e);
                        continue;
                }
                bool keep_timing = same_timing(e->admission.job, replacement);
                e->admission.job = replacement;
                if (!keep_timing && !s->stopped) {
                        entry_schedule_after(s, e, now_sec);
                        retimed[(*n_retimed)++] = e;
                }
        }
}

/* The jobs of FILE not in the table yet, in file order: that is their
 * order in the heap among jobs due at the same instant. */
static void file_add_jobs(struct scheduler *s, struct crontab_file *file, int64_t now_sec, struct entry **added,
                          size_t *n_added)
{
        for (size_t j = 0; j < file->n_jobs; j++) {
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
                        added[(*n_added)++] = e;
                }
        }
}

int scheduler_set_file(struct scheduler *s, const char *path, struct crontab_file *file, const char **conflict)
{
        ssize_t idx = file_index(s, path);
        struct crontab_file *old = idx >= 0 ? s->files[idx] : NULL;
        if (file) {
                for (size_t i = 0; i < file->n_jobs; i++) {
                        struct entry *e = entry_find(s, file->jobs[i]->name);
                        if (e && strcmp(e->admission.job->file, path) != 0) {
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
        /* Runners forked ahead know the jobs by address: they may go now. */
        batch_prepare_drop(s->batches);
        int64_t now = (int64_t)clock_now_usec(CLOCK_REALTIME), now_sec = now / USEC_PER_SEC_I;
        /* New or retimed jobs: the @reboot ones among them may be due. */
        size_t n_reboot = 0;
        struct entry **reboot_due = calloc((file ? file->n_jobs : 0) + 1, sizeof(*reboot_due));
        if (!reboot_due)
                return -ENOMEM;
        if (old)
                file_update_jobs(s, old, file, now_sec, reboot_due, &n_reboot);
        if (file) {
                /* Sized once for the file: doubling one job at a time
                 * would leave the smaller arrays behind as free memory the
                 * process keeps (issue 16). Growing as needed still works. */
                (void)table_reserve(s, s->n_entries + file->n_jobs);
                (void)heap_reserve(&s->heap, heap_size(&s->heap) + file->n_jobs);
                file_add_jobs(s, file, now_sec, reboot_due, &n_reboot);
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

const struct job *scheduler_find_job(const struct scheduler *s, const char *name)
{
        const struct entry *e = entry_find(s, name);
        return e ? e->admission.job : NULL;
}

void scheduler_foreach_job(const struct scheduler *s, scheduler_job_fn fn, void *userdata)
{
        for (size_t i = 0; i < s->n_buckets; i++)
                for (const struct entry *e = s->buckets[i]; e; e = e->hash_next) {
                        struct scheduler_job_view v = { .job = e->admission.job };
                        int64_t after;
                        if (e->next_sec != NONE) {
                                v.next_usec = e->next_sec * USEC_PER_SEC_I;
                                if (schedule_next(e->admission.job->schedule, e->admission.job->zone, e->next_sec,
                                                  &after) == 0)
                                        v.interval_usec = (after - e->next_sec) * USEC_PER_SEC_I;
                        }
                        fn(userdata, &v);
                }
}
struct batch_manager *scheduler_batches(struct scheduler *s) { return s->batches; }
void scheduler_set_fleet(struct scheduler *s, struct fleet *fleet) { s->options.fleet = fleet; }
const char *scheduler_state_dir(const struct scheduler *s) { return s->options.state_dir; }

bool scheduler_next_due(const struct scheduler *s, int64_t *due_usec, const char **job)
{
        struct heap_node *top = heap_top(&s->heap);
        if (!top)
                return false;
        *due_usec = top->due;
        *job = entry_of(top)->admission.job->name;
        return true;
}

void scheduler_set_max_concurrent(struct scheduler *s, unsigned max_concurrent)
{
        s->options.max_concurrent = max_concurrent;
        admission_set_max_concurrent(s->admission, max_concurrent);
}

int scheduler_set_default_path(struct scheduler *s, const char *path)
{
        return batch_manager_set_default_path(s->batches, path);
}

int scheduler_set_sendmail(struct scheduler *s, const char *path)
{
        return batch_manager_set_sendmail(s->batches, path);
}

void scheduler_set_pam(struct scheduler *s, bool pam) { batch_manager_set_pam(s->batches, pam); }

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
        int r = control_run_id_new(run_id);
        if (r < 0)
                return r;
        switch (admission_offer(s->admission, &e->admission, 0, run_id)) {
        case ADMISSION_ADMITTED: r = admission_flush(s->admission); return r < 0 ? r : SCHEDULER_RUN_STARTED;
        case ADMISSION_QUEUED: return SCHEDULER_RUN_QUEUED;
        case ADMISSION_WAITING: return SCHEDULER_RUN_WAITING;
        case ADMISSION_SKIPPED:
        default: return 0;
        }
}

int scheduler_drop_pending(struct scheduler *s, const char *name, const char *reason)
{
        struct entry *e = entry_find(s, name);
        if (!e)
                return -ENOENT;
        return (int)admission_cancel(s->admission, &e->admission, reason);
}

void scheduler_set_listener(struct scheduler *s, const struct scheduler_listener *listener)
{
        s->listener = listener ? *listener : (struct scheduler_listener){ 0 };
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
        char runs_dir[PATH_MAX];
        snprintf(runs_dir, sizeof(runs_dir), "%s/%s", options->state_dir, ORPHANS_DIR);
        int r = batch_manager_new(&(struct batch_manager_options){ .event = options->event,
                                                                   .default_path = options->default_path,
                                                                   .runs_dir = options->state_dir ? runs_dir : NULL,
                                                                   .relay_output = options->relay_output,
                                                                   .cgroup_dir = options->cgroup_dir,
                                                                   .pam = options->pam,
                                                                   .finished = on_run_finished,
                                                                   .userdata = s },
                                  &s->batches);
        if (r >= 0)
                r = admission_new(&(struct admission_options){ .event = s->event,
                                                               .batches = s->batches,
                                                               .max_concurrent = options->max_concurrent,
                                                               .find = admission_job_find,
                                                               .dropped = on_dropped,
                                                               .dispatched = on_dispatched,
                                                               .userdata = s },
                                  &s->admission);
        if (r >= 0)
                r = sd_event_add_defer(s->event, &s->flush, on_flush, s);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->flush, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(s->event, &s->timer, CLOCK_REALTIME, UINT64_MAX, 1, on_timer, s);
        if (r >= 0)
                r = sd_event_add_time(s->event, &s->lead, CLOCK_REALTIME, UINT64_MAX, 1000, on_lead, s);
        if (r >= 0) {
                /* One microsecond of accuracy: jobs fire at their second,
                 * not up to sd-event's default 250 ms later. */
                sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
                sd_event_source_set_enabled(s->lead, SD_EVENT_OFF);
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
        if (s->admission)
                admission_stop(s->admission); /* runs finishing below start nothing */
        batch_manager_free(s->batches);       /* may call on_run_finished: the table must still exist */
        s->batches = NULL;
        for (size_t i = 0; i < s->n_buckets; i++)
                for (struct entry *e = s->buckets[i]; e && s->admission; e = e->hash_next)
                        admission_drop_queued(s->admission, &e->admission, "tickd is stopping"); /* and freed */
        for (struct entry_block *b = s->entry_blocks, *next; b; b = next) {
                next = b->next;
                free(b);
        }
        admission_free(s->admission);
        free(s->buckets);
        for (size_t i = 0; i < s->n_files; i++)
                crontab_file_free(s->files[i]);
        free(s->files);
        heap_done(&s->heap);
        sd_event_source_disable_unref(s->timer);
        sd_event_source_disable_unref(s->lead);
        sd_event_source_disable_unref(s->flush);
        sd_event_source_disable_unref(s->clock_watch);
        if (s->clock_fd >= 0)
                close(s->clock_fd);
        sd_event_unref(s->event);
        free(s);
}

/* A persistent job that missed instants while tickd was down is due NOW;
 * run_due() runs it once, as the latest missed instant. */
static void entry_catch_up(struct scheduler *s, struct entry *e, int64_t now)
{
        int64_t stamp, missed;
        if (!e->admission.job->persistent || state_stamp_read(s->options.state_dir, e->admission.job->name, &stamp) < 0)
                return;
        if (schedule_next(e->admission.job->schedule, e->admission.job->zone, stamp / USEC_PER_SEC_I, &missed) < 0 ||
            missed > now / USEC_PER_SEC_I)
                return;
        e->last_sec = stamp / USEC_PER_SEC_I;
        e->next_sec = missed;
        if (heap_set(&s->heap, &e->node, now) < 0)
                log_msg(LOG_ERR, "out of memory: %s will not be scheduled", e->admission.job->name);
}

int scheduler_start(struct scheduler *s)
{
        int64_t now = (int64_t)clock_now_usec(CLOCK_REALTIME);
        char boot_id[37];
        bool have_boot_id = state_boot_id(boot_id) == 0;
        /* In file order, as everything due at one instant starts. */
        for (size_t f = 0; f < s->n_files; f++)
                for (size_t j = 0; j < s->files[f]->n_jobs; j++) {
                        struct entry *e = entry_find(s, s->files[f]->jobs[j]->name);
                        if (!e || !e->admission.job->enabled)
                                continue;
                        if (schedule_kind(e->admission.job->schedule) == SCHEDULE_REBOOT)
                                entry_reboot(s, e, have_boot_id ? boot_id : NULL, now);
                        else
                                entry_catch_up(s, e, now);
                }
        admission_flush(s->admission);
        s->started = true;
        timer_rearm(s);
        return 0;
}

void scheduler_stop(struct scheduler *s)
{
        s->stopped = true;
        admission_stop(s->admission);
        batch_prepare_drop(s->batches);
        for (size_t i = 0; i < s->n_buckets; i++)
                for (struct entry *e = s->buckets[i]; e; e = e->hash_next)
                        admission_drop_queued(s->admission, &e->admission, "tickd is stopping");
        timer_rearm(s);
}
