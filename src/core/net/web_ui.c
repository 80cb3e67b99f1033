/*
 * web_ui.c — serves the web UI: every file of web/ from the constant gzip
 * blobs compiled into the image (streamed from flash with its ETag, so a
 * reload costs a 304), GET /api/history for the bar charts and GET
 * /api/power_trail for the live chart's last 10 minutes.  The REST API and
 * the event stream the pages use are web_api.c's.
 */
#include "core/net/web_ui.h"

#include <stdio.h>
#include <string.h>

#include "core/energy/history.h"
#include "core/energy/power_trail.h"
#include "core/net/http.h"
#include "hal/hal.h"

static struct http_route assets_route, history_route, trail_route;

const struct web_asset *web_ui_asset(const char *path)
{
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    for (unsigned i = 0; i < web_asset_count; i++)
        if (strcmp(web_assets[i].path, path) == 0)
            return &web_assets[i];
    return NULL;
}

/* Static files hold no data: no password needed (docs/API.md). */
static void serve_asset(struct http_request *req, void *arg)
{
    (void)arg;
    const struct web_asset *asset = web_ui_asset(http_path(req));
    if (!asset) {
        http_reply_error(req, 404, "no such page or endpoint");
        return;
    }
    http_reply_static(req, &(struct http_static){.data = asset->gzip,
                                                 .len = asset->gzip_len,
                                                 .content_type = asset->content_type,
                                                 .gzip = true,
                                                 .etag = asset->etag});
}

static void serve_history(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    history_write_json(http_reply_json_begin(req, 200));
    http_reply_json_end(req);
}

/* 600 values do not fit a built reply: they stream, as many as the
 * socket takes each time (the producer's state lives in http_user()). */
struct trail_cursor {
    unsigned next; /* the next second to write; POWER_TRAIL_SECONDS + 1 = done */
    bool started;
};

static int produce_trail(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    struct trail_cursor *c = http_user(req);
    size_t n = 0;
    if (!c->started) {
        uint64_t newest = power_trail_newest_ms();
        uint64_t age = newest ? hal_time_ms() - newest : 0;
        n += (size_t)snprintf(buf, cap, "{\"period_ms\":1000,\"age_ms\":%lu,\"watts\":[", (unsigned long)age);
        c->started = true;
    }
    while (c->next < POWER_TRAIL_SECONDS && cap - n >= 16) {
        uint32_t dw;
        const char *comma = c->next ? "," : "";
        if (power_trail_at(c->next, &dw))
            n += (size_t)snprintf(buf + n, cap - n, "%s%lu.%lu", comma, (unsigned long)(dw / 10),
                                  (unsigned long)(dw % 10));
        else
            n += (size_t)snprintf(buf + n, cap - n, "%snull", comma);
        c->next++;
    }
    if (c->next == POWER_TRAIL_SECONDS && cap - n >= 3) {
        memcpy(buf + n, "]}", 2);
        n += 2;
        c->next++;
    }
    return (int)n; /* 0 once everything was written */
}

static void serve_trail(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    http_reply_stream(req, 200, "application/json", produce_trail, NULL);
}

void web_ui_start(void)
{
    http_route_add(&assets_route, HTTP_GET, "/", HTTP_ROUTE_PREFIX, serve_asset, NULL);
    http_route_add(&history_route, HTTP_GET, "/api/history", 0, serve_history, NULL);
    http_route_add(&trail_route, HTTP_GET, "/api/power_trail", 0, serve_trail, NULL);
}
