/* fleet-batch.c — the claims of one loop iteration sent together; see
 * fleet-internal.h.
 *
 * Every fleet job due at an instant asks for its claim in the same
 * iteration. One request each put 3,000 requests on etcd for 1,000 jobs
 * on three nodes, and on a small machine they queued past claim_timeout
 * (tests/bench/RESULTS.md, "Fleet"). A batch is one transaction holding
 * up to FLEET_BATCH_MAX claims: all of their compares, all of their puts,
 * and each claim's three failure ranges (its record, running/JOB,
 * queued/JOB) in order, so each run reads its own three. Nodes load the same crontab and so batch the same jobs of an
 * instant alike: the node whose batch lands first wins all of it, the
 * others read every instant taken. A batch that fails for other claims
 * than a run's own leaves that run's keys absent, and claim_refused()
 * then claims it alone: a run never fails because of its neighbours.
 *
 * etcd bounds a transaction (--max-txn-ops, 128 by default): a claim is
 * up to 3 compares, 3 puts and 3 ranges, so 32 claims stay inside it. A
 * cluster set lower refuses the batch; its claims are then sent alone.
 * A transaction may not put one key twice: one run per job in a batch
 * (running/JOB).
 *
 * At most FLEET_BATCH_IN_FLIGHT batches of a node are under way at once.
 * etcd serves concurrent transactions interleaved: 30 batches sent
 * together were all answered after 2.2-4.6 s on the loaded bench machine
 * (one alone: 40-66 ms), every one past claim_timeout, while in turn the
 * first are answered at once and each waits only for etcd's work on its
 * own. A queued claim does not wait for an etcd that stopped answering:
 * a batch that fails (no answer within claim_timeout, or refused by every
 * endpoint) answers every claim queued behind it with the same error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "tickd/fleet-internal.h"

struct claim_batch {
        struct fleet *fleet;
        size_t n;
        struct fleet_run *runs[FLEET_BATCH_MAX];
};

/* etcd's words for a transaction over its limits (--max-txn-ops,
 * --max-request-bytes): the batch was refused, not its claims. */
static bool batch_refused(const char *message)
{
        return strstr(message, "too many operations") || strstr(message, "too large");
}

static void batch_answer(struct claim_batch *b, int error, const struct etcd_response *resp)
{
        struct fleet *f = b->fleet;
        bool alone = error == -EPROTO && b->n > 1 && batch_refused(etcd_last_error(f->etcd));
        if (!error && !resp->succeeded && resp->n_results != 3 * b->n)
                error = -EBADMSG;
        for (size_t i = 0; i < b->n; i++) {
                struct fleet_run *run = b->runs[i];
                char *json = run->claim_json;
                run->claim_json = NULL;
                run->busy = false;
                if (f->freeing) {
                        free(json);
                } else if (alone) {
                        free(json);
                        run->attempts--; /* the refused batch was not this claim's attempt */
                        fleet_claim_answered(run, 0, &(struct etcd_response){ .succeeded = false }, NULL,
                                             run->claim_take_running);
                } else {
                        struct etcd_response own = { .succeeded = true };
                        if (!error && !resp->succeeded)
                                own = (struct etcd_response){ .revision = resp->revision,
                                                              .results = resp->results + 3 * i,
                                                              .n_results = 3 };
                        fleet_claim_answered(run, error, error ? NULL : &own, json, run->claim_take_running);
                }
                fleet_request_done(f);
        }
}

/* etcd does not answer: the claims queued behind the batch would wait
 * for it in turn, each up to claim_timeout; they fail with it now. */
static void batch_fail_queued(struct fleet *f, int error)
{
        while (f->batch_head && !f->freeing) {
                struct fleet_run *run = f->batch_head;
                f->batch_head = run->batch_next;
                if (!f->batch_head)
                        f->batch_tail = NULL;
                run->batch_next = NULL;
                run->busy = false;
                fleet_claim_answered(run, error, NULL, TAKE_PTR(run->claim_json), run->claim_take_running);
                fleet_request_done(f);
        }
}

static void on_batch_reply(void *userdata, int error, const struct etcd_response *resp)
{
        struct claim_batch *b = userdata;
        struct fleet *f = b->fleet;
        f->batches_in_flight--;
        batch_answer(b, error, resp);
        free(b);
        if (f->freeing)
                return;
        if (error && error != -EPROTO && error != -EBADMSG)
                batch_fail_queued(f, error);
        if (f->batch_head)
                (void)sd_event_source_set_enabled(f->batch_send, SD_EVENT_ONESHOT);
        else if (!f->batches_in_flight) {
                fleet_looks_resume(f);
                fleet_syncs_resume(f);
        }
}

bool fleet_batch_busy(const struct fleet *f) { return f->batch_head || f->batches_in_flight > 0; }

static bool batch_has_job(const struct claim_batch *b, const char *job)
{
        for (size_t i = 0; i < b->n; i++)
                if (strcmp(b->runs[i]->record.job, job) == 0)
                        return true;
        return false;
}

/* Takes up to FLEET_BATCH_MAX queued runs, one per job, into B. */
static void batch_fill(struct fleet *f, struct claim_batch *b)
{
        struct fleet_run **link = &f->batch_head, *last = NULL;
        while (*link && b->n < FLEET_BATCH_MAX) {
                struct fleet_run *run = *link;
                if (batch_has_job(b, run->record.job)) {
                        last = run;
                        link = &run->batch_next;
                        continue;
                }
                *link = run->batch_next;
                run->batch_next = NULL;
                b->runs[b->n++] = run;
        }
        if (!*link)
                f->batch_tail = last;
        if (!f->batch_head)
                f->batch_tail = NULL;
}

static void batch_send(struct fleet *f)
{
        struct claim_batch *b = calloc(1, sizeof(*b));
        if (!b)
                return; /* the rest stays queued for the next iteration */
        b->fleet = f;
        batch_fill(f, b);
        struct etcd_txn *t = etcd_txn_new();
        int r = t ? 0 : -ENOMEM;
        for (size_t i = 0; i < b->n && r >= 0; i++)
                r = fleet_claim_ops(b->runs[i], t, b->runs[i]->claim_json, b->runs[i]->claim_take_running);
        if (r < 0)
                etcd_txn_free(t);
        else
                r = etcd_txn(f->etcd, t, on_batch_reply, b);
        if (r < 0) {
                batch_answer(b, r, NULL); /* each is unanswered: on_unavailable decides */
                free(b);
                return;
        }
        f->batches_in_flight++;
}

static int on_batch_send(sd_event_source *source, void *userdata)
{
        struct fleet *f = userdata;
        while (f->batch_head && !f->freeing && f->batches_in_flight < FLEET_BATCH_IN_FLIGHT) {
                struct fleet_run *head = f->batch_head;
                batch_send(f);
                if (f->batch_head == head && f->batches_in_flight < FLEET_BATCH_IN_FLIGHT)
                        break; /* out of memory: again at the next iteration */
        }
        if (f->batch_head && f->batches_in_flight < FLEET_BATCH_IN_FLIGHT)
                (void)sd_event_source_set_enabled(f->batch_send, SD_EVENT_ONESHOT);
        return 0;
}

int fleet_batch_add(struct fleet_run *run, bool take_running)
{
        struct fleet *f = run->fleet;
        int r = 0;
        if (!f->batch_send) {
                r = sd_event_add_defer(f->event, &f->batch_send, on_batch_send, f);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_description(f->batch_send, "fleet-claims");
        }
        snprintf(run->record.state, sizeof(run->record.state), "claimed");
        run->claim_json = fleet_record_to_json(&run->record);
        if (!run->claim_json || sd_event_source_set_enabled(f->batch_send, SD_EVENT_ONESHOT) < 0) {
                free(run->claim_json);
                run->claim_json = NULL;
                return -ENOMEM;
        }
        run->attempts++;
        run->claim_take_running = take_running;
        run->batch_next = NULL;
        if (f->batch_tail)
                f->batch_tail->batch_next = run;
        else
                f->batch_head = run;
        f->batch_tail = run;
        run->busy = true;
        f->in_flight++;
        return 0;
}

void fleet_batch_drop(struct fleet *f)
{
        for (struct fleet_run *run = f->batch_head; run; run = run->batch_next) {
                free(run->claim_json);
                run->claim_json = NULL;
                run->busy = false;
                f->in_flight--;
        }
        f->batch_head = f->batch_tail = NULL;
        f->batch_send = sd_event_source_disable_unref(f->batch_send);
}
