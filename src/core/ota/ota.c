/*
 * ota.c — the streaming update writer, the partition-table switch, the boot
 * guard of a firmware on trial (tries and rollback) and its confirmation;
 * see ota.h.
 *
 * Everything that touches flash runs from one poller, one flash operation
 * per loop turn: the writer's erase-ahead / program of its sector buffer,
 * the read-back check of the written slot, and the two-step table write
 * (erase the older table copy, program the new one).  While it has work
 * the poller keeps the loop from idling longer than 1 ms with a timer.
 */
#include "ota.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "core/firmware.h"
#include "core/log.h"
#include "core/ota/ota_image.h"
#include "core/ota/ota_verify.h"
#include "core/ota/ptable.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "core/system.h"
#include "core/util/sha256.h"
#include "hal/hal.h"

#define RESTART_AFTER_MS 1000 /* lets the HTTP reply and the log leave first */

/* ---- The partition table ---- */

static struct ptable table;  /* the one boot2 used for this boot */
static int table_copy = -1;  /* which copy it is (0/1), -1 none */

static void table_load(void)
{
    uint8_t copies[2][PTABLE_MAX_BYTES];
    for (int i = 0; i < 2; i++)
        if (hal_flash_read(HAL_PART_PTABLE, (uint32_t)i * HAL_FLASH_SECTOR, copies[i], PTABLE_MAX_BYTES) != HAL_OK)
            memset(copies[i], 0xFF, PTABLE_MAX_BYTES);
    table_copy = ptable_pick(copies[0], copies[1], PTABLE_MAX_BYTES, &table);
}

static struct ptable_entry *table_fw(void) { return table_copy >= 0 ? ptable_fw(&table) : NULL; }

/* A table write in two flash operations; `done` gets 0 or a HAL error. */
static struct {
    bool active;
    bool erased;
    uint8_t bytes[PTABLE_MAX_BYTES];
    size_t len;
    void (*done)(int err);
} job;

static int job_start(const struct ptable *next, void (*done)(int err))
{
    if (job.active || table_copy < 0)
        return -1;
    job.len = ptable_serialize(next, job.bytes);
    job.erased = false;
    job.done = done;
    job.active = true;
    return 0;
}

/* Run one flash operation, timing it for the progress figures. */
static struct ota_progress progress;
static int timed(int err_or_start, uint32_t started_us)
{
    uint32_t took = hal_time_us() - started_us;
    if (took > progress.longest_flash_op_us)
        progress.longest_flash_op_us = took;
    return err_or_start;
}
#define TIMED(op) timed((op), start_us)

static void job_step(void)
{
    uint32_t start_us = hal_time_us();
    uint32_t offset = (uint32_t)(1 - table_copy) * HAL_FLASH_SECTOR; /* over the older copy */
    int err;
    if (!job.erased) {
        err = TIMED(hal_flash_erase_sector(HAL_PART_PTABLE, offset));
        job.erased = err == HAL_OK;
        if (err == HAL_OK)
            return;
    } else {
        err = TIMED(hal_flash_program(HAL_PART_PTABLE, offset, job.bytes, (uint32_t)job.len));
        if (err == HAL_OK)
            table_load();
    }
    job.active = false;
    job.done(err);
}

/* The next table: the current one a generation newer. */
static struct ptable next_table(void)
{
    struct ptable next = table;
    next.age = table.age + 1;
    return next;
}

/* ---- Progress ---- */

static const char *last_update = ""; /* "", "confirmed", "rolled back", "failed" */

const struct ota_progress *ota_progress(void) { return &progress; }

const char *ota_state_name(enum ota_state state)
{
    static const char *const names[] = {"idle", "receiving", "finishing", "done", "failed"};
    return (unsigned)state < sizeof names / sizeof names[0] ? names[state] : "?";
}

int ota_running_slot(void)
{
    const struct ptable_entry *fw = table_fw();
    return fw ? fw->active_index & 1 : 0;
}

bool ota_on_trial(void)
{
    const struct ptable_entry *fw = table_fw();
    return fw && (fw->flags & PTABLE_FW_TRIAL);
}

static bool xz_failed(void)
{
    const struct ptable_entry *fw = table_fw();
    return fw && (fw->flags & PTABLE_FW_XZ_FAILED);
}

bool ota_rolled_back(void)
{
    const struct ptable_entry *fw = table_fw();
    return fw && (fw->flags & PTABLE_FW_ROLLED_BACK);
}

void ota_progress_json(struct json_writer *w)
{
    jw_string(w, "State", ota_state_name(progress.state));
    jw_int(w, "Received", progress.received);
    jw_int(w, "Total", progress.total);
    jw_int(w, "Percent", progress.total ? (int64_t)progress.received * 100 / progress.total : 0);
    jw_string(w, "Version", progress.version);
    jw_string(w, "Error", progress.error);
    jw_fixed(w, "LongestFlashOpMs", progress.longest_flash_op_us / 100, 1);
    jw_int(w, "Slot", ota_running_slot());
    jw_bool(w, "Trial", ota_on_trial());
    const char *boot2_said = ota_rolled_back() ? "rolled back" : xz_failed() ? "failed" : "";
    jw_string(w, "LastUpdate", *last_update ? last_update : boot2_said);
}

/* ---- The writer ---- */

struct ota_work {
    uint8_t header_raw[OTA_HEADER_SIZE];
    uint8_t sector[HAL_FLASH_SECTOR];
    struct ota_header header;
    struct sha256 hash;
    uint32_t header_in; /* header bytes taken */
    uint32_t body_in;   /* body bytes taken */
    uint32_t fill;      /* of them, waiting in sector[] */
    uint32_t programmed, erased, read_back; /* slot offsets reached */
    uint64_t last_byte_ms;
    uint32_t expected_size; /* announced by the transport, 0 unknown */
};
static struct ota_work *work;
static struct sched_timer restart_timer;

static void release(void)
{
    free(work);
    work = NULL;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    vsnprintf(progress.error, sizeof progress.error, fmt, args);
    va_end(args);
    progress.state = OTA_FAILED;
    last_update = "failed";
    job.active = false; /* a table write not finished is dropped: the current copy stays */
    release();
    LOG_ERR("OTA", "update failed: %s (the running firmware stays)", progress.error);
}

static bool slot_lent; /* to a restore (ota_slot_borrow) */

/* Why the inactive slot cannot be written now, or NULL. */
static const char *slot_busy(void)
{
    bool running = progress.state == OTA_RECEIVING || progress.state == OTA_FINISHING;
    return running ? "an update is already running"
           : slot_lent ? "a restore is using the update slot"
                       : progress.state == OTA_DONE ? "an update is done: the plug is restarting"
                       : table_copy < 0 ? "no partition table: cannot update"
                       : ota_on_trial() ? "the running firmware is on trial: confirm it first (OtaConfirm)"
                       : job.active ? "the partition table is being written: try again"
                       : NULL;
}

int ota_slot_borrow(const char **why)
{
    *why = slot_busy();
    slot_lent = !*why;
    return slot_lent ? 0 : -1;
}

void ota_slot_return(void) { slot_lent = false; }

int ota_begin(enum source source, const char **why)
{
    const char *busy = slot_busy();
    *why = busy;
    if (busy) {
        LOG_ERR("OTA", "update not started: %s", busy);
        return -1;
    }
    work = calloc(1, sizeof *work);
    progress = (struct ota_progress){.state = OTA_RECEIVING, .source = source};
    if (!work) {
        fail("not enough memory for the update buffers");
        *why = progress.error;
        return -1;
    }
    sha256_init(&work->hash);
    work->last_byte_ms = hal_time_ms();
    LOG_INF("OTA", "update started (%s): writing slot %d", source_name(source), 1 - ota_running_slot());
    return 0;
}

static bool key_configured(const uint8_t **key)
{
    static const uint8_t none[OTA_PUBLIC_KEY_SIZE];
    *key = config_get()->ota.public_key;
    return memcmp(*key, none, sizeof none) != 0;
}

/* The 512 header bytes are in: check everything that does not need the body. */
static bool header_ok(void)
{
    char error[OTA_ERROR_SIZE];
    struct ota_header *h = &work->header;
    if (!ota_header_parse(work->header_raw, h, error, sizeof error) ||
        !ota_header_check(h, hal_flash_size(HAL_PART_OTA), error, sizeof error)) {
        fail("%s", error);
        return false;
    }
    const uint8_t *key;
    if (key_configured(&key)) {
        if (!h->is_signed) {
            fail("image is not signed and this plug requires a signature (OtaKey)");
            return false;
        }
        if (!ota_signature_valid(key, h->signed_sha256, h->signature)) {
            fail("bad signature: the image is not signed by this plug's key");
            return false;
        }
    }
    memcpy(progress.version, h->version, sizeof progress.version);
    progress.total = OTA_HEADER_SIZE + h->body_len;
    if (work->expected_size && work->expected_size != progress.total) {
        fail("the upload is %lu bytes but the image header says %lu", (unsigned long)work->expected_size,
             (unsigned long)progress.total);
        return false;
    }
    if (h->type == OTA_BODY_XZ && !OTA_ACCEPT_XZ) {
        fail("XZ images are not taken by this build (the BL602 boot loader does not install OpenPlug's XZ): "
             "use a RAW image");
        return false;
    }
    LOG_INF("OTA", "image %s (%s, %lu bytes%s)", h->version, h->type == OTA_BODY_XZ ? "XZ" : "RAW",
            (unsigned long)h->body_len, h->is_signed ? ", signed" : "");
    return true;
}

static void body_complete(void)
{
    uint8_t digest[SHA256_SIZE];
    sha256_final(&work->hash, digest);
    if (!sha256_equal_ct(digest, work->header.body_sha256, SHA256_SIZE)) {
        fail("the body's SHA-256 does not match the header: the image is corrupt");
        return;
    }
    sha256_init(&work->hash); /* again, for the read-back of the slot */
    progress.state = OTA_FINISHING;
}

size_t ota_feed(const void *data, size_t len)
{
    const uint8_t *bytes = data;
    size_t taken = 0;
    while (progress.state == OTA_RECEIVING && taken < len) {
        size_t n;
        if (work->header_in < OTA_HEADER_SIZE) {
            n = OTA_HEADER_SIZE - work->header_in;
            n = n < len - taken ? n : len - taken;
            memcpy(work->header_raw + work->header_in, bytes + taken, n);
            work->header_in += (uint32_t)n;
            taken += n;
            if (work->header_in == OTA_HEADER_SIZE && !header_ok())
                break;
            continue;
        }
        n = HAL_FLASH_SECTOR - work->fill; /* 0 until the sector is programmed */
        if (n == 0)
            break;
        uint32_t body_left = work->header.body_len - work->body_in;
        n = n < len - taken ? n : len - taken;
        n = n < body_left ? n : body_left;
        memcpy(work->sector + work->fill, bytes + taken, n);
        sha256_update(&work->hash, bytes + taken, n);
        work->fill += (uint32_t)n;
        work->body_in += (uint32_t)n;
        taken += n;
        if (work->body_in == work->header.body_len)
            body_complete();
    }
    if (progress.state == OTA_FINISHING && taken < len) {
        fail("the image is longer than its header says (%lu bytes)", (unsigned long)progress.total);
        return taken;
    }
    if (work && taken) {
        work->last_byte_ms = hal_time_ms();
        progress.received = work->header_in + work->body_in;
    }
    return taken;
}

void ota_expect_size(uint32_t bytes)
{
    if (progress.state == OTA_RECEIVING)
        work->expected_size = bytes;
}

void ota_end(void)
{
    if (progress.state != OTA_RECEIVING)
        return;
    if (work->header_in < OTA_HEADER_SIZE)
        fail("truncated image: %lu bytes, not even the %d-byte header", (unsigned long)work->header_in,
             OTA_HEADER_SIZE);
    else
        fail("truncated image: %lu of %lu bytes", (unsigned long)progress.received, (unsigned long)progress.total);
}

void ota_abort(const char *why)
{
    /* Once every byte is in, the transport no longer matters: the checks
     * and the table switch go on (and a table write is never left half
     * way by the writer). */
    if (progress.state == OTA_RECEIVING)
        fail("%s after %lu bytes", why, (unsigned long)progress.received);
}

static void restart_now(void *arg)
{
    (void)arg;
    system_restart(RESTART_OTA, progress.source);
}

static void switched(int err)
{
    if (err) {
        fail("flash error %d while switching the partition table", err);
        return;
    }
    release();
    progress.state = OTA_DONE;
    last_update = "switched";
    LOG_INF("OTA", "update to %s written and verified: slot switched, restarting", progress.version);
    sched_timer_init(&restart_timer, restart_now, NULL);
    sched_timer_start(&restart_timer, RESTART_AFTER_MS, 0);
}

static void switch_table(void)
{
    struct ptable next = next_table();
    struct ptable_entry *fw = ptable_fw(&next);
    if (work->header.type == OTA_BODY_XZ) {
        fw->flags = PTABLE_FW_XZ_PENDING; /* boot2 decompresses over the running slot */
    } else {
        fw->active_index = (uint8_t)(1 - ota_running_slot());
        fw->flags = PTABLE_FW_TRIAL | (fw->active_index ? PTABLE_FW_TRIAL_SLOT1 : PTABLE_FW_TRIAL_SLOT0);
    }
    fw->len = work->header.body_len;
    fw->age++;
    if (job_start(&next, switched) != 0)
        fail("the partition table is busy");
}

/* One flash operation of the writer, if one is due; true if it did one. */
static bool writer_flash_step(void)
{
    uint32_t body_len = work->header.body_len;
    bool flush = work->fill == HAL_FLASH_SECTOR || (work->body_in == body_len && work->fill > 0);
    int err = HAL_OK;
    uint32_t start_us = hal_time_us();
    if (work->header_in < OTA_HEADER_SIZE)
        return false;
    if ((flush || work->erased < body_len) && work->erased <= work->programmed) {
        err = TIMED(hal_flash_erase_sector(HAL_PART_OTA, work->erased)); /* the sector being filled */
        work->erased += HAL_FLASH_SECTOR;
    } else if (flush) {
        err = TIMED(hal_flash_program(HAL_PART_OTA, work->programmed, work->sector, work->fill));
        work->programmed += work->fill;
        work->fill = 0;
    } else {
        return false;
    }
    if (err)
        fail("flash error %d while writing the slot", err);
    return true;
}

/* Read the written slot back, a sector per turn, and hash it again. */
static void read_back_step(void)
{
    uint32_t n = work->header.body_len - work->read_back;
    n = n < HAL_FLASH_SECTOR ? n : HAL_FLASH_SECTOR;
    if (hal_flash_read(HAL_PART_OTA, work->read_back, work->sector, n) != HAL_OK) {
        fail("flash error while reading the slot back");
        return;
    }
    sha256_update(&work->hash, work->sector, n);
    work->read_back += n;
    if (work->read_back < work->header.body_len)
        return;
    uint8_t digest[SHA256_SIZE];
    sha256_final(&work->hash, digest);
    if (!sha256_equal_ct(digest, work->header.body_sha256, SHA256_SIZE))
        fail("the slot does not read back as written (flash fault)");
    else
        switch_table();
}

static struct sched_poller poller;
/* Armed while there is flash work: the loop comes back within
 * OTA_TURN_GAP_MS instead of idling — but it does pass through its idle
 * wait, where pending interrupts and other sockets are served. */
#define OTA_TURN_GAP_MS 1
static struct sched_timer wake_timer;

static void wake(void *arg) { (void)arg; }

/* Flash work waiting for the next turn (the loop must not idle). */
static bool flash_work_pending(void)
{
    if (job.active || progress.state == OTA_FINISHING)
        return true;
    if (progress.state != OTA_RECEIVING || work->header_in < OTA_HEADER_SIZE)
        return false;
    return work->fill == HAL_FLASH_SECTOR || (work->erased <= work->programmed && work->erased < work->header.body_len);
}

static void ota_poll(void *arg)
{
    (void)arg;
    if (job.active)
        job_step();
    else if (progress.state == OTA_RECEIVING && hal_time_ms() - work->last_byte_ms > OTA_IDLE_TIMEOUT_S * 1000u)
        fail("no data for %d s", OTA_IDLE_TIMEOUT_S);
    else if (work && !writer_flash_step() && progress.state == OTA_FINISHING &&
             work->programmed == work->header.body_len)
        read_back_step();
    if (flash_work_pending())
        sched_timer_start(&wake_timer, OTA_TURN_GAP_MS, 0);
}

/* ---- The boot guard: tries and rollback ---- */

/* The guard runs before the loop, so the two flash operations of a table
 * write run back to back here instead of one per turn. */
static int guard_write_err;
static void guard_written(int err) { guard_write_err = err; }

static int write_table_now(const struct ptable *next)
{
    if (job_start(next, guard_written) != 0)
        return HAL_EIO;
    while (job.active)
        job_step();
    return guard_write_err;
}

/* A table that runs `slot`, no longer on trial, marked rolled back; 0 or a
 * HAL error (then the trial table stays and the next boot tries again). */
static int write_rolled_back(unsigned slot, uint8_t why)
{
    struct ptable next = next_table();
    struct ptable_entry *fw = ptable_fw(&next);
    if (fw->active_index != slot)
        fw->len = 0; /* unknown: the old slot's image length went with its table */
    fw->active_index = (uint8_t)slot;
    fw->flags = PTABLE_FW_ROLLED_BACK | why;
    int err = write_table_now(&next);
    if (err)
        LOG_ERR("OTA", "cannot roll back: flash error %d while writing the partition table", err);
    return err;
}

static void roll_back(void)
{
    unsigned from = (unsigned)ota_running_slot();
    if (write_rolled_back(1 - from, 0) != 0)
        return;
    LOG_ERR("OTA", "the firmware in slot %u restarted %d times without confirming itself: rolled back to slot %u",
            from, PTABLE_MAX_TRIES, 1 - from);
    system_restart_now(RESTART_OTA_ROLLBACK, SOURCE_BOOT);
}

/* The SDK's boot2 found the new slot's boot header broken and booted this
 * (the old) slot, keeping the entry's flags: this firmware is no trial. */
static bool boot2_went_back(void)
{
    const struct ptable_entry *fw = table_fw();
    uint8_t trial_slot = fw->flags & (PTABLE_FW_TRIAL_SLOT0 | PTABLE_FW_TRIAL_SLOT1);
    uint8_t running = ota_running_slot() ? PTABLE_FW_TRIAL_SLOT1 : PTABLE_FW_TRIAL_SLOT0;
    return trial_slot && !(trial_slot & running);
}

void ota_boot_guard(void)
{
    table_load();
    if (!ota_on_trial())
        return;
    if (boot2_went_back()) {
        if (write_rolled_back((unsigned)ota_running_slot(), PTABLE_FW_BOOT2_REFUSED) == 0)
            LOG_ERR("OTA", "boot2 did not start the new firmware in slot %d (its boot header check failed): "
                    "slot %d runs on", 1 - ota_running_slot(), ota_running_slot());
        return;
    }
    /* From here a hang resets the chip, and the reset is the next try;
     * health_start() takes the watchdog over once the loop runs. */
    hal_wdt_start(FIRMWARE_WATCHDOG_MS);
    uint32_t tries_at = (uint32_t)table_copy * HAL_FLASH_SECTOR + PTABLE_TRIES_OFFSET;
    uint8_t tries[PTABLE_MAX_TRIES];
    if (hal_flash_read(HAL_PART_PTABLE, tries_at, tries, sizeof tries) != HAL_OK) {
        LOG_ERR("OTA", "cannot read the trial boots: this boot is not counted");
        return;
    }
    unsigned used = ptable_tries(tries);
    if (used >= PTABLE_MAX_TRIES) {
        roll_back();
        return;
    }
    /* One program of one byte: torn by a power cut, the byte reads as
     * used or still 0xFF — a try counted or not, never a broken table. */
    static const uint8_t used_mark = 0;
    int err = hal_flash_program(HAL_PART_PTABLE, tries_at + used, &used_mark, 1);
    if (err)
        LOG_ERR("OTA", "cannot count this trial boot: flash error %d", err);
    else
        LOG_INF("OTA", "trial boot %u of %d of the new firmware in slot %d", used + 1, PTABLE_MAX_TRIES,
                ota_running_slot());
}

/* ---- Trial and confirmation ---- */

static struct sched_timer confirm_timer;
static unsigned network_up_s;

static void confirmed(int err)
{
    if (err) {
        LOG_ERR("OTA", "cannot confirm the firmware: flash error %d (will retry)", err);
        return;
    }
    last_update = "confirmed";
    sched_timer_stop(&confirm_timer);
    LOG_INF("OTA", "firmware %s in slot %d confirmed: it stays", OPENPLUG_VERSION, ota_running_slot());
}

int ota_confirm(void)
{
    if (!ota_on_trial())
        return 1;
    struct ptable next = next_table();
    ptable_fw(&next)->flags &= (uint8_t)~(PTABLE_FW_TRIAL | PTABLE_FW_TRIAL_SLOT0 | PTABLE_FW_TRIAL_SLOT1);
    return job_start(&next, confirmed) == 0 ? 0 : -1;
}

/* The network the plug is meant to have: joined to its Wi-Fi, or — a plug
 * with no Wi-Fi set up — serving its set-up access point as before. */
static bool network_up(void)
{
    enum hal_wifi_state state = hal_wifi_state();
    bool configured = config_get()->wifi.ssid[0][0] || config_get()->wifi.ssid[1][0];
    return state == HAL_WIFI_CONNECTED || (state == HAL_WIFI_AP && !configured);
}

static void confirm_tick(void *arg)
{
    (void)arg;
    network_up_s = network_up() ? network_up_s + 1 : 0;
    if (network_up_s >= OTA_CONFIRM_S && !job.active)
        ota_confirm();
}

void ota_start(void)
{
    table_load();
    sched_poller_add(&poller, ota_poll, NULL);
    sched_timer_init(&wake_timer, wake, NULL);
    if (table_copy < 0) {
        LOG_ERR("OTA", "no valid partition table: updates are off");
        return;
    }
    if (ota_on_trial()) {
        LOG_INF("OTA", "new firmware on trial in slot %d: confirming after %d s with the network up (or OtaConfirm)",
                ota_running_slot(), OTA_CONFIRM_S);
        sched_timer_init(&confirm_timer, confirm_tick, NULL);
        sched_timer_start(&confirm_timer, 1000, 1000);
    }
    if (ota_rolled_back() && (table_fw()->flags & PTABLE_FW_BOOT2_REFUSED)) {
        snprintf(progress.error, sizeof progress.error,
                 "the last update failed boot2's check of its boot header: boot2 went back to this firmware");
        LOG_ERR("OTA", "%s (slot %d)", progress.error, ota_running_slot());
    } else if (ota_rolled_back()) {
        snprintf(progress.error, sizeof progress.error,
                 "the last update did not confirm itself in %d boots: the plug went back to this firmware",
                 PTABLE_MAX_TRIES);
        LOG_ERR("OTA", "%s (slot %d)", progress.error, ota_running_slot());
    }
    if (xz_failed()) {
        snprintf(progress.error, sizeof progress.error,
                 "the last (XZ) update did not decompress into the slot: nothing was written, this firmware stays");
        LOG_ERR("OTA", "%s", progress.error);
    }
}
