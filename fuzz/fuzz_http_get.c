/*
 * fuzz_http_get.c — the pull client's parsers (src/core/net/http_get.h):
 * http_get_parse_url() on any text (OtaUrl takes it from the user) and
 * http_get_parse_head() on any bytes (from the network).
 *
 * Properties:
 *   - an accepted URL gives a host of 1..63 characters without ':' or '/',
 *     a port 1..65535 and a path that starts with '/', shorter than 128,
 *     without blanks or line ends; printing them back as a URL parses to
 *     the same three;
 *   - an accepted head gives a status 100..999 and a Content-Length that is
 *     -1 (none) or 0..999999999, and the verdict does not change when the
 *     bytes after the head are different (it never reads past len).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/net/http_get.h"
#include "fuzz_input.h"

static void fuzz_url(const uint8_t *data, size_t size)
{
    char url[512], host[64], path[128], again[512], host2[64], path2[128];
    unsigned short port, port2;
    size_t n = size < sizeof url - 1 ? size : sizeof url - 1;
    memcpy(url, data, n);
    url[n] = '\0';
    if (http_get_parse_url(url, host, &port, path) != 0)
        return;
    FUZZ_CHECK(strlen(host) >= 1 && strlen(host) < 64 && !strpbrk(host, ":/"));
    FUZZ_CHECK(port >= 1);
    FUZZ_CHECK(path[0] == '/' && strlen(path) < 128 && !strpbrk(path, " \r\n"));
    snprintf(again, sizeof again, "http://%s:%u%s", host, port, path);
    FUZZ_CHECK(http_get_parse_url(again, host2, &port2, path2) == 0);
    FUZZ_CHECK(strcmp(host, host2) == 0 && port == port2 && strcmp(path, path2) == 0);
}

static void fuzz_head(const uint8_t *data, size_t size)
{
    int status = 0, status2 = 0;
    long length = 0, length2 = 0;
    /* The head in a buffer of exactly its size (ASan catches a read past
     * it), then again followed by other bytes. */
    char *exact = malloc(size ? size : 1);
    memcpy(exact, data, size);
    int verdict = http_get_parse_head(exact, size, &status, &length);
    char *padded = malloc(size + 16);
    memcpy(padded, data, size);
    memset(padded + size, 'Z', 16);
    int verdict2 = http_get_parse_head(padded, size, &status2, &length2);
    FUZZ_CHECK(verdict == verdict2);
    if (verdict == 0) {
        FUZZ_CHECK(status >= 100 && status <= 999 && status == status2);
        FUZZ_CHECK(length >= -1 && length <= 999999999 && length == length2);
    }
    free(padded);
    free(exact);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] & 1)
        fuzz_url(data + 1, size - 1);
    else
        fuzz_head(data + 1, size - 1);
    return 0;
}
