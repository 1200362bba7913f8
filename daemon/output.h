/* output.h — where a job's stdout and stderr go.
 *
 * The daemon (not the runner) opens one descriptor per stream before it
 * spawns the runner, hands it to the runner, which dup2()s it onto the
 * job's stdout or stderr, and closes its own copy right after the spawn.
 *
 * - Journal target (log_current_target() == LOG_TARGET_JOURNAL): a stream
 *   to journald from sd_journal_stream_fd(), identifier = the job's name,
 *   so `journalctl -t JOB` shows it, level_prefix off (a job's "<3>" is
 *   text, not a priority). Stdout at LOG_INFO, stderr at LOG_WARNING.
 * - Stderr target, or when journald refuses the stream (it fails with
 *   -ENOENT when there is no journald): the write end of a pipe whose read
 *   end is relayed by EVENT to the daemon's stderr, line by line, each line
 *   prefixed "JOB: ". Lines longer than OUTPUT_LINE_MAX are split.
 *
 * Neither can block the daemon: the daemon never writes to a journal
 * stream, and the relay reads non-blocking, one buffer per wake-up, so a
 * job that writes more than a pipe holds only ever blocks itself. A relay
 * lives until every holder of the write end has closed it (EOF), then frees
 * itself; relays still open when EVENT is freed are freed with it.
 *
 * The returned descriptor is O_CLOEXEC. Returns it, or a negative errno. */
#ifndef TICKD_OUTPUT_H
#define TICKD_OUTPUT_H

#include <systemd/sd-event.h>

#define OUTPUT_LINE_MAX 4096

int output_open(sd_event *event, const char *job, int priority);

/* Both streams of one run: stdout at LOG_INFO, stderr at LOG_WARNING. On
 * failure nothing stays open. Returns 0 or a negative errno. */
int output_open_job(sd_event *event, const char *job, int *ret_stdout, int *ret_stderr);

/* The stderr-target pipe and relay alone, whatever the log target. */
int output_open_relay(sd_event *event, const char *job);

/* Relays currently open (for status and for tests). */
unsigned output_relays_open(void);

#endif
