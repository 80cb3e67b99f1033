/*
 * sensors.h — the one registry of measured values.
 *
 * Drivers publish here (and never talk to the network); the console, and
 * later the web UI and MQTT, read from here.  Each publish replaces the
 * values and announces EVENT_SENSORS.
 */
#ifndef OPENPLUG_SENSORS_H
#define OPENPLUG_SENSORS_H

#include <stdbool.h>
#include <stdint.h>

struct energy_values {
    bool valid;           /* a metering driver runs and has reported */
    float power_w;        /* active power */
    float voltage_v;      /* rms */
    float current_a;      /* rms */
    float apparent_va;    /* V x I, never below the active power */
    float reactive_var;
    float factor;         /* active / apparent, 0..1 */
    uint64_t pulses;      /* CF pulses since the counter started */
    uint64_t updated_ms;  /* uptime of this report */
};

void sensors_publish_energy(const struct energy_values *values);
const struct energy_values *sensors_energy(void);

#endif
