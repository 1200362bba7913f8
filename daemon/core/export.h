/* export.h — a job as systemd units or as a Kubernetes CronJob (tickctl
 * export).
 *
 * Owns the mapping from crontab keys to the other scheduler's settings:
 * one row per key in export.c's table, saying where the key goes in each
 * format, or, when the format cannot say it, whether the job is refused
 * (its meaning would change: overlap = queue, on_failure in Kubernetes)
 * or exported with a warning (a nicety is lost: nice in Kubernetes). The
 * table is checked against crontab_key_name() by the tests, so a key added
 * to the crontab format must get a row before anything exports again.
 *
 * Pure: text in memory, no I/O; "now" is an argument (the DST warnings
 * look one year ahead of it). A refused job produces no files. */
#ifndef TICKD_EXPORT_H
#define TICKD_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/crontab.h"
#include "core/diag.h"

enum export_format {
        EXPORT_SYSTEMD,
        EXPORT_KUBERNETES,
};

struct export_options {
        enum export_format format;
        int64_t now;       /* seconds since the epoch */
        const char *image; /* Kubernetes: the container image; NULL = EXPORT_DEFAULT_IMAGE */
        /* systemd: the PATH tickd gives jobs (tickd.conf's default_path;
         * NULL = CRONTAB_DEFAULT_PATH), set unless the job sets its own. */
        const char *path;
        /* systemd: units for a user's manager (tickd --user): no User=,
         * Group= (the manager runs as its user); else User=root for jobs
         * without user=, so that systemd sets HOME, USER, SHELL as tickd does. */
        bool user_units;
};

#define EXPORT_DEFAULT_IMAGE "debian:bookworm-slim"

/* One file: a unit ("backup.service", "backup.timer") or a manifest
 * ("backup.yaml", one YAML document). */
struct export_file {
        char *name;
        char *text;
};

struct export_files {
        struct export_file *items;
        size_t count;
};

/* Appends JOB's files to OUT. Returns 0 (warnings, if any, in DIAGS at
 * the job's file and line); -EOPNOTSUPP when the format cannot express the
 * job (one error per reason in DIAGS; nothing appended); -ENOMEM. */
int export_job(const struct job *job, const struct export_options *options, struct export_files *out,
               struct diagnostics *diags);
void export_files_free(struct export_files *files);

/* The row for KEY in the mapping table, for the tests and the man page:
 * where it goes in FORMAT, or NULL when FORMAT has no place for it. Sets
 * *KNOWN to whether the table has a row for KEY at all. */
const char *export_key_target(const char *key, enum export_format format, bool *known);

/* The unit name of job NAME: NAME with every byte outside [A-Za-z0-9:_.-]
 * (and a leading '.') written \xNN as systemd-escape does; malloc'd. */
char *export_unit_name(const char *name);

/* STRING as one systemd unit-file word: double-quoted with C escapes, '%'
 * doubled (no specifiers) and, with NO_EXPAND, '$' doubled (ExecStart=
 * would expand variables); malloc'd. */
char *export_systemd_quote(const char *string, bool no_expand);

/* STRING as a YAML double-quoted scalar (every byte safe in YAML 1.1 and
 * 1.2: control characters, DEL, C1, U+2028/2029 and U+FEFF escaped);
 * malloc'd; NULL with -EILSEQ in *ERROR for bytes that are not UTF-8, or
 * -ENOMEM. */
char *export_yaml_quote(const char *string, int *error);

#endif
