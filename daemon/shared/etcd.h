/* etcd.h — an asynchronous client of etcd's v3 HTTP/JSON gateway.
 *
 * Requests are POSTs to ENDPOINT/v3/... (etcd >= 3.4: kv/put, kv/range,
 * kv/deleterange, kv/txn, lease/grant, lease/keepalive, lease/revoke,
 * auth/authenticate), driven by libcurl's multi interface on the caller's
 * sd-event loop (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION -> sd-event io and
 * time sources): nothing here ever blocks the loop. Keys and values are
 * byte strings (base64 on the wire, done here); JSON is json-c's.
 *
 * Endpoints fail over: requests go to the current endpoint; a connection
 * refused/reset, or no answer within the attempt timeout, moves the
 * request (and the client's current endpoint) to the next one, until the
 * request's deadline. A request that was sent but not answered may have
 * been applied: callers make their writes safe to repeat (a claim's
 * create-if-absent names its owner, so a repeat that finds its own claim
 * knows it won).
 *
 * Every request ends with exactly one call of its callback, on the loop,
 * never from inside the call that made the request: with 0 and the
 * response, or a negative errno and NULL (-ETIMEDOUT: deadline passed;
 * -ECONNREFUSED: every endpoint refused (or failed at once: reset, TLS;
 * the transport's words in etcd_last_error()); -EPROTO: etcd answered with an
 * error, its message (JSON's, or the first line of a plain-text one) in
 * etcd_last_error(); -EBADMSG: an answer that is not the JSON expected; -ECANCELED: the client was freed first). The
 * response and everything in it is valid only during the callback. */
#ifndef TICKD_ETCD_H
#define TICKD_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct etcd_client;

struct etcd_options {
        sd_event *event;        /* the loop requests run on (borrowed) */
        char *const *endpoints; /* NULL-terminated "http(s)://host:port" list (copied) */
        const char *ca_file;    /* https: CA bundle; NULL = the system's (copied) */
        const char *cert_file;  /* https client certificate, NULL = none (copied) */
        const char *key_file;   /* its key (copied) */
        const char *user;       /* etcd authentication; NULL = none (copied) */
        const char *password;   /* (copied) */
        uint64_t timeout_usec;  /* a request's deadline across all attempts; 0 = 2 s */
        uint64_t attempt_usec;  /* one endpoint's share before failing over; 0 = timeout/2 */
};

int etcd_client_new(const struct etcd_options *options, struct etcd_client **out);
/* Ends every pending request: each callback is called with -ECANCELED
 * (from inside this call) before it returns. A callback may call it; a
 * request made from a callback it calls fails with -ECANCELED (and that
 * callback is not called). */
void etcd_client_free(struct etcd_client *c);

/* The endpoint requests go to now (for messages), and the text of the
 * last error etcd or the transport reported (for messages; never NULL). */
const char *etcd_current_endpoint(const struct etcd_client *c);
const char *etcd_last_error(const struct etcd_client *c);

struct etcd_kv {
        const char *key; /* NUL-terminated copies of the bytes */
        const char *value;
        size_t key_len, value_len;
        int64_t create_revision, mod_revision, version, lease;
};

/* One operation's result in a transaction, in the order of its branch's
 * operations (and the only result of a plain range/put/delete). */
struct etcd_op_result {
        enum { ETCD_OP_RANGE, ETCD_OP_PUT, ETCD_OP_DELETE } type;
        const struct etcd_kv *kvs; /* range: the keys found */
        size_t n_kvs;
        int64_t count;   /* range: how many matched (may exceed n_kvs with a limit) */
        int64_t deleted; /* delete: how many went */
};

struct etcd_response {
        int64_t revision; /* the store's revision in the header */
        bool succeeded;   /* txn: whether the compares held */
        const struct etcd_op_result *results;
        size_t n_results;
        int64_t lease_id; /* lease grant / keepalive */
        int64_t ttl;      /* lease grant / keepalive: seconds left; 0 = the lease is gone */
};

typedef void (*etcd_done_fn)(void *userdata, int error, const struct etcd_response *response);

/* A transaction: compares, then the success or the failure operations,
 * atomically. Built, then handed to etcd_txn() which takes it. */
struct etcd_txn;
enum etcd_branch { ETCD_SUCCESS, ETCD_FAILURE };
enum etcd_target { ETCD_CREATE_REVISION, ETCD_MOD_REVISION, ETCD_VERSION, ETCD_VALUE };
enum etcd_compare_op { ETCD_EQUAL, ETCD_NOT_EQUAL, ETCD_GREATER, ETCD_LESS };

struct etcd_txn *etcd_txn_new(void); /* NULL = no memory */
void etcd_txn_free(struct etcd_txn *t);
/* Each returns 0 or -ENOMEM (the transaction stays usable for free);
 * etcd_txn_compare_int() with ETCD_VALUE is -EINVAL (compare_value). */
int etcd_txn_compare_int(struct etcd_txn *t, const char *key, enum etcd_target target, enum etcd_compare_op op,
                         int64_t value);
int etcd_txn_compare_value(struct etcd_txn *t, const char *key, enum etcd_compare_op op, const char *value,
                           size_t value_len);
int etcd_txn_put(struct etcd_txn *t, enum etcd_branch branch, const char *key, const char *value, size_t value_len,
                 int64_t lease);
/* PREFIX: every key starting with KEY. LIMIT 0 = all; DESCENDING sorts by key. */
int etcd_txn_range(struct etcd_txn *t, enum etcd_branch branch, const char *key, bool prefix, int64_t limit,
                   bool descending);
int etcd_txn_delete(struct etcd_txn *t, enum etcd_branch branch, const char *key, bool prefix);

/* The requests. Each returns 0 when the request is under way (its
 * callback will be called) or a negative errno when it could not be made
 * (-ENOMEM; the callback is not called). etcd_txn() takes T either way. */
int etcd_txn(struct etcd_client *c, struct etcd_txn *t, etcd_done_fn done, void *userdata);
int etcd_put(struct etcd_client *c, const char *key, const char *value, size_t value_len, int64_t lease,
             etcd_done_fn done, void *userdata);
int etcd_range(struct etcd_client *c, const char *key, bool prefix, int64_t limit, bool descending, etcd_done_fn done,
               void *userdata);
int etcd_delete(struct etcd_client *c, const char *key, bool prefix, etcd_done_fn done, void *userdata);
int etcd_lease_grant(struct etcd_client *c, int64_t ttl_sec, etcd_done_fn done, void *userdata);
int etcd_lease_keepalive(struct etcd_client *c, int64_t lease, etcd_done_fn done, void *userdata);
int etcd_lease_revoke(struct etcd_client *c, int64_t lease, etcd_done_fn done, void *userdata);

/* How many requests are under way (tests: nothing outlives its work). */
size_t etcd_pending(const struct etcd_client *c);

#endif
