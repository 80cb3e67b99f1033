/*
 * fuzz_history.c — the energy history (src/core/energy/history.h) over any
 * saved record and any sequence of measurements and clock moves.
 *
 * Input: a flag byte (bit 0: forge a saved version 1 history record, in
 * its 512-byte slots, from the next 264 bytes, with a valid CRC, as if an
 * older firmware or a flipped bit in flash had left it), then a script of: add energy (any amount up to 1.2 kWh),
 * advance the clock (up to a day), set the wall clock (any time, also
 * back), view, write the JSON, restart (history_start() again), torn save
 * (a flash operation cut), forge a saved version 2 record (the next 848
 * bytes, valid CRC) and restart, set prices and tariff times.
 * Properties:
 *   - never a crash, an overflow or UB; indexes of a view always either
 *     unknown together or the day the one of the hour;
 *   - the JSON always fits 4 KiB and reads back as an object with its
 *     arrays (and the costs exactly when a price is set);
 *   - the monthly view's month is the one of its year (month / 12);
 *   - with the clock known and left alone, energy added goes to the newest
 *     hour, day and month, to the mWh (what is below 1 mWh waits);
 *   - after a restart the newest record is what the view shows, or, when
 *     the clock is known and has moved on, older buckets of it.
 */
#include <string.h>

#include "core/energy/energy.h"
#include "core/energy/history.h"
#include "core/energy/tariff.h"
#include "core/storage/config.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "core/util/json.h"
#include "fake_hal.h"
#include "fuzz_input.h"

#define RECORD_SIZE_V1 264
#define RECORD_SIZE 848

/* A record of `size` bytes from the input with a valid CRC, as if an
 * older firmware (version 1, 512-byte slots) or a flipped bit had left it. */
static void forge(struct fuzz_in *in, size_t size, uint16_t slot_size, uint8_t version)
{
    static uint8_t record[RECORD_SIZE];
    memset(record, 0, sizeof record);
    fuzz_bytes(in, record, size);
    struct reclog ring = {.part = HAL_PART_MEDIA, .offset = LAYOUT_HISTORY_OFFSET,
                          .sectors = LAYOUT_HISTORY_SECTORS, .slot_size = slot_size,
                          .magic = LAYOUT_HISTORY_MAGIC};
    reclog_mount(&ring);
    reclog_append(&ring, record, size, version);
}

static void set_tariff(struct fuzz_in *in)
{
    struct config *next = config_edit();
    for (int i = 0; i < 2; i++) {
        next->tariff.price_e4[i] = fuzz_u32(in) % (TARIFF_PRICE_MAX_E4 + 1);
        next->tariff.start_min[i][0] = (uint16_t)(fuzz_u16(in) % TARIFF_MINUTES_PER_DAY);
        next->tariff.start_min[i][1] = (uint16_t)(fuzz_u16(in) % TARIFF_MINUTES_PER_DAY);
    }
    next->tariff.weekend_offpeak = fuzz_u8(in) & 1;
    FUZZ_CHECK(config_update(next) == 0);
}

static void check_long_view(void)
{
    static struct history_long_view v;
    history_long_view(&v);
    if (v.known)
        FUZZ_CHECK(v.newest_month >= 0 && v.newest_year == v.newest_month / 12);
}

static void check_view(const struct history_view *v)
{
    if (!v->known)
        return;
    FUZZ_CHECK(v->newest_hour >= 0 && v->newest_day == v->newest_hour / 24);
}

static void check_json(void)
{
    static char buf[4096];
    struct json_writer w;
    jw_init(&w, buf, sizeof buf);
    jw_object_begin(&w, NULL);
    history_write_json(&w);
    jw_object_end(&w);
    FUZZ_CHECK(!w.overflow);
    struct json_reader r;
    jr_init(&r, buf, strlen(buf));
    FUZZ_CHECK(jr_object_begin(&r));
    char key[16];
    while (jr_object_next(&r, key, sizeof key)) {
        if (strcmp(key, "hours_wh") && strcmp(key, "days_wh")) {
            FUZZ_CHECK(jr_skip(&r));
            continue;
        }
        FUZZ_CHECK(jr_peek(&r) == JSON_ARRAY);
        FUZZ_CHECK(jr_skip(&r));
    }
    FUZZ_CHECK(jr_finished(&r));
    FUZZ_CHECK(strstr(buf, "\"hours_wh\":[") && strstr(buf, "\"days_wh\":[") && strstr(buf, "\"months_wh\":[") &&
               strstr(buf, "\"years_wh\":["));
    FUZZ_CHECK(!strstr(buf, "\"cost\":{") == !tariff_priced(&config_get()->tariff));
}

static void add_energy(struct fuzz_in *in)
{
    static struct history_view before, after;
    static struct history_long_view long_before, long_after;
    uint64_t uj = fuzz_u32(in) * 1000ull; /* up to 4.29 MJ = 1.19 kWh */
    history_view(&before);
    history_long_view(&long_before);
    history_add(uj);
    history_view(&after);
    history_long_view(&long_after);
    check_view(&after);
    if (!before.known || !after.known || after.newest_hour != before.newest_hour || hal_wallclock_ms() < 0)
        return; /* (the fake clock reads unset once the uptime of all inputs passes the date) */
    /* Same hour: exactly the whole mWh of this and what waited before. */
    uint32_t added = after.hour_mwh[HISTORY_HOURS - 1] - before.hour_mwh[HISTORY_HOURS - 1];
    FUZZ_CHECK(added <= uj / 3600000 + 1 && added + 1 >= uj / 3600000);
    FUZZ_CHECK(after.day_mwh[HISTORY_DAYS - 1] - before.day_mwh[HISTORY_DAYS - 1] == added);
    uint32_t month_before = long_before.month_mwh[HISTORY_MONTHS - 1];
    if (long_before.known && long_after.newest_month == long_before.newest_month && month_before < UINT32_MAX - added)
        FUZZ_CHECK(long_after.month_mwh[HISTORY_MONTHS - 1] - month_before == added);
}

static void restart(void)
{
    static struct history_view before, after;
    history_view(&before);
    history_add(0);
    history_start();
    history_view(&after);
    check_view(&after);
    if (before.known && after.known && after.newest_hour == before.newest_hour) {
        /* Only what was not yet saved can be missing: never more than before. */
        for (int i = 0; i < HISTORY_HOURS; i++)
            FUZZ_CHECK(after.hour_mwh[i] <= before.hour_mwh[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in(data, size);
    static bool booted;
    fake_flash_blank();
    if (!booted) {
        config_load();
        energy_start();
        booted = true;
    }
    struct config *settings = config_edit(); /* each input starts without a price */
    memset(&settings->tariff, 0, sizeof settings->tariff);
    config_update(settings);
    uint8_t flags = fuzz_u8(&in);
    if (flags & 1)
        forge(&in, RECORD_SIZE_V1, LAYOUT_HISTORY_SLOT_V1, 1);
    hal_wallclock_set(1763937000000ll + (flags >> 1) * 3600000ll); /* each input from about now */
    history_start();
    static struct history_view view;
    while (fuzz_left(&in)) {
        switch (fuzz_u8(&in) % 9) {
        case 0: add_energy(&in); break;
        case 1: fake_time_advance_us((uint64_t)fuzz_u32(&in) * 20); break; /* up to a day */
        case 2: hal_wallclock_set((int64_t)(fuzz_u64(&in) % 4102444800000ull)); break; /* up to 2100 */
        case 3: history_view(&view); check_view(&view); check_long_view(); break;
        case 4: check_json(); break;
        case 5: restart(); break;
        case 6: forge(&in, RECORD_SIZE, LAYOUT_HISTORY_SLOT, 2); history_start(); check_long_view(); break;
        case 7: set_tariff(&in); break;
        default:
            fake_flash_cut_at(1 + fuzz_u8(&in) % 3);
            history_add(fuzz_u32(&in) * 1000ull);
            fake_flash_power_on();
            history_start();
            break;
        }
    }
    return 0;
}
