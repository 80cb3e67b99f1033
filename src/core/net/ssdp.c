/* ssdp.c — the SSDP responder and the device description; see ssdp.h. */
#include "ssdp.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/cmd/cmd.h"
#include "core/drivers.h"
#include "core/events.h"
#include "core/log.h"
#include "core/net/http.h"
#include "core/net/multicast.h"
#include "core/net/ssdp_parse.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "core/system.h"
#include "hal/hal.h"
#include "hal/hal_net.h"

enum target { TARGET_ROOT, TARGET_UUID, TARGET_TYPE, TARGETS };

struct pending {
    bool used;
    uint8_t target; /* enum target, or TARGETS for all three */
    uint16_t port;  /* network order */
    uint32_t addr;  /* network order */
    uint64_t due_ms;
};

static struct driver driver;
static struct sched_timer tick_timer;
static struct event_listener listener;
static struct http_route description_route;
static struct pending pending[SSDP_PENDING_MAX];
static struct ssdp_stats stats;
static int sock = -1;
static uint32_t local_ip; /* network order */
static uint64_t next_notify_ms;
static uint64_t second_start_ms;
static unsigned replies_this_second;
static uint32_t boot_id;
static char uuid[48];

/* ---- Identity ---- */

static void make_uuid(void)
{
    uint8_t mac[6];
    hal_mac(mac);
    snprintf(uuid, sizeof uuid, "uuid:4f70656e-506c-7567-8000-%02x%02x%02x%02x%02x%02x", mac[0], mac[1], mac[2],
             mac[3], mac[4], mac[5]);
}

static const char *target_text(enum target t)
{
    return t == TARGET_ROOT ? "upnp:rootdevice" : t == TARGET_UUID ? uuid : SSDP_DEVICE_TYPE;
}

static int location(char *buf, size_t size)
{
    unsigned ip = (unsigned)ntohl(local_ip); /* uint32_t is unsigned long on newlib */
    return snprintf(buf, size, "http://%u.%u.%u.%u:%u/description.xml", ip >> 24, ip >> 16 & 255, ip >> 8 & 255,
                    ip & 255, http_port());
}

/* ---- Sending ---- */

static void send_to(uint32_t addr, uint16_t port, const char *text, int len)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = port, .sin_addr.s_addr = addr};
    if (len > 0 && sendto(sock, text, (size_t)len, 0, (struct sockaddr *)&to, sizeof to) < 0)
        LOG_DBG("SSDP", "send failed (%d)", errno);
}

/* USN: the uuid alone for the uuid target, else uuid::target. */
static int usn(char *buf, size_t size, enum target t)
{
    return t == TARGET_UUID ? snprintf(buf, size, "%s", uuid) : snprintf(buf, size, "%s::%s", uuid, target_text(t));
}

static void send_reply(const struct pending *p, enum target t)
{
    char text[512], loc[64], name[128];
    location(loc, sizeof loc);
    usn(name, sizeof name, t);
    int len = snprintf(text, sizeof text,
                       "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=%d\r\nEXT:\r\nLOCATION: %s\r\n"
                       "SERVER: OpenPlug/%s UPnP/1.1 OpenPlug/%s\r\nST: %s\r\nUSN: %s\r\n"
                       "BOOTID.UPNP.ORG: %lu\r\nCONFIGID.UPNP.ORG: 1\r\n\r\n",
                       SSDP_MAX_AGE_S, loc, OPENPLUG_VERSION, OPENPLUG_VERSION, target_text(t), name,
                       (unsigned long)boot_id);
    send_to(p->addr, p->port, text, len);
    stats.replies_sent++;
}

static void send_notify(enum target t, bool alive)
{
    char text[512], loc[64], name[128];
    location(loc, sizeof loc);
    usn(name, sizeof name, t);
    int len = alive ? snprintf(text, sizeof text,
                               "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=%d\r\n"
                               "LOCATION: %s\r\nNT: %s\r\nNTS: ssdp:alive\r\nSERVER: OpenPlug/%s UPnP/1.1 OpenPlug/%s\r\n"
                               "USN: %s\r\nBOOTID.UPNP.ORG: %lu\r\nCONFIGID.UPNP.ORG: 1\r\n\r\n",
                               SSDP_MAX_AGE_S, loc, target_text(t), OPENPLUG_VERSION, OPENPLUG_VERSION, name,
                               (unsigned long)boot_id)
                    : snprintf(text, sizeof text,
                               "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nNT: %s\r\nNTS: ssdp:byebye\r\n"
                               "USN: %s\r\nBOOTID.UPNP.ORG: %lu\r\nCONFIGID.UPNP.ORG: 1\r\n\r\n",
                               target_text(t), name, (unsigned long)boot_id);
    struct in_addr group;
    inet_pton(AF_INET, SSDP_GROUP, &group);
    send_to(group.s_addr, htons(SSDP_PORT), text, len);
    stats.notifies++;
}

static void announce(bool alive)
{
    for (int t = 0; t < TARGETS; t++)
        send_notify((enum target)t, alive);
}

/* ---- Searches ---- */

/* Which of our targets a search asks for: TARGETS = all, -1 = none. */
static int wanted(const char *st)
{
    if (strcmp(st, "ssdp:all") == 0)
        return TARGETS;
    for (int t = 0; t < TARGETS; t++)
        if (strcmp(st, target_text((enum target)t)) == 0)
            return t;
    /* A search for an older version of our type is ours too (UDA 1.1). */
    if (strcmp(st, "urn:schemas-upnp-org:device:Basic:0") == 0)
        return TARGET_TYPE;
    return -1;
}

static void take_search(const struct ssdp_search *s, const struct sockaddr_in *from)
{
    stats.searches++;
    int target = wanted(s->st);
    if (target < 0)
        return;
    struct pending *slot = NULL;
    for (unsigned i = 0; i < SSDP_PENDING_MAX && !slot; i++)
        if (!pending[i].used)
            slot = &pending[i];
    if (!slot) {
        stats.dropped++;
        return;
    }
    int mx = s->mx > 5 ? 5 : s->mx; /* UDA: MX above 5 counts as 5 */
    uint32_t delay = mx > 0 ? hal_random() % ((uint32_t)mx * 1000u) : 0;
    *slot = (struct pending){.used = true, .target = (uint8_t)target, .port = from->sin_port,
                             .addr = from->sin_addr.s_addr, .due_ms = hal_time_ms() + delay};
    stats.answered++;
}

static void read_datagrams(void)
{
    for (int i = 0; i < SSDP_READS_PER_TICK; i++) {
        char buf[1024];
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        long n = (long)recvfrom(sock, buf, sizeof buf, 0, (struct sockaddr *)&from, &from_len);
        if (n < 0)
            return;
        stats.datagrams++;
        struct ssdp_search search;
        if (ssdp_parse_search(buf, (size_t)n, &search) == 0)
            take_search(&search, &from);
    }
}

static bool reply_allowed(uint64_t now)
{
    if (now - second_start_ms >= 1000) {
        second_start_ms = now;
        replies_this_second = 0;
    }
    return replies_this_second < SSDP_REPLIES_PER_S;
}

static void send_due_replies(void)
{
    uint64_t now = hal_time_ms();
    for (unsigned i = 0; i < SSDP_PENDING_MAX; i++) {
        struct pending *p = &pending[i];
        if (!p->used || p->due_ms > now)
            continue;
        p->used = false;
        if (!reply_allowed(now)) {
            stats.dropped++;
            continue;
        }
        replies_this_second++;
        if (p->target == TARGETS)
            for (int t = 0; t < TARGETS; t++)
                send_reply(p, (enum target)t);
        else
            send_reply(p, (enum target)p->target);
    }
}

static void tick(void *arg)
{
    (void)arg;
    if (sock < 0)
        return;
    read_datagrams();
    send_due_replies();
    if (hal_time_ms() >= next_notify_ms) {
        announce(true);
        next_notify_ms = hal_time_ms() + SSDP_NOTIFY_S * 1000u - hal_random() % 10000u;
    }
}

/* ---- The socket follows the link ---- */

static void close_socket(void)
{
    if (sock >= 0)
        hal_net_close(sock);
    sock = -1;
    sched_timer_stop(&tick_timer);
    memset(pending, 0, sizeof pending);
}

static void link_up(void)
{
    struct hal_wifi_link link;
    if (sock >= 0 || !hal_wifi_link(&link))
        return;
    struct in_addr group;
    inet_pton(AF_INET, SSDP_GROUP, &group);
    sock = multicast_open("SSDP", group.s_addr, SSDP_PORT, link.ip, 2);
    if (sock < 0)
        return;
    local_ip = link.ip;
    boot_id++;
    next_notify_ms = hal_time_ms(); /* announce at once */
    sched_timer_start(&tick_timer, 0, SSDP_TICK_MS);
    char loc[64];
    location(loc, sizeof loc);
    LOG_INF("SSDP", "UPnP responder on port %d, %s, %s", SSDP_PORT, uuid, loc);
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
        announce(false);
        LOG_INF("SSDP", "byebye sent");
    }
}

/* ---- The device description ---- */

/* Text for XML character data (device names are the user's). */
static void xml_escaped(char *out, size_t size, const char *in)
{
    size_t n = 0;
    for (; *in && n + 7 < size; in++) {
        const char *rep = *in == '&' ? "&amp;" : *in == '<' ? "&lt;" : *in == '>' ? "&gt;" : NULL;
        if (rep) {
            memcpy(out + n, rep, strlen(rep));
            n += strlen(rep);
        } else {
            out[n++] = *in;
        }
    }
    out[n] = '\0';
}

static void serve_description(struct http_request *req, void *arg)
{
    (void)arg;
    const struct config *c = config_get();
    char name[3 * CONFIG_NAME_SIZE], model[3 * CONFIG_NAME_SIZE], body[1400];
    xml_escaped(name, sizeof name, c->device_name);
    xml_escaped(model, sizeof model, *c->template_name ? c->template_name : hal_board_name());
    uint8_t mac[6];
    hal_mac(mac);
    unsigned ip = (unsigned)ntohl(local_ip); /* uint32_t is unsigned long on newlib */
    int len = snprintf(body, sizeof body,
                       "<?xml version=\"1.0\"?>\n<root xmlns=\"urn:schemas-upnp-org:device-1-0\" configId=\"1\">\n"
                       "<specVersion><major>1</major><minor>1</minor></specVersion>\n<device>\n"
                       "<deviceType>%s</deviceType>\n<friendlyName>%s</friendlyName>\n"
                       "<manufacturer>OpenPlug</manufacturer>\n<manufacturerURL>https://github.com/openplug</manufacturerURL>\n"
                       "<modelDescription>OpenPlug smart plug</modelDescription>\n<modelName>%s</modelName>\n"
                       "<modelNumber>%s</modelNumber>\n<serialNumber>%02X%02X%02X%02X%02X%02X</serialNumber>\n"
                       "<UDN>%s</UDN>\n<presentationURL>http://%u.%u.%u.%u:%u/</presentationURL>\n</device>\n</root>\n",
                       SSDP_DEVICE_TYPE, name, model, OPENPLUG_VERSION, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
                       uuid, ip >> 24, ip >> 16 & 255, ip >> 8 & 255, ip & 255, http_port());
    if (len < 0 || (size_t)len >= sizeof body) {
        http_reply_error(req, 500, "description too long");
        return;
    }
    http_reply(req, 200, "text/xml; charset=\"utf-8\"", body, (size_t)len);
}

/* ---- Driver and command ---- */

static int start(struct driver *self)
{
    (void)self;
    make_uuid();
    http_route_add(&description_route, HTTP_GET, "/description.xml", 0, serve_description, NULL);
    sched_timer_init(&tick_timer, tick, NULL);
    driver.running = true; /* link_up() below and the listener need it */
    link_up();
    return 0;
}

void ssdp_get_stats(struct ssdp_stats *out) { *out = stats; }

static enum cmd_result cmd_ssdp(struct cmd_ctx *ctx)
{
    if (*ctx->arg)
        return cmd_error(ctx, "SSDP takes no argument (start it with startDriver SSDP)");
    jw_object_begin(ctx->reply, "SSDP");
    jw_bool(ctx->reply, "Running", driver.running);
    jw_bool(ctx->reply, "Listening", sock >= 0);
    jw_string(ctx->reply, "UDN", driver.running ? uuid : "");
    jw_int(ctx->reply, "Datagrams", stats.datagrams);
    jw_int(ctx->reply, "Searches", stats.searches);
    jw_int(ctx->reply, "Answered", stats.answered);
    jw_int(ctx->reply, "Replies", stats.replies_sent);
    jw_int(ctx->reply, "Dropped", stats.dropped);
    jw_int(ctx->reply, "Notifies", stats.notifies);
    jw_object_end(ctx->reply);
    return CMD_DONE;
}

static const struct cmd_def ssdp_commands[] = {
    {"SSDP", cmd_ssdp, 0, "SSDP: the UPnP responder's state and counters (searches, replies, dropped)"},
};
static struct cmd_table ssdp_table;

void ssdp_register(void)
{
    driver.name = "SSDP";
    driver.start = start;
    driver_register(&driver);
    event_listen(&listener, on_event, NULL);
    cmd_register(&ssdp_table, ssdp_commands, 1);
}
