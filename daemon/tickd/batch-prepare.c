/* batch-prepare.c — the shared runner of an instant's batch, forked
 * ahead of the instant (issue 16: the first start); see batch.h
 * (batch_prepare()) and runner.h (runner_main_prepared()).
 *
 * Why: forking the runner at the instant put the copy of the daemon's
 * page tables, its copy-on-write faults and the runner's look-ups between
 * the timer and the job (tests/bench/RESULTS.md: 4.2 + 3.4 of 9.3 ms).
 * Forked ahead, the runner has done all of that when the instant comes,
 * and the daemon's admission is unchanged: it decides at the instant, as
 * before, and tells the runner which of its runs to start. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tickd/batch-internal.h"

struct prepared_run {
        const struct job *job; /* compared, never followed (batch.h) */
        int64_t scheduled_usec;
        bool taken;
        char run_id[CONTROL_RUN_ID_MAX];
};

struct batch_prepared {
        pid_t pid;
        int go_fd;             /* the daemon's end of the go channel */
        int read_fd, write_fd; /* the batch pipe to be */
        size_t n;
        struct prepared_run runs[];
};

static void prepared_free(struct batch_prepared *p, bool close_pipe)
{
        if (p->go_fd >= 0)
                close(p->go_fd); /* EOF: the runner drops what it did not start */
        if (close_pipe) {
                close(p->read_fd);
                close(p->write_fd);
        }
        free(p);
}

void batch_prepare_drop(struct batch_manager *m)
{
        if (!m->prepared)
                return;
        prepared_free(m->prepared, true);
        m->prepared = NULL; /* its runner is reaped as any child is */
}

void batch_prepared_reaped(struct batch_manager *m, pid_t pid)
{
        if (m->prepared && m->prepared->pid == pid)
                batch_prepare_drop(m);
}

/* Whether REQ is a run a prepared runner can hold: one for a scheduled
 * instant (not tickctl run's), not on_failure, that would share its
 * batch's runner. */
static bool preparable(const struct batch_manager *m, const struct run_request *req)
{
        return req->scheduled_usec > 0 && !req->command && req->failed_exit_status < 0 &&
               !batch_request_needs_own_runner(m, req);
}

/* The prepared run of P that REQ is: same job, instant and run id. */
static struct prepared_run *prepared_find(struct batch_prepared *p, const struct job *job, int64_t scheduled_usec,
                                          const char *run_id)
{
        for (size_t k = 0; k < p->n; k++) {
                struct prepared_run *run = &p->runs[k];
                if (!run->taken && run->job == job && run->scheduled_usec == scheduled_usec &&
                    (!run_id || strcmp(run->run_id, run_id) == 0))
                        return run;
        }
        return NULL;
}

const char *batch_prepared_run_id_of(const struct batch_manager *m, const struct job *job, int64_t scheduled_usec)
{
        struct prepared_run *run = m->prepared ? prepared_find(m->prepared, job, scheduled_usec, NULL) : NULL;
        return run ? run->run_id : NULL;
}

int batch_prepare(struct batch_manager *m, const struct run_request *requests, size_t n)
{
        batch_prepare_drop(m);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += preparable(m, &requests[i]) && !requests[i].run_id;
        if (k == 0)
                return 0;
        struct batch_prepared *p = calloc(1, sizeof(*p) + k * sizeof(struct prepared_run));
        struct runner_request *rr = calloc(k, sizeof(*rr));
        int pipe_fds[2] = { -1, -1 }, go[2] = { -1, -1 };
        int r = 0;
        if (!p || !rr)
                r = -ENOMEM;
        /* The go channel: a packet per write (a batch's go records), and
         * send() with MSG_NOSIGNAL, so that a runner that died meets EPIPE,
         * never SIGPIPE, whatever the process's disposition. */
        else if (pipe2(pipe_fds, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, go) < 0)
                r = -errno;
        if (r < 0) {
                for (size_t i = 0; i < 2; i++) {
                        if (pipe_fds[i] >= 0)
                                close(pipe_fds[i]);
                        if (go[i] >= 0)
                                close(go[i]);
                }
                free(p);
                free(rr);
                return r;
        }
        *p = (struct batch_prepared){ .go_fd = go[1], .read_fd = pipe_fds[0], .write_fd = pipe_fds[1], .n = k };
        const char *own_user = batch_manager_own_user_name(m);
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
                const struct run_request *req = &requests[i];
                if (!preparable(m, req) || req->run_id)
                        continue;
                struct prepared_run *run = &p->runs[j];
                *run = (struct prepared_run){ .job = req->job, .scheduled_usec = req->scheduled_usec };
                batch_new_run_id(run->run_id);
                /* The record's user as batch.c's run_fill() names it, in the
                 * runner's copy of our memory. */
                const char *user = req->job->user ? req->job->user : own_user ? own_user : "?";
                rr[j] = batch_runner_request(m, req, (uint32_t)j, pipe_fds[1], run->run_id, user);
                j++;
        }
        pid_t pid = batch_runner_fork(m, rr, k, go[0]);
        close(go[0]);
        free(rr); /* the runner has its copy */
        if (pid < 0) {
                close(go[1]);
                p->go_fd = -1;
                prepared_free(p, true);
                return (int)pid;
        }
        p->pid = pid;
        m->prepared = p;
        return (int)k;
}

struct batch_prepared *batch_prepared_take(struct batch_manager *m, const struct run_request *requests, size_t n,
                                           size_t **match)
{
        *match = NULL;
        struct batch_prepared *p = m->prepared;
        if (!p)
                return NULL;
        size_t *found = NULL;
        size_t n_found = 0;
        for (size_t i = 0; i < n; i++) {
                const struct run_request *req = &requests[i];
                struct prepared_run *run = req->run_id && preparable(m, req)
                                                   ? prepared_find(p, req->job, req->scheduled_usec, req->run_id)
                                                   : NULL;
                if (!run)
                        continue;
                if (!found) {
                        found = malloc(n * sizeof(*found));
                        if (!found)
                                return NULL; /* the batch forks its own; the runner waits for its turn */
                        for (size_t x = 0; x < n; x++)
                                found[x] = BATCH_UNPREPARED;
                }
                run->taken = true;
                found[i] = (size_t)(run - p->runs);
                n_found++;
        }
        if (n_found == 0)
                return NULL; /* another batch (a queued run, a retry): the prepared one waits for its instant */
        m->prepared = NULL;
        *match = found;
        return p;
}

void batch_prepared_pipe(const struct batch_prepared *prepared, int p[2])
{
        p[0] = prepared->read_fd;
        p[1] = prepared->write_fd;
}

void batch_prepared_go(struct batch *b, struct batch_prepared *prepared, const size_t *match)
{
        /* At most 64 runs a batch (ADMISSION_SLICE): one packet of 512
         * bytes; more go in a packet each. */
        struct runner_go go[64];
        size_t n_go = 0;
        for (size_t i = 0; i <= b->n_runs; i++) {
                if (i < b->n_runs && match[i] != BATCH_UNPREPARED && !b->runs[i].fork_error)
                        go[n_go++] = (struct runner_go){ .index = (uint32_t)match[i], .slot = (uint32_t)i };
                if (n_go == 0 || (n_go < sizeof(go) / sizeof(go[0]) && i < b->n_runs))
                        continue;
                ssize_t w;
                while ((w = send(prepared->go_fd, go, n_go * sizeof(go[0]), MSG_NOSIGNAL)) < 0 && errno == EINTR)
                        ;
                /* A packet is sent whole or not at all. EPIPE: the runner
                 * died before its instant, and these runs are forked a
                 * runner as usual. */
                for (size_t k = 0; w >= 0 && k < n_go; k++)
                        b->runs[go[k].slot].runner_pid = prepared->pid;
                n_go = 0;
        }
        prepared_free(prepared, false); /* the pipe is the batch's now */
}
