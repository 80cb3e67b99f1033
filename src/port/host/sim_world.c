/*
 * sim_world.c — the world socket: a UNIX-socket line protocol through which
 * tests and people act on the physical plug.  One reply line per request,
 * "ok …" or "error: …":
 *   press <gpio> [ms]   press a button (default 100 ms), with contact bounce
 *   switch <gpio> on|off  close / open a rocker switch, with contact bounce
 *   powercut            pull the plug: the process ends at once
 *   hang <seconds>      the main loop stops (the watchdog's business)
 *   wedge <activity>    test hook: one activity of the firmware ("metering",
 *                       "loop", "mqtt" …) stops reporting progress (health.h)
 *   crash               a fatal signal (SIGSEGV): the simulator's crash reboot
 *   pins                every pin's mode, level, output changes and, while a
 *                       PWM wave drives it, "pwm": its duty in permille, as JSON
 *   load [<watts>W [pf=<pf>] [volts=<v>]]
 *                       plug in a load (and set the mains volts); without
 *                       arguments, say what is plugged in:
 *                       "ok load 2000 W pf 0.90 at 230.0 V"
 *   counts              the BL0937's pins, as JSON: falling edges made on CF
 *                       and CF1 since boot, the SEL level the chip sees, the
 *                       device time, interrupts delivered on CF / CF1 (to the
 *                       firmware or a probe), edges collapsed into a latched
 *                       interrupt, interrupt latency, first/last edge times,
 *                       trace pulses dropped by SEL
 *   bl0942 [fault none|corrupt|truncate|desync|junk [EVERY]]
 *                       the BL0942's figures as JSON (--meter bl0942), or
 *                       damage every EVERY-th answer (sim_bl0942.c)
 *   wifi up|down        the access point comes back / goes away
 *   clock <+-seconds>   step the world's time server (--date) by that much
 *   help                this list
 * The same requests can be made at a device time with --at "S world …"
 * (sim_world_request(): the reply goes to stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/health.h"
#include "sim.h"

#define CLIENT_MAX 4
#define REQUEST_MAX 256

struct client {
    int fd; /* -1: free */
    char buf[REQUEST_MAX];
    size_t len;
};

static int listen_fd = -1;
static const char *socket_path;
static struct client clients[CLIENT_MAX] = {{.fd = -1}, {.fd = -1}, {.fd = -1}, {.fd = -1}};

bool sim_world_open(const char *path)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof addr.sun_path) {
        fprintf(stderr, "openplug-sim: world socket path too long: %s\n", path);
        return false;
    }
    strcpy(addr.sun_path, path);
    unlink(path);
    listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listen_fd, 4) != 0) {
        fprintf(stderr, "openplug-sim: cannot listen on %s: %m\n", path);
        return false;
    }
    socket_path = path;
    return true;
}

void sim_world_close(void)
{
    for (int i = 0; i < CLIENT_MAX; i++)
        if (clients[i].fd >= 0)
            close(clients[i].fd);
    if (listen_fd >= 0) {
        close(listen_fd);
        unlink(socket_path);
    }
}

static void reply(struct client *c, const char *text)
{
    size_t len = strlen(text);
    while (len) {
        ssize_t n = write(c->fd, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the client went away: its loss */
        text += n;
        len -= (size_t)n;
    }
}

static void handle(struct client *c, char *request)
{
    char out[3072];
    if (strncmp(request, "load", 4) == 0 && (!request[4] || request[4] == ' ' || request[4] == '\t')) {
        sim_bl0937_load_request(request + 4, out, sizeof out);
        reply(c, out);
        return;
    }
    if (strncmp(request, "bl0942", 6) == 0 && (!request[6] || request[6] == ' ' || request[6] == '\t')) {
        sim_bl0942_request(request + 6, out, sizeof out);
        reply(c, out);
        return;
    }
    char *save, *verb = strtok_r(request, " \t", &save), *a1 = strtok_r(NULL, " \t", &save),
                *a2 = strtok_r(NULL, " \t", &save), *extra = strtok_r(NULL, " \t", &save);
    char error[96];
    char *end;
    if (!verb) {
        reply(c, "error: empty request (try help)\n");
    } else if (strcmp(verb, "press") == 0) {
        long gpio = a1 ? strtol(a1, &end, 10) : -1;
        if (!a1 || *end)
            gpio = -1;
        long ms = a2 ? strtol(a2, &end, 10) : 100;
        if ((a2 && *end) || extra)
            ms = -1;
        if (sim_gpio_press((int)gpio, (uint32_t)ms, error, sizeof error) != 0) {
            snprintf(out, sizeof out, "error: %s\n", error);
        } else {
            snprintf(out, sizeof out, "ok pressed GPIO%ld for %ld ms\n", gpio, ms);
            fprintf(stderr, "openplug-sim: world: GPIO%ld pressed for %ld ms from %.3f s of device time\n", gpio, ms,
                    (double)(sim_boot_offset_us() + sim_now_us()) / 1e6);
        }
        reply(c, out);
    } else if (strcmp(verb, "switch") == 0) {
        long gpio = a1 ? strtol(a1, &end, 10) : -1;
        if (!a1 || *end || !a2 || (strcmp(a2, "on") != 0 && strcmp(a2, "off") != 0) || extra)
            gpio = -1;
        if (sim_gpio_switch((int)gpio, a2 && strcmp(a2, "on") == 0, error, sizeof error) != 0)
            snprintf(out, sizeof out, "error: %s\n", error);
        else
            snprintf(out, sizeof out, "ok switch GPIO%ld %s\n", gpio, a2);
        reply(c, out);
    } else if (strcmp(verb, "powercut") == 0 && !a1) {
        reply(c, "ok power cut\n");
        sim_powercut("world: powercut");
    } else if (strcmp(verb, "hang") == 0) {
        long seconds = a1 ? strtol(a1, &end, 10) : -1;
        if (!a1 || *end || a2 || seconds < 1 || seconds > 3600) {
            reply(c, "error: hang: expected <seconds 1..3600>\n");
            return;
        }
        snprintf(out, sizeof out, "ok main loop hangs for %ld s\n", seconds);
        reply(c, out);
        /* The instant in device time (counted across reboots, as in the
         * summary line): tests measure the watchdog from it, not from
         * their own clock. */
        fprintf(stderr, "openplug-sim: world: main loop hangs for %ld s from %.3f s of device time\n", seconds,
                (double)(sim_boot_offset_us() + sim_now_us()) / 1e6);
        sim_hang((uint32_t)seconds);
    } else if (strcmp(verb, "wedge") == 0) {
        if (!a1 || a2) {
            reply(c, "error: wedge: expected <activity> (loop, metering, …)\n");
        } else if (!health_wedge(a1)) {
            snprintf(out, sizeof out, "error: wedge: no activity '%.20s' is registered\n", a1);
            reply(c, out);
        } else {
            snprintf(out, sizeof out, "ok %s wedged\n", a1);
            reply(c, out);
        }
    } else if (strcmp(verb, "crash") == 0 && !a1) {
        reply(c, "ok crashing\n");
        raise(SIGSEGV);
    } else if (strcmp(verb, "wifi") == 0 && a1 && !a2 && (strcmp(a1, "up") == 0 || strcmp(a1, "down") == 0)) {
        sim_wifi_link(strcmp(a1, "up") == 0);
        snprintf(out, sizeof out, "ok wifi %s\n", a1);
        reply(c, out);
    } else if (strcmp(verb, "clock") == 0 && a1 && !a2) {
        long seconds = strtol(a1, &end, 10);
        if (*end || seconds < -86400 * 365L || seconds > 86400 * 365L || !sim_opt.world_time) {
            reply(c, sim_opt.world_time ? "error: clock: expected <+-seconds> within a year\n"
                                        : "error: clock: the world has no time server (--date)\n");
            return;
        }
        sim_net_step_clock((int64_t)seconds * 1000);
        snprintf(out, sizeof out, "ok world clock stepped by %+ld s\n", seconds);
        reply(c, out);
    } else if (strcmp(verb, "pins") == 0 && !a1) {
        strcpy(out, "ok ");
        sim_gpio_json(out + 3, sizeof out - 4);
        strcat(out, "\n");
        reply(c, out);
    } else if (strcmp(verb, "counts") == 0 && !a1) {
        strcpy(out, "ok ");
        sim_bl0937_counts_json(out + 3, sizeof out - 4);
        strcat(out, "\n");
        reply(c, out);
    } else if (strcmp(verb, "help") == 0) {
        reply(c, "ok press <gpio> [ms] | switch <gpio> on|off | powercut | hang <seconds> | wedge <activity> | crash"
                 " | pins | load [<watts>W [pf=<pf>] [volts=<v>]] | counts | bl0942 [fault KIND [EVERY]] | wifi up|down"
                 " | clock <+-seconds>\n");
    } else {
        snprintf(out, sizeof out, "error: unknown request '%.40s' (try help)\n", verb);
        reply(c, out);
    }
}

void sim_world_request(const char *request)
{
    struct client log = {.fd = STDERR_FILENO};
    snprintf(log.buf, sizeof log.buf, "%s", request);
    fprintf(stderr, "openplug-sim: world at %.3f s: %s: ", (double)(sim_boot_offset_us() + sim_now_us()) / 1e6,
            log.buf);
    fflush(stderr);
    handle(&log, log.buf);
}

int sim_world_pollfds(struct pollfd *fds, int max)
{
    int n = sim_net_pollfds(fds, max);
    if (listen_fd < 0)
        return n;
    if (n < max)
        fds[n++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
    for (int i = 0; i < CLIENT_MAX && n < max; i++)
        if (clients[i].fd >= 0)
            fds[n++] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
    return n;
}

static void accept_client(void)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return;
    for (int i = 0; i < CLIENT_MAX; i++) {
        if (clients[i].fd < 0) {
            clients[i] = (struct client){.fd = fd};
            return;
        }
    }
    struct client busy = {.fd = fd};
    reply(&busy, "error: too many world clients\n");
    close(fd);
}

static void read_client(struct client *c)
{
    ssize_t n = read(c->fd, c->buf + c->len, sizeof c->buf - c->len);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        close(c->fd);
        c->fd = -1;
        return;
    }
    c->len += (size_t)n;
    char *newline;
    while (c->fd >= 0 && (newline = memchr(c->buf, '\n', c->len))) {
        *newline = '\0';
        if (newline > c->buf && newline[-1] == '\r')
            newline[-1] = '\0';
        size_t used = (size_t)(newline - c->buf) + 1;
        handle(c, c->buf);
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
    }
    if (c->len == sizeof c->buf) {
        reply(c, "error: request too long\n");
        c->len = 0;
    }
}

void sim_world_service(const struct pollfd *fds, int count)
{
    sim_net_service(fds, count);
    for (int i = 0; i < count; i++) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (fds[i].fd == listen_fd) {
            accept_client();
            continue;
        }
        for (int k = 0; k < CLIENT_MAX; k++)
            if (clients[k].fd == fds[i].fd)
                read_client(&clients[k]);
    }
}
