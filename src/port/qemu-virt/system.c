/*
 * system.c — reset and what survives it on the qemu-virt board, and the
 * board's simple HAL parts: the retained area and the reset cause (in the
 * .keep section with a marker that tells a QEMU start — a power-on — from
 * a reset), reboot through the sifive_test device's reset, the watchdog as
 * a deadline the timer interrupt checks, pins as latches (the machine has
 * no GPIO and nothing meters), Wi-Fi off (no network on this board),
 * identity, randomness and heap figures.
 */
#include <string.h>

#include "hal/hal.h"
#include "hal/hal_net.h"
#include "virt.h"

#define KEEP_MARKER 0x4F504B50u /* "OPKP": the .keep section was set up by an earlier boot */
#define BOARD_PINS 23           /* as the BL602: GPIO0 .. GPIO22 */

static struct keep {
    uint32_t marker;
    uint32_t next_reset_cause; /* what the next boot reports, unless it is a power-on */
    uint8_t retained[HAL_RETAINED_SIZE];
} keep __attribute__((section(".keep.retained")));

static uint32_t reset_cause;
static uint64_t wdt_timeout_ticks, wdt_fed_at;
static bool wdt_running;

/* Before anything else reads flash or retained RAM. */
void virt_system_boot(void)
{
    if (keep.marker != KEEP_MARKER) {
        memset(&keep, 0, sizeof keep);
        virt_flash_power_on();
        keep.marker = KEEP_MARKER;
        keep.next_reset_cause = HAL_RESET_POWER_ON;
    }
    reset_cause = keep.next_reset_cause;
    keep.next_reset_cause = HAL_RESET_WATCHDOG; /* any reset nobody asked for */
}

void virt_reset(uint32_t reason)
{
    hal_irq_lock();
    virt_memory_report();
    keep.next_reset_cause = reason;
    *virt_reg(VIRT_TEST_DEVICE) = VIRT_TEST_RESET;
    for (;;)
        __asm__ volatile("wfi");
}

void hal_reboot(uint32_t reason) { virt_reset(reason); }
uint32_t hal_reset_cause(void) { return reset_cause; }

void hal_retained_read(void *buf, size_t len)
{
    memcpy(buf, keep.retained, len < HAL_RETAINED_SIZE ? len : HAL_RETAINED_SIZE);
}

void hal_retained_write(const void *buf, size_t len)
{
    memcpy(keep.retained, buf, len < HAL_RETAINED_SIZE ? len : HAL_RETAINED_SIZE);
}

/* ---- Watchdog: a deadline in mtime ticks ---- */

int hal_wdt_start(uint32_t timeout_ms)
{
    if (timeout_ms < 1 || timeout_ms > 65535)
        return HAL_EINVAL;
    wdt_timeout_ticks = (uint64_t)timeout_ms * (VIRT_TIMEBASE_HZ / 1000u);
    wdt_fed_at = virt_ticks();
    wdt_running = true;
    return HAL_OK;
}

void hal_wdt_feed(void) { wdt_fed_at = virt_ticks(); }

uint64_t virt_watchdog_deadline(void) { return wdt_running ? wdt_fed_at + wdt_timeout_ticks : UINT64_MAX; }

void virt_watchdog_check(void)
{
    if (virt_ticks() >= virt_watchdog_deadline())
        virt_reset(HAL_RESET_WATCHDOG);
}

/* ---- Pins: output latches, inputs at their pull level ---- */

static uint8_t pin_mode[BOARD_PINS];
static bool pin_latch[BOARD_PINS];
static bool pin_attached[BOARD_PINS];

static bool pin_valid(int pin) { return pin >= 0 && pin < BOARD_PINS; }

int hal_pin_count(void) { return BOARD_PINS; }

int hal_pin_mode(int pin, enum hal_pin_mode mode)
{
    if (!pin_valid(pin) || (unsigned)mode > HAL_PIN_OUTPUT)
        return HAL_EINVAL;
    pin_mode[pin] = (uint8_t)mode;
    return HAL_OK;
}

int hal_pin_write(int pin, bool level)
{
    if (!pin_valid(pin))
        return HAL_EINVAL;
    pin_latch[pin] = level;
    return HAL_OK;
}

int hal_pin_pwm(int pin, uint16_t permille)
{
    if (!pin_valid(pin) || permille > 1000)
        return HAL_EINVAL;
    pin_latch[pin] = permille >= 500; /* no PWM unit on this board: the nearest level */
    return HAL_OK;
}

bool hal_pin_read(int pin)
{
    if (!pin_valid(pin))
        return false;
    if (pin_mode[pin] == HAL_PIN_OUTPUT)
        return pin_latch[pin];
    return pin_mode[pin] == HAL_PIN_INPUT_PULLUP;
}

/* Nothing outside drives a pin here, so an attached handler never runs. */
int hal_pin_irq_attach(int pin, enum hal_pin_edge edge, hal_pin_irq_fn fn, void *arg)
{
    (void)edge;
    (void)arg;
    if (!pin_valid(pin) || !fn)
        return HAL_EINVAL;
    if (pin_attached[pin])
        return HAL_EBUSY;
    pin_attached[pin] = true;
    return HAL_OK;
}

int hal_pin_irq_enable(int pin, enum hal_pin_edge edge, bool enabled)
{
    (void)edge;
    (void)enabled;
    return pin_valid(pin) && pin_attached[pin] ? HAL_OK : HAL_EINVAL;
}

/* ---- Wi-Fi: this board has no radio ---- */

enum hal_wifi_state hal_wifi_state(void) { return HAL_WIFI_OFF; }
int hal_wifi_rssi(void) { return 0; }
enum hal_wifi_error hal_wifi_error(void) { return HAL_WIFI_ERR_NONE; }
uint32_t hal_wifi_ip(void) { return 0; }

int hal_wifi_connect(const char *ssid, const char *password)
{
    (void)ssid;
    (void)password;
    return HAL_EIO;
}

int hal_wifi_start_ap(const char *name)
{
    (void)name;
    return HAL_EIO;
}

bool hal_wifi_link(struct hal_wifi_link *out)
{
    (void)out;
    return false;
}

int hal_wifi_scan_start(void) { return HAL_EIO; }
int hal_wifi_scan_results(struct hal_wifi_network *out, int max)
{
    (void)out;
    (void)max;
    return 0;
}

/* Health reports the sockets in use: none without a network. */
int hal_net_sockets_in_use(void) { return 0; }

/* ---- Identity, randomness, heap ---- */

void hal_mac(uint8_t mac[6])
{
    static const uint8_t board_mac[6] = {0x02, 0x51, 0x45, 0x4D, 0x55, 0x01}; /* locally administered */
    memcpy(mac, board_mac, sizeof board_mac);
}

/* xorshift32 seeded from the clock at first use: varies between runs. */
uint32_t hal_random(void)
{
    static uint32_t state;
    if (!state)
        state = (uint32_t)virt_ticks() | 1u;
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

/* The virt board has no entropy source: the clock-seeded stream (a test
 * board, never a product). */
void hal_random_secret(void *out, size_t len)
{
    uint8_t *p = out;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t word = hal_random() ^ (uint32_t)virt_ticks();
        memcpy(p + i, &word, len - i < 4 ? len - i : 4);
    }
}

uint32_t hal_heap_free(void)
{
    struct virt_memory memory;
    virt_memory(&memory);
    return memory.heap_size - virt_heap_in_use();
}

uint32_t hal_heap_min_free(void)
{
    struct virt_memory memory;
    virt_memory(&memory);
    return memory.heap_size - memory.heap_peak;
}

const char *hal_chip_name(void) { return "RV32IMFC"; }
const char *hal_board_name(void) { return "qemu-virt"; }
