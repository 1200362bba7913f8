/* fleet-claim.c — claims of instants and the records of this node's runs
 * in etcd; see fleet.h for the keys and fleet-internal.h for a run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "tickd/fleet-internal.h"

static void run_sync(struct fleet_run *run);
static void waiting_try_now(struct fleet *f, const char *job);

static const char *verdict_word(enum fleet_verdict v)
{
        switch (v) {
        case FLEET_RUN: return "claimed";
        case FLEET_RUN_LOCALLY: return "unclaimed";
        case FLEET_TAKEN: return "taken";
        case FLEET_SKIPPED: return "skipped";
        case FLEET_UNAVAILABLE: return "unavailable";
        default: return "cancelled";
        }
}

void fleet_run_free(struct fleet_run *run)
{
        struct fleet *f = run->fleet;
        if (run->prev)
                run->prev->next = run->next;
        else
                f->runs = run->next;
        if (run->next)
                run->next->prev = run->prev;
        sd_event_source_disable_unref(run->answer);
        sd_event_source_disable_unref(run->stagger);
        free(run->written);
        free(run->sending);
        free(run->claim_json);
        free(run);
}

/* The claim's answer, once; a run that holds nothing in etcd goes. */
static void run_answer(struct fleet_run *run, enum fleet_verdict verdict, const char *node)
{
        fleet_claimed_fn done = run->done;
        run->done = NULL;
        if (done)
                done(run->userdata, &(struct fleet_claim_result){ .verdict = verdict,
                                                                  .job = run->record.job,
                                                                  .run_id = run->record.run_id,
                                                                  .scheduled_usec = run->record.scheduled_usec,
                                                                  .node = node });
        log_emit(&(struct log_record){ .priority = LOG_DEBUG,
                                       .job = run->record.job,
                                       .run_id = run->record.run_id,
                                       .scheduled_usec = run->record.scheduled_usec,
                                       .node = node },
                 "fleet: instant of %s %s%s%s", run->record.job, verdict_word(verdict), node ? " by node " : "",
                 node ? node : "");
        /* What a fleet job's start waits for beyond a host job's
         * (tests/bench/bench-fleet.sh reads it); a parked claim was never
         * sent, so it has no round trip. */
        if (run->record.claimed_usec && log_max_priority() >= LOG_DEBUG)
                log_emit(&(struct log_record){ .priority = LOG_DEBUG, .job = run->record.job },
                         "fleet: claim of %s answered (%s) in %lld us", run->record.job, verdict_word(verdict),
                         (long long)(fleet_now_real() - run->record.claimed_usec));
        if (verdict != FLEET_RUN && verdict != FLEET_RUN_LOCALLY && !run->written && !run->busy)
                fleet_run_free(run);
}

static void claim_unanswered(struct fleet_run *run, int error, char *claimed_json, bool took_running);

static int on_answer_later(sd_event_source *source, uint64_t usec, void *userdata)
{
        struct fleet_run *run = userdata;
        run->answer = sd_event_source_disable_unref(run->answer);
        if (run->fleet->stopping)
                run_answer(run, FLEET_CANCELLED, NULL);
        else
                claim_unanswered(run, -ETIMEDOUT, NULL, false);
        return 0;
}

/* A claim that cannot be sent now is parked: answered after DELAY
 * (from the loop, never from inside fleet_claim()), unless etcd comes
 * back first (fleet_claims_resume()). */
static int answer_later(struct fleet_run *run, uint64_t delay_usec)
{
        return sd_event_add_time_relative(run->fleet->event, &run->answer, CLOCK_MONOTONIC, delay_usec, 1000,
                                          on_answer_later, run);
}

static char *record_json_as(const struct fleet_run *run, const char *state, const char *reason)
{
        struct fleet_record r = run->record;
        snprintf(r.state, sizeof(r.state), "%s", state);
        snprintf(r.reason, sizeof(r.reason), "%s", reason ? reason : "");
        return fleet_record_to_json(&r);
}

bool fleet_run_known(struct fleet *f, const char *job, int64_t scheduled_usec)
{
        for (struct fleet_run *r = f->runs; r; r = r->next)
                if (r->record.scheduled_usec == scheduled_usec && strcmp(r->record.job, job) == 0)
                        return true;
        return false;
}

/* ---- requests: each one's reply comes through here ---- */

typedef void (*run_reply_fn)(struct fleet_run *run, int error, const struct etcd_response *resp);

struct run_request {
        struct fleet_run *run;
        run_reply_fn reply;
};

static void on_run_reply(void *userdata, int error, const struct etcd_response *resp)
{
        struct run_request *req = userdata;
        struct fleet_run *run = req->run;
        struct fleet *f = run->fleet; /* REPLY may free RUN */
        run_reply_fn reply = req->reply;
        free(req);
        run->busy = false;
        if (!f->freeing) {
                if (!error)
                        f->last_ok_usec = fleet_now_mono();
                reply(run, error, resp);
        }
        fleet_request_done(f);
}

/* Sends T about RUN (taking T either way); REPLY hears the answer, unless
 * the fleet is being freed. A negative errno when it could not be sent:
 * the caller decides (a record write is retried at the next heartbeat). */
static int run_send(struct fleet_run *run, struct etcd_txn *t, run_reply_fn reply)
{
        struct run_request *req = malloc(sizeof(*req));
        if (!req) {
                etcd_txn_free(t);
                return -ENOMEM;
        }
        *req = (struct run_request){ .run = run, .reply = reply };
        int r = etcd_txn(run->fleet->etcd, t, on_run_reply, req);
        if (r < 0) {
                free(req);
                return r;
        }
        run->busy = true;
        run->fleet->in_flight++;
        return 0;
}

static bool kv_is_ours(const struct fleet_run *run, const struct etcd_kv *kv, struct fleet_record *rec)
{
        return fleet_record_from_json(kv->value, kv->value_len, rec) == 0 && strcmp(rec->node, run->fleet->node) == 0 &&
               strcmp(rec->run_id, run->record.run_id) == 0;
}

static const struct etcd_kv *result_kv(const struct etcd_response *resp, size_t i)
{
        return resp && i < resp->n_results && resp->results[i].n_kvs > 0 ? &resp->results[i].kvs[0] : NULL;
}

/* Two nodes that claim with different definitions of a job: said once
 * per job and hash, as a warning. */
static void hash_check(struct fleet *f, const struct fleet_record *theirs, const struct fleet_run *run)
{
        if (!theirs->hash[0] || strcmp(theirs->hash, run->record.hash) == 0)
                return;
        _cleanup_free_ char *pair = NULL;
        if (asprintf(&pair, "%s\n%s", run->record.job, theirs->hash) < 0)
                return;
        for (size_t i = 0; i < f->n_hash_warned; i++)
                if (strcmp(f->hash_warned[i], pair) == 0)
                        return;
        char **grown = realloc(f->hash_warned, (f->n_hash_warned + 1) * sizeof(*grown));
        if (grown) {
                f->hash_warned = grown;
                f->hash_warned[f->n_hash_warned++] = pair;
                pair = NULL;
        }
        log_emit(&(struct log_record){ .priority = LOG_WARNING, .job = run->record.job, .node = theirs->node },
                 "fleet: node %s claimed %s with a different definition (hash %s, here %s): the nodes' crontabs "
                 "disagree on this job",
                 theirs->node, run->record.job, theirs->hash, run->record.hash);
}

/* ---- the claim ---- */

static void claim_request(struct fleet_run *run, bool take_running);

/* No answer: a claim that etcd may have applied all the same. The run
 * keeps what the claim would have written as its guess, so the record
 * written later (the skip, or the outcome of a run made here anyway)
 * replaces the claim if it was applied and changes nothing if not. */
static void claim_unanswered(struct fleet_run *run, int error, char *claimed_json, bool took_running)
{
        struct fleet *f = run->fleet;
        free(run->written);
        run->written = claimed_json;
        run->holds_running = took_running;
        run->phase = RUN_CLAIMED;
        if (f->run_when_unavailable) {
                log_emit(&(struct log_record){ .priority = LOG_NOTICE,
                                               .job = run->record.job,
                                               .run_id = run->record.run_id,
                                               .scheduled_usec = run->record.scheduled_usec,
                                               .errno_value = -error },
                         "fleet: cannot claim %s in etcd (%s): running it here, unclaimed (on_unavailable = run)",
                         run->record.job, etcd_last_error(f->etcd));
                run_answer(run, FLEET_RUN_LOCALLY, NULL);
                return;
        }
        fleet_log_unavailable(f, error);
        log_emit(&(struct log_record){ .event = LOG_EVENT_SKIPPED,
                                       .priority = LOG_WARNING,
                                       .job = run->record.job,
                                       .run_id = run->record.run_id,
                                       .scheduled_usec = run->record.scheduled_usec,
                                       .reason = "fleet unavailable",
                                       .errno_value = -error },
                 "run of %s skipped: its claim in etcd failed (%s; on_unavailable = skip)", run->record.job,
                 etcd_last_error(f->etcd));
        snprintf(run->record.state, sizeof(run->record.state), "skipped");
        snprintf(run->record.reason, sizeof(run->record.reason), "claim unanswered: %s", etcd_last_error(f->etcd));
        run->retry = true;
        run_answer(run, FLEET_UNAVAILABLE, NULL);
}

static void on_skip_reply(struct fleet_run *run, int error, const struct etcd_response *resp)
{
        if (error) {
                claim_unanswered(run, error, record_json_as(run, "claimed", NULL), false);
                return;
        }
        if (!resp->succeeded) {
                struct fleet_record theirs;
                const struct etcd_kv *kv = result_kv(resp, 0);
                bool parsed = kv && fleet_record_from_json(kv->value, kv->value_len, &theirs) == 0;
                run_answer(run, FLEET_TAKEN, parsed ? theirs.node : NULL);
                return;
        }
        log_emit(&(struct log_record){ .event = LOG_EVENT_SKIPPED,
                                       .job = run->record.job,
                                       .run_id = run->record.run_id,
                                       .scheduled_usec = run->record.scheduled_usec,
                                       .node = run->other_node,
                                       .reason = run->record.reason },
                 "run of %s skipped: %s (overlap = skip, across the fleet)", run->record.job, run->record.reason);
        run_answer(run, FLEET_SKIPPED, run->other_node);
}

/* The instant is taken by recording it skipped: one node does, once. */
static void claim_skip(struct fleet_run *run, const char *node, bool queued_there)
{
        struct fleet *f = run->fleet;
        snprintf(run->other_node, sizeof(run->other_node), "%s", node);
        snprintf(run->record.state, sizeof(run->record.state), "skipped");
        if (queued_there)
                snprintf(run->record.reason, sizeof(run->record.reason), "a run is already queued on node %s", node);
        else
                snprintf(run->record.reason, sizeof(run->record.reason), "a run is still going on node %s", node);
        run->record.finished_usec = fleet_now_real();
        _cleanup_free_ char *key = fleet_key_run(f->name, run->record.job, run->record.scheduled_usec);
        _cleanup_free_ char *last = fleet_key_last(f->name, run->record.job);
        _cleanup_free_ char *json = fleet_record_to_json(&run->record);
        struct etcd_txn *t = etcd_txn_new();
        if (!key || !last || !json || !t || etcd_txn_compare_int(t, key, ETCD_CREATE_REVISION, ETCD_EQUAL, 0) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, key, json, strlen(json), f->retention_lease) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, last, json, strlen(json), f->retention_lease) < 0 ||
            etcd_txn_range(t, ETCD_FAILURE, key, false, 1, false) < 0) {
                etcd_txn_free(t);
                run_answer(run, FLEET_CANCELLED, NULL);
                return;
        }
        if (run_send(run, t, on_skip_reply) < 0)
                run_answer(run, FLEET_CANCELLED, NULL);
}

static void on_wait_reply(struct fleet_run *run, int error, const struct etcd_response *resp)
{
        struct fleet_record theirs;
        if (error) {
                claim_unanswered(run, error, record_json_as(run, "waiting", NULL), false);
                return;
        }
        if (resp->succeeded) {
                run->phase = RUN_WAITING;
                run->written = fleet_record_to_json(&run->record);
                log_emit(&(struct log_record){ .event = LOG_EVENT_DELAYED,
                                               .job = run->record.job,
                                               .run_id = run->record.run_id,
                                               .scheduled_usec = run->record.scheduled_usec,
                                               .node = run->other_node },
                         "run of %s waits for the run going on on node %s (overlap = %s, across the fleet)",
                         run->record.job, run->other_node, run->overlap == OVERLAP_REPLACE ? "replace" : "queue");
                if (run->overlap == OVERLAP_REPLACE && strcmp(run->other_node, run->fleet->node) == 0) {
                        log_emit(&(struct log_record){ .priority = LOG_NOTICE, .job = run->record.job },
                                 "fleet: a new instant of %s replaces its run going on here (overlap = replace): "
                                 "cancelling it",
                                 run->record.job);
                        if (run->fleet->cancel)
                                run->fleet->cancel(run->fleet->userdata, run->record.job);
                }
                return;
        }
        const struct etcd_kv *kv = result_kv(resp, 0);
        if (kv) {
                bool parsed = fleet_record_from_json(kv->value, kv->value_len, &theirs) == 0;
                run_answer(run, FLEET_TAKEN, parsed ? theirs.node : NULL);
                return;
        }
        kv = result_kv(resp, 1);
        if (kv && fleet_record_from_json(kv->value, kv->value_len, &theirs) == 0)
                claim_skip(run, theirs.node, true);
        else
                claim_request(run, true);
}

/* overlap = queue or replace with a run going on on OTHER: the claim
 * waits in queued/JOB (one per job in the fleet), asking OTHER to end its
 * run first under replace. */
static void claim_wait(struct fleet_run *run, const struct fleet_record *other)
{
        struct fleet *f = run->fleet;
        snprintf(run->other_node, sizeof(run->other_node), "%s", other->node);
        snprintf(run->record.state, sizeof(run->record.state), "waiting");
        _cleanup_free_ char *key = fleet_key_run(f->name, run->record.job, run->record.scheduled_usec);
        _cleanup_free_ char *queued = fleet_key_queued(f->name, run->record.job);
        _cleanup_free_ char *open = fleet_key_open(f->name, f->node, run->record.job, run->record.scheduled_usec);
        _cleanup_free_ char *cancel = fleet_key_cancel(f->name, other->node, run->record.job);
        _cleanup_free_ char *json = fleet_record_to_json(&run->record);
        struct etcd_txn *t = etcd_txn_new();
        if (!key || !queued || !open || !cancel || !json || !t ||
            etcd_txn_compare_int(t, key, ETCD_CREATE_REVISION, ETCD_EQUAL, 0) < 0 ||
            etcd_txn_compare_int(t, queued, ETCD_CREATE_REVISION, ETCD_EQUAL, 0) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, key, json, strlen(json), f->retention_lease) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, queued, json, strlen(json), f->lease) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, open, "", 0, f->retention_lease) < 0 ||
            (run->overlap == OVERLAP_REPLACE && strcmp(other->node, f->node) != 0 &&
             etcd_txn_put(t, ETCD_SUCCESS, cancel, other->run_id, strlen(other->run_id), f->lease) < 0) ||
            etcd_txn_range(t, ETCD_FAILURE, key, false, 1, false) < 0 ||
            etcd_txn_range(t, ETCD_FAILURE, queued, false, 1, false) < 0) {
                etcd_txn_free(t);
                run_answer(run, FLEET_CANCELLED, NULL);
                return;
        }
        if (run_send(run, t, on_wait_reply) < 0)
                run_answer(run, FLEET_CANCELLED, NULL);
}

/* The claim did not hold: the instant is someone's, or a run of the job
 * goes on somewhere. */
static void claim_refused(struct fleet_run *run, const struct etcd_response *resp, bool took_running)
{
        struct fleet *f = run->fleet;
        struct fleet_record theirs, running;
        const struct etcd_kv *kv = result_kv(resp, 0);
        if (kv && kv_is_ours(run, kv, &theirs)) { /* our own claim, sent twice after a failover */
                run->written = strndup(kv->value, kv->value_len);
                const struct etcd_kv *rk = result_kv(resp, 1);
                run->holds_running = rk && kv_is_ours(run, rk, &running);
                run->phase = RUN_CLAIMED;
                run_answer(run, FLEET_RUN, NULL);
                return;
        }
        if (kv) {
                bool parsed = fleet_record_from_json(kv->value, kv->value_len, &theirs) == 0;
                if (parsed)
                        hash_check(f, &theirs, run);
                run_answer(run, FLEET_TAKEN, parsed ? theirs.node : NULL);
                return;
        }
        kv = result_kv(resp, 1);
        const struct etcd_kv *queued = result_kv(resp, 2);
        if (took_running && !kv && queued && fleet_record_from_json(queued->value, queued->value_len, &running) == 0) {
                claim_skip(run, running.node, true); /* the queued run is next, not this one */
                return;
        }
        if (!took_running || !kv || fleet_record_from_json(kv->value, kv->value_len, &running) < 0) {
                claim_request(run, took_running); /* gone meanwhile: again */
                return;
        }
        /* A run going on on this node counts as any other node's: the
         * skip is recorded in etcd with its reason, and the one queued
         * run of the fleet is queued/JOB, wherever the running one is. */
        if (run->overlap == OVERLAP_SKIP)
                claim_skip(run, running.node, false);
        else
                claim_wait(run, &running);
}

void fleet_claim_answered(struct fleet_run *run, int error, const struct etcd_response *resp, char *claimed_json,
                          bool took_running)
{
        if (error) {
                claim_unanswered(run, error, claimed_json, took_running);
                return;
        }
        run->fleet->last_ok_usec = fleet_now_mono();
        if (resp->succeeded) {
                run->written = claimed_json;
                run->holds_running = took_running;
                run->phase = RUN_CLAIMED;
                run_answer(run, FLEET_RUN, NULL);
        } else {
                free(claimed_json);
                claim_refused(run, resp, took_running);
        }
}

/* A claim sent alone (claim_request()); batched ones are fleet-batch.c's. */
static void on_claim_reply(struct fleet_run *run, int error, const struct etcd_response *resp)
{
        fleet_claim_answered(run, error, resp, TAKE_PTR(run->claim_json), run->claim_take_running);
}

int fleet_claim_ops(struct fleet_run *run, struct etcd_txn *t, const char *json, bool take_running)
{
        struct fleet *f = run->fleet;
        _cleanup_free_ char *key = fleet_key_run(f->name, run->record.job, run->record.scheduled_usec);
        _cleanup_free_ char *running = fleet_key_running(f->name, run->record.job);
        _cleanup_free_ char *open = fleet_key_open(f->name, f->node, run->record.job, run->record.scheduled_usec);
        _cleanup_free_ char *queued = fleet_key_queued(f->name, run->record.job);
        if (!key || !running || !open || !queued ||
            etcd_txn_compare_int(t, key, ETCD_CREATE_REVISION, ETCD_EQUAL, 0) < 0 ||
            (take_running && etcd_txn_compare_int(t, running, ETCD_CREATE_REVISION, ETCD_EQUAL, 0) < 0) ||
            (take_running && etcd_txn_compare_int(t, queued, ETCD_CREATE_REVISION, ETCD_EQUAL, 0) < 0) ||
            etcd_txn_put(t, ETCD_SUCCESS, key, json, strlen(json), f->retention_lease) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, open, "", 0, f->retention_lease) < 0 ||
            (take_running && etcd_txn_put(t, ETCD_SUCCESS, running, json, strlen(json), f->lease) < 0) ||
            etcd_txn_range(t, ETCD_FAILURE, key, false, 1, false) < 0 ||
            etcd_txn_range(t, ETCD_FAILURE, running, false, 1, false) < 0 ||
            etcd_txn_range(t, ETCD_FAILURE, queued, false, 1, false) < 0)
                return -ENOMEM;
        return 0;
}

/* Create-if-absent of runs/JOB/INSTANT, and with TAKE_RUNNING of
 * running/JOB too (the fleet-wide overlap), in one transaction. With
 * TAKE_RUNNING no run may be queued either: between the end of a run and
 * the queued run taking running/JOB (its node's next heartbeat) a new
 * instant would otherwise start before the queued one. */
static void claim_request(struct fleet_run *run, bool take_running)
{
        if (++run->attempts > 3) { /* the keys keep changing under it: give up as unavailable */
                claim_unanswered(run, -EAGAIN, NULL, false);
                return;
        }
        snprintf(run->record.state, sizeof(run->record.state), "claimed");
        run->claim_json = fleet_record_to_json(&run->record);
        run->claim_take_running = take_running;
        struct etcd_txn *t = run->claim_json ? etcd_txn_new() : NULL;
        if (!t || fleet_claim_ops(run, t, run->claim_json, take_running) < 0) {
                etcd_txn_free(t);
        } else if (run_send(run, t, on_claim_reply) == 0) {
                return;
        }
        free(TAKE_PTR(run->claim_json));
        run_answer(run, FLEET_CANCELLED, NULL);
}

int fleet_claim(struct fleet *f, const struct job *job, int64_t scheduled_usec, const char *run_id,
                fleet_claimed_fn done, void *userdata)
{
        struct fleet_run *run = f->freeing ? NULL : calloc(1, sizeof(*run));
        if (!run)
                return -ENOMEM;
        *run = (struct fleet_run){
                .fleet = f, .phase = RUN_CLAIMING, .overlap = job->overlap, .done = done, .userdata = userdata
        };
        snprintf(run->record.job, sizeof(run->record.job), "%s", job->name);
        snprintf(run->record.node, sizeof(run->record.node), "%s", f->node);
        snprintf(run->record.run_id, sizeof(run->record.run_id), "%s", run_id);
        job_hash(job, run->record.hash);
        run->record.scheduled_usec = scheduled_usec;
        run->next = f->runs;
        if (f->runs)
                f->runs->prev = run;
        f->runs = run;
        if (f->stopping || !fleet_is_available(f)) {
                int r = answer_later(run, f->stopping ? 0 : f->claim_timeout_usec);
                if (r < 0) {
                        run->done = NULL;
                        fleet_run_free(run);
                }
                return r < 0 ? r : 0;
        }
        unsigned rank = fleet_rank(f, job->name, scheduled_usec);
        int r;
        if (rank > 0) {
                r = fleet_stagger_add(run, rank);
        } else {
                run->record.claimed_usec = fleet_now_real();
                r = fleet_batch_add(run, job->overlap != OVERLAP_ALLOW);
        }
        if (r < 0) {
                run->done = NULL;
                fleet_run_free(run);
        }
        return r;
}

void fleet_claim_go(struct fleet_run *run)
{
        struct fleet *f = run->fleet;
        if (f->stopping || !fleet_is_available(f)) {
                if (answer_later(run, f->stopping ? 0 : f->claim_timeout_usec) < 0)
                        run_answer(run, FLEET_CANCELLED, NULL);
                return;
        }
        run->record.claimed_usec = fleet_now_real();
        if (fleet_batch_add(run, run->overlap != OVERLAP_ALLOW) < 0)
                run_answer(run, FLEET_CANCELLED, NULL);
}

void fleet_claim_found(struct fleet_run *run, const struct etcd_op_result *read, int64_t revision)
{
        log_emit(&(struct log_record){ .priority = LOG_DEBUG,
                                       .job = run->record.job,
                                       .scheduled_usec = run->record.scheduled_usec },
                 "fleet: instant of %s found recorded after the stagger: no claim sent", run->record.job);
        claim_refused(run, &(struct etcd_response){ .revision = revision, .results = read, .n_results = 1 },
                      run->overlap != OVERLAP_ALLOW);
}

void fleet_claims_resume(struct fleet *f)
{
        struct fleet_run *next;
        for (struct fleet_run *run = f->runs; run && fleet_is_available(f); run = next) {
                next = run->next;
                if (run->phase != RUN_CLAIMING || !run->answer || run->busy)
                        continue;
                run->answer = sd_event_source_disable_unref(run->answer);
                if (fleet_batch_add(run, run->overlap != OVERLAP_ALLOW) < 0)
                        run_answer(run, FLEET_CANCELLED, NULL);
        }
}

/* ---- the record of a claimed run ---- */

static bool run_final(const struct fleet_run *run) { return fleet_state_is_final(run->record.state); }

static void sync_answered(struct fleet_run *run, int error, const struct etcd_response *resp)
{
        struct fleet_record theirs;
        char *sent = run->sending;
        run->sending = NULL;
        if (error || !resp->succeeded)
                free(sent);
        if (error) {
                run->retry = true;
                return;
        }
        if (!resp->succeeded) {
                /* The record is not what this node wrote: the claim never
                 * made it (a guess after an unanswered claim), or another
                 * node recorded the run lost while this one ran. */
                const struct etcd_kv *kv = result_kv(resp, 0);
                if (kv && kv_is_ours(run, kv, &theirs) && strcmp(theirs.state, "lost") == 0)
                        log_emit(&(struct log_record){ .priority = LOG_WARNING,
                                                       .job = run->record.job,
                                                       .run_id = run->record.run_id,
                                                       .scheduled_usec = run->record.scheduled_usec },
                                 "fleet: run of %s ended (%s) after the fleet recorded it lost: this node's lease "
                                 "had expired (etcd unreachable for longer than lease_ttl)",
                                 run->record.job, run->record.state);
                fleet_run_free(run);
                return;
        }
        free(run->written);
        run->written = sent; /* the record may have moved on meanwhile: run_sync() sees to that */
        if (run->holds_running && run->sending_final) {
                run->holds_running = false;
                waiting_try_now(run->fleet, run->record.job); /* a run queued here need not wait for the heartbeat */
        }
        run_sync(run);
}

/* Records held back go out as others are answered, or as this node's
 * claims are (fleet-batch.c). */
void fleet_syncs_resume(struct fleet *f)
{
        struct fleet_run *next;
        for (struct fleet_run *r = f->runs; r && f->syncs_in_flight < FLEET_SYNC_IN_FLIGHT; r = next) {
                next = r->next;
                if (r->held && !r->busy) {
                        r->held = false;
                        run_sync(r); /* may free R */
                }
        }
}

static void on_sync_reply(struct fleet_run *run, int error, const struct etcd_response *resp)
{
        struct fleet *f = run->fleet; /* sync_answered() may free RUN */
        f->syncs_in_flight--;
        sync_answered(run, error, resp);
        if (!error) /* etcd answers: the next (not after a failure: no retry storm) */
                fleet_syncs_resume(f);
}

/* The success branch's keys besides the record: a final record also goes
 * to last/JOB, leaves open/, and frees running/JOB. It is never handed to
 * another run here: a claim that finds running/JOB held by this node
 * skips or waits as it would for any node's (claim_refused()), so the
 * next run is the one waiting in queued/JOB, wherever it is. */
static int sync_final_ops(struct fleet_run *run, struct etcd_txn *t, const char *json)
{
        struct fleet *f = run->fleet;
        _cleanup_free_ char *last = fleet_key_last(f->name, run->record.job);
        _cleanup_free_ char *open = fleet_key_open(f->name, f->node, run->record.job, run->record.scheduled_usec);
        _cleanup_free_ char *running = fleet_key_running(f->name, run->record.job);
        if (!last || !open || !running ||
            etcd_txn_put(t, ETCD_SUCCESS, last, json, strlen(json), f->retention_lease) < 0 ||
            etcd_txn_delete(t, ETCD_SUCCESS, open, false) < 0)
                return -ENOMEM;
        return run->holds_running ? etcd_txn_delete(t, ETCD_SUCCESS, running, false) : 0;
}

/* Brings the run's record in etcd to RECORD, with a compare on what this
 * node wrote last; a final record that is in etcd frees the run. */
static void run_sync(struct fleet_run *run)
{
        struct fleet *f = run->fleet;
        if (run->busy)
                return; /* on_sync_reply() comes back here */
        if (!run->written) {
                if (run_final(run))
                        fleet_run_free(run);
                return;
        }
        _cleanup_free_ char *json = fleet_record_to_json(&run->record);
        if (json && strcmp(json, run->written) == 0) {
                if (run_final(run))
                        fleet_run_free(run);
                return;
        }
        if (!fleet_is_available(f)) {
                run->retry = true;
                return;
        }
        if (f->syncs_in_flight >= FLEET_SYNC_IN_FLIGHT || fleet_batch_busy(f)) {
                run->held = true;
                return;
        }
        _cleanup_free_ char *key = fleet_key_run(f->name, run->record.job, run->record.scheduled_usec);
        struct etcd_txn *t = etcd_txn_new();
        if (!json || !key || !t || etcd_txn_compare_value(t, key, ETCD_EQUAL, run->written, strlen(run->written)) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, key, json, strlen(json), f->retention_lease) < 0 ||
            (run_final(run) && sync_final_ops(run, t, json) < 0) ||
            etcd_txn_range(t, ETCD_FAILURE, key, false, 1, false) < 0) {
                etcd_txn_free(t);
                run->retry = true;
                return;
        }
        run->sending = json;
        run->sending_final = run_final(run);
        json = NULL;
        if (run_send(run, t, on_sync_reply) < 0) {
                run->retry = true;
                free(run->sending);
                run->sending = NULL;
                return;
        }
        f->syncs_in_flight++;
}

static struct fleet_run *run_by_id(struct fleet *f, const char *run_id)
{
        for (struct fleet_run *r = f->runs; r; r = r->next)
                if (r->phase == RUN_CLAIMED && strcmp(r->record.run_id, run_id) == 0)
                        return r;
        return NULL;
}

void fleet_run_dispatched(struct fleet *f, const char *job, int64_t scheduled_usec)
{
        if (f->freeing)
                return;
        for (struct fleet_run *r = f->runs; r; r = r->next)
                if (r->phase == RUN_CLAIMED && r->record.scheduled_usec == scheduled_usec &&
                    strcmp(r->record.state, "claimed") == 0 && strcmp(r->record.job, job) == 0) {
                        snprintf(r->record.state, sizeof(r->record.state), "started");
                        r->record.started_usec = fleet_now_real();
                        run_sync(r);
                        return;
                }
}

void fleet_run_finished(struct fleet *f, const char *run_id, enum log_event event, const struct outcome *o)
{
        struct fleet_run *run = f->freeing ? NULL : run_by_id(f, run_id);
        if (!run)
                return;
        struct fleet_record *r = &run->record;
        snprintf(r->state, sizeof(r->state), "%s", log_event_name(event));
        r->finished_usec = fleet_now_real();
        if (o) {
                r->started_usec = o->start_usec;
                r->finished_usec = o->end_usec;
                r->duration_usec = o->duration_usec;
                r->has_exit_status = o->status == OUTCOME_EXITED;
                r->exit_status = o->code;
                if (o->status == OUTCOME_SIGNALED)
                        snprintf(r->signal, sizeof(r->signal), "SIG%s",
                                 sigabbrev_np(o->signal) ? sigabbrev_np(o->signal) : "UNKNOWN");
        } else {
                snprintf(r->reason, sizeof(r->reason), "its runner exited without reporting");
        }
        run_sync(run);
}

void fleet_run_ended(struct fleet *f, const char *run_id, enum log_event event, const char *reason)
{
        struct fleet_run *run = f->freeing ? NULL : run_by_id(f, run_id);
        if (!run)
                return;
        snprintf(run->record.state, sizeof(run->record.state), "%s", log_event_name(event));
        snprintf(run->record.reason, sizeof(run->record.reason), "%s", reason ? reason : "");
        run->record.finished_usec = fleet_now_real();
        run_sync(run);
}

/* ---- runs waiting for a fleet-wide slot ---- */

static void on_wait_try_reply(struct fleet_run *run, int error, const struct etcd_response *resp)
{
        if (error || !resp->succeeded) {
                const struct etcd_kv *kv = error ? NULL : result_kv(resp, 0);
                struct fleet_record theirs;
                if (kv && !(kv_is_ours(run, kv, &theirs) && strcmp(theirs.state, "waiting") == 0)) {
                        run->phase = RUN_CLAIMED; /* recorded by another node (lost): not ours to run */
                        free(run->written);
                        run->written = NULL;
                        run_answer(run, FLEET_CANCELLED, NULL); /* and frees it */
                }
                return;
        }
        snprintf(run->record.state, sizeof(run->record.state), "claimed");
        free(run->written);
        run->written = fleet_record_to_json(&run->record);
        run->holds_running = true;
        run->phase = RUN_CLAIMED;
        run_answer(run, FLEET_RUN, NULL);
}

/* A waiting run takes running/JOB once the other node's run let go. */
static void wait_try(struct fleet_run *run)
{
        struct fleet *f = run->fleet;
        struct fleet_record claimed = run->record;
        snprintf(claimed.state, sizeof(claimed.state), "claimed");
        _cleanup_free_ char *json = fleet_record_to_json(&claimed);
        _cleanup_free_ char *key = fleet_key_run(f->name, run->record.job, run->record.scheduled_usec);
        _cleanup_free_ char *running = fleet_key_running(f->name, run->record.job);
        _cleanup_free_ char *queued = fleet_key_queued(f->name, run->record.job);
        struct etcd_txn *t = etcd_txn_new();
        if (!json || !key || !running || !queued || !t || !run->written ||
            etcd_txn_compare_int(t, running, ETCD_CREATE_REVISION, ETCD_EQUAL, 0) < 0 ||
            etcd_txn_compare_value(t, key, ETCD_EQUAL, run->written, strlen(run->written)) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, running, json, strlen(json), f->lease) < 0 ||
            etcd_txn_delete(t, ETCD_SUCCESS, queued, false) < 0 ||
            etcd_txn_put(t, ETCD_SUCCESS, key, json, strlen(json), f->retention_lease) < 0 ||
            etcd_txn_range(t, ETCD_FAILURE, key, false, 1, false) < 0) {
                etcd_txn_free(t);
                return;
        }
        run_send(run, t, on_wait_try_reply);
}

/* JOB's runs waiting here, once running/JOB was let go by a run here. */
static void waiting_try_now(struct fleet *f, const char *job)
{
        for (struct fleet_run *r = f->runs; r; r = r->next)
                if (r->phase == RUN_WAITING && !r->busy && strcmp(r->record.job, job) == 0 && fleet_is_available(f))
                        wait_try(r);
}

void fleet_runs_heartbeat(struct fleet *f)
{
        struct fleet_run *next;
        for (struct fleet_run *run = f->runs; run; run = next) {
                next = run->next;
                if (run->busy || !fleet_is_available(f))
                        continue;
                if (run->phase == RUN_WAITING) {
                        wait_try(run);
                } else if (run->retry || run->held) {
                        run->retry = run->held = false;
                        run_sync(run);
                }
        }
}
