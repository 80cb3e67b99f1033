/*
 * net_route.c — the plain route of the core's datagrams on the host: straight
 * to the host's sockets.  Linked into every host build of the core (unit
 * tests, fuzzing); the simulator's world (sim_net.c) replaces both functions
 * with its router to the world's own servers.  See hal_net_port.h.
 */
#include <sys/socket.h>

ssize_t sim_net_sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *to, socklen_t to_len);
ssize_t sim_net_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from, socklen_t *from_len);

__attribute__((weak)) ssize_t sim_net_sendto(int fd, const void *buf, size_t len, int flags,
                                             const struct sockaddr *to, socklen_t to_len)
{
    return sendto(fd, buf, len, flags, to, to_len);
}

__attribute__((weak)) ssize_t sim_net_recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *from,
                                               socklen_t *from_len)
{
    return recvfrom(fd, buf, len, flags, from, from_len);
}
