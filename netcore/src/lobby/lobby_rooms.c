/* Lobby server, session layer: hello and reconnect, rooms, chat, ready,
 * kick, owner migration, match start with connect tokens and match end.
 * Sockets and limits live in lobby_server.c. */
#define _POSIX_C_SOURCE 200809L
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lobby/lobby_cluster.h"
#include "lobby/lobby_internal.h"

static nci_lobby_session *conn_session(netcore_lobby_server *s, int32_t conn)
{
    int32_t index = s->conns[conn].session;
    return index == NCI_LOBBY_NONE ? NULL : &s->sessions[index];
}

static int32_t find_room(const netcore_lobby_server *s, uint32_t room_id)
{
    for (uint32_t i = 0; i < s->config.max_rooms; i++)
        if (s->rooms[i].used && s->rooms[i].room_id == room_id)
            return (int32_t)i;
    return NCI_LOBBY_NONE;
}

/* Ids count up from a random start (set at create) and skip 0: an id comes
 * back only after 2^64 - 1 others, so no session can still hold it and no
 * search is needed. */
static uint64_t unique_id(netcore_lobby_server *s)
{
    /* Nodes of a cluster hand out ids independently: random ones do not
     * collide (2^-64 per pair) where counting from random starts could. */
    if (s->cluster) {
        uint64_t id = 0;
        while (id == 0)
            id = nci_rng_next(&s->rng);
        return id;
    }
    if (s->next_client_id == 0)
        s->next_client_id = 1;
    return s->next_client_id++;
}

/* ------------------------------------------------------------------ */
/* Room state and membership                                           */
/* ------------------------------------------------------------------ */

void nci_lobby_broadcast_room_state(netcore_lobby_server *s, int32_t room_index)
{
    const nci_lobby_room *room = &s->rooms[room_index];
    nci_lobby_msg *m = &s->out_msg;
    m->type = NCI_LOBBY_ROOM_STATE;
    netcore_lobby_room_state *st = &m->u.room_state;
    st->room_id = room->room_id;
    memcpy(st->name, room->params.name, sizeof st->name);
    st->owner_id = room->owner_id;
    st->max_players = room->params.max_players;
    st->is_private = room->params.is_private;
    st->has_password = room->params.password[0] != '\0';
    st->in_match = room->in_match;
    st->member_count = room->member_count;
    for (uint8_t i = 0; i < room->member_count; i++) {
        const nci_lobby_session *ses = &s->sessions[room->members[i]];
        st->members[i].client_id = ses->client_id;
        memcpy(st->members[i].nickname, ses->nickname, sizeof ses->nickname);
        st->members[i].ready = ses->ready;
        st->members[i].connected = ses->conn != NCI_LOBBY_NONE || ses->remote_connected;
    }
    st->meta_count = room->params.meta_count;
    memcpy(st->meta, room->params.meta, sizeof st->meta);
    if (!nci_lobby_encode_out(s))
        return;
    for (uint8_t i = 0; i < room->member_count; i++)
        nci_lobby_send_encoded(s, s->sessions[room->members[i]].conn);
}

void nci_lobby_send_room_left(netcore_lobby_server *s, int32_t conn, uint32_t room_id,
                              uint8_t reason)
{
    s->out_msg.type = NCI_LOBBY_ROOM_LEFT;
    s->out_msg.u.room_left.room_id = room_id;
    s->out_msg.u.room_left.reason = reason;
    nci_lobby_send_out(s, conn);
}

/* Removes a member; the earliest-joined remaining member becomes owner if
 * the owner left; an empty room is deleted. Tells the rest. */
static void remove_member(netcore_lobby_server *s, int32_t session_index)
{
    nci_lobby_session *ses = &s->sessions[session_index];
    int32_t room_index = ses->room;
    if (room_index == NCI_LOBBY_NONE)
        return;
    nci_lobby_room *room = &s->rooms[room_index];
    uint8_t w = 0;
    for (uint8_t i = 0; i < room->member_count; i++)
        if (room->members[i] != session_index)
            room->members[w++] = room->members[i];
    room->member_count = w;
    ses->room = NCI_LOBBY_NONE;
    ses->ready = false;
    if (room->member_count == 0) {
        memset(room, 0, sizeof *room);
        return;
    }
    if (room->owner_id == ses->client_id)
        room->owner_id = s->sessions[room->members[0]].client_id;
    nci_lobby_broadcast_room_state(s, room_index);
}

static void add_member(netcore_lobby_server *s, int32_t room_index, int32_t session_index)
{
    nci_lobby_room *room = &s->rooms[room_index];
    room->members[room->member_count++] = session_index;
    s->sessions[session_index].room = room_index;
    s->sessions[session_index].ready = false;
    nci_lobby_broadcast_room_state(s, room_index);
}

/* Leaves its room, wipes the slot and returns it to the free stack. */
static void free_session(netcore_lobby_server *s, int32_t session_index)
{
    if (s->cluster) {
        nci_lobby_cluster_forget(s, session_index);
        return;
    }
    remove_member(s, session_index);
    sodium_memzero(&s->sessions[session_index], sizeof s->sessions[session_index]);
    s->free_sessions[s->free_session_count++] = session_index;
}

void nci_lobby_session_lost(netcore_lobby_server *s, int32_t session_index, bool goodbye)
{
    if (s->cluster) {
        nci_lobby_cluster_session_lost(s, session_index, goodbye);
        return;
    }
    nci_lobby_session *ses = &s->sessions[session_index];
    ses->conn = NCI_LOBBY_NONE;
    ses->lost_ms = s->now_ms;
    nci_lobby_timer_at(s, s->now_ms + s->config.reconnect_grace_ms);
    if (goodbye) {
        free_session(s, session_index);
        return;
    }
    if (ses->room != NCI_LOBBY_NONE)
        nci_lobby_broadcast_room_state(s, ses->room);
}

void nci_lobby_expire_sessions(netcore_lobby_server *s)
{
    for (uint32_t i = 0; i < s->session_capacity; i++) {
        nci_lobby_session *ses = &s->sessions[i];
        if (!ses->used || ses->conn != NCI_LOBBY_NONE || ses->remote)
            continue;
        if (s->now_ms - ses->lost_ms >= s->config.reconnect_grace_ms)
            free_session(s, (int32_t)i);
        else
            nci_lobby_timer_at(s, ses->lost_ms + s->config.reconnect_grace_ms);
    }
}

/* ------------------------------------------------------------------ */
/* Match tokens                                                        */
/* ------------------------------------------------------------------ */

/* A connect token for one member of a room's match, bound to the IP this
 * member reaches the lobby from: the game server's datagram guard checks the
 * proof in the token's clear header against the CONNECT datagram's source
 * before it gives the handshake a peer slot. The member must be connected. */
static netcore_result mint_token(const netcore_lobby_server *s, const nci_lobby_room *room,
                                 const nci_lobby_session *member, uint64_t create_time_s,
                                 netcore_session_keys *out_keys,
                                 uint8_t out_token[NETCORE_TOKEN_BYTES])
{
    netcore_token_params params;
    memset(&params, 0, sizeof params);
    /* Fresh keys for every token: nothing the player held before (nor any
     * long-lived secret) derives them. */
    netcore_result r = netcore_session_keys_generate(&params.session_keys);
    if (r != NETCORE_OK)
        return r;
    params.client_id = member->client_id;
    params.match_id = room->match_id;
    params.server_address = room->game_address;
    params.create_time_s = create_time_s;
    params.lifetime_s = s->config.token_lifetime_s;
    r = netcore_token_create_for_client(s->config.key, &params, &s->conns[member->conn].peer,
                                        out_token);
    *out_keys = params.session_keys;
    netcore_session_keys_wipe(&params.session_keys);
    return r;
}

static void send_match_start(netcore_lobby_server *s, int32_t conn, const nci_lobby_room *room,
                             const netcore_session_keys *keys,
                             const uint8_t token[NETCORE_TOKEN_BYTES])
{
    nci_lobby_msg *m = &s->out_msg;
    m->type = NCI_LOBBY_MATCH_START;
    m->u.match_start.match_id = room->match_id;
    m->u.match_start.server_address = room->game_address;
    m->u.match_start.token_lifetime_s = s->config.token_lifetime_s;
    m->u.match_start.connect_proof = netcore_token_embedded_proof(token, NETCORE_TOKEN_BYTES);
    m->u.match_start.token_size_bytes = NETCORE_TOKEN_BYTES;
    memcpy(m->u.match_start.token, token, NETCORE_TOKEN_BYTES);
    /* A client of version 2 or less would refuse the longer frame; without
     * keys it cannot join a sealing game server either. */
    m->u.match_start.has_session_keys = s->conns[conn].version >= 3;
    m->u.match_start.session_keys = *keys;
    nci_lobby_send_out(s, conn);
    sodium_memzero(m->u.match_start.token, sizeof m->u.match_start.token);
    netcore_session_keys_wipe(&m->u.match_start.session_keys);
}

/* MATCH_START with a token made now for a member of a room that plays. A
 * member back on a new connection while its room plays (reissue) needs
 * one: the token it got may be spent, expired or bound to the IP it had.
 * A cluster node also sends its own members their first one this way. */
void nci_lobby_send_match_start(netcore_lobby_server *s, int32_t conn, nci_lobby_session *ses,
                                bool reissue)
{
    const nci_lobby_room *room = &s->rooms[ses->room];
    uint8_t token[NETCORE_TOKEN_BYTES];
    netcore_session_keys keys;
    if (mint_token(s, room, ses, nci_lobby_token_time_s(s), &keys, token) != NETCORE_OK) {
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_INTERNAL, NCI_LOBBY_RECONNECT,
                             "could not make a connect token");
        return;
    }
    send_match_start(s, conn, room, &keys, token);
    sodium_memzero(token, sizeof token);
    netcore_session_keys_wipe(&keys);
    if (reissue)
        s->stats.match_tokens_reissued++;
}

/* ------------------------------------------------------------------ */
/* Handshake                                                           */
/* ------------------------------------------------------------------ */

void nci_lobby_send_welcome(netcore_lobby_server *s, int32_t conn, bool resumed)
{
    nci_lobby_session *ses = conn_session(s, conn);
    /* All random: a token says nothing of the client id or of how many
     * sessions this lobby has made. A new one each time, so a token seen
     * on an old connection is worth nothing after a reconnect. */
    randombytes_buf(ses->reconnect_token, sizeof ses->reconnect_token);
    nci_lobby_msg *m = &s->out_msg;
    m->type = NCI_LOBBY_WELCOME;
    /* The version the client said: what this connection will be spoken to in. */
    m->u.welcome.version = s->conns[conn].version;
    m->u.welcome.client_id = ses->client_id;
    memcpy(m->u.welcome.reconnect_token, ses->reconnect_token, sizeof ses->reconnect_token);
    m->u.welcome.reconnect_grace_s = s->config.reconnect_grace_ms / 1000;
    memcpy(m->u.welcome.nickname, ses->nickname, sizeof ses->nickname);
    m->u.welcome.resumed = resumed;
    nci_lobby_send_out(s, conn);
    if (s->cluster)
        nci_lobby_cluster_welcomed(s, s->conns[conn].session, ses->reconnect_token);
}

bool nci_lobby_version_supported(uint16_t version)
{
    return version >= NETCORE_LOBBY_PROTOCOL_VERSION_MIN &&
           version <= NETCORE_LOBBY_PROTOCOL_VERSION;
}

static bool version_ok(netcore_lobby_server *s, int32_t conn, uint16_t version)
{
    if (nci_lobby_version_supported(version)) {
        s->conns[conn].version = version;
        return true;
    }
    s->stats.version_rejected++;
    nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_VERSION, "unsupported protocol version");
    return false;
}

static void handle_hello(netcore_lobby_server *s, int32_t conn)
{
    if (!version_ok(s, conn, s->in_msg.u.hello.version))
        return;
    if (s->free_session_count == 0) {
        /* Twice as many sessions as connections exist, so at least half are
         * lost ones waiting for a reconnect: the oldest gives way instead of
         * letting connect-and-drop churn lock newcomers out. */
        int32_t oldest_lost = NCI_LOBBY_NONE;
        for (uint32_t i = 0; i < s->session_capacity; i++) {
            const nci_lobby_session *lost = &s->sessions[i];
            if (lost->used && lost->conn == NCI_LOBBY_NONE && !lost->remote &&
                (oldest_lost == NCI_LOBBY_NONE || lost->lost_ms < s->sessions[oldest_lost].lost_ms))
                oldest_lost = (int32_t)i;
        }
        /* Only in a cluster, where remote members fill the rest. */
        if (oldest_lost == NCI_LOBBY_NONE) {
            nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_SERVER_FULL, "no free session");
            return;
        }
        free_session(s, oldest_lost);
    }
    int32_t free_index = s->free_sessions[--s->free_session_count];
    nci_lobby_session *ses = &s->sessions[free_index];
    memset(ses, 0, sizeof *ses);
    ses->client_id = unique_id(s);
    ses->used = true;
    ses->conn = conn;
    /* The connection's bucket, HELLO already taken from it. */
    ses->bucket = s->conns[conn].bucket;
    ses->room = NCI_LOBBY_NONE;
    memcpy(ses->nickname, s->in_msg.u.hello.nickname, sizeof ses->nickname);
    s->conns[conn].session = free_index;
    nci_lobby_send_welcome(s, conn, false);
}

static void handle_reconnect(netcore_lobby_server *s, int32_t conn)
{
    if (!version_ok(s, conn, s->in_msg.u.reconnect.version))
        return;
    const uint8_t *token = s->in_msg.u.reconnect.token;
    /* Every used session is compared in constant time per token: a
     * reconnect is rare, and the scan does not stop early on a match. */
    int32_t found = NCI_LOBBY_NONE;
    for (uint32_t i = 0; i < s->session_capacity; i++)
        if (s->sessions[i].used && !s->sessions[i].remote &&
            sodium_memcmp(s->sessions[i].reconnect_token, token,
                          NETCORE_LOBBY_RECONNECT_TOKEN_BYTES) == 0)
            found = (int32_t)i;
    if (found == NCI_LOBBY_NONE && s->cluster) {
        nci_lobby_cluster_claim(s, conn, token);
        return;
    }
    if (found == NCI_LOBBY_NONE) {
        nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_RECONNECT_FAILED, "unknown or expired session");
        return;
    }
    nci_lobby_session *ses = &s->sessions[found];
    int32_t old = ses->conn;
    if (old != NCI_LOBBY_NONE) {
        /* Take over: the old connection no longer speaks for the session. */
        s->conns[old].session = NCI_LOBBY_NONE;
        nci_lobby_fail(s, old, NETCORE_LOBBY_ERR_STATE, "session resumed elsewhere");
    }
    ses->conn = conn;
    s->conns[conn].session = found;
    s->stats.reconnects++;
    nci_lobby_send_welcome(s, conn, true);
    if (ses->kicked_while_away) {
        /* The ROOM_LEFT it missed while away, so that its client leaves
         * the room screen instead of waiting for a room it is not in. */
        ses->kicked_while_away = false;
        nci_lobby_send_room_left(s, conn, ses->kicked_room_id, NETCORE_LOBBY_KICKED);
    }
    if (ses->room == NCI_LOBBY_NONE)
        return;
    nci_lobby_broadcast_room_state(s, ses->room);
    if (s->rooms[ses->room].in_match)
        nci_lobby_send_match_start(s, conn, ses, true);
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

static bool room_matches(const nci_lobby_room *room, const netcore_lobby_room_filter *f)
{
    if (room->params.is_private && !f->include_private)
        return false;
    if (f->hide_full && room->member_count >= room->params.max_players)
        return false;
    if (f->hide_in_match && room->in_match)
        return false;
    if (f->name_contains[0] && !strstr(room->params.name, f->name_contains))
        return false;
    if (f->meta_key[0]) {
        bool found = false;
        for (uint8_t i = 0; i < room->params.meta_count && !found; i++)
            found = strcmp(room->params.meta[i].key, f->meta_key) == 0 &&
                    (!f->meta_value[0] || strcmp(room->params.meta[i].value, f->meta_value) == 0);
        if (!found)
            return false;
    }
    return true;
}

static void handle_list(netcore_lobby_server *s, int32_t conn)
{
    const netcore_lobby_room_filter *f = &s->in_msg.u.list_rooms;
    nci_lobby_msg *m = &s->out_msg;
    m->type = NCI_LOBBY_ROOM_LIST;
    m->u.room_list.offset = f->offset;
    m->u.room_list.count = 0;
    uint32_t total = 0;
    for (uint32_t i = 0; i < s->config.max_rooms; i++) {
        const nci_lobby_room *room = &s->rooms[i];
        if (!room->used || !room_matches(room, f))
            continue;
        if (total >= f->offset && m->u.room_list.count < f->max_count) {
            netcore_lobby_room_summary *r = &m->u.room_list.rooms[m->u.room_list.count++];
            r->room_id = room->room_id;
            memcpy(r->name, room->params.name, sizeof r->name);
            r->players = room->member_count;
            r->max_players = room->params.max_players;
            r->is_private = room->params.is_private;
            r->has_password = room->params.password[0] != '\0';
            r->in_match = room->in_match;
            r->meta_count = room->params.meta_count;
            memcpy(r->meta, room->params.meta, sizeof r->meta);
        }
        total++;
    }
    m->u.room_list.total = (uint16_t)(total > UINT16_MAX ? UINT16_MAX : total);
    nci_lobby_send_out(s, conn);
}

static void handle_create(netcore_lobby_server *s, int32_t conn, nci_lobby_session *ses)
{
    int32_t free_index = NCI_LOBBY_NONE;
    for (uint32_t i = 0; i < s->config.max_rooms && free_index == NCI_LOBBY_NONE; i++)
        if (!s->rooms[i].used)
            free_index = (int32_t)i;
    if (free_index == NCI_LOBBY_NONE) {
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_TOO_MANY_ROOMS, NCI_LOBBY_CREATE_ROOM,
                             "too many rooms");
        return;
    }
    /* Ids count up and skip 0 and any still in use after a wrap. */
    uint32_t room_id;
    do {
        room_id = s->next_room_id++;
    } while (room_id == 0 || find_room(s, room_id) != NCI_LOBBY_NONE);
    nci_lobby_room *room = &s->rooms[free_index];
    memset(room, 0, sizeof *room);
    room->used = true;
    room->room_id = room_id;
    room->params = s->in_msg.u.create_room;
    room->owner_id = ses->client_id;
    add_member(s, free_index, s->conns[conn].session);
}

static void handle_join(netcore_lobby_server *s, int32_t conn)
{
    int32_t room_index = find_room(s, s->in_msg.u.join_room.room_id);
    uint16_t code = NETCORE_LOBBY_ERR_NONE;
    const nci_lobby_room *room = room_index == NCI_LOBBY_NONE ? NULL : &s->rooms[room_index];
    if (!room)
        code = NETCORE_LOBBY_ERR_NO_SUCH_ROOM;
    else if (room->in_match)
        code = NETCORE_LOBBY_ERR_IN_MATCH;
    else if (room->member_count >= room->params.max_players)
        code = NETCORE_LOBBY_ERR_ROOM_FULL;
    else if (room->params.password[0] &&
             (strlen(room->params.password) != strlen(s->in_msg.u.join_room.password) ||
              sodium_memcmp(room->params.password, s->in_msg.u.join_room.password,
                            strlen(room->params.password)) != 0))
        code = NETCORE_LOBBY_ERR_BAD_PASSWORD;
    if (code != NETCORE_LOBBY_ERR_NONE) {
        nci_lobby_send_error(s, conn, code, NCI_LOBBY_JOIN_ROOM, netcore_lobby_error_str(code));
        return;
    }
    add_member(s, room_index, s->conns[conn].session);
}

static void handle_chat(netcore_lobby_server *s, nci_lobby_session *ses)
{
    nci_lobby_msg *m = &s->out_msg;
    m->type = NCI_LOBBY_CHAT_MESSAGE;
    m->u.chat_message.scope = s->in_msg.u.chat.scope;
    m->u.chat_message.from_id = ses->client_id;
    memcpy(m->u.chat_message.from_nickname, ses->nickname, sizeof ses->nickname);
    memcpy(m->u.chat_message.text, s->in_msg.u.chat.text, sizeof m->u.chat_message.text);
    if (!nci_lobby_encode_out(s))
        return;
    if (s->in_msg.u.chat.scope == NETCORE_LOBBY_CHAT_ROOM) {
        const nci_lobby_room *room = &s->rooms[ses->room];
        for (uint8_t i = 0; i < room->member_count; i++)
            nci_lobby_send_encoded(s, s->sessions[room->members[i]].conn);
        return;
    }
    for (uint32_t i = 0; i < s->conn_capacity; i++)
        if (s->conns[i].socket != NCI_SOCKET_INVALID && s->conns[i].session != NCI_LOBBY_NONE)
            nci_lobby_send_encoded(s, (int32_t)i);
}

static void handle_kick(netcore_lobby_server *s, int32_t conn, nci_lobby_session *ses)
{
    nci_lobby_room *room = &s->rooms[ses->room];
    uint64_t target_id = s->in_msg.u.kick_client_id;
    for (uint8_t i = 0; i < room->member_count; i++) {
        int32_t target = room->members[i];
        if (s->sessions[target].client_id != target_id || target_id == ses->client_id)
            continue;
        uint32_t room_id = room->room_id;
        int32_t target_conn = s->sessions[target].conn;
        remove_member(s, target);
        if (target_conn == NCI_LOBBY_NONE) {
            s->sessions[target].kicked_while_away = true;
            s->sessions[target].kicked_room_id = room_id;
        } else {
            nci_lobby_send_room_left(s, target_conn, room_id, NETCORE_LOBBY_KICKED);
        }
        return;
    }
    nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_NO_SUCH_CLIENT, NCI_LOBBY_KICK,
                         "no such member");
}

uint64_t nci_lobby_token_time_s(const netcore_lobby_server *s)
{
    if (s->config.clock)
        return s->config.clock(s->config.clock_user);
    time_t now = time(NULL);
    return now < 0 ? 0 : (uint64_t)now;
}

static void start_match(netcore_lobby_server *s, int32_t conn, int32_t room_index)
{
    nci_lobby_room *room = &s->rooms[room_index];
    uint8_t tokens[NETCORE_LOBBY_MAX_PLAYERS][NETCORE_TOKEN_BYTES];
    netcore_session_keys keys[NETCORE_LOBBY_MAX_PLAYERS];
    uint64_t ids[NETCORE_LOBBY_MAX_PLAYERS];
    nci_lobby_room planned = *room;
    planned.match_id = 0;
    while (planned.match_id == 0)
        planned.match_id = nci_rng_next(&s->rng);
    uint64_t server_id = 0;
    if (!nci_lobby_registry_pick(s, room->member_count, &planned.game_address, &server_id)) {
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_NO_GAME_SERVER, NCI_LOBBY_START_MATCH,
                             "every game server is full");
        return;
    }
    uint64_t create_time_s = nci_lobby_token_time_s(s);
    /* Every token is made before anything is sent, so a failure leaves the
     * room untouched instead of starting a match for only some members. */
    for (uint8_t i = 0; i < room->member_count; i++) {
        const nci_lobby_session *member = &s->sessions[room->members[i]];
        ids[i] = member->client_id;
        /* A member whose connection is lost gets its token when it comes back. */
        if (member->conn == NCI_LOBBY_NONE)
            continue;
        if (mint_token(s, &planned, member, create_time_s, &keys[i], tokens[i]) != NETCORE_OK) {
            sodium_memzero(tokens, sizeof tokens);
            sodium_memzero(keys, sizeof keys);
            nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_INTERNAL, NCI_LOBBY_START_MATCH,
                                 "could not make connect tokens");
            return;
        }
    }
    room->in_match = true;
    room->match_id = planned.match_id;
    room->game_address = planned.game_address;
    room->game_server_id = server_id;
    s->stats.matches_started++;
    for (uint8_t i = 0; i < room->member_count; i++) {
        int32_t member_conn = s->sessions[room->members[i]].conn;
        if (member_conn != NCI_LOBBY_NONE)
            send_match_start(s, member_conn, room, &keys[i], tokens[i]);
    }
    sodium_memzero(tokens, sizeof tokens);
    sodium_memzero(keys, sizeof keys);
    nci_lobby_broadcast_room_state(s, room_index);
    uint64_t match_id = room->match_id;
    uint32_t room_id = room->room_id;
    uint8_t member_count = room->member_count;
    /* A game server that fails to take MATCH_ASSIGNED (it stopped reading)
     * is closed on the spot, which ends this match again at once. */
    if (server_id != 0)
        nci_lobby_registry_assign(s, server_id, match_id, room_id, ids, member_count);
    if (s->config.on_match_start)
        s->config.on_match_start(s->config.match_user, match_id, room_id, ids, member_count);
}

void nci_lobby_end_room_match(netcore_lobby_server *s, int32_t room_index,
                              netcore_lobby_match_end_reason reason)
{
    nci_lobby_room *room = &s->rooms[room_index];
    for (uint8_t i = 0; i < room->member_count; i++) {
        nci_lobby_session *member = &s->sessions[room->members[i]];
        member->ready = false;
        if (member->conn == NCI_LOBBY_NONE)
            continue;
        /* A version-1 decoder refuses MATCH_ENDED: it gets the bare MATCH_END. */
        nci_lobby_msg *m = &s->out_msg;
        if (s->conns[member->conn].version >= 2) {
            m->type = NCI_LOBBY_MATCH_ENDED;
            m->u.match_ended.match_id = room->match_id;
            m->u.match_ended.reason = (uint8_t)reason;
        } else {
            m->type = NCI_LOBBY_MATCH_END;
            m->u.match_end_id = room->match_id;
        }
        nci_lobby_send_out(s, member->conn);
    }
    room->in_match = false;
    room->match_id = 0;
    room->game_server_id = 0;
    memset(&room->game_address, 0, sizeof room->game_address);
    nci_lobby_broadcast_room_state(s, room_index);
}

netcore_result netcore_lobby_server_end_match(netcore_lobby_server *server, uint64_t match_id)
{
    if (!server || match_id == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (server->cluster)
        return nci_lobby_cluster_end_match(server, match_id, 0, NCI_LOBBY_NONE)
                   ? NETCORE_OK
                   : NETCORE_ERR_NOT_FOUND;
    for (uint32_t i = 0; i < server->config.max_rooms; i++) {
        if (server->rooms[i].used && server->rooms[i].in_match &&
            server->rooms[i].match_id == match_id) {
            nci_lobby_end_room_match(server, (int32_t)i, NETCORE_LOBBY_MATCH_ENDED);
            return NETCORE_OK;
        }
    }
    return NETCORE_ERR_NOT_FOUND;
}

/* Owner-only room requests: KICK, START_MATCH, END_MATCH. */
static void handle_owner_request(netcore_lobby_server *s, int32_t conn, nci_lobby_session *ses)
{
    uint8_t type = s->in_msg.type;
    nci_lobby_room *room = &s->rooms[ses->room];
    uint16_t code = NETCORE_LOBBY_ERR_NONE;
    if (room->owner_id != ses->client_id)
        code = NETCORE_LOBBY_ERR_NOT_OWNER;
    else if (type == NCI_LOBBY_END_MATCH && !room->in_match)
        code = NETCORE_LOBBY_ERR_STATE;
    else if (type != NCI_LOBBY_END_MATCH && room->in_match)
        code = NETCORE_LOBBY_ERR_IN_MATCH;
    for (uint8_t i = 0;
         code == NETCORE_LOBBY_ERR_NONE && type == NCI_LOBBY_START_MATCH && i < room->member_count;
         i++) {
        const nci_lobby_session *member = &s->sessions[room->members[i]];
        if (!member->ready || member->conn == NCI_LOBBY_NONE)
            code = NETCORE_LOBBY_ERR_NOT_READY;
    }
    if (code != NETCORE_LOBBY_ERR_NONE) {
        nci_lobby_send_error(s, conn, code, type, netcore_lobby_error_str(code));
        return;
    }
    if (type == NCI_LOBBY_KICK)
        handle_kick(s, conn, ses);
    else if (type == NCI_LOBBY_START_MATCH)
        start_match(s, conn, ses->room);
    else
        nci_lobby_end_room_match(s, ses->room, NETCORE_LOBBY_MATCH_ENDED);
}

void nci_lobby_handle(netcore_lobby_server *s, int32_t conn)
{
    uint8_t type = s->in_msg.type;
    nci_lobby_session *ses = conn_session(s, conn);
    if (s->conns[conn].game_server != NCI_LOBBY_NONE ||
        (!ses && type == NCI_LOBBY_SERVER_REGISTER)) {
        nci_lobby_registry_handle(s, conn);
        return;
    }
    if (!ses) {
        if (type == NCI_LOBBY_HELLO)
            handle_hello(s, conn);
        else if (type == NCI_LOBBY_RECONNECT)
            handle_reconnect(s, conn);
        else
            nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_STATE, "HELLO or RECONNECT expected");
        return;
    }
    /* In a cluster, what changes rooms goes through Redis (lobby_cluster.c). */
    if (s->cluster && nci_lobby_cluster_handle(s, conn))
        return;
    bool in_room = ses->room != NCI_LOBBY_NONE;
    switch (type) {
    case NCI_LOBBY_LIST_ROOMS:
        handle_list(s, conn);
        return;
    case NCI_LOBBY_CREATE_ROOM:
    case NCI_LOBBY_JOIN_ROOM:
        if (in_room)
            nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_ALREADY_IN_ROOM, type,
                                 "already in a room");
        else if (type == NCI_LOBBY_CREATE_ROOM)
            handle_create(s, conn, ses);
        else
            handle_join(s, conn);
        return;
    case NCI_LOBBY_PING:
        s->out_msg.type = NCI_LOBBY_PONG;
        s->out_msg.u.ping_value = s->in_msg.u.ping_value;
        nci_lobby_send_out(s, conn);
        return;
    case NCI_LOBBY_GOODBYE: {
        /* The seat is freed now, not after the reconnect grace. */
        int32_t session_index = s->conns[conn].session;
        s->conns[conn].session = NCI_LOBBY_NONE;
        nci_lobby_session_lost(s, session_index, true);
        nci_lobby_close(s, conn);
        return;
    }
    case NCI_LOBBY_CHAT:
        if (s->in_msg.u.chat.scope == NETCORE_LOBBY_CHAT_LOBBY || in_room)
            handle_chat(s, ses);
        else
            nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_NOT_IN_ROOM, type, "not in a room");
        return;
    case NCI_LOBBY_LEAVE_ROOM:
    case NCI_LOBBY_SET_READY:
    case NCI_LOBBY_KICK:
    case NCI_LOBBY_START_MATCH:
    case NCI_LOBBY_END_MATCH:
        break;
    default:
        /* HELLO twice, or a server-to-client type. */
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_STATE, type, "unexpected message");
        return;
    }
    if (!in_room) {
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_NOT_IN_ROOM, type, "not in a room");
        return;
    }
    if (type == NCI_LOBBY_LEAVE_ROOM) {
        uint32_t room_id = s->rooms[ses->room].room_id;
        remove_member(s, s->conns[conn].session);
        nci_lobby_send_room_left(s, conn, room_id, NETCORE_LOBBY_LEFT);
    } else if (type == NCI_LOBBY_SET_READY) {
        if (s->rooms[ses->room].in_match) {
            nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_IN_MATCH, type, "room is in a match");
            return;
        }
        ses->ready = s->in_msg.u.ready;
        nci_lobby_broadcast_room_state(s, ses->room);
    } else {
        handle_owner_request(s, conn, ses);
    }
}
