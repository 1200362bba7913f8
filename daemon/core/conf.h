/* conf.h — tickd.conf, the daemon's own settings, into a validated struct.
 *
 * The same INI syntax as crontabs (inifile.h): a [daemon] section
 * (default_timezone, shutdown_timeout, max_concurrent, path, log_level,
 * sendmail, metrics_file, metrics_listen)
 * and an optional [fleet] section, the etcd cluster that fleet jobs are
 * claimed in (man/tickd.8, FLEET). Only syntax is checked here: the
 * daemon reads the password file and reaches etcd. Like the crontab loader it returns data and diagnostics
 * with file:line and prints nothing; the daemon and tickctl check decide
 * how to report. A struct daemon_config owns its strings. */
#ifndef TICKD_CONF_H
#define TICKD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/crontab.h"
#include "core/diag.h"

/* tickd.conf's [fleet] section. Paths are absolute; strings are owned. */
struct fleet_config {
        char **endpoints; /* NULL-terminated (core/strv.h), >= 1, each http://host:port or https://host:port
                             (host: name, IPv4, or [IPv6]; port 1..65535 required) */
        char *name;       /* the fleet: keys live under /tickd/NAME/ ; [A-Za-z0-9._-]{1,64} */
        char *node;       /* NULL = not set: the daemon uses the host name; same charset as name */
        enum fleet_unavailable { FLEET_UNAVAILABLE_SKIP, FLEET_UNAVAILABLE_RUN } on_unavailable; /* default skip */
        char *ca_file, *cert_file, *key_file; /* NULL = none; only with an https endpoint; cert and key together */
        char *user;                           /* etcd user, NULL = none */
        char *password_file;                  /* the file holding the password; given iff user is */
        uint64_t retention_usec;              /* `retention =` history kept in etcd: default 7d, at least 1h */
        uint64_t claim_timeout_usec;          /* `claim_timeout =`: default 2s, 100ms..60s */
        uint64_t lease_ttl_usec;              /* `lease_ttl =` the node's heartbeat lease: default 5s, whole
                                                 seconds 2s..60s */
        unsigned line;                        /* line of the [fleet] header */
};

void fleet_config_free(struct fleet_config *f);
/* Whether A and B describe the same fleet membership, every key alike
 * (the line of the header aside); two NULLs (no [fleet]) are equal. */
bool fleet_config_equal(const struct fleet_config *a, const struct fleet_config *b);

#define CONF_DEFAULT_SENDMAIL "/usr/sbin/sendmail"

/* Daemon settings: tickd.conf. */
struct daemon_config {
        char *default_timezone;         /* NULL = the system zone */
        uint64_t shutdown_timeout_usec; /* default 90s */
        unsigned max_concurrent;        /* 0 = unlimited */
        char *default_path;             /* PATH for jobs; never NULL after a load */
        char *sendmail;                 /* the mailer for mail_to=; never NULL after a load */
        int log_level;                  /* syslog priority, default LOG_INFO */
        unsigned default_timezone_line; /* where default_timezone was set, for its errors */
        struct fleet_config *fleet;     /* NULL = no [fleet] section */
        bool pam;                       /* pam=: PAM account and session for runs (default no) */
        char *metrics_file;             /* `metrics_file =` absolute path, NULL = none */
        char *metrics_listen;           /* `metrics_listen =` "IPv4:PORT" or "[IPv6]:PORT", NULL = none */
};

/* metrics_listen's value: an IPv4 address or a bracketed IPv6 one, a
 * colon and a port 1..65535 ("127.0.0.1:9101", "[::1]:9101"), into *OUT
 * and *LEN for bind(). Returns 0 or -EINVAL. */
int daemon_config_listen_parse(const char *text, struct sockaddr_storage *out, socklen_t *len);

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
