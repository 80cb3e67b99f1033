/* test_reclog.c — the wear-levelled record ring: reading back, wrapping,
 * wear figures, torn operations at every point, corrupt areas. */
#include "core/storage/reclog.h"
#include "fake_hal.h"
#include "harness.h"

static struct reclog small_log(void)
{
    return (struct reclog){.part = HAL_PART_PSM, .offset = 0, .sectors = 2, .slot_size = 32, .magic = 0xB7};
}

static uint32_t newest_value(struct reclog *log)
{
    uint32_t value = 0;
    CHECK_EQ(reclog_read(log, &value, sizeof value, NULL), (int)sizeof value);
    return value;
}

static void test_blank_area_has_no_record(void)
{
    fake_flash_blank();
    struct reclog log = small_log();
    CHECK_EQ(reclog_mount(&log), 0);
    CHECK_EQ(log.damaged, 0);
    uint32_t value;
    CHECK_EQ(reclog_read(&log, &value, sizeof value, NULL), -1);
}

static void test_append_survives_remount_and_wraps(void)
{
    fake_flash_blank();
    struct reclog log = small_log();
    reclog_mount(&log);
    /* 128 slots per sector, 2 sectors: go round the ring three times. */
    for (uint32_t i = 1; i <= 3 * 256 + 5; i++) {
        CHECK_EQ(reclog_append(&log, &i, sizeof i, 1), 0);
        if (i % 97 == 0) {
            struct reclog again = small_log();
            reclog_mount(&again);
            CHECK_EQ(newest_value(&again), i);
            log = again;
        }
    }
    struct reclog again = small_log();
    reclog_mount(&again);
    CHECK_EQ(newest_value(&again), 3 * 256 + 5);
}

static void test_wear_is_one_erase_per_sector_of_appends(void)
{
    fake_flash_blank();
    struct reclog log = small_log();
    reclog_mount(&log);
    for (uint32_t i = 0; i < 128 * 10; i++)
        reclog_append(&log, &i, sizeof i, 1);
    CHECK_EQ(reclog_appends_per_erase(&log), 128);
    CHECK_EQ(fake_flash_erases, 10);
    CHECK_EQ(fake_flash_programs, 2 * 128 * 10); /* payload, then header */
    printf("  endurance: %u appends per sector erase\n", (unsigned)reclog_appends_per_erase(&log));
}

/* Tear every operation of an append, at slot and sector boundaries: the
 * next mount reads the old value or the new one, and appends go on. */
static void test_torn_append_keeps_old_or_new(void)
{
    for (uint32_t prefill = 125; prefill <= 130; prefill++) {
        for (uint32_t cut = 1; cut <= 3; cut++) {
            fake_flash_blank();
            struct reclog log = small_log();
            reclog_mount(&log);
            for (uint32_t i = 1; i <= prefill; i++)
                reclog_append(&log, &i, sizeof i, 1);
            uint32_t next = prefill + 1;
            fake_flash_cut_at(cut);
            reclog_append(&log, &next, sizeof next, 1);
            fake_flash_power_on();

            struct reclog after = small_log();
            CHECK(reclog_mount(&after) > 0);
            uint32_t value = newest_value(&after);
            CHECK(value == prefill || value == next);
            uint32_t later = 1000;
            CHECK_EQ(reclog_append(&after, &later, sizeof later, 1), 0);
            struct reclog again = small_log();
            reclog_mount(&again);
            CHECK_EQ(newest_value(&again), later);
        }
    }
}

static void test_garbage_is_damaged_not_valid(void)
{
    fake_flash_blank();
    uint32_t seed = 7;
    for (uint32_t i = 0; i < 2 * HAL_FLASH_SECTOR; i++) {
        seed = seed * 1664525u + 1013904223u;
        fake_psm[i] = (uint8_t)(seed >> 24);
    }
    struct reclog log = small_log();
    CHECK_EQ(reclog_mount(&log), 0);
    CHECK_EQ(log.damaged, 256);
    uint32_t value = 5;
    CHECK_EQ(reclog_append(&log, &value, sizeof value, 1), 0);
    struct reclog again = small_log();
    CHECK_EQ(reclog_mount(&again), 1);
    CHECK_EQ(newest_value(&again), 5);
}

static void test_rejects_bad_layout_and_oversize(void)
{
    struct reclog log = small_log();
    log.sectors = 1;
    CHECK_EQ(reclog_mount(&log), HAL_EINVAL);
    log = small_log();
    log.magic = 0xFF;
    CHECK_EQ(reclog_mount(&log), HAL_EINVAL);
    log = small_log();
    fake_flash_blank();
    reclog_mount(&log);
    uint8_t big[32] = {0};
    CHECK_EQ(reclog_append(&log, big, sizeof big, 1), HAL_EINVAL);
}

/* A wipe cut at any flash operation reads either the newest record or
 * nothing — never an older record coming back. */
static void test_wipe_is_atomic(void)
{
    for (uint32_t records = 100; records <= 300; records += 100) {
        for (uint32_t cut = 1; cut <= 6; cut++) {
            fake_flash_blank();
            struct reclog log = small_log();
            reclog_mount(&log);
            for (uint32_t i = 1; i <= records; i++)
                reclog_append(&log, &i, sizeof i, 1);
            fake_flash_cut_at(cut);
            uint16_t step = 0;
            while (reclog_erase_step(&log, &step)) {
            }
            fake_flash_power_on();
            struct reclog after = small_log();
            reclog_mount(&after);
            uint32_t value = 0;
            int len = reclog_read(&after, &value, sizeof value, NULL);
            CHECK(len == -1 || (len == 4 && value == records));
        }
        struct reclog after = small_log();
        reclog_mount(&after);
        uint16_t step = 0;
        while (reclog_erase_step(&after, &step)) {
        }
        CHECK_EQ(after.damaged, 0);
        /* sealed until the restart that follows: nothing saved after the
         * marker (a timer firing during the reset) brings a record back */
        uint32_t late = 9;
        CHECK_EQ(reclog_append(&after, &late, sizeof late, 1), HAL_EBUSY);
        struct reclog wiped = small_log();
        CHECK_EQ(reclog_mount(&wiped), 1); /* only the marker is left */
        uint32_t value;
        CHECK_EQ(reclog_read(&wiped, &value, sizeof value, NULL), -1);
        value = 7;
        CHECK_EQ(reclog_append(&wiped, &value, sizeof value, 1), 0);
        CHECK_EQ(newest_value(&wiped), 7);
    }
}

/* Records left by another writer, one at the last sequence number: the
 * ring's own appends are far too few to get there (reclog.h).  The wiped
 * marker then wraps to 0 and ranks below every record: a full reset still
 * leaves the marker alone, reading empty, and the ring works again; a reset
 * cut in the erase of the newest's sector reads whatever record the cut
 * left there, as the fuzz target's reset property allows. */
static void forge(uint32_t slot, uint32_t seq_before, uint32_t value)
{
    struct reclog forger = small_log();
    forger.newest = -1; /* knows nothing: erases a sector it enters */
    forger.write_slot = slot;
    forger.newest_seq = seq_before;
    CHECK_EQ(reclog_append(&forger, &value, sizeof value, 1), 0);
}

static void test_wipe_past_the_last_sequence_number(void)
{
    for (uint32_t cut = 0; cut <= 3; cut += 3) {
        fake_flash_blank();
        forge(100, 1000, 2);           /* upper half of sector 0 */
        forge(5, UINT32_MAX - 1, 3);   /* lower half, seq UINT32_MAX */
        struct reclog log = small_log();
        CHECK_EQ(reclog_mount(&log), 2);
        CHECK_EQ(newest_value(&log), 3);
        CHECK_EQ(log.newest_seq, UINT32_MAX);
        /* Marker into sector 1 (erase, header), then sector 0's erase. */
        fake_flash_cut_at(cut);
        uint16_t step = 0;
        while (reclog_erase_step(&log, &step)) {
        }
        fake_flash_power_on();
        struct reclog after = small_log();
        reclog_mount(&after);
        uint32_t value = 0;
        int len = reclog_read(&after, &value, sizeof value, NULL);
        if (cut) {
            CHECK_EQ(len, (int)sizeof value); /* the half erase kept slot 100 */
            CHECK_EQ(value, 2);
            continue;
        }
        CHECK_EQ(len, -1);
        CHECK_EQ(after.newest_seq, 0); /* the wrapped marker, alone */
        value = 7;
        CHECK_EQ(reclog_append(&after, &value, sizeof value, 1), 0);
        struct reclog again = small_log();
        CHECK_EQ(reclog_mount(&again), 2);
        CHECK_EQ(newest_value(&again), 7);
    }
}

int main(void)
{
    RUN(test_blank_area_has_no_record);
    RUN(test_append_survives_remount_and_wraps);
    RUN(test_wear_is_one_erase_per_sector_of_appends);
    RUN(test_torn_append_keeps_old_or_new);
    RUN(test_garbage_is_damaged_not_valid);
    RUN(test_rejects_bad_layout_and_oversize);
    RUN(test_wipe_is_atomic);
    RUN(test_wipe_past_the_last_sequence_number);
    return harness_report();
}
