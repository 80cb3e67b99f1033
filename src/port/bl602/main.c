/*
 * main.c — the BL602 port's entry: the SDK's start-up code (bfl_main)
 * brings up the UART, heap, interrupts and FreeRTOS, then calls main() from
 * its app task.  Here the port starts the chip services the HAL needs in
 * the order they depend on each other, runs the firmware's boot guard (the
 * trial boots and rollback of an update: boot2 does not do them), starts
 * lwIP and the Wi-Fi firmware, and creates the one task that runs the
 * firmware's main loop.
 */
#include <FreeRTOS.h>
#include <task.h>

#include <bl_sys.h>
#include <lwip/tcpip.h>

#include "bl602_port.h"
#include "core/firmware.h"
#include "core/ota/ota.h"
#include "hal/hal.h"

/* The loop runs the whole firmware, TLS handshakes (mbedTLS ECDHE) included,
 * which alone take several KiB of stack: 8 KiB leaves margin.  The high
 * water mark on a running plug (uxTaskGetStackHighWaterMark) should set it. */
#define LOOP_STACK_BYTES 8192u
#define LOOP_PRIORITY 15 /* the SDK's app task priority: below lwIP and the Wi-Fi tasks */

static void say(const char *text)
{
    size_t len = 0;
    while (text[len])
        len++;
    hal_console_write(text, len);
}

static void loop_task(void *unused)
{
    (void)unused;
    /* Wake-ups go to this task from now on; console input is the first. */
    bl602_loop_task_set(xTaskGetCurrentTaskHandle());
    bl602_console_init();
    if (bl602_net_init() != HAL_OK)
        say("openplug: the socket watcher did not start: sockets will not wake the loop\r\n");
    firmware_main();
}

int main(void)
{
    bl_sys_init(); /* reads the SDK's reset reason and presets the next one */
    bl602_time_init();
    bl602_system_init();
    if (bl602_flash_init() != HAL_OK)
        say("openplug: boot2 handed over no partition table: flash partitions are empty\r\n");
    /* The SDK's boot2 counts no trial boots: the firmware does, before lwIP,
     * the Wi-Fi firmware and the loop, any of which could crash or hang a
     * bad update (it needs the flash spans, the reset reason for its
     * restart and the clock for its log: all set up above). */
    ota_boot_guard();
    tcpip_init(NULL, NULL);
    bl602_wifi_init();
    if (xTaskCreate(loop_task, "openplug", LOOP_STACK_BYTES / sizeof(StackType_t), NULL, LOOP_PRIORITY, NULL) !=
        pdPASS) {
        say("openplug: no heap for the loop task\r\n");
        return 1;
    }
    return 0;
}
