/*
 * channels.h — channel states (relays), power-on behaviour and the relay
 * boot record.
 *
 * channel_set() is the one path for switching: it drives the relay and LED
 * pins, persists the state, then publishes EVENT_CHANNEL, whoever asked.
 * The state is persisted on every change in a small-slot reclog (the "boot
 * record": states, PowerOnState and the relay pins), so that
 * channels_boot_restore() can switch the relays right after reset, before
 * the configuration is even read.
 */
#ifndef OPENPLUG_CHANNELS_H
#define OPENPLUG_CHANNELS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/events.h"

/* What the relays do at power-up.  After a restart or a watchdog reset they
 * keep their state whatever this says (the load never blinks), except that
 * 4 always means on. */
enum power_on_state {
    POWER_ON_OFF = 0,
    POWER_ON_ON = 1,
    POWER_ON_TOGGLE = 2,    /* the opposite of the last state */
    POWER_ON_RESTORE = 3,   /* the last state (default) */
    POWER_ON_LOCKED_ON = 4, /* on, and no command can switch it off */
    POWER_ON_COUNT
};

/* First thing after reset: read the boot record and drive the relays. */
void channels_boot_restore(void);
/* After the configuration is loaded: reconcile with its template and
 * PowerOnState, and persist if anything differs from the boot record. */
void channels_start(void);

bool channel_get(unsigned channel);
/* Switch a channel (1 .. CHANNEL_MAX).  Returns 0, or -1 for a bad channel,
 * when PowerOnState 4 locks it on, or a timer while a trip is latched. */
int channel_set(unsigned channel, bool on, enum source source);
int channel_toggle(unsigned channel, enum source source);

/* A protection trip (limits.h): every relay off and the latch `id` (not 0)
 * recorded in the same boot record, so that no restart or power cut
 * switches the load back on; a later channel_set() on by anyone but
 * SOURCE_OVERLOAD ends the latch, but SOURCE_TIMER, which is refused while
 * it lasts (-1).  -1 when locked on (PowerOnState 4). */
int channels_trip(uint8_t id, enum source source);
/* The latch (0 = none) and the states its first trip switched off. */
uint8_t channels_tripped(uint8_t *switched_off);
void channels_trip_clear(void);

/* Whether POWER index `channel` has a relay. */
bool channel_has_relay(unsigned channel);
/* Number of relays, and the highest channel that has one (0 if none). */
unsigned channels_relay_count(void);
unsigned channels_highest_relay(void);

/* Rewrite the boot record if the template or PowerOnState changed. */
void channels_settings_changed(enum source source);

/* Wipe the boot record in steps (see reclog_erase_step()). */
bool channels_erase_step(uint16_t *step);

#endif
