/*
 * backup.h — the whole plug in one file, and back: the backup writer, the
 * restore (staged, checked, then applied at the next boot).
 *
 * A backup (backup_format.h) holds the settings (the raw `struct config`
 * with its version), every file of the file store (scripts, the template's
 * extra members, certificates) and, when asked, the energy counters and
 * history.  Secrets (Wi-Fi, MQTT and web passwords) are zeroed unless
 * asked for.  The writer streams: it never holds the file, so a backup of
 * every file (about 65 KB) costs no RAM beyond the caller's chunk.
 *
 * A restore never changes anything before the whole file is in and
 * checked:
 *   1. staging: the file streams into the inactive firmware slot (lent by
 *      ota.c; refused while an update runs or a firmware is on trial), one
 *      flash operation per loop turn, behind a marker sector erased first;
 *   2. check: read back from the slot, every byte under the CRC, every
 *      record judged by its owner (the settings migrated and validated as a
 *      stored copy, files' names, sizes and count, energy records), the
 *      model and format; a file without secrets gets the plug's own;
 *   3. commit: one program of the marker sector: the settings to restore
 *      and a CRC.  Then the plug restarts;
 *   4. apply, at boot before the settings are loaded
 *      (backup_boot_apply()): files not in the backup deleted, the others
 *      written where they differ, the energy records appended to their
 *      rings, the settings appended to theirs, then the marker's "done" byte
 *      programmed.  Each step is power-cut safe by itself (files.h,
 *      reclog.h) and the whole apply is repeated at every boot until
 *      "done": a cut anywhere ends in the backup's state, and the settings
 *      in use are always a whole copy, the old or the new.
 * A cut before the marker is whole changes nothing.
 */
#ifndef OPENPLUG_BACKUP_H
#define OPENPLUG_BACKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/backup/backup_format.h"
#include "core/events.h"
#include "core/storage/config.h"
#include "core/util/json.h"

/* ---- Making a backup ---- */

struct backup_writer {
    uint16_t flags;
    uint8_t item;       /* header, settings, files, energy records, trailer */
    uint32_t pos;       /* within the item */
    uint32_t crc;       /* of everything produced */
    uint32_t total;     /* the file's size */
};

/* Start a backup with BACKUP_SECRETS / BACKUP_ENERGY; total is then known. */
void backup_writer_begin(struct backup_writer *w, uint16_t flags);
/* The next bytes (up to cap, cap >= 64): their count, 0 at the end, or a
 * negative error (the file store failed: the file is cut short, and so
 * refused by a restore). */
int backup_writer_produce(struct backup_writer *w, uint8_t *buf, size_t cap);

/* The secret fields of `to` taken from `from`, or zeroed (from NULL). */
void backup_secrets_copy(struct config *to, const struct config *from);

/* ---- Restoring ---- */

enum restore_state { RESTORE_IDLE, RESTORE_RECEIVING, RESTORE_CHECKING, RESTORE_COMMITTED, RESTORE_FAILED };

/* Check a backup file as a restore does (without changing anything): true
 * with the settings it would restore in *settings, else false and why. */
bool restore_check(const struct backup_source *src, struct config *settings, char *why, size_t why_size);

/* Stage a file of `size` bytes: 0, or with why RESTORE_EBUSY (a restore or
 * an update runs, a firmware is on trial), RESTORE_ESHORT (not even a
 * header) or RESTORE_ELARGE (larger than the slot takes). */
#define RESTORE_EBUSY (-1)
#define RESTORE_ESHORT (-2)
#define RESTORE_ELARGE (-3)
int restore_begin(uint32_t size, enum source source, const char **why);
/* Offer bytes; returns how many were taken (0 while the flash is busy:
 * offer the rest again in a later turn). */
size_t restore_feed(const void *data, size_t len);
/* The transport has delivered everything (short: the restore fails). */
void restore_end(void);
/* The transport failed: nothing changes. */
void restore_abort(const char *why);
enum restore_state restore_state(void);
/* Why the last restore was refused ("" if it was not). */
const char *restore_error(void);
/* {"State","Received","Total","Error","LastRestore"} members. */
void restore_progress_json(struct json_writer *w);

/* At boot, before config_load(): apply a committed restore (see above);
 * also readies the restore's timers.  Once per boot. */
void backup_boot_apply(void);

#endif
