/*
 * fuzz_history.c — the energy history (src/core/energy/history.h) over any
 * saved record and any sequence of measurements and clock moves.
 *
 * Input: a flag byte (bit 0: forge a saved history record from the next
 * 264 bytes, with a valid CRC, as if an older firmware or a flipped bit in
 * flash had left it), then a script of: add energy (any amount up to 1.2 kWh),
 * advance the clock (up to a day), set the wall clock (any time, also
 * back), view, write the JSON, restart (history_start() again), torn save
 * (a flash operation cut).
 * Properties:
 *   - never a crash, an overflow or UB; indexes of a view always either
 *     unknown together or the day the one of the hour;
 *   - the JSON always fits 1 KiB and reads back as an object with 48 and 14
 *     numbers;
 *   - with the clock known and left alone, energy added goes to the newest
 *     hour and day, to the mWh (what is below 1 mWh waits);
 *   - after a restart the newest record is what the view shows, or, when
 *     the clock is known and has moved on, older buckets of it.
 */
#include <string.h>

#include "core/energy/energy.h"
#include "core/energy/history.h"
#include "core/storage/config.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "core/util/json.h"
#include "fake_hal.h"
#include "fuzz_input.h"

#define RECORD_SIZE 264

static void forge_record(struct fuzz_in *in)
{
    uint8_t record[RECORD_SIZE];
    fuzz_bytes(in, record, sizeof record);
    struct reclog ring = {.part = HAL_PART_MEDIA, .offset = LAYOUT_HISTORY_OFFSET,
                          .sectors = LAYOUT_HISTORY_SECTORS, .slot_size = LAYOUT_HISTORY_SLOT,
                          .magic = LAYOUT_HISTORY_MAGIC};
    reclog_mount(&ring);
    reclog_append(&ring, record, sizeof record, 1);
}

static void check_view(const struct history_view *v)
{
    if (!v->known)
        return;
    FUZZ_CHECK(v->newest_hour >= 0 && v->newest_day == v->newest_hour / 24);
}

static void check_json(void)
{
    char buf[1024];
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
    FUZZ_CHECK(strstr(buf, "\"hours_wh\":[") && strstr(buf, "\"days_wh\":["));
}

static void add_energy(struct fuzz_in *in)
{
    static struct history_view before, after;
    uint64_t uj = fuzz_u32(in) * 1000ull; /* up to 4.29 MJ = 1.19 kWh */
    history_view(&before);
    history_add(uj);
    history_view(&after);
    check_view(&after);
    if (!before.known || !after.known || after.newest_hour != before.newest_hour || hal_wallclock_ms() < 0)
        return; /* (the fake clock reads unset once the uptime of all inputs passes the date) */
    /* Same hour: exactly the whole mWh of this and what waited before. */
    uint32_t added = after.hour_mwh[HISTORY_HOURS - 1] - before.hour_mwh[HISTORY_HOURS - 1];
    FUZZ_CHECK(added <= uj / 3600000 + 1 && added + 1 >= uj / 3600000);
    FUZZ_CHECK(after.day_mwh[HISTORY_DAYS - 1] - before.day_mwh[HISTORY_DAYS - 1] == added);
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
    uint8_t flags = fuzz_u8(&in);
    if (flags & 1)
        forge_record(&in);
    hal_wallclock_set(1763937000000ll + (flags >> 1) * 3600000ll); /* each input from about now */
    history_start();
    static struct history_view view;
    while (fuzz_left(&in)) {
        switch (fuzz_u8(&in) % 7) {
        case 0: add_energy(&in); break;
        case 1: fake_time_advance_us((uint64_t)fuzz_u32(&in) * 20); break; /* up to a day */
        case 2: hal_wallclock_set((int64_t)(fuzz_u64(&in) % 4102444800000ull)); break; /* up to 2100 */
        case 3: history_view(&view); check_view(&view); break;
        case 4: check_json(); break;
        case 5: restart(); break;
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
