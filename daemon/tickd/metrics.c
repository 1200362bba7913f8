/* metrics.c — run counters from the records, snapshots, the textfile;
 * see metrics.h. */
#include "tickd/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/fnv.h"
#include "core/metrics-format.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "tickd/metrics-http.h"

#define WRITE_INTERVAL_USEC (UINT64_C(1000000))

/* One job's counters and last run, on one node. */
struct job_stats {
        struct job_stats *hash_next;
        char *name;
        char *node;                /* NULL = a host job */
        struct metrics_job values; /* name and node point at the two above */
        int64_t started_usec;      /* the last `started` record since a run ended, 0 = none: a lost run's start */
        size_t slot;               /* its place in a snapshot's jobs before they are sorted (creation order) */
};

/* Memory the runners do not inherit (MADV_DONTFORK), kept from one write
 * to the next. The text (a megabyte at a thousand jobs) and the jobs of
 * the snapshot are rewritten at every write: in ordinary memory each fork
 * of a runner would share their pages, and the next write would copy
 * them again (copy-on-write faults and TLB shootdowns while runners
 * live). In the 1,000-job burst of tests/bench/bench-daemon.sh that cost
 * tickd a fifth to a third more CPU; the formatting itself is noise. */
struct private_buffer {
        void *p;
        size_t cap;
};

static int private_reserve(struct private_buffer *b, size_t size)
{
        if (size <= b->cap)
                return 0;
        size_t page = (size_t)sysconf(_SC_PAGESIZE), cap = (size + size / 2 + page - 1) / page * page;
        void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return -ENOMEM;
        if (madvise(p, cap, MADV_DONTFORK) < 0) {
                int r = -errno;
                munmap(p, cap);
                return r;
        }
        if (b->p)
                munmap(b->p, b->cap); /* its content is rewritten by the caller */
        *b = (struct private_buffer){ .p = p, .cap = cap };
        return 0;
}

static void private_free(struct private_buffer *b)
{
        if (b->p)
                munmap(b->p, b->cap);
        *b = (struct private_buffer){ 0 };
}

struct metrics {
        sd_event *event;
        int64_t start_usec;
        struct scheduler *scheduler;
        const struct reload_memory *rejected;
        char *node;
        struct job_stats **buckets;
        size_t n_buckets, n_stats;
        uint64_t reloads[_METRICS_RELOAD_MAX];
        uint64_t clock_changes;
        char *file;   /* metrics_file, NULL = none */
        char *listen; /* metrics_listen, NULL = none */
        struct metrics_http *http;
        sd_event_source *write_now;   /* idle-priority defer: after the events of this pass */
        sd_event_source *write_later; /* one-shot monotonic timer: a second after the last write */
        uint64_t last_write;          /* CLOCK_MONOTONIC µs, 0 = never */
        bool dirty;
        bool write_failed;          /* the last write failed: logged once until one succeeds */
        struct private_buffer jobs; /* the snapshot's jobs (struct metrics_job), kept from write to write */
        struct private_buffer text; /* the rendered text, likewise */
};

static size_t name_hash(const char *name, const char *node)
{
        return (size_t)fnv1a_string(fnv1a_string(FNV1A_OFFSET, name), node ? node : "");
}

static bool same_string(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

static int stats_grow(struct metrics *m)
{
        if (m->n_stats < m->n_buckets)
                return 0;
        size_t n = m->n_buckets ? m->n_buckets * 2 : 64;
        struct job_stats **b = calloc(n, sizeof(*b));
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_buckets; i++)
                for (struct job_stats *st = m->buckets[i], *next; st; st = next) {
                        next = st->hash_next;
                        size_t k = name_hash(st->name, st->node) & (n - 1);
                        st->hash_next = b[k];
                        b[k] = st;
                }
        free(m->buckets);
        m->buckets = b;
        m->n_buckets = n;
        return 0;
}

/* The stats of JOB on NODE, made when missing; NULL without memory. */
static struct job_stats *stats_get(struct metrics *m, const char *job, const char *node)
{
        if (m->n_buckets)
                for (struct job_stats *st = m->buckets[name_hash(job, node) & (m->n_buckets - 1)]; st;
                     st = st->hash_next)
                        if (strcmp(st->name, job) == 0 && same_string(st->node, node))
                                return st;
        if (stats_grow(m) < 0)
                return NULL;
        struct job_stats *st = calloc(1, sizeof(*st));
        if (!st || !(st->name = strdup(job)) || (node && !(st->node = strdup(node)))) {
                if (st)
                        free(st->name);
                free(st);
                return NULL;
        }
        st->values = (struct metrics_job){ .name = st->name, .node = st->node, .last_duration_usec = -1 };
        st->slot = m->n_stats;
        size_t k = name_hash(job, node) & (m->n_buckets - 1);
        st->hash_next = m->buckets[k];
        m->buckets[k] = st;
        m->n_stats++;
        return st;
}

static void stats_free_all(struct metrics *m)
{
        for (size_t i = 0; i < m->n_buckets; i++)
                for (struct job_stats *st = m->buckets[i], *next; st; st = next) {
                        next = st->hash_next;
                        free(st->name);
                        free(st->node);
                        free(st);
                }
        free(m->buckets);
        m->buckets = NULL;
        m->n_buckets = m->n_stats = 0;
}

/* The node a job's series carry: a fleet job's are this node's, unless
 * the record names the node that ran it (a run lost on a dead node). */
static const char *job_node(const struct metrics *m, const struct job *job, const char *recorded)
{
        if (!m->node || !job || job->scope != JOB_SCOPE_FLEET)
                return recorded;
        return recorded ? recorded : m->node;
}

static int result_of(enum log_event event)
{
        switch (event) {
        case LOG_EVENT_SUCCEEDED: return METRICS_SUCCEEDED;
        case LOG_EVENT_FAILED: return METRICS_FAILED;
        case LOG_EVENT_TIMED_OUT: return METRICS_TIMED_OUT;
        case LOG_EVENT_CANCELLED: return METRICS_CANCELLED;
        case LOG_EVENT_LOST: return METRICS_LOST;
        case LOG_EVENT_SKIPPED: return METRICS_SKIPPED;
        case LOG_EVENT_DROPPED: return METRICS_DROPPED;
        default: return -1;
        }
}

static void stats_finished(struct job_stats *st, enum metrics_result result, const struct log_record *r)
{
        struct metrics_job *v = &st->values;
        int64_t now = (int64_t)clock_now_usec(CLOCK_REALTIME);
        v->has_last = true;
        v->last_result = result;
        v->last_end_usec = now;
        v->last_duration_usec = r->has_resources ? r->duration_usec : -1;
        /* Without resources (lost) the start is the job's last `started`
         * record, if one came since its previous run ended. */
        v->last_start_usec = r->has_resources ? now - r->duration_usec : st->started_usec;
        st->started_usec = 0;
        v->last_exit_status = r->has_exit_status ? r->exit_status : -1;
        if (result == METRICS_SUCCEEDED)
                v->last_success_usec = now;
}

static void metrics_changed(struct metrics *m);

/* Every record tickd writes passes here (log_set_observer()). */
static void on_record(void *userdata, const struct log_record *r)
{
        struct metrics *m = userdata;
        if (r->event == LOG_EVENT_CLOCK_CHANGED)
                m->clock_changes++;
        if (r->event == LOG_EVENT_MESSAGE)
                return;
        metrics_changed(m);
        if (!r->job || r->on_failure)
                return;
        int result = result_of(r->event);
        if (result < 0 && r->event != LOG_EVENT_STARTED)
                return;
        const struct job *job = m->scheduler ? scheduler_find_job(m->scheduler, r->job) : NULL;
        /* A skip is this node's, whichever node's run caused it. */
        const char *node = job_node(m, job, r->event == LOG_EVENT_LOST ? r->node : NULL);
        struct job_stats *st = stats_get(m, r->job, node);
        if (!st)
                return; /* no memory: this record goes uncounted, the next may not */
        if (r->event == LOG_EVENT_STARTED) {
                st->started_usec = (int64_t)clock_now_usec(CLOCK_REALTIME);
                return;
        }
        st->values.runs[result]++;
        if (result < METRICS_FINISHED_MAX)
                stats_finished(st, (enum metrics_result)result, r);
}

/* ---- snapshots ---- */

/* A snapshot is put together in private memory (struct private_buffer)
 * only: writing to the stats themselves would copy their pages, shared
 * with every runner forked since, at every write. */
struct gather {
        struct metrics *m;
        struct metrics_snapshot *snapshot;
        struct metrics_job *jobs; /* by slot */
        size_t room;              /* slots JOBS has */
        bool failed;
};

/* The snapshot's copy of JOB's (on its node) values, made (from its
 * stats, which may be new) on first sight. */
static struct metrics_job *gather_job(struct gather *g, const char *name, const struct job *job)
{
        size_t before = g->m->n_stats;
        struct job_stats *st = stats_get(g->m, name, job_node(g->m, job, NULL));
        if (!st || st->slot >= g->room) {
                g->failed = true;
                return NULL;
        }
        if (st->slot >= before) /* new since the copy: counted from nothing */
                g->jobs[st->slot] = st->values;
        return &g->jobs[st->slot];
}

static void visit_job(void *userdata, const struct scheduler_job_view *view)
{
        struct metrics_job *v = gather_job(userdata, view->job->name, view->job);
        if (!v)
                return;
        v->loaded = true;
        v->enabled = view->job->enabled;
        v->next_usec = view->next_usec;
        v->interval_usec = view->interval_usec;
}

static void visit_batch(void *userdata, uint64_t id, uint64_t age_usec, const struct run *const *missing, size_t n)
{
        struct gather *g = userdata;
        g->snapshot->batches_open++;
        if ((int64_t)age_usec > g->snapshot->oldest_batch_age_usec)
                g->snapshot->oldest_batch_age_usec = (int64_t)age_usec;
        for (size_t i = 0; i < n; i++) {
                if (missing[i]->on_failure)
                        continue;
                const struct job *job = scheduler_find_job(g->m->scheduler, missing[i]->job_name);
                struct metrics_job *v = gather_job(g, missing[i]->job_name, job);
                if (v)
                        v->running++;
        }
}

static int job_compare(const void *a, const void *b)
{
        const struct metrics_job *x = a, *y = b;
        int c = strcmp(x->name, y->name);
        return c ? c : strcmp(x->node ? x->node : "", y->node ? y->node : "");
}

/* Every job's values, with the table's gauges (enabled, next, interval,
 * running) read now, by name into M->jobs for SNAP. Room is made for
 * the jobs the table and the batches may add to the stats. */
static int snapshot_gather(struct metrics *m, struct metrics_snapshot *snap)
{
        size_t room = m->n_stats + 1;
        if (m->scheduler)
                room += scheduler_job_count(m->scheduler) + batch_running_count(scheduler_batches(m->scheduler));
        int r = private_reserve(&m->jobs, room * sizeof(struct metrics_job));
        if (r < 0)
                return r;
        struct gather g = { .m = m, .snapshot = snap, .jobs = m->jobs.p, .room = room };
        for (size_t i = 0; i < m->n_buckets; i++)
                for (const struct job_stats *st = m->buckets[i]; st; st = st->hash_next) {
                        g.jobs[st->slot] = st->values;
                        g.jobs[st->slot].loaded = false;
                }
        if (m->scheduler) {
                scheduler_foreach_job(m->scheduler, visit_job, &g);
                batch_foreach(scheduler_batches(m->scheduler), visit_batch, &g);
                snap->jobs_loaded = scheduler_job_count(m->scheduler);
        }
        if (g.failed)
                return -ENOMEM;
        qsort(g.jobs, m->n_stats, sizeof(*g.jobs), job_compare);
        snap->jobs = g.jobs;
        snap->n_jobs = m->n_stats;
        return 0;
}

int metrics_render(struct metrics *m, const char **out, size_t *len)
{
        struct metrics_snapshot snap = {
                .version = TICKD_VERSION,
                .start_usec = m->start_usec,
                .files_rejected = reload_memory_count(m->rejected),
                .clock_changes = m->clock_changes,
        };
        memcpy(snap.reloads, m->reloads, sizeof(snap.reloads));
        int r = snapshot_gather(m, &snap);
        if (r >= 0)
                r = metrics_format(&snap, m->text.p, m->text.cap, len);
        if (r == -ENOBUFS && (r = private_reserve(&m->text, *len + 1)) >= 0)
                r = metrics_format(&snap, m->text.p, m->text.cap, len);
        if (r < 0)
                return r;
        *out = m->text.p;
        return 0;
}

/* ---- the file ---- */

static int write_all(int fd, const char *buf, size_t len)
{
        while (len) {
                ssize_t n = write(fd, buf, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* The temporary file is PATH's directory's .NAME.tmp: the same file
 * system, so rename() replaces PATH atomically, and a name that the
 * textfile collector (which reads *.prom only) never takes for metrics.
 * No fsync(): after a crash a stale or empty temporary is harmless, and
 * PATH is the old text or the new, never a mix. */
static int file_replace(const char *path, const char *text, size_t len)
{
        _cleanup_free_ char *copy = strdup(path), *copy2 = strdup(path), *tmp = NULL;
        if (!copy || !copy2 || asprintf(&tmp, "%s/.%s.tmp", dirname(copy), basename(copy2)) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
        if (fd < 0)
                return -errno;
        /* Readable by node_exporter, whatever tickd's umask. */
        int r = fchmod(fd, 0644) < 0 ? -errno : write_all(fd, text, len);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

int metrics_write(struct metrics *m)
{
        if (!m->file)
                return 0;
        m->dirty = false;
        m->last_write = clock_now_usec(CLOCK_MONOTONIC);
        uint64_t cpu = clock_now_usec(CLOCK_THREAD_CPUTIME_ID);
        const char *text = NULL;
        size_t len = 0;
        int r = metrics_render(m, &text, &len);
        if (r >= 0)
                r = file_replace(m->file, text, len);
        /* What a write costs, in time and in tickd's own CPU time (the
         * machine may be busy with others): tests/bench/bench-daemon.sh. */
        if (r >= 0)
                log_msg(LOG_DEBUG, "metrics: wrote %s: %zu bytes in %.3f ms, CPU %.3f ms", m->file, len,
                        (double)(clock_now_usec(CLOCK_MONOTONIC) - m->last_write) / 1e3,
                        (double)(clock_now_usec(CLOCK_THREAD_CPUTIME_ID) - cpu) / 1e3);
        if (r < 0 && !m->write_failed)
                log_msg(LOG_WARNING, "cannot write the metrics file %s: %s (logged once until a write succeeds)",
                        m->file, strerror(-r));
        m->write_failed = r < 0;
        return r;
}

static int on_write(sd_event_source *s, void *userdata)
{
        metrics_write(userdata);
        return 0;
}

static int on_write_later(sd_event_source *s, uint64_t usec, void *userdata)
{
        metrics_write(userdata);
        return 0;
}

/* Something the file shows changed: it is written after the events of
 * this loop pass, or a second after the last write if that is later. */
static void metrics_changed(struct metrics *m)
{
        if (!m->file || m->dirty)
                return; /* no file, or a write is on its way */
        m->dirty = true;
        uint64_t now = clock_now_usec(CLOCK_MONOTONIC);
        if (!m->last_write || now >= m->last_write + WRITE_INTERVAL_USEC) {
                sd_event_source_set_enabled(m->write_now, SD_EVENT_ONESHOT);
                return;
        }
        sd_event_source_set_time(m->write_later, m->last_write + WRITE_INTERVAL_USEC);
        sd_event_source_set_enabled(m->write_later, SD_EVENT_ONESHOT);
}

/* ---- set-up ---- */

int metrics_new(sd_event *event, int64_t start_usec, struct metrics **out)
{
        _cleanup_free_ struct metrics *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        *m = (struct metrics){ .event = event, .start_usec = start_usec };
        int r = sd_event_add_defer(event, &m->write_now, on_write, m);
        if (r >= 0)
                r = sd_event_source_set_priority(m->write_now, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->write_now, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_time(event, &m->write_later, CLOCK_MONOTONIC, UINT64_MAX, 0, on_write_later, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->write_later, SD_EVENT_OFF);
        if (r < 0) {
                sd_event_source_disable_unref(m->write_now);
                sd_event_source_disable_unref(m->write_later);
                return r;
        }
        log_set_observer(on_record, m);
        *out = TAKE_PTR(m);
        return 0;
}

struct metrics *metrics_free(struct metrics *m)
{
        if (!m)
                return NULL;
        log_set_observer(NULL, NULL);
        if (m->file)
                metrics_write(m);
        m->http = metrics_http_free(m->http);
        sd_event_source_disable_unref(m->write_now);
        sd_event_source_disable_unref(m->write_later);
        stats_free_all(m);
        private_free(&m->jobs);
        private_free(&m->text);
        free(m->node);
        free(m->file);
        free(m->listen);
        free(m);
        return NULL;
}

void metrics_set_sources(struct metrics *m, struct scheduler *scheduler, const struct reload_memory *rejected)
{
        m->scheduler = scheduler;
        m->rejected = rejected;
}

static int string_replace(char **slot, const char *value)
{
        char *copy = NULL;
        if (value && !(copy = strdup(value)))
                return -ENOMEM;
        free(*slot);
        *slot = copy;
        return 0;
}

int metrics_set_node(struct metrics *m, const char *node) { return string_replace(&m->node, node); }

int metrics_set_file(struct metrics *m, const char *path)
{
        if (same_string(m->file, path))
                return 0;
        int r = string_replace(&m->file, path);
        if (r < 0)
                return r;
        m->dirty = false;
        m->write_failed = false;
        sd_event_source_set_enabled(m->write_later, SD_EVENT_OFF);
        sd_event_source_set_enabled(m->write_now, SD_EVENT_OFF);
        metrics_changed(m);
        return 0;
}

static int render_for_http(void *userdata, const char **out, size_t *len) { return metrics_render(userdata, out, len); }

int metrics_set_listen(struct metrics *m, const char *address)
{
        if (same_string(m->listen, address))
                return 0;
        struct metrics_http *h = NULL;
        _cleanup_free_ char *copy = address ? strdup(address) : NULL;
        if (address && !copy)
                return -ENOMEM;
        if (address) {
                int r = metrics_http_new(m->event, address, render_for_http, m, &h);
                if (r < 0)
                        return r;
        }
        metrics_http_free(m->http);
        m->http = h;
        free(m->listen);
        m->listen = TAKE_PTR(copy);
        return 0;
}

void metrics_reloaded(struct metrics *m, bool rejected)
{
        m->reloads[rejected ? METRICS_RELOAD_REJECTED : METRICS_RELOAD_OK]++;
        metrics_changed(m);
}
