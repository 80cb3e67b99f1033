/*
 * test_sntp.c — the SNTP client (src/core/net/sntp.c) against an NTP
 * server played by the test on a real UDP socket (127.0.0.1), with the
 * fake board's clock moved by hand: first sync, the hourly resync (and the
 * step it announces), a silent server (retry after 1 min, then 2, 4 …),
 * replies that must be refused (another request's, kiss-o'-death), `Time`
 * by hand pausing it and `Time 0` resuming.  Also the packet functions.
 * Host only: the RV32 build has no socket layer yet.
 */
#include <fcntl.h>
#include <unistd.h>

#include "core/cmd/commands.h"
#include "core/drivers.h"
#include "core/net/sntp.h"
#include "core/net/sntp_packet.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "core/timekeeping.h"
#include "fake_hal.h"
#include "hal/hal_net.h"
#include "harness.h"

#define NTP_UNIX_OFFSET 2208988800ull
#define TRUE_EPOCH_MS 1790000000000LL /* the server's time at fake time 0 */

static int server_fd = -1;
static uint16_t server_port;
static unsigned requests;
enum server_mode { ANSWER, SILENT, WRONG_COOKIE, KISS };
static enum server_mode mode = ANSWER;
static int64_t server_drift_ms;

static void put_ntp(uint8_t *p, int64_t unix_ms)
{
    uint64_t seconds = (uint64_t)(unix_ms / 1000) + NTP_UNIX_OFFSET;
    uint64_t fraction = ((uint64_t)(unix_ms % 1000) << 32) / 1000;
    uint64_t v = seconds << 32 | fraction;
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void server_open(void)
{
    server_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7F000001)};
    CHECK(bind(server_fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    socklen_t len = sizeof addr;
    getsockname(server_fd, (struct sockaddr *)&addr, &len);
    server_port = ntohs(addr.sin_port);
    fcntl(server_fd, F_SETFL, fcntl(server_fd, F_GETFL) | O_NONBLOCK);
}

/* Answer what arrived, as the mode says. */
static void serve(void)
{
    uint8_t packet[64];
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t n;
    while ((n = recvfrom(server_fd, packet, sizeof packet, 0, (struct sockaddr *)&from, &from_len)) > 0) {
        requests++;
        if (mode == SILENT || n != SNTP_PACKET_SIZE)
            continue;
        uint8_t reply[SNTP_PACKET_SIZE] = {0};
        reply[0] = 4 << 3 | 4;
        reply[1] = mode == KISS ? 0 : 2;
        if (mode == KISS)
            memcpy(reply + 12, "RATE", 4);
        memcpy(reply + 24, packet + 40, 8); /* origin = their transmit */
        if (mode == WRONG_COOKIE)
            reply[31] ^= 1;
        int64_t now = TRUE_EPOCH_MS + (int64_t)hal_time_ms() + server_drift_ms;
        put_ntp(reply + 32, now);
        put_ntp(reply + 40, now);
        sendto(server_fd, reply, sizeof reply, 0, (struct sockaddr *)&from, from_len);
    }
}

/* A few loop turns with the server answering in between (no time passes). */
static void turns(void)
{
    for (int i = 0; i < 3; i++) {
        sched_run_once(0);
        serve(); /* loopback: a datagram sent is in the receiver's queue at once */
    }
}

/* Move the fake clock by ms in 100 ms steps, serving as it goes. */
static void advance_ms(uint64_t ms)
{
    for (uint64_t done = 0; done < ms; done += 100) {
        fake_time_advance_us(100000);
        turns();
    }
}

static void collect(const char *json, void *arg) { snprintf((char *)arg, 512, "%s", json); }

/* Advance until the server sees a new request (at most max_ms): the
 * milliseconds it took, or -1. */
static long until_request(uint64_t max_ms)
{
    unsigned before = requests;
    for (uint64_t done = 0; done <= max_ms; done += 100) {
        if (requests != before)
            return (long)done;
        fake_time_advance_us(100000);
        turns();
    }
    return -1;
}

static bool about(long ms, long expected) { return ms >= expected - 200 && ms <= expected + 200; }

static const char *run(const char *text)
{
    static char reply[512];
    char line[128];
    snprintf(line, sizeof line, "%s", text);
    reply[0] = '\0';
    cmd_execute(line, SOURCE_CONSOLE, collect, reply);
    return reply;
}

static int64_t clock_error_ms(void) { return clock_utc_ms() - (TRUE_EPOCH_MS + (int64_t)hal_time_ms() + server_drift_ms); }

static void test_sync_resync_and_backoff(void)
{
    char spec[32];
    snprintf(spec, sizeof spec, "NtpServer1 127.0.0.1:%u", server_port);
    CHECK_CONTAINS(run(spec), "127.0.0.1");
    run("NtpServer2 0");
    run("NtpServer3 0");
    CHECK_EQ(driver_start("NTP"), 0);
    turns();
    CHECK(clock_known());
    CHECK(sntp_synced());
    CHECK(clock_error_ms() >= -5 && clock_error_ms() <= 5);
    unsigned after_first = requests;
    CHECK(after_first >= 1);

    /* nothing more within the hour; the server drifts 7 s meanwhile */
    server_drift_ms = 7000;
    advance_ms(3599000);
    CHECK_EQ(requests, after_first);
    CHECK(clock_error_ms() <= -6900);
    advance_ms(2000); /* the hourly resync */
    CHECK_EQ(requests, after_first + 1);
    CHECK(clock_error_ms() >= -5 && clock_error_ms() <= 5);

    /* a silent server: the round fails 2 s after its request, then the
     * next one comes 60 s later, then 120 s, 240 s … */
    mode = SILENT;
    CHECK(until_request(3600000) >= 0); /* the hourly round */
    long gap = until_request(400000);
    CHECK(about(gap, 62000));
    gap = until_request(400000);
    CHECK(about(gap, 122000));
    gap = until_request(400000);
    CHECK(about(gap, 242000));

    /* refused replies (another request's, kiss-o'-death) leave the clock alone */
    server_drift_ms = 30000; /* it was right for a drift of 7 s */
    mode = WRONG_COOKIE;
    CHECK(about(until_request(600000), 482000));
    advance_ms(1000);
    CHECK(clock_error_ms() <= -22000);
    mode = KISS;
    CHECK(about(until_request(1200000), 960000 - 1000)); /* a refused reply ends the round at once */
    advance_ms(1000);
    CHECK(clock_error_ms() <= -22000);
    CHECK_CONTAINS(fake_console_output(), "server says RATE");
    CHECK_CONTAINS(fake_console_output(), "reply to another request");

    /* back to normal with the next round */
    mode = ANSWER;
    advance_ms(3600000);
    CHECK(clock_error_ms() >= -5 && clock_error_ms() <= 5);
}

static void test_time_by_hand_pauses_until_time_0(void)
{
    run("Time 1800000000");
    CHECK(!sntp_synced());
    unsigned before = requests;
    advance_ms(2 * 3600000);
    CHECK_EQ(requests, before); /* paused */
    CHECK(clock_utc_ms() / 1000 >= 1800000000 && clock_utc_ms() / 1000 < 1800000000 + 2 * 3600 + 10);
    run("Time 0");
    turns();
    CHECK_EQ(requests, before + 1);
    CHECK(sntp_synced());
    CHECK(clock_error_ms() >= -5 && clock_error_ms() <= 5);
}

static void test_packet_functions(void)
{
    uint8_t packet[SNTP_PACKET_SIZE];
    sntp_request(packet, 0x0102030405060708ull);
    CHECK_EQ(packet[0], 0x23);
    CHECK_EQ(packet[47], 0x08);
    struct sntp_reply reply = {.receive_ms = 1000, .transmit_ms = 1010};
    CHECK_EQ(sntp_time_at_arrival(&reply, 0, 110), 1010 + 50); /* 100 ms on the wire: half back */
    CHECK_EQ(sntp_time_at_arrival(&reply, 0, 5), 1010);        /* never before the server's time */
    char host[SNTP_HOST_MAX + 1];
    uint16_t port;
    CHECK(sntp_server_parse("pool.ntp.org", host, &port) && port == 123 && !strcmp(host, "pool.ntp.org"));
    CHECK(sntp_server_parse("10.0.0.1:1123", host, &port) && port == 1123);
    CHECK(!sntp_server_parse("", host, &port));
    CHECK(!sntp_server_parse("host:", host, &port));
    CHECK(!sntp_server_parse("host:0", host, &port));
    CHECK(!sntp_server_parse("host:65536", host, &port));
    CHECK(!sntp_server_parse("ho st", host, &port));
    CHECK(!sntp_server_parse("[::1]:123", host, &port));
}

int main(void)
{
    fake_flash_blank();
    config_load();
    commands_register_all();
    sntp_register();
    clock_start();
    server_open();
    fake_lookup_ipv4 = htonl(0x7F000001);
    RUN(test_packet_functions);
    RUN(test_sync_resync_and_backoff);
    RUN(test_time_by_hand_pauses_until_time_0);
    close(server_fd);
    return harness_report();
}
