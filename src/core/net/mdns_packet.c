/* mdns_packet.c — mDNS queries read and responses written; see mdns_packet.h. */
#include "mdns_packet.h"

#include <string.h>

enum { TYPE_A = 1, TYPE_PTR = 12, TYPE_TXT = 16, TYPE_SRV = 33, TYPE_ANY = 255 };
#define CLASS_IN 1
#define CLASS_FLUSH 0x8000 /* in a record: cache-flush (a unique record); in a question: QU */
#define HEADER_SIZE 12

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static bool same_label(const uint8_t *label, const char *ours, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t a = label[i], b = (uint8_t)ours[i];
        if (a >= 'A' && a <= 'Z')
            a = (uint8_t)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b + 32);
        if (a != b)
            return false;
    }
    return true;
}

/* The name at *off against labels[0..n-1]: 1 the same, 0 another, -1
 * malformed.  *off moves past the name as it stands in the packet. */
static int name_is(const uint8_t *p, size_t len, size_t *off, const char *const *labels, int n)
{
    size_t pos = *off;
    bool jumped = false, same = true;
    int hops = 0, at = 0;
    for (;;) {
        if (pos >= len)
            return -1;
        uint8_t c = p[pos];
        if ((c & 0xC0) == 0xC0) {
            if (pos + 1 >= len || ++hops > MDNS_POINTER_HOPS)
                return -1;
            if (!jumped)
                *off = pos + 2;
            jumped = true;
            pos = (size_t)(c & 0x3F) << 8 | p[pos + 1];
            continue;
        }
        if (c & 0xC0) /* 0x40, 0x80: label types nobody uses */
            return -1;
        if (c == 0) {
            if (!jumped)
                *off = pos + 1;
            return same && at == n;
        }
        if (pos + 1 + c > len)
            return -1;
        if (same && (at == n || strlen(labels[at]) != c || !same_label(p + pos + 1, labels[at], c)))
            same = false;
        at++;
        pos += 1u + c;
    }
}

bool mdns_query_parse(const uint8_t *p, size_t len, const struct mdns_names *names, struct mdns_query *out)
{
    *out = (struct mdns_query){0};
    if (len < HEADER_SIZE || (p[2] & 0x80) || (p[2] & 0x78))
        return false; /* short, a response, or not a standard query */
    out->id = get16(p);
    const char *host[] = {names->host, "local"};
    const char *service[] = {"_http", "_tcp", "local"};
    const char *instance[] = {names->instance, "_http", "_tcp", "local"};
    const char *services[] = {"_services", "_dns-sd", "_udp", "local"};
    size_t off = HEADER_SIZE;
    for (unsigned q = get16(p + 4); q > 0; q--) {
        size_t after = off, skip;
        int is_host = name_is(p, len, &after, host, 2);
        skip = off;
        int is_service = name_is(p, len, &skip, service, 3);
        skip = off;
        int is_instance = name_is(p, len, &skip, instance, 4);
        skip = off;
        int is_services = name_is(p, len, &skip, services, 4);
        if (is_host < 0 || is_service < 0 || is_instance < 0 || is_services < 0 || after + 4 > len) {
            *out = (struct mdns_query){0}; /* a malformed query asks nothing, not even its first questions */
            return false;
        }
        unsigned type = get16(p + after), class = get16(p + after + 2);
        off = after + 4;
        if ((class & ~CLASS_FLUSH) != CLASS_IN && (class & ~CLASS_FLUSH) != 255)
            continue;
        unsigned before = out->wanted;
        bool any = type == TYPE_ANY;
        if (is_host && (type == TYPE_A || any))
            out->wanted |= MDNS_WANT_A;
        if (is_service && (type == TYPE_PTR || any))
            out->wanted |= MDNS_WANT_PTR;
        if (is_instance && (type == TYPE_SRV || any))
            out->wanted |= MDNS_WANT_SRV;
        if (is_instance && (type == TYPE_TXT || any))
            out->wanted |= MDNS_WANT_TXT;
        if (is_services && (type == TYPE_PTR || any))
            out->wanted |= MDNS_WANT_SERVICES;
        if (out->wanted != before && (class & CLASS_FLUSH))
            out->unicast_reply = true;
    }
    return true;
}

/* ---- Writing ---- */

struct writer {
    uint8_t *buf;
    size_t cap, len;
    bool full;
};

static void put(struct writer *w, const void *data, size_t n)
{
    if (w->full || w->len + n > w->cap) {
        w->full = true;
        return;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
}

static void put16(struct writer *w, unsigned v) { put(w, (uint8_t[]){(uint8_t)(v >> 8), (uint8_t)v}, 2); }

static void put32(struct writer *w, uint32_t v)
{
    put16(w, v >> 16);
    put16(w, v & 0xFFFF);
}

static void put_name(struct writer *w, const char *const *labels, int n)
{
    for (int i = 0; i < n; i++) {
        size_t len = strlen(labels[i]);
        put(w, (uint8_t[]){(uint8_t)len}, 1);
        put(w, labels[i], len);
    }
    put(w, "", 1);
}

/* A record's head; its data length is patched by end_record(). */
static size_t begin_record(struct writer *w, const char *const *labels, int n, unsigned type, bool unique,
                           uint32_t ttl)
{
    put_name(w, labels, n);
    put16(w, type);
    put16(w, CLASS_IN | (unique ? CLASS_FLUSH : 0));
    put32(w, ttl);
    put16(w, 0);
    return w->len;
}

static void end_record(struct writer *w, size_t data_start)
{
    if (w->full)
        return;
    size_t n = w->len - data_start;
    w->buf[data_start - 2] = (uint8_t)(n >> 8);
    w->buf[data_start - 1] = (uint8_t)n;
}

static bool label_ok(const char *label) { return label && *label && strlen(label) <= 63; }

size_t mdns_response_build(uint8_t *buf, size_t cap, const struct mdns_names *names, uint32_t ipv4_net_order,
                           uint16_t port, unsigned wanted, uint16_t id, unsigned ttl_scale)
{
    if (!label_ok(names->host) || !label_ok(names->instance) || !(wanted & MDNS_WANT_ALL))
        return 0;
    const char *host[] = {names->host, "local"};
    const char *service[] = {"_http", "_tcp", "local"};
    const char *instance[] = {names->instance, "_http", "_tcp", "local"};
    const char *services[] = {"_services", "_dns-sd", "_udp", "local"};
    /* What a PTR or SRV answer implies, given as additional records. */
    unsigned extra = 0;
    if (wanted & MDNS_WANT_PTR)
        extra |= MDNS_WANT_SRV | MDNS_WANT_TXT | MDNS_WANT_A;
    if (wanted & MDNS_WANT_SRV)
        extra |= MDNS_WANT_A;
    extra &= ~wanted;
    struct writer w = {.buf = buf, .cap = cap};
    unsigned answers = 0, additional = 0;
    for (unsigned bit = 1; bit <= MDNS_WANT_SERVICES; bit <<= 1) {
        answers += (wanted & bit) != 0;
        additional += (extra & bit) != 0;
    }
    put16(&w, id);
    put16(&w, 0x8400); /* QR, AA */
    put16(&w, 0);
    put16(&w, answers);
    put16(&w, 0);
    put16(&w, additional);
    for (int section = 0; section < 2; section++) {
        unsigned set = section == 0 ? wanted : extra;
        size_t data;
        if (set & MDNS_WANT_PTR) {
            data = begin_record(&w, service, 3, TYPE_PTR, false, MDNS_TTL_SERVICE * ttl_scale);
            put_name(&w, instance, 4);
            end_record(&w, data);
        }
        if (set & MDNS_WANT_SERVICES) {
            data = begin_record(&w, services, 4, TYPE_PTR, false, MDNS_TTL_SERVICE * ttl_scale);
            put_name(&w, service, 3);
            end_record(&w, data);
        }
        if (set & MDNS_WANT_SRV) {
            data = begin_record(&w, instance, 4, TYPE_SRV, true, MDNS_TTL_HOST * ttl_scale);
            put16(&w, 0); /* priority */
            put16(&w, 0); /* weight */
            put16(&w, port);
            put_name(&w, host, 2);
            end_record(&w, data);
        }
        if (set & MDNS_WANT_TXT) {
            data = begin_record(&w, instance, 4, TYPE_TXT, true, MDNS_TTL_HOST * ttl_scale);
            put(&w, "\x06path=/", 7);
            end_record(&w, data);
        }
        if (set & MDNS_WANT_A) {
            data = begin_record(&w, host, 2, TYPE_A, true, MDNS_TTL_HOST * ttl_scale);
            put(&w, &ipv4_net_order, 4);
            end_record(&w, data);
        }
    }
    return w.full ? 0 : w.len;
}
