/* template.c — OpenBeken templates parsed, imported and exported whole; see template.h. */
#include "template.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/io/pins.h"
#include "core/storage/files.h"
#include "core/util/crc32.h"
#include "hal/hal.h"

void template_defaults(struct config *c)
{
    static const struct {
        uint8_t gpio, role, channel;
    } pins[] = {{2, PIN_REL, 1},    {3, PIN_BL0937CF1, 0},  {14, PIN_BL0937CF, 0},
                {17, PIN_BTN, 1},   {20, PIN_LED_N, 1},     {21, PIN_BL0937SEL, 0}};
    memset(c->pins, 0, sizeof c->pins);
    for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++)
        c->pins[pins[i].gpio] = (struct pin_setting){.role = pins[i].role, .channel = pins[i].channel};
    snprintf(c->template_name, sizeof c->template_name, "SM-028_V1.3");
    c->template_extra_crc = 0;
}

/* ---- Parsing ---- */

static bool parse_gpio(const char *text, int *gpio)
{
    char *end;
    long value = strtol(text, &end, 10);
    if (end == text || *end || value < 0 || value >= hal_pin_count() || value >= CONFIG_PINS)
        return false;
    *gpio = (int)value;
    return true;
}

static bool parse_pins_object(struct json_reader *r, struct pin_setting pins[CONFIG_PINS], char *error,
                              size_t error_size)
{
    char key[8], value[40];
    if (!jr_object_begin(r))
        return false;
    while (jr_object_next(r, key, sizeof key)) {
        int gpio;
        if (!jr_string(r, value, sizeof value))
            return false;
        if (!parse_gpio(key, &gpio)) {
            snprintf(error, error_size, "no GPIO %.7s on this chip (0..%d)", key, hal_pin_count() - 1);
            return false;
        }
        char role_error[128];
        if (!pin_setting_parse(value, &pins[gpio], role_error, sizeof role_error)) {
            snprintf(error, error_size, "GPIO %d: %s", gpio, role_error);
            return false;
        }
    }
    return !jr_failed(r);
}

/* Append `n` bytes of JSON to the kept members, without the white space
 * between tokens. */
static bool keep_compact(struct template *t, const char *text, size_t n)
{
    bool in_string = false;
    for (size_t i = 0; i < n; i++) {
        char c = text[i];
        if (!in_string && (c == ' ' || c == '\t' || c == '\n' || c == '\r'))
            continue;
        if (in_string && c == '\\' && i + 1 < n) {
            if (t->extra_len + 2 > TEMPLATE_EXTRA_MAX)
                return false;
            t->extra[t->extra_len++] = c;
            t->extra[t->extra_len++] = text[++i];
            continue;
        }
        if (c == '"')
            in_string = !in_string;
        if (t->extra_len + 1 > TEMPLATE_EXTRA_MAX)
            return false;
        t->extra[t->extra_len++] = c;
    }
    t->extra[t->extra_len] = '\0';
    return true;
}

/* Keep one other member: "key":value.  The key is re-encoded from its
 * decoded form, the value copied from the text. */
static bool keep_member(struct template *t, const char *key, const char *value, size_t value_len,
                        uint16_t starts[], unsigned *count, char *error, size_t error_size)
{
    char encoded[6 * 64 + 3]; /* a 63-character key, every character escaped */
    struct json_writer w;
    jw_init(&w, encoded, sizeof encoded);
    jw_string(&w, NULL, key);
    for (unsigned i = 0; i < *count; i++) {
        const char *member = t->extra + starts[i];
        if (strncmp(member, jw_text(&w), w.len) == 0 && member[w.len] == ':') {
            snprintf(error, error_size, "template has member \"%.32s\" twice", key);
            return false;
        }
    }
    if (*count == TEMPLATE_EXTRA_MEMBERS) {
        snprintf(error, error_size, "template has more than %d members besides name, pins and command",
                 TEMPLATE_EXTRA_MEMBERS);
        return false;
    }
    if (t->extra_len && !keep_compact(t, ",", 1))
        goto too_long;
    starts[(*count)++] = t->extra_len;
    if (!keep_compact(t, jw_text(&w), w.len) || !keep_compact(t, ":", 1) || !keep_compact(t, value, value_len))
        goto too_long;
    return true;
too_long:
    snprintf(error, error_size, "the template's other members (image, wiki, keywords, …) take more than %d bytes",
             TEMPLATE_EXTRA_MAX);
    return false;
}

static bool has_any_pin(const struct pin_setting pins[CONFIG_PINS])
{
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (pins[gpio].role != PIN_NONE)
            return true;
    return false;
}

/* A string that failed for its length (other failures: "not valid JSON"). */
static bool too_long(const struct json_reader *r) { return strstr(r->error, "string too long") != NULL; }

/* The members, once each; an error message is set on failure. */
static void parse_members(struct json_reader *r, struct template *t, bool *has_pins, char *error, size_t error_size)
{
    uint16_t starts[TEMPLATE_EXTRA_MEMBERS];
    unsigned count = 0;
    bool has_name = false;
    char key[64];
    if (!jr_object_begin(r))
        return;
    while (!error[0] && jr_object_next(r, key, sizeof key)) {
        if (strcmp(key, "pins") == 0 || strcmp(key, "name") == 0 || strcmp(key, "command") == 0) {
            bool *seen = key[0] == 'p' ? has_pins : key[0] == 'n' ? &has_name : &t->has_command;
            if (*seen) {
                snprintf(error, error_size, "template has member \"%s\" twice", key);
                return;
            }
            *seen = true;
        }
        if (strcmp(key, "pins") == 0) {
            if (jr_peek(r) != JSON_OBJECT) {
                snprintf(error, error_size, "\"pins\" must be an object of \"<gpio>\":\"<role>;<channel>\"");
                return;
            }
            parse_pins_object(r, t->pins, error, error_size);
        } else if (strcmp(key, "name") == 0) {
            if (jr_peek(r) != JSON_STRING) {
                snprintf(error, error_size, "\"name\" must be a string");
                return;
            }
            if (!jr_string(r, t->name, sizeof t->name) && too_long(r))
                snprintf(error, error_size, "template name longer than %d characters", CONFIG_TEMPLATE_NAME_SIZE - 1);
        } else if (strcmp(key, "command") == 0) {
            if (jr_peek(r) != JSON_STRING) {
                snprintf(error, error_size, "\"command\" must be a string");
                return;
            }
            if (!jr_string(r, t->command, sizeof t->command) && too_long(r))
                snprintf(error, error_size, "\"command\" longer than %d characters (the startup command's limit)",
                         CONFIG_STARTUP_SIZE - 1);
        } else {
            jr_peek(r); /* to the value's first byte */
            const char *value = r->pos;
            if (jr_skip(r))
                keep_member(t, key, value, (size_t)(r->pos - value), starts, &count, error, error_size);
        }
    }
}

bool template_parse(const char *json, size_t len, unsigned flags, struct template *out, char *error_out,
                    size_t error_out_size)
{
    bool has_pins = false;
    struct json_reader r;
    char error[160] = "";
    const size_t error_size = sizeof error;
    memset(out, 0, sizeof *out);
    jr_init(&r, json, len);
    if (jr_peek(&r) != JSON_OBJECT)
        snprintf(error, error_size, "template is not valid JSON: expected an object {\"name\":…,\"pins\":{…}}");
    else
        parse_members(&r, out, &has_pins, error, error_size);
    if (!error[0] && !jr_finished(&r))
        snprintf(error, error_size, "template is not valid JSON: %s", r.error[0] ? r.error : "trailing data");
    if (!error[0] && !has_pins)
        snprintf(error, error_size, "template has no \"pins\" object");
    if (!error[0] && !has_any_pin(out->pins) && !(flags & TEMPLATE_ALLOW_EMPTY))
        snprintf(error, error_size,
                 "the pin map is empty: the plug would have no relay, button or LED (to mean it: Template empty {…})");
    if (!error[0])
        pins_check(out->pins, error, error_size);
    if (error_out_size)
        snprintf(error_out, error_out_size, "%s", error);
    if (error[0])
        memset(out, 0, sizeof *out);
    return !error[0];
}

/* ---- Import ---- */

static uint32_t extra_crc(const struct template *t)
{
    if (!t->extra_len)
        return 0;
    uint32_t crc = crc32_update(0, t->extra, t->extra_len);
    return crc ? crc : 1; /* 0 means "none" */
}

/* The kept members' file as the settings expect it: 0 when none. */
static uint32_t stored_extra_crc(void)
{
    struct files_info info;
    if (files_stat(TEMPLATE_EXTRA_FILE, &info) != 0 || !info.size)
        return 0;
    return info.crc ? info.crc : 1;
}

bool template_stage(const struct template *t, struct config *next, char *error, size_t error_size)
{
    uint32_t crc = extra_crc(t);
    if (crc != stored_extra_crc()) {
        int err = t->extra_len ? files_write(TEMPLATE_EXTRA_FILE, t->extra, t->extra_len)
                               : files_delete(TEMPLATE_EXTRA_FILE);
        if (err && err != FILES_ENOENT) {
            snprintf(error, error_size, "cannot keep the template's other members in the file store (%s)",
                     files_strerror(err));
            return false;
        }
    }
    memcpy(next->pins, t->pins, sizeof next->pins);
    memcpy(next->template_name, t->name, sizeof next->template_name);
    if (t->has_command)
        memcpy(next->automation.startup_command, t->command, sizeof next->automation.startup_command);
    next->template_extra_crc = crc;
    return true;
}

/* ---- Export ---- */

/* The CRC of the kept members' file as read back now (0: unreadable). */
static uint32_t read_crc(uint32_t size)
{
    char piece[256];
    uint32_t crc = 0, offset = 0;
    while (offset < size) {
        int n = files_read(TEMPLATE_EXTRA_FILE, offset, piece, sizeof piece);
        if (n <= 0)
            return 0;
        crc = crc32_update(crc, piece, (size_t)n);
        offset += (uint32_t)n;
    }
    return crc ? crc : 1;
}

static void write_extra(struct json_writer *w, uint32_t crc)
{
    char piece[256];
    struct files_info info;
    /* Only this template's members, and only as they were written: the
     * file's bytes are checked before any of them is shown. */
    if (!crc || files_stat(TEMPLATE_EXTRA_FILE, &info) != 0 || info.size > TEMPLATE_EXTRA_MAX ||
        read_crc(info.size) != crc)
        return;
    for (uint32_t offset = 0; offset < info.size;) {
        int n = files_read(TEMPLATE_EXTRA_FILE, offset, piece, sizeof piece);
        if (n <= 0)
            break;
        jw_raw_members(w, piece, (size_t)n, offset != 0);
        offset += (uint32_t)n;
    }
}

static void write_pins(struct json_writer *w, const struct pin_setting pins[CONFIG_PINS])
{
    jw_object_begin(w, "pins");
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++) {
        if (pins[gpio].role == PIN_NONE)
            continue;
        char gpio_key[4], value[24];
        snprintf(gpio_key, sizeof gpio_key, "%d", gpio);
        pin_setting_format(pins[gpio], value, sizeof value);
        jw_string(w, gpio_key, value);
    }
    jw_object_end(w);
}

void template_write(struct json_writer *w, const struct config *config)
{
    jw_string(w, "name", config->template_name);
    write_extra(w, config->template_extra_crc);
    write_pins(w, config->pins);
    jw_string(w, "command", config->automation.startup_command);
}

void template_write_parsed(struct json_writer *w, const struct template *t)
{
    jw_string(w, "name", t->name);
    if (t->extra_len)
        jw_raw_members(w, t->extra, t->extra_len, false);
    write_pins(w, t->pins);
    if (t->has_command)
        jw_string(w, "command", t->command);
}
