/*
 * fuzz_template.c — template_parse() and template_write_parsed()
 * (src/core/io/template.h).
 *
 * The input is a template text, parsed as it is (not NUL-terminated), with
 * and without TEMPLATE_ALLOW_EMPTY.  Properties:
 *   - on failure an error message is set and the result is all zero;
 *   - on success every role is < PIN_ROLE_COUNT, channels are 0..63, "none"
 *     has channel 0, pins_check() holds, the name, command and kept members
 *     are NUL-terminated and within their limits, the kept members are
 *     valid JSON members ({ + them + } parses);
 *   - the result does not depend on the size of the error buffer, and
 *     TEMPLATE_ALLOW_EMPTY changes only the verdict on an empty pin map;
 *   - printing the result and parsing that gives the same pins, command
 *     presence and kept members, and printing that again gives the same
 *     text (import → export → import is stable; a name or key with control
 *     characters other than \n settles after one round, as the reader
 *     turns them into '?').
 */
#include "core/io/pins.h"
#include "core/io/template.h"
#include "core/util/json.h"
#include "fake_hal.h"
#include "fuzz_input.h"

static struct template first, small, again, third;
static char text1[8192], text2[8192];

static bool parse(const char *json, size_t len, unsigned flags, struct template *out, size_t error_size)
{
    char *error = malloc(error_size);
    memset(error, 0xA5, error_size);
    bool ok = template_parse(json, len, flags, out, error, error_size);
    FUZZ_CHECK(memchr(error, '\0', error_size) != NULL);
    if (!ok) {
        FUZZ_CHECK(error_size < 2 || error[0] != '\0');
        const uint8_t *bytes = (const uint8_t *)out;
        for (size_t i = 0; i < sizeof *out; i++)
            FUZZ_CHECK(bytes[i] == 0);
    } else {
        FUZZ_CHECK(error[0] == '\0');
    }
    free(error);
    return ok;
}

static void check_valid(const struct template *t)
{
    char error[160];
    FUZZ_CHECK(memchr(t->name, '\0', sizeof t->name) != NULL);
    FUZZ_CHECK(memchr(t->command, '\0', sizeof t->command) != NULL);
    FUZZ_CHECK(t->extra_len <= TEMPLATE_EXTRA_MAX && strlen(t->extra) == t->extra_len);
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++) {
        struct pin_setting s = t->pins[gpio];
        FUZZ_CHECK(s.role < PIN_ROLE_COUNT && s.channel <= 63);
        if (s.role == PIN_NONE)
            FUZZ_CHECK(s.channel == 0);
        if (gpio >= hal_pin_count())
            FUZZ_CHECK(s.role == PIN_NONE);
    }
    FUZZ_CHECK(pins_check(t->pins, error, sizeof error));
    static char wrapped[TEMPLATE_EXTRA_MAX + 3];
    snprintf(wrapped, sizeof wrapped, "{%s}", t->extra);
    struct json_reader r;
    jr_init(&r, wrapped, strlen(wrapped));
    FUZZ_CHECK(jr_skip(&r) && jr_finished(&r));
}

static size_t print(const struct template *t, char *out, size_t size)
{
    struct json_writer w;
    jw_init(&w, out, size);
    jw_object_begin(&w, NULL);
    template_write_parsed(&w, t);
    jw_object_end(&w);
    FUZZ_CHECK(!w.overflow);
    return w.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    bool ok = parse(json, size, 0, &first, 160);
    bool ok_small = parse(json, size, 0, &small, 2);
    FUZZ_CHECK(ok_small == ok);
    FUZZ_CHECK(memcmp(&small, &first, sizeof first) == 0);
    bool ok_empty = parse(json, size, TEMPLATE_ALLOW_EMPTY, &small, 160);
    FUZZ_CHECK(ok_empty || !ok);
    if (!ok)
        return 0;
    FUZZ_CHECK(memcmp(&small, &first, sizeof first) == 0);
    check_valid(&first);

    size_t n1 = print(&first, text1, sizeof text1);
    if (!parse(text1, n1, 0, &again, 160))
        fprintf(stderr, "printed template does not parse: %s\n", text1);
    FUZZ_CHECK(memcmp(again.pins, first.pins, sizeof first.pins) == 0);
    FUZZ_CHECK(again.has_command == first.has_command);
    size_t n2 = print(&again, text2, sizeof text2);
    FUZZ_CHECK(parse(text2, n2, 0, &third, 160));
    size_t n3 = print(&third, text1, sizeof text1);
    FUZZ_CHECK(n3 == n2 && memcmp(text1, text2, n2) == 0);
    return 0;
}
