/*
 * cmd_device.c — commands about the device itself: Status, Restart, Reset,
 * DeviceName, Template, Pin and startDriver (the clock's are in cmd_time.c).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cmd/cmd_setting.h"
#include "core/cmd/commands.h"
#include "core/drivers.h"
#include "core/energy/meter.h"
#include "core/health.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/io/template.h"
#include "core/status.h"
#include "core/storage/config.h"
#include "core/system.h"
#include "core/energy/limits.h"
#include "core/util/heap.h"
#include "hal/hal.h"

/* ---- Status (the writers are status.c's) ---- */

static enum cmd_result cmd_status(struct cmd_ctx *ctx)
{
    long which = -1;
    if (*ctx->arg && !cmd_parse_long(ctx->arg, 0, 99, &which))
        return cmd_error(ctx, "Status: expected 0 (all), 1, 2, 7, 8, 9, 10 or 11");
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
    case 9: limits_status(ctx->reply); break;
    case 8:
    case 10: status_sensors(ctx->reply); break;
    case 11: status_state(ctx->reply); break;
    default: return cmd_error(ctx, "Status %ld is not in this build: use 0 (all), 1, 2, 7, 8, 9, 10 or 11", which);
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

/* Template [empty] [{…}]: import (OpenBeken's JSON, see template.h), then
 * show the running template as OpenBeken JSON.  "empty" lets a template
 * with no pins through, on purpose. */
static enum cmd_result cmd_template(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        char *json = ctx->arg;
        unsigned flags = 0;
        if (strncasecmp(json, "empty", 5) == 0 && (json[5] == ' ' || json[5] == '\t')) {
            flags |= TEMPLATE_ALLOW_EMPTY;
            json += 5 + strspn(json + 5, " \t");
        }
        struct template *t = heap_take(sizeof *t);
        if (!t)
            return cmd_error(ctx, "Template: not enough memory to read a template now; the current template is kept");
        char error[160];
        struct config *next = config_edit();
        bool ok = template_parse(json, strlen(json), flags, t, error, sizeof error) &&
                  template_stage(t, next, error, sizeof error);
        heap_give(t);
        if (!ok)
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
    char key[8], value[24], error[128];
    if (!cmd_parse_long(cmd_next_word(&rest), 0, hal_pin_count() - 1, &gpio))
        return cmd_error(ctx, "Pin: expected <gpio 0..%d> [<role>[;<channel>]]", hal_pin_count() - 1);
    if (*rest) {
        struct config *next = config_edit();
        if (!pin_setting_parse(rest, &next->pins[gpio], error, sizeof error) ||
            !pins_check(next->pins, error, sizeof error))
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
    if (system_safe_mode() && !meter_known(ctx->arg)) /* metering never stops */
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
    {"Status", cmd_status, 0, "Status [0 all | 1 parameters | 2 firmware | 7 time | 8, 10 sensors | 9 thresholds | 11 state]"},
    {"Restart", cmd_restart, 0, "Restart 1: restart the plug (the relay keeps its state)"},
    {"Reset", cmd_reset, 0, "Reset 1: erase all settings (factory reset) and restart"},
    {"DeviceName", cmd_device_name, 0, "Name of the device (up to 32 characters)"},
    {"Template", cmd_template, 0,
     "Template [empty] [{\"name\":…,\"pins\":{\"2\":\"Rel;1\",…},\"command\":…}]: show (export) or import an OpenBeken template"},
    {"Pin", cmd_pin, 0, "Pin <gpio> [<role>[;<channel>] | none]: show or set one pin's role"},
    {"startDriver", cmd_start_driver, 0, "startDriver <name>: start an optional driver"},
};

void cmd_device_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, device_commands, sizeof device_commands / sizeof device_commands[0]);
}
