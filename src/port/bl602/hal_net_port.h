/*
 * hal_net_port.h — the BL602 port's socket headers: lwIP 2.1's BSD socket
 * API (LWIP_COMPAT_SOCKETS gives the plain names).  Only hal_net.h
 * includes this.  The rest of the BL602 port is not written yet; this
 * header lets `make size` compile the core for the chip.
 */
#ifndef OPENPLUG_HAL_NET_PORT_H
#define OPENPLUG_HAL_NET_PORT_H

#if __has_include(<lwip/sockets.h>)
#include <lwip/netdb.h>
#include <lwip/sockets.h>
#endif

#endif
