/*
 * pins.h — pin roles, templates, and putting a template on the board.
 *
 * A template maps GPIOs to roles with a channel (OpenBeken's format:
 * {"name":"…","pins":{"2":"Rel;1","17":"Btn;1",…}}).  This module parses
 * and prints templates, and pins_apply() reconfigures the board to a new
 * one: pins that change role are released, new outputs get their level
 * before they are enabled (no relay glitch), buttons are handed to
 * button.c.  BL0937 pins are left for the metering driver.
 */
#ifndef OPENPLUG_PINS_H
#define OPENPLUG_PINS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/storage/config.h"
#include "core/util/json.h"

enum pin_role {
    PIN_NONE = 0,
    PIN_REL,         /* relay, on = high */
    PIN_REL_N,       /* relay, on = low */
    PIN_LED,         /* follows its channel's relay */
    PIN_LED_N,
    PIN_WIFILED,     /* on = connected, blinks while connecting */
    PIN_WIFILED_N,
    PIN_BTN,         /* button to ground, pull-up: pressed = low */
    PIN_BTN_N,       /* button to supply, pull-down: pressed = high */
    PIN_BL0937CF,    /* metering: active power pulses */
    PIN_BL0937CF1,   /* metering: current or voltage pulses */
    PIN_BL0937SEL,   /* metering: CF1 selection, high = voltage */
    PIN_BL0937SEL_N, /* the same through an inverter */
    PIN_HLW8012CF,   /* metering: an HLW8012's CF (CF1 and SEL take the BL0937 roles, as in Tasmota) */
    PIN_BL0942TX,    /* metering: BL0942 serial, the plug's TX (to the chip's RX) */
    PIN_BL0942RX,    /* metering: BL0942 serial, the plug's RX (from the chip's TX) */
    PIN_ROLE_COUNT
};

#define CHANNEL_MAX 4 /* relay / LED / button channels are 1 .. CHANNEL_MAX */

const char *pin_role_name(enum pin_role role);
/* Is the role a metering chip's (left to the meter, see meter.h)? */
bool pin_role_meters(enum pin_role role);

/* "Rel;1", "LED_n;1", "BL0937CF;0", "none" (role names are
 * case-insensitive; the channel defaults to 1 for roles that need one). */
bool pin_setting_parse(const char *text, struct pin_setting *out, char *error, size_t error_size);
void pin_setting_format(struct pin_setting setting, char *buf, size_t size);

/* Parse a template into pins and name; on error returns false with a
 * message and leaves both untouched. */
bool template_parse(const char *json, size_t len, struct pin_setting pins[CONFIG_PINS],
                    char name[CONFIG_NAME_SIZE], char *error, size_t error_size);
/* Print the template of `config` as the members "name" and "pins" of the
 * JSON object open in w. */
void template_write(struct json_writer *w, const struct config *config);

/* The template of the reference board, SM-028_V1.3. */
extern const char pins_default_template[];

/* Reconfigure the board to `pins` (usually config_get()->pins). */
void pins_apply(const struct pin_setting pins[CONFIG_PINS]);
/* Record that a pin was set up before pins_apply() (early relay restore). */
void pins_mark_applied(int gpio, struct pin_setting setting);
/* Drive every output pin to its current level (after a state change). */
void pins_refresh_outputs(void);
/* GPIO of the first pin with `role` on `channel` (any channel if 0), or -1. */
int pins_find(enum pin_role role, unsigned channel);

#endif
