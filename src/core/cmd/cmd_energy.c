/*
 * cmd_energy.c — metering commands: calibration against a reference meter
 * (PowerSet, VoltageSet, CurrentSet, as Tasmota and OpenBeken) and the raw
 * constants behind it (PowerCal, VoltageCal, CurrentCal).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/cmd/cmd_setting.h"
#include "core/cmd/commands.h"
#include "core/energy/meter.h"
#include "core/energy/energy.h"
#include "core/storage/config.h"

static enum cmd_result calibrate(struct cmd_ctx *ctx, enum meter_quantity quantity, float max)
{
    float reference;
    char error[128];
    if (!cmd_parse_float(ctx->arg, 0.001f, max, &reference))
        return cmd_error(ctx, "%s: expected the reference meter's reading, 0.001 .. %g", ctx->name, (double)max);
    if (meter_calibrate(quantity, reference, error, sizeof error) != 0)
        return cmd_error(ctx, "%s: %s; nothing changed", ctx->name, error);
    jw_float(ctx->reply, ctx->name, reference, quantity == METER_CURRENT ? 3 : 1);
    return CMD_DONE;
}

static enum cmd_result cmd_power_set(struct cmd_ctx *ctx) { return calibrate(ctx, METER_POWER, 4000); }
static enum cmd_result cmd_voltage_set(struct cmd_ctx *ctx) { return calibrate(ctx, METER_VOLTAGE, 300); }
static enum cmd_result cmd_current_set(struct cmd_ctx *ctx) { return calibrate(ctx, METER_CURRENT, 20); }

static enum cmd_result constant(struct cmd_ctx *ctx, enum meter_quantity quantity)
{
    if (*ctx->arg) {
        long value;
        if (!cmd_parse_long(ctx->arg, 1, 100000000, &value))
            return cmd_error(ctx, "%s: expected a whole number of %s, 1 .. 100000000", ctx->name,
                             meter_running() ? meter_running()->constant_units[quantity] : "units per raw unit");
        if (meter_set_constant(quantity, (uint32_t)value) != 0)
            return cmd_error(ctx, "%s: cannot save the calibration (flash error)", ctx->name);
    }
    jw_int(ctx->reply, ctx->name, meter_constant(quantity));
    return CMD_DONE;
}

static enum cmd_result cmd_power_cal(struct cmd_ctx *ctx) { return constant(ctx, METER_POWER); }
static enum cmd_result cmd_voltage_cal(struct cmd_ctx *ctx) { return constant(ctx, METER_VOLTAGE); }
static enum cmd_result cmd_current_cal(struct cmd_ctx *ctx) { return constant(ctx, METER_CURRENT); }

static void reply_counters(struct cmd_ctx *ctx)
{
    const struct energy_counters *c = energy_counters();
    jw_object_begin(ctx->reply, ctx->name);
    jw_fixed(ctx->reply, "Total", energy_wh(c->total_uj), 3); /* kWh, 3 decimals */
    jw_fixed(ctx->reply, "Yesterday", energy_wh(c->yesterday_uj), 3);
    jw_fixed(ctx->reply, "Today", energy_wh(c->today_uj), 3);
    jw_object_end(ctx->reply);
}

static enum cmd_result set_counter(struct cmd_ctx *ctx, int (*set)(uint64_t uj))
{
    float kwh;
    if (*ctx->arg) {
        if (!cmd_parse_float(ctx->arg, 0, 1e7f, &kwh))
            return cmd_error(ctx, "%s: expected kWh, 0 .. 10000000", ctx->name);
        if (set((uint64_t)((double)kwh * 1000.0 * (double)UJ_PER_WH + 0.5)) != 0)
            return cmd_error(ctx, "%s: cannot save the counters (flash error)", ctx->name);
    }
    reply_counters(ctx);
    return CMD_DONE;
}

static enum cmd_result cmd_energy_total(struct cmd_ctx *ctx) { return set_counter(ctx, energy_set_total); }
static enum cmd_result cmd_energy_today(struct cmd_ctx *ctx) { return set_counter(ctx, energy_set_today); }

static enum cmd_result cmd_energy_reset(struct cmd_ctx *ctx)
{
    if (*ctx->arg)
        return cmd_error(ctx, "EnergyReset takes no argument: it zeroes Total, Yesterday and Today");
    if (energy_reset() != 0)
        return cmd_error(ctx, "EnergyReset: cannot save the counters (flash error)");
    reply_counters(ctx);
    return CMD_DONE;
}

static enum cmd_result cmd_energy_save_wh(struct cmd_ctx *ctx)
{
    if (cmd_setting_u16(ctx, offsetof(struct config, energy_save_wh), 1, 1000, "Wh") != CMD_DONE)
        return CMD_FAILED;
    jw_int(ctx->reply, "FlashLifeYearsAt3680W", energy_flash_life_years(3680));
    return CMD_DONE;
}

static enum cmd_result cmd_max_power(struct cmd_ctx *ctx)
{
    return cmd_setting_u16(ctx, offsetof(struct config, max_power_w), 0, 4000, "W (0 = off)");
}

static enum cmd_result cmd_max_power_hold(struct cmd_ctx *ctx)
{
    return cmd_setting_u16(ctx, offsetof(struct config, max_power_hold_s), 1, 3600, "s");
}

static const struct cmd_def energy_commands[] = {
    {"MaxPower", cmd_max_power, 0, "MaxPower [W]: switch the relays off above this power (0 = off, default)"},
    {"MaxPowerHold", cmd_max_power_hold, 0, "MaxPowerHold [s]: how long above MaxPower before the trip (default 10)"},
    {"EnergyTotal", cmd_energy_total, 0, "EnergyTotal [kWh]: show or set the total energy counter"},
    {"EnergyToday", cmd_energy_today, 0, "EnergyToday [kWh]: show or set today's energy"},
    {"EnergyReset", cmd_energy_reset, 0, "EnergyReset: zero Total, Yesterday and Today; TotalStartTime = now"},
    {"EnergySaveWh", cmd_energy_save_wh, 0, "EnergySaveWh [1..1000]: most energy a power cut may lose (default 10)"},
    {"PowerSet", cmd_power_set, 0, "PowerSet <W>: calibrate power to a reference meter's reading of the load"},
    {"VoltageSet", cmd_voltage_set, 0, "VoltageSet <V>: calibrate voltage to a reference reading"},
    {"CurrentSet", cmd_current_set, 0, "CurrentSet <A>: calibrate current to a reference reading"},
    {"PowerCal", cmd_power_cal, 0, "PowerCal [n]: show or set the power constant (BL0937: uW per Hz of CF)"},
    {"VoltageCal", cmd_voltage_cal, 0, "VoltageCal [n]: show or set the voltage constant (BL0937: uV per Hz of CF1)"},
    {"CurrentCal", cmd_current_cal, 0, "CurrentCal [n]: show or set the current constant (BL0937: uA per Hz of CF1)"},
};

void cmd_energy_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, energy_commands, sizeof energy_commands / sizeof energy_commands[0]);
}
