/*
 * template.h — OpenBeken templates: parsing, importing and exporting them
 * whole.
 *
 * A template is OpenBeken's JSON: {"name":…,"pins":{"2":"Rel;1",…},
 * "command":"startDriver BL0937",…} with whatever else OpenBeken's list
 * carries ("vendor", "image", "wiki", "keywords", "flags", "bDetailed", …).
 * The pins go to the settings (pins.h checks and applies them), the name
 * too (up to 128 characters, kept whole), the command becomes the startup
 * command, and every other member is kept, compactly (white space outside
 * strings dropped), in the file TEMPLATE_EXTRA_FILE of the file store, so
 * that exporting gives the template back: name, the kept members in their
 * order, pins, command.  Importing an export gives the same settings and
 * the same export.  The settings hold the CRC of the kept members: a file
 * that does not match (a power cut between the two saves, a file deleted
 * by hand) is left out of the export rather than shown with the wrong
 * template.  Parsing changes nothing.  Every part has its bound (name,
 * command, kept members, 32 pins); the text as a whole is bounded by the
 * way in (CMD_LONG_LINE_MAX for a command line).
 */
#ifndef OPENPLUG_TEMPLATE_H
#define OPENPLUG_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/storage/config.h"
#include "core/util/json.h"

#define TEMPLATE_EXTRA_MAX 2048 /* its other members, as kept */
#define TEMPLATE_EXTRA_MEMBERS 32
#define TEMPLATE_EXTRA_FILE "template-extra.json"

/* TEMPLATE_ALLOW_EMPTY: take "pins":{} (a board with no relay, on purpose). */
#define TEMPLATE_ALLOW_EMPTY 1u

struct template {
    struct pin_setting pins[CONFIG_PINS];
    char name[CONFIG_TEMPLATE_NAME_SIZE];
    char command[CONFIG_STARTUP_SIZE];
    bool has_command;
    uint16_t extra_len;
    char extra[TEMPLATE_EXTRA_MAX + 1]; /* "image":"…","keywords":[…] (members, no braces) */
};

/* Parse `len` bytes of JSON into *out (about 2.6 KB: not for a task
 * stack).  On an error returns false with a message; *out is then zeroed. */
bool template_parse(const char *json, size_t len, unsigned flags, struct template *out, char *error,
                    size_t error_size);

/* Stage a parsed template for import: keep its other members in the file
 * store and put pins, name and command (as the startup command, when the
 * template has one) into `next` (from config_edit()), for the caller to
 * save and apply.  Returns false with a message if the file store could
 * not be written (the settings then still disown whatever it holds). */
bool template_stage(const struct template *t, struct config *next, char *error, size_t error_size);

/* The template of `config` as members of the JSON object open in w:
 * "name", the kept members (read from the file store in small pieces),
 * "pins", "command". */
void template_write(struct json_writer *w, const struct config *config);
/* The same layout for a parsed template (its "command" only if it has one). */
void template_write_parsed(struct json_writer *w, const struct template *t);

/* Pins and name of the reference board's template, SM-028_V1.3. */
void template_defaults(struct config *config);

#endif
