/*
 * charclass.h — one table of character classes for the text the plug reads
 * and writes byte by byte (JSON strings, HTTP heads): a lookup per byte
 * instead of a chain of comparisons, one 256-byte table for all of them.
 */
#ifndef OPENPLUG_CHARCLASS_H
#define OPENPLUG_CHARCLASS_H

#include <stdint.h>

enum char_class_bit {
    CHAR_JSON_PLAIN = 1 << 0, /* stands in a JSON string as it is: not a control character, '"' or '\\' */
    CHAR_TOKEN = 1 << 1,      /* an HTTP token's character (RFC 9110 5.6.2): methods, header names */
    CHAR_VALUE = 1 << 2,      /* a visible character of an HTTP field value (not a blank) */
    CHAR_BLANK = 1 << 3,      /* space or tab: allowed in a field value, trimmed at its ends */
};

extern const uint8_t char_class[256];

#endif
