/* collector.h — reads a batch's outcome records until EOF; where a
 * finished run goes.
 *
 * Every batch (batch.h) has one collector: an sd-event io source on the
 * read end of its pipe. It reads fixed-size records (runner.h) until EOF,
 * which the kernel delivers exactly when the batch's last runner has
 * exited; then each run that never sent a FINISHED record is reported
 * lost, by name, and the batch is freed. A STARTED record is logged (the
 * job's pid) and sends a cancel that came before it on to the runner.
 *
 * A finished run (a FINISHED record, or lost: outcome NULL) goes through
 * collector_run_finished() and nowhere else. Its consumers, in order:
 *   1. the journal: its record (succeeded, failed, timed-out, cancelled,
 *      lost), written here;
 *   2. the batch's image in the fd store and the run's record in the
 *      state directory (orphans.h), so that a restarted tickd does not
 *      report the run again (batch.c, orphans.c);
 *   3. the batch manager's owner (batch_manager_options.finished). In
 *      tickd that is the scheduler, whose on_run_finished() hands it, in
 *      this order, to
 *      a. its listener, control-daemon.c: the job's last outcome
 *         (control-last.h), then the RunJob(wait) callers (control.h);
 *      b. the completion policy, admission_run_finished() (admission.h):
 *         the job's slot, on_failure, its queued run, runs waiting for
 *         max_concurrent.
 * The run and its batch stay valid during those calls only. */
#ifndef TICKD_COLLECTOR_H
#define TICKD_COLLECTOR_H

#include "shared/log.h"
#include "tickd/batch.h"

struct batch;

/* Watches B's pipe (made non-blocking) from the event loop. */
int collector_watch(struct batch *b);
/* Reads B's pipe to EOF here and now, blocking, then frees B: shutdown,
 * or a batch the loop cannot watch. */
void collector_drain(struct batch *b);

/* RUN of B finished with OUTCOME, or was lost (NULL); a second call for
 * the same run does nothing. */
void collector_run_finished(struct batch *b, struct run *run, const struct outcome *outcome);

/* The one classification of a finished run, OUTCOME NULL for a lost one:
 * LOG_EVENT_SUCCEEDED, _FAILED (a non-zero exit, a signal, a setup or exec
 * failure), _TIMED_OUT, _CANCELLED or _LOST. Its record carries this event,
 * and its name (log_event_name()) is the outcome's word wherever it is
 * shown, so the journal, the control protocol and last-outcomes agree. */
enum log_event collector_outcome_event(const struct outcome *outcome);

#endif
