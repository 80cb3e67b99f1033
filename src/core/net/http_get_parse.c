/*
 * http_get_parse.c — the pull client's parsers, pure (no sockets): the
 * http:// URL and the response head.  Fuzzed (fuzz/fuzz_http_get.c); built
 * for RV32 too.  See http_get.h.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "http_get.h"

#define HOST_SIZE 64
#define PATH_SIZE 128

int http_get_parse_url(const char *url, char *host, unsigned short *port, char *path)
{
    if (strncmp(url, "http://", 7) != 0)
        return -1;
    const char *h = url + 7, *end = h + strcspn(h, ":/");
    if (end == h || (size_t)(end - h) >= HOST_SIZE)
        return -1;
    memcpy(host, h, (size_t)(end - h));
    host[end - h] = '\0';
    *port = 80;
    if (*end == ':') {
        long n = 0;
        const char *digit = end + 1;
        while (isdigit((unsigned char)*digit) && n <= 65535)
            n = n * 10 + (*digit++ - '0');
        if (digit == end + 1 || n < 1 || n > 65535 || (*digit && *digit != '/'))
            return -1;
        *port = (unsigned short)n;
        end = digit;
    }
    const char *p = *end ? end : "/";
    if (strlen(p) >= PATH_SIZE || strpbrk(p, " \r\n"))
        return -1;
    strcpy(path, p);
    return 0;
}

/* A decimal number of at most 9 digits at [p, end), blanks around; -1 if not. */
static long decimal(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (p == end || end - p > 9)
        return -1;
    long n = 0;
    for (; p < end; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        n = n * 10 + (*p - '0');
    }
    return n;
}

int http_get_parse_head(const char *head, size_t len, int *status, long *content_length)
{
    const char *end = head + len, *line = head;
    const char *eol = memchr(line, '\n', len);
    /* "HTTP/1.x NNN reason" */
    if (!eol || eol - line < 12 || memcmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
        line[8] != ' ' || (line[12] != ' ' && line[12] != '\r' && line[12] != '\n'))
        return -1;
    long code = decimal(line + 9, line + 12);
    if (code < 100 || code > 999)
        return -1;
    *status = (int)code;
    *content_length = -1;
    for (line = eol + 1; line < end; line = eol + 1) {
        eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol)
            eol = end;
        const char *stop = eol > line && eol[-1] == '\r' ? eol - 1 : eol;
        if (stop - line >= 15 && strncasecmp(line, "Content-Length:", 15) == 0) {
            long n = decimal(line + 15, stop);
            if (n < 0 || (*content_length >= 0 && n != *content_length))
                return -1; /* not a number, or two that differ */
            *content_length = n;
        }
    }
    return 0;
}
