/*
 * wifi.c — joining networks, backoff, the set-up access point and the
 * SSId/Password commands; see wifi.h.
 *
 * The HAL reports no callbacks: the firmware's 1 s housekeeping tick calls
 * wifi_poll(), which compares the link with what was asked and moves on:
 * a join succeeded (close the AP, save set-up credentials), failed (next
 * network, backoff, the AP after WIFI_ROUNDS_BEFORE_AP rounds) or a link
 * was lost (join again).  Retries wait on a one-shot timer, so an idle plug
 * costs nothing more than the tick.
 */
#include "core/net/wifi.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/cmd/cmd_setting.h"
#include "core/events.h"
#include "core/health.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/storage/config.h"

enum setup_state { SETUP_NONE, SETUP_CONNECTING, SETUP_CONNECTED, SETUP_FAILED };

static struct {
    char ssid[CONFIG_NAME_SIZE];
    char password[CONFIG_SECRET_SIZE];
    enum setup_state state;
    enum hal_wifi_error error;
} setup;

static bool joining;        /* an attempt of ours is running */
static bool joining_setup;  /* … with the set-up form's credentials */
static bool linked;         /* we were connected at the last poll */
static bool ap_open;
static char current_ssid[CONFIG_NAME_SIZE]; /* being joined, or joined */
static int network;         /* saved network being tried (0, 1) */
static unsigned failures_in_round, rounds;
static enum hal_wifi_error last_error;
static enum hal_wifi_state announced = HAL_WIFI_OFF;
static struct sched_timer retry_timer, rejoin_timer;

static const char *const state_names[] = {"off", "connecting", "connected", "access point"};
static const char *const error_names[] = {"", "network not found", "wrong password"};

const char *wifi_state_name(enum hal_wifi_state state) { return state_names[state & 3]; }

void wifi_ip_text(uint32_t ip, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", (unsigned)(ip >> 24) & 255, (unsigned)(ip >> 16) & 255,
             (unsigned)(ip >> 8) & 255, (unsigned)ip & 255);
}

const char *wifi_ap_name(void)
{
    static char name[20]; /* the MAC never changes: made once */
    if (!name[0]) {
        uint8_t mac[6];
        hal_mac(mac);
        snprintf(name, sizeof name, "OpenPlug-%02X%02X%02X", mac[3], mac[4], mac[5]);
    }
    return name;
}

static bool network_saved(int i) { return config_get()->wifi.ssid[i][0] != '\0'; }

static int saved_count(void)
{
    int n = 0;
    for (int i = 0; i < CONFIG_WIFI_NETWORKS; i++)
        n += network_saved(i);
    return n;
}

static void open_ap(void)
{
    if (ap_open)
        return;
    ap_open = true;
    hal_wifi_start_ap(wifi_ap_name());
}

static void close_ap(void)
{
    if (!ap_open)
        return;
    ap_open = false;
    hal_wifi_start_ap(NULL);
}

static void join_saved(void)
{
    if (!saved_count()) {
        joining = false;
        open_ap();
        return;
    }
    if (!network_saved(network))
        network = (network + 1) % CONFIG_WIFI_NETWORKS;
    const struct config_wifi *w = &config_get()->wifi;
    strcpy(current_ssid, w->ssid[network]);
    LOG_INF("WIF", "joining %s", current_ssid);
    joining = true;
    joining_setup = false;
    hal_wifi_connect(w->ssid[network], w->password[network]);
}

static void retry(void *arg)
{
    (void)arg;
    if (!joining && !linked)
        join_saved();
}

static uint32_t backoff_ms(void)
{
    unsigned doublings = rounds > 1 ? rounds - 1 : 0; /* 5 s after the first failed round */
    uint32_t ms = WIFI_RETRY_FIRST_MS << (doublings < 4 ? doublings : 4);
    return ms < WIFI_RETRY_MAX_MS ? ms : WIFI_RETRY_MAX_MS;
}

/* Save the set-up form's credentials as network 1. */
static void save_setup(void)
{
    struct config *next = config_edit();
    memset(&next->wifi.ssid[0], 0, sizeof next->wifi.ssid[0]);
    memset(&next->wifi.password[0], 0, sizeof next->wifi.password[0]);
    strcpy(next->wifi.ssid[0], setup.ssid);
    strcpy(next->wifi.password[0], setup.password);
    if (config_update(next) != 0)
        LOG_ERR("WIF", "joined %s but could not save it (flash error)", setup.ssid);
    network = 0;
}

static void joined(void)
{
    joining = false;
    linked = true;
    failures_in_round = rounds = 0;
    last_error = HAL_WIFI_ERR_NONE;
    if (joining_setup) {
        setup.state = SETUP_CONNECTED;
        joining_setup = false;
        save_setup();
    }
    memset(setup.password, 0, sizeof setup.password);
    close_ap();
}

static void join_failed(enum hal_wifi_error error)
{
    joining = false;
    last_error = error;
    if (joining_setup) {
        LOG_INF("WIF", "set-up: joining %s failed: %s", setup.ssid, error_names[error]);
        setup.state = SETUP_FAILED;
        setup.error = error;
        memset(setup.password, 0, sizeof setup.password);
        joining_setup = false;
        if (saved_count())
            sched_timer_start(&retry_timer, backoff_ms(), 0);
        return;
    }
    LOG_INF("WIF", "joining %s failed: %s", config_get()->wifi.ssid[network], error_names[error]);
    network = (network + 1) % CONFIG_WIFI_NETWORKS;
    if (++failures_in_round >= (unsigned)saved_count()) {
        failures_in_round = 0;
        if (++rounds >= WIFI_ROUNDS_BEFORE_AP && !ap_open) {
            LOG_INF("WIF", "no saved network joined in %u rounds: opening the set-up access point (retries go on)",
                    rounds);
            open_ap();
        }
    }
    uint32_t wait = backoff_ms();
    LOG_INF("WIF", "next attempt in %lu s", (unsigned long)(wait / 1000));
    sched_timer_start(&retry_timer, wait, 0);
}

static void announce(enum hal_wifi_state state)
{
    if (state == announced)
        return;
    announced = state;
    if (state == HAL_WIFI_CONNECTED)
        LOG_INF("WIF", "Wi-Fi connected (RSSI %d dBm) to %s", hal_wifi_rssi(), current_ssid);
    else if (state == HAL_WIFI_AP)
        LOG_INF("WIF", "Wi-Fi access point %s (open): join it and open the plug's page to set up Wi-Fi",
                wifi_ap_name());
    else
        LOG_INF("WIF", "Wi-Fi %s", state_names[state & 3]);
    event_publish(&(struct event){.type = EVENT_WIFI, .value = state, .source = SOURCE_BOOT});
}

void wifi_poll(void)
{
    enum hal_wifi_state state = hal_wifi_state();
    if (joining && state == HAL_WIFI_CONNECTED) {
        announce(state);
        joined();
    }
    else if (joining && hal_wifi_error() != HAL_WIFI_ERR_NONE)
        join_failed(hal_wifi_error());
    else if (linked && state != HAL_WIFI_CONNECTED) {
        linked = false;
        LOG_INF("WIF", "link lost: joining again");
        sched_timer_start(&retry_timer, 1000, 0);
    }
    announce(hal_wifi_state());
}

bool wifi_password_valid(const char *password)
{
    size_t len = strlen(password);
    if (len == 64)
        return strspn(password, "0123456789abcdefABCDEF") == 64;
    return len == 0 || (len >= 8 && len <= 63 && cmd_text_printable(password));
}

bool wifi_try(const char *ssid, const char *password)
{
    size_t ssid_len = strlen(ssid);
    if (!ssid_len || ssid_len >= sizeof setup.ssid || !wifi_password_valid(password) || !cmd_text_printable(ssid))
        return false;
    strcpy(setup.ssid, ssid);
    strcpy(setup.password, password);
    setup.state = SETUP_CONNECTING;
    setup.error = HAL_WIFI_ERR_NONE;
    sched_timer_stop(&retry_timer);
    linked = false;
    joining = joining_setup = true;
    strcpy(current_ssid, ssid);
    LOG_INF("WIF", "set-up: joining %s", ssid);
    hal_wifi_connect(ssid, password);
    return true;
}

static void rejoin(void *arg)
{
    (void)arg;
    sched_timer_stop(&retry_timer);
    failures_in_round = rounds = 0;
    linked = false;
    join_saved();
}

void wifi_start(void)
{
    sched_timer_init(&retry_timer, retry, NULL);
    sched_timer_init(&rejoin_timer, rejoin, NULL);
    if (system_safe_mode())
        open_ap(); /* a way in, whatever the saved networks do */
    join_saved();
    announce(hal_wifi_state());
}

/* ---- Status for the API ---- */

void wifi_write_status(struct json_writer *w)
{
    enum hal_wifi_state state = hal_wifi_state();
    jw_object_begin(w, "wifi");
    jw_string(w, "state", state_names[state & 3]);
    jw_string(w, "ssid", state == HAL_WIFI_CONNECTED ? current_ssid : "");
    jw_int(w, "rssi", hal_wifi_rssi());
    jw_string(w, "ap_name", wifi_ap_name());
    jw_object_end(w);
}

void wifi_write_details(struct json_writer *w)
{
    static const char *const setup_names[] = {"", "connecting", "connected", "failed"};
    enum hal_wifi_state state = hal_wifi_state();
    jw_string(w, "state", state_names[state & 3]);
    jw_string(w, "ssid", state == HAL_WIFI_CONNECTED ? current_ssid : "");
    jw_int(w, "rssi", hal_wifi_rssi());
    jw_string(w, "ap_name", wifi_ap_name());
    jw_bool(w, "ap_open", ap_open);
    uint32_t ip = hal_wifi_ip();
    char text[16] = "";
    if (ip)
        wifi_ip_text(ip, text);
    jw_string(w, "ip", text);
    jw_array_begin(w, "saved");
    for (int i = 0; i < CONFIG_WIFI_NETWORKS; i++)
        jw_string(w, NULL, config_get()->wifi.ssid[i]);
    jw_array_end(w);
    jw_int(w, "rounds_failed", rounds);
    jw_string(w, "last_error", error_names[last_error]);
    if (setup.state == SETUP_NONE) {
        jw_raw(w, "setup", "null");
    } else {
        jw_object_begin(w, "setup");
        jw_string(w, "ssid", setup.ssid);
        jw_string(w, "state", setup_names[setup.state]);
        jw_string(w, "error", error_names[setup.error]);
        jw_object_end(w);
    }
}

/* ---- Commands ---- */

/* SSId<n> / Password<n>: n is 1 or 2 (none = 1); a change rejoins a
 * moment later (so `Backlog SSId1 x; Password1 y` joins once). */
static enum cmd_result wifi_setting(struct cmd_ctx *ctx, const char *base, bool secret)
{
    int index = ctx->index ? ctx->index : 1;
    if (index > CONFIG_WIFI_NETWORKS)
        return cmd_error(ctx, "%s: networks are 1 and 2", base);
    char key[16];
    snprintf(key, sizeof key, "%s%d", base, index);
    ctx->name = key;
    bool clear = strcmp(ctx->arg, "\"\"") == 0 || strcmp(ctx->arg, "0") == 0;
    if (secret && *ctx->arg && !clear && !wifi_password_valid(ctx->arg))
        return cmd_error(ctx, "%s: a WPA2 password has 8-63 characters (or 64 hex digits); 0 clears (open network)",
                         key);
    size_t offset = secret ? offsetof(struct config, wifi.password) + (size_t)(index - 1) * CONFIG_SECRET_SIZE
                           : offsetof(struct config, wifi.ssid) + (size_t)(index - 1) * CONFIG_NAME_SIZE;
    enum cmd_result result = cmd_setting_text(ctx, offset, secret ? CONFIG_SECRET_SIZE : CONFIG_NAME_SIZE,
                                              secret ? SETTING_SECRET : SETTING_PLAIN);
    if (result == CMD_DONE && *ctx->arg) {
        network = index - 1;
        sched_timer_start(&rejoin_timer, 300, 0);
    }
    return result;
}

static enum cmd_result cmd_ssid(struct cmd_ctx *ctx) { return wifi_setting(ctx, "SSId", false); }
static enum cmd_result cmd_password(struct cmd_ctx *ctx) { return wifi_setting(ctx, "Password", true); }

static const struct cmd_def wifi_commands[] = {
    {"SSId", cmd_ssid, CMD_INDEXED, "SSId<1|2> [name]: show or set a Wi-Fi network (the plug joins it); 0 clears"},
    {"Password", cmd_password, CMD_INDEXED, "Password<1|2> [password]: the Wi-Fi network's password (shown as ****)"},
};

void wifi_register(void)
{
    static struct cmd_table table;
    cmd_register(&table, wifi_commands, sizeof wifi_commands / sizeof wifi_commands[0]);
}

/* ---- Scans for the set-up page ---- */

static struct hal_wifi_network scan_found[HAL_WIFI_SCAN_MAX];
static int scan_count;
static uint64_t scan_started_ms;
static bool scanning;

void wifi_write_scan(struct json_writer *w)
{
    if (scanning) {
        int n = hal_wifi_scan_results(scan_found, HAL_WIFI_SCAN_MAX);
        if (n != HAL_EBUSY) {
            scanning = false;
            scan_count = n > 0 ? n : 0;
        }
    }
    uint64_t now = hal_time_ms();
    if (!scanning && (!scan_started_ms || now - scan_started_ms >= WIFI_SCAN_FRESH_MS) &&
        hal_wifi_scan_start() == HAL_OK) {
        scanning = true;
        scan_started_ms = now;
    }
    jw_bool(w, "scanning", scanning);
    jw_array_begin(w, "networks");
    for (int i = 0; i < scan_count; i++) {
        jw_object_begin(w, NULL);
        jw_string(w, "ssid", scan_found[i].ssid);
        jw_int(w, "rssi", scan_found[i].rssi);
        jw_int(w, "channel", scan_found[i].channel);
        jw_bool(w, "secured", scan_found[i].secured);
        jw_object_end(w);
    }
    jw_array_end(w);
}
