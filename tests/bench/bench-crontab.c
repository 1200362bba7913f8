/* bench-crontab.c — loading a crontab of 10,000 jobs: wall time per load
 * (from memory and from a file) and heap bytes held per loaded job; then
 * one load of each pathological file (bench_pathological()).
 * Targets (docs/ARCHITECTURE.md): <= 50 ms per load, <= 1 KiB per job. Prints the
 * figures and whether each target is met; it does not fail the build. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/crontab.h"

#define JOBS   10000
#define ROUNDS 15

/* CPU time of this thread: on a shared machine, wall time mostly measures
 * the neighbours. Both are printed; the target applies to CPU time. */
static double cpu_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A realistic mix: cron and calendar schedules, zones, descriptions,
 * an environment variable on some, [defaults] for the rest. */
static char *make_crontab(size_t *len)
{
        static const char *const schedules[] = {
                "*/5 * * * *", "30 2 * * *", "Mon..Fri *-*-* 09:00", "@every 15m", "0 0 1 * *", "*:0/10",
        };
        static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York", NULL };
        size_t cap = (size_t)JOBS * 256, n = 0;
        char *text = malloc(cap);
        n += (size_t)snprintf(text + n, cap - n, "[defaults]\ntimeout = 1h\nenvironment = LANG=C.UTF-8\n\n");
        for (int i = 0; i < JOBS; i++) {
                n += (size_t)snprintf(text + n, cap - n,
                                      "[job-%05d]\ndescription = Benchmark job number %d\nschedule = %s\n"
                                      "command = /usr/local/bin/task --id %d ; echo done # %d\n",
                                      i, i, schedules[i % 6], i, i);
                if (zones[i % 4])
                        n += (size_t)snprintf(text + n, cap - n, "timezone = %s\n", zones[i % 4]);
                if (i % 3 == 0)
                        n += (size_t)snprintf(text + n, cap - n, "environment = TASK=%d\n", i);
                n += (size_t)snprintf(text + n, cap - n, "\n");
        }
        *len = n;
        return text;
}

/* The pathological files of a hardening report: 100,000 distinct
 * environment= lines in one job (28 s before the loader was made linear),
 * a command with 1,000,000 continuation lines (16 s), and 100,000 lines of
 * errors (every one a diagnostic before the cap). */
static char *make_pathological(int kind, size_t *len)
{
        size_t cap = 32 * 1024 * 1024, n = 0;
        char *text = malloc(cap);
        n += (size_t)snprintf(text, cap, "[j]\nschedule = * * * * *\ncommand = x\n");
        for (int i = 0; i < (kind == 1 ? 1000000 : 100000); i++) {
                if (kind == 0)
                        n += (size_t)snprintf(text + n, cap - n, "environment = VAR_%d=%d\n", i, i);
                else if (kind == 1)
                        n += (size_t)snprintf(text + n, cap - n, " y\n");
                else
                        n += (size_t)snprintf(text + n, cap - n, "not a key line %d\n", i);
        }
        *len = n;
        return text;
}

static void bench_pathological(const struct crontab_options *options)
{
        static const char *const names[] = { "100,000 environment lines", "1,000,000 continuation lines",
                                             "100,000 error lines" };
        for (int kind = 0; kind < 3; kind++) {
                size_t len;
                char *text = make_pathological(kind, &len);
                struct diagnostics diags = { 0 };
                struct crontab_file *file = NULL;
                double w0 = now_ms(), t0 = cpu_ms();
                int r = crontab_load_buffer("bad.ini", text, len, options, &file, &diags);
                double cpu = cpu_ms() - t0, wall = now_ms() - w0;
                printf("  %-30s %8zu bytes: CPU %8.1f ms, wall %8.1f ms; %s, %zu diagnostics kept\n", names[kind], len,
                       cpu, wall, r == 0 ? "loaded" : "rejected", diags.count);
                crontab_file_free(file);
                diag_free(&diags);
                free(text);
        }
}

static int compare_doubles(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

int main(void)
{
        size_t len;
        char *text = make_crontab(&len);
        struct tz_cache *zones = tz_cache_new(NULL);
        const struct tz *utc;
        tz_cache_get(zones, "UTC", &utc);
        struct crontab_options options = {
                .system_mode = true, .zones = zones, .default_zone = utc, .ignore_ownership = true
        };
        struct diagnostics diags = { 0 };

        /* Warm the zone cache so the figure is the loader's, not tzdata's. */
        struct crontab_file *file;
        if (crontab_load_buffer("bench.ini", text, len, &options, &file, &diags) < 0) {
                for (size_t i = 0; i < diags.count; i++)
                        diag_fprint(stderr, &diags.items[i]);
                return 1;
        }
        crontab_file_free(file);

        double times[ROUNDS], walls[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
                double w0 = now_ms(), t0 = cpu_ms();
                crontab_load_buffer("bench.ini", text, len, &options, &file, &diags);
                times[r] = cpu_ms() - t0;
                walls[r] = now_ms() - w0;
                crontab_file_free(file);
        }
        qsort(times, ROUNDS, sizeof(double), compare_doubles);
        qsort(walls, ROUNDS, sizeof(double), compare_doubles);

        char path[] = "/tmp/bench-crontab-XXXXXX.ini";
        int fd = mkstemps(path, 4);
        if (fd < 0 || write(fd, text, len) != (ssize_t)len)
                return 1;
        close(fd);
        double file_times[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
                double t0 = cpu_ms();
                crontab_load_file(path, &options, &file, &diags);
                file_times[r] = cpu_ms() - t0;
                crontab_file_free(file);
        }
        unlink(path);
        qsort(file_times, ROUNDS, sizeof(double), compare_doubles);

        /* Heap held by one loaded file: what the daemon keeps per job. */
        malloc_trim(0);
        struct mallinfo2 before = mallinfo2();
        crontab_load_buffer("bench.ini", text, len, &options, &file, &diags);
        struct mallinfo2 after = mallinfo2();
        double per_job = (double)(after.uordblks - before.uordblks) / JOBS;
        crontab_file_free(file);

        printf("crontab: %d jobs, %zu bytes of INI\n", JOBS, len);
        printf("  load from memory: CPU median %.1f ms, min %.1f ms (target <= 50 ms: %s); wall median %.1f ms\n",
               times[ROUNDS / 2], times[0], times[ROUNDS / 2] <= 50 ? "met" : "MISSED", walls[ROUNDS / 2]);
        printf("  load from file:   CPU median %.1f ms, min %.1f ms\n", file_times[ROUNDS / 2], file_times[0]);
        printf("  heap held: %.0f bytes per job (target <= 1024: %s)\n", per_job, per_job <= 1024 ? "met" : "MISSED");
        printf("pathological files (one load each):\n");
        bench_pathological(&options);
        diag_free(&diags);
        tz_cache_free(zones);
        free(text);
        return 0;
}
