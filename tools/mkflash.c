/*
 * mkflash — OpenPlug's BL602 image packer: from the firmware's raw binary
 * (the code the chip runs at XIP 0x23000000) it builds the firmware slot
 * image (boot header + image: what an OTA file carries, see tools/mkota),
 * the partition table (core/ota/ptable.c's layout, the one the simulator
 * uses) and the whole-flash 2 MB image for the first flash over UART.
 *
 *   mkflash layout                                    the partition table, one partition a line
 *   mkflash ptable OUT                                one copy of the table (a 4 KiB sector)
 *   mkflash firmware [opts] FIRMWARE OUT              boot header, 0xFF to 4 KiB, the image
 *   mkflash whole --boot2 FILE [opts] FIRMWARE OUT    the 2 MB flash
 *
 * Bouffalo's boot2 is not ours to ship: the whole image takes it from the
 * user (--boot2), either as boot2's raw binary (a header is built for it)
 * or as a dump of the plug's own flash from 0x0 (its header and boot2 are
 * kept as they are).  A host tool, built with the project; not firmware.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootheader.h"
#include "core/ota/ptable.h"
#include "core/util/le.h"

#define FLASH_SIZE 0x200000u
#define SECTOR 0x1000u
#define BOOT2_HEADER_ADDR 0x0u
#define BOOT2_ADDR 0x2000u
#define PTABLE_COPY0 0xE000u
#define PTABLE_COPY1 0xF000u
#define FW_IMAGE_OFFSET 0x1000u /* the image follows its header's sector in a slot */

static const char *const usage_text =
    "usage: mkflash layout\n"
    "       mkflash ptable OUT\n"
    "       mkflash firmware [--flash-cfg FILE] [--xtal MHZ] FIRMWARE OUT\n"
    "       mkflash whole --boot2 FILE [--factory FILE] [--flash-cfg FILE] [--xtal MHZ] FIRMWARE OUT\n"
    "  FIRMWARE         the raw firmware binary (objcopy -O binary of the ELF linked at 0x23000000)\n"
    "  --boot2 FILE     boot2: its raw binary, or a dump of the plug's flash from 0x0 (kept as it is)\n"
    "  --factory FILE   the plug's factory parameters (a dump of its flash at 0x1F8000), put back there\n"
    "  --flash-cfg FILE the flash chip's 84-byte configuration, or a boot header / dump of the plug's\n"
    "                   flash at 0x0 or 0x10000 to take it from (default: GD25Q16E)\n"
    "  --xtal MHZ       the crystal: 24, 26, 32, 38.4, 40 (default) or rc32\n";

struct blob {
    uint8_t *data;
    size_t size;
};

static bool read_blob(const char *path, struct blob *out)
{
    FILE *f = fopen(path, "rb");
    long len = -1;
    out->data = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (out->data = malloc((size_t)len)) && fread(out->data, 1, (size_t)len, f) == (size_t)len) {
        out->size = (size_t)len;
    } else {
        free(out->data);
        out->data = NULL;
        fprintf(stderr, "mkflash: cannot read %s (missing or empty)\n", path);
    }
    if (f)
        fclose(f);
    return out->data != NULL;
}

static bool write_blob(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(data, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = false;
    if (!ok)
        fprintf(stderr, "mkflash: cannot write %s\n", path);
    return ok;
}

/* --flash-cfg: 84 bytes as they are, or the block out of a boot header
 * (whose CRCs must hold: a dump that is not one is refused). */
static bool load_flash_cfg(const char *path, uint8_t cfg[BOOTHEADER_FLASH_CFG_SIZE])
{
    struct blob b;
    char error[96];
    if (!read_blob(path, &b))
        return false;
    bool ok = true;
    if (b.size == BOOTHEADER_FLASH_CFG_SIZE) {
        memcpy(cfg, b.data, BOOTHEADER_FLASH_CFG_SIZE);
    } else if (b.size >= BOOTHEADER_SIZE && memcmp(b.data, "BFNP", 4) == 0) {
        ok = bootheader_check(b.data, error, sizeof error);
        if (ok)
            memcpy(cfg, b.data + BOOTHEADER_FLASH_CFG_OFFSET, BOOTHEADER_FLASH_CFG_SIZE);
        else
            fprintf(stderr, "mkflash: %s: %s\n", path, error);
    } else {
        fprintf(stderr, "mkflash: %s is neither 84 bytes of flash configuration nor a boot header\n", path);
        ok = false;
    }
    free(b.data);
    return ok;
}

static bool parse_xtal(const char *text, enum bootheader_xtal *xtal)
{
    static const struct { const char *name; enum bootheader_xtal xtal; } xtals[] = {
        {"24", XTAL_24M}, {"26", XTAL_26M}, {"32", XTAL_32M}, {"38.4", XTAL_38M4}, {"40", XTAL_40M}, {"rc32", XTAL_RC32M}};
    for (size_t i = 0; i < sizeof xtals / sizeof xtals[0]; i++)
        if (strcmp(text, xtals[i].name) == 0) {
            *xtal = xtals[i].xtal;
            return true;
        }
    fprintf(stderr, "mkflash: unknown crystal '%s' (24, 26, 32, 38.4, 40, rc32)\n", text);
    return false;
}

static void print_layout(void)
{
    struct ptable table;
    ptable_default(&table);
    printf("# name type address0 size0 address1 size1\n");
    for (uint16_t i = 0; i < table.count; i++) {
        const struct ptable_entry *e = &table.entries[i];
        printf("%.8s %u 0x%06lX 0x%06lX 0x%06lX 0x%06lX\n", e->name, e->type, (unsigned long)e->address[0],
               (unsigned long)e->max_len[0], (unsigned long)e->address[1], (unsigned long)e->max_len[1]);
    }
}

/* One table copy: the serialized table in an erased sector. */
static void ptable_sector(uint8_t sector[SECTOR])
{
    struct ptable table;
    uint8_t bytes[PTABLE_MAX_BYTES];
    ptable_default(&table);
    size_t len = ptable_serialize(&table, bytes);
    memset(sector, 0xFF, SECTOR);
    memcpy(sector, bytes, len);
}

/* The firmware as a slot holds it: header, 0xFF to the next sector, the
 * image padded with zeros to 16 (the length the header gives). */
static uint8_t *slot_image(const struct blob *fw, const struct bootheader_params *params, size_t *size)
{
    uint32_t padded = bootheader_padded_len((uint32_t)fw->size);
    uint8_t *out = malloc(FW_IMAGE_OFFSET + padded);
    if (!out)
        return NULL;
    memset(out, 0xFF, FW_IMAGE_OFFSET);
    memset(out + FW_IMAGE_OFFSET, 0, padded);
    memcpy(out + FW_IMAGE_OFFSET, fw->data, fw->size);
    bootheader_build(out, params, fw->data, (uint32_t)fw->size);
    *size = FW_IMAGE_OFFSET + padded;
    return out;
}

/* boot2 into flash[0, 0xE000): a dump is kept, a raw binary gets a header. */
static bool place_boot2(uint8_t *flash, const struct blob *boot2, const struct bootheader_params *params)
{
    char error[96];
    if (boot2->size >= BOOTHEADER_SIZE && memcmp(boot2->data, "BFNP", 4) == 0) {
        if (!bootheader_check(boot2->data, error, sizeof error)) {
            fprintf(stderr, "mkflash: the boot2 dump's header: %s\n", error);
            return false;
        }
        size_t n = boot2->size < PTABLE_COPY0 ? boot2->size : PTABLE_COPY0;
        memcpy(flash, boot2->data, n);
        return true;
    }
    if (boot2->size > PTABLE_COPY0 - BOOT2_ADDR) {
        fprintf(stderr, "mkflash: boot2 of %zu bytes does not fit between 0x2000 and the tables at 0xE000\n",
                boot2->size);
        return false;
    }
    struct bootheader_params boot2_params = *params;
    boot2_params.image_start = BOOT2_ADDR;
    bootheader_build(flash + BOOT2_HEADER_ADDR, &boot2_params, boot2->data, (uint32_t)boot2->size);
    memset(flash + BOOT2_ADDR, 0, bootheader_padded_len((uint32_t)boot2->size));
    memcpy(flash + BOOT2_ADDR, boot2->data, boot2->size);
    return true;
}

static int whole(const struct blob *fw, const char *boot2_path, const char *factory_path,
                 const struct bootheader_params *params, const char *out_path)
{
    struct ptable table;
    ptable_default(&table);
    const struct ptable_entry *fw_entry = ptable_fw(&table), *factory = NULL;
    for (uint16_t i = 0; i < table.count; i++)
        if (table.entries[i].type == PTABLE_FACTORY)
            factory = &table.entries[i];
    size_t slot_size;
    uint8_t *slot = slot_image(fw, params, &slot_size);
    uint8_t *flash = malloc(FLASH_SIZE);
    struct blob boot2 = {0}, fact = {0};
    int rc = 1;
    if (!slot || !flash || !read_blob(boot2_path, &boot2) || (factory_path && !read_blob(factory_path, &fact)))
        goto out;
    if (slot_size > fw_entry->max_len[0]) {
        fprintf(stderr, "mkflash: the firmware (%zu bytes with its header) does not fit slot 0 (%lu bytes)\n",
                slot_size, (unsigned long)fw_entry->max_len[0]);
        goto out;
    }
    if (factory_path && fact.size > factory->max_len[0]) {
        fprintf(stderr, "mkflash: the factory parameters (%zu bytes) exceed their partition (%lu bytes)\n",
                fact.size, (unsigned long)factory->max_len[0]);
        goto out;
    }
    memset(flash, 0xFF, FLASH_SIZE);
    if (!place_boot2(flash, &boot2, params))
        goto out;
    ptable_sector(flash + PTABLE_COPY0);
    ptable_sector(flash + PTABLE_COPY1);
    memcpy(flash + fw_entry->address[0], slot, slot_size);
    if (factory_path)
        memcpy(flash + factory->address[0], fact.data, fact.size);
    if (write_blob(out_path, flash, FLASH_SIZE)) {
        printf("mkflash: %s: 2 MiB flash, boot2 %s, firmware of %zu bytes in slot 0 at 0x%lX%s\n", out_path,
               memcmp(boot2.data, "BFNP", 4) == 0 ? "dump kept" : "with a new header", fw->size,
               (unsigned long)fw_entry->address[0], factory_path ? ", factory parameters kept" : "");
        rc = 0;
    }
out:
    free(fact.data);
    free(boot2.data);
    free(flash);
    free(slot);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"boot2", required_argument, NULL, 'b'},     {"factory", required_argument, NULL, 'f'},
        {"flash-cfg", required_argument, NULL, 'c'}, {"xtal", required_argument, NULL, 'x'},
        {"help", no_argument, NULL, 'h'},            {0},
    };
    struct bootheader_params params;
    bootheader_defaults(&params);
    params.image_start = PTABLE_FW_ADDR + FW_IMAGE_OFFSET; /* slot 0's; boot2 puts the active slot's */
    const char *boot2 = NULL, *factory = NULL;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'b': boot2 = optarg; break;
        case 'f': factory = optarg; break;
        case 'c':
            if (!load_flash_cfg(optarg, params.flash_cfg))
                return 1;
            break;
        case 'x':
            if (!parse_xtal(optarg, &params.xtal))
                return 2;
            break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: fputs(usage_text, stderr); return 2;
        }
    }
    int args = argc - optind;
    const char *command = args > 0 ? argv[optind] : "";
    if (strcmp(command, "layout") == 0 && args == 1) {
        print_layout();
        return 0;
    }
    if (strcmp(command, "ptable") == 0 && args == 2) {
        uint8_t sector[SECTOR];
        ptable_sector(sector);
        return write_blob(argv[optind + 1], sector, sizeof sector) ? 0 : 1;
    }
    bool is_firmware = strcmp(command, "firmware") == 0, is_whole = strcmp(command, "whole") == 0;
    if ((!is_firmware && !is_whole) || args != 3 || (is_whole && !boot2)) {
        fputs(usage_text, stderr);
        return 2;
    }
    struct blob fw;
    if (!read_blob(argv[optind + 1], &fw))
        return 1;
    int rc = 1;
    if (is_whole) {
        rc = whole(&fw, boot2, factory, &params, argv[optind + 2]);
    } else {
        size_t size;
        uint8_t *slot = slot_image(&fw, &params, &size);
        if (slot && write_blob(argv[optind + 2], slot, size)) {
            printf("mkflash: %s: boot header and firmware of %zu bytes (%zu with the header's sector)\n",
                   argv[optind + 2], fw.size, size);
            rc = 0;
        }
        free(slot);
    }
    free(fw.data);
    return rc;
}
