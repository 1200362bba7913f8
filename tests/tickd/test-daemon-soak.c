/* test-daemon-soak.c — the leak invariant over time: 60 ticks of 20 jobs
 * each leave tickd's descriptor, child and zombie counts where they were;
 * and a short scenario under valgrind (plain build) reports no error and
 * no descriptor left open at exit. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

#define TICKS         60
#define JOBS_PER_TICK 20

/* The instants (s) of j00's runs and skips, sorted, in OUT (at most MAX);
 * returns how many. */
static int j00_instants(const char *log, long long *out, int max)
{
        int n = 0;
        for (const char *p = log; (p = strstr(p, " job=j00 ")) && n < max; p++) {
                const char *line = p;
                while (line > log && line[-1] != '\n')
                        line--;
                if (strncmp(line, "event=started ", 14) != 0 && strncmp(line, "event=skipped ", 14) != 0)
                        continue;
                const char *sched = strstr(p, " scheduled=");
                const char *nl = strchr(p, '\n');
                if (sched && (!nl || sched < nl))
                        out[n++] = atoll(sched + 11);
        }
        for (int i = 1; i < n; i++) /* insertion sort: they arrive nearly in order */
                for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
                        long long tmp = out[j];
                        out[j] = out[j - 1];
                        out[j - 1] = tmp;
                }
        return n;
}

/* How many instants of j00 the run for instant T stands for: N when the
 * daemon woke up late and ran "N missed instants once, as the latest"
 * (catchup.h), else 1. */
static long long j00_coalesced(const char *log, long long t)
{
        char needle[96];
        snprintf(needle, sizeof(needle), "job=j00 scheduled=%lld msg=\"j00: ", t);
        const char *p = strstr(log, needle);
        return p ? atoll(p + strlen(needle)) : 1;
}

START_TEST(sixty_ticks_leave_no_descriptor_child_or_zombie)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_pump(t, 300);
        int fds0, children0, zombies0;
        harness_proc_counts(t->pid, &fds0, &children0, &zombies0);
        ck_assert_int_eq(children0, 0);

        char ini[JOBS_PER_TICK * 96] = "";
        size_t len = 0;
        for (int i = 0; i < JOBS_PER_TICK; i++)
                len += (size_t)snprintf(ini + len, sizeof(ini) - len,
                                        "[j%02d]\nschedule = * * * * * *\ncommand = %s\n\n", i,
                                        i % 4 == 3   ? "exit 1"
                                        : i % 4 == 2 ? "echo out"
                                                     : "true");
        long long start = harness_now_ms();
        tickd_write_job(t, "many.ini", ini);
        /* Sample the daemon while it works: descriptors must stay bounded. */
        int max_fds = 0;
        while (harness_now_ms() - start < TICKS * 1000) {
                tickd_pump(t, 250);
                int fds, children, zombies;
                harness_proc_counts(t->pid, &fds, &children, &zombies);
                if (fds > max_fds)
                        max_fds = fds;
        }
        tickd_remove_job(t, "many.ini");
        ck_assert(tickd_wait_for(t, "1 removed", 1, 30000));
        /* The last batches complete (slowly, on a loaded machine). */
        int fds, children, zombies;
        long long quiet = harness_now_ms();
        do {
                tickd_pump(t, 200);
                harness_proc_counts(t->pid, &fds, &children, &zombies);
        } while ((children > 0 || fds != fds0) && harness_now_ms() - quiet < 15000);
        tickd_pump(t, 200);
        int runs = tickd_count(t, "event=started job=j");
        int skipped = tickd_count(t, "event=skipped job=j");
        int ticks = tickd_count(t, "event=started job=j00 ") + tickd_count(t, "event=skipped job=j00 ");
        int done = tickd_count(t, "event=succeeded job=j") + tickd_count(t, "event=failed job=j");
        int status = tickd_stop(t, SIGTERM, 20000);
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        fprintf(stderr,
                "soak: %d s, %d ticks, %d runs, %d skipped (overlap), %d outcomes; fds %d -> %d (max %d), "
                "children %d -> %d, zombies %d -> %d\n",
                TICKS, ticks, runs, skipped, done, fds0, fds, max_fds, children0, children, zombies0, zombies);
        ck_assert_int_eq(fds, fds0);
        ck_assert_int_eq(children, children0);
        ck_assert_int_eq(zombies, zombies0);
        ck_assert_int_eq(runs, done);
        /* Every tick between the file's arrival and its removal is handled,
         * once, as a run or (when the previous run of the job is still going
         * on a loaded machine) a logged skip: j00's instants have no repeat,
         * and no gap but those a late wake-up explains (its record says how
         * many instants the next run stands for). How many ticks fit in the window depends on the
         * machine's load (the file is picked up later on a busy one), so
         * only half of them are required, to keep the test meaningful. */
        long long instants[2 * TICKS];
        int n = j00_instants(t->log, instants, 2 * TICKS);
        ck_assert_int_eq(n, ticks);
        ck_assert_int_ge(ticks, TICKS / 2);
        for (int i = 1; i < n; i++)
                ck_assert_msg(instants[i] - instants[i - 1] == j00_coalesced(t->log, instants[i]),
                              "j00: instant %lld follows %lld", instants[i], instants[i - 1]);
        ck_assert_int_ge(runs + skipped, ticks * JOBS_PER_TICK - JOBS_PER_TICK);
        ck_assert_int_eq(tickd_count(t, "event=lost"), 0);
        ck_assert_int_eq(tickd_count(t, "event=batch-stuck"), 0);
        harness_reap_children(2000);
        tickd_free(t);
}
END_TEST

START_TEST(valgrind_finds_no_error_and_no_open_descriptor)
{
        /* valgrind cannot run the sanitized binary: use the plain build. */
        const char *build = getenv("TICKD_BUILD_DIR");
        char *saved = build ? strdup(build) : NULL;
        char plain[4096];
        snprintf(plain, sizeof(plain), "%s", build && *build ? build : "build");
        size_t n = strlen(plain);
        if (n > 5 && strcmp(plain + n - 5, "/asan") == 0)
                plain[n - 5] = '\0';
        setenv("TICKD_BUILD_DIR", plain, 1);
        char *dir = harness_tmpdir();
        /* The report goes to tickd's stderr (a log file would be a
         * descriptor valgrind itself counts as open at exit). */
        const char *log_opt = "--log-fd=2";
        const char *prefix[] = { "/usr/bin/valgrind",
                                 "--quiet",
                                 "--track-fds=yes",
                                 "--error-exitcode=99",
                                 "--leak-check=full",
                                 "--show-leak-kinds=definite",
                                 "--errors-for-leak-kinds=definite",
                                 "--child-silent-after-fork=yes",
                                 log_opt,
                                 NULL };
        struct tickd *t = tickd_start("[daemon]\nshutdown_timeout = 5s\n", prefix);
        tickd_write_job(t, "a.ini",
                        "[ok]\nschedule = * * * * * *\ncommand = echo fine\n\n"
                        "[bad]\nschedule = */2 * * * * *\ncommand = exit 3\non_failure = echo hook\n\n"
                        "[long]\nschedule = */3 * * * * *\ncommand = sleep 30\n");
        ck_assert(tickd_wait_for(t, "event=failed job=bad", 2, 20000));
        char exe_path[64], exe[4096] = "";
        snprintf(exe_path, sizeof(exe_path), "/proc/%d/exe", (int)t->pid);
        ck_assert_int_gt(readlink(exe_path, exe, sizeof(exe) - 1), 0);
        ck_assert_msg(strstr(exe, "memcheck") != NULL, "not under valgrind: %s", exe); /* the test can see a failure */
        tickd_write_job(t, "b.ini", "[broken]\nschedule = nope\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "event=config-rejected", 1, 10000));
        ck_assert(tickd_wait_for(t, "event=started job=long", 1, 10000));
        int status = tickd_stop(t, SIGTERM, 60000);
        if (saved)
                setenv("TICKD_BUILD_DIR", saved, 1);
        free(saved);
        const char *report = t->log;
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd under valgrind: status %d; report:\n%s",
                      status, report);
        /* --quiet: the report holds errors only; with --track-fds, any
         * descriptor beyond 0-2 open at exit is listed. */
        ck_assert_msg(strstr(report, "Open file descriptor") == NULL, "descriptors open at exit:\n%s", report);
        ck_assert_msg(strstr(report, "definitely lost") == NULL, "leak:\n%s", report);
        ck_assert_msg(strstr(report, "FILE DESCRIPTORS:") == NULL, "descriptors beyond 0-2 open at exit:\n%s", report);
        ck_assert_ptr_nonnull(strstr(t->log, "event=cancelled job=long"));
        harness_reap_children(3000);
        tickd_free(t);
        harness_tmpdir_remove(dir);
}
END_TEST

static Suite *soak_suite(void)
{
        Suite *s = suite_create("daemon-soak");
        TCase *tc = tcase_create("soak");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 150);
        tcase_add_test(tc, sixty_ticks_leave_no_descriptor_child_or_zombie);
        tcase_add_test(tc, valgrind_finds_no_error_and_no_open_descriptor);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(soak_suite)
