/* test-alloc-fail.c — the allocation-failure sweep, as SQLite does it.
 *
 * Each operation runs once with nothing failing (the reference), then
 * again with its Nth allocation failing, for N = 1, 2, 3, ... until a run
 * in which no allocation was failed, which must give the reference result.
 * Every failed run must be clean: it returns -ENOMEM (or, where a failure
 * is harmless and absorbed, exactly the reference result), hands out no
 * result, adds no diagnostic the reference does not have (one that speaks
 * of memory aside), crashes not, frees nothing twice (AddressSanitizer)
 * and leaks nothing (LeakSanitizer is asked after every run, so a leak is
 * reported with the N that caused it). Each sweep runs twice: with only
 * the Nth allocation failing, and with every allocation from the Nth on
 * failing (the error path itself must not need memory it cannot get).
 * Leaks are counted by the wrappers (blocks handed out minus blocks
 * freed), which names the N that leaked; LeakSanitizer, asked once after
 * each sweep, is the backstop for what the count cannot see.
 *
 * The mechanism: the Makefile links this binary with ld --wrap (see
 * ALLOC_FAIL_WRAP), so the calls to malloc, calloc, realloc, strdup,
 * strndup, asprintf, vasprintf, fopen, fdopendir and free made by every object
 * of the link, libtickd.a's included, come to the __wrap_ functions below.
 * Covered: every allocation the loaders make themselves — the crontab
 * loader (crontab.c, inifile.c, diag.c, schedule-parse.c, tz.c's zone
 * loading and cache), the jobs directory (crontab-dir.c), the tickd.conf
 * loader (conf.c), the schedule parser with zones and tickctl import's
 * translation (cron-import.c); fopen and fdopendir
 * fail as wholes. Not covered: allocations made inside shared libraries —
 * libc's own (NSS look-ups' internals, closedir's and fclose's frees) and
 * inih's (libinih is a shared library; its failures are not simulated).
 * The exporter (core/export, with schedule-export.c and strbuf.c) is swept
 * over jobs that walk both formats' branches, refusals included. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "core/cleanup.h"
#include "core/conf.h"
#include "core/cron-import.h"
#include "core/crontab.h"
#include "core/export.h"
#include "core/schedule.h"
#include "core/tz.h"
#include "harness/harness.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
static bool leak_found(void) { return __lsan_do_recoverable_leak_check() != 0; }
#else
static bool leak_found(void) { return false; }
#endif

/* ---- the injector ---- */

static struct {
        bool armed;
        long fail_at;    /* 1 = the first allocation after injector_start() */
        bool persistent; /* every allocation from fail_at on fails */
        long count;
        long failed; /* how many were failed */
        long live;   /* blocks handed out and not yet freed (fopen's and fdopendir's aside) */
} injector;

static void injector_start(void)
{
        injector.count = injector.failed = 0;
        injector.armed = injector.fail_at > 0;
}

/* Returns how many allocations were failed. */
static long injector_stop(void)
{
        injector.armed = false;
        return injector.failed;
}

static bool injected_failure(void)
{
        if (!injector.armed)
                return false;
        injector.count++;
        if (injector.count == injector.fail_at || (injector.persistent && injector.count > injector.fail_at)) {
                injector.failed++;
                errno = ENOMEM;
                return true;
        }
        return false;
}

void *__real_malloc(size_t size);
void __real_free(void *p);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
__attribute__((format(printf, 2, 0))) int __real_vasprintf(char **out, const char *fmt, va_list ap);
FILE *__real_fopen(const char *path, const char *mode);
DIR *__real_fdopendir(int fd);

void *__wrap_malloc(size_t size);
void __wrap_free(void *p);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
__attribute__((format(printf, 2, 0))) int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
__attribute__((format(printf, 2, 3))) int __wrap_asprintf(char **out, const char *fmt, ...);
FILE *__wrap_fopen(const char *path, const char *mode);
DIR *__wrap_fdopendir(int fd);

/* P, counted as live when it is a block. */
static void *counted(void *p)
{
        injector.live += p != NULL;
        return p;
}

void *__wrap_malloc(size_t size) { return injected_failure() ? NULL : counted(__real_malloc(size)); }
void *__wrap_calloc(size_t n, size_t size) { return injected_failure() ? NULL : counted(__real_calloc(n, size)); }
char *__wrap_strdup(const char *s) { return injected_failure() ? NULL : counted(__real_strdup(s)); }
char *__wrap_strndup(const char *s, size_t n) { return injected_failure() ? NULL : counted(__real_strndup(s, n)); }
FILE *__wrap_fopen(const char *path, const char *mode) { return injected_failure() ? NULL : __real_fopen(path, mode); }
DIR *__wrap_fdopendir(int fd) { return injected_failure() ? NULL : __real_fdopendir(fd); }

void *__wrap_realloc(void *p, size_t size)
{
        if (injected_failure())
                return NULL;
        void *q = __real_realloc(p, size);
        if (!p)
                counted(q);
        return q;
}

void __wrap_free(void *p)
{
        injector.live -= p != NULL;
        __real_free(p);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
        if (injected_failure())
                return -1;
        int r = __real_vasprintf(out, fmt, ap);
        if (r >= 0)
                counted(*out);
        return r;
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = __wrap_vasprintf(out, fmt, ap);
        va_end(ap);
        return r;
}

/* ---- what an operation produced, as text to compare ---- */

struct text {
        char buf[32768];
        size_t len;
};

__attribute__((format(printf, 2, 3))) static void put(struct text *t, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
        va_end(ap);
        ck_assert_msg(n >= 0 && (size_t)n < sizeof(t->buf) - t->len, "description too long");
        t->len += (size_t)n;
}

static const char *or_none(const char *s) { return s ? s : "(none)"; }

static void put_diags(struct text *t, const struct diagnostics *diags)
{
        for (size_t i = 0; i < diags->count; i++) {
                const struct diagnostic *d = &diags->items[i];
                put(t, "diag %d %s:%u [%s] %s\n", (int)d->severity, or_none(d->file), d->line, or_none(d->key),
                    d->message);
        }
}

static void put_job(struct text *t, const struct job *j)
{
        put(t, "job %s %s:%u desc=%s sched=%s cmd=%s user=%s group=%s tz=%s zone=%s\n", j->name, j->file, j->line,
            or_none(job_extra(j)->description), job_schedule_text(j), j->command, or_none(j->user),
            or_none(job_extra(j)->group), or_none(job_extra(j)->timezone), tz_name(j->zone));
        put(t,
            "  timeout=%llu grace=%llu overlap=%d delay=%llu persistent=%d cwd=%s umask=%o nice=%d/%d "
            "on_failure=%s enabled=%d lines=%u,%u,%u kind=%d mail_to=%s mail_on=%d\n",
            (unsigned long long)j->timeout_usec, (unsigned long long)job_extra(j)->kill_grace_usec, (int)j->overlap,
            (unsigned long long)job_extra(j)->random_delay_usec, j->persistent,
            or_none(job_extra(j)->working_directory), job_extra(j)->umask, job_extra(j)->has_nice, job_extra(j)->nice,
            or_none(job_extra(j)->on_failure), j->enabled, j->schedule_line, j->command_line, j->timeout_line,
            (int)schedule_kind(j->schedule), or_none(job_extra(j)->mail_to), (int)job_extra(j)->mail_on);
        for (char **e = j->environment; e && *e; e++)
                put(t, "  env %s\n", *e);
}

/* ---- the sweep ---- */

/* Runs the operation once under the injector as it is set, describes
 * what it produced into T and releases it; returns its result. */
typedef int (*operation_fn)(const void *input, struct text *t);

/* Whether every diagnostic line of GOT is in WANT or speaks of memory. */
static void assert_no_new_diagnostics(const char *what, long n, const struct text *got, const struct text *want)
{
        for (const char *line = got->buf; *line;) {
                size_t len = strcspn(line, "\n");
                char copy[4096];
                snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
                ck_assert_msg(strncmp(copy, "diag ", 5) != 0 || strstr(want->buf, copy) || strstr(copy, "memory"),
                              "%s: allocation %ld failed, and the loader said: %s", what, n, copy);
                line += len + (line[len] == '\n');
        }
}

/* Returns how many allocations the operation makes. */
static long sweep(const char *what, operation_fn run, const void *input, bool persistent)
{
        static struct text want, got;
        want.len = 0;
        injector.fail_at = 0;
        long live = injector.live;
        int want_r = run(input, &want);
        ck_assert_msg(injector.live == live, "%s: %ld blocks leaked without any failure", what, injector.live - live);

        for (long n = 1;; n++) {
                injector.fail_at = n;
                injector.persistent = persistent;
                got.len = 0;
                got.buf[0] = '\0';
                int r = run(input, &got);
                long failed = injector.failed;
                injector.fail_at = 0;
                ck_assert_msg(injector.live == live, "%s: %ld blocks leaked when allocation %ld failed", what,
                              injector.live - live, n);
                if (failed == 0) {
                        ck_assert_msg(r == want_r && strcmp(got.buf, want.buf) == 0,
                                      "%s: a run without failures differs from the first", what);
                        ck_assert_msg(!leak_found(), "%s: LeakSanitizer found a leak in the sweep", what);
                        return n - 1;
                }
                if (r == want_r && strcmp(got.buf, want.buf) == 0)
                        continue; /* the failure was absorbed (a memo, say) */
                ck_assert_msg(r == -ENOMEM, "%s: allocation %ld failed, and it returned %d (%s), not -ENOMEM:\n%s",
                              what, n, r, strerror(r < 0 ? -r : 0), got.buf);
                assert_no_new_diagnostics(what, n, &got, &want);
        }
}

static void sweep_both(const char *what, operation_fn run, const void *input, long at_least)
{
        long n = sweep(what, run, input, false);
        ck_assert_msg(n >= at_least, "%s: only %ld allocations seen (is the binary linked with --wrap?)", what, n);
        ck_assert_int_eq(sweep(what, run, input, true), n);
}

/* ---- the crontab loader ---- */

/* Every key, [defaults] with everything it may hold, environment lines
 * inherited and replaced, continuation lines, cron, calendar (with a
 * zone), @every and shorthand schedules, user and group look-ups (their
 * memo), the command check against PATH. */
static const char full_crontab[] = "# every key there is\n"
                                   "[defaults]\n"
                                   "user = root\n"
                                   "group = root\n"
                                   "timezone = Europe/Berlin\n"
                                   "timeout = 10min\n"
                                   "kill_grace = 30s\n"
                                   "overlap = queue\n"
                                   "random_delay = 1m\n"
                                   "persistent = yes\n"
                                   "environment = MAILTO=ops@example.org\n"
                                   "environment = PATH=/usr/bin:/bin\n"
                                   "working_directory = /tmp\n"
                                   "umask = 027\n"
                                   "nice = 5\n"
                                   "on_failure = logger job failed\n"
                                   "enabled = yes\n"
                                   "mail_to = ops@example.org, root\n"
                                   "mail_on = failure\n"
                                   "\n"
                                   "[backup]\n"
                                   "description = Nightly backup\n"
                                   "  of the database\n"
                                   "schedule = 30 2 * * *\n"
                                   "command = tar -czf /tmp/backup.tar.gz\n"
                                   "  /etc\n"
                                   "environment = PATH=/usr/local/bin:/usr/bin:/bin\n"
                                   "environment = LANG=C.UTF-8\n"
                                   "\n"
                                   "[report]\n"
                                   "schedule = Mon..Fri *-*-* 09:00 America/New_York\n"
                                   "command = /bin/echo report\n"
                                   "user = root\n"
                                   "group = root\n"
                                   "timezone = Asia/Tokyo\n"
                                   "timeout = infinity\n"
                                   "overlap = replace\n"
                                   "persistent = no\n"
                                   "\n"
                                   "[poll]\n"
                                   "schedule = @every 15m\n"
                                   "command = ls /\n"
                                   "on_failure =\n"
                                   "mail_to =\n"
                                   "enabled = no\n"
                                   "working_directory = /\n"
                                   "umask = 0022\n"
                                   "nice = -3\n"
                                   "\n"
                                   "[tidy]\n"
                                   "schedule = hourly UTC\n"
                                   "command = no-such-program --now\n"
                                   "description = warns: not in PATH\n"
                                   "\n"
                                   "[rotate]\n"
                                   "schedule = @daily\n"
                                   "command = true\n";

/* Errors of many kinds, each adding a diagnostic. */
static const char broken_crontab[] = "[defaults]\n"
                                     "user = root\n"
                                     "enviroment = X=1\n"
                                     "schedule = * * * * *\n"
                                     "[bad job]\n"
                                     "schedule = 61 * * * *\n"
                                     "[a]\n"
                                     "schedule = 0 0 30 2 *\n"
                                     "command = x\n"
                                     "timeout = forever\n"
                                     "  continued\n"
                                     "[defaults]\n"
                                     "[a]\n"
                                     "schedule = *-*-* 00:00 Mars/Olympus\n"
                                     "command = y\n"
                                     "overlap = sometimes\n"
                                     "environment = 1X=y\n"
                                     "timezone = Nowhere/Land\n"
                                     "user = no-such-user-here\n"
                                     "[b]\n"
                                     "description = no schedule, no command\n";

static int load_crontab(const void *input, struct text *t)
{
        struct tz_cache *zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
        struct crontab_options o = {
                .system_mode = true,
                .zones = zones,
                .resolve_users = true,
                .check_commands = true,
                .default_path = "/usr/bin:/bin",
                .ignore_ownership = true,
        };
        struct crontab_file *file = (void *)1;
        struct diagnostics diags = { 0 };
        injector_start();
        int r = crontab_load_file(input, &o, &file, &diags);
        injector_stop();
        ck_assert_msg(r == 0 || !file, "a failed load (%d) handed out a file", r);
        put(t, "r=%d\n", r);
        if (r == 0) {
                for (size_t i = 0; i < file->n_jobs; i++)
                        put_job(t, file->jobs[i]);
                crontab_file_free(file);
        }
        put_diags(t, &diags);
        diag_free(&diags);
        tz_cache_free(zones);
        return r;
}

static char *tmpdir;

static void tmpdir_setup(void) { tmpdir = harness_tmpdir(); }
static void tmpdir_teardown(void)
{
        harness_tmpdir_remove(tmpdir);
        tmpdir = NULL;
}

static void sweep_file(const char *name, const char *content, operation_fn run, long at_least)
{
        char *path = harness_write_file(tmpdir, name, content);
        sweep_both(name, run, path, at_least);
        free(path);
}

START_TEST(crontab_loader_survives_every_failed_allocation) { sweep_file("full.ini", full_crontab, load_crontab, 100); }
END_TEST

START_TEST(crontab_loader_with_errors_survives_every_failed_allocation)
{
        sweep_file("broken.ini", broken_crontab, load_crontab, 30);
}
END_TEST

static int load_jobs_dir(const void *input, struct text *t)
{
        struct tz_cache *zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
        struct crontab_options o = { .system_mode = true, .zones = zones, .ignore_ownership = true };
        struct crontab_set set = { 0 };
        struct diagnostics diags = { 0 };
        injector_start();
        int r = crontab_load_dir(input, &o, &set, &diags);
        injector_stop();
        ck_assert_msg(r == 0 || set.n_files == 0, "a failed load (%d) handed out files", r);
        put(t, "r=%d\n", r);
        for (size_t i = 0; i < set.n_files; i++)
                for (size_t j = 0; j < set.files[i]->n_jobs; j++)
                        put_job(t, set.files[i]->jobs[j]);
        put_diags(t, &diags);
        crontab_set_free(&set);
        diag_free(&diags);
        tz_cache_free(zones);
        return r;
}

/* A directory: two good files, one that repeats a job of another, one
 * with errors, and an editor's backup that is skipped. */
START_TEST(jobs_directory_loader_survives_every_failed_allocation)
{
        free(harness_write_file(tmpdir, "a.ini", "[a]\nschedule = @hourly\ncommand = true\n"));
        free(harness_write_file(tmpdir, "b.ini", "[b]\nschedule = 0 3 * * *\ncommand = true\n"));
        free(harness_write_file(tmpdir, "c.ini", "[a]\nschedule = @daily\ncommand = true\n"));
        free(harness_write_file(tmpdir, "d.ini", "[d]\nschedule = never\n"));
        free(harness_write_file(tmpdir, "e.ini~", "[e]\n"));
        sweep_both("jobs directory", load_jobs_dir, tmpdir, 20);
}
END_TEST

/* ---- tickd.conf ---- */

static const char full_conf[] = "# tickd.conf\n"
                                "[daemon]\n"
                                "default_timezone = Europe/Berlin\n"
                                "shutdown_timeout = 2min\n"
                                "max_concurrent = 4\n"
                                "path = /usr/local/bin:/usr/bin:/bin\n"
                                "log_level = notice\n"
                                "metrics_file = /var/lib/prometheus/node-exporter/tickd.prom\n"
                                "metrics_listen = [::1]:9101\n"
                                "[fleet]\n"
                                "endpoints = https://a.example:2379, https://[::1]:2379, https://10.0.0.3:2379\n"
                                "name = prod\n"
                                "node = n1\n"
                                "ca_file = /etc/ca.pem\n"
                                "cert_file = /etc/c.pem\n"
                                "key_file = /etc/c.key\n"
                                "user = tickd\n"
                                "password_file = /etc/pw\n"
                                "retention = 1d\n";

static const char broken_conf[] = "max_concurrent = 1\n"
                                  "[daemon]\n"
                                  "path = relative:/bin\n"
                                  "log_level = loud\n"
                                  "shutdown_timeout = 2min\n"
                                  "shutdown_timeout = 3min\n"
                                  "max_concurent = 4\n"
                                  "default_timezone = ../etc\n"
                                  "  continued\n"
                                  "[deamon]\n"
                                  "[fleet]\n"
                                  "endpoints = http://a:1, ftp://b, http://a:1\n"
                                  "colour = blue\n"
                                  "cert_file = /c.pem\n"
                                  "user = u\n"
                                  "[fleet]\n";

static int load_conf(const void *input, struct text *t)
{
        /* Whatever happens, the loader fills CONFIG (daemon_config_free() must work on it). */
        struct daemon_config config;
        memset(&config, 0xa5, sizeof(config));
        struct diagnostics diags = { 0 };
        injector_start();
        int r = daemon_config_load(input, NULL, &config, &diags);
        injector_stop();
        put(t, "r=%d tz=%s timeout=%llu max=%u path=%s level=%d\n", r, or_none(config.default_timezone),
            (unsigned long long)config.shutdown_timeout_usec, config.max_concurrent, or_none(config.default_path),
            config.log_level);
        put(t, "metrics_file=%s metrics_listen=%s\n", or_none(config.metrics_file), or_none(config.metrics_listen));
        if (config.fleet) {
                for (char **e = config.fleet->endpoints; e && *e; e++)
                        put(t, "endpoint=%s\n", *e);
                put(t, "fleet=%s node=%s user=%s\n", or_none(config.fleet->name), or_none(config.fleet->node),
                    or_none(config.fleet->user));
        }
        put_diags(t, &diags);
        diag_free(&diags);
        daemon_config_free(&config);
        return r;
}

START_TEST(conf_loader_survives_every_failed_allocation) { sweep_file("tickd.conf", full_conf, load_conf, 3); }
END_TEST

START_TEST(conf_loader_with_errors_survives_every_failed_allocation)
{
        sweep_file("broken.conf", broken_conf, load_conf, 10);
}
END_TEST

/* ---- the schedule parser ---- */

static int parse_schedule(const void *input, struct text *t)
{
        struct tz_cache *zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
        struct schedule *s = (void *)1;
        char err[256];
        injector_start();
        int r = schedule_parse(input, zones, &s, err, sizeof(err));
        injector_stop();
        put(t, "r=%d\n", r);
        if (r == 0) {
                const struct tz *zone = schedule_zone(s);
                put(t, "kind=%d zone=%s period=%llu\n", (int)schedule_kind(s), zone ? tz_name(zone) : "(none)",
                    (unsigned long long)schedule_period(s));
                int64_t at = 1700000000; /* 2023-11-14 */
                for (int i = 0; i < 3 && schedule_next(s, NULL, at, &at) == 0; i++)
                        put(t, "next %lld\n", (long long)at);
                schedule_free(s);
        } else {
                ck_assert_msg(s == (void *)1, "a failed parse (%d) wrote *out", r);
                put(t, "diag %s\n", err);
        }
        tz_cache_free(zones);
        return r;
}

static const char *const expressions[] = {
        "30 2 * * 1-5",
        "0 */15 9-17 * * Mon-Fri",
        "@daily",
        "@every 90m",
        "Mon..Fri *-*-* 09:00 Europe/Berlin",
        "*-*-01 00:00:00 America/New_York",
        "hourly Asia/Tokyo",
        "*:0/15",
        "*-02-~1 12:00 UTC",
        "61 * * * *",
        "*-*-* 00:00 Mars/Olympus",
        "0 0 30 2 *",
};

START_TEST(schedule_parser_survives_every_failed_allocation)
{
        long total = 0;
        for (size_t i = 0; i < ELEMENTSOF(expressions); i++) {
                long n = sweep(expressions[i], parse_schedule, expressions[i], false);
                ck_assert_int_eq(sweep(expressions[i], parse_schedule, expressions[i], true), n);
                total += n;
        }
        ck_assert_msg(total >= 20, "only %ld allocations seen (is the binary linked with --wrap?)", total);
}
END_TEST

/* ---- tickctl import's translation ---- */

/* Every kind of line: environment set and replaced, cron's own variables,
 * a shell to wrap, '%' input, keywords, and a few errors in the second. */
static const char cron_file[] = "SHELL=/bin/bash\n"
                                "PATH=/usr/bin:/bin\n"
                                "MAILTO=ops@example.org\n"
                                "CRON_TZ=Europe/Berlin\n"
                                "RANDOM_DELAY=5\n"
                                "HOME=/srv\n"
                                "17 * * * * root cd / && run-parts /etc/cron.hourly\n"
                                "PATH=/bin\n"
                                "0 22 * * 1-5 paul mail -s \"It's 10pm\" joe%Joe,%%Where are your kids?%\n"
                                "@reboot root echo up\n";
static const char broken_cron_file[] = "61 * * * * root a\n"
                                       "CRON_TZ=Mars/Olympus\n"
                                       "@every 5m root b\n"
                                       "* * * * * root\n";

static int import_cron(const void *input, struct text *t)
{
        struct tz_cache *zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
        struct cron_import imp = { 0 };
        struct diagnostics diags = { 0 };
        char *ini = NULL;
        injector_start();
        int r = cron_import_parse("/etc/cron.d/x", input, strlen(input), true, zones, &imp, &diags);
        if (r == 0)
                r = cron_import_format(&imp, NULL, &ini);
        injector_stop();
        ck_assert_msg(r == 0 || !ini, "a failed import (%d) handed out a text", r);
        put(t, "r=%d\n%s", r, ini ? ini : "");
        put_diags(t, &diags);
        free(ini);
        cron_import_free(&imp);
        diag_free(&diags);
        tz_cache_free(zones);
        return r;
}

START_TEST(cron_import_survives_every_failed_allocation)
{
        sweep_both("cron import", import_cron, cron_file, 30);
        sweep_both("broken cron import", import_cron, broken_cron_file, 5);
}
END_TEST

/* ---- the exporter ---- */

/* Jobs that walk every branch of both formats: all keys, two OnCalendar=
 * lines, @every, @reboot, a DST warning, refusals by the table and by the
 * format, a disabled job. */
static const char export_crontab[] = "[backup]\n"
                                     "schedule = 30 2 * * *\n"
                                     "timezone = Europe/Berlin\n"
                                     "command = tar czf /b/$(date +%F).tgz /home && echo \"100%\"\n"
                                     "description = Nightly: \"all\"\n"
                                     "user = root\n"
                                     "group = root\n"
                                     "timeout = 2h\n"
                                     "persistent = yes\n"
                                     "random_delay = 5m\n"
                                     "environment = LANG=C.UTF-8\n"
                                     "environment = A=x: y\n"
                                     "working_directory = /srv\n"
                                     "umask = 027\n"
                                     "nice = 10\n"
                                     "on_failure = logger failed\n"
                                     "[vixie]\n"
                                     "schedule = 0 12 1,15 * mon-fri\n"
                                     "command = echo vixie\n"
                                     "overlap = allow\n"
                                     "enabled = no\n"
                                     "[every]\n"
                                     "schedule = @every 90m\n"
                                     "command = true\n"
                                     "[quarter]\n"
                                     "schedule = @every 15m\n"
                                     "command = true\n"
                                     "scope = host\n"
                                     "[boot]\n"
                                     "schedule = @reboot\n"
                                     "command = true\n"
                                     "overlap = queue\n"
                                     "[calendar]\n"
                                     "schedule = *-02~01 00:00:30\n"
                                     "command = true\n";

static struct crontab_file *export_file;

static int export_all(const void *input, struct text *t)
{
        const enum export_format *format = input;
        struct export_options options = { .format = *format, .now = 1767225600 };
        struct export_files files = { 0 };
        struct diagnostics diags = { 0 };
        int result = 0;
        bool handed_out = false; /* no Check call (put() has one) under the injector: Check allocates */
        int results[16];
        size_t n = 0;
        ck_assert_uint_le(export_file->n_jobs, ELEMENTSOF(results));
        injector_start();
        for (; n < export_file->n_jobs && result != -ENOMEM; n++) {
                size_t before = files.count;
                results[n] = export_job(export_file->jobs[n], &options, &files, &diags);
                handed_out |= results[n] < 0 && files.count != before;
                if (results[n] == -ENOMEM)
                        result = -ENOMEM;
        }
        injector_stop();
        ck_assert_msg(!handed_out, "a failed export handed out files");
        for (size_t i = 0; i < n; i++)
                put(t, "job %s r=%d\n", export_file->jobs[i]->name, results[i]);
        for (size_t i = 0; i < files.count; i++)
                put(t, "file %s\n%s", files.items[i].name, files.items[i].text);
        put_diags(t, &diags);
        export_files_free(&files);
        diag_free(&diags);
        return result;
}

START_TEST(exporter_survives_every_failed_allocation)
{
        struct tz_cache *zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
        struct crontab_options o = { .system_mode = true, .zones = zones, .ignore_ownership = true };
        struct diagnostics d = { 0 };
        ck_assert_int_eq(crontab_load_buffer("e.ini", export_crontab, strlen(export_crontab), &o, &export_file, &d), 0);
        diag_free(&d);
        static const enum export_format formats[] = { EXPORT_SYSTEMD, EXPORT_KUBERNETES };
        for (size_t i = 0; i < ELEMENTSOF(formats); i++)
                sweep_both(i ? "export kubernetes" : "export systemd", export_all, &formats[i], 20);
        crontab_file_free(export_file);
        export_file = NULL;
        tz_cache_free(zones);
}
END_TEST

static Suite *alloc_fail_suite(void)
{
        Suite *s = suite_create("alloc-fail");
        TCase *tc = tcase_create("sweep");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, crontab_loader_survives_every_failed_allocation);
        tcase_add_test(tc, crontab_loader_with_errors_survives_every_failed_allocation);
        tcase_add_test(tc, jobs_directory_loader_survives_every_failed_allocation);
        tcase_add_test(tc, conf_loader_survives_every_failed_allocation);
        tcase_add_test(tc, conf_loader_with_errors_survives_every_failed_allocation);
        tcase_add_test(tc, schedule_parser_survives_every_failed_allocation);
        tcase_add_test(tc, cron_import_survives_every_failed_allocation);
        tcase_add_test(tc, exporter_survives_every_failed_allocation);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(alloc_fail_suite)
