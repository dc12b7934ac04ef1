/**
 * @file session.h
 * @brief netcore session layer: a game server and a game client that own and
 * wire every module a server-authoritative game needs.
 *
 * A netcore_game_server owns the host (ENet or simulated), token admission and
 * the datagram guard (one key, given once), the snapshot server, the input
 * server and the lag compensation history. A netcore_game_client owns the
 * host, the snapshot client, clock sync, interpolation, the input client and
 * prediction. Between them every acknowledgement path is wired: snapshot acks
 * ride in input packets, the newest input tick the server applied rides in
 * the player's entity, the client stops resending acknowledged inputs and
 * reconciles its prediction at that tick, and each input carries the render
 * tick the client displayed, for lag compensation.
 *
 * The game describes itself once (netcore_game_desc, identical on both ends):
 * its finalized schema; the entity type of a player and the 32-bit unsigned
 * INT field in it that carries the input tick; the fixed tick rate; the bytes
 * of one input and of one player's predicted state; and callbacks:
 *   - simulate: the deterministic step of one player's state by one input.
 *     The server runs it for every connected player every tick; the client
 *     runs it for its own player to predict.
 *   - position: where a state is (for visual smoothing and lag compensation).
 *   - write_state (server) and read_state (client): a player's state to and
 *     from its snapshot entity, exactly, so that the client's reconciliation
 *     compares like with like.
 * Everything else about the world (other entities, rules, hits) is the
 * game's, done in the server's on_tick callback with the snapshot server's
 * setters (netcore_game_server_snapshot) and lag-compensated queries
 * (netcore_game_server_rewind).
 *
 * Wire: channel 0 (reliable ordered) carries the session's HELLO (schema
 * hash, tick rate, sizes) and WELCOME (client index, player entity); channel
 * 1 (unreliable unordered) carries snapshots (server to client) and input
 * packets (client to server). The game's own channels follow, numbered from
 * 0 in netcore_game_server_send / netcore_game_client_send. See
 * docs/session.md for the byte layout.
 *
 * Every module stays usable alone; the accessors below hand out the owned
 * objects for reading and tuning (never destroy them).
 *
 * Single-threaded: one server or client is used by one thread at a time.
 */
#ifndef NETCORE_SESSION_H
#define NETCORE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/address.h"
#include "netcore/bitpack.h"
#include "netcore/input.h"
#include "netcore/interp.h"
#include "netcore/lagcomp.h"
#include "netcore/netcore.h"
#include "netcore/predict.h"
#include "netcore/schema.h"
#include "netcore/snapshot.h"
#include "netcore/timesync.h"
#include "netcore/token.h"
#include "netcore/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Host channels the session itself uses (0: control, 1: snapshots and inputs). */
#define NETCORE_SESSION_CHANNELS 2u
/** Channels a game may add after the session's (host limit minus the session's). */
#define NETCORE_SESSION_MAX_GAME_CHANNELS (NETCORE_MAX_CHANNELS - NETCORE_SESSION_CHANNELS)
/** Bytes the session adds to every game input (the render tick for lag compensation). */
#define NETCORE_SESSION_INPUT_HEADER_BYTES 4u
/** Largest game input, in bytes. */
#define NETCORE_SESSION_MAX_INPUT_BYTES                                                            \
    (NETCORE_INPUT_MAX_SIZE - NETCORE_SESSION_INPUT_HEADER_BYTES)
/** Largest predicted player state, in bytes. */
#define NETCORE_SESSION_MAX_STATE_BYTES 4096u
/** Session messages are versioned; a peer speaking another version is refused. */
#define NETCORE_SESSION_VERSION 1u

/* ------------------------------------------------------------------ */
/* The game's description, shared by server and client                */
/* ------------------------------------------------------------------ */

/**
 * Steps one player's state (state_size_bytes, in place) by one tick with one
 * input (input_size_bytes) at server tick `tick`. Must be deterministic: the
 * same bytes in give the same bytes out on every machine. user is
 * netcore_game_desc.user.
 */
typedef void (*netcore_game_simulate_fn)(void *user, void *state, const void *input, uint32_t tick);

/** Where a player's state is drawn and hit-tested, in the game's units. */
typedef netcore_vec3 (*netcore_game_position_fn)(void *user, const void *state);

/**
 * Distance between a predicted and an authoritative state in the game's units;
 * above netcore_game_client_config.predict_tolerance the prediction is
 * corrected. Optional: NULL uses the distance between the two positions.
 */
typedef float (*netcore_game_error_fn)(void *user, const void *predicted,
                                       const void *authoritative);

/**
 * Server: writes a player's state into its snapshot entity with the snapshot
 * server's setters. Called after every tick for every connected player. The
 * session writes the input tick field itself.
 */
typedef void (*netcore_game_write_state_fn)(void *user, netcore_snapshot_server *snapshots,
                                            netcore_entity_id entity, const void *state);

/**
 * Client: reads a player's state from the decoded snapshot entity (the
 * inverse of write_state) into out_state (state_size_bytes, zeroed first by
 * the session). Return false when the entity cannot be read (it is then not
 * reconciled).
 */
typedef bool (*netcore_game_read_state_fn)(void *user, const netcore_snapshot_client *snapshots,
                                           netcore_entity_id entity, void *out_state);

/**
 * What server and client agree on. Fill it identically on both ends (a
 * mismatch of schema hash, tick rate, snapshot interval or input size is
 * refused at connect time with NETCORE_ERR_MISMATCH).
 */
typedef struct netcore_game_desc {
    /** Finalized schema; borrowed, must outlive the server or client. */
    const netcore_schema *schema;
    /** Entity type the session creates for each player. */
    uint16_t player_type;
    /** Field of player_type carrying the newest input tick applied: a 32-bit unsigned INT. */
    uint16_t player_tick_field;
    /** Server simulation rate in ticks per second; default 60, 1..1000. */
    uint32_t tick_rate_hz;
    /** A snapshot goes to each client every this many ticks; default 2, 1..255. */
    uint32_t snapshot_every_ticks;
    /** Bytes of one game input; 1..NETCORE_SESSION_MAX_INPUT_BYTES. Required. */
    uint32_t input_size_bytes;
    /** Bytes of one player's state (plain data, no pointers);
     *  1..NETCORE_SESSION_MAX_STATE_BYTES. Required. */
    uint32_t state_size_bytes;
    netcore_game_simulate_fn simulate;       /**< required */
    netcore_game_position_fn position;       /**< required */
    netcore_game_error_fn error;             /**< optional (see netcore_game_error_fn) */
    netcore_game_write_state_fn write_state; /**< required on the server */
    netcore_game_read_state_fn read_state;   /**< required on the client */
    void *user;                              /**< passed to every callback above */
} netcore_game_desc;

/** Fills *desc with the defaults above; schema, sizes and callbacks are to be set. */
void netcore_game_desc_default(netcore_game_desc *desc);

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/** A game server: host, admission, snapshots, inputs, lag compensation. */
typedef struct netcore_game_server netcore_game_server;

/**
 * Called once per server tick, after every connected player's state was
 * stepped by its input and before snapshots are written: the game runs the
 * rest of its world here (netcore_game_server_snapshot to set entities,
 * netcore_game_server_client_state to change a player, e.g. a hit or a
 * respawn, netcore_game_server_rewind for lag-compensated questions).
 */
typedef void (*netcore_game_server_tick_fn)(void *user, netcore_game_server *server, uint32_t tick);

/**
 * A player joined (its entity exists, its state is zeroed: set it here with
 * netcore_game_server_client_state) or left (called before its entity is
 * destroyed). client is the player's index, 0..max_clients - 1.
 */
typedef void (*netcore_game_server_client_fn)(void *user, netcore_game_server *server,
                                              uint32_t client, netcore_entity_id entity);

/**
 * A message on one of the game's own channels from a playing client. data is
 * untrusted and valid only during the call.
 */
typedef void (*netcore_game_server_message_fn)(void *user, netcore_game_server *server,
                                               uint32_t client, uint8_t channel,
                                               const uint8_t *data, size_t size_bytes);

/** Server configuration; netcore_game_server_config_default() fills it. */
typedef struct netcore_game_server_config {
    netcore_allocator allocator; /**< zeroed: malloc/free */
    netcore_log log;             /**< zeroed: no logging */
    netcore_game_desc game;      /**< the game (copied; the schema is borrowed) */
    /** Address to listen on (family NONE: every IPv4 interface); port 0 picks one
     *  (read it back with netcore_game_server_address()). */
    netcore_address bind_address;
    /** NULL: real UDP through ENet. Otherwise the simulated network to live in
     *  (it must outlive the server). */
    netcore_sim *sim;
    /** Link impairment of the server's host; zeroed: none. */
    netcore_conditioner_config conditioner;
    uint32_t max_clients;  /**< players at once, default 16, 1..1024 */
    uint32_t max_entities; /**< snapshot world capacity including players, default 1024 */
    /** Per-client snapshot size limit in bytes; default 0: the largest
     *  message the server's host sends as one datagram
     *  (netcore_host_max_unfragmented_bytes(), 1345 with the default MTU). */
    uint32_t snapshot_budget_bytes;
    netcore_interest_fn interest;   /**< NULL: every entity relevant, weight 1 */
    void *interest_user;            /**< passed to interest */
    uint32_t input_buffer_ticks;    /**< inputs held ahead per client, default 64 */
    uint32_t lagcomp_history_ticks; /**< lag compensation history, default 72 (1.2 s at 60 Hz) */
    /** Furthest rewind a client may claim, in ticks; default 0: lagcomp_history_ticks - 1. */
    uint32_t lagcomp_max_rewind_ticks;
    /**
     * Token admission. When true, a peer is admitted only with a valid connect
     * token made with token_key for public_address (token.h), and the ENet
     * datagram guard requires the address proof made with the same key. The
     * key is copied once into both and wiped from the server's copy of the
     * config.
     */
    bool require_token;
    uint8_t token_key[NETCORE_TOKEN_KEY_BYTES]; /**< the lobby's key (with require_token) */
    /** This server's address exactly as the lobby writes it in tokens; family
     *  NONE: the bound address (0.0.0.0 and the actual port when unbound).
     *  Port 0 (with a family set): the port actually bound, for a server
     *  that binds an ephemeral port but is reached at another IP. */
    netcore_address public_address;
    /** Extra policy on a valid token (e.g. match membership); NULL: none. */
    netcore_token_accept_fn token_accept;
    void *token_accept_user; /**< passed to token_accept */
    /** Seconds on the lobby's clock for tokens and proofs; NULL: UNIX time. */
    netcore_token_clock_fn token_clock;
    void *token_clock_user; /**< passed to token_clock */
    /** Delivery mode of each of the game's own channels (channel k is host channel 2 + k). */
    netcore_delivery game_channels[NETCORE_SESSION_MAX_GAME_CHANNELS];
    uint32_t game_channel_count;            /**< 0..NETCORE_SESSION_MAX_GAME_CHANNELS, default 0 */
    netcore_game_server_tick_fn on_tick;    /**< optional */
    netcore_game_server_client_fn on_join;  /**< optional */
    netcore_game_server_client_fn on_leave; /**< optional */
    netcore_game_server_message_fn on_message; /**< optional; NULL: game messages are dropped */
    void *user;                                /**< passed to the four callbacks above */
    /** Entities one client sees at most (after interest); 0: max_entities. With an
     *  interest callback that keeps views small, this keeps the snapshot ring
     *  small: its memory is max_clients * ring * max_view_entities entries. */
    uint32_t max_view_entities;
    /** Sent snapshots kept per client as delta baselines: a power of two, 2..1024;
     *  0: the snapshot server's default. Raise it for long round trips, so that
     *  acks still name a kept snapshot and deltas keep working. */
    uint32_t snapshot_ring_length;
    /** A peer that acknowledges nothing for this long is dropped, ms; 0: the host's default. */
    uint32_t timeout_ms;
    /** The transport handshake and the token admission must each finish within
     *  this, ms; 0: the host's defaults. Raise it above a few round trips on slow links. */
    uint32_t handshake_timeout_ms;
    /**
     * When true the session takes each player's input every tick (read it
     * with netcore_game_server_client_input) but does not call simulate:
     * on_tick steps every player itself and writes the result with
     * netcore_game_server_client_state. For a game whose step is one
     * function over the whole world (shots spawn and hit in the same pass
     * as the movement), so that the server runs exactly that function; the
     * client still predicts its own player with simulate. Default false.
     */
    bool game_steps_players;
} netcore_game_server_config;

/** Counters of a game server since create. */
typedef struct netcore_game_server_stats {
    uint32_t clients;          /**< playing now (welcomed) */
    uint32_t tick;             /**< newest tick simulated */
    uint64_t ticks_run;        /**< ticks simulated since create */
    uint64_t ticks_skipped;    /**< ticks dropped because an update came too late (over 8 due) */
    uint64_t joins;            /**< players welcomed */
    uint64_t leaves;           /**< players gone (disconnected or kicked) */
    uint64_t snapshots_sent;   /**< snapshots queued to players */
    uint64_t snapshot_errors;  /**< snapshots that could not be written or queued */
    uint64_t hello_rejected;   /**< malformed HELLO, or another schema, rate or input size */
    uint64_t full_rejected;    /**< HELLO with every client slot taken */
    uint64_t input_rejected;   /**< input packets that failed to decode */
    uint64_t acks_rejected;    /**< snapshot acks that were malformed or had the wrong schema tag */
    uint64_t messages_dropped; /**< on an unknown channel, or from a peer not yet playing */
    uint64_t inputs_repeated;  /**< ticks simulated with a repeated or empty input */
    netcore_host_stats host;   /**< the host's own counters (admission, guard, traffic) */
    uint64_t leaves_requested; /**< of leaves: the client disconnected (or was kicked) */
    uint64_t leaves_timeout;   /**< of leaves: the client fell silent */
    uint64_t snapshot_bytes_sent; /**< bytes of the snapshots counted in snapshots_sent */
    /** Inputs that arrived after their tick had run (with a repeat), summed
     *  over every player since create, those gone included. */
    uint64_t inputs_late;
    /** Inputs more than input_buffer_ticks ahead, dropped; summed as inputs_late. */
    uint64_t inputs_too_far;
    /** The token validator's counters, one per reason a token was refused
     *  (all 0 without require_token). */
    netcore_token_validator_stats token;
} netcore_game_server_stats;

/** Fills *config with the defaults above (the game description with netcore_game_desc_default). */
void netcore_game_server_config_default(netcore_game_server_config *config);

/**
 * Creates a server, binds it and allocates everything it will ever need; the
 * config is copied. netcore_init() must have been called for the ENet backend.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, missing callback, sizes out of
 * range, player_tick_field not a 32-bit unsigned INT of player_type),
 * NETCORE_ERR_SOCKET (port in use), NETCORE_ERR_NOT_INITIALIZED,
 * NETCORE_ERR_OUT_OF_MEMORY, NETCORE_ERR_BACKEND (libsodium), or any error of
 * the owned modules' create functions.
 */
netcore_result netcore_game_server_create(const netcore_game_server_config *config,
                                          netcore_game_server **out_server);

/** Disconnects every peer (best effort, no callbacks) and frees everything. NULL is ignored. */
void netcore_game_server_destroy(netcore_game_server *server);

/**
 * Runs the server up to local time now_us (microseconds, the host's clock:
 * netcore_host_now_us, i.e. the simulation's clock or netcore_time_now_us()):
 * handles every network event, runs every tick due (at most 8 per call; the
 * first call starts the clock at tick 0), sends snapshots and flushes. Never
 * blocks. Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_SOCKET.
 */
netcore_result netcore_game_server_update(netcore_game_server *server, uint64_t now_us);

/**
 * Blocks up to timeout_ms (milliseconds) for network traffic and handles
 * what arrives (admission, HELLO, inputs and acks, the game's messages) as
 * netcore_game_server_update does; never runs a tick and never sends a
 * snapshot. A dedicated server's loop: update, then wait until the next tick
 * is due (netcore_game_server_next_tick_us), instead of sleeping blind. The
 * simulated backend never blocks. Errors: NETCORE_ERR_INVALID_ARGUMENT,
 * NETCORE_ERR_SOCKET.
 */
netcore_result netcore_game_server_wait(netcore_game_server *server, uint32_t timeout_ms);

/**
 * When the next tick is due, on the clock of netcore_game_server_update
 * (microseconds); 0 before the first update (the first update runs tick 1).
 */
uint64_t netcore_game_server_next_tick_us(const netcore_game_server *server);

/** The bound address with its actual port. Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_game_server_address(const netcore_game_server *server,
                                           netcore_address *out_address);

/** Newest tick simulated (0 before the first). */
uint32_t netcore_game_server_tick(const netcore_game_server *server);

/** True when client index `client` holds a playing client. */
bool netcore_game_server_client_active(const netcore_game_server *server, uint32_t client);

/** The player entity of a playing client; NETCORE_ENTITY_NONE otherwise. */
netcore_entity_id netcore_game_server_client_entity(const netcore_game_server *server,
                                                    uint32_t client);

/**
 * The player's authoritative state (state_size_bytes), owned by the server,
 * writable: the game may change it (a hit, a respawn); the change is sent
 * with the next snapshot and the client reconciles to it. NULL when the
 * client is not playing.
 */
void *netcore_game_server_client_state(netcore_game_server *server, uint32_t client);

/**
 * The game input the player's state was stepped with at the current tick
 * (input_size_bytes, owned by the server, valid until the next tick), and
 * where it came from (out_source may be NULL). NULL when not playing.
 */
const void *netcore_game_server_client_input(const netcore_game_server *server, uint32_t client,
                                             netcore_input_source *out_source);

/**
 * The token the client presented (with require_token). Errors:
 * NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND (not playing, or no
 * token admission).
 */
netcore_result netcore_game_server_client_token(const netcore_game_server *server, uint32_t client,
                                                netcore_token_info *out_info);

/**
 * Records an entity that is not a player (a bot, a crate) in the lag
 * compensation history at the current tick; players are recorded by the
 * session from their position. Call it from on_tick with the position
 * clients decode (the quantized value, read back with the snapshot server's
 * getter) for exact hits. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, no
 * entity, slot at or above max_entities), NETCORE_ERR_STATE (outside
 * on_tick), NETCORE_ERR_FULL (max_entities records this tick).
 */
netcore_result netcore_game_server_record(netcore_game_server *server, netcore_entity_id entity,
                                          netcore_vec3 position);

/**
 * Lag-compensated question: where `entity` was as client `client` saw it
 * when it made the current tick's input (its render tick, clamped to
 * lagcomp_max_rewind_ticks). out_result (may be NULL) tells the tick used.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND (client not
 * playing, or the entity not recorded near that tick).
 */
netcore_result netcore_game_server_rewind(netcore_game_server *server, uint32_t client,
                                          netcore_entity_id entity, netcore_vec3 *out_position,
                                          netcore_lagcomp_result *out_result);

/**
 * Sends a message on the game's channel `channel` (0..game_channel_count - 1)
 * to a playing client; data is copied. Errors: NETCORE_ERR_INVALID_ARGUMENT,
 * NETCORE_ERR_NOT_CONNECTED, and those of netcore_host_send.
 */
netcore_result netcore_game_server_send(netcore_game_server *server, uint32_t client,
                                        uint8_t channel, const void *data, size_t size_bytes);

/** Same to every playing client. Errors: as netcore_game_server_send. */
netcore_result netcore_game_server_broadcast(netcore_game_server *server, uint8_t channel,
                                             const void *data, size_t size_bytes);

/** Disconnects a client with a code (24 bits) its side sees. Errors:
 *  NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_CONNECTED. */
netcore_result netcore_game_server_kick(netcore_game_server *server, uint32_t client,
                                        uint32_t code);

/** The owned snapshot server, to create, set and destroy the game's entities
 *  (never a player's entity: the session owns those). */
netcore_snapshot_server *netcore_game_server_snapshot(netcore_game_server *server);
/** The owned host, for stats and the conditioner; do not poll it or destroy it. */
netcore_host *netcore_game_server_host(netcore_game_server *server);

/** Copies the counters. Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_game_server_get_stats(const netcore_game_server *server,
                                             netcore_game_server_stats *out_stats);

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/** A game client: host, snapshots, clock sync, interpolation, inputs, prediction. */
typedef struct netcore_game_client netcore_game_client;

/** Where a game client is. */
typedef enum netcore_game_client_state {
    NETCORE_GAME_CLIENT_IDLE = 0,    /**< created, not connecting */
    NETCORE_GAME_CLIENT_CONNECTING,  /**< handshake, admission, HELLO sent */
    NETCORE_GAME_CLIENT_PLAYING,     /**< welcomed: has a player entity */
    NETCORE_GAME_CLIENT_DISCONNECTED /**< the connection ended (see the stats for why) */
} netcore_game_client_state;

/** "idle", "connecting", "playing", "disconnected"; "unknown" otherwise. Static storage. */
const char *netcore_game_client_state_str(netcore_game_client_state state);

/**
 * Fills the game's input for client tick `tick` into out_input
 * (input_size_bytes, zeroed by the session first). Called once per tick the
 * clock sync says is due, in tick order.
 */
typedef void (*netcore_game_client_input_fn)(void *user, netcore_game_client *client, uint32_t tick,
                                             void *out_input);

/**
 * A decoded snapshot became the current world (netcore_game_client_snapshot
 * now holds it); tick is the server tick it carries. Called once per such
 * snapshot, in order, after the own player was reconciled to it; snapshots
 * decoded only as baselines (older than the current world) are not reported.
 */
typedef void (*netcore_game_client_snapshot_fn)(void *user, netcore_game_client *client,
                                                uint32_t tick);

/** A message on one of the game's own channels. data is untrusted and valid
 *  only during the call. */
typedef void (*netcore_game_client_message_fn)(void *user, netcore_game_client *client,
                                               uint8_t channel, const uint8_t *data,
                                               size_t size_bytes);

/** Client configuration; netcore_game_client_config_default() fills it.
 * Input packets are limited to what the client's host sends as one datagram
 * (netcore_host_max_unfragmented_bytes()), so each is lost or arrives whole. */
typedef struct netcore_game_client_config {
    netcore_allocator allocator; /**< zeroed: malloc/free */
    netcore_log log;             /**< zeroed: no logging */
    netcore_game_desc game;      /**< the game, as on the server (copied; the schema is borrowed) */
    netcore_sim *sim;            /**< NULL: real UDP; else the simulated network to live in */
    /** Link impairment; set enabled to switch presets later on ENet. */
    netcore_conditioner_config conditioner;
    uint32_t max_entities;       /**< entities a snapshot may hold, >= the server's; default 1024 */
    uint32_t connect_timeout_ms; /**< default 5000, admission included */
    netcore_game_client_input_fn sample_input; /**< NULL: every input zero */
    netcore_game_client_message_fn on_message; /**< NULL: game messages are dropped */
    void *user; /**< passed to sample_input, on_message and on_snapshot */
    /** Delivery mode of each of the game's channels, as on the server. */
    netcore_delivery game_channels[NETCORE_SESSION_MAX_GAME_CHANNELS];
    uint32_t game_channel_count;  /**< as on the server */
    float predict_tolerance;      /**< errors above this are corrected, default 0.001 */
    float smoothing_half_life_ms; /**< visual correction half-life, default 50; 0: none */
    float snap_distance;          /**< corrections longer than this are shown at once, default 5 */
    /** Starting interpolation delay in snapshot intervals, default 2. */
    float interp_initial_delay_intervals;
    /**
     * Snapshots the clock sync sees before the first client tick runs; default
     * 32 (about 1 s at 30 Hz), 1..1024. Fewer start play sooner, but on a
     * jittery link the clock then starts short of the lead it needs and the
     * first inputs reach the server late (each one a prediction correction);
     * 64 fills the clock's sample window and leaves almost none.
     */
    uint32_t sync_snapshots;
    /** Optional: each snapshot that becomes the current world (e.g. to check
     *  or record it); user is the user above. */
    netcore_game_client_snapshot_fn on_snapshot;
    /** Decoded snapshots kept as delta baselines: a power of two, 2..1024; 0: the
     *  snapshot client's default. As the server's snapshot_ring_length. */
    uint32_t snapshot_ring_length;
    /** A server that acknowledges nothing for this long is a disconnect, ms; 0: the host's default. */
    uint32_t timeout_ms;
} netcore_game_client_config;

/** Counters and figures of a game client. */
typedef struct netcore_game_client_stats {
    netcore_game_client_state state;             /**< where the client is now */
    netcore_disconnect_reason disconnect_reason; /**< when DISCONNECTED */
    uint32_t disconnect_code;    /**< when DISCONNECTED (netcore_result for REJECTED) */
    float rtt_ms;                /**< smoothed round trip to the server, ms (0 before connecting) */
    float loss_pct;              /**< recent reliable datagram loss, 0..100 */
    uint64_t snapshots_decoded;  /**< snapshots that became the current world */
    uint64_t snapshots_rejected; /**< malformed or of another schema */
    uint64_t welcome_rejected;   /**< malformed or mismatched WELCOME (then disconnected) */
    uint64_t messages_dropped;   /**< on an unknown channel, or before WELCOME */
    uint64_t ticks_run;          /**< client ticks run (inputs sampled and sent) */
    uint64_t corrections;        /**< prediction corrections */
    float interp_delay_ms;       /**< current interpolation delay, ms */
    float extrapolated_pct;      /**< share of frames extrapolated since connecting, 0..100 */
    float snapshot_rate_hz;      /**< snapshots decoded per second over the last full second */
    float recent_extrapolated_pct; /**< share of frames extrapolated or starved (states held)
                                        over the last full second, 0..100; for a net graph */
    uint32_t acked_input_tick;     /**< newest input tick the server reported applied */
    bool sealed; /**< the connection's traffic is sealed with the token's session keys */
} netcore_game_client_stats;

/** Fills *config with the defaults above. */
void netcore_game_client_config_default(netcore_game_client_config *config);

/**
 * Creates a client and allocates everything it will ever need; the config is
 * copied. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, missing callback, sizes
 * or sync_snapshots out of range), NETCORE_ERR_NOT_INITIALIZED (ENet without netcore_init()),
 * NETCORE_ERR_OUT_OF_MEMORY, or any error of the owned modules' create functions.
 */
netcore_result netcore_game_client_create(const netcore_game_client_config *config,
                                          netcore_game_client **out_client);

/** Leaves (best-effort notice, nothing waited for) and frees everything. NULL is ignored. */
void netcore_game_client_destroy(netcore_game_client *client);

/**
 * Starts connecting to a game server. options go unchanged to
 * netcore_host_connect (a connect token from the lobby, its connect_data
 * proof, and whatever a newer transport carries there); NULL: no token. Once
 * per client. Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE (not
 * IDLE), and those of netcore_host_connect.
 */
netcore_result netcore_game_client_connect(netcore_game_client *client,
                                           const netcore_address *server,
                                           const netcore_connect_options *options);

/**
 * Runs the client up to local time now_us (the host's clock): handles every
 * network event (snapshots decoded, clock fed, interpolation pushed, own
 * player reconciled, inputs acknowledged), runs every client tick due (one
 * sample_input, one prediction step and one input packet carrying the
 * snapshot ack each; the first tick runs once the clock sync has seen
 * sync_snapshots snapshots, so that inputs do not start late), moves
 * interpolation and visual smoothing to now_us and flushes. Never blocks.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_SOCKET.
 */
netcore_result netcore_game_client_update(netcore_game_client *client, uint64_t now_us);

/** Disconnects gracefully (the state turns DISCONNECTED when done). Errors:
 *  NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE (not connecting or playing). */
netcore_result netcore_game_client_disconnect(netcore_game_client *client);

/** Current state (IDLE for NULL). */
netcore_game_client_state netcore_game_client_get_state(const netcore_game_client *client);

/** This client's index on the server (0..max_clients - 1), or UINT32_MAX before WELCOME. */
uint32_t netcore_game_client_index(const netcore_game_client *client);

/** The own player's entity id, NETCORE_ENTITY_NONE before WELCOME. */
netcore_entity_id netcore_game_client_entity(const netcore_game_client *client);

/**
 * The own player's predicted state (state_size_bytes, owned by the client,
 * valid until the next update) and its tick (out_tick may be NULL); NULL
 * before the first snapshot with the own player.
 */
const void *netcore_game_client_predicted_state(const netcore_game_client *client,
                                                uint32_t *out_tick);

/** Where to draw the own player: the predicted position plus the decaying
 *  correction offset; zero before prediction starts. */
netcore_vec3 netcore_game_client_predicted_position(const netcore_game_client *client);

/**
 * The interpolated world to draw (remote entities; the own player's entity is
 * in it too, late by the interpolation delay: draw the predicted one instead).
 * Read it with netcore_interp_entity_at / netcore_interp_get_*; a game may
 * set per-type teleport rules on it (netcore_interp_set_type_config). Never NULL.
 */
netcore_interp *netcore_game_client_interp(netcore_game_client *client);

/** The newest decoded world, exactly as the server sent it. Never NULL. */
const netcore_snapshot_client *netcore_game_client_snapshot(const netcore_game_client *client);

/** The render tick of the last update (what lag compensation rewinds to); 0 before. */
double netcore_game_client_render_tick(const netcore_game_client *client);

/** Sends on the game's channel `channel`. Errors: NETCORE_ERR_INVALID_ARGUMENT,
 *  NETCORE_ERR_NOT_CONNECTED (not playing), and those of netcore_host_send. */
netcore_result netcore_game_client_send(netcore_game_client *client, uint8_t channel,
                                        const void *data, size_t size_bytes);

/** The owned host, for stats and the conditioner; do not poll it or destroy it. */
netcore_host *netcore_game_client_host(netcore_game_client *client);

/** Copies the counters. Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_game_client_get_stats(const netcore_game_client *client,
                                             netcore_game_client_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_SESSION_H */
