/* ENet backend internals shared by transport_enet.c (the backend operations)
 * and transport_enet_upkeep.c (the datagram guard's hook and the per-
 * millisecond upkeep: wire counters and the retransmission cap). */
#ifndef NETCORE_TRANSPORT_ENET_INTERNAL_H
#define NETCORE_TRANSPORT_ENET_INTERNAL_H

#include <enet/enet.h>
#include <string.h>

#include "transport/enet_guard.h"
#include "transport/relay.h"
#include "transport/transport_internal.h"

/* Slot states are re-read at least this often, so half-open handshakes are
 * freed within handshake_timeout_ms plus this. */
#define GUARD_SYNC_INTERVAL_MS 100u

/* Retransmission cap (cfg->retransmit_timeout_max_ms). ENet 1.3 doubles a
 * reliable command's roundTripTimeout on every resend without limit and
 * drops the peer at the first check where the oldest timed-out send is
 * timeoutMaximum old; once the doubled timeout exceeds timeoutMaximum, that
 * check is the resend itself, however recently the peer acknowledged other
 * commands. After every service call the backend therefore clamps each
 * unacknowledged command's roundTripTimeout to the peer's cap, keeps it
 * below its roundTripTimeoutLimit (so the disconnect rests on
 * timeoutMaximum alone, counted from the earliest send that timed out since
 * the last acknowledgement), and pulls nextTimeout in so the clamped resend
 * happens on time. The pass runs at most once per millisecond of ENet's
 * service clock (resend timeouts are whole milliseconds, so a clamp is at
 * most that late). ENet appends every command it sends or resends to the
 * tail of sentReliableCommands, so a peer whose tail is the same command
 * with the same sentTime as after the last pass has nothing new to clamp
 * and its list is not walked. */

/* Fields read by every service and send come first, then the lane flags
 * (only the first few entries are ever read), then what only create,
 * connect, the clamp pass and stats read. */
/* Per slot: the queue-length check of enet_send (MAX_QUEUED_COMMANDS). */
typedef struct send_check {
    uint32_t sends_since_check;
    bool queue_full;
} send_check;

/* Per slot: a graceful disconnect waiting for its queue to drain
 * (enet_peer_disconnect_later), and when it stops waiting. */
typedef struct peer_linger {
    bool active;
    enet_uint32 until_ms; /* ENet's service clock */
} peer_linger;

typedef struct enet_backend {
    ENetHost *host;
    ENetPacket *held;        /* last received packet, owned until the next service() */
    send_check *send_checks; /* by slot */
    peer_linger *lingers;    /* by slot */
    uint32_t lingering;      /* slots with an active linger */
    uint32_t lane_count;
    enet_uint32 retransmit_cap_ms; /* 0: ENet's uncapped backoff */
    enet_uint32 upkeep_at_ms;      /* ENet's service time of the last upkeep pass */
    bool conditioned;
    bool is_server;
    /* Datagram guard (NULL when disabled). */
    bool guard_sync_needed;    /* a slot may have been taken since the last sync */
    uint32_t guard_service_ms; /* ENet's clock when guard_clock_ms was advanced */
    nci_guard *guard;
    uint64_t guard_clock_ms; /* ENet's service clock, widened to 64 bits */
    uint64_t guard_synced_ms;
    enet_uint32 lane_flags[NCI_MAX_LANES];   /* the lanes in use share the lines above */
    const ENetOutgoingCommand **capped_tail; /* by slot: tail after the last clamp pass */
    enet_uint32 *capped_tail_sent;           /* by slot: its sentTime then */
    uint64_t wire_bytes_sent;
    uint64_t wire_bytes_received;
    uint64_t datagrams_sent;
    uint64_t datagrams_received;
    uint64_t receive_errors_dropped;
    netcore_allocator allocator;
    netcore_log log;
    nci_clock clock; /* now_us NULL: netcore_time_now_us() */
    uint32_t max_peers;
    uint32_t ping_interval_ms;
    uint32_t timeout_ms;
    netcore_address local;
    /* Conditioner (all NULL/zero when disabled). */
    netcore_conditioner_config conditioner;
    netcore_address bind_address;
    nci_relay *server_relay;
    nci_relay **client_relays;       /* by slot */
    netcore_address *client_targets; /* by slot: the real server address */
    uint64_t relays_made;
    netcore_conditioner_stats closed_inbound; /* client relays already destroyed */
    netcore_conditioner_stats closed_outbound;
} enet_backend;

static inline netcore_address nci_from_enet_address(const ENetAddress *in)
{
    netcore_address out;
    memset(&out, 0, sizeof out);
    out.family = NETCORE_ADDRESS_IPV4;
    memcpy(out.bytes, &in->host, 4);
    out.port = in->port;
    return out;
}

/* Tells the guard what every slot holds now; with free_expired (never from
 * inside ENet's receive loop) a server slot stuck in its handshake is freed. */
void nci_enet_guard_sync(enet_backend *b, uint64_t now_ms, bool free_expired);

/* ENet's service clock widened to 64 bits: the guard's clock. */
uint64_t nci_enet_guard_clock_ms(enet_backend *b);

bool nci_enet_guard_sync_due(const enet_backend *b, uint64_t now_ms);

/* ENet's intercept hook: 1 swallows the datagram, 0 lets ENet parse it. */
int ENET_CALLBACK nci_enet_guard_intercept(ENetHost *host, ENetEvent *event);

/* The wire counters and the retransmission cap, once ENet's clock moved. */
void nci_enet_upkeep_pass(enet_backend *b);

/* Graceful disconnects that waited timeout_ms for their queue go on without
 * it (enet_peer_disconnect: queue dropped, notice sent reliably). */
void nci_enet_linger_pass(enet_backend *b);

/* Called after every service and flush: a load and a compare unless ENet's
 * clock moved. */
static inline void nci_enet_upkeep(enet_backend *b)
{
    if (b->host->serviceTime != b->upkeep_at_ms)
        nci_enet_upkeep_pass(b);
}

#endif /* NETCORE_TRANSPORT_ENET_INTERNAL_H */
