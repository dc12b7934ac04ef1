/* The host and its peer table, shared by the files of the common transport
 * layer: transport.c (peers, control lane, admission, events),
 * transport_config.c (defaults, validation, lane layout) and
 * transport_stats.c (payload traffic accounting and the stats getters).
 * Internal; backends never see these (they only know transport_internal.h). */
#ifndef NETCORE_TRANSPORT_HOST_H
#define NETCORE_TRANSPORT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "transport/transport_internal.h"

/* Length of the window payload rates are measured over, and of the window of
 * the rate-limited log of bad input. */
#define NCI_STATS_WINDOW_US 1000000u

typedef enum nci_peer_state {
    NCI_PEER_FREE = 0,
    NCI_PEER_CONNECTING, /* client: backend handshake under way */
    NCI_PEER_HELLO_SENT, /* client: waiting for WELCOME */
    NCI_PEER_PENDING,    /* server: waiting for HELLO and admission */
    NCI_PEER_CLOSING,    /* server: rejected or timed out before admission; silent */
    NCI_PEER_CONNECTED,  /* admitted, CONNECT reported */
    NCI_PEER_DISCONNECTING /* our graceful disconnect is under way */
} nci_peer_state;

/* Payload counters of one direction pair: totals, the totals when the current
 * rate window began, and the rates of the last complete window (per second). */
typedef struct nci_traffic {
    uint64_t totals[4]; /* indexed by NCI_TRAFFIC_* */
    uint64_t at_window[4];
    float rates[4];
} nci_traffic;

enum { NCI_TRAFFIC_MSG_OUT = 0, NCI_TRAFFIC_MSG_IN, NCI_TRAFFIC_BYTES_OUT, NCI_TRAFFIC_BYTES_IN };

typedef struct nci_peer {
    nci_peer_state state;
    uint16_t generation;
    bool reported;       /* CONNECT was emitted */
    bool backend_up;     /* backend reported CONNECT for this slot */
    bool welcomed;       /* client: WELCOME consumed (or implied) */
    bool local_request;  /* we asked for a graceful disconnect */
    uint32_t local_code;
    uint64_t deadline_us; /* connect or admission deadline; 0 = none */
    uint8_t *token;       /* client: copy until HELLO is sent */
    uint16_t token_size;
    uint8_t rr_next[NETCORE_MAX_CHANNELS];
    netcore_address address;
} nci_peer;

/* Fields read by every poll and send come first, so that a poll touches few
 * cache lines of the host (the kernel's socket calls in between evict them);
 * the config copy and the 1 KB lane mode table, read only at create, connect
 * and on control messages, come last. */
struct netcore_host {
    const nci_backend_ops *ops;
    void *backend;
    /* One block made at create: max_peers peers, then max_peers rows of
     * cfg.channel_count traffic counters (peer_traffic points into it), so an
     * idle slot costs only the channels the host was configured with. */
    nci_peer *peers;
    nci_traffic *peer_traffic;
    netcore_event *queue;
    uint32_t queue_capacity;
    uint32_t queue_head;
    uint32_t queue_count;
    uint32_t lane_count;
    uint64_t next_deadline_us; /* earliest peer deadline, UINT64_MAX if none */
    uint32_t deadlines_armed;  /* peers with a deadline_us */
    uint32_t polls_unclocked;  /* polls since the clock was last read */
    uint32_t clock_read_ms;    /* ops->recent_ms when the clock was last read */
    uint8_t channel_first_lane[NETCORE_MAX_CHANNELS];
    uint8_t channel_lanes[NETCORE_MAX_CHANNELS];
    uint8_t lane_channel[NCI_MAX_LANES + 1]; /* lane -> channel (lane 0 unused) */
    nci_traffic total;
    uint64_t window_start_us;
    netcore_host_stats counters; /* admission and drop counters only */
    nci_log_limiter log_limit;
    netcore_host_config cfg;
    nci_lane_mode lane_modes[NCI_MAX_LANES];
};

/* Public id of the connection in a slot: generation in the high 16 bits,
 * slot + 1 in the low 16 (so 0 is never valid). */
static inline netcore_peer_id nci_peer_id(const nci_peer *p, uint32_t slot)
{
    return ((netcore_peer_id)p->generation << 16) | (slot + 1u);
}

/* The peer an id names, with its slot in *out_slot (may be NULL); NULL for 0,
 * out-of-range, free or stale ids. */
static inline nci_peer *nci_peer_lookup(const netcore_host *host, netcore_peer_id id,
                                        uint32_t *out_slot)
{
    uint32_t index = id & 0xffffu;
    if (index == 0 || index > host->cfg.max_peers)
        return NULL;
    nci_peer *p = &host->peers[index - 1];
    if (p->state == NCI_PEER_FREE || p->generation != (uint16_t)(id >> 16))
        return NULL;
    if (out_slot)
        *out_slot = index - 1;
    return p;
}

/* The channel_count traffic counters of one slot (slot < max_peers). */
static inline nci_traffic *nci_peer_traffic(const netcore_host *host, uint32_t slot)
{
    return host->peer_traffic + (size_t)slot * host->cfg.channel_count;
}

/* Counts one message of size_bytes on a channel of a slot and in the host
 * total; outgoing is true for sent messages. Called once per message, so inline. */
static inline void nci_traffic_count(netcore_host *host, uint32_t slot, uint8_t channel,
                                     bool outgoing, size_t size_bytes)
{
    int msgs = outgoing ? NCI_TRAFFIC_MSG_OUT : NCI_TRAFFIC_MSG_IN;
    nci_traffic *t = nci_peer_traffic(host, slot) + channel;
    t->totals[msgs]++;
    t->totals[msgs + 2] += size_bytes;
    host->total.totals[msgs]++;
    host->total.totals[msgs + 2] += size_bytes;
}

/* transport_config.c */

/* True if every percentage of the profile is a finite 0..100. */
bool nci_link_profile_ok(const netcore_link_profile *profile);

/* NETCORE_OK, or NETCORE_ERR_INVALID_ARGUMENT for any field out of range
 * (see netcore_host_config in transport.h). */
netcore_result nci_host_config_validate(const netcore_host_config *config);

/* Fills lane_modes, lane_count and the channel <-> lane maps of a host from
 * host->cfg (validated) and host->ops (native_reliable_unordered). */
void nci_host_build_lanes(netcore_host *host);

/* transport_stats.c */

/* Zeroes the traffic counters of a slot that is claimed or released. */
void nci_traffic_clear(netcore_host *host, uint32_t slot);

/* Ends the rate window if NCI_STATS_WINDOW_US have passed since it began at
 * host->window_start_us: rates of the host and of every slot in use become
 * the window's averages. now_us is the host's clock. */
void nci_traffic_roll(netcore_host *host, uint64_t now_us);

#endif /* NETCORE_TRANSPORT_HOST_H */
