/*
 * timefmt.h — calendar arithmetic (proleptic Gregorian) for printing and
 * computing local times, without the C library's time zone machinery (which
 * the target does not have).  Time zones themselves are in util/tz.h.
 */
#ifndef OPENPLUG_TIMEFMT_H
#define OPENPLUG_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* A broken-down time (of whatever zone the seconds were counted in). */
struct civil_time {
    int32_t year;
    uint8_t month;   /* 1..12 */
    uint8_t day;     /* 1..31 */
    uint8_t hour, minute, second;
    uint8_t weekday; /* 0 = Sunday .. 6 */
    uint16_t yday;   /* 0 = 1 January */
};

/* Seconds since 1970-01-01T00:00:00 (of any zone) to a broken-down time. */
void timefmt_civil(int64_t seconds, struct civil_time *out);

/* Days since 1970-01-01 of a date (month 1..12, day 1..31). */
int64_t timefmt_days_from_civil(int32_t year, unsigned month, unsigned day);

/* Whole days since the epoch of an instant (floor, also before 1970). */
int64_t timefmt_day_number(int64_t seconds);

unsigned timefmt_days_in_month(int32_t year, unsigned month);
int timefmt_is_leap(int32_t year);

/* "2026-11-24T01:23:45" for seconds since the epoch. */
void timefmt_iso8601(int64_t seconds, char *buf, size_t size);

#endif
