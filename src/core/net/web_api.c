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

#include "core/cmd/cmd.h"
#include "core/energy/energy.h"
#include "core/energy/sensors.h"
#include "core/io/channels.h"
#include "core/io/pins.h"
#include "core/log.h"
#include "core/net/http.h"
#include "core/net/http_auth.h"
#include "core/net/wifi.h"
#include "core/storage/config.h"
#include "core/system.h"
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
    const struct energy_values *e = sensors_energy();
    const struct energy_counters *c = energy_counters();
    jw_object_begin(w, "energy");
    jw_bool(w, "valid", e->valid);
    if (e->valid) {
        jw_float(w, "power_w", e->power_w, 2);
        jw_float(w, "voltage_v", e->voltage_v, 1);
        jw_float(w, "current_a", e->current_a, 3);
        jw_float(w, "apparent_va", e->apparent_va, 2);
        jw_float(w, "reactive_var", e->reactive_var, 2);
        jw_float(w, "factor", e->factor, 2);
    }
    jw_fixed(w, "today_kwh", energy_wh(c->today_uj), 3);
    jw_fixed(w, "yesterday_kwh", energy_wh(c->yesterday_uj), 3);
    jw_fixed(w, "total_kwh", energy_wh(c->total_uj), 3);
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
    int64_t wall = hal_wallclock_ms();
    if (wall >= 0) {
        timefmt_iso8601(wall / 1000, text, sizeof text);
        jw_string(w, "time", text);
    } else {
        jw_string(w, "time", "");
    }
    jw_int(w, "heap_free", hal_heap_free());
    jw_int(w, "power_on_state", c->power_on_state);
    jw_bool(w, "password_set", http_password_set());
    web_write_relays(w);
    web_write_energy(w);
    wifi_write_status(w);
}

/* ---- Tasmota: GET /cm?cmnd=… ---- */

/* Every reply's members go into the one object of the response (Backlog:
 * all of them, in order, as Tasmota does). */
static void merge_reply(const char *json, void *arg)
{
    struct json_writer *w = arg;
    size_t n = strlen(json);
    if (n < 2 || json[0] != '{' || json[n - 1] != '}' || n == 2)
        return;
    char member[CMD_REPLY_MAX];
    memcpy(member, json + 1, n - 2);
    member[n - 2] = '\0';
    jw_raw(w, NULL, member);
}

static void run_command_into(struct json_writer *w, char *line)
{
    cmd_execute(line, SOURCE_HTTP, merge_reply, w);
}

static struct http_route cm_route;

static void serve_cm(struct http_request *req, void *arg)
{
    (void)arg;
    char line[CMD_LINE_MAX + 1];
    if (!http_same_origin(req)) {
        http_reply_error(req, 403, "cross-site request refused");
        return;
    }
    if (!http_require_admin(req))
        return;
    if (!http_query(req, "cmnd", line, sizeof line)) {
        http_reply_error(req, 400, *http_query_raw(req) ? "cmnd too long or badly escaped" : "expected ?cmnd=<command>");
        return;
    }
    struct json_writer *w = http_reply_json_begin(req, 200);
    run_command_into(w, line);
    http_reply_json_end(req);
}

/* ---- POST /api/command {"cmnd":"…"} (the UI's console) ---- */

static struct http_route command_route;

/* A string member of a small JSON body; false with a 400 reply if absent. */
static bool body_string(struct http_request *req, const char *name, char *out, size_t size, bool required)
{
    size_t len;
    const char *body = http_body(req, &len);
    struct json_reader r;
    char key[32];
    jr_init(&r, body, len);
    if (!jr_object_begin(&r)) {
        http_reply_error(req, 400, "expected a JSON object");
        return false;
    }
    bool found = false;
    while (jr_object_next(&r, key, sizeof key)) {
        if (strcmp(key, name) == 0 && jr_peek(&r) == JSON_STRING) {
            if (!jr_string(&r, out, size)) {
                http_reply_error(req, 400, "value too long");
                return false;
            }
            found = true;
        } else if (!jr_skip(&r)) {
            break;
        }
    }
    if (jr_failed(&r) || !jr_finished(&r)) {
        http_reply_error(req, 400, "malformed JSON");
        return false;
    }
    if (!found && required) {
        char message[48];
        snprintf(message, sizeof message, "expected a string member \"%s\"", name);
        http_reply_error(req, 400, message);
        return false;
    }
    if (!found)
        out[0] = '\0';
    return true;
}

static void serve_command(struct http_request *req, void *arg)
{
    (void)arg;
    char line[CMD_LINE_MAX + 1];
    if (!http_require_admin(req) || !body_string(req, "cmnd", line, sizeof line, true))
        return;
    struct json_writer *w = http_reply_json_begin(req, 200);
    run_command_into(w, line);
    http_reply_json_end(req);
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
    if (http_auth_locked_ms(ip)) {
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

void web_api_start(void)
{
    http_route_add(&cm_route, HTTP_GET, "/cm", 0, serve_cm, NULL);
    http_route_add(&command_route, HTTP_POST, "/api/command", HTTP_ROUTE_BODY, serve_command, NULL);
    http_route_add(&state_route, HTTP_GET, "/api/state", 0, serve_state, NULL);
    http_route_add(&sensors_route, HTTP_GET, "/api/sensors", 0, serve_sensors, NULL);
    http_route_add(&power_route, HTTP_POST, "/api/power", HTTP_ROUTE_BODY, serve_power, NULL);
    http_route_add(&auth_route, HTTP_GET, "/api/auth", 0, serve_auth, NULL);
    http_route_add(&login_route, HTTP_POST, "/api/login", HTTP_ROUTE_BODY, serve_login, NULL);
    http_route_add(&logout_route, HTTP_POST, "/api/logout", HTTP_ROUTE_BODY, serve_logout, NULL);
}
