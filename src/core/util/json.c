/* json.c — the bounded JSON writer and the in-place reader; see json.h. */
#include "json.h"

#include <stdio.h>
#include <string.h>

#include "charclass.h"

/* ---- Writer ---- */

void jw_init(struct json_writer *w, char *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = cap;
    if (cap)
        buf[0] = '\0';
}

static void put(struct json_writer *w, const char *s, size_t n)
{
    if (w->overflow)
        return;
    if (w->len + n >= w->cap) { /* also a writer with no room at all */
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void put_c(struct json_writer *w, char c)
{
    if (w->len + 1 < w->cap && !w->overflow) {
        w->buf[w->len++] = c;
        w->buf[w->len] = '\0';
    } else {
        put(w, &c, 1);
    }
}

/* Runs of characters that need no escape go in one copy. */
static void put_escaped(struct json_writer *w, const char *s)
{
    put_c(w, '"');
    for (;;) {
        const char *run = s;
        while (char_class[(unsigned char)*s] & CHAR_JSON_PLAIN)
            s++;
        put(w, run, (size_t)(s - run));
        unsigned char c = (unsigned char)*s++;
        if (c == '\0')
            break;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            put(w, esc, 2);
        } else if (c == '\n') {
            put(w, "\\n", 2);
        } else {
            static const char hex[] = "0123456789abcdef";
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(w, esc, 6);
        }
    }
    put_c(w, '"');
}

/* Comma and key before a new item of the current container.  Keys are
 * nearly always plain words: those go in one copy. */
static void item(struct json_writer *w, const char *key)
{
    bool comma = w->has_items[w->depth];
    w->has_items[w->depth] = true;
    size_t n = 0;
    if (key)
        while (char_class[(unsigned char)key[n]] & CHAR_JSON_PLAIN)
            n++;
    if (key && !key[n] && !w->overflow && w->len + n + 4 < w->cap) {
        char *p = w->buf + w->len;
        if (comma)
            *p++ = ',';
        *p++ = '"';
        memcpy(p, key, n);
        p += n;
        *p++ = '"';
        *p++ = ':';
        *p = '\0';
        w->len = (size_t)(p - w->buf);
        return;
    }
    if (comma)
        put_c(w, ',');
    if (key) {
        put_escaped(w, key);
        put_c(w, ':');
    }
}

static void open(struct json_writer *w, const char *key, char bracket)
{
    item(w, key);
    put_c(w, bracket);
    if (w->depth < JSON_MAX_DEPTH)
        w->depth++;
    else
        w->overflow = true;
    w->has_items[w->depth] = false;
}

static void close_(struct json_writer *w, char bracket)
{
    put_c(w, bracket);
    if (w->depth)
        w->depth--;
}

void jw_object_begin(struct json_writer *w, const char *key) { open(w, key, '{'); }
void jw_object_end(struct json_writer *w) { close_(w, '}'); }
void jw_array_begin(struct json_writer *w, const char *key) { open(w, key, '['); }
void jw_array_end(struct json_writer *w) { close_(w, ']'); }

void jw_string(struct json_writer *w, const char *key, const char *value)
{
    item(w, key);
    put_escaped(w, value);
}

void jw_int(struct json_writer *w, const char *key, int64_t value) { jw_fixed(w, key, value, 0); }

/* The digits written from the end of text[24], the point `decimals` from
 * the right; returns where they start. */
static char *fixed_digits(char text[24], uint64_t magnitude, unsigned decimals)
{
    char *p = text + 24;
    unsigned written = 0;
    for (; magnitude > UINT32_MAX; magnitude /= 10) { /* a soft 64-bit division costs much more on the chip */
        *--p = (char)('0' + magnitude % 10);
        if (++written == decimals)
            *--p = '.';
    }
    uint32_t small = (uint32_t)magnitude;
    do {
        uint32_t tens = small / 10;
        *--p = (char)('0' + (small - tens * 10));
        small = tens;
        if (++written == decimals)
            *--p = '.';
    } while (small || written <= decimals);
    return p;
}

void jw_fixed(struct json_writer *w, const char *key, int64_t value, unsigned decimals)
{
    item(w, key);
    char text[24], *p = fixed_digits(text, value < 0 ? 0u - (uint64_t)value : (uint64_t)value,
                                     decimals < 19 ? decimals : 19); /* 10^19 still fits 64 bits */
    if (value < 0)
        *--p = '-';
    size_t n = (size_t)(text + sizeof text - p);
    if (w->overflow || w->len + n >= w->cap) {
        put(w, p, n); /* no room: overflow */
        return;
    }
    char *out = w->buf + w->len; /* a few digits: copied here, not with a call */
    w->len += n;
    while (n--)
        *out++ = *p++;
    *out = '\0';
}

void jw_float(struct json_writer *w, const char *key, float value, unsigned decimals)
{
    if (decimals > 6)
        decimals = 6;
    double scaled = value;
    for (unsigned i = 0; i < decimals; i++)
        scaled *= 10;
    jw_fixed(w, key, (int64_t)(scaled < 0 ? scaled - 0.5 : scaled + 0.5), decimals);
}

void jw_bool(struct json_writer *w, const char *key, bool value)
{
    item(w, key);
    put(w, value ? "true" : "false", value ? 4 : 5);
}

void jw_raw(struct json_writer *w, const char *key, const char *json)
{
    item(w, key);
    put(w, json, strlen(json));
}

void jw_wrap_in_array(struct json_writer *w, size_t at)
{
    if (w->overflow || at > w->len || w->len + 1 >= w->cap || w->depth >= JSON_MAX_DEPTH) {
        w->overflow = true;
        return;
    }
    memmove(w->buf + at + 1, w->buf + at, w->len - at + 1); /* with the NUL */
    w->buf[at] = '[';
    w->len++;
    w->has_items[++w->depth] = true;
}

void jw_raw_members(struct json_writer *w, const char *members, size_t len, bool continued)
{
    if (!continued && w->has_items[w->depth])
        put_c(w, ',');
    w->has_items[w->depth] = true;
    put(w, members, len);
}

const char *jw_text(struct json_writer *w) { return w->cap ? w->buf : ""; }

/* ---- Reader ---- */

#define JR_MAX_DEPTH 16

void jr_init(struct json_reader *r, const char *text, size_t len)
{
    memset(r, 0, sizeof *r);
    r->start = r->pos = text;
    r->end = text + len;
}

bool jr_failed(const struct json_reader *r) { return r->error[0] != '\0'; }

static bool fail(struct json_reader *r, const char *what)
{
    if (!jr_failed(r))
        snprintf(r->error, sizeof r->error, "%s at byte %u", what, (unsigned)(r->pos - r->start));
    return false;
}

static void skip_space(struct json_reader *r)
{
    while (r->pos < r->end && (*r->pos == ' ' || *r->pos == '\t' || *r->pos == '\n' || *r->pos == '\r'))
        r->pos++;
}

static bool take(struct json_reader *r, char c)
{
    skip_space(r);
    if (r->pos < r->end && *r->pos == c) {
        r->pos++;
        return true;
    }
    return false;
}

enum json_type jr_peek(struct json_reader *r)
{
    if (jr_failed(r))
        return JSON_NONE;
    skip_space(r);
    if (r->pos >= r->end)
        return JSON_NONE;
    switch (*r->pos) {
    case '{': return JSON_OBJECT;
    case '[': return JSON_ARRAY;
    case '"': return JSON_STRING;
    case 't': return JSON_TRUE;
    case 'f': return JSON_FALSE;
    case 'n': return JSON_NULL;
    default:
        return (*r->pos == '-' || (*r->pos >= '0' && *r->pos <= '9')) ? JSON_NUMBER : JSON_NONE;
    }
}

bool jr_object_begin(struct json_reader *r)
{
    if (jr_failed(r))
        return false;
    if (!take(r, '{'))
        return fail(r, "expected '{'");
    if (++r->depth > JR_MAX_DEPTH)
        return fail(r, "nested too deeply");
    r->at_first_member = true;
    return true;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Reads a string token; out may be NULL to skip it. */
static bool read_string(struct json_reader *r, char *out, size_t out_size)
{
    if (!take(r, '"'))
        return fail(r, "expected a string");
    size_t n = 0;
    while (r->pos < r->end && *r->pos != '"') {
        unsigned char c = (unsigned char)*r->pos++;
        if (c < 0x20)
            return fail(r, "control character in string");
        if (c == '\\') {
            if (r->pos >= r->end)
                break;
            char e = *r->pos++;
            switch (e) {
            case '"': case '\\': case '/': c = (unsigned char)e; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                unsigned code = 0;
                for (int i = 0; i < 4; i++) {
                    int d = r->pos < r->end ? hex_digit(*r->pos++) : -1;
                    if (d < 0)
                        return fail(r, "bad \\u escape");
                    code = code << 4 | (unsigned)d;
                }
                c = (code >= 0x20 && code < 0x80) ? (unsigned char)code : '?';
                break;
            }
            default:
                return fail(r, "bad escape");
            }
        }
        if (out) {
            if (n + 1 >= out_size)
                return fail(r, "string too long");
            out[n++] = (char)c;
        }
    }
    if (r->pos >= r->end)
        return fail(r, "unterminated string");
    r->pos++;
    if (out)
        out[n] = '\0';
    return true;
}

bool jr_string(struct json_reader *r, char *out, size_t out_size)
{
    if (jr_failed(r))
        return false;
    if (out_size == 0)
        return fail(r, "no room for string");
    return read_string(r, out, out_size);
}

bool jr_object_next(struct json_reader *r, char *key, size_t key_size)
{
    if (jr_failed(r))
        return false;
    skip_space(r);
    if (take(r, '}')) {
        r->depth--;
        r->at_first_member = false;
        return false;
    }
    if (!r->at_first_member && !take(r, ','))
        return fail(r, "expected ',' or '}'");
    r->at_first_member = false;
    if (!jr_string(r, key, key_size) || !take(r, ':'))
        return fail(r, "expected \"key\":");
    return true;
}

static bool skip_literal(struct json_reader *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->pos) < n || memcmp(r->pos, word, n) != 0)
        return fail(r, "bad literal");
    r->pos += n;
    return true;
}

static bool skip_number(struct json_reader *r)
{
    const char *begin = r->pos;
    if (r->pos < r->end && *r->pos == '-')
        r->pos++;
    bool digits = false;
    while (r->pos < r->end) {
        char c = *r->pos;
        if (c >= '0' && c <= '9')
            digits = true;
        else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
            break;
        r->pos++;
    }
    if (!digits) {
        r->pos = begin;
        return fail(r, "bad number");
    }
    return true;
}

static bool skip_container(struct json_reader *r, char open_c, char close_c)
{
    r->pos++; /* the opening bracket, already peeked */
    if (++r->depth > JR_MAX_DEPTH)
        return fail(r, "nested too deeply");
    if (take(r, close_c)) {
        r->depth--;
        return true;
    }
    for (;;) {
        if (open_c == '{' && (!read_string(r, NULL, 0) || !take(r, ':')))
            return fail(r, "expected \"key\":");
        if (!jr_skip(r))
            return false;
        if (take(r, close_c)) {
            r->depth--;
            return true;
        }
        if (!take(r, ','))
            return fail(r, "expected ','");
    }
}

bool jr_skip(struct json_reader *r)
{
    switch (jr_peek(r)) {
    case JSON_OBJECT: return skip_container(r, '{', '}');
    case JSON_ARRAY: return skip_container(r, '[', ']');
    case JSON_STRING: return read_string(r, NULL, 0);
    case JSON_NUMBER: return skip_number(r);
    case JSON_TRUE: return skip_literal(r, "true");
    case JSON_FALSE: return skip_literal(r, "false");
    case JSON_NULL: return skip_literal(r, "null");
    default: return fail(r, "expected a value");
    }
}

bool jr_finished(struct json_reader *r)
{
    skip_space(r);
    return !jr_failed(r) && r->pos == r->end;
}
