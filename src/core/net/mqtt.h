/*
 * mqtt.h — the plug's MQTT 3.1.1 client: one connection to one broker,
 * driven from the main loop, never blocking it.
 *
 * Owns the socket (optionally TLS), the broker's name lookup (the HAL's
 * non-blocking hal_net_lookup_*), the connect
 * sequence, keepalive, the Last Will, QoS 0/1 publishing with
 * retransmission of unacknowledged QoS 1 messages, subscriptions, and
 * reconnection with exponential backoff and jitter.  What to publish and
 * what a received message means is the caller's (mqtt_tasmota.c).
 *
 * Every buffer is fixed and static (MQTT_RX_MAX, MQTT_TX_MAX,
 * MQTT_INFLIGHT x MQTT_INFLIGHT_MAX): a publish that does not fit now
 * returns MQTT_EBUSY, and the caller tries again later or drops it.  A
 * packet from the broker longer than MQTT_RX_MAX is skipped (logged; a
 * QoS 1 one acknowledged); a malformed one drops the connection (logged),
 * as does a broker silent for 1.5 keepalives.
 * While the broker is away, nothing here waits: each loop turn costs a
 * check of a timestamp.  No attempt is made while Wi-Fi is not connected,
 * and losing the link drops the connection.
 */
#ifndef OPENPLUG_MQTT_H
#define OPENPLUG_MQTT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/storage/config.h"
#include "core/util/json.h"

#define MQTT_RX_MAX 3072        /* longest packet accepted from the broker: a Template of 2.5 KB and more */
#define MQTT_TX_MAX 4096        /* bytes queued for the broker */
#define MQTT_INFLIGHT 4         /* QoS 1 messages awaiting PUBACK */
#define MQTT_INFLIGHT_MAX 320   /* longest QoS 1 packet (larger ones go at QoS 0) */
#define MQTT_KEEPALIVE_S 30
#define MQTT_LOOKUP_TIMEOUT_MS 15000  /* the broker's name */
#define MQTT_CONNECT_TIMEOUT_MS 10000 /* TCP + TLS + CONNACK */
#define MQTT_RETRANSMIT_MS 10000
#define MQTT_BACKOFF_MIN_MS 1000
#define MQTT_BACKOFF_MAX_MS 60000
#define MQTT_STABLE_MS 30000    /* connected this long: the backoff starts over */
#define MQTT_TOPIC_MAX 128
#define MQTT_READS_PER_TURN 4   /* receive-buffer fills handled in one loop turn */
#define MQTT_STALL_MS 30000     /* the health monitor's limit for a turn of the client */

enum mqtt_result { MQTT_OK = 0, MQTT_EBUSY = -1, MQTT_EDOWN = -2, MQTT_EINVAL = -3 };

struct mqtt_message {
    const char *topic; /* NUL-terminated copy */
    const uint8_t *payload;
    size_t payload_len;
    bool retained;
};

struct mqtt_handlers {
    void (*connected)(void);    /* CONNACK accepted: subscribe and announce */
    void (*disconnected)(void);
    void (*message)(const struct mqtt_message *message);
};

/* Where and who: taken from the settings by the caller. */
struct mqtt_endpoint {
    char host[CONFIG_HOST_SIZE];
    uint16_t port;
    char client_id[CONFIG_NAME_SIZE];
    char user[CONFIG_NAME_SIZE];
    char password[CONFIG_SECRET_SIZE];
    char will_topic[MQTT_TOPIC_MAX];
    char will_payload[16];
    bool tls;
    bool use_fingerprint;
    uint8_t fingerprint[32];
    /* CA mode: the PEM to trust, loaded at each connect into a heap block
     * the client gives back (heap_give) once TLS has parsed it. */
    char *(*ca_pem_load)(void);
};

/* (Re)start the client toward `endpoint`: any current connection is closed
 * politely first.  The first attempt starts in this loop turn. */
void mqtt_client_start(const struct mqtt_endpoint *endpoint, const struct mqtt_handlers *handlers);
/* Disconnect and stay off. */
void mqtt_client_stop(void);

bool mqtt_connected(void);
/* Connections made since boot (Tasmota's MqttCount in STATE / Status 11). */
uint32_t mqtt_connect_count(void);

/* One buffer (MQTT_MESSAGE_MAX bytes) for building a message that is
 * published at once: Tasmota's JSON topics, discovery configs.  Its text
 * lasts until the next caller takes it: build, publish, never keep. */
#define MQTT_MESSAGE_MAX 1024
char *mqtt_message_buffer(void);

/* Queue a PUBLISH.  QoS 1 packets longer than MQTT_INFLIGHT_MAX go at QoS
 * 0.  MQTT_EDOWN when not connected, MQTT_EBUSY when the buffers are full
 * now (retry later), MQTT_EINVAL for a bad topic. */
int mqtt_publish(const char *topic, const void *payload, size_t len, uint8_t qos, bool retain);
static inline int mqtt_publish_text(const char *topic, const char *text, uint8_t qos, bool retain)
{
    return mqtt_publish(topic, text, strlen(text), qos, retain);
}
/* Bytes a publish may use right now (to pace a burst). */
size_t mqtt_tx_room(void);
/* Subscribe to topic filters (QoS 1).  Same results as mqtt_publish. */
int mqtt_subscribe(const char *const *filters, size_t count);

/* The connection's state, counters and memory, as JSON members of an open
 * object (the MqttStatus command, the web UI's /api). */
void mqtt_status_write(struct json_writer *w);

/* Figures for the benchmark: static bytes of the client, TLS heap now and
 * at its peak. */
struct mqtt_memory {
    uint32_t static_bytes, heap_bytes, heap_peak_bytes;
};
void mqtt_memory(struct mqtt_memory *out);

#endif
