/* UDP impairment relay: a listen socket for clients, one upstream socket per
 * client session, and two link conditioners (client -> target upstream,
 * target -> client downstream). Nothing global, nothing printed: everything
 * the relay has to say goes through config.log or the stats.
 *
 * Sessions live in a table fixed at create (max_sessions), found by client
 * address through a chained hash. A datagram's link tag is the session's
 * index plus a generation, so datagrams still in flight for a closed session
 * can never reach the client that later reuses its slot. */
#include <string.h>

#include "core/core_internal.h"
#include "platform/poller.h"
#include "platform/socket.h"
#include "transport/conditioner.h"
#include "transport/relay.h"

#define RELAY_DEFAULT_MAX_SESSIONS 256u
#define RELAY_DEFAULT_IDLE_TIMEOUT_MS 60000u
#define RELAY_DEFAULT_MAX_DATAGRAM_BYTES 4096u
#define RELAY_DEFAULT_MAX_QUEUED 65536u
#define RELAY_MAX_DATAGRAM_BYTES 65535u
/* Datagrams read from one socket per update, so a flood on one socket cannot
 * keep the relay from sending what is due. */
#define RELAY_RECV_BUDGET 1024u
#define RELAY_SOCKET_BUFFER_BYTES (1 << 20)
#define RELAY_LOG_INTERVAL_US 1000000u
#define RELAY_NO_SESSION (-1)
/* Poller data of the listen socket; a session socket carries its index. */
#define RELAY_LISTEN_DATA UINT64_MAX

typedef struct relay_session {
    bool active;
    nci_socket socket;
    uint32_t generation;
    int32_t next_in_bucket;
    uint64_t last_active_us;
    netcore_address client;
    netcore_address upstream_local; /* the source address the target sees */
} relay_session;

struct nci_relay {
    nci_relay_config config;
    nci_socket listen_socket;
    nci_poller *poller; /* the listen socket and every session socket */
    nci_link *upstream;
    nci_link *downstream;

    relay_session *sessions; /* max_sessions */
    uint32_t *free_sessions; /* stack of inactive indices */
    uint32_t free_count;
    int32_t *buckets; /* heads of the hash chains */
    uint32_t bucket_mask;

    nci_poll_event *events; /* 1 + max_sessions: every socket may be ready at once */
    uint8_t *buffer;        /* max_datagram_bytes + 1, so oversize shows */

    uint32_t sessions_active;
    uint64_t sessions_opened;
    uint64_t sessions_refused;
    uint64_t sessions_expired;
    nci_log_limiter error_limiter;
};

/* ------------------------------------------------------------------ */
/* Helpers                                                              */
/* ------------------------------------------------------------------ */

static uint64_t session_tag(const nci_relay *relay, uint32_t index)
{
    return ((uint64_t)relay->sessions[index].generation << 32) | index;
}

static uint32_t address_hash(const netcore_address *address)
{
    /* FNV-1a over family, port and the address bytes. */
    uint32_t hash = 2166136261u;
    uint8_t head[3] = {address->family, (uint8_t)(address->port >> 8), (uint8_t)address->port};
    for (size_t i = 0; i < sizeof head; i++)
        hash = (hash ^ head[i]) * 16777619u;
    size_t n = address->family == NETCORE_ADDRESS_IPV6 ? 16 : 4;
    for (size_t i = 0; i < n; i++)
        hash = (hash ^ address->bytes[i]) * 16777619u;
    return hash;
}

static bool profile_valid(const netcore_link_profile *p)
{
    /* Written as !(x >= 0 && x <= 100) so NaN is rejected too. */
    return !(!(p->loss_pct >= 0.0f && p->loss_pct <= 100.0f) ||
             !(p->duplicate_pct >= 0.0f && p->duplicate_pct <= 100.0f) ||
             !(p->reorder_pct >= 0.0f && p->reorder_pct <= 100.0f));
}

/* A UDP socket bound to address with large buffers (they absorb bursts; a
 * refusal only costs burst tolerance). */
static netcore_result open_bound_socket(const netcore_address *address, nci_socket *out_socket)
{
    netcore_result r = nci_socket_open_udp(address, false, out_socket);
    if (r != NETCORE_OK)
        return r;
    (void)nci_socket_set_option(*out_socket, NCI_SOCKOPT_RECV_BUFFER, RELAY_SOCKET_BUFFER_BYTES);
    (void)nci_socket_set_option(*out_socket, NCI_SOCKOPT_SEND_BUFFER, RELAY_SOCKET_BUFFER_BYTES);
    return NETCORE_OK;
}

static void log_socket_error(nci_relay *relay, uint64_t now_us, const char *what)
{
    if (!nci_log_limit_allow(&relay->error_limiter, now_us, RELAY_LOG_INTERVAL_US))
        return;
    char text[128];
    nci_logf(&relay->config.log, NETCORE_LOG_WARN, "relay: %s failed: %s (%llu similar suppressed)",
             what, nci_socket_error_str(nci_socket_last_error(), text, sizeof text),
             (unsigned long long)relay->error_limiter.suppressed);
}

/* ------------------------------------------------------------------ */
/* Sessions                                                             */
/* ------------------------------------------------------------------ */

static int32_t session_find(const nci_relay *relay, const netcore_address *client)
{
    int32_t index = relay->buckets[address_hash(client) & relay->bucket_mask];
    while (index != RELAY_NO_SESSION) {
        const relay_session *s = &relay->sessions[index];
        if (netcore_address_equal(&s->client, client))
            return index;
        index = s->next_in_bucket;
    }
    return RELAY_NO_SESSION;
}

/* The upstream socket bind address: upstream_bind with port 0, or the
 * wildcard address of the forward target's family. */
static netcore_address upstream_bind_address(const nci_relay *relay)
{
    netcore_address bind_address = relay->config.upstream_bind;
    if (bind_address.family == NETCORE_ADDRESS_NONE) {
        memset(&bind_address, 0, sizeof bind_address);
        bind_address.family = relay->config.forward.family;
    }
    bind_address.port = 0;
    return bind_address;
}

static int32_t session_open(nci_relay *relay, uint64_t now_us, const netcore_address *client)
{
    if (relay->free_count == 0) {
        relay->sessions_refused++;
        return RELAY_NO_SESSION;
    }
    netcore_address bind_address = upstream_bind_address(relay);
    nci_socket socket = NCI_SOCKET_INVALID;
    uint32_t index = relay->free_sessions[relay->free_count - 1];
    /* Connecting makes the system pick the source address the target will see
     * (so the local address reports it) and filters out anyone but the target. */
    if (open_bound_socket(&bind_address, &socket) != NETCORE_OK ||
        nci_socket_connect_datagram(socket, &relay->config.forward) != NETCORE_OK ||
        nci_poller_set(relay->poller, socket, NCI_POLL_IN, index) != NETCORE_OK) {
        log_socket_error(relay, now_us, "opening an upstream socket");
        nci_socket_close(socket);
        return RELAY_NO_SESSION;
    }
    relay->free_count--;
    relay_session *s = &relay->sessions[index];
    s->active = true;
    s->socket = socket;
    s->generation++;
    s->last_active_us = now_us;
    s->client = *client;
    if (nci_socket_local_address(socket, &s->upstream_local) != NETCORE_OK)
        memset(&s->upstream_local, 0, sizeof s->upstream_local);
    uint32_t bucket = address_hash(client) & relay->bucket_mask;
    s->next_in_bucket = relay->buckets[bucket];
    relay->buckets[bucket] = (int32_t)index;
    relay->sessions_active++;
    relay->sessions_opened++;

    if (relay->config.log.fn && relay->config.log.min_level <= NETCORE_LOG_DEBUG) {
        char client_text[NETCORE_ADDRESS_STRLEN], local_text[NETCORE_ADDRESS_STRLEN];
        netcore_address_format(client, client_text, sizeof client_text);
        netcore_address_format(&s->upstream_local, local_text, sizeof local_text);
        nci_logf(&relay->config.log, NETCORE_LOG_DEBUG, "relay: session %u opened for %s via %s",
                 index, client_text, local_text);
    }
    return (int32_t)index;
}

static void session_close(nci_relay *relay, uint32_t index)
{
    relay_session *s = &relay->sessions[index];
    nci_link_discard_tag(relay->upstream, session_tag(relay, index));
    nci_link_discard_tag(relay->downstream, session_tag(relay, index));
    int32_t *link = &relay->buckets[address_hash(&s->client) & relay->bucket_mask];
    while (*link != RELAY_NO_SESSION && *link != (int32_t)index)
        link = &relay->sessions[*link].next_in_bucket;
    if (*link == (int32_t)index)
        *link = s->next_in_bucket;
    (void)nci_poller_remove(relay->poller, s->socket);
    nci_socket_close(s->socket);
    s->socket = NCI_SOCKET_INVALID;
    s->active = false;
    s->next_in_bucket = RELAY_NO_SESSION;
    relay->free_sessions[relay->free_count++] = index;
    relay->sessions_active--;
}

/* Resolves a link tag to a live session index, or RELAY_NO_SESSION. */
static int32_t session_from_tag(const nci_relay *relay, uint64_t tag)
{
    uint32_t index = (uint32_t)(tag & 0xffffffffu);
    if (index >= relay->config.max_sessions)
        return RELAY_NO_SESSION;
    const relay_session *s = &relay->sessions[index];
    if (!s->active || s->generation != (uint32_t)(tag >> 32))
        return RELAY_NO_SESSION;
    return (int32_t)index;
}

/* ------------------------------------------------------------------ */
/* Traffic                                                              */
/* ------------------------------------------------------------------ */

static void receive_from_clients(nci_relay *relay, uint64_t now_us)
{
    size_t capacity = (size_t)relay->config.max_datagram_bytes + 1;
    for (uint32_t n = 0; n < RELAY_RECV_BUDGET; n++) {
        netcore_address client;
        size_t got;
        nci_io io =
            nci_socket_recv_from(relay->listen_socket, relay->buffer, capacity, &got, &client);
        if (io == NCI_IO_REFUSED)
            continue;
        if (io != NCI_IO_DONE) {
            if (io != NCI_IO_WOULD_BLOCK)
                log_socket_error(relay, now_us, "receiving from a client");
            return;
        }
        if (client.family == NETCORE_ADDRESS_NONE)
            continue;
        int32_t index = session_find(relay, &client);
        if (index == RELAY_NO_SESSION)
            index = session_open(relay, now_us, &client);
        if (index == RELAY_NO_SESSION)
            continue;
        relay->sessions[index].last_active_us = now_us;
        /* An oversize datagram arrives truncated to max + 1 bytes; the link
         * rejects it and counts it as overflow. */
        nci_link_submit(relay->upstream, now_us, session_tag(relay, (uint32_t)index), relay->buffer,
                        got);
    }
}

static void receive_from_target(nci_relay *relay, uint32_t index, uint64_t now_us)
{
    relay_session *s = &relay->sessions[index];
    size_t capacity = (size_t)relay->config.max_datagram_bytes + 1;
    for (uint32_t n = 0; n < RELAY_RECV_BUDGET; n++) {
        size_t got;
        nci_io io = nci_socket_recv(s->socket, relay->buffer, capacity, &got);
        /* A connected UDP socket reports an earlier ICMP "port unreachable"
         * once as a refusal; the target may simply not be up yet. */
        if (io == NCI_IO_REFUSED)
            continue;
        if (io != NCI_IO_DONE) {
            if (io != NCI_IO_WOULD_BLOCK)
                log_socket_error(relay, now_us, "receiving from the target");
            return;
        }
        s->last_active_us = now_us;
        nci_link_submit(relay->downstream, now_us, session_tag(relay, index), relay->buffer, got);
    }
}

static void send_due(nci_relay *relay, uint64_t now_us)
{
    nci_link_datagram d;
    while (nci_link_pop_due(relay->upstream, now_us, &d)) {
        int32_t index = session_from_tag(relay, d.tag);
        if (index == RELAY_NO_SESSION)
            continue;
        size_t sent;
        nci_io io = nci_socket_send(relay->sessions[index].socket, d.data, d.size_bytes, &sent);
        if (io != NCI_IO_DONE && io != NCI_IO_REFUSED)
            log_socket_error(relay, now_us, "sending to the target");
    }
    while (nci_link_pop_due(relay->downstream, now_us, &d)) {
        int32_t index = session_from_tag(relay, d.tag);
        if (index == RELAY_NO_SESSION)
            continue;
        if (nci_socket_send_to(relay->listen_socket, d.data, d.size_bytes,
                               &relay->sessions[index].client) != NCI_IO_DONE)
            log_socket_error(relay, now_us, "sending to a client");
    }
}

static void expire_sessions(nci_relay *relay, uint64_t now_us)
{
    uint64_t timeout_us = (uint64_t)relay->config.session_idle_timeout_ms * 1000;
    for (uint32_t i = 0; i < relay->config.max_sessions; i++) {
        relay_session *s = &relay->sessions[i];
        if (!s->active || now_us < s->last_active_us || now_us - s->last_active_us < timeout_us)
            continue;
        nci_logf(&relay->config.log, NETCORE_LOG_DEBUG, "relay: session %u expired", i);
        session_close(relay, i);
        relay->sessions_expired++;
    }
}

/* ------------------------------------------------------------------ */
/* Public functions                                                     */
/* ------------------------------------------------------------------ */

void nci_relay_config_default(nci_relay_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->seed = 1;
    config->max_sessions = RELAY_DEFAULT_MAX_SESSIONS;
    config->session_idle_timeout_ms = RELAY_DEFAULT_IDLE_TIMEOUT_MS;
    config->max_datagram_bytes = RELAY_DEFAULT_MAX_DATAGRAM_BYTES;
    config->max_queued = RELAY_DEFAULT_MAX_QUEUED;
}

static bool config_valid(const nci_relay_config *c)
{
    const netcore_address *fwd = &c->forward;
    bool forward_ok =
        (fwd->family == NETCORE_ADDRESS_IPV4 || fwd->family == NETCORE_ADDRESS_IPV6) &&
        fwd->port != 0;
    bool listen_ok = c->listen.family == NETCORE_ADDRESS_NONE ||
                     c->listen.family == NETCORE_ADDRESS_IPV4 ||
                     c->listen.family == NETCORE_ADDRESS_IPV6;
    bool bind_ok =
        c->upstream_bind.family == NETCORE_ADDRESS_NONE || c->upstream_bind.family == fwd->family;
    bool allocator_ok = (c->allocator.alloc == NULL) == (c->allocator.free == NULL);
    /* Session indices travel in 32 bits of the tag and in int32_t chains. */
    bool sizes_ok = c->max_sessions >= 1 && c->max_sessions <= (1u << 24) &&
                    c->max_datagram_bytes >= 1 &&
                    c->max_datagram_bytes <= RELAY_MAX_DATAGRAM_BYTES && c->max_queued >= 1 &&
                    c->session_idle_timeout_ms >= 1;
    return forward_ok && listen_ok && bind_ok && allocator_ok && sizes_ok &&
           profile_valid(&c->upstream) && profile_valid(&c->downstream);
}

netcore_result nci_relay_create(const nci_relay_config *config, nci_relay **out_relay)
{
    if (!out_relay)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_relay = NULL;
    if (!config || !config_valid(config))
        return NETCORE_ERR_INVALID_ARGUMENT;

    const netcore_allocator *allocator = &config->allocator;
    nci_relay *relay = nci_calloc(allocator, 1, sizeof *relay);
    if (!relay)
        return NETCORE_ERR_OUT_OF_MEMORY;
    relay->config = *config;
    relay->listen_socket = NCI_SOCKET_INVALID;
    uint32_t max_sessions = config->max_sessions;
    uint32_t buckets = 1;
    while (buckets < 2 * max_sessions)
        buckets *= 2;
    relay->bucket_mask = buckets - 1;
    relay->sessions = nci_calloc(allocator, max_sessions, sizeof *relay->sessions);
    relay->free_sessions = nci_calloc(allocator, max_sessions, sizeof *relay->free_sessions);
    relay->buckets = nci_calloc(allocator, buckets, sizeof *relay->buckets);
    relay->buffer = nci_alloc(allocator, (size_t)config->max_datagram_bytes + 1);
    relay->events = nci_calloc(allocator, (size_t)max_sessions + 1, sizeof *relay->events);

    /* The two directions get independent generators derived from one seed. */
    nci_rng seeder;
    nci_rng_seed(&seeder, config->seed);
    uint64_t upstream_seed = nci_rng_next(&seeder);
    uint64_t downstream_seed = nci_rng_next(&seeder);
    netcore_result result = NETCORE_OK;
    if (!relay->sessions || !relay->free_sessions || !relay->buckets || !relay->buffer ||
        !relay->events)
        result = NETCORE_ERR_OUT_OF_MEMORY;
    if (result == NETCORE_OK)
        result = nci_poller_create(allocator, max_sessions + 1, &relay->poller);
    if (result == NETCORE_OK)
        result = nci_link_create(allocator, upstream_seed, config->max_datagram_bytes,
                                 config->max_queued, &relay->upstream);
    if (result == NETCORE_OK)
        result = nci_link_create(allocator, downstream_seed, config->max_datagram_bytes,
                                 config->max_queued, &relay->downstream);
    if (result != NETCORE_OK) {
        nci_relay_destroy(relay);
        return result;
    }
    nci_link_set_profile(relay->upstream, &config->upstream);
    nci_link_set_profile(relay->downstream, &config->downstream);

    for (uint32_t i = 0; i < buckets; i++)
        relay->buckets[i] = RELAY_NO_SESSION;
    for (uint32_t i = 0; i < max_sessions; i++) {
        relay->sessions[i].socket = NCI_SOCKET_INVALID;
        relay->sessions[i].next_in_bucket = RELAY_NO_SESSION;
        /* Hand out the lowest index first. */
        relay->free_sessions[i] = max_sessions - 1 - i;
    }
    relay->free_count = max_sessions;

    if (open_bound_socket(&config->listen, &relay->listen_socket) != NETCORE_OK ||
        nci_poller_set(relay->poller, relay->listen_socket, NCI_POLL_IN, RELAY_LISTEN_DATA) !=
            NETCORE_OK) {
        char text[NETCORE_ADDRESS_STRLEN], error[128];
        netcore_address_format(&config->listen, text, sizeof text);
        nci_logf(&config->log, NETCORE_LOG_ERROR, "relay: cannot listen on %s: %s", text,
                 nci_socket_error_str(nci_socket_last_error(), error, sizeof error));
        nci_relay_destroy(relay);
        return NETCORE_ERR_SOCKET;
    }
    *out_relay = relay;
    return NETCORE_OK;
}

void nci_relay_destroy(nci_relay *relay)
{
    if (!relay)
        return;
    netcore_allocator allocator = relay->config.allocator;
    if (relay->sessions) {
        for (uint32_t i = 0; i < relay->config.max_sessions; i++)
            if (relay->sessions[i].active)
                nci_socket_close(relay->sessions[i].socket);
    }
    nci_socket_close(relay->listen_socket);
    nci_poller_destroy(relay->poller);
    nci_link_destroy(relay->upstream);
    nci_link_destroy(relay->downstream);
    nci_free(&allocator, relay->sessions);
    nci_free(&allocator, relay->free_sessions);
    nci_free(&allocator, relay->buckets);
    nci_free(&allocator, relay->buffer);
    nci_free(&allocator, relay->events);
    nci_free(&allocator, relay);
}

netcore_result nci_relay_listen_address(const nci_relay *relay, netcore_address *out_address)
{
    if (!relay || !out_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    return nci_socket_local_address(relay->listen_socket, out_address);
}

netcore_result nci_relay_update(nci_relay *relay, uint64_t now_us)
{
    if (!relay)
        return NETCORE_ERR_INVALID_ARGUMENT;
    int ready = nci_poller_wait(relay->poller, relay->events, relay->config.max_sessions + 1, 0);
    if (ready < 0) {
        log_socket_error(relay, now_us, "waiting for sockets");
        return NETCORE_ERR_SOCKET;
    }
    for (int i = 0; i < ready; i++) {
        /* Errors are read too: a receive reports and clears them. */
        uint64_t data = relay->events[i].data;
        if (data == RELAY_LISTEN_DATA)
            receive_from_clients(relay, now_us);
        else if (data < relay->config.max_sessions && relay->sessions[data].active)
            receive_from_target(relay, (uint32_t)data, now_us);
    }
    send_due(relay, now_us);
    expire_sessions(relay, now_us);
    return NETCORE_OK;
}

void nci_relay_wait(nci_relay *relay, uint64_t now_us, uint32_t timeout_ms)
{
    if (!relay)
        return;
    uint64_t due_us = nci_link_next_due_us(relay->upstream);
    uint64_t down_due_us = nci_link_next_due_us(relay->downstream);
    if (down_due_us < due_us)
        due_us = down_due_us;
    if (due_us <= now_us)
        return;
    uint64_t wait_ms = timeout_ms;
    if (due_us != UINT64_MAX) {
        /* Rounded up: waking a little late is fine, waking early only spins. */
        uint64_t due_ms = (due_us - now_us + 999) / 1000;
        if (due_ms < wait_ms)
            wait_ms = due_ms;
    }
    /* Only the wake-up matters here; the next update reads what is ready. */
    (void)nci_poller_wait(relay->poller, relay->events, 1, (uint32_t)wait_ms);
}

void nci_relay_set_profiles(nci_relay *relay, const netcore_link_profile *upstream,
                            const netcore_link_profile *downstream)
{
    if (!relay)
        return;
    /* NULL keeps a direction as it is; so does a profile with percentages
     * outside 0..100, since this call has no way to report an error. */
    if (upstream && profile_valid(upstream)) {
        relay->config.upstream = *upstream;
        nci_link_set_profile(relay->upstream, upstream);
    }
    if (downstream && profile_valid(downstream)) {
        relay->config.downstream = *downstream;
        nci_link_set_profile(relay->downstream, downstream);
    }
}

netcore_result nci_relay_origin(const nci_relay *relay, const netcore_address *upstream_address,
                                netcore_address *out_client_address)
{
    if (!relay || !upstream_address || !out_client_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    for (uint32_t i = 0; i < relay->config.max_sessions; i++) {
        const relay_session *s = &relay->sessions[i];
        if (s->active && netcore_address_equal(&s->upstream_local, upstream_address)) {
            *out_client_address = s->client;
            return NETCORE_OK;
        }
    }
    return NETCORE_ERR_NOT_FOUND;
}

void nci_relay_stats_get(const nci_relay *relay, nci_relay_stats *out_stats)
{
    if (!out_stats)
        return;
    memset(out_stats, 0, sizeof *out_stats);
    if (!relay)
        return;
    out_stats->sessions_active = relay->sessions_active;
    out_stats->sessions_opened = relay->sessions_opened;
    out_stats->sessions_refused = relay->sessions_refused;
    out_stats->sessions_expired = relay->sessions_expired;
    nci_link_stats(relay->upstream, &out_stats->upstream);
    nci_link_stats(relay->downstream, &out_stats->downstream);
}
