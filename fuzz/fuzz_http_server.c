/*
 * fuzz_http_server.c — the whole web server on a booted firmware: http.c's
 * connection states, http_auth.c and every route registered at boot (the
 * REST API, /cm, events, metrics, files …), fed by a real client on the
 * loopback with the loop turned by hand and the fake clock moved on.
 *
 * Input: what the client sends, cut into segments at 0xFF bytes; after each
 * segment the loop turns a few times (so heads and bodies arrive in pieces,
 * as slow clients send them).  Then the client half-closes, the clock moves
 * past every timeout and the client closes.  Each input starts with no web
 * password.  Planned restarts and factory resets happen (hal_reboot() is
 * caught) and the plug goes on.
 * Properties (besides no crash, overread or UB): whatever the server sends
 * first starts with a status line "HTTP/1.1 NNN "; every response's status
 * line says HTTP/1.1; and once the client is gone and the timeouts have
 * passed, the pool is empty again (no connection slot leaks).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <setjmp.h>
#include <unistd.h>

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "core/net/http.h"
#include "core/sched.h"
#include "fake_hal.h"
#include "fuzz_input.h"
#include "hal/hal_net.h"

static jmp_buf reboot_jump;
static char received[1 << 16];
static size_t received_len;
static bool server_closed;

static void ignore_reply(const char *json, void *arg)
{
    (void)json;
    (void)arg;
}

static void turn(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        sched_run_once(0);
}

static void drain(int fd)
{
    for (;;) {
        char sink[4096];
        ssize_t n = recv(fd, sink, sizeof sink, 0);
        if (n == 0)
            server_closed = true;
        if (n <= 0)
            return;
        size_t keep = received_len + (size_t)n <= sizeof received ? (size_t)n : sizeof received - received_len;
        memcpy(received + received_len, sink, keep);
        received_len += keep;
    }
}

static int connect_client(uint16_t port)
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

static void send_all(int fd, const uint8_t *data, size_t len)
{
    size_t sent = 0;
    for (int tries = 0; sent < len && tries < 200; tries++) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n > 0)
            sent += (size_t)n;
        else if (n < 0 && errno != EAGAIN)
            return; /* the server closed on us: fine */
        turn(1);
        drain(fd);
    }
}

static unsigned active_connections(void)
{
    struct http_stats stats;
    http_get_stats(&stats);
    return stats.active;
}

static void check_status_lines(void)
{
    if (!received_len)
        return;
    FUZZ_CHECK(received_len >= 13 && memcmp(received, "HTTP/1.1 ", 9) == 0);
    for (int i = 9; i < 12; i++)
        FUZZ_CHECK(received[i] >= '0' && received[i] <= '9');
    FUZZ_CHECK(received[12] == ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool booted;
    if (!booted) {
        fake_flash_blank();
        firmware_boot(); /* fake_hal.c has the server listen on 127.0.0.1, any port */
        booted = true;
    }
    FUZZ_CHECK(http_port() != 0);
    char clear[] = "WebPassword 0";
    cmd_execute(clear, SOURCE_BOOT, ignore_reply, NULL);
    fake_flash_power_on();
    received_len = 0;
    server_closed = false;

    int fd = connect_client(http_port());
    volatile size_t pos = 0;
    volatile int phase = 0;
    fake_reboot_jump = &reboot_jump;
    if (setjmp(reboot_jump)) {
        /* a planned restart or factory reset ran: the plug goes on */
    }
    while (phase == 0 && pos < size) {
        const uint8_t *end = memchr(data + pos, 0xFF, size - pos);
        size_t len = end ? (size_t)(end - (data + pos)) : size - pos;
        size_t next = pos + len + 1;
        send_all(fd, data + pos, len);
        pos = next;
        turn(4);
        drain(fd);
    }
    if (phase == 0) {
        phase = 1;
        shutdown(fd, SHUT_WR);
    }
    for (int i = 0; phase == 1 && i < 120 && !server_closed; i++) {
        turn(1);
        drain(fd);
        if (i % 10 == 9)
            fake_time_advance_us(3000000); /* past the request, send and idle timeouts in time */
    }
    check_status_lines();
    if (phase == 1) {
        phase = 2;
        close(fd);
    }
    for (int i = 0; i < 100 && active_connections(); i++) {
        fake_time_advance_us(1000000);
        turn(2);
    }
    fake_reboot_jump = NULL;
    if (active_connections())
        fprintf(stderr, "%u connections still open after the client left and 100 s passed\n", active_connections());
    FUZZ_CHECK(active_connections() == 0);
    return 0;
}
