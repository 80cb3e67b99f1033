/*
 * cmd_setting.h — commands that show or set one field of the settings.
 *
 * Most configuration commands (MaxPower, MqttHost, NtpServer2 …) are "no
 * argument: show the field; an argument: check it, save, show it".  These
 * helpers do that for a field at an offset in struct config, with the
 * range or length check and the flash-error reply, so each command is one
 * line.  Secrets (passwords) are never shown: the reply says only whether
 * one is set.
 */
#ifndef OPENPLUG_CMD_SETTING_H
#define OPENPLUG_CMD_SETTING_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cmd/cmd.h"
#include "core/storage/config.h"

/* A uint16_t field: whole numbers within [min, max] (unit for the error). */
enum cmd_result cmd_setting_u16(struct cmd_ctx *ctx, size_t offset, long min, long max, const char *unit);

enum setting_text { SETTING_PLAIN, SETTING_SECRET };

/* A NUL-terminated text field of `size` bytes.  The argument "" (two
 * quotes) or "0" clears it, as in Tasmota.  Control characters (below
 * 0x20, DEL) are refused: settings end up in XML, JSON, MQTT and HTTP. */
enum cmd_result cmd_setting_text(struct cmd_ctx *ctx, size_t offset, size_t size, enum setting_text kind);

/* True when text has no control character (below 0x20, DEL). */
bool cmd_text_printable(const char *text);

/* Save `next` (from config_edit()); on a flash error write the reply. */
enum cmd_result cmd_setting_save(struct cmd_ctx *ctx, const struct config *next);

#endif
