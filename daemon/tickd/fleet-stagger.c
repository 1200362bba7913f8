/* fleet-stagger.c — one claim per instant in a healthy fleet; see
 * fleet-internal.h.
 *
 * When every node claimed every instant, etcd made a raft proposal per
 * node and instant (a transaction with puts is proposed even when its
 * compare fails): 3,000 for 1,000 jobs on three nodes, more than a small
 * cluster answers within claim_timeout (tests/bench/RESULTS.md, "Fleet").
 * Now the live nodes (as the last heartbeat listed them) are ordered per
 * job and instant by rendezvous hashing: the first claims at once; the
 * second waits a stagger (claim_timeout/4), the others twice that, then
 * look at runs/JOB/INSTANT in a read-only transaction (served by a read
 * index, no proposal) and claim only if it is still unrecorded. A node
 * that is first but dead (killed, stuck; its lease not yet expired) so
 * costs its instants one stagger, never a gap; and since the claim is
 * still etcd's create-if-absent, a look that comes too early, or two
 * nodes with different lists, cost a spare claim, never a double run.
 *
 * Looks due together go out together, FLEET_READ_MAX ranges to a
 * transaction (etcd's --max-txn-ops default); a look that fails claims
 * as if it had found nothing, and the claim then meets the outage. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "core/rendezvous.h"
#include "core/strv.h"
#include "tickd/fleet-internal.h"

#define FLEET_READ_MAX   128
#define FLEET_STAGGER_UP 2 /* ranks past the second wait as long as the third */

struct read_batch {
        struct fleet *fleet;
        size_t n;
        struct fleet_run *runs[FLEET_READ_MAX];
};

unsigned fleet_rank(const struct fleet *f, const char *job, int64_t scheduled_usec)
{
        return rendezvous_rank(job, scheduled_usec, (const char *const *)f->live, f->n_live, f->node);
}

/* Bounded by claim_timeout/2: an instant whose first nodes are dead
 * starts that much late, and claim_timeout is what the fleet's admin
 * chose as the delay etcd may add to a start. */
uint64_t fleet_stagger_usec(const struct fleet *f, unsigned rank)
{
        return (rank < FLEET_STAGGER_UP ? rank : FLEET_STAGGER_UP) * (f->claim_timeout_usec / 4);
}

void fleet_live_update(struct fleet *f, const struct etcd_op_result *nodes)
{
        _cleanup_free_ char *prefix = fleet_key_prefix(f->name, "nodes");
        char **live = prefix ? calloc(nodes->n_kvs + 1, sizeof(*live)) : NULL;
        if (!live)
                return; /* the old list serves: the order is advice */
        size_t n = strlen(prefix), k = 0;
        for (size_t i = 0; i < nodes->n_kvs; i++) {
                if (nodes->kvs[i].key_len <= n)
                        continue;
                if (!(live[k] = strdup(nodes->kvs[i].key + n))) {
                        strv_free(live);
                        return;
                }
                k++;
        }
        strv_free(f->live);
        f->live = live;
        f->n_live = k;
}

static void read_answer(struct read_batch *b, int error, const struct etcd_response *resp)
{
        struct fleet *f = b->fleet;
        if (!error && resp->n_results != b->n)
                error = -EBADMSG;
        if (!error)
                f->last_ok_usec = fleet_now_mono();
        for (size_t i = 0; i < b->n && !f->freeing; i++) {
                struct fleet_run *run = b->runs[i];
                run->busy = false;
                if (!error && resp->results[i].n_kvs > 0)
                        fleet_claim_found(run, &resp->results[i], resp->revision);
                else
                        fleet_claim_go(run);
        }
}

static void on_read_reply(void *userdata, int error, const struct etcd_response *resp)
{
        struct read_batch *b = userdata;
        struct fleet *f = b->fleet;
        read_answer(b, error, resp);
        free(b);
        fleet_request_done(f);
}

static void read_send(struct fleet *f)
{
        struct read_batch *b = calloc(1, sizeof(*b));
        if (!b)
                return; /* the rest stays queued for the next iteration */
        b->fleet = f;
        while (f->read_head && b->n < FLEET_READ_MAX) {
                struct fleet_run *run = f->read_head;
                f->read_head = run->read_next;
                run->read_next = NULL;
                b->runs[b->n++] = run;
        }
        if (!f->read_head)
                f->read_tail = NULL;
        struct etcd_txn *t = etcd_txn_new();
        int r = t ? 0 : -ENOMEM;
        for (size_t i = 0; i < b->n && r >= 0; i++) {
                const struct fleet_record *rec = &b->runs[i]->record;
                _cleanup_free_ char *key = fleet_key_run(f->name, rec->job, rec->scheduled_usec);
                r = key ? etcd_txn_range(t, ETCD_SUCCESS, key, false, 1, false) : -ENOMEM;
        }
        if (r < 0)
                etcd_txn_free(t);
        else
                r = etcd_txn(f->etcd, t, on_read_reply, b);
        if (r < 0) {
                read_answer(b, r, NULL); /* each claims without a look */
                free(b);
                return;
        }
        f->in_flight++;
}

/* Looks wait while this node's own claims are queued or under way: etcd
 * is busy with a burst, and the first nodes' claims of the instants
 * looked at are likely still in its queue, so a look now would find them
 * unrecorded and claim them again. The wait is bounded: each batch is
 * answered or fails within claim_timeout, and a failed one fails the
 * queue behind it (fleet-batch.c). */
static int on_read_send(sd_event_source *source, void *userdata)
{
        struct fleet *f = userdata;
        if (fleet_batch_busy(f))
                return 0; /* fleet_looks_resume() */
        while (f->read_head && !f->freeing) {
                struct fleet_run *head = f->read_head;
                read_send(f);
                if (f->read_head == head)
                        break; /* out of memory: again at the next iteration */
        }
        if (f->read_head)
                (void)sd_event_source_set_enabled(f->read_send, SD_EVENT_ONESHOT);
        return 0;
}

static int read_queue(struct fleet_run *run)
{
        struct fleet *f = run->fleet;
        int r = 0;
        if (!f->read_send) {
                r = sd_event_add_defer(f->event, &f->read_send, on_read_send, f);
                if (r < 0)
                        return r;
                (void)sd_event_source_set_description(f->read_send, "fleet-looks");
        }
        r = sd_event_source_set_enabled(f->read_send, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        run->read_next = NULL;
        if (f->read_tail)
                f->read_tail->read_next = run;
        else
                f->read_head = run;
        f->read_tail = run;
        run->busy = true;
        return 0;
}

static int on_stagger(sd_event_source *source, uint64_t usec, void *userdata)
{
        struct fleet_run *run = userdata;
        struct fleet *f = run->fleet;
        run->stagger = sd_event_source_disable_unref(run->stagger);
        if (f->stopping || !fleet_is_available(f) || read_queue(run) < 0)
                fleet_claim_go(run);
        return 0;
}

int fleet_stagger_add(struct fleet_run *run, unsigned rank)
{
        int r = sd_event_add_time_relative(run->fleet->event, &run->stagger, CLOCK_MONOTONIC,
                                           fleet_stagger_usec(run->fleet, rank), 1000, on_stagger, run);
        if (r >= 0)
                (void)sd_event_source_set_description(run->stagger, "fleet-stagger");
        return r;
}

void fleet_looks_resume(struct fleet *f)
{
        if (f->read_head)
                (void)sd_event_source_set_enabled(f->read_send, SD_EVENT_ONESHOT);
}

void fleet_stagger_drop(struct fleet *f)
{
        for (struct fleet_run *run = f->read_head; run; run = run->read_next)
                run->busy = false;
        f->read_head = f->read_tail = NULL;
        f->read_send = sd_event_source_disable_unref(f->read_send);
        strv_free(f->live);
        f->live = NULL;
        f->n_live = 0;
}
