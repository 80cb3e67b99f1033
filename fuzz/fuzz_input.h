/*
 * fuzz_input.h — helpers shared by the fuzz targets: a cursor that reads
 * numbers and byte strings off the fuzzer's input (zeros once it is used
 * up, so every input is a complete script), and a check that aborts, so
 * that libFuzzer reports a broken property as a crash with its input.
 */
#ifndef OPENPLUG_FUZZ_INPUT_H
#define OPENPLUG_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer's entry point (declared for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                     \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "\n%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond);    \
            abort();                                                                         \
        }                                                                                    \
    } while (0)

struct fuzz_in {
    const uint8_t *data;
    size_t size, pos;
};

static inline struct fuzz_in fuzz_in(const uint8_t *data, size_t size)
{
    return (struct fuzz_in){.data = data, .size = size, .pos = 0};
}

static inline size_t fuzz_left(const struct fuzz_in *in) { return in->size - in->pos; }

static inline uint8_t fuzz_u8(struct fuzz_in *in) { return in->pos < in->size ? in->data[in->pos++] : 0; }

static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t lo = fuzz_u16(in);
    return lo | (uint32_t)fuzz_u16(in) << 16;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
    uint64_t lo = fuzz_u32(in);
    return lo | (uint64_t)fuzz_u32(in) << 32;
}

/* Copy up to n bytes to out (zeros past the end of the input); returns how
 * many came from the input. */
static inline size_t fuzz_bytes(struct fuzz_in *in, void *out, size_t n)
{
    size_t got = fuzz_left(in) < n ? fuzz_left(in) : n;
    memcpy(out, in->data + in->pos, got);
    memset((uint8_t *)out + got, 0, n - got);
    in->pos += got;
    return got;
}

/* A C string of at most max_len characters: a length byte, then the bytes
 * (cut at the first NUL).  out must hold max_len + 1. */
static inline const char *fuzz_cstr(struct fuzz_in *in, char *out, size_t max_len)
{
    size_t n = fuzz_u8(in) % (max_len + 1);
    fuzz_bytes(in, out, n);
    out[n] = '\0';
    return out;
}

#endif
