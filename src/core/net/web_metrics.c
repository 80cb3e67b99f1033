/*
 * web_metrics.c — GET /metrics in the Prometheus text format (0.0.4): the
 * plug's power, voltage, current, energy, relays, Wi-Fi signal, uptime,
 * heap and HTTP counters, one metric family per streamed chunk (no buffer
 * holds the whole page).  The metering families are the quantities' table
 * (quantity.h), each left out until the meter has measured it, as
 * Prometheus expects of an absent value.
 */
#include "core/net/web_metrics.h"

#include <stdio.h>

#include "core/energy/meter.h"
#include "core/energy/quantity.h"
#include "core/io/channels.h"
#include "core/net/http.h"
#include "hal/hal.h"

/* After the quantities (indexes 0 .. Q_COUNT-1), these. */
enum family { F_RELAY, F_RSSI, F_UPTIME, F_HEAP, F_HEAP_MIN, F_HTTP_REQUESTS, F_HTTP_REJECTED, F_COUNT };

struct family_info {
    const char *name, *type, *help;
};

static const struct family_info families[F_COUNT] = {
    [F_RELAY] = {"openplug_relay_on", "gauge", "Relay state, 1 = on."},
    [F_RSSI] = {"openplug_wifi_rssi_dbm", "gauge", "Wi-Fi signal, 0 when not connected."},
    [F_UPTIME] = {"openplug_uptime_seconds", "counter", "Seconds since boot."},
    [F_HEAP] = {"openplug_heap_free_bytes", "gauge", "Free heap."},
    [F_HEAP_MIN] = {"openplug_heap_min_free_bytes", "gauge", "Lowest free heap since boot."},
    [F_HTTP_REQUESTS] = {"openplug_http_requests_total", "counter", "HTTP requests received."},
    [F_HTTP_REJECTED] = {"openplug_http_busy_rejections_total", "counter", "Clients refused with 503 (heap short; a full pool makes them wait instead)."},
};

static int samples(enum family f, char *buf, size_t cap)
{
    const char *name = families[f].name;
    struct http_stats stats;
    switch (f) {
    case F_RELAY: {
        int n = 0;
        unsigned last = channels_highest_relay();
        for (unsigned ch = 1; ch <= (last ? last : 1) && n >= 0 && (size_t)n < cap; ch++)
            n += snprintf(buf + n, cap - (size_t)n, "%s{channel=\"%u\"} %d\n", name, ch, channel_get(ch) ? 1 : 0);
        return n;
    }
    case F_RSSI: return snprintf(buf, cap, "%s %d\n", name, hal_wifi_rssi());
    case F_UPTIME: return snprintf(buf, cap, "%s %llu\n", name, (unsigned long long)(hal_time_ms() / 1000));
    case F_HEAP: return snprintf(buf, cap, "%s %lu\n", name, (unsigned long)hal_heap_free());
    case F_HEAP_MIN: return snprintf(buf, cap, "%s %lu\n", name, (unsigned long)hal_heap_min_free());
    case F_HTTP_REQUESTS: http_get_stats(&stats); return snprintf(buf, cap, "%s %lu\n", name, (unsigned long)stats.requests);
    case F_HTTP_REJECTED:
        http_get_stats(&stats);
        return snprintf(buf, cap, "%s %lu\n", name, (unsigned long)stats.rejected_memory);
    case F_COUNT: break;
    }
    return 0;
}

/* A quantity's family, or 0 when it has no metric or no value. */
static int quantity_family(enum quantity_id id, char *buf, size_t cap)
{
    const struct quantity *q = &quantities[id];
    int64_t fixed;
    if (!q->metric || !meter_running() || !quantity_fixed(id, energy_counters(), &fixed))
        return 0;
    struct json_writer value; /* the JSON number is the Prometheus one */
    char number[24];
    jw_init(&value, number, sizeof number);
    jw_fixed(&value, NULL, fixed, q->decimals);
    return snprintf(buf, cap, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", q->metric, q->help, q->metric, q->metric_type,
                    q->metric, jw_text(&value));
}

/* One family per call; http_user() holds the next one's index: the
 * quantities first, then the families above.  A family that does not fit
 * cap waits for a whole chunk. */
static int produce(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    unsigned *next = http_user(req);
    int n = 0;
    while (*next < Q_COUNT && n == 0)
        n = quantity_family((enum quantity_id)(*next)++, buf, cap);
    if (n == 0) {
        unsigned f = *next - Q_COUNT;
        if (f >= F_COUNT)
            return 0;
        const struct family_info *family = &families[f];
        n = snprintf(buf, cap, "# HELP %s %s\n# TYPE %s %s\n", family->name, family->help, family->name,
                     family->type);
        if (n > 0 && (size_t)n < cap)
            n += samples((enum family)f, buf + n, cap - (size_t)n);
        (*next)++;
    }
    if (n < 0 || (size_t)n >= cap) { /* cut: again, from the start of this family */
        (*next)--;
        return HTTP_PRODUCE_FULL;
    }
    return n;
}

static struct http_route route;

static void serve_metrics(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    http_reply_stream(req, 200, "text/plain; version=0.0.4; charset=utf-8", produce, NULL);
}

void web_metrics_start(void) { http_route_add(&route, HTTP_GET, "/metrics", 0, serve_metrics, NULL); }
