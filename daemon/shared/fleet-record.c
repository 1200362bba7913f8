/* fleet-record.c — keys and JSON values in etcd; see fleet-record.h. */
#include "shared/fleet-record.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"

bool fleet_state_is_final(const char *state)
{
        static const char *const finals[] = { "succeeded", "failed",  "timed-out", "cancelled",
                                              "lost",      "skipped", "dropped" };
        for (size_t i = 0; i < sizeof(finals) / sizeof(finals[0]); i++)
                if (strcmp(state, finals[i]) == 0)
                        return true;
        return false;
}

bool fleet_name_valid(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > FLEET_NAME_MAX)
                return false;
        for (const char *c = name; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                      *c == '_' || *c == '-'))
                        return false;
        return true;
}

static void add_string(json_object *o, const char *name, const char *value)
{
        if (value[0])
                json_object_object_add(o, name, json_object_new_string(value));
}

static void add_int(json_object *o, const char *name, int64_t value)
{
        if (value)
                json_object_object_add(o, name, json_object_new_int64(value));
}

static char *to_text(json_object *o)
{
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        char *copy = text ? strdup(text) : NULL;
        json_object_put(o);
        return copy;
}

char *fleet_record_to_json(const struct fleet_record *r)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        add_string(o, "job", r->job);
        add_string(o, "node", r->node);
        add_string(o, "run_id", r->run_id);
        add_string(o, "hash", r->hash);
        add_string(o, "state", r->state);
        add_string(o, "reason", r->reason);
        add_string(o, "signal", r->signal);
        add_int(o, "scheduled_usec", r->scheduled_usec);
        add_int(o, "claimed_usec", r->claimed_usec);
        add_int(o, "started_usec", r->started_usec);
        add_int(o, "finished_usec", r->finished_usec);
        add_int(o, "duration_usec", r->duration_usec);
        if (r->has_exit_status)
                json_object_object_add(o, "exit_status", json_object_new_int(r->exit_status));
        return to_text(o);
}

char *fleet_node_to_json(const struct fleet_node *n)
{
        json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        add_string(o, "node", n->node);
        add_string(o, "version", n->version);
        add_int(o, "pid", n->pid);
        add_int(o, "started_usec", n->started_usec);
        add_int(o, "heartbeat_usec", n->heartbeat_usec);
        return to_text(o);
}

static void get_string(json_object *o, const char *name, char *out, size_t size)
{
        json_object *v;
        out[0] = '\0';
        if (json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_string))
                snprintf(out, size, "%s", json_object_get_string(v));
}

static int64_t get_int(json_object *o, const char *name, bool *present)
{
        json_object *v;
        bool found = json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_int);
        if (present)
                *present = found;
        return found ? json_object_get_int64(v) : 0;
}

static json_object *parse_object(const char *text, size_t len)
{
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return NULL;
        json_object *o = json_tokener_parse_ex(tok, text, (int)len);
        if (o && (json_tokener_get_error(tok) != json_tokener_success || !json_object_is_type(o, json_type_object))) {
                json_object_put(o);
                o = NULL;
        }
        json_tokener_free(tok);
        return o;
}

int fleet_record_from_json(const char *text, size_t len, struct fleet_record *out)
{
        memset(out, 0, sizeof(*out));
        json_object *o = len <= INT32_MAX ? parse_object(text, len) : NULL;
        if (!o)
                return -EBADMSG;
        get_string(o, "job", out->job, sizeof(out->job));
        get_string(o, "node", out->node, sizeof(out->node));
        get_string(o, "run_id", out->run_id, sizeof(out->run_id));
        get_string(o, "hash", out->hash, sizeof(out->hash));
        get_string(o, "state", out->state, sizeof(out->state));
        get_string(o, "reason", out->reason, sizeof(out->reason));
        get_string(o, "signal", out->signal, sizeof(out->signal));
        out->scheduled_usec = get_int(o, "scheduled_usec", NULL);
        out->claimed_usec = get_int(o, "claimed_usec", NULL);
        out->started_usec = get_int(o, "started_usec", NULL);
        out->finished_usec = get_int(o, "finished_usec", NULL);
        out->duration_usec = get_int(o, "duration_usec", NULL);
        out->exit_status = (int)get_int(o, "exit_status", &out->has_exit_status);
        json_object_put(o);
        return 0;
}

int fleet_node_from_json(const char *text, size_t len, struct fleet_node *out)
{
        memset(out, 0, sizeof(*out));
        json_object *o = len <= INT32_MAX ? parse_object(text, len) : NULL;
        if (!o)
                return -EBADMSG;
        get_string(o, "node", out->node, sizeof(out->node));
        get_string(o, "version", out->version, sizeof(out->version));
        out->pid = get_int(o, "pid", NULL);
        out->started_usec = get_int(o, "started_usec", NULL);
        out->heartbeat_usec = get_int(o, "heartbeat_usec", NULL);
        json_object_put(o);
        return 0;
}

int fleet_password_read(const char *path, char **out)
{
        _cleanup_fclose_ FILE *fp = fopen(path, "re");
        if (!fp)
                return -errno;
        char *line = NULL;
        size_t size = 0;
        if (getline(&line, &size, fp) < 0) {
                free(line);
                return feof(fp) ? -ENODATA : -errno;
        }
        line[strcspn(line, "\r\n")] = '\0';
        *out = line;
        return 0;
}

__attribute__((format(printf, 1, 2))) static char *key_printf(const char *fmt, ...)
{
        char *key;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&key, fmt, ap);
        va_end(ap);
        return n < 0 ? NULL : key;
}

char *fleet_key_node(const char *fleet, const char *node) { return key_printf("/tickd/%s/nodes/%s", fleet, node); }

char *fleet_key_run(const char *fleet, const char *job, int64_t instant_usec)
{
        return key_printf("/tickd/%s/runs/%s/%020" PRId64, fleet, job, instant_usec);
}

char *fleet_key_runs_prefix(const char *fleet, const char *job)
{
        return job ? key_printf("/tickd/%s/runs/%s/", fleet, job) : key_printf("/tickd/%s/runs/", fleet);
}

char *fleet_key_last(const char *fleet, const char *job) { return key_printf("/tickd/%s/last/%s", fleet, job); }
char *fleet_key_running(const char *fleet, const char *job) { return key_printf("/tickd/%s/running/%s", fleet, job); }
char *fleet_key_queued(const char *fleet, const char *job) { return key_printf("/tickd/%s/queued/%s", fleet, job); }

char *fleet_key_open(const char *fleet, const char *node, const char *job, int64_t instant_usec)
{
        return key_printf("/tickd/%s/open/%s/%s/%020" PRId64, fleet, node, job, instant_usec);
}

char *fleet_key_cancel(const char *fleet, const char *node, const char *job)
{
        return key_printf("/tickd/%s/cancel/%s/%s", fleet, node, job);
}

char *fleet_key_prefix(const char *fleet, const char *kind) { return key_printf("/tickd/%s/%s/", fleet, kind); }

int fleet_key_parse_open(const char *rest, char node[static FLEET_NAME_MAX + 1], char job[static FLEET_JOB_MAX],
                         int64_t *instant_usec)
{
        const char *slash1 = strchr(rest, '/');
        const char *slash2 = slash1 ? strchr(slash1 + 1, '/') : NULL;
        if (!slash2 || slash1 == rest || slash2 == slash1 + 1 || (size_t)(slash1 - rest) > FLEET_NAME_MAX ||
            (size_t)(slash2 - slash1 - 1) >= FLEET_JOB_MAX)
                return -EINVAL;
        char *end;
        errno = 0;
        long long v = strtoll(slash2 + 1, &end, 10);
        if (errno || *end || end == slash2 + 1 || v < 0)
                return -EINVAL;
        memcpy(node, rest, (size_t)(slash1 - rest));
        node[slash1 - rest] = '\0';
        memcpy(job, slash1 + 1, (size_t)(slash2 - slash1 - 1));
        job[slash2 - slash1 - 1] = '\0';
        *instant_usec = v;
        return 0;
}
