/* test-job-hash.c — the fingerprint fleet nodes compare: it changes with
 * what a job does and not with how it is described or where it is
 * written. */
#include <stdlib.h>
#include <string.h>

#include "core/crontab.h"
#include "core/diag.h"
#include "core/job-hash.h"
#include "core/tz.h"
#include "harness/harness.h"

/* The fingerprint of the one job in TEXT. */
static void hash_of(const char *text, char out[static JOB_HASH_LEN])
{
        struct tz_cache *zones = tz_cache_new(NULL);
        struct crontab_options o = { .system_mode = true, .zones = zones, .fleet_configured = true };
        struct crontab_file *f = NULL;
        struct diagnostics d = { 0 };
        ck_assert_int_eq(crontab_load_buffer("t.ini", text, strlen(text), &o, &f, &d), 0);
        ck_assert_uint_eq(f->n_jobs, 1);
        job_hash(f->jobs[0], out);
        crontab_file_free(f);
        diag_free(&d);
        tz_cache_free(zones);
}

#define BASE "[j]\nschedule = @hourly\ncommand = /usr/bin/backup\nscope = fleet\n"

START_TEST(same_job_same_hash_whatever_its_description_or_place)
{
        char a[JOB_HASH_LEN], b[JOB_HASH_LEN];
        hash_of(BASE, a);
        ck_assert_uint_eq(strlen(a), 16);
        ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 16);
        hash_of("\n\n# moved down, described\n" BASE "description = nightly backup\n", b);
        ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(what_it_does_changes_the_hash)
{
        static const char *const variants[] = {
                "[j]\nschedule = @daily\ncommand = /usr/bin/backup\nscope = fleet\n",
                "[j]\nschedule = @hourly\ncommand = /usr/bin/backup -v\nscope = fleet\n",
                BASE "timeout = 5min\n",
                BASE "environment = A=1\n",
                BASE "overlap = queue\n",
                BASE "timezone = Europe/Berlin\n",
                BASE "persistent = yes\n",
                BASE "working_directory = /tmp\n",
                BASE "stdin = y\n",
                "[j]\nschedule = @hourly\ncommand = /usr/bin/backup\n", /* scope = host */
        };
        char base[JOB_HASH_LEN], other[JOB_HASH_LEN];
        hash_of(BASE, base);
        for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
                hash_of(variants[i], other);
                ck_assert_msg(strcmp(base, other) != 0, "variant %zu hashes like the base: %s", i, variants[i]);
        }
}
END_TEST

static Suite *job_hash_suite(void)
{
        Suite *s = suite_create("job-hash");
        TCase *tc = tcase_create("hash");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, same_job_same_hash_whatever_its_description_or_place);
        tcase_add_test(tc, what_it_does_changes_the_hash);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(job_hash_suite)
