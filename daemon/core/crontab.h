/* crontab.h — INI crontabs into validated job definitions.
 *
 * Owns the crontab format (man/tickd.crontab.5, docs/ARCHITECTURE.md): one job per
 * section, [defaults], every key, inih with our own line reader (exact line
 * numbers, over-long lines are errors, values verbatim — no inline
 * comments). A file with any error is rejected whole. The loader returns
 * data and diagnostics; it prints nothing and runs nothing.
 *
 * Ownership: a struct crontab_file owns its jobs and their schedules (one
 * per schedule text, shared by the jobs with that text); a loaded job is
 * one piece of its file's blocks holding its strings and, when it has
 * one, its extra, freed with the file.
 * Zones come from the tz_cache in the options and live as long as it
 * does. */
#ifndef TICKD_CRONTAB_H
#define TICKD_CRONTAB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "core/limits.h"
#include "core/diag.h"
#include "core/fileio.h"
#include "core/mail.h"
#include "core/schedule.h"
#include "core/tz.h"

enum overlap_policy {
        OVERLAP_SKIP, /* default: log that the run was skipped */
        OVERLAP_ALLOW,
        OVERLAP_QUEUE,   /* run once when the previous finishes; at most one queued */
        OVERLAP_REPLACE, /* kill the running one, then start */
};

#define JOB_DEFAULT_KILL_GRACE_USEC (UINT64_C(10) * 1000000)

/* What most jobs leave as it is (issue 16: memory per loaded job). A
 * loaded job whose fields here all hold their defaults has no extra
 * (job->extra NULL) and costs these bytes nowhere; read them through
 * job_extra(), which gives the defaults then. */
struct job_extra {
        char *description;       /* may be NULL */
        char *group;             /* NULL = the user's primary group */
        char *timezone;          /* NULL = the daemon's default zone (job->zone is the zone) */
        char *working_directory; /* NULL = the user's home */
        char *on_failure;        /* NULL = none; run by /bin/sh -c */
        char *stdin_text;        /* the command's standard input; NULL = /dev/null (never empty) */
        char *mail_to;           /* NULL = no mail; else validated (core/mail.h) */
        uint64_t kill_grace_usec;
        uint64_t random_delay_usec;
        /* Containment (issue 19): limits of the run's cgroup (limits.h);
         * PAM for the run (-1: tickd.conf's pam=). */
        struct job_limits limits;
        int16_t umask; /* -1 = 022; else 0..0777 */
        int8_t nice;   /* -20..19 */
        int8_t pam;    /* -1, 0, 1 */
        enum mail_on mail_on : 8;
        bool has_nice;
};

/* The defaults of every field of struct job_extra. */
extern const struct job_extra job_extra_defaults;

struct job {
        /* Pointers first, then 64-bit fields, then the small ones: no
         * padding between fields (issue 16: memory per loaded job; 88
         * bytes, crontab.c checks). */
        char *name;       /* the section name; unique across files */
        const char *file; /* the crontab it came from: its crontab_file's path */
        /* Jobs of one file with the same schedule text share one (owned
         * by the crontab_file once loaded); it holds the text
         * (job_schedule_text()). */
        struct schedule *schedule;
        char *command;           /* run by /bin/sh -c, verbatim */
        char *user;              /* NULL = the daemon's own user */
        const struct tz *zone;   /* resolved; never NULL after a load */
        char **environment;      /* NULL-terminated "NAME=value" list, in file order */
        struct job_extra *extra; /* NULL = every default (job_extra()) */
        uint64_t timeout_usec;   /* 0 = none */
        /* Line numbers in 24 bits: a crontab is at most
         * CRONTAB_MAX_FILE_SIZE bytes, so a line with a key on it is below
         * 1 << 24; the small fields share their 32-bit units (issue 16:
         * struct job 96 -> 88 bytes). */
        unsigned line : 24; /* the line of its [section] header */
        enum overlap_policy overlap : 8;
        /* Where schedule=, command= and timeout= were set (the [defaults]
         * line for an inherited timeout; 0 = not set), for warnings. */
        unsigned schedule_line : 24;
        /* Where it runs: on every host (the default), or once per instant
         * across the fleet, claimed in etcd (tickd.conf's [fleet]). */
        enum job_scope {
                JOB_SCOPE_HOST,
                JOB_SCOPE_FLEET,
        } scope : 8;
        unsigned command_line : 24;
        bool persistent : 1;
        bool enabled : 1;
        /* Whether processes the job's main process leaves behind are
         * killed when it exits (default yes). */
        bool kill_leftovers : 1;
        /* A loaded job is one piece of its file's job blocks: the job,
         * then its extra, its environment, name and strings (crontab.c,
         * job_pack()); job_free() leaves it to crontab_file_free(). */
        bool packed : 1;
        unsigned timeout_line : 24;
};

/* The schedule as written, for display; NULL while a job has none. */
static inline const char *job_schedule_text(const struct job *job)
{
        return job->schedule ? schedule_text(job->schedule) : NULL;
}

static inline const struct job_extra *job_extra(const struct job *job)
{
        return job->extra ? job->extra : &job_extra_defaults;
}

struct crontab_file {
        char *path;
        /* What was read, so a reload can tell an unchanged file. */
        struct file_identity identity;
        struct job **jobs;
        size_t n_jobs;
        /* The schedules of its jobs, each text parsed once: jobs with the
         * same schedule text share one (most crontabs repeat a few). They
         * are carved one after another, each with its text, from a few
         * blocks freed with the file (crontab.c): no malloc chunk and no
         * list pointer per schedule (issue 16). */
        struct crontab_block *schedule_blocks;
        size_t n_schedules;
        /* Its jobs' blocks: a loaded job is carved from them, freed with
         * the file (job_free() leaves a loaded job alone). */
        struct crontab_block *job_blocks;
};

struct crontab_options {
        bool system_mode;       /* root-owned files only */
        uid_t owner_uid;        /* user mode: files must belong to this user */
        const char *owner_name; /* user mode: its name when known (user= may name only it) */
        /* In both modes files writable by group or others are refused. */
        struct tz_cache *zones;
        const struct tz *default_zone; /* for jobs without timezone= */
        bool resolve_users;            /* check that user=/group= exist (NSS look-up) */
        bool check_commands;           /* warn when the command's program is not found */
        const char *default_path;      /* PATH for check_commands; NULL = CRONTAB_DEFAULT_PATH */
        const char *sendmail;          /* with check_commands: warn about mail_to when it cannot be run */
        /* Skip the owner and mode checks (tickctl check on a file that is
         * not installed yet). The daemon never sets this. */
        bool ignore_ownership;
        /* tickd.conf has a [fleet] section: without one, scope = fleet is
         * an error (there is nowhere to claim the run). */
        bool fleet_configured;
        /* Why memory_max=, cpu_quota=, tasks_max= and io_weight= cannot be
         * enforced where the file is loaded (the daemon without per-run
         * cgroups): each job that sets one gets a warning saying so. NULL:
         * no warning (they are enforced, or tickctl cannot tell). */
        const char *limits_unenforced;
        /* When not 0, every job whose section has no error (nor
         * [defaults]) gets crontab_lint_job()'s warnings as of this
         * instant, in a rejected file too, so one run of tickctl check says
         * everything. The daemon never sets this. */
        int64_t lint_at;
};

#define CRONTAB_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* What one file may cost, so that no file can hold up the daemon's loop
 * (the loader is linear in the file; these bound the file):
 * crontabs larger than this are refused (a 10,000-job file is ~1.6 MiB); */
#define CRONTAB_MAX_FILE_SIZE (16 * 1024 * 1024)
/* at most this many section headers and KEY = VALUE lines (a 10,000-job
 * file has ~60,000): the file is rejected at the line past the limit; */
#define CRONTAB_MAX_ENTRIES 200000
/* at most this many environment variables per job, [defaults]' included; */
#define CRONTAB_MAX_ENVIRONMENT 256
/* at most this many diagnostics kept per file; the rest are counted in a
 * final "… and N more errors". */
#define CRONTAB_MAX_DIAGNOSTICS 100

/* Loads one crontab. On success (no errors) returns 0 and *OUT; when the
 * file has errors returns -EINVAL and *OUT is NULL; -EPERM when its owner
 * or mode is refused (checked on the opened file, so on a symlink's
 * target); other negative errnos for files that cannot be read. Every
 * problem is appended to DIAGS with file and line (line 0 = the whole
 * file); warnings (check_commands) may come with a successful load. */
int crontab_load_file(const char *path, const struct crontab_options *options, struct crontab_file **out,
                      struct diagnostics *diags);
void crontab_file_free(struct crontab_file *file);

/* Like crontab_load_file() for LEN bytes in memory, named NAME in
 * diagnostics and in the jobs; no owner or mode checks, identity fields 0. */
int crontab_load_buffer(const char *name, const char *buf, size_t len, const struct crontab_options *options,
                        struct crontab_file **out, struct diagnostics *diags);
void job_free(struct job *job);

/* The owner and mode rule of OPTIONS (its ignore_ownership aside) for the
 * file or directory described by ST, opened or stat()ed through any
 * symlink: the system instance's are owned by root, a user instance's by
 * OPTIONS->owner_uid, and neither may be writable by group or others.
 * tickd holds its crontabs, jobs directory, tickd.conf, state and runtime
 * directories to it. Appends an error naming PATH and exactly what is
 * wrong and returns -EPERM when refused; 0 when fine. */
int crontab_check_owner(const char *path, const struct stat *st, const struct crontab_options *options, bool is_dir,
                        struct diagnostics *diags);

/* The crontab paths of DIR in name order: *.ini only, skipping dotfiles,
 * editor backups and package-manager leftovers (reported as DIAG_DEBUG).
 * Refuses (DIAG_ERROR) a directory with wrong owner or mode in system mode.
 * *OUT is a NULL-terminated array the caller frees with strv_free() (strv.h). */
int crontab_list_dir(const char *dir, const struct crontab_options *options, char ***out, struct diagnostics *diags);

/* The crontabs of a directory that loaded without errors, in name order. */
struct crontab_set {
        struct crontab_file **files;
        size_t n_files;
};

/* Lists DIR and loads every crontab in it. A file with errors is left out
 * (its errors are in DIAGS); so is a file that defines a job already
 * defined by an earlier file ("job 'x' already defined at FILE:LINE").
 * Returns 0 when the directory could be listed (whatever the files held),
 * a negative errno when it could not or was refused (then *OUT is empty). */
int crontab_load_dir(const char *dir, const struct crontab_options *options, struct crontab_set *out,
                     struct diagnostics *diags);
void crontab_set_free(struct crontab_set *set);

/* Appends an error for each job of FILE whose name a job of SET already
 * uses, naming both places. Returns how many (0 = FILE may join SET), or
 * -ENOMEM (FILE must not join: an error may have gone unrecorded). */
int crontab_check_duplicates(const struct crontab_set *set, const struct crontab_file *file, struct diagnostics *diags);

/* The canonical name of the I-th key a crontab knows, I = 0, 1, ... until
 * NULL: what a tool that translates jobs must have a rule for (tickctl
 * export's table is tested against this list, so a new key cannot be
 * exported silently wrong). */
const char *crontab_key_name(size_t i);

/* The job called NAME in SET, or NULL. */
const struct job *crontab_set_find(const struct crontab_set *set, const char *name);

/* Warnings for a valid job that is probably wrong, as of NOW (seconds
 * since the epoch; tickctl check passes the clock, tests a fixed instant):
 * next run more than a year away or never; a fixed time that falls in a
 * DST gap or overlap of the job's zone within the next year (naming the
 * dates); timeout longer than the interval with overlap = allow. Appends
 * DIAG_WARNINGs at the job's lines; returns how many, or -ENOMEM. */
int crontab_lint_job(const struct job *job, int64_t now, struct diagnostics *diags);

#endif
