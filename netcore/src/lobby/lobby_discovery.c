/* LAN discovery over UDP: a lobby answers probes with its name, TCP port
 * and counts; a netcore_lobby_discovery sends probes (unicast or broadcast)
 * and collects the answers. Format in docs/lobby-protocol.md. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <sodium.h>
#include <string.h>

#include "lobby/lobby_internal.h"

#define DISCOVERY_MAGIC 0x444c434eu /* bytes 'N' 'C' 'L' 'D' */
#define DISCOVERY_VERSION 2
#define KIND_PROBE 1
#define KIND_ANSWER 2
#define HEADER_BYTES 16
/* Version 1: u16 TCP port, u16 players, u16 rooms, u8 name length, name. */
#define ANSWER_V1_FIXED_BYTES (HEADER_BYTES + 7)
/* Version 2 adds, before the name length: u8 flags (bit 0: TLS), bytes[32] pin. */
#define ANSWER_FIXED_BYTES (HEADER_BYTES + 6 + 1 + NETCORE_LOBBY_TLS_PIN_BYTES + 1)
#define MAX_DATAGRAMS_PER_UPDATE 32

_Static_assert(ANSWER_V1_FIXED_BYTES + NETCORE_LOBBY_NAME_MAX <= NCI_LOBBY_PROBE_V1_BYTES &&
                   ANSWER_FIXED_BYTES + NETCORE_LOBBY_NAME_MAX <= NCI_LOBBY_PROBE_BYTES,
               "an answer must never be larger than the probe that caused it");

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

static void write_header(uint8_t *p, uint16_t version, uint8_t kind, uint64_t nonce)
{
    put_le(p, DISCOVERY_MAGIC, 4);
    put_le(p + 4, version, 2);
    p[6] = kind;
    p[7] = 0;
    put_le(p + 8, nonce, 8);
}

/* The version of a valid header of this kind (1 or 2), 0 otherwise. */
static uint16_t header_version(const uint8_t *p, size_t size, uint8_t kind)
{
    if (size < HEADER_BYTES || get_le(p, 4) != DISCOVERY_MAGIC || p[6] != kind || p[7] != 0)
        return 0;
    uint16_t version = (uint16_t)get_le(p + 4, 2);
    return version == 1 || version == DISCOVERY_VERSION ? version : 0;
}

/* ------------------------------------------------------------------ */
/* Datagram codec                                                      */
/* ------------------------------------------------------------------ */

void nci_lobby_discovery_encode_probe(uint64_t nonce, uint8_t out[NCI_LOBBY_PROBE_BYTES])
{
    memset(out, 0, NCI_LOBBY_PROBE_BYTES);
    write_header(out, DISCOVERY_VERSION, KIND_PROBE, nonce);
}

bool nci_lobby_discovery_decode_probe(const uint8_t *datagram, size_t size, uint64_t *out_nonce,
                                      uint16_t *out_version)
{
    uint16_t version = header_version(datagram, size, KIND_PROBE);
    if (version == 0 || size != (version == 1 ? NCI_LOBBY_PROBE_V1_BYTES : NCI_LOBBY_PROBE_BYTES))
        return false;
    for (size_t k = HEADER_BYTES; k < size; k++)
        if (datagram[k] != 0)
            return false;
    *out_nonce = get_le(datagram + 8, 8);
    *out_version = version;
    return true;
}

size_t nci_lobby_discovery_encode_answer(const nci_lobby_discovery_answer *answer,
                                         uint8_t out[NCI_LOBBY_PROBE_BYTES])
{
    size_t name_len = strnlen(answer->name, NETCORE_LOBBY_NAME_MAX);
    bool v1 = answer->version == 1;
    write_header(out, v1 ? 1 : DISCOVERY_VERSION, KIND_ANSWER, answer->nonce);
    put_le(out + 16, answer->tcp_port, 2);
    put_le(out + 18, answer->players, 2);
    put_le(out + 20, answer->rooms, 2);
    size_t fixed = v1 ? ANSWER_V1_FIXED_BYTES : ANSWER_FIXED_BYTES;
    if (!v1) {
        out[22] = answer->tls ? 1 : 0;
        memcpy(out + 23, answer->tls_pin, NETCORE_LOBBY_TLS_PIN_BYTES);
    }
    out[fixed - 1] = (uint8_t)name_len;
    memcpy(out + fixed, answer->name, name_len);
    return fixed + name_len;
}

bool nci_lobby_discovery_decode_answer(const uint8_t *datagram, size_t size,
                                       nci_lobby_discovery_answer *out_answer)
{
    uint16_t version = header_version(datagram, size, KIND_ANSWER);
    size_t fixed = version == 1 ? ANSWER_V1_FIXED_BYTES : ANSWER_FIXED_BYTES;
    if (version == 0 || size < fixed)
        return false;
    size_t name_len = datagram[fixed - 1];
    if (name_len > NETCORE_LOBBY_NAME_MAX || size != fixed + name_len)
        return false;
    memset(out_answer, 0, sizeof *out_answer);
    if (version != 1) {
        if (datagram[22] > 1)
            return false;
        out_answer->tls = datagram[22] == 1;
        memcpy(out_answer->tls_pin, datagram + 23, NETCORE_LOBBY_TLS_PIN_BYTES);
    }
    memcpy(out_answer->name, datagram + fixed, name_len);
    out_answer->name[name_len] = '\0';
    /* An embedded NUL would shorten the name: refused like a control byte. */
    if (strlen(out_answer->name) != name_len ||
        !nci_lobby_text_valid(out_answer->name, NETCORE_LOBBY_NAME_MAX, false))
        return false;
    out_answer->version = version;
    out_answer->nonce = get_le(datagram + 8, 8);
    out_answer->tcp_port = (uint16_t)get_le(datagram + 16, 2);
    out_answer->players = (uint16_t)get_le(datagram + 18, 2);
    out_answer->rooms = (uint16_t)get_le(datagram + 20, 2);
    return true;
}

/* ------------------------------------------------------------------ */
/* Lobby side                                                          */
/* ------------------------------------------------------------------ */

netcore_result nci_lobby_discovery_open(netcore_lobby_server *s)
{
    s->discovery_socket = NCI_SOCKET_INVALID;
    s->discovery_ifindex = 0;
    memset(s->discovery_broadcast, 0, sizeof s->discovery_broadcast);
    if (!s->config.discovery_enabled)
        return NETCORE_OK;
    netcore_address listen0 = s->config.listen[0];
    if (listen0.family == NETCORE_ADDRESS_IPV6)
        return NETCORE_ERR_INVALID_ARGUMENT;
    /* The wildcard, whatever listen[0] says: a socket bound to a unicast
     * address never receives broadcasts on Linux. */
    netcore_address any = netcore_address_ipv4(0, 0, 0, 0, s->config.discovery_port);
    if (nci_socket_open_udp(&any, false, &s->discovery_socket) != NETCORE_OK) {
        s->discovery_socket = NCI_SOCKET_INVALID;
        return NETCORE_ERR_SOCKET;
    }
    if (nci_socket_enable_destination(s->discovery_socket) != NETCORE_OK ||
        nci_socket_local_address(s->discovery_socket, &s->discovery_address) != NETCORE_OK)
        return NETCORE_ERR_SOCKET;
    /* Reported as listen[0]'s address: where a unicast probe should go. */
    memcpy(s->discovery_address.bytes, listen0.bytes, 4);
    static const uint8_t wildcard[4] = {0, 0, 0, 0};
    if (memcmp(listen0.bytes, wildcard, 4) != 0) {
        uint32_t index = 0;
        /* Unknown (-1): only probes sent to the address itself are answered. */
        s->discovery_ifindex = -1;
        if (nci_interface_of_ipv4(listen0.bytes, &index, s->discovery_broadcast) == NETCORE_OK)
            s->discovery_ifindex = index;
    }
    return NETCORE_OK;
}

/* With listen[0] naming one address: a probe is for this lobby when it was
 * sent to that address, or to a broadcast address and arrived on the
 * interface that holds it. A lobby on another address of this host (or
 * another interface's subnet) stays silent. */
static bool probe_is_for_us(const netcore_lobby_server *s, const nci_datagram_destination *dst)
{
    static const uint8_t limited_broadcast[4] = {255, 255, 255, 255};
    static const uint8_t none[4] = {0, 0, 0, 0};
    if (s->discovery_ifindex == 0)
        return true;
    if (!dst->known)
        return false;
    if (memcmp(dst->to_ipv4, s->config.listen[0].bytes, 4) == 0)
        return true;
    return (int64_t)dst->interface_index == s->discovery_ifindex &&
           (memcmp(dst->to_ipv4, limited_broadcast, 4) == 0 ||
            (memcmp(s->discovery_broadcast, none, 4) != 0 &&
             memcmp(dst->to_ipv4, s->discovery_broadcast, 4) == 0));
}

void nci_lobby_discovery_read(netcore_lobby_server *s)
{
    for (int i = 0; i < MAX_DATAGRAMS_PER_UPDATE; i++) {
        uint8_t probe[NCI_LOBBY_PROBE_BYTES + 1];
        size_t n = 0;
        netcore_address from;
        nci_datagram_destination dst;
        if (nci_socket_recv_from_destination(s->discovery_socket, probe, sizeof probe, &n, &from,
                                             &dst) != NCI_IO_DONE)
            return;
        nci_lobby_discovery_answer answer;
        memset(&answer, 0, sizeof answer);
        if (!probe_is_for_us(s, &dst) ||
            !nci_lobby_discovery_decode_probe(probe, n, &answer.nonce, &answer.version)) {
            s->stats.discovery_dropped++;
            continue;
        }
        netcore_lobby_server_stats counts;
        netcore_lobby_server_get_stats(s, &counts);
        answer.tcp_port = s->listen_addresses[0].port;
        answer.players = counts.sessions > UINT16_MAX ? UINT16_MAX : (uint16_t)counts.sessions;
        answer.rooms = counts.rooms > UINT16_MAX ? UINT16_MAX : (uint16_t)counts.rooms;
        answer.tls = s->tls_context != NULL;
        memcpy(answer.tls_pin, s->config.discovery_tls_pin, sizeof answer.tls_pin);
        memcpy(answer.name, s->config.lobby_name, sizeof answer.name);
        answer.name[NETCORE_LOBBY_NAME_MAX] = '\0';
        uint8_t datagram[NCI_LOBBY_PROBE_BYTES];
        size_t size = nci_lobby_discovery_encode_answer(&answer, datagram);
        /* From listen[0]'s address when it names one, so that the player
         * connects to the address the lobby listens on (all zero: the
         * system's choice). */
        static const uint8_t system_choice[4] = {0, 0, 0, 0};
        (void)nci_socket_send_to_from(s->discovery_socket, datagram, size, &from,
                                      s->discovery_ifindex != 0 ? s->config.listen[0].bytes
                                                                : system_choice);
        s->stats.discovery_answered++;
    }
}

netcore_result netcore_lobby_server_discovery_address(const netcore_lobby_server *server,
                                                      netcore_address *out_address)
{
    if (!server || !out_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (server->discovery_socket == NCI_SOCKET_INVALID)
        return NETCORE_ERR_STATE;
    *out_address = server->discovery_address;
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Client side                                                         */
/* ------------------------------------------------------------------ */

struct netcore_lobby_discovery {
    netcore_allocator allocator;
    nci_socket socket;
    uint64_t nonce; /* random per object: answers to someone else's probes are ignored */
    netcore_lobby_found found[NETCORE_LOBBY_DISCOVERY_MAX];
    size_t found_count;
};

void netcore_lobby_discovery_config_default(netcore_lobby_discovery_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
}

netcore_result netcore_lobby_discovery_create(const netcore_lobby_discovery_config *config,
                                              netcore_lobby_discovery **out_discovery)
{
    if (!out_discovery)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_discovery = NULL;
    if (!config)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_allocator a = config->allocator;
    if (sodium_init() < 0)
        return NETCORE_ERR_BACKEND;
    netcore_lobby_discovery *d = nci_calloc(&a, 1, sizeof *d);
    if (!d)
        return NETCORE_ERR_OUT_OF_MEMORY;
    d->allocator = a;
    d->socket = NCI_SOCKET_INVALID;
    if (nci_platform_startup() != NETCORE_OK) {
        nci_free(&a, d);
        return NETCORE_ERR_SOCKET;
    }
    netcore_address any = netcore_address_ipv4(0, 0, 0, 0, 0);
    if (nci_socket_open_udp(&any, false, &d->socket) != NETCORE_OK ||
        nci_socket_set_option(d->socket, NCI_SOCKOPT_BROADCAST, 1) != NETCORE_OK) {
        nci_socket_close(d->socket);
        nci_platform_cleanup();
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
    nci_socket_close(discovery->socket);
    netcore_allocator a = discovery->allocator;
    nci_free(&a, discovery);
    nci_platform_cleanup();
}

netcore_result netcore_lobby_discovery_probe(netcore_lobby_discovery *discovery,
                                             const netcore_address *to)
{
    if (!discovery || !to || to->family != NETCORE_ADDRESS_IPV4)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint8_t probe[NCI_LOBBY_PROBE_BYTES];
    nci_lobby_discovery_encode_probe(discovery->nonce, probe);
    /* A datagram leaves whole or not at all. */
    if (nci_socket_send_to(discovery->socket, probe, sizeof probe, to) != NCI_IO_DONE)
        return NETCORE_ERR_SOCKET;
    return NETCORE_OK;
}

static void record_answer(netcore_lobby_discovery *d, const uint8_t *p, size_t n,
                          const netcore_address *from, uint64_t now_us)
{
    nci_lobby_discovery_answer answer;
    if (!nci_lobby_discovery_decode_answer(p, n, &answer) || answer.nonce != d->nonce)
        return;
    netcore_address lobby = *from;
    lobby.port = answer.tcp_port;
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
    memcpy(entry->name, answer.name, sizeof entry->name);
    entry->players = answer.players;
    entry->rooms = answer.rooms;
    entry->tls = answer.tls;
    memcpy(entry->tls_pin, answer.tls_pin, sizeof entry->tls_pin);
    entry->last_seen_us = now_us;
}

netcore_result netcore_lobby_discovery_update(netcore_lobby_discovery *discovery, uint64_t now_us)
{
    if (!discovery)
        return NETCORE_ERR_INVALID_ARGUMENT;
    for (int i = 0; i < MAX_DATAGRAMS_PER_UPDATE; i++) {
        uint8_t answer[NCI_LOBBY_PROBE_BYTES + 1];
        size_t n = 0;
        netcore_address from_address;
        if (nci_socket_recv_from(discovery->socket, answer, sizeof answer, &n, &from_address) !=
            NCI_IO_DONE)
            break;
        if (from_address.family != NETCORE_ADDRESS_NONE)
            record_answer(discovery, answer, n, &from_address, now_us);
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
