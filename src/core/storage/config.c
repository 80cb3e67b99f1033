/* config.c — load, migrate, check and save the settings; see config.h. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/events.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/io/template.h"
#include "core/energy/limits.h"
#include "core/log.h"
#include "core/energy/tariff.h"
#include "core/script/timers.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"

static struct config current;
static struct reclog config_log = {
    .part = HAL_PART_PSM,
    .offset = LAYOUT_CONFIG_OFFSET,
    .sectors = LAYOUT_CONFIG_SECTORS,
    .slot_size = LAYOUT_CONFIG_SLOT,
    .magic = LAYOUT_CONFIG_MAGIC,
};
_Static_assert(sizeof(struct config) + RECLOG_HEADER_SIZE <= LAYOUT_CONFIG_SLOT, "config fits its slot");

const struct config *config_get(void) { return &current; }

/* Size of each version's layout; each one extends the one before. */
static const uint16_t layout_size[CONFIG_VERSION + 1] = {0,   sizeof(struct config_v1), 136, 148, 152, 156, 1572,
                                                          1724, 1868, sizeof(struct config)};

/* Defaults of the fields added after `version`. */
static void defaults_after(struct config *c, unsigned version)
{
    if (version < 2) {
        c->button_double_ms = 400;
        c->button_long_ms = 1000;
    }
    if (version < 3) {
        /* The typical network (1 mOhm shunt, 1981:1 divider, Vref 1.218 V):
         * Vref^2 D / (Rs 1721506), Vref D / 15397, Vref / (Rs 94638). */
        c->power_cal = 1707150;
        c->voltage_cal = 156710;
        c->current_cal = 12870;
    }
    if (version < 4)
        c->energy_save_wh = 10;
    if (version < 5) {
        c->max_power_w = 0;
        c->max_power_hold_s = 10;
    }
    if (version < 6) {
        c->mqtt.port = 1883;
        strcpy(c->mqtt.full_topic, "%prefix%/%topic%/");
        strcpy(c->mqtt.group_topic, "openplugs");
        c->mqtt.tele_period_s = 300;
        for (int i = 0; i < CONFIG_NTP_SERVERS; i++)
            snprintf(c->time.ntp_server[i], sizeof c->time.ntp_server[i], "%d.pool.ntp.org", i);
    }
    if (version < 7) {
        /* The name moves to its longer field; LEDs at full brightness. */
        if (c->template_name_v2[0] && memchr(c->template_name_v2, '\0', sizeof c->template_name_v2)) {
            memcpy(c->template_name, c->template_name_v2, sizeof c->template_name_v2);
            memset(c->template_name_v2, 0, sizeof c->template_name_v2);
        }
        c->led_pwm_on = 255;
        c->led_pwm_off = 0;
        c->template_extra_crc = 0;
    }
}

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->device_name, "OpenPlug");
    c->power_on_state = POWER_ON_RESTORE;
    template_defaults(c);
    defaults_after(c, 0);
}

/* An older layout is a prefix, read into c: default what came later. */
static void migrate_in_place(unsigned version, struct config *c)
{
    memset((uint8_t *)c + layout_size[version], 0, sizeof *c - layout_size[version]);
    defaults_after(c, version);
}

static bool terminated(const char *s, size_t size) { return memchr(s, '\0', size) != NULL; }

/* Every string of the version-6 groups ends within its field. */
static bool strings_terminated(const struct config *c)
{
#define T(field) terminated(field, sizeof field)
    for (int i = 0; i < CONFIG_WIFI_NETWORKS; i++)
        if (!T(c->wifi.ssid[i]) || !T(c->wifi.password[i]))
            return false;
    for (int i = 0; i < CONFIG_NTP_SERVERS; i++)
        if (!T(c->time.ntp_server[i]))
            return false;
    return T(c->mqtt.host) && T(c->mqtt.user) && T(c->mqtt.password) && T(c->mqtt.client) && T(c->mqtt.topic) &&
           T(c->mqtt.group_topic) && T(c->mqtt.full_topic) && T(c->time.tz) && T(c->automation.startup_command) &&
           T(c->ota.url) && T(c->web_hosts.names) && T(c->tariff.currency);
#undef T
}

/* Every field in range; a stored copy that fails is not used. */
static const char *invalid_field(const struct config *c)
{
    if (!terminated(c->device_name, sizeof c->device_name) ||
        !terminated(c->template_name_v2, sizeof c->template_name_v2) ||
        !terminated(c->template_name, sizeof c->template_name))
        return "name";
    if (c->power_on_state >= POWER_ON_COUNT)
        return "power_on_state";
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (c->pins[gpio].role >= PIN_ROLE_COUNT || c->pins[gpio].channel > 63)
            return "pins";
    if (c->button_double_ms < 100 || c->button_double_ms > 2000 || c->button_long_ms < 300 ||
        c->button_long_ms > 10000)
        return "button timing";
    if (!c->power_cal || !c->voltage_cal || !c->current_cal)
        return "calibration";
    if (c->energy_save_wh < 1 || c->energy_save_wh > 1000)
        return "energy_save_wh";
    if (c->max_power_w > 4000 || c->max_power_hold_s < 1 || c->max_power_hold_s > 3600)
        return "max_power";
    if (limits_invalid(&c->limits))
        return "limits";
    if (!strings_terminated(c))
        return "text";
    if (c->mqtt.tele_period_s > 3600 || (c->mqtt.tele_period_s > 0 && c->mqtt.tele_period_s < 10) ||
        c->mqtt.port == 0 || c->mqtt.tls > 1 || c->mqtt.ha_discovery > 1)
        return "mqtt";
    if (!timers_valid(&c->timers))
        return "timers";
    if (!tariff_valid(&c->tariff))
        return "tariff";
    return NULL;
}

/* The settings being loaded (at boot) or edited (config_edit): never both
 * at once, both too large for a task stack. */
static struct config scratch;

bool config_load(void)
{
    uint8_t version = 0;
    struct config *loaded = &scratch;
    int found = reclog_mount(&config_log);
    int len = found > 0 ? reclog_read(&config_log, loaded, sizeof *loaded, &version) : -1;

    config_defaults(&current);
    if (found < 0) {
        LOG_ERR("CFG", "settings area unreadable (flash error %d): using defaults", found);
        return false;
    }
    if (found == 0) {
        if (config_log.damaged)
            LOG_ERR("CFG", "settings area corrupt (%lu damaged records): using defaults",
                    (unsigned long)config_log.damaged);
        else
            LOG_INF("CFG", "settings area blank (first boot): using defaults");
        return false;
    }
    if (len < 0) {
        LOG_INF("CFG", "settings were reset to defaults (factory reset)");
        return false;
    }
    if (version >= 1 && version <= CONFIG_VERSION && len == layout_size[version]) {
        migrate_in_place(version, loaded);
        if (version < CONFIG_VERSION)
            LOG_INF("CFG", "settings migrated from version %u to %d", version, CONFIG_VERSION);
    } else {
        LOG_ERR("CFG", "stored settings have unknown version %u (%d bytes): using defaults", version, len);
        return false;
    }
    const char *bad = invalid_field(loaded);
    if (bad) {
        LOG_ERR("CFG", "stored settings are invalid (%s): using defaults", bad);
        return false;
    }
    current = *loaded;
    LOG_INF("CFG", "settings loaded (save %lu)", (unsigned long)config_save_count());
    return true;
}

const char *config_check_record(const void *record, uint32_t len, unsigned version, struct config *out)
{
    static char why[96];
    if (version < 1 || version > CONFIG_VERSION || len != layout_size[version]) {
        snprintf(why, sizeof why, "settings of version %u (%lu bytes): this firmware reads 1 to %d", version,
                 (unsigned long)len, CONFIG_VERSION);
        return why;
    }
    memmove(out, record, len);
    migrate_in_place(version, out);
    const char *bad = invalid_field(out);
    if (bad)
        snprintf(why, sizeof why, "invalid settings (%s)", bad);
    return bad ? why : NULL;
}

int config_store(const struct config *c)
{
    int found = reclog_mount(&config_log);
    return found < 0 ? found : reclog_append(&config_log, c, sizeof *c, CONFIG_VERSION);
}

struct config *config_edit(void)
{
    scratch = current;
    return &scratch;
}

/* Which group each stretch of the struct belongs to, in order (the pins'
 * stretch holds the template's old name field). */
#define SPAN(first, group) {offsetof(struct config, first), group}
static const struct {
    uint16_t offset;
    uint16_t group;
} spans[] = {
    SPAN(device_name, SETTINGS_NAME),       SPAN(power_on_state, SETTINGS_DEVICE),
    SPAN(pins, SETTINGS_PINS),              SPAN(meter_chip, SETTINGS_METER),
    SPAN(button_double_ms, SETTINGS_DEVICE), SPAN(power_cal, SETTINGS_METER),
    SPAN(energy_save_wh, SETTINGS_ENERGY),  SPAN(wifi, SETTINGS_WIFI),
    SPAN(web, SETTINGS_WEB),                SPAN(mqtt, SETTINGS_MQTT),
    SPAN(time, SETTINGS_TIME),              SPAN(automation, SETTINGS_AUTOMATION),
    SPAN(ota, SETTINGS_OTA),                SPAN(template_name, SETTINGS_PINS),
    SPAN(led_pwm_on, SETTINGS_DEVICE),      SPAN(template_extra_crc, SETTINGS_PINS),
    SPAN(web_hosts, SETTINGS_WEB),          SPAN(limits, SETTINGS_LIMITS),
    SPAN(timers, SETTINGS_TIMERS),          SPAN(tariff, SETTINGS_TARIFF),
};

static int32_t changed_groups(const struct config *before, const struct config *after)
{
    int32_t groups = 0;
    size_t n = sizeof spans / sizeof spans[0];
    for (size_t i = 0; i < n; i++) {
        size_t end = i + 1 < n ? spans[i + 1].offset : sizeof(struct config);
        if (memcmp((const char *)before + spans[i].offset, (const char *)after + spans[i].offset,
                   end - spans[i].offset) != 0)
            groups |= spans[i].group;
    }
    return groups;
}

int config_update(const struct config *next)
{
    int err = reclog_append(&config_log, next, sizeof *next, CONFIG_VERSION);
    if (err) {
        LOG_ERR("CFG", "saving settings failed (flash error %d): nothing changed", err);
        return err;
    }
    int32_t groups = changed_groups(&current, next);
    current = *next;
    if (groups)
        event_publish(&(struct event){.type = EVENT_SETTINGS, .value = groups});
    return 0;
}

uint32_t config_save_count(void) { return config_log.newest_seq - config_log.wiped_seq; }

bool config_erase_step(uint16_t *step) { return reclog_erase_step(&config_log, step); }
