/* etcd-curl.c — libcurl's multi interface on the client's sd-event loop:
 * one io source per socket curl asks for, one time source for curl's one
 * timeout, and the collection of finished transfers; see etcd-internal.h. */
#include "shared/etcd-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>

#include "core/cleanup.h"

/* An answer bigger than this is not one the client asked for. */
#define ANSWER_MAX (16u << 20)

uint64_t etcd_now(const struct etcd_client *c)
{
        uint64_t now;
        if (sd_event_now(c->event, CLOCK_MONOTONIC, &now) < 0) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                now = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
        }
        return now;
}

void etcd_client_ref(struct etcd_client *c) { c->refs++; }
void etcd_client_unref(struct etcd_client *c)
{
        if (--c->refs == 0)
                etcd_client_destroy(c);
}

/* Hands what curl finished to its requests. A callback may free the
 * client (the dispatcher's reference keeps it alive until it returns). */
static void client_collect(struct etcd_client *c)
{
        CURLMsg *msg;
        int left;
        while (!c->freeing && (msg = curl_multi_info_read(c->multi, &left))) {
                if (msg->msg != CURLMSG_DONE)
                        continue;
                struct etcd_request *req = NULL;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
                etcd_request_attempt_done(req, msg->data.result);
        }
}

static int on_socket_event(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct etcd_client *c = userdata;
        int action = 0, running;
        if (revents & EPOLLIN)
                action |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
                action |= CURL_CSELECT_OUT;
        if (revents & (EPOLLERR | EPOLLHUP))
                action |= CURL_CSELECT_ERR;
        etcd_client_ref(c);
        curl_multi_socket_action(c->multi, fd, action, &running);
        client_collect(c);
        etcd_client_unref(c);
        return 0;
}

static int on_curl_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct etcd_client *c = userdata;
        int running;
        etcd_client_ref(c);
        curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        client_collect(c);
        etcd_client_unref(c);
        return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one sd-event io source per socket curl uses. */
static int curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userdata, void *socketp)
{
        struct etcd_client *c = userdata;
        sd_event_source *source = socketp;
        if (what == CURL_POLL_REMOVE) {
                curl_multi_assign(c->multi, fd, NULL);
                sd_event_source_disable_unref(source);
                return 0;
        }
        uint32_t events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
        if (source)
                return sd_event_source_set_io_events(source, events) < 0 ? -1 : 0;
        if (sd_event_add_io(c->event, &source, fd, events, on_socket_event, c) < 0)
                return -1;
        (void)sd_event_source_set_description(source, "etcd-socket");
        curl_multi_assign(c->multi, fd, source);
        return 0;
}

/* CURLMOPT_TIMERFUNCTION: curl's one timeout, -1 = none. Never calls
 * curl_multi_socket_action() from here (curl forbids it): a timeout of 0
 * is due on the next loop iteration, which is also why no request's
 * callback can run inside the call that made it. */
static int curl_timer_cb(CURLM *multi, long timeout_ms, void *userdata)
{
        struct etcd_client *c = userdata;
        if (timeout_ms < 0)
                return sd_event_source_set_enabled(c->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
        if (sd_event_source_set_time(c->timer, etcd_now(c) + (uint64_t)timeout_ms * 1000) < 0 ||
            sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT) < 0)
                return -1;
        return 0;
}

/* CURLOPT_OPENSOCKETFUNCTION: curl's sockets are close-on-exec, so no job
 * tickd starts inherits a connection to etcd. */
curl_socket_t etcd_curl_open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *address)
{
        return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
}

size_t etcd_curl_write(char *data, size_t size, size_t n, void *userdata)
{
        struct etcd_request *req = userdata;
        size_t len = size * n;
        if (len > ANSWER_MAX - req->answer_len)
                return 0; /* curl ends the attempt: CURLE_WRITE_ERROR */
        char *grown = realloc(req->answer, req->answer_len + len + 1);
        if (!grown)
                return 0;
        memcpy(grown + req->answer_len, data, len);
        req->answer = grown;
        req->answer_len += len;
        grown[req->answer_len] = '\0';
        return len;
}

/* The descriptors open now (a malloc'd array), or NULL. */
static int *open_fds(size_t *n)
{
        DIR *d = opendir("/proc/self/fd");
        int *fds = NULL;
        size_t size = 0;
        *n = 0;
        if (!d)
                return NULL;
        for (struct dirent *entry; (entry = readdir(d));) {
                int fd = atoi(entry->d_name);
                if (entry->d_name[0] == '.' || fd == dirfd(d))
                        continue;
                if (*n == size) {
                        size = size ? 2 * size : 64;
                        int *grown = realloc(fds, size * sizeof(int));
                        if (!grown) {
                                free(fds);
                                closedir(d);
                                return NULL;
                        }
                        fds = grown;
                }
                fds[(*n)++] = fd;
        }
        closedir(d);
        return fds;
}

/* curl_multi_init() opens a socketpair (its wakeup) without close-on-exec,
 * and no option avoids it: whatever it opened is marked afterwards. */
static CURLM *multi_new_cloexec(void)
{
        size_t n_before, n_after;
        _cleanup_free_ int *before = open_fds(&n_before);
        CURLM *multi = curl_multi_init();
        _cleanup_free_ int *after = before && multi ? open_fds(&n_after) : NULL;
        for (size_t i = 0; after && i < n_after; i++) {
                bool old = false;
                for (size_t k = 0; k < n_before && !old; k++)
                        old = before[k] == after[i];
                int flags = old ? -1 : fcntl(after[i], F_GETFD);
                if (flags >= 0 && !(flags & FD_CLOEXEC))
                        (void)fcntl(after[i], F_SETFD, flags | FD_CLOEXEC);
        }
        return multi;
}

int etcd_loop_setup(struct etcd_client *c)
{
        /* Accuracy 1 µs: sd-event's default (250 ms) would stretch every
         * curl timeout. */
        int r = sd_event_add_time(c->event, &c->timer, CLOCK_MONOTONIC, 0, 1, on_curl_timer, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        /* After the sockets, like each attempt's deadline (etcd.c): what
         * arrived while the loop was busy is read before anything times out. */
        if (r >= 0)
                r = sd_event_source_set_priority(c->timer, SD_EVENT_PRIORITY_NORMAL + 10);
        if (r >= 0)
                r = sd_event_add_defer(c->event, &c->defer, etcd_client_on_defer, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->defer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(c->timer, "etcd-curl-timer");
        (void)sd_event_source_set_description(c->defer, "etcd-defer");
        c->multi = multi_new_cloexec();
        if (!c->multi)
                return -ENOMEM;
        if (curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb) != CURLM_OK ||
            curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c) != CURLM_OK)
                return -ENOMEM;
        return 0;
}
