/*
 * sched.h — the cooperative main loop: timers, pin-interrupt events and
 * per-turn pollers.
 *
 * One loop runs everything.  Interrupt handlers only record (time, pin,
 * level) into a lock-free single-producer ring; the loop hands each event to
 * the handler registered for that pin, runs due timers and pollers, then
 * sleeps in hal_idle() until the next timer or an external event.  Nothing
 * here allocates: timers and pollers are the caller's structs, linked in.
 */
#ifndef OPENPLUG_SCHED_H
#define OPENPLUG_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/hal.h"

struct sched_timer {
    struct sched_timer *next;
    uint64_t due_ms;
    uint32_t period_ms; /* 0 = one shot */
    void (*fn)(void *arg);
    void *arg;
    bool armed;
};

/* Timers live in static storage (zeroed): init stops one that is running. */
void sched_timer_init(struct sched_timer *t, void (*fn)(void *arg), void *arg);
/* (Re)start: first run after delay_ms, then every period_ms unless 0. */
void sched_timer_start(struct sched_timer *t, uint32_t delay_ms, uint32_t period_ms);
void sched_timer_stop(struct sched_timer *t);

/* Called in the loop for each recorded edge of a watched pin, with the
 * interrupt's timestamp and the level read in the interrupt. */
typedef void (*sched_pin_fn)(int pin, uint32_t t_us, bool level, void *arg);

/* Route a pin's interrupts (on `edge`) to fn in the loop.  A pin can be
 * watched again with another handler after sched_pin_unwatch(). */
int sched_pin_watch(int pin, enum hal_pin_edge edge, sched_pin_fn fn, void *arg);
/* Route both edges: each interrupt re-arms the opposite one, so a change
 * and its return are both recorded, with their times, however long the
 * loop is held up before it dispatches them. */
int sched_pin_watch_both(int pin, sched_pin_fn fn, void *arg);
void sched_pin_unwatch(int pin);

/* A function run once in every turn of the loop (console, sockets). */
struct sched_poller {
    struct sched_poller *next;
    void (*fn)(void *arg);
    void *arg;
};
void sched_poller_add(struct sched_poller *p, void (*fn)(void *arg), void *arg);

/* One turn: dispatch pin events, due timers and pollers, then idle until
 * the next timer (never longer than max_idle_ms). */
void sched_run_once(uint32_t max_idle_ms);

/* Figures for Status and tests.  Main-loop lag is how late timers run
 * (now - due) in microseconds: the time something waiting in the loop
 * waits for others. */
struct sched_stats {
    uint64_t turns;
    uint32_t pin_events;
    uint32_t ring_overflows;    /* events lost because the loop was too slow */
    uint32_t lag_max_us;        /* worst since boot */
    uint32_t lag_recent_max_us; /* worst in the last 1-2 minutes */
    uint64_t lag_samples;       /* timer runs measured */
};
void sched_get_stats(struct sched_stats *out);

/* The lag below which `permille` of the timer runs since boot stayed (990
 * = p99), as the upper bound of its histogram bucket (100 us, 200, 500,
 * 1 ms, 2, 5 … 5 s); 0 before any sample. */
uint32_t sched_lag_percentile_us(unsigned permille);

#endif
