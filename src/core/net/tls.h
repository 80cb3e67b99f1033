/*
 * tls.h — the one TLS client session the plug needs (MQTT over TLS), on a
 * non-blocking socket the caller has connected.
 *
 * Implemented with mbedTLS in tls_mbedtls.c, the only file that knows
 * mbedTLS.  That file is built for the simulator (Debian's libmbedtls-dev)
 * and for the BL602 on the SDK's own mbedTLS (cmake/bl602-sdk.cmake), and
 * left out of the RV32 picolibc core build.  Without it OPENPLUG_TLS is
 * undefined and `MqttTLS 1` says TLS is not in this build.
 *
 * The server is checked either against a CA (PEM, with the host name) or
 * against the SHA-256 fingerprint of its certificate (DER), as Tasmota's
 * MqttFingerprint does.
 */
#ifndef OPENPLUG_TLS_H
#define OPENPLUG_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_WANT (-1000) /* would block: call again when the socket is ready */

struct tls_trust {
    const uint8_t *fingerprint; /* 32 bytes, or NULL to use the CA */
    const char *ca_pem;         /* NUL-terminated, used when fingerprint is NULL */
    const char *host;           /* the name the certificate must carry (CA mode) */
};

/* Start a session on fd.  Returns 0, or -1 with a message in err. */
int tls_open(int fd, const struct tls_trust *trust, char *err, size_t err_size);
/* Advance the handshake: 0 when done, TLS_WANT, or -1 with a message. */
int tls_handshake(char *err, size_t err_size);
/* Bytes sent / received (0 from recv: the peer closed), TLS_WANT, or -1. */
long tls_send(const void *data, size_t len);
long tls_recv(void *buf, size_t len);
void tls_close(void);

/* Heap the TLS session holds now and the most it held (bytes). */
void tls_heap(uint32_t *now, uint32_t *peak);

/* Check a PEM certificate: NULL if it parses, else why not. */
const char *tls_check_ca(const char *pem);

#endif
