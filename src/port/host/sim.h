/*
 * sim.h — the simulated board's internals, shared by the host port's files.
 *
 *   main.c       options, start-up, re-execution on reboot
 *   sim_clock.c  real or virtual time, the queue of scheduled world events
 *   sim_gpio.c   pins, pin interrupts (latched while held off, jitter,
 *                blackouts, probes), buttons with contact bounce
 *   sim_bl0937.c the BL0937 metering chip on CF/CF1/SEL, the load and mains
 *   sim_bl0942.c the BL0942 metering chip on the UART (--meter bl0942)
 *   sim_uart.c   the spare UART (hal_uart_*) and its wires to a chip
 *   sim_flash.c  the 2 MiB NOR flash image, its timing and torn operations
 *   sim_boot2.c  the boot loader, as much as the BL602's: partition table,
 *                XZ images, and executing the firmware in the active slot
 *                (trial boots and rollback are the firmware's: ota_boot_guard())
 *   sim_world.c  the world socket (press, powercut, hang, wedge, pins, load, counts)
 *   sim_net.c    the world's network services: its time server (--date)
 *   sim_system.c retained RAM file, crash reboots, socket count, name lookups
 *   sim_wifi.c   the networks of the world, the station's joins, the set-up AP
 *   hal_host.c   the rest of the HAL: idle, console, watchdog, reset
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
#define SIM_EXIT_NO_FIRMWARE 4 /* boot2 found nothing it can boot */

struct sim_options {
    const char *flash_path;
    bool flash_timing_real;
    bool virtual_time;
    double duration_s; /* 0 = run until stopped */
    uint64_t seed;
    const char *exec; /* commands typed after the first boot */
    const char *world_path;
    const char *energy_log_path;
    uint64_t powercut_at_flash_op; /* 0 = never */
    /* The metering chip and what it measures (sim_bl0937.c) */
    enum sim_meter { SIM_METER_BL0937, SIM_METER_HLW8012, SIM_METER_BL0942 } meter; /* BL0942: sim_bl0942.c */
    const char *load;         /* "60W", "2000W,pf=0.9"; NULL = 60 W, pf 1 */
    double mains_v;           /* 0 = not given (230 V) */
    const char *load_profile; /* CSV t_s,volts,amps,pf */
    const char *edge_trace;   /* replay "t_us CF|CFV|CFI" instead of the model */
    const char *cf1_settle;   /* instant | exp50ms | phase-reset | stray-edges */
    double shunt_mohm, divider;
    bool sel_inverted, anti_creep;
    const char *bl0942_fault; /* KIND[/EVERY] */
    uint32_t bl0942_cf_start;
    int rssi_dbm; /* --rssi: the networks' signal; 0 = -58..-52 dBm */
    bool world_time;    /* --date: the world has a time server (sim_net.c) */
    uint16_t http_port; /* the web server's port, kept across reboots */
    /* Interrupt imperfections (sim_gpio.c) */
    uint32_t irq_jitter_us;
    double blackout_ms, blackout_every_s; /* 0 = none */
};
extern struct sim_options sim_opt;

/* ---- Clock and world events (sim_clock.c) ---- */
uint64_t sim_now_us(void); /* device time since this boot */
/* Around a firmware interrupt handler: its clock reads due_us. */
void sim_clock_irq_enter(uint64_t due_us);
void sim_clock_irq_exit(void);
void sim_clock_init(void);
void sim_clock_advance_to(uint64_t t_us); /* virtual time only */
/* Wait in real time (virtual time: jump) for a flash operation. */
void sim_busy_wait_us(uint64_t us);

enum sim_event_kind {
    SIM_EVENT_PIN_LEVEL, /* gpio driven to level from outside (buttons) */
    SIM_EVENT_PIN_IRQ,   /* a latched interrupt of gpio is delivered; level: its generation */
    SIM_EVENT_BL0937,    /* the chip's next step; level: which (sim_bl0937.c) */
};
struct sim_event {
    uint64_t t_us;
    enum sim_event_kind kind;
    int gpio;
    int level; /* -1: released (no external drive) */
};
bool sim_event_schedule(struct sim_event event);
/* Remove every queued event of this kind and level. */
void sim_event_cancel(enum sim_event_kind kind, int level);
uint64_t sim_event_next_us(void); /* UINT64_MAX when none */
/* Deliver every event due by now; returns how many firmware interrupt
 * handlers ran (the loop wakes only for those). */
int sim_events_deliver_due(void);
/* True while sim_events_deliver_due() runs: the place where interrupts may
 * be delivered at once. */
bool sim_events_delivering(void);
/* Device time of earlier boots of this run (the plug's time = that + now). */
uint64_t sim_boot_offset_us(void);

/* Deterministic randomness from --seed: one stream for the model, one for
 * the firmware's hal_random(). */
uint64_t sim_random_model(void);
uint64_t sim_random_firmware(void);

/* ---- GPIO (sim_gpio.c) ---- */
/* Drive a pin from outside (-1 = let go) at device time t_us (now, or the
 * instant of a world event delivered late); latches its interrupt if due. */
void sim_gpio_external_at(int gpio, int level, uint64_t t_us);
/* Interrupts are held off from `from` to `until` (a flash operation). */
void sim_gpio_hold_off(uint64_t from_us, uint64_t until_us);
/* The edge whose interrupt the pin delivers now: the firmware's if it has
 * one attached and enabled, else a probe's; -1 when none. */
int sim_gpio_irq_edge(int gpio);
/* A simulator-side interrupt consumer that only counts (--irq-probe), used
 * on pins whose interrupt the firmware has not enabled. */
void sim_gpio_probe(int gpio, int edge);
/* Deliver a latched interrupt (SIM_EVENT_PIN_IRQ). */
void sim_gpio_irq_event(int gpio, int generation, uint64_t t_us);
/* Interrupts delivered on a pin since boot (to the firmware or a probe),
 * edges that collapsed into an already latched one, and the latency from
 * the edge to the delivery. */
struct sim_irq_stats {
    uint64_t delivered, collapsed, latency_sum_us;
    uint64_t latency_min_us, latency_max_us; /* min is UINT64_MAX before any */
};
void sim_gpio_irq_stats(int gpio, struct sim_irq_stats *out);
uint64_t sim_gpio_firmware_irqs(void); /* firmware handler calls since boot */
/* Press a button on gpio for ms, with contact bounce, from now. */
int sim_gpio_press(int gpio, uint32_t ms, char *error, unsigned error_size);
/* Close (or open) a rocker switch on gpio, with contact bounce; it stays. */
int sim_gpio_switch(int gpio, bool closed, char *error, unsigned error_size);
/* JSON object of every pin: mode, level, output changes since boot. */
void sim_gpio_json(char *buf, unsigned size);

/* ---- The BL0937 (sim_bl0937.c) ---- */
#define SIM_BL0937_CF_GPIO 14  /* CF: active power pulses */
#define SIM_BL0937_CF1_GPIO 3  /* CF1: current (SEL=0) or voltage (SEL=1) pulses */
#define SIM_BL0937_SEL_GPIO 21 /* SEL, driven by the firmware */
/* Read the options and files (a message on stderr and false if bad) and
 * start the chip at device time 0; after a reboot, carry on from the
 * previous run's phases and load. */
bool sim_bl0937_start(void);
void sim_bl0937_event(int which, uint64_t t_us); /* SIM_EVENT_BL0937 */
/* Hooks from sim_gpio.c: a pin's level may have changed (SEL), a pin's
 * interrupt set-up is about to change / has changed, a pin is read. */
void sim_bl0937_pin_changed(int gpio);
void sim_bl0937_irq_changing(int gpio);
void sim_bl0937_irq_changed(int gpio);
void sim_bl0937_sync(int gpio);
/* World requests: "load ..." (args after the verb, may be NULL) and counts. */
void sim_bl0937_load_request(char *args, char *out, unsigned size);
void sim_bl0937_counts_json(char *buf, unsigned size);
/* Hand the chip's state (load, phases) to the next boot through the
 * environment, before the simulator re-executes for a reboot. */
void sim_bl0937_handover(char *entry, size_t size);

/* The load and mains in force (the model is sim_bl0937.c's): amps below 0
 * for a source feeding the mains; relay_closed: current flows. */
struct sim_load {
    double volts, amps, pf;
    bool relay_closed;
};
void sim_load_now(struct sim_load *out);

/* ---- The BL0942 (sim_bl0942.c) and the UART (sim_uart.c) ---- */
#define SIM_BL0942_RX_GPIO 16 /* the chip's RX: the plug's TX */
#define SIM_BL0942_TX_GPIO 7  /* the chip's TX: the plug's RX */
/* The default template of a --meter bl0942 board. */
#define SIM_BL0942_TEMPLATE                                                                                        \
    "{\"name\":\"BL0942 plug (sim)\",\"pins\":{\"2\":\"Rel;1\",\"7\":\"BL0942RX;0\",\"16\":\"BL0942TX;0\","         \
    "\"17\":\"Btn;1\",\"20\":\"LED_n;1\"}}"
bool sim_bl0942_start(void); /* after sim_bl0937_start(): its load */
/* The load is about to change at device time t: count up to there first. */
void sim_bl0942_sync(uint64_t t_us);
/* A byte from the plug's UART whose stop bit ends at t_us, on gpio's wire. */
void sim_bl0942_line_byte(int gpio, uint32_t baud, enum hal_uart_framing framing, uint8_t byte, uint64_t t_us);
/* The world's "bl0942 [fault KIND [EVERY]]" (args after the verb, may be NULL). */
void sim_bl0942_request(char *args, char *out, unsigned size);
void sim_bl0942_handover(char *entry, size_t size);
/* The chip sends len bytes on gpio's wire, the first starting at start_us. */
void sim_uart_to_plug(int gpio, uint32_t baud, enum hal_uart_framing framing, const uint8_t *bytes, size_t len,
                      uint64_t start_us);
/* Bytes lost from the plug's full receive ring, and bytes the plug did not
 * hear (its UART closed, on other pins, at another baud or framing). */
void sim_uart_stats(uint64_t *rx_lost, uint64_t *line_noise);

/* ---- Flash (sim_flash.c) ---- */
/* Open or create the image; returns false with a message on stderr. */
bool sim_flash_open(const char *path);
/* Flash operations (erases and programs) and erases alone since the
 * simulator was started, across reboots. */
uint64_t sim_flash_ops(void);
uint64_t sim_flash_erases(void);
void sim_flash_set_ops(uint64_t ops, uint64_t erases);
#define SIM_PTABLE_ADDR 0xE000u
#define SIM_FLASH_SIZE (2u * 1024 * 1024)
struct ptable;
/* The table boot2 boots from (copy index 0/1, -1 if none), parsed. */
int sim_flash_ptable(struct ptable *out);
/* (Re)compute the HAL partitions from the table (after boot2 changed it). */
bool sim_flash_map_partitions(void);
/* The whole chip, and its operations by absolute address (counted, timed,
 * tearable by --powercut-at-flash-op), for boot2. */
const uint8_t *sim_flash_bytes(void);
void sim_flash_erase_at(uint32_t address);
void sim_flash_program_at(uint32_t address, const void *buf, uint32_t len);

/* ---- Boot loader (sim_boot2.c) ---- */
/* Run boot2 on the opened flash: finish a pending XZ update, then execute
 * the firmware of the active slot (does not return) — or return when that firmware is this very program (the slot is
 * empty: a first boot; or this process is the slot's image, started by
 * boot2).  Returns false with a message when the flash cannot boot. */
bool sim_boot2(void);
/* The program a reboot starts (boot2 lives in it): the one first started. */
const char *sim_launcher(void);

/* ---- Energy log (sim_energy_log.c) ---- */
bool sim_energy_log_open(const char *path);
uint64_t sim_energy_log_next_us(void); /* UINT64_MAX without a log */
void sim_energy_log_write_due(void);
void sim_energy_log_close(void);
bool sim_first_boot(void);

/* ---- World socket (sim_world.c) ---- */
bool sim_world_open(const char *path);
void sim_world_close(void);
void sim_world_request(const char *request); /* --at "S world …": a request made at a device time */
/* Add the world's descriptors to a poll set; handle what is ready. */
int sim_world_pollfds(struct pollfd *fds, int max);
void sim_world_service(const struct pollfd *fds, int count);

/* ---- The world's network services (sim_net.c) ---- */
#define SIM_NET_TIME_IP 0xC000027Bu /* 192.0.2.123 (TEST-NET-1): the world's time server */
bool sim_net_date_option(const char *text); /* --date; false + message if bad */
bool sim_net_start(void);                   /* open the time server's socket (with --date) */
int64_t sim_net_world_ms(void);             /* the world's clock, Unix ms */
void sim_net_step_clock(int64_t ms);         /* the world request "clock": step the time server */
/* The world's name service: true with the address for a name it knows. */
bool sim_net_world_name(const char *host, uint32_t *ipv4);
int sim_net_pollfds(struct pollfd *fds, int max);
void sim_net_service(const struct pollfd *fds, int count);

/* ---- Retained RAM, crashes, sockets (sim_system.c) ---- */
bool sim_retained_open(const char *flash_path, bool power_on);
void sim_install_crash_handlers(void);

/* ---- Wi-Fi (sim_wifi.c) ---- */
/* --wifi SSID:PASS: one more network in the world (false + message if bad). */
bool sim_wifi_option(const char *text);
/* Every network goes away (false: a joined plug sees its link drop and keeps
 * trying) or comes back (true). */
void sim_wifi_link(bool up);

/* ---- Rest of the HAL (hal_host.c) ---- */
/* Interrupts are on again after a flash operation: deliver the interrupts
 * that latched meanwhile and serve the world socket (a button pressed while
 * the CPU was busy is pressed all the same).  Without it, a loop that never
 * idles — the OTA writer doing one flash operation per turn, turn after
 * turn — would see neither until it stopped. */
void sim_interrupts_back(void);
void sim_hang(uint32_t seconds);
void sim_powercut(const char *why) __attribute__((noreturn));
void sim_stop(int status, const char *why) __attribute__((noreturn));
void sim_console_inject(const char *text);
/* Type "a; b" as lines on the console (main.c); --at: type them at a device time. */
void sim_console_type(const char *commands);
bool sim_console_at(double seconds, const char *commands);

#endif
