/*
 * multicast.h — the UDP socket of a multicast responder (SSDP, mDNS):
 * bound to the service's port on every address, the group joined on the
 * link's interface, our own datagrams looped back (other responders of the
 * host hear us), non-blocking.
 */
#ifndef OPENPLUG_MULTICAST_H
#define OPENPLUG_MULTICAST_H

#include <stdint.h>

/* group and ip in network order; ttl for what we send.  Returns the
 * socket, or -1 after a log line under `tag`. */
int multicast_open(const char *tag, uint32_t group, uint16_t port, uint32_t ip, unsigned char ttl);

#endif
