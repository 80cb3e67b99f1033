/* firmware.c — boot sequence, housekeeping and the loop; see firmware.h. */
#include "firmware.h"

#include <stdint.h>

#include "core/backup/backup.h"
#include "core/cmd/commands.h"
#include "core/console.h"
#include "core/drivers.h"
#include "core/energy/bl0937.h"
#include "core/energy/bl0942.h"
#include "core/energy/meter.h"
#include "core/energy/energy.h"
#include "core/energy/limits.h"
#include "core/energy/history.h"
#include "core/energy/power_trail.h"
#include "core/energy/energy_stats.h"
#include "core/io/pins.h"
#include "core/events.h"
#include "core/io/channels.h"
#include "core/log.h"
#include "core/net/wifi.h"
#include "core/ota/ota.h"
#if OPENPLUG_NET
#include "core/net/http.h"
#include "core/net/http_auth.h"
#include "core/net/sntp.h"
#include "core/net/web_api.h"
#include "core/net/ota_api.h"
#include "core/net/mqtt_tasmota.h"
#include "core/net/files_api.h"
#include "core/net/backup_api.h"
#include "core/net/ssdp.h"
#include "core/net/mdns.h"
#include "core/net/web_ui.h"
#endif
#include "core/sched.h"
#include "core/script/script.h"
#include "core/storage/config.h"
#include "core/health.h"
#include "core/safemode.h"
#include "core/storage/files.h"
#include "core/system.h"
#include "core/timekeeping.h"
#include "hal/hal.h"

static struct sched_timer tick_timer;
static struct health_activity loop_health;
/* Tasmota's LinkCount and Downtime for STATE, from the Wi-Fi events. */
static struct event_listener wifi_stats;
static unsigned wifi_link_count;
static bool wifi_up;
static uint64_t wifi_down_since_ms, wifi_downtime_ms; /* since the first connect */

unsigned firmware_wifi_link_count(void) { return wifi_link_count; }

uint64_t firmware_wifi_downtime_s(void)
{
    uint64_t ms = wifi_downtime_ms;
    if (wifi_link_count && !wifi_up)
        ms += hal_time_ms() - wifi_down_since_ms;
    return ms / 1000;
}

static void count_wifi_link(const struct event *event, void *arg)
{
    (void)arg;
    bool up = event->type == EVENT_WIFI && event->value == HAL_WIFI_CONNECTED;
    if (event->type != EVENT_WIFI || up == wifi_up)
        return;
    if (up && wifi_link_count++)
        wifi_downtime_ms += hal_time_ms() - wifi_down_since_ms;
    if (!up)
        wifi_down_since_ms = hal_time_ms();
    wifi_up = up;
}

/* Once a second: housekeeping (the Wi-Fi link: the HAL has no callback). */
static void tick(void *arg)
{
    (void)arg;
    wifi_poll();
}

void firmware_boot(void)
{
    channels_boot_restore(); /* first: the load must not wait for anything */

    char reason[48];
    system_boot();
    system_reset_reason(reason, sizeof reason);
    LOG_INF("BOOT", "%s %s on %s (%s), reset reason: %s", OPENPLUG_NAME, OPENPLUG_VERSION, hal_chip_name(),
            hal_board_name(), reason);
    commands_register_all();
    wifi_register();
#if OPENPLUG_NET
    http_auth_register();
    ssdp_register();
    mdns_register();
#endif
    safemode_register();
    meter_register(&bl0937_driver);
    meter_register(&hlw8012_driver);
    meter_register(&bl0942_driver);
    energy_stats_register();
    script_register();
#if OPENPLUG_NET
    sntp_register();
#endif
    backup_boot_apply(); /* a committed restore: before the settings it brings are loaded */
    config_load();
    safemode_boot(); /* decides system_safe_mode() for what follows */
    clock_start();
    files_mount();
    channels_start();
    energy_start();
    limits_start(); /* after energy: its checks read the counters just updated */
    ota_start();
    history_start();
    power_trail_start();
    /* Safe mode: relays, metering, console, Wi-Fi access point, web UI and
     * OTA; no scripts, MQTT or optional drivers. */
    meter_follow_template(); /* the template says whether and with what the plug meters */
#if OPENPLUG_NET
    if (!system_safe_mode())
        driver_start("NTP"); /* on by default, as in the field's startup commands */
#endif
    console_start();
#if OPENPLUG_NET
    web_api_start();
    files_api_start();
    backup_api_start();
    ota_api_start();
    web_ui_start();
    http_start();
    if (!system_safe_mode())
        mqtt_start(); /* the whole MQTT feature: safe mode leaves it out */
#endif
    event_listen(&wifi_stats, count_wifi_link, NULL);
    wifi_start();
    sched_timer_init(&tick_timer, tick, NULL);
    sched_timer_start(&tick_timer, 0, FIRMWARE_TICK_MS);
    health_register(&loop_health, "loop", FIRMWARE_LOOP_TIMEOUT_MS);
    script_boot(system_safe_mode()); /* queued: runs from the loop, after drivers it may start */
    health_start(); /* last: the hardware watchdog runs from here on */
}

void firmware_loop_turn(void)
{
    health_alive(&loop_health);
    sched_run_once(FIRMWARE_TICK_MS);
}

void firmware_main(void)
{
    firmware_boot();
    for (;;)
        firmware_loop_turn();
}
