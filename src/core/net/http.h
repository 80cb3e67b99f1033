/*
 * http.h — the plug's HTTP/1.1 server and the route API the other modules
 * (web UI, REST API, OTA upload, scripts) build on.
 *
 * One fixed pool of HTTP_POOL connections served from the main loop over
 * non-blocking sockets (hal_net.h): no thread, no blocking call.  An open
 * connection's buffers come from the heap (core/util/heap.h) when its
 * client is accepted and go back when it closes; a client that finds the
 * heap short gets `503` at once, like one that finds the pool full.
 * Keep-alive; limits on the request line, the head and buffered bodies;
 * timeouts for idle, slow and non-reading clients; a new client that finds
 * the pool full (and no idle keep-alive connection to reclaim) gets `503`
 * at once.  Responses never need a page-sized buffer: small ones are built
 * in the connection's out buffer, large ones stream from constant memory
 * (flash) or from a producer callback called whenever the socket can take
 * more.  Request bodies are either buffered (small JSON documents) or
 * streamed to the handler with back-pressure (uploads).
 *
 * What this file does not do: know any route (see web_api.c for the REST
 * API, the UI's own files for pages), TLS, HTTP/2, chunked request bodies
 * (answered `411 Length Required`), pipelining beyond one request at a time
 * (later requests wait in the socket until the response is sent).
 *
 * ---- Writing a handler ------------------------------------------------
 *
 *   static struct http_route hello_route;
 *   static void hello(struct http_request *req, void *arg)
 *   {
 *       if (!http_require_admin(req))   // replied 401/429 already
 *           return;
 *       char name[33] = "world";
 *       http_query(req, "name", name, sizeof name);
 *       struct json_writer *w = http_reply_json_begin(req, 200);
 *       jw_string(w, "hello", name);
 *       http_reply_json_end(req);
 *   }
 *   ...
 *   http_route_add(&hello_route, HTTP_GET, "/api/hello", 0, hello, NULL);
 *
 * Rules for handlers:
 *  - Give exactly one reply per request (one of the http_reply* calls).
 *    A handler that returns without replying defers its reply: it must call
 *    an http_reply* function later from the loop (a timer, an event) with
 *    the same `req`, within HTTP_DEFER_MS, else the server answers 500.
 *  - `req` is valid from the handler call until the reply has been given
 *    (and, for a producer, until it returns 0) or the route's on_abort ran.
 *    Never keep it beyond that: the slot is reused by the next client.
 *  - Everything returned by the accessors lives in the connection's buffer
 *    and is valid as long as `req` is, until the reply is given.
 *  - The server has already checked, before any handler runs: the request
 *    line and head limits, the path (percent-decoded, no `..` segment, no
 *    NUL, no backslash: 400), the method against the route (405 + Allow),
 *    and for every method other than GET/HEAD the CSRF rule (an `Origin` or
 *    `Referer` naming another host than `Host` → 403).
 *
 * ---- Memory -------------------------------------------------------------
 *  Per open connection, on the heap: HTTP_IN_SIZE (head + buffered body) +
 *  HTTP_OUT_SIZE (response head + a built body or a producer's chunk) +
 *  HTTP_EXTRA_HEADERS, 6721 bytes; at most HTTP_POOL of them (26.9 KB with
 *  every connection open).  Static per slot: its state, the parsed head
 *  and HTTP_USER_SIZE.
 */
#ifndef OPENPLUG_HTTP_H
#define OPENPLUG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util/json.h"

/* ---- Tunables (lwIP-style: override with -D) ---- */
#ifndef HTTP_POOL
#define HTTP_POOL 4 /* connections served at once (a BL602 has 10 TCP sockets) */
#endif
#define HTTP_REJECT_POOL 4      /* sockets lingering after a 503 or a last response */
/* A request line carries /cm?cmnd=Template%20{…}: an OpenBeken template of
 * 2 KB percent-encoded.  Head and a buffered body share the input buffer:
 * together they are at most HTTP_IN_SIZE - 1 bytes (more → 413). */
#define HTTP_LINE_MAX 3584      /* request line: longer → 414 */
#define HTTP_HEAD_MAX 4096      /* request line + headers: longer → 431 */
#define HTTP_HEADERS_MAX 24     /* header fields kept: more → 431 */
#define HTTP_BODY_MAX 3584      /* a buffered body: longer → 413 */
#define HTTP_IN_SIZE (HTTP_HEAD_MAX + 1)
#define HTTP_OUT_HEAD 320       /* room for the status line and headers */
#define HTTP_OUT_SIZE (HTTP_OUT_HEAD + 2048) /* a built body: up to 2048 bytes */
#define HTTP_EXTRA_HEADERS 256  /* http_add_header() space per response */
#define HTTP_USER_SIZE 64       /* http_user() scratch per request */
#define HTTP_IDLE_MS 15000      /* keep-alive connection with no request */
#define HTTP_REQUEST_MS 10000   /* from a request's first byte to its whole head; then each body read */
#define HTTP_SEND_MS 10000      /* a client that reads nothing of our response this long */
#define HTTP_DEFER_MS 60000     /* a deferred reply must come within this */
#define HTTP_SILENT_RECLAIM_MS 1000 /* a connection silent this long since it opened may be given to a new client */
#define HTTP_SLOW_RECLAIM_MS 2000   /* a request head (or small body) still coming after this: its slot may go to a new client */
#ifndef HTTP_BACKLOG
#define HTTP_BACKLOG 16             /* clients waiting for a connection slot (the listen backlog) */
#endif
#define HTTP_BACKLOG_RECHECK_MS 100 /* while clients wait: look for a slot become reclaimable this often */
#define HTTP_IDLE_RECLAIM_MS 100    /* a keep-alive connection idle this long may be given to a waiting client */
#define HTTP_KEEPALIVE_TURN 16      /* while clients wait, a keep-alive connection closes after this many requests */
#define HTTP_DEFAULT_PORT 80

struct http_request; /* one per pooled connection; opaque */

enum http_method {
    HTTP_GET = 1u << 0,
    HTTP_HEAD = 1u << 1,
    HTTP_POST = 1u << 2,
    HTTP_PUT = 1u << 3,
    HTTP_DELETE = 1u << 4,
    HTTP_OPTIONS = 1u << 5,
};
#define HTTP_ANY 0x3Fu

/* ---- Routes ---- */

typedef void (*http_handler_fn)(struct http_request *req, void *arg);

/* Streamed request body (uploads).  on_data is offered the next bytes of
 * the body (at most what the connection buffer holds); it returns how many
 * it took, 0..len.  Fewer than len: the server stops reading that socket
 * (other connections go on) and offers the rest again only after the
 * handler calls http_resume(req).  When all Content-Length bytes are taken
 * on_end runs and must reply (or defer, see above).  on_abort runs instead
 * if the client goes away or times out first (no reply then).  The route's
 * handler runs first, with the head only: it checks auth / headers and
 * either replies (the body is then discarded and the connection closed) or
 * returns to accept the body. */
struct http_body_stream {
    size_t (*on_data)(struct http_request *req, const uint8_t *data, size_t len, void *arg);
    void (*on_end)(struct http_request *req, void *arg);
    void (*on_abort)(struct http_request *req, void *arg);
};

/* Route flags */
#define HTTP_ROUTE_PREFIX 1u   /* path is a prefix ("/api/files/"); exact match otherwise */
#define HTTP_ROUTE_BODY 2u     /* buffer a body of up to HTTP_BODY_MAX bytes: http_body() */
#define HTTP_ROUTE_STREAM 4u   /* stream the body: set route->stream */

struct http_route {
    struct http_route *next;
    const char *path;
    size_t path_len;  /* set by http_route_add() */
    unsigned methods; /* enum http_method bits */
    unsigned flags;
    http_handler_fn handler;
    void *arg;
    const struct http_body_stream *stream; /* HTTP_ROUTE_STREAM only */
};

/* Register a route (static storage, at start-up, any time before or after
 * http_start()).  An exact path wins over a prefix; among prefixes the
 * longest wins.  Without HTTP_ROUTE_BODY or _STREAM a request with a body
 * gets 413.  HEAD is answered by GET routes (the body is not sent). */
void http_route_add(struct http_route *route, unsigned methods, const char *path, unsigned flags,
                    http_handler_fn handler, void *arg);

/* ---- Reading the request ---- */

enum http_method http_method(const struct http_request *req);
/* The path, percent-decoded, without the query: "/api/state". */
const char *http_path(const struct http_request *req);
/* The raw query after '?', "" when none. */
const char *http_query_raw(const struct http_request *req);
/* A query parameter, percent- and '+'-decoded into out (NUL-terminated).
 * False if absent or if it does not fit (out is then ""). */
bool http_query(const struct http_request *req, const char *name, char *out, size_t size);
/* A header's value (leading/trailing blanks trimmed), by case-insensitive
 * name; NULL when absent. */
const char *http_header(const struct http_request *req, const char *name);
/* Content-Length of the request, 0 when none. */
size_t http_content_length(const struct http_request *req);
/* A buffered body (HTTP_ROUTE_BODY), NUL-terminated; len may be NULL. */
const char *http_body(const struct http_request *req, size_t *len);
/* HTTP_USER_SIZE bytes of per-request scratch, zeroed for each request
 * (aligned for any type): a producer's or a body streamer's state. */
void *http_user(struct http_request *req);
/* Call fn(http_user(req)) once when this request ends, however it ends
 * (answered, or the connection lost): for state holding a heap block. */
typedef void (*http_end_fn)(void *user);
void http_on_end(struct http_request *req, http_end_fn fn);
/* The client's IPv4 address (host order), for logs and rate limits. */
uint32_t http_peer_ip(const struct http_request *req);

/* ---- Replying ---- */

/* Add a response header ("Location", "/"); call before the reply.  Returns
 * false if HTTP_EXTRA_HEADERS is full or the text holds CR/LF. */
bool http_add_header(struct http_request *req, const char *name, const char *value);

/* A whole body from memory, copied (at most HTTP_OUT_SIZE - HTTP_OUT_HEAD
 * bytes; longer: 500).  content_type NULL = no body type (e.g. 204). */
void http_reply(struct http_request *req, int status, const char *content_type, const void *body, size_t len);
/* A JSON text, copied (Content-Type: application/json). */
void http_reply_json(struct http_request *req, int status, const char *json);
/* {"error":"<message>"} with the status. */
void http_reply_error(struct http_request *req, int status, const char *message);
/* Build a JSON reply in place: returns a writer with an open top-level
 * object; add members, then http_reply_json_end() (an overflow → 500). */
struct json_writer *http_reply_json_begin(struct http_request *req, int status);
void http_reply_json_end(struct http_request *req);
/* The same, with the status decided at the end (e.g. 422 after a failure). */
void http_reply_json_end_status(struct http_request *req, int status);

/* A constant blob (flash): sent from where it is, never copied whole. */
struct http_static {
    const uint8_t *data;
    size_t len;
    const char *content_type;
    bool gzip;                 /* data is gzip: Content-Encoding: gzip */
    const char *etag;          /* with its quotes ("\"3f2a\""), or NULL */
    const char *cache_control; /* NULL: "no-cache" (revalidate with the ETag) */
};
/* 200 with the blob, or 304 when If-None-Match names its ETag. */
void http_reply_static(struct http_request *req, const struct http_static *blob);

/* A streamed body of unknown length (chunked).  The producer is called
 * whenever the socket can take more, with room for `cap` bytes: at least
 * 256 while the reply's first buffer fills, HTTP_CHUNK_ROOM after that.
 * It writes up to cap bytes and returns the count, 0 when the body is
 * complete, HTTP_PRODUCE_FULL when its next piece does not fit in cap (it
 * is called again with HTTP_CHUNK_ROOM; a piece larger than that ends the
 * body), or HTTP_PRODUCE_WAIT when it has nothing now (the server then
 * waits for http_resume(req) or http_resume_all(fn)).  Use http_user() for
 * its state.  Server-Sent Events are this with "text/event-stream". */
#define HTTP_PRODUCE_WAIT (-1)
#define HTTP_PRODUCE_FULL (-2)
#define HTTP_CHUNK_ROOM (HTTP_OUT_SIZE - 13) /* the buffer less a chunk's framing */
typedef int (*http_produce_fn)(struct http_request *req, char *buf, size_t cap, void *arg);
void http_reply_stream(struct http_request *req, int status, const char *content_type, http_produce_fn produce,
                       void *arg);

/* Wake a paused body stream or a waiting producer of this request. */
void http_resume(struct http_request *req);
/* Wake every connection whose producer is `produce` (e.g. all SSE
 * clients after an event). */
void http_resume_all(http_produce_fn produce);
/* Requests streaming with this producer now (e.g. SSE clients). */
unsigned http_stream_count(http_produce_fn produce);

/* Close the connection after this response (no keep-alive). */
void http_close_after(struct http_request *req);

/* ---- Security helpers (http_auth.c) ---- */

/* True when the request may read config or change state: no WebPassword
 * is set, or it carries it (Basic auth user "admin", the session cookie of
 * POST /api/login, or on /cm Tasmota's user=admin&password=… query).
 * Otherwise it has replied 401 (WWW-Authenticate: Basic) or 429 (too many
 * failures from this address) and returns false: just return. */
bool http_require_admin(struct http_request *req);
/* True when no Origin/Referer/Sec-Fetch-Site says the request comes from
 * another site (what the server checks itself for non-GET methods). */
bool http_same_origin(const struct http_request *req);
/* Whether a WebPassword is set. */
bool http_password_set(void);
/* Whether a Host header names this plug (the server checks every request:
 * 421 otherwise): an address of it (local_ip: where the client reached
 * it), its name, <name>.local, or a name of WebHosts; no Host: true. */
bool http_host_allowed(const char *host, uint32_t local_ip);

/* ---- The server ---- */

/* Where to listen, before http_start(): IPv4 address in host order
 * (0 = any; the simulator gives 127.0.0.1) and port (0 = any free port,
 * logged).  Defaults: any address, HTTP_DEFAULT_PORT. */
void http_set_listen(uint32_t addr, uint16_t port);
/* Open the listening socket and serve from the loop; logs the URL.
 * A failure is logged and the plug goes on without HTTP. */
void http_start(void);
/* The port listened on (0 when not listening). */
uint16_t http_port(void);

/* Counters for /metrics and tests. */
struct http_stats {
    uint32_t accepted, rejected_memory, requests, errors_4xx, errors_5xx, timeouts, active;
    uint32_t backlog_waits; /* times clients found the pool full and waited in the backlog */
};
void http_get_stats(struct http_stats *out);

/* Reason phrase of a status code ("Not Found"). */
const char *http_status_text(int status);

#endif
