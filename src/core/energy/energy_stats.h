/*
 * energy_stats.h — OpenBeken's `SetupEnergyStats <enable> <sample s>
 * <samples>`: the energy used in each of the last <samples> intervals of
 * <sample s> seconds (a rolling hour with 1 60 60), kept in RAM.
 *
 * Households carry the line in their startup command; here it costs one
 * timer per sample and a fixed array, and never touches flash (the history
 * bars of the UI are a separate area).
 */
#ifndef OPENPLUG_ENERGY_STATS_H
#define OPENPLUG_ENERGY_STATS_H

#include <stdint.h>

#define ENERGY_STATS_SAMPLES_MAX 180

void energy_stats_register(void);

#endif
