/*
 * fuzz_backup.c — the backup file reader (src/core/backup/backup_format.h)
 * and the restore's check of a whole file (restore_check(), backup.h), on
 * the fake board.
 *
 * Input: a mode byte, then
 *   even: the rest is a file, checked as it is;
 *   odd:  a script that makes a real backup of the fake plug — its name
 *         and power-on state changed, up to three files written, an energy
 *         and a history record planted (any bytes: the writer must leave out
 *         what their owners would not read back), secrets / energy asked or
 *         not — produced by backup_writer_produce() in chunks of fuzzed
 *         sizes, then maybe changed: one byte flipped, cut short or
 *         lengthened.
 * Properties:
 *   - never a crash; the reader never reads outside the file and never
 *     hands over a record that ends past the trailer;
 *   - a backup as written is as long as the writer said and is taken, and
 *     the settings the restore would apply are exactly those in use (a
 *     file without secrets gets the plug's own, which are those it left
 *     out);
 *   - a backup with any byte changed, cut short or lengthened is refused.
 */
#include <stdlib.h>

#include "core/backup/backup.h"
#include "core/backup/backup_rings.h"
#include "core/storage/config.h"
#include "core/storage/files.h"
#include "fake_hal.h"
#include "fuzz_input.h"

#define FILE_MAX (96u * 1024) /* more than any backup of the fake board */

struct memory {
    const uint8_t *data;
    uint32_t size;
};

static int memory_read(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
    const struct memory *m = ctx;
    FUZZ_CHECK(offset <= m->size && len <= m->size - offset); /* the reader stays in the file */
    memcpy(buf, m->data + offset, len);
    return 0;
}

static const char *record_in_bounds(void *arg, const struct backup_record *rec, const struct backup_source *src)
{
    (void)arg;
    FUZZ_CHECK(rec->data_offset <= src->size - BACKUP_TRAILER_SIZE &&
               rec->data_len <= src->size - BACKUP_TRAILER_SIZE - rec->data_offset);
    return NULL;
}

/* Read and check the file; true when a restore would take it. */
static bool taken(const uint8_t *data, uint32_t size, struct config *settings)
{
    struct memory m = {data, size};
    struct backup_source src = {memory_read, &m, size};
    struct backup_header h;
    char why[128];
    bool read = backup_read(&src, hal_chip_name(), &h, record_in_bounds, NULL, why, sizeof why);
    bool ok = restore_check(&src, settings, why, sizeof why);
    FUZZ_CHECK(read || !ok);
    FUZZ_CHECK(ok || why[0]);
    return ok;
}

static void make_plug(struct fuzz_in *in)
{
    fake_flash_blank();
    config_load();
    files_mount();
    struct config *c = config_edit();
    fuzz_cstr(in, c->device_name, CONFIG_NAME_SIZE - 1);
    fuzz_cstr(in, c->wifi.password[0], CONFIG_SECRET_SIZE - 1);
    c->power_on_state = fuzz_u8(in) % 5;
    config_update(c);
    for (unsigned files = fuzz_u8(in) % 4, i = 0; i < files; i++) {
        static uint8_t data[300];
        char name[] = {'f', (char)('0' + i), '\0'};
        uint32_t len = fuzz_u16(in) % sizeof data;
        fuzz_bytes(in, data, len);
        files_write(name, data, len);
    }
    uint8_t planted = fuzz_u8(in);
    for (unsigned i = 0; i < BACKUP_RINGS; i++) {
        static uint8_t record[BACKUP_RING_MAX];
        uint32_t len = i == 0 ? 40 : 264;
        fuzz_bytes(in, record, len);
        if (i == 1 && (planted & 4)) { /* mostly a plausible history: hour and day unknown, buckets empty */
            memset(record, 0, len);
            memset(record, 0xFF, 8);
        }
        if (planted & (1u << i))
            backup_ring_append(i, record, len, 1);
    }
}

static void written(struct fuzz_in *in, uint8_t *file, struct config *settings)
{
    make_plug(in);
    struct backup_writer w;
    backup_writer_begin(&w, fuzz_u8(in) & (BACKUP_SECRETS | BACKUP_ENERGY));
    FUZZ_CHECK(w.total <= FILE_MAX);
    uint32_t size = 0;
    for (int n; (n = backup_writer_produce(&w, file + size, 64 + fuzz_u8(in) % 200)) > 0;)
        size += (uint32_t)n;
    FUZZ_CHECK(size == w.total);
    FUZZ_CHECK(taken(file, size, settings));
    FUZZ_CHECK(memcmp(settings, config_get(), sizeof *settings) == 0);

    uint32_t at = fuzz_u32(in);
    switch (fuzz_u8(in) % 4) {
    case 0: /* one byte changed */
        file[at % size] ^= (uint8_t)(1 + fuzz_u8(in) % 255);
        FUZZ_CHECK(!taken(file, size, settings));
        break;
    case 1: /* cut short */
        FUZZ_CHECK(!taken(file, at % size, settings));
        break;
    case 2: /* lengthened */
        memset(file + size, fuzz_u8(in), 1 + at % 16);
        FUZZ_CHECK(!taken(file, size + 1 + at % 16, settings));
        break;
    default:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *file;
    static struct config *settings;
    if (size == 0)
        return 0;
    if (!file) {
        file = malloc(FILE_MAX + 16);
        settings = malloc(sizeof *settings);
    }
    struct fuzz_in in = fuzz_in(data, size);
    if (fuzz_u8(&in) & 1) {
        written(&in, file, settings);
        return 0;
    }
    static bool booted;
    if (!booted) {
        fake_flash_blank();
        config_load();
        booted = true;
    }
    taken(data + 1, (uint32_t)(size - 1 < FILE_MAX ? size - 1 : FILE_MAX), settings);
    return 0;
}
