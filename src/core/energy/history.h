/*
 * history.h — energy per hour (the last 48 hours), per day (the last 14
 * days), per month (the last 24) and per year (the last 10), for the web
 * UI's bar charts; and, when a price is set (tariff.h), what each of those
 * bars cost, with today's, yesterday's, this month's and the total cost.
 *
 * Fed by the energy counters (energy.h): whatever they measure is added to
 * the bucket of the hour and of the day it was measured in, in local time
 * (timekeeping.h: the same midnight as Today / Yesterday).  Energy measured
 * while the clock is unknown waits and goes to the hour in which the clock
 * becomes known.  A clock set back (or the hour repeated when daylight
 * saving time ends) keeps counting in the newest bucket: the past is never
 * rewritten.
 *
 * Persisted in one ring of the media partition (layout.h, reclog.h; the
 * record format is in docs/ARCHITECTURE.md): saved when the hour changes
 * and at most every 10 minutes while energy is being counted.  What a
 * power cut would lose since the last save is taken back at boot from the
 * energy counters (which save every EnergySaveWh), at the price in force
 * at that save: the bars lose no more than the Total does.  The cost of a
 * kWh is the price of the tariff in force when it was measured; a price
 * changed later does not rewrite the past.  The total cost restarts at 0
 * with the Total (EnergyReset, EnergyTotal 0).
 */
#ifndef OPENPLUG_HISTORY_H
#define OPENPLUG_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/util/json.h"

#define HISTORY_HOURS 48
#define HISTORY_DAYS 14
#define HISTORY_MONTHS 24
#define HISTORY_YEARS 10
#define HISTORY_SAVE_INTERVAL_MS (10u * 60 * 1000)

/* Read the saved history (after energy_start(): it takes back from the
 * counters what a power cut lost).  Calling it again re-reads the flash. */
void history_start(void);

/* From the energy counters (energy.c): `uj` was just measured (0 is fine:
 * the clock is looked at); and: Total was set by a command. */
void history_add(uint64_t uj);
void history_counters_set(void);

/* The buckets, oldest first; the last one is the current hour / day. */
struct history_view {
    bool known;          /* false until the wall clock has ever been known */
    int32_t newest_hour; /* local hours since the epoch of the last bucket */
    int32_t newest_day;  /* local days since the epoch of the last bucket */
    uint32_t hour_mwh[HISTORY_HOURS];
    uint32_t day_mwh[HISTORY_DAYS];
};
void history_view(struct history_view *out);

/* Months and years, and the cost of every bar in 1/1000 of the currency
 * (0 without a price), oldest first. */
struct history_long_view {
    bool known;
    int32_t newest_month; /* local months since January 1970 */
    int32_t newest_year;  /* years since 1970 */
    uint32_t month_mwh[HISTORY_MONTHS];
    uint64_t year_mwh[HISTORY_YEARS];
    uint32_t hour_cost[HISTORY_HOURS], day_cost[HISTORY_DAYS], month_cost[HISTORY_MONTHS], year_cost[HISTORY_YEARS];
};
void history_long_view(struct history_long_view *out);

/* Costs in 1/1000 of the currency; priced is false (and all 0) while no
 * price is set. */
struct history_cost {
    bool priced;
    uint64_t today, yesterday, month, total;
};
void history_cost(struct history_cost *out);

/* The body of GET /api/history into an open object (see docs/API.md):
 * "clock", "hour", "day", "month", "year", "hours_wh":[48], "days_wh":[14],
 * "months_wh":[24], "years_wh":[10]; with a price, "currency", "cost" and
 * the cost of every bar. */
void history_write_json(struct json_writer *w);

/* Whether a record of the history's ring (a backup's) is one this firmware
 * reads back at boot. */
bool history_record_valid(const void *record, uint32_t len, uint8_t version);

/* Saves since history_start() (wear figures for tests). */
uint32_t history_saves(void);

#endif
