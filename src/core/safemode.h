/*
 * safemode.h — boot health: counting boots, telling good ones from bad ones,
 * and safe mode.
 *
 * A boot counts as good once it has been up 30 s with every activity alive
 * (health.h).  The count of boots in a row that never got there is kept in a
 * power-cut-safe record (PSM sectors 6-7, reclog.h), together with the boot
 * count and the watchdog and crash reset counts.  A restart a person asked
 * for (console, web, MQTT, button) ends a boot that was fine and does not
 * count as bad; power cuts, watchdog resets, crashes and restarts by
 * scripts do.  After SAFEMODE_BAD_BOOTS bad boots in a row — or after
 * `SafeMode 1` — the plug starts in safe mode: the relays, the console, the
 * access point, the web UI and OTA, but no drivers, scripts or MQTT, so a
 * bad script or setting cannot keep it from being fixed.  `SafeMode 0`
 * leaves it with a restart (and forgets the bad boots); a safe-mode boot
 * that becomes good also forgets them, so any later restart is a normal one.
 */
#ifndef OPENPLUG_SAFEMODE_H
#define OPENPLUG_SAFEMODE_H

#include <stdbool.h>
#include <stdint.h>

#define SAFEMODE_BAD_BOOTS 5
#define SAFEMODE_GOOD_AFTER_MS 30000

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

#endif
