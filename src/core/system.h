/*
 * system.h — the device as a whole: why it restarted, how long it has been
 * up, and planned restarts and factory resets.
 *
 * Restarts are planned, not immediate: the reply to the command that asked
 * goes out first, then the reason (kind and who asked) is handed to the next
 * boot through hal_reboot().  A factory reset erases the settings one
 * sector per loop turn (an erase holds interrupts off), then restarts.
 */
#ifndef OPENPLUG_SYSTEM_H
#define OPENPLUG_SYSTEM_H

#include <stddef.h>
#include <stdint.h>

#include "core/events.h"

#define OPENPLUG_NAME "OpenPlug"
#ifndef OPENPLUG_VERSION
#define OPENPLUG_VERSION "0.0.0-dev"
#endif

enum restart_kind { RESTART_COMMAND = 1, RESTART_FACTORY_RESET = 2 };

/* Plan a restart (or a factory reset and restart) a moment from now. */
void system_restart(enum restart_kind kind, enum source source);

/* Why this boot happened, in words ("Power on", "Restart command (web)"). */
void system_reset_reason(char *buf, size_t size);

/* Uptime as Tasmota prints it: "1T02:03:04". */
void system_uptime(char *buf, size_t size);

#endif
