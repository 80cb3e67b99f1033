/* pins.c — pin roles, pin maps and board set-up; see pins.h. */
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

/* OpenBeken's spellings (matched without regard to case: "WiFiLED" is
 * "WifiLED"). */
static const char *const role_names[PIN_ROLE_COUNT] = {
    "none", "Rel", "Rel_n", "LED", "LED_n", "WifiLED", "WifiLED_n", "Btn", "Btn_n",
    "BL0937CF", "BL0937CF1", "BL0937SEL", "BL0937SEL_n", "HLW8012CF", "BL0942TX", "BL0942RX",
    "TglChanOnTgl", "Btn_Tgl_All", "Btn_Tgl_All_n", "AlwaysHigh", "AlwaysLow", "Btn_ScriptOnly",
    "Btn_ScriptOnly_n", "PWM", "PWM_n",
};

/* OpenBeken roles for hardware a plug does not have: refused, saying why
 * (matched by prefix, without regard to case). */
static const struct {
    const char *prefix;
    const char *why;
} refused_roles[] = {
    {"IRRecv", "a plug has no infrared receiver"},
    {"IRSend", "a plug has no infrared transmitter"},
    {"RCRecv", "a plug has no 433 MHz receiver"},
    {"SM2135", "it drives a bulb's LED driver chip, which a plug does not have"},
    {"SM2235", "it drives a bulb's LED driver chip, which a plug does not have"},
    {"BP5758", "it drives a bulb's LED driver chip, which a plug does not have"},
    {"BP1658", "it drives a bulb's LED driver chip, which a plug does not have"},
    {"KP18058", "it drives a bulb's LED driver chip, which a plug does not have"},
    {"SM15155", "it drives a bulb's LED driver chip, which a plug does not have"},
    {"SM16703", "it drives an addressable LED strip, which a plug does not have"},
    {"Btn_Next", "it steps a light's colour, brightness or scheme; a plug has no light"},
    {"Btn_SmartLED", "it steps a light's colour, brightness or scheme; a plug has no light"},
    {"DHT", "temperature and humidity sensors are not supported on a plug"},
    {"DS1820", "temperature sensors are not supported on a plug"},
    {"SHT3", "temperature and humidity sensors are not supported on a plug"},
    {"CHT8", "temperature and humidity sensors are not supported on a plug"},
    {"SGP", "air quality sensors are not supported on a plug"},
    {"ADC", "analog inputs are not used on a plug"},
    {"BAT_", "battery devices are not plugs"},
    {"DoorSnsr", "door sensors are battery devices, not plugs"},
    {"dInput", "inputs that copy their level to a channel are not supported: use TglChanOnTgl or Btn"},
    {"DigitalInput", "inputs that copy their level to a channel are not supported: use TglChanOnTgl or Btn"},
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

static bool role_is_relay(enum pin_role role) { return role == PIN_REL || role == PIN_REL_N; }

static bool role_is_button(enum pin_role role)
{
    return role == PIN_BTN || role == PIN_BTN_N || role == PIN_TGL_CHAN_ON_TGL || role == PIN_BTN_TGL_ALL ||
           role == PIN_BTN_TGL_ALL_N || role == PIN_BTN_SCRIPT_ONLY || role == PIN_BTN_SCRIPT_ONLY_N;
}

static bool role_is_led(enum pin_role role)
{
    return role == PIN_LED || role == PIN_LED_N || role == PIN_WIFILED || role == PIN_WIFILED_N || role == PIN_PWM ||
           role == PIN_PWM_N;
}

/* Roles that act on (or show) a relay's channel: that channel needs one. */
static bool role_needs_relay(enum pin_role role)
{
    return role == PIN_LED || role == PIN_LED_N || role == PIN_PWM || role == PIN_PWM_N || role == PIN_BTN ||
           role == PIN_BTN_N || role == PIN_TGL_CHAN_ON_TGL;
}

bool pin_role_has_channel(enum pin_role role)
{
    return role_is_relay(role) || role_needs_relay(role) || role == PIN_BTN_SCRIPT_ONLY ||
           role == PIN_BTN_SCRIPT_ONLY_N;
}

static bool role_inverted(enum pin_role role)
{
    return role == PIN_REL_N || role == PIN_LED_N || role == PIN_WIFILED_N || role == PIN_PWM_N;
}

static bool role_is_output(enum pin_role role)
{
    return role_is_relay(role) || role_is_led(role) || role == PIN_ALWAYS_HIGH || role == PIN_ALWAYS_LOW;
}

/* ---- Parsing and printing ---- */

static bool refused_role(const char *text, size_t name_len, char *error, size_t error_size)
{
    for (size_t i = 0; i < sizeof refused_roles / sizeof refused_roles[0]; i++) {
        size_t n = strlen(refused_roles[i].prefix);
        if (name_len >= n && strncasecmp(text, refused_roles[i].prefix, n) == 0) {
            snprintf(error, error_size, "role '%.*s' refused: %s", (int)(name_len > 24 ? 24 : name_len), text,
                     refused_roles[i].why);
            return true;
        }
    }
    return false;
}

bool pin_setting_parse(const char *text, struct pin_setting *out, char *error, size_t error_size)
{
    const char *semicolon = strchr(text, ';');
    size_t name_len = semicolon ? (size_t)(semicolon - text) : strlen(text);
    int role = -1;
    for (int r = 0; r < PIN_ROLE_COUNT; r++)
        if (strlen(role_names[r]) == name_len && strncasecmp(text, role_names[r], name_len) == 0)
            role = r;
    if (role < 0) {
        if (!refused_role(text, name_len, error, error_size))
            snprintf(error, error_size, "unknown pin role '%.*s'", (int)(name_len > 24 ? 24 : name_len), text);
        return false;
    }
    long channel = pin_role_has_channel((enum pin_role)role) ? 1 : 0;
    if (semicolon) {
        char *end;
        channel = strtol(semicolon + 1, &end, 10);
        /* OpenBeken may add a second channel ("Btn;1;2"): only the first counts. */
        if (end == semicolon + 1 || (*end && *end != ';') || channel < 0 || channel > 63) {
            snprintf(error, error_size, "bad channel in '%.32s' (channels are 0..63)", text);
            return false;
        }
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

/* OpenBeken counts channels from 0 when a relay is on channel 0. */
static unsigned channel_base(const struct pin_setting pins[CONFIG_PINS])
{
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (role_is_relay((enum pin_role)pins[gpio].role) && pins[gpio].channel == 0)
            return 1;
    return 0;
}

unsigned pins_power_index(const struct pin_setting pins[CONFIG_PINS], unsigned channel)
{
    return channel + channel_base(pins);
}

static bool has_relay(const struct pin_setting pins[CONFIG_PINS], unsigned channel)
{
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (role_is_relay((enum pin_role)pins[gpio].role) && pins[gpio].channel == channel)
            return true;
    return false;
}

bool pins_check(const struct pin_setting pins[CONFIG_PINS], char *error, size_t error_size)
{
    unsigned base = channel_base(pins);
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++) {
        enum pin_role role = (enum pin_role)pins[gpio].role;
        unsigned channel = pins[gpio].channel;
        if (role_is_relay(role) && channel + base > CHANNEL_MAX) {
            snprintf(error, error_size, "GPIO %d: %s;%u: a plug here switches at most %d relays, on channels %u..%u",
                     gpio, role_names[role], channel, CHANNEL_MAX, 1 - base, CHANNEL_MAX - base);
            return false;
        }
        if (role_needs_relay(role) && !has_relay(pins, channel)) {
            snprintf(error, error_size, "GPIO %d: %s;%u: channel %u has no relay to %s", gpio, role_names[role],
                     channel, channel, role_is_led(role) ? "show" : "switch");
            return false;
        }
    }
    return true;
}

/* ---- The board ---- */

/* What each pin is set up as, with the POWER index as its channel. */
static struct pin_setting applied[CONFIG_PINS];

/* Wi-Fi LED: steady on when connected, blinking while connecting. */
static bool wifi_led_lit;
static struct sched_timer wifi_blink_timer;
static struct event_listener wifi_listener;

/* Whether an output is active (lit, closed, high), before inversion. */
static bool output_active(struct pin_setting s)
{
    switch (s.role) {
    case PIN_WIFILED:
    case PIN_WIFILED_N: return wifi_led_lit;
    case PIN_ALWAYS_HIGH: return true;
    case PIN_ALWAYS_LOW: return false;
    default: return channel_get(s.channel);
    }
}

static bool output_level(struct pin_setting s)
{
    return output_active(s) != role_inverted((enum pin_role)s.role);
}

/* An LED at LedPwmOn / LedPwmOff: by PWM where the pin has a free PWM
 * unit, else on/off (a brightness of half or more is on). */
static void drive(int gpio, struct pin_setting s)
{
    enum pin_role role = (enum pin_role)s.role;
    if (!role_is_led(role)) {
        hal_pin_write(gpio, output_level(s));
        return;
    }
    const struct config *c = config_get();
    unsigned brightness = output_active(s) ? c->led_pwm_on : c->led_pwm_off; /* 0..255 */
    if (brightness != 0 && brightness != 255) {
        uint16_t permille = (uint16_t)((brightness * 1000u + 127u) / 255u);
        if (role_inverted(role))
            permille = (uint16_t)(1000u - permille);
        if (hal_pin_pwm(gpio, permille) == HAL_OK)
            return;
    }
    hal_pin_write(gpio, (brightness >= 128) != role_inverted(role));
}

void pins_refresh_outputs(void)
{
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (role_is_output((enum pin_role)applied[gpio].role))
            drive(gpio, applied[gpio]);
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
    if (role_is_button((enum pin_role)applied[gpio].role))
        button_detach(gpio);
    hal_pin_mode(gpio, HAL_PIN_DISABLED);
    applied[gpio] = (struct pin_setting){0};
}

static enum button_kind button_kind_of(enum pin_role role)
{
    switch (role) {
    case PIN_TGL_CHAN_ON_TGL: return BUTTON_SWITCH;
    case PIN_BTN_TGL_ALL:
    case PIN_BTN_TGL_ALL_N: return BUTTON_TOGGLE_ALL;
    case PIN_BTN_SCRIPT_ONLY:
    case PIN_BTN_SCRIPT_ONLY_N: return BUTTON_SCRIPT_ONLY;
    default: return BUTTON_PUSH;
    }
}

static void set_up_pin(int gpio, struct pin_setting s)
{
    enum pin_role role = (enum pin_role)s.role;
    applied[gpio] = s;
    if (role_is_output(role)) {
        hal_pin_write(gpio, output_level(s)); /* level first, then drive */
        hal_pin_mode(gpio, HAL_PIN_OUTPUT);
        drive(gpio, s); /* dimmed LEDs: the PWM wave */
    } else if (role_is_button(role)) {
        /* "_n" buttons pull down and are pressed high; the others pull up. */
        bool active_low = role != PIN_BTN_N && role != PIN_BTN_TGL_ALL_N && role != PIN_BTN_SCRIPT_ONLY_N;
        hal_pin_mode(gpio, active_low ? HAL_PIN_INPUT_PULLUP : HAL_PIN_INPUT_PULLDOWN);
        button_attach(gpio, active_low, s.channel, button_kind_of(role));
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
    unsigned base = channel_base(pins);
    for (int gpio = 0; gpio < CONFIG_PINS && gpio < hal_pin_count(); gpio++) {
        struct pin_setting want = pins[gpio];
        if (pin_role_has_channel((enum pin_role)want.role))
            want.channel = (uint8_t)(want.channel + base);
        if (applied[gpio].role == want.role && applied[gpio].channel == want.channel)
            continue;
        if (applied[gpio].role != PIN_NONE) {
            /* An output keeping its output role changes level in place:
             * releasing it would glitch the relay. */
            if (!(role_is_output((enum pin_role)applied[gpio].role) && role_is_output((enum pin_role)want.role)))
                release_pin(gpio);
        }
        if (want.role != PIN_NONE)
            set_up_pin(gpio, want);
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
