/*
 * mqtt_tasmota.c — Tasmota's MQTT dialect on top of the client (mqtt.c):
 * topics, the command path, relay and telemetry messages, and the MQTT
 * settings commands; see mqtt_tasmota.h.  Discovery is hass.c's.
 *
 * Messages that must go out are kept as "pending" bits and sent by a
 * poller as room frees up in the client's transmit buffer, so a burst
 * (connect: LWT, INFO1..3, POWER, discovery) never needs a larger buffer
 * and a full buffer delays a message instead of losing it.
 */
#include "mqtt_tasmota.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/cmd/cmd.h"
#include "core/cmd/cmd_setting.h"
#include "core/status.h"
#include "core/energy/energy.h"
#include "core/energy/limits.h"
#include "core/energy/meter.h"
#include "core/events.h"
#include "core/io/channels.h"
#include "core/log.h"
#include "core/net/hass.h"
#include "core/net/mqtt.h"
#include "core/net/mqtt_ca.h"
#include "core/net/mqtt_replies.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "core/system.h"
#include "core/timekeeping.h"
#include "core/util/heap.h"
#include "hal/hal.h"

#define TELE_FIRST_MS 2000 /* STATE and SENSOR this long after connecting */

enum pending {
    P_SUBSCRIBE = 1u << 0,
    P_ONLINE = 1u << 1,
    P_INFO1 = 1u << 2,
    P_INFO2 = 1u << 3,
    P_INFO3 = 1u << 4,
    P_POWER = 1u << 5, /* stat/…/POWER (+RESULT) of every relay */
    P_STATE = 1u << 6,
    P_SENSOR = 1u << 7,
    P_NOTICE = 1u << 8,  /* stat/…/WARNING or RESULT of a trip (notice_* below) */
    P_MARGINS = 1u << 9, /* tele/…/MARGINS of the margins in margins_changed */
    P_LIMITS = 1u << 10, /* tele/…/LIMITS, retained: the protection state (HA's alarms) */
};

static bool started;   /* mqtt_start() was called: MQTT may connect */
static unsigned pending;
static struct sched_poller publisher;
static struct sched_timer tele_timer, restart_timer;
static struct event_listener listener;
static char topic_buf[MQTT_TOPIC_MAX + 1];
static uint64_t sensor_base_uj;  /* Total at the last SENSOR: its Period */
static float sensor_last_power_w;
static uint64_t sensor_last_ms;
static unsigned margins_changed;
static char notice_suffix[8];
static char notice_json[96];

/* ---- Names ---- */

void tasmota_mac_plain(char out[13])
{
    uint8_t mac[6];
    hal_mac(mac);
    snprintf(out, 13, "%02X%02X%02X%02X%02X%02X", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

void tasmota_mac_colons(char out[18])
{
    uint8_t mac[6];
    hal_mac(mac);
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

const char *tasmota_topic(void)
{
    static char fallback[CONFIG_NAME_SIZE];
    const char *topic = config_get()->mqtt.topic;
    if (*topic)
        return topic;
    char mac[13];
    tasmota_mac_plain(mac);
    snprintf(fallback, sizeof fallback, "openplug_%s", mac + 6);
    return fallback;
}

static const char *group_topic(void)
{
    const char *group = config_get()->mqtt.group_topic;
    return *group ? group : TASMOTA_DEFAULT_GROUP;
}

const char *tasmota_full_topic_pattern(void)
{
    const char *full = config_get()->mqtt.full_topic;
    return *full ? full : TASMOTA_DEFAULT_FULLTOPIC;
}

/* Expand FullTopic for `topic`; false if the result is too long. */
static bool expand(const char *topic, enum topic_prefix prefix, const char *suffix, char *out, size_t size)
{
    static const char *const prefixes[] = {"cmnd", "stat", "tele"};
    char mac[13];
    tasmota_mac_plain(mac);
    size_t n = 0;
    for (const char *p = tasmota_full_topic_pattern(); *p && n < size;) {
        const char *with = NULL;
        size_t skip = 0;
        if (strncmp(p, "%prefix%", 8) == 0)
            with = prefixes[prefix], skip = 8;
        else if (strncmp(p, "%topic%", 7) == 0)
            with = topic, skip = 7;
        else if (strncmp(p, "%hostname%", 10) == 0)
            with = tasmota_topic(), skip = 10;
        else if (strncmp(p, "%id%", 4) == 0)
            with = mac + 6, skip = 4;
        if (with) {
            n += (size_t)snprintf(out + n, size - n, "%s", with);
            p += skip;
        } else {
            out[n++] = *p++;
        }
    }
    if (n < size && (n == 0 || out[n - 1] != '/'))
        out[n++] = '/';
    if (n >= size)
        return false;
    int written = snprintf(out + n, size - n, "%s", suffix);
    return written >= 0 && (size_t)written < size - n;
}

bool tasmota_topic_for(enum topic_prefix prefix, const char *suffix, char *out, size_t size)
{
    return expand(tasmota_topic(), prefix, suffix, out, size);
}

/* ---- Publishing ---- */

/* Publish text on <prefix>/<topic>/<suffix>; false if it must wait. */
static bool publish(enum topic_prefix prefix, const char *suffix, const char *text, uint8_t qos, bool retain)
{
    if (!tasmota_topic_for(prefix, suffix, topic_buf, sizeof topic_buf))
        return true; /* cannot ever be sent: FullTopic too long (refused when set) */
    return mqtt_publish_text(topic_buf, text, qos, retain) != MQTT_EBUSY;
}

static const char *begin_json(struct json_writer *w)
{
    char *json = mqtt_message_buffer();
    jw_init(w, json, MQTT_MESSAGE_MAX);
    jw_object_begin(w, NULL);
    return json;
}

static const char *end_json(struct json_writer *w)
{
    jw_object_end(w);
    return jw_text(w);
}

static bool publish_state(void)
{
    struct json_writer w;
    begin_json(&w);
    status_state_members(&w);
    return publish(PREFIX_TELE, "STATE", end_json(&w), 0, false);
}

/* Energy as saved on flash (see energy_saved_counters()): a telemetry
 * period saves first, so the figures lag only between two periods. */
static bool publish_sensor(void)
{
    struct json_writer w;
    uint64_t total = energy_saved_counters()->total_uj;
    begin_json(&w);
    status_sensor_members(&w, energy_wh(total - sensor_base_uj), energy_saved_counters(), QUANTITY_TASMOTA);
    if (!publish(PREFIX_TELE, "SENSOR", end_json(&w), 0, false))
        return false;
    sensor_base_uj = total;
    sensor_last_power_w = meter_reading()->power_w;
    sensor_last_ms = hal_time_ms();
    return true;
}

static void power_key(unsigned channel, char *key, size_t size)
{
    if (channels_relay_count() > 1)
        snprintf(key, size, "POWER%u", channel);
    else
        snprintf(key, size, "POWER");
}

/* stat/…/RESULT {"POWERn":…} and stat/…/POWERn for one relay. */
static bool publish_power(unsigned channel, bool with_result)
{
    char key[12];
    const char *state = channel_get(channel) ? "ON" : "OFF";
    power_key(channel, key, sizeof key);
    if (with_result) {
        struct json_writer w;
        begin_json(&w);
        jw_string(&w, key, state);
        if (!publish(PREFIX_STAT, "RESULT", end_json(&w), 1, false))
            return false;
    }
    return publish(PREFIX_STAT, key, state, 1, false);
}

static bool publish_all_power(void)
{
    unsigned last = channels_relay_count() > 1 ? channels_highest_relay() : 1;
    for (unsigned channel = 1; channel <= last; channel++)
        if (!publish_power(channel, true))
            return false;
    return true;
}

static bool publish_info(unsigned which)
{
    struct json_writer w;
    char text[48];
    begin_json(&w);
    if (which == 1) {
        jw_object_begin(&w, "Info1");
        jw_string(&w, "Module", config_get()->template_name);
        jw_string(&w, "Version", OPENPLUG_VERSION);
        jw_string(&w, "FallbackTopic", tasmota_topic());
        jw_string(&w, "GroupTopic", group_topic());
    } else if (which == 2) {
        jw_object_begin(&w, "Info2");
        jw_string(&w, "WebServerMode", "Admin");
        jw_string(&w, "Hostname", tasmota_topic());
        jw_string(&w, "IPAddress", hass_ip_address(text, sizeof text));
    } else {
        jw_object_begin(&w, "Info3");
        system_reset_reason(text, sizeof text);
        jw_string(&w, "RestartReason", text);
    }
    jw_object_end(&w);
    snprintf(text, sizeof text, "INFO%u", which);
    return publish(PREFIX_TELE, text, end_json(&w), 0, false);
}

/* Tasmota's margin message: {"MARGINS":{"PowerHigh":"ON"}}, the changed ones. */
static bool publish_margins(void)
{
    struct json_writer w;
    begin_json(&w);
    jw_object_begin(&w, "MARGINS");
    for (unsigned id = 0; id < LIMIT_MARGINS; id++)
        if (margins_changed >> id & 1u)
            jw_string(&w, limit_name((enum limit_id)id), limits_margins() >> id & 1u ? "ON" : "OFF");
    jw_object_end(&w);
    if (!publish(PREFIX_TELE, "MARGINS", end_json(&w), 0, false))
        return false;
    margins_changed = 0;
    return true;
}

static bool publish_limits(void)
{
    struct json_writer w;
    begin_json(&w);
    limits_write_state(&w, false);
    return publish(PREFIX_TELE, "LIMITS", end_json(&w), 0, true);
}

static bool publish_notice(void) { return publish(PREFIX_STAT, notice_suffix, notice_json, 0, false); }

/* A cut-off's messages, as Tasmota words them: WARNING {"MaxPowerReached":2600},
 * RESULT {"PowerMonitor":"ON"} at a retry, WARNING {"MaxPowerReachedRetry":"OFF"}
 * when retries are used up, RESULT {"EnergyMonitor":"ON"} when MaxEnergyStart
 * switches back on.  MaxVoltage/MinVoltage are ours, worded alike. */
static void limit_notice(const struct event *e)
{
    char key[32], time[24];
    struct json_writer w;
    bool warning = e->value != LIMIT_OFF && e->value != LIMIT_RETRY;
    if (e->value == LIMIT_OFF && !(e->channel == LIMIT_MAX_ENERGY && e->source == SOURCE_OVERLOAD))
        return; /* reset by the user: LIMITS says so */
    jw_init(&w, notice_json, sizeof notice_json);
    jw_object_begin(&w, NULL);
    clock_local_iso8601(time, sizeof time);
    jw_string(&w, "Time", time);
    if (e->value == LIMIT_ON) {
        snprintf(key, sizeof key, "%sReached", limit_name((enum limit_id)e->channel));
        if (e->channel == LIMIT_MAX_ENERGY)
            jw_fixed(&w, key, (int64_t)limits_trip_value(), 3); /* kWh */
        else
            jw_int(&w, key, (int64_t)(limits_trip_value() + 0.5f));
    } else {
        jw_string(&w, e->value == LIMIT_GAVE_UP ? "MaxPowerReachedRetry" : e->value == LIMIT_RETRY ? "PowerMonitor" : "EnergyMonitor",
                  e->value == LIMIT_GAVE_UP ? "OFF" : "ON");
    }
    jw_object_end(&w);
    snprintf(notice_suffix, sizeof notice_suffix, "%s", warning ? "WARNING" : "RESULT");
    pending |= P_NOTICE | P_SENSOR;
}

static bool subscribe(void)
{
    char own[MQTT_TOPIC_MAX + 1], group[MQTT_TOPIC_MAX + 1];
    const char *filters[3] = {own, group, HASS_STATUS_TOPIC};
    if (!tasmota_topic_for(PREFIX_CMND, "#", own, sizeof own) || !expand(group_topic(), PREFIX_CMND, "#", group, sizeof group))
        return true;
    return mqtt_subscribe(filters, 3) != MQTT_EBUSY;
}

static bool publish_online(void) { return publish(PREFIX_TELE, "LWT", TASMOTA_ONLINE, 1, true); }
static bool publish_info1(void) { return publish_info(1); }
static bool publish_info2(void) { return publish_info(2); }
static bool publish_info3(void) { return publish_info(3); }

/* Send what is pending, in order, while there is room. */
static void publish_pending(void *arg)
{
    (void)arg;
    if (!mqtt_connected())
        return;
    mqtt_replies_send();
    static const struct {
        unsigned bit;
        bool (*send)(void);
    } steps[] = {
        {P_SUBSCRIBE, subscribe},    {P_ONLINE, publish_online},   {P_INFO1, publish_info1},
        {P_INFO2, publish_info2},    {P_INFO3, publish_info3},     {P_POWER, publish_all_power},
        {P_STATE, publish_state},    {P_SENSOR, publish_sensor},   {P_NOTICE, publish_notice},
        {P_MARGINS, publish_margins}, {P_LIMITS, publish_limits},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0] && pending; i++) {
        if (!(pending & steps[i].bit))
            continue;
        if (!steps[i].send())
            return; /* no room: the rest waits for the next turn */
        pending &= ~steps[i].bit;
    }
    if (!pending)
        hass_publish_pending();
}

void tasmota_republish(void) { pending |= P_INFO1 | P_INFO2 | P_INFO3 | P_POWER | P_STATE | P_SENSOR; }

/* ---- Telemetry timing ---- */

static void tele_due(void *arg)
{
    (void)arg;
    energy_checkpoint(); /* the SENSOR below publishes what is saved */
    pending |= P_STATE | P_SENSOR;
}

static void start_tele_timer(uint32_t first_ms)
{
    uint16_t period = config_get()->mqtt.tele_period_s;
    if (period)
        sched_timer_start(&tele_timer, first_ms, period * 1000u);
    else
        sched_timer_stop(&tele_timer);
}

/* PowerDelta, Tasmota's encoding: 1..100 % of the last reported power,
 * 101..32000 W + 100. */
static bool power_moved(float now_w)
{
    uint16_t delta = config_get()->mqtt.power_delta;
    if (!delta || hal_time_ms() - sensor_last_ms < 1000)
        return false;
    float change = now_w > sensor_last_power_w ? now_w - sensor_last_power_w : sensor_last_power_w - now_w;
    float threshold = delta <= 100 ? sensor_last_power_w * delta / 100.0f : (float)(delta - 100);
    return change > (threshold < 1.0f ? 1.0f : threshold);
}

static void on_event(const struct event *e, void *arg)
{
    (void)arg;
    if (!mqtt_connected())
        return;
    if (e->type == EVENT_RESTART) {
        /* A clean DISCONNECT keeps the broker from sending the Will: say
         * Offline ourselves, as the plug goes away for a moment. */
        publish(PREFIX_TELE, "LWT", TASMOTA_OFFLINE, 1, true);
        mqtt_client_stop();
        return;
    }
    if (e->type == EVENT_CHANNEL) {
        /* A command from MQTT already replied with RESULT. */
        if (!publish_power(e->channel, e->source != SOURCE_MQTT))
            pending |= P_POWER;
    } else if (e->type == EVENT_LIMIT && e->channel < LIMIT_COUNT) {
        pending |= P_LIMITS;
        if (e->channel < LIMIT_MARGINS) {
            margins_changed |= 1u << e->channel;
            pending |= P_MARGINS | P_SENSOR;
        } else {
            limit_notice(e);
        }
    } else if (e->type == EVENT_SENSORS && meter_reading()->valid && power_moved(meter_reading()->power_w)) {
        pending |= P_SENSOR;
    }
}

/* ---- Receiving commands ---- */

struct reply_route {
    char suffix[16];
};

static void reply_to_mqtt(const char *json, void *arg)
{
    const struct reply_route *route = arg;
    mqtt_reply(route->suffix, json);
}

static bool same_word(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if ((*a | 0x20) != (*b | 0x20))
            return false;
    return *a == *b;
}

/* Tasmota answers Status n on stat/…/STATUSn, everything else on RESULT. */
static void route_for(const char *command, const uint8_t *payload, size_t len, struct reply_route *route)
{
    strcpy(route->suffix, "RESULT");
    if (!same_word(command, "status"))
        return;
    char number[4] = "";
    size_t i = 0;
    while (i < len && i < 3 && payload[i] >= '0' && payload[i] <= '9') {
        number[i] = (char)payload[i];
        i++;
    }
    number[i] = '\0';
    snprintf(route->suffix, sizeof route->suffix, "STATUS%s", i == len && strcmp(number, "0") != 0 ? number : "");
}

static void run_command(const char *command, const uint8_t *payload, size_t len)
{
    /* "<command> <payload>" lives on the heap while the command runs: the
     * payload can be a whole packet (MQTT_RX_MAX), most are a few bytes. */
    size_t size = strlen(command) + 1 + len + 1;
    if (size > MQTT_RX_MAX + MQTT_TOPIC_MAX + 2 || !*command || strchr(command, '/'))
        return;
    if (memchr(payload, '\0', len)) {
        LOG_INF("MQT", "ignored command %s: NUL in its payload", command);
        return;
    }
    char *line = heap_take(size);
    if (!line) {
        LOG_ERR("MQT", "command %s not run: out of memory (%u bytes)", command, (unsigned)size);
        return;
    }
    struct reply_route route;
    route_for(command, payload, len, &route);
    int n = snprintf(line, size, "%s ", command);
    memcpy(line + n, payload, len);
    line[n + (int)len] = '\0';
    cmd_execute(line, SOURCE_MQTT, reply_to_mqtt, &route);
    heap_give(line);
}

/* "cmnd/<topic>/" for our topic or the group: the command after it, or NULL. */
static const char *command_in(const char *topic)
{
    char prefix[MQTT_TOPIC_MAX + 1];
    const char *names[2] = {tasmota_topic(), group_topic()};
    for (int i = 0; i < 2; i++) {
        if (!expand(names[i], PREFIX_CMND, "", prefix, sizeof prefix))
            continue;
        size_t n = strlen(prefix);
        if (strncmp(topic, prefix, n) == 0)
            return topic + n;
    }
    return NULL;
}

static void on_message(const struct mqtt_message *m)
{
    if (hass_on_message(m))
        return;
    const char *command = command_in(m->topic);
    if (!command)
        return;
    if (m->retained) {
        /* A retained command would run again at every reconnect. */
        LOG_INF("MQT", "ignored retained command %s", m->topic);
        return;
    }
    run_command(command, m->payload, m->payload_len);
}

static void on_connected(void)
{
    pending = P_SUBSCRIBE | P_ONLINE | P_INFO1 | P_INFO2 | P_INFO3 | P_POWER | P_LIMITS;
    sensor_base_uj = energy_saved_counters()->total_uj;
    start_tele_timer(TELE_FIRST_MS);
    hass_connected();
    publish_pending(NULL);
    event_publish(&(struct event){.type = EVENT_MQTT, .value = 1, .source = SOURCE_MQTT});
}

static void on_disconnected(void)
{
    sched_timer_stop(&tele_timer);
    pending = 0;
    mqtt_replies_drop();
    event_publish(&(struct event){.type = EVENT_MQTT, .value = 0, .source = SOURCE_MQTT});
}

/* ---- Start and settings changes ---- */

static void apply_settings(void *arg)
{
    (void)arg;
    const struct config_mqtt *s = &config_get()->mqtt;
    if (!started)
        return;
    if (!*s->host) {
        mqtt_client_stop();
        return;
    }
    struct mqtt_endpoint ep = {.port = s->port, .tls = s->tls};
    strcpy(ep.host, s->host);
    snprintf(ep.client_id, sizeof ep.client_id, "%s", *s->client ? s->client : tasmota_topic());
    strcpy(ep.user, s->user);
    strcpy(ep.password, s->password);
    tasmota_topic_for(PREFIX_TELE, "LWT", ep.will_topic, sizeof ep.will_topic);
    strcpy(ep.will_payload, TASMOTA_OFFLINE);
    static const uint8_t none[32];
    ep.use_fingerprint = memcmp(s->fingerprint, none, sizeof none) != 0;
    memcpy(ep.fingerprint, s->fingerprint, sizeof ep.fingerprint);
    ep.ca_pem_load = mqtt_ca_pem_load;
    static const struct mqtt_handlers handlers = {on_connected, on_disconnected, on_message};
    mqtt_client_start(&ep, &handlers);
}

/* After a settings command: reconnect once its reply has gone out. */
static void settings_changed(void) { sched_timer_start(&restart_timer, 0, 0); }

void mqtt_start(void)
{
    static bool once;
    if (!once) {
        once = true;
        sched_poller_add(&publisher, publish_pending, NULL);
        sched_timer_init(&tele_timer, tele_due, NULL);
        sched_timer_init(&restart_timer, apply_settings, NULL);
        event_listen(&listener, on_event, NULL);
        hass_start();
    }
    started = true;
    apply_settings(NULL);
}

void mqtt_status_json(struct json_writer *w)
{
    jw_object_begin(w, "MqttStatus");
    mqtt_status_write(w);
    jw_string(w, "Topic", tasmota_topic());
    jw_string(w, "GroupTopic", group_topic());
    jw_string(w, "FullTopic", tasmota_full_topic_pattern());
    jw_int(w, "TelePeriod", config_get()->mqtt.tele_period_s);
    jw_int(w, "SetOption19", config_get()->mqtt.ha_discovery);
    jw_object_end(w);
}

/* ---- Commands ---- */

#define MQTT_FIELD(f) offsetof(struct config, mqtt.f)

/* A text setting that changes the connection. */
static enum cmd_result text_setting(struct cmd_ctx *ctx, size_t offset, size_t size, enum setting_text kind)
{
    bool changing = *ctx->arg;
    enum cmd_result r = cmd_setting_text(ctx, offset, size, kind);
    if (r == CMD_DONE && changing)
        settings_changed();
    return r;
}

static enum cmd_result cmd_mqtt_host(struct cmd_ctx *ctx)
{
    return text_setting(ctx, MQTT_FIELD(host), CONFIG_HOST_SIZE, SETTING_PLAIN);
}
static enum cmd_result cmd_mqtt_user(struct cmd_ctx *ctx)
{
    return text_setting(ctx, MQTT_FIELD(user), CONFIG_NAME_SIZE, SETTING_PLAIN);
}
static enum cmd_result cmd_mqtt_password(struct cmd_ctx *ctx)
{
    return text_setting(ctx, MQTT_FIELD(password), CONFIG_SECRET_SIZE, SETTING_SECRET);
}
static enum cmd_result cmd_mqtt_client(struct cmd_ctx *ctx)
{
    return text_setting(ctx, MQTT_FIELD(client), CONFIG_NAME_SIZE, SETTING_PLAIN);
}

static enum cmd_result cmd_mqtt_port(struct cmd_ctx *ctx)
{
    enum cmd_result r = cmd_setting_u16(ctx, MQTT_FIELD(port), 1, 65535, "(TCP port)");
    if (r == CMD_DONE && *ctx->arg)
        settings_changed();
    return r;
}

/* Topic and GroupTopic: one MQTT level, no wildcard. */
static bool valid_topic_word(const char *text)
{
    if (strcmp(text, "0") == 0 || strcmp(text, "\"\"") == 0)
        return true;
    for (const char *p = text; *p; p++)
        if (*p == '+' || *p == '#' || *p == '/' || *p <= ' ' || *p == 0x7F)
            return false;
    return true;
}

static enum cmd_result cmd_topic(struct cmd_ctx *ctx)
{
    if (!valid_topic_word(ctx->arg))
        return cmd_error(ctx, "Topic: one topic level without '+', '#', '/' or spaces");
    if (*ctx->arg) {
        const char *text = strcmp(ctx->arg, "0") == 0 || strcmp(ctx->arg, "\"\"") == 0 ? "" : ctx->arg;
        if (strlen(text) >= CONFIG_NAME_SIZE)
            return cmd_error(ctx, "Topic: at most %d characters", CONFIG_NAME_SIZE - 1);
        struct config *next = config_edit();
        strcpy(next->mqtt.topic, text);
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
        settings_changed();
    }
    jw_string(ctx->reply, "Topic", tasmota_topic()); /* the effective one, also when cleared */
    return CMD_DONE;
}

static enum cmd_result cmd_group_topic(struct cmd_ctx *ctx)
{
    if (!valid_topic_word(ctx->arg))
        return cmd_error(ctx, "GroupTopic: one topic level without '+', '#', '/' or spaces");
    return text_setting(ctx, MQTT_FIELD(group_topic), CONFIG_NAME_SIZE, SETTING_PLAIN);
}

static enum cmd_result cmd_full_topic(struct cmd_ctx *ctx)
{
    const char *arg = ctx->arg;
    if (*arg && strcmp(arg, "0") != 0 && strcmp(arg, "\"\"") != 0) {
        if (!strstr(arg, "%prefix%") || !strstr(arg, "%topic%") || strpbrk(arg, "+# "))
            return cmd_error(ctx, "FullTopic: needs %%prefix%% and %%topic%%, no '+', '#' or spaces");
        char probe[MQTT_TOPIC_MAX + 1];
        if (strlen(arg) + 8 > MQTT_TOPIC_MAX - 8 || !tasmota_topic_for(PREFIX_STAT, "RESULT", probe, sizeof probe))
            return cmd_error(ctx, "FullTopic: too long");
    }
    enum cmd_result r = text_setting(ctx, MQTT_FIELD(full_topic), CONFIG_HOST_SIZE, SETTING_PLAIN);
    if (r == CMD_DONE && !*config_get()->mqtt.full_topic) {
        struct config *next = config_edit(); /* cleared: back to the default */
        strcpy(next->mqtt.full_topic, TASMOTA_DEFAULT_FULLTOPIC);
        config_update(next);
    }
    return r;
}

static enum cmd_result cmd_tele_period(struct cmd_ctx *ctx)
{
    long seconds;
    if (*ctx->arg) {
        if (!cmd_parse_long(ctx->arg, 0, 3600, &seconds))
            return cmd_error(ctx, "TelePeriod: expected 0 (off) or 10 .. 3600 seconds");
        if (seconds > 0 && seconds < 10)
            seconds = 10; /* as Tasmota: the shortest period */
        struct config *next = config_edit();
        next->mqtt.tele_period_s = (uint16_t)seconds;
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
        if (mqtt_connected())
            start_tele_timer(config_get()->mqtt.tele_period_s * 1000u);
    }
    jw_int(ctx->reply, "TelePeriod", config_get()->mqtt.tele_period_s);
    return CMD_DONE;
}

static enum cmd_result cmd_mqtt_tls(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        int on = cmd_parse_switch(ctx->arg);
        if (on != 0 && on != 1)
            return cmd_error(ctx, "MqttTLS: expected 0 or 1");
#ifndef OPENPLUG_TLS
        if (on)
            return cmd_error(ctx, "MqttTLS: TLS is not in this build");
#endif
        struct config *next = config_edit();
        next->mqtt.tls = (uint8_t)on;
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
        settings_changed();
    }
    jw_int(ctx->reply, "MqttTLS", config_get()->mqtt.tls);
    return CMD_DONE;
}

static int hex_digit(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
        return (ch | 0x20) - 'a' + 10;
    return -1;
}

/* 64 hex digits, optionally separated by ':' or spaces. */
static bool parse_fingerprint(const char *text, uint8_t out[32])
{
    size_t n = 0;
    for (const char *p = text; *p; p++) {
        if (*p == ':' || *p == ' ')
            continue;
        int hi = hex_digit(p[0]), lo = p[1] ? hex_digit(p[1]) : -1;
        if (hi < 0 || lo < 0 || n == 32)
            return false;
        out[n++] = (uint8_t)(hi << 4 | lo);
        p++;
    }
    return n == 32;
}

static enum cmd_result cmd_mqtt_fingerprint(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        uint8_t fp[32] = {0};
        if (strcmp(ctx->arg, "0") != 0 && !parse_fingerprint(ctx->arg, fp))
            return cmd_error(ctx, "MqttFingerprint: expected the certificate's SHA-256 as 64 hex digits, or 0");
        struct config *next = config_edit();
        memcpy(next->mqtt.fingerprint, fp, sizeof fp);
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED;
        settings_changed();
    }
    char hex[65] = "";
    static const uint8_t none[32];
    if (memcmp(config_get()->mqtt.fingerprint, none, 32) != 0)
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02X", config_get()->mqtt.fingerprint[i]);
    jw_string(ctx->reply, "MqttFingerprint", hex);
    return CMD_DONE;
}

static enum cmd_result cmd_set_option19(struct cmd_ctx *ctx)
{
    if (*ctx->arg) {
        int on = cmd_parse_switch(ctx->arg);
        if (on != 0 && on != 1)
            return cmd_error(ctx, "SetOption19: expected 0 (Tasmota discovery) or 1 (Home Assistant discovery)");
        struct config *next = config_edit();
        next->mqtt.ha_discovery = (uint8_t)on;
        if (cmd_setting_save(ctx, next) != CMD_DONE)
            return CMD_FAILED; /* discovery follows the settings (hass.c) */
    }
    jw_string(ctx->reply, "SetOption19", config_get()->mqtt.ha_discovery ? "ON" : "OFF");
    return CMD_DONE;
}

static enum cmd_result cmd_power_delta(struct cmd_ctx *ctx)
{
    return cmd_setting_u16(ctx, MQTT_FIELD(power_delta), 0, 32000, "(1..100 %, 101.. = W + 100)");
}

static enum cmd_result cmd_mqtt_status(struct cmd_ctx *ctx)
{
    mqtt_status_json(ctx->reply);
    return CMD_DONE;
}

/* State: Tasmota's STATE on demand (HA's Tasmota integration asks). */
static enum cmd_result cmd_state(struct cmd_ctx *ctx)
{
    status_state_members(ctx->reply);
    return CMD_DONE;
}

static const struct cmd_def mqtt_commands[] = {
    {"MqttHost", cmd_mqtt_host, 0, "MqttHost [host | 0]: the broker (0: MQTT off)"},
    {"MqttPort", cmd_mqtt_port, 0, "MqttPort [1..65535]: the broker's port (default 1883)"},
    {"MqttUser", cmd_mqtt_user, 0, "MqttUser [name | 0]: user name at the broker"},
    {"MqttPassword", cmd_mqtt_password, 0, "MqttPassword [password | 0]: password at the broker (never shown)"},
    {"MqttClient", cmd_mqtt_client, 0, "MqttClient [id | 0]: MQTT client id (default: the Topic)"},
    {"Topic", cmd_topic, 0, "Topic [name | 0]: the plug's topic (default openplug_<last 6 hex of the MAC>)"},
    {"GroupTopic", cmd_group_topic, 0, "GroupTopic [name | 0]: a topic shared by several plugs (default openplugs)"},
    {"FullTopic", cmd_full_topic, 0, "FullTopic [pattern | 0]: topic layout (default %prefix%/%topic%/)"},
    {"TelePeriod", cmd_tele_period, 0, "TelePeriod [0 | 10..3600]: seconds between STATE/SENSOR (default 300)"},
    {"MqttTLS", cmd_mqtt_tls, 0, "MqttTLS [0 | 1]: MQTT over TLS (check the broker by MqttCA or MqttFingerprint)"},
    {"MqttFingerprint", cmd_mqtt_fingerprint, 0, "MqttFingerprint [64 hex | 0]: trust the broker certificate with this SHA-256"},
    {"MqttCA", cmd_mqtt_ca, 0, "MqttCA [PEM line | 0]: the CA that signs the broker's certificate, a line at a time"},
    {"SetOption19", cmd_set_option19, 0, "SetOption19 [0 | 1]: 1 Home Assistant MQTT discovery, 0 Tasmota discovery"},
    {"PowerDelta", cmd_power_delta, 0, "PowerDelta [0..32000]: SENSOR at once on a change of 1..100 % or (n-100) W"},
    {"MqttStatus", cmd_mqtt_status, 0, "MqttStatus: the MQTT connection's state and counters"},
    {"State", cmd_state, 0, "State: the STATE telemetry (uptime, heap, relays, Wi-Fi) now"},
};

void mqtt_commands_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, mqtt_commands, sizeof mqtt_commands / sizeof mqtt_commands[0]);
}
