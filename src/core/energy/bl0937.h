/*
 * bl0937.h — the pulse-output metering chips: the BL0937 and the HLW8012
 * (and its CSE7759 twin), drivers behind meter.h.
 *
 * Both have three pins: CF pulses at a rate proportional to active power,
 * CF1 at a rate proportional to rms voltage or current as SEL chooses (the
 * BL0937 gives voltage with SEL high, the HLW8012 current).  Every CF and
 * CF1 falling edge is timestamped in the interrupt (sched.c's ring); the
 * loop turns them into:
 *   energy   = CF pulses x the power constant (a 64-bit pulse count, gaps
 *              from interrupt blackouts filled from the local period);
 *   power    = the energy of each 1 s report: the pulses that arrived plus
 *              the part of the pulse in progress, estimated from the latest
 *              period but never more than one pulse — so a pulse is never
 *              reported twice, the reports integrate to the counted energy
 *              on any load (bursts, on/off cycling, standby), and a load
 *              switched off reads 0 at the next report.  No report is above
 *              the fastest rate measured in its second; nothing is reported
 *              until the second edge has given a period (or 12 s without
 *              one: then 0), so start-up reads no made-up zeros;
 *   voltage  = CF1 over ~1 s after each switch to voltage, after a settle
 *              time with the first edge dropped, checked 80..300 V;
 *   current  = CF1 averaged over its whole dwell — whole periods plus the
 *              part before the first and after the last edge — so a bursty
 *              load reads its mean current; the dwell is fixed before it
 *              starts: 2 s, or 8 s below 20 mA, where the voltage is then
 *              refreshed every 10 s instead of 4 s (BL0937.md target 9);
 *              dwells add up until two periods are seen.
 * Apparent power is V x I, never below the active power averaged over the
 * same dwell.
 */
#ifndef OPENPLUG_BL0937_H
#define OPENPLUG_BL0937_H

#include "core/energy/meter.h"

extern const struct meter_driver bl0937_driver;
extern const struct meter_driver hlw8012_driver;

/* Figures for Status and tests. */
struct bl0937_stats {
    uint64_t cf_edges, cf1_edges;
    uint64_t pulses_filled; /* CF pulses restored after interrupt blackouts */
    uint32_t cf1_rejected;  /* CF1 samples failing the physics checks */
    uint32_t voltage_updates, current_updates;
};
void bl0937_get_stats(struct bl0937_stats *out);

#endif
