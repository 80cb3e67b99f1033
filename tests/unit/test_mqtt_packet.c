/* test_mqtt_packet.c — MQTT 3.1.1 encoding byte for byte, the checked
 * decoder on good and bad packets, framing, topic filters. */
#include <stdint.h>

#include "core/net/mqtt_packet.h"
#include "harness.h"

static int same_bytes(const uint8_t *a, const uint8_t *b, size_t n) { return memcmp(a, b, n) == 0; }

static void test_connect_encoding(void)
{
    uint8_t buf[128];
    struct mqtt_connect_opts o = {.client_id = "plug", .keepalive_s = 30, .clean_session = true};
    static const uint8_t minimal[] = {0x10, 16, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, 4, 'p', 'l', 'u', 'g'};
    CHECK_EQ(mqtt_encode_connect(buf, sizeof buf, &o), sizeof minimal);
    CHECK(same_bytes(buf, minimal, sizeof minimal));
    /* Will (QoS 1, retained), user and password: flags 0x80|0x40|0x20|0x08|0x04|0x02 */
    o.will_topic = "t/LWT";
    o.will_payload = "Offline";
    o.will_qos = 1;
    o.will_retain = true;
    o.user = "u";
    o.password = "pw";
    size_t n = mqtt_encode_connect(buf, sizeof buf, &o);
    CHECK_EQ(n, 2 + 10 + 6 + 7 + 9 + 3 + 4);
    CHECK_EQ(buf[9], 0xEE);
    CHECK(same_bytes(buf + 18, (const uint8_t *)"\0\5t/LWT\0\7Offline\0\1u\0\2pw", 23));
    /* A buffer one byte short: nothing. */
    CHECK_EQ(mqtt_encode_connect(buf, n - 1, &o), 0);
}

static void test_publish_subscribe_short(void)
{
    uint8_t buf[300];
    static const uint8_t qos1[] = {0x33, 9, 0, 3, 'a', '/', 'b', 0x12, 0x34, 'O', 'N'};
    CHECK_EQ(mqtt_encode_publish(buf, sizeof buf, "a/b", "ON", 2, 1, true, false, 0x1234), sizeof qos1);
    CHECK(same_bytes(buf, qos1, sizeof qos1));
    mqtt_set_dup(buf);
    CHECK_EQ(buf[0], 0x3B);
    CHECK_EQ(mqtt_encode_publish(buf, sizeof buf, "a/b", "x", 1, 1, false, false, 0), 0); /* QoS 1 needs an id */
    CHECK_EQ(mqtt_encode_publish(buf, sizeof buf, "", "x", 1, 0, false, false, 0), 0);
    CHECK_EQ(mqtt_encode_publish(buf, sizeof buf, "a", "x", 1, 2, false, false, 1), 0);
    /* Two length bytes from 128 on. */
    static char payload[200];
    CHECK_EQ(mqtt_encode_publish(buf, sizeof buf, "t", payload, 200, 0, false, false, 0), 1 + 2 + 3 + 200);
    CHECK_EQ(buf[1], (203 & 0x7F) | 0x80);
    CHECK_EQ(buf[2], 1);
    const char *filters[] = {"cmnd/p/#", "homeassistant/status"};
    size_t n = mqtt_encode_subscribe(buf, sizeof buf, 7, filters, 2, 1);
    CHECK_EQ(n, 2 + 2 + (2 + 8 + 1) + (2 + 20 + 1));
    CHECK_EQ(buf[0], 0x82);
    CHECK_EQ(buf[4], 0);
    CHECK_EQ(buf[5], 8);
    CHECK_EQ(buf[14], 1);
    static const uint8_t puback[] = {0x40, 2, 0, 9}, ping[] = {0xC0, 0}, bye[] = {0xE0, 0};
    CHECK_EQ(mqtt_encode_short(buf, sizeof buf, MQTT_PUBACK, 9), 4);
    CHECK(same_bytes(buf, puback, 4));
    CHECK_EQ(mqtt_encode_short(buf, sizeof buf, MQTT_PINGREQ, 0), 2);
    CHECK(same_bytes(buf, ping, 2));
    CHECK_EQ(mqtt_encode_short(buf, sizeof buf, MQTT_DISCONNECT, 0), 2);
    CHECK(same_bytes(buf, bye, 2));
    CHECK_EQ(mqtt_encode_short(buf, sizeof buf, MQTT_CONNACK, 0), 0);
}

static void test_framing(void)
{
    size_t total = 0;
    static const uint8_t two_bytes[] = {0x30, 0x80, 0x01};
    CHECK_EQ(mqtt_frame(two_bytes, 1, 2048, &total), MQTT_FRAME_PARTIAL);
    CHECK_EQ(mqtt_frame(two_bytes, 2, 2048, &total), MQTT_FRAME_PARTIAL);
    CHECK_EQ(mqtt_frame(two_bytes, 3, 2048, &total), MQTT_FRAME_PARTIAL);
    CHECK_EQ(total, 3 + 128); /* known once the length is: the body is still to come */
    CHECK_EQ(mqtt_frame(two_bytes, 3, 100, &total), MQTT_FRAME_TOO_BIG);
    CHECK_EQ(total, 3 + 128);
    static const uint8_t five[] = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    CHECK_EQ(mqtt_frame(five, sizeof five, 2048, &total), MQTT_FRAME_BAD);
    static const uint8_t padded[] = {0x30, 0x80, 0x00};
    CHECK_EQ(mqtt_frame(padded, sizeof padded, 2048, &total), MQTT_FRAME_BAD);
    static const uint8_t ping[] = {0xD0, 0x00, 0x20};
    CHECK_EQ(mqtt_frame(ping, sizeof ping, 2048, &total), MQTT_FRAME_WHOLE);
    CHECK_EQ(total, 2);
}

static const char *decode(const uint8_t *p, size_t n, struct mqtt_packet *out) { return mqtt_decode(p, n, out); }

static void test_decoding(void)
{
    struct mqtt_packet p;
    static const uint8_t connack[] = {0x20, 2, 1, 0}, refused[] = {0x20, 2, 0, 5}, bad_ack[] = {0x20, 2, 2, 0};
    CHECK(decode(connack, 4, &p) == NULL && p.type == MQTT_CONNACK && p.session_present && p.return_code == 0);
    CHECK(decode(refused, 4, &p) == NULL && p.return_code == 5);
    CHECK_STR(mqtt_connack_reason(5), "not authorized");
    CHECK(decode(bad_ack, 4, &p) != NULL);
    static const uint8_t pub[] = {0x33, 12, 0, 7, 'c', 'm', 'n', 'd', '/', 'x', '/', 0, 5, 'o', 'n'};
    CHECK(decode(pub, 3, &p) != NULL); /* cut short */
    static const uint8_t pub_ok[] = {0x33, 13, 0, 6, 'c', 'm', 'n', 'd', '/', 'x', 0, 5, 'o', 'n', '!'};
    CHECK(decode(pub_ok, sizeof pub_ok, &p) == NULL);
    CHECK(p.type == MQTT_PUBLISH && p.qos == 1 && p.retain && !p.dup && p.packet_id == 5);
    CHECK_EQ(p.topic_len, 6);
    CHECK(memcmp(p.topic, "cmnd/x", 6) == 0);
    CHECK_EQ(p.payload_len, 3);
    static const uint8_t wildcard[] = {0x30, 5, 0, 3, 'a', '/', '#'}, nul[] = {0x30, 5, 0, 3, 'a', 0, 'b'};
    static const uint8_t qos2[] = {0x34, 7, 0, 3, 'a', '/', 'b', 0, 1}, long_topic[] = {0x30, 4, 0, 9, 'a', 'b'};
    static const uint8_t id0[] = {0x32, 7, 0, 3, 'a', '/', 'b', 0, 0}, dup0[] = {0x38, 3, 0, 1, 'a'};
    CHECK(decode(wildcard, sizeof wildcard, &p) != NULL);
    CHECK(decode(nul, sizeof nul, &p) != NULL);
    CHECK(decode(qos2, sizeof qos2, &p) != NULL);
    CHECK(decode(long_topic, sizeof long_topic, &p) != NULL);
    CHECK(decode(id0, sizeof id0, &p) != NULL);
    CHECK(decode(dup0, sizeof dup0, &p) != NULL);
    static const uint8_t suback[] = {0x90, 4, 0, 7, 1, 0x80}, suback_bad[] = {0x90, 3, 0, 7, 3};
    CHECK(decode(suback, sizeof suback, &p) == NULL && p.packet_id == 7 && p.granted == 1 && p.any_refused);
    CHECK(decode(suback_bad, sizeof suback_bad, &p) != NULL);
    static const uint8_t puback[] = {0x40, 2, 0, 9}, pingresp[] = {0xD0, 0}, connect[] = {0x10, 0};
    CHECK(decode(puback, 4, &p) == NULL && p.type == MQTT_PUBACK && p.packet_id == 9);
    CHECK(decode(pingresp, 2, &p) == NULL && p.type == MQTT_PINGRESP);
    CHECK(decode(connect, 2, &p) != NULL); /* brokers never send CONNECT */
}

static void test_topic_filters(void)
{
    CHECK(mqtt_topic_matches("cmnd/p/#", "cmnd/p/POWER", 12));
    CHECK(mqtt_topic_matches("cmnd/p/#", "cmnd/p", 6));
    CHECK(!mqtt_topic_matches("cmnd/p/#", "cmnd/q/POWER", 12));
    CHECK(mqtt_topic_matches("cmnd/+/POWER", "cmnd/p/POWER", 12));
    CHECK(!mqtt_topic_matches("cmnd/+/POWER", "cmnd/p/x/POWER", 14));
    CHECK(mqtt_topic_matches("a/b", "a/b", 3));
    CHECK(!mqtt_topic_matches("a/b", "a/bc", 4));
}

int main(void)
{
    RUN(test_connect_encoding);
    RUN(test_publish_subscribe_short);
    RUN(test_framing);
    RUN(test_decoding);
    RUN(test_topic_filters);
    return harness_report();
}
