/*
 * demo-game server: lobby + authoritative game server, or a game server
 * registered with a remote lobby (see server.h).
 *
 * Per tick: take every player's input for this tick from its input buffer
 * (netcore_input_server repeats the last one when it is missing), let server
 * bots think, step the world with lag-compensated hit tests, record the
 * ships' positions for later rewinds, mirror the world into the snapshot
 * server and send the tick's events. Every tick_rate / snapshot_rate ticks,
 * each player gets its own delta snapshot.
 *
 * The figures (demo_server_stats_json) are in server_stats.c.
 */
#include "server.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net_proto.h"
#include "server_internal.h"
#include "server_registry.h"
#include "netcore/input.h"
#include "netcore/lagcomp.h"
#include "netcore/lobby.h"
#include "netcore/snapshot.h"
#include "netcore/token.h"
#include "sim.h"

#define MATCH_JOIN_TIMEOUT_MS 60000 /* a match nobody joined is ended after this */
#define MAX_CATCH_UP_TICKS 8
#define REWIND_TICKS_MAX 30 /* 500 ms at 60 Hz: a client may not claim an older view */

void demo_server_config_default(demo_server_config *c)
{
    memset(c, 0, sizeof *c);
    c->lobby_port = 7777;
    c->game_port = 7778;
    c->tick_rate_hz = DEMO_TICK_RATE_HZ;
    c->snapshot_rate_hz = DEMO_NET_SNAPSHOT_RATE_HZ;
    c->max_players = DEMO_DEFAULT_MAX_PLAYERS;
    c->round_s = 120;
    c->seed = 1;
    c->discovery = true;
    c->lobby_name = "netcore demo";
}

static uint64_t now_ms(void)
{
    return netcore_time_now_us() / 1000;
}

/* A log line on stderr unless quiet: "<what>: <name> (slot N)" style. */
static void say(const demo_server *s, const char *what, const char *name, int slot)
{
    if (!s->config.quiet) {
        fprintf(stderr, "demo-server: %s%s%s", what, name ? ": " : "", name ? name : "");
        if (slot >= 0) {
            fprintf(stderr, " (slot %d)", slot);
        }
        fputc('\n', stderr);
    }
}

/* ---- matches and admission ---- */

static match_rec *find_match(demo_server *s, uint64_t match_id)
{
    for (int i = 0; i < MAX_MATCHES; i++) {
        if (s->matches[i].used && s->matches[i].match_id == match_id) {
            return &s->matches[i];
        }
    }
    return NULL;
}

/* Tells the lobby that a match is over: the embedded one directly, a
 * remote one with a report (lost if the connection is down: the lobby that
 * dropped this server no longer counts on it). */
static void report_end(demo_server *s, uint64_t match_id)
{
    if (s->lobby) {
        netcore_lobby_server_end_match(s->lobby, match_id);
    } else {
        demo_registry_end_match(s->registry, match_id);
    }
}

/* Tracks a match the lobby placed here; false (and the match is ended at
 * once rather than admitting unknown tokens) when every record is in use. */
static bool add_match(demo_server *s, uint64_t match_id, const uint64_t *members, size_t count)
{
    if (count > NETCORE_LOBBY_MAX_PLAYERS) {
        count = NETCORE_LOBBY_MAX_PLAYERS;
    }
    for (int i = 0; i < MAX_MATCHES; i++) {
        match_rec *m = &s->matches[i];
        if (!m->used) {
            memset(m, 0, sizeof *m);
            m->used = true;
            m->match_id = match_id;
            m->started_ms = now_ms();
            m->member_count = (uint32_t)count;
            if (count > 0) {
                memcpy(m->members, members, count * sizeof *members);
            }
            char what[48];
            snprintf(what, sizeof what, "match started with %u players", (unsigned)count);
            say(s, what, NULL, -1);
            return true;
        }
    }
    report_end(s, match_id);
    return false;
}

static void on_match_start(void *user, uint64_t match_id, uint32_t room_id, const uint64_t *members,
                           size_t count)
{
    demo_server *s = user;
    (void)room_id;
    add_match(s, match_id, members, count);
}

static void end_match(demo_server *s, match_rec *m)
{
    report_end(s, m->match_id);
    m->used = false;
}

static int players_now(const demo_server *s)
{
    int n = 0;
    for (int i = 0; i < MAX_PEERS; i++) {
        n += s->peers[i].used && s->peers[i].admitted;
    }
    return n;
}

/* The load the lobby should count: players in the arena plus the members of
 * assigned matches who have not arrived yet, so that matches assigned in a
 * burst spread over the game servers. */
static uint32_t load_now(const demo_server *s)
{
    uint32_t n = 0;
    for (int i = 0; i < MAX_MATCHES; i++) {
        const match_rec *m = &s->matches[i];
        if (m->used) {
            n += m->joined ? m->players : m->member_count;
        }
    }
    return n < s->config.capacity ? n : s->config.capacity;
}

/* Policy run by the validator after the token checks: only members of
 * matches the lobby placed here, each client once, within the player limit. */
static netcore_result accept_token(void *user, const netcore_token_info *info)
{
    demo_server *s = user;
    const match_rec *m = find_match(s, info->match_id);
    if (!m && s->registry) {
        /* The lobby sends MATCH_START to the players and MATCH_ASSIGNED here
         * at the same moment, and a player on a fast link can finish its
         * handshake before this loop came round to the lobby connection:
         * read it now. */
        demo_registry_update(s->registry, load_now(s), now_ms());
        m = find_match(s, info->match_id);
    }
    if (!m) {
        return NETCORE_ERR_NOT_FOUND;
    }
    bool member = false;
    for (uint32_t i = 0; i < m->member_count && !member; i++) {
        member = m->members[i] == info->client_id;
    }
    if (!member) {
        return NETCORE_ERR_NOT_FOUND;
    }
    for (int i = 0; i < MAX_PEERS; i++) {
        if (s->peers[i].used && s->peers[i].admitted && s->peers[i].client_id == info->client_id) {
            return NETCORE_ERR_STATE;
        }
    }
    return players_now(s) < (int)s->config.max_players ? NETCORE_OK : NETCORE_ERR_FULL;
}

static netcore_result admit(void *user, netcore_peer_id peer, const netcore_address *from,
                            const void *token, size_t size, netcore_admission_grant *grant)
{
    demo_server *s = user;
    netcore_token_info info;
    time_t t = time(NULL);
    /* from: a token bound to another IP is refused before it is spent. */
    netcore_result r = netcore_token_validate_from(s->validator, token, size, from,
                                                   t < 0 ? 0 : (uint64_t)t, &info);
    if (r == NETCORE_OK) {
        /* The token's session keys seal this player's traffic. */
        r = netcore_token_grant(&info, grant);
    }
    netcore_session_keys_wipe(&info.session_keys);
    if (r != NETCORE_OK) {
        return r;
    }
    for (int i = 0; i < MAX_PEERS; i++) {
        if (!s->peers[i].used) {
            s->peers[i] =
                (peer_rec){true, peer, false, info.client_id, info.match_id, -1, 0, {{0, 0}, 0, 0}};
            return NETCORE_OK;
        }
    }
    return NETCORE_ERR_FULL;
}

static peer_rec *find_peer(demo_server *s, netcore_peer_id peer)
{
    for (int i = 0; i < MAX_PEERS; i++) {
        if (s->peers[i].used && s->peers[i].peer == peer) {
            return &s->peers[i];
        }
    }
    return NULL;
}

/* ---- players ---- */

static int free_slot(demo_server *s)
{
    for (int i = 0; i < (int)s->config.max_players; i++) {
        if (!s->world.players[i].active) {
            return i;
        }
    }
    /* Full of bots and players: a bot gives its seat to the player. */
    for (int i = (int)s->config.max_players - 1; i >= 0; i--) {
        if (s->is_bot[i]) {
            demo_sim_remove_player(&s->world, i);
            s->is_bot[i] = false;
            return i;
        }
    }
    return -1;
}

static void fill_bots(demo_server *s)
{
    static const char *const names[] = {"ada",    "bit",  "cog", "dot",  "echo", "flux",
                                        "glitch", "hex",  "ion", "jolt", "kilo", "lumen",
                                        "mux",    "nano", "ohm", "pixel"};
    uint32_t bots = 0;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        bots += s->is_bot[i];
    }
    for (int i = (int)s->config.max_players - 1; i >= 0 && bots < s->config.bots; i--) {
        if (!s->world.players[i].active &&
            players_now(s) + (int)bots < (int)s->config.max_players) {
            char name[DEMO_NAME_MAX];
            /* 16 names; seats beyond them add a number (64 seats at most). */
            const size_t name_count = sizeof names / sizeof names[0];
            if ((size_t)i < name_count) {
                snprintf(name, sizeof name, "bot %s", names[i]);
            } else {
                snprintf(name, sizeof name, "bot %s %d", names[(size_t)i % name_count],
                         (int)((size_t)i / name_count) + 1);
            }
            demo_sim_add_player(&s->world, i, name);
            s->is_bot[i] = true;
            bots++;
            s->roster_dirty = true;
        }
    }
}

static void on_hello(demo_server *s, peer_rec *p, const uint8_t *data, size_t size)
{
    uint64_t hash = 0;
    char name[DEMO_NAME_MAX];
    if (p->slot >= 0 || !demo_net_read_hello(data, size, &hash, name) || hash != s->schema.hash) {
        s->hello_rejected++;
        netcore_host_disconnect(s->host, p->peer, NETCORE_ERR_MISMATCH);
        return;
    }
    int slot = free_slot(s);
    uint32_t snap = 0;
    if (slot < 0 || netcore_snapshot_server_client_add(s->snap, &snap) != NETCORE_OK) {
        s->full_rejected++;
        netcore_host_disconnect(s->host, p->peer, NETCORE_ERR_FULL);
        return;
    }
    demo_sim_add_player(&s->world, slot, name[0] ? name : NULL);
    netcore_input_server_client_reset(s->input, snap);
    p->slot = slot;
    p->snap = snap;
    s->client_slot[snap] = slot;
    s->last_input[slot] = 0;
    s->roster_dirty = true;
    size_t n = demo_net_write_welcome((uint8_t)slot, (uint16_t)s->config.tick_rate_hz,
                                      (uint16_t)s->config.snapshot_rate_hz, s->msg);
    netcore_host_send(s->host, p->peer, DEMO_NET_CHANNEL_CONTROL, s->msg, n);
    say(s, "joined", s->world.players[slot].name, slot);
}

static void drop_peer(demo_server *s, peer_rec *p)
{
    if (p->slot >= 0) {
        netcore_input_server_stats is;
        if (netcore_input_server_get_client_stats(s->input, p->snap, &is) == NETCORE_OK) {
            s->inputs_late += is.inputs_late;
            s->inputs_too_far += is.inputs_too_far;
        }
        say(s, "left", s->world.players[p->slot].name, p->slot);
        demo_sim_remove_player(&s->world, p->slot);
        netcore_snapshot_server_client_remove(s->snap, p->snap);
        s->client_slot[p->snap] = -1;
        s->roster_dirty = true;
    }
    if (p->admitted) {
        match_rec *m = find_match(s, p->match_id);
        if (m && m->players > 0 && --m->players == 0) {
            end_match(s, m);
        }
    }
    memset(p, 0, sizeof *p);
}

static void on_game_packet(demo_server *s, peer_rec *p, const uint8_t *data, size_t size)
{
    const uint8_t *ack = NULL;
    size_t ack_size = 0;
    if (p->slot < 0 ||
        netcore_input_server_read(s->input, p->snap, data, size, &ack, &ack_size) != NETCORE_OK) {
        s->decode_errors++;
        return;
    }
    if (ack_size > 0) {
        /* An ack for a snapshot that left the ring is normal under loss;
         * only bytes that do not parse are decode errors. */
        netcore_result r = netcore_snapshot_server_read_ack(s->snap, p->snap, ack, ack_size);
        s->decode_errors += r == NETCORE_ERR_MALFORMED || r == NETCORE_ERR_MISMATCH;
    }
}

/* Handles every pending game event; the first poll waits up to wait_ms. */
static void handle_events(demo_server *s, uint32_t wait_ms)
{
    netcore_event ev;
    for (int guard = 0; guard < 10000; guard++) {
        if (netcore_host_poll(s->host, guard == 0 ? wait_ms : 0, &ev) != NETCORE_OK ||
            ev.type == NETCORE_EVENT_NONE) {
            return;
        }
        peer_rec *p = find_peer(s, ev.peer);
        if (ev.type == NETCORE_EVENT_CONNECT) {
            if (!p) {
                netcore_host_disconnect(s->host, ev.peer, NETCORE_ERR_STATE);
                continue;
            }
            p->admitted = true;
            match_rec *m = find_match(s, p->match_id);
            if (m) {
                m->players++;
                m->joined = true;
            }
        } else if (ev.type == NETCORE_EVENT_DISCONNECT) {
            if (p) {
                drop_peer(s, p);
            }
        } else if (ev.type == NETCORE_EVENT_RECEIVE && p) {
            if (ev.channel == DEMO_NET_CHANNEL_GAME) {
                on_game_packet(s, p, ev.data, ev.size_bytes);
            } else if (ev.channel == DEMO_NET_CHANNEL_CONTROL && ev.size_bytes > 0 &&
                       ev.data[0] == DEMO_MSG_HELLO) {
                on_hello(s, p, ev.data, ev.size_bytes);
            } else {
                s->decode_errors++;
            }
        }
    }
}

/* ---- register mode: the link to the remote lobby ---- */

/* A match the remote lobby placed here. */
static void on_match_assigned(void *user, uint64_t match_id, const uint64_t *members, size_t count)
{
    demo_server *s = user;
    if (!add_match(s, match_id, members, count)) {
        s->assign_refused++;
    }
}

bool demo_server_registered(const demo_server *s)
{
    return s->registry && demo_registry_registered(s->registry);
}

/* ---- the tick ---- */

static void rewound_position(void *user, int shooter, int victim, demo_fx *x, demo_fx *y)
{
    demo_server *s = user;
    if (s->rewind_ticks[shooter] <= 0) {
        return;
    }
    float pos[2];
    double tick = (double)s->world.tick - (double)s->rewind_ticks[shooter];
    if (netcore_lagcomp_query(s->lag, (uint32_t)victim, tick, pos, NULL) == NETCORE_OK) {
        *x = (demo_fx)(pos[0] * (float)DEMO_FX_ONE);
        *y = (demo_fx)(pos[1] * (float)DEMO_FX_ONE);
    }
}

static void take_inputs(demo_server *s, uint32_t tick, demo_input inputs[DEMO_MAX_PLAYERS])
{
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        s->rewind_ticks[i] = -1;
        if (s->is_bot[i] && s->world.players[i].active) {
            inputs[i] = demo_bot_think(&s->world, i, tick, &s->bot_rng[i]);
        }
    }
    for (int k = 0; k < MAX_PEERS; k++) {
        peer_rec *p = &s->peers[k];
        uint8_t bytes[DEMO_NET_INPUT_BYTES];
        netcore_input_source source = NETCORE_INPUT_EMPTY;
        if (!p->used || p->slot < 0 ||
            netcore_input_server_take(s->input, p->snap, tick, bytes, &source) != NETCORE_OK) {
            continue;
        }
        demo_net_input_decode(bytes, &p->last);
        inputs[p->slot] = p->last.input;
        s->last_input[p->slot] = tick;
        if (p->last.flags & DEMO_NET_FLAG_LAGCOMP) {
            /* The client saw the others at view tick; the rewind is clamped
             * so that a client cannot claim to have seen the distant past. */
            double behind = (double)tick - (double)p->last.view_tick_q8 / 256.0;
            int r = behind < 0
                        ? 0
                        : (behind > REWIND_TICKS_MAX ? REWIND_TICKS_MAX : (int)(behind + 0.5));
            s->rewind_ticks[p->slot] = r;
            if (source == NETCORE_INPUT_RECEIVED) {
                s->rewind_ticks_sum += (uint64_t)r;
                s->rewind_inputs++;
            }
        }
    }
}

static void send_snapshots(demo_server *s, uint32_t tick)
{
    uint8_t buf[DEMO_NET_MAX_MESSAGE];
    for (int k = 0; k < MAX_PEERS; k++) {
        peer_rec *p = &s->peers[k];
        size_t n = 0;
        if (!p->used || p->slot < 0) {
            continue;
        }
        if (netcore_snapshot_server_write(s->snap, p->snap, tick, buf, sizeof buf, &n) !=
                NETCORE_OK ||
            netcore_host_send(s->host, p->peer, DEMO_NET_CHANNEL_GAME, buf, n) != NETCORE_OK) {
            s->snapshot_errors++;
        } else {
            s->snapshots_sent++;
        }
    }
}

static void run_tick(demo_server *s)
{
    uint64_t t0 = netcore_time_now_us();
    uint32_t tick = s->world.tick + 1;
    demo_input inputs[DEMO_MAX_PLAYERS];
    memset(inputs, 0, sizeof inputs);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        inputs[i].aim = s->world.players[i].angle;
    }
    take_inputs(s, tick, inputs);
    demo_rewind rewind = {rewound_position, s};
    demo_sim_step_rewind(&s->world, inputs, tick, &rewind);
    netcore_lagcomp_begin_tick(s->lag, tick);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *p = &s->world.players[i];
        if (p->active) {
            float pos[2] = {(float)p->x / (float)DEMO_FX_ONE, (float)p->y / (float)DEMO_FX_ONE};
            netcore_lagcomp_record(s->lag, (uint32_t)i, pos);
        }
    }
    for (uint32_t e = 0; e < s->world.event_count; e++) {
        s->kills += s->world.events[e].kind == DEMO_EVENT_KILL;
        s->shots += s->world.events[e].kind == DEMO_EVENT_SHOT;
        s->hits += s->world.events[e].kind == DEMO_EVENT_HIT;
    }
    demo_net_mirror_sync(&s->schema, s->snap, &s->mirror, &s->world, s->last_input);
    size_t n = demo_net_write_events(&s->world, s->msg);
    if (n > 0) {
        netcore_host_broadcast(s->host, DEMO_NET_CHANNEL_CONTROL, s->msg, n);
    }
    if (s->roster_dirty) {
        n = demo_net_write_roster(&s->world, s->msg);
        netcore_host_broadcast(s->host, DEMO_NET_CHANNEL_CONTROL, s->msg, n);
        s->roster_dirty = false;
    }
    if (tick % s->snapshot_every == 0) {
        send_snapshots(s, tick);
    }
    netcore_host_flush(s->host);
    if (s->tick_samples < TICK_SAMPLES) {
        s->tick_ms[s->tick_samples++] = (float)(netcore_time_now_us() - t0) / 1000.0f;
    }
}

static void check_matches(demo_server *s)
{
    uint64_t now = now_ms();
    for (int i = 0; i < MAX_MATCHES; i++) {
        match_rec *m = &s->matches[i];
        if (m->used && !m->joined && now - m->started_ms > MATCH_JOIN_TIMEOUT_MS) {
            end_match(s, m);
        }
    }
}

void demo_server_update(demo_server *s, uint32_t wait_ms)
{
    uint64_t now = netcore_time_now_us();
    uint32_t until_tick = s->next_tick_us > now ? (uint32_t)((s->next_tick_us - now) / 1000) : 0;
    uint32_t wait = wait_ms < until_tick ? wait_ms : until_tick;
    if (s->lobby) {
        netcore_lobby_server_update(s->lobby, netcore_time_now_us(), wait);
        handle_events(s, 0);
    } else {
        handle_events(s, wait);
        demo_registry_update(s->registry, load_now(s), now_ms());
    }
    now = netcore_time_now_us();
    int ran = 0;
    while (now >= s->next_tick_us) {
        if (ran == MAX_CATCH_UP_TICKS) {
            /* After a stall (a debugger, a suspended VM) skip rather than spiral. */
            s->ticks_behind += (now - s->next_tick_us) / s->tick_us;
            s->next_tick_us = now + s->tick_us;
            break;
        }
        fill_bots(s);
        run_tick(s);
        s->next_tick_us += s->tick_us;
        ran++;
        handle_events(s, 0);
    }
    check_matches(s);
}

/* ---- life cycle ---- */

/* Interest: the whole arena is on screen, so everything is relevant; what is
 * near the client's ship goes first when a snapshot is full (a fight in
 * progress matters more than a ship across the map), and the round entity
 * always does. */
static float interest(void *user, const netcore_snapshot_server *server, uint32_t client,
                      netcore_entity_id entity, uint16_t type)
{
    const demo_server *s = user;
    if (type == s->schema.type_round) {
        return 100.0f;
    }
    int slot = client < DEMO_MAX_PLAYERS ? s->client_slot[client] : -1;
    if (slot < 0 || entity == s->mirror.ships[slot]) {
        return 10.0f; /* the own ship: needed for every reconciliation */
    }
    uint16_t pos_field = type == s->schema.type_ship ? s->schema.ship_pos : s->schema.shot_pos;
    netcore_vec3 pos;
    if (netcore_snapshot_server_get_vec3(server, entity, pos_field, &pos) != NETCORE_OK) {
        return 1.0f;
    }
    const demo_player *me = &s->world.players[slot];
    float dx = pos.x - (float)me->x / (float)DEMO_FX_ONE;
    float dy = pos.y - (float)me->y / (float)DEMO_FX_ONE;
    float dist = sqrtf(dx * dx + dy * dy);
    return 1.0f + 4.0f * 300.0f / (300.0f + dist);
}

static bool make_replication(demo_server *s)
{
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = s->schema.schema;
    sc.max_entities = DEMO_NET_MAX_ENTITIES;
    sc.max_clients = DEMO_MAX_PLAYERS;
    sc.budget_bytes = netcore_host_max_unfragmented_bytes(s->host); /* one datagram */
    sc.interest = interest;
    sc.interest_user = s;
    netcore_input_server_config ic;
    netcore_input_server_config_default(&ic);
    ic.input_size_bytes = DEMO_NET_INPUT_BYTES;
    ic.max_clients = DEMO_MAX_PLAYERS;
    ic.buffer_ticks = 128;
    netcore_lagcomp_config lc;
    netcore_lagcomp_config_default(&lc);
    lc.max_entities = DEMO_MAX_PLAYERS;
    lc.components = 2;
    lc.history_ticks = REWIND_TICKS_MAX + 8;
    return netcore_snapshot_server_create(&sc, &s->snap) == NETCORE_OK &&
           netcore_input_server_create(&ic, &s->input) == NETCORE_OK &&
           netcore_lagcomp_create(&lc, &s->lag) == NETCORE_OK;
}

static bool make_game_host(demo_server *s)
{
    netcore_host_config hc;
    netcore_host_config_default(&hc);
    hc.is_server = true;
    hc.bind_address = s->config.bind;
    hc.bind_address.port = s->config.game_port;
    hc.max_peers = MAX_PEERS;
    hc.channel_count = DEMO_NET_CHANNELS;
    hc.admission = admit;
    hc.admission_user = s;
    /* Only CONNECTs carrying the address proof the lobby gave the player
     * (MATCH_START's connect_proof, bound to the IP the lobby saw) get a
     * peer slot; spoofed or replayed handshakes from elsewhere are dropped
     * and counted (guard_proof_dropped). The proof clock is UNIX time, as
     * the lobby's token clock. */
    hc.guard.require_connect_proof = true;
    memcpy(hc.guard.proof_key, s->key, sizeof hc.guard.proof_key);
    netcore_result r = netcore_host_create(&hc, &s->host);
    memset(hc.guard.proof_key, 0, sizeof hc.guard.proof_key);
    if (r != NETCORE_OK) {
        fprintf(stderr, "demo-server: cannot open the game port %u: %s\n", s->config.game_port,
                netcore_result_str(r));
        return false;
    }
    netcore_address bound;
    netcore_host_address(s->host, &bound);
    s->game_address = s->config.bind;
    if (s->game_address.family == NETCORE_ADDRESS_NONE) {
        s->game_address = netcore_address_ipv4(0, 0, 0, 0, 0);
    }
    s->game_address.port = bound.port;
    if (s->config.register_lobby.family != NETCORE_ADDRESS_NONE) {
        if (s->config.game_address.family != NETCORE_ADDRESS_NONE) {
            s->game_address = s->config.game_address;
            s->game_address.port =
                s->config.game_address.port ? s->config.game_address.port : bound.port;
        } else if (s->game_address.family == NETCORE_ADDRESS_IPV4 &&
                   memcmp(s->game_address.bytes, "\0\0\0\0", 4) == 0) {
            /* No --game-address and no --bind: players are sent to the lobby's
             * host (the usual set-up, a game server beside its lobby), never
             * to 0.0.0.0. */
            s->game_address = s->config.register_lobby;
            s->game_address.port = bound.port;
        }
    }
    netcore_token_validator_config vc;
    netcore_token_validator_config_default(&vc);
    memcpy(vc.key, s->key, sizeof s->key);
    vc.server_address = s->game_address;
    vc.accept = accept_token;
    vc.accept_user = s;
    return netcore_token_validator_create(&vc, &s->validator) == NETCORE_OK;
}

static bool make_lobby(demo_server *s)
{
    netcore_lobby_server_config lc;
    netcore_lobby_server_config_default(&lc);
    lc.listen[0] = s->config.bind.family == NETCORE_ADDRESS_NONE
                       ? netcore_address_ipv4(0, 0, 0, 0, 0)
                       : s->config.bind;
    lc.listen[0].port = s->config.lobby_port;
    lc.listen_count = 1;
    memcpy(lc.key, s->key, sizeof s->key);
    lc.game_address = s->game_address;
    lc.on_match_start = on_match_start;
    lc.match_user = s;
    lc.max_game_servers = 0;
    lc.discovery_enabled = s->config.discovery;
    lc.discovery_port = s->config.lobby_port;
    if (s->config.identity) {
        lc.tls_cert_file = s->config.identity->cert_file;
        lc.tls_key_file = s->config.identity->key_file;
        memcpy(lc.discovery_tls_pin, s->config.identity->pin, sizeof lc.discovery_tls_pin);
    }
    snprintf(lc.lobby_name, sizeof lc.lobby_name, "%s",
             s->config.lobby_name ? s->config.lobby_name : "netcore demo");
    netcore_result r = netcore_lobby_server_create(&lc, &s->lobby);
    if (r != NETCORE_OK) {
        fprintf(stderr, "demo-server: cannot open the lobby port %u: %s\n", s->config.lobby_port,
                netcore_result_str(r));
        return false;
    }
    return true;
}

static bool make_registry(demo_server *s)
{
    demo_registry_config rc;
    memset(&rc, 0, sizeof rc);
    rc.lobby = s->config.register_lobby;
    memcpy(rc.key, s->key, sizeof rc.key);
    rc.game_address = s->game_address;
    rc.capacity = (uint16_t)s->config.capacity;
    rc.on_match = on_match_assigned;
    rc.user = s;
    rc.seed = s->config.seed ^ netcore_time_now_us();
    rc.quiet = s->config.quiet;
    rc.trust = s->config.register_trust;
    s->registry = demo_registry_create(&rc);
    memset(rc.key, 0, sizeof rc.key);
    return s->registry != NULL;
}

demo_server *demo_server_create(const demo_server_config *config)
{
    demo_server *s = calloc(1, sizeof *s);
    if (!s) {
        return NULL;
    }
    s->config = *config;
    bool registering = s->config.register_lobby.family != NETCORE_ADDRESS_NONE;
    memcpy(s->key, s->config.key, sizeof s->key);
    memset(s->config.key, 0, sizeof s->config.key);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        s->client_slot[i] = -1;
    }
    if (s->config.max_players < 1 || s->config.max_players > DEMO_MAX_PLAYERS) {
        s->config.max_players = DEMO_MAX_PLAYERS;
    }
    if (s->config.capacity < 1 || s->config.capacity > s->config.max_players) {
        s->config.capacity = s->config.max_players;
    }
    if (s->config.tick_rate_hz < 1 || s->config.tick_rate_hz > 1000) {
        s->config.tick_rate_hz = DEMO_TICK_RATE_HZ;
    }
    if (s->config.snapshot_rate_hz < 1 || s->config.snapshot_rate_hz > s->config.tick_rate_hz) {
        s->config.snapshot_rate_hz = s->config.tick_rate_hz < DEMO_NET_SNAPSHOT_RATE_HZ
                                         ? s->config.tick_rate_hz
                                         : DEMO_NET_SNAPSHOT_RATE_HZ;
    }
    s->snapshot_every = s->config.tick_rate_hz / s->config.snapshot_rate_hz;
    s->config.snapshot_rate_hz = s->config.tick_rate_hz / s->snapshot_every;
    if (!registering && s->config.lobby_port != 0 && s->config.game_port == s->config.lobby_port) {
        fprintf(stderr, "demo-server: the lobby and game ports must differ\n");
        free(s);
        return NULL;
    }
    demo_sim_config sim;
    demo_sim_config_default(&sim);
    sim.seed = s->config.seed;
    sim.round_ticks = s->config.round_s * DEMO_TICK_RATE_HZ;
    demo_world_init(&s->world, &sim);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        demo_rng_seed(&s->bot_rng[i], s->config.seed * 7919u + (uint64_t)i);
    }
    uint8_t zero[NETCORE_TOKEN_KEY_BYTES] = {0};
    if (registering && memcmp(s->key, zero, sizeof zero) == 0) {
        fprintf(stderr, "demo-server: registering with a lobby needs its key\n");
        demo_server_destroy(s);
        return NULL;
    }
    if ((!registering && netcore_token_key_generate(s->key) != NETCORE_OK) ||
        !demo_net_schema_create(&s->schema, s->config.snapshot_format) || !make_game_host(s) ||
        !make_replication(s) || !(registering ? make_registry(s) : make_lobby(s))) {
        demo_server_destroy(s);
        return NULL;
    }
    s->start_us = s->last_stats_us = netcore_time_now_us();
    s->tick_us = 1000000u / s->config.tick_rate_hz;
    s->next_tick_us = s->start_us + s->tick_us;
    return s;
}

void demo_server_destroy(demo_server *s)
{
    if (!s) {
        return;
    }
    netcore_lobby_server_destroy(s->lobby);
    if (s->registry) {
        /* The lobby sends this server's players back to their rooms at once,
         * rather than after their game connections time out. */
        for (int i = 0; i < MAX_MATCHES; i++) {
            if (s->matches[i].used) {
                end_match(s, &s->matches[i]);
            }
        }
        demo_registry_destroy(s->registry);
    }
    netcore_host_destroy(s->host);
    netcore_token_validator_destroy(s->validator);
    netcore_lagcomp_destroy(s->lag);
    netcore_input_server_destroy(s->input);
    netcore_snapshot_server_destroy(s->snap);
    if (s->schema.schema) {
        demo_net_schema_destroy(&s->schema);
    }
    memset(s->key, 0, sizeof s->key);
    free(s);
}

void demo_server_ports(const demo_server *s, uint16_t *lobby_port, uint16_t *game_port)
{
    netcore_address a;
    if (lobby_port) {
        *lobby_port =
            s->lobby && netcore_lobby_server_address(s->lobby, 0, &a) == NETCORE_OK ? a.port : 0;
    }
    if (game_port) {
        *game_port = s->game_address.port;
    }
}
