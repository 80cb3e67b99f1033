/*
 * lwipopts.h — lwIP 2.1 options for compiling OpenPlug's network code
 * against Debian's lwIP headers (liblwip-dev) in CI, with the socket API
 * configured as the BL602 SDK configures it: an OS port (NO_SYS 0),
 * IPv4 only, TCP, UDP, raw, DNS, IGMP, the BSD socket API with the plain
 * names (LWIP_COMPAT_SOCKETS 1) and the POSIX I/O names (read, write,
 * close, fcntl, ioctl map to lwip_*), select() and poll(), SO_REUSE,
 * send/receive timeouts, keepalive, errno from the C library, struct
 * timeval from <sys/time.h>, and the SDK's pools (10 TCP, 6 UDP,
 * 5 listening = 21 netconns).  Only the header view: nothing of lwIP is
 * built or linked here (the chip's image links the SDK's lwIP).
 */
#ifndef OPENPLUG_LWIP_CI_LWIPOPTS_H
#define OPENPLUG_LWIP_CI_LWIPOPTS_H

#define NO_SYS 0
#define SYS_LIGHTWEIGHT_PROT 1
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_TCP 1
#define LWIP_UDP 1
#define LWIP_RAW 1
#define LWIP_DNS 1
#define LWIP_IGMP 1
#define LWIP_DHCP 1
#define LWIP_NETCONN 1
#define LWIP_SOCKET 1
#define LWIP_COMPAT_SOCKETS 1
#define LWIP_POSIX_SOCKETS_IO_NAMES 1
#define LWIP_SOCKET_SELECT 1
#define LWIP_SOCKET_POLL 1
#define LWIP_SOCKET_SET_ERRNO 1
#define LWIP_SO_SNDTIMEO 1
#define LWIP_SO_RCVTIMEO 1
#define LWIP_TCP_KEEPALIVE 1
#define SO_REUSE 1
#define LWIP_TIMEVAL_PRIVATE 0
#define LWIP_ERRNO_STDINCLUDE 1

#define MEM_SIZE (8 * 1024)
#define MEMP_NUM_TCP_PCB 10
#define MEMP_NUM_UDP_PCB 6
#define MEMP_NUM_TCP_PCB_LISTEN 5
#define MEMP_NUM_NETCONN (MEMP_NUM_TCP_PCB + MEMP_NUM_UDP_PCB + MEMP_NUM_TCP_PCB_LISTEN)
#define TCP_MSS (1500 - 40)

#endif
