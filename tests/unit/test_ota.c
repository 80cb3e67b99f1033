/*
 * test_ota.c — the OTA image header and the partition table, as bytes
 * (src/core/ota/ota_image.h, ptable.h): building, parsing, every refusal,
 * the copy boot2 picks, the tries area; and the boot guard (ota.h,
 * ota_boot_guard()) over boots on the fake flash: tries counted, the
 * rollback, a confirmed firmware left alone, power cuts while it writes.
 * The writer and boot2 are tested end to end (tests/e2e/test_ota.py).
 */
#include <setjmp.h>
#include <string.h>

#include "core/firmware.h"
#include "core/net/http_get.h"
#include "core/ota/ota.h"
#include "core/ota/ota_image.h"
#include "core/ota/ptable.h"
#include "core/system.h"
#include "core/util/le.h"
#include "fake_hal.h"
#include "harness.h"

static const uint8_t digest[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void build(uint8_t raw[OTA_HEADER_SIZE])
{
    ota_header_build(raw, OTA_BODY_RAW, 123456, OPENPLUG_OTA_HARDWARE, "2.0.1", digest);
}

static bool parses(const uint8_t raw[OTA_HEADER_SIZE], const char *expected_error)
{
    struct ota_header h;
    char error[96] = "";
    bool ok = ota_header_parse(raw, &h, error, sizeof error);
    if (expected_error)
        CHECK_CONTAINS(error, expected_error);
    return ok;
}

static void test_header_round_trip(void)
{
    uint8_t raw[OTA_HEADER_SIZE];
    struct ota_header h;
    char error[96];
    build(raw);
    CHECK(memcmp(raw, "BL60X_OTA_Ver1.0RAW ", 20) == 0);
    CHECK_EQ(raw[20] | raw[21] << 8 | raw[22] << 16, 123456);
    CHECK_EQ(raw[511], 0xFF);
    CHECK(ota_header_parse(raw, &h, error, sizeof error));
    CHECK_EQ(h.type, OTA_BODY_RAW);
    CHECK_EQ(h.body_len, 123456);
    CHECK_STR(h.hardware, OPENPLUG_OTA_HARDWARE);
    CHECK_STR(h.version, "2.0.1");
    CHECK(memcmp(h.body_sha256, digest, 32) == 0);
    CHECK(!h.is_signed);
    CHECK(ota_header_check(&h, 123456, error, sizeof error));

    uint8_t signature[64];
    memset(signature, 0x5A, sizeof signature);
    ota_header_sign(raw, signature);
    CHECK(ota_header_parse(raw, &h, error, sizeof error));
    CHECK(h.is_signed && memcmp(h.signature, signature, 64) == 0);

    ota_header_build(raw, OTA_BODY_XZ, 7, OPENPLUG_OTA_HARDWARE, "0123456789abcdef", digest);
    CHECK(ota_header_parse(raw, &h, error, sizeof error));
    CHECK_EQ(h.type, OTA_BODY_XZ);
    CHECK_STR(h.version, "0123456789abcdef"); /* 16 characters, no NUL in the field */
}

static void test_header_refusals(void)
{
    uint8_t raw[OTA_HEADER_SIZE];
    build(raw);
    raw[15] = '1';
    CHECK(!parses(raw, "not an OTA image"));
    build(raw);
    memcpy(raw + 16, "LZ4 ", 4);
    CHECK(!parses(raw, "unknown body type"));
    build(raw);
    memset(raw + 20, 0, 4);
    CHECK(!parses(raw, "empty body"));
    build(raw);
    raw[32] = 0;
    CHECK(!parses(raw, "hardware or version string"));
    build(raw);
    raw[50] = '\n';
    CHECK(!parses(raw, "hardware or version string"));
    build(raw);
    raw[52] = 0;
    raw[54] = 'x'; /* text after the padding */
    CHECK(!parses(raw, "hardware or version string"));
    build(raw);
    raw[120] = 0;
    CHECK(!parses(raw, "signature area"));

    struct ota_header h;
    char error[96];
    ota_header_build(raw, OTA_BODY_RAW, 100, "OtherPlug", "1", digest);
    CHECK(ota_header_parse(raw, &h, error, sizeof error));
    CHECK(!ota_header_check(&h, 1000, error, sizeof error));
    CHECK_CONTAINS(error, "image is for hardware 'OtherPlug'");
    build(raw);
    CHECK(ota_header_parse(raw, &h, error, sizeof error));
    CHECK(!ota_header_check(&h, 123455, error, sizeof error));
    CHECK_CONTAINS(error, "does not fit the 123455-byte slot");
}

static void test_ptable(void)
{
    struct ptable table, picked;
    uint8_t a[PTABLE_MAX_BYTES], b[PTABLE_MAX_BYTES];
    ptable_default(&table);
    size_t len = ptable_serialize(&table, a);
    CHECK_EQ(len, 16 + 6 * 36 + 4);
    CHECK(ptable_parse(a, len, &picked));
    CHECK_EQ(picked.count, 6);
    struct ptable_entry *fw = ptable_fw(&picked);
    CHECK(fw && fw->address[0] == 0x10000 && fw->address[1] == 0x10000 + PTABLE_FW_SLOT0_SIZE &&
          fw->max_len[1] == PTABLE_FW_SLOT1_SIZE);
    /* boot2's entry: type, device, active index, then the name at byte 3
     * (the SDK looks partitions up by name); entry 1 is "media", type 2. */
    CHECK_EQ(a[16 + 0], PTABLE_FW);
    CHECK(memcmp(a + 16 + 3, "FW\0", 3) == 0);
    CHECK(memcmp(a + 16 + 36 + 3, "media\0", 6) == 0);
    CHECK_EQ(a[16 + 36], 2);
    CHECK_EQ(le32_get(a + 16 + 36 + 12), PTABLE_MEDIA_ADDR);

    /* The newer copy wins; a broken newer copy leaves the older one. */
    table.age = 5;
    ptable_fw(&table)->active_index = 1;
    ptable_fw(&table)->flags = PTABLE_FW_TRIAL;
    ptable_serialize(&table, b);
    CHECK_EQ(ptable_pick(a, b, sizeof a, &picked), 1);
    CHECK_EQ(ptable_fw(&picked)->active_index, 1);
    CHECK_EQ(ptable_fw(&picked)->flags, PTABLE_FW_TRIAL);
    CHECK_EQ(b[16 + 11], PTABLE_FW_TRIAL); /* the ninth name byte, after "FW\0" */
    CHECK(strcmp(ptable_fw(&picked)->name, "FW") == 0);
    CHECK_EQ(ptable_pick(b, a, sizeof a, &picked), 0);
    b[40] ^= 1; /* an entry byte: the entries' CRC fails */
    CHECK_EQ(ptable_pick(a, b, sizeof a, &picked), 0);
    a[8] ^= 1; /* the age: the header's CRC fails */
    CHECK_EQ(ptable_pick(a, b, sizeof a, &picked), -1);
    CHECK(!ptable_parse(a, 10, &picked));

    uint8_t tries[PTABLE_MAX_TRIES] = {0xFF, 0xFF, 0xFF};
    CHECK_EQ(ptable_tries(tries), 0);
    tries[0] = 0;
    CHECK_EQ(ptable_tries(tries), 1);
    tries[1] = tries[2] = 0;
    CHECK_EQ(ptable_tries(tries), 3);
}

static void test_pull_client_parsers(void)
{
    char host[64], path[128];
    unsigned short port;
    CHECK_EQ(http_get_parse_url("http://10.0.0.5:8000/fw/v2.ota", host, &port, path), 0);
    CHECK_STR(host, "10.0.0.5");
    CHECK_EQ(port, 8000);
    CHECK_STR(path, "/fw/v2.ota");
    CHECK_EQ(http_get_parse_url("http://plug.local", host, &port, path), 0);
    CHECK_STR(path, "/");
    CHECK_EQ(port, 80);
    CHECK_EQ(http_get_parse_url("https://x/", host, &port, path), -1);
    CHECK_EQ(http_get_parse_url("http://x:0/", host, &port, path), -1);
    CHECK_EQ(http_get_parse_url("http://x:65536/", host, &port, path), -1);
    CHECK_EQ(http_get_parse_url("http://:80/", host, &port, path), -1);
    CHECK_EQ(http_get_parse_url("http://x/a b", host, &port, path), -1);

    int status;
    long length;
    const char *ok = "HTTP/1.0 200 OK\r\ncontent-length: 142168\r\n\r\n";
    CHECK_EQ(http_get_parse_head(ok, strlen(ok), &status, &length), 0);
    CHECK_EQ(status, 200);
    CHECK_EQ(length, 142168);
    const char *none = "HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n";
    CHECK_EQ(http_get_parse_head(none, strlen(none), &status, &length), 0);
    CHECK_EQ(status, 404);
    CHECK_EQ(length, -1);
    const char *bad[] = {"HTTP/2 200 OK\r\n\r\n", "HTTP/1.0 20x OK\r\n\r\n",
                         "HTTP/1.0 200 OK\r\nContent-Length: -5\r\n\r\n",
                         "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(http_get_parse_head(bad[i], strlen(bad[i]), &status, &length), -1);
}

/* ---- The boot guard ---- */

#define ROLLBACK_REASON (HAL_RESET_USER | (uint32_t)RESTART_OTA_ROLLBACK << 4 | SOURCE_BOOT)

/* A fresh flash whose only table (copy 0, age 7) runs slot 1 with `flags`. */
static void flash_with_table(uint8_t flags)
{
    struct ptable table;
    fake_flash_blank();
    ptable_default(&table);
    table.age = 7;
    ptable_fw(&table)->active_index = 1;
    ptable_fw(&table)->flags = flags;
    ptable_fw(&table)->len = 4096;
    ptable_serialize(&table, fake_ptable);
    fake_wdt_timeout_ms = 0;
}

/* The table boot2 would boot from now; -1 when neither copy is valid. */
static int flash_table(struct ptable *table)
{
    return ptable_pick(fake_ptable, fake_ptable + HAL_FLASH_SECTOR, PTABLE_MAX_BYTES, table);
}

static unsigned flash_tries(int copy)
{
    return ptable_tries(fake_ptable + (uint32_t)copy * HAL_FLASH_SECTOR + PTABLE_TRIES_OFFSET);
}

/* One boot up to the guard: true when the guard restarted the plug. */
static bool boot(void)
{
    jmp_buf jump;
    volatile bool rebooted = false;
    fake_reboot_jump = &jump;
    fake_reboot_reason = 0;
    fake_console_clear();
    if (setjmp(jump) == 0)
        ota_boot_guard();
    else
        rebooted = true;
    fake_reboot_jump = NULL;
    return rebooted;
}

static void check_rolled_back_to_slot0(void)
{
    struct ptable table;
    CHECK_EQ(flash_table(&table), 1); /* the new table went over the older (empty) copy */
    CHECK_EQ(table.age, 8);
    CHECK_EQ(ptable_fw(&table)->active_index, 0);
    CHECK_EQ(ptable_fw(&table)->flags, PTABLE_FW_ROLLED_BACK);
    CHECK_EQ(flash_tries(1), 0);
}

static void test_guard_counts_tries_then_rolls_back(void)
{
    flash_with_table(PTABLE_FW_TRIAL | PTABLE_FW_TRIAL_SLOT1); /* as the writer leaves it */
    for (unsigned n = 1; n <= PTABLE_MAX_TRIES; n++) {
        CHECK(!boot());
        CHECK_EQ(flash_tries(0), n);
        CHECK(ota_on_trial());
        CHECK_EQ(ota_running_slot(), 1);
        CHECK_CONTAINS(fake_console_output(), n == 1 ? "trial boot 1 of 3 of the new firmware in slot 1"
                                              : n == 2 ? "trial boot 2 of 3" : "trial boot 3 of 3");
    }
    CHECK_EQ(fake_wdt_timeout_ms, FIRMWARE_WATCHDOG_MS); /* a hang on trial resets, and counts */
    uint32_t programs = fake_flash_programs;

    CHECK(boot()); /* the tries are used up: the table goes back to slot 0 and the plug restarts */
    CHECK_EQ(fake_reboot_reason, ROLLBACK_REASON);
    CHECK_CONTAINS(fake_console_output(),
                   "the firmware in slot 1 restarted 3 times without confirming itself: rolled back to slot 0");
    check_rolled_back_to_slot0();
    CHECK_EQ(fake_flash_programs, programs + 1); /* the table; no try counted on the way */

    /* The next boot (boot2 starts slot 0) tells why, and the old firmware is
     * no trial: nothing is written. */
    fake_reset_cause = fake_reboot_reason;
    system_boot();
    char reason[48];
    system_reset_reason(reason, sizeof reason);
    CHECK_STR(reason, "OTA rollback (boot)");
    fake_reset_cause = HAL_RESET_POWER_ON;
    programs = fake_flash_programs;
    uint32_t erases = fake_flash_erases;
    CHECK(!boot());
    CHECK(!ota_on_trial() && ota_rolled_back());
    CHECK_EQ(ota_running_slot(), 0);
    CHECK_EQ(fake_flash_programs, programs);
    CHECK_EQ(fake_flash_erases, erases);
}

static void test_guard_leaves_a_confirmed_firmware_alone(void)
{
    flash_with_table(0);
    for (int i = 0; i < 2 * PTABLE_MAX_TRIES; i++) {
        CHECK(!boot());
        CHECK(!ota_on_trial());
        CHECK_EQ(ota_running_slot(), 1);
    }
    CHECK_EQ(fake_flash_programs, 0);
    CHECK_EQ(fake_flash_erases, 0);
    CHECK_EQ(flash_tries(0), 0);
    CHECK_EQ(fake_wdt_timeout_ms, 0); /* started later, by health_start(), as always */
    CHECK(!strstr(fake_console_output(), "trial"));
    /* Nor a plug without a valid table. */
    fake_flash_blank();
    CHECK(!boot());
    CHECK_EQ(fake_flash_programs, 0);
}

static void test_guard_sees_boot2_went_back_by_itself(void)
{
    /* The SDK's boot2 found slot 1's boot header broken, made slot 0 active
     * and kept the entry's flags: slot 0 is no trial, nothing restarts. */
    struct ptable table;
    flash_with_table(PTABLE_FW_TRIAL | PTABLE_FW_TRIAL_SLOT1);
    CHECK_EQ(flash_table(&table), 0);
    ptable_fw(&table)->active_index = 0;
    ptable_serialize(&table, fake_ptable);
    CHECK(!boot());
    CHECK_CONTAINS(fake_console_output(), "boot2 did not start the new firmware in slot 1");
    CHECK(!ota_on_trial() && ota_rolled_back());
    CHECK_EQ(ota_running_slot(), 0);
    CHECK_EQ(flash_table(&table), 1);
    CHECK_EQ(ptable_fw(&table)->flags, PTABLE_FW_ROLLED_BACK | PTABLE_FW_BOOT2_REFUSED);
    CHECK_EQ(ptable_fw(&table)->active_index, 0);
    CHECK_EQ(flash_tries(0), 0);
    CHECK_EQ(fake_wdt_timeout_ms, 0);
    uint32_t programs = fake_flash_programs;
    CHECK(!boot());
    CHECK_EQ(fake_flash_programs, programs);
}

static void test_guard_power_cut_while_counting(void)
{
    flash_with_table(PTABLE_FW_TRIAL);
    CHECK(!boot());
    fake_flash_cut_at(1); /* the next program, this boot's try, is torn */
    CHECK(!boot());
    CHECK(fake_flash_power_is_off());
    fake_flash_power_on();
    /* The table is untouched (the tries sit outside its CRC): boot2 boots
     * the same slot, and the torn try counts as used or not at all. */
    struct ptable table;
    CHECK_EQ(flash_table(&table), 0);
    CHECK_EQ(ptable_fw(&table)->active_index, 1);
    CHECK_EQ(ptable_fw(&table)->flags, PTABLE_FW_TRIAL);
    unsigned after_cut = flash_tries(0);
    CHECK(after_cut == 1 || after_cut == 2);
    while (flash_tries(0) < PTABLE_MAX_TRIES)
        CHECK(!boot());
    CHECK(boot());
    check_rolled_back_to_slot0();
}

static void test_guard_power_cut_while_rolling_back(void)
{
    /* The rollback's table write is an erase and a program: a cut at either
     * leaves the trial table (the new copy is blank or fails its CRC), and
     * the next boot rolls back again. */
    for (uint32_t cut = 1; cut <= 2; cut++) {
        flash_with_table(PTABLE_FW_TRIAL);
        for (int i = 0; i < PTABLE_MAX_TRIES; i++)
            CHECK(!boot());
        fake_flash_cut_at(cut);
        CHECK(!boot()); /* the write failed: no restart, the trial runs on */
        CHECK(fake_flash_power_is_off());
        fake_flash_power_on();
        struct ptable table;
        CHECK_EQ(flash_table(&table), 0);
        CHECK_EQ(ptable_fw(&table)->active_index, 1);
        CHECK_EQ(ptable_fw(&table)->flags, PTABLE_FW_TRIAL);
        CHECK_EQ(flash_tries(0), PTABLE_MAX_TRIES);
        CHECK(boot());
        CHECK_EQ(fake_reboot_reason, ROLLBACK_REASON);
        check_rolled_back_to_slot0();
    }
}

int main(void)
{
    RUN(test_header_round_trip);
    RUN(test_header_refusals);
    RUN(test_ptable);
    RUN(test_pull_client_parsers);
    RUN(test_guard_counts_tries_then_rolls_back);
    RUN(test_guard_leaves_a_confirmed_firmware_alone);
    RUN(test_guard_sees_boot2_went_back_by_itself);
    RUN(test_guard_power_cut_while_counting);
    RUN(test_guard_power_cut_while_rolling_back);
    return harness_report();
}
