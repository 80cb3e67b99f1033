/* test_json.c — the bounded JSON writer and the in-place reader. */
#include "core/util/charclass.h"
#include "core/util/json.h"
#include "harness.h"

static void test_writer_nests_and_escapes(void)
{
    char buf[128];
    struct json_writer w;
    jw_init(&w, buf, sizeof buf);
    jw_object_begin(&w, NULL);
    jw_string(&w, "a\"b", "line\nbreak\\ \x01");
    jw_int(&w, "n", -42);
    jw_fixed(&w, "kWh", 12345, 3);
    jw_fixed(&w, "neg", -5, 2);
    jw_array_begin(&w, "list");
    jw_bool(&w, NULL, true);
    jw_bool(&w, NULL, false);
    jw_array_end(&w);
    jw_object_end(&w);
    CHECK(!w.overflow);
    CHECK_STR(jw_text(&w), "{\"a\\\"b\":\"line\\nbreak\\\\ \\u0001\",\"n\":-42,\"kWh\":12.345,\"neg\":-0.05,"
                           "\"list\":[true,false]}");
}

static void test_writer_never_overruns(void)
{
    char buf[16];
    struct json_writer w;
    jw_init(&w, buf, sizeof buf);
    jw_object_begin(&w, NULL);
    jw_string(&w, "key", "a value longer than the buffer");
    jw_object_end(&w);
    CHECK(w.overflow);
    CHECK(strlen(jw_text(&w)) < sizeof buf);

    /* No room at all (a caller's buffer used up exactly) is an overflow too:
     * the caller must not take the empty text for the value written. */
    jw_init(&w, buf, 0);
    jw_string(&w, NULL, "x");
    CHECK(w.overflow);
    CHECK(w.len == 0);
}

/* A value that turns out to be one of several becomes an array's first
 * item, in place; with no room for the bracket it is an overflow. */
static void test_writer_wraps_a_value_in_an_array(void)
{
    char buf[64];
    struct json_writer w;
    jw_init(&w, buf, sizeof buf);
    jw_object_begin(&w, NULL);
    jw_int(&w, "a", 1);
    jw_raw(&w, "b", "{\"x\":2}");
    size_t at = w.len - strlen("{\"x\":2}");
    jw_wrap_in_array(&w, at);
    jw_raw(&w, NULL, "{\"y\":3}");
    jw_array_end(&w);
    jw_bool(&w, "c", true);
    jw_object_end(&w);
    CHECK(!w.overflow);
    CHECK_STR(jw_text(&w), "{\"a\":1,\"b\":[{\"x\":2},{\"y\":3}],\"c\":true}");

    char small[8];
    jw_init(&w, small, sizeof small);
    jw_raw(&w, NULL, "[1,222]");
    jw_wrap_in_array(&w, 0);
    CHECK(w.overflow);
    CHECK_STR(jw_text(&w), "[1,222]");
}

static void test_reader_walks_an_object(void)
{
    const char *text = " { \"name\" : \"x\\u0041\\n\", \"skip\": [1, -2.5e3, {\"a\":null}, true], \"pins\": {} } ";
    struct json_reader r;
    char key[16], value[16];
    jr_init(&r, text, strlen(text));
    CHECK(jr_object_begin(&r));
    CHECK(jr_object_next(&r, key, sizeof key));
    CHECK_STR(key, "name");
    CHECK(jr_string(&r, value, sizeof value));
    CHECK_STR(value, "xA\n");
    CHECK(jr_object_next(&r, key, sizeof key));
    CHECK_STR(key, "skip");
    CHECK(jr_skip(&r));
    CHECK(jr_object_next(&r, key, sizeof key));
    CHECK_STR(key, "pins");
    CHECK(jr_object_begin(&r));
    CHECK(!jr_object_next(&r, key, sizeof key));
    CHECK(!jr_object_next(&r, key, sizeof key));
    CHECK(jr_finished(&r));
}

/* Each malformed text must fail, with a message, without reading past it. */
static void test_reader_rejects_malformed(void)
{
    static const char *const bad[] = {
        "{\"a\":1,}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{\"a\":[1,2}", "{\"a\":\"unterminated}",
        "{\"a\":tru}", "{\"a\":-}", "{\"a\":\"\\x\"}", "{\"a\":{} \"b\":1}", "{,\"a\":1}", "{\"a\":1}}",
        "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]",
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct json_reader r;
        char key[16];
        jr_init(&r, bad[i], strlen(bad[i]));
        if (jr_peek(&r) == JSON_OBJECT && jr_object_begin(&r))
            while (jr_object_next(&r, key, sizeof key) && jr_skip(&r)) {
            }
        else
            jr_skip(&r);
        bool ok = jr_finished(&r);
        if (ok)
            printf("  accepted: %s\n", bad[i]);
        CHECK(!ok);
    }
}

static void test_reader_string_bounds(void)
{
    struct json_reader r;
    char small[4];
    jr_init(&r, "\"toolong\"", 9);
    CHECK(!jr_string(&r, small, sizeof small));
    CHECK(jr_failed(&r));
    CHECK_CONTAINS(r.error, "too long");
}

/* The character classes' table against their definitions, byte by byte. */
static void test_char_classes_match_their_definitions(void)
{
    for (int c = 0; c < 256; c++) {
        bool plain = c >= 0x20 && c != '"' && c != '\\';
        bool token = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     (c && strchr("!#$%&'*+-.^_`|~", c));
        bool blank = c == ' ' || c == '\t';
        bool value = c > ' ' && c != 0x7F;
        CHECK_EQ(!!(char_class[c] & CHAR_JSON_PLAIN), plain);
        CHECK_EQ(!!(char_class[c] & CHAR_TOKEN), token);
        CHECK_EQ(!!(char_class[c] & CHAR_BLANK), blank);
        CHECK_EQ(!!(char_class[c] & CHAR_VALUE), value);
    }
}

int main(void)
{
    RUN(test_writer_nests_and_escapes);
    RUN(test_writer_never_overruns);
    RUN(test_writer_wraps_a_value_in_an_array);
    RUN(test_reader_walks_an_object);
    RUN(test_reader_rejects_malformed);
    RUN(test_reader_string_bounds);
    RUN(test_char_classes_match_their_definitions);
    return harness_report();
}
