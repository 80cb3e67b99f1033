/*
 * web_assets.h — the web UI's files, compiled into the image.
 *
 * tools/webassets.py turns every file of web/ into a gzip-compressed const
 * array (in flash on the plug) at build time; web_ui.c serves them.  The
 * table is generated: edit web/, never the C file.
 */
#ifndef OPENPLUG_WEB_ASSETS_H
#define OPENPLUG_WEB_ASSETS_H

#include <stdint.h>

struct web_asset {
    const char *path;         /* URL path: "/index.html" */
    const char *content_type;
    const uint8_t *gzip;      /* the file, gzip-compressed */
    uint32_t gzip_len;
    uint32_t raw_len;         /* before compression */
    const char *etag;         /* with its quotes */
};

extern const struct web_asset web_assets[];
extern const unsigned web_asset_count;

#endif
