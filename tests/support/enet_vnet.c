/* A datagram-level simulated network under real ENet (see enet_vnet.h).
 *
 * Each virtual socket owns an outgoing conditioner link (a datagram's tag is
 * its destination address) and an incoming one (tagged with the source). A
 * datagram leaving the sender's outgoing link enters the receiver's incoming
 * link at that time, and leaves it into the socket's bounded receive queue,
 * as the simulated backend's network does; both moves happen whenever the
 * clock moves or a socket is read, so a send at time t over unimpaired links
 * is receivable at t. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <enet/enet.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enet_vnet.h"
#include "transport/conditioner.h"

#define VNET_MAX_SOCKETS 64
#define VNET_QUEUE_DATAGRAMS 512u
#define VNET_MAX_DATAGRAM_BYTES 4096u
#define VNET_LOOPBACK_HOST 0x0100007fu /* 127.0.0.1 in network order */
#define VNET_FIRST_EPHEMERAL_PORT 40000u

typedef struct vnet_datagram {
    ENetAddress from;
    uint32_t size_bytes;
    uint8_t data[VNET_MAX_DATAGRAM_BYTES];
} vnet_datagram;

typedef struct vnet_socket {
    bool open;
    bool bound;
    int fd; /* a real descriptor of /dev/null: keeps the number unique in the process */
    ENetAddress address;
    nci_link *link;    /* datagrams this socket sent, tagged with their destination */
    nci_link *inbound; /* datagrams on their way in, tagged with their source */
    vnet_datagram *queue;
    uint32_t queue_head;
    uint32_t queue_count;
} vnet_socket;

typedef struct vnet {
    uint64_t seed;
    uint32_t now_ms;
    uint32_t random_seeds_given;
    uint16_t next_port;
    netcore_link_profile profile;
    netcore_allocator allocator; /* zeroed: malloc and free */
    vnet_socket sockets[VNET_MAX_SOCKETS];
    enet_vnet_stats stats;
} vnet;

static vnet *active;

/* ------------------------------------------------------------------ */
/* The real functions, for calls while no vnet is active               */
/* ------------------------------------------------------------------ */

#define REAL(name) ((__typeof__(&name))real_symbol(#name))

static void *real_symbol(const char *name)
{
    void *fn = dlsym(RTLD_NEXT, name);
    if (!fn)
        abort(); /* the program is not linked with libenet.so: nothing to forward to */
    return fn;
}

static vnet_socket *virtual_socket(ENetSocket fd)
{
    if (!active)
        return NULL;
    for (size_t i = 0; i < VNET_MAX_SOCKETS; i++)
        if (active->sockets[i].open && active->sockets[i].fd == fd)
            return &active->sockets[i];
    return NULL;
}

static vnet_socket *socket_at(const ENetAddress *address)
{
    for (size_t i = 0; i < VNET_MAX_SOCKETS; i++) {
        vnet_socket *s = &active->sockets[i];
        if (s->open && s->bound && s->address.port == address->port &&
            (s->address.host == address->host || s->address.host == ENET_HOST_ANY))
            return s;
    }
    return NULL;
}

static uint64_t address_tag(const ENetAddress *address)
{
    return ((uint64_t)address->host << 16) | address->port;
}

static ENetAddress tag_address(uint64_t tag)
{
    ENetAddress a = {.host = (enet_uint32)(tag >> 16), .port = (enet_uint16)(tag & 0xffffu)};
    return a;
}

static void bind_ephemeral(vnet_socket *s)
{
    s->address.host = VNET_LOOPBACK_HOST;
    s->address.port = active->next_port++;
    s->bound = true;
}

static vnet_socket *socket_by_address(const ENetAddress *address)
{
    for (size_t i = 0; i < VNET_MAX_SOCKETS; i++) {
        vnet_socket *s = &active->sockets[i];
        if (s->open && s->bound && s->address.port == address->port &&
            s->address.host == address->host)
            return s;
    }
    return NULL;
}

/* Moves what leaves sender's outgoing link by until_us into the receivers'
 * incoming links, at the time it left. */
static void forward_from(vnet_socket *sender, uint64_t until_us)
{
    nci_link_datagram d;
    while (nci_link_pop_due(sender->link, until_us, &d)) {
        ENetAddress to = tag_address(d.tag);
        vnet_socket *receiver = socket_at(&to);
        if (!receiver || nci_link_submit(receiver->inbound, d.deliver_at_us,
                                         address_tag(&sender->address), d.data, d.size_bytes) == 0)
            active->stats.datagrams_dropped++;
    }
}

/* Moves every datagram due by now from the outgoing links into the
 * receivers' incoming links, then from those into receive queues. */
static void pump(void)
{
    uint64_t now_us = (uint64_t)active->now_ms * 1000u;
    nci_link_datagram d;
    for (size_t i = 0; i < VNET_MAX_SOCKETS; i++)
        if (active->sockets[i].open)
            forward_from(&active->sockets[i], now_us);
    for (size_t i = 0; i < VNET_MAX_SOCKETS; i++) {
        vnet_socket *receiver = &active->sockets[i];
        if (!receiver->open)
            continue;
        while (nci_link_pop_due(receiver->inbound, now_us, &d)) {
            if (receiver->queue_count == VNET_QUEUE_DATAGRAMS) {
                active->stats.datagrams_dropped++;
                continue;
            }
            uint32_t slot = (receiver->queue_head + receiver->queue_count) % VNET_QUEUE_DATAGRAMS;
            vnet_datagram *q = &receiver->queue[slot];
            q->from = tag_address(d.tag);
            q->size_bytes = d.size_bytes;
            memcpy(q->data, d.data, d.size_bytes);
            receiver->queue_count++;
            active->stats.datagrams_delivered++;
        }
    }
}

/* ------------------------------------------------------------------ */
/* ENet's platform functions                                           */
/* ------------------------------------------------------------------ */

enet_uint32 enet_time_get(void)
{
    return active ? active->now_ms : REAL(enet_time_get)();
}

void enet_time_set(enet_uint32 new_time_base)
{
    if (active)
        active->now_ms = new_time_base;
    else
        REAL(enet_time_set)(new_time_base);
}

enet_uint32 enet_host_random_seed(void)
{
    if (!active)
        return REAL(enet_host_random_seed)();
    active->random_seeds_given++;
    return (enet_uint32)(active->seed * 2654435761u) ^ active->random_seeds_given;
}

ENetSocket enet_socket_create(ENetSocketType type)
{
    if (!active || type != ENET_SOCKET_TYPE_DATAGRAM)
        return REAL(enet_socket_create)(type);
    for (size_t i = 0; i < VNET_MAX_SOCKETS; i++) {
        vnet_socket *s = &active->sockets[i];
        if (s->open)
            continue;
        memset(s, 0, sizeof *s);
        s->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        s->queue = calloc(VNET_QUEUE_DATAGRAMS, sizeof *s->queue);
        if (s->fd < 0 || !s->queue ||
            nci_link_create(&active->allocator, active->seed * 1000003u + i,
                            VNET_MAX_DATAGRAM_BYTES, 4096, &s->link) != NETCORE_OK ||
            nci_link_create(&active->allocator, active->seed * 1000033u + i + 0x5151u,
                            VNET_MAX_DATAGRAM_BYTES, 4096, &s->inbound) != NETCORE_OK) {
            if (s->fd >= 0)
                close(s->fd);
            free(s->queue);
            nci_link_destroy(s->link);
            memset(s, 0, sizeof *s);
            return ENET_SOCKET_NULL;
        }
        nci_link_set_profile(s->link, &active->profile);
        s->open = true;
        return s->fd;
    }
    return ENET_SOCKET_NULL;
}

void enet_socket_destroy(ENetSocket fd)
{
    vnet_socket *s = virtual_socket(fd);
    if (!s) {
        REAL(enet_socket_destroy)(fd);
        return;
    }
    /* What was sent keeps travelling (a host's last words are sent just
     * before its socket closes), as on a real network. */
    s->open = false;
    forward_from(s, UINT64_MAX);
    nci_link_destroy(s->link);
    nci_link_destroy(s->inbound);
    free(s->queue);
    close(s->fd);
    memset(s, 0, sizeof *s);
}

int enet_socket_bind(ENetSocket fd, const ENetAddress *address)
{
    vnet_socket *s = virtual_socket(fd);
    if (!s)
        return REAL(enet_socket_bind)(fd, address);
    if (!address || address->port == 0) {
        bind_ephemeral(s);
        if (address && address->host != ENET_HOST_ANY)
            s->address.host = address->host;
        return 0;
    }
    if (socket_at(address))
        return -1; /* address in use */
    s->address = *address;
    if (s->address.host == ENET_HOST_ANY)
        s->address.host = VNET_LOOPBACK_HOST;
    s->bound = true;
    return 0;
}

int enet_socket_get_address(ENetSocket fd, ENetAddress *address)
{
    vnet_socket *s = virtual_socket(fd);
    if (!s)
        return REAL(enet_socket_get_address)(fd, address);
    if (!s->bound)
        bind_ephemeral(s);
    *address = s->address;
    return 0;
}

int enet_socket_set_option(ENetSocket fd, ENetSocketOption option, int value)
{
    return virtual_socket(fd) ? 0 : REAL(enet_socket_set_option)(fd, option, value);
}

int enet_socket_get_option(ENetSocket fd, ENetSocketOption option, int *value)
{
    if (!virtual_socket(fd))
        return REAL(enet_socket_get_option)(fd, option, value);
    *value = 0;
    return 0;
}

int enet_socket_shutdown(ENetSocket fd, ENetSocketShutdown how)
{
    return virtual_socket(fd) ? 0 : REAL(enet_socket_shutdown)(fd, how);
}

int enet_socket_send(ENetSocket fd, const ENetAddress *address, const ENetBuffer *buffers,
                     size_t buffer_count)
{
    vnet_socket *s = virtual_socket(fd);
    if (!s)
        return REAL(enet_socket_send)(fd, address, buffers, buffer_count);
    if (!s->bound)
        bind_ephemeral(s);
    uint8_t datagram[VNET_MAX_DATAGRAM_BYTES];
    size_t size = 0;
    for (size_t i = 0; i < buffer_count; i++) {
        if (buffers[i].dataLength > sizeof datagram - size)
            return -1;
        memcpy(datagram + size, buffers[i].data, buffers[i].dataLength);
        size += buffers[i].dataLength;
    }
    active->stats.datagrams_sent++;
    active->stats.bytes_sent += size;
    if (nci_link_submit(s->link, (uint64_t)active->now_ms * 1000u, address_tag(address), datagram,
                        size) == 0)
        active->stats.datagrams_dropped++;
    return (int)size;
}

int enet_socket_receive(ENetSocket fd, ENetAddress *address, ENetBuffer *buffers,
                        size_t buffer_count)
{
    vnet_socket *s = virtual_socket(fd);
    if (!s)
        return REAL(enet_socket_receive)(fd, address, buffers, buffer_count);
    pump();
    if (s->queue_count == 0)
        return 0;
    vnet_datagram *q = &s->queue[s->queue_head];
    s->queue_head = (s->queue_head + 1) % VNET_QUEUE_DATAGRAMS;
    s->queue_count--;
    if (buffer_count != 1 || buffers[0].dataLength < q->size_bytes)
        return -1; /* ENet always receives into one buffer of its MTU */
    memcpy(buffers[0].data, q->data, q->size_bytes);
    if (address)
        *address = q->from;
    return (int)q->size_bytes;
}

/* Never blocks: virtual time moves only through enet_vnet_advance_ms(). */
int enet_socket_wait(ENetSocket fd, enet_uint32 *condition, enet_uint32 timeout_ms)
{
    vnet_socket *s = virtual_socket(fd);
    if (!s)
        return REAL(enet_socket_wait)(fd, condition, timeout_ms);
    pump();
    bool readable = (*condition & ENET_SOCKET_WAIT_RECEIVE) && s->queue_count > 0;
    *condition = readable ? ENET_SOCKET_WAIT_RECEIVE : ENET_SOCKET_WAIT_NONE;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Control                                                             */
/* ------------------------------------------------------------------ */

bool enet_vnet_begin(uint64_t seed, uint32_t start_ms, const netcore_link_profile *profile)
{
    if (active)
        return false;
    active = calloc(1, sizeof *active);
    if (!active)
        return false;
    active->seed = seed;
    active->now_ms = start_ms;
    active->next_port = VNET_FIRST_EPHEMERAL_PORT;
    if (profile)
        active->profile = *profile;
    return true;
}

void enet_vnet_end(void)
{
    if (!active)
        return;
    for (size_t i = 0; i < VNET_MAX_SOCKETS; i++)
        if (active->sockets[i].open)
            enet_socket_destroy(active->sockets[i].fd);
    free(active);
    active = NULL;
}

void enet_vnet_advance_ms(uint32_t ms)
{
    if (!active)
        return;
    active->now_ms += ms;
    pump();
}

uint32_t enet_vnet_now_ms(void)
{
    return active ? active->now_ms : 0;
}

void enet_vnet_get_stats(enet_vnet_stats *out_stats)
{
    if (active)
        *out_stats = active->stats;
    else
        memset(out_stats, 0, sizeof *out_stats);
}

bool enet_vnet_set_profiles(const netcore_address *socket_address,
                            const netcore_link_profile *inbound,
                            const netcore_link_profile *outbound)
{
    if (!active || !socket_address || socket_address->family != NETCORE_ADDRESS_IPV4)
        return false;
    ENetAddress a;
    memcpy(&a.host, socket_address->bytes, 4);
    a.port = socket_address->port;
    vnet_socket *s = socket_by_address(&a);
    if (!s)
        return false;
    if (inbound)
        nci_link_set_profile(s->inbound, inbound);
    if (outbound)
        nci_link_set_profile(s->link, outbound);
    return true;
}

bool enet_vnet_link_stats(const netcore_address *socket_address,
                          netcore_conditioner_stats *out_inbound,
                          netcore_conditioner_stats *out_outbound)
{
    if (!active || !socket_address || socket_address->family != NETCORE_ADDRESS_IPV4)
        return false;
    ENetAddress a;
    memcpy(&a.host, socket_address->bytes, 4);
    a.port = socket_address->port;
    const vnet_socket *s = socket_by_address(&a);
    if (!s)
        return false;
    nci_link_stats(s->inbound, out_inbound);
    nci_link_stats(s->link, out_outbound);
    return true;
}

uint64_t enet_vnet_clock_us(void *user)
{
    (void)user;
    return active ? (uint64_t)active->now_ms * 1000u : 0;
}
