/* bootheader.c — the BL602 boot header, built and checked; see bootheader.h. */
#include "bootheader.h"

#include <stdio.h>
#include <string.h>

#include "core/util/crc32.h"
#include "core/util/le.h"
#include "core/util/sha256.h"

/* Boot bits of an unsigned, unencrypted XIP image: no segments, cache on,
 * cache ways 0 and 1 disabled (the SDK's setting for the BL602), both
 * "ignore" bits clear. */
#define BOOT_NO_SEGMENT (1u << 8)
#define BOOT_CACHE_ENABLE (1u << 9)
#define BOOT_CACHE_WAYS_DISABLED(n) ((uint32_t)(n) << 12)
#define BOOT_BITS (BOOT_NO_SEGMENT | BOOT_CACHE_ENABLE | BOOT_CACHE_WAYS_DISABLED(3))

/* Clock block: PLL 160 MHz (pll_clk 4), hclk = PLL (div 0), bclk = hclk/2
 * (div 1), flash from the 80 MHz clock (type 3) divided by 2 (div 1). */
#define CLOCK_PLL_160M 4
#define CLOCK_HCLK_DIV 0
#define CLOCK_BCLK_DIV 1
#define CLOCK_FLASH_80M 3
#define CLOCK_FLASH_DIV 1

/* The fields of SPI_Flash_Cfg_Type in order; values of the GD25Q16E from
 * the SDK's flash table.  Multi-byte fields are little endian. */
void bootheader_flash_cfg_gd25q16e(uint8_t out[BOOTHEADER_FLASH_CFG_SIZE])
{
    uint8_t *p = out;
#define U8(v) (*p++ = (uint8_t)(v))
#define U16(v) (le16_put(p, (uint16_t)(v)), p += 2)
    U8(4);    /* ioMode: quad I/O */
    U8(1);    /* cReadSupport: continuous read */
    U8(1);    /* clkDelay */
    U8(1);    /* clkInvert */
    U8(0x66); /* resetEnCmd */
    U8(0x99); /* resetCmd */
    U8(0xFF); /* resetCreadCmd */
    U8(3);    /* resetCreadCmdSize */
    U8(0x9F); /* jedecIdCmd */
    U8(0);    /* jedecIdCmdDmyClk */
    U8(0x9F); /* qpiJedecIdCmd */
    U8(0);    /* qpiJedecIdCmdDmyClk */
    U8(4);    /* sectorSize, KiB */
    U8(0xC8); /* mid: GigaDevice */
    U16(256); /* pageSize */
    U8(0xC7); /* chipEraseCmd */
    U8(0x20); /* sectorEraseCmd */
    U8(0x52); /* blk32EraseCmd */
    U8(0xD8); /* blk64EraseCmd */
    U8(0x06); /* writeEnableCmd */
    U8(0x02); /* pageProgramCmd */
    U8(0x32); /* qpageProgramCmd */
    U8(0);    /* qppAddrMode */
    U8(0x0B); /* fastReadCmd */
    U8(1);    /* frDmyClk */
    U8(0x0B); /* qpiFastReadCmd */
    U8(1);    /* qpiFrDmyClk */
    U8(0x3B); /* fastReadDoCmd */
    U8(1);    /* frDoDmyClk */
    U8(0xBB); /* fastReadDioCmd */
    U8(0);    /* frDioDmyClk */
    U8(0x6B); /* fastReadQoCmd */
    U8(1);    /* frQoDmyClk */
    U8(0xEB); /* fastReadQioCmd */
    U8(2);    /* frQioDmyClk */
    U8(0xEB); /* qpiFastReadQioCmd */
    U8(2);    /* qpiFrQioDmyClk */
    U8(0x02); /* qpiPageProgramCmd */
    U8(0x50); /* writeVregEnableCmd */
    U8(0);    /* wrEnableIndex */
    U8(1);    /* qeIndex */
    U8(0);    /* busyIndex */
    U8(1);    /* wrEnableBit */
    U8(1);    /* qeBit */
    U8(0);    /* busyBit */
    U8(2);    /* wrEnableWriteRegLen */
    U8(1);    /* wrEnableReadRegLen */
    U8(2);    /* qeWriteRegLen */
    U8(1);    /* qeReadRegLen */
    U8(0xAB); /* releasePowerDown */
    U8(1);    /* busyReadRegLen */
    U8(0x05); U8(0x35); U8(0); U8(0); /* readRegCmd[4] */
    U8(0x01); U8(0x01); U8(0); U8(0); /* writeRegCmd[4] */
    U8(0x38); /* enterQpi */
    U8(0xFF); /* exitQpi */
    U8(0xA0); /* cReadMode */
    U8(0xFF); /* cRExit */
    U8(0x77); /* burstWrapCmd */
    U8(3);    /* burstWrapCmdDmyClk */
    U8(2);    /* burstWrapDataMode */
    U8(0x40); /* burstWrapData */
    U8(0x77); /* deBurstWrapCmd */
    U8(3);    /* deBurstWrapCmdDmyClk */
    U8(2);    /* deBurstWrapDataMode */
    U8(0xF0); /* deBurstWrapData */
    U16(300);   /* timeEsector, ms */
    U16(1200);  /* timeE32k */
    U16(1200);  /* timeE64k */
    U16(5);     /* timePagePgm */
    U16(20000); /* timeCe, ms (the SDK's chip table; its packager truncates 200000 to 16 bits) */
    U8(20);   /* pdDelay */
    U8(0);    /* qeData */
#undef U8
#undef U16
}

void bootheader_defaults(struct bootheader_params *params)
{
    memset(params, 0, sizeof *params);
    bootheader_flash_cfg_gd25q16e(params->flash_cfg);
    params->xtal = XTAL_40M;
    params->image_start = 0x2000;
}

uint32_t bootheader_padded_len(uint32_t len)
{
    return (len + BOOTHEADER_IMAGE_ALIGN - 1) / BOOTHEADER_IMAGE_ALIGN * BOOTHEADER_IMAGE_ALIGN;
}

void bootheader_build(uint8_t out[BOOTHEADER_SIZE], const struct bootheader_params *params, const uint8_t *image,
                      uint32_t len)
{
    memset(out, 0, BOOTHEADER_SIZE);
    memcpy(out, "BFNP", 4);
    le32_put(out + 4, 1);
    memcpy(out + 8, "FCFG", 4);
    memcpy(out + BOOTHEADER_FLASH_CFG_OFFSET, params->flash_cfg, BOOTHEADER_FLASH_CFG_SIZE);
    le32_put(out + 96, crc32_update(0, out + 12, 84));
    memcpy(out + 100, "PCFG", 4);
    const uint8_t clock[8] = {(uint8_t)params->xtal, CLOCK_PLL_160M, CLOCK_HCLK_DIV, CLOCK_BCLK_DIV,
                              CLOCK_FLASH_80M, CLOCK_FLASH_DIV, 0, 0};
    memcpy(out + 104, clock, sizeof clock);
    le32_put(out + 112, crc32_update(0, out + 104, 8));
    le32_put(out + 116, BOOT_BITS);
    uint32_t padded = bootheader_padded_len(len);
    le32_put(out + 120, padded);
    le32_put(out + 124, params->entry);
    le32_put(out + 128, params->image_start);
    struct sha256 ctx;
    static const uint8_t zeros[BOOTHEADER_IMAGE_ALIGN];
    sha256_init(&ctx);
    sha256_update(&ctx, image, len);
    sha256_update(&ctx, zeros, padded - len);
    sha256_final(&ctx, out + 132);
    le32_put(out + 172, crc32_update(0, out, 172));
}

bool bootheader_check(const uint8_t header[BOOTHEADER_SIZE], char *error, size_t error_size)
{
    static const struct { uint32_t at, len; const char *what; } crcs[] = {
        {12, 84, "flash configuration"}, {104, 8, "clock configuration"}, {0, 172, "header"}};
    if (memcmp(header, "BFNP", 4) != 0 || memcmp(header + 8, "FCFG", 4) != 0 || memcmp(header + 100, "PCFG", 4) != 0) {
        snprintf(error, error_size, "not a BL602 boot header (BFNP, FCFG, PCFG)");
        return false;
    }
    for (size_t i = 0; i < sizeof crcs / sizeof crcs[0]; i++) {
        uint32_t stored = le32_get(header + crcs[i].at + crcs[i].len);
        if (stored != crc32_update(0, header + crcs[i].at, crcs[i].len) &&
            !(crcs[i].at == 0 && stored == 0xDEADBEEFu)) {
            snprintf(error, error_size, "the %s CRC-32 is wrong", crcs[i].what);
            return false;
        }
    }
    return true;
}
