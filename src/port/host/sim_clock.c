/*
 * sim_clock.c — the simulator's sense of time: real (monotonic clock) or
 * virtual (a counter that jumps to the next event), the queue of scheduled
 * world events (button edges, latched pin interrupts, the BL0937's next
 * pulse edges), and the seeded random streams.  A flash wait holds
 * interrupts off for its length (sim_gpio_hold_off).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

static uint64_t virtual_us;
static struct timespec real_start;
static uint64_t irq_seen_us, irq_due_us; /* hal_time_*(): below */
static bool in_irq;

static uint64_t real_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)(now.tv_sec - real_start.tv_sec) * 1000000u + (uint64_t)(now.tv_nsec / 1000) -
           (uint64_t)(real_start.tv_nsec / 1000);
}

void sim_clock_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &real_start);
    virtual_us = 0;
    irq_seen_us = 0;
}

uint64_t sim_now_us(void) { return sim_opt.virtual_time ? virtual_us : real_us(); }

void sim_clock_advance_to(uint64_t t_us)
{
    if (sim_opt.virtual_time && t_us > virtual_us)
        virtual_us = t_us;
}

void sim_busy_wait_us(uint64_t us)
{
    uint64_t from = sim_now_us();
    if (sim_opt.virtual_time) {
        virtual_us += us;
    } else {
        struct timespec d = {.tv_sec = (time_t)(us / 1000000u), .tv_nsec = (long)(us % 1000000u) * 1000};
        while (nanosleep(&d, &d) != 0) {
        }
    }
    /* The BL602 runs flash operations with interrupts off. */
    sim_gpio_hold_off(from, sim_now_us());
}

/* HAL time: the firmware's clock.  While a pin's interrupt handler runs it
 * reads the instant the interrupt was due, not when the simulator got to
 * it: a host that starved the simulator process delivers edges late, the
 * chip would have timed them as they came.  That instant may be earlier
 * than a time the main loop read meanwhile (interrupts run only from
 * hal_idle() here; on the chip this one would have come before that read),
 * never earlier than an earlier interrupt's.  Clamped to the loop's reads
 * instead, a tap's press and release, delivered together after a stall,
 * read the same instant: a 0 ms glitch. */

void sim_clock_irq_enter(uint64_t due_us)
{
    in_irq = true;
    irq_due_us = due_us;
}

void sim_clock_irq_exit(void) { in_irq = false; }

static uint64_t firmware_now_us(void)
{
    if (in_irq) {
        if (irq_due_us > irq_seen_us)
            irq_seen_us = irq_due_us;
        return irq_seen_us;
    }
    return sim_now_us();
}

uint32_t hal_time_us(void) { return (uint32_t)firmware_now_us(); }
uint64_t hal_time_ms(void) { return firmware_now_us() / 1000u; }

/* ---- World events: a small array kept sorted by time ----
 * Few are pending at once (a button's bounces, one latched interrupt per
 * pin, the BL0937's next edge of each output and its next profile row or
 * trace line), so insertion into a sorted array is the cheapest queue. */

#define EVENT_MAX 128
static struct sim_event events[EVENT_MAX];
static int event_count;
static bool delivering;

bool sim_event_schedule(struct sim_event event)
{
    if (event_count == EVENT_MAX)
        return false;
    int i = event_count++;
    while (i > 0 && events[i - 1].t_us > event.t_us) {
        events[i] = events[i - 1];
        i--;
    }
    events[i] = event;
    return true;
}

void sim_event_cancel(enum sim_event_kind kind, int level)
{
    int kept = 0;
    for (int i = 0; i < event_count; i++)
        if (events[i].kind != kind || events[i].level != level)
            events[kept++] = events[i];
    event_count = kept;
}

uint64_t sim_event_next_us(void) { return event_count ? events[0].t_us : UINT64_MAX; }

bool sim_events_delivering(void) { return delivering; }

/* In real time the host may not run the simulator for a while (a loaded
 * machine).  To the modelled CPU that is time with interrupts off: edges
 * meanwhile latch and collapse, as in a blackout, rather than each reaching
 * the driver late, all stamped "now" (a burst of impossibly short periods). */
#define SIM_HOST_LATE_US 500

int sim_events_deliver_due(void)
{
    uint64_t handled_before = sim_gpio_firmware_irqs();
    uint64_t now = sim_now_us();
    if (!sim_opt.virtual_time && event_count && now - events[0].t_us > SIM_HOST_LATE_US && events[0].t_us < now)
        sim_gpio_hold_off(events[0].t_us, now);
    delivering = true;
    while (event_count && events[0].t_us <= sim_now_us()) {
        struct sim_event event = events[0];
        memmove(events, events + 1, (size_t)--event_count * sizeof events[0]);
        switch (event.kind) {
        case SIM_EVENT_PIN_LEVEL: sim_gpio_external_at(event.gpio, event.level, event.t_us); break;
        case SIM_EVENT_PIN_IRQ: sim_gpio_irq_event(event.gpio, event.level, event.t_us); break;
        case SIM_EVENT_BL0937: sim_bl0937_event(event.level, event.t_us); break;
        }
    }
    delivering = false;
    return (int)(sim_gpio_firmware_irqs() - handled_before);
}

/* ---- Random streams (xorshift64*) ---- */

static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t stream_state(uint64_t salt)
{
    uint64_t s = (sim_opt.seed + 1) * 0x9E3779B97F4A7C15ULL ^ salt;
    return s ? s : 1;
}

uint64_t sim_random_model(void)
{
    static uint64_t state;
    if (!state)
        state = stream_state(0x6d6f64656cULL);
    return next_random(&state);
}

uint64_t sim_random_firmware(void)
{
    static uint64_t state;
    if (!state)
        state = stream_state(0x6669726dULL);
    return next_random(&state);
}
