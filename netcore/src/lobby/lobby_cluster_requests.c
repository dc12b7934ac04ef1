/* Lobby nodes sharing state through Redis: requests of this node's players
 * and game servers that change shared state become Lua scripts; their
 * outcome comes back as events (lobby_cluster.c applies them). */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "lobby/lobby_cluster.h"
#include "lobby/lobby_internal.h"
#include "lobby/lobby_redis.h"

/* ------------------------------------------------------------------ */
/* What this node holds, written to Redis                              */
/* ------------------------------------------------------------------ */

void nci_cluster_assert_session(netcore_lobby_server *s, int32_t index)
{
    const nci_lobby_session *ses = &s->sessions[index];
    char id[21];
    nci_cluster_fmt_u64(id, ses->client_id);
    if (ses->conn == NCI_LOBBY_NONE) {
        const char *argv[2] = {s->config.cluster_node_id, id};
        (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_LOST, 2, argv, NCI_LOBBY_NONE);
        return;
    }
    const char *argv[4] = {s->config.cluster_node_id, id, ses->nickname,
                           s->cluster->token_hex[index]};
    (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_SESSION, 4, argv, NCI_LOBBY_NONE);
}

void nci_cluster_assert_game_server(netcore_lobby_server *s, int32_t index)
{
    const nci_lobby_game_server *g = &s->game_servers[index];
    char id[21], cap[21], addr[NETCORE_ADDRESS_STRLEN];
    nci_cluster_fmt_u64(id, g->server_id);
    nci_cluster_fmt_u64(cap, g->capacity);
    netcore_address_format(&g->address, addr, sizeof addr);
    const char *argv[4] = {s->config.cluster_node_id, id, addr, cap};
    (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_GS_ADD, 4, argv, NCI_LOBBY_NONE);
}

/* After (re)connecting, or when Redis no longer lists this node as alive:
 * what this node holds is written again. */
void nci_cluster_reassert(netcore_lobby_server *s)
{
    nci_lobby_cluster *c = s->cluster;
    size_t used = 0;
    char *ids = c->sync_text;
    ids[0] = '\0';
    for (uint32_t i = 0; i < s->session_capacity; i++) {
        const nci_lobby_session *ses = &s->sessions[i];
        if (!ses->used || ses->remote)
            continue;
        if (c->token_hex[i][0])
            nci_cluster_assert_session(s, (int32_t)i);
        used +=
            (size_t)snprintf(ids + used, c->sync_capacity - used, "%" PRIu64 " ", ses->client_id);
    }
    char *servers = ids + used + 1;
    size_t servers_used = 0;
    size_t servers_capacity = c->sync_capacity - used - 1;
    servers[0] = '\0';
    for (uint32_t i = 0; i < s->config.max_game_servers; i++) {
        if (!s->game_servers[i].used)
            continue;
        nci_cluster_assert_game_server(s, (int32_t)i);
        servers_used += (size_t)snprintf(servers + servers_used, servers_capacity - servers_used,
                                         "%" PRIu64 " ", s->game_servers[i].server_id);
    }
    /* After the writes above, on the same connection: they run first. */
    const char *argv[3] = {s->config.cluster_node_id, ids, servers};
    (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_SYNC, 3, argv, NCI_LOBBY_NONE);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* Chat goes through the channel so that every node delivers it in the
 * same order; without Redis, to this node's players only. */
static void handle_chat(netcore_lobby_server *s, int32_t conn, const nci_lobby_session *ses)
{
    nci_lobby_cluster *c = s->cluster;
    uint8_t scope = s->in_msg.u.chat.scope;
    if (scope == NETCORE_LOBBY_CHAT_ROOM && ses->room == NCI_LOBBY_NONE) {
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_NOT_IN_ROOM, NCI_LOBBY_CHAT,
                             "not in a room");
        return;
    }
    memset(&c->event, 0, sizeof c->event);
    c->event.kind = NCI_CLUSTER_EV_CHAT;
    c->event.room_id = scope == NETCORE_LOBBY_CHAT_ROOM ? s->rooms[ses->room].room_id : 0;
    c->event.scope = scope;
    c->event.from_id = ses->client_id;
    memcpy(c->event.nickname, ses->nickname, sizeof c->event.nickname);
    memcpy(c->event.text, s->in_msg.u.chat.text, sizeof c->event.text);
    int n = snprintf(c->text, sizeof c->text, "C\t%" PRIu32 "\t%u\t%" PRIu64 "\t%s\t%s\n",
                     c->event.room_id, (unsigned)scope, ses->client_id, ses->nickname,
                     s->in_msg.u.chat.text);
    if (n > 0 && (size_t)n < sizeof c->text &&
        nci_lobby_redis_publish(c->redis, c->text, (size_t)n))
        return;
    nci_cluster_deliver_chat(s, &c->event);
}

bool nci_lobby_cluster_handle(netcore_lobby_server *s, int32_t conn)
{
    uint8_t type = s->in_msg.type;
    nci_lobby_session *ses = &s->sessions[s->conns[conn].session];
    if (type == NCI_LOBBY_CHAT) {
        handle_chat(s, conn, ses);
        return true;
    }
    bool in_room = ses->room != NCI_LOBBY_NONE;
    bool enters = type == NCI_LOBBY_CREATE_ROOM || type == NCI_LOBBY_JOIN_ROOM;
    switch (type) {
    case NCI_LOBBY_CREATE_ROOM:
    case NCI_LOBBY_JOIN_ROOM:
    case NCI_LOBBY_LEAVE_ROOM:
    case NCI_LOBBY_SET_READY:
    case NCI_LOBBY_KICK:
    case NCI_LOBBY_START_MATCH:
    case NCI_LOBBY_END_MATCH:
        break;
    default:
        return false;
    }
    /* What the mirror already says is answered at once, as a single node would. */
    if (enters && in_room) {
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_ALREADY_IN_ROOM, type, "already in a room");
        return true;
    }
    if (!enters && !in_room) {
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_NOT_IN_ROOM, type, "not in a room");
        return true;
    }
    if (!nci_lobby_redis_up(s->cluster->redis)) {
        nci_cluster_refuse(s, conn, type);
        return true;
    }
    char id[21], arg[21], arg2[21];
    nci_cluster_fmt_u64(id, ses->client_id);
    bool sent = false;
    if (type == NCI_LOBBY_CREATE_ROOM) {
        const netcore_lobby_room_params *p = &s->in_msg.u.create_room;
        char *meta = s->cluster->text;
        size_t used = 0;
        meta[0] = '\0';
        for (uint8_t i = 0; i < p->meta_count; i++)
            used += (size_t)snprintf(meta + used, sizeof s->cluster->text - used, "K\t%s\t%s\n",
                                     p->meta[i].key, p->meta[i].value);
        nci_cluster_fmt_u64(arg, p->max_players);
        nci_cluster_fmt_u64(arg2, s->config.max_rooms);
        const char *argv[7] = {id,          p->name, arg, p->is_private ? "1" : "0",
                               p->password, meta,    arg2};
        sent = nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_CREATE, 7, argv, conn);
    } else if (type == NCI_LOBBY_JOIN_ROOM) {
        nci_cluster_fmt_u64(arg, s->in_msg.u.join_room.room_id);
        const char *argv[3] = {id, arg, s->in_msg.u.join_room.password};
        sent = nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_JOIN, 3, argv, conn);
    } else if (type == NCI_LOBBY_LEAVE_ROOM) {
        const char *argv[1] = {id};
        sent = nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_LEAVE, 1, argv, conn);
    } else if (type == NCI_LOBBY_SET_READY) {
        const char *argv[2] = {id, s->in_msg.u.ready ? "1" : "0"};
        sent = nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_READY, 2, argv, conn);
    } else if (type == NCI_LOBBY_KICK) {
        nci_cluster_fmt_u64(arg, s->in_msg.u.kick_client_id);
        const char *argv[2] = {id, arg};
        sent = nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_KICK, 2, argv, conn);
    } else if (type == NCI_LOBBY_START_MATCH) {
        uint64_t match_id = 0;
        while (match_id == 0)
            match_id = nci_rng_next(&s->rng);
        char address[NETCORE_ADDRESS_STRLEN];
        netcore_address_format(&s->config.game_address, address, sizeof address);
        nci_cluster_fmt_u64(arg, match_id);
        const char *argv[3] = {id, arg, address};
        sent = nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_START, 3, argv, conn);
    } else {
        nci_cluster_fmt_u64(arg, s->rooms[ses->room].room_id);
        const char *argv[5] = {arg, "", id, "", "0"};
        sent = nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_END, 5, argv, conn);
    }
    if (!sent)
        nci_cluster_refuse(s, conn, type);
    return true;
}

void nci_lobby_cluster_claim(netcore_lobby_server *s, int32_t conn,
                             const uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES])
{
    char hex[NCI_CLUSTER_TOKEN_HEX_BYTES];
    nci_cluster_token_hash(token, hex);
    const char *argv[2] = {s->config.cluster_node_id, hex};
    if (!nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_CLAIM, 2, argv, conn)) {
        s->stats.cluster_refused++;
        nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_INTERNAL, NCI_CLUSTER_UNAVAILABLE);
    }
}

void nci_lobby_cluster_welcomed(netcore_lobby_server *s, int32_t session,
                                const uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES])
{
    nci_cluster_token_hash(token, s->cluster->token_hex[session]);
    nci_cluster_map_put(s->cluster, s->sessions[session].client_id, session);
    /* Without Redis now, written when it is back (reassert). */
    nci_cluster_assert_session(s, session);
}

void nci_lobby_cluster_session_lost(netcore_lobby_server *s, int32_t session, bool goodbye)
{
    nci_lobby_session *ses = &s->sessions[session];
    ses->conn = NCI_LOBBY_NONE;
    ses->lost_ms = s->now_ms;
    nci_lobby_timer_at(s, s->now_ms + s->config.reconnect_grace_ms);
    char id[21];
    nci_cluster_fmt_u64(id, ses->client_id);
    const char *argv[2] = {s->config.cluster_node_id, id};
    bool told = nci_cluster_eval(s, goodbye ? NCI_CLUSTER_SCRIPT_BYE : NCI_CLUSTER_SCRIPT_LOST, 2,
                                 argv, NCI_LOBBY_NONE);
    /* A GOODBYE Redis did not hear of (it is away) is kept as a lost
     * session: written as lost when Redis is back, it then ends with the
     * grace like any other. */
    if (goodbye && told)
        nci_cluster_make_remote(s, session, false);
    else if (ses->room != NCI_LOBBY_NONE)
        nci_lobby_broadcast_room_state(s, ses->room);
}

void nci_lobby_cluster_forget(netcore_lobby_server *s, int32_t session)
{
    /* Redis ends the grace itself (tick script); the mirror lets go of the
     * member when the room's next state no longer lists it. */
    nci_cluster_make_remote(s, session, false);
}

void nci_lobby_cluster_gs_added(netcore_lobby_server *s, int32_t game_server)
{
    nci_cluster_assert_game_server(s, game_server);
}

void nci_lobby_cluster_gs_load(netcore_lobby_server *s, int32_t game_server)
{
    const nci_lobby_game_server *g = &s->game_servers[game_server];
    char id[21], players[21], cap[21];
    nci_cluster_fmt_u64(id, g->server_id);
    nci_cluster_fmt_u64(players, g->players);
    nci_cluster_fmt_u64(cap, g->capacity);
    const char *argv[3] = {id, players, cap};
    (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_GS_LOAD, 3, argv, NCI_LOBBY_NONE);
}

void nci_lobby_cluster_gs_lost(netcore_lobby_server *s, uint64_t server_id)
{
    char id[21];
    nci_cluster_fmt_u64(id, server_id);
    const char *argv[1] = {id};
    (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_GS_LOST, 1, argv, NCI_LOBBY_NONE);
}

bool nci_lobby_cluster_end_match(netcore_lobby_server *s, uint64_t match_id,
                                 uint64_t only_server_id, int32_t reporter_conn)
{
    for (uint32_t i = 0; i < s->config.max_rooms; i++) {
        const nci_lobby_room *room = &s->rooms[i];
        if (!room->used || !room->in_match || room->match_id != match_id)
            continue;
        char rid[21], mid[21], gid[21] = "";
        nci_cluster_fmt_u64(rid, room->room_id);
        nci_cluster_fmt_u64(mid, match_id);
        if (only_server_id)
            nci_cluster_fmt_u64(gid, only_server_id);
        const char *argv[5] = {rid, mid, "", gid, "0"};
        return nci_cluster_eval_for(s, NCI_CLUSTER_SCRIPT_END, 5, argv, reporter_conn,
                                    NCI_LOBBY_SERVER_MATCH_END);
    }
    return false;
}
