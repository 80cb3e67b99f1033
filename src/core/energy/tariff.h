/*
 * tariff.h — what a kWh costs now: the prices and Tasmota's two tariffs by
 * time of day (config->tariff, set by EnergyPrice, Tariff1/2/9, Currency),
 * and the parsers of those commands' arguments.
 *
 * Tasmota's rule: T1 ("off-peak") starts at Tariff1's time and ends at
 * Tariff2's, T2 ("standard") the rest of the day; each has a standard time
 * and a daylight saving time start (the DST pair is used while DST is in
 * force, unless it equals the other DST start); Tariff9 1 makes Saturday
 * and Sunday off-peak all day.  Equal starts mean no tariffs: every kWh is
 * a standard one.  Pure functions: no state, no flash.
 */
#ifndef OPENPLUG_TARIFF_H
#define OPENPLUG_TARIFF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/storage/config.h"
#include "core/util/timefmt.h"

#define TARIFF_PRICE_MAX_E4 10000000u /* 1000.0000 per kWh: yen and forint fit */
#define TARIFF_MINUTES_PER_DAY 1440u

enum tariff_id { TARIFF_OFFPEAK, TARIFF_STANDARD };

/* A price is configured: costs are counted and shown. */
bool tariff_priced(const struct config_tariff *t);
/* T1 and T2 are told apart (Tasmota: Tariff1's STD start differs from Tariff2's). */
bool tariff_split(const struct config_tariff *t);
/* The tariff in force at a local time (dst: daylight saving time in force). */
enum tariff_id tariff_at(const struct config_tariff *t, const struct civil_time *local, bool dst);
/* Its price, 1/10000 of the currency per kWh. */
uint32_t tariff_price_at(const struct config_tariff *t, const struct civil_time *local, bool dst);

/* "22:00", "6:30", "22" (hours below 24) or "1320" (minutes), as Tasmota's
 * Tariff1/2 take them; false for anything else (Tasmota clamps 24:00 and up
 * to 23:59; we refuse it). */
bool tariff_parse_time(const char *text, uint16_t *minutes);
/* "0.2845", "12", ".5": 0 .. 1000 with at most 4 decimals, exactly. */
bool tariff_parse_price(const char *text, uint32_t *price_e4);

/* Every field in range (a stored copy, or one about to be saved). */
bool tariff_valid(const struct config_tariff *t);

#endif
