/* system.c — restart reasons, uptime, planned restarts; see system.h. */
#include "system.h"

#include <stdio.h>

#include "core/io/channels.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "hal/hal.h"

#define RESTART_DELAY_MS 100 /* lets the reply leave first */

static struct sched_timer restart_timer;
static uint32_t restart_code;

/* A factory reset erases these areas, one sector per loop turn. */
static bool (*const factory_areas[])(uint16_t *step) = {config_erase_step, channels_erase_step};
static unsigned erase_area;
static uint16_t erase_sector;

static uint32_t reason_code(enum restart_kind kind, enum source source)
{
    return HAL_RESET_USER | (uint32_t)kind << 4 | (uint32_t)source;
}

static void restart_step(void *arg)
{
    (void)arg;
    bool factory_reset = (restart_code >> 4 & 0xF) == RESTART_FACTORY_RESET;
    if (factory_reset && erase_area < sizeof factory_areas / sizeof factory_areas[0]) {
        if (!factory_areas[erase_area](&erase_sector)) {
            erase_area++;
            erase_sector = 0;
        }
        sched_timer_start(&restart_timer, 1, 0);
        return;
    }
    LOG_INF("SYS", "restarting");
    hal_reboot(restart_code);
}

void system_restart(enum restart_kind kind, enum source source)
{
    restart_code = reason_code(kind, source);
    erase_area = 0;
    erase_sector = 0;
    LOG_INF("SYS", "%s requested (%s)", kind == RESTART_FACTORY_RESET ? "factory reset" : "restart",
            source_name(source));
    if (!restart_timer.fn)
        sched_timer_init(&restart_timer, restart_step, NULL);
    sched_timer_start(&restart_timer, RESTART_DELAY_MS, 0); /* a second request restarts the delay */
}

void system_reset_reason(char *buf, size_t size)
{
    uint32_t code = hal_reset_cause();
    switch (code) {
    case HAL_RESET_POWER_ON: snprintf(buf, size, "Power on"); return;
    case HAL_RESET_WATCHDOG: snprintf(buf, size, "Hardware watchdog"); return;
    case HAL_RESET_SOFTWARE: snprintf(buf, size, "Software restart"); return;
    default: break;
    }
    unsigned kind = code >> 4 & 0xF;
    const char *what = kind == RESTART_COMMAND ? "Restart command" : kind == RESTART_FACTORY_RESET ? "Factory reset" : NULL;
    if ((code & ~0xFFu) == HAL_RESET_USER && what)
        snprintf(buf, size, "%s (%s)", what, source_name((enum source)(code & 0xF)));
    else
        snprintf(buf, size, "Unknown (0x%lx)", (unsigned long)code);
}

void system_uptime(char *buf, size_t size)
{
    unsigned long s = (unsigned long)(hal_time_ms() / 1000);
    snprintf(buf, size, "%luT%02lu:%02lu:%02lu", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
}
