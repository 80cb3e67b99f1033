/*
 * fake_hal.h — an in-memory board for unit tests and fuzz targets: pins
 * with externally set levels, a clock that moves only when told (or when
 * the loop idles), PSM, media and partition-table areas in RAM with NOR rules and an optional
 * torn operation, console capture, and reboots caught with longjmp.
 * Portable C: it builds for the host and freestanding for RV32.
 */
#ifndef OPENPLUG_FAKE_HAL_H
#define OPENPLUG_FAKE_HAL_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "hal/hal.h"

#define FAKE_PSM_SIZE (32u * 1024)
#define FAKE_MEDIA_SIZE (256u * 1024) /* energy ring, history, file store */
#define FAKE_PTABLE_SIZE (2u * HAL_FLASH_SECTOR) /* the two table copies */

/* Flash: the PSM, MEDIA and PTABLE partitions (no firmware slots) */
extern uint8_t fake_psm[FAKE_PSM_SIZE];
extern uint8_t fake_media[FAKE_MEDIA_SIZE];
extern uint8_t fake_ptable[FAKE_PTABLE_SIZE];
extern uint32_t fake_flash_erases, fake_flash_programs;
/* Tear the N-th operation from now (1 = the next): half of it happens, then
 * the "power is off" and every later operation fails without effect until
 * fake_flash_power_on(). 0 = never. */
void fake_flash_cut_at(uint32_t op);
bool fake_flash_power_is_off(void);
void fake_flash_power_on(void);
void fake_flash_blank(void); /* a new, erased chip */

/* Time: only hal_idle() and this move it. */
void fake_time_advance_us(uint64_t us);

/* Pins: drive a pin from outside (-1: let go), firing its interrupt. */
void fake_pin_external(int gpio, int level);
enum hal_pin_mode fake_pin_mode(int gpio);
bool fake_pin_latch(int gpio);
unsigned fake_pin_output_changes(int gpio); /* changes of level while an output */

/* The spare UART: open on any two distinct pins; what the firmware writes
 * is kept (fake_uart_written), what a test feeds is read back. */
struct fake_uart {
    bool open;
    int tx_pin, rx_pin;
    uint32_t baud;
    uint8_t written[256];
    unsigned written_len;
};
extern struct fake_uart fake_uart;
void fake_uart_feed(const void *bytes, unsigned len); /* at most 256 pending */

/* Console */
const char *fake_console_output(void);
void fake_console_clear(void);
void fake_console_input(const char *text);

/* The watchdog's timeout as last started, 0 while it was never started. */
extern uint32_t fake_wdt_timeout_ms;

/* Reboots: hal_reboot() longjmps here when set (else the test fails hard). */
extern jmp_buf *fake_reboot_jump;
extern uint32_t fake_reboot_reason;

/* What hal_reset_cause() says, and the retained area (zero = power-on). */
extern uint32_t fake_reset_cause;
extern uint8_t fake_retained[HAL_RETAINED_SIZE];

/* Name lookups answer this IPv4 address (network order) for any name; 0:
 * every lookup fails (the default). */
extern uint32_t fake_lookup_ipv4;

/* Wi-Fi state the firmware sees; the last join asked and AP opened ("" none). */
extern enum hal_wifi_state fake_wifi;
extern enum hal_wifi_error fake_wifi_error;
extern char fake_wifi_ssid[33], fake_wifi_ap[33];

#endif
