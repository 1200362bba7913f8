/* test-fleet-secure.c — the fleet's TLS and etcd authentication against a
 * real etcd (harness-etcd.h): the etcd client (shared/etcd.h) with a CA
 * and a client certificate, without one, with the wrong CA; with a user
 * and password, a wrong password, and tokens etcd stops honouring; and two
 * tickd nodes sharing a fleet job through an etcd that demands all of it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-daemon.h"
#include "harness/harness-etcd.h"
#include "harness/harness.h"
#include "shared/etcd.h"

#define USER     "tickd"
#define PASSWORD "tickd-secret"

/* What one request's callback saw. */
struct outcome {
        int calls, error;
        char value[64];
};

static void record(void *userdata, int error, const struct etcd_response *r)
{
        struct outcome *o = userdata;
        o->calls++;
        o->error = error;
        if (r && r->n_results > 0 && r->results[0].n_kvs > 0)
                snprintf(o->value, sizeof(o->value), "%s", r->results[0].kvs[0].value);
}

/* Runs the loop until O's callback ran (at most 10 s). */
static void await(sd_event *e, const struct outcome *o)
{
        long long deadline = harness_now_ms() + 10000;
        while (o->calls == 0 && harness_now_ms() < deadline)
                ck_assert_int_ge(sd_event_run(e, 50 * 1000), 0);
        ck_assert_msg(o->calls == 1, "callback called %d times", o->calls);
}

/* One put of KEY = VALUE, awaited: its error. */
static int put(sd_event *e, struct etcd_client *c, const char *key, const char *value)
{
        struct outcome o = { 0 };
        ck_assert_int_eq(etcd_put(c, key, value, strlen(value), 0, record, &o), 0);
        await(e, &o);
        return o.error;
}

/* One range of KEY, awaited: its error; the value found in VALUE. */
static int get(sd_event *e, struct etcd_client *c, const char *key, char *value, size_t size)
{
        struct outcome o = { 0 };
        ck_assert_int_eq(etcd_range(c, key, false, 0, false, record, &o), 0);
        await(e, &o);
        snprintf(value, size, "%s", o.value);
        return o.error;
}

static struct etcd_client *client_new(sd_event *e, struct etcd_cluster *cl, const struct etcd_options *extra)
{
        struct etcd_options options = *extra;
        options.event = e;
        options.endpoints = etcd_cluster_endpoint_list(cl);
        options.timeout_usec = 5000000;
        struct etcd_client *c;
        ck_assert_int_eq(etcd_client_new(&options, &c), 0);
        return c;
}

/* The options of a client that presents every credential the cluster
 * asks for. */
static struct etcd_options tls_options(const struct etcd_cluster *cl)
{
        return (struct etcd_options){ .ca_file = etcd_cluster_ca_file(cl),
                                      .cert_file = etcd_cluster_cert_file(cl),
                                      .key_file = etcd_cluster_key_file(cl) };
}

struct secure {
        sd_event *event;
        struct etcd_cluster *cluster;
};

static struct secure secure_start(bool tls, bool auth)
{
        struct secure s = { 0 };
        ck_assert_int_ge(sd_event_new(&s.event), 0);
        s.cluster = etcd_cluster_start_with(1, &(struct etcd_cluster_options){ .tls = tls });
        if (auth)
                etcd_cluster_auth_enable(s.cluster, USER, PASSWORD);
        return s;
}

static void secure_end(struct secure *s, struct etcd_client *c)
{
        etcd_client_free(c);
        etcd_cluster_free(s->cluster);
        sd_event_unref(s->event);
        harness_reap_children(5000);
}

/* ---- TLS ---- */

START_TEST(tls_with_ca_and_client_certificate_round_trips)
{
        struct secure s = secure_start(true, false);
        struct etcd_options o = tls_options(s.cluster);
        struct etcd_client *c = client_new(s.event, s.cluster, &o);
        char value[64];
        ck_assert_msg(put(s.event, c, "/tickd/k", "over tls") == 0, "%s", etcd_last_error(c));
        ck_assert_int_eq(get(s.event, c, "/tickd/k", value, sizeof(value)), 0);
        ck_assert_str_eq(value, "over tls");
        ck_assert_uint_eq(etcd_pending(c), 0);
        secure_end(&s, c);
}
END_TEST

START_TEST(tls_without_client_certificate_fails_with_the_transports_reason)
{
        struct secure s = secure_start(true, false);
        struct etcd_options o = { .ca_file = etcd_cluster_ca_file(s.cluster) };
        struct etcd_client *c = client_new(s.event, s.cluster, &o);
        ck_assert_int_eq(put(s.event, c, "/tickd/k", "v"), -ECONNREFUSED);
        /* etcd just closes the connection (TLS 1.3: after the client's
         * side of the handshake), and curl's words name no certificate:
         * the message says what a closed https connection usually means. */
        ck_assert_msg(strstr(etcd_last_error(c), etcd_cluster_endpoint(s.cluster, 0)) &&
                              strstr(etcd_last_error(c), "client certificate"),
                      "%s", etcd_last_error(c));
        secure_end(&s, c);
}
END_TEST

START_TEST(tls_with_another_ca_fails_certificate_verification)
{
        struct secure s = secure_start(true, false);
        struct etcd_options o = tls_options(s.cluster);
        o.ca_file = etcd_cluster_other_ca_file(s.cluster);
        struct etcd_client *c = client_new(s.event, s.cluster, &o);
        ck_assert_int_eq(put(s.event, c, "/tickd/k", "v"), -ECONNREFUSED);
        ck_assert_msg(strstr(etcd_last_error(c), "certificate"), "%s", etcd_last_error(c));
        secure_end(&s, c);
}
END_TEST

/* ---- authentication ---- */

START_TEST(auth_with_password_may_use_its_prefix_only)
{
        struct secure s = secure_start(false, true);
        struct etcd_client *c =
                client_new(s.event, s.cluster, &(struct etcd_options){ .user = USER, .password = PASSWORD });
        char value[64];
        ck_assert_msg(put(s.event, c, "/tickd/k", "mine") == 0, "%s", etcd_last_error(c));
        ck_assert_int_eq(get(s.event, c, "/tickd/k", value, sizeof(value)), 0);
        ck_assert_str_eq(value, "mine");
        /* The role is what etcd enforces: outside /tickd/ is refused. */
        ck_assert_int_eq(put(s.event, c, "/other", "v"), -EPROTO);
        ck_assert_msg(strstr(etcd_last_error(c), "permission denied"), "%s", etcd_last_error(c));
        secure_end(&s, c);
}
END_TEST

START_TEST(auth_with_wrong_password_fails_with_etcds_message)
{
        struct secure s = secure_start(false, true);
        struct etcd_client *c =
                client_new(s.event, s.cluster, &(struct etcd_options){ .user = USER, .password = "wrong" });
        ck_assert_int_eq(put(s.event, c, "/tickd/k", "v"), -EPROTO);
        ck_assert_msg(strstr(etcd_last_error(c), "authentication failed"), "%s", etcd_last_error(c));
        ck_assert_uint_eq(etcd_pending(c), 0);
        secure_end(&s, c);
}
END_TEST

START_TEST(auth_token_etcd_forgot_is_renewed)
{
        struct secure s = secure_start(false, true);
        struct etcd_client *c =
                client_new(s.event, s.cluster, &(struct etcd_options){ .user = USER, .password = PASSWORD });
        ck_assert_msg(put(s.event, c, "/tickd/k", "1") == 0, "%s", etcd_last_error(c));
        etcd_cluster_auth_reset(s.cluster); /* the client's token is now unknown */
        ck_assert_msg(put(s.event, c, "/tickd/k", "2") == 0, "%s", etcd_last_error(c));
        secure_end(&s, c);
}
END_TEST

/* etcd's gateway cannot pass a certificate's Common Name on as the
 * user, so with authentication on it refuses such a certificate, in
 * plain text: the client says so, with etcd's words. */
START_TEST(auth_over_tls_with_a_common_name_certificate_says_etcds_reason)
{
        struct secure s = secure_start(true, true);
        struct etcd_options o = tls_options(s.cluster);
        o.cert_file = etcd_cluster_named_cert_file(s.cluster);
        o.key_file = etcd_cluster_named_key_file(s.cluster);
        o.user = USER, o.password = PASSWORD;
        struct etcd_client *c = client_new(s.event, s.cluster, &o);
        ck_assert_int_eq(put(s.event, c, "/tickd/k", "v"), -EPROTO);
        ck_assert_msg(strstr(etcd_last_error(c), "HTTP status 400: CommonName of client"), "%s", etcd_last_error(c));
        secure_end(&s, c);
}
END_TEST

/* ---- end to end ---- */

#define N_NODES 2
static const char *const node_names[N_NODES] = { "a", "b" };

static const char crontab[] = "[tick]\n"
                              "schedule = * * * * * *\n"
                              "command = true\n"
                              "scope = fleet\n";

/* How many `started` records of tick the nodes have for instant T. */
static int started_at(struct tickd *const *nodes, long long t)
{
        int n = 0;
        for (int i = 0; i < N_NODES; i++)
                for (const char *line = strstr(nodes[i]->log, "event=started job=tick "); line;
                     line = strstr(line + 1, "event=started job=tick ")) {
                        const char *sched = strstr(line, " scheduled=");
                        const char *nl = strchr(line, '\n');
                        if (sched && (!nl || sched < nl) && atoll(sched + strlen(" scheduled=")) == t)
                                n++;
                }
        return n;
}

/* The end of a node's log: Check's messages are short. */
static const char *log_tail(const struct tickd *t)
{
        size_t len = strlen(t->log);
        return t->log + (len > 2500 ? len - 2500 : 0);
}

static char *node_conf(struct etcd_cluster *cl, const char *password_file, int i)
{
        char *conf;
        ck_assert_int_ge(asprintf(&conf,
                                  "[fleet]\n"
                                  "endpoints = %s\n"
                                  "name = test\n"
                                  "node = %s\n"
                                  "lease_ttl = 2s\n"
                                  "claim_timeout = 1s\n"
                                  "ca_file = %s\n"
                                  "cert_file = %s\n"
                                  "key_file = %s\n"
                                  "user = " USER "\n"
                                  "password_file = %s\n",
                                  etcd_cluster_endpoint(cl, 0), node_names[i], etcd_cluster_ca_file(cl),
                                  etcd_cluster_cert_file(cl), etcd_cluster_key_file(cl), password_file),
                         0);
        return conf;
}

static void pump_all(struct tickd *const *nodes, int ms)
{
        long long end = harness_now_ms() + ms;
        do {
                for (int i = 0; i < N_NODES; i++)
                        tickd_pump(nodes[i], 20);
        } while (harness_now_ms() < end);
}

START_TEST(two_nodes_over_tls_with_auth_run_each_instant_once)
{
        struct etcd_cluster *cl = etcd_cluster_start_with(1, &(struct etcd_cluster_options){ .tls = true });
        etcd_cluster_auth_enable(cl, USER, PASSWORD);
        char *dir = harness_tmpdir();
        _cleanup_free_ char *password_file = harness_write_file(dir, "etcd-password", PASSWORD "\n");
        ck_assert_int_eq(chmod(password_file, 0600), 0);
        struct tickd *nodes[N_NODES];
        for (int i = 0; i < N_NODES; i++) {
                _cleanup_free_ char *conf = node_conf(cl, password_file, i);
                nodes[i] = tickd_start(conf, NULL);
                tickd_write_job(nodes[i], "fleet.ini", crontab);
        }
        for (int i = 0; i < N_NODES; i++)
                ck_assert_msg(tickd_wait_for(nodes[i], " joined (etcd ", 1, 15000), "node %s never joined:\n%s",
                              node_names[i], log_tail(nodes[i]));
        pump_all(nodes, 1500);
        long long t0 = (long long)time(NULL);
        pump_all(nodes, 6000);
        long long t1 = (long long)time(NULL) - 2;
        int ran = 0;
        for (long long t = t0; t <= t1; t++) {
                int n = started_at(nodes, t);
                ck_assert_msg(n <= 1, "instant %lld started on %d nodes", t, n);
                ran += n;
        }
        ck_assert_msg(ran >= (int)(t1 - t0), "only %d of the %lld instants ran; node a's log ends:\n%s", ran,
                      t1 - t0 + 1, log_tail(nodes[0]));
        for (int i = 0; i < N_NODES; i++) {
                /* A clean stop revokes the lease, which needs the role too. */
                int status = tickd_stop(nodes[i], SIGTERM, 20000);
                ck_assert_msg(status == 0, "node %s exited with %d", node_names[i], status);
                ck_assert_msg(!strstr(nodes[i]->log, "permission denied") && !strstr(nodes[i]->log, "authentication"),
                              "node %s's log ends:\n%s", node_names[i], log_tail(nodes[i]));
                tickd_free(nodes[i]);
        }
        harness_tmpdir_remove(dir);
        etcd_cluster_free(cl);
        harness_reap_children(5000);
}
END_TEST

static Suite *fleet_secure_suite(void)
{
        Suite *s = suite_create("fleet-secure");
        TCase *tls = tcase_create("tls");
        tcase_add_leak_fixture(tls);
        tcase_set_timeout(tls, 60);
        tcase_add_test(tls, tls_with_ca_and_client_certificate_round_trips);
        tcase_add_test(tls, tls_without_client_certificate_fails_with_the_transports_reason);
        tcase_add_test(tls, tls_with_another_ca_fails_certificate_verification);
        suite_add_tcase(s, tls);
        TCase *auth = tcase_create("auth");
        tcase_add_leak_fixture(auth);
        tcase_set_timeout(auth, 60);
        tcase_add_test(auth, auth_with_password_may_use_its_prefix_only);
        tcase_add_test(auth, auth_with_wrong_password_fails_with_etcds_message);
        tcase_add_test(auth, auth_token_etcd_forgot_is_renewed);
        tcase_add_test(auth, auth_over_tls_with_a_common_name_certificate_says_etcds_reason);
        suite_add_tcase(s, auth);
        TCase *nodes = tcase_create("nodes");
        tcase_add_leak_fixture(nodes);
        tcase_set_timeout(nodes, 90);
        tcase_add_test(nodes, two_nodes_over_tls_with_auth_run_each_instant_once);
        suite_add_tcase(s, nodes);
        return s;
}

TEST_MAIN(fleet_secure_suite)
