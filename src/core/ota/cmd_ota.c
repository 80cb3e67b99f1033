/*
 * cmd_ota.c — the update commands: OtaUrl, Upgrade (pull the image from
 * OtaUrl with the non-blocking HTTP client), OtaStatus, OtaConfirm, OtaKey.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/cmd/cmd_setting.h"
#include "core/cmd/commands.h"
#include "core/log.h"
#include "core/net/http_get.h"
#include "core/ota/ota.h"
#include "core/ota/ota_verify.h"
#include "core/storage/config.h"

/* ---- Pull mode: the HTTP client feeds the writer ---- */

static void pull_length(long content_length, void *arg)
{
    (void)arg;
    if (content_length > 0 && content_length <= 0x7FFFFFFFL)
        ota_expect_size((uint32_t)content_length);
}

static size_t pull_body(const void *data, size_t len, void *arg)
{
    (void)arg;
    size_t taken = ota_feed(data, len);
    return ota_progress()->state == OTA_FAILED ? HTTP_GET_STOP : taken; /* refused: no point in the rest */
}

static void pull_done(int status, const char *error, void *arg)
{
    (void)arg;
    if (status == 0)
        ota_end();
    else
        ota_abort(error);
}

static enum cmd_result cmd_upgrade(struct cmd_ctx *ctx)
{
    char error[96];
    if (strcmp(ctx->arg, "1") != 0)
        return cmd_error(ctx, "Upgrade 1 downloads and installs the image at OtaUrl");
    const char *url = config_get()->ota.url;
    if (!*url)
        return cmd_error(ctx, "Upgrade: set OtaUrl first");
    const char *why;
    if (ota_begin(ctx->source, &why) != 0)
        return cmd_error(ctx, "Upgrade: %s", why);
    static const struct http_get_sink sink = {pull_length, pull_body, pull_done, NULL};
    if (http_get_start(url, &sink, error, sizeof error) != 0) {
        ota_abort(error);
        return cmd_error(ctx, "Upgrade: %s", error);
    }
    LOG_INF("OTA", "downloading %s", url);
    jw_string(ctx->reply, "Upgrade", "Started");
    return CMD_DONE;
}

static enum cmd_result cmd_ota_url(struct cmd_ctx *ctx)
{
    char host[64], path[128];
    unsigned short port;
    if (*ctx->arg && strcmp(ctx->arg, "0") != 0 && strcmp(ctx->arg, "\"\"") != 0 &&
        http_get_parse_url(ctx->arg, host, &port, path) != 0)
        return cmd_error(ctx, "OtaUrl: expected http://host[:port]/path");
    return cmd_setting_text(ctx, offsetof(struct config, ota.url), sizeof config_get()->ota.url, SETTING_PLAIN);
}

static enum cmd_result cmd_ota_status(struct cmd_ctx *ctx)
{
    jw_object_begin(ctx->reply, "OtaStatus");
    ota_progress_json(ctx->reply);
    jw_object_end(ctx->reply);
    return CMD_DONE;
}

static enum cmd_result cmd_ota_confirm(struct cmd_ctx *ctx)
{
    int result = ota_confirm();
    if (result < 0)
        return cmd_error(ctx, "OtaConfirm: the partition table is busy or cannot be written: try again");
    jw_string(ctx->reply, "OtaConfirm", result == 0 ? "Confirming" : "Nothing to confirm");
    return CMD_DONE;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static bool parse_key(const char *hex, uint8_t key[OTA_PUBLIC_KEY_SIZE])
{
    if (strlen(hex) != 2 * OTA_PUBLIC_KEY_SIZE)
        return false;
    for (size_t i = 0; i < OTA_PUBLIC_KEY_SIZE; i++) {
        int high = hex_digit(hex[2 * i]), low = hex_digit(hex[2 * i + 1]);
        if (high < 0 || low < 0)
            return false;
        key[i] = (uint8_t)(high << 4 | low);
    }
    return key[0] == 0x04;
}

static enum cmd_result cmd_ota_key(struct cmd_ctx *ctx)
{
    static const uint8_t none[OTA_PUBLIC_KEY_SIZE];
    if (*ctx->arg) {
        struct config *next = config_edit();
        if (strcmp(ctx->arg, "0") == 0)
            memset(next->ota.public_key, 0, OTA_PUBLIC_KEY_SIZE);
        else if (!parse_key(ctx->arg, next->ota.public_key) || !ota_key_valid(next->ota.public_key))
            return cmd_error(ctx, "OtaKey: expected 130 hex digits, an uncompressed P-256 point 04…, or 0 to clear");
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
    }
    const uint8_t *key = config_get()->ota.public_key;
    char hex[2 * OTA_PUBLIC_KEY_SIZE + 1] = "";
    if (memcmp(key, none, sizeof none) != 0)
        for (size_t i = 0; i < OTA_PUBLIC_KEY_SIZE; i++)
            snprintf(hex + 2 * i, 3, "%02x", key[i]);
    jw_string(ctx->reply, "OtaKey", hex);
    return CMD_DONE;
}

static const struct cmd_def ota_commands[] = {
    {"OtaUrl", cmd_ota_url, 0, "OtaUrl [http://host[:port]/path]: where Upgrade 1 downloads the image"},
    {"Upgrade", cmd_upgrade, 0, "Upgrade 1: download the image at OtaUrl and install it"},
    {"OtaStatus", cmd_ota_status, 0, "Progress of the update, the last error, the running slot"},
    {"OtaConfirm", cmd_ota_confirm, 0, "Keep the new firmware now (it confirms itself after 30 s online)"},
    {"OtaKey", cmd_ota_key, 0, "OtaKey [130 hex digits | 0]: the P-256 public key images must be signed with"},
};

void cmd_ota_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, ota_commands, sizeof ota_commands / sizeof ota_commands[0]);
}
