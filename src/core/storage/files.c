/* files.c — slots of two banks, header last; see files.h. */
#include "files.h"

#include <stddef.h>
#include <string.h>

#include "core/storage/layout.h"
#include "core/util/crc32.h"
#include "hal/hal.h"

#define FILES_MAGIC 0x3146504Fu /* "OPF1" */
#define FLAG_DELETED 1u
#define BANK_BYTES (FILES_BANK_SECTORS * HAL_FLASH_SECTOR)
#define SLOT_BYTES (2u * BANK_BYTES)

_Static_assert(FILES_SLOTS * SLOT_BYTES == LAYOUT_FILES_SECTORS * HAL_FLASH_SECTOR, "slots fill the area");

struct file_header {
    uint32_t magic;
    uint32_t seq;
    uint32_t size;
    uint32_t data_crc;
    uint32_t flags;
    char name[FILES_NAME_MAX + 8]; /* NUL-padded */
    uint32_t header_crc;           /* over every byte before it */
};
_Static_assert(sizeof(struct file_header) == FILES_HEADER_SIZE, "header layout is persisted");

struct slot_state {
    int8_t bank; /* current bank, -1 = never written */
    bool live;   /* holds a file (current version is not a delete) */
    struct file_header header;
};

static struct slot_state slots[FILES_SLOTS];
static uint32_t last_seq;

static struct {
    bool busy;
    int slot, bank;
    uint32_t written;
    uint32_t crc;
    struct file_header header;
} writer;

static uint32_t bank_offset(int slot, int bank)
{
    return LAYOUT_FILES_OFFSET + (uint32_t)slot * SLOT_BYTES + (uint32_t)bank * BANK_BYTES;
}

static uint32_t header_crc(const struct file_header *h)
{
    return crc32_update(0, h, offsetof(struct file_header, header_crc));
}

static uint32_t data_crc(int slot, int bank, uint32_t size, int *err)
{
    uint8_t buf[128];
    uint32_t crc = 0;
    for (uint32_t done = 0; done < size && !*err; done += sizeof buf) {
        uint32_t n = size - done < sizeof buf ? size - done : sizeof buf;
        *err = hal_flash_read(HAL_PART_MEDIA, bank_offset(slot, bank) + FILES_HEADER_SIZE + done, buf, n);
        crc = crc32_update(crc, buf, n);
    }
    return crc;
}

/* A bank's header if it is whole and its data matches; else false. */
static bool read_bank(int slot, int bank, struct file_header *h, int *err)
{
    *err = hal_flash_read(HAL_PART_MEDIA, bank_offset(slot, bank), h, sizeof *h);
    if (*err || h->magic != FILES_MAGIC || h->header_crc != header_crc(h) || h->size > FILES_SIZE_MAX ||
        h->name[FILES_NAME_MAX] != '\0')
        return false;
    if (h->flags & FLAG_DELETED)
        return true;
    return data_crc(slot, bank, h->size, err) == h->data_crc && !*err;
}

int files_mount(void)
{
    int count = 0, err = 0;
    last_seq = 0;
    writer.busy = false;
    for (int s = 0; s < FILES_SLOTS; s++) {
        slots[s] = (struct slot_state){.bank = -1};
        for (int b = 0; b < 2; b++) {
            struct file_header h;
            bool valid = read_bank(s, b, &h, &err);
            if (err)
                return err;
            if (!valid || (slots[s].bank >= 0 && h.seq <= slots[s].header.seq))
                continue;
            slots[s] = (struct slot_state){.bank = (int8_t)b, .live = !(h.flags & FLAG_DELETED), .header = h};
            if (h.seq > last_seq)
                last_seq = h.seq;
        }
        count += slots[s].live;
    }
    return count;
}

static int find_slot(const char *name)
{
    for (int s = 0; s < FILES_SLOTS; s++)
        if (slots[s].live && strcmp(slots[s].header.name, name) == 0)
            return s;
    return -1;
}

static void fill_info(int slot, struct files_info *out)
{
    memcpy(out->name, slots[slot].header.name, sizeof out->name);
    out->name[FILES_NAME_MAX] = '\0';
    out->size = slots[slot].header.size;
    out->crc = slots[slot].header.data_crc;
}

int files_list(struct files_info *out, int max)
{
    int n = 0;
    for (int s = 0; s < FILES_SLOTS && n < max; s++)
        if (slots[s].live)
            fill_info(s, &out[n++]);
    return n;
}

int files_stat(const char *name, struct files_info *out)
{
    int s = find_slot(name);
    if (s < 0)
        return FILES_ENOENT;
    fill_info(s, out);
    return 0;
}

int files_read(const char *name, uint32_t offset, void *buf, uint32_t len)
{
    int s = find_slot(name);
    if (s < 0)
        return FILES_ENOENT;
    uint32_t size = slots[s].header.size;
    if (offset >= size)
        return 0;
    if (len > size - offset)
        len = size - offset;
    int err = hal_flash_read(HAL_PART_MEDIA, bank_offset(s, slots[s].bank) + FILES_HEADER_SIZE + offset, buf, len);
    return err ? err : (int)len;
}

bool files_name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > FILES_NAME_MAX || name[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

const char *files_strerror(int err)
{
    switch (err) {
    case FILES_ENOENT: return "no such file";
    case FILES_ENOSPC: return "file store full (8 files)";
    case FILES_EBUSY: return "another file is being written";
    case FILES_ENAME: return "bad file name (1-32 of A-Z a-z 0-9 . _ -, not starting with '.')";
    case FILES_ETOOBIG: return "file too large (8128 bytes at most)";
    default: return "flash error";
    }
}

/* The slot for a new version of `name`: its own, else a free one. */
static int slot_for(const char *name)
{
    int s = find_slot(name);
    for (int i = 0; s < 0 && i < FILES_SLOTS; i++)
        if (!slots[i].live)
            s = i;
    return s;
}

static int begin(const char *name, uint32_t size, uint32_t flags)
{
    if (writer.busy)
        return FILES_EBUSY;
    if (!files_name_valid(name))
        return FILES_ENAME;
    if (size > FILES_SIZE_MAX)
        return FILES_ETOOBIG;
    int s = slot_for(name);
    if (s < 0)
        return FILES_ENOSPC;
    writer.slot = s;
    writer.bank = slots[s].bank == 0 ? 1 : 0;
    writer.written = 0;
    writer.crc = 0;
    writer.header = (struct file_header){.magic = FILES_MAGIC, .size = size, .flags = flags};
    strncpy(writer.header.name, name, sizeof writer.header.name - 1);
    /* The header's sector first: the bank stops being a valid older version. */
    int err = hal_flash_erase_sector(HAL_PART_MEDIA, bank_offset(s, writer.bank));
    if (err)
        return err;
    writer.busy = true;
    return 0;
}

int files_write_begin(const char *name, uint32_t size) { return begin(name, size, 0); }

bool files_write_busy(void) { return writer.busy; }

void files_write_abort(void) { writer.busy = false; }

bool files_write_would_erase(void)
{
    uint32_t pos = FILES_HEADER_SIZE + writer.written;
    return writer.busy && pos % HAL_FLASH_SECTOR == 0 && writer.written < writer.header.size;
}

int files_write_chunk(const void *data, uint32_t len)
{
    if (!writer.busy)
        return HAL_EINVAL;
    if (len > writer.header.size - writer.written)
        return FILES_ETOOBIG;
    uint32_t pos = FILES_HEADER_SIZE + writer.written; /* within the bank */
    uint32_t sector_end = (pos / HAL_FLASH_SECTOR + 1) * HAL_FLASH_SECTOR;
    if (pos % HAL_FLASH_SECTOR == 0 && pos > 0) {
        /* Entering the bank's second sector: its erase is this call's one. */
        int err = hal_flash_erase_sector(HAL_PART_MEDIA, bank_offset(writer.slot, writer.bank) + pos);
        if (err)
            return err;
        if (len > HAL_FLASH_SECTOR)
            len = HAL_FLASH_SECTOR;
    } else if (len > sector_end - pos) {
        len = sector_end - pos; /* the next sector's erase waits for the next call */
    }
    int err = hal_flash_program(HAL_PART_MEDIA, bank_offset(writer.slot, writer.bank) + pos, data, len);
    if (err) {
        writer.busy = false;
        return err;
    }
    writer.crc = crc32_update(writer.crc, data, len);
    writer.written += len;
    return (int)len;
}

int files_write_commit(void)
{
    if (!writer.busy || writer.written != writer.header.size)
        return HAL_EINVAL;
    writer.busy = false;
    writer.header.seq = last_seq + 1;
    writer.header.data_crc = writer.crc;
    writer.header.header_crc = header_crc(&writer.header);
    int err = hal_flash_program(HAL_PART_MEDIA, bank_offset(writer.slot, writer.bank), &writer.header,
                                sizeof writer.header);
    if (err)
        return err;
    last_seq = writer.header.seq;
    slots[writer.slot] = (struct slot_state){
        .bank = (int8_t)writer.bank, .live = !(writer.header.flags & FLAG_DELETED), .header = writer.header};
    return 0;
}

int files_write(const char *name, const void *data, uint32_t len)
{
    int err = files_write_begin(name, len);
    const uint8_t *p = data;
    while (!err && len) {
        int n = files_write_chunk(p, len);
        if (n < 0) {
            err = n;
            break;
        }
        p += n;
        len -= (uint32_t)n;
    }
    if (err) {
        files_write_abort();
        return err;
    }
    return files_write_commit();
}

int files_delete(const char *name)
{
    if (find_slot(name) < 0)
        return files_name_valid(name) ? FILES_ENOENT : FILES_ENAME;
    int err = begin(name, 0, FLAG_DELETED);
    return err ? err : files_write_commit();
}
