/*
 * sha256.h — SHA-256 (FIPS 180-4), streaming.
 *
 * Used where the firmware needs a digest it can trust: OTA images are
 * hashed as their bytes arrive, the web password is kept as
 * SHA-256(salt | password).  Small rather than fast: one 64-word schedule
 * on the stack, no tables beyond the 64 round constants.
 */
#ifndef OPENPLUG_SHA256_H
#define OPENPLUG_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32

struct sha256 {
    uint32_t state[8];
    uint64_t length; /* bytes hashed so far */
    uint8_t block[64];
    uint8_t fill;    /* bytes waiting in block */
};

void sha256_init(struct sha256 *ctx);
void sha256_update(struct sha256 *ctx, const void *data, size_t len);
void sha256_final(struct sha256 *ctx, uint8_t digest[SHA256_SIZE]);

/* One call: digest of a whole buffer. */
void sha256(const void *data, size_t len, uint8_t digest[SHA256_SIZE]);

/* Compare two byte strings in time that does not depend on where they differ. */
int sha256_equal_ct(const uint8_t *a, const uint8_t *b, size_t len);

#endif
