/*
 * main.c — the qemu-virt board's entry after start.S: the console UART,
 * what survives a reset (system.c), the flash partitions, the timer; the
 * firmware's boot guard (tries and rollback of a firmware on trial); a boot
 * line with the static RAM; then the whole firmware (firmware_main()).
 */
#include <stdio.h>

#include "core/firmware.h"
#include "core/ota/ota.h"
#include "hal/hal.h"
#include "virt.h"

void virt_main(void);
void virt_main(void)
{
    virt_uart_init();
    virt_system_boot();
    if (!virt_flash_map_partitions()) {
        printf("qemu-virt: no valid partition table in flash\n");
        virt_reset(HAL_RESET_CRASH);
    }
    virt_timer_start();
    hal_irq_unlock(VIRT_MSTATUS_MIE); /* interrupts on: timer and console */
    ota_boot_guard(); /* needs the partitions, and the timer for its watchdog */
    virt_memory_report();
    firmware_main();
}
