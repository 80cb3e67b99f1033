/* wifi.c — Wi-Fi state for the API; see wifi.h. */
#include "core/net/wifi.h"

#include <stdio.h>

#include "core/storage/config.h"

static const char *const state_names[] = {"off", "connecting", "connected", "access point"};

const char *wifi_ap_name(void)
{
    static char name[20];
    uint8_t mac[6];
    hal_mac(mac);
    snprintf(name, sizeof name, "OpenPlug-%02X%02X%02X", mac[3], mac[4], mac[5]);
    return name;
}

void wifi_write_status(struct json_writer *w)
{
    enum hal_wifi_state state = hal_wifi_state();
    jw_object_begin(w, "wifi");
    jw_string(w, "state", state_names[state & 3]);
    jw_string(w, "ssid", state == HAL_WIFI_CONNECTED ? config_get()->wifi.ssid[0] : "");
    jw_int(w, "rssi", hal_wifi_rssi());
    jw_string(w, "ap_name", wifi_ap_name());
    jw_object_end(w);
}
