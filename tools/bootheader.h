/*
 * bootheader.h — the BL602 boot header (176 bytes) that the chip's boot ROM
 * reads in front of boot2 and boot2 reads in front of a firmware, built
 * from fields with its real CRC-32s and SHA-256.  A host tool's library
 * (tools/mkflash and its unit test), not part of the firmware.
 *
 *   0    4  "BFNP"                  100   4  "PCFG"
 *   4    4  revision 1              104   8  clock: xtal type, PLL clock,
 *   8    4  "FCFG"                             hclk div, bclk div, flash clock
 *   12  84  flash configuration               type, flash clock div, 0, 0
 *           (SPI_Flash_Cfg_Type of  112   4  CRC-32 of bytes 104..111
 *           the SDK's bl602_sflash.h) 116   4  boot bits (below)
 *   96   4  CRC-32 of bytes 12..95  120   4  image length, padded to 16
 *                                   124   4  boot entry
 *   128  4  image start (a flash offset; boot2 replaces it for a firmware
 *           slot by the slot's address)
 *   132 32  SHA-256 of the padded image    164 8  reserved (0)
 *   172  4  CRC-32 of bytes 0..171
 *
 * Boot bits: [1:0] sign, [3:2] encrypt, [5:4] key select, [8] no segment,
 * [9] cache enable, [10] not load in boot ROM, [11] AES region lock,
 * [15:12] cache ways disabled, [16] CRC ignore, [17] hash ignore.  This
 * packer never sets the two "ignore" bits: boot2 checks the header's CRC
 * and the image's SHA-256, so a torn or corrupted image is refused (and,
 * with the SDK's boot2 rollback, the other slot booted).
 */
#ifndef OPENPLUG_TOOLS_BOOTHEADER_H
#define OPENPLUG_TOOLS_BOOTHEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BOOTHEADER_SIZE 176
#define BOOTHEADER_FLASH_CFG_OFFSET 12
#define BOOTHEADER_FLASH_CFG_SIZE 84
#define BOOTHEADER_IMAGE_ALIGN 16

/* Crystal types of the clock block (the SDK's xtal_type). */
enum bootheader_xtal { XTAL_24M = 1, XTAL_32M = 2, XTAL_38M4 = 3, XTAL_40M = 4, XTAL_26M = 5, XTAL_RC32M = 6 };

struct bootheader_params {
    uint8_t flash_cfg[BOOTHEADER_FLASH_CFG_SIZE];
    enum bootheader_xtal xtal;
    uint32_t image_start; /* flash offset of the image */
    uint32_t entry;
};

/* Defaults: the flash configuration of a GD25Q16E (JEDEC c8 40 15), a
 * 40 MHz crystal, the PLL at 160 MHz, flash clock 80 MHz (the SDK's
 * values for the BL602), image start 0x2000 (where boot2 sits), entry 0. */
void bootheader_defaults(struct bootheader_params *params);

/* The 84-byte flash configuration of a GD25Q16E, field by field. */
void bootheader_flash_cfg_gd25q16e(uint8_t out[BOOTHEADER_FLASH_CFG_SIZE]);

/* The image length as the header gives it: padded to 16 bytes. */
uint32_t bootheader_padded_len(uint32_t len);

/* Build the header for `image` (len bytes; the SHA-256 covers it padded
 * with zeros to bootheader_padded_len(len), as boot2 reads it). */
void bootheader_build(uint8_t out[BOOTHEADER_SIZE], const struct bootheader_params *params, const uint8_t *image,
                      uint32_t len);

/* Check a header's magic and three CRCs (a dump read from a plug, or a
 * header built here); false, with a message, on the first that is wrong. */
bool bootheader_check(const uint8_t header[BOOTHEADER_SIZE], char *error, size_t error_size);

#endif
