/* test_history.c — the hourly / daily energy history: energy goes to the
 * hour and day it was measured in, waits for the clock, survives restarts
 * and power cuts (taking back from the counters what was not saved), and
 * wears the flash as little as history.h says.  And the power trail of the
 * last 10 minutes (power_trail.h): a value a second, gaps, the wrap. */
#include "core/energy/energy.h"
#include "core/energy/history.h"
#include "core/energy/power_trail.h"
#include "core/energy/meter.h"
#include "core/storage/config.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "core/timekeeping.h"
#include "fake_hal.h"
#include "harness.h"

#define MWH_UJ 3600000ull
#define WH_UJ (1000 * MWH_UJ)
#define HOUR_US 3600000000ull
#define MINUTE_US 60000000ull
/* 2025-11-23 22:30:00 UTC */
#define EVENING_MS 1763937000000ll

static struct history_view view;
static uint64_t pulses;

static void boot_blank(void)
{
    fake_flash_blank();
    config_load();
    energy_start();
    history_start();
}

static const struct history_view *look(void)
{
    history_view(&view);
    return &view;
}

/* Energy through the whole path: a meter's reading, counted by the energy
 * counters, handed to the history (1 pulse = PowerCal uJ). */
static void measure_pulses(uint64_t count)
{
    pulses += count;
    meter_publish(&(struct meter_reading){.valid = METER_HAS_POWER,
                                          .import_uj = pulses * config_get()->power_cal});
}

/* First: the fake board's wall clock, once set, stays set. */
static void test_no_clock_then_energy_waits(void)
{
    boot_blank();
    history_add(10 * WH_UJ);
    CHECK(!look()->known);
    char buf[1024];
    struct json_writer w;
    jw_init(&w, buf, sizeof buf);
    jw_object_begin(&w, NULL);
    history_write_json(&w);
    jw_object_end(&w);
    CHECK(!w.overflow);
    CHECK_CONTAINS(jw_text(&w), "{\"clock\":false,\"hour\":null,\"day\":null,\"hours_wh\":[0.000,0.000,");
    hal_wallclock_set(EVENING_MS);
    CHECK(look()->known);
    CHECK_EQ(view.newest_hour, EVENING_MS / 3600000);
    CHECK_EQ(view.newest_day, EVENING_MS / 86400000);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 1], 10000); /* what waited: in the hour the clock showed */
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 2], 0);
    CHECK_EQ(view.day_mwh[HISTORY_DAYS - 1], 10000);
}

static void test_hours_and_days_follow_the_clock(void)
{
    boot_blank();
    hal_wallclock_set(EVENING_MS); /* 22:30 */
    history_add(100 * WH_UJ);
    fake_time_advance_us(HOUR_US); /* 23:30 */
    history_add(50 * WH_UJ);
    fake_time_advance_us(HOUR_US); /* 00:30, the next day */
    history_add(25 * WH_UJ + MWH_UJ / 2);
    history_add(MWH_UJ / 2); /* halves of a mWh add up */
    look();
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 1], 25001);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 2], 50000);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 3], 100000);
    CHECK_EQ(view.day_mwh[HISTORY_DAYS - 1], 25001);
    CHECK_EQ(view.day_mwh[HISTORY_DAYS - 2], 150000);

    char buf[1024];
    struct json_writer w;
    jw_init(&w, buf, sizeof buf);
    jw_object_begin(&w, NULL);
    history_write_json(&w);
    jw_object_end(&w);
    CHECK_CONTAINS(jw_text(&w), "100.000,50.000,25.001],\"days_wh\":[");
    CHECK_CONTAINS(jw_text(&w), "150.000,25.001]}");

    /* Ten quiet hours: the buckets between are empty, the old ones move back. */
    fake_time_advance_us(10 * HOUR_US);
    history_add(0);
    look();
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 1], 0);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 11], 25001);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 13], 100000);
    /* 50 hours after 00:30: past the window, gone. */
    fake_time_advance_us(40 * HOUR_US);
    look();
    uint64_t sum = 0;
    for (int i = 0; i < HISTORY_HOURS; i++)
        sum += view.hour_mwh[i];
    CHECK_EQ(sum, 0);
    CHECK_EQ(view.day_mwh[HISTORY_DAYS - 3], 25001); /* two days later */
    fake_time_advance_us(20 * 24 * HOUR_US);
    look();
    sum = 0;
    for (int i = 0; i < HISTORY_DAYS; i++)
        sum += view.day_mwh[i];
    CHECK_EQ(sum, 0);
}

static void test_clock_set_back_keeps_counting_in_the_newest_hour(void)
{
    boot_blank();
    hal_wallclock_set(EVENING_MS);
    history_add(5 * WH_UJ);
    hal_wallclock_set(EVENING_MS - 3 * 3600000ll);
    history_add(7 * WH_UJ);
    look();
    CHECK_EQ(view.newest_hour, EVENING_MS / 3600000);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 1], 12000);
}

/* A minute's worth of a 600 W load every minute for two hours: saves at
 * each hour change and every 10 minutes, no more; a restart reads it all. */
static void test_saves_are_few_and_survive_a_restart(void)
{
    boot_blank();
    hal_wallclock_set(EVENING_MS);
    for (int minute = 0; minute < 120; minute++) {
        history_add(10 * WH_UJ);
        fake_time_advance_us(MINUTE_US);
    }
    printf("  %u history saves in 2 hours of metering\n", (unsigned)history_saves());
    CHECK(history_saves() >= 12);
    CHECK(history_saves() <= 15);
    look();
    struct history_view before = view;
    CHECK_EQ(before.hour_mwh[HISTORY_HOURS - 1] + before.hour_mwh[HISTORY_HOURS - 2] +
                 before.hour_mwh[HISTORY_HOURS - 3], 1200000);
    fake_time_advance_us(10 * MINUTE_US);
    history_add(0); /* 10 minutes on: whatever is unsaved is saved */
    history_start();
    look();
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 1], before.hour_mwh[HISTORY_HOURS - 1]);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 2], before.hour_mwh[HISTORY_HOURS - 2]);
    CHECK_EQ(view.day_mwh[HISTORY_DAYS - 1] + view.day_mwh[HISTORY_DAYS - 2], 1200000);
}

/* After a power cut the history takes back, from the energy counters,
 * what they saved after the history's last save; nothing counts twice. */
static void test_power_cut_loses_no_more_than_the_counters(void)
{
    boot_blank();
    pulses = 0;
    energy_start(); /* counting from the registry's pulses now */
    hal_wallclock_set(EVENING_MS);
    measure_pulses(1000); /* the first energy of the hour: saved at once */
    uint32_t saves = history_saves();
    CHECK_EQ(saves, 1);
    for (int i = 0; i < 60; i++) { /* ~103 Wh within 5 minutes: the counters save 10 times */
        fake_time_advance_us(5 * 1000000);
        measure_pulses(3600);
    }
    CHECK_EQ(history_saves(), saves);
    uint64_t saved_total = energy_counters()->total_uj;
    measure_pulses(1000); /* counted, saved by neither (less than EnergySaveWh) */
    /* Power cut: both restart from flash. */
    energy_start();
    history_start();
    uint64_t total = energy_counters()->total_uj;
    CHECK(total <= saved_total);
    CHECK(saved_total - total < 10 * WH_UJ);
    hal_wallclock_set(EVENING_MS + 5 * 60000); /* the clock is known again */
    look();
    uint32_t restored = view.hour_mwh[HISTORY_HOURS - 1];
    CHECK(restored + 1 >= total / MWH_UJ && restored <= total / MWH_UJ); /* whole mWh of each part */
    /* A Total set by a command is not energy measured. */
    CHECK_EQ(energy_set_total(total + 500 * WH_UJ), 0);
    energy_start();
    history_start();
    hal_wallclock_set(EVENING_MS + 6 * 60000);
    CHECK_EQ(look()->hour_mwh[HISTORY_HOURS - 1], restored);
}

/* Tear each flash operation of a save: the restart reads the history
 * before or after it, never garbage. */
static void test_torn_save_keeps_old_or_new(void)
{
    for (uint32_t cut = 1; cut <= 3; cut++) {
        boot_blank();
        hal_wallclock_set(EVENING_MS);
        history_add(20 * WH_UJ); /* saved: first energy of the hour */
        fake_time_advance_us(HOUR_US);
        fake_flash_cut_at(cut);
        history_add(30 * WH_UJ); /* the hour changed: a save, torn */
        fake_flash_power_on();
        history_start();
        look();
        uint32_t newest = view.hour_mwh[HISTORY_HOURS - 1], previous = view.hour_mwh[HISTORY_HOURS - 2];
        CHECK((newest == 30000 && previous == 20000) || (newest == 0 && previous == 20000));
    }
}

/* A saved record with a good CRC but an hour of 4.29 GWh (flipped bits, or
 * not ours) is refused: the bars start empty.  fuzz_history found that
 * such a bucket wrapped when energy was added (showing less than measured)
 * and the next restart showed the saved value, more than before it
 * (fuzz/corpus/fuzz_history/regress-bucket-wrap). */
static void test_record_no_plug_could_write_is_refused(void)
{
    boot_blank();
    hal_wallclock_set(EVENING_MS);
    look();
    struct { /* the persisted layout of history.c */
        int32_t hour, day;
        uint64_t energy_total_uj;
        uint32_t hour_mwh[HISTORY_HOURS], day_mwh[HISTORY_DAYS];
    } forged = {.hour = view.newest_hour, .day = view.newest_day, .energy_total_uj = energy_counters()->total_uj};
    forged.hour_mwh[view.newest_hour % HISTORY_HOURS] = 0xFFFF0F00u;
    struct reclog ring = {.part = HAL_PART_MEDIA, .offset = LAYOUT_HISTORY_OFFSET,
                          .sectors = LAYOUT_HISTORY_SECTORS, .slot_size = LAYOUT_HISTORY_SLOT,
                          .magic = LAYOUT_HISTORY_MAGIC};
    CHECK(reclog_mount(&ring) >= 0);
    CHECK_EQ(reclog_append(&ring, &forged, sizeof forged, 1), 0);
    history_start();
    history_add(1000 * WH_UJ);
    look();
    struct history_view before = view;
    CHECK_EQ(before.hour_mwh[HISTORY_HOURS - 1], 1000000);
    history_start();
    look();
    for (int i = 0; i < HISTORY_HOURS; i++)
        CHECK(view.hour_mwh[i] <= before.hour_mwh[i]);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 1], 1000000);
}

/* Hours and days are local: in Paris 22:30 UTC is 23:30, and the day
 * changes an hour before UTC's midnight. */
static void test_local_time_sets_the_boundaries(void)
{
    boot_blank();
    char error[96];
    CHECK_EQ(clock_zone_set("CET-1CEST,M3.5.0,M10.5.0/3", SOURCE_CONSOLE, error, sizeof error), 0);
    hal_wallclock_set(EVENING_MS); /* 23:30 local, 23 November */
    history_add(10 * WH_UJ);
    fake_time_advance_us(HOUR_US); /* 00:30 local, 24 November; still the 23rd in UTC */
    history_add(20 * WH_UJ);
    look();
    CHECK_EQ(view.newest_hour, EVENING_MS / 3600000 + 2);
    CHECK_EQ(view.newest_day, EVENING_MS / 86400000 + 1);
    CHECK_EQ(view.day_mwh[HISTORY_DAYS - 1], 20000);
    CHECK_EQ(view.day_mwh[HISTORY_DAYS - 2], 10000);
    CHECK_EQ(clock_zone_set("", SOURCE_CONSOLE, error, sizeof error), 0);
}

static void report_power(float watts, uint64_t uptime_ms)
{
    meter_publish(&(struct meter_reading){.valid = METER_HAS_POWER, .power_w = watts,
                                          .import_uj = pulses * config_get()->power_cal, .updated_ms = uptime_ms});
}

static void test_power_trail_keeps_ten_minutes_a_second_apart(void)
{
    uint32_t dw = 0;
    power_trail_start();
    CHECK(!power_trail_at(POWER_TRAIL_SECONDS - 1, &dw)); /* empty */
    report_power(60.04f, 5200);
    report_power(61.0f, 6100);
    report_power(62.5f, 6900); /* the same second: the newest reading wins */
    CHECK_EQ(power_trail_newest_ms(), 6900);
    CHECK(power_trail_at(POWER_TRAIL_SECONDS - 1, &dw));
    CHECK_EQ(dw, 625);
    CHECK(power_trail_at(POWER_TRAIL_SECONDS - 2, &dw));
    CHECK_EQ(dw, 600);
    CHECK(!power_trail_at(POWER_TRAIL_SECONDS - 3, &dw)); /* before the first report */
    report_power(3680.0f, 10000); /* seconds 7, 8 and 9 had no report: gaps */
    CHECK(!power_trail_at(POWER_TRAIL_SECONDS - 2, &dw));
    CHECK(!power_trail_at(POWER_TRAIL_SECONDS - 4, &dw));
    CHECK(power_trail_at(POWER_TRAIL_SECONDS - 5, &dw));
    CHECK_EQ(dw, 625);
    /* Round the ring twice: only the last 600 seconds are left. */
    for (uint64_t s = 11; s <= 11 + 2 * POWER_TRAIL_SECONDS; s++)
        report_power((float)(s % 1000), s * 1000);
    uint64_t newest = 11 + 2 * POWER_TRAIL_SECONDS;
    for (unsigned i = 0; i < POWER_TRAIL_SECONDS; i += 37) {
        CHECK(power_trail_at(i, &dw));
        CHECK_EQ(dw, (newest - (POWER_TRAIL_SECONDS - 1 - i)) % 1000 * 10);
    }
    report_power(8000.0f, (newest + 1) * 1000); /* beyond 16 A: held at the top */
    CHECK(power_trail_at(POWER_TRAIL_SECONDS - 1, &dw));
    CHECK_EQ(dw, 65534);
    report_power(5.0f, (newest + POWER_TRAIL_SECONDS + 5) * 1000); /* a silence longer than the trail */
    CHECK(power_trail_at(POWER_TRAIL_SECONDS - 1, &dw));
    CHECK(!power_trail_at(POWER_TRAIL_SECONDS - 2, &dw));
    CHECK(!power_trail_at(0, &dw));
}

int main(void)
{
    RUN(test_no_clock_then_energy_waits);
    RUN(test_hours_and_days_follow_the_clock);
    RUN(test_clock_set_back_keeps_counting_in_the_newest_hour);
    RUN(test_saves_are_few_and_survive_a_restart);
    RUN(test_power_cut_loses_no_more_than_the_counters);
    RUN(test_torn_save_keeps_old_or_new);
    RUN(test_record_no_plug_could_write_is_refused);
    RUN(test_local_time_sets_the_boundaries);
    RUN(test_power_trail_keeps_ten_minutes_a_second_apart);
    return harness_report();
}
