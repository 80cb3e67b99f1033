/*
 * sim.h — the simulated board's internals, shared by the host port's files.
 *
 *   main.c       options, start-up, re-execution on reboot
 *   sim_clock.c  real or virtual time, the queue of scheduled world events
 *   sim_gpio.c   pins, pin interrupts, buttons with contact bounce
 *   sim_flash.c  the 2 MiB NOR flash image, its timing and torn operations
 *   sim_world.c  the world socket (press, powercut, hang, pins)
 *   hal_host.c   the rest of the HAL: idle, console, watchdog, reset, Wi-Fi
 *
 * The simulator is single-threaded: "interrupts" are delivered from
 * hal_idle() (and so are held off while the firmware runs or a flash
 * operation holds them off), with the clock reading the instant of the
 * event in virtual time.
 */
#ifndef OPENPLUG_SIM_H
#define OPENPLUG_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/hal.h"

struct pollfd;

#define SIM_PINS 23 /* BL602: GPIO0 .. GPIO22 */

#define SIM_EXIT_POWERCUT 3 /* exit status of a power cut (real or injected) */

struct sim_options {
    const char *flash_path;
    bool flash_timing_real;
    bool virtual_time;
    double duration_s; /* 0 = run until stopped */
    uint64_t seed;
    const char *exec; /* commands typed after the first boot */
    const char *world_path;
    uint64_t powercut_at_flash_op; /* 0 = never */
};
extern struct sim_options sim_opt;

/* ---- Clock and world events (sim_clock.c) ---- */
uint64_t sim_now_us(void); /* device time since this boot */
void sim_clock_init(void);
void sim_clock_advance_to(uint64_t t_us); /* virtual time only */
/* Wait in real time (virtual time: jump) for a flash operation. */
void sim_busy_wait_us(uint64_t us);

enum sim_event_kind { SIM_EVENT_PIN_LEVEL };
struct sim_event {
    uint64_t t_us;
    enum sim_event_kind kind;
    int gpio;
    int level; /* -1: released (no external drive) */
};
bool sim_event_schedule(struct sim_event event);
uint64_t sim_event_next_us(void); /* UINT64_MAX when none */
/* Deliver every event due by now; returns how many. */
int sim_events_deliver_due(void);

/* Deterministic randomness from --seed: one stream for the model, one for
 * the firmware's hal_random(). */
uint64_t sim_random_model(void);
uint64_t sim_random_firmware(void);

/* ---- GPIO (sim_gpio.c) ---- */
/* Drive a pin from outside (-1 = let go); fires its interrupt if due. */
void sim_gpio_external(int gpio, int level);
/* Press a button on gpio for ms, with contact bounce, from now. */
int sim_gpio_press(int gpio, uint32_t ms, char *error, unsigned error_size);
/* JSON object of every pin: mode, level, output changes since boot. */
void sim_gpio_json(char *buf, unsigned size);

/* ---- Flash (sim_flash.c) ---- */
/* Open or create the image; returns false with a message on stderr. */
bool sim_flash_open(const char *path);
/* Flash operations (erases and programs) and erases alone since the
 * simulator was started, across reboots. */
uint64_t sim_flash_ops(void);
uint64_t sim_flash_erases(void);
void sim_flash_set_ops(uint64_t ops, uint64_t erases);

/* ---- World socket (sim_world.c) ---- */
bool sim_world_open(const char *path);
void sim_world_close(void);
/* Add the world's descriptors to a poll set; handle what is ready. */
int sim_world_pollfds(struct pollfd *fds, int max);
void sim_world_service(const struct pollfd *fds, int count);

/* ---- Rest of the HAL (hal_host.c) ---- */
void sim_hang(uint32_t seconds);
void sim_powercut(const char *why) __attribute__((noreturn));
void sim_stop(int status, const char *why) __attribute__((noreturn));
void sim_console_inject(const char *text);

#endif
