/* test-harness.c — the leak fixture sees what it claims to see. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/harness.h"

START_TEST(counts_an_open_descriptor)
{
        struct leak_counts before, during, after;
        leak_counts_read(&before);
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        leak_counts_read(&during);
        close(fd);
        leak_counts_read(&after);
        ck_assert_int_eq(during.fds, before.fds + 1);
        ck_assert_int_eq(after.fds, before.fds);
}
END_TEST

START_TEST(counts_a_child_and_its_zombie)
{
        struct leak_counts before, running, zombie, reaped;
        leak_counts_read(&before);
        int gate[2];
        ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
        pid_t pid = fork();
        if (pid == 0) {
                char c;
                close(gate[1]);
                (void)!read(gate[0], &c, 1);
                _exit(0);
        }
        close(gate[0]);
        leak_counts_read(&running);
        close(gate[1]); /* the child's read returns: it exits, unreaped */
        siginfo_t info;
        ck_assert_int_eq(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
        leak_counts_read(&zombie);
        ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
        leak_counts_read(&reaped);
        ck_assert_int_eq(running.children, before.children + 1);
        ck_assert_int_eq(running.zombies, before.zombies);
        ck_assert_int_eq(zombie.zombies, before.zombies + 1);
        ck_assert_int_eq(reaped.children, before.children);
        ck_assert_int_eq(reaped.zombies, before.zombies);
}
END_TEST

START_TEST(adopts_orphaned_grandchildren)
{
        leak_fixture_setup(); /* makes this process a subreaper */
        struct leak_counts before, adopted, after;
        leak_counts_read(&before);
        int report[2];
        ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
        pid_t pid = fork();
        if (pid == 0) {
                pid_t grandchild = fork();
                if (grandchild == 0) {
                        pause();
                        _exit(0);
                }
                (void)!write(report[1], &grandchild, sizeof(grandchild));
                _exit(0); /* orphans the grandchild */
        }
        close(report[1]);
        pid_t grandchild = 0;
        ck_assert_int_eq(read(report[0], &grandchild, sizeof(grandchild)), sizeof(grandchild));
        close(report[0]);
        ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
        leak_counts_read(&adopted);
        ck_assert_int_eq(adopted.children, before.children + 1);
        ck_assert_int_eq(kill(grandchild, SIGKILL), 0);
        ck_assert_int_eq(waitpid(grandchild, NULL, 0), grandchild);
        leak_counts_read(&after);
        ck_assert_int_eq(after.children, before.children);
}
END_TEST

/* A test that leaks a descriptor must fail under the fixture. Run in a
 * sub-runner so its failure is observed, not inherited. */
START_TEST(leaky_test_body) { ck_assert_int_ge(open("/dev/null", O_RDONLY | O_CLOEXEC), 0); }
END_TEST

START_TEST(fixture_fails_a_leaky_test)
{
        Suite *s = suite_create("leaky");
        TCase *tc = tcase_create("leaky");
        tcase_add_leak_fixture(tc);
        tcase_add_test(tc, leaky_test_body);
        suite_add_tcase(s, tc);
        SRunner *runner = srunner_create(s);
        srunner_set_fork_status(runner, CK_FORK);
        srunner_run_all(runner, CK_SILENT);
        int failed = srunner_ntests_failed(runner);
        srunner_free(runner);
        ck_assert_int_eq(failed, 1);
}
END_TEST

static Suite *harness_suite(void)
{
        Suite *s = suite_create("harness");
        TCase *tc = tcase_create("leak fixture");
        tcase_add_test(tc, counts_an_open_descriptor);
        tcase_add_test(tc, counts_a_child_and_its_zombie);
        tcase_add_test(tc, adopts_orphaned_grandchildren);
        tcase_add_test(tc, fixture_fails_a_leaky_test);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(harness_suite)
