/*
 * fuzz_ssdp.c — the SSDP M-SEARCH parser (src/core/net/ssdp_parse.h) on
 * arbitrary datagrams.
 * Properties: no crash or read beyond the datagram (ASan); a success has a
 * terminated, non-empty search target of fewer than SSDP_ST_MAX bytes and
 * an MX of -1 (absent) or 0..999; parsing is deterministic.
 */
#include "core/net/ssdp_parse.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2048)
        return 0;
    char *copy = malloc(size ? size : 1); /* exactly the datagram: ASan sees any overread */
    memcpy(copy, data, size);
    struct ssdp_search s, again;
    int r = ssdp_parse_search(copy, size, &s);
    if (r == 0) {
        const char *nul = memchr(s.st, '\0', sizeof s.st);
        size_t n = nul ? (size_t)(nul - s.st) : sizeof s.st;
        FUZZ_CHECK(n > 0 && n < sizeof s.st);
        FUZZ_CHECK(s.mx >= -1 && s.mx <= 999);
        FUZZ_CHECK(ssdp_parse_search(copy, size, &again) == 0 && strcmp(again.st, s.st) == 0 && again.mx == s.mx);
    } else {
        FUZZ_CHECK(r == -1);
    }
    free(copy);
    return 0;
}
