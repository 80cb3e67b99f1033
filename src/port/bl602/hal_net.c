/*
 * hal_net.c — the socket side of the HAL on lwIP 2.1: non-blocking mode,
 * close, the count of sockets in use, name lookups that never block the
 * loop, and the watch table that lets hal_idle() sleep until a socket is
 * ready.
 *
 * Readiness: a helper task (the "watcher") sits in lwIP's select() on the
 * watched sockets plus one UDP socket bound to the loopback, and wakes the
 * loop task when any is ready.  lwIP has no per-socket callback for
 * applications (its event_callback is internal to sockets.c), so select()
 * in a task of its own is the simplest correct way to turn socket events
 * into a task notification.  The loopback socket is how the loop task
 * interrupts that select() when the watch set changes: one datagram to
 * itself, sent from hal_idle() at most once per wait.  A socket reported
 * ready is left out of the select() until the loop asks hal_net_ready()
 * for it, so a readable socket the loop has not read yet does not spin the
 * watcher; asking re-arms it, which keeps readiness level-triggered.
 * The watcher costs one UDP socket of lwIP's six and its stack.
 *
 * Lookups run lwIP's dns_gethostbyname() in the TCP/IP thread (its
 * required context) through tcpip_try_callback(); its callback fills a
 * slot that hal_net_lookup_poll() reads.
 */
#include <string.h>

#include <FreeRTOS.h>
#include <task.h>

#include <lwip/dns.h>
#include <lwip/ip_addr.h>
#include <lwip/tcpip.h>

#include "bl602_port.h"
#include "hal/hal.h"
#include "hal/hal_net.h"

#define WATCH_MAX HAL_NET_SOCKETS_MAX
#define WATCHER_STACK_WORDS 512 /* 2 KiB: select() and its fd_sets */
#define WATCHER_PRIORITY 14     /* below the SDK's app task (15): it only wakes the loop */

/* ---- Sockets ---- */

int hal_net_set_nonblocking(int fd)
{
    int on = 1;
    return lwip_ioctl(fd, FIONBIO, &on) == 0 ? HAL_OK : HAL_EIO;
}

static int wake_fd = -1; /* the watcher's loopback socket */

int hal_net_sockets_in_use(void)
{
    int count = 0;
    for (int fd = LWIP_SOCKET_OFFSET; fd < LWIP_SOCKET_OFFSET + MEMP_NUM_NETCONN; fd++)
        if (fd != wake_fd && lwip_fcntl(fd, F_GETFL, 0) >= 0)
            count++;
    return count;
}

/* ---- The watch table ---- */

struct watch_slot {
    int fd;
    short events;         /* 0: slot free */
    short seen;           /* ready bits the loop has not asked for yet */
    bool armed;           /* in the watcher's select() */
    uint32_t generation;  /* changes whenever the slot is reused */
};

static struct watch_slot slots[WATCH_MAX];
static volatile bool watch_set_changed;

static struct watch_slot *slot_of(int fd)
{
    for (int i = 0; i < WATCH_MAX; i++)
        if (slots[i].events && slots[i].fd == fd)
            return &slots[i];
    return NULL;
}

static struct watch_slot *free_slot(void)
{
    for (int i = 0; i < WATCH_MAX; i++)
        if (!slots[i].events)
            return &slots[i];
    return NULL;
}

int hal_net_watch(int fd, short events)
{
    int result = HAL_OK;
    bool changed = true;
    taskENTER_CRITICAL();
    struct watch_slot *slot = slot_of(fd);
    if (!events) {
        changed = slot != NULL;
        if (slot)
            slot->events = 0;
    } else if (slot) {
        changed = slot->events != events;
        slot->armed |= changed;
        slot->events = events;
    } else if ((slot = free_slot())) {
        *slot = (struct watch_slot){.fd = fd, .events = events, .armed = true,
                                    .generation = slot->generation + 1};
    } else {
        result = HAL_EBUSY;
        changed = false;
    }
    taskEXIT_CRITICAL();
    if (changed)
        watch_set_changed = true; /* a watch renewed every turn costs no wake-up datagram */
    return result;
}

short hal_net_ready(int fd)
{
    short seen = 0;
    taskENTER_CRITICAL();
    struct watch_slot *slot = slot_of(fd);
    if (slot) {
        seen = slot->seen;
        slot->seen = 0;
        if (!slot->armed) {
            slot->armed = true; /* asked for: watch it again (level-triggered) */
            watch_set_changed = true;
        }
    }
    taskEXIT_CRITICAL();
    return seen;
}

int hal_net_close(int fd)
{
    hal_net_watch(fd, 0);
    return lwip_close(fd) == 0 ? HAL_OK : HAL_EIO;
}

/* ---- The watcher task ---- */

struct select_sets {
    fd_set readable, writable, failed;
    int max_fd;
    uint32_t generation[WATCH_MAX]; /* of each slot when the sets were built */
};

static void build_sets(struct select_sets *sets)
{
    FD_ZERO(&sets->readable);
    FD_ZERO(&sets->writable);
    FD_ZERO(&sets->failed);
    FD_SET(wake_fd, &sets->readable);
    sets->max_fd = wake_fd;
    taskENTER_CRITICAL();
    for (int i = 0; i < WATCH_MAX; i++) {
        const struct watch_slot *slot = &slots[i];
        sets->generation[i] = slot->events && slot->armed ? slot->generation : 0;
        if (!sets->generation[i])
            continue;
        if (slot->events & POLLIN)
            FD_SET(slot->fd, &sets->readable);
        if (slot->events & POLLOUT)
            FD_SET(slot->fd, &sets->writable);
        FD_SET(slot->fd, &sets->failed);
        if (slot->fd > sets->max_fd)
            sets->max_fd = slot->fd;
    }
    taskEXIT_CRITICAL();
}

/* Record what select() saw; true when the loop has something new. */
static bool record_ready(const struct select_sets *sets)
{
    bool any = false;
    taskENTER_CRITICAL();
    for (int i = 0; i < WATCH_MAX; i++) {
        struct watch_slot *slot = &slots[i];
        if (!sets->generation[i] || !slot->events || slot->generation != sets->generation[i])
            continue; /* not selected, or the slot changed hands meanwhile */
        short ready = (short)((FD_ISSET(slot->fd, &sets->readable) ? POLLIN : 0) |
                              (FD_ISSET(slot->fd, &sets->writable) ? POLLOUT : 0) |
                              (FD_ISSET(slot->fd, &sets->failed) ? POLLERR : 0));
        if (ready) {
            slot->seen |= ready;
            slot->armed = false;
            any = true;
        }
    }
    taskEXIT_CRITICAL();
    return any;
}

static void drain_wake_socket(void)
{
    char byte[16];
    while (lwip_recv(wake_fd, byte, sizeof byte, 0) > 0) {
    }
}

static void watcher_task(void *unused)
{
    (void)unused;
    static struct select_sets sets; /* one watcher: keep the fd_sets off its stack */
    for (;;) {
        build_sets(&sets);
        if (lwip_select(sets.max_fd + 1, &sets.readable, &sets.writable, &sets.failed, NULL) < 0) {
            /* A watched socket was closed as select() started (EBADF): the
             * loop has already forgotten it; build the sets again. */
            vTaskDelay(1);
            continue;
        }
        if (FD_ISSET(wake_fd, &sets.readable))
            drain_wake_socket();
        if (record_ready(&sets))
            bl602_wake_loop();
    }
}

static struct sockaddr_in wake_address;

/* From hal_idle(), before the loop task sleeps: let the watcher pick up
 * the watch set as it is now. */
void bl602_net_before_idle(void)
{
    if (!watch_set_changed || wake_fd < 0)
        return;
    watch_set_changed = false;
    char byte = 0;
    lwip_sendto(wake_fd, &byte, 1, 0, (const struct sockaddr *)&wake_address, sizeof wake_address);
}

static int open_wake_socket(void)
{
    int fd = lwip_socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return HAL_EIO;
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_addr.s_addr = lwip_htonl(INADDR_LOOPBACK)};
    socklen_t length = sizeof address;
    if (lwip_bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        lwip_getsockname(fd, (struct sockaddr *)&address, &length) != 0 || hal_net_set_nonblocking(fd) != HAL_OK) {
        lwip_close(fd);
        return HAL_EIO;
    }
    wake_address = address;
    wake_fd = fd;
    return HAL_OK;
}

int bl602_net_init(void)
{
    if (open_wake_socket() != HAL_OK)
        return HAL_EIO;
    if (xTaskCreate(watcher_task, "op_watch", WATCHER_STACK_WORDS, NULL, WATCHER_PRIORITY, NULL) != pdPASS)
        return HAL_EIO;
    return HAL_OK;
}

/* ---- Name lookups ---- */

enum lookup_state { LOOKUP_FREE, LOOKUP_RUNNING, LOOKUP_FOUND, LOOKUP_FAILED };

struct lookup {
    volatile enum lookup_state state;
    volatile bool abandoned; /* cancelled while lwIP had it: freed by the callback */
    uint32_t ipv4;           /* network byte order */
    char host[DNS_MAX_NAME_LENGTH];
};

static struct lookup lookups[HAL_NET_LOOKUPS];

/* In the TCP/IP thread: the answer, or NULL when there is none. */
static void lookup_finish(struct lookup *lookup, const ip_addr_t *address)
{
    taskENTER_CRITICAL();
    if (lookup->abandoned) {
        lookup->abandoned = false;
        lookup->state = LOOKUP_FREE;
    } else if (address && IP_IS_V4(address)) {
        lookup->ipv4 = ip_2_ip4(address)->addr;
        lookup->state = LOOKUP_FOUND;
    } else {
        lookup->state = LOOKUP_FAILED;
    }
    taskEXIT_CRITICAL();
}

static void on_dns_answer(const char *name, const ip_addr_t *address, void *arg)
{
    (void)name;
    lookup_finish(arg, address);
}

static void lookup_in_tcpip_thread(void *arg)
{
    struct lookup *lookup = arg;
    ip_addr_t address;
    err_t started = dns_gethostbyname(lookup->host, &address, on_dns_answer, lookup);
    if (started == ERR_OK)
        lookup_finish(lookup, &address); /* a dotted address or a cached name */
    else if (started != ERR_INPROGRESS)
        lookup_finish(lookup, NULL);
}

int hal_net_lookup_start(const char *host)
{
    if (!host || strlen(host) >= DNS_MAX_NAME_LENGTH)
        return HAL_EINVAL;
    for (int i = 0; i < HAL_NET_LOOKUPS; i++) {
        struct lookup *lookup = &lookups[i];
        if (lookup->state != LOOKUP_FREE)
            continue;
        strcpy(lookup->host, host);
        lookup->abandoned = false;
        lookup->state = LOOKUP_RUNNING;
        if (tcpip_try_callback(lookup_in_tcpip_thread, lookup) != ERR_OK) {
            lookup->state = LOOKUP_FREE;
            return HAL_EIO;
        }
        return i;
    }
    return HAL_EBUSY;
}

static struct lookup *lookup_owned(int handle)
{
    if (handle < 0 || handle >= HAL_NET_LOOKUPS)
        return NULL;
    struct lookup *lookup = &lookups[handle];
    return lookup->state == LOOKUP_FREE || lookup->abandoned ? NULL : lookup;
}

int hal_net_lookup_poll(int handle, uint32_t *ipv4)
{
    struct lookup *lookup = lookup_owned(handle);
    if (!lookup)
        return HAL_EINVAL;
    enum lookup_state state = lookup->state;
    if (state == LOOKUP_RUNNING)
        return HAL_EBUSY;
    if (state == LOOKUP_FOUND)
        *ipv4 = lookup->ipv4;
    lookup->state = LOOKUP_FREE;
    return state == LOOKUP_FOUND ? HAL_OK : HAL_EIO;
}

void hal_net_lookup_cancel(int handle)
{
    struct lookup *lookup = lookup_owned(handle);
    if (!lookup)
        return;
    taskENTER_CRITICAL();
    if (lookup->state == LOOKUP_RUNNING)
        lookup->abandoned = true; /* lwIP still holds it: never wait in the loop */
    else
        lookup->state = LOOKUP_FREE;
    taskEXIT_CRITICAL();
}
