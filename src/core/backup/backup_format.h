/*
 * backup_format.h — the backup file: its layout and the checked reader
 * (pure: no flash, no settings; fuzzed by fuzz/fuzz_backup.c).
 *
 * All numbers little-endian.
 *   header (48 bytes): "OPBACKUP", format (u16, 1), flags (u16:
 *     BACKUP_SECRETS, BACKUP_ENERGY), total length (u32, the whole file),
 *     model (16 bytes, NUL-padded: hal_chip_name()), firmware version
 *     (16 bytes, for people only)
 *   records, each: type (u8), version (u8: of the payload's own layout),
 *     name length (u8), 0 (u8), data length (u32), CRC-32 of the data (u32),
 *     the name, the data
 *   trailer: CRC-32 of every byte before it (u32)
 * The settings record is the raw `struct config` of its version (the
 * settings' own migration reads an older one); energy records are the raw
 * records of their rings; a file record is a file of the file store.
 *
 * What the reader does not do: judge a record's payload (backup.c asks the
 * owners), keep anything (it reads through a callback, a slice at a time).
 */
#ifndef OPENPLUG_BACKUP_FORMAT_H
#define OPENPLUG_BACKUP_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_MAGIC "OPBACKUP"
#define BACKUP_FORMAT 1
#define BACKUP_HEADER_SIZE 48u
#define BACKUP_RECORD_HEAD 12u
#define BACKUP_TRAILER_SIZE 4u
#define BACKUP_MODEL_SIZE 16u
#define BACKUP_NAME_MAX 32u

#define BACKUP_SECRETS 1u /* flags: Wi-Fi, MQTT and web passwords are in the file */
#define BACKUP_ENERGY 2u  /* the energy counters and history are in the file */

enum backup_record_type {
    BACKUP_REC_SETTINGS = 1,
    BACKUP_REC_FILE = 2,
    BACKUP_REC_ENERGY = 3,  /* the energy counters' record */
    BACKUP_REC_HISTORY = 4, /* the energy history's record */
};

struct backup_header {
    uint16_t format, flags;
    uint32_t total;
    char model[BACKUP_MODEL_SIZE + 1];
    char firmware[17];
};

struct backup_record {
    uint8_t type, version;
    char name[BACKUP_NAME_MAX + 1];
    uint32_t data_offset, data_len; /* where the data lies in the file */
    uint32_t data_crc;
};

/* The file, read a slice at a time: 0 or a negative error. */
struct backup_source {
    int (*read)(void *ctx, uint32_t offset, void *buf, uint32_t len);
    void *ctx;
    uint32_t size;
};

/* Judge a record (it may read its data through src): NULL to go on, or why not. */
typedef const char *(*backup_record_fn)(void *arg, const struct backup_record *rec, const struct backup_source *src);

/* Check the whole file (header, model, length, CRC, every record's bounds
 * and CRC) and hand each record to fn in order.  Returns true, or false with
 * the reason in why.  `model` is this plug's. */
bool backup_read(const struct backup_source *src, const char *model, struct backup_header *header,
                 backup_record_fn fn, void *arg, char *why, size_t why_size);

/* Encoders for the writer. */
void backup_header_encode(uint8_t out[BACKUP_HEADER_SIZE], uint16_t flags, uint32_t total, const char *model,
                          const char *firmware);
/* Record head and name: returns the bytes written (BACKUP_RECORD_HEAD + name length). */
uint32_t backup_record_encode(uint8_t *out, uint8_t type, uint8_t version, const char *name, uint32_t data_len,
                              uint32_t data_crc);

#endif
