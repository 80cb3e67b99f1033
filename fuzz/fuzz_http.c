/*
 * fuzz_http.c — the HTTP request-head parser and its decoders
 * (src/core/net/http_parse.h), on any bytes.
 *
 * The input is what a client sends.  The head (through its blank line) is
 * copied into a buffer of exactly its length, so ASan catches any read past
 * it, and parsed.  Properties: the head length ends on a line feed within
 * the input; the parser answers 0 or one of 400/414/431/501/505; on 0 the
 * method is known, the path starts with '/', holds no NUL (it is a C string
 * inside the buffer), no backslash and no "." or ".." segment, and is
 * shorter than the request-line limit; header names are non-empty tokens;
 * at most HTTP_HEADERS_MAX headers; never both a length and a transfer
 * encoding; a Content-Length header means has_length.  Query parameters
 * decode into buffers of every small size, NUL-terminated inside them.
 * Base64: the decoder never writes past its buffer, and decodes what a
 * reference encoder makes of the input's bytes back to them.
 */
#include <ctype.h>
#include <strings.h>

#include "core/net/http_parse.h"
#include "fuzz_input.h"

static bool inside(const char *p, const char *buf, size_t len) { return p >= buf && p < buf + len; }

static void check_head(const char *buf, size_t len, const struct http_head *h)
{
    FUZZ_CHECK(h->method != 0);
    FUZZ_CHECK(inside(h->path, buf, len) && h->path[0] == '/');
    size_t path_len = strlen(h->path);
    FUZZ_CHECK(h->path + path_len < buf + len); /* terminated inside */
    FUZZ_CHECK(path_len < HTTP_LINE_MAX);
    FUZZ_CHECK(!strchr(h->path, '\\'));
    for (const char *seg = h->path; seg; seg = strchr(seg + 1, '/')) {
        size_t n = strcspn(seg + 1, "/");
        FUZZ_CHECK(!(n == 1 && seg[1] == '.') && !(n == 2 && seg[1] == '.' && seg[2] == '.'));
    }
    FUZZ_CHECK(h->query[0] == '\0' || inside(h->query, buf, len));
    FUZZ_CHECK(h->header_count <= HTTP_HEADERS_MAX);
    bool length_header = false;
    for (unsigned i = 0; i < h->header_count; i++) {
        const char *name = h->headers[i].name, *value = h->headers[i].value;
        FUZZ_CHECK(inside(name, buf, len) && inside(value, buf, len + 1));
        FUZZ_CHECK(name[0] != '\0');
        for (const char *c = name; *c; c++)
            FUZZ_CHECK(isalnum((unsigned char)*c) || strchr("!#$%&'*+-.^_`|~", *c));
        length_header |= strcasecmp(name, "Content-Length") == 0;
    }
    FUZZ_CHECK(!(h->has_length && h->chunked));
    FUZZ_CHECK(length_header == h->has_length);
    FUZZ_CHECK(h->content_length <= 999999999u);
    FUZZ_CHECK(h->minor_version >= 0 && h->minor_version <= 9);
}

static void check_query(const char *query)
{
    static const char *const names[] = {"cmnd", "user", "password", "since", ""};
    char out[40];
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++)
        for (size_t size = 1; size <= sizeof out; size += 13) {
            memset(out, 'X', sizeof out);
            bool found = http_query_param(query, names[n], out, size);
            FUZZ_CHECK(memchr(out, '\0', size) != NULL);
            if (!found)
                FUZZ_CHECK(out[0] == '\0');
        }
}

static size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
    }
    return o;
}

static void check_base64(const uint8_t *data, size_t size)
{
    uint8_t out[64];
    size_t cap = size % 65;
    uint8_t *exact = malloc(cap ? cap : 1);
    int n = http_base64_decode((const char *)data, size, exact, cap);
    FUZZ_CHECK(n >= -1 && n <= (int)cap);
    free(exact);
    size_t take = size < 48 ? size : 48;
    char text[64];
    size_t text_len = base64_encode(data, take, text);
    n = http_base64_decode(text, text_len, out, sizeof out);
    FUZZ_CHECK(n == (int)take && memcmp(out, data, take) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    size_t head_len = http_head_length(text, size);
    FUZZ_CHECK(head_len <= size);
    if (head_len) {
        FUZZ_CHECK(text[head_len - 1] == '\n');
        char *buf = malloc(head_len);
        memcpy(buf, text, head_len);
        struct http_head head;
        int status = http_parse_head(buf, head_len, &head);
        FUZZ_CHECK(status == 0 || status == 400 || status == 414 || status == 431 || status == 501 ||
                   status == 505);
        if (status == 0) {
            check_head(buf, head_len, &head);
            check_query(head.query);
        }
        free(buf);
    }
    (void)http_line_too_long(text, size);
    check_base64(data, size);
    return 0;
}
