/* metrics-http.c — GET /metrics on the event loop; see metrics-http.h. */
#include "tickd/metrics-http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/conf.h"
#include "shared/clock.h"

struct connection {
        struct metrics_http *server;
        struct connection *prev, *next;
        int fd;
        sd_event_source *io, *timeout;
        char request[METRICS_HTTP_REQUEST_MAX];
        size_t request_len;
        char *answer; /* NULL while the request is read */
        size_t answer_len, answer_sent;
        bool refused;  /* the answer is an error: the peer may have sent more than was read */
        bool draining; /* answered and shut down for writing: reads until the peer closes */
};

struct metrics_http {
        sd_event *event;
        int fd;
        sd_event_source *listener;
        struct connection *connections;
        size_t n_connections;
        metrics_http_render_fn render;
        void *userdata;
};

static void listener_update(struct metrics_http *h);

static void connection_free(struct connection *c)
{
        struct metrics_http *h = c->server;
        if (c->prev)
                c->prev->next = c->next;
        else
                h->connections = c->next;
        if (c->next)
                c->next->prev = c->prev;
        h->n_connections--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timeout);
        close(c->fd);
        free(c->answer);
        free(c);
        if (h->listener)
                listener_update(h);
}

/* The answer as a whole: head, and BODY unless HEAD asked. */
static int answer_set(struct connection *c, const char *status, const char *body, size_t body_len, bool head_only,
                      const char *content_type)
{
        char head[256];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
                         status, content_type, body_len, strncmp(status, "405", 3) == 0 ? "Allow: GET, HEAD\r\n" : "");
        size_t total = (size_t)n + (head_only ? 0 : body_len);
        if (!(c->answer = malloc(total)))
                return -ENOMEM;
        memcpy(c->answer, head, (size_t)n);
        if (!head_only)
                memcpy(c->answer + n, body, body_len);
        c->answer_len = total;
        return 0;
}

static int answer_error(struct connection *c, const char *status)
{
        c->refused = true;
        char body[64];
        int n = snprintf(body, sizeof(body), "%s\n", status);
        return answer_set(c, status, body, (size_t)n, false, "text/plain; charset=utf-8");
}

/* The request line, once the head is complete: what to answer. */
static int request_answer(struct connection *c)
{
        char *eol = memchr(c->request, '\n', c->request_len);
        size_t len = eol ? (size_t)(eol - c->request) : 0;
        if (len && c->request[len - 1] == '\r')
                len--;
        char line[METRICS_HTTP_REQUEST_MAX];
        memcpy(line, c->request, len);
        line[len] = '\0';
        char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
        if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 || sp2[8] == '\0')
                return answer_error(c, "400 Bad Request");
        *sp1 = *sp2 = '\0';
        bool head = strcmp(line, "HEAD") == 0;
        if (!head && strcmp(line, "GET") != 0)
                return answer_error(c, "405 Method Not Allowed");
        const char *target = sp1 + 1;
        if (strcmp(target, "/metrics") != 0 && strncmp(target, "/metrics?", 9) != 0)
                return answer_error(c, "404 Not Found");
        const char *text = NULL;
        size_t text_len = 0;
        if (c->server->render(c->server->userdata, &text, &text_len) < 0)
                return answer_error(c, "500 Internal Server Error");
        return answer_set(c, "200 OK", text, text_len, head, "text/plain; version=0.0.4; charset=utf-8");
}

/* Whether the head is complete: an empty line ends it. */
static bool request_complete(const struct connection *c)
{
        return memmem(c->request, c->request_len, "\r\n\r\n", 4) || memmem(c->request, c->request_len, "\n\n", 2);
}

/* Returns 1 while more is to be read, 0 once answered, < 0 to close. */
static int connection_read(struct connection *c)
{
        for (;;) {
                size_t room = sizeof(c->request) - c->request_len;
                if (room == 0)
                        return answer_error(c, "431 Request Header Fields Too Large");
                ssize_t n = recv(c->fd, c->request + c->request_len, room, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 1;
                if (n <= 0)
                        return -ECONNRESET;
                c->request_len += (size_t)n;
                if (request_complete(c))
                        return request_answer(c);
        }
}

/* Returns 1 while more is to be sent, 0 once all of it is, < 0 to close. */
static int connection_write(struct connection *c)
{
        while (c->answer_sent < c->answer_len) {
                ssize_t n = send(c->fd, c->answer + c->answer_sent, c->answer_len - c->answer_sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 1;
                if (n < 0)
                        return -errno;
                c->answer_sent += (size_t)n;
        }
        return 0;
}

/* After a refusal: what the peer still sends (the rest of an oversize
 * head, a body) is read and dropped until it closes (or the timeout), so
 * that closing with unread data does not reset the connection before the
 * peer has read why. A served GET has left nothing unread: it is closed
 * at once, and its answer still goes out whole. */
static int connection_drain(struct connection *c)
{
        char sink[4096];
        for (;;) {
                ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 1;
                return -ECONNRESET; /* EOF or an error: done */
        }
}

static int connection_step(struct connection *c)
{
        if (c->draining)
                return connection_drain(c);
        int r = 1;
        if (!c->answer && (r = connection_read(c)) != 0)
                return r;
        if ((r = connection_write(c)) != 0)
                return r == 1 ? sd_event_source_set_io_events(c->io, EPOLLOUT) < 0 ? -ENOMEM : 1 : r;
        c->draining = true;
        if (!c->refused || shutdown(c->fd, SHUT_WR) < 0 || sd_event_source_set_io_events(c->io, EPOLLIN) < 0)
                return -ECONNRESET;
        return connection_drain(c);
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct connection *c = userdata;
        if (connection_step(c) < 0)
                connection_free(c);
        return 0;
}

static int on_connection_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        connection_free(userdata);
        return 0;
}

static int connection_new(struct metrics_http *h, int fd)
{
        struct connection *c = calloc(1, sizeof(*c));
        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        *c = (struct connection){ .server = h, .fd = fd, .next = h->connections };
        if (h->connections)
                h->connections->prev = c;
        h->connections = c;
        h->n_connections++;
        uint64_t deadline = clock_now_usec(CLOCK_MONOTONIC) + METRICS_HTTP_TIMEOUT_USEC;
        int r = sd_event_add_io(h->event, &c->io, fd, EPOLLIN, on_connection_io, c);
        if (r >= 0)
                r = sd_event_add_time(h->event, &c->timeout, CLOCK_MONOTONIC, deadline, 0, on_connection_timeout, c);
        if (r < 0)
                connection_free(c);
        return r;
}

/* At the bound the listener rests: further peers wait in the kernel's
 * backlog (its memory, not our descriptors) until a connection ends,
 * which each one does by its timeout at the latest. */
static void listener_update(struct metrics_http *h)
{
        bool room = h->n_connections < METRICS_HTTP_CONNECTIONS_MAX;
        (void)sd_event_source_set_enabled(h->listener, room ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct metrics_http *h = userdata;
        while (h->n_connections < METRICS_HTTP_CONNECTIONS_MAX) {
                int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (c < 0)
                        break;              /* EAGAIN, or a peer gone before we took it: nothing to do */
                (void)connection_new(h, c); /* without memory it is closed: the peer retries */
        }
        listener_update(h);
        return 0;
}

int metrics_http_new(sd_event *event, const char *address, metrics_http_render_fn render, void *userdata,
                     struct metrics_http **out)
{
        struct sockaddr_storage sa;
        socklen_t len;
        if (daemon_config_listen_parse(address, &sa, &len) < 0)
                return -EINVAL;
        _cleanup_close_ int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, SOMAXCONN) < 0)
                return -errno;
        _cleanup_free_ struct metrics_http *h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        *h = (struct metrics_http){ .event = event, .fd = -1, .render = render, .userdata = userdata };
        int r = sd_event_add_io(event, &h->listener, fd, EPOLLIN, on_accept, h);
        if (r < 0)
                return r;
        h->fd = TAKE_FD(fd);
        *out = TAKE_PTR(h);
        return 0;
}

struct metrics_http *metrics_http_free(struct metrics_http *h)
{
        if (!h)
                return NULL;
        h->listener = sd_event_source_disable_unref(h->listener);
        while (h->connections)
                connection_free(h->connections);
        if (h->fd >= 0)
                close(h->fd);
        free(h);
        return NULL;
}

size_t metrics_http_connections(const struct metrics_http *h) { return h ? h->n_connections : 0; }
