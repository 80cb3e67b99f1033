/*
 * http_get_none.c — the pull client of builds without sockets (the RV32
 * core build has no lwIP headers): every download is refused with a clear
 * error.  The BL602 port links http_get.c against lwIP.  See http_get.h.
 */
#include "http_get.h"

#include <stdio.h>

int http_get_start(const char *url, const struct http_get_sink *sink, char *error, size_t error_size)
{
    (void)url;
    (void)sink;
    snprintf(error, error_size, "no network in this build");
    return -1;
}
