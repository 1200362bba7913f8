/* bench-metrics.c — what metrics_file costs at 1,000 jobs: rendering the
 * exposition text (core/metrics-format.c) and replacing the file (a
 * temporary written and renamed, as tickd/metrics.c does), CPU and wall
 * per write, best and median of BENCH_METRICS_ROUNDS (50). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/metrics-format.h"

#define JOBS 1000

static double ms(clockid_t clock)
{
        struct timespec ts;
        clock_gettime(clock, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

int main(void)
{
        const char *env = getenv("BENCH_METRICS_ROUNDS");
        int rounds = env ? atoi(env) : 50;
        static struct metrics_job jobs[JOBS];
        static char names[JOBS][32];
        for (int i = 0; i < JOBS; i++) {
                snprintf(names[i], sizeof(names[i]), "backup-%05d", i);
                jobs[i] = (struct metrics_job){ .name = names[i],
                                                .loaded = true,
                                                .enabled = true,
                                                .next_usec = INT64_C(1796539935000000) + i,
                                                .interval_usec = 60000000,
                                                .has_last = true,
                                                .last_result = METRICS_SUCCEEDED,
                                                .last_start_usec = INT64_C(1796539875000000) + i,
                                                .last_end_usec = INT64_C(1796539876123456) + i,
                                                .last_duration_usec = 1123456,
                                                .last_exit_status = 0,
                                                .last_success_usec = INT64_C(1796539876123456) + i,
                                                .runs = { 123456, 12, 1, 0, 0, 3, 0 } };
        }
        struct metrics_snapshot s = { .version = "0.1.0",
                                      .start_usec = INT64_C(1796500000000000),
                                      .jobs_loaded = JOBS,
                                      .jobs = jobs,
                                      .n_jobs = JOBS };
        char dir[] = "/tmp/tickd-bench-metrics.XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        char path[64], tmp[64];
        snprintf(path, sizeof(path), "%s/tickd.prom", dir);
        snprintf(tmp, sizeof(tmp), "%s/.tickd.prom.tmp", dir);
        double *render = calloc((size_t)rounds, sizeof(double)), *write_cpu = calloc((size_t)rounds, sizeof(double)),
               *wall = calloc((size_t)rounds, sizeof(double));
        size_t bytes = 0;
        size_t cap = 4 << 20;
        char *text = malloc(cap); /* kept from round to round, as the daemon keeps it */
        for (int r = 0; r < rounds; r++) {
                double c0 = ms(CLOCK_PROCESS_CPUTIME_ID), w0 = ms(CLOCK_MONOTONIC);
                if (metrics_format(&s, text, cap, &bytes) < 0)
                        return 1;
                double c1 = ms(CLOCK_PROCESS_CPUTIME_ID);
                int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, text, bytes) != (ssize_t)bytes || close(fd) < 0 || rename(tmp, path) < 0)
                        return 1;
                render[r] = c1 - c0;
                write_cpu[r] = ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
                wall[r] = ms(CLOCK_MONOTONIC) - w0;
        }
        qsort(render, (size_t)rounds, sizeof(double), compare);
        qsort(write_cpu, (size_t)rounds, sizeof(double), compare);
        qsort(wall, (size_t)rounds, sizeof(double), compare);
        printf("metrics file of %d jobs, %zu bytes, %d rounds: render CPU %.2f ms (median %.2f), "
               "render+write+rename CPU %.2f ms (median %.2f), wall %.2f ms (median %.2f)\n",
               JOBS, bytes, rounds, render[0], render[rounds / 2], write_cpu[0], write_cpu[rounds / 2], wall[0],
               wall[rounds / 2]);
        free(text);
        unlink(path);
        rmdir(dir);
        free(render);
        free(write_cpu);
        free(wall);
        return 0;
}
