/*
 * web_ui.h — the web UI's routes: the pages (web/, compiled into the image
 * by tools/webassets.py, see web_assets.h) and the UI's own data endpoint,
 * GET /api/history (docs/API.md).
 */
#ifndef OPENPLUG_WEB_UI_H
#define OPENPLUG_WEB_UI_H

#include "core/net/web_assets.h"

/* Register the routes (before or after http_start()). */
void web_ui_start(void);

/* The asset served at a URL path ("/" is "/index.html"), NULL if none. */
const struct web_asset *web_ui_asset(const char *path);

#endif
