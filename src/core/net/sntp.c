/* sntp.c — the SNTP client: lookups, one request at a time, resync; see sntp.h. */
#include "sntp.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/cmd/cmd_setting.h"
#include "core/drivers.h"
#include "core/events.h"
#include "core/health.h"
#include "core/log.h"
#include "core/net/sntp_packet.h"
#include "core/sched.h"
#include "core/storage/config.h"
#include "core/timekeeping.h"
#include "hal/hal_net.h"

#define LOOKUP_POLL_MS 20

enum sntp_state { SNTP_IDLE, SNTP_LOOKUP, SNTP_WAIT };

static enum sntp_state state = SNTP_IDLE;
static bool running;
static unsigned server;        /* index into config->time.ntp_server */
static char host[SNTP_HOST_MAX + 1];
static uint16_t port;
static int lookup = -1, fd = -1;
static uint32_t server_ip;     /* network byte order */
static uint64_t cookie, sent_ms, deadline_ms;
static uint32_t retry_s = SNTP_RETRY_S;
static struct sched_timer timer;
static struct sched_poller poller;
static struct event_listener listener;
/* A round under way is a network activity of the watchdog: each step has a
 * deadline, so one that makes no progress for this long is stuck. */
#define ROUND_STALL_MS (SNTP_LOOKUP_TIMEOUT_MS + SNTP_REPLY_TIMEOUT_MS + 3000)
static struct health_activity round_health;

static bool paused_by_hand(void)
{
    enum source by = clock_set_by();
    return by != SOURCE_BOOT && by != SOURCE_NTP;
}

bool sntp_synced(void) { return clock_set_by() == SOURCE_NTP; }

static void close_socket(void)
{
    if (fd >= 0)
        hal_net_close(fd);
    fd = -1;
}

static void stop_request(void)
{
    if (lookup >= 0)
        hal_net_lookup_cancel(lookup);
    lookup = -1;
    close_socket();
    state = SNTP_IDLE;
}

static void schedule_round(uint32_t seconds)
{
    stop_request();
    health_unregister(&round_health); /* idle until the next round */
    sched_timer_start(&timer, seconds * 1000u, 0);
}

static void round_failed(void)
{
    LOG_ERR("NTP", "no server answered: next try in %lu s", (unsigned long)retry_s);
    schedule_round(retry_s);
    retry_s = retry_s * 2 > SNTP_RESYNC_S ? SNTP_RESYNC_S : retry_s * 2;
}

static bool any_server(const struct config *c)
{
    for (unsigned i = 0; i < CONFIG_NTP_SERVERS; i++)
        if (c->time.ntp_server[i][0])
            return true;
    return false;
}

/* Start on server index `from` (or the next one that is set). */
static void try_server(unsigned from)
{
    const struct config *c = config_get();
    stop_request();
    if (from == 0)
        health_register(&round_health, "ntp", ROUND_STALL_MS);
    health_alive(&round_health);
    for (server = from; server < CONFIG_NTP_SERVERS; server++) {
        const char *spec = c->time.ntp_server[server];
        if (!*spec)
            continue;
        if (!sntp_server_parse(spec, host, &port)) {
            LOG_ERR("NTP", "NtpServer%u \"%s\" is not host[:port]", server + 1, spec);
            continue;
        }
        lookup = hal_net_lookup_start(host);
        if (lookup < 0) {
            LOG_ERR("NTP", "%s: cannot start the lookup (%d)", host, lookup);
            continue;
        }
        state = SNTP_LOOKUP;
        deadline_ms = hal_time_ms() + SNTP_LOOKUP_TIMEOUT_MS;
        sched_timer_start(&timer, 0, 0);
        return;
    }
    if (from == 0 && !any_server(c)) {
        LOG_INF("NTP", "no NtpServer set: waiting for one");
        health_unregister(&round_health);
        return; /* NtpServer, Wi-Fi up or Time 0 starts a round again */
    }
    round_failed();
}

static void next_server(const char *why)
{
    LOG_ERR("NTP", "%s:%u: %s", host, port, why);
    try_server(server + 1);
}

static void send_request(void)
{
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    uint8_t packet[SNTP_PACKET_SIZE];
    to.sin_addr.s_addr = server_ip;
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || hal_net_set_nonblocking(fd) != HAL_OK) {
        next_server("no socket free");
        return;
    }
    cookie = (uint64_t)hal_random() << 32 | hal_random();
    sntp_request(packet, cookie);
    sent_ms = hal_time_ms();
    if (sendto(fd, packet, sizeof packet, 0, (struct sockaddr *)&to, sizeof to) != (ssize_t)sizeof packet) {
        next_server("cannot send");
        return;
    }
    hal_net_watch(fd, POLLIN);
    state = SNTP_WAIT;
    deadline_ms = sent_ms + SNTP_REPLY_TIMEOUT_MS;
    sched_timer_start(&timer, SNTP_REPLY_TIMEOUT_MS, 0);
}

static void on_timer(void *arg)
{
    (void)arg;
    int err;
    switch (state) {
    case SNTP_IDLE:
        if (running && !paused_by_hand())
            try_server(0);
        break;
    case SNTP_LOOKUP:
        err = hal_net_lookup_poll(lookup, &server_ip);
        if (err == HAL_EBUSY) {
            if (hal_time_ms() < deadline_ms) {
                sched_timer_start(&timer, LOOKUP_POLL_MS, 0);
                return;
            }
            next_server("name lookup timed out");
            return;
        }
        lookup = -1;
        health_alive(&round_health);
        if (err != HAL_OK)
            next_server("no such host");
        else
            send_request();
        break;
    case SNTP_WAIT:
        if (hal_time_ms() >= deadline_ms)
            next_server("no reply");
        break;
    }
}

static void take_reply(const struct sntp_reply *reply, uint64_t received_ms)
{
    int64_t utc_ms = sntp_time_at_arrival(reply, sent_ms, received_ms) + (int64_t)(hal_time_ms() - received_ms);
    int64_t before = clock_utc_ms();
    clock_set(utc_ms, SOURCE_NTP);
    if (before < 0)
        LOG_INF("NTP", "time from %s:%u (stratum %u)", host, port, reply->stratum);
    else
        LOG_INF("NTP", "time from %s:%u (stratum %u), off by %ld ms", host, port, reply->stratum,
                (long)(utc_ms - before));
    retry_s = SNTP_RETRY_S;
    schedule_round(SNTP_RESYNC_S);
}

/* Each loop turn while a request is out: read what arrived. */
static void poll_socket(void *arg)
{
    (void)arg;
    uint8_t packet[SNTP_PACKET_SIZE + 16];
    char error[48];
    struct sntp_reply reply;
    while (state == SNTP_WAIT) {
        struct sockaddr_in from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(fd, packet, sizeof packet, 0, (struct sockaddr *)&from, &from_len);
        if (n < 0)
            return; /* nothing (more) yet */
        if (from.sin_addr.s_addr != server_ip || from.sin_port != htons(port))
            continue; /* not from the server asked: ignored */
        if (!sntp_reply_parse(packet, (size_t)n, cookie, &reply, error, sizeof error)) {
            next_server(error);
            return;
        }
        take_reply(&reply, hal_time_ms());
    }
}

static void on_event(const struct event *event, void *arg)
{
    (void)arg;
    if (!running)
        return;
    bool network_up = event->type == EVENT_WIFI && event->value == HAL_WIFI_CONNECTED;
    bool asked = event->type == EVENT_CLOCK && event->value == CLOCK_RESYNC;
    if ((network_up || asked) && state == SNTP_IDLE) {
        retry_s = SNTP_RETRY_S;
        sched_timer_start(&timer, 0, 0);
    }
}

static int start(struct driver *self)
{
    (void)self;
    running = true;
    sched_timer_init(&timer, on_timer, NULL);
    sched_poller_add(&poller, poll_socket, NULL);
    event_listen(&listener, on_event, NULL);
    sched_timer_start(&timer, 0, 0);
    return 0;
}

/* ---- NtpServer1..3 ---- */

static enum cmd_result cmd_ntp_server(struct cmd_ctx *ctx)
{
    int index = ctx->index ? ctx->index : 1;
    char name[SNTP_HOST_MAX + 1], default_name[24];
    uint16_t any_port;
    if (index < 1 || index > CONFIG_NTP_SERVERS)
        return cmd_error(ctx, "NtpServer: index 1..%d", CONFIG_NTP_SERVERS);
    if (strcmp(ctx->arg, "1") == 0) { /* Tasmota: back to the default */
        snprintf(default_name, sizeof default_name, "%d.pool.ntp.org", index - 1);
        ctx->arg = default_name;
    } else if (*ctx->arg && strcmp(ctx->arg, "0") != 0 && strcmp(ctx->arg, "\"\"") != 0 &&
               !sntp_server_parse(ctx->arg, name, &any_port)) {
        return cmd_error(ctx, "NtpServer%d: expected a host name or IPv4 address, optionally :port (1..65535)",
                         index);
    }
    char key[16];
    snprintf(key, sizeof key, "NtpServer%d", index);
    const char *saved_name = ctx->name;
    ctx->name = key;
    enum cmd_result result = cmd_setting_text(ctx, offsetof(struct config, time.ntp_server[index - 1]),
                                              CONFIG_HOST_SIZE, SETTING_PLAIN);
    ctx->name = saved_name;
    if (result == CMD_DONE && *ctx->arg && running && !paused_by_hand()) {
        stop_request(); /* a round under way starts again with the new list */
        sched_timer_start(&timer, 0, 0);
    }
    return result;
}

static const struct cmd_def ntp_commands[] = {
    {"NtpServer", cmd_ntp_server, CMD_INDEXED,
     "NtpServer<1..3> [host[:port] | 0 clear | 1 default]: show or set an NTP server"},
};

void sntp_register(void)
{
    static struct driver driver = {.name = "NTP", .start = start};
    static struct cmd_table table;
    driver_register(&driver);
    cmd_register(&table, ntp_commands, 1);
}
