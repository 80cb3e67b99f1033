/* test_config.c — the settings store: defaults, round trip, migration from
 * version 1, corrupt and invalid areas, torn saves, the settings-changed
 * event. */
#include <stdio.h>

#include "core/events.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/storage/config.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "fake_hal.h"
#include "harness.h"

static struct reclog config_area(void)
{
    return (struct reclog){.part = HAL_PART_PSM, .offset = LAYOUT_CONFIG_OFFSET, .sectors = LAYOUT_CONFIG_SECTORS,
                           .slot_size = LAYOUT_CONFIG_SLOT, .magic = LAYOUT_CONFIG_MAGIC};
}

static void test_blank_area_gives_defaults(void)
{
    fake_flash_blank();
    fake_console_clear();
    CHECK(!config_load());
    CHECK_CONTAINS(fake_console_output(), "settings area blank (first boot): using defaults");
    CHECK_STR(config_get()->device_name, "OpenPlug");
    CHECK_EQ(config_get()->power_on_state, POWER_ON_RESTORE);
    CHECK_STR(config_get()->template_name, "SM-028_V1.3");
    CHECK_EQ(config_get()->pins[2].role, PIN_REL);
    CHECK_EQ(config_get()->pins[20].role, PIN_LED_N);
    CHECK_EQ(config_get()->pins[17].role, PIN_BTN);
}

static void test_save_and_load_round_trip(void)
{
    fake_flash_blank();
    config_load();
    struct config next = *config_get();
    strcpy(next.device_name, "Kitchen");
    next.power_on_state = POWER_ON_TOGGLE;
    next.pins[5] = (struct pin_setting){PIN_REL_N, 2};
    CHECK_EQ(config_update(&next), 0);
    CHECK_STR(config_get()->device_name, "Kitchen");
    fake_console_clear();
    CHECK(config_load());
    CHECK_CONTAINS(fake_console_output(), "settings loaded (save 1)");
    CHECK_STR(config_get()->device_name, "Kitchen");
    CHECK_EQ(config_get()->power_on_state, POWER_ON_TOGGLE);
    CHECK_EQ(config_get()->pins[5].role, PIN_REL_N);
    CHECK_EQ(config_get()->pins[5].channel, 2);
    CHECK_EQ(config_save_count(), 1);
}

static void test_version_1_is_migrated(void)
{
    fake_flash_blank();
    struct config_v1 old;
    memset(&old, 0, sizeof old);
    strcpy(old.device_name, "Garage");
    old.power_on_state = POWER_ON_ON;
    old.pins[4] = (struct pin_setting){PIN_REL, 1};
    old.pins[12] = (struct pin_setting){PIN_BTN, 1};
    struct reclog area = config_area();
    reclog_mount(&area);
    CHECK_EQ(reclog_append(&area, &old, sizeof old, 1), 0);

    fake_console_clear();
    CHECK(config_load());
    CHECK_CONTAINS(fake_console_output(), "settings migrated from version 1 to 9");
    CHECK_STR(config_get()->device_name, "Garage");
    CHECK_EQ(config_get()->power_on_state, POWER_ON_ON);
    CHECK_EQ(config_get()->pins[4].role, PIN_REL);
    CHECK_EQ(config_get()->pins[12].role, PIN_BTN);
    CHECK_EQ(config_get()->pins[2].role, PIN_NONE); /* not the default template */
    CHECK_STR(config_get()->template_name, "");
    CHECK_EQ(config_get()->button_double_ms, 400); /* new in version 2: defaults */
    CHECK_EQ(config_get()->button_long_ms, 1000);
    CHECK_EQ(config_get()->power_cal, 1707150); /* new in version 3: defaults */

    /* The next save writes version 2, which loads without migrating. */
    CHECK_EQ(config_update(config_get()), 0);
    fake_console_clear();
    CHECK(config_load());
    CHECK_CONTAINS(fake_console_output(), "settings loaded");
    CHECK_STR(config_get()->device_name, "Garage");
}

/* Version 2 (before calibration) is a prefix of version 3. */
static void test_version_2_is_migrated(void)
{
    fake_flash_blank();
    struct config v2;
    config_defaults(&v2);
    strcpy(v2.device_name, "Attic");
    v2.button_long_ms = 2500;
    struct reclog area = config_area();
    reclog_mount(&area);
    CHECK_EQ(reclog_append(&area, &v2, 136, 2), 0);
    fake_console_clear();
    CHECK(config_load());
    CHECK_CONTAINS(fake_console_output(), "settings migrated from version 2 to 9");
    CHECK_STR(config_get()->device_name, "Attic");
    CHECK_EQ(config_get()->button_long_ms, 2500);
    CHECK_EQ(config_get()->voltage_cal, 156710);
    CHECK_EQ(config_get()->current_cal, 12870);
}

/* Version 5 (before the network settings) is a prefix of version 6. */
static void test_version_5_is_migrated(void)
{
    fake_flash_blank();
    struct config *v5 = config_edit();
    config_defaults(v5);
    v5->max_power_w = 2500;
    memset(&v5->mqtt, 0xA5, sizeof v5->mqtt); /* beyond the prefix: must not be read */
    struct reclog area = config_area();
    reclog_mount(&area);
    CHECK_EQ(reclog_append(&area, v5, 156, 5), 0);
    fake_console_clear();
    CHECK(config_load());
    CHECK_CONTAINS(fake_console_output(), "settings migrated from version 5 to 9");
    CHECK_EQ(config_get()->max_power_w, 2500);
    CHECK_EQ(config_get()->mqtt.port, 1883);
    CHECK_EQ(config_get()->mqtt.tele_period_s, 300);
    CHECK_STR(config_get()->mqtt.full_topic, "%prefix%/%topic%/");
    CHECK_STR(config_get()->mqtt.host, "");
    CHECK_STR(config_get()->time.ntp_server[2], "2.pool.ntp.org");
}

/* Version 8 is a prefix of version 9: the version-9 groups come up zero. */
static void test_version_8_is_migrated(void)
{
    fake_flash_blank();
    struct config *v8 = config_edit();
    config_defaults(v8);
    strcpy(v8->web_hosts.names, "plug.example");
    memset(&v8->limits, 0xA5, sizeof v8->limits); /* beyond the prefix: must not be read */
    struct reclog area = config_area();
    reclog_mount(&area);
    CHECK_EQ(reclog_append(&area, v8, 1868, 8), 0);
    fake_console_clear();
    CHECK(config_load());
    CHECK_CONTAINS(fake_console_output(), "settings migrated from version 8 to 9");
    CHECK_STR(config_get()->web_hosts.names, "plug.example");
    static const struct config_limits zero;
    CHECK(memcmp(&config_get()->limits, &zero, sizeof zero) == 0);
}

static void test_corrupt_area_gives_defaults_and_recovers(void)
{
    fake_flash_blank();
    uint32_t x = 99;
    for (uint32_t i = 0; i < LAYOUT_CONFIG_SECTORS * HAL_FLASH_SECTOR; i++) {
        x = x * 1103515245u + 12345u;
        fake_psm[LAYOUT_CONFIG_OFFSET + i] = (uint8_t)(x >> 16);
    }
    fake_console_clear();
    CHECK(!config_load());
    CHECK_CONTAINS(fake_console_output(), "settings area corrupt (8 damaged records): using defaults");
    CHECK_STR(config_get()->device_name, "OpenPlug");
    struct config next = *config_get();
    strcpy(next.device_name, "Recovered");
    CHECK_EQ(config_update(&next), 0);
    CHECK(config_load());
    CHECK_STR(config_get()->device_name, "Recovered");
}

static void test_invalid_fields_are_refused(void)
{
    fake_flash_blank();
    static struct config bad;
    config_defaults(&bad);
    bad.power_on_state = 9;
    struct reclog area = config_area();
    reclog_mount(&area);
    reclog_append(&area, &bad, sizeof bad, CONFIG_VERSION);
    fake_console_clear();
    CHECK(!config_load());
    CHECK_CONTAINS(fake_console_output(), "stored settings are invalid (power_on_state): using defaults");
    CHECK_EQ(config_get()->power_on_state, POWER_ON_RESTORE);

    config_defaults(&bad);
    memset(bad.mqtt.topic, 'x', sizeof bad.mqtt.topic); /* no terminating NUL */
    reclog_append(&area, &bad, sizeof bad, CONFIG_VERSION);
    fake_console_clear();
    CHECK(!config_load());
    CHECK_CONTAINS(fake_console_output(), "stored settings are invalid (text): using defaults");

    config_defaults(&bad);
    bad.mqtt.tele_period_s = 5; /* 0 (off) or 10 .. 3600 */
    reclog_append(&area, &bad, sizeof bad, CONFIG_VERSION);
    fake_console_clear();
    CHECK(!config_load());
    CHECK_CONTAINS(fake_console_output(), "stored settings are invalid (mqtt): using defaults");

    /* the limits group (version 9): each field in its command's range */
    static const struct {
        size_t offset;
        uint16_t value;
    } limits_bad[] = {
        {offsetof(struct config, limits.pulse_time[3]), 64901},
        {offsetof(struct config, limits.max_energy_start_h), 24},
        {offsetof(struct config, limits.power_high_w), 4001},
        {offsetof(struct config, limits.voltage_hold_s), 61},
    };
    for (unsigned i = 0; i <= sizeof limits_bad / sizeof limits_bad[0]; i++) {
        config_defaults(&bad);
        if (i < sizeof limits_bad / sizeof limits_bad[0])
            memcpy((uint8_t *)&bad + limits_bad[i].offset, &limits_bad[i].value, sizeof(uint16_t));
        else
            bad.limits.min_voltage_v = bad.limits.max_voltage_v = 230; /* MinVoltage below MaxVoltage */
        reclog_append(&area, &bad, sizeof bad, CONFIG_VERSION);
        fake_console_clear();
        CHECK(!config_load());
        CHECK_CONTAINS(fake_console_output(), "stored settings are invalid (limits): using defaults");
    }

    config_defaults(&bad);
    reclog_append(&area, &bad, 20, 7); /* a version this firmware does not know */
    fake_console_clear();
    CHECK(!config_load());
    CHECK_CONTAINS(fake_console_output(), "unknown version 7");
}

/* Tear each flash operation of five consecutive saves (crossing sector
 * boundaries): every load finds the previous or the new settings. */
static void test_torn_saves_keep_old_or_new(void)
{
    for (int save = 1; save <= 5; save++) {
        for (uint32_t cut = 1; cut <= 3; cut++) {
            fake_flash_blank();
            config_load();
            struct config next = *config_get();
            for (int i = 1; i < save; i++) {
                next.power_on_state = (uint8_t)(i % POWER_ON_COUNT);
                config_update(&next);
            }
            uint8_t old_state = config_get()->power_on_state;
            uint8_t new_state = (uint8_t)(save % POWER_ON_COUNT);
            next.power_on_state = new_state;
            fake_flash_cut_at(cut);
            int err = config_update(&next); /* fails if the cut falls within it */
            CHECK_EQ(config_get()->power_on_state, err ? old_state : new_state);
            fake_flash_power_on();
            bool loaded = config_load();
            CHECK(loaded || save == 1); /* the first save may be lost: defaults then */
            uint8_t now = config_get()->power_on_state;
            CHECK(now == old_state || now == new_state || (save == 1 && now == POWER_ON_RESTORE));
        }
    }
}

static void test_failed_save_changes_nothing(void)
{
    fake_flash_blank();
    config_load();
    struct config next = *config_get();
    strcpy(next.device_name, "Lost");
    fake_flash_cut_at(1);
    CHECK(config_update(&next) != 0);
    CHECK_STR(config_get()->device_name, "OpenPlug");
    /* Power stays off: every later save fails too, and nothing changes. */
    for (int i = 0; i < 20; i++)
        CHECK(config_update(&next) != 0);
    CHECK_STR(config_get()->device_name, "OpenPlug");
    fake_flash_power_on();
}

static int32_t groups_seen;
static unsigned events_seen;

static void note_settings(const struct event *event, void *arg)
{
    (void)arg;
    if (event->type == EVENT_SETTINGS) {
        groups_seen = event->value;
        events_seen++;
    }
}

/* A save announces exactly the groups it changed, once; an unchanged save
 * announces nothing. */
static void test_a_save_announces_the_groups_it_changed(void)
{
    static struct event_listener listener;
    fake_flash_blank();
    config_load();
    event_listen(&listener, note_settings, NULL);
    struct config *next = config_edit();
    snprintf(next->device_name, sizeof next->device_name, "Kitchen");
    events_seen = 0;
    CHECK_EQ(config_update(next), 0);
    CHECK_EQ(events_seen, 1);
    CHECK_EQ(groups_seen, SETTINGS_NAME);
    next = config_edit();
    next->pins[4] = (struct pin_setting){PIN_LED, 1};
    snprintf(next->template_name, sizeof next->template_name, "Kitchen plug v2");
    next->mqtt.tele_period_s = 60;
    CHECK_EQ(config_update(next), 0);
    CHECK_EQ(events_seen, 2);
    CHECK_EQ(groups_seen, SETTINGS_PINS | SETTINGS_MQTT);
    next = config_edit();
    next->power_cal += 1000;
    CHECK_EQ(config_update(next), 0);
    CHECK_EQ(groups_seen, SETTINGS_METER);
    CHECK_EQ(config_update(config_edit()), 0); /* nothing changed */
    CHECK_EQ(events_seen, 3);
}

int main(void)
{
    RUN(test_blank_area_gives_defaults);
    RUN(test_save_and_load_round_trip);
    RUN(test_version_1_is_migrated);
    RUN(test_version_2_is_migrated);
    RUN(test_version_5_is_migrated);
    RUN(test_version_8_is_migrated);
    RUN(test_corrupt_area_gives_defaults_and_recovers);
    RUN(test_invalid_fields_are_refused);
    RUN(test_torn_saves_keep_old_or_new);
    RUN(test_failed_save_changes_nothing);
    RUN(test_a_save_announces_the_groups_it_changed);
    return harness_report();
}
