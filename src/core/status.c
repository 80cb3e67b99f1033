/* status.c — the Status writers; see status.h. */
#include "status.h"

#include <stdio.h>

#include "core/energy/energy.h"
#include "core/energy/history.h"
#include "core/energy/meter.h"
#include "core/energy/quantity.h"
#include "core/firmware.h"
#include "core/health.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#if OPENPLUG_NET
#include "core/net/mqtt.h"
#endif
#include "core/safemode.h"
#include "core/storage/config.h"
#include "core/system.h"
#include "core/timekeeping.h"
#include "core/util/timefmt.h"
#include "hal/hal.h"

static unsigned power_bits(void)
{
    unsigned bits = 0;
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
        bits |= (unsigned)channel_get(channel) << (channel - 1);
    return bits;
}

void status_device(struct json_writer *w)
{
    const struct config *c = config_get();
    jw_object_begin(w, "Status");
    jw_string(w, "DeviceName", c->device_name);
    jw_array_begin(w, "FriendlyName");
    jw_string(w, NULL, c->device_name);
    jw_array_end(w);
    jw_string(w, "Template", c->template_name);
    jw_int(w, "Power", power_bits());
    jw_int(w, "PowerOnState", c->power_on_state);
    jw_object_end(w);
}

void status_parameters(struct json_writer *w)
{
    char text[48];
    jw_object_begin(w, "StatusPRM");
    jw_int(w, "Baudrate", 115200);
    jw_string(w, "SerialConfig", "8N1");
    system_uptime(text, sizeof text);
    jw_string(w, "Uptime", text);
    system_reset_reason(text, sizeof text);
    jw_string(w, "RestartReason", text);
    jw_int(w, "BootCount", safemode_boot_count());
    jw_int(w, "SafeMode", system_safe_mode());
    jw_int(w, "SaveCount", config_save_count());
    jw_object_end(w);
}

void status_firmware(struct json_writer *w)
{
    jw_object_begin(w, "StatusFWR");
    jw_string(w, "Version", OPENPLUG_VERSION);
    jw_string(w, "Core", OPENPLUG_NAME);
    jw_string(w, "Hardware", hal_chip_name());
    jw_string(w, "Board", hal_board_name());
    jw_object_end(w);
}

/* "Time": local time; before the clock is set, Tasmota counts from the
 * epoch: so do we. */
static void time_member(struct json_writer *w)
{
    char text[24];
    clock_local_iso8601(text, sizeof text);
    jw_string(w, "Time", text);
}

/* Wi-Fi link figures, Tasmota's names: RSSI is the quality in %, Signal
 * the dBm, read fresh on every call. */
static void wifi_members(struct json_writer *w)
{
    char text[24];
    jw_object_begin(w, "Wifi");
    struct hal_wifi_link link;
    if (hal_wifi_link(&link)) {
        jw_string(w, "SSId", link.ssid);
        snprintf(text, sizeof text, "%02X:%02X:%02X:%02X:%02X:%02X", link.bssid[0], link.bssid[1], link.bssid[2],
                 link.bssid[3], link.bssid[4], link.bssid[5]);
        jw_string(w, "BSSId", text);
        jw_int(w, "Channel", link.channel);
    }
    int rssi = hal_wifi_rssi();
    int quality = rssi == 0 ? 0 : rssi <= -100 ? 0 : rssi >= -50 ? 100 : 2 * (rssi + 100);
    jw_int(w, "RSSI", quality);
    jw_int(w, "Signal", rssi);
    jw_int(w, "LinkCount", firmware_wifi_link_count());
    system_duration(firmware_wifi_downtime_s(), text, sizeof text);
    jw_string(w, "Downtime", text);
    static const char *const states[] = {"off", "connecting", "connected", "access point"};
    jw_string(w, "State", states[hal_wifi_state() & 3]);
    jw_object_end(w);
}

void status_state_members(struct json_writer *w)
{
    time_member(w);
    health_write_json(w); /* uptime, heap, sockets, loop lag, restart reason */
    for (unsigned channel = 1; channel <= (channels_relay_count() > 1 ? channels_highest_relay() : 1); channel++) {
        char key[8] = "POWER";
        if (channels_relay_count() > 1)
            snprintf(key, sizeof key, "POWER%u", channel);
        jw_string(w, key, channel_get(channel) ? "ON" : "OFF");
    }
    wifi_members(w);
#if OPENPLUG_NET
    jw_int(w, "MqttCount", mqtt_connect_count()); /* HA's Tasmota integration shows it */
#endif
}

void status_state(struct json_writer *w)
{
    jw_object_begin(w, "StatusSTS");
    status_state_members(w);
    jw_object_end(w);
}

/* With a price set (EnergyPrice), the costs, in the currency (2 decimals):
 * keys no Tasmota consumer knows, after all of Tasmota's, and absent
 * without a price.  Not in Tasmota discovery's sample: HA's integration
 * would take them for energy. */
static void cost_members(struct json_writer *w)
{
    struct history_cost cost;
    history_cost(&cost);
    if (!cost.priced)
        return;
    static const char *const keys[] = {"CostTotal", "CostYesterday", "CostToday", "CostMonth"};
    const uint64_t values[] = {cost.total, cost.yesterday, cost.today, cost.month};
    for (unsigned i = 0; i < 4; i++)
        jw_fixed(w, keys[i], (int64_t)((values[i] + 5) / 10), 2);
}

/* TotalStartTime changes only when the counters are reset: formatted once. */
static const char *total_start_text(int64_t start_s)
{
    static int64_t formatted_s = -1;
    static char text[24];
    if (start_s != formatted_s) {
        timefmt_iso8601(start_s, text, sizeof text);
        formatted_s = start_s;
    }
    return text;
}

/* Status 8 / 10 and MQTT's SENSOR: the quantities (quantity.h) in
 * Tasmota's names and units, those not measured left out. */
void status_sensor_members(struct json_writer *w, int64_t period_wh, const struct energy_counters *c,
                           enum quantity_style style)
{
    time_member(w);
    if (!meter_running())
        return;
    jw_object_begin(w, "ENERGY");
    /* Set when the clock is first known (as Tasmota does); before that
     * the epoch, as Tasmota prints its unset time, and as "Time" counts. */
    jw_string(w, "TotalStartTime", total_start_text(c->total_start_s));
    quantity_write(w, Q_TOTAL, Q_FIRST_MEASURED, style, c);
    if (period_wh >= 0)
        jw_int(w, "Period", period_wh);
    quantity_write(w, Q_FIRST_MEASURED, Q_COUNT, style, c);
    if (style == QUANTITY_TASMOTA)
        cost_members(w);
    jw_object_end(w);
}

void status_sensors(struct json_writer *w)
{
    jw_object_begin(w, "StatusSNS");
    status_sensor_members(w, -1, energy_counters(), QUANTITY_TASMOTA);
    jw_object_end(w);
}

