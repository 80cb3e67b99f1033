/*
 * history.h — energy per hour (the last 48 hours) and per day (the last 14
 * days), for the web UI's bar charts.
 *
 * Fed by the energy counters (energy.h): whatever they measure is added to
 * the bucket of the hour and of the day it was measured in, in local time
 * (timekeeping.h: the same midnight as Today / Yesterday).  Energy measured
 * while the clock is unknown waits and goes to the hour in which the clock
 * becomes known.  A clock set back (or the hour repeated when daylight
 * saving time ends) keeps counting in the newest bucket: the past is never
 * rewritten.
 *
 * Persisted in its own ring in the media partition (layout.h, reclog.h):
 * saved when the hour changes and at most every 10 minutes while energy is
 * being counted, so a sector is erased about 2.6 times a day (more than a
 * century of flash).  What a power cut would lose since the last save is
 * taken back at boot from the energy counters (which save every
 * EnergySaveWh): the bars lose no more than the Total does.
 */
#ifndef OPENPLUG_HISTORY_H
#define OPENPLUG_HISTORY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/util/json.h"

#define HISTORY_HOURS 48
#define HISTORY_DAYS 14
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

/* The members "clock", "hour", "day", "hours_wh":[48], "days_wh":[14] into
 * an open object: the body of GET /api/history (see docs/API.md). */
void history_write_json(struct json_writer *w);

/* Whether a record of the history's ring (a backup's) is one this firmware
 * reads back at boot. */
bool history_record_valid(const void *record, uint32_t len, uint8_t version);

/* Saves since history_start() (wear figures for tests). */
uint32_t history_saves(void);

#endif
