/* meter.c — the running meter, its reading and its calibration; see meter.h. */
#include "meter.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/drivers.h"
#include "core/events.h"
#include "core/io/pins.h"
#include "core/log.h"
#include "core/storage/config.h"
#include "hal/hal.h"

#define METER_DRIVERS 4

/* Each chip is also a startDriver entry; `startable` comes first so the
 * registry's pointer is the slot's. */
struct slot {
    struct driver startable;
    const struct meter_driver *driver;
};
static struct slot slots[METER_DRIVERS];
static unsigned slot_count;

static const struct meter_driver *running;
static bool started_by_name;  /* startDriver chose the chip, not the template */
static struct pin_setting metering_pins[CONFIG_PINS]; /* those the running meter started on */
static struct meter_reading reading;
static uint64_t import_base, export_base; /* what earlier runs counted */
static struct event_listener settings_listener;

float meter_sqrt(float x)
{
    if (!(x > 0))
        return 0;
    float q = x > 1 ? x : 1;
    for (int i = 0; i < 20; i++)
        q = 0.5f * (q + x / q);
    return q;
}

const struct meter_driver *meter_running(void) { return running; }
const struct meter_reading *meter_reading(void) { return &reading; }

void meter_publish(struct meter_reading *r)
{
    r->import_uj += import_base;
    r->export_uj += export_base;
    float p = r->power_w < 0 ? -r->power_w : r->power_w;
    if ((r->valid & METER_HAS_VOLTAGE) && (r->valid & METER_HAS_CURRENT) && !(r->apparent_va > 0))
        r->apparent_va = r->voltage_v * r->current_a;
    /* S may lag P on a bursty load (it is averaged over longer): the
     * factor is at most 1, the reactive power at least 0. */
    r->factor = r->apparent_va > p ? p / r->apparent_va : r->apparent_va > 0 ? 1 : 0;
    r->reactive_var = meter_sqrt(r->apparent_va * r->apparent_va - p * p);
    reading = *r;
    event_publish(&(struct event){.type = EVENT_SENSORS, .source = SOURCE_BOOT});
}

/* ---- Which chip runs ---- */

static void stop_running(void)
{
    if (!running)
        return;
    running->stop();
    for (unsigned i = 0; i < slot_count; i++)
        if (slots[i].driver == running)
            slots[i].startable.running = false;
    LOG_INF("NRG", "%s stopped", running->name);
    running = NULL;
    import_base = reading.import_uj;
    export_base = reading.export_uj;
    reading = (struct meter_reading){.import_uj = import_base, .export_uj = export_base,
                                     .updated_ms = hal_time_ms()};
    event_publish(&(struct event){.type = EVENT_SENSORS, .source = SOURCE_BOOT});
}

static void note_pins(void)
{
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++) {
        struct pin_setting s = config_get()->pins[gpio];
        metering_pins[gpio] = pin_role_meters((enum pin_role)s.role) ? s : (struct pin_setting){0};
    }
}

static bool pins_moved(void)
{
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++) {
        struct pin_setting s = config_get()->pins[gpio];
        if (!pin_role_meters((enum pin_role)s.role))
            s = (struct pin_setting){0};
        if (s.role != metering_pins[gpio].role)
            return true;
    }
    return false;
}

static int run(const struct meter_driver *driver)
{
    stop_running();
    note_pins();
    running = driver; /* first: start() reads its constants */
    int err = driver->start();
    if (err) {
        running = NULL;
        LOG_ERR("NRG", "%s did not start: metering is off", driver->name);
        return err;
    }
    for (unsigned i = 0; i < slot_count; i++)
        if (slots[i].driver == driver)
            slots[i].startable.running = true;
    return 0;
}

void meter_follow_template(void)
{
    const struct meter_driver *want = NULL;
    for (unsigned i = 0; i < slot_count && !want; i++)
        if (slots[i].driver->in_template())
            want = slots[i].driver;
    if (!want && running && started_by_name)
        want = running; /* OpenBeken's form: startDriver names a chip on another's pins */
    if (want == running && !pins_moved())
        return;
    if (!want) {
        started_by_name = false;
        stop_running();
        return;
    }
    run(want);
}

int meter_start(const char *name)
{
    for (unsigned i = 0; i < slot_count; i++) {
        if (strcasecmp(slots[i].driver->name, name) != 0)
            continue;
        if (running == slots[i].driver)
            return 0;
        int err = run(slots[i].driver);
        started_by_name = err == 0;
        return err;
    }
    return -1;
}

bool meter_known(const char *name)
{
    for (unsigned i = 0; i < slot_count; i++)
        if (strcasecmp(slots[i].driver->name, name) == 0)
            return true;
    return false;
}

static int start_by_name(struct driver *self) { return meter_start(self->name); }

/* A new template: on the board first (pins_apply() changes only what
 * differs, so the command's own call after this is no work), then the
 * meter follows it before the command's reply. */
static void on_settings(const struct event *event, void *arg)
{
    (void)arg;
    if (event->type != EVENT_SETTINGS || !(event->value & SETTINGS_PINS))
        return;
    pins_apply(config_get()->pins);
    meter_follow_template();
}

void meter_register(const struct meter_driver *driver)
{
    if (slot_count == METER_DRIVERS)
        return;
    struct slot *s = &slots[slot_count++];
    s->driver = driver;
    s->startable.name = driver->name;
    s->startable.start = start_by_name;
    driver_register(&s->startable);
    if (!settings_listener.fn)
        event_listen(&settings_listener, on_settings, NULL);
}

/* ---- Calibration ---- */

static const struct meter_driver *calibrated_chip(void)
{
    return running ? running : slot_count ? slots[0].driver : NULL;
}

uint32_t meter_constant(enum meter_quantity quantity)
{
    const struct meter_driver *d = calibrated_chip();
    const struct config *c = config_get();
    if (!d)
        return 0;
    if (c->meter_chip != d->id)
        return d->constant_defaults[quantity];
    return quantity == METER_POWER ? c->power_cal : quantity == METER_VOLTAGE ? c->voltage_cal : c->current_cal;
}

int meter_set_constant(enum meter_quantity quantity, uint32_t value)
{
    const struct meter_driver *d = calibrated_chip();
    if (!d)
        return HAL_EINVAL;
    uint32_t before = meter_constant(quantity);
    struct config *next = config_edit();
    if (next->meter_chip != d->id) { /* another chip's constants: start from this one's defaults */
        next->meter_chip = d->id;
        next->power_cal = d->constant_defaults[METER_POWER];
        next->voltage_cal = d->constant_defaults[METER_VOLTAGE];
        next->current_cal = d->constant_defaults[METER_CURRENT];
    }
    *(quantity == METER_POWER ? &next->power_cal : quantity == METER_VOLTAGE ? &next->voltage_cal
                                                                             : &next->current_cal) = value;
    int err = config_update(next);
    if (err)
        return err;
    if (running)
        running->rescale(quantity, (float)value / (float)before);
    return 0;
}

int meter_calibrate(enum meter_quantity quantity, float reference, char *error, unsigned error_size)
{
    static const char *const units[] = {"W", "V", "A"};
    if (!running) {
        snprintf(error, error_size, "metering is not running (a template with metering pins, or startDriver)");
        return -1;
    }
    float measured = running->measured(quantity);
    if (!(measured > 0)) {
        snprintf(error, error_size, "nothing measured yet: plug in a steady load and wait a few seconds");
        return -1;
    }
    float ratio = reference / measured;
    if (!(ratio >= 0.25f && ratio <= 4.0f)) {
        snprintf(error, error_size, "%.3f %s against %.3f %s measured is beyond 4x: check the reference",
                 (double)reference, units[quantity], (double)measured, units[quantity]);
        return -1;
    }
    uint32_t value = (uint32_t)((float)meter_constant(quantity) * ratio + 0.5f);
    if (meter_set_constant(quantity, value) != 0) {
        snprintf(error, error_size, "cannot save the calibration (flash error)");
        return -1;
    }
    LOG_INF("NRG", "calibrated %s: %.3f %s measured, %.3f %s reference (%s)", units[quantity], (double)measured,
            units[quantity], (double)reference, units[quantity], running->name);
    return 0;
}

void meter_write_json(struct json_writer *w)
{
    if (!running) {
        jw_raw(w, "Meter", "null");
        return;
    }
    jw_string(w, "Meter", running->name);
    running->write_stats(w);
}
