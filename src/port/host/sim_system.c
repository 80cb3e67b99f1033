/*
 * sim_system.c — the simulator's retained RAM (a file beside the flash
 * image), fatal signals turned into crash reboots, and the socket side of
 * the HAL that is not the idle wait: counting the plug's IP sockets and
 * name lookups that do not block (getaddrinfo_a).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal/hal_net.h"
#include "sim.h"

/* ---- Retained RAM ---- */

static uint8_t retained[HAL_RETAINED_SIZE];
static int retained_fd = -1;

/* "<flash>.retained": what the previous run left, unless this is a
 * power-on (a fresh start of the process), which clears it as RAM would be. */
bool sim_retained_open(const char *flash_path, bool power_on)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.retained", flash_path);
    retained_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (retained_fd < 0) {
        fprintf(stderr, "openplug-sim: cannot open %s: %m\n", path);
        return false;
    }
    if (power_on || pread(retained_fd, retained, sizeof retained, 0) != (ssize_t)sizeof retained) {
        memset(retained, 0, sizeof retained);
        if (pwrite(retained_fd, retained, sizeof retained, 0) != (ssize_t)sizeof retained)
            fprintf(stderr, "openplug-sim: cannot write %s: %m\n", path);
    }
    return true;
}

void hal_retained_read(void *buf, size_t len)
{
    memcpy(buf, retained, len < sizeof retained ? len : sizeof retained);
}

void hal_retained_write(const void *buf, size_t len)
{
    size_t n = len < sizeof retained ? len : sizeof retained;
    memcpy(retained, buf, n);
    if (retained_fd >= 0 && pwrite(retained_fd, retained, sizeof retained, 0) != (ssize_t)sizeof retained)
        fprintf(stderr, "openplug-sim: cannot write the retained RAM file: %m\n");
}

/* ---- Crashes ---- */

static void on_fatal_signal(int signal_number)
{
    /* The chip would take an exception and reset: so does the simulator.
     * Back to the default first, so a fault in the reboot path ends it. */
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigaction(signal_number, &dfl, NULL);
    char text[64];
    int n = snprintf(text, sizeof text, "openplug-sim: fatal signal %d: crash reboot\n", signal_number);
    if (n > 0 && write(STDERR_FILENO, text, (size_t)n) < 0) {
        /* nothing more to do about stderr */
    }
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, signal_number);
    sigprocmask(SIG_UNBLOCK, &all, NULL); /* the new image starts with it unblocked */
    hal_reboot(HAL_RESET_CRASH);
}

void sim_install_crash_handlers(void)
{
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    struct sigaction sa = {.sa_handler = on_fatal_signal, .sa_flags = SA_NODEFER};
    for (unsigned i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        sigaction(fatal[i], &sa, NULL);
}

/* ---- Sockets ---- */

int hal_net_sockets_in_use(void)
{
    int count = 0;
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return 0;
    for (struct dirent *entry; (entry = readdir(dir));) {
        int fd = atoi(entry->d_name), domain;
        socklen_t len = sizeof domain;
        if (fd != dirfd(dir) && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 &&
            (domain == AF_INET || domain == AF_INET6))
            count++; /* the world socket and its clients are UNIX sockets: not the plug's */
    }
    closedir(dir);
    return count;
}

/* ---- Name lookups ---- */

struct lookup {
    bool busy;
    bool world;     /* answered by the world's name service (sim_net.c): world_ip */
    uint32_t world_ip;
    bool abandoned; /* cancelled while glibc's helper thread had it: freed when done */
    struct gaicb request;
    struct addrinfo hints;
    char host[256];
};
static struct lookup lookups[HAL_NET_LOOKUPS];

static void free_result(struct lookup *l)
{
    if (gai_error(&l->request) == 0 && l->request.ar_result)
        freeaddrinfo(l->request.ar_result);
    l->request.ar_result = NULL;
    l->busy = l->abandoned = false;
}

int hal_net_lookup_start(const char *host)
{
    for (int i = 0; i < HAL_NET_LOOKUPS; i++) {
        struct lookup *l = &lookups[i];
        if (l->abandoned && gai_error(&l->request) != EAI_INPROGRESS)
            free_result(l);
        if (l->busy)
            continue;
        if (strlen(host) >= sizeof l->host)
            return HAL_EINVAL;
        *l = (struct lookup){.busy = true, .hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM}};
        if (sim_net_world_name(host, &l->world_ip)) {
            l->world = true;
            return i;
        }
        strcpy(l->host, host);
        l->request = (struct gaicb){.ar_name = l->host, .ar_request = &l->hints};
        struct gaicb *list[1] = {&l->request};
        struct sigevent none = {.sigev_notify = SIGEV_NONE};
        if (getaddrinfo_a(GAI_NOWAIT, list, 1, &none) != 0) {
            l->busy = false;
            return HAL_EIO;
        }
        return i;
    }
    return HAL_EBUSY;
}

int hal_net_lookup_poll(int handle, uint32_t *ipv4)
{
    if (handle < 0 || handle >= HAL_NET_LOOKUPS || !lookups[handle].busy || lookups[handle].abandoned)
        return HAL_EINVAL;
    struct lookup *l = &lookups[handle];
    if (l->world) {
        *ipv4 = l->world_ip;
        l->busy = l->world = false;
        return HAL_OK;
    }
    int status = gai_error(&l->request);
    if (status == EAI_INPROGRESS)
        return HAL_EBUSY;
    bool found = status == 0 && l->request.ar_result;
    if (found)
        *ipv4 = ((struct sockaddr_in *)l->request.ar_result->ai_addr)->sin_addr.s_addr;
    free_result(l);
    return found ? HAL_OK : HAL_EIO;
}

void hal_net_lookup_cancel(int handle)
{
    if (handle < 0 || handle >= HAL_NET_LOOKUPS || !lookups[handle].busy || lookups[handle].abandoned)
        return;
    struct lookup *l = &lookups[handle];
    if (l->world) {
        l->busy = l->world = false;
        return;
    }
    gai_cancel(&l->request);
    if (gai_error(&l->request) == EAI_INPROGRESS)
        l->abandoned = true; /* glibc's helper thread still has it: never wait in the loop */
    else
        free_result(l);
}
