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

#include "core/ota/ptable.h"
#include "sim.h"

#define FLASH_SIZE SIM_FLASH_SIZE
#define PTABLE_ADDR SIM_PTABLE_ADDR /* two copies, 4 KiB apart */

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
    struct ptable table;
    uint8_t bytes[PTABLE_MAX_BYTES];
    ptable_default(&table);
    size_t len = ptable_serialize(&table, bytes);
    for (uint32_t copy = 0; copy < 2; copy++)
        memcpy(flash + PTABLE_ADDR + copy * HAL_FLASH_SECTOR, bytes, len);
}

int sim_flash_ptable(struct ptable *out)
{
    return ptable_pick(flash + PTABLE_ADDR, flash + PTABLE_ADDR + HAL_FLASH_SECTOR, PTABLE_MAX_BYTES, out);
}

bool sim_flash_map_partitions(void)
{
    struct ptable table;
    if (sim_flash_ptable(&table) < 0)
        return false;
    const struct ptable_entry *e = table.entries;
    uint16_t count = table.count;
    parts[HAL_PART_BOOT2].size = PTABLE_ADDR;
    parts[HAL_PART_PTABLE].address = PTABLE_ADDR;
    parts[HAL_PART_PTABLE].size = 2 * HAL_FLASH_SECTOR;
    for (uint16_t i = 0; i < count; i++, e++) {
        unsigned active = e->active_index & 1;
        switch (e->type) {
        case PTABLE_FW:
            parts[HAL_PART_FW].address = e->address[active];
            parts[HAL_PART_FW].size = e->max_len[active];
            parts[HAL_PART_OTA].address = e->address[!active];
            parts[HAL_PART_OTA].size = e->max_len[!active];
            break;
        case PTABLE_MEDIA:
            parts[HAL_PART_MEDIA].address = e->address[0];
            parts[HAL_PART_MEDIA].size = e->max_len[0];
            break;
        case PTABLE_PSM:
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
    if (!sim_flash_map_partitions()) {
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

const uint8_t *sim_flash_bytes(void) { return flash; }

/* Erase / program at an absolute address: the chip's operations, counted,
 * timed and tearable, for the HAL and for boot2. */
void sim_flash_erase_at(uint32_t at)
{
    if (torn_here()) {
        memset(flash + at, 0xFF, HAL_FLASH_SECTOR / 2);
        sim_powercut("flash erase torn by --powercut-at-flash-op");
    }
    erases++;
    if (sim_opt.flash_timing_real)
        sim_busy_wait_us(40000 + sim_random_model() % 10000); /* typical 45 ms */
    memset(flash + at, 0xFF, HAL_FLASH_SECTOR);
    sim_interrupts_back();
}

void sim_flash_program_at(uint32_t at, const void *buf, uint32_t len)
{
    const uint8_t *data = buf;
    uint32_t done = torn_here() ? len / 2 : len;
    for (uint32_t i = 0; i < done; i++)
        flash[at + i] &= data[i]; /* NOR: bits only go from 1 to 0 */
    if (done < len)
        sim_powercut("flash program torn by --powercut-at-flash-op");
    if (sim_opt.flash_timing_real)
        sim_busy_wait_us(30 + len * 3 / 2);
    sim_interrupts_back();
}

int hal_flash_erase_sector(enum hal_partition part, uint32_t offset)
{
    uint32_t at = locate(part, offset, HAL_FLASH_SECTOR);
    if (at == UINT32_MAX || offset % HAL_FLASH_SECTOR)
        return HAL_EINVAL;
    sim_flash_erase_at(at);
    return HAL_OK;
}

int hal_flash_program(enum hal_partition part, uint32_t offset, const void *buf, uint32_t len)
{
    uint32_t at = locate(part, offset, len);
    if (at == UINT32_MAX)
        return HAL_EINVAL;
    sim_flash_program_at(at, buf, len);
    return HAL_OK;
}
