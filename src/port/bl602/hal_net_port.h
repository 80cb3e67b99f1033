/*
 * hal_net_port.h — the BL602 port's socket headers: lwIP 2.1's BSD socket
 * API (LWIP_COMPAT_SOCKETS gives the plain names: socket(), poll(), ...).
 * Only hal_net.h includes this.
 *
 * <sys/time.h> comes first: the SDK's lwIP takes struct timeval from the C
 * library (LWIP_TIMEVAL_PRIVATE 0) and its sockets.h does not include it.
 * The RV32 picolibc tree (make size, unit tests) has no lwIP; there the
 * network services are left out and nothing here is needed.
 */
#ifndef OPENPLUG_HAL_NET_PORT_H
#define OPENPLUG_HAL_NET_PORT_H

#if __has_include(<lwip/sockets.h>)
#include <sys/time.h>

#include <lwip/inet.h>
#include <lwip/netdb.h>
#include <lwip/sockets.h>
#endif

#endif
