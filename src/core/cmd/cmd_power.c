/*
 * cmd_power.c — switching commands: Tasmota's Power and PowerOnState, and
 * OpenBeken's setChannel, toggleChannel and SetStartValue.  All of them
 * switch through channel_set(), the one path that drives, saves and tells.
 * Also Tasmota's LedPwmOn / LedPwmOff: the LEDs' brightness.
 */
#include <stdio.h>

#include "core/cmd/commands.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/storage/config.h"

/* Tasmota names a single relay POWER, several POWER1, POWER2, … */
static void reply_power(struct cmd_ctx *ctx, unsigned channel)
{
    char key[8] = "POWER";
    if (channels_relay_count() > 1 || channel > 1)
        snprintf(key, sizeof key, "POWER%u", channel);
    jw_string(ctx->reply, key, channel_get(channel) ? "ON" : "OFF");
}

/* Switch (0/1/2 as cmd_parse_switch) a channel, or just report it. */
static enum cmd_result switch_channel(struct cmd_ctx *ctx, unsigned channel, const char *arg)
{
    if (*arg) {
        int action = cmd_parse_switch(arg);
        if (action < 0)
            return cmd_error(ctx, "%s: expected 0|off|false, 1|on|true or 2|toggle", ctx->name);
        if (action == 2)
            channel_toggle(channel, ctx->source);
        else
            channel_set(channel, action == 1, ctx->source); /* refused if locked: the reply shows it */
    }
    reply_power(ctx, channel);
    return CMD_DONE;
}

static enum cmd_result cmd_power(struct cmd_ctx *ctx)
{
    unsigned channel = ctx->index ? (unsigned)ctx->index : 1;
    unsigned highest = channels_highest_relay();
    if (channel > (highest ? highest : 1))
        return cmd_error(ctx, "no relay on channel %u", channel);
    return switch_channel(ctx, channel, ctx->arg);
}

static void reply_power_on_state(struct cmd_ctx *ctx)
{
    jw_int(ctx->reply, "PowerOnState", config_get()->power_on_state);
}

static enum cmd_result set_power_on_state(struct cmd_ctx *ctx, long value)
{
    if (config_get()->power_on_state != value) {
        struct config *next = config_edit();
        next->power_on_state = (uint8_t)value;
        if (config_update(next) != 0)
            return cmd_error(ctx, "%s: cannot save settings (flash error)", ctx->name);
        channels_settings_changed(ctx->source);
    }
    reply_power_on_state(ctx);
    return CMD_DONE;
}

static enum cmd_result cmd_power_on_state(struct cmd_ctx *ctx)
{
    long value;
    if (!*ctx->arg) {
        reply_power_on_state(ctx);
        return CMD_DONE;
    }
    if (!cmd_parse_long(ctx->arg, 0, POWER_ON_COUNT - 1, &value))
        return cmd_error(ctx, "PowerOnState: expected 0 off, 1 on, 2 toggle, 3 restore, 4 on and locked");
    return set_power_on_state(ctx, value);
}

/* "<channel> <rest>": OpenBeken's channel number (from 0 when the
 * template puts a relay on channel 0), which must have a relay; *channel
 * is its POWER index. */
static bool channel_argument(struct cmd_ctx *ctx, char **rest, unsigned *channel)
{
    long value;
    *rest = ctx->arg;
    if (!cmd_parse_long(cmd_next_word(rest), 0, 63, &value))
        return false;
    *channel = pins_power_index(config_get()->pins, (unsigned)value);
    return channel_has_relay(*channel);
}

static enum cmd_result cmd_set_start_value(struct cmd_ctx *ctx)
{
    char *rest;
    unsigned channel;
    long value;
    if (!channel_argument(ctx, &rest, &channel) || !cmd_parse_long(cmd_next_word(&rest), -1, 1, &value) || *rest)
        return cmd_error(ctx, "SetStartValue: expected <channel with a relay> <-1 restore | 0 off | 1 on>");
    return set_power_on_state(ctx, value < 0 ? POWER_ON_RESTORE : value);
}

static enum cmd_result cmd_set_channel(struct cmd_ctx *ctx)
{
    char *rest;
    unsigned channel;
    if (!channel_argument(ctx, &rest, &channel) || !*rest)
        return cmd_error(ctx, "setChannel: expected <channel with a relay> <0|1>");
    return switch_channel(ctx, channel, cmd_next_word(&rest));
}

static enum cmd_result cmd_toggle_channel(struct cmd_ctx *ctx)
{
    char *rest;
    unsigned channel;
    if (!channel_argument(ctx, &rest, &channel) || *rest)
        return cmd_error(ctx, "toggleChannel: expected <channel with a relay>");
    return switch_channel(ctx, channel, "toggle");
}

/* LedPwmOn / LedPwmOff 0..255: an LED's brightness when lit / dark (by PWM
 * where its pin allows, else on from 128). */
static enum cmd_result cmd_led_pwm(struct cmd_ctx *ctx)
{
    bool on = ctx->name[6] == 'O' && ctx->name[7] == 'n';
    long value;
    if (*ctx->arg) {
        if (!cmd_parse_long(ctx->arg, 0, 255, &value))
            return cmd_error(ctx, "%s: expected 0 .. 255", ctx->name);
        struct config *next = config_edit();
        *(on ? &next->led_pwm_on : &next->led_pwm_off) = (uint8_t)value;
        if (config_update(next) != 0)
            return cmd_error(ctx, "%s: cannot save settings (flash error)", ctx->name);
        pins_refresh_outputs();
    }
    jw_int(ctx->reply, ctx->name, on ? config_get()->led_pwm_on : config_get()->led_pwm_off);
    return CMD_DONE;
}

static const struct cmd_def power_commands[] = {
    {"Power", cmd_power, CMD_INDEXED, "Relay: Power[n] [0|off|false, 1|on|true, 2|toggle]; no argument = query"},
    {"PowerOnState", cmd_power_on_state, 0, "Relay after power-up: 0 off, 1 on, 2 toggle, 3 restore (default), 4 on+locked"},
    {"SetStartValue", cmd_set_start_value, 0, "OpenBeken: SetStartValue <ch> -1|0|1 = PowerOnState 3|0|1"},
    {"setChannel", cmd_set_channel, 0, "OpenBeken: setChannel <ch> <0|1> (the template's channel numbers)"},
    {"toggleChannel", cmd_toggle_channel, 0, "OpenBeken: toggleChannel <ch>"},
    {"LedPwmOn", cmd_led_pwm, 0, "LedPwmOn 0..255: brightness of a lit LED (default 255; PWM where the pin allows)"},
    {"LedPwmOff", cmd_led_pwm, 0, "LedPwmOff 0..255: brightness of a dark LED (default 0)"},
};

void cmd_power_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, power_commands, sizeof power_commands / sizeof power_commands[0]);
}
