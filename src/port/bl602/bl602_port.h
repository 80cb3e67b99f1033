/*
 * bl602_port.h — what the files of the BL602 port share with each other
 * (never with the core): the loop task that hal_idle() puts to sleep, the
 * wake-ups that interrupts and helper tasks send it, and the start-up
 * calls main.c makes in order.  The core sees only src/hal/.
 */
#ifndef OPENPLUG_BL602_PORT_H
#define OPENPLUG_BL602_PORT_H

#include <stdbool.h>
#include <stdint.h>

/* The FreeRTOS task that runs firmware_main(); set once by main.c before
 * any interrupt source of the port is enabled. */
void bl602_loop_task_set(void *task_handle);

/* Wake the loop task out of hal_idle().  From a task, and the interrupt
 * version, which also asks for a context switch at the end of the ISR. */
void bl602_wake_loop(void);
void bl602_wake_loop_from_isr(void);

/* From hal_idle(), just before the loop task sleeps: hand the socket
 * watcher the watch set as it is now (hal_net.c). */
void bl602_net_before_idle(void);

/* Start-up, in this order, from main.c (before the loop task runs). */
void bl602_time_init(void);
void bl602_system_init(void);  /* reset cause, retained RAM */
int bl602_flash_init(void);    /* partition addresses from boot2's table */
void bl602_console_init(void); /* UART0 receive interrupt */
void bl602_wifi_init(void);    /* Wi-Fi firmware task and events */
int bl602_net_init(void);      /* the socket watcher task (needs lwIP up) */

#endif
