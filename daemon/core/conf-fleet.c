/* conf-fleet.c — tickd.conf's [fleet] section; see conf-fleet.h. Syntax
 * only: nothing here opens a file or reaches etcd, so tickctl check works
 * offline and the daemon can start while etcd is down. */
#include "core/conf-fleet.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/cleanup.h"
#include "core/crontab-internal.h"
#include "core/strv.h"
#include "core/timespan.h"

#define DEFAULT_RETENTION_USEC     (UINT64_C(7) * 24 * 3600 * USEC_PER_SEC)
#define DEFAULT_CLAIM_TIMEOUT_USEC (UINT64_C(2) * USEC_PER_SEC)
#define DEFAULT_LEASE_TTL_USEC     (UINT64_C(5) * USEC_PER_SEC)
#define FLEET_NAME_MAX             64
#define HOST_NAME_MAX_LENGTH       253

#define FLEET_ERROR(diags, file, line, key, ...) \
        (diag_add_key((diags), DIAG_ERROR, (file), (line), (key), __VA_ARGS__) < 0 ? -ENOMEM : 0)

const char *const fleet_keys[_FLEET_KEY_MAX] = {
        [FLEET_KEY_ENDPOINTS] = "endpoints",
        [FLEET_KEY_NAME] = "name",
        [FLEET_KEY_NODE] = "node",
        [FLEET_KEY_ON_UNAVAILABLE] = "on_unavailable",
        [FLEET_KEY_CA_FILE] = "ca_file",
        [FLEET_KEY_CERT_FILE] = "cert_file",
        [FLEET_KEY_KEY_FILE] = "key_file",
        [FLEET_KEY_USER] = "user",
        [FLEET_KEY_PASSWORD_FILE] = "password_file",
        [FLEET_KEY_RETENTION] = "retention",
        [FLEET_KEY_CLAIM_TIMEOUT] = "claim_timeout",
        [FLEET_KEY_LEASE_TTL] = "lease_ttl",
};

int fleet_key_lookup(const char *key)
{
        for (int i = 0; i < _FLEET_KEY_MAX; i++)
                if (strcmp(key, fleet_keys[i]) == 0)
                        return i;
        return -1;
}

struct fleet_config *fleet_config_new(unsigned line)
{
        struct fleet_config *f = calloc(1, sizeof(*f));
        if (!f)
                return NULL;
        f->on_unavailable = FLEET_UNAVAILABLE_SKIP;
        f->retention_usec = DEFAULT_RETENTION_USEC;
        f->claim_timeout_usec = DEFAULT_CLAIM_TIMEOUT_USEC;
        f->lease_ttl_usec = DEFAULT_LEASE_TTL_USEC;
        f->line = line;
        return f;
}

void fleet_config_free(struct fleet_config *f)
{
        if (!f)
                return;
        strv_free(f->endpoints);
        free(f->name);
        free(f->node);
        free(f->ca_file);
        free(f->cert_file);
        free(f->key_file);
        free(f->user);
        free(f->password_file);
        free(f);
}

static bool same_string(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

bool fleet_config_equal(const struct fleet_config *a, const struct fleet_config *b)
{
        if (!a || !b)
                return a == b;
        size_t i = 0;
        for (; a->endpoints[i] && b->endpoints[i]; i++)
                if (strcmp(a->endpoints[i], b->endpoints[i]) != 0)
                        return false;
        return !a->endpoints[i] && !b->endpoints[i] && same_string(a->name, b->name) && same_string(a->node, b->node) &&
               a->on_unavailable == b->on_unavailable && same_string(a->ca_file, b->ca_file) &&
               same_string(a->cert_file, b->cert_file) && same_string(a->key_file, b->key_file) &&
               same_string(a->user, b->user) && same_string(a->password_file, b->password_file) &&
               a->retention_usec == b->retention_usec && a->claim_timeout_usec == b->claim_timeout_usec &&
               a->lease_ttl_usec == b->lease_ttl_usec;
}

/* ---- endpoints ---- */

/* A DNS name or a dotted IPv4 address, LEN bytes of HOST. */
static bool host_name_valid(const char *host, size_t len, char *why, size_t size)
{
        bool digits_and_dots = true;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)host[i];
                if (!isalnum(c) && c != '-' && c != '.') {
                        snprintf(why, size, "the host has a character a host name cannot have ('%c')", c);
                        return false;
                }
                digits_and_dots = digits_and_dots && (isdigit(c) || c == '.');
        }
        if (digits_and_dots) {
                char address[INET_ADDRSTRLEN + 1];
                struct in_addr unused;
                if (len >= sizeof(address) ||
                    (memcpy(address, host, len), address[len] = '\0', inet_pton(AF_INET, address, &unused) != 1)) {
                        snprintf(why, size, "'%.*s' is not an IPv4 address", (int)len, host);
                        return false;
                }
                return true;
        }
        if (len > HOST_NAME_MAX_LENGTH) {
                snprintf(why, size, "the host name is longer than %d bytes", HOST_NAME_MAX_LENGTH);
                return false;
        }
        for (size_t start = 0; start <= len;) {
                const char *dot = memchr(host + start, '.', len - start);
                size_t n = dot ? (size_t)(dot - host) - start : len - start;
                if (n == 0 || n > 63 || host[start] == '-' || host[start + n - 1] == '-') {
                        snprintf(why, size, "'%.*s' is not a host name", (int)len, host);
                        return false;
                }
                start += n + 1;
        }
        return true;
}

/* The host part of an authority (through its ']' for an IPv6 address):
 * sets *END past it. */
static bool host_valid(const char *h, size_t len, const char **end, char *why, size_t size)
{
        if (h[0] == '[') {
                const char *close = memchr(h, ']', len);
                char address[INET6_ADDRSTRLEN + 1];
                struct in6_addr unused;
                size_t n = close ? (size_t)(close - h) - 1 : 0;
                if (!close) {
                        snprintf(why, size, "'[' without its ']' (an IPv6 address is written [ADDRESS]:PORT)");
                        return false;
                }
                if (n >= sizeof(address) ||
                    (memcpy(address, h + 1, n), address[n] = '\0', inet_pton(AF_INET6, address, &unused) != 1)) {
                        snprintf(why, size, "'%.*s' is not an IPv6 address", (int)n, h + 1);
                        return false;
                }
                *end = close + 1;
                return true;
        }
        const char *colon = memchr(h, ':', len);
        size_t n = colon ? (size_t)(colon - h) : len;
        if (colon && memchr(colon + 1, ':', len - n - 1)) {
                snprintf(why, size, "an IPv6 address must be in brackets, like http://[::1]:2379");
                return false;
        }
        if (n == 0) {
                snprintf(why, size, "no host");
                return false;
        }
        *end = h + n;
        return host_name_valid(h, n, why, size);
}

static bool port_valid(const char *p, size_t len, char *why, size_t size)
{
        if (len == 0) {
                snprintf(why, size, "no port (etcd's client port is usually 2379)");
                return false;
        }
        unsigned long port = 0;
        for (size_t i = 0; i < len; i++) {
                if (!isdigit((unsigned char)p[i])) {
                        snprintf(why, size, "port '%.*s' is not a number", (int)len, p);
                        return false;
                }
                if (port <= 65535)
                        port = port * 10 + (unsigned long)(p[i] - '0');
        }
        if (port < 1 || port > 65535) {
                snprintf(why, size, "port %.*s is out of range (1 to 65535)", (int)len, p);
                return false;
        }
        return true;
}

bool fleet_endpoint_valid(const char *endpoint, bool *https, char *why, size_t size)
{
        const char *sep = strstr(endpoint, "://");
        if (!sep) {
                snprintf(why, size, "no scheme (write http://HOST:PORT or https://HOST:PORT)");
                return false;
        }
        size_t n = (size_t)(sep - endpoint);
        if (n == 4 && strncasecmp(endpoint, "http", 4) == 0)
                *https = false;
        else if (n == 5 && strncasecmp(endpoint, "https", 5) == 0)
                *https = true;
        else {
                snprintf(why, size, "unknown scheme '%.*s' (http or https)", (int)n, endpoint);
                return false;
        }
        const char *h = sep + 3, *end;
        size_t len = strcspn(h, "/?#");
        if (memchr(h, '@', len)) {
                snprintf(why, size, "a user in the address is not allowed (use user = and password_file =)");
                return false;
        }
        if (h[len] && strcmp(h + len, "/") != 0) {
                snprintf(why, size, "a path, query or fragment ('%s') is not allowed: only SCHEME://HOST:PORT",
                         h + len);
                return false;
        }
        if (!host_valid(h, len, &end, why, size))
                return false;
        if (end == h + len || *end != ':') {
                if (end == h + len)
                        snprintf(why, size, "no port (etcd's client port is usually 2379)");
                else
                        snprintf(why, size, "unexpected '%c' after the host", *end);
                return false;
        }
        return port_valid(end + 1, (size_t)(h + len - end - 1), why, size);
}

/* ENDPOINT as stored: the scheme in lower case, no trailing '/'. */
static char *endpoint_normalize(const char *endpoint, size_t len)
{
        char *copy = strndup(endpoint, len);
        if (!copy)
                return NULL;
        for (char *c = copy; *c != ':'; c++)
                *c = (char)tolower((unsigned char)*c);
        size_t n = strlen(copy);
        if (copy[n - 1] == '/')
                copy[n - 1] = '\0';
        return copy;
}

/* Appends the endpoint of LEN bytes at ITEM to LIST (of *N). Returns 1
 * added, 0 refused (reported), -ENOMEM. */
static int endpoint_add(char ***list, size_t *n, const char *item, size_t len, const char *file, unsigned line,
                        struct diagnostics *diags)
{
        _cleanup_free_ char *text = strndup(item, len);
        char why[256];
        bool https;
        if (!text)
                return -ENOMEM;
        if (!fleet_endpoint_valid(text, &https, why, sizeof(why)))
                return FLEET_ERROR(diags, file, line, "endpoints", "endpoints: '%s': %s", text, why);
        char *normal = endpoint_normalize(text, len);
        if (!normal)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*list)[i], normal) == 0) {
                        free(normal);
                        return FLEET_ERROR(diags, file, line, "endpoints", "endpoints: '%s' is given twice", text);
                }
        char **grown = realloc(*list, (*n + 2) * sizeof(char *));
        if (!grown) {
                free(normal);
                return -ENOMEM;
        }
        grown[(*n)++] = normal;
        grown[*n] = NULL;
        *list = grown;
        return 1;
}

/* "URL, URL, ...": every malformed one is named. Sets F's list only when
 * every one is valid. */
static int set_endpoints(struct fleet_config *f, const char *v, const char *file, unsigned line,
                         struct diagnostics *diags)
{
        char **list = NULL;
        size_t n = 0, refused = 0, schemes[2] = { 0, 0 };
        int r = 0;
        for (const char *item = v; r >= 0;) {
                item += strspn(item, " \t");
                size_t len = strcspn(item, ",");
                while (len > 0 && (item[len - 1] == ' ' || item[len - 1] == '\t'))
                        len--;
                if (len == 0)
                        r = FLEET_ERROR(diags, file, line, "endpoints",
                                        "endpoints: an empty entry (separate the addresses with one ',')");
                else
                        r = endpoint_add(&list, &n, item, len, file, line, diags);
                if (r == 0 || len == 0)
                        refused++;
                else if (r > 0)
                        schemes[strncmp(list[n - 1], "https:", 6) == 0]++;
                item = strchr(item, ',');
                if (!item)
                        break;
                item++;
        }
        if (r >= 0 && !refused && schemes[0] && schemes[1]) {
                refused++;
                r = FLEET_ERROR(diags, file, line, "endpoints",
                                "endpoints: both http:// and https:// given; one cluster is reached one way");
        }
        if (r < 0 || refused) {
                strv_free(list);
                return r < 0 ? r : 0;
        }
        strv_free(f->endpoints);
        f->endpoints = list;
        return 0;
}

/* ---- the other keys ---- */

static bool fleet_name_valid(const char *v)
{
        size_t n = strlen(v);
        if (n == 0 || n > FLEET_NAME_MAX || strcmp(v, ".") == 0 || strcmp(v, "..") == 0)
                return false;
        return strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int set_string(char **field, const char *v)
{
        char *copy = strdup(v);
        if (!copy)
                return -ENOMEM;
        free(*field);
        *field = copy;
        return 0;
}

/* A time span from MIN to MAX (whole seconds when WHOLE). */
static int set_span(uint64_t *field, const char *key, const char *v, uint64_t min, uint64_t max, bool whole,
                    const char *range, const char *file, unsigned line, struct diagnostics *diags)
{
        uint64_t usec;
        int r = timespan_parse(v, &usec);
        if (r < 0)
                return FLEET_ERROR(diags, file, line, key, "%s: '%s' is not a time span (examples: 500ms, 5s, 7d)", key,
                                   v);
        if (usec < min || usec > max)
                return FLEET_ERROR(diags, file, line, key, "%s: '%s' is out of range (%s)", key, v, range);
        if (whole && usec % USEC_PER_SEC)
                return FLEET_ERROR(diags, file, line, key, "%s: '%s' is not a whole number of seconds", key, v);
        *field = usec;
        return 0;
}

static int set_path(char **field, const char *key, const char *v, const char *file, unsigned line,
                    struct diagnostics *diags)
{
        if (v[0] != '/')
                return FLEET_ERROR(diags, file, line, key, "%s: '%s' is not an absolute path", key, v);
        return set_string(field, v);
}

static int set_user(struct fleet_config *f, const char *v, const char *file, unsigned line, struct diagnostics *diags)
{
        for (const char *c = v; *c; c++)
                if (!isgraph((unsigned char)*c) && !((unsigned char)*c & 0x80))
                        return FLEET_ERROR(diags, file, line, "user", "user: '%s' has a blank or control character", v);
        if (!*v || strlen(v) > 256)
                return FLEET_ERROR(diags, file, line, "user", "user: an etcd user name is 1 to 256 bytes");
        return set_string(&f->user, v);
}

static int set_on_unavailable(struct fleet_config *f, const char *v, const char *file, unsigned line,
                              struct diagnostics *diags)
{
        static const char *const names[] = { [FLEET_UNAVAILABLE_SKIP] = "skip", [FLEET_UNAVAILABLE_RUN] = "run" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(v, names[i]) == 0) {
                        f->on_unavailable = (enum fleet_unavailable)i;
                        return 0;
                }
        return FLEET_ERROR(diags, file, line, "on_unavailable", "on_unavailable: '%s' is not one of skip, run", v);
}

int fleet_config_set(struct fleet_config *f, enum fleet_key id, const char *v, const char *file, unsigned line,
                     struct diagnostics *diags)
{
        const char *key = fleet_keys[id];
        switch (id) {
        case FLEET_KEY_ENDPOINTS:
                if (!*v)
                        return FLEET_ERROR(diags, file, line, key,
                                           "endpoints: empty (example: http://10.0.0.1:2379, http://10.0.0.2:2379)");
                return set_endpoints(f, v, file, line, diags);
        case FLEET_KEY_NAME:
        case FLEET_KEY_NODE:
                if (!fleet_name_valid(v))
                        return FLEET_ERROR(diags, file, line, key,
                                           "%s: '%s' is not 1 to %d letters, digits, '.', '_' or '-'", key, v,
                                           FLEET_NAME_MAX);
                return set_string(id == FLEET_KEY_NAME ? &f->name : &f->node, v);
        case FLEET_KEY_ON_UNAVAILABLE: return set_on_unavailable(f, v, file, line, diags);
        case FLEET_KEY_CA_FILE: return set_path(&f->ca_file, key, v, file, line, diags);
        case FLEET_KEY_CERT_FILE: return set_path(&f->cert_file, key, v, file, line, diags);
        case FLEET_KEY_KEY_FILE: return set_path(&f->key_file, key, v, file, line, diags);
        case FLEET_KEY_PASSWORD_FILE: return set_path(&f->password_file, key, v, file, line, diags);
        case FLEET_KEY_USER: return set_user(f, v, file, line, diags);
        case FLEET_KEY_RETENTION:
                return set_span(&f->retention_usec, key, v, 3600 * USEC_PER_SEC, TIMESPAN_MAX_USEC, false,
                                "at least 1h", file, line, diags);
        case FLEET_KEY_CLAIM_TIMEOUT:
                return set_span(&f->claim_timeout_usec, key, v, 100 * USEC_PER_MSEC, 60 * USEC_PER_SEC, false,
                                "100ms to 60s", file, line, diags);
        case FLEET_KEY_LEASE_TTL:
                return set_span(&f->lease_ttl_usec, key, v, 2 * USEC_PER_SEC, 60 * USEC_PER_SEC, true, "2s to 60s",
                                file, line, diags);
        case _FLEET_KEY_MAX: break;
        }
        return -EINVAL;
}

/* ---- across keys ---- */

static bool any_https(char **endpoints)
{
        for (char **e = endpoints; e && *e; e++)
                if (strncmp(*e, "https:", 6) == 0)
                        return true;
        return false;
}

int fleet_config_finish(const struct fleet_config *f, const unsigned seen[_FLEET_KEY_MAX], const char *file,
                        struct diagnostics *diags)
{
        int r = 0;
        if (!seen[FLEET_KEY_ENDPOINTS])
                r |= FLEET_ERROR(diags, file, f->line, NULL,
                                 "[fleet] has no endpoints (example: endpoints = http://10.0.0.1:2379)");
        if (!seen[FLEET_KEY_NAME])
                r |= FLEET_ERROR(diags, file, f->line, NULL, "[fleet] has no name (the fleet's name: name = NAME)");
        /* Only against a list that was read: a refused one is reported already. */
        static const enum fleet_key tls[] = { FLEET_KEY_CA_FILE, FLEET_KEY_CERT_FILE, FLEET_KEY_KEY_FILE };
        for (size_t i = 0; f->endpoints && i < ELEMENTSOF(tls); i++)
                if (seen[tls[i]] && !any_https(f->endpoints))
                        r |= FLEET_ERROR(diags, file, seen[tls[i]], fleet_keys[tls[i]],
                                         "%s: no endpoint is https://; TLS files apply to https endpoints only",
                                         fleet_keys[tls[i]]);
        if (seen[FLEET_KEY_CERT_FILE] && !seen[FLEET_KEY_KEY_FILE])
                r |= FLEET_ERROR(diags, file, seen[FLEET_KEY_CERT_FILE], "cert_file",
                                 "cert_file without key_file: a client certificate needs its key");
        if (seen[FLEET_KEY_KEY_FILE] && !seen[FLEET_KEY_CERT_FILE])
                r |= FLEET_ERROR(diags, file, seen[FLEET_KEY_KEY_FILE], "key_file",
                                 "key_file without cert_file: a client key needs its certificate");
        if (seen[FLEET_KEY_USER] && !seen[FLEET_KEY_PASSWORD_FILE])
                r |= FLEET_ERROR(diags, file, seen[FLEET_KEY_USER], "user",
                                 "user without password_file: name the file that holds the etcd password");
        if (seen[FLEET_KEY_PASSWORD_FILE] && !seen[FLEET_KEY_USER])
                r |= FLEET_ERROR(diags, file, seen[FLEET_KEY_PASSWORD_FILE], "password_file",
                                 "password_file without user: the password belongs to an etcd user");
        return r < 0 ? -ENOMEM : 0;
}
