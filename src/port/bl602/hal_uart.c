/*
 * hal_uart.c — the spare UART of the BL602 (UART1; UART0 is the console)
 * for a chip on the board such as a BL0942, through the SDK's hosal_uart.
 *
 * Any two GPIOs can carry it, except two whose numbers are equal modulo 8:
 * the BL602 routes UART signal n%8 of GPIO n, so such a pair would share
 * one signal.  Received bytes are taken out of the 32-byte FIFO by the
 * receive interrupt into a ring here (at 4800 baud a 23-byte answer fits
 * the FIFO, but a loop held up by a flash erase must not lose the next
 * one); writes go into the transmit FIFO only as far as it has room, so
 * hal_uart_write() never waits.
 *
 * A chip on GPIO16 / GPIO7, where most modules bring out UART0, takes those
 * pins from the console: the log then goes to the web log only.
 */
#include <hosal_uart.h>

#include "bl602_port.h"
#include "hal/hal.h"

#define SPARE_UART 1u
#define RX_RING_SIZE 256u /* a power of two: indexes wrap by masking */
#define NO_PIN 255u       /* hosal's "not used" for CTS / RTS */

static hosal_uart_dev_t spare;
static bool spare_open;
static int spare_pins[2] = {-1, -1};

/* Single producer (the interrupt), single consumer (the loop). */
static uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head, rx_tail;

static int on_receive(void *unused)
{
    (void)unused;
    uint8_t byte;
    while (hosal_uart_receive(&spare, &byte, 1) == 1) {
        if (rx_head - rx_tail == RX_RING_SIZE)
            continue; /* the loop has not read 256 bytes: this one is lost */
        rx_ring[rx_head % RX_RING_SIZE] = byte;
        rx_head++;
    }
    return 0;
}

int hal_uart_open(int tx_pin, int rx_pin, uint32_t baud, enum hal_uart_framing framing)
{
    if (tx_pin < 0 || tx_pin >= hal_pin_count() || rx_pin < 0 || rx_pin >= hal_pin_count() ||
        tx_pin % 8 == rx_pin % 8 || baud < 1200 || baud > 2000000 ||
        (framing != HAL_UART_8N1 && framing != HAL_UART_8E1))
        return HAL_EINVAL;
    if (spare_open)
        return HAL_EBUSY;
    spare = (hosal_uart_dev_t){
        .config =
            {
                .uart_id = SPARE_UART,
                .tx_pin = (uint8_t)tx_pin,
                .rx_pin = (uint8_t)rx_pin,
                .cts_pin = NO_PIN,
                .rts_pin = NO_PIN,
                .baud_rate = baud,
                .data_width = HOSAL_DATA_WIDTH_8BIT,
                .parity = framing == HAL_UART_8E1 ? HOSAL_EVEN_PARITY : HOSAL_NO_PARITY,
                .stop_bits = HOSAL_STOP_BITS_1,
                .flow_control = HOSAL_FLOW_CONTROL_DISABLED,
                .mode = HOSAL_UART_MODE_POLL,
            },
    };
    rx_head = rx_tail = 0;
    if (hosal_uart_init(&spare) != 0)
        return HAL_EIO;
    hosal_uart_callback_set(&spare, HOSAL_UART_RX_CALLBACK, on_receive, NULL);
    hosal_uart_ioctl(&spare, HOSAL_UART_MODE_SET, (void *)HOSAL_UART_MODE_INT); /* registers the callback; TX interrupts stay off */
    spare_open = true;
    spare_pins[0] = tx_pin;
    spare_pins[1] = rx_pin;
    return 0;
}

int hal_uart_write(int uart, const void *data, size_t len)
{
    if (uart != 0 || !spare_open)
        return HAL_EINVAL;
    uint32_t room = 0;
    hosal_uart_ioctl(&spare, HOSAL_UART_FREE_TXFIFO_GET, &room);
    uint32_t n = len < room ? (uint32_t)len : room;
    return n ? hosal_uart_send(&spare, data, n) : 0;
}

int hal_uart_read(int uart, void *buf, size_t size)
{
    if (uart != 0 || !spare_open)
        return HAL_EINVAL;
    uint8_t *out = buf;
    size_t n = 0;
    while (n < size && rx_tail != rx_head) {
        out[n++] = rx_ring[rx_tail % RX_RING_SIZE];
        rx_tail++;
    }
    return (int)n;
}

void hal_uart_close(int uart)
{
    if (uart != 0 || !spare_open)
        return;
    hosal_uart_finalize(&spare);
    spare_open = false;
    for (int i = 0; i < 2; i++) {
        hal_pin_mode(spare_pins[i], HAL_PIN_DISABLED); /* back from the UART function to a plain GPIO */
        spare_pins[i] = -1;
    }
}
