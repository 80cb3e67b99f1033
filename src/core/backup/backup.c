/*
 * backup.c — the backup writer: the plug's settings, files and (when asked)
 * energy records streamed as one backup file; see backup.h.  Owns nothing
 * on flash: it reads the settings in use, the file store and the energy
 * rings as they are.
 */
#include "backup.h"

#include <stddef.h>
#include <string.h>

#include "core/energy/energy.h"
#include "core/energy/history.h"
#include "core/storage/files.h"
#include "core/storage/layout.h"
#include "core/storage/reclog.h"
#include "core/system.h"
#include "core/util/crc32.h"
#include "core/util/le.h"
#include "core/backup/backup_rings.h"
#include "hal/hal.h"

#define SPAN(member) {offsetof(struct config, member), sizeof((struct config *)0)->member}
static const struct {
    uint16_t offset, size;
} secret_spans[] = {SPAN(wifi.password), SPAN(web.password_salt), SPAN(web.password_hash), SPAN(mqtt.password)};
#define SPANS (sizeof secret_spans / sizeof secret_spans[0])

void backup_secrets_copy(struct config *to, const struct config *from)
{
    for (size_t i = 0; i < SPANS; i++) {
        uint8_t *at = (uint8_t *)to + secret_spans[i].offset;
        if (from)
            memcpy(at, (const uint8_t *)from + secret_spans[i].offset, secret_spans[i].size);
        else
            memset(at, 0, secret_spans[i].size);
    }
}

/* Bytes [offset, offset + n) of the settings in use, secrets zeroed unless asked for. */
static void settings_bytes(uint16_t flags, uint32_t offset, uint8_t *buf, uint32_t n)
{
    memcpy(buf, (const uint8_t *)config_get() + offset, n);
    for (size_t i = 0; i < SPANS && !(flags & BACKUP_SECRETS); i++) {
        uint32_t from = secret_spans[i].offset, to = from + secret_spans[i].size;
        from = from > offset ? from : offset;
        to = to < offset + n ? to : offset + n;
        if (from < to)
            memset(buf + (from - offset), 0, to - from);
    }
}

/* The items of the file, in order. */
enum { ITEM_HEADER, ITEM_SETTINGS, ITEM_FILES, ITEM_RINGS = ITEM_FILES + FILES_SLOTS,
       ITEM_TRAILER = ITEM_RINGS + BACKUP_RINGS, ITEM_END };

struct item {
    uint8_t head[BACKUP_HEADER_SIZE]; /* the file header, or a record's head and name */
    uint32_t head_len, data_len;
};
_Static_assert(BACKUP_RECORD_HEAD + BACKUP_NAME_MAX <= BACKUP_HEADER_SIZE, "a record head fits");
_Static_assert(FILES_NAME_MAX <= BACKUP_NAME_MAX, "file names fit");

static bool file_at(unsigned index, struct files_info *out)
{
    struct files_info infos[FILES_SLOTS];
    int n = files_list(infos, FILES_SLOTS);
    if ((int)index >= n)
        return false;
    *out = infos[index];
    return true;
}

/* Item `index` of a backup with `flags`; false when the plug has none. */
static bool describe(uint16_t flags, unsigned index, uint32_t total, struct item *it)
{
    uint8_t ring_record[BACKUP_RING_MAX];
    it->data_len = 0;
    if (index == ITEM_HEADER) {
        backup_header_encode(it->head, flags, total, hal_chip_name(), OPENPLUG_VERSION);
        it->head_len = BACKUP_HEADER_SIZE;
    } else if (index == ITEM_SETTINGS) {
        uint32_t crc = 0;
        for (uint32_t at = 0; at < sizeof(struct config); at += sizeof ring_record) {
            uint32_t n = sizeof(struct config) - at < sizeof ring_record ? sizeof(struct config) - at : sizeof ring_record;
            settings_bytes(flags, at, ring_record, n);
            crc = crc32_update(crc, ring_record, n);
        }
        it->data_len = sizeof(struct config);
        it->head_len = backup_record_encode(it->head, BACKUP_REC_SETTINGS, CONFIG_VERSION, "", it->data_len, crc);
    } else if (index < ITEM_RINGS) {
        struct files_info info;
        if (!file_at(index - ITEM_FILES, &info))
            return false;
        it->data_len = info.size;
        it->head_len = backup_record_encode(it->head, BACKUP_REC_FILE, 0, info.name, info.size, info.crc);
    } else if (index < ITEM_TRAILER) {
        uint8_t version;
        const struct backup_ring *ring = &backup_rings[index - ITEM_RINGS];
        int len = (flags & BACKUP_ENERGY) ? backup_ring_read(index - ITEM_RINGS, ring_record, &version) : -1;
        if (len < 0 || !ring->valid(ring_record, (uint32_t)len, version))
            return false; /* none, or one its owner does not read back either: a restore would refuse it */
        it->data_len = (uint32_t)len;
        it->head_len = backup_record_encode(it->head, ring->type, version, "",
                                            (uint32_t)len, crc32_update(0, ring_record, (uint32_t)len));
    } else {
        it->head_len = BACKUP_TRAILER_SIZE; /* filled by the producer */
    }
    return true;
}

/* Data bytes of item `index`: 0 or a negative error. */
static int item_data(uint16_t flags, unsigned index, uint32_t offset, uint8_t *buf, uint32_t n)
{
    if (index == ITEM_SETTINGS) {
        settings_bytes(flags, offset, buf, n);
        return 0;
    }
    if (index < ITEM_RINGS) {
        struct files_info info;
        if (!file_at(index - ITEM_FILES, &info))
            return FILES_ENOENT;
        int got = files_read(info.name, offset, buf, n);
        return got == (int)n ? 0 : got < 0 ? got : HAL_EIO;
    }
    uint8_t ring_record[BACKUP_RING_MAX], version;
    int len = backup_ring_read(index - ITEM_RINGS, ring_record, &version);
    if (len < (int)(offset + n))
        return HAL_EIO;
    memcpy(buf, ring_record + offset, n);
    return 0;
}

void backup_writer_begin(struct backup_writer *w, uint16_t flags)
{
    *w = (struct backup_writer){.flags = flags};
    struct item it;
    for (unsigned i = 0; i < ITEM_END; i++)
        if (describe(flags, i, 0, &it))
            w->total += it.head_len + it.data_len;
}

int backup_writer_produce(struct backup_writer *w, uint8_t *buf, size_t cap)
{
    size_t out = 0;
    struct item it;
    while (w->item < ITEM_END && out < cap) {
        if (!describe(w->flags, w->item, w->total, &it) || w->pos == it.head_len + it.data_len) {
            w->item++;
            w->pos = 0;
            continue;
        }
        if (w->item == ITEM_TRAILER)
            le32_put(it.head, w->crc);
        uint32_t n;
        if (w->pos < it.head_len) {
            n = it.head_len - w->pos;
            n = n < cap - out ? n : (uint32_t)(cap - out);
            memcpy(buf + out, it.head + w->pos, n);
        } else {
            n = it.head_len + it.data_len - w->pos;
            n = n < cap - out ? n : (uint32_t)(cap - out);
            int err = item_data(w->flags, w->item, w->pos - it.head_len, buf + out, n);
            if (err)
                return err;
        }
        if (w->item != ITEM_TRAILER)
            w->crc = crc32_update(w->crc, buf + out, n);
        w->pos += n;
        out += n;
    }
    return (int)out;
}

/* ---- The rings carried raw ---- */

const struct backup_ring backup_rings[BACKUP_RINGS] = {
    {BACKUP_REC_ENERGY, HAL_PART_MEDIA, LAYOUT_ENERGY_OFFSET, LAYOUT_ENERGY_SECTORS, LAYOUT_ENERGY_SLOT,
     LAYOUT_ENERGY_MAGIC, energy_record_valid},
    {BACKUP_REC_HISTORY, HAL_PART_MEDIA, LAYOUT_HISTORY_OFFSET, LAYOUT_HISTORY_SECTORS, LAYOUT_HISTORY_SLOT,
     LAYOUT_HISTORY_MAGIC, history_record_valid},
};

static struct reclog ring_log(unsigned i)
{
    const struct backup_ring *r = &backup_rings[i];
    return (struct reclog){.part = r->part, .offset = r->offset, .sectors = r->sectors, .slot_size = r->slot,
                           .magic = r->magic};
}

int backup_ring_read(unsigned i, void *buf, uint8_t *version)
{
    struct reclog log = ring_log(i);
    return reclog_mount(&log) > 0 ? reclog_read(&log, buf, BACKUP_RING_MAX, version) : -1;
}

int backup_ring_append(unsigned i, const void *record, uint32_t len, uint8_t version)
{
    struct reclog log = ring_log(i);
    int err = reclog_mount(&log);
    return err < 0 ? err : reclog_append(&log, record, (uint16_t)len, version);
}
