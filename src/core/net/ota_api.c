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
#include "core/ota/ota.h"
#include "core/ota/ota_image.h"
#include "core/sched.h"
#include "hal/hal.h"

static struct http_route ota_route;
static struct http_request *uploading; /* the one upload in progress */
static struct http_request *waiting;   /* its deferred reply */
static struct sched_timer resume_timer, reply_timer;

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
    uploading = req; /* returning without a reply: the body streams to upload_data() */
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

static void resume_upload(void *arg)
{
    (void)arg;
    if (uploading)
        http_resume(uploading);
}

static size_t upload_data(struct http_request *req, const uint8_t *data, size_t len, void *arg)
{
    (void)arg;
    if (req != uploading || ota_progress()->state != OTA_RECEIVING)
        return len; /* refused: swallow the rest, upload_end() answers */
    size_t taken = ota_feed(data, len);
    if (ota_progress()->state != OTA_RECEIVING)
        return len;
    if (taken < len)
        sched_timer_start(&resume_timer, 1, 0); /* next turn, through the idle wait */
    return taken;
}

/* Answer the upload once the writer has finished, one way or the other. */
static void reply_when_done(void *arg)
{
    (void)arg;
    const struct ota_progress *p = ota_progress();
    if (!waiting)
        return;
    if (p->state == OTA_FINISHING || p->state == OTA_RECEIVING) {
        sched_timer_start(&reply_timer, 10, 0);
        return;
    }
    int status = p->state == OTA_DONE ? 200 : 422;
    struct json_writer *w = http_reply_json_begin(waiting, status);
    status_json(w);
    http_reply_json_end(waiting);
    waiting = NULL;
}

static void upload_end(struct http_request *req, void *arg)
{
    (void)arg;
    if (req == uploading)
        ota_end(); /* fails a short image; a whole one is finishing */
    uploading = NULL;
    waiting = req;
    reply_when_done(NULL);
}

static void upload_abort(struct http_request *req, void *arg)
{
    (void)arg;
    if (req == uploading)
        ota_abort("the upload connection closed");
    if (req == uploading || req == waiting)
        uploading = waiting = NULL;
}

static const struct http_body_stream upload_stream = {upload_data, upload_end, upload_abort};

void ota_api_start(void)
{
    sched_timer_init(&resume_timer, resume_upload, NULL);
    sched_timer_init(&reply_timer, reply_when_done, NULL);
    http_route_add(&ota_route, HTTP_GET | HTTP_POST, "/api/ota", HTTP_ROUTE_STREAM, serve, NULL);
    ota_route.stream = &upload_stream;
}
