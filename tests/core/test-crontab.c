/* test-crontab.c — the INI crontab loader and tickd.conf. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/crontab-internal.h"
#include "core/conf.h"
#include "core/crontab.h"
#include "core/strv.h"
#include "harness/harness.h"
#include <ini.h>
#include "core/inifile.h"
#include "core/timespan.h"

static struct tz_cache *zones;
static char *file_with_line_of(size_t len);

static void zones_setup(void)
{
        zones = tz_cache_new(NULL);
        ck_assert_ptr_nonnull(zones);
}

static void zones_teardown(void)
{
        tz_cache_free(zones);
        zones = NULL;
}

static struct crontab_options options(void) { return (struct crontab_options){ .system_mode = true, .zones = zones }; }

/* Loads TEXT as "t.ini"; returns the loader's result. */
static int load_with(const char *text, const struct crontab_options *o, struct crontab_file **out,
                     struct diagnostics *diags)
{
        return crontab_load_buffer("t.ini", text, strlen(text), o, out, diags);
}

static struct crontab_file *load_ok(const char *text)
{
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f = NULL;
        int r = load_with(text, &o, &f, &d);
        for (size_t i = 0; i < d.count; i++)
                diag_fprint(stderr, &d.items[i]);
        ck_assert_msg(r == 0, "load failed: %d", r);
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 0);
        diag_free(&d);
        return f;
}

/* Asserts TEXT is rejected with an error at LINE whose message contains
 * EXPECTED (and, when KEY is given, that names KEY). */
static void assert_error_with(const char *text, const struct crontab_options *o, unsigned line, const char *expected)
{
        struct diagnostics d = { 0 };
        struct crontab_file *f = (void *)1;
        int r = load_with(text, o, &f, &d);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_null(f);
        bool found = false;
        for (size_t i = 0; i < d.count; i++)
                if (d.items[i].severity == DIAG_ERROR && d.items[i].line == line &&
                    strcmp(d.items[i].file, "t.ini") == 0 && strstr(d.items[i].message, expected))
                        found = true;
        if (!found)
                for (size_t i = 0; i < d.count; i++)
                        diag_fprint(stderr, &d.items[i]);
        ck_assert_msg(found, "no error at t.ini:%u containing \"%s\"", line, expected);
        diag_free(&d);
}

static void assert_error(const char *text, unsigned line, const char *expected)
{
        struct crontab_options o = options();
        assert_error_with(text, &o, line, expected);
}

#define JOB "[j]\nschedule = * * * * *\ncommand = true\n"

START_TEST(minimal_job_gets_the_defaults)
{
        struct crontab_file *f = load_ok("[backup]\nschedule = 30 2 * * *\ncommand = /bin/true\n");
        ck_assert_uint_eq(f->n_jobs, 1);
        struct job *j = f->jobs[0];
        ck_assert_str_eq(j->name, "backup");
        ck_assert_str_eq(j->file, "t.ini");
        ck_assert_uint_eq(j->line, 1);
        ck_assert_str_eq(job_schedule_text(j), "30 2 * * *");
        ck_assert_ptr_nonnull(j->schedule);
        ck_assert_str_eq(j->command, "/bin/true");
        ck_assert_ptr_null(j->user);
        ck_assert_ptr_null(job_extra(j)->group);
        ck_assert_ptr_null(job_extra(j)->timezone);
        ck_assert_ptr_nonnull(j->zone);
        ck_assert_str_eq(tz_name(j->zone), "UTC");
        ck_assert_uint_eq(j->timeout_usec, 0);
        ck_assert_uint_eq(job_extra(j)->kill_grace_usec, JOB_DEFAULT_KILL_GRACE_USEC);
        ck_assert_int_eq(j->overlap, OVERLAP_SKIP);
        ck_assert(!j->persistent);
        ck_assert_ptr_null(j->environment);
        ck_assert_int_eq(job_extra(j)->umask, -1);
        ck_assert(!job_extra(j)->has_nice);
        ck_assert(j->enabled);
        ck_assert_ptr_null(job_extra(j)->on_failure);
        ck_assert_int_eq(j->scope, JOB_SCOPE_HOST);
        crontab_file_free(f);
}
END_TEST

START_TEST(every_key_is_read)
{
        struct crontab_file *f = load_ok("# a full job\n"
                                         "[backup.db-1]\n"
                                         "description = Nightly database backup\n"
                                         "schedule    = 30 2 * * *\n"
                                         "command     = /usr/local/bin/backup --full\n"
                                         "user        = root\n"
                                         "group       = root\n"
                                         "timezone    = Europe/Berlin\n"
                                         "timeout     = 2h 30min\n"
                                         "kill_grace  = 30s\n"
                                         "overlap     = queue\n"
                                         "random_delay = 10m\n"
                                         "persistent  = yes\n"
                                         "environment = PGHOST=db.internal\n"
                                         "environment = PGUSER=backup\n"
                                         "working_directory = /srv/backup\n"
                                         "umask = 027\n"
                                         "nice        = -5\n"
                                         "on_failure  = /usr/local/bin/page-oncall\n"
                                         "enabled     = off\n");
        struct job *j = f->jobs[0];
        ck_assert_str_eq(j->name, "backup.db-1");
        ck_assert_uint_eq(j->line, 2);
        ck_assert_str_eq(job_extra(j)->description, "Nightly database backup");
        ck_assert_str_eq(j->command, "/usr/local/bin/backup --full");
        ck_assert_str_eq(j->user, "root");
        ck_assert_str_eq(job_extra(j)->group, "root");
        ck_assert_str_eq(job_extra(j)->timezone, "Europe/Berlin");
        ck_assert_str_eq(tz_name(j->zone), "Europe/Berlin");
        ck_assert_uint_eq(j->timeout_usec, 9000 * USEC_PER_SEC);
        ck_assert_uint_eq(job_extra(j)->kill_grace_usec, 30 * USEC_PER_SEC);
        ck_assert_int_eq(j->overlap, OVERLAP_QUEUE);
        ck_assert_uint_eq(job_extra(j)->random_delay_usec, 600 * USEC_PER_SEC);
        ck_assert(j->persistent);
        ck_assert_str_eq(j->environment[0], "PGHOST=db.internal");
        ck_assert_str_eq(j->environment[1], "PGUSER=backup");
        ck_assert_ptr_null(j->environment[2]);
        ck_assert_str_eq(job_extra(j)->working_directory, "/srv/backup");
        ck_assert_int_eq(job_extra(j)->umask, 027);
        ck_assert(job_extra(j)->has_nice);
        ck_assert_int_eq(job_extra(j)->nice, -5);
        ck_assert_str_eq(job_extra(j)->on_failure, "/usr/local/bin/page-oncall");
        ck_assert(!j->enabled);
        crontab_file_free(f);
}
END_TEST

/* Issue 16: a loaded job is one allocation — the job, its schedule, its
 * environment and every string inside [job, job + the block) — and its
 * file is the crontab_file's path. The schedule is kept up to its last
 * year range in use: a truncated copy must still compute (a calendar with
 * two year ranges, whose next fire time skips to the second). */
static bool inside(const struct job *j, size_t size, const void *p)
{
        return (const char *)p >= (const char *)j && (const char *)p < (const char *)j + size;
}

START_TEST(loaded_job_is_one_block_and_keeps_every_field)
{
        struct crontab_file *f = load_ok("[defaults]\n"
                                         "environment = A=1\n"
                                         "mail_to = ops@example.com\n"
                                         "[j]\n"
                                         "description = d\n"
                                         "schedule = 2030..2031,2040-01-01 00:00:00\n"
                                         "command = /bin/echo hi\n"
                                         "user = root\n"
                                         "group = root\n"
                                         "timezone = UTC\n"
                                         "environment = B=2\n"
                                         "working_directory = /tmp\n"
                                         "on_failure = /bin/false\n"
                                         "stdin = text\n"
                                         "timeout = 1h\n"
                                         "kill_grace = 3s\n"
                                         "random_delay = 2min\n"
                                         "memory_max = 50M\n"
                                         "cpu_quota = 20%\n"
                                         "tasks_max = 100\n"
                                         "io_weight = 50\n"
                                         "umask = 0027\n"
                                         "nice = -5\n"
                                         "pam = yes\n"
                                         "mail_on = failure\n"
                                         "kill_leftovers = no\n"
                                         "persistent = yes\n"
                                         "overlap = queue\n");
        const struct job *j = f->jobs[0];
        const struct job_extra *x = j->extra;
        ck_assert(j->packed);
        ck_assert_ptr_eq(j->file, f->path);
        size_t size = 4096; /* a bound: the block ends after the last string */
        ck_assert_ptr_nonnull(x);
        ck_assert_ptr_eq(job_extra(j), x);
        const char *strings[] = { j->name,       x->description, j->command,           j->user,
                                  x->group,      x->timezone,    x->working_directory, x->on_failure,
                                  x->stdin_text, x->mail_to,     j->environment[0],    j->environment[1] };
        for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
                ck_assert_msg(strings[i] && inside(j, size, strings[i]), "string %zu outside the job's block", i);
        ck_assert(inside(j, size, x) && inside(j, size, j->environment));
        /* The schedule and its text are the file's, shared by jobs with the same text. */
        ck_assert_uint_eq(f->n_schedules, 1);
        ck_assert_ptr_eq((const char *)j->schedule + schedule_size(j->schedule), job_schedule_text(j));
        ck_assert(!inside(j, size, j->schedule));
        ck_assert_str_eq(job_schedule_text(j), "2030..2031,2040-01-01 00:00:00");
        ck_assert_str_eq(j->name, "j");
        ck_assert_str_eq(x->description, "d");
        ck_assert_str_eq(j->command, "/bin/echo hi");
        ck_assert_str_eq(j->user, "root");
        ck_assert_str_eq(x->group, "root");
        ck_assert_str_eq(x->timezone, "UTC");
        ck_assert_str_eq(x->working_directory, "/tmp");
        ck_assert_str_eq(x->on_failure, "/bin/false");
        ck_assert_str_eq(x->mail_to, "ops@example.com");
        ck_assert_str_eq(j->environment[0], "A=1");
        ck_assert_str_eq(j->environment[1], "B=2");
        ck_assert_ptr_null(j->environment[2]);
        ck_assert_str_eq(x->stdin_text, "text");
        ck_assert_uint_eq(j->timeout_usec, UINT64_C(3600000000));
        ck_assert_uint_eq(x->kill_grace_usec, UINT64_C(3000000));
        ck_assert_uint_eq(x->random_delay_usec, UINT64_C(120000000));
        ck_assert_uint_eq(x->limits.memory_max, 50ull << 20);
        ck_assert_uint_eq(x->limits.cpu_quota, 20);
        ck_assert_uint_eq(x->limits.tasks_max, 100);
        ck_assert_uint_eq(x->limits.io_weight, 50);
        ck_assert_int_eq(x->umask, 027);
        ck_assert(x->has_nice);
        ck_assert_int_eq(x->nice, -5);
        ck_assert_int_eq(x->pam, 1);
        ck_assert_int_eq(x->mail_on, MAIL_ON_FAILURE);
        ck_assert(!j->kill_leftovers && j->persistent && j->enabled);
        ck_assert_int_eq(j->overlap, OVERLAP_QUEUE);
        ck_assert_uint_eq(j->line, 4);
        ck_assert_uint_eq(j->schedule_line, 6);
        ck_assert_uint_eq(j->command_line, 7);
        ck_assert_uint_eq(j->timeout_line, 15);
        int64_t next;
        ck_assert_int_eq(schedule_next(j->schedule, j->zone, 1893456000 /* 2030-01-01 */, &next), 0);
        ck_assert_int_eq(next, 1924992000); /* 2031-01-01 */
        ck_assert_int_eq(schedule_next(j->schedule, j->zone, next, &next), 0);
        ck_assert_int_eq(next, 2208988800); /* 2040-01-01: the second range */
        crontab_file_free(f);
}
END_TEST

/* Issue 16: what most jobs leave unset costs them nothing. */
START_TEST(a_job_with_every_optional_field_unset_has_no_extra)
{
        struct crontab_file *f = load_ok("[plain]\nschedule = 0 0 1 1 *\ncommand = /bin/true\n"
                                         "[grace]\nschedule = 0 0 1 1 *\ncommand = /bin/true\nkill_grace = 1s\n"
                                         "[leaves-defaults]\nschedule = 0 0 1 1 *\ncommand = /bin/true\n"
                                         "umask = 0022\nkill_grace = 10s\n");
        ck_assert_ptr_null(f->jobs[0]->extra);
        const struct job_extra *x = job_extra(f->jobs[0]);
        ck_assert_ptr_null(x->description);
        ck_assert_ptr_null(x->mail_to);
        ck_assert_uint_eq(x->kill_grace_usec, JOB_DEFAULT_KILL_GRACE_USEC);
        ck_assert_int_eq(x->umask, -1);
        ck_assert_int_eq(x->pam, -1);
        ck_assert(!x->has_nice);
        /* One field away from the defaults is an extra. */
        ck_assert_ptr_nonnull(f->jobs[1]->extra);
        ck_assert_uint_eq(job_extra(f->jobs[1])->kill_grace_usec, UINT64_C(1000000));
        /* umask = 0022 is not "unset" (-1): it is kept as written. */
        ck_assert_ptr_nonnull(f->jobs[2]->extra);
        ck_assert_int_eq(job_extra(f->jobs[2])->umask, 022);
        crontab_file_free(f);
}
END_TEST

/* Issue 16: a file's schedules are carved from blocks that grow as it
 * loads; 600 distinct texts take several blocks, and the text table is
 * rebuilt from them several times: every job keeps its own schedule,
 * text and next instant, and a repeated text still finds its first copy. */
START_TEST(many_distinct_schedules_keep_their_texts_across_blocks)
{
        enum { N = 600 };
        size_t cap = (N + 1) * 80;
        char *buf = malloc(cap), *at = buf;
        ck_assert_ptr_nonnull(buf);
        for (int i = 0; i < N; i++)
                at += sprintf(at, "[j%03d]\nschedule = %d %d %d * *\ncommand = /bin/true\n", i, i % 60, i / 60,
                              2 + i % 27);
        at += sprintf(at, "[again]\nschedule = 7 0 9 * *\ncommand = /bin/true\n");
        struct crontab_file *f = load_ok(buf);
        free(buf);
        ck_assert_uint_eq(f->n_jobs, N + 1);
        ck_assert_uint_eq(f->n_schedules, N);
        for (int i = 0; i < N; i++) {
                const struct job *j = f->jobs[i];
                char want[32];
                snprintf(want, sizeof(want), "%d %d %d * *", i % 60, i / 60, 2 + i % 27);
                ck_assert_str_eq(job_schedule_text(j), want);
                int64_t next;
                ck_assert_int_eq(schedule_next(j->schedule, j->zone, 0, &next), 0);
                ck_assert_int_eq(next, (int64_t)(1 + i % 27) * 86400 + (i / 60) * 3600 + (i % 60) * 60);
        }
        ck_assert_str_eq(f->jobs[N]->name, "again");
        ck_assert_ptr_eq(f->jobs[N]->schedule, f->jobs[7]->schedule);
        crontab_file_free(f);
}
END_TEST

/* A job's line numbers are 24 bits (issue 16): they hold because a
 * buffer, like a file, is at most CRONTAB_MAX_FILE_SIZE bytes; a job
 * near the end of the largest one keeps its lines exactly. */
START_TEST(a_buffer_past_the_file_size_limit_is_refused_and_lines_near_it_are_kept)
{
        size_t len = CRONTAB_MAX_FILE_SIZE;
        const char job[] = "[last]\nschedule = 0 3 * * *\ncommand = /bin/true\ntimeout = 5s\n";
        char *buf = malloc(len + 1);
        ck_assert_ptr_nonnull(buf);
        memset(buf, '\n', len + 1);
        memcpy(buf + len - (sizeof(job) - 1), job, sizeof(job) - 1);
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f = NULL;
        ck_assert_int_eq(crontab_load_buffer("big.ini", buf, len + 1, &o, &f, &d), -EFBIG);
        ck_assert_ptr_null(f);
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 1);
        diag_free(&d);
        ck_assert_int_eq(crontab_load_buffer("big.ini", buf, len, &o, &f, &d), 0);
        free(buf);
        unsigned first = (unsigned)(len - (sizeof(job) - 1)) + 1; /* one line per newline before it */
        ck_assert_uint_eq(f->n_jobs, 1);
        ck_assert_uint_gt(first, 1u << 23);
        ck_assert_uint_eq(f->jobs[0]->line, first);
        ck_assert_uint_eq(f->jobs[0]->schedule_line, first + 1);
        ck_assert_uint_eq(f->jobs[0]->command_line, first + 2);
        ck_assert_uint_eq(f->jobs[0]->timeout_line, first + 3);
        ck_assert(f->jobs[0]->enabled && !f->jobs[0]->persistent && f->jobs[0]->kill_leftovers);
        crontab_file_free(f);
        diag_free(&d);
}
END_TEST

/* Issue 16: a file parses each schedule text once; its jobs share it. */
START_TEST(jobs_with_the_same_schedule_text_share_one_schedule)
{
        struct crontab_file *f = load_ok("[a]\nschedule = 0 3 * * *\ncommand = /bin/true\n"
                                         "[b]\nschedule = */5 * * * *\ncommand = /bin/true\n"
                                         "[c]\nschedule = 0 3 * * *\ncommand = /bin/true\n"
                                         "[d]\nschedule = 0  3 * * *\ncommand = /bin/true\n");
        ck_assert_uint_eq(f->n_schedules, 3); /* texts, not meanings: "0  3" is its own */
        ck_assert_ptr_eq(f->jobs[0]->schedule, f->jobs[2]->schedule);
        ck_assert_ptr_eq(job_schedule_text(f->jobs[0]), job_schedule_text(f->jobs[2]));
        ck_assert_ptr_ne(f->jobs[0]->schedule, f->jobs[1]->schedule);
        ck_assert_ptr_ne(f->jobs[0]->schedule, f->jobs[3]->schedule);
        ck_assert_str_eq(job_schedule_text(f->jobs[3]), "0  3 * * *");
        int64_t next;
        ck_assert_int_eq(schedule_next(f->jobs[2]->schedule, f->jobs[2]->zone, 0, &next), 0);
        ck_assert_int_eq(next, 3 * 3600);
        ck_assert_int_eq(schedule_next(f->jobs[1]->schedule, f->jobs[1]->zone, 0, &next), 0);
        ck_assert_int_eq(next, 300);
        crontab_file_free(f);
}
END_TEST

static const struct {
        const char *text;
        bool value;
} booleans[] = {
        { "yes", true },  { "no", false }, { "true", true }, { "false", false }, { "on", true },
        { "off", false }, { "1", true },   { "0", false },   { "YES", true },    { "Off", false },
};

START_TEST(booleans_accept_every_spelling)
{
        char text[256];
        snprintf(text, sizeof(text), JOB "persistent = %s\nenabled = %s\n", booleans[_i].text, booleans[_i].text);
        struct crontab_file *f = load_ok(text);
        ck_assert_int_eq(f->jobs[0]->persistent, booleans[_i].value);
        ck_assert_int_eq(f->jobs[0]->enabled, booleans[_i].value);
        crontab_file_free(f);
}
END_TEST

START_TEST(overlap_values)
{
        static const char *const names[] = { "skip", "allow", "queue", "replace" };
        for (int i = 0; i < 4; i++) {
                char text[256];
                snprintf(text, sizeof(text), JOB "overlap = %s\n", names[i]);
                struct crontab_file *f = load_ok(text);
                ck_assert_int_eq(f->jobs[0]->overlap, i);
                crontab_file_free(f);
        }
}
END_TEST

START_TEST(timeout_zero_and_infinity_mean_none)
{
        struct crontab_file *f = load_ok("[a]\nschedule = * * * * *\ncommand = x\ntimeout = infinity\n"
                                         "[b]\nschedule = * * * * *\ncommand = x\ntimeout = 0\n"
                                         "[c]\nschedule = * * * * *\ncommand = x\ntimeout = 90\n");
        ck_assert_uint_eq(f->jobs[0]->timeout_usec, 0);
        ck_assert_uint_eq(f->jobs[1]->timeout_usec, 0);
        ck_assert_uint_eq(f->jobs[2]->timeout_usec, 90 * USEC_PER_SEC);
        crontab_file_free(f);
}
END_TEST

START_TEST(jobs_keep_file_order)
{
        struct crontab_file *f = load_ok("[zeta]\nschedule = * * * * *\ncommand = z\n\n"
                                         "[alpha]\nschedule = * * * * *\ncommand = a\n");
        ck_assert_uint_eq(f->n_jobs, 2);
        ck_assert_str_eq(f->jobs[0]->name, "zeta");
        ck_assert_str_eq(f->jobs[1]->name, "alpha");
        ck_assert_uint_eq(f->jobs[1]->line, 5);
        crontab_file_free(f);
}
END_TEST

START_TEST(defaults_apply_to_every_job_and_jobs_override)
{
        struct crontab_file *f = load_ok("[defaults]\n"
                                         "user = root\n"
                                         "timezone = Europe/Berlin\n"
                                         "timeout = 1h\n"
                                         "environment = A=1\n"
                                         "environment = B=2\n"
                                         "[one]\nschedule = * * * * *\ncommand = x\n"
                                         "[two]\nschedule = * * * * *\ncommand = y\ntimezone = UTC\ntimeout = 5m\n"
                                         "environment = B=3\nenvironment = C=4\n");
        ck_assert_uint_eq(f->n_jobs, 2);
        struct job *one = f->jobs[0], *two = f->jobs[1];
        ck_assert_str_eq(one->user, "root");
        ck_assert_str_eq(tz_name(one->zone), "Europe/Berlin");
        ck_assert_uint_eq(one->timeout_usec, 3600 * USEC_PER_SEC);
        ck_assert_str_eq(one->environment[0], "A=1");
        ck_assert_str_eq(one->environment[1], "B=2");
        ck_assert_ptr_null(one->environment[2]);
        ck_assert_str_eq(two->user, "root");
        ck_assert_str_eq(tz_name(two->zone), "UTC");
        ck_assert_uint_eq(two->timeout_usec, 300 * USEC_PER_SEC);
        ck_assert_str_eq(two->environment[0], "A=1");
        ck_assert_str_eq(two->environment[1], "B=3");
        ck_assert_str_eq(two->environment[2], "C=4");
        ck_assert_ptr_null(two->environment[3]);
        crontab_file_free(f);
}
END_TEST

START_TEST(command_is_verbatim_with_semicolons_and_hashes)
{
        struct crontab_file *f = load_ok("[j]\nschedule = * * * * *\n"
                                         "command = cd /srv ; ./run # not a comment ; echo 'a;b' #x\n"
                                         "on_failure = logger failed ; echo \"#1\"\n"
                                         "description = 50% ; done # ok\n");
        ck_assert_str_eq(f->jobs[0]->command, "cd /srv ; ./run # not a comment ; echo 'a;b' #x");
        ck_assert_str_eq(job_extra(f->jobs[0])->on_failure, "logger failed ; echo \"#1\"");
        ck_assert_str_eq(job_extra(f->jobs[0])->description, "50% ; done # ok");
        crontab_file_free(f);
}
END_TEST

START_TEST(inih_settings_cannot_change_what_we_read)
{
        /* Debian's libinih reads its options from globals at run time. Our
         * reader hands inih only short synthetic lines, so even the most
         * hostile settings leave the values whole. (Check forks each test:
         * the change does not outlive it.) */
        ini_max_line = 16;
        ini_allow_inline_comments = true;
        ini_inline_comment_prefixes = ";#";
        ini_allow_multiline = true;
        ini_stop_on_first_error = true;
        char *text = file_with_line_of(300);
        struct crontab_file *f = load_ok(text);
        ck_assert_uint_eq(strlen(f->jobs[0]->command), 290);
        crontab_file_free(f);
        free(text);
        f = load_ok("[j]\nschedule = * * * * *\ncommand = a ; b # c\n  d ; e\nenvironment = X=1 ; 2\n");
        ck_assert_str_eq(f->jobs[0]->command, "a ; b # c\nd ; e");
        ck_assert_str_eq(f->jobs[0]->environment[0], "X=1 ; 2");
        crontab_file_free(f);
}
END_TEST

START_TEST(value_keeps_equals_signs_and_quotes)
{
        struct crontab_file *f = load_ok("[j]\nschedule = * * * * *\ncommand = env A=b \"c = d\"\n"
                                         "environment = OPTS=--x=1 --y=2\n");
        ck_assert_str_eq(f->jobs[0]->command, "env A=b \"c = d\"");
        ck_assert_str_eq(f->jobs[0]->environment[0], "OPTS=--x=1 --y=2");
        crontab_file_free(f);
}
END_TEST

/* As systemd's Environment=: quotes around the assignment or the value go. */
START_TEST(environment_is_unquoted_as_systemd)
{
        struct crontab_file *f = load_ok(JOB "environment = Q=\"x\"\nenvironment = \"R=a b\"\n"
                                             "environment = S='it\\'s'\nenvironment = T=\"1\\t2\"\n");
        ck_assert_str_eq(f->jobs[0]->environment[0], "Q=x");
        ck_assert_str_eq(f->jobs[0]->environment[1], "R=a b");
        ck_assert_str_eq(f->jobs[0]->environment[2], "S=it's");
        ck_assert_str_eq(f->jobs[0]->environment[3], "T=1\t2");
        crontab_file_free(f);
}
END_TEST

START_TEST(stdin_is_unquoted_with_its_newlines_and_empty_is_none)
{
        struct crontab_file *f = load_ok(JOB "stdin = \"Joe,\\n\\n  Where?\\n\"\n\n"
                                             "[plain]\nschedule = @daily\ncommand = cat\nstdin = a b\n\n"
                                             "[empty]\nschedule = @daily\ncommand = cat\nstdin = \"\"\n");
        ck_assert_str_eq(job_extra(f->jobs[0])->stdin_text, "Joe,\n\n  Where?\n");
        ck_assert_str_eq(job_extra(f->jobs[1])->stdin_text, "a b");
        ck_assert_ptr_null(job_extra(f->jobs[2])->stdin_text);
        crontab_file_free(f);
}
END_TEST

START_TEST(stdin_errors_name_the_line_and_it_is_per_job_only)
{
        assert_error(JOB "stdin = \"open\n", 4, "stdin: '\"open'");
        assert_error("[defaults]\nstdin = x\n" JOB, 2, "stdin");
}
END_TEST

START_TEST(environment_quote_errors_name_the_line)
{
        assert_error(JOB "environment = Q=\"x\n", 4, "environment: 'Q=\"x': no closing \"");
        assert_error(JOB "environment = Q=\"\\q\"\n", 4, "environment: 'Q=\"\\q\"': unknown escape '\\q'");
        assert_error(JOB "environment = \"1X=3\"\n", 4, "environment: '\"1X=3\"' is not NAME=value");
}
END_TEST

START_TEST(environment_later_setting_replaces)
{
        struct crontab_file *f = load_ok(JOB "environment = A=1\nenvironment = B=\nenvironment = A=2\n");
        ck_assert_str_eq(f->jobs[0]->environment[0], "A=2");
        ck_assert_str_eq(f->jobs[0]->environment[1], "B=");
        ck_assert_ptr_null(f->jobs[0]->environment[2]);
        crontab_file_free(f);
}
END_TEST

START_TEST(continuation_lines_join_the_command)
{
        struct crontab_file *f = load_ok("[j]\nschedule = * * * * *\n"
                                         "command = tar czf /tmp/x.tgz \\\n"
                                         "    /etc \\\n"
                                         "\t/srv ; echo done\n"
                                         "# a comment ends the value\n"
                                         "user = root\n");
        ck_assert_str_eq(f->jobs[0]->command, "tar czf /tmp/x.tgz \\\n/etc \\\n/srv ; echo done");
        ck_assert_str_eq(f->jobs[0]->user, "root");
        crontab_file_free(f);
}
END_TEST

START_TEST(value_may_start_on_the_continuation_line)
{
        struct crontab_file *f = load_ok("[j]\nschedule = * * * * *\ncommand =\n    echo a\n    echo b\n");
        ck_assert_str_eq(f->jobs[0]->command, "echo a\necho b");
        crontab_file_free(f);
}
END_TEST

START_TEST(bad_continuation_does_not_also_report_missing_key)
{
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with("[j]\nschedule = * * * * *\ncommand = a\n  nice = 3\n", &o, &f, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 4);
        diag_free(&d);
}
END_TEST

START_TEST(repeated_key_is_not_a_continuation)
{
        /* inih reports both the same way; we must not. */
        struct crontab_file *f = load_ok(JOB "environment = A=1\nenvironment = B=2\n");
        ck_assert_str_eq(f->jobs[0]->environment[1], "B=2");
        crontab_file_free(f);
        assert_error(JOB "environment = A=1\n  B=2\n", 5, "'environment' does not take continuation lines");
}
END_TEST

START_TEST(empty_and_comment_only_files_load_no_jobs)
{
        static const char *const texts[] = { "", "\n\n", "# nothing\n; here\n   # indented comment\n", "\xEF\xBB\xBF",
                                             "\r\n" };
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                struct crontab_file *f = load_ok(texts[i]);
                ck_assert_uint_eq(f->n_jobs, 0);
                crontab_file_free(f);
        }
}
END_TEST

START_TEST(crlf_line_endings)
{
        struct crontab_file *f = load_ok("[a]\r\nschedule = * * * * *\r\ncommand = echo a ; echo b\r\n\r\n"
                                         "[b]\r\nschedule = * * * * *\r\ncommand = x\r\n  y\r\nnice = 3\r\n");
        ck_assert_str_eq(f->jobs[0]->command, "echo a ; echo b");
        ck_assert_str_eq(f->jobs[1]->command, "x\ny");
        ck_assert_uint_eq(f->jobs[1]->line, 5);
        ck_assert_int_eq(job_extra(f->jobs[1])->nice, 3);
        crontab_file_free(f);
        assert_error("[a]\r\nschedule = * * * * *\r\ncommand = x\r\nnice = 30\r\n", 4, "nice: '30'");
}
END_TEST

START_TEST(utf8_bom_is_skipped)
{
        struct crontab_file *f = load_ok("\xEF\xBB\xBF[a]\nschedule = * * * * *\ncommand = echo é\n");
        ck_assert_str_eq(f->jobs[0]->name, "a");
        ck_assert_str_eq(f->jobs[0]->command, "echo é");
        crontab_file_free(f);
        f = load_ok("\xEF\xBB\xBF# comment\r\n[b]\r\nschedule = * * * * *\r\ncommand = x\r\n");
        ck_assert_uint_eq(f->jobs[0]->line, 2);
        crontab_file_free(f);
        /* A BOM anywhere else is data, and not a valid header. */
        assert_error("[a]\nschedule = * * * * *\ncommand = x\n\xEF\xBB\xBF[b]\n", 4, "expected 'KEY = VALUE'");
}
END_TEST

/* A file whose line 3 is a command line of exactly LEN bytes. */
static char *file_with_line_of(size_t len)
{
        const char *prefix = "command = echo ";
        size_t fill = len - strlen(prefix);
        char *text;
        char *cmd = malloc(len + 1);
        memcpy(cmd, prefix, strlen(prefix));
        for (size_t i = 0; i < fill; i++)
                cmd[strlen(prefix) + i] = (char)('a' + i % 26);
        cmd[len] = '\0';
        ck_assert_int_ge(asprintf(&text, "[j]\nschedule = * * * * *\n%s\nnice = 1\n", cmd), 0);
        free(cmd);
        return text;
}

static const size_t accepted_lengths[] = { 199, 200, 201, 202, 203, 1000, INIFILE_MAX_LINE };

START_TEST(long_lines_arrive_whole)
{
        size_t len = accepted_lengths[_i];
        char *text = file_with_line_of(len);
        struct crontab_file *f = load_ok(text);
        ck_assert_uint_eq(strlen(f->jobs[0]->command), len - strlen("command = "));
        ck_assert_int_eq(job_extra(f->jobs[0])->nice, 1);
        crontab_file_free(f);
        free(text);
}
END_TEST

static const size_t refused_lengths[] = { INIFILE_MAX_LINE + 1, 5000, 100000 };

START_TEST(over_long_line_is_an_error_on_its_line)
{
        char *text = file_with_line_of(refused_lengths[_i]);
        char expected[64];
        snprintf(expected, sizeof(expected), "line is %zu bytes long; the limit is %d", refused_lengths[_i],
                 INIFILE_MAX_LINE);
        assert_error(text, 3, expected);
        /* Nothing of it spills into the lines after it. */
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with(text, &o, &f, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        diag_free(&d);
        free(text);
        /* Line numbers after it stay exact, also with CRLF. */
        text = file_with_line_of(refused_lengths[_i]);
        char *more;
        ck_assert_int_ge(asprintf(&more, "%s\nbogus = 1\n", text), 0);
        assert_error(more, 6, "unknown key 'bogus'");
        free(more);
        free(text);
}
END_TEST

START_TEST(long_continuation_line_is_an_error_on_its_line)
{
        char *text;
        char *fill = malloc(6000);
        memset(fill, 'x', 5999);
        fill[5999] = '\0';
        ck_assert_int_ge(asprintf(&text, "[j]\nschedule = * * * * *\ncommand = a\n  %s\n", fill), 0);
        assert_error(text, 4, "line is 6001 bytes long");
        free(text);
        free(fill);
}
END_TEST

static const struct {
        const char *text;
        unsigned line;
        const char *message;
} errors[] = {
        { JOB "shedule = * * * * *\n", 4, "unknown key 'shedule' (did you mean 'schedule'?)" },
        { JOB "comand = x\n", 4, "unknown key 'comand' (did you mean 'command'?)" },
        { JOB "cmd = x\n", 4, "unknown key 'cmd' (did you mean 'command'?)" },
        { JOB "Working-Directory = /x\n", 4, "did you mean 'working_directory'?" },
        { JOB "tz = UTC\n", 4, "did you mean 'timezone'?" },
        { JOB "frobnicate = 1\n", 4, "unknown key 'frobnicate'" },
        { "[j]\ncommand = x\n", 1, "job 'j' has no schedule" },
        { "# c\n[j]\nschedule = * * * * *\n", 2, "job 'j' has no command" },
        { "[job \"x\"]\nschedule = * * * * *\ncommand = x\n", 1, "invalid section name 'job \"x\"'" },
        { "[a b]\n", 1, "invalid section name 'a b'" },
        { "[]\n", 1, "invalid section name ''" },
        { "[a/b]\n", 1, "invalid section name 'a/b'" },
        { "[..]\n", 1, "invalid job name '..'" },
        { "[abc\n", 1, "missing its closing ']'" },
        { "[abc] ; comment\n", 1, "unexpected text after ']'" },
        { "schedule = * * * * *\n", 1, "'schedule' is outside any section" },
        { JOB "just some words\n", 4, "expected 'KEY = VALUE', a '[NAME]' header or a comment" },
        { JOB "= value\n", 4, "missing key before '='" },
        { JOB "  user = root\n", 4, "indented line looks like a key" },
        { "[j]\n  schedule = * * * * *\n", 2, "line starts with white space" },
        { JOB "timeout = 2 parsecs\n", 4, "timeout: '2 parsecs' is not a time span" },
        { JOB "kill_grace = soon\n", 4, "kill_grace: 'soon' is not a time span" },
        { JOB "random_delay = -5s\n", 4, "random_delay: '-5s' is not a time span" },
        { JOB "timeout = 999999999999y\n", 4, "timeout: '999999999999y' is too long a time span" },
        { JOB "persistent = maybe\n", 4, "persistent: 'maybe' is not a boolean" },
        { JOB "enabled = \n", 4, "enabled: '' is not a boolean" },
        { JOB "overlap = skp\n", 4, "overlap: 'skp' is not one of skip, allow, queue, replace (did you mean 'skip'?)" },
        { JOB "overlap = never\n", 4, "overlap: 'never' is not one of skip, allow, queue, replace" },
        { JOB "umask = 999\n", 4, "umask: '999' is not an octal mode" },
        { JOB "umask = 01000\n", 4, "umask: '01000' is not an octal mode" },
        { JOB "umask = -1\n", 4, "umask: '-1' is not an octal mode" },
        { JOB "nice = 20\n", 4, "nice: '20' is not a number from -20 to 19" },
        { JOB "nice = -21\n", 4, "nice: '-21'" },
        { JOB "nice = high\n", 4, "nice: 'high'" },
        { JOB "working_directory = srv/x\n", 4, "working_directory: 'srv/x' is not an absolute path" },
        { JOB "environment = 1X=3\n", 4, "environment: '1X=3' is not NAME=value" },
        { JOB "environment = NOVALUE\n", 4, "environment: 'NOVALUE' is not NAME=value" },
        { JOB "environment = A B=1\n", 4, "environment: 'A B=1'" },
        { JOB "timezone = Mars/Olympus_Mons\n", 4, "timezone: unknown time zone 'Mars/Olympus_Mons'" },
        { JOB "timezone = ../../etc/passwd\n", 4, "timezone: '../../etc/passwd' is not a time zone name" },
        { JOB "user = -rf\n", 4, "user: '-rf' is not a valid user name" },
        { JOB "group = a b\n", 4, "group: 'a b' is not a valid group name" },
        { "[j]\nschedule = 61 * * * *\ncommand = x\n", 2, "schedule: '61 * * * *': " },
        { "[j]\nschedule = 30 2 * * * ; daily\ncommand = x\n", 2, "schedule: '30 2 * * * ; daily': " },
        { "[j]\nschedule =\ncommand = x\n", 2, "schedule: empty" },
        { "[j]\nschedule = * * * * *\ncommand =   \n", 3, "command: empty" },
        { JOB "user = root\nuser = root\n", 5, "'user' already set at line 4" },
        { JOB "schedule = * * * * *\n", 4, "'schedule' already set at line 2" },
        { JOB "\n" JOB, 5, "job 'j' already defined at t.ini:1" },
        { JOB "[defaults]\nuser = root\n", 4, "[defaults] must come before the first job" },
        { "[defaults]\n[defaults]\n", 2, "[defaults] already given at line 1" },
        { "[defaults]\nschedule = * * * * *\n", 2, "'schedule' cannot be set in [defaults]" },
        { "[defaults]\ncommand = x\n", 2, "'command' cannot be set in [defaults]" },
        { "[defaults]\ntimeout = never\n" JOB, 2, "timeout: 'never' is not a time span" },
        { JOB "command = a\n", 4, "'command' already set at line 3" },
        { "[j]\nschedule = * * * * *\n  * * * * *\ncommand = x\n", 3, "'schedule' does not take continuation lines" },
        { JOB "nice = 1\0\n", 4, "line contains a NUL byte" },
        { JOB "scope = cluster\n", 4, "scope: 'cluster' is not one of host, fleet" },
        { JOB "scope = flet\n", 4, "scope: 'flet' is not one of host, fleet (did you mean 'fleet'?)" },
        { JOB "scope = host\nscope = host\n", 5, "'scope' already set at line 4" },
};

START_TEST(each_error_names_its_line)
{
        size_t len = strlen(errors[_i].text);
        /* The NUL-byte case carries its length past the NUL. */
        if (strstr(errors[_i].message, "NUL"))
                len += 2;
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f = (void *)1;
        ck_assert_int_eq(crontab_load_buffer("t.ini", errors[_i].text, len, &o, &f, &d), -EINVAL);
        ck_assert_ptr_null(f);
        bool found = false;
        for (size_t i = 0; i < d.count; i++) {
                if (d.items[i].severity == DIAG_ERROR && d.items[i].line == errors[_i].line &&
                    strstr(d.items[i].message, errors[_i].message))
                        found = true;
        }
        if (!found)
                for (size_t i = 0; i < d.count; i++)
                        diag_fprint(stderr, &d.items[i]);
        ck_assert_msg(found, "case %d: no error at line %u containing \"%s\"", _i, errors[_i].line, errors[_i].message);
        diag_free(&d);
}
END_TEST

/* A classic crontab line pasted into the INI file is named for what it
 * is, with the two keys that say it, wherever it stands. */
START_TEST(crontab_line_is_recognised_and_rewritten)
{
        assert_error("0 5 * * * /usr/bin/backup --all\n", 1,
                     "this looks like a crontab(5) line: write it as schedule = 0 5 * * * and command = "
                     "/usr/bin/backup --all in a [section]");
        assert_error("[j]\nschedule = @daily\ncommand = x\n*/15  9-17 * * mon-fri  /usr/bin/poll\n", 4,
                     "write it as schedule = */15  9-17 * * mon-fri and command = /usr/bin/poll in a [section]");
        assert_error("[j]\n@daily /usr/bin/x\n", 2,
                     "this looks like a crontab(5) line: write it as schedule = @daily and command = /usr/bin/x in "
                     "a [section]");
        /* The line stands for both keys: the job is not also said to lack them. */
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with("[j]\n@daily /usr/bin/x\n", &o, &f, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        diag_free(&d);
        /* Prose, or fields without a command, is no crontab line. */
        assert_error("[j]\nrun the backup at five every day\n", 2, "expected 'KEY = VALUE'");
        assert_error("[j]\n0 5 * * *\n", 2, "expected 'KEY = VALUE'");
        assert_error("[j]\n@every 5m /usr/bin/x\n", 2, "expected 'KEY = VALUE'");
}
END_TEST

START_TEST(error_diagnostics_carry_the_key)
{
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with(JOB "timeout = x\n", &o, &f, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_str_eq(d.items[0].key, "timeout");
        ck_assert_str_eq(d.items[0].file, "t.ini");
        ck_assert_uint_eq(d.items[0].line, 4);
        diag_free(&d);
}
END_TEST

START_TEST(one_error_rejects_the_whole_file)
{
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f = (void *)1;
        ck_assert_int_eq(load_with(JOB "[k]\nschedule = * * * * *\ncommand = x\nnice = 99\n", &o, &f, &d), -EINVAL);
        ck_assert_ptr_null(f);
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 1);
        diag_free(&d);
}
END_TEST

START_TEST(every_error_of_a_file_is_reported)
{
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with("[a]\nschedule = * * * * *\ncommand = x\nnice = 99\numask = 9\n"
                                   "[b c]\nfoo = 1\n[d]\ncommand = y\n",
                                   &o, &f, &d),
                         -EINVAL);
        unsigned lines[] = { 4, 5, 6, 7, 8 };
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), ELEMENTSOF(lines));
        for (size_t i = 0; i < ELEMENTSOF(lines); i++)
                ck_assert_uint_eq(d.items[i].line, lines[i]);
        diag_free(&d);
}
END_TEST

START_TEST(keys_under_a_bad_header_do_not_fall_to_the_job_above)
{
        static const char *const texts[] = {
                JOB "[b c]\nschedule = * * * * *\ncommand = y\n",
                JOB "[b\nschedule = * * * * *\ncommand = y\n",
                JOB "[b] x\nschedule = * * * * *\ncommand = y\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                struct crontab_options o = options();
                struct diagnostics d = { 0 };
                struct crontab_file *f;
                ck_assert_int_eq(load_with(texts[i], &o, &f, &d), -EINVAL);
                if (d.count != 1)
                        for (size_t k = 0; k < d.count; k++)
                                diag_fprint(stderr, &d.items[k]);
                ck_assert_uint_eq(d.count, 1);
                ck_assert_uint_eq(d.items[0].line, 4);
                diag_free(&d);
        }
}
END_TEST

START_TEST(bad_value_does_not_also_report_missing_key)
{
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with("[j]\nschedule = 61 * * * *\ncommand = x\n", &o, &f, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        diag_free(&d);
}
END_TEST

START_TEST(ten_thousand_jobs_load)
{
        size_t cap = 10000 * 80, len = 0;
        char *text = malloc(cap);
        for (int i = 0; i < 10000; i++)
                len += (size_t)snprintf(text + len, cap - len,
                                        "[job-%05d]\nschedule = */5 * * * *\ncommand = echo %d\n\n", i, i);
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(crontab_load_buffer("big.ini", text, len, &o, &f, &d), 0);
        ck_assert_uint_eq(f->n_jobs, 10000);
        ck_assert_str_eq(f->jobs[9999]->name, "job-09999");
        ck_assert_uint_eq(f->jobs[9999]->line, 9999 * 4 + 1);
        ck_assert_str_eq(f->jobs[4321]->command, "echo 4321");
        crontab_file_free(f);
        /* One duplicate among them is found, at its line. */
        memcpy(strstr(text, "[job-07777]"), "[job-00001]", 11);
        ck_assert_int_eq(crontab_load_buffer("big.ini", text, len, &o, &f, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 7777 * 4 + 1);
        ck_assert_str_eq(d.items[0].message, "job 'job-00001' already defined at big.ini:5");
        diag_free(&d);
        free(text);
}
END_TEST

START_TEST(users_and_groups_are_resolved)
{
        struct crontab_options o = options();
        o.resolve_users = true;
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with(JOB "user = root\ngroup = root\n", &o, &f, &d), 0);
        crontab_file_free(f);
        assert_error_with(JOB "user = tickd-no-such-user\n", &o, 4, "user: user 'tickd-no-such-user' does not exist");
        assert_error_with(JOB "group = tickd-no-such-group\n", &o, 4,
                          "group: group 'tickd-no-such-group' does not exist");
        /* Without resolving, only the syntax is checked. */
        o.resolve_users = false;
        ck_assert_int_eq(load_with(JOB "user = tickd-no-such-user\n", &o, &f, &d), 0);
        crontab_file_free(f);
        diag_free(&d);
}
END_TEST

START_TEST(user_mode_jobs_run_as_the_owner_only)
{
        struct crontab_options o = options();
        o.system_mode = false;
        o.owner_uid = 4242;
        o.resolve_users = true;
        assert_error_with(JOB "user = root\n", &o, 4,
                          "user mode: jobs run as the instance's user only; user = root is not allowed");
}
END_TEST

START_TEST(missing_program_is_a_warning)
{
        struct crontab_options o = options();
        o.check_commands = true;
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with("[a]\nschedule = * * * * *\ncommand = tickd-no-such-program --x\n"
                                   "[b]\nschedule = * * * * *\ncommand = /nonexistent/prog\n"
                                   "[c]\nschedule = * * * * *\ncommand = true ; false\n"
                                   "[d]\nschedule = * * * * *\ncommand = cd /srv && ./x\n"
                                   "[e]\nschedule = * * * * *\ncommand = LANG=C exec sh -c x\n"
                                   "[f]\nschedule = * * * * *\ncommand = \"$HOME/x\"\n"
                                   "[g]\nschedule = * * * * *\ncommand = /etc/passwd\n"
                                   "[h]\nschedule = * * * * *\ncommand = ls\nenvironment = PATH=/nonexistent\n",
                                   &o, &f, &d),
                         0);
        crontab_file_free(f);
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 0);
        ck_assert_uint_eq(diag_count(&d, DIAG_WARNING), 4);
        ck_assert_uint_eq(d.items[0].line, 3);
        ck_assert_str_eq(d.items[0].message,
                         "command: program 'tickd-no-such-program' not found in PATH (" CRONTAB_DEFAULT_PATH ")");
        ck_assert_uint_eq(d.items[1].line, 6);
        ck_assert_str_eq(d.items[1].message,
                         "command: program '/nonexistent/prog' not found (No such file or directory)");
        ck_assert_uint_eq(d.items[2].line, 21);
        ck_assert_str_eq(d.items[2].message, "command: program '/etc/passwd' is not executable by user root");
        ck_assert_uint_eq(d.items[3].line, 24);
        diag_free(&d);
}
END_TEST

START_TEST(command_program_extraction)
{
        char p[256];
        ck_assert(crontab_command_program("  /bin/echo hi", p, sizeof(p)));
        ck_assert_str_eq(p, "/bin/echo");
        ck_assert(crontab_command_program("A=1 B=2 exec nice backup --x", p, sizeof(p)));
        ck_assert_str_eq(p, "nice");
        ck_assert(crontab_command_program("run;x", p, sizeof(p)) == false);
        ck_assert(!crontab_command_program("cd /x && y", p, sizeof(p)));
        ck_assert(!crontab_command_program("if true; then x; fi", p, sizeof(p)));
        ck_assert(!crontab_command_program("'quoted prog'", p, sizeof(p)));
        ck_assert(!crontab_command_program("$PROG", p, sizeof(p)));
        ck_assert(!crontab_command_program("A=\"$x\" y", p, sizeof(p)));
        ck_assert(!crontab_command_program("(subshell)", p, sizeof(p)));
        /* Debian's /etc/cron.d/sysstat: a test, not a program called "-v" */
        ck_assert(!crontab_command_program("command -v debian-sa1 > /dev/null && debian-sa1 1 1", p, sizeof(p)));
        ck_assert(!crontab_command_program("exec -a name prog", p, sizeof(p)));
        ck_assert(!crontab_command_program("", p, sizeof(p)));
}
END_TEST

START_TEST(suggestions_need_a_close_match)
{
        static const char *const words[] = { "schedule", "command", "timezone" };
        ck_assert_uint_eq(crontab_edit_distance("shedule", "schedule", 3), 1);
        ck_assert_uint_eq(crontab_edit_distance("SCHEDULE", "schedule", 3), 0);
        ck_assert_uint_eq(crontab_edit_distance("", "abc", SIZE_MAX), 3);
        ck_assert_str_eq(crontab_suggest("comand", words, 3), "command");
        ck_assert_str_eq(crontab_suggest("timezon", words, 3), "timezone");
        ck_assert_ptr_null(crontab_suggest("xyz", words, 3));
        ck_assert_ptr_null(crontab_suggest("user", words, 3));
}
END_TEST

/* The textbook table, to check the banded one against. */
static size_t full_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), d[17][17];
        for (size_t i = 0; i <= la; i++)
                for (size_t j = 0; j <= lb; j++) {
                        if (i == 0 || j == 0) {
                                d[i][j] = i + j;
                                continue;
                        }
                        size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
                        if (d[i - 1][j] + 1 < best)
                                best = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < best)
                                best = d[i][j - 1] + 1;
                        d[i][j] = best;
                }
        return d[la][lb];
}

START_TEST(edit_distance_is_exact_up_to_its_bound)
{
        /* Words over a 3-letter alphabet are close often enough to test both sides of every bound. */
        unsigned seed = 1;
        for (int n = 0; n < 20000; n++) {
                char a[17], b[17];
                size_t la = rand_r(&seed) % 17, lb = rand_r(&seed) % 17;
                for (size_t i = 0; i < la; i++)
                        a[i] = (char)('a' + rand_r(&seed) % 3);
                for (size_t i = 0; i < lb; i++)
                        b[i] = (char)('a' + rand_r(&seed) % 3);
                a[la] = b[lb] = '\0';
                size_t want = full_distance(a, b), max = (size_t)(rand_r(&seed) % 6);
                size_t got = crontab_edit_distance(a, b, max);
                if (want <= max)
                        ck_assert_uint_eq(got, want);
                else
                        ck_assert_uint_gt(got, max);
                ck_assert_uint_eq(crontab_edit_distance(a, b, SIZE_MAX), want);
        }
        char long_word[66];
        memset(long_word, 'x', 65);
        long_word[65] = '\0';
        ck_assert_uint_eq(crontab_edit_distance(long_word, "x", 3), SIZE_MAX);
}
END_TEST

/* ---- warnings for valid jobs (crontab_lint_job) ---- */

#define JAN_1_2026 INT64_C(1767225600) /* 2026-01-01 00:00:00 UTC */

/* Loads TEXT (one job) and lints it as of NOW; returns the warnings. */
static struct diagnostics lint(const char *text, int64_t now)
{
        struct crontab_file *f = load_ok(text);
        struct diagnostics d = { 0 };
        ck_assert_int_ge(crontab_lint_job(f->jobs[0], now, &d), 0);
        crontab_file_free(f);
        for (size_t i = 0; i < d.count; i++)
                ck_assert_int_eq(d.items[i].severity, DIAG_WARNING);
        return d;
}

START_TEST(fixed_time_in_dst_gap_and_overlap_is_named)
{
        struct diagnostics d =
                lint("[night]\nschedule = 30 2 * * *\ncommand = x\ntimezone = Europe/Berlin\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 2);
        ck_assert_uint_eq(d.items[0].line, 2);
        ck_assert_str_eq(d.items[0].key, "schedule");
        ck_assert_str_eq(d.items[0].message,
                         "schedule: job 'night' has a fixed time that does not exist in Europe/Berlin on 2026-03-29 "
                         "(DST gap): it runs once, when the gap ends");
        ck_assert_str_eq(d.items[1].message,
                         "schedule: job 'night' has a fixed time that happens twice in Europe/Berlin on 2026-10-25 "
                         "(DST overlap): it runs once, at the first");
        diag_free(&d);
}
END_TEST

START_TEST(dst_warning_follows_the_zone_rules)
{
        /* New York moves at 02:00 local: 01:30 repeats in November only. */
        struct diagnostics d =
                lint("[a]\nschedule = 30 1 * * *\ncommand = x\ntimezone = America/New_York\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 1);
        ck_assert(strstr(d.items[0].message, "happens twice in America/New_York on 2026-11-01"));
        diag_free(&d);
        /* Only Sundays in March: the gap day is a Sunday, so it is named. */
        d = lint("[b]\nschedule = 0 2 * 3 0\ncommand = x\ntimezone = Europe/Berlin\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 1);
        ck_assert(strstr(d.items[0].message, "does not exist in Europe/Berlin on 2026-03-29"));
        diag_free(&d);
}
END_TEST

static const char *const dst_quiet[] = {
        "[a]\nschedule = */15 * * * *\ncommand = x\ntimezone = Europe/Berlin\n", /* cadence */
        "[a]\nschedule = 0 3 * * *\ncommand = x\ntimezone = Europe/Berlin\n",    /* 03:00 exists once */
        "[a]\nschedule = 30 2 * * *\ncommand = x\ntimezone = UTC\n",             /* no DST */
        "[a]\nschedule = 30 2 * * *\ncommand = x\ntimezone = Asia/Tokyo\n",
        "[a]\nschedule = 30 2 * * 1-5\ncommand = x\ntimezone = Europe/Berlin\n", /* transitions on Sundays */
        "[a]\nschedule = @every 90m\ncommand = x\ntimezone = Europe/Berlin\n",
        "[a]\nschedule = @reboot\ncommand = x\ntimezone = Europe/Berlin\n",
        "[a]\nschedule = 30 * * * *\ncommand = x\ntimezone = Europe/Berlin\n",
};

START_TEST(no_dst_warning_for_cadence_or_safe_times)
{
        struct diagnostics d = lint(dst_quiet[_i], JAN_1_2026);
        for (size_t i = 0; i < d.count; i++)
                diag_fprint(stderr, &d.items[i]);
        ck_assert_uint_eq(d.count, 0);
        diag_free(&d);
}
END_TEST

START_TEST(next_run_more_than_a_year_away)
{
        struct diagnostics d =
                lint("[leap]\nschedule = 0 0 29 2 *\ncommand = x\n", INT64_C(1772323200) /* 2026-03-01 */);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_str_eq(d.items[0].message,
                         "schedule: job 'leap' next runs on 2028-02-29 00:00 UTC, more than a year away");
        diag_free(&d);
        d = lint("[leap]\nschedule = 0 0 29 2 *\ncommand = x\n", INT64_C(1709078400) /* 2024-02-28 */);
        ck_assert_uint_eq(d.count, 0);
        diag_free(&d);
}
END_TEST

START_TEST(step_that_never_repeats_is_named)
{
        struct diagnostics d = lint("[x]\nschedule = 0 */30 * * *\ncommand = x\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 2);
        ck_assert_str_eq(d.items[0].message,
                         "schedule: job 'x' has step 30 in the hour field, which never repeats there: it means hour 0 "
                         "only");
        diag_free(&d);
        d = lint("[x]\nschedule = 0 0 1 */20 *\ncommand = x\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 1);
        ck_assert(
                strstr(d.items[0].message, "step 20 in the month field, which never repeats there: it means month 1"));
        diag_free(&d);
        d = lint("[x]\nschedule = 0 9-17/4 * * *\ncommand = x\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 0);
        diag_free(&d);
}
END_TEST

START_TEST(schedule_that_never_runs_again)
{
        struct diagnostics d = lint("[once]\nschedule = 2020-01-01 00:00\ncommand = x\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 1);
        ck_assert(strstr(d.items[0].message, "job 'once' never runs again"));
        diag_free(&d);
}
END_TEST

START_TEST(timeout_longer_than_interval_with_overlap_allow)
{
        struct diagnostics d =
                lint("[pile]\nschedule = @every 1m\ncommand = x\ntimeout = 5m\noverlap = allow\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 4);
        ck_assert_str_eq(
                d.items[0].message,
                "timeout: job 'pile' may run for 5min but starts every 1min with overlap = allow: runs can pile up");
        diag_free(&d);
        d = lint("[pile]\nschedule = 0 * * * *\ncommand = x\ntimeout = 2h\noverlap = allow\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 1);
        ck_assert(strstr(d.items[0].message, "starts every 1h with overlap = allow"));
        diag_free(&d);
        /* Within the interval, or another overlap policy: nothing to say. */
        d = lint("[ok]\nschedule = 0 * * * *\ncommand = x\ntimeout = 59m\noverlap = allow\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 0);
        diag_free(&d);
        d = lint("[ok]\nschedule = @every 1m\ncommand = x\ntimeout = 5m\noverlap = skip\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 0);
        diag_free(&d);
        /* An inherited timeout is reported at the [defaults] line. */
        d = lint("[defaults]\ntimeout = 1h\noverlap = allow\n[x]\nschedule = */5 * * * *\ncommand = y\n", JAN_1_2026);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 2);
        diag_free(&d);
}
END_TEST

/* With lint_at, a rejected file still says what it would of its sound
 * jobs (tickctl check prints both); a job with an error of its own, or
 * under a broken [defaults], is not linted: its settings are not known. */
START_TEST(rejected_file_lints_the_jobs_without_errors)
{
        struct crontab_options o = options();
        o.lint_at = JAN_1_2026;
        struct diagnostics d = { 0 };
        struct crontab_file *f = (void *)1;
        ck_assert_int_eq(
                load_with("[pile]\nschedule = @every 1m\ncommand = x\ntimeout = 5m\noverlap = allow\n"
                          "[bad]\nschedule = @every 1m\ncommand = x\ntimeout = 5m\noverlap = allow\nbogus = 1\n"
                          "[once]\nschedule = 2020-01-01 00:00\ncommand = x\n",
                          &o, &f, &d),
                -EINVAL);
        ck_assert_ptr_null(f);
        ck_assert_uint_eq(d.count, 3);
        ck_assert_int_eq(d.items[0].severity, DIAG_WARNING);
        ck_assert_uint_eq(d.items[0].line, 4);
        ck_assert(strstr(d.items[0].message, "job 'pile' may run for 5min"));
        ck_assert_int_eq(d.items[1].severity, DIAG_ERROR);
        ck_assert_uint_eq(d.items[1].line, 11);
        ck_assert_int_eq(d.items[2].severity, DIAG_WARNING);
        ck_assert(strstr(d.items[2].message, "job 'once' never runs again"));
        diag_free(&d);

        ck_assert_int_eq(load_with("[defaults]\ntimeout = 5m\novrlap = allow\n"
                                   "[once]\nschedule = 2020-01-01 00:00\ncommand = x\n",
                                   &o, &f, &d),
                         -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_int_eq(d.items[0].severity, DIAG_ERROR);
        diag_free(&d);

        /* Without lint_at (the daemon), no warnings of that kind. */
        o.lint_at = 0;
        ck_assert_int_eq(load_with("[once]\nschedule = 2020-01-01 00:00\ncommand = x\n", &o, &f, &d), 0);
        ck_assert_uint_eq(d.count, 0);
        crontab_file_free(f);
        diag_free(&d);
}
END_TEST

/* ---- files and directories ---- */

static char *tmp;

static void tmp_setup(void) { tmp = harness_tmpdir(); }
static void tmp_teardown(void)
{
        harness_tmpdir_remove(tmp);
        tmp = NULL;
}

static const char GOOD[] = "[%s]\nschedule = * * * * *\ncommand = echo %s\n";

static char *write_job(const char *dir, const char *file, const char *job)
{
        char text[256];
        snprintf(text, sizeof(text), GOOD, job, job);
        return harness_write_file(dir, file, text);
}

START_TEST(load_file_records_identity)
{
        char *path = write_job(tmp, "a.ini", "a");
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(crontab_load_file(path, &o, &f, &d), 0);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_str_eq(f->path, path);
        ck_assert_str_eq(f->jobs[0]->file, path);
        ck_assert(f->identity.dev == st.st_dev && f->identity.ino == st.st_ino && f->identity.size == st.st_size);
        ck_assert_int_eq(f->identity.mtime.tv_sec, st.st_mtim.tv_sec);
        crontab_file_free(f);
        ck_assert_int_eq(crontab_load_file("/nonexistent/x.ini", &o, &f, &d), -ENOENT);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 0);
        diag_free(&d);
        free(path);
}
END_TEST

START_TEST(load_file_reports_real_path_and_line)
{
        char *path = harness_write_file(tmp, "a.ini", "[a]\nschedule = * * * * *\ncommand = x\nshedule = 1\n");
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(crontab_load_file(path, &o, &f, &d), -EINVAL);
        ck_assert_str_eq(d.items[0].file, path);
        ck_assert_uint_eq(d.items[0].line, 4);
        diag_free(&d);
        free(path);
}
END_TEST

/* Loads PATH in system mode; returns the result and the first message. */
static int load_system(const char *path, char *message, size_t size)
{
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f = NULL;
        int r = crontab_load_file(path, &o, &f, &d);
        snprintf(message, size, "%s", d.count ? d.items[0].message : "");
        crontab_file_free(f);
        diag_free(&d);
        return r;
}

START_TEST(system_mode_refuses_unsafe_files)
{
        char msg[512];
        char *path = write_job(tmp, "a.ini", "a");
        ck_assert_int_eq(chown(path, 0, 0), 0);
        ck_assert_int_eq(chmod(path, 0644), 0);
        ck_assert_int_eq(load_system(path, msg, sizeof(msg)), 0);

        ck_assert_int_eq(chmod(path, 0664), 0);
        ck_assert_int_eq(load_system(path, msg, sizeof(msg)), -EPERM);
        ck_assert_str_eq(msg, "refused: file is writable by group (mode 0664); run chmod go-w");
        ck_assert_int_eq(chmod(path, 0646), 0);
        ck_assert_int_eq(load_system(path, msg, sizeof(msg)), -EPERM);
        ck_assert_str_eq(msg, "refused: file is writable by others (mode 0646); run chmod go-w");

        ck_assert_int_eq(chmod(path, 0644), 0);
        ck_assert_int_eq(chown(path, 12345, 0), 0);
        ck_assert_int_eq(load_system(path, msg, sizeof(msg)), -EPERM);
        ck_assert_str_eq(msg, "refused: file is owned by uid 12345, not root");

        /* The daemon never skips the checks; tickctl check on a draft may. */
        struct crontab_options o = options();
        o.ignore_ownership = true;
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(crontab_load_file(path, &o, &f, &d), 0);
        crontab_file_free(f);
        diag_free(&d);
        free(path);
}
END_TEST

START_TEST(symlinks_are_followed_and_targets_checked)
{
        char msg[512], link[4096];
        char *target = write_job(tmp, "target.txt", "a");
        ck_assert_int_eq(chown(target, 0, 0), 0);
        snprintf(link, sizeof(link), "%s/a.ini", tmp);
        ck_assert_int_eq(symlink(target, link), 0);
        /* The link itself is always 0777: only the target counts. */
        ck_assert_int_eq(load_system(link, msg, sizeof(msg)), 0);
        ck_assert_int_eq(chmod(target, 0666), 0);
        ck_assert_int_eq(load_system(link, msg, sizeof(msg)), -EPERM);
        ck_assert_str_eq(msg, "refused: file is writable by group and others (mode 0666); run chmod go-w");
        free(target);
}
END_TEST

static char *make_dir(const char *parent, const char *name)
{
        char *path;
        ck_assert_int_ge(asprintf(&path, "%s/%s", parent, name), 0);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        return path;
}

START_TEST(list_dir_orders_and_skips_leftovers)
{
        char *dir = make_dir(tmp, "jobs.d");
        static const char *const names[] = { "b.ini",        "a.ini",         "10-x.ini",       ".hidden.ini",
                                             "a.ini~",       "a.ini.swp",     "a.ini.dpkg-old", "a.ini.dpkg-dist",
                                             "a.ini.rpmnew", "a.ini.rpmsave", "notes.txt",      "A.ini" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                free(write_job(dir, names[i], "x"));
        char *sub;
        ck_assert_int_ge(asprintf(&sub, "%s/sub.ini", dir), 0);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        struct crontab_options o = options();
        o.ignore_ownership = true;
        struct diagnostics d = { 0 };
        char **paths;
        ck_assert_int_eq(crontab_list_dir(dir, &o, &paths, &d), 0);
        static const char *const expected[] = { "10-x.ini", "A.ini", "a.ini", "b.ini" };
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                ck_assert_ptr_nonnull(paths[i]);
                ck_assert_str_eq(strrchr(paths[i], '/') + 1, expected[i]);
        }
        ck_assert_ptr_null(paths[ELEMENTSOF(expected)]);
        strv_free(paths);
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 0);
        ck_assert_uint_eq(diag_count(&d, DIAG_DEBUG), 8);
        ck_assert_uint_eq(diag_count(&d, DIAG_WARNING), 1);
        bool saw_backup = false, saw_dpkg = false;
        for (size_t i = 0; i < d.count; i++) {
                saw_backup |= strcmp(d.items[i].message, "ignored a.ini~: editor backup") == 0;
                saw_dpkg |= strcmp(d.items[i].message, "ignored a.ini.dpkg-old: package-manager leftover") == 0;
        }
        ck_assert(saw_backup && saw_dpkg);
        diag_free(&d);
        free(sub);
        free(dir);
}
END_TEST

START_TEST(system_mode_refuses_unsafe_directory)
{
        char *dir = make_dir(tmp, "jobs.d");
        free(write_job(dir, "a.ini", "a"));
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        char **paths;
        ck_assert_int_eq(chown(dir, 0, 0), 0);
        ck_assert_int_eq(chmod(dir, 0775), 0);
        ck_assert_int_eq(crontab_list_dir(dir, &o, &paths, &d), -EPERM);
        ck_assert_str_eq(d.items[0].message, "refused: directory is writable by group (mode 0775); run chmod go-w");
        ck_assert_str_eq(d.items[0].file, dir);
        diag_free(&d);
        ck_assert_int_eq(chmod(dir, 0755), 0);
        ck_assert_int_eq(chown(dir, 54321, 0), 0);
        struct crontab_set set;
        ck_assert_int_eq(crontab_load_dir(dir, &o, &set, &d), -EPERM);
        ck_assert_uint_eq(set.n_files, 0);
        ck_assert_str_eq(d.items[0].message, "refused: directory is owned by uid 54321, not root");
        diag_free(&d);
        free(dir);
}
END_TEST

START_TEST(load_dir_rejects_bad_files_and_later_duplicates_only)
{
        char *dir = make_dir(tmp, "jobs.d");
        free(write_job(dir, "10-first.ini", "backup"));
        free(write_job(dir, "20-dup.ini", "backup"));
        free(harness_write_file(dir, "30-bad.ini", "[x]\nschedule = * * * * *\ncommand = y\nnice = 77\n"));
        free(write_job(dir, "40-ok.ini", "other"));
        ck_assert_int_eq(chown(dir, 0, 0), 0);
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_set set;
        ck_assert_int_eq(crontab_load_dir(dir, &o, &set, &d), 0);
        ck_assert_uint_eq(set.n_files, 2);
        ck_assert_str_eq(strrchr(set.files[0]->path, '/') + 1, "10-first.ini");
        ck_assert_str_eq(strrchr(set.files[1]->path, '/') + 1, "40-ok.ini");
        ck_assert_ptr_nonnull(crontab_set_find(&set, "backup"));
        ck_assert_ptr_nonnull(crontab_set_find(&set, "other"));
        ck_assert_ptr_null(crontab_set_find(&set, "x"));
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 2);
        char expected[4096];
        snprintf(expected, sizeof(expected), "job 'backup' already defined at %s/10-first.ini:1", dir);
        ck_assert_str_eq(d.items[0].message, expected);
        ck_assert_uint_eq(d.items[0].line, 1);
        ck_assert(strstr(d.items[0].file, "20-dup.ini"));
        ck_assert_uint_eq(d.items[1].line, 4);
        ck_assert(strstr(d.items[1].file, "30-bad.ini"));
        crontab_set_free(&set);
        diag_free(&d);
        free(dir);
}
END_TEST

START_TEST(load_dir_of_missing_directory)
{
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_set set;
        ck_assert_int_eq(crontab_load_dir("/nonexistent/tickd/jobs.d", &o, &set, &d), -ENOENT);
        ck_assert_uint_eq(d.count, 1);
        diag_free(&d);
}
END_TEST

/* Runs useradd for a fresh user; returns its uid (the name in NAME). */
static uid_t add_user(char *name, size_t size)
{
        uid_t uid;
        harness_user_add("tkct", name, size, &uid, NULL);
        return uid;
}

START_TEST(user_mode_refuses_files_of_others)
{
        char name[64];
        uid_t uid = add_user(name, sizeof(name));
        char *dir = make_dir(tmp, "jobs.d");
        char *mine = write_job(dir, "a.ini", "mine");
        char *theirs = write_job(dir, "b.ini", "theirs");
        char *open_to_all = write_job(dir, "c.ini", "open");
        char *open_to_group = write_job(dir, "d.ini", "group");
        ck_assert_int_eq(chown(dir, uid, 0), 0);
        ck_assert_int_eq(chown(mine, uid, 0), 0);
        ck_assert_int_eq(chown(open_to_all, uid, 0), 0);
        ck_assert_int_eq(chmod(open_to_all, 0666), 0);
        ck_assert_int_eq(chown(open_to_group, uid, 0), 0);
        ck_assert_int_eq(chmod(open_to_group, 0664), 0);
        struct crontab_options o = options();
        o.system_mode = false;
        o.owner_uid = uid;
        o.resolve_users = true;
        struct diagnostics d = { 0 };
        struct crontab_set set;
        int r = crontab_load_dir(dir, &o, &set, &d);
        harness_user_del(name);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(set.n_files, 1);
        ck_assert_str_eq(set.files[0]->jobs[0]->name, "mine");
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 3);
        char expected[256];
        snprintf(expected, sizeof(expected), "refused: file is owned by uid 0, not by uid %u (this instance's user)",
                 (unsigned)uid);
        ck_assert_str_eq(d.items[0].message, expected);
        ck_assert_str_eq(d.items[0].file, theirs);
        ck_assert_str_eq(d.items[1].message,
                         "refused: file is writable by group and others (mode 0666); run chmod go-w");
        /* The user's group may hold others: trusted no more than they are. */
        ck_assert_str_eq(d.items[2].message, "refused: file is writable by group (mode 0664); run chmod go-w");
        crontab_set_free(&set);
        diag_free(&d);
        free(mine);
        free(theirs);
        free(open_to_all);
        free(open_to_group);
        free(dir);
}
END_TEST

START_TEST(check_duplicates_against_a_set)
{
        struct crontab_file *a = load_ok("[x]\nschedule = * * * * *\ncommand = 1\n");
        struct crontab_file *b =
                load_ok("[y]\nschedule = * * * * *\ncommand = 1\n[x]\nschedule = * * * * *\ncommand = 1\n");
        struct crontab_set set = { .files = &a, .n_files = 1 };
        struct diagnostics d = { 0 };
        ck_assert_int_eq(crontab_check_duplicates(&set, b, &d), 1);
        ck_assert_uint_eq(d.items[0].line, 4);
        ck_assert_str_eq(d.items[0].message, "job 'x' already defined at t.ini:1");
        diag_free(&d);
        crontab_file_free(a);
        crontab_file_free(b);
}
END_TEST

/* ---- tickd.conf ---- */

START_TEST(config_missing_file_gives_defaults)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(daemon_config_load("/nonexistent/tickd.conf", NULL, &c, &d), 0);
        ck_assert_uint_eq(d.count, 0);
        ck_assert_ptr_null(c.default_timezone);
        ck_assert_uint_eq(c.shutdown_timeout_usec, 90 * USEC_PER_SEC);
        ck_assert_uint_eq(c.max_concurrent, 0);
        ck_assert_str_eq(c.default_path, CRONTAB_DEFAULT_PATH);
        ck_assert_int_eq(c.log_level, LOG_INFO);
        daemon_config_free(&c);
}
END_TEST

START_TEST(config_reads_every_key)
{
        char *path = harness_write_file(tmp, "tickd.conf",
                                        "# settings\n[daemon]\ndefault_timezone = Europe/Berlin\n"
                                        "shutdown_timeout = 2min\nmax_concurrent = 8\n"
                                        "path = /opt/bin:/usr/bin\nlog_level = debug\n");
        struct daemon_config c;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(daemon_config_load(path, NULL, &c, &d), 0);
        ck_assert_str_eq(c.default_timezone, "Europe/Berlin");
        ck_assert_uint_eq(c.shutdown_timeout_usec, 120 * USEC_PER_SEC);
        ck_assert_uint_eq(c.max_concurrent, 8);
        ck_assert_str_eq(c.default_path, "/opt/bin:/usr/bin");
        ck_assert_int_eq(c.log_level, LOG_DEBUG);
        daemon_config_free(&c);
        free(path);
}
END_TEST

static const struct {
        const char *text;
        unsigned line;
        const char *message;
} config_errors[] = {
        { "[daemon]\nmax_concurent = 3\n", 2, "unknown key 'max_concurent' (did you mean 'max_concurrent'?)" },
        { "[deamon]\n", 1, "unknown section [deamon] (did you mean [daemon]?)" },
        { "[jobs]\n", 1, "unknown section [jobs]" },
        { "log_level = info\n", 1, "'log_level' is outside any section" },
        { "[daemon]\nshutdown_timeout = soon\n", 2, "shutdown_timeout: 'soon' is not a time span" },
        { "[daemon]\nmax_concurrent = -1\n", 2, "max_concurrent: '-1' is not a number" },
        { "[daemon]\npath = bin:/usr/bin\n", 2, "path: 'bin:/usr/bin' is not a list of absolute directories" },
        { "[daemon]\nlog_level = loud\n", 2, "log_level: 'loud' is not one of" },
        { "[daemon]\ndefault_timezone = /etc/localtime\n", 2,
          "default_timezone: '/etc/localtime' is not a time zone name" },
        { "[daemon]\nlog_level = info\nlog_level = debug\n", 3, "'log_level' already set at line 2" },
        { "[daemon]\npath = /bin\n  :/usr/bin\n", 3, "'path' does not take continuation lines" },
};

/* Loads PATH as tickd.conf under RULE; returns the result and the first
 * message, and checks that a refused file leaves the defaults. */
static int load_conf_as(const char *path, const struct crontab_options *rule, char *message, size_t size)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        int r = daemon_config_load(path, rule, &c, &d);
        snprintf(message, size, "%s", d.count ? d.items[0].message : "");
        if (d.count)
                ck_assert_str_eq(d.items[0].file, path);
        ck_assert_str_eq(c.default_path, r < 0 ? CRONTAB_DEFAULT_PATH : "/opt/evil:/usr/bin");
        daemon_config_free(&c);
        diag_free(&d);
        return r;
}

/* tickd.conf's path= is the PATH of root's jobs: it is held to the
 * crontabs' rule, with the same messages. */
START_TEST(config_of_the_system_instance_must_be_roots_alone)
{
        char msg[512];
        char *path = harness_write_file(tmp, "tickd.conf", "[daemon]\npath = /opt/evil:/usr/bin\n");
        struct crontab_options rule = options();
        ck_assert_int_eq(load_conf_as(path, &rule, msg, sizeof(msg)), 0);
        ck_assert_int_eq(chmod(path, 0666), 0);
        ck_assert_int_eq(load_conf_as(path, &rule, msg, sizeof(msg)), -EPERM);
        ck_assert_str_eq(msg, "refused: file is writable by group and others (mode 0666); run chmod go-w");
        ck_assert_int_eq(chmod(path, 0620), 0);
        ck_assert_int_eq(load_conf_as(path, &rule, msg, sizeof(msg)), -EPERM);
        ck_assert_str_eq(msg, "refused: file is writable by group (mode 0620); run chmod go-w");
        ck_assert_int_eq(chmod(path, 0644), 0);
        ck_assert_int_eq(chown(path, 12345, 0), 0);
        ck_assert_int_eq(load_conf_as(path, &rule, msg, sizeof(msg)), -EPERM);
        ck_assert_str_eq(msg, "refused: file is owned by uid 12345, not root");
        /* Content only when asked (tickctl check on a draft). */
        ck_assert_int_eq(load_conf_as(path, NULL, msg, sizeof(msg)), 0);
        rule.ignore_ownership = true;
        ck_assert_int_eq(load_conf_as(path, &rule, msg, sizeof(msg)), 0);
        free(path);
}
END_TEST

START_TEST(config_symlink_to_an_unsafe_file_is_refused)
{
        char msg[512], link[4200];
        char *target = harness_write_file(tmp, "elsewhere", "[daemon]\npath = /opt/evil:/usr/bin\n");
        snprintf(link, sizeof(link), "%s/tickd.conf", tmp);
        ck_assert_int_eq(symlink(target, link), 0);
        struct crontab_options rule = options();
        ck_assert_int_eq(load_conf_as(link, &rule, msg, sizeof(msg)), 0); /* the link's own 0777 does not count */
        ck_assert_int_eq(chown(target, 12345, 0), 0);
        ck_assert_int_eq(load_conf_as(link, &rule, msg, sizeof(msg)), -EPERM);
        ck_assert_str_eq(msg, "refused: file is owned by uid 12345, not root");
        free(target);
}
END_TEST

START_TEST(config_of_a_user_instance_must_be_the_users_alone)
{
        char msg[512], group_msg[512], name[64];
        uid_t uid = add_user(name, sizeof(name));
        char *path = harness_write_file(tmp, "tickd.conf", "[daemon]\npath = /opt/evil:/usr/bin\n");
        struct crontab_options rule = { .system_mode = false, .owner_uid = uid };
        int mine = load_conf_as(path, &rule, msg, sizeof(msg));
        char expected[256];
        snprintf(expected, sizeof(expected), "refused: file is owned by uid 0, not by uid %u (this instance's user)",
                 (unsigned)uid);
        ck_assert_int_eq(chown(path, uid, 0), 0);
        ck_assert_int_eq(chmod(path, 0664), 0);
        int group = load_conf_as(path, &rule, group_msg, sizeof(group_msg));
        harness_user_del(name);
        ck_assert_int_eq(mine, -EPERM);
        ck_assert_str_eq(msg, expected);
        ck_assert_int_eq(group, -EPERM);
        ck_assert_str_eq(group_msg, "refused: file is writable by group (mode 0664); run chmod go-w");
        free(path);
}
END_TEST

/* A FIFO in its place is refused at once: it would hang the daemon. */
START_TEST(config_that_is_no_regular_file_is_refused)
{
        char msg[512], path[4200];
        snprintf(path, sizeof(path), "%s/tickd.conf", tmp);
        ck_assert_int_eq(mkfifo(path, 0644), 0);
        struct crontab_options rule = options();
        ck_assert_int_eq(load_conf_as(path, &rule, msg, sizeof(msg)), -EINVAL);
        ck_assert_str_eq(msg, "not a regular file");
}
END_TEST

/* A symbolic link to nothing is an error, not "no tickd.conf": running on
 * the defaults would hide that the file meant is missing. */
START_TEST(config_that_is_a_dangling_symlink_is_refused)
{
        char msg[512], path[4200];
        snprintf(path, sizeof(path), "%s/tickd.conf", tmp);
        ck_assert_int_eq(symlink("/nonexistent/tickd.conf", path), 0);
        struct crontab_options rule = options();
        ck_assert_int_eq(load_conf_as(path, &rule, msg, sizeof(msg)), -EINVAL);
        ck_assert_str_eq(msg, "a symbolic link to /nonexistent/tickd.conf, which does not exist");
}
END_TEST

START_TEST(config_errors_name_their_line)
{
        struct daemon_config c;
        struct diagnostics d = { 0 };
        const char *t = config_errors[_i].text;
        ck_assert_int_eq(daemon_config_load_buffer("tickd.conf", t, strlen(t), &c, &d), -EINVAL);
        ck_assert_uint_eq(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, config_errors[_i].line);
        ck_assert_msg(strstr(d.items[0].message, config_errors[_i].message), "got: %s", d.items[0].message);
        /* A rejected file leaves every setting at its default. */
        ck_assert_str_eq(c.default_path, CRONTAB_DEFAULT_PATH);
        ck_assert_int_eq(c.log_level, LOG_INFO);
        daemon_config_free(&c);
        diag_free(&d);
}
END_TEST

/* ---- what one file may cost (CRONTAB_MAX_*) ---- */

/* A growing text buffer for the generated files below. */
struct text {
        char *buf;
        size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void text_add(struct text *t, const char *fmt, ...)
{
        char piece[256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(piece, sizeof(piece), fmt, ap);
        va_end(ap);
        ck_assert(n >= 0 && (size_t)n < sizeof(piece));
        if (t->len + (size_t)n + 1 > t->cap) {
                t->cap = (t->len + (size_t)n + 1) * 2;
                t->buf = realloc(t->buf, t->cap);
                ck_assert_ptr_nonnull(t->buf);
        }
        memcpy(t->buf + t->len, piece, (size_t)n + 1);
        t->len += (size_t)n;
}

/* Appends PIECE COUNT times, with one allocation. */
static void text_repeat(struct text *t, const char *piece, size_t count)
{
        size_t n = strlen(piece);
        t->cap = t->len + n * count + 1;
        t->buf = realloc(t->buf, t->cap);
        ck_assert_ptr_nonnull(t->buf);
        for (size_t i = 0; i < count; i++, t->len += n)
                memcpy(t->buf + t->len, piece, n);
        t->buf[t->len] = '\0';
}

/* Loads T; returns the result, with the diagnostics in D. */
static int load_text(const struct text *t, struct diagnostics *d)
{
        struct crontab_options o = options();
        struct crontab_file *f = (void *)1;
        int r = crontab_load_buffer("t.ini", t->buf, t->len, &o, &f, d);
        if (r == 0)
                crontab_file_free(f);
        else
                ck_assert_ptr_null(f);
        return r;
}

static const struct diagnostic *find_error(const struct diagnostics *d, unsigned line, const char *expected)
{
        for (size_t i = 0; i < d->count; i++)
                if (d->items[i].severity == DIAG_ERROR && d->items[i].line == line &&
                    strcmp(d->items[i].file, "t.ini") == 0 && strstr(d->items[i].message, expected))
                        return &d->items[i];
        for (size_t i = 0; i < d->count && i < 10; i++)
                diag_fprint(stderr, &d->items[i]);
        ck_abort_msg("no error at t.ini:%u containing \"%s\"", line, expected);
        return NULL;
}

/* 100,000 distinct variables took 28 s (each line scanned the ones
 * before); past the per-job limit the file is refused, once, at the line
 * of the first variable too many. */
START_TEST(hundred_thousand_environment_lines_hit_the_variable_limit)
{
        struct text t = { 0 };
        text_add(&t, JOB);
        for (int i = 0; i < 100000; i++)
                text_add(&t, "environment = VAR_%d=%d\n", i, i);
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load_text(&t, &d), -EINVAL);
        find_error(&d, 4 + CRONTAB_MAX_ENVIRONMENT, "environment: more than 256 variables");
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 1);
        diag_free(&d);
        free(t.buf);
}
END_TEST

START_TEST(environment_limit_counts_defaults_and_replacements_do_not_count)
{
        struct text t = { 0 };
        text_add(&t, "[defaults]\n");
        for (int i = 0; i < CRONTAB_MAX_ENVIRONMENT - 1; i++)
                text_add(&t, "environment = D_%d=1\n", i);
        text_add(&t, JOB "environment = D_0=2\nenvironment = OWN=1\nenvironment = OWN=2\n");
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load_text(&t, &d), 0);
        diag_free(&d);
        text_add(&t, "environment = ONE_TOO_MANY=1\n");
        ck_assert_int_eq(load_text(&t, &d), -EINVAL);
        find_error(&d, (unsigned)CRONTAB_MAX_ENVIRONMENT + 7, "more than 256 variables");
        diag_free(&d);
        free(t.buf);
}
END_TEST

/* A million continuation lines took 16 s (each one recounted the value);
 * the joined value is bounded, and crossing the bound is one error. */
START_TEST(million_continuation_lines_hit_the_value_limit)
{
        struct text t = { 0 };
        text_add(&t, "[j]\nschedule = * * * * *\ncommand = x\n");
        text_repeat(&t, " y\n", 1000000);
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load_text(&t, &d), -EINVAL);
        /* "x" then "\ny" per line: line 3 + k holds the k-th; 1 + 2k bytes. */
        unsigned crossing = 3 + (INIFILE_MAX_VALUE - 1) / 2 + 1;
        find_error(&d, crossing, "'command' is longer than 65536 bytes with its continuation lines");
        ck_assert_uint_eq(diag_count(&d, DIAG_ERROR), 1);
        diag_free(&d);
        free(t.buf);
}
END_TEST

START_TEST(value_just_under_the_limit_is_whole)
{
        struct text t = { 0 };
        text_add(&t, "[j]\nschedule = * * * * *\ncommand = x\n");
        text_repeat(&t, " y\n", (INIFILE_MAX_VALUE - 1) / 2);
        struct crontab_options o = options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(crontab_load_buffer("t.ini", t.buf, t.len, &o, &f, &d), 0);
        ck_assert_uint_eq(strlen(f->jobs[0]->command), INIFILE_MAX_VALUE - 1);
        crontab_file_free(f);
        diag_free(&d);
        free(t.buf);
}
END_TEST

START_TEST(file_over_the_entry_limit_is_refused_at_that_line)
{
        struct text t = { 0 };
        text_add(&t, "[defaults]\n");
        for (int i = 0; i < CRONTAB_MAX_ENTRIES; i++)
                text_add(&t, "environment = SAME=%d\n", i);
        struct diagnostics d = { 0 };
        /* The header and 199,999 entries: at the limit, loaded. */
        t.len -= strlen("environment = SAME=199999\n");
        ck_assert_int_eq(load_text(&t, &d), 0);
        diag_free(&d);
        t.len += strlen("environment = SAME=199999\n");
        text_add(&t, "bad line after the limit\n");
        ck_assert_int_eq(load_text(&t, &d), -EINVAL);
        find_error(&d, CRONTAB_MAX_ENTRIES + 1, "more than 200000 sections and keys in one file");
        /* Nothing past the limit is read, so nothing past it is reported. */
        ck_assert_uint_eq(d.count, 1);
        diag_free(&d);
        free(t.buf);
}
END_TEST

START_TEST(diagnostics_are_capped_with_a_count_of_the_rest)
{
        struct text t = { 0 };
        for (int i = 0; i < 1000; i++)
                text_add(&t, "not a key line %d\n", i);
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load_text(&t, &d), -EINVAL);
        ck_assert_uint_eq(d.count, CRONTAB_MAX_DIAGNOSTICS + 1);
        ck_assert_uint_eq(d.items[CRONTAB_MAX_DIAGNOSTICS - 1].line, CRONTAB_MAX_DIAGNOSTICS);
        const struct diagnostic *last = &d.items[CRONTAB_MAX_DIAGNOSTICS];
        ck_assert_int_eq(last->severity, DIAG_ERROR);
        ck_assert_str_eq(last->file, "t.ini");
        ck_assert_uint_eq(last->line, 0);
        ck_assert_str_eq(last->message, "\u2026 and 900 more errors");
        diag_free(&d);
        free(t.buf);
}
END_TEST

START_TEST(only_the_first_unknown_keys_get_a_suggestion)
{
        struct text t = { 0 };
        text_add(&t, "[a]\nschedule = @daily\ncommand = true\n");
        for (int i = 0; i < CRONTAB_MAX_SUGGESTIONS + 2; i++)
                text_add(&t, "comand%c = true\n", 'a' + i);
        struct diagnostics d = { 0 };
        ck_assert_int_eq(load_text(&t, &d), -EINVAL);
        ck_assert_uint_eq(d.count, CRONTAB_MAX_SUGGESTIONS + 2);
        ck_assert_str_eq(d.items[0].message, "unknown key 'comanda' (did you mean 'command'?)");
        ck_assert_str_eq(d.items[CRONTAB_MAX_SUGGESTIONS - 1].message,
                         "unknown key 'comandj' (did you mean 'command'?)");
        ck_assert_str_eq(d.items[CRONTAB_MAX_SUGGESTIONS].message, "unknown key 'comandk'");
        diag_free(&d);
        free(t.buf);

        /* tickd.conf likewise. */
        struct text c = { 0 };
        text_add(&c, "[daemon]\n");
        for (int i = 0; i < CRONTAB_MAX_SUGGESTIONS + 1; i++)
                text_add(&c, "path%c = /bin\n", 'a' + i);
        struct daemon_config config;
        ck_assert_int_eq(daemon_config_load_buffer("tickd.conf", c.buf, c.len, &config, &d), -EINVAL);
        ck_assert_uint_eq(d.count, CRONTAB_MAX_SUGGESTIONS + 1);
        ck_assert_str_eq(d.items[0].message, "unknown key 'patha' (did you mean 'path'?)");
        ck_assert_str_eq(d.items[CRONTAB_MAX_SUGGESTIONS].message, "unknown key 'pathk'");
        daemon_config_free(&config);
        diag_free(&d);
        free(c.buf);
}
END_TEST

START_TEST(config_diagnostics_are_capped_like_a_crontab_s)
{
        struct text t = { 0 };
        text_add(&t, "[daemon]\n");
        for (int i = 0; i < 1000; i++)
                text_add(&t, "schedulle_%d = x\n", i);
        struct diagnostics d = { 0 };
        struct daemon_config c;
        ck_assert_int_eq(daemon_config_load_buffer("tickd.conf", t.buf, t.len, &c, &d), -EINVAL);
        ck_assert_uint_eq(d.count, CRONTAB_MAX_DIAGNOSTICS + 1);
        ck_assert_str_eq(d.items[0].message, "unknown key 'schedulle_0'");
        ck_assert_str_eq(d.items[0].key, "schedulle_0");
        ck_assert_str_eq(d.items[0].file, "tickd.conf");
        ck_assert_str_eq(d.items[CRONTAB_MAX_DIAGNOSTICS].message, "\u2026 and 900 more errors");
        daemon_config_free(&c);
        diag_free(&d);
        free(t.buf);
}
END_TEST

/* sd-bus refuses a string that is not UTF-8: one such value made every
 * tickctl list fail. */
static const struct {
        const char *line;
        unsigned byte;
} bad_utf8[] = {
        { "description = caf\xc3", 4 },           /* truncated sequence */
        { "description = ab\xff", 3 },            /* never valid */
        { "on_failure = echo \xc0\xaf", 6 },      /* overlong '/' */
        { "on_failure = echo \xed\xa0\x80", 6 },  /* a surrogate */
        { "on_failure = x \xf4\x90\x80\x80", 3 }, /* past U+10FFFF */
        { "environment = A=\x80", 3 },
        { "working_directory = /srv/\xe2\x82", 6 },
};

START_TEST(invalid_utf8_is_refused_at_its_line_and_byte)
{
        char *text;
        ck_assert_int_ge(asprintf(&text, JOB "%s\n", bad_utf8[_i].line), 0);
        char expected[64];
        snprintf(expected, sizeof(expected), "not valid UTF-8 at byte %u of the value", bad_utf8[_i].byte);
        assert_error(text, 4, expected);
        free(text);
}
END_TEST

START_TEST(valid_utf8_is_kept)
{
        struct crontab_file *f = load_ok(JOB "description = Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9d\x84\x9e\n");
        ck_assert_str_eq(job_extra(f->jobs[0])->description, "Caf\xc3\xa9 \xe2\x98\x95 \xf0\x9d\x84\x9e");
        crontab_file_free(f);
}
END_TEST

/* The daemon makes no look-ups: user mode must still refuse root. */
START_TEST(user_mode_refuses_root_without_a_lookup)
{
        struct crontab_options o = options();
        o.system_mode = false;
        o.owner_uid = 4242;
        assert_error_with(JOB "user = root\n", &o, 4,
                          "user mode: jobs run as the instance's user only; user = root is not allowed");
        o.owner_name = "alice";
        assert_error_with(JOB "user = bob\n", &o, 4,
                          "user mode: jobs run as the instance's user only; user = bob is not allowed");
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with(JOB "user = alice\n", &o, &f, &d), 0);
        ck_assert_str_eq(f->jobs[0]->user, "alice");
        crontab_file_free(f);
        diag_free(&d);
}
END_TEST

/* ---- scope ---- */

static struct crontab_options fleet_options(void)
{
        struct crontab_options o = options();
        o.fleet_configured = true;
        return o;
}

START_TEST(scope_fleet_needs_a_fleet_section)
{
        static const char message[] = "scope = fleet needs a [fleet] section in tickd.conf";
        assert_error(JOB "scope = fleet\n", 4, message);
        assert_error("[defaults]\nscope = fleet\n\n" JOB, 2, message);
        /* scope = host needs nothing. */
        crontab_file_free(load_ok(JOB "scope = host\n"));
}
END_TEST

START_TEST(scope_is_read_and_defaults_apply)
{
        struct crontab_options o = fleet_options();
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with("[defaults]\nscope = fleet\n\n"
                                   "[a]\nschedule = * * * * *\ncommand = true\n"
                                   "[b]\nschedule = * * * * *\ncommand = true\nscope = host\n"
                                   "[c]\nschedule = * * * * *\ncommand = true\nscope = fleet\n",
                                   &o, &f, &d),
                         0);
        ck_assert_uint_eq(d.count, 0);
        ck_assert_int_eq(f->jobs[0]->scope, JOB_SCOPE_FLEET);
        ck_assert_int_eq(f->jobs[1]->scope, JOB_SCOPE_HOST);
        ck_assert_int_eq(f->jobs[2]->scope, JOB_SCOPE_FLEET);
        crontab_file_free(f);
}
END_TEST

/* Each host boots on its own: an @reboot job cannot be claimed once. */
START_TEST(reboot_job_cannot_have_fleet_scope)
{
        static const char message[] = "@reboot runs once per boot of each host; scope = fleet cannot apply";
        struct crontab_options o = fleet_options();
        assert_error_with("[j]\nschedule = @reboot\ncommand = true\nscope = fleet\n", &o, 4, message);
        /* Inherited: at the job's schedule line. */
        assert_error_with("[defaults]\nscope = fleet\n[j]\ncommand = true\nschedule = @reboot\n", &o, 5, message);
        struct diagnostics d = { 0 };
        struct crontab_file *f;
        ck_assert_int_eq(load_with("[defaults]\nscope = fleet\n[j]\nschedule = @reboot\ncommand = true\n"
                                   "scope = host\n",
                                   &o, &f, &d),
                         0);
        crontab_file_free(f);
        diag_free(&d);
}
END_TEST

static Suite *crontab_suite(void)
{
        Suite *s = suite_create("crontab");
        TCase *tc = tcase_create("format");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
        tcase_add_test(tc, minimal_job_gets_the_defaults);
        tcase_add_test(tc, every_key_is_read);
        tcase_add_test(tc, loaded_job_is_one_block_and_keeps_every_field);
        tcase_add_test(tc, a_job_with_every_optional_field_unset_has_no_extra);
        tcase_add_test(tc, jobs_with_the_same_schedule_text_share_one_schedule);
        tcase_add_test(tc, many_distinct_schedules_keep_their_texts_across_blocks);
        tcase_add_test(tc, a_buffer_past_the_file_size_limit_is_refused_and_lines_near_it_are_kept);
        tcase_add_loop_test(tc, booleans_accept_every_spelling, 0, ELEMENTSOF(booleans));
        tcase_add_test(tc, overlap_values);
        tcase_add_test(tc, timeout_zero_and_infinity_mean_none);
        tcase_add_test(tc, jobs_keep_file_order);
        tcase_add_test(tc, defaults_apply_to_every_job_and_jobs_override);
        tcase_add_test(tc, command_is_verbatim_with_semicolons_and_hashes);
        tcase_add_test(tc, inih_settings_cannot_change_what_we_read);
        tcase_add_test(tc, value_keeps_equals_signs_and_quotes);
        tcase_add_test(tc, environment_is_unquoted_as_systemd);
        tcase_add_test(tc, environment_quote_errors_name_the_line);
        tcase_add_test(tc, stdin_is_unquoted_with_its_newlines_and_empty_is_none);
        tcase_add_test(tc, stdin_errors_name_the_line_and_it_is_per_job_only);
        tcase_add_test(tc, environment_later_setting_replaces);
        tcase_add_test(tc, continuation_lines_join_the_command);
        tcase_add_test(tc, repeated_key_is_not_a_continuation);
        tcase_add_test(tc, value_may_start_on_the_continuation_line);
        tcase_add_test(tc, bad_continuation_does_not_also_report_missing_key);
        tcase_add_test(tc, empty_and_comment_only_files_load_no_jobs);
        tcase_add_test(tc, crlf_line_endings);
        tcase_add_test(tc, utf8_bom_is_skipped);
        tcase_add_loop_test(tc, long_lines_arrive_whole, 0, ELEMENTSOF(accepted_lengths));
        tcase_add_loop_test(tc, over_long_line_is_an_error_on_its_line, 0, ELEMENTSOF(refused_lengths));
        tcase_add_test(tc, long_continuation_line_is_an_error_on_its_line);
        tcase_add_loop_test(tc, each_error_names_its_line, 0, ELEMENTSOF(errors));
        tcase_add_test(tc, crontab_line_is_recognised_and_rewritten);
        tcase_add_test(tc, error_diagnostics_carry_the_key);
        tcase_add_test(tc, one_error_rejects_the_whole_file);
        tcase_add_test(tc, every_error_of_a_file_is_reported);
        tcase_add_test(tc, bad_value_does_not_also_report_missing_key);
        tcase_add_test(tc, keys_under_a_bad_header_do_not_fall_to_the_job_above);
        tcase_add_test(tc, ten_thousand_jobs_load);
        tcase_add_test(tc, users_and_groups_are_resolved);
        tcase_add_test(tc, user_mode_jobs_run_as_the_owner_only);
        tcase_add_test(tc, missing_program_is_a_warning);
        tcase_add_test(tc, command_program_extraction);
        tcase_add_test(tc, suggestions_need_a_close_match);
        tcase_add_test(tc, edit_distance_is_exact_up_to_its_bound);
        tcase_add_test(tc, check_duplicates_against_a_set);
        tcase_add_test(tc, scope_fleet_needs_a_fleet_section);
        tcase_add_test(tc, scope_is_read_and_defaults_apply);
        tcase_add_test(tc, reboot_job_cannot_have_fleet_scope);
        suite_add_tcase(s, tc);

        tc = tcase_create("warnings");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
        tcase_add_test(tc, fixed_time_in_dst_gap_and_overlap_is_named);
        tcase_add_test(tc, dst_warning_follows_the_zone_rules);
        tcase_add_loop_test(tc, no_dst_warning_for_cadence_or_safe_times, 0, ELEMENTSOF(dst_quiet));
        tcase_add_test(tc, next_run_more_than_a_year_away);
        tcase_add_test(tc, schedule_that_never_runs_again);
        tcase_add_test(tc, step_that_never_repeats_is_named);
        tcase_add_test(tc, timeout_longer_than_interval_with_overlap_allow);
        tcase_add_test(tc, rejected_file_lints_the_jobs_without_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("files");
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
        tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
        tcase_add_test(tc, load_file_records_identity);
        tcase_add_test(tc, load_file_reports_real_path_and_line);
        tcase_add_test(tc, system_mode_refuses_unsafe_files);
        tcase_add_test(tc, symlinks_are_followed_and_targets_checked);
        tcase_add_test(tc, list_dir_orders_and_skips_leftovers);
        tcase_add_test(tc, system_mode_refuses_unsafe_directory);
        tcase_add_test(tc, load_dir_rejects_bad_files_and_later_duplicates_only);
        tcase_add_test(tc, load_dir_of_missing_directory);
        tcase_add_test(tc, user_mode_refuses_files_of_others);
        tcase_add_test(tc, config_missing_file_gives_defaults);
        tcase_add_test(tc, config_reads_every_key);
        tcase_add_test(tc, config_of_the_system_instance_must_be_roots_alone);
        tcase_add_test(tc, config_symlink_to_an_unsafe_file_is_refused);
        tcase_add_test(tc, config_of_a_user_instance_must_be_the_users_alone);
        tcase_add_test(tc, config_that_is_no_regular_file_is_refused);
        tcase_add_test(tc, config_that_is_a_dangling_symlink_is_refused);
        tcase_add_loop_test(tc, config_errors_name_their_line, 0, ELEMENTSOF(config_errors));
        suite_add_tcase(s, tc);

        tc = tcase_create("limits");
        tcase_add_leak_fixture(tc);
        /* Whole files of 100,000 lines and more under ASan, beside other
         * suites: the caps are what is asserted, never the speed. */
        tcase_set_timeout(tc, 30);
        tcase_add_checked_fixture(tc, zones_setup, zones_teardown);
        tcase_add_loop_test(tc, invalid_utf8_is_refused_at_its_line_and_byte, 0, ELEMENTSOF(bad_utf8));
        tcase_add_test(tc, valid_utf8_is_kept);
        tcase_add_test(tc, user_mode_refuses_root_without_a_lookup);
        tcase_add_test(tc, hundred_thousand_environment_lines_hit_the_variable_limit);
        tcase_add_test(tc, environment_limit_counts_defaults_and_replacements_do_not_count);
        tcase_add_test(tc, million_continuation_lines_hit_the_value_limit);
        tcase_add_test(tc, value_just_under_the_limit_is_whole);
        tcase_add_test(tc, file_over_the_entry_limit_is_refused_at_that_line);
        tcase_add_test(tc, diagnostics_are_capped_with_a_count_of_the_rest);
        tcase_add_test(tc, config_diagnostics_are_capped_like_a_crontab_s);
        tcase_add_test(tc, only_the_first_unknown_keys_get_a_suggestion);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(crontab_suite)
