/*
 * ota_api.c — the update over HTTP: `POST /api/ota` with the image as the
 * body (curl --data-binary @fw.ota), and `GET /api/ota` for its progress.
 *
 * The body streams into the OTA writer (core/ota/ota.h) with back-pressure:
 * when the writer takes fewer bytes (its sector buffer waits for the
 * flash), the server stops reading this socket and a 1 ms timer resumes it
 * next turn.  A refused image is swallowed to its end and answered with the
 * reason; the reply to a good one waits (deferred) until the last checks
 * and the table switch are done, then the plug restarts into it.  Admin
 * only when a WebPassword is set.
 */
#include "ota_api.h"

#include "core/net/http.h"
#include "core/net/http_upload.h"
#include "core/ota/ota.h"
#include "core/ota/ota_image.h"
#include "hal/hal.h"

static struct http_route ota_route;

static void status_json(struct json_writer *w)
{
    ota_progress_json(w);
}

static void serve_status(struct http_request *req)
{
    struct json_writer *w = http_reply_json_begin(req, 200);
    status_json(w);
    http_reply_json_end(req);
}

static size_t feed(const void *data, size_t len) { return ota_feed(data, len); }
static bool taking(void) { return ota_progress()->state == OTA_RECEIVING; }
static bool busy(void) { return taking() || ota_progress()->state == OTA_FINISHING; }

/* Once the writer has finished, one way or the other. */
static void reply(struct http_request *req)
{
    struct json_writer *w = http_reply_json_begin(req, ota_progress()->state == OTA_DONE ? 200 : 422);
    status_json(w);
    http_reply_json_end(req);
}

static struct http_upload upload = {
    .feed = feed, .taking = taking, .end = ota_end, .abort = ota_abort, .busy = busy, .reply = reply};

static void serve_upload(struct http_request *req)
{
    size_t size = http_content_length(req);
    if (size <= OTA_HEADER_SIZE) {
        http_reply_error(req, 400, "send the OTA image as the request body (Content-Length)");
        return;
    }
    if (size > OTA_HEADER_SIZE + (size_t)hal_flash_size(HAL_PART_OTA)) {
        http_reply_error(req, 413, "image larger than the update slot");
        return;
    }
    const char *why;
    if (ota_begin(SOURCE_HTTP, &why) != 0) {
        http_reply_error(req, 409, why);
        return;
    }
    ota_expect_size((uint32_t)size);
    http_upload_accept(&upload, req); /* returning without a reply: the body streams to the writer */
}

static void serve(struct http_request *req, void *arg)
{
    (void)arg;
    if (http_method(req) == HTTP_POST) {
        if (http_require_admin(req))
            serve_upload(req);
        return;
    }
    serve_status(req);
}

void ota_api_start(void) { http_upload_route(&upload, &ota_route, HTTP_GET | HTTP_POST, "/api/ota", serve); }
