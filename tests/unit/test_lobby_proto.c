/* Lobby wire protocol: round trips of every message, strict rejection of
 * truncated, padded and invalid frames, frame peeking. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "lobby/lobby_internal.h"

static const uint8_t all_types[] = {NCI_LOBBY_HELLO,
                                    NCI_LOBBY_RECONNECT,
                                    NCI_LOBBY_LIST_ROOMS,
                                    NCI_LOBBY_CREATE_ROOM,
                                    NCI_LOBBY_JOIN_ROOM,
                                    NCI_LOBBY_LEAVE_ROOM,
                                    NCI_LOBBY_CHAT,
                                    NCI_LOBBY_SET_READY,
                                    NCI_LOBBY_KICK,
                                    NCI_LOBBY_START_MATCH,
                                    NCI_LOBBY_END_MATCH,
                                    NCI_LOBBY_PING,
                                    NCI_LOBBY_GOODBYE,
                                    NCI_LOBBY_WELCOME,
                                    NCI_LOBBY_ROOM_LIST,
                                    NCI_LOBBY_ROOM_STATE,
                                    NCI_LOBBY_CHAT_MESSAGE,
                                    NCI_LOBBY_MATCH_START,
                                    NCI_LOBBY_MATCH_END,
                                    NCI_LOBBY_ROOM_LEFT,
                                    NCI_LOBBY_PONG,
                                    NCI_LOBBY_ERROR,
                                    NCI_LOBBY_SERVER_REGISTER,
                                    NCI_LOBBY_SERVER_LOAD,
                                    NCI_LOBBY_SERVER_MATCH_END,
                                    NCI_LOBBY_SERVER_ACCEPTED,
                                    NCI_LOBBY_MATCH_ASSIGNED};
#define TYPE_COUNT (sizeof all_types / sizeof all_types[0])

static void set_meta(netcore_lobby_meta *meta, const char *key, const char *value)
{
    strcpy(meta->key, key);
    strcpy(meta->value, value);
}

/* A message of the given type with every field set to something non-trivial. */
static void sample(uint8_t type, nci_lobby_msg *m)
{
    memset(m, 0, sizeof *m);
    m->type = type;
    switch (type) {
    case NCI_LOBBY_HELLO:
        m->u.hello.version = 1;
        strcpy(m->u.hello.nickname, "Zoë");
        break;
    case NCI_LOBBY_RECONNECT:
        m->u.reconnect.version = 1;
        for (int i = 0; i < NETCORE_LOBBY_RECONNECT_TOKEN_BYTES; i++)
            m->u.reconnect.token[i] = (uint8_t)(i * 7);
        break;
    case NCI_LOBBY_LIST_ROOMS:
        strcpy(m->u.list_rooms.name_contains, "duel");
        strcpy(m->u.list_rooms.meta_key, "map");
        strcpy(m->u.list_rooms.meta_value, "docks");
        m->u.list_rooms.hide_full = true;
        m->u.list_rooms.hide_in_match = true;
        m->u.list_rooms.offset = 300;
        m->u.list_rooms.max_count = 16;
        break;
    case NCI_LOBBY_CREATE_ROOM:
        strcpy(m->u.create_room.name, "friday duel");
        m->u.create_room.max_players = 8;
        m->u.create_room.is_private = true;
        strcpy(m->u.create_room.password, "hunter2");
        m->u.create_room.meta_count = 2;
        set_meta(&m->u.create_room.meta[0], "map", "docks");
        set_meta(&m->u.create_room.meta[1], "mode", "");
        break;
    case NCI_LOBBY_JOIN_ROOM:
        m->u.join_room.room_id = 0xdeadbeef;
        strcpy(m->u.join_room.password, "pw");
        break;
    case NCI_LOBBY_CHAT:
        m->u.chat.scope = NETCORE_LOBBY_CHAT_LOBBY;
        memset(m->u.chat.text, 'x', NETCORE_LOBBY_CHAT_MAX);
        break;
    case NCI_LOBBY_SET_READY:
        m->u.ready = true;
        break;
    case NCI_LOBBY_KICK:
        m->u.kick_client_id = 0x0102030405060708ull;
        break;
    case NCI_LOBBY_PING:
    case NCI_LOBBY_PONG:
        m->u.ping_value = 0xfedcba9876543210ull;
        break;
    case NCI_LOBBY_WELCOME:
        m->u.welcome.version = 1;
        m->u.welcome.client_id = 99;
        memset(m->u.welcome.reconnect_token, 0xab, NETCORE_LOBBY_RECONNECT_TOKEN_BYTES);
        m->u.welcome.reconnect_grace_s = 30;
        strcpy(m->u.welcome.nickname, "ana");
        m->u.welcome.resumed = true;
        break;
    case NCI_LOBBY_ROOM_LIST:
        m->u.room_list.total = 40;
        m->u.room_list.offset = 16;
        m->u.room_list.count = NETCORE_LOBBY_LIST_MAX;
        for (int i = 0; i < NETCORE_LOBBY_LIST_MAX; i++) {
            netcore_lobby_room_summary *r = &m->u.room_list.rooms[i];
            r->room_id = (uint32_t)(1000 + i);
            snprintf(r->name, sizeof r->name, "room %d", i);
            r->players = (uint8_t)(i % 4);
            r->max_players = 4;
            r->has_password = i % 2 == 0;
            r->in_match = i % 3 == 0;
            r->meta_count = NETCORE_LOBBY_META_MAX;
            for (int k = 0; k < NETCORE_LOBBY_META_MAX; k++) {
                snprintf(r->meta[k].key, sizeof r->meta[k].key, "k%d", k);
                memset(r->meta[k].value, 'v', NETCORE_LOBBY_META_VALUE_MAX);
            }
        }
        break;
    case NCI_LOBBY_ROOM_STATE: {
        netcore_lobby_room_state *s = &m->u.room_state;
        s->room_id = 7;
        strcpy(s->name, "lobby 7");
        s->max_players = NETCORE_LOBBY_MAX_PLAYERS;
        s->member_count = NETCORE_LOBBY_MAX_PLAYERS;
        for (int i = 0; i < NETCORE_LOBBY_MAX_PLAYERS; i++) {
            s->members[i].client_id = (uint64_t)(500 + i);
            snprintf(s->members[i].nickname, sizeof s->members[i].nickname, "player%d", i);
            s->members[i].ready = i % 2 == 1;
            s->members[i].connected = i != 3;
        }
        s->owner_id = 505;
        s->is_private = true;
        s->meta_count = 1;
        set_meta(&s->meta[0], "map", "yard");
        break;
    }
    case NCI_LOBBY_CHAT_MESSAGE:
        m->u.chat_message.scope = NETCORE_LOBBY_CHAT_ROOM;
        m->u.chat_message.from_id = 77;
        strcpy(m->u.chat_message.from_nickname, "bob");
        strcpy(m->u.chat_message.text, "gl hf ✓");
        break;
    case NCI_LOBBY_MATCH_START:
        m->u.match_start.match_id = 123456789;
        cr_assert_eq(netcore_address_parse("[::1]:7778", 0, &m->u.match_start.server_address),
                     NETCORE_OK);
        m->u.match_start.token_lifetime_s = 30;
        m->u.match_start.connect_proof = 0xcafef00d;
        m->u.match_start.token_size_bytes = NETCORE_TOKEN_BYTES;
        for (int i = 0; i < NETCORE_TOKEN_BYTES; i++)
            m->u.match_start.token[i] = (uint8_t)i;
        m->u.match_start.has_session_keys = true;
        memset(m->u.match_start.session_keys.client_to_server, 0xc5, NETCORE_SESSION_KEY_BYTES);
        memset(m->u.match_start.session_keys.server_to_client, 0x5c, NETCORE_SESSION_KEY_BYTES);
        break;
    case NCI_LOBBY_MATCH_END:
        m->u.match_end_id = 123456789;
        break;
    case NCI_LOBBY_ROOM_LEFT:
        m->u.room_left.room_id = 7;
        m->u.room_left.reason = NETCORE_LOBBY_KICKED;
        break;
    case NCI_LOBBY_ERROR:
        m->u.error.code = NETCORE_LOBBY_ERR_ROOM_FULL;
        m->u.error.request_type = NCI_LOBBY_JOIN_ROOM;
        strcpy(m->u.error.text, "room full");
        break;
    case NCI_LOBBY_SERVER_REGISTER:
        m->u.server_register.version = 1;
        m->u.server_register.game_address = netcore_address_ipv4(192, 0, 2, 1, 7778);
        m->u.server_register.capacity = 64;
        m->u.server_register.time_s = 1700000000;
        memset(m->u.server_register.mac, 0x3c, NCI_LOBBY_MAC_BYTES);
        break;
    case NCI_LOBBY_SERVER_LOAD:
        m->u.server_load.players = 12;
        m->u.server_load.capacity = 64;
        break;
    case NCI_LOBBY_SERVER_MATCH_END:
        m->u.server_match_end_id = 99;
        break;
    case NCI_LOBBY_SERVER_ACCEPTED:
        m->u.server_id = 0x55aa;
        break;
    case NCI_LOBBY_MATCH_ASSIGNED:
        m->u.match_assigned.match_id = 5;
        m->u.match_assigned.room_id = 6;
        m->u.match_assigned.count = 3;
        for (int i = 0; i < 3; i++)
            m->u.match_assigned.client_ids[i] = (uint64_t)(100 + i);
        break;
    default:
        break;
    }
}

static uint8_t frame[64 * 1024];

static size_t encode_ok(const nci_lobby_msg *m)
{
    size_t size = 0;
    cr_assert_eq(nci_lobby_encode(m, frame, sizeof frame, &size), NETCORE_OK, "type 0x%02x",
                 m->type);
    return size;
}

Test(lobby_proto, every_message_round_trips_byte_exactly)
{
    static nci_lobby_msg in, out;
    static uint8_t copy[64 * 1024];
    for (size_t t = 0; t < TYPE_COUNT; t++) {
        sample(all_types[t], &in);
        size_t size = encode_ok(&in);
        size_t body = 0;
        cr_assert_eq(nci_lobby_frame_peek(frame, size, NCI_LOBBY_FRAME_HARD_MAX, &body),
                     NCI_LOBBY_FRAME_READY);
        cr_assert_eq(body + NCI_LOBBY_LENGTH_BYTES, size);
        memset(&out, 0, sizeof out);
        cr_assert_eq(nci_lobby_decode(frame + 4, body, &out), NETCORE_OK, "type 0x%02x",
                     all_types[t]);
        cr_assert_eq(out.type, all_types[t]);
        /* Re-encoding the decoded message gives the same bytes. */
        memcpy(copy, frame, size);
        size_t size2 = 0;
        cr_assert_eq(nci_lobby_encode(&out, frame, sizeof frame, &size2), NETCORE_OK);
        cr_assert_eq(size2, size);
        cr_assert_eq(memcmp(copy, frame, size), 0, "type 0x%02x", all_types[t]);
    }
}

Test(lobby_proto, decoded_fields_match)
{
    static nci_lobby_msg in, out;
    sample(NCI_LOBBY_ROOM_STATE, &in);
    size_t size = encode_ok(&in);
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_OK);
    cr_assert_eq(out.u.room_state.owner_id, 505);
    cr_assert_eq(out.u.room_state.member_count, NETCORE_LOBBY_MAX_PLAYERS);
    cr_assert_str_eq(out.u.room_state.members[31].nickname, "player31");
    cr_assert(out.u.room_state.members[1].ready);
    cr_assert_not(out.u.room_state.members[3].connected);
    cr_assert_str_eq(out.u.room_state.meta[0].value, "yard");

    sample(NCI_LOBBY_MATCH_START, &in);
    size = encode_ok(&in);
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_OK);
    cr_assert(
        netcore_address_equal(&out.u.match_start.server_address, &in.u.match_start.server_address));
    cr_assert_eq(out.u.match_start.connect_proof, 0xcafef00d);
    cr_assert_eq(memcmp(out.u.match_start.token, in.u.match_start.token, NETCORE_TOKEN_BYTES), 0);
    /* Version 3: the session keys end the frame. */
    cr_assert(out.u.match_start.has_session_keys);
    cr_assert_eq(memcmp(&out.u.match_start.session_keys, &in.u.match_start.session_keys,
                        sizeof out.u.match_start.session_keys),
                 0);
    /* One key byte short is neither a version-3 nor an older frame. */
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 5, &out), NETCORE_ERR_MALFORMED);
    /* Without keys (what a connection of version 2 or less gets): 64 bytes
     * shorter, and decoded as such. */
    in.u.match_start.has_session_keys = false;
    size_t keyless = encode_ok(&in);
    cr_assert_eq(keyless, size - 2 * NETCORE_SESSION_KEY_BYTES);
    cr_assert_eq(nci_lobby_decode(frame + 4, keyless - 4, &out), NETCORE_OK);
    cr_assert_not(out.u.match_start.has_session_keys);

    sample(NCI_LOBBY_HELLO, &in);
    size = encode_ok(&in);
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_OK);
    cr_assert_str_eq(out.u.hello.nickname, "Zoë");
}

Test(lobby_proto, every_truncation_and_any_trailing_byte_is_malformed)
{
    static nci_lobby_msg in, out;
    for (size_t t = 0; t < TYPE_COUNT; t++) {
        sample(all_types[t], &in);
        size_t size = encode_ok(&in);
        size_t body = size - 4;
        for (size_t cut = 0; cut < body; cut++) {
            /* A version-3 MATCH_START without its keys is the frame of
             * version 2, which older clients are sent: the one valid prefix. */
            bool older_frame = all_types[t] == NCI_LOBBY_MATCH_START &&
                               cut == body - 2u * NETCORE_SESSION_KEY_BYTES;
            cr_assert_eq(nci_lobby_decode(frame + 4, cut, &out),
                         older_frame ? NETCORE_OK : NETCORE_ERR_MALFORMED, "type 0x%02x cut %zu",
                         all_types[t], cut);
        }
        frame[size] = 0;
        cr_assert_eq(nci_lobby_decode(frame + 4, body + 1, &out), NETCORE_ERR_MALFORMED);
    }
}

Test(lobby_proto, unknown_types_are_malformed)
{
    nci_lobby_msg out;
    for (int type = 0; type < 256; type++) {
        bool known = false;
        for (size_t t = 0; t < TYPE_COUNT; t++)
            known = known || all_types[t] == type;
        if (known)
            continue;
        uint8_t body[16] = {(uint8_t)type};
        cr_assert_eq(nci_lobby_decode(body, 1, &out), NETCORE_ERR_MALFORMED);
        cr_assert_eq(nci_lobby_decode(body, sizeof body, &out), NETCORE_ERR_MALFORMED);
    }
}

/* Frame body of a CHAT message carrying raw text bytes. */
static size_t chat_body(uint8_t *body, const uint8_t *text, size_t n)
{
    body[0] = NCI_LOBBY_CHAT;
    body[1] = 0;
    body[2] = (uint8_t)n;
    body[3] = (uint8_t)(n >> 8);
    memcpy(body + 4, text, n);
    return 4 + n;
}

Test(lobby_proto, invalid_text_is_malformed)
{
    static const struct {
        const char *bytes;
        size_t n;
    } bad[] = {
        {"a\nb", 3},             /* control byte */
        {"a\0b", 3},             /* NUL */
        {"\x7f", 1},             /* DEL */
        {"\xc0\xaf", 2},         /* overlong */
        {"\xed\xa0\x80", 3},     /* surrogate */
        {"\xf4\x90\x80\x80", 4}, /* above U+10FFFF */
        {"\xe2\x82", 2},         /* truncated sequence */
        {"\x80", 1},             /* stray continuation */
        {"\xff", 1},
    };
    nci_lobby_msg out;
    uint8_t body[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = chat_body(body, (const uint8_t *)bad[i].bytes, bad[i].n);
        cr_assert_eq(nci_lobby_decode(body, n, &out), NETCORE_ERR_MALFORMED, "case %zu", i);
    }
    size_t n = chat_body(body, (const uint8_t *)"\xe2\x82\xac ok", 6);
    cr_assert_eq(nci_lobby_decode(body, n, &out), NETCORE_OK);
    /* empty chat text is refused */
    n = chat_body(body, (const uint8_t *)"", 0);
    cr_assert_eq(nci_lobby_decode(body, n, &out), NETCORE_ERR_MALFORMED);
    /* chat text above the limit is refused even if the frame holds it */
    static uint8_t big[4 + NETCORE_LOBBY_CHAT_MAX + 1];
    static uint8_t letters[NETCORE_LOBBY_CHAT_MAX + 1];
    memset(letters, 'a', sizeof letters);
    n = chat_body(big, letters, sizeof letters);
    cr_assert_eq(nci_lobby_decode(big, n, &out), NETCORE_ERR_MALFORMED);
}

Test(lobby_proto, field_ranges_are_checked)
{
    static nci_lobby_msg in, out;
    /* bad magic */
    sample(NCI_LOBBY_HELLO, &in);
    size_t size = encode_ok(&in);
    frame[5] ^= 1;
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_ERR_MALFORMED);
    /* ready must be 0 or 1 */
    uint8_t ready[] = {NCI_LOBBY_SET_READY, 2};
    cr_assert_eq(nci_lobby_decode(ready, sizeof ready, &out), NETCORE_ERR_MALFORMED);
    /* chat scope 2 */
    uint8_t chat[] = {NCI_LOBBY_CHAT, 2, 1, 0, 'a'};
    cr_assert_eq(nci_lobby_decode(chat, sizeof chat, &out), NETCORE_ERR_MALFORMED);
    /* room with 0 or 33 max players */
    sample(NCI_LOBBY_CREATE_ROOM, &in);
    size = encode_ok(&in);
    size_t max_players_at = 4 + 1 + 1 + strlen(in.u.create_room.name);
    cr_assert_eq(frame[max_players_at], 8);
    frame[max_players_at] = 0;
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_ERR_MALFORMED);
    frame[max_players_at] = NETCORE_LOBBY_MAX_PLAYERS + 1;
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_ERR_MALFORMED);
    /* room state whose owner is not a member */
    sample(NCI_LOBBY_ROOM_STATE, &in);
    in.u.room_state.owner_id = 1;
    size_t ignored;
    cr_assert_eq(nci_lobby_encode(&in, frame, sizeof frame, &ignored),
                 NETCORE_ERR_INVALID_ARGUMENT);
    sample(NCI_LOBBY_ROOM_STATE, &in);
    size = encode_ok(&in);
    size_t owner_at = 4 + 1 + 4 + 1 + strlen(in.u.room_state.name);
    frame[owner_at] ^= 0x40;
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_ERR_MALFORMED);
    /* match start with an unknown address family */
    sample(NCI_LOBBY_MATCH_START, &in);
    size = encode_ok(&in);
    frame[4 + 1 + 8] = 5;
    cr_assert_eq(nci_lobby_decode(frame + 4, size - 4, &out), NETCORE_ERR_MALFORMED);
}

Test(lobby_proto, encoder_refuses_fields_outside_limits)
{
    static nci_lobby_msg m;
    size_t size;
    sample(NCI_LOBBY_HELLO, &m);
    m.u.hello.nickname[0] = '\0';
    cr_assert_eq(nci_lobby_encode(&m, frame, sizeof frame, &size), NETCORE_ERR_INVALID_ARGUMENT);
    sample(NCI_LOBBY_HELLO, &m);
    m.u.hello.nickname[1] = '\t';
    cr_assert_eq(nci_lobby_encode(&m, frame, sizeof frame, &size), NETCORE_ERR_INVALID_ARGUMENT);
    sample(NCI_LOBBY_CREATE_ROOM, &m);
    m.u.create_room.meta_count = NETCORE_LOBBY_META_MAX + 1;
    cr_assert_eq(nci_lobby_encode(&m, frame, sizeof frame, &size), NETCORE_ERR_INVALID_ARGUMENT);
    sample(NCI_LOBBY_LIST_ROOMS, &m);
    m.u.list_rooms.max_count = 0;
    cr_assert_eq(nci_lobby_encode(&m, frame, sizeof frame, &size), NETCORE_ERR_INVALID_ARGUMENT);
    sample(NCI_LOBBY_MATCH_START, &m);
    m.u.match_start.token_size_bytes = NETCORE_LOBBY_TOKEN_MAX + 1;
    cr_assert_eq(nci_lobby_encode(&m, frame, sizeof frame, &size), NETCORE_ERR_INVALID_ARGUMENT);
    m.type = 0x55;
    cr_assert_eq(nci_lobby_encode(&m, frame, sizeof frame, &size), NETCORE_ERR_INVALID_ARGUMENT);
    sample(NCI_LOBBY_ROOM_LIST, &m);
    cr_assert_eq(nci_lobby_encode(&m, frame, 100, &size), NETCORE_ERR_TOO_LARGE);
}

Test(lobby_proto, frame_peek_statuses)
{
    uint8_t buf[8] = {0};
    size_t body = 0;
    cr_assert_eq(nci_lobby_frame_peek(buf, 3, 100, &body), NCI_LOBBY_FRAME_NEED_MORE);
    cr_assert_eq(nci_lobby_frame_peek(buf, 4, 100, &body), NCI_LOBBY_FRAME_EMPTY);
    buf[0] = 3;
    cr_assert_eq(nci_lobby_frame_peek(buf, 6, 100, &body), NCI_LOBBY_FRAME_NEED_MORE);
    cr_assert_eq(nci_lobby_frame_peek(buf, 7, 100, &body), NCI_LOBBY_FRAME_READY);
    cr_assert_eq(body, 3);
    buf[0] = 101;
    cr_assert_eq(nci_lobby_frame_peek(buf, 4, 100, &body), NCI_LOBBY_FRAME_TOO_LARGE);
    memset(buf, 0xff, 4);
    cr_assert_eq(nci_lobby_frame_peek(buf, 4, NCI_LOBBY_FRAME_HARD_MAX, &body),
                 NCI_LOBBY_FRAME_TOO_LARGE);
}

Test(lobby_proto, random_bodies_never_crash)
{
    static nci_lobby_msg out;
    static uint8_t body[512];
    nci_rng rng;
    nci_rng_seed(&rng, 12345);
    for (int i = 0; i < 20000; i++) {
        size_t n = 1 + nci_rng_below(&rng, sizeof body);
        for (size_t k = 0; k < n; k++)
            body[k] = (uint8_t)nci_rng_next(&rng);
        body[0] = all_types[nci_rng_below(&rng, TYPE_COUNT)];
        netcore_result r = nci_lobby_decode(body, n, &out);
        cr_assert(r == NETCORE_OK || r == NETCORE_ERR_MALFORMED);
    }
}

Test(lobby_proto, text_validation_helper)
{
    cr_assert(nci_lobby_text_valid("abc", 3, true));
    cr_assert_not(nci_lobby_text_valid("abcd", 3, true));
    cr_assert_not(nci_lobby_text_valid("", 3, true));
    cr_assert(nci_lobby_text_valid("", 3, false));
    cr_assert_not(nci_lobby_text_valid(NULL, 3, false));
    cr_assert_not(nci_lobby_text_valid("a\x1b", 3, false));
}

/* A HELLO body carrying these nickname bytes. */
static size_t hello_body(uint8_t *body, const char *name, size_t n)
{
    const uint8_t head[] = {0x01, 0x4e, 0x43, 0x4c, 0x42, NETCORE_LOBBY_PROTOCOL_VERSION, 0};
    memcpy(body, head, sizeof head);
    body[sizeof head] = (uint8_t)n;
    memcpy(body + sizeof head + 1, name, n);
    return sizeof head + 1 + n;
}

Test(lobby_proto, nicknames_that_could_pass_for_another_player_are_refused)
{
    static const char *const bad[] = {
        "\xe2\x80\xae"
        "evil",                                 /* U+202E right-to-left override */
        "bob\xe2\x81\xa6",                      /* U+2066 left-to-right isolate */
        "b\xe2\x80\x8bob",                      /* U+200B zero-width space inside */
        "\xe2\x80\x8b\xe2\x80\x8c\xe2\x80\x8d", /* only zero-width characters */
        "\xef\xbb\xbf"
        "bob", /* U+FEFF byte order mark */
        "bo\xc2\xad"
        "b",                     /* U+00AD soft hyphen (Cf) */
        "bob\xc2\x85",           /* U+0085 next line (C1 control) */
        "bob\xef\xbf\xbf",       /* U+FFFF noncharacter */
        "bob\xef\xb7\x90",       /* U+FDD0 noncharacter */
        "bob\xf0\x9f\xbf\xbe",   /* U+1FFFE noncharacter */
        "   ",                   /* spaces only */
        "\xe3\x85\xa4",          /* U+3164 Hangul filler only */
        "\xe2\xa0\x80 \xcc\x81", /* braille blank, space, combining acute */
        "a\xe2\x80\xa8"
        "b", /* U+2028 line separator */
        "\xf3\xa0\x80\x81"
        "bob", /* U+E0001 language tag */
    };
    nci_lobby_msg out;
    uint8_t body[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_not(nci_lobby_name_valid(bad[i], NETCORE_LOBBY_NAME_MAX), "case %zu", i);
        size_t n = hello_body(body, bad[i], strlen(bad[i]));
        cr_assert_eq(nci_lobby_decode(body, n, &out), NETCORE_ERR_MALFORMED, "case %zu", i);
        /* Nor does the encoder write one. */
        nci_lobby_msg m;
        memset(&m, 0, sizeof m);
        m.type = NCI_LOBBY_HELLO;
        m.u.hello.version = NETCORE_LOBBY_PROTOCOL_VERSION;
        snprintf(m.u.hello.nickname, sizeof m.u.hello.nickname, "%s", bad[i]);
        size_t size = 0;
        cr_assert_eq(nci_lobby_encode(&m, body, sizeof body, &size), NETCORE_ERR_INVALID_ARGUMENT,
                     "case %zu", i);
    }
    static const char *const good[] = {
        "bob", "Zoë", "プレイヤー", "a b", "مرحبا", "e\xcc\x81", "\xf0\x9f\x8e\xae gamer",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        cr_assert(nci_lobby_name_valid(good[i], NETCORE_LOBBY_NAME_MAX), "good case %zu", i);
        size_t n = hello_body(body, good[i], strlen(good[i]));
        cr_assert_eq(nci_lobby_decode(body, n, &out), NETCORE_OK, "good case %zu", i);
        cr_assert_str_eq(out.u.hello.nickname, good[i]);
    }
}

Test(lobby_proto, chat_refuses_c1_controls_and_noncharacters_but_keeps_bidi_text)
{
    nci_lobby_msg out;
    uint8_t body[64];
    size_t n = chat_body(body,
                         (const uint8_t *)"a\xc2\x85"
                                          "b",
                         4);
    cr_assert_eq(nci_lobby_decode(body, n, &out), NETCORE_ERR_MALFORMED);
    n = chat_body(body, (const uint8_t *)"a\xef\xbf\xbe", 4);
    cr_assert_eq(nci_lobby_decode(body, n, &out), NETCORE_ERR_MALFORMED);
    /* Right-to-left scripts (and their marks) are ordinary chat. */
    n = chat_body(body, (const uint8_t *)"\xe2\x80\x8f\xd8\xb3", 5);
    cr_assert_eq(nci_lobby_decode(body, n, &out), NETCORE_OK);
}

/* A MATCH_START becomes connect options that point into it, and a game
 * server registered without a public address is reached on the lobby's host. */
Test(lobby_proto, a_match_start_becomes_connect_options)
{
    netcore_lobby_match_start m;
    memset(&m, 0, sizeof m);
    m.server_address = netcore_address_ipv4(0, 0, 0, 0, 7778);
    m.connect_proof = 0xabcdef01u;
    m.token_size_bytes = 40;
    memset(m.token, 9, m.token_size_bytes);
    m.has_session_keys = true;
    netcore_address lobby = netcore_address_ipv4(192, 168, 1, 20, 7777), to;
    netcore_connect_options opt;
    cr_assert_eq(netcore_lobby_match_connect_options(&m, &lobby, &to, &opt), NETCORE_OK);
    netcore_address want = netcore_address_ipv4(192, 168, 1, 20, 7778);
    cr_assert(netcore_address_equal(&to, &want));
    cr_assert_eq(opt.token, m.token);
    cr_assert_eq(opt.token_size_bytes, 40);
    cr_assert_eq(opt.connect_data, 0xabcdef01u);
    cr_assert_eq(opt.session_keys, &m.session_keys);

    /* A server with an address keeps it; no keys, none passed on. */
    m.server_address = netcore_address_ipv4(10, 1, 2, 3, 9000);
    m.has_session_keys = false;
    cr_assert_eq(netcore_lobby_match_connect_options(&m, &lobby, &to, &opt), NETCORE_OK);
    cr_assert(netcore_address_equal(&to, &m.server_address));
    cr_assert_null(opt.session_keys);
    m.server_address = netcore_address_ipv4(0, 0, 0, 0, 9000);
    cr_assert_eq(netcore_lobby_match_connect_options(&m, NULL, &to, &opt), NETCORE_OK);
    cr_assert(netcore_address_equal(&to, &m.server_address));

    m.token_size_bytes = 0;
    cr_assert_eq(netcore_lobby_match_connect_options(&m, &lobby, &to, &opt),
                 NETCORE_ERR_INVALID_ARGUMENT);
    m.token_size_bytes = NETCORE_LOBBY_TOKEN_MAX + 1;
    cr_assert_eq(netcore_lobby_match_connect_options(&m, &lobby, &to, &opt),
                 NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_lobby_match_connect_options(NULL, &lobby, &to, &opt),
                 NETCORE_ERR_INVALID_ARGUMENT);
}
