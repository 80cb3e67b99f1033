/*
 * hal_host.c — the rest of the HAL for the simulator: the idle wait (where
 * world events, the world socket, the console and watched sockets are
 * served and virtual time jumps), console I/O, watchdog, reboot by
 * re-executing the simulator, identity, heap and sockets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "hal/hal_net.h"
#include "sim.h"

#define SIM_HEAP_BYTES (128u * 1024) /* the BL602 heap the figures pretend to */
#define WATCH_MAX 21                 /* the lwIP socket budget */

/* ---- Console ---- */

static char *injected; /* --exec commands, served before stdin */
static size_t injected_len, injected_pos;
static bool stdin_open = true;

void sim_console_inject(const char *text)
{
    size_t n = strlen(text);
    char *grown = realloc(injected, injected_len + n);
    if (!grown)
        return;
    injected = grown;
    memcpy(injected + injected_len, text, n);
    injected_len += n;
}

/* --at: commands typed at a device time (counted across reboots, as
 * --duration); each is typed once, in the boot running at that time.
 * "world …" is a world request instead (sim_world.c). */
#define TIMED_MAX 256
static struct timed_exec {
    uint64_t t_us;
    const char *commands;
} timed[TIMED_MAX];
static unsigned timed_count;

bool sim_console_at(double seconds, const char *commands)
{
    if (timed_count == TIMED_MAX)
        return false;
    timed[timed_count++] = (struct timed_exec){(uint64_t)(seconds * 1e6), commands};
    return true;
}

static uint64_t elapsed_before_boot_us; /* device time of earlier boots */

/* Type the commands that are due; returns the boot-relative time of the
 * next ones (UINT64_MAX when none is left). */
static uint64_t type_due_commands(void)
{
    uint64_t total = elapsed_before_boot_us + sim_now_us(), next = UINT64_MAX;
    for (unsigned i = 0; i < timed_count; i++) {
        if (timed[i].t_us < elapsed_before_boot_us || !timed[i].commands)
            continue; /* typed in an earlier boot */
        if (timed[i].t_us <= total) {
            if (strncmp(timed[i].commands, "world ", 6) == 0)
                sim_world_request(timed[i].commands + 6);
            else
                sim_console_type(timed[i].commands);
            timed[i].commands = NULL;
        } else if (timed[i].t_us - elapsed_before_boot_us < next) {
            next = timed[i].t_us - elapsed_before_boot_us;
        }
    }
    return next;
}

void hal_console_write(const char *text, size_t len)
{
    while (len) {
        ssize_t n = write(STDOUT_FILENO, text, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* nobody listening: the plug goes on */
        text += n;
        len -= (size_t)n;
    }
}

size_t hal_console_read(char *buf, size_t size)
{
    if (injected_pos < injected_len) {
        size_t n = injected_len - injected_pos < size ? injected_len - injected_pos : size;
        memcpy(buf, injected + injected_pos, n);
        injected_pos += n;
        return n;
    }
    /* stdin stays blocking (it may be the user's terminal): look first. */
    struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};
    if (!stdin_open || poll(&in, 1, 0) <= 0)
        return 0;
    ssize_t n = read(STDIN_FILENO, buf, size);
    if (n == 0)
        stdin_open = false; /* end of input does not stop the plug */
    return n > 0 ? (size_t)n : 0;
}

/* ---- Watchdog, stop, power cut, reboot ---- */

static bool wdt_running;
static uint32_t wdt_timeout_ms;
static uint64_t wdt_fed_us;
static volatile sig_atomic_t stop_signal;

int hal_wdt_start(uint32_t timeout_ms)
{
    if (timeout_ms < 1 || timeout_ms > 65535)
        return HAL_EINVAL;
    wdt_timeout_ms = timeout_ms;
    wdt_running = true;
    wdt_fed_us = sim_now_us();
    return HAL_OK;
}

void hal_wdt_feed(void) { wdt_fed_us = sim_now_us(); }

static unsigned boot_number;
static uint32_t reset_cause = HAL_RESET_POWER_ON;
extern char **sim_argv;

uint64_t sim_boot_offset_us(void) { return elapsed_before_boot_us; }

static void summary(const char *why)
{
    char counts[512];
    sim_bl0937_counts_json(counts, sizeof counts);
    fprintf(stderr, "openplug-sim: bl0937 counts %s\n", counts);
    fprintf(stderr, "openplug-sim: %s after %.3f s of device time (boot %u, %llu flash operations, %llu erases)\n",
            why, (double)(elapsed_before_boot_us + sim_now_us()) / 1e6, boot_number + 1,
            (unsigned long long)sim_flash_ops(), (unsigned long long)sim_flash_erases());
}

void sim_powercut(const char *why)
{
    summary(why);
    _exit(SIM_EXIT_POWERCUT); /* no flush, no clean-up: the plug is unplugged */
}

void sim_stop(int status, const char *why)
{
    summary(why);
    sim_world_close();
    sim_energy_log_close();
    exit(status);
}

/* The environment of the next boot: this one without the previous hand-over
 * (OPENPLUG_SIM_*, except the launcher boot2 keeps), plus `handover`.  Built
 * aside for execve(): setenv() here would race glibc's name-lookup threads
 * (getaddrinfo_a), which read the environment while the loop reboots. */
static char **next_boot_environment(char handover[][192], int count)
{
    static char *env[512];
    int n = 0;
    for (char **e = environ; *e && n < (int)(sizeof env / sizeof env[0]) - count - 1; e++)
        if (strncmp(*e, "OPENPLUG_SIM_", 13) != 0 || strncmp(*e, "OPENPLUG_SIM_LAUNCHER=", 22) == 0)
            env[n++] = *e;
    for (int i = 0; i < count; i++)
        if (handover[i][0])
            env[n++] = handover[i];
    env[n] = NULL;
    return env;
}

void hal_reboot(uint32_t reason)
{
    static char handover[8][192];
    summary("reboot");
    sim_world_close();
    sim_energy_log_close();
    snprintf(handover[0], sizeof handover[0], "OPENPLUG_SIM_RESET_CAUSE=%lu", (unsigned long)reason);
    snprintf(handover[1], sizeof handover[1], "OPENPLUG_SIM_BOOT=%u", boot_number + 1);
    snprintf(handover[2], sizeof handover[2], "OPENPLUG_SIM_ELAPSED_US=%llu",
             (unsigned long long)(elapsed_before_boot_us + sim_now_us()));
    snprintf(handover[3], sizeof handover[3], "OPENPLUG_SIM_FLASH_OPS=%llu", (unsigned long long)sim_flash_ops());
    snprintf(handover[4], sizeof handover[4], "OPENPLUG_SIM_FLASH_ERASES=%llu",
             (unsigned long long)sim_flash_erases());
    sim_bl0937_handover(handover[5], sizeof handover[5]);
    sim_bl0942_handover(handover[6], sizeof handover[6]);
    snprintf(handover[7], sizeof handover[7], "OPENPLUG_SIM_HTTP_PORT=%u", (unsigned)sim_opt.http_port);
    /* A reset drops every connection: no socket (the web server's listening
     * one above all) may live on in the next boot, which binds its port again. */
    close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
    execve(sim_launcher(), sim_argv, next_boot_environment(handover, 8)); /* boot2 lives there */
    fprintf(stderr, "openplug-sim: cannot re-execute for the reboot: %m\n");
    _exit(1);
}

uint32_t hal_reset_cause(void) { return reset_cause; }

static unsigned long env_number(const char *name)
{
    const char *text = getenv(name);
    return text ? strtoul(text, NULL, 10) : 0;
}

/* Read what the previous run of this plug handed over (nothing after a
 * power cut, which is a fresh start of the process). */
void sim_take_reboot_state(void);
void sim_take_reboot_state(void)
{
    reset_cause = (uint32_t)env_number("OPENPLUG_SIM_RESET_CAUSE");
    boot_number = (unsigned)env_number("OPENPLUG_SIM_BOOT");
    elapsed_before_boot_us = env_number("OPENPLUG_SIM_ELAPSED_US");
    sim_flash_set_ops(env_number("OPENPLUG_SIM_FLASH_OPS"), env_number("OPENPLUG_SIM_FLASH_ERASES"));
}

bool sim_first_boot(void) { return boot_number == 0; }

static void on_stop_signal(int signal) { stop_signal = signal; }

void sim_install_signals(void);
void sim_install_signals(void)
{
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- Sockets watched by hal_idle() ---- */

static struct pollfd watched[WATCH_MAX]; /* revents: seen ready, not yet asked for */

int hal_net_watch(int fd, short events)
{
    struct pollfd *slot = NULL;
    for (int i = 0; i < WATCH_MAX; i++) {
        if (watched[i].events && watched[i].fd == fd) {
            slot = &watched[i];
            break;
        }
        if (!slot && !watched[i].events)
            slot = &watched[i];
    }
    if (!slot)
        return events ? HAL_EBUSY : HAL_OK;
    short seen = slot->fd == fd ? slot->revents : 0;
    *slot = (struct pollfd){.fd = fd, .events = events, .revents = events ? seen : 0};
    return HAL_OK;
}

short hal_net_ready(int fd)
{
    for (int i = 0; i < WATCH_MAX; i++) {
        if (watched[i].events && watched[i].fd == fd) {
            short seen = watched[i].revents;
            watched[i].revents = 0;
            return seen;
        }
    }
    return 0;
}

int hal_net_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags >= 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) == 0 ? HAL_OK : HAL_EIO;
}

int hal_net_close(int fd)
{
    hal_net_watch(fd, 0);
    return close(fd) == 0 ? HAL_OK : HAL_EIO;
}

/* ---- After a flash operation ---- */

void sim_interrupts_back(void)
{
    sim_events_deliver_due(); /* what latched meanwhile fires now, as on the chip */
    struct pollfd fds[8];
    int n = sim_world_pollfds(fds, 8);
    if (n > 0 && poll(fds, (nfds_t)n, 0) > 0)
        sim_world_service(fds, n);
}

/* ---- Idle ---- */

static uint64_t hang_until_us;

void sim_hang(uint32_t seconds) { hang_until_us = sim_now_us() + (uint64_t)seconds * 1000000u; }

/* Checks made whenever time may have passed. */
static void check_limits(void)
{
    if (stop_signal)
        sim_stop(0, "stopped by a signal");
    if (sim_opt.duration_s > 0 && elapsed_before_boot_us + sim_now_us() >= (uint64_t)(sim_opt.duration_s * 1e6))
        sim_stop(0, "stopped");
    if (wdt_running && sim_now_us() - wdt_fed_us >= (uint64_t)wdt_timeout_ms * 1000u) {
        fprintf(stderr, "openplug-sim: hardware watchdog expired\n");
        hal_reboot(HAL_RESET_WATCHDOG);
    }
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* In virtual time: true at most once a millisecond of real time (the
 * clock itself is read only every 64th call). */
static bool time_to_look(void)
{
    static struct timespec last;
    static unsigned calls;
    if (calls++ % 64)
        return false;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t us = (int64_t)(now.tv_sec - last.tv_sec) * 1000000 + (now.tv_nsec - last.tv_nsec) / 1000;
    if (us < 1000)
        return false;
    last = now;
    return true;
}

void hal_idle(uint32_t timeout_ms)
{
    /* The timeout counts whole milliseconds of hal_time_ms(), as the
     * scheduler computes it (due_ms - now_ms): wake on the millisecond, not
     * a fraction later, however the loop was woken before. */
    uint64_t deadline = (sim_now_us() / 1000u + timeout_ms) * 1000u;
    for (;;) {
        bool hung = sim_now_us() < hang_until_us;
        if (sim_events_deliver_due() && !hung)
            return; /* a firmware interrupt handler ran: the loop has work */
        check_limits();
        uint64_t now = sim_now_us();
        if (now >= deadline && !hung)
            return;

        sim_energy_log_write_due();
        uint64_t typed_next = type_due_commands();
        uint64_t wake = min_u64(hung ? hang_until_us : deadline, sim_event_next_us());
        wake = min_u64(wake, typed_next);
        wake = min_u64(wake, sim_energy_log_next_us());
        if (wdt_running)
            wake = min_u64(wake, wdt_fed_us + (uint64_t)wdt_timeout_ms * 1000u);
        if (sim_opt.duration_s > 0) {
            uint64_t total_us = (uint64_t)(sim_opt.duration_s * 1e6);
            wake = min_u64(wake, total_us > elapsed_before_boot_us ? total_us - elapsed_before_boot_us : 0);
        }

        struct pollfd fds[2 + WATCH_MAX + 8];
        int n = 0;
        bool console_waiting = injected_pos < injected_len;
        if (stdin_open && !hung)
            fds[n++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        int world_first = n;
        n += sim_world_pollfds(fds + n, 8);
        int watched_first = n;
        int slot_of[WATCH_MAX];
        for (int i = 0; i < WATCH_MAX && !hung; i++)
            if (watched[i].events) {
                slot_of[n - watched_first] = i;
                fds[n] = (struct pollfd){.fd = watched[i].fd, .events = watched[i].events};
                n++;
            }

        /* Virtual time never waits for the outside world: it looks, then
         * jumps.  Between close events (metering pulses, thousands a second)
         * it looks at most every millisecond of real time: a look costs a
         * system call, and outside, virtual instants mean nothing anyway. */
        /* Real time sleeps to the microsecond (ppoll): a wake-up rounded up to
         * the next millisecond would make every metering edge late. */
        uint64_t wait_us = console_waiting || sim_opt.virtual_time ? 0 : min_u64(wake > now ? wake - now : 0, 60000000u);
        struct timespec wait = {.tv_sec = (time_t)(wait_us / 1000000u), .tv_nsec = (long)(wait_us % 1000000u) * 1000};
        int ready = 0;
        if (!sim_opt.virtual_time || console_waiting || (wake > now ? wake - now : 0) > 1000 || time_to_look())
            ready = ppoll(fds, (nfds_t)n, &wait, NULL);
        if (ready > 0) {
            sim_world_service(fds + world_first, watched_first - world_first);
            bool for_firmware = world_first > 0 && fds[0].revents; /* stdin */
            for (int i = watched_first; i < n; i++) {
                for_firmware |= fds[i].revents != 0;
                watched[slot_of[i - watched_first]].revents |= fds[i].revents;
            }
            if (for_firmware && !hung)
                return;
            continue;
        }
        if (console_waiting && !hung)
            return;
        if (sim_opt.virtual_time)
            sim_clock_advance_to(wake);
    }
}

/* ---- Identity, randomness, heap (Wi-Fi: sim_wifi.c) ---- */

void hal_mac(uint8_t mac[6])
{
    /* Locally administered, derived from the seed: stable per simulated plug. */
    uint64_t bits = (sim_opt.seed + 1) * 0x9E3779B97F4A7C15ULL;
    mac[0] = 0x02;
    mac[1] = 0x0B;
    mac[2] = 0x60;
    mac[3] = (uint8_t)(bits >> 40);
    mac[4] = (uint8_t)(bits >> 48);
    mac[5] = (uint8_t)(bits >> 56);
}

uint32_t hal_random(void) { return (uint32_t)(sim_random_firmware() >> 32); }

void hal_random_secret(void *out, size_t len)
{
    uint8_t *p = out;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "openplug-sim: getrandom failed (%d): no secret can be made\n", errno);
            abort();
        }
        p += n;
        len -= (size_t)n;
    }
}

static uint32_t heap_min = SIM_HEAP_BYTES;

uint32_t hal_heap_free(void)
{
    struct mallinfo2 info = mallinfo2();
    uint32_t used = info.uordblks < SIM_HEAP_BYTES ? (uint32_t)info.uordblks : SIM_HEAP_BYTES;
    uint32_t free_bytes = SIM_HEAP_BYTES - used;
    if (free_bytes < heap_min)
        heap_min = free_bytes;
    return free_bytes;
}

uint32_t hal_heap_min_free(void)
{
    hal_heap_free();
    return heap_min;
}

const char *hal_chip_name(void) { return "BL602"; }
const char *hal_board_name(void)
{
    return sim_opt.meter == SIM_METER_BL0942 ? "openplug-sim (BL0942 plug)" : "openplug-sim (SM-028_V1.3)";
}

/* ---- Wall clock ---- */

static int64_t wall_offset_ms = -1; /* unix ms at device time 0; -1 unset */

int64_t hal_wallclock_ms(void)
{
    return wall_offset_ms < 0 ? -1 : wall_offset_ms + (int64_t)hal_time_ms();
}

void hal_wallclock_set(int64_t unix_ms) { wall_offset_ms = unix_ms - (int64_t)hal_time_ms(); }
