/*
 * mbedtls_openplug_config.h — the mbedTLS configuration for the BL602
 * image: the SDK's own (mbedtls_sample_config.h) with TLS record buffers
 * cut to fit the plug's RAM.  mbedTLS allocates both buffers per session at
 * their full size: 16 KiB each by default, 33 KiB for one MQTT connection
 * out of a heap of about 100 KiB.  Outgoing records are the plug's own
 * (MQTT packets of a few hundred bytes): 2 KiB.  Incoming records are the
 * broker's: 4 KiB, and tls_mbedtls.c asks the broker for records no larger
 * (the max_fragment_length extension, RFC 6066; OpenSSL servers since 1.1.1
 * honour it).  A broker that ignores it and sends a larger record fails the
 * handshake with a record-too-large error.
 *
 * Both the SDK's mbedtls_lts and our library must be compiled with this
 * file: the SDK with CONFIG_EXTMBEDTLS_CONFIG_FILE=mbedtls_openplug_config.h
 * and this directory on its include path, our library with
 * -DBL602_MBEDTLS_CONFIG_FILE=mbedtls_openplug_config.h.
 */
#ifndef OPENPLUG_MBEDTLS_CONFIG_H
#define OPENPLUG_MBEDTLS_CONFIG_H

#define MBEDTLS_SSL_IN_CONTENT_LEN 4096
#define MBEDTLS_SSL_OUT_CONTENT_LEN 2048

#include "mbedtls_sample_config.h"

#endif
