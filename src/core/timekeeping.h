/*
 * timekeeping.h — the wall clock as the firmware sees it: known or not,
 * who set it, UTC to local time with the configured time zone and daylight
 * saving rule (config->time.tz, a POSIX TZ string, see util/tz.h), and the
 * EVENT_CLOCK announcement whenever local time moves other than by ticking.
 *
 * The clock itself is the HAL's (hal_wallclock_*): unknown after power-on
 * until a `Time` command or the SNTP client (net/sntp.c) sets it.  Everyone
 * who needs "today", "now in local time" or a day rollover (energy
 * counters, clock timers, scripts) reads it here, and listens for
 * EVENT_CLOCK to notice jumps:
 *   CLOCK_SET   the clock became known (first sync after boot)
 *   CLOCK_STEP  it was set again and moved by a second or more
 *   CLOCK_ZONE  the time zone rule changed (TimeZone, TimeStd, TimeDst)
 *   CLOCK_DST   daylight saving time started or ended (on the second)
 *   CLOCK_RESYNC  a sync from the network is asked for (`Time 0`): for the
 *               SNTP client; local time has not moved
 * A clock set by hand (`Time <epoch>`: clock_set_by() is not SOURCE_NTP)
 * pauses network syncs until clock_resync(), as Tasmota does.
 * Main loop only.
 */
#ifndef OPENPLUG_TIMEKEEPING_H
#define OPENPLUG_TIMEKEEPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/events.h"
#include "core/util/timefmt.h"
#include "core/util/tz.h"

enum clock_change { CLOCK_SET = 1, CLOCK_STEP, CLOCK_ZONE, CLOCK_DST, CLOCK_RESYNC };

struct local_time {
    int64_t utc_s;          /* the instant */
    int32_t offset_s;       /* local minus UTC in force */
    bool dst;               /* daylight saving time in force */
    int32_t day;            /* local days since 1970-01-01: the "today" of counters */
    struct civil_time civil; /* local broken-down time */
};

/* Read the zone rule from the settings and start the DST watch (at boot,
 * after config_load()). */
void clock_start(void);

bool clock_known(void);
/* UTC in milliseconds / seconds since the epoch, -1 while unknown. */
int64_t clock_utc_ms(void);
int64_t clock_utc_s(void);
/* Who set the clock last: SOURCE_CONSOLE/HTTP/MQTT (Time), SOURCE_NTP;
 * SOURCE_BOOT while it is unknown. */
enum source clock_set_by(void);

/* Set the wall clock (UTC ms); announces CLOCK_SET or CLOCK_STEP. */
void clock_set(int64_t utc_ms, enum source by);

/* Let the network set the clock again (after one set by hand). */
void clock_resync(enum source by);

/* Local time now: false (and *out untouched) while the clock is unknown. */
bool clock_local_now(struct local_time *out);
/* Local time of any UTC instant with the zone in use. */
void clock_local_at(int64_t utc_s, struct local_time *out);

/* The zone rule in use, and a change of it: parse `posix` (see tz.h),
 * save it in the settings and announce CLOCK_ZONE.  Returns 0, -1 with a
 * message in error for a bad rule, or a negative HAL_E* (flash). */
const struct tz_rule *clock_zone(void);
int clock_zone_set(const char *posix, enum source by, char *error, size_t error_size);

/* "2026-11-24T06:05:00" local, or the uptime counted from the epoch while
 * the clock is unknown (as Tasmota prints "Time" before its first sync). */
void clock_local_iso8601(char *buf, size_t size);

#endif
