/* Decoder of the messages lobby nodes exchange on the Redis channel
 * (format: docs/lobby-cluster.md). Redis is the cluster's own store, but
 * what comes out of it is checked like bytes from the network: a node
 * must not crash or overrun a buffer because of a bad script, a foreign
 * publisher on the channel or a corrupted key. */
#define _POSIX_C_SOURCE 200809L
#include <string.h>

#include "lobby/lobby_cluster.h"
#include "lobby/lobby_internal.h"

#define MAX_FIELDS 6

typedef struct field {
    const char *p;
    size_t n;
} field;

typedef struct line {
    field f[MAX_FIELDS];
    size_t count;
} line;

/* Cuts the next LF-terminated record into TAB-separated fields. */
static bool next_line(const char **cursor, const char *end, line *out)
{
    const char *p = *cursor;
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    if (!lf)
        return false;
    out->count = 0;
    const char *start = p;
    for (; p <= lf; p++) {
        if (p != lf && *p != '\t')
            continue;
        if (out->count == MAX_FIELDS)
            return false;
        out->f[out->count].p = start;
        out->f[out->count].n = (size_t)(p - start);
        out->count++;
        start = p + 1;
    }
    *cursor = lf + 1;
    return true;
}

static bool parse_u64(field f, uint64_t max, uint64_t *out)
{
    if (f.n == 0 || f.n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < f.n; i++) {
        char c = f.p[i];
        if (c < '0' || c > '9')
            return false;
        uint64_t digit = (uint64_t)(c - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return false;
        v = v * 10 + digit;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_flag(field f, bool *out)
{
    uint64_t v = 0;
    if (!parse_u64(f, 1, &v))
        return false;
    *out = v == 1;
    return true;
}

/* Copies a field into a NUL-terminated buffer of max_bytes + 1 and checks
 * it as lobby text (valid UTF-8, no control characters). */
static bool parse_text(field f, char *out, size_t max_bytes, bool nonempty)
{
    if (f.n > max_bytes || memchr(f.p, '\0', f.n))
        return false;
    memcpy(out, f.p, f.n);
    out[f.n] = '\0';
    return nci_lobby_text_valid(out, max_bytes, nonempty);
}

/* "a.b.c.d:port" or "[v6]:port", numeric only: a name would make the
 * decoder ask a resolver. */
static bool parse_address(field f, netcore_address *out)
{
    char text[NETCORE_ADDRESS_STRLEN];
    if (f.n == 0 || f.n >= sizeof text || memchr(f.p, '\0', f.n))
        return false;
    memcpy(text, f.p, f.n);
    text[f.n] = '\0';
    char *colon = strrchr(text, ':');
    if (!colon)
        return false;
    *colon = '\0';
    field port_field = {colon + 1, strlen(colon + 1)};
    uint64_t port = 0;
    if (!parse_u64(port_field, 65535, &port))
        return false;
    memset(out, 0, sizeof *out);
    out->port = (uint16_t)port;
    size_t host_len = strlen(text);
    if (host_len >= 2 && text[0] == '[' && text[host_len - 1] == ']') {
        text[host_len - 1] = '\0';
        out->family = NETCORE_ADDRESS_IPV6;
        return nci_address_numeric(NETCORE_ADDRESS_IPV6, text + 1, out->bytes);
    }
    out->family = NETCORE_ADDRESS_IPV4;
    return nci_address_numeric(NETCORE_ADDRESS_IPV4, text, out->bytes);
}

static bool is_tag(const line *l, char tag, size_t fields)
{
    return l->count == fields && l->f[0].n == 1 && l->f[0].p[0] == tag;
}

static bool decode_room(const char *cursor, const char *end, nci_cluster_event *ev)
{
    line l;
    if (!next_line(&cursor, end, &l) || !is_tag(&l, 'P', 5))
        return false;
    uint64_t max_players = 0;
    bool has_password = false;
    if (!parse_text(l.f[1], ev->params.name, NETCORE_LOBBY_NAME_MAX, true) ||
        !parse_u64(l.f[2], NETCORE_LOBBY_MAX_PLAYERS, &max_players) || max_players == 0 ||
        !parse_flag(l.f[3], &ev->params.is_private) || !parse_flag(l.f[4], &has_password))
        return false;
    ev->params.max_players = (uint8_t)max_players;
    /* The password itself never leaves Redis; the mirror only needs to know
     * there is one. */
    if (has_password)
        memcpy(ev->params.password, "*", 2);
    uint64_t end_reason = 0;
    if (!next_line(&cursor, end, &l) || !is_tag(&l, 'O', 6) ||
        !parse_u64(l.f[1], UINT64_MAX, &ev->owner_id) ||
        !parse_u64(l.f[2], UINT64_MAX, &ev->match_id) ||
        !parse_u64(l.f[3], UINT64_MAX, &ev->game_server_id) || !parse_u64(l.f[5], 255, &end_reason))
        return false;
    ev->end_reason = (uint8_t)end_reason;
    bool no_address = l.f[4].n == 1 && l.f[4].p[0] == '-';
    if (ev->match_id != 0 && !parse_address(l.f[4], &ev->game_address))
        return false;
    if (ev->match_id == 0 && !no_address)
        return false;
    while (cursor < end) {
        if (!next_line(&cursor, end, &l))
            return false;
        if (is_tag(&l, 'K', 3) && ev->member_count == 0) {
            if (ev->params.meta_count == NETCORE_LOBBY_META_MAX)
                return false;
            netcore_lobby_meta *m = &ev->params.meta[ev->params.meta_count++];
            if (!parse_text(l.f[1], m->key, NETCORE_LOBBY_META_KEY_MAX, true) ||
                !parse_text(l.f[2], m->value, NETCORE_LOBBY_META_VALUE_MAX, false))
                return false;
        } else if (is_tag(&l, 'M', 5)) {
            if (ev->member_count == NETCORE_LOBBY_MAX_PLAYERS)
                return false;
            nci_cluster_member *m = &ev->members[ev->member_count++];
            if (!parse_u64(l.f[1], UINT64_MAX, &m->client_id) || m->client_id == 0 ||
                !parse_text(l.f[2], m->nickname, NETCORE_LOBBY_NAME_MAX, true) ||
                !parse_flag(l.f[3], &m->ready) || !parse_flag(l.f[4], &m->connected))
                return false;
            for (uint8_t i = 0; i + 1 < ev->member_count; i++)
                if (ev->members[i].client_id == m->client_id)
                    return false;
        } else {
            return false;
        }
    }
    /* A room exists only with members, within its size; its owner is one of them. */
    bool owner_listed = false;
    for (uint8_t i = 0; i < ev->member_count; i++)
        owner_listed = owner_listed || ev->members[i].client_id == ev->owner_id;
    return ev->member_count >= 1 && ev->member_count <= ev->params.max_players && owner_listed;
}

bool nci_lobby_cluster_decode(const char *bytes, size_t size, nci_cluster_event *ev)
{
    if (!bytes || !ev || size == 0 || size > NCI_CLUSTER_EVENT_MAX_BYTES)
        return false;
    memset(ev, 0, sizeof *ev);
    const char *cursor = bytes;
    const char *end = bytes + size;
    line l;
    if (!next_line(&cursor, end, &l) || l.f[0].n != 1)
        return false;
    uint64_t v = 0;
    switch (l.f[0].p[0]) {
    case 'S':
    case 'D':
        if (l.count != 5 || !parse_u64(l.f[1], UINT32_MAX, &v) || v == 0 ||
            !parse_u64(l.f[3], UINT64_MAX, &ev->subject) ||
            !parse_u64(l.f[4], UINT64_MAX, &ev->seq))
            return false;
        ev->room_id = (uint32_t)v;
        if (!parse_u64(l.f[2], NCI_CLUSTER_CAUSE_MATCH_END, &v))
            return false;
        ev->cause = (uint8_t)v;
        if (l.f[0].p[0] == 'D') {
            ev->kind = NCI_CLUSTER_EV_ROOM_GONE;
            return cursor == end;
        }
        ev->kind = NCI_CLUSTER_EV_ROOM;
        return decode_room(cursor, end, ev);
    case 'C':
        ev->kind = NCI_CLUSTER_EV_CHAT;
        if (l.count != 6 || !parse_u64(l.f[1], UINT32_MAX, &v))
            return false;
        ev->room_id = (uint32_t)v;
        if (!parse_u64(l.f[2], NETCORE_LOBBY_CHAT_LOBBY, &v))
            return false;
        ev->scope = (uint8_t)v;
        /* Room chat names its room; lobby chat names none. */
        if ((ev->scope == NETCORE_LOBBY_CHAT_ROOM) != (ev->room_id != 0))
            return false;
        return parse_u64(l.f[3], UINT64_MAX, &ev->from_id) &&
               parse_text(l.f[4], ev->nickname, NETCORE_LOBBY_NAME_MAX, true) &&
               parse_text(l.f[5], ev->text, NETCORE_LOBBY_CHAT_MAX, true) && cursor == end;
    case 'T':
        ev->kind = NCI_CLUSTER_EV_TAKEOVER;
        if (l.count != 3 || !parse_u64(l.f[1], UINT64_MAX, &ev->from_id) ||
            l.f[2].n > NCI_CLUSTER_NODE_MAX)
            return false;
        memcpy(ev->node, l.f[2].p, l.f[2].n);
        ev->node[l.f[2].n] = '\0';
        return nci_lobby_cluster_node_id_valid(ev->node) && cursor == end;
    default:
        return false;
    }
}

bool nci_lobby_cluster_node_id_valid(const char *node_id)
{
    if (!node_id)
        return false;
    size_t n = strnlen(node_id, NCI_CLUSTER_NODE_MAX + 1);
    if (n == 0 || n > NCI_CLUSTER_NODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = node_id[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}
