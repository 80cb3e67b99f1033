/* pins.c — roles, template parsing/printing, board set-up; see pins.h. */
#include "pins.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/events.h"
#include "core/io/button.h"
#include "core/io/channels.h"
#include "core/log.h"
#include "core/sched.h"
#include "hal/hal.h"

const char pins_default_template[] =
    "{\"name\":\"SM-028_V1.3\",\"pins\":{\"2\":\"Rel;1\",\"3\":\"BL0937CF1;0\",\"14\":\"BL0937CF;0\","
    "\"17\":\"Btn;1\",\"20\":\"LED_n;1\",\"21\":\"BL0937SEL;0\"}}";

static const char *const role_names[PIN_ROLE_COUNT] = {
    "none", "Rel", "Rel_n", "LED", "LED_n", "WifiLED", "WifiLED_n", "Btn", "Btn_n",
    "BL0937CF", "BL0937CF1", "BL0937SEL", "BL0937SEL_n", "HLW8012CF", "BL0942TX", "BL0942RX",
};

const char *pin_role_name(enum pin_role role)
{
    return (unsigned)role < PIN_ROLE_COUNT ? role_names[role] : "?";
}

bool pin_role_meters(enum pin_role role)
{
    return (role >= PIN_BL0937CF && role <= PIN_BL0937SEL_N) || role == PIN_HLW8012CF || role == PIN_BL0942TX ||
           role == PIN_BL0942RX;
}

static bool role_has_channel(enum pin_role role)
{
    return role == PIN_REL || role == PIN_REL_N || role == PIN_LED || role == PIN_LED_N || role == PIN_BTN ||
           role == PIN_BTN_N;
}

static bool role_inverted(enum pin_role role)
{
    return role == PIN_REL_N || role == PIN_LED_N || role == PIN_WIFILED_N;
}

static bool role_is_output(enum pin_role role)
{
    return role >= PIN_REL && role <= PIN_WIFILED_N;
}

/* ---- Parsing and printing ---- */

bool pin_setting_parse(const char *text, struct pin_setting *out, char *error, size_t error_size)
{
    const char *semicolon = strchr(text, ';');
    size_t name_len = semicolon ? (size_t)(semicolon - text) : strlen(text);
    int role = -1;
    for (int r = 0; r < PIN_ROLE_COUNT; r++)
        if (strlen(role_names[r]) == name_len && strncasecmp(text, role_names[r], name_len) == 0)
            role = r;
    if (role < 0) {
        snprintf(error, error_size, "unknown pin role '%.*s'", (int)(name_len > 24 ? 24 : name_len), text);
        return false;
    }
    long channel = role_has_channel((enum pin_role)role) ? 1 : 0;
    if (semicolon) {
        char *end;
        channel = strtol(semicolon + 1, &end, 10);
        /* OpenBeken may add a second channel ("Btn;1;2"): only the first counts. */
        if (end == semicolon + 1 || (*end && *end != ';') || channel < 0 || channel > 63) {
            snprintf(error, error_size, "bad channel in '%.32s'", text);
            return false;
        }
    }
    if (role_has_channel((enum pin_role)role) && (channel < 1 || channel > CHANNEL_MAX)) {
        snprintf(error, error_size, "%s needs a channel 1..%d", role_names[role], CHANNEL_MAX);
        return false;
    }
    if (role == PIN_NONE)
        channel = 0; /* "none;5" is just none */
    *out = (struct pin_setting){.role = (uint8_t)role, .channel = (uint8_t)channel};
    return true;
}

void pin_setting_format(struct pin_setting setting, char *buf, size_t size)
{
    if (setting.role == PIN_NONE)
        snprintf(buf, size, "none");
    else
        snprintf(buf, size, "%s;%u", pin_role_name((enum pin_role)setting.role), setting.channel);
}

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
    char key[8], value[32];
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
        char role_error[48];
        if (!pin_setting_parse(value, &pins[gpio], role_error, sizeof role_error)) {
            snprintf(error, error_size, "GPIO %d: %s", gpio, role_error);
            return false;
        }
    }
    return !jr_failed(r);
}

bool template_parse(const char *json, size_t len, struct pin_setting pins[CONFIG_PINS],
                    char name[CONFIG_NAME_SIZE], char *error, size_t error_size)
{
    struct pin_setting new_pins[CONFIG_PINS] = {{0}};
    char new_name[CONFIG_NAME_SIZE] = "";
    bool has_pins = false;
    char key[24];
    struct json_reader r;
    error[0] = '\0';
    jr_init(&r, json, len);
    if (jr_object_begin(&r)) {
        while (!error[0] && jr_object_next(&r, key, sizeof key)) {
            if (strcmp(key, "pins") == 0) {
                has_pins = parse_pins_object(&r, new_pins, error, error_size);
            } else if (strcmp(key, "name") == 0 && jr_peek(&r) == JSON_STRING) {
                if (!jr_string(&r, new_name, sizeof new_name))
                    snprintf(error, error_size, "template name longer than %d characters", CONFIG_NAME_SIZE - 1);
            } else {
                jr_skip(&r); /* vendor, flags, keywords, image, …: not ours */
            }
        }
    }
    if (!error[0] && !jr_finished(&r))
        snprintf(error, error_size, "template is not valid JSON: %s", r.error[0] ? r.error : "trailing data");
    if (!error[0] && !has_pins)
        snprintf(error, error_size, "template has no \"pins\" object");
    if (error[0])
        return false;
    memcpy(pins, new_pins, sizeof new_pins);
    memcpy(name, new_name, sizeof new_name);
    return true;
}

void template_write(struct json_writer *w, const struct config *config)
{
    jw_string(w, "name", config->template_name);
    jw_object_begin(w, "pins");
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++) {
        if (config->pins[gpio].role == PIN_NONE)
            continue;
        char gpio_key[4], value[24];
        snprintf(gpio_key, sizeof gpio_key, "%d", gpio);
        pin_setting_format(config->pins[gpio], value, sizeof value);
        jw_string(w, gpio_key, value);
    }
    jw_object_end(w);
}

/* ---- The board ---- */

static struct pin_setting applied[CONFIG_PINS]; /* what each pin is set up as */

/* Wi-Fi LED: steady on when connected, blinking while connecting. */
static bool wifi_led_lit;
static struct sched_timer wifi_blink_timer;
static struct event_listener wifi_listener;

static bool output_level(struct pin_setting s)
{
    bool on;
    switch (s.role) {
    case PIN_WIFILED:
    case PIN_WIFILED_N:
        on = wifi_led_lit;
        break;
    default:
        on = channel_get(s.channel);
        break;
    }
    return on != role_inverted((enum pin_role)s.role);
}

void pins_refresh_outputs(void)
{
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (role_is_output((enum pin_role)applied[gpio].role))
            hal_pin_write(gpio, output_level(applied[gpio]));
}

static void wifi_blink(void *arg)
{
    (void)arg;
    wifi_led_lit = !wifi_led_lit;
    pins_refresh_outputs();
}

static void on_wifi_event(const struct event *event, void *arg)
{
    (void)arg;
    if (event->type != EVENT_WIFI)
        return;
    bool blinking = event->value == HAL_WIFI_CONNECTING || event->value == HAL_WIFI_AP;
    if (blinking) {
        sched_timer_start(&wifi_blink_timer, 0, event->value == HAL_WIFI_AP ? 1000 : 250);
    } else {
        sched_timer_stop(&wifi_blink_timer);
        wifi_led_lit = event->value == HAL_WIFI_CONNECTED;
        pins_refresh_outputs();
    }
}

static void release_pin(int gpio)
{
    enum pin_role role = (enum pin_role)applied[gpio].role;
    if (role == PIN_BTN || role == PIN_BTN_N)
        button_detach(gpio);
    hal_pin_mode(gpio, HAL_PIN_DISABLED);
    applied[gpio] = (struct pin_setting){0};
}

static void set_up_pin(int gpio, struct pin_setting s)
{
    enum pin_role role = (enum pin_role)s.role;
    applied[gpio] = s;
    if (role_is_output(role)) {
        hal_pin_write(gpio, output_level(s)); /* level first, then drive */
        hal_pin_mode(gpio, HAL_PIN_OUTPUT);
    } else if (role == PIN_BTN || role == PIN_BTN_N) {
        hal_pin_mode(gpio, role == PIN_BTN ? HAL_PIN_INPUT_PULLUP : HAL_PIN_INPUT_PULLDOWN);
        button_attach(gpio, role == PIN_BTN, s.channel);
    }
}

void pins_mark_applied(int gpio, struct pin_setting setting)
{
    if (gpio >= 0 && gpio < CONFIG_PINS)
        applied[gpio] = setting;
}

void pins_apply(const struct pin_setting pins[CONFIG_PINS])
{
    if (!wifi_listener.fn) {
        sched_timer_init(&wifi_blink_timer, wifi_blink, NULL);
        event_listen(&wifi_listener, on_wifi_event, NULL);
    }
    for (int gpio = 0; gpio < CONFIG_PINS && gpio < hal_pin_count(); gpio++) {
        if (applied[gpio].role == pins[gpio].role && applied[gpio].channel == pins[gpio].channel)
            continue;
        if (applied[gpio].role != PIN_NONE) {
            /* An output keeping its output role changes level in place:
             * releasing it would glitch the relay. */
            if (!(role_is_output((enum pin_role)applied[gpio].role) && role_is_output((enum pin_role)pins[gpio].role)))
                release_pin(gpio);
        }
        if (pins[gpio].role != PIN_NONE)
            set_up_pin(gpio, pins[gpio]);
        else
            applied[gpio] = (struct pin_setting){0};
    }
}

int pins_find(enum pin_role role, unsigned channel)
{
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (applied[gpio].role == role && (channel == 0 || applied[gpio].channel == channel))
            return gpio;
    return -1;
}
