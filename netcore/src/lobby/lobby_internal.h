/* Lobby wire protocol (internal): message structs and pure encode/decode over
 * bytes, shared by the lobby server and client. The format is specified in
 * docs/lobby-protocol.md. */
#ifndef NETCORE_LOBBY_INTERNAL_H
#define NETCORE_LOBBY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/lobby.h"
#include "core/core_internal.h"
#include "lobby/lobby_tls.h"
#include "platform/poller.h"
#include "platform/socket.h"

/* Every frame: u32 little-endian body length, then the body (type byte first). */
#define NCI_LOBBY_LENGTH_BYTES 4
#define NCI_LOBBY_MAGIC 0x424c434eu /* bytes 'N' 'C' 'L' 'B' in little-endian order */
#define NCI_LOBBY_FRAME_HARD_MAX 1048576u
/* SERVER_REGISTER ends with a keyed digest of every body byte before it. */
#define NCI_LOBBY_MAC_BYTES 16

typedef enum nci_lobby_type {
    /* client -> server */
    NCI_LOBBY_HELLO = 0x01,
    NCI_LOBBY_RECONNECT = 0x02,
    NCI_LOBBY_LIST_ROOMS = 0x03,
    NCI_LOBBY_CREATE_ROOM = 0x04,
    NCI_LOBBY_JOIN_ROOM = 0x05,
    NCI_LOBBY_LEAVE_ROOM = 0x06,
    NCI_LOBBY_CHAT = 0x07,
    NCI_LOBBY_SET_READY = 0x08,
    NCI_LOBBY_KICK = 0x09,
    NCI_LOBBY_START_MATCH = 0x0a,
    NCI_LOBBY_END_MATCH = 0x0b,
    NCI_LOBBY_PING = 0x0c,
    NCI_LOBBY_GOODBYE = 0x0d,
    /* game server -> lobby */
    NCI_LOBBY_SERVER_REGISTER = 0x10,
    NCI_LOBBY_SERVER_LOAD = 0x11,
    NCI_LOBBY_SERVER_MATCH_END = 0x12,
    /* server -> client */
    NCI_LOBBY_WELCOME = 0x81,
    NCI_LOBBY_ROOM_LIST = 0x82,
    NCI_LOBBY_ROOM_STATE = 0x83,
    NCI_LOBBY_CHAT_MESSAGE = 0x84,
    NCI_LOBBY_MATCH_START = 0x85,
    NCI_LOBBY_MATCH_END = 0x86,
    NCI_LOBBY_ROOM_LEFT = 0x87,
    NCI_LOBBY_MATCH_ENDED = 0x88, /* version 2: MATCH_END with a reason */
    NCI_LOBBY_PONG = 0x8c,
    NCI_LOBBY_ERROR = 0x8f,
    /* lobby -> game server */
    NCI_LOBBY_SERVER_ACCEPTED = 0x90,
    NCI_LOBBY_MATCH_ASSIGNED = 0x91
} nci_lobby_type;

/* One decoded message. Only the member named by type is meaningful. Strings
 * are NUL-terminated, valid UTF-8 without control characters. */
typedef struct nci_lobby_msg {
    uint8_t type;
    union {
        struct {
            uint16_t version;
            char nickname[NETCORE_LOBBY_NAME_MAX + 1];
        } hello;
        struct {
            uint16_t version;
            uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES];
        } reconnect;
        netcore_lobby_room_filter list_rooms;
        netcore_lobby_room_params create_room;
        struct {
            uint32_t room_id;
            char password[NETCORE_LOBBY_PASSWORD_MAX + 1];
        } join_room;
        struct {
            uint8_t scope;
            char text[NETCORE_LOBBY_CHAT_MAX + 1];
        } chat;
        bool ready;
        uint64_t kick_client_id;
        uint64_t ping_value; /* PING and PONG */
        struct {
            uint16_t version;
            uint64_t client_id;
            uint8_t reconnect_token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES];
            uint32_t reconnect_grace_s;
            char nickname[NETCORE_LOBBY_NAME_MAX + 1];
            bool resumed;
        } welcome;
        struct {
            uint16_t total;
            uint16_t offset;
            uint8_t count;
            netcore_lobby_room_summary rooms[NETCORE_LOBBY_LIST_MAX];
        } room_list;
        netcore_lobby_room_state room_state;
        struct {
            uint8_t scope;
            uint64_t from_id;
            char from_nickname[NETCORE_LOBBY_NAME_MAX + 1];
            char text[NETCORE_LOBBY_CHAT_MAX + 1];
        } chat_message;
        netcore_lobby_match_start match_start;
        uint64_t match_end_id;
        struct {
            uint64_t match_id;
            uint8_t reason; /* netcore_lobby_match_end_reason; any value decodes */
        } match_ended;
        struct {
            uint32_t room_id;
            uint8_t reason;
        } room_left;
        struct {
            uint16_t code;
            uint8_t request_type;
            char text[NETCORE_LOBBY_ERROR_TEXT_MAX + 1];
        } error;
        struct {
            uint16_t version;
            netcore_address game_address;
            uint16_t capacity;
            uint64_t time_s;
            uint8_t mac[NCI_LOBBY_MAC_BYTES];
        } server_register;
        struct {
            uint16_t players;
            uint16_t capacity;
        } server_load;
        uint64_t server_match_end_id;
        uint64_t server_id; /* SERVER_ACCEPTED */
        struct {
            uint64_t match_id;
            uint32_t room_id;
            uint8_t count;
            uint64_t client_ids[NETCORE_LOBBY_MAX_PLAYERS];
        } match_assigned;
    } u;
} nci_lobby_msg;

typedef enum nci_lobby_frame_status {
    NCI_LOBBY_FRAME_NEED_MORE = 0, /* fewer bytes than the prefix says */
    NCI_LOBBY_FRAME_READY,         /* *out_body_size bytes of body follow the prefix */
    NCI_LOBBY_FRAME_TOO_LARGE,     /* prefix above max_body_bytes */
    NCI_LOBBY_FRAME_EMPTY          /* prefix 0: no room for the type byte */
} nci_lobby_frame_status;

/* Looks at the start of a receive buffer. Never reads past available_bytes. */
nci_lobby_frame_status nci_lobby_frame_peek(const uint8_t *buffer, size_t available_bytes,
                                            size_t max_body_bytes, size_t *out_body_size);

/*
 * Writes msg as a whole frame (prefix + body) into buffer. Validates every
 * field against the protocol's limits first, so a peer never receives what its
 * decoder would refuse. Errors: NETCORE_ERR_INVALID_ARGUMENT (a field outside
 * its limit, unknown type), NETCORE_ERR_TOO_LARGE (buffer too small).
 */
netcore_result nci_lobby_encode(const nci_lobby_msg *msg, uint8_t *buffer, size_t buffer_size,
                                size_t *out_frame_size);

/*
 * Decodes one frame body (without the prefix). Every length, count, enum,
 * string (UTF-8, no control bytes) and trailing byte is checked.
 * Errors: NETCORE_ERR_MALFORMED. *out_msg is unspecified on error.
 */
netcore_result nci_lobby_decode(const uint8_t *body, size_t body_size, nci_lobby_msg *out_msg);

/* The digest SERVER_REGISTER carries: keyed BLAKE2b over the body bytes
 * before the digest (type byte included). */
void nci_lobby_register_mac(const uint8_t key[NETCORE_TOKEN_KEY_BYTES], const uint8_t *body,
                            size_t size_before_mac, uint8_t out_mac[NCI_LOBBY_MAC_BYTES]);

/* lobby_text.c */
/* True when text is at most max_bytes of well-formed UTF-8 without C0 or
 * C1 controls, DEL or noncharacters and, if require_nonempty, not empty. */
bool nci_lobby_text_valid(const char *text, size_t max_bytes, bool require_nonempty);
/* The same rules over size bytes (no NUL terminator needed). */
bool nci_lobby_text_bytes_valid(const uint8_t *bytes, size_t size);
/* A nickname or room name: valid text of 1..max_bytes bytes, without
 * format characters (Unicode Cf: bidi controls, zero-width characters, ...)
 * or line/paragraph separators, with at least one visible character. */
bool nci_lobby_name_valid(const char *name, size_t max_bytes);

/* The lobby client's outgoing message (lobby_client.c), which
 * lobby_client_requests.c fills before nci_lobby_client_request sets its type
 * and queues it. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL client),
 * NETCORE_ERR_STATE (not connected), NETCORE_ERR_FULL (send buffer full), or
 * the encoder's error for a message out of its bounds. */
nci_lobby_msg *nci_lobby_client_out_msg(netcore_lobby_client *client);
netcore_result nci_lobby_client_request(netcore_lobby_client *client, uint8_t type);

#endif /* NETCORE_LOBBY_INTERNAL_H */

/* ------------------------------------------------------------------ */
/* Server internals shared by lobby_server.c (sockets, connections,    */
/* limits) and lobby_rooms.c (sessions, rooms, message handling).      */
/* ------------------------------------------------------------------ */

#define NCI_LOBBY_NONE (-1)
/* Addresses remembered as barred after a flood (config.rate_limit_ban_ms). */
#define NCI_LOBBY_BANS 64

/* Token buckets of the rate limits, in thousandths of a message. A
 * connection has one until it has a session; then the session's applies,
 * and survives reconnects (a flooder closed for it cannot reconnect into a
 * full bucket). */
typedef struct nci_lobby_bucket {
    uint64_t msg_tokens;
    uint64_t chat_tokens;
    uint64_t tokens_ms;
} nci_lobby_bucket;

typedef struct nci_lobby_ban {
    netcore_address ip; /* port ignored */
    uint64_t until_ms;
} nci_lobby_ban;

typedef struct nci_lobby_conn {
    nci_socket socket; /* NCI_SOCKET_INVALID: free slot */
    netcore_address peer;
    uint8_t *recv;
    size_t recv_len;
    uint8_t *send;
    size_t send_len;
    size_t send_off;
    uint64_t opened_ms;
    uint64_t last_frame_ms;
    uint64_t partial_since_ms; /* when the unfinished frame in recv started */
    nci_lobby_bucket bucket;   /* before HELLO/RECONNECT, and for game servers */
    nci_lobby_tls *tls;        /* NULL on a plaintext lobby */
    bool tls_ready;            /* handshake done: frames may flow */
    bool tls_sniffed;          /* first byte seen to start a TLS record */
    bool tls_read_wants_write; /* the TLS layer needs writability to go on reading */
    int32_t session;           /* NCI_LOBBY_NONE before HELLO/RECONNECT */
    int32_t game_server;       /* registry index when this is a game server's connection */
    uint16_t version;          /* protocol version of its HELLO, RECONNECT or SERVER_REGISTER */
    uint32_t serial;           /* set at accept from next_conn_serial */
    bool closing;              /* final ERROR queued: flush, half-close, drain, then close */
    bool write_shut;
    bool want_write; /* NCI_POLL_OUT is in its poller interest */
    bool dirty;      /* on the server's dirty list for this update */
    uint64_t close_deadline_ms;
} nci_lobby_conn;

typedef struct nci_lobby_session {
    bool used;
    uint64_t client_id;
    char nickname[NETCORE_LOBBY_NAME_MAX + 1];
    /* Random throughout (randombytes), renewed by every WELCOME: it tells
     * nothing about the client id or how many sessions exist. */
    uint8_t reconnect_token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES];
    nci_lobby_bucket bucket;
    /* Kicked while its connection was lost: ROOM_LEFT(KICKED) is owed on
     * reconnect (room id below). */
    bool kicked_while_away;
    uint32_t kicked_room_id;
    int32_t conn;     /* NCI_LOBBY_NONE while lost */
    uint64_t lost_ms; /* when the connection was lost */
    int32_t room;     /* room index or NCI_LOBBY_NONE */
    bool ready;
    /* Cluster mode: a member of a mirrored room connected to another node
     * (no connection, no token here; lobby_cluster.c). */
    bool remote;
    bool remote_connected;
} nci_lobby_session;

typedef struct nci_lobby_room {
    bool used;
    uint32_t room_id;
    netcore_lobby_room_params params;
    uint64_t owner_id;
    bool in_match;
    uint64_t match_id;
    uint64_t game_server_id;      /* where the match was placed; 0: the configured game_address */
    netcore_address game_address; /* the match's game server, written in its tokens */
    uint8_t member_count;
    int32_t members[NETCORE_LOBBY_MAX_PLAYERS]; /* session indices in join order */
} nci_lobby_room;

typedef struct nci_lobby_game_server {
    bool used;
    uint64_t server_id;
    int32_t conn;
    netcore_address address;
    uint16_t capacity;
    uint16_t players;        /* as last reported */
    uint32_t assigned_since; /* players placed here since that report */
} nci_lobby_game_server;

struct netcore_lobby_server {
    netcore_lobby_server_config config;
    nci_socket listen_sockets[NETCORE_LOBBY_MAX_LISTEN];
    nci_socket discovery_socket; /* NCI_SOCKET_INVALID when discovery is off */
    netcore_address discovery_address;
    /* listen[0]'s interface (index, broadcast address) when it names one
     * address; discovery_ifindex 0: answer every probe (wildcard listen). */
    int64_t discovery_ifindex;      /* -1: unknown, only probes sent to the address itself */
    uint8_t discovery_broadcast[4]; /* network order; all zero: none known */
    netcore_address listen_addresses[NETCORE_LOBBY_MAX_LISTEN];
    nci_lobby_conn *conns;
    uint32_t conn_capacity;
    nci_lobby_session *sessions;
    uint32_t session_capacity;
    nci_lobby_room *rooms;
    nci_lobby_game_server *game_servers; /* config.max_game_servers entries */
    /* Per-update work follows activity, not the number of connections: one
     * poller holds every socket, free slots are stacks, connections with
     * output or a pending close are listed, and timeouts are checked by one
     * scan when the earliest deadline is due (lobby_server.c). */
    nci_poller *poller;
    bool platform_started; /* nci_platform_startup to be paired at destroy */
    nci_poll_event
        *events;         /* nci_poller_wait output, conn_capacity + NCI_LOBBY_POLL_EXTRA_SOCKETS */
    int32_t *free_conns; /* stack of free conns indices */
    uint32_t free_conn_count;
    int32_t *free_sessions; /* stack of unused sessions indices */
    uint32_t free_session_count;
    int32_t *dirty_conns; /* connections that queued output or started closing */
    uint32_t dirty_count;
    uint64_t next_timer_scan_ms; /* no deadline is due before this */
    uint64_t timer_floor_ms;     /* no scan before this (bounds scans per second) */
    uint64_t next_client_id;     /* counts up from a random start, skipping 0 */
    nci_lobby_msg in_msg;
    const uint8_t *in_body; /* raw body of in_msg, for the registration digest */
    size_t in_body_size;
    nci_lobby_msg out_msg;
    nci_lobby_msg error_msg;
    uint8_t *scratch;      /* NCI_LOBBY_SCRATCH_BYTES, one encoded frame */
    size_t out_frame_size; /* of out_msg in scratch, after nci_lobby_encode_out */
    uint64_t now_ms;
    uint64_t accept_paused_until_ms; /* listeners are not polled before this */
    bool listeners_armed;            /* the poller wakes for the listeners */
    uint32_t next_room_id;
    netcore_lobby_tls *tls_context; /* NULL: plaintext */
    nci_lobby_ban bans[NCI_LOBBY_BANS];
    uint32_t next_ban; /* ring position of the next ban */
    nci_rng rng;
    struct nci_lobby_cluster *cluster; /* NULL: everything stays in this process */
    uint32_t next_conn_serial;         /* tells a reused connection slot from the old one */
    netcore_lobby_server_stats stats;
    nci_log_limiter log_limiter;
};

/* Poller data of the sockets that are not connections (a connection's is its index). */
#define NCI_LOBBY_POLL_LISTENER 0x100000000ull /* plus the listener's index */
#define NCI_LOBBY_POLL_DISCOVERY 0x200000000ull
/* (NCI_LOBBY_POLL_REDIS, lobby_redis.h, is above these.) The sockets besides
 * the connections: every listener, discovery and the two Redis links. */
#define NCI_LOBBY_POLL_EXTRA_SOCKETS (NETCORE_LOBBY_MAX_LISTEN + 1 + 2)

/* Large enough for the largest frame the server sends (a full ROOM_LIST). */
#define NCI_LOBBY_SCRATCH_BYTES 32768

/* lobby_conn.c */
/* Closes the socket, frees buffers and TLS state and returns the slot to the
 * free stack (no session or registry bookkeeping: see nci_lobby_conn_close_now). */
void nci_lobby_conn_release(netcore_lobby_server *server, nci_lobby_conn *conn);
/* Closes at once, then tells the session (lost) and the registry. */
void nci_lobby_conn_close_now(netcore_lobby_server *server, int32_t conn);
/* Lists a connection for the end-of-update flush (lobby_server.c flush_dirty). */
void nci_lobby_mark_dirty(netcore_lobby_server *server, nci_lobby_conn *conn);
/* Hands queued output to the socket (or TLS) until it would block. */
void nci_lobby_conn_flush(nci_lobby_conn *conn);
/* Announces the earliest of a connection's deadlines. */
void nci_lobby_conn_timer(netcore_lobby_server *server, const nci_lobby_conn *conn);
/* Handshakes, reads and handles what the socket has (bounded per call). */
void nci_lobby_conn_read(netcore_lobby_server *server, int32_t conn);
/* Starts a bucket full. */
void nci_lobby_bucket_fill(const netcore_lobby_server *server, nci_lobby_bucket *bucket);
/* True while ip is barred after a flood (config.rate_limit_ban_ms). */
bool nci_lobby_ip_banned(const netcore_lobby_server *server, const netcore_address *ip);
/* Encodes server->out_msg once and queues it on a connection; overflow closes
 * the connection after the frames already queued, with ERROR(SLOW_READER)
 * (see queue_frame in lobby_conn.c). Closed or closing connections are skipped. */
void nci_lobby_send_out(netcore_lobby_server *server, int32_t conn);
/* For a broadcast: encodes server->out_msg once (false, logged, when it cannot
 * be encoded), then nci_lobby_send_encoded queues that frame on each
 * connection like nci_lobby_send_out. Nothing else may be sent in between. */
bool nci_lobby_encode_out(netcore_lobby_server *server);
void nci_lobby_send_encoded(netcore_lobby_server *server, int32_t conn);
/* Queues ERROR(code, request_type, text); the connection stays open. */
void nci_lobby_send_error(netcore_lobby_server *server, int32_t conn, uint16_t code,
                          uint8_t request_type, const char *text);
/* Stops handling input and closes the connection once its queued frames are
 * flushed (bounded wait). */
void nci_lobby_close(netcore_lobby_server *server, int32_t conn);
/* Queues ERROR and closes the connection once it is flushed; counted by the
 * caller. A connection still in its TLS handshake is closed at once. */
void nci_lobby_fail(netcore_lobby_server *server, int32_t conn, uint16_t code, const char *text);
/* Something falls due at deadline_ms: the timers run in the first update at
 * or after it. Every new deadline must be announced here. */
void nci_lobby_timer_at(netcore_lobby_server *server, uint64_t deadline_ms);

/* lobby_rooms.c */
/* Handles one decoded message (server->in_msg) from a connection. */
void nci_lobby_handle(netcore_lobby_server *server, int32_t conn);
/* The connection of a session has gone (session keeps its seat for the
 * reconnect grace unless the connection said GOODBYE). */
void nci_lobby_session_lost(netcore_lobby_server *server, int32_t session, bool goodbye);
/* Frees sessions whose reconnect grace has passed. */
void nci_lobby_expire_sessions(netcore_lobby_server *server);
/* Seconds on the token clock (config.clock or UNIX time). */
uint64_t nci_lobby_token_time_s(const netcore_lobby_server *server);
/* Ends a room's match: MATCH_END (MATCH_ENDED with reason to connections of
 * version 2 and later), everyone unready, ROOM_STATE. */
void nci_lobby_end_room_match(netcore_lobby_server *server, int32_t room_index,
                              netcore_lobby_match_end_reason reason);
/* Used by lobby_cluster.c, which applies the cluster's room states to the
 * mirror: ROOM_STATE to the room's members on this node; ROOM_LEFT;
 * WELCOME (new token); MATCH_START with a fresh token for a member of a
 * room in a match (reissue: counted as match_tokens_reissued). */
void nci_lobby_broadcast_room_state(netcore_lobby_server *server, int32_t room_index);
void nci_lobby_send_room_left(netcore_lobby_server *server, int32_t conn, uint32_t room_id,
                              uint8_t reason);
void nci_lobby_send_welcome(netcore_lobby_server *server, int32_t conn, bool resumed);
void nci_lobby_send_match_start(netcore_lobby_server *server, int32_t conn,
                                nci_lobby_session *session, bool reissue);
/* True for a protocol version this server speaks. */
bool nci_lobby_version_supported(uint16_t version);

/* lobby_discovery.c */
/* Probes are padded to this size so that an answer is never larger than
 * the probe that caused it: no reflection amplification. Version 2 (this
 * release) pads to 128 bytes and its answers carry the certificate pin;
 * version-1 probes (64 bytes) are still answered in version 1. */
#define NCI_LOBBY_PROBE_BYTES 128
#define NCI_LOBBY_PROBE_V1_BYTES 64
/* A discovery answer, decoded. */
typedef struct nci_lobby_discovery_answer {
    uint16_t version; /* of the probe it answers: 1 or 2 */
    uint64_t nonce;   /* the probe's */
    uint16_t tcp_port;
    uint16_t players;
    uint16_t rooms;
    bool tls; /* version 2: the lobby speaks TLS ... */
    uint8_t
        tls_pin[NETCORE_LOBBY_TLS_PIN_BYTES]; /* ... with this certificate (all zero: not told) */
    char name[NETCORE_LOBBY_NAME_MAX + 1];
} nci_lobby_discovery_answer;
/* Writes a version-2 probe: header with nonce, zero padding to NCI_LOBBY_PROBE_BYTES. */
void nci_lobby_discovery_encode_probe(uint64_t nonce, uint8_t out[NCI_LOBBY_PROBE_BYTES]);
/* True (and *out_nonce, *out_version set) for a probe of version 1 (exactly
 * NCI_LOBBY_PROBE_V1_BYTES) or 2 (exactly NCI_LOBBY_PROBE_BYTES) with the
 * right magic and kind and all-zero padding. */
bool nci_lobby_discovery_decode_probe(const uint8_t *datagram, size_t size, uint64_t *out_nonce,
                                      uint16_t *out_version);
/* Writes an answer in answer->version (name cut at NETCORE_LOBBY_NAME_MAX
 * bytes); returns its size, never above the size of that version's probe. */
size_t nci_lobby_discovery_encode_answer(const nci_lobby_discovery_answer *answer,
                                         uint8_t out[NCI_LOBBY_PROBE_BYTES]);
/* True for a well-formed answer of either version: header, exact size for
 * the name length, name valid text without NUL, TLS flag 0 or 1.
 * *out_answer is unspecified when false. */
bool nci_lobby_discovery_decode_answer(const uint8_t *datagram, size_t size,
                                       nci_lobby_discovery_answer *out_answer);
/* Opens the discovery socket when the config enables it: bound to the
 * wildcard address (Linux delivers broadcasts only to sockets bound to the
 * wildcard or the broadcast address); when listen[0] names one address,
 * only probes that arrived on its interface for it or a broadcast address
 * are answered, from that address. Errors: NETCORE_ERR_INVALID_ARGUMENT
 * (listen[0] is IPv6), NETCORE_ERR_SOCKET. */
netcore_result nci_lobby_discovery_open(netcore_lobby_server *server);
/* Answers the probes waiting on the discovery socket (bounded per call). */
void nci_lobby_discovery_read(netcore_lobby_server *server);

/* lobby_registry.c */
/* Handles a message from a game server's connection, or its SERVER_REGISTER. */
void nci_lobby_registry_handle(netcore_lobby_server *server, int32_t conn);
/* The registration of a game server is lost (its connection closed, failed
 * or timed out): every match placed on it ends with
 * NETCORE_LOBBY_MATCH_GAME_SERVER_LOST and the entry is freed. */
void nci_lobby_registry_lost(netcore_lobby_server *server, int32_t game_server);
/* Chooses where a match of player_count goes: the least loaded registered
 * game server with room, or config.game_address (*out_server_id 0) when none
 * is registered. false when every registered server is full. */
bool nci_lobby_registry_pick(netcore_lobby_server *server, uint32_t player_count,
                             netcore_address *out_address, uint64_t *out_server_id);
/* Tells game server server_id (non-zero) which clients the match will bring. */
void nci_lobby_registry_assign(netcore_lobby_server *server, uint64_t server_id, uint64_t match_id,
                               uint32_t room_id, const uint64_t *client_ids, uint8_t count);
