/*
 * fuzz_reclog.c — the record log (src/core/storage/reclog.h) over arbitrary
 * flash contents, with torn operations.
 *
 * Input: one byte picks the layout (slot size 16..2048, 2..4 sectors, the
 * magic, now and then an invalid layout), two bytes say how many of the
 * next bytes fill the ring (the rest of the ring is erased), and the rest is
 * a script:
 *   mount, read (any capacity), append (any length and payload, also too
 *   long), torn append (the 1st, 2nd or 3rd flash operation of it is cut,
 *   then power comes back and the ring is mounted again, or the log just
 *   goes on as after a flash error), forge (a valid
 *   record with any sequence number at any slot), poke (flip bytes), erase
 *   steps (a factory reset, possibly cut by a power cut), after which the
 *   device restarts (the ring is mounted again).
 * Properties:
 *   - never a crash, a read past a buffer or a division by zero;
 *   - mount figures in range, read lengths within the slot;
 *   - after an append returns 0, the log and a fresh mount read back exactly
 *     that payload;
 *   - after a torn append and a remount, the newest record is the previous
 *     one or the new one;
 *   - failed appends without a remount (flash errors: the HAL may return
 *     HAL_EIO at any time) never lose the newest record either: a later
 *     mount still finds it (or one appended since);
 *   - after a factory reset the ring reads empty, or if it was cut short,
 *     still the newest record of before — never an older one.
 * What the newest record should be is checked only when the harness knows
 * it (after a mount, appends, torn appends and resets, not after forges or
 * pokes), and an append only when it went where a healthy ring keeps blank
 * slots (the slot was blank or starts a sector): this harness can fill the
 * ring with garbage no sequence of reclog calls would leave; nor when the
 * sequence number would wrap (2^32 appends, reached only from a forged
 * record), also that of a factory reset's wiped marker.  A record of version
 * RECLOG_WIPED reads as none.
 */
#include "core/storage/reclog.h"
#include "fake_hal.h"
#include "fuzz_input.h"

#define MAX_PAYLOAD (2048 - RECLOG_HEADER_SIZE)

static const uint16_t slot_sizes[] = {16, 32, 64, 256, 2048};
static const uint8_t magics[] = {0xB7, 0xC5, 0x00, 0x5A};

struct model {
    bool known;        /* the newest record is known */
    bool exists;       /* there is one (else the ring reads empty) */
    int len;
    uint8_t version;
    uint8_t payload[MAX_PAYLOAD];
};

static uint32_t slot_count(const struct reclog *log)
{
    return HAL_FLASH_SECTOR / log->slot_size * log->sectors;
}

static uint8_t erased[HAL_FLASH_SECTOR]; /* all 0xFF, set up on the first input */

static bool is_erased(const uint8_t *bytes, uint32_t len)
{
    for (uint32_t done = 0; done < len; done += sizeof erased) {
        uint32_t n = len - done < sizeof erased ? len - done : sizeof erased;
        if (memcmp(bytes + done, erased, n) != 0)
            return false;
    }
    return true;
}

static bool slot_is_blank(const struct reclog *log, uint32_t slot)
{
    return is_erased(fake_psm + log->offset + slot * log->slot_size, log->slot_size);
}

/* full: also count the used slots (slow on rings of small slots). */
static void check_mounted(const struct reclog *log, int found, bool full)
{
    uint32_t slots = slot_count(log);
    FUZZ_CHECK(found >= 0 && (uint32_t)found <= slots);
    FUZZ_CHECK(log->newest >= -1 && log->newest < (int32_t)slots);
    FUZZ_CHECK((found == 0) == (log->newest < 0));
    FUZZ_CHECK(log->write_slot < slots);
    FUZZ_CHECK(log->erases == 0 && log->appends == 0);
    if (!full)
        return;
    /* Valid and damaged slots are all non-blank ones (each slot judged by
     * its own bytes: nothing past the slot). */
    uint32_t used = 0;
    for (uint32_t slot = 0; slot < slots; slot++)
        used += !slot_is_blank(log, slot);
    if (log->damaged + (uint32_t)found > used)
        fprintf(stderr, "mount: %d valid + %u damaged slots, but only %u slots are not blank\n", found,
                (unsigned)log->damaged, (unsigned)used);
    FUZZ_CHECK(log->damaged + (uint32_t)found <= used);
}

/* Reads the newest record into the model's shape; checks the bounds. */
static void read_newest(struct reclog *log, struct model *out)
{
    static uint8_t buf[MAX_PAYLOAD + 1];
    memset(buf, 0xEE, sizeof buf);
    uint8_t version = 0;
    int len = reclog_read(log, buf, (uint16_t)(log->slot_size - RECLOG_HEADER_SIZE), &version);
    FUZZ_CHECK(len >= -1 && len <= (int)(log->slot_size - RECLOG_HEADER_SIZE));
    FUZZ_CHECK(buf[log->slot_size - RECLOG_HEADER_SIZE] == 0xEE); /* nothing past cap */
    out->known = true;
    out->exists = len >= 0;
    out->len = len;
    out->version = version;
    if (len > 0)
        memcpy(out->payload, buf, (size_t)len);
}

/* A record of this version reads as none (reclog.h: "0 marks a wiped log"). */
static bool is_wipe_marker(uint8_t version)
{
#ifdef RECLOG_WIPED
    return version == RECLOG_WIPED;
#else
    (void)version;
    return false;
#endif
}

static bool same_record(const struct model *a, const struct model *b)
{
    if (a->exists != b->exists)
        return false;
    if (!a->exists)
        return true;
    return a->len == b->len && a->version == b->version && memcmp(a->payload, b->payload, (size_t)a->len) == 0;
}

static void print_record(const char *what, const struct model *m)
{
    fprintf(stderr, "%s: ", what);
    if (!m->exists) {
        fprintf(stderr, "none\n");
        return;
    }
    fprintf(stderr, "len %d version %u:", m->len, m->version);
    for (int i = 0; i < m->len && i < 16; i++)
        fprintf(stderr, " %02x", m->payload[i]);
    fprintf(stderr, "\n");
}

/* Would a healthy ring have this slot ready for an append? */
static bool slot_ready(const struct reclog *log, uint32_t slot)
{
    return slot % (HAL_FLASH_SECTOR / log->slot_size) == 0 /* it erases the sector first */
           || slot_is_blank(log, slot);
}

static int mount_fresh(const struct reclog *layout, struct reclog *log, bool full)
{
    *log = (struct reclog){.part = layout->part, .offset = layout->offset, .sectors = layout->sectors,
                           .slot_size = layout->slot_size, .magic = layout->magic};
    int found = reclog_mount(log);
    FUZZ_CHECK(found >= 0); /* the fake flash never fails a read in range */
    check_mounted(log, found, full);
    return found;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct model model, after, fresh, failed;
    bool failed_since = false; /* an append failed since the last mount */
    static uint8_t payload[MAX_PAYLOAD + 64];
    struct fuzz_in in = fuzz_in(data, size);
    if (erased[0] != 0xFF)
        memset(erased, 0xFF, sizeof erased);

    /* Layout. */
    uint8_t shape = fuzz_u8(&in);
    struct reclog log = {
        .part = HAL_PART_PSM,
        .slot_size = slot_sizes[shape % 5],
        .sectors = (uint16_t)(2 + (shape / 5) % 3),
        .magic = magics[(shape / 15) % 4],
    };
    log.offset = (uint32_t)((shape / 60) % 2) * HAL_FLASH_SECTOR;
    if (shape >= 240) { /* invalid layouts: mount must refuse them */
        static const struct reclog bad[] = {
            {.sectors = 1, .slot_size = 32, .magic = 1},  {.sectors = 2, .slot_size = 12, .magic = 1},
            {.sectors = 2, .slot_size = 100, .magic = 1}, {.sectors = 2, .slot_size = 32, .magic = 0xFF},
            {.sectors = 8, .slot_size = 32, .magic = 1, .offset = 4096},
            {.sectors = 2, .slot_size = 32, .magic = 1, .offset = 100},
            {.sectors = 2, .slot_size = 0, .magic = 1},
        };
        log = bad[shape % (sizeof bad / sizeof bad[0])];
        log.part = HAL_PART_PSM;
        FUZZ_CHECK(reclog_mount(&log) == HAL_EINVAL);
        return 0;
    }
    const struct reclog layout = log;
    uint32_t area = (uint32_t)log.sectors * HAL_FLASH_SECTOR;
    uint32_t slots = slot_count(&log);
    uint16_t max_len = (uint16_t)(log.slot_size - RECLOG_HEADER_SIZE);

    /* Flash contents. */
    fake_flash_blank();
    uint32_t fill = fuzz_u16(&in) % (area + 1);
    fill = (uint32_t)fuzz_bytes(&in, fake_psm + log.offset, fill);
    memset(fake_psm + log.offset + fill, 0xFF, area - fill);

    int found = mount_fresh(&layout, &log, true);
    read_newest(&log, &model);
    FUZZ_CHECK(!model.exists || found > 0);

    for (unsigned ops = 0; fuzz_left(&in) && ops < 64; ops++) {
        uint8_t op = fuzz_u8(&in);
        switch (op % 7) {
        case 0: /* mount again (a reboot): the newest record is still there */
            found = mount_fresh(&layout, &log, true);
            read_newest(&log, &after);
            FUZZ_CHECK(!after.exists || found > 0);
            if (model.known) {
                bool ok = same_record(&after, &model) || (failed_since && same_record(&after, &failed));
                if (!ok) {
                    print_record("newest", &model);
                    print_record("after mount", &after);
                }
                FUZZ_CHECK(ok);
            }
            model = after;
            failed_since = false;
            break;
        case 1: { /* read with any capacity */
            uint16_t cap = fuzz_u16(&in) % (max_len + 2);
            uint8_t *buf = malloc(cap ? cap : 1);
            int len = reclog_read(&log, buf, cap, NULL);
            FUZZ_CHECK(len >= -1 && len <= max_len);
            if (model.known) {
                FUZZ_CHECK(len == (model.exists ? model.len : -1));
                if (len > 0)
                    FUZZ_CHECK(memcmp(buf, model.payload, (size_t)(len < cap ? len : cap)) == 0);
            }
            free(buf);
            break;
        }
        case 2:   /* append */
        case 3: { /* torn append: a power cut (then a remount) or a flash error */
            bool torn = op % 7 == 3;
            uint8_t how = torn ? fuzz_u8(&in) : 0;
            uint32_t cut = 1 + how % 3;
            bool remount = torn && !(how & 0x80);
            uint16_t len = fuzz_u16(&in) % (max_len + 8); /* a few too long */
            uint8_t version = fuzz_u8(&in);
            fuzz_bytes(&in, payload, len);
            uint32_t slot = log.write_slot;
            uint32_t per_sector = HAL_FLASH_SECTOR / log.slot_size;
            bool checkable = model.known && slot_ready(&log, slot) && log.newest_seq != UINT32_MAX;
            uint32_t appends = log.appends;

            if (torn)
                fake_flash_cut_at(cut);
            int err = reclog_append(&log, payload, len, version);
            bool power_cut = fake_flash_power_is_off();
            fake_flash_power_on(); /* also clears a cut that came too late */
            FUZZ_CHECK(log.write_slot < slots);
            if (len > max_len) {
                FUZZ_CHECK(err == HAL_EINVAL && !power_cut);
                break;
            }
            if (err && !power_cut) {
                /* Refused: failed appends came all the way round to the
                 * sector of the newest record, which must not be erased. */
                FUZZ_CHECK(err == HAL_EIO && log.newest >= 0 && slot % per_sector == 0 &&
                           slot / per_sector == (uint32_t)log.newest / per_sector);
                FUZZ_CHECK(log.write_slot == slot);
            }
            if (power_cut)
                FUZZ_CHECK(err != 0);

            struct model appended = {.known = true, .exists = !is_wipe_marker(version), .len = len, .version = version};
            memcpy(appended.payload, payload, len);
            if (err == 0) {
                FUZZ_CHECK(log.appends == appends + 1 && log.newest == (int32_t)slot);
                if (checkable) {
                    read_newest(&log, &after);
                    if (!same_record(&after, &appended)) {
                        print_record("appended", &appended);
                        print_record("read back", &after);
                    }
                    FUZZ_CHECK(same_record(&after, &appended));
                    struct reclog again;
                    mount_fresh(&layout, &again, false);
                    read_newest(&again, &fresh);
                    if (!same_record(&fresh, &appended)) {
                        print_record("appended", &appended);
                        print_record("after mount", &fresh);
                    }
                    FUZZ_CHECK(same_record(&fresh, &appended));
                }
                model = appended;
                model.known = checkable;
                failed_since = false;
            } else {
                /* A flash error: the log goes on; a later mount may find
                 * the newest record of before, or (if the error struck
                 * late) this one. */
                failed = appended;
                failed_since = true;
            }
            if (remount) {
                /* Power came back: the device mounts the ring again. */
                found = mount_fresh(&layout, &log, false);
                read_newest(&log, &after);
                FUZZ_CHECK(!after.exists || found > 0);
                if (checkable && err != 0) {
                    bool ok = same_record(&after, &model) || same_record(&after, &appended);
                    if (!ok) {
                        print_record("before", &model);
                        print_record("appended", &appended);
                        print_record("after the cut", &after);
                    }
                    FUZZ_CHECK(ok);
                }
                model = after;
                failed_since = false;
            }
            break;
        }
        case 4: { /* forge a valid record anywhere, with any sequence number */
            struct reclog forger = log;
            forger.newest = -1; /* a writer that knows nothing: may erase anything */
            forger.write_slot = fuzz_u16(&in) % slots;
            forger.newest_seq = fuzz_u32(&in);
            uint16_t len = fuzz_u16(&in) % (max_len + 1);
            fuzz_bytes(&in, payload, len);
            reclog_append(&forger, payload, len, fuzz_u8(&in));
            model.known = false;
            break;
        }
        case 5: { /* flip bytes */
            unsigned n = 1 + fuzz_u8(&in) % 4;
            for (unsigned i = 0; i < n; i++) {
                uint32_t at = fuzz_u16(&in) % area;
                fake_psm[log.offset + at] ^= (uint8_t)(fuzz_u8(&in) | 1);
            }
            model.known = false;
            break;
        }
        case 6: { /* factory reset: some or all steps, maybe with a power cut */
            uint8_t how = fuzz_u8(&in);
            unsigned steps = 1 + how % (log.sectors + 1);
            if (how & 0x80)
                fake_flash_cut_at(1 + (how >> 4) % 4);
            /* The first step appends the wiped marker, which outranks
             * every record left in the ring only by its sequence number;
             * at UINT32_MAX that number wraps to 0 and the marker ranks
             * below them all (the same wrap the append checks leave out).
             * Only forged records get there: 2^32 appends are far beyond
             * the flash's endurance. */
            bool marker_wraps = log.newest_seq == UINT32_MAX;
            static uint8_t before[4 * HAL_FLASH_SECTOR]; /* the largest ring */
            memcpy(before, fake_psm + log.offset, area);
            uint16_t step = 0;
            bool more = true;
            for (unsigned i = 0; i < steps && more; i++)
                more = reclog_erase_step(&log, &step);
            bool power_cut = fake_flash_power_is_off();
            fake_flash_power_on();
            /* A mount (the restart that follows) finds no record, or, if
             * the reset was cut short or the flash failed, the newest of
             * before: never an older one (unless the marker wrapped: then
             * any record a cut left unerased outranks it, yet it is still
             * one that was in that slot before).  Done in full,
             * with no power cut and no failed append before: no record,
             * wrapped or not, as the marker is then alone in the ring. */
            struct reclog again;
            mount_fresh(&layout, &again, false);
            read_newest(&again, &fresh);
            if (model.known) {
                bool ok = !fresh.exists || same_record(&fresh, &model) ||
                          (failed_since && same_record(&fresh, &failed)) ||
                          (marker_wraps && memcmp(before + (uint32_t)again.newest * log.slot_size,
                                                  fake_psm + log.offset + (uint32_t)again.newest * log.slot_size,
                                                  log.slot_size) == 0);
                if (!more && !power_cut && !failed_since)
                    ok = !fresh.exists;
                if (!ok) {
                    print_record("newest before the reset", &model);
                    print_record(more || power_cut ? "after a partial reset" : "after the reset", &fresh);
                }
                FUZZ_CHECK(ok);
            }
            log = again; /* the device restarts */
            model = fresh;
            failed_since = false;
            break;
        }
        }
    }
    /* This log never writes outside its ring. */
    FUZZ_CHECK(is_erased(fake_psm, log.offset));
    FUZZ_CHECK(is_erased(fake_psm + log.offset + area, FAKE_PSM_SIZE - log.offset - area));
    return 0;
}
