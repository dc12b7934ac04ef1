/* Lobby nodes sharing state through Redis (internal). With
 * config.cluster_redis set, the room table of a lobby server becomes a
 * mirror of the cluster's rooms, changed only by events from Redis, and the
 * requests that change rooms go to Lua scripts (lobby_cluster_lua.c).
 * lobby_rooms.c, lobby_server.c and lobby_registry.c call the hooks below
 * only when server->cluster is set. See docs/lobby-cluster.md. */
#ifndef NETCORE_LOBBY_CLUSTER_H
#define NETCORE_LOBBY_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/lobby.h"

typedef enum nci_cluster_script {
    NCI_CLUSTER_SCRIPT_SESSION = 0,
    NCI_CLUSTER_SCRIPT_CLAIM,
    NCI_CLUSTER_SCRIPT_LOST,
    NCI_CLUSTER_SCRIPT_BYE,
    NCI_CLUSTER_SCRIPT_CREATE,
    NCI_CLUSTER_SCRIPT_JOIN,
    NCI_CLUSTER_SCRIPT_LEAVE,
    NCI_CLUSTER_SCRIPT_KICK,
    NCI_CLUSTER_SCRIPT_READY,
    NCI_CLUSTER_SCRIPT_START,
    NCI_CLUSTER_SCRIPT_END,
    NCI_CLUSTER_SCRIPT_GS_ADD,
    NCI_CLUSTER_SCRIPT_GS_LOAD,
    NCI_CLUSTER_SCRIPT_GS_LOST,
    NCI_CLUSTER_SCRIPT_TICK,
    NCI_CLUSTER_SCRIPT_SNAPSHOT,
    NCI_CLUSTER_SCRIPT_SYNC,
    NCI_CLUSTER_SCRIPT_COUNT
} nci_cluster_script;

/* Writes the full Lua source of a script (shared helpers + its body) into
 * out when it fits in capacity (NUL included); returns its length without
 * the NUL (0 for an unknown index). out may be NULL to ask the length. */
size_t nci_lobby_cluster_script_text(uint32_t index, char *out, size_t capacity);

/* ------------------------------------------------------------------ */
/* Events on the channel (lobby_cluster_event.c)                       */
/* ------------------------------------------------------------------ */

#define NCI_CLUSTER_NODE_MAX 32
#define NCI_CLUSTER_EVENT_MAX_BYTES 16384

typedef enum nci_cluster_event_kind {
    NCI_CLUSTER_EV_ROOM = 1, /* a room's state after a change */
    NCI_CLUSTER_EV_ROOM_GONE,
    NCI_CLUSTER_EV_CHAT,
    NCI_CLUSTER_EV_TAKEOVER /* a session moved to another node */
} nci_cluster_event_kind;

typedef enum nci_cluster_cause {
    NCI_CLUSTER_CAUSE_CHANGE = 0,
    NCI_CLUSTER_CAUSE_LEFT = 1,
    NCI_CLUSTER_CAUSE_KICKED = 2,
    NCI_CLUSTER_CAUSE_MATCH_START = 3,
    NCI_CLUSTER_CAUSE_MATCH_END = 4
} nci_cluster_cause;

typedef struct nci_cluster_member {
    uint64_t client_id;
    char nickname[NETCORE_LOBBY_NAME_MAX + 1];
    bool ready;
    bool connected;
} nci_cluster_member;

typedef struct nci_cluster_event {
    uint8_t kind;                     /* nci_cluster_event_kind */
    uint32_t room_id;                 /* ROOM, ROOM_GONE, CHAT (0: lobby-wide chat) */
    uint8_t cause;                    /* ROOM, ROOM_GONE: nci_cluster_cause */
    uint64_t subject;                 /* the member concerned, or the ended match's id */
    uint64_t seq;                     /* ROOM, ROOM_GONE: number of the change (nc:seq) */
    netcore_lobby_room_params params; /* ROOM; password is "*" when it has one */
    uint64_t owner_id;
    uint64_t match_id; /* 0: not in a match */
    uint64_t game_server_id;
    netcore_address game_address; /* family NONE when not in a match */
    uint8_t end_reason;
    uint8_t member_count;
    nci_cluster_member members[NETCORE_LOBBY_MAX_PLAYERS];
    uint8_t scope;    /* CHAT */
    uint64_t from_id; /* CHAT; TAKEOVER: the client */
    char nickname[NETCORE_LOBBY_NAME_MAX + 1];
    char text[NETCORE_LOBBY_CHAT_MAX + 1];
    char node[NCI_CLUSTER_NODE_MAX + 1]; /* TAKEOVER: where it went */
} nci_cluster_event;

/* Decodes one message from the channel. Every field is checked (numbers
 * in range, texts valid and within the lobby's limits, member and meta
 * counts, record order); false for anything else. *out is unspecified then. */
bool nci_lobby_cluster_decode(const char *bytes, size_t size, nci_cluster_event *out);

/* True for 1..NCI_CLUSTER_NODE_MAX bytes of [A-Za-z0-9_.-]. */
bool nci_lobby_cluster_node_id_valid(const char *node_id);

/* ------------------------------------------------------------------ */
/* Hooks (lobby_cluster.c)                                             */
/* ------------------------------------------------------------------ */

typedef struct netcore_lobby_server netcore_lobby_server;
typedef struct nci_lobby_cluster nci_lobby_cluster;

/* Called by netcore_lobby_server_create when config.cluster_redis is set,
 * after the poller exists. Errors: NETCORE_ERR_INVALID_ARGUMENT (address
 * or node id), NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result nci_lobby_cluster_create(netcore_lobby_server *server);
void nci_lobby_cluster_destroy(netcore_lobby_server *server);
/* The poller reported a Redis socket (data - NCI_LOBBY_POLL_REDIS = link). */
void nci_lobby_cluster_io(netcore_lobby_server *server, uint32_t link, uint32_t events);
/* Every update: heartbeat, reconnection. Returns the longest wait (ms) the
 * update may spend in nci_poller_wait. */
uint32_t nci_lobby_cluster_tick(netcore_lobby_server *server);
/* Handles a message of a welcomed player that changes shared state
 * (CREATE, JOIN, LEAVE, READY, KICK, START, END, CHAT, GOODBYE); false for
 * the other types, which lobby_rooms.c handles as usual. */
bool nci_lobby_cluster_handle(netcore_lobby_server *server, int32_t conn);
/* RECONNECT whose token no local session holds: asks the cluster. */
void nci_lobby_cluster_claim(netcore_lobby_server *server, int32_t conn,
                             const uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES]);
/* A WELCOME with this token went to a local session: written to Redis. */
void nci_lobby_cluster_welcomed(netcore_lobby_server *server, int32_t session,
                                const uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES]);
/* The connection of a local session is gone (GOODBYE or not). */
void nci_lobby_cluster_session_lost(netcore_lobby_server *server, int32_t session, bool goodbye);
/* A local session slot is to be freed (grace over, or evicted): it becomes
 * a remote member while the mirror still lists it in a room. */
void nci_lobby_cluster_forget(netcore_lobby_server *server, int32_t session);
/* Registry: a game server registered here, reported its load, was lost,
 * or reported the end of a match (false: not running, ignored). */
void nci_lobby_cluster_gs_added(netcore_lobby_server *server, int32_t game_server);
void nci_lobby_cluster_gs_load(netcore_lobby_server *server, int32_t game_server);
void nci_lobby_cluster_gs_lost(netcore_lobby_server *server, uint64_t server_id);
bool nci_lobby_cluster_end_match(netcore_lobby_server *server, uint64_t match_id,
                                 uint64_t only_server_id, int32_t reporter_conn);
bool nci_lobby_cluster_up(const netcore_lobby_server *server);

/* ------------------------------------------------------------------ */
/* Between lobby_cluster.c and lobby_cluster_requests.c                */
/* ------------------------------------------------------------------ */

struct nci_lobby_redis;
#define NCI_CLUSTER_TICK_MS 500u           /* heartbeat and grace sweep */
#define NCI_CLUSTER_MAX_WAIT_MS 100u       /* longest poller wait, so ticks stay on time */
#define NCI_CLUSTER_RETRY_MS 500u          /* between attempts to reach Redis */
#define NCI_CLUSTER_REPLY_TIMEOUT_MS 3000u /* a reply this late means Redis hangs */
#define NCI_CLUSTER_MAX_IN_FLIGHT 16384u
#define NCI_CLUSTER_TOKEN_HASH_BYTES 16
#define NCI_CLUSTER_TOKEN_HEX_BYTES (2 * NCI_CLUSTER_TOKEN_HASH_BYTES + 1)
#define NCI_CLUSTER_UNAVAILABLE "cluster store unavailable, try again"

struct nci_lobby_cluster {
    struct nci_lobby_redis *redis;
    char *scripts[NCI_CLUSTER_SCRIPT_COUNT];
    uint64_t *map_ids; /* open addressing, 0: empty */
    int32_t *map_slots;
    uint32_t map_mask;
    char (*token_hex)[NCI_CLUSTER_TOKEN_HEX_BYTES]; /* per session slot: hash of its token */
    bool *seen_rooms;                               /* per mirror slot, for a snapshot */
    uint64_t *room_seq; /* per mirror slot: number of the change it shows */
    uint64_t floor_seq; /* changes up to this are in the last snapshot */
    uint64_t last_seq;  /* highest change number applied */
    char epoch[24];     /* of the Redis data the mirror follows */
    char *sync_text;    /* the ids a node holds, for the sync script */
    size_t sync_capacity;
    nci_cluster_event event;
    char text[NCI_CLUSTER_EVENT_MAX_BYTES];
    uint64_t next_tick_ms;
    bool resync; /* up again: load every room, re-assert our sessions */
};

int32_t nci_cluster_map_find(const nci_lobby_cluster *cluster, uint64_t client_id);
void nci_cluster_map_put(nci_lobby_cluster *cluster, uint64_t client_id, int32_t session);
/* A local session stops being this node's: a remote member while its
 * room lists it, freed otherwise. */
void nci_cluster_make_remote(netcore_lobby_server *server, int32_t session, bool connected);
/* Runs a script for a connection (NCI_LOBBY_NONE: no one to answer);
 * false when Redis is down or too many replies are awaited. An ERROR in
 * its reply names request_type (0: the script's usual request). */
bool nci_cluster_eval(netcore_lobby_server *server, nci_cluster_script script, uint32_t argc,
                      const char *const *argv, int32_t conn);
bool nci_cluster_eval_for(netcore_lobby_server *server, nci_cluster_script script, uint32_t argc,
                          const char *const *argv, int32_t conn, uint8_t request_type);
/* ERROR(INTERNAL) "cluster store unavailable", counted. */
void nci_cluster_refuse(netcore_lobby_server *server, int32_t conn, uint8_t request_type);
void nci_cluster_fmt_u64(char out[21], uint64_t value);
void nci_cluster_token_hash(const uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES],
                            char out[NCI_CLUSTER_TOKEN_HEX_BYTES]);
/* Writes a local session (SESSION, or LOST while away) or game server to Redis. */
void nci_cluster_assert_session(netcore_lobby_server *server, int32_t session);
void nci_cluster_assert_game_server(netcore_lobby_server *server, int32_t game_server);
/* Writes everything this node holds again (sessions, game servers), then
 * files what it let go while Redis could not hear it (sync script). */
void nci_cluster_reassert(netcore_lobby_server *server);
/* Delivers a chat event to this node's players it concerns. */
void nci_cluster_deliver_chat(netcore_lobby_server *server, const nci_cluster_event *event);

#endif /* NETCORE_LOBBY_CLUSTER_H */
