/*
 * http.c — the HTTP/1.1 server: the listening socket, the connection pool,
 * reading requests, dispatching them to routes and sending responses; see
 * http.h.  The head parser is http_parse.c, authentication http_auth.c.
 *
 * Each connection is a small state machine advanced by one poller in the
 * main loop; hal_net_watch() tells the idle wait which sockets matter (read
 * while a request comes in, write while a response goes out, nothing while
 * a body stream is paused or a producer waits).
 */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/net/http_parse.h"
#include "core/net/wifi.h"
#include "core/sched.h"
#include "core/util/heap.h"
#include "hal/hal.h"
#include "hal/hal_net.h"

enum conn_state {
    CONN_FREE = 0,
    CONN_READ_HEAD, /* waiting for (the rest of) a request head */
    CONN_READ_BODY, /* a buffered or streamed body comes in */
    CONN_WAIT,      /* the handler deferred its reply */
    CONN_SEND,      /* the response goes out */
};

/* What a connection holds only while it is open: taken from the heap when
 * its client is accepted, given back when it closes, so idle slots of the
 * pool cost no buffer space (HTTP_POOL of these at most). */
struct http_buffers {
    char in[HTTP_IN_SIZE];
    char out[HTTP_OUT_SIZE];
    char extra[HTTP_EXTRA_HEADERS];
};

struct http_request {
    int fd;
    enum conn_state state;
    uint32_t peer_ip, local_ip;
    uint64_t deadline_ms;
    uint32_t requests_served;
    uint32_t serial; /* changes with every request: "is this still my request?" */
    uint64_t accepted_ms;
    uint64_t started_ms; /* the current request's first byte came (0: none yet) */
    short watching;
    struct http_buffers *buffers; /* NULL while the slot is free */
    char *in, *out, *extra;       /* into buffers */
    /* request */
    size_t in_len, head_len;
    struct http_head head;
    const struct http_route *route;
    size_t body_taken;             /* body bytes consumed (buffered: received) */
    size_t consumed;               /* bytes of `in` that belong to this request */
    size_t stream_off, stream_len; /* streamed body bytes waiting in `in` */
    bool stream_paused, stream_resumed, discard_body;
    /* response */
    size_t out_pos, out_len;
    const uint8_t *blob;
    size_t blob_pos, blob_len;
    http_produce_fn produce;
    void *produce_arg;
    bool producer_waiting, producer_done;
    bool replied, keep_alive, head_only;
    size_t extra_len;
    http_end_fn end_fn; /* http_on_end() */
    _Alignas(8) uint8_t user[HTTP_USER_SIZE];
};

struct reject {
    int fd;
    uint64_t until_ms;
};

static struct http_request pool[HTTP_POOL];
static struct reject rejects[HTTP_REJECT_POOL];
static struct http_route *routes;
static int listen_fd = -1;
static bool listen_paused;   /* pool full, clients wait in the listen backlog */
static bool clients_waiting; /* the last look at the backlog, with the pool full, saw a client */
static uint32_t listen_addr;
static uint16_t listen_port = HTTP_DEFAULT_PORT, bound_port;
static struct sched_poller poller;
static struct http_stats stats;

static void send_pending(struct http_request *c);

/* The time of the server's pass, read once per pass as event loops keep
 * their loop time (a pass takes micro- to milliseconds; deadlines are
 * seconds); outside a pass (a deferred reply) the clock itself. */
static bool in_pass;
static uint64_t pass_ms;
static uint64_t now_ms(void) { return in_pass ? pass_ms : hal_time_ms(); }
static void kick(void);
static void resume_listen(void);

/* ---- Routes ---- */

void http_route_add(struct http_route *route, unsigned methods, const char *path, unsigned flags,
                    http_handler_fn handler, void *arg)
{
    route->path = path;
    route->methods = methods;
    route->flags = flags;
    route->handler = handler;
    route->arg = arg;
    route->path_len = strlen(path);
    route->next = routes;
    routes = route;
}

/* Lengths first: most routes are ruled out without reading a character. */
static inline bool route_matches(const struct http_route *r, const char *path, size_t len)
{
    if (r->flags & HTTP_ROUTE_PREFIX)
        return r->path_len <= len && memcmp(path, r->path, r->path_len) == 0;
    return r->path_len == len && memcmp(path, r->path, len) == 0;
}

/* The exact route, else the longest prefix. */
static const struct http_route *find_route(const char *path)
{
    const struct http_route *best = NULL;
    size_t len = strlen(path);
    for (const struct http_route *r = routes; r; r = r->next) {
        if (!route_matches(r, path, len))
            continue;
        if (!(r->flags & HTTP_ROUTE_PREFIX))
            return r;
        if (!best || r->path_len > best->path_len)
            best = r;
    }
    return best;
}

/* Methods any route of this path answers (for 405's Allow). */
static unsigned methods_for(const char *path, const struct http_route *found)
{
    unsigned methods = 0;
    size_t len = strlen(path);
    for (const struct http_route *r = routes; r; r = r->next)
        if (r == found || (!(r->flags & HTTP_ROUTE_PREFIX) && route_matches(r, path, len)))
            methods |= r->methods;
    if (methods & HTTP_GET)
        methods |= HTTP_HEAD;
    return methods;
}

/* ---- Accessors ---- */

enum http_method http_method(const struct http_request *req) { return req->head.method; }
const char *http_path(const struct http_request *req) { return req->head.path; }
const char *http_query_raw(const struct http_request *req) { return req->head.query; }
bool http_query(const struct http_request *req, const char *name, char *out, size_t size)
{
    return http_query_param(req->head.query, name, out, size);
}
const char *http_header(const struct http_request *req, const char *name)
{
    return http_head_header(&req->head, name);
}
size_t http_content_length(const struct http_request *req) { return req->head.content_length; }
const char *http_body(const struct http_request *req, size_t *len)
{
    if (len)
        *len = req->in ? req->body_taken : 0;
    return req->in ? req->in + req->head_len : "";
}
void http_on_end(struct http_request *req, http_end_fn fn) { req->end_fn = fn; }

void *http_user(struct http_request *req) { return req->user; }
uint32_t http_peer_ip(const struct http_request *req) { return req->peer_ip; }
void http_close_after(struct http_request *req) { req->keep_alive = false; }

/* ---- Socket watching ---- */

static void watch(struct http_request *c, short events)
{
    if (c->watching != events) {
        c->watching = events;
        hal_net_watch(c->fd, events);
    }
}

/* The slot becomes free and its buffers go back to the heap.  A handler
 * that deferred its reply may still hold `c`: the accessors then answer
 * empty, and may_reply() drops its late reply. */
/* The request is over, answered or not: its handler's resources go back. */
static void end_request(struct http_request *c)
{
    http_end_fn fn = c->end_fn;
    c->end_fn = NULL;
    if (fn)
        fn(c->user);
}

static void free_slot(struct http_request *c)
{
    end_request(c);
    heap_give(c->buffers);
    c->buffers = NULL;
    c->in = c->out = c->extra = NULL;
    c->in_len = c->head_len = c->extra_len = 0;
    memset(&c->head, 0, sizeof c->head);
    c->head.path = c->head.query = "";
    c->fd = -1;
    c->serial++;
    c->state = CONN_FREE;
    c->watching = 0;
    c->started_ms = 0;
    stats.active--;
    resume_listen();
}

static void close_conn(struct http_request *c, bool aborted)
{
    if (aborted && c->route && c->route->stream && c->route->stream->on_abort &&
        (c->state == CONN_READ_BODY || c->state == CONN_WAIT) && !c->discard_body)
        c->route->stream->on_abort(c, c->route->arg);
    hal_net_close(c->fd);
    free_slot(c);
}

/* ---- Response heads ---- */

static const char *method_list(unsigned methods, char *buf, size_t size)
{
    static const char *const names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
    size_t n = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 6; i++)
        if (methods & (1u << i))
            n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? ", " : "", names[i]);
    return buf;
}

bool http_add_header(struct http_request *req, const char *name, const char *value)
{
    if (!req->extra || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
        return false;
    size_t need = strlen(name) + strlen(value) + 4;
    if (req->extra_len + need >= HTTP_EXTRA_HEADERS)
        return false;
    req->extra_len += (size_t)snprintf(req->extra + req->extra_len, HTTP_EXTRA_HEADERS - req->extra_len,
                                       "%s: %s\r\n", name, value);
    return true;
}

/* Append printf-style text to out[*n..room); false when it does not fit. */
/* A head is written by copies, not printf: every reply has one, and a
 * formatted one cost more than the Status 8 it carried. */
struct head {
    char *out;
    size_t room, n;
    bool ok;
};

static void add(struct head *h, const char *text, size_t len)
{
    if (!h->ok || h->n + len >= h->room) {
        h->ok = false;
        return;
    }
    memcpy(h->out + h->n, text, len);
    h->n += len;
}

static void add_text(struct head *h, const char *text) { add(h, text, strlen(text)); }
#define ADD_LITERAL(h, text) add(h, text, sizeof text - 1)

static void add_number(struct head *h, unsigned long value)
{
    char digits[20];
    size_t k = sizeof digits;
    do {
        digits[--k] = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    add(h, digits + k, sizeof digits - k);
}

/* Write the status line and headers at out[0..); returns their length, or
 * 0 when they do not fit in `room`.  length: the body's, HTTP_CHUNKED, or
 * HTTP_NO_LENGTH (304). */
#define HTTP_CHUNKED (-1L)
#define HTTP_NO_LENGTH (-2L)
static size_t write_head(struct http_request *c, int status, const char *type, long length, const char *more,
                         size_t room)
{
    struct head h = {c->out, room, 0, true};
    ADD_LITERAL(&h, "HTTP/1.1 ");
    add_number(&h, (unsigned long)status);
    ADD_LITERAL(&h, " ");
    add_text(&h, http_status_text(status));
    ADD_LITERAL(&h, "\r\nServer: OpenPlug\r\n");
    if (type) {
        ADD_LITERAL(&h, "Content-Type: ");
        add_text(&h, type);
        ADD_LITERAL(&h, "\r\n");
    }
    if (length >= 0) {
        ADD_LITERAL(&h, "Content-Length: ");
        add_number(&h, (unsigned long)length);
        ADD_LITERAL(&h, "\r\n");
    } else if (length == HTTP_CHUNKED) {
        ADD_LITERAL(&h, "Transfer-Encoding: chunked\r\n");
    }
    ADD_LITERAL(&h, "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n");
    if (!c->keep_alive)
        ADD_LITERAL(&h, "Connection: close\r\n");
    if (more)
        add_text(&h, more);
    add(&h, c->extra, c->extra_len);
    ADD_LITERAL(&h, "\r\n");
    return h.ok ? h.n : 0;
}

static void count_status(int status)
{
    if (status >= 500)
        stats.errors_5xx++;
    else if (status >= 400)
        stats.errors_4xx++;
}

/* A reply is due: not given yet, and the connection is still there (a
 * late reply to a request whose client went away is dropped). */
static bool may_reply(const struct http_request *c) { return !c->replied && c->state != CONN_FREE && c->fd >= 0; }

/* Before a reply's head is written: a request body not read to its end
 * leaves the connection unusable for another request. */
static void prepare_reply(struct http_request *c)
{
    if (c->body_taken < c->head.content_length)
        c->keep_alive = false;
    /* Clients wait for a slot: a busy keep-alive connection hands its slot
     * on (saying so: Connection: close) after HTTP_KEEPALIVE_TURN requests. */
    if (clients_waiting && c->requests_served + 1 >= HTTP_KEEPALIVE_TURN)
        c->keep_alive = false;
}

/* Start sending: the head and `body_len` bytes after it are in out. */
static void start_send(struct http_request *c, size_t total)
{
    c->replied = true;
    c->out_pos = 0;
    c->out_len = total;
    c->state = CONN_SEND;
    c->deadline_ms = now_ms() + HTTP_SEND_MS;
    send_pending(c);
}

static void reply_internal_error(struct http_request *c);

void http_reply(struct http_request *req, int status, const char *content_type, const void *body, size_t len)
{
    if (!may_reply(req))
        return;
    count_status(status);
    prepare_reply(req);
    if (len > HTTP_OUT_SIZE - HTTP_OUT_HEAD) {
        reply_internal_error(req);
        return;
    }
    const char *cache = status == 304 ? NULL : "Cache-Control: no-store\r\n";
    if (body && body != req->out + HTTP_OUT_HEAD)
        memmove(req->out + HTTP_OUT_HEAD, body, len);
    size_t head = write_head(req, status, content_type, (long)len, cache, HTTP_OUT_HEAD);
    if (!head) {
        req->extra_len = 0; /* the extra headers were too many: drop them */
        head = write_head(req, 500, NULL, 0, NULL, HTTP_OUT_HEAD);
        len = 0;
    }
    memmove(req->out + head, req->out + HTTP_OUT_HEAD, len);
    req->head_only = req->head.method == HTTP_HEAD;
    start_send(req, head + (req->head_only ? 0 : len));
}

void http_reply_json(struct http_request *req, int status, const char *json)
{
    http_reply(req, status, "application/json", json, strlen(json));
}

void http_reply_error(struct http_request *req, int status, const char *message)
{
    struct json_writer *w = http_reply_json_begin(req, status);
    jw_string(w, "error", message);
    http_reply_json_end(req);
}

static void reply_internal_error(struct http_request *c)
{
    c->extra_len = 0;
    c->keep_alive = false;
    static const char body[] = "{\"error\":\"internal error: reply too large\"}";
    http_reply(c, 500, "application/json", body, sizeof body - 1);
}

/* The JSON writer of a reply being built (one per connection). */
static struct json_writer writers[HTTP_POOL];
static int writer_status[HTTP_POOL];

struct json_writer *http_reply_json_begin(struct http_request *req, int status)
{
    size_t i = (size_t)(req - pool);
    if (req->out) /* else the client has gone: build nothing, the reply is dropped */
        jw_init(&writers[i], req->out + HTTP_OUT_HEAD, HTTP_OUT_SIZE - HTTP_OUT_HEAD);
    else
        jw_init(&writers[i], NULL, 0);
    jw_object_begin(&writers[i], NULL);
    writer_status[i] = status;
    return &writers[i];
}

void http_reply_json_end_status(struct http_request *req, int status)
{
    writer_status[req - pool] = status;
    http_reply_json_end(req);
}

void http_reply_json_end(struct http_request *req)
{
    if (!may_reply(req))
        return;
    size_t i = (size_t)(req - pool);
    struct json_writer *w = &writers[i];
    jw_object_end(w);
    if (w->overflow) {
        reply_internal_error(req);
        return;
    }
    http_reply(req, writer_status[i], "application/json", req->out + HTTP_OUT_HEAD, w->len);
}

static bool etag_matches(const char *list, const char *etag)
{
    if (!list || !etag)
        return false;
    if (strcmp(list, "*") == 0)
        return true;
    size_t n = strlen(etag);
    for (const char *p = strstr(list, etag); p; p = strstr(p + 1, etag))
        if ((p == list || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/') && (p[n] == '\0' || p[n] == ',' || p[n] == ' '))
            return true;
    return false;
}

void http_reply_static(struct http_request *req, const struct http_static *blob)
{
    if (!may_reply(req))
        return;
    prepare_reply(req);
    char more[160];
    snprintf(more, sizeof more, "%s%s%s%sCache-Control: %s\r\n", blob->gzip ? "Content-Encoding: gzip\r\n" : "",
             blob->etag ? "ETag: " : "", blob->etag ? blob->etag : "", blob->etag ? "\r\n" : "",
             blob->cache_control ? blob->cache_control : "no-cache");
    if (etag_matches(http_header(req, "If-None-Match"), blob->etag)) {
        start_send(req, write_head(req, 304, NULL, HTTP_NO_LENGTH, more, HTTP_OUT_SIZE));
        return;
    }
    size_t head = write_head(req, 200, blob->content_type, (long)blob->len, more, HTTP_OUT_SIZE);
    if (!head) {
        reply_internal_error(req);
        return;
    }
    req->head_only = req->head.method == HTTP_HEAD;
    if (!req->head_only) {
        req->blob = blob->data;
        req->blob_pos = 0;
        req->blob_len = blob->len;
    }
    start_send(req, head);
}

/* "XXXX\r\n" before a chunk of at most 0xFFFF bytes and "\r\n" after it. */
#define CHUNK_PREFIX 6
#define CHUNK_FRAMING (CHUNK_PREFIX + 2)
_Static_assert(CHUNK_PREFIX + HTTP_CHUNK_ROOM + 2 <= HTTP_OUT_SIZE, "a whole chunk fits the buffer with its framing");

/* A chunk's size line for n bytes ("1f4\r\n"), at the end of line[];
 * returns its length. */
static size_t chunk_size_line(char line[CHUNK_PREFIX], size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t k = CHUNK_PREFIX - 2;
    line[k] = '\r', line[k + 1] = '\n';
    do
        line[--k] = hex[n & 15];
    while ((n >>= 4) != 0);
    return CHUNK_PREFIX - k;
}

void http_reply_stream(struct http_request *req, int status, const char *content_type, http_produce_fn produce,
                       void *arg)
{
    if (!may_reply(req))
        return;
    /* Most bodies are done within one buffer: those go out whole with
     * their length, in one send and without chunk framing. */
    char *body = req->out + HTTP_OUT_HEAD;
    size_t len = 0, cap = HTTP_OUT_SIZE - HTTP_OUT_HEAD - CHUNK_FRAMING;
    int n = HTTP_PRODUCE_WAIT;
    if (req->head.method != HTTP_HEAD) /* until done, waiting, full or near the end */
        while (cap - len >= 256 && (n = produce(req, body + len, cap - len, arg)) > 0)
            len += (size_t)n;
    if (n == 0) {
        http_reply(req, status, content_type, body, len);
        return;
    }
    prepare_reply(req);
    count_status(status);
    size_t head = write_head(req, status, content_type, HTTP_CHUNKED, "Cache-Control: no-store\r\n", HTTP_OUT_HEAD);
    if (!head) {
        reply_internal_error(req);
        return;
    }
    req->head_only = req->head.method == HTTP_HEAD;
    if (!req->head_only) {
        req->produce = produce;
        req->produce_arg = arg;
        req->producer_done = false;
        req->producer_waiting = false;
    }
    if (len) { /* what the producer wrote so far: the first chunk, right after the head */
        char line[CHUNK_PREFIX];
        size_t line_len = chunk_size_line(line, len);
        memmove(req->out + head + line_len, body, len);
        memcpy(req->out + head, line + CHUNK_PREFIX - line_len, line_len);
        head += line_len + len;
        memcpy(req->out + head, "\r\n", 2);
        head += 2;
    }
    start_send(req, head);
}

void http_resume(struct http_request *req)
{
    if (req->state == CONN_SEND && req->producer_waiting) {
        req->producer_waiting = false;
        req->deadline_ms = now_ms() + HTTP_SEND_MS; /* the client must take what comes */
        watch(req, POLLOUT);
        kick();
    }
    if (req->state == CONN_READ_BODY && req->stream_paused) {
        req->stream_resumed = true;
        kick();
    }
}

void http_resume_all(http_produce_fn produce)
{
    for (int i = 0; i < HTTP_POOL; i++)
        if (pool[i].state == CONN_SEND && pool[i].produce == produce)
            http_resume(&pool[i]);
}

unsigned http_stream_count(http_produce_fn produce)
{
    unsigned n = 0;
    for (int i = 0; i < HTTP_POOL; i++)
        n += pool[i].state == CONN_SEND && pool[i].produce == produce && !pool[i].producer_done;
    return n;
}

/* ---- Sending ---- */

static bool would_block(void) { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

/* Send what we can of buf; returns bytes sent, or -1 when the connection
 * is dead. */
static long send_some(struct http_request *c, const void *buf, size_t len)
{
    long n = (long)send(c->fd, buf, len, MSG_NOSIGNAL);
    if (n < 0)
        return would_block() ? 0 : -1;
    if (n > 0)
        c->deadline_ms = now_ms() + HTTP_SEND_MS;
    return n;
}

/* Fill out with the producer's next chunk (chunked framing). */
static void produce_chunk(struct http_request *c)
{
    int n = c->produce(c, c->out + CHUNK_PREFIX, HTTP_CHUNK_ROOM, c->produce_arg);
    if (n == HTTP_PRODUCE_WAIT) {
        c->producer_waiting = true;
        return;
    }
    if (n <= 0) { /* complete, or HTTP_PRODUCE_FULL with a whole chunk: nothing more can come */
        c->producer_done = true;
        memcpy(c->out, "0\r\n\r\n", 5);
        c->out_pos = 0;
        c->out_len = 5;
        return;
    }
    char line[CHUNK_PREFIX];
    size_t line_len = chunk_size_line(line, (size_t)n);
    c->out_pos = CHUNK_PREFIX - line_len;
    memcpy(c->out + c->out_pos, line + c->out_pos, line_len);
    memcpy(c->out + CHUNK_PREFIX + (size_t)n, "\r\n", 2);
    c->out_len = CHUNK_PREFIX + (size_t)n + 2;
}

static void finish_response(struct http_request *c);

static void send_pending(struct http_request *c)
{
    for (;;) {
        if (c->out_pos < c->out_len) {
            long n = send_some(c, c->out + c->out_pos, c->out_len - c->out_pos);
            if (n < 0) {
                close_conn(c, true);
                return;
            }
            c->out_pos += (size_t)n;
            if (c->out_pos < c->out_len) {
                watch(c, POLLOUT);
                return;
            }
        } else if (c->blob && c->blob_pos < c->blob_len) {
            long n = send_some(c, c->blob + c->blob_pos, c->blob_len - c->blob_pos);
            if (n < 0) {
                close_conn(c, true);
                return;
            }
            c->blob_pos += (size_t)n;
            if (c->blob_pos < c->blob_len) {
                watch(c, POLLOUT);
                return;
            }
        } else if (c->produce && !c->producer_done) {
            produce_chunk(c);
            if (c->producer_waiting) {
                watch(c, 0);
                c->deadline_ms = 0; /* a waiting stream has no send deadline */
                return;
            }
        } else {
            finish_response(c);
            return;
        }
    }
}

/* ---- Closing ---- */

/* Half-close, then read and drop what the client still sends for a moment
 * before closing: closing with unread input would reset the connection,
 * and the client might lose our last response (a 503, a 431 …). */
static void linger_close(int fd)
{
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < HTTP_REJECT_POOL; i++) {
        if (rejects[i].fd < 0) {
            rejects[i] = (struct reject){fd, now_ms() + 1000};
            hal_net_watch(fd, POLLIN);
            return;
        }
    }
    hal_net_close(fd);
}

/* ---- Requests ---- */

static void reset_request(struct http_request *c)
{
    c->serial++;
    c->head_len = 0;
    c->route = NULL;
    c->body_taken = 0;
    c->stream_off = c->stream_len = 0;
    c->stream_paused = c->stream_resumed = c->discard_body = false;
    c->out_pos = c->out_len = 0;
    c->blob = NULL;
    c->blob_pos = c->blob_len = 0;
    c->produce = NULL;
    c->producer_waiting = c->producer_done = false;
    c->replied = c->head_only = false;
    c->extra_len = 0;
    c->keep_alive = true;
    end_request(c);
    memset(c->user, 0, sizeof c->user);
    memset(&c->head, 0, sizeof c->head);
}

static void serve_head(struct http_request *c, size_t head_len);

static void finish_response(struct http_request *c)
{
    if (!c->keep_alive) {
        int fd = c->fd;
        hal_net_watch(fd, 0);
        free_slot(c);
        linger_close(fd);
        return;
    }
    /* Keep what a pipelining client already sent of its next request. */
    size_t used = c->consumed < c->in_len ? c->consumed : c->in_len;
    size_t left = used < c->in_len ? c->in_len - used : 0;
    memmove(c->in, c->in + used, left);
    c->in_len = left;
    c->requests_served++;
    c->started_ms = left ? now_ms() : 0;
    reset_request(c);
    c->state = CONN_READ_HEAD;
    c->deadline_ms = now_ms() + HTTP_IDLE_MS;
    watch(c, POLLIN);
    resume_listen(); /* idle now: a client waiting in the backlog may take it */
    if (left)
        kick(); /* the next request may be here already: serve it next turn */
}

/* Answer an error found before any handler, and close after it. */
static void reject_request(struct http_request *c, int status, const char *message)
{
    c->keep_alive = false;
    http_reply_error(c, status, message);
}

static void run_handler(struct http_request *c)
{
    c->state = CONN_WAIT;
    c->deadline_ms = now_ms() + HTTP_DEFER_MS;
    watch(c, 0);
    c->route->handler(c, c->route->arg);
}

static void take_buffered_body(struct http_request *c);
static void take_streamed_body(struct http_request *c);

/* Checks common to every route, in the order a client would want them. */
static const char *refuse(struct http_request *c, int *status)
{
    const char *path = c->head.path;
    if (!http_host_allowed(http_header(c, "Host"), c->local_ip)) {
        *status = 421;
        return "this plug does not answer to that host name (WebHosts adds names)";
    }
    const struct http_route *route = find_route(path);
    if (!route) {
        *status = 404;
        return "no such page";
    }
    unsigned want = c->head.method == HTTP_HEAD ? HTTP_GET : c->head.method;
    unsigned allowed = route->methods & want ? want : methods_for(path, route); /* the usual case: no search */
    if (!(allowed & c->head.method) && !(c->head.method == HTTP_HEAD && (allowed & HTTP_GET))) {
        char list[48];
        http_add_header(c, "Allow", method_list(allowed, list, sizeof list));
        *status = 405;
        return "method not allowed";
    }
    /* Another route of the path for this method (a HEAD on a GET route: the
     * GET route answers). */
    size_t path_len = strlen(path);
    for (const struct http_route *r = routes; r && !(route->methods & want); r = r->next)
        if (route_matches(r, path, path_len) && (r->methods & (c->head.method == HTTP_HEAD ? HTTP_GET : c->head.method)))
            if (r == route || !(r->flags & HTTP_ROUTE_PREFIX)) {
                route = r;
                break;
            }
    c->route = route;
    if (!(c->head.method & (HTTP_GET | HTTP_HEAD | HTTP_OPTIONS)) && !http_same_origin(c)) {
        *status = 403;
        return "cross-site request refused";
    }
    if (c->head.chunked) {
        *status = 411;
        return "send a Content-Length (chunked request bodies are not taken)";
    }
    size_t length = c->head.content_length;
    if (length && !(route->flags & (HTTP_ROUTE_BODY | HTTP_ROUTE_STREAM))) {
        *status = 413;
        return "this resource takes no request body";
    }
    if ((length > HTTP_BODY_MAX || c->head_len + length + 1 > HTTP_IN_SIZE) && (route->flags & HTTP_ROUTE_BODY)) {
        *status = 413;
        return "request body too large";
    }
    return NULL;
}

static void serve_head(struct http_request *c, size_t head_len)
{
    c->head_len = head_len;
    c->consumed = c->head_len;
    stats.requests++;
    int status = http_parse_head(c->in, c->head_len, &c->head);
    if (status) {
        const char *message = status == 414   ? "request line too long"
                              : status == 431 ? "request head too large"
                              : status == 501 ? "method not implemented"
                              : status == 505 ? "HTTP version not supported"
                                              : "malformed request";
        reject_request(c, status, message);
        return;
    }
    const char *problem = refuse(c, &status);
    if (problem) {
        /* The connection stays usable unless a body we did not read follows. */
        c->keep_alive = c->head.keep_alive && !c->head.content_length && !c->head.chunked;
        http_reply_error(c, status, problem);
        return;
    }
    c->keep_alive = c->head.keep_alive;
    if (c->route->flags & HTTP_ROUTE_BODY) {
        c->state = CONN_READ_BODY;
        c->deadline_ms = now_ms() + HTTP_REQUEST_MS;
        take_buffered_body(c);
    } else if ((c->route->flags & HTTP_ROUTE_STREAM) && c->route->stream) {
        uint32_t serial = c->serial;
        run_handler(c);
        if (c->serial != serial || c->replied)
            return; /* refused (the body is not read: the connection closes) */
        c->state = CONN_READ_BODY;
        c->deadline_ms = now_ms() + HTTP_REQUEST_MS;
        c->stream_off = c->head_len;
        c->stream_len = c->in_len - c->head_len;
        if (c->stream_len > c->head.content_length) { /* a request pipelined after an upload: not kept */
            c->stream_len = c->head.content_length;
            c->keep_alive = false;
        }
        take_streamed_body(c);
    } else {
        run_handler(c);
    }
}

static void take_buffered_body(struct http_request *c)
{
    size_t want = c->head.content_length;
    size_t have = c->in_len - c->head_len;
    c->body_taken = have < want ? have : want;
    if (c->body_taken < want) {
        watch(c, POLLIN);
        return;
    }
    /* NUL-terminate the body; pipelined bytes after it move up one. */
    char *end = c->in + c->head_len + want;
    size_t after = c->in_len - c->head_len - want;
    if (c->in_len + 1 > HTTP_IN_SIZE) {
        after = 0; /* no room: drop what was pipelined */
        c->in_len = c->head_len + want;
        c->keep_alive = false;
    }
    memmove(end + 1, end, after);
    *end = '\0';
    c->in_len++;
    c->consumed = c->head_len + want + 1;
    run_handler(c);
}

/* Offer buffered body bytes to the handler; read more when all are taken. */
static void take_streamed_body(struct http_request *c)
{
    const struct http_body_stream *s = c->route->stream;
    while (c->stream_len && !c->stream_paused) {
        size_t took = s->on_data(c, (const uint8_t *)c->in + c->stream_off, c->stream_len, c->route->arg);
        if (c->state != CONN_READ_BODY)
            return; /* the handler replied (refused) or the connection closed */
        if (took > c->stream_len)
            took = c->stream_len;
        c->stream_off += took;
        c->stream_len -= took;
        c->body_taken += took;
        if (c->stream_len)
            c->stream_paused = true;
    }
    if (c->stream_paused) {
        watch(c, 0);
        c->deadline_ms = 0; /* the handler sets the pace */
        return;
    }
    if (c->body_taken == c->head.content_length) {
        c->in_len = c->consumed = 0; /* nothing of this request is needed any more */
        c->state = CONN_WAIT;
        c->deadline_ms = now_ms() + HTTP_DEFER_MS;
        watch(c, 0);
        s->on_end(c, c->route->arg);
        return;
    }
    c->stream_off = c->head_len;
    c->in_len = c->head_len;
    watch(c, POLLIN);
}

/* ---- Reading ---- */

/* Read what the socket has into `in` (up to `limit` bytes in all); false
 * when the connection is closed or broken (and then closed here). */
static bool read_into(struct http_request *c, size_t limit)
{
    if (c->in_len >= limit)
        return true;
    long n = (long)recv(c->fd, c->in + c->in_len, limit - c->in_len, 0);
    if (n == 0 || (n < 0 && !would_block())) {
        close_conn(c, true);
        return false;
    }
    if (n > 0)
        c->in_len += (size_t)n;
    return true;
}

static void read_head(struct http_request *c)
{
    size_t before = c->in_len;
    size_t head_len = http_head_length(c->in, c->in_len); /* a pipelined request may be here already */
    if (!head_len) {
        if (!read_into(c, HTTP_HEAD_MAX))
            return;
        head_len = http_head_length(c->in, c->in_len);
    }
    if (before == 0 && c->in_len > 0) {
        c->started_ms = now_ms();
        c->deadline_ms = c->started_ms + HTTP_REQUEST_MS; /* a request started: it has this long */
    }
    if (head_len) {
        serve_head(c, head_len);
    } else if (http_line_too_long(c->in, c->in_len)) {
        stats.requests++;
        reject_request(c, 414, "request line too long");
    } else if (c->in_len >= HTTP_HEAD_MAX) {
        stats.requests++;
        reject_request(c, 431, "request head too large");
    }
}

static void read_body(struct http_request *c)
{
    if (c->route->flags & HTTP_ROUTE_BODY) {
        size_t before = c->in_len;
        if (!read_into(c, c->head_len + c->head.content_length))
            return;
        if (c->in_len > before)
            c->deadline_ms = now_ms() + HTTP_REQUEST_MS;
        take_buffered_body(c);
        return;
    }
    if (c->stream_paused) {
        if (!c->stream_resumed)
            return;
        c->stream_paused = c->stream_resumed = false;
        c->deadline_ms = now_ms() + HTTP_REQUEST_MS;
        take_streamed_body(c);
        return;
    }
    size_t left = c->head.content_length - c->body_taken;
    size_t room = HTTP_IN_SIZE - 1 - c->head_len;
    if (!read_into(c, c->head_len + (left < room ? left : room)))
        return;
    if (c->in_len > c->head_len) {
        c->deadline_ms = now_ms() + HTTP_REQUEST_MS;
        c->stream_off = c->head_len;
        c->stream_len = c->in_len - c->head_len;
        take_streamed_body(c);
    }
}

/* ---- Timeouts ---- */

static void check_deadline(struct http_request *c, uint64_t now)
{
    if (!c->deadline_ms || now < c->deadline_ms)
        return;
    if (c->state == CONN_READ_HEAD && c->in_len == 0) {
        close_conn(c, false); /* an idle keep-alive connection: just close */
        return;
    }
    stats.timeouts++;
    if (c->state == CONN_READ_HEAD || (c->state == CONN_READ_BODY && !c->replied)) {
        if (c->state == CONN_READ_BODY && c->route && c->route->stream && c->route->stream->on_abort)
            c->route->stream->on_abort(c, c->route->arg);
        c->discard_body = true; /* on_abort done */
        c->state = CONN_READ_HEAD;
        reject_request(c, 408, "request timed out");
        return;
    }
    if (c->state == CONN_WAIT) {
        LOG_ERR("HTTP", "%s: no reply within %d s", c->head.path, HTTP_DEFER_MS / 1000);
        if (c->route && c->route->stream && c->route->stream->on_abort)
            c->route->stream->on_abort(c, c->route->arg);
        c->discard_body = true;
        reply_internal_error(c);
        return;
    }
    close_conn(c, true); /* a client that stopped reading our response */
}

/* ---- Accepting ---- */

/* Input (or the end of the stream) waits on fd. */
static bool has_input(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0;
}

/* A connection to give to a client waiting in the listen backlog, or
 * NULL: one idle between keep-alive requests for HTTP_IDLE_RECLAIM_MS (a
 * browser's after its page has loaded; not one of a client that sends
 * its next request at once: those hand their slot on after
 * HTTP_KEEPALIVE_TURN requests, see prepare_reply()), one that has sent nothing
 * for a second since it opened (a browser's speculative pre-connection),
 * or one whose request head (or small buffered body) has been coming for
 * longer than HTTP_SLOW_RECLAIM_MS — a slow client loses its slot to a new
 * one, so trickling sockets never lock the owner out.  Idle ones first,
 * then the slowest; each group oldest first.  Event streams, uploads and
 * requests being answered keep theirs (web_events.c leaves a slot free of
 * streams). */
static struct http_request *reclaimable_slot(uint64_t now)
{
    struct http_request *best = NULL;
    int best_rank = 0;
    uint64_t best_since = 0;
    for (int i = 0; i < HTTP_POOL; i++) {
        struct http_request *c = &pool[i];
        int rank = 0;
        uint64_t since = 0;
        bool reading = c->state == CONN_READ_HEAD ||
                       (c->state == CONN_READ_BODY && c->route && (c->route->flags & HTTP_ROUTE_BODY));
        if (c->state == CONN_READ_HEAD && c->in_len == 0 && c->requests_served > 0 &&
            now + HTTP_IDLE_MS >= c->deadline_ms + HTTP_IDLE_RECLAIM_MS)
            rank = 3, since = c->deadline_ms;
        else if (c->state == CONN_READ_HEAD && c->in_len == 0 && now - c->accepted_ms >= HTTP_SILENT_RECLAIM_MS)
            rank = 2, since = c->accepted_ms;
        else if (reading && c->started_ms && now - c->started_ms >= HTTP_SLOW_RECLAIM_MS)
            rank = 1, since = c->started_ms;
        if (rank >= 2 && has_input(c->fd))
            rank = 0; /* its next request (or its close) is already here: not idle */
        if (rank > best_rank || (rank && rank == best_rank && since < best_since))
            best = c, best_rank = rank, best_since = since;
    }
    if (best && best_rank == 1) {
        stats.timeouts++;
        LOG_DBG("HTTP", "a slow request gives its connection to a waiting client");
    }
    return best;
}

/* 503 at once, without a slot or its buffers, then close (only when the
 * heap cannot give a connection its buffers). */
static void reject_busy(int fd, const char *why)
{
    char busy[240];
    char body[96];
    int body_len = snprintf(body, sizeof body, "{\"error\":\"busy: %s, retry\"}\n", why);
    int len = snprintf(busy, sizeof busy,
                       "HTTP/1.1 503 Service Unavailable\r\nServer: OpenPlug\r\nContent-Type: application/json\r\n"
                       "Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s",
                       body_len, body);
    stats.errors_5xx++;
    (void)!send(fd, busy, (size_t)len, MSG_NOSIGNAL);
    linger_close(fd);
}

/* ---- The listen backlog ----
 *
 * A client that finds every slot busy is not accepted: it waits in the
 * listen backlog (HTTP_BACKLOG) until a slot frees or becomes reclaimable.
 * Meanwhile the listening socket is not watched (its readiness would wake
 * every idle wait); it is looked at again when a slot frees, and every
 * HTTP_BACKLOG_RECHECK_MS for a slot that has become reclaimable. */

static struct sched_timer recheck_timer;

static void pause_listen(void)
{
    if (!listen_paused) {
        listen_paused = true;
        hal_net_watch(listen_fd, 0);
    }
    if (!recheck_timer.armed)
        sched_timer_start(&recheck_timer, HTTP_BACKLOG_RECHECK_MS, 0);
}

static void resume_listen(void)
{
    if (!listen_paused || listen_fd < 0)
        return;
    listen_paused = false;
    sched_timer_stop(&recheck_timer);
    hal_net_watch(listen_fd, POLLIN);
}

static void recheck_fn(void *arg)
{
    (void)arg;
    resume_listen(); /* the next idle wait says whether a client still waits */
}

/* Is a client in the backlog now?  Asked before a slot is taken from
 * someone, which cannot be undone. */
static bool client_waiting(void)
{
    struct pollfd p = {.fd = listen_fd, .events = POLLIN};
    return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* Clients wait in the backlog (`pending`: the listening socket is ready). */
static void accept_clients(bool pending)
{
    for (;;) {
        struct http_request *c = NULL;
        for (int i = 0; i < HTTP_POOL && !c; i++)
            if (pool[i].state == CONN_FREE)
                c = &pool[i];
        if (!c) {
            if (!pending || !(clients_waiting = client_waiting()))
                return; /* (a readiness seen before the last accept: nobody waits) */
            if ((c = reclaimable_slot(now_ms())) == NULL) {
                stats.backlog_waits++;
                pause_listen();
                return;
            }
            close_conn(c, false);
        }
        pending = false;
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof peer;
        int fd = accept(listen_fd, (struct sockaddr *)&peer, &peer_len);
        if (fd < 0) {
            clients_waiting = false; /* the backlog is empty */
            return;
        }
        if (hal_net_set_nonblocking(fd) != HAL_OK) {
            hal_net_close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        stats.accepted++;
        c->buffers = heap_take(sizeof *c->buffers);
        if (!c->buffers) {
            stats.rejected_memory++;
            reject_busy(fd, "out of memory");
            continue;
        }
        c->in = c->buffers->in;
        c->out = c->buffers->out;
        c->extra = c->buffers->extra;
        c->fd = fd;
        c->peer_ip = ntohl(peer.sin_addr.s_addr);
        struct sockaddr_in local;
        socklen_t local_len = sizeof local;
        c->local_ip = getsockname(fd, (struct sockaddr *)&local, &local_len) == 0 ? ntohl(local.sin_addr.s_addr) : 0;
        c->in_len = 0;
        c->requests_served = 0;
        c->accepted_ms = now_ms();
        c->started_ms = 0;
        c->watching = 0;
        reset_request(c);
        c->state = CONN_READ_HEAD;
        c->deadline_ms = now_ms() + HTTP_REQUEST_MS;
        stats.active++;
        watch(c, POLLIN);
    }
}

static void serve_rejects(uint64_t now, bool all)
{
    char sink[64];
    for (int i = 0; i < HTTP_REJECT_POOL; i++) {
        struct reject *r = &rejects[i];
        if (r->fd < 0 || (!all && !hal_net_ready(r->fd) && now < r->until_ms))
            continue;
        long n;
        while ((n = (long)recv(r->fd, sink, sizeof sink, 0)) > 0)
            ;
        if (n == 0 || (n < 0 && !would_block()) || now >= r->until_ms) {
            hal_net_close(r->fd);
            r->fd = -1;
        }
    }
}

/* ---- The loop ---- */

static void service(struct http_request *c)
{
    switch (c->state) {
    case CONN_READ_HEAD: read_head(c); break;
    case CONN_READ_BODY: read_body(c); break;
    case CONN_SEND:
        if (!c->producer_waiting)
            send_pending(c);
        break;
    case CONN_WAIT:
    case CONN_FREE: break;
    }
}

/* One pass over the server.  `all`: serve every connection whether or
 * not the idle wait saw its socket ready (work waits in our own buffers:
 * a pipelined request, a resumed upload or producer). */
static void serve(bool all)
{
    if (listen_fd < 0)
        return;
    pass_ms = hal_time_ms();
    in_pass = true;
    short ready = listen_paused ? 0 : hal_net_ready(listen_fd);
    if (all || ready)
        accept_clients(ready != 0);
    serve_rejects(pass_ms, all);
    for (int i = 0; i < HTTP_POOL; i++) {
        struct http_request *c = &pool[i];
        if (c->state == CONN_FREE)
            continue;
        if (all || hal_net_ready(c->fd))
            service(c);
        if (c->state != CONN_FREE)
            check_deadline(c, pass_ms);
    }
    in_pass = false;
}

/* Every loop turn: only sockets seen ready cost a system call. */
static void poll_http(void *arg)
{
    (void)arg;
    serve(false);
}

static struct sched_timer kick_timer;

static void kick_fn(void *arg)
{
    (void)arg;
    serve(true);
}

/* Serve again at once (work is waiting in our buffers, not in a socket). */
static void kick(void)
{
    if (!kick_timer.armed)
        sched_timer_start(&kick_timer, 0, 0);
}

void http_set_listen(uint32_t addr, uint16_t port)
{
    listen_addr = addr;
    listen_port = port;
}

uint16_t http_port(void) { return bound_port; }

static int open_listener(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(listen_port),
                               .sin_addr.s_addr = htonl(listen_addr)};
    socklen_t len = sizeof addr;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, HTTP_BACKLOG) != 0 ||
        hal_net_set_nonblocking(fd) != HAL_OK || getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        hal_net_close(fd);
        return -1;
    }
    bound_port = ntohs(addr.sin_port);
    return fd;
}

void http_start(void)
{
    for (int i = 0; i < HTTP_POOL; i++) {
        pool[i].fd = -1;
        pool[i].head.path = pool[i].head.query = "";
    }
    for (int i = 0; i < HTTP_REJECT_POOL; i++)
        rejects[i].fd = -1;
    listen_fd = open_listener();
    if (listen_fd < 0) {
        LOG_ERR("HTTP", "cannot listen on port %u (%d): web server off", listen_port, errno);
        return;
    }
    hal_net_watch(listen_fd, POLLIN);
    sched_timer_init(&kick_timer, kick_fn, NULL);
    sched_timer_init(&recheck_timer, recheck_fn, NULL);
    sched_poller_add(&poller, poll_http, NULL);
    char address[16];
    wifi_ip_text(listen_addr, address);
    LOG_INF("HTTP", "web server on http://%s:%u/ (%d connections)", address, (unsigned)bound_port, HTTP_POOL);
}

void http_get_stats(struct http_stats *out) { *out = stats; }

const char *http_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
    }
}
