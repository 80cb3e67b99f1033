/*
 * web_ui.c — serves the web UI: every file of web/ from the constant gzip
 * blobs compiled into the image (streamed from flash with its ETag, so a
 * reload costs a 304), and GET /api/history for the bar charts.  The REST
 * API and the event stream the pages use are web_api.c's.
 */
#include "core/net/web_ui.h"

#include <string.h>

#include "core/energy/history.h"
#include "core/net/http.h"

static struct http_route assets_route, history_route;

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

void web_ui_start(void)
{
    http_route_add(&assets_route, HTTP_GET, "/", HTTP_ROUTE_PREFIX, serve_asset, NULL);
    http_route_add(&history_route, HTTP_GET, "/api/history", 0, serve_history, NULL);
}
