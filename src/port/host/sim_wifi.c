/*
 * sim_wifi.c — the simulated radio: the networks of the world (--wifi
 * SSID:PASS, repeatable; their signal --rssi DBM), the station's join (a
 * modelled 1.5-2 s of scanning and handshake, then joined, "network not
 * found" or "wrong password") and the set-up access point; the world's
 * "wifi down|up" takes every network away and back; scans (1.2 s) see every
 * network, each with its own signal (--rssi, or -55 dBm for the first and
 * 9 dB less for each next one).  The HAL's Wi-Fi functions for the host
 * port.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define SIM_WIFI_NETWORKS 8

struct network {
    char ssid[33], password[65];
};

static struct network networks[SIM_WIFI_NETWORKS];
static int network_count;

enum join { JOIN_NONE, JOIN_RUNNING, JOIN_DONE };
static enum join join_state;
static struct network wanted;
static uint64_t join_done_us;
static enum hal_wifi_error join_error;
static bool ap_up;
static bool networks_gone; /* world request "wifi down" */
static uint64_t scan_done_us; /* 0: no scan asked */
#define SCAN_US 1200000

void sim_wifi_link(bool up)
{
    networks_gone = !up;
    if (!up && join_state == JOIN_DONE)
        join_state = JOIN_NONE; /* the link drops; the firmware notices and joins again */
}

bool sim_wifi_option(const char *text)
{
    const char *colon = strchr(text, ':');
    size_t ssid_len = colon ? (size_t)(colon - text) : strlen(text);
    const char *password = colon ? colon + 1 : "";
    if (network_count == SIM_WIFI_NETWORKS || ssid_len == 0 || ssid_len > 32 || strlen(password) > 64 ||
        (*password && strlen(password) < 8)) {
        fprintf(stderr, "openplug-sim: --wifi takes SSID:PASSWORD (SSID 1-32 bytes, password 8-64 or none for an "
                        "open network; at most %d networks)\n", SIM_WIFI_NETWORKS);
        return false;
    }
    memcpy(networks[network_count].ssid, text, ssid_len);
    snprintf(networks[network_count].password, sizeof networks[0].password, "%s", password);
    network_count++;
    return true;
}

static const struct network *find_network(const char *ssid)
{
    if (networks_gone)
        return NULL;
    for (int i = 0; i < network_count; i++)
        if (strcmp(networks[i].ssid, ssid) == 0)
            return &networks[i];
    return NULL;
}

/* The attempt finishes when its time comes (looked at lazily). */
static void update_join(void)
{
    if (join_state != JOIN_RUNNING || sim_now_us() < join_done_us)
        return;
    const struct network *net = find_network(wanted.ssid);
    join_error = !net ? HAL_WIFI_ERR_NOT_FOUND
                      : strcmp(net->password, wanted.password) != 0 ? HAL_WIFI_ERR_AUTH : HAL_WIFI_ERR_NONE;
    join_state = join_error ? JOIN_NONE : JOIN_DONE;
}

int hal_wifi_connect(const char *ssid, const char *password)
{
    if (!ssid || !password || !*ssid || strlen(ssid) > 32 || strlen(password) > 64)
        return HAL_EINVAL;
    snprintf(wanted.ssid, sizeof wanted.ssid, "%s", ssid);
    snprintf(wanted.password, sizeof wanted.password, "%s", password);
    join_state = JOIN_RUNNING;
    join_error = HAL_WIFI_ERR_NONE;
    join_done_us = sim_now_us() + 1500000 + sim_random_model() % 500000;
    return HAL_OK;
}

enum hal_wifi_error hal_wifi_error(void)
{
    update_join();
    return join_error;
}

int hal_wifi_start_ap(const char *name)
{
    if (name && (!*name || strlen(name) > 32))
        return HAL_EINVAL;
    ap_up = name != NULL;
    return HAL_OK;
}

enum hal_wifi_state hal_wifi_state(void)
{
    update_join();
    if (join_state == JOIN_DONE)
        return HAL_WIFI_CONNECTED;
    if (ap_up)
        return HAL_WIFI_AP;
    return join_state == JOIN_RUNNING ? HAL_WIFI_CONNECTING : HAL_WIFI_OFF;
}

/* The joined network: its BSSID follows the SSID and the seed, the channel
 * too; the plug's address is the host's loopback, where its sockets are. */
bool hal_wifi_link(struct hal_wifi_link *out)
{
    if (hal_wifi_state() != HAL_WIFI_CONNECTED)
        return false;
    uint64_t bits = (sim_opt.seed + 7) * 0xD6E8FEB86659FD93ULL;
    for (const char *p = wanted.ssid; *p; p++)
        bits = (bits ^ (uint8_t)*p) * 0x100000001B3ULL;
    *out = (struct hal_wifi_link){.channel = (uint8_t)(1 + bits % 13), .ip = htonl(INADDR_LOOPBACK)};
    snprintf(out->ssid, sizeof out->ssid, "%s", wanted.ssid);
    for (int i = 0; i < 6; i++)
        out->bssid[i] = (uint8_t)(bits >> (8 * i + 8));
    out->bssid[0] = (uint8_t)((out->bssid[0] & 0xFC) | 0x02); /* locally administered, unicast */
    return true;
}

int hal_wifi_rssi(void)
{
    if (hal_wifi_state() != HAL_WIFI_CONNECTED)
        return 0;
    if (sim_opt.rssi_dbm)
        return sim_opt.rssi_dbm;
    return -58 + (int)(sim_random_model() % 7);
}

/* The simulated plug is reachable only on the loopback, joined or not; its
 * access point would be 192.168.4.1 on the chip. */
uint32_t hal_wifi_ip(void)
{
    enum hal_wifi_state state = hal_wifi_state();
    return state == HAL_WIFI_CONNECTED ? 0x7F000001u : state == HAL_WIFI_AP ? 0xC0A80401u : 0;
}

/* ---- Scans ---- */

int hal_wifi_scan_start(void)
{
    if (scan_done_us && sim_now_us() < scan_done_us)
        return HAL_EBUSY;
    scan_done_us = sim_now_us() + SCAN_US;
    return HAL_OK;
}

/* The networks as the radio hears them: every one of the world, its
 * channel from its name, its signal by its place in the list. */
int hal_wifi_scan_results(struct hal_wifi_network *out, int max)
{
    if (!scan_done_us)
        return 0;
    if (sim_now_us() < scan_done_us)
        return HAL_EBUSY;
    int count = 0;
    for (int i = 0; i < network_count && count < max && !networks_gone; i++) {
        uint32_t bits = 2166136261u;
        for (const char *p = networks[i].ssid; *p; p++)
            bits = (bits ^ (uint8_t)*p) * 16777619u;
        int rssi = (sim_opt.rssi_dbm ? sim_opt.rssi_dbm : -55) - 9 * i;
        out[count] = (struct hal_wifi_network){.rssi = (int8_t)(rssi < -95 ? -95 : rssi),
                                               .channel = (uint8_t)(1 + bits % 13),
                                               .secured = networks[i].password[0] != 0};
        memcpy(out[count].ssid, networks[i].ssid, sizeof out[count].ssid); /* both 33 bytes, terminated */
        count++;
    }
    return count; /* in the order given: strongest first */
}
