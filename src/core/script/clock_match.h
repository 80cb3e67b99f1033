/*
 * clock_match.h — when a daily local-time rule is due: the one matching
 * and scheduling logic of clock events (script_events.c) and Tasmota's
 * timers (timers.c).
 *
 * A rule names a second of the local day, or an offset from that day's
 * sunrise or sunset (sun.h, at Latitude / Longitude), and a mask of
 * weekdays (bit 0 Sunday … bit 6 Saturday).  It is due once per local day
 * at that second, still up to CLOCK_MATCH_LATE_S after it (a clock that
 * steps forward a little does not lose it): a local time that a DST change
 * skips does not happen that day, one it repeats happens once (the caller
 * keeps the day it last fired).  A rule with no second that day (polar
 * night, an offset leaving the day) is not due.  While the clock is
 * unknown nothing is due; the caller looks again when EVENT_CLOCK says it
 * moved.
 */
#ifndef OPENPLUG_CLOCK_MATCH_H
#define OPENPLUG_CLOCK_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/script/script_internal.h"

#define CLOCK_MATCH_LATE_S 60 /* a rule still fires this late (clock steps) */
#define CLOCK_MATCH_LOOK_S 30 /* the clock is looked at at least this often */

enum sun_kind { SUN_NONE, SUN_RISE, SUN_SET };

/* Whether Latitude / Longitude are set (0, 0 means unset). */
bool clock_match_location_set(void);

/* The local second of `day` (local days since 1970-01-01) of `sun` + `offset_s`
 * seconds, or `offset_s` itself for SUN_NONE; -1 when there is none that day
 * (no location, polar day or night, the offset leaves the day). */
int32_t clock_match_second(uint8_t sun, int32_t offset_s, int64_t day);

/* "HH:MM" or "HH:MM:SS" (one or two digits of hours, two of minutes and
 * seconds) to a second of the day; -1 if malformed or out of range. */
int32_t clock_match_parse_time(const char *text);

/* One look at a rule whose second today is `event_sod` (-1: none): true
 * when it is due now on a day of `days` and has not fired today (then
 * *fired_day becomes today).  Lowers *wait_ms to the time until its next
 * second. */
bool clock_match_due(int32_t event_sod, uint8_t days, const struct script_clock *now, int32_t *fired_day,
                     uint32_t *wait_ms);

/* `wait_ms` shortened so that it ends on a whole second of the wall clock. */
uint32_t clock_match_on_the_second(uint32_t wait_ms);

#endif
