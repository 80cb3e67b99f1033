/*
 * test_http.c — the route API of src/core/net/http.h as other modules use
 * it, on real sockets (127.0.0.1) with the loop turned by hand: a constant
 * blob (gzip, ETag, 304, HEAD) larger than any buffer, a streamed upload
 * whose handler takes bytes at its own pace (back-pressure) while another
 * client is served, a producer that waits and is resumed, one whose piece
 * needs a whole chunk, prefix routes, a deferred reply and the abort of an
 * upload.  Also the parser's decoders.
 * Host only: the RV32 build has no socket layer yet.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/net/http.h"
#include "core/net/http_parse.h"
#include "core/sched.h"
#include "core/util/heap.h"
#include "fake_hal.h"
#include "hal/hal_net.h"
#include "harness.h"

/* ---- A client on a non-blocking socket, served by turning the loop ---- */

struct client {
    int fd;
    const char *out;
    size_t out_len, out_pos;
    char in[65536];
    size_t in_len;
    bool closed;
};

static void client_open(struct client *c, const char *request, size_t len)
{
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(http_port()),
                               .sin_addr.s_addr = htonl(0x7F000001)};
    CHECK(connect(c->fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->out = request;
    c->out_len = len;
}

/* One step: send what we can, turn the loop once, read what came. */
static void client_step(struct client *c)
{
    if (c->out_pos < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_pos, c->out_len - c->out_pos, MSG_NOSIGNAL);
        if (n > 0)
            c->out_pos += (size_t)n;
    }
    sched_run_once(0);
    while (!c->closed && c->in_len < sizeof c->in - 1) {
        ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - 1 - c->in_len, 0);
        if (n == 0)
            c->closed = true;
        if (n <= 0)
            break;
        c->in_len += (size_t)n;
    }
    c->in[c->in_len] = '\0';
}

/* Requests say "Connection: close": the response ends when the server closes. */
static void client_run(struct client *c, int max_steps)
{
    for (int i = 0; i < max_steps && !c->closed; i++)
        client_step(c);
    close(c->fd);
}

static const char *body_of(const struct client *c)
{
    const char *b = strstr(c->in, "\r\n\r\n");
    return b ? b + 4 : "";
}

/* ---- Routes under test ---- */

static uint8_t blob_data[10000];
static const struct http_static blob = {blob_data, sizeof blob_data, "application/javascript", true, "\"v1\"",
                                        "max-age=3600"};
static struct http_route blob_route, upload_route, count_route, files_route, file_exact_route, defer_route;

static void serve_blob(struct http_request *req, void *arg)
{
    (void)arg;
    http_reply_static(req, &blob);
}

/* Upload: takes at most 100 bytes per call and pauses after every call
 * until the test resumes it. */
static struct {
    size_t received;
    uint32_t sum;
    bool paused, ended, aborted;
    struct http_request *req;
} up;

static void upload_head(struct http_request *req, void *arg)
{
    (void)arg;
    up.req = req;
    if (http_content_length(req) > 1000000)
        http_reply_error(req, 413, "too big");
}

static size_t upload_data(struct http_request *req, const uint8_t *data, size_t len, void *arg)
{
    (void)req;
    (void)arg;
    if (up.paused)
        return 0;
    size_t take = len < 100 ? len : 100;
    for (size_t i = 0; i < take; i++)
        up.sum = up.sum * 31 + data[i];
    up.received += take;
    up.paused = true;
    return take;
}

static void upload_end(struct http_request *req, void *arg)
{
    (void)arg;
    up.ended = true;
    char text[64];
    snprintf(text, sizeof text, "{\"bytes\":%zu,\"sum\":%u}", up.received, (unsigned)up.sum);
    http_reply_json(req, 200, text);
}

static void upload_abort(struct http_request *req, void *arg)
{
    (void)req;
    (void)arg;
    up.aborted = true;
}

static const struct http_body_stream upload_stream = {upload_data, upload_end, upload_abort};

/* Producer: lines "0\n" .. "1999\n", waiting after every chunk. */
static bool count_waiting;
static int produce_count(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    int *next = http_user(req);
    if (*next >= 2000)
        return 0;
    if (count_waiting)
        return HTTP_PRODUCE_WAIT;
    size_t n = 0;
    while (*next < 2000 && n + 8 < cap && n < 300)
        n += (size_t)snprintf(buf + n, cap - n, "%d\n", (*next)++);
    count_waiting = true;
    return (int)n;
}

static void serve_count(struct http_request *req, void *arg)
{
    (void)arg;
    http_reply_stream(req, 200, "text/plain", produce_count, NULL);
}

/* Producer: pieces written whole or not at all, 1500 bytes of 'a', 'b' …
 * 'e', then one larger than a whole chunk (which ends the body). */
static int produce_pieces(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    int *next = http_user(req);
    size_t n = 0;
    for (; *next <= 5; ++*next) {
        size_t size = *next < 5 ? 1500 : HTTP_CHUNK_ROOM + 1;
        if (size > cap - n)
            return n ? (int)n : HTTP_PRODUCE_FULL;
        memset(buf + n, 'a' + *next, size);
        n += size;
    }
    return (int)n;
}

static void serve_pieces(struct http_request *req, void *arg)
{
    (void)arg;
    http_reply_stream(req, 200, "text/plain", produce_pieces, NULL);
}

static void serve_files(struct http_request *req, void *arg)
{
    char text[80];
    snprintf(text, sizeof text, "{\"route\":\"%s\",\"path\":\"%s\"}", (const char *)arg, http_path(req));
    http_reply_json(req, 200, text);
}

/* Producer: 'x' without end (a client that stops reading fills its socket). */
static int produce_endless(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)req;
    (void)arg;
    memset(buf, 'x', cap);
    return (int)cap;
}

static void serve_endless(struct http_request *req, void *arg)
{
    (void)arg;
    http_reply_stream(req, 200, "text/plain", produce_endless, NULL);
}

static struct http_request *deferred;
static void serve_defer(struct http_request *req, void *arg)
{
    (void)arg;
    deferred = req; /* reply later */
}

/* ---- Tests ---- */

static void test_static_blob(void)
{
    struct client c;
    static const char get[] = "GET /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    client_open(&c, get, sizeof get - 1);
    client_run(&c, 2000);
    CHECK_CONTAINS(c.in, "HTTP/1.1 200 OK\r\n");
    CHECK_CONTAINS(c.in, "Content-Encoding: gzip\r\n");
    CHECK_CONTAINS(c.in, "ETag: \"v1\"\r\n");
    CHECK_CONTAINS(c.in, "Cache-Control: max-age=3600\r\n");
    CHECK_CONTAINS(c.in, "Content-Length: 10000\r\n");
    const char *body = body_of(&c);
    CHECK_EQ(c.in_len - (size_t)(body - c.in), sizeof blob_data);
    CHECK(memcmp(body, blob_data, sizeof blob_data) == 0);

    static const char again[] = "GET /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: \"v0\", \"v1\"\r\n"
                                "Connection: close\r\n\r\n";
    client_open(&c, again, sizeof again - 1);
    client_run(&c, 200);
    CHECK_CONTAINS(c.in, "HTTP/1.1 304 Not Modified\r\n");
    CHECK(strstr(c.in, "Content-Length") == NULL);
    CHECK_STR(body_of(&c), "");

    static const char head[] = "HEAD /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    client_open(&c, head, sizeof head - 1);
    client_run(&c, 200);
    CHECK_CONTAINS(c.in, "Content-Length: 10000\r\n");
    CHECK_STR(body_of(&c), "");
}

static char upload_request[200 + 20000];

static void test_upload_back_pressure(void)
{
    memset(&up, 0, sizeof up);
    int head = snprintf(upload_request, 200, "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 20000\r\n"
                                             "Connection: close\r\n\r\n");
    uint32_t sum = 0;
    for (int i = 0; i < 20000; i++) {
        upload_request[head + i] = (char)(i * 7 + i / 256);
        sum = sum * 31 + (uint8_t)upload_request[head + i];
    }
    struct client c, other;
    client_open(&c, upload_request, (size_t)head + 20000);
    int steps = 0, pauses = 0;
    bool served_other = false;
    while (!c.closed && steps++ < 20000) {
        client_step(&c);
        if (up.paused) {
            pauses++;
            size_t before = up.received;
            client_step(&c); /* paused: the handler is offered nothing */
            CHECK_EQ(up.received, before);
            if (!served_other) { /* … while another client is served */
                static const char get[] = "GET /app.js HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
                client_open(&other, get, sizeof get - 1);
                client_run(&other, 2000);
                CHECK_CONTAINS(other.in, "HTTP/1.1 200 OK");
                served_other = true;
            }
            up.paused = false;
            http_resume(up.req);
        }
    }
    close(c.fd);
    CHECK(served_other);
    CHECK(up.ended && !up.aborted);
    CHECK_EQ(up.received, 20000);
    CHECK(pauses >= 200);
    char expected[64];
    snprintf(expected, sizeof expected, "{\"bytes\":20000,\"sum\":%u}", (unsigned)sum);
    CHECK_STR(body_of(&c), expected);
}

static void test_upload_abort_and_refusal(void)
{
    memset(&up, 0, sizeof up);
    static const char partial[] = "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\nonly this";
    struct client c;
    client_open(&c, partial, sizeof partial - 1);
    for (int i = 0; i < 50; i++) {
        client_step(&c);
        if (up.paused) {
            up.paused = false;
            http_resume(up.req);
        }
    }
    close(c.fd);
    for (int i = 0; i < 50 && !up.aborted; i++)
        sched_run_once(0);
    CHECK(up.aborted && !up.ended);

    memset(&up, 0, sizeof up);
    static const char huge[] = "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2000000\r\n\r\nxyz";
    client_open(&c, huge, sizeof huge - 1);
    client_run(&c, 200);
    CHECK_CONTAINS(c.in, "HTTP/1.1 413 ");
    CHECK_CONTAINS(c.in, "Connection: close");
    CHECK(!up.aborted && up.received == 0);
}

/* Decode a chunked body in place; returns its length or -1. */
static long dechunk(char *body)
{
    char *in = body, *out = body;
    for (;;) {
        char *end;
        long size = strtol(in, &end, 16);
        if (end == in || strncmp(end, "\r\n", 2) != 0)
            return -1;
        in = end + 2;
        if (size == 0)
            return out - body;
        memmove(out, in, (size_t)size);
        out += size;
        in += size;
        if (strncmp(in, "\r\n", 2) != 0)
            return -1;
        in += 2;
    }
}

static void test_producer_waits_and_resumes(void)
{
    static const char get[] = "GET /count HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    struct client c;
    client_open(&c, get, sizeof get - 1);
    int resumes = 0, streaming_seen = 0;
    for (int i = 0; i < 20000 && !c.closed; i++) {
        client_step(&c);
        if (count_waiting) {
            streaming_seen += http_stream_count(produce_count) == 1;
            count_waiting = false;
            http_resume_all(produce_count);
            resumes++;
        }
    }
    close(c.fd);
    CHECK_CONTAINS(c.in, "Transfer-Encoding: chunked\r\n");
    char *body = (char *)body_of(&c);
    long len = dechunk(body);
    CHECK(len > 0);
    body[len > 0 ? len : 0] = '\0';
    char expected[16];
    CHECK(strncmp(body, "0\n1\n2\n", 6) == 0);
    snprintf(expected, sizeof expected, "\n1999\n");
    CHECK(len > 6 && strcmp(body + len - 6, expected) == 0);
    int lines = 0;
    for (char *p = body; *p; p++)
        lines += *p == '\n';
    CHECK_EQ(lines, 2000);
    CHECK(resumes > 20);
    CHECK(streaming_seen >= resumes - 1); /* waiting streams count as streaming */
    CHECK_EQ(http_stream_count(produce_count), 0);
}

/* A piece that does not fit what is left of the first buffer comes in the
 * next chunk, whole; one that no chunk can hold ends the body there. */
static void test_producer_full_waits_for_a_whole_chunk(void)
{
    static const char get[] = "GET /pieces HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    struct client c;
    client_open(&c, get, sizeof get - 1);
    client_run(&c, 2000);
    CHECK(c.closed);
    CHECK_CONTAINS(c.in, "Transfer-Encoding: chunked\r\n");
    char *body = (char *)body_of(&c);
    long len = dechunk(body);
    CHECK_EQ(len, 5 * 1500);
    for (long i = 0; i < len && i < 5 * 1500; i++)
        if (body[i] != 'a' + i / 1500) {
            CHECK_EQ(i, -1); /* the first wrong byte */
            break;
        }
}

static void test_routes_and_deferred_reply(void)
{
    struct client c;
    static const char deep[] = "GET /files/a/b.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    client_open(&c, deep, sizeof deep - 1);
    client_run(&c, 100);
    CHECK_STR(body_of(&c), "{\"route\":\"prefix\",\"path\":\"/files/a/b.txt\"}");
    static const char exact[] = "GET /files/index HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    client_open(&c, exact, sizeof exact - 1);
    client_run(&c, 100);
    CHECK_STR(body_of(&c), "{\"route\":\"exact\",\"path\":\"/files/index\"}");
    static const char encoded[] = "GET /files/a%20b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    client_open(&c, encoded, sizeof encoded - 1);
    client_run(&c, 100);
    CHECK_STR(body_of(&c), "{\"route\":\"prefix\",\"path\":\"/files/a b\"}");

    static const char later[] = "GET /later HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    deferred = NULL;
    client_open(&c, later, sizeof later - 1);
    for (int i = 0; i < 20; i++)
        client_step(&c);
    CHECK(deferred != NULL && c.in_len == 0);
    http_add_header(deferred, "X-Later", "yes");
    http_reply_json(deferred, 200, "{\"late\":true}");
    client_run(&c, 100);
    CHECK_CONTAINS(c.in, "X-Later: yes\r\n");
    CHECK_STR(body_of(&c), "{\"late\":true}");
}

static uint32_t timeouts(void)
{
    struct http_stats stats;
    http_get_stats(&stats);
    return stats.timeouts;
}

static void test_timeouts(void)
{
    struct client c;
    /* a head that never ends: 408 once HTTP_REQUEST_MS has passed */
    static const char partial[] = "GET /app.js HTTP/1.1\r\nHo";
    client_open(&c, partial, sizeof partial - 1);
    for (int i = 0; i < 10; i++)
        client_step(&c);
    CHECK_EQ(c.in_len, 0);
    fake_time_advance_us((HTTP_REQUEST_MS - 100) * 1000ull);
    client_step(&c);
    CHECK_EQ(c.in_len, 0); /* not yet */
    uint32_t before = timeouts();
    fake_time_advance_us(200 * 1000ull);
    client_run(&c, 50);
    CHECK_CONTAINS(c.in, "HTTP/1.1 408 Request Timeout\r\n");
    CHECK(c.closed);
    CHECK_EQ(timeouts(), before + 1);

    /* an idle keep-alive connection closes after HTTP_IDLE_MS, silently */
    static const char get[] = "GET /files/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    client_open(&c, get, sizeof get - 1);
    for (int i = 0; i < 10; i++)
        client_step(&c);
    CHECK_CONTAINS(c.in, "200 OK");
    size_t got = c.in_len;
    fake_time_advance_us((HTTP_IDLE_MS - 100) * 1000ull);
    client_step(&c);
    CHECK(!c.closed);
    fake_time_advance_us(200 * 1000ull);
    client_run(&c, 10);
    CHECK(c.closed && c.in_len == got);

    /* a client that stops reading: closed after HTTP_SEND_MS without progress */
    static const char endless[] = "GET /endless HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    memset(&c, 0, sizeof c);
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(http_port()),
                               .sin_addr.s_addr = htonl(0x7F000001)};
    CHECK(connect(c.fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(send(c.fd, endless, sizeof endless - 1, 0) == (ssize_t)(sizeof endless - 1));
    for (int i = 0; i < 50; i++)
        sched_run_once(0); /* fills both socket buffers, then waits */
    before = timeouts();
    fake_time_advance_us((HTTP_SEND_MS + 100) * 1000ull);
    sched_run_once(0);
    CHECK_EQ(timeouts(), before + 1);
    /* the server closed: after what was buffered, the client reads the end */
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    char sink[65536];
    ssize_t n = 1;
    for (int i = 0; i < 100000 && n != 0; i++)
        if ((n = recv(c.fd, sink, sizeof sink, 0)) < 0)
            n = errno == EAGAIN ? 1 : 0;
    CHECK_EQ(n, 0);
    close(c.fd);
}

static uint32_t heap_in_use(void)
{
    struct heap_stats stats;
    heap_get_stats(&stats);
    return stats.in_use;
}

/* A handler holding a heap block for its stream (as /cm's command
 * stream does): http_on_end gives it back however the request ends. */
static unsigned ends_seen;
static void give_held(void *user)
{
    void **held = user;
    heap_give(*held);
    *held = NULL;
    ends_seen++;
}

static int produce_held(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    void **held = http_user(req);
    CHECK(*held != NULL);
    memset(buf, 'h', cap < 100 ? cap : 100);
    return cap < 100 ? (int)cap : 100; /* endless: ends only when the client goes */
}

static void serve_held(struct http_request *req, void *arg)
{
    (void)arg;
    void **held = http_user(req);
    *held = heap_take(3000);
    http_on_end(req, give_held);
    if (strcmp(http_query_raw(req), "short") == 0)
        http_reply_json(req, 200, "{}");
    else
        http_reply_stream(req, 200, "text/plain", produce_held, NULL);
}

static void test_end_hook_frees_on_every_way_out(void)
{
    for (int i = 0; i < 5; i++)
        sched_run_once(0);
    uint32_t base = heap_in_use();
    struct client c;
    /* a stream the client walks away from */
    static const char endless[] = "GET /held HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ends_seen = 0;
    client_open(&c, endless, sizeof endless - 1);
    for (int i = 0; i < 10; i++)
        client_step(&c);
    CHECK_CONTAINS(c.in, "200 OK");
    CHECK(heap_in_use() > base + 3000);
    close(c.fd);
    for (int i = 0; i < 200 && heap_in_use() != base; i++)
        sched_run_once(0);
    CHECK_EQ(heap_in_use(), base);
    CHECK_EQ(ends_seen, 1);
    /* keep-alive: answered, then the next request on the same connection */
    static const char two[] = "GET /held?short HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                              "GET /held?short HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    client_open(&c, two, sizeof two - 1);
    client_run(&c, 100);
    for (int i = 0; i < 5; i++)
        sched_run_once(0);
    CHECK_EQ(ends_seen, 3);
    CHECK_EQ(heap_in_use(), base);
}

/* An open connection's buffers come from the heap and go back on every
 * way it ends; a client the heap cannot serve gets 503 and the server goes on. */
static void test_heap_buffers(void)
{
    for (int i = 0; i < 5; i++)
        sched_run_once(0); /* earlier tests' connections finish closing */
    uint32_t base = heap_in_use();
    struct client c;
    static const char get[] = "GET /files/x HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

    /* heap short: refused at once, nothing held */
    struct http_stats before, after;
    http_get_stats(&before);
    heap_set_budget(base + 1);
    client_open(&c, get, sizeof get - 1);
    client_run(&c, 50);
    CHECK_CONTAINS(c.in, "HTTP/1.1 503 Service Unavailable\r\n");
    CHECK_STR(body_of(&c), "{\"error\":\"busy: out of memory, retry\"}\n");
    CHECK(c.closed);
    http_get_stats(&after);
    CHECK_EQ(after.rejected_memory, before.rejected_memory + 1);
    CHECK_EQ(after.active, before.active);
    CHECK_EQ(heap_in_use(), base);
    heap_set_budget(0);

    /* served again once the heap has room; the buffers go back when it closes */
    client_open(&c, get, sizeof get - 1);
    client_run(&c, 100);
    CHECK_STR(body_of(&c), "{\"route\":\"prefix\",\"path\":\"/files/x\"}");
    CHECK_EQ(heap_in_use(), base);

    /* every slot open: HTTP_POOL blocks, the next client finds the pool full */
    static const char keep[] = "GET /files/k HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    struct client open_clients[HTTP_POOL];
    for (int i = 0; i < HTTP_POOL; i++) {
        client_open(&open_clients[i], keep, sizeof keep - 1);
        for (int step = 0; step < 10; step++)
            client_step(&open_clients[i]);
        CHECK_CONTAINS(open_clients[i].in, "200 OK");
    }
    uint32_t one = (heap_in_use() - base) / HTTP_POOL;
    CHECK(one >= HTTP_IN_SIZE + HTTP_OUT_SIZE + HTTP_EXTRA_HEADERS && one < HTTP_IN_SIZE + HTTP_OUT_SIZE + 512);
    CHECK_EQ(heap_in_use(), base + one * HTTP_POOL);
    for (int i = 0; i < HTTP_POOL; i++)
        close(open_clients[i].fd);
    for (int i = 0; i < 5; i++)
        sched_run_once(0);
    CHECK_EQ(heap_in_use(), base);

    /* a deferred reply that comes too late (the server answered 500 and
     * closed): dropped, nothing of the freed buffers touched */
    static const char later[] = "GET /later HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    deferred = NULL;
    client_open(&c, later, sizeof later - 1);
    for (int i = 0; i < 20; i++)
        client_step(&c);
    CHECK(deferred != NULL);
    fake_time_advance_us((HTTP_DEFER_MS + 100) * 1000ull);
    client_run(&c, 50);
    CHECK_CONTAINS(c.in, "HTTP/1.1 500 Internal Server Error\r\n");
    CHECK_EQ(heap_in_use(), base);
    CHECK_STR(http_path(deferred), "");
    CHECK(!http_add_header(deferred, "X-Late", "no"));
    struct json_writer *w = http_reply_json_begin(deferred, 200);
    jw_string(w, "late", "dropped");
    http_reply_json_end(deferred);
    CHECK_EQ(heap_in_use(), base);
}

static void test_decoders(void)
{
    char out[32];
    CHECK(http_query_param("a=1&cmnd=Power%20On&b", "cmnd", out, sizeof out));
    CHECK_STR(out, "Power On");
    CHECK(http_query_param("x=a+b", "x", out, sizeof out));
    CHECK_STR(out, "a b");
    CHECK(http_query_param("b&c=", "b", out, sizeof out) && out[0] == '\0');
    CHECK(!http_query_param("cmnd=%zz", "cmnd", out, sizeof out));
    CHECK(!http_query_param("cmnd=%00", "cmnd", out, sizeof out));
    CHECK(!http_query_param("cmd=1", "cmnd", out, sizeof out));
    CHECK(!http_query_param("v=0123456789012345678901234567890123", "v", out, sizeof out));
    unsigned char bytes[32];
    CHECK_EQ(http_base64_decode("YWRtaW46cHc=", 12, bytes, sizeof bytes), 8);
    CHECK(memcmp(bytes, "admin:pw", 8) == 0);
    CHECK_EQ(http_base64_decode("YQ==", 4, bytes, sizeof bytes), 1);
    CHECK_EQ(http_base64_decode("YQ=a", 4, bytes, sizeof bytes), -1);
    CHECK_EQ(http_base64_decode("Y===", 4, bytes, sizeof bytes), -1);
    CHECK_EQ(http_base64_decode("YWJj", 4, bytes, 2), -1);
    CHECK_EQ(http_base64_decode("YWJ", 3, bytes, sizeof bytes), -1);
}

int main(void)
{
    for (size_t i = 0; i < sizeof blob_data; i++)
        blob_data[i] = (uint8_t)(i * 13 + (i >> 8));
    http_route_add(&blob_route, HTTP_GET, "/app.js", 0, serve_blob, NULL);
    http_route_add(&upload_route, HTTP_POST, "/upload", HTTP_ROUTE_STREAM, upload_head, NULL);
    upload_route.stream = &upload_stream;
    http_route_add(&count_route, HTTP_GET, "/count", 0, serve_count, NULL);
    static struct http_route pieces_route;
    http_route_add(&pieces_route, HTTP_GET, "/pieces", 0, serve_pieces, NULL);
    http_route_add(&files_route, HTTP_GET, "/files/", HTTP_ROUTE_PREFIX, serve_files, "prefix");
    http_route_add(&file_exact_route, HTTP_GET, "/files/index", 0, serve_files, "exact");
    http_route_add(&defer_route, HTTP_GET, "/later", 0, serve_defer, NULL);
    static struct http_route endless_route, held_route;
    http_route_add(&held_route, HTTP_GET, "/held", 0, serve_held, NULL);
    http_route_add(&endless_route, HTTP_GET, "/endless", 0, serve_endless, NULL);
    http_set_listen(0x7F000001, 0);
    http_start();
    CHECK(http_port() != 0);
    RUN(test_static_blob);
    RUN(test_upload_back_pressure);
    RUN(test_upload_abort_and_refusal);
    RUN(test_producer_waits_and_resumes);
    RUN(test_producer_full_waits_for_a_whole_chunk);
    RUN(test_routes_and_deferred_reply);
    RUN(test_timeouts);
    RUN(test_heap_buffers);
    RUN(test_end_hook_frees_on_every_way_out);
    RUN(test_decoders);
    return harness_report();
}
