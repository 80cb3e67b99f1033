/*
 * wifi.h — the plug's Wi-Fi life: station on the saved networks (SSId1/2,
 * Password1/2), retries with backoff, and the set-up access point
 * (OpenPlug-XXXXXX from the MAC) when no network is saved or joining keeps
 * failing, so a typo never locks the owner out.  Drives the HAL's
 * hal_wifi_connect() / hal_wifi_start_ap() and announces every change of
 * the link as EVENT_WIFI (and in the log).
 *
 * Also the scan of the networks around for the set-up page
 * (wifi_write_scan()).  Not here: IP configuration (the port's network
 * stack does DHCP).
 */
#ifndef OPENPLUG_WIFI_H
#define OPENPLUG_WIFI_H

#include <stdbool.h>
#include <stdint.h>

#include "core/util/json.h"
#include "hal/hal.h"

#define WIFI_ROUNDS_BEFORE_AP 3  /* failed rounds over the saved networks, then the AP opens */
#define WIFI_RETRY_FIRST_MS 5000 /* backoff: 5 s, 10 s, 20 s … */
#define WIFI_RETRY_MAX_MS 60000

/* Register SSId, Password. */
void wifi_register(void);
/* Join a saved network, or open the set-up AP (at boot, after the settings). */
void wifi_start(void);
/* Look at the link (the firmware's 1 s tick): results of joins, lost links. */
void wifi_poll(void);

/* Try credentials from the set-up form now (the AP stays up meanwhile): on
 * success they are saved as network 1; on failure nothing is saved and
 * the error is reported.  false for an empty or too long SSID/password. */
bool wifi_try(const char *ssid, const char *password);

/* The "wifi" member of /api/state: state, ssid, rssi, ap_name. */
void wifi_write_status(struct json_writer *w);
/* The members of /api/wifi (status + saved networks, errors, set-up attempt). */
void wifi_write_details(struct json_writer *w);

/* GET /api/wifi/scan: {"scanning":…,"networks":[{"ssid","rssi","channel",
 * "secured"}…]} — the last scan's networks, strongest first; a new scan is
 * started when the last is older than WIFI_SCAN_FRESH_MS (the page asks
 * again while "scanning" is true). */
#define WIFI_SCAN_FRESH_MS 15000
void wifi_write_scan(struct json_writer *w);

/* An IPv4 address (host order) as text, "192.168.4.1". */
void wifi_ip_text(uint32_t ip, char out[16]);

/* The set-up AP's name, "OpenPlug-A1B2C3". */
const char *wifi_ap_name(void);
/* A Wi-Fi password WPA2 takes: 8-63 printable characters or 64 hex
 * digits; "" is an open network. */
bool wifi_password_valid(const char *password);
/* "off", "connecting", "connected", "access point". */
const char *wifi_state_name(enum hal_wifi_state state);

#endif
