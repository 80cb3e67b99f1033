/*
 * fuzz_template.c — template_parse() and template_write() (src/core/io/pins.h).
 *
 * The input is a template text, parsed as it is (not NUL-terminated).
 * Properties:
 *   - on failure the pins and name are untouched and an error message is set;
 *   - on success every role is < PIN_ROLE_COUNT, relay/LED/button roles have
 *     a channel 1..CHANNEL_MAX, "none" has channel 0 and the others at most
 *     63, the name is NUL-terminated;
 *   - printing the result with template_write() and parsing that again gives
 *     the same pins and name (the name as the reader returns escapes: control
 *     characters other than \n come back as '?');
 *   - the result does not depend on the size of the error buffer.
 */
#include "core/io/pins.h"
#include "core/util/json.h"
#include "fake_hal.h"
#include "fuzz_input.h"

#define SENTINEL 0xA5

struct outcome {
    bool ok;
    struct pin_setting pins[CONFIG_PINS];
    char name[CONFIG_NAME_SIZE];
};

static bool has_channel(uint8_t role)
{
    return role == PIN_REL || role == PIN_REL_N || role == PIN_LED || role == PIN_LED_N || role == PIN_BTN ||
           role == PIN_BTN_N;
}

/* Parse with an error buffer of exactly error_size bytes (ASan-checked). */
static struct outcome parse(const char *json, size_t len, size_t error_size)
{
    struct outcome out;
    memset(&out, SENTINEL, sizeof out);
    char *error = malloc(error_size);
    memset(error, SENTINEL, error_size);
    out.ok = template_parse(json, len, out.pins, out.name, error, error_size);
    FUZZ_CHECK(memchr(error, '\0', error_size) != NULL);
    if (!out.ok) {
        FUZZ_CHECK(error[0] != '\0'); /* a message is set */
        const uint8_t *bytes = (const uint8_t *)out.pins;
        for (size_t i = 0; i < sizeof out.pins; i++)
            FUZZ_CHECK(bytes[i] == SENTINEL);
        for (size_t i = 0; i < sizeof out.name; i++)
            FUZZ_CHECK((uint8_t)out.name[i] == SENTINEL);
    } else {
        FUZZ_CHECK(error[0] == '\0');
        FUZZ_CHECK(memchr(out.name, '\0', sizeof out.name) != NULL);
        for (int gpio = 0; gpio < CONFIG_PINS; gpio++) {
            struct pin_setting s = out.pins[gpio];
            FUZZ_CHECK(s.role < PIN_ROLE_COUNT);
            if (s.role == PIN_NONE)
                FUZZ_CHECK(s.channel == 0); /* "none;5" is just none */
            else if (has_channel(s.role))
                FUZZ_CHECK(s.channel >= 1 && s.channel <= CHANNEL_MAX);
            else
                FUZZ_CHECK(s.channel <= 63);
            if (gpio >= hal_pin_count())
                FUZZ_CHECK(s.role == PIN_NONE && s.channel == 0);
        }
    }
    free(error);
    return out;
}

static void print_pins(const char *what, const struct pin_setting pins[CONFIG_PINS])
{
    fprintf(stderr, "%s:", what);
    for (int gpio = 0; gpio < CONFIG_PINS; gpio++)
        if (pins[gpio].role || pins[gpio].channel)
            fprintf(stderr, " %d=%u;%u", gpio, pins[gpio].role, pins[gpio].channel);
    fprintf(stderr, "\n");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    struct outcome first = parse(json, size, 96);
    /* The smallest error buffer that can still say "failed" (one character
     * and the NUL): the verdict and the result must be the same. */
    struct outcome small = parse(json, size, 2);
    FUZZ_CHECK(small.ok == first.ok);
    if (!first.ok)
        return 0;
    FUZZ_CHECK(memcmp(&small, &first, sizeof first) == 0);

    /* Round trip through the printer, as the Template command shows it. */
    struct config config;
    memset(&config, 0, sizeof config);
    memcpy(config.pins, first.pins, sizeof config.pins);
    memcpy(config.template_name, first.name, sizeof config.template_name);
    static char text[2048];
    struct json_writer w;
    jw_init(&w, text, sizeof text);
    jw_object_begin(&w, NULL);
    template_write(&w, &config);
    jw_object_end(&w);
    FUZZ_CHECK(!w.overflow);

    struct outcome again = parse(jw_text(&w), w.len, 96);
    if (!again.ok)
        fprintf(stderr, "printed template does not parse: %s\n", jw_text(&w));
    FUZZ_CHECK(again.ok);
    if (memcmp(again.pins, first.pins, sizeof first.pins) != 0) {
        print_pins("parsed ", first.pins);
        print_pins("printed", again.pins);
        fprintf(stderr, "printed as: %s\n", jw_text(&w));
    }
    FUZZ_CHECK(memcmp(again.pins, first.pins, sizeof first.pins) == 0);

    char expected_name[CONFIG_NAME_SIZE];
    for (size_t i = 0; i < sizeof expected_name; i++) {
        unsigned char c = (unsigned char)first.name[i];
        expected_name[i] = (c && c < 0x20 && c != '\n') ? '?' : (char)c;
        if (!c)
            break;
    }
    FUZZ_CHECK(strcmp(again.name, expected_name) == 0);
    return 0;
}
