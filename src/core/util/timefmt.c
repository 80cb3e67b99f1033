/* timefmt.c — days-to-civil-date conversion (proleptic Gregorian); see timefmt.h. */
#include "timefmt.h"

#include <stdio.h>

void timefmt_iso8601(int64_t unix_seconds, char *buf, size_t size)
{
    int64_t days = unix_seconds / 86400, secs = unix_seconds % 86400;
    if (secs < 0) {
        secs += 86400;
        days--;
    }
    /* Shift the epoch to 0000-03-01 so leap days end each 4-year cycle. */
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned day_of_era = (unsigned)(days - era * 146097);
    unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    unsigned month_index = (5 * day_of_year + 2) / 153;
    unsigned day = day_of_year - (153 * month_index + 2) / 5 + 1;
    unsigned month = month_index < 10 ? month_index + 3 : month_index - 9;
    long year = (long)(year_of_era + era * 400 + (month <= 2));
    snprintf(buf, size, "%04ld-%02u-%02uT%02u:%02u:%02u", year, month, day, (unsigned)(secs / 3600),
             (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
}
