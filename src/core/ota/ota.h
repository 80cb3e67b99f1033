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
 * for OTA_CONFIRM_S seconds, or at `OtaConfirm`; a table that says boot2
 * rolled back is reported.
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

/* At boot: read the partition table, start the confirmation of a firmware on
 * trial, report a rollback. */
void ota_start(void);

/* Start an update.  Returns 0, or -1 with the reason in *why (busy, running
 * firmware not confirmed yet, restart pending, no memory); an update that is
 * running goes on untouched. */
int ota_begin(enum source source, const char **why);

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
