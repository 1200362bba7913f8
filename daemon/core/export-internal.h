/* export-internal.h — what export.c shares with export-systemd.c and
 * export-kubernetes.c. Not a public contract. */
#ifndef TICKD_EXPORT_INTERNAL_H
#define TICKD_EXPORT_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "core/export.h"
#include "core/strbuf.h"

/* A diagnostic "job 'NAME': KEY: MESSAGE" at the line of KEY (schedule=)
 * or of the job's section. Returns 0 or -ENOMEM. */
__attribute__((format(printf, 5, 6))) int export_diag(struct diagnostics *d, enum diag_severity severity,
                                                      const struct job *job, const char *key, const char *fmt, ...);
/* The mapping table's verdict on JOB: warnings, and errors that set
 * *REFUSED. Returns 0 or -ENOMEM. */
int export_check_rules(const struct job *job, enum export_format format, struct diagnostics *diags, bool *refused);
/* Appends NAME with TEXT (taken, freed on failure). */
int export_files_add(struct export_files *out, const char *name, char *text);
/* Warnings naming the dates in the year after OPTIONS->now on which the
 * format would run JOB at other instants than tickd does (DST). */
int export_warn_dst(const struct job *job, const struct export_options *options, struct diagnostics *diags);
/* The zone the job's schedule is evaluated in. */
const struct tz *export_job_zone(const struct job *job);
void export_put_plain(struct strbuf *f, const char *s);

/* Each format's part: -EOPNOTSUPP with errors in DIAGS when it refuses. */
int export_systemd(const struct job *job, const struct export_options *options, struct export_files *out,
                   struct diagnostics *diags);
int export_kubernetes(const struct job *job, const struct export_options *options, struct export_files *out,
                      struct diagnostics *diags);

#endif
