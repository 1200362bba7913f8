/* etcd-internal.h — what etcd.c (transport, failover, authentication) and
 * etcd-json.c (request bodies, answers) share; not for other modules.
 *
 * A request is a path and a JSON body; its answer is parsed by what kind
 * of request it was, because proto3 JSON names no message type and omits
 * every field that holds its default (false, 0, empty). */
#ifndef TICKD_ETCD_INTERNAL_H
#define TICKD_ETCD_INTERNAL_H

#include <json-c/json.h>

#include "shared/etcd.h"

enum etcd_kind {
        ETCD_KIND_PUT,
        ETCD_KIND_RANGE,
        ETCD_KIND_DELETE,
        ETCD_KIND_TXN,
        ETCD_KIND_LEASE_GRANT,
        ETCD_KIND_LEASE_KEEPALIVE,
        ETCD_KIND_LEASE_REVOKE,
        ETCD_KIND_AUTHENTICATE,
};

/* The gateway path of each kind ("/v3/kv/put"). */
const char *etcd_kind_path(enum etcd_kind kind);

struct etcd_txn {
        json_object *compare, *success, *failure; /* arrays */
};

/* Request objects: the body of a put, a range, a delete, a lease request,
 * an authentication. Each returns 0 or -ENOMEM; *OUT is the caller's. */
int etcd_json_put(const char *key, const char *value, size_t value_len, int64_t lease, json_object **out);
int etcd_json_range(const char *key, bool prefix, int64_t limit, bool descending, json_object **out);
int etcd_json_delete(const char *key, bool prefix, json_object **out);
int etcd_json_lease(const char *field, int64_t value, json_object **out);
int etcd_json_authenticate(const char *user, const char *password, json_object **out);
/* The body of T as a transaction request. */
int etcd_json_txn(const struct etcd_txn *t, json_object **out);

/* A parsed answer: RESPONSE and everything it points to, owned here. */
struct etcd_answer {
        struct etcd_response response;
        struct etcd_op_result *results;
        char *token; /* authenticate */
};

/* Parses BODY (LEN bytes) as the answer to a KIND request: 0, -EBADMSG
 * (not the JSON expected) or -ENOMEM. An answer that is itself an error
 * (a stream's {"error":{...}}) is -EPROTO with its message in *MESSAGE. */
int etcd_answer_parse(enum etcd_kind kind, const char *body, size_t len, struct etcd_answer *out, char **message);
void etcd_answer_clear(struct etcd_answer *a);

/* The "message" (else "error") of an error answer {"error", "message",
 * "code"}; NULL when BODY is not one. *CODE is its gRPC code (0 if none). */
char *etcd_error_message(const char *body, size_t len, int *code);

#endif
