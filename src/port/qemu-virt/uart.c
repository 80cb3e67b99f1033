/*
 * uart.c — the serial console of the qemu-virt board: the 16550A UART at
 * 0x10000000.  Output is polled (the transmitter is ready at once under
 * QEMU); input arrives by the UART's receive interrupt, routed through the
 * PLIC, into a ring that hal_console_read() empties.  The interrupt also
 * wakes hal_idle().  The board has no second UART: hal_uart_open() says
 * so (HAL_EIO), so a BL0942 meter cannot start here.
 */
#include "hal/hal.h"
#include "virt.h"

#define UART_RBR 0 /* receive buffer (read) */
#define UART_THR 0 /* transmit holding (write) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_LSR 5
#define UART_LSR_DATA_READY 0x01u
#define UART_LSR_THR_EMPTY 0x20u
#define UART_IER_RX 0x01u

#define PLIC_PRIORITY(irq) (VIRT_PLIC + 4u * (irq))
#define PLIC_ENABLE_HART0_M (VIRT_PLIC + 0x2000u)
#define PLIC_THRESHOLD_HART0_M (VIRT_PLIC + 0x200000u)
#define PLIC_CLAIM_HART0_M (VIRT_PLIC + 0x200004u)

#define RX_RING_SIZE 256u /* a power of two; a typed line fits many times */

static uint8_t rx_ring[RX_RING_SIZE];
static volatile uint32_t rx_head, rx_tail; /* head: written by the interrupt */

static volatile uint8_t *uart_reg(unsigned offset) { return (volatile uint8_t *)(uintptr_t)(VIRT_UART + offset); }

void virt_uart_init(void)
{
    *uart_reg(UART_LCR) = 0x03; /* 8N1; QEMU ignores the divisor */
    *uart_reg(UART_FCR) = 0x07; /* FIFOs on and cleared */
    *uart_reg(UART_IER) = UART_IER_RX;
    *virt_reg(PLIC_PRIORITY(VIRT_UART_IRQ)) = 1;
    *virt_reg(PLIC_ENABLE_HART0_M) = 1u << VIRT_UART_IRQ;
    *virt_reg(PLIC_THRESHOLD_HART0_M) = 0;
    __asm__ volatile("csrs mie, %0" ::"r"(VIRT_MIE_MEIE));
}

/* Everything the UART holds goes to the ring; what does not fit is lost,
 * as on a chip whose loop falls behind. */
void virt_uart_interrupt(void)
{
    uint32_t claimed = *virt_reg(PLIC_CLAIM_HART0_M);
    while (*uart_reg(UART_LSR) & UART_LSR_DATA_READY) {
        uint8_t byte = *uart_reg(UART_RBR);
        if (rx_head - rx_tail < RX_RING_SIZE)
            rx_ring[rx_head++ % RX_RING_SIZE] = byte;
    }
    *virt_reg(PLIC_CLAIM_HART0_M) = claimed;
}

bool virt_uart_has_input(void) { return rx_head != rx_tail; }

size_t hal_console_read(char *buf, size_t size)
{
    size_t n = 0;
    while (n < size && rx_tail != rx_head)
        buf[n++] = (char)rx_ring[rx_tail++ % RX_RING_SIZE];
    return n;
}

void hal_console_write(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (!(*uart_reg(UART_LSR) & UART_LSR_THR_EMPTY))
            continue;
        *uart_reg(UART_THR) = (uint8_t)text[i];
    }
}

/* ---- No spare UART on this board ---- */

int hal_uart_open(int tx_pin, int rx_pin, uint32_t baud, enum hal_uart_framing framing)
{
    (void)tx_pin, (void)rx_pin, (void)baud, (void)framing;
    return HAL_EIO;
}

int hal_uart_write(int uart, const void *data, size_t len)
{
    (void)uart, (void)data, (void)len;
    return HAL_EINVAL;
}

int hal_uart_read(int uart, void *buf, size_t size)
{
    (void)uart, (void)buf, (void)size;
    return HAL_EINVAL;
}

void hal_uart_close(int uart) { (void)uart; }
