/*
 * tls_mbedtls.c — tls.h with mbedTLS (2.28, Debian's libmbedtls-dev): the
 * only file of the firmware that knows mbedTLS.  Built for the simulator
 * and, on the SDK's own mbedTLS 2.28 (security/mbedtls_lts), for the BL602
 * (cmake/bl602-sdk.cmake); the RV32 picolibc core build leaves it out.
 *
 * The socket is the caller's non-blocking one: the BIO callbacks turn
 * EAGAIN into MBEDTLS_ERR_SSL_WANT_READ/WRITE, so a handshake advances a
 * step per loop turn and never waits.
 *
 * Trust: with a fingerprint, the chain is not checked (self-signed broker
 * certificates are the common case, as with Tasmota's MqttFingerprint) but
 * the SHA-256 of the server's certificate must match; otherwise the chain
 * must verify against the CA and carry the host name.
 *
 * Heap: the session's state is one block (core/util/heap.h) and mbedTLS
 * allocates with calloc(); the figure reported is the process heap in use
 * above what it was before tls_open(), that block included, sampled at
 * every socket read and write of the session (where mbedTLS holds what it
 * has allocated), so the peak is the highest of those samples.
 */
#include "tls.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "core/util/heap.h"
#include "core/util/sha256.h"
#include "hal/hal.h"
#include "hal/hal_net.h"

/* The session's mbedTLS state (about 2 KB): on the heap while a session
 * is open, none between sessions.  One session at a time (MQTT's). */
struct tls_session {
    int fd;
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    uint8_t fingerprint[32];
    bool use_fingerprint;
};
static struct tls_session *t; /* NULL: no session */
static uint32_t heap_base_free, heap_now, heap_peak; /* the peak is over every session */

static void sample_heap(void)
{
    if (!t)
        return;
    uint32_t free_now = hal_heap_free();
    heap_now = heap_base_free > free_now ? heap_base_free - free_now : 0;
    if (heap_now > heap_peak)
        heap_peak = heap_now;
}

void tls_heap(uint32_t *now, uint32_t *peak)
{
    *now = t ? heap_now : 0;
    *peak = heap_peak;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    (void)ctx;
    sample_heap();
    long n = send(t->fd, buf, len, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_WRITE
                                                                         : MBEDTLS_ERR_NET_SEND_FAILED;
    return (int)n;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    (void)ctx;
    sample_heap();
    long n = recv(t->fd, buf, len, 0);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? MBEDTLS_ERR_SSL_WANT_READ
                                                                         : MBEDTLS_ERR_NET_RECV_FAILED;
    return (int)n; /* 0: the peer closed */
}

static void say(char *err, size_t size, const char *what, int code)
{
    char text[64];
    mbedtls_strerror(code, text, sizeof text);
    snprintf(err, size, "%s: %s", what, text);
}

const char *tls_check_ca(const char *pem)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int r = mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1);
    mbedtls_x509_crt_free(&crt);
    return r == 0 ? NULL : "the certificate does not parse";
}

int tls_open(int fd, const struct tls_trust *trust, char *err, size_t err_size)
{
    static const char personal[] = "openplug-mqtt";
    if (t)
        tls_close();
    heap_base_free = hal_heap_free(); /* the session's own block counts in its heap */
    t = heap_take(sizeof *t);
    if (!t) {
        snprintf(err, err_size, "set-up: out of memory");
        return -1;
    }
    memset(t, 0, sizeof *t);
    t->fd = fd;
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);

    int r = mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, (const unsigned char *)personal,
                                  sizeof personal - 1);
    if (r == 0)
        r = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                        MBEDTLS_SSL_PRESET_DEFAULT);
    if (r) {
        say(err, err_size, "set-up", r);
        tls_close();
        return -1;
    }
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3); /* TLS 1.2 */
#if defined(MBEDTLS_SSL_MAX_FRAGMENT_LENGTH) && MBEDTLS_SSL_IN_CONTENT_LEN < 16384
    /* A receive buffer smaller than TLS's 16 KiB records (the BL602 build,
     * for RAM): ask the broker to send records no larger than it. */
    mbedtls_ssl_conf_max_frag_len(&t->conf, MBEDTLS_SSL_IN_CONTENT_LEN >= 4096   ? MBEDTLS_SSL_MAX_FRAG_LEN_4096
                                           : MBEDTLS_SSL_IN_CONTENT_LEN >= 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                                                                                : MBEDTLS_SSL_MAX_FRAG_LEN_1024);
#endif
    if (trust->fingerprint) {
        t->use_fingerprint = true;
        memcpy(t->fingerprint, trust->fingerprint, 32);
        mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_NONE); /* checked by fingerprint after */
    } else {
        if (!trust->ca_pem) {
            snprintf(err, err_size, "no MqttCA and no MqttFingerprint: nothing to check the broker against");
            tls_close();
            return -1;
        }
        r = mbedtls_x509_crt_parse(&t->ca, (const unsigned char *)trust->ca_pem, strlen(trust->ca_pem) + 1);
        if (r) {
            say(err, err_size, "MqttCA", r);
            tls_close();
            return -1;
        }
        mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
        mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    }
    r = mbedtls_ssl_setup(&t->ssl, &t->conf);
    if (r == 0)
        r = mbedtls_ssl_set_hostname(&t->ssl, trust->host);
    if (r) {
        say(err, err_size, "set-up", r);
        tls_close();
        return -1;
    }
    mbedtls_ssl_set_bio(&t->ssl, NULL, bio_send, bio_recv, NULL);
    sample_heap();
    return 0;
}

static int check_fingerprint(char *err, size_t err_size)
{
    const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
    uint8_t digest[32];
    if (!peer) {
        snprintf(err, err_size, "the broker sent no certificate");
        return -1;
    }
    sha256(peer->raw.p, peer->raw.len, digest);
    if (!sha256_equal_ct(digest, t->fingerprint, 32)) {
        snprintf(err, err_size, "certificate fingerprint %02X%02X%02X%02X… does not match MqttFingerprint", digest[0],
                 digest[1], digest[2], digest[3]);
        return -1;
    }
    return 0;
}

int tls_handshake(char *err, size_t err_size)
{
    int r = mbedtls_ssl_handshake(&t->ssl);
    sample_heap();
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
        return TLS_WANT;
    if (r) {
        uint32_t flags = mbedtls_ssl_get_verify_result(&t->ssl);
        if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags) {
            char why[96];
            mbedtls_x509_crt_verify_info(why, sizeof why, "", flags);
            why[strcspn(why, "\n")] = '\0';
            snprintf(err, err_size, "broker certificate rejected: %s", why);
        } else {
            say(err, err_size, "handshake", r);
        }
        return -1;
    }
    return t->use_fingerprint ? check_fingerprint(err, err_size) : 0;
}

long tls_send(const void *data, size_t len)
{
    int r = mbedtls_ssl_write(&t->ssl, data, len);
    sample_heap();
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
        return TLS_WANT;
    return r < 0 ? -1 : r;
}

long tls_recv(void *buf, size_t len)
{
    int r = mbedtls_ssl_read(&t->ssl, buf, len);
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
        return TLS_WANT;
    if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
        return 0;
    return r < 0 ? -1 : r;
}

void tls_close(void)
{
    if (!t)
        return;
    mbedtls_ssl_free(&t->ssl);
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    heap_give(t);
    t = NULL;
    heap_now = 0;
}
