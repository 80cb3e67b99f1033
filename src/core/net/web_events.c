/*
 * web_events.c — Server-Sent Events at /api/events; see web_events.h.
 *
 * Changes are numbered: relay changes go into a small ring (a client that
 * fell more than WEB_EVENTS_RELAY_RING behind gets a fresh "state" instead),
 * sensors and Wi-Fi keep only their latest generation, log lines come from
 * the log's own ring.  On any change every SSE connection is resumed; its
 * producer writes what that client has not seen yet, as many events as fit
 * in one chunk, and waits again.
 */
#include "core/net/web_events.h"

#include <stdio.h>
#include <string.h>

#include "core/events.h"
#include "core/log.h"
#include "core/net/http.h"
#include "core/net/web_api.h"
#include "core/net/wifi.h"
#include "core/sched.h"
#include "hal/hal.h"

struct relay_change {
    uint8_t channel;
    bool on;
    enum source source;
};

static struct relay_change relay_ring[WEB_EVENTS_RELAY_RING];
static uint32_t relay_gen, sensors_gen, wifi_gen, state_gen;
static struct event_listener listener;
static struct http_route route;
static struct sched_timer ping_timer;

/* One client's position (in http_user()). */
struct client {
    bool started;
    uint32_t relay_gen, sensors_gen, wifi_gen, state_gen, log_seq;
    uint64_t last_sent_ms;
};
_Static_assert(sizeof(struct client) <= HTTP_USER_SIZE, "fits the request's scratch area");

static int produce(struct http_request *req, char *buf, size_t cap, void *arg);

static void wake_clients(void) { http_resume_all(produce); }

static void on_event(const struct event *event, void *arg)
{
    (void)arg;
    switch (event->type) {
    case EVENT_CHANNEL:
        relay_ring[relay_gen % WEB_EVENTS_RELAY_RING] =
            (struct relay_change){event->channel, event->value != 0, event->source};
        relay_gen++;
        break;
    case EVENT_SENSORS: sensors_gen++; break;
    case EVENT_WIFI: wifi_gen++; break;
    case EVENT_LIMIT: state_gen++; break; /* a trip, a margin, a PulseTime: the whole state again */
    default: return;
    }
    wake_clients();
}

static void on_log_line(uint32_t seq)
{
    (void)seq;
    wake_clients();
}

static void ping(void *arg)
{
    (void)arg;
    if (!http_stream_count(produce)) {
        sched_timer_stop(&ping_timer); /* no client: an idle plug stays idle */
        return;
    }
    wake_clients();
}

/* Append "event: <name>\ndata: <json>\n\n" built by `write` (members of
 * one object); false when it does not fit in buf[*n..cap). */
static bool put_event(char *buf, size_t cap, size_t *n, const char *name, void (*write)(struct json_writer *, void *),
                      void *ctx)
{
    int head = snprintf(buf + *n, cap - *n, "event: %s\ndata: ", name);
    if (head < 0 || *n + (size_t)head + 3 >= cap)
        return false;
    struct json_writer w;
    jw_init(&w, buf + *n + (size_t)head, cap - *n - (size_t)head - 2);
    jw_object_begin(&w, NULL);
    write(&w, ctx);
    jw_object_end(&w);
    if (w.overflow)
        return false;
    size_t end = *n + (size_t)head + w.len;
    buf[end++] = '\n';
    buf[end++] = '\n';
    *n = end;
    return true;
}

static void write_state(struct json_writer *w, void *ctx)
{
    (void)ctx;
    web_write_state(w);
}

static void write_relay(struct json_writer *w, void *ctx)
{
    const struct relay_change *c = ctx;
    jw_int(w, "channel", c->channel);
    jw_bool(w, "on", c->on);
    jw_string(w, "source", source_name(c->source));
}

static void write_sensors(struct json_writer *w, void *ctx)
{
    (void)ctx;
    web_write_energy(w);
}

static void write_wifi(struct json_writer *w, void *ctx)
{
    (void)ctx;
    wifi_write_details(w);
}

struct log_item {
    uint32_t seq;
    const char *line;
};

static void write_log(struct json_writer *w, void *ctx)
{
    const struct log_item *item = ctx;
    jw_int(w, "seq", item->seq);
    jw_string(w, "line", item->line);
}

/* Write what the client has not seen, in order; returns the bytes. */
static size_t catch_up(struct client *c, char *buf, size_t cap)
{
    size_t n = 0;
    if (!c->started || relay_gen - c->relay_gen > WEB_EVENTS_RELAY_RING || c->state_gen != state_gen) {
        if (!put_event(buf, cap, &n, "state", write_state, NULL))
            return n;
        c->started = true;
        c->relay_gen = relay_gen;
        c->sensors_gen = sensors_gen;
        c->wifi_gen = wifi_gen;
        c->state_gen = state_gen;
    }
    while (c->relay_gen != relay_gen) {
        if (!put_event(buf, cap, &n, "relay", write_relay, &relay_ring[c->relay_gen % WEB_EVENTS_RELAY_RING]))
            return n;
        c->relay_gen++;
    }
    if (c->wifi_gen != wifi_gen) {
        if (!put_event(buf, cap, &n, "wifi", write_wifi, NULL))
            return n;
        c->wifi_gen = wifi_gen;
    }
    if (c->sensors_gen != sensors_gen) {
        if (!put_event(buf, cap, &n, "sensors", write_sensors, NULL))
            return n;
        c->sensors_gen = sensors_gen;
    }
    char line[LOG_LINE_MAX];
    uint32_t end = log_next_seq();
    if (end - c->log_seq > end - log_oldest_seq())
        c->log_seq = log_oldest_seq();
    for (; c->log_seq != end; c->log_seq++) {
        struct log_item item = {c->log_seq, line};
        if (log_get(c->log_seq, line, sizeof line) && !put_event(buf, cap, &n, "log", write_log, &item))
            return n;
    }
    return n;
}

static int produce(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    struct client *c = http_user(req);
    uint64_t now = hal_time_ms();
    size_t n = catch_up(c, buf, cap);
    if (!n && now - c->last_sent_ms >= WEB_EVENTS_PING_MS)
        n = (size_t)snprintf(buf, cap, ": ping\n\n");
    if (!n)
        return HTTP_PRODUCE_WAIT;
    c->last_sent_ms = now;
    return (int)n;
}

static void serve_events(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    if (http_stream_count(produce) >= WEB_EVENTS_MAX_CLIENTS) {
        http_add_header(req, "Retry-After", "15");
        http_reply_error(req, 503, "too many event streams open: poll /api/state");
        return;
    }
    struct client *c = http_user(req);
    c->log_seq = log_next_seq(); /* from now on; /api/logs has the past */
    c->last_sent_ms = hal_time_ms();
    http_reply_stream(req, 200, "text/event-stream", produce, NULL);
    if (!ping_timer.armed)
        sched_timer_start(&ping_timer, WEB_EVENTS_PING_MS, WEB_EVENTS_PING_MS);
}

void web_events_start(void)
{
    event_listen(&listener, on_event, NULL);
    log_set_listener(on_log_line);
    sched_timer_init(&ping_timer, ping, NULL);
    http_route_add(&route, HTTP_GET, "/api/events", 0, serve_events, NULL);
}
