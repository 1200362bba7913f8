/* fleet-query.h — tickctl's reads of a fleet's records in etcd.
 *
 * tickctl fleet, history --fleet and list read the keys the daemons write
 * (shared/fleet-record.h) straight from etcd, with the [fleet] section of
 * tickd.conf: its endpoints, TLS files, user and password_file. Each read
 * is one etcd range request driven on a private sd-event loop until its
 * callback ran, bounded by claim_timeout (at least 2 s), so tickctl never
 * waits on a dead cluster longer than a daemon would. */
#ifndef TICKD_CTL_FLEET_QUERY_H
#define TICKD_CTL_FLEET_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "shared/etcd.h"
#include "shared/fleet-record.h"

struct fleet_query;

/* Reads DIR/tickd.conf's [fleet] and makes a client for it. Returns 0;
 * -ENOMSG when tickd.conf has no [fleet] section (nothing printed: the
 * caller decides whether that is an error); or another negative errno
 * after printing why after "tickctl COMMAND: " (tickd.conf or its
 * password_file unreadable). */
int fleet_query_open(const char *command, const char *config_dir, struct fleet_query **out);
void fleet_query_free(struct fleet_query *q);

/* The fleet's name ([fleet] name=), for keys. */
const char *fleet_query_name(const struct fleet_query *q);

/* Called for each key found, in key order (reversed with DESCENDING);
 * KV is valid during the call only. */
typedef int (*fleet_query_kv_fn)(void *userdata, const struct etcd_kv *kv);

/* Reads KEY (with PREFIX, every key under it), at most LIMIT keys (0 =
 * all), calling EACH for every key read. Returns how many keys matched
 * (may exceed LIMIT), EACH's negative return, or a negative errno from
 * etcd.h (-ECONNREFUSED, -ETIMEDOUT, -EPROTO, ...): then, unless QUIET,
 * "tickctl COMMAND: etcd unavailable at ENDPOINTS: WHY" was printed
 * (-ENOMEM is left to the caller to print). */
int64_t fleet_query_range(struct fleet_query *q, const char *key, bool prefix, int64_t limit, bool descending,
                          bool quiet, fleet_query_kv_fn each, void *userdata);

/* Why the last range failed, for callers that asked for QUIET:
 * "etcd unavailable at ENDPOINTS: WHY". */
const char *fleet_query_error(const struct fleet_query *q);

/* Records read from etcd: fleet_records_add() is a fleet_query_kv_fn
 * that appends each key's value (a struct fleet_record; a value that is
 * not one is passed over) to the struct fleet_records in USERDATA. */
struct fleet_records {
        struct fleet_record *items;
        size_t n;
};
int fleet_records_add(void *userdata, const struct etcd_kv *kv);
void fleet_records_free(struct fleet_records *records);

/* One record as a JSON object on stdout: job, scheduled_usec, node,
 * run_id, result, exit_status, signal, reason, started_usec,
 * duration_usec (fleet.c; history --fleet --json writes the same). */
void ctl_fleet_record_json(const struct fleet_record *r);

/* tickctl history --fleet (history-fleet.c): the runs of JOB (NULL = of
 * every job) from runs/, oldest first by scheduled instant. */
struct fleet_history_options {
        const char *config_dir;
        const char *job;
        long limit; /* records read per job, newest first; -1 = 1000 */
        uint64_t since_usec;
        bool failed_only, json, terminal;
};
/* Returns the exit status. */
int ctl_history_fleet(const struct fleet_history_options *o);

/* The exit status for a negative errno from the calls above: 1 for no
 * [fleet] section (a finding), 4 for permission denied, 2 for the rest
 * (I/O: etcd unreachable or answering with an error). */
int fleet_query_exit_status(int r);

#endif
