/* sntp_packet.c — SNTP requests, reply checks, server names; see sntp_packet.h. */
#include "sntp_packet.h"

#include <stdio.h>
#include <string.h>

#define NTP_UNIX_OFFSET 2208988800ull /* seconds from 1900 to 1970 */
#define MODE_CLIENT 3
#define MODE_SERVER 4
#define LEAP_UNSYNCHRONISED 3

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void sntp_request(uint8_t packet[SNTP_PACKET_SIZE], uint64_t cookie)
{
    memset(packet, 0, SNTP_PACKET_SIZE);
    packet[0] = 4 << 3 | MODE_CLIENT; /* leap 0, version 4, client */
    put_u64(packet + 40, cookie);
}

/* An NTP timestamp (32.32 fixed point from 1900, wrapping in 2036) to Unix
 * ms: a first half below 2^31 is read in era 1 (2036 .. 2104). */
static int64_t ntp_to_unix_ms(uint64_t ntp)
{
    uint64_t seconds = ntp >> 32;
    if (seconds < 0x80000000u)
        seconds += 1ull << 32;
    uint64_t ms = ((ntp & 0xFFFFFFFFu) * 1000) >> 32;
    return (int64_t)(seconds - NTP_UNIX_OFFSET) * 1000 + (int64_t)ms;
}

static bool refuse(char *error, size_t size, const char *reason)
{
    snprintf(error, size, "%s", reason);
    return false;
}

bool sntp_reply_parse(const uint8_t *packet, size_t len, uint64_t cookie, struct sntp_reply *out, char *error,
                      size_t error_size)
{
    if (len < SNTP_PACKET_SIZE)
        return refuse(error, error_size, "reply too short");
    unsigned leap = packet[0] >> 6, version = packet[0] >> 3 & 7, mode = packet[0] & 7;
    if (mode != MODE_SERVER)
        return refuse(error, error_size, "not a server reply");
    if (version < 3 || version > 4)
        return refuse(error, error_size, "unknown NTP version");
    if (get_u64(packet + 24) != cookie)
        return refuse(error, error_size, "reply to another request");
    if (packet[1] == 0) {
        char code[5] = {0};
        for (int i = 0; i < 4; i++)
            code[i] = packet[12 + i] >= 0x20 && packet[12 + i] < 0x7F ? (char)packet[12 + i] : '?';
        snprintf(error, error_size, "server says %s", code); /* kiss-o'-death */
        return false;
    }
    if (packet[1] > 15 || leap == LEAP_UNSYNCHRONISED)
        return refuse(error, error_size, "server not synchronised");
    uint64_t receive = get_u64(packet + 32), transmit = get_u64(packet + 40);
    if (!receive || !transmit)
        return refuse(error, error_size, "empty timestamp");
    out->receive_ms = ntp_to_unix_ms(receive);
    out->transmit_ms = ntp_to_unix_ms(transmit);
    out->stratum = packet[1];
    if (out->transmit_ms < out->receive_ms - 1000)
        return refuse(error, error_size, "server replied before it received");
    return true;
}

int64_t sntp_time_at_arrival(const struct sntp_reply *reply, uint64_t sent_ms, uint64_t received_ms)
{
    int64_t round_trip = (int64_t)(received_ms - sent_ms);
    int64_t server_hold = reply->transmit_ms - reply->receive_ms;
    int64_t delay = round_trip - (server_hold > 0 ? server_hold : 0);
    return reply->transmit_ms + (delay > 0 ? delay / 2 : 0);
}

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
           c == '_';
}

bool sntp_server_parse(const char *spec, char host[SNTP_HOST_MAX + 1], uint16_t *port)
{
    size_t n = 0;
    while (host_char(spec[n]))
        n++;
    if (n == 0 || n > SNTP_HOST_MAX || spec[0] == '.' || spec[0] == '-')
        return false;
    unsigned long value = SNTP_PORT;
    if (spec[n] == ':') {
        const char *digits = spec + n + 1;
        size_t d = 0;
        value = 0;
        while (digits[d] >= '0' && digits[d] <= '9' && d < 6)
            value = value * 10 + (unsigned long)(digits[d++] - '0');
        if (d == 0 || digits[d] || value < 1 || value > 65535)
            return false;
    } else if (spec[n]) {
        return false;
    }
    memcpy(host, spec, n);
    host[n] = '\0';
    *port = (uint16_t)value;
    return true;
}
