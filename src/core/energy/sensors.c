/* sensors.c — the measured-values registry; see sensors.h. */
#include "sensors.h"

#include "core/events.h"

static struct energy_values energy;

void sensors_publish_energy(const struct energy_values *values)
{
    energy = *values;
    event_publish(&(struct event){.type = EVENT_SENSORS, .source = SOURCE_BOOT});
}

const struct energy_values *sensors_energy(void) { return &energy; }
