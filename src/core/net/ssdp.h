/*
 * ssdp.h — `startDriver SSDP`: a UPnP root device that answers discovery.
 *
 * One UDP socket on port 1900 joined to 239.255.255.250 on the station's
 * interface.  It answers M-SEARCH for ssdp:all, upnp:rootdevice, its uuid
 * and its device type (urn:schemas-upnp-org:device:Basic:1) after the
 * random delay the searcher's MX allows, sends NOTIFY ssdp:alive when the
 * link comes up and every SSDP_NOTIFY_S, ssdp:byebye before a planned
 * restart, and serves the device description at /description.xml (name,
 * model, serial from the MAC, presentationURL = the web UI).
 *
 * Bounded against floods: the socket is read every SSDP_TICK_MS, at most
 * SSDP_READS_PER_TICK datagrams at a time (the rest wait in, or drop from,
 * the socket buffer), replies wait in a queue of SSDP_PENDING_MAX and at
 * most SSDP_REPLIES_PER_S go out a second; everything beyond is counted and
 * dropped, never queued.  The plug's loop never sees more than that work.
 */
#ifndef OPENPLUG_SSDP_H
#define OPENPLUG_SSDP_H

#include <stdint.h>

#define SSDP_PORT 1900
#define SSDP_GROUP "239.255.255.250"
#define SSDP_MAX_AGE_S 1800
#define SSDP_NOTIFY_S 600
#define SSDP_TICK_MS 100
#define SSDP_READS_PER_TICK 8
#define SSDP_PENDING_MAX 8
#define SSDP_REPLIES_PER_S 20
#define SSDP_DEVICE_TYPE "urn:schemas-upnp-org:device:Basic:1"

/* Register the driver (startDriver SSDP) and its command (at boot). */
void ssdp_register(void);

struct ssdp_stats {
    uint32_t datagrams, searches, answered, replies_sent, dropped, notifies;
};
void ssdp_get_stats(struct ssdp_stats *out);

#endif
