/* orphans.h — runs that outlive a tickd killed without a descriptor store.
 *
 * Under systemd the fd store hands running batches to the next instance
 * (fdstore.h, batch_manager_adopt()). Outside it (`make run`, containers,
 * other supervisors) a daemon killed with SIGKILL takes its batch pipes
 * with it, while its runners and their jobs go on. This module keeps one
 * small record per run in STATE_DIR/runs (see docs/ARCHITECTURE.md), so
 * the next instance can still record each such run once and keep to its
 * job's overlap policy while it runs:
 *   - the runner writes its run's record once its job is started: job,
 *     run id, user, scheduled instant, the runner's pid with its start
 *     time (/proc/PID/stat field 22) and the boot id, so a reused pid or a
 *     reboot is recognised, and the job's pid;
 *   - when the runner's FINISHED record finds no reader on the batch pipe
 *     (EPIPE: the daemon is gone and nobody holds the pipe), it writes its
 *     record again with the outcome;
 *   - the daemon removes the record once the run's final record is logged
 *     (collector.h), whichever way that came;
 *   - at start-up, orphans_adopt() reads what is left: a record with an
 *     outcome is recorded with it; a runner still alive becomes a run of a
 *     batch of its own, watched through a pidfd, counted as running (for
 *     overlap, max_concurrent, status and cancel) and recorded when it
 *     exits; a runner gone without an outcome is recorded lost.
 * Records are written without fsync: they describe processes, which a
 * crash of the machine ends anyway (the boot id says so).
 *
 * A shared runner (runner.h: one per batch since issue 16) writes one
 * record per run, so several records name the same runner pid, each with
 * the run's slot in its batch. A record that has its outcome when the
 * next instance starts is recorded at once; each other one becomes an
 * orphan batch of its own, watched through its own pidfd on that one
 * runner, so it is recorded when the shared runner exits, not when its
 * own job ends: a run that finishes meanwhile waits for its batch's last
 * one. Its outcome is still its own: the runner rewrites each run's
 * record with that run's outcome as the run finishes (EPIPE on the batch
 * pipe), and waits for
 * its finisher children (which may write a record in their own name,
 * with the outcome) before it exits. A cancel of one such run is
 * SIGRTMIN with its slot to the runner (batch_signal_cancel()). */
#ifndef TICKD_ORPHANS_H
#define TICKD_ORPHANS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/inifile.h"
#include "shared/control-protocol.h"
#include "tickd/runner.h"

struct batch;
struct batch_manager;
struct run;

/* The subdirectory of the state directory that holds the records. */
#define ORPHANS_DIR "runs"

/* One run's record, as written and read. */
struct orphan_record {
        char job_name[INIFILE_MAX_SECTION + 1];
        char run_id[CONTROL_RUN_ID_MAX];
        char user[72];
        bool on_failure;
        int64_t scheduled_usec; /* 0 = manual */
        int64_t start_usec;     /* CLOCK_REALTIME: when the runner started */
        char boot_id[37];
        pid_t runner_pid;
        uint64_t runner_start; /* /proc/PID/stat field 22, in clock ticks since boot */
        pid_t job_pid;
        uint32_t slot; /* the run's slot in its batch: how a shared runner knows it (cancel) */
        bool has_outcome;
        struct outcome outcome; /* FINISHED, with HAS_OUTCOME */
};

/* In the runner: writes REC (its runner_pid, runner_start and boot_id are
 * filled here, for the calling process) to DIR atomically. Returns 0 or a
 * negative errno. */
int orphans_record_write(const char *dir, struct orphan_record *rec);

/* The start time of process PID (/proc/PID/stat field 22). */
int orphans_process_start(pid_t pid, uint64_t *out);

/* RUN's record is of no more use: its final record is logged. A record
 * that cannot be removed now is kept in mind and removed by the next call
 * or by orphans_forget_pending(). */
void orphans_forget(const struct run *run);
/* Removes what earlier calls could not (shutdown); frees the list. */
void orphans_forget_pending(struct batch_manager *m);

/* Start-up, after batch_manager_adopt() (runs it adopted are left to it):
 * records or watches what the previous instances left. Logs each run;
 * returns how many still run. */
size_t orphans_adopt(struct batch_manager *m);

/* Shutdown: B is an orphan batch whose runner was just killed; records it
 * (with the outcome its record has, else lost) and frees B. */
void orphans_finish(struct batch *b);

#endif
