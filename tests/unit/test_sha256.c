/* Unit tests of SHA-256: FIPS 180-4 / NIST vectors, and chunking. */
#include <string.h>

#include "core/util/sha256.h"
#include "harness.h"

static void hex(const uint8_t *digest, char out[65])
{
    for (int i = 0; i < 32; i++) {
        out[2 * i] = "0123456789abcdef"[digest[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
    }
    out[64] = 0;
}

static void check_digest(const char *message, const char *expected)
{
    uint8_t digest[SHA256_SIZE];
    char text[65];
    sha256(message, strlen(message), digest);
    hex(digest, text);
    CHECK_STR(text, expected);
}

static void test_nist_vectors(void)
{
    check_digest("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_digest("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* 55, 56 and 64 bytes: the padding edge cases. */
    check_digest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check_digest("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
}

/* A million 'a' fed in odd-sized chunks equals the published digest. */
static void test_streaming_in_odd_chunks(void)
{
    static char chunk[253];
    memset(chunk, 'a', sizeof chunk);
    struct sha256 ctx;
    uint8_t digest[SHA256_SIZE];
    char text[65];
    sha256_init(&ctx);
    size_t left = 1000000;
    for (size_t n = 1; left; n = n % 253 + 1) {
        size_t take = n < left ? n : left;
        sha256_update(&ctx, chunk, take);
        left -= take;
    }
    sha256_final(&ctx, digest);
    hex(digest, text);
    CHECK_STR(text, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_constant_time_compare(void)
{
    uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5};
    CHECK(sha256_equal_ct(a, a, 4));
    CHECK(!sha256_equal_ct(a, b, 4));
    CHECK(sha256_equal_ct(a, b, 3));
}

int main(void)
{
    RUN(test_nist_vectors);
    RUN(test_streaming_in_odd_chunks);
    RUN(test_constant_time_compare);
    return harness_report();
}
