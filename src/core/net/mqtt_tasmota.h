/*
 * mqtt_tasmota.h — the plug on MQTT as Tasmota speaks it: topics built
 * from FullTopic (%prefix%/%topic%/), commands on cmnd/<topic>/<Command>
 * (and the group topic), replies on stat/<topic>/RESULT (STATUSn for
 * Status n), stat/<topic>/POWER on every relay change whatever caused it,
 * the LWT, INFO1..3, STATE and SENSOR every TelePeriod and on PowerDelta,
 * and the MQTT commands (MqttHost, Topic, TelePeriod …).
 *
 * mqtt_start() is the one entry of the whole MQTT feature: firmware.c
 * calls it at boot (not in safe mode); until it is called, settings
 * commands save but connect nothing.
 */
#ifndef OPENPLUG_MQTT_TASMOTA_H
#define OPENPLUG_MQTT_TASMOTA_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util/json.h"

enum topic_prefix { PREFIX_CMND = 0, PREFIX_STAT = 1, PREFIX_TELE = 2 };

#define TASMOTA_DEFAULT_FULLTOPIC "%prefix%/%topic%/"
#define TASMOTA_DEFAULT_GROUP "openplugs"
#define TASMOTA_ONLINE "Online"
#define TASMOTA_OFFLINE "Offline"

/* Register the MQTT commands (always: they work even with MQTT off). */
void mqtt_commands_register(void);
/* Start MQTT with the saved settings (nothing happens while MqttHost is ""). */
void mqtt_start(void);

/* The effective names: Topic (openplug_XXXXXX by default), the group,
 * FullTopic, the client id, and "<prefix-expanded FullTopic><suffix>". */
const char *tasmota_topic(void);
const char *tasmota_full_topic_pattern(void);
bool tasmota_topic_for(enum topic_prefix prefix, const char *suffix, char *out, size_t size);
/* The MAC as "AABBCCDDEEFF" and as "aa:bb:cc:dd:ee:ff". */
void tasmota_mac_plain(char out[13]);
void tasmota_mac_colons(char out[18]);

/* Publish the relay states, INFO1..3, STATE and SENSOR again (after HA
 * came back online, it has none of them). */
void tasmota_republish(void);

/* The web UI's MQTT line: {"MqttStatus":{…}} members into an open object. */
void mqtt_status_json(struct json_writer *w);

#endif
