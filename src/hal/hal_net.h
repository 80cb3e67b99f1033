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

/* What the idle wait saw ready on a watched fd (POLLIN, POLLOUT, POLLERR,
 * POLLHUP) since the last call for it; 0 when nothing.  A poller that
 * serves many sockets asks this first, so a loop turn woken by something
 * else (a metering pulse) costs it no system call.  Readiness is
 * level-triggered: what is not consumed is reported again. */
short hal_net_ready(int fd);

/* Sockets of the IP stack in use now (TCP, UDP, listening), against the
 * budget HAL_NET_SOCKETS_MAX (lwIP's netconn pool on the BL602). */
#define HAL_NET_SOCKETS_MAX 21
int hal_net_sockets_in_use(void);

/* Name lookup without blocking the loop: start one (a host name or a
 * dotted IPv4 address), then poll it from a timer.  Start returns a handle
 * >= 0, or HAL_EBUSY when HAL_NET_LOOKUPS are already running.  Poll
 * returns 0 with the IPv4 address (network byte order) in *ipv4 and frees
 * the handle, HAL_EBUSY while the answer is still to come, HAL_EIO (also
 * freeing it) when the name does not resolve.  Cancel frees it unanswered.
 * lwIP's dns_gethostbyname() callback on the BL602. */
#define HAL_NET_LOOKUPS 4
int hal_net_lookup_start(const char *host);
int hal_net_lookup_poll(int handle, uint32_t *ipv4);
void hal_net_lookup_cancel(int handle);

#endif /* OPENPLUG_HAL_NET_H */
