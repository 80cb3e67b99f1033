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
 *              1-10 s on current (at least two whole periods), with physics
 *              checks (80 V < V < 300 V; PF <= 1 rejects a current sample).
 * Values go to the sensor registry (sensors.h), never to the network.
 */
#ifndef OPENPLUG_BL0937_H
#define OPENPLUG_BL0937_H

#include <stdint.h>

/* Per-Hz constants of the resistor network: watts, volts, amps per Hz. */
struct bl0937_constants {
    float power_w_per_hz;
    float voltage_v_per_hz;
    float current_a_per_hz;
};

/* Typical plug network (1 mOhm shunt, 1981:1 divider, Vref 1.218 V). */
extern const struct bl0937_constants bl0937_typical;

/* Register the driver ("startDriver BL0937"); it starts by itself at boot
 * when the template has BL0937 pins. */
void bl0937_register(void);

/* Figures for Status and tests. */
struct bl0937_stats {
    uint64_t cf_edges, cf1_edges;
    uint64_t pulses_filled; /* CF pulses restored after interrupt blackouts */
    uint32_t cf1_rejected;  /* CF1 samples failing the physics checks */
};
void bl0937_get_stats(struct bl0937_stats *out);

#endif
