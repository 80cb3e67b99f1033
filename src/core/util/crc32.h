/*
 * crc32.h — CRC-32 (IEEE 802.3, reflected, as zlib) for integrity checks of
 * flash records.  Table-free: records are small and written rarely, so four
 * hundred bytes of table are not worth their flash.
 */
#ifndef OPENPLUG_CRC32_H
#define OPENPLUG_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0. */
uint32_t crc32_update(uint32_t crc, const void *data, size_t len);

#endif
