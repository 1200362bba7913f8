/* test-fleet-policies.c — end to end, the fleet's policies that
 * test-fleet.c does not reach: fleet-wide overlap (skip, queue, replace),
 * persistent fleet jobs made up once per fleet, nodes whose crontabs
 * disagree, on_unavailable and an etcd that is down at start-up, a node
 * that stops gracefully, and records on the retention lease. Each test
 * starts a 1-member etcd cluster and two or three tickd nodes (the
 * sanitized build: every node must exit 0 with no sanitizer report), and
 * reads the nodes' stderr records and etcd's keys. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "harness/harness-daemon.h"
#include "harness/harness-etcd.h"
#include "harness/harness.h"
#include "shared/etcd.h"
#include "shared/fleet-record.h"

#define MAX_NODES 3
#define MAX_KVS   512

static const char *const node_names[MAX_NODES] = { "a", "b", "c" };

struct pol {
        struct etcd_cluster *cluster;
        int n;
        struct tickd *node[MAX_NODES];
        bool alive[MAX_NODES];
};

struct pol_setup {
        int nodes;
        const char *crontab;
        const char *crontab_last;     /* the last node's crontab; NULL = CRONTAB */
        const char *conf_extra;       /* more [fleet] lines, every node */
        const char *conf_extra_first; /* more [fleet] lines, node a only */
        const char *lease_ttl;        /* NULL = 2s */
        bool etcd_down;               /* the member is stopped before the nodes start */
};

static long long now_s(void) { return (long long)time(NULL); }

static void pol_start(struct pol *p, const struct pol_setup *setup)
{
        p->n = setup->nodes;
        p->cluster = etcd_cluster_start(1);
        if (setup->etcd_down)
                etcd_cluster_stop(p->cluster, 0);
        for (int i = 0; i < p->n; i++) {
                _cleanup_free_ char *conf = NULL;
                ck_assert_int_ge(asprintf(&conf,
                                          "[fleet]\n"
                                          "endpoints = %s\n"
                                          "name = test\n"
                                          "node = %s\n"
                                          "lease_ttl = %s\n"
                                          "claim_timeout = 1s\n"
                                          "%s%s",
                                          etcd_cluster_endpoint(p->cluster, 0), node_names[i],
                                          setup->lease_ttl ? setup->lease_ttl : "2s",
                                          setup->conf_extra ? setup->conf_extra : "",
                                          i == 0 && setup->conf_extra_first ? setup->conf_extra_first : ""),
                                 0);
                p->node[i] = tickd_start(conf, NULL);
                p->alive[i] = true;
                bool last = i == p->n - 1 && setup->crontab_last;
                tickd_write_job(p->node[i], "fleet.ini", last ? setup->crontab_last : setup->crontab);
        }
        for (int i = 0; i < p->n && !setup->etcd_down; i++)
                ck_assert_msg(tickd_wait_for(p->node[i], " joined (etcd ", 1, 15000),
                              "node %s never joined the fleet:\n%s", node_names[i], tickd_log_tail(p->node[i]));
}

static void pump_all(struct pol *p, int ms)
{
        long long end = harness_now_ms() + ms;
        do {
                for (int i = 0; i < p->n; i++)
                        if (p->alive[i])
                                tickd_pump(p->node[i], 20);
        } while (harness_now_ms() < end);
}

/* Each node's log in $TICKD_FLEET_LOGS/TAG-NODE.log when that is set:
 * what to read when a check fails. */
static void logs_save(struct pol *p, const char *tag)
{
        const char *dir = getenv("TICKD_FLEET_LOGS");
        for (int i = 0; dir && i < p->n; i++) {
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s-%s.log", dir, tag, node_names[i]);
                FILE *f = fopen(path, "we");
                if (f) {
                        fputs(p->node[i]->log, f);
                        fclose(f);
                }
        }
}

/* A node stopped with SIGTERM exits 0, and the sanitizers had nothing to
 * say about it (a leak makes the ASan build exit 23 with a report). */
static void node_stop_clean(struct pol *p, int i)
{
        int status = tickd_stop(p->node[i], SIGTERM, 20000);
        p->alive[i] = false;
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "node %s exited with wait status %#x:\n%s",
                      node_names[i], (unsigned)status, tickd_log_tail(p->node[i]));
        ck_assert_msg(!strstr(p->node[i]->log, "Sanitizer"), "node %s: a sanitizer report:\n%.3000s", node_names[i],
                      strstr(p->node[i]->log, "Sanitizer"));
}

static void pol_free(struct pol *p, const char *tag)
{
        logs_save(p, tag);
        for (int i = 0; i < p->n; i++)
                if (p->alive[i])
                        node_stop_clean(p, i);
        logs_save(p, tag);
        for (int i = 0; i < p->n; i++)
                tickd_free(p->node[i]);
        etcd_cluster_free(p->cluster);
        harness_reap_children(5000);
}

/* ---- the records in a node's log ---- */

/* The next line of LOG from FROM on that is a record of EVENT for JOB
 * (EVENT NULL: any event), with its scheduled instant (s) in *T. */
static const char *record_next(const char *from, const char *event, const char *job, long long *t)
{
        char needle[128];
        if (event)
                snprintf(needle, sizeof(needle), "event=%s job=%s ", event, job);
        else
                snprintf(needle, sizeof(needle), " job=%s ", job);
        for (const char *line = strstr(from, needle); line; line = strstr(line + 1, needle)) {
                const char *start = line;
                if (!event)
                        while (start > from && start[-1] != '\n')
                                start--;
                if (event && start != from && start[-1] != '\n')
                        continue;
                if (!event && strncmp(start, "event=", 6) != 0)
                        continue;
                const char *sched = strstr(line, " scheduled=");
                const char *nl = strchr(line, '\n');
                if (!sched || (nl && sched > nl))
                        continue;
                *t = atoll(sched + strlen(" scheduled="));
                return start;
        }
        return NULL;
}

/* How many records of EVENT for JOB's instant T LOG has. */
static int records_at(const char *log, const char *event, const char *job, long long t)
{
        int n = 0;
        long long at;
        for (const char *line = record_next(log, event, job, &at); line;
             line = record_next(strchr(line, '\n') ? strchr(line, '\n') + 1 : line + 1, event, job, &at))
                n += at == t;
        return n;
}

/* Over every node: how many records of EVENT for JOB's instant T. */
static int fleet_records_at(const struct pol *p, const char *event, const char *job, long long t, int *which)
{
        int n = 0;
        for (int i = 0; i < p->n; i++) {
                int here = records_at(p->node[i]->log, event, job, t);
                if (here && which)
                        *which = i;
                n += here;
        }
        return n;
}

/* The line of LOG with EVENT for JOB's instant T, or NULL. */
static const char *record_line(const char *log, const char *event, const char *job, long long t)
{
        long long at;
        for (const char *line = record_next(log, event, job, &at); line;
             line = record_next(strchr(line, '\n') ? strchr(line, '\n') + 1 : line + 1, event, job, &at))
                if (at == t)
                        return line;
        return NULL;
}

/* Whether LINE (up to its end) contains NEEDLE. */
static bool line_has(const char *line, const char *needle)
{
        const char *hit = strstr(line, needle);
        const char *nl = strchr(line, '\n');
        return hit && (!nl || hit < nl);
}

/* ---- etcd's side, read with the project's own client ---- */

struct kv_copy {
        char key[256];
        char value[2048];
        int64_t lease;
};

struct range_wait {
        bool done;
        int error;
        struct kv_copy *kvs;
        size_t n;
};

static void on_range(void *userdata, int error, const struct etcd_response *resp)
{
        struct range_wait *w = userdata;
        w->done = true;
        w->error = error;
        for (size_t i = 0; !error && i < resp->results[0].n_kvs && w->n < MAX_KVS; i++) {
                const struct etcd_kv *kv = &resp->results[0].kvs[i];
                struct kv_copy *c = &w->kvs[w->n++];
                snprintf(c->key, sizeof(c->key), "%s", kv->key);
                snprintf(c->value, sizeof(c->value), "%.*s", (int)kv->value_len, kv->value);
                c->lease = kv->lease;
        }
}

/* The keys under PREFIX, into KVS (MAX_KVS of them); returns how many. */
static size_t etcd_keys(struct pol *p, const char *prefix, struct kv_copy *kvs)
{
        sd_event *event = NULL;
        struct etcd_client *c = NULL;
        ck_assert_int_ge(sd_event_new(&event), 0);
        ck_assert_int_ge(etcd_client_new(&(struct etcd_options){ .event = event,
                                                                 .endpoints = etcd_cluster_endpoint_list(p->cluster),
                                                                 .timeout_usec = 5000000 },
                                         &c),
                         0);
        struct range_wait w = { .kvs = kvs };
        ck_assert_int_eq(etcd_range(c, prefix, true, 0, false, on_range, &w), 0);
        while (!w.done)
                ck_assert_int_ge(sd_event_run(event, UINT64_MAX), 0);
        ck_assert_int_eq(w.error, 0);
        etcd_client_free(c);
        sd_event_unref(event);
        return w.n;
}

/* JOB's run records in etcd, in instant order. */
static size_t etcd_runs(struct pol *p, const char *job, struct fleet_record *out)
{
        static struct kv_copy kvs[MAX_KVS];
        char prefix[128];
        snprintf(prefix, sizeof(prefix), "/tickd/test/runs/%s/", job);
        size_t n = etcd_keys(p, prefix, kvs);
        for (size_t i = 0; i < n; i++)
                ck_assert_int_eq(fleet_record_from_json(kvs[i].value, strlen(kvs[i].value), &out[i]), 0);
        return n;
}

static const struct fleet_record *run_at(const struct fleet_record *runs, size_t n, long long t)
{
        for (size_t i = 0; i < n; i++)
                if (runs[i].scheduled_usec == t * 1000000)
                        return &runs[i];
        return NULL;
}

/* No two runs of JOB that started (per etcd) were going on at once. */
static void check_no_overlap(struct pol *p, const char *job)
{
        static struct fleet_record runs[MAX_KVS];
        size_t n = etcd_runs(p, job, runs);
        int64_t prev_end = 0;
        const struct fleet_record *prev = NULL;
        for (size_t i = 0; i < n; i++) {
                const struct fleet_record *r = &runs[i];
                if (!r->started_usec)
                        continue;
                ck_assert_msg(!prev || r->started_usec >= prev_end,
                              "%s: the run of instant %lld on node %s started %.3f s before the run of %lld on node "
                              "%s ended",
                              job, (long long)(r->scheduled_usec / 1000000), r->node,
                              (double)(prev_end - r->started_usec) / 1e6, (long long)(prev->scheduled_usec / 1000000),
                              prev->node);
                prev_end = r->finished_usec ? r->finished_usec : INT64_MAX; /* still going */
                prev = r;
        }
}

/* Between FROM and TO (s), every STEP-th instant of JOB started on one
 * node or was skipped on one node, never both, never twice. */
static void check_each_instant_once(struct pol *p, const char *job, long long from, long long to, int step)
{
        for (long long t = from; t <= to; t++) {
                if (t % step != 0)
                        continue;
                int started = fleet_records_at(p, "started", job, t, NULL);
                int skipped = fleet_records_at(p, "skipped", job, t, NULL);
                ck_assert_msg(started + skipped == 1, "%s's instant %lld: started on %d nodes, skipped on %d", job, t,
                              started, skipped);
        }
}

/* The first instant (s) at which JOB started on any node, waiting for it. */
static long long first_start(struct pol *p, const char *job, int timeout_ms)
{
        char needle[64];
        snprintf(needle, sizeof(needle), "event=started job=%s ", job);
        long long end = harness_now_ms() + timeout_ms;
        while (harness_now_ms() < end) {
                pump_all(p, 100);
                long long first = 0, t;
                for (int i = 0; i < p->n; i++)
                        if (record_next(p->node[i]->log, "started", job, &t) && (!first || t < first))
                                first = t;
                if (first)
                        return first;
        }
        ck_abort_msg("%s never started", job);
        return 0;
}

static const char overlap_skip_crontab[] = "[slow]\n"
                                           "schedule = */2 * * * * *\n"
                                           "command = sleep 5\n"
                                           "scope = fleet\n"
                                           "overlap = skip\n";

/* While a run goes on on one node, each instant is skipped once in the
 * fleet, naming that node, and starts nowhere. */
START_TEST(overlap_skip_skips_each_instant_once_fleet_wide)
{
        struct pol p = { 0 };
        pol_start(&p, &(struct pol_setup){ .nodes = 3, .crontab = overlap_skip_crontab });
        long long t0 = first_start(&p, "slow", 10000);
        pump_all(&p, 11000);
        long long t1 = now_s() - 2;
        logs_save(&p, "skip");
        check_each_instant_once(&p, "slow", t0, t1, 2);
        int runs = 0, skips = 0;
        for (long long s = t0; s <= t1; s += 2) {
                int runner = -1;
                if (fleet_records_at(&p, "started", "slow", s, &runner) == 0)
                        continue;
                runs++;
                char reason[96];
                snprintf(reason, sizeof(reason), "reason=\"a run is still going on node %s\"", node_names[runner]);
                for (long long u = s + 2; u < s + 5 && u <= t1; u += 2) {
                        int skipper = -1;
                        ck_assert_int_eq(fleet_records_at(&p, "skipped", "slow", u, &skipper), 1);
                        const char *line = record_line(p.node[skipper]->log, "skipped", "slow", u);
                        ck_assert_msg(line_has(line, reason), "instant %lld skipped without naming node %s: %.300s", u,
                                      node_names[runner], line);
                        skips++;
                }
        }
        ck_assert_int_ge(runs, 2);
        ck_assert_int_ge(skips, 3);
        check_no_overlap(&p, "slow");
        pol_free(&p, "skip");
}
END_TEST

static const char overlap_queue_crontab[] = "[slow]\n"
                                            "schedule = */2 * * * * *\n"
                                            "command = sleep 5\n"
                                            "scope = fleet\n"
                                            "overlap = queue\n";

/* The node whose `delayed` record names instant T (its queued run), or -1. */
static int queued_on(struct pol *p, long long t)
{
        int node = -1;
        return fleet_records_at(p, "delayed", "slow", t, &node) == 1 ? node : -1;
}

/* overlap = queue: one run waits in the fleet at a time; it starts on the
 * node that queued it once the running one ended, never alongside it;
 * instants while one waits are skipped, saying so. */
START_TEST(overlap_queue_keeps_one_queued_run_fleet_wide)
{
        struct pol p = { 0 };
        pol_start(&p, &(struct pol_setup){ .nodes = 3, .crontab = overlap_queue_crontab });
        long long t0 = first_start(&p, "slow", 10000);
        pump_all(&p, 14000);
        long long t1 = now_s() - 2;
        logs_save(&p, "queue");
        int queued = 0, skipped = 0;
        for (long long t = t0 + 2; t <= t1; t += 2) {
                int started = fleet_records_at(&p, "started", "slow", t, NULL);
                int skips = fleet_records_at(&p, "skipped", "slow", t, NULL);
                int q = queued_on(&p, t);
                ck_assert_msg(started + skips == 1 || (q >= 0 && t >= t1 - 6),
                              "slow's instant %lld: started on %d nodes, skipped on %d, queued on %d", t, started,
                              skips, q);
                ck_assert_msg(fleet_records_at(&p, "delayed", "slow", t, NULL) <= 1, "instant %lld queued twice", t);
                if (q >= 0 && started == 1) {
                        ck_assert_msg(records_at(p.node[q]->log, "started", "slow", t) == 1,
                                      "instant %lld was queued on node %s but started elsewhere", t, node_names[q]);
                        queued++;
                }
                if (skips == 1) {
                        int who = -1;
                        fleet_records_at(&p, "skipped", "slow", t, &who);
                        const char *line = record_line(p.node[who]->log, "skipped", "slow", t);
                        ck_assert_msg(line_has(line, "reason=\"a run is already queued on node "),
                                      "instant %lld skipped without the queued run as its reason: %.300s", t, line);
                        skipped++;
                }
        }
        ck_assert_int_ge(queued, 1);
        ck_assert_int_ge(skipped, 1);
        /* At most one queued at a time: each queued run started (left
         * the queue) before the next one was queued, at its instant. */
        static struct fleet_record runs[MAX_KVS];
        size_t n = etcd_runs(&p, "slow", runs);
        long long prev = 0;
        for (long long t = t0 + 2; t <= t1; t += 2) {
                if (queued_on(&p, t) < 0)
                        continue;
                const struct fleet_record *r = prev ? run_at(runs, n, prev) : NULL;
                ck_assert_msg(!prev || (r && r->started_usec && r->started_usec <= t * 1000000 + 300000),
                              "instants %lld and %lld were queued at once (the first started %.3f s after the "
                              "second's instant)",
                              prev, t, r && r->started_usec ? (double)(r->started_usec - t * 1000000) / 1e6 : -1.0);
                prev = t;
        }
        check_no_overlap(&p, "slow");
        pol_free(&p, "queue");
}
END_TEST

static const char overlap_replace_crontab[] = "[slow]\n"
                                              "schedule = */3 * * * * *\n"
                                              "command = sleep 8\n"
                                              "scope = fleet\n"
                                              "overlap = replace\n";

/* The first instant after S that started on a node, or 0. */
static long long next_started(struct pol *p, long long s, long long to, int *node)
{
        for (long long u = s + 1; u <= to; u++)
                if (fleet_records_at(p, "started", "slow", u, node) == 1)
                        return u;
        return 0;
}

/* A run cancelled on node X replaced by a run that started on another
 * node Y: its instant (s) in *S, and X, Y; false while there is none. */
static bool cross_node_replacement(struct pol *p, long long t0, long long *s, int *x, int *y)
{
        long long to = now_s();
        for (long long t = t0; t <= to; t++) {
                if (fleet_records_at(p, "cancelled", "slow", t, x) != 1)
                        continue;
                long long u = next_started(p, t, to, y);
                if (u && *y != *x) {
                        *s = t;
                        return true;
                }
        }
        return false;
}

/* overlap = replace: node Y's claim of an instant makes node X cancel its
 * run, then Y's run starts (never while X's still runs). */
START_TEST(overlap_replace_cancels_the_run_on_another_node)
{
        struct pol p = { 0 };
        pol_start(&p, &(struct pol_setup){ .nodes = 3, .crontab = overlap_replace_crontab });
        long long t0 = first_start(&p, "slow", 10000);
        long long s = 0;
        int x = -1, y = -1;
        long long end = harness_now_ms() + 25000;
        while (!cross_node_replacement(&p, t0, &s, &x, &y) && harness_now_ms() < end)
                pump_all(&p, 500);
        logs_save(&p, "replace");
        ck_assert_msg(s, "no run was replaced by another node's in 25 s");
        ck_assert_msg(strstr(p.node[x]->log, "another node replaces the run of slow here"),
                      "node %s cancelled without saying another node asked it to", node_names[x]);
        /* Give the last replacement time to finish, then: no two runs of
         * slow ever went on at once, every cancelled one was replaced. */
        pump_all(&p, 2000);
        check_no_overlap(&p, "slow");
        pol_free(&p, "replace");
}
END_TEST

/* "S1,S2 * * * * *": the seconds of instants T1 and T2. */
static char *schedule_at(long long t1, long long t2)
{
        char *s;
        ck_assert_int_ge(asprintf(&s, "%lld,%lld * * * * *", t1 % 60, t2 % 60), 0);
        return s;
}

/* LOG's first record about JOB's instant T other than the debug line
 * saying another node took it, or NULL. */
static const char *record_other_than_taken(const char *log, const char *job, long long t)
{
        char taken[128];
        snprintf(taken, sizeof(taken), "msg=\"fleet: instant of %s taken by node ", job);
        long long at;
        for (const char *line = record_next(log, NULL, job, &at); line;
             line = record_next(strchr(line, '\n') ? strchr(line, '\n') + 1 : line + 1, NULL, job, &at))
                if (at == t && !line_has(line, taken))
                        return line;
        return NULL;
}

/* A persistent fleet job's instant that passed while every node was
 * down is made up once in the fleet: one node runs it, the others record
 * nothing about it (their claims are taken, a debug line). */
START_TEST(persistent_fleet_job_is_made_up_once_per_fleet)
{
        struct pol p = { 0 };
        long long t1 = now_s() + 7, t2 = t1 + 6;
        _cleanup_free_ char *when = schedule_at(t1, t2);
        _cleanup_free_ char *crontab = NULL;
        ck_assert_int_ge(asprintf(&crontab,
                                  "[daily]\n"
                                  "schedule = %s\n"
                                  "command = true\n"
                                  "scope = fleet\n"
                                  "persistent = yes\n",
                                  when),
                         0);
        pol_start(&p, &(struct pol_setup){ .nodes = 3, .crontab = crontab });
        /* T1 runs (every node stamps it: the runner, and the others whose
         * claims were taken); then every node stops before T2. */
        ck_assert_int_eq(first_start(&p, "daily", 12000), t1);
        pump_all(&p, 500);
        for (int i = 0; i < p.n; i++)
                node_stop_clean(&p, i);
        ck_assert_msg(now_s() < t2 - 1, "the nodes stopped too late for the test (now %lld, T2 %lld)", now_s(), t2);
        size_t before[MAX_NODES] = { 0 };
        for (int i = 0; i < p.n; i++)
                before[i] = p.node[i]->log_len;
        while (now_s() <= t2 + 1)
                usleep(100000);
        for (int i = 0; i < p.n; i++) {
                tickd_restart(p.node[i]);
                p.alive[i] = true;
        }
        for (int i = 0; i < p.n; i++)
                ck_assert(tickd_wait_for(p.node[i], " joined (etcd ", 2, 15000));
        pump_all(&p, 2000);
        logs_save(&p, "persistent");
        int runners = 0;
        for (int i = 0; i < p.n; i++) {
                const char *after = p.node[i]->log + before[i];
                int started = records_at(after, "started", "daily", t2);
                runners += started;
                const char *other = started ? NULL : record_other_than_taken(after, "daily", t2);
                ck_assert_msg(!other, "node %s recorded T2 of daily though another node made it up: %.300s",
                              node_names[i], other);
        }
        ck_assert_msg(runners == 1, "T2 of daily was made up on %d nodes", runners);
        pol_free(&p, "persistent");
}
END_TEST

static const char tick_crontab[] = "[tick]\n"
                                   "schedule = * * * * * *\n"
                                   "command = true\n"
                                   "scope = fleet\n"
                                   "\n"
                                   "[host]\n"
                                   "schedule = * * * * * *\n"
                                   "command = true\n";

static const char tick_crontab_other[] = "[tick]\n"
                                         "schedule = * * * * * *\n"
                                         "command = /bin/true\n"
                                         "scope = fleet\n"
                                         "\n"
                                         "[host]\n"
                                         "schedule = * * * * * *\n"
                                         "command = true\n";

#define DISAGREE "claimed tick with a different definition (hash "

/* The hash the claims of tick by node FIRST..LAST (those that share one
 * crontab) carry in etcd: which of them won an instant is chance. */
static void hash_of(const struct fleet_record *runs, size_t n, int first, int last, char hash[static 17])
{
        hash[0] = '\0';
        for (size_t k = 0; k < n; k++)
                for (int i = first; i <= last; i++)
                        if (strcmp(runs[k].node, node_names[i]) == 0)
                                snprintf(hash, 17, "%s", runs[k].hash);
        ck_assert_msg(hash[0], "no record of nodes %s..%s in etcd", node_names[first], node_names[last]);
}

/* Node c's crontab runs another command as tick: every node warns once
 * (naming the job and both hashes), however many instants follow. */
START_TEST(nodes_that_disagree_on_a_job_warn_once)
{
        struct pol p = { 0 };
        pol_start(&p, &(struct pol_setup){ .nodes = 3, .crontab = tick_crontab, .crontab_last = tick_crontab_other });
        long long end = harness_now_ms() + 20000;
        bool all = false;
        while (!all && harness_now_ms() < end) {
                pump_all(&p, 200);
                all = true;
                for (int i = 0; i < p.n; i++)
                        all = all && tickd_count(p.node[i], DISAGREE) > 0;
        }
        pump_all(&p, 3000);
        logs_save(&p, "disagree");
        static struct fleet_record runs[MAX_KVS];
        size_t n = etcd_runs(&p, "tick", runs);
        char ours[17], theirs[17];
        hash_of(runs, n, 0, 1, ours); /* a and b share a crontab */
        hash_of(runs, n, 2, 2, theirs);
        ck_assert_str_ne(ours, theirs);
        for (int i = 0; i < p.n; i++) {
                ck_assert_msg(tickd_count(p.node[i], DISAGREE) == 1, "node %s warned %d times", node_names[i],
                              tickd_count(p.node[i], DISAGREE));
                const char *line = strstr(p.node[i]->log, DISAGREE);
                ck_assert_msg(line_has(line, ours) && line_has(line, theirs), "node %s's warning lacks a hash: %.300s",
                              node_names[i], line);
        }
        pol_free(&p, "disagree");
}
END_TEST

/* etcd down from the start: tickd starts all the same, host jobs run,
 * fleet jobs follow on_unavailable (run: here, unclaimed, with a notice;
 * skip: skipped with the reason); once etcd is up the nodes join and
 * fleet jobs are claimed, each instant once. */
START_TEST(unreachable_etcd_follows_on_unavailable_then_claims)
{
        struct pol p = { 0 };
        pol_start(&p, &(struct pol_setup){ .nodes = 2,
                                           .crontab = tick_crontab,
                                           .conf_extra_first = "on_unavailable = run\n",
                                           .etcd_down = true });
        pump_all(&p, 4000);
        logs_save(&p, "unavailable");
        struct tickd *run = p.node[0], *skip = p.node[1];
        ck_assert_int_ge(tickd_count(run, "running it here, unclaimed (on_unavailable = run)"), 2);
        ck_assert_int_ge(tickd_count(run, "event=started job=tick "), 2);
        ck_assert_int_eq(tickd_count(run, "event=skipped job=tick "), 0);
        ck_assert_int_ge(tickd_count(skip, "reason=\"fleet unavailable\""), 2);
        ck_assert_int_eq(tickd_count(skip, "event=started job=tick "), 0);
        for (int i = 0; i < p.n; i++)
                ck_assert_int_ge(tickd_count(p.node[i], "event=started job=host "), 3);

        etcd_cluster_restart(p.cluster, 0);
        size_t mark[MAX_NODES];
        for (int i = 0; i < p.n; i++) {
                ck_assert_msg(tickd_wait_for(p.node[i], " joined (etcd ", 1, 15000), "node %s never joined:\n%s",
                              node_names[i], tickd_log_tail(p.node[i]));
                mark[i] = p.node[i]->log_len;
        }
        /* Joined is not yet claiming (the records' lease may still be on
         * its way): the window starts once every node has had a claim
         * answered by etcd, claimed or taken. */
        long long deadline = harness_now_ms() + 15000;
        for (int i = 0; i < p.n; i++)
                while (!strstr(p.node[i]->log + mark[i], "fleet: instant of tick claimed") &&
                       !strstr(p.node[i]->log + mark[i], "fleet: instant of tick taken") && harness_now_ms() < deadline)
                        pump_all(&p, 100);
        pump_all(&p, 1000);
        long long from = now_s();
        pump_all(&p, 3000);
        long long to = now_s() - 1;
        logs_save(&p, "unavailable");
        check_each_instant_once(&p, "tick", from, to, 1);
        for (long long t = from; t <= to; t++)
                ck_assert_msg(fleet_records_at(&p, "started", "tick", t, NULL) == 1, "tick's instant %lld did not run",
                              t);
        pol_free(&p, "unavailable");
}
END_TEST

/* SIGTERM to an idle node: its nodes/ key goes at once (the lease is
 * revoked, long before lease_ttl), nothing is recorded lost, the others
 * take every instant. Records are on the retention lease, not the node's. */
START_TEST(graceful_stop_leaves_the_fleet_at_once)
{
        struct pol p = { 0 };
        pol_start(&p,
                  &(struct pol_setup){
                          .nodes = 3, .crontab = tick_crontab, .lease_ttl = "10s", .conf_extra = "retention = 2h\n" });
        pump_all(&p, 3000);
        long long killed = harness_now_ms();
        node_stop_clean(&p, 0);
        static struct kv_copy kvs[MAX_KVS];
        size_t n = etcd_keys(&p, "/tickd/test/nodes/", kvs);
        long long elapsed = harness_now_ms() - killed;
        ck_assert_msg(elapsed < 8000, "stopping took %lld ms: too long to tell revocation from expiry", elapsed);
        ck_assert_int_eq(n, 2);
        for (size_t i = 0; i < n; i++)
                ck_assert_msg(strcmp(kvs[i].key, "/tickd/test/nodes/a") != 0, "node a's key outlived its stop");
        int64_t node_leases[2] = { kvs[0].lease, kvs[1].lease };

        long long from = now_s() + 1;
        pump_all(&p, 4000);
        long long to = now_s() - 1;
        logs_save(&p, "graceful");
        for (long long t = from; t <= to; t++)
                ck_assert_msg(fleet_records_at(&p, "started", "tick", t, NULL) == 1,
                              "tick's instant %lld did not run once after node a left", t);
        for (int i = 0; i < p.n; i++)
                ck_assert_msg(!strstr(p.node[i]->log, "event=lost "), "node %s recorded a run lost", node_names[i]);

        n = etcd_keys(&p, "/tickd/test/runs/tick/", kvs);
        ck_assert_int_ge(n, 5);
        for (size_t i = 0; i < n; i++) {
                ck_assert_msg(kvs[i].lease != 0, "%s has no lease: it would never expire", kvs[i].key);
                ck_assert_msg(kvs[i].lease != node_leases[0] && kvs[i].lease != node_leases[1],
                              "%s is on a node's lease: it would go with the node", kvs[i].key);
        }
        pol_free(&p, "graceful");
}
END_TEST

/* One case per test, so that CK_RUN_CASE=NAME runs one of them. */
#define ADD_CASE(s, test)                        \
        do {                                     \
                TCase *tc = tcase_create(#test); \
                tcase_add_leak_fixture(tc);      \
                tcase_set_timeout(tc, 90);       \
                tcase_add_test(tc, test);        \
                suite_add_tcase(s, tc);          \
        } while (0)

static Suite *fleet_policies_suite(void)
{
        Suite *s = suite_create("fleet-policies");
        ADD_CASE(s, overlap_skip_skips_each_instant_once_fleet_wide);
        ADD_CASE(s, overlap_queue_keeps_one_queued_run_fleet_wide);
        ADD_CASE(s, overlap_replace_cancels_the_run_on_another_node);
        ADD_CASE(s, persistent_fleet_job_is_made_up_once_per_fleet);
        ADD_CASE(s, nodes_that_disagree_on_a_job_warn_once);
        ADD_CASE(s, unreachable_etcd_follows_on_unavailable_then_claims);
        ADD_CASE(s, graceful_stop_leaves_the_fleet_at_once);
        return s;
}

TEST_MAIN(fleet_policies_suite)
