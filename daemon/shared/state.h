/* state.h — what tickd remembers across restarts and boots.
 *
 * Owns two kinds of small files:
 *   - per-job last-run stamps in the state directory (persistent = yes):
 *     the scheduled instant of the last dispatched run, written atomically
 *     (temporary file, fsync, rename, fsync of the directory), so a crash
 *     leaves the old stamp or the new one, never a torn file;
 *   - per-job @reboot markers in the runtime directory holding the boot id
 *     (/proc/sys/kernel/random/boot_id), so an @reboot job runs once per
 *     boot, not on every daemon restart, even if the runtime directory is
 *     not a tmpfs.
 * Both directories are tickd's alone (tickd checks them at start-up);
 * its files are mode 0600 and read with state_open_file().
 * Job names become file names with every byte outside [A-Za-z0-9_.@-]
 * (and a leading '.') escaped as %XX. Functions return 0 or a negative
 * errno and print nothing, but for state_writes_report(), which logs. */
#ifndef TICKD_STATE_H
#define TICKD_STATE_H

#include <stdbool.h>
#include <stdint.h>

/* The stamp of JOB in DIR, in µs since the epoch; -ENOENT when none. */
int state_stamp_read(const char *dir, const char *job, int64_t *out_usec);
int state_stamp_write(const char *dir, const char *job, int64_t usec);

/* Opens DIR/NAME for reading as a state file: never through a symlink
 * (-ELOOP), never blocking, and only a regular file (-EBADFD otherwise).
 * Returns the descriptor (O_CLOEXEC) or a negative errno. */
int state_open_file(const char *dir, const char *name);

/* Writes DIR/NAME atomically, mode 0600 (exported for tests and the stamp
 * writer). */
int state_write_atomic(const char *dir, const char *name, const char *content);

/* The current boot id (36 characters + NUL). */
int state_boot_id(char out[static 37]);

/* Whether JOB's @reboot run is still due in this boot: returns 1 (and
 * marks it done in DIR) the first time per boot id, 0 afterwards. */
int state_reboot_claim(const char *dir, const char *job, const char *boot_id);

/* One kind of file tickd keeps writing into its state directory (stamps,
 * last outcomes, run records). A full or read-only disk fails every such
 * write, at every run: the failure is logged when it starts and when its
 * error changes, and once more when a write works again, not per write.
 * Runs go on either way. Zero-initialise. */
struct state_writes {
        int error; /* of the last write, as a positive errno; 0 = it worked */
};
/* Reports the result R (0 or a negative errno) of writing WHAT (for the
 * message: "the stamps of persistent jobs") into DIR. */
void state_writes_report(struct state_writes *w, const char *what, const char *dir, int r);

#endif
