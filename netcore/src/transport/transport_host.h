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
#include "transport/seal.h"
#include "transport/transport_internal.h"

/* Length of the window payload rates are measured over, and of the window of
 * the rate-limited log of bad input. */
#define NCI_STATS_WINDOW_US 1000000u

/* The keys of one sealed peer, as this host uses them. */
typedef struct nci_seal_keys {
    uint8_t tx[NETCORE_SESSION_KEY_BYTES];
    uint8_t rx[NETCORE_SESSION_KEY_BYTES];
} nci_seal_keys;

/* Counters of one lane of one peer. */
typedef struct nci_seal_state {
    uint64_t tx_next;
    nci_seal_rx rx;
} nci_seal_state;

typedef enum nci_peer_state {
    NCI_PEER_FREE = 0,
    NCI_PEER_CONNECTING,   /* client: backend handshake under way */
    NCI_PEER_HELLO_SENT,   /* client: waiting for WELCOME */
    NCI_PEER_PENDING,      /* server: waiting for HELLO and admission */
    NCI_PEER_CLOSING,      /* server: rejected or timed out before admission; silent */
    NCI_PEER_CONNECTED,    /* admitted, CONNECT reported */
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
    bool reported;        /* CONNECT was emitted */
    bool backend_up;      /* backend reported CONNECT for this slot */
    bool welcomed;        /* client: WELCOME consumed (or implied) */
    bool local_request;   /* we asked for a graceful disconnect */
    bool sealed;          /* keys set: every message but HELLO is sealed */
    uint8_t local_reason; /* netcore_disconnect_reason of our own disconnect */
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
    netcore_host_stats counters; /* admission, drop and crypto counters only */
    /* Sealing: max_peers key pairs and max_peers * lane_count lane states
     * (made at create unless seal_disabled); two message buffers of
     * max_message_bytes + NETCORE_SEAL_MAX_OVERHEAD_BYTES, made when the
     * first peer is sealed (rx holds an opened message until the next poll,
     * tx a message being sealed, so an echo never overwrites what it reads). */
    nci_seal_keys *seal_keys;
    nci_seal_state *seal_states;
    uint8_t *seal_rx_buf;
    uint8_t *seal_tx_buf;
    nci_seal_lane seal_lanes[NCI_MAX_LANES];
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

/* transport.c */

/* netcore_host_create on an injected clock (NULL: the backend's own). Over
 * ENet, the backend's deadlines, netcore_host_now_us and the rate window then
 * follow clock, while ENet itself reads enet_time_get(): only a test that
 * replaces both (tests/support/enet_vnet.h) gets a host on virtual time.
 * Errors: those of netcore_host_create. */
netcore_result nci_host_create_clocked(const netcore_host_config *config, const nci_clock *clock,
                                       netcore_host **out_host);

/* transport_config.c */

/* True if every percentage of the profile is a finite 0..100. */
bool nci_link_profile_ok(const netcore_link_profile *profile);

/* NETCORE_OK, or NETCORE_ERR_INVALID_ARGUMENT for any field out of range
 * (see netcore_host_config in transport.h). */
netcore_result nci_host_config_validate(const netcore_host_config *config);

/* Fills lane_modes, lane_count and the channel <-> lane maps of a host from
 * host->cfg (validated) and host->ops (native_reliable_unordered). */
void nci_host_build_lanes(netcore_host *host);

/* transport_seal.c */

/* Makes the per-peer seal tables and the lane bindings (after
 * nci_host_build_lanes). Errors: NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result nci_host_seal_create(netcore_host *host);
/* Wipes the keys and frees everything nci_host_seal_create and
 * nci_host_seal_begin made. */
void nci_host_seal_destroy(netcore_host *host);
/* Starts sealing slot with keys (as this host uses them: tx, rx): counters
 * from 0. Errors: NETCORE_ERR_OUT_OF_MEMORY (message buffers), NETCORE_ERR_STATE
 * (seal_disabled). */
netcore_result nci_host_seal_begin(netcore_host *host, uint32_t slot, const uint8_t *tx_key,
                                   const uint8_t *rx_key);
/* After the admission callback said yes to a pending slot: checks the
 * token's IP binding (counting token_address_rejected), then the sealing
 * policy (keys required unless seal_disabled; the client's HELLO flag must
 * agree), and starts sealing. NETCORE_OK, or the code to refuse the peer with. */
netcore_result nci_host_seal_settle(netcore_host *host, uint32_t slot, bool hello_sealed,
                                    const netcore_admission_grant *grant);
/* Wipes a slot's keys and counters (claim and release). */
void nci_host_seal_clear(netcore_host *host, uint32_t slot);
/* Sends one message on a lane of a sealed slot. Errors: those of the
 * backend's send, NETCORE_ERR_EXPIRED (counter limit reached: nothing sent). */
netcore_result nci_host_seal_send(netcore_host *host, uint32_t slot, uint8_t lane, const void *data,
                                  size_t size_bytes);
/* Opens a message received on a sealed slot; counts every failure. On
 * NCI_SEAL_OPENED *out_data points into the host's rx buffer (valid until the
 * next poll). */
nci_seal_verdict nci_host_seal_open(netcore_host *host, uint32_t slot, uint8_t lane,
                                    const uint8_t *data, size_t size_bytes,
                                    const uint8_t **out_data, size_t *out_size);

/* For tests of counter exhaustion: moves every lane's send and receive
 * counter of a sealed peer to value (receive windows emptied). Errors:
 * NETCORE_ERR_NOT_CONNECTED (unknown id), NETCORE_ERR_STATE (not sealed). */
netcore_result nci_host_seal_jump(netcore_host *host, netcore_peer_id peer, uint64_t value);

/* transport_stats.c */

/* Zeroes the traffic counters of a slot that is claimed or released. */
void nci_traffic_clear(netcore_host *host, uint32_t slot);

/* Ends the rate window if NCI_STATS_WINDOW_US have passed since it began at
 * host->window_start_us: rates of the host and of every slot in use become
 * the window's averages. now_us is the host's clock. */
void nci_traffic_roll(netcore_host *host, uint64_t now_us);

#endif /* NETCORE_TRANSPORT_HOST_H */
