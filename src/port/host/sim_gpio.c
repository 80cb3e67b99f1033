/*
 * sim_gpio.c — the simulated pins: modes, output latches, levels driven
 * from outside (buttons), single-edge interrupts as on the BL602, and a
 * button model with contact bounce.  Counts output changes per pin so tests
 * can prove the relay never glitches at boot.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

struct sim_pin {
    enum hal_pin_mode mode;
    bool latch;
    int external; /* -1: not driven from outside */
    uint32_t output_changes;
    hal_pin_irq_fn irq_fn;
    void *irq_arg;
    bool irq_enabled;
    enum hal_pin_edge irq_edge;
};

static struct sim_pin pins[SIM_PINS];
static bool pins_ready;

static void init_pins(void)
{
    for (int i = 0; i < SIM_PINS; i++)
        pins[i] = (struct sim_pin){.mode = HAL_PIN_DISABLED, .external = -1};
    pins_ready = true;
}

static struct sim_pin *pin_at(int gpio)
{
    if (!pins_ready)
        init_pins();
    return gpio >= 0 && gpio < SIM_PINS ? &pins[gpio] : NULL;
}

static bool level_of(const struct sim_pin *p)
{
    if (p->mode == HAL_PIN_OUTPUT)
        return p->latch;
    if (p->external >= 0)
        return p->external;
    return p->mode == HAL_PIN_INPUT_PULLUP;
}

int hal_pin_count(void) { return SIM_PINS; }

int hal_pin_mode(int gpio, enum hal_pin_mode mode)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p || mode > HAL_PIN_OUTPUT)
        return HAL_EINVAL;
    p->mode = mode;
    return HAL_OK;
}

int hal_pin_write(int gpio, bool level)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p)
        return HAL_EINVAL;
    if (p->mode == HAL_PIN_OUTPUT && p->latch != level)
        p->output_changes++;
    p->latch = level;
    return HAL_OK;
}

bool hal_pin_read(int gpio)
{
    struct sim_pin *p = pin_at(gpio);
    return p ? level_of(p) : false;
}

int hal_pin_irq_attach(int gpio, enum hal_pin_edge edge, hal_pin_irq_fn fn, void *arg)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p || !fn)
        return HAL_EINVAL;
    if (p->irq_fn)
        return HAL_EBUSY;
    p->irq_fn = fn;
    p->irq_arg = arg;
    p->irq_edge = edge;
    return HAL_OK;
}

int hal_pin_irq_enable(int gpio, enum hal_pin_edge edge, bool enabled)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p || !p->irq_fn)
        return HAL_EINVAL;
    p->irq_edge = edge;
    p->irq_enabled = enabled;
    return HAL_OK;
}

/* Interrupts only ever run from hal_idle(), between loop turns. */
uint32_t hal_irq_lock(void) { return 0; }
void hal_irq_unlock(uint32_t previous) { (void)previous; }

void sim_gpio_external(int gpio, int level)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p)
        return;
    bool before = level_of(p);
    p->external = level;
    bool after = level_of(p);
    if (before != after && p->irq_enabled && after == (p->irq_edge == HAL_EDGE_RISING))
        p->irq_fn(gpio, p->irq_arg);
}

/* A contact closing or opening at t: 0-3 bounces within the first 2 ms. */
static void schedule_contact(int gpio, uint64_t t_us, int settled, int open_level)
{
    int bounces = (int)(sim_random_model() % 4);
    uint64_t t = t_us;
    for (int i = 0; i < bounces; i++) {
        sim_event_schedule((struct sim_event){t, SIM_EVENT_PIN_LEVEL, gpio, settled});
        t += 100 + sim_random_model() % 400;
        sim_event_schedule((struct sim_event){t, SIM_EVENT_PIN_LEVEL, gpio, open_level});
        t += 100 + sim_random_model() % 400;
    }
    sim_event_schedule((struct sim_event){t, SIM_EVENT_PIN_LEVEL, gpio, settled});
}

int sim_gpio_press(int gpio, uint32_t ms, char *error, unsigned error_size)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p || ms < 1 || ms > 60000) {
        snprintf(error, error_size, "press: expected <gpio 0..%d> [ms 1..60000]", SIM_PINS - 1);
        return -1;
    }
    /* A button shorts the pin to the rail opposite its pull resistor. */
    int pressed = p->mode == HAL_PIN_INPUT_PULLDOWN ? 1 : 0;
    uint64_t now = sim_now_us();
    schedule_contact(gpio, now, pressed, -1);
    schedule_contact(gpio, now + (uint64_t)ms * 1000u, -1, pressed);
    return 0;
}

void sim_gpio_json(char *buf, unsigned size)
{
    static const char *const modes[] = {"disabled", "input", "input_pullup", "input_pulldown", "output"};
    unsigned len = (unsigned)snprintf(buf, size, "{");
    for (int gpio = 0; gpio < SIM_PINS && len < size; gpio++) {
        struct sim_pin *p = pin_at(gpio);
        len += (unsigned)snprintf(buf + len, size - len, "%s\"%d\":{\"mode\":\"%s\",\"level\":%d,\"changes\":%u}",
                                  gpio ? "," : "", gpio, modes[p->mode], level_of(p), p->output_changes);
    }
    if (len < size)
        snprintf(buf + len, size - len, "}");
}
