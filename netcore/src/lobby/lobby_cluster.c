/* Lobby nodes sharing state through Redis: the node's side.
 *
 * The room table is a mirror of the cluster's rooms. It changes only when
 * an event arrives on the channel (apply_room, apply_gone); requests that
 * change rooms become Lua scripts (lobby_cluster_lua.c) whose outcome comes
 * back to every node, this one included, as such an event. Members held
 * by other nodes sit in the session table as "remote" sessions: no
 * connection, no token. A map from client id to session slot finds both.
 * See docs/lobby-cluster.md. */
#define _POSIX_C_SOURCE 200809L
#include "lobby/lobby_cluster.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lobby/lobby_internal.h"
#include "lobby/lobby_redis.h"

/* ------------------------------------------------------------------ */
/* Client id -> session slot                                           */
/* ------------------------------------------------------------------ */

static uint32_t map_home(const nci_lobby_cluster *c, uint64_t id)
{
    return (uint32_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & c->map_mask;
}

int32_t nci_cluster_map_find(const nci_lobby_cluster *c, uint64_t id)
{
    for (uint32_t i = map_home(c, id);; i = (i + 1) & c->map_mask) {
        if (c->map_ids[i] == id)
            return c->map_slots[i];
        if (c->map_ids[i] == 0)
            return NCI_LOBBY_NONE;
    }
}

void nci_cluster_map_put(nci_lobby_cluster *c, uint64_t id, int32_t slot)
{
    uint32_t i = map_home(c, id);
    while (c->map_ids[i] != 0 && c->map_ids[i] != id)
        i = (i + 1) & c->map_mask;
    c->map_ids[i] = id;
    c->map_slots[i] = slot;
}

/* Linear probing with backward-shift deletion: no tombstones to pile up. */
static void map_del(nci_lobby_cluster *c, uint64_t id)
{
    uint32_t i = map_home(c, id);
    while (c->map_ids[i] != id) {
        if (c->map_ids[i] == 0)
            return;
        i = (i + 1) & c->map_mask;
    }
    for (uint32_t j = (i + 1) & c->map_mask; c->map_ids[j] != 0; j = (j + 1) & c->map_mask) {
        uint32_t home = map_home(c, c->map_ids[j]);
        /* j's entry may move to the hole at i when its home is not in (i, j]. */
        bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (stays)
            continue;
        c->map_ids[i] = c->map_ids[j];
        c->map_slots[i] = c->map_slots[j];
        i = j;
    }
    c->map_ids[i] = 0;
}

/* ------------------------------------------------------------------ */
/* Session slots                                                       */
/* ------------------------------------------------------------------ */

static void slot_free(netcore_lobby_server *s, int32_t index)
{
    nci_lobby_session *ses = &s->sessions[index];
    map_del(s->cluster, ses->client_id);
    sodium_memzero(ses, sizeof *ses);
    s->cluster->token_hex[index][0] = '\0';
    s->free_sessions[s->free_session_count++] = index;
}

static int32_t remote_new(netcore_lobby_server *s, uint64_t client_id)
{
    if (s->free_session_count == 0)
        return NCI_LOBBY_NONE;
    int32_t index = s->free_sessions[--s->free_session_count];
    nci_lobby_session *ses = &s->sessions[index];
    memset(ses, 0, sizeof *ses);
    ses->used = true;
    ses->remote = true;
    ses->client_id = client_id;
    ses->conn = NCI_LOBBY_NONE;
    ses->room = NCI_LOBBY_NONE;
    nci_cluster_map_put(s->cluster, client_id, index);
    return index;
}

/* A local session stops being ours but its room still lists it. */
void nci_cluster_make_remote(netcore_lobby_server *s, int32_t index, bool connected)
{
    nci_lobby_session *ses = &s->sessions[index];
    if (ses->room == NCI_LOBBY_NONE) {
        slot_free(s, index);
        return;
    }
    ses->remote = true;
    ses->remote_connected = connected;
    ses->conn = NCI_LOBBY_NONE;
    sodium_memzero(ses->reconnect_token, sizeof ses->reconnect_token);
    s->cluster->token_hex[index][0] = '\0';
}

static int32_t mirror_find(const netcore_lobby_server *s, uint32_t room_id)
{
    for (uint32_t i = 0; i < s->config.max_rooms; i++)
        if (s->rooms[i].used && s->rooms[i].room_id == room_id)
            return (int32_t)i;
    return NCI_LOBBY_NONE;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

/* A reply's cookie: the connection's index (bits 0..23, all ones for
 * none) and serial (24..55), so that a reply for a connection that closed
 * meanwhile is not given to the next one in its slot, and the request
 * type its ERROR names (56..63, 0: the script's usual one). */
#define COOKIE_NO_CONN 0xffffffu

static uint64_t cookie_of(const netcore_lobby_server *s, int32_t conn)
{
    if (conn == NCI_LOBBY_NONE)
        return COOKIE_NO_CONN;
    return ((uint64_t)s->conns[conn].serial << 24) | (uint32_t)conn;
}

/* The connection a cookie names, if it is still that one and open. */
static int32_t conn_of(const netcore_lobby_server *s, uint64_t cookie)
{
    uint32_t index = (uint32_t)(cookie & COOKIE_NO_CONN);
    if (index == COOKIE_NO_CONN || index >= s->conn_capacity)
        return NCI_LOBBY_NONE;
    const nci_lobby_conn *c = &s->conns[index];
    if (c->socket == NCI_SOCKET_INVALID || c->closing || c->serial != (uint32_t)(cookie >> 24))
        return NCI_LOBBY_NONE;
    return (int32_t)index;
}

/* The kind reported with the reply is the script's index, with the
 * request type of the ERROR it may cause above it. */
bool nci_cluster_eval_for(netcore_lobby_server *s, nci_cluster_script script, uint32_t argc,
                          const char *const *argv, int32_t conn, uint8_t request_type)
{
    uint64_t cookie = cookie_of(s, conn) | ((uint64_t)request_type << 56);
    return nci_lobby_redis_eval(s->cluster->redis, (uint32_t)script, argc, argv, NULL,
                                (uint8_t)script, cookie);
}

bool nci_cluster_eval(netcore_lobby_server *s, nci_cluster_script script, uint32_t argc,
                      const char *const *argv, int32_t conn)
{
    return nci_cluster_eval_for(s, script, argc, argv, conn, 0);
}

void nci_cluster_refuse(netcore_lobby_server *s, int32_t conn, uint8_t request_type)
{
    s->stats.cluster_refused++;
    nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_INTERNAL, request_type,
                         NCI_CLUSTER_UNAVAILABLE);
}

void nci_cluster_fmt_u64(char out[21], uint64_t v)
{
    snprintf(out, 21, "%" PRIu64, v);
}

/* The hash of a reconnect token, as Redis stores it: a copy of Redis does
 * not hand out seats. */
void nci_cluster_token_hash(const uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES],
                            char out[NCI_CLUSTER_TOKEN_HEX_BYTES])
{
    uint8_t hash[NCI_CLUSTER_TOKEN_HASH_BYTES];
    crypto_generichash(hash, sizeof hash, token, NETCORE_LOBBY_RECONNECT_TOKEN_BYTES, NULL, 0);
    sodium_bin2hex(out, NCI_CLUSTER_TOKEN_HEX_BYTES, hash, sizeof hash);
}

/* ------------------------------------------------------------------ */
/* Applying events to the mirror                                       */
/* ------------------------------------------------------------------ */

/* A member the room no longer lists. */
static void release_member(netcore_lobby_server *s, int32_t index, int32_t room_index,
                           uint32_t room_id, const nci_cluster_event *ev)
{
    nci_lobby_session *ses = &s->sessions[index];
    if (ses->room != room_index)
        return;
    ses->room = NCI_LOBBY_NONE;
    ses->ready = false;
    if (ses->remote) {
        slot_free(s, index);
        return;
    }
    bool kicked = ev->cause == NCI_CLUSTER_CAUSE_KICKED && ev->subject == ses->client_id;
    if (ses->conn != NCI_LOBBY_NONE) {
        nci_lobby_send_room_left(s, ses->conn, room_id,
                                 kicked ? NETCORE_LOBBY_KICKED : NETCORE_LOBBY_LEFT);
    } else if (kicked) {
        ses->kicked_while_away = true;
        ses->kicked_room_id = room_id;
    }
}

static void match_started(netcore_lobby_server *s, int32_t room_index, uint64_t subject)
{
    const nci_lobby_room *room = &s->rooms[room_index];
    uint64_t ids[NETCORE_LOBBY_MAX_PLAYERS];
    bool any_here = false;
    for (uint8_t i = 0; i < room->member_count; i++) {
        nci_lobby_session *ses = &s->sessions[room->members[i]];
        ids[i] = ses->client_id;
        if (ses->remote || ses->conn == NCI_LOBBY_NONE)
            continue;
        nci_lobby_send_match_start(s, ses->conn, ses, false);
        any_here = true;
    }
    if (any_here)
        s->stats.matches_started++;
    /* Only the node holding that game server's connection sends it. */
    if (room->game_server_id != 0)
        nci_lobby_registry_assign(s, room->game_server_id, room->match_id, room->room_id, ids,
                                  room->member_count);
    int32_t starter = nci_cluster_map_find(s->cluster, subject);
    if (s->config.on_match_start && starter != NCI_LOBBY_NONE && !s->sessions[starter].remote)
        s->config.on_match_start(s->config.match_user, room->match_id, room->room_id, ids,
                                 room->member_count);
}

static void match_ended(netcore_lobby_server *s, int32_t room_index, uint64_t match_id,
                        uint8_t reason)
{
    const nci_lobby_room *room = &s->rooms[room_index];
    if (reason == NETCORE_LOBBY_MATCH_GAME_SERVER_LOST)
        s->stats.matches_ended_server_lost++;
    for (uint8_t i = 0; i < room->member_count; i++) {
        const nci_lobby_session *ses = &s->sessions[room->members[i]];
        if (ses->remote || ses->conn == NCI_LOBBY_NONE)
            continue;
        /* A version-1 decoder refuses MATCH_ENDED: it gets the bare MATCH_END. */
        nci_lobby_msg *m = &s->out_msg;
        if (s->conns[ses->conn].version >= 2) {
            m->type = NCI_LOBBY_MATCH_ENDED;
            m->u.match_ended.match_id = match_id;
            m->u.match_ended.reason = reason;
        } else {
            m->type = NCI_LOBBY_MATCH_END;
            m->u.match_end_id = match_id;
        }
        nci_lobby_send_out(s, ses->conn);
    }
}

static bool listed(const int32_t *members, uint8_t count, int32_t index)
{
    for (uint8_t i = 0; i < count; i++)
        if (members[i] == index)
            return true;
    return false;
}

static void apply_room(netcore_lobby_server *s, const nci_cluster_event *ev)
{
    int32_t ri = mirror_find(s, ev->room_id);
    for (uint32_t i = 0; ri == NCI_LOBBY_NONE && i < s->config.max_rooms; i++)
        if (!s->rooms[i].used)
            ri = (int32_t)i;
    if (ri == NCI_LOBBY_NONE) {
        /* Every node has the same max_rooms, and Redis holds no more. */
        s->stats.cluster_events_dropped++;
        return;
    }
    nci_lobby_room *room = &s->rooms[ri];
    bool was_in_match = room->used && room->in_match;
    uint64_t old_match = room->match_id;
    uint8_t old_count = room->used ? room->member_count : 0;
    int32_t old_members[NETCORE_LOBBY_MAX_PLAYERS];
    memcpy(old_members, room->members, sizeof old_members);
    int32_t members[NETCORE_LOBBY_MAX_PLAYERS];
    uint8_t count = 0;
    for (uint8_t i = 0; i < ev->member_count; i++) {
        const nci_cluster_member *m = &ev->members[i];
        int32_t index = nci_cluster_map_find(s->cluster, m->client_id);
        if (index == NCI_LOBBY_NONE)
            index = remote_new(s, m->client_id);
        if (index == NCI_LOBBY_NONE) {
            s->stats.cluster_events_dropped++;
            continue;
        }
        nci_lobby_session *ses = &s->sessions[index];
        if (ses->remote) {
            memcpy(ses->nickname, m->nickname, sizeof ses->nickname);
            ses->remote_connected = m->connected;
        }
        ses->ready = m->ready;
        ses->room = ri;
        members[count++] = index;
    }
    for (uint8_t i = 0; i < old_count; i++)
        if (!listed(members, count, old_members[i]))
            release_member(s, old_members[i], ri, ev->room_id, ev);
    room->used = true;
    room->room_id = ev->room_id;
    room->params = ev->params;
    room->owner_id = ev->owner_id;
    room->in_match = ev->match_id != 0;
    room->match_id = ev->match_id;
    room->game_server_id = ev->game_server_id;
    room->game_address = ev->game_address;
    room->member_count = count;
    memcpy(room->members, members, (size_t)count * sizeof *members);
    s->cluster->room_seq[ri] = ev->seq;
    if (room->in_match && (!was_in_match || old_match != room->match_id)) {
        match_started(s, ri, ev->subject);
    } else if (!room->in_match && was_in_match) {
        match_ended(s, ri, old_match, ev->end_reason);
    } else if (room->in_match) {
        /* A member back through this node while its room plays. */
        for (uint8_t i = 0; i < count; i++) {
            nci_lobby_session *ses = &s->sessions[members[i]];
            if (!ses->remote && ses->conn != NCI_LOBBY_NONE &&
                !listed(old_members, old_count, members[i]))
                nci_lobby_send_match_start(s, ses->conn, ses, true);
        }
    }
    nci_lobby_broadcast_room_state(s, ri);
}

static void apply_gone(netcore_lobby_server *s, int32_t ri, const nci_cluster_event *ev)
{
    nci_lobby_room *room = &s->rooms[ri];
    uint32_t room_id = room->room_id;
    int32_t members[NETCORE_LOBBY_MAX_PLAYERS];
    uint8_t count = room->member_count;
    memcpy(members, room->members, sizeof members);
    memset(room, 0, sizeof *room);
    s->cluster->room_seq[ri] = 0;
    for (uint8_t i = 0; i < count; i++)
        release_member(s, members[i], ri, room_id, ev);
}

void nci_cluster_deliver_chat(netcore_lobby_server *s, const nci_cluster_event *ev)
{
    int32_t ri = ev->room_id ? mirror_find(s, ev->room_id) : NCI_LOBBY_NONE;
    if (ev->room_id && ri == NCI_LOBBY_NONE)
        return;
    nci_lobby_msg *m = &s->out_msg;
    m->type = NCI_LOBBY_CHAT_MESSAGE;
    m->u.chat_message.scope = ev->scope;
    m->u.chat_message.from_id = ev->from_id;
    memcpy(m->u.chat_message.from_nickname, ev->nickname, sizeof ev->nickname);
    memcpy(m->u.chat_message.text, ev->text, sizeof ev->text);
    if (!nci_lobby_encode_out(s))
        return;
    if (ri != NCI_LOBBY_NONE) {
        const nci_lobby_room *room = &s->rooms[ri];
        for (uint8_t i = 0; i < room->member_count; i++)
            nci_lobby_send_encoded(s, s->sessions[room->members[i]].conn);
        return;
    }
    for (uint32_t i = 0; i < s->conn_capacity; i++)
        if (s->conns[i].socket != NCI_SOCKET_INVALID && s->conns[i].session != NCI_LOBBY_NONE)
            nci_lobby_send_encoded(s, (int32_t)i);
}

/* Another node resumed a session this node holds: it lets go. */
static void apply_takeover(netcore_lobby_server *s, const nci_cluster_event *ev)
{
    if (strcmp(ev->node, s->config.cluster_node_id) == 0)
        return;
    int32_t index = nci_cluster_map_find(s->cluster, ev->from_id);
    if (index == NCI_LOBBY_NONE || s->sessions[index].remote)
        return;
    int32_t old = s->sessions[index].conn;
    if (old != NCI_LOBBY_NONE) {
        s->conns[old].session = NCI_LOBBY_NONE;
        nci_lobby_fail(s, old, NETCORE_LOBBY_ERR_STATE, "session resumed elsewhere");
    }
    nci_cluster_make_remote(s, index, true);
}

/* True when the mirror already shows this room change or a later one:
 * events published before a snapshot may arrive after it (the channel and
 * the command link are two connections). */
static bool stale(const netcore_lobby_server *s, const nci_cluster_event *ev)
{
    const nci_lobby_cluster *c = s->cluster;
    if (ev->seq <= c->floor_seq)
        return true;
    int32_t ri = mirror_find(s, ev->room_id);
    return ri != NCI_LOBBY_NONE && ev->seq <= c->room_seq[ri];
}

static void apply_event(netcore_lobby_server *s, const nci_cluster_event *ev)
{
    nci_lobby_cluster *c = s->cluster;
    s->stats.cluster_events++;
    bool room_change = ev->kind == NCI_CLUSTER_EV_ROOM || ev->kind == NCI_CLUSTER_EV_ROOM_GONE;
    if (room_change && stale(s, ev))
        return;
    if (room_change && ev->seq > c->last_seq)
        c->last_seq = ev->seq;
    if (ev->kind == NCI_CLUSTER_EV_ROOM) {
        apply_room(s, ev);
    } else if (ev->kind == NCI_CLUSTER_EV_ROOM_GONE) {
        int32_t ri = mirror_find(s, ev->room_id);
        if (ri != NCI_LOBBY_NONE)
            apply_gone(s, ri, ev);
    } else if (ev->kind == NCI_CLUSTER_EV_CHAT) {
        nci_cluster_deliver_chat(s, ev);
    } else {
        apply_takeover(s, ev);
    }
}

static void on_message(void *user, const char *bytes, size_t size)
{
    netcore_lobby_server *s = user;
    if (!nci_lobby_cluster_decode(bytes, size, &s->cluster->event)) {
        s->stats.cluster_events_dropped++;
        if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000))
            nci_logf(&s->config.log, NETCORE_LOG_WARN, "lobby: malformed cluster event dropped");
        return;
    }
    apply_event(s, &s->cluster->event);
}

static int64_t reply_code(const redisReply *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
        reply->element[0]->type != REDIS_REPLY_INTEGER)
        return -1;
    return reply->element[0]->integer;
}

static uint64_t reply_seq(const redisReply *reply)
{
    if (reply->elements < 2 || reply->element[1]->type != REDIS_REPLY_STRING)
        return 0;
    return strtoull(reply->element[1]->str, NULL, 10);
}

/* Every room Redis holds replaces an older mirror of it; mirrored rooms it
 * no longer holds are gone, unless the mirror shows a change made after
 * the snapshot. */
static void apply_snapshot(netcore_lobby_server *s, const redisReply *reply)
{
    nci_lobby_cluster *c = s->cluster;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply_code(reply) != 0)
        return;
    uint64_t snapshot_seq = reply_seq(reply);
    if (reply->elements < 3 || reply->element[2]->type != REDIS_REPLY_STRING ||
        reply->element[2]->len >= sizeof c->epoch)
        return;
    /* Another epoch: Redis lost its data (or is another Redis), change
     * numbers started again, and the snapshot is the whole truth. */
    bool reset = c->epoch[0] && strcmp(c->epoch, reply->element[2]->str) != 0;
    snprintf(c->epoch, sizeof c->epoch, "%s", reply->element[2]->str);
    if (reset)
        memset(c->room_seq, 0, s->config.max_rooms * sizeof *c->room_seq);
    memset(c->seen_rooms, 0, s->config.max_rooms * sizeof *c->seen_rooms);
    for (size_t i = 3; i < reply->elements; i++) {
        const redisReply *e = reply->element[i];
        if (e->type != REDIS_REPLY_STRING || !nci_lobby_cluster_decode(e->str, e->len, &c->event) ||
            c->event.kind != NCI_CLUSTER_EV_ROOM) {
            s->stats.cluster_events_dropped++;
            continue;
        }
        int32_t ri = mirror_find(s, c->event.room_id);
        if (ri == NCI_LOBBY_NONE || c->room_seq[ri] < c->event.seq)
            apply_room(s, &c->event);
        ri = mirror_find(s, c->event.room_id);
        if (ri != NCI_LOBBY_NONE)
            c->seen_rooms[ri] = true;
    }
    memset(&c->event, 0, sizeof c->event);
    for (uint32_t i = 0; i < s->config.max_rooms; i++)
        if (s->rooms[i].used && !c->seen_rooms[i] && c->room_seq[i] <= snapshot_seq)
            apply_gone(s, (int32_t)i, &c->event);
    c->floor_seq = snapshot_seq;
    if (reset || snapshot_seq > c->last_seq)
        c->last_seq = snapshot_seq;
}

/* ------------------------------------------------------------------ */
/* Replies                                                             */
/* ------------------------------------------------------------------ */

static bool reply_u64(const redisReply *reply, size_t index, uint64_t *out)
{
    if (reply->elements <= index || reply->element[index]->type != REDIS_REPLY_STRING)
        return false;
    char *end = NULL;
    const char *text = reply->element[index]->str;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end != '\0')
        return false;
    *out = v;
    return true;
}

static uint8_t request_type(uint8_t script)
{
    switch (script) {
    case NCI_CLUSTER_SCRIPT_CREATE:
        return NCI_LOBBY_CREATE_ROOM;
    case NCI_CLUSTER_SCRIPT_JOIN:
        return NCI_LOBBY_JOIN_ROOM;
    case NCI_CLUSTER_SCRIPT_LEAVE:
        return NCI_LOBBY_LEAVE_ROOM;
    case NCI_CLUSTER_SCRIPT_KICK:
        return NCI_LOBBY_KICK;
    case NCI_CLUSTER_SCRIPT_READY:
        return NCI_LOBBY_SET_READY;
    case NCI_CLUSTER_SCRIPT_START:
        return NCI_LOBBY_START_MATCH;
    case NCI_CLUSTER_SCRIPT_END:
        return NCI_LOBBY_END_MATCH;
    default:
        return 0;
    }
}

/* RECONNECT answered by the claim script: the session is ours now. */
static void claim_done(netcore_lobby_server *s, int32_t conn, const redisReply *reply)
{
    int64_t code = reply_code(reply);
    uint64_t client_id = 0;
    bool ok = code == 0 && reply_u64(reply, 1, &client_id) && client_id != 0 &&
              reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_STRING &&
              reply->element[2]->len <= NETCORE_LOBBY_NAME_MAX &&
              nci_lobby_name_valid(reply->element[2]->str, NETCORE_LOBBY_NAME_MAX);
    if (conn == NCI_LOBBY_NONE || s->conns[conn].session != NCI_LOBBY_NONE) {
        /* Gone meanwhile: Redis must not think it connected here. */
        if (ok) {
            char id[21];
            nci_cluster_fmt_u64(id, client_id);
            const char *argv[2] = {s->config.cluster_node_id, id};
            (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_LOST, 2, argv, NCI_LOBBY_NONE);
        }
        return;
    }
    if (!ok) {
        if (code == NETCORE_LOBBY_ERR_RECONNECT_FAILED)
            nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_RECONNECT_FAILED,
                           "unknown or expired session");
        else
            nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_INTERNAL, NCI_CLUSTER_UNAVAILABLE);
        return;
    }
    int32_t index = nci_cluster_map_find(s->cluster, client_id);
    if (index != NCI_LOBBY_NONE && !s->sessions[index].remote &&
        s->sessions[index].conn != NCI_LOBBY_NONE) {
        int32_t old = s->sessions[index].conn;
        s->conns[old].session = NCI_LOBBY_NONE;
        nci_lobby_fail(s, old, NETCORE_LOBBY_ERR_STATE, "session resumed elsewhere");
    }
    if (index == NCI_LOBBY_NONE) {
        if (s->free_session_count == 0) {
            nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_SERVER_FULL, "no free session");
            return;
        }
        index = s->free_sessions[--s->free_session_count];
        memset(&s->sessions[index], 0, sizeof s->sessions[index]);
        s->sessions[index].used = true;
        s->sessions[index].client_id = client_id;
        s->sessions[index].room = NCI_LOBBY_NONE;
        nci_cluster_map_put(s->cluster, client_id, index);
    }
    nci_lobby_session *ses = &s->sessions[index];
    ses->remote = false;
    ses->remote_connected = false;
    memcpy(ses->nickname, reply->element[2]->str, reply->element[2]->len);
    ses->nickname[reply->element[2]->len] = '\0';
    ses->conn = conn;
    ses->bucket = s->conns[conn].bucket;
    s->conns[conn].session = index;
    s->stats.reconnects++;
    s->stats.cluster_claims++;
    nci_lobby_send_welcome(s, conn, true);
    if (ses->room == NCI_LOBBY_NONE)
        return;
    nci_lobby_broadcast_room_state(s, ses->room);
    if (s->rooms[ses->room].in_match)
        nci_lobby_send_match_start(s, conn, ses, true);
}

static void on_reply(void *user, uint8_t kind, uint64_t cookie, const redisReply *reply)
{
    netcore_lobby_server *s = user;
    int32_t conn = conn_of(s, cookie);
    if (kind == NCI_CLUSTER_SCRIPT_SNAPSHOT) {
        apply_snapshot(s, reply);
        return;
    }
    if (kind == NCI_CLUSTER_SCRIPT_TICK) {
        if (reply_code(reply) == 0 && reply->elements >= 4 &&
            reply->element[3]->type == REDIS_REPLY_INTEGER && reply->element[3]->integer == 1)
            nci_cluster_reassert(s);
        return;
    }
    if (kind == NCI_CLUSTER_SCRIPT_CLAIM) {
        claim_done(s, conn, reply);
        return;
    }
    int64_t code = reply_code(reply);
    uint8_t type = (uint8_t)(cookie >> 56) ? (uint8_t)(cookie >> 56) : request_type(kind);
    if (code == 0 || conn == NCI_LOBBY_NONE || type == 0)
        return;
    /* Codes 1..22 are the lobby's; anything else means the store failed. */
    if (code <= 0 || code > NETCORE_LOBBY_ERR_SLOW_READER || code == 19) {
        nci_cluster_refuse(s, conn, type);
        return;
    }
    nci_lobby_send_error(s, conn, (uint16_t)code, type, netcore_lobby_error_str((uint16_t)code));
}

static void on_state(void *user, bool up)
{
    netcore_lobby_server *s = user;
    if (up)
        s->cluster->resync = true;
    else
        nci_logf(&s->config.log, NETCORE_LOG_WARN,
                 "lobby: cluster store unreachable: refusing what needs it");
}

/* ------------------------------------------------------------------ */
/* Hooks                                                               */
/* ------------------------------------------------------------------ */

netcore_result nci_lobby_cluster_create(netcore_lobby_server *s)
{
    const netcore_allocator *a = &s->config.allocator;
    nci_lobby_cluster *c = nci_calloc(a, 1, sizeof *c);
    if (!c)
        return NETCORE_ERR_OUT_OF_MEMORY;
    s->cluster = c;
    uint32_t map_size = 16;
    while (map_size < 2 * s->session_capacity)
        map_size *= 2;
    c->map_mask = map_size - 1;
    c->map_ids = nci_calloc(a, map_size, sizeof *c->map_ids);
    c->map_slots = nci_calloc(a, map_size, sizeof *c->map_slots);
    c->token_hex = nci_calloc(a, s->session_capacity, sizeof *c->token_hex);
    c->seen_rooms = nci_calloc(a, s->config.max_rooms, sizeof *c->seen_rooms);
    c->room_seq = nci_calloc(a, s->config.max_rooms, sizeof *c->room_seq);
    /* Every session's and game server's id in decimal, a space after each,
     * and the two lists' NULs. */
    c->sync_capacity = ((size_t)s->session_capacity + s->config.max_game_servers) * 21 + 2;
    c->sync_text = nci_alloc(a, c->sync_capacity);
    if (!c->map_ids || !c->map_slots || !c->token_hex || !c->seen_rooms || !c->room_seq ||
        !c->sync_text)
        return NETCORE_ERR_OUT_OF_MEMORY;
    for (uint32_t i = 0; i < NCI_CLUSTER_SCRIPT_COUNT; i++) {
        size_t n = nci_lobby_cluster_script_text(i, NULL, 0);
        c->scripts[i] = nci_alloc(a, n + 1);
        if (!c->scripts[i])
            return NETCORE_ERR_OUT_OF_MEMORY;
        nci_lobby_cluster_script_text(i, c->scripts[i], n + 1);
    }
    nci_lobby_redis_config rc;
    memset(&rc, 0, sizeof rc);
    rc.allocator = a;
    rc.log = &s->config.log;
    rc.poller = s->poller;
    rc.address = s->config.cluster_redis;
    rc.password = s->config.cluster_redis_password;
    rc.channel = "nc:ev";
    rc.scripts = (const char *const *)c->scripts;
    rc.script_count = NCI_CLUSTER_SCRIPT_COUNT;
    rc.max_in_flight = NCI_CLUSTER_MAX_IN_FLIGHT;
    rc.retry_ms = NCI_CLUSTER_RETRY_MS;
    rc.reply_timeout_ms = NCI_CLUSTER_REPLY_TIMEOUT_MS;
    rc.on_reply = on_reply;
    rc.on_message = on_message;
    rc.on_state = on_state;
    rc.user = s;
    /* The password stays in the Redis link only. */
    netcore_result r = nci_lobby_redis_create(&rc, &c->redis);
    sodium_memzero(s->config.cluster_redis_password, sizeof s->config.cluster_redis_password);
    return r;
}

void nci_lobby_cluster_destroy(netcore_lobby_server *s)
{
    nci_lobby_cluster *c = s->cluster;
    if (!c)
        return;
    const netcore_allocator *a = &s->config.allocator;
    nci_lobby_redis_destroy(c->redis);
    for (uint32_t i = 0; i < NCI_CLUSTER_SCRIPT_COUNT; i++)
        nci_free(a, c->scripts[i]);
    nci_free(a, c->map_ids);
    nci_free(a, c->map_slots);
    nci_free(a, c->token_hex);
    nci_free(a, c->seen_rooms);
    nci_free(a, c->room_seq);
    nci_free(a, c->sync_text);
    nci_free(a, c);
    s->cluster = NULL;
}

void nci_lobby_cluster_io(netcore_lobby_server *s, uint32_t link, uint32_t events)
{
    if (s->cluster)
        nci_lobby_redis_io(s->cluster->redis, link, events);
}

uint32_t nci_lobby_cluster_tick(netcore_lobby_server *s)
{
    nci_lobby_cluster *c = s->cluster;
    nci_lobby_redis_tick(c->redis, s->now_ms);
    if (!nci_lobby_redis_up(c->redis))
        return NCI_CLUSTER_MAX_WAIT_MS;
    if (c->resync) {
        c->resync = false;
        char epoch[21];
        nci_cluster_fmt_u64(epoch, nci_rng_next(&s->rng));
        const char *argv[1] = {epoch};
        (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_SNAPSHOT, 1, argv, NCI_LOBBY_NONE);
        nci_cluster_reassert(s);
    }
    if (s->now_ms >= c->next_tick_ms) {
        c->next_tick_ms = s->now_ms + NCI_CLUSTER_TICK_MS;
        char timeout[21], grace[21];
        nci_cluster_fmt_u64(timeout, s->config.cluster_node_timeout_ms);
        nci_cluster_fmt_u64(grace, s->config.reconnect_grace_ms);
        const char *argv[3] = {s->config.cluster_node_id, timeout, grace};
        (void)nci_cluster_eval(s, NCI_CLUSTER_SCRIPT_TICK, 3, argv, NCI_LOBBY_NONE);
    }
    return NCI_CLUSTER_MAX_WAIT_MS;
}

bool nci_lobby_cluster_up(const netcore_lobby_server *s)
{
    return s->cluster && nci_lobby_redis_up(s->cluster->redis);
}
