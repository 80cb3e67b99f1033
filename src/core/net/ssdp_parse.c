/* ssdp_parse.c — M-SEARCH request parser; see ssdp_parse.h. */
#include "ssdp_parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define LINE_MAX_LEN 512

/* The next CRLF- (or LF-) terminated line: its start and length; false at
 * the end of the buffer or for a line too long. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
    if (*p >= end)
        return false;
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    const char *stop = nl ? nl : end;
    *line = *p;
    *len = (size_t)(stop - *p);
    if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
    *p = nl ? nl + 1 : end;
    return *len <= LINE_MAX_LEN;
}

static void trim(const char **s, size_t *len)
{
    while (*len && isspace((unsigned char)**s)) {
        (*s)++;
        (*len)--;
    }
    while (*len && isspace((unsigned char)(*s)[*len - 1]))
        (*len)--;
}

static bool header_is(const char *line, size_t name_len, const char *name)
{
    return strlen(name) == name_len && strncasecmp(line, name, name_len) == 0;
}

static int parse_mx(const char *v, size_t len)
{
    if (!len || len > 3)
        return -2;
    int mx = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit((unsigned char)v[i]))
            return -2;
        mx = mx * 10 + (v[i] - '0');
    }
    return mx;
}

int ssdp_parse_search(const char *buf, size_t len, struct ssdp_search *out)
{
    static const char request_line[] = "M-SEARCH * HTTP/1.1";
    const char *p = buf, *end = buf + len, *line;
    size_t n;
    if (!next_line(&p, end, &line, &n) || n != sizeof request_line - 1 || memcmp(line, request_line, n) != 0)
        return -1;
    bool man = false, st = false;
    out->mx = -1;
    while (next_line(&p, end, &line, &n)) {
        if (n == 0)
            break; /* end of the head */
        const char *colon = memchr(line, ':', n);
        if (!colon)
            return -1;
        size_t name_len = (size_t)(colon - line);
        const char *value = colon + 1;
        size_t value_len = n - name_len - 1;
        trim(&value, &value_len);
        if (header_is(line, name_len, "MAN")) {
            man = value_len == 15 && memcmp(value, "\"ssdp:discover\"", 15) == 0;
        } else if (header_is(line, name_len, "MX")) {
            out->mx = parse_mx(value, value_len);
            if (out->mx < 0)
                return -1;
        } else if (header_is(line, name_len, "ST")) {
            if (!value_len || value_len >= SSDP_ST_MAX || memchr(value, '\0', value_len))
                return -1;
            memcpy(out->st, value, value_len);
            out->st[value_len] = '\0';
            st = true;
        }
    }
    return man && st ? 0 : -1;
}
