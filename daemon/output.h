/* output.h — a job's stdout and stderr as journal streams.
 *
 * With the journal log target, the runner (runner.c, the one place that
 * decides where job output goes) asks here for two streams to journald,
 * opened with sd_journal_stream_fd(): identifier = the job's name, so
 * `journalctl -t JOB` shows the job's own output; stdout at LOG_INFO,
 * stderr at LOG_WARNING; level_prefix off, so a job printing "<3>" prints
 * text, not a priority. Lines carry no custom fields: journald stamps
 * each with the writer's _PID and the stream's _STREAM_ID, which is how
 * `tickctl logs --run` tells runs apart (see ctl-logs.c).
 *
 * Without a journald, sd_journal_stream_fd() fails with -ENOENT (where
 * sd_journal_send() would silently drop entries); the runner then relays
 * the output to the daemon's stderr instead. The daemon itself never
 * touches these descriptors, so a job that writes more than a pipe or a
 * socket buffer holds only ever blocks itself. */
#ifndef TICKD_OUTPUT_H
#define TICKD_OUTPUT_H

/* Opens both streams for JOB, O_CLOEXEC. On failure nothing stays open.
 * Returns 0 or a negative errno (-ENOENT: no journald). */
int output_journal_streams(const char *job, int *ret_stdout, int *ret_stderr);

#endif
