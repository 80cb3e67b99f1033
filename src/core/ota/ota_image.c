/* ota_image.c — the BL602 OTA header; see ota_image.h. */
#include "ota_image.h"

#include <stdio.h>
#include <string.h>

#include "core/util/le.h"
#include "core/util/sha256.h"

static bool all_bytes(const uint8_t *p, size_t len, uint8_t value)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != value)
            return false;
    return true;
}

/* A version string: printable ASCII, then NUL (or 0xFF) padding only. */
static bool take_string(const uint8_t *field, char out[OTA_STRING_SIZE + 1])
{
    size_t len = 0;
    while (len < OTA_STRING_SIZE && field[len] >= 0x20 && field[len] < 0x7F)
        len++;
    for (size_t i = len; i < OTA_STRING_SIZE; i++)
        if (field[i] != 0 && field[i] != 0xFF)
            return false;
    memcpy(out, field, len);
    out[len] = '\0';
    return len > 0;
}

bool ota_header_parse(const uint8_t raw[OTA_HEADER_SIZE], struct ota_header *out, char *error, size_t error_size)
{
    memset(out, 0, sizeof *out);
    if (memcmp(raw, OTA_MAGIC, 16) != 0) {
        snprintf(error, error_size, "not an OTA image (no %s header)", OTA_MAGIC);
        return false;
    }
    if (memcmp(raw + 16, "RAW ", 4) == 0)
        out->type = OTA_BODY_RAW;
    else if (memcmp(raw + 16, "XZ  ", 4) == 0)
        out->type = OTA_BODY_XZ;
    else {
        snprintf(error, error_size, "unknown body type (neither RAW nor XZ)");
        return false;
    }
    out->body_len = le32_get(raw + 20);
    if (out->body_len == 0) {
        snprintf(error, error_size, "the header gives an empty body");
        return false;
    }
    if (!take_string(raw + 32, out->hardware) || !take_string(raw + 48, out->version)) {
        snprintf(error, error_size, "bad hardware or version string in the header");
        return false;
    }
    memcpy(out->body_sha256, raw + 64, 32);
    if (memcmp(raw + 96, OTA_SIGNATURE_MARK, 4) == 0) {
        out->is_signed = true;
        memcpy(out->signature, raw + OTA_SIGNATURE_OFFSET, OTA_SIGNATURE_SIZE);
    } else if (!all_bytes(raw + 96, 4 + OTA_SIGNATURE_SIZE, 0xFF)) {
        snprintf(error, error_size, "unknown data in the header's signature area");
        return false;
    }
    sha256(raw, OTA_SIGNED_BYTES, out->signed_sha256);
    return true;
}

bool ota_header_check(const struct ota_header *header, uint32_t slot_size, char *error, size_t error_size)
{
    if (strcmp(header->hardware, OPENPLUG_OTA_HARDWARE) != 0) {
        snprintf(error, error_size, "image is for hardware '%s', this plug is '%s'", header->hardware,
                 OPENPLUG_OTA_HARDWARE);
        return false;
    }
    if (header->body_len > slot_size) {
        snprintf(error, error_size, "image body of %lu bytes does not fit the %lu-byte slot",
                 (unsigned long)header->body_len, (unsigned long)slot_size);
        return false;
    }
    return true;
}

static void put_string(uint8_t *field, const char *text)
{
    memset(field, 0, OTA_STRING_SIZE);
    size_t len = strlen(text);
    memcpy(field, text, len < OTA_STRING_SIZE ? len : OTA_STRING_SIZE);
}

void ota_header_build(uint8_t raw[OTA_HEADER_SIZE], enum ota_body_type type, uint32_t body_len,
                      const char *hardware, const char *version, const uint8_t body_sha256[32])
{
    memset(raw, 0xFF, OTA_HEADER_SIZE);
    memcpy(raw, OTA_MAGIC, 16);
    memcpy(raw + 16, type == OTA_BODY_XZ ? "XZ  " : "RAW ", 4);
    le32_put(raw + 20, body_len);
    memset(raw + 24, 0, 8);
    put_string(raw + 32, hardware);
    put_string(raw + 48, version);
    memcpy(raw + 64, body_sha256, 32);
}

void ota_header_sign(uint8_t raw[OTA_HEADER_SIZE], const uint8_t signature[OTA_SIGNATURE_SIZE])
{
    memcpy(raw + 96, OTA_SIGNATURE_MARK, 4);
    memcpy(raw + OTA_SIGNATURE_OFFSET, signature, OTA_SIGNATURE_SIZE);
}
