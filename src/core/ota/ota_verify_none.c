/*
 * ota_verify_none.c — the signature check of builds without mbedTLS (the
 * RV32 core build for make size and the QEMU unit tests): no key is valid
 * and no signature verifies, so a key set on such a build refuses every
 * image instead of accepting an unchecked one.  See ota_verify.h.
 */
#include "ota_verify.h"

bool ota_key_valid(const uint8_t key[OTA_PUBLIC_KEY_SIZE])
{
    (void)key;
    return false;
}

bool ota_signature_valid(const uint8_t key[OTA_PUBLIC_KEY_SIZE], const uint8_t digest[32],
                         const uint8_t signature[64])
{
    (void)key;
    (void)digest;
    (void)signature;
    return false;
}
