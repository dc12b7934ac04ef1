/** @file
 * netcore lobby: a TCP service where players pick nicknames, create and join
 * rooms, chat, mark themselves ready and start matches. When a room starts, the
 * lobby hands every member the game server's address and a connect token
 * (netcore/token.h) made with the key it shares with its game servers.
 *
 * The wire protocol is documented in docs/lobby-protocol.md.
 *
 * Both the server and the client are single-threaded, non-blocking and driven
 * by the caller's update(now_us) calls; now_us is any monotonic clock in
 * microseconds (netcore_time_now_us() is fine), the unit of every update in
 * netcore. Token times use a separate clock on the UNIX scale (see token.h).
 */
#ifndef NETCORE_LOBBY_H
#define NETCORE_LOBBY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/netcore.h"
#include "netcore/token.h"
#include "netcore/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Protocol version spoken by this build's client (HELLO, RECONNECT,
 * SERVER_REGISTER). The server also accepts every version down to
 * NETCORE_LOBBY_PROTOCOL_VERSION_MIN and speaks to each connection in the
 * version it said (WELCOME echoes it); docs/lobby-protocol.md lists what
 * each version adds. */
#define NETCORE_LOBBY_PROTOCOL_VERSION 3
/** Oldest protocol version the server still accepts. */
#define NETCORE_LOBBY_PROTOCOL_VERSION_MIN 1

/* Field limits: text limits are in bytes of UTF-8 without the terminating NUL. */
/** Bytes of a nickname or room name, at least 1. */
#define NETCORE_LOBBY_NAME_MAX 32
/** Bytes of a room password; 0 means none. */
#define NETCORE_LOBBY_PASSWORD_MAX 32
#define NETCORE_LOBBY_META_MAX 8      /**< key/value pairs per room */
#define NETCORE_LOBBY_META_KEY_MAX 16 /**< bytes of a meta key, at least 1 */
/** Bytes of a meta value, may be 0. */
#define NETCORE_LOBBY_META_VALUE_MAX 64
#define NETCORE_LOBBY_CHAT_MAX 256 /**< bytes of a chat line, at least 1 */
/** Bytes of the text an ERROR message carries. */
#define NETCORE_LOBBY_ERROR_TEXT_MAX 128
#define NETCORE_LOBBY_MAX_PLAYERS 32 /**< per room */
#define NETCORE_LOBBY_LIST_MAX 16    /**< rooms per ROOM_LIST page */
#define NETCORE_LOBBY_TOKEN_MAX 256  /**< connect token bytes in MATCH_START */
/** Bytes of the reconnect token WELCOME hands out (random; resumes a lost session). */
#define NETCORE_LOBBY_RECONNECT_TOKEN_BYTES 24

/** Error codes carried by ERROR messages (and in netcore_lobby_event.error_code). */
typedef enum netcore_lobby_error {
    NETCORE_LOBBY_ERR_NONE = 0,
    NETCORE_LOBBY_ERR_VERSION = 1,         /**< protocol version not supported; connection closed */
    NETCORE_LOBBY_ERR_MALFORMED = 2,       /**< frame failed validation; connection closed */
    NETCORE_LOBBY_ERR_FRAME_TOO_LARGE = 3, /**< length prefix above the limit; connection closed */
    NETCORE_LOBBY_ERR_STATE = 4,           /**< message not valid now (e.g. before HELLO) */
    NETCORE_LOBBY_ERR_RATE_LIMITED = 5,    /**< chat dropped; for all traffic: connection closed */
    NETCORE_LOBBY_ERR_TIMEOUT = 6,         /**< idle, handshake or partial-frame timeout; closed */
    NETCORE_LOBBY_ERR_SERVER_FULL = 7,     /**< connection cap reached; closed */
    NETCORE_LOBBY_ERR_NO_SUCH_ROOM = 8,
    NETCORE_LOBBY_ERR_ROOM_FULL = 9,
    NETCORE_LOBBY_ERR_BAD_PASSWORD = 10,
    NETCORE_LOBBY_ERR_NOT_IN_ROOM = 11,
    NETCORE_LOBBY_ERR_ALREADY_IN_ROOM = 12,
    NETCORE_LOBBY_ERR_NOT_OWNER = 13,
    NETCORE_LOBBY_ERR_NOT_READY = 14, /**< start refused: someone is not ready or offline */
    NETCORE_LOBBY_ERR_IN_MATCH = 15,  /**< room is playing: no join, ready, kick or start */
    NETCORE_LOBBY_ERR_TOO_MANY_ROOMS = 16,
    NETCORE_LOBBY_ERR_NO_SUCH_CLIENT = 17,
    NETCORE_LOBBY_ERR_RECONNECT_FAILED = 18, /**< unknown or expired reconnect token; closed */
    NETCORE_LOBBY_ERR_INTERNAL = 19,         /**< the server could not complete the request */
    NETCORE_LOBBY_ERR_NO_GAME_SERVER =
        20,                      /**< start refused: every registered game server is full */
    NETCORE_LOBBY_ERR_AUTH = 21, /**< game server registration refused (key, clock); closed */
    NETCORE_LOBBY_ERR_SLOW_READER =
        22, /**< outgoing buffer full: the client does not read; closed */
    /** Sent in plaintext by a TLS lobby to a client that did not start TLS; closed. */
    NETCORE_LOBBY_ERR_TLS_REQUIRED = 23,
    /** Never on the wire: told locally (DISCONNECTED) when the TLS handshake
     * failed or the server's certificate was refused (chain, name or pin). */
    NETCORE_LOBBY_ERR_TLS_FAILED = 24
} netcore_lobby_error;

/** "malformed frame", "room full", ...; "unknown error" otherwise. Static storage. */
const char *netcore_lobby_error_str(uint16_t code);

/** Who hears a chat line. */
typedef enum netcore_lobby_chat_scope {
    NETCORE_LOBBY_CHAT_ROOM = 0, /**< the members of the sender's room */
    NETCORE_LOBBY_CHAT_LOBBY = 1 /**< every connected player */
} netcore_lobby_chat_scope;

/** Why a member left a room (NETCORE_LOBBY_EVENT_ROOM_LEFT). */
typedef enum netcore_lobby_leave_reason {
    NETCORE_LOBBY_LEFT = 0,  /**< asked to leave */
    NETCORE_LOBBY_KICKED = 1 /**< removed by the owner */
} netcore_lobby_leave_reason;

/** Why a match ended (NETCORE_LOBBY_EVENT_MATCH_END). A client must treat a
 * value it does not know as NETCORE_LOBBY_MATCH_ENDED. */
typedef enum netcore_lobby_match_end_reason {
    NETCORE_LOBBY_MATCH_ENDED = 0, /**< the owner, the game server or the lobby program ended it;
                                              * also every end told to a version-1 connection */
    NETCORE_LOBBY_MATCH_GAME_SERVER_LOST = 1 /**< the registered game server hosting it went away
                                              * (connection closed or heartbeat timeout) */
} netcore_lobby_match_end_reason;

/** One key/value pair a room's owner attaches to it (game mode, map, ...).
 * Strings are NUL-terminated. */
typedef struct netcore_lobby_meta {
    char key[NETCORE_LOBBY_META_KEY_MAX + 1]; /**< the key, 1..NETCORE_LOBBY_META_KEY_MAX bytes */
    char value[NETCORE_LOBBY_META_VALUE_MAX + 1]; /**< the value, may be empty */
} netcore_lobby_meta;

/** One line of a room list. Strings are NUL-terminated. */
typedef struct netcore_lobby_room_summary {
    uint32_t room_id;                      /**< the lobby's id of the room */
    char name[NETCORE_LOBBY_NAME_MAX + 1]; /**< the room's name */
    uint8_t players;                       /**< members now */
    uint8_t max_players;                   /**< members at most */
    bool is_private;    /**< private rooms are listed only when the filter asks */
    bool has_password;  /**< joining needs the password */
    bool in_match;      /**< a match is being played: no one can join */
    uint8_t meta_count; /**< entries of meta in use */
    netcore_lobby_meta meta[NETCORE_LOBBY_META_MAX]; /**< the room's key/value pairs */
} netcore_lobby_room_summary;

/** One member of a room. Strings are NUL-terminated. */
typedef struct netcore_lobby_member {
    uint64_t client_id;                        /**< the lobby's id of the player */
    char nickname[NETCORE_LOBBY_NAME_MAX + 1]; /**< the player's nickname */
    bool ready;                                /**< the player said ready */
    bool
        connected; /**< false while the member's connection is lost and within the reconnect grace */
} netcore_lobby_member;

/** Everything a member knows about its room (ROOM_STATE). Strings are NUL-terminated. */
typedef struct netcore_lobby_room_state {
    uint32_t room_id;                      /**< the lobby's id of the room */
    char name[NETCORE_LOBBY_NAME_MAX + 1]; /**< the room's name */
    uint64_t owner_id;                     /**< client id of the owner (may kick and start) */
    uint8_t max_players;                   /**< members at most */
    bool is_private;                       /**< not listed unless the filter asks */
    bool has_password;                     /**< joining needs the password */
    bool in_match;                         /**< a match is being played */
    uint8_t member_count;                  /**< entries of members in use */
    netcore_lobby_member members[NETCORE_LOBBY_MAX_PLAYERS]; /**< the members */
    uint8_t meta_count;                                      /**< entries of meta in use */
    netcore_lobby_meta meta[NETCORE_LOBBY_META_MAX];         /**< the room's key/value pairs */
} netcore_lobby_room_state;

/** Room list request. Empty strings do not filter. */
typedef struct netcore_lobby_room_filter {
    char name_contains[NETCORE_LOBBY_NAME_MAX + 1];    /**< case-sensitive substring */
    char meta_key[NETCORE_LOBBY_META_KEY_MAX + 1];     /**< only rooms with this key ... */
    char meta_value[NETCORE_LOBBY_META_VALUE_MAX + 1]; /**< ... and, if set, this value */
    bool hide_full;       /**< leave out rooms with max_players members */
    bool include_private; /**< list private rooms too */
    bool hide_in_match;   /**< leave out rooms playing a match */
    uint16_t offset;      /**< rooms to skip, for paging */
    uint8_t max_count;    /**< 1..NETCORE_LOBBY_LIST_MAX */
} netcore_lobby_room_filter;

/** A room to create (netcore_lobby_client_create_room()). Strings are NUL-terminated. */
typedef struct netcore_lobby_room_params {
    char name[NETCORE_LOBBY_NAME_MAX +
              1]; /**< 1..NETCORE_LOBBY_NAME_MAX bytes, the name rules of docs/lobby-protocol.md */
    uint8_t max_players; /**< 1..NETCORE_LOBBY_MAX_PLAYERS */
    bool is_private;     /**< true: not listed unless a filter asks for private rooms */
    char password[NETCORE_LOBBY_PASSWORD_MAX + 1]; /**< empty: none */
    uint8_t meta_count; /**< entries of meta in use, 0..NETCORE_LOBBY_META_MAX */
    netcore_lobby_meta meta[NETCORE_LOBBY_META_MAX]; /**< the room's key/value pairs */
} netcore_lobby_room_params;

/** What a player receives when its room's match starts (MATCH_START): where
 * to play and what to present there. */
typedef struct netcore_lobby_match_start {
    uint64_t match_id;              /**< the lobby's id of the match */
    netcore_address server_address; /**< the game server to connect to */
    uint32_t token_lifetime_s;      /**< seconds the token stays valid from its creation */
    /** Pass as netcore_connect_options.connect_data: the address proof of the
     * client's IP as the lobby sees it (its TCP peer address), the same value
     * the token carries in its clear header (netcore_token_embedded_proof).
     * The game server's datagram guard checks it with the shared key
     * (netcore_token_check_address_proof) before it spends a peer slot. */
    uint32_t connect_proof;
    uint16_t token_size_bytes; /**< bytes of token in use */
    uint8_t token
        [NETCORE_LOBBY_TOKEN_MAX]; /**< the connect token: pass it as netcore_connect_options.token */
    /** Version 3: the player's session keys, also inside the token. Pass them
     * as netcore_connect_options.session_keys; the game traffic is sealed
     * with them. The lobby leaves them out (false) for connections of
     * version 2 or less, whose clients cannot join a sealing game server. */
    bool has_session_keys;
    netcore_session_keys session_keys; /**< valid when has_session_keys; wipe after use */
} netcore_lobby_match_start;

/**
 * What a player passes to netcore_game_client_connect() (or
 * netcore_host_connect()) for a match: *out_options points into *match (its
 * token, address proof and session keys), so match must stay unchanged until
 * that connect call returns; *out_server is the match's game server. A game
 * server registered under an unspecified address (0.0.0.0 or ::, one that
 * does not know its public address) is taken to run on the lobby's host:
 * *out_server then has lobby_address's host and the match's port.
 * lobby_address may be NULL (no substitution).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL match or outputs, no token, or
 * token_size_bytes above NETCORE_LOBBY_TOKEN_MAX).
 */
netcore_result netcore_lobby_match_connect_options(const netcore_lobby_match_start *match,
                                                   const netcore_address *lobby_address,
                                                   netcore_address *out_server,
                                                   netcore_connect_options *out_options);

/* ------------------------------------------------------------------ */
/* TLS                                                                 */
/* ------------------------------------------------------------------ */

/* A lobby with a certificate speaks TLS on every link (players and game
 * servers); OpenSSL 3 does the work, and no OpenSSL type appears here. */

#define NETCORE_LOBBY_TLS_PIN_BYTES 32        /**< SHA-256 */
#define NETCORE_LOBBY_TLS_SERVER_NAME_MAX 253 /**< bytes, a DNS name or an IP literal */
#define NETCORE_LOBBY_TLS_PIN_STRLEN 96       /**< "AB:CD:..." with its NUL */

/** A client's trust context: which certificates it accepts and which TLS
 * versions it speaks. One context may serve many clients of one thread;
 * it must outlive them. */
typedef struct netcore_lobby_tls netcore_lobby_tls;

/** Settings of a netcore_lobby_tls: fill with netcore_lobby_tls_config_default(),
 * change what you need, pass to netcore_lobby_tls_create() (which copies it). */
typedef struct netcore_lobby_tls_config {
    /** PEM bundle of trusted CA certificates and/or a directory prepared
     * with `openssl rehash`; read by netcore_lobby_tls_create() only. Both
     * NULL: the system trust store (OpenSSL's default paths). */
    const char *ca_file;
    const char *ca_dir; /**< directory of hashed CA certificates; see ca_file */

    bool allow_tls12; /**< default false: TLS 1.3 only */
} netcore_lobby_tls_config;

/** Fills every field with its default. */
void netcore_lobby_tls_config_default(netcore_lobby_tls_config *config);

/** Builds a client trust context. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL,
 * unreadable CA file or directory), NETCORE_ERR_BACKEND (OpenSSL failed),
 * NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_lobby_tls_create(const netcore_lobby_tls_config *config,
                                        netcore_lobby_tls **out_tls);
/** NULL is ignored. Every client using it must be destroyed first. */
void netcore_lobby_tls_destroy(netcore_lobby_tls *tls);

/** Writes a new self-signed certificate (ECDSA P-256, SHA-256, valid_days
 * from now, subject CN and subjectAltName = common_name, which may be a DNS
 * name or an IP literal) and its private key as PEM files; the key file is
 * created with mode 0600. Existing files are replaced.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, empty name, valid_days 0),
 * NETCORE_ERR_BACKEND (key generation failed or a
 * file could not be written). */
netcore_result netcore_lobby_tls_make_self_signed(const char *cert_file, const char *key_file,
                                                  const char *common_name, uint32_t valid_days);

/** The pin of the first certificate in a PEM file: SHA-256 of its DER.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL), NETCORE_ERR_NOT_FOUND
 * (unreadable, or no certificate in it). */
netcore_result netcore_lobby_tls_cert_pin(const char *cert_file,
                                          uint8_t out_pin[NETCORE_LOBBY_TLS_PIN_BYTES]);

/** Formats a pin as 32 upper-case hex pairs joined by ':' (the form `openssl
 * x509 -fingerprint -sha256` prints); out needs NETCORE_LOBBY_TLS_PIN_STRLEN bytes. */
void netcore_lobby_tls_pin_format(const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES], char *out,
                                  size_t out_size);
/** Parses 64 hex digits, with or without ':' between pairs, either case.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_lobby_tls_pin_parse(const char *text,
                                           uint8_t out_pin[NETCORE_LOBBY_TLS_PIN_BYTES]);

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/** Most addresses one lobby server listens on (netcore_lobby_server_config.listen). */
#define NETCORE_LOBBY_MAX_LISTEN 4

/** Opaque handle: made by netcore_lobby_server_create(), freed by netcore_lobby_server_destroy(). */
typedef struct netcore_lobby_server netcore_lobby_server;

/** Told to the embedding program when a room starts a match. member_ids holds
 * member_count client ids, valid only during the call. */
typedef void (*netcore_lobby_match_fn)(void *user, uint64_t match_id, uint32_t room_id,
                                       const uint64_t *member_ids, size_t member_count);

/** Current time in seconds on the token clock (see token.h). */
typedef uint64_t (*netcore_lobby_clock_fn)(void *user);

/** Settings of a netcore_lobby_server: fill with netcore_lobby_server_config_default(),
 * set the key and game_address, pass to netcore_lobby_server_create() (which copies it). */
typedef struct netcore_lobby_server_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    netcore_log log;             /**< where messages go; zeroed: nowhere */
    /** Addresses to listen on; each gets its own socket (IPv6 sockets are
     * IPv6-only). Port 0 picks an ephemeral port: read it back with
     * netcore_lobby_server_address(). Default: one, 0.0.0.0:7777. */
    netcore_address listen[NETCORE_LOBBY_MAX_LISTEN];
    uint32_t listen_count;    /**< entries of listen in use, 1..NETCORE_LOBBY_MAX_LISTEN */
    uint32_t max_connections; /**< default 256; 1..65536; extra connections get SERVER_FULL */
    /** Open connections allowed from one IP address (any port); further ones
     * get SERVER_FULL and are closed. Default 0: no per-address limit (tests
     * and bot swarms open many from 127.0.0.1); on a public lobby 4..16. */
    uint32_t max_connections_per_ip;
    uint32_t max_rooms;       /**< default 128 */
    uint32_t max_frame_bytes; /**< default 16384; 256..1048576 (body incl. type byte) */
    /** Default 65536 per connection (4096..); a frame that would overflow it
     * closes the connection with ERROR(SLOW_READER), queued after the frames
     * already buffered (a little space is kept for it). */
    uint32_t send_buffer_bytes;
    uint32_t hello_timeout_ms; /**< default 5000: HELLO/RECONNECT must arrive by then */
    uint32_t idle_timeout_ms;  /**< default 60000: no complete frame for this long closes */
    uint32_t frame_timeout_ms; /**< default 10000: a started frame must complete (slowloris) */
    uint32_t messages_per_s;   /**< default 20 per connection, burst 2x; exceeding closes */
    uint32_t chat_per_s;       /**< default 2, burst 2.5x (5); excess chat answered RATE_LIMITED */
    uint32_t reconnect_grace_ms; /**< default 30000: a lost member keeps its seat this long */
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];  /**< shared with the game servers */
    netcore_address game_address;          /**< game server written in tokens; must be set */
    uint32_t token_lifetime_s;             /**< default 30 */
    netcore_lobby_clock_fn clock;          /**< token clock; NULL: UNIX time */
    void *clock_user;                      /**< passed to clock unchanged */
    netcore_lobby_match_fn on_match_start; /**< may be NULL */
    void *match_user;                      /**< passed to on_match_start unchanged */
    uint64_t seed;                         /**< client/room/match id generator; 0: random */
    /** Game servers that may register (see netcore_lobby_client_register_game_server);
     * default 16, 0 refuses registrations. With none registered, matches go
     * to game_address (an embedded or single game server). */
    uint32_t max_game_servers;
    uint32_t registration_skew_s; /**< default 60: accepted age of a registration's timestamp */
    /** Heartbeat timeout of a registered game server: a game server
     * connection with no complete frame (SERVER_LOAD, PING, ...) for this
     * long is closed with ERROR(TIMEOUT) and its registration is lost.
     * Default 0: idle_timeout_ms applies, as for players. */
    uint32_t game_server_timeout_ms;
    /** LAN discovery: when enabled, a UDP socket on discovery_port answers
     * netcore_lobby_discovery probes with lobby_name, the TCP port, the
     * player and room counts and (TLS) the certificate pin. The socket is
     * bound to the wildcard address so that broadcast probes arrive; when
     * listen[0] (which must be IPv4) names one address, only probes that
     * reach that address's interface for it or for a broadcast address are
     * answered, from that address. Port 0 picks an ephemeral port
     * (netcore_lobby_server_discovery_address()). */
    bool discovery_enabled;                      /**< default false */
    uint16_t discovery_port;                     /**< default 7777 */
    char lobby_name[NETCORE_LOBBY_NAME_MAX + 1]; /**< default "netcore lobby" */
    /** TLS: with both set (PEM files, read by create only: certificate chain,
     * then private key) every listener speaks TLS only. A connection's TLS
     * handshake is part of its hello_timeout_ms, and it counts against
     * max_connections_per_ip from accept(). A client that starts in
     * plaintext gets ERROR(TLS_REQUIRED) in plaintext and is closed. Both
     * NULL (default): plaintext. */
    const char *tls_cert_file;
    const char *tls_key_file; /**< private key of tls_cert_file (PEM); see tls_cert_file */
    bool tls_allow_tls12;     /**< default false: TLS 1.3 only */
    /** Rate limits follow the session (a reconnect keeps its buckets) and
     * the IP address: a connection closed for flooding (messages_per_s)
     * bars its IP address for this long, during which new connections from
     * it get ERROR(RATE_LIMITED) and are closed (the last 64 addresses
     * are remembered). Default 0: off (tests and bot swarms share
     * 127.0.0.1); netcore-lobby uses 10000. */
    uint32_t rate_limit_ban_ms;
    /** Discovery answers carry this pin of the lobby's certificate so that a
     * LAN player can pin it (trust on first use); set by the embedding
     * program (e.g. from netcore_lobby_tls_cert_pin). All zero: none. */
    uint8_t discovery_tls_pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    /** Several lobby nodes sharing rooms, sessions, reconnect tokens, the
     * game-server registry and matches through one Redis server
     * (docs/lobby-cluster.md). Empty cluster_redis (default): everything
     * stays in this process. Otherwise "HOST:PORT" or "unix:PATH"; the
     * node talks to Redis without ever blocking its loop, and refuses what
     * needs Redis with ERROR(INTERNAL) while Redis cannot be reached. Every
     * node of a cluster must use the same max_rooms, reconnect_grace_ms and
     * key. */
    char cluster_redis[256];
    char cluster_redis_password[256]; /**< Redis AUTH password; empty: no AUTH */
    /** Required with cluster_redis: 1..32 bytes of [A-Za-z0-9_.-], unique
     * among the live nodes. */
    char cluster_node_id[33];
    /** Default 3000: a node whose heartbeat is this old is dead; its players
     * are marked lost (they keep their seats for reconnect_grace_ms) and its
     * game servers' matches end. */
    uint32_t cluster_node_timeout_ms;
} netcore_lobby_server_config;

/** Fills every field with its default (see the field comments); the key and
 * game_address are left zeroed and must be set. */
void netcore_lobby_server_config_default(netcore_lobby_server_config *config);

/**
 * Binds and listens on every configured address; copies the config (the TLS
 * files are read here and not kept).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (out-of-range field, no game address,
 * only one of the TLS files, an unreadable certificate or key, or a key that
 * does not match the certificate), NETCORE_ERR_BACKEND (OpenSSL or libsodium
 * failed), NETCORE_ERR_SOCKET (socket, bind or listen failed),
 * NETCORE_ERR_OUT_OF_MEMORY.
 */
netcore_result netcore_lobby_server_create(const netcore_lobby_server_config *config,
                                           netcore_lobby_server **out_server);

/** Closes every connection and socket and frees everything. NULL is ignored. */
void netcore_lobby_server_destroy(netcore_lobby_server *server);

/** The actual address of listen socket index (ephemeral port included).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, index >= listen_count). */
netcore_result netcore_lobby_server_address(const netcore_lobby_server *server, uint32_t index,
                                            netcore_address *out_address);

/**
 * Waits up to timeout_ms for socket activity (the platform poller: epoll,
 * poll or WSAPoll), then accepts,
 * reads, handles and writes whatever is ready and runs the timers due at
 * now_us, the caller's monotonic clock in microseconds (timers are checked
 * at most every 10 ms, so a timeout due just after another one may fire up
 * to 10 ms late).
 * Errors: NETCORE_ERR_SOCKET (the poller failed), NETCORE_ERR_INVALID_ARGUMENT.
 */
netcore_result netcore_lobby_server_update(netcore_lobby_server *server, uint64_t now_us,
                                           uint32_t timeout_ms);

/** The discovery socket's address. Errors: NETCORE_ERR_INVALID_ARGUMENT,
 * NETCORE_ERR_STATE (discovery not enabled). */
netcore_result netcore_lobby_server_discovery_address(const netcore_lobby_server *server,
                                                      netcore_address *out_address);

/** Ends a match: its room returns to the lobby (everyone unready) and members
 * get MATCH_END (reason NETCORE_LOBBY_MATCH_ENDED). Errors:
 * NETCORE_ERR_NOT_FOUND (no room plays this match). */
netcore_result netcore_lobby_server_end_match(netcore_lobby_server *server, uint64_t match_id);

/** Counters of a netcore_lobby_server since it was created, and gauges of now
 * (netcore_lobby_server_get_stats()). A plain value. */
typedef struct netcore_lobby_server_stats {
    uint32_t connections;          /**< open now */
    uint32_t sessions;             /**< players known now, including those within reconnect grace */
    uint32_t rooms;                /**< rooms open now */
    uint64_t connections_accepted; /**< TCP connections accepted */
    uint64_t connections_rejected_full; /**< max_connections reached: ERROR(SERVER_FULL), closed */
    uint64_t connections_rejected_per_ip; /**< max_connections_per_ip reached */
    /** accept() failed for lack of descriptors or memory (EMFILE, ENFILE,
     * ENOBUFS, ENOMEM): the listeners are left alone for 100 ms instead of
     * waking the poller again at once. */
    uint64_t accept_backoffs;
    uint64_t frames_received;     /**< complete frames read from clients */
    uint64_t frames_sent;         /**< frames queued to clients */
    uint64_t malformed_dropped;   /**< connections closed for a bad frame */
    uint64_t oversize_dropped;    /**< connections closed for a length above max_frame_bytes */
    uint64_t timeout_dropped;     /**< hello, idle and partial-frame timeouts */
    uint64_t rate_limit_dropped;  /**< connections closed for flooding */
    uint64_t chat_rate_limited;   /**< chat messages refused */
    uint64_t slow_reader_dropped; /**< send buffer overflow: closed with ERROR(SLOW_READER) */
    uint64_t version_rejected;    /**< HELLO of an unsupported version: ERROR(VERSION), closed */
    uint64_t reconnects;          /**< sessions resumed with a reconnect token */
    uint64_t matches_started;     /**< MATCH_START sent to a room */
    uint64_t
        match_tokens_reissued; /**< MATCH_START again for a member reconnecting during its match */
    uint32_t game_servers;     /**< registered now */
    uint64_t
        registrations_rejected; /**< game server registrations refused (key, clock, no free slot) */
    /** Registrations lost: connection closed or failed, heartbeat timeout, or
     * replaced by a new registration of the same game address. */
    uint64_t game_servers_lost;
    /** Matches ended because the game server hosting them was lost: their
     * members got MATCH_END with NETCORE_LOBBY_MATCH_GAME_SERVER_LOST. */
    uint64_t matches_ended_server_lost;
    /** SERVER_MATCH_END for a match that no room plays (already ended, e.g.
     * a report sent after the registration was lost and made again):
     * ignored, no ERROR, the registration stays. */
    uint64_t match_end_reports_ignored;
    uint64_t discovery_answered;    /**< LAN discovery probes answered */
    uint64_t discovery_dropped;     /**< probes of the wrong size, magic or version */
    uint64_t tls_handshakes;        /**< TLS handshakes completed */
    uint64_t tls_handshakes_failed; /**< protocol or socket errors during the handshake: closed */
    uint64_t tls_plaintext_refused; /**< plaintext on a TLS port: ERROR(TLS_REQUIRED), closed */
    uint64_t connections_rejected_banned; /**< from an address barred by rate_limit_ban_ms */
    /* Cluster mode only. */
    bool cluster_up; /**< cluster mode: connected to Redis, scripts loaded, subscribed */
    uint32_t
        cluster_remote_members; /**< cluster mode: members of mirrored rooms held by other nodes */
    uint64_t cluster_events;    /**< cluster mode: channel messages applied */
    uint64_t cluster_events_dropped; /**< cluster mode: channel messages that failed to decode */
    uint64_t
        cluster_refused;     /**< cluster mode: requests refused while Redis could not be reached */
    uint64_t cluster_claims; /**< cluster mode: sessions resumed here from another node */
} netcore_lobby_server_stats;

/** Counters since creation and gauges of now. Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_lobby_server_get_stats(const netcore_lobby_server *server,
                                              netcore_lobby_server_stats *out_stats);

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/** Opaque handle: made by netcore_lobby_client_create(), freed by netcore_lobby_client_destroy(). */
typedef struct netcore_lobby_client netcore_lobby_client;

/** What a netcore_lobby_event reports; the comment of each names the event's fields that are set. */
typedef enum netcore_lobby_event_type {

    NETCORE_LOBBY_EVENT_WELCOME = 1,  /**< client_id, nickname, resumed */
    NETCORE_LOBBY_EVENT_ROOM_LIST,    /**< room_list, room_list_count, rooms_total, list_offset */
    NETCORE_LOBBY_EVENT_ROOM_STATE,   /**< room (also after every change: joins, ready, owner) */
    NETCORE_LOBBY_EVENT_ROOM_LEFT,    /**< room_id, leave_reason */
    NETCORE_LOBBY_EVENT_CHAT,         /**< chat_scope, from_id, nickname (sender), text */
    NETCORE_LOBBY_EVENT_MATCH_START,  /**< match */
    NETCORE_LOBBY_EVENT_MATCH_END,    /**< match_id, match_end_reason */
    NETCORE_LOBBY_EVENT_PONG,         /**< ping_value */
    NETCORE_LOBBY_EVENT_ERROR,        /**< error_code, request_type, text */
    NETCORE_LOBBY_EVENT_DISCONNECTED, /**< error_code: last error received, 0 if none; text */
    /* Game server connections only: */
    NETCORE_LOBBY_EVENT_REGISTERED,    /**< client_id: the id the lobby gave this game server */
    NETCORE_LOBBY_EVENT_MATCH_ASSIGNED /**< match_id, room_id, member_ids, member_count */
} netcore_lobby_event_type;

/** Pointers inside are valid only during the callback. */
typedef struct netcore_lobby_event {
    netcore_lobby_event_type type; /**< what happened; the type's comment names the fields set */
    uint64_t client_id;   /**< WELCOME: this player's id; REGISTERED: this game server's id */
    uint64_t from_id;     /**< CHAT: the sender's client id */
    bool resumed;         /**< WELCOME: true when a reconnect resumed the old session */
    const char *nickname; /**< WELCOME: the name the lobby accepted; CHAT: the sender's */
    const char
        *text; /**< CHAT: the line; ERROR, DISCONNECTED: the server's text or a local reason */
    netcore_lobby_chat_scope chat_scope;         /**< CHAT: room or lobby */
    const netcore_lobby_room_summary *room_list; /**< ROOM_LIST: room_list_count rooms */
    size_t room_list_count;                      /**< ROOM_LIST: entries of room_list */
    uint16_t rooms_total;                 /**< ROOM_LIST: rooms matching the filter, all pages */
    uint16_t list_offset;                 /**< ROOM_LIST: index of room_list[0] among them */
    const netcore_lobby_room_state *room; /**< ROOM_STATE: the room as it is now */
    uint32_t room_id; /**< ROOM_STATE, ROOM_LEFT, MATCH_ASSIGNED: the room concerned */
    netcore_lobby_leave_reason leave_reason; /**< ROOM_LEFT: left or kicked */
    const netcore_lobby_match_start *match;  /**< MATCH_START: server, token and keys */
    uint64_t match_id; /**< MATCH_START, MATCH_END, MATCH_ASSIGNED: the match concerned */
    netcore_lobby_match_end_reason match_end_reason; /**< may hold values added later */
    uint64_t ping_value; /**< PONG: the value netcore_lobby_client_ping() sent */
    uint16_t
        error_code; /**< ERROR, DISCONNECTED: a netcore_lobby_error (may hold values added later) */
    uint8_t request_type;       /**< ERROR: the type of the message the error answers */
    const uint64_t *member_ids; /**< MATCH_ASSIGNED: client ids of the match's players */
    size_t member_count;        /**< MATCH_ASSIGNED: entries of member_ids */
} netcore_lobby_event;

/** Called from netcore_lobby_client_update(). It may queue requests,
 * disconnect or reconnect, but must not destroy the client. */
typedef void (*netcore_lobby_event_fn)(void *user, const netcore_lobby_event *event);

/** Settings of a netcore_lobby_client: fill with netcore_lobby_client_config_default(),
 * set on_event, pass to netcore_lobby_client_create() (which copies it). */
typedef struct netcore_lobby_client_config {
    netcore_allocator allocator;     /**< memory for this object; zeroed: malloc and free */
    netcore_log log;                 /**< where messages go; zeroed: nowhere */
    netcore_lobby_event_fn on_event; /**< required */
    void *event_user;                /**< passed to on_event unchanged */
    uint32_t max_frame_bytes;    /**< default 65536; larger incoming frames close the connection */
    uint32_t connect_timeout_ms; /**< default 5000 */
    uint32_t keepalive_ms;       /**< default 15000: PING sent after this long without sending */
    /** TLS (borrowed; must outlive the client). NULL (default): plaintext.
     * With a context, every connection starts with a TLS handshake within
     * connect_timeout_ms and is accepted when the certificate
     * - matches tls_pin_sha256 (when tls_pin_set: SHA-256 of the server
     *   certificate's DER or of its SubjectPublicKeyInfo DER), whatever its
     *   issuer and names (how a self-signed LAN host is trusted), or else
     * - chains to the context's trust store and names tls_server_name
     *   (required then: a DNS name, also sent as SNI, or an IP literal).
     * Refusals arrive as DISCONNECTED with NETCORE_LOBBY_ERR_TLS_FAILED
     * before anything (HELLO, tokens) is sent. */
    const netcore_lobby_tls *tls;
    char tls_server_name[NETCORE_LOBBY_TLS_SERVER_NAME_MAX +
                         1]; /**< with tls: the name (or IP) the certificate must carry; see tls */
    bool tls_pin_set;        /**< with tls: tls_pin_sha256 is set; see tls */
    uint8_t tls_pin_sha256
        [NETCORE_LOBBY_TLS_PIN_BYTES]; /**< with tls_pin_set: the accepted pin; see tls */

} netcore_lobby_client_config;

/** Fills every field with its default; on_event must still be set. */
void netcore_lobby_client_config_default(netcore_lobby_client_config *config);

/** Errors: NETCORE_ERR_INVALID_ARGUMENT (no on_event, bad sizes, a TLS
 * context with neither a pin nor a server name), NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_lobby_client_create(const netcore_lobby_client_config *config,
                                           netcore_lobby_client **out_client);

/** Closes the connection without notice and frees everything. NULL is ignored. */
void netcore_lobby_client_destroy(netcore_lobby_client *client);

/** Changes whom the next connection trusts (a client that joins several
 * hosts in turn): server_name (may be NULL or empty when pin is given) and
 * pin (NULL: none), as the config fields. Errors: NETCORE_ERR_INVALID_ARGUMENT
 * (no TLS context, name too long, neither name nor pin), NETCORE_ERR_STATE
 * (connected). */
netcore_result netcore_lobby_client_set_tls_peer(netcore_lobby_client *client,
                                                 const char *server_name,
                                                 const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES]);

/**
 * Starts a non-blocking TCP connection and queues HELLO(nickname); with a
 * TLS context the handshake and the certificate check come first and HELLO
 * leaves only after them. WELCOME or ERROR/DISCONNECTED arrives through
 * on_event during later updates. now_us is the caller's monotonic clock in
 * microseconds, as given to netcore_lobby_client_update() (it starts the
 * connect timeout).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (a nickname outside the name rules of
 * docs/lobby-protocol.md: 1..32 bytes of UTF-8, no control, format or
 * noncharacter code points, at least one visible character), NETCORE_ERR_STATE
 * (already connected), NETCORE_ERR_SOCKET.
 */
netcore_result netcore_lobby_client_connect(netcore_lobby_client *client,
                                            const netcore_address *lobby_address,
                                            const char *nickname, uint64_t now_us);

/**
 * Opens a new connection and resumes the session of the last WELCOME (same
 * client id, same room seat) if the server still holds it (within its grace).
 * Errors: NETCORE_ERR_STATE (never welcomed, or still connected),
 * NETCORE_ERR_SOCKET.
 */
netcore_result netcore_lobby_client_reconnect(netcore_lobby_client *client,
                                              const netcore_address *lobby_address,
                                              uint64_t now_us);

/** The most addresses connect_any and reconnect_any take. */
#define NETCORE_LOBBY_FAILOVER_MAX 8

/**
 * netcore_lobby_client_connect over a list of lobby addresses, such as the
 * nodes of a lobby cluster (docs/lobby-cluster.md): the first is tried, and
 * when that connection fails before WELCOME (refused, timed out, closed, or
 * closed with an ERROR) the next one, in order; DISCONNECTED is reported only
 * after the last one failed. count is 1..NETCORE_LOBBY_FAILOVER_MAX; the list
 * is copied. Errors: as netcore_lobby_client_connect; NETCORE_ERR_SOCKET when
 * no address could even be tried.
 */
netcore_result netcore_lobby_client_connect_any(netcore_lobby_client *client,
                                                const netcore_address *addresses, size_t count,
                                                const char *nickname, uint64_t now_us);
/**
 * netcore_lobby_client_reconnect over a list of lobby addresses, tried in
 * order as netcore_lobby_client_connect_any does (an ERROR such as
 * RECONNECT_FAILED moves on to the next). After a node of a cluster dies,
 * reconnect_any with the other nodes resumes the same session and room on
 * one of them. Errors: as netcore_lobby_client_reconnect; NETCORE_ERR_SOCKET
 * when no address could even be tried.
 */
netcore_result netcore_lobby_client_reconnect_any(netcore_lobby_client *client,
                                                  const netcore_address *addresses, size_t count,
                                                  uint64_t now_us);

/** Sends GOODBYE (the server frees the seat at once), then closes. A
 * DISCONNECTED event follows in the next update. NETCORE_ERR_STATE if not connected. */
netcore_result netcore_lobby_client_disconnect(netcore_lobby_client *client);

/** Connects, sends, receives and dispatches events; never blocks. now_us is
 * the caller's monotonic clock in microseconds (connect timeout, keep-alive).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT; network failures arrive as events. */
netcore_result netcore_lobby_client_update(netcore_lobby_client *client, uint64_t now_us);

/** True between connect/reconnect and the DISCONNECTED event. */
bool netcore_lobby_client_is_connected(const netcore_lobby_client *client);
/** 0 until the first WELCOME. */
uint64_t netcore_lobby_client_id(const netcore_lobby_client *client);

/**
 * Requests: each queues one message. They fail with NETCORE_ERR_STATE when not
 * connected, NETCORE_ERR_INVALID_ARGUMENT for fields outside the limits, and
 * NETCORE_ERR_FULL if the send buffer is full. Answers arrive as events.
 */
netcore_result netcore_lobby_client_list_rooms(netcore_lobby_client *client,
                                               const netcore_lobby_room_filter *filter);
/** Creates a room (params copied) and joins it as its owner; the answer is
 * ROOM_STATE, or ERROR (TOO_MANY_ROOMS, ALREADY_IN_ROOM, ...). Errors as above. */
netcore_result netcore_lobby_client_create_room(netcore_lobby_client *client,
                                                const netcore_lobby_room_params *params);
/** Joins a room; the answer is ROOM_STATE, or ERROR (NO_SUCH_ROOM, ROOM_FULL,
 * BAD_PASSWORD, IN_MATCH, ...). password may be NULL (none). Errors as above. */
netcore_result netcore_lobby_client_join_room(netcore_lobby_client *client, uint32_t room_id,
                                              const char *password);
/** Leaves the room; the answer is ROOM_LEFT (or ERROR NOT_IN_ROOM). Errors as above. */
netcore_result netcore_lobby_client_leave_room(netcore_lobby_client *client);
/** Says text (NUL-terminated, 1..NETCORE_LOBBY_CHAT_MAX bytes, copied) to the
 * room or the whole lobby; it comes back as CHAT, or ERROR RATE_LIMITED.
 * Errors as above. */
netcore_result netcore_lobby_client_chat(netcore_lobby_client *client,
                                         netcore_lobby_chat_scope scope, const char *text);
/** Marks this player ready or not in its room; every member gets ROOM_STATE.
 * Errors as above. */
netcore_result netcore_lobby_client_set_ready(netcore_lobby_client *client, bool ready);
/** Owner only: removes a member (ROOM_LEFT with NETCORE_LOBBY_KICKED to it,
 * ROOM_STATE to the others). Errors as above. */
netcore_result netcore_lobby_client_kick(netcore_lobby_client *client, uint64_t client_id);
/** Owner only: starts the match once every member is ready; each member gets
 * MATCH_START (server address, token, keys), or the owner gets ERROR
 * (NOT_READY, NO_GAME_SERVER, ...). Errors as above. */
netcore_result netcore_lobby_client_start_match(netcore_lobby_client *client);
/** Owner only: ends the room's match; every member gets MATCH_END. Errors as above. */
netcore_result netcore_lobby_client_end_match(netcore_lobby_client *client);
/** Sends PING with value; the lobby answers PONG with the same value (for
 * round-trip measurement). Errors as above. */
netcore_result netcore_lobby_client_ping(netcore_lobby_client *client, uint64_t value);

/**
 * Game server side: connects to the lobby as a game server instead of a
 * player. The registration carries game_address (what players will be told),
 * capacity (players), unix_time_s (token clock) and a keyed digest made with
 * the key shared with the lobby, so only holders of the key can register.
 * REGISTERED follows, then MATCH_ASSIGNED for every match the lobby places
 * here (the members' client ids: expect their tokens).
 *
 * Ordering: the lobby sends MATCH_START to the players and MATCH_ASSIGNED to
 * the game server at the same moment, so a player on a fast link can present
 * its token before this connection has been read. A game server that admits
 * only assigned matches (a netcore_token_accept_fn looking the match up)
 * should call netcore_lobby_client_update() on this client and look again
 * before refusing a token for a match it does not know. The token alone
 * already proves, under the shared key, that the lobby placed this client in
 * this match on this server (client id, match id, server address); a server
 * that needs no member list may admit on it without waiting.
 *
 * The registration ends with the connection (closed, or silent for the
 * lobby's game_server_timeout_ms: keep SERVER_LOAD or PING flowing). The
 * lobby then ends every match placed here (its players get MATCH_END with
 * NETCORE_LOBBY_MATCH_GAME_SERVER_LOST and return to their rooms). Registering
 * again gives a new server id; reports of matches from before are ignored.
 * A new registration of the same game address replaces an older one the
 * lobby still holds (that one is closed and lost, as above).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (address family, capacity 0),
 * NETCORE_ERR_STATE (already connected), NETCORE_ERR_SOCKET.
 */
netcore_result netcore_lobby_client_register_game_server(netcore_lobby_client *client,
                                                         const netcore_address *lobby_address,
                                                         const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                                         const netcore_address *game_address,
                                                         uint16_t capacity, uint64_t unix_time_s,
                                                         uint64_t now_us);
/** netcore_lobby_client_register_game_server over a list of lobby addresses
 * (the nodes of a lobby cluster), tried in order like
 * netcore_lobby_client_connect_any: REGISTERED comes from the first node
 * that accepts, DISCONNECTED only after the last one failed. count is
 * 1..NETCORE_LOBBY_FAILOVER_MAX; the list and the key are copied (the key
 * is wiped by destroy). Errors: as netcore_lobby_client_register_game_server. */
netcore_result netcore_lobby_client_register_game_server_any(
    netcore_lobby_client *client, const netcore_address *addresses, size_t count,
    const uint8_t key[NETCORE_TOKEN_KEY_BYTES], const netcore_address *game_address,
    uint16_t capacity, uint64_t unix_time_s, uint64_t now_us);
/** Game server: reports its current player count (the lobby places matches on
 * the least loaded server) and capacity. Send it every few seconds; it also
 * keeps the connection alive. Errors as the requests: NETCORE_ERR_STATE (not
 * connected), NETCORE_ERR_FULL (send buffer full), NETCORE_ERR_INVALID_ARGUMENT (NULL). */
netcore_result netcore_lobby_client_report_load(netcore_lobby_client *client, uint16_t players,
                                                uint16_t capacity);
/** Game server: the match is over; its room returns to the lobby. A match
 * that is no longer running (ended by its owner, or when an earlier
 * registration was lost) is ignored by the lobby without an ERROR. */
netcore_result netcore_lobby_client_report_match_end(netcore_lobby_client *client,
                                                     uint64_t match_id);

/* ------------------------------------------------------------------ */
/* LAN discovery (client side)                                         */
/* ------------------------------------------------------------------ */

/** Most lobbies one discovery remembers. */
#define NETCORE_LOBBY_DISCOVERY_MAX 32

/** Opaque handle: made by netcore_lobby_discovery_create(), freed by netcore_lobby_discovery_destroy(). */
typedef struct netcore_lobby_discovery netcore_lobby_discovery;

/** One lobby that answered. */
typedef struct netcore_lobby_found {
    netcore_address lobby_address;         /**< the answering IP with the lobby's TCP port */
    char name[NETCORE_LOBBY_NAME_MAX + 1]; /**< the lobby's lobby_name, NUL-terminated */
    uint16_t players;                      /**< sessions, as the lobby counts them */
    uint16_t rooms;                        /**< rooms open */
    uint64_t last_seen_us; /**< now_us of the update that received its latest answer */
    /** The lobby speaks TLS; tls_pin is its certificate's SHA-256 as the
     * lobby announced it (all zero if it did not), to pin on first use
     * (netcore_lobby_client_config.tls_pin_sha256). An answer can be forged
     * by anyone on the LAN: show the pin to the player. */
    bool tls;
    uint8_t tls_pin[NETCORE_LOBBY_TLS_PIN_BYTES]; /**< see tls */
} netcore_lobby_found;

/** Settings of a netcore_lobby_discovery: fill with
 * netcore_lobby_discovery_config_default(), change what you need, pass to
 * netcore_lobby_discovery_create() (which copies it). */
typedef struct netcore_lobby_discovery_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
} netcore_lobby_discovery_config;

/** Fills *config with the defaults given on each field. NULL is ignored. */
void netcore_lobby_discovery_config_default(netcore_lobby_discovery_config *config);

/** Opens a UDP socket (broadcast allowed) on an ephemeral port of every IPv4
 * interface; the config is copied. Errors: NETCORE_ERR_INVALID_ARGUMENT
 * (NULL), NETCORE_ERR_BACKEND (libsodium could not initialise),
 * NETCORE_ERR_SOCKET, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_lobby_discovery_create(const netcore_lobby_discovery_config *config,
                                              netcore_lobby_discovery **out_discovery);
/** NULL is ignored. */
void netcore_lobby_discovery_destroy(netcore_lobby_discovery *discovery);
/** Sends one probe to to (an IPv4 address: a lobby, or a broadcast address
 * such as 255.255.255.255 with the lobbies' discovery port). Answers are
 * collected by netcore_lobby_discovery_update(). Errors:
 * NETCORE_ERR_INVALID_ARGUMENT (not IPv4), NETCORE_ERR_SOCKET. */
netcore_result netcore_lobby_discovery_probe(netcore_lobby_discovery *discovery,
                                             const netcore_address *to);
/** Reads answers without blocking; a lobby seen again is updated in place.
 * Answers that do not match a probe of this object are dropped. Reads a
 * bounded number of datagrams per call; now_us (the caller's monotonic clock
 * in microseconds) stamps last_seen_us. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL); a socket
 * error only ends this call's reading. */
netcore_result netcore_lobby_discovery_update(netcore_lobby_discovery *discovery, uint64_t now_us);
/** The lobbies found so far (at most NETCORE_LOBBY_DISCOVERY_MAX) in
 * *out_found and *out_count; the array belongs to the discovery and is valid
 * until the next update or destroy. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL). */
netcore_result netcore_lobby_discovery_results(const netcore_lobby_discovery *discovery,
                                               const netcore_lobby_found **out_found,
                                               size_t *out_count);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_LOBBY_H */
