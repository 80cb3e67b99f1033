/*
 * script.h — the plug's own automation: the startup command, autoexec.bat,
 * event handlers, repeating and clock events (OpenBeken's commands).
 *
 * Everything a script does runs from one cooperative runner in the main
 * loop: the startup command, autoexec.bat and each firing of a handler
 * become a "run" in a small queue, and the runner executes at most
 * SCRIPT_STEPS_PER_TURN commands per loop turn, so no script can starve
 * the loop or the watchdog.  `delay_s` parks a run until its time.  Events
 * never run commands synchronously (the command that caused the event may
 * still be replying): they queue a run.  A handler firing more than
 * SCRIPT_RUNAWAY_PER_S times in a second (an event loop such as
 * OnChannelChange toggling its own channel) is disabled with a log line;
 * a full queue drops the new run with a log line.
 *
 * Commands executed by a run see variables expanded first ($CH1, $power,
 * $voltage, $current, $energy_today, $energy_total, $hour, $minute,
 * $second, $weekday, $uptime): see script_vars.c.
 */
#ifndef OPENPLUG_SCRIPT_H
#define OPENPLUG_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/events.h"

#define SCRIPT_RUNS_MAX 8        /* runs queued or parked at once */
#define SCRIPT_TEXT_MAX 512      /* inline text of one run (CMD_LINE_MAX) */
#define SCRIPT_STEPS_PER_TURN 4  /* commands per loop turn, all runs together */
#define SCRIPT_RUNAWAY_PER_S 20  /* firings of one handler per second that disable it */
#define SCRIPT_AUTOEXEC "autoexec.bat"

/* Register the scripting commands and listen to events (at boot, before
 * the settings are read). */
void script_register(void);

/* At the end of boot: queue the startup command and autoexec.bat, unless
 * `safe_mode` (then say so in the log). */
void script_boot(bool safe_mode);

/* Queue commands (';'-separated) as a run named `label`.  Returns 0, or -1
 * when the queue is full (logged). */
int script_queue_text(const char *label, const char *text);
/* Queue a file of the file store, one command a line. */
int script_queue_file(const char *name);

/* Stop every run, queued or parked in delay_s (OpenBeken's
 * stopAllScripts); event tables stay (clearEvents).  Returns how many. */
unsigned script_stop_all(void);

struct script_stats {
    uint32_t commands;  /* executed by runs since boot */
    uint32_t errors;    /* of which replied Unknown / Error */
    uint32_t dropped;   /* runs refused: queue full */
    uint32_t runaways;  /* handlers disabled for firing too often */
    uint8_t queued;     /* runs in the queue now */
};
void script_get_stats(struct script_stats *out);

#endif
