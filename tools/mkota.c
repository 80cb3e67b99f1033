/*
 * mkota — pack a firmware file into a BL602 OTA image (the 512-byte header
 * of core/ota/ota_image.h, then the body), optionally XZ-compressed
 * (liblzma) and signed with an ECDSA P-256 key (mbedTLS).
 *
 *   mkota [--xz] [--key priv.pem] [--hardware NAME] [--slot BYTES] --version VER in.bin out.ota
 *   mkota --key priv.pem --public-key      (the key for the plug's OtaKey)
 *
 * An image the plug would refuse for its size is not written: a body (RAW)
 * or an unpacked firmware (XZ) larger than the slot, 832 KiB by default
 * (docs/flashing.md, layout A).
 *
 * A host tool, built with the project; not part of the firmware.
 */
#include <getopt.h>
#include <lzma.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ota/ota_image.h"
#include "core/util/sha256.h"

static void usage(FILE *out)
{
    fputs("usage: mkota [--xz] [--key priv.pem] [--hardware NAME] [--slot BYTES] --version VER input output\n"
          "       mkota --key priv.pem --public-key\n"
          "  --xz             compress the body (the plug's boot loader decompresses it over the running slot)\n"
          "  --key FILE       sign with this ECDSA P-256 private key (PEM)\n"
          "  --hardware NAME  the hardware string the plug must have (default " OPENPLUG_OTA_HARDWARE ")\n"
          "  --version VER    the software version string (at most 16 characters)\n"
          "  --slot BYTES     the plug's firmware slot (default 851968 = 832 KiB): a larger firmware is refused\n"
          "  --public-key     print the key's public point in hex, for the plug's OtaKey command\n",
          out);
}

static uint8_t *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long len;
    if (f && fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)len)) && fread(data, 1, (size_t)len, f) == (size_t)len) {
        *size = (size_t)len;
    } else {
        free(data);
        data = NULL;
        fprintf(stderr, "mkota: cannot read %s (missing or empty)\n", path);
    }
    if (f)
        fclose(f);
    return data;
}

/* XZ with LZMA2 and a 32 KiB dictionary: the boot loader decompresses with
 * the chip's RAM, so the window must stay small (the xz default, 8 MiB, would
 * not fit). */
#define XZ_DICT_SIZE (32u * 1024)

static uint8_t *compress(const uint8_t *in, size_t in_size, size_t *out_size)
{
    size_t cap = lzma_stream_buffer_bound(in_size), pos = 0;
    uint8_t *out = malloc(cap);
    lzma_options_lzma lzma2;
    bool preset_ok = !lzma_lzma_preset(&lzma2, 9 | LZMA_PRESET_EXTREME);
    lzma2.dict_size = XZ_DICT_SIZE;
    lzma_filter filters[] = {{LZMA_FILTER_LZMA2, &lzma2}, {LZMA_VLI_UNKNOWN, NULL}};
    if (!out || !preset_ok ||
        lzma_stream_buffer_encode(filters, LZMA_CHECK_CRC32, NULL, in, in_size, out, &pos, cap) != LZMA_OK) {
        fprintf(stderr, "mkota: XZ compression failed\n");
        free(out);
        return NULL;
    }
    *out_size = pos;
    return out;
}

static mbedtls_ecp_keypair *load_key(mbedtls_pk_context *pk, const char *path)
{
    mbedtls_pk_init(pk);
    if (mbedtls_pk_parse_keyfile(pk, path, NULL) != 0 || mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY ||
        mbedtls_pk_ec(*pk)->grp.id != MBEDTLS_ECP_DP_SECP256R1) {
        fprintf(stderr, "mkota: %s is not a P-256 private key in PEM (openssl ecparam -name prime256v1 -genkey)\n",
                path);
        return NULL;
    }
    return mbedtls_pk_ec(*pk);
}

static int print_public_key(mbedtls_ecp_keypair *key)
{
    uint8_t point[65];
    size_t len = 0;
    if (mbedtls_ecp_point_write_binary(&key->grp, &key->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &len, point, sizeof point) ||
        len != sizeof point)
        return 1;
    for (size_t i = 0; i < len; i++)
        printf("%02x", point[i]);
    printf("\n");
    return 0;
}

static int sign(mbedtls_ecp_keypair *key, const uint8_t digest[32], uint8_t signature[64])
{
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_mpi r, s;
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    int err = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, (const unsigned char *)"mkota", 5);
    if (!err)
        err = mbedtls_ecdsa_sign(&key->grp, &r, &s, &key->d, digest, 32, mbedtls_ctr_drbg_random, &drbg);
    if (!err)
        err = mbedtls_mpi_write_binary(&r, signature, 32) || mbedtls_mpi_write_binary(&s, signature + 32, 32);
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    if (err)
        fprintf(stderr, "mkota: signing failed\n");
    return err;
}

#define DEFAULT_SLOT_SIZE (832u * 1024)

static int pack(const char *in, const char *out_path, bool xz, const char *hardware, const char *version,
                unsigned long slot_size, mbedtls_ecp_keypair *key)
{
    size_t size;
    uint8_t *body = read_file(in, &size);
    if (body && size > slot_size) {
        fprintf(stderr, "mkota: %s is %zu bytes, larger than the plug's firmware slot (%lu bytes): the plug would "
                        "refuse it%s; nothing written\n", in, size, slot_size,
                xz ? " (an XZ image unpacks into the slot)" : "");
        free(body);
        return 1;
    }
    if (body && xz) {
        size_t packed_size;
        uint8_t *packed = compress(body, size, &packed_size);
        free(body);
        body = packed;
        size = packed_size;
    }
    if (!body)
        return 1;
    uint8_t digest[32], header[OTA_HEADER_SIZE], signature[64];
    sha256(body, size, digest);
    ota_header_build(header, xz ? OTA_BODY_XZ : OTA_BODY_RAW, (uint32_t)size, hardware, version, digest);
    if (key) {
        uint8_t signed_digest[32];
        sha256(header, OTA_SIGNED_BYTES, signed_digest);
        if (sign(key, signed_digest, signature) != 0) {
            free(body);
            return 1;
        }
        ota_header_sign(header, signature);
    }
    FILE *out = fopen(out_path, "wb");
    bool ok = out && fwrite(header, 1, sizeof header, out) == sizeof header && fwrite(body, 1, size, out) == size;
    if (out && fclose(out) != 0)
        ok = false;
    free(body);
    if (!ok) {
        fprintf(stderr, "mkota: cannot write %s\n", out_path);
        return 1;
    }
    printf("mkota: %s: %s body of %zu bytes, version %s, hardware %s%s\n", out_path, xz ? "XZ" : "RAW", size,
           version, hardware, key ? ", signed" : "");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"xz", no_argument, NULL, 'x'},          {"key", required_argument, NULL, 'k'},
        {"hardware", required_argument, NULL, 'w'}, {"version", required_argument, NULL, 'v'},
        {"public-key", no_argument, NULL, 'p'},  {"help", no_argument, NULL, 'h'},
        {"slot", required_argument, NULL, 's'},
        {0},
    };
    const char *key_path = NULL, *hardware = OPENPLUG_OTA_HARDWARE, *version = NULL;
    bool xz = false, public_key = false;
    unsigned long slot_size = DEFAULT_SLOT_SIZE;
    char *end;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'x': xz = true; break;
        case 'k': key_path = optarg; break;
        case 'w': hardware = optarg; break;
        case 'v': version = optarg; break;
        case 'p': public_key = true; break;
        case 's':
            slot_size = strtoul(optarg, &end, 0);
            if (end == optarg || *end || slot_size < 4096 || slot_size > 16ul * 1024 * 1024) {
                fprintf(stderr, "mkota: --slot takes the slot's size in bytes, e.g. 851968\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    mbedtls_pk_context pk;
    mbedtls_ecp_keypair *key = key_path ? load_key(&pk, key_path) : NULL;
    int rc;
    if (key_path && !key)
        rc = 1;
    else if (public_key)
        rc = key ? print_public_key(key) : (usage(stderr), 2);
    else if (argc - optind != 2 || !version || !*version || strlen(version) > OTA_STRING_SIZE || !*hardware ||
             strlen(hardware) > OTA_STRING_SIZE)
        rc = (usage(stderr), 2);
    else
        rc = pack(argv[optind], argv[optind + 1], xz, hardware, version, slot_size, key);
    if (key_path)
        mbedtls_pk_free(&pk);
    return rc;
}
