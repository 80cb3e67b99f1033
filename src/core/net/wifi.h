/*
 * wifi.h — the plug's Wi-Fi life: station on the saved networks (SSId1/2,
 * Password1/2), retries with backoff, and the set-up access point
 * (OpenPlug-XXXXXX from the MAC) when no network is saved or joining keeps
 * failing, so a typo never locks the owner out.  Drives the HAL's
 * hal_wifi_connect() / hal_wifi_start_ap(), announces every change as
 * EVENT_WIFI.
 */
#ifndef OPENPLUG_WIFI_H
#define OPENPLUG_WIFI_H

#include <stdbool.h>

#include "core/util/json.h"
#include "hal/hal.h"

/* The "wifi" member of the state: {"state":…,"ssid":…,"rssi":…,…}. */
void wifi_write_status(struct json_writer *w);

/* The set-up AP's name, "OpenPlug-A1B2C3". */
const char *wifi_ap_name(void);

#endif
