/*
 * hal_net_port.h — the host port's socket headers: POSIX provides the BSD
 * socket API that hal_net.h promises.  Only hal_net.h includes this.
 */
#ifndef OPENPLUG_HAL_NET_PORT_H
#define OPENPLUG_HAL_NET_PORT_H

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

/* Datagrams go through the simulated world's router (sim_net.c): those to
 * a world service's address reach the simulator's own server. */
ssize_t sim_net_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t to_len);
ssize_t sim_net_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *from_len);
#define sendto sim_net_sendto
#define recvfrom sim_net_recvfrom

#endif
