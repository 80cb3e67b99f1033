/*
 * http_get.h — a small non-blocking HTTP/1.0 GET client for pulling a file
 * (OTA pull mode: OtaUrl + Upgrade 1), run from the main loop.
 *
 * One download at a time.  The URL is http://host[:port]/path; the host
 * name is looked up without blocking (hal_net_lookup_*), then connect, send
 * and receive are non-blocking; the body is offered to `body`, which may take fewer bytes
 * than offered (back-pressure: the rest is offered again next turn, and the
 * socket is not read meanwhile).  `done` runs once at the end: status 0 on
 * success (the whole Content-Length, or the connection closed when there was
 * none), else -1 with a message.  No TLS.
 */
#ifndef OPENPLUG_HTTP_GET_H
#define OPENPLUG_HTTP_GET_H

#include <stddef.h>

#define HTTP_GET_TIMEOUT_MS 15000 /* connect, or no byte received, this long: fail */

#define HTTP_GET_STOP ((size_t)-1) /* from body(): end the download now (done gets -1) */

struct http_get_sink {
    void (*length)(long content_length, void *arg); /* the response's Content-Length, when it has one; may be NULL */
    size_t (*body)(const void *data, size_t len, void *arg); /* bytes taken, or HTTP_GET_STOP */
    void (*done)(int status, const char *error, void *arg);
    void *arg;
};

/* Start a download.  Returns 0, or -1 with a message in error. */
int http_get_start(const char *url, const struct http_get_sink *sink, char *error, size_t error_size);

/* Parse an http:// URL into host (size 64), port and path (size 128):
 * 0, or -1 when it is not one (http_get_parse.c, pure). */
int http_get_parse_url(const char *url, char *host, unsigned short *port, char *path);

/* Parse a response head (status line and header lines, len bytes, need not
 * be NUL-terminated): the status code and Content-Length (-1 when absent).
 * 0, or -1 when malformed (a bad status line, a Content-Length that is not
 * a number, or two that differ). */
int http_get_parse_head(const char *head, size_t len, int *status, long *content_length);

#endif
