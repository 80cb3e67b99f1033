/*
 * cmd_device.c — commands about the device itself: Status, Restart, Reset,
 * DeviceName, Template, Pin and startDriver (the clock's are in cmd_time.c).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cmd/cmd_setting.h"
#include "core/cmd/status.h"
#include "core/cmd/commands.h"
#include "core/drivers.h"
#include "core/energy/energy.h"
#include "core/energy/sensors.h"
#include "core/firmware.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#if OPENPLUG_NET
#include "core/net/mqtt.h"
#endif
#include "core/storage/config.h"
#include "core/health.h"
#include "core/safemode.h"
#include "core/system.h"
#include "core/timekeeping.h"
#include "core/util/timefmt.h"
#include "hal/hal.h"

/* ---- Status ---- */

static unsigned power_bits(void)
{
    unsigned bits = 0;
    for (unsigned channel = 1; channel <= CHANNEL_MAX; channel++)
        bits |= (unsigned)channel_get(channel) << (channel - 1);
    return bits;
}

static void status_device(struct json_writer *w)
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

static void status_parameters(struct json_writer *w)
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

static void status_firmware(struct json_writer *w)
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

static void status_state(struct json_writer *w)
{
    jw_object_begin(w, "StatusSTS");
    status_state_members(w);
    jw_object_end(w);
}

/* Status 8 / 10 and MQTT's SENSOR: the sensor registry, in Tasmota's
 * names and units. */
void status_sensor_members(struct json_writer *w, int64_t period_wh, const struct energy_counters *c)
{
    time_member(w);
    const struct energy_values *e = sensors_energy();
    if (e->valid) {
        jw_object_begin(w, "ENERGY");
        char start[24] = "";
        if (c->total_start_s)
            timefmt_iso8601(c->total_start_s, start, sizeof start);
        jw_string(w, "TotalStartTime", start);
        jw_fixed(w, "Total", energy_wh(c->total_uj), 3);
        jw_fixed(w, "Yesterday", energy_wh(c->yesterday_uj), 3);
        jw_fixed(w, "Today", energy_wh(c->today_uj), 3);
        if (period_wh >= 0)
            jw_int(w, "Period", period_wh);
        jw_float(w, "Power", e->power_w, 2);
        jw_float(w, "ApparentPower", e->apparent_va, 2);
        jw_float(w, "ReactivePower", e->reactive_var, 2);
        jw_float(w, "Factor", e->factor, 2);
        jw_float(w, "Voltage", e->voltage_v, 1);
        jw_float(w, "Current", e->current_a, 3);
        jw_object_end(w);
    }
}

static void status_sensors(struct json_writer *w)
{
    jw_object_begin(w, "StatusSNS");
    status_sensor_members(w, -1, energy_counters());
    jw_object_end(w);
}

static enum cmd_result cmd_status(struct cmd_ctx *ctx)
{
    long which = -1;
    if (*ctx->arg && !cmd_parse_long(ctx->arg, 0, 99, &which))
        return cmd_error(ctx, "Status: expected 0 (all), 1, 2, 7, 8, 10 or 11");
    switch (which) {
    case -1: status_device(ctx->reply); break;
    case 0:
        status_device(ctx->reply);
        status_parameters(ctx->reply);
        status_firmware(ctx->reply);
        cmd_time_status(ctx->reply);
        status_sensors(ctx->reply);
        status_state(ctx->reply);
        break;
    case 1: status_parameters(ctx->reply); break;
    case 2: status_firmware(ctx->reply); break;
    case 7: cmd_time_status(ctx->reply); break;
    case 8:
    case 10: status_sensors(ctx->reply); break;
    case 11: status_state(ctx->reply); break;
    default: return cmd_error(ctx, "Status %ld is not in this build: use 0 (all), 1, 2, 7, 8, 10 or 11", which);
    }
    return CMD_DONE;
}

/* ---- Restart and factory reset ---- */

static enum cmd_result cmd_restart(struct cmd_ctx *ctx)
{
    if (strcmp(ctx->arg, "1") != 0)
        return cmd_error(ctx, "Restart 1 restarts the plug");
    system_restart(RESTART_COMMAND, ctx->source);
    jw_string(ctx->reply, "Restart", "Restarting");
    return CMD_DONE;
}

static enum cmd_result cmd_reset(struct cmd_ctx *ctx)
{
    if (strcmp(ctx->arg, "1") != 0)
        return cmd_error(ctx, "Reset 1 erases all settings and restarts");
    system_restart(RESTART_FACTORY_RESET, ctx->source);
    jw_string(ctx->reply, "Reset", "Reset and Restarting");
    return CMD_DONE;
}

/* ---- Settings ---- */

static enum cmd_result cmd_device_name(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        if (strlen(ctx->arg) >= CONFIG_NAME_SIZE)
            return cmd_error(ctx, "DeviceName: at most %d characters", CONFIG_NAME_SIZE - 1);
        if (!cmd_text_printable(ctx->arg))
            return cmd_error(ctx, "DeviceName: control characters are not allowed");
        struct config *next = config_edit();
        strcpy(next->device_name, ctx->arg);
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    jw_string(ctx->reply, "DeviceName", config_get()->device_name);
    return CMD_DONE;
}

/* New pins: save, then re-wire and re-record. */
static enum cmd_result apply_pins(struct cmd_ctx *ctx, const struct config *next)
{
    if (cmd_setting_save(ctx, next) != CMD_DONE)
        return CMD_FAILED;
    pins_apply(config_get()->pins);
    channels_settings_changed(ctx->source);
    return CMD_DONE;
}

static enum cmd_result cmd_template(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        struct config *next = config_edit();
        char error[96];
        if (!template_parse(ctx->arg, strlen(ctx->arg), next->pins, next->template_name, error, sizeof error))
            return cmd_error(ctx, "Template: %s; the current template is kept", error);
        if (apply_pins(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    template_write(ctx->reply, config_get());
    return CMD_DONE;
}

static enum cmd_result cmd_pin(struct cmd_ctx *ctx)
{
    char *rest = ctx->arg;
    long gpio;
    char key[8], value[24], error[64];
    if (!cmd_parse_long(cmd_next_word(&rest), 0, hal_pin_count() - 1, &gpio))
        return cmd_error(ctx, "Pin: expected <gpio 0..%d> [<role>[;<channel>]]", hal_pin_count() - 1);
    if (*rest) {
        struct config *next = config_edit();
        if (!pin_setting_parse(rest, &next->pins[gpio], error, sizeof error))
            return cmd_error(ctx, "Pin: %s", error);
        if (apply_pins(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    snprintf(key, sizeof key, "Pin%ld", gpio);
    pin_setting_format(config_get()->pins[gpio], value, sizeof value);
    jw_string(ctx->reply, key, value);
    return CMD_DONE;
}

static enum cmd_result cmd_start_driver(struct cmd_ctx *ctx)
{
    char names[96];
    if (!*ctx->arg)
        return cmd_error(ctx, "startDriver: expected a driver name");
    if (system_safe_mode() && strcasecmp(ctx->arg, "BL0937") != 0) /* metering never stops */
        return cmd_error(ctx, "startDriver: no optional drivers in safe mode (SafeMode 0 leaves it)");
    int err = driver_start(ctx->arg);
    if (err == -1) {
        driver_list(names, sizeof names);
        return cmd_error(ctx, "startDriver: no driver '%.24s' in this build (available: %s)", ctx->arg, names);
    }
    if (err)
        return cmd_error(ctx, "startDriver: %.24s failed to start (%d)", ctx->arg, err);
    jw_string(ctx->reply, "startDriver", ctx->arg);
    return CMD_DONE;
}

static const struct cmd_def device_commands[] = {
    {"Status", cmd_status, 0, "Status [0 all | 1 parameters | 2 firmware | 7 time | 8, 10 sensors | 11 state]"},
    {"Restart", cmd_restart, 0, "Restart 1: restart the plug (the relay keeps its state)"},
    {"Reset", cmd_reset, 0, "Reset 1: erase all settings (factory reset) and restart"},
    {"DeviceName", cmd_device_name, 0, "Name of the device (up to 32 characters)"},
    {"Template", cmd_template, 0, "Template [{\"name\":…,\"pins\":{\"2\":\"Rel;1\",…}}]: show or import (OpenBeken format)"},
    {"Pin", cmd_pin, 0, "Pin <gpio> [<role>[;<channel>] | none]: show or set one pin's role"},
    {"startDriver", cmd_start_driver, 0, "startDriver <name>: start an optional driver"},
};

void cmd_device_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, device_commands, sizeof device_commands / sizeof device_commands[0]);
}
