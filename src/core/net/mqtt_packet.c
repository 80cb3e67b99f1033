/* mqtt_packet.c — MQTT 3.1.1 encoding and decoding; see mqtt_packet.h. */
#include "mqtt_packet.h"

#include <string.h>

#define MQTT_MAX_REMAINING 268435455u /* four length bytes of 7 bits */

/* ---- Encoding ---- */

struct out {
    uint8_t *buf;
    size_t cap, len;
    bool overflow;
};

static void put_byte(struct out *o, uint8_t b)
{
    if (o->len < o->cap)
        o->buf[o->len] = b;
    else
        o->overflow = true;
    o->len++;
}

static void put_u16(struct out *o, uint16_t v)
{
    put_byte(o, (uint8_t)(v >> 8));
    put_byte(o, (uint8_t)v);
}

static void put_bytes(struct out *o, const void *data, size_t len)
{
    if (o->len + len <= o->cap && !o->overflow)
        memcpy(o->buf + o->len, data, len);
    else
        o->overflow = true;
    o->len += len;
}

/* A UTF-8 string field: two length bytes, then the bytes. */
static void put_string(struct out *o, const char *s)
{
    size_t n = strlen(s);
    if (n > 0xFFFF) {
        o->overflow = true;
        return;
    }
    put_u16(o, (uint16_t)n);
    put_bytes(o, s, n);
}

static size_t varint_size(size_t remaining) { return remaining < 128 ? 1 : remaining < 16384 ? 2 : remaining < 2097152 ? 3 : 4; }

static void put_fixed_header(struct out *o, uint8_t first, size_t remaining)
{
    put_byte(o, first);
    do {
        uint8_t digit = remaining % 128;
        remaining /= 128;
        put_byte(o, remaining ? (uint8_t)(digit | 0x80) : digit);
    } while (remaining);
}

static size_t finish(struct out *o) { return o->overflow || o->len > o->cap ? 0 : o->len; }

static bool has_text(const char *s) { return s && *s; }

size_t mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect_opts *opts)
{
    bool user = has_text(opts->user), will = opts->will_topic != NULL;
    size_t remaining = 10 + 2 + strlen(opts->client_id);
    if (will)
        remaining += 2 + strlen(opts->will_topic) + 2 + strlen(opts->will_payload ? opts->will_payload : "");
    if (user)
        remaining += 2 + strlen(opts->user) + (opts->password ? 2 + strlen(opts->password) : 0);
    if (opts->will_qos > 1 || remaining > MQTT_MAX_REMAINING)
        return 0;
    uint8_t flags = opts->clean_session ? 0x02 : 0;
    if (will)
        flags |= (uint8_t)(0x04 | opts->will_qos << 3 | (opts->will_retain ? 0x20 : 0));
    if (user)
        flags |= (uint8_t)(0x80 | (opts->password ? 0x40 : 0));

    struct out o = {buf, cap, 0, false};
    put_fixed_header(&o, MQTT_CONNECT << 4, remaining);
    put_string(&o, "MQTT");
    put_byte(&o, 4); /* protocol level 3.1.1 */
    put_byte(&o, flags);
    put_u16(&o, opts->keepalive_s);
    put_string(&o, opts->client_id);
    if (will) {
        put_string(&o, opts->will_topic);
        put_string(&o, opts->will_payload ? opts->will_payload : "");
    }
    if (user) {
        put_string(&o, opts->user);
        if (opts->password)
            put_string(&o, opts->password);
    }
    return finish(&o);
}

size_t mqtt_encode_publish(uint8_t *buf, size_t cap, const char *topic, const void *payload, size_t len,
                           uint8_t qos, bool retain, bool dup, uint16_t packet_id)
{
    size_t topic_len = strlen(topic);
    if (qos > 1 || topic_len == 0 || topic_len > 0xFFFF || (qos && !packet_id))
        return 0;
    size_t remaining = 2 + topic_len + (qos ? 2 : 0) + len;
    if (remaining > MQTT_MAX_REMAINING || 1 + varint_size(remaining) + remaining > cap)
        return 0;
    struct out o = {buf, cap, 0, false};
    put_fixed_header(&o, (uint8_t)(MQTT_PUBLISH << 4 | (dup ? 0x08 : 0) | qos << 1 | (retain ? 1 : 0)), remaining);
    put_string(&o, topic);
    if (qos)
        put_u16(&o, packet_id);
    put_bytes(&o, payload, len);
    return finish(&o);
}

size_t mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id, const char *const *filters,
                             size_t count, uint8_t qos)
{
    if (!count || !packet_id || qos > 1)
        return 0;
    size_t remaining = 2;
    for (size_t i = 0; i < count; i++)
        remaining += 2 + strlen(filters[i]) + 1;
    struct out o = {buf, cap, 0, false};
    put_fixed_header(&o, MQTT_SUBSCRIBE << 4 | 0x02, remaining); /* flags 0010: required */
    put_u16(&o, packet_id);
    for (size_t i = 0; i < count; i++) {
        put_string(&o, filters[i]);
        put_byte(&o, qos);
    }
    return finish(&o);
}

size_t mqtt_encode_short(uint8_t *buf, size_t cap, enum mqtt_type type, uint16_t packet_id)
{
    struct out o = {buf, cap, 0, false};
    if (type == MQTT_PUBACK) {
        put_fixed_header(&o, MQTT_PUBACK << 4, 2);
        put_u16(&o, packet_id);
    } else if (type == MQTT_PINGREQ || type == MQTT_DISCONNECT) {
        put_fixed_header(&o, (uint8_t)(type << 4), 0);
    } else {
        return 0;
    }
    return finish(&o);
}

void mqtt_set_dup(uint8_t *publish_packet) { publish_packet[0] |= 0x08; }

/* ---- Decoding ---- */

enum mqtt_frame mqtt_frame(const uint8_t *buf, size_t len, size_t max_packet, size_t *total)
{
    size_t remaining = 0, multiplier = 1;
    for (size_t i = 1; i <= 4; i++) {
        if (i >= len)
            return MQTT_FRAME_PARTIAL;
        remaining += (size_t)(buf[i] & 0x7F) * multiplier;
        multiplier *= 128;
        if (!(buf[i] & 0x80)) {
            if (i > 1 && buf[i] == 0)
                return MQTT_FRAME_BAD; /* a non-minimal length encoding */
            *total = 1 + i + remaining;
            if (*total > max_packet)
                return MQTT_FRAME_TOO_BIG;
            return len >= *total ? MQTT_FRAME_WHOLE : MQTT_FRAME_PARTIAL;
        }
    }
    return MQTT_FRAME_BAD; /* a fifth length byte */
}

static uint16_t get_u16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* A topic name a broker may deliver: 1..n bytes, no wildcard, no NUL. */
static const char *check_topic(const char *topic, size_t len)
{
    if (len == 0)
        return "empty topic";
    for (size_t i = 0; i < len; i++)
        if (topic[i] == '\0' || topic[i] == '+' || topic[i] == '#')
            return "topic has a wildcard or a NUL";
    return NULL;
}

static const char *decode_publish(const uint8_t *body, size_t len, uint8_t flags, struct mqtt_packet *out)
{
    out->qos = (flags >> 1) & 3;
    out->retain = flags & 1;
    out->dup = flags & 8;
    if (out->qos > 1)
        return out->qos == 3 ? "PUBLISH with QoS 3" : "PUBLISH with QoS 2 (never subscribed at 2)";
    if (out->dup && out->qos == 0)
        return "PUBLISH QoS 0 with DUP set";
    if (len < 2)
        return "PUBLISH too short for its topic length";
    size_t topic_len = get_u16(body);
    size_t header = 2 + topic_len + (out->qos ? 2 : 0);
    if (header > len)
        return "PUBLISH topic longer than the packet";
    out->topic = (const char *)body + 2;
    out->topic_len = topic_len;
    const char *bad = check_topic(out->topic, topic_len);
    if (bad)
        return bad;
    if (out->qos) {
        out->packet_id = get_u16(body + 2 + topic_len);
        if (!out->packet_id)
            return "PUBLISH QoS 1 with packet id 0";
    }
    out->payload = body + header;
    out->payload_len = len - header;
    return NULL;
}

static const char *decode_suback(const uint8_t *body, size_t len, struct mqtt_packet *out)
{
    if (len < 3)
        return "SUBACK without return codes";
    out->packet_id = get_u16(body);
    out->granted = body[2];
    out->granted_count = len - 2;
    for (size_t i = 2; i < len; i++) {
        if (body[i] == 0x80)
            out->any_refused = true;
        else if (body[i] > 2)
            return "SUBACK with a bad return code";
    }
    return NULL;
}

const char *mqtt_decode(const uint8_t *buf, size_t len, struct mqtt_packet *out)
{
    size_t total;
    memset(out, 0, sizeof *out);
    if (mqtt_frame(buf, len, len, &total) != MQTT_FRAME_WHOLE || total != len)
        return "bad length";
    size_t length_bytes = 1;
    while (buf[length_bytes] & 0x80)
        length_bytes++;
    const uint8_t *body = buf + 1 + length_bytes;
    size_t body_len = len - 1 - length_bytes;
    uint8_t flags = buf[0] & 0x0F;
    out->type = (enum mqtt_type)(buf[0] >> 4);

    switch (out->type) {
    case MQTT_CONNACK:
        if (flags || body_len != 2 || (body[0] & 0xFE))
            return "malformed CONNACK";
        if (body[1] > 5)
            return "CONNACK with an unknown return code";
        out->session_present = body[0] & 1;
        out->return_code = body[1];
        return NULL;
    case MQTT_PUBLISH:
        return decode_publish(body, body_len, flags, out);
    case MQTT_PUBACK:
    case MQTT_UNSUBACK:
        if (flags || body_len != 2)
            return "malformed PUBACK/UNSUBACK";
        out->packet_id = get_u16(body);
        return out->packet_id ? NULL : "acknowledgement of packet id 0";
    case MQTT_SUBACK:
        if (flags)
            return "malformed SUBACK";
        return decode_suback(body, body_len, out);
    case MQTT_PINGRESP:
        return flags || body_len ? "malformed PINGRESP" : NULL;
    default:
        return "a packet type a broker does not send to this client";
    }
}

const char *mqtt_connack_reason(uint8_t code)
{
    static const char *const reasons[] = {"accepted", "protocol version refused", "client id refused",
                                          "server unavailable", "bad user name or password", "not authorized"};
    return code < sizeof reasons / sizeof reasons[0] ? reasons[code] : "unknown reason";
}

bool mqtt_topic_matches(const char *filter, const char *topic, size_t topic_len)
{
    size_t t = 0;
    for (const char *f = filter; *f; f++) {
        if (*f == '#')
            return true; /* the rest, including the parent level */
        if (*f == '+') {
            while (t < topic_len && topic[t] != '/')
                t++;
            continue;
        }
        if (t >= topic_len || topic[t] != *f) {
            /* "a/#" also matches "a" */
            return t == topic_len && f[0] == '/' && f[1] == '#' && f[2] == '\0';
        }
        t++;
    }
    return t == topic_len;
}
