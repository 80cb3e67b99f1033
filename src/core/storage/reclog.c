/* reclog.c — the wear-levelled record ring; see reclog.h for the rules. */
#include "reclog.h"

#include <string.h>

#include "core/util/crc32.h"

struct header {
    uint32_t seq;
    uint16_t len;
    uint8_t version;
    uint8_t magic;
    uint32_t crc; /* over seq, len, version, magic and the payload */
};
_Static_assert(sizeof(struct header) == RECLOG_HEADER_SIZE, "flash layout");

static uint32_t slots_per_sector(const struct reclog *log) { return HAL_FLASH_SECTOR / log->slot_size; }
static uint32_t slot_count(const struct reclog *log) { return slots_per_sector(log) * log->sectors; }
static uint32_t slot_offset(const struct reclog *log, uint32_t slot) { return log->offset + slot * log->slot_size; }

/* CRC of a header's fields and of the payload as stored in flash. */
static int stored_crc(const struct reclog *log, uint32_t slot, const struct header *h, uint32_t *crc)
{
    uint32_t c = crc32_update(0, h, offsetof(struct header, crc));
    uint8_t chunk[64];
    for (uint32_t done = 0; done < h->len; done += sizeof chunk) {
        uint32_t n = h->len - done < sizeof chunk ? h->len - done : sizeof chunk;
        int err = hal_flash_read(log->part, slot_offset(log, slot) + RECLOG_HEADER_SIZE + done, chunk, n);
        if (err)
            return err;
        c = crc32_update(c, chunk, n);
    }
    *crc = c;
    return 0;
}

static bool record_valid(const struct reclog *log, uint32_t slot, const struct header *h)
{
    if (h->magic != log->magic || h->len > log->slot_size - RECLOG_HEADER_SIZE)
        return false;
    uint32_t crc;
    return stored_crc(log, slot, h, &crc) == 0 && crc == h->crc;
}

static bool slot_valid(const struct reclog *log, uint32_t slot, struct header *h)
{
    if (hal_flash_read(log->part, slot_offset(log, slot), h, sizeof *h) != 0)
        return false;
    return record_valid(log, slot, h);
}

static bool all_ff(const uint8_t *bytes, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        if (bytes[i] != 0xFF)
            return false;
    return true;
}

/* Never programmed since its sector was erased: safe to write. */
static bool slot_blank(const struct reclog *log, uint32_t slot)
{
    uint8_t chunk[64];
    for (uint32_t done = 0; done < log->slot_size; done += sizeof chunk) {
        uint32_t n = log->slot_size - done < sizeof chunk ? log->slot_size - done : sizeof chunk;
        if (hal_flash_read(log->part, slot_offset(log, slot) + done, chunk, n) != 0 || !all_ff(chunk, n))
            return false;
    }
    return true;
}

int reclog_mount(struct reclog *log)
{
    if (log->sectors < 2 || log->magic == 0xFF || log->slot_size <= RECLOG_HEADER_SIZE ||
        HAL_FLASH_SECTOR % log->slot_size || log->offset % HAL_FLASH_SECTOR ||
        log->offset + (uint32_t)log->sectors * HAL_FLASH_SECTOR > hal_flash_size(log->part))
        return HAL_EINVAL;
    log->newest = -1;
    log->newest_seq = log->wiped_seq = 0;
    log->sealed = false;
    log->erases = log->appends = log->damaged = 0;
    int found = 0;
    for (uint32_t slot = 0; slot < slot_count(log); slot++) {
        /* Headers only: the scan is on the boot path of the relay. */
        struct header h;
        if (hal_flash_read(log->part, slot_offset(log, slot), &h, sizeof h) != 0)
            return HAL_EIO;
        if (!record_valid(log, slot, &h)) {
            log->damaged += !all_ff((const uint8_t *)&h, sizeof h); /* torn or corrupt */
            continue;
        }
        found++;
        if (h.version == RECLOG_WIPED && h.seq > log->wiped_seq)
            log->wiped_seq = h.seq;
        if (log->newest < 0 || h.seq > log->newest_seq) {
            log->newest = (int32_t)slot;
            log->newest_seq = h.seq;
        }
    }
    /* The next append goes to the first blank slot after the newest record
     * in its sector (torn slots are skipped), else to a fresh sector. */
    uint32_t slot = log->newest < 0 ? 0 : (uint32_t)log->newest + 1;
    while (slot % slots_per_sector(log) != 0 && !slot_blank(log, slot))
        slot++;
    log->write_slot = slot % slot_count(log);
    return found;
}

int reclog_read(struct reclog *log, void *payload, uint16_t cap, uint8_t *version)
{
    struct header h;
    if (log->newest < 0 || !slot_valid(log, (uint32_t)log->newest, &h) || h.version == RECLOG_WIPED)
        return -1;
    uint16_t n = h.len < cap ? h.len : cap;
    if (hal_flash_read(log->part, slot_offset(log, (uint32_t)log->newest) + RECLOG_HEADER_SIZE, payload, n) != 0)
        return -1;
    if (version)
        *version = h.version;
    return h.len;
}

int reclog_append(struct reclog *log, const void *payload, uint16_t len, uint8_t version)
{
    if (len > log->slot_size - RECLOG_HEADER_SIZE)
        return HAL_EINVAL;
    if (log->sealed)
        return HAL_EBUSY;
    uint32_t slot = log->write_slot;
    int err;
    if (slot % slots_per_sector(log) == 0) {
        /* Entering a sector: it holds only older records (the newest is in
         * the previous one), so it may be erased — unless failed appends
         * have skipped all the way round to the newest: then stop. */
        if (log->newest >= 0 && (uint32_t)log->newest / slots_per_sector(log) == slot / slots_per_sector(log))
            return HAL_EIO;
        err = hal_flash_erase_sector(log->part, slot_offset(log, slot));
        if (err)
            return err;
        log->erases++;
    }
    struct header h = {.seq = log->newest_seq + 1, .len = len, .version = version, .magic = log->magic};
    h.crc = crc32_update(crc32_update(0, &h, offsetof(struct header, crc)), payload, len);
    /* Payload before header: until the header lands the slot reads invalid. */
    err = len ? hal_flash_program(log->part, slot_offset(log, slot) + RECLOG_HEADER_SIZE, payload, len) : 0;
    if (!err)
        err = hal_flash_program(log->part, slot_offset(log, slot), &h, sizeof h);
    if (err) {
        /* A slot the failure touched is skipped; an untouched one is
         * tried again, so failures alone never walk round the ring. */
        if (!slot_blank(log, slot))
            log->write_slot = (slot + 1) % slot_count(log);
        return err;
    }
    log->write_slot = (slot + 1) % slot_count(log);
    log->newest = (int32_t)slot;
    log->newest_seq = h.seq;
    log->appends++;
    return 0;
}

bool reclog_erase_step(struct reclog *log, uint16_t *step)
{
    uint32_t per_sector = slots_per_sector(log);
    if (*step == 0) {
        /* The marker goes to the start of the next sector (erased first), so
         * that sector holds nothing else and may stay as it is. */
        uint32_t sector = (log->write_slot + per_sector - 1) / per_sector % log->sectors;
        log->write_slot = sector * per_sector;
        if (reclog_append(log, "", 0, RECLOG_WIPED) != 0)
            return false; /* flash failing: the old records stay, as they were */
        log->wiped_sector = (uint16_t)sector;
        log->wiped_seq = log->newest_seq;
        log->sealed = true;
    } else if (*step < log->sectors) {
        uint32_t sector = (log->wiped_sector + *step) % log->sectors;
        if (hal_flash_erase_sector(log->part, log->offset + sector * HAL_FLASH_SECTOR) == 0)
            log->erases++;
    }
    (*step)++;
    return *step < log->sectors;
}
