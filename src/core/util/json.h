/*
 * json.h — a bounded JSON writer and a small JSON reader.
 *
 * The writer appends to a caller's buffer and never overruns it: on overflow
 * it stops writing and sets `overflow`, so a reply is either whole or
 * flagged.  The reader walks a JSON text in place (no allocation, no copy of
 * the document) with a depth limit; it is enough for the documents the plug
 * accepts (templates, settings) and rejects anything malformed with a
 * message naming the byte offset.
 */
#ifndef OPENPLUG_JSON_H
#define OPENPLUG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Writer ---- */

#define JSON_MAX_DEPTH 8

struct json_writer {
    char *buf;
    size_t cap, len;
    bool overflow;
    uint8_t depth;
    bool has_items[JSON_MAX_DEPTH + 1];
};

void jw_init(struct json_writer *w, char *buf, size_t cap);
/* `key` is NULL for a value inside an array or for the top level. */
void jw_object_begin(struct json_writer *w, const char *key);
void jw_object_end(struct json_writer *w);
void jw_array_begin(struct json_writer *w, const char *key);
void jw_array_end(struct json_writer *w);
void jw_string(struct json_writer *w, const char *key, const char *value);
void jw_int(struct json_writer *w, const char *key, int64_t value);
void jw_bool(struct json_writer *w, const char *key, bool value);
/* A fixed-point number: value / 10^decimals, printed with that many
 * decimals (e.g. 1234, 3 -> 1.234). */
void jw_fixed(struct json_writer *w, const char *key, int64_t value, unsigned decimals);
/* A float rounded to `decimals` places (at most 6). */
void jw_float(struct json_writer *w, const char *key, float value, unsigned decimals);
/* Already-encoded JSON, copied as it is. */
void jw_raw(struct json_writer *w, const char *key, const char *json);
/* The value written last, which starts at text offset `at`, becomes the
 * first item of an array left open (close it with jw_array_end): for a
 * value that turns out to be one of several. */
void jw_wrap_in_array(struct json_writer *w, size_t at);
/* Already-encoded members ("a":1,"b":[2]) of the open object, in pieces:
 * the first piece with continued = false. */
void jw_raw_members(struct json_writer *w, const char *members, size_t len, bool continued);
/* The text so far, NUL-terminated (always, even after an overflow). */
const char *jw_text(struct json_writer *w);

/* ---- Reader ---- */

enum json_type { JSON_NONE, JSON_OBJECT, JSON_ARRAY, JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_NULL };

struct json_reader {
    const char *start, *pos, *end;
    unsigned depth;
    bool at_first_member; /* just after jr_object_begin() */
    char error[64]; /* set on the first error; later calls then fail */
};

void jr_init(struct json_reader *r, const char *text, size_t len);
/* Type of the next value (skipping white space), JSON_NONE at the end or on
 * an error. */
enum json_type jr_peek(struct json_reader *r);
bool jr_object_begin(struct json_reader *r);
/* Next member of the current object: copies its key to `key` and returns
 * true, or returns false at the closing brace (consumed) or on an error. */
bool jr_object_next(struct json_reader *r, char *key, size_t key_size);
/* A string value, unescaped (a \u escape beyond ASCII becomes '?'); fails if
 * it does not fit. */
bool jr_string(struct json_reader *r, char *out, size_t out_size);
/* Skip any one value, nested or not. */
bool jr_skip(struct json_reader *r);
/* True if only white space is left and no error happened. */
bool jr_finished(struct json_reader *r);
bool jr_failed(const struct json_reader *r);

#endif
