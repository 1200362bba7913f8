/* test-fleet-ctl.c — tickctl's view of a fleet, end to end: two tickd
 * nodes on a real 1-member etcd share a fleet job due every second and a
 * host job; tickctl fleet, history --fleet and list read what the nodes
 * wrote, and say clearly what they cannot read when etcd is gone or the
 * host is in no fleet. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"
#include "harness/harness-ctl.h"
#include "harness/harness-daemon.h"
#include "harness/harness-etcd.h"
#include "harness/harness.h"

#define N_NODES 2

static const char *const node_names[N_NODES] = { "a", "b" };

static const char crontab[] = "[tick]\n"
                              "schedule = * * * * * *\n"
                              "command = true\n"
                              "scope = fleet\n"
                              "\n"
                              "[host]\n"
                              "schedule = * * * * * *\n"
                              "command = true\n";

struct fleet_ctl {
        struct etcd_cluster *cluster;
        struct tickd *node[N_NODES];
        char *runtime[N_NODES], *state[N_NODES];
};

static char *join(const char *a, const char *b)
{
        char *out;
        ck_assert_int_ge(asprintf(&out, "%s/%s", a, b), 0);
        return out;
}

static void fleet_ctl_start(struct fleet_ctl *f)
{
        f->cluster = etcd_cluster_start(1);
        for (int i = 0; i < N_NODES; i++) {
                _cleanup_free_ char *conf = NULL;
                ck_assert_int_ge(asprintf(&conf,
                                          "[fleet]\nendpoints = %s\nname = ctl\nnode = %s\nlease_ttl = 2s\n"
                                          "claim_timeout = 1s\n",
                                          etcd_cluster_endpoint(f->cluster, 0), node_names[i]),
                                 0);
                f->node[i] = tickd_start(conf, NULL);
                f->runtime[i] = join(f->node[i]->dir, "runtime");
                f->state[i] = join(f->node[i]->dir, "state");
                tickd_write_job(f->node[i], "fleet.ini", crontab);
        }
        for (int i = 0; i < N_NODES; i++)
                ck_assert_msg(tickd_wait_for(f->node[i], " joined (etcd ", 1, 15000), "node %s never joined:\n%s",
                              node_names[i], tickd_log_tail(f->node[i]));
}

static void fleet_ctl_free(struct fleet_ctl *f)
{
        for (int i = 0; i < N_NODES; i++) {
                tickd_stop(f->node[i], SIGTERM, 10000);
                tickd_free(f->node[i]);
                free(f->runtime[i]);
                free(f->state[i]);
        }
        etcd_cluster_free(f->cluster);
        harness_reap_children(2000);
}

static int succeeded_runs(struct fleet_ctl *f)
{
        int n = 0;
        for (int i = 0; i < N_NODES; i++) {
                tickd_pump(f->node[i], 50);
                n += tickd_count(f->node[i], "event=succeeded job=tick ");
        }
        return n;
}

static struct ctl_result ctl_on(struct fleet_ctl *f, int i, const char *const *args)
{
        struct ctl_target target = { .runtime_base = f->runtime[i],
                                     .config_dir = f->node[i]->config_dir,
                                     .state_dir = f->state[i] };
        return harness_ctl(&target, NULL, args);
}

/* The index of the node named NAME, or -1. */
static int node_index(const char *name)
{
        for (int i = 0; i < N_NODES; i++)
                if (strcmp(name, node_names[i]) == 0)
                        return i;
        return -1;
}

/* The line of TEXT that starts with PREFIX, as a new string. */
static char *line_starting(const char *text, const char *prefix)
{
        for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, prefix, strlen(prefix)) == 0)
                        return strndup(line, strcspn(line, "\n"));
        return NULL;
}

static void check_fleet_text(struct fleet_ctl *f)
{
        struct ctl_result r = ctl_on(f, 0, (const char *const[]){ "fleet", NULL });
        ck_assert_msg(r.status == 0, "tickctl fleet: %d\n%s%s", r.status, r.out, r.err);
        ck_assert_contains(r.out, "Fleet ctl: 2 nodes alive");
        for (int i = 0; i < N_NODES; i++) {
                char prefix[16];
                snprintf(prefix, sizeof(prefix), "%s ", node_names[i]);
                _cleanup_free_ char *line = line_starting(r.out, prefix);
                ck_assert_msg(line, "node %s not listed:\n%s", node_names[i], r.out);
                ck_assert_contains(line, TICKD_VERSION);
                /* Heartbeats come every lease_ttl/3: "now" or a second or two ago. */
                ck_assert_msg(strstr(line, " now") || strstr(line, " 1s ago") || strstr(line, " 2s ago"),
                              "heartbeat not recent: %s", line);
        }
        _cleanup_free_ char *job = line_starting(r.out, "tick ");
        ck_assert_msg(job, "fleet job not listed:\n%s", r.out);
        ck_assert_contains(job, "succeeded");
        ck_assert_msg(strstr(job, "  a  ") || strstr(job, "  b  "), "no node named: %s", job);
        ck_assert_msg(!line_starting(r.out, "host "), "a host job among the fleet's:\n%s", r.out);
        ctl_result_free(&r);
}

static void check_fleet_json(struct fleet_ctl *f)
{
        struct ctl_result r = ctl_on(f, 1, (const char *const[]){ "fleet", "--json", NULL });
        ck_assert_msg(r.status == 0, "tickctl fleet --json: %d\n%s", r.status, r.err);
        json_object *o = json_tokener_parse(r.out);
        ck_assert_msg(o, "not JSON:\n%s", r.out);
        json_object *nodes, *last, *v;
        ck_assert(json_object_object_get_ex(o, "nodes", &nodes));
        ck_assert_int_eq(json_object_array_length(nodes), N_NODES);
        ck_assert(json_object_object_get_ex(o, "last", &last));
        ck_assert_int_eq(json_object_array_length(last), 1);
        json_object *tick = json_object_array_get_idx(last, 0);
        ck_assert(json_object_object_get_ex(tick, "job", &v));
        ck_assert_str_eq(json_object_get_string(v), "tick");
        ck_assert(json_object_object_get_ex(tick, "result", &v));
        ck_assert_str_eq(json_object_get_string(v), "succeeded");
        ck_assert(json_object_object_get_ex(tick, "node", &v));
        ck_assert_int_ge(node_index(json_object_get_string(v)), 0);
        json_object_put(o);
        ctl_result_free(&r);
}

/* Every row oldest first and each instant once, and each run's node is
 * the one whose log started that run id. */
static void check_history(struct fleet_ctl *f)
{
        struct ctl_result r = ctl_on(f, 0, (const char *const[]){ "history", "--fleet", "tick", "--json", NULL });
        ck_assert_msg(r.status == 0, "tickctl history --fleet: %d\n%s", r.status, r.err);
        /* Every run listed started before tickctl read it: its line is in the logs now. */
        for (int i = 0; i < N_NODES; i++)
                tickd_pump(f->node[i], 100);
        long long previous = 0;
        int rows = 0;
        for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n"), rows++) {
                json_object *o = json_tokener_parse(line), *v;
                ck_assert_msg(o, "not JSON: %s", line);
                ck_assert(json_object_object_get_ex(o, "scheduled_usec", &v));
                long long t = json_object_get_int64(v);
                ck_assert_msg(t > previous, "instant %lld after %lld: not oldest first, or twice", t, previous);
                previous = t;
                ck_assert(json_object_object_get_ex(o, "node", &v));
                int i = node_index(json_object_get_string(v));
                ck_assert_msg(i >= 0, "unknown node in %s", line);
                ck_assert(json_object_object_get_ex(o, "run_id", &v));
                char needle[128];
                snprintf(needle, sizeof(needle), "event=started job=tick run=%s ", json_object_get_string(v));
                ck_assert_msg(strstr(f->node[i]->log, needle), "node %s's log has no %s", node_names[i], needle);
                ck_assert_msg(!strstr(f->node[1 - i]->log, needle), "node %s ran %s too", node_names[1 - i], needle);
                json_object_put(o);
        }
        ck_assert_int_ge(rows, 3);
        ctl_result_free(&r);

        r = ctl_on(f, 1, (const char *const[]){ "history", "--fleet", NULL });
        ck_assert_msg(r.status == 0, "tickctl history --fleet: %d\n%s", r.status, r.err);
        ck_assert_contains(r.out, "SCHEDULED");
        ck_assert_contains(r.out, "NODE");
        ck_assert_contains(r.out, " tick ");
        ck_assert_not_contains(r.out, " host ");
        ctl_result_free(&r);
}

static void check_list(struct fleet_ctl *f)
{
        struct ctl_result r = ctl_on(f, 0, (const char *const[]){ "list", NULL });
        ck_assert_msg(r.status == 0, "tickctl list: %d\n%s", r.status, r.err);
        ck_assert_contains(r.out, "  NAME  SCOPE  ");
        ck_assert_contains(r.out, "  host  host   ");
        int fleet_rows = 0;
        for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
                if (!strstr(line, "  tick  fleet  "))
                        continue;
                fleet_rows++;
                ck_assert_msg(strstr(line, "  succeeded  a  ") || strstr(line, "  succeeded  b  "),
                              "no node after the result: %s", line);
        }
        ck_assert_int_eq(fleet_rows, 1);
        ck_assert_str_eq(r.err, "");
        ctl_result_free(&r);
        r = ctl_on(f, 1, (const char *const[]){ "list", "--json", NULL });
        ck_assert_msg(r.status == 0, "tickctl list --json: %d\n%s", r.status, r.err);
        ck_assert_contains(r.out, "\"scope\": \"fleet\", \"last_node\": \"");
        ck_assert_contains(r.out, "\"scope\": \"host\", \"last_node\": null");
        ctl_result_free(&r);
}

static void check_etcd_gone(struct fleet_ctl *f)
{
        etcd_cluster_stop(f->cluster, 0);
        struct ctl_result r = ctl_on(f, 0, (const char *const[]){ "fleet", NULL });
        ck_assert_msg(r.status == 2, "tickctl fleet without etcd: %d\n%s", r.status, r.err);
        char needle[128];
        snprintf(needle, sizeof(needle), "etcd unavailable at %s", etcd_cluster_endpoint(f->cluster, 0));
        ck_assert_contains(r.err, needle);
        ctl_result_free(&r);

        r = ctl_on(f, 0, (const char *const[]){ "list", NULL });
        ck_assert_msg(r.status == 0, "tickctl list without etcd: %d\n%s", r.status, r.err);
        ck_assert_contains(r.out, " tick ");
        ck_assert_contains(r.out, " host ");
        ck_assert_contains(r.err, "the fleet's last runs are unknown (etcd unavailable at");
        ctl_result_free(&r);
}

START_TEST(tickctl_shows_the_fleet_from_etcd)
{
        struct fleet_ctl f = {};
        fleet_ctl_start(&f);
        long long end = harness_now_ms() + 20000;
        while (succeeded_runs(&f) < 4 && harness_now_ms() < end)
                ;
        ck_assert_msg(succeeded_runs(&f) >= 4, "the fleet job did not run:\n%s\n%s", tickd_log_tail(f.node[0]),
                      tickd_log_tail(f.node[1]));
        check_fleet_text(&f);
        check_fleet_json(&f);
        check_history(&f);
        check_list(&f);
        check_etcd_gone(&f);
        fleet_ctl_free(&f);
}
END_TEST

START_TEST(without_a_fleet_section_fleet_commands_say_so)
{
        char *dir = harness_tmpdir();
        free(harness_write_file(dir, "tickd.conf", "[daemon]\nmax_concurrent = 4\n"));
        struct ctl_target target = { .runtime_base = dir, .config_dir = dir };
        struct ctl_result r = harness_ctl(&target, NULL, (const char *const[]){ "fleet", NULL });
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.err, "tickd.conf has no [fleet] section");
        ck_assert_str_eq(r.out, "");
        ctl_result_free(&r);
        r = harness_ctl(&target, NULL, (const char *const[]){ "history", "--fleet", "tick", NULL });
        ck_assert_int_eq(r.status, 1);
        ck_assert_contains(r.err, "tickd.conf has no [fleet] section");
        ctl_result_free(&r);
        harness_tmpdir_remove(dir);
}
END_TEST

static Suite *fleet_ctl_suite(void)
{
        Suite *s = suite_create("fleet-ctl");
        TCase *tc = tcase_create("tickctl");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 90);
        tcase_add_test(tc, without_a_fleet_section_fleet_commands_say_so);
        tcase_add_test(tc, tickctl_shows_the_fleet_from_etcd);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(fleet_ctl_suite)
