/* test-list.c — `tickctl list` without a daemon: the jobs from the files,
 * and the last outcomes from the state directory when the caller may read
 * it (root's alone on the system instance), or a clear note why not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

static char *tmp;

static void tmp_setup(void) { tmp = harness_tmpdir(); }
static void tmp_teardown(void)
{
        harness_tmpdir_remove(tmp);
        tmp = NULL;
}

/* Runs `tickctl list` on TMP's tree, as root (UID 0) or as UID:GID through
 * setpriv(1); returns the exit status. */
static int list_as(uid_t uid, gid_t gid, char **out, char **err)
{
        char config[4200], state[4200], runtime[4200], reuid[32], regid[32];
        snprintf(config, sizeof(config), "%s/config", tmp);
        snprintf(state, sizeof(state), "%s/state", tmp);
        snprintf(runtime, sizeof(runtime), "%s/runtime", tmp); /* no socket there: offline */
        snprintf(reuid, sizeof(reuid), "--reuid=%u", (unsigned)uid);
        snprintf(regid, sizeof(regid), "--regid=%u", (unsigned)gid);
        char *argv[] = { "/usr/bin/setpriv",
                         reuid,
                         regid,
                         "--clear-groups",
                         (char *)harness_binary("tickctl"),
                         "list",
                         "--config-dir",
                         config,
                         "--state-dir",
                         state,
                         "--runtime-dir",
                         runtime,
                         "--no-pager",
                         NULL };
        int status = harness_run(argv, NULL, out, err);
        ck_assert(WIFEXITED(status));
        return WEXITSTATUS(status);
}

START_TEST(unreadable_last_outcomes_are_explained)
{
        char name[64], path[4200];
        uid_t uid;
        gid_t gid;
        harness_user_add("tkls", name, sizeof(name), &uid, &gid);
        ck_assert_int_eq(chmod(tmp, 0755), 0);
        snprintf(path, sizeof(path), "%s/config", tmp);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/config/jobs.d", tmp);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        free(harness_write_file(path, "a.ini", "[a]\nschedule = @hourly\ncommand = true\n"));
        snprintf(path, sizeof(path), "%s/state", tmp);
        ck_assert_int_eq(mkdir(path, 0700), 0); /* as tickd makes it */
        free(harness_write_file(path, "last-outcomes", "failed 3 0 10 20 r1 a\n"));

        char *out, *err;
        ck_assert_int_eq(list_as(0, 0, &out, &err), 0);
        ck_assert_msg(strstr(out, "failed"), "root sees the outcome: %s", out);
        ck_assert_msg(!strstr(err, "last outcomes"), "%s", err);
        free(out);
        free(err);

        ck_assert_int_eq(list_as(uid, gid, &out, &err), 0);
        harness_user_del(name);
        ck_assert_msg(strstr(out, "a ") && !strstr(out, "failed"), "got: %s", out);
        char want[4400];
        snprintf(want, sizeof(want), "tickctl list: last outcomes not shown: %s/last-outcomes: Permission denied",
                 path);
        ck_assert_msg(strstr(err, want), "got: %s", err);
        free(out);
        free(err);
}
END_TEST

/* The first line of OUT with JOB as a word of its own, or NULL. */
static char *line_of(const char *out, const char *job)
{
        for (const char *l = out; l && *l;) {
                const char *end = strchrnul(l, '\n');
                char *line = strndup(l, (size_t)(end - l));
                ck_assert_ptr_nonnull(line);
                char word[64];
                snprintf(word, sizeof(word), " %s ", job);
                if (strstr(line, word))
                        return line;
                free(line);
                l = *end ? end + 1 : end;
        }
        return NULL;
}

/* Issue 16: a loaded job reaches its schedule text through its schedule,
 * which its file keeps in its blocks, one per text: each job of two
 * files still lists its own text as written (two spaces kept, a shared
 * text on both of its jobs). */
START_TEST(each_job_lists_its_schedule_as_written)
{
        char path[4300];
        snprintf(path, sizeof(path), "%s/config", tmp);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/config/jobs.d", tmp);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        free(harness_write_file(path, "a.ini",
                                "[x]\nschedule = 0  3 * * *\ncommand = true\n[y]\nschedule = */5 * * * *\ncommand = "
                                "true\n[z]\nschedule = 0  3 * * *\ncommand = true\n"));
        free(harness_write_file(path, "b.ini", "[w]\nschedule = 17 4 * * 1\ncommand = true\n"));
        char *out, *err;
        ck_assert_int_eq(list_as(0, 0, &out, &err), 0);
        const char *want[][2] = {
                { "x", "0  3 * * *" }, { "y", "*/5 * * * *" }, { "z", "0  3 * * *" }, { "w", "17 4 * * 1" }
        };
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                char *line = line_of(out, want[i][0]);
                ck_assert_msg(line && strstr(line, want[i][1]), "%s: want '%s' in: %s", want[i][0], want[i][1], out);
                free(line);
        }
        free(out);
        free(err);
}
END_TEST

/* "tickctl --config-dir DIR list", as systemctl and git take global
 * options: before the command, in both spellings, as well as after it. */
START_TEST(global_options_may_precede_the_command)
{
        char config[4200], path[4300], state[4200], runtime[4200], config_eq[4300];
        snprintf(config, sizeof(config), "%s/config", tmp);
        snprintf(config_eq, sizeof(config_eq), "--config-dir=%s", config);
        snprintf(state, sizeof(state), "%s/state", tmp);
        snprintf(runtime, sizeof(runtime), "%s/runtime", tmp);
        ck_assert_int_eq(mkdir(config, 0755), 0);
        snprintf(path, sizeof(path), "%s/jobs.d", config);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        free(harness_write_file(path, "a.ini", "[early-bird]\nschedule = @hourly\ncommand = true\n"));

        char *argv[] = { (char *)harness_binary("tickctl"),
                         "--runtime-dir",
                         runtime,
                         config_eq,
                         "--state-dir",
                         state,
                         "--no-pager",
                         "list",
                         NULL };
        char *out, *err;
        int status = harness_run(argv, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status, err);
        ck_assert_msg(strstr(out, "early-bird"), "got: %s", out);
        free(out);
        free(err);

        char *check_argv[] = {
                (char *)harness_binary("tickctl"), "--runtime-dir", runtime, "--config-dir", config, "check", NULL
        };
        status = harness_run(check_argv, NULL, &out, &err);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d: %s", status, err);
        free(out);
        free(err);

        char *unknown[] = { (char *)harness_binary("tickctl"), "--user", "lsit", NULL };
        status = harness_run(unknown, NULL, &out, &err);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 2);
        ck_assert_msg(strstr(err, "unknown command 'lsit'"), "got: %s", err);
        free(out);
        free(err);
}
END_TEST

static Suite *ctl_list_suite(void)
{
        Suite *s = suite_create("ctl-list");
        TCase *tc = tcase_create("offline");
        tcase_set_timeout(tc, 30);
        tcase_add_leak_fixture(tc);
        tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
        tcase_add_test(tc, unreadable_last_outcomes_are_explained);
        tcase_add_test(tc, global_options_may_precede_the_command);
        tcase_add_test(tc, each_job_lists_its_schedule_as_written);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(ctl_list_suite)
