/* Simulated transport backend, level 4: the backend operations on top of
 * the simulated network (transport_sim_net.c), connections
 * (transport_sim_conn.c) and the data protocol (transport_sim_lane.c,
 * transport_sim_recv.c); each file calls only those below it.
 *
 * Events wait in a fixed ring. A datagram is parsed only while the ring is
 * empty, and the ring holds the events of any one datagram plus one per peer,
 * so RECEIVE events may point straight into the datagram buffer. */
#include <string.h>

#include "transport/transport_sim_internal.h"

#define LINK_QUEUE_LIMIT (1u << 20)

static uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c, uint64_t salt)
{
    nci_rng rng;
    nci_rng_seed(&rng, a ^ (b * 0x9e3779b97f4a7c15ull) ^ (c * 0xc2b2ae3d27d4eb4full) ^ salt);
    return nci_rng_next(&rng);
}

static bool pop_event(nci_sim_host *host, nci_backend_event *out)
{
    while (host->event_count > 0) {
        nci_sim_event *e = &host->events[host->event_head];
        host->event_head = (host->event_head + 1) % host->event_capacity;
        host->event_count--;
        if (e->event.type == NCI_BEV_NONE)
            continue; /* withdrawn by disconnect_now */
        *out = e->event;
        /* The simulated protocol treats a chunk by its lane's mode. */
        out->reliable = out->type == NCI_BEV_RECEIVE && nci_sim_lane_reliable(host, out->lane);
        host->handed_out = e->owned;
        return true;
    }
    return false;
}

/* Withdraws the queued events of a slot that was freed without an event. */
static void withdraw_events(nci_sim_host *host, uint32_t slot)
{
    for (uint32_t i = 0; i < host->event_count; i++) {
        nci_sim_event *e = &host->events[(host->event_head + i) % host->event_capacity];
        if (e->event.type != NCI_BEV_NONE && e->event.slot == slot) {
            nci_free(&host->allocator, e->owned);
            e->owned = NULL;
            e->event.type = NCI_BEV_NONE;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Backend operations                                                   */
/* ------------------------------------------------------------------ */

static void host_free(nci_sim_host *host)
{
    if (host->peers)
        for (uint32_t i = 0; i < host->max_peers; i++)
            nci_sim_peer_release(host, &host->peers[i]);
    for (uint32_t i = 0; host->events && i < host->event_count; i++)
        nci_free(&host->allocator,
                 host->events[(host->event_head + i) % host->event_capacity].owned);
    nci_free(&host->allocator, host->handed_out);
    nci_sim_message_pool_release(host);
    nci_link_destroy(host->inbound);
    nci_link_destroy(host->outbound);
    nci_free(&host->allocator, host->peers);
    nci_free(&host->allocator, host->events);
    nci_free(&host->allocator, host->rx_buffer);
    nci_free(&host->allocator, host->tx_buffer);
    nci_free(&host->allocator, host);
}

static netcore_result sim_create(const netcore_host_config *cfg, const nci_lane_mode *lane_modes,
                                 uint32_t lane_count, const nci_clock *clock, void **out_backend)
{
    (void)clock; /* the simulation's clock is the only one */
    if (!cfg || !lane_modes || !out_backend || !cfg->sim || lane_count == 0 ||
        lane_count > NCI_MAX_LANES || cfg->max_peers == 0 || cfg->max_peers >= NCI_SIM_NO_SLOT ||
        cfg->mtu_bytes < NCI_SIM_MIN_MTU || cfg->mtu_bytes > NCI_SIM_MAX_MTU)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_sim *sim = cfg->sim;
    uint32_t index = 0;
    netcore_address address;
    uint64_t sim_seed = 0;
    netcore_result reserved =
        nci_sim_net_reserve(sim, cfg->bind_address.port, &index, &address, &sim_seed);
    if (reserved != NETCORE_OK)
        return reserved;

    nci_sim_host *host = nci_calloc(&cfg->allocator, 1, sizeof *host);
    if (!host)
        return NETCORE_ERR_OUT_OF_MEMORY;
    host->sim = sim;
    host->index = index;
    host->allocator = cfg->allocator;
    host->log = cfg->log;
    host->max_peers = cfg->max_peers;
    host->lane_count = lane_count;
    for (uint32_t i = 0; i < lane_count; i++)
        host->lane_modes[i] = (uint8_t)lane_modes[i];
    host->mtu_bytes = cfg->mtu_bytes;
    host->max_message_bytes = cfg->max_message_bytes;
    host->ping_interval_us = (uint64_t)cfg->ping_interval_ms * 1000u;
    host->timeout_us = (uint64_t)cfg->timeout_ms * 1000u;
    host->connect_timeout_us = (uint64_t)cfg->connect_timeout_ms * 1000u;
    host->retransmit_cap_us = (uint64_t)cfg->retransmit_timeout_max_ms * 1000u;
    host->tx_budget_bytes = 2u * (size_t)cfg->max_message_bytes + 65536u;
    host->rx_budget_bytes = 4u * (size_t)cfg->max_message_bytes + 262144u;
    host->address = address;
    host->address_key = nci_sim_address_key(&host->address);
    nci_rng_seed(&host->rng, mix_seed(sim_seed, index, cfg->conditioner.seed, 1));

    /* The event ring holds one datagram's events (a message chunk is at
     * least 6 bytes) plus one close event per peer. */
    host->event_capacity = cfg->max_peers + cfg->mtu_bytes / NCI_SIM_MESSAGE_CHUNK_BYTES + 16u;
    uint64_t link_queue = 2048u + 2048u * (uint64_t)cfg->max_peers;
    if (link_queue > LINK_QUEUE_LIMIT)
        link_queue = LINK_QUEUE_LIMIT;
    host->peers = nci_calloc(&cfg->allocator, cfg->max_peers, sizeof *host->peers);
    host->events = nci_calloc(&cfg->allocator, host->event_capacity, sizeof *host->events);
    host->rx_buffer = nci_alloc(&cfg->allocator, cfg->mtu_bytes);
    host->tx_buffer = nci_alloc(&cfg->allocator, cfg->mtu_bytes);
    netcore_result r = NETCORE_ERR_OUT_OF_MEMORY;
    if (host->peers && host->events && host->rx_buffer && host->tx_buffer) {
        r = nci_link_create(&cfg->allocator, mix_seed(sim_seed, index, cfg->conditioner.seed, 2),
                            NCI_SIM_MAX_MTU, (uint32_t)link_queue, &host->inbound);
        if (r == NETCORE_OK)
            r = nci_link_create(&cfg->allocator,
                                mix_seed(sim_seed, index, cfg->conditioner.seed, 3), cfg->mtu_bytes,
                                (uint32_t)link_queue, &host->outbound);
    }
    if (r != NETCORE_OK) {
        host_free(host);
        return r;
    }
    /* The sim applies the profiles whether or not conditioner.enabled: a
     * zeroed profile is a perfect link anyway. */
    nci_link_set_profile(host->inbound, &cfg->conditioner.inbound);
    nci_link_set_profile(host->outbound, &cfg->conditioner.outbound);
    nci_sim_net_attach(sim, host);
    *out_backend = host;
    return NETCORE_OK;
}

static void sim_destroy_backend(void *backend, uint32_t shutdown_data32)
{
    nci_sim_host *host = backend;
    if (!host)
        return;
    for (uint32_t slot = 0; slot < host->max_peers; slot++) {
        nci_sim_peer *peer = &host->peers[slot];
        /* A peer being left gracefully hears that disconnect's data. */
        if (peer->state == NCI_SIM_PEER_DISCONNECTING)
            nci_sim_send_disconnect(host, peer, slot, peer->close_data32);
        else if (peer->state != NCI_SIM_PEER_FREE && peer->state != NCI_SIM_PEER_REMOTE_CLOSED)
            nci_sim_send_disconnect(host, peer, slot, shutdown_data32);
    }
    /* Everything already sent (the notices included) keeps travelling. */
    nci_sim_net_detach(host);
    host_free(host);
}

static netcore_result sim_local_address(const void *backend, netcore_address *out_address)
{
    if (!backend || !out_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_address = ((const nci_sim_host *)backend)->address;
    return NETCORE_OK;
}

static netcore_result sim_connect(void *backend, const netcore_address *to, uint32_t connect_data,
                                  uint32_t *out_slot)
{
    nci_sim_host *host = backend;
    if (!host || !to || !out_slot)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (to->family != NETCORE_ADDRESS_IPV4)
        return NETCORE_ERR_UNSUPPORTED;
    uint32_t slot = 0;
    while (slot < host->max_peers && host->peers[slot].state != NCI_SIM_PEER_FREE)
        slot++;
    if (slot >= host->max_peers)
        return NETCORE_ERR_FULL;
    nci_sim_peer *peer = &host->peers[slot];
    netcore_result r = nci_sim_peer_prepare(host, peer);
    if (r != NETCORE_OK)
        return r;
    uint64_t now = nci_sim_host_now_us(host);
    peer->state = NCI_SIM_PEER_CONNECTING;
    do {
        peer->session = (uint32_t)nci_rng_next(&host->rng);
    } while (peer->session == 0);
    peer->remote_slot = NCI_SIM_NO_SLOT;
    peer->connect_data = connect_data;
    peer->address = *to;
    peer->address_key = nci_sim_address_key(to);
    peer->mtu_bytes = host->mtu_bytes;
    peer->state_since_us = now;
    peer->control_interval_us = NCI_SIM_CONNECT_RETRY_FIRST_US;
    peer->next_control_us = now + NCI_SIM_CONNECT_RETRY_FIRST_US;
    nci_sim_send_connect(host, peer, slot);
    host->work_pending = true;
    *out_slot = slot;
    return NETCORE_OK;
}

static nci_sim_peer *peer_at(nci_sim_host *host, uint32_t slot)
{
    if (!host || slot >= host->max_peers || host->peers[slot].state == NCI_SIM_PEER_FREE)
        return NULL;
    return &host->peers[slot];
}

static void sim_disconnect(void *backend, uint32_t slot, uint32_t data32)
{
    nci_sim_host *host = backend;
    nci_sim_peer *peer = peer_at(host, slot);
    if (!peer)
        return;
    host->work_pending = true;
    if (peer->state == NCI_SIM_PEER_CONNECTING) {
        nci_sim_send_disconnect(host, peer, slot, data32);
        nci_sim_close_with_event(host, peer, slot, 0);
    } else if (peer->state == NCI_SIM_PEER_CONNECTED) {
        peer->state = NCI_SIM_PEER_DISCONNECTING;
        peer->close_data32 = data32;
        peer->state_since_us = nci_sim_host_now_us(host);
        peer->next_control_us = nci_sim_host_now_us(host);
    }
}

static void sim_disconnect_now(void *backend, uint32_t slot, uint32_t data32)
{
    nci_sim_host *host = backend;
    nci_sim_peer *peer = peer_at(host, slot);
    if (!peer)
        return;
    if (peer->state != NCI_SIM_PEER_REMOTE_CLOSED)
        nci_sim_send_disconnect(host, peer, slot, data32);
    nci_sim_peer_clear(host, peer);
    withdraw_events(host, slot);
}

static netcore_result sim_send(void *backend, uint32_t slot, uint8_t lane, const void *data,
                               size_t size_bytes)
{
    nci_sim_host *host = backend;
    nci_sim_peer *peer = peer_at(host, slot);
    if (!peer)
        return NETCORE_ERR_NOT_CONNECTED;
    host->work_pending = true;
    return nci_sim_lane_send(host, peer, lane, data, size_bytes);
}

static netcore_result sim_service(void *backend, uint32_t timeout_ms, nci_backend_event *out_event)
{
    (void)timeout_ms; /* simulated time never waits */
    nci_sim_host *host = backend;
    if (!host || !out_event)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_free(&host->allocator, host->handed_out);
    host->handed_out = NULL;
    memset(out_event, 0, sizeof *out_event);
    if (!pop_event(host, out_event)) {
        nci_sim_host_work(host);
        pop_event(host, out_event);
    }
    return NETCORE_OK;
}

static netcore_result sim_flush(void *backend)
{
    nci_sim_host *host = backend;
    if (!host)
        return NETCORE_ERR_INVALID_ARGUMENT;
    for (uint32_t slot = 0; slot < host->max_peers; slot++)
        nci_sim_flush_peer(host, &host->peers[slot], slot);
    return NETCORE_OK;
}

static void sim_peer_link(const void *backend, uint32_t slot, nci_peer_link *out_link)
{
    const nci_sim_host *host = backend;
    memset(out_link, 0, sizeof *out_link);
    if (!host || slot >= host->max_peers || host->peers[slot].state == NCI_SIM_PEER_FREE)
        return;
    const nci_sim_peer *peer = &host->peers[slot];
    out_link->address = peer->address;
    out_link->rtt_ms = (float)(peer->srtt_us / 1000.0);
    out_link->rtt_variance_ms = (float)(peer->rttvar_us / 1000.0);
    out_link->loss_pct = peer->loss_pct;
}

static void sim_host_stats(const void *backend, netcore_host_stats *out_stats)
{
    const nci_sim_host *host = backend;
    out_stats->wire_bytes_sent = host->wire_bytes_sent;
    out_stats->wire_bytes_received = host->wire_bytes_received;
    out_stats->datagrams_sent = host->datagrams_sent;
    out_stats->datagrams_received = host->datagrams_received;
    /* The backend drops a message above max_message_bytes before reassembly
     * (ENet leaves that to the common layer): both count in one place. */
    out_stats->oversize_dropped += host->counters.oversize_dropped;
    nci_link_stats(host->inbound, &out_stats->conditioner_inbound);
    nci_link_stats(host->outbound, &out_stats->conditioner_outbound);
}

static netcore_result sim_set_conditioner(void *backend, const netcore_link_profile *inbound,
                                          const netcore_link_profile *outbound)
{
    nci_sim_host *host = backend;
    if (!host)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (inbound)
        nci_link_set_profile(host->inbound, inbound);
    if (outbound)
        nci_link_set_profile(host->outbound, outbound);
    return NETCORE_OK;
}

static uint64_t sim_now_us(const void *backend)
{
    return backend ? nci_sim_host_now_us(backend) : 0;
}

const nci_backend_ops nci_backend_sim = {
    .name = "sim",
    /* The simulated network could carry reliable-unordered lanes natively,
     * but it lays channels out as ENet does (four reliable-ordered lanes):
     * one protocol under test, and every reliable lane delivers in order, so
     * a sealed message there needs no counter on the wire and a late
     * retransmission can never fall out of a replay window. */
    .native_reliable_unordered = false,
    /* A DATA datagram's header and one MESSAGE chunk header (see
     * transport_sim_internal.h); longer messages travel as FRAGMENT chunks. */
    .unfragmented_overhead_bytes = NCI_SIM_DATA_HEADER_BYTES + NCI_SIM_MESSAGE_CHUNK_BYTES,
    .create = sim_create,
    .destroy = sim_destroy_backend,
    .local_address = sim_local_address,
    .connect = sim_connect,
    /* The simulated network always delivers what is queued first. */
    .disconnect_later = sim_disconnect,
    .disconnect = sim_disconnect,
    .disconnect_now = sim_disconnect_now,
    .send = sim_send,
    .service = sim_service,
    .flush = sim_flush,
    .peer_link = sim_peer_link,
    .host_stats = sim_host_stats,
    .set_conditioner = sim_set_conditioner,
    .now_us = sim_now_us,
};

void nci_sim_backend_inject(void *backend, const netcore_address *from, const void *data,
                            size_t size_bytes)
{
    nci_sim_host *host = backend;
    if (host && from && (data || size_bytes == 0))
        nci_link_submit(host->inbound, nci_sim_host_now_us(host), nci_sim_address_key(from), data,
                        size_bytes);
}

void nci_sim_backend_counters(const void *backend, nci_sim_counters *out_counters)
{
    *out_counters = ((const nci_sim_host *)backend)->counters;
}
