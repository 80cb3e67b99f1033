/* sched.c — timers, the interrupt event ring and the loop turn; see sched.h. */
#include "sched.h"

#include <stddef.h>

#define PIN_MAX 32 /* GPIO numbers with a route */
#define RING_SIZE 256u /* a power of two; 2 kHz of edges for 100 ms */
/* The last slots are kept for routes that follow both edges (buttons): in a
 * stall a meter's pulses fill the rest, and two taps with their bounces
 * still fit. */
#define RING_KEPT_FOR_BOTH 32u

/* Written by interrupts (head, events) and the loop (tail).  An event is
 * its time and one byte of pin << 1 | level, in two arrays: as a struct
 * it would be padded to 8 bytes, 768 more for the ring. */
static uint32_t ring_time_us[RING_SIZE];
static uint8_t ring_pin_level[RING_SIZE];
static uint32_t ring_head, ring_tail;
static volatile uint32_t ring_overflows;

struct pin_route {
    sched_pin_fn fn;
    void *arg;
    bool attached; /* hal_pin_irq_attach() done: never again for this pin */
    bool both;     /* the handler re-arms the edge away from the level it read */
};
static struct pin_route routes[PIN_MAX];

static struct sched_timer *timers; /* sorted by due_ms */

/* Main-loop lag: a 1-2-5 histogram since boot and the worst of two
 * one-minute windows. */
#define LAG_WINDOW_MS 60000u
static const uint32_t lag_bounds_us[] = {100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000,
                                         200000, 500000, 1000000, 2000000, 5000000, UINT32_MAX};
#define LAG_BUCKETS (sizeof lag_bounds_us / sizeof lag_bounds_us[0])
static uint32_t lag_histogram[LAG_BUCKETS];
static uint64_t lag_samples, lag_window_start_ms;
static uint32_t lag_max_us, lag_window_max_us, lag_previous_window_max_us;
static struct sched_poller *pollers;
static uint64_t turns;
static uint32_t pin_events;

/* ---- Timers ---- */

static void unlink_timer(struct sched_timer *t);

void sched_timer_init(struct sched_timer *t, void (*fn)(void *arg), void *arg)
{
    if (t->armed) /* re-initialising a running timer must not orphan the list */
        unlink_timer(t);
    *t = (struct sched_timer){.fn = fn, .arg = arg};
}

static void unlink_timer(struct sched_timer *t)
{
    for (struct sched_timer **p = &timers; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->armed = false;
}

static void insert_timer(struct sched_timer *t)
{
    struct sched_timer **p = &timers;
    while (*p && (*p)->due_ms <= t->due_ms)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    t->armed = true;
}

void sched_timer_start(struct sched_timer *t, uint32_t delay_ms, uint32_t period_ms)
{
    if (t->armed)
        unlink_timer(t);
    t->due_ms = hal_time_ms() + delay_ms;
    t->period_ms = period_ms;
    insert_timer(t);
}

void sched_timer_stop(struct sched_timer *t)
{
    if (t->armed)
        unlink_timer(t);
}

static void record_lag(uint64_t due_ms, uint64_t now_ms)
{
    uint32_t lag_us = (uint32_t)(hal_time_us() - (uint32_t)(due_ms * 1000u));
    if (lag_us > (uint32_t)INT32_MAX)
        lag_us = 0; /* the microsecond clock read a hair behind the millisecond one */
    unsigned bucket = 0;
    while (lag_us > lag_bounds_us[bucket])
        bucket++;
    lag_histogram[bucket]++;
    lag_samples++;
    if (lag_us > lag_max_us)
        lag_max_us = lag_us;
    if (now_ms - lag_window_start_ms >= LAG_WINDOW_MS) {
        lag_previous_window_max_us = lag_window_max_us;
        lag_window_max_us = 0;
        lag_window_start_ms = now_ms;
    }
    if (lag_us > lag_window_max_us)
        lag_window_max_us = lag_us;
}

uint32_t sched_lag_percentile_us(unsigned permille)
{
    uint64_t below = 0;
    if (!lag_samples)
        return 0;
    for (unsigned i = 0; i < LAG_BUCKETS; i++) {
        below += lag_histogram[i];
        if (below * 1000 >= lag_samples * permille)
            return lag_bounds_us[i];
    }
    return UINT32_MAX;
}

static void run_due_timers(void)
{
    uint64_t now = hal_time_ms();
    while (timers && timers->due_ms <= now) {
        struct sched_timer *t = timers;
        record_lag(t->due_ms, now);
        timers = t->next;
        t->armed = false;
        if (t->period_ms) {
            /* Keep the cadence, but never run a backlog of missed periods. */
            t->due_ms += t->period_ms;
            if (t->due_ms <= now)
                t->due_ms = now + t->period_ms;
            insert_timer(t);
        }
        t->fn(t->arg);
    }
}

/* ---- Pin events ---- */

static void push_edge(int pin, bool level)
{
    uint32_t head = __atomic_load_n(&ring_head, __ATOMIC_RELAXED);
    uint32_t tail = __atomic_load_n(&ring_tail, __ATOMIC_ACQUIRE);
    if (head - tail >= (routes[pin].both ? RING_SIZE : RING_SIZE - RING_KEPT_FOR_BOTH)) {
        ring_overflows++;
        return;
    }
    ring_time_us[head % RING_SIZE] = hal_time_us();
    ring_pin_level[head % RING_SIZE] = (uint8_t)(pin << 1 | (level ? 1 : 0));
    __atomic_store_n(&ring_head, head + 1, __ATOMIC_RELEASE);
}

static enum hal_pin_edge edge_away_from(bool level) { return level ? HAL_EDGE_FALLING : HAL_EDGE_RISING; }

/* The interrupt handler: the edge and the level now.  Following both edges
 * (the chip has one edge per pin), it arms the edge away from that level;
 * a change that came before the re-arm is recorded here, since its own
 * interrupt will not come (a few rounds at most: bounces end). */
static void record_edge(int pin, void *arg)
{
    (void)arg;
    bool level = hal_pin_read(pin);
    push_edge(pin, level);
    for (int round = 0; round < 4 && routes[pin].both; round++) {
        hal_pin_irq_enable(pin, edge_away_from(level), true);
        bool now = hal_pin_read(pin);
        if (now == level)
            break;
        level = now;
        push_edge(pin, level);
    }
}

static int watch(int pin, enum hal_pin_edge edge, bool both, sched_pin_fn fn, void *arg)
{
    if (pin < 0 || pin >= PIN_MAX || !fn)
        return HAL_EINVAL;
    struct pin_route *route = &routes[pin];
    if (!route->attached) {
        int err = hal_pin_irq_attach(pin, edge, record_edge, NULL);
        if (err)
            return err;
        route->attached = true;
    }
    route->fn = fn;
    route->arg = arg;
    route->both = both;
    return hal_pin_irq_enable(pin, edge, true);
}

int sched_pin_watch(int pin, enum hal_pin_edge edge, sched_pin_fn fn, void *arg)
{
    return watch(pin, edge, false, fn, arg);
}

int sched_pin_watch_both(int pin, sched_pin_fn fn, void *arg)
{
    return watch(pin, edge_away_from(hal_pin_read(pin)), true, fn, arg);
}

void sched_pin_unwatch(int pin)
{
    if (pin < 0 || pin >= PIN_MAX || !routes[pin].fn)
        return;
    hal_pin_irq_enable(pin, HAL_EDGE_FALLING, false);
    routes[pin].fn = NULL;
    routes[pin].both = false;
}

static void dispatch_pin_events(void)
{
    uint32_t head = __atomic_load_n(&ring_head, __ATOMIC_ACQUIRE);
    uint32_t tail = ring_tail;
    while (tail != head) {
        uint32_t t_us = ring_time_us[tail % RING_SIZE];
        int pin = ring_pin_level[tail % RING_SIZE] >> 1;
        bool level = ring_pin_level[tail % RING_SIZE] & 1;
        __atomic_store_n(&ring_tail, ++tail, __ATOMIC_RELEASE);
        struct pin_route *route = &routes[pin];
        pin_events++;
        if (route->fn) /* else: unwatched since the edge was recorded */
            route->fn(pin, t_us, level, route->arg);
    }
}

/* ---- The loop ---- */

void sched_poller_add(struct sched_poller *p, void (*fn)(void *arg), void *arg)
{
    p->fn = fn;
    p->arg = arg;
    p->next = pollers;
    pollers = p;
}

void sched_run_once(uint32_t max_idle_ms)
{
    turns++;
    dispatch_pin_events();
    run_due_timers();
    for (struct sched_poller *p = pollers; p; p = p->next)
        p->fn(p->arg);
    dispatch_pin_events();

    uint32_t idle_ms = max_idle_ms;
    if (timers) {
        uint64_t now = hal_time_ms();
        uint64_t wait = timers->due_ms > now ? timers->due_ms - now : 0;
        if (wait < idle_ms)
            idle_ms = (uint32_t)wait;
    }
    if (idle_ms && __atomic_load_n(&ring_head, __ATOMIC_ACQUIRE) == ring_tail)
        hal_idle(idle_ms);
}

void sched_get_stats(struct sched_stats *out)
{
    out->turns = turns;
    out->pin_events = pin_events;
    out->ring_overflows = ring_overflows;
    out->lag_max_us = lag_max_us;
    out->lag_recent_max_us = lag_window_max_us > lag_previous_window_max_us ? lag_window_max_us
                                                                             : lag_previous_window_max_us;
    out->lag_samples = lag_samples;
}
