/*
 * sim_net.c — the simulated world's own network services, as a plug on a
 * home network finds them: a time server (SNTP, RFC 4330) answering with
 * the world's clock, the host's or a --date of the user's choosing.
 *
 * The world's server lives at a world address, SIM_NET_TIME_IP:123, which
 * the world's name service gives for pool.ntp.org and its numbered names
 * (the firmware's default NtpServer1..3).  Its socket really is a UDP
 * socket on 127.0.0.1 (any free port: no privilege needed, parallel
 * simulators do not collide); the firmware's datagrams to and from the
 * world address are translated to it (sendto/recvfrom of the core go
 * through sim_net_sendto/sim_net_recvfrom: hal_net_port.h), the way a
 * router would.  The firmware's NTP client is the real one (sntp.c).
 * Without --date the world has no time server and these names resolve
 * through the host as before.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define NTP_UNIX_OFFSET 2208988800ull /* seconds from 1900 to 1970 */
#define NTP_PORT 123

static int server_fd = -1;
static struct sockaddr_in server_addr; /* where the server really listens */
static bool fixed_date;
static int64_t date_ms;          /* --date: world time at device time 0 of the first boot */
static int64_t host_ms_at_start; /* --date now in virtual time: the host's clock at this boot */

static int64_t host_now_ms(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* "now", seconds since 1970, or YYYY-MM-DD[THH:MM[:SS]] in UTC. */
static bool parse_date(const char *text, int64_t *out_ms, bool *is_now)
{
    *is_now = strcmp(text, "now") == 0;
    if (*is_now)
        return true;
    char *end;
    long long seconds = strtoll(text, &end, 10);
    if (end != text && !*end && seconds >= 0 && seconds < 4102444800ll) {
        *out_ms = seconds * 1000;
        return true;
    }
    static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
    for (unsigned i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        struct tm tm = {0};
        const char *rest = strptime(text, formats[i], &tm);
        if (rest && !*rest && tm.tm_year >= 70 && tm.tm_year < 200) {
            *out_ms = (int64_t)timegm(&tm) * 1000;
            return true;
        }
    }
    return false;
}

bool sim_net_date_option(const char *text)
{
    bool is_now;
    if (!parse_date(text, &date_ms, &is_now)) {
        fprintf(stderr, "openplug-sim: --date takes now, seconds since 1970 or YYYY-MM-DD[THH:MM[:SS]] (UTC), "
                        "e.g. 2026-06-21T12:00\n");
        return false;
    }
    fixed_date = !is_now;
    sim_opt.world_time = true;
    return true;
}

static int64_t stepped_ms; /* the world request "clock": the time server corrected */

void sim_net_step_clock(int64_t ms) { stepped_ms += ms; }

int64_t sim_net_world_ms(void)
{
    if (fixed_date)
        return stepped_ms + date_ms + (int64_t)((sim_boot_offset_us() + sim_now_us()) / 1000u);
    if (sim_opt.virtual_time)
        return stepped_ms + host_ms_at_start + (int64_t)(sim_now_us() / 1000u);
    return stepped_ms + host_now_ms();
}

bool sim_net_start(void)
{
    if (!sim_opt.world_time)
        return true;
    host_ms_at_start = host_now_ms();
    server_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof server_addr;
    server_addr = (struct sockaddr_in){.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (server_fd < 0 || bind(server_fd, (struct sockaddr *)&server_addr, sizeof server_addr) != 0 ||
        getsockname(server_fd, (struct sockaddr *)&server_addr, &len) != 0) {
        fprintf(stderr, "openplug-sim: the world's time server cannot open a UDP socket on 127.0.0.1: %m\n");
        return false;
    }
    return true;
}

bool sim_net_world_name(const char *host, uint32_t *ipv4)
{
    if (!sim_opt.world_time)
        return false;
    size_t len = strlen(host);
    const char *pool = "pool.ntp.org";
    bool ntp = strcasecmp(host, pool) == 0 ||
               (len > 13 && host[len - 13] == '.' && strcasecmp(host + len - 12, pool) == 0);
    if (!ntp)
        return false;
    *ipv4 = htonl(SIM_NET_TIME_IP);
    return true;
}

/* The route the core's datagrams take (hal_net_port.h; the plain one is
 * net_route.c's). */
ssize_t sim_net_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t to_len);
ssize_t sim_net_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *from_len);

static bool is_time_server(const struct sockaddr_in *a)
{
    return server_fd >= 0 && a->sin_family == AF_INET && a->sin_addr.s_addr == htonl(SIM_NET_TIME_IP) &&
           a->sin_port == htons(NTP_PORT);
}

ssize_t sim_net_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t to_len)
{
    if (to && to_len >= sizeof(struct sockaddr_in) && is_time_server((const struct sockaddr_in *)to))
        return sendto(fd, buf, len, flags, (const struct sockaddr *)&server_addr, sizeof server_addr);
    return sendto(fd, buf, len, flags, to, to_len);
}

ssize_t sim_net_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *from_len)
{
    ssize_t n = recvfrom(fd, buf, len, flags, from, from_len);
    struct sockaddr_in *in = (struct sockaddr_in *)from;
    if (n >= 0 && server_fd >= 0 && from && *from_len >= sizeof *in && in->sin_family == AF_INET &&
        in->sin_addr.s_addr == server_addr.sin_addr.s_addr && in->sin_port == server_addr.sin_port) {
        in->sin_addr.s_addr = htonl(SIM_NET_TIME_IP);
        in->sin_port = htons(NTP_PORT);
    }
    return n;
}

static void put_ntp_time(uint8_t *at, int64_t unix_ms)
{
    uint64_t seconds = (uint64_t)(unix_ms / 1000) + NTP_UNIX_OFFSET;
    uint64_t fraction = ((uint64_t)(unix_ms % 1000) << 32) / 1000u;
    for (int i = 0; i < 4; i++) {
        at[i] = (uint8_t)(seconds >> (24 - 8 * i));
        at[4 + i] = (uint8_t)(fraction >> (24 - 8 * i));
    }
}

/* One request in, one server reply out (mode 4, stratum 1, "WRLD"). */
static void serve_request(void)
{
    uint8_t packet[68];
    struct sockaddr_in from;
    socklen_t from_len = sizeof from;
    ssize_t n;
    while ((n = recvfrom(server_fd, packet, sizeof packet, 0, (struct sockaddr *)&from, &from_len)) >= 0) {
        if (n < 48 || (packet[0] & 7) != 3) /* not a client request: no answer */
            continue;
        int64_t now = sim_net_world_ms();
        uint8_t reply[48] = {0};
        reply[0] = (uint8_t)((packet[0] & 0x38) | 4); /* LI 0, the client's version, mode 4 */
        reply[1] = 1;                                 /* stratum 1: a reference clock */
        reply[2] = packet[2];
        reply[3] = (uint8_t)-20;                      /* precision ~1 us */
        memcpy(reply + 12, "WRLD", 4);
        put_ntp_time(reply + 16, now);                /* reference time */
        memcpy(reply + 24, packet + 40, 8);           /* origin = the client's transmit time */
        put_ntp_time(reply + 32, now);                /* receive */
        put_ntp_time(reply + 40, now);                /* transmit */
        sendto(server_fd, reply, sizeof reply, 0, (struct sockaddr *)&from, from_len);
        from_len = sizeof from;
    }
}

int sim_net_pollfds(struct pollfd *fds, int max)
{
    if (server_fd < 0 || max < 1)
        return 0;
    fds[0] = (struct pollfd){.fd = server_fd, .events = POLLIN};
    return 1;
}

void sim_net_service(const struct pollfd *fds, int count)
{
    for (int i = 0; i < count; i++)
        if (fds[i].fd == server_fd && (fds[i].revents & POLLIN))
            serve_request();
}
