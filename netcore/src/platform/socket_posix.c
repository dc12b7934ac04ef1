/* Sockets on POSIX systems (Linux, the BSDs, macOS): BSD sockets. */
#define _DEFAULT_SOURCE /* accept4 where present, MSG_NOSIGNAL */
/* struct in_pktinfo (glibc shows it only to GNU sources). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "platform/net_internal.h"
#include "platform/socket.h"

#ifdef MSG_NOSIGNAL
#define SEND_FLAGS MSG_NOSIGNAL
#else
#define SEND_FLAGS 0 /* SO_NOSIGPIPE is set on each socket instead (macOS) */
#endif

static _Thread_local int last_error;

static netcore_result fail(netcore_result result)
{
    last_error = errno;
    return result;
}

static bool would_block(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK;
}

/* Non-blocking, not inherited across exec, and never a SIGPIPE. */
static bool prepare(int fd)
{
    int flags = fcntl(fd, F_GETFL, 0);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
        return false;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0)
        return false;
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one) != 0)
        return false;
#endif
    return true;
}

static netcore_result open_socket(const netcore_address *address, int type,
                                  struct sockaddr_storage *out_sa, socklen_t *out_len, int *out_fd)
{
    if (!address || !out_fd)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_len = nci_address_to_sockaddr(address, out_sa);
    if (*out_len == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    int fd = socket(out_sa->ss_family, type, 0);
    if (fd < 0)
        return fail(NETCORE_ERR_SOCKET);
    if (!prepare(fd)) {
        last_error = errno;
        close(fd);
        return NETCORE_ERR_SOCKET;
    }
    *out_fd = fd;
    return NETCORE_OK;
}

static netcore_result bind_or_close(int fd, const struct sockaddr_storage *sa, socklen_t len)
{
    if (bind(fd, (const struct sockaddr *)sa, len) == 0)
        return NETCORE_OK;
    last_error = errno;
    close(fd);
    return NETCORE_ERR_ADDRESS;
}

netcore_result nci_platform_startup(void)
{
    return NETCORE_OK;
}

void nci_platform_cleanup(void)
{
}

netcore_result nci_socket_open_udp(const netcore_address *bind_address, bool reuse_address,
                                   nci_socket *out_socket)
{
    struct sockaddr_storage sa;
    socklen_t len;
    int fd;
    netcore_result r = open_socket(bind_address, SOCK_DGRAM, &sa, &len, &fd);
    if (r != NETCORE_OK)
        return r;
    int one = 1;
    if (reuse_address)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    r = bind_or_close(fd, &sa, len);
    if (r == NETCORE_OK)
        *out_socket = fd;
    return r;
}

netcore_result nci_socket_open_tcp_listener(const netcore_address *bind_address, int backlog,
                                            nci_socket *out_socket)
{
    struct sockaddr_storage sa;
    socklen_t len;
    int fd;
    netcore_result r = open_socket(bind_address, SOCK_STREAM, &sa, &len, &fd);
    if (r != NETCORE_OK)
        return r;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (sa.ss_family == AF_INET6)
        (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    r = bind_or_close(fd, &sa, len);
    if (r != NETCORE_OK)
        return r;
    if (listen(fd, backlog) != 0) {
        last_error = errno;
        close(fd);
        return NETCORE_ERR_SOCKET;
    }
    *out_socket = fd;
    return NETCORE_OK;
}

netcore_result nci_socket_open_connected(const netcore_address *address, bool stream,
                                         nci_socket *out_socket, bool *out_in_progress)
{
    struct sockaddr_storage sa;
    socklen_t len;
    int fd;
    netcore_result r = open_socket(address, stream ? SOCK_STREAM : SOCK_DGRAM, &sa, &len, &fd);
    if (r != NETCORE_OK)
        return r;
    bool in_progress = false;
    while (connect(fd, (const struct sockaddr *)&sa, len) != 0) {
        if (errno == EINTR)
            continue;
        if (errno == EINPROGRESS) {
            in_progress = true;
            break;
        }
        last_error = errno;
        close(fd);
        return NETCORE_ERR_ADDRESS;
    }
    *out_socket = fd;
    if (out_in_progress)
        *out_in_progress = in_progress;
    return NETCORE_OK;
}

netcore_result nci_socket_connect_datagram(nci_socket socket, const netcore_address *address)
{
    struct sockaddr_storage sa;
    socklen_t len = nci_address_to_sockaddr(address, &sa);
    if (len == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    while (connect(socket, (const struct sockaddr *)&sa, len) != 0)
        if (errno != EINTR)
            return fail(NETCORE_ERR_ADDRESS);
    return NETCORE_OK;
}

netcore_result nci_socket_connect_result(nci_socket socket)
{
    int error = 0;
    socklen_t len = sizeof error;
    if (getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &len) != 0)
        return fail(NETCORE_ERR_SOCKET);
    if (error == 0)
        return NETCORE_OK;
    last_error = error;
    return NETCORE_ERR_SOCKET;
}

nci_accept nci_socket_accept(nci_socket listener, nci_socket *out_socket, netcore_address *out_from)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        int fd = accept(listener, (struct sockaddr *)&sa, &len);
        if (fd < 0) {
            last_error = errno;
            if (errno == EINTR)
                continue;
            if (would_block(errno))
                return NCI_ACCEPT_NONE;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                return NCI_ACCEPT_RESOURCES;
            return NCI_ACCEPT_FAILED;
        }
        if (!prepare(fd)) {
            last_error = errno;
            close(fd);
            return NCI_ACCEPT_FAILED;
        }
        if (out_from && !nci_address_from_sockaddr((struct sockaddr *)&sa, out_from))
            memset(out_from, 0, sizeof *out_from);
        *out_socket = fd;
        return NCI_ACCEPT_OK;
    }
}

netcore_result nci_socket_set_option(nci_socket socket, nci_sockopt option, int value)
{
    int level = SOL_SOCKET, name;
    switch (option) {
    case NCI_SOCKOPT_NODELAY:
        level = IPPROTO_TCP;
        name = TCP_NODELAY;
        break;
    case NCI_SOCKOPT_BROADCAST:
        name = SO_BROADCAST;
        break;
    case NCI_SOCKOPT_RECV_BUFFER:
        name = SO_RCVBUF;
        break;
    case NCI_SOCKOPT_SEND_BUFFER:
        name = SO_SNDBUF;
        break;
    default:
        return NETCORE_ERR_INVALID_ARGUMENT;
    }
    return setsockopt(socket, level, name, &value, sizeof value) == 0 ? NETCORE_OK
                                                                      : fail(NETCORE_ERR_SOCKET);
}

netcore_result nci_socket_local_address(nci_socket socket, netcore_address *out_address)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    if (getsockname(socket, (struct sockaddr *)&sa, &len) != 0)
        return fail(NETCORE_ERR_SOCKET);
    return nci_address_from_sockaddr((struct sockaddr *)&sa, out_address) ? NETCORE_OK
                                                                          : NETCORE_ERR_SOCKET;
}

/* Maps a failed call's errno to an outcome. */
static nci_io io_failure(void)
{
    last_error = errno;
    if (would_block(errno))
        return NCI_IO_WOULD_BLOCK;
    if (errno == ECONNREFUSED)
        return NCI_IO_REFUSED;
    if (errno == ECONNRESET || errno == EPIPE || errno == ENOTCONN)
        return NCI_IO_CLOSED;
    return NCI_IO_FAILED;
}

nci_io nci_socket_send(nci_socket socket, const void *data, size_t size_bytes, size_t *out_bytes)
{
    for (;;) {
        ssize_t n = send(socket, data, size_bytes, SEND_FLAGS);
        if (n >= 0) {
            *out_bytes = (size_t)n;
            return NCI_IO_DONE;
        }
        if (errno != EINTR)
            return io_failure();
    }
}

nci_io nci_socket_recv(nci_socket socket, void *buffer, size_t capacity_bytes, size_t *out_bytes)
{
    for (;;) {
        ssize_t n = recv(socket, buffer, capacity_bytes, 0);
        if (n > 0 || (n == 0 && capacity_bytes == 0)) {
            *out_bytes = (size_t)n;
            return NCI_IO_DONE;
        }
        if (n == 0) {
            int type = SOCK_STREAM;
            socklen_t len = sizeof type;
            (void)getsockopt(socket, SOL_SOCKET, SO_TYPE, &type, &len);
            if (type == SOCK_STREAM)
                return NCI_IO_CLOSED;
            *out_bytes = 0; /* an empty datagram */
            return NCI_IO_DONE;
        }
        if (errno != EINTR)
            return io_failure();
    }
}

nci_io nci_socket_send_to(nci_socket socket, const void *data, size_t size_bytes,
                          const netcore_address *to)
{
    struct sockaddr_storage sa;
    socklen_t len = nci_address_to_sockaddr(to, &sa);
    if (len == 0) {
        last_error = EINVAL;
        return NCI_IO_FAILED;
    }
    for (;;) {
        if (sendto(socket, data, size_bytes, SEND_FLAGS, (struct sockaddr *)&sa, len) >= 0)
            return NCI_IO_DONE;
        if (errno != EINTR)
            return io_failure();
    }
}

nci_io nci_socket_recv_from(nci_socket socket, void *buffer, size_t capacity_bytes,
                            size_t *out_bytes, netcore_address *out_from)
{
    for (;;) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof sa;
        ssize_t n = recvfrom(socket, buffer, capacity_bytes, 0, (struct sockaddr *)&sa, &len);
        if (n >= 0) {
            *out_bytes = (size_t)n;
            if (out_from && !nci_address_from_sockaddr((struct sockaddr *)&sa, out_from))
                memset(out_from, 0, sizeof *out_from);
            return NCI_IO_DONE;
        }
        if (errno != EINTR)
            return io_failure();
    }
}

nci_io nci_socket_peek(nci_socket socket, void *buffer, size_t capacity_bytes, size_t *out_bytes)
{
    for (;;) {
        ssize_t n = recv(socket, buffer, capacity_bytes, MSG_PEEK);
        if (n > 0 || (n == 0 && capacity_bytes == 0)) {
            *out_bytes = (size_t)n;
            return NCI_IO_DONE;
        }
        if (n == 0)
            return NCI_IO_CLOSED;
        if (errno != EINTR)
            return io_failure();
    }
}

netcore_result nci_socket_enable_destination(nci_socket socket)
{
    int one = 1;
    return setsockopt(socket, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0
               ? NETCORE_OK
               : fail(NETCORE_ERR_SOCKET);
}

/* Room for one IP_PKTINFO control message, aligned as cmsghdr wants. */
typedef union pktinfo_control {
    char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct cmsghdr align;
} pktinfo_control;

nci_io nci_socket_recv_from_destination(nci_socket socket, void *buffer, size_t capacity_bytes,
                                        size_t *out_bytes, netcore_address *out_from,
                                        nci_datagram_destination *out_destination)
{
    struct sockaddr_storage sa;
    pktinfo_control control;
    struct iovec iov = {buffer, capacity_bytes};
    struct msghdr msg;
    ssize_t n;
    do {
        memset(&msg, 0, sizeof msg);
        msg.msg_name = &sa;
        msg.msg_namelen = sizeof sa;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        n = recvmsg(socket, &msg, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return io_failure();
    *out_bytes = (size_t)n;
    if (out_from && !nci_address_from_sockaddr((struct sockaddr *)&sa, out_from))
        memset(out_from, 0, sizeof *out_from);
    if (out_destination) {
        memset(out_destination, 0, sizeof *out_destination);
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO)
                continue;
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof info);
            memcpy(out_destination->to_ipv4, &info.ipi_addr.s_addr, 4);
            out_destination->interface_index = (uint32_t)info.ipi_ifindex;
            out_destination->known = true;
        }
    }
    return NCI_IO_DONE;
}

nci_io nci_socket_send_to_from(nci_socket socket, const void *data, size_t size_bytes,
                               const netcore_address *to, const uint8_t from_ipv4[4])
{
    struct sockaddr_storage sa;
    socklen_t len = nci_address_to_sockaddr(to, &sa);
    if (len == 0) {
        last_error = EINVAL;
        return NCI_IO_FAILED;
    }
    struct iovec iov = {(void *)data, size_bytes};
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = &sa;
    msg.msg_namelen = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    pktinfo_control control;
    static const uint8_t any[4] = {0, 0, 0, 0};
    if (memcmp(from_ipv4, any, 4) != 0) {
        /* ipi_spec_dst is the source address of what is sent (ip(7)). */
        memset(&control, 0, sizeof control);
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof control.buf;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
        struct in_pktinfo info;
        memset(&info, 0, sizeof info);
        memcpy(&info.ipi_spec_dst.s_addr, from_ipv4, 4);
        memcpy(CMSG_DATA(c), &info, sizeof info);
    }
    for (;;) {
        if (sendmsg(socket, &msg, SEND_FLAGS) >= 0)
            return NCI_IO_DONE;
        if (errno != EINTR)
            return io_failure();
    }
}

netcore_result nci_interface_of_ipv4(const uint8_t ipv4[4], uint32_t *out_index,
                                     uint8_t out_broadcast_ipv4[4])
{
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return fail(NETCORE_ERR_SOCKET);
    netcore_result r = NETCORE_ERR_NOT_FOUND;
    for (struct ifaddrs *i = list; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
            memcmp(&((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr, ipv4,
                   4) != 0)
            continue;
        *out_index = if_nametoindex(i->ifa_name);
        memset(out_broadcast_ipv4, 0, 4);
        if ((i->ifa_flags & IFF_BROADCAST) && i->ifa_broadaddr &&
            i->ifa_broadaddr->sa_family == AF_INET)
            memcpy(out_broadcast_ipv4,
                   &((const struct sockaddr_in *)(const void *)i->ifa_broadaddr)->sin_addr.s_addr,
                   4);
        r = NETCORE_OK;
        break;
    }
    freeifaddrs(list);
    return r;
}

void nci_socket_shutdown_write(nci_socket socket)
{
    (void)shutdown(socket, SHUT_WR);
}

void nci_socket_close(nci_socket socket)
{
    if (socket != NCI_SOCKET_INVALID)
        (void)close(socket);
}

int nci_socket_last_error(void)
{
    return last_error;
}

const char *nci_socket_error_str(int error, char *buffer, size_t buffer_size)
{
    if (buffer_size == 0)
        return buffer;
    if (strerror_r(error, buffer, buffer_size) != 0)
        snprintf(buffer, buffer_size, "error %d", error);
    return buffer;
}
