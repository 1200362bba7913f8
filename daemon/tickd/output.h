/* output.h — a job's stdout and stderr, relayed line by line by its runner.
 *
 * The job writes into pipes; its runner (runner.c, the one place that
 * decides where job output goes) reads them and sends each line on:
 *
 * - to the journal, one entry per line over journald's native protocol
 *   (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/): MESSAGE= the line,
 *   SYSLOG_IDENTIFIER= the job's name (so `journalctl -t JOB` shows the
 *   job's own output), PRIORITY= 6 for stdout and 4 for stderr,
 *   TICKD_OUTPUT= "stdout" or "stderr", and TICKD_RUN_ID= the run. That
 *   last field is why the runner relays instead of handing the job a
 *   journal stream: stream lines cannot carry fields, and journald stamps
 *   each with the pid of whichever process wrote it, so no stream line can
 *   say which run it belongs to. `journalctl TICKD_RUN_ID=ID` shows a run's
 *   records and its output; `tickctl logs --run` selects on it exactly.
 * - to the runner's stderr (the daemon's), as "JOB: line", with the stderr
 *   log target, when no journald listens, or when journald goes away in
 *   the middle of a run. Both streams then share one pipe, so their lines
 *   keep the order the job wrote them in.
 *
 * A line is at most OUTPUT_LINE_MAX bytes (journald's default LineMax);
 * longer ones are cut (lines.h). A job's "<3>" prefix is text, never a
 * priority. Sending blocks only the runner, and so only the jobs it
 * watches (a batch's shared runner: the batch's simple runs, whose
 * relaying and deadlines wait meanwhile): the daemon never touches these
 * descriptors.
 *
 * The runner's own descriptors must not come from libsystemd: it caches one
 * journal socket per process and its forked children, and the runner closes
 * every inherited descriptor, so sd_journal_send() there could write to
 * whatever later reused that number. Hence a socket of our own here. */
#ifndef TICKD_OUTPUT_H
#define TICKD_OUTPUT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>

#define OUTPUT_LINE_MAX    (48 * 1024)
#define OUTPUT_POLLFDS_MAX 2

struct output;

/* Creates the pipes the job writes to and, with TO_JOURNAL, connects to
 * journald (falling back to stderr when none listens). JOB and RUN_ID
 * must outlive the returned object. *JOB_STDOUT and *JOB_STDERR are the
 * write ends for the job, close-on-exec, equal when the two share a pipe;
 * the caller closes them once the job has them. Returns 0 or a negative
 * errno; on failure nothing stays open. */
int output_open(const char *job, const char *run_id, bool to_journal, struct output **ret, int *job_stdout,
                int *job_stderr);
/* Each line as it is sent (LEN bytes, no newline), in the order the job
 * wrote them: the run's mail (mailer.h) keeps a copy. NULL: none. */
typedef void (*output_tee_fn)(void *userdata, const char *line, size_t len);
void output_set_tee(struct output *o, output_tee_fn tee, void *userdata);
/* Whether lines go to the journal (false: to stderr). */
bool output_to_journal(const struct output *o);
/* The read ends still open, for poll(2) with POLLIN; returns how many. */
size_t output_pollfds(const struct output *o, struct pollfd fds[OUTPUT_POLLFDS_MAX]);
/* Reads what the pipes hold, never waiting, and sends the whole lines.
 * Returns whether a stream is still open (some process may write more). */
bool output_pump(struct output *o);
/* Reads and sends until every stream has ended (waits). */
void output_drain(struct output *o);
/* Closes everything; FLUSH sends unfinished lines first. NULL is a no-op. */
void output_free(struct output *o, bool flush);

#endif
