/*
 * power_trail.h — the power of the last 10 minutes, one value a second, in
 * RAM: what the web UI's live chart shows at once when a page opens (then
 * it follows the pushed values itself).
 *
 * Filled from the sensor registry's reports (EVENT_SENSORS), so it costs
 * nothing while nothing is measured; a second with no report is a gap.
 * 600 x 2 bytes.  Not persisted: a restart starts it empty.
 */
#ifndef OPENPLUG_POWER_TRAIL_H
#define OPENPLUG_POWER_TRAIL_H

#include <stdbool.h>
#include <stdint.h>

#define POWER_TRAIL_SECONDS 600

void power_trail_start(void);

/* Power in second `i` of the trail (0 = the oldest, POWER_TRAIL_SECONDS - 1
 * = the newest), in tenths of a watt; false for a gap (nothing measured). */
bool power_trail_at(unsigned i, uint32_t *deciwatts);
/* Uptime in ms of the newest second's report, 0 when the trail is empty. */
uint64_t power_trail_newest_ms(void);

#endif
