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
 * not count. BENCH_DISPATCH_JOBS changes the count.
 *
 * Reap lag (issue 16): one more batch whose job is this program run as
 * "bench-daemon --stamp FILE", which appends CLOCK_MONOTONIC to FILE and
 * exits at once; the lag is from the latest stamp (the last job's exit,
 * give or take its exit_group()) to the collector's last finished run.
 * BENCH_PART=dispatch or BENCH_PART=lag runs only that part (one part
 * under perf record at a time). BENCH_PART=tasks counts the peak number
 * of tasks in this process's tree (runners, jobs, zombies not yet
 * reaped), sampled from a thread through /proc/PID/task/PID/children,
 * during one bare loop and one batch (issue 16: at most one tickd-side
 * process per running job); BENCH_TASKS_COMMAND is the batch's command
 * (default /bin/true). --timestamp-log and --latest-stamp are
 * bench-daemon.sh's helpers for the same figure on the real daemon. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* Returns when the last child was reaped; *STARTED_MS (if not NULL): when
 * the last one was forked. */
/* One /bin/true; the child never returns from here (vfork's rule). */
static pid_t spawn_true(bool use_vfork)
{
        pid_t pid = use_vfork ? vfork() : fork();
        if (pid == 0) {
                execl("/bin/true", "true", (char *)NULL);
                _exit(127);
        }
        return pid;
}

/* The floor: N fork()+exec of /bin/true (the issue's), or with USE_VFORK
 * the lower one a process that only starts programs can reach (no page
 * tables copied; what the shared runner does per job). */
static double bare(int n, double *started_ms, bool use_vfork)
{
        double start = now_ms();
        for (int i = 0; i < n; i++)
                (void)spawn_true(use_vfork);
        if (started_ms)
                *started_ms = now_ms() - start;
        for (int i = 0; i < n; i++)
                wait(NULL);
        return now_ms() - start;
}

/* CPU of this process and of every descendant waited for (runners count
 * their jobs: they wait for them), user + system: the whole tree's. */
static double tree_cpu_ms(void)
{
        struct rusage self, children;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &children);
        return (self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec + children.ru_stime.tv_sec) *
                       1e3 +
               (self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec + children.ru_stime.tv_usec) /
                       1e3;
}

static size_t finished;
static double last_finished_ms, last_started_ms;

/* Every record the collector logs, whatever the level: the time of the
 * last STARTED one is when the batch's last job had started (issue 16:
 * with one runner per batch, batch_spawn() returns after one fork). */
static void on_record(void *userdata, const struct log_record *record)
{
        if (record->event == LOG_EVENT_STARTED)
                last_started_ms = now_ms();
}
static void on_finished(void *userdata, const struct run *run, const struct outcome *o)
{
        if (o && o->status == OUTCOME_EXITED && o->code == 0)
                finished++;
        last_finished_ms = now_ms();
}

/* The stamping job: no library work before the write, so the stamp is as
 * close to the exit as a program can put it. */
static int stamp(const char *file)
{
        int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        double t = now_ms();
        if (fd < 0 || write(fd, &t, sizeof(t)) != (ssize_t)sizeof(t))
                return 1;
        return 0;
}

static void batch(int n, const char *command, double *spawned_ms, double *eof_ms, double *started_ms)
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
        struct job job = { .name = "bench", .command = (char *)command, .enabled = true, .kill_leftovers = true };
        struct run_request *req = calloc((size_t)n, sizeof(*req));
        for (int i = 0; i < n; i++)
                req[i] = (struct run_request){ .job = &job, .scheduled_usec = 1, .failed_exit_status = -1 };
        finished = 0;
        log_set_observer(on_record, NULL);
        double start = now_ms();
        batch_spawn(m, req, (size_t)n);
        *spawned_ms = now_ms() - start;
        while (batch_open_count(m) > 0)
                sd_event_run(event, UINT64_MAX);
        *eof_ms = now_ms() - start;
        *started_ms = last_started_ms - start;
        if (finished != (size_t)n)
                fprintf(stderr, "only %zu of %d runs succeeded\n", finished, n);
        batch_manager_free(m);
        log_set_observer(NULL, NULL);
        sd_event_unref(event);
        free(req);
}

/* tickd's log on standard input into FILE, line by line as it comes;
 * at EOF, FILE.lag gets how many runs succeeded and when the last record
 * of one arrived (CLOCK_MONOTONIC ms, the clock of the stamps), so that
 * bench-daemon.sh can measure the real daemon's reap lag. */
static int timestamp_log(const char *file)
{
        FILE *in = stdin, *out = fopen(file, "we");
        char line[8192], lag[4096 + 8];
        size_t count = 0;
        double last = -1;
        if (!out)
                return 1;
        while (fgets(line, sizeof(line), in)) {
                if (strncmp(line, "event=succeeded ", 16) == 0) {
                        last = now_ms();
                        count++;
                }
                fputs(line, out);
                fflush(out);
        }
        fclose(out);
        snprintf(lag, sizeof(lag), "%s.lag", file);
        out = fopen(lag, "we");
        if (!out)
                return 1;
        fprintf(out, "%zu %.3f\n", count, last);
        fclose(out);
        return 0;
}

/* The latest stamp in FILE, or -1. */
static double latest_stamp(const char *file, size_t *count)
{
        double latest = -1, t;
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        *count = 0;
        while (fd >= 0 && read(fd, &t, sizeof(t)) == (ssize_t)sizeof(t)) {
                (*count)++;
                if (t > latest)
                        latest = t;
        }
        if (fd >= 0)
                close(fd);
        return latest;
}

static void dispatch(int n);

/* Tasks below PID, PID excluded: its children and theirs, zombies too. */
static size_t tree_tasks(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
        FILE *fp = fopen(path, "re");
        if (!fp)
                return 0;
        size_t n = 0;
        int child;
        while (fscanf(fp, "%d", &child) == 1)
                n += 1 + tree_tasks(child);
        fclose(fp);
        return n;
}

struct sampler {
        pthread_t thread;
        volatile bool stop;
        size_t peak;
};

static void *sample_tasks(void *userdata)
{
        struct sampler *s = userdata;
        while (!s->stop) {
                size_t n = tree_tasks(getpid());
                if (n > s->peak)
                        s->peak = n;
                usleep(1000);
        }
        return NULL;
}

static size_t peak_tasks_during(int n, bool use_batch)
{
        struct sampler s = { .stop = false };
        if (pthread_create(&s.thread, NULL, sample_tasks, &s) != 0)
                return 0;
        double spawned, eof, started;
        const char *command = getenv("BENCH_TASKS_COMMAND");
        if (use_batch)
                batch(n, command ? command : "/bin/true", &spawned, &eof, &started);
        else
                (void)bare(n, NULL, false);
        s.stop = true;
        pthread_join(s.thread, NULL);
        return s.peak;
}

static void reap_lag(int n, const char *self)
{
        char file[] = "/tmp/tickd-bench-stamps.XXXXXX", command[4096 + sizeof(file) + 16];
        int fd = mkostemp(file, O_CLOEXEC);
        if (fd < 0)
                return;
        close(fd);
        snprintf(command, sizeof(command), "%s --stamp %s", self, file);
        for (int round = 0; round < 3; round++) {
                (void)truncate(file, 0);
                double s, e, started;
                last_finished_ms = 0;
                double start = now_ms();
                batch(n, command, &s, &e, &started);
                size_t count;
                double latest = latest_stamp(file, &count);
                printf("  reap lag round %d: %zu jobs stamped, last job's exit at %8.1f, last outcome at %8.1f: reap "
                       "lag %.1f ms (target <= 10)\n",
                       round + 1, count, latest - start, last_finished_ms - start, last_finished_ms - latest);
        }
        unlink(file);
}

int main(int argc, char **argv)
{
        if (argc == 3 && strcmp(argv[1], "--stamp") == 0)
                return stamp(argv[2]);
        if (argc == 3 && strcmp(argv[1], "--timestamp-log") == 0)
                return timestamp_log(argv[2]);
        if (argc == 3 && strcmp(argv[1], "--latest-stamp") == 0) {
                size_t count;
                double latest = latest_stamp(argv[2], &count);
                printf("%zu %.3f\n", count, latest);
                return 0;
        }
        /* Anything else is a mistake, never a reason to run the benchmark:
         * a job whose stamper does not know its option would otherwise start
         * a thousand runs of its own, in each of a thousand jobs. */
        if (argc != 1) {
                fprintf(stderr, "usage: bench-daemon | bench-daemon --stamp|--timestamp-log|--latest-stamp FILE\n");
                return 2;
        }
        int n = getenv("BENCH_DISPATCH_JOBS") ? atoi(getenv("BENCH_DISPATCH_JOBS")) : 1000;
        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        const char *part = getenv("BENCH_PART") ? getenv("BENCH_PART") : "";
        if (strcmp(part, "tasks") == 0) {
                size_t bare_peak = peak_tasks_during(n, false), batch_peak = peak_tasks_during(n, true);
                printf("peak tasks below the process, %d runs: bare loop of /bin/true %zu, batch of %s %zu\n", n,
                       bare_peak, getenv("BENCH_TASKS_COMMAND") ? getenv("BENCH_TASKS_COMMAND") : "/bin/true",
                       batch_peak);
                return 0;
        }
        if (strcmp(part, "lag") != 0)
                dispatch(n);
        char self[4096];
        ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (len > 0 && strcmp(part, "dispatch") != 0) {
                self[len] = 0;
                reap_lag(n, self);
        }
        return 0;
}

static void dispatch(int n)
{
        printf("dispatch of %d jobs due at one instant (ms; best of 3)%s%s\n", n,
               getenv("BENCH_CGROUP_DIR") ? "; a cgroup per run under " : "",
               getenv("BENCH_CGROUP_DIR") ? getenv("BENCH_CGROUP_DIR") : "");
        double best_bare = 1e18, best_spawn = 1e18, best_eof = 1e18;
        for (int round = 0; round < 3; round++) {
                double c0 = tree_cpu_ms();
                double bare_started, b = bare(n, &bare_started, false), s, e, started;
                double c1 = tree_cpu_ms();
                batch(n, "/bin/true", &s, &e, &started);
                double c2 = tree_cpu_ms();
                double vfork_started, v = bare(n, &vfork_started, true);
                double c3 = tree_cpu_ms();
                printf("  round %d: bare spawn+reap %8.1f   batch: runners forked %8.1f, EOF %8.1f   "
                       "tree CPU: bare %8.1f, batch %8.1f (%.2fx)\n",
                       round + 1, b, s, e, c1 - c0, c2 - c1, (c2 - c1) / (c1 - c0));
                printf("           last started: bare %8.1f, batch %8.1f (%.2fx); all reaped: %.2fx\n", bare_started,
                       started, started / bare_started, e / b);
                printf("           vfork floor: spawn+reap %8.1f, last started %8.1f, CPU %8.1f; batch to it: started "
                       "%.2fx, reaped %.2fx, CPU %.2fx\n",
                       v, vfork_started, c3 - c2, started / vfork_started, e / v, (c2 - c1) / (c3 - c2));
                if (b < best_bare)
                        best_bare = b;
                if (s < best_spawn)
                        best_spawn = s;
                if (e < best_eof)
                        best_eof = e;
        }
        printf("best: bare %.1f ms; batch runners forked %.1f ms, EOF %.1f ms; EOF/bare = %.2f (target <= 2)\n",
               best_bare, best_spawn, best_eof, best_eof / best_bare);
}
