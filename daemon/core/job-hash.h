/* job-hash.h — a fingerprint of what a job does, to tell whether two
 * hosts agree on a fleet job.
 *
 * Fleet nodes each load their own copy of a crontab; a claim in etcd
 * carries the fingerprint of the claimer's definition, so a node whose
 * copy differs says so (fleet.h). Covered: everything that changes what
 * runs, as whom, when and how long (schedule, command, user, group,
 * timezone, environment, working directory, umask, nice, timeout,
 * kill_grace, overlap, random_delay, persistent, on_failure, enabled,
 * scope). Not covered: description and where the job was written (file,
 * line), which may differ between hosts without harm. */
#ifndef TICKD_JOB_HASH_H
#define TICKD_JOB_HASH_H

#include "core/crontab.h"

#define JOB_HASH_LEN 17 /* 16 hex digits and the NUL */

/* Writes JOB's fingerprint as 16 lowercase hex digits. */
void job_hash(const struct job *job, char out[static JOB_HASH_LEN]);

#endif
