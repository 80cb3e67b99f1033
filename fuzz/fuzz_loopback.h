/*
 * fuzz_loopback.h — a web client on the loopback for the fuzz targets that
 * drive the whole web server of a firmware booted on the fake board
 * (fuzz_http_server, fuzz_web_config): connect, send while the main loop
 * turns, and collect what the server sends.
 */
#ifndef OPENPLUG_FUZZ_LOOPBACK_H
#define OPENPLUG_FUZZ_LOOPBACK_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "core/net/http.h"
#include "core/sched.h"
#include "fuzz_input.h"
#include "hal/hal_net.h"

/* What the server sent (cut at the buffer's size) and whether it closed. */
struct loopback_reply {
    char text[1 << 16];
    size_t len;
    bool closed;
};


static inline void loop_turn(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sched_run_once(0);
}

static inline void loopback_drain(int fd, struct loopback_reply *reply)
{
    for (;;) {
        char sink[4096];
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n == 0)
            reply->closed = true;
        if (n <= 0)
            return;
        size_t room = sizeof reply->text - 1 - reply->len;
        size_t keep = (size_t)n <= room ? (size_t)n : room;
        memcpy(reply->text + reply->len, sink, keep);
        reply->len += keep;
        reply->text[reply->len] = '\0';
    }
}

static inline int loopback_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    FUZZ_CHECK(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(0x7F000001)};
    int err = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 ? 0 : errno;
    if (err == EINTR) { /* libFuzzer's timeout alarm: the connect goes on, wait for it */
        struct pollfd done = {.fd = fd, .events = POLLOUT};
        while (poll(&done, 1, 5000) < 0 && errno == EINTR)
            continue;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    }
    if (err) {
        fprintf(stderr, "connect to the web server on port %u: %s\n", (unsigned)port, strerror(err));
        FUZZ_CHECK(!"the client connects");
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Send while the loop turns and the server's answer is collected. */
static inline void loopback_send(int fd, const void *data, size_t len, struct loopback_reply *reply)
{
    size_t sent = 0;
    for (int tries = 0; sent < len && tries < 200; tries++) {
        ssize_t n = send(fd, (const char *)data + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0)
            sent += (size_t)n;
        else if (n < 0 && errno != EAGAIN)
            return; /* the server closed on us: fine */
        loop_turn(1);
        loopback_drain(fd, reply);
    }
}

static inline unsigned http_active_connections(void)
{
    struct http_stats stats;
    http_get_stats(&stats);
    return stats.active;
}

#endif
