/*
 * arch/cc.h — lwIP's compiler/platform header for the CI view of the chip
 * (see ../lwipopts.h): newlib on rv32imfc, GCC.  Types come from
 * <stdint.h> and <inttypes.h>, errno and struct timeval from newlib (the
 * chip's C library), structures are packed with GCC's attribute.
 */
#ifndef OPENPLUG_LWIP_CI_ARCH_CC_H
#define OPENPLUG_LWIP_CI_ARCH_CC_H

#include <errno.h>
#include <stdio.h>
#include <sys/time.h> /* struct timeval, before lwIP's sockets.h wants it */

#define BYTE_ORDER LITTLE_ENDIAN
#define PACK_STRUCT_STRUCT __attribute__((__packed__))
#define LWIP_PLATFORM_DIAG(message) printf message
#define LWIP_PLATFORM_ASSERT(message) printf("lwIP assertion: %s\n", message)

#endif
