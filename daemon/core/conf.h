/* conf.h — tickd.conf, the daemon's own settings, into a validated struct.
 *
 * The same INI syntax as crontabs (inifile.h), one [daemon] section:
 * default_timezone, shutdown_timeout, max_concurrent, path, log_level
 * (man/tickd.8). Like the crontab loader it returns data and diagnostics
 * with file:line and prints nothing; the daemon and tickctl check decide
 * how to report. A struct daemon_config owns its strings. */
#ifndef TICKD_CONF_H
#define TICKD_CONF_H

#include <stddef.h>
#include <stdint.h>

#include "core/crontab.h"
#include "core/diag.h"

/* Daemon settings: tickd.conf, [daemon] section. */
struct daemon_config {
        char *default_timezone;         /* NULL = the system zone */
        uint64_t shutdown_timeout_usec; /* default 90s */
        unsigned max_concurrent;        /* 0 = unlimited */
        char *default_path;             /* PATH for jobs; never NULL after a load */
        int log_level;                  /* syslog priority, default LOG_INFO */
        unsigned default_timezone_line; /* where default_timezone was set, for its errors */
};

/* A missing file yields the defaults and returns 0. A file with errors
 * returns -EINVAL with the errors in DIAGS and *OUT holding the defaults;
 * one that RULE refuses, -EPERM: the crontabs' owner and mode rule
 * (system_mode, owner_uid; see crontab_load_file()), on the file a
 * symlink leads to. RULE NULL (or its ignore_ownership) checks content
 * only. Either way *OUT must be released with daemon_config_free(). */
int daemon_config_load(const char *path, const struct crontab_options *rule, struct daemon_config *out,
                       struct diagnostics *diags);
int daemon_config_load_buffer(const char *name, const char *buf, size_t len, struct daemon_config *out,
                              struct diagnostics *diags);
void daemon_config_free(struct daemon_config *config);

/* CONFIG's default_timezone from ZONES into *ZONE (NULL when none is set:
 * the system's applies). One that is not installed or not a valid zone is
 * an error at PATH:LINE in DIAGS and returns -EINVAL, wherever it is read
 * (tickctl check, tickd --check, start-up, a reload), so that one verdict
 * holds. -ENOMEM when DIAGS cannot take it. */
int daemon_config_zone(const struct daemon_config *config, const char *path, struct tz_cache *zones,
                       const struct tz **zone, struct diagnostics *diags);

#endif
