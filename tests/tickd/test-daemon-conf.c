/* test-daemon-conf.c — end to end: tickd.conf is read again on reload
 * (SIGHUP, tickctl reload, or a change of the file itself); its settings
 * take effect, and a broken one is rejected whole with file:line while the
 * settings in force stay. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness-daemon.h"
#include "harness/harness.h"

#define THREE_JOBS                                              \
        "[c1]\nschedule = */6 * * * * *\ncommand = sleep 1\n\n" \
        "[c2]\nschedule = */6 * * * * *\ncommand = sleep 1\n\n" \
        "[c3]\nschedule = */6 * * * * *\ncommand = sleep 1\n"

static void stop(struct tickd *t)
{
        int status = tickd_stop(t, SIGTERM, 20000);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
                fprintf(stderr, "tickd log:\n%s\n", t->log);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickd exit status %d", status);
        harness_reap_children(3000);
}

static int count_from(const char *log, const char *needle)
{
        int n = 0;
        for (const char *p = log; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* The most runs of the c* jobs running at once in LOG, counting only runs
 * that started in it. */
static int max_running(const char *log)
{
        int running = 0, max = 0;
        for (const char *line = log; line && *line;) {
                const char *nl = strchr(line, '\n');
                if (strncmp(line, "event=started job=c", 19) == 0 && ++running > max)
                        max = running;
                if (strncmp(line, "event=succeeded job=c", 21) == 0 && running > 0)
                        running--;
                line = nl ? nl + 1 : NULL;
        }
        return max;
}

/* Waits for one whole batch of the three jobs after log offset FROM (one
 * started, then three succeeded); returns the offset of its first start. */
static size_t wait_batch(struct tickd *t, size_t from)
{
        long long deadline = harness_now_ms() + 20000;
        const char *first;
        while (!(first = strstr(t->log + from, "event=started job=c")) && harness_now_ms() < deadline)
                tickd_pump(t, 100);
        ck_assert_msg(first, "no batch started:\n%s", t->log + from);
        size_t at = (size_t)(first - t->log);
        while (count_from(t->log + at, "event=succeeded job=c") < 3 && harness_now_ms() < deadline)
                tickd_pump(t, 100);
        ck_assert_msg(count_from(t->log + at, "event=succeeded job=c") >= 3, "batch incomplete:\n%s", t->log + at);
        return at;
}

static void write_conf(struct tickd *t, const char *content)
{
        char tmp[4200], final[4200];
        snprintf(tmp, sizeof(tmp), "%s/tickd.conf.tmp", t->config_dir);
        snprintf(final, sizeof(final), "%s/tickd.conf", t->config_dir);
        free(harness_write_file(t->config_dir, "tickd.conf.tmp", content));
        ck_assert_int_eq(rename(tmp, final), 0);
}

static void sighup_and_wait(struct tickd *t)
{
        int before = tickd_count(t, "reloaded (SIGHUP)");
        ck_assert_int_eq(kill(t->pid, SIGHUP), 0);
        ck_assert(tickd_wait_for(t, "reloaded (SIGHUP)", before + 1, 5000));
}

/* scope = fleet is valid only with a [fleet] section: adding one reads
 * every crontab again (a file rejected for the lack of it loads) and joins
 * the fleet; removing it waits for a restart (said once), so the node's
 * fleet jobs stay valid meanwhile. */
START_TEST(fleet_section_on_reload_reads_every_crontab_again)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        tickd_write_job(t, "h.ini", "[h]\nschedule = 0 0 1 1 *\ncommand = true\n");
        tickd_write_job(t, "f.ini", "[f]\nschedule = 0 0 1 1 *\ncommand = true\nscope = fleet\n");
        ck_assert_msg(tickd_wait_for(t, "f.ini rejected", 1, 5000), "f.ini not rejected:\n%s", t->log);
        ck_assert_ptr_nonnull(strstr(t->log, "scope = fleet needs a [fleet] section in tickd.conf"));

        write_conf(t, "[daemon]\nmax_concurrent = 1\n[fleet]\nendpoints = http://127.0.0.1:2379\nname = t\n");
        size_t mark = t->log_len;
        sighup_and_wait(t);
        ck_assert_msg(strstr(t->log + mark, "reloaded (SIGHUP): 2 jobs"), "got:\n%s", t->log + mark);
        ck_assert_ptr_nonnull(strstr(t->log + mark, "[fleet] added: joining fleet t"));

        write_conf(t, "[daemon]\nmax_concurrent = 1\n");
        mark = t->log_len;
        sighup_and_wait(t);
        ck_assert_msg(strstr(t->log + mark, "changes to [fleet] (its removal) take effect when tickd restarts"),
                      "got:\n%s", t->log + mark);
        ck_assert_ptr_null(strstr(t->log + mark, "f.ini rejected"));
        ck_assert_ptr_nonnull(strstr(t->log + mark, "reloaded (SIGHUP): 2 jobs"));
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(max_concurrent_changes_on_reload)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        tickd_write_job(t, "c.ini", THREE_JOBS);
        size_t at = wait_batch(t, 0);
        ck_assert_int_eq(max_running(t->log + at), 1);
        ck_assert_int_ge(count_from(t->log, "event=delayed job=c"), 2); /* logged before the batch starts */

        write_conf(t, "[daemon]\nmax_concurrent = 3\n");
        sighup_and_wait(t);
        ck_assert_ptr_nonnull(strstr(t->log, "settings in force: max_concurrent=3 "));
        size_t mark = t->log_len;
        at = wait_batch(t, mark);
        ck_assert_int_eq(max_running(t->log + at), 3);
        ck_assert_int_eq(count_from(t->log + mark, "event=delayed "), 0);
        stop(t);
        tickd_free(t);
}
END_TEST

/* No SIGHUP: saving tickd.conf is enough, as for a crontab. A file next to
 * it (an editor's temporary, say) is not. */
START_TEST(saving_tickd_conf_reloads)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        tickd_write_job(t, "c.ini", THREE_JOBS);
        ck_assert(tickd_wait_for(t, "event=reloaded", 2, 5000)); /* start-up, then c.ini */
        free(harness_write_file(t->config_dir, "tickd.conf.swp", "not a configuration\n"));
        usleep(500 * 1000);
        ck_assert_int_eq(tickd_count(t, "reloaded (tickd.conf changed)"), 0);
        write_conf(t, "[daemon]\nmax_concurrent = 3\n");
        ck_assert_msg(tickd_wait_for(t, "reloaded (tickd.conf changed)", 1, 5000), "no reload:\n%s", t->log);
        ck_assert_ptr_nonnull(strstr(t->log, "settings in force: max_concurrent=3 "));
        size_t at = wait_batch(t, t->log_len);
        ck_assert_int_eq(max_running(t->log + at), 3);
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(broken_conf_is_rejected_and_the_settings_in_force_stay)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        tickd_write_job(t, "c.ini", THREE_JOBS);
        wait_batch(t, 0);

        /* Valid line first, then a bad one: nothing of the file is taken. */
        write_conf(t, "[daemon]\nmax_concurrent = 3\nshutdown_timeout = soon\n");
        size_t mark = t->log_len;
        sighup_and_wait(t);
        const char *rejected = strstr(t->log + mark, "event=config-rejected file=");
        ck_assert_msg(rejected, "no config-rejected record:\n%s", t->log + mark);
        ck_assert_ptr_nonnull(strstr(rejected, "tickd.conf:3 msg=\"shutdown_timeout: "));
        ck_assert_ptr_nonnull(strstr(t->log + mark, "rejected; the previous settings stay in force"));
        ck_assert_ptr_nonnull(strstr(t->log + mark, "1 unchanged, 0 rejected, 0 removed; tickd.conf rejected"));
        ck_assert_ptr_null(strstr(t->log + mark, "settings in force"));

        /* Still one at a time, and every job still there. */
        mark = t->log_len;
        size_t at = wait_batch(t, mark);
        ck_assert_int_eq(max_running(t->log + at), 1);
        ck_assert_int_ge(count_from(t->log + mark, "event=delayed job=c"), 2);
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(default_timezone_changes_on_reload)
{
        /* A job at a fixed time of day, without timezone=: some seconds from
         * now in Tokyo (UTC+9, no DST), so hours away in UTC. */
        struct tickd *t = tickd_start("[daemon]\ndefault_timezone = UTC\n", NULL);
        time_t at = time(NULL) + 9 * 3600 + 6;
        struct tm tm;
        gmtime_r(&at, &tm);
        char ini[256];
        snprintf(ini, sizeof(ini), "[tokyo]\nschedule = %d %d %d * * *\ncommand = echo konnichiwa\n", tm.tm_sec,
                 tm.tm_min, tm.tm_hour);
        tickd_write_job(t, "tokyo.ini", ini);
        ck_assert(tickd_wait_for(t, "event=reloaded", 2, 5000));

        write_conf(t, "[daemon]\ndefault_timezone = Asia/Tokyo\n");
        sighup_and_wait(t);
        ck_assert_ptr_nonnull(strstr(t->log, "default_timezone=Asia/Tokyo "));
        /* Every file is read again under the new zone. */
        ck_assert_ptr_nonnull(strstr(t->log, "reloaded (SIGHUP): 1 job; 1 file loaded, 0 unchanged"));
        ck_assert_msg(tickd_wait_for(t, "tokyo: konnichiwa\n", 1, 10000), "the job did not run in Tokyo time:\n%s",
                      t->log);
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(unknown_default_timezone_on_reload_is_rejected)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        write_conf(t, "[daemon]\nmax_concurrent = 2\ndefault_timezone = Mars/Olympus_Mons\n");
        size_t mark = t->log_len;
        sighup_and_wait(t);
        ck_assert_ptr_nonnull(
                strstr(t->log + mark, "tickd.conf:3 msg=\"default_timezone: unknown time zone 'Mars/Olympus_Mons'"));
        ck_assert_ptr_nonnull(strstr(t->log + mark, "rejected; the previous settings stay in force"));
        ck_assert_ptr_null(strstr(t->log + mark, "settings in force"));
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(tickctl_reload_reads_tickd_conf_again)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        write_conf(t, "[daemon]\nmax_concurrent = 2\nshutdown_timeout = 7s\n");
        char runtime[4200];
        snprintf(runtime, sizeof(runtime), "%s/runtime", t->dir);
        char *argv[] = { (char *)harness_binary("tickctl"),
                         "reload",
                         "--config-dir",
                         t->config_dir,
                         "--runtime-dir",
                         runtime,
                         "--no-pager",
                         NULL };
        char *out = NULL, *err = NULL;
        int status = harness_run(argv, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tickctl reload: %d\n%s%s", status, out, err);
        free(out);
        free(err);
        ck_assert(tickd_wait_for(t, "reloaded (tickctl reload)", 1, 5000));
        ck_assert_ptr_nonnull(strstr(t->log, "settings in force: max_concurrent=2 "));
        ck_assert_ptr_nonnull(strstr(t->log, "shutdown_timeout=7.000s"));
        stop(t);
        tickd_free(t);
}
END_TEST

START_TEST(path_changes_on_reload)
{
        /* A program found only in a directory that the new path adds. */
        char *bin = harness_tmpdir();
        char *prog = harness_write_file(bin, "tickd-conf-hello", "#!/bin/sh\necho hello from $0\n");
        ck_assert_int_eq(chmod(prog, 0755), 0);
        struct tickd *t = tickd_start("[daemon]\npath = /usr/bin:/bin\n", NULL);
        tickd_write_job(t, "h.ini", "[h]\nschedule = * * * * * *\ncommand = tickd-conf-hello\n");
        ck_assert(tickd_wait_for(t, "event=failed job=h ", 1, 8000)); /* 127: not found */
        char conf[4300];
        snprintf(conf, sizeof(conf), "[daemon]\npath = %s:/usr/bin:/bin\n", bin);
        write_conf(t, conf);
        sighup_and_wait(t);
        char want[4300];
        snprintf(want, sizeof(want), "h: hello from %s/tickd-conf-hello\n", bin);
        ck_assert_msg(tickd_wait_for(t, want, 1, 8000), "the new path was not used:\n%s", t->log);
        stop(t);
        tickd_free(t);
        free(prog);
        harness_tmpdir_remove(bin);
}
END_TEST

/* Replaces tickd.conf in one step with a file of MODE owned by UID, so
 * no reload can see it in between. */
static void write_conf_as(struct tickd *t, const char *content, mode_t mode, uid_t uid)
{
        char tmp[4200], final[4200];
        snprintf(tmp, sizeof(tmp), "%s/tickd.conf.tmp", t->config_dir);
        snprintf(final, sizeof(final), "%s/tickd.conf", t->config_dir);
        free(harness_write_file(t->config_dir, "tickd.conf.tmp", content));
        ck_assert_int_eq(chmod(tmp, mode), 0);
        ck_assert_int_eq(chown(tmp, uid, 0), 0);
        ck_assert_int_eq(rename(tmp, final), 0);
}

/* Runs tickd (or tickd --check with CHECK) on the tree DIR (config, state,
 * runtime) and waits at most 10 s for it to exit on its own: a daemon that
 * starts is stopped by timeout(1), status 124. Returns the exit status. */
static int run_tickd(const char *dir, bool check, char **err)
{
        char config[4200], state[4200], runtime[4200];
        snprintf(config, sizeof(config), "%s/config", dir);
        snprintf(state, sizeof(state), "%s/state", dir);
        snprintf(runtime, sizeof(runtime), "%s/runtime", dir);
        char *argv[] = { "/usr/bin/timeout",
                         "10",
                         (char *)harness_binary("tickd"),
                         "--config-dir",
                         config,
                         "--state-dir",
                         state,
                         "--runtime-dir",
                         runtime,
                         "--log-target",
                         "stderr",
                         check ? "--check" : NULL,
                         NULL };
        int status = harness_run(argv, NULL, NULL, err);
        ck_assert(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static char *make_tree(void)
{
        char *dir = harness_tmpdir(), path[4200];
        snprintf(path, sizeof(path), "%s/config", dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/config/jobs.d", dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        return dir;
}

/* tickd.conf sets root's jobs' PATH: whoever may write it runs code as
 * root. At start-up such a file is refused like any broken tickd.conf:
 * tickd does not start, and says which file and what is wrong. */
START_TEST(unsafe_tickd_conf_stops_start_up)
{
        char name[64], config_dir[4200], *err;
        uid_t uid;
        harness_user_add("tkdc", name, sizeof(name), &uid, NULL);
        char *dir = make_tree();
        snprintf(config_dir, sizeof(config_dir), "%s/config", dir);
        char *conf = harness_write_file(config_dir, "tickd.conf", "[daemon]\npath = /tmp:/usr/bin:/bin\n");
        ck_assert_int_eq(chmod(conf, 0666), 0);
        ck_assert_int_eq(run_tickd(dir, false, &err), 1);
        ck_assert_msg(strstr(err, conf) && strstr(err, "refused: file is writable by group and others (mode 0666)"),
                      "got: %s", err);
        free(err);
        ck_assert_int_eq(run_tickd(dir, true, &err), 1); /* tickd --check */
        ck_assert_msg(strstr(err, "refused: file is writable by group and others (mode 0666)"), "got: %s", err);
        free(err);

        ck_assert_int_eq(chmod(conf, 0644), 0);
        ck_assert_int_eq(chown(conf, uid, 0), 0);
        ck_assert_int_eq(run_tickd(dir, false, &err), 1);
        char want[128];
        snprintf(want, sizeof(want), "refused: file is owned by uid %u, not root", (unsigned)uid);
        ck_assert_msg(strstr(err, conf) && strstr(err, want), "got: %s", err);
        free(err);
        harness_user_del(name);
        free(conf);
        harness_tmpdir_remove(dir);
}
END_TEST

/* An unknown default_timezone gets the verdict any error in tickd.conf
 * gets at start-up (and from tickd --check): tickd does not start, and
 * says where; it never runs the zone-less jobs in UTC instead. */
START_TEST(unknown_default_timezone_stops_start_up)
{
        char config_dir[4200], *err;
        char *dir = make_tree();
        snprintf(config_dir, sizeof(config_dir), "%s/config", dir);
        char *conf = harness_write_file(config_dir, "tickd.conf", "[daemon]\ndefault_timezone = Mars/Base\n");
        char want[4400];
        snprintf(want, sizeof(want), "%s:2 msg=\"default_timezone: unknown time zone 'Mars/Base'", conf);
        ck_assert_int_eq(run_tickd(dir, false, &err), 1);
        ck_assert_msg(strstr(err, want) && strstr(err, "not starting"), "got: %s", err);
        ck_assert_msg(!strstr(err, "using UTC"), "got: %s", err);
        free(err);
        ck_assert_int_eq(run_tickd(dir, true, &err), 1); /* tickd --check */
        ck_assert_msg(strstr(err, want), "got: %s", err);
        free(err);
        free(conf);
        harness_tmpdir_remove(dir);
}
END_TEST

/* A tickd.conf that is a symbolic link to nothing stops start-up as a
 * broken one does: without the file the admin meant, the defaults would
 * run jobs under settings nobody chose. */
START_TEST(dangling_tickd_conf_symlink_stops_start_up)
{
        char config_dir[4200], conf[4300], *err;
        char *dir = make_tree();
        snprintf(config_dir, sizeof(config_dir), "%s/config", dir);
        snprintf(conf, sizeof(conf), "%s/tickd.conf", config_dir);
        ck_assert_int_eq(symlink("/nonexistent/tickd.conf", conf), 0);
        ck_assert_int_eq(run_tickd(dir, false, &err), 1);
        ck_assert_msg(strstr(err, conf) &&
                              strstr(err, "a symbolic link to /nonexistent/tickd.conf, which does not exist") &&
                              strstr(err, "not starting"),
                      "got: %s", err);
        free(err);
        ck_assert_int_eq(run_tickd(dir, true, &err), 1); /* tickd --check */
        ck_assert_msg(strstr(err, "which does not exist"), "got: %s", err);
        free(err);
        harness_tmpdir_remove(dir);
}
END_TEST

/* tickd --check judges scope = fleet by tickd.conf's [fleet] section, and
 * names a bad [fleet] key at its line. */
START_TEST(check_judges_scope_fleet_by_tickd_conf)
{
        char config_dir[4200], jobs_dir[4300], want[4400], *err;
        char *dir = make_tree();
        snprintf(config_dir, sizeof(config_dir), "%s/config", dir);
        snprintf(jobs_dir, sizeof(jobs_dir), "%s/jobs.d", config_dir);
        char *job = harness_write_file(jobs_dir, "f.ini", "[f]\nschedule = @hourly\ncommand = true\nscope = fleet\n");
        ck_assert_int_eq(run_tickd(dir, true, &err), 1);
        snprintf(want, sizeof(want), "%s:4: error: scope = fleet needs a [fleet] section in tickd.conf", job);
        ck_assert_msg(strstr(err, want), "got: %s", err);
        free(err);

        char *conf =
                harness_write_file(config_dir, "tickd.conf", "[fleet]\nendpoints = http://127.0.0.1:2379\nname = t\n");
        ck_assert_int_eq(run_tickd(dir, true, &err), 0);
        ck_assert_msg(!strstr(err, "error"), "got: %s", err);
        free(err);

        free(harness_write_file(config_dir, "tickd.conf", "[fleet]\nendpoints = http://127.0.0.1:2379\nnmae = t\n"));
        ck_assert_int_eq(run_tickd(dir, true, &err), 1);
        snprintf(want, sizeof(want), "%s:3 msg=\"unknown key 'nmae' in [fleet]\"", conf);
        ck_assert_msg(strstr(err, want), "got: %s", err);
        free(err);
        free(conf);
        free(job);
        harness_tmpdir_remove(dir);
}
END_TEST

/* On a reload the file is rejected with its name and the reason, and the
 * settings in force stay. */
START_TEST(unsafe_tickd_conf_on_reload_is_rejected)
{
        struct tickd *t = tickd_start("[daemon]\nmax_concurrent = 1\n", NULL);
        write_conf_as(t, "[daemon]\nmax_concurrent = 3\n", 0666, 0);
        size_t mark = t->log_len;
        sighup_and_wait(t);
        char want[4300];
        snprintf(want, sizeof(want), "event=config-rejected file=%s/tickd.conf", t->config_dir);
        const char *rejected = strstr(t->log + mark, want);
        ck_assert_msg(rejected, "no config-rejected record:\n%s", t->log + mark);
        ck_assert_ptr_nonnull(strstr(rejected, "refused: file is writable by group and others (mode 0666)"));
        ck_assert_ptr_nonnull(strstr(t->log + mark, "rejected; the previous settings stay in force"));
        ck_assert_ptr_null(strstr(t->log + mark, "settings in force: "));
        stop(t);
        tickd_free(t);
}
END_TEST

/* Directories others own or may write are not used: a planted marker or
 * stamp would steer which jobs run. tickd refuses to start. */
START_TEST(untrusted_state_or_runtime_directory_stops_start_up)
{
        char name[64], path[4200], *err;
        uid_t uid;
        harness_user_add("tkdd", name, sizeof(name), &uid, NULL);
        char *dir = make_tree();
        snprintf(path, sizeof(path), "%s/state", dir);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        ck_assert_int_eq(chown(path, uid, 0), 0);
        ck_assert_int_eq(run_tickd(dir, false, &err), 1);
        char want[4400];
        snprintf(want, sizeof(want), "%s: refused: directory is owned by uid %u, not root", path, (unsigned)uid);
        ck_assert_msg(strstr(err, want), "got: %s", err);
        free(err);
        ck_assert_int_eq(chown(path, 0, 0), 0);

        snprintf(path, sizeof(path), "%s/runtime", dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/runtime/tickd", dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        ck_assert_int_eq(chmod(path, 01777), 0);
        ck_assert_int_eq(run_tickd(dir, false, &err), 1);
        snprintf(want, sizeof(want), "%s: refused: directory is writable by group and others (mode 1777)", path);
        ck_assert_msg(strstr(err, want), "got: %s", err);
        free(err);
        harness_user_del(name);
        harness_tmpdir_remove(dir);
}
END_TEST

/* The state directory holds every job's last outcome: root's alone. */
START_TEST(state_directory_is_created_private)
{
        struct tickd *t = tickd_start(NULL, NULL);
        char path[4200];
        snprintf(path, sizeof(path), "%s/state", t->dir);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0700);
        stop(t);
        tickd_free(t);
}
END_TEST

static Suite *conf_suite(void)
{
        Suite *s = suite_create("daemon-conf");
        TCase *tc = tcase_create("reload");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, max_concurrent_changes_on_reload);
        tcase_add_test(tc, fleet_section_on_reload_reads_every_crontab_again);
        tcase_add_test(tc, saving_tickd_conf_reloads);
        tcase_add_test(tc, broken_conf_is_rejected_and_the_settings_in_force_stay);
        tcase_add_test(tc, default_timezone_changes_on_reload);
        tcase_add_test(tc, unknown_default_timezone_on_reload_is_rejected);
        tcase_add_test(tc, unknown_default_timezone_stops_start_up);
        tcase_add_test(tc, dangling_tickd_conf_symlink_stops_start_up);
        tcase_add_test(tc, tickctl_reload_reads_tickd_conf_again);
        tcase_add_test(tc, path_changes_on_reload);
        tcase_add_test(tc, unsafe_tickd_conf_on_reload_is_rejected);
        suite_add_tcase(s, tc);
        tc = tcase_create("trust");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, unsafe_tickd_conf_stops_start_up);
        tcase_add_test(tc, check_judges_scope_fleet_by_tickd_conf);
        tcase_add_test(tc, untrusted_state_or_runtime_directory_stops_start_up);
        tcase_add_test(tc, state_directory_is_created_private);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(conf_suite)
