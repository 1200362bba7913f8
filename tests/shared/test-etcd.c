/* test-etcd.c — the etcd client (shared/etcd.h) against a real etcd
 * cluster (harness-etcd.h): round trips, transactions, leases, endpoint
 * failover and deadlines, cancellation, and that the loop never waits
 * for etcd. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/harness-etcd.h"
#include "harness/harness.h"
#include "shared/etcd.h"

/* Set while a request call runs: a callback that sees it ran inside. */
static bool inside_request_call;

/* What one request's callback saw (copies: the response dies with it). */
struct outcome {
        int calls, error;
        struct etcd_response response;
        enum { NONE, RANGE, PUT, DELETE } first_type;
        size_t n_kvs;
        int64_t count, deleted, kv_lease, kv_create_revision;
        char value[256], key[256];
        size_t value_len;
};

static void record(void *userdata, int error, const struct etcd_response *r)
{
        struct outcome *o = userdata;
        ck_assert_msg(!inside_request_call, "a callback ran inside the call that made its request");
        o->calls++;
        o->error = error;
        if (!r)
                return;
        o->response = *r;
        o->response.results = NULL;
        if (r->n_results == 0)
                return;
        const struct etcd_op_result *first = &r->results[0];
        o->first_type = first->type == ETCD_OP_RANGE ? RANGE : first->type == ETCD_OP_PUT ? PUT : DELETE;
        o->n_kvs = first->n_kvs, o->count = first->count, o->deleted = first->deleted;
        if (first->n_kvs > 0) {
                const struct etcd_kv *kv = &first->kvs[0];
                ck_assert_uint_lt(kv->value_len, sizeof(o->value));
                memcpy(o->value, kv->value, kv->value_len + 1);
                o->value_len = kv->value_len;
                snprintf(o->key, sizeof(o->key), "%s", kv->key);
                o->kv_lease = kv->lease, o->kv_create_revision = kv->create_revision;
        }
}

/* Runs the loop until O's callback ran (at most TIMEOUT_MS). */
static void await(sd_event *e, const struct outcome *o, int timeout_ms)
{
        long long deadline = harness_now_ms() + timeout_ms;
        while (o->calls == 0 && harness_now_ms() < deadline)
                ck_assert_int_ge(sd_event_run(e, 50 * 1000), 0);
        ck_assert_msg(o->calls == 1, "callback called %d times", o->calls);
}

static void run_for(sd_event *e, int ms)
{
        long long deadline = harness_now_ms() + ms;
        while (harness_now_ms() < deadline)
                ck_assert_int_ge(sd_event_run(e, 10 * 1000), 0);
}

static struct etcd_client *client_for(sd_event *e, char *const *endpoints, uint64_t timeout_usec, uint64_t attempt_usec)
{
        struct etcd_options options = {
                .event = e, .endpoints = endpoints, .timeout_usec = timeout_usec, .attempt_usec = attempt_usec
        };
        struct etcd_client *c;
        ck_assert_int_eq(etcd_client_new(&options, &c), 0);
        return c;
}

#define REQUEST(call)                                     \
        ({                                                \
                inside_request_call = true;               \
                int r_ = (call);                          \
                inside_request_call = false;              \
                ck_assert_msg(r_ == 0, #call ": %d", r_); \
        })

static void put(sd_event *e, struct etcd_client *c, const char *key, const char *value, size_t len, int64_t lease)
{
        struct outcome o = { 0 };
        REQUEST(etcd_put(c, key, value, len, lease, record, &o));
        await(e, &o, 5000);
        ck_assert_msg(o.error == 0, "put %s: %s (%s)", key, strerror(-o.error), etcd_last_error(c));
}

static struct outcome range(sd_event *e, struct etcd_client *c, const char *key, bool prefix, int64_t limit,
                            bool descending)
{
        struct outcome o = { 0 };
        REQUEST(etcd_range(c, key, prefix, limit, descending, record, &o));
        await(e, &o, 5000);
        ck_assert_msg(o.error == 0, "range %s: %s (%s)", key, strerror(-o.error), etcd_last_error(c));
        ck_assert_int_eq(o.first_type, RANGE);
        return o;
}

START_TEST(put_range_delete_round_trip_binary_values)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        const char value[] = { 'a', '\0', '\xff', '\n', '"', '\\', '=', 'z' };
        put(e, c, "tickd/t/bin", value, sizeof(value), 0);
        struct outcome o = range(e, c, "tickd/t/bin", false, 0, false);
        ck_assert_uint_eq(o.n_kvs, 1);
        ck_assert_int_eq(o.count, 1);
        ck_assert_str_eq(o.key, "tickd/t/bin");
        ck_assert_uint_eq(o.value_len, sizeof(value));
        ck_assert(memcmp(o.value, value, sizeof(value)) == 0);
        ck_assert_int_gt(o.kv_create_revision, 0);
        ck_assert_int_ge(o.response.revision, o.kv_create_revision);

        struct outcome d = { 0 };
        REQUEST(etcd_delete(c, "tickd/t/bin", false, record, &d));
        await(e, &d, 5000);
        ck_assert_int_eq(d.error, 0);
        ck_assert_int_eq(d.first_type, DELETE);
        ck_assert_int_eq(d.deleted, 1);
        o = range(e, c, "tickd/t/bin", false, 0, false);
        ck_assert_uint_eq(o.n_kvs, 0);
        ck_assert_int_eq(o.count, 0);
        ck_assert_uint_eq(etcd_pending(c), 0);
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

START_TEST(prefix_range_honours_limit_and_order)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        put(e, c, "tickd/p/a", "1", 1, 0);
        put(e, c, "tickd/p/b", "2", 1, 0);
        put(e, c, "tickd/p0", "outside", 7, 0);
        struct outcome o = range(e, c, "tickd/p/", true, 0, false);
        ck_assert_int_eq(o.count, 2);
        ck_assert_str_eq(o.key, "tickd/p/a");
        o = range(e, c, "tickd/p/", true, 1, true);
        ck_assert_uint_eq(o.n_kvs, 1);
        ck_assert_int_eq(o.count, 2);
        ck_assert_str_eq(o.key, "tickd/p/b");
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

static struct etcd_txn *claim(const char *key, const char *owner)
{
        struct etcd_txn *t = etcd_txn_new();
        ck_assert_ptr_nonnull(t);
        ck_assert_int_eq(etcd_txn_compare_int(t, key, ETCD_CREATE_REVISION, ETCD_EQUAL, 0), 0);
        ck_assert_int_eq(etcd_txn_put(t, ETCD_SUCCESS, key, owner, strlen(owner), 0), 0);
        ck_assert_int_eq(etcd_txn_range(t, ETCD_FAILURE, key, false, 0, false), 0);
        return t;
}

START_TEST(create_if_absent_has_one_winner_and_the_loser_sees_it)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *a = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        struct etcd_client *b = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        struct outcome oa = { 0 }, ob = { 0 };
        REQUEST(etcd_txn(a, claim("tickd/claim", "host-a"), record, &oa));
        REQUEST(etcd_txn(b, claim("tickd/claim", "host-b"), record, &ob));
        await(e, &oa, 5000);
        await(e, &ob, 5000);
        ck_assert_int_eq(oa.error, 0);
        ck_assert_int_eq(ob.error, 0);
        ck_assert_msg(oa.response.succeeded != ob.response.succeeded, "both or neither won");
        struct outcome *winner = oa.response.succeeded ? &oa : &ob, *loser = oa.response.succeeded ? &ob : &oa;
        ck_assert_int_eq(winner->first_type, PUT);
        ck_assert_int_eq(loser->first_type, RANGE);
        ck_assert_uint_eq(loser->n_kvs, 1);
        ck_assert_str_eq(loser->value, winner == &oa ? "host-a" : "host-b");
        etcd_client_free(a);
        etcd_client_free(b);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

static struct outcome lease_call(sd_event *e, struct etcd_client *c,
                                 int (*call)(struct etcd_client *, int64_t, etcd_done_fn, void *), int64_t arg)
{
        struct outcome o = { 0 };
        REQUEST(call(c, arg, record, &o));
        await(e, &o, 5000);
        ck_assert_msg(o.error == 0, "lease request: %s (%s)", strerror(-o.error), etcd_last_error(c));
        return o;
}

START_TEST(lease_keepalive_then_revoke_removes_its_key)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        struct outcome g = lease_call(e, c, etcd_lease_grant, 30);
        ck_assert_int_ne(g.response.lease_id, 0);
        ck_assert_int_eq(g.response.ttl, 30);
        put(e, c, "tickd/leased", "x", 1, g.response.lease_id);
        ck_assert_int_eq(range(e, c, "tickd/leased", false, 0, false).kv_lease, g.response.lease_id);

        struct outcome k = lease_call(e, c, etcd_lease_keepalive, g.response.lease_id);
        ck_assert_int_eq(k.response.lease_id, g.response.lease_id);
        ck_assert_int_gt(k.response.ttl, 0);
        lease_call(e, c, etcd_lease_revoke, g.response.lease_id);
        ck_assert_uint_eq(range(e, c, "tickd/leased", false, 0, false).n_kvs, 0);
        /* A keepalive of a lease that is gone: no TTL in the answer. */
        k = lease_call(e, c, etcd_lease_keepalive, g.response.lease_id);
        ck_assert_int_eq(k.response.ttl, 0);
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

START_TEST(key_under_an_expired_lease_vanishes)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        struct outcome g = lease_call(e, c, etcd_lease_grant, 2);
        put(e, c, "tickd/expiring", "x", 1, g.response.lease_id);
        long long start = harness_now_ms();
        ck_assert_uint_eq(range(e, c, "tickd/expiring", false, 0, false).n_kvs, 1);
        while (range(e, c, "tickd/expiring", false, 0, false).n_kvs > 0) {
                ck_assert_msg(harness_now_ms() - start < 10000, "the key outlived its 2 s lease by 8 s");
                run_for(e, 100);
        }
        ck_assert_int_ge(harness_now_ms() - start, 1000);
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

START_TEST(an_etcd_error_is_eproto_with_its_message)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        struct outcome o = { 0 };
        REQUEST(etcd_put(c, "tickd/nolease", "x", 1, 12345, record, &o));
        await(e, &o, 5000);
        ck_assert_int_eq(o.error, -EPROTO);
        ck_assert_msg(strstr(etcd_last_error(c), "lease not found"), "last error: %s", etcd_last_error(c));
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

START_TEST(fails_over_from_a_closed_port)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char closed[64];
        snprintf(closed, sizeof(closed), "http://127.0.0.1:%d", harness_closed_port());
        char *endpoints[] = { closed, (char *)etcd_cluster_endpoint(cl, 0), NULL };
        struct etcd_client *c = client_for(e, endpoints, 0, 0);
        ck_assert_str_eq(etcd_current_endpoint(c), closed);
        put(e, c, "tickd/failover", "x", 1, 0);
        ck_assert_str_eq(etcd_current_endpoint(c), etcd_cluster_endpoint(cl, 0));
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

START_TEST(fails_over_from_a_paused_member_within_the_deadline)
{
        struct etcd_cluster *cl = etcd_cluster_start(3);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 5000000, 1000000);
        put(e, c, "tickd/before", "x", 1, 0);
        ck_assert_str_eq(etcd_current_endpoint(c), etcd_cluster_endpoint(cl, 0));
        etcd_cluster_pause(cl, 0);
        long long start = harness_now_ms();
        put(e, c, "tickd/after", "y", 1, 0);
        ck_assert_int_lt(harness_now_ms() - start, 5000);
        ck_assert_str_ne(etcd_current_endpoint(c), etcd_cluster_endpoint(cl, 0));
        etcd_cluster_resume(cl, 0);
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

START_TEST(every_member_stopped_is_econnrefused_at_once)
{
        struct etcd_cluster *cl = etcd_cluster_start(3);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 5000000, 0);
        put(e, c, "tickd/x", "x", 1, 0);
        for (int i = 0; i < 3; i++)
                etcd_cluster_stop(cl, i);
        struct outcome o = { 0 };
        long long start = harness_now_ms();
        REQUEST(etcd_put(c, "tickd/x", "y", 1, 0, record, &o));
        await(e, &o, 5000);
        ck_assert_int_eq(o.error, -ECONNREFUSED);
        ck_assert_int_lt(harness_now_ms() - start, 1000);
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
        ++*(int *)userdata;
        return sd_event_source_set_time(s, usec + 50 * 1000) < 0 ? -1 : sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* A paused member answers nothing: the request ends with -ETIMEDOUT at its
 * deadline, and meanwhile the loop runs its other sources. */
START_TEST(a_paused_member_times_out_and_the_loop_keeps_running)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 1000000, 0);
        put(e, c, "tickd/x", "x", 1, 0);
        int ticks = 0;
        sd_event_source *tick;
        ck_assert_int_ge(sd_event_add_time_relative(e, &tick, CLOCK_MONOTONIC, 50 * 1000, 1, on_tick, &ticks), 0);
        etcd_cluster_pause(cl, 0);
        struct outcome o = { 0 };
        long long start = harness_now_ms();
        REQUEST(etcd_put(c, "tickd/x", "y", 1, 0, record, &o));
        await(e, &o, 10000);
        long long took = harness_now_ms() - start;
        ck_assert_int_eq(o.error, -ETIMEDOUT);
        ck_assert_msg(took >= 900 && took < 5000, "the 1 s deadline ended after %lld ms", took);
        ck_assert_msg(ticks >= 10, "a 50 ms timer fired %d times in %lld ms", ticks, took);
        sd_event_source_disable_unref(tick);
        etcd_cluster_resume(cl, 0);
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

/* The loop busy past a request's deadline (tickd forking a slice of a
 * large batch) while etcd's answer, sent in time, waits in the socket:
 * the answer counts, it is not thrown away as a timeout. The member is
 * paused while the request goes out, resumed, and the loop blocked for
 * three times the deadline; etcd answers meanwhile. */
START_TEST(an_answer_that_came_while_the_loop_was_busy_is_read)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 1000000, 1000000);
        put(e, c, "tickd/busy", "here", 4, 0); /* a connection to reuse */
        etcd_cluster_pause(cl, 0);
        struct outcome o = { 0 };
        REQUEST(etcd_range(c, "tickd/busy", false, 0, false, record, &o));
        long long end = harness_now_ms() + 200;
        while (harness_now_ms() < end && o.calls == 0)
                ck_assert_int_ge(sd_event_run(e, 20 * 1000), 0); /* the request is written */
        ck_assert_int_eq(o.calls, 0);
        etcd_cluster_resume(cl, 0);
        usleep(3000 * 1000); /* the loop is busy; etcd answers */
        await(e, &o, 10000);
        ck_assert_msg(o.error == 0, "the answer was dropped: %s", etcd_last_error(c));
        ck_assert_int_eq(o.calls, 1);
        ck_assert_uint_eq(o.n_kvs, 1);
        ck_assert_str_eq(o.value, "here");
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

START_TEST(free_cancels_each_pending_request_once)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        etcd_cluster_pause(cl, 0);
        struct outcome sent[3] = { { 0 } }, unsent = { 0 };
        for (int i = 0; i < 3; i++)
                REQUEST(etcd_put(c, "tickd/x", "x", 1, 0, record, &sent[i]));
        run_for(e, 100); /* under way, unanswered */
        REQUEST(etcd_range(c, "tickd/x", false, 0, false, record, &unsent));
        ck_assert_uint_eq(etcd_pending(c), 4);
        ck_assert_int_eq(sent[0].calls + sent[1].calls + sent[2].calls + unsent.calls, 0);
        etcd_client_free(c);
        run_for(e, 100);
        for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(sent[i].calls, 1);
                ck_assert_int_eq(sent[i].error, -ECANCELED);
        }
        ck_assert_int_eq(unsent.calls, 1);
        ck_assert_int_eq(unsent.error, -ECANCELED);
        etcd_cluster_resume(cl, 0);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

START_TEST(no_callback_runs_inside_the_request_call)
{
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        char closed[64];
        snprintf(closed, sizeof(closed), "http://127.0.0.1:%d", harness_closed_port());
        char *endpoints[] = { closed, NULL };
        struct etcd_client *c = client_for(e, endpoints, 0, 0);
        struct outcome o = { 0 };
        /* record() fails the test if it runs while REQUEST's flag is set. */
        REQUEST(etcd_put(c, "k", "v", 1, 0, record, &o));
        ck_assert_int_eq(o.calls, 0);
        await(e, &o, 5000);
        ck_assert_int_eq(o.error, -ECONNREFUSED);
        ck_assert_msg(strstr(etcd_last_error(c), closed), "last error: %s", etcd_last_error(c));
        etcd_client_free(c);
        sd_event_unref(e);
}
END_TEST

/* The descriptors that are not close-on-exec, as a bitmap of 1024. */
static void inheritable_fds(unsigned char map[128])
{
        memset(map, 0, 128);
        for (int fd = 0; fd < 1024; fd++) {
                int flags = fcntl(fd, F_GETFD);
                if (flags >= 0 && !(flags & FD_CLOEXEC))
                        map[fd / 8] |= (unsigned char)(1 << fd % 8);
        }
}

START_TEST(connections_are_close_on_exec)
{
        struct etcd_cluster *cl = etcd_cluster_start(1);
        unsigned char before[128], after[128];
        inheritable_fds(before);
        sd_event *e;
        ck_assert_int_ge(sd_event_new(&e), 0);
        struct etcd_client *c = client_for(e, etcd_cluster_endpoint_list(cl), 0, 0);
        put(e, c, "tickd/x", "x", 1, 0);
        inheritable_fds(after); /* the connection stays open for the next request */
        ck_assert(memcmp(before, after, sizeof(before)) == 0);
        etcd_client_free(c);
        sd_event_unref(e);
        etcd_cluster_free(cl);
}
END_TEST

static Suite *etcd_suite(void)
{
        Suite *s = suite_create("etcd");
        TCase *tc = tcase_create("client");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, put_range_delete_round_trip_binary_values);
        tcase_add_test(tc, prefix_range_honours_limit_and_order);
        tcase_add_test(tc, create_if_absent_has_one_winner_and_the_loser_sees_it);
        tcase_add_test(tc, lease_keepalive_then_revoke_removes_its_key);
        tcase_add_test(tc, key_under_an_expired_lease_vanishes);
        tcase_add_test(tc, an_etcd_error_is_eproto_with_its_message);
        tcase_add_test(tc, fails_over_from_a_closed_port);
        tcase_add_test(tc, fails_over_from_a_paused_member_within_the_deadline);
        tcase_add_test(tc, every_member_stopped_is_econnrefused_at_once);
        tcase_add_test(tc, an_answer_that_came_while_the_loop_was_busy_is_read);
        tcase_add_test(tc, a_paused_member_times_out_and_the_loop_keeps_running);
        tcase_add_test(tc, free_cancels_each_pending_request_once);
        tcase_add_test(tc, no_callback_runs_inside_the_request_call);
        tcase_add_test(tc, connections_are_close_on_exec);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(etcd_suite)
