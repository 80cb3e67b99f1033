/*
 * ota_image.h — the BL602 OTA image header (512 bytes before the body),
 * parsed and checked; OpenPlug's signature rides in its reserved area.
 *
 *   0   16  "BL60X_OTA_Ver1.0"
 *   16   4  body type: "RAW " or "XZ  "
 *   20   4  body length, u32 little endian
 *   24   8  padding
 *   32  16  hardware version string (NUL padded): the plug refuses others
 *   48  16  software version string
 *   64  32  SHA-256 of the body
 *   96   4  "EC25" when signed, else 0xFF (the BL602 reserved fill)
 *   100 64  ECDSA P-256 signature r || s (big endian) of SHA-256(bytes 0..95):
 *           it covers the type, length, both strings and the body digest
 *   164 ..  0xFF up to 512
 *
 * The parser takes bytes from the network: every field is checked and a
 * refusal says which one.  It never looks past the 512 bytes.
 */
#ifndef OPENPLUG_OTA_IMAGE_H
#define OPENPLUG_OTA_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTA_HEADER_SIZE 512
#define OTA_MAGIC "BL60X_OTA_Ver1.0"
#define OTA_STRING_SIZE 16
#define OTA_SIGNED_BYTES 96 /* the header bytes the signature covers */
#define OTA_SIGNATURE_MARK "EC25"
#define OTA_SIGNATURE_OFFSET 100
#define OTA_SIGNATURE_SIZE 64

/* The hardware string this firmware accepts (set by the build). */
#ifndef OPENPLUG_OTA_HARDWARE
#define OPENPLUG_OTA_HARDWARE "OpenPlug-BL602"
#endif

enum ota_body_type { OTA_BODY_RAW = 0, OTA_BODY_XZ = 1 };

struct ota_header {
    enum ota_body_type type;
    uint32_t body_len;
    char hardware[OTA_STRING_SIZE + 1];
    char version[OTA_STRING_SIZE + 1];
    uint8_t body_sha256[32];
    bool is_signed;
    uint8_t signature[OTA_SIGNATURE_SIZE];
    uint8_t signed_sha256[32]; /* SHA-256 of the first OTA_SIGNED_BYTES */
};

/* Parse and check the form of a header (not what depends on the plug:
 * see ota_header_check()).  On failure writes a message and returns false. */
bool ota_header_parse(const uint8_t raw[OTA_HEADER_SIZE], struct ota_header *out, char *error, size_t error_size);

/* Checks against this plug: hardware string, body size against the slot. */
bool ota_header_check(const struct ota_header *header, uint32_t slot_size, char *error, size_t error_size);

/* Build a header (mkota and tests): fields as given, no signature. */
void ota_header_build(uint8_t raw[OTA_HEADER_SIZE], enum ota_body_type type, uint32_t body_len,
                      const char *hardware, const char *version, const uint8_t body_sha256[32]);

/* Put a signature (r || s) into a built header. */
void ota_header_sign(uint8_t raw[OTA_HEADER_SIZE], const uint8_t signature[OTA_SIGNATURE_SIZE]);

#endif
