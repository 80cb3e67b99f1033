/*
 * config.h — the device's settings: one versioned struct, kept in a reclog
 * ring in the PSM partition.
 *
 * Saving appends a whole new copy (crash-safe, see reclog.h); loading takes
 * the newest valid copy, migrates it from an older layout if needed, checks
 * every field, and falls back to defaults — saying so in the log — when the
 * area is blank or holds nothing valid.  Layouts only grow: a new field goes
 * at the end of the struct with a version bump and a migration step.
 */
#ifndef OPENPLUG_CONFIG_H
#define OPENPLUG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#define CONFIG_VERSION 9
#define CONFIG_PINS 32      /* GPIO numbers a template can name */
#define CONFIG_NAME_SIZE 33 /* 32 characters and the NUL */
#define CONFIG_HOST_SIZE 65 /* host names, URLs' hosts, topics */
#define CONFIG_SECRET_SIZE 65
#define CONFIG_WIFI_NETWORKS 2
#define CONFIG_NTP_SERVERS 3
#define CONFIG_STARTUP_SIZE 256
#define CONFIG_TEMPLATE_NAME_SIZE 129 /* OpenBeken names run long: 128 characters and the NUL */

struct pin_setting {
    uint8_t role;    /* enum pin_role */
    uint8_t channel; /* OpenBeken's channel number (0..63) as the template gives it */
};

/* Added in version 6, one group per subsystem.  Each group ends in spare
 * bytes that are zero in every stored copy: a later field whose "unset"
 * value is 0 can take them without a new version. */
struct config_wifi { /* SSId1/2, Password1/2 */
    char ssid[CONFIG_WIFI_NETWORKS][CONFIG_NAME_SIZE];
    char password[CONFIG_WIFI_NETWORKS][CONFIG_SECRET_SIZE];
    uint8_t spare[16];
};

struct config_web { /* WebPassword: never stored in plain text */
    uint8_t password_salt[16];
    uint8_t password_hash[32]; /* SHA-256(salt | password); all 0 = none */
    uint8_t spare[16];
};

/* Added in version 7: host names the web server answers to besides the
 * plug's own addresses and names (WebHosts; DNS-rebinding defence). */
#define CONFIG_WEB_HOSTS_SIZE 128
struct config_web_hosts {
    char names[CONFIG_WEB_HOSTS_SIZE]; /* space-separated; "" = none */
    uint8_t spare[16];
};

struct config_mqtt {
    char host[CONFIG_HOST_SIZE]; /* "" = MQTT off */
    char user[CONFIG_NAME_SIZE];
    char password[CONFIG_SECRET_SIZE];
    char client[CONFIG_NAME_SIZE];     /* "" = the topic */
    char topic[CONFIG_NAME_SIZE];      /* "" = openplug_<last 6 hex of MAC> */
    char group_topic[CONFIG_NAME_SIZE];
    char full_topic[CONFIG_HOST_SIZE];
    uint16_t port;
    uint16_t tele_period_s;  /* 0 = off, 10..3600 */
    uint16_t power_delta;    /* PowerDelta, Tasmota's encoding; 0 = off */
    uint8_t tls;             /* MqttTLS */
    uint8_t ha_discovery;    /* SetOption19: 1 = HA MQTT discovery, 0 = Tasmota discovery */
    uint8_t fingerprint[32]; /* SHA-256 of the broker's certificate; all 0 = use the CA */
    uint8_t spare[16];
};

struct config_time {
    char ntp_server[CONFIG_NTP_SERVERS][CONFIG_HOST_SIZE]; /* host or host:port */
    char tz[CONFIG_HOST_SIZE]; /* POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"); "" = UTC */
    uint8_t spare[16];
};

struct config_automation {
    char startup_command[CONFIG_STARTUP_SIZE]; /* run at boot, outside safe mode */
    int32_t latitude_e6;  /* Latitude, microdegrees north (sunrise/sunset); 0 with 0 = unset */
    int32_t longitude_e6; /* Longitude, microdegrees east */
    uint8_t spare[8];
};

struct config_ota {
    char url[128];             /* OtaUrl */
    uint8_t public_key[65];    /* ECDSA P-256, uncompressed point; all 0 = none */
    uint8_t spare[15];
};

/* Added in version 9, one group per feature; each is all zero when unset
 * (so a copy migrated from version 8 needs no defaults) and keeps its size
 * when fields take its bytes.  The settings slot (2048 bytes with the
 * record header) leaves 4 bytes after them. */
struct config_limits { /* limits.h: margins that report, cut-offs that trip, PulseTime */
    uint16_t power_low_w, power_high_w;      /* PowerLow, PowerHigh: 0 = off */
    uint16_t voltage_low_v, voltage_high_v;  /* VoltageLow, VoltageHigh */
    uint16_t current_low_ma, current_high_ma; /* CurrentLow, CurrentHigh */
    uint16_t max_power_window_s; /* MaxPowerWindow: off this long, then a retry; 0 = no retry */
    uint16_t max_power_retries;  /* SetOption33: retries before staying off; 0 = Tasmota's 5 */
    uint16_t max_energy_wh;      /* MaxEnergy: a day's energy; 0 = off */
    uint16_t max_energy_start_h; /* MaxEnergyStart: local hour the day's check (and the restore) starts */
    uint16_t max_voltage_v, min_voltage_v; /* MaxVoltage, MinVoltage: cut-offs; 0 = off */
    uint16_t voltage_hold_s;     /* VoltageHold: beyond them this long before the trip */
    uint16_t pulse_time[4];      /* PulseTime1..4, Tasmota's encoding; 0 = off */
    uint8_t spare[14];
};
#define CONFIG_TIMERS 16
struct config_timers {                  /* Timer1..16, Timers (script/timers.h) */
    uint32_t timer[CONFIG_TIMERS];      /* each packed as timers.h says; 0 = cleared */
    uint8_t disarmed;                   /* Timers 0: none fires (0 = armed; Tasmota ships them disarmed) */
    uint8_t spare[7];
};
#define CONFIG_CURRENCY_SIZE 8 /* "€" is 3 bytes of UTF-8; "CHF", "zł" */
struct config_tariff { /* EnergyPrice, Tariff1/2/9, Currency (see energy/tariff.h) */
    uint32_t price_e4[2];      /* per kWh in 1/10000 of the currency: [0] off-peak (T1), [1] standard (T2); 0 = none */
    uint16_t start_min[2][2];  /* Tariff1 / Tariff2: start of T1 / T2, minutes after midnight, [STD, DST] */
    uint8_t weekend_offpeak;   /* Tariff9: 1 = Saturday and Sunday are off-peak all day */
    char currency[CONFIG_CURRENCY_SIZE]; /* shown after costs; "" = none */
    uint8_t spare[15];
};

/* Version 6.  Fixed-width fields only: host and target layouts must match.
 * Each version appends to the one before, so an older copy is a prefix. */
struct config {
    char device_name[CONFIG_NAME_SIZE];
    uint8_t power_on_state; /* enum power_on_state */
    struct pin_setting pins[CONFIG_PINS];
    /* added in version 2 */
    char template_name_v2[CONFIG_NAME_SIZE]; /* up to version 6; "" since (template_name below) */
    uint8_t meter_chip; /* enum meter_chip the calibration below belongs to (0, BL0937, before it was kept) */
    uint16_t button_double_ms; /* second click within this: a double click */
    uint16_t button_long_ms;   /* held this long: a long press */
    /* added in version 3: metering calibration, per raw unit of meter_chip
     * (BL0937: uW per Hz of CF, uV and uA per Hz of CF1; see meter.h) */
    uint32_t power_cal;
    uint32_t voltage_cal;
    uint32_t current_cal;
    /* added in version 4 */
    uint16_t energy_save_wh; /* energy counted between two saves, at most */
    uint16_t reserved2;
    /* added in version 5: overload protection */
    uint16_t max_power_w;      /* 0 = off */
    uint16_t max_power_hold_s; /* above max_power_w this long: relays off */
    /* added in version 6 */
    struct config_wifi wifi;
    struct config_web web;
    struct config_mqtt mqtt;
    struct config_time time;
    struct config_automation automation;
    struct config_ota ota;
    /* added in version 7: templates as OpenBeken writes them */
    char template_name[CONFIG_TEMPLATE_NAME_SIZE];
    uint8_t led_pwm_on;  /* LedPwmOn: an LED's brightness when lit, 0..255 */
    uint8_t led_pwm_off; /* LedPwmOff: when dark */
    uint8_t reserved3;
    uint32_t template_extra_crc; /* CRC-32 of the kept members in TEMPLATE_EXTRA_FILE; 0 = none */
    uint8_t spare7[16];
    /* added in version 8 */
    struct config_web_hosts web_hosts;
    /* added in version 9 */
    struct config_limits limits;
    struct config_timers timers;
    struct config_tariff tariff;
};
_Static_assert(sizeof(struct config_limits) == 48 && sizeof(struct config_timers) == 72 &&
                   sizeof(struct config_tariff) == 40,
               "version-9 groups keep their sizes");
_Static_assert(sizeof(struct config) == 2028, "config layout is persisted: bump CONFIG_VERSION");

/* Version 1, the first layout (a prefix of every later one), kept as the
 * reference of what old devices hold. */
struct config_v1 {
    char device_name[CONFIG_NAME_SIZE];
    uint8_t power_on_state;
    struct pin_setting pins[CONFIG_PINS];
};
_Static_assert(sizeof(struct config_v1) == 98, "historic layout, never changes");

/* What a change of the settings touched: EVENT_SETTINGS's value, a mask,
 * so that those who depend on a group follow it (events.h). */
enum settings_group {
    SETTINGS_NAME = 1 << 0,       /* DeviceName (and the FriendlyName from it) */
    SETTINGS_PINS = 1 << 1,       /* the template: pins and its name */
    SETTINGS_METER = 1 << 2,      /* calibration */
    SETTINGS_ENERGY = 1 << 3,     /* EnergySaveWh, MaxPower, MaxPowerHold */
    SETTINGS_DEVICE = 1 << 4,     /* PowerOnState, button timing */
    SETTINGS_WIFI = 1 << 5,
    SETTINGS_WEB = 1 << 6,
    SETTINGS_MQTT = 1 << 7,
    SETTINGS_TIME = 1 << 8,
    SETTINGS_AUTOMATION = 1 << 9,
    SETTINGS_OTA = 1 << 10,
    SETTINGS_LIMITS = 1 << 11,
    SETTINGS_TIMERS = 1 << 12,
    SETTINGS_TARIFF = 1 << 13,
};

/* The settings in use (read-only: change them with config_update()). */
const struct config *config_get(void);

void config_defaults(struct config *config);

/* Load from flash (see above).  Returns true if a stored copy was used. */
bool config_load(void);

/* A scratch copy of the settings in use, to change and pass to
 * config_update().  One static copy (the struct is too large for a task
 * stack): each call starts it afresh. */
struct config *config_edit(void);

/* Persist `next` and make it the settings in use, then announce
 * EVENT_SETTINGS with the groups that changed (none: no event).  On a
 * flash error nothing changes: returns a negative HAL_E*, else 0. */
int config_update(const struct config *next);

/* A settings record of `version` (a backup's): migrated into *out and
 * checked as a stored copy is.  NULL when good, else why not. */
const char *config_check_record(const void *record, uint32_t len, unsigned version, struct config *out);

/* Persist `c` without using it (a restore, at boot before config_load()).
 * 0 or a negative HAL_E*. */
int config_store(const struct config *c);

/* Saves since the area was created or wiped (Tasmota's SaveCount). */
uint32_t config_save_count(void);

/* Wipe the stored settings in steps (see reclog_erase_step()); the settings
 * in use stay until the restart that follows. */
bool config_erase_step(uint16_t *step);

#endif
