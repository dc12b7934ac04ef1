/** @file
 * netcore transport: connection-oriented messaging over UDP for games.
 *
 * A netcore_host is a server (binds an address, accepts peers) or a client
 * (connects out). Messages travel on channels; each channel has one delivery
 * mode fixed at creation. Two backends sit behind the same API:
 *   - ENet (real UDP sockets, real clock), the default;
 *   - a simulated network (netcore_sim) living in one process, driven by an
 *     injected clock and a seed: deterministic, never sleeps.
 * Both carry a link conditioner (latency, jitter, loss, duplication,
 * reordering, bandwidth cap, per direction, seeded).
 *
 * Admission: a server may hold each new peer as "pending" until an admission
 * callback accepts the token the client presented in netcore_host_connect().
 * Pending peers produce no events and their messages are dropped (counted);
 * peers that present nothing within admission_timeout_ms are dropped (counted).
 *
 * Sealing: when the admission callback returns session keys (admission.h),
 * every message after admission, on every channel and in both directions,
 * is encrypted and authenticated (ChaCha20-Poly1305-IETF, a per-lane counter
 * nonce, a replay window). A message that fails to open is never delivered:
 * on an unreliable channel it is dropped, on a reliable one the peer is
 * disconnected with NETCORE_DISCONNECT_CRYPTO_FAILED. Each is counted
 * (crypto_* in netcore_host_stats). See docs/security.md.
 *
 * Event contract: every peer reported by NETCORE_EVENT_CONNECT is later
 * reported by exactly one NETCORE_EVENT_DISCONNECT, whichever side ended the
 * connection (unless the host is destroyed first). A client sees CONNECT only
 * once the server has admitted it.
 *
 * Single-threaded: one host is used by one thread at a time.
 */
#ifndef NETCORE_TRANSPORT_H
#define NETCORE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/address.h"
#include "netcore/admission.h"
#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Link conditioner                                                    */
/* ------------------------------------------------------------------ */

/** Impairments applied to the datagrams of one direction. A zeroed profile is a
 * perfect link. Each datagram independently: dropped with loss_pct; otherwise
 * delayed by latency_ms + uniform(-jitter_ms, +jitter_ms) (never below 0);
 * with reorder_pct held back a further reorder_delay_ms so that later ones
 * overtake it; with duplicate_pct delivered a second time with its own delay.
 * bandwidth_kbps (0 = unlimited) serialises datagrams behind a rate cap; a
 * datagram that would wait more than 1000 ms in that queue is dropped.
 * corrupt_pct alters one random byte of the datagram (each copy on its own),
 * as a faulty or hostile router would. */
typedef struct netcore_link_profile {
    uint32_t latency_ms;       /**< one-way delay added to every datagram */
    uint32_t jitter_ms;        /**< the delay varies uniformly by up to this much either way */
    float loss_pct;            /**< 0..100 */
    float duplicate_pct;       /**< 0..100 */
    float reorder_pct;         /**< 0..100 */
    uint32_t reorder_delay_ms; /**< 0: max(10, 2 * jitter_ms) */
    uint32_t bandwidth_kbps;   /**< kilobits (1000 bits) per second, 0 = unlimited */
    float corrupt_pct;         /**< 0..100: one byte altered */
} netcore_link_profile;

/** Named link profiles for tests, benchmarks and the demo's link menu. */
typedef enum netcore_link_preset {
    NETCORE_LINK_PERFECT = 0, /**< no impairment */
    NETCORE_LINK_LAN,         /**< 1 ms */
    NETCORE_LINK_WIFI,        /**< 20 ms +/- 5, 1% loss */
    NETCORE_LINK_4G,          /**< 60 ms +/- 20, 3% loss */
    NETCORE_LINK_BAD,         /**< 150 ms +/- 50, 10% loss, 2% duplication, 2% reordering */
    NETCORE_LINK_PRESET_COUNT /**< number of presets; not a preset */
} netcore_link_preset;

/** Profile of one direction for a preset (apply it to both directions for a
 * round trip of twice the latency). Unknown presets give a perfect link. */
netcore_link_profile netcore_link_preset_profile(netcore_link_preset preset);
/** "perfect", "lan", "wifi", "4g", "bad"; "unknown" otherwise. Static storage. */
const char *netcore_link_preset_name(netcore_link_preset preset);

/** The link conditioner of one host (netcore_host_config.conditioner):
 * impairments applied in the host's real send and receive path, both backends.
 * Zeroed (as netcore_host_config_default() leaves it): no conditioner. */
typedef struct netcore_conditioner_config {
    /** false: no conditioner at all, zero overhead. The ENet backend needs it
     * enabled at creation to change profiles later; the simulated backend does not. */
    bool enabled;
    uint64_t seed;                 /**< same seed, same sequence of decisions */
    netcore_link_profile inbound;  /**< datagrams this host receives */
    netcore_link_profile outbound; /**< datagrams this host sends */
} netcore_conditioner_config;

/** Counters of one direction of a conditioner. */
typedef struct netcore_conditioner_stats {
    uint64_t forwarded;         /**< datagrams delivered (duplicates included) */
    uint64_t dropped_loss;      /**< dropped by loss_pct */
    uint64_t dropped_bandwidth; /**< dropped because the bandwidth queue was full */
    uint64_t
        dropped_overflow; /**< dropped because the delay queue was full or the datagram too large */
    uint64_t duplicated;  /**< extra copies made */
    uint64_t reordered;   /**< datagrams held back for reordering */
    uint64_t corrupted;   /**< datagrams with one byte altered */
    uint64_t bytes_forwarded; /**< bytes of the datagrams delivered */
} netcore_conditioner_stats;

/* ------------------------------------------------------------------ */
/* Simulated network (in-process backend)                              */
/* ------------------------------------------------------------------ */

/** Opaque handle: made by netcore_sim_create(), freed by netcore_sim_destroy(). */
typedef struct netcore_sim netcore_sim;

/** Settings of a netcore_sim: fill with netcore_sim_config_default(), change
 * what you need, pass to netcore_sim_create() (which copies it). */
typedef struct netcore_sim_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    uint64_t seed;               /**< seeds every host's conditioner and protocol jitter */
    uint64_t start_time_us;      /**< initial value of the simulated clock */
    uint32_t max_hosts;          /**< default 256 */
} netcore_sim_config;

/** Fills *config with the defaults given on each field. NULL is ignored. */
void netcore_sim_config_default(netcore_sim_config *config);
/** Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_sim_create(const netcore_sim_config *config, netcore_sim **out_sim);
/** Every host made in the simulation must be destroyed first. NULL is ignored. */
void netcore_sim_destroy(netcore_sim *sim);
/** Moves the simulated clock forward. Nothing is processed until hosts are polled. */
void netcore_sim_advance(netcore_sim *sim, uint64_t delta_us);
/** The simulated clock in microseconds (start_time_us plus every advance);
 * 0 for NULL. */
uint64_t netcore_sim_now_us(const netcore_sim *sim);

/* ------------------------------------------------------------------ */
/* Hosts, peers, channels                                               */
/* ------------------------------------------------------------------ */

/** Opaque handle: made by netcore_host_create(), freed by netcore_host_destroy(). */
typedef struct netcore_host netcore_host;

/* netcore_peer_id, NETCORE_PEER_NONE, NETCORE_MAX_TOKEN_BYTES, the session
 * keys and the admission callback are in admission.h. */

/** How a channel delivers its messages; chosen per channel at host creation. */
typedef enum netcore_delivery {
    NETCORE_DELIVERY_RELIABLE_ORDERED = 0, /**< every message, once, in send order */
    /** Every message, once, any order: a loss stalls about a quarter of the
     * channel's traffic, not all of it (docs/enet-backend.md says how). */
    NETCORE_DELIVERY_RELIABLE_UNORDERED,
    NETCORE_DELIVERY_UNRELIABLE_SEQUENCED, /**< at most once; a message older than one already delivered is dropped */
    NETCORE_DELIVERY_UNRELIABLE_UNORDERED /**< at most once, any order */
} netcore_delivery;

/** Most channels one host may have (netcore_host_config.channel_count). */
#define NETCORE_MAX_CHANNELS 16
/** Bytes a sealed message adds to the payload: 16 (authentication tag) on a
 * reliable-ordered lane, 19 (tag and 3 counter bytes) on the others. */
#define NETCORE_SEAL_MAX_OVERHEAD_BYTES 19

/** Settings of one channel (netcore_host_config.channels); both ends of a
 * connection must use the same channels. */
typedef struct netcore_channel_config {
    netcore_delivery delivery; /**< how the channel delivers */
} netcore_channel_config;

/**
 * Datagram guard of the real-UDP backend: every received datagram is checked
 * before the backend's protocol parses it, so a forged handshake never costs
 * a peer slot. A zeroed struct (as netcore_host_config_default leaves it)
 * enables the guard with the defaults below and without proof checks; the
 * simulated backend ignores it. On a server the guard:
 *   - drops datagrams that are not well-formed, and datagrams other than a
 *     connection request that do not come from the address holding the peer
 *     slot they name;
 *   - with require_connect_proof, drops CONNECTs whose connect data is not a
 *     valid address proof (token.h: netcore_token_address_proof) for the
 *     datagram's source IP, keyed by proof_key (the lobby's token key);
 *   - caps peers and unfinished handshakes per source IP, rate-limits
 *     CONNECTs (token buckets, global and per IP), and frees a handshake
 *     slot that has not completed within handshake_timeout_ms.
 * A client host drops every CONNECT (clients accept no connections) and the
 * same unknown or malformed datagrams. Every drop is counted by reason in
 * netcore_host_stats (guard_*_dropped). docs/security.md lists each check;
 * docs/enet-backend.md says how the guard sits in front of ENet.
 */
typedef struct netcore_guard_config {
    bool disabled;               /**< true: no guard, the backend's own checks only */
    bool require_connect_proof;  /**< server: CONNECTs must carry an address proof */
    uint8_t proof_key[32];       /**< the lobby's token key (NETCORE_TOKEN_KEY_BYTES) */
    uint32_t proof_clock_skew_s; /**< 0: 5 s tolerated between lobby and server clocks */
    /** Seconds on the lobby's clock for proof expiry; NULL: UNIX time. */
    uint64_t (*proof_clock_s)(void *user);
    void *proof_clock_user;         /**< passed to proof_clock_s unchanged */
    uint32_t max_peers_per_ip;      /**< 0: max_peers (many bots may share 127.0.0.1) */
    uint32_t max_handshakes_per_ip; /**< unfinished handshakes per IP; 0: max_peers */
    /** A slot still handshaking after this is freed. 0: the host's timeout_ms
     * (10 s by default), so slow, lossy links still complete handshakes;
     * 2000..3000 suits a server whose players have round trips under ~300 ms. */
    uint32_t handshake_timeout_ms;
    uint32_t
        connect_rate_per_s; /**< CONNECTs let through per second, all IPs; 0: max(1000, 4 * max_peers) */
    uint32_t connect_burst;         /**< bucket size; 0: max(256, 2 * max_peers) */
    uint32_t ip_connect_rate_per_s; /**< per IP; 0: max(100, max_peers) */
    uint32_t ip_connect_burst;      /**< per IP; 0: max(32, max_peers + 16) */
    uint32_t
        ip_table_entries; /**< per-IP rate buckets remembered; 0: 1024; rounded up to a power of two, at most 65536 */
} netcore_guard_config;

/** Settings of a netcore_host: fill with netcore_host_config_default(), change
 * what you need, pass to netcore_host_create() (which copies it). */
typedef struct netcore_host_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    netcore_log log;             /**< where messages go; zeroed: nowhere */
    bool is_server;              /**< true: accepts connections; false (default): connects out */
    /** Server: address to listen on (family NONE = every IPv4 interface); port 0
     * picks an ephemeral port, read it back with netcore_host_address().
     * Client: local address to send from, normally left zeroed. */
    netcore_address bind_address;
    uint32_t max_peers;     /**< default 64; 1..4095 */
    uint32_t channel_count; /**< default 4; 1..NETCORE_MAX_CHANNELS */
    netcore_channel_config
        channels[NETCORE_MAX_CHANNELS]; /**< default: channel i uses delivery i (0..3) */
    /** Largest datagram the host sends, in bytes (UDP payload, protocol
     * headers included); default 1392; 576..4096. The largest message that
     * still travels in one datagram: netcore_host_max_unfragmented_bytes(). */
    uint32_t mtu_bytes;
    uint32_t
        max_message_bytes; /**< default 262144; larger sends fail, larger receives are dropped */
    uint32_t incoming_bandwidth_kbps; /**< 0 = unlimited (default); the simulated backend */
    uint32_t
        outgoing_bandwidth_kbps; /**< ignores both: cap it with the conditioner's bandwidth_kbps */
    uint32_t ping_interval_ms;   /**< default 500 */
    uint32_t
        timeout_ms; /**< default 10000: a peer that acknowledges nothing for this long is dropped */
    /** Longest wait, in milliseconds, before an unacknowledged reliable
     * datagram is sent again: each resend waits twice as long as the one
     * before until this cap is reached. For each peer the cap is raised to
     * that peer's own resend timeout (round trip + 4 x its variance), so a
     * slow link is never resent faster than it can answer. Default 1000:
     * with timeout_ms 10000 a peer gets about ten more tries after the
     * backoff has reached the cap, so timeout_ms (silence since the last
     * acknowledgement) alone decides when a lossy but living link is given
     * up. 0: no cap, the backend's own backoff, which on lossy links with
     * long round trips drops peers well before timeout_ms of silence
     * (docs/enet-backend.md). Valid: 0..60000. */
    uint32_t retransmit_timeout_max_ms;
    uint32_t connect_timeout_ms; /**< default 5000: client gives up connecting (incl. admission) */
    uint32_t
        admission_timeout_ms; /**< default 2000: server drops a peer still pending after this */
    netcore_admission_fn admission; /**< NULL: admit every peer that completes the handshake */
    void *admission_user;           /**< passed to admission unchanged */
    netcore_conditioner_config conditioner; /**< zeroed (default): no impairments */
    /** NULL: the ENet backend on real UDP. Otherwise the host lives in this
     * simulated network (it must outlive the host) and uses its clock. */
    netcore_sim *sim;
    netcore_guard_config guard; /**< ENet backend only; zeroed: enabled, defaults, no proof */
    /** Off switch of sealing, for local experiments only: the host neither
     * seals nor expects sealed messages, whatever keys it is given, and logs
     * one warning at create. Both ends must agree: a sealing client is
     * refused by an unsealed server (NETCORE_ERR_MISMATCH) and vice versa. */
    bool seal_disabled;
} netcore_host_config;

/** Fills every field with its default (a client with 4 channels, one per mode). */
void netcore_host_config_default(netcore_host_config *config);

/**
 * Creates a host; the config is copied. Errors: NETCORE_ERR_INVALID_ARGUMENT
 * (out-of-range field, IPv6 on the ENet backend), NETCORE_ERR_NOT_INITIALIZED
 * (ENet backend without netcore_init()), NETCORE_ERR_SOCKET (bind failed, e.g.
 * port in use), NETCORE_ERR_FULL (simulation has max_hosts), NETCORE_ERR_OUT_OF_MEMORY.
 */
netcore_result netcore_host_create(const netcore_host_config *config, netcore_host **out_host);

/** Disconnects every peer at once (best-effort notice, no events) and frees all
 * memory. NULL is ignored. */
void netcore_host_destroy(netcore_host *host);

/** The address the host is bound to, with the actual port (ephemeral ports
 * included), into *out_address. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL). */
netcore_result netcore_host_address(const netcore_host *host, netcore_address *out_address);

/**
 * The largest message, in bytes, that goes out as one datagram on every
 * channel of this host: a message of at most this size is never split into
 * fragments, so an unreliable one is lost or delivered whole, on its own.
 * Size a snapshot or an input packet with it. It is the host's mtu_bytes
 * less what the backend puts in front of a lone message (ENet: 28 bytes,
 * its protocol header and the fragment command size it splits at; the
 * simulated backend: 25, its datagram and message headers) and, unless
 * seal_disabled, less the seal's overhead on the costliest channel
 * (NETCORE_SEAL_MAX_OVERHEAD_BYTES when any channel is not reliable-ordered,
 * 16 when all are), since a peer's sealing is known only at admission. Never
 * above max_message_bytes. UDP/IP headers are not counted (they are outside
 * the MTU here). It assumes the remote's mtu_bytes is at least this host's
 * (a remote with a smaller one makes a connection's datagrams smaller; the
 * default is the same on both ends). Fixed at create; 0 for NULL.
 */
uint32_t netcore_host_max_unfragmented_bytes(const netcore_host *host);

/** What a client presents when it connects (netcore_host_connect()). */
typedef struct netcore_connect_options {
    const void *token;       /**< presented to the server's admission callback; copied */
    size_t token_size_bytes; /**< 0..NETCORE_MAX_TOKEN_BYTES */
    uint32_t
        connect_data; /**< 32 bits carried by the handshake itself (readable before a slot is given) */
    /** The session keys the lobby handed out with the token; copied (and the
     * copy wiped when the connection ends). Required with a token unless
     * the host has seal_disabled; NULL without a token: no sealing. */
    const netcore_session_keys *session_keys;
} netcore_connect_options;

/**
 * Starts connecting to a server; options may be NULL (no token). The result
 * arrives later as NETCORE_EVENT_CONNECT or NETCORE_EVENT_DISCONNECT for
 * *out_peer. Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE (on a
 * server host), NETCORE_ERR_FULL (max_peers connections open),
 * NETCORE_ERR_TOO_LARGE (token), NETCORE_ERR_UNSUPPORTED (address family),
 * NETCORE_ERR_AUTH (a token without session keys on a host that seals).
 */
netcore_result netcore_host_connect(netcore_host *host, const netcore_address *address,
                                    const netcore_connect_options *options,
                                    netcore_peer_id *out_peer);

/**
 * Gracefully disconnects: queued reliable messages are still sent, the remote
 * side sees NETCORE_DISCONNECT_REQUESTED with code (24 bits kept), and this
 * side gets its own DISCONNECT event when done. A peer that has not taken
 * everything within the host's timeout_ms is disconnected at once and the
 * rest of its queue is dropped.
 * Errors: NETCORE_ERR_NOT_CONNECTED (unknown or stale id), NETCORE_ERR_FULL
 * only if the peer was still connecting and the host's internal event queue
 * (max_peers + 16 events) is full because the application has not polled;
 * the peer is then untouched: poll, then call again.
 */
netcore_result netcore_host_disconnect(netcore_host *host, netcore_peer_id peer, uint32_t code);

/**
 * Queues a message; data is copied and stays the caller's. Errors:
 * NETCORE_ERR_NOT_CONNECTED (unknown, stale, pending or disconnecting peer),
 * NETCORE_ERR_INVALID_ARGUMENT (channel out of range, NULL data with size > 0),
 * NETCORE_ERR_TOO_LARGE (size > max_message_bytes), NETCORE_ERR_FULL (the peer's
 * send queue is full: the remote is not keeping up), NETCORE_ERR_OUT_OF_MEMORY,
 * NETCORE_ERR_EXPIRED (the lane's seal counter reached its limit: the peer
 * is being disconnected with NETCORE_DISCONNECT_CRYPTO_FAILED).
 */
netcore_result netcore_host_send(netcore_host *host, netcore_peer_id peer, uint8_t channel,
                                 const void *data, size_t size_bytes);

/** Sends to every connected (admitted) peer; same errors as netcore_host_send
 * except NETCORE_ERR_NOT_CONNECTED. */
netcore_result netcore_host_broadcast(netcore_host *host, uint8_t channel, const void *data,
                                      size_t size_bytes);

/** What a netcore_event reports. */
typedef enum netcore_event_type {
    NETCORE_EVENT_NONE = 0,   /**< nothing happened: stop polling for this frame */
    NETCORE_EVENT_CONNECT,    /**< a peer is connected and admitted (server and client alike) */
    NETCORE_EVENT_DISCONNECT, /**< a peer is gone (or never connected); reason and code say why */
    NETCORE_EVENT_RECEIVE     /**< a message arrived: channel, data, size_bytes */
} netcore_event_type;

/** Why a connection ended (netcore_event.reason). */
typedef enum netcore_disconnect_reason {
    NETCORE_DISCONNECT_REQUESTED =
        1, /**< netcore_host_disconnect() on either side; code is the caller's */
    NETCORE_DISCONNECT_TIMEOUT,        /**< the remote stopped answering */
    NETCORE_DISCONNECT_CONNECT_FAILED, /**< client: no answer within connect_timeout_ms */
    NETCORE_DISCONNECT_REJECTED, /**< client: refused by admission; code is a netcore_result */
    NETCORE_DISCONNECT_ADMISSION_TIMEOUT, /**< server: peer presented no valid token in time */
    NETCORE_DISCONNECT_PROTOCOL_ERROR, /**< malformed control traffic or mismatched channels/version */
    NETCORE_DISCONNECT_SHUTDOWN,       /**< the remote host was destroyed */
    /** A sealed message on a reliable lane failed to open (code
     * NETCORE_ERR_AUTH), or a send counter reached its limit (code
     * NETCORE_ERR_EXPIRED): the stream cannot be trusted or continued. */
    NETCORE_DISCONNECT_CRYPTO_FAILED
} netcore_disconnect_reason;

/** "requested", "timeout", ...; "unknown" otherwise. Static storage. */
const char *netcore_disconnect_reason_str(netcore_disconnect_reason reason);

/** One event from netcore_host_poll(). A plain value; data points into the host. */
typedef struct netcore_event {
    netcore_event_type type; /**< what happened; the fields below are set as it says */
    netcore_peer_id peer;    /**< the peer concerned (CONNECT, DISCONNECT, RECEIVE) */
    uint8_t channel;         /**< RECEIVE: the channel the message came on */
    const uint8_t *data; /**< RECEIVE: owned by the host; valid until the next poll or destroy */
    size_t size_bytes;   /**< RECEIVE: bytes at data */
    netcore_disconnect_reason reason; /**< DISCONNECT: why */
    uint32_t
        code; /**< DISCONNECT: the code given by the other side, or a netcore_result (see reason) */
} netcore_event;

/**
 * Sends queued messages, receives datagrams, runs timers and returns at most
 * one event in *out_event (type NETCORE_EVENT_NONE when there is none). Call
 * it until it returns NONE each frame. ENet backend: waits up to timeout_ms
 * for an event. Simulated backend: never waits; processes everything due at
 * the simulation's current time, timeout_ms is ignored.
 * Errors: NETCORE_ERR_SOCKET (operating system failure), NETCORE_ERR_INVALID_ARGUMENT.
 */
netcore_result netcore_host_poll(netcore_host *host, uint32_t timeout_ms, netcore_event *out_event);

/** Sends queued messages now without receiving (netcore_host_poll() also
 * sends them). Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL). */
netcore_result netcore_host_flush(netcore_host *host);

/** Payload traffic (message bytes as the application sees them). Totals since
 * connect (peer) or creation (host); rates over the last second. */
typedef struct netcore_traffic_stats {
    uint64_t messages_sent;     /**< messages queued by netcore_host_send or broadcast */
    uint64_t messages_received; /**< messages delivered as RECEIVE events */
    uint64_t bytes_sent;        /**< payload bytes of messages_sent */
    uint64_t bytes_received;    /**< payload bytes of messages_received */
    float out_messages_per_s;   /**< messages sent over the last second */
    float in_messages_per_s;    /**< messages received over the last second */
    float out_bytes_per_s;      /**< payload bytes sent over the last second */
    float in_bytes_per_s;       /**< payload bytes received over the last second */
} netcore_traffic_stats;

/** State and counters of one connection (netcore_host_get_peer_stats()). A plain value. */
typedef struct netcore_peer_stats {
    netcore_address address; /**< the peer's address as this host sees it */
    bool admitted;           /**< false while a server's admission callback has not accepted it */
    bool sealed;             /**< messages to and from this peer are sealed */
    float rtt_ms;            /**< smoothed round-trip time */
    float rtt_variance_ms;   /**< smoothed variation of rtt_ms */
    float loss_pct;          /**< share of reliable datagrams lost recently, 0..100 */
    netcore_traffic_stats traffic; /**< every channel together */
    netcore_traffic_stats
        channel[NETCORE_MAX_CHANNELS]; /**< per channel; those past channel_count are 0 */
} netcore_peer_stats;

/** Counters of a netcore_host since it was created (read with
 * netcore_host_get_stats()). A plain value. */
typedef struct netcore_host_stats {
    uint32_t peers_connected;                      /**< admitted */
    uint32_t peers_pending;                        /**< handshake done, admission not yet */
    netcore_traffic_stats traffic;                 /**< every peer together */
    uint64_t wire_bytes_sent;                      /**< UDP payload incl. protocol headers */
    uint64_t wire_bytes_received;                  /**< UDP payload incl. protocol headers */
    uint64_t datagrams_sent;                       /**< UDP datagrams sent */
    uint64_t datagrams_received;                   /**< UDP datagrams received (before the guard) */
    uint64_t admission_accepted;                   /**< peers the admission callback admitted */
    uint64_t admission_rejected;                   /**< peers the admission callback refused */
    uint64_t admission_timed_out;                  /**< peers dropped after admission_timeout_ms */
    uint64_t pending_messages_dropped;             /**< messages from peers not yet admitted */
    uint64_t malformed_dropped;                    /**< control messages that failed validation */
    uint64_t oversize_dropped;                     /**< received messages above max_message_bytes */
    uint64_t timeouts;                             /**< peers lost to NETCORE_DISCONNECT_TIMEOUT */
    netcore_conditioner_stats conditioner_inbound; /**< the conditioner's received direction */
    netcore_conditioner_stats conditioner_outbound; /**< the conditioner's sent direction */
    /* Datagram guard (all 0 on the simulated backend or with the guard off). */
    uint32_t slots_in_use;            /**< peer slots held: connected + handshaking */
    uint32_t slots_handshaking;       /**< of which the handshake is not complete */
    uint64_t guard_passed;            /**< datagrams let through to the backend's protocol */
    uint64_t guard_malformed_dropped; /**< not a well-formed datagram of the backend's protocol */
    uint64_t guard_unknown_dropped;   /**< not a CONNECT and not from the peer it names */
    uint64_t guard_unexpected_connect_dropped; /**< CONNECT to a client host */
    uint64_t guard_proof_dropped;              /**< CONNECT without a valid address proof */
    uint64_t guard_rate_dropped;               /**< CONNECT over the global rate */
    uint64_t guard_ip_rate_dropped;            /**< CONNECT over its IP's rate */
    uint64_t guard_ip_peers_dropped;      /**< CONNECT from an IP holding max_peers_per_ip slots */
    uint64_t guard_ip_handshakes_dropped; /**< CONNECT from an IP with max_handshakes_per_ip open */
    uint64_t guard_full_dropped;          /**< CONNECT while every slot is held */
    uint64_t guard_handshake_timeouts;    /**< handshake slots freed after handshake_timeout_ms */
    /** Real-UDP backend, guard or not: datagrams too large for the receive
     * buffer (docs/enet-backend.md), skipped. */

    uint64_t receive_errors_dropped;
    /* Sealing (docs/security.md). */
    uint32_t peers_sealed;             /**< connected peers whose traffic is sealed */
    uint64_t crypto_auth_rejected;     /**< sealed messages that failed to open: never delivered */
    uint64_t crypto_duplicate_dropped; /**< authentic copies of a message already delivered */
    uint64_t crypto_stale_dropped;     /**< counters older than the replay window */
    uint64_t crypto_disconnects;       /**< peers cut off by NETCORE_DISCONNECT_CRYPTO_FAILED */
    uint64_t token_address_rejected;   /**< tokens presented from an IP other than the bound one */
    uint64_t seal_overhead_bytes_sent; /**< bytes sealing added to sent messages */
} netcore_host_stats;

/** Errors: NETCORE_ERR_NOT_CONNECTED (unknown or stale id). */
netcore_result netcore_host_get_peer_stats(const netcore_host *host, netcore_peer_id peer,
                                           netcore_peer_stats *out_stats);
/** Copies the host's counters into *out_stats. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL). */
netcore_result netcore_host_get_stats(const netcore_host *host, netcore_host_stats *out_stats);

/** Changes the conditioner's profiles at once (queued datagrams keep their
 * times). Errors: NETCORE_ERR_STATE on an ENet host created without
 * conditioner.enabled. */
netcore_result netcore_host_set_conditioner(netcore_host *host, const netcore_link_profile *inbound,
                                            const netcore_link_profile *outbound);

/** The host's clock in microseconds: the simulation's clock, or netcore_time_now_us(). */
uint64_t netcore_host_now_us(const netcore_host *host);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_TRANSPORT_H */
