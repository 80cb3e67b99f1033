/*
 * mbedtls_user_config.h — adjusts Debian's mbedTLS 2.28 configuration
 * (libmbedtls-dev, built for Linux) to the chip for CI's compile of the
 * TLS glue and the OTA signature check (MBEDTLS_USER_CONFIG_FILE, read at
 * the end of mbedtls/config.h).  The chip has no pthreads and no BSD
 * socket layer of mbedTLS's own: OpenPlug feeds mbedTLS through its own
 * send/receive callbacks on lwIP sockets.
 */
#ifndef OPENPLUG_CI_MBEDTLS_USER_CONFIG_H
#define OPENPLUG_CI_MBEDTLS_USER_CONFIG_H

#undef MBEDTLS_THREADING_C
#undef MBEDTLS_THREADING_PTHREAD
#undef MBEDTLS_NET_C
#undef MBEDTLS_TIMING_C
#undef MBEDTLS_FS_IO
#undef MBEDTLS_HAVEGE_C       /* needs MBEDTLS_TIMING_C */
#undef MBEDTLS_PSA_ITS_FILE_C /* needs MBEDTLS_FS_IO */

#endif
