/* test-daemon-reload.c — end to end: reloads on change and on SIGHUP,
 * file by file; --check; persistent stamps and @reboot markers. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

static void stop(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 20000);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                fprintf(stderr, "tickd log:\n%s\n", t->log);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        harness_reap_children(3000);
}

/* Occurrences of NEEDLE in the log after offset FROM. */
static int count_after(const struct tickd *t, size_t from, const char *needle)
{
        int n = 0;
        for (const char *p = t->log + from; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

START_TEST(reload_adds_changes_and_removes_jobs)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "a.ini", "[a]\nschedule = * * * * * *\ncommand = echo A1\n");
        ck_assert(tickd_wait_for(t, "a: A1\n", 1, 8000));
        /* Add. */
        tickd_write_job(t, "b.ini", "[b]\nschedule = * * * * * *\ncommand = echo B\n");
        ck_assert(tickd_wait_for(t, "b: B\n", 1, 8000));
        /* Change. */
        tickd_write_job(t, "a.ini", "[a]\nschedule = * * * * * *\ncommand = echo A2\n");
        ck_assert(tickd_wait_for(t, "a: A2\n", 1, 8000));
        /* Remove: after the reload, no more runs of b. */
        int reloads = tickd_count(t, "event=reloaded");
        tickd_remove_job(t, "b.ini");
        ck_assert(tickd_wait_for(t, "event=reloaded", reloads + 1, 8000));
        ck_assert_ptr_nonnull(strstr(t->log, "1 removed"));
        tickd_pump(t, 1200); /* a run dispatched just before the reload may still report */
        size_t mark = t->log_len;
        int a_before = tickd_count(t, "a: A2\n");
        ck_assert(tickd_wait_for(t, "a: A2\n", a_before + 2, 8000));
        ck_assert_int_eq(count_after(t, mark, "event=started job=b "), 0);
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(broken_file_keeps_the_previous_version)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "a.ini", "[a]\nschedule = * * * * * *\ncommand = echo good\n");
        ck_assert(tickd_wait_for(t, "a: good\n", 1, 8000));
        tickd_write_job(t, "a.ini", "[a]\nschedule = 99 * * * * *\ncommand = echo bad\n");
        ck_assert(tickd_wait_for(t, "previous version stays in force", 1, 8000));
        ck_assert_ptr_nonnull(strstr(t->log, "event=config-rejected file="));
        ck_assert_ptr_nonnull(strstr(t->log, "a.ini:2 msg=\"schedule: "));
        int before = tickd_count(t, "a: good\n");
        ck_assert(tickd_wait_for(t, "a: good\n", before + 2, 8000));
        ck_assert_int_eq(tickd_count(t, "a: bad\n"), 0);
        /* A broken new file does not disturb the good one either. */
        tickd_write_job(t, "c.ini", "[c]\nschedule = * * * * * *\n");
        ck_assert(tickd_wait_for(t, "c.ini rejected", 1, 8000));
        before = tickd_count(t, "a: good\n");
        ck_assert(tickd_wait_for(t, "a: good\n", before + 1, 8000));
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(sighup_reloads)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "a.ini", "[a]\nschedule = * * * * * *\ncommand = echo one\n");
        ck_assert(tickd_wait_for(t, "a: one\n", 1, 8000));
        ck_assert_int_eq(kill(t->pid, SIGHUP), 0);
        ck_assert(tickd_wait_for(t, "reloaded (SIGHUP)", 1, 5000));
        ck_assert_ptr_nonnull(strstr(strstr(t->log, "reloaded (SIGHUP)"), "1 unchanged"));
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(running_job_survives_its_removal)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char *at = harness_cron_in(2);
        char ini[256];
        snprintf(ini, sizeof(ini), "[long]\nschedule = %s\ncommand = sleep 2; echo done\n", at);
        tickd_write_job(t, "l.ini", ini);
        ck_assert(tickd_wait_for(t, "event=started job=long ", 1, 8000));
        tickd_remove_job(t, "l.ini");
        ck_assert(tickd_wait_for(t, "event=reloaded", 3, 5000));
        ck_assert(tickd_wait_for(t, "event=succeeded job=long ", 1, 5000));
        ck_assert_ptr_nonnull(strstr(t->log, "long: done\n"));
        stop(t);
        free(at);
        tickd_free(t);
}
END_TEST

START_TEST(check_option_reports_errors_with_file_and_line)
{
        char *dir = harness_tmpdir();
        char *config = NULL, *jobs = NULL;
        ck_assert_int_ge(asprintf(&config, "%s/config", dir), 0);
        ck_assert_int_ge(asprintf(&jobs, "%s/config/jobs.d", dir), 0);
        mkdir(config, 0755);
        mkdir(jobs, 0755);
        free(harness_write_file(jobs, "good.ini", "[g]\nschedule = @daily\ncommand = true\n"));
        char *argv[] = { (char *)harness_binary("tickd"), "--config-dir", config, "--check", NULL };
        char *out = NULL, *err = NULL;
        int status = harness_run(argv, NULL, &out, &err);
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        ck_assert_ptr_nonnull(strstr(out, "1 job in 1 file"));
        free(out);
        free(err);
        free(harness_write_file(jobs, "bad.ini", "[b]\nschedule = 61 * * * *\ncommand = true\n"));
        status = harness_run(argv, NULL, &out, &err);
        ck_assert_int_eq(WEXITSTATUS(status), 1);
        ck_assert_ptr_nonnull(strstr(err, "bad.ini:2"));
        free(out);
        free(err);
        free(config);
        free(jobs);
        harness_tmpdir_remove(dir);
}
END_TEST

START_TEST(reboot_job_runs_once_per_boot)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "r.ini", "[boot]\nschedule = @reboot\ncommand = echo booted\n");
        ck_assert(tickd_wait_for(t, "event=reloaded", 2, 5000));
        /* Loaded by a reload, in a boot that has not run it: it runs now. */
        ck_assert(tickd_wait_for(t, "boot: booted\n", 1, 8000));
        ck_assert(tickd_wait_for(t, "event=succeeded job=boot ", 1, 5000));
        /* Started again in the same boot: not again. */
        tickd_restart(t);
        tickd_pump(t, 1500);
        ck_assert_int_eq(tickd_count(t, "boot: booted\n"), 1);
        /* Nor when its file changes (same job), or it is removed and added
         * back by reloads. */
        tickd_write_job(t, "r.ini", "[boot]\nschedule = @reboot\ncommand = echo booted\ndescription = x\n");
        ck_assert(tickd_wait_for(t, "event=reloaded", 3, 5000));
        tickd_remove_job(t, "r.ini");
        ck_assert(tickd_wait_for(t, "event=reloaded", 4, 5000));
        tickd_write_job(t, "r.ini", "[boot]\nschedule = @reboot\ncommand = echo booted\n");
        ck_assert(tickd_wait_for(t, "event=reloaded", 5, 5000));
        tickd_pump(t, 1500);
        stop(t);
        ck_assert_int_eq(tickd_count(t, "boot: booted\n"), 1);
        ck_assert_int_eq(tickd_count(t, "event=started job=boot "), 1);
        tickd_free(t);
}
END_TEST

START_TEST(reboot_job_added_to_a_changed_file_runs_once)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "m.ini", "[daily]\nschedule = @daily\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "event=reloaded", 2, 5000));
        /* The changed file adds an @reboot job and retimes another into one. */
        tickd_write_job(t, "m.ini",
                        "[daily]\nschedule = @reboot\ncommand = echo retimed\n\n"
                        "[added]\nschedule = @reboot\ncommand = echo added\n");
        ck_assert(tickd_wait_for(t, "added: added\n", 1, 8000));
        ck_assert(tickd_wait_for(t, "daily: retimed\n", 1, 8000));
        /* A marker per job in the runtime directory. */
        char marker[4200];
        struct stat st;
        snprintf(marker, sizeof(marker), "%s/runtime/tickd/added.reboot", t->dir);
        ck_assert_int_eq(stat(marker, &st), 0);
        snprintf(marker, sizeof(marker), "%s/runtime/tickd/daily.reboot", t->dir);
        ck_assert_int_eq(stat(marker, &st), 0);
        tickd_restart(t);
        ck_assert_int_eq(kill(t->pid, SIGHUP), 0);
        ck_assert(tickd_wait_for(t, "reloaded (SIGHUP)", 1, 5000));
        tickd_pump(t, 1500);
        stop(t);
        ck_assert_int_eq(tickd_count(t, "event=started job=added "), 1);
        ck_assert_int_eq(tickd_count(t, "event=started job=daily "), 1);
        tickd_free(t);
}
END_TEST

START_TEST(persistent_job_catches_up_once_after_downtime)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "p.ini",
                        "[p]\nschedule = */2 * * * * *\ncommand = echo P\npersistent = yes\n\n"
                        "[np]\nschedule = */2 * * * * *\ncommand = echo NP\n");
        ck_assert(tickd_wait_for(t, "event=succeeded job=p ", 1, 8000));
        ck_assert_int_eq(tickd_stop(t, SIGTERM, 20000) >> 8, 0);
        harness_reap_children(2000);
        int p_runs = tickd_count(t, "event=started job=p ");
        int np_runs = tickd_count(t, "event=started job=np ");
        sleep(3); /* at least one instant of each job passes while it is down */
        tickd_restart(t);
        /* The persistent job runs at once (before its next instant), once. */
        ck_assert(tickd_wait_for(t, "event=started job=p ", p_runs + 1, 3000));
        const char *started = strstr(t->log, "event=daemon-started");
        started = strstr(started + 1, "event=daemon-started");
        ck_assert_ptr_nonnull(started);
        const char *catch_up = strstr(started, "event=started job=p ");
        ck_assert_ptr_nonnull(catch_up);
        const char *np_after = strstr(started, "event=started job=np ");
        ck_assert(np_after == NULL || np_after > catch_up);
        stop(t);
        (void)np_runs;
        tickd_free(t);
}
END_TEST

START_TEST(user_mode_uses_the_xdg_directories)
{
        char *dir = harness_tmpdir();
        char *conf = NULL, *jobs = NULL;
        ck_assert_int_ge(asprintf(&conf, "%s/tickd", dir), 0);
        ck_assert_int_ge(asprintf(&jobs, "%s/tickd/jobs.d", dir), 0);
        mkdir(conf, 0700);
        mkdir(jobs, 0700);
        free(harness_write_file(jobs, "mine.ini", "[mine]\nschedule = @hourly\ncommand = true\n"));
        char *env_config = NULL;
        ck_assert_int_ge(asprintf(&env_config, "XDG_CONFIG_HOME=%s", dir), 0);
        char *envp[] = { env_config, "XDG_RUNTIME_DIR=/tmp", "HOME=/tmp", "PATH=/usr/bin:/bin", NULL };
        char *argv[] = { (char *)harness_binary("tickd"), "--user", "--check", NULL };
        char *out = NULL, *err = NULL;
        int status = harness_run(argv, envp, &out, &err);
        ck_assert_msg(WEXITSTATUS(status) == 0, "status %d: %s", status, err);
        char want[4200];
        snprintf(want, sizeof(want), "1 job in 1 file loaded from %s", jobs);
        ck_assert_msg(strstr(out, want) != NULL, "got: %s", out);
        free(out);
        free(err);
        free(env_config);
        free(conf);
        free(jobs);
        harness_tmpdir_remove(dir);
}
END_TEST

/* A rejected file is logged once: reloads caused by other files (or a
 * SIGHUP) do not repeat its errors while it is unchanged. A change to it,
 * its content or (for a mode refusal) its mode, reads it again. */
START_TEST(rejected_file_is_not_logged_again_while_unchanged)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "bad.ini", "[bad]\nschedule = 99 * * * * *\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "bad.ini rejected", 1, 8000));
        /* Until other.ini is in (a reload may see only the editor's
         * temporary file first), so that the SIGHUP finds it unchanged. */
        int loads = tickd_count(t, "; 1 file loaded,");
        tickd_write_job(t, "other.ini", "[other]\nschedule = @hourly\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "; 1 file loaded,", loads + 1, 8000));
        ck_assert_int_eq(kill(t->pid, SIGHUP), 0);
        ck_assert(tickd_wait_for(t, "reloaded (SIGHUP)", 1, 8000));
        ck_assert_ptr_nonnull(strstr(strstr(t->log, "reloaded (SIGHUP)"), "1 unchanged, 1 rejected"));
        ck_assert_int_eq(tickd_count(t, "bad.ini:2 "), 1);
        ck_assert_int_eq(tickd_count(t, "bad.ini rejected"), 1);

        /* Changed and still wrong: its errors are logged again, once. */
        tickd_write_job(t, "bad.ini", "[bad]\nschedule = 98 * * * * *\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "bad.ini rejected", 2, 8000));
        ck_assert_int_eq(tickd_count(t, "bad.ini:2 "), 2);

        /* Refused for its mode, then mended by chmod alone. */
        char path[4200];
        snprintf(path, sizeof(path), "%s/bad.ini", t->jobs_dir);
        char *staged = harness_write_file(t->dir, "staged.ini", "[bad]\nschedule = @hourly\ncommand = true\n");
        ck_assert_int_eq(chmod(staged, 0666), 0);
        ck_assert_int_eq(rename(staged, path), 0); /* in place with its mode: no reload sees it 0644 */
        free(staged);
        ck_assert(tickd_wait_for(t, "bad.ini rejected", 3, 8000));
        int reloads = tickd_count(t, "event=reloaded");
        ck_assert_int_eq(chmod(path, 0644), 0);
        ck_assert(tickd_wait_for(t, "event=reloaded", reloads + 1, 8000));
        ck_assert_int_eq(kill(t->pid, SIGHUP), 0);
        ck_assert(tickd_wait_for(t, "reloaded (SIGHUP)", 2, 8000));
        const char *last = strstr(strstr(t->log, "reloaded (SIGHUP)") + 1, "reloaded (SIGHUP)");
        ck_assert_msg(strstr(last, "2 jobs;") && strstr(last, "0 rejected"), "got: %s", last);
        stop(t);
        tickd_free(t);
}
END_TEST

#define SPAN_FILES 20
#define SPAN_JOBS  20000 /* per file: parsing them takes a while, under ASan more */

/* A crontab of SPAN_JOBS jobs and, at its end, an error: it is read whole
 * and then rejected, which logs one line per file. */
static void write_span_file(const char *dir, int n)
{
        char path[1100];
        snprintf(path, sizeof(path), "%.1024s/big%02d.ini", dir, n);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        for (int j = 0; j < SPAN_JOBS; j++)
                fprintf(f, "[b%02d-%05d]\nschedule = @yearly\ncommand = true\n", n, j);
        fprintf(f, "[b%02d-broken]\nschedule = 99 * * * *\ncommand = true\n", n);
        ck_assert_int_eq(fclose(f), 0);
}

/* Files are loaded one per loop iteration: a job due every second is
 * started between the first and the last file of a long reload, not
 * only after it. */
START_TEST(a_long_reload_lets_due_jobs_start_between_its_files)
{
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "tick.ini", "[tick]\nschedule = * * * * * *\ncommand = true\n");
        ck_assert(tickd_wait_for(t, "event=started job=tick ", 1, 8000));
        /* Made aside, then moved in at once: one reload reads them all. */
        char stage[1024], from[1100], to[1100]; /* the tree's paths are short: no truncation */
        snprintf(stage, sizeof(stage), "%s/stage", t->dir);
        ck_assert_int_eq(mkdir(stage, 0755), 0);
        for (int n = 0; n < SPAN_FILES; n++)
                write_span_file(stage, n);
        size_t mark = t->log_len;
        for (int n = 0; n < SPAN_FILES; n++) {
                snprintf(from, sizeof(from), "%.1024s/big%02d.ini", stage, n);
                snprintf(to, sizeof(to), "%.1024s/big%02d.ini", t->jobs_dir, n);
                ck_assert_int_eq(rename(from, to), 0);
        }
        ck_assert_int_eq(rmdir(stage), 0);
        int reloads = count_after(t, 0, "event=reloaded");
        ck_assert_msg(tickd_wait_for(t, "big19.ini rejected", 1, 100000), "log:\n%.3000s", t->log + mark);
        ck_assert(tickd_wait_for(t, "event=reloaded", reloads + 1, 10000));
        const char *first = strstr(t->log + mark, "big00.ini rejected");
        const char *last = strstr(t->log + mark, "big19.ini rejected");
        ck_assert_msg(first && last && first < last, "log:\n%.3000s", t->log + mark);
        /* The reload spanned several seconds of this machine's time; a
         * loop blocked by it would start no job until it ends. */
        int between = 0;
        for (const char *p = first; (p = strstr(p, "event=started job=tick ")) && p < last; p++)
                between++;
        ck_assert_msg(between > 0, "no run started during the reload:\n%.3000s", first);
        stop(t);
        tickd_free(t);
}
END_TEST

static Suite *reload_suite(void)
{
        Suite *s = suite_create("daemon-reload");
        TCase *tc = tcase_create("reload");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, reload_adds_changes_and_removes_jobs);
        tcase_add_test(tc, broken_file_keeps_the_previous_version);
        tcase_add_test(tc, sighup_reloads);
        tcase_add_test(tc, running_job_survives_its_removal);
        tcase_add_test(tc, check_option_reports_errors_with_file_and_line);
        tcase_add_test(tc, reboot_job_runs_once_per_boot);
        tcase_add_test(tc, reboot_job_added_to_a_changed_file_runs_once);
        tcase_add_test(tc, persistent_job_catches_up_once_after_downtime);
        tcase_add_test(tc, user_mode_uses_the_xdg_directories);
        tcase_add_test(tc, rejected_file_is_not_logged_again_while_unchanged);
        suite_add_tcase(s, tc);

        tc = tcase_create("long-reload");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 150);
        tcase_add_test(tc, a_long_reload_lets_due_jobs_start_between_its_files);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(reload_suite)
