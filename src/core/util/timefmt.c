/* timefmt.c — days <-> civil date conversion (proleptic Gregorian); see timefmt.h. */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

int64_t timefmt_day_number(int64_t seconds)
{
    int64_t days = seconds / 86400;
    return seconds % 86400 < 0 ? days - 1 : days;
}

int timefmt_is_leap(int32_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned timefmt_days_in_month(int32_t year, unsigned month)
{
    static const uint8_t days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 ? 28u + (unsigned)timefmt_is_leap(year) : days[(month - 1) % 12];
}

/* The epoch is shifted to 0000-03-01 so that leap days end each 4-year cycle. */
int64_t timefmt_days_from_civil(int32_t year, unsigned month, unsigned day)
{
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned year_of_era = (unsigned)(y - era * 400);
    unsigned day_of_year = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return era * 146097 + (int64_t)day_of_era - 719468;
}

void timefmt_civil(int64_t seconds, struct civil_time *out)
{
    int64_t days = timefmt_day_number(seconds);
    int64_t secs = seconds - days * 86400;
    int64_t shifted = days + 719468;
    int64_t era = (shifted >= 0 ? shifted : shifted - 146096) / 146097;
    unsigned day_of_era = (unsigned)(shifted - era * 146097);
    unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    unsigned month_index = (5 * day_of_year + 2) / 153;
    out->day = (uint8_t)(day_of_year - (153 * month_index + 2) / 5 + 1);
    out->month = (uint8_t)(month_index < 10 ? month_index + 3 : month_index - 9);
    out->year = (int32_t)(year_of_era + era * 400 + (out->month <= 2));
    out->hour = (uint8_t)(secs / 3600);
    out->minute = (uint8_t)(secs / 60 % 60);
    out->second = (uint8_t)(secs % 60);
    int64_t weekday = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    out->weekday = (uint8_t)(weekday < 0 ? weekday + 7 : weekday);
    out->yday = (uint16_t)(days - timefmt_days_from_civil(out->year, 1, 1));
}

static char *two_digits(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
    return p + 2;
}

void timefmt_iso8601(int64_t seconds, char *buf, size_t size)
{
    struct civil_time t;
    timefmt_civil(seconds, &t);
    if (t.year < 0 || t.year > 9999) { /* not four digits: the rare slow way */
        snprintf(buf, size, "%04ld-%02u-%02uT%02u:%02u:%02u", (long)t.year, t.month, t.day, t.hour, t.minute,
                 t.second);
        return;
    }
    char text[20], *p = two_digits(text, (unsigned)t.year / 100); /* by hand: a printf costs ~3,000 instructions */
    p = two_digits(p, (unsigned)t.year % 100);
    *p++ = '-';
    p = two_digits(p, t.month);
    *p++ = '-';
    p = two_digits(p, t.day);
    *p++ = 'T';
    p = two_digits(p, t.hour);
    *p++ = ':';
    p = two_digits(p, t.minute);
    *p++ = ':';
    p = two_digits(p, t.second);
    size_t n = (size_t)(p - text) < size ? (size_t)(p - text) : size - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
}
