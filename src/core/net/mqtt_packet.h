/*
 * mqtt_packet.h — MQTT 3.1.1 packets: encoding what a client sends and
 * checking and decoding what a broker sends.  No I/O, no state, no
 * allocation: the client (mqtt.c) owns the buffers, and the fuzz target
 * (fuzz/fuzz_mqtt.c) drives the decoder with arbitrary bytes.
 *
 * The decoder accepts only what a broker may send to a client that
 * subscribes at QoS 0 or 1 (CONNACK, PUBLISH QoS 0/1, PUBACK, SUBACK,
 * UNSUBACK, PINGRESP) and rejects anything else — a reserved flag set, a
 * length that does not add up, a topic with a wildcard or a NUL, QoS 2,
 * a packet only clients send — with a short message, so the client can
 * log it and drop the connection.
 */
#ifndef OPENPLUG_MQTT_PACKET_H
#define OPENPLUG_MQTT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqtt_type {
    MQTT_CONNECT = 1,
    MQTT_CONNACK = 2,
    MQTT_PUBLISH = 3,
    MQTT_PUBACK = 4,
    MQTT_PUBREC = 5,
    MQTT_PUBREL = 6,
    MQTT_PUBCOMP = 7,
    MQTT_SUBSCRIBE = 8,
    MQTT_SUBACK = 9,
    MQTT_UNSUBSCRIBE = 10,
    MQTT_UNSUBACK = 11,
    MQTT_PINGREQ = 12,
    MQTT_PINGRESP = 13,
    MQTT_DISCONNECT = 14,
};

/* ---- Encoding (client to broker) ----
 * Each returns the packet's length in bytes, or 0 when it does not fit in
 * `cap` (nothing useful is written then) or an argument is out of range. */

struct mqtt_connect_opts {
    const char *client_id;
    const char *user;     /* NULL or "" = none */
    const char *password; /* sent only with a user */
    const char *will_topic; /* NULL = no Last Will */
    const char *will_payload;
    bool will_retain;
    uint8_t will_qos;
    uint16_t keepalive_s;
    bool clean_session;
};

size_t mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect_opts *opts);
size_t mqtt_encode_publish(uint8_t *buf, size_t cap, const char *topic, const void *payload, size_t len,
                           uint8_t qos, bool retain, bool dup, uint16_t packet_id);
/* One SUBSCRIBE for `count` topic filters, all at `qos`. */
size_t mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t packet_id, const char *const *filters,
                             size_t count, uint8_t qos);
/* PUBACK (with packet_id), PINGREQ and DISCONNECT (packet_id ignored). */
size_t mqtt_encode_short(uint8_t *buf, size_t cap, enum mqtt_type type, uint16_t packet_id);

/* Mark a stored PUBLISH as a re-delivery (sets the DUP flag in place). */
void mqtt_set_dup(uint8_t *publish_packet);

/* ---- Decoding (broker to client) ---- */

enum mqtt_frame {
    MQTT_FRAME_PARTIAL = 0, /* not a whole packet yet: read more */
    MQTT_FRAME_WHOLE = 1,   /* *total bytes make one packet */
    MQTT_FRAME_BAD = -1,    /* the length field is malformed */
    MQTT_FRAME_TOO_BIG = -2 /* longer than max_packet: *total says how long */
};

/* Is a whole packet at the start of buf[0..len)?  On WHOLE or TOO_BIG,
 * *total is the packet's full length (fixed header included). */
enum mqtt_frame mqtt_frame(const uint8_t *buf, size_t len, size_t max_packet, size_t *total);

struct mqtt_packet {
    enum mqtt_type type;
    uint16_t packet_id;      /* PUBLISH QoS 1, PUBACK, SUBACK, UNSUBACK */
    /* CONNACK */
    bool session_present;
    uint8_t return_code;     /* 0 accepted, 1..5 refused (see mqtt_connack_reason) */
    /* PUBLISH: pointers into the packet's bytes (the topic is not NUL-terminated) */
    const char *topic;
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    uint8_t qos;
    bool retain, dup;
    /* SUBACK: the first granted QoS (0x80 = refused) and how many came */
    uint8_t granted;
    size_t granted_count;
    bool any_refused;
};

/* Decode one whole packet (as framed by mqtt_frame()).  Returns NULL and
 * fills *out, or returns a message saying what is wrong. */
const char *mqtt_decode(const uint8_t *buf, size_t len, struct mqtt_packet *out);

/* The words for a CONNACK return code ("bad user name or password" …). */
const char *mqtt_connack_reason(uint8_t code);

/* MQTT topic filter match ('+' one level, '#' the rest). */
bool mqtt_topic_matches(const char *filter, const char *topic, size_t topic_len);

#endif
