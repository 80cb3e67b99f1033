/*
 * flash.c — the qemu-virt board's 2 MiB NOR flash: a RAM region in the
 * .keep section (see qemu-virt.ld), which a reset leaves alone, with NOR
 * rules (erase sets a 4 KiB sector to 0xFF, programming only clears bits)
 * and the BL602's standard 2 MB partition table at 0xE000/0xF000, as the
 * simulator lays it out.  A QEMU start is a new chip: erased, with fresh
 * partition tables (virt_flash_power_on()).  Erase and program run with
 * interrupts held off, as on the chip.
 */
#include <string.h>

#include "core/ota/ptable.h"
#include "hal/hal.h"
#include "virt.h"

#define FLASH_SIZE (2u * 1024 * 1024)
#define PTABLE_ADDR 0xE000u /* two copies, 4 KiB apart */

static uint8_t flash[FLASH_SIZE] __attribute__((section(".keep.flash"), aligned(HAL_FLASH_SECTOR)));
static struct {
    uint32_t address, size;
} parts[HAL_PART_COUNT];

void virt_flash_power_on(void)
{
    struct ptable table;
    uint8_t bytes[PTABLE_MAX_BYTES];
    memset(flash, 0xFF, sizeof flash);
    ptable_default(&table);
    size_t len = ptable_serialize(&table, bytes);
    for (uint32_t copy = 0; copy < 2; copy++)
        memcpy(flash + PTABLE_ADDR + copy * HAL_FLASH_SECTOR, bytes, len);
}

static void map_entry(const struct ptable_entry *entry)
{
    unsigned active = entry->active_index & 1;
    switch (entry->type) {
    case PTABLE_FW:
        parts[HAL_PART_FW].address = entry->address[active];
        parts[HAL_PART_FW].size = entry->max_len[active];
        parts[HAL_PART_OTA].address = entry->address[!active];
        parts[HAL_PART_OTA].size = entry->max_len[!active];
        break;
    case PTABLE_MEDIA:
        parts[HAL_PART_MEDIA].address = entry->address[0];
        parts[HAL_PART_MEDIA].size = entry->max_len[0];
        break;
    case PTABLE_PSM:
        parts[HAL_PART_PSM].address = entry->address[0];
        parts[HAL_PART_PSM].size = entry->max_len[0];
        break;
    default:
        break;
    }
}

/* The partitions of the table boot2 would pick; false when neither copy is valid. */
bool virt_flash_map_partitions(void)
{
    struct ptable table;
    if (ptable_pick(flash + PTABLE_ADDR, flash + PTABLE_ADDR + HAL_FLASH_SECTOR, PTABLE_MAX_BYTES, &table) < 0)
        return false;
    parts[HAL_PART_BOOT2].size = PTABLE_ADDR;
    parts[HAL_PART_PTABLE].address = PTABLE_ADDR;
    parts[HAL_PART_PTABLE].size = 2 * HAL_FLASH_SECTOR;
    for (uint16_t i = 0; i < table.count; i++)
        map_entry(&table.entries[i]);
    return true;
}

/* The absolute address of a range inside a partition, or UINT32_MAX. */
static uint32_t locate(enum hal_partition part, uint32_t offset, uint32_t len)
{
    if ((unsigned)part >= HAL_PART_COUNT || offset > parts[part].size || len > parts[part].size - offset)
        return UINT32_MAX;
    uint32_t at = parts[part].address + offset;
    return at <= FLASH_SIZE && len <= FLASH_SIZE - at ? at : UINT32_MAX;
}

uint32_t hal_flash_size(enum hal_partition part) { return (unsigned)part < HAL_PART_COUNT ? parts[part].size : 0; }

int hal_flash_read(enum hal_partition part, uint32_t offset, void *buf, uint32_t len)
{
    uint32_t at = locate(part, offset, len);
    if (at == UINT32_MAX)
        return HAL_EINVAL;
    memcpy(buf, flash + at, len);
    return HAL_OK;
}

int hal_flash_erase_sector(enum hal_partition part, uint32_t offset)
{
    uint32_t at = locate(part, offset, HAL_FLASH_SECTOR);
    if (at == UINT32_MAX || offset % HAL_FLASH_SECTOR)
        return HAL_EINVAL;
    uint32_t state = hal_irq_lock();
    memset(flash + at, 0xFF, HAL_FLASH_SECTOR);
    hal_irq_unlock(state);
    return HAL_OK;
}

int hal_flash_program(enum hal_partition part, uint32_t offset, const void *buf, uint32_t len)
{
    uint32_t at = locate(part, offset, len);
    if (at == UINT32_MAX)
        return HAL_EINVAL;
    const uint8_t *data = buf;
    uint32_t state = hal_irq_lock();
    for (uint32_t i = 0; i < len; i++)
        flash[at + i] &= data[i]; /* NOR: bits only go from 1 to 0 */
    hal_irq_unlock(state);
    return HAL_OK;
}
