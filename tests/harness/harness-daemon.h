/* harness-daemon.h — end-to-end tests: a real tickd on temporary dirs.
 *
 * tickd_start() makes a temporary tree (config/jobs.d, state, runtime),
 * writes the given crontab files and tickd.conf, and starts the binary
 * (harness_binary("tickd"), the sanitized one under `make check`) with
 * --log-target stderr --log-level debug, its stderr captured. The helpers
 * read that stderr without blocking the daemon and wait for lines. */
#ifndef TICKD_TESTS_HARNESS_DAEMON_H
#define TICKD_TESTS_HARNESS_DAEMON_H

#include <stdbool.h>
#include <sys/types.h>

struct tickd {
        pid_t pid;
        int err_fd;
        char *log; /* everything read so far, NUL-terminated */
        size_t log_len, log_cap;
        char *dir; /* the temporary tree */
        char *jobs_dir;
        char *config_dir;
        int starts;  /* daemon-started records seen so far */
        char **env;  /* added to tickd's environment at every start */
        char **args; /* appended to tickd's command line at every start */
};

/* Starts tickd. CONF (may be NULL) is written as tickd.conf. PREFIX (may be
 * NULL) is argv to run before tickd (e.g. valgrind). Waits for the
 * daemon-started record. */
struct tickd *tickd_start(const char *conf, const char *const *prefix);
/* tickd_start() with ENV ("NAME=value", NULL-terminated) added to tickd's
 * environment at this and every later start. */
struct tickd *tickd_start_env(const char *conf, const char *const *env);
/* tickd_start() with ARGS (NULL-terminated) appended to tickd's command
 * line, after the harness's own options, so that they override them
 * ("--log-target", "journal"). It does not wait for the daemon-started
 * record, at this or any later start: such options may send it elsewhere. */
struct tickd *tickd_start_args(const char *conf, const char *const *prefix, const char *const *args);
/* A user instance: tickd --user --log-target stderr started as UID:GID
 * (not root: no capabilities) on a tree that user owns, with FILES (name,
 * content, ..., NULL) written into its jobs.d. Waits for the
 * daemon-started record. */
struct tickd *tickd_start_user(uid_t uid, gid_t gid, const char *const *files);
/* Stops tickd (if running) and starts it again on the same tree; the log
 * goes on accumulating. */
void tickd_restart(struct tickd *t);
/* Starts tickd again (after it exited) with FDS passed as a service manager
 * passes its fd store: at 3, 4, ..., with $LISTEN_FDS, $LISTEN_PID and
 * $LISTEN_FDNAMES (NAMES joined by ':'). */
void tickd_respawn_with_fds(struct tickd *t, const int *fds, const char *const *names, size_t n);
/* Writes (or replaces, atomically by rename) jobs.d/NAME. */
void tickd_write_job(struct tickd *t, const char *name, const char *content);
void tickd_remove_job(struct tickd *t, const char *name);
/* Reads whatever stderr has now, waiting up to MS for more. */
void tickd_pump(struct tickd *t, int ms);
/* Waits until NEEDLE occurs at least COUNT times in the log; returns false on timeout. */
bool tickd_wait_for(struct tickd *t, const char *needle, int count, int timeout_ms);
int tickd_count(const struct tickd *t, const char *needle);
/* The last 3000 bytes of the log (all of it when shorter): for failure
 * messages, which Check bounds. */
const char *tickd_log_tail(const struct tickd *t);
/* Sends SIG and waits for exit (reading the log); returns the wait status. */
int tickd_stop(struct tickd *t, int sig, int timeout_ms);
/* Frees everything and removes the tree (after tickd_stop). */
void tickd_free(struct tickd *t);
/* The child of PARENT whose comm is COMM, or 0. */
pid_t harness_child_by_comm(pid_t parent, const char *comm);
/* Counts of /proc/PID: open descriptors, children, zombie children. */
void harness_proc_counts(pid_t pid, int *fds, int *children, int *zombies);
/* A 6-field cron expression firing once, OFFSET seconds from now (>= 2). */
char *harness_cron_in(int offset_seconds);

#endif
