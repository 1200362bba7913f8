/* harness.h — what every Check suite shares.
 *
 * The leak fixture (the C counterpart of Go's goleak): around each test it
 * counts this process's open descriptors, its children and its zombie
 * children, and fails the test when any count differs afterwards. It makes
 * the test process a child subreaper, so a grandchild that a job left
 * behind (a daemonised `sleep 300`) becomes our child and is counted too.
 * Add it with tcase_add_leak_fixture(tc) to every test case that opens
 * files or spawns processes.
 *
 * TEST_MAIN(suite_fn) defines main(): runs the suite with Check's normal
 * output (its summary line is printed) and exits non-zero on any failure. */
#ifndef TICKD_TESTS_HARNESS_H
#define TICKD_TESTS_HARNESS_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct leak_counts {
        int fds;
        int children;
        int zombies;
};

/* Counts of the calling process, read from /proc. */
void leak_counts_read(struct leak_counts *out);
/* PARENT's children in /proc, and how many of them are zombies. */
void harness_count_children(pid_t parent, int *children, int *zombies);
/* The fixture, for tcase_add_checked_fixture(); the macro below adds it. */
void leak_fixture_setup(void);
void leak_fixture_teardown(void);
#define tcase_add_leak_fixture(tc) tcase_add_checked_fixture((tc), leak_fixture_setup, leak_fixture_teardown)

/* Reaps every zombie child and waits (up to TIMEOUT_MS) for live children
 * to exit; returns how many were still alive. Tests call it before the
 * teardown when they expect their processes to be finishing. */
int harness_reap_children(int timeout_ms);

/* Path of a built binary ("tickd", "tickctl"): $TICKD_BUILD_DIR/NAME,
 * default build/NAME. Returns a static buffer. */
const char *harness_binary(const char *name);
/* Path of a file in the source tree: $TICKD_SOURCE_DIR/REL. Static buffer. */
const char *harness_source_path(const char *rel);

/* A fresh directory under $TMPDIR, removed (recursively) by
 * harness_tmpdir_remove(). Returns a malloc'd path. */
char *harness_tmpdir(void);
void harness_tmpdir_remove(char *path);

/* Writes CONTENT to DIR/NAME (mode 0644); returns the malloc'd path. */
char *harness_write_file(const char *dir, const char *name, const char *content);

/* Runs ARGV (argv[0] a path), captures stdout and stderr (each up to 64 KiB,
 * NUL-terminated, malloc'd; either pointer may be NULL), waits, returns the
 * wait status. ENVP NULL = inherit. */
int harness_run(char *const argv[], char *const envp[], char **out, char **err);

/* Creates a system user PREFIX<pid> without a home and with a nologin
 * shell (useradd), fails the test if that fails, and writes its name into
 * NAME and its ids into UID/GID (either may be NULL). harness_user_del()
 * removes it again. */
void harness_user_add(const char *prefix, char *name, size_t size, uid_t *uid, gid_t *gid);
void harness_user_del(const char *name);

/* Milliseconds of CLOCK_MONOTONIC. */
long long harness_now_ms(void);

#define TEST_MAIN(suite_fn)                                   \
        int main(void)                                        \
        {                                                     \
                SRunner *runner = srunner_create(suite_fn()); \
                srunner_run_all(runner, CK_NORMAL);           \
                int failed = srunner_ntests_failed(runner);   \
                srunner_free(runner);                         \
                return failed == 0 ? 0 : 1;                   \
        }

#endif
