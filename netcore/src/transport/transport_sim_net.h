/* Simulated transport backend, level 0 of its five files (internal): the
 * simulated network (hosts' addresses, routing through the conditioner links,
 * the simulation's clock), the wire format, the types every level shares and
 * the event ring. The files form one chain, each calling only those below it:
 *   transport_sim_net.c   the network, datagram output, events   (this header)
 *   transport_sim_lane.c  lanes: queues, acks, resends, fragments (_lane.h)
 *   transport_sim_recv.c  the receive path of DATA datagrams     (_recv.h)
 *   transport_sim_conn.c  connections: handshake, dispatch, timers (_conn.h)
 *   transport_sim.c       the backend operations on top          (_internal.h)
 * tests/layers/check_sim_levels.sh fails when a call or an include goes up.
 *
 * Wire format, little-endian. Every datagram starts with a 10-byte header:
 *   u8 protocol id, u8 type, u16 destination slot, u16 source slot, u32 session
 * The session is chosen by the connecting client and names the connection;
 * the slots let the receiver find the peer without a search.
 *   CONNECT        + u32 connect_data, u32 time stamp (us), u16 mtu,
 *                    u8 lane count, u8 mode[count]
 *   ACCEPT         + u16 mtu, u32 time stamp of the CONNECT answered
 *   DATA           + u8 flags, u16 seq, u16 ack, u32 ack_bits, then chunks
 *   DISCONNECT     + u32 data32
 *   DISCONNECT_ACK (header only)
 * DATA chunks:
 *   PING     u8 kind
 *   MESSAGE  u8 kind, u8 lane, u16 msg seq, u16 length, bytes
 *   FRAGMENT u8 kind, u8 lane, u16 msg seq, u16 index, u16 count, u32 total,
 *            u16 length, bytes
 * A DATA datagram carrying chunks has a sequence number and is acknowledged
 * by the receiver's next datagram (ack = newest seq received, bit i of
 * ack_bits = seq ack - 1 - i), so one datagram acknowledges up to 33. */
#ifndef NETCORE_TRANSPORT_SIM_NET_H
#define NETCORE_TRANSPORT_SIM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transport/conditioner.h"
#include "core/core_internal.h"
#include "transport/transport_internal.h"

#define NCI_SIM_PROTOCOL_ID 0xa7u
#define NCI_SIM_MAX_MTU 4096u
#define NCI_SIM_MIN_MTU 576u
#define NCI_SIM_HEADER_BYTES 10u
#define NCI_SIM_DATA_HEADER_BYTES 19u
#define NCI_SIM_MESSAGE_CHUNK_BYTES 6u
#define NCI_SIM_FRAGMENT_CHUNK_BYTES 14u
#define NCI_SIM_NO_SLOT 0xffffu

/* Reliable messages in flight per lane (and the receiver's reorder window). */
#define NCI_SIM_WINDOW 256u
/* Acknowledgeable datagrams in flight per peer; also caps a burst. */
#define NCI_SIM_SENT_RING 512u
/* Reliable chunks one datagram may carry (they are recorded for its ack). */
#define NCI_SIM_ENTRIES_PER_DATAGRAM 32u
/* Unreliable messages being reassembled at once per lane. */
#define NCI_SIM_UNRELIABLE_ASSEMBLIES 4u
/* Incomplete unreliable messages are abandoned after this long. */
#define NCI_SIM_ASSEMBLY_TIMEOUT_US 3000000u
/* Free single-chunk message blocks kept per host for reuse. */
#define NCI_SIM_MESSAGE_POOL_MAX 512u
/* Messages queued (not yet acknowledged) per peer before send says FULL. */
#define NCI_SIM_MAX_QUEUED_MESSAGES 4096u

typedef enum nci_sim_datagram_type {
    NCI_SIM_CONNECT = 1,
    NCI_SIM_ACCEPT,
    NCI_SIM_DATA,
    NCI_SIM_DISCONNECT,
    NCI_SIM_DISCONNECT_ACK
} nci_sim_datagram_type;

typedef enum nci_sim_chunk_kind {
    NCI_SIM_CHUNK_PING = 1,
    NCI_SIM_CHUNK_MESSAGE,
    NCI_SIM_CHUNK_FRAGMENT
} nci_sim_chunk_kind;

#define NCI_SIM_FLAG_SEQ 0x01u /* the datagram has a seq and wants an ack */
#define NCI_SIM_FLAG_ACK 0x02u /* ack and ack_bits are meaningful */

typedef enum nci_sim_peer_state {
    NCI_SIM_PEER_FREE = 0,
    NCI_SIM_PEER_CONNECTING, /* client: CONNECT sent, waiting for ACCEPT */
    NCI_SIM_PEER_CONNECTED,
    NCI_SIM_PEER_DISCONNECTING, /* local graceful close: draining, then DISCONNECT until acked */
    NCI_SIM_PEER_REMOTE_CLOSED  /* remote closed: deliver what is complete, then the event */
} nci_sim_peer_state;

/* Send state of one fragment of a reliable message. */
typedef struct nci_sim_fragment_tx {
    uint64_t sent_us;
    uint16_t send_count;
    bool acked;
} nci_sim_fragment_tx;

/* One queued outgoing message; one allocation holds the struct, the
 * fragment states (reliable only) and the payload. */
typedef struct nci_sim_message {
    struct nci_sim_message *next;
    nci_sim_fragment_tx *fragments; /* reliable only */
    uint8_t *data;
    uint32_t size_bytes;
    uint64_t due_us; /* reliable: earliest time a fragment needs (re)sending */
    uint16_t seq;
    uint16_t fragment_count; /* 1 when it fits one chunk */
    uint16_t fragments_unacked;
    bool pooled; /* a recyclable single-chunk block */
} nci_sim_message;

typedef struct nci_sim_lane_tx {
    nci_sim_message *head; /* waiting: outside the window (reliable) or unsent (unreliable) */
    nci_sim_message *tail;
    nci_sim_message *window[NCI_SIM_WINDOW]; /* reliable in flight, by seq % window */
    uint16_t next_seq;
    uint16_t oldest_seq; /* reliable: oldest not fully acknowledged */
} nci_sim_lane_tx;

typedef enum nci_sim_assembly_state {
    NCI_SIM_ASM_EMPTY = 0,
    NCI_SIM_ASM_PARTIAL,
    NCI_SIM_ASM_COMPLETE, /* waiting for delivery */
    NCI_SIM_ASM_DELIVERED /* reliable unordered: delivered ahead of the window base */
} nci_sim_assembly_state;

/* A message being received. block holds the fragment bitmap followed by the payload. */
typedef struct nci_sim_assembly {
    uint8_t *block;
    uint8_t *data;
    uint32_t size_bytes;
    uint64_t started_us;
    uint16_t seq;
    uint16_t fragment_count;
    uint16_t fragments_missing;
    uint8_t state;
} nci_sim_assembly;

typedef struct nci_sim_lane_rx {
    /* reliable: NCI_SIM_WINDOW slots by seq % window; unreliable:
     * NCI_SIM_UNRELIABLE_ASSEMBLIES slots for fragmented messages */
    nci_sim_assembly *slots;
    uint16_t base;                           /* reliable: oldest seq not yet delivered */
    uint32_t ready;                          /* reliable: COMPLETE slots */
    bool has_newest;                         /* unreliable: a message was seen */
    uint16_t newest_seq;                     /* unreliable: newest seq delivered */
    uint64_t seen_bits[NCI_SIM_WINDOW / 64]; /* unordered: bit d = newest_seq - d delivered */
} nci_sim_lane_rx;

/* One acknowledgeable datagram sent to a peer. */
typedef struct nci_sim_sent_entry {
    uint16_t seq;
    uint16_t fragment;
    uint8_t lane;
} nci_sim_sent_entry;

typedef enum nci_sim_sent_state {
    NCI_SIM_SENT_FREE = 0,
    NCI_SIM_SENT_IN_FLIGHT,
    NCI_SIM_SENT_LOST, /* given up on (its chunks resent); a late ack still releases them */
    NCI_SIM_SENT_ACKED
} nci_sim_sent_state;

typedef struct nci_sim_sent {
    uint64_t sent_us;
    uint16_t seq;
    uint8_t state;
    uint8_t entry_count;
    nci_sim_sent_entry entries[NCI_SIM_ENTRIES_PER_DATAGRAM];
} nci_sim_sent;

typedef struct nci_sim_peer {
    uint8_t state; /* nci_sim_peer_state */
    uint16_t remote_slot;
    uint32_t session;
    uint32_t connect_data;
    uint32_t close_data32; /* ours while DISCONNECTING, the remote's once REMOTE_CLOSED */
    netcore_address address;
    uint64_t address_key;
    uint32_t mtu_bytes; /* min of both ends */
    uint64_t state_since_us;
    uint64_t next_control_us; /* next CONNECT or DISCONNECT (re)send */
    uint64_t control_interval_us;
    uint64_t last_ack_us;       /* last time the remote acknowledged something new */
    uint64_t last_eliciting_us; /* last acknowledgeable datagram sent */

    uint16_t tx_seq;        /* next datagram seq */
    uint16_t loss_scan_seq; /* oldest datagram not yet classified acked or lost */
    nci_sim_sent *sent;     /* NCI_SIM_SENT_RING records */
    bool rx_any;
    bool ack_owed;
    uint16_t acks_unsent; /* acknowledgeable datagrams received since our last ack */
    uint16_t rx_ack;
    uint32_t rx_ack_bits;

    bool has_rtt;
    double srtt_us;
    double rttvar_us;
    float loss_pct;

    nci_sim_lane_tx *tx; /* lane_count each, allocated at first use of the slot */
    nci_sim_lane_rx *rx;
    uint32_t queued_messages;
    size_t queued_bytes;
    size_t rx_bytes; /* held in reliable assemblies */
    bool ready;      /* complete messages or a close event waiting */
} nci_sim_peer;

typedef struct nci_sim_event {
    nci_backend_event event;
    void *owned; /* freed once the event was handed out and the next call came */
} nci_sim_event;

/* Counters of one simulated host beyond netcore_host_stats. */
typedef struct nci_sim_counters {
    uint64_t malformed_dropped;  /* failed validation */
    uint64_t unmatched_dropped;  /* well-formed but for no known connection */
    uint64_t rx_budget_dropped;  /* refused (not acknowledged): receive memory budget */
    uint64_t oversize_dropped;   /* messages above max_message_bytes */
    uint64_t assemblies_expired; /* incomplete unreliable messages abandoned */
    uint64_t fragments_resent;   /* reliable chunks sent again */
    uint64_t duplicates_dropped; /* message chunks already received */
} nci_sim_counters;

typedef struct nci_sim_host {
    netcore_sim *sim;
    uint32_t index; /* in the simulation's host table */
    netcore_allocator allocator;
    netcore_log log;
    nci_log_limiter log_limiter;
    nci_rng rng;
    netcore_address address;
    uint64_t address_key;
    uint32_t max_peers;
    uint32_t lane_count;
    uint8_t lane_modes[NCI_MAX_LANES];
    uint32_t mtu_bytes;
    uint32_t max_message_bytes;
    uint64_t ping_interval_us;
    uint64_t timeout_us;
    uint64_t connect_timeout_us;
    uint64_t retransmit_cap_us; /* resend interval cap, raised to the RTO; 0: none */
    size_t tx_budget_bytes;
    size_t rx_budget_bytes;
    nci_link *inbound;
    nci_link *outbound;
    nci_sim_peer *peers;
    nci_sim_event *events; /* ring */
    uint32_t event_capacity;
    uint32_t event_head;
    uint32_t event_count;
    void *handed_out;   /* owned buffer of the event returned last */
    uint8_t *rx_buffer; /* the datagram being parsed; RECEIVE events may point into it */
    uint8_t *tx_buffer;
    uint32_t ready_peers;
    bool work_pending;             /* input since the last timer and flush pass */
    uint64_t last_work_us;         /* time of that pass */
    nci_sim_message *message_pool; /* free single-chunk message blocks */
    uint32_t message_pool_count;
    uint64_t wire_bytes_sent;
    uint64_t wire_bytes_received;
    uint64_t datagrams_sent;
    uint64_t datagrams_received;
    nci_sim_counters counters;
} nci_sim_host;

/* ---- shared helpers ---- */

static inline void nci_sim_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void nci_sim_put_u32(uint8_t *p, uint32_t v)
{
    nci_sim_put_u16(p, (uint16_t)v);
    nci_sim_put_u16(p + 2, (uint16_t)(v >> 16));
}

static inline uint16_t nci_sim_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t nci_sim_get_u32(const uint8_t *p)
{
    return (uint32_t)nci_sim_get_u16(p) | ((uint32_t)nci_sim_get_u16(p + 2) << 16);
}

/* a is newer than b, with wraparound. */
static inline bool nci_sim_seq_newer(uint16_t a, uint16_t b)
{
    return (int16_t)(uint16_t)(a - b) > 0;
}

static inline bool nci_sim_lane_reliable(const nci_sim_host *host, uint32_t lane)
{
    return host->lane_modes[lane] == NCI_LANE_RELIABLE_ORDERED ||
           host->lane_modes[lane] == NCI_LANE_RELIABLE_UNORDERED;
}

/* A message of total bytes is cut into count pieces of equal size (the last
 * one shorter); fragment index covers [offset, offset + length). */
static inline uint32_t nci_sim_piece_bytes(uint32_t total, uint32_t count)
{
    return (total + count - 1) / count;
}

static inline uint32_t nci_sim_fragment_offset(uint32_t total, uint32_t count, uint32_t index)
{
    return index * nci_sim_piece_bytes(total, count);
}

static inline uint32_t nci_sim_fragment_length(uint32_t total, uint32_t count, uint32_t index)
{
    uint32_t piece = nci_sim_piece_bytes(total, count);
    return index + 1 < count ? piece : total - (count - 1) * piece;
}

/* ---- transport_sim_net.c ---- */

/* Finds a free place in the simulation's host table for a new host (not yet
 * taken: nci_sim_net_attach takes it) and the address it will have:
 * 127.100.x.y (x.y = index + 1) with bind_port, or an ephemeral port when 0.
 * *out_seed is the simulation's seed. Errors: NETCORE_ERR_FULL. */
netcore_result nci_sim_net_reserve(netcore_sim *sim, uint16_t bind_port, uint32_t *out_index,
                                   netcore_address *out_address, uint64_t *out_seed);
/* Puts a host made at a reserved index into the table: datagrams reach it. */
void nci_sim_net_attach(netcore_sim *sim, nci_sim_host *host);
/* Sends everything still on the host's outbound link on its way (with its
 * own times) and takes the host out of the table. */
void nci_sim_net_detach(nci_sim_host *host);
/* Submits one datagram from host to the packed destination address at the
 * simulation's current time (through the host's outbound link). */
void nci_sim_send_datagram(nci_sim_host *host, uint64_t to_key, const uint8_t *data,
                           size_t size_bytes);
/* Appends an event; owned (may be NULL) is freed after the event is handed
 * out. Returns false (and frees owned) when the ring is full. */
bool nci_sim_push_event(nci_sim_host *host, nci_backend_event_type type, uint32_t slot,
                        uint32_t data32, uint8_t lane, const uint8_t *data, size_t size_bytes,
                        void *owned);
/* The simulation's clock, in microseconds. */
uint64_t nci_sim_host_now_us(const nci_sim_host *host);
/* IPv4 address and port packed into 48 bits; 0 for any other family. */
uint64_t nci_sim_address_key(const netcore_address *address);
netcore_address nci_sim_key_address(uint64_t key);
/* Moves every datagram due on any host's outbound link onto its destination's
 * inbound link. */
void nci_sim_pump(netcore_sim *sim);
/* Writes the 10-byte common header into out. */
void nci_sim_write_header(uint8_t *out, uint8_t type, uint16_t dest_slot, uint16_t src_slot,
                          uint32_t session);

#endif /* NETCORE_TRANSPORT_SIM_NET_H */
