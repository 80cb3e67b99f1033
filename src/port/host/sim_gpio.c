/*
 * sim_gpio.c — the simulated pins: modes, output latches, levels driven
 * from outside (buttons, the BL0937), single-edge interrupts as on the
 * BL602, and a button model with contact bounce.  Counts output changes per
 * pin so tests can prove the relay never glitches at boot.
 *
 * Interrupts, as the BL602 delivers them: an edge on a pin whose interrupt
 * is enabled sets the pin's pending latch; the interrupt is delivered when
 * interrupts are not held off, --irq-jitter-us N adding a uniform 0..N us
 * of latency.  Further edges while the latch is set collapse into it (the
 * handler runs once).  Interrupts are held off during flash operations
 * (sim_gpio_hold_off, from sim_busy_wait_us) and during --blackout MS/EVERY_S
 * windows ([k*EVERY, k*EVERY + MS) of device time, k >= 1).  A pin whose
 * interrupt the firmware has not enabled may carry a probe (--irq-probe): a
 * simulator-side consumer that only counts, so tests can see what a driver
 * would get.  Per pin: interrupts delivered, edges collapsed, latency.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

struct sim_pin {
    enum hal_pin_mode mode;
    bool latch;
    int external; /* -1: not driven from outside */
    uint32_t output_changes;
    int pwm; /* duty in permille while a PWM wave drives the pin, else -1 */
    hal_pin_irq_fn irq_fn;
    void *irq_arg;
    bool irq_enabled;
    enum hal_pin_edge irq_edge;
    int probe_edge; /* -1: no probe */
    bool pending;   /* the interrupt latch */
    int generation; /* of the latch, to recognise its delivery event */
    uint64_t pending_since;
    struct sim_irq_stats stats;
};

static struct sim_pin pins[SIM_PINS];
static bool pins_ready;
static uint64_t firmware_irqs;

static void init_pins(void)
{
    for (int i = 0; i < SIM_PINS; i++)
        pins[i] = (struct sim_pin){.mode = HAL_PIN_DISABLED, .external = -1, .probe_edge = -1, .pwm = -1,
                                   .stats.latency_min_us = UINT64_MAX};
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

static bool is_chip_output(int gpio) { return gpio == SIM_BL0937_CF_GPIO || gpio == SIM_BL0937_CF1_GPIO; }

/* ---- Interrupt hold-offs ---- */

#define HOLD_MAX 8 /* recent flash waits; older ones are long past */
static struct {
    uint64_t from, until;
} holds[HOLD_MAX];
static unsigned hold_next;

void sim_gpio_hold_off(uint64_t from_us, uint64_t until_us)
{
    if (until_us <= from_us)
        return;
    unsigned last = (hold_next + HOLD_MAX - 1) % HOLD_MAX;
    if (holds[last].until >= from_us && holds[last].from <= from_us) { /* back to back: one */
        if (until_us > holds[last].until)
            holds[last].until = until_us;
        return;
    }
    holds[hold_next].from = from_us;
    holds[hold_next].until = until_us;
    hold_next = (hold_next + 1) % HOLD_MAX;
}

/* The first instant at or after t when interrupts are not held off. */
static uint64_t held_until(uint64_t t)
{
    uint64_t every = (uint64_t)(sim_opt.blackout_every_s * 1e6), length = (uint64_t)(sim_opt.blackout_ms * 1e3);
    for (bool moved = true; moved;) {
        moved = false;
        for (int i = 0; i < HOLD_MAX; i++) {
            if (holds[i].from <= t && t < holds[i].until) {
                t = holds[i].until;
                moved = true;
            }
        }
        if (every && length && t >= every && t % every < length) {
            t = t - t % every + length;
            moved = true;
        }
    }
    return t;
}

/* ---- Pin interrupts ---- */

int sim_gpio_irq_edge(int gpio)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p)
        return -1;
    if (p->irq_fn && p->irq_enabled)
        return (int)p->irq_edge;
    return p->probe_edge;
}

/* The handler runs with the firmware's clock at `due_us`, the instant the
 * chip would have taken the interrupt (sim_clock_irq_enter). */
static void deliver(int gpio, struct sim_pin *p, uint64_t due_us)
{
    p->pending = false;
    if (sim_gpio_irq_edge(gpio) < 0)
        return; /* disabled meanwhile */
    uint64_t latency = sim_now_us() - p->pending_since;
    p->stats.delivered++;
    p->stats.latency_sum_us += latency;
    if (latency < p->stats.latency_min_us)
        p->stats.latency_min_us = latency;
    if (latency > p->stats.latency_max_us)
        p->stats.latency_max_us = latency;
    if (p->irq_fn && p->irq_enabled) {
        firmware_irqs++;
        sim_clock_irq_enter(due_us);
        p->irq_fn(gpio, p->irq_arg);
        sim_clock_irq_exit();
    }
}

/* An edge the pin's interrupt is armed for, at device time t. */
static void latch(int gpio, struct sim_pin *p, uint64_t t)
{
    if (p->pending) {
        p->stats.collapsed++;
        return;
    }
    p->pending = true;
    p->pending_since = t;
    p->generation = (p->generation + 1) & 0x7fffffff;
    uint64_t at = held_until(t);
    if (sim_opt.irq_jitter_us)
        at += sim_random_model() % ((uint64_t)sim_opt.irq_jitter_us + 1);
    /* Interrupts run only from hal_idle(), never inside the firmware's code. */
    if (at == t && sim_events_delivering()) {
        deliver(gpio, p, t);
        return;
    }
    if (!sim_event_schedule((struct sim_event){at, SIM_EVENT_PIN_IRQ, gpio, p->generation}))
        p->pending = false; /* queue full: lost (never seen in practice) */
}

void sim_gpio_irq_event(int gpio, int generation, uint64_t t_us)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p || !p->pending || p->generation != generation)
        return; /* disabled, or delivered, meanwhile */
    uint64_t free_at = held_until(t_us);
    if (free_at != t_us) { /* a hold-off began after the edge */
        if (!sim_event_schedule((struct sim_event){free_at, SIM_EVENT_PIN_IRQ, gpio, generation}))
            p->pending = false;
        return;
    }
    deliver(gpio, p, t_us);
}

void sim_gpio_probe(int gpio, int edge)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p)
        return;
    sim_bl0937_irq_changing(gpio);
    p->probe_edge = edge;
    sim_bl0937_irq_changed(gpio);
}

void sim_gpio_irq_stats(int gpio, struct sim_irq_stats *out)
{
    struct sim_pin *p = pin_at(gpio);
    *out = p ? p->stats : (struct sim_irq_stats){.latency_min_us = UINT64_MAX};
}

uint64_t sim_gpio_firmware_irqs(void) { return firmware_irqs; }

/* ---- The HAL ---- */

int hal_pin_count(void) { return SIM_PINS; }

int hal_pin_mode(int gpio, enum hal_pin_mode mode)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p || mode > HAL_PIN_OUTPUT)
        return HAL_EINVAL;
    bool before = level_of(p);
    p->mode = mode;
    if (mode != HAL_PIN_OUTPUT)
        p->pwm = -1;
    if (level_of(p) != before)
        sim_bl0937_pin_changed(gpio);
    return HAL_OK;
}

int hal_pin_write(int gpio, bool level)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p)
        return HAL_EINVAL;
    bool before = level_of(p);
    if (p->mode == HAL_PIN_OUTPUT && (p->latch != level || p->pwm >= 0))
        p->output_changes++;
    p->latch = level;
    p->pwm = -1; /* a level ends a PWM wave */
    if (level_of(p) != before)
        sim_bl0937_pin_changed(gpio);
    return HAL_OK;
}

/* The BL602's five PWM units: GPIO n is on unit n % 5, one pin at a time. */
#define SIM_PWM_UNITS 5

int hal_pin_pwm(int gpio, uint16_t permille)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p || permille > 1000)
        return HAL_EINVAL;
    if (permille == 0 || permille == 1000) {
        p->pwm = -1;
        return hal_pin_write(gpio, permille == 1000);
    }
    for (int other = gpio % SIM_PWM_UNITS; other < SIM_PINS; other += SIM_PWM_UNITS)
        if (other != gpio && pins[other].pwm >= 0)
            return HAL_EBUSY;
    if (p->pwm < 0 && p->mode == HAL_PIN_OUTPUT)
        p->output_changes++;
    p->pwm = permille;
    return HAL_OK;
}

bool hal_pin_read(int gpio)
{
    struct sim_pin *p = pin_at(gpio);
    if (p && is_chip_output(gpio))
        sim_bl0937_sync(gpio); /* the chip's pins are brought up to now when looked at */
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
    return HAL_OK; /* starts disabled: nothing changes yet */
}

int hal_pin_irq_enable(int gpio, enum hal_pin_edge edge, bool enabled)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p || !p->irq_fn)
        return HAL_EINVAL;
    sim_bl0937_irq_changing(gpio);
    p->irq_edge = edge;
    p->irq_enabled = enabled;
    if (sim_gpio_irq_edge(gpio) < 0)
        p->pending = false; /* masked: a latched edge is dropped */
    sim_bl0937_irq_changed(gpio);
    return HAL_OK;
}

/* Interrupts only ever run from hal_idle(), between loop turns. */
uint32_t hal_irq_lock(void) { return 0; }
void hal_irq_unlock(uint32_t previous) { (void)previous; }

void sim_gpio_external_at(int gpio, int level, uint64_t t_us)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p)
        return;
    bool before = level_of(p);
    p->external = level;
    bool after = level_of(p);
    if (before == after)
        return;
    int edge = sim_gpio_irq_edge(gpio);
    if (edge >= 0 && after == (edge == HAL_EDGE_RISING))
        latch(gpio, p, t_us);
    sim_bl0937_pin_changed(gpio);
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

int sim_gpio_switch(int gpio, bool closed, char *error, unsigned error_size)
{
    struct sim_pin *p = pin_at(gpio);
    if (!p) {
        snprintf(error, error_size, "switch: expected <gpio 0..%d> on|off", SIM_PINS - 1);
        return -1;
    }
    /* A rocker switch: closed shorts the pin to the rail opposite its pull
     * resistor and stays so; open lets it go. */
    int shorted = p->mode == HAL_PIN_INPUT_PULLDOWN ? 1 : 0;
    schedule_contact(gpio, sim_now_us(), closed ? shorted : -1, closed ? -1 : shorted);
    return 0;
}

void sim_gpio_json(char *buf, unsigned size)
{
    static const char *const modes[] = {"disabled", "input", "input_pullup", "input_pulldown", "output"};
    sim_bl0937_sync(SIM_BL0937_CF_GPIO);
    sim_bl0937_sync(SIM_BL0937_CF1_GPIO);
    unsigned len = (unsigned)snprintf(buf, size, "{");
    for (int gpio = 0; gpio < SIM_PINS && len < size; gpio++) {
        struct sim_pin *p = pin_at(gpio);
        len += (unsigned)snprintf(buf + len, size - len, "%s\"%d\":{\"mode\":\"%s\",\"level\":%d,\"changes\":%u",
                                  gpio ? "," : "", gpio, modes[p->mode], level_of(p), p->output_changes);
        if (p->pwm >= 0 && len < size) /* a PWM wave: its duty in permille */
            len += (unsigned)snprintf(buf + len, size - len, ",\"pwm\":%d", p->pwm);
        if (len < size)
            len += (unsigned)snprintf(buf + len, size - len, "}");
    }
    if (len < size)
        snprintf(buf + len, size - len, "}");
}
