/*
 * fuzz_json.c — the JSON reader and writer of src/core/util/json.h.
 *
 * Reader: the input is a JSON text (not NUL-terminated: libFuzzer's buffer
 * has exactly `size` bytes, so ASan catches any read past the end).  It is
 * walked three ways: jr_skip() over the whole value; a walk that descends
 * into every object and reads every key and string into buffers large
 * enough for anything; and one with tiny buffers that skips some members.
 * Properties: no crash or overread, the reader's position stays in the
 * text, keys and strings come out NUL-terminated within their buffers, an
 * error sticks, and the descending walk accepts exactly the texts jr_skip()
 * accepts (the tiny-buffer walk a subset of them).
 *
 * Writer: the same bytes are read as a script of writer calls (objects,
 * arrays, strings with random keys and values, numbers, raw JSON) into a
 * buffer of random capacity 0..2048, allocated to the byte.  Properties:
 * the text is always NUL-terminated inside the buffer, and when nothing
 * overflowed it is valid JSON whose keys and strings read back as written.
 */
#include <inttypes.h>

#include "core/util/json.h"
#include "fuzz_input.h"

/* ---- Reader ---- */

#define READER_MAX_DEPTH 17 /* JR_MAX_DEPTH, plus the level that failed */

struct walk {
    const char *text;
    size_t len;
    bool tiny;      /* small key/string buffers, skip every third member */
    unsigned turn;  /* picks the next buffer size / skip */
    char *big;      /* len + 1 bytes: any key or string fits */
    char *small[6]; /* exactly small_size[i] bytes each */
    /* Keys and strings met, in order, for the writer's round trip. */
    void (*visit)(char kind, const char *text, void *arg);
    void *arg;
};

static const size_t small_size[6] = {1, 2, 3, 5, 8, 33};

static void reader_sane(const struct walk *w, const struct json_reader *r)
{
    FUZZ_CHECK(r->start == w->text && r->end == w->text + w->len);
    FUZZ_CHECK(r->pos >= r->start && r->pos <= r->end);
    FUZZ_CHECK(memchr(r->error, '\0', sizeof r->error) != NULL);
    FUZZ_CHECK(r->depth <= READER_MAX_DEPTH);
    if (jr_failed(r))
        FUZZ_CHECK(jr_peek((struct json_reader *)r) == JSON_NONE);
}

/* A buffer for the next key or string, and its size. */
static char *next_buffer(struct walk *w, size_t *size)
{
    if (!w->tiny) {
        *size = w->len + 1;
        return w->big;
    }
    unsigned i = w->turn++ % 6;
    *size = small_size[i];
    return w->small[i];
}

static void check_cstring(const char *s, size_t size)
{
    const char *nul = memchr(s, '\0', size);
    FUZZ_CHECK(nul != NULL);
    size_t n = (size_t)(nul - s);
    /* A raw control character in a string is refused; escapes give only these. */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        FUZZ_CHECK(c >= 0x20 || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t');
    }
}

static bool walk_value(struct walk *w, struct json_reader *r)
{
    bool ok;
    reader_sane(w, r);
    switch (jr_peek(r)) {
    case JSON_OBJECT:
        if (!jr_object_begin(r)) {
            ok = false;
            break;
        }
        for (;;) {
            size_t size;
            char *key = next_buffer(w, &size);
            if (!jr_object_next(r, key, size))
                break;
            check_cstring(key, size);
            if (w->visit)
                w->visit('K', key, w->arg);
            if (w->tiny && w->turn++ % 3 == 0)
                jr_skip(r);
            else
                walk_value(w, r);
            reader_sane(w, r);
            if (jr_failed(r))
                break;
        }
        ok = !jr_failed(r);
        break;
    case JSON_STRING: {
        size_t size;
        char *s = next_buffer(w, &size);
        ok = jr_string(r, s, size);
        if (ok) {
            check_cstring(s, size);
            if (w->visit)
                w->visit('S', s, w->arg);
        }
        break;
    }
    default: /* arrays (the reader has no walk into them), numbers, literals, garbage */
        ok = jr_skip(r);
        break;
    }
    reader_sane(w, r);
    FUZZ_CHECK(ok == !jr_failed(r));
    return ok;
}

/* Walks the text; returns true if it is one whole valid JSON value. */
static bool walk_text(struct walk *w)
{
    struct json_reader r;
    jr_init(&r, w->text, w->len);
    bool ok = walk_value(w, &r);
    bool finished = jr_finished(&r);
    reader_sane(w, &r);
    if (!ok)
        FUZZ_CHECK(!finished && jr_failed(&r) && r.error[0]);
    /* An error sticks. */
    if (jr_failed(&r)) {
        char key[4];
        FUZZ_CHECK(!jr_object_begin(&r) && !jr_object_next(&r, key, sizeof key) && !jr_string(&r, key, sizeof key));
        FUZZ_CHECK(!jr_finished(&r));
    }
    return ok && finished;
}

static bool skip_text(const char *text, size_t len)
{
    struct json_reader r;
    jr_init(&r, text, len);
    bool ok = jr_skip(&r);
    FUZZ_CHECK(r.pos >= r.start && r.pos <= r.end && r.depth <= READER_MAX_DEPTH);
    FUZZ_CHECK(ok == !jr_failed(&r));
    return ok && jr_finished(&r);
}

static void fuzz_reader(const char *text, size_t len)
{
    struct walk w = {.text = text, .len = len};
    w.big = malloc(len + 1);
    for (int i = 0; i < 6; i++)
        w.small[i] = malloc(small_size[i]);

    bool by_skip = skip_text(text, len);
    bool by_walk = walk_text(&w);
    FUZZ_CHECK(by_walk == by_skip);
    w.tiny = true;
    bool by_tiny = walk_text(&w);
    FUZZ_CHECK(!by_tiny || by_skip);

    free(w.big);
    for (int i = 0; i < 6; i++)
        free(w.small[i]);
}

/* ---- Writer ---- */

#define MAX_EVENTS 512
#define MAX_TEXT 48

/* What a reader must meet, in order: 'K' keys and 'S' string values of
 * every item whose containers are all objects. */
struct expected {
    unsigned count, next;
    char kind[MAX_EVENTS];
    char text[MAX_EVENTS][MAX_TEXT + 1];
    bool mismatch;
};

static void expect(struct expected *e, char kind, const char *text)
{
    if (e->count == MAX_EVENTS)
        return;
    e->kind[e->count] = kind;
    /* How the reader gives it back: \n survives, other control characters
     * are written as \u00XX, which the reader turns into '?'. */
    size_t n = strlen(text);
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)text[i];
        e->text[e->count][i] = (c && c < 0x20 && c != '\n') ? '?' : (char)c;
    }
    e->count++;
}

static void on_visit(char kind, const char *text, void *arg)
{
    struct expected *e = arg;
    if (e->next >= e->count || e->kind[e->next] != kind || strcmp(e->text[e->next], text) != 0) {
        fprintf(stderr, "read back %c \"%s\", expected #%u %c \"%s\"\n", kind, text, e->next,
                e->next < e->count ? e->kind[e->next] : '-', e->next < e->count ? e->text[e->next] : "");
        e->mismatch = true;
    }
    e->next++;
}

static void writer_sane(struct json_writer *w, size_t cap)
{
    const char *text = jw_text(w);
    FUZZ_CHECK(text != NULL);
    if (cap == 0) {
        FUZZ_CHECK(text[0] == '\0' && w->len == 0);
        return;
    }
    FUZZ_CHECK(text == w->buf);
    FUZZ_CHECK(w->len < cap);
    FUZZ_CHECK(text[w->len] == '\0');
    FUZZ_CHECK(strlen(text) == w->len);
    FUZZ_CHECK(w->depth <= JSON_MAX_DEPTH);
}

/* jw_fixed on its own: sign, digits and point where they belong. */
static void check_fixed(int64_t value, unsigned decimals)
{
    char buf[64], expected[32];
    struct json_writer w;
    jw_init(&w, buf, sizeof buf);
    jw_fixed(&w, NULL, value, decimals);
    FUZZ_CHECK(!w.overflow);
    uint64_t magnitude = value < 0 ? 0u - (uint64_t)value : (uint64_t)value;
    snprintf(expected, sizeof expected, "%s%0*" PRIu64, value < 0 ? "-" : "", (int)decimals + 1, magnitude);
    const char *text = jw_text(&w);
    if (decimals == 0) {
        FUZZ_CHECK(strcmp(text, expected) == 0);
        return;
    }
    /* The same digits with a point before the last `decimals` of them. */
    size_t n = strlen(text);
    FUZZ_CHECK(n == strlen(expected) + 1 && text[n - decimals - 1] == '.');
    FUZZ_CHECK(memcmp(text, expected, n - decimals - 1) == 0);
    FUZZ_CHECK(strcmp(text + n - decimals, expected + n - decimals - 1) == 0);
}

static const char *const raw_snippets[] = {"null", "false", "0", "-1.5e+3", "[]", "[1,[2],{\"k\":null}]", "{}",
                                           "\"raw\""};

static void fuzz_writer(const uint8_t *data, size_t size)
{
    struct fuzz_in in = fuzz_in(data, size);
    uint8_t c = fuzz_u8(&in);
    size_t cap = c < 200 ? c : c < 250 ? 256 : 2048;
    char *buf = cap ? malloc(cap) : NULL; /* to the byte: ASan sees any overrun */
    static struct expected e;
    memset(&e, 0, sizeof e);

    struct json_writer w;
    jw_init(&w, buf, cap);
    /* Our own stack of open containers: 'o' object, 'a' array.  It may go
     * deeper than the writer allows, to exercise its overflow. */
    char stack[JSON_MAX_DEPTH + 4];
    unsigned depth = 0, in_array = 0; /* in_array: open arrays on the stack */
    jw_object_begin(&w, NULL);
    stack[depth++] = 'o';
    writer_sane(&w, cap);

    for (unsigned ops = 0; fuzz_left(&in) && ops < 256; ops++) {
        char key_buf[MAX_TEXT + 1], value_buf[MAX_TEXT + 1];
        uint8_t op = fuzz_u8(&in) % 8;
        if (op == 2) { /* close the innermost container, never the top one */
            if (depth > 1) {
                if (stack[--depth] == 'o') {
                    jw_object_end(&w);
                } else {
                    jw_array_end(&w);
                    in_array--;
                }
            }
            writer_sane(&w, cap);
            continue;
        }
        if (op <= 1 && depth == sizeof stack)
            continue;
        /* A new item: keyed inside an object, bare inside an array. */
        const char *key = stack[depth - 1] == 'o' ? fuzz_cstr(&in, key_buf, MAX_TEXT) : NULL;
        bool visible = in_array == 0; /* the reader walks objects only */
        if (key && visible)
            expect(&e, 'K', key);
        switch (op) {
        case 0:
            jw_object_begin(&w, key);
            stack[depth++] = 'o';
            break;
        case 1:
            jw_array_begin(&w, key);
            stack[depth++] = 'a';
            in_array++;
            break;
        case 3:
            fuzz_cstr(&in, value_buf, MAX_TEXT);
            jw_string(&w, key, value_buf);
            if (visible)
                expect(&e, 'S', value_buf);
            break;
        case 4: {
            int64_t value = (int64_t)fuzz_u64(&in);
            jw_int(&w, key, value);
            check_fixed(value, 0);
            break;
        }
        case 5:
            jw_bool(&w, key, fuzz_u8(&in) & 1);
            break;
        case 6: {
            int64_t value = (int64_t)fuzz_u64(&in);
            unsigned decimals = fuzz_u8(&in) % 20; /* 10^19 still fits in 64 bits */
            jw_fixed(&w, key, value, decimals);
            check_fixed(value, decimals);
            break;
        }
        case 7: {
            const char *raw = raw_snippets[fuzz_u8(&in) % (sizeof raw_snippets / sizeof raw_snippets[0])];
            jw_raw(&w, key, raw);
            if (visible && raw[0] == '"')
                expect(&e, 'S', "raw");
            break;
        }
        }
        writer_sane(&w, cap);
    }
    while (depth) {
        if (stack[--depth] == 'o')
            jw_object_end(&w);
        else
            jw_array_end(&w);
        writer_sane(&w, cap);
    }

    if (cap && !w.overflow) {
        /* Whole: valid JSON, and the keys and strings read back as written. */
        const char *text = jw_text(&w);
        FUZZ_CHECK(w.depth == 0);
        if (!skip_text(text, w.len)) {
            fprintf(stderr, "writer produced invalid JSON: %s\n", text);
            FUZZ_CHECK(!"writer output is valid JSON");
        }
        struct walk rw = {.text = text, .len = w.len, .visit = on_visit, .arg = &e};
        rw.big = malloc(w.len + 1);
        FUZZ_CHECK(walk_text(&rw));
        free(rw.big);
        if (e.count < MAX_EVENTS) {
            if (e.next != e.count)
                fprintf(stderr, "read back %u keys/strings, expected %u\n", e.next, e.count);
            FUZZ_CHECK(!e.mismatch && e.next == e.count);
        }
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader((const char *)data, size);
    fuzz_writer(data, size);
    return 0;
}
