/*
 * status.h — the writers of Status 10 / 11 (cmd_device.c), shared with
 * MQTT's tele/…/SENSOR and tele/…/STATE, which carry the same members at
 * the top level (Tasmota's formats).
 */
#ifndef OPENPLUG_STATUS_H
#define OPENPLUG_STATUS_H

#include <stdint.h>

#include "core/util/json.h"

/* Time, the health figures (health.h: Uptime, UptimeSec, Heap, HeapFree,
 * HeapMin, Sockets, SocketsMax, LoopLag, …), POWER…, Wifi{SSId,BSSId,
 * Channel,RSSI,Signal,LinkCount,Downtime,State}: members of an open
 * object. */
void status_state_members(struct json_writer *w);

/* Time and ENERGY{TotalStartTime,Total,Yesterday,Today,[Period],Power,…};
 * Period (Wh) only when period_wh >= 0. */
struct energy_counters;
/* `counters`: energy_counters() for a reading now, energy_saved_counters()
 * for telemetry that must never go down across a power cut. */
void status_sensor_members(struct json_writer *w, int64_t period_wh, const struct energy_counters *counters);

#endif
