/* test-import.c — `tickctl import` on crontabs that Debian packages ship
 * (tests/tickctl/cron-fixtures, origins in its ORIGIN file): each imports,
 * passes `tickctl check`, and every one of its lines becomes a job with
 * the line's user, command, environment and next 20 fire times (`tickctl
 * next` on the line's own fields against the loaded job's schedule); the
 * crontab(5) example's '%' input and MAILTO; errors and usage. */
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/crontab.h"
#include "core/strv.h"
#include "harness/harness.h"

static char *tmp;

static void tmp_setup(void) { tmp = harness_tmpdir(); }
static void tmp_teardown(void)
{
        harness_tmpdir_remove(tmp);
        tmp = NULL;
}

static const char *const system_fixtures[] = { "crontab", "anacron", "certbot", "e2scrub_all",
                                               "ntpsec",  "php",     "sysstat" };

static char *fixture_path(const char *name)
{
        char rel[256];
        snprintf(rel, sizeof(rel), "tests/tickctl/cron-fixtures/%s", name);
        return strdup(harness_source_path(rel));
}

static char *read_text(const char *path)
{
        FILE *f = fopen(path, "re");
        ck_assert_msg(f, "cannot open %s", path);
        char *text = NULL;
        size_t size = 0;
        ck_assert(getdelim(&text, &size, '\0', f) >= 0);
        fclose(f);
        return text;
}

/* Runs tickctl ARGV... (NULL-terminated); returns its exit status. */
static int tickctl(char **out, char **err, const char *const *args)
{
        char *argv[16] = { (char *)harness_binary("tickctl") };
        int n = 1;
        for (; args[n - 1]; n++)
                argv[n] = (char *)args[n - 1];
        argv[n] = NULL;
        int status = harness_run(argv, NULL, out, err);
        ck_assert_msg(WIFEXITED(status), "tickctl did not exit");
        ck_assert_msg(!strstr(*err, "Sanitizer"), "%s", *err);
        return WEXITSTATUS(status);
}

#define TICKCTL(out, err, ...) tickctl((out), (err), (const char *const[]){ __VA_ARGS__, NULL })

/* Imports PATH and writes the result to tmp/NAME.ini; returns that path. */
static char *import_to_file(const char *path, bool system_format, const char *name)
{
        _cleanup_free_ char *out = NULL, *err = NULL;
        int status =
                system_format ? TICKCTL(&out, &err, "import", "--system", path) : TICKCTL(&out, &err, "import", path);
        ck_assert_msg(status == 0, "import %s: %d\n%s", path, status, err);
        ck_assert_str_eq(err, "");
        char file[64];
        snprintf(file, sizeof(file), "%s.ini", name);
        return harness_write_file(tmp, file, out);
}

START_TEST(debian_crontabs_import_and_pass_check)
{
        for (size_t i = 0; i < ELEMENTSOF(system_fixtures); i++) {
                _cleanup_free_ char *path = fixture_path(system_fixtures[i]);
                _cleanup_free_ char *ini = import_to_file(path, true, system_fixtures[i]);
                _cleanup_free_ char *out = NULL, *err = NULL;
                int status = TICKCTL(&out, &err, "check", ini);
                ck_assert_msg(status == 0, "check of the import of %s: %d\n%s%s", path, status, out, err);
                /* Their commands are shell lines ("command -v x && x"), not
                 * programs check could look for in vain. */
                ck_assert_msg(!strstr(out, "not found") && !strstr(err, "not found"), "%s%s", out, err);
        }
}
END_TEST

/* ---- the test's own reading of a crontab, as crontab(5) describes it ---- */

struct cron_line {
        unsigned line;
        char fields[256]; /* the time fields as written, blanks and all */
        char user[64];    /* "" in a user crontab */
        char command[1024];
        char input[1024]; /* after the first unescaped '%', '%' as newline */
        char **environment;
};

/* crontab(5): "Percent-signs (%) in the command, unless escaped with
 * backslash (\), will be changed into newline characters, and all data
 * after the first % will be sent to the command as standard input." And
 * do_command.c ends the input with a newline when it has none. */
static void read_percent(const char *text, struct cron_line *c)
{
        char *to = c->command;
        bool in_input = false;
        for (const char *s = text; *s; s++) {
                if (s[0] == '\\' && s[1] == '%') {
                        *to++ = '%';
                        s++;
                } else if (*s == '%' && !in_input) {
                        *to = '\0';
                        to = c->input;
                        in_input = true;
                } else
                        *to++ = *s == '%' ? '\n' : *s;
        }
        if (in_input && to > c->input && to[-1] != '\n')
                *to++ = '\n';
        *to = '\0';
}

/* Every entry of TEXT with the variables set above it (a user crontab
 * when !SYSTEM_FORMAT). Returns how many, into LINES. */
static size_t read_crontab(const char *text, bool system_format, struct cron_line *lines, size_t max)
{
        char **env = calloc(1, sizeof(char *));
        size_t n_env = 0, n = 0;
        unsigned number = 0;
        for (const char *s = text; *s;) {
                size_t len = strcspn(s, "\n");
                char line[2048];
                snprintf(line, sizeof(line), "%.*s", (int)len, s);
                s += len + (s[len] == '\n');
                number++;
                size_t name_len = strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789");
                if (line[0] == '#' || line[strspn(line, " \t")] == '\0')
                        continue;
                if (name_len > 0 && line[name_len] == '=') {
                        if (strncmp(line, "MAILTO=", 7) == 0)
                                continue; /* an instruction to cron, mail_to = for tickd */
                        char **grown = realloc(env, (n_env + 2) * sizeof(char *));
                        ck_assert_ptr_nonnull(grown);
                        env = grown;
                        env[n_env++] = strdup(line);
                        env[n_env] = NULL;
                        continue;
                }
                ck_assert_uint_lt(n, max);
                struct cron_line *c = &lines[n++];
                *c = (struct cron_line){ .line = number };
                const char *p = line;
                for (int field = 0; field < 5; field++) {
                        p += strspn(p, " \t");
                        p += strcspn(p, " \t");
                }
                snprintf(c->fields, sizeof(c->fields), "%.*s", (int)(p - line), line);
                p += strspn(p, " \t");
                if (system_format) {
                        size_t ulen = strcspn(p, " \t");
                        snprintf(c->user, sizeof(c->user), "%.*s", (int)ulen, p);
                        p += ulen + strspn(p + ulen, " \t");
                }
                read_percent(p, c);
                c->environment = calloc(n_env + 1, sizeof(char *));
                for (size_t i = 0; i < n_env; i++)
                        c->environment[i] = strdup(env[i]);
        }
        strv_free(env);
        return n;
}

/* The loaded crontab at PATH (as tickctl check loads it), zones in ZONE. */
static struct crontab_file *load(const char *path, struct tz_cache *zones, const char *zone)
{
        struct crontab_options o = { .system_mode = true, .zones = zones, .ignore_ownership = true };
        ck_assert_int_eq(tz_cache_get(zones, zone, &o.default_zone), 0);
        struct diagnostics d = { 0 };
        struct crontab_file *file = NULL;
        int r = crontab_load_file(path, &o, &file, &d);
        for (size_t i = 0; i < d.count; i++)
                diag_fprint(stderr, &d.items[i]);
        ck_assert_msg(r == 0, "%s does not load", path);
        diag_free(&d);
        return file;
}

static const struct job *job_of_line(const struct crontab_file *file, const char *source, unsigned line)
{
        char description[512];
        snprintf(description, sizeof(description), "%s:%u", source, line);
        for (size_t i = 0; i < file->n_jobs; i++)
                if (job_extra(file->jobs[i])->description &&
                    strcmp(job_extra(file->jobs[i])->description, description) == 0)
                        return file->jobs[i];
        return NULL;
}

#define AFTER_TEXT "2027-03-27T00:00:00Z" /* a day before Berlin's clocks go forward */
#define AFTER_UNIX 1806105600

/* `tickctl next` on the line's own fields, 20 times, against the loaded
 * job's schedule in the same zone. */
static void assert_same_fire_times(const struct cron_line *c, const struct job *job)
{
        _cleanup_free_ char *out = NULL, *err = NULL;
        int status = TICKCTL(&out, &err, "next", "--tz", "Europe/Berlin", "--after", AFTER_TEXT, "--count", "20", "--",
                             c->fields);
        ck_assert_msg(status == 0, "next '%s': %s", c->fields, err);
        char mine[2048] = "";
        int64_t at = AFTER_UNIX;
        for (int i = 0; i < 20; i++) {
                ck_assert_int_eq(schedule_next(job->schedule, job->zone, at, &at), 0);
                struct tz_civil t;
                tz_to_civil(job->zone, at, &t);
                snprintf(mine + strlen(mine), sizeof(mine) - strlen(mine), "%04lld-%02d-%02dT%02d:%02d:%02d+%02d:00\n",
                         (long long)t.year, t.month, t.day, t.hour, t.minute, t.second, t.offset / 3600);
        }
        ck_assert_msg(strcmp(out, mine) == 0, "line %u '%s':\ncron:\n%s\nimported:\n%s", c->line, c->fields, out, mine);
}

static void assert_lines_became_jobs(const char *source, const char *ini, bool system_format)
{
        _cleanup_free_ char *text = read_text(source);
        struct cron_line lines[32];
        size_t n = read_crontab(text, system_format, lines, ELEMENTSOF(lines));
        ck_assert_uint_gt(n, 0);
        struct tz_cache *zones = tz_cache_new(NULL);
        struct crontab_file *file = load(ini, zones, "Europe/Berlin");
        ck_assert_uint_eq(file->n_jobs, n); /* and no job of a line that is none */
        for (size_t i = 0; i < n; i++) {
                const struct cron_line *c = &lines[i];
                const struct job *job = job_of_line(file, source, c->line);
                ck_assert_msg(job, "no job for %s:%u", source, c->line);
                if (system_format)
                        ck_assert_str_eq(job->user, c->user);
                else
                        ck_assert_ptr_null(job->user);
                ck_assert_str_eq(job->command, c->command);
                if (c->input[0])
                        ck_assert_str_eq(job_extra(job)->stdin_text, c->input);
                else
                        ck_assert_ptr_null(job_extra(job)->stdin_text);
                size_t k = 0;
                for (; c->environment[k]; k++) {
                        ck_assert_msg(job->environment && job->environment[k], "%s:%u: %s missing", source, c->line,
                                      c->environment[k]);
                        ck_assert_str_eq(job->environment[k], c->environment[k]);
                }
                ck_assert_msg(!job->environment || !job->environment[k], "%s:%u: more variables than set", source,
                              c->line);
                assert_same_fire_times(c, job);
                strv_free(c->environment);
        }
        crontab_file_free(file);
        tz_cache_free(zones);
}

START_TEST(every_line_of_the_debian_crontabs_becomes_the_same_job)
{
        for (size_t i = 0; i < ELEMENTSOF(system_fixtures); i++) {
                _cleanup_free_ char *path = fixture_path(system_fixtures[i]);
                _cleanup_free_ char *ini = import_to_file(path, true, system_fixtures[i]);
                assert_lines_became_jobs(path, ini, true);
        }
}
END_TEST

/* Its MAILTO included: the imported mail_to = passes check. */
START_TEST(every_line_of_the_crontab5_example_becomes_the_same_job)
{
        _cleanup_free_ char *path = fixture_path("crontab.5-example");
        _cleanup_free_ char *text = read_text(path);
        ck_assert_ptr_nonnull(strstr(text, "MAILTO=paul\n"));
        _cleanup_free_ char *copy = harness_write_file(tmp, "crontab.5-example", text);
        _cleanup_free_ char *ini = import_to_file(copy, false, "example");
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_int_eq(TICKCTL(&out, &err, "check", ini), 0);
        assert_lines_became_jobs(copy, ini, false);
}
END_TEST

START_TEST(crontab5_example_keeps_its_input_and_its_mail_address)
{
        _cleanup_free_ char *path = fixture_path("crontab.5-example");
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_int_eq(TICKCTL(&out, &err, "import", "--user", "paul", path), 0);
        ck_assert_msg(strstr(out, "\n[defaults]\nuser = paul\nenvironment = SHELL=/bin/sh\nmail_to = paul\n"), "%s",
                      out);
        char want[1024];
        snprintf(want, sizeof(want),
                 "\n[crontab.5-example-11]\ndescription = %s:11\nschedule = 0 22 * * 1-5\n"
                 "command = mail -s \"It's 10pm\" joe\nstdin = \"Joe,\\n\\nWhere are your kids?\\n\"\n",
                 path);
        ck_assert_msg(strstr(out, want), "%s", out);
        ck_assert_msg(strstr(out, "command = expr $(date +%s) / 60 / 60 / 24 % 9 > /dev/null || echo Wax the "
                                  "floor.\n"),
                      "%s", out);
}
END_TEST

START_TEST(bad_lines_are_errors_at_their_lines_and_nothing_is_printed)
{
        _cleanup_free_ char *path = harness_write_file(tmp, "broken",
                                                       "PATH=/bin\n"
                                                       "0 * * * * root fine\n"
                                                       "0 25 * * * root late\n"
                                                       "@weekly\n");
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_int_eq(TICKCTL(&out, &err, "import", "--system", path), 1);
        ck_assert_str_eq(out, "");
        char want[2048];
        snprintf(want, sizeof(want),
                 "%s:3: error: schedule '0 25 * * *': hour: 25 is out of range 0-23\n"
                 "%s:4: error: expected a user and a command after the schedule (system crontab: m h dom mon "
                 "dow USER command)\n",
                 path, path);
        ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(standard_input_is_read_and_user_names_the_jobs)
{
        _cleanup_free_ char *path = harness_write_file(tmp, "mine", "MAILTO=\"\"\n@hourly echo hi\n");
        char script[1024];
        snprintf(script, sizeof(script), "exec \"$0\" import --user alice - < '%s'", path);
        char *argv[] = { "/bin/sh", "-c", script, (char *)harness_binary("tickctl"), NULL };
        _cleanup_free_ char *out = NULL, *err = NULL;
        int status = harness_run(argv, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s", err);
        ck_assert_str_eq(out, "# Imported from stdin by tickctl import; each job's description names its line.\n\n"
                              "[defaults]\nuser = alice\n\n"
                              "[alice-2]\ndescription = stdin:2\nschedule = @hourly\ncommand = echo hi\n");
}
END_TEST

START_TEST(usage_errors_exit_2)
{
        _cleanup_free_ char *out = NULL, *err = NULL;
        ck_assert_int_eq(TICKCTL(&out, &err, "import", "--system", "--user", "x", "f"), 2);
        ck_assert_str_eq(out, "");
        free(out), free(err);
        ck_assert_int_eq(TICKCTL(&out, &err, "import", "a", "b"), 2);
        free(out), free(err);
        ck_assert_int_eq(TICKCTL(&out, &err, "import", "/nonexistent/crontab"), 2);
        ck_assert_str_eq(err, "tickctl import: /nonexistent/crontab: No such file or directory\n");
        free(out), free(err);
        ck_assert_int_eq(TICKCTL(&out, &err, "import", "--user", "no body"), 2);
        ck_assert_str_eq(err, "tickctl import: --user: 'no body' is not a user name\n");
}
END_TEST

/* "tickctl --user import FILE" takes FILE as the user's name and has no
 * FILE left: with a terminal on standard input it says so instead of
 * waiting for a crontab to be typed. */
START_TEST(a_terminal_on_standard_input_is_refused_not_read)
{
        int master, slave;
        ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                dup2(slave, STDIN_FILENO);
                dup2(slave, STDERR_FILENO);
                execl(harness_binary("tickctl"), "tickctl", "--user", "import", "jobs.txt", (char *)NULL);
                _exit(127);
        }
        close(slave);
        char out[4096] = "";
        size_t len = 0;
        ssize_t n;
        /* read() fails with EIO once the child, the last holder of the slave, exits. */
        while (len < sizeof(out) - 1 && (n = read(master, out + len, sizeof(out) - 1 - len)) > 0)
                len += (size_t)n;
        close(master);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 2, "status %d: %s", status, out);
        ck_assert_msg(strstr(out, "tickctl import: no FILE, and standard input is a terminal (--user takes a NAME: "
                                  "was 'jobs.txt' meant as the FILE?)"),
                      "%s", out);
}
END_TEST

static Suite *import_suite(void)
{
        Suite *s = suite_create("ctl-import");
        TCase *tc = tcase_create("import");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, debian_crontabs_import_and_pass_check);
        tcase_add_test(tc, every_line_of_the_debian_crontabs_becomes_the_same_job);
        tcase_add_test(tc, every_line_of_the_crontab5_example_becomes_the_same_job);
        tcase_add_test(tc, crontab5_example_keeps_its_input_and_its_mail_address);
        tcase_add_test(tc, bad_lines_are_errors_at_their_lines_and_nothing_is_printed);
        tcase_add_test(tc, standard_input_is_read_and_user_names_the_jobs);
        tcase_add_test(tc, usage_errors_exit_2);
        tcase_add_test(tc, a_terminal_on_standard_input_is_refused_not_read);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(import_suite)
