/*
 * status.h — the writers of Tasmota's Status objects (Status 0..11), below
 * both the commands (cmd_device.c's Status) and the network: MQTT's
 * tele/…/STATE and tele/…/SENSOR carry the same members at the top level,
 * Home Assistant's Tasmota discovery the SENSOR sample.
 */
#ifndef OPENPLUG_STATUS_H
#define OPENPLUG_STATUS_H

#include <stdint.h>

#include "core/energy/quantity.h"
#include "core/util/json.h"

/* Each writes its object ("Status", "StatusPRM", "StatusFWR", "StatusSNS",
 * "StatusSTS") into the object open in w. */
void status_device(struct json_writer *w);
void status_parameters(struct json_writer *w);
void status_firmware(struct json_writer *w);
void status_sensors(struct json_writer *w);
void status_state(struct json_writer *w);

/* Time, the health figures (health.h: Uptime, UptimeSec, Heap, HeapFree,
 * HeapMin, Sockets, SocketsMax, LoopLag, …), POWER…, Wifi{SSId,BSSId,
 * Channel,RSSI,Signal,LinkCount,Downtime,State}: members of an open
 * object. */
void status_state_members(struct json_writer *w);

/* Time and ENERGY{TotalStartTime,Total,Yesterday,Today,[Period],Power,…}
 * (the quantities' table, quantity.h, in `style`); Period (Wh) only when
 * period_wh >= 0.  `counters`: energy_counters() for a reading now,
 * energy_saved_counters() for telemetry that must never go down across a
 * power cut. */
void status_sensor_members(struct json_writer *w, int64_t period_wh, const struct energy_counters *counters,
                           enum quantity_style style);

#endif
