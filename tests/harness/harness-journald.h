/* harness-journald.h — a private systemd-journald for the tests.
 *
 * The steps of ../shared/recipes/journald-lib.sh, in C so the project needs
 * nothing outside its tree: a child enters a new mount namespace, hides the
 * host's journal directories under tmpfs (/run/systemd, /run/log,
 * /var/log/journal), binds a volatile, unforwarded journald.conf over
 * /etc/systemd/journald.conf and execs /lib/systemd/systemd-journald. It
 * runs as root without systemd as PID 1 and is stopped by its pid.
 *
 * Processes that must log to it enter its mount namespace (journald_enter()
 * in a forked child, or argv prefixed by journald_argv()); readers outside
 * use jd->journal_dir (/proc/PID/root/run/log/journal) with
 * sd_journal_open_directory() or `journalctl -D`. */
#ifndef TICKD_TESTS_HARNESS_JOURNALD_H
#define TICKD_TESTS_HARNESS_JOURNALD_H

#include <sys/types.h>

struct journald {
        pid_t pid;
        char *dir;         /* scratch: journald.conf, journald.log */
        char *journal_dir; /* /proc/PID/root/run/log/journal */
};

/* Starts journald and waits until its sockets exist. Returns 0 or -1
 * (with the reason printed). */
int journald_start(struct journald *jd);
/* SIGTERM by pid, reaps it, removes the scratch directory. Returns the
 * wait status. */
int journald_stop(struct journald *jd);
/* In a (single-threaded) child: joins journald's mount namespace, keeping
 * the working directory. */
int journald_enter(const struct journald *jd);
/* Makes journald write out everything it has received (journalctl --sync
 * inside its namespace). Returns the wait status. */
int journald_sync(const struct journald *jd);
/* ARGV run inside journald's namespace: "nsenter -t PID -m -- ARGV...".
 * Returns a NULL-terminated malloc'd array (free it with free(); the
 * strings are ARGV's own but for a malloc'd pid string at [2]). */
char **journald_argv(const struct journald *jd, char *const argv[]);
void journald_argv_free(char **argv);

#endif
