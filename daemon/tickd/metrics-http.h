/* metrics-http.h — GET /metrics over HTTP/1.x on the daemon's loop.
 *
 * One listening socket (metrics_listen = ADDRESS:PORT) and its
 * connections, all non-blocking sources of the caller's sd-event loop: no
 * thread, no blocking call. Read-only: GET (and HEAD) of /metrics is
 * answered with the text RENDER makes at that moment; any other path is
 * 404, another method 405, a request line that is not HTTP/1.x 400, a
 * request whose head exceeds METRICS_HTTP_REQUEST_MAX bytes 431. Every
 * answer closes its connection. At most METRICS_HTTP_CONNECTIONS_MAX are
 * open at once (more peers wait in the listening socket's backlog until
 * one ends), and each lives at most METRICS_HTTP_TIMEOUT_USEC, however
 * slowly its peer reads or writes. */
#ifndef TICKD_METRICS_HTTP_H
#define TICKD_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define METRICS_HTTP_CONNECTIONS_MAX 64
#define METRICS_HTTP_REQUEST_MAX     8192
#define METRICS_HTTP_TIMEOUT_USEC    (UINT64_C(10) * 1000000)

struct metrics_http;

/* The exposition text, borrowed until the next call (it is copied into
 * the answer at once); a negative errno is answered 500. */
typedef int (*metrics_http_render_fn)(void *userdata, const char **out, size_t *len);

/* Binds ADDRESS (daemon_config_listen_parse(): "127.0.0.1:9101",
 * "[::1]:9101") and serves it on EVENT. Returns 0 or a negative errno
 * (-EINVAL for an address that does not parse, bind()'s errno). */
int metrics_http_new(sd_event *event, const char *address, metrics_http_render_fn render, void *userdata,
                     struct metrics_http **out);
/* Closes the socket and every connection. Accepts NULL; returns NULL. */
struct metrics_http *metrics_http_free(struct metrics_http *h);
/* Connections open now. */
size_t metrics_http_connections(const struct metrics_http *h);

#endif
