/* reload.h — the jobs directory into the scheduler, file by file.
 *
 * Owns the reload policy (docs/ARCHITECTURE.md, step 1 of one run): each crontab is judged alone. A
 * file that is unchanged on disk (same device, inode, size and mtime) is
 * not read again; a changed file that loads cleanly replaces its previous
 * version; a file with errors is rejected whole and its previous version
 * stays in force; a file gone from the directory takes its jobs with it.
 * Every diagnostic is logged with file:line (config-rejected records for
 * errors), and one "reloaded" record sums up the result. A rejected file
 * that has not changed since (the same identity and ctime: a chmod or
 * chown counts as a change) is not read or logged again, only counted as
 * rejected. Runs in progress are never touched (the scheduler's
 * contract). */
#ifndef TICKD_RELOAD_H
#define TICKD_RELOAD_H

#include "core/crontab.h"
#include "tickd/scheduler.h"

struct reload_result {
        unsigned loaded; /* files read and taken (new or changed) */
        unsigned unchanged;
        unsigned rejected; /* files with errors; their old version (if any) stays */
        unsigned removed;
};

/* The files rejected as they are on disk now, from one reload to the
 * next (the daemon keeps one). */
struct reload_memory;
struct reload_memory *reload_memory_new(void);
struct reload_memory *reload_memory_free(struct reload_memory *m);
/* How many files it holds: the crontabs rejected as they are now. */
size_t reload_memory_count(const struct reload_memory *m);

/* Returns 0 (see RESULT), or a negative errno when the directory itself
 * cannot be listed: then nothing changes. MEMORY may be NULL: then a
 * rejected file is read and logged again on every reload. */
int reload_jobs(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options,
                struct reload_memory *memory, struct reload_result *result);

/* The same, but every file is read again, changed on disk or not: the
 * settings they are read with (the default time zone) changed. */
int reload_jobs_all(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options,
                    struct reload_memory *memory, struct reload_result *result);

/* The same, one file at a time, so that a daemon serves its other events
 * between files: reload_pass_new() lists the directory (or returns a
 * negative errno as above, and then nothing changes), each
 * reload_pass_step() loads the next file and says whether any is left,
 * and reload_pass_finish() loads what is left, drops the files gone from
 * the directory and writes RESULT. S, OPTIONS and MEMORY must outlive the
 * pass. A pass freed before it is finished leaves the files it loaded in
 * force and removes nothing. */
struct reload_pass;
int reload_pass_new(struct scheduler *s, const char *jobs_dir, const struct crontab_options *options, bool all,
                    struct reload_memory *memory, struct reload_pass **ret);
bool reload_pass_step(struct reload_pass *pass);
void reload_pass_finish(struct reload_pass *pass, struct reload_result *result);
struct reload_pass *reload_pass_free(struct reload_pass *pass);

/* Logs every item of DIAGS: errors as config-rejected records. */
void reload_log_diagnostics(const struct diagnostics *diags);

#endif
