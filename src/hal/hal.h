/*
 * hal.h — the one interface between the portable firmware core and a board.
 *
 * Everything the core needs from the chip and its surroundings is declared
 * here and nothing else: pins and pin interrupts, time, flash by partition,
 * watchdog, reset, Wi-Fi status, randomness, heap figures, the serial console,
 * a UART for a metering chip and the idle wait of the main loop.  There is one implementation per port
 * (src/port/host for the simulator, src/port/bl602 for the chip); the core
 * never knows which.  Sockets are a separate concern: see hal_net.h.
 *
 * Conventions: pins are GPIO numbers; functions that can fail return 0 on
 * success and a negative HAL_E* code otherwise; nothing here allocates.
 * Unless stated, a function is for the main loop only.  Interrupt callbacks
 * run in interrupt context and may call only hal_time_us(), hal_pin_read()
 * and lock-free code of their own.
 */
#ifndef OPENPLUG_HAL_H
#define OPENPLUG_HAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HAL_OK 0
#define HAL_EINVAL (-1) /* bad argument: pin, partition, range, alignment */
#define HAL_EIO (-2)    /* the device reported a failure */
#define HAL_EBUSY (-3)  /* already attached / in use */

/* ---- Pins ------------------------------------------------------------- */

/* Number of GPIOs of the chip; valid pins are 0 .. hal_pin_count()-1. */
int hal_pin_count(void);

enum hal_pin_mode {
    HAL_PIN_DISABLED = 0, /* high impedance, the state after reset */
    HAL_PIN_INPUT,
    HAL_PIN_INPUT_PULLUP,
    HAL_PIN_INPUT_PULLDOWN,
    HAL_PIN_OUTPUT,
};

/* Set a pin's mode.  An output drives the level last given to
 * hal_pin_write(), so write first, then switch to output: no glitch. */
int hal_pin_mode(int pin, enum hal_pin_mode mode);

/* Set the output latch of a pin (takes effect on the pin when it is an
 * output).  Interrupt-safe. */
int hal_pin_write(int pin, bool level);

/* Read the level present on a pin.  Interrupt-safe. */
bool hal_pin_read(int pin);

/* Drive an output pin with a PWM wave of `permille`/1000 duty (about
 * 1 kHz, for LED brightness).  0 and 1000 stop the wave and leave the pin
 * at that level, as hal_pin_write() would.  HAL_EBUSY when the pin's PWM
 * unit drives another pin (the BL602 has five, GPIO n on unit n % 5),
 * HAL_EINVAL for a bad pin: the caller then falls back to on/off. */
int hal_pin_pwm(int pin, uint16_t permille);

enum hal_pin_edge { HAL_EDGE_FALLING = 0, HAL_EDGE_RISING = 1 };

/* Called in interrupt context with the pin and the argument given at attach
 * time.  It should only record the event (see core/sched.h's event ring). */
typedef void (*hal_pin_irq_fn)(int pin, void *arg);

/* Attach an interrupt handler to a pin.  At most once per pin for the life
 * of the firmware (the BL602 cannot unregister); returns HAL_EBUSY on a second
 * attach.  The interrupt starts disabled.  Only one edge per pin: the BL602
 * has no both-edges mode; to follow both, switch the edge from the handler. */
int hal_pin_irq_attach(int pin, enum hal_pin_edge edge, hal_pin_irq_fn fn, void *arg);

/* Unmask (true) or mask (false) a pin's interrupt; also selects the edge.
 * Interrupt-safe. */
int hal_pin_irq_enable(int pin, enum hal_pin_edge edge, bool enabled);

/* Hold off all interrupts for a few instructions; pairs nest.  Returns the
 * previous state to give back to hal_irq_unlock(). */
uint32_t hal_irq_lock(void);
void hal_irq_unlock(uint32_t previous);

/* ---- Time ------------------------------------------------------------- */

/* Microseconds since reset, 32 bits, wrapping every 71.6 minutes: compare
 * with (uint32_t)(a - b).  Interrupt-safe. */
uint32_t hal_time_us(void);

/* Milliseconds since reset, 64 bits: never wraps. */
uint64_t hal_time_ms(void);

/* Wall clock in milliseconds since the Unix epoch (UTC), or -1 when it has
 * not been set since power-on. */
int64_t hal_wallclock_ms(void);
void hal_wallclock_set(int64_t unix_ms);

/* ---- Flash, by partition ------------------------------------------------ */

enum hal_partition {
    HAL_PART_BOOT2 = 0, /* boot loader */
    HAL_PART_PTABLE,    /* the two partition tables */
    HAL_PART_FW,        /* running firmware slot */
    HAL_PART_OTA,       /* the other slot, written by an update */
    HAL_PART_MEDIA,     /* data area: energy history, scripts */
    HAL_PART_PSM,       /* key-value area: configuration, state records */
    HAL_PART_COUNT
};

#define HAL_FLASH_SECTOR 4096u /* smallest erasable unit */

/* Size in bytes of a partition (a multiple of HAL_FLASH_SECTOR), 0 if the
 * board has none. */
uint32_t hal_flash_size(enum hal_partition part);

/* Read len bytes at offset.  Reads see every completed program. */
int hal_flash_read(enum hal_partition part, uint32_t offset, void *buf, uint32_t len);

/* Erase the 4 KiB sector at a sector-aligned offset: all bytes become 0xFF.
 * Interrupts are off for the whole erase (~45 ms, up to 300 ms on the BL602):
 * never erase more than one sector between two turns of the main loop. */
int hal_flash_erase_sector(enum hal_partition part, uint32_t offset);

/* Program len bytes at offset.  NOR semantics: programming can only clear
 * bits (new = old & data), so the range must have been erased first. */
int hal_flash_program(enum hal_partition part, uint32_t offset, const void *buf, uint32_t len);

/* ---- Watchdog and reset ------------------------------------------------- */

/* Start the hardware watchdog: the chip resets unless hal_wdt_feed() is
 * called at least every timeout_ms (1 .. 65535). */
int hal_wdt_start(uint32_t timeout_ms);
void hal_wdt_feed(void);

/* Reset causes seen by the chip.  Values from HAL_RESET_USER up are the
 * firmware's own: hal_reboot(code) hands one to the next boot. */
enum hal_reset_cause {
    HAL_RESET_POWER_ON = 0,
    HAL_RESET_WATCHDOG = 1, /* hardware watchdog, or any unplanned reset */
    HAL_RESET_SOFTWARE = 2, /* hal_reboot() with no firmware code */
    HAL_RESET_CRASH = 3,    /* a fatal exception (the simulator: a fatal signal) */
    HAL_RESET_USER = 0x100,
};

/* Restart the chip now.  `reason` (HAL_RESET_SOFTWARE or >= HAL_RESET_USER)
 * is what hal_reset_cause() returns on the next boot.  Does not return. */
void hal_reboot(uint32_t reason) __attribute__((noreturn));

/* Why this boot happened: a HAL_RESET_* value or the code given to
 * hal_reboot() by the previous run.  A power cut reads as POWER_ON. */
uint32_t hal_reset_cause(void);

/* A small area kept across a reset but not a power cut: retained RAM on the
 * BL602 (an uninitialised RAM section the boot ROM leaves alone), a file
 * beside the flash image in the simulator.  The core keeps its restart
 * reasons there (system.c); it reads as all zero after a power-on.  Writes
 * are immediate (the simulator writes the file through), so whatever was
 * written before a fault is there at the next boot. */
#define HAL_RETAINED_SIZE 64u
void hal_retained_read(void *buf, size_t len);  /* len <= HAL_RETAINED_SIZE */
void hal_retained_write(const void *buf, size_t len);

/* ---- Wi-Fi ---------------------------------------------------------------- */

enum hal_wifi_state {
    HAL_WIFI_OFF = 0,
    HAL_WIFI_CONNECTING, /* joining as a station, no access point up */
    HAL_WIFI_CONNECTED,  /* station on a network */
    HAL_WIFI_AP,         /* serving its own access point for set-up (a join may run beside it) */
};

/* The link now.  A station link wins over the access point: once joined,
 * the state is CONNECTED even while the AP is still up. */
enum hal_wifi_state hal_wifi_state(void);

/* Received signal strength of the current link in dBm (e.g. -55); 0 when not
 * connected.  Fresh on every call. */
int hal_wifi_rssi(void);

/* Start joining `ssid` (at most 32 bytes) with `password` (WPA2-PSK, at
 * most 64; "" = open network); returns at once (HAL_EINVAL for bad
 * lengths).  The join runs in the background: the state goes CONNECTING
 * (or stays AP while the access point is up), then CONNECTED, or the
 * attempt fails and hal_wifi_error() says why.  A new call replaces an
 * attempt or a link. */
int hal_wifi_connect(const char *ssid, const char *password);

enum hal_wifi_error {
    HAL_WIFI_ERR_NONE = 0,  /* joined, joining, or nothing tried */
    HAL_WIFI_ERR_NOT_FOUND, /* no network of that name answered */
    HAL_WIFI_ERR_AUTH,      /* it answered, the password was refused */
};
/* Why the last join attempt failed (NONE while it runs or once it joined). */
enum hal_wifi_error hal_wifi_error(void);

/* Open an access point `name` (open network, the set-up mode; a join may
 * run at the same time), or close it with NULL. */
int hal_wifi_start_ap(const char *name);
/* The network the station is joined to; false (and *out untouched) when
 * not connected. */
struct hal_wifi_link {
    char ssid[33];
    uint8_t bssid[6];
    uint8_t channel;
    uint32_t ip; /* the station's IPv4 address, network byte order */
};
bool hal_wifi_link(struct hal_wifi_link *out);

/* The plug's IPv4 address (host order) where a browser finds it: the
 * station's (DHCP) when connected, the access point's own in AP mode, 0
 * otherwise. */
uint32_t hal_wifi_ip(void);

/* Scan for the networks around (the set-up page lists them).  Start
 * returns at once (HAL_EBUSY while a scan runs); a scan takes a second or
 * two, beside the access point or a link.  Results returns HAL_EBUSY while
 * it runs, else the count of networks found (at most max; one entry per
 * SSID, the strongest; hidden networks left out), strongest first, and
 * keeps them until the next scan; 0 before any scan. */
#define HAL_WIFI_SCAN_MAX 12
struct hal_wifi_network {
    char ssid[33];
    int8_t rssi; /* dBm */
    uint8_t channel;
    bool secured; /* a password is needed */
};
int hal_wifi_scan_start(void);
int hal_wifi_scan_results(struct hal_wifi_network *out, int max);

/* The station MAC address. */
void hal_mac(uint8_t mac[6]);

/* ---- System --------------------------------------------------------------- */

/* Random bits: from the chip's RNG on the BL602, from --seed in the
 * simulator (deterministic). */
uint32_t hal_random(void);

/* Unpredictable bytes for secrets (session tokens, password salts): the
 * chip's TRNG on the BL602, the OS's getrandom() in the simulator — never
 * the seeded model, so two simulated plugs never share a secret. */
void hal_random_secret(void *out, size_t len);

/* Free heap bytes now, and the lowest it has been since boot. */
uint32_t hal_heap_free(void);
uint32_t hal_heap_min_free(void);

/* Chip / board names for Status 2, e.g. "BL602" and "openplug-sim". */
const char *hal_chip_name(void);
const char *hal_board_name(void);

/* ---- UART: a serial link to a chip on the board (a BL0942) -------------- */

/* Framings a UART can be opened with: data bits, parity, stop bits. */
enum hal_uart_framing { HAL_UART_8N1 = 0, HAL_UART_8E1 = 1 };

/* Open the board's spare UART (the BL602's UART1; the console keeps its
 * own) with TX on tx_pin and RX on rx_pin, at baud (1200 .. 2000000) and a
 * framing.  Received bytes are kept in a ring of at least 128 bytes until
 * read; older bytes are lost when it is full.  Returns a handle (>= 0), or
 * HAL_EINVAL (bad pins, the same pin twice, bad baud or framing) or
 * HAL_EBUSY (already open: close it first) or HAL_EIO (the board has no
 * spare UART) — nothing changed then. */
int hal_uart_open(int tx_pin, int rx_pin, uint32_t baud, enum hal_uart_framing framing);

/* Queue up to len bytes for sending without waiting; returns how many were
 * taken (0 when the transmit FIFO is full), or HAL_EINVAL for a handle that
 * is not open. */
int hal_uart_write(int uart, const void *data, size_t len);

/* Take up to size received bytes without waiting; returns the count (0 when
 * nothing is waiting) or HAL_EINVAL for a handle that is not open. */
int hal_uart_read(int uart, void *buf, size_t size);

/* Close it: the pins go back to high impedance, unread bytes are dropped. */
void hal_uart_close(int uart);

/* ---- Serial console and idle -------------------------------------------- */

/* Write bytes to the serial console (log lines and command replies). */
void hal_console_write(const char *text, size_t len);

/* Read up to size bytes typed on the console without blocking; returns the
 * count (0 when nothing is waiting). */
size_t hal_console_read(char *buf, size_t size);

/* Sleep until an interrupt fires, console input or a socket is ready, or
 * timeout_ms passes.  The main loop's only wait.  In the simulator's virtual
 * time this is where the clock jumps forward. */
void hal_idle(uint32_t timeout_ms);

#endif /* OPENPLUG_HAL_H */
