/*
 * sim_energy_log.c — --energy-log FILE: a CSV row every second of device
 * time with exactly what the firmware would publish (the sensor registry
 * and the energy counters): t_s,volts,amps,watts,va,pf,kwh_total, t_s in
 * seconds since boot; a quantity the meter has not measured yet is an
 * empty field.  An instrument of the simulator for benchmarks; it
 * reads the core's registry and changes nothing.
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "core/energy/energy.h"
#include "core/energy/meter.h"
#include "sim.h"

static FILE *log_file;
static uint64_t next_row_us;

bool sim_energy_log_open(const char *path)
{
    log_file = fopen(path, sim_first_boot() ? "w" : "a"); /* one log across reboots */
    if (!log_file) {
        fprintf(stderr, "openplug-sim: cannot write the energy log %s: %m\n", path);
        return false;
    }
    setvbuf(log_file, NULL, _IOLBF, 0); /* each row on disk at once: a power cut keeps it */
    if (sim_first_boot())
        fputs("t_s,volts,amps,watts,va,pf,kwh_total\n", log_file);
    next_row_us = 1000000;
    return true;
}

uint64_t sim_energy_log_next_us(void) { return log_file ? next_row_us : UINT64_MAX; }

void sim_energy_log_write_due(void)
{
    while (log_file && sim_now_us() >= next_row_us) {
        const struct meter_reading *v = meter_reading();
        char volts[16] = "", amps[16] = "", watts[16] = "", va[16] = "", pf[16] = "";
        if (v->valid & METER_HAS_VOLTAGE)
            snprintf(volts, sizeof volts, "%.3f", (double)v->voltage_v);
        if (v->valid & METER_HAS_CURRENT)
            snprintf(amps, sizeof amps, "%.5f", (double)v->current_a);
        if (v->valid & METER_HAS_POWER)
            snprintf(watts, sizeof watts, "%.4f", (double)v->power_w);
        if ((v->valid & METER_HAS_VOLTAGE) && (v->valid & METER_HAS_CURRENT)) {
            snprintf(va, sizeof va, "%.4f", (double)v->apparent_va);
            snprintf(pf, sizeof pf, "%.4f", (double)v->factor);
        }
        fprintf(log_file, "%llu,%s,%s,%s,%s,%s,%.9f\n", (unsigned long long)(next_row_us / 1000000), volts, amps,
                watts, va, pf, (double)energy_counters()->total_uj / (double)UJ_PER_WH / 1000.0);
        next_row_us += 1000000;
    }
}

void sim_energy_log_close(void)
{
    if (log_file)
        fclose(log_file);
    log_file = NULL;
}
