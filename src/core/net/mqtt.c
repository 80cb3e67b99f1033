/* mqtt.c — the MQTT client's connection state machine; see mqtt.h. */
#include "mqtt.h"

#include <stdio.h>
#include <string.h>

#include "core/health.h"
#include "core/log.h"
#include "core/net/mqtt_packet.h"
#include "core/sched.h"
#include "hal/hal.h"
#include "hal/hal_net.h"
#ifdef OPENPLUG_TLS
#include "core/net/tls.h"
#include "core/util/heap.h"
#endif

enum state {
    ST_OFF,        /* not configured, or stopped */
    ST_WAIT,       /* backing off until retry_at_ms */
    ST_RESOLVING,  /* DNS query on the wire */
    ST_CONNECTING, /* TCP connect in progress */
    ST_TLS,        /* TLS handshake */
    ST_CONNACK,    /* CONNECT sent, waiting for CONNACK */
    ST_UP,         /* connected */
};
static const char *const state_names[] = {"off", "waiting", "resolving", "connecting", "tls handshake",
                                          "mqtt handshake", "connected"};

struct inflight {
    uint16_t packet_id; /* 0 = free slot */
    uint16_t len;
    uint64_t sent_ms;
    uint8_t packet[MQTT_INFLIGHT_MAX];
};

static struct client {
    enum state state;
    struct mqtt_endpoint ep;
    struct mqtt_handlers handlers;
    int fd;
    bool fd_open; /* fd is ours (0 may be a valid socket on lwIP) */
    bool tls_open;
    int lookup;        /* hal_net_lookup handle while resolving */
    int orphan_lookup; /* a lookup given up on, polled until the HAL frees it; -1 none */
    uint32_t addr;     /* resolved, network order */
    uint64_t state_since_ms, retry_at_ms, last_rx_ms, last_tx_ms, up_since_ms;
    unsigned failures; /* in a row: sets the backoff */
    bool ping_outstanding;
    short watching;
    uint16_t next_packet_id;
    uint8_t rx[MQTT_RX_MAX];
    size_t rx_len;
    size_t rx_skip; /* bytes still to drop of a packet too long for rx */
    uint8_t tx[MQTT_TX_MAX];
    size_t tx_len;
    struct inflight inflight[MQTT_INFLIGHT];
    char topic[MQTT_TOPIC_MAX + 1]; /* NUL-terminated copy for the handler */
    /* counters for MqttStatus */
    uint32_t connects, disconnects, sent, received, retransmits, dropped_qos1;
    char last_error[80];
} c; /* all zero: in .bss, not 8 KB of .data */

static struct sched_poller poller;
static bool poller_added;
/* Wakes the loop when the back-off ends: the poller alone would wait for
 * the next timer of someone else (the 1 s tick), and plugs that booted
 * together would retry on the same tick whatever delays they drew. */
static struct sched_timer retry_timer;
/* The client's state machine reports each turn it completes: a client
 * stuck inside a step (a wedged stack) restarts the plug, named "mqtt". */
static struct health_activity health;

static void poll_and_report(void *arg);

/* Zero-initialised state: -1 marks "no lookup" (set once). */
static void init_once(void)
{
    if (!poller_added) {
        c.orphan_lookup = -1;
        sched_poller_add(&poller, poll_and_report, NULL);
        sched_timer_init(&retry_timer, poll_and_report, NULL);
        poller_added = true;
    }
}

/* ---- Small helpers ---- */

static void set_state(enum state s)
{
    c.state = s;
    c.state_since_ms = hal_time_ms();
}

static void note_error(const char *fmt, const char *detail)
{
    if (snprintf(c.last_error, sizeof c.last_error, fmt, detail) >= (int)sizeof c.last_error)
        c.last_error[sizeof c.last_error - 2] = '~'; /* cut short */
    LOG_INF("MQT", "%s", c.last_error);
}

static void watch(short events)
{
    if (c.fd_open && events != c.watching) {
        hal_net_watch(c.fd, events);
        c.watching = events;
    }
}

static uint16_t new_packet_id(void)
{
    if (++c.next_packet_id == 0)
        c.next_packet_id = 1;
    return c.next_packet_id;
}

/* ---- Transport: plain TCP or TLS ---- */

static long transport_send(const void *data, size_t len)
{
#ifdef OPENPLUG_TLS
    if (c.tls_open) {
        long n = tls_send(data, len);
        return n == TLS_WANT ? 0 : n;
    }
#endif
    long n = send(c.fd, data, len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    return n;
}

/* Bytes read, 0 when nothing is waiting, -1 on error or when the broker
 * closed the connection (*closed set). */
static long transport_recv(void *buf, size_t len, bool *closed)
{
#ifdef OPENPLUG_TLS
    if (c.tls_open) {
        long n = tls_recv(buf, len);
        if (n == TLS_WANT)
            return 0;
        *closed = n == 0;
        return n > 0 ? n : -1;
    }
#endif
    long n = recv(c.fd, buf, len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return 0;
    *closed = n == 0;
    return n > 0 ? n : -1;
}

/* hal_net_lookup_cancel() may wait for a lookup already running (glibc's
 * resolver thread): never in the loop.  A lookup given up on is polled
 * until it ends by itself, which frees its handle. */
static void abandon_lookup(void)
{
    if (c.orphan_lookup >= 0) /* one at a time; an older one is cancelled */
        hal_net_lookup_cancel(c.orphan_lookup);
    c.orphan_lookup = c.lookup;
}

static void reap_orphan_lookup(void)
{
    uint32_t ignored;
    if (c.orphan_lookup >= 0 && hal_net_lookup_poll(c.orphan_lookup, &ignored) != HAL_EBUSY)
        c.orphan_lookup = -1;
}

static void close_socket(void)
{
#ifdef OPENPLUG_TLS
    if (c.tls_open)
        tls_close();
#endif
    c.tls_open = false;
    if (c.fd_open)
        hal_net_close(c.fd);
    c.fd_open = false;
    c.watching = 0;
    if (c.state == ST_RESOLVING)
        abandon_lookup();
}

/* ---- Connection life ---- */

static uint32_t backoff_ms(unsigned failures)
{
    uint32_t ceiling = MQTT_BACKOFF_MIN_MS;
    for (unsigned i = 1; i < failures && ceiling < MQTT_BACKOFF_MAX_MS; i++)
        ceiling *= 2;
    if (ceiling > MQTT_BACKOFF_MAX_MS)
        ceiling = MQTT_BACKOFF_MAX_MS;
    /* "Equal jitter": half fixed, half random, so plugs that lost the same
     * broker do not all come back in the same instant. */
    return ceiling / 2 + hal_random() % (ceiling / 2 + 1);
}

/* Drop the connection (if any) and wait before the next attempt. */
static void connection_lost(void)
{
    bool was_up = c.state == ST_UP;
    close_socket();
    c.rx_len = c.tx_len = c.rx_skip = 0;
    if (was_up) {
        c.disconnects++;
        if (hal_time_ms() - c.up_since_ms >= MQTT_STABLE_MS)
            c.failures = 0;
    }
    c.failures++;
    uint32_t delay = backoff_ms(c.failures);
    c.retry_at_ms = hal_time_ms() + delay;
    sched_timer_start(&retry_timer, delay, 0);
    set_state(ST_WAIT);
    LOG_INF("MQT", "next attempt in %lu ms", (unsigned long)delay);
    if (was_up && c.handlers.disconnected)
        c.handlers.disconnected();
}

static void fail(const char *fmt, const char *detail)
{
    note_error(fmt, detail);
    connection_lost();
}

/* Append a packet to the transmit buffer; false if it does not fit. */
static bool queue(const uint8_t *packet, size_t len)
{
    if (len == 0 || len > MQTT_TX_MAX - c.tx_len)
        return false;
    memcpy(c.tx + c.tx_len, packet, len);
    c.tx_len += len;
    watch(POLLIN | POLLOUT); /* the loop wakes to send it, however idle */
    return true;
}

static void send_connect(void)
{
    struct mqtt_connect_opts opts = {
        .client_id = c.ep.client_id,
        .user = c.ep.user,
        .password = c.ep.user[0] ? c.ep.password : NULL,
        .will_topic = c.ep.will_topic[0] ? c.ep.will_topic : NULL,
        .will_payload = c.ep.will_payload,
        .will_retain = true,
        .will_qos = 1,
        .keepalive_s = MQTT_KEEPALIVE_S,
        .clean_session = true,
    };
    size_t len = mqtt_encode_connect(c.tx + c.tx_len, MQTT_TX_MAX - c.tx_len, &opts);
    if (!len) {
        fail("%s", "CONNECT does not fit the transmit buffer");
        return;
    }
    c.tx_len += len;
    watch(POLLIN | POLLOUT);
    c.last_rx_ms = hal_time_ms();
    set_state(ST_CONNACK);
}

static void start_tcp(void)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(c.ep.port), .sin_addr = {.s_addr = c.addr}};
    c.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c.fd < 0) {
        fail("%s", "no socket free");
        return;
    }
    c.fd_open = true;
    hal_net_set_nonblocking(c.fd);
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* commands are small: no Nagle delay */
    set_state(ST_CONNECTING);
    if (connect(c.fd, (struct sockaddr *)&to, sizeof to) != 0 && errno != EINPROGRESS) {
        fail("connect failed: %s", strerror(errno));
        return;
    }
    watch(POLLOUT);
}

/* "192.168.1.2" -> network byte order; false for anything else. */
static bool parse_ipv4(const char *text, uint32_t *addr)
{
    uint32_t value = 0;
    for (int part = 0; part < 4; part++) {
        unsigned octet = 0, digits = 0;
        for (; *text >= '0' && *text <= '9'; text++) {
            octet = octet * 10 + (unsigned)(*text - '0');
            if (++digits > 3 || octet > 255)
                return false;
        }
        if (!digits || *text != (part < 3 ? '.' : '\0'))
            return false;
        text += part < 3;
        value = value << 8 | octet;
    }
    *addr = htonl(value);
    return true;
}

static void begin_attempt(void)
{
    c.rx_len = c.tx_len = c.rx_skip = 0;
    c.ping_outstanding = false;
    LOG_INF("MQT", "connecting to %s:%u%s", c.ep.host, c.ep.port, c.ep.tls ? " (TLS)" : "");
    if (parse_ipv4(c.ep.host, &c.addr)) { /* a dotted address needs no lookup */
        set_state(ST_CONNECTING);
        start_tcp();
        return;
    }
    c.lookup = hal_net_lookup_start(c.ep.host);
    if (c.lookup < 0) {
        fail("%s", c.lookup == HAL_EBUSY ? "every name lookup is busy" : "cannot look up the broker's name");
        return;
    }
    set_state(ST_RESOLVING);
}

static void tcp_connected(void)
{
#ifdef OPENPLUG_TLS
    if (c.ep.tls) {
        char err[64];
        char *ca_pem = !c.ep.use_fingerprint && c.ep.ca_pem_load ? c.ep.ca_pem_load() : NULL;
        struct tls_trust trust = {.fingerprint = c.ep.use_fingerprint ? c.ep.fingerprint : NULL,
                                  .ca_pem = ca_pem, .host = c.ep.host};
        int opened = tls_open(c.fd, &trust, err, sizeof err);
        heap_give(ca_pem); /* parsed into the TLS session's own chain */
        if (opened != 0) {
            fail("TLS: %s", err);
            return;
        }
        c.tls_open = true;
        set_state(ST_TLS);
        watch(POLLIN);
        return;
    }
#endif
    send_connect();
}

/* ---- Receiving ---- */

static void resend_inflight(void)
{
    for (unsigned i = 0; i < MQTT_INFLIGHT; i++) {
        struct inflight *f = &c.inflight[i];
        if (!f->packet_id)
            continue;
        mqtt_set_dup(f->packet); /* a re-delivery says so */
        if (queue(f->packet, f->len)) {
            f->sent_ms = hal_time_ms();
            c.retransmits++;
        }
    }
}

static void on_connack(const struct mqtt_packet *p)
{
    if (c.state != ST_CONNACK) {
        fail("%s", "CONNACK out of turn");
        return;
    }
    if (p->return_code) {
        fail("broker refused the connection: %s", mqtt_connack_reason(p->return_code));
        return;
    }
    set_state(ST_UP);
    c.up_since_ms = hal_time_ms();
    c.connects++;
    c.last_error[0] = '\0';
    LOG_INF("MQT", "connected to %s:%u as %s", c.ep.host, c.ep.port, c.ep.client_id);
    resend_inflight();
    if (c.handlers.connected)
        c.handlers.connected();
}

static void on_publish(const struct mqtt_packet *p)
{
    if (p->qos) {
        uint8_t ack[4];
        if (!queue(ack, mqtt_encode_short(ack, sizeof ack, MQTT_PUBACK, p->packet_id))) {
            fail("%s", "no room to acknowledge a message");
            return;
        }
    }
    if (p->topic_len > MQTT_TOPIC_MAX) {
        note_error("%s", "ignored a message with a topic too long");
        return;
    }
    memcpy(c.topic, p->topic, p->topic_len);
    c.topic[p->topic_len] = '\0';
    c.received++;
    struct mqtt_message m = {c.topic, p->payload, p->payload_len, p->retain};
    if (c.handlers.message)
        c.handlers.message(&m);
}

static void on_puback(uint16_t packet_id)
{
    for (unsigned i = 0; i < MQTT_INFLIGHT; i++)
        if (c.inflight[i].packet_id == packet_id)
            c.inflight[i].packet_id = 0;
}

/* Handle one whole packet; false if the connection was dropped. */
static bool handle_packet(const uint8_t *packet, size_t len)
{
    struct mqtt_packet p;
    const char *bad = mqtt_decode(packet, len, &p);
    if (bad) {
        fail("bad packet from the broker: %s", bad);
        return false;
    }
    if (c.state != ST_UP && p.type != MQTT_CONNACK) {
        fail("%s", "broker spoke before CONNACK");
        return false;
    }
    c.last_rx_ms = hal_time_ms();
    c.ping_outstanding = false;
    switch (p.type) {
    case MQTT_CONNACK: on_connack(&p); break;
    case MQTT_PUBLISH: on_publish(&p); break;
    case MQTT_PUBACK: on_puback(p.packet_id); break;
    case MQTT_SUBACK:
        if (p.any_refused)
            note_error("%s", "broker refused a subscription");
        else
            LOG_INF("MQT", "%s", "subscriptions acknowledged: commands are heard from now on");
        break;
    default: break; /* UNSUBACK, PINGRESP: seeing them is enough */
    }
    return c.state == ST_UP || c.state == ST_CONNACK;
}

/* Drop what has come of a packet being skipped. */
static void drop_skipped(void)
{
    size_t n = c.rx_skip < c.rx_len ? c.rx_skip : c.rx_len;
    memmove(c.rx, c.rx + n, c.rx_len - n);
    c.rx_len -= n;
    c.rx_skip -= n;
}

/* A packet longer than rx (a retained message of someone else's, say) is
 * skipped, not fatal: dropping the connection would bring it back on every
 * reconnect.  A QoS 1 PUBLISH is still acknowledged (its packet id sits
 * right after the topic, near the start). */
static bool skip_too_long(size_t total)
{
    char why[80];
    if ((c.rx[0] >> 4) == MQTT_PUBLISH && (c.rx[0] & 0x06)) {
        size_t hdr = 1;
        while (hdr < 5 && (c.rx[hdr] & 0x80))
            hdr++;
        hdr++; /* past the last length byte */
        size_t id_at = hdr + 2 + (hdr + 2 <= c.rx_len ? (size_t)(c.rx[hdr] << 8 | c.rx[hdr + 1]) : MQTT_RX_MAX);
        uint8_t ack[4];
        if (id_at + 2 <= c.rx_len &&
            !queue(ack, mqtt_encode_short(ack, sizeof ack, MQTT_PUBACK, (uint16_t)(c.rx[id_at] << 8 | c.rx[id_at + 1])))) {
            fail("%s", "no room to acknowledge a message");
            return false;
        }
    }
    snprintf(why, sizeof why, "%lu bytes, more than %d", (unsigned long)total, MQTT_RX_MAX);
    note_error("ignored a packet from the broker too long for the receive buffer: %s", why);
    c.rx_skip = total;
    drop_skipped();
    return true;
}

/* At most MQTT_READS_PER_TURN reads a turn: a broker that floods the plug
 * gets served over several turns, and the relay, the button and the web
 * their turns in between. */
static void read_packets(void)
{
    for (unsigned reads = 0; reads < MQTT_READS_PER_TURN; reads++) {
        bool closed = false;
        long n = transport_recv(c.rx + c.rx_len, MQTT_RX_MAX - c.rx_len, &closed);
        if (n < 0) {
            fail("%s", closed ? "broker closed the connection" : "connection lost");
            return;
        }
        c.rx_len += (size_t)n;
        drop_skipped();
        size_t total;
        for (;;) {
            enum mqtt_frame f = c.rx_len ? mqtt_frame(c.rx, c.rx_len, MQTT_RX_MAX, &total) : MQTT_FRAME_PARTIAL;
            if (f == MQTT_FRAME_BAD) {
                fail("%s", "bad packet from the broker: malformed length");
                return;
            }
            if (f == MQTT_FRAME_TOO_BIG) {
                if (!skip_too_long(total))
                    return;
                continue;
            }
            if (f == MQTT_FRAME_PARTIAL)
                break;
            if (!handle_packet(c.rx, total))
                return;
            memmove(c.rx, c.rx + total, c.rx_len - total);
            c.rx_len -= total;
        }
        if (n == 0)
            return;
    }
}

/* ---- Sending ---- */

static void flush(void)
{
    while (c.tx_len) {
        long n = transport_send(c.tx, c.tx_len);
        if (n < 0) {
            fail("%s", "send failed: connection lost");
            return;
        }
        if (n == 0)
            break;
        memmove(c.tx, c.tx + n, c.tx_len - (size_t)n);
        c.tx_len -= (size_t)n;
        c.last_tx_ms = hal_time_ms();
    }
    watch(c.tx_len ? POLLIN | POLLOUT : POLLIN);
}

static void keepalive_and_retransmit(uint64_t now)
{
    if (now - c.last_rx_ms > MQTT_KEEPALIVE_S * 1500u) {
        fail("%s", "broker silent for 1.5 keepalives");
        return;
    }
    if (!c.ping_outstanding && (now - c.last_tx_ms >= MQTT_KEEPALIVE_S * 1000u ||
                                now - c.last_rx_ms >= MQTT_KEEPALIVE_S * 1000u)) {
        uint8_t ping[2];
        if (queue(ping, mqtt_encode_short(ping, sizeof ping, MQTT_PINGREQ, 0)))
            c.ping_outstanding = true;
    }
    for (unsigned i = 0; i < MQTT_INFLIGHT; i++) {
        struct inflight *f = &c.inflight[i];
        if (!f->packet_id || now - f->sent_ms < MQTT_RETRANSMIT_MS)
            continue;
        mqtt_set_dup(f->packet);
        if (queue(f->packet, f->len)) {
            f->sent_ms = now;
            c.retransmits++;
        }
    }
}

/* ---- The loop ---- */

static bool connect_done(void)
{
    struct pollfd pfd = {.fd = c.fd, .events = POLLOUT};
    if (poll(&pfd, 1, 0) <= 0)
        return false;
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err) {
        fail("cannot reach the broker: %s", strerror(err ? err : errno));
        return false;
    }
    return true;
}

static void step_handshake(void)
{
#ifdef OPENPLUG_TLS
    char err[80];
    int r = tls_handshake(err, sizeof err);
    if (r == 0) {
        LOG_INF("MQT", "TLS: server certificate accepted (%s)", c.ep.use_fingerprint ? "fingerprint" : "CA");
        send_connect();
    } else if (r != TLS_WANT) {
        fail("TLS: %s", err);
    }
#endif
}

static void poll_client(void *arg)
{
    (void)arg;
    uint64_t now = hal_time_ms();
    reap_orphan_lookup();
    bool wifi_up = hal_wifi_state() == HAL_WIFI_CONNECTED;
    if (c.state != ST_OFF && c.state != ST_WAIT && !wifi_up) {
        fail("%s", "Wi-Fi link lost");
        return;
    }
    switch (c.state) {
    case ST_OFF: return;
    case ST_WAIT:
        if (now >= c.retry_at_ms && wifi_up) /* no attempt without a link: it would only fail */
            begin_attempt();
        return;
    case ST_RESOLVING: {
        int r = hal_net_lookup_poll(c.lookup, &c.addr);
        if (r == HAL_OK) {
            set_state(ST_CONNECTING); /* the lookup handle is free now */
            start_tcp();
        } else if (r != HAL_EBUSY) {
            set_state(ST_CONNECTING);
            fail("broker name not found: %s", c.ep.host);
        } else if (now - c.state_since_ms > MQTT_LOOKUP_TIMEOUT_MS) {
            fail("no answer looking up %s", c.ep.host);
        }
        return;
    }
    case ST_CONNECTING:
        if (now - c.state_since_ms > MQTT_CONNECT_TIMEOUT_MS)
            fail("%s", "broker did not accept the TCP connection in time");
        else if (connect_done())
            tcp_connected();
        return;
    case ST_TLS:
        if (now - c.state_since_ms > MQTT_CONNECT_TIMEOUT_MS)
            fail("%s", "TLS handshake timed out");
        else
            step_handshake();
        return;
    case ST_CONNACK:
        if (now - c.state_since_ms > MQTT_CONNECT_TIMEOUT_MS) {
            fail("%s", "broker did not answer CONNECT in time");
            return;
        }
        break;
    case ST_UP: keepalive_and_retransmit(now); break;
    }
    if (c.state == ST_CONNACK || c.state == ST_UP)
        flush();
    if (c.state == ST_CONNACK || c.state == ST_UP)
        read_packets();
    if (c.state == ST_UP && c.tx_len)
        flush(); /* acknowledgements and replies of what was just read */
}

static void poll_and_report(void *arg)
{
    poll_client(arg);
    if (c.state != ST_OFF)
        health_alive(&health);
}

/* ---- Public ---- */

void mqtt_client_stop(void)
{
    if (c.state == ST_UP) {
        uint8_t bye[2];
        size_t len = mqtt_encode_short(bye, sizeof bye, MQTT_DISCONNECT, 0);
        if (queue(bye, len))
            flush(); /* best effort: a clean DISCONNECT keeps the Will unsent */
    }
    bool was_up = c.state == ST_UP;
    close_socket();
    memset(c.inflight, 0, sizeof c.inflight);
    set_state(ST_OFF);
    health_unregister(&health);
    if (was_up && c.handlers.disconnected)
        c.handlers.disconnected();
}

void mqtt_client_start(const struct mqtt_endpoint *endpoint, const struct mqtt_handlers *handlers)
{
    mqtt_client_stop();
    c.ep = *endpoint;
    c.handlers = *handlers;
    c.failures = 0;
    c.last_error[0] = '\0';
    init_once();
    c.retry_at_ms = hal_time_ms();
    set_state(ST_WAIT);
    health_register(&health, "mqtt", MQTT_STALL_MS);
}

bool mqtt_connected(void) { return c.state == ST_UP; }

uint32_t mqtt_connect_count(void) { return c.connects; }

size_t mqtt_tx_room(void) { return c.state == ST_UP ? MQTT_TX_MAX - c.tx_len : 0; }

static struct inflight *free_inflight(void)
{
    for (unsigned i = 0; i < MQTT_INFLIGHT; i++)
        if (!c.inflight[i].packet_id)
            return &c.inflight[i];
    return NULL;
}

char *mqtt_message_buffer(void)
{
    static char message[MQTT_MESSAGE_MAX];
    return message;
}

int mqtt_publish(const char *topic, const void *payload, size_t len, uint8_t qos, bool retain)
{
    if (c.state != ST_UP)
        return MQTT_EDOWN;
    if (!*topic || strlen(topic) > MQTT_TOPIC_MAX || strpbrk(topic, "+#"))
        return MQTT_EINVAL;
    struct inflight *slot = NULL;
    if (qos && 2 + strlen(topic) + 2 + len + 5 <= MQTT_INFLIGHT_MAX) {
        slot = free_inflight();
        if (!slot)
            return MQTT_EBUSY;
    } else {
        qos = 0;
    }
    uint16_t id = qos ? new_packet_id() : 0;
    size_t n = mqtt_encode_publish(c.tx + c.tx_len, MQTT_TX_MAX - c.tx_len, topic, payload, len, qos, retain, false, id);
    if (!n)
        return MQTT_EBUSY;
    if (slot) {
        memcpy(slot->packet, c.tx + c.tx_len, n);
        slot->len = (uint16_t)n;
        slot->packet_id = id;
        slot->sent_ms = hal_time_ms();
    }
    c.tx_len += n;
    c.sent++;
    watch(POLLIN | POLLOUT);
    return MQTT_OK;
}

int mqtt_subscribe(const char *const *filters, size_t count)
{
    if (c.state != ST_UP)
        return MQTT_EDOWN;
    size_t n = mqtt_encode_subscribe(c.tx + c.tx_len, MQTT_TX_MAX - c.tx_len, new_packet_id(), filters, count, 1);
    if (!n)
        return MQTT_EBUSY;
    c.tx_len += n;
    watch(POLLIN | POLLOUT);
    return MQTT_OK;
}

void mqtt_memory(struct mqtt_memory *out)
{
    out->static_bytes = (uint32_t)(sizeof c + sizeof poller);
    out->heap_bytes = out->heap_peak_bytes = 0;
#ifdef OPENPLUG_TLS
    tls_heap(&out->heap_bytes, &out->heap_peak_bytes);
#endif
}

void mqtt_status_write(struct json_writer *w)
{
    uint64_t now = hal_time_ms();
    jw_string(w, "State", state_names[c.state]);
    jw_string(w, "Host", c.ep.host);
    jw_int(w, "Port", c.ep.port);
    jw_int(w, "TLS", c.ep.tls);
    jw_string(w, "ClientId", c.ep.client_id);
    jw_int(w, "Connects", c.connects);
    jw_int(w, "Disconnects", c.disconnects);
    jw_int(w, "UptimeSec", c.state == ST_UP ? (int64_t)((now - c.up_since_ms) / 1000) : 0);
    jw_int(w, "RetryInMs", c.state == ST_WAIT && c.retry_at_ms > now ? (int64_t)(c.retry_at_ms - now) : 0);
    jw_int(w, "Failures", c.failures);
    jw_string(w, "LastError", c.last_error);
    jw_int(w, "Sent", c.sent);
    jw_int(w, "Received", c.received);
    jw_int(w, "Retransmits", c.retransmits);
    unsigned inflight = 0;
    for (unsigned i = 0; i < MQTT_INFLIGHT; i++)
        inflight += c.inflight[i].packet_id != 0;
    jw_int(w, "Inflight", inflight);
    jw_int(w, "TxQueued", (int64_t)c.tx_len);
    struct mqtt_memory m;
    mqtt_memory(&m);
    jw_object_begin(w, "Memory");
    jw_int(w, "Static", m.static_bytes);
    jw_int(w, "Heap", m.heap_bytes);
    jw_int(w, "HeapPeak", m.heap_peak_bytes);
    jw_object_end(w);
}
