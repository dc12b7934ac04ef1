/* Readiness poller on POSIX systems without epoll (poll) and on Windows
 * (WSAPoll, the same call under another name). The registered sockets sit in
 * one dense array handed to the system as it is; a hash table from socket to
 * array index keeps registering, changing and removing at O(1). */
#ifdef _WIN32
#include "platform/os_net.h"
#define nci_os_poll WSAPoll
typedef WSAPOLLFD nci_pollfd;
#define POLL_ERROR_EVENTS (POLLERR | POLLHUP | POLLNVAL)
#else
#include <errno.h>
#include <poll.h>
#define nci_os_poll poll
typedef struct pollfd nci_pollfd;
#define POLL_ERROR_EVENTS (POLLERR | POLLHUP | POLLNVAL)
#endif

#include "core/core_internal.h"
#include "platform/poller.h"

#define SLOT_EMPTY UINT32_MAX

struct nci_poller {
    netcore_allocator allocator;
    uint32_t max_sockets;
    uint32_t count;      /* registered sockets: fds[0 .. count) */
    nci_pollfd *fds;     /* max_sockets, dense */
    uint64_t *data;      /* max_sockets, beside fds */
    uint32_t *table;     /* table_mask + 1 slots: index into fds, or SLOT_EMPTY */
    uint32_t table_mask; /* a power of two minus one, at least 2 * max_sockets - 1 */
};

static uint32_t hash_socket(nci_socket s)
{
    uint64_t x = (uint64_t)s * 0x9E3779B97F4A7C15u;
    return (uint32_t)(x >> 32);
}

/* The table slot holding socket s, or the empty slot where it would go. */
static uint32_t find_slot(const nci_poller *p, nci_socket s)
{
    uint32_t i = hash_socket(s) & p->table_mask;
    while (p->table[i] != SLOT_EMPTY && p->fds[p->table[i]].fd != s)
        i = (i + 1) & p->table_mask;
    return i;
}

/* Removes table slot i, shifting later entries of its probe run back so
 * that every lookup still finds them (linear probing without tombstones). */
static void erase_slot(nci_poller *p, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        p->table[i] = SLOT_EMPTY;
        for (;;) {
            j = (j + 1) & p->table_mask;
            if (p->table[j] == SLOT_EMPTY)
                return;
            uint32_t home = hash_socket(p->fds[p->table[j]].fd) & p->table_mask;
            /* The entry at j may move to i unless its home lies cyclically in (i, j]. */
            bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
            if (!stays)
                break;
        }
        p->table[i] = p->table[j];
        i = j;
    }
}

netcore_result nci_poller_create(const netcore_allocator *allocator, uint32_t max_sockets,
                                 nci_poller **out_poller)
{
    if (!out_poller || max_sockets == 0 || max_sockets > (1u << 30))
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_poller *p = nci_calloc(allocator, 1, sizeof *p);
    if (!p)
        return NETCORE_ERR_OUT_OF_MEMORY;
    p->allocator = *allocator;
    p->max_sockets = max_sockets;
    uint32_t table_size = 1;
    while (table_size < 2u * max_sockets)
        table_size <<= 1;
    p->table_mask = table_size - 1;
    p->fds = nci_calloc(allocator, max_sockets, sizeof *p->fds);
    p->data = nci_calloc(allocator, max_sockets, sizeof *p->data);
    p->table = nci_alloc(allocator, (size_t)table_size * sizeof *p->table);
    if (!p->fds || !p->data || !p->table) {
        nci_poller_destroy(p);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < table_size; i++)
        p->table[i] = SLOT_EMPTY;
    *out_poller = p;
    return NETCORE_OK;
}

void nci_poller_destroy(nci_poller *poller)
{
    if (!poller)
        return;
    netcore_allocator allocator = poller->allocator;
    nci_free(&allocator, poller->fds);
    nci_free(&allocator, poller->data);
    nci_free(&allocator, poller->table);
    nci_free(&allocator, poller);
}

static short to_poll(uint32_t events)
{
    return (short)(((events & NCI_POLL_IN) ? POLLIN : 0) | ((events & NCI_POLL_OUT) ? POLLOUT : 0));
}

netcore_result nci_poller_set(nci_poller *poller, nci_socket socket, uint32_t events, uint64_t data)
{
    uint32_t slot = find_slot(poller, socket);
    uint32_t index = poller->table[slot];
    if (index == SLOT_EMPTY) {
        if (poller->count == poller->max_sockets)
            return NETCORE_ERR_FULL;
        index = poller->count++;
        poller->table[slot] = index;
        poller->fds[index].fd = socket;
    }
    poller->fds[index].events = to_poll(events);
    poller->fds[index].revents = 0;
    poller->data[index] = data;
    return NETCORE_OK;
}

netcore_result nci_poller_remove(nci_poller *poller, nci_socket socket)
{
    uint32_t slot = find_slot(poller, socket);
    uint32_t index = poller->table[slot];
    if (index == SLOT_EMPTY)
        return NETCORE_ERR_NOT_FOUND;
    erase_slot(poller, slot);
    uint32_t last = --poller->count;
    if (index != last) { /* the last entry fills the hole; its table slot follows */
        poller->fds[index] = poller->fds[last];
        poller->data[index] = poller->data[last];
        poller->table[find_slot(poller, poller->fds[index].fd)] = index;
    }
    return NETCORE_OK;
}

int nci_poller_wait(nci_poller *poller, nci_poll_event *events, uint32_t max_events,
                    uint32_t timeout_ms)
{
    int timeout = timeout_ms > (uint32_t)INT32_MAX ? INT32_MAX : (int)timeout_ms;
    int ready = nci_os_poll(poller->fds, poller->count, timeout);
    if (ready < 0) {
#ifndef _WIN32
        if (errno == EINTR)
            return 0;
#endif
        return -1;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < poller->count && n < max_events && ready > 0; i++) {
        short r = poller->fds[i].revents;
        if (r == 0)
            continue;
        ready--;
        events[n].data = poller->data[i];
        events[n].events = ((r & POLLIN) ? NCI_POLL_IN : 0u) | ((r & POLLOUT) ? NCI_POLL_OUT : 0u) |
                           ((r & POLL_ERROR_EVENTS) ? NCI_POLL_ERR : 0u);
        n++;
    }
    return (int)n;
}
