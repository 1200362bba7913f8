/* test-limits.c — resource limit values, their cgroup attributes, run
 * cgroup names, and the crontab keys that carry them (issue 19). */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "harness/harness.h"
#include "core/crontab.h"
#include "core/limits.h"

START_TEST(bytes_take_systemd_suffixes_base_1024)
{
        uint64_t v = 0;
        ck_assert_int_eq(limits_parse_bytes("50M", &v), 0);
        ck_assert_uint_eq(v, 50ull << 20);
        ck_assert_int_eq(limits_parse_bytes("512K", &v), 0);
        ck_assert_uint_eq(v, 512ull << 10);
        ck_assert_int_eq(limits_parse_bytes("1.5G", &v), 0);
        ck_assert_uint_eq(v, 3ull << 29);
        ck_assert_int_eq(limits_parse_bytes("2T", &v), 0);
        ck_assert_uint_eq(v, 2ull << 40);
        ck_assert_int_eq(limits_parse_bytes("4096", &v), 0);
        ck_assert_uint_eq(v, 4096);
        ck_assert_int_eq(limits_parse_bytes("infinity", &v), 0);
        ck_assert_uint_eq(v, LIMIT_INFINITY);
}
END_TEST

START_TEST(bytes_reject_what_systemd_rejects)
{
        static const char *const bad[] = { "", "M", "50MB", "50 M", "-1", "1.5", "50m", "x", "5M5" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint64_t v = 7;
                ck_assert_msg(limits_parse_bytes(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
                ck_assert_uint_eq(v, 7);
        }
        uint64_t v = 7;
        ck_assert_int_eq(limits_parse_bytes("0", &v), -ERANGE);
        ck_assert_int_eq(limits_parse_bytes("99999999T", &v), -ERANGE);
        ck_assert_uint_eq(v, 7);
}
END_TEST

START_TEST(cpu_quota_is_a_percentage_of_one_cpu)
{
        uint32_t q = 0;
        ck_assert_int_eq(limits_parse_cpu_quota("50%", &q), 0);
        ck_assert_uint_eq(q, 50);
        ck_assert_int_eq(limits_parse_cpu_quota("250%", &q), 0);
        ck_assert_uint_eq(q, 250);
        ck_assert_int_eq(limits_parse_cpu_quota("50", &q), -EINVAL);
        ck_assert_int_eq(limits_parse_cpu_quota("%", &q), -EINVAL);
        ck_assert_int_eq(limits_parse_cpu_quota("-5%", &q), -EINVAL);
        ck_assert_int_eq(limits_parse_cpu_quota("0%", &q), -ERANGE);
        ck_assert_int_eq(limits_parse_cpu_quota("100001%", &q), -ERANGE);
        ck_assert_uint_eq(q, 250);
}
END_TEST

START_TEST(tasks_and_io_weight_ranges)
{
        uint64_t t = 0;
        uint32_t w = 0;
        ck_assert_int_eq(limits_parse_tasks("20", &t), 0);
        ck_assert_uint_eq(t, 20);
        ck_assert_int_eq(limits_parse_tasks("infinity", &t), 0);
        ck_assert_uint_eq(t, LIMIT_INFINITY);
        ck_assert_int_eq(limits_parse_tasks("0", &t), -ERANGE);
        ck_assert_int_eq(limits_parse_tasks("20k", &t), -EINVAL);
        ck_assert_int_eq(limits_parse_io_weight("100", &w), 0);
        ck_assert_uint_eq(w, 100);
        ck_assert_int_eq(limits_parse_io_weight("10000", &w), 0);
        ck_assert_int_eq(limits_parse_io_weight("10001", &w), -ERANGE);
        ck_assert_int_eq(limits_parse_io_weight("0", &w), -ERANGE);
        ck_assert_int_eq(limits_parse_io_weight("", &w), -EINVAL);
}
END_TEST

START_TEST(limits_map_to_cgroup_attributes)
{
        struct limit_attribute a[4];
        struct job_limits none = { 0 };
        ck_assert(!limits_any(&none));
        ck_assert_uint_eq(limits_attributes(&none, a), 0);
        struct job_limits l = { .memory_max = 50ull << 20, .cpu_quota = 50, .tasks_max = 20, .io_weight = 300 };
        ck_assert(limits_any(&l));
        ck_assert_uint_eq(limits_attributes(&l, a), 4);
        ck_assert_str_eq(a[0].file, "memory.max");
        ck_assert_str_eq(a[0].value, "52428800");
        ck_assert_str_eq(a[0].controller, "memory");
        ck_assert_str_eq(a[1].file, "cpu.max");
        ck_assert_str_eq(a[1].value, "50000 100000");
        ck_assert_str_eq(a[2].file, "pids.max");
        ck_assert_str_eq(a[2].value, "20");
        ck_assert_str_eq(a[2].controller, "pids");
        ck_assert_str_eq(a[3].file, "io.weight");
        ck_assert_str_eq(a[3].value, "default 300");
        struct job_limits inf = { .memory_max = LIMIT_INFINITY, .tasks_max = LIMIT_INFINITY };
        ck_assert_uint_eq(limits_attributes(&inf, a), 2);
        ck_assert_str_eq(a[0].value, "max");
        ck_assert_str_eq(a[1].value, "max");
}
END_TEST

START_TEST(cgroup_name_shows_job_and_run)
{
        char buf[256];
        ck_assert_int_eq(limits_cgroup_name("backup-db", "0123abcd", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "run-backup-db-0123abcd");
        /* A job name may hold '/' or spaces; the name stays one component. */
        ck_assert_int_eq(limits_cgroup_name("a/b c", "ff", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "run-a\\x2fb\\x20c-ff");
        ck_assert_ptr_null(strchr(buf, '/'));
        ck_assert_int_eq(limits_cgroup_name("..", "1", buf, sizeof(buf)), 0);
        ck_assert_str_eq(buf, "run-..-1");
}
END_TEST

START_TEST(cgroup_name_too_long_is_refused)
{
        char job[300];
        memset(job, 'j', sizeof(job) - 1);
        job[sizeof(job) - 1] = '\0';
        char buf[512];
        ck_assert_int_eq(limits_cgroup_name(job, "0123456789abcdef0123456789abcdef", buf, sizeof(buf)), -ENAMETOOLONG);
        job[200] = '\0';
        ck_assert_int_eq(limits_cgroup_name(job, "0123456789abcdef0123456789abcdef", buf, sizeof(buf)), 0);
        ck_assert_uint_le(strlen(buf), NAME_MAX);
        char small[8];
        ck_assert_int_eq(limits_cgroup_name("job", "1", small, sizeof(small)), -ENAMETOOLONG);
}
END_TEST

static struct crontab_file *load(const char *text, struct diagnostics *d, int *r)
{
        struct crontab_options o = { .system_mode = true, .ignore_ownership = true };
        struct crontab_file *f = NULL;
        o.zones = tz_cache_new(NULL);
        *r = crontab_load_buffer("t.ini", text, strlen(text), &o, &f, d);
        tz_cache_free(o.zones);
        return f;
}

START_TEST(crontab_keys_set_the_job_limits)
{
        struct diagnostics d = { 0 };
        int r;
        struct crontab_file *f = load("[defaults]\ntasks_max = 100\n"
                                      "[j]\nschedule = daily\ncommand = true\nmemory_max = 50M\n"
                                      "cpu_quota = 20%\nio_weight = 50\nkill_leftovers = no\npam = yes\n"
                                      "[k]\nschedule = daily\ncommand = true\n",
                                      &d, &r);
        ck_assert_int_eq(r, 0);
        const struct job *j = f->jobs[0], *k = f->jobs[1];
        ck_assert_uint_eq(job_extra(j)->limits.memory_max, 50ull << 20);
        ck_assert_uint_eq(job_extra(j)->limits.cpu_quota, 20);
        ck_assert_uint_eq(job_extra(j)->limits.io_weight, 50);
        ck_assert_uint_eq(job_extra(j)->limits.tasks_max, 100);
        ck_assert(!j->kill_leftovers);
        ck_assert_int_eq(job_extra(j)->pam, 1);
        ck_assert_uint_eq(job_extra(k)->limits.memory_max, 0);
        ck_assert_uint_eq(job_extra(k)->limits.tasks_max, 100);
        ck_assert(k->kill_leftovers);
        ck_assert_int_eq(job_extra(k)->pam, -1);
        crontab_file_free(f);
        diag_free(&d);
}
END_TEST

START_TEST(crontab_rejects_bad_limits_by_line)
{
        struct diagnostics d = { 0 };
        int r;
        struct crontab_file *f = load("[j]\nschedule = daily\ncommand = true\nmemory_max = lots\n", &d, &r);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_ptr_null(f);
        ck_assert_uint_ge(d.count, 1);
        ck_assert_uint_eq(d.items[0].line, 4);
        ck_assert_ptr_nonnull(strstr(d.items[0].message, "memory_max: 'lots' is not a size"));
        diag_free(&d);
}
END_TEST

static Suite *limits_suite(void)
{
        Suite *s = suite_create("limits");
        TCase *tc = tcase_create("limits");
        tcase_add_test(tc, bytes_take_systemd_suffixes_base_1024);
        tcase_add_test(tc, bytes_reject_what_systemd_rejects);
        tcase_add_test(tc, cpu_quota_is_a_percentage_of_one_cpu);
        tcase_add_test(tc, tasks_and_io_weight_ranges);
        tcase_add_test(tc, limits_map_to_cgroup_attributes);
        tcase_add_test(tc, cgroup_name_shows_job_and_run);
        tcase_add_test(tc, cgroup_name_too_long_is_refused);
        tcase_add_test(tc, crontab_keys_set_the_job_limits);
        tcase_add_test(tc, crontab_rejects_bad_limits_by_line);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(limits_suite)
