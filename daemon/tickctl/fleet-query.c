/* fleet-query.c — one etcd range at a time on a private loop; see
 * fleet-query.h. */
#include "tickctl/fleet-query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>

#include "core/cleanup.h"
#include "core/conf.h"
#include "core/timespan.h"

struct fleet_query {
        const char *command;
        struct daemon_config config;
        sd_event *event;
        struct etcd_client *etcd;
        char *endpoints; /* "http://a:2379, http://b:2379", for messages */
        char error[512];
};

static char *endpoints_join(char *const *endpoints)
{
        size_t n = 1;
        for (char *const *e = endpoints; *e; e++)
                n += strlen(*e) + 2;
        char *out = malloc(n);
        if (!out)
                return NULL;
        out[0] = '\0';
        for (char *const *e = endpoints; *e; e++) {
                if (e != endpoints)
                        strcat(out, ", ");
                strcat(out, *e);
        }
        return out;
}

static int config_read(struct fleet_query *q, const char *config_dir)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/tickd.conf", config_dir) < 0)
                return -ENOMEM;
        struct diagnostics diags = { 0 };
        int r = daemon_config_load(path, NULL, &q->config, &diags);
        if (r < 0) {
                _cleanup_free_ char *e = diag_first_error(&diags);
                fprintf(stderr, "tickctl %s: %s: %s (tickctl check shows every error)\n", q->command, path,
                        e ? e : strerror(-r));
        }
        diag_free(&diags);
        if (r >= 0 && !q->config.fleet)
                r = -ENOMSG;
        return r;
}

static int client_make(struct fleet_query *q)
{
        const struct fleet_config *f = q->config.fleet;
        _cleanup_free_ char *password = NULL;
        if (f->password_file) {
                int r = fleet_password_read(f->password_file, &password);
                if (r < 0) {
                        fprintf(stderr, "tickctl %s: cannot read the fleet's password_file %s: %s\n", q->command,
                                f->password_file, r == -ENODATA ? "it is empty" : strerror(-r));
                        return r;
                }
        }
        /* A person waits for this: as long as a claim would, but never
         * less than a round trip to a slow cluster needs. */
        uint64_t timeout = f->claim_timeout_usec > 2 * USEC_PER_SEC ? f->claim_timeout_usec : 2 * USEC_PER_SEC;
        struct etcd_options eo = { .event = q->event,
                                   .endpoints = f->endpoints,
                                   .ca_file = f->ca_file,
                                   .cert_file = f->cert_file,
                                   .key_file = f->key_file,
                                   .user = f->user,
                                   .password = password,
                                   .timeout_usec = timeout };
        int r = etcd_client_new(&eo, &q->etcd);
        if (password)
                explicit_bzero(password, strlen(password));
        if (r < 0 && r != -ENOMEM)
                fprintf(stderr, "tickctl %s: cannot make an etcd client for %s: %s\n", q->command, q->endpoints,
                        strerror(-r));
        return r;
}

int fleet_query_open(const char *command, const char *config_dir, struct fleet_query **out)
{
        struct fleet_query *q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->command = command;
        int r = config_read(q, config_dir);
        if (r >= 0 && (r = sd_event_new(&q->event)) < 0 && r != -ENOMEM)
                fprintf(stderr, "tickctl %s: cannot make an event loop: %s\n", command, strerror(-r));
        if (r >= 0)
                r = (q->endpoints = endpoints_join(q->config.fleet->endpoints)) ? 0 : -ENOMEM;
        if (r >= 0)
                r = client_make(q);
        if (r < 0) {
                if (r == -ENOMEM)
                        fprintf(stderr, "tickctl %s: out of memory\n", command);
                fleet_query_free(q);
                return r;
        }
        *out = q;
        return 0;
}

void fleet_query_free(struct fleet_query *q)
{
        if (!q)
                return;
        etcd_client_free(q->etcd);
        sd_event_unref(q->event);
        daemon_config_free(&q->config);
        free(q->endpoints);
        free(q);
}

const char *fleet_query_name(const struct fleet_query *q) { return q->config.fleet->name; }

const char *fleet_query_error(const struct fleet_query *q) { return q->error; }

struct range_call {
        bool done;
        int error;
        int64_t count;
        fleet_query_kv_fn each;
        void *userdata;
};

static void range_done(void *userdata, int error, const struct etcd_response *response)
{
        struct range_call *call = userdata;
        call->done = true;
        call->error = error;
        if (error < 0 || response->n_results < 1)
                return;
        const struct etcd_op_result *result = &response->results[0];
        call->count = result->count;
        for (size_t i = 0; i < result->n_kvs && call->error >= 0; i++)
                call->error = call->each(call->userdata, &result->kvs[i]);
}

int64_t fleet_query_range(struct fleet_query *q, const char *key, bool prefix, int64_t limit, bool descending,
                          bool quiet, fleet_query_kv_fn each, void *userdata)
{
        struct range_call call = { .each = each, .userdata = userdata };
        int r = etcd_range(q->etcd, key, prefix, limit, descending, range_done, &call);
        /* etcd.h promises one callback, on the loop, before the deadline. */
        while (r >= 0 && !call.done)
                r = sd_event_run(q->event, UINT64_MAX);
        if (r >= 0)
                r = call.error;
        if (r >= 0)
                return call.count;
        if (r == -ENOMEM) { /* EACH's, or the request's: not etcd's; the caller says so */
                snprintf(q->error, sizeof(q->error), "out of memory");
                return r;
        }
        const char *why = r == -EPROTO || r == -ECONNREFUSED ? etcd_last_error(q->etcd) : "";
        /* The transport's words may name the endpoint already: once is enough. */
        size_t n = strlen(q->endpoints);
        if (strncmp(why, q->endpoints, n) == 0 && why[n] == ':')
                why += n + 1 + (why[n + 1] == ' ');
        snprintf(q->error, sizeof(q->error), "etcd unavailable at %s: %s", q->endpoints,
                 *why ? why : (r == -ETIMEDOUT ? "no answer in time" : strerror(-r)));
        if (!quiet)
                fprintf(stderr, "tickctl %s: %s\n", q->command, q->error);
        return r;
}

int fleet_records_add(void *userdata, const struct etcd_kv *kv)
{
        struct fleet_records *records = userdata;
        struct fleet_record rec;
        /* Another tool's key under our prefix is not ours to fail on. */
        if (fleet_record_from_json(kv->value, kv->value_len, &rec) < 0 || !rec.job[0])
                return 0;
        struct fleet_record *items = realloc(records->items, (records->n + 1) * sizeof(*items));
        if (!items)
                return -ENOMEM;
        records->items = items;
        items[records->n++] = rec;
        return 0;
}

void fleet_records_free(struct fleet_records *records)
{
        free(records->items);
        *records = (struct fleet_records){};
}

int fleet_query_exit_status(int r)
{
        if (r >= 0)
                return 0;
        if (r == -ENOMSG)
                return 1;
        if (r == -EACCES || r == -EPERM)
                return 4;
        return 2;
}
