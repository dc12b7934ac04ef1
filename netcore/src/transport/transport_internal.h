/* The seam between the common transport layer (transport.c) and its backends
 * (transport_enet.c, transport_sim.c). Internal.
 *
 * transport.c owns everything a game sees: peer ids and generations, the
 * control lane (hello with token, welcome), admission and its timeouts,
 * channel -> lane mapping, payload stats and the event contract.
 * A backend only moves messages on numbered lanes between peer slots, runs
 * the connection handshake, keep-alive, timeouts and RTT measurement.
 *
 * Rules every backend keeps (transport.c relies on them):
 *   - send may refuse a message with NETCORE_ERR_FULL when the slot's queue is
 *     full; transport.c passes that on to the caller, nothing is queued.
 *   - Received data (nci_backend_event.data) stays valid until the backend's
 *     next service call. flush must not free it: a game may flush while it
 *     still reads the message it was just given.
 *   - A graceful disconnect produces a DISCONNECT event only for a slot the
 *     backend has reported with CONNECT. A slot still connecting is ended with
 *     disconnect_now, and transport.c makes the application's event itself.
 *   - host_stats takes a const backend, so counters that need folding (such
 *     as ENet's 32-bit ones) are collected during service and flush.
 *   - now_us is read only when transport.c needs the time (a wait, an armed
 *     deadline, the rate window; see recent_ms), not on every poll. */
#ifndef NETCORE_TRANSPORT_INTERNAL_H
#define NETCORE_TRANSPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/transport.h"

/* Lane 0 is always the control lane (reliable ordered). Channels map to lanes 1..; */
#define NCI_MAX_LANES 255

typedef enum nci_lane_mode {
    NCI_LANE_RELIABLE_ORDERED = 0,
    NCI_LANE_RELIABLE_UNORDERED, /* only offered when ops->native_reliable_unordered */
    NCI_LANE_UNRELIABLE_SEQUENCED,
    NCI_LANE_UNRELIABLE_UNORDERED
} nci_lane_mode;

typedef enum nci_backend_event_type {
    NCI_BEV_NONE = 0,
    NCI_BEV_CONNECT,    /* handshake complete (client: outgoing; server: incoming) */
    NCI_BEV_DISCONNECT, /* slot is free after this event */
    NCI_BEV_RECEIVE
} nci_backend_event_type;

typedef struct nci_backend_event {
    nci_backend_event_type type;
    uint32_t slot; /* 0..max_peers-1, stable for the connection */
    /* CONNECT: the connect_data the client gave. DISCONNECT: the data32 the
     * remote passed to disconnect, 0 on timeout, failed connect, or when our
     * own graceful disconnect completed. */
    uint32_t data32;
    uint8_t lane;
    /* RECEIVE: the message came through the backend's reliable machinery
     * (acknowledged, sequenced). A lane's mode alone does not say so: ENet's
     * channel id travels unauthenticated, so an altered datagram can carry an
     * unreliable command onto a reliable lane. */
    bool reliable;
    const uint8_t *data; /* RECEIVE: owned by the backend until its next service call */
    size_t size_bytes;
} nci_backend_event;

/* Link figures of one peer slot. */
typedef struct nci_peer_link {
    netcore_address address; /* the remote's real address */
    float rtt_ms;
    float rtt_variance_ms;
    float loss_pct;
} nci_peer_link;

/* A clock for a backend that must not read the real one (ENet over a test's
 * virtual network): microseconds, monotonic, moved only by its owner. */
typedef struct nci_clock {
    uint64_t (*now_us)(void *user);
    void *user;
} nci_clock;

typedef struct nci_backend_ops {
    const char *name;
    bool native_reliable_unordered;
    /* A lane message of at most the peer's MTU minus this many bytes goes
     * out whole in one datagram; a larger one is split into fragments
     * (netcore_host_max_unfragmented_bytes). */
    uint32_t unfragmented_overhead_bytes;
    /* lane_modes[0] is the control lane. cfg was validated by transport.c.
     * clock: NULL for the backend's own (the simulated network ignores it);
     * the backend copies it and reads it for every deadline of its own. */
    netcore_result (*create)(const netcore_host_config *cfg, const nci_lane_mode *lane_modes,
                             uint32_t lane_count, const nci_clock *clock, void **out_backend);
    /* Notifies every peer best-effort (data32 = shutdown; a peer whose graceful
     * disconnect is still waiting hears that disconnect's data32 instead),
     * frees everything, no events. */
    void (*destroy)(void *backend, uint32_t shutdown_data32);
    /* The bound address with its actual port. */
    netcore_result (*local_address)(const void *backend, netcore_address *out_address);
    /* Starts a handshake on a free slot (*out_slot); CONNECT or DISCONNECT
     * follows from service. Errors: NETCORE_ERR_FULL (no free slot),
     * NETCORE_ERR_UNSUPPORTED (address family), NETCORE_ERR_OUT_OF_MEMORY,
     * NETCORE_ERR_SOCKET. */
    netcore_result (*connect)(void *backend, const netcore_address *to, uint32_t connect_data,
                              uint32_t *out_slot);
    /* Graceful, for the application's own netcore_host_disconnect: what is
     * already queued to the slot is delivered first, then the remote hears
     * data32 reliably, then a DISCONNECT event for the slot, but only if the
     * backend reported CONNECT for it; a slot still connecting must be ended
     * with disconnect_now instead. Bounded: whatever is still queued after
     * the host's timeout_ms is dropped and the disconnect goes on as
     * disconnect does. */
    void (*disconnect_later)(void *backend, uint32_t slot, uint32_t data32);
    /* For reasons of the library's own (a refused admission, an exhausted
     * seal counter): the backend may drop what is queued (ENet does; the
     * simulated network delivers it, as for disconnect_later), the remote
     * hears data32 reliably, bounded by timeout_ms; then a DISCONNECT event
     * as for disconnect_later. */
    void (*disconnect)(void *backend, uint32_t slot, uint32_t data32);
    /* Immediate: the slot is free on return; the remote is told best-effort; no event. */
    void (*disconnect_now)(void *backend, uint32_t slot, uint32_t data32);
    /* data is copied. Errors: NETCORE_ERR_NOT_CONNECTED, NETCORE_ERR_FULL (the
     * slot's send queue is full; nothing was queued), NETCORE_ERR_OUT_OF_MEMORY. */
    netcore_result (*send)(void *backend, uint32_t slot, uint8_t lane, const void *data,
                           size_t size_bytes);
    /* One event or NCI_BEV_NONE; fills all of *out_event, which transport.c
     * does not clear first. RECEIVE data stays valid until the next service
     * call (not freed by flush). See netcore_host_poll for timeout_ms. */
    netcore_result (*service)(void *backend, uint32_t timeout_ms, nci_backend_event *out_event);
    /* Sends what is queued without receiving; received data stays valid. */
    netcore_result (*flush)(void *backend);
    /* Fills *out_link for a slot (zeroed where the backend knows nothing). */
    void (*peer_link)(const void *backend, uint32_t slot, nci_peer_link *out_link);
    /* Fills the wire_*, datagrams_* and conditioner_* fields; leaves the rest
     * alone. The backend is const: counters are gathered during service and flush. */
    void (*host_stats)(const void *backend, netcore_host_stats *out_stats);
    /* Replaces both profiles (validated by transport.c). Errors:
     * NETCORE_ERR_STATE when this backend was created unable to condition. */
    netcore_result (*set_conditioner)(void *backend, const netcore_link_profile *inbound,
                                      const netcore_link_profile *outbound);
    /* The backend's clock in microseconds (real or simulated). */
    uint64_t (*now_us)(const void *backend);
    /* Optional (NULL: transport.c reads now_us instead). A millisecond count
     * the backend has at hand without reading a clock, such as the time its
     * last service call read. It may lag, wrap or jump: transport.c only uses
     * it to decide when reading now_us is due for the rate window. */
    uint32_t (*recent_ms)(const void *backend);
} nci_backend_ops;

extern const nci_backend_ops nci_backend_enet;
extern const nci_backend_ops nci_backend_sim;

/* disconnect data32 layout used by transport.c: reason in the top 8 bits,
 * code in the low 24. 0 means "no reason given" (timeout). */
#define NCI_DISCONNECT_DATA(reason, code)                                                          \
    ((((uint32_t)(reason)&0xffu) << 24) | ((uint32_t)(code)&0xffffffu))
#define NCI_DISCONNECT_REASON(data32) ((uint32_t)(data32) >> 24)
#define NCI_DISCONNECT_CODE(data32) ((uint32_t)(data32)&0xffffffu)

#endif /* NETCORE_TRANSPORT_INTERNAL_H */
