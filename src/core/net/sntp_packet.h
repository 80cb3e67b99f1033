/*
 * sntp_packet.h — SNTP (RFC 4330 / 5905) on the wire: the client request,
 * the checks a server's reply must pass, and "host[:port]" server names.
 * Pure functions (no socket, no clock): unit-tested, also on RV32, and
 * fuzzed (fuzz/fuzz_sntp.c).  The client that uses them is sntp.c.
 */
#ifndef OPENPLUG_SNTP_PACKET_H
#define OPENPLUG_SNTP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SNTP_PACKET_SIZE 48
#define SNTP_PORT 123
#define SNTP_HOST_MAX 64

/* A client request (version 4, mode 3).  `cookie` goes in the transmit
 * timestamp: a server echoes it as the origin of its reply, which is how a
 * reply is matched to its request (and a forged one refused). */
void sntp_request(uint8_t packet[SNTP_PACKET_SIZE], uint64_t cookie);

struct sntp_reply {
    int64_t receive_ms;  /* T2: server time the request arrived, Unix ms */
    int64_t transmit_ms; /* T3: server time the reply left, Unix ms */
    uint8_t stratum;
};

/* Check and read a reply to the request carrying `cookie`.  Returns true,
 * or false with a short reason in *error: too short, not a server reply,
 * wrong version, not ours (origin), kiss-o'-death ("server says RATE"),
 * unsynchronised server, empty or out-of-range timestamps.  NTP era
 * handling: times are taken within 1968 .. 2104. */
bool sntp_reply_parse(const uint8_t *packet, size_t len, uint64_t cookie, struct sntp_reply *out, char *error,
                      size_t error_size);

/* UTC at the moment the reply arrived, from the server's times and our own
 * round trip (device ms when sent and received): T3 + delay / 2, with
 * delay = (T4 - T1) - (T3 - T2), never negative. */
int64_t sntp_time_at_arrival(const struct sntp_reply *reply, uint64_t sent_ms, uint64_t received_ms);

/* "pool.ntp.org", "10.0.0.1:1123", "[::1]" is not supported (IPv4 only).
 * Returns false for an empty or malformed name, or a port out of 1..65535. */
bool sntp_server_parse(const char *spec, char host[SNTP_HOST_MAX + 1], uint16_t *port);

#endif
