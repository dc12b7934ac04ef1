/* Host configuration of the common transport layer: defaults, validation,
 * the channel -> lane layout, the names of disconnect reasons, and the
 * accessors that only pass a call on to the backend. */
#include <math.h>
#include <string.h>

#include "transport/seal.h"
#include "transport/transport_host.h"

/* Reliable-unordered channels on a backend without that mode are spread over
 * this many reliable-ordered lanes, used round-robin: every message arrives
 * once, no order is promised, and one lost datagram stalls only the quarter of
 * the channel's traffic queued behind it instead of all of it. */
#define UNORDERED_FANOUT 4u

/* Largest retransmit_timeout_max_ms accepted: a cap above a minute would
 * outlast any sensible timeout_ms, i.e. it would be no cap. */
#define NCI_RETRANSMIT_TIMEOUT_MAX_LIMIT_MS 60000u

static bool pct_ok(float pct)
{
    return isfinite(pct) && pct >= 0.0f && pct <= 100.0f;
}

bool nci_link_profile_ok(const netcore_link_profile *p)
{
    return pct_ok(p->loss_pct) && pct_ok(p->duplicate_pct) && pct_ok(p->reorder_pct) &&
           pct_ok(p->corrupt_pct);
}

netcore_result nci_host_config_validate(const netcore_host_config *c)
{
    if ((c->allocator.alloc == NULL) != (c->allocator.free == NULL))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->max_peers < 1 || c->max_peers > 4095)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->channel_count < 1 || c->channel_count > NETCORE_MAX_CHANNELS)
        return NETCORE_ERR_INVALID_ARGUMENT;
    for (uint32_t i = 0; i < c->channel_count; i++)
        if ((unsigned)c->channels[i].delivery > NETCORE_DELIVERY_UNRELIABLE_UNORDERED)
            return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->mtu_bytes < 576 || c->mtu_bytes > 4096)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->max_message_bytes < 1 || c->max_message_bytes > (32u << 20))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->ping_interval_ms < 1 || c->timeout_ms < 1 || c->connect_timeout_ms < 1 ||
        c->admission_timeout_ms < 1)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->retransmit_timeout_max_ms > NCI_RETRANSMIT_TIMEOUT_MAX_LIMIT_MS)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint8_t family = c->bind_address.family;
    if (family != NETCORE_ADDRESS_NONE && family != NETCORE_ADDRESS_IPV4 &&
        family != NETCORE_ADDRESS_IPV6)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!c->sim && family == NETCORE_ADDRESS_IPV6)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!nci_link_profile_ok(&c->conditioner.inbound) ||
        !nci_link_profile_ok(&c->conditioner.outbound))
        return NETCORE_ERR_INVALID_ARGUMENT;
    return NETCORE_OK;
}

/* Both ends derive the same layout from the same channel list and backend,
 * which HELLO verifies, so lanes never need to be negotiated. */
void nci_host_build_lanes(netcore_host *host)
{
    uint32_t lane = 0;
    host->lane_modes[lane++] = NCI_LANE_RELIABLE_ORDERED;
    for (uint32_t c = 0; c < host->cfg.channel_count; c++) {
        netcore_delivery d = host->cfg.channels[c].delivery;
        uint32_t lanes = 1;
        nci_lane_mode mode = NCI_LANE_RELIABLE_ORDERED;
        switch (d) {
        case NETCORE_DELIVERY_RELIABLE_ORDERED:
            mode = NCI_LANE_RELIABLE_ORDERED;
            break;
        case NETCORE_DELIVERY_RELIABLE_UNORDERED:
            if (host->ops->native_reliable_unordered) {
                mode = NCI_LANE_RELIABLE_UNORDERED;
            } else {
                mode = NCI_LANE_RELIABLE_ORDERED;
                lanes = UNORDERED_FANOUT;
            }
            break;
        case NETCORE_DELIVERY_UNRELIABLE_SEQUENCED:
            mode = NCI_LANE_UNRELIABLE_SEQUENCED;
            break;
        case NETCORE_DELIVERY_UNRELIABLE_UNORDERED:
            mode = NCI_LANE_UNRELIABLE_UNORDERED;
            break;
        }
        host->channel_first_lane[c] = (uint8_t)lane;
        host->channel_lanes[c] = (uint8_t)lanes;
        for (uint32_t i = 0; i < lanes; i++) {
            host->lane_channel[lane] = (uint8_t)c;
            host->lane_modes[lane++] = mode;
        }
    }
    host->lane_count = lane;
}

void netcore_host_config_default(netcore_host_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->log.min_level = NETCORE_LOG_INFO;
    config->max_peers = 64;
    config->channel_count = 4;
    for (uint32_t i = 0; i < NETCORE_MAX_CHANNELS; i++)
        config->channels[i].delivery = (netcore_delivery)(i < 4 ? i : 0);
    config->mtu_bytes = 1392;
    config->max_message_bytes = 262144;
    config->ping_interval_ms = 500;
    config->timeout_ms = 10000;
    config->retransmit_timeout_max_ms = 1000;
    config->connect_timeout_ms = 5000;
    config->admission_timeout_ms = 2000;
}

const char *netcore_disconnect_reason_str(netcore_disconnect_reason reason)
{
    switch (reason) {
    case NETCORE_DISCONNECT_REQUESTED:
        return "requested";
    case NETCORE_DISCONNECT_TIMEOUT:
        return "timeout";
    case NETCORE_DISCONNECT_CONNECT_FAILED:
        return "connect failed";
    case NETCORE_DISCONNECT_REJECTED:
        return "rejected";
    case NETCORE_DISCONNECT_ADMISSION_TIMEOUT:
        return "admission timeout";
    case NETCORE_DISCONNECT_PROTOCOL_ERROR:
        return "protocol error";
    case NETCORE_DISCONNECT_SHUTDOWN:
        return "shutdown";
    case NETCORE_DISCONNECT_CRYPTO_FAILED:
        return "crypto failed";
    }
    return "unknown";
}

netcore_result netcore_host_address(const netcore_host *host, netcore_address *out_address)
{
    if (!host || !out_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    return host->ops->local_address(host->backend, out_address);
}

/* Seal overhead of the costliest lane behind any of the host's channels, so
 * the figure holds whichever lane a message is given. */
static uint32_t channel_seal_overhead(const netcore_host *host)
{
    size_t most = 0;
    for (uint32_t ch = 0; ch < host->cfg.channel_count; ch++)
        for (uint32_t i = 0; i < host->channel_lanes[ch]; i++) {
            size_t o = nci_seal_overhead(&host->seal_lanes[host->channel_first_lane[ch] + i]);
            most = o > most ? o : most;
        }
    return (uint32_t)most;
}

uint32_t netcore_host_max_unfragmented_bytes(const netcore_host *host)
{
    if (!host)
        return 0;
    uint32_t limit = host->cfg.mtu_bytes - host->ops->unfragmented_overhead_bytes;
    /* Whether a peer is sealed is only known at admission; a budget made
     * before then has to fit a sealed peer. */
    if (!host->cfg.seal_disabled)
        limit -= channel_seal_overhead(host);
    return limit < host->cfg.max_message_bytes ? limit : host->cfg.max_message_bytes;
}

uint64_t netcore_host_now_us(const netcore_host *host)
{
    return host ? host->ops->now_us(host->backend) : 0;
}

netcore_result netcore_host_set_conditioner(netcore_host *host, const netcore_link_profile *inbound,
                                            const netcore_link_profile *outbound)
{
    if (!host || !inbound || !outbound || !nci_link_profile_ok(inbound) ||
        !nci_link_profile_ok(outbound))
        return NETCORE_ERR_INVALID_ARGUMENT;
    return host->ops->set_conditioner(host->backend, inbound, outbound);
}

netcore_result netcore_host_flush(netcore_host *host)
{
    if (!host)
        return NETCORE_ERR_INVALID_ARGUMENT;
    return host->ops->flush(host->backend);
}
