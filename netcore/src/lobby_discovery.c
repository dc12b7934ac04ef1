/* LAN discovery over UDP: a lobby answers probes with its name, TCP port
 * and counts; a netcore_lobby_discovery sends probes (unicast or broadcast)
 * and collects the answers. Format in docs/lobby-protocol.md. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lobby_internal.h"
#include "net_internal.h"

#define DISCOVERY_MAGIC 0x444c434eu /* bytes 'N' 'C' 'L' 'D' */
#define DISCOVERY_VERSION 1
#define KIND_PROBE 1
#define KIND_ANSWER 2
/* Probes are padded to this size so that an answer (at most 55 bytes) is
 * never larger than the probe that caused it: no reflection amplification. */
#define PROBE_BYTES 64
#define HEADER_BYTES 16
#define MAX_DATAGRAMS_PER_UPDATE 32

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

static void write_header(uint8_t *p, uint8_t kind, uint64_t nonce)
{
    put_le(p, DISCOVERY_MAGIC, 4);
    put_le(p + 4, DISCOVERY_VERSION, 2);
    p[6] = kind;
    p[7] = 0;
    put_le(p + 8, nonce, 8);
}

static bool header_valid(const uint8_t *p, size_t size, uint8_t kind)
{
    return size >= HEADER_BYTES && get_le(p, 4) == DISCOVERY_MAGIC &&
           get_le(p + 4, 2) == DISCOVERY_VERSION && p[6] == kind && p[7] == 0;
}

static int open_udp(const netcore_address *bind_address, bool broadcast)
{
    struct sockaddr_storage ss;
    socklen_t len = nci_address_to_sockaddr(bind_address, &ss);
    if (len == 0)
        return -1;
    int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    int flags = fcntl(fd, F_GETFL, 0);
    if ((broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) != 0) ||
        flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        bind(fd, (struct sockaddr *)&ss, len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* ------------------------------------------------------------------ */
/* Lobby side                                                          */
/* ------------------------------------------------------------------ */

netcore_result nci_lobby_discovery_open(netcore_lobby_server *s)
{
    s->discovery_fd = -1;
    if (!s->config.discovery_enabled)
        return NETCORE_OK;
    netcore_address bind_address = s->config.listen[0];
    if (bind_address.family == NETCORE_ADDRESS_IPV6)
        return NETCORE_ERR_INVALID_ARGUMENT;
    bind_address.port = s->config.discovery_port;
    s->discovery_fd = open_udp(&bind_address, false);
    if (s->discovery_fd < 0)
        return NETCORE_ERR_SOCKET;
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    if (getsockname(s->discovery_fd, (struct sockaddr *)&bound, &len) != 0 ||
        !nci_address_from_sockaddr((struct sockaddr *)&bound, &s->discovery_address))
        return NETCORE_ERR_SOCKET;
    return NETCORE_OK;
}

void nci_lobby_discovery_read(netcore_lobby_server *s)
{
    for (int i = 0; i < MAX_DATAGRAMS_PER_UPDATE; i++) {
        uint8_t probe[PROBE_BYTES + 1];
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(s->discovery_fd, probe, sizeof probe, 0, (struct sockaddr *)&from,
                             &from_len);
        if (n < 0)
            return;
        bool padding_zero = true;
        for (ssize_t k = HEADER_BYTES; k < n; k++)
            padding_zero = padding_zero && probe[k] == 0;
        if (n != PROBE_BYTES || !header_valid(probe, (size_t)n, KIND_PROBE) || !padding_zero) {
            s->stats.discovery_dropped++;
            continue;
        }
        netcore_lobby_server_stats counts;
        netcore_lobby_server_get_stats(s, &counts);
        uint8_t answer[PROBE_BYTES];
        write_header(answer, KIND_ANSWER, get_le(probe + 8, 8));
        put_le(answer + 16, s->listen_addresses[0].port, 2);
        put_le(answer + 18, counts.sessions > UINT16_MAX ? UINT16_MAX : counts.sessions, 2);
        put_le(answer + 20, counts.rooms > UINT16_MAX ? UINT16_MAX : counts.rooms, 2);
        size_t name_len = strnlen(s->config.lobby_name, NETCORE_LOBBY_NAME_MAX);
        answer[22] = (uint8_t)name_len;
        memcpy(answer + 23, s->config.lobby_name, name_len);
        (void)sendto(s->discovery_fd, answer, 23 + name_len, 0, (struct sockaddr *)&from, from_len);
        s->stats.discovery_answered++;
    }
}

netcore_result netcore_lobby_server_discovery_address(const netcore_lobby_server *server,
                                                      netcore_address *out_address)
{
    if (!server || !out_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (server->discovery_fd < 0)
        return NETCORE_ERR_STATE;
    *out_address = server->discovery_address;
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Client side                                                         */
/* ------------------------------------------------------------------ */

struct netcore_lobby_discovery {
    netcore_allocator allocator;
    int fd;
    uint64_t nonce; /* random per object: answers to someone else's probes are ignored */
    netcore_lobby_found found[NETCORE_LOBBY_DISCOVERY_MAX];
    size_t found_count;
};

netcore_result netcore_lobby_discovery_create(const netcore_allocator *allocator,
                                              netcore_lobby_discovery **out_discovery)
{
    if (!out_discovery)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_discovery = NULL;
    netcore_allocator a;
    memset(&a, 0, sizeof a);
    if (allocator)
        a = *allocator;
    if (sodium_init() < 0)
        return NETCORE_ERR_BACKEND;
    netcore_lobby_discovery *d = nci_calloc(&a, 1, sizeof *d);
    if (!d)
        return NETCORE_ERR_OUT_OF_MEMORY;
    d->allocator = a;
    netcore_address any = netcore_address_ipv4(0, 0, 0, 0, 0);
    d->fd = open_udp(&any, true);
    if (d->fd < 0) {
        nci_free(&a, d);
        return NETCORE_ERR_SOCKET;
    }
    randombytes_buf(&d->nonce, sizeof d->nonce);
    *out_discovery = d;
    return NETCORE_OK;
}

void netcore_lobby_discovery_destroy(netcore_lobby_discovery *discovery)
{
    if (!discovery)
        return;
    close(discovery->fd);
    netcore_allocator a = discovery->allocator;
    nci_free(&a, discovery);
}

netcore_result netcore_lobby_discovery_probe(netcore_lobby_discovery *discovery,
                                             const netcore_address *to)
{
    if (!discovery || !to || to->family != NETCORE_ADDRESS_IPV4)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint8_t probe[PROBE_BYTES];
    memset(probe, 0, sizeof probe);
    write_header(probe, KIND_PROBE, discovery->nonce);
    struct sockaddr_storage ss;
    socklen_t len = nci_address_to_sockaddr(to, &ss);
    if (sendto(discovery->fd, probe, sizeof probe, 0, (struct sockaddr *)&ss, len) !=
        (ssize_t)sizeof probe)
        return NETCORE_ERR_SOCKET;
    return NETCORE_OK;
}

static void record_answer(netcore_lobby_discovery *d, const uint8_t *p, size_t n,
                          const netcore_address *from, uint64_t now_ms)
{
    if (n < 23 || !header_valid(p, n, KIND_ANSWER) || get_le(p + 8, 8) != d->nonce)
        return;
    size_t name_len = p[22];
    char name[NETCORE_LOBBY_NAME_MAX + 1];
    if (name_len > NETCORE_LOBBY_NAME_MAX || n != 23 + name_len)
        return;
    memcpy(name, p + 23, name_len);
    name[name_len] = '\0';
    if (!nci_lobby_text_valid(name, NETCORE_LOBBY_NAME_MAX, false))
        return;
    netcore_address lobby = *from;
    lobby.port = (uint16_t)get_le(p + 16, 2);
    netcore_lobby_found *entry = NULL;
    for (size_t i = 0; i < d->found_count && !entry; i++)
        if (netcore_address_equal(&d->found[i].lobby_address, &lobby))
            entry = &d->found[i];
    if (!entry) {
        if (d->found_count == NETCORE_LOBBY_DISCOVERY_MAX)
            return;
        entry = &d->found[d->found_count++];
    }
    entry->lobby_address = lobby;
    memcpy(entry->name, name, name_len + 1);
    entry->players = (uint16_t)get_le(p + 18, 2);
    entry->rooms = (uint16_t)get_le(p + 20, 2);
    entry->last_seen_ms = now_ms;
}

netcore_result netcore_lobby_discovery_update(netcore_lobby_discovery *discovery, uint64_t now_ms)
{
    if (!discovery)
        return NETCORE_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < MAX_DATAGRAMS_PER_UPDATE; i++) {
        uint8_t answer[PROBE_BYTES + 1];
        struct sockaddr_storage from;
        socklen_t from_len = sizeof from;
        ssize_t n = recvfrom(discovery->fd, answer, sizeof answer, 0, (struct sockaddr *)&from,
                             &from_len);
        if (n < 0)
            break;
        netcore_address from_address;
        if (nci_address_from_sockaddr((struct sockaddr *)&from, &from_address))
            record_answer(discovery, answer, (size_t)n, &from_address, now_ms);
    }
    return NETCORE_OK;
}

netcore_result netcore_lobby_discovery_results(const netcore_lobby_discovery *discovery,
                                               const netcore_lobby_found **out_found,
                                               size_t *out_count)
{
    if (!discovery || !out_found || !out_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_found = discovery->found;
    *out_count = discovery->found_count;
    return NETCORE_OK;
}
