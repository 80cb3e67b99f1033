/* multicast.c — a multicast responder's socket; see multicast.h. */
#define _DEFAULT_SOURCE /* glibc hides struct ip_mreq in strict C11; lwIP always has it */
#include "multicast.h"

#include "core/log.h"
#include "hal/hal_net.h"

int multicast_open(const char *tag, uint32_t group, uint16_t port, uint32_t ip, unsigned char ttl)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    unsigned char loop = 1;
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY};
    struct ip_mreq join = {.imr_interface.s_addr = ip, .imr_multiaddr.s_addr = group};
    struct in_addr out_if = {.s_addr = ip};
    /* Several responders may share the port on one host (a desktop's own
     * avahi or UPnP stack, the simulator's tests): each gets the copies. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &out_if, sizeof out_if) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) != 0 || hal_net_set_nonblocking(fd) != 0) {
        LOG_ERR(tag, "cannot listen on port %u (%d)", (unsigned)port, errno);
        hal_net_close(fd);
        return -1;
    }
    return fd;
}
