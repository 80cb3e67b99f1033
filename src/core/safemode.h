/*
 * safemode.h — boot health: counting boots, telling good ones from bad ones,
 * and safe mode.
 *
 * A boot counts as good once it has been up 30 s with every activity alive
 * (health.h).  The count of boots in a row that never got there is kept in a
 * power-cut-safe record (PSM sectors 6-7, reclog.h), together with the boot
 * count and the watchdog and crash reset counts.  A boot is bad when it
 * dies unplanned after the firmware has run — a watchdog reset, a crash —
 * or is restarted by a script (a restart loop); a power cut is not a fault
 * of the firmware and counts neither way, a restart a person asked for
 * (console, web, MQTT, button) forgets the bad boots, and so does a boot
 * that becomes good.  After SAFEMODE_BAD_BOOTS bad boots in a row — or
 * after `SafeMode 1` — the plug starts in safe mode: the relays, metering
 * and energy counting, the console, the access point, the web UI and OTA,
 * but no scripts, MQTT or optional drivers (NTP, SSDP), so a bad script or
 * setting cannot keep it from being fixed.  `SafeMode 0` leaves it with a
 * restart (and forgets the bad boots); safe mode entered by bad boots also
 * leaves by itself, logged, after SAFEMODE_EXIT_AFTER_MS of a stable boot.
 */
#ifndef OPENPLUG_SAFEMODE_H
#define OPENPLUG_SAFEMODE_H

#include <stdbool.h>
#include <stdint.h>

#define SAFEMODE_BAD_BOOTS 5
#define SAFEMODE_GOOD_AFTER_MS 30000
#define SAFEMODE_EXIT_AFTER_MS 600000 /* safe mode by bad boots: stable this long, it leaves */

/* Decide this boot's mode and count it (firmware_boot, after system_boot()). */
void safemode_boot(void);
/* Register the SafeMode command. */
void safemode_register(void);

uint32_t safemode_boot_count(void);
uint32_t safemode_watchdog_resets(void);
uint32_t safemode_crash_resets(void);
/* Bad boots in a row before this one. */
uint32_t safemode_bad_boots(void);
bool safemode_boot_is_good(void);
/* Seconds until safe mode leaves by itself; 0 when it will not (not in
 * safe mode, or asked for with SafeMode 1). */
uint32_t safemode_exit_in_s(void);

#endif
