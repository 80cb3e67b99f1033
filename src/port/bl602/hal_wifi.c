/*
 * hal_wifi.c — the radio: station join, set-up access point, link figures
 * and the MAC, on the SDK's wifi_mgmr API and the Wi-Fi events it posts to
 * the yloop event task (EV_WIFI).
 *
 * The Wi-Fi manager is usable only after its own start-up (INIT_DONE, then
 * MGMR_DONE).  A join or an access point asked for earlier is remembered
 * and started when the manager is ready.  The manager's automatic
 * reconnection is turned off: the core decides when to join again, as it
 * does in the simulator, and a failed attempt ends with an error it can
 * read.  State shared with the event task is written under a short
 * critical section; the loop task wakes up on every change.
 */
#include <stdio.h>
#include <string.h>

#include <FreeRTOS.h>
#include <task.h>

#include <aos/yloop.h>
#include <bl_wifi.h>
#include <hal_wifi.h>
#include <lwip/def.h>
#include <wifi_mgmr_ext.h>

#include "bl602_port.h"
#include "hal/hal.h"

#define WIFI_COUNTRY "EU" /* channels 1-13 */

enum station { STATION_OFF, STATION_JOINING, STATION_JOINED };

static volatile bool manager_ready;
static volatile enum station station;
static volatile enum hal_wifi_error join_error;
static volatile bool ap_up;

/* Requests kept until the manager is ready (and for the retry it needs). */
static char wanted_ssid[33], wanted_password[65], wanted_ap_name[33];
static volatile bool join_pending, ap_pending;

static wifi_conf_t wifi_config = {.country_code = WIFI_COUNTRY};

static void start_join(void)
{
    /* The manager keeps its interfaces itself: the handle is not used. */
    wifi_interface_t station_interface = wifi_mgmr_sta_enable();
    wifi_mgmr_sta_connect(&station_interface, wanted_ssid, wanted_password, NULL, NULL, 0, 0);
}

static void start_ap(void)
{
    wifi_interface_t ap_interface = wifi_mgmr_ap_enable();
    /* Open network (no password), channel 1, with the SDK's DHCP server. */
    wifi_mgmr_ap_start_adv(&ap_interface, wanted_ap_name, 0, NULL, 1, 1);
}

static void start_pending_requests(void)
{
    if (join_pending) {
        join_pending = false;
        start_join();
    }
    if (ap_pending) {
        ap_pending = false;
        start_ap();
    }
}

/* What a failed attempt's status code (WLAN_FW_*) says to the core: the
 * network refused the key, or it was not joined at all. */
static enum hal_wifi_error error_of_status(int status_code)
{
    switch (status_code) {
    case WLAN_FW_AUTHENTICATION_FAIILURE:
    case WLAN_FW_AUTH_ALGO_FAIILURE:
    case WLAN_FW_4WAY_HANDSHAKE_ERROR_PSK_TIMEOUT_FAILURE:
    case WLAN_FW_JOIN_NETWORK_SECURITY_NOMATCH:
        return HAL_WIFI_ERR_AUTH;
    default:
        return HAL_WIFI_ERR_NOT_FOUND;
    }
}

static void on_disconnect(int status_code)
{
    taskENTER_CRITICAL();
    if (station == STATION_JOINING)
        join_error = error_of_status(status_code);
    station = STATION_OFF;
    taskEXIT_CRITICAL();
}

/* Runs in the SDK's event task. */
static void on_wifi_event(input_event_t *event, void *unused)
{
    (void)unused;
    switch (event->code) {
    case CODE_WIFI_ON_INIT_DONE:
        wifi_mgmr_start_background(&wifi_config);
        return;
    case CODE_WIFI_ON_MGMR_DONE:
        /* One switch for the whole manager (not per network): the core
         * joins again itself, and a failed join must end with its error. */
        wifi_mgmr_sta_autoconnect_disable();
        manager_ready = true;
        start_pending_requests();
        break;
    case CODE_WIFI_ON_GOT_IP:
        station = STATION_JOINED;
        join_error = HAL_WIFI_ERR_NONE;
        break;
    case CODE_WIFI_ON_DISCONNECT:
        on_disconnect((int)event->value);
        break;
    case CODE_WIFI_ON_AP_STARTED:
        ap_up = true;
        break;
    case CODE_WIFI_ON_AP_STOPPED:
        ap_up = false;
        break;
    default:
        return;
    }
    bl602_wake_loop();
}

void bl602_wifi_init(void)
{
    aos_register_event_filter(EV_WIFI, on_wifi_event, NULL);
    hal_wifi_start_firmware_task();
    aos_post_event(EV_WIFI, CODE_WIFI_ON_INIT_DONE, 0);
}

int hal_wifi_connect(const char *ssid, const char *password)
{
    if (!ssid || !password || !*ssid || strlen(ssid) > 32 || strlen(password) > 64)
        return HAL_EINVAL;
    bool replacing = station != STATION_OFF;
    snprintf(wanted_ssid, sizeof wanted_ssid, "%s", ssid);
    snprintf(wanted_password, sizeof wanted_password, "%s", password);
    taskENTER_CRITICAL();
    station = STATION_JOINING;
    join_error = HAL_WIFI_ERR_NONE;
    bool ready = manager_ready;
    join_pending = !ready;
    taskEXIT_CRITICAL();
    if (ready) {
        if (replacing)
            wifi_mgmr_sta_disconnect(); /* queued before the new join in the manager */
        start_join();
    }
    return HAL_OK;
}

enum hal_wifi_error hal_wifi_error(void) { return join_error; }

int hal_wifi_start_ap(const char *name)
{
    if (name && (!*name || strlen(name) > 32))
        return HAL_EINVAL;
    if (!name) {
        ap_pending = false;
        if (manager_ready && ap_up)
            wifi_mgmr_ap_stop(NULL);
        return HAL_OK;
    }
    snprintf(wanted_ap_name, sizeof wanted_ap_name, "%s", name);
    taskENTER_CRITICAL();
    bool ready = manager_ready;
    ap_pending = !ready;
    taskEXIT_CRITICAL();
    if (ready)
        start_ap();
    return HAL_OK;
}

enum hal_wifi_state hal_wifi_state(void)
{
    if (station == STATION_JOINED)
        return HAL_WIFI_CONNECTED;
    if (ap_up)
        return HAL_WIFI_AP;
    return station == STATION_JOINING ? HAL_WIFI_CONNECTING : HAL_WIFI_OFF;
}

int hal_wifi_rssi(void)
{
    int rssi = 0;
    if (station != STATION_JOINED || wifi_mgmr_rssi_get(&rssi) != 0)
        return 0;
    return rssi;
}

bool hal_wifi_link(struct hal_wifi_link *out)
{
    if (station != STATION_JOINED)
        return false;
    wifi_mgmr_sta_connect_ind_stat_info_t info;
    memset(&info, 0, sizeof info);
    wifi_mgmr_sta_connect_ind_stat_get(&info);
    uint32_t ip = 0, gateway = 0, mask = 0;
    wifi_mgmr_sta_ip_get(&ip, &gateway, &mask); /* lwIP's order: network */
    memset(out, 0, sizeof *out);
    memcpy(out->ssid, info.ssid, sizeof info.ssid); /* not terminated when 32 long */
    memcpy(out->bssid, info.bssid, sizeof out->bssid);
    out->channel = info.chan_id;
    out->ip = ip;
    return true;
}

uint32_t hal_wifi_ip(void)
{
    uint32_t ip = 0, gateway = 0, mask = 0;
    enum hal_wifi_state state = hal_wifi_state();
    if (state == HAL_WIFI_CONNECTED)
        wifi_mgmr_sta_ip_get(&ip, &gateway, &mask);
    else if (state == HAL_WIFI_AP)
        wifi_mgmr_ap_ip_get(&ip, &gateway, &mask);
    return lwip_ntohl(ip);
}

/* The board's station MAC (efuse or factory parameters), known from the
 * SDK's early init, before the radio starts. */
void hal_mac(uint8_t mac[6]) { bl_wifi_mac_addr_get(mac); }

/* ---- Scans: wifi_mgmr_scan() runs in the manager's task and calls back
 * when done; the results are then read from the manager's scan table
 * (wifi_mgmr_scan_ap_all()), in the loop, one entry per SSID. ---- */

static volatile bool scan_running, scan_done;

/* An entry's auth: WIFI_EVENT_BEACON_IND_AUTH_* of the SDK's Wi-Fi manager,
 * where 0 is an open network (the macro is in wifi_mgmr_ext.h only in some
 * SDK versions). */
#ifdef WIFI_EVENT_BEACON_IND_AUTH_OPEN
#define SCAN_AUTH_OPEN WIFI_EVENT_BEACON_IND_AUTH_OPEN
#else
#define SCAN_AUTH_OPEN 0
#endif

static void on_scan_done(void *data, void *param)
{
    (void)data;
    (void)param;
    scan_running = false;
    scan_done = true;
    bl602_wake_loop();
}

int hal_wifi_scan_start(void)
{
    if (scan_running)
        return HAL_EBUSY;
    if (!manager_ready)
        return HAL_EIO;
    scan_running = true;
    if (wifi_mgmr_scan(NULL, on_scan_done) != 0) {
        scan_running = false;
        return HAL_EIO;
    }
    return HAL_OK;
}

static struct hal_wifi_network *scan_out;
static int scan_max, scan_count;

/* One entry of the manager's table: kept if its SSID is new or louder. */
static void take_scan_item(wifi_mgmr_ap_item_t *env, uint32_t *param1, wifi_mgmr_ap_item_t *item)
{
    (void)env;
    (void)param1;
    const char *end = memchr(item->ssid, '\0', sizeof item->ssid); /* newlib's strnlen is POSIX-only */
    size_t len = end ? (size_t)(end - item->ssid) : sizeof item->ssid;
    if (!len)
        return; /* hidden */
    int at = 0;
    while (at < scan_count && (strncmp(scan_out[at].ssid, item->ssid, len) != 0 || scan_out[at].ssid[len]))
        at++;
    if (at < scan_count && scan_out[at].rssi >= item->rssi)
        return;
    if (at == scan_count) {
        if (scan_count == scan_max)
            return;
        scan_count++;
    }
    memset(&scan_out[at], 0, sizeof scan_out[at]);
    memcpy(scan_out[at].ssid, item->ssid, len);
    scan_out[at].rssi = item->rssi;
    scan_out[at].channel = item->channel;
    scan_out[at].secured = item->auth != SCAN_AUTH_OPEN;
}

int hal_wifi_scan_results(struct hal_wifi_network *out, int max)
{
    if (scan_running)
        return HAL_EBUSY;
    if (!scan_done)
        return 0;
    scan_out = out;
    scan_max = max;
    scan_count = 0;
    wifi_mgmr_scan_ap_all(NULL, NULL, take_scan_item);
    for (int i = 1; i < scan_count; i++) /* strongest first: an insertion sort of a few */
        for (int k = i; k > 0 && scan_out[k].rssi > scan_out[k - 1].rssi; k--) {
            struct hal_wifi_network t = scan_out[k];
            scan_out[k] = scan_out[k - 1];
            scan_out[k - 1] = t;
        }
    return scan_count;
}
