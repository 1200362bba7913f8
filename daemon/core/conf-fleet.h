/* conf-fleet.h — the [fleet] section of tickd.conf, for conf.c and its
 * tests; not part of the contract other modules code against (that is
 * struct fleet_config in conf.h). Values are checked for syntax only, and
 * each problem is appended to the diagnostics at its FILE:LINE. */
#ifndef TICKD_CONF_FLEET_H
#define TICKD_CONF_FLEET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/conf.h"
#include "core/diag.h"

enum fleet_key {
        FLEET_KEY_ENDPOINTS,
        FLEET_KEY_NAME,
        FLEET_KEY_NODE,
        FLEET_KEY_ON_UNAVAILABLE,
        FLEET_KEY_CA_FILE,
        FLEET_KEY_CERT_FILE,
        FLEET_KEY_KEY_FILE,
        FLEET_KEY_USER,
        FLEET_KEY_PASSWORD_FILE,
        FLEET_KEY_RETENTION,
        FLEET_KEY_CLAIM_TIMEOUT,
        FLEET_KEY_LEASE_TTL,
        _FLEET_KEY_MAX,
};

extern const char *const fleet_keys[_FLEET_KEY_MAX];

/* KEY's id, or -1 when [fleet] has no such key. */
int fleet_key_lookup(const char *key);

/* A [fleet] section with every default, for the header at LINE; NULL
 * when out of memory. */
struct fleet_config *fleet_config_new(unsigned line);

/* Sets key ID from VALUE (given at FILE:LINE), or appends why it cannot
 * and leaves F as it was. Returns 0 (also for a refused value) or -ENOMEM. */
int fleet_config_set(struct fleet_config *f, enum fleet_key id, const char *value, const char *file, unsigned line,
                     struct diagnostics *diags);

/* The checks across keys, once the section is read: required keys
 * (reported at the [fleet] header), TLS files without an https endpoint,
 * cert_file without key_file, user without password_file. SEEN holds the
 * line each key was given on, 0 = not given. Returns 0 or -ENOMEM. */
int fleet_config_finish(const struct fleet_config *f, const unsigned seen[_FLEET_KEY_MAX], const char *file,
                        struct diagnostics *diags);

/* Why ENDPOINT is not http://HOST:PORT or https://HOST:PORT (a sentence
 * in WHY, and false), or true with *HTTPS telling the scheme. */
bool fleet_endpoint_valid(const char *endpoint, bool *https, char *why, size_t size);

#endif
