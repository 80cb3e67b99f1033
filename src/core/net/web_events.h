/*
 * web_events.h — the live stream of changes for the web UI: Server-Sent
 * Events at GET /api/events (relay, sensors, Wi-Fi, log lines; see
 * docs/API.md).  Listens to events.h and the log; each client's position
 * lives in its request's http_user() area, so nothing is queued per client.
 */
#ifndef OPENPLUG_WEB_EVENTS_H
#define OPENPLUG_WEB_EVENTS_H

#include "core/net/http.h"

#define WEB_EVENTS_PING_MS 15000 /* a comment line when nothing else was sent */
#define WEB_EVENTS_RELAY_RING 8  /* relay changes kept for slow clients */
/* Streams at once: each holds a pooled connection for as long as the page
 * is open, so some of the pool stays for requests (more tabs: 503, and
 * the page polls /api/state instead). */
#define WEB_EVENTS_MAX_CLIENTS (HTTP_POOL / 2)

void web_events_start(void);

#endif
