/*
 * limits.h — protection by the meter's readings, Tasmota's way, and
 * PulseTime.
 *
 * Margins (PowerLow/High, VoltageLow/High, CurrentLow/High) only report:
 * each is ON while the reading is beyond it (checked while a relay is on,
 * as Tasmota does).  Cut-offs trip: MaxPower (for MaxPowerHold seconds;
 * with MaxPowerWindow, off that long and on again up to SetOption33 times),
 * MaxEnergy (Today reaches it, from the local hour MaxEnergyStart; the next
 * day at that hour what it switched off comes back on), MaxVoltage and
 * MinVoltage (for VoltageHold seconds).  A trip switches every relay off
 * and latches in the relay boot record (channels_trip()), so neither a
 * restart nor a power cut nor PowerOnState switches the load back on; the
 * user switching a relay on ends it.  Energy counting goes on untouched.
 *
 * Every change is an EVENT_LIMIT: channel the enum limit_id, value the
 * enum limit_change, source SOURCE_OVERLOAD for the plug's own doing, else
 * who ended the latch.  MQTT, discovery, the web page and scripts follow it.
 *
 * PulseTime<n> switches relay n off that long after any switch-on
 * (Tasmota's encoding: 1..111 tenths of a second, 112..64900 value - 100
 * seconds); restarting it on each switch-on.
 */
#ifndef OPENPLUG_LIMITS_H
#define OPENPLUG_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/storage/config.h"
#include "core/util/json.h"

enum limit_id {
    LIMIT_POWER_LOW,
    LIMIT_POWER_HIGH,
    LIMIT_VOLTAGE_LOW,
    LIMIT_VOLTAGE_HIGH,
    LIMIT_CURRENT_LOW,
    LIMIT_CURRENT_HIGH,
    LIMIT_MARGINS, /* the cut-offs follow */
    LIMIT_MAX_POWER = LIMIT_MARGINS,
    LIMIT_MAX_ENERGY,
    LIMIT_MAX_VOLTAGE,
    LIMIT_MIN_VOLTAGE,
    LIMIT_COUNT,
    LIMIT_PULSE = LIMIT_COUNT, /* a PulseTime countdown started or ended (the web page's) */
};

enum limit_change {
    LIMIT_OFF,     /* a margin is back; a latch ended (by the user, a good retry or MaxEnergyStart) */
    LIMIT_ON,      /* a margin is crossed; a cut-off tripped: relays off */
    LIMIT_RETRY,   /* MaxPowerWindow passed: the relays are on again, on trial */
    LIMIT_GAVE_UP, /* the last retry tripped too: off until the user switches on */
};

/* Tasmota's names: "PowerLow" … "MaxPower", "MaxEnergy", "MaxVoltage", "MinVoltage". */
const char *limit_name(enum limit_id id);
/* The id of a name (any case), -1 if none. */
int limit_by_name(const char *name);

void limits_start(void);

/* Margins ON now (bit per enum limit_id below LIMIT_MARGINS). */
unsigned limits_margins(void);
/* The latched trip, -1 if none. */
int limits_tripped(void);
/* The reading that tripped it (W, V or, for MaxEnergy, Wh). */
float limits_trip_value(void);
/* Milliseconds until PulseTime switches `channel` off, 0 if not counting. */
uint32_t limits_pulse_remaining_ms(unsigned channel);

/* Members "Tripped" (with its "Limit" setting), the margins' "ON"/"OFF"
 * and, with_pulse and while counting, "PulseTime<n>" remaining ms: the
 * state for MQTT's LIMITS (retained: no countdown) and /api/state. */
void limits_write_state(struct json_writer *w, bool with_pulse);

/* Status 9's object, StatusPTH: PowerDelta and the margins. */
void limits_status(struct json_writer *w);

/* Settings check for config.c: NULL if fine, else what is wrong. */
const char *limits_invalid(const struct config_limits *limits);

void cmd_limits_register(void);

#endif
