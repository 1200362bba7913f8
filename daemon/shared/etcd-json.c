/* etcd-json.c — request bodies and answers of etcd's v3 JSON gateway; see
 * etcd-internal.h. Bytes travel as base64 and int64 numbers as decimal
 * strings (proto3's JSON mapping); fields at their default are absent. */
#include "shared/etcd-internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/cleanup.h"

const char *etcd_kind_path(enum etcd_kind kind)
{
        static const char *const paths[] = {
                [ETCD_KIND_PUT] = "/v3/kv/put",
                [ETCD_KIND_RANGE] = "/v3/kv/range",
                [ETCD_KIND_DELETE] = "/v3/kv/deleterange",
                [ETCD_KIND_TXN] = "/v3/kv/txn",
                [ETCD_KIND_LEASE_GRANT] = "/v3/lease/grant",
                [ETCD_KIND_LEASE_KEEPALIVE] = "/v3/lease/keepalive",
                [ETCD_KIND_LEASE_REVOKE] = "/v3/lease/revoke",
                [ETCD_KIND_AUTHENTICATE] = "/v3/auth/authenticate",
        };
        return paths[kind];
}

/* Adds VALUE (NULL: an allocation failed) to OBJ under NAME, taking it. */
static int add(json_object *obj, const char *name, json_object *value)
{
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(obj, name, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static json_object *new_bytes(const void *data, size_t len)
{
        _cleanup_free_ char *text = NULL;
        if (base64_encode(data, len, &text) < 0)
                return NULL;
        return json_object_new_string(text);
}

static json_object *new_int64(int64_t value)
{
        char text[32];
        snprintf(text, sizeof(text), "%" PRId64, value);
        return json_object_new_string(text);
}

/* The end of the range of every key starting with KEY: KEY with its last
 * byte below 0xff incremented (and what follows dropped); "\0" (no end)
 * when there is none. */
static json_object *new_prefix_end(const char *key)
{
        size_t len = strlen(key);
        _cleanup_free_ char *end = strdup(key);
        if (!end)
                return NULL;
        while (len > 0 && (unsigned char)end[len - 1] == 0xff)
                len--;
        if (len == 0)
                return new_bytes("", 1);
        end[len - 1]++;
        return new_bytes(end, len);
}

static int add_key_range(json_object *obj, const char *key, bool prefix)
{
        int r = add(obj, "key", new_bytes(key, strlen(key)));
        if (r >= 0 && prefix)
                r = add(obj, "range_end", new_prefix_end(key));
        return r;
}

/* Hands OBJ to *OUT when every field went in (R >= 0), else frees it. */
static int finish_object(json_object *obj, int r, json_object **out)
{
        if (r < 0) {
                json_object_put(obj);
                return r;
        }
        *out = obj;
        return 0;
}

int etcd_json_put(const char *key, const char *value, size_t value_len, int64_t lease, json_object **out)
{
        json_object *obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;
        int r = add_key_range(obj, key, false);
        if (r >= 0)
                r = add(obj, "value", new_bytes(value, value_len));
        if (r >= 0 && lease != 0)
                r = add(obj, "lease", new_int64(lease));
        return finish_object(obj, r, out);
}

int etcd_json_range(const char *key, bool prefix, int64_t limit, bool descending, json_object **out)
{
        json_object *obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;
        int r = add_key_range(obj, key, prefix);
        if (r >= 0 && limit > 0)
                r = add(obj, "limit", new_int64(limit));
        /* The sort target KEY is the default, so only the order is sent. */
        if (r >= 0 && descending)
                r = add(obj, "sort_order", json_object_new_string("DESCEND"));
        return finish_object(obj, r, out);
}

int etcd_json_delete(const char *key, bool prefix, json_object **out)
{
        json_object *obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;
        return finish_object(obj, add_key_range(obj, key, prefix), out);
}

int etcd_json_lease(const char *field, int64_t value, json_object **out)
{
        json_object *obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;
        return finish_object(obj, add(obj, field, new_int64(value)), out);
}

int etcd_json_authenticate(const char *user, const char *password, json_object **out)
{
        json_object *obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;
        int r = add(obj, "name", json_object_new_string(user));
        if (r >= 0)
                r = add(obj, "password", json_object_new_string(password ? password : ""));
        return finish_object(obj, r, out);
}

struct etcd_txn *etcd_txn_new(void)
{
        struct etcd_txn *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->compare = json_object_new_array();
        t->success = json_object_new_array();
        t->failure = json_object_new_array();
        if (!t->compare || !t->success || !t->failure) {
                etcd_txn_free(t);
                return NULL;
        }
        return t;
}

void etcd_txn_free(struct etcd_txn *t)
{
        if (!t)
                return;
        json_object_put(t->compare);
        json_object_put(t->success);
        json_object_put(t->failure);
        free(t);
}

/* Appends ITEM (NULL: an allocation failed) to ARRAY, taking it. */
static int append(json_object *array, json_object *item)
{
        if (!item)
                return -ENOMEM;
        if (json_object_array_add(array, item) < 0) {
                json_object_put(item);
                return -ENOMEM;
        }
        return 0;
}

static json_object *new_compare(const char *key, const char *target, enum etcd_compare_op op)
{
        static const char *const results[] = {
                [ETCD_EQUAL] = "EQUAL",
                [ETCD_NOT_EQUAL] = "NOT_EQUAL",
                [ETCD_GREATER] = "GREATER",
                [ETCD_LESS] = "LESS",
        };
        json_object *obj = json_object_new_object();
        if (!obj)
                return NULL;
        if (add_key_range(obj, key, false) < 0 || add(obj, "target", json_object_new_string(target)) < 0 ||
            add(obj, "result", json_object_new_string(results[op])) < 0) {
                json_object_put(obj);
                return NULL;
        }
        return obj;
}

int etcd_txn_compare_int(struct etcd_txn *t, const char *key, enum etcd_target target, enum etcd_compare_op op,
                         int64_t value)
{
        static const char *const targets[][2] = {
                [ETCD_CREATE_REVISION] = { "CREATE", "create_revision" },
                [ETCD_MOD_REVISION] = { "MOD", "mod_revision" },
                [ETCD_VERSION] = { "VERSION", "version" },
        };
        if (target == ETCD_VALUE)
                return -EINVAL;
        json_object *obj = new_compare(key, targets[target][0], op);
        if (!obj)
                return -ENOMEM;
        if (add(obj, targets[target][1], new_int64(value)) < 0) {
                json_object_put(obj);
                return -ENOMEM;
        }
        return append(t->compare, obj);
}

int etcd_txn_compare_value(struct etcd_txn *t, const char *key, enum etcd_compare_op op, const char *value,
                           size_t value_len)
{
        json_object *obj = new_compare(key, "VALUE", op);
        if (!obj)
                return -ENOMEM;
        if (add(obj, "value", new_bytes(value, value_len)) < 0) {
                json_object_put(obj);
                return -ENOMEM;
        }
        return append(t->compare, obj);
}

/* Wraps REQUEST as {"NAME": REQUEST} in the operations of BRANCH. */
static int append_operation(struct etcd_txn *t, enum etcd_branch branch, const char *name, json_object *request)
{
        json_object *op = json_object_new_object();
        if (!op) {
                json_object_put(request);
                return -ENOMEM;
        }
        if (add(op, name, request) < 0) {
                json_object_put(op);
                return -ENOMEM;
        }
        return append(branch == ETCD_SUCCESS ? t->success : t->failure, op);
}

int etcd_txn_put(struct etcd_txn *t, enum etcd_branch branch, const char *key, const char *value, size_t value_len,
                 int64_t lease)
{
        json_object *request;
        int r = etcd_json_put(key, value, value_len, lease, &request);
        return r < 0 ? r : append_operation(t, branch, "request_put", request);
}

int etcd_txn_range(struct etcd_txn *t, enum etcd_branch branch, const char *key, bool prefix, int64_t limit,
                   bool descending)
{
        json_object *request;
        int r = etcd_json_range(key, prefix, limit, descending, &request);
        return r < 0 ? r : append_operation(t, branch, "request_range", request);
}

int etcd_txn_delete(struct etcd_txn *t, enum etcd_branch branch, const char *key, bool prefix)
{
        json_object *request;
        int r = etcd_json_delete(key, prefix, &request);
        return r < 0 ? r : append_operation(t, branch, "request_delete_range", request);
}

int etcd_json_txn(const struct etcd_txn *t, json_object **out)
{
        json_object *obj = json_object_new_object();
        if (!obj)
                return -ENOMEM;
        /* The body shares the arrays with T (which still frees them). */
        int r = add(obj, "compare", json_object_get(t->compare));
        if (r >= 0)
                r = add(obj, "success", json_object_get(t->success));
        if (r >= 0)
                r = add(obj, "failure", json_object_get(t->failure));
        return finish_object(obj, r, out);
}
