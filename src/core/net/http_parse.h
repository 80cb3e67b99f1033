/*
 * http_parse.h — the HTTP/1.1 request-head parser and the small decoders
 * the server needs (percent-decoding, query parameters, Base64 of Basic
 * auth).  Pure functions over a caller's buffer: no I/O, no allocation, no
 * global state, so they are unit-tested and fuzzed on their own
 * (fuzz/fuzz_http.c).  The parser is strict where leniency is dangerous
 * (request smuggling: Content-Length with Transfer-Encoding, conflicting
 * lengths, folded headers, bare CR) and says which status a bad head gets.
 */
#ifndef OPENPLUG_HTTP_PARSE_H
#define OPENPLUG_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/net/http.h"

struct http_header_field {
    const char *name, *value;
};

struct http_head {
    enum http_method method; /* 0 for a method this server does not know */
    const char *path;        /* percent-decoded, NUL-terminated */
    const char *query;       /* raw, "" when none */
    int minor_version;       /* HTTP/1.<minor> */
    struct http_header_field headers[HTTP_HEADERS_MAX];
    unsigned header_count;
    size_t content_length;
    bool has_length;
    bool chunked;    /* Transfer-Encoding present (any value) */
    bool keep_alive; /* after this request, per version and Connection */
};

/* Length of the head in buf (through the blank line that ends it), or 0
 * when it is not complete yet.  Lines may end in CRLF or LF. */
size_t http_head_length(const char *buf, size_t len);

/* True when buf[0..len) is already known to break the request-line limit:
 * no line end within HTTP_LINE_MAX bytes. */
bool http_line_too_long(const char *buf, size_t len);

/* Parse a complete head of head_len bytes in place (it is cut up with NULs;
 * out points into it).  Returns 0, or the status to answer: 400 malformed,
 * 414 request line too long, 431 too many / too long headers, 501 unknown
 * method, 505 not HTTP/1.x. */
int http_parse_head(char *buf, size_t head_len, struct http_head *out);

/* Header value by case-insensitive name, NULL when absent. */
const char *http_head_header(const struct http_head *head, const char *name);

/* Percent-decode in place (plus_is_space: '+' → ' ', for queries).  False
 * on a bad escape or a decoded NUL. */
bool http_url_decode(char *text, bool plus_is_space);

/* Find name=value in a raw query ("a=1&b=x%20y") and decode the value into
 * out.  False when absent, badly escaped or too long (out is then ""). */
bool http_query_param(const char *query, const char *name, char *out, size_t size);

/* Decode Base64 text (standard alphabet, '=' padding) into out; returns the
 * byte count or -1 when malformed or too long for out (size). */
int http_base64_decode(const char *text, size_t text_len, unsigned char *out, size_t size);

#endif
