/* control-daemon.c — control_ops over the scheduler and batches; see
 * control-daemon.h. */
#include "tickd/control-daemon.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cleanup.h"
#include "core/fileio.h"
#include "shared/clock.h"
#include "shared/control-last.h"
#include "shared/log.h"
#include "tickd/collector.h"
#include "core/schedule.h"
#include "core/strv.h"
#include "core/timespan.h"

/* /etc/passwd as last read: user names to uids, sorted by name. */
struct passwd_entry {
        char *name;
        uid_t uid;
};

struct passwd_cache {
        struct file_identity identity;
        bool read;
        struct passwd_entry *entries;
        size_t n;
};

struct control_daemon {
        struct control_daemon_options options;
        struct control *control;
        struct control_last *last; /* each job's last outcome, kept across restarts */
        struct passwd_cache passwd;
};

/* ---- who a job runs as ---- */

#define PASSWD_FILE "/etc/passwd"

static void passwd_cache_clear(struct passwd_cache *pc)
{
        for (size_t i = 0; i < pc->n; i++)
                free(pc->entries[i].name);
        free(pc->entries);
        *pc = (struct passwd_cache){ 0 };
}

static int passwd_entry_compare(const void *a, const void *b)
{
        return strcmp(((const struct passwd_entry *)a)->name, ((const struct passwd_entry *)b)->name);
}

static int passwd_cache_read(struct passwd_cache *pc, FILE *f)
{
        struct passwd pw, *result;
        char buf[4096];
        size_t cap = 0;
        while (fgetpwent_r(f, &pw, buf, sizeof(buf), &result) == 0 && result) {
                if (pc->n == cap) {
                        size_t next = cap ? cap * 2 : 64;
                        struct passwd_entry *e = reallocarray(pc->entries, next, sizeof(*e));
                        if (!e)
                                return -ENOMEM;
                        pc->entries = e;
                        cap = next;
                }
                if (!(pc->entries[pc->n].name = strdup(pw.pw_name)))
                        return -ENOMEM;
                pc->entries[pc->n++].uid = pw.pw_uid;
        }
        qsort(pc->entries, pc->n, sizeof(*pc->entries), passwd_entry_compare);
        return 0;
}

/* Re-reads PASSWD_FILE when it changed since the last read. */
static void passwd_cache_refresh(struct passwd_cache *pc)
{
        if (pc->read && file_identity_unchanged(&pc->identity, PASSWD_FILE))
                return;
        passwd_cache_clear(pc);
        _cleanup_fclose_ FILE *f = fopen(PASSWD_FILE, "re");
        struct stat st;
        if (!f || fstat(fileno(f), &st) < 0)
                return; /* every name stays unresolved until the file is there */
        pc->identity = file_identity_of(&st);
        pc->read = true;
        int r = passwd_cache_read(pc, f);
        if (r < 0) {
                log_emit((&(struct log_record){ .priority = LOG_WARNING, .errno_value = -r }),
                         "control: cannot read %s: %s", PASSWD_FILE, strerror(-r));
                passwd_cache_clear(pc);
        }
}

/* The uid USER (a job's user=) names, for the socket's authorisation, or
 * (uid_t)-1. This runs on the event loop, so it never asks the name
 * service (an LDAP or sssd server could stall it at any user's request):
 * a number is taken as is and a name is looked up in PASSWD_FILE, a local
 * file. A name only the name service knows stays unresolved, and the
 * server shows such a job to root alone (control.h). */
static uid_t job_uid(struct control_daemon *cd, const char *user)
{
        if (!user)
                return (uid_t)-1; /* the daemon's own user: the server knows it */
        char *end;
        errno = 0;
        unsigned long n = strtoul(user, &end, 10);
        if (isdigit((unsigned char)user[0]) && *end == '\0' && errno == 0 && n < (unsigned long)(uid_t)-1)
                return (uid_t)n;
        struct passwd_entry key = { .name = (char *)user }, *found = NULL;
        if (cd->passwd.n > 0)
                found = bsearch(&key, cd->passwd.entries, cd->passwd.n, sizeof(key), passwd_entry_compare);
        return found ? found->uid : (uid_t)-1;
}

/* A run finished (OUTCOME NULL: lost): its job's last outcome (an
 * on_failure command's is not one), then its RunJob(wait) callers. */
static void on_finished(void *userdata, const struct run *run, const struct outcome *o)
{
        struct control_daemon *cd = userdata;
        struct control_outcome co = {
                .run_id = run->run_id,
                .result = log_event_name(collector_outcome_event(o)),
                .exit_status = o && o->status == OUTCOME_EXITED ? o->code : -1,
                .signal = o && o->status == OUTCOME_SIGNALED ? o->signal : 0,
                .start_usec = o && o->start_usec > 0 ? (uint64_t)o->start_usec : 0,
                .end_usec = o && o->end_usec > 0 ? (uint64_t)o->end_usec : clock_now_usec(CLOCK_REALTIME),
        };
        if (!run->on_failure) {
                int r = control_last_set(cd->last, run->job_name, &co);
                if (r < 0)
                        log_emit((&(struct log_record){
                                         .priority = LOG_WARNING, .job = run->job_name, .errno_value = -r }),
                                 "cannot keep the last outcome of %s: %s", run->job_name, strerror(-r));
        }
        control_run_finished(cd->control, run->job_name, &co);
}

/* ---- jobs ---- */

static int for_each_job(void *userdata, control_job_fn each, void *ctx)
{
        struct control_daemon *cd = userdata;
        struct scheduler *s = cd->options.scheduler;
        _cleanup_free_ const char **paths = scheduler_file_paths(s);
        if (!paths)
                return scheduler_job_count(s) ? -ENOMEM : 0;
        int64_t now = (int64_t)(clock_now_usec(CLOCK_REALTIME) / USEC_PER_SEC);
        struct batch_manager *batches = scheduler_batches(s);
        passwd_cache_refresh(&cd->passwd);
        for (const char **p = paths; *p; p++) {
                const struct crontab_file *file = scheduler_get_file(s, *p);
                for (size_t i = 0; file && i < file->n_jobs; i++) {
                        const struct job *j = file->jobs[i];
                        int64_t next = 0;
                        if (!j->enabled || schedule_next(j->schedule, j->zone, now, &next) < 0)
                                next = 0;
                        struct control_job cj = {
                                .job = j,
                                .uid = job_uid(cd, j->user),
                                .next_usec = (uint64_t)next * USEC_PER_SEC,
                                .last = control_last_get(cd->last, j->name),
                                .running = (unsigned)batch_running_count_job(batches, j->name),
                        };
                        int r = each(&cj, ctx);
                        if (r != 0)
                                return r < 0 ? r : 0;
                }
        }
        return 0;
}

/* ---- files ---- */

/* Why PATH is not what the scheduler holds: its first error, or the job
 * name it shares with another file. */
static char *rejection_reason(struct control_daemon *cd, const char *path)
{
        struct diagnostics d = {};
        struct crontab_file *file = NULL;
        char *reason = NULL;
        if (crontab_load_file(path, cd->options.crontab_options, &file, &d) < 0) {
                reason = diag_first_error(&d);
        } else {
                struct scheduler *s = cd->options.scheduler;
                _cleanup_free_ const char **paths = scheduler_file_paths(s);
                for (const char **p = paths; p && *p && !reason; p++) {
                        if (strcmp(*p, path) == 0)
                                continue;
                        const struct crontab_file *other = scheduler_get_file(s, *p);
                        for (size_t i = 0; other && i < other->n_jobs && !reason; i++)
                                for (size_t k = 0; k < file->n_jobs && !reason; k++)
                                        if (strcmp(other->jobs[i]->name, file->jobs[k]->name) == 0 &&
                                            asprintf(&reason, "%s:%u: job '%s' is already defined in %s", path,
                                                     file->jobs[k]->line, file->jobs[k]->name, *p) < 0)
                                                reason = NULL;
                }
        }
        crontab_file_free(file);
        diag_free(&d);
        return reason ? reason : strdup("changed on disk since the last reload");
}

static int for_each_file(void *userdata, control_file_fn each, void *ctx)
{
        struct control_daemon *cd = userdata;
        struct scheduler *s = cd->options.scheduler;
        struct diagnostics d = {};
        char **paths = NULL;
        int r = crontab_list_dir(cd->options.jobs_dir, cd->options.crontab_options, &paths, &d);
        if (r < 0) {
                _cleanup_free_ char *reason = diag_first_error(&d);
                struct control_file f = { .path = cd->options.jobs_dir,
                                          .loaded = false,
                                          .error = reason ? reason : strerror(-r) };
                diag_free(&d);
                r = each(&f, ctx);
                return r < 0 ? r : 0;
        }
        diag_free(&d);
        for (char **p = paths; *p; p++) {
                const struct crontab_file *file = scheduler_get_file(s, *p);
                struct control_file f = { .path = *p,
                                          .loaded = file && file_identity_unchanged(&file->identity, *p),
                                          .n_jobs = file ? (unsigned)file->n_jobs : 0 };
                _cleanup_free_ char *reason = NULL;
                if (!f.loaded) {
                        reason = rejection_reason(cd, *p);
                        /* A file changed on disk that loads cleanly is only waiting for the reload. */
                        f.loaded = reason && strcmp(reason, "changed on disk since the last reload") == 0 && file;
                        f.error = reason;
                }
                r = each(&f, ctx);
                if (r != 0)
                        break;
        }
        strv_free(paths);
        return r < 0 ? r : 0;
}

/* ---- runs and batches ---- */

struct visit_ctx {
        control_run_fn each_run;
        control_batch_fn each_batch;
        void *ctx;
        int r;
        uint64_t now;
        const char *find_job; /* newest_run(): the job to look for */
        uint64_t newest_id;
        char run_id[CONTROL_RUN_ID_MAX];
};

static const char *run_user(struct control_daemon *cd, const char *job)
{
        /* The job's current definition: who the run is accounted to. */
        struct scheduler *s = cd->options.scheduler;
        _cleanup_free_ const char **paths = scheduler_file_paths(s);
        for (const char **p = paths; p && *p; p++) {
                const struct crontab_file *f = scheduler_get_file(s, *p);
                for (size_t i = 0; f && i < f->n_jobs; i++)
                        if (strcmp(f->jobs[i]->name, job) == 0)
                                return f->jobs[i]->user;
        }
        return NULL;
}

struct run_visit {
        struct control_daemon *cd;
        struct visit_ctx *v;
};

static void visit_runs(void *userdata, uint64_t id, uint64_t age_usec, const struct run *const *missing, size_t n)
{
        struct run_visit *rv = userdata;
        struct visit_ctx *v = rv->v;
        for (size_t i = 0; i < n && v->r == 0; i++) {
                const struct run *run = missing[i];
                const char *user = run_user(rv->cd, run->job_name);
                struct control_run cr = { .job = run->job_name,
                                          .user = user,
                                          .uid = job_uid(rv->cd, user),
                                          .run_id = run->run_id,
                                          .pid = run->job_pid ? run->job_pid : run->runner_pid,
                                          .start_usec = v->now - age_usec };
                v->r = v->each_run(&cr, v->ctx);
        }
}

static int for_each_run(void *userdata, control_run_fn each, void *ctx)
{
        struct control_daemon *cd = userdata;
        struct visit_ctx v = { .each_run = each, .ctx = ctx, .now = clock_now_usec(CLOCK_REALTIME) };
        struct run_visit rv = { cd, &v };
        passwd_cache_refresh(&cd->passwd);
        batch_foreach(scheduler_batches(cd->options.scheduler), visit_runs, &rv);
        return v.r < 0 ? v.r : 0;
}

static void visit_batch(void *userdata, uint64_t id, uint64_t age_usec, const struct run *const *missing, size_t n)
{
        struct visit_ctx *v = userdata;
        if (v->r != 0)
                return;
        const char **names = calloc(n ? n : 1, sizeof(*names));
        if (!names) {
                v->r = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < n; i++)
                names[i] = missing[i]->job_name;
        struct control_batch b = {
                .id = id, .created_usec = v->now - age_usec, .n_jobs = (unsigned)n, .missing = names, .n_missing = n
        };
        v->r = v->each_batch(&b, v->ctx);
        free(names);
}

static int for_each_batch(void *userdata, control_batch_fn each, void *ctx)
{
        struct control_daemon *cd = userdata;
        struct visit_ctx v = { .each_batch = each, .ctx = ctx, .now = clock_now_usec(CLOCK_REALTIME) };
        batch_foreach(scheduler_batches(cd->options.scheduler), visit_batch, &v);
        return v.r < 0 ? v.r : 0;
}

/* ---- run, cancel, reload ---- */

static const struct job *find_job(struct control_daemon *cd, const char *name)
{
        struct scheduler *s = cd->options.scheduler;
        _cleanup_free_ const char **paths = scheduler_file_paths(s);
        for (const char **p = paths; p && *p; p++) {
                const struct crontab_file *f = scheduler_get_file(s, *p);
                for (size_t i = 0; f && i < f->n_jobs; i++)
                        if (strcmp(f->jobs[i]->name, name) == 0)
                                return f->jobs[i];
        }
        return NULL;
}

static int run_job(void *userdata, const char *name, char run_id[CONTROL_RUN_ID_MAX])
{
        struct control_daemon *cd = userdata;
        const struct job *job = find_job(cd, name);
        if (!job)
                return -ENOENT;
        enum overlap_policy overlap = job->overlap;
        char id[CONTROL_RUN_ID_MAX] = "";
        int r = scheduler_run_now_id(cd->options.scheduler, name, id);
        if (r < 0)
                return r;
        snprintf(run_id, CONTROL_RUN_ID_MAX, "%s", id);
        switch (r) {
        case SCHEDULER_RUN_STARTED: return 0;
        case SCHEDULER_RUN_QUEUED: return CONTROL_RUN_QUEUED;
        case SCHEDULER_RUN_WAITING: return CONTROL_RUN_WAITING;
        default: /* skipped: only skip, queue and replace ever skip */
                return overlap == OVERLAP_SKIP ? -EBUSY : -EALREADY;
        }
}

static void on_dropped(void *userdata, const char *job, const char *run_id, const char *reason)
{
        struct control_daemon *cd = userdata;
        control_run_dropped(cd->control, job, run_id, reason);
}

static int cancel_job(void *userdata, const char *name)
{
        struct control_daemon *cd = userdata;
        /* The runs that have not started go first: a queued run would
         * otherwise start as soon as the cancelled one ends. */
        int dropped = scheduler_drop_pending(cd->options.scheduler, name, "cancelled by tickctl cancel");
        struct batch_manager *batches = scheduler_batches(cd->options.scheduler);
        size_t n = batch_cancel_job(batches, name) + (dropped > 0 ? (size_t)dropped : 0);
        if (n > 0)
                return (int)n;
        return find_job(cd, name) ? -ESRCH : -ENOENT;
}

static int reload(void *userdata)
{
        struct control_daemon *cd = userdata;
        cd->options.reload(cd->options.userdata);
        return 0;
}

static const struct control_ops ops = {
        .for_each_job = for_each_job,
        .for_each_file = for_each_file,
        .for_each_run = for_each_run,
        .for_each_batch = for_each_batch,
        .run_job = run_job,
        .cancel_job = cancel_job,
        .reload = reload,
};

int control_daemon_new(const struct control_daemon_options *options, struct control_daemon **out)
{
        struct control_daemon *cd = calloc(1, sizeof(*cd));
        if (!cd)
                return -ENOMEM;
        cd->options = *options;
        int r = control_last_new(options->event, scheduler_state_dir(options->scheduler), &cd->last);
        if (r < 0) {
                free(cd);
                return r;
        }
        r = control_new(options->event, &options->control, &ops, cd, &cd->control);
        if (r < 0) {
                control_last_free(cd->last);
                free(cd);
                return r;
        }
        /* Every finished and every dropped run: last outcomes and the
         * RunJob(wait) callers. */
        scheduler_set_listener(
                options->scheduler,
                &(struct scheduler_listener){ .finished = on_finished, .dropped = on_dropped, .userdata = cd });
        *out = cd;
        return 0;
}

struct control_daemon *control_daemon_free(struct control_daemon *cd)
{
        if (!cd)
                return NULL;
        scheduler_set_listener(cd->options.scheduler, NULL);
        control_free(cd->control);
        control_last_free(cd->last);
        passwd_cache_clear(&cd->passwd);
        free(cd);
        return NULL;
}
