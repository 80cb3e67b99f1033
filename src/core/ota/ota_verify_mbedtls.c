/*
 * ota_verify_mbedtls.c — ECDSA P-256 verification with mbedTLS; see
 * ota_verify.h.  The only file of the core that includes mbedTLS (kept out
 * of the RV32 core build, which has no mbedTLS: see ota_verify_none.c).
 */
#include "ota_verify.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>

static bool load_key(mbedtls_ecp_group *group, mbedtls_ecp_point *point, const uint8_t key[OTA_PUBLIC_KEY_SIZE])
{
    return mbedtls_ecp_group_load(group, MBEDTLS_ECP_DP_SECP256R1) == 0 &&
           mbedtls_ecp_point_read_binary(group, point, key, OTA_PUBLIC_KEY_SIZE) == 0 &&
           mbedtls_ecp_check_pubkey(group, point) == 0;
}

bool ota_key_valid(const uint8_t key[OTA_PUBLIC_KEY_SIZE])
{
    mbedtls_ecp_group group;
    mbedtls_ecp_point point;
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&point);
    bool ok = load_key(&group, &point, key);
    mbedtls_ecp_point_free(&point);
    mbedtls_ecp_group_free(&group);
    return ok;
}

bool ota_signature_valid(const uint8_t key[OTA_PUBLIC_KEY_SIZE], const uint8_t digest[32],
                         const uint8_t signature[64])
{
    mbedtls_ecp_group group;
    mbedtls_ecp_point point;
    mbedtls_mpi r, s;
    mbedtls_ecp_group_init(&group);
    mbedtls_ecp_point_init(&point);
    mbedtls_mpi_init(&r);
    mbedtls_mpi_init(&s);
    bool ok = load_key(&group, &point, key) && mbedtls_mpi_read_binary(&r, signature, 32) == 0 &&
              mbedtls_mpi_read_binary(&s, signature + 32, 32) == 0 &&
              mbedtls_ecdsa_verify(&group, digest, 32, &point, &r, &s) == 0;
    mbedtls_mpi_free(&s);
    mbedtls_mpi_free(&r);
    mbedtls_ecp_point_free(&point);
    mbedtls_ecp_group_free(&group);
    return ok;
}
