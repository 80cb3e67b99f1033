/*
 * bl0937.h — driver of the BL0937 metering chip (CF, CF1, SEL pins).
 *
 * Every CF and CF1 falling edge is timestamped in the interrupt (through
 * sched.c's ring); the loop turns them into:
 *   power    = pulses x KP / time spanned by those pulses, over a ~1 s gate of
 *              whole CF periods (no window quantisation); with no edge in a
 *              gate, the last value bounded by KP / time since the last edge,
 *              so a load switched off decays to ~0 within seconds;
 *   energy   = CF pulses (64-bit count, gaps from interrupt blackouts filled
 *              from the local period) x KP;
 *   voltage / current from CF1 with SEL alternating: after each switch a
 *              settle time, the first edge dropped, then ~1 s on voltage and
 *              1-3 s on current (two whole periods, summed over several
 *              dwells at a few mA), with physics
 *              checks (80 V < V < 300 V; PF <= 1 rejects a current sample).
 * Values go to the sensor registry (sensors.h), never to the network.
 */
#ifndef OPENPLUG_BL0937_H
#define OPENPLUG_BL0937_H

#include <stdbool.h>
#include <stdint.h>

enum bl0937_quantity { BL0937_POWER, BL0937_VOLTAGE, BL0937_CURRENT };

/* Calibrate against a reference meter's reading (W, V or A) of the present
 * load: the constant becomes old x reference / measured, is saved and used
 * at once.  Refused with a message — and nothing changed — when the driver
 * does not run, nothing is measured, or the correction is beyond 4x. */
int bl0937_calibrate(enum bl0937_quantity quantity, float reference, char *error, unsigned error_size);

/* Set a constant directly (PowerCal & co, in the settings' units: uW, uV,
 * uA per Hz); 0 or a negative HAL_E* after a failed save. */
int bl0937_set_constant(enum bl0937_quantity quantity, uint32_t value);
uint32_t bl0937_constant(enum bl0937_quantity quantity);

/* Register the driver ("startDriver BL0937"); it starts by itself at boot
 * when the template has BL0937 pins. */
void bl0937_register(void);

/* Is the driver running (pins found, interrupts attached)? */
bool bl0937_running(void);

/* Figures for Status and tests. */
struct bl0937_stats {
    uint64_t cf_edges, cf1_edges;
    uint64_t pulses_filled; /* CF pulses restored after interrupt blackouts */
    uint32_t cf1_rejected;  /* CF1 samples failing the physics checks */
    uint32_t voltage_updates, current_updates;
};
void bl0937_get_stats(struct bl0937_stats *out);

#endif
