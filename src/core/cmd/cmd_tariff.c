/*
 * cmd_tariff.c — the price of energy: Tasmota's Tariff1 / Tariff2 (start
 * of the off-peak and the standard tariff, standard and daylight saving
 * time) and Tariff9 (weekends off-peak), and OpenPlug's EnergyPrice and
 * Currency (Tasmota has none).  The rules are in energy/tariff.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/cmd/cmd_setting.h"
#include "core/cmd/commands.h"
#include "core/energy/tariff.h"
#include "core/storage/config.h"

static const char *const tariff_names[] = {"Off-Peak", "Standard"};

/* {"Tariff":{"Off-Peak":{"STD":"22:00","DST":"23:00"},"Standard":{…},"Weekend":"OFF"}}, as Tasmota. */
static void reply_tariff(struct cmd_ctx *ctx)
{
    const struct config_tariff *t = &config_get()->tariff;
    jw_object_begin(ctx->reply, "Tariff");
    for (int i = 0; i < 2; i++) {
        char std[8], dst[8];
        snprintf(std, sizeof std, "%02u:%02u", t->start_min[i][0] / 60u, t->start_min[i][0] % 60u);
        snprintf(dst, sizeof dst, "%02u:%02u", t->start_min[i][1] / 60u, t->start_min[i][1] % 60u);
        jw_object_begin(ctx->reply, tariff_names[i]);
        jw_string(ctx->reply, "STD", std);
        jw_string(ctx->reply, "DST", dst);
        jw_object_end(ctx->reply);
    }
    jw_string(ctx->reply, "Weekend", t->weekend_offpeak ? "ON" : "OFF");
    jw_object_end(ctx->reply);
}

/* Tariff<1|2> <STD>[,<DST>]: one or two times, separated by a comma
 * and/or spaces. */
static bool parse_starts(char *arg, uint16_t starts[2])
{
    char *cursor = arg;
    for (int i = 0; i < 3; i++) {
        while (*cursor == ' ' || *cursor == ',')
            cursor++;
        if (!*cursor)
            return i > 0;
        if (i == 2)
            return false;
        char *end = cursor + strcspn(cursor, " ,");
        char held = *end;
        *end = 0;
        bool ok = tariff_parse_time(cursor, &starts[i]);
        *end = held;
        if (!ok)
            return false;
        cursor = end;
    }
    return false;
}

static enum cmd_result cmd_tariff(struct cmd_ctx *ctx)
{
    int index = ctx->index ? ctx->index : 1; /* Tasmota: Tariff is Tariff1 */
    if (index != 1 && index != 2 && index != 9)
        return cmd_error(ctx, "Tariff%d: only Tariff1, Tariff2, Tariff9", index);
    if (*ctx->arg) {
        struct config *next = config_edit();
        if (index == 9) {
            long on;
            if (!cmd_parse_long(ctx->arg, 0, 1, &on))
                return cmd_error(ctx, "Tariff9: expected 0 or 1");
            next->tariff.weekend_offpeak = (uint8_t)on;
        } else {
            uint16_t *starts = next->tariff.start_min[index - 1];
            uint16_t parsed[2] = {starts[0], starts[1]};
            if (!parse_starts(ctx->arg, parsed))
                return cmd_error(ctx, "Tariff%d: expected HH:MM[,HH:MM] (standard, daylight saving time)", index);
            starts[0] = parsed[0];
            starts[1] = parsed[1];
        }
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    reply_tariff(ctx);
    return CMD_DONE;
}

static void reply_price(struct cmd_ctx *ctx)
{
    const struct config_tariff *t = &config_get()->tariff;
    jw_object_begin(ctx->reply, "EnergyPrice");
    for (int i = 0; i < 2; i++)
        jw_fixed(ctx->reply, tariff_names[i], t->price_e4[i], 4);
    jw_string(ctx->reply, "Currency", t->currency);
    jw_object_end(ctx->reply);
}

/* EnergyPrice <p>: one price for every hour; EnergyPrice1 / 2: the
 * off-peak / standard one alone. */
static enum cmd_result cmd_energy_price(struct cmd_ctx *ctx)
{
    if (ctx->index > 2)
        return cmd_error(ctx, "EnergyPrice%d: only EnergyPrice, EnergyPrice1, EnergyPrice2", ctx->index);
    if (*ctx->arg) {
        uint32_t price;
        if (!tariff_parse_price(ctx->arg, &price))
            return cmd_error(ctx, "EnergyPrice: expected 0 .. 1000 per kWh, up to 4 decimals");
        struct config *next = config_edit();
        if (ctx->index != 2)
            next->tariff.price_e4[TARIFF_OFFPEAK] = price;
        if (ctx->index != 1)
            next->tariff.price_e4[TARIFF_STANDARD] = price;
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    reply_price(ctx);
    return CMD_DONE;
}

static enum cmd_result cmd_currency(struct cmd_ctx *ctx)
{
    return cmd_setting_text(ctx, offsetof(struct config, tariff.currency), CONFIG_CURRENCY_SIZE, SETTING_PLAIN);
}

static const struct cmd_def tariff_commands[] = {
    {"Tariff", cmd_tariff, CMD_INDEXED,
     "Tariff1|2 [STD[,DST]]: off-peak / standard tariff starts; Tariff9 0|1: weekends off-peak"},
    {"EnergyPrice", cmd_energy_price, CMD_INDEXED,
     "EnergyPrice[1|2] [price]: per kWh, all / off-peak / standard; 0 = no costs"},
    {"Currency", cmd_currency, 0, "Currency [text]: shown with costs (up to 7 bytes)"},
};

void cmd_tariff_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, tariff_commands, sizeof tariff_commands / sizeof tariff_commands[0]);
}
