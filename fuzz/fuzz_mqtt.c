/*
 * fuzz_mqtt.c — the MQTT 3.1.1 packet code of src/core/net/mqtt_packet.h
 * (it parses what the network sends).
 *
 * The input's first byte picks a mode (even / odd):
 *   0: the rest is a byte stream from a broker, framed and decoded as the
 *      client does (receive buffer of MQTT_RX_MAX bytes, allocated to the
 *      byte).  Properties: a frame is whole only within what was received;
 *      a decoded packet's topic and payload lie inside the packet, the
 *      topic is 1..n bytes without NUL or wildcard, QoS 1 has a packet id;
 *      a rejected packet says why.
 *   1: a publish round trip: topic and payload from the input are encoded
 *      (QoS 0/1, retain, dup) and decoded back: same topic, payload, QoS,
 *      flags and id — or encoding refused (too long, bad QoS, empty topic).
 *      Also a topic filter from the input is matched against the topic.
 */
#include "core/net/mqtt.h"
#include "core/net/mqtt_packet.h"
#include "fuzz_input.h"

static void check_packet(const uint8_t *packet, size_t len, const struct mqtt_packet *p)
{
    if (p->type != MQTT_PUBLISH)
        return;
    FUZZ_CHECK(p->topic_len >= 1);
    FUZZ_CHECK((const uint8_t *)p->topic > packet && (const uint8_t *)p->topic + p->topic_len <= packet + len);
    FUZZ_CHECK(p->payload >= packet && p->payload + p->payload_len == packet + len);
    for (size_t i = 0; i < p->topic_len; i++)
        FUZZ_CHECK(p->topic[i] != '\0' && p->topic[i] != '+' && p->topic[i] != '#');
    FUZZ_CHECK(p->qos <= 1);
    FUZZ_CHECK(p->qos == 0 || p->packet_id != 0);
}

static void broker_stream(const uint8_t *data, size_t size)
{
    uint8_t *rx = malloc(MQTT_RX_MAX);
    size_t rx_len = 0, pos = 0;
    while (pos < size) {
        size_t chunk = size - pos < MQTT_RX_MAX - rx_len ? size - pos : MQTT_RX_MAX - rx_len;
        memcpy(rx + rx_len, data + pos, chunk);
        rx_len += chunk;
        pos += chunk;
        for (;;) {
            size_t total = 0;
            enum mqtt_frame f = mqtt_frame(rx, rx_len, MQTT_RX_MAX, &total);
            if (f == MQTT_FRAME_BAD || f == MQTT_FRAME_TOO_BIG) {
                FUZZ_CHECK(f != MQTT_FRAME_TOO_BIG || total > MQTT_RX_MAX);
                free(rx);
                return; /* the client drops the connection */
            }
            if (f == MQTT_FRAME_PARTIAL) {
                if (rx_len == MQTT_RX_MAX) { /* cannot happen: a whole packet fits */
                    FUZZ_CHECK(false);
                }
                break;
            }
            FUZZ_CHECK(total >= 2 && total <= rx_len);
            uint8_t *packet = malloc(total); /* to the byte: ASan sees overreads */
            memcpy(packet, rx, total);
            struct mqtt_packet p;
            const char *why = mqtt_decode(packet, total, &p);
            if (why)
                FUZZ_CHECK(*why);
            else
                check_packet(packet, total, &p);
            free(packet);
            memmove(rx, rx + total, rx_len - total);
            rx_len -= total;
        }
    }
    free(rx);
}

static void publish_round_trip(struct fuzz_in *in)
{
    char topic[300], filter[64];
    uint8_t payload[600];
    fuzz_cstr(in, topic, 299);
    fuzz_cstr(in, filter, 63);
    size_t payload_len = fuzz_u16(in) % sizeof payload;
    fuzz_bytes(in, payload, payload_len);
    uint8_t qos = fuzz_u8(in) % 3, flags = fuzz_u8(in);
    uint16_t id = fuzz_u16(in);
    size_t cap = fuzz_u16(in) % 1024;
    uint8_t *buf = malloc(cap ? cap : 1);
    size_t len = mqtt_encode_publish(buf, cap, topic, payload, payload_len, qos, flags & 1, flags & 2, id);
    if (len) {
        FUZZ_CHECK(len <= cap && qos <= 1 && topic[0] && (qos == 0 || id));
        struct mqtt_packet p;
        size_t total;
        FUZZ_CHECK(mqtt_frame(buf, len, len, &total) == MQTT_FRAME_WHOLE && total == len);
        const char *why = mqtt_decode(buf, len, &p);
        bool valid_topic = !strpbrk(topic, "+#");
        bool valid_flags = !(flags & 2) || qos;
        FUZZ_CHECK((why == NULL) == (valid_topic && valid_flags));
        if (!why) {
            FUZZ_CHECK(p.type == MQTT_PUBLISH && p.qos == qos && p.retain == (flags & 1) && p.dup == !!(flags & 2));
            FUZZ_CHECK(p.topic_len == strlen(topic) && memcmp(p.topic, topic, p.topic_len) == 0);
            FUZZ_CHECK(p.payload_len == payload_len && memcmp(p.payload, payload, payload_len) == 0);
            FUZZ_CHECK(qos == 0 || p.packet_id == id);
            mqtt_topic_matches(filter, p.topic, p.topic_len);
            FUZZ_CHECK(mqtt_topic_matches("#", p.topic, p.topic_len));
            FUZZ_CHECK(mqtt_topic_matches(topic, p.topic, p.topic_len));
        }
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    struct fuzz_in in = fuzz_in(data + 1, size - 1);
    if (data[0] % 2 == 0)
        broker_stream(data + 1, size - 1);
    else
        publish_round_trip(&in);
    return 0;
}
