/*
 * hal_net.h — the socket layer of the HAL: the BSD socket API.
 *
 * The core's network code (HTTP, MQTT, NTP, SSDP) is written against the
 * plain BSD names — socket(), bind(), connect(), send(), recv(), poll(),
 * getaddrinfo() … — and this header brings them in from the port:
 * POSIX on Linux (src/port/host/hal_net_port.h), lwIP 2.1's socket API on
 * the BL602, where the same names exist.  It is the only way the core sees
 * an OS header.  All sockets are used non-blocking from the main loop.
 *
 * Budget to respect on the target: 21 sockets in total (10 TCP, 6 UDP,
 * 5 listening).
 */
#ifndef OPENPLUG_HAL_NET_H
#define OPENPLUG_HAL_NET_H

#include "hal_net_port.h" /* the port's BSD socket headers */

/* Put a socket in non-blocking mode.  Returns 0 or a negative HAL_E*. */
int hal_net_set_nonblocking(int fd);

/* Close a socket (lwIP's close() is not the file close()). */
int hal_net_close(int fd);

/* Ask hal_idle() to wake up when fd is ready for `events` (POLLIN,
 * POLLOUT); events 0 forgets the fd.  Returns 0, or HAL_EBUSY when the
 * watch table (as large as the socket budget) is full. */
int hal_net_watch(int fd, short events);

#endif /* OPENPLUG_HAL_NET_H */
