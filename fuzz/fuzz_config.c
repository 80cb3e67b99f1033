/*
 * fuzz_config.c — config_load() (src/core/storage/config.h) on arbitrary
 * contents of the settings area, and the relay boot record read at reset.
 *
 * Input: a length and that many raw bytes that fill the settings ring (its 4
 * sectors; the rest stays erased), then a script that plants records with
 * valid CRCs (through reclog_append() on the same layout) — version 2, 1 or
 * any other, of the right length or not, built from the defaults with some
 * bytes changed — and flips bytes; it can also plant boot records.
 * Properties:
 *   - never a crash;
 *   - the settings in use always pass validation: names NUL-terminated,
 *     power_on_state < POWER_ON_COUNT, roles < PIN_ROLE_COUNT, channels
 *     <= 63, button timings in range;
 *   - config_load() returns true exactly when the newest record is a valid
 *     version 2 or 1 copy, and then the settings are that copy (migrated);
 *     otherwise they are the defaults.
 * The loaded pins are then applied to the fake board (pins_apply) and the
 * boot record is read (channels_boot_restore), for crashes only.
 */
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/storage/config.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "fake_hal.h"
#include "fuzz_input.h"

#define AREA (LAYOUT_CONFIG_SECTORS * HAL_FLASH_SECTOR)
#define SLOTS (AREA / LAYOUT_CONFIG_SLOT)
#define MAX_PAYLOAD (LAYOUT_CONFIG_SLOT - RECLOG_HEADER_SIZE)

static const struct reclog config_layout = {
    .part = HAL_PART_PSM,
    .offset = LAYOUT_CONFIG_OFFSET,
    .sectors = LAYOUT_CONFIG_SECTORS,
    .slot_size = LAYOUT_CONFIG_SLOT,
    .magic = LAYOUT_CONFIG_MAGIC,
};
static const struct reclog boot_layout = {
    .part = HAL_PART_PSM,
    .offset = LAYOUT_BOOT_OFFSET,
    .sectors = LAYOUT_BOOT_SECTORS,
    .slot_size = LAYOUT_BOOT_SLOT,
    .magic = LAYOUT_BOOT_MAGIC,
};

/* Size of each settings version's layout (an independent copy of the
 * rule: each version appends to the one before). */
static const uint16_t layout_sizes[CONFIG_VERSION + 1] = {0, 98, 136, 148, 152, 156, 1572, 1724, 1868, 2028};
_Static_assert(CONFIG_VERSION == 9, "add the new layout's size above");

static bool terminated(const char *s, size_t size) { return memchr(s, '\0', size) != NULL; }

/* The version-6 and -7 groups: every text ends in its field, MQTT in range. */
static bool valid_v6(const struct config *c)
{
    const char *texts[] = {c->wifi.ssid[0], c->wifi.ssid[1], c->wifi.password[0], c->wifi.password[1],
                           c->mqtt.host, c->mqtt.user, c->mqtt.password, c->mqtt.client, c->mqtt.topic,
                           c->mqtt.group_topic, c->mqtt.full_topic, c->time.ntp_server[0], c->time.ntp_server[1],
                           c->time.ntp_server[2], c->time.tz, c->automation.startup_command, c->ota.url,
                           c->web_hosts.names};
    const size_t sizes[] = {sizeof c->wifi.ssid[0], sizeof c->wifi.ssid[1], sizeof c->wifi.password[0],
                            sizeof c->wifi.password[1], sizeof c->mqtt.host, sizeof c->mqtt.user,
                            sizeof c->mqtt.password, sizeof c->mqtt.client, sizeof c->mqtt.topic,
                            sizeof c->mqtt.group_topic, sizeof c->mqtt.full_topic, sizeof c->time.ntp_server[0],
                            sizeof c->time.ntp_server[1], sizeof c->time.ntp_server[2], sizeof c->time.tz,
                            sizeof c->automation.startup_command, sizeof c->ota.url, sizeof c->web_hosts.names};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        if (!terminated(texts[i], sizes[i]))
            return false;
    return c->mqtt.port != 0 && c->mqtt.tele_period_s <= 3600 &&
           (c->mqtt.tele_period_s == 0 || c->mqtt.tele_period_s >= 10) && c->mqtt.tls <= 1 &&
           c->mqtt.ha_discovery <= 1;
}

/* The rules config.h promises for settings in use. */
static bool valid(const struct config *c)
{
    if (!terminated(c->device_name, sizeof c->device_name) || !terminated(c->template_name, sizeof c->template_name) ||
        !terminated(c->template_name_v2, sizeof c->template_name_v2))
        return false;
    if (c->power_on_state >= POWER_ON_COUNT)
        return false;
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (c->pins[gpio].role >= PIN_ROLE_COUNT || c->pins[gpio].channel > 63)
            return false;
    return c->button_double_ms >= 100 && c->button_double_ms <= 2000 && c->button_long_ms >= 300 &&
           c->button_long_ms <= 10000 && c->power_cal && c->voltage_cal && c->current_cal &&
           c->energy_save_wh >= 1 && c->energy_save_wh <= 1000 && c->max_power_w <= 4000 &&
           c->max_power_hold_s >= 1 && c->max_power_hold_s <= 3600 && valid_v6(c);
}

/* Plant a record with a valid CRC at a chosen slot and sequence number. */
static void plant(const struct reclog *layout, uint32_t slot, uint32_t seq, const void *payload, uint16_t len,
                  uint8_t version)
{
    struct reclog log = *layout;
    log.newest = -1; /* not mounted: nothing to protect */
    log.write_slot = slot;
    log.newest_seq = seq - 1;
    FUZZ_CHECK(reclog_append(&log, payload, len, version) == 0);
}

static void plant_config(struct fuzz_in *in)
{
    static uint8_t payload[MAX_PAYLOAD];
    uint32_t slot = fuzz_u8(in) % SLOTS;
    uint32_t seq = fuzz_u8(in);
    uint8_t kind = fuzz_u8(in);
    uint8_t version;
    uint16_t len;
    struct config defaults;
    config_defaults(&defaults);
    memset(payload, 0, sizeof payload);
    memcpy(payload, &defaults, sizeof defaults);
    switch (kind % 4) {
    case 0:
    case 1:
        version = CONFIG_VERSION;
        len = sizeof(struct config);
        break;
    case 2: /* an older layout: a prefix of the current one */
        version = (uint8_t)(1 + fuzz_u8(in) % (CONFIG_VERSION - 1));
        len = layout_sizes[version];
        break;
    default:
        version = fuzz_u8(in);
        len = fuzz_u16(in) % (MAX_PAYLOAD + 1);
        break;
    }
    /* Change a few bytes: the fields the checks look at, mostly. */
    unsigned changes = fuzz_u8(in) % 8;
    for (unsigned i = 0; i < changes && len; i++) {
        uint16_t at = fuzz_u8(in);
        payload[at % len] = fuzz_u8(in);
    }
    if (kind & 0x80) /* a whole block of input bytes */
        fuzz_bytes(in, payload, len < 64 ? len : 64);
    plant(&config_layout, slot, seq, payload, len, version);
}

static void plant_boot_record(struct fuzz_in *in)
{
    uint8_t record[16];
    uint32_t slot = fuzz_u16(in) % (LAYOUT_BOOT_SECTORS * HAL_FLASH_SECTOR / LAYOUT_BOOT_SLOT);
    uint32_t seq = fuzz_u8(in);
    uint16_t len = fuzz_u8(in) % 2 ? 8 : fuzz_u8(in) % (sizeof record + 1);
    fuzz_bytes(in, record, sizeof record);
    plant(&boot_layout, slot, seq, record, len, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in(data, size);
    fake_flash_blank();
    fake_console_clear();

    /* Raw contents of the settings ring. */
    uint32_t fill = fuzz_u16(&in) % (AREA + 1);
    fill = (uint32_t)fuzz_bytes(&in, fake_psm + LAYOUT_CONFIG_OFFSET, fill);
    memset(fake_psm + LAYOUT_CONFIG_OFFSET + fill, 0xFF, AREA - fill);

    /* Records and damage. */
    for (unsigned ops = 0; fuzz_left(&in) && ops < 16; ops++) {
        switch (fuzz_u8(&in) % 4) {
        case 0:
        case 1:
            plant_config(&in);
            break;
        case 2: {
            uint32_t at = fuzz_u16(&in) % AREA;
            fake_psm[LAYOUT_CONFIG_OFFSET + at] ^= (uint8_t)(fuzz_u8(&in) | 1);
            break;
        }
        case 3:
            plant_boot_record(&in);
            break;
        }
    }

    /* What config_load() should find, by its rules. */
    static uint8_t newest[MAX_PAYLOAD];
    struct reclog log = config_layout;
    int found = reclog_mount(&log);
    FUZZ_CHECK(found >= 0);
    uint8_t version = 0;
    int len = found > 0 ? reclog_read(&log, newest, sizeof newest, &version) : -1;
    struct config expected, defaults;
    config_defaults(&defaults);
    FUZZ_CHECK(valid(&defaults));
    bool usable = false;
    if (version >= 1 && version <= CONFIG_VERSION && len == layout_sizes[version]) {
        /* Migrated: the stored prefix as it is, the defaults of the fields
         * added by later versions, nothing else (zeros). */
        memset(&expected, 0, sizeof expected);
        memcpy(&expected, newest, (size_t)len);
        if (version < 2) {
            expected.button_double_ms = defaults.button_double_ms;
            expected.button_long_ms = defaults.button_long_ms;
        }
        if (version < 3) {
            expected.power_cal = defaults.power_cal;
            expected.voltage_cal = defaults.voltage_cal;
            expected.current_cal = defaults.current_cal;
        }
        if (version < 4)
            expected.energy_save_wh = defaults.energy_save_wh;
        if (version < 5) {
            expected.max_power_w = defaults.max_power_w;
            expected.max_power_hold_s = defaults.max_power_hold_s;
        }
        if (version < 6) {
            expected.wifi = defaults.wifi;
            expected.web = defaults.web;
            expected.mqtt = defaults.mqtt;
            expected.time = defaults.time;
            expected.automation = defaults.automation;
            expected.ota = defaults.ota;
        }
        if (version < 7) {
            /* the name moves to its longer field (when it is a string) */
            if (expected.template_name_v2[0] && terminated(expected.template_name_v2, sizeof expected.template_name_v2)) {
                memcpy(expected.template_name, expected.template_name_v2, sizeof expected.template_name_v2);
                memset(expected.template_name_v2, 0, sizeof expected.template_name_v2);
            }
            expected.led_pwm_on = defaults.led_pwm_on;
            expected.led_pwm_off = defaults.led_pwm_off;
        }
        usable = true;
    }
    usable = usable && valid(&expected);

    bool loaded = config_load();
    const struct config *c = config_get();
    FUZZ_CHECK(valid(c));
    if (loaded != usable)
        fprintf(stderr, "config_load() says %d, the newest record (version %u, %d bytes) is %susable\n", loaded,
                version, len, usable ? "" : "not ");
    FUZZ_CHECK(loaded == usable);
    if (loaded) {
        FUZZ_CHECK(memcmp(c->device_name, expected.device_name, sizeof c->device_name) == 0);
        FUZZ_CHECK(c->power_on_state == expected.power_on_state);
        FUZZ_CHECK(memcmp(c->pins, expected.pins, sizeof c->pins) == 0);
        FUZZ_CHECK(strcmp(c->template_name, expected.template_name) == 0);
        FUZZ_CHECK(c->button_double_ms == expected.button_double_ms);
        FUZZ_CHECK(c->button_long_ms == expected.button_long_ms);
        /* And nothing else: no stray bytes (a migrated copy once kept stack
         * garbage, which the next save wrote to flash). */
        if (memcmp(c, &expected, sizeof expected) != 0) {
            const uint8_t *got = (const uint8_t *)c, *want = (const uint8_t *)&expected;
            for (size_t i = 0; i < sizeof expected; i++)
                if (got[i] != want[i])
                    fprintf(stderr, "version %u settings: byte %zu is 0x%02x, expected 0x%02x\n", version, i,
                            got[i], want[i]);
        }
        FUZZ_CHECK(memcmp(c, &expected, sizeof expected) == 0);
    } else {
        FUZZ_CHECK(memcmp(c, &defaults, sizeof defaults) == 0);
    }

    /* Crash-only: the board with these pins, and the boot record. */
    pins_apply(c->pins);
    channels_boot_restore();
    return 0;
}
