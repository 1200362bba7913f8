/* orphans.c — run records in STATE_DIR/runs and the runs a killed daemon
 * left behind; see orphans.h. */
#include "tickd/orphans.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/clock.h"
#include "shared/log.h"
#include "shared/proc-stat.h"
#include "shared/state.h"
#include "tickd/batch-internal.h"
#include "tickd/collector.h"

#define RECORD_MAX   4096
#define NAME_MAX_LEN (CONTROL_RUN_ID_MAX + 16)

/* A run and the on_failure command started under its id have a record each. */
static int record_name(const char *run_id, bool on_failure, char out[static NAME_MAX_LEN])
{
        if (!run_id[0] || run_id[0] == '.' || strchr(run_id, '/'))
                return -EINVAL;
        snprintf(out, NAME_MAX_LEN, "%s%s", run_id, on_failure ? ".on_failure" : "");
        return 0;
}

int orphans_process_start(pid_t pid, uint64_t *out)
{
        struct proc_stat st;
        int r = proc_stat_read(pid, &st);
        if (r < 0)
                return r;
        *out = st.start_ticks;
        return 0;
}

static int record_format(const struct orphan_record *rec, char *buf, size_t size)
{
        int n = snprintf(buf, size,
                         "job=%s\nrun_id=%s\nuser=%s\non_failure=%d\nscheduled_usec=%" PRId64 "\n"
                         "start_usec=%" PRId64 "\nboot_id=%s\nrunner_pid=%d\nrunner_start=%" PRIu64 "\n"
                         "job_pid=%d\nslot=%u\n",
                         rec->job_name, rec->run_id, rec->user, rec->on_failure, rec->scheduled_usec, rec->start_usec,
                         rec->boot_id, (int)rec->runner_pid, rec->runner_start, (int)rec->job_pid, (unsigned)rec->slot);
        const struct outcome *o = &rec->outcome;
        if (rec->has_outcome && n >= 0 && (size_t)n < size)
                n += snprintf(buf + n, size - (size_t)n,
                              "status=%d\ncode=%d\nsignal=%d\nerror=%d\nstage=%.*s\ntimed_out=%d\ncancelled=%d\n"
                              "end_usec=%" PRId64 "\nduration_usec=%" PRId64 "\nuser_usec=%" PRId64 "\n"
                              "system_usec=%" PRId64 "\nmaxrss_kb=%" PRId64 "\n",
                              o->status, o->code, o->signal, o->error, (int)strnlen(o->stage, sizeof(o->stage)),
                              o->stage, o->timed_out, o->cancelled, o->end_usec, o->duration_usec, o->user_usec,
                              o->system_usec, o->maxrss_kb);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int orphans_record_write(const char *dir, struct orphan_record *rec)
{
        char name[NAME_MAX_LEN], tmp[NAME_MAX_LEN + 32], text[RECORD_MAX];
        int r = record_name(rec->run_id, rec->on_failure, name);
        if (r < 0)
                return r;
        rec->runner_pid = getpid();
        if ((r = orphans_process_start(rec->runner_pid, &rec->runner_start)) < 0 ||
            (r = state_boot_id(rec->boot_id)) < 0 || (r = record_format(rec, text, sizeof(text))) < 0)
                return r;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        snprintf(tmp, sizeof(tmp), ".#%s.%d", name, (int)rec->runner_pid);
        (void)unlinkat(dfd, tmp, 0); /* a leftover of a runner with our pid */
        _cleanup_close_ int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        size_t len = strlen(text);
        if (write(fd, text, len) != (ssize_t)len)
                r = errno ? -errno : -EIO;
        else if (renameat(dfd, tmp, dfd, name) < 0)
                r = -errno;
        if (r < 0)
                (void)unlinkat(dfd, tmp, 0);
        return r;
}

static int parse_i64(const char *value, int64_t *out)
{
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end)
                return -EBADMSG;
        *out = v;
        return 0;
}

/* One KEY=VALUE line of a record into REC. Unknown keys are skipped: a
 * newer tickd may write more. */
static int record_parse_line(struct orphan_record *rec, const char *key, const char *value)
{
        struct outcome *o = &rec->outcome;
        int64_t v = 0;
        struct {
                const char *key;
                char *buf;
                size_t size;
        } strings[] = {
                { "job", rec->job_name, sizeof(rec->job_name) },
                { "run_id", rec->run_id, sizeof(rec->run_id) },
                { "user", rec->user, sizeof(rec->user) },
                { "boot_id", rec->boot_id, sizeof(rec->boot_id) },
        };
        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
                if (strcmp(key, strings[i].key) == 0) {
                        if (strlen(value) >= strings[i].size)
                                return -EBADMSG;
                        memcpy(strings[i].buf, value, strlen(value) + 1);
                        return 0;
                }
        if (strcmp(key, "stage") == 0) {
                memcpy(o->stage, value, strnlen(value, sizeof(o->stage)));
                return 0;
        }
        if (parse_i64(value, &v) < 0)
                return -EBADMSG;
        struct {
                const char *key;
                int64_t *i64;
                int32_t *i32;
                uint8_t *u8;
        } fields[] = {
                { "scheduled_usec", .i64 = &rec->scheduled_usec },
                { "start_usec", .i64 = &rec->start_usec },
                { "end_usec", .i64 = &o->end_usec },
                { "duration_usec", .i64 = &o->duration_usec },
                { "user_usec", .i64 = &o->user_usec },
                { "system_usec", .i64 = &o->system_usec },
                { "maxrss_kb", .i64 = &o->maxrss_kb },
                { "code", .i32 = &o->code },
                { "signal", .i32 = &o->signal },
                { "error", .i32 = &o->error },
                { "timed_out", .u8 = &o->timed_out },
                { "cancelled", .u8 = &o->cancelled },
        };
        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
                if (strcmp(key, fields[i].key) == 0) {
                        if (fields[i].i64)
                                *fields[i].i64 = v;
                        else if (fields[i].i32)
                                *fields[i].i32 = (int32_t)v;
                        else
                                *fields[i].u8 = v != 0;
                        return 0;
                }
        if (strcmp(key, "on_failure") == 0)
                rec->on_failure = v != 0;
        else if (strcmp(key, "runner_pid") == 0)
                rec->runner_pid = (pid_t)v;
        else if (strcmp(key, "runner_start") == 0)
                rec->runner_start = (uint64_t)v;
        else if (strcmp(key, "job_pid") == 0)
                rec->job_pid = o->pid = (pid_t)v;
        else if (strcmp(key, "slot") == 0)
                rec->slot = (uint32_t)v;
        else if (strcmp(key, "status") == 0) {
                rec->has_outcome = true;
                o->status = (int32_t)v;
        }
        return 0;
}

/* Reads the record NAME in DIR_FD. Another user's hand in the state
 * directory must not block or redirect the daemon: no FIFOs, no links. */
static int record_read(int dir_fd, const char *name, struct orphan_record *out)
{
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        char text[RECORD_MAX + 1];
        ssize_t n = read(fd, text, RECORD_MAX);
        if (n < 0)
                return -errno;
        text[n] = '\0';
        struct orphan_record rec = { 0 };
        rec.outcome = (struct outcome){ .kind = OUTCOME_FINISHED };
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (!next)
                        return -EBADMSG; /* torn: cannot be, they are renamed whole */
                *next++ = '\0';
                char *value = strchr(line, '=');
                if (!value)
                        return -EBADMSG;
                *value++ = '\0';
                if (record_parse_line(&rec, line, value) < 0)
                        return -EBADMSG;
        }
        char expected[NAME_MAX_LEN];
        if (!rec.job_name[0] || rec.runner_pid <= 0 || record_name(rec.run_id, rec.on_failure, expected) < 0 ||
            strcmp(expected, name) != 0)
                return -EBADMSG;
        *out = rec;
        return 0;
}

/* Removes record NAME; false when it is still there. ENOENT: the runner
 * never wrote one. */
static bool record_remove(const struct batch_manager *m, const char *name)
{
        return unlinkat(m->runs_fd, name, 0) == 0 || errno == ENOENT;
}

static void retry_unremoved(struct batch_manager *m)
{
        size_t kept = 0;
        for (size_t i = 0; i < m->n_unremoved; i++) {
                if (record_remove(m, m->unremoved[i]))
                        free(m->unremoved[i]);
                else
                        m->unremoved[kept++] = m->unremoved[i];
        }
        m->n_unremoved = kept;
}

void orphans_forget(const struct run *run)
{
        struct batch_manager *m = run->batch->manager;
        char name[NAME_MAX_LEN];
        if (m->runs_fd < 0 || record_name(run->run_id, run->on_failure, name) < 0)
                return;
        retry_unremoved(m);
        if (record_remove(m, name))
                return;
        /* Still there, its run recorded: a next instance would record it
         * again. Kept in mind (the list grows by one per run only while the
         * directory cannot be written: bounded by the runs of that time). */
        char **more = reallocarray(m->unremoved, m->n_unremoved + 1, sizeof(*more));
        char *copy = more ? strdup(name) : NULL;
        if (more)
                m->unremoved = more;
        if (copy)
                m->unremoved[m->n_unremoved++] = copy;
}

void orphans_forget_pending(struct batch_manager *m)
{
        if (m->runs_fd >= 0)
                retry_unremoved(m);
        for (size_t i = 0; i < m->n_unremoved; i++)
                free(m->unremoved[i]);
        free(m->unremoved);
        m->unremoved = NULL;
        m->n_unremoved = 0;
}

/* A pidfd for the runner REC names, or -ESRCH when that runner is gone: a
 * process with its pid that started at another time (or in another boot)
 * is someone else. The pidfd is opened before the start time is compared,
 * so it refers to the runner whenever the comparison says it is alive. */
static int runner_open(const struct orphan_record *rec)
{
        char boot_id[37];
        if (state_boot_id(boot_id) == 0 && strcmp(boot_id, rec->boot_id) != 0)
                return -ESRCH;
        int fd = (int)syscall(SYS_pidfd_open, rec->runner_pid, 0); /* always close-on-exec */
        if (fd < 0)
                return -errno;
        uint64_t start;
        int r = orphans_process_start(rec->runner_pid, &start);
        if (r < 0 || start != rec->runner_start) {
                close(fd);
                return r < 0 && r != -ESRCH ? r : -ESRCH;
        }
        return fd;
}

/* A batch of one run, for REC's run, linked into M and counted as running. */
static struct batch *orphan_batch_new(struct batch_manager *m, const struct orphan_record *rec)
{
        struct batch *b = calloc(1, sizeof(*b) + sizeof(struct run));
        if (!b)
                return NULL;
        /* Its age as status shows it: CLOCK_MONOTONIC is one clock for every process of a boot. */
        uint64_t now = clock_now_usec(CLOCK_MONOTONIC);
        uint64_t age = (uint64_t)((int64_t)clock_now_usec(CLOCK_REALTIME) - rec->start_usec);
        *b = (struct batch){ .manager = m,
                             .fd = -1,
                             .adopted = true,
                             .orphan = true,
                             .n_runs = 1,
                             .created_usec = age < now ? now - age : now };
        struct run *run = &b->runs[0];
        run->batch = b;
        run->job_name = strdup(rec->job_name);
        run->user = rec->user[0] ? strdup(rec->user) : NULL; /* NULL on ENOMEM: only a field lost */
        if (!run->job_name) {
                free(b);
                return NULL;
        }
        b->id = m->next_id++;
        memcpy(run->run_id, rec->run_id, sizeof(run->run_id));
        run->scheduled_usec = rec->scheduled_usec;
        run->on_failure = rec->on_failure;
        run->runner_pid = rec->runner_pid;
        run->runner_slot = rec->slot;
        run->job_pid = rec->job_pid;
        batch_link(b);
        m->n_running++;
        return b;
}

void orphans_finish(struct batch *b)
{
        struct run *run = &b->runs[0];
        char name[NAME_MAX_LEN];
        struct orphan_record rec;
        /* The runner writes its outcome before it exits: read it now. */
        bool known = record_name(run->run_id, run->on_failure, name) == 0 &&
                     record_read(b->manager->runs_fd, name, &rec) == 0 && rec.has_outcome;
        run->runner_pid = 0;
        collector_run_finished(b, run, known ? &rec.outcome : NULL);
        batch_free(b);
}

static int orphan_on_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        orphans_finish(userdata);
        return 0;
}

static bool run_known(const struct batch_manager *m, const struct orphan_record *rec)
{
        for (const struct batch *b = m->first; b; b = b->next)
                for (size_t i = 0; i < b->n_runs; i++)
                        if (b->runs[i].on_failure == rec->on_failure && strcmp(b->runs[i].run_id, rec->run_id) == 0)
                                return true;
        return false;
}

/* The record NAME: recorded now, or watched until its runner exits.
 * Returns whether the run still runs. */
static bool orphan_adopt(struct batch_manager *m, const char *name)
{
        struct orphan_record rec;
        int r = record_read(m->runs_fd, name, &rec);
        if (r < 0) {
                log_msg(LOG_WARNING, "run record %s/%s is unreadable (%s); removing it", m->runs_dir, name,
                        strerror(-r));
                (void)unlinkat(m->runs_fd, name, 0);
                return false;
        }
        if (run_known(m, &rec))
                return false; /* adopted from the fd store: its pipe says how it ends */
        int fd = rec.has_outcome ? -ESRCH : runner_open(&rec);
        if (fd < 0 && fd != -ESRCH) {
                /* Recording it lost now could record it twice: its runner
                 * may still write its outcome here for a later start. */
                log_msg(LOG_WARNING,
                        "cannot watch runner %d of %s (run %s): %s; its run is recorded at a later "
                        "start of tickd",
                        (int)rec.runner_pid, rec.job_name, rec.run_id, strerror(-fd));
                return false;
        }
        struct batch *b = orphan_batch_new(m, &rec);
        if (!b) {
                log_msg(LOG_ERR, "cannot take over run %s of %s: %s", rec.run_id, rec.job_name, strerror(ENOMEM));
                if (fd >= 0)
                        close(fd);
                return false;
        }
        if (fd < 0) {
                orphans_finish(b);
                return false;
        }
        b->fd = fd;
        r = sd_event_add_io(m->event, &b->io, fd, EPOLLIN, orphan_on_exit, b);
        if (r < 0) {
                log_msg(LOG_ERR, "cannot watch runner %d of %s: %s", (int)rec.runner_pid, rec.job_name, strerror(-r));
                m->n_running--;
                batch_free(b); /* its record stays, for a later start */
                return false;
        }
        log_emit(&(struct log_record){ .event = LOG_EVENT_ADOPTED,
                                       .priority = LOG_INFO,
                                       .job = rec.job_name,
                                       .run_id = rec.run_id,
                                       .user = rec.user[0] ? rec.user : NULL,
                                       .job_pid = rec.job_pid,
                                       .scheduled_usec = rec.scheduled_usec },
                 "%s of %s (runner pid %d) left running by an instance of tickd that was killed; watching it",
                 rec.on_failure ? "on_failure command" : "run", rec.job_name, (int)rec.runner_pid);
        return true;
}

size_t orphans_adopt(struct batch_manager *m)
{
        if (m->runs_fd < 0)
                return 0;
        int fd = openat(m->runs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                log_msg(LOG_WARNING, "cannot read %s: %s", m->runs_dir, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return 0;
        }
        size_t running = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.' && orphan_adopt(m, e->d_name))
                        running++;
        closedir(d);
        return running;
}
