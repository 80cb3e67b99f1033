/*
 * ptable.h — the BL602 boot loader's partition table, as bytes: parse a
 * copy, pick the copy boot2 boots from, build the next one.  Pure functions
 * on buffers, shared by the firmware (which switches slots after an update,
 * counts the trial boots of a new firmware, rolls it back or confirms it)
 * and the simulator's boot2 (which boots the slot the table names).
 * Nothing here touches flash.
 *
 * Flash holds two copies, one sector each; boot2 uses the valid copy with
 * the higher age, so a new table is written over the OLDER copy (erase,
 * program) and a power cut at any instant leaves the previous table valid.
 *
 * An entry is boot2's PtTable_Entry_Config (partition.h of the SDK): type,
 * device, active index, name[9] (at byte 3: the SDK finds "media", "PSM",
 * "factory" by name), two addresses, two max lengths, length, age.  Names
 * have at most 7 characters, so the ninth name byte (byte 11) is always
 * after the terminating NUL and no name lookup reads it.
 *
 * OpenPlug's A/B rules ride in that ninth name byte of the FW entry
 * (`flags`, inside the CRC) and in a tries area after the table (outside
 * the CRC, programmed a byte at a time without an erase: NOR can clear bits
 * in place):
 *   PTABLE_FW_TRIAL       the active slot holds a new RAW firmware on trial:
 *                         the firmware's boot guard (ota_boot_guard(), ota.h)
 *                         counts a try per boot; after PTABLE_MAX_TRIES boots
 *                         without a confirmation it makes the other slot
 *                         active again, marks PTABLE_FW_ROLLED_BACK and
 *                         restarts.  The BL602 SDK's boot2 reads neither flag
 *                         nor tries: it just boots the active slot.
 *   PTABLE_FW_TRIAL_SLOT0/1  set with PTABLE_FW_TRIAL: the slot on trial.
 *                         When the active slot's boot header check fails,
 *                         the SDK's boot2 makes the other slot active and
 *                         rewrites the entry with the name bytes (these
 *                         flags) as they were: a trial flag on a slot that
 *                         is not the one on trial means boot2 went back by
 *                         itself; the guard then marks PTABLE_FW_ROLLED_BACK
 *                         with PTABLE_FW_BOOT2_REFUSED.  (Neither bit: a
 *                         table from before these bits, not checked.)
 *   PTABLE_FW_XZ_PENDING  the inactive slot holds an XZ body: the simulator's
 *                         boot2 decompresses it over the active slot (no
 *                         rollback).  Only builds with OTA_ACCEPT_XZ write it:
 *                         the SDK's boot2 does not know this flag.
 *   PTABLE_FW_XZ_FAILED   boot2 could not decompress it into the active slot
 *                         (bad stream, or larger than the slot): nothing was
 *                         written, the firmware there runs on and says so.
 */
#ifndef OPENPLUG_PTABLE_H
#define OPENPLUG_PTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PTABLE_MAGIC 0x54504642u /* "BFPT" */
#define PTABLE_MAX_ENTRIES 16
#define PTABLE_HEADER_SIZE 16
#define PTABLE_ENTRY_SIZE 36
/* Bytes of a copy that hold the table (header, entries, CRC) at most. */
#define PTABLE_MAX_BYTES (PTABLE_HEADER_SIZE + PTABLE_MAX_ENTRIES * PTABLE_ENTRY_SIZE + 4)
#define PTABLE_TRIES_OFFSET 0x800u /* in the copy's sector: one byte per try */
#define PTABLE_MAX_TRIES 3

/* The entry types of the SDK's partition_cfg_2M.toml. */
enum ptable_type { PTABLE_FW = 0, PTABLE_MFG = 1, PTABLE_MEDIA = 2, PTABLE_PSM = 3, PTABLE_KEY = 4,
                   PTABLE_DATA = 5, PTABLE_FACTORY = 6 };

#define PTABLE_FW_TRIAL 0x01u
#define PTABLE_FW_ROLLED_BACK 0x02u
#define PTABLE_FW_XZ_PENDING 0x04u
#define PTABLE_FW_XZ_FAILED 0x08u
#define PTABLE_FW_TRIAL_SLOT0 0x10u
#define PTABLE_FW_TRIAL_SLOT1 0x20u
#define PTABLE_FW_BOOT2_REFUSED 0x40u /* with ROLLED_BACK: boot2's header check, not the tries */

struct ptable_entry {
    uint8_t type, device, active_index;
    char name[8];  /* the first 8 name bytes as stored: NUL-padded in a table
                      built here (at most 7 characters); use %.8s */
    uint8_t flags; /* the ninth name byte, after the NUL */
    uint32_t address[2];
    uint32_t max_len[2];
    uint32_t len; /* bytes of the image in the active slot (0: unknown) */
    uint32_t age;
};

struct ptable {
    uint16_t version;
    uint16_t count;
    uint32_t age;
    struct ptable_entry entries[PTABLE_MAX_ENTRIES];
};

/* Parse one copy (at least PTABLE_MAX_BYTES readable, or `size` if less);
 * false when the magic or a CRC is wrong. */
bool ptable_parse(const uint8_t *copy, size_t size, struct ptable *out);

/* Of two copies (either may be NULL or invalid), the index (0/1) of the one
 * boot2 boots from, parsed into *out; -1 when neither is valid. */
int ptable_pick(const uint8_t *copy0, const uint8_t *copy1, size_t size, struct ptable *out);

/* Serialize into out (PTABLE_MAX_BYTES); returns the bytes used. */
size_t ptable_serialize(const struct ptable *table, uint8_t *out);

/* The firmware entry, NULL when the table has none. */
struct ptable_entry *ptable_fw(struct ptable *table);

/* Tries counted in a copy's tries area (bytes cleared from 0xFF). */
unsigned ptable_tries(const uint8_t tries[PTABLE_MAX_TRIES]);

/*
 * OpenPlug's 2 MB flash layout: the one table that the simulator writes on
 * a fresh flash, tools/mkflash puts in the whole-flash image and
 * docs/flashing.md shows (`mkflash layout` prints it; a test holds the doc
 * to it).  boot2 (0x0, 0x2000) and the two table copies (0xE000, 0xF000)
 * sit below 0x10000; PSM, KEY, DATA and the plug's factory parameters keep
 * the SDK's addresses at the top.  The two firmware slots follow each other
 * from 0x10000 and the media partition takes what is left up to PSM.
 *
 * The slot sizes are the one thing to set once the real image is measured
 * (docs/flashing.md, "Flash layout", has the options with numbers):
 *   A/B, two equal slots: RAW and XZ updates, rollback;  832 KiB each
 *     holds an image up to 756 KiB with 10 % headroom.
 *   XZ staging: slot 0 runs (e.g. 0x100000, 1 MiB), slot 1 only holds the
 *     XZ body (e.g. 0xA0000): RAW updates larger than slot 1 are refused.
 */
#ifndef PTABLE_FW_SLOT0_SIZE
#define PTABLE_FW_SLOT0_SIZE 0xD0000u
#endif
#ifndef PTABLE_FW_SLOT1_SIZE
#define PTABLE_FW_SLOT1_SIZE 0xD0000u
#endif

#define PTABLE_FW_ADDR 0x10000u
#define PTABLE_PSM_ADDR 0x1E9000u
#define PTABLE_MEDIA_ADDR (PTABLE_FW_ADDR + PTABLE_FW_SLOT0_SIZE + PTABLE_FW_SLOT1_SIZE)
#define PTABLE_MEDIA_SIZE (PTABLE_PSM_ADDR - PTABLE_MEDIA_ADDR)

/* OpenPlug's table (firmware in slot 0). */
void ptable_default(struct ptable *table);

#endif
