/* fleet.c — the node: its lease, the heartbeat, runs lost on other nodes
 * and replace requests; claims are fleet-claim.c's. See fleet.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "shared/clock.h"
#include "tickd/fleet-internal.h"

#define USEC_PER_SEC       UINT64_C(1000000)
#define LOST_IN_FLIGHT_MAX 64 /* lost runs handled at once; the rest at later heartbeats */

uint64_t fleet_now_mono(void) { return clock_now_usec(CLOCK_MONOTONIC); }
int64_t fleet_now_real(void) { return (int64_t)clock_now_usec(CLOCK_REALTIME); }

/* Claims need the node registered under a live lease (so no other node
 * takes its runs for lost) and a recent answer from etcd. */
bool fleet_is_available(const struct fleet *f)
{
        return f->lease && f->registered && f->retention_lease && !f->freeing &&
               fleet_now_mono() - f->last_ok_usec < f->lease_ttl_usec;
}

bool fleet_available(const struct fleet *f) { return fleet_is_available(f); }
size_t fleet_pending(const struct fleet *f) { return f->in_flight; }

void fleet_log_unavailable(struct fleet *f, int error)
{
        if (f->unavailable_logged)
                return;
        f->unavailable_logged = true;
        log_emit(&(struct log_record){ .priority = LOG_WARNING, .errno_value = error < 0 ? -error : 0 },
                 "fleet %s: etcd unavailable (%s): fleet jobs follow on_unavailable = %s until it answers", f->name,
                 etcd_last_error(f->etcd), f->run_when_unavailable ? "run" : "skip");
}

static void fleet_answered(struct fleet *f)
{
        f->last_ok_usec = fleet_now_mono();
        if (f->unavailable_logged) {
                f->unavailable_logged = false;
                log_msg(LOG_NOTICE, "fleet %s: etcd answers again (%s)", f->name, etcd_current_endpoint(f->etcd));
        }
}

/* ---- leaving: the lease is revoked once nothing is in flight ---- */

static void on_revoked(void *userdata, int error, const struct etcd_response *resp)
{
        struct fleet *f = userdata;
        f->revoking = false;
        f->lease = 0;
        f->registered = false;
        fleet_request_done(f);
}

static void maybe_revoke(struct fleet *f)
{
        if (!f->stopping || f->freeing || f->revoking || !f->lease || f->in_flight > 0)
                return;
        if (etcd_lease_revoke(f->etcd, f->lease, on_revoked, f) == 0) {
                f->revoking = true;
                f->in_flight++;
        } else {
                f->lease = 0;
        }
}

void fleet_request_done(struct fleet *f)
{
        f->in_flight--;
        maybe_revoke(f);
}

void fleet_stop(struct fleet *f)
{
        if (f->stopping)
                return;
        f->stopping = true;
        fleet_runs_heartbeat(f); /* records not written yet: one last try */
        maybe_revoke(f);
}

bool fleet_idle(const struct fleet *f) { return f->in_flight == 0 && !f->lease; }

static void tick_send(struct fleet *f);

/* ---- leases ---- */

static void on_node_lease(void *userdata, int error, const struct etcd_response *resp)
{
        struct fleet *f = userdata;
        f->granting = false;
        if (!f->freeing) {
                if (error) {
                        fleet_log_unavailable(f, error);
                } else if (resp->lease_id) {
                        f->lease = resp->lease_id;
                        fleet_answered(f);
                        if (!f->ticking)
                                tick_send(f); /* register at once: parked claims wait for it */
                }
        }
        fleet_request_done(f);
}

static void on_retention_lease(void *userdata, int error, const struct etcd_response *resp)
{
        struct fleet *f = userdata;
        f->retention_granting = false;
        if (!f->freeing && !error && resp->lease_id) {
                f->retention_lease = resp->lease_id;
                f->retention_granted_usec = fleet_now_mono();
                fleet_claims_resume(f);
        }
        fleet_request_done(f);
}

static void on_keepalive(void *userdata, int error, const struct etcd_response *resp)
{
        struct fleet *f = userdata;
        if (!f->freeing && !error) {
                fleet_answered(f);
                if (resp->ttl <= 0 && f->lease) {
                        log_emit(&(struct log_record){ .priority = LOG_WARNING },
                                 "fleet %s: this node's lease expired in etcd (no answer for longer than lease_ttl): "
                                 "other nodes may have recorded its runs in progress as lost; joining again",
                                 f->name);
                        f->lease = 0;
                        f->registered = false;
                }
        }
        fleet_request_done(f);
}

/* Records are put on a lease of retention plus a seventh, granted anew
 * every seventh: each record outlives the retention by at most that. */
static void leases_renew(struct fleet *f)
{
        uint64_t step = f->retention_usec / 7;
        if (!f->retention_granting && (!f->retention_lease || fleet_now_mono() - f->retention_granted_usec >= step) &&
            etcd_lease_grant(f->etcd, (int64_t)((f->retention_usec + step) / USEC_PER_SEC), on_retention_lease, f) ==
                    0) {
                f->retention_granting = true;
                f->in_flight++;
        }
        if (!f->lease) {
                if (!f->granting && !f->stopping &&
                    etcd_lease_grant(f->etcd, (int64_t)(f->lease_ttl_usec / USEC_PER_SEC), on_node_lease, f) == 0) {
                        f->granting = true;
                        f->in_flight++;
                }
        } else if (etcd_lease_keepalive(f->etcd, f->lease, on_keepalive, f) == 0) {
                f->in_flight++;
        }
}

/* ---- runs lost on other nodes ---- */

struct lost_check {
        struct fleet *f;
        char *open_key;
        char node[FLEET_NAME_MAX + 1];
        bool restarted; /* this node's own run, of a tickd that is gone */
        struct fleet_record record;
};

static void lost_check_free(struct lost_check *c)
{
        c->f->lost_in_flight--;
        free(c->open_key);
        free(c);
}

static void on_lost_written(void *userdata, int error, const struct etcd_response *resp)
{
        struct lost_check *c = userdata;
        struct fleet *f = c->f;
        if (!f->freeing && !error && resp->succeeded && c->record.state[0])
                log_emit(&(struct log_record){ .event = LOG_EVENT_LOST,
                                               .job = c->record.job,
                                               .run_id = c->record.run_id,
                                               .scheduled_usec = c->record.scheduled_usec,
                                               .node = c->node,
                                               .reason = c->record.reason },
                         "run of %s on node %s lost: %s", c->record.job, c->node, c->record.reason);
        lost_check_free(c);
        fleet_request_done(f);
}

/* The run's record, read: recorded lost (if it is not final yet) and its
 * open key removed, both only if nobody changed them meanwhile. */
static void on_lost_read(void *userdata, int error, const struct etcd_response *resp)
{
        struct lost_check *c = userdata;
        struct fleet *f = c->f;
        const struct etcd_kv *kv =
                !error && resp->n_results > 0 && resp->results[0].n_kvs > 0 ? resp->results[0].kvs : NULL;
        struct etcd_txn *t = kv || !error ? etcd_txn_new() : NULL;
        _cleanup_free_ char *json = NULL, *last = NULL;
        bool pending = kv && fleet_record_from_json(kv->value, kv->value_len, &c->record) == 0 &&
                       !fleet_state_is_final(c->record.state);
        if (pending) {
                snprintf(c->record.state, sizeof(c->record.state), "lost");
                snprintf(c->record.reason, sizeof(c->record.reason),
                         c->restarted ? "tickd on node %s stopped while the run was in progress"
                                      : "node %s stopped answering (its lease in etcd expired) while the run was in "
                                        "progress",
                         c->node);
                c->record.finished_usec = fleet_now_real();
                json = fleet_record_to_json(&c->record);
                last = fleet_key_last(f->name, c->record.job);
        } else {
                c->record.state[0] = '\0'; /* nothing to record: the key goes */
        }
        if (f->freeing || !t || etcd_txn_compare_int(t, c->open_key, ETCD_CREATE_REVISION, ETCD_GREATER, 0) < 0 ||
            (kv && etcd_txn_compare_int(t, kv->key, ETCD_MOD_REVISION, ETCD_EQUAL, kv->mod_revision) < 0) ||
            (pending &&
             (!json || !last || etcd_txn_put(t, ETCD_SUCCESS, kv->key, json, strlen(json), f->retention_lease) < 0 ||
              etcd_txn_put(t, ETCD_SUCCESS, last, json, strlen(json), f->retention_lease) < 0)) ||
            etcd_txn_delete(t, ETCD_SUCCESS, c->open_key, false) < 0 || etcd_txn(f->etcd, t, on_lost_written, c) < 0) {
                if (t && !f->freeing)
                        log_msg(LOG_DEBUG, "fleet: lost run check of %s deferred", c->open_key);
                lost_check_free(c);
        } else {
                f->in_flight++;
        }
        fleet_request_done(f);
}

static void lost_check_start(struct fleet *f, const char *open_key, const char *rest, bool restarted)
{
        char job[FLEET_JOB_MAX];
        int64_t instant;
        struct lost_check *c = calloc(1, sizeof(*c));
        if (!c || fleet_key_parse_open(rest, c->node, job, &instant) < 0 || !(c->open_key = strdup(open_key))) {
                free(c);
                return;
        }
        c->f = f;
        c->restarted = restarted;
        f->lost_in_flight++;
        _cleanup_free_ char *key = fleet_key_run(f->name, job, instant);
        if (!key || etcd_range(f->etcd, key, false, 1, false, on_lost_read, c) < 0) {
                lost_check_free(c);
                return;
        }
        f->in_flight++;
}

static bool node_alive(const struct etcd_op_result *nodes, const char *prefix, const char *node)
{
        size_t n = strlen(prefix);
        for (size_t i = 0; i < nodes->n_kvs; i++)
                if (strcmp(nodes->kvs[i].key + n, node) == 0)
                        return true;
        return false;
}

/* Each open run of a node that is gone is checked, at most
 * LOST_IN_FLIGHT_MAX at a time; this node's own open runs that it does
 * not know of are a previous tickd's, once, at the first heartbeat. */
static void lost_scan(struct fleet *f, const struct etcd_op_result *nodes, const struct etcd_op_result *open)
{
        _cleanup_free_ char *nodes_prefix = fleet_key_prefix(f->name, "nodes");
        _cleanup_free_ char *open_prefix = fleet_key_prefix(f->name, "open");
        if (!nodes_prefix || !open_prefix)
                return;
        size_t n = strlen(open_prefix);
        for (size_t i = 0; i < open->n_kvs && f->lost_in_flight < LOST_IN_FLIGHT_MAX; i++) {
                const char *rest = open->kvs[i].key + n;
                char node[FLEET_NAME_MAX + 1], job[FLEET_JOB_MAX];
                int64_t instant;
                if (fleet_key_parse_open(rest, node, job, &instant) < 0)
                        continue;
                if (strcmp(node, f->node) == 0) {
                        if (!f->first_tick_done && !fleet_run_known(f, job, instant))
                                lost_check_start(f, open->kvs[i].key, rest, true);
                } else if (!node_alive(nodes, nodes_prefix, node)) {
                        lost_check_start(f, open->kvs[i].key, rest, false);
                }
        }
}

/* ---- replace requests from other nodes ---- */

static void on_cancel_deleted(void *userdata, int error, const struct etcd_response *resp)
{
        fleet_request_done(userdata);
}

static void cancel_scan(struct fleet *f, const struct etcd_op_result *cancels)
{
        _cleanup_free_ char *prefix = fleet_key_cancel(f->name, f->node, "");
        if (!prefix)
                return;
        size_t n = strlen(prefix);
        for (size_t i = 0; i < cancels->n_kvs; i++) {
                const char *job = cancels->kvs[i].key + n;
                log_emit(&(struct log_record){ .priority = LOG_NOTICE, .job = job },
                         "fleet: another node replaces the run of %s here (overlap = replace): cancelling it", job);
                if (f->cancel)
                        f->cancel(f->userdata, job);
                if (etcd_delete(f->etcd, cancels->kvs[i].key, false, on_cancel_deleted, f) == 0)
                        f->in_flight++;
        }
}

/* ---- the heartbeat ---- */

static void on_tick(void *userdata, int error, const struct etcd_response *resp)
{
        struct fleet *f = userdata;
        f->ticking = false;
        if (!f->freeing && !error && resp->n_results == 4) {
                fleet_answered(f);
                if (!f->registered)
                        log_emit(&(struct log_record){ .priority = LOG_INFO, .node = f->node },
                                 "fleet %s: node %s joined (etcd %s)", f->name, f->node,
                                 etcd_current_endpoint(f->etcd));
                f->registered = true;
                fleet_live_update(f, &resp->results[1]);
                lost_scan(f, &resp->results[1], &resp->results[2]);
                cancel_scan(f, &resp->results[3]);
                f->first_tick_done = true;
                fleet_claims_resume(f);
        } else if (!f->freeing && error) {
                fleet_log_unavailable(f, error);
        }
        fleet_request_done(f);
}

/* One transaction: this node's key (its heartbeat), the live nodes, the
 * open runs, and the replace requests addressed here. */
static void tick_send(struct fleet *f)
{
        struct fleet_node me = { .pid = getpid(), .started_usec = f->started_usec, .heartbeat_usec = fleet_now_real() };
        snprintf(me.node, sizeof(me.node), "%s", f->node);
        snprintf(me.version, sizeof(me.version), "%s", TICKD_VERSION);
        _cleanup_free_ char *json = fleet_node_to_json(&me);
        _cleanup_free_ char *key = fleet_key_node(f->name, f->node);
        _cleanup_free_ char *nodes = fleet_key_prefix(f->name, "nodes");
        _cleanup_free_ char *open = fleet_key_prefix(f->name, "open");
        _cleanup_free_ char *cancel = fleet_key_cancel(f->name, f->node, "");
        struct etcd_txn *t = etcd_txn_new();
        if (!json || !key || !nodes || !open || !cancel || !t ||
            etcd_txn_put(t, ETCD_SUCCESS, key, json, strlen(json), f->lease) < 0 ||
            etcd_txn_range(t, ETCD_SUCCESS, nodes, true, 0, false) < 0 ||
            etcd_txn_range(t, ETCD_SUCCESS, open, true, 0, false) < 0 ||
            etcd_txn_range(t, ETCD_SUCCESS, cancel, true, 0, false) < 0) {
                etcd_txn_free(t);
                return;
        }
        if (etcd_txn(f->etcd, t, on_tick, f) == 0) {
                f->ticking = true;
                f->in_flight++;
        }
}

static int on_heartbeat(sd_event_source *source, uint64_t usec, void *userdata)
{
        struct fleet *f = userdata;
        sd_event_source_set_time_relative(source, f->lease_ttl_usec / 3);
        sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        if (f->stopping) {
                maybe_revoke(f);
                return 0;
        }
        leases_renew(f);
        if (f->lease && !f->ticking)
                tick_send(f);
        fleet_runs_heartbeat(f);
        return 0;
}

/* ---- life ---- */

int fleet_new(const struct fleet_options *options, struct fleet **out)
{
        struct fleet *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        f->event = sd_event_ref(options->etcd->event);
        f->name = strdup(options->name);
        f->node = strdup(options->node);
        f->run_when_unavailable = options->run_when_unavailable;
        f->retention_usec = options->retention_usec ? options->retention_usec : 7 * 24 * 3600 * USEC_PER_SEC;
        f->lease_ttl_usec = options->lease_ttl_usec ? options->lease_ttl_usec : 5 * USEC_PER_SEC;
        f->claim_timeout_usec = options->claim_timeout_usec ? options->claim_timeout_usec : 2 * USEC_PER_SEC;
        f->cancel = options->cancel;
        f->userdata = options->userdata;
        f->started_usec = fleet_now_real();
        int r = f->name && f->node ? etcd_client_new(options->etcd, &f->etcd) : -ENOMEM;
        if (r >= 0)
                r = sd_event_add_time_relative(f->event, &f->heartbeat, CLOCK_MONOTONIC, 0, 10000, on_heartbeat, f);
        if (r < 0) {
                fleet_free(f);
                return r;
        }
        *out = f;
        return 0;
}

const char *fleet_node(const struct fleet *f) { return f->node; }

void fleet_free(struct fleet *f)
{
        if (!f)
                return;
        f->freeing = true;
        etcd_client_free(f->etcd); /* every pending reply, with -ECANCELED */
        fleet_batch_drop(f);
        fleet_stagger_drop(f);
        while (f->runs) {
                struct fleet_run *run = f->runs;
                fleet_claimed_fn done = run->done;
                run->done = NULL;
                if (done)
                        done(run->userdata,
                             &(struct fleet_claim_result){ .verdict = FLEET_CANCELLED,
                                                           .job = run->record.job,
                                                           .run_id = run->record.run_id,
                                                           .scheduled_usec = run->record.scheduled_usec });
                fleet_run_free(run);
        }
        for (size_t i = 0; i < f->n_hash_warned; i++)
                free(f->hash_warned[i]);
        free(f->hash_warned);
        sd_event_source_disable_unref(f->heartbeat);
        sd_event_unref(f->event);
        free(f->name);
        free(f->node);
        free(f);
}

int fleet_new_from_config(const struct fleet_config *config, sd_event *event, fleet_cancel_fn cancel, void *userdata,
                          struct fleet **out, const char **failed_path)
{
        char host[256] = "";
        _cleanup_free_ char *password = NULL;
        *failed_path = NULL;
        if (config->password_file) {
                int r = fleet_password_read(config->password_file, &password);
                if (r < 0) {
                        *failed_path = config->password_file;
                        return r;
                }
        }
        if (!config->node) {
                if (gethostname(host, sizeof(host) - 1) < 0)
                        return -errno;
                host[strcspn(host, ".")] = '\0'; /* the short name */
                if (!fleet_name_valid(host))
                        return -EINVAL;
        }
        struct etcd_options eo = { .event = event,
                                   .endpoints = config->endpoints,
                                   .ca_file = config->ca_file,
                                   .cert_file = config->cert_file,
                                   .key_file = config->key_file,
                                   .user = config->user,
                                   .password = password,
                                   .timeout_usec = config->claim_timeout_usec };
        int r = fleet_new(
                &(struct fleet_options){ .etcd = &eo,
                                         .name = config->name,
                                         .node = config->node ? config->node : host,
                                         .run_when_unavailable = config->on_unavailable == FLEET_UNAVAILABLE_RUN,
                                         .retention_usec = config->retention_usec,
                                         .lease_ttl_usec = config->lease_ttl_usec,
                                         .claim_timeout_usec = config->claim_timeout_usec,
                                         .cancel = cancel,
                                         .userdata = userdata },
                out);
        if (password)
                explicit_bzero(password, strlen(password));
        return r;
}
