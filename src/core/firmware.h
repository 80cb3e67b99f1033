/*
 * firmware.h — start-up order and the main loop.
 *
 * Order matters: the relays are driven from the boot record before anything
 * else (so a reset costs the load no more than a blink), then settings, pins,
 * console and housekeeping start.  Ports call firmware_main(); tests call
 * firmware_boot() and then run the loop themselves.
 */
#ifndef OPENPLUG_FIRMWARE_H
#define OPENPLUG_FIRMWARE_H

#define FIRMWARE_WATCHDOG_MS 8000 /* hardware watchdog timeout */
#define FIRMWARE_TICK_MS 1000     /* housekeeping period */

void firmware_boot(void);
void firmware_main(void) __attribute__((noreturn));

#endif
