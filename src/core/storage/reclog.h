/*
 * reclog.h — a wear-levelled, power-cut-safe log of records in NOR flash.
 *
 * A log owns a ring of >= 2 sectors cut into fixed-size slots.  Each append
 * programs the next blank slot (payload first, then its header, which
 * carries a sequence number and a CRC over both); when a sector is full the
 * next sector of the ring is erased and used.  Reading finds the valid
 * record with the highest sequence number.  So:
 *   - a power cut during any program or erase leaves the previous record
 *     readable (the newest record is never in the sector being erased, and a
 *     torn slot fails its CRC and is skipped);
 *   - each sector is erased once per (slots per sector) appends, spreading
 *     wear over the ring.
 * The first, and the atomic wipe below, rest on each append's sequence
 * number (the newest's + 1) outranking every record in the ring, so it must
 * not wrap.  This log's own appends never get there: 2^32 of them erase
 * each sector 2^32 / (slots in the ring) times, over 4 million even for the
 * largest ring of layout.h (1024 slots), 40 times the 100 000 cycles NOR
 * flash is rated for.  Only another writer can leave a record at
 * UINT32_MAX; then the next append (a wiped marker too) gets 0 and ranks
 * below every record left in the ring.
 * Used for the configuration (large slots) and the relay boot record (small
 * slots, written on every toggle).
 */
#ifndef OPENPLUG_RECLOG_H
#define OPENPLUG_RECLOG_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/hal.h"

#define RECLOG_HEADER_SIZE 12u

struct reclog {
    /* Layout, fixed for the life of the data. */
    enum hal_partition part;
    uint32_t offset;      /* of the first sector, sector aligned */
    uint16_t sectors;     /* ring length, >= 2 */
    uint16_t slot_size;   /* divides HAL_FLASH_SECTOR, > RECLOG_HEADER_SIZE */
    uint8_t magic;        /* tells logs apart; not 0xFF */
    /* Found by reclog_mount(). */
    int32_t newest;       /* slot index of the newest valid record, -1: none */
    uint32_t newest_seq;
    uint32_t wiped_seq;   /* of the newest "wiped" marker, 0 if none */
    uint32_t write_slot;  /* where the next append goes */
    uint32_t damaged;     /* slots neither blank nor valid (torn or corrupt) */
    uint16_t wiped_sector; /* during reclog_erase_step() */
    bool sealed;           /* wiped by reclog_erase_step(): no append until the next mount */
    /* Wear figures since mount. */
    uint32_t erases, appends;
};

/* Scan the ring.  Returns the number of valid records found (0 for a blank
 * or wholly corrupt area) or a negative HAL_E* on a flash error. */
int reclog_mount(struct reclog *log);

/* Record versions are the caller's, from 1; 0 marks a wiped log. */
#define RECLOG_WIPED 0

/* Copy the newest record's payload (up to cap bytes) and its version.
 * Returns its length, or -1 if there is none (or the log was wiped). */
int reclog_read(struct reclog *log, void *payload, uint16_t cap, uint8_t *version);

/* Append a record.  At most one sector erase (when the current sector is
 * full) and two programs.  Returns 0 or a negative HAL_E*. */
int reclog_append(struct reclog *log, const void *payload, uint16_t len, uint8_t version);

/* Wipe the log (factory reset) in steps, one flash erase per call, so a
 * caller can spread them over loop turns; returns true while steps remain
 * (*step starts at 0).  The first step appends a "wiped" marker at the start
 * of a fresh sector — from then on the log reads empty, atomically — and
 * the following steps erase every other sector, so no old record can come
 * back whatever step a power cut interrupts.  After the marker the log is
 * sealed: appends fail with HAL_EBUSY until it is mounted again (the
 * restart that follows a reset), so nothing saved meanwhile (a timer, a
 * command) outlives the reset. */
bool reclog_erase_step(struct reclog *log, uint16_t *step);

/* Appends one sector erase buys: the endurance figure of the layout. */
static inline uint32_t reclog_appends_per_erase(const struct reclog *log)
{
    return HAL_FLASH_SECTOR / log->slot_size;
}

#endif
