/* Readiness poller on Linux: epoll. The kernel keeps the interest set, so a
 * wait costs in proportion to the ready sockets, not the registered ones. */
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "platform/poller.h"

/* Events fetched from the kernel per wait when the caller asks for more. */
#define EPOLL_BATCH 256u

struct nci_poller {
    netcore_allocator allocator;
    int epoll_fd;
    uint32_t max_sockets;
    uint32_t registered;
    struct epoll_event batch[EPOLL_BATCH];
};

netcore_result nci_poller_create(const netcore_allocator *allocator, uint32_t max_sockets,
                                 nci_poller **out_poller)
{
    if (!out_poller || max_sockets == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_poller *p = nci_calloc(allocator, 1, sizeof *p);
    if (!p)
        return NETCORE_ERR_OUT_OF_MEMORY;
    p->allocator = *allocator;
    p->max_sockets = max_sockets;
    p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    if (p->epoll_fd < 0) {
        nci_free(allocator, p);
        return NETCORE_ERR_SOCKET;
    }
    *out_poller = p;
    return NETCORE_OK;
}

void nci_poller_destroy(nci_poller *poller)
{
    if (!poller)
        return;
    close(poller->epoll_fd);
    netcore_allocator allocator = poller->allocator;
    nci_free(&allocator, poller);
}

static uint32_t to_epoll(uint32_t events)
{
    return ((events & NCI_POLL_IN) ? (uint32_t)EPOLLIN : 0u) |
           ((events & NCI_POLL_OUT) ? (uint32_t)EPOLLOUT : 0u);
}

netcore_result nci_poller_set(nci_poller *poller, nci_socket socket, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {.events = to_epoll(events), .data.u64 = data};
    if (epoll_ctl(poller->epoll_fd, EPOLL_CTL_MOD, socket, &ev) == 0)
        return NETCORE_OK;
    if (errno != ENOENT)
        return NETCORE_ERR_SOCKET;
    if (poller->registered == poller->max_sockets)
        return NETCORE_ERR_FULL;
    if (epoll_ctl(poller->epoll_fd, EPOLL_CTL_ADD, socket, &ev) != 0)
        return NETCORE_ERR_SOCKET;
    poller->registered++;
    return NETCORE_OK;
}

netcore_result nci_poller_remove(nci_poller *poller, nci_socket socket)
{
    if (epoll_ctl(poller->epoll_fd, EPOLL_CTL_DEL, socket, NULL) != 0)
        return errno == ENOENT || errno == EBADF ? NETCORE_ERR_NOT_FOUND : NETCORE_ERR_SOCKET;
    poller->registered--;
    return NETCORE_OK;
}

int nci_poller_wait(nci_poller *poller, nci_poll_event *events, uint32_t max_events,
                    uint32_t timeout_ms)
{
    int capacity = (int)(max_events < EPOLL_BATCH ? max_events : EPOLL_BATCH);
    if (capacity == 0)
        return 0;
    int timeout = timeout_ms > (uint32_t)INT32_MAX ? INT32_MAX : (int)timeout_ms;
    int n = epoll_wait(poller->epoll_fd, poller->batch, capacity, timeout);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        uint32_t e = poller->batch[i].events;
        events[i].data = poller->batch[i].data.u64;
        events[i].events = ((e & (EPOLLIN | EPOLLRDHUP)) ? NCI_POLL_IN : 0u) |
                           ((e & EPOLLOUT) ? NCI_POLL_OUT : 0u) |
                           ((e & (EPOLLERR | EPOLLHUP)) ? NCI_POLL_ERR : 0u);
    }
    return n;
}
