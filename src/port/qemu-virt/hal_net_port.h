/*
 * hal_net_port.h — the qemu-virt board has no network: no socket headers.
 * hal_net.h's declarations stay visible (health.c reports the sockets in
 * use, always 0 here; system.c); the network sources are not linked.
 */
#ifndef OPENPLUG_HAL_NET_PORT_H
#define OPENPLUG_HAL_NET_PORT_H
#endif
