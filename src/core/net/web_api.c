/*
 * web_api.c — what the plug answers over HTTP besides its pages: Tasmota's
 * GET /cm?cmnd=…, the JSON REST API under /api/ (state, sensors, power,
 * commands, config, template, login), documented in docs/API.md.  The live
 * stream (/api/events) is web_events.c, /metrics web_metrics.c.  Every
 * change goes through the command interpreter or channel_set(), so the
 * console, MQTT and the log see it the same way.
 */
#include "core/net/web_api.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/cmd/cmd.h"
#include "core/energy/energy.h"
#include "core/energy/meter.h"
#include "core/energy/quantity.h"
#include "core/health.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/util/heap.h"
#include "core/log.h"
#include "core/net/web_events.h"
#include "core/net/web_metrics.h"
#include "core/net/http.h"
#include "core/net/http_auth.h"
#include "core/net/wifi.h"
#include "core/storage/config.h"
#include "core/energy/limits.h"
#include "core/system.h"
#include "core/timekeeping.h"
#include "core/util/timefmt.h"
#include "hal/hal.h"

/* ---- Shared JSON pieces (also used by the event stream) ---- */

void web_write_relays(struct json_writer *w)
{
    jw_array_begin(w, "relays");
    unsigned last = channels_highest_relay();
    for (unsigned channel = 1; channel <= (last ? last : 1); channel++) {
        jw_object_begin(w, NULL);
        jw_int(w, "channel", channel);
        jw_bool(w, "on", channel_get(channel));
        jw_object_end(w);
    }
    jw_array_end(w);
}

void web_write_energy(struct json_writer *w)
{
    const struct energy_counters *c = energy_counters();
    jw_object_begin(w, "energy");
    jw_bool(w, "valid", meter_reading()->valid != 0);
    quantity_write(w, Q_FIRST_MEASURED, Q_COUNT, QUANTITY_JSON, c); /* those measured */
    quantity_write(w, Q_TOTAL, Q_FIRST_MEASURED, QUANTITY_JSON, c);
    char start[24] = "";
    if (c->total_start_s)
        timefmt_iso8601(c->total_start_s, start, sizeof start);
    jw_string(w, "total_start", start);
    jw_object_end(w);
}

void web_write_state(struct json_writer *w)
{
    const struct config *c = config_get();
    char text[32];
    jw_string(w, "device_name", c->device_name);
    jw_string(w, "version", OPENPLUG_VERSION);
    jw_int(w, "uptime_s", (int64_t)(hal_time_ms() / 1000));
    system_uptime(text, sizeof text);
    jw_string(w, "uptime", text);
    if (clock_known()) {
        clock_local_iso8601(text, sizeof text); /* local time (Timezone), as Status shows */
        jw_string(w, "time", text);
    } else {
        jw_string(w, "time", "");
    }
    jw_int(w, "heap_free", hal_heap_free());
    jw_int(w, "power_on_state", c->power_on_state);
    jw_bool(w, "password_set", http_password_set());
    web_write_relays(w);
    web_write_energy(w);
    jw_object_begin(w, "limits"); /* protection and PulseTime (energy/limits.h) */
    limits_write_state(w, true);
    jw_object_end(w);
    wifi_write_status(w);
    jw_object_begin(w, "health"); /* Status 11's figures: restart reason, safe mode, loop lag … (health.h) */
    health_write_json(w);
    jw_object_end(w);
    jw_bool(w, "safe_mode", system_safe_mode());
}

/* ---- Commands: Tasmota's GET /cm?cmnd=…, and POST /api/command ---- */

/* A string member of a JSON object: 1 found, 0 absent, -1 malformed or too long. */
static int json_string_member(const char *body, size_t len, const char *name, char *out, size_t size)
{
    struct json_reader r;
    char key[32];
    int found = 0;
    jr_init(&r, body, len);
    if (!jr_object_begin(&r))
        return -1;
    while (jr_object_next(&r, key, sizeof key)) {
        if (strcmp(key, name) == 0 && jr_peek(&r) == JSON_STRING) {
            if (!jr_string(&r, out, size))
                return -1;
            found = 1;
        } else if (!jr_skip(&r)) {
            break;
        }
    }
    if (jr_failed(&r) || !jr_finished(&r))
        return -1;
    if (!found)
        out[0] = '\0';
    return found;
}

/* A string member of the request's JSON body; false with a 400 reply when
 * it is malformed, or absent though required. */
static bool body_string(struct http_request *req, const char *name, char *out, size_t size, bool required)
{
    size_t len;
    const char *body = http_body(req, &len);
    int found = json_string_member(body, len, name, out, size);
    if (found < 0) {
        http_reply_error(req, 400, "expected a JSON object (strings within their limits)");
        return false;
    }
    if (!found && required) {
        char message[48];
        snprintf(message, sizeof message, "expected a string member \"%s\"", name);
        http_reply_error(req, 400, message);
        return false;
    }
    return true;
}

/* Command replies stream.  The line lives on the heap (a Template line
 * runs to CMD_LONG_LINE_MAX); each command's replies — any number, of any
 * length: Help, Status 0, a Template export — are collected on the heap
 * (growing up to STREAM_OUT_MAX) and sent in as many chunks as they take,
 * then the next command of a Backlog runs.  All replies' members go into
 * one object, as Tasmota answers /cm.  Both blocks are given back when the
 * request ends, however it ends (http_on_end). */
#define STREAM_OUT_FIRST 1024
#define STREAM_OUT_MAX 8192 /* Help (about 6 KB) fits; four at once stay within the heap */

struct command_stream {
    char *line;             /* the command line, decoded */
    char *out;              /* members of replies not yet sent */
    char *direct;           /* while a command runs: room in the producer's buffer, used first */
    size_t direct_room, direct_len;
    uint16_t line_len;
    uint16_t out_cap, out_len, out_sent;
    uint16_t offset;        /* where the next Backlog command starts in the line */
    uint8_t phase;          /* 0 "{", 1 commands, 2 "}", 3 done */
    bool backlog;           /* run the line's commands one at a time */
    bool any;               /* a member was written: the next needs a comma */
    bool overflow;
};
_Static_assert(sizeof(struct command_stream) <= HTTP_USER_SIZE, "fits http_user()");

static void stream_end(void *user)
{
    struct command_stream *s = user;
    heap_give(s->line);
    heap_give(s->out);
    s->line = s->out = NULL;
}

/* A reply {…}: its members, after a comma when needed. */
static void sink_members(const char *json, void *arg)
{
    struct command_stream *s = arg;
    size_t n = strlen(json);
    if (n <= 2 || json[0] != '{' || json[n - 1] != '}' || s->overflow)
        return;
    if (s->direct && !s->out_len && s->direct_len + n - 1 <= s->direct_room) { /* n - 2 and a comma */
        if (s->any)
            s->direct[s->direct_len++] = ',';
        memcpy(s->direct + s->direct_len, json + 1, n - 2);
        s->direct_len += n - 2;
        s->any = true;
        return;
    }
    size_t need = s->out_len + (s->any ? 1 : 0) + n - 2;
    if (need > s->out_cap) {
        size_t cap = s->out_cap ? s->out_cap : STREAM_OUT_FIRST;
        while (cap < need)
            cap *= 2;
        char *bigger = cap <= STREAM_OUT_MAX ? heap_take(cap) : NULL;
        if (!bigger) {
            s->overflow = true;
            return;
        }
        if (s->out_len)
            memcpy(bigger, s->out, s->out_len);
        heap_give(s->out);
        s->out = bigger;
        s->out_cap = (uint16_t)cap;
    }
    if (s->any)
        s->out[s->out_len++] = ',';
    memcpy(s->out + s->out_len, json + 1, n - 2);
    s->out_len = (uint16_t)(s->out_len + n - 2);
    s->any = true;
}

/* The first word is Backlog and commands follow: where they start. */
static size_t backlog_start(const char *line)
{
    size_t word = strcspn(line, " \t");
    if (word != 7 || strncasecmp(line, "backlog", 7) != 0)
        return 0;
    size_t rest = word + strspn(line + word, " \t");
    return line[rest] ? rest : 0;
}

/* Take the stream's state and a heap copy of the line's room (size bytes,
 * filled by the caller).  NULL after a 503 reply. */
static struct command_stream *stream_begin(struct http_request *req, size_t size)
{
    struct command_stream *s = http_user(req);
    s->line = heap_take(size);
    if (!s->line) {
        http_reply_error(req, 503, "not enough memory for this command now");
        return NULL;
    }
    http_on_end(req, stream_end);
    s->line[0] = '\0';
    return s;
}

static void stream_line_ready(struct command_stream *s)
{
    s->line_len = (uint16_t)strlen(s->line);
    s->offset = (uint16_t)backlog_start(s->line);
    s->backlog = s->offset != 0;
}

/* Run the next command into s->out; false when none is left. */
static bool run_next(struct command_stream *s)
{
    if (s->offset > s->line_len)
        return false;
    char *command = s->line + s->offset;
    if (s->backlog) {
        char *cursor = command;
        command = cmd_split(&cursor);
        if (!command)
            return false;
        s->offset = (uint16_t)(cursor ? (size_t)(cursor - s->line) : s->line_len + 1u);
    } else {
        s->offset = (uint16_t)(s->line_len + 1u); /* nothing after it */
    }
    cmd_execute(command, SOURCE_HTTP, sink_members, s);
    if (s->overflow) {
        s->overflow = false;
        sink_members("{\"Command\":\"Error\",\"Error\":\"reply longer than the plug can hold now\"}", s);
    }
    return true;
}

static int produce_commands(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    struct command_stream *s = http_user(req);
    size_t n = 0;
    if (s->phase == 0) {
        buf[n++] = '{';
        s->phase = 1;
    }
    while (n < cap) {
        if (s->out_sent < s->out_len) {
            size_t take = s->out_len - s->out_sent;
            if (take > cap - n)
                take = cap - n;
            memcpy(buf + n, s->out + s->out_sent, take);
            s->out_sent = (uint16_t)(s->out_sent + take);
            n += take;
            continue;
        }
        s->out_len = s->out_sent = 0;
        if (s->phase == 1) {
            s->direct = buf + n; /* replies go straight into buf while they fit */
            s->direct_room = cap - n;
            s->direct_len = 0;
            if (!run_next(s))
                s->phase = 2;
            n += s->direct_len;
            s->direct = NULL;
            continue;
        }
        if (s->phase == 2) {
            buf[n++] = '}';
            s->phase = 3;
        }
        break;
    }
    return (int)n;
}

static void reply_commands(struct http_request *req)
{
    stream_line_ready(http_user(req));
    http_reply_stream(req, 200, "application/json", produce_commands, NULL);
}

static struct http_route cm_route, command_route;

static int hex_value(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A field of a form body (name=value&…, percent- and '+'-encoded), decoded
 * into out; false if absent, badly escaped or too long. */
static bool form_field(const char *body, size_t len, const char *name, char *out, size_t size)
{
    size_t name_len = strlen(name);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end - i > name_len && strncmp(body + i, name, name_len) == 0 && body[i + name_len] == '=') {
            size_t n = 0;
            for (size_t j = i + name_len + 1; j < end; j++) {
                char c = body[j];
                if (c == '+') {
                    c = ' ';
                } else if (c == '%') {
                    int hi = j + 2 < end ? hex_value(body[j + 1]) : -1, lo = hi >= 0 ? hex_value(body[j + 2]) : -1;
                    if (lo < 0 || (hi == 0 && lo == 0))
                        return false;
                    c = (char)(hi << 4 | lo);
                    j += 2;
                }
                if (n + 1 >= size)
                    return false;
                out[n++] = c;
            }
            out[n] = '\0';
            return true;
        }
        i = end + 1;
    }
    return false;
}

/* GET /cm?cmnd=…, or POST /cm with the form body cmnd=… (Tasmota's two
 * ways); a line up to CMD_LONG_LINE_MAX. */
static void serve_cm(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_same_origin(req)) {
        http_reply_error(req, 403, "cross-site request refused");
        return;
    }
    if (!http_require_admin(req))
        return;
    size_t len = 0;
    const char *body = http_method(req) == HTTP_POST ? http_body(req, &len) : NULL;
    size_t query_len = strlen(http_query_raw(req));
    size_t size = (len > query_len ? len : query_len) + 1; /* decoding only shortens */
    if (size > CMD_LONG_LINE_MAX + 1)
        size = CMD_LONG_LINE_MAX + 1;
    struct command_stream *s = stream_begin(req, size);
    if (!s)
        return;
    bool found = body ? form_field(body, len, "cmnd", s->line, size) || http_query(req, "cmnd", s->line, size)
                      : http_query(req, "cmnd", s->line, size);
    if (!found) {
        bool given = body ? len > 0 : *http_query_raw(req) != '\0';
        http_reply_error(req, 400, given ? "cmnd too long or badly escaped" : "expected cmnd=<command>");
        return;
    }
    reply_commands(req);
}

/* POST /api/command {"cmnd":"…"}: the UI's console. */
static void serve_command(struct http_request *req, void *arg)
{
    (void)arg;
    size_t len;
    http_body(req, &len);
    if (!http_require_admin(req))
        return;
    size_t size = len + 1 < CMD_LONG_LINE_MAX + 1 ? len + 1 : CMD_LONG_LINE_MAX + 1;
    struct command_stream *s = stream_begin(req, size);
    if (!s || !body_string(req, "cmnd", s->line, size, true))
        return;
    reply_commands(req);
}

/* ---- GET /api/state, /api/sensors ---- */

static struct http_route state_route, sensors_route;

static void serve_state(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    web_write_state(http_reply_json_begin(req, 200));
    http_reply_json_end(req);
}

static void serve_sensors(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    web_write_energy(http_reply_json_begin(req, 200));
    http_reply_json_end(req);
}

/* ---- POST /api/power {"channel":1,"state":"on|off|toggle"} ---- */

static struct http_route power_route;

static void serve_power(struct http_request *req, void *arg)
{
    (void)arg;
    char state[16];
    if (!http_require_admin(req) || !body_string(req, "state", state, sizeof state, true))
        return;
    /* "channel" is a number: read it with a second pass. */
    size_t len;
    const char *body = http_body(req, &len);
    const char *at = strstr(body, "\"channel\"");
    long channel = 1;
    if (at && sscanf(at, "\"channel\" : %ld", &channel) != 1 && sscanf(at, "\"channel\":%ld", &channel) != 1)
        channel = -1;
    int value = cmd_parse_switch(state);
    if (value < 0 || channel < 1 || channel > CHANNEL_MAX) {
        http_reply_error(req, 400, "expected {\"channel\":1..4,\"state\":\"on\"|\"off\"|\"toggle\"}");
        return;
    }
    int err = value == 2 ? channel_toggle((unsigned)channel, SOURCE_HTTP)
                         : channel_set((unsigned)channel, value == 1, SOURCE_HTTP);
    if (err) {
        http_reply_error(req, 409, "this channel has no relay or is locked on (PowerOnState 4)");
        return;
    }
    struct json_writer *w = http_reply_json_begin(req, 200);
    web_write_relays(w);
    http_reply_json_end(req);
}

/* ---- Login ---- */

static struct http_route auth_route, login_route, logout_route;

static void serve_auth(struct http_request *req, void *arg)
{
    (void)arg;
    struct json_writer *w = http_reply_json_begin(req, 200);
    jw_bool(w, "password_set", http_password_set());
    jw_string(w, "user", "admin");
    http_reply_json_end(req);
}

static void serve_login(struct http_request *req, void *arg)
{
    (void)arg;
    char password[72], token[33], cookie[96];
    uint32_t ip = http_peer_ip(req);
    if (!body_string(req, "password", password, sizeof password, true))
        return;
    if (!http_password_set()) {
        http_reply_error(req, 409, "no password is set: nothing to log in to");
        return;
    }
    uint32_t locked = http_auth_locked_ms(ip);
    if (locked) { /* the sign-in page counts the seconds down */
        char seconds[12];
        snprintf(seconds, sizeof seconds, "%lu", (unsigned long)(locked + 999) / 1000);
        http_add_header(req, "Retry-After", seconds);
        http_reply_error(req, 429, "too many failed logins: wait and retry");
        return;
    }
    bool good = http_password_check(password, strlen(password));
    memset(password, 0, sizeof password);
    if (!good) {
        http_auth_failed(ip);
        http_reply_error(req, 401, "wrong password");
        return;
    }
    http_auth_succeeded(ip);
    http_session_new(token);
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict", HTTP_SESSION_COOKIE, token);
    http_add_header(req, "Set-Cookie", cookie);
    http_reply_json(req, 200, "{\"ok\":true}");
}

static void serve_logout(struct http_request *req, void *arg)
{
    (void)arg;
    http_session_end(req);
    http_add_header(req, "Set-Cookie", HTTP_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    http_reply_json(req, 200, "{\"ok\":true}");
}

/* ---- Wi-Fi ---- */

/* "url": where a browser finds the plug now ("" when nowhere). */
static void write_url(struct json_writer *w)
{
    uint32_t ip = hal_wifi_ip();
    char url[40] = "", address[16], port[8] = "";
    if (http_port() != 80)
        snprintf(port, sizeof port, ":%u", (unsigned)http_port());
    if (ip) {
        wifi_ip_text(ip, address);
        snprintf(url, sizeof url, "http://%s%s/", address, port);
    }
    jw_string(w, "url", url);
}

static struct http_route wifi_route, scan_route;

static void serve_scan(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    struct json_writer *w = http_reply_json_begin(req, 200);
    wifi_write_scan(w);
    http_reply_json_end(req);
}

static void serve_wifi(struct http_request *req, void *arg)
{
    (void)arg;
    char ssid[CONFIG_NAME_SIZE + 1], password[CONFIG_SECRET_SIZE + 1];
    if (!http_require_admin(req))
        return;
    if (http_method(req) == HTTP_POST) {
        if (!body_string(req, "ssid", ssid, sizeof ssid, true) ||
            !body_string(req, "password", password, sizeof password, false))
            return;
        bool ok = wifi_try(ssid, password);
        memset(password, 0, sizeof password);
        if (!ok) {
            http_reply_error(req, 400, "expected an SSID of 1-32 bytes and a WPA2 password of 8-63 characters (or none)");
            return;
        }
        struct json_writer *w = http_reply_json_begin(req, 202);
        jw_string(w, "state", "connecting");
        jw_string(w, "ssid", ssid);
        http_reply_json_end(req);
        return;
    }
    struct json_writer *w = http_reply_json_begin(req, 200);
    wifi_write_details(w);
    write_url(w);
    http_reply_json_end(req);
}

/* ---- Configuration: GET the settings keyed by command, POST runs them ---- */

static struct http_route config_route;

static void secret(struct json_writer *w, const char *key, const char *value)
{
    jw_string(w, key, *value ? "****" : "");
}

static void write_config(struct json_writer *w)
{
    const struct config *c = config_get();
    char key[16];
    jw_string(w, "DeviceName", c->device_name);
    jw_int(w, "PowerOnState", c->power_on_state);
    jw_int(w, "MaxPower", c->max_power_w);
    jw_int(w, "MaxPowerHold", c->max_power_hold_s);
    jw_int(w, "EnergySaveWh", c->energy_save_wh);
    jw_int(w, "PowerCal", meter_constant(METER_POWER));
    jw_int(w, "VoltageCal", meter_constant(METER_VOLTAGE));
    jw_int(w, "CurrentCal", meter_constant(METER_CURRENT));
    for (int i = 0; i < CONFIG_WIFI_NETWORKS; i++) {
        snprintf(key, sizeof key, "SSId%d", i + 1);
        jw_string(w, key, c->wifi.ssid[i]);
        snprintf(key, sizeof key, "Password%d", i + 1);
        secret(w, key, c->wifi.password[i]);
    }
    jw_string(w, "WebPassword", http_password_set() ? "****" : "");
    jw_string(w, "WebHosts", c->web_hosts.names);
    jw_string(w, "MqttHost", c->mqtt.host);
    jw_int(w, "MqttPort", c->mqtt.port);
    jw_string(w, "MqttUser", c->mqtt.user);
    secret(w, "MqttPassword", c->mqtt.password);
    jw_string(w, "MqttClient", c->mqtt.client);
    jw_string(w, "Topic", c->mqtt.topic);
    jw_string(w, "GroupTopic", c->mqtt.group_topic);
    jw_string(w, "FullTopic", c->mqtt.full_topic);
    jw_int(w, "TelePeriod", c->mqtt.tele_period_s);
    for (int i = 0; i < CONFIG_NTP_SERVERS; i++) {
        snprintf(key, sizeof key, "NtpServer%d", i + 1);
        jw_string(w, key, c->time.ntp_server[i]);
    }
    jw_string(w, "StartupCommand", c->automation.startup_command);
}

struct config_results {
    struct json_writer *w;
    const char *key;
    unsigned members, failed;
    unsigned replies; /* of this member's commands (a Backlog runs several) */
    size_t first_at;  /* where this member's first reply starts in the text */
    bool this_failed;
};

/* A member's result is its command's reply; a member that ran several
 * commands (Backlog, if … then Backlog) gets the array of their replies. */
static void collect_result(const char *json, void *arg)
{
    struct config_results *r = arg;
    r->this_failed |= strncmp(json, "{\"Command\":", 11) == 0;
    if (++r->replies == 1) {
        jw_raw(r->w, r->key, json);
        r->first_at = r->w->len - strlen(json);
        return;
    }
    if (r->replies == 2)
        jw_wrap_in_array(r->w, r->first_at);
    jw_raw(r->w, NULL, json);
}

/* The settings GET shows as "****": sent back unchanged, they mean "keep". */
static bool is_secret(const char *key)
{
    static const char *const secrets[] = {"Password1", "Password2", "Password", "WebPassword", "MqttPassword"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strcasecmp(key, secrets[i]) == 0)
            return true;
    return false;
}

_Static_assert(CMD_LINE_MAX == 512, "serve_config's message names the command line's limit");

/* One member → the command line "Key value" (a string "" clears: `""`;
 * a secret's mask "****" → "Key" alone, which shows it and changes nothing). */
static bool member_command(struct json_reader *r, const char *key, char *line, size_t size)
{
    char value[CMD_LINE_MAX];
    enum json_type type = jr_peek(r);
    if (type == JSON_STRING) {
        if (!jr_string(r, value, sizeof value))
            return false;
        if (strcmp(value, "****") == 0 && is_secret(key)) {
            int n = snprintf(line, size, "%s", key);
            return n > 0 && (size_t)n < size;
        }
        if (!*value)
            strcpy(value, "\"\"");
    } else if (type == JSON_NUMBER || type == JSON_TRUE || type == JSON_FALSE) {
        const char *start = r->pos;
        if (!jr_skip(r))
            return false;
        size_t n = (size_t)(r->pos - start);
        if (n >= sizeof value)
            return false;
        memcpy(value, start, n);
        value[n] = '\0';
        if (type != JSON_NUMBER)
            strcpy(value, type == JSON_TRUE ? "1" : "0");
    } else {
        return false;
    }
    int n = snprintf(line, size, "%s %s", key, value);
    return n > 0 && (size_t)n < size;
}

static void serve_config(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    if (http_method(req) != HTTP_POST) {
        write_config(http_reply_json_begin(req, 200));
        http_reply_json_end(req);
        return;
    }
    size_t len;
    const char *body = http_body(req, &len);
    struct json_reader r;
    char key[32], line[CMD_LINE_MAX + 1];
    /* Check the whole document before running anything: an object whose
     * member names all fit a command name. */
    jr_init(&r, body, len);
    bool valid = jr_skip(&r) && jr_finished(&r);
    jr_init(&r, body, len);
    valid = valid && jr_peek(&r) == JSON_OBJECT && jr_object_begin(&r);
    while (valid && jr_object_next(&r, key, sizeof key))
        valid = jr_skip(&r);
    if (!valid || jr_failed(&r)) {
        http_reply_error(req, 400, "expected a JSON object of {\"<Command>\":<value>}, names under 32 characters");
        return;
    }
    jr_init(&r, body, len);
    jr_object_begin(&r);
    struct json_writer *w = http_reply_json_begin(req, 200);
    jw_object_begin(w, "results");
    struct config_results results = {.w = w};
    while (jr_object_next(&r, key, sizeof key)) {
        results.key = key;
        results.members++;
        results.this_failed = false;
        results.replies = 0;
        struct json_reader at_value = r;
        if (!member_command(&r, key, line, sizeof line)) {
            jw_raw(w, key, "{\"Command\":\"Error\",\"Error\":\"value must be a string, number or boolean, "
                           "in a command line of at most 512 characters\"}");
            results.failed++;
            r = at_value; /* however far the member got: skip its value whole (the document is valid) */
            if (!jr_skip(&r))
                break;
            continue;
        }
        cmd_execute(line, SOURCE_HTTP, collect_result, &results);
        if (!results.replies) /* a blank name and value, a Backlog of nothing: still a result */
            collect_result("{\"Command\":\"Error\",\"Error\":\"no command: name the command, with a value\"}",
                           &results);
        if (results.replies > 1)
            jw_array_end(w);
        results.failed += results.this_failed;
    }
    int status = results.failed ? 422 : 200;
    jw_object_end(w);
    jw_bool(w, "ok", !results.failed);
    if (w->overflow || w->len + 2 > w->cap) {
        /* The results, "ok" or the reply's closing brace did not fit.  The
         * members ran: say so, in counts, rather than fail the whole reply. */
        w = http_reply_json_begin(req, status);
        jw_int(w, "members", results.members);
        jw_int(w, "failed", results.failed);
        jw_string(w, "results", "too many to list: every member ran, GET /api/config shows the settings");
        jw_bool(w, "ok", !results.failed);
    }
    http_reply_json_end_status(req, status);
}

/* ---- Template and pins ---- */

static struct http_route template_route, pins_route;

/* The "Error" of a failed command's members ("Command":"Error","Error":…). */
static bool command_failed(const struct command_stream *s, char *message, size_t size)
{
    static const char prefix[] = "\"Command\":\"Error\"";
    if (s->out_len < sizeof prefix - 1 || strncmp(s->out, prefix, sizeof prefix - 1) != 0)
        return false;
    struct json_reader r;
    char key[16];
    snprintf(message, size, "bad template");
    jr_init(&r, s->out + sizeof prefix - 1, s->out_len - (sizeof prefix - 1));
    while (jr_object_next(&r, key, sizeof key)) /* the members after the first, as an open object */
        if (!(strcmp(key, "Error") == 0 ? jr_string(&r, message, size) : jr_skip(&r)))
            break;
    return true;
}

/* GET: the running template (OpenBeken JSON, as the Template command
 * exports it).  POST: import the body (?empty=1 lets an empty pin map
 * through), then the same; a refused template → 400 with the reason. */
static void serve_template(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    size_t len = 0;
    const char *body = http_method(req) == HTTP_POST ? http_body(req, &len) : NULL;
    char flag[4];
    bool empty = http_query(req, "empty", flag, sizeof flag) && strcmp(flag, "1") == 0;
    struct command_stream *s = stream_begin(req, len + sizeof "Template empty ");
    if (!s)
        return;
    snprintf(s->line, len + sizeof "Template empty ", "Template%s%s%s", body ? " " : "", body && empty ? "empty " : "",
             body ? body : "");
    s->line_len = (uint16_t)strlen(s->line);
    s->offset = (uint16_t)(s->line_len + 1u);
    cmd_execute(s->line, SOURCE_HTTP, sink_members, s);
    char message[256];
    if (s->overflow || command_failed(s, message, sizeof message)) {
        http_reply_error(req, s->overflow ? 503 : 400, s->overflow ? "not enough memory for the reply now" : message);
        return;
    }
    s->phase = 0; /* stream "{", the members collected, "}" */
    http_reply_stream(req, 200, "application/json", produce_commands, NULL);
}

static void serve_pins(struct http_request *req, void *arg)
{
    (void)arg;
    char key[8], value[24];
    if (!http_require_admin(req))
        return;
    struct json_writer *w = http_reply_json_begin(req, 200);
    jw_int(w, "gpios", hal_pin_count());
    jw_array_begin(w, "roles");
    for (int role = 0; role < PIN_ROLE_COUNT; role++)
        jw_string(w, NULL, pin_role_name((enum pin_role)role));
    jw_array_end(w);
    jw_object_begin(w, "pins");
    for (int gpio = 0; gpio < hal_pin_count() && gpio < CONFIG_PINS; gpio++) {
        snprintf(key, sizeof key, "%d", gpio);
        pin_setting_format(config_get()->pins[gpio], value, sizeof value);
        jw_string(w, key, value);
    }
    jw_object_end(w);
    http_reply_json_end(req);
}

/* ---- Restart and factory reset ---- */

static struct http_route restart_route, reset_route;

static void serve_restart(struct http_request *req, void *arg)
{
    (void)arg;
    if (!http_require_admin(req))
        return;
    system_restart(RESTART_COMMAND, SOURCE_HTTP);
    http_close_after(req);
    http_reply_json(req, 200, "{\"restart\":true}");
}

static void serve_reset(struct http_request *req, void *arg)
{
    (void)arg;
    char confirm[16];
    if (!http_require_admin(req) || !body_string(req, "confirm", confirm, sizeof confirm, true))
        return;
    if (strcmp(confirm, "reset") != 0) {
        http_reply_error(req, 400, "send {\"confirm\":\"reset\"} to erase every setting");
        return;
    }
    system_restart(RESTART_FACTORY_RESET, SOURCE_HTTP);
    http_close_after(req);
    http_reply_json(req, 200, "{\"reset\":true}");
}

/* ---- Logs: streamed, a few lines per chunk ---- */

static struct http_route logs_route;

_Static_assert(LOG_JSON_LINE_MAX <= HTTP_CHUNK_ROOM, "a log line fits a chunk");

struct logs_cursor {
    uint32_t seq, end;
    uint8_t part; /* 0 head, 1 lines, 2 done */
    bool any;     /* a line was written: the next needs a comma */
};

static int produce_logs(struct http_request *req, char *buf, size_t cap, void *arg)
{
    (void)arg;
    struct logs_cursor *cur = http_user(req);
    size_t n = 0;
    if (cur->part == 2)
        return 0;
    if (cur->part == 0) {
        n = (size_t)snprintf(buf, cap, "{\"next\":%lu,\"lines\":[", (unsigned long)cur->end);
        cur->part = 1;
    }
    n += log_json_lines(&cur->seq, cur->end, &cur->any, buf + n, cap - n);
    if (cur->seq < cur->end || n + 3 > cap) /* the rest in the next chunk */
        return n ? (int)n : HTTP_PRODUCE_FULL;
    memcpy(buf + n, "]}", 2);
    cur->part = 2;
    return (int)n + 2;
}

static void serve_logs(struct http_request *req, void *arg)
{
    (void)arg;
    char since[12];
    if (!http_require_admin(req))
        return;
    struct logs_cursor *cur = http_user(req);
    cur->end = log_next_seq();
    uint32_t oldest = log_oldest_seq();
    cur->seq = oldest;
    if (http_query(req, "since", since, sizeof since)) {
        long value;
        if (!cmd_parse_long(since, 0, 2147483647L, &value)) {
            http_reply_error(req, 400, "since: expected a sequence number");
            return;
        }
        cur->seq = (uint32_t)value > oldest ? (uint32_t)value : oldest;
        if (cur->seq > cur->end)
            cur->seq = cur->end;
    }
    http_reply_stream(req, 200, "application/json", produce_logs, NULL);
}

void web_api_start(void)
{
    http_route_add(&cm_route, HTTP_GET | HTTP_POST, "/cm", HTTP_ROUTE_BODY, serve_cm, NULL);
    http_route_add(&command_route, HTTP_POST, "/api/command", HTTP_ROUTE_BODY, serve_command, NULL);
    http_route_add(&state_route, HTTP_GET, "/api/state", 0, serve_state, NULL);
    http_route_add(&sensors_route, HTTP_GET, "/api/sensors", 0, serve_sensors, NULL);
    http_route_add(&power_route, HTTP_POST, "/api/power", HTTP_ROUTE_BODY, serve_power, NULL);
    http_route_add(&auth_route, HTTP_GET, "/api/auth", 0, serve_auth, NULL);
    http_route_add(&login_route, HTTP_POST, "/api/login", HTTP_ROUTE_BODY, serve_login, NULL);
    http_route_add(&logout_route, HTTP_POST, "/api/logout", HTTP_ROUTE_BODY, serve_logout, NULL);
    http_route_add(&wifi_route, HTTP_GET | HTTP_POST, "/api/wifi", HTTP_ROUTE_BODY, serve_wifi, NULL);
    http_route_add(&scan_route, HTTP_GET, "/api/wifi/scan", 0, serve_scan, NULL);
    http_route_add(&config_route, HTTP_GET | HTTP_POST, "/api/config", HTTP_ROUTE_BODY, serve_config, NULL);
    http_route_add(&template_route, HTTP_GET | HTTP_POST, "/api/template", HTTP_ROUTE_BODY, serve_template, NULL);
    http_route_add(&pins_route, HTTP_GET, "/api/pins", 0, serve_pins, NULL);
    http_route_add(&restart_route, HTTP_POST, "/api/restart", HTTP_ROUTE_BODY, serve_restart, NULL);
    http_route_add(&reset_route, HTTP_POST, "/api/reset", HTTP_ROUTE_BODY, serve_reset, NULL);
    http_route_add(&logs_route, HTTP_GET, "/api/logs", 0, serve_logs, NULL);
    web_events_start();
    web_metrics_start();
}
