/*
 * web_api.h — the REST API and Tasmota's /cm (web_api.c), the live event
 * stream (web_events.c) and /metrics (web_metrics.c); the contract is
 * docs/API.md.  The JSON writers are shared so that every view of the
 * state has the same shape.
 */
#ifndef OPENPLUG_WEB_API_H
#define OPENPLUG_WEB_API_H

#include "core/util/json.h"

/* Register the routes (after http_start() or before: either works). */
void web_api_start(void);

/* Members of the state object: "device_name" … "relays", "energy", "wifi". */
void web_write_state(struct json_writer *w);
/* "relays":[{"channel":1,"on":true},…] */
void web_write_relays(struct json_writer *w);
/* "energy":{…} */
void web_write_energy(struct json_writer *w);

#endif
