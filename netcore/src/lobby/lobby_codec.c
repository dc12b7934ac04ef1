/* Lobby wire protocol: frame peeking and message encode/decode over bytes.
 * No sockets here; see docs/lobby-protocol.md for the format. */
#define _POSIX_C_SOURCE 200809L
#include <sodium.h>
#include <string.h>

#include "core/core_internal.h"
#include "lobby/lobby_internal.h"

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

typedef struct writer {
    uint8_t *p;
    size_t cap;
    size_t len;
    bool overflow; /* sticky: buffer too small */
    bool invalid;  /* sticky: a field outside the protocol's limits */
} writer;

static void w_bytes(writer *w, const void *data, size_t n)
{
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    if (n > 0)
        memcpy(w->p + w->len, data, n);
    w->len += n;
}

static void w_uint(writer *w, uint64_t v, size_t n)
{
    uint8_t b[8];
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    w_bytes(w, b, n);
}

static void w_u8(writer *w, uint8_t v)
{
    w_uint(w, v, 1);
}
static void w_u16(writer *w, uint16_t v)
{
    w_uint(w, v, 2);
}
static void w_u32(writer *w, uint32_t v)
{
    w_uint(w, v, 4);
}
static void w_u64(writer *w, uint64_t v)
{
    w_uint(w, v, 8);
}

static void w_check(writer *w, bool ok)
{
    if (!ok)
        w->invalid = true;
}

/* str8 (prefix_bytes 1) or str16 (2): length then UTF-8 bytes. */
static void w_text(writer *w, const char *text, size_t max, bool nonempty, size_t prefix_bytes)
{
    if (!nci_lobby_text_valid(text, max, nonempty)) {
        w->invalid = true;
        return;
    }
    size_t n = strlen(text);
    w_uint(w, n, prefix_bytes);
    w_bytes(w, text, n);
}

/* A nickname or room name: str8(1..32) under the name rules. */
static void w_name(writer *w, const char *name)
{
    if (!nci_lobby_name_valid(name, NETCORE_LOBBY_NAME_MAX)) {
        w->invalid = true;
        return;
    }
    w_text(w, name, NETCORE_LOBBY_NAME_MAX, true, 1);
}

static void w_meta(writer *w, uint8_t count, const netcore_lobby_meta *meta)
{
    w_check(w, count <= NETCORE_LOBBY_META_MAX);
    if (w->invalid)
        return;
    w_u8(w, count);
    for (uint8_t i = 0; i < count; i++) {
        w_text(w, meta[i].key, NETCORE_LOBBY_META_KEY_MAX, true, 1);
        w_text(w, meta[i].value, NETCORE_LOBBY_META_VALUE_MAX, false, 1);
    }
}

static bool family_valid(uint8_t family)
{
    return family == NETCORE_ADDRESS_IPV4 || family == NETCORE_ADDRESS_IPV6;
}

static void w_address(writer *w, const netcore_address *a)
{
    w_check(w, family_valid(a->family));
    w_u8(w, a->family);
    w_bytes(w, a->bytes, 16);
    w_u16(w, a->port);
}

static uint8_t room_flags(bool is_private, bool has_password, bool in_match)
{
    return (uint8_t)((is_private ? 1 : 0) | (has_password ? 2 : 0) | (in_match ? 4 : 0));
}

static void encode_body(writer *w, const nci_lobby_msg *m)
{
    w_u8(w, m->type);
    switch (m->type) {
    case NCI_LOBBY_HELLO:
        w_u32(w, NCI_LOBBY_MAGIC);
        w_u16(w, m->u.hello.version);
        w_name(w, m->u.hello.nickname);
        break;
    case NCI_LOBBY_RECONNECT:
        w_u32(w, NCI_LOBBY_MAGIC);
        w_u16(w, m->u.reconnect.version);
        w_bytes(w, m->u.reconnect.token, NETCORE_LOBBY_RECONNECT_TOKEN_BYTES);
        break;
    case NCI_LOBBY_LIST_ROOMS: {
        const netcore_lobby_room_filter *f = &m->u.list_rooms;
        w_check(w, f->max_count >= 1 && f->max_count <= NETCORE_LOBBY_LIST_MAX);
        w_u8(w, (uint8_t)((f->hide_full ? 1 : 0) | (f->include_private ? 2 : 0) |
                          (f->hide_in_match ? 4 : 0)));
        w_text(w, f->name_contains, NETCORE_LOBBY_NAME_MAX, false, 1);
        w_text(w, f->meta_key, NETCORE_LOBBY_META_KEY_MAX, false, 1);
        w_text(w, f->meta_value, NETCORE_LOBBY_META_VALUE_MAX, false, 1);
        w_u16(w, f->offset);
        w_u8(w, f->max_count);
        break;
    }
    case NCI_LOBBY_CREATE_ROOM: {
        const netcore_lobby_room_params *p = &m->u.create_room;
        w_check(w, p->max_players >= 1 && p->max_players <= NETCORE_LOBBY_MAX_PLAYERS);
        w_name(w, p->name);
        w_u8(w, p->max_players);
        w_u8(w, p->is_private ? 1 : 0);
        w_text(w, p->password, NETCORE_LOBBY_PASSWORD_MAX, false, 1);
        w_meta(w, p->meta_count, p->meta);
        break;
    }
    case NCI_LOBBY_JOIN_ROOM:
        w_u32(w, m->u.join_room.room_id);
        w_text(w, m->u.join_room.password, NETCORE_LOBBY_PASSWORD_MAX, false, 1);
        break;
    case NCI_LOBBY_CHAT:
        w_check(w, m->u.chat.scope <= NETCORE_LOBBY_CHAT_LOBBY);
        w_u8(w, m->u.chat.scope);
        w_text(w, m->u.chat.text, NETCORE_LOBBY_CHAT_MAX, true, 2);
        break;
    case NCI_LOBBY_SET_READY:
        w_u8(w, m->u.ready ? 1 : 0);
        break;
    case NCI_LOBBY_KICK:
        w_u64(w, m->u.kick_client_id);
        break;
    case NCI_LOBBY_PING:
    case NCI_LOBBY_PONG:
        w_u64(w, m->u.ping_value);
        break;
    case NCI_LOBBY_LEAVE_ROOM:
    case NCI_LOBBY_START_MATCH:
    case NCI_LOBBY_END_MATCH:
    case NCI_LOBBY_GOODBYE:
        break;
    case NCI_LOBBY_WELCOME:
        w_u16(w, m->u.welcome.version);
        w_u64(w, m->u.welcome.client_id);
        w_bytes(w, m->u.welcome.reconnect_token, NETCORE_LOBBY_RECONNECT_TOKEN_BYTES);
        w_u32(w, m->u.welcome.reconnect_grace_s);
        w_name(w, m->u.welcome.nickname);
        w_u8(w, m->u.welcome.resumed ? 1 : 0);
        break;
    case NCI_LOBBY_ROOM_LIST:
        w_check(w, m->u.room_list.count <= NETCORE_LOBBY_LIST_MAX);
        if (w->invalid)
            break;
        w_u16(w, m->u.room_list.total);
        w_u16(w, m->u.room_list.offset);
        w_u8(w, m->u.room_list.count);
        for (uint8_t i = 0; i < m->u.room_list.count; i++) {
            const netcore_lobby_room_summary *r = &m->u.room_list.rooms[i];
            w_check(w, r->max_players >= 1 && r->max_players <= NETCORE_LOBBY_MAX_PLAYERS &&
                           r->players <= r->max_players);
            w_u32(w, r->room_id);
            w_name(w, r->name);
            w_u8(w, r->players);
            w_u8(w, r->max_players);
            w_u8(w, room_flags(r->is_private, r->has_password, r->in_match));
            w_meta(w, r->meta_count, r->meta);
        }
        break;
    case NCI_LOBBY_ROOM_STATE: {
        const netcore_lobby_room_state *s = &m->u.room_state;
        bool owner_found = false;
        w_check(w, s->max_players >= 1 && s->max_players <= NETCORE_LOBBY_MAX_PLAYERS &&
                       s->member_count >= 1 && s->member_count <= s->max_players);
        if (w->invalid)
            break;
        w_u32(w, s->room_id);
        w_name(w, s->name);
        w_u64(w, s->owner_id);
        w_u8(w, s->max_players);
        w_u8(w, room_flags(s->is_private, s->has_password, s->in_match));
        w_u8(w, s->member_count);
        for (uint8_t i = 0; i < s->member_count; i++) {
            const netcore_lobby_member *mb = &s->members[i];
            owner_found = owner_found || mb->client_id == s->owner_id;
            w_u64(w, mb->client_id);
            w_name(w, mb->nickname);
            w_u8(w, (uint8_t)((mb->ready ? 1 : 0) | (mb->connected ? 2 : 0)));
        }
        w_check(w, owner_found);
        w_meta(w, s->meta_count, s->meta);
        break;
    }
    case NCI_LOBBY_CHAT_MESSAGE:
        w_check(w, m->u.chat_message.scope <= NETCORE_LOBBY_CHAT_LOBBY);
        w_u8(w, m->u.chat_message.scope);
        w_u64(w, m->u.chat_message.from_id);
        w_name(w, m->u.chat_message.from_nickname);
        w_text(w, m->u.chat_message.text, NETCORE_LOBBY_CHAT_MAX, true, 2);
        break;
    case NCI_LOBBY_MATCH_START: {
        const netcore_lobby_match_start *s = &m->u.match_start;
        w_check(w, s->token_size_bytes >= 1 && s->token_size_bytes <= NETCORE_LOBBY_TOKEN_MAX);
        if (w->invalid)
            break;
        w_u64(w, s->match_id);
        w_address(w, &s->server_address);
        w_u32(w, s->token_lifetime_s);
        w_u32(w, s->connect_proof);
        w_u16(w, s->token_size_bytes);
        w_bytes(w, s->token, s->token_size_bytes);
        /* Version 3: the session keys end the frame; older peers never get them. */
        if (s->has_session_keys) {
            w_bytes(w, s->session_keys.client_to_server, NETCORE_SESSION_KEY_BYTES);
            w_bytes(w, s->session_keys.server_to_client, NETCORE_SESSION_KEY_BYTES);
        }
        break;
    }
    case NCI_LOBBY_MATCH_END:
        w_u64(w, m->u.match_end_id);
        break;
    case NCI_LOBBY_MATCH_ENDED:
        w_u64(w, m->u.match_ended.match_id);
        w_u8(w, m->u.match_ended.reason);
        break;
    case NCI_LOBBY_ROOM_LEFT:
        w_check(w, m->u.room_left.reason <= NETCORE_LOBBY_KICKED);
        w_u32(w, m->u.room_left.room_id);
        w_u8(w, m->u.room_left.reason);
        break;
    case NCI_LOBBY_ERROR:
        w_u16(w, m->u.error.code);
        w_u8(w, m->u.error.request_type);
        w_text(w, m->u.error.text, NETCORE_LOBBY_ERROR_TEXT_MAX, false, 1);
        break;
    case NCI_LOBBY_SERVER_REGISTER:
        w_check(w, m->u.server_register.capacity >= 1);
        w_u32(w, NCI_LOBBY_MAGIC);
        w_u16(w, m->u.server_register.version);
        w_address(w, &m->u.server_register.game_address);
        w_u16(w, m->u.server_register.capacity);
        w_u64(w, m->u.server_register.time_s);
        w_bytes(w, m->u.server_register.mac, NCI_LOBBY_MAC_BYTES);
        break;
    case NCI_LOBBY_SERVER_LOAD:
        w_u16(w, m->u.server_load.players);
        w_u16(w, m->u.server_load.capacity);
        break;
    case NCI_LOBBY_SERVER_MATCH_END:
        w_u64(w, m->u.server_match_end_id);
        break;
    case NCI_LOBBY_SERVER_ACCEPTED:
        w_u64(w, m->u.server_id);
        break;
    case NCI_LOBBY_MATCH_ASSIGNED:
        w_check(w, m->u.match_assigned.count >= 1 &&
                       m->u.match_assigned.count <= NETCORE_LOBBY_MAX_PLAYERS);
        if (w->invalid)
            break;
        w_u64(w, m->u.match_assigned.match_id);
        w_u32(w, m->u.match_assigned.room_id);
        w_u8(w, m->u.match_assigned.count);
        for (uint8_t i = 0; i < m->u.match_assigned.count; i++)
            w_u64(w, m->u.match_assigned.client_ids[i]);
        break;
    default:
        w->invalid = true;
        break;
    }
}

netcore_result nci_lobby_encode(const nci_lobby_msg *msg, uint8_t *buffer, size_t buffer_size,
                                size_t *out_frame_size)
{
    if (!msg || !buffer || !out_frame_size)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (buffer_size < NCI_LOBBY_LENGTH_BYTES)
        return NETCORE_ERR_TOO_LARGE;
    writer w = {buffer, buffer_size, NCI_LOBBY_LENGTH_BYTES, false, false};
    encode_body(&w, msg);
    if (w.invalid)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (w.overflow || w.len - NCI_LOBBY_LENGTH_BYTES > NCI_LOBBY_FRAME_HARD_MAX)
        return NETCORE_ERR_TOO_LARGE;
    size_t body = w.len - NCI_LOBBY_LENGTH_BYTES;
    for (int i = 0; i < 4; i++)
        buffer[i] = (uint8_t)(body >> (8 * i));
    *out_frame_size = w.len;
    return NETCORE_OK;
}

nci_lobby_frame_status nci_lobby_frame_peek(const uint8_t *buffer, size_t available_bytes,
                                            size_t max_body_bytes, size_t *out_body_size)
{
    if (available_bytes < NCI_LOBBY_LENGTH_BYTES)
        return NCI_LOBBY_FRAME_NEED_MORE;
    uint32_t body = (uint32_t)buffer[0] | ((uint32_t)buffer[1] << 8) | ((uint32_t)buffer[2] << 16) |
                    ((uint32_t)buffer[3] << 24);
    if (body == 0)
        return NCI_LOBBY_FRAME_EMPTY;
    if (body > max_body_bytes)
        return NCI_LOBBY_FRAME_TOO_LARGE;
    *out_body_size = body;
    return available_bytes - NCI_LOBBY_LENGTH_BYTES >= body ? NCI_LOBBY_FRAME_READY
                                                            : NCI_LOBBY_FRAME_NEED_MORE;
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */
/* ------------------------------------------------------------------ */

typedef struct reader {
    const uint8_t *p;
    size_t size;
    size_t pos;
    bool fail; /* sticky: truncated or invalid */
} reader;

static const uint8_t *r_take(reader *r, size_t n)
{
    if (r->fail || n > r->size - r->pos) {
        r->fail = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

static uint64_t r_uint(reader *r, size_t n)
{
    const uint8_t *p = r_take(r, n);
    uint64_t v = 0;
    if (p)
        for (size_t i = n; i-- > 0;)
            v = (v << 8) | p[i];
    return v;
}

static uint8_t r_u8(reader *r)
{
    return (uint8_t)r_uint(r, 1);
}
static uint16_t r_u16(reader *r)
{
    return (uint16_t)r_uint(r, 2);
}
static uint32_t r_u32(reader *r)
{
    return (uint32_t)r_uint(r, 4);
}
static uint64_t r_u64(reader *r)
{
    return r_uint(r, 8);
}

static void r_check(reader *r, bool ok)
{
    if (!ok)
        r->fail = true;
}

static void r_bytes(reader *r, void *out, size_t n)
{
    const uint8_t *p = r_take(r, n);
    if (p)
        memcpy(out, p, n);
}

/* out must hold max + 1 bytes; it is always NUL-terminated. */
static void r_text(reader *r, char *out, size_t max, bool nonempty, size_t prefix_bytes)
{
    out[0] = '\0';
    size_t n = (size_t)r_uint(r, prefix_bytes);
    r_check(r, n <= max && (!nonempty || n > 0));
    const uint8_t *p = r_take(r, n);
    if (!p)
        return;
    r_check(r, nci_lobby_text_bytes_valid(p, n));
    memcpy(out, p, n);
    out[n] = '\0';
}

static void r_name(reader *r, char *out)
{
    r_text(r, out, NETCORE_LOBBY_NAME_MAX, true, 1);
    r_check(r, r->fail || nci_lobby_name_valid(out, NETCORE_LOBBY_NAME_MAX));
}

static void r_meta(reader *r, uint8_t *out_count, netcore_lobby_meta *meta)
{
    uint8_t count = r_u8(r);
    r_check(r, count <= NETCORE_LOBBY_META_MAX);
    *out_count = r->fail ? 0 : count;
    for (uint8_t i = 0; i < *out_count; i++) {
        r_text(r, meta[i].key, NETCORE_LOBBY_META_KEY_MAX, true, 1);
        r_text(r, meta[i].value, NETCORE_LOBBY_META_VALUE_MAX, false, 1);
    }
}

static bool r_bool(reader *r)
{
    uint8_t v = r_u8(r);
    r_check(r, v <= 1);
    return v == 1;
}

/* Room flags: bit 0 private, bit 1 password, bit 2 in match; others must be 0. */
static void r_room_flags(reader *r, bool *is_private, bool *has_password, bool *in_match)
{
    uint8_t f = r_u8(r);
    r_check(r, (f & ~7u) == 0);
    *is_private = (f & 1) != 0;
    *has_password = (f & 2) != 0;
    *in_match = (f & 4) != 0;
}

static void decode_room_state(reader *r, netcore_lobby_room_state *s)
{
    s->room_id = r_u32(r);
    r_name(r, s->name);
    s->owner_id = r_u64(r);
    s->max_players = r_u8(r);
    r_room_flags(r, &s->is_private, &s->has_password, &s->in_match);
    s->member_count = r_u8(r);
    r_check(r, s->max_players >= 1 && s->max_players <= NETCORE_LOBBY_MAX_PLAYERS &&
                   s->member_count >= 1 && s->member_count <= s->max_players);
    if (r->fail)
        return;
    bool owner_found = false;
    for (uint8_t i = 0; i < s->member_count; i++) {
        netcore_lobby_member *mb = &s->members[i];
        mb->client_id = r_u64(r);
        r_name(r, mb->nickname);
        uint8_t f = r_u8(r);
        r_check(r, (f & ~3u) == 0);
        mb->ready = (f & 1) != 0;
        mb->connected = (f & 2) != 0;
        owner_found = owner_found || mb->client_id == s->owner_id;
    }
    r_check(r, owner_found);
    r_meta(r, &s->meta_count, s->meta);
}

static void decode_room_list(reader *r, nci_lobby_msg *m)
{
    m->u.room_list.total = r_u16(r);
    m->u.room_list.offset = r_u16(r);
    uint8_t count = r_u8(r);
    r_check(r, count <= NETCORE_LOBBY_LIST_MAX);
    m->u.room_list.count = r->fail ? 0 : count;
    for (uint8_t i = 0; i < m->u.room_list.count; i++) {
        netcore_lobby_room_summary *s = &m->u.room_list.rooms[i];
        s->room_id = r_u32(r);
        r_name(r, s->name);
        s->players = r_u8(r);
        s->max_players = r_u8(r);
        r_check(r, s->max_players >= 1 && s->max_players <= NETCORE_LOBBY_MAX_PLAYERS &&
                       s->players <= s->max_players);
        r_room_flags(r, &s->is_private, &s->has_password, &s->in_match);
        r_meta(r, &s->meta_count, s->meta);
    }
}

static void r_address(reader *r, netcore_address *a)
{
    a->family = r_u8(r);
    r_check(r, family_valid(a->family));
    r_bytes(r, a->bytes, 16);
    a->port = r_u16(r);
}

static void decode_match_start(reader *r, netcore_lobby_match_start *s)
{
    s->match_id = r_u64(r);
    r_address(r, &s->server_address);
    s->token_lifetime_s = r_u32(r);
    s->connect_proof = r_u32(r);
    s->token_size_bytes = r_u16(r);
    r_check(r, s->token_size_bytes >= 1 && s->token_size_bytes <= NETCORE_LOBBY_TOKEN_MAX);
    if (!r->fail)
        r_bytes(r, s->token, s->token_size_bytes);
    /* Version 3: the keys end the frame; a frame of version 2 or less ends
     * with the token. Anything else fails nci_lobby_decode's exact-size check. */
    s->has_session_keys = !r->fail && r->size - r->pos == 2u * NETCORE_SESSION_KEY_BYTES;
    if (s->has_session_keys) {
        r_bytes(r, s->session_keys.client_to_server, NETCORE_SESSION_KEY_BYTES);
        r_bytes(r, s->session_keys.server_to_client, NETCORE_SESSION_KEY_BYTES);
    }
}

static void decode_body(reader *r, nci_lobby_msg *m)
{
    switch (m->type) {
    case NCI_LOBBY_HELLO:
        r_check(r, r_u32(r) == NCI_LOBBY_MAGIC);
        m->u.hello.version = r_u16(r);
        r_name(r, m->u.hello.nickname);
        break;
    case NCI_LOBBY_RECONNECT:
        r_check(r, r_u32(r) == NCI_LOBBY_MAGIC);
        m->u.reconnect.version = r_u16(r);
        r_bytes(r, m->u.reconnect.token, NETCORE_LOBBY_RECONNECT_TOKEN_BYTES);
        break;
    case NCI_LOBBY_LIST_ROOMS: {
        netcore_lobby_room_filter *f = &m->u.list_rooms;
        uint8_t flags = r_u8(r);
        r_check(r, (flags & ~7u) == 0);
        f->hide_full = (flags & 1) != 0;
        f->include_private = (flags & 2) != 0;
        f->hide_in_match = (flags & 4) != 0;
        r_text(r, f->name_contains, NETCORE_LOBBY_NAME_MAX, false, 1);
        r_text(r, f->meta_key, NETCORE_LOBBY_META_KEY_MAX, false, 1);
        r_text(r, f->meta_value, NETCORE_LOBBY_META_VALUE_MAX, false, 1);
        f->offset = r_u16(r);
        f->max_count = r_u8(r);
        r_check(r, f->max_count >= 1 && f->max_count <= NETCORE_LOBBY_LIST_MAX);
        break;
    }
    case NCI_LOBBY_CREATE_ROOM: {
        netcore_lobby_room_params *p = &m->u.create_room;
        r_name(r, p->name);
        p->max_players = r_u8(r);
        r_check(r, p->max_players >= 1 && p->max_players <= NETCORE_LOBBY_MAX_PLAYERS);
        p->is_private = r_bool(r);
        r_text(r, p->password, NETCORE_LOBBY_PASSWORD_MAX, false, 1);
        r_meta(r, &p->meta_count, p->meta);
        break;
    }
    case NCI_LOBBY_JOIN_ROOM:
        m->u.join_room.room_id = r_u32(r);
        r_text(r, m->u.join_room.password, NETCORE_LOBBY_PASSWORD_MAX, false, 1);
        break;
    case NCI_LOBBY_CHAT:
        m->u.chat.scope = r_u8(r);
        r_check(r, m->u.chat.scope <= NETCORE_LOBBY_CHAT_LOBBY);
        r_text(r, m->u.chat.text, NETCORE_LOBBY_CHAT_MAX, true, 2);
        break;
    case NCI_LOBBY_SET_READY:
        m->u.ready = r_bool(r);
        break;
    case NCI_LOBBY_KICK:
        m->u.kick_client_id = r_u64(r);
        break;
    case NCI_LOBBY_PING:
    case NCI_LOBBY_PONG:
        m->u.ping_value = r_u64(r);
        break;
    case NCI_LOBBY_LEAVE_ROOM:
    case NCI_LOBBY_START_MATCH:
    case NCI_LOBBY_END_MATCH:
    case NCI_LOBBY_GOODBYE:
        break;
    case NCI_LOBBY_WELCOME:
        m->u.welcome.version = r_u16(r);
        m->u.welcome.client_id = r_u64(r);
        r_bytes(r, m->u.welcome.reconnect_token, NETCORE_LOBBY_RECONNECT_TOKEN_BYTES);
        m->u.welcome.reconnect_grace_s = r_u32(r);
        r_name(r, m->u.welcome.nickname);
        m->u.welcome.resumed = r_bool(r);
        break;
    case NCI_LOBBY_ROOM_LIST:
        decode_room_list(r, m);
        break;
    case NCI_LOBBY_ROOM_STATE:
        decode_room_state(r, &m->u.room_state);
        break;
    case NCI_LOBBY_CHAT_MESSAGE:
        m->u.chat_message.scope = r_u8(r);
        r_check(r, m->u.chat_message.scope <= NETCORE_LOBBY_CHAT_LOBBY);
        m->u.chat_message.from_id = r_u64(r);
        r_name(r, m->u.chat_message.from_nickname);
        r_text(r, m->u.chat_message.text, NETCORE_LOBBY_CHAT_MAX, true, 2);
        break;
    case NCI_LOBBY_MATCH_START:
        decode_match_start(r, &m->u.match_start);
        break;
    case NCI_LOBBY_MATCH_END:
        m->u.match_end_id = r_u64(r);
        break;
    case NCI_LOBBY_MATCH_ENDED:
        /* Every reason byte is accepted: later versions may add reasons, and
         * a client reads one it does not know as a plain end. */
        m->u.match_ended.match_id = r_u64(r);
        m->u.match_ended.reason = r_u8(r);
        break;
    case NCI_LOBBY_ROOM_LEFT:
        m->u.room_left.room_id = r_u32(r);
        m->u.room_left.reason = r_u8(r);
        r_check(r, m->u.room_left.reason <= NETCORE_LOBBY_KICKED);
        break;
    case NCI_LOBBY_ERROR:
        m->u.error.code = r_u16(r);
        m->u.error.request_type = r_u8(r);
        r_text(r, m->u.error.text, NETCORE_LOBBY_ERROR_TEXT_MAX, false, 1);
        break;
    case NCI_LOBBY_SERVER_REGISTER:
        r_check(r, r_u32(r) == NCI_LOBBY_MAGIC);
        m->u.server_register.version = r_u16(r);
        r_address(r, &m->u.server_register.game_address);
        m->u.server_register.capacity = r_u16(r);
        r_check(r, m->u.server_register.capacity >= 1);
        m->u.server_register.time_s = r_u64(r);
        r_bytes(r, m->u.server_register.mac, NCI_LOBBY_MAC_BYTES);
        break;
    case NCI_LOBBY_SERVER_LOAD:
        m->u.server_load.players = r_u16(r);
        m->u.server_load.capacity = r_u16(r);
        break;
    case NCI_LOBBY_SERVER_MATCH_END:
        m->u.server_match_end_id = r_u64(r);
        break;
    case NCI_LOBBY_SERVER_ACCEPTED:
        m->u.server_id = r_u64(r);
        break;
    case NCI_LOBBY_MATCH_ASSIGNED:
        m->u.match_assigned.match_id = r_u64(r);
        m->u.match_assigned.room_id = r_u32(r);
        m->u.match_assigned.count = r_u8(r);
        r_check(r, m->u.match_assigned.count >= 1 &&
                       m->u.match_assigned.count <= NETCORE_LOBBY_MAX_PLAYERS);
        for (uint8_t i = 0; !r->fail && i < m->u.match_assigned.count; i++)
            m->u.match_assigned.client_ids[i] = r_u64(r);
        break;
    default:
        r->fail = true;
        break;
    }
}

netcore_result nci_lobby_decode(const uint8_t *body, size_t body_size, nci_lobby_msg *out_msg)
{
    if (!body || !out_msg || body_size == 0)
        return NETCORE_ERR_MALFORMED;
    reader r = {body, body_size, 0, false};
    /* Only the header is cleared: the union is up to ~12 KiB and decode_body
     * writes every field it reports, so zeroing it per frame would be waste. */
    out_msg->type = r_u8(&r);
    decode_body(&r, out_msg);
    if (r.fail || r.pos != r.size)
        return NETCORE_ERR_MALFORMED;
    return NETCORE_OK;
}

void nci_lobby_register_mac(const uint8_t key[NETCORE_TOKEN_KEY_BYTES], const uint8_t *body,
                            size_t size_before_mac, uint8_t out_mac[NCI_LOBBY_MAC_BYTES])
{
    static const char domain[] = "netcore game server registration v1";
    crypto_generichash_state state;
    crypto_generichash_init(&state, key, NETCORE_TOKEN_KEY_BYTES, NCI_LOBBY_MAC_BYTES);
    crypto_generichash_update(&state, (const uint8_t *)domain, sizeof domain);
    crypto_generichash_update(&state, body, size_before_mac);
    crypto_generichash_final(&state, out_mac, NCI_LOBBY_MAC_BYTES);
}

const char *netcore_lobby_error_str(uint16_t code)
{
    switch ((netcore_lobby_error)code) {
    case NETCORE_LOBBY_ERR_NONE:
        return "no error";
    case NETCORE_LOBBY_ERR_VERSION:
        return "unsupported protocol version";
    case NETCORE_LOBBY_ERR_MALFORMED:
        return "malformed frame";
    case NETCORE_LOBBY_ERR_FRAME_TOO_LARGE:
        return "frame too large";
    case NETCORE_LOBBY_ERR_STATE:
        return "not valid now";
    case NETCORE_LOBBY_ERR_RATE_LIMITED:
        return "rate limited";
    case NETCORE_LOBBY_ERR_TIMEOUT:
        return "timeout";
    case NETCORE_LOBBY_ERR_SERVER_FULL:
        return "server full";
    case NETCORE_LOBBY_ERR_NO_SUCH_ROOM:
        return "no such room";
    case NETCORE_LOBBY_ERR_ROOM_FULL:
        return "room full";
    case NETCORE_LOBBY_ERR_BAD_PASSWORD:
        return "wrong password";
    case NETCORE_LOBBY_ERR_NOT_IN_ROOM:
        return "not in a room";
    case NETCORE_LOBBY_ERR_ALREADY_IN_ROOM:
        return "already in a room";
    case NETCORE_LOBBY_ERR_NOT_OWNER:
        return "not the room owner";
    case NETCORE_LOBBY_ERR_NOT_READY:
        return "not everyone is ready";
    case NETCORE_LOBBY_ERR_IN_MATCH:
        return "room is in a match";
    case NETCORE_LOBBY_ERR_TOO_MANY_ROOMS:
        return "too many rooms";
    case NETCORE_LOBBY_ERR_NO_SUCH_CLIENT:
        return "no such client";
    case NETCORE_LOBBY_ERR_RECONNECT_FAILED:
        return "reconnect failed";
    case NETCORE_LOBBY_ERR_INTERNAL:
        return "internal error";
    case NETCORE_LOBBY_ERR_NO_GAME_SERVER:
        return "no game server available";
    case NETCORE_LOBBY_ERR_AUTH:
        return "registration refused";
    case NETCORE_LOBBY_ERR_SLOW_READER:
        return "not reading fast enough";
    case NETCORE_LOBBY_ERR_TLS_REQUIRED:
        return "this lobby speaks TLS only";
    case NETCORE_LOBBY_ERR_TLS_FAILED:
        return "TLS handshake or certificate refused";
    }
    return "unknown error";
}
