/*
 * events.h — the one path by which changes of state are announced.
 *
 * Whoever changes something that others show or forward (a relay, a button
 * action, the Wi-Fi link) publishes one event here, whatever caused it; the
 * console log, and later the web UI, MQTT and scripts, listen.  Listeners
 * are the caller's structs, linked in; publishing is synchronous.
 */
#ifndef OPENPLUG_EVENTS_H
#define OPENPLUG_EVENTS_H

#include <stdint.h>

/* Who asked for a change: shown in logs and kept with restart reasons. */
enum source {
    SOURCE_BOOT = 0,
    SOURCE_CONSOLE,
    SOURCE_BUTTON,
    SOURCE_HTTP,
    SOURCE_MQTT,
    SOURCE_SCRIPT,
    SOURCE_OVERLOAD, /* MaxPower protection */
    SOURCE_NTP,      /* the SNTP client (clock changes) */
    SOURCE_TIMER,    /* Timer1..16 (script/timers.h) */
    SOURCE_PULSETIME, /* PulseTime switching a relay off */
    SOURCE_COUNT
};
const char *source_name(enum source source);

enum event_type {
    EVENT_CHANNEL, /* value: new state 0/1 */
    EVENT_BUTTON,  /* value: enum button_action */
    EVENT_WIFI,    /* value: enum hal_wifi_state */
    EVENT_SENSORS, /* new values in the sensor registry (energy/sensors.h) */
    EVENT_CLOCK,   /* the wall clock or local time moved: value enum clock_change (timekeeping.h) */
    EVENT_MQTT,    /* value: 1 connected to the broker, 0 connection lost
                    * (published by the MQTT client; scripts' OnMQTTOn/Off) */
    EVENT_RESTART, /* a planned restart follows in a moment: value enum restart_kind
                    * (system.h); say goodbye on the network (SSDP byebye) */
    EVENT_SETTINGS, /* settings were saved: value the enum settings_group mask
                     * of what changed (storage/config.h) */
    EVENT_TIMER,    /* a timer with Action 3 fired: value its number 1..16
                     * (scripts' OnTimer, Tasmota's Clock#Timer rule) */
    EVENT_LIMIT,    /* a margin crossed, a cut-off tripped or reset, a PulseTime
                     * countdown: channel enum limit_id, value enum limit_change
                     * (energy/limits.h) */
};

struct event {
    enum event_type type;
    uint8_t channel; /* 1-based channel (relay / button), 0 if none */
    uint8_t pin;     /* EVENT_BUTTON: the button's GPIO (scripts' OnClick <pin>) */
    int32_t value;
    enum source source;
};

typedef void (*event_fn)(const struct event *event, void *arg);

struct event_listener {
    struct event_listener *next;
    event_fn fn;
    void *arg;
};

/* Listening again with the same listener only updates fn and arg. */
void event_listen(struct event_listener *listener, event_fn fn, void *arg);
void event_publish(const struct event *event);

#endif
