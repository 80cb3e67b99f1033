/*
 * sim_boot2.c — the emulated BL602 boot loader (boot2), run at every power
 * on and reset before the firmware.
 *
 * It boots what the BL602 SDK's boot2 boots: it reads the partition table
 * from the flash image (the valid copy with the higher age) and then
 *   - XZ pending (OpenPlug's flag, see core/ota/ptable.h — the one thing the
 *     SDK's boot2 does otherwise: it spots an XZ stream in the active slot
 *     by its magic; only builds with OTA_ACCEPT_XZ write the flag, the
 *     BL602 build refuses XZ update files): decompresses the
 *     XZ body kept in the inactive slot over the active slot, clears the
 *     flag (a new table) — no way back; a power cut meanwhile redoes it at
 *     the next boot;
 *   - then executes the active slot: the slot's bytes (a build of
 *     openplug-sim, as packed by mkota) are copied into an anonymous
 *     in-memory file (memfd) and exec'd with the same arguments, so after
 *     an update the plug really runs the new program.  A slot without a
 *     firmware (a fresh flash) boots the program that was started: the
 *     factory firmware.
 * Its flash operations are the chip's: counted, timed and tearable by
 * --powercut-at-flash-op like the firmware's.
 *
 * It does NOT count trial boots or roll back: the SDK's boot2 ignores
 * OpenPlug's trial flag, so on the chip the firmware itself does that as the
 * first thing it runs (ota_boot_guard(), core/ota/ota.c), and the
 * simulator's firmware runs the same code at the same point (main.c).  A
 * model that counted here would hide a firmware that never reaches its
 * guard — which on the chip is never rolled back.  (The SDK's boot2 also
 * falls back to the other slot when a slot's boot header CRC or SHA-256 is
 * wrong; the slots here hold ELF files without that header, and the
 * firmware verifies every written slot before it switches.)
 */
#define _GNU_SOURCE
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/ota/ptable.h"
#include "sim.h"

#define ENV_BOOTED "OPENPLUG_SIM_BOOT2_SLOT" /* set for the image boot2 starts */
#define ENV_LAUNCHER "OPENPLUG_SIM_LAUNCHER" /* the program first started */

extern char **sim_argv;
extern char **environ;

static char launcher[4096];

const char *sim_launcher(void) { return launcher; }

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    fputs("boot2: ", stdout);
    vprintf(fmt, args);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(args);
}

static uint32_t copy_address(int copy) { return SIM_PTABLE_ADDR + (uint32_t)copy * HAL_FLASH_SECTOR; }

/* A new table over the older copy (the current one stays valid until the
 * new one is whole). */
static void write_table(int current_copy, struct ptable *next)
{
    uint8_t bytes[PTABLE_MAX_BYTES];
    next->age++;
    size_t len = ptable_serialize(next, bytes);
    uint32_t at = copy_address(1 - current_copy);
    sim_flash_erase_at(at);
    sim_flash_program_at(at, bytes, (uint32_t)len);
}

/* Decompress the XZ body into memory; its size, 0 when it is bad. */
static size_t decompress(const uint8_t *in, size_t in_size, uint8_t *out, size_t out_size)
{
    uint64_t memlimit = 256u << 10; /* the chip's RAM: mkota packs with a 32 KiB window */
    size_t in_pos = 0, out_pos = 0;
    lzma_ret ret = lzma_stream_buffer_decode(&memlimit, 0, NULL, in, &in_pos, in_size, out, &out_pos, out_size);
    return ret == LZMA_OK && in_pos == in_size ? out_pos : 0;
}

static void finish_xz(int copy, struct ptable *table)
{
    struct ptable_entry *fw = ptable_fw(table);
    unsigned active = fw->active_index & 1;
    const uint8_t *flash = sim_flash_bytes();
    size_t in_size = fw->len <= fw->max_len[!active] ? fw->len : 0;
    uint8_t *image = malloc(fw->max_len[active]);
    size_t size = image && in_size ? decompress(flash + fw->address[!active], in_size, image, fw->max_len[active]) : 0;
    if (size) {
        say("decompressing the XZ update over slot %u (%zu bytes)", active, size);
        for (uint32_t offset = 0; offset < size; offset += HAL_FLASH_SECTOR) {
            uint32_t n = size - offset < HAL_FLASH_SECTOR ? (uint32_t)(size - offset) : HAL_FLASH_SECTOR;
            sim_flash_erase_at(fw->address[active] + offset);
            sim_flash_program_at(fw->address[active] + offset, image + offset, n);
        }
    } else {
        say("the XZ update does not decompress into slot %u: keeping the firmware there", active);
    }
    free(image);
    struct ptable next = *table;
    struct ptable_entry *next_fw = ptable_fw(&next);
    next_fw->flags &= (uint8_t)~PTABLE_FW_XZ_PENDING;
    if (!size)
        next_fw->flags |= PTABLE_FW_XZ_FAILED;
    next_fw->len = size ? (uint32_t)size : 0;
    write_table(copy, &next);
}

/* Execute the firmware in the active slot; returns if the slot is empty
 * (this program is then the firmware) or on an error (false). */
static bool exec_slot(const struct ptable_entry *fw)
{
    unsigned active = fw->active_index & 1;
    const uint8_t *image = sim_flash_bytes() + fw->address[active];
    size_t size = fw->len && fw->len <= fw->max_len[active] ? fw->len : fw->max_len[active];
    if (memcmp(image, "\177ELF", 4) != 0)
        return true; /* no firmware written to this slot yet: the factory one runs */
    char name[32], number[32];
    snprintf(name, sizeof name, "openplug-slot%u", active);
    int fd = memfd_create(name, MFD_CLOEXEC);
    if (fd < 0 || write(fd, image, size) != (ssize_t)size) {
        fprintf(stderr, "openplug-sim: boot2 cannot copy slot %u: %m\n", active);
        return false;
    }
    setenv(ENV_BOOTED, name + 13, 1);
    snprintf(number, sizeof number, "%llu", (unsigned long long)sim_flash_ops());
    setenv("OPENPLUG_SIM_FLASH_OPS", number, 1);
    snprintf(number, sizeof number, "%llu", (unsigned long long)sim_flash_erases());
    setenv("OPENPLUG_SIM_FLASH_ERASES", number, 1);
    fexecve(fd, sim_argv, environ);
    fprintf(stderr, "openplug-sim: boot2 cannot execute slot %u: %m\n", active);
    return false;
}

bool sim_boot2(void)
{
    const char *first = getenv(ENV_LAUNCHER);
    if (first) {
        snprintf(launcher, sizeof launcher, "%s", first);
    } else {
        ssize_t n = readlink("/proc/self/exe", launcher, sizeof launcher - 1);
        launcher[n > 0 ? n : 0] = '\0';
        setenv(ENV_LAUNCHER, launcher, 1);
    }
    if (getenv(ENV_BOOTED)) { /* this process is the slot's image boot2 started */
        unsetenv(ENV_BOOTED);
        return sim_flash_map_partitions();
    }
    struct ptable table;
    int copy = sim_flash_ptable(&table);
    struct ptable_entry *fw = copy >= 0 ? ptable_fw(&table) : NULL;
    if (!fw) {
        fprintf(stderr, "openplug-sim: boot2 finds no valid partition table with a firmware entry\n");
        return false;
    }
    if (fw->flags & PTABLE_FW_XZ_PENDING) {
        finish_xz(copy, &table);
        copy = sim_flash_ptable(&table);
        fw = ptable_fw(&table);
    }
    return sim_flash_map_partitions() && exec_slot(fw);
}
