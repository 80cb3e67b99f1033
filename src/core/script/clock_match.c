/* clock_match.c — when a daily local-time rule is due; see clock_match.h. */
#include "core/script/clock_match.h"

#include <ctype.h>
#include <stdio.h>

#include "core/script/sun.h"
#include "core/storage/config.h"
#include "core/timekeeping.h"
#include "hal/hal.h"

bool clock_match_location_set(void)
{
    const struct config_automation *a = &config_get()->automation;
    return a->latitude_e6 || a->longitude_e6;
}

int32_t clock_match_second(uint8_t sun, int32_t offset_s, int64_t day)
{
    if (sun == SUN_NONE)
        return offset_s;
    const struct config_automation *a = &config_get()->automation;
    int64_t utc;
    if (!clock_match_location_set() ||
        !sun_event_utc(day, a->latitude_e6 / 1e6, a->longitude_e6 / 1e6, sun == SUN_RISE, &utc))
        return -1;
    struct local_time local;
    clock_local_at(utc, &local);
    int64_t second = (int64_t)(local.day - day) * 86400 + local.civil.hour * 3600 + local.civil.minute * 60 +
                     local.civil.second + offset_s;
    return second >= 0 && second < 86400 ? (int32_t)second : -1;
}

int32_t clock_match_parse_time(const char *text)
{
    int h = 0, m = 0, s = 0, used = 0, more = 0;
    if (!isdigit((unsigned char)text[0]) || sscanf(text, "%2d:%2d%n", &h, &m, &used) != 2 ||
        !isdigit((unsigned char)text[used - 1]) || text[used - 2] == ':')
        return -1; /* HH:MM, two digits of minutes */
    if (text[used] == ':') {
        if (!isdigit((unsigned char)text[used + 1]) || sscanf(text + used, ":%2d%n", &s, &more) != 1 || more != 3)
            return -1;
        used += more;
    }
    if (text[used] || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59)
        return -1;
    return h * 3600 + m * 60 + s;
}

bool clock_match_due(int32_t event_sod, uint8_t days, const struct script_clock *now, int32_t *fired_day,
                     uint32_t *wait_ms)
{
    if (event_sod < 0)
        return false; /* none today: looked at again within CLOCK_MATCH_LOOK_S */
    int32_t late = now->second_of_day - event_sod;
    bool due = late >= 0 && late < CLOCK_MATCH_LATE_S && *fired_day != now->day && (days >> now->weekday & 1);
    if (due)
        *fired_day = (int32_t)now->day;
    int32_t until = ((event_sod - now->second_of_day) % 86400 + 86400) % 86400;
    if (until == 0)
        until = 86400;
    if ((uint32_t)until * 1000u < *wait_ms)
        *wait_ms = (uint32_t)until * 1000u;
    return due;
}

uint32_t clock_match_on_the_second(uint32_t wait_ms)
{
    int64_t ms_into_second = hal_wallclock_ms() % 1000;
    return wait_ms > (uint32_t)ms_into_second ? wait_ms - (uint32_t)ms_into_second : wait_ms;
}
