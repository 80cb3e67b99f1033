/* hass.c — Home Assistant discovery (MQTT and Tasmota kinds); see hass.h. */
#include "hass.h"

#include <stdio.h>
#include <string.h>

#include "core/status.h"
#include "core/energy/energy.h"
#include "core/energy/meter.h"
#include "core/energy/quantity.h"
#include "core/energy/tariff.h"
#include "core/events.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/log.h"
#include "core/net/mqtt_tasmota.h"
#include "core/storage/config.h"
#include "core/system.h"
#include "hal/hal.h"
#include "hal/hal_net.h"

#define HASS_RELAYS_MAX 8 /* Tasmota's discovery arrays */

/* One entity of HA's MQTT discovery. */
struct entity {
    const char *component; /* "switch", "sensor" */
    const char *object;    /* object id, [a-zA-Z0-9_-] */
    const char *name;
    const char *state;     /* tele suffix the value comes from: SENSOR, STATE, INFO2 … */
    const char *value;     /* value_template */
    const char *unit, *device_class, *state_class;
    bool diagnostic;
};

/* The metering entities are the quantities' table's (quantity.h); these
 * follow them. */
static const struct entity entities[] = {
    {"sensor", "rssi", "Wi-Fi signal", "STATE", "{{ value_json.Wifi.Signal }}", "dBm", "signal_strength", "measurement", true},
    {"sensor", "ip", "IP address", "INFO2", "{{ value_json.Info2.IPAddress }}", NULL, NULL, NULL, true},
    {"sensor", "uptime", "Uptime", "STATE", "{{ value_json.UptimeSec }}", "s", "duration", "total_increasing", true},
    {"sensor", "restart_reason", "Restart reason", "INFO3", "{{ value_json.Info3.RestartReason }}", NULL, NULL, NULL, true},
    /* limits.h: a latched cut-off, and any margin crossed (tele/…/LIMITS) */
    {"binary_sensor", "trip", "Protection tripped", "LIMITS", "{{ 'OFF' if value_json.Tripped == 'OFF' else 'ON' }}",
     NULL, "problem", NULL, false},
    {"sensor", "trip_reason", "Trip reason", "LIMITS", "{{ value_json.Tripped }}", NULL, NULL, NULL, true},
    {"binary_sensor", "margin", "Limit crossed", "LIMITS",
     "{{ 'ON' if 'ON' in [value_json.PowerLow, value_json.PowerHigh, value_json.VoltageLow, value_json.VoltageHigh, "
     "value_json.CurrentLow, value_json.CurrentHigh] else 'OFF' }}", NULL, "problem", NULL, false},
};
#define ENTITY_COUNT (sizeof entities / sizeof entities[0])

/* Announced only while a price is set (EnergyPrice), in its currency. */
static const struct entity cost_entities[] = {
    {"sensor", "cost_total", "Energy cost", "SENSOR", "{{ value_json.ENERGY.CostTotal }}", NULL, "monetary", "total",
     false},
    {"sensor", "cost_today", "Energy cost today", "SENSOR", "{{ value_json.ENERGY.CostToday }}", NULL, "monetary",
     NULL, false},
};
#define COST_ENTITY_COUNT (sizeof cost_entities / sizeof cost_entities[0])

/* The announcement in progress: first the other mode's topics are
 * cleared, then this mode's are published, one item per index. */
enum phase { IDLE, CLEARING, PUBLISHING };
static enum phase phase = IDLE;
static bool clear_other; /* SetOption19 changed: clear the other mode's topics once */
static unsigned item;
static bool republish_after;
static char topic[MQTT_TOPIC_MAX + 1];
static char *payload; /* the MQTT client's message buffer while an item is built and published */
static bool clear_item; /* the item being built is published empty (retained: removed from HA) */

const char *hass_ip_address(char *buf, size_t size)
{
    struct hal_wifi_link link;
    uint32_t ip = hal_wifi_link(&link) ? ntohl(link.ip) : 0;
    snprintf(buf, size, "%u.%u.%u.%u", (unsigned)(ip >> 24), (unsigned)(ip >> 16 & 255), (unsigned)(ip >> 8 & 255),
             (unsigned)(ip & 255));
    return buf;
}

static void node_id(char out[24])
{
    char mac[13];
    tasmota_mac_plain(mac);
    snprintf(out, 24, "openplug_%s", mac);
}

static unsigned relay_count(void)
{
    unsigned n = channels_relay_count() > 1 ? channels_highest_relay() : 1;
    return n > HASS_RELAYS_MAX ? HASS_RELAYS_MAX : n;
}

/* The plug's name for HA: its DeviceName; while that is still the factory
 * "OpenPlug", its topic (openplug_<MAC>), so that no two plugs look alike. */
static const char *plug_name(void)
{
    const char *name = config_get()->device_name;
    return *name && strcmp(name, "OpenPlug") != 0 ? name : tasmota_topic();
}

/* ---- HA MQTT discovery ---- */

static void device_block(struct json_writer *w)
{
    char node[24], mac[18];
    node_id(node);
    tasmota_mac_colons(mac);
    jw_object_begin(w, "device");
    jw_array_begin(w, "identifiers");
    jw_string(w, NULL, node);
    jw_array_end(w);
    jw_array_begin(w, "connections");
    jw_array_begin(w, NULL);
    jw_string(w, NULL, "mac");
    jw_string(w, NULL, mac);
    jw_array_end(w);
    jw_array_end(w);
    jw_string(w, "name", plug_name());
    jw_string(w, "model", config_get()->template_name);
    jw_string(w, "manufacturer", OPENPLUG_NAME);
    jw_string(w, "sw_version", OPENPLUG_VERSION);
    jw_object_end(w);
}

static void common_members(struct json_writer *w, const char *object, const char *name)
{
    char node[24], unique[64], lwt[MQTT_TOPIC_MAX + 1];
    node_id(node);
    snprintf(unique, sizeof unique, "%s_%s", node, object);
    tasmota_topic_for(PREFIX_TELE, "LWT", lwt, sizeof lwt);
    jw_string(w, "name", name);
    jw_string(w, "unique_id", unique);
    jw_string(w, "availability_topic", lwt);
    jw_string(w, "payload_available", TASMOTA_ONLINE);
    jw_string(w, "payload_not_available", TASMOTA_OFFLINE);
    device_block(w);
}

static bool ha_topic(const char *component, const char *object)
{
    char node[24];
    node_id(node);
    return snprintf(topic, sizeof topic, "homeassistant/%s/%s/%s/config", component, node, object) < (int)sizeof topic;
}

/* The relay of channel n as a switch: "relay" on a one-relay plug,
 * relay_<n> (and POWER<n>) when there are several. */
static void ha_switch(struct json_writer *w, unsigned channel, bool several, bool with_payload)
{
    char object[12], name[16], key[12], command[MQTT_TOPIC_MAX + 1], state[MQTT_TOPIC_MAX + 1];
    snprintf(object, sizeof object, several ? "relay_%u" : "relay", channel);
    ha_topic("switch", object);
    if (!with_payload)
        return;
    snprintf(name, sizeof name, several ? "Relay %u" : "Relay", channel);
    snprintf(key, sizeof key, several ? "POWER%u" : "POWER", channel);
    tasmota_topic_for(PREFIX_CMND, key, command, sizeof command);
    tasmota_topic_for(PREFIX_STAT, key, state, sizeof state);
    common_members(w, object, name);
    jw_string(w, "device_class", "outlet");
    jw_string(w, "command_topic", command);
    jw_string(w, "state_topic", state);
    jw_string(w, "payload_on", "ON");
    jw_string(w, "payload_off", "OFF");
    jw_string(w, "state_on", "ON");
    jw_string(w, "state_off", "OFF");
}

static void ha_sensor(struct json_writer *w, const struct entity *e, bool with_payload)
{
    char state[MQTT_TOPIC_MAX + 1];
    ha_topic(e->component, e->object);
    if (!with_payload)
        return;
    tasmota_topic_for(PREFIX_TELE, e->state, state, sizeof state);
    common_members(w, e->object, e->name);
    jw_string(w, "state_topic", state);
    jw_string(w, "value_template", e->value);
    if (e->unit)
        jw_string(w, "unit_of_measurement", e->unit);
    if (e->device_class)
        jw_string(w, "device_class", e->device_class);
    if (e->state_class)
        jw_string(w, "state_class", e->state_class);
    if (e->diagnostic)
        jw_string(w, "entity_category", "diagnostic");
}

/* Item i of HA discovery: relays, then entities.  With payload false only
 * the topic (to clear it).  False past the end. */
static bool ha_item(unsigned i, struct json_writer *w, bool with_payload, bool *skip)
{
    *skip = false;
    if (i <= HASS_RELAYS_MAX) {
        /* Item 0 is the one-relay switch, 1..8 those of a multi-relay plug;
         * the names not in use now are cleared (there may have been more). */
        unsigned relays = relay_count();
        *skip = with_payload && (i == 0 ? relays != 1 : relays == 1 || i > relays);
        ha_switch(w, i ? i : 1, i != 0, with_payload && !*skip);
        return true;
    }
    i -= HASS_RELAYS_MAX + 1;
    if (i < Q_COUNT) {
        const struct quantity *q = &quantities[i];
        const struct meter_driver *meter = meter_running();
        *skip = !q->ha_object || (with_payload && !(meter && (meter->measures & q->needs) == q->needs));
        if (!q->ha_object)
            return true; /* not an entity of its own */
        char value[48];
        snprintf(value, sizeof value, "{{ value_json.ENERGY.%s }}", q->tasmota);
        struct entity e = {"sensor", q->ha_object, q->name, "SENSOR", value, q->unit, q->device_class, q->state_class,
                           false};
        ha_sensor(w, &e, with_payload && !*skip);
        return true;
    }
    i -= Q_COUNT;
    if (i < COST_ENTITY_COUNT) {
        const struct config_tariff *tariff = &config_get()->tariff;
        struct entity e = cost_entities[i];
        e.unit = tariff->currency[0] ? tariff->currency : NULL;
        clear_item = with_payload && !tariff_priced(tariff); /* a price removed: HA drops the entity */
        ha_sensor(w, &e, with_payload && !clear_item);
        return true;
    }
    i -= COST_ENTITY_COUNT;
    if (i >= ENTITY_COUNT)
        return false;
    ha_sensor(w, &entities[i], with_payload);
    return true;
}

/* ---- Tasmota discovery ---- */

static void int_array(struct json_writer *w, const char *key, const int *values, unsigned count)
{
    jw_array_begin(w, key);
    for (unsigned i = 0; i < count; i++)
        jw_int(w, NULL, values[i]);
    jw_array_end(w);
}

static void tasmota_config(struct json_writer *w)
{
    char text[24], mac[13];
    int relays[HASS_RELAYS_MAX] = {0}, switches[HASS_RELAYS_MAX], zeros[HASS_RELAYS_MAX] = {0};
    const char *name = plug_name();
    tasmota_mac_plain(mac);
    for (unsigned i = 0; i < HASS_RELAYS_MAX; i++) {
        relays[i] = pins_find(PIN_REL, i + 1) >= 0 || pins_find(PIN_REL_N, i + 1) >= 0;
        switches[i] = -1;
    }
    jw_string(w, "ip", hass_ip_address(text, sizeof text));
    jw_string(w, "dn", name);
    jw_array_begin(w, "fn");
    jw_string(w, NULL, name);
    for (unsigned i = 1; i < HASS_RELAYS_MAX; i++)
        jw_raw(w, NULL, "null");
    jw_array_end(w);
    jw_string(w, "hn", tasmota_topic());
    jw_string(w, "mac", mac);
    jw_string(w, "md", config_get()->template_name);
    jw_int(w, "ty", 0);
    jw_int(w, "if", 0);
    jw_string(w, "ofln", TASMOTA_OFFLINE);
    jw_string(w, "onln", TASMOTA_ONLINE);
    jw_array_begin(w, "state");
    static const char *const states[] = {"OFF", "ON", "TOGGLE", "HOLD"};
    for (unsigned i = 0; i < 4; i++)
        jw_string(w, NULL, states[i]);
    jw_array_end(w);
    jw_string(w, "sw", OPENPLUG_VERSION);
    jw_string(w, "t", tasmota_topic());
    jw_string(w, "ft", tasmota_full_topic_pattern());
    jw_array_begin(w, "tp");
    jw_string(w, NULL, "cmnd");
    jw_string(w, NULL, "stat");
    jw_string(w, NULL, "tele");
    jw_array_end(w);
    int_array(w, "rl", relays, HASS_RELAYS_MAX);
    int_array(w, "swc", switches, HASS_RELAYS_MAX);
    jw_array_begin(w, "swn");
    for (unsigned i = 0; i < HASS_RELAYS_MAX; i++)
        jw_raw(w, NULL, "null");
    jw_array_end(w);
    int_array(w, "btn", zeros, HASS_RELAYS_MAX);
    jw_object_begin(w, "so");
    static const char *const options[] = {"4", "11", "13", "17", "20", "30", "68", "73", "82", "114", "117"};
    for (unsigned i = 0; i < sizeof options / sizeof options[0]; i++)
        jw_int(w, options[i], 0);
    jw_object_end(w);
    jw_int(w, "lk", 0);
    jw_int(w, "lt_st", 0);
    jw_array_begin(w, "sho");
    jw_array_end(w);
    jw_array_begin(w, "sht");
    jw_array_end(w);
    jw_int(w, "ver", 1);
}

static void tasmota_sensors(struct json_writer *w)
{
    jw_object_begin(w, "sn");
    status_sensor_members(w, -1, energy_saved_counters(), QUANTITY_SAMPLE);
    jw_object_end(w);
    jw_int(w, "ver", 1);
}

static bool tasmota_item(unsigned i, struct json_writer *w, bool with_payload, bool *skip)
{
    char mac[13];
    *skip = false;
    if (i > 1)
        return false;
    tasmota_mac_plain(mac);
    snprintf(topic, sizeof topic, "tasmota/discovery/%s/%s", mac, i == 0 ? "config" : "sensors");
    if (with_payload) {
        if (i == 0)
            tasmota_config(w);
        else
            tasmota_sensors(w);
    }
    return true;
}

/* ---- The announcement ---- */

static bool ha_mode(void) { return config_get()->mqtt.ha_discovery; }

static void start(void)
{
    phase = clear_other ? CLEARING : PUBLISHING;
    item = 0;
}

void hass_connected(void)
{
    republish_after = false;
    start();
}

/* `arg`: the mode announced last. */
static void on_settings(const struct event *event, void *arg)
{
    bool *announced_ha = arg;
    if (event->type != EVENT_SETTINGS)
        return;
    if ((event->value & SETTINGS_MQTT) && ha_mode() != *announced_ha) {
        *announced_ha = ha_mode();
        clear_other = true;
        LOG_INF("MQT", "discovery: %s", ha_mode() ? "Home Assistant MQTT discovery" : "Tasmota discovery");
        start();
    } else if (event->value & (SETTINGS_NAME | SETTINGS_PINS | SETTINGS_TARIFF)) {
        start(); /* the device's name or its entities (cost: price, currency) changed */
    }
}

void hass_start(void)
{
    static struct event_listener listener;
    static bool announced_ha;
    announced_ha = ha_mode();
    event_listen(&listener, on_settings, &announced_ha);
}

bool hass_on_message(const struct mqtt_message *m)
{
    if (strcmp(m->topic, HASS_STATUS_TOPIC) != 0)
        return false;
    if (m->payload_len == 6 && memcmp(m->payload, "online", 6) == 0) {
        LOG_INF("MQT", "Home Assistant is online: discovery again");
        republish_after = true;
        start();
    }
    return true;
}

/* Build item `item` of the phase into topic/payload; false past the end. */
static bool build(bool *skip)
{
    struct json_writer w;
    bool publishing = phase == PUBLISHING;
    bool this_mode_ha = ha_mode();
    bool use_ha = publishing ? this_mode_ha : !this_mode_ha;
    payload = mqtt_message_buffer();
    jw_init(&w, payload, MQTT_MESSAGE_MAX);
    clear_item = false;
    if (publishing)
        jw_object_begin(&w, NULL);
    bool exists = use_ha ? ha_item(item, &w, publishing, skip) : tasmota_item(item, &w, publishing, skip);
    if (publishing) {
        jw_object_end(&w);
        if (w.overflow) {
            LOG_ERR("MQT", "discovery payload too long for %s", topic);
            *skip = true;
        }
    }
    if (!publishing || *skip || clear_item)
        payload[0] = '\0';
    return exists;
}

void hass_publish_pending(void)
{
    while (phase != IDLE) {
        bool skip;
        if (!build(&skip)) {
            if (phase == CLEARING) {
                clear_other = false;
                phase = PUBLISHING;
                item = 0;
                continue;
            }
            phase = IDLE;
            if (republish_after)
                tasmota_republish();
            return;
        }
        if (skip) { /* no such relay, no metering: nothing to announce */
            item++;
            continue;
        }
        int r = mqtt_publish(topic, payload, strlen(payload), 0, true);
        if (r == MQTT_EBUSY)
            return; /* next turn */
        if (r == MQTT_EDOWN) {
            phase = IDLE; /* the next connect starts over */
            return;
        }
        item++;
    }
}
