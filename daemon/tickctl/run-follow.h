/* run-follow.h — tickctl run --follow: a run's output, read back from the
 * journal while tickctl waits for the run's outcome.
 *
 * The daemon's runner sends each line a job writes to the journal, tagged
 * with the run's TICKD_RUN_ID (tickd(8)); tickctl learns the id from the
 * RunStarted or RunWaiting signal of RunJob(wait) and shows the lines of
 * that run alone, stdout's on standard output and stderr's on standard
 * error, until the run's final record (its outcome, or `dropped`) has been
 * read. Journald takes datagrams in the order they were sent, and the
 * runner sends a line before the daemon can record the outcome, so no line
 * of the run comes after that record.
 *
 * A daemon that logs to its standard error (--log-target stderr, as `make
 * run` starts it) relays job output there too, and nothing reaches the
 * journal: after its outcome tickctl then waits RUN_FOLLOW_GRACE_USEC for
 * the record and says where the output went. */
#ifndef TICKD_CTL_RUN_FOLLOW_H
#define TICKD_CTL_RUN_FOLLOW_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#define RUN_FOLLOW_GRACE_USEC (UINT64_C(3) * 1000000)

struct run_follow;

/* Opens the local journal (USER: only the caller's entries). Returns 0 or
 * a negative errno (printed). */
int run_follow_open(bool user, bool terminal, struct run_follow **ret);
struct run_follow *run_follow_free(struct run_follow *f);
/* The run to show: RUN_ID, whose records cannot be older than SINCE_USEC
 * (CLOCK_REALTIME, taken before RunJob was called). Only the first call
 * counts. Returns 0 or a negative errno. */
int run_follow_track(struct run_follow *f, const char *run_id, uint64_t since_usec);
/* Prints the tracked run's lines the journal holds now. Returns 1 once its
 * final record has been read, 0 while it has not, or a negative errno. */
int run_follow_pump(struct run_follow *f);
/* The journal's descriptor for poll(2), and the CLOCK_MONOTONIC µs by which
 * it must be looked at again (UINT64_MAX: none). */
struct pollfd run_follow_pollfd(struct run_follow *f);
uint64_t run_follow_timeout(struct run_follow *f);
/* After poll(2) said the descriptor is ready. */
void run_follow_process(struct run_follow *f);
/* The outcome came and the grace passed without the run's final record:
 * says on stderr where the output went instead. */
void run_follow_explain_missing(const struct run_follow *f);

#endif
