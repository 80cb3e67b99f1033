/*
 * tariff.c — which tariff is in force and the parsers of its settings; see
 * tariff.h.
 */
#include "tariff.h"

#include <string.h>

bool tariff_priced(const struct config_tariff *t) { return t->price_e4[0] || t->price_e4[1]; }

bool tariff_split(const struct config_tariff *t) { return t->start_min[0][0] != t->start_min[1][0]; }

enum tariff_id tariff_at(const struct config_tariff *t, const struct civil_time *local, bool dst)
{
    int column = dst && t->start_min[0][1] != t->start_min[1][1];
    unsigned offpeak = t->start_min[0][column], standard = t->start_min[1][column];
    if (!tariff_split(t) || offpeak == standard)
        return TARIFF_STANDARD;
    if (t->weekend_offpeak && (local->weekday == 0 || local->weekday == 6))
        return TARIFF_OFFPEAK;
    unsigned minute = local->hour * 60u + local->minute;
    bool in_offpeak = offpeak > standard ? minute >= offpeak || minute < standard /* over midnight */
                                         : minute >= offpeak && minute < standard;
    return in_offpeak ? TARIFF_OFFPEAK : TARIFF_STANDARD;
}

uint32_t tariff_price_at(const struct config_tariff *t, const struct civil_time *local, bool dst)
{
    return t->price_e4[tariff_at(t, local, dst)];
}

static bool digit(char c) { return c >= '0' && c <= '9'; }

/* Up to `max_digits` decimal digits at *p, at least one. */
static bool digits(const char **p, unsigned max_digits, uint32_t *value)
{
    unsigned n = 0;
    *value = 0;
    while (digit(**p)) {
        if (++n > max_digits)
            return false;
        *value = *value * 10 + (uint32_t)(*(*p)++ - '0');
    }
    return n > 0;
}

bool tariff_parse_time(const char *text, uint16_t *minutes)
{
    uint32_t first, second = 0;
    if (!digits(&text, 4, &first))
        return false;
    if (*text == ':') {
        text++;
        if (first > 23 || !digit(text[0]) || !digit(text[1]) || !digits(&text, 2, &second) || second > 59)
            return false;
        first = first * 60 + second;
    } else if (first < 24) {
        first *= 60; /* whole hours */
    }
    if (*text || first >= TARIFF_MINUTES_PER_DAY)
        return false;
    *minutes = (uint16_t)first;
    return true;
}

bool tariff_parse_price(const char *text, uint32_t *price_e4)
{
    uint32_t whole = 0, fraction = 0;
    bool has_whole = digit(*text);
    if (has_whole && !digits(&text, 4, &whole))
        return false;
    if (*text == '.') {
        text++;
        const char *start = text;
        if (!digits(&text, 4, &fraction))
            return false;
        for (long n = text - start; n < 4; n++)
            fraction *= 10;
    } else if (!has_whole) {
        return false;
    }
    uint32_t value = whole * 10000 + fraction;
    if (*text || value > TARIFF_PRICE_MAX_E4)
        return false;
    *price_e4 = value;
    return true;
}

bool tariff_valid(const struct config_tariff *t)
{
    for (int i = 0; i < 2; i++)
        if (t->price_e4[i] > TARIFF_PRICE_MAX_E4 || t->start_min[i][0] >= TARIFF_MINUTES_PER_DAY ||
            t->start_min[i][1] >= TARIFF_MINUTES_PER_DAY)
            return false;
    return t->weekend_offpeak <= 1 && memchr(t->currency, 0, sizeof t->currency);
}
