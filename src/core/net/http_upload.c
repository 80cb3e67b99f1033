/* http_upload.c — request bodies streamed into flash writers; see http_upload.h. */
#include "core/net/http_upload.h"

static void resume(void *arg)
{
    struct http_upload *u = arg;
    if (u->uploading)
        http_resume(u->uploading);
}

static size_t on_data(struct http_request *req, const uint8_t *data, size_t len, void *arg)
{
    struct http_upload *u = arg;
    if (req != u->uploading || !u->taking())
        return len; /* refused: swallow the rest, on_end() answers */
    size_t taken = u->feed(data, len);
    if (!u->taking())
        return len;
    if (taken < len)
        sched_timer_start(&u->resume_timer, 1, 0); /* next turn, through the idle wait */
    return taken;
}

static void reply_when_done(void *arg)
{
    struct http_upload *u = arg;
    if (!u->waiting)
        return;
    if (u->busy()) {
        sched_timer_start(&u->reply_timer, 10, 0);
        return;
    }
    u->reply(u->waiting);
    u->waiting = NULL;
}

static void on_end(struct http_request *req, void *arg)
{
    struct http_upload *u = arg;
    if (req == u->uploading)
        u->end();
    u->uploading = NULL;
    u->waiting = req;
    reply_when_done(u);
}

static void on_abort(struct http_request *req, void *arg)
{
    struct http_upload *u = arg;
    if (req == u->uploading)
        u->abort("the upload connection closed");
    if (req == u->uploading || req == u->waiting)
        u->uploading = u->waiting = NULL;
}

static const struct http_body_stream stream = {on_data, on_end, on_abort};

void http_upload_route(struct http_upload *upload, struct http_route *route, unsigned methods, const char *path,
                       http_handler_fn handler)
{
    sched_timer_init(&upload->resume_timer, resume, upload);
    sched_timer_init(&upload->reply_timer, reply_when_done, upload);
    http_route_add(route, methods, path, HTTP_ROUTE_STREAM, handler, upload);
    route->stream = &stream;
}

void http_upload_accept(struct http_upload *upload, struct http_request *req) { upload->uploading = req; }
