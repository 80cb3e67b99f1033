/*
 * mdns_packet.h — multicast DNS (RFC 6762) and DNS-SD (RFC 6763) on the
 * wire, for the plug's own names only: which of its records a query asks
 * for, and the response that carries them.  Pure functions (no socket, no
 * clock): unit-tested and fuzzed (fuzz/fuzz_mdns.c); the responder that
 * uses them is mdns.c.
 *
 * The plug's records: "<host>.local" A; "_http._tcp.local" PTR
 * "<instance>._http._tcp.local", which has SRV (port, "<host>.local") and
 * TXT "path=/"; and the DNS-SD enumeration "_services._dns-sd._udp.local"
 * PTR "_http._tcp.local".  Names in queries are compared label by label,
 * case-insensitively (ASCII), through compression pointers (at most
 * MDNS_POINTER_HOPS of them per name, so a loop ends).  Answers are written
 * without compression.
 */
#ifndef OPENPLUG_MDNS_PACKET_H
#define OPENPLUG_MDNS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MDNS_PORT 5353
#define MDNS_GROUP "224.0.0.251"
#define MDNS_PACKET_MAX 512 /* what the plug sends; a query read may be longer (truncated, then refused) */
#define MDNS_POINTER_HOPS 16
#define MDNS_TTL_HOST 120     /* A, SRV, TXT (RFC 6762 §10) */
#define MDNS_TTL_SERVICE 4500 /* PTR */

enum mdns_wanted {
    MDNS_WANT_A = 1,        /* <host>.local A (or ANY) */
    MDNS_WANT_PTR = 2,      /* _http._tcp.local PTR */
    MDNS_WANT_SRV = 4,      /* <instance>._http._tcp.local SRV */
    MDNS_WANT_TXT = 8,      /* <instance>._http._tcp.local TXT */
    MDNS_WANT_SERVICES = 16 /* _services._dns-sd._udp.local PTR */
};
#define MDNS_WANT_ALL 31

struct mdns_names {
    const char *host;     /* one label, e.g. "openplug-a1b2c3" */
    const char *instance; /* one label, any UTF-8 (at most 63 bytes), e.g. "Kitchen plug" */
};

struct mdns_query {
    uint16_t id;
    unsigned wanted;    /* MDNS_WANT_* of the questions that name the plug's records */
    bool unicast_reply; /* a question asking for us had the QU bit */
};

/* Read a packet: true for a well-formed query (QR 0, opcode 0, every
 * question complete) with what it asks of the plug in *out (0: nothing).
 * False for a response, a truncated or malformed packet. */
bool mdns_query_parse(const uint8_t *packet, size_t len, const struct mdns_names *names, struct mdns_query *out);

/* Write a response (QR, AA) with the records of `wanted` (SRV or PTR also
 * bring the A record, as additional); `ttl_scale` 1 normally, 0 for a
 * goodbye (every TTL 0).  Returns its length, 0 when the names do not fit
 * `cap` or are not single labels of 1..63 bytes. */
size_t mdns_response_build(uint8_t *buf, size_t cap, const struct mdns_names *names, uint32_t ipv4_net_order,
                           uint16_t port, unsigned wanted, uint16_t id, unsigned ttl_scale);

#endif
