/* bench-tz.c — nanoseconds per tz_span_at(), tz_to_civil() and
 * tz_from_civil() call, inside the transition table (2026) and past it,
 * where the POSIX footer rule is evaluated (2100). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/tz.h"

#define CALLS 2000000

static double now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile int64_t sink;

static void bench(const struct tz *zone, const char *label, int64_t from)
{
        /* A stride that walks about a year in CALLS steps. */
        const int64_t step = 31556952 / CALLS + 7;
        struct tz_span span;
        struct tz_civil civil;
        int64_t acc = 0;

        double t0 = now_ns();
        for (int64_t i = 0, t = from; i < CALLS; i++, t += step) {
                tz_span_at(zone, t, &span);
                acc += span.offset;
        }
        double t1 = now_ns();
        for (int64_t i = 0, t = from; i < CALLS; i++, t += step) {
                tz_to_civil(zone, t, &civil);
                acc += civil.hour;
        }
        double t2 = now_ns();
        for (int64_t i = 0, t = from; i < CALLS; i++, t += step) {
                tz_to_civil(zone, t, &civil);
                int64_t first;
                acc += tz_from_civil(zone, &civil, &first, NULL) + first;
        }
        double t3 = now_ns();
        sink = acc;
        printf("%-22s %-5s tz_span_at %6.1f ns  tz_to_civil %6.1f ns  to_civil+from_civil %6.1f ns\n", tz_name(zone),
               label, (t1 - t0) / CALLS, (t2 - t1) / CALLS, (t3 - t2) / CALLS);
}

int main(void)
{
        static const char *const names[] = { "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe" };
        struct tz_cache *cache = tz_cache_new(NULL);
        if (!cache)
                return 1;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                const struct tz *zone;
                if (tz_cache_get(cache, names[i], &zone) < 0) {
                        fprintf(stderr, "bench-tz: %s is not installed\n", names[i]);
                        tz_cache_free(cache);
                        return 1;
                }
                bench(zone, "2026", 1767225600); /* table */
                bench(zone, "2100", 4102444800); /* footer rule */
        }
        tz_cache_free(cache);
        return 0;
}
