/*
 * fuzz_tariff.c — the arguments of Tariff1/2 and EnergyPrice
 * (tariff_parse_time(), tariff_parse_price()) and Tasmota's off-peak rule
 * (tariff_at()), src/core/energy/tariff.h.
 *
 * Input: a mode byte, then the text to parse (modes 0, 1) or a tariff
 * setting and a local time (mode 2).  Properties:
 *   - a refused text leaves the output untouched;
 *   - an accepted time is a minute of the day, and printed as HH:MM it
 *     parses to the same minute; an accepted text holds only digits and at
 *     most one ':';
 *   - an accepted price is within 0 .. 1000 and, printed with 4 decimals,
 *     parses to the same value;
 *   - without two different starts every minute is standard; with them and
 *     no weekend rule, the off-peak minutes of a day are exactly those from
 *     the off-peak start up to the standard start (over midnight when it is
 *     later), and a weekend day is all off-peak with Tariff9.
 */
#include <stdio.h>
#include <string.h>

#include "core/energy/tariff.h"
#include "fuzz_input.h"

static void check_time(const char *text)
{
    uint16_t minutes = 0xBEEF;
    if (!tariff_parse_time(text, &minutes)) {
        FUZZ_CHECK(minutes == 0xBEEF);
        return;
    }
    FUZZ_CHECK(minutes < TARIFF_MINUTES_PER_DAY);
    FUZZ_CHECK(strspn(text, "0123456789:") == strlen(text) && (!strchr(text, ':') || strchr(text, ':') == strrchr(text, ':')));
    char printed[8];
    snprintf(printed, sizeof printed, "%02u:%02u", minutes / 60u, minutes % 60u);
    uint16_t again = 0;
    FUZZ_CHECK(tariff_parse_time(printed, &again) && again == minutes);
}

static void check_price(const char *text)
{
    uint32_t price = 0xDEADBEEF;
    if (!tariff_parse_price(text, &price)) {
        FUZZ_CHECK(price == 0xDEADBEEF);
        return;
    }
    FUZZ_CHECK(price <= TARIFF_PRICE_MAX_E4);
    char printed[16];
    snprintf(printed, sizeof printed, "%u.%04u", (unsigned)(price / 10000), (unsigned)(price % 10000));
    uint32_t again = 0;
    FUZZ_CHECK(tariff_parse_price(printed, &again) && again == price);
}

static void check_rule(struct fuzz_in *in)
{
    struct config_tariff t = {0};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            t.start_min[i][j] = (uint16_t)(fuzz_u16(in) % TARIFF_MINUTES_PER_DAY);
    t.weekend_offpeak = fuzz_u8(in) & 1;
    bool dst = fuzz_u8(in) & 1;
    struct civil_time at = {.year = 2026, .month = 1, .day = 1, .weekday = (uint8_t)(fuzz_u8(in) % 7)};
    int column = dst && t.start_min[0][1] != t.start_min[1][1];
    unsigned offpeak = t.start_min[0][column], standard = t.start_min[1][column];
    bool split = tariff_split(&t) && offpeak != standard;
    bool weekend = at.weekday == 0 || at.weekday == 6;
    unsigned offpeak_minutes = 0;
    for (unsigned m = 0; m < TARIFF_MINUTES_PER_DAY; m++) {
        at.hour = (uint8_t)(m / 60);
        at.minute = (uint8_t)(m % 60);
        enum tariff_id id = tariff_at(&t, &at, dst);
        FUZZ_CHECK(id == TARIFF_OFFPEAK || id == TARIFF_STANDARD);
        if (!split)
            FUZZ_CHECK(id == TARIFF_STANDARD);
        if (split && t.weekend_offpeak && weekend)
            FUZZ_CHECK(id == TARIFF_OFFPEAK);
        offpeak_minutes += id == TARIFF_OFFPEAK;
    }
    if (split && !(t.weekend_offpeak && weekend))
        FUZZ_CHECK(offpeak_minutes == (standard + TARIFF_MINUTES_PER_DAY - offpeak) % TARIFF_MINUTES_PER_DAY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in(data, size);
    unsigned mode = fuzz_u8(&in) % 3;
    if (mode == 2) {
        check_rule(&in);
        return 0;
    }
    char text[64];
    fuzz_cstr(&in, text, sizeof text - 1);
    if (mode == 0)
        check_time(text);
    else
        check_price(text);
    return 0;
}
