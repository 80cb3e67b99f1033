/* cmd_setting.c — show-or-set commands for single settings; see cmd_setting.h. */
#include "cmd_setting.h"

#include <stdint.h>
#include <string.h>

#include "core/storage/config.h"

enum cmd_result cmd_setting_save(struct cmd_ctx *ctx, const struct config *next)
{
    if (config_update(next) != 0)
        return cmd_error(ctx, "%s: cannot save settings (flash error)", ctx->name);
    return CMD_DONE;
}

enum cmd_result cmd_setting_u16(struct cmd_ctx *ctx, size_t offset, long min, long max, const char *unit)
{
    long value;
    uint16_t field;
    if (*ctx->arg) {
        if (!cmd_parse_long(ctx->arg, min, max, &value))
            return cmd_error(ctx, "%s: expected %ld .. %ld %s", ctx->name, min, max, unit);
        struct config *next = config_edit();
        field = (uint16_t)value;
        memcpy((uint8_t *)next + offset, &field, sizeof field);
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    memcpy(&field, (const uint8_t *)config_get() + offset, sizeof field);
    jw_int(ctx->reply, ctx->name, field);
    return CMD_DONE;
}

bool cmd_text_printable(const char *text)
{
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return false;
    return true;
}

enum cmd_result cmd_setting_text(struct cmd_ctx *ctx, size_t offset, size_t size, enum setting_text kind)
{
    if (*ctx->arg) {
        const char *text = strcmp(ctx->arg, "\"\"") == 0 || strcmp(ctx->arg, "0") == 0 ? "" : ctx->arg;
        if (strlen(text) >= size)
            return cmd_error(ctx, "%s: at most %zu characters", ctx->name, size - 1);
        if (!cmd_text_printable(text))
            return cmd_error(ctx, "%s: control characters are not allowed", ctx->name);
        struct config *next = config_edit();
        char *field = (char *)next + offset;
        memset(field, 0, size);
        memcpy(field, text, strlen(text));
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    const char *value = (const char *)config_get() + offset;
    if (kind == SETTING_SECRET)
        jw_string(ctx->reply, ctx->name, *value ? "****" : "");
    else
        jw_string(ctx->reply, ctx->name, value);
    return CMD_DONE;
}
