/*
 * clock.c — time and the idle wait of the qemu-virt board, and the trap
 * dispatcher: the CLINT's mtime (10 MHz) gives hal_time_us()/hal_time_ms(),
 * its mtimecmp arms the machine timer interrupt, which ends hal_idle()'s
 * wfi at the timeout and runs the watchdog check.  Console input (the
 * UART's interrupt through the PLIC) ends the wait too.  Any trap that is
 * not one of these two interrupts is a crash: logged, then a reset.
 */
#include <stdio.h>

#include "hal/hal.h"
#include "virt.h"

#define TICKS_PER_US (VIRT_TIMEBASE_HZ / 1000000u)
#define TICKS_PER_MS (VIRT_TIMEBASE_HZ / 1000u)

static uint64_t idle_deadline = UINT64_MAX; /* ticks; the timer's other user is the watchdog */
static int64_t wallclock_offset_ms;
static bool wallclock_set;

uint64_t virt_ticks(void)
{
    volatile uint32_t *mtime = virt_reg(VIRT_CLINT_MTIME);
    uint32_t high, low;
    do {
        high = mtime[1];
        low = mtime[0];
    } while (high != mtime[1]);
    return (uint64_t)high << 32 | low;
}

/* Program mtimecmp without a spurious interrupt from a half-written value. */
static void timer_arm(uint64_t at)
{
    volatile uint32_t *cmp = virt_reg(VIRT_CLINT_MTIMECMP);
    cmp[1] = UINT32_MAX;
    cmp[0] = (uint32_t)at;
    cmp[1] = (uint32_t)(at >> 32);
}

static void timer_rearm(void)
{
    uint64_t wdt = virt_watchdog_deadline();
    timer_arm(idle_deadline < wdt ? idle_deadline : wdt);
}

void virt_timer_start(void)
{
    timer_rearm();
    __asm__ volatile("csrs mie, %0" ::"r"(VIRT_MIE_MTIE));
}

void virt_timer_interrupt(void)
{
    virt_watchdog_check();
    if (virt_ticks() >= idle_deadline)
        idle_deadline = UINT64_MAX;
    timer_rearm();
}

uint32_t hal_time_us(void) { return (uint32_t)(virt_ticks() / TICKS_PER_US); }
uint64_t hal_time_ms(void) { return virt_ticks() / TICKS_PER_MS; }

int64_t hal_wallclock_ms(void) { return wallclock_set ? (int64_t)hal_time_ms() + wallclock_offset_ms : -1; }

void hal_wallclock_set(int64_t unix_ms)
{
    wallclock_offset_ms = unix_ms - (int64_t)hal_time_ms();
    wallclock_set = true;
}

uint32_t hal_irq_lock(void)
{
    uint32_t previous;
    __asm__ volatile("csrrc %0, mstatus, %1" : "=r"(previous) : "r"(VIRT_MSTATUS_MIE) : "memory");
    return previous & VIRT_MSTATUS_MIE;
}

void hal_irq_unlock(uint32_t previous)
{
    if (previous & VIRT_MSTATUS_MIE)
        __asm__ volatile("csrs mstatus, %0" ::"r"(VIRT_MSTATUS_MIE) : "memory");
}

/* wfi with interrupts held off: a wake-up that comes between the check and
 * the wfi still ends the wfi (it waits for a pending interrupt, enabled or
 * not); the handlers then run in the short window with interrupts on. */
void hal_idle(uint32_t timeout_ms)
{
    uint64_t deadline = virt_ticks() + (uint64_t)timeout_ms * TICKS_PER_MS;
    uint32_t state = hal_irq_lock();
    idle_deadline = deadline;
    timer_rearm();
    while (!virt_uart_has_input() && virt_ticks() < deadline) {
        __asm__ volatile("wfi");
        hal_irq_unlock(state);
        state = hal_irq_lock();
    }
    idle_deadline = UINT64_MAX;
    timer_rearm();
    hal_irq_unlock(state);
}

static void crash(uint32_t mcause, uint32_t mepc)
{
    uint32_t mtval;
    __asm__ volatile("csrr %0, mtval" : "=r"(mtval));
    printf("qemu-virt: fatal trap, mcause %lu at pc 0x%08lx (mtval 0x%08lx)\n", (unsigned long)mcause,
           (unsigned long)mepc, (unsigned long)mtval);
    virt_reset(HAL_RESET_CRASH);
}

void virt_trap(uint32_t mcause, uint32_t mepc);
void virt_trap(uint32_t mcause, uint32_t mepc)
{
    if (mcause == (VIRT_MCAUSE_INTERRUPT | VIRT_IRQ_TIMER))
        virt_timer_interrupt();
    else if (mcause == (VIRT_MCAUSE_INTERRUPT | VIRT_IRQ_EXTERNAL))
        virt_uart_interrupt();
    else
        crash(mcause, mepc);
}
