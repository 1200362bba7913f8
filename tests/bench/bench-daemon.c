/* bench-daemon.c — dispatch of 1,000 jobs due at one instant, against a
 * bare loop that spawns and reaps 1,000 /bin/true.
 *
 * "batch" does what the daemon does on a tick (batch.h): one pipe, one
 * runner per job (each forking /bin/sh -c /bin/true in its own session,
 * with the runner's credential and environment work), the collector
 * reading outcome records until EOF. Measured: time until batch_spawn()
 * returns (every runner forked) and until the batch's EOF (every outcome
 * in). "bare" is fork + execv("/bin/true") 1,000 times, then waitpid() for
 * all. Records are logged at warning level only, so per-run log lines do
 * not count. BENCH_DISPATCH_JOBS changes the count. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tickd/batch.h"
#include "shared/log.h"

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double bare(int n)
{
        double start = now_ms();
        for (int i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        execl("/bin/true", "true", (char *)NULL);
                        _exit(127);
                }
        }
        for (int i = 0; i < n; i++)
                wait(NULL);
        return now_ms() - start;
}

static size_t finished;
static void on_finished(void *userdata, const struct run *run, const struct outcome *o)
{
        if (o && o->status == OUTCOME_EXITED && o->code == 0)
                finished++;
}

static void batch(int n, double *spawned_ms, double *eof_ms)
{
        sd_event *event;
        struct batch_manager *m;
        sd_event_new(&event);
        /* BENCH_CGROUP_DIR: a cgroup v2 directory to make each run's cgroup
         * in, as tickd does under a delegated unit (issue 19). */
        batch_manager_new(&(struct batch_manager_options){ .event = event,
                                                           .finished = on_finished,
                                                           .cgroup_dir = getenv("BENCH_CGROUP_DIR") },
                          &m);
        struct job job = { .name = "bench",
                           .command = "/bin/true",
                           .umask = -1,
                           .kill_grace_usec = JOB_DEFAULT_KILL_GRACE_USEC,
                           .enabled = true,
                           .kill_leftovers = true,
                           .pam = -1 };
        struct run_request *req = calloc((size_t)n, sizeof(*req));
        for (int i = 0; i < n; i++)
                req[i] = (struct run_request){ .job = &job, .scheduled_usec = 1, .failed_exit_status = -1 };
        finished = 0;
        double start = now_ms();
        batch_spawn(m, req, (size_t)n);
        *spawned_ms = now_ms() - start;
        while (batch_open_count(m) > 0)
                sd_event_run(event, UINT64_MAX);
        *eof_ms = now_ms() - start;
        if (finished != (size_t)n)
                fprintf(stderr, "only %zu of %d runs succeeded\n", finished, n);
        batch_manager_free(m);
        sd_event_unref(event);
        free(req);
}

int main(void)
{
        int n = getenv("BENCH_DISPATCH_JOBS") ? atoi(getenv("BENCH_DISPATCH_JOBS")) : 1000;
        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        printf("dispatch of %d jobs due at one instant (ms; best of 3)%s%s\n", n,
               getenv("BENCH_CGROUP_DIR") ? "; a cgroup per run under " : "",
               getenv("BENCH_CGROUP_DIR") ? getenv("BENCH_CGROUP_DIR") : "");
        double best_bare = 1e18, best_spawn = 1e18, best_eof = 1e18;
        for (int round = 0; round < 3; round++) {
                double b = bare(n), s, e;
                batch(n, &s, &e);
                printf("  round %d: bare spawn+reap %8.1f   batch: runners forked %8.1f, EOF %8.1f\n", round + 1, b, s,
                       e);
                if (b < best_bare)
                        best_bare = b;
                if (s < best_spawn)
                        best_spawn = s;
                if (e < best_eof)
                        best_eof = e;
        }
        printf("best: bare %.1f ms; batch runners forked %.1f ms, EOF %.1f ms; EOF/bare = %.2f (target <= 2)\n",
               best_bare, best_spawn, best_eof, best_eof / best_bare);
        return 0;
}
