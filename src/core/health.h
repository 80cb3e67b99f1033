/*
 * health.h — is every part of the plug still making progress?  The
 * software watchdog on top of the hardware one, safe mode, and the health
 * figures of Status / STATE / /api/state.
 *
 * Every long-lived activity (the main loop, metering, the network clients,
 * scripts) registers once with the longest time it may go without progress,
 * then calls health_alive() whenever it makes some (a turn done, a packet
 * handled, a gate closed, an idle state confirmed):
 *
 *   static struct health_activity mqtt_health;
 *   health_register(&mqtt_health, "mqtt", 30000);
 *   ...  health_alive(&mqtt_health);
 *
 * A monitor in the loop feeds the hardware watchdog (hal_wdt_*) only while
 * every registered activity has reported within its timeout.  When one
 * stalls, it records "watchdog: <name>" as the restart reason (kept across
 * the reset, see system.h) and stops feeding: the chip resets within the
 * hardware timeout, the relays come back per PowerOnState.  A main loop that
 * stops altogether stops the monitor too: that reset reads "watchdog: loop".
 * An activity that ends on purpose (a driver stopped, a client switched
 * off) calls health_unregister().  Main loop only.
 */
#ifndef OPENPLUG_HEALTH_H
#define OPENPLUG_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/util/json.h"

#define HEALTH_NAME_MAX 15

struct health_activity {
    struct health_activity *next;
    const char *name;     /* "loop", "metering", "mqtt", … (at most 15 characters) */
    uint32_t timeout_ms;  /* longest time without progress */
    uint64_t alive_ms;    /* hal_time_ms() of the last report */
    bool wedged;          /* test hook: reports are ignored (health_wedge) */
};

/* Start watching an activity (it counts as alive now).  Registering one
 * already registered only updates its timeout. */
void health_register(struct health_activity *activity, const char *name, uint32_t timeout_ms);
void health_unregister(struct health_activity *activity);
void health_alive(struct health_activity *activity);

/* Start the monitor and the hardware watchdog (firmware_boot, last). */
void health_start(void);

/* The activity that stalls first (NULL when all are alive). */
const struct health_activity *health_stalled(void);

/* Test hook (the simulator's world request `wedge <name>`): from now on the
 * named activity's reports are ignored, as if it were stuck.  Returns false
 * for an unknown name. */
bool health_wedge(const char *name);

/* True when this boot runs in safe mode: access point, web UI, OTA and
 * console only — no drivers, scripts or MQTT (see safemode.h). */
bool system_safe_mode(void);

/* The health figures as members of an open JSON object, for Status 11,
 * MQTT STATE and the web API's state:
 *   "Uptime":"0T01:02:03","UptimeSec":3723,"Heap":101 (KB, Tasmota),
 *   "HeapFree":103424,"HeapMin":99840 (bytes),"Sockets":3,"SocketsMax":21,
 *   "LoopLag":2 (ms, worst in the last minute),"LoopLagP99":1 (ms, since boot),
 *   "WatchdogResets":0,"BootCount":12,"RestartReason":"Power on","SafeMode":0 */
void health_write_json(struct json_writer *w);

#endif
