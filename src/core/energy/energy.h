/*
 * energy.h — energy counters (Tasmota's Total, Today, Yesterday,
 * TotalStartTime) and their persistence.
 *
 * Counted in microjoules as 64-bit integers: the running meter's import
 * count (meter.h; for a pulse chip, CF pulses times the power constant),
 * so there is no rounding drift.  Saved in a wear-levelled ring in the media
 * partition whenever EnergySaveWh has been counted since the last save (and
 * at a day rollover), so a power cut loses at most that much, never counts
 * twice and never goes backwards.  The day rolls over at local midnight
 * (time zone and DST of timekeeping.h), once the clock is known; a clock
 * that jumps back never rolls over (see roll_over_day() in energy.c).
 */
#ifndef OPENPLUG_ENERGY_H
#define OPENPLUG_ENERGY_H

#include <stdbool.h>
#include <stdint.h>

#define UJ_PER_WH 3600000000ull

/* Whole watt-hours (= kWh with three decimals), rounded. */
static inline int64_t energy_wh(uint64_t uj) { return (int64_t)((uj + UJ_PER_WH / 2) / UJ_PER_WH); }

struct energy_counters {
    uint64_t total_uj, today_uj, yesterday_uj;
    int64_t total_start_s; /* Unix time the total started from, 0 = unknown */
    int32_t day;           /* local days since the epoch of "today", -1 = unknown */
};

/* Restore the counters from flash and start counting (at boot). */
void energy_start(void);
const struct energy_counters *energy_counters(void);

/* The counters as in the newest record on flash: what a power cut would
 * bring back.  Telemetry for Home Assistant ("total_increasing") publishes
 * these, so no value published before a cut is ever above what the plug
 * restores after it. */
const struct energy_counters *energy_saved_counters(void);
/* Save now if the counters moved since the last save (at most as often as
 * telemetry is sent, TelePeriod >= 10 s: 8.4 erases per sector a day). */
void energy_checkpoint(void);

/* Commands' changes: set the total / today (in uJ), or reset everything. */
int energy_set_total(uint64_t total_uj);
int energy_set_today(uint64_t today_uj);
int energy_reset(void);

/* Whether a record of the counters' ring (a backup's) is one this firmware
 * reads back at boot. */
bool energy_record_valid(const void *record, uint32_t len, uint8_t version);

/* Flash life at a continuous load, in years (100k erase cycles a sector). */
uint32_t energy_flash_life_years(uint32_t watts);

#endif
