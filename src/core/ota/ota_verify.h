/*
 * ota_verify.h — the one cryptographic check of an update: an ECDSA P-256
 * signature over a SHA-256 digest, against an uncompressed public key
 * (0x04 || X || Y, 65 bytes).
 *
 * Implemented with mbedTLS in ota_verify_mbedtls.c.  The RV32 core build
 * (make size, unit tests on QEMU) has no mbedTLS for picolibc, so it links
 * ota_verify_none.c instead, which refuses every signature: a plug built
 * that way and given a key accepts no update rather than an unchecked one.
 * The BL602 port links the SDK's mbedTLS with ota_verify_mbedtls.c.
 */
#ifndef OPENPLUG_OTA_VERIFY_H
#define OPENPLUG_OTA_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#define OTA_PUBLIC_KEY_SIZE 65

/* True when the key is a point on P-256. */
bool ota_key_valid(const uint8_t key[OTA_PUBLIC_KEY_SIZE]);

/* True when signature (r || s, 32 bytes each, big endian) signs digest. */
bool ota_signature_valid(const uint8_t key[OTA_PUBLIC_KEY_SIZE], const uint8_t digest[32],
                         const uint8_t signature[64]);

#endif
