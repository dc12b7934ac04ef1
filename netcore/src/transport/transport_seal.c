/* Sealing glue of the common transport layer: per-peer keys and lane
 * counters, the message buffers, and what each verdict costs the peer.
 * The sealed format itself is in seal.c. */
#include <sodium.h>
#include <string.h>

#include "transport/transport_host.h"

static bool lane_is_reliable(const netcore_host *host, uint8_t lane)
{
    nci_lane_mode mode = host->lane_modes[lane];
    return mode == NCI_LANE_RELIABLE_ORDERED || mode == NCI_LANE_RELIABLE_UNORDERED;
}

static nci_seal_state *slot_states(const netcore_host *host, uint32_t slot)
{
    return host->seal_states + (size_t)slot * host->lane_count;
}

netcore_result nci_host_seal_create(netcore_host *host)
{
    for (uint32_t lane = 0; lane < host->lane_count; lane++) {
        nci_seal_lane *b = &host->seal_lanes[lane];
        b->lane = (uint8_t)lane;
        b->channel = lane == 0 ? NCI_SEAL_CONTROL_CHANNEL : host->lane_channel[lane];
        b->delivery = lane == 0 ? (uint8_t)NETCORE_DELIVERY_RELIABLE_ORDERED
                                : (uint8_t)host->cfg.channels[b->channel].delivery;
        /* The backend hands over a reliable-ordered lane's messages exactly
         * once and in order, so its counter needs no bytes on the wire. */
        b->explicit_counter = host->lane_modes[lane] != NCI_LANE_RELIABLE_ORDERED;
    }
    if (host->cfg.seal_disabled) {
        nci_logf(&host->cfg.log, NETCORE_LOG_WARN,
                 "sealing is disabled: game traffic travels in clear and unauthenticated");
        return NETCORE_OK;
    }
    /* libsodium picks its fast (SIMD) ChaCha20 and Poly1305 code in
     * sodium_init; without it every message would use the reference code. */
    if (sodium_init() < 0)
        return NETCORE_ERR_BACKEND;
    host->seal_keys =
        nci_calloc(&host->cfg.allocator, host->cfg.max_peers, sizeof *host->seal_keys);
    host->seal_states =
        nci_calloc(&host->cfg.allocator, (size_t)host->cfg.max_peers * host->lane_count,
                   sizeof *host->seal_states);
    return host->seal_keys && host->seal_states ? NETCORE_OK : NETCORE_ERR_OUT_OF_MEMORY;
}

void nci_host_seal_destroy(netcore_host *host)
{
    netcore_allocator *allocator = &host->cfg.allocator;
    if (host->seal_keys)
        sodium_memzero(host->seal_keys, (size_t)host->cfg.max_peers * sizeof *host->seal_keys);
    nci_free(allocator, host->seal_keys);
    nci_free(allocator, host->seal_states);
    nci_free(allocator, host->seal_rx_buf);
    nci_free(allocator, host->seal_tx_buf);
    host->seal_keys = NULL;
    host->seal_states = NULL;
    host->seal_rx_buf = NULL;
    host->seal_tx_buf = NULL;
}

void nci_host_seal_clear(netcore_host *host, uint32_t slot)
{
    if (!host->seal_keys)
        return;
    sodium_memzero(&host->seal_keys[slot], sizeof host->seal_keys[slot]);
    memset(slot_states(host, slot), 0, host->lane_count * sizeof(nci_seal_state));
}

netcore_result nci_host_seal_begin(netcore_host *host, uint32_t slot, const uint8_t *tx_key,
                                   const uint8_t *rx_key)
{
    if (!host->seal_keys)
        return NETCORE_ERR_STATE;
    /* The buffers wait for the first sealed peer: a host that never seals
     * (or a test making hundreds of simulated hosts) does not pay for them. */
    size_t bytes = (size_t)host->cfg.max_message_bytes + NETCORE_SEAL_MAX_OVERHEAD_BYTES;
    if (!host->seal_rx_buf)
        host->seal_rx_buf = nci_alloc(&host->cfg.allocator, bytes);
    if (!host->seal_tx_buf)
        host->seal_tx_buf = nci_alloc(&host->cfg.allocator, bytes);
    if (!host->seal_rx_buf || !host->seal_tx_buf)
        return NETCORE_ERR_OUT_OF_MEMORY;
    nci_host_seal_clear(host, slot);
    memcpy(host->seal_keys[slot].tx, tx_key, NETCORE_SESSION_KEY_BYTES);
    memcpy(host->seal_keys[slot].rx, rx_key, NETCORE_SESSION_KEY_BYTES);
    host->peers[slot].sealed = true;
    return NETCORE_OK;
}

/* Same IP (the port is not bound: NAT rewrites it). */
static bool same_ip(const netcore_address *a, const netcore_address *b)
{
    size_t n = a->family == NETCORE_ADDRESS_IPV6 ? 16u : 4u;
    return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

/* After the admission callback said yes: the token's IP binding, then the
 * sealing policy. NETCORE_OK with the peer sealed as agreed, or the code
 * the peer is refused with. */
netcore_result nci_host_seal_settle(netcore_host *host, uint32_t slot, bool hello_sealed,
                                    const netcore_admission_grant *grant)
{
    const nci_peer *p = &host->peers[slot];
    if (grant->has_bound_address && !same_ip(&grant->bound_address, &p->address)) {
        host->counters.token_address_rejected++;
        return NETCORE_ERR_ADDRESS;
    }
    bool seal = !host->cfg.seal_disabled && grant->has_session_keys;
    /* Admission without keys would leave the game in clear: fail closed. */
    if (host->cfg.admission && !host->cfg.seal_disabled && !grant->has_session_keys)
        return NETCORE_ERR_AUTH;
    if (hello_sealed != seal)
        return NETCORE_ERR_MISMATCH;
    if (!seal)
        return NETCORE_OK;
    return nci_host_seal_begin(host, slot, grant->session_keys.server_to_client,
                               grant->session_keys.client_to_server);
}

netcore_result nci_host_seal_send(netcore_host *host, uint32_t slot, uint8_t lane, const void *data,
                                  size_t size_bytes)
{
    nci_seal_state *state = &slot_states(host, slot)[lane];
    if (state->tx_next >= NCI_SEAL_COUNTER_LIMIT)
        return NETCORE_ERR_EXPIRED;
    const nci_seal_lane *binding = &host->seal_lanes[lane];
    size_t sealed = nci_seal(host->seal_keys[slot].tx, binding, state->tx_next, data, size_bytes,
                             host->seal_tx_buf);
    netcore_result r = host->ops->send(host->backend, slot, lane, host->seal_tx_buf, sealed);
    /* A refused message never left: its counter is still unused. */
    if (r != NETCORE_OK)
        return r;
    state->tx_next++;
    host->counters.seal_overhead_bytes_sent += sealed - size_bytes;
    return NETCORE_OK;
}

nci_seal_verdict nci_host_seal_open(netcore_host *host, uint32_t slot, uint8_t lane,
                                    const uint8_t *data, size_t size_bytes,
                                    const uint8_t **out_data, size_t *out_size)
{
    nci_seal_state *state = &slot_states(host, slot)[lane];
    nci_seal_verdict v = nci_seal_open(host->seal_keys[slot].rx, &host->seal_lanes[lane],
                                       &state->rx, data, size_bytes, host->seal_rx_buf, out_size);
    switch (v) {
    case NCI_SEAL_OPENED:
        *out_data = host->seal_rx_buf;
        break;
    case NCI_SEAL_AUTH_FAILED:
        host->counters.crypto_auth_rejected++;
        break;
    case NCI_SEAL_DUPLICATE:
        host->counters.crypto_duplicate_dropped++;
        break;
    case NCI_SEAL_STALE:
        /* On a reliable lane a counter outside the window cannot be told
         * from a forgery without opening it: treat it as one. */
        if (lane_is_reliable(host, lane)) {
            host->counters.crypto_auth_rejected++;
            return NCI_SEAL_AUTH_FAILED;
        }
        host->counters.crypto_stale_dropped++;
        break;
    }
    return v;
}

netcore_result nci_host_seal_jump(netcore_host *host, netcore_peer_id peer, uint64_t value)
{
    uint32_t slot = 0;
    nci_peer *p = host ? nci_peer_lookup(host, peer, &slot) : NULL;
    if (!p)
        return NETCORE_ERR_NOT_CONNECTED;
    if (!p->sealed)
        return NETCORE_ERR_STATE;
    nci_seal_state *states = slot_states(host, slot);
    for (uint32_t lane = 0; lane < host->lane_count; lane++) {
        memset(&states[lane], 0, sizeof states[lane]);
        states[lane].tx_next = value;
        states[lane].rx.next = value;
    }
    return NETCORE_OK;
}
