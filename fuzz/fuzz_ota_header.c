/*
 * fuzz_ota_header.c — the OTA image header parser and the partition table
 * parser (src/core/ota/ota_image.h, ptable.h): both read bytes from outside
 * (the network; a flash image).
 *
 * The input's first 512 bytes (0xFF-padded when shorter) are a header; the
 * rest is one partition table copy.  Properties:
 *   - a refused header gives a message; an accepted one has a known body
 *     type, a non-zero length, printable NUL-terminated strings, and
 *     building a header from its fields (and signature) gives back exactly
 *     the bytes the parser reads (the first 164), so nothing is ignored that
 *     the signature covers;
 *   - ota_header_check() refuses a body larger than the slot and any other
 *     hardware string, with a message;
 *   - an accepted table has 1..16 entries, and serializing and parsing it
 *     again gives the same table.
 */
#include <string.h>

#include "core/ota/ota_image.h"
#include "core/ota/ptable.h"
#include "fuzz_input.h"

static void check_string(const char *text)
{
    size_t len = strlen(text);
    FUZZ_CHECK(len >= 1 && len <= OTA_STRING_SIZE);
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(text[i] >= 0x20 && text[i] < 0x7F);
}

static void fuzz_header(const uint8_t raw[OTA_HEADER_SIZE])
{
    struct ota_header h;
    char error[96] = "";
    if (!ota_header_parse(raw, &h, error, sizeof error)) {
        FUZZ_CHECK(error[0] != '\0');
        return;
    }
    FUZZ_CHECK(h.type == OTA_BODY_RAW || h.type == OTA_BODY_XZ);
    FUZZ_CHECK(h.body_len > 0);
    check_string(h.hardware);
    check_string(h.version);
    uint8_t rebuilt[OTA_HEADER_SIZE];
    ota_header_build(rebuilt, h.type, h.body_len, h.hardware, h.version, h.body_sha256);
    if (h.is_signed)
        ota_header_sign(rebuilt, h.signature);
    /* Strings may be padded with 0xFF instead of NUL: compare what matters. */
    FUZZ_CHECK(memcmp(rebuilt, raw, 24) == 0);
    FUZZ_CHECK(memcmp(rebuilt + 64, raw + 64, 32) == 0);
    FUZZ_CHECK(!h.is_signed || memcmp(rebuilt + 96, raw + 96, 4 + OTA_SIGNATURE_SIZE) == 0);
    struct ota_header again;
    FUZZ_CHECK(ota_header_parse(rebuilt, &again, error, sizeof error));
    FUZZ_CHECK(strcmp(again.hardware, h.hardware) == 0 && strcmp(again.version, h.version) == 0);
    FUZZ_CHECK(again.body_len == h.body_len && again.type == h.type && again.is_signed == h.is_signed);

    bool fits = ota_header_check(&h, h.body_len, error, sizeof error);
    FUZZ_CHECK(fits == (strcmp(h.hardware, OPENPLUG_OTA_HARDWARE) == 0));
    FUZZ_CHECK(!ota_header_check(&h, h.body_len - 1, error, sizeof error) && error[0]);
}

static void fuzz_table(const uint8_t *data, size_t size)
{
    struct ptable table, again;
    if (!ptable_parse(data, size, &table))
        return;
    FUZZ_CHECK(table.count >= 1 && table.count <= PTABLE_MAX_ENTRIES);
    uint8_t bytes[PTABLE_MAX_BYTES];
    size_t len = ptable_serialize(&table, bytes);
    FUZZ_CHECK(len <= size && memcmp(bytes, data, len) == 0);
    FUZZ_CHECK(ptable_parse(bytes, len, &again));
    FUZZ_CHECK(memcmp(&again, &table, sizeof table) == 0);
    struct ptable picked;
    FUZZ_CHECK(ptable_pick(NULL, bytes, len, &picked) == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t raw[OTA_HEADER_SIZE];
    memset(raw, 0xFF, sizeof raw);
    memcpy(raw, data, size < sizeof raw ? size : sizeof raw);
    fuzz_header(raw);
    if (size > OTA_HEADER_SIZE)
        fuzz_table(data + OTA_HEADER_SIZE, size - OTA_HEADER_SIZE);
    return 0;
}
