/* charclass.c — the character classes' table; see charclass.h. */
#include "charclass.h"

#define P CHAR_JSON_PLAIN
#define T CHAR_TOKEN
#define V CHAR_VALUE
#define B CHAR_BLANK

/* clang-format off */
const uint8_t char_class[256] = {
    ['\t'] = B,
    [' '] = P | B,
    ['!'] = P | T | V,
    ['"'] = V,
    ['#' ... '\''] = P | T | V,
    ['(' ... ')'] = P | V,
    ['*' ... '+'] = P | T | V,
    [','] = P | V,
    ['-' ... '.'] = P | T | V,
    ['/'] = P | V,
    ['0' ... '9'] = P | T | V,
    [':' ... '@'] = P | V,
    ['A' ... 'Z'] = P | T | V,
    ['['] = P | V,
    ['\\'] = V,
    [']'] = P | V,
    ['^' ... '`'] = P | T | V,
    ['a' ... 'z'] = P | T | V,
    ['{'] = P | V,
    ['|'] = P | T | V,
    ['}'] = P | V,
    ['~'] = P | T | V,
    [0x7F] = P,            /* DEL: JSON takes it, an HTTP field does not */
    [0x80 ... 0xFF] = P | V, /* UTF-8 and obs-text */
};
/* clang-format on */
