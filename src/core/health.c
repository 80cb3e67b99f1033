/* health.c — activities, the software watchdog and the health figures; see health.h. */
#include "health.h"

#include <stdio.h>
#include <string.h>

#include "core/firmware.h"
#include "core/log.h"
#include "core/safemode.h"
#include "core/sched.h"
#include "core/system.h"
#include "hal/hal.h"
#include "hal/hal_net.h"

#define CHECK_MS 1000

static struct health_activity *activities;
static struct sched_timer monitor_timer;
static bool stall_recorded; /* the reset is on its way: feed no more */

void health_register(struct health_activity *activity, const char *name, uint32_t timeout_ms)
{
    activity->name = name;
    activity->timeout_ms = timeout_ms;
    activity->alive_ms = hal_time_ms();
    for (struct health_activity *a = activities; a; a = a->next)
        if (a == activity)
            return;
    activity->next = activities;
    activities = activity;
}

void health_unregister(struct health_activity *activity)
{
    for (struct health_activity **p = &activities; *p; p = &(*p)->next) {
        if (*p == activity) {
            *p = activity->next;
            return;
        }
    }
}

void health_alive(struct health_activity *activity)
{
    if (!activity->wedged)
        activity->alive_ms = hal_time_ms();
}

const struct health_activity *health_stalled(void)
{
    uint64_t now = hal_time_ms();
    for (struct health_activity *a = activities; a; a = a->next)
        if (now - a->alive_ms > a->timeout_ms)
            return a;
    return NULL;
}

bool health_wedge(const char *name)
{
    for (struct health_activity *a = activities; a; a = a->next) {
        if (strcmp(a->name, name) == 0) {
            a->wedged = true;
            LOG_INF("WDG", "test hook: %s wedged", a->name);
            return true;
        }
    }
    return false;
}

/* Feed the hardware watchdog only while everyone is alive. */
static void monitor(void *arg)
{
    (void)arg;
    int64_t wall_ms = hal_wallclock_ms();
    if (wall_ms >= 0)
        system_retain_clock(wall_ms);
    const struct health_activity *stalled = health_stalled();
    if (!stalled) {
        if (!stall_recorded)
            hal_wdt_feed();
        return;
    }
    if (stall_recorded)
        return;
    stall_recorded = true;
    LOG_ERR("WDG", "%s made no progress for %lu ms: the watchdog restarts the plug", stalled->name,
            (unsigned long)(hal_time_ms() - stalled->alive_ms));
    system_watchdog_pending(stalled->name);
}

void health_start(void)
{
    sched_timer_init(&monitor_timer, monitor, NULL);
    sched_timer_start(&monitor_timer, CHECK_MS, CHECK_MS);
    hal_wdt_start(FIRMWARE_WATCHDOG_MS);
}

void health_write_json(struct json_writer *w)
{
    char text[48];
    struct sched_stats stats;
    sched_get_stats(&stats);
    system_uptime(text, sizeof text);
    jw_string(w, "Uptime", text);
    jw_int(w, "UptimeSec", (int64_t)(hal_time_ms() / 1000));
    jw_int(w, "Heap", hal_heap_free() / 1024);
    jw_int(w, "HeapFree", hal_heap_free());
    jw_int(w, "HeapMin", hal_heap_min_free());
    jw_int(w, "Sockets", hal_net_sockets_in_use());
    jw_int(w, "SocketsMax", HAL_NET_SOCKETS_MAX);
    jw_int(w, "LoopLag", (stats.lag_recent_max_us + 999) / 1000);
    jw_int(w, "LoopLagP99", (sched_lag_percentile_us(990) + 999) / 1000);
    jw_int(w, "WatchdogResets", safemode_watchdog_resets());
    jw_int(w, "BootCount", safemode_boot_count());
    system_reset_reason(text, sizeof text);
    jw_string(w, "RestartReason", text);
    jw_int(w, "SafeMode", system_safe_mode());
    jw_int(w, "SafeModeExitIn", safemode_exit_in_s());
}
