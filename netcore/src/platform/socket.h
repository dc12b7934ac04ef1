/* Sockets (internal): the one place where netcore meets the operating
 * system's socket API. socket_posix.c implements it with BSD sockets,
 * socket_win32.c with Winsock 2; callers see neither, nor errno.
 *
 * Every socket is opened non-blocking and not inherited by child processes.
 * Sending never raises SIGPIPE (MSG_NOSIGNAL, or SO_NOSIGPIPE where that is
 * the only way). Calls interrupted by a signal are retried inside.
 *
 * Errors: functions returning netcore_result report NETCORE_ERR_INVALID_ARGUMENT
 * (NULL or an unusable address), NETCORE_ERR_ADDRESS (bind or connect refused
 * the address: in use, not local, unreachable) or NETCORE_ERR_SOCKET (anything
 * else); the system's error code of the last failure is nci_socket_last_error(). */
#ifndef NETCORE_PLATFORM_SOCKET_H
#define NETCORE_PLATFORM_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/address.h"

#ifdef _WIN32
typedef uintptr_t nci_socket; /* a Winsock SOCKET */
#define NCI_SOCKET_INVALID (~(uintptr_t)0)
#else
typedef int nci_socket; /* a file descriptor */
#define NCI_SOCKET_INVALID (-1)
#endif

/* Outcome of one send or receive. */
typedef enum nci_io {
    NCI_IO_DONE = 0,    /* moved at least one byte (or one datagram) */
    NCI_IO_WOULD_BLOCK, /* nothing to read, or no room to write: wait for the poller */
    NCI_IO_CLOSED,      /* TCP: the peer closed or reset the connection */
    NCI_IO_REFUSED,     /* connected UDP: an earlier datagram was refused (ICMP) */
    NCI_IO_FAILED       /* anything else: nci_socket_last_error() says what */
} nci_io;

/* Outcome of nci_socket_accept(). */
typedef enum nci_accept {
    NCI_ACCEPT_OK = 0,
    NCI_ACCEPT_NONE,      /* no connection waiting */
    NCI_ACCEPT_RESOURCES, /* out of descriptors or memory: back off before trying again */
    NCI_ACCEPT_FAILED     /* this connection failed (e.g. reset before accept); try the next */
} nci_accept;

typedef enum nci_sockopt {
    NCI_SOCKOPT_NODELAY,     /* TCP: send small segments at once (Nagle off) */
    NCI_SOCKOPT_BROADCAST,   /* UDP: may send to broadcast addresses */
    NCI_SOCKOPT_RECV_BUFFER, /* kernel receive buffer, bytes (a request the system may cap) */
    NCI_SOCKOPT_SEND_BUFFER  /* kernel send buffer, bytes (likewise) */
} nci_sockopt;

/* A numeric IPv4 ("1.2.3.4") or IPv6 ("::1", no brackets) address of that
 * family into out_bytes (4 or 16 bytes, network order); never asks a
 * resolver. false when text is not one. (Defined in address.c.) */
bool nci_address_numeric(netcore_address_family family, const char *text, uint8_t *out_bytes);

/* Starts the socket library (Winsock needs it; nothing on POSIX). Counted:
 * every successful call needs one nci_platform_cleanup(). Errors: NETCORE_ERR_SOCKET. */
netcore_result nci_platform_startup(void);
void nci_platform_cleanup(void);

/* A UDP socket bound to bind_address (family NONE: any IPv4 interface, port 0:
 * a free port). With reuse_address, another socket may bind the same port
 * (discovery listeners on one machine). */
netcore_result nci_socket_open_udp(const netcore_address *bind_address, bool reuse_address,
                                   nci_socket *out_socket);

/* A TCP socket listening on bind_address with the given backlog; an IPv6
 * listener accepts IPv6 only, and the address may be reused at once after a
 * restart (SO_REUSEADDR on POSIX; exclusive use on Windows). */
netcore_result nci_socket_open_tcp_listener(const netcore_address *bind_address, int backlog,
                                            nci_socket *out_socket);

/* A TCP (stream) or UDP (!stream) socket connected to address. A TCP connect
 * is started, not finished: *out_in_progress is true until the poller reports
 * the socket writable and nci_socket_connect_result() says how it ended. */
netcore_result nci_socket_open_connected(const netcore_address *address, bool stream,
                                         nci_socket *out_socket, bool *out_in_progress);

/* Connects a UDP socket (from nci_socket_open_udp) to address: the system
 * picks the source address the peer will see, and datagrams from anyone else
 * are filtered out. Errors: NETCORE_ERR_ADDRESS. */
netcore_result nci_socket_connect_datagram(nci_socket socket, const netcore_address *address);

/* After a started connect reported writable: NETCORE_OK, or NETCORE_ERR_SOCKET
 * (refused, unreachable, timed out; nci_socket_last_error() has the code). */
netcore_result nci_socket_connect_result(nci_socket socket);

/* Takes one waiting connection: *out_socket is non-blocking, *out_from (may
 * be NULL) its peer's address. */
nci_accept nci_socket_accept(nci_socket listener, nci_socket *out_socket,
                             netcore_address *out_from);

netcore_result nci_socket_set_option(nci_socket socket, nci_sockopt option, int value);

/* The address the socket is bound to (the actual port after binding port 0). */
netcore_result nci_socket_local_address(nci_socket socket, netcore_address *out_address);

/* Stream or connected datagram I/O. *out_bytes is set on NCI_IO_DONE. A
 * receive of zero bytes on a stream is NCI_IO_CLOSED. */
nci_io nci_socket_send(nci_socket socket, const void *data, size_t size_bytes, size_t *out_bytes);
nci_io nci_socket_recv(nci_socket socket, void *buffer, size_t capacity_bytes, size_t *out_bytes);

/* Datagram I/O with addresses. A datagram larger than capacity_bytes is cut
 * to it (the rest is lost, as the system does); *out_from may be NULL. */
nci_io nci_socket_send_to(nci_socket socket, const void *data, size_t size_bytes,
                          const netcore_address *to);
nci_io nci_socket_recv_from(nci_socket socket, void *buffer, size_t capacity_bytes,
                            size_t *out_bytes, netcore_address *out_from);

/* Stream: copies up to capacity_bytes of what is waiting to be read without
 * taking it (a later nci_socket_recv returns the same bytes): a protocol
 * sniff before handing the socket to another layer. Outcomes as
 * nci_socket_recv (zero bytes on a stream is NCI_IO_CLOSED). */
nci_io nci_socket_peek(nci_socket socket, void *buffer, size_t capacity_bytes, size_t *out_bytes);

/* Where an IPv4 datagram was delivered: the address it was sent to (this
 * host's own, or a broadcast address) and the receiving interface. */
typedef struct nci_datagram_destination {
    bool known;               /* false: the system did not say */
    uint8_t to_ipv4[4];       /* network order */
    uint32_t interface_index; /* the system's interface index */
} nci_datagram_destination;

/* Asks an IPv4 UDP socket to report each datagram's destination
 * (IP_PKTINFO) to nci_socket_recv_from_destination. Errors: NETCORE_ERR_SOCKET. */
netcore_result nci_socket_enable_destination(nci_socket socket);

/* nci_socket_recv_from that also fills *out_destination (may be NULL; known
 * only after nci_socket_enable_destination). */
nci_io nci_socket_recv_from_destination(nci_socket socket, void *buffer, size_t capacity_bytes,
                                        size_t *out_bytes, netcore_address *out_from,
                                        nci_datagram_destination *out_destination);

/* nci_socket_send_to from a chosen source: from_ipv4 (network order), one
 * of this host's IPv4 addresses, or all zero for the system's choice. The
 * socket must be an IPv4 UDP socket. */
nci_io nci_socket_send_to_from(nci_socket socket, const void *data, size_t size_bytes,
                               const netcore_address *to, const uint8_t from_ipv4[4]);

/* The interface that holds the IPv4 address ipv4 (network order): its
 * index and, when it has one, its broadcast address (network order; all
 * zero when none). Errors: NETCORE_ERR_NOT_FOUND (no interface holds it),
 * NETCORE_ERR_SOCKET (the system would not list its interfaces). */
netcore_result nci_interface_of_ipv4(const uint8_t ipv4[4], uint32_t *out_index,
                                     uint8_t out_broadcast_ipv4[4]);

/* Stops sending (TCP half-close); receiving goes on. */
void nci_socket_shutdown_write(nci_socket socket);

/* Closes the socket; NCI_SOCKET_INVALID is ignored. A socket registered with
 * a poller must be removed from it first. */
void nci_socket_close(nci_socket socket);

/* The system's error code of this thread's last failed socket call. */
int nci_socket_last_error(void);

/* Text for an error code from nci_socket_last_error(), written into buffer
 * (always NUL-terminated); returns buffer. */
const char *nci_socket_error_str(int error, char *buffer, size_t buffer_size);

#endif /* NETCORE_PLATFORM_SOCKET_H */
