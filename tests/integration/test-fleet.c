/* test-fleet.c — end to end: three tickd nodes and a real 3-member etcd
 * cluster on loopback share one crontab. A fleet job due every second runs
 * exactly once per instant across the nodes while nodes are killed and
 * etcd members stopped, paused and restarted; host jobs keep their timing
 * throughout. A checker reads every node's records and etcd's keys. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-daemon.h"
#include "harness/harness-etcd.h"
#include "harness/harness.h"
#include "shared/etcd.h"
#include "shared/fleet-record.h"

#define N_NODES     3
#define MAX_INSTANT 4096

static const char *const node_names[N_NODES] = { "a", "b", "c" };

static const char crontab[] = "[tick]\n"
                              "schedule = * * * * * *\n"
                              "command = true\n"
                              "scope = fleet\n"
                              "\n"
                              "[slow]\n"
                              "schedule = */4 * * * * *\n"
                              "command = sleep 3\n"
                              "scope = fleet\n"
                              "\n"
                              "[host]\n"
                              "schedule = * * * * * *\n"
                              "command = true\n";

struct fleet_test {
        struct etcd_cluster *cluster;
        struct tickd *node[N_NODES];
        bool alive[N_NODES];
};

/* Node I's tickd.conf: the endpoints in an order of its own, so the
 * nodes talk to different members. */
static char *node_conf(struct etcd_cluster *cluster, int i)
{
        char *conf;
        ck_assert_int_ge(asprintf(&conf,
                                  "[fleet]\n"
                                  "endpoints = %s, %s, %s\n"
                                  "name = test\n"
                                  "node = %s\n"
                                  "lease_ttl = 2s\n"
                                  "claim_timeout = 1s\n",
                                  etcd_cluster_endpoint(cluster, i % 3), etcd_cluster_endpoint(cluster, (i + 1) % 3),
                                  etcd_cluster_endpoint(cluster, (i + 2) % 3), node_names[i]),
                         0);
        return conf;
}

static void fleet_start(struct fleet_test *ft)
{
        ft->cluster = etcd_cluster_start(3);
        for (int i = 0; i < N_NODES; i++) {
                _cleanup_free_ char *conf = node_conf(ft->cluster, i);
                ft->node[i] = tickd_start(conf, NULL);
                ft->alive[i] = true;
                tickd_write_job(ft->node[i], "fleet.ini", crontab);
        }
        for (int i = 0; i < N_NODES; i++)
                ck_assert_msg(tickd_wait_for(ft->node[i], " joined (etcd ", 1, 15000),
                              "node %s never joined the fleet:\n%s", node_names[i], tickd_log_tail(ft->node[i]));
}

static void pump_all(struct fleet_test *ft, int ms)
{
        long long end = harness_now_ms() + ms;
        do {
                for (int i = 0; i < N_NODES; i++)
                        if (ft->alive[i])
                                tickd_pump(ft->node[i], 20);
        } while (harness_now_ms() < end);
}

/* The scheduled instants (s) of LOG's records of EVENT for JOB, in
 * COUNT[instant - BASE]; returns the largest instant seen. */
static long long instants(const char *log, const char *event, const char *job, long long base, int *count)
{
        char prefix[96];
        long long last = 0;
        snprintf(prefix, sizeof(prefix), "event=%s job=%s ", event, job);
        for (const char *line = strstr(log, prefix); line; line = strstr(line + 1, prefix)) {
                if (line != log && line[-1] != '\n')
                        continue;
                const char *sched = strstr(line, " scheduled=");
                const char *nl = strchr(line, '\n');
                if (!sched || (nl && sched > nl))
                        continue;
                long long t = atoll(sched + strlen(" scheduled="));
                if (t >= base && t < base + MAX_INSTANT)
                        count[t - base]++;
                if (t > last)
                        last = t;
        }
        return last;
}

/* How many `started` records LOG has for JOB's instant T. */
static int started_at(const char *log, const char *job, long long t)
{
        char needle[256];
        int n = 0;
        snprintf(needle, sizeof(needle), "event=started job=%s ", job);
        for (const char *line = strstr(log, needle); line; line = strstr(line + 1, needle)) {
                const char *sched = strstr(line, " scheduled=");
                const char *nl = strchr(line, '\n');
                if (sched && (!nl || sched < nl) && atoll(sched + strlen(" scheduled=")) == t)
                        n++;
        }
        return n;
}

/* Each node's log in $TICKD_FLEET_LOGS/NODE.log when that is set: what
 * to read when a check fails. */
static void logs_save(struct fleet_test *ft)
{
        const char *dir = getenv("TICKD_FLEET_LOGS");
        for (int i = 0; dir && i < N_NODES; i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s.log", dir, node_names[i]);
                FILE *f = fopen(path, "we");
                if (f) {
                        fputs(ft->node[i]->log, f);
                        fclose(f);
                }
        }
}

/* Between FROM and TO (s), every instant of JOB (each STEP s) started on exactly one
 * node, or was skipped or lost with a record saying why; returns how
 * many started. */
static int check_exactly_once(struct fleet_test *ft, const char *job, long long from, long long to, int step)
{
        static int started[MAX_INSTANT], explained[MAX_INSTANT];
        memset(started, 0, sizeof(started));
        memset(explained, 0, sizeof(explained));
        for (int i = 0; i < N_NODES; i++) {
                instants(ft->node[i]->log, "started", job, from, started);
                instants(ft->node[i]->log, "skipped", job, from, explained);
                instants(ft->node[i]->log, "lost", job, from, explained);
        }
        int ran = 0;
        logs_save(ft);
        for (long long t = from; t <= to; t++) {
                if (t % step != 0)
                        continue;
                ck_assert_msg(started[t - from] <= 1, "%s's instant %lld started on %d nodes", job, t,
                              started[t - from]);
                ck_assert_msg(started[t - from] == 1 || explained[t - from] > 0,
                              "%s's instant %lld: no node ran it and none said why", job, t);
                ran += started[t - from];
        }
        return ran;
}

/* The host job ran at every instant on every node that was up. */
static void check_host_on_time(struct fleet_test *ft, int i, long long from, long long to)
{
        static int started[MAX_INSTANT];
        memset(started, 0, sizeof(started));
        instants(ft->node[i]->log, "started", "host", from, started);
        for (long long t = from; t <= to; t++)
                ck_assert_msg(started[t - from] == 1, "node %s: host job's instant %lld started %d times",
                              node_names[i], t, started[t - from]);
}

static long long now_s(void) { return (long long)time(NULL); }

/* ---- etcd's side, read with the project's own client ---- */

struct range_wait {
        bool done;
        int error;
        int64_t count;
        int mismatches;
        struct fleet_test *ft;
        long long from, to;
};

/* Each run record of `tick` between FROM and TO names the node whose
 * journal has it started, and every finished one says succeeded. */
static void on_runs(void *userdata, int error, const struct etcd_response *resp)
{
        struct range_wait *w = userdata;
        w->done = true;
        w->error = error;
        if (error)
                return;
        for (size_t i = 0; i < resp->results[0].n_kvs; i++) {
                struct fleet_record rec;
                const struct etcd_kv *kv = &resp->results[0].kvs[i];
                ck_assert_int_eq(fleet_record_from_json(kv->value, kv->value_len, &rec), 0);
                long long t = rec.scheduled_usec / 1000000;
                if (t < w->from || t > w->to || strcmp(rec.state, "succeeded") != 0)
                        continue;
                w->count++;
                bool found = false;
                for (int n = 0; n < N_NODES; n++)
                        if (strcmp(node_names[n], rec.node) == 0)
                                found = started_at(w->ft->node[n]->log, "tick", t) == 1;
                if (!found)
                        w->mismatches++;
        }
}

static void check_etcd_records(struct fleet_test *ft, long long from, long long to)
{
        sd_event *event = NULL;
        struct etcd_client *c = NULL;
        ck_assert_int_ge(sd_event_new(&event), 0);
        ck_assert_int_ge(etcd_client_new(&(struct etcd_options){ .event = event,
                                                                 .endpoints = etcd_cluster_endpoint_list(ft->cluster),
                                                                 .timeout_usec = 5000000 },
                                         &c),
                         0);
        struct range_wait w = { .ft = ft, .from = from, .to = to };
        ck_assert_int_eq(etcd_range(c, "/tickd/test/runs/tick/", true, 0, false, on_runs, &w), 0);
        while (!w.done)
                ck_assert_int_ge(sd_event_run(event, UINT64_MAX), 0);
        ck_assert_int_eq(w.error, 0);
        ck_assert_msg(w.count >= (to - from) / 2, "only %lld succeeded records in etcd for %lld instants",
                      (long long)w.count, to - from);
        ck_assert_int_eq(w.mismatches, 0);
        etcd_client_free(c);
        sd_event_unref(event);
}

static void fleet_free_all(struct fleet_test *ft)
{
        /* Each node that is still up stops cleanly: exit 0, and no leak
         * (the nodes are the sanitized build: a leak exits 23). */
        for (int i = 0; i < N_NODES; i++) {
                if (ft->alive[i]) {
                        int status = tickd_stop(ft->node[i], SIGTERM, 20000);
                        ck_assert_msg(status == 0, "node %s exited with status %d:\n%s", node_names[i], status,
                                      strstr(ft->node[i]->log, "Sanitizer") ? strstr(ft->node[i]->log, "Sanitizer")
                                                                            : "");
                }
                tickd_free(ft->node[i]);
        }
        etcd_cluster_free(ft->cluster);
        harness_reap_children(5000);
}

/* The node that started the latest `slow` run, waiting for one. */
static int node_running_slow(struct fleet_test *ft, int before[N_NODES])
{
        long long end = harness_now_ms() + 15000;
        while (harness_now_ms() < end) {
                pump_all(ft, 100);
                for (int i = 0; i < N_NODES; i++)
                        if (ft->alive[i] && tickd_count(ft->node[i], "event=started job=slow ") > before[i])
                                return i;
        }
        ck_abort_msg("no node started slow");
        return -1;
}

START_TEST(each_instant_runs_once_across_the_fleet_through_failures)
{
        struct fleet_test ft = { 0 };
        fleet_start(&ft);
        pump_all(&ft, 1500);
        long long t0 = now_s();

        /* All up: every instant once, spread over the nodes. */
        pump_all(&ft, 8000);
        long long t1 = now_s() - 1;
        ck_assert_int_ge(check_exactly_once(&ft, "tick", t0, t1, 1), (int)(t1 - t0) - 1);

        /* A node killed while it runs a fleet job: recorded lost once, by
         * a survivor; the others go on with no gap. */
        int before[N_NODES];
        for (int i = 0; i < N_NODES; i++)
                before[i] = tickd_count(ft.node[i], "event=started job=slow ");
        int victim = node_running_slow(&ft, before);
        kill(ft.node[victim]->pid, SIGKILL);
        tickd_stop(ft.node[victim], SIGKILL, 5000);
        ft.alive[victim] = false;
        char lost[64];
        snprintf(lost, sizeof(lost), "node=%s ", node_names[victim]);
        long long end = harness_now_ms() + 15000;
        int lost_records = 0;
        while (lost_records == 0 && harness_now_ms() < end) {
                pump_all(&ft, 200);
                for (int i = 0; i < N_NODES; i++)
                        if (ft.alive[i] && strstr(ft.node[i]->log, "event=lost job=slow ") &&
                            strstr(strstr(ft.node[i]->log, "event=lost job=slow "), lost))
                                lost_records++;
        }
        ck_assert_msg(lost_records == 1, "the killed node's run of slow was recorded lost %d times", lost_records);
        pump_all(&ft, 3000);

        /* One etcd member stopped: still exactly once. */
        etcd_cluster_stop(ft.cluster, 2);
        pump_all(&ft, 4000);
        /* Two stopped: no quorum. Fleet jobs skip with the reason; host
         * jobs keep every instant. */
        etcd_cluster_stop(ft.cluster, 1);
        long long q0 = now_s();
        int skipped_before = 0;
        for (int i = 0; i < N_NODES; i++)
                if (ft.alive[i])
                        skipped_before += tickd_count(ft.node[i], "event=skipped job=tick ");
        pump_all(&ft, 7000);
        int skipped = -skipped_before;
        for (int i = 0; i < N_NODES; i++)
                if (ft.alive[i]) {
                        skipped += tickd_count(ft.node[i], "event=skipped job=tick ");
                        check_host_on_time(&ft, i, q0 + 1, now_s() - 2);
                }
        ck_assert_msg(skipped > 0, "no fleet run was skipped without quorum");
        ck_assert_ptr_nonnull(strstr(ft.node[(victim + 1) % 3]->log, "reason="));

        /* Quorum back: fleet jobs resume. */
        etcd_cluster_restart(ft.cluster, 1);
        etcd_cluster_restart(ft.cluster, 2);
        int resumed_before = 0;
        for (int i = 0; i < N_NODES; i++)
                if (ft.alive[i])
                        resumed_before += tickd_count(ft.node[i], "event=started job=tick ");
        end = harness_now_ms() + 20000;
        int resumed = 0;
        while (resumed < 3 && harness_now_ms() < end) {
                pump_all(&ft, 200);
                resumed = -resumed_before;
                for (int i = 0; i < N_NODES; i++)
                        if (ft.alive[i])
                                resumed += tickd_count(ft.node[i], "event=started job=tick ");
        }
        ck_assert_msg(resumed >= 3, "fleet jobs did not resume after quorum came back");

        /* A member paused past the claim deadline: no double run, no
         * stall of host jobs. */
        long long p0 = now_s();
        etcd_cluster_pause(ft.cluster, 0);
        pump_all(&ft, 4000);
        etcd_cluster_resume(ft.cluster, 0);
        pump_all(&ft, 3000);
        long long t2 = now_s() - 1;
        for (int i = 0; i < N_NODES; i++)
                if (ft.alive[i])
                        check_host_on_time(&ft, i, p0 + 1, t2 - 1);

        /* Over the whole run: exactly once, every gap explained, and
         * etcd's records agree with the nodes' journals. */
        check_exactly_once(&ft, "tick", t0, t2 - 2, 1);
        check_exactly_once(&ft, "slow", t0, t2 - 4, 4);
        check_etcd_records(&ft, t0, t2 - 4);
        fleet_free_all(&ft);
}
END_TEST

/* A [fleet] section that tickd.conf gains on a reload is joined at once
 * (the fleet job it made valid runs, claimed); a later change to it is
 * said to wait for a restart. */
START_TEST(fleet_section_added_on_reload_is_joined)
{
        struct etcd_cluster *cluster = etcd_cluster_start(1);
        struct tickd *t = tickd_start(NULL, NULL);
        tickd_write_job(t, "fleet.ini", crontab);
        ck_assert(tickd_wait_for(t, "scope = fleet needs a [fleet] section", 1, 10000));
        _cleanup_free_ char *conf = NULL;
        ck_assert_int_ge(asprintf(&conf, "[fleet]\nendpoints = %s\nname = test\nnode = solo\nlease_ttl = 2s\n",
                                  etcd_cluster_endpoint(cluster, 0)),
                         0);
        free(harness_write_file(t->config_dir, "tickd.conf", conf));
        ck_assert_msg(tickd_wait_for(t, "[fleet] added: joining fleet test", 1, 10000), "%s", tickd_log_tail(t));
        ck_assert_msg(tickd_wait_for(t, " joined (etcd ", 1, 10000), "%s", tickd_log_tail(t));
        ck_assert_msg(tickd_wait_for(t, "fleet: instant of tick claimed", 2, 10000), "%s", tickd_log_tail(t));
        ck_assert(tickd_wait_for(t, "event=succeeded job=tick ", 2, 10000));

        free(harness_write_file(
                t->config_dir, "tickd.conf",
                strstr(conf, "lease_ttl = 2s") ? "[fleet]\nendpoints = http://127.0.0.1:1\nname = other\n" : conf));
        ck_assert_msg(tickd_wait_for(t, "changes to [fleet] take effect when tickd restarts", 1, 10000), "%s",
                      tickd_log_tail(t));
        int before = tickd_count(t, "fleet: instant of tick claimed");
        ck_assert(tickd_wait_for(t, "fleet: instant of tick claimed", before + 2, 10000)); /* still in fleet test */
        int status = tickd_stop(t, SIGTERM, 20000);
        ck_assert_msg(status == 0, "tickd exited with %d:\n%s", status,
                      strstr(t->log, "Sanitizer") ? strstr(t->log, "Sanitizer") : "");
        tickd_free(t);
        etcd_cluster_free(cluster);
        harness_reap_children(5000);
}
END_TEST

static Suite *fleet_suite(void)
{
        Suite *s = suite_create("fleet");
        TCase *tc = tcase_create("three-nodes");
        tcase_add_leak_fixture(tc);
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, each_instant_runs_once_across_the_fleet_through_failures);
        tcase_add_test(tc, fleet_section_added_on_reload_is_joined);
        suite_add_tcase(s, tc);
        return s;
}

TEST_MAIN(fleet_suite)
