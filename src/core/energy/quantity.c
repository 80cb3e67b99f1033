/* quantity.c — the quantities' table and its writers; see quantity.h. */
#include "quantity.h"

#include "core/energy/meter.h"

/* clang-format off */
const struct quantity quantities[Q_COUNT] = {
    [Q_TOTAL] = {"Total", "total_kwh", "openplug_energy_total_kwh", "counter", "Energy counted since TotalStartTime.",
                 "Energy total", "energy_total", "kWh", 3, 0, "energy_total", "energy", "total_increasing"},
    /* A value that changes once a day, not a meter: no state class (HA would
     * count its rises as consumption), as HA's Tasmota integration has it. */
    [Q_YESTERDAY] = {"Yesterday", "yesterday_kwh", "openplug_energy_yesterday_kwh", "gauge", "Energy counted yesterday.",
                     "Energy yesterday", NULL, "kWh", 3, 0, "energy_yesterday", "energy", NULL},
    [Q_TODAY] = {"Today", "today_kwh", "openplug_energy_today_kwh", "gauge", "Energy counted today.",
                 "Energy today", "energy_today", "kWh", 3, 0, "energy_today", "energy", "total_increasing"},
    [Q_POWER] = {"Power", "power_w", "openplug_power_watts", "gauge", "Active power.",
                 "Power", "power", "W", 2, METER_HAS_POWER, "power", "power", "measurement"},
    [Q_APPARENT] = {"ApparentPower", "apparent_va", "openplug_apparent_power_voltamperes", "gauge", "Apparent power.",
                    NULL, NULL, "VA", 2, METER_HAS_VOLTAGE | METER_HAS_CURRENT, NULL, NULL, NULL},
    [Q_REACTIVE] = {"ReactivePower", "reactive_var", NULL, NULL, NULL,
                    NULL, NULL, "var", 2, METER_HAS_POWER | METER_HAS_VOLTAGE | METER_HAS_CURRENT, NULL, NULL, NULL},
    [Q_FACTOR] = {"Factor", "factor", "openplug_power_factor", "gauge", "Power factor, 0..1.",
                  "Power factor", NULL, NULL, 2, METER_HAS_POWER | METER_HAS_VOLTAGE | METER_HAS_CURRENT,
                  "power_factor", "power_factor", "measurement"},
    [Q_FREQUENCY] = {"Frequency", "frequency_hz", "openplug_frequency_hertz", "gauge", "Mains frequency.",
                     "Frequency", "frequency", "Hz", 2, METER_HAS_FREQUENCY, "frequency", "frequency", "measurement"},
    [Q_VOLTAGE] = {"Voltage", "voltage_v", "openplug_voltage_volts", "gauge", "Mains voltage (rms).",
                   "Voltage", "voltage", "V", 1, METER_HAS_VOLTAGE, "voltage", "voltage", "measurement"},
    [Q_CURRENT] = {"Current", "current_a", "openplug_current_amperes", "gauge", "Load current (rms).",
                   "Current", "current", "A", 3, METER_HAS_CURRENT, "current", "current", "measurement"},
};
/* clang-format on */

static const int64_t scale[] = {1, 10, 100, 1000};

static float measured(enum quantity_id id, const struct meter_reading *r)
{
    switch (id) {
    case Q_POWER: return r->power_w;
    case Q_APPARENT: return r->apparent_va;
    case Q_REACTIVE: return r->reactive_var;
    case Q_FACTOR: return r->factor;
    case Q_FREQUENCY: return r->frequency_hz;
    case Q_VOLTAGE: return r->voltage_v;
    case Q_CURRENT: return r->current_a;
    default: return 0;
    }
}

bool quantity_fixed(enum quantity_id id, const struct energy_counters *c, int64_t *fixed)
{
    const struct quantity *q = &quantities[id];
    if (!q->needs) { /* Wh are kWh with 3 decimals */
        *fixed = energy_wh(id == Q_TOTAL ? c->total_uj : id == Q_TODAY ? c->today_uj : c->yesterday_uj);
        return true;
    }
    const struct meter_reading *r = meter_reading();
    if ((r->valid & q->needs) != q->needs)
        return false;
    float v = measured(id, r) * (float)scale[q->decimals];
    *fixed = (int64_t)(v < 0 ? v - 0.5f : v + 0.5f);
    return true;
}

double quantity_number(enum quantity_id id)
{
    int64_t fixed;
    if (!quantity_fixed(id, energy_counters(), &fixed))
        return 0;
    return (double)fixed / (double)scale[quantities[id].decimals];
}

void quantity_write(struct json_writer *w, enum quantity_id first, enum quantity_id last, enum quantity_style style,
                    const struct energy_counters *counters)
{
    const struct meter_driver *meter = meter_running();
    for (enum quantity_id id = first; id < last; id++) {
        const struct quantity *q = &quantities[id];
        int64_t fixed;
        bool known = quantity_fixed(id, counters, &fixed);
        if (!known && style == QUANTITY_SAMPLE && meter && (meter->measures & q->needs) == q->needs)
            fixed = 0, known = true;
        if (known)
            jw_fixed(w, style == QUANTITY_JSON ? q->json : q->tasmota, fixed, q->decimals);
    }
}
