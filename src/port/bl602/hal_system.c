/*
 * hal_system.c — watchdog, reboot and reset cause, retained RAM, random
 * numbers, heap figures and the chip's names, on the SDK's bl_wdt, bl_sys,
 * the SEC engine's TRNG and FreeRTOS's heap.
 *
 * Why a boot happened comes from two places.  The SDK keeps its own reset
 * reason in HBN RAM (bl_sys_rstinfo_*): power-off, software reset, or
 * "software watchdog", which it presets at every boot so that any reset it
 * did not plan (the hardware watchdog, a fatal exception that spun until
 * the watchdog bit) reads as a watchdog reset.  The firmware's own code for
 * hal_reboot() rides in the retained record below.
 *
 * Retained RAM is a record in the section ".noinit.openplug_retained".  The
 * start-up code (start.S) zeroes only .bss and .wifibss and copies .data,
 * so a NOLOAD output section outside those keeps its bytes across a reset;
 * the SDK's stock linker script has none, and the image's link must add
 * one (the exact section is in cmake/bl602-sdk.cmake).  RAM holds noise after a
 * power-on and boot2 may reuse memory, so the record carries a magic and a
 * CRC: whatever fails them reads as all zero, as the HAL promises.
 */
#include <stddef.h>
#include <string.h>

#include <FreeRTOS.h>
#include <task.h>

#include <bl_sec_trng.h>
#include <bl_sys.h>
#include <bl_wdt.h>

#include "bl602_port.h"
#include "core/util/crc32.h"
#include "hal/hal.h"

#define RETAINED_MAGIC 0x4F50524Eu /* "OPRN" */
#define WDT_MAX_MS 65534u          /* bl_wdt_init refuses 65535 (16-bit compare) */

struct retained_record {
    uint32_t magic;
    uint32_t reboot_reason; /* hal_reboot()'s code for the next boot; 0 none */
    uint8_t core_bytes[HAL_RETAINED_SIZE];
    uint32_t crc;
};

static struct retained_record retained __attribute__((section(".noinit.openplug_retained")));
static uint32_t reset_cause = HAL_RESET_POWER_ON;

static uint32_t retained_crc(void) { return crc32_update(0, &retained, offsetof(struct retained_record, crc)); }

static void retained_seal(void)
{
    retained.magic = RETAINED_MAGIC;
    retained.crc = retained_crc();
}

static bool retained_valid(void) { return retained.magic == RETAINED_MAGIC && retained.crc == retained_crc(); }

static uint32_t cause_from_sdk(BL_RST_REASON_E sdk_reason, uint32_t reboot_reason)
{
    switch (sdk_reason) {
    case BL_RST_POWER_OFF:
        return HAL_RESET_POWER_ON;
    case BL_RST_SOFTWARE:
        return reboot_reason ? reboot_reason : HAL_RESET_SOFTWARE;
    case BL_RST_FATAL_EXCEPTION:
        return HAL_RESET_CRASH;
    case BL_RST_HARDWARE_WATCHDOG:
    case BL_RST_SOFTWARE_WATCHDOG:
        break;
    }
    return HAL_RESET_WATCHDOG;
}

/* After bl_sys_init() (which reads and re-arms the SDK's reason). */
void bl602_system_init(void)
{
    BL_RST_REASON_E sdk_reason = bl_sys_rstinfo_get();
    if (sdk_reason == BL_RST_POWER_OFF || !retained_valid())
        memset(&retained, 0, sizeof retained);
    reset_cause = cause_from_sdk(sdk_reason, retained.reboot_reason);
    retained.reboot_reason = 0; /* handed over once: an unplanned reset next is a watchdog */
    retained_seal();
}

uint32_t hal_reset_cause(void) { return reset_cause; }

void hal_reboot(uint32_t reason)
{
    retained.reboot_reason = reason;
    retained_seal();
    bl_sys_reset_por(); /* records BL_RST_SOFTWARE, then resets the chip */
    for (;;) {
    }
}

void hal_retained_read(void *buf, size_t len)
{
    memcpy(buf, retained.core_bytes, len < HAL_RETAINED_SIZE ? len : HAL_RETAINED_SIZE);
}

void hal_retained_write(const void *buf, size_t len)
{
    memcpy(retained.core_bytes, buf, len < HAL_RETAINED_SIZE ? len : HAL_RETAINED_SIZE);
    retained_seal();
}

int hal_wdt_start(uint32_t timeout_ms)
{
    if (timeout_ms < 1 || timeout_ms > 65535)
        return HAL_EINVAL;
    return bl_wdt_init((int)(timeout_ms < WDT_MAX_MS ? timeout_ms : WDT_MAX_MS)) == 0 ? HAL_OK : HAL_EIO;
}

void hal_wdt_feed(void) { bl_wdt_feed(); }

/* The SEC engine's true random number generator (started by bl_sec_init()
 * in the SDK's early init). */
uint32_t hal_random(void) { return bl_sec_get_random_word(); }

void hal_random_secret(void *out, size_t len)
{
    uint8_t *p = out;
    for (size_t i = 0; i < len; i += 4) {
        uint32_t word = bl_sec_get_random_word();
        memcpy(p + i, &word, len - i < 4 ? len - i : 4);
    }
}

/* Both heap regions FreeRTOS's heap_5 was given (TCM and the Wi-Fi RAM). */
uint32_t hal_heap_free(void) { return (uint32_t)xPortGetFreeHeapSize(); }
uint32_t hal_heap_min_free(void) { return (uint32_t)xPortGetMinimumEverFreeHeapSize(); }

const char *hal_chip_name(void) { return "BL602"; }
const char *hal_board_name(void) { return "BL602 smart plug (BL0937)"; }
