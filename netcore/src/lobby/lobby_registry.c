/* Lobby server, game server registry: game servers connect over the same
 * TCP protocol, prove they hold the shared key, report their load, and get
 * told which players each match placed on them brings. Matches go to the
 * least loaded server with room; with none registered, to the configured
 * game_address. A registration lasts as long as its connection: when it is
 * lost, the matches placed there end and their rooms return to the lobby. */
#include <sodium.h>
#include <string.h>

#include "lobby/lobby_cluster.h"
#include "lobby/lobby_internal.h"

static uint32_t load_of(const nci_lobby_game_server *g)
{
    return (uint32_t)g->players + g->assigned_since;
}

/* Ends the matches placed on the server at index and frees its entry. The
 * caller has already detached (or released) its connection. */
static void drop_server(netcore_lobby_server *s, int32_t index, const char *why)
{
    nci_lobby_game_server *g = &s->game_servers[index];
    uint64_t server_id = g->server_id;
    char text[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&g->address, text, sizeof text);
    /* Freed first: nothing done while ending the matches may pick it again. */
    memset(g, 0, sizeof *g);
    s->stats.game_servers_lost++;
    if (s->cluster) {
        /* Its matches end on every node, through Redis. */
        nci_lobby_cluster_gs_lost(s, server_id);
        nci_logf(&s->config.log, NETCORE_LOG_INFO, "lobby: game server %s lost (%s)", text, why);
        return;
    }
    uint32_t ended = 0;
    for (uint32_t i = 0; i < s->config.max_rooms; i++) {
        const nci_lobby_room *room = &s->rooms[i];
        /* server_id is never 0 here, so matches on the configured
         * game_address (game_server_id 0) are left alone. */
        if (room->used && room->in_match && room->game_server_id == server_id) {
            nci_lobby_end_room_match(s, (int32_t)i, NETCORE_LOBBY_MATCH_GAME_SERVER_LOST);
            ended++;
        }
    }
    s->stats.matches_ended_server_lost += ended;
    if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000))
        nci_logf(&s->config.log, NETCORE_LOG_INFO,
                 "lobby: game server %s lost (%s), %u match%s ended", text, why, (unsigned)ended,
                 ended == 1 ? "" : "es");
}

static void register_server(netcore_lobby_server *s, int32_t conn)
{
    const nci_lobby_msg *m = &s->in_msg;
    const char *why = NULL;
    uint16_t code = NETCORE_LOBBY_ERR_AUTH;
    uint8_t mac[NCI_LOBBY_MAC_BYTES];
    uint64_t now_s = nci_lobby_token_time_s(s);
    uint64_t then_s = m->u.server_register.time_s;
    uint64_t age_s = now_s > then_s ? now_s - then_s : then_s - now_s;
    /* The version first: a game server of another release learns that it
     * is the version, not its key, that the lobby refuses. */
    if (!nci_lobby_version_supported(m->u.server_register.version)) {
        why = "unsupported protocol version";
        code = NETCORE_LOBBY_ERR_VERSION;
        s->stats.version_rejected++;
    } else if (s->config.max_game_servers == 0) {
        why = "this lobby takes no game servers";
    } else {
        nci_lobby_register_mac(s->config.key, s->in_body, s->in_body_size - NCI_LOBBY_MAC_BYTES,
                               mac);
        if (sodium_memcmp(mac, m->u.server_register.mac, NCI_LOBBY_MAC_BYTES) != 0)
            why = "bad registration digest";
        else if (age_s > s->config.registration_skew_s)
            why = "registration timestamp too far from the lobby's clock";
    }
    if (why) {
        s->stats.registrations_rejected++;
        nci_lobby_fail(s, conn, code, why);
        return;
    }
    /* The same game address registering again means the server came back
     * while the lobby still holds its old connection (dropped without a
     * close reaching us, not yet timed out): that registration is over. */
    for (uint32_t i = 0; i < s->config.max_game_servers; i++) {
        const nci_lobby_game_server *old = &s->game_servers[i];
        if (!old->used || !netcore_address_equal(&old->address, &m->u.server_register.game_address))
            continue;
        int32_t old_conn = old->conn;
        s->conns[old_conn].game_server = NCI_LOBBY_NONE;
        nci_lobby_fail(s, old_conn, NETCORE_LOBBY_ERR_STATE, "replaced by a new registration");
        drop_server(s, (int32_t)i, "registered again");
    }
    int32_t free_index = NCI_LOBBY_NONE;
    for (uint32_t i = 0; i < s->config.max_game_servers && free_index == NCI_LOBBY_NONE; i++)
        if (!s->game_servers[i].used)
            free_index = (int32_t)i;
    if (free_index == NCI_LOBBY_NONE) {
        s->stats.registrations_rejected++;
        nci_lobby_fail(s, conn, NETCORE_LOBBY_ERR_SERVER_FULL, "too many game servers");
        return;
    }
    nci_lobby_game_server *g = &s->game_servers[free_index];
    memset(g, 0, sizeof *g);
    g->used = true;
    g->conn = conn;
    g->address = m->u.server_register.game_address;
    g->capacity = m->u.server_register.capacity;
    do {
        g->server_id = nci_rng_next(&s->rng);
    } while (g->server_id == 0);
    s->conns[conn].game_server = free_index;
    s->conns[conn].version = m->u.server_register.version;
    if (nci_log_limit_allow(&s->log_limiter, s->now_ms * 1000, 1000000)) {
        char text[NETCORE_ADDRESS_STRLEN];
        netcore_address_format(&g->address, text, sizeof text);
        nci_logf(&s->config.log, NETCORE_LOG_INFO, "lobby: game server %s registered (%u players)",
                 text, (unsigned)g->capacity);
    }
    if (s->cluster)
        nci_lobby_cluster_gs_added(s, free_index);
    s->out_msg.type = NCI_LOBBY_SERVER_ACCEPTED;
    s->out_msg.u.server_id = g->server_id;
    nci_lobby_send_out(s, conn);
}

void nci_lobby_registry_handle(netcore_lobby_server *s, int32_t conn)
{
    int32_t index = s->conns[conn].game_server;
    uint8_t type = s->in_msg.type;
    if (index == NCI_LOBBY_NONE) {
        register_server(s, conn);
        return;
    }
    nci_lobby_game_server *g = &s->game_servers[index];
    switch (type) {
    case NCI_LOBBY_SERVER_LOAD:
        g->players = s->in_msg.u.server_load.players;
        if (s->in_msg.u.server_load.capacity > 0)
            g->capacity = s->in_msg.u.server_load.capacity;
        g->assigned_since = 0;
        if (s->cluster)
            nci_lobby_cluster_gs_load(s, index);
        return;
    case NCI_LOBBY_SERVER_MATCH_END: {
        uint64_t match_id = s->in_msg.u.server_match_end_id;
        if (s->cluster) {
            if (!nci_lobby_cluster_end_match(s, match_id, g->server_id, conn))
                s->stats.match_end_reports_ignored++;
            return;
        }
        for (uint32_t i = 0; i < s->config.max_rooms; i++) {
            const nci_lobby_room *room = &s->rooms[i];
            if (!room->used || !room->in_match || room->match_id != match_id)
                continue;
            /* Only the server a match was placed on may end it. */
            if (room->game_server_id != g->server_id) {
                nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_STATE, type,
                                     "match placed on another server");
                return;
            }
            nci_lobby_end_room_match(s, (int32_t)i, NETCORE_LOBBY_MATCH_ENDED);
            return;
        }
        /* Over already: its owner ended it, or it was placed on an earlier
         * registration of this server and ended when that one was lost. A
         * report crossing such an end is normal, so no ERROR. */
        s->stats.match_end_reports_ignored++;
        return;
    }
    case NCI_LOBBY_PING:
        s->out_msg.type = NCI_LOBBY_PONG;
        s->out_msg.u.ping_value = s->in_msg.u.ping_value;
        nci_lobby_send_out(s, conn);
        return;
    case NCI_LOBBY_GOODBYE:
        nci_lobby_close(s, conn);
        return;
    default:
        nci_lobby_send_error(s, conn, NETCORE_LOBBY_ERR_STATE, type,
                             "not valid on a game server connection");
        return;
    }
}

void nci_lobby_registry_lost(netcore_lobby_server *s, int32_t game_server)
{
    /* Its players cannot finish there: they are told at once and go back
     * to their rooms, ready to start again on another server. */
    drop_server(s, game_server, "connection closed or timed out");
}

bool nci_lobby_registry_pick(netcore_lobby_server *s, uint32_t player_count,
                             netcore_address *out_address, uint64_t *out_server_id)
{
    const nci_lobby_game_server *best = NULL;
    bool any = false;
    for (uint32_t i = 0; i < s->config.max_game_servers; i++) {
        const nci_lobby_game_server *g = &s->game_servers[i];
        if (!g->used)
            continue;
        any = true;
        uint32_t load = load_of(g);
        if (load + player_count > g->capacity)
            continue;
        /* Least loaded as a share of capacity, compared without division:
         * load/capacity < best_load/best_capacity. */
        if (!best || (uint64_t)load * best->capacity < (uint64_t)load_of(best) * g->capacity)
            best = g;
    }
    if (!any) {
        *out_address = s->config.game_address;
        *out_server_id = 0;
        return true;
    }
    if (!best)
        return false;
    *out_address = best->address;
    *out_server_id = best->server_id;
    return true;
}

void nci_lobby_registry_assign(netcore_lobby_server *s, uint64_t server_id, uint64_t match_id,
                               uint32_t room_id, const uint64_t *client_ids, uint8_t count)
{
    for (uint32_t i = 0; i < s->config.max_game_servers; i++) {
        nci_lobby_game_server *g = &s->game_servers[i];
        if (!g->used || g->server_id != server_id)
            continue;
        g->assigned_since += count;
        nci_lobby_msg *m = &s->out_msg;
        m->type = NCI_LOBBY_MATCH_ASSIGNED;
        m->u.match_assigned.match_id = match_id;
        m->u.match_assigned.room_id = room_id;
        m->u.match_assigned.count = count;
        memcpy(m->u.match_assigned.client_ids, client_ids, (size_t)count * sizeof *client_ids);
        nci_lobby_send_out(s, g->conn);
        return;
    }
}
