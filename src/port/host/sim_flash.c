/*
 * sim_flash.c — a 2 MiB NOR flash in a file, with the BL602 2 MB partition
 * layout and NOR rules: erase sets a 4 KiB sector to 0xFF, programming can
 * only clear bits.  With --flash-timing real an erase takes ~45 ms and a
 * program 30 us + 1.5 us per byte (typical of the GD25Q16 class), and the
 * simulator's interrupts are held off meanwhile, as on the chip.
 * --powercut-at-flash-op N tears the N-th operation halfway and cuts power.
 *
 * The file is mapped shared: every completed operation is in the file the
 * moment it returns, so a power cut (the process ending) loses nothing that
 * a real chip would have kept.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util/crc32.h"
#include "sim.h"

#define FLASH_SIZE (2u * 1024 * 1024)
#define PTABLE_ADDR 0xE000u /* two copies, 4 KiB apart */
#define PTABLE_MAGIC 0x54504642u /* "BFPT" */

/* The BL602 partition table layout (boot2's pt_table). */
struct ptable_header {
    uint32_t magic;
    uint16_t version;
    uint16_t entry_count;
    uint32_t age;
    uint32_t crc32; /* of the 12 bytes above */
};
struct ptable_entry {
    uint8_t type, device, active_index, reserved;
    char name[8];
    uint32_t address[2];
    uint32_t max_len[2];
    uint32_t len;
    uint32_t age;
};
_Static_assert(sizeof(struct ptable_entry) == 36, "BL602 layout");

enum { PT_FW = 0, PT_MFG = 2, PT_PSM = 3, PT_KEY = 4, PT_MEDIA = 5, PT_DATA = 6, PT_FACTORY = 7 };

static const struct ptable_entry default_entries[] = {
    {PT_FW, 0, 0, 0, "FW", {0x10000, 0xD8000}, {0xC8000, 0x88000}, 0, 0},
    {PT_MFG, 0, 0, 0, "mfg", {0x160000, 0}, {0x32000, 0}, 0, 0},
    {PT_MEDIA, 0, 0, 0, "media", {0x192000, 0}, {0x57000, 0}, 0, 0},
    {PT_PSM, 0, 0, 0, "PSM", {0x1E9000, 0}, {0x8000, 0}, 0, 0},
    {PT_KEY, 0, 0, 0, "KEY", {0x1F1000, 0}, {0x2000, 0}, 0, 0},
    {PT_DATA, 0, 0, 0, "DATA", {0x1F3000, 0}, {0x5000, 0}, 0, 0},
    {PT_FACTORY, 0, 0, 0, "factory", {0x1F8000, 0}, {0x7000, 0}, 0, 0},
};
#define ENTRY_COUNT (sizeof default_entries / sizeof default_entries[0])

static uint8_t *flash;
static struct { uint32_t address, size; } parts[HAL_PART_COUNT];
static uint64_t ops, erases; /* since the simulator started, across reboots */

uint64_t sim_flash_ops(void) { return ops; }
uint64_t sim_flash_erases(void) { return erases; }
void sim_flash_set_ops(uint64_t n, uint64_t erase_count)
{
    ops = n;
    erases = erase_count;
}

static void write_ptables(void)
{
    struct ptable_header h = {PTABLE_MAGIC, 0, ENTRY_COUNT, 0, 0};
    h.crc32 = crc32_update(0, &h, offsetof(struct ptable_header, crc32));
    uint32_t entries_crc = crc32_update(0, default_entries, sizeof default_entries);
    for (uint32_t copy = 0; copy < 2; copy++) {
        uint8_t *at = flash + PTABLE_ADDR + copy * HAL_FLASH_SECTOR;
        memcpy(at, &h, sizeof h);
        memcpy(at + sizeof h, default_entries, sizeof default_entries);
        memcpy(at + sizeof h + sizeof default_entries, &entries_crc, sizeof entries_crc);
    }
}

/* Boot2's rule: of the valid tables, the one with the higher age. */
static const struct ptable_entry *read_ptable(uint16_t *count)
{
    const struct ptable_entry *best = NULL;
    uint32_t best_age = 0;
    for (uint32_t copy = 0; copy < 2; copy++) {
        const uint8_t *at = flash + PTABLE_ADDR + copy * HAL_FLASH_SECTOR;
        struct ptable_header h;
        memcpy(&h, at, sizeof h);
        if (h.magic != PTABLE_MAGIC || h.entry_count == 0 || h.entry_count > 16 ||
            h.crc32 != crc32_update(0, &h, offsetof(struct ptable_header, crc32)))
            continue;
        uint32_t crc;
        memcpy(&crc, at + sizeof h + h.entry_count * sizeof(struct ptable_entry), sizeof crc);
        if (crc != crc32_update(0, at + sizeof h, h.entry_count * sizeof(struct ptable_entry)))
            continue;
        if (!best || h.age > best_age) {
            best = (const struct ptable_entry *)(at + sizeof h);
            best_age = h.age;
            *count = h.entry_count;
        }
    }
    return best;
}

static bool map_partitions(void)
{
    uint16_t count = 0;
    const struct ptable_entry *e = read_ptable(&count);
    if (!e)
        return false;
    parts[HAL_PART_BOOT2].size = PTABLE_ADDR;
    parts[HAL_PART_PTABLE].address = PTABLE_ADDR;
    parts[HAL_PART_PTABLE].size = 2 * HAL_FLASH_SECTOR;
    for (uint16_t i = 0; i < count; i++, e++) {
        unsigned active = e->active_index & 1;
        switch (e->type) {
        case PT_FW:
            parts[HAL_PART_FW].address = e->address[active];
            parts[HAL_PART_FW].size = e->max_len[active];
            parts[HAL_PART_OTA].address = e->address[!active];
            parts[HAL_PART_OTA].size = e->max_len[!active];
            break;
        case PT_MEDIA:
            parts[HAL_PART_MEDIA].address = e->address[0];
            parts[HAL_PART_MEDIA].size = e->max_len[0];
            break;
        case PT_PSM:
            parts[HAL_PART_PSM].address = e->address[0];
            parts[HAL_PART_PSM].size = e->max_len[0];
            break;
        default:
            break;
        }
    }
    return true;
}

bool sim_flash_open(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "openplug-sim: cannot open flash image %s: %m\n", path);
        return false;
    }
    bool fresh = st.st_size == 0;
    if (!fresh && st.st_size != FLASH_SIZE) {
        fprintf(stderr, "openplug-sim: %s is %lld bytes, not a 2 MiB flash image\n", path, (long long)st.st_size);
        close(fd);
        return false;
    }
    if (fresh && ftruncate(fd, FLASH_SIZE) != 0) {
        fprintf(stderr, "openplug-sim: cannot size %s: %m\n", path);
        close(fd);
        return false;
    }
    flash = mmap(NULL, FLASH_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (flash == MAP_FAILED) {
        fprintf(stderr, "openplug-sim: cannot map %s: %m\n", path);
        return false;
    }
    if (fresh) {
        memset(flash, 0xFF, FLASH_SIZE); /* a new chip is erased */
        write_ptables();
    }
    if (!map_partitions()) {
        fprintf(stderr, "openplug-sim: %s has no valid partition table\n", path);
        return false;
    }
    return true;
}

/* Range check; returns the absolute address or UINT32_MAX. */
static uint32_t locate(enum hal_partition part, uint32_t offset, uint32_t len)
{
    if ((unsigned)part >= HAL_PART_COUNT || !flash || offset > parts[part].size || len > parts[part].size - offset)
        return UINT32_MAX;
    return parts[part].address + offset;
}

uint32_t hal_flash_size(enum hal_partition part)
{
    return (unsigned)part < HAL_PART_COUNT ? parts[part].size : 0;
}

int hal_flash_read(enum hal_partition part, uint32_t offset, void *buf, uint32_t len)
{
    uint32_t at = locate(part, offset, len);
    if (at == UINT32_MAX)
        return HAL_EINVAL;
    memcpy(buf, flash + at, len);
    if (sim_opt.flash_timing_real) {
        /* Reads are short: wait once a millisecond's worth has piled up. */
        static uint64_t owed_ns;
        owed_ns += 2000 + (uint64_t)len * 50;
        if (sim_opt.virtual_time || owed_ns >= 1000000) {
            sim_busy_wait_us(owed_ns / 1000);
            owed_ns %= 1000;
        }
    }
    return HAL_OK;
}

/* Count an operation; the chosen one is torn: half done, then power off. */
static bool torn_here(void) { return ++ops == sim_opt.powercut_at_flash_op; }

int hal_flash_erase_sector(enum hal_partition part, uint32_t offset)
{
    uint32_t at = locate(part, offset, HAL_FLASH_SECTOR);
    if (at == UINT32_MAX || offset % HAL_FLASH_SECTOR)
        return HAL_EINVAL;
    if (torn_here()) {
        memset(flash + at, 0xFF, HAL_FLASH_SECTOR / 2);
        sim_powercut("flash erase torn by --powercut-at-flash-op");
    }
    erases++;
    if (sim_opt.flash_timing_real)
        sim_busy_wait_us(40000 + sim_random_model() % 10000); /* typical 45 ms */
    memset(flash + at, 0xFF, HAL_FLASH_SECTOR);
    return HAL_OK;
}

int hal_flash_program(enum hal_partition part, uint32_t offset, const void *buf, uint32_t len)
{
    uint32_t at = locate(part, offset, len);
    if (at == UINT32_MAX)
        return HAL_EINVAL;
    const uint8_t *data = buf;
    uint32_t done = torn_here() ? len / 2 : len;
    for (uint32_t i = 0; i < done; i++)
        flash[at + i] &= data[i]; /* NOR: bits only go from 1 to 0 */
    if (done < len)
        sim_powercut("flash program torn by --powercut-at-flash-op");
    if (sim_opt.flash_timing_real)
        sim_busy_wait_us(30 + len * 3 / 2);
    return HAL_OK;
}
