/*
 * system.h — the device as a whole: why it restarted, how long it has been
 * up, and planned restarts and factory resets.
 *
 * Restarts are planned, not immediate: the reply to the command that asked
 * goes out first, then the reason (kind and who asked) is handed to the next
 * boot through hal_reboot().  A factory reset erases the settings one
 * sector per loop turn (an erase holds interrupts off), then restarts.
 *
 * Unplanned resets are told apart too: the watchdog monitor (health.c)
 * writes which activity stalled into the HAL's retained area before the
 * hardware watchdog fires; a reset by the watchdog with nothing written
 * there is a main loop that stopped turning ("Watchdog (loop)"); a fatal
 * exception is a crash.  system_boot() reads all that once per boot.
 */
#ifndef OPENPLUG_SYSTEM_H
#define OPENPLUG_SYSTEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/events.h"

#define OPENPLUG_NAME "OpenPlug"
#ifndef OPENPLUG_VERSION
#define OPENPLUG_VERSION "0.0.0-dev"
#endif

enum restart_kind {
    RESTART_COMMAND = 1,       /* Restart 1 */
    RESTART_FACTORY_RESET = 2, /* Reset 1 */
    RESTART_OTA = 3,           /* a new firmware is in place */
    RESTART_SAFE_MODE_ENTER = 4, /* SafeMode 1 */
    RESTART_SAFE_MODE_EXIT = 5,  /* SafeMode 0 */
    RESTART_OTA_ROLLBACK = 6,    /* a firmware on trial used up its boots: the old slot again */
    RESTART_RESTORE = 7,         /* a backup was staged: the next boot applies it */
};

/* Why this boot happened, as a class. */
enum boot_cause {
    BOOT_POWER_ON,
    BOOT_PLANNED,  /* one of the restart kinds above */
    BOOT_WATCHDOG, /* an activity stalled, or the loop stopped */
    BOOT_CRASH,    /* a fatal exception */
    BOOT_OTHER,
};

/* Read why this boot happened (once, first thing at boot; clears the
 * retained record so that it cannot explain a later reset). */
void system_boot(void);
enum boot_cause system_boot_cause(void);
/* For BOOT_PLANNED: the kind and who asked. */
enum restart_kind system_boot_restart_kind(void);
enum source system_boot_restart_source(void);

/* Plan a restart (or a factory reset and restart) a moment from now. */
void system_restart(enum restart_kind kind, enum source source);

/* Restart at once, handing the reason to the next boot: for start-up code
 * that runs before the loop (nothing to reply to, nothing to wait for). */
void system_restart_now(enum restart_kind kind, enum source source) __attribute__((noreturn));

/* The watchdog monitor: `activity` stalled, the hardware watchdog will
 * reset the chip; keep the name for the next boot. */
void system_watchdog_pending(const char *activity);

/* The wall clock, kept in the retained area every second (by the
 * monitor), so that a reset of any kind — restart, watchdog, crash — does
 * not lose the time of day (a power cut does: the BL602 has no RTC).
 * At boot: the clock as it was a moment before the reset, -1 if unknown. */
void system_retain_clock(int64_t wall_ms);
int64_t system_wall_before_reset_ms(void);

/* Why this boot happened, in words ("Power on", "Restart command (web)",
 * "Watchdog (mqtt)", "Crash"). */
void system_reset_reason(char *buf, size_t size);

/* Uptime as Tasmota prints it: "1T02:03:04". */
void system_uptime(char *buf, size_t size);
/* Any duration in the same form. */
void system_duration(uint64_t seconds, char *buf, size_t size);

#endif
