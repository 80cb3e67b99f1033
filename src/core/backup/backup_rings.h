/*
 * backup_rings.h — the record rings a backup carries raw (the energy
 * counters and history, when asked for): where they lie and who judges a
 * record.  Internal to backup.c and restore.c.
 */
#ifndef OPENPLUG_BACKUP_RINGS_H
#define OPENPLUG_BACKUP_RINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/storage/layout.h"

#define BACKUP_RINGS 2
#define BACKUP_RING_MAX LAYOUT_HISTORY_SLOT /* the largest slot: a record fits */

struct backup_ring {
    uint8_t type; /* enum backup_record_type */
    enum hal_partition part;
    uint32_t offset;
    uint16_t sectors, slot;
    uint8_t magic;
    bool (*valid)(const void *record, uint32_t len, uint8_t version); /* the owner's judgement */
};
extern const struct backup_ring backup_rings[BACKUP_RINGS];

/* The newest record of ring i into buf (BACKUP_RING_MAX bytes): its length, or -1. */
int backup_ring_read(unsigned i, void *buf, uint8_t *version);
/* Append a record to ring i: 0 or a negative HAL_E*. */
int backup_ring_append(unsigned i, const void *record, uint32_t len, uint8_t version);

#endif
