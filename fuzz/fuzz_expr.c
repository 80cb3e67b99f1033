/*
 * fuzz_expr.c — the script expression evaluator (src/core/script/expr.h)
 * and the $variable expansion of command lines.
 *
 * Input: the first byte picks an output size for the expansion (1..256);
 * the rest, NUL-terminated, is both the expression and the line.
 * Properties:
 *   - expr_eval never crashes or recurses without bound; a success gives a
 *     finite value, a failure value 0 and a non-empty, terminated message;
 *   - evaluating twice gives the same result (no hidden state);
 *   - script_expand never writes past its output: on success the text is
 *     terminated within the size, and a line without '$' comes out as is.
 */
#include <math.h>

#include "core/script/expr.h"
#include "core/script/script_internal.h"
#include "core/firmware.h"
#include "fake_hal.h"
#include "fuzz_input.h"

static bool lookup(const char *name, double *value, void *arg)
{
    (void)arg;
    if (strcmp(name, "a") == 0)
        *value = 2.5;
    else if (strcmp(name, "CH1") == 0)
        *value = 1;
    else if (strcmp(name, "big") == 0)
        *value = 1e300;
    else
        return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool booted; /* the variables read the channels, sensors and clock */
    if (!booted) {
        fake_flash_blank();
        firmware_boot();
        booted = true;
    }
    if (size == 0 || size > 4096)
        return 0;
    size_t out_size = 1 + data[0];
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';

    struct expr_result r = expr_eval(text, lookup, NULL);
    if (r.ok) {
        FUZZ_CHECK(isfinite(r.value));
    } else {
        FUZZ_CHECK(r.value == 0);
        FUZZ_CHECK(r.error[0] != '\0' && memchr(r.error, '\0', sizeof r.error) != NULL);
    }
    struct expr_result again = expr_eval(text, lookup, NULL);
    FUZZ_CHECK(again.ok == r.ok && (!r.ok || again.value == r.value || (isnan(again.value) && isnan(r.value))));

    char *out = malloc(out_size);
    if (script_expand(text, out, out_size)) {
        FUZZ_CHECK(memchr(out, '\0', out_size) != NULL);
        if (!strchr(text, '$'))
            FUZZ_CHECK(strcmp(out, text) == 0);
    }
    free(out);
    free(text);
    return 0;
}
