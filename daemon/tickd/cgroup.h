/* cgroup.h — a cgroup v2 per run, under tickd's delegated unit (issue 19;
 * the design and its reasons are in docs/ARCHITECTURE.md, "Containment").
 *
 * At start-up the daemon detects whether it may manage the cgroups below
 * its own unit (cgroup v2, a *.service cgroup that systemd delegated to
 * it); if so it moves itself into the leaf UNIT/daemon and enables the
 * memory, pids, cpu and io controllers that the unit offers for its runs.
 * Each run then gets UNIT/run-JOB-RUNID (limits.h names it), made by its
 * runner before the job starts; the job process enters it as its first
 * step, so nothing it starts is ever outside. The runner signals, counts,
 * measures and finally removes it. Without delegation none of this
 * happens and runs are process groups, as before. */
#ifndef TICKD_CGROUP_H
#define TICKD_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* What start-up found: the unit's cgroup directory (absolute path under
 * the cgroup2 mount) and the controllers enabled for runs. */
struct cgroup_setup {
        char *dir;            /* "/sys/fs/cgroup/system.slice/tickd.service" */
        char controllers[64]; /* "memory pids cpu io", those enabled; may be empty */
};

/* Detects delegation and, when found, moves the calling process into
 * DIR/daemon and enables the controllers. Returns 1 with *OUT set
 * (cgroup_setup_free() it), 0 when runs stay process groups (WHY says why
 * in a phrase), or a negative errno when delegation was found but the
 * set-up failed (WHY names the step). */
int cgroup_setup_detect(struct cgroup_setup **out, char *why, size_t why_size);
void cgroup_setup_free(struct cgroup_setup *setup);

/* `tickd --cgroup-release`, the unit's ExecStartPre=: run in UNIT/.control,
 * clears UNIT's cgroup.subtree_control so that systemd can start the main
 * process in UNIT itself (cgroup v2 allows no processes in a cgroup that
 * enables controllers for its children) after a daemon that could not
 * clear it died. Runs that survive keep running, without their limits.
 * Returns 0 or a negative errno. */
int cgroup_release(void);

/* One run's cgroup, inside its runner. */
struct cgroup_run {
        int dir_fd;   /* the run's cgroup directory */
        int procs_fd; /* its cgroup.procs, for the job process to write "0" */
        int parent_fd;
        char name[256];
};

/* Makes DIR/run-JOB-RUNID with LIMITS written, and opens its cgroup.procs.
 * Returns 0, or a negative errno with *WHAT naming the step in words
 * ("memory_max: the memory controller is not enabled for tickd's runs"). */
int cgroup_run_create(const char *dir, const char *job, const char *run_id, const struct job_limits *limits,
                      struct cgroup_run *out, char *what, size_t what_size);
/* SIG to every process in the run's cgroup; SIGKILL through cgroup.kill
 * (atomic against forks) when the kernel has it. Returns how many were
 * signalled (cgroup.kill: 1), or a negative errno. */
int cgroup_run_signal(const struct cgroup_run *run, int sig);
/* How many processes are in the run's cgroup now (negative errno). */
int cgroup_run_count(const struct cgroup_run *run);
/* Waits until the run's cgroup has no process, at most TIMEOUT_MS.
 * Returns 0, -ETIMEDOUT or another negative errno. */
int cgroup_run_wait_empty(const struct cgroup_run *run, int timeout_ms);

/* The whole cgroup's accounting; -1: unknown (no such file: controller
 * not enabled, or a kernel without memory.peak). */
struct cgroup_stats {
        int64_t memory_peak; /* bytes: memory.peak (kernel ≥ 5.19) */
        int64_t cpu_usec;    /* cpu.stat usage_usec (every cgroup v2 has it) */
        int64_t oom_kills;   /* memory.events oom_kill */
};
void cgroup_run_stats(const struct cgroup_run *run, struct cgroup_stats *out);

/* Closes the run's descriptors and removes its cgroup, which must be
 * empty. Returns 0 or the negative errno of rmdir (-EBUSY: not empty). */
int cgroup_run_remove(struct cgroup_run *run);
/* Closes the descriptors only. */
void cgroup_run_close(struct cgroup_run *run);

/* The daemon's last resort at exit: SIGKILL to the whole cgroup of the
 * run RUN_ID of JOB under DIR. Returns 0 or a negative errno. */
int cgroup_kill_run(const char *dir, const char *job, const char *run_id);

#endif
