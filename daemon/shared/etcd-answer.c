/* etcd-answer.c — answers of etcd's v3 JSON gateway, parsed by the kind of
 * request they answer; see etcd-internal.h. A field at its default is
 * absent (proto3): no "succeeded" is false, no "kvs" is none, no "TTL"
 * (a keepalive of a lease that is gone) is 0. */
#include "shared/etcd-internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

/* An int64 field: proto3 JSON writes it as a decimal string; absent = 0. */
static int get_int64(json_object *obj, const char *name, int64_t *out)
{
        json_object *v;
        *out = 0;
        if (!json_object_object_get_ex(obj, name, &v))
                return 0;
        if (json_object_is_type(v, json_type_int)) {
                *out = json_object_get_int64(v);
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        const char *s = json_object_get_string(v);
        char *end;
        errno = 0;
        long long n = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0')
                return -EBADMSG;
        *out = n;
        return 0;
}

/* A bytes field (base64) as a NUL-terminated copy; absent = empty. */
static int get_bytes(json_object *obj, const char *name, const char **out, size_t *len)
{
        json_object *v;
        const char *text = "";
        if (json_object_object_get_ex(obj, name, &v)) {
                if (!json_object_is_type(v, json_type_string))
                        return -EBADMSG;
                text = json_object_get_string(v);
        }
        char *bytes;
        int r = base64_decode(text, strlen(text), &bytes, len);
        if (r < 0)
                return r == -EINVAL ? -EBADMSG : r;
        *out = bytes;
        return 0;
}

static int parse_kv(json_object *obj, struct etcd_kv *kv)
{
        if (!json_object_is_type(obj, json_type_object))
                return -EBADMSG;
        int r = get_bytes(obj, "key", &kv->key, &kv->key_len);
        if (r >= 0)
                r = get_bytes(obj, "value", &kv->value, &kv->value_len);
        if (r >= 0)
                r = get_int64(obj, "create_revision", &kv->create_revision);
        if (r >= 0)
                r = get_int64(obj, "mod_revision", &kv->mod_revision);
        if (r >= 0)
                r = get_int64(obj, "version", &kv->version);
        if (r >= 0)
                r = get_int64(obj, "lease", &kv->lease);
        return r;
}

static int parse_range(json_object *obj, struct etcd_op_result *result)
{
        json_object *kvs;
        result->type = ETCD_OP_RANGE;
        int r = get_int64(obj, "count", &result->count);
        if (r < 0 || !json_object_object_get_ex(obj, "kvs", &kvs))
                return r;
        if (!json_object_is_type(kvs, json_type_array))
                return -EBADMSG;
        size_t n = json_object_array_length(kvs);
        if (n == 0)
                return 0;
        struct etcd_kv *array = calloc(n, sizeof(*array));
        if (!array)
                return -ENOMEM;
        /* Counted as it fills, so a failure part-way frees what was made. */
        result->kvs = array;
        for (size_t i = 0; i < n; i++) {
                result->n_kvs = i + 1;
                r = parse_kv(json_object_array_get_idx(kvs, i), &array[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_op(json_object *obj, struct etcd_op_result *result)
{
        json_object *inner;
        if (json_object_object_get_ex(obj, "response_range", &inner))
                return parse_range(inner, result);
        if (json_object_object_get_ex(obj, "response_put", &inner)) {
                result->type = ETCD_OP_PUT;
                return 0;
        }
        if (json_object_object_get_ex(obj, "response_delete_range", &inner)) {
                result->type = ETCD_OP_DELETE;
                return get_int64(inner, "deleted", &result->deleted);
        }
        return -EBADMSG; /* a nested transaction: never asked for */
}

static int parse_results(json_object *root, enum etcd_kind kind, struct etcd_answer *a)
{
        json_object *responses = NULL;
        size_t n = 1;
        if (kind == ETCD_KIND_TXN) {
                if (!json_object_object_get_ex(root, "responses", &responses))
                        return 0;
                if (!json_object_is_type(responses, json_type_array))
                        return -EBADMSG;
                n = json_object_array_length(responses);
                if (n == 0)
                        return 0;
        }
        a->results = calloc(n, sizeof(*a->results));
        if (!a->results)
                return -ENOMEM;
        a->response.results = a->results;
        a->response.n_results = n;
        switch (kind) {
        case ETCD_KIND_PUT: a->results[0].type = ETCD_OP_PUT; return 0;
        case ETCD_KIND_RANGE: return parse_range(root, &a->results[0]);
        case ETCD_KIND_DELETE:
                a->results[0].type = ETCD_OP_DELETE;
                return get_int64(root, "deleted", &a->results[0].deleted);
        default: break;
        }
        for (size_t i = 0; i < n; i++) {
                int r = parse_op(json_object_array_get_idx(responses, i), &a->results[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_fields(json_object *root, enum etcd_kind kind, struct etcd_answer *a)
{
        json_object *v;
        if (json_object_object_get_ex(root, "header", &v) && get_int64(v, "revision", &a->response.revision) < 0)
                return -EBADMSG;
        switch (kind) {
        case ETCD_KIND_LEASE_GRANT:
        case ETCD_KIND_LEASE_KEEPALIVE:
                if (get_int64(root, "ID", &a->response.lease_id) < 0 || get_int64(root, "TTL", &a->response.ttl) < 0)
                        return -EBADMSG;
                return 0;
        case ETCD_KIND_LEASE_REVOKE: return 0;
        case ETCD_KIND_AUTHENTICATE:
                if (!json_object_object_get_ex(root, "token", &v) || !json_object_is_type(v, json_type_string))
                        return -EBADMSG;
                a->token = strdup(json_object_get_string(v));
                return a->token ? 0 : -ENOMEM;
        case ETCD_KIND_TXN:
                if (json_object_object_get_ex(root, "succeeded", &v)) {
                        if (!json_object_is_type(v, json_type_boolean))
                                return -EBADMSG;
                        a->response.succeeded = json_object_get_boolean(v);
                }
                break;
        default: break;
        }
        return parse_results(root, kind, a);
}

/* BODY as one JSON object with nothing but white space after it. */
static json_object *parse_object(const char *body, size_t len)
{
        json_tokener *tok = json_tokener_new();
        if (!tok)
                return NULL;
        json_object *root = json_tokener_parse_ex(tok, body, (int)len);
        bool complete = json_tokener_get_error(tok) == json_tokener_success;
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        while (complete && end < len && strchr(" \t\r\n", body[end]) && body[end] != '\0')
                end++;
        if (!root || !complete || end != len || !json_object_is_type(root, json_type_object)) {
                json_object_put(root);
                return NULL;
        }
        return root;
}

char *etcd_error_message(const char *body, size_t len, int *code)
{
        json_object *root = parse_object(body, len), *v;
        char *message = NULL;
        *code = 0;
        if (!root)
                return NULL;
        if ((json_object_object_get_ex(root, "message", &v) && json_object_is_type(v, json_type_string)) ||
            (json_object_object_get_ex(root, "error", &v) && json_object_is_type(v, json_type_string)))
                message = strdup(json_object_get_string(v));
        if (json_object_object_get_ex(root, "code", &v) && json_object_is_type(v, json_type_int))
                *code = json_object_get_int(v);
        json_object_put(root);
        return message;
}

int etcd_answer_parse(enum etcd_kind kind, const char *body, size_t len, struct etcd_answer *out, char **message)
{
        json_object *root = parse_object(body, len), *v;
        if (!root)
                return -EBADMSG;
        /* A streamed answer (keepalive) comes as {"result": ...}, or as
         * {"error": {...}} with status 200 when the stream failed. */
        if (json_object_object_get_ex(root, "error", &v) && json_object_is_type(v, json_type_object)) {
                const char *text = json_object_get_string(v);
                json_object *m;
                if (json_object_object_get_ex(v, "message", &m) && json_object_is_type(m, json_type_string))
                        text = json_object_get_string(m);
                *message = strdup(text);
                json_object_put(root);
                return *message ? -EPROTO : -ENOMEM;
        }
        json_object *fields = root;
        if (kind == ETCD_KIND_LEASE_KEEPALIVE && !json_object_object_get_ex(root, "result", &fields)) {
                json_object_put(root);
                return -EBADMSG;
        }
        struct etcd_answer a = { .response = { 0 } };
        int r = json_object_is_type(fields, json_type_object) ? parse_fields(fields, kind, &a) : -EBADMSG;
        json_object_put(root);
        if (r < 0) {
                etcd_answer_clear(&a);
                return r;
        }
        *out = a;
        return 0;
}

void etcd_answer_clear(struct etcd_answer *a)
{
        for (size_t i = 0; i < a->response.n_results; i++) {
                for (size_t k = 0; k < a->results[i].n_kvs; k++) {
                        free((char *)a->results[i].kvs[k].key);
                        free((char *)a->results[i].kvs[k].value);
                }
                free((struct etcd_kv *)a->results[i].kvs);
        }
        free(a->results);
        free(a->token);
        *a = (struct etcd_answer){ .response = { 0 } };
}
