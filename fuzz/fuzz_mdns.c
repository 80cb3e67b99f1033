/*
 * fuzz_mdns.c — the mDNS query reader and response writer
 * (src/core/net/mdns_packet.h) on arbitrary datagrams.
 * Properties: no crash or read beyond the datagram (ASan), compression
 * pointer loops end; reading is deterministic; what a query asks is within
 * MDNS_WANT_ALL; the response to it fits MDNS_PACKET_MAX, and is itself no
 * query (a responder never answers another's answer).
 */
#include "core/net/mdns_packet.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1500)
        return 0;
    uint8_t *copy = malloc(size ? size : 1); /* exactly the datagram: ASan sees any overread */
    memcpy(copy, data, size);
    const struct mdns_names names = {.host = "openplug-f36e3c", .instance = "Kitchen Plug"};
    struct mdns_query q, again;
    bool ok = mdns_query_parse(copy, size, &names, &q);
    FUZZ_CHECK(mdns_query_parse(copy, size, &names, &again) == ok);
    FUZZ_CHECK(again.wanted == q.wanted && again.id == q.id && again.unicast_reply == q.unicast_reply);
    if (ok && q.wanted) {
        FUZZ_CHECK((q.wanted & ~(unsigned)MDNS_WANT_ALL) == 0);
        uint8_t reply[MDNS_PACKET_MAX];
        size_t len = mdns_response_build(reply, sizeof reply, &names, 0x0100007F, 80, q.wanted, q.id, 1);
        FUZZ_CHECK(len > 12 && len <= sizeof reply);
        struct mdns_query echo;
        FUZZ_CHECK(!mdns_query_parse(reply, len, &names, &echo));
    } else if (!ok) {
        FUZZ_CHECK(q.wanted == 0);
    }
    free(copy);
    return 0;
}
