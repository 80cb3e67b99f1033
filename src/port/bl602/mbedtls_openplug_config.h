/*
 * mbedtls_openplug_config.h — the mbedTLS configuration for the BL602
 * image: the SDK's own (mbedtls_sample_config.h, which keeps the chip's
 * AES, SHA and ECP accelerators) cut to what the plug uses, a TLS 1.2
 * client for MQTT and the OTA signature check, with record buffers that
 * fit its RAM.
 *
 * Buffers: mbedTLS allocates both per session at their full size, 16 KiB
 * each by default, 33 KiB for one MQTT connection out of a heap of about
 * 100 KiB.  Outgoing records are the plug's own (MQTT packets of a few
 * hundred bytes): 2 KiB.  Incoming records are the broker's: 4 KiB, and
 * tls_mbedtls.c asks the broker for records no larger (the
 * max_fragment_length extension, RFC 6066; OpenSSL servers since 1.1.1
 * honour it).  A broker that ignores it and sends a larger record fails the
 * handshake with a record-too-large error.
 *
 * Curves: P-256 (the sample's only one) and P-384, which a chain of Let's
 * Encrypt's ECDSA intermediates (E5…E9, P-384 keys) needs to be verified.
 *
 * Key exchanges kept: ECDHE-ECDSA, ECDHE-RSA and RSA, with AES-GCM and
 * AES-CBC — what every TLS 1.2 broker offers.  Left out: the server side
 * and DTLS cookies, PSK, DHE (slow on this CPU) and static ECDH, ChaCha20-
 * Poly1305, session tickets, ALPN, TLS 1.3's HKDF, RSA key generation,
 * encrypted private keys (PKCS#5, MD5), the debug layer and mbedTLS's own
 * sockets (tls_mbedtls.c gives it the firmware's).  MBEDTLS_FS_IO stays:
 * the SDK's port/bignum_ext.c gets <stdio.h> only through it (the linker
 * drops the file functions nobody calls).
 *
 * Both the SDK's mbedtls_lts and our library must be compiled with this
 * file: the SDK with CONFIG_EXTMBEDTLS_CONFIG_FILE=mbedtls_openplug_config.h
 * and this directory on its include path, our library with
 * -DBL602_MBEDTLS_CONFIG_FILE=mbedtls_openplug_config.h.  mbedTLS's
 * check_config.h, included by every one of its sources, refuses a set that
 * does not hold together.
 */
#ifndef OPENPLUG_MBEDTLS_CONFIG_H
#define OPENPLUG_MBEDTLS_CONFIG_H

#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048

#include "mbedtls_sample_config.h"

#define MBEDTLS_ECP_DP_SECP384R1_ENABLED

#undef MBEDTLS_KEY_EXCHANGE_PSK_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_DHE_RSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_ECDSA_ENABLED
#undef MBEDTLS_KEY_EXCHANGE_ECDH_RSA_ENABLED
#undef MBEDTLS_DHM_C
#undef MBEDTLS_CHACHAPOLY_C
#undef MBEDTLS_CHACHA20_C
#undef MBEDTLS_POLY1305_C
#undef MBEDTLS_CIPHER_MODE_CTR
#undef MBEDTLS_CIPHER_PADDING_ZEROS
#undef MBEDTLS_SSL_COOKIE_C
#undef MBEDTLS_SSL_SESSION_TICKETS
#undef MBEDTLS_SSL_ALPN
#undef MBEDTLS_HKDF_C
#undef MBEDTLS_GENPRIME
#undef MBEDTLS_PKCS5_C
#undef MBEDTLS_MD5_C
#undef MBEDTLS_DEBUG_C
#undef MBEDTLS_NET_C

#endif
