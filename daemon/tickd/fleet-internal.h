/* fleet-internal.h — what fleet.c (the node: lease, heartbeat, lost runs)
 * and fleet-claim.c (claims and the records of this node's runs) share.
 * Not a contract for anyone else: see fleet.h. */
#ifndef TICKD_FLEET_INTERNAL_H
#define TICKD_FLEET_INTERNAL_H

#include "core/job-hash.h"
#include "shared/fleet-record.h"
#include "tickd/fleet.h"

enum fleet_run_phase {
        RUN_CLAIMING, /* the claim is being asked for */
        RUN_WAITING,  /* claimed; waits for the run on another node (overlap = queue/replace) */
        RUN_CLAIMED,  /* this node runs it; its record follows it to a final state */
};

/* One instant this node asked for, from the claim until its final record
 * is in etcd. WRITTEN is the record's JSON as etcd holds it (each write
 * compares against it, so a record another node changed, e.g. to lost,
 * is never overwritten); RECORD is what it should become. */
struct fleet_run {
        struct fleet *fleet;
        struct fleet_run *prev, *next;
        enum fleet_run_phase phase;
        enum overlap_policy overlap;
        struct fleet_record record;
        char *written;                       /* NULL = nothing of ours in etcd */
        char *sending;                       /* the record of the write under way */
        bool sending_final;                  /* ... a final one, which frees running/JOB */
        bool holds_running;                  /* running/JOB names this run */
        bool busy;                           /* a request about it is under way */
        bool retry;                          /* its last write failed: again at the next heartbeat */
        bool held;                           /* its write waits for a slot (FLEET_SYNC_IN_FLIGHT) */
        unsigned attempts;                   /* claim transactions sent */
        char other_node[FLEET_NAME_MAX + 1]; /* RUN_WAITING: whose run it waits for */
        fleet_claimed_fn done;               /* until the claim is answered */
        void *userdata;
        sd_event_source *answer;      /* an answer known at once, given from the loop */
        struct fleet_run *batch_next; /* queued for the next batch of claims (fleet-batch.c) */
        char *claim_json;             /* its claim's record, while queued or sent (in a batch or alone) */
        bool claim_take_running;      /* ... and whether the claim takes running/JOB too */
        sd_event_source *stagger;     /* not first for its instant: the wait before a look (fleet-stagger.c) */
        struct fleet_run *read_next;  /* queued for the next look at instants (fleet-stagger.c) */
};

struct fleet {
        struct etcd_client *etcd;
        sd_event *event;
        char *name;
        char *node;
        bool run_when_unavailable;
        uint64_t retention_usec, lease_ttl_usec, claim_timeout_usec;
        fleet_cancel_fn cancel;
        void *userdata;

        sd_event_source *heartbeat;
        int64_t lease;                   /* the node's lease, 0 = none */
        int64_t retention_lease;         /* records' lease, 0 = none */
        uint64_t retention_granted_usec; /* CLOCK_MONOTONIC */
        uint64_t last_ok_usec;           /* CLOCK_MONOTONIC: etcd last answered */
        int64_t started_usec;
        bool granting, ticking, retention_granting, revoking;
        bool registered;         /* this node's key is in etcd under the current lease */
        unsigned lost_in_flight; /* lost-run checks under way */
        bool first_tick_done;    /* this node's own open runs of a previous instance handled */
        bool stopping;
        bool freeing;
        bool unavailable_logged;
        char **hash_warned; /* "JOB\nHASH" pairs warned about once */
        size_t n_hash_warned;
        size_t in_flight; /* requests under way */
        struct fleet_run *runs;
        struct fleet_run *batch_head, *batch_tail; /* claims not sent yet */
        sd_event_source *batch_send;
        unsigned batches_in_flight;
        unsigned syncs_in_flight; /* record writes under way (fleet-claim.c) */
        char **live;              /* the live nodes at the last heartbeat (strv) */
        size_t n_live;
        struct fleet_run *read_head, *read_tail; /* looks not sent yet (fleet-stagger.c) */
        sd_event_source *read_send;
};

/* fleet-claim.c */
/* Record writes (started, outcome) of one node under way at once; the
 * rest wait their turn, and all wait while this node's claims are queued
 * or under way. A burst of 1,000 runs makes 2,000 of them, and sent
 * together they kept etcd from answering the claims and lease
 * keep-alives behind them within their deadlines (tests/bench/RESULTS.md).
 * A record is history: it may lag; a claim or a keep-alive may not. */
#define FLEET_SYNC_IN_FLIGHT 8
void fleet_run_free(struct fleet_run *run);
/* Record writes held back go out, as far as FLEET_SYNC_IN_FLIGHT allows. */
void fleet_syncs_resume(struct fleet *f);
/* The heartbeat's share: writes that failed are retried, waiting runs
 * try for their slot. */
void fleet_runs_heartbeat(struct fleet *f);
/* Claims parked while etcd was unavailable are sent now. */
void fleet_claims_resume(struct fleet *f);
/* Whether RUN_ID is one of this node's runs in etcd (its open records). */
bool fleet_run_known(struct fleet *f, const char *job, int64_t scheduled_usec);
/* Adds the claim of RUN (create-if-absent of runs/JOB/INSTANT, with
 * TAKE_RUNNING of running/JOB too) to T: the compares, the success
 * branch's puts, and two ranges (the instant's record, running/JOB) in
 * the failure branch. 0 or -ENOMEM. */
int fleet_claim_ops(struct fleet_run *run, struct etcd_txn *t, const char *json, bool take_running);
/* What etcd said to RUN's claim (RESP: its two failure ranges when it
 * did not hold); takes CLAIMED_JSON, the record the claim wrote. */
void fleet_claim_answered(struct fleet_run *run, int error, const struct etcd_response *resp, char *claimed_json,
                          bool took_running);

/* From the loop: RUN's claim goes out now (batched), or waits for etcd
 * (up to claim_timeout) while it is unavailable. */
void fleet_claim_go(struct fleet_run *run);
/* A look (fleet-stagger.c) found RUN's instant recorded (READ: the range
 * of runs/JOB/INSTANT): answered as a claim that did not hold would be. */
void fleet_claim_found(struct fleet_run *run, const struct etcd_op_result *read, int64_t revision);

/* fleet-stagger.c: the order of the live nodes for each instant
 * (core/rendezvous.h). The first claims at once; each other waits its
 * stagger, then looks (a read, no raft proposal) and claims only an
 * instant still unrecorded. 0 = first. */
unsigned fleet_rank(const struct fleet *f, const char *job, int64_t scheduled_usec);
uint64_t fleet_stagger_usec(const struct fleet *f, unsigned rank);
/* RUN (rank > 0) waits, looks, and claims if need be; 0 or -errno. */
int fleet_stagger_add(struct fleet_run *run, unsigned rank);
/* The heartbeat's list of live nodes (NODES: the range of nodes/). */
void fleet_live_update(struct fleet *f, const struct etcd_op_result *nodes);
/* The fleet is freed: queued looks are dropped unsent. */
void fleet_stagger_drop(struct fleet *f);
/* This node's claims are all answered: looks held back go out. */
void fleet_looks_resume(struct fleet *f);

/* fleet-batch.c: the claims made in one loop iteration (every fleet job
 * due at an instant) go to etcd together, FLEET_BATCH_MAX to a
 * transaction, instead of one request each. */
#define FLEET_BATCH_MAX 32
/* Batches of one node under way at once: the rest wait their turn. */
#define FLEET_BATCH_IN_FLIGHT 2
/* Queues RUN's claim (sent from the loop); 0 or -ENOMEM. */
int fleet_batch_add(struct fleet_run *run, bool take_running);
/* The fleet is freed: queued claims are dropped unsent. */
void fleet_batch_drop(struct fleet *f);
/* Whether claims of this node are queued or under way. */
bool fleet_batch_busy(const struct fleet *f);

/* fleet.c */
bool fleet_is_available(const struct fleet *f);
uint64_t fleet_now_mono(void);
int64_t fleet_now_real(void);
void fleet_request_done(struct fleet *f); /* one request fewer under way; revokes when stopping and idle */
void fleet_log_unavailable(struct fleet *f, int error);
#endif
