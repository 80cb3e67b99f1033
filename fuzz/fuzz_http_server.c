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
#include <setjmp.h>

#include "core/cmd/cmd.h"
#include "core/firmware.h"
#include "fake_hal.h"
#include "fuzz_device.h"
#include "fuzz_loopback.h"

static jmp_buf reboot_jump;
static struct loopback_reply reply;

static void check_status_lines(void)
{
    if (!reply.len)
        return;
    FUZZ_CHECK(reply.len >= 13 && memcmp(reply.text, "HTTP/1.1 ", 9) == 0);
    for (int i = 9; i < 12; i++)
        FUZZ_CHECK(reply.text[i] >= '0' && reply.text[i] <= '9');
    FUZZ_CHECK(reply.text[12] == ' ');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    boot_once();
    FUZZ_CHECK(http_port() != 0);
    char clear[] = "WebPassword 0";
    cmd_execute(clear, SOURCE_BOOT, ignore_reply, NULL);
    fake_flash_power_on();
    reply.len = 0;
    reply.closed = false;

    int fd = loopback_connect(http_port());
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
        loopback_send(fd, data + pos, len, &reply);
        pos = next;
        loop_turn(4);
        loopback_drain(fd, &reply);
    }
    if (phase == 0) {
        phase = 1;
        shutdown(fd, SHUT_WR);
    }
    for (int i = 0; phase == 1 && i < 120 && !reply.closed; i++) {
        loop_turn(1);
        loopback_drain(fd, &reply);
        if (i % 10 == 9)
            fake_time_advance_us(3000000); /* past the request, send and idle timeouts in time */
    }
    check_status_lines();
    if (phase == 1) {
        phase = 2;
        close(fd);
    }
    for (int i = 0; i < 100 && http_active_connections(); i++) {
        fake_time_advance_us(1000000);
        loop_turn(2);
    }
    fake_reboot_jump = NULL;
    if (http_active_connections())
        fprintf(stderr, "%u connections still open after the client left and 100 s passed\n", http_active_connections());
    FUZZ_CHECK(http_active_connections() == 0);
    return 0;
}
