/* fleet.h — this node's part in a fleet: each instant of a fleet job
 * (scope = fleet) runs on one node, coordinated in etcd.
 *
 * Every node schedules fleet jobs as usual. At a due instant a node claims
 * (job, instant) with one etcd transaction, create-if-absent; the one that
 * creates the claim runs it, the others hear FLEET_TAKEN and do nothing.
 * The live nodes take turns (fleet-stagger.c): the first for the instant
 * claims at once, the others after a stagger of claim_timeout/4 (at most
 * claim_timeout/2) and only if a read finds the instant unrecorded, so
 * FLEET_TAKEN may come that late. The keys, under /tickd/NAME/
 * (docs/ARCHITECTURE.md, "Fleet"):
 *
 *   nodes/NODE            this node is alive: version, pid, start and last
 *                         heartbeat (under the node's lease, lease_ttl)
 *   runs/JOB/INSTANT      the instant's record: claimer, run id, definition
 *                         hash, then its state (claimed, waiting, started,
 *                         and at last succeeded, failed, timed-out,
 *                         cancelled, lost, skipped or dropped) with exit
 *                         status and duration; INSTANT is 20 decimal digits
 *                         of µs, so keys sort by time (retention lease)
 *   last/JOB              the job's latest final record (retention lease)
 *   running/JOB           a run of JOB is going on NODE (node lease): the
 *                         fleet-wide overlap policy reads it
 *   queued/JOB            a run waits for the running one (overlap = queue
 *                         or replace; node lease)
 *   open/NODE/JOB/INSTANT NODE's claimed runs not yet final (retention
 *                         lease): when nodes/NODE is gone (its lease
 *                         expired: killed, cut off), a surviving node
 *                         records each as lost, once (a compare on the
 *                         record's revision picks one survivor)
 *   cancel/NODE/JOB       another node replaces NODE's run of JOB (node
 *                         lease of the asker)
 *
 * Retention: records live on a lease granted for the retention and
 * renewed every seventh of it, so a record lasts between the retention
 * and 8/7 of it.
 *
 * Nothing here blocks the loop: requests are etcd.h's. The heartbeat runs
 * every third of lease_ttl: keep-alive, this node's key, the list of live
 * nodes and open runs (for lost runs), replace requests addressed here,
 * runs waiting for a fleet-wide slot, and records that could not be
 * written yet (retried until written). etcd unavailable (no lease, or a
 * claim that fails or passes claim_timeout): FLEET_UNAVAILABLE, or
 * FLEET_RUN_LOCALLY with on_unavailable = run.
 *
 * This module writes the journal records that only the fleet knows of:
 * runs skipped because of another node, or because etcd is unavailable,
 * runs lost on another node, definitions that differ between nodes. */
#ifndef TICKD_FLEET_H
#define TICKD_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "core/conf.h"
#include "core/crontab.h"
#include "shared/etcd.h"
#include "shared/log.h"
#include "tickd/runner.h"

struct fleet;

/* Another node asks this one to end its runs of JOB (overlap = replace). */
typedef void (*fleet_cancel_fn)(void *userdata, const char *job);

struct fleet_options {
        const struct etcd_options *etcd; /* its event is the loop the fleet runs on */
        const char *name;                /* the fleet (copied) */
        const char *node;                /* this node (copied) */
        bool run_when_unavailable;       /* on_unavailable = run */
        uint64_t retention_usec;         /* 0 = 7 days */
        uint64_t lease_ttl_usec;         /* 0 = 5 s; whole seconds */
        uint64_t claim_timeout_usec;     /* 0 = 2 s: how long a claim waits for etcd (start-up, outage) */
        fleet_cancel_fn cancel;          /* may be NULL */
        void *userdata;
};

int fleet_new(const struct fleet_options *options, struct fleet **out);
/* The fleet tickd.conf's [fleet] describes: the password is read from
 * password_file (its first line), and the node is named after the host
 * when node= is unset. -errno when the password file cannot be read
 * (*FAILED_PATH names it) or the host name is not a valid node name
 * (-EINVAL). */
int fleet_new_from_config(const struct fleet_config *config, sd_event *event, fleet_cancel_fn cancel, void *userdata,
                          struct fleet **out, const char **failed_path);
/* Ends pending claims (FLEET_CANCELLED) and frees. The node's lease is
 * revoked only by fleet_stop(). */
void fleet_free(struct fleet *f);
/* This node's name in the fleet (borrowed from F). */
const char *fleet_node(const struct fleet *f);
/* tickd stops (its runs have ended): no more claims, records not written
 * yet are tried once more, and once nothing is in flight the node's
 * lease is revoked, so the fleet sees it leave at once (its open runs, if
 * any, are then recorded lost by the others). fleet_idle() says when that
 * is done: the caller's loop may end. Bounded by claim_timeout per
 * request when etcd does not answer. */
void fleet_stop(struct fleet *f);
bool fleet_idle(const struct fleet *f);

enum fleet_verdict {
        FLEET_RUN,         /* this node claimed the instant: run it */
        FLEET_RUN_LOCALLY, /* etcd unavailable, on_unavailable = run: run it here, unclaimed */
        FLEET_TAKEN,       /* another node claimed it: nothing to do here */
        FLEET_SKIPPED,     /* overlap = skip and a run of it goes on on another node (recorded here) */
        FLEET_UNAVAILABLE, /* etcd unavailable, on_unavailable = skip (recorded here) */
        FLEET_CANCELLED,   /* the fleet was freed (or out of memory) before an answer */
};

struct fleet_claim_result {
        enum fleet_verdict verdict;
        const char *job;
        const char *run_id;
        int64_t scheduled_usec;
        const char *node; /* FLEET_TAKEN, FLEET_SKIPPED: the node that has it; else NULL */
};
typedef void (*fleet_claimed_fn)(void *userdata, const struct fleet_claim_result *result);

/* Claims JOB's SCHEDULED_USEC instant for a run named RUN_ID. DONE is
 * called exactly once, from the loop (never from inside this call). A
 * claim made while etcd is unavailable (tickd starting, an outage) waits
 * up to claim_timeout for it, then is FLEET_UNAVAILABLE/RUN_LOCALLY.
 * Returns 0, or -ENOMEM (DONE is not called). Under overlap = queue or
 * replace the claim may wait (DONE not yet called) until the run going on
 * on another node ends. */
int fleet_claim(struct fleet *f, const struct job *job, int64_t scheduled_usec, const char *run_id,
                fleet_claimed_fn done, void *userdata);

/* The life of a claimed run (FLEET_RUN), by run id; other ids are
 * ignored. Dispatched: its runner was started (record `started`).
 * Finished: its outcome (EVENT one of log.h's outcome events; O NULL when
 * lost). Ended: it never started, with EVENT skipped or dropped and a
 * reason. */
void fleet_run_dispatched(struct fleet *f, const char *job, int64_t scheduled_usec);
void fleet_run_finished(struct fleet *f, const char *run_id, enum log_event event, const struct outcome *o);
void fleet_run_ended(struct fleet *f, const char *run_id, enum log_event event, const char *reason);

/* Whether the fleet has a lease now (for status). */
bool fleet_available(const struct fleet *f);
size_t fleet_pending(const struct fleet *f); /* claims and writes in flight (tests) */

#endif
