/*
 * hal_time.c — the clocks: microseconds and milliseconds since reset from
 * the core's 64-bit machine timer (mtime, 10 MHz) read through the SDK's
 * bl_timer calls (plain register reads: safe in interrupts), and the wall
 * clock kept as an offset from that count, so it costs nothing to read and
 * moves only when hal_wallclock_set() says so.
 */
#include <bl_timer.h>

#include "bl602_port.h"
#include "hal/hal.h"

#define WALLCLOCK_UNSET INT64_MIN

static int64_t wallclock_offset_ms = WALLCLOCK_UNSET; /* unix ms at hal_time_ms() == 0 */

void bl602_time_init(void) { wallclock_offset_ms = WALLCLOCK_UNSET; }

/* The low 32 bits of the microsecond count: wraps as the HAL says. */
uint32_t hal_time_us(void) { return bl_timer_now_us(); }

uint64_t hal_time_ms(void) { return bl_timer_now_us64() / 1000u; }

int64_t hal_wallclock_ms(void)
{
    int64_t offset = wallclock_offset_ms;
    return offset == WALLCLOCK_UNSET ? -1 : offset + (int64_t)hal_time_ms();
}

void hal_wallclock_set(int64_t unix_ms) { wallclock_offset_ms = unix_ms - (int64_t)hal_time_ms(); }
