/*
 * sntp.h — the SNTP client (OpenBeken's `startDriver NTP`, on by default).
 *
 * Asks the servers NtpServer1..3 (host or host:port, settings group
 * `time`) in turn, over one UDP socket that exists only while a request is
 * out, entirely from the main loop: the name lookup is the HAL's
 * non-blocking one, the reply is read when the socket is ready, each step
 * has a deadline.  Syncs when the driver starts, whenever Wi-Fi comes up,
 * then hourly; after a failed round it tries again after 1 min, doubling up
 * to an hour.  A clock set by hand (`Time <epoch>`) pauses it until
 * `Time 0`, as in Tasmota.  Sets the clock through timekeeping.h (so a step
 * is announced as EVENT_CLOCK); packet checks are in sntp_packet.h.
 */
#ifndef OPENPLUG_SNTP_H
#define OPENPLUG_SNTP_H

#include <stdbool.h>

#define SNTP_RESYNC_S 3600
#define SNTP_RETRY_S 60
#define SNTP_LOOKUP_TIMEOUT_MS 5000
#define SNTP_REPLY_TIMEOUT_MS 2000

/* Register the NTP driver and the NtpServer commands (at boot). */
void sntp_register(void);

/* Whether the clock was last set by NTP. */
bool sntp_synced(void);

#endif
