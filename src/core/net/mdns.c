/* mdns.c — the mDNS / DNS-SD responder; see mdns.h. */
#include "mdns.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/drivers.h"
#include "core/events.h"
#include "core/log.h"
#include "core/net/http.h"
#include "core/net/mdns_packet.h"
#include "core/net/multicast.h"
#include "core/net/wifi.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "hal/hal.h"
#include "hal/hal_net.h"

static struct driver driver;
static struct sched_timer announce_timer;
static struct sched_poller poller;
static struct event_listener listener;
static int sock = -1;
static uint32_t local_ip; /* network order */
static unsigned announcements_left;
static uint64_t second_start_ms;
static unsigned replies_this_second, dropped;
static char host[24];

/* The names now: the host from the MAC (as the AP's), the instance from
 * DeviceName (which may change at any time). */
static struct mdns_names names(void)
{
    const char *ap = wifi_ap_name();
    size_t n = 0;
    for (; ap[n] && n + 1 < sizeof host; n++)
        host[n] = (char)(ap[n] >= 'A' && ap[n] <= 'Z' ? ap[n] + 32 : ap[n]);
    host[n] = 0;
    const char *name = config_get()->device_name;
    return (struct mdns_names){.host = host, .instance = *name ? name : host};
}

static void send_records(uint32_t addr, uint16_t port, unsigned wanted, uint16_t id, unsigned ttl_scale)
{
    uint8_t packet[MDNS_PACKET_MAX];
    struct mdns_names n = names();
    size_t len = mdns_response_build(packet, sizeof packet, &n, local_ip, http_port(), wanted, id, ttl_scale);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = addr};
    if (len && sendto(sock, packet, len, 0, (struct sockaddr *)&to, sizeof to) < 0)
        LOG_DBG("MDNS", "send failed (%d)", errno);
}

static uint32_t group(void)
{
    struct in_addr a;
    inet_pton(AF_INET, MDNS_GROUP, &a);
    return a.s_addr;
}

static void announce(void *arg)
{
    (void)arg;
    if (sock < 0 || !announcements_left)
        return;
    send_records(group(), htons(MDNS_PORT), MDNS_WANT_ALL, 0, 1);
    if (--announcements_left)
        sched_timer_start(&announce_timer, MDNS_ANNOUNCE_GAP_MS, 0);
}

static bool reply_allowed(void)
{
    uint64_t now = hal_time_ms();
    if (now - second_start_ms >= 1000) {
        second_start_ms = now;
        replies_this_second = 0;
    }
    if (replies_this_second >= MDNS_REPLIES_PER_S) {
        dropped++;
        return false;
    }
    replies_this_second++;
    return true;
}

/* Each loop turn: the queries that came, a few at a time. */
static void poll_socket(void *arg)
{
    (void)arg;
    if (sock < 0 || !hal_net_ready(sock))
        return;
    uint8_t packet[1500];
    struct mdns_names n = names();
    for (int i = 0; i < MDNS_READS_PER_TURN; i++) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t len = recvfrom(sock, packet, sizeof packet, 0, (struct sockaddr *)&from, &from_len);
        if (len < 0)
            return;
        struct mdns_query q;
        if (!mdns_query_parse(packet, (size_t)len, &n, &q) || !q.wanted || !reply_allowed())
            continue;
        bool legacy = from.sin_port != htons(MDNS_PORT); /* a plain DNS client: answer it, with its id */
        if (legacy || q.unicast_reply)
            send_records(from.sin_addr.s_addr, from.sin_port, q.wanted, legacy ? q.id : 0, 1);
        else
            send_records(group(), htons(MDNS_PORT), q.wanted, 0, 1);
    }
}

/* ---- The socket follows the link ---- */

static void close_socket(void)
{
    if (sock >= 0)
        hal_net_close(sock);
    sock = -1;
    sched_timer_stop(&announce_timer);
}

static void link_up(void)
{
    struct hal_wifi_link link;
    if (sock >= 0 || !hal_wifi_link(&link))
        return;
    sock = multicast_open("MDNS", group(), MDNS_PORT, link.ip, 255); /* RFC 6762 §11: TTL 255, receivers check it */
    if (sock < 0)
        return;
    hal_net_watch(sock, POLLIN);
    local_ip = link.ip;
    announcements_left = 2;
    sched_timer_start(&announce_timer, 0, 0);
    struct mdns_names n = names();
    LOG_INF("MDNS", "%s.local and _http._tcp \"%s\" on port %u announced", n.host, n.instance,
            (unsigned)http_port());
}

static void on_event(const struct event *e, void *arg)
{
    (void)arg;
    if (!driver.running)
        return;
    if (e->type == EVENT_WIFI) {
        if (e->value == HAL_WIFI_CONNECTED)
            link_up();
        else
            close_socket();
    } else if (e->type == EVENT_RESTART && sock >= 0) {
        send_records(group(), htons(MDNS_PORT), MDNS_WANT_ALL, 0, 0); /* goodbye: TTL 0 */
    }
}

static int start(struct driver *self)
{
    (void)self;
    sched_timer_init(&announce_timer, announce, NULL);
    sched_poller_add(&poller, poll_socket, NULL);
    event_listen(&listener, on_event, NULL);
    driver.running = true;
    link_up(); /* already joined: at once */
    return 0;
}

void mdns_register(void)
{
    driver = (struct driver){.name = "MDNS", .start = start};
    driver_register(&driver);
}
