/* etcd-internal.h — what etcd.c (transport, failover, authentication) and
 * etcd-json.c (request bodies, answers) share; not for other modules.
 *
 * A request is a path and a JSON body; its answer is parsed by what kind
 * of request it was, because proto3 JSON names no message type and omits
 * every field that holds its default (false, 0, empty). */
#ifndef TICKD_ETCD_INTERNAL_H
#define TICKD_ETCD_INTERNAL_H

#include <curl/curl.h>
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

/* The transport's state: etcd.c's requests and client, etcd-curl.c's
 * loop glue. */
enum request_state {
        REQUEST_IDLE,    /* between attempts, inside this file's own calls */
        REQUEST_WAITING, /* for a token (authentication under way) */
        REQUEST_RUNNING, /* its easy handle is in the multi handle */
        REQUEST_FAILED,  /* ends with ERROR on the loop (the defer source) */
};

struct etcd_request {
        struct etcd_client *client;
        struct etcd_request *prev, *next;
        enum etcd_kind kind;
        enum request_state state;
        int error;
        char *body;
        etcd_done_fn done; /* NULL: the client's own authentication */
        void *userdata;
        uint64_t deadline;    /* CLOCK_MONOTONIC, µs */
        size_t endpoint;      /* the endpoint of this attempt */
        size_t fast_failures; /* attempts in a row that failed without timing out */
        bool refused_only;    /* ... and every one of them was refused */
        bool reauthenticated; /* a rejected token was renewed once already */
        CURL *easy;
        sd_event_source *attempt_end; /* the attempt's own deadline (etcd.c: why not curl's) */
        uint64_t attempt_start;       /* CLOCK_MONOTONIC, µs */
        struct curl_slist *headers;
        char *answer;
        size_t answer_len;
        char curl_error[CURL_ERROR_SIZE];
};

struct etcd_client {
        sd_event *event;
        char **endpoints;
        size_t n_endpoints, current;
        char *ca_file, *cert_file, *key_file, *user, *password;
        uint64_t timeout_usec, attempt_usec;
        CURLM *multi;
        sd_event_source *timer; /* curl's one timeout */
        sd_event_source *defer; /* ends REQUEST_FAILED requests */
        struct etcd_request *requests;
        size_t n_pending; /* the callers' requests (not the authentication) */
        char *token;
        bool authenticating;
        unsigned refs; /* the owner, and each dispatch under way */
        bool freeing;
        char last_error[512];
};

/* etcd-curl.c: the client's sd-event sources and multi handle; the
 * reference a dispatch holds (a callback may free the client); the loop's
 * time; curl's easy-handle callbacks. */
int etcd_loop_setup(struct etcd_client *c);
void etcd_client_ref(struct etcd_client *c);
void etcd_client_unref(struct etcd_client *c);
uint64_t etcd_now(const struct etcd_client *c);
size_t etcd_curl_write(char *data, size_t size, size_t n, void *userdata);
curl_socket_t etcd_curl_open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address);
/* etcd.c: an attempt ended (the multi handle still holds its easy
 * handle); the client's last reference went. */
void etcd_request_attempt_done(struct etcd_request *req, CURLcode result);
void etcd_client_destroy(struct etcd_client *c);
int etcd_client_on_defer(sd_event_source *s, void *userdata);

#endif
