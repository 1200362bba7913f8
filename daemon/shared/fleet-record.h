/* fleet-record.h — the keys and values tickd keeps in etcd for a fleet.
 *
 * One place for the layout that the daemon (fleet.h) writes and tickctl
 * (fleet, history --fleet, list) reads; fleet.h describes each key. Values
 * are JSON objects (json-c), so other tools can read them with etcdctl.
 * Unknown members are ignored and missing ones left empty, so nodes of
 * different versions read each other's records. */
#ifndef TICKD_FLEET_RECORD_H
#define TICKD_FLEET_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shared/control-protocol.h"

#define FLEET_NAME_MAX   64  /* a fleet's or node's name, [A-Za-z0-9._-] */
#define FLEET_JOB_MAX    201 /* a job name (a crontab section name) and the NUL */
#define FLEET_REASON_MAX 200

/* A run's record: runs/JOB/INSTANT (and last/JOB). */
struct fleet_record {
        char job[FLEET_JOB_MAX];
        char node[FLEET_NAME_MAX + 1];
        char run_id[CONTROL_RUN_ID_MAX];
        char hash[17];  /* the claimer's job_hash() */
        char state[16]; /* claimed, waiting, started; or a final word (log.h's event names) */
        char reason[FLEET_REASON_MAX];
        char signal[16]; /* "SIGKILL", "" = none */
        int64_t scheduled_usec, claimed_usec, started_usec, finished_usec, duration_usec;
        bool has_exit_status;
        int exit_status;
};

/* A node's key: nodes/NODE. */
struct fleet_node {
        char node[FLEET_NAME_MAX + 1];
        char version[32];
        int64_t pid;
        int64_t started_usec, heartbeat_usec;
};

/* Whether STATE is final: succeeded, failed, timed-out, cancelled, lost,
 * skipped, dropped. */
bool fleet_state_is_final(const char *state);
/* Whether NAME is a valid fleet or node name. */
bool fleet_name_valid(const char *name);

/* JSON text to free(), or NULL (no memory). */
char *fleet_record_to_json(const struct fleet_record *r);
char *fleet_node_to_json(const struct fleet_node *n);
/* 0, or -EBADMSG when TEXT is not a JSON object. */
int fleet_record_from_json(const char *text, size_t len, struct fleet_record *out);
int fleet_node_from_json(const char *text, size_t len, struct fleet_node *out);

/* The password in PATH (tickd.conf's password_file): its first line,
 * without the line end, to free() (the daemon and tickctl read it alike).
 * Returns 0, -ENODATA for an empty file, or -errno. */
int fleet_password_read(const char *path, char **out);

/* Keys, as strings to free() (NULL: no memory). FLEET is the fleet's
 * name; INSTANT µs, written as 20 digits so keys sort by time. A prefix
 * ends with '/'; a NULL JOB (or NODE) in a prefix means all of them. */
char *fleet_key_node(const char *fleet, const char *node);
char *fleet_key_run(const char *fleet, const char *job, int64_t instant_usec);
char *fleet_key_runs_prefix(const char *fleet, const char *job);
char *fleet_key_last(const char *fleet, const char *job);
char *fleet_key_running(const char *fleet, const char *job);
char *fleet_key_queued(const char *fleet, const char *job);
char *fleet_key_open(const char *fleet, const char *node, const char *job, int64_t instant_usec);
char *fleet_key_cancel(const char *fleet, const char *node, const char *job);
/* "/tickd/FLEET/KIND/" for KIND nodes, runs, last, open, cancel/NODE. */
char *fleet_key_prefix(const char *fleet, const char *kind);

/* The parts of an open/NODE/JOB/INSTANT key (after its prefix): returns 0
 * or -EINVAL. */
int fleet_key_parse_open(const char *rest, char node[static FLEET_NAME_MAX + 1], char job[static FLEET_JOB_MAX],
                         int64_t *instant_usec);

#endif
