/*
 * web_metrics.c — GET /metrics in the Prometheus text format (0.0.4): the
 * plug's power, voltage, current, energy, relays, Wi-Fi signal, uptime,
 * heap and HTTP counters, one metric family per streamed chunk (no buffer
 * holds the whole page).  Metering families are left out until the driver
 * has reported, as Prometheus expects of an absent value.
 */
#include "core/net/web_metrics.h"

#include <stdio.h>

#include "core/energy/energy.h"
#include "core/energy/sensors.h"
#include "core/io/channels.h"
#include "core/net/http.h"
#include "hal/hal.h"

enum family {
    F_POWER, F_VOLTAGE, F_CURRENT, F_FACTOR, F_APPARENT, F_TOTAL, F_TODAY, F_YESTERDAY,
    F_RELAY, F_RSSI, F_UPTIME, F_HEAP, F_HEAP_MIN, F_HTTP_REQUESTS, F_HTTP_REJECTED, F_COUNT
};

struct family_info {
    const char *name, *type, *help;
    bool metering; /* absent until the metering driver reports */
};

static const struct family_info families[F_COUNT] = {
    [F_POWER] = {"openplug_power_watts", "gauge", "Active power.", true},
    [F_VOLTAGE] = {"openplug_voltage_volts", "gauge", "Mains voltage (rms).", true},
    [F_CURRENT] = {"openplug_current_amperes", "gauge", "Load current (rms).", true},
    [F_FACTOR] = {"openplug_power_factor", "gauge", "Power factor, 0..1.", true},
    [F_APPARENT] = {"openplug_apparent_power_voltamperes", "gauge", "Apparent power.", true},
    [F_TOTAL] = {"openplug_energy_total_kwh", "counter", "Energy counted since TotalStartTime.", false},
    [F_TODAY] = {"openplug_energy_today_kwh", "gauge", "Energy counted today.", false},
    [F_YESTERDAY] = {"openplug_energy_yesterday_kwh", "gauge", "Energy counted yesterday.", false},
    [F_RELAY] = {"openplug_relay_on", "gauge", "Relay state, 1 = on.", false},
    [F_RSSI] = {"openplug_wifi_rssi_dbm", "gauge", "Wi-Fi signal, 0 when not connected.", false},
    [F_UPTIME] = {"openplug_uptime_seconds", "counter", "Seconds since boot.", false},
    [F_HEAP] = {"openplug_heap_free_bytes", "gauge", "Free heap.", false},
    [F_HEAP_MIN] = {"openplug_heap_min_free_bytes", "gauge", "Lowest free heap since boot.", false},
    [F_HTTP_REQUESTS] = {"openplug_http_requests_total", "counter", "HTTP requests received.", false},
    [F_HTTP_REJECTED] = {"openplug_http_busy_rejections_total", "counter", "Clients refused with 503 (heap short; a full pool makes them wait instead).",
                         false},
};

static int samples(enum family f, char *buf, size_t cap)
{
    const struct energy_values *e = sensors_energy();
    const struct energy_counters *c = energy_counters();
    const char *name = families[f].name;
    struct http_stats stats;
    switch (f) {
    case F_POWER: return snprintf(buf, cap, "%s %.2f\n", name, (double)e->power_w);
    case F_VOLTAGE: return snprintf(buf, cap, "%s %.1f\n", name, (double)e->voltage_v);
    case F_CURRENT: return snprintf(buf, cap, "%s %.3f\n", name, (double)e->current_a);
    case F_FACTOR: return snprintf(buf, cap, "%s %.2f\n", name, (double)e->factor);
    case F_APPARENT: return snprintf(buf, cap, "%s %.2f\n", name, (double)e->apparent_va);
    case F_TOTAL: return snprintf(buf, cap, "%s %.3f\n", name, (double)energy_wh(c->total_uj) / 1000.0);
    case F_TODAY: return snprintf(buf, cap, "%s %.3f\n", name, (double)energy_wh(c->today_uj) / 1000.0);
    case F_YESTERDAY: return snprintf(buf, cap, "%s %.3f\n", name, (double)energy_wh(c->yesterday_uj) / 1000.0);
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

/* One family per call; http_user() holds the next one's index. */
static int produce(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    unsigned *next = http_user(req);
    bool metering = sensors_energy()->valid;
    while (*next < F_COUNT && families[*next].metering && !metering)
        (*next)++;
    if (*next >= F_COUNT)
        return 0;
    const struct family_info *f = &families[*next];
    int head = snprintf(buf, cap, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
    int body = samples((enum family)*next, buf + head, cap - (size_t)head);
    (*next)++;
    return head + body < (int)cap ? head + body : (int)cap - 1;
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
