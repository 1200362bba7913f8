/* control-last.h — each job's last outcome, kept across daemon restarts.
 *
 * Owns the table job name -> last outcome that `tickctl list` (LAST,
 * RESULT) and `tickctl status JOB` show, and its copy in the state
 * directory, STATE_DIR/last-outcomes: one line per job,
 *     RESULT EXIT_STATUS SIGNAL START_USEC END_USEC RUN_ID JOB
 * (the job's name last: it may hold spaces, never a newline). RESULT is
 * an outcome word (log_event_is_outcome()); the words of earlier versions
 * ("success", "timeout", "exec-failed", "setup-failed") read as today's.
 *
 * Why a file of our own and not the journal read back at start-up: it
 * works with --log-target stderr (no journal at all), and it costs one
 * small read at start-up instead of a journal scan per job.
 *
 * Why one file, written late: the file is written whole and atomically
 * (state_write_atomic(): temporary file, fsync, rename, fsync of the
 * directory), but at most once per CONTROL_LAST_SAVE_DELAY_USEC after a
 * change, and on control_last_free(). So a batch of 1,000 outcomes costs
 * one write and two fsyncs, not 1,000 of each in the event loop, and an
 * idle daemon writes nothing. A crash loses at most the outcomes of that
 * last second (the journal has them). The file holds one line per job
 * name ever run: it grows only with new names, never with runs. A missing
 * or unreadable file is an empty table; a damaged line (or one whose
 * RESULT is no outcome word) is skipped. */
#ifndef TICKD_CONTROL_LAST_H
#define TICKD_CONTROL_LAST_H

#include <systemd/sd-event.h>

#include "shared/control-protocol.h"

#define CONTROL_LAST_FILE            "last-outcomes"
#define CONTROL_LAST_SAVE_DELAY_USEC (1000 * 1000)

struct control_last;

/* Loads STATE_DIR/last-outcomes (STATE_DIR NULL: nothing is kept on disk;
 * it is borrowed and must outlive the table). */
int control_last_new(sd_event *event, const char *state_dir, struct control_last **out);
/* Loads STATE_DIR/last-outcomes for reading only (tickctl, with no daemon
 * to ask): no timer, never written. A missing file is an empty table; a
 * symlink (-ELOOP) or anything but a regular file (-EBADFD) is refused
 * (state_open_file()), as is a directory the caller may not read (-EACCES:
 * the system instance's is root's alone). */
int control_last_read(const char *state_dir, struct control_last **out);
/* What control_last_read()'s error R means, for a message. */
const char *control_last_strerror(int r);
/* Writes the table if it changed since the last write, then frees it. */
struct control_last *control_last_free(struct control_last *l);

/* JOB's last outcome, or NULL; valid until the next control_last_set(). */
const struct control_outcome *control_last_get(const struct control_last *l, const char *job);
/* Records JOB's outcome O (copied) and schedules the write. */
int control_last_set(struct control_last *l, const char *job, const struct control_outcome *o);
/* Writes now if anything changed; returns 0 or a negative errno. */
int control_last_save(struct control_last *l);

#endif
