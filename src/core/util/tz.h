/*
 * tz.h — time zone rules in the POSIX TZ format, and local time from them.
 *
 *   std offset [dst [offset] [,start[/time],end[/time]]]
 *   e.g. "CET-1CEST,M3.5.0,M10.5.0/3", "<+0530>-5:30", "AEST-10AEDT,M10.1.0,M4.1.0/3"
 *
 * Names are 3+ letters or <quoted> (letters, digits, + and -).  Offsets are
 * [+-]hh[:mm[:ss]] WEST of Greenwich, as POSIX has them (CET is -1); this
 * module stores them the other way round, as local minus UTC.  Start and end
 * are Mm.w.d (month, week 1..5 with 5 = last, weekday 0 = Sunday), Jn
 * (1..365, 29 February never counted) or n (0..365, counted); the time of
 * day defaults to 02:00 and may be -167..167 hours (RFC 8536).  A DST name
 * without rules takes the US rules (M3.2.0,M11.1.0), as glibc does.  Each
 * change happens at its time in the local time in force before it.
 *
 * Nothing here knows the clock: it is pure arithmetic, also unit-tested on
 * the RV32 target and fuzzed (fuzz/fuzz_tz.c).
 */
#ifndef OPENPLUG_TZ_H
#define OPENPLUG_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/util/timefmt.h"

#define TZ_NAME_MAX 15
#define TZ_TEXT_MAX 64 /* the longest rule kept in the settings */

enum tz_when_kind { TZ_WHEN_MONTH_WEEK_DAY = 0, TZ_WHEN_JULIAN_NO_LEAP, TZ_WHEN_YEAR_DAY };

struct tz_when {
    uint8_t kind;    /* enum tz_when_kind */
    uint8_t month;   /* Mm.w.d: 1..12 */
    uint8_t week;    /* Mm.w.d: 1..5, 5 = the last such weekday of the month */
    uint8_t weekday; /* Mm.w.d: 0 = Sunday */
    uint16_t day;    /* Jn: 1..365; n: 0..365 */
    int32_t time_s;  /* local time of day of the change */
};

struct tz_rule {
    char std_name[TZ_NAME_MAX + 1];
    char dst_name[TZ_NAME_MAX + 1]; /* "" = no daylight saving time */
    int32_t std_offset_s;           /* local minus UTC: CET = +3600 */
    int32_t dst_offset_s;
    struct tz_when dst_start, dst_end;
};

/* UTC, the rule of an empty string. */
void tz_utc(struct tz_rule *rule);

/* Parse a POSIX TZ string ("" = UTC).  On error returns false with a
 * message saying what is wrong and leaves *rule untouched. */
bool tz_parse(const char *text, struct tz_rule *rule, char *error, size_t error_size);

/* The rule as a POSIX TZ string (round-trips through tz_parse). */
void tz_format(const struct tz_rule *rule, char *buf, size_t size);

static inline bool tz_has_dst(const struct tz_rule *rule) { return rule->dst_name[0] != '\0'; }

/* Local minus UTC in seconds at a UTC instant; *dst (may be NULL) says
 * whether daylight saving time is in force. */
int32_t tz_offset_at(const struct tz_rule *rule, int64_t utc_s, bool *dst);

/* The UTC instants daylight saving time starts and ends in `year` (by the
 * local calendar).  False when the rule has no DST. */
bool tz_dst_changes(const struct tz_rule *rule, int32_t year, int64_t *start_utc_s, int64_t *end_utc_s);

/* "+01:00" from an offset in seconds (local minus UTC). */
void tz_format_offset(int32_t offset_s, char *buf, size_t size);

#endif
