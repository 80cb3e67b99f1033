/*
 * mdns.h — `startDriver MDNS`: the plug announces itself on the local
 * network as Tasmota does, by multicast DNS (RFC 6762) and DNS-SD (RFC
 * 6763): "<host>.local" (host: the set-up AP's name in lower case,
 * "openplug-a1b2c3") with its address, and its web UI as an _http._tcp
 * service named after DeviceName.
 *
 * One UDP socket on port 5353 joined to 224.0.0.251 on the station's
 * interface, open while the station is joined.  It announces the records
 * twice when the link comes up (1 s apart), answers the queries that ask
 * for them (multicast; to the asker for a QU question or a query from
 * another port than 5353), and says goodbye (TTL 0) before a planned
 * restart.  Not done: probing and name conflict resolution (the host name
 * carries the MAC's last three bytes), known-answer suppression, IPv6.
 * Bounded: at most MDNS_READS_PER_TURN datagrams read per loop turn and
 * MDNS_REPLIES_PER_S replies a second; the rest are dropped and counted.
 */
#ifndef OPENPLUG_MDNS_H
#define OPENPLUG_MDNS_H

#include <stdint.h>

#define MDNS_READS_PER_TURN 4
#define MDNS_REPLIES_PER_S 20
#define MDNS_ANNOUNCE_GAP_MS 1000

/* Register the driver (startDriver MDNS) at boot. */
void mdns_register(void);

#endif
