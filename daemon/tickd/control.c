/* control.c — the control socket: accept, one p2p sd-bus per peer,
 * authorise each call, answer from the daemon's ops; see control.h. */
#include "tickd/control.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "core/cleanup.h"
#include "core/inifile.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "core/schedule.h"
#include "core/timespan.h"

struct connection;

/* A RunJob(wait = true) call whose reply waits for the run's outcome. */
struct waiter {
        struct waiter *next;
        struct connection *connection;
        sd_bus_message *call;
        char run_id[CONTROL_RUN_ID_MAX];
};

struct connection {
        struct connection *next, *prev;
        struct control *control;
        sd_bus *bus;
        uid_t uid;
        pid_t pid;
        bool ready; /* its SASL handshake is over (see on_handshake_check) */
        unsigned serial;
};

/* The last few outcomes, for a RunJob(wait) whose run finished before its
 * waiter was registered (a fork failure is reported inside run_job()). */
#define RECENT_MAX 8
struct recent {
        char run_id[CONTROL_RUN_ID_MAX];
        char result[24];
        int exit_status, signal;
        uint64_t duration_usec;
};

/* Warnings a peer can cause (denied calls, dropped peers, refused
 * connections), counted per uid in windows of CONTROL_LOG_INTERVAL_SEC:
 * beyond CONTROL_LOG_BURST in one window they are counted, not written,
 * and one line says how many were suppressed when the window ends. */
#define LOG_LIMIT_SLOTS 16
struct log_limit {
        uid_t uid;
        uint64_t window_start; /* CLOCK_MONOTONIC; 0 = a free slot */
        unsigned emitted;
        unsigned suppressed;
};

struct control {
        struct recent recent[RECENT_MAX];
        struct log_limit limits[LOG_LIMIT_SLOTS];
        sd_event_source *limit_timer; /* one-shot: the end of the first window with suppressed lines */
        unsigned recent_next;
        sd_event *event;
        sd_event_source *listen_source;
        sd_event_source *handshake_source; /* post source, on while a peer is in its handshake */
        sd_event_source *accept_retry;     /* one-shot: accepting again after a pause */
        bool accept_starved;               /* accept() ran out of descriptors or memory */
        int listen_fd;
        char *path;
        dev_t dev;
        ino_t ino;
        struct control_options options;
        const struct control_ops *ops;
        void *userdata;
        struct connection *connections;
        size_t n_connections;
        struct waiter *waiters;
        sd_id128_t server_id;
        unsigned next_serial;
};

static const char *strempty(const char *s) { return s ? s : ""; }

size_t control_connections(const struct control *c) { return c ? c->n_connections : 0; }

/* ---- authorisation ---- */

static bool is_privileged(const struct connection *conn)
{
        const struct control *c = conn->control;
        return c->options.user_mode ? conn->uid == c->options.owner_uid : conn->uid == 0;
}

/* The user instance serves only its owner; the system instance anyone
 * (each method then decides). */
static bool may_connect(const struct connection *conn)
{
        return !conn->control->options.user_mode || conn->uid == conn->control->options.owner_uid;
}

/* Whether a job running as (USER, UID) is the peer's own, by number only:
 * the loop never asks the name service. A job without user= runs as the
 * daemon's user (root on the system instance); one whose user= the daemon
 * could not resolve (UID (uid_t)-1) is root's business alone. */
static bool runs_as_peer(struct connection *conn, const char *user, uid_t uid)
{
        if (is_privileged(conn))
                return true;
        if (conn->control->options.user_mode)
                return false;
        if (uid != (uid_t)-1)
                return uid == conn->uid;
        return !user && conn->uid == 0;
}

/* ---- rate-limited warnings ---- */

static uint64_t loop_now(const struct control *c)
{
        uint64_t now = 0;
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0)
                now = clock_now_usec(CLOCK_MONOTONIC);
        return now ? now : 1; /* 0 marks a free slot */
}

static void limit_summarise(struct log_limit *l)
{
        if (l->suppressed > 0)
                log_emit((&(struct log_record){ .priority = LOG_WARNING }),
                         "control: uid %u: suppressed %u more messages in %d s", (unsigned)l->uid, l->suppressed,
                         CONTROL_LOG_INTERVAL_SEC);
        *l = (struct log_limit){ 0 };
}

static const uint64_t limit_interval = (uint64_t)CONTROL_LOG_INTERVAL_SEC * USEC_PER_SEC;

static int on_limit_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* Arms the timer for the earliest window with suppressed lines. */
static void limit_arm(struct control *c)
{
        uint64_t first = 0;
        for (size_t i = 0; i < LOG_LIMIT_SLOTS; i++)
                if (c->limits[i].suppressed > 0 && (!first || c->limits[i].window_start < first))
                        first = c->limits[i].window_start;
        int r = 0;
        if (!first)
                r = sd_event_source_set_enabled(c->limit_timer, SD_EVENT_OFF);
        else if (!c->limit_timer)
                r = sd_event_add_time(c->event, &c->limit_timer, CLOCK_MONOTONIC, first + limit_interval, 0,
                                      on_limit_timer, c);
        else if ((r = sd_event_source_set_time(c->limit_timer, first + limit_interval)) >= 0)
                r = sd_event_source_set_enabled(c->limit_timer, SD_EVENT_ONESHOT);
        if (r < 0) /* the summary then waits for that uid's next message */
                log_emit((&(struct log_record){ .priority = LOG_DEBUG, .errno_value = -r }),
                         "control: cannot arm the summary timer: %s", strerror(-r));
}

static int on_limit_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct control *c = userdata;
        uint64_t now = loop_now(c);
        for (size_t i = 0; i < LOG_LIMIT_SLOTS; i++)
                if (c->limits[i].window_start && now - c->limits[i].window_start >= limit_interval)
                        limit_summarise(&c->limits[i]);
        limit_arm(c);
        return 0;
}

/* Whether a warning caused by UID may be written now. */
static bool log_allowed(struct control *c, uid_t uid)
{
        uint64_t now = loop_now(c);
        struct log_limit *l = NULL, *oldest = &c->limits[0];
        for (size_t i = 0; i < LOG_LIMIT_SLOTS && !l; i++) {
                struct log_limit *it = &c->limits[i];
                if (it->window_start && it->uid == uid)
                        l = it;
                else if (!it->window_start || (oldest->window_start && it->window_start < oldest->window_start))
                        oldest = it;
        }
        if (l && now - l->window_start >= limit_interval)
                limit_summarise(l);
        if (!l || !l->window_start) {
                if (!l) {
                        l = oldest;
                        limit_summarise(l); /* more uids than slots: the oldest window ends early */
                }
                *l = (struct log_limit){ .uid = uid, .window_start = now };
        }
        if (l->emitted < CONTROL_LOG_BURST) {
                l->emitted++;
                return true;
        }
        if (l->suppressed++ == 0)
                limit_arm(c);
        return false;
}

static int deny(struct connection *conn, sd_bus_error *error, const char *what)
{
        if (log_allowed(conn->control, conn->uid))
                log_emit((&(struct log_record){ .priority = LOG_WARNING }),
                         "control: permission denied: uid %u (pid %d) may not %s", (unsigned)conn->uid, (int)conn->pid,
                         what);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "permission denied: %s needs %s", what,
                                 conn->control->options.user_mode ? "the instance's owner" : "root");
}

static int check_connect(struct connection *conn, sd_bus_error *error, const char *what)
{
        if (!may_connect(conn))
                return deny(conn, error, what);
        return 0;
}

/* ---- serialisation ---- */

static int append_job(sd_bus_message *m, const struct control_job *cj)
{
        const struct job *j = cj->job;
        const struct control_outcome *last = cj->last;
        return sd_bus_message_append(
                m, CONTROL_JOB_SIG, strempty(j->name), strempty(job_extra(j)->description), strempty(j->file),
                strempty(job_schedule_text(j)), j->zone ? tz_name(j->zone) : strempty(job_extra(j)->timezone),
                strempty(j->user), strempty(j->command), (int)j->enabled, cj->next_usec,
                last ? last->start_usec : UINT64_C(0), last ? last->end_usec : UINT64_C(0),
                last ? strempty(last->result) : "", last ? last->exit_status : -1, last ? last->signal : 0, cj->running,
                j->scope == JOB_SCOPE_FLEET ? "fleet" : "host");
}

static int append_file(sd_bus_message *m, const struct control_file *f)
{
        return sd_bus_message_append(m, CONTROL_FILE_SIG, strempty(f->path), (int)f->loaded,
                                     f->loaded ? "" : strempty(f->error), f->n_jobs);
}

/* ---- methods ---- */

/* The bound shared by the lists of one reply (control-protocol.h): a
 * GetStatus reply's three lists together stay under it, as ListJobs's one
 * list does. */
struct budget {
        size_t bytes;     /* the reply's lists so far, at most */
        unsigned omitted; /* items of the current list past the bound */
};

/* Whether an item of SIZE bytes is listed. Once one does not fit, none
 * after it in the same list is: each list stays a prefix of the daemon's
 * order. */
static bool budget_take(struct budget *b, size_t size)
{
        if (b->omitted || b->bytes + size > CONTROL_LIST_MAX_BYTES) {
                b->omitted++;
                return false;
        }
        b->bytes += size;
        return true;
}

/* No less than what append_job() adds to a message: each string costs
 * its length, its 4-byte length, its NUL and up to 3 bytes of padding;
 * the struct up to 7 bytes of alignment, its other fields (b t t t i i u)
 * 40 bytes and their alignment up to 13 more, the scope ("fleet") 13. */
static size_t job_wire_size(const struct control_job *cj)
{
        const struct job *j = cj->job;
        const char *strings[] = { j->name,
                                  job_extra(j)->description,
                                  j->file,
                                  job_schedule_text(j),
                                  j->zone ? tz_name(j->zone) : job_extra(j)->timezone,
                                  j->user,
                                  j->command,
                                  cj->last ? cj->last->result : NULL };
        size_t size = 7 + 40 + 13 + 13;
        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                size += (strings[i] ? strlen(strings[i]) : 0) + 8;
        return size;
}

struct list_ctx {
        struct connection *conn;
        sd_bus_message *reply;
        bool all;
        unsigned count;
        struct budget budget;
};

static int list_job_one(const struct control_job *cj, void *userdata)
{
        struct list_ctx *ctx = userdata;
        if (!cj->job->enabled && !ctx->all)
                return 0;
        if (!runs_as_peer(ctx->conn, cj->job->user, cj->uid))
                return 0;
        if (!ctx->reply) { /* only counting (GetStatus) */
                ctx->count++;
                return 0;
        }
        if (!budget_take(&ctx->budget, job_wire_size(cj)))
                return 0;
        ctx->count++;
        int r = append_job(ctx->reply, cj);
        return r < 0 ? r : 0;
}

/* The marker that ends a cut list (control-protocol.h). */
static int append_omitted(sd_bus_message *m, unsigned omitted)
{
        char description[160];
        snprintf(description, sizeof(description),
                 "%u more job%s not listed: the list is cut at %u MiB (tickctl status NAME shows any job)", omitted,
                 omitted == 1 ? "" : "s", CONTROL_LIST_MAX_BYTES / (1024 * 1024));
        return sd_bus_message_append(m, CONTROL_JOB_SIG, "", description, "", "", "", "", "", 0, UINT64_C(0),
                                     UINT64_C(0), UINT64_C(0), "", -1, 0, omitted, "");
}

static int method_list_jobs(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        struct control *c = conn->control;
        int all = 0;
        int r = sd_bus_message_read(m, "b", &all);
        if (r < 0)
                return r;
        if ((r = check_connect(conn, error, "list jobs")) < 0)
                return r;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        if ((r = sd_bus_message_new_method_return(m, &reply)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', CONTROL_JOB_SIG)) < 0)
                return r;
        struct list_ctx ctx = { .conn = conn, .reply = reply, .all = all };
        if ((r = c->ops->for_each_job(c->userdata, list_job_one, &ctx)) < 0)
                return r;
        if (ctx.budget.omitted && (r = append_omitted(reply, ctx.budget.omitted)) < 0)
                return r;
        if ((r = sd_bus_message_close_container(reply)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* As job_wire_size(): strings at their length + 8, the struct's
 * alignment 7, its b and u 8 bytes with 3 of alignment. */
static size_t file_wire_size(const struct control_file *f)
{
        return 7 + 11 + (f->path ? strlen(f->path) : 0) + 8 + (!f->loaded && f->error ? strlen(f->error) : 0) + 8;
}

/* Strings as above; u and t 12 bytes with 7 of alignment. */
static size_t run_wire_size(const struct control_run *run)
{
        return 7 + 19 + (run->job ? strlen(run->job) : 0) + 8 + (run->run_id ? strlen(run->run_id) : 0) + 8;
}

/* t t u 20 bytes with 7 of alignment, the array's length and alignment
 * 8, each name as a string. */
static size_t batch_wire_size(const struct control_batch *b)
{
        size_t size = 7 + 27 + 8;
        for (size_t i = 0; i < b->n_missing; i++)
                size += (b->missing[i] ? strlen(b->missing[i]) : 0) + 8;
        return size;
}

/* The sentence of a cut list's marker. */
static const char *omitted_text(char *buf, size_t size, unsigned omitted, const char *what)
{
        snprintf(buf, size, "%u more %s%s not listed: the list is cut at %u MiB", omitted, what,
                 omitted == 1 ? "" : "s", CONTROL_LIST_MAX_BYTES / (1024 * 1024));
        return buf;
}

struct files_ctx {
        sd_bus_message *reply;
        struct budget *budget;
};

static int list_file_one(const struct control_file *f, void *userdata)
{
        struct files_ctx *ctx = userdata;
        if (!budget_take(ctx->budget, file_wire_size(f)))
                return 0;
        int r = append_file(ctx->reply, f);
        return r < 0 ? r : 0;
}

/* Files and their errors are the administrator's business: others get an
 * empty list rather than an error, so `tickctl list --all` still works.
 * A cut list ends with a FILE whose path is "" (control-protocol.h). */
static int append_files(struct connection *conn, sd_bus_message *reply, struct budget *budget)
{
        struct control *c = conn->control;
        int r = sd_bus_message_open_container(reply, 'a', CONTROL_FILE_SIG);
        if (r < 0)
                return r;
        struct files_ctx ctx = { .reply = reply, .budget = budget };
        budget->omitted = 0;
        if (is_privileged(conn) && (r = c->ops->for_each_file(c->userdata, list_file_one, &ctx)) < 0)
                return r;
        char text[160];
        if (budget->omitted &&
            (r = sd_bus_message_append(reply, CONTROL_FILE_SIG, "", 0,
                                       omitted_text(text, sizeof(text), budget->omitted, "file"), budget->omitted)) < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int method_list_files(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        int r = check_connect(conn, error, "list files");
        if (r < 0)
                return r;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        struct budget budget = { 0 };
        if ((r = sd_bus_message_new_method_return(m, &reply)) < 0 || (r = append_files(conn, reply, &budget)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

struct get_job_ctx {
        struct connection *conn;
        const char *name;
        sd_bus_message *reply;
        bool found;
        bool visible;
};

static int append_pair(sd_bus_message *m, const char *key, const char *value)
{
        if (!value)
                return 0;
        return sd_bus_message_append(m, "(ss)", key, value);
}

static int append_span(sd_bus_message *m, const char *key, uint64_t usec)
{
        char buf[64];
        return append_pair(m, key, usec ? timespan_format(usec, buf, sizeof(buf)) : NULL);
}

static int append_definition(sd_bus_message *m, const struct job *j)
{
        static const char *const overlap_names[] = { "skip", "allow", "queue", "replace" };
        char where[4096], num[32];
        int r;
        snprintf(where, sizeof(where), "%s:%u", strempty(j->file), j->line);
        if ((r = sd_bus_message_open_container(m, 'a', "(ss)")) < 0 ||
            (r = append_pair(m, "description", job_extra(j)->description)) < 0 ||
            (r = append_pair(m, "file", where)) < 0 || (r = append_pair(m, "schedule", job_schedule_text(j))) < 0 ||
            (r = append_pair(m, "command", j->command)) < 0 || (r = append_pair(m, "user", j->user)) < 0 ||
            (r = append_pair(m, "group", job_extra(j)->group)) < 0 ||
            (r = append_pair(m, "timezone", j->zone ? tz_name(j->zone) : job_extra(j)->timezone)) < 0 ||
            (r = append_span(m, "timeout", j->timeout_usec)) < 0 ||
            (r = append_span(m, "kill_grace", job_extra(j)->kill_grace_usec)) < 0 ||
            (r = append_pair(m, "overlap",
                             (unsigned)j->overlap < ELEMENTSOF(overlap_names) ? overlap_names[j->overlap] : "?")) < 0 ||
            (r = append_span(m, "random_delay", job_extra(j)->random_delay_usec)) < 0 ||
            (r = append_pair(m, "persistent", j->persistent ? "yes" : "no")) < 0 ||
            (r = append_pair(m, "working_directory", job_extra(j)->working_directory)) < 0)
                return r;
        for (char **e = j->environment; e && *e; e++)
                if ((r = append_pair(m, "environment", *e)) < 0)
                        return r;
        if (job_extra(j)->umask >= 0) {
                snprintf(num, sizeof(num), "%04o", (unsigned)job_extra(j)->umask);
                if ((r = append_pair(m, "umask", num)) < 0)
                        return r;
        }
        if (job_extra(j)->has_nice) {
                snprintf(num, sizeof(num), "%d", job_extra(j)->nice);
                if ((r = append_pair(m, "nice", num)) < 0)
                        return r;
        }
        if ((r = append_pair(m, "on_failure", job_extra(j)->on_failure)) < 0 ||
            (r = append_pair(m, "enabled", j->enabled ? "yes" : "no")) < 0)
                return r;
        return sd_bus_message_close_container(m);
}

static int append_next_runs(sd_bus_message *m, const struct job *j)
{
        int r = sd_bus_message_open_container(m, 'a', "t");
        if (r < 0)
                return r;
        int64_t t = (int64_t)time(NULL);
        for (int i = 0; j->schedule && i < CONTROL_NEXT_RUNS; i++) {
                if (schedule_next(j->schedule, j->zone, t, &t) < 0)
                        break;
                if ((r = sd_bus_message_append(m, "t", (uint64_t)t * USEC_PER_SEC)) < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static int get_job_one(const struct control_job *cj, void *userdata)
{
        struct get_job_ctx *ctx = userdata;
        if (strcmp(cj->job->name, ctx->name) != 0)
                return 0;
        ctx->found = true;
        ctx->visible = runs_as_peer(ctx->conn, cj->job->user, cj->uid);
        if (!ctx->visible)
                return 1;
        int r;
        if ((r = append_job(ctx->reply, cj)) < 0 || (r = append_definition(ctx->reply, cj->job)) < 0 ||
            (r = append_next_runs(ctx->reply, cj->job)) < 0)
                return r;
        return 1; /* found: stop */
}

static int no_such_job(sd_bus_error *error, const char *name)
{
        return sd_bus_error_setf(error, CONTROL_ERROR_NO_SUCH_JOB, "no such job '%s'", name);
}

/* A name longer than any crontab can define is refused before anything
 * else looks at it, and never echoed, neither in the reply nor in the log:
 * sd-bus accepts strings of up to 128 MiB. */
static int check_name(sd_bus_error *error, const char *name)
{
        if (strnlen(name, INIFILE_MAX_SECTION + 1) > INIFILE_MAX_SECTION)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid job name: longer than %d bytes",
                                         INIFILE_MAX_SECTION);
        return 0;
}

static int method_get_job(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        struct control *c = conn->control;
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if ((r = check_name(error, name)) < 0 || (r = check_connect(conn, error, "show jobs")) < 0)
                return r;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        if ((r = sd_bus_message_new_method_return(m, &reply)) < 0)
                return r;
        struct get_job_ctx ctx = { .conn = conn, .name = name, .reply = reply };
        if ((r = c->ops->for_each_job(c->userdata, get_job_one, &ctx)) < 0)
                return r;
        /* A job the peer may not see does not exist for it: the answer
         * must not tell whether another user's job has that name. */
        if (ctx.found && !ctx.visible && log_allowed(c, conn->uid))
                log_emit((&(struct log_record){ .priority = LOG_WARNING, .job = name }),
                         "control: permission denied: uid %u (pid %d) may not show job %s", (unsigned)conn->uid,
                         (int)conn->pid, name);
        if (!ctx.found || !ctx.visible)
                return no_such_job(error, name);
        return sd_bus_send(NULL, reply, NULL);
}

static unsigned count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        if (!d)
                return 0;
        unsigned n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n > 0 ? n - 1 : 0; /* not the directory's own descriptor */
}

static uint64_t rss_kb(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/statm", "re");
        unsigned long size, resident;
        if (!f || fscanf(f, "%lu %lu", &size, &resident) != 2)
                return 0;
        // cppcheck-suppress resourceLeak ; f is closed by its cleanup attribute
        return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

static int count_job(const struct control_job *cj, void *userdata) { return list_job_one(cj, userdata); }

struct status_ctx {
        struct connection *conn;
        sd_bus_message *reply;
        struct budget budget;
};

static int status_run_one(const struct control_run *run, void *userdata)
{
        struct status_ctx *ctx = userdata;
        if (!runs_as_peer(ctx->conn, run->user, run->uid) || !budget_take(&ctx->budget, run_wire_size(run)))
                return 0;
        int r = sd_bus_message_append(ctx->reply, CONTROL_RUN_SIG, strempty(run->job), strempty(run->run_id),
                                      (uint32_t)run->pid, run->start_usec);
        return r < 0 ? r : 0;
}

static int status_batch_one(const struct control_batch *b, void *userdata)
{
        struct status_ctx *ctx = userdata;
        sd_bus_message *m = ctx->reply;
        if (!budget_take(&ctx->budget, batch_wire_size(b)))
                return 0;
        int r;
        if ((r = sd_bus_message_open_container(m, 'r', "ttuas")) < 0 ||
            (r = sd_bus_message_append(m, "ttu", b->id, b->created_usec, b->n_jobs)) < 0 ||
            (r = sd_bus_message_open_container(m, 'a', "s")) < 0)
                return r;
        for (size_t i = 0; i < b->n_missing; i++)
                if ((r = sd_bus_message_append(m, "s", strempty(b->missing[i]))) < 0)
                        return r;
        if ((r = sd_bus_message_close_container(m)) < 0 || (r = sd_bus_message_close_container(m)) < 0)
                return r;
        return 0;
}

/* The RUN and BATCH lists of a status reply, each ended by its marker
 * when cut (control-protocol.h). */
static int append_runs_and_batches(struct connection *conn, struct status_ctx *ctx)
{
        struct control *c = conn->control;
        sd_bus_message *reply = ctx->reply;
        int r;
        if ((r = sd_bus_message_open_container(reply, 'a', CONTROL_RUN_SIG)) < 0)
                return r;
        ctx->budget.omitted = 0;
        if ((r = c->ops->for_each_run(c->userdata, status_run_one, ctx)) < 0)
                return r;
        if (ctx->budget.omitted &&
            (r = sd_bus_message_append(reply, CONTROL_RUN_SIG, "", "", ctx->budget.omitted, UINT64_C(0))) < 0)
                return r;
        if ((r = sd_bus_message_close_container(reply)) < 0 ||
            (r = sd_bus_message_open_container(reply, 'a', CONTROL_BATCH_SIG)) < 0)
                return r;
        ctx->budget.omitted = 0;
        if (is_privileged(conn) && (r = c->ops->for_each_batch(c->userdata, status_batch_one, ctx)) < 0)
                return r;
        if (ctx->budget.omitted &&
            (r = sd_bus_message_append(reply, CONTROL_BATCH_SIG, UINT64_C(0), UINT64_C(0), ctx->budget.omitted, 0)) < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int method_get_status(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        struct control *c = conn->control;
        int r = check_connect(conn, error, "show the status");
        if (r < 0)
                return r;
        struct list_ctx count = { .conn = conn, .all = true };
        if ((r = c->ops->for_each_job(c->userdata, count_job, &count)) < 0)
                return r;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        if ((r = sd_bus_message_new_method_return(m, &reply)) < 0)
                return r;
        struct status_ctx ctx = { .conn = conn, .reply = reply };
        if ((r = sd_bus_message_append(reply, "stuut", TICKD_VERSION, c->options.started_usec, count.count, count_fds(),
                                       rss_kb())) < 0 ||
            (r = append_files(conn, reply, &ctx.budget)) < 0 || (r = append_runs_and_batches(conn, &ctx)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int require_privilege(struct connection *conn, sd_bus_error *error, const char *verb, const char *name)
{
        if (is_privileged(conn))
                return 0;
        char what[300];
        if (name)
                snprintf(what, sizeof(what), "%s job '%s'", verb, name);
        else
                snprintf(what, sizeof(what), "%s", verb);
        return deny(conn, error, what);
}

static int method_run_job(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        struct control *c = conn->control;
        const char *name;
        int wait = 0;
        int r = sd_bus_message_read(m, "sb", &name, &wait);
        if (r < 0)
                return r;
        if ((r = check_name(error, name)) < 0 || (r = require_privilege(conn, error, "run", name)) < 0)
                return r;
        char run_id[CONTROL_RUN_ID_MAX] = "";
        r = c->ops->run_job(c->userdata, name, run_id);
        if (r == -ENOENT)
                return no_such_job(error, name);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, CONTROL_ERROR_BUSY,
                                         "job '%s' is already running and its overlap policy is skip", name);
        if (r == -EALREADY)
                return sd_bus_error_setf(error, CONTROL_ERROR_BUSY,
                                         "job '%s' is already running and a run of it is already queued", name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "cannot run job '%s': %m", name);
        const char *state = r == CONTROL_RUN_QUEUED ? "queued" : r == CONTROL_RUN_WAITING ? "waiting" : "started";
        log_emit((&(struct log_record){ .priority = LOG_INFO, .job = name, .run_id = run_id[0] ? run_id : NULL }),
                 "control: uid %u %s a run of %s%s", (unsigned)conn->uid, r == 0 ? "started" : "queued", name,
                 r == CONTROL_RUN_WAITING ? " (waiting for a max_concurrent slot)" : "");
        if (!wait || (r != 0 && !run_id[0])) /* a pending run without a name cannot be waited for */
                return sd_bus_reply_method_return(m, "ssiit", run_id, state, -1, 0, UINT64_C(0));
        /* The reply waits for the outcome; the peer hears now which run it
         * waits for (tickctl run --follow reads its output by that id), and
         * why when it does not start at once. */
        bool started = r == 0;
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *signal = NULL;
        if ((r = sd_bus_message_new_signal(conn->bus, &signal, CONTROL_PATH, CONTROL_INTERFACE,
                                           started ? "RunStarted" : "RunWaiting")) < 0 ||
            (r = sd_bus_message_append(signal, "ss", name, run_id)) < 0 ||
            (!started && (r = sd_bus_message_append(signal, "s", state)) < 0) ||
            (r = sd_bus_send(conn->bus, signal, NULL)) < 0)
                return r;
        for (size_t i = 0; i < RECENT_MAX; i++) {
                const struct recent *done = &c->recent[i];
                if (strcmp(done->run_id, run_id) == 0)
                        return sd_bus_reply_method_return(m, "ssiit", run_id, done->result, done->exit_status,
                                                          done->signal, done->duration_usec);
        }

        struct waiter *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->connection = conn;
        w->call = sd_bus_message_ref(m);
        snprintf(w->run_id, sizeof(w->run_id), "%s", run_id);
        w->next = c->waiters;
        c->waiters = w;
        return 1; /* the reply comes with the outcome */
}

static int method_cancel_job(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        struct control *c = conn->control;
        const char *name;
        int r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if ((r = check_name(error, name)) < 0 || (r = require_privilege(conn, error, "cancel", name)) < 0)
                return r;
        r = c->ops->cancel_job(c->userdata, name);
        if (r == -ENOENT)
                return no_such_job(error, name);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, CONTROL_ERROR_NOT_RUNNING, "job '%s' is not running", name);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "cannot cancel job '%s': %m", name);
        log_emit((&(struct log_record){ .priority = LOG_INFO, .job = name }),
                 "control: uid %u cancelled %d run(s) of %s", (unsigned)conn->uid, r, name);
        return sd_bus_reply_method_return(m, "u", (uint32_t)r);
}

static int method_reload(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        struct control *c = conn->control;
        int r = require_privilege(conn, error, "reload", NULL);
        if (r < 0)
                return r;
        if ((r = c->ops->reload(c->userdata)) < 0)
                return sd_bus_error_set_errnof(error, r, "reload failed: %m");
        __attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
        struct budget budget = { 0 };
        if ((r = sd_bus_message_new_method_return(m, &reply)) < 0 || (r = append_files(conn, reply, &budget)) < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

/* busctl --address= says Hello first, as to a bus daemon. */
static int method_hello(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        char name[32];
        snprintf(name, sizeof(name), ":1.%u", conn->serial);
        return sd_bus_reply_method_return(m, "s", name);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("ListJobs", "b", "a" CONTROL_JOB_SIG, method_list_jobs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("ListFiles", "", "a" CONTROL_FILE_SIG, method_list_files, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("GetJob", "s", CONTROL_JOB_SIG "a(ss)at", method_get_job, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("GetStatus", "", "stuuta" CONTROL_FILE_SIG "a" CONTROL_RUN_SIG "a" CONTROL_BATCH_SIG,
                      method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("RunJob", "sb", "ssiit", method_run_job, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("CancelJob", "s", "u", method_cancel_job, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Reload", "", "a" CONTROL_FILE_SIG, method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable hello_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("Hello", "", "s", method_hello, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* ---- connections ---- */

static void waiter_free(struct waiter *w)
{
        sd_bus_message_unref(w->call);
        free(w);
}

/* Drops the waiters of CONN (NULL = all), answering them with ERROR_TEXT
 * when the peer is still there to read it. */
static void drop_waiters(struct control *c, struct connection *conn, const char *error_text)
{
        for (struct waiter **p = &c->waiters; *p;) {
                struct waiter *w = *p;
                if (conn && w->connection != conn) {
                        p = &w->next;
                        continue;
                }
                *p = w->next;
                if (error_text)
                        sd_bus_reply_method_errorf(w->call, SD_BUS_ERROR_NO_REPLY, "%s", error_text);
                waiter_free(w);
        }
}

static void connection_free(struct connection *conn)
{
        struct control *c = conn->control;
        drop_waiters(c, conn, NULL);
        if (conn->prev)
                conn->prev->next = conn->next;
        else
                c->connections = conn->next;
        if (conn->next)
                conn->next->prev = conn->prev;
        c->n_connections--;
        sd_bus_detach_event(conn->bus);
        /* No flush: it would wait, unbounded, for a peer that does not read. */
        sd_bus_close_unref(conn->bus);
        free(conn);
}

/* sd-bus keeps every reply the peer has not read yet in its write queue,
 * with no bound of its own: a peer that sends calls and never reads would
 * grow the daemon without limit. So before each call is dispatched, a
 * peer with CONTROL_MAX_UNREAD_REPLIES replies still queued (beyond what
 * the kernel's socket buffer holds) is dropped. Returns 1 when it was. */
static int connection_check_backlog(struct connection *conn)
{
        uint64_t queued = 0;
        if (sd_bus_get_n_queued_write(conn->bus, &queued) < 0 || queued < CONTROL_MAX_UNREAD_REPLIES)
                return 0;
        if (log_allowed(conn->control, conn->uid))
                log_emit((&(struct log_record){ .priority = LOG_WARNING }),
                         "control: uid %u (pid %d) does not read its replies (%" PRIu64 " unread): "
                         "closing its connection",
                         (unsigned)conn->uid, (int)conn->pid, queued);
        connection_free(conn);
        return 1;
}

/* sd-bus synthesises org.freedesktop.DBus.Local.Disconnected when the
 * peer goes away (or its stream breaks): that is where its bus, and
 * with it the descriptor, is released. */
static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        struct connection *conn = userdata;
        if (sd_bus_message_is_signal(m, "org.freedesktop.DBus.Local", "Disconnected")) {
                connection_free(conn);
                return 1;
        }
        return connection_check_backlog(conn);
}

/* Processes CONN until sd-bus has nothing left to do: its bus may end up
 * closed (CONN freed, or about to be by on_message). */
static void connection_drain(struct connection *conn)
{
        sd_bus *bus = sd_bus_ref(conn->bus);
        int r = 0;
        while (sd_bus_is_open(bus) > 0 && (r = sd_bus_process(bus, NULL)) > 0)
                ;
        if (r < 0 && sd_bus_is_open(bus) > 0) {
                log_emit((&(struct log_record){ .priority = LOG_DEBUG, .errno_value = -r }),
                         "control: dropping a peer: %s", strerror(-r));
                connection_free(conn);
        }
        sd_bus_unref(bus);
}

/* sd-bus (252 at least) reads BEGIN and whatever the peer sent behind it
 * in one go; a call that came in that same read stays unparsed in its
 * buffer, and sd-bus waits for the socket to become readable again, which
 * it never does while the peer waits for its answer (libdbus's dbus-send
 * writes BEGIN and its call back to back). So after each loop iteration,
 * a peer whose handshake has just ended is processed until it has nothing
 * left, and the source stays on only while some handshake is under way. */
static int check_handshakes(struct control *c)
{
        bool pending = false;
        for (struct connection *conn = c->connections, *next; conn; conn = next) {
                next = conn->next; /* processing CONN frees at most CONN */
                if (conn->ready)
                        continue;
                if (sd_bus_is_ready(conn->bus) <= 0) {
                        pending = true;
                        continue;
                }
                conn->ready = true;
                connection_drain(conn);
        }
        return sd_event_source_set_enabled(c->handshake_source, pending ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int on_handshake_check(sd_event_source *s, void *userdata)
{
        int r = check_handshakes(userdata);
        if (r < 0)
                log_emit((&(struct log_record){ .priority = LOG_WARNING, .errno_value = -r }),
                         "control: cannot watch handshakes: %s", strerror(-r));
        return 0;
}

/* Takes FD: it is closed on failure. */
static int connection_new(struct control *c, int fd)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        struct connection *conn = NULL;
        sd_bus *bus = NULL;
        int r;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                r = -errno;
        else if (!(conn = calloc(1, sizeof(*conn))))
                r = -ENOMEM;
        else if ((r = sd_bus_new(&bus)) >= 0 && (r = sd_bus_set_fd(bus, fd, fd)) >= 0)
                fd = -1; /* the bus owns it now */
        if (r < 0) {
                sd_bus_unref(bus);
                free(conn);
                close(fd);
                return r;
        }
        conn->control = c;
        conn->bus = bus;
        conn->uid = cred.uid;
        conn->pid = cred.pid;
        conn->serial = ++c->next_serial;
        if ((r = sd_bus_set_server(bus, 1, c->server_id)) < 0 ||
            (r = sd_bus_set_description(bus, "tickd-control-peer")) < 0 ||
            (r = sd_bus_add_filter(bus, NULL, on_message, conn)) < 0 ||
            (r = sd_bus_add_object_vtable(bus, NULL, CONTROL_PATH, CONTROL_INTERFACE, manager_vtable, conn)) < 0 ||
            (r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus", hello_vtable,
                                          conn)) < 0 ||
            (r = sd_bus_start(bus)) < 0 || (r = sd_bus_attach_event(bus, c->event, 0)) < 0) {
                sd_bus_flush_close_unref(bus);
                free(conn);
                return r;
        }
        conn->next = c->connections;
        if (conn->next)
                conn->next->prev = conn;
        c->connections = conn;
        c->n_connections++;
        /* The whole handshake may already have been read by sd_bus_start(). */
        return check_handshakes(c);
}

static int on_accept_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct control *c = userdata;
        int r = sd_event_source_set_enabled(c->listen_source, SD_EVENT_ON);
        if (r < 0)
                log_emit((&(struct log_record){ .priority = LOG_ERR, .errno_value = -r }),
                         "control: cannot accept connections again: %s", strerror(-r));
        return 0;
}

/* accept() failed for want of descriptors or memory: the peer stays in the
 * backlog and the socket readable, so retrying at once would spin. Stop
 * listening for a moment instead; say so once per episode, not per try. */
static void accept_pause(struct control *c, int error)
{
        if (!c->accept_starved)
                log_emit((&(struct log_record){ .priority = LOG_WARNING, .errno_value = error }),
                         "control: cannot accept connections: %s; retrying every %d ms until it can", strerror(error),
                         CONTROL_ACCEPT_RETRY_MSEC);
        c->accept_starved = true;
        uint64_t delay = (uint64_t)CONTROL_ACCEPT_RETRY_MSEC * 1000;
        int r;
        if (!c->accept_retry)
                r = sd_event_add_time_relative(c->event, &c->accept_retry, CLOCK_MONOTONIC, delay, 0, on_accept_retry,
                                               c);
        else if ((r = sd_event_source_set_time_relative(c->accept_retry, delay)) >= 0)
                r = sd_event_source_set_enabled(c->accept_retry, SD_EVENT_ONESHOT);
        /* Without the timer nothing would listen again: keep spinning then. */
        if (r >= 0)
                r = sd_event_source_set_enabled(c->listen_source, SD_EVENT_OFF);
        if (r < 0)
                log_emit((&(struct log_record){ .priority = LOG_WARNING, .errno_value = -r }),
                         "control: cannot pause accepting: %s", strerror(-r));
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct control *c = userdata;
        int peer = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (peer < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                        accept_pause(c, errno);
                else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        log_emit((&(struct log_record){ .priority = LOG_WARNING, .errno_value = errno }),
                                 "control: accept failed: %m");
                return 0;
        }
        if (c->accept_starved) {
                c->accept_starved = false;
                log_emit((&(struct log_record){ .priority = LOG_NOTICE }), "control: accepting connections again");
        }
        /* The system socket is open to every local user: one of them must
         * not be able to hold every slot. Root is always let in. */
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(peer, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid != 0) {
                size_t mine = 0;
                for (struct connection *conn = c->connections; conn; conn = conn->next)
                        mine += conn->uid == cred.uid;
                if (c->n_connections >= CONTROL_MAX_CONNECTIONS || mine >= CONTROL_MAX_PER_USER) {
                        if (log_allowed(c, cred.uid))
                                log_emit((&(struct log_record){ .priority = LOG_WARNING }),
                                         "control: uid %u has %zu of %zu connections open, refusing another",
                                         (unsigned)cred.uid, mine, c->n_connections);
                        close(peer);
                        return 0;
                }
        }
        int r = connection_new(c, peer);
        if (r < 0)
                log_emit((&(struct log_record){ .priority = LOG_WARNING, .errno_value = -r }),
                         "control: cannot set up a connection: %s", strerror(-r));
        return 0;
}

/* ---- the socket ---- */

/* Whether a daemon answers on PATH: then it is not ours to replace. */
static bool socket_is_live(const char *path)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        return connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
}

static int make_socket(struct control *c, const char *runtime_dir)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(c->path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, c->path);

        mode_t dir_mode = c->options.user_mode ? 0700 : 0755;
        if (mkdir(runtime_dir, dir_mode) < 0 && errno != EEXIST)
                return -errno;

        struct stat st;
        if (lstat(c->path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                if (socket_is_live(c->path))
                        return -EADDRINUSE;
                if (unlink(c->path) < 0 && errno != ENOENT)
                        return -errno;
        }

        c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->listen_fd < 0)
                return -errno;
        if (bind(c->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        /* Nobody can connect before listen(), so the mode is right before
         * the first peer can use the socket. */
        if (chmod(c->path, c->options.user_mode ? 0600 : 0666) < 0 || stat(c->path, &st) < 0) {
                int saved = -errno;
                unlink(c->path);
                return saved;
        }
        c->dev = st.st_dev;
        c->ino = st.st_ino;
        if (listen(c->listen_fd, SOMAXCONN) < 0)
                return -errno;
        return 0;
}

int control_new(sd_event *event, const struct control_options *options, const struct control_ops *ops, void *userdata,
                struct control **out)
{
        struct control *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->listen_fd = -1;
        c->event = sd_event_ref(event);
        c->options = *options;
        c->ops = ops;
        c->userdata = userdata;
        c->path = control_socket_path(options->runtime_dir);
        c->options.runtime_dir = NULL; /* borrowed: not kept past this call */
        int r = c->path ? 0 : -ENOMEM;
        if (r == 0)
                r = sd_id128_randomize(&c->server_id);
        if (r == 0)
                r = make_socket(c, options->runtime_dir);
        if (r == 0)
                r = sd_event_add_io(event, &c->listen_source, c->listen_fd, EPOLLIN, on_accept, c);
        if (r == 0)
                r = sd_event_add_post(event, &c->handshake_source, on_handshake_check, c);
        if (r == 0)
                r = sd_event_source_set_enabled(c->handshake_source, SD_EVENT_OFF);
        if (r < 0) {
                control_free(c);
                return r;
        }
        *out = c;
        return 0;
}

struct control *control_free(struct control *c)
{
        if (!c)
                return NULL;
        drop_waiters(c, NULL, "tickd is shutting down");
        while (c->connections)
                connection_free(c->connections);
        sd_event_source_disable_unref(c->listen_source);
        sd_event_source_disable_unref(c->handshake_source);
        sd_event_source_disable_unref(c->accept_retry);
        for (size_t i = 0; i < LOG_LIMIT_SLOTS; i++)
                limit_summarise(&c->limits[i]);
        sd_event_source_disable_unref(c->limit_timer);
        if (c->listen_fd >= 0) {
                close(c->listen_fd);
                /* Only our own socket: a successor may already have bound a new one. */
                struct stat st;
                if (c->path && lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
                        unlink(c->path);
        }
        free(c->path);
        sd_event_unref(c->event);
        free(c);
        return NULL;
}

void control_run_dropped(struct control *c, const char *job, const char *run_id, const char *reason)
{
        if (!c || !run_id || !run_id[0])
                return;
        for (struct waiter **p = &c->waiters; *p;) {
                struct waiter *w = *p;
                if (strcmp(w->run_id, run_id) != 0) {
                        p = &w->next;
                        continue;
                }
                *p = w->next;
                int r = sd_bus_reply_method_errorf(w->call, CONTROL_ERROR_DROPPED,
                                                   "the queued run %s of %s was dropped before it started: %s", run_id,
                                                   job, reason);
                if (r < 0)
                        log_emit((&(struct log_record){ .priority = LOG_DEBUG, .job = job, .run_id = run_id }),
                                 "control: cannot tell the waiter of a dropped run: %s", strerror(-r));
                waiter_free(w);
        }
}

void control_run_finished(struct control *c, const char *job, const struct control_outcome *o)
{
        if (!c || !o || !o->run_id)
                return;
        uint64_t duration = o->end_usec > o->start_usec ? o->end_usec - o->start_usec : 0;
        struct recent *done = &c->recent[c->recent_next++ % RECENT_MAX];
        snprintf(done->run_id, sizeof(done->run_id), "%s", o->run_id);
        snprintf(done->result, sizeof(done->result), "%s", strempty(o->result));
        done->exit_status = o->exit_status;
        done->signal = o->signal;
        done->duration_usec = duration;
        for (struct waiter **p = &c->waiters; *p;) {
                struct waiter *w = *p;
                if (strcmp(w->run_id, o->run_id) != 0) {
                        p = &w->next;
                        continue;
                }
                *p = w->next;
                int r = sd_bus_reply_method_return(w->call, "ssiit", o->run_id, strempty(o->result), o->exit_status,
                                                   o->signal, duration);
                if (r < 0)
                        log_emit((&(struct log_record){ .priority = LOG_DEBUG, .job = job, .run_id = o->run_id }),
                                 "control: cannot send the outcome to its waiter: %s", strerror(-r));
                waiter_free(w);
        }
}
