/*
 * fuzz_sntp.c — the SNTP reply checks and server names
 * (src/core/net/sntp_packet.h).
 *
 * The input: 8 bytes of the cookie, 8 + 8 bytes of the device times sent
 * and received, then a packet (also read as a server name).  Properties:
 *   - a reply is accepted only with mode 4, version 3-4, stratum 1-15, a
 *     synchronised leap field and our cookie as its origin;
 *   - the times of an accepted reply are within 1968 .. 2104 and the time
 *     at arrival never before the server's transmit time;
 *   - a refused reply says why; a server name, when accepted, is a non-empty
 *     host of at most 64 characters and a port 1..65535.
 */
#include "core/net/sntp_packet.h"
#include "fuzz_input.h"

/* The window NTP timestamps are read in: 2^31 s after 1900 (1968-01-20)
 * to 2^32 + 2^31 s after 1900 (2104-02-26). */
#define YEAR_1968_MS (((1LL << 31) - 2208988800LL) * 1000)
#define YEAR_2104_MS (((1LL << 32) + (1LL << 31) - 2208988800LL) * 1000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in(data, size);
    uint64_t cookie = fuzz_u64(&in), sent = fuzz_u64(&in), received = fuzz_u64(&in);
    size_t len = fuzz_left(&in);
    uint8_t *packet = malloc(len + 1);
    fuzz_bytes(&in, packet, len);
    if (len >= SNTP_PACKET_SIZE && (data[0] & 1)) /* often a reply to our own request */
        memcpy(packet + 24, &(uint8_t[8]){(uint8_t)(cookie >> 56), (uint8_t)(cookie >> 48), (uint8_t)(cookie >> 40),
                                          (uint8_t)(cookie >> 32), (uint8_t)(cookie >> 24), (uint8_t)(cookie >> 16),
                                          (uint8_t)(cookie >> 8), (uint8_t)cookie},
               8);

    struct sntp_reply reply;
    char error[48] = "";
    if (sntp_reply_parse(packet, len, cookie, &reply, error, sizeof error)) {
        FUZZ_CHECK(len >= SNTP_PACKET_SIZE);
        FUZZ_CHECK((packet[0] & 7) == 4 && (packet[0] >> 3 & 7) >= 3 && (packet[0] >> 3 & 7) <= 4);
        FUZZ_CHECK(packet[1] >= 1 && packet[1] <= 15 && packet[0] >> 6 != 3);
        FUZZ_CHECK(reply.receive_ms >= YEAR_1968_MS && reply.receive_ms < YEAR_2104_MS);
        FUZZ_CHECK(reply.transmit_ms >= YEAR_1968_MS && reply.transmit_ms < YEAR_2104_MS);
        if (received - sent < (1ull << 40))
            FUZZ_CHECK(sntp_time_at_arrival(&reply, sent, received) >= reply.transmit_ms);
    } else {
        FUZZ_CHECK(error[0] != '\0');
    }

    char text[SNTP_HOST_MAX + 16], host[SNTP_HOST_MAX + 1];
    size_t n = len < sizeof text - 1 ? len : sizeof text - 1;
    memcpy(text, packet, n);
    text[n] = '\0';
    uint16_t port = 0;
    if (sntp_server_parse(text, host, &port)) {
        FUZZ_CHECK(host[0] != '\0' && strlen(host) <= SNTP_HOST_MAX && port >= 1);
        FUZZ_CHECK(strncmp(text, host, strlen(host)) == 0);
    }
    free(packet);
    return 0;
}
