/* etcd.c — the client's requests: their attempts, endpoint failover,
 * deadlines and authentication; see etcd.h. The loop glue is
 * etcd-curl.c's, bodies and answers are etcd-json.c's and etcd-answer.c's.
 *
 * curl_global_init() runs once, from the first etcd_client_new(), under a
 * pthread_once: it is not thread-safe, so a threaded program creates its
 * first client (or calls curl_global_init itself) from main before it
 * starts threads. tickd is single-threaded. */
#include "shared/etcd-internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cleanup.h"

static void client_set_error(struct etcd_client *c, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void client_set_error(struct etcd_client *c, const char *format, ...)
{
        va_list ap;
        va_start(ap, format);
        vsnprintf(c->last_error, sizeof(c->last_error), format, ap);
        va_end(ap);
}

const char *etcd_current_endpoint(const struct etcd_client *c) { return c->endpoints[c->current]; }
const char *etcd_last_error(const struct etcd_client *c) { return c->last_error; }
size_t etcd_pending(const struct etcd_client *c) { return c->n_pending; }

/* What stays the same across a request's attempts. */
static int request_setup(struct etcd_request *req)
{
        struct etcd_client *c = req->client;
        CURL *e = req->easy;
        int bad = 0;
        bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        bad |= curl_easy_setopt(e, CURLOPT_PROXY, "");
        bad |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
        bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, etcd_curl_open_socket);
        bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, req);
        bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, etcd_curl_write);
        bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
        bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->curl_error);
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
        bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
        if (c->ca_file)
                bad |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
        if (c->cert_file)
                bad |= curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
        if (c->key_file)
                bad |= curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
        return bad ? -ENOMEM : 0;
}

/* An attempt's deadline is this timer's, not curl's CURLOPT_TIMEOUT:
 * curl checks its timeout before it reads a socket, so when the loop was
 * busy past the deadline (tickd forking a slice of a large batch of runs)
 * an answer etcd sent in time, waiting in the socket, was thrown away as
 * a timeout. The timer runs after the sockets (a lower priority), so an
 * answer that is there is read first; curl's own timeout is only a
 * backstop, ATTEMPT_BACKSTOP_MS later. */
#define ATTEMPT_BACKSTOP_MS 30000L

static int on_attempt_end(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct etcd_request *req = userdata;
        if (req->state != REQUEST_RUNNING)
                return 0;
        snprintf(req->curl_error, sizeof(req->curl_error), "no answer within %llu ms",
                 (unsigned long long)((etcd_now(req->client) - req->attempt_start) / 1000));
        etcd_request_attempt_done(req, CURLE_OPERATION_TIMEDOUT);
        return 0;
}

static int attempt_end_arm(struct etcd_request *req, uint64_t end)
{
        if (req->attempt_end)
                return sd_event_source_set_time(req->attempt_end, end) < 0 ||
                                       sd_event_source_set_enabled(req->attempt_end, SD_EVENT_ONESHOT) < 0
                               ? -ENOMEM
                               : 0;
        if (sd_event_add_time(req->client->event, &req->attempt_end, CLOCK_MONOTONIC, end, 1, on_attempt_end, req) <
                    0 ||
            sd_event_source_set_priority(req->attempt_end, SD_EVENT_PRIORITY_NORMAL + 10) < 0)
                return -ENOMEM;
        (void)sd_event_source_set_description(req->attempt_end, "etcd-attempt");
        return 0;
}

/* Starts an attempt on the request's endpoint with what is left of its
 * deadline, at most the client's attempt share. */
static int request_attempt(struct etcd_request *req)
{
        struct etcd_client *c = req->client;
        uint64_t now = etcd_now(c);
        if (now + 1000 > req->deadline)
                return -ETIMEDOUT;
        uint64_t budget = req->deadline - now < c->attempt_usec ? req->deadline - now : c->attempt_usec;
        long ms = (long)(budget / 1000);

        _cleanup_free_ char *url = NULL, *authorization = NULL;
        if (asprintf(&url, "%s%s", c->endpoints[req->endpoint], etcd_kind_path(req->kind)) < 0)
                return -ENOMEM;
        curl_slist_free_all(req->headers);
        req->headers = curl_slist_append(NULL, "Content-Type: application/json");
        if (!req->headers)
                return -ENOMEM;
        if (c->token && req->kind != ETCD_KIND_AUTHENTICATE) {
                struct curl_slist *more;
                if (asprintf(&authorization, "Authorization: %s", c->token) < 0 ||
                    !(more = curl_slist_append(req->headers, authorization)))
                        return -ENOMEM;
                req->headers = more;
        }
        free(req->answer);
        req->answer = NULL;
        req->answer_len = 0;
        req->curl_error[0] = '\0';
        if (curl_easy_setopt(req->easy, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, req->headers) != CURLE_OK ||
            curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS, ms + ATTEMPT_BACKSTOP_MS) != CURLE_OK ||
            curl_easy_setopt(req->easy, CURLOPT_CONNECTTIMEOUT_MS, ms) != CURLE_OK ||
            attempt_end_arm(req, now + budget) < 0 || curl_multi_add_handle(c->multi, req->easy) != CURLM_OK)
                return -ENOMEM;
        req->attempt_start = now;
        req->state = REQUEST_RUNNING;
        return 0;
}

static void request_fail_later(struct etcd_request *req, int error)
{
        req->state = REQUEST_FAILED;
        req->error = error;
        (void)sd_event_source_set_enabled(req->client->defer, SD_EVENT_ONESHOT);
}

static void request_free(struct etcd_request *req)
{
        struct etcd_client *c = req->client;
        if (req->state == REQUEST_RUNNING)
                curl_multi_remove_handle(c->multi, req->easy);
        if (req->prev)
                req->prev->next = req->next;
        else
                c->requests = req->next;
        if (req->next)
                req->next->prev = req->prev;
        if (req->done)
                c->n_pending--;
        sd_event_source_disable_unref(req->attempt_end);
        curl_easy_cleanup(req->easy);
        curl_slist_free_all(req->headers);
        free(req->body);
        free(req->answer);
        free(req);
}

static void client_authenticated(struct etcd_client *c, int error, const struct etcd_answer *answer);

/* Ends REQ: frees it, then calls its callback (which may make requests or
 * free the client). */
static void request_finish(struct etcd_request *req, int error, const struct etcd_answer *answer)
{
        struct etcd_client *c = req->client;
        etcd_done_fn done = req->done;
        void *userdata = req->userdata;
        request_free(req);
        if (!done)
                client_authenticated(c, error, answer);
        else
                done(userdata, error, error < 0 ? NULL : &answer->response);
}

static int client_authenticate(struct etcd_client *c);

/* Sends REQ, or parks it until the client has a token. */
static void request_begin(struct etcd_request *req)
{
        struct etcd_client *c = req->client;
        int r;
        if (c->user && !c->token && req->kind != ETCD_KIND_AUTHENTICATE) {
                req->state = REQUEST_WAITING;
                r = c->authenticating ? 0 : client_authenticate(c);
        } else
                r = request_attempt(req);
        if (r < 0)
                request_fail_later(req, r);
}

/* The authentication ended: the requests that waited for it go now, or
 * fail as it did (on the loop, so none of their callbacks runs here). */
static void client_authenticated(struct etcd_client *c, int error, const struct etcd_answer *answer)
{
        c->authenticating = false;
        if (error >= 0) {
                free(c->token);
                c->token = strdup(answer->token);
                if (!c->token)
                        error = -ENOMEM;
        }
        for (struct etcd_request *req = c->requests; req; req = req->next) {
                if (req->state != REQUEST_WAITING)
                        continue;
                int r = error < 0 ? error : request_attempt(req);
                if (r < 0)
                        request_fail_later(req, r);
        }
}

int etcd_client_on_defer(sd_event_source *s, void *userdata)
{
        struct etcd_client *c = userdata;
        etcd_client_ref(c);
        while (!c->freeing) {
                struct etcd_request *req = c->requests;
                while (req && req->state != REQUEST_FAILED)
                        req = req->next;
                if (!req)
                        break;
                request_finish(req, req->error, NULL);
        }
        etcd_client_unref(c);
        return 0;
}

/* A token etcd no longer knows (expired, or etcd restarted): the one
 * answer a new authentication mends. */
static bool token_rejected(const struct etcd_request *req, int code, const char *message)
{
        const struct etcd_client *c = req->client;
        return c->user && req->kind != ETCD_KIND_AUTHENTICATE && !req->reauthenticated &&
               (code == 16 || strstr(message, "invalid auth token"));
}

/* An error status whose answer is not JSON: etcd's HTTP layer speaks
 * plain text (its gateway refuses a client certificate with a Common Name
 * once authentication is on: "CommonName of client sending a request
 * against gateway will be ignored ..."). Its first line is the reason:
 * -EPROTO with it, or -EBADMSG when there is no text to show. */
static int answer_not_json(struct etcd_request *req, long status)
{
        struct etcd_client *c = req->client;
        size_t len = req->answer ? strcspn(req->answer, "\r\n") : 0;
        bool text = len > 0;
        for (size_t i = 0; i < len && text; i++)
                text = (unsigned char)req->answer[i] >= 0x20 && req->answer[i] != 0x7f;
        if (!text) {
                client_set_error(c, "%s: HTTP status %ld", c->endpoints[req->endpoint], status);
                return -EBADMSG;
        }
        client_set_error(c, "%s: HTTP status %ld: %.*s", c->endpoints[req->endpoint], status,
                         (int)(len < 300 ? len : 300), req->answer);
        return -EPROTO;
}

/* etcd answered (with any HTTP status). */
static void request_answered(struct etcd_request *req)
{
        struct etcd_client *c = req->client;
        long status = 0;
        curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status != 200) {
                int code;
                _cleanup_free_ char *message = etcd_error_message(req->answer, req->answer_len, &code);
                if (!message) {
                        request_finish(req, answer_not_json(req, status), NULL);
                        return;
                }
                if (token_rejected(req, code, message)) {
                        req->reauthenticated = true;
                        free(c->token);
                        c->token = NULL;
                        request_begin(req);
                        return;
                }
                client_set_error(c, "%s", message);
                request_finish(req, -EPROTO, NULL);
                return;
        }
        struct etcd_answer answer;
        _cleanup_free_ char *message = NULL;
        int r = etcd_answer_parse(req->kind, req->answer ? req->answer : "", req->answer_len, &answer, &message);
        if (r == -EPROTO)
                client_set_error(c, "%s", message);
        else if (r == -EBADMSG)
                client_set_error(c, "%s: an answer that is not etcd's JSON", c->endpoints[req->endpoint]);
        request_finish(req, r, r < 0 ? NULL : &answer);
        if (r >= 0)
                etcd_answer_clear(&answer);
}

/* With TLS 1.3 the client's side of the handshake is done before the
 * server checks the client's certificate, so an etcd with
 * --client-cert-auth that rejects it just closes the connection, and curl
 * reports a failed send or receive (often "getpeername() failed"), never
 * the TLS alert: say what that usually means. */
static const char *transport_hint(const char *endpoint, CURLcode result)
{
        bool closed = result == CURLE_SEND_ERROR || result == CURLE_RECV_ERROR || result == CURLE_GOT_NOTHING;
        return closed && strncmp(endpoint, "https://", 8) == 0
                       ? " (the server closed the connection: a client certificate missing, or not signed by a CA "
                         "etcd trusts?)"
                       : "";
}

/* One attempt ended. A transport failure moves the request, and the
 * client's current endpoint, to the next endpoint until the deadline;
 * when every endpoint failed at once in a row, none is up. */
void etcd_request_attempt_done(struct etcd_request *req, CURLcode result)
{
        struct etcd_client *c = req->client;
        curl_multi_remove_handle(c->multi, req->easy);
        (void)sd_event_source_set_enabled(req->attempt_end, SD_EVENT_OFF);
        req->state = REQUEST_IDLE;
        if (result == CURLE_OK) {
                request_answered(req);
                return;
        }
        if (result == CURLE_OUT_OF_MEMORY) {
                request_finish(req, -ENOMEM, NULL);
                return;
        }
        client_set_error(c, "%s: %s%s", c->endpoints[req->endpoint],
                         req->curl_error[0] ? req->curl_error : curl_easy_strerror(result),
                         transport_hint(c->endpoints[req->endpoint], result));
        if (result == CURLE_OPERATION_TIMEDOUT)
                req->fast_failures = 0;
        else if (++req->fast_failures >= c->n_endpoints) {
                request_finish(req, -ECONNREFUSED, NULL);
                return;
        }
        size_t next = (req->endpoint + 1) % c->n_endpoints;
        if (c->current == req->endpoint)
                c->current = next;
        req->endpoint = next;
        int r = request_attempt(req);
        if (r < 0)
                request_finish(req, r, NULL);
}

/* Makes a request of BODY (taken). */
static int request_submit(struct etcd_client *c, enum etcd_kind kind, json_object *body, etcd_done_fn done,
                          void *userdata)
{
        if (c->freeing) {
                json_object_put(body);
                return -ECANCELED;
        }
        struct etcd_request *req = calloc(1, sizeof(*req));
        if (!req) {
                json_object_put(body);
                return -ENOMEM;
        }
        *req = (struct etcd_request){ .client = c,
                                      .kind = kind,
                                      .done = done,
                                      .userdata = userdata,
                                      .deadline = etcd_now(c) + c->timeout_usec,
                                      .endpoint = c->current };
        const char *text = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN);
        req->body = text ? strdup(text) : NULL;
        json_object_put(body);
        req->easy = curl_easy_init();
        if (!req->body || !req->easy || request_setup(req) < 0) {
                curl_easy_cleanup(req->easy);
                free(req->body);
                free(req);
                return -ENOMEM;
        }
        req->next = c->requests;
        if (c->requests)
                c->requests->prev = req;
        c->requests = req;
        if (done)
                c->n_pending++;
        request_begin(req);
        return 0;
}

static int client_authenticate(struct etcd_client *c)
{
        json_object *body;
        int r = etcd_json_authenticate(c->user, c->password, &body);
        if (r >= 0)
                r = request_submit(c, ETCD_KIND_AUTHENTICATE, body, NULL, NULL);
        c->authenticating = r >= 0;
        return r;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;
static void curl_init(void) { curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT); }

void etcd_client_destroy(struct etcd_client *c)
{
        /* The multi handle first: closing its cached connections removes
         * their io sources through curl_socket_cb. */
        if (c->multi)
                curl_multi_cleanup(c->multi);
        sd_event_source_disable_unref(c->timer);
        sd_event_source_disable_unref(c->defer);
        for (size_t i = 0; i < c->n_endpoints; i++)
                free(c->endpoints[i]);
        free(c->endpoints);
        free(c->ca_file);
        free(c->cert_file);
        free(c->key_file);
        free(c->user);
        free(c->password);
        free(c->token);
        free(c);
}

void etcd_client_free(struct etcd_client *c)
{
        if (!c || c->freeing)
                return;
        c->freeing = true;
        while (c->requests)
                request_finish(c->requests, -ECANCELED, NULL);
        etcd_client_unref(c);
}

/* Copies OPTIONS' strings; an endpoint loses any trailing '/'. */
static int client_copy_options(struct etcd_client *c, const struct etcd_options *o)
{
        size_t n = 0;
        while (o->endpoints[n])
                n++;
        if (n == 0)
                return -EINVAL;
        c->endpoints = calloc(n, sizeof(char *));
        if (!c->endpoints)
                return -ENOMEM;
        for (; c->n_endpoints < n; c->n_endpoints++) {
                const char *e = o->endpoints[c->n_endpoints];
                if (strncmp(e, "http://", 7) != 0 && strncmp(e, "https://", 8) != 0)
                        return -EINVAL;
                size_t len = strlen(e);
                while (len > 0 && e[len - 1] == '/')
                        len--;
                if (!(c->endpoints[c->n_endpoints] = strndup(e, len)))
                        return -ENOMEM;
        }
        const char *const from[] = { o->ca_file, o->cert_file, o->key_file, o->user, o->password };
        char **const to[] = { &c->ca_file, &c->cert_file, &c->key_file, &c->user, &c->password };
        for (size_t i = 0; i < ELEMENTSOF(from); i++)
                if (from[i] && !(*to[i] = strdup(from[i])))
                        return -ENOMEM;
        c->timeout_usec = o->timeout_usec ? o->timeout_usec : 2000000;
        c->attempt_usec = o->attempt_usec ? o->attempt_usec : c->timeout_usec / 2;
        return 0;
}

int etcd_client_new(const struct etcd_options *options, struct etcd_client **out)
{
        if (!options->event || !options->endpoints)
                return -EINVAL;
        pthread_once(&curl_once, curl_init);
        if (curl_init_result != CURLE_OK)
                return -ENOMEM;
        struct etcd_client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->refs = 1;
        c->event = options->event;
        int r = client_copy_options(c, options);
        if (r >= 0)
                r = etcd_loop_setup(c);
        if (r < 0) {
                etcd_client_destroy(c);
                return r;
        }
        snprintf(c->last_error, sizeof(c->last_error), "no error");
        *out = c;
        return 0;
}

int etcd_txn(struct etcd_client *c, struct etcd_txn *t, etcd_done_fn done, void *userdata)
{
        json_object *body;
        int r = etcd_json_txn(t, &body);
        etcd_txn_free(t);
        return r < 0 ? r : request_submit(c, ETCD_KIND_TXN, body, done, userdata);
}

int etcd_put(struct etcd_client *c, const char *key, const char *value, size_t value_len, int64_t lease,
             etcd_done_fn done, void *userdata)
{
        json_object *body;
        int r = etcd_json_put(key, value, value_len, lease, &body);
        return r < 0 ? r : request_submit(c, ETCD_KIND_PUT, body, done, userdata);
}

int etcd_range(struct etcd_client *c, const char *key, bool prefix, int64_t limit, bool descending, etcd_done_fn done,
               void *userdata)
{
        json_object *body;
        int r = etcd_json_range(key, prefix, limit, descending, &body);
        return r < 0 ? r : request_submit(c, ETCD_KIND_RANGE, body, done, userdata);
}

int etcd_delete(struct etcd_client *c, const char *key, bool prefix, etcd_done_fn done, void *userdata)
{
        json_object *body;
        int r = etcd_json_delete(key, prefix, &body);
        return r < 0 ? r : request_submit(c, ETCD_KIND_DELETE, body, done, userdata);
}

int etcd_lease_grant(struct etcd_client *c, int64_t ttl_sec, etcd_done_fn done, void *userdata)
{
        json_object *body;
        int r = etcd_json_lease("TTL", ttl_sec, &body);
        return r < 0 ? r : request_submit(c, ETCD_KIND_LEASE_GRANT, body, done, userdata);
}

int etcd_lease_keepalive(struct etcd_client *c, int64_t lease, etcd_done_fn done, void *userdata)
{
        json_object *body;
        int r = etcd_json_lease("ID", lease, &body);
        return r < 0 ? r : request_submit(c, ETCD_KIND_LEASE_KEEPALIVE, body, done, userdata);
}

int etcd_lease_revoke(struct etcd_client *c, int64_t lease, etcd_done_fn done, void *userdata)
{
        json_object *body;
        int r = etcd_json_lease("ID", lease, &body);
        return r < 0 ? r : request_submit(c, ETCD_KIND_LEASE_REVOKE, body, done, userdata);
}
