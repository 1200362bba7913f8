/* harness-ctl.h — running tickctl from the tests and checking its output.
 *
 * Every call adds the options that point tickctl at the instance under
 * test (--runtime-dir, --config-dir and --state-dir when given,
 * --no-pager), may run it
 * through a PREFIX (setpriv as an unprivileged user, a shell feeding its
 * stdin), and captures its exit status (128 + N after signal N), stdout
 * and stderr. harness_ctl_spawn() starts it in the background for calls
 * that block (run --wait); harness_ctl_finish() collects it. */
#ifndef TICKD_TESTS_HARNESS_CTL_H
#define TICKD_TESTS_HARNESS_CTL_H

#include <stdbool.h>
#include <string.h>
#include <sys/types.h>

#include <check.h>

struct ctl_target {
        const char *runtime_base; /* --runtime-dir: tickd's runtime base (the socket is in BASE/tickd) */
        const char *config_dir;   /* --config-dir, NULL = none */
        const char *state_dir;    /* --state-dir, NULL = none */
};

struct ctl_result {
        int status;      /* exit status, or 128 + signal */
        char *out, *err; /* NUL-terminated, malloc'd */
};

void ctl_result_free(struct ctl_result *r);

/* Runs PREFIX... tickctl ARGS... with TARGET's options and waits for it. */
struct ctl_result harness_ctl(const struct ctl_target *target, const char *const *prefix, const char *const *args);

/* The prefix that runs a command as UID/GID without supplementary groups
 * (setpriv); valid until the next call. */
const char *const *harness_ctl_as(uid_t uid, gid_t gid);

/* Starts tickctl ARGS... in the background, stdout and stderr to files in
 * DIR; harness_ctl_running() tells whether it still runs, and
 * harness_ctl_finish() waits (up to TIMEOUT_MS, then SIGKILL: status 137)
 * and reads the files back (and removes them). */
struct ctl_job {
        pid_t pid;
        bool done;
        int wait_status;
        char out_path[512], err_path[512];
};
void harness_ctl_spawn(const struct ctl_target *target, const char *dir, struct ctl_job *job, const char *const *args);
bool harness_ctl_running(struct ctl_job *job);
struct ctl_result harness_ctl_finish(struct ctl_job *job, int timeout_ms);

#define ck_assert_contains(haystack, needle) \
        ck_assert_msg(strstr((haystack), (needle)) != NULL, "expected \"%s\" in:\n%s", (needle), (haystack))
#define ck_assert_not_contains(haystack, needle) \
        ck_assert_msg(strstr((haystack), (needle)) == NULL, "did not expect \"%s\" in:\n%s", (needle), (haystack))

#endif
