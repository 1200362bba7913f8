/* test-ctl-check.c — `tickctl check`: output lines and exit codes. */
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "harness/harness.h"

static char *tmp;

static void tmp_setup(void) { tmp = harness_tmpdir(); }
static void tmp_teardown(void)
{
        harness_tmpdir_remove(tmp);
        tmp = NULL;
}

/* Runs tickctl check with up to 6 arguments; returns the exit status. */
static int check(char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
        char *argv[8] = { (char *)harness_binary("tickctl"), "check" };
        int n = 2;
        const char *args[] = { a1, a2, a3, a4 };
        for (size_t i = 0; i < 4 && args[i]; i++)
                argv[n++] = (char *)args[i];
        char *err = NULL;
        int status = harness_run(argv, NULL, out, &err);
        ck_assert_msg(WIFEXITED(status), "tickctl check did not exit");
        /* Sanitizer reports would land here. */
        ck_assert_msg(!strstr(err, "Sanitizer"), "%s", err);
        free(err);
        return WEXITSTATUS(status);
}

START_TEST(example_configuration_is_accepted)
{
        char *out;
        char jobs[4096], conf[4096];
        snprintf(jobs, sizeof(jobs), "%s", harness_source_path("config/jobs.d"));
        snprintf(conf, sizeof(conf), "%s", harness_source_path("config/tickd.conf"));
        ck_assert_int_eq(check(&out, jobs, conf, NULL, NULL), 0);
        /* Not a single error or warning in what we ship. */
        ck_assert_str_eq(out, "");
        free(out);
        ck_assert_int_eq(check(&out, "--list", jobs, NULL, NULL), 0);
        ck_assert(strstr(out, "hello\t"));
        ck_assert(strstr(out, "\t*/5 * * * * *\n"));
        ck_assert(strstr(out, "nightly-report\t"));
        ck_assert(strstr(out, "(disabled)"));
        free(out);
}
END_TEST

START_TEST(errors_are_printed_file_line_and_exit_1)
{
        char *path = harness_write_file(tmp, "a.ini",
                                        "[a]\nschedule = * * * * *\ncommand = true\nshedule = 1\n"
                                        "[b]\nschedule = * * * * *\ncommand = true\ntimeout = 2 parsecs\n");
        char *out, expected[8192];
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 1);
        snprintf(expected, sizeof(expected),
                 "%s:4: error: unknown key 'shedule' (did you mean 'schedule'?)\n"
                 "%s:8: error: timeout: '2 parsecs' is not a time span (examples: 90s, 15m, 2h 30min, 1d)\n",
                 path, path);
        ck_assert_str_eq(out, expected);
        free(out);
        ck_assert_int_eq(check(&out, "--quiet", path, NULL, NULL), 1);
        ck_assert_str_eq(out, "");
        free(out);
        free(path);
}
END_TEST

START_TEST(warnings_alone_exit_0)
{
        char *path = harness_write_file(tmp, "w.ini", "[w]\nschedule = @every 1m\ncommand = tickd-no-such-prog\n");
        char *out, expected[8192];
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 0);
        snprintf(expected, sizeof(expected),
                 "%s:3: warning: command: program 'tickd-no-such-prog' not found in PATH "
                 "(/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)\n",
                 path);
        ck_assert_str_eq(out, expected);
        free(out);
        free(path);
}
END_TEST

START_TEST(duplicates_across_files_name_both_places)
{
        char *dir;
        ck_assert_int_ge(asprintf(&dir, "%s/jobs.d", tmp), 0);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        char *a = harness_write_file(dir, "a.ini", "[same]\nschedule = @hourly\ncommand = true\n");
        char *b = harness_write_file(dir, "b.ini", "# b\n[same]\nschedule = @daily\ncommand = true\n");
        char *out, expected[8192];
        ck_assert_int_eq(check(&out, dir, NULL, NULL, NULL), 1);
        snprintf(expected, sizeof(expected), "%s:2: error: job 'same' already defined at %s:1\n", b, a);
        ck_assert_str_eq(out, expected);
        free(out);
        free(a);
        free(b);
        free(dir);
}
END_TEST

START_TEST(list_prints_jobs_with_next_run)
{
        char *path = harness_write_file(tmp, "l.ini",
                                        "[yearly-utc]\nschedule = @yearly\ncommand = true\ntimezone = UTC\n"
                                        "[berlin]\nschedule = 0 12 1 1 *\ncommand = true\ntimezone = Europe/Berlin\n"
                                        "[boot]\nschedule = @reboot\ncommand = true\nenabled = no\n");
        char *out;
        ck_assert_int_eq(check(&out, "--list", path, NULL, NULL), 0);
        char year[8];
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        if (tm.tm_yday == 0) {
                /* On New Year's Day the next run may still be this year. */
                free(out);
                free(path);
                return;
        }
        snprintf(year, sizeof(year), "%d", tm.tm_year + 1900 + 1);
        char expected[512];
        snprintf(expected, sizeof(expected),
                 "yearly-utc\t%s-01-01 00:00:00 +00:00\tUTC\t@yearly\n"
                 "berlin\t%s-01-01 12:00:00 +01:00\tEurope/Berlin\t0 12 1 1 *\n"
                 "boot\tat start-up\t",
                 year, year);
        ck_assert_msg(strncmp(out, expected, strlen(expected)) == 0, "got:\n%s", out);
        ck_assert(strstr(out, "@reboot\t(disabled)\n"));
        free(out);
        free(path);
}
END_TEST

START_TEST(config_dir_is_checked_like_the_daemon)
{
        char *jobs, *out;
        ck_assert_int_ge(asprintf(&jobs, "%s/jobs.d", tmp), 0);
        ck_assert_int_eq(mkdir(jobs, 0755), 0);
        ck_assert_int_eq(chown(jobs, 0, 0), 0);
        char *job = harness_write_file(jobs, "a.ini", "[a]\nschedule = @hourly\ncommand = true\n");
        ck_assert_int_eq(chown(job, 0, 0), 0);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 0);
        ck_assert_str_eq(out, "");
        free(out);

        /* The daemon would refuse a group-writable crontab: so does check. */
        ck_assert_int_eq(chmod(job, 0664), 0);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 1);
        char expected[8192];
        snprintf(expected, sizeof(expected),
                 "%s: error: refused: file is writable by group (mode 0664); run chmod go-w\n", job);
        ck_assert_str_eq(out, expected);
        free(out);
        ck_assert_int_eq(chmod(job, 0644), 0);

        /* tickd.conf beside jobs.d is checked too. */
        char *conf = harness_write_file(tmp, "tickd.conf", "[daemon]\nmax_concurent = 4\n");
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 1);
        snprintf(expected, sizeof(expected),
                 "%s:2: error: unknown key 'max_concurent' (did you mean 'max_concurrent'?)\n", conf);
        ck_assert_str_eq(out, expected);
        free(out);

        /* --verbose says what was ignored. */
        unlink(conf);
        free(harness_write_file(jobs, "a.ini~", "junk"));
        ck_assert_int_eq(check(&out, "--verbose", "--config-dir", tmp, NULL), 0);
        snprintf(expected, sizeof(expected), "%s: debug: ignored a.ini~: editor backup\n", jobs);
        ck_assert_str_eq(out, expected);
        free(out);
        free(conf);
        free(job);
        free(jobs);
}
END_TEST

/* scope = fleet is judged against the tickd.conf of the configuration
 * directory, for the jobs directory and for a file named alike. */
START_TEST(scope_fleet_needs_a_fleet_section_in_tickd_conf)
{
        char *jobs, *out, expected[8192];
        ck_assert_int_ge(asprintf(&jobs, "%s/jobs.d", tmp), 0);
        ck_assert_int_eq(mkdir(jobs, 0755), 0);
        char *job = harness_write_file(jobs, "f.ini", "[f]\nschedule = @hourly\ncommand = true\nscope = fleet\n");
        snprintf(expected, sizeof(expected), "%s:4: error: scope = fleet needs a [fleet] section in tickd.conf\n", job);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 1);
        ck_assert_str_eq(out, expected);
        free(out);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, job, NULL), 1);
        ck_assert_str_eq(out, expected);
        free(out);

        char *conf = harness_write_file(tmp, "tickd.conf", "[fleet]\nendpoints = http://127.0.0.1:2379\nname = t\n");
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 0);
        ck_assert_str_eq(out, "");
        free(out);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, job, NULL), 0);
        ck_assert_str_eq(out, "");
        free(out);

        /* A bad [fleet] is reported at its line, and tickd.conf given by name too. */
        free(harness_write_file(tmp, "tickd.conf", "[fleet]\nendpoints = http://127.0.0.1\nname = t\n"));
        ck_assert_int_eq(check(&out, conf, NULL, NULL, NULL), 1);
        snprintf(expected, sizeof(expected),
                 "%s:2: error: endpoints: 'http://127.0.0.1': no port (etcd's client port is usually 2379)\n", conf);
        ck_assert_str_eq(out, expected);
        free(out);
        free(conf);
        free(job);
        free(jobs);
}
END_TEST

START_TEST(user_instance_directory_and_rules)
{
        char *jobs, *env_xdg, *out, *err;
        ck_assert_int_ge(asprintf(&jobs, "%s/tickd/jobs.d", tmp), 0);
        char *parent = strndup(jobs, strlen(jobs) - strlen("/jobs.d"));
        ck_assert_int_eq(mkdir(parent, 0755), 0);
        ck_assert_int_eq(mkdir(jobs, 0755), 0);
        char *job = harness_write_file(jobs, "mine.ini", "[mine]\nschedule = @hourly\ncommand = true\n");
        ck_assert_int_ge(asprintf(&env_xdg, "XDG_CONFIG_HOME=%s", tmp), 0);
        char *envp[] = { env_xdg, "PATH=/usr/bin:/bin", NULL };
        char *argv[] = { (char *)harness_binary("tickctl"), "check", "--user", "--list", NULL };
        int status = harness_run(argv, envp, &out, &err);
        ck_assert(WIFEXITED(status));
        ck_assert_int_eq(WEXITSTATUS(status), 0);
        ck_assert_msg(strncmp(out, "mine\t", 5) == 0, "got: %s", out);
        free(out);
        free(err);
        /* A user's crontab writable by others is refused. */
        ck_assert_int_eq(chmod(job, 0666), 0);
        status = harness_run(argv, envp, &out, &err);
        ck_assert_int_eq(WEXITSTATUS(status), 1);
        char expected[8192];
        snprintf(expected, sizeof(expected),
                 "%s: error: refused: file is writable by group and others (mode 0666); run chmod go-w\n", job);
        ck_assert_str_eq(out, expected);
        free(out);
        free(err);
        free(job);
        free(env_xdg);
        free(parent);
        free(jobs);
}
END_TEST

/* tickd.conf sets the PATH of root's jobs: the daemon refuses it unless
 * root owns it and only root can write it, through a symlink or not, and
 * tickctl check says so, exactly. */
START_TEST(tickd_conf_owner_and_mode_are_checked)
{
        char name[64], *jobs, *out, expected[8192];
        uid_t uid;
        harness_user_add("tkcf", name, sizeof(name), &uid, NULL);
        ck_assert_int_ge(asprintf(&jobs, "%s/jobs.d", tmp), 0);
        ck_assert_int_eq(mkdir(jobs, 0755), 0);
        char *conf = harness_write_file(tmp, "tickd.conf", "[daemon]\npath = /usr/bin:/bin\n");
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 0);
        ck_assert_str_eq(out, "");
        free(out);

        ck_assert_int_eq(chmod(conf, 0666), 0);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 1);
        snprintf(expected, sizeof(expected),
                 "%s: error: refused: file is writable by group and others (mode 0666); run chmod go-w\n", conf);
        ck_assert_str_eq(out, expected);
        free(out);

        ck_assert_int_eq(chmod(conf, 0644), 0);
        ck_assert_int_eq(chown(conf, uid, 0), 0);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 1);
        snprintf(expected, sizeof(expected), "%s: error: refused: file is owned by uid %u, not root\n", conf,
                 (unsigned)uid);
        ck_assert_str_eq(out, expected);
        free(out);

        /* A root-owned symlink to the user's file is the user's file. */
        char theirs[4200];
        snprintf(theirs, sizeof(theirs), "%s/theirs.conf", tmp);
        ck_assert_int_eq(rename(conf, theirs), 0);
        ck_assert_int_eq(symlink(theirs, conf), 0);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 1);
        ck_assert_msg(strstr(out, ": error: refused: file is owned by uid "), "got: %s", out);
        ck_assert_msg(strncmp(out, conf, strlen(conf)) == 0, "got: %s", out);
        free(out);
        harness_user_del(name);
        free(conf);
        free(jobs);
}
END_TEST

/* The README's `tickctl check /etc/tickd/jobs.d/backup.ini`: a file named
 * on the command line gets the daemon's verdict, its owner and mode rule
 * included (the owner the instance wants, with the fix), as well as its
 * content's. */
START_TEST(named_file_gets_the_daemons_owner_and_mode_verdict)
{
        char *path = harness_write_file(tmp, "n.ini", "[n]\nschedule = @hourly\ncommand = true\n");
        char *out, expected[8192];
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 0);
        ck_assert_str_eq(out, "");
        free(out);

        const struct {
                mode_t mode;
                const char *who;
        } modes[] = { { 0666, "group and others" }, { 0646, "others" }, { 0664, "group" } };
        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
                ck_assert_int_eq(chmod(path, modes[i].mode), 0);
                ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 1);
                snprintf(expected, sizeof(expected),
                         "%s: error: refused: file is writable by %s (mode %04o); run chmod go-w\n", path, modes[i].who,
                         (unsigned)modes[i].mode);
                ck_assert_str_eq(out, expected);
                free(out);
        }

        /* Someone else's, writable by others and with an error inside:
         * all three are said, the owner with the command that fixes it. */
        char name[64];
        uid_t uid;
        harness_user_add("tkno", name, sizeof(name), &uid, NULL);
        ck_assert_int_eq(chown(path, uid, 0), 0);
        ck_assert_int_eq(chmod(path, 0646), 0);
        FILE *f = fopen(path, "a");
        ck_assert_ptr_nonnull(f);
        fputs("bogus = 1\n", f);
        fclose(f);
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 1);
        snprintf(expected, sizeof(expected),
                 "%s: error: refused: file is owned by uid %u, not root; run chown root:root %s\n"
                 "%s: error: refused: file is writable by others (mode 0646); run chmod go-w\n"
                 "%s:4: error: unknown key 'bogus'\n",
                 path, (unsigned)uid, path, path, path);
        ck_assert_str_eq(out, expected);
        free(out);
        harness_user_del(name);

        /* A named directory and the files in it alike. */
        ck_assert_int_eq(chown(path, 0, 0), 0);
        ck_assert_int_eq(chmod(path, 0644), 0);
        ck_assert_int_eq(truncate(path, strlen("[n]\nschedule = @hourly\ncommand = true\n")), 0);
        ck_assert_int_eq(chmod(tmp, 0777), 0);
        ck_assert_int_eq(check(&out, tmp, NULL, NULL, NULL), 1);
        snprintf(expected, sizeof(expected),
                 "%s: error: refused: directory is writable by group and others (mode 0777); run chmod go-w\n", tmp);
        ck_assert_str_eq(out, expected);
        free(out);
        ck_assert_int_eq(chmod(tmp, 0755), 0);
        free(path);
}
END_TEST

/* A file with errors says its warnings too: errors first, then warnings,
 * each in line order. */
START_TEST(errors_and_warnings_are_printed_together_errors_first)
{
        char *path = harness_write_file(tmp, "ew.ini",
                                        "[once]\nschedule = 2020-01-01 00:00\ncommand = true\n"
                                        "[pile]\nschedule = @every 1m\ncommand = true\ntimeout = 5m\noverlap = allow\n"
                                        "[late]\nschedule = @hourly\n"
                                        "[bad]\nschedule = @hourly\ncommand = true\nbogus = 1\n");
        char *out, expected[8192];
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 1);
        snprintf(expected, sizeof(expected),
                 "%s:9: error: job 'late' has no command\n"
                 "%s:14: error: unknown key 'bogus'\n"
                 "%s:2: warning: schedule: job 'once' never runs again ('2020-01-01 00:00' has no time after "
                 "now)\n"
                 "%s:7: warning: timeout: job 'pile' may run for 5min but starts every 1min with overlap = allow: "
                 "runs can pile up\n",
                 path, path, path, path);
        ck_assert_str_eq(out, expected);
        free(out);
        free(path);
}
END_TEST

/* 200 kB of noise is not worth 700 lines: the first ten errors, then how
 * many more, counted to the last. */
START_TEST(binary_file_stops_after_ten_errors)
{
        char *noise = malloc(200000);
        ck_assert_ptr_nonnull(noise);
        srandom(13);
        for (size_t i = 0; i < 200000; i++)
                noise[i] = (char)(random() & 0xff);
        char *path;
        ck_assert_int_ge(asprintf(&path, "%s/noise.ini", tmp), 0);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(noise, 1, 200000, f), 200000);
        fclose(f);
        free(noise);
        char *out;
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 1);
        size_t lines = 0;
        for (const char *p = out; *p; p++)
                lines += *p == '\n';
        ck_assert_msg(lines == 11, "%zu lines:\n%s", lines, out);
        char *last = strrchr(out, '\n');
        *last = '\0';
        last = strrchr(out, '\n') + 1;
        char prefix[4200];
        snprintf(prefix, sizeof(prefix), "%s: error: \u2026 ", path);
        ck_assert_msg(strncmp(last, prefix, strlen(prefix)) == 0, "last line: %s", last);
        char *end;
        unsigned long more = strtoul(last + strlen(prefix), &end, 10);
        ck_assert_msg(more > 100 && strcmp(end, " more errors; is this a crontab?") == 0, "last line: %s", last);
        free(out);
        free(path);
}
END_TEST

/* A finding about a whole file or directory names no line: "FILE: error:",
 * never "FILE:0: error:". */
START_TEST(whole_file_findings_name_no_line)
{
        char *dir, *out;
        ck_assert_int_ge(asprintf(&dir, "%s/jobs.d", tmp), 0);
        ck_assert_int_eq(mkdir(dir, 0755), 0);
        char link[4300], conf[4300];
        snprintf(link, sizeof(link), "%s/dangling.ini", dir);
        ck_assert_int_eq(symlink("/nonexistent", link), 0);
        free(harness_write_file(dir, "empty.ini", ""));
        snprintf(conf, sizeof(conf), "%s/tickd.conf", tmp);
        ck_assert_int_eq(mkdir(conf, 0755), 0);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 1);
        ck_assert_msg(!strstr(out, ":0:") && strstr(out, "tickd.conf: error: not a regular file\n") &&
                              strstr(out, "jobs.d: error: cannot read dangling.ini: No such file or directory\n"),
                      "got:\n%s", out);
        free(out);
        free(dir);
}
END_TEST

/* What `tickctl check PATH` prints on a terminal (a pseudo-terminal in
 * raw mode, so the bytes arrive as written). */
static char *check_on_terminal(const char *path)
{
        int master, slave;
        ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
        struct termios raw;
        ck_assert_int_eq(tcgetattr(slave, &raw), 0);
        cfmakeraw(&raw);
        ck_assert_int_eq(tcsetattr(slave, TCSANOW, &raw), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                dup2(slave, STDOUT_FILENO);
                execl(harness_binary("tickctl"), "tickctl", "check", path, (char *)NULL);
                _exit(127);
        }
        close(slave);
        char *out = calloc(1, 65536);
        ck_assert_ptr_nonnull(out);
        size_t len = 0;
        ssize_t n;
        /* read() fails with EIO once the child, the last holder of the slave, exits. */
        while (len < 65535 && (n = read(master, out + len, 65535 - len)) > 0)
                len += (size_t)n;
        close(master);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 1);
        return out;
}

/* A crontab's own bytes quoted in a message (here an unknown key holding
 * an escape sequence) reach a terminal escaped, never as control
 * characters; through a pipe they stay as they are. */
START_TEST(control_characters_from_a_file_are_escaped_on_a_terminal)
{
        char *path = harness_write_file(tmp, "evil.ini", "[j]\nschedule = @hourly\ncommand = true\n\x1b[2Jevil = 1\n");
        char *out = check_on_terminal(path);
        ck_assert_msg(strstr(out, "unknown key '\\x1b[2Jevil'") && !strchr(out, '\x1b'), "got: %s", out);
        free(out);
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 1);
        ck_assert_msg(strstr(out, "unknown key '\x1b[2Jevil'"), "got: %s", out);
        free(out);
        free(path);
}
END_TEST

START_TEST(usage_errors_exit_2)
{
        char *out;
        ck_assert_int_eq(check(&out, "--bogus", NULL, NULL, NULL), 2);
        free(out);
        ck_assert_int_eq(check(&out, "--help", NULL, NULL, NULL), 0);
        ck_assert(strstr(out, "Usage: tickctl check"));
        free(out);
}
END_TEST

/* tickctl.1: an I/O error exits 2, a finding in a file 1. */
START_TEST(missing_path_is_an_io_error)
{
        char *out;
        ck_assert_int_eq(check(&out, "/nonexistent/tickd.ini", NULL, NULL, NULL), 2);
        ck_assert_str_eq(out, "/nonexistent/tickd.ini: error: cannot read: No such file or directory\n");
        free(out);
}
END_TEST

/* One verdict for an unknown default_timezone, as the daemon's: an error
 * at its line, whether tickd.conf is named or found in --config-dir. */
START_TEST(unknown_default_timezone_is_an_error_everywhere)
{
        char *conf = harness_write_file(tmp, "tickd.conf", "[daemon]\n\ndefault_timezone = Mars/Base\n");
        char jobs[4200];
        snprintf(jobs, sizeof(jobs), "%s/jobs.d", tmp);
        ck_assert_int_eq(mkdir(jobs, 0755), 0);
        char *out, expected[8192];
        snprintf(expected, sizeof(expected),
                 "%s:3: error: default_timezone: unknown time zone 'Mars/Base' (not in the tz database)\n", conf);
        ck_assert_int_eq(check(&out, conf, NULL, NULL, NULL), 1);
        ck_assert_str_eq(out, expected);
        free(out);
        ck_assert_int_eq(check(&out, "--config-dir", tmp, NULL, NULL), 1);
        ck_assert_str_eq(out, expected);
        free(out);
        free(conf);
}
END_TEST

/* A user without a home to enter (useradd --no-create-home): every run
 * would fail, so check says so, naming the directory. */
START_TEST(user_without_home_is_named)
{
        char name[64], text[256], want[512];
        harness_user_add("tkch", name, sizeof(name), NULL, NULL);
        snprintf(text, sizeof(text), "[h]\nschedule = @hourly\ncommand = true\nuser = %s\n", name);
        char *path = harness_write_file(tmp, "h.ini", text);
        char *out;
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 0);
        harness_user_del(name);
        snprintf(want, sizeof(want),
                 "%s:1: warning: job 'h' would run in /home/%s, the home directory of user '%s', which does not "
                 "exist: every run would fail; set working_directory = (for example /)\n",
                 path, name, name);
        ck_assert_str_eq(out, want);
        free(out);
        free(path);
}
END_TEST

/* A zone written into the schedule, as other crons take it, gets a hint
 * to use timezone=; "never fires" names the expression once. */
START_TEST(schedule_messages_say_what_to_write)
{
        char *path = harness_write_file(tmp, "z.ini",
                                        "[a]\nschedule = 0 9 * * 1-5 Europe/Berlin\ncommand = true\n"
                                        "[b]\nschedule = CRON_TZ=Europe/Berlin 0 9 * * *\ncommand = true\n"
                                        "[c]\nschedule = 0 0 30 2 *\ncommand = true\n");
        char *out, expected[8192];
        ck_assert_int_eq(check(&out, path, NULL, NULL, NULL), 1);
        snprintf(expected, sizeof(expected),
                 "%s:2: error: schedule: '0 9 * * 1-5 Europe/Berlin': a time zone is not part of a schedule: "
                 "write it as timezone = Europe/Berlin\n"
                 "%s:5: error: schedule: 'CRON_TZ=Europe/Berlin 0 9 * * *': a time zone is not part of a "
                 "schedule: write it as timezone = Europe/Berlin\n"
                 "%s:8: error: schedule: '0 0 30 2 *' never fires\n",
                 path, path, path);
        ck_assert_str_eq(out, expected);
        free(out);
        free(path);
}
END_TEST

static Suite *ctl_check_suite(void)
{
        Suite *s = suite_create("ctl-check");
        TCase *tc = tcase_create("cli");
        tcase_set_timeout(tc, 30);
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
        tcase_add_test(tc, example_configuration_is_accepted);
        tcase_add_test(tc, unknown_default_timezone_is_an_error_everywhere);
        tcase_add_test(tc, user_without_home_is_named);
        tcase_add_test(tc, schedule_messages_say_what_to_write);
        tcase_add_test(tc, errors_are_printed_file_line_and_exit_1);
        tcase_add_test(tc, warnings_alone_exit_0);
        tcase_add_test(tc, duplicates_across_files_name_both_places);
        tcase_add_test(tc, list_prints_jobs_with_next_run);
        tcase_add_test(tc, config_dir_is_checked_like_the_daemon);
        tcase_add_test(tc, scope_fleet_needs_a_fleet_section_in_tickd_conf);
        tcase_add_test(tc, user_instance_directory_and_rules);
        tcase_add_test(tc, tickd_conf_owner_and_mode_are_checked);
        tcase_add_test(tc, named_file_gets_the_daemons_owner_and_mode_verdict);
        tcase_add_test(tc, errors_and_warnings_are_printed_together_errors_first);
        tcase_add_test(tc, binary_file_stops_after_ten_errors);
        tcase_add_test(tc, whole_file_findings_name_no_line);
        tcase_add_test(tc, control_characters_from_a_file_are_escaped_on_a_terminal);
        tcase_add_test(tc, usage_errors_exit_2);
        tcase_add_test(tc, missing_path_is_an_io_error);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(ctl_check_suite)
