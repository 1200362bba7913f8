/* runner.h — the runs of one runner process: a batch's simple runs share
 * one, a run with PAM or mail has its own (issue 16).
 *
 * One runner per batch: batch_spawn() forks ONE runner for all the
 * batch's runs that need no process of their own; it prepares and
 * vfork()s each job in turn, writes each STARTED record, reaps and
 * reports jobs that end while later ones start, then watches them all in
 * one poll() loop (one signalfd, every run's output pipes, each run's own
 * deadlines; SIGCHLD → wait4(-1) mapped to runs) and exits once every run
 * has its FINISHED record. A run with PAM in effect (pam_loginuid and
 * pam_limits act on the process that opens the session, so sessions
 * cannot share one) or with mail_to= (the mail is sent after the job,
 * waiting up to a minute) gets a runner of its own: the same code with
 * N = 1, the only case that opens PAM sessions and sends mail. Process
 * title: "tickd:JOB" for a runner of one run, "tickd:batch" for a shared
 * one.
 *
 * What a shared runner does not wait for (one run's step must never stall
 * the others): a run whose main process left processes in its cgroup is
 * finished by a child of the runner ("tickd-fin:JOB": the wait for the
 * leftovers to die — up to the stop's SIGKILL deadline, then 10 s for the
 * SIGKILL —, the accounting, the cgroup's removal or hand-off, the output,
 * the FINISHED record), and output still held by a background process
 * goes to a relay child ("tickd-out:JOB", as in a runner of one run). The
 * runner waits for its finishers before it exits, so that a run record's
 * runner never ends before the record's outcome is written. The other
 * steps are done in the runner itself, and two of them can block it for
 * every run it watches: the user and group look-ups (NSS; done once per
 * user= and group= pair of the batch) and sending output to a journald
 * that does not read (output.h). A job's own vfork() returns once the job
 * has exec'd.
 *
 * For each run, the runner owns everything between the daemon's fork()
 * and the outcome record:
 * default signal dispositions and an empty mask, only the descriptors it
 * needs (close_range), stdin from /dev/null (or a memfd holding the job's
 * stdin= text: the command's only), the user and group look-up
 * (a run's name-service calls happen here, never in the daemon; the
 * daemon's only look-ups are two at start-up, in batch_manager_new()), a
 * second fork for the job in its own session and process group, credentials dropped in the
 * order initgroups, setgid, setuid (each checked: a failure is an outcome),
 * an environment built from scratch, working directory, umask, nice, exec
 * of /bin/sh -c COMMAND, the timeout (SIGTERM to the job's group, SIGKILL
 * after kill_grace), and wait4() for the job's resource usage.
 *
 * The runner writes exactly two fixed-size records per run to the batch
 * pipe (a finisher child writes its run's FINISHED one): a STARTED record
 * once the job is forked (the daemon learns the job's
 * process group, to kill it at shutdown) and a FINISHED record with the
 * outcome. Both are smaller than PIPE_BUF, so each write is atomic and the
 * records of a batch's runners never interleave. The job never
 * inherits the batch pipe: a job that leaves a background process behind
 * cannot hold its batch open.
 *
 * With RUNS_DIR, the runner also keeps its run's record there (orphans.h):
 * written once the job is started, and again with the outcome when the
 * FINISHED record finds no reader (EPIPE: the daemon was killed and no
 * descriptor store holds the pipe), so that the next instance records the
 * run's real outcome. A record that cannot be written costs only that.
 *
 * A stop (timeout, cancel) sends SIGTERM to the job's group, and SIGKILL
 * at the end of kill_grace; when the main process exits before that, the
 * members it left in its group still get their SIGKILL then (with a
 * cgroup, cgroup_finish() does the same for the cgroup): the run's
 * FINISHED record goes out at once, and the runner, its batch pipe
 * closed, waits for the deadline before it exits. At once, instead, when
 * the main process itself died of SIGKILL (tickd's shutdown_timeout) or
 * the runner has SIGTERM (tickd stops: batch_manager_free()).
 *
 * SIGTERM (or SIGINT) to the runner means "cancel every run" (shutdown):
 * it forwards SIGTERM to each job's group, and SIGKILL after kill_grace,
 * then reports (cancelled = 1). SIGRTMIN queued with a run's slot as its
 * value (sigqueue(), read as ssi_int) cancels that run only: how the
 * daemon cancels one run of a shared runner. A run cancelled before its
 * job started is stopped as soon as it starts. A shared runner raises its
 * descriptor limit to the hard limit (three or so per running job) and
 * gives each job the daemon's limit back.
 *
 * A runner that can no longer wait for events (poll() fails, as when its
 * descriptor limit was lowered under it) could neither enforce the timeout
 * nor take a cancel, and has not seen its jobs end: it kills each job's
 * group, reaps it and reports a setup failure at stage "poll" (runs not
 * started yet fail there too), never the exit status of a run it did not
 * see finish.
 *
 * Mail: a job with mail_to= gets its run's output mailed after the job
 * has ended, when its mail_on= asks for it (mailer.h); the FINISHED
 * record says whether the mail was sent. on_failure commands send none.
 *
 * Job output: the job writes into pipes the runner reads (output.h): each
 * line goes to the journal as its own entry, named after the job and
 * carrying the run's TICKD_RUN_ID, or, with the stderr log target or no
 * journald, to the runner's stderr (the daemon's) as "JOB: line". When the
 * job's main process exits while something it left behind still holds the
 * pipes, a child of the runner takes them over, so the outcome is not held
 * up and no line is lost. The daemon never reads
 * job output, so it can never block on it. */
#ifndef TICKD_RUNNER_H
#define TICKD_RUNNER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/crontab.h"

enum outcome_kind {
        OUTCOME_STARTED = 1,
        OUTCOME_FINISHED = 2,
};

enum outcome_status {
        OUTCOME_EXITED = 1,       /* code is the exit status */
        OUTCOME_SIGNALED = 2,     /* signal killed the job */
        OUTCOME_SETUP_FAILED = 3, /* stage + error: user look-up, credentials, chdir, exec, fork, poll */
};

/* One record on the batch pipe. Plain data, fixed size, < PIPE_BUF. */
struct outcome {
        uint32_t kind;  /* enum outcome_kind */
        uint32_t slot;  /* index of the run in its batch */
        int32_t pid;    /* the job's pid = its process group; 0 if never forked */
        int32_t status; /* enum outcome_status (FINISHED only) */
        int32_t code;   /* exit status */
        int32_t signal; /* terminating signal */
        int32_t error;  /* FINISHED: errno of a setup failure; STARTED: of writing the run record */
        uint8_t timed_out;
        uint8_t cancelled;     /* the daemon asked the run to stop (shutdown, replace) */
        uint8_t mail;          /* FINISHED: enum mail_result (mailer.h) */
        char stage[22];        /* where a setup failure happened: "user", "setuid", "exec", … */
        char detail[200];      /* the failure in words when the stage and errno do not name what
                                * failed ("cannot enter /nonexistent, the home of user 'nobody': ..."); may be empty */
        char mail_detail[120]; /* why a mail failed or was not sent; empty otherwise */
        /* The run's cgroup (cgroup.h), when it had one. */
        uint8_t in_cgroup;
        uint8_t leftovers_killed; /* kill_leftovers = yes killed them */
        int32_t leftovers;        /* processes left in it when the main process exited */
        int64_t cgroup_cpu_usec;  /* cpu.stat usage_usec of the whole cgroup; -1 unknown */
        int64_t memory_peak;      /* memory.peak, bytes; -1 unknown */
        int64_t oom_kills;        /* memory.events oom_kill; -1 unknown */
        int64_t start_usec;       /* CLOCK_REALTIME */
        int64_t end_usec;         /* CLOCK_REALTIME */
        int64_t duration_usec;    /* CLOCK_MONOTONIC difference */
        int64_t user_usec;
        int64_t system_usec;
        int64_t maxrss_kb;
};

/* What the runner needs; all pointers stay valid in the child (it is a
 * copy of the daemon's memory). */
struct runner_request {
        const struct job *job;
        uint32_t slot;
        int batch_fd; /* write end of the batch pipe */
        const char *run_id;
        const char *command;      /* NULL = job->command (on_failure uses its own) */
        const char *default_path; /* PATH for the job; NULL = built-in */
        int failed_exit_status;   /* on_failure: TICKD_EXIT_STATUS; ignored when < 0 */
        bool relay_output;        /* stderr target: prefix job output lines with the job name */
        const char *runs_dir;     /* where the run's record goes (orphans.h); NULL = none */
        const char *sendmail;     /* the mailer for mail_to= (tickd.conf); NULL = none configured */
        const char *user;         /* for the record: TICKD_USER */
        int64_t scheduled_usec;   /* for the record */
        const char *cgroup_dir;   /* the delegated unit's cgroup (cgroup.h); NULL = process groups */
        bool pam;                 /* tickd.conf's pam=, for jobs that do not set their own */
};

/* A prepared runner (runner_main_prepared()) is forked for an instant's
 * runs ahead of it, so that at the instant only a go record on a socket,
 * the job's vfork() and its exec stand between the daemon's timer and the
 * job (issue 16: the first start). The daemon sends one record per run
 * it starts (a packet of at most 64), then closes its end. */
struct runner_go {
        uint32_t index; /* the run's place in the prepared runner's requests */
        uint32_t slot;  /* its slot in the batch the daemon made at the instant */
};

/* A prepared run's slot until its go record names one. */
#define RUNNER_SLOT_NONE UINT32_MAX

/* Loads the NSS modules that NSSWITCH_CONF (/etc/nsswitch.conf) names for passwd, group
 * and initgroups (libnss_NAME.so.2; glibc's own "files" needs none), once,
 * in the daemon: every runner is a fork of it and then finds them loaded,
 * instead of mapping and relocating them again for its user and group
 * look-ups. Makes no look-up itself, so it cannot block on a name service;
 * a module that does not load is left to the runners, as before. */
void runner_preload_nss(const char *nsswitch_conf);

/* In the freshly forked child: runs the N runs of REQUESTS (one batch
 * pipe: every request's batch_fd is the same descriptor) and exits once
 * each has its FINISHED record. Never returns. N > 1 is a shared runner
 * (see above): batch.c gives PAM and mail runs a runner of N = 1. */
_Noreturn void runner_main(const struct runner_request *requests, size_t n);

/* The same for a runner forked ahead of its instant (a shared one, or
 * one of a PAM or mail run): prepares every run (user look-ups, PAM
 * session, environment, output streams, stdin), then
 * waits on GO_FD for the daemon's word. Each go record starts its run at
 * once, as slot GO.slot of its batch; EOF drops every run that had none,
 * released without a record (the daemon never announced it; a PAM
 * session opened for it is closed). Cancels
 * meanwhile are taken as runner_main() takes them. A preparation that
 * failed is not reported ahead (no slot, and the run may never be
 * started): at its go the run is prepared again and reported where that
 * fails. A run's cgroup is made at its go, so a dropped run leaves none.
 * REQUESTS' slots are this function's to set. */
_Noreturn void runner_main_prepared(struct runner_request *requests, size_t n, int go_fd);

#endif
