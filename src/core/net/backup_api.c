/*
 * backup_api.c — backup and restore over HTTP (docs/API.md):
 *   GET  /api/backup[?secrets=1][&energy=1]  the backup file, streamed
 *   POST /api/restore  the backup file as the body: staged, checked,
 *                      committed, then the plug restarts to apply it
 *   GET  /api/restore  progress, the last refusal, what the last boot applied
 * The backup and the restore are admin only when a WebPassword is set (the
 * backup holds the settings, with secrets=1 the passwords); the progress is
 * open, like /api/ota's.  The body streams into the restore
 * (core/backup/backup.h) with back-pressure, as /api/ota's does into the
 * OTA writer; a refused file is swallowed to its end and answered 422 with
 * the reason.
 */
#include "core/net/backup_api.h"

#include "core/backup/backup.h"
#include "core/log.h"
#include "core/net/http.h"
#include "core/net/http_upload.h"

static struct http_route backup_route, restore_route;
_Static_assert(sizeof(struct backup_writer) <= HTTP_USER_SIZE, "fits http_user()");

static int produce(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    int n = backup_writer_produce(http_user(req), (uint8_t *)buf, cap);
    if (n < 0)
        LOG_ERR("RST", "backup cut short: file store error %d", n);
    return n < 0 ? 0 : n;
}

static bool query_flag(struct http_request *req, const char *name)
{
    char value[4];
    return http_query(req, name, value, sizeof value) && value[0] == '1';
}

static void serve_backup(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    uint16_t flags = (query_flag(req, "secrets") ? BACKUP_SECRETS : 0) | (query_flag(req, "energy") ? BACKUP_ENERGY : 0);
    backup_writer_begin(http_user(req), flags);
    http_add_header(req, "Content-Disposition", "attachment; filename=\"openplug-backup.opb\"");
    http_reply_stream(req, 200, "application/octet-stream", produce, NULL);
}

static void reply_progress(struct http_request *req, int status)
{
    struct json_writer *w = http_reply_json_begin(req, status);
    if (status != 200)
        jw_string(w, "error", restore_error());
    restore_progress_json(w);
    http_reply_json_end(req);
}

static bool taking(void) { return restore_state() == RESTORE_RECEIVING; }
static bool busy(void) { return taking() || restore_state() == RESTORE_CHECKING; }
static void reply(struct http_request *req) { reply_progress(req, restore_state() == RESTORE_COMMITTED ? 200 : 422); }

static struct http_upload upload = {
    .feed = restore_feed, .taking = taking, .end = restore_end, .abort = restore_abort, .busy = busy, .reply = reply};

static void serve_restore(struct http_request *req, void *arg)
{
    (void)arg;
    if (http_method(req) != HTTP_POST) {
        reply_progress(req, 200);
        return;
    }
    if (!http_require_admin(req))
        return;
    const char *why;
    int err = restore_begin((uint32_t)http_content_length(req), SOURCE_HTTP, &why);
    if (err) {
        http_reply_error(req, err == RESTORE_EBUSY ? 409 : err == RESTORE_ESHORT ? 400 : 413, why);
        return;
    }
    http_upload_accept(&upload, req); /* the body streams to the restore */
}

void backup_api_start(void)
{
    http_route_add(&backup_route, HTTP_GET, "/api/backup", 0, serve_backup, NULL);
    http_upload_route(&upload, &restore_route, HTTP_GET | HTTP_POST, "/api/restore", serve_restore);
}
