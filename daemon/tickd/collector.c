/* collector.c — a batch's records until EOF, and a finished run's way
 * out; see collector.h. */
#include "tickd/collector.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "shared/log.h"
#include "tickd/batch-internal.h"
#include "tickd/mailer.h"
#include "tickd/orphans.h"

enum log_event collector_outcome_event(const struct outcome *o)
{
        /* The runner sets at most one of timed_out and cancelled: whichever
         * asked the job to stop first. */
        if (!o)
                return LOG_EVENT_LOST;
        if (o->timed_out)
                return LOG_EVENT_TIMED_OUT;
        if (o->cancelled)
                return LOG_EVENT_CANCELLED;
        if (o->in_cgroup && o->oom_kills > 0)
                return LOG_EVENT_FAILED; /* whatever the main process's status: its cgroup ran out of memory */
        if (o->status == OUTCOME_EXITED && o->code == 0)
                return LOG_EVENT_SUCCEEDED;
        return LOG_EVENT_FAILED;
}

static void run_log_outcome(const struct run *run, const struct outcome *o)
{
        const char *what = run->on_failure ? "on_failure command" : "run";
        struct log_record rec = {
                .event = collector_outcome_event(o),
                .job = run->job_name,
                .run_id = run->run_id,
                .user = run->user,
                .scheduled_usec = run->scheduled_usec,
                .on_failure = run->on_failure,
        };
        if (!o && run->batch->orphan) {
                log_emit(&rec, "%s of %s lost: tickd was killed while it ran; its outcome is unknown", what,
                         run->job_name);
                return;
        }
        if (!o) {
                log_emit(&rec, "%s of %s lost: its runner exited without reporting", what, run->job_name);
                return;
        }
        rec.has_resources = true;
        rec.duration_usec = o->duration_usec;
        rec.cpu_usec = o->user_usec + o->system_usec;
        rec.maxrss_kb = o->maxrss_kb;
        char extra[96 + sizeof(o->mail_detail) + 32] = ""; /* leftovers, then the mail's fate */
        if (o->in_cgroup) {
                rec.has_cgroup = true;
                rec.leftovers = o->leftovers;
                rec.cgroup_cpu_usec = o->cgroup_cpu_usec;
                rec.memory_peak = o->memory_peak;
                rec.oom_kills = o->oom_kills;
                if (o->leftovers)
                        snprintf(extra, sizeof(extra), " (leftover processes: %d, %s)", o->leftovers,
                                 o->leftovers_killed ? "killed" : "left running");
        }
        if (o->status == OUTCOME_EXITED) {
                rec.has_exit_status = true;
                rec.exit_status = o->code;
        } else if (o->status == OUTCOME_SIGNALED) {
                rec.signal = o->signal;
        } else {
                rec.errno_value = o->error;
        }
        char mail_reason[sizeof(o->mail_detail) + 1];
        rec.mail = mail_result_name(o->mail);
        snprintf(mail_reason, sizeof(mail_reason), "%.*s", (int)sizeof(o->mail_detail), o->mail_detail);
        if (rec.mail && mail_reason[0])
                rec.mail_reason = mail_reason;
        if (o->mail == MAIL_RESULT_FAILED || o->mail == MAIL_RESULT_NOT_SENT) {
                size_t at = strlen(extra);
                snprintf(extra + at, sizeof(extra) - at, "; mail %s: %s",
                         o->mail == MAIL_RESULT_FAILED ? "failed" : "not sent", mail_reason);
        }
        switch (rec.event) {
        case LOG_EVENT_TIMED_OUT:
                log_emit(&rec, "%s of %s timed out and was killed%s", what, run->job_name, extra);
                break;
        case LOG_EVENT_CANCELLED: log_emit(&rec, "%s of %s was cancelled%s", what, run->job_name, extra); break;
        case LOG_EVENT_SUCCEEDED: log_emit(&rec, "%s of %s succeeded%s", what, run->job_name, extra); break;
        default:
                if (o->in_cgroup && o->oom_kills > 0) {
                        rec.reason = "oom-kill";
                        log_emit(&rec,
                                 "%s of %s failed: out of memory, the kernel's OOM killer killed %lld process%s of "
                                 "its cgroup (memory_max)%s",
                                 what, run->job_name, (long long)o->oom_kills, o->oom_kills == 1 ? "" : "es", extra);
                } else if (o->status == OUTCOME_SETUP_FAILED && o->detail[0])
                        log_emit(&rec, "%s of %s failed: %.*s%s", what, run->job_name, (int)sizeof(o->detail),
                                 o->detail, extra);
                else if (o->status == OUTCOME_SETUP_FAILED)
                        log_emit(&rec, "%s of %s failed: %.*s: %s%s", what, run->job_name, (int)sizeof(o->stage),
                                 o->stage, strerror(o->error), extra);
                else if (o->status == OUTCOME_SIGNALED)
                        log_emit(&rec, "%s of %s was killed by signal %d%s", what, run->job_name, o->signal, extra);
                else
                        log_emit(&rec, "%s of %s failed with exit status %d%s", what, run->job_name, o->code, extra);
        }
}

void collector_run_finished(struct batch *b, struct run *run, const struct outcome *o)
{
        if (run->finished)
                return;
        run->finished = true;
        b->n_finished++;
        struct batch_manager *m = b->manager;
        m->n_running--;
        run_log_outcome(run, o); /* 1. the journal record */
        batch_image_sync(run);   /* 2. the stored image and the run record: not reported again */
        orphans_forget(run);
        if (m->options.finished) /* 3. the owner: in tickd, control and then the completion policy */
                m->options.finished(m->options.userdata, run, o);
}

static void collector_record(struct batch *b, const struct outcome *o)
{
        if (o->slot >= b->n_runs)
                return; /* cannot happen with our runners; never trust an index blindly */
        struct run *run = &b->runs[o->slot];
        if (o->kind == OUTCOME_STARTED) {
                run->job_pid = o->pid;
                batch_image_sync(run);
                log_emit(&(struct log_record){ .event = LOG_EVENT_STARTED,
                                               .priority = LOG_INFO,
                                               .job = run->job_name,
                                               .run_id = run->run_id,
                                               .user = run->user,
                                               .job_pid = o->pid,
                                               .scheduled_usec = run->scheduled_usec,
                                               .on_failure = run->on_failure },
                         "%s of %s started as pid %d", run->on_failure ? "on_failure command" : "run", run->job_name,
                         o->pid);
                if (b->manager->runs_dir)
                        state_writes_report(&b->manager->record_writes, "run records", b->manager->runs_dir, -o->error);
                if (run->cancel_requested)
                        batch_signal_cancel(run);
        } else if (o->kind == OUTCOME_FINISHED) {
                collector_run_finished(b, run, o);
        }
}

/* Records until EOF. EOF means every runner of the batch
 * has exited (only they held the write end), so the batch is complete.
 * Reads are whole records: runners write whole records atomically and
 * every read asks for a multiple of the record size, so a batch handed to
 * the next instance never has half a record consumed. */
static int collector_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct batch *b = userdata;
        for (;;) {
                unsigned char chunk[sizeof(struct outcome) * 32];
                memcpy(chunk, b->buf, b->buf_len);
                ssize_t n = read(fd, chunk + b->buf_len, sizeof(chunk) - b->buf_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0)
                        break; /* EOF (or a read error, which we treat the same way) */
                size_t total = b->buf_len + (size_t)n, off = 0;
                for (; total - off >= sizeof(struct outcome); off += sizeof(struct outcome)) {
                        struct outcome o;
                        memcpy(&o, chunk + off, sizeof(o));
                        collector_record(b, &o);
                }
                b->buf_len = total - off;
                memcpy(b->buf, chunk + off, b->buf_len);
        }
        for (size_t i = 0; i < b->n_runs; i++)
                collector_run_finished(b, &b->runs[i], NULL);
        batch_free(b);
        return 0;
}

int collector_watch(struct batch *b)
{
        if (fcntl(b->fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        return sd_event_add_io(b->manager->event, &b->io, b->fd, EPOLLIN, collector_on_io, b);
}

void collector_drain(struct batch *b)
{
        fcntl(b->fd, F_SETFL, 0);
        collector_on_io(b->io, b->fd, EPOLLIN, b);
}
