/* batch-prepare.c — the runners of an instant's batch (the shared one,
 * one per PAM or mail run), forked ahead of the instant (issue 16: the
 * first start); see batch.h (batch_prepare()) and runner.h
 * (runner_main_prepared()).
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
        uint32_t runner; /* its runner in RUNNERS */
        uint32_t index;  /* its place in that runner's requests */
        char run_id[CONTROL_RUN_ID_MAX];
};

/* A runner forked ahead: the shared one, or one of a PAM or mail run. */
struct prepared_runner {
        pid_t pid; /* 0: none (its fork failed, or it died) */
        int go_fd; /* the daemon's end of its go channel; -1 once closed */
};

struct batch_prepared {
        int read_fd, write_fd; /* the batch pipe to be */
        size_t n, n_runners;
        struct prepared_runner *runners;
        struct prepared_run runs[];
};

static void close_go(struct prepared_runner *runner)
{
        if (runner->go_fd >= 0)
                close(runner->go_fd); /* EOF: the runner drops what it did not start */
        runner->go_fd = -1;
}

static void prepared_free(struct batch_prepared *p, bool close_pipe)
{
        for (size_t i = 0; i < p->n_runners; i++)
                close_go(&p->runners[i]);
        if (close_pipe) {
                close(p->read_fd);
                close(p->write_fd);
        }
        free(p->runners);
        free(p);
}

void batch_prepare_drop(struct batch_manager *m)
{
        if (!m->prepared)
                return;
        prepared_free(m->prepared, true);
        m->prepared = NULL; /* its runners are reaped as any child is */
}

/* A runner forked ahead that died leaves its runs to be forked a runner
 * at the instant, as if never prepared. */
void batch_prepared_reaped(struct batch_manager *m, pid_t pid)
{
        struct batch_prepared *p = m->prepared;
        for (size_t i = 0; p && i < p->n_runners; i++)
                if (p->runners[i].pid == pid) {
                        close_go(&p->runners[i]);
                        p->runners[i].pid = 0;
                }
}

/* Whether REQ is a run a runner forked ahead can hold: one for a
 * scheduled instant (not tickctl run's), not on_failure. */
static bool preparable(const struct run_request *req)
{
        return req->scheduled_usec > 0 && !req->command && req->failed_exit_status < 0;
}

/* The prepared run of P that REQ is: same job, instant and run id, and
 * its runner alive. */
static struct prepared_run *prepared_find(struct batch_prepared *p, const struct job *job, int64_t scheduled_usec,
                                          const char *run_id)
{
        for (size_t k = 0; k < p->n; k++) {
                struct prepared_run *run = &p->runs[k];
                if (!run->taken && run->job == job && run->scheduled_usec == scheduled_usec &&
                    p->runners[run->runner].pid > 0 && (!run_id || strcmp(run->run_id, run_id) == 0))
                        return run;
        }
        return NULL;
}

const char *batch_prepared_run_id_of(const struct batch_manager *m, const struct job *job, int64_t scheduled_usec)
{
        struct prepared_run *run = m->prepared ? prepared_find(m->prepared, job, scheduled_usec, NULL) : NULL;
        return run ? run->run_id : NULL;
}

/* Forks runner R of P for the runs of P it holds (their requests in RR,
 * reporting on the batch pipe to be). A runner that cannot be made leaves
 * its runs unprepared (pid 0). */
static void prepared_fork(struct batch_manager *m, struct batch_prepared *p, uint32_t r, struct runner_request *rr,
                          size_t n)
{
        int go[2];
        struct prepared_runner *runner = &p->runners[r];
        /* The go channel: a packet per write (a batch's go records), and
         * send() with MSG_NOSIGNAL, so that a runner that died meets EPIPE,
         * never SIGPIPE, whatever the process's disposition. */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, go) < 0)
                return;
        pid_t pid = batch_runner_fork(m, rr, n, go[0]);
        close(go[0]);
        if (pid < 0) {
                close(go[1]);
                return;
        }
        *runner = (struct prepared_runner){ .pid = pid, .go_fd = go[1] };
}

int batch_prepare(struct batch_manager *m, const struct run_request *requests, size_t n)
{
        batch_prepare_drop(m);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += preparable(&requests[i]) && !requests[i].run_id;
        if (k == 0)
                return 0;
        struct batch_prepared *p = calloc(1, sizeof(*p) + k * sizeof(struct prepared_run));
        struct runner_request *rr = calloc(k, sizeof(*rr));
        int pipe_fds[2] = { -1, -1 };
        int r = 0;
        /* The shared runner and, at most, one for each run. */
        if (!p || !rr || !(p->runners = calloc(k + 1, sizeof(*p->runners))))
                r = -ENOMEM;
        else if (pipe2(pipe_fds, O_CLOEXEC) < 0)
                r = -errno;
        if (r < 0) {
                if (p)
                        free(p->runners);
                free(p);
                free(rr);
                return r;
        }
        p->read_fd = pipe_fds[0];
        p->write_fd = pipe_fds[1];
        p->n = k;
        for (size_t i = 0; i <= k; i++)
                p->runners[i] = (struct prepared_runner){ .go_fd = -1 };
        /* Runner 0 is the shared one; a PAM or mail run has one of its own
         * (batch_request_needs_own_runner()), as at the instant. */
        size_t n_shared = 0;
        p->n_runners = 1;
        for (size_t i = 0, j = 0; i < n; i++) {
                const struct run_request *req = &requests[i];
                if (!preparable(req) || req->run_id)
                        continue;
                struct prepared_run *run = &p->runs[j++];
                bool own = batch_request_needs_own_runner(m, req);
                *run = (struct prepared_run){ .job = req->job,
                                              .scheduled_usec = req->scheduled_usec,
                                              .runner = own ? (uint32_t)p->n_runners++ : 0,
                                              .index = own ? 0 : (uint32_t)n_shared++ };
                (void)control_run_id_new(run->run_id);
        }
        size_t prepared = 0;
        for (uint32_t runner = 0; runner < p->n_runners; runner++) {
                size_t n_rr = 0;
                for (size_t j = 0; j < k; j++) {
                        const struct prepared_run *run = &p->runs[j];
                        if (run->runner != runner)
                                continue;
                        /* The record's user, in the runner's copy of our memory. */
                        const char *user = batch_run_user(m, run->job);
                        struct run_request req = { .job = run->job,
                                                   .scheduled_usec = run->scheduled_usec,
                                                   .failed_exit_status = -1 };
                        rr[n_rr++] = batch_runner_request(m, &req, run->index, pipe_fds[1], run->run_id, user);
                }
                if (n_rr == 0)
                        continue; /* no shared runs */
                prepared_fork(m, p, runner, rr, n_rr);
                prepared += p->runners[runner].pid > 0 ? n_rr : 0;
        }
        free(rr); /* the runners have their copies */
        if (prepared == 0) {
                prepared_free(p, true);
                return -EAGAIN;
        }
        m->prepared = p;
        return (int)prepared;
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
                struct prepared_run *run = req->run_id && preparable(req)
                                                   ? prepared_find(p, req->job, req->scheduled_usec, req->run_id)
                                                   : NULL;
                if (!run)
                        continue;
                if (!found) {
                        found = malloc(n * sizeof(*found));
                        if (!found)
                                return NULL; /* the batch forks its own; the runners wait for their turn */
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

/* Sends RUNNER its N go records; on success its runs in B are its. */
static void go_send(struct batch *b, const struct prepared_runner *runner, const struct runner_go *go, size_t n)
{
        ssize_t w;
        while ((w = send(runner->go_fd, go, n * sizeof(go[0]), MSG_NOSIGNAL)) < 0 && errno == EINTR)
                ;
        /* A packet is sent whole or not at all. EPIPE: the runner died
         * before its instant, and these runs are forked a runner as usual. */
        for (size_t k = 0; w >= 0 && k < n; k++)
                b->runs[go[k].slot].runner_pid = runner->pid;
}

void batch_prepared_go(struct batch *b, struct batch_prepared *prepared, const size_t *match)
{
        /* At most 64 runs a batch (ADMISSION_SLICE): one packet of 512
         * bytes per runner; more go in a packet each. */
        struct runner_go go[64];
        for (size_t r = 0; r < prepared->n_runners; r++) {
                const struct prepared_runner *runner = &prepared->runners[r];
                size_t n_go = 0;
                for (size_t i = 0; runner->pid > 0 && i < b->n_runs; i++) {
                        if (match[i] == BATCH_UNPREPARED || b->runs[i].fork_error ||
                            prepared->runs[match[i]].runner != r)
                                continue;
                        go[n_go++] = (struct runner_go){ .index = prepared->runs[match[i]].index, .slot = (uint32_t)i };
                        if (n_go == sizeof(go) / sizeof(go[0])) {
                                go_send(b, runner, go, n_go);
                                n_go = 0;
                        }
                }
                if (n_go > 0)
                        go_send(b, runner, go, n_go);
        }
        prepared_free(prepared, false); /* the pipe is the batch's now */
}
