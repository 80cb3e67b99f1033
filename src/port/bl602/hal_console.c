/*
 * hal_console.c — the serial console on UART0 (the SDK's stdio UART,
 * `uart_stdio`, set up by its start-up code) and the main loop's idle
 * wait.
 *
 * Received bytes are taken out of the UART's 32-byte FIFO by the receive
 * interrupt into a ring here (a line typed or pasted must not overrun the
 * FIFO while the loop is busy), and the loop task is woken.  Writes go out
 * through the FIFO by polling: log lines are short, and a console that
 * drops log text is worse than one that takes its time.
 *
 * hal_idle() blocks the loop task on its FreeRTOS task notification, which
 * pin interrupts, console input, the socket watcher and Wi-Fi events give.
 */
#include <FreeRTOS.h>
#include <task.h>

#include <hosal_uart.h>

#include "bl602_port.h"
#include "hal/hal.h"

#define CONSOLE_RING_SIZE 256u /* a power of two: indexes wrap by masking */

extern hosal_uart_dev_t uart_stdio; /* the SDK's UART0 device (bfl_main.c) */

static volatile TaskHandle_t loop_task;

/* Single producer (the interrupt), single consumer (the loop task). */
static uint8_t console_ring[CONSOLE_RING_SIZE];
static volatile uint32_t ring_head, ring_tail;

void bl602_loop_task_set(void *task_handle) { loop_task = task_handle; }

void bl602_wake_loop(void)
{
    if (loop_task)
        xTaskNotifyGive(loop_task);
}

void bl602_wake_loop_from_isr(void)
{
    BaseType_t switch_needed = pdFALSE;
    if (loop_task)
        vTaskNotifyGiveFromISR(loop_task, &switch_needed);
    portYIELD_FROM_ISR(switch_needed);
}

static int on_uart_receive(void *unused)
{
    (void)unused;
    uint8_t byte;
    while (hosal_uart_receive(&uart_stdio, &byte, 1) == 1) {
        if (ring_head - ring_tail < CONSOLE_RING_SIZE) {
            console_ring[ring_head % CONSOLE_RING_SIZE] = byte;
            ring_head++;
        } /* else: the loop has not read 256 bytes; this one is lost */
    }
    bl602_wake_loop_from_isr();
    return 0;
}

void bl602_console_init(void)
{
    hosal_uart_callback_set(&uart_stdio, HOSAL_UART_RX_CALLBACK, on_uart_receive, NULL);
    hosal_uart_ioctl(&uart_stdio, HOSAL_UART_MODE_SET, (void *)HOSAL_UART_MODE_INT);
}

void hal_console_write(const char *text, size_t len)
{
    hosal_uart_send(&uart_stdio, text, (uint32_t)len);
}

size_t hal_console_read(char *buf, size_t size)
{
    size_t count = 0;
    while (count < size && ring_tail != ring_head) {
        buf[count++] = (char)console_ring[ring_tail % CONSOLE_RING_SIZE];
        ring_tail++;
    }
    return count;
}

void hal_idle(uint32_t timeout_ms)
{
    bl602_net_before_idle();
    if (ring_tail != ring_head)
        return; /* input already waiting */
    /* Round up: a wait shorter than the tick it was asked for would wake
     * the loop before its timer is due, only to sleep again. */
    TickType_t ticks = (TickType_t)((timeout_ms + portTICK_PERIOD_MS - 1) / portTICK_PERIOD_MS);
    ulTaskNotifyTake(pdTRUE, ticks);
}
