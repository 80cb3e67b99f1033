/*
 * sim_uart.c — the board's spare UART (the BL602's UART1: hal_uart_*) and
 * the wires from it to a chip on the board, in device time.
 *
 * A byte on a wire takes its frame (start bit, 8 data bits, parity if any,
 * stop bit) at the sender's baud: the plug's transmitter sends one byte
 * after the other from a 32-byte FIFO, as the BL602's does, and each byte
 * reaches the chip (sim_bl0942_line_byte()) at the instant its stop bit
 * ends.  What the chip sends comes back the same way into the receive ring
 * (256 bytes; older bytes are lost when it is full), and hal_uart_read()
 * sees a byte only from its arrival on.  A byte crosses only when both
 * ends use the same GPIO for the wire and the same baud and framing:
 * anything else is line noise to the receiver, which takes nothing (a
 * real UART would see framing errors).  No event is queued: the time of
 * each byte is known when it is sent, and the receiver looks when it reads.
 */
#include <string.h>

#include "sim.h"

#define TX_FIFO 32u
#define RX_RING 256u

struct rx_byte {
    uint64_t t_us; /* its arrival: readable from then on */
    uint8_t byte;
};

static struct {
    bool open;
    int tx_pin, rx_pin;
    uint32_t baud;
    enum hal_uart_framing framing;
    uint64_t tx_done_us; /* the transmitter is busy until then */
    struct rx_byte rx[RX_RING];
    uint32_t rx_head, rx_tail; /* ring indexes, wrap by masking */
    uint64_t rx_lost, line_noise;
    uint64_t chip_tx_done_us; /* the chip's transmitter: one byte after the other */
} uart;

/* Microseconds one byte takes on the wire. */
static uint64_t frame_us(uint32_t baud, enum hal_uart_framing framing)
{
    unsigned bits = framing == HAL_UART_8E1 ? 11u : 10u;
    return ((uint64_t)bits * 1000000u + baud - 1) / baud;
}

int hal_uart_open(int tx_pin, int rx_pin, uint32_t baud, enum hal_uart_framing framing)
{
    if (tx_pin < 0 || tx_pin >= SIM_PINS || rx_pin < 0 || rx_pin >= SIM_PINS || tx_pin == rx_pin || baud < 1200 ||
        baud > 2000000 || (framing != HAL_UART_8N1 && framing != HAL_UART_8E1))
        return HAL_EINVAL;
    if (uart.open)
        return HAL_EBUSY;
    uint64_t chip_tx_done_us = uart.chip_tx_done_us, rx_lost = uart.rx_lost, line_noise = uart.line_noise;
    memset(&uart, 0, sizeof uart);
    uart.chip_tx_done_us = chip_tx_done_us; /* the chip's side and the figures outlive an open */
    uart.rx_lost = rx_lost;
    uart.line_noise = line_noise;
    uart.open = true;
    uart.tx_pin = tx_pin;
    uart.rx_pin = rx_pin;
    uart.baud = baud;
    uart.framing = framing;
    return 0;
}

void hal_uart_close(int handle)
{
    if (handle == 0)
        uart.open = false;
}

int hal_uart_write(int handle, const void *data, size_t len)
{
    if (handle != 0 || !uart.open)
        return HAL_EINVAL;
    uint64_t now = sim_now_us(), frame = frame_us(uart.baud, uart.framing);
    if (uart.tx_done_us < now)
        uart.tx_done_us = now;
    size_t taken = 0;
    const uint8_t *bytes = data;
    while (taken < len && (uart.tx_done_us - now) / frame < TX_FIFO) {
        uart.tx_done_us += frame;
        sim_bl0942_line_byte(uart.tx_pin, uart.baud, uart.framing, bytes[taken++], uart.tx_done_us);
    }
    return (int)taken;
}

int hal_uart_read(int handle, void *buf, size_t size)
{
    if (handle != 0 || !uart.open)
        return HAL_EINVAL;
    uint64_t now = sim_now_us();
    size_t n = 0;
    uint8_t *out = buf;
    while (n < size && uart.rx_tail != uart.rx_head && uart.rx[uart.rx_tail % RX_RING].t_us <= now)
        out[n++] = uart.rx[uart.rx_tail++ % RX_RING].byte;
    return (int)n;
}

void sim_uart_to_plug(int gpio, uint32_t baud, enum hal_uart_framing framing, const uint8_t *bytes, size_t len,
                      uint64_t start_us)
{
    uint64_t frame = frame_us(baud, framing);
    if (start_us < uart.chip_tx_done_us)
        start_us = uart.chip_tx_done_us; /* still sending the last answer */
    uart.chip_tx_done_us = start_us + len * frame;
    bool heard = uart.open && gpio == uart.rx_pin && baud == uart.baud && framing == uart.framing;
    if (!heard) {
        uart.line_noise += len;
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (uart.rx_head - uart.rx_tail == RX_RING) {
            uart.rx_tail++; /* the oldest byte is overwritten */
            uart.rx_lost++;
        }
        uart.rx[uart.rx_head++ % RX_RING] = (struct rx_byte){start_us + (i + 1) * frame, bytes[i]};
    }
}

void sim_uart_stats(uint64_t *rx_lost, uint64_t *line_noise)
{
    *rx_lost = uart.rx_lost;
    *line_noise = uart.line_noise;
}
