/* system.c — restart reasons, uptime, planned restarts; see system.h. */
#include "system.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/io/channels.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "core/util/crc32.h"
#include "hal/hal.h"

#define RESTART_DELAY_MS 100 /* lets the reply leave first */
#define RETAINED_MAGIC 0x4F505257u /* "OPRW" */

/* What the core keeps in the HAL's retained area across a reset.  The
 * clock is rewritten every second: it is checked by its complement, not
 * the CRC, to keep that cheap. */
struct retained_reason {
    uint32_t magic;
    char activity[16]; /* the stalled activity, NUL-terminated; "" = none */
    uint32_t check;    /* CRC-32 of the above */
    int64_t wall_ms;   /* the wall clock a moment before the reset, -1 unknown */
    int64_t wall_ms_complement; /* ~wall_ms */
};
_Static_assert(sizeof(struct retained_reason) <= HAL_RETAINED_SIZE, "fits the retained area");

static struct retained_reason retained = {.magic = RETAINED_MAGIC, .wall_ms = -1, .wall_ms_complement = 0};
static int64_t wall_before_reset_ms = -1;

static struct sched_timer restart_timer;
static uint32_t restart_code;

static enum boot_cause boot_cause = BOOT_POWER_ON;
static uint32_t boot_code;
static char stalled_activity[16];

/* A factory reset erases these areas, one sector per loop turn. */
static bool (*const factory_areas[])(uint16_t *step) = {config_erase_step, channels_erase_step};
static unsigned erase_area;
static uint16_t erase_sector;

static uint32_t reason_code(enum restart_kind kind, enum source source)
{
    return HAL_RESET_USER | (uint32_t)kind << 4 | (uint32_t)source;
}

static uint32_t retained_check(const struct retained_reason *r)
{
    return crc32_update(0, r, offsetof(struct retained_reason, check));
}

static void retained_save(void)
{
    retained.check = retained_check(&retained);
    hal_retained_write(&retained, sizeof retained);
}

void system_boot(void)
{
    struct retained_reason r;
    hal_retained_read(&r, sizeof r);
    bool valid = r.magic == RETAINED_MAGIC && r.check == retained_check(&r);
    bool stall_recorded = valid && r.activity[0];
    if (r.wall_ms > 0 && r.wall_ms_complement == ~r.wall_ms)
        wall_before_reset_ms = r.wall_ms;
    boot_code = hal_reset_cause();
    switch (boot_code) {
    case HAL_RESET_POWER_ON: boot_cause = BOOT_POWER_ON; break;
    case HAL_RESET_CRASH: boot_cause = BOOT_CRASH; break;
    case HAL_RESET_WATCHDOG:
        boot_cause = BOOT_WATCHDOG;
        if (stall_recorded) {
            memcpy(stalled_activity, r.activity, sizeof stalled_activity);
            stalled_activity[sizeof stalled_activity - 1] = '\0';
        } else {
            strcpy(stalled_activity, "loop"); /* the monitor itself stopped */
        }
        break;
    default:
        boot_cause = (boot_code & ~0xFFu) == HAL_RESET_USER ? BOOT_PLANNED : BOOT_OTHER;
        break;
    }
    retained_save(); /* no stall, no clock: nothing of this run explains a later reset yet */
}

int64_t system_wall_before_reset_ms(void) { return boot_cause == BOOT_POWER_ON ? -1 : wall_before_reset_ms; }

void system_retain_clock(int64_t wall_ms)
{
    retained.wall_ms = wall_ms;
    retained.wall_ms_complement = ~wall_ms;
    hal_retained_write(&retained, sizeof retained);
}

enum boot_cause system_boot_cause(void) { return boot_cause; }
enum restart_kind system_boot_restart_kind(void) { return (enum restart_kind)(boot_code >> 4 & 0xF); }
enum source system_boot_restart_source(void) { return (enum source)(boot_code & 0xF); }

void system_watchdog_pending(const char *activity)
{
    memset(retained.activity, 0, sizeof retained.activity);
    strncpy(retained.activity, activity, sizeof retained.activity - 1);
    retained_save();
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

static const char *kind_name(unsigned kind)
{
    static const char *const names[] = {NULL, "Restart command", "Factory reset", "OTA update", "Safe mode entry",
                                        "Safe mode exit", "OTA rollback", "Restore"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : NULL;
}

void system_restart(enum restart_kind kind, enum source source)
{
    restart_code = reason_code(kind, source);
    erase_area = 0;
    erase_sector = 0;
    LOG_INF("SYS", "%s requested (%s)", kind == RESTART_FACTORY_RESET ? "factory reset" : kind == RESTART_OTA ? "restart into the update" : "restart",
            source_name(source));
    if (!restart_timer.fn)
        sched_timer_init(&restart_timer, restart_step, NULL);
    sched_timer_start(&restart_timer, RESTART_DELAY_MS, 0); /* a second request restarts the delay */
    event_publish(&(struct event){.type = EVENT_RESTART, .value = kind, .source = source});
}

void system_restart_now(enum restart_kind kind, enum source source)
{
    hal_reboot(reason_code(kind, source));
}

void system_reset_reason(char *buf, size_t size)
{
    const char *what = kind_name(boot_code >> 4 & 0xF);
    switch (boot_cause) {
    case BOOT_POWER_ON: snprintf(buf, size, "Power on"); return;
    case BOOT_CRASH: snprintf(buf, size, "Crash"); return;
    case BOOT_WATCHDOG: snprintf(buf, size, "Watchdog (%s)", stalled_activity); return;
    case BOOT_PLANNED:
        if (what) {
            snprintf(buf, size, "%s (%s)", what, source_name((enum source)(boot_code & 0xF)));
            return;
        }
        break;
    case BOOT_OTHER: break;
    }
    if (boot_code == HAL_RESET_SOFTWARE)
        snprintf(buf, size, "Software restart");
    else
        snprintf(buf, size, "Unknown (0x%lx)", (unsigned long)boot_code);
}

void system_duration(uint64_t seconds, char *buf, size_t size)
{
    unsigned long s = (unsigned long)seconds;
    snprintf(buf, size, "%luT%02lu:%02lu:%02lu", s / 86400, s / 3600 % 24, s / 60 % 60, s % 60);
}

void system_uptime(char *buf, size_t size) { system_duration(hal_time_ms() / 1000, buf, size); }
