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

#endif
