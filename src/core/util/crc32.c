/* crc32.c — bitwise CRC-32 (polynomial 0xEDB88320); see crc32.h. */
#include "crc32.h"

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
    const uint8_t *byte = data;
    crc = ~crc;
    while (len--) {
        crc ^= *byte++;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}
