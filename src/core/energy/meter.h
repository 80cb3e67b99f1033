/*
 * meter.h — the metering interface: every chip (BL0937, HLW8012, BL0942) is
 * a driver behind one operations table, the pin template chooses which one
 * runs, and its latest reading is what every consumer reads.
 *
 * A driver measures and nothing else: it turns its chip's pulses or packets
 * into a reading — active power (signed where the chip knows the direction),
 * voltage, current, a mask of what is valid, and monotonic energy counts it
 * computes itself in microjoules — and hands it to meter_publish().  It
 * never talks to the network, never touches the energy counters, and reads
 * its calibration through meter_constant().  meter.c derives apparent and
 * reactive power and the power factor the same way for every chip, keeps
 * the energy counts monotonic across driver restarts, calibrates against a
 * reference meter, and follows the template at run time: a template that
 * changes the metering pins restarts the meter on them, one without them
 * stops it, all without a restart of the plug.
 */
#ifndef OPENPLUG_METER_H
#define OPENPLUG_METER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/util/json.h"

/* What a reference meter can calibrate (PowerSet, VoltageSet, CurrentSet). */
enum meter_quantity { METER_POWER, METER_VOLTAGE, METER_CURRENT, METER_QUANTITY_COUNT };

/* The valid mask of a reading. */
#define METER_HAS_POWER (1u << 0)
#define METER_HAS_VOLTAGE (1u << 1)
#define METER_HAS_CURRENT (1u << 2)
#define METER_HAS_FREQUENCY (1u << 3)
#define METER_HAS_EXPORT (1u << 4) /* the chip tells import from export */

struct meter_reading {
    uint32_t valid;       /* METER_HAS_*; 0 while no meter runs or nothing is measured yet */
    float power_w;        /* active power; below 0 = exported (a solar inverter) */
    float voltage_v;      /* rms */
    float current_a;      /* rms, averaged over the same time as apparent_va */
    float apparent_va;    /* from the driver, or V x I when it leaves 0: never below |P| averaged
                           * over the same time, but a 1 s |P| of a bursty load may be above it */
    float reactive_var;   /* derived: sqrt(S^2 - P^2) */
    float factor;         /* derived: |P| / S, 0..1 */
    float frequency_hz;   /* mains frequency, if METER_HAS_FREQUENCY */
    uint64_t import_uj;   /* energy drawn, monotonic for as long as the plug runs */
    uint64_t export_uj;   /* energy fed back, monotonic */
    uint64_t updated_ms;  /* uptime of this reading */
};

/* A metering chip.  The driver's state is its own (one instance per chip
 * type, as a plug has one meter). */
struct meter_driver {
    const char *name;                      /* "BL0937": startDriver's name, Status, logs */
    bool (*in_template)(void);             /* does the pin template wire this chip? */
    int (*start)(void);                    /* claim the template's pins; 0, or -1 said in the log */
    void (*stop)(void);                    /* release the pins; counts stay where they are */
    /* The last value of a quantity as measured with the present constant
     * (calibration's "measured"); <= 0 when none. */
    float (*measured)(enum meter_quantity quantity);
    /* A constant changed by `ratio` (new / old): rescale what was measured. */
    void (*rescale)(enum meter_quantity quantity, float ratio);
    /* Statistics for Status and tests, members of the object open in w. */
    void (*write_stats)(struct json_writer *w);
    /* The calibration constants: each is the quantity per raw unit of the
     * chip (uW per Hz of CF, nV per LSB of V_RMS, ...), so calibration
     * scales it in proportion.  Their units and the typical network's
     * defaults. */
    const char *const *constant_units;     /* METER_QUANTITY_COUNT strings, e.g. "uW per Hz of CF" */
    const uint32_t *constant_defaults;     /* METER_QUANTITY_COUNT values */
    uint8_t id;                            /* enum meter_chip: whose constants the settings hold */
    uint32_t measures;                     /* METER_HAS_*: what the chip can measure (HA's entities) */
};

/* Stable ids, kept with the calibration in the settings. */
enum meter_chip { METER_CHIP_BL0937 = 0, METER_CHIP_HLW8012 = 1, METER_CHIP_BL0942 = 2 };

/* Register every linked-in driver's startDriver name (at boot). */
void meter_register(const struct meter_driver *driver);
/* Start the driver the pin template wires (at boot, and whenever the
 * template changes); stop the meter when the template has none. */
void meter_follow_template(void);
/* startDriver <name>: run this chip on the template's metering pins. */
int meter_start(const char *name);
/* Is `name` a metering chip's driver (allowed in safe mode)? */
bool meter_known(const char *name);

/* The running driver, or NULL. */
const struct meter_driver *meter_running(void);
/* The latest reading (valid == 0 when no meter runs). */
const struct meter_reading *meter_reading(void);

/* For drivers: publish a reading (announces EVENT_SENSORS).  The energy
 * counts are the driver's own, from 0 at each start; meter.c adds them
 * onto what earlier runs counted. */
void meter_publish(struct meter_reading *reading);

/* The running chip's constant (its default when the settings hold another
 * chip's), and setting it (saved; 0 or a negative HAL_E*). */
uint32_t meter_constant(enum meter_quantity quantity);
int meter_set_constant(enum meter_quantity quantity, uint32_t value);

/* Calibrate against a reference meter's reading (W, V or A) of the present
 * load: the constant becomes old x reference / measured, is saved and used
 * at once.  Refused with a message — nothing changed — when no meter runs,
 * nothing is measured, or the correction is beyond 4x. */
int meter_calibrate(enum meter_quantity quantity, float reference, char *error, unsigned error_size);

/* Members "Meter" (the chip or null) and the driver's statistics, for Status. */
void meter_write_json(struct json_writer *w);

/* sqrt for the core, which avoids libm (Newton; x >= 0). */
float meter_sqrt(float x);

#endif
