/*
 * firmware.h — start-up order and the main loop.
 *
 * Order matters: the relays are driven from the boot record before anything
 * else (so a reset costs the load no more than a blink), then settings, pins,
 * console and housekeeping start.  Ports call ota_boot_guard() (ota.h) as
 * soon as their flash partitions are known — before their own start-up, so
 * that a firmware on trial which crashes or hangs anywhere is counted and
 * rolled back — and then firmware_main(); tests call firmware_boot() and
 * then run the loop themselves.  The guard writes flash only on trial (a
 * byte; a table on the rollback boot, which restarts at once), so the
 * relays still come first in every boot that goes on.
 */
#ifndef OPENPLUG_FIRMWARE_H
#define OPENPLUG_FIRMWARE_H

#include <stdint.h>

#define FIRMWARE_WATCHDOG_MS 8000 /* hardware watchdog timeout */
#define FIRMWARE_TICK_MS 1000     /* housekeeping period */
#define FIRMWARE_LOOP_TIMEOUT_MS 5000 /* a loop turn longer than this is a stall */

void firmware_boot(void);
/* One turn of the loop (the loop reports itself alive, see health.h). */
void firmware_loop_turn(void);

/* Wi-Fi link figures for STATE (Tasmota's LinkCount and Downtime): times
 * the station connected since boot, and seconds spent not connected since
 * it first did. */
unsigned firmware_wifi_link_count(void);
uint64_t firmware_wifi_downtime_s(void);
void firmware_main(void) __attribute__((noreturn));

#endif
