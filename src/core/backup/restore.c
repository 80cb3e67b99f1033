/*
 * restore.c — a backup file back into the plug: staged in the inactive
 * firmware slot, checked, committed, applied at the next boot; see backup.h.
 * Owns the slot while lent (ota_slot_borrow) and its marker sector:
 *
 *   slot sector 0: the marker — magic, file size, the settings to
 *                  restore (secrets merged), CRC (one program: whole or
 *                  invalid); at MARKER_DONE, a byte programmed once applied
 *   slot sector 1…: the backup file as received
 */
#include "backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/backup/backup_rings.h"
#include "core/log.h"
#include "core/ota/ota.h"
#include "core/sched.h"
#include "core/storage/files.h"
#include "core/system.h"
#include "core/util/crc32.h"
#include "hal/hal.h"

#define MARKER_MAGIC 0x5352504Fu /* "OPRS" */
#define MARKER_DONE 2048u        /* offset of the "applied" byte in the marker sector */
#define FILE_OFFSET HAL_FLASH_SECTOR
#define RESTART_AFTER_MS 1000    /* the reply leaves first */

struct marker {
    uint32_t magic, size, reserved[2];
    struct config settings;
    uint32_t crc; /* over everything before it */
};
_Static_assert(sizeof(struct marker) <= MARKER_DONE, "the marker ends before its done byte");

/* ---- Checking a file ---- */

struct check {
    struct config *settings;
    bool have_settings;
    int files;
    char names[FILES_SLOTS][FILES_NAME_MAX + 1];
    char why[64];
};

static const char *check_ring(struct check *c, const struct backup_record *rec, const struct backup_source *src)
{
    uint8_t record[BACKUP_RING_MAX];
    for (unsigned i = 0; i < BACKUP_RINGS; i++) {
        if (backup_rings[i].type != rec->type)
            continue;
        if (rec->data_len > sizeof record || src->read(src->ctx, rec->data_offset, record, rec->data_len) != 0 ||
            !backup_rings[i].valid(record, rec->data_len, rec->version))
            return "an energy record this firmware does not read";
        return NULL;
    }
    snprintf(c->why, sizeof c->why, "unknown record type %u", rec->type);
    return c->why;
}

static const char *check_record(void *arg, const struct backup_record *rec, const struct backup_source *src)
{
    struct check *c = arg;
    if (rec->type == BACKUP_REC_SETTINGS) {
        if (c->have_settings)
            return "two settings records";
        if (rec->data_len > sizeof *c->settings ||
            src->read(src->ctx, rec->data_offset, c->settings, rec->data_len) != 0)
            return "settings larger than this firmware's";
        c->have_settings = true;
        return config_check_record(c->settings, rec->data_len, rec->version, c->settings);
    }
    if (rec->type != BACKUP_REC_FILE)
        return check_ring(c, rec, src);
    if (!files_name_valid(rec->name))
        return "a file with a bad name";
    if (rec->data_len > FILES_SIZE_MAX)
        return "a file larger than the file store takes";
    if (c->files == FILES_SLOTS)
        return "more files than the file store holds";
    for (int i = 0; i < c->files; i++)
        if (!strcmp(c->names[i], rec->name))
            return "a file twice";
    strcpy(c->names[c->files++], rec->name);
    return NULL;
}

static bool check_file(const struct backup_source *src, struct check *c, struct backup_header *h, char *why,
                       size_t why_size)
{
    if (!backup_read(src, hal_chip_name(), h, check_record, c, why, why_size))
        return false;
    if (!c->have_settings) {
        snprintf(why, why_size, "no settings in the file");
        return false;
    }
    if (!(h->flags & BACKUP_SECRETS))
        backup_secrets_copy(c->settings, config_get()); /* the plug keeps its own */
    return true;
}

bool restore_check(const struct backup_source *src, struct config *settings, char *why, size_t why_size)
{
    struct check *c = calloc(1, sizeof *c);
    struct backup_header h;
    if (!c) {
        snprintf(why, why_size, "not enough memory");
        return false;
    }
    c->settings = settings;
    bool ok = check_file(src, c, &h, why, why_size);
    free(c);
    return ok;
}

/* The staged file, read from the slot. */
static int slot_read(void *ctx, uint32_t offset, void *buf, uint32_t len)
{
    (void)ctx;
    return hal_flash_read(HAL_PART_OTA, FILE_OFFSET + offset, buf, len);
}

/* ---- Staging ---- */

static struct {
    enum restore_state state;
    enum source source;
    uint32_t received, total;
    char error[96];
    char last[80]; /* what the apply at this boot did */
} progress;

static struct restore_work {
    uint8_t sector[HAL_FLASH_SECTOR];
    uint32_t fill, programmed; /* bytes waiting in sector[]; bytes of the file in flash */
    bool marker_erased, sector_erased;
    struct marker marker;
} *work;

static struct sched_timer step_timer, restart_timer;

static void finish(enum restore_state state)
{
    progress.state = state;
    free(work);
    work = NULL;
    if (state != RESTORE_COMMITTED)
        ota_slot_return();
}

static void fail(const char *why)
{
    snprintf(progress.error, sizeof progress.error, "%s", why);
    LOG_ERR("RST", "restore refused: %s (nothing changed)", why);
    finish(RESTORE_FAILED);
}

int restore_begin(uint32_t size, enum source source, const char **why)
{
    *why = NULL;
    if (size < BACKUP_HEADER_SIZE + BACKUP_TRAILER_SIZE) {
        *why = "send the backup file as the request body";
        return RESTORE_ESHORT;
    }
    if (size > hal_flash_size(HAL_PART_OTA) - FILE_OFFSET) {
        *why = "file larger than any backup";
        return RESTORE_ELARGE;
    }
    if (progress.state == RESTORE_RECEIVING || progress.state == RESTORE_CHECKING)
        *why = "a restore is already running";
    else if (progress.state == RESTORE_COMMITTED)
        *why = "a restore is done: the plug is restarting";
    if (*why || ota_slot_borrow(why) != 0)
        return RESTORE_EBUSY;
    work = calloc(1, sizeof *work);
    if (!work) {
        ota_slot_return();
        *why = "not enough memory for the restore";
        return RESTORE_EBUSY;
    }
    progress.state = RESTORE_RECEIVING;
    progress.source = source;
    progress.received = 0;
    progress.total = size;
    progress.error[0] = '\0';
    LOG_INF("RST", "restore started (%s, %lu bytes)", source_name(source), (unsigned long)size);
    sched_timer_start(&step_timer, 0, 0);
    return 0;
}

size_t restore_feed(const void *data, size_t len)
{
    if (progress.state != RESTORE_RECEIVING)
        return 0;
    size_t n = HAL_FLASH_SECTOR - work->fill, left = progress.total - progress.received;
    n = n < len ? n : len;
    n = n < left ? n : left;
    memcpy(work->sector + work->fill, data, n);
    work->fill += (uint32_t)n;
    progress.received += (uint32_t)n;
    if (n)
        sched_timer_start(&step_timer, 0, 0);
    return n;
}

void restore_end(void)
{
    if (progress.state != RESTORE_RECEIVING)
        return;
    if (progress.received < progress.total) {
        fail("the upload ended early");
        return;
    }
    progress.state = RESTORE_CHECKING;
    sched_timer_start(&step_timer, 0, 0);
}

void restore_abort(const char *why)
{
    if (progress.state == RESTORE_RECEIVING || progress.state == RESTORE_CHECKING)
        fail(why);
}

enum restore_state restore_state(void) { return progress.state; }
const char *restore_error(void) { return progress.error; }

static void restart_now(void *arg)
{
    (void)arg;
    system_restart(RESTART_RESTORE, progress.source);
}

/* All of the file is in the slot: check it there, then commit. */
static void check_and_commit(void)
{
    struct backup_source src = {slot_read, NULL, progress.total};
    char why[sizeof progress.error];
    struct marker *m = &work->marker;
    if (!restore_check(&src, &m->settings, why, sizeof why)) {
        fail(why);
        return;
    }
    m->magic = MARKER_MAGIC;
    m->size = progress.total;
    m->crc = crc32_update(0, m, offsetof(struct marker, crc));
    int err = hal_flash_program(HAL_PART_OTA, 0, m, sizeof *m);
    if (err) {
        snprintf(why, sizeof why, "flash error %d while committing", err);
        fail(why);
        return;
    }
    LOG_INF("RST", "backup checked and committed: restarting to apply it");
    finish(RESTORE_COMMITTED);
    sched_timer_start(&restart_timer, RESTART_AFTER_MS, 0);
}

/* One flash operation (or the check) per loop turn. */
static void step(void *arg)
{
    (void)arg;
    if (!work)
        return;
    bool all_in = progress.received == progress.total;
    int err = HAL_OK;
    if (!work->marker_erased) {
        err = hal_flash_erase_sector(HAL_PART_OTA, 0); /* first: no old marker survives this restore */
        work->marker_erased = true;
    } else if (work->fill == HAL_FLASH_SECTOR || (all_in && work->fill)) {
        if (!work->sector_erased) {
            err = hal_flash_erase_sector(HAL_PART_OTA, FILE_OFFSET + work->programmed);
            work->sector_erased = true;
        } else {
            err = hal_flash_program(HAL_PART_OTA, FILE_OFFSET + work->programmed, work->sector, work->fill);
            work->programmed += work->fill;
            work->fill = 0;
            work->sector_erased = false;
        }
    } else if (progress.state == RESTORE_CHECKING) {
        check_and_commit();
        return;
    } else {
        return; /* waiting for bytes */
    }
    if (err) {
        char why[48];
        snprintf(why, sizeof why, "flash error %d while staging the file", err);
        fail(why);
        return;
    }
    sched_timer_start(&step_timer, 1, 0); /* the next operation next turn */
}

void restore_progress_json(struct json_writer *w)
{
    static const char *const names[] = {"idle", "receiving", "checking", "restarting", "failed"};
    jw_string(w, "State", names[progress.state]);
    jw_int(w, "Received", progress.received);
    jw_int(w, "Total", progress.total);
    jw_string(w, "Error", progress.error);
    jw_string(w, "LastRestore", progress.last);
}

/* ---- Applying, at boot ---- */

struct apply {
    int errors, energy_records;
};

/* Write file record `rec` unless the store holds it already (at boot:
 * the heap is free, and files_write() may erase both sectors at once). */
static int apply_file(const struct backup_record *rec, const struct backup_source *src)
{
    struct files_info info;
    if (files_stat(rec->name, &info) == 0 && info.size == rec->data_len && info.crc == rec->data_crc)
        return 0;
    uint8_t *data = malloc(rec->data_len + 1);
    int err = !data ? HAL_EIO : src->read(src->ctx, rec->data_offset, data, rec->data_len);
    err = err ? err : files_write(rec->name, data, rec->data_len);
    free(data);
    return err;
}

static const char *apply_record(void *arg, const struct backup_record *rec, const struct backup_source *src)
{
    struct apply *a = arg;
    int err = 0;
    if (rec->type == BACKUP_REC_FILE) {
        err = apply_file(rec, src);
    } else {
        uint8_t record[BACKUP_RING_MAX];
        for (unsigned i = 0; i < BACKUP_RINGS; i++) {
            if (backup_rings[i].type != rec->type || rec->data_len > sizeof record)
                continue; /* the settings come from the marker */
            err = src->read(src->ctx, rec->data_offset, record, rec->data_len) ? HAL_EIO
                  : backup_ring_append(i, record, rec->data_len, rec->version);
            a->energy_records++;
        }
    }
    if (err) {
        LOG_ERR("RST", "restore: %s %s: error %d", rec->type == BACKUP_REC_FILE ? "file" : "record", rec->name, err);
        a->errors++;
    }
    return NULL;
}

/* Files the backup does not hold go first: their slots are the backup's. */
static int delete_others(const struct check *c)
{
    struct files_info infos[FILES_SLOTS];
    int n = files_list(infos, FILES_SLOTS), errors = 0;
    for (int i = 0; i < n; i++) {
        bool kept = false;
        for (int k = 0; k < c->files; k++)
            kept |= !strcmp(c->names[k], infos[i].name);
        if (!kept && files_delete(infos[i].name) != 0)
            errors++;
    }
    return errors;
}

void backup_boot_apply(void)
{
    static const uint8_t done = 0;
    uint8_t done_byte = 0;
    struct marker *m = malloc(sizeof *m);
    struct check *c = calloc(1, sizeof *c);
    sched_timer_init(&step_timer, step, NULL);
    sched_timer_init(&restart_timer, restart_now, NULL);
    if (!m || !c || hal_flash_read(HAL_PART_OTA, 0, m, sizeof *m) != HAL_OK || m->magic != MARKER_MAGIC ||
        m->crc != crc32_update(0, m, offsetof(struct marker, crc)) ||
        hal_flash_read(HAL_PART_OTA, MARKER_DONE, &done_byte, 1) != HAL_OK || done_byte != 0xFF) {
        free(m);
        free(c);
        return;
    }
    struct backup_source src = {slot_read, NULL, m->size};
    struct backup_header h;
    struct apply a = {0, 0};
    char why[96];
    c->settings = malloc(sizeof *c->settings);
    files_mount();
    /* The file was checked before the commit; read again, it must still be whole. */
    if (!c->settings || !backup_read(&src, hal_chip_name(), &h, check_record, c, why, sizeof why)) {
        snprintf(progress.last, sizeof progress.last, "not applied: %.60s", c->settings ? why : "no memory");
    } else {
        a.errors = delete_others(c);
        backup_read(&src, hal_chip_name(), &h, apply_record, &a, why, sizeof why);
        int err = config_store(&m->settings);
        a.errors += err != 0;
        snprintf(progress.last, sizeof progress.last, "%s: settings, %d files%s", a.errors ? "applied with errors" : "applied",
                 c->files, a.energy_records ? ", energy" : "");
    }
    hal_flash_program(HAL_PART_OTA, MARKER_DONE, &done, 1);
    LOG_INF("RST", "restore %s", progress.last);
    free(c->settings);
    free(m);
    free(c);
}
