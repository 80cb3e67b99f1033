/*
 * virt.h — what the files of the qemu-virt board share: the device
 * addresses of QEMU's `virt` machine (riscv32) and the board's internal
 * functions.  Nothing of the core includes this.
 */
#ifndef OPENPLUG_QEMU_VIRT_H
#define OPENPLUG_QEMU_VIRT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRT_TEST_DEVICE 0x00100000u /* sifive_test: reset / power off */
#define VIRT_TEST_RESET 0x7777u
#define VIRT_CLINT 0x02000000u
#define VIRT_CLINT_MTIMECMP (VIRT_CLINT + 0x4000u) /* hart 0 */
#define VIRT_CLINT_MTIME (VIRT_CLINT + 0xBFF8u)
#define VIRT_TIMEBASE_HZ 10000000u /* mtime ticks per second */
#define VIRT_PLIC 0x0C000000u
#define VIRT_UART 0x10000000u /* 16550A */
#define VIRT_UART_IRQ 10u

#define VIRT_MCAUSE_INTERRUPT 0x80000000u
#define VIRT_IRQ_TIMER 7u    /* machine timer interrupt */
#define VIRT_IRQ_EXTERNAL 11u /* machine external interrupt (PLIC) */
#define VIRT_MIE_MTIE (1u << VIRT_IRQ_TIMER)
#define VIRT_MIE_MEIE (1u << VIRT_IRQ_EXTERNAL)
#define VIRT_MSTATUS_MIE 0x8u

static inline volatile uint32_t *virt_reg(uint32_t address) { return (volatile uint32_t *)(uintptr_t)address; }

/* Clock (clock.c): mtime, and the timer interrupt's work. */
uint64_t virt_ticks(void);
void virt_timer_interrupt(void);
void virt_timer_start(void);

/* Console (uart.c): set-up, the receive interrupt, bytes waiting. */
void virt_uart_init(void);
void virt_uart_interrupt(void);
bool virt_uart_has_input(void);

/* Flash (flash.c): a fresh chip is erased and gets its partition tables. */
void virt_flash_power_on(void);
bool virt_flash_map_partitions(void);

/* Reset and retained state (system.c). */
void virt_system_boot(void);
void virt_watchdog_check(void);
uint64_t virt_watchdog_deadline(void); /* in ticks; UINT64_MAX when stopped */
void virt_reset(uint32_t reason) __attribute__((noreturn));

/* Memory figures (syscalls.c). */
struct virt_memory {
    uint32_t data, bss;              /* static RAM from the linker's symbols */
    uint32_t heap_size, heap_peak;   /* heap region, and the _sbrk high-water mark */
    uint32_t stack_size, stack_peak; /* loop stack, and its painted high-water mark */
};
void virt_memory(struct virt_memory *out);
void virt_memory_report(void);
uint32_t virt_heap_in_use(void);

#endif
