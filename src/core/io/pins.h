/*
 * pins.h — pin roles and putting a pin map on the board.
 *
 * A pin map gives each GPIO a role and a channel, as OpenBeken's templates
 * do ("Rel;1", "Btn;0").  Channels are OpenBeken's numbers: a template that
 * puts a relay on channel 0 counts from 0, any other from 1, and Tasmota's
 * POWER<n> is the n-th of them (OpenBeken's rule).  Inside the firmware a
 * channel is that POWER index (1 .. CHANNEL_MAX): pins_apply() translates.
 * pins_apply() reconfigures the board to a new map: pins that change role
 * are released, new outputs get their level before they are enabled (no
 * relay glitch), buttons are handed to button.c, LEDs dim by PWM where the
 * pin allows it.  BL0937 pins are left for the metering driver.  Parsing
 * whole templates is template.c's.
 */
#ifndef OPENPLUG_PINS_H
#define OPENPLUG_PINS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/storage/config.h"

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
    /* added with OpenBeken's plug roles (the numbers are persisted) */
    PIN_TGL_CHAN_ON_TGL,  /* a switch: every change of level toggles its channel */
    PIN_BTN_TGL_ALL,      /* a button whose click switches every relay: all off if any is on, else all on */
    PIN_BTN_TGL_ALL_N,
    PIN_ALWAYS_HIGH,      /* an output held high (powers a part of the board) */
    PIN_ALWAYS_LOW,
    PIN_BTN_SCRIPT_ONLY,  /* a button that only raises events (scripts), switches nothing */
    PIN_BTN_SCRIPT_ONLY_N,
    PIN_PWM,              /* an LED on a PWM pin: follows its channel at LedPwmOn / LedPwmOff */
    PIN_PWM_N,
    PIN_ROLE_COUNT
};

#define CHANNEL_MAX 4 /* relays, POWER1 .. POWER4 */

const char *pin_role_name(enum pin_role role);
/* Is the role a metering chip's (left to the meter, see meter.h)? */
bool pin_role_meters(enum pin_role role);

/* True for roles that name a channel (relays, LEDs, buttons, switches). */
bool pin_role_has_channel(enum pin_role role);

/* "Rel;1", "LED_n;0", "BL0937CF;0", "none" (role names are
 * case-insensitive; the channel defaults to 1 for roles that need one).  A
 * role OpenBeken has for hardware a plug lacks (IR, bulb LED drivers,
 * sensors) is refused with a message saying why. */
bool pin_setting_parse(const char *text, struct pin_setting *out, char *error, size_t error_size);
void pin_setting_format(struct pin_setting setting, char *buf, size_t size);

/* The rules a whole map must keep: at most CHANNEL_MAX relays, each
 * channel with at most one, and every LED / button / switch on a channel
 * that has a relay.  Returns false with a message if one is broken. */
bool pins_check(const struct pin_setting pins[CONFIG_PINS], char *error, size_t error_size);
/* OpenBeken's channel number of a relay/LED/button -> POWER index, in the
 * map `pins` (0 if it has none). */
unsigned pins_power_index(const struct pin_setting pins[CONFIG_PINS], unsigned channel);

/* Reconfigure the board to `pins` (usually config_get()->pins). */
void pins_apply(const struct pin_setting pins[CONFIG_PINS]);
/* Record that a pin was set up before pins_apply() (early relay restore). */
void pins_mark_applied(int gpio, struct pin_setting setting);
/* Drive every output pin to its current level (after a state change or a
 * LedPwmOn / LedPwmOff change). */
void pins_refresh_outputs(void);
/* GPIO of the first pin with `role` on POWER index `channel` (any
 * channel if 0), or -1. */
int pins_find(enum pin_role role, unsigned channel);

#endif
