/*
 * hal_flash.c — flash by partition.  Where each partition lies comes from
 * the partition table boot2 booted with (its copy in RAM, read through
 * hal_boot2's lookups): FW is the slot running now, OTA the other slot of
 * the same entry, media and PSM the data areas.  Boot2 and the two table
 * copies sit at fixed places of every BL602 layout.  Reads, erases and
 * programs are the SDK's bl_flash calls on absolute addresses, each checked
 * against the partition's bounds; an erase is one sector per call.
 *
 * Switching slots after an update is not done here: the core rewrites the
 * table through HAL_PART_PTABLE (src/core/ota/ptable.c).
 */
#include <string.h>

#include <bl_flash.h>
#include <hal_boot2.h>

#include "bl602_port.h"
#include "hal/hal.h"

#define BOOT2_ADDRESS 0x0u
#define PTABLE_ADDRESS 0xE000u /* two copies, one sector each */

struct partition_span {
    uint32_t address, size;
};

static struct partition_span spans[HAL_PART_COUNT];

static void span_of_data_partition(enum hal_partition part, const char *name)
{
    uint32_t address = 0, size = 0;
    if (hal_boot2_partition_addr_active(name, &address, &size) == 0)
        spans[part] = (struct partition_span){address, size & ~(HAL_FLASH_SECTOR - 1)};
}

int bl602_flash_init(void)
{
    spans[HAL_PART_BOOT2] = (struct partition_span){BOOT2_ADDRESS, PTABLE_ADDRESS};
    spans[HAL_PART_PTABLE] = (struct partition_span){PTABLE_ADDRESS, 2 * HAL_FLASH_SECTOR};
    uint32_t address[2], size[2];
    int active = 0;
    if (hal_boot2_partition_addr("FW", &address[0], &address[1], &size[0], &size[1], &active) != 0)
        return HAL_EIO;
    active = active ? 1 : 0;
    spans[HAL_PART_FW] = (struct partition_span){address[active], size[active] & ~(HAL_FLASH_SECTOR - 1)};
    spans[HAL_PART_OTA] = (struct partition_span){address[!active], size[!active] & ~(HAL_FLASH_SECTOR - 1)};
    span_of_data_partition(HAL_PART_MEDIA, "media");
    span_of_data_partition(HAL_PART_PSM, "PSM");
    return HAL_OK;
}

/* The absolute address of [offset, offset+len) of a partition, or
 * UINT32_MAX when the range is not inside it. */
static uint32_t locate(enum hal_partition part, uint32_t offset, uint32_t len)
{
    if ((unsigned)part >= HAL_PART_COUNT || spans[part].size == 0)
        return UINT32_MAX;
    if (offset > spans[part].size || len > spans[part].size - offset)
        return UINT32_MAX;
    return spans[part].address + offset;
}

uint32_t hal_flash_size(enum hal_partition part)
{
    return (unsigned)part < HAL_PART_COUNT ? spans[part].size : 0;
}

int hal_flash_read(enum hal_partition part, uint32_t offset, void *buf, uint32_t len)
{
    uint32_t at = locate(part, offset, len);
    if (at == UINT32_MAX)
        return HAL_EINVAL;
    return bl_flash_read(at, buf, (int)len) == 0 ? HAL_OK : HAL_EIO;
}

int hal_flash_erase_sector(enum hal_partition part, uint32_t offset)
{
    uint32_t at = locate(part, offset, HAL_FLASH_SECTOR);
    if (at == UINT32_MAX || offset % HAL_FLASH_SECTOR)
        return HAL_EINVAL;
    return bl_flash_erase(at, HAL_FLASH_SECTOR) == 0 ? HAL_OK : HAL_EIO;
}

int hal_flash_program(enum hal_partition part, uint32_t offset, const void *buf, uint32_t len)
{
    uint32_t at = locate(part, offset, len);
    if (at == UINT32_MAX)
        return HAL_EINVAL;
    /* bl_flash_write takes a non-const pointer but only reads the data. */
    return bl_flash_write(at, (uint8_t *)(uintptr_t)buf, (int)len) == 0 ? HAL_OK : HAL_EIO;
}
