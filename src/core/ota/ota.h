/*
 * ota.h — firmware updates: the streaming writer, the slot switch and the
 * confirmation of a new firmware.  Knows nothing of HTTP: the upload
 * endpoint and the pull client (net/http_get.h) feed it bytes.
 *
 * An update is `ota_begin()`, then `ota_feed()` as bytes arrive, then
 * `ota_end()` when the transport has no more (or `ota_abort()` when it
 * failed).  The writer streams the body straight into the inactive slot:
 * it erases one 4 KiB sector just ahead of the write and does at most one
 * flash operation per turn of the main loop, so `ota_feed()` may take fewer
 * bytes than offered (0 while its sector buffer waits for the flash): the
 * transport keeps the rest and offers it again next turn (TCP back-pressure
 * does the rest).  The header is checked as soon as its 512 bytes are in
 * (magic, type, hardware, size against the slot, signature present when a
 * key is set), the body digest and the signature when the last byte is in;
 * only then is the partition table switched (two more turns).  Any failure
 * frees what the update took, leaves the running slot and the table as they
 * were, and a new ota_begin() starts afresh.  Progress and the last error
 * are in ota_progress(); on success the plug restarts into the new image.
 *
 * At boot, ota_start() reads the table: a firmware on trial (a RAW update's
 * first boots) confirms itself after the main loop has run with the network
 * up (joined to its Wi-Fi, or, with none set up, serving its access point)
 * for OTA_CONFIRM_S seconds, or at `OtaConfirm`; a table that says the last
 * update was rolled back is reported.
 *
 * The rollback itself is the firmware's, not the boot loader's: the BL602
 * SDK's boot2 boots the active slot of the newer table and knows nothing of
 * OpenPlug's trial flag (it falls back to the other slot only when the
 * slot's header CRC or SHA-256 is wrong).  So every port calls
 * ota_boot_guard() first thing at start, before anything that could crash or
 * hang; see there.
 *
 * XZ bodies: OTA_ACCEPT_XZ (below) says whether this build takes them.
 */
#ifndef OPENPLUG_OTA_H
#define OPENPLUG_OTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/events.h"
#include "core/util/json.h"

#define OTA_CONFIRM_S 30       /* network up this long: the new firmware is good */
#define OTA_IDLE_TIMEOUT_S 30  /* an upload with no bytes this long fails */
#define OTA_ERROR_SIZE 128

/*
 * OTA_ACCEPT_XZ: 1 takes update files with an XZ body (OpenPlug's
 * XZ-pending flag: the boot loader decompresses the body kept in the other
 * slot over the running one, with no way back); 0 refuses them as soon as
 * the header is in, before anything is written, and only RAW A/B updates
 * (with trial and rollback) are possible.  The simulator's boot2 implements
 * the XZ-pending flag, so its builds take XZ.  The BL602 build sets 0: the
 * SDK's boot2 has its own XZ convention (it finds an XZ stream in the slot
 * by its magic and decompresses it over the active slot) and does not read
 * OpenPlug's flag, and with two equal slots every update fits as RAW.
 */
#ifndef OTA_ACCEPT_XZ
#define OTA_ACCEPT_XZ 1
#endif

enum ota_state {
    OTA_IDLE,      /* no update since boot */
    OTA_RECEIVING, /* taking bytes */
    OTA_FINISHING, /* all bytes in: last sector, checks, table switch */
    OTA_DONE,      /* switched: restarting into the new firmware */
    OTA_FAILED,    /* refused or broken: see error; nothing switched */
};

struct ota_progress {
    enum ota_state state;
    enum source source;
    uint32_t received; /* image bytes taken, header included */
    uint32_t total;    /* header + body once the header is in, else 0 */
    char version[17];  /* of the image, once the header is in */
    uint32_t longest_flash_op_us; /* the longest erase/program of this update (interrupts off) */
    char error[OTA_ERROR_SIZE];
};

/*
 * The first thing of every boot, called by the port's entry as soon as the
 * flash partitions are known and before its own start-up and
 * firmware_main() (the BL602 SDK's fatal paths spin forever: whatever runs
 * before this call is not covered).  When the running firmware is on trial:
 *   - starts the hardware watchdog (FIRMWARE_WATCHDOG_MS), so that a hang
 *     anywhere in the start-up resets the chip and the next boot counts;
 *   - counts this boot as a try: one byte programmed in the tries area of
 *     the table copy in use (outside its CRC, no erase: a power cut leaves
 *     the byte counted or not, and the table itself untouched);
 *   - after PTABLE_MAX_TRIES tries without a confirmation, writes a table
 *     that makes the other slot active again, marked rolled back (over the
 *     older copy: a power cut leaves the current one, and the next boot
 *     rolls back again), and restarts at once with RESTART_OTA_ROLLBACK;
 *     boot2 then boots the old firmware, whose ota_start() reports it.
 * When the running slot is not the one on trial, the SDK's boot2 has
 * already gone back (the new slot's boot header failed its check): the
 * guard marks the table rolled back (PTABLE_FW_BOOT2_REFUSED) and goes on.
 * A confirmed firmware costs a table read and nothing else.  Call it once
 * per boot.
 */
void ota_boot_guard(void);

/* At boot: read the partition table, start the confirmation of a firmware on
 * trial, report a rollback. */
void ota_start(void);

/* Start an update.  Returns 0, or -1 with the reason in *why (busy, running
 * firmware not confirmed yet, restart pending, no memory); an update that is
 * running goes on untouched. */
int ota_begin(enum source source, const char **why);

/* Lend the inactive slot (a restore stages its file there): 0, or -1 with
 * why (as ota_begin()); updates are refused until ota_slot_return(). */
int ota_slot_borrow(const char **why);
void ota_slot_return(void);

/* Offer bytes; returns how many were taken (possibly 0: offer the rest again
 * next turn).  After a refusal the state is OTA_FAILED and nothing more is
 * taken: check ota_progress(). */
size_t ota_feed(const void *data, size_t len);

/* The transport knows the image's size in advance (Content-Length): an
 * image whose header says otherwise is refused as soon as the header is in,
 * before anything is written. */
void ota_expect_size(uint32_t bytes);

/* The transport has delivered everything: fails if the image is short. */
void ota_end(void);

/* The transport failed (connection lost, bad response): fail with why —
 * while bytes are still due; after the last one it changes nothing. */
void ota_abort(const char *why);

const struct ota_progress *ota_progress(void);
const char *ota_state_name(enum ota_state state);

/* {"State":…,"Received":…,"Total":…,"Percent":…,"Version":…,"Error":…,
 *  "LongestFlashOpMs":…,"Slot":…,"Trial":…,"LastUpdate":…} members. */
void ota_progress_json(struct json_writer *w);

/* Confirm the running firmware now (OtaConfirm).  Returns 0, 1 when there was
 * nothing to confirm, -1 on a flash error. */
int ota_confirm(void);

/* The slot running (0/1), and whether it is on trial / was rolled back to. */
int ota_running_slot(void);
bool ota_on_trial(void);
bool ota_rolled_back(void);

#endif
