/* test-fleet-record.c — the fleet's keys and JSON records: what the daemon
 * writes, tickctl reads back the same; keys sort by instant; a node of
 * another version may add or leave out members. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness/harness.h"
#include "shared/fleet-record.h"

START_TEST(record_round_trips_through_json)
{
        struct fleet_record r = { .scheduled_usec = 1796530000000000,
                                  .claimed_usec = 1796530000001000,
                                  .duration_usec = 25000,
                                  .has_exit_status = true,
                                  .exit_status = 0 };
        strcpy(r.job, "backup");
        strcpy(r.node, "web-1");
        strcpy(r.run_id, "0123456789abcdef0123456789abcdef");
        strcpy(r.hash, "00ff00ff00ff00ff");
        strcpy(r.state, "succeeded");
        strcpy(r.reason, "a \"quoted\" reason\n");
        char *json = fleet_record_to_json(&r);
        ck_assert_ptr_nonnull(json);
        struct fleet_record back;
        ck_assert_int_eq(fleet_record_from_json(json, strlen(json), &back), 0);
        ck_assert_str_eq(back.job, "backup");
        ck_assert_str_eq(back.node, "web-1");
        ck_assert_str_eq(back.run_id, r.run_id);
        ck_assert_str_eq(back.hash, r.hash);
        ck_assert_str_eq(back.state, "succeeded");
        ck_assert_str_eq(back.reason, r.reason);
        ck_assert(back.scheduled_usec == r.scheduled_usec && back.claimed_usec == r.claimed_usec);
        ck_assert(back.duration_usec == 25000 && back.has_exit_status && back.exit_status == 0);
        free(json);
}
END_TEST

START_TEST(other_versions_records_are_read_and_garbage_is_not)
{
        const char *newer = "{\"node\":\"b\",\"state\":\"started\",\"future\":[1,2],\"exit_status\":\"x\"}";
        struct fleet_record r;
        ck_assert_int_eq(fleet_record_from_json(newer, strlen(newer), &r), 0);
        ck_assert_str_eq(r.node, "b");
        ck_assert_str_eq(r.state, "started");
        ck_assert(!r.has_exit_status); /* a member of the wrong type is left out */
        ck_assert_int_eq(fleet_record_from_json("[1]", 3, &r), -EBADMSG);
        ck_assert_int_eq(fleet_record_from_json("{\"node\":", 8, &r), -EBADMSG);
        ck_assert_int_eq(fleet_record_from_json("", 0, &r), -EBADMSG);
}
END_TEST

START_TEST(keys_sort_by_instant_and_parse_back)
{
        char *early = fleet_key_run("f", "j", 999999);
        char *late = fleet_key_run("f", "j", 1000000);
        ck_assert_str_eq(early, "/tickd/f/runs/j/00000000000000999999");
        ck_assert_int_lt(strcmp(early, late), 0); /* by time, as etcd sorts keys */
        char *open = fleet_key_open("f", "node-a", "job.x", 42);
        char *prefix = fleet_key_prefix("f", "open");
        ck_assert_str_eq(prefix, "/tickd/f/open/");
        char node[FLEET_NAME_MAX + 1], job[FLEET_JOB_MAX];
        int64_t instant;
        ck_assert_int_eq(fleet_key_parse_open(open + strlen(prefix), node, job, &instant), 0);
        ck_assert_str_eq(node, "node-a");
        ck_assert_str_eq(job, "job.x");
        ck_assert_int_eq(instant, 42);
        ck_assert_int_eq(fleet_key_parse_open("node-a/job", node, job, &instant), -EINVAL);
        ck_assert_int_eq(fleet_key_parse_open("node-a/job/12x", node, job, &instant), -EINVAL);
        ck_assert_int_eq(fleet_key_parse_open("/job/12", node, job, &instant), -EINVAL);
        free(early), free(late), free(open), free(prefix);
}
END_TEST

START_TEST(names_and_final_states)
{
        ck_assert(fleet_name_valid("web-1.example_2"));
        ck_assert(!fleet_name_valid(""));
        ck_assert(!fleet_name_valid("a/b"));
        ck_assert(!fleet_name_valid("a b"));
        char long_name[FLEET_NAME_MAX + 2];
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        ck_assert(!fleet_name_valid(long_name));
        ck_assert(fleet_state_is_final("lost") && fleet_state_is_final("skipped") && fleet_state_is_final("dropped"));
        ck_assert(!fleet_state_is_final("started") && !fleet_state_is_final("claimed") &&
                  !fleet_state_is_final("waiting"));
}
END_TEST

START_TEST(password_is_the_first_line)
{
        char *dir = harness_tmpdir();
        char *path = harness_write_file(dir, "pw", "s3cret\r\nsecond line\n");
        char *pw = NULL;
        ck_assert_int_eq(fleet_password_read(path, &pw), 0);
        ck_assert_str_eq(pw, "s3cret");
        free(pw);
        free(path);
        path = harness_write_file(dir, "empty", "");
        ck_assert_int_eq(fleet_password_read(path, &pw), -ENODATA);
        free(path);
        ck_assert_int_eq(fleet_password_read("/nonexistent/pw", &pw), -ENOENT);
        harness_tmpdir_remove(dir);
}
END_TEST

static Suite *fleet_record_suite(void)
{
        Suite *s = suite_create("fleet-record");
        TCase *tc = tcase_create("records");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, record_round_trips_through_json);
        tcase_add_test(tc, other_versions_records_are_read_and_garbage_is_not);
        tcase_add_test(tc, keys_sort_by_instant_and_parse_back);
        tcase_add_test(tc, names_and_final_states);
        tcase_add_test(tc, password_is_the_first_line);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(fleet_record_suite)
