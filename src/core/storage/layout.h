/*
 * layout.h — where the core keeps its records in the PSM (key-value)
 * partition.  Changing a line here orphans data already in the field.
 *
 *   sectors 0-3  configuration ring, 2 KiB slots (2 saves per erase)
 *   sectors 4-5  relay boot record ring, 32-byte slots (128 toggles per erase)
 *   sectors 6-7  boot health ring, 32-byte slots: boot counts for safe mode,
 *                two appends a boot (start, then good after 30 s)
 *
 * and in the media (data) partition:
 *   sectors 0-15 energy counters ring, 64-byte slots (1024 records: at
 *                3.68 kW and a save every 10 Wh, each sector is erased
 *                8.6 times a day: 32 years at 100k cycles)
 *   sectors 16-23 energy history (hourly, daily, monthly and yearly bars of
 *                the UI and their cost), 1024-byte slots since record
 *                version 2 (512 before: history.c reads a version 1
 *                record in those once); 32 records: a save each hour and
 *                at most every 10 minutes of metering (about 170 a day),
 *                5.3 erases of a sector a day (50 years at 100k cycles)
 *   sectors 24-55 file store (files.h): 8 slots of two 2-sector banks
 *   sector  56   free (the partition table's "media" has 57 sectors,
 *                docs/flashing.md; the SDK's standard table had 87)
 */
#ifndef OPENPLUG_LAYOUT_H
#define OPENPLUG_LAYOUT_H

#include "hal/hal.h"

#define LAYOUT_CONFIG_OFFSET (0 * HAL_FLASH_SECTOR)
#define LAYOUT_CONFIG_SECTORS 4
#define LAYOUT_CONFIG_SLOT 2048
#define LAYOUT_CONFIG_MAGIC 0xC5

#define LAYOUT_BOOT_OFFSET (4 * HAL_FLASH_SECTOR)
#define LAYOUT_BOOT_SECTORS 2
#define LAYOUT_BOOT_SLOT 32
#define LAYOUT_BOOT_MAGIC 0xB7

#define LAYOUT_HEALTH_OFFSET (6 * HAL_FLASH_SECTOR)
#define LAYOUT_HEALTH_SECTORS 2
#define LAYOUT_HEALTH_SLOT 32
#define LAYOUT_HEALTH_MAGIC 0xA9

#define LAYOUT_ENERGY_OFFSET (0 * HAL_FLASH_SECTOR) /* in HAL_PART_MEDIA */
#define LAYOUT_ENERGY_SECTORS 16
#define LAYOUT_ENERGY_SLOT 64
#define LAYOUT_ENERGY_MAGIC 0xE3

#define LAYOUT_HISTORY_OFFSET (16 * HAL_FLASH_SECTOR) /* in HAL_PART_MEDIA */
#define LAYOUT_HISTORY_SECTORS 8
#define LAYOUT_HISTORY_SLOT 1024
#define LAYOUT_HISTORY_SLOT_V1 512 /* record version 1's slots, read once to carry it over */
#define LAYOUT_HISTORY_MAGIC 0xD4

#define LAYOUT_FILES_OFFSET (24 * HAL_FLASH_SECTOR) /* in HAL_PART_MEDIA */
#define LAYOUT_FILES_SECTORS 32

#endif
