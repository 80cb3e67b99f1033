/* backup_format.c — the backup file's encoders and checked reader; see backup_format.h. */
#include "backup_format.h"

#include <stdio.h>
#include <string.h>

#include "core/util/crc32.h"
#include "core/util/le.h"

void backup_header_encode(uint8_t out[BACKUP_HEADER_SIZE], uint16_t flags, uint32_t total, const char *model,
                          const char *firmware)
{
    memset(out, 0, BACKUP_HEADER_SIZE);
    memcpy(out, BACKUP_MAGIC, 8);
    le16_put(out + 8, BACKUP_FORMAT);
    le16_put(out + 10, flags);
    le32_put(out + 12, total);
    size_t n = strlen(model);
    memcpy(out + 16, model, n < BACKUP_MODEL_SIZE ? n : BACKUP_MODEL_SIZE); /* NUL-padded, as memset left it */
    n = strlen(firmware);
    memcpy(out + 32, firmware, n < 16 ? n : 16);
}

uint32_t backup_record_encode(uint8_t *out, uint8_t type, uint8_t version, const char *name, uint32_t data_len,
                              uint32_t data_crc)
{
    size_t name_len = strlen(name);
    out[0] = type;
    out[1] = version;
    out[2] = (uint8_t)name_len;
    out[3] = 0;
    le32_put(out + 4, data_len);
    le32_put(out + 8, data_crc);
    memcpy(out + BACKUP_RECORD_HEAD, name, name_len);
    return BACKUP_RECORD_HEAD + (uint32_t)name_len;
}

/* CRC-32 of [offset, offset + len) of the file; false on a read error. */
static bool crc_of(const struct backup_source *src, uint32_t offset, uint32_t len, uint32_t *crc)
{
    uint8_t buf[256];
    *crc = 0;
    while (len) {
        uint32_t n = len < sizeof buf ? len : sizeof buf;
        if (src->read(src->ctx, offset, buf, n) != 0)
            return false;
        *crc = crc32_update(*crc, buf, n);
        offset += n;
        len -= n;
    }
    return true;
}

static bool header_ok(const struct backup_source *src, const char *model, struct backup_header *h, char *why,
                      size_t size)
{
    uint8_t raw[BACKUP_HEADER_SIZE];
    if (src->size < BACKUP_HEADER_SIZE + BACKUP_TRAILER_SIZE || src->read(src->ctx, 0, raw, sizeof raw) != 0 ||
        memcmp(raw, BACKUP_MAGIC, 8) != 0) {
        snprintf(why, size, "not an OpenPlug backup file");
        return false;
    }
    h->format = le16_get(raw + 8);
    h->flags = le16_get(raw + 10);
    h->total = le32_get(raw + 12);
    memcpy(h->model, raw + 16, BACKUP_MODEL_SIZE);
    h->model[BACKUP_MODEL_SIZE] = '\0';
    memcpy(h->firmware, raw + 32, 16);
    h->firmware[16] = '\0';
    if (h->format != BACKUP_FORMAT)
        snprintf(why, size, "backup format %u: this firmware reads format %u", h->format, BACKUP_FORMAT);
    else if (strcmp(h->model, model) != 0)
        snprintf(why, size, "backup of another model (%.16s): this plug is %s", h->model, model);
    else if (h->total > src->size)
        snprintf(why, size, "truncated file: %lu of %lu bytes", (unsigned long)src->size, (unsigned long)h->total);
    else if (h->total < src->size)
        snprintf(why, size, "%lu bytes after the end of the backup", (unsigned long)(src->size - h->total));
    else
        return true;
    return false;
}

bool backup_read(const struct backup_source *src, const char *model, struct backup_header *header,
                 backup_record_fn fn, void *arg, char *why, size_t why_size)
{
    uint8_t raw[BACKUP_RECORD_HEAD + BACKUP_NAME_MAX];
    if (!header_ok(src, model, header, why, why_size))
        return false;
    uint32_t end = src->size - BACKUP_TRAILER_SIZE, crc;
    if (!crc_of(src, 0, end, &crc) || src->read(src->ctx, end, raw, 4) != 0 || crc != le32_get(raw)) {
        snprintf(why, why_size, "corrupt file: its CRC does not match");
        return false;
    }
    for (uint32_t at = BACKUP_HEADER_SIZE; at < end;) {
        struct backup_record rec = {0};
        const char *bad = NULL;
        if (end - at < BACKUP_RECORD_HEAD || src->read(src->ctx, at, raw, BACKUP_RECORD_HEAD) != 0) {
            bad = "a record runs past the end";
        } else {
            rec.type = raw[0];
            rec.version = raw[1];
            uint32_t name_len = raw[2];
            rec.data_crc = le32_get(raw + 8);
            rec.data_len = le32_get(raw + 4);
            rec.data_offset = at + BACKUP_RECORD_HEAD + name_len;
            uint32_t crc_found;
            if (name_len > BACKUP_NAME_MAX || raw[3] != 0 || rec.data_offset > end ||
                rec.data_len > end - rec.data_offset)
                bad = "a record runs past the end";
            else if (src->read(src->ctx, at + BACKUP_RECORD_HEAD, rec.name, name_len) != 0 ||
                     memchr(rec.name, '\0', name_len))
                bad = "a record has a bad name";
            else if (!crc_of(src, rec.data_offset, rec.data_len, &crc_found) || crc_found != rec.data_crc)
                bad = "a record's CRC does not match";
            else
                bad = fn(arg, &rec, src);
        }
        if (bad) {
            snprintf(why, why_size, "%s (record at byte %lu)", bad, (unsigned long)at);
            return false;
        }
        at = rec.data_offset + rec.data_len;
    }
    return true;
}
