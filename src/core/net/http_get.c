/* http_get.c — non-blocking HTTP/1.0 GET client; see http_get.h. */
#include "http_get.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sched.h"
#include "core/util/heap.h"
#include "hal/hal.h"
#include "hal/hal_net.h"

#define HOST_SIZE 64
#define PATH_SIZE 128
#define BUF_SIZE 1536 /* a TCP segment and the response head */

enum phase { IDLE, RESOLVING, CONNECTING, SENDING, HEAD, BODY };

/* A download's buffers: taken from the heap when it starts, given back
 * when it ends, whichever way (one download at a time: 1,792 bytes). */
struct get_buffers {
    char request[PATH_SIZE + HOST_SIZE + 64];
    char buf[BUF_SIZE];
};

static struct {
    enum phase phase;
    int fd;
    int lookup; /* hal_net_lookup handle while RESOLVING */
    unsigned short port;
    struct http_get_sink sink;
    struct get_buffers *io; /* while a download runs */
    size_t request_len, sent;
    size_t len, pos; /* bytes in buf, and the first not yet taken */
    long content_length; /* -1: until the connection closes */
    long body_seen;
    uint64_t last_ms;
} get = {.fd = -1, .lookup = -1};
static struct sched_poller poller;
static void resolve(void);
static bool poller_added;

static void finish(int status, const char *error)
{
    if (get.lookup >= 0)
        hal_net_lookup_cancel(get.lookup);
    get.lookup = -1;
    if (get.fd >= 0)
        hal_net_close(get.fd);
    get.fd = -1;
    get.phase = IDLE;
    heap_give(get.io); /* before done(), which may start the next download */
    get.io = NULL;
    get.sink.done(status, error, get.sink.arg);
}

/* The status line and headers are in buf up to the blank line. */
static void take_head(size_t head_len)
{
    int status = 0;
    if (http_get_parse_head(get.io->buf, head_len, &status, &get.content_length) != 0) {
        finish(-1, "malformed response from the server");
        return;
    }
    if (status != 200) {
        char why[48];
        snprintf(why, sizeof why, "the server answered HTTP %d", status);
        finish(-1, why);
        return;
    }
    get.pos = head_len;
    get.phase = BODY;
    if (get.content_length >= 0 && get.sink.length)
        get.sink.length(get.content_length, get.sink.arg);
}

static void read_head(void)
{
    char *blank = NULL;
    get.io->buf[get.len] = '\0';
    if ((blank = strstr(get.io->buf, "\r\n\r\n")))
        take_head((size_t)(blank - get.io->buf) + 4);
    else if (get.len >= BUF_SIZE - 1)
        finish(-1, "response head too long");
}

/* Offer what is buffered; true when the buffer is empty. */
static bool offer_body(void)
{
    while (get.pos < get.len) {
        size_t n = get.len - get.pos;
        if (get.content_length >= 0 && (long)n > get.content_length - get.body_seen)
            n = (size_t)(get.content_length - get.body_seen);
        if (n == 0)
            break;
        size_t taken = get.sink.body(get.io->buf + get.pos, n, get.sink.arg);
        if (taken == HTTP_GET_STOP) {
            finish(-1, "stopped by the receiver");
            return false;
        }
        get.pos += taken;
        get.body_seen += (long)taken;
        if (taken < n)
            return false;
    }
    get.pos = get.len = 0;
    return true;
}

static void receive(void)
{
    if (get.phase == BODY && !offer_body())
        return; /* the sink is full: read nothing until it has room */
    if (get.phase == BODY && get.content_length >= 0 && get.body_seen >= get.content_length) {
        finish(0, NULL);
        return;
    }
    ssize_t n = recv(get.fd, get.io->buf + get.len, BUF_SIZE - 1 - get.len, 0);
    if (n > 0) {
        get.len += (size_t)n;
        get.last_ms = hal_time_ms();
        if (get.phase == HEAD)
            read_head();
        if (get.phase == BODY && offer_body() && get.content_length >= 0 && get.body_seen >= get.content_length)
            finish(0, NULL);
    } else if (n == 0) {
        bool complete = get.phase == BODY && get.content_length < 0;
        finish(complete ? 0 : -1, complete ? NULL : "the server closed the connection early");
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        finish(-1, "receive error");
    }
}

static void send_request(void)
{
    ssize_t n = send(get.fd, get.io->request + get.sent, get.request_len - get.sent, 0);
    if (n > 0) {
        get.sent += (size_t)n;
        get.last_ms = hal_time_ms();
    } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        finish(-1, "send error");
        return;
    }
    if (get.sent == get.request_len) {
        get.phase = HEAD;
        hal_net_watch(get.fd, POLLIN);
    }
}

static void check_connected(void)
{
    struct pollfd p = {.fd = get.fd, .events = POLLOUT};
    if (poll(&p, 1, 0) <= 0)
        return;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(get.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
        finish(-1, "cannot connect");
        return;
    }
    get.phase = SENDING;
    send_request();
}

static void http_get_poll(void *arg)
{
    (void)arg;
    if (get.phase == IDLE)
        return;
    if (hal_time_ms() - get.last_ms > HTTP_GET_TIMEOUT_MS) {
        finish(-1, get.phase == RESOLVING ? "host name lookup timed out"
                   : get.phase == CONNECTING ? "connect timed out" : "no data for 15 s");
        return;
    }
    switch (get.phase) {
    case RESOLVING: resolve(); break;
    case CONNECTING: check_connected(); break;
    case SENDING: send_request(); break;
    case HEAD:
    case BODY: receive(); break;
    default: break;
    }
}

static int open_socket(uint32_t ipv4, unsigned short port)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    to.sin_addr.s_addr = ipv4;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (hal_net_set_nonblocking(fd) != HAL_OK ||
        (connect(fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS)) {
        hal_net_close(fd);
        return -1;
    }
    hal_net_watch(fd, POLLOUT);
    return fd;
}

/* The name lookup: poll it; once answered, connect. */
static void resolve(void)
{
    uint32_t ipv4;
    int err = hal_net_lookup_poll(get.lookup, &ipv4);
    if (err == HAL_EBUSY)
        return;
    get.lookup = -1;
    if (err) {
        finish(-1, "cannot resolve the host name");
        return;
    }
    get.fd = open_socket(ipv4, get.port);
    if (get.fd < 0) {
        finish(-1, "cannot connect");
        return;
    }
    get.last_ms = hal_time_ms();
    get.phase = CONNECTING;
}

int http_get_start(const char *url, const struct http_get_sink *sink, char *error, size_t error_size)
{
    char host[HOST_SIZE], path[PATH_SIZE];
    unsigned short port;
    if (get.phase != IDLE) {
        snprintf(error, error_size, "a download is already running");
        return -1;
    }
    if (http_get_parse_url(url, host, &port, path) != 0) {
        snprintf(error, error_size, "expected a URL http://host[:port]/path");
        return -1;
    }
    struct get_buffers *io = heap_take(sizeof *io);
    if (!io) {
        snprintf(error, error_size, "out of memory: try again");
        return -1;
    }
    int lookup = hal_net_lookup_start(host);
    if (lookup < 0) {
        heap_give(io);
        snprintf(error, error_size, "no name lookup free: try again");
        return -1;
    }
    if (!poller_added) {
        sched_poller_add(&poller, http_get_poll, NULL);
        poller_added = true;
    }
    get.lookup = lookup;
    get.port = port;
    get.sink = *sink;
    get.io = io;
    get.request_len = (size_t)snprintf(io->request, sizeof io->request,
                                       "GET %s HTTP/1.0\r\nHost: %s\r\nUser-Agent: OpenPlug\r\n\r\n", path, host);
    get.sent = get.len = get.pos = 0;
    get.body_seen = 0;
    get.last_ms = hal_time_ms();
    get.phase = RESOLVING;
    return 0;
}
