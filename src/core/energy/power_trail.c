/* power_trail.c — a ring of the last 600 one-second power readings; see
 * power_trail.h. */
#include "power_trail.h"

#include <stddef.h>

#include "core/energy/meter.h"
#include "core/events.h"

#define GAP 0xFFFFu
#define MAX_DECIWATTS 0xFFFEu /* 6553.4 W: more than a 16 A plug can switch */

static uint16_t ring[POWER_TRAIL_SECONDS]; /* indexed by uptime second modulo the size */
static uint64_t newest_second;             /* uptime second of the newest reading */
static uint64_t newest_ms;                 /* 0: empty */
static struct event_listener listener;

static void clear(uint64_t from_second, uint64_t to_second)
{
    for (uint64_t s = from_second; s <= to_second && s - from_second < POWER_TRAIL_SECONDS; s++)
        ring[s % POWER_TRAIL_SECONDS] = GAP;
}

static void on_sensors(const struct event *event, void *arg)
{
    (void)arg;
    const struct meter_reading *v = meter_reading();
    if (event->type != EVENT_SENSORS || !v->valid)
        return;
    uint64_t second = v->updated_ms / 1000;
    if (newest_ms && second < newest_second)
        return; /* a report older than the newest: never (uptime) */
    if (!newest_ms)
        clear(0, POWER_TRAIL_SECONDS - 1);
    else if (second > newest_second)
        clear(newest_second + 1, second - 1); /* seconds nobody reported */
    float dw = v->power_w * 10.0f + 0.5f;
    ring[second % POWER_TRAIL_SECONDS] = dw <= 0 ? 0 : dw >= MAX_DECIWATTS ? MAX_DECIWATTS : (uint16_t)dw;
    newest_second = second;
    newest_ms = v->updated_ms ? v->updated_ms : 1;
}

void power_trail_start(void) { event_listen(&listener, on_sensors, NULL); }

bool power_trail_at(unsigned i, uint32_t *deciwatts)
{
    if (!newest_ms || i >= POWER_TRAIL_SECONDS)
        return false;
    uint64_t back = POWER_TRAIL_SECONDS - 1 - i;
    if (back > newest_second)
        return false; /* before the first second of uptime */
    uint16_t value = ring[(newest_second - back) % POWER_TRAIL_SECONDS];
    if (value == GAP)
        return false;
    *deciwatts = value;
    return true;
}

uint64_t power_trail_newest_ms(void) { return newest_ms; }
