/*
 * sun.h — sunrise and sunset for clock events (`addClockEvent sunset-00:30`),
 * with NOAA's general solar position formulas: the fractional year gives
 * the equation of time and the declination, and the hour angle of a zenith
 * of 90.833° (refraction and the sun's disc) gives the instants.  Good to
 * about a minute between the polar circles; inside them a day without a
 * sunrise or sunset says so.
 */
#ifndef OPENPLUG_SUN_H
#define OPENPLUG_SUN_H

#include <stdbool.h>
#include <stdint.h>

/* Sunrise (rise = true) or sunset on the civil date `day` (days since
 * 1970-01-01) at latitude / longitude in degrees (north, east): the UTC
 * instant in seconds since the epoch.  False when the sun does not rise or
 * set that day there. */
bool sun_event_utc(int64_t day, double latitude, double longitude, bool rise, int64_t *utc_s);

#endif
