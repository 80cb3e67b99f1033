/* ptable.c — the BL602 partition table as bytes; see ptable.h. */
#include "ptable.h"

#include <string.h>

#include "core/storage/layout.h"
#include "core/util/crc32.h"
#include "core/util/le.h"

/* The media partition holds every ring of layout.h; sector-aligned slots. */
_Static_assert(PTABLE_MEDIA_SIZE >= (LAYOUT_FILES_OFFSET + LAYOUT_FILES_SECTORS * HAL_FLASH_SECTOR),
               "the firmware slots leave too little media for layout.h");
_Static_assert(PTABLE_PSM_ADDR > PTABLE_MEDIA_ADDR, "the firmware slots run into PSM");
_Static_assert(PTABLE_FW_SLOT0_SIZE % HAL_FLASH_SECTOR == 0 && PTABLE_FW_SLOT1_SIZE % HAL_FLASH_SECTOR == 0,
               "firmware slots are whole sectors");

static void entry_parse(const uint8_t *p, struct ptable_entry *e)
{
    e->type = p[0];
    e->device = p[1];
    e->active_index = p[2];
    memcpy(e->name, p + 3, 8); /* as read: a table round-trips byte for byte */
    e->flags = p[11];
    for (int i = 0; i < 2; i++) {
        e->address[i] = le32_get(p + 12 + 4 * i);
        e->max_len[i] = le32_get(p + 20 + 4 * i);
    }
    e->len = le32_get(p + 28);
    e->age = le32_get(p + 32);
}

static void entry_serialize(const struct ptable_entry *e, uint8_t *p)
{
    p[0] = e->type;
    p[1] = e->device;
    p[2] = e->active_index;
    memcpy(p + 3, e->name, 8);
    p[11] = e->flags;
    for (int i = 0; i < 2; i++) {
        le32_put(p + 12 + 4 * i, e->address[i]);
        le32_put(p + 20 + 4 * i, e->max_len[i]);
    }
    le32_put(p + 28, e->len);
    le32_put(p + 32, e->age);
}

bool ptable_parse(const uint8_t *copy, size_t size, struct ptable *out)
{
    if (size < PTABLE_HEADER_SIZE || le32_get(copy) != PTABLE_MAGIC)
        return false;
    uint16_t count = le16_get(copy + 6);
    if (count == 0 || count > PTABLE_MAX_ENTRIES || le32_get(copy + 12) != crc32_update(0, copy, 12))
        return false;
    size_t entries_size = (size_t)count * PTABLE_ENTRY_SIZE;
    if (size < PTABLE_HEADER_SIZE + entries_size + 4)
        return false;
    const uint8_t *entries = copy + PTABLE_HEADER_SIZE;
    if (le32_get(entries + entries_size) != crc32_update(0, entries, entries_size))
        return false;
    memset(out, 0, sizeof *out);
    out->version = le16_get(copy + 4);
    out->count = count;
    out->age = le32_get(copy + 8);
    for (uint16_t i = 0; i < count; i++)
        entry_parse(entries + i * PTABLE_ENTRY_SIZE, &out->entries[i]);
    return true;
}

int ptable_pick(const uint8_t *copy0, const uint8_t *copy1, size_t size, struct ptable *out)
{
    struct ptable tables[2];
    bool valid0 = copy0 && ptable_parse(copy0, size, &tables[0]);
    bool valid1 = copy1 && ptable_parse(copy1, size, &tables[1]);
    int pick = valid0 && valid1 ? (tables[1].age > tables[0].age) : valid1 ? 1 : valid0 ? 0 : -1;
    if (pick >= 0)
        *out = tables[pick];
    return pick;
}

size_t ptable_serialize(const struct ptable *table, uint8_t *out)
{
    memset(out, 0xFF, PTABLE_MAX_BYTES);
    le32_put(out, PTABLE_MAGIC);
    le16_put(out + 4, table->version);
    le16_put(out + 6, table->count);
    le32_put(out + 8, table->age);
    le32_put(out + 12, crc32_update(0, out, 12));
    uint8_t *entries = out + PTABLE_HEADER_SIZE;
    for (uint16_t i = 0; i < table->count; i++)
        entry_serialize(&table->entries[i], entries + i * PTABLE_ENTRY_SIZE);
    size_t entries_size = (size_t)table->count * PTABLE_ENTRY_SIZE;
    le32_put(entries + entries_size, crc32_update(0, entries, entries_size));
    return PTABLE_HEADER_SIZE + entries_size + 4;
}

struct ptable_entry *ptable_fw(struct ptable *table)
{
    for (uint16_t i = 0; i < table->count; i++)
        if (table->entries[i].type == PTABLE_FW)
            return &table->entries[i];
    return NULL;
}

unsigned ptable_tries(const uint8_t tries[PTABLE_MAX_TRIES])
{
    unsigned n = 0;
    while (n < PTABLE_MAX_TRIES && tries[n] != 0xFF)
        n++;
    return n;
}

void ptable_default(struct ptable *table)
{
    static const struct ptable_entry defaults[] = {
        {PTABLE_FW, 0, 0, "FW", 0, {PTABLE_FW_ADDR, PTABLE_FW_ADDR + PTABLE_FW_SLOT0_SIZE},
         {PTABLE_FW_SLOT0_SIZE, PTABLE_FW_SLOT1_SIZE}, 0, 0},
        {PTABLE_MEDIA, 0, 0, "media", 0, {PTABLE_MEDIA_ADDR, 0}, {PTABLE_MEDIA_SIZE, 0}, 0, 0},
        {PTABLE_PSM, 0, 0, "PSM", 0, {PTABLE_PSM_ADDR, 0}, {0x8000, 0}, 0, 0},
        {PTABLE_KEY, 0, 0, "KEY", 0, {0x1F1000, 0}, {0x2000, 0}, 0, 0},
        {PTABLE_DATA, 0, 0, "DATA", 0, {0x1F3000, 0}, {0x5000, 0}, 0, 0},
        {PTABLE_FACTORY, 0, 0, "factory", 0, {0x1F8000, 0}, {0x8000, 0}, 0, 0},
    };
    memset(table, 0, sizeof *table);
    table->count = sizeof defaults / sizeof defaults[0];
    memcpy(table->entries, defaults, sizeof defaults);
}
