/* test_history.c — the energy history: energy goes to the hour, day, month
 * and year it was measured in, waits for the clock, survives restarts and
 * power cuts (taking back from the counters what was not saved, also at a
 * month's and a year's rollover), and wears the flash as little as
 * history.h says; the cost of each bar at the tariff in force (tariff.h:
 * its parsers, Tasmota's off-peak rule, a price change).  And the power
 * trail of the last 10 minutes (power_trail.h): a value a second, gaps,
 * the wrap. */
#include <string.h>

#include "core/energy/energy.h"
#include "core/energy/history.h"
#include "core/energy/power_trail.h"
#include "core/energy/tariff.h"
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

/* GET /api/history's body now ("" if it did not fit 4 KiB). */
static const char *history_json(void)
{
    static char buf[4096];
    struct json_writer w;
    jw_init(&w, buf, sizeof buf);
    jw_object_begin(&w, NULL);
    history_write_json(&w);
    jw_object_end(&w);
    return w.overflow ? "" : jw_text(&w);
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
    const char *json = history_json();
    CHECK(json[0] != '\0');
    CHECK_CONTAINS(json, "{\"clock\":false,\"hour\":null,\"day\":null,\"month\":null,\"year\":null,"
                                "\"hours_wh\":[0.000,0.000,");
    CHECK(!strstr(json, "cost")); /* no price: no costs */
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

    const char *json = history_json();
    CHECK(json[0] != '\0');
    CHECK_CONTAINS(json, "100.000,50.000,25.001],\"days_wh\":[");
    CHECK_CONTAINS(json, "150.000,25.001],\"months_wh\":[");
    CHECK_CONTAINS(json, "0.000,175.001],\"years_wh\":[");

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
    struct { /* the persisted layout of history.c's version 1 */
        int32_t hour, day;
        uint64_t energy_total_uj;
        uint32_t hour_mwh[HISTORY_HOURS], day_mwh[HISTORY_DAYS];
    } forged = {.hour = view.newest_hour, .day = view.newest_day, .energy_total_uj = energy_counters()->total_uj};
    forged.hour_mwh[view.newest_hour % HISTORY_HOURS] = 0xFFFF0F00u;
    struct reclog ring = {.part = HAL_PART_MEDIA, .offset = LAYOUT_HISTORY_OFFSET,
                          .sectors = LAYOUT_HISTORY_SECTORS, .slot_size = LAYOUT_HISTORY_SLOT_V1,
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

/* 2025-12-31 23:30 UTC, the last half hour of the year */
#define NEW_YEAR_EVE_MS 1767223800000ll
/* 2025-11-24 21:30 UTC, a Monday */
#define MONDAY_EVENING_MS 1764019800000ll
#define MONTH_2026_01 ((2026 - 1970) * 12)
#define YEAR_2026 (2026 - 1970)

static struct history_long_view long_view;

static const struct history_long_view *look_long(void)
{
    history_long_view(&long_view);
    return &long_view;
}

static void set_tariff(uint32_t offpeak_e4, uint32_t standard_e4, uint16_t offpeak_start, uint16_t standard_start,
                       uint8_t weekend)
{
    struct config *next = config_edit();
    next->tariff.price_e4[TARIFF_OFFPEAK] = offpeak_e4;
    next->tariff.price_e4[TARIFF_STANDARD] = standard_e4;
    next->tariff.start_min[0][0] = next->tariff.start_min[0][1] = offpeak_start;
    next->tariff.start_min[1][0] = next->tariff.start_min[1][1] = standard_start;
    next->tariff.weekend_offpeak = weekend;
    CHECK_EQ(config_update(next), 0);
}

static void test_months_and_years_roll_over(void)
{
    boot_blank();
    hal_wallclock_set(NEW_YEAR_EVE_MS);
    history_add(100 * WH_UJ);
    fake_time_advance_us(HOUR_US); /* 00:30, 1 January 2026 */
    history_add(40 * WH_UJ);
    look_long();
    CHECK(long_view.known);
    CHECK_EQ(long_view.newest_month, MONTH_2026_01);
    CHECK_EQ(long_view.newest_year, YEAR_2026);
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 1], 40000);
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 2], 100000);
    CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 1], 40000);
    CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 2], 100000);
    /* 31 days on: February, after an empty rest of January */
    fake_time_advance_us(31 * 24 * HOUR_US);
    history_add(5 * WH_UJ); /* the first energy of an hour: saved */
    look_long();
    CHECK_EQ(long_view.newest_month, MONTH_2026_01 + 1);
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 1], 5000);
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 2], 40000);
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 3], 100000);
    CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 1], 45000);
    /* A restart reads the months and years back. */
    struct history_long_view before = long_view;
    history_start();
    look_long();
    CHECK(memcmp(&before, &long_view, sizeof before) == 0);
    /* Two years on: the months of 2025 and 2026 are out of the window of
     * 24, the years keep them. */
    fake_time_advance_us(2 * 366 * 24 * HOUR_US);
    history_add(0);
    look_long();
    CHECK_EQ(long_view.newest_year, YEAR_2026 + 2);
    uint64_t months = 0;
    for (int i = 0; i < HISTORY_MONTHS; i++)
        months += long_view.month_mwh[i];
    CHECK_EQ(months, 0);
    CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 1], 0);
    CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 3], 45000);
    CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 4], 100000);
    /* Ten years on: all gone. */
    fake_time_advance_us(10 * 366 * 24 * HOUR_US);
    look_long();
    uint64_t years = 0;
    for (int i = 0; i < HISTORY_YEARS; i++)
        years += long_view.year_mwh[i];
    CHECK_EQ(years, 0);
}

/* Tear each flash operation of the saves at the turn of the year: the
 * restart shows the old year whole and the new one's energy or none. */
static void test_power_cut_at_the_year_rollover(void)
{
    for (uint32_t cut = 1; cut <= 8; cut++) {
        boot_blank();
        set_tariff(0, 2000, 0, 0, 0);
        hal_wallclock_set(NEW_YEAR_EVE_MS);
        history_add(100 * WH_UJ); /* saved: the first energy of the hour */
        history_add(0);           /* the next report (the ledger's save may wait for it) */
        fake_time_advance_us(HOUR_US);
        fake_flash_cut_at(cut);
        history_add(30 * WH_UJ); /* a new hour, day, month and year: both records saved, one torn */
        fake_flash_power_on();
        history_start();
        look_long();
        CHECK_EQ(long_view.newest_year, YEAR_2026);
        CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 2], 100000);
        CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 2], 100000);
        CHECK_EQ(long_view.month_cost[HISTORY_MONTHS - 2], 20); /* 0.1 kWh at 0.20 */
        uint64_t newest = long_view.year_mwh[HISTORY_YEARS - 1];
        CHECK(newest == 30000 || newest == 0);
        CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 1], newest);
        CHECK_EQ(long_view.month_cost[HISTORY_MONTHS - 1], newest ? 6 : 0);
    }
    set_tariff(0, 0, 0, 0, 0);
}

/* Through the whole path: the counters saved energy of the new month that
 * neither history record holds; after the power cut it is taken back into
 * January, at the price in force at the ledger's last save. */
static void test_power_cut_after_the_month_rollover_takes_back_the_counters(void)
{
    pulses = 0;
    measure_pulses(0); /* the meter starts again from 0 before the counters do */
    boot_blank();
    set_tariff(0, 3000, 0, 0, 0);
    uint64_t before_test = energy_counters()->total_uj; /* (a blank flash leaves the counters in RAM) */
    hal_wallclock_set(NEW_YEAR_EVE_MS + 29 * MINUTE_US / 1000); /* 23:59 */
    measure_pulses(1000);
    fake_time_advance_us(MINUTE_US); /* 00:00, January */
    measure_pulses(1000);            /* the first energy of the month: both records saved */
    uint64_t at_rollover = energy_counters()->total_uj;
    for (int i = 0; i < 60; i++) { /* ~103 Wh within 5 minutes: the counters save, the history does not */
        fake_time_advance_us(5 * 1000000);
        measure_pulses(3600);
    }
    energy_start();
    history_start();
    uint64_t total = energy_counters()->total_uj - before_test;
    CHECK(total > at_rollover - before_test + 90 * WH_UJ);
    hal_wallclock_set(NEW_YEAR_EVE_MS + 36 * MINUTE_US / 1000);
    look_long();
    uint32_t january = long_view.month_mwh[HISTORY_MONTHS - 1];
    uint32_t december = long_view.month_mwh[HISTORY_MONTHS - 2];
    CHECK(january + december + 2 >= total / MWH_UJ && january + december <= total / MWH_UJ);
    CHECK(january > 90000);
    uint32_t cost = long_view.month_cost[HISTORY_MONTHS - 1];
    CHECK(cost + 1 >= january * 3 / 10000 && cost <= january * 3 / 10000 + 1); /* 0.30 per kWh */
    set_tariff(0, 0, 0, 0, 0);
}

/* Off-peak 22:00-06:00 at 0.10, standard at 0.30: each kWh costs the price
 * of the hour it was measured in; a new price is not applied to the past. */
static void test_cost_across_a_tariff_change(void)
{
    struct history_cost cost;
    boot_blank();
    set_tariff(1000, 3000, 22 * 60, 6 * 60, 0);
    hal_wallclock_set(MONDAY_EVENING_MS); /* 21:30: standard */
    history_add(1000 * WH_UJ);
    fake_time_advance_us(HOUR_US); /* 22:30: off-peak */
    history_add(1000 * WH_UJ);
    look_long();
    CHECK_EQ(long_view.hour_cost[HISTORY_HOURS - 2], 300);
    CHECK_EQ(long_view.hour_cost[HISTORY_HOURS - 1], 100);
    CHECK_EQ(long_view.day_cost[HISTORY_DAYS - 1], 400);
    CHECK_EQ(long_view.month_cost[HISTORY_MONTHS - 1], 400);
    CHECK_EQ(long_view.year_cost[HISTORY_YEARS - 1], 400);
    history_cost(&cost);
    CHECK(cost.priced);
    CHECK_EQ(cost.today, 400);
    CHECK_EQ(cost.yesterday, 0);
    CHECK_EQ(cost.month, 400);
    CHECK_EQ(cost.total, 400);
    fake_time_advance_us(8 * HOUR_US); /* Tuesday 06:30: standard again */
    history_add(500 * WH_UJ);
    history_cost(&cost);
    CHECK_EQ(cost.today, 150);
    CHECK_EQ(cost.yesterday, 400);
    CHECK_EQ(cost.total, 550);
    /* Halves of a thousandth add up; a new price counts from now on. */
    set_tariff(2000, 5000, 22 * 60, 6 * 60, 0);
    for (int i = 0; i < 10; i++)
        history_add(10 * WH_UJ + MWH_UJ / 4); /* 10.00025 Wh at 0.50: 0.0050001 each */
    look_long();
    CHECK_EQ(long_view.hour_cost[HISTORY_HOURS - 1], 150 + 50);
    CHECK_EQ(long_view.day_cost[HISTORY_DAYS - 2], 400);
    /* The JSON has the costs and the currency. */
    const char *json = history_json();
    CHECK(json[0] != '\0');
    CHECK_CONTAINS(json, "\"cost\":{\"today\":0.200,\"yesterday\":0.400,\"month\":0.600,\"total\":0.600}");
    CHECK_CONTAINS(json, "0.400,0.200],\"months_cost\":[");
    /* EnergyReset starts the total cost again; the bars keep theirs. */
    CHECK_EQ(energy_reset(), 0);
    history_cost(&cost);
    CHECK_EQ(cost.total, 0);
    CHECK_EQ(cost.today, 200);
    history_start();
    history_cost(&cost);
    CHECK_EQ(cost.total, 0);
    /* No price: no costs. */
    set_tariff(0, 0, 22 * 60, 6 * 60, 0);
    history_cost(&cost);
    CHECK(!cost.priced);
    CHECK_EQ(cost.today, 0);
}

/* A plug updated from a firmware that kept hours and days only (record
 * version 1, 512-byte slots): they are carried over, their days also
 * filling their months and years; the next save is a version 2 record. */
static void test_version_1_record_is_carried_over(void)
{
    boot_blank();
    struct {
        int32_t hour, day;
        uint64_t energy_total_uj;
        uint32_t hour_mwh[HISTORY_HOURS], day_mwh[HISTORY_DAYS];
    } v1 = {.hour = NEW_YEAR_EVE_MS / 3600000 + 24, .day = NEW_YEAR_EVE_MS / 86400000 + 1,
            .energy_total_uj = energy_counters()->total_uj};
    for (int i = 0; i < HISTORY_HOURS; i++)
        v1.hour_mwh[(v1.hour - i) % HISTORY_HOURS] = 1000u * (uint32_t)(i + 1);
    for (int i = 0; i < HISTORY_DAYS; i++) /* 1 January 2026 and the 13 days before */
        v1.day_mwh[(v1.day - i) % HISTORY_DAYS] = 100000u * (uint32_t)(i + 1);
    struct reclog old = {.part = HAL_PART_MEDIA, .offset = LAYOUT_HISTORY_OFFSET,
                         .sectors = LAYOUT_HISTORY_SECTORS, .slot_size = LAYOUT_HISTORY_SLOT_V1,
                         .magic = LAYOUT_HISTORY_MAGIC};
    CHECK(reclog_mount(&old) >= 0);
    for (int i = 0; i < 3; i++) /* an odd slot number: in the middle of a new slot */
        CHECK_EQ(reclog_append(&old, &v1, sizeof v1, 1), 0);
    history_start();
    hal_wallclock_set((int64_t)v1.hour * 3600000 + 60000);
    look();
    look_long();
    CHECK_EQ(view.newest_hour, v1.hour);
    CHECK_EQ(view.hour_mwh[HISTORY_HOURS - 1], 1000);
    CHECK_EQ(view.hour_mwh[0], 48000);
    CHECK_EQ(view.day_mwh[HISTORY_DAYS - 1], 100000);
    CHECK_EQ(view.day_mwh[0], 1400000);
    CHECK_EQ(long_view.newest_month, MONTH_2026_01);
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 1], 100000);          /* 1 January */
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 2], 105u * 100000u - 100000u); /* 2..14 of the 14: December */
    CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 1], 100000);
    CHECK_EQ(long_view.year_mwh[HISTORY_YEARS - 2], 104u * 100000u);
    /* Saved as version 2 (10 minutes on); a restart reads that. */
    fake_time_advance_us(10 * MINUTE_US);
    history_add(5 * WH_UJ);
    CHECK(history_saves() >= 1);
    history_start();
    look_long();
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 1], 105000);
    CHECK_EQ(long_view.month_mwh[HISTORY_MONTHS - 2], 104u * 100000u);
}

static void test_tariff_rule_is_tasmotas(void)
{
    struct config_tariff t = {0};
    struct civil_time at = {.year = 2025, .month = 11, .day = 24, .weekday = 1};
#define AT(h, m, dst) (at.hour = (h), at.minute = (m), tariff_at(&t, &at, dst))
    CHECK_EQ(AT(23, 0, false), TARIFF_STANDARD); /* equal starts: no tariffs */
    t.start_min[0][0] = 22 * 60;
    t.start_min[1][0] = 6 * 60;
    CHECK_EQ(AT(22, 0, false), TARIFF_OFFPEAK);
    CHECK_EQ(AT(5, 59, false), TARIFF_OFFPEAK);
    CHECK_EQ(AT(6, 0, false), TARIFF_STANDARD);
    CHECK_EQ(AT(21, 59, false), TARIFF_STANDARD);
    CHECK_EQ(AT(22, 30, true), TARIFF_OFFPEAK); /* DST starts equal (unset): the STD ones */
    t.start_min[0][1] = 23 * 60;
    t.start_min[1][1] = 7 * 60;
    CHECK_EQ(AT(22, 30, true), TARIFF_STANDARD);
    CHECK_EQ(AT(23, 0, true), TARIFF_OFFPEAK);
    CHECK_EQ(AT(6, 30, true), TARIFF_OFFPEAK);
    CHECK_EQ(AT(6, 30, false), TARIFF_STANDARD);
    t.start_min[0][0] = 30; /* 00:30 .. 07:30, not over midnight */
    t.start_min[1][0] = 7 * 60 + 30;
    CHECK_EQ(AT(0, 29, false), TARIFF_STANDARD);
    CHECK_EQ(AT(0, 30, false), TARIFF_OFFPEAK);
    CHECK_EQ(AT(7, 30, false), TARIFF_STANDARD);
    at.weekday = 6; /* Saturday */
    CHECK_EQ(AT(12, 0, false), TARIFF_STANDARD);
    t.weekend_offpeak = 1;
    CHECK_EQ(AT(12, 0, false), TARIFF_OFFPEAK);
    at.weekday = 0;
    CHECK_EQ(AT(12, 0, false), TARIFF_OFFPEAK);
    at.weekday = 5;
    CHECK_EQ(AT(12, 0, false), TARIFF_STANDARD);
    at.weekday = 6;
    t.start_min[1][0] = t.start_min[0][0]; /* no tariffs: the weekend rule is off too */
    CHECK_EQ(AT(12, 0, false), TARIFF_STANDARD);
#undef AT
    t.price_e4[TARIFF_STANDARD] = 2845;
    CHECK(tariff_priced(&t));
    CHECK_EQ(tariff_price_at(&t, &at, false), 2845);

    static const struct {
        const char *text;
        int minutes; /* -1: refused */
    } times[] = {{"22:00", 1320}, {"6:30", 390}, {"06:05", 365}, {"22", 1320}, {"0", 0}, {"1320", 1320},
                 {"24", 24}, {"1439", 1439}, {"23:59", 1439}, {"1440", -1}, {"24:00", -1}, {"12:60", -1},
                 {"12:5", -1}, {"", -1}, {"-1", -1}, {"12:00x", -1}, {"abc", -1}, {"12345", -1}, {" 12", -1},
                 {":30", -1}, {"12:", -1}, {"12:300", -1}};
    for (unsigned i = 0; i < sizeof times / sizeof times[0]; i++) {
        uint16_t minutes = 9999;
        bool ok = tariff_parse_time(times[i].text, &minutes);
        CHECK_EQ(ok, times[i].minutes >= 0);
        if (ok)
            CHECK_EQ(minutes, times[i].minutes);
    }
    static const struct {
        const char *text;
        long e4; /* -1: refused */
    } prices[] = {{"0.2845", 2845}, {"12", 120000}, {".5", 5000}, {"1000", 10000000}, {"0", 0}, {"0.1", 1000},
                  {"1000.0001", -1}, {"0.12345", -1}, {"", -1}, {".", -1}, {"1e3", -1}, {"-1", -1}, {"0,5", -1},
                  {"12.", -1}, {"abc", -1}, {"10000", -1}, {"1.2.3", -1}};
    for (unsigned i = 0; i < sizeof prices / sizeof prices[0]; i++) {
        uint32_t e4 = 7;
        bool ok = tariff_parse_price(prices[i].text, &e4);
        CHECK_EQ(ok, prices[i].e4 >= 0);
        if (ok)
            CHECK_EQ(e4, prices[i].e4);
    }
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
    RUN(test_months_and_years_roll_over);
    RUN(test_power_cut_at_the_year_rollover);
    RUN(test_power_cut_after_the_month_rollover_takes_back_the_counters);
    RUN(test_cost_across_a_tariff_change);
    RUN(test_version_1_record_is_carried_over);
    RUN(test_tariff_rule_is_tasmotas);
    RUN(test_power_trail_keeps_ten_minutes_a_second_apart);
    return harness_report();
}
