/*
 * quantity.h — the one table of what the plug measures and counts, and the
 * name each interface gives it: Tasmota's key (Status 8 / 10, SENSOR), the
 * key of /api/state and the event stream, the Prometheus metric, the script
 * variable, the unit and decimals, Home Assistant's device and state class.
 * Every writer walks this table, so a new quantity is one row (and, if a
 * meter measures it, a field of struct meter_reading).
 *
 * A quantity the running meter does not measure (yet) is left out, never
 * written as a 0 it did not measure; the energy counters are always there.
 */
#ifndef OPENPLUG_QUANTITY_H
#define OPENPLUG_QUANTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/energy/energy.h"
#include "core/util/json.h"

/* In Tasmota's ENERGY order (Period, telemetry only, goes after Today). */
enum quantity_id {
    Q_TOTAL,
    Q_YESTERDAY,
    Q_TODAY,
    Q_POWER,
    Q_APPARENT,
    Q_REACTIVE,
    Q_FACTOR,
    Q_FREQUENCY,
    Q_VOLTAGE,
    Q_CURRENT,
    Q_COUNT
};
#define Q_FIRST_MEASURED Q_POWER

struct quantity {
    const char *tasmota;      /* "Power": a member of ENERGY */
    const char *json;         /* "power_w": a member of /api/state's energy */
    const char *metric;       /* "openplug_power_watts" */
    const char *metric_type;  /* "gauge", "counter" */
    const char *help;         /* the metric's HELP */
    const char *name;         /* HA's entity name */
    const char *script;       /* "power": $power in scripts, NULL if none */
    const char *unit;         /* "W", NULL for a ratio */
    uint8_t decimals;
    uint32_t needs;           /* METER_HAS_* it needs; 0 for an energy counter */
    const char *ha_object;    /* HA's object id */
    const char *device_class; /* HA's device_class, NULL if none */
    const char *state_class;  /* HA's state_class, NULL if none (Yesterday: a value set once a day) */
};

extern const struct quantity quantities[Q_COUNT];

/* Its value in fixed point (x 10^decimals); false when not measured.
 * `counters`: energy_counters() for now, energy_saved_counters() for
 * telemetry that must never go down across a power cut. */
bool quantity_fixed(enum quantity_id id, const struct energy_counters *counters, int64_t *fixed);

/* The same as a number (scripts): 0 when not measured. */
double quantity_number(enum quantity_id id);

/* How quantity_write() names and chooses the members. */
enum quantity_style {
    QUANTITY_JSON,    /* /api/state's names, those measured */
    QUANTITY_TASMOTA, /* Tasmota's names, those measured */
    QUANTITY_SAMPLE,  /* Tasmota's names, every one the running meter can measure, 0 until it has:
                       * Tasmota discovery's sample, from whose keys HA's integration makes its
                       * entities (a plug announced before its first reading still gets them all) */
};

/* Members for quantities first..last-1, in `style`. */
void quantity_write(struct json_writer *w, enum quantity_id first, enum quantity_id last, enum quantity_style style,
                    const struct energy_counters *counters);

#endif
