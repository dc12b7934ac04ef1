/* Readiness poller (internal): which of a set of sockets can be read or
 * written. One backend is compiled in, chosen by the target system as the
 * build files say: epoll on Linux (poller_epoll.c; cost follows the ready
 * sockets), poll() on other POSIX systems and WSAPoll() on Windows
 * (poller_poll.c; cost follows the registered sockets).
 *
 * Each registered socket carries a 64-bit value of the caller's, returned
 * with its events. A socket must be removed before it is closed.
 * Single-threaded, like everything in netcore. */
#ifndef NETCORE_PLATFORM_POLLER_H
#define NETCORE_PLATFORM_POLLER_H

#include <stdint.h>

#include "netcore/netcore.h"
#include "platform/socket.h"

enum {
    NCI_POLL_IN = 1u << 0,  /* readable, a connection to accept, or the peer closed */
    NCI_POLL_OUT = 1u << 1, /* writable, or a started connect finished */
    NCI_POLL_ERR = 1u << 2  /* error or hang-up (always reported, never asked for) */
};

typedef struct nci_poller nci_poller;

typedef struct nci_poll_event {
    uint64_t data;   /* what the socket was registered with */
    uint32_t events; /* NCI_POLL_* */
} nci_poll_event;

/* A poller for at most max_sockets sockets at once.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (max_sockets 0), NETCORE_ERR_OUT_OF_MEMORY,
 * NETCORE_ERR_SOCKET (the system refused a poller). */
netcore_result nci_poller_create(const netcore_allocator *allocator, uint32_t max_sockets,
                                 nci_poller **out_poller);
void nci_poller_destroy(nci_poller *poller);

/* Registers socket for events (NCI_POLL_IN | NCI_POLL_OUT, or 0 to hold it
 * without waking), or changes a registered socket's events and data.
 * Errors: NETCORE_ERR_FULL (max_sockets registered), NETCORE_ERR_SOCKET. */
netcore_result nci_poller_set(nci_poller *poller, nci_socket socket, uint32_t events,
                              uint64_t data);

/* Forgets socket; an unknown socket is NETCORE_ERR_NOT_FOUND. */
netcore_result nci_poller_remove(nci_poller *poller, nci_socket socket);

/* Waits up to timeout_ms (0: do not wait) for events and writes at most
 * max_events of them. Returns how many (0 on timeout or an interrupting
 * signal), or -1 if the system call failed. */
int nci_poller_wait(nci_poller *poller, nci_poll_event *events, uint32_t max_events,
                    uint32_t timeout_ms);

#endif /* NETCORE_PLATFORM_POLLER_H */
