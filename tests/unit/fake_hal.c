/* fake_hal.c — the in-memory board of fake_hal.h. */
#include "fake_hal.h"
#include "hal/hal_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/hal_net.h"

#define PINS 23

/* ---- Flash ---- */

uint8_t fake_psm[FAKE_PSM_SIZE];
uint8_t fake_media[FAKE_MEDIA_SIZE];
uint8_t fake_ptable[FAKE_PTABLE_SIZE];
uint32_t fake_flash_erases, fake_flash_programs;
static uint32_t ops_until_cut; /* 0: no cut planned */
static bool power_off;

void fake_flash_cut_at(uint32_t op) { ops_until_cut = op; }
bool fake_flash_power_is_off(void) { return power_off; }
void fake_flash_power_on(void)
{
    power_off = false;
    ops_until_cut = 0;
}
void fake_flash_blank(void)
{
    memset(fake_psm, 0xFF, sizeof fake_psm);
    memset(fake_media, 0xFF, sizeof fake_media);
    memset(fake_ptable, 0xFF, sizeof fake_ptable);
    fake_flash_erases = fake_flash_programs = 0;
    fake_flash_power_on();
}

uint32_t hal_flash_size(enum hal_partition part)
{
    return part == HAL_PART_PSM      ? FAKE_PSM_SIZE
           : part == HAL_PART_MEDIA  ? FAKE_MEDIA_SIZE
           : part == HAL_PART_PTABLE ? FAKE_PTABLE_SIZE
                                     : 0;
}

/* The RAM behind a partition (only PSM, MEDIA and PTABLE exist here). */
static uint8_t *memory(enum hal_partition part)
{
    return part == HAL_PART_PSM ? fake_psm : part == HAL_PART_PTABLE ? fake_ptable : fake_media;
}

static bool in_range(enum hal_partition part, uint32_t offset, uint32_t len)
{
    uint32_t size = hal_flash_size(part);
    return size && offset <= size && len <= size - offset;
}

/* True if this operation is the torn one (then power goes off). */
static bool tearing(void)
{
    if (ops_until_cut && --ops_until_cut == 0) {
        power_off = true;
        return true;
    }
    return false;
}

int hal_flash_read(enum hal_partition part, uint32_t offset, void *buf, uint32_t len)
{
    if (!in_range(part, offset, len))
        return HAL_EINVAL;
    memcpy(buf, memory(part) + offset, len);
    return HAL_OK;
}

int hal_flash_erase_sector(enum hal_partition part, uint32_t offset)
{
    if (!in_range(part, offset, HAL_FLASH_SECTOR) || offset % HAL_FLASH_SECTOR)
        return HAL_EINVAL;
    if (power_off)
        return HAL_EIO;
    bool torn = tearing();
    memset(memory(part) + offset, 0xFF, torn ? HAL_FLASH_SECTOR / 2 : HAL_FLASH_SECTOR);
    fake_flash_erases++;
    return torn ? HAL_EIO : HAL_OK;
}

int hal_flash_program(enum hal_partition part, uint32_t offset, const void *buf, uint32_t len)
{
    if (!in_range(part, offset, len))
        return HAL_EINVAL;
    if (power_off)
        return HAL_EIO;
    bool torn = tearing();
    const uint8_t *data = buf;
    for (uint32_t i = 0; i < (torn ? len / 2 : len); i++)
        memory(part)[offset + i] &= data[i];
    fake_flash_programs++;
    return torn ? HAL_EIO : HAL_OK;
}

/* ---- Time ---- */

static uint64_t now_us;

void fake_time_advance_us(uint64_t us) { now_us += us; }
uint32_t hal_time_us(void) { return (uint32_t)now_us; }
uint64_t hal_time_ms(void) { return now_us / 1000; }

static int64_t wall_offset_ms = -1;
int64_t hal_wallclock_ms(void) { return wall_offset_ms < 0 ? -1 : wall_offset_ms + (int64_t)hal_time_ms(); }
void hal_wallclock_set(int64_t unix_ms) { wall_offset_ms = unix_ms - (int64_t)hal_time_ms(); }

/* ---- Pins ---- */

struct fake_pin {
    enum hal_pin_mode mode;
    bool latch;
    int external;
    hal_pin_irq_fn fn;
    void *arg;
    bool irq_on;
    enum hal_pin_edge edge;
    unsigned output_changes; /* level changes while driven: glitches */
    unsigned pwm_permille;   /* the last hal_pin_pwm() duty */
};
static struct fake_pin pins[PINS];
static bool pins_ready;

static struct fake_pin *pin(int gpio)
{
    if (!pins_ready) {
        for (int i = 0; i < PINS; i++)
            pins[i].external = -1;
        pins_ready = true;
    }
    return gpio >= 0 && gpio < PINS ? &pins[gpio] : NULL;
}

static bool level(const struct fake_pin *p)
{
    if (p->mode == HAL_PIN_OUTPUT)
        return p->latch;
    if (p->external >= 0)
        return p->external;
    return p->mode == HAL_PIN_INPUT_PULLUP;
}

int hal_pin_count(void) { return PINS; }

int hal_pin_mode(int gpio, enum hal_pin_mode mode)
{
    struct fake_pin *p = pin(gpio);
    if (!p)
        return HAL_EINVAL;
    p->mode = mode;
    return HAL_OK;
}

int hal_pin_write(int gpio, bool value)
{
    struct fake_pin *p = pin(gpio);
    if (!p)
        return HAL_EINVAL;
    if (p->mode == HAL_PIN_OUTPUT && p->latch != value)
        p->output_changes++;
    p->latch = value;
    return HAL_OK;
}

int hal_pin_pwm(int gpio, uint16_t permille)
{
    struct fake_pin *p = pin(gpio);
    if (!p || permille > 1000)
        return HAL_EINVAL;
    p->pwm_permille = permille;
    p->latch = permille >= 500;
    return HAL_OK;
}

bool hal_pin_read(int gpio)
{
    struct fake_pin *p = pin(gpio);
    return p && level(p);
}

int hal_pin_irq_attach(int gpio, enum hal_pin_edge edge, hal_pin_irq_fn fn, void *arg)
{
    struct fake_pin *p = pin(gpio);
    if (!p || !fn)
        return HAL_EINVAL;
    if (p->fn)
        return HAL_EBUSY;
    p->fn = fn;
    p->arg = arg;
    p->edge = edge;
    return HAL_OK;
}

int hal_pin_irq_enable(int gpio, enum hal_pin_edge edge, bool enabled)
{
    struct fake_pin *p = pin(gpio);
    if (!p || !p->fn)
        return HAL_EINVAL;
    p->edge = edge;
    p->irq_on = enabled;
    return HAL_OK;
}

uint32_t hal_irq_lock(void) { return 0; }
void hal_irq_unlock(uint32_t previous) { (void)previous; }

void fake_pin_external(int gpio, int value)
{
    struct fake_pin *p = pin(gpio);
    if (!p)
        return;
    bool before = level(p);
    p->external = value;
    bool after = level(p);
    if (before != after && p->irq_on && after == (p->edge == HAL_EDGE_RISING))
        p->fn(gpio, p->arg);
}

enum hal_pin_mode fake_pin_mode(int gpio) { return pin(gpio) ? pin(gpio)->mode : HAL_PIN_DISABLED; }
bool fake_pin_latch(int gpio) { return pin(gpio) && pin(gpio)->latch; }
unsigned fake_pin_output_changes(int gpio) { return pin(gpio) ? pin(gpio)->output_changes : 0; }

/* ---- Console ---- */

static char output[16384];
static size_t output_len;
static char input[8192];
static size_t input_len, input_pos;

void hal_console_write(const char *text, size_t len)
{
    if (len > sizeof output - 1 - output_len) /* keep the newest: drop the oldest half */
    {
        size_t keep = output_len / 2;
        memmove(output, output + output_len - keep, keep);
        output_len = keep;
        if (len > sizeof output - 1 - output_len)
            len = sizeof output - 1 - output_len;
    }
    memcpy(output + output_len, text, len);
    output_len += len;
    output[output_len] = '\0';
}

const char *fake_console_output(void) { return output; }
void fake_console_clear(void)
{
    output_len = 0;
    output[0] = '\0';
}

void fake_console_input(const char *text)
{
    size_t n = strlen(text);
    if (input_pos == input_len)
        input_pos = input_len = 0;
    if (n > sizeof input - input_len)
        n = sizeof input - input_len;
    memcpy(input + input_len, text, n);
    input_len += n;
}

size_t hal_console_read(char *buf, size_t size)
{
    size_t n = input_len - input_pos < size ? input_len - input_pos : size;
    memcpy(buf, input + input_pos, n);
    input_pos += n;
    return n;
}

void hal_idle(uint32_t timeout_ms) { now_us += (uint64_t)timeout_ms * 1000; }

/* ---- Watchdog, reset, Wi-Fi, system ---- */

uint32_t fake_wdt_timeout_ms;

int hal_wdt_start(uint32_t timeout_ms)
{
    if (!timeout_ms || timeout_ms > 65535)
        return HAL_EINVAL;
    fake_wdt_timeout_ms = timeout_ms;
    return HAL_OK;
}
void hal_wdt_feed(void) {}

jmp_buf *fake_reboot_jump;
uint32_t fake_reboot_reason;

void hal_reboot(uint32_t reason)
{
    fake_reboot_reason = reason;
    if (fake_reboot_jump)
        longjmp(*fake_reboot_jump, 1);
    printf("FAIL: unexpected reboot (reason 0x%lx)\n", (unsigned long)reason);
    exit(2);
}

uint32_t fake_reset_cause = HAL_RESET_POWER_ON;
uint32_t hal_reset_cause(void) { return fake_reset_cause; }

uint8_t fake_retained[HAL_RETAINED_SIZE];
void hal_retained_read(void *buf, size_t len) { memcpy(buf, fake_retained, len < sizeof fake_retained ? len : sizeof fake_retained); }
void hal_retained_write(const void *buf, size_t len) { memcpy(fake_retained, buf, len < sizeof fake_retained ? len : sizeof fake_retained); }

int hal_net_sockets_in_use(void) { return 0; }


enum hal_wifi_state fake_wifi = HAL_WIFI_CONNECTED;
enum hal_wifi_state hal_wifi_state(void) { return fake_wifi; }
int hal_wifi_rssi(void) { return fake_wifi == HAL_WIFI_CONNECTED ? -60 : 0; }
/* Joins and the access point are recorded; the state stays what the test
 * sets in fake_wifi (and fake_wifi_error). */
char fake_wifi_ssid[33], fake_wifi_ap[33];
enum hal_wifi_error fake_wifi_error;
int hal_wifi_connect(const char *ssid, const char *password)
{
    (void)password;
    snprintf(fake_wifi_ssid, sizeof fake_wifi_ssid, "%s", ssid);
    return HAL_OK;
}
enum hal_wifi_error hal_wifi_error(void) { return fake_wifi_error; }
uint32_t hal_wifi_ip(void) { return fake_wifi == HAL_WIFI_CONNECTED ? 0xC0A8012Au : 0; }
int hal_wifi_start_ap(const char *name)
{
    snprintf(fake_wifi_ap, sizeof fake_wifi_ap, "%s", name ? name : "");
    return HAL_OK;
}

int hal_wifi_scan_start(void) { return HAL_OK; }
int hal_wifi_scan_results(struct hal_wifi_network *out, int max)
{
    (void)out;
    (void)max;
    return 0;
}

void hal_mac(uint8_t mac[6])
{
    static const uint8_t fixed[6] = {0x02, 0x0B, 0x60, 0x12, 0x34, 0x56};
    memcpy(mac, fixed, 6);
}

uint32_t hal_random(void)
{
    static uint32_t state = 12345;
    state = state * 1103515245u + 12345u;
    return state;
}

void hal_random_secret(void *out, size_t len)
{
    uint8_t *p = out;
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(hal_random() >> 24);
}

uint32_t hal_heap_free(void) { return 100000; }
uint32_t hal_heap_min_free(void) { return 90000; }
const char *hal_chip_name(void) { return "BL602"; }
const char *hal_board_name(void) { return "unit-test"; }

#if OPENPLUG_NET
/* Sockets: the host's, with no idle wait to wake (the fake loop never
 * sleeps), so watching is a no-op. */
#include <fcntl.h>
#include <unistd.h>

#include "hal/hal_net.h"

int hal_net_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 ? HAL_OK : HAL_EIO;
}

int hal_net_close(int fd) { return close(fd) == 0 ? HAL_OK : HAL_EIO; }

int hal_net_watch(int fd, short events)
{
    (void)fd;
    (void)events;
    return HAL_OK;
}

/* A firmware booted by a test or a fuzzer serves HTTP on the loopback only,
 * on a free port (never the plug's port 80 on every interface). */
#include "core/net/http.h"
__attribute__((constructor)) static void loopback_only(void) { http_set_listen(0x7F000001, 0); }

/* No idle wait here to see readiness: every socket may have something. */
short hal_net_ready(int fd)
{
    (void)fd;
    return POLLIN | POLLOUT;
}
#endif

bool hal_wifi_link(struct hal_wifi_link *out)
{
    if (fake_wifi != HAL_WIFI_CONNECTED)
        return false;
    *out = (struct hal_wifi_link){.ssid = "unit-test", .bssid = {0x02, 1, 2, 3, 4, 5}, .channel = 1,
                                    .ip = 0x0A01A8C0};
    return true;
}

#if OPENPLUG_NET
/* Name lookups: the fake board has no resolver (MQTT to a host name just
 * fails and retries, as with a dead DNS server) unless a test gives every
 * name one address (fake_lookup_ipv4, network order). */
uint32_t fake_lookup_ipv4;
int hal_net_lookup_start(const char *host)
{
    (void)host;
    return fake_lookup_ipv4 ? 0 : HAL_EIO;
}
int hal_net_lookup_poll(int handle, uint32_t *ipv4)
{
    if (handle != 0 || !fake_lookup_ipv4)
        return HAL_EINVAL;
    *ipv4 = fake_lookup_ipv4;
    return HAL_OK;
}
void hal_net_lookup_cancel(int handle) { (void)handle; }
#endif

/* ---- The spare UART ---- */

struct fake_uart fake_uart;
static uint8_t uart_rx[256];
static unsigned uart_rx_len;

void fake_uart_feed(const void *bytes, unsigned len)
{
    if (len > sizeof uart_rx - uart_rx_len)
        len = (unsigned)sizeof uart_rx - uart_rx_len;
    memcpy(uart_rx + uart_rx_len, bytes, len);
    uart_rx_len += len;
}

int hal_uart_open(int tx_pin, int rx_pin, uint32_t baud, enum hal_uart_framing framing)
{
    if (tx_pin < 0 || tx_pin >= PINS || rx_pin < 0 || rx_pin >= PINS || tx_pin == rx_pin || baud < 1200 ||
        (framing != HAL_UART_8N1 && framing != HAL_UART_8E1))
        return HAL_EINVAL;
    if (fake_uart.open)
        return HAL_EBUSY;
    fake_uart = (struct fake_uart){.open = true, .tx_pin = tx_pin, .rx_pin = rx_pin, .baud = baud};
    uart_rx_len = 0;
    return 0;
}

int hal_uart_write(int uart, const void *data, size_t len)
{
    if (uart != 0 || !fake_uart.open)
        return HAL_EINVAL;
    size_t room = sizeof fake_uart.written - fake_uart.written_len, n = len < room ? len : room;
    memcpy(fake_uart.written + fake_uart.written_len, data, n);
    fake_uart.written_len += (unsigned)n;
    return (int)n;
}

int hal_uart_read(int uart, void *buf, size_t size)
{
    if (uart != 0 || !fake_uart.open)
        return HAL_EINVAL;
    size_t n = size < uart_rx_len ? size : uart_rx_len;
    memcpy(buf, uart_rx, n);
    memmove(uart_rx, uart_rx + n, uart_rx_len - n);
    uart_rx_len -= (unsigned)n;
    return (int)n;
}

void hal_uart_close(int uart)
{
    if (uart == 0)
        fake_uart.open = false;
}
