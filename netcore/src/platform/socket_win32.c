/* Sockets on Windows: Winsock 2. Compiled only for Windows targets. */
#include <stdio.h>
#include <string.h>

#include "platform/net_internal.h"
#include "platform/socket.h"

#include <iphlpapi.h>
#include <mswsock.h>
#include <stdlib.h>

#ifndef SIO_UDP_CONNRESET
#define SIO_UDP_CONNRESET _WSAIOW(IOC_VENDOR, 12)
#endif

/* Winsock is started per process; the count pairs startups with cleanups. */
static long startup_count;
static _Thread_local int last_error;

static netcore_result fail(netcore_result result)
{
    last_error = WSAGetLastError();
    return result;
}

/* Non-blocking and not inherited by child processes. */
static bool prepare(SOCKET s)
{
    u_long one = 1;
    if (ioctlsocket(s, FIONBIO, &one) != 0)
        return false;
    return SetHandleInformation((HANDLE)s, HANDLE_FLAG_INHERIT, 0) != 0;
}

/* An unconnected UDP socket would otherwise fail its next receive with
 * WSAECONNRESET whenever an earlier datagram drew an ICMP "port unreachable"
 * (one vanished client would disturb a whole server). */
static void ignore_udp_resets(SOCKET s)
{
    BOOL off = FALSE;
    DWORD returned = 0;
    (void)WSAIoctl(s, SIO_UDP_CONNRESET, &off, sizeof off, NULL, 0, &returned, NULL, NULL);
}

static netcore_result open_socket(const netcore_address *address, int type,
                                  struct sockaddr_storage *out_sa, int *out_len, SOCKET *out)
{
    if (!address || !out)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_len = (int)nci_address_to_sockaddr(address, out_sa);
    if (*out_len == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    SOCKET s = socket(out_sa->ss_family, type, 0);
    if (s == INVALID_SOCKET)
        return fail(NETCORE_ERR_SOCKET);
    if (!prepare(s)) {
        last_error = WSAGetLastError();
        closesocket(s);
        return NETCORE_ERR_SOCKET;
    }
    *out = s;
    return NETCORE_OK;
}

static netcore_result bind_or_close(SOCKET s, const struct sockaddr_storage *sa, int len)
{
    if (bind(s, (const struct sockaddr *)sa, len) == 0)
        return NETCORE_OK;
    last_error = WSAGetLastError();
    closesocket(s);
    return NETCORE_ERR_ADDRESS;
}

netcore_result nci_platform_startup(void)
{
    if (startup_count++ > 0)
        return NETCORE_OK;
    WSADATA data;
    int error = WSAStartup(MAKEWORD(2, 2), &data);
    if (error == 0)
        return NETCORE_OK;
    startup_count--;
    last_error = error;
    return NETCORE_ERR_SOCKET;
}

void nci_platform_cleanup(void)
{
    if (startup_count > 0 && --startup_count == 0)
        WSACleanup();
}

netcore_result nci_socket_open_udp(const netcore_address *bind_address, bool reuse_address,
                                   nci_socket *out_socket)
{
    struct sockaddr_storage sa;
    int len;
    SOCKET s;
    netcore_result r = open_socket(bind_address, SOCK_DGRAM, &sa, &len, &s);
    if (r != NETCORE_OK)
        return r;
    BOOL one = TRUE;
    if (reuse_address)
        (void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, (const char *)&one, sizeof one);
    ignore_udp_resets(s);
    r = bind_or_close(s, &sa, len);
    if (r == NETCORE_OK)
        *out_socket = (nci_socket)s;
    return r;
}

netcore_result nci_socket_open_tcp_listener(const netcore_address *bind_address, int backlog,
                                            nci_socket *out_socket)
{
    struct sockaddr_storage sa;
    int len;
    SOCKET s;
    netcore_result r = open_socket(bind_address, SOCK_STREAM, &sa, &len, &s);
    if (r != NETCORE_OK)
        return r;
    /* Windows' SO_REUSEADDR lets another process steal the port; exclusive use
     * is the equivalent of the POSIX restart-friendly behaviour. */
    BOOL one = TRUE;
    (void)setsockopt(s, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one);
    if (sa.ss_family == AF_INET6)
        (void)setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, (const char *)&one, sizeof one);
    r = bind_or_close(s, &sa, len);
    if (r != NETCORE_OK)
        return r;
    if (listen(s, backlog) != 0) {
        last_error = WSAGetLastError();
        closesocket(s);
        return NETCORE_ERR_SOCKET;
    }
    *out_socket = (nci_socket)s;
    return NETCORE_OK;
}

netcore_result nci_socket_open_connected(const netcore_address *address, bool stream,
                                         nci_socket *out_socket, bool *out_in_progress)
{
    struct sockaddr_storage sa;
    int len;
    SOCKET s;
    netcore_result r = open_socket(address, stream ? SOCK_STREAM : SOCK_DGRAM, &sa, &len, &s);
    if (r != NETCORE_OK)
        return r;
    bool in_progress = false;
    if (connect(s, (const struct sockaddr *)&sa, len) != 0) {
        int error = WSAGetLastError();
        if (error != WSAEWOULDBLOCK) {
            last_error = error;
            closesocket(s);
            return NETCORE_ERR_ADDRESS;
        }
        in_progress = true;
    }
    *out_socket = (nci_socket)s;
    if (out_in_progress)
        *out_in_progress = in_progress;
    return NETCORE_OK;
}

netcore_result nci_socket_connect_datagram(nci_socket socket, const netcore_address *address)
{
    struct sockaddr_storage sa;
    int len = (int)nci_address_to_sockaddr(address, &sa);
    if (len == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (connect((SOCKET)socket, (const struct sockaddr *)&sa, len) != 0)
        return fail(NETCORE_ERR_ADDRESS);
    return NETCORE_OK;
}

netcore_result nci_socket_connect_result(nci_socket socket)
{
    int error = 0;
    int len = sizeof error;
    if (getsockopt((SOCKET)socket, SOL_SOCKET, SO_ERROR, (char *)&error, &len) != 0)
        return fail(NETCORE_ERR_SOCKET);
    if (error == 0)
        return NETCORE_OK;
    last_error = error;
    return NETCORE_ERR_SOCKET;
}

nci_accept nci_socket_accept(nci_socket listener, nci_socket *out_socket, netcore_address *out_from)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    SOCKET s = accept((SOCKET)listener, (struct sockaddr *)&sa, &len);
    if (s == INVALID_SOCKET) {
        last_error = WSAGetLastError();
        if (last_error == WSAEWOULDBLOCK)
            return NCI_ACCEPT_NONE;
        if (last_error == WSAEMFILE || last_error == WSAENOBUFS)
            return NCI_ACCEPT_RESOURCES;
        return NCI_ACCEPT_FAILED;
    }
    if (!prepare(s)) {
        last_error = WSAGetLastError();
        closesocket(s);
        return NCI_ACCEPT_FAILED;
    }
    if (out_from && !nci_address_from_sockaddr((struct sockaddr *)&sa, out_from))
        memset(out_from, 0, sizeof *out_from);
    *out_socket = (nci_socket)s;
    return NCI_ACCEPT_OK;
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
    return setsockopt((SOCKET)socket, level, name, (const char *)&value, sizeof value) == 0
               ? NETCORE_OK
               : fail(NETCORE_ERR_SOCKET);
}

netcore_result nci_socket_local_address(nci_socket socket, netcore_address *out_address)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    if (getsockname((SOCKET)socket, (struct sockaddr *)&sa, &len) != 0)
        return fail(NETCORE_ERR_SOCKET);
    return nci_address_from_sockaddr((struct sockaddr *)&sa, out_address) ? NETCORE_OK
                                                                          : NETCORE_ERR_SOCKET;
}

static nci_io io_failure(void)
{
    last_error = WSAGetLastError();
    switch (last_error) {
    case WSAEWOULDBLOCK:
        return NCI_IO_WOULD_BLOCK;
    case WSAECONNREFUSED:
        return NCI_IO_REFUSED;
    case WSAECONNRESET:
    case WSAECONNABORTED:
    case WSAENOTCONN:
    case WSAESHUTDOWN:
        return NCI_IO_CLOSED;
    default:
        return NCI_IO_FAILED;
    }
}

/* Winsock counts in int; larger requests are cut to what it can take at once. */
static int io_size(size_t size_bytes)
{
    return size_bytes > (size_t)INT32_MAX ? INT32_MAX : (int)size_bytes;
}

static bool is_stream(SOCKET s)
{
    int type = SOCK_STREAM;
    int len = sizeof type;
    (void)getsockopt(s, SOL_SOCKET, SO_TYPE, (char *)&type, &len);
    return type == SOCK_STREAM;
}

nci_io nci_socket_send(nci_socket socket, const void *data, size_t size_bytes, size_t *out_bytes)
{
    int n = send((SOCKET)socket, (const char *)data, io_size(size_bytes), 0);
    if (n == SOCKET_ERROR)
        return io_failure();
    *out_bytes = (size_t)n;
    return NCI_IO_DONE;
}

nci_io nci_socket_recv(nci_socket socket, void *buffer, size_t capacity_bytes, size_t *out_bytes)
{
    int n = recv((SOCKET)socket, (char *)buffer, io_size(capacity_bytes), 0);
    if (n == SOCKET_ERROR) {
        nci_io io = io_failure();
        /* On a connected UDP socket a reset is Windows' report of an ICMP refusal. */
        return io == NCI_IO_CLOSED && !is_stream((SOCKET)socket) ? NCI_IO_REFUSED : io;
    }
    if (n == 0 && capacity_bytes > 0 && is_stream((SOCKET)socket))
        return NCI_IO_CLOSED;
    *out_bytes = (size_t)n;
    return NCI_IO_DONE;
}

nci_io nci_socket_send_to(nci_socket socket, const void *data, size_t size_bytes,
                          const netcore_address *to)
{
    struct sockaddr_storage sa;
    int len = (int)nci_address_to_sockaddr(to, &sa);
    if (len == 0) {
        last_error = WSAEINVAL;
        return NCI_IO_FAILED;
    }
    if (sendto((SOCKET)socket, (const char *)data, io_size(size_bytes), 0, (struct sockaddr *)&sa,
               len) == SOCKET_ERROR)
        return io_failure();
    return NCI_IO_DONE;
}

nci_io nci_socket_recv_from(nci_socket socket, void *buffer, size_t capacity_bytes,
                            size_t *out_bytes, netcore_address *out_from)
{
    struct sockaddr_storage sa;
    int len = sizeof sa;
    int n = recvfrom((SOCKET)socket, (char *)buffer, io_size(capacity_bytes), 0,
                     (struct sockaddr *)&sa, &len);
    if (n == SOCKET_ERROR) {
        /* A datagram larger than the buffer: Windows reports it as an error
         * after filling the buffer; POSIX cuts it silently. Do as POSIX does. */
        if (WSAGetLastError() != WSAEMSGSIZE)
            return io_failure();
        n = io_size(capacity_bytes);
    }
    *out_bytes = (size_t)n;
    if (out_from && !nci_address_from_sockaddr((struct sockaddr *)&sa, out_from))
        memset(out_from, 0, sizeof *out_from);
    return NCI_IO_DONE;
}

nci_io nci_socket_peek(nci_socket socket, void *buffer, size_t capacity_bytes, size_t *out_bytes)
{
    int n = recv((SOCKET)socket, (char *)buffer, io_size(capacity_bytes), MSG_PEEK);
    if (n == SOCKET_ERROR)
        return io_failure();
    if (n == 0 && capacity_bytes > 0)
        return NCI_IO_CLOSED;
    *out_bytes = (size_t)n;
    return NCI_IO_DONE;
}

netcore_result nci_socket_enable_destination(nci_socket socket)
{
    DWORD one = 1;
    return setsockopt((SOCKET)socket, IPPROTO_IP, IP_PKTINFO, (const char *)&one, sizeof one) == 0
               ? NETCORE_OK
               : fail(NETCORE_ERR_SOCKET);
}

/* Room for one IP_PKTINFO control message. */
typedef union pktinfo_control {
    char buf[WSA_CMSG_SPACE(sizeof(IN_PKTINFO))];
    WSACMSGHDR align;
} pktinfo_control;

/* WSARecvMsg is an extension: its address is asked of the socket's provider. */
static LPFN_WSARECVMSG recvmsg_function(SOCKET s)
{
    GUID id = WSAID_WSARECVMSG;
    LPFN_WSARECVMSG function = NULL;
    DWORD returned = 0;
    if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &function, sizeof function,
                 &returned, NULL, NULL) != 0)
        return NULL;
    return function;
}

nci_io nci_socket_recv_from_destination(nci_socket socket, void *buffer, size_t capacity_bytes,
                                        size_t *out_bytes, netcore_address *out_from,
                                        nci_datagram_destination *out_destination)
{
    LPFN_WSARECVMSG receive = recvmsg_function((SOCKET)socket);
    if (!receive)
        return io_failure();
    struct sockaddr_storage sa;
    pktinfo_control control;
    WSABUF data = {(ULONG)io_size(capacity_bytes), (char *)buffer};
    WSAMSG msg;
    memset(&msg, 0, sizeof msg);
    msg.name = (struct sockaddr *)&sa;
    msg.namelen = sizeof sa;
    msg.lpBuffers = &data;
    msg.dwBufferCount = 1;
    msg.Control.buf = control.buf;
    msg.Control.len = sizeof control.buf;
    DWORD n = 0;
    if (receive((SOCKET)socket, &msg, &n, NULL, NULL) != 0) {
        /* Cut to the buffer, as POSIX does (see nci_socket_recv_from). */
        if (WSAGetLastError() != WSAEMSGSIZE)
            return io_failure();
        n = (DWORD)io_size(capacity_bytes);
    }
    *out_bytes = (size_t)n;
    if (out_from && !nci_address_from_sockaddr((struct sockaddr *)&sa, out_from))
        memset(out_from, 0, sizeof *out_from);
    if (out_destination) {
        memset(out_destination, 0, sizeof *out_destination);
        for (WSACMSGHDR *c = WSA_CMSG_FIRSTHDR(&msg); c; c = WSA_CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO)
                continue;
            IN_PKTINFO info;
            memcpy(&info, WSA_CMSG_DATA(c), sizeof info);
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
    int len = (int)nci_address_to_sockaddr(to, &sa);
    if (len == 0) {
        last_error = WSAEINVAL;
        return NCI_IO_FAILED;
    }
    WSABUF buffer = {(ULONG)io_size(size_bytes), (char *)(uintptr_t)data};
    WSAMSG msg;
    memset(&msg, 0, sizeof msg);
    msg.name = (struct sockaddr *)&sa;
    msg.namelen = len;
    msg.lpBuffers = &buffer;
    msg.dwBufferCount = 1;
    pktinfo_control control;
    static const uint8_t any[4] = {0, 0, 0, 0};
    if (memcmp(from_ipv4, any, 4) != 0) {
        /* On Windows the sent IN_PKTINFO's ipi_addr is the source address. */
        memset(&control, 0, sizeof control);
        msg.Control.buf = control.buf;
        msg.Control.len = sizeof control.buf;
        WSACMSGHDR *c = WSA_CMSG_FIRSTHDR(&msg);
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = WSA_CMSG_LEN(sizeof(IN_PKTINFO));
        IN_PKTINFO info;
        memset(&info, 0, sizeof info);
        memcpy(&info.ipi_addr.s_addr, from_ipv4, 4);
        memcpy(WSA_CMSG_DATA(c), &info, sizeof info);
    }
    DWORD sent = 0;
    if (WSASendMsg((SOCKET)socket, &msg, 0, &sent, NULL, NULL) != 0)
        return io_failure();
    return NCI_IO_DONE;
}

/* The adapters' table, which the system sizes: asked again while it grows. */
static IP_ADAPTER_ADDRESSES *list_adapters(void)
{
    ULONG size = 16384;
    for (int attempt = 0; attempt < 4; attempt++) {
        IP_ADAPTER_ADDRESSES *list = malloc(size);
        if (!list)
            return NULL;
        ULONG r = GetAdaptersAddresses(
            AF_INET, GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER,
            NULL, list, &size);
        if (r == NO_ERROR)
            return list;
        free(list);
        if (r != ERROR_BUFFER_OVERFLOW)
            return NULL;
    }
    return NULL;
}

netcore_result nci_interface_of_ipv4(const uint8_t ipv4[4], uint32_t *out_index,
                                     uint8_t out_broadcast_ipv4[4])
{
    IP_ADAPTER_ADDRESSES *list = list_adapters();
    if (!list) {
        last_error = WSAENOBUFS;
        return NETCORE_ERR_SOCKET;
    }
    netcore_result r = NETCORE_ERR_NOT_FOUND;
    for (IP_ADAPTER_ADDRESSES *a = list; a && r != NETCORE_OK; a = a->Next) {
        for (IP_ADAPTER_UNICAST_ADDRESS *u = a->FirstUnicastAddress; u; u = u->Next) {
            const struct sockaddr *sa = u->Address.lpSockaddr;
            if (!sa || sa->sa_family != AF_INET ||
                memcmp(&((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr, ipv4, 4) !=
                    0)
                continue;
            *out_index = (uint32_t)a->IfIndex;
            memset(out_broadcast_ipv4, 0, 4);
            /* The subnet's broadcast address; loopback has none (as on POSIX). */
            if (a->IfType != IF_TYPE_SOFTWARE_LOOPBACK && u->OnLinkPrefixLength < 31) {
                uint32_t ip = ((uint32_t)ipv4[0] << 24) | ((uint32_t)ipv4[1] << 16) |
                              ((uint32_t)ipv4[2] << 8) | ipv4[3];
                uint32_t host_bits = u->OnLinkPrefixLength == 0
                                         ? 0xffffffffu
                                         : (1u << (32 - u->OnLinkPrefixLength)) - 1u;
                uint32_t broadcast = ip | host_bits;
                for (int k = 0; k < 4; k++)
                    out_broadcast_ipv4[k] = (uint8_t)(broadcast >> (24 - 8 * k));
            }
            r = NETCORE_OK;
            break;
        }
    }
    free(list);
    return r;
}

void nci_socket_shutdown_write(nci_socket socket)
{
    (void)shutdown((SOCKET)socket, SD_SEND);
}

void nci_socket_close(nci_socket socket)
{
    if (socket != NCI_SOCKET_INVALID)
        (void)closesocket((SOCKET)socket);
}

int nci_socket_last_error(void)
{
    return last_error;
}

const char *nci_socket_error_str(int error, char *buffer, size_t buffer_size)
{
    if (buffer_size == 0)
        return buffer;
    DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL,
                             (DWORD)error, 0, buffer, (DWORD)buffer_size, NULL);
    if (n == 0)
        snprintf(buffer, buffer_size, "Winsock error %d", error);
    while (n > 0 && (buffer[n - 1] == '\n' || buffer[n - 1] == '\r' || buffer[n - 1] == ' '))
        buffer[--n] = '\0';
    return buffer;
}
