/*
 * hass.h — Home Assistant discovery, both kinds, chosen by SetOption19:
 *
 *   1: HA's own MQTT discovery: retained configs on
 *      homeassistant/<component>/openplug_<MAC>/<object>/config — the relay
 *      as a switch (device_class outlet), power, voltage, current, power
 *      factor, energy total/today/yesterday (kWh, total_increasing), and
 *      diagnostic RSSI, IP, uptime and restart reason, one device block;
 *   0: (default, as Tasmota) Tasmota discovery for HA's Tasmota
 *      integration: tasmota/discovery/<MAC>/config and …/sensors.
 *
 * Whichever mode is on is published at every connect and again when HA
 * says `online` on homeassistant/status; the other mode's topics are
 * cleared (empty retained payloads), so switching modes removes what the
 * previous one announced.  Messages go out a few per loop turn as the
 * client has room (mqtt_tasmota.c's publisher drives this).
 */
#ifndef OPENPLUG_HASS_H
#define OPENPLUG_HASS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/net/mqtt.h"

#define HASS_STATUS_TOPIC "homeassistant/status"

/* Follow the settings (with MQTT): SetOption19 changed clears the other
 * mode's topics and announces again; a new DeviceName or template
 * announces again at once (EVENT_SETTINGS). */
void hass_start(void);
/* Connected: announce (clear the other mode, publish this one). */
void hass_connected(void);
/* A message on HASS_STATUS_TOPIC: true if it was one (consumed). */
bool hass_on_message(const struct mqtt_message *message);
/* Send the next discovery messages while the client has room. */
void hass_publish_pending(void);

/* The plug's IPv4 address as text (for discovery, INFO2). */
const char *hass_ip_address(char *buf, size_t size);

#endif
