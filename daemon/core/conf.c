/* conf.c — tickd.conf, the daemon's settings; see conf.h. Same INI
 * syntax and strictness as the crontabs (inifile). */
#include "core/conf.h"

#include <ctype.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/conf-fleet.h"
#include "core/crontab-internal.h"
#include "core/fileio.h"
#include "core/inifile.h"
#include "core/timespan.h"

#define DEFAULT_SHUTDOWN_TIMEOUT_USEC (UINT64_C(90) * USEC_PER_SEC)
#define CONF_MAX_FILE_SIZE            (1024 * 1024) /* "larger than 1 MiB" in its message */

enum conf_key {
        CONF_DEFAULT_TIMEZONE,
        CONF_SHUTDOWN_TIMEOUT,
        CONF_MAX_CONCURRENT,
        CONF_PATH,
        CONF_LOG_LEVEL,
        CONF_SENDMAIL,
        CONF_PAM,
        CONF_METRICS_FILE,
        CONF_METRICS_LISTEN,
};

static const char *const conf_keys[] = {
        [CONF_DEFAULT_TIMEZONE] = "default_timezone",
        [CONF_SHUTDOWN_TIMEOUT] = "shutdown_timeout",
        [CONF_MAX_CONCURRENT] = "max_concurrent",
        [CONF_PATH] = "path",
        [CONF_LOG_LEVEL] = "log_level",
        [CONF_SENDMAIL] = "sendmail",
        [CONF_PAM] = "pam",
        [CONF_METRICS_FILE] = "metrics_file",
        [CONF_METRICS_LISTEN] = "metrics_listen",
};

static const char *const level_names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

enum conf_section {
        SECTION_NONE, /* before the first header */
        SECTION_DAEMON,
        SECTION_FLEET,
        SECTION_OTHER, /* a header with an error: keys are checked, values dropped */
};

struct conf_parse {
        const char *file;
        struct daemon_config *config;
        struct diagnostics *diags;
        enum conf_section section;
        unsigned seen[ELEMENTSOF(conf_keys)];
        unsigned fleet_seen[_FLEET_KEY_MAX];
        unsigned n_suggestions; /* CRONTAB_MAX_SUGGESTIONS */
        int error;
};

#define CONF_ERROR(cp, at, key, ...)                                                                 \
        do {                                                                                         \
                if (diag_add_key((cp)->diags, DIAG_ERROR, (cp)->file, (at), (key), __VA_ARGS__) < 0) \
                        (cp)->error = -ENOMEM;                                                       \
        } while (0)

/* As in the crontabs: no "did you mean" past the caps. */
static bool may_suggest(struct conf_parse *cp)
{
        return !diag_full(cp->diags) && cp->n_suggestions++ < CRONTAB_MAX_SUGGESTIONS;
}

static int conf_section(void *user, const char *name, unsigned line)
{
        struct conf_parse *cp = user;
        static const char *const sections[] = { "daemon", "fleet" };
        const char *s;
        cp->section = SECTION_OTHER;
        if (!name)
                return cp->error;
        if (strcmp(name, "daemon") == 0)
                cp->section = SECTION_DAEMON;
        else if (strcmp(name, "fleet") == 0 && cp->config->fleet)
                CONF_ERROR(cp, line, NULL, "[fleet] already given at line %u", cp->config->fleet->line);
        else if (strcmp(name, "fleet") == 0) {
                cp->section = SECTION_FLEET;
                if (!(cp->config->fleet = fleet_config_new(line)))
                        cp->error = -ENOMEM;
        } else if (may_suggest(cp) && (s = crontab_suggest(name, sections, ELEMENTSOF(sections))))
                CONF_ERROR(cp, line, NULL, "unknown section [%s] (did you mean [%s]?)", name, s);
        else
                CONF_ERROR(cp, line, NULL, "unknown section [%s]: tickd.conf has only [daemon] and [fleet]", name);
        return cp->error;
}

static bool valid_zone_name(const char *v)
{
        if (!*v || *v == '/' || strstr(v, ".."))
                return false;
        for (const char *c = v; *c; c++)
                if (!isalnum((unsigned char)*c) && !strchr("/_-+", *c))
                        return false;
        return true;
}

static bool valid_path_list(const char *v)
{
        if (!*v)
                return false;
        for (const char *d = v; *d;) {
                size_t n = strcspn(d, ":");
                if (n == 0 || d[0] != '/')
                        return false;
                d += n;
                if (*d == ':')
                        d++;
        }
        return true;
}

static int replace_string(char **field, const char *v)
{
        char *copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

int daemon_config_listen_parse(const char *text, struct sockaddr_storage *out, socklen_t *len)
{
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon = strrchr(text, ':');
        size_t n = colon ? (size_t)(colon - text) : 0;
        if (!colon || n == 0 || n >= sizeof(host))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long port = strtoul(colon + 1, &end, 10);
        if (!isdigit((unsigned char)colon[1]) || *end || errno || port == 0 || port > 65535)
                return -EINVAL;
        memcpy(host, text, n);
        host[n] = '\0';
        struct sockaddr_storage sa = { 0 };
        if (host[0] == '[' && host[n - 1] == ']') {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&sa;
                host[n - 1] = '\0';
                if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
                        return -EINVAL;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t)port);
                *len = sizeof(*in6);
        } else {
                struct sockaddr_in *in = (struct sockaddr_in *)&sa;
                if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
                        return -EINVAL;
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t)port);
                *len = sizeof(*in);
        }
        *out = sa;
        return 0;
}

static void metrics_value(struct conf_parse *cp, size_t id, const char *key, const char *v, unsigned line)
{
        struct daemon_config *c = cp->config;
        struct sockaddr_storage sa;
        socklen_t len;
        if (id == CONF_METRICS_FILE && (v[0] != '/' || v[strlen(v) - 1] == '/'))
                CONF_ERROR(cp, line, key, "metrics_file: '%s' is not an absolute file name", v);
        else if (id == CONF_METRICS_FILE && replace_string(&c->metrics_file, v) < 0)
                cp->error = -ENOMEM;
        else if (id == CONF_METRICS_LISTEN && daemon_config_listen_parse(v, &sa, &len) < 0)
                CONF_ERROR(cp, line, key,
                           "metrics_listen: '%s' is not an IP address and port (like 127.0.0.1:9101 or [::1]:9101)", v);
        else if (id == CONF_METRICS_LISTEN && replace_string(&c->metrics_listen, v) < 0)
                cp->error = -ENOMEM;
}

static void conf_value(struct conf_parse *cp, size_t id, const char *key, const char *v, unsigned line)
{
        struct daemon_config *c = cp->config;
        char *end;

        switch ((enum conf_key)id) {
        case CONF_DEFAULT_TIMEZONE:
                if (!valid_zone_name(v))
                        CONF_ERROR(cp, line, key,
                                   "default_timezone: '%s' is not a time zone name (like Europe/Berlin or UTC)", v);
                else if (replace_string(&c->default_timezone, v) < 0)
                        cp->error = -ENOMEM;
                else
                        c->default_timezone_line = line;
                return;
        case CONF_SHUTDOWN_TIMEOUT: {
                uint64_t usec;
                if (timespan_parse(v, &usec) < 0)
                        CONF_ERROR(cp, line, key, "shutdown_timeout: '%s' is not a time span (examples: 90s, 2min)", v);
                else
                        c->shutdown_timeout_usec = usec;
                return;
        }
        case CONF_MAX_CONCURRENT: {
                errno = 0;
                unsigned long n = strtoul(v, &end, 10);
                if (!isdigit((unsigned char)*v) || *end || errno || n > 1000000)
                        CONF_ERROR(cp, line, key, "max_concurrent: '%s' is not a number from 0 (unlimited) to 1000000",
                                   v);
                else
                        c->max_concurrent = (unsigned)n;
                return;
        }
        case CONF_PATH:
                if (!valid_path_list(v))
                        CONF_ERROR(cp, line, key, "path: '%s' is not a list of absolute directories separated by ':'",
                                   v);
                else if (replace_string(&c->default_path, v) < 0)
                        cp->error = -ENOMEM;
                return;
        case CONF_LOG_LEVEL:
                for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                        if (strcasecmp(v, level_names[i]) == 0 || (v[0] == (char)('0' + i) && !v[1])) {
                                c->log_level = (int)i;
                                return;
                        }
                if (strcasecmp(v, "error") == 0)
                        c->log_level = LOG_ERR;
                else if (strcasecmp(v, "warn") == 0)
                        c->log_level = LOG_WARNING;
                else
                        CONF_ERROR(cp, line, key,
                                   "log_level: '%s' is not one of emerg, alert, crit, err, warning, "
                                   "notice, info, debug (or 0-7)",
                                   v);
                return;
        case CONF_SENDMAIL:
                if (v[0] != '/' || strpbrk(v, " \t"))
                        CONF_ERROR(cp, line, key, "sendmail: '%s' is not an absolute path (without blanks)", v);
                else if (replace_string(&c->sendmail, v) < 0)
                        cp->error = -ENOMEM;
                return;
        case CONF_PAM:
                if (strcasecmp(v, "yes") == 0 || strcasecmp(v, "true") == 0 || strcasecmp(v, "on") == 0 ||
                    strcmp(v, "1") == 0)
                        c->pam = true;
                else if (strcasecmp(v, "no") == 0 || strcasecmp(v, "false") == 0 || strcasecmp(v, "off") == 0 ||
                         strcmp(v, "0") == 0)
                        c->pam = false;
                else
                        CONF_ERROR(cp, line, key, "pam: '%s' is not a boolean (yes/no, true/false, on/off, 1/0)", v);
                return;
        case CONF_METRICS_FILE:
        case CONF_METRICS_LISTEN: metrics_value(cp, id, key, v, line); return;
        }
}

static int daemon_key_lookup(const char *key)
{
        for (size_t id = 0; id < ELEMENTSOF(conf_keys); id++)
                if (strcmp(key, conf_keys[id]) == 0)
                        return (int)id;
        return -1;
}

/* KEY, unknown to the section it is in (or to both sections, outside
 * them). A key of the other section is named as such. */
static void conf_unknown_key(struct conf_parse *cp, const char *key, bool of_daemon, bool of_fleet, unsigned line)
{
        bool fleet = cp->section == SECTION_FLEET;
        if (fleet && of_daemon) {
                CONF_ERROR(cp, line, key, "unknown key '%s' in [fleet]: it belongs in [daemon]", key);
                return;
        }
        if (!fleet && of_fleet) {
                CONF_ERROR(cp, line, key, "unknown key '%s' in [daemon]: it belongs in [fleet]", key);
                return;
        }
        const char *s = NULL;
        if (may_suggest(cp))
                s = fleet ? crontab_suggest(key, fleet_keys, _FLEET_KEY_MAX)
                          : crontab_suggest(key, conf_keys, ELEMENTSOF(conf_keys));
        if (s)
                CONF_ERROR(cp, line, key, "unknown key '%s'%s (did you mean '%s'?)", key, fleet ? " in [fleet]" : "",
                           s);
        else
                CONF_ERROR(cp, line, key, "unknown key '%s'%s", key, fleet ? " in [fleet]" : "");
}

static void fleet_entry(struct conf_parse *cp, int id, const char *key, const char *value, unsigned line)
{
        if (cp->fleet_seen[id]) {
                CONF_ERROR(cp, line, key, "'%s' already set at line %u", key, cp->fleet_seen[id]);
                return;
        }
        cp->fleet_seen[id] = line;
        if (fleet_config_set(cp->config->fleet, (enum fleet_key)id, value, cp->file, line, cp->diags) < 0)
                cp->error = -ENOMEM;
}

static int conf_entry(void *user, const char *key, const char *value, unsigned line)
{
        struct conf_parse *cp = user;
        int id = daemon_key_lookup(key), fleet_id = fleet_key_lookup(key);
        if (cp->section == SECTION_NONE && (id >= 0 || fleet_id >= 0)) {
                CONF_ERROR(cp, line, key, "'%s' is outside any section: put it under [%s]", key,
                           id >= 0 ? "daemon" : "fleet");
                return cp->error;
        }
        if (cp->section == SECTION_FLEET && fleet_id >= 0) {
                fleet_entry(cp, fleet_id, key, value, line);
                return cp->error;
        }
        if ((cp->section == SECTION_FLEET || id < 0) && !(cp->section == SECTION_OTHER && fleet_id >= 0)) {
                conf_unknown_key(cp, key, id >= 0, fleet_id >= 0, line);
                return cp->error;
        }
        if (cp->section != SECTION_DAEMON)
                return cp->error;
        if (cp->seen[id]) {
                CONF_ERROR(cp, line, key, "'%s' already set at line %u", key, cp->seen[id]);
                return cp->error;
        }
        cp->seen[id] = line;
        conf_value(cp, (size_t)id, key, value, line);
        return cp->error;
}

static bool conf_continuable(void *user, const char *key) { return false; }

static bool conf_known_key(void *user, const char *key)
{
        return daemon_key_lookup(key) >= 0 || fleet_key_lookup(key) >= 0;
}

/* A line dropped with its error reported: its key is not also missing. */
static void conf_dropped(void *user, const char *key, unsigned line)
{
        struct conf_parse *cp = user;
        int id = key && cp->section == SECTION_FLEET ? fleet_key_lookup(key) : -1;
        if (id >= 0 && !cp->fleet_seen[id])
                cp->fleet_seen[id] = line;
}

static int config_defaults(struct daemon_config *out)
{
        *out = (struct daemon_config){
                .shutdown_timeout_usec = DEFAULT_SHUTDOWN_TIMEOUT_USEC,
                .log_level = LOG_INFO,
        };
        out->default_path = strdup(CRONTAB_DEFAULT_PATH);
        out->sendmail = strdup(CONF_DEFAULT_SENDMAIL);
        return out->default_path && out->sendmail ? 0 : -ENOMEM;
}

int daemon_config_load_buffer(const char *name, const char *buf, size_t len, struct daemon_config *out,
                              struct diagnostics *diags)
{
        int r = config_defaults(out);
        if (r < 0)
                return r;
        /* The crontabs' cap: a megabyte of bad lines is 100 messages. */
        struct diagnostics found = { .limit = CRONTAB_MAX_DIAGNOSTICS };
        struct conf_parse cp = { .file = name, .config = out, .diags = &found };
        static const struct inifile_ops ops = {
                .section = conf_section,
                .entry = conf_entry,
                .continuable = conf_continuable,
                .known_key = conf_known_key,
                .dropped = conf_dropped,
        };
        r = inifile_parse(name, buf, len, &ops, &cp, &found);
        if (r >= 0 && !cp.error && out->fleet && fleet_config_finish(out->fleet, cp.fleet_seen, name, &found) < 0)
                r = -ENOMEM;
        if (r >= 0 && cp.error)
                r = cp.error;
        if (r >= 0 && diag_add_dropped_summary(&found, name) < 0)
                r = -ENOMEM;
        if (r >= 0 && diag_count(&found, DIAG_ERROR))
                r = -EINVAL;
        /* Lost diagnostics make it -ENOMEM, not a rejection without a reason. */
        int k = diag_move(diags, &found);
        diag_free(&found);
        if (k < 0)
                r = k;
        if (r < 0) {
                /* A rejected file leaves the defaults, as if it were absent. */
                daemon_config_free(out);
                int d = config_defaults(out);
                return d < 0 ? d : r;
        }
        return 0;
}

/* Opens tickd.conf for reading as RULE allows; -ENOENT silently when
 * there is none. A symbolic link to nothing is not "none": the admin
 * meant a file, and running on the defaults would hide that (-EINVAL). */
static int conf_open(const char *path, const struct crontab_options *rule, struct diagnostics *diags)
{
        /* O_NONBLOCK: a FIFO put in its place must not hang the daemon. */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                int r = -errno;
                struct stat link;
                if (r == -ENOENT && lstat(path, &link) == 0 && S_ISLNK(link.st_mode)) {
                        char target[256];
                        ssize_t n = readlink(path, target, sizeof(target) - 1);
                        target[n > 0 ? n : 0] = '\0';
                        diag_add(diags, DIAG_ERROR, path, 0, "a symbolic link to %s, which does not exist",
                                 n > 0 ? target : "a file");
                        return -EINVAL;
                }
                if (r != -ENOENT)
                        diag_add(diags, DIAG_ERROR, path, 0, "cannot open: %s", strerror(-r));
                return r;
        }
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                diag_add(diags, DIAG_ERROR, path, 0, "cannot stat: %s", strerror(-r));
        } else if (!S_ISREG(st.st_mode)) {
                diag_add(diags, DIAG_ERROR, path, 0, "not a regular file");
                r = -EINVAL;
        } else if (rule && !rule->ignore_ownership) {
                /* Its path= is the PATH of root's jobs: the crontabs' rule,
                 * on what was opened (a symlink's target). */
                r = crontab_check_owner(path, &st, rule, false, diags);
        }
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int daemon_config_load(const char *path, const struct crontab_options *rule, struct daemon_config *out,
                       struct diagnostics *diags)
{
        _cleanup_close_ int fd = conf_open(path, rule, diags);
        if (fd < 0) {
                int d = config_defaults(out);
                if (fd == -ENOENT || d < 0)
                        return d;
                return fd;
        }
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = fileio_read_all(fd, CONF_MAX_FILE_SIZE, &buf, &len);
        if (r < 0) {
                /* *OUT is filled on every return, as promised. */
                if (r == -EFBIG)
                        diag_add(diags, DIAG_ERROR, path, 0, "file is larger than 1 MiB");
                else if (r != -ENOMEM)
                        diag_add(diags, DIAG_ERROR, path, 0, "cannot read: %s", strerror(-r));
                int d = config_defaults(out);
                return d < 0 ? d : r;
        }
        return daemon_config_load_buffer(path, buf, len, out, diags);
}

void daemon_config_free(struct daemon_config *config)
{
        free(config->default_timezone);
        free(config->default_path);
        free(config->sendmail);
        free(config->metrics_file);
        free(config->metrics_listen);
        fleet_config_free(config->fleet);
        *config = (struct daemon_config){ 0 };
}

int daemon_config_zone(const struct daemon_config *config, const char *path, struct tz_cache *zones,
                       const struct tz **zone, struct diagnostics *diags)
{
        *zone = NULL;
        if (!config->default_timezone)
                return 0;
        int r = tz_cache_get(zones, config->default_timezone, zone);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *zone = NULL;
                r = diag_add_key(diags, DIAG_ERROR, path, config->default_timezone_line, "default_timezone",
                                 r == -ENOENT ? "default_timezone: unknown time zone '%s' (not in the tz database)"
                                              : "default_timezone: '%s' is not a usable time zone file",
                                 config->default_timezone);
                return r < 0 ? r : -EINVAL;
        }
        return 0;
}
