/* http_parse.c — request-head parser and decoders; see http_parse.h. */
#include "http_parse.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "core/util/charclass.h"

size_t http_head_length(const char *buf, size_t len)
{
    for (const char *nl = memchr(buf, '\n', len); nl; nl = memchr(nl + 1, '\n', len - (size_t)(nl + 1 - buf))) {
        size_t i = (size_t)(nl - buf); /* a line end: is the next line empty? */
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

bool http_line_too_long(const char *buf, size_t len)
{
    size_t n = len < HTTP_LINE_MAX ? len : HTTP_LINE_MAX;
    return len >= HTTP_LINE_MAX && !memchr(buf, '\n', n);
}

static const struct {
    const char *name;
    enum http_method method;
} methods[] = {
    {"GET", HTTP_GET}, {"HEAD", HTTP_HEAD}, {"POST", HTTP_POST},
    {"PUT", HTTP_PUT}, {"DELETE", HTTP_DELETE}, {"OPTIONS", HTTP_OPTIONS},
};

/* Cut the next line (ending in LF, with an optional CR before it) off
 * *cursor; NULL at the end.  A CR anywhere else makes it invalid. */
static char *next_line(char **cursor, char *end, bool *bad)
{
    char *start = *cursor;
    if (start >= end)
        return NULL;
    char *lf = memchr(start, '\n', (size_t)(end - start));
    if (!lf)
        return NULL;
    char *stop = lf;
    if (stop > start && stop[-1] == '\r')
        stop--;
    *stop = '\0';
    if (memchr(start, '\r', (size_t)(stop - start)))
        *bad = true;
    *cursor = lf + 1;
    return start;
}

/* Decoded path: starts with '/', no NUL, no backslash, no ".." segment. */
static bool safe_path(char *path)
{
    if (path[0] != '/' || !http_url_decode(path, false) || strchr(path, '\\'))
        return false;
    for (const char *seg = path; seg; seg = strchr(seg + 1, '/')) {
        const char *s = seg + 1;
        size_t n = strcspn(s, "/");
        if ((n == 2 && s[0] == '.' && s[1] == '.') || (n == 1 && s[0] == '.'))
            return false;
    }
    return true;
}

static int parse_request_line(char *line, struct http_head *out)
{
    if (strlen(line) >= HTTP_LINE_MAX)
        return 414;
    char *sp1 = strchr(line, ' ');
    if (!sp1)
        return 400;
    *sp1 = '\0';
    char *target = sp1 + 1;
    char *sp2 = strchr(target, ' ');
    if (!sp2 || strchr(sp2 + 1, ' '))
        return 400;
    *sp2 = '\0';
    const char *version = sp2 + 1;
    for (const char *c = line; *c; c++)
        if (!(char_class[(unsigned char)*c] & CHAR_TOKEN))
            return 400;
    out->method = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(line, methods[i].name) == 0) {
            out->method = methods[i].method;
            break;
        }
    if (strncmp(version, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)version[7]) || version[8]) {
        if (strncmp(version, "HTTP/", 5) == 0 && isdigit((unsigned char)version[5]))
            return 505;
        return 400;
    }
    out->minor_version = version[7] - '0';
    for (const unsigned char *c = (const unsigned char *)target; *c; c++)
        if (*c <= ' ' || *c >= 0x7F)
            return 400;
    char *query = strchr(target, '?');
    out->query = "";
    if (query) {
        *query = '\0';
        out->query = query + 1;
    }
    if (strchr(target, '#'))
        return 400;
    if (!safe_path(target))
        return 400;
    out->path = target;
    if (!out->method)
        return 501;
    return 0;
}

/* Content-Length: digits only, at most 9 of them (a plug takes no
 * gigabyte); repeats must agree. */
static bool take_length(struct http_head *out, const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || n > 9 || strspn(value, "0123456789") != n)
        return false;
    size_t length = 0;
    for (size_t i = 0; i < n; i++)
        length = length * 10 + (size_t)(value[i] - '0');
    if (out->has_length && out->content_length != length)
        return false;
    out->has_length = true;
    out->content_length = length;
    return true;
}

static bool has_token(const char *list, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t len = strcspn(p, ",");
        size_t t = len;
        while (t && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t == n && strncasecmp(p, token, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* One pass over "name: value": the name a token (so no folded line, which
 * starts with a blank), the value trimmed of blanks, no control character. */
static int parse_header(char *line, struct http_head *out)
{
    char *colon = line;
    while (char_class[(unsigned char)*colon] & CHAR_TOKEN)
        colon++;
    if (*colon != ':' || colon == line)
        return 400;
    *colon = '\0';
    size_t name_len = (size_t)(colon - line);
    char *value = colon + 1;
    while (*value == ' ' || *value == '\t')
        value++;
    char *end = value, *v = value;
    for (uint8_t kind; (kind = char_class[(unsigned char)*v] & (CHAR_VALUE | CHAR_BLANK)) != 0; v++)
        if (kind == CHAR_VALUE)
            end = v + 1;
    if (*v)
        return 400;
    *end = '\0';
    if (out->header_count == HTTP_HEADERS_MAX)
        return 431;
    out->headers[out->header_count++] = (struct http_header_field){line, value};
    if (name_len == 14 && strcasecmp(line, "Content-Length") == 0 && !take_length(out, value))
        return 400;
    if (name_len == 17 && strcasecmp(line, "Transfer-Encoding") == 0)
        out->chunked = true;
    return 0;
}

int http_parse_head(char *buf, size_t head_len, struct http_head *out)
{
    memset(out, 0, sizeof *out);
    out->path = "/";
    out->query = "";
    if (memchr(buf, '\0', head_len))
        return 400; /* a NUL would cut a line or value short, unseen */
    char *cursor = buf, *end = buf + head_len;
    bool bad = false;
    char *line = next_line(&cursor, end, &bad);
    if (!line)
        return 400;
    int status = parse_request_line(line, out);
    if (!status && bad)
        status = 400;
    if (status)
        return status;
    while ((line = next_line(&cursor, end, &bad)) && *line) {
        if (bad)
            return 400;
        if ((status = parse_header(line, out)))
            return status;
    }
    if (bad)
        return 400;
    if (out->chunked && out->has_length)
        return 400; /* both framings: a smuggling attempt */
    const char *connection = http_head_header(out, "Connection");
    out->keep_alive = out->minor_version >= 1 ? !(connection && has_token(connection, "close"))
                                              : connection && has_token(connection, "keep-alive");
    if (out->minor_version >= 1 && !http_head_header(out, "Host"))
        return 400; /* RFC 9112 3.2 */
    return 0;
}

const char *http_head_header(const struct http_head *head, const char *name)
{
    char first = (char)(name[0] | 0x20); /* header names are ASCII: a folded first letter rules most out */
    for (unsigned i = 0; i < head->header_count; i++)
        if ((char)(head->headers[i].name[0] | 0x20) == first && strcasecmp(head->headers[i].name, name) == 0)
            return head->headers[i].value;
    return NULL;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool http_url_decode(char *text, bool plus_is_space)
{
    char *out = text;
    for (const char *in = text; *in; in++) {
        char c = *in;
        if (c == '%') {
            int hi = in[1] ? hex_value(in[1]) : -1;
            int lo = hi >= 0 && in[2] ? hex_value(in[2]) : -1;
            if (lo < 0 || (hi == 0 && lo == 0))
                return false;
            c = (char)(hi * 16 + lo);
            in += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        *out++ = c;
    }
    *out = '\0';
    return true;
}

bool http_query_param(const char *query, const char *name, char *out, size_t size)
{
    size_t name_len = strlen(name);
    if (size)
        out[0] = '\0';
    for (const char *p = query; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
        size_t len = strcspn(p, "&");
        if (len < name_len || strncmp(p, name, name_len) != 0 || (len > name_len && p[name_len] != '='))
            continue;
        const char *value = len > name_len ? p + name_len + 1 : p + len;
        size_t value_len = (size_t)(p + len - value);
        if (value_len >= size)
            return false;
        memcpy(out, value, value_len);
        out[value_len] = '\0';
        if (!http_url_decode(out, true)) {
            out[0] = '\0';
            return false;
        }
        return true;
    }
    return false;
}

static int base64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

int http_base64_decode(const char *text, size_t text_len, unsigned char *out, size_t size)
{
    if (text_len % 4)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < text_len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = text[i + k];
            if (c == '=' && i + 4 == text_len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = base64_value(c)) < 0) {
                return -1;
            }
        }
        uint32_t bits = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        unsigned char bytes[3] = {(unsigned char)(bits >> 16), (unsigned char)(bits >> 8), (unsigned char)bits};
        for (int k = 0; k < 3 - pad; k++) {
            if (n == size)
                return -1;
            out[n++] = bytes[k];
        }
    }
    return (int)n;
}
