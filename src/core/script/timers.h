/*
 * timers.h — Tasmota's timers: Timer1..16 switch an output on, off or over
 * (or raise a script event) at a local time or at an offset from sunrise or
 * sunset, on chosen weekdays, optionally shifted by a random number of
 * minutes each day; `Timers` arms or disarms them all.
 *
 * The settings (struct config_timers) keep each timer in 32 bits, with
 * Tasmota's value ranges:
 *   bits  0..10 time: minutes of the day 0..1439 (Mode 0); an offset for
 *               Modes 1 and 2: 0..719 is +0:00..+11:59, 720 + m is -m minutes
 *   bits 11..14 window: 0..15 random minutes either side of the time
 *   bit  15     repeat: 0 = the timer disarms itself after firing
 *   bits 16..22 days: bit 0 Sunday .. bit 6 Saturday
 *   bits 23..26 output: relay 1..16, stored as 0..15
 *   bits 27..28 action: 0 off, 1 on, 2 toggle, 3 the script event OnTimer <x>
 *   bits 29..30 mode: 0 clock time, 1 sunrise, 2 sunset (3 invalid)
 *   bit  31     enable
 * so all zero is a cleared timer.  When a timer is due is decided by the
 * clock events' logic (clock_match.h): DST changes, clock steps and an
 * unknown clock are handled as for addClockEvent.  The random shift is
 * drawn (hal_random: the simulator's --seed) at boot, when the timer is
 * set and after each firing, and is kept within the local day.
 */
#ifndef OPENPLUG_TIMERS_H
#define OPENPLUG_TIMERS_H

#include <stdbool.h>

#include "core/storage/config.h"

/* Register Timer<x> and Timers (at boot, before the settings are read). */
void timers_register(void);
/* Start looking at the clock (at the end of boot, the settings read). */
void timers_start(void);

/* Every timer's fields within range (config.c's check of stored settings). */
bool timers_valid(const struct config_timers *timers);

#endif
