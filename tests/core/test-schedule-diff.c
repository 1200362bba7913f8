/* test-schedule-diff.c — calendar events against systemd's own evaluator.
 *
 * A deterministic generator writes a few hundred calendar expressions in
 * the syntax systemd 252 accepts; `systemd-analyze calendar --base-time=…
 * --iterations=N` evaluates them (TZ=UTC, so every line it prints is UTC)
 * and each printed elapse must equal schedule_next()'s chain from the same
 * base. Expressions systemd refuses are skipped (and counted: most must be
 * compared); an expression tickd rejects but systemd accepts is a failure,
 * unless systemd also finds it never elapses. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"
#include "core/schedule.h"
#include "core/tz.h"

#define EXPRESSIONS_PER_RUN 30
#define RUNS                12
#define ITERATIONS          6

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (uint32_t)(rng_state % n);
}

static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
        size_t len = strlen(buf);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf + len, size - len, fmt, ap);
        va_end(ap);
}

/* One component: "*", a value, a list, a range, a repetition. */
static void gen_component(char *buf, size_t size, int min, int max, int star_percent, bool pad)
{
        if ((int)rnd(100) < star_percent) {
                append(buf, size, "*");
                return;
        }
        int items = 1 + (int)rnd(3);
        for (int i = 0; i < items; i++) {
                if (i)
                        append(buf, size, ",");
                int a = min + (int)rnd((uint32_t)(max - min + 1));
                switch (rnd(4)) {
                case 0:
                case 1: append(buf, size, pad ? "%02d" : "%d", a); break;
                case 2: {
                        int b = a + (int)rnd((uint32_t)(max - a + 1));
                        append(buf, size, pad ? "%02d" : "%d", a);
                        append(buf, size, "..");
                        append(buf, size, pad ? "%02d" : "%d", b);
                        if (rnd(2))
                                append(buf, size, "/%d", 1 + (int)rnd((uint32_t)(max - min + 1) / 2 + 1));
                        break;
                }
                default: {
                        /* value/repetition: keep the value low enough for systemd */
                        int v = min + (int)rnd((uint32_t)((max - min) / 2 + 1));
                        append(buf, size, pad ? "%02d" : "%d", v);
                        append(buf, size, "/%d", 1 + (int)rnd((uint32_t)(max - min) / 2 + 1));
                        break;
                }
                }
        }
}

static const char *const weekday_forms[][3] = {
        { "Mon", "monday", "MON" },   { "Tue", "tuesday", "TUE" }, { "Wed", "wednesday", "WED" },
        { "Thu", "thursday", "THU" }, { "Fri", "friday", "FRI" },  { "Sat", "saturday", "SAT" },
        { "Sun", "sunday", "SUN" },
};

static const char *const zones[] = { "Europe/Berlin",  "America/New_York", "Australia/Lord_Howe",
                                     "Asia/Kathmandu", "Asia/Tokyo",       "Pacific/Chatham" };

static void gen_expression(char *buf, size_t size)
{
        buf[0] = '\0';
        bool weekday = rnd(100) < 35, date = rnd(100) < 75, time = rnd(100) < 85;
        if (!weekday && !date && !time)
                time = true;
        if (weekday) {
                int items = 1 + (int)rnd(2);
                for (int i = 0; i < items; i++) {
                        int a = (int)rnd(7), b = a + (int)rnd((uint32_t)(7 - a));
                        append(buf, size, "%s%s", i ? "," : "", weekday_forms[a][rnd(3)]);
                        if (b > a && rnd(2))
                                append(buf, size, "..%s", weekday_forms[b][rnd(3)]);
                }
                append(buf, size, " ");
        }
        if (date) {
                if (rnd(100) < 25)
                        gen_component(buf, size, 2024, 2040, 0, false);
                else
                        append(buf, size, "*");
                append(buf, size, "-");
                gen_component(buf, size, 1, 12, 50, true);
                if (rnd(100) < 15) {
                        /* from the end: a value, or a value with a repetition */
                        int v = 1 + (int)rnd(7);
                        append(buf, size, "~%02d", v);
                        if (rnd(2))
                                append(buf, size, "/%d", 1 + (int)rnd(3));
                } else {
                        append(buf, size, "-");
                        gen_component(buf, size, 1, 31, 45, true);
                }
                append(buf, size, " ");
        }
        if (time) {
                gen_component(buf, size, 0, 23, 30, true);
                append(buf, size, ":");
                gen_component(buf, size, 0, 59, 25, true);
                if (rnd(2)) {
                        append(buf, size, ":");
                        gen_component(buf, size, 0, 59, 20, true);
                }
        }
        size_t len = strlen(buf);
        while (len && buf[len - 1] == ' ')
                buf[--len] = '\0';
        unsigned z = rnd(100);
        if (z < 6)
                append(buf, size, " UTC");
        else if (z < 18)
                append(buf, size, " %s", zones[rnd(sizeof(zones) / sizeof(zones[0]))]);
}

static int64_t parse_utc_line(const char *line)
{
        /* "Thu 2026-01-01 09:00:00 UTC" */
        int y, mo, d, h, mi, s;
        const char *p = strchr(line, ' ');
        if (!p || sscanf(p + 1, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6)
                return INT64_MIN;
        return tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static bool near_transition(const struct tz *zone, int64_t t)
{
        struct tz_span span;
        tz_span_at(zone, t, &span);
        return (span.start != INT64_MIN && t - span.start < 26 * 3600) ||
               (span.end != INT64_MAX && span.end - t < 26 * 3600);
}

struct expected {
        char text[256];
        int count; /* -1: systemd refused it */
        bool never;
        int64_t at[ITERATIONS];
};

/* Fills EXP[] from systemd-analyze's blocks, matched in order by "Original form:". */
static void read_systemd(const char *out, struct expected *exp, int n)
{
        int cur = -1;
        for (int i = 0; i < n; i++)
                exp[i].count = -1;
        char *copy = strdup(out), *save = NULL;
        ck_assert_ptr_nonnull(copy);
        int next = 0;
        bool in_original = false;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                while (*line == ' ')
                        line++;
                /* A block starts with "Original form:", which systemd leaves
                 * out when the expression is already in normalized form. */
                bool original = strncmp(line, "Original form: ", 15) == 0;
                if (original || (strncmp(line, "Normalized form: ", 17) == 0 && !in_original)) {
                        const char *text = line + (original ? 15 : 17);
                        in_original = original;
                        cur = -1;
                        for (int i = next; i < n; i++)
                                if (strcmp(exp[i].text, text) == 0) {
                                        cur = i;
                                        next = i + 1;
                                        exp[i].count = 0;
                                        break;
                                }
                        ck_assert_msg(cur >= 0, "unexpected block for '%s'", text);
                        continue;
                }
                in_original = false;
                if (cur >= 0 && strncmp(line, "Next elapse: never", 18) == 0) {
                        exp[cur].never = true;
                } else if (cur >= 0 && (strncmp(line, "Next elapse: ", 13) == 0 || strncmp(line, "Iter. #", 7) == 0)) {
                        const char *v = strchr(line, ':') + 2;
                        ck_assert_msg(exp[cur].count < ITERATIONS, "too many elapses for '%s': %s", exp[cur].text,
                                      line);
                        exp[cur].at[exp[cur].count] = parse_utc_line(v);
                        ck_assert_msg(exp[cur].at[exp[cur].count] != INT64_MIN, "cannot read '%s'", line);
                        exp[cur].count++;
                }
        }
        free(copy);
}

START_TEST(agrees_with_systemd_analyze)
{
        rng_state = UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)(_i + 1) * UINT64_C(0x2545f4914f6cdd1d);
        struct expected exp[EXPRESSIONS_PER_RUN];
        memset(exp, 0, sizeof(exp));
        int64_t base = INT64_C(1577836800) + (int64_t)rnd(10 * 365) * 86400 + (int64_t)rnd(86400);
        char base_arg[64], iter_arg[32];
        snprintf(base_arg, sizeof(base_arg), "--base-time=@%" PRId64, base);
        snprintf(iter_arg, sizeof(iter_arg), "--iterations=%d", ITERATIONS);

        char *argv[EXPRESSIONS_PER_RUN + 5] = { "/usr/bin/systemd-analyze", "calendar", base_arg, iter_arg };
        for (int i = 0; i < EXPRESSIONS_PER_RUN; i++) {
                gen_expression(exp[i].text, sizeof(exp[i].text));
                argv[4 + i] = exp[i].text;
        }
        argv[4 + EXPRESSIONS_PER_RUN] = NULL;
        char *envp[] = { "TZ=UTC", "LC_ALL=C", "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=cat", NULL };
        char *out = NULL, *err = NULL;
        int status = harness_run(argv, envp, &out, &err);
        ck_assert_msg(WIFEXITED(status), "systemd-analyze did not exit");
        if (getenv("DIFF_DEBUG"))
                fprintf(stderr, "%s\n---\n%s\n", out, err);
        read_systemd(out, exp, EXPRESSIONS_PER_RUN);
        free(out);
        free(err);

        struct tz_cache *cache = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(cache);
        int skipped = 0;
        for (int i = 0; i < EXPRESSIONS_PER_RUN; i++) {
                if (exp[i].count < 0) {
                        skipped++;
                        continue;
                }
                struct schedule *s = NULL;
                char msg[256];
                int r = schedule_parse(exp[i].text, cache, &s, msg, sizeof(msg));
                if (r < 0) {
                        ck_assert_msg(exp[i].never, "'%s': tickd refuses (%s), systemd accepts", exp[i].text, msg);
                        continue;
                }
                int64_t after = base;
                for (int k = 0; k < exp[i].count; k++) {
                        int64_t at;
                        r = schedule_next(s, NULL, after, &at);
                        /* systemd skips gap times and fires once in an overlap even
                         * for wildcard hours; tickd's DST rules differ by design
                         * (tickctl(1)), so a difference next to a transition ends
                         * the comparison of this expression. */
                        if (schedule_zone(s) && (r != 0 || at != exp[i].at[k]) &&
                            (near_transition(schedule_zone(s), exp[i].at[k]) ||
                             (r == 0 && near_transition(schedule_zone(s), at))))
                                break;
                        ck_assert_msg(r == 0 && at == exp[i].at[k],
                                      "'%s' from @%" PRId64 " iteration %d: tickd %" PRId64 " (r=%d), systemd %" PRId64,
                                      exp[i].text, base, k + 1, at, r, exp[i].at[k]);
                        after = at;
                }
                if (exp[i].never) {
                        int64_t at;
                        r = schedule_next(s, NULL, base, &at);
                        ck_assert_msg(r == -ENOENT || at >= INT64_C(7258118400) /* 2200 */,
                                      "'%s': systemd never, tickd %" PRId64, exp[i].text, at);
                }
                schedule_free(s);
        }
        tz_cache_free(cache);
        /* The generator writes systemd's syntax: most expressions must be compared. */
        ck_assert_msg(skipped <= EXPRESSIONS_PER_RUN / 4, "systemd refused %d of %d expressions", skipped,
                      EXPRESSIONS_PER_RUN);
}
END_TEST

static Suite *schedule_diff_suite(void)
{
        Suite *s = suite_create("schedule-diff");
        TCase *tc = tcase_create("systemd-analyze");
        tcase_set_timeout(tc, 60);
        tcase_add_leak_fixture(tc);
        tcase_add_loop_test(tc, agrees_with_systemd_analyze, 0, RUNS);
        suite_add_tcase(s, tc);
        return s;
}

/* The engine is pure: its tests need no process of their own, and under
 * AddressSanitizer every forked test pays a LeakSanitizer pass at exit
 * (a quarter of a second each on a loaded machine). Leaks are still
 * checked, once, when the suite exits. CK_FORK=yes restores forking. */
__attribute__((constructor)) static void run_in_process(void) { setenv("CK_FORK", "no", 0); }

TEST_MAIN(schedule_diff_suite)
