/*
 * demo-game server: lobby + authoritative game server, or a game server
 * registered with a remote lobby (see server.h), on the netcore session
 * layer: a netcore_game_server owns the game host, token admission and the
 * guard, the snapshot and input servers and the lag compensation history;
 * this file adds the lobby link, the world and its bots.
 *
 * Per tick (on_tick): server bots fill empty seats and think, every
 * player's input (taken by the session) goes into one world step with
 * lag-compensated hit tests, the players' ships go back to the session,
 * which writes them into their entities; the rest of the world (bots'
 * ships, shots, the round) is mirrored into the snapshot server, and the
 * tick's events go out on the demo's game channel.
 *
 * The figures (demo_server_stats_json) are in server_stats.c.
 */
#include "server.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_proto.h"
#include "server_internal.h"
#include "server_registry.h"
#include "netcore/lobby.h"
#include "netcore/session.h"
#include "netcore/snapshot.h"
#include "netcore/token.h"
#include "sim.h"

#define MATCH_JOIN_TIMEOUT_MS 60000 /* a match nobody joined is ended after this */
#define REWIND_TICKS_MAX 30         /* 500 ms at 60 Hz: a client may not claim an older view */

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
    netcore_game_server_stats st;
    return netcore_game_server_get_stats(s->game, &st) == NETCORE_OK ? (int)st.clients : 0;
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

/* Policy run by the session's token validator after the token checks: only
 * members of matches the lobby placed here, each client once, within the
 * player limit. */
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
    for (uint32_t i = 0; i < s->config.max_players; i++) {
        netcore_token_info other;
        if (netcore_game_server_client_token(s->game, i, &other) == NETCORE_OK &&
            other.client_id == info->client_id) {
            return NETCORE_ERR_STATE;
        }
    }
    return players_now(s) < (int)s->config.max_players ? NETCORE_OK : NETCORE_ERR_FULL;
}

/* ---- players ---- */

/* The match a player's token names, or NULL. */
static match_rec *match_of(demo_server *s, uint32_t client)
{
    netcore_token_info info;
    if (netcore_game_server_client_token(s->game, client, &info) != NETCORE_OK) {
        return NULL;
    }
    return find_match(s, info.match_id);
}

static void on_join(void *user, netcore_game_server *game, uint32_t client,
                    netcore_entity_id entity)
{
    demo_server *s = user;
    (void)game;
    int slot = (int)client;
    if (s->is_bot[slot]) {
        /* A bot gives its seat to the player. */
        demo_sim_remove_player(&s->world, slot);
        s->is_bot[slot] = false;
    }
    demo_sim_add_player(&s->world, slot, NULL); /* named by its NAME message */
    s->mirror.players[slot] = entity;
    match_rec *m = match_of(s, client);
    if (m) {
        m->players++;
        m->joined = true;
    }
    s->roster_dirty = true;
    say(s, "joined", s->world.players[slot].name, slot);
}

static void on_leave(void *user, netcore_game_server *game, uint32_t client,
                     netcore_entity_id entity)
{
    demo_server *s = user;
    (void)game;
    (void)entity;
    int slot = (int)client;
    say(s, "left", s->world.players[slot].name, slot);
    demo_sim_remove_player(&s->world, slot);
    s->mirror.players[slot] = NETCORE_ENTITY_NONE;
    s->roster_dirty = true;
    match_rec *m = match_of(s, client);
    if (m && m->players > 0 && --m->players == 0) {
        end_match(s, m);
    }
}

static void on_message(void *user, netcore_game_server *game, uint32_t client, uint8_t channel,
                       const uint8_t *data, size_t size)
{
    demo_server *s = user;
    (void)game;
    char name[DEMO_NAME_MAX];
    if (channel != DEMO_NET_CHANNEL_EVENTS || !demo_net_read_name(data, size, name)) {
        s->decode_errors++;
        return;
    }
    if (name[0]) {
        memcpy(s->world.players[client].name, name, sizeof name);
        s->roster_dirty = true;
        say(s, "named", name, (int)client);
    }
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

/* Where `shooter`'s projectiles test `victim`: where the shooter saw it
 * (the session's rewind to the shooter's render tick), when it asked. */
static void rewound_position(void *user, int shooter, int victim, demo_fx *x, demo_fx *y)
{
    demo_server *s = user;
    netcore_entity_id e = s->mirror.players[victim] != NETCORE_ENTITY_NONE
                              ? s->mirror.players[victim]
                              : s->mirror.ships[victim];
    netcore_vec3 pos;
    netcore_lagcomp_result how;
    if (!s->lagcomp[shooter] || e == NETCORE_ENTITY_NONE ||
        netcore_game_server_rewind(s->game, (uint32_t)shooter, e, &pos, &how) != NETCORE_OK) {
        return;
    }
    *x = (demo_fx)(pos.x * (float)DEMO_FX_ONE);
    *y = (demo_fx)(pos.y * (float)DEMO_FX_ONE);
    s->rewind_ticks_sum += (uint64_t)llround((double)s->world.tick - how.tick);
    s->rewinds++;
}

static void take_inputs(demo_server *s, uint32_t tick, demo_input inputs[DEMO_MAX_PLAYERS])
{
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        inputs[i].buttons = 0;
        inputs[i].aim = s->world.players[i].angle;
        s->lagcomp[i] = false;
        const uint8_t *bytes = netcore_game_server_client_input(s->game, (uint32_t)i, NULL);
        if (bytes) {
            demo_net_input in;
            demo_net_input_decode(bytes, &in);
            inputs[i] = in.input;
            s->lagcomp[i] = (in.flags & DEMO_NET_FLAG_LAGCOMP) != 0;
        } else if (s->is_bot[i] && s->world.players[i].active) {
            inputs[i] = demo_bot_think(&s->world, i, tick, &s->bot_rng[i]);
        }
    }
}

/* The players' ships as the world step left them, back to the session (it
 * writes them into their entities and the lag compensation history). */
static void give_back_players(demo_server *s)
{
    for (uint32_t i = 0; i < s->config.max_players; i++) {
        void *state = netcore_game_server_client_state(s->game, i);
        if (!state) {
            continue;
        }
        demo_net_ship ship;
        memset(&ship, 0, sizeof ship);
        ship.id = (uint8_t)i;
        ship.round_state = s->world.round_state;
        ship.player = s->world.players[i];
        memset(ship.player.name, 0, sizeof ship.player.name);
        memcpy(state, &ship, sizeof ship);
    }
}

/* Bots are not session players: their ships go into the history here. */
static void record_bots(demo_server *s)
{
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        const demo_player *p = &s->world.players[i];
        if (s->is_bot[i] && p->active && s->mirror.ships[i] != NETCORE_ENTITY_NONE) {
            netcore_vec3 pos = {(float)p->x / (float)DEMO_FX_ONE, (float)p->y / (float)DEMO_FX_ONE,
                                0.0f};
            netcore_game_server_record(s->game, s->mirror.ships[i], pos);
        }
    }
}

static void send_events(demo_server *s)
{
    size_t n = demo_net_write_events(&s->world, s->msg);
    if (n > 0) {
        netcore_game_server_broadcast(s->game, DEMO_NET_CHANNEL_EVENTS, s->msg, n);
    }
    if (s->roster_dirty) {
        n = demo_net_write_roster(&s->world, s->msg);
        netcore_game_server_broadcast(s->game, DEMO_NET_CHANNEL_EVENTS, s->msg, n);
        s->roster_dirty = false;
    }
}

static void on_tick(void *user, netcore_game_server *game, uint32_t tick)
{
    demo_server *s = user;
    (void)game;
    fill_bots(s);
    demo_input inputs[DEMO_MAX_PLAYERS];
    take_inputs(s, tick, inputs);
    demo_rewind rewind = {rewound_position, s};
    demo_sim_step_rewind(&s->world, inputs, tick, &rewind);
    give_back_players(s);
    for (uint32_t e = 0; e < s->world.event_count; e++) {
        s->kills += s->world.events[e].kind == DEMO_EVENT_KILL;
        s->shots += s->world.events[e].kind == DEMO_EVENT_SHOT;
        s->hits += s->world.events[e].kind == DEMO_EVENT_HIT;
    }
    demo_net_mirror_sync(&s->schema, netcore_game_server_snapshot(s->game), &s->mirror, &s->world);
    record_bots(s);
    send_events(s);
}

static void write_state(void *user, netcore_snapshot_server *snapshots, netcore_entity_id entity,
                        const void *state)
{
    const demo_server *s = user;
    demo_net_write_ship(&s->schema, snapshots, entity, state);
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
    uint64_t next = netcore_game_server_next_tick_us(s->game);
    uint32_t until_tick = next > now ? (uint32_t)((next - now) / 1000) : 0;
    uint32_t wait = wait_ms < until_tick ? wait_ms : until_tick;
    if (s->lobby) {
        netcore_lobby_server_update(s->lobby, netcore_time_now_us(), wait);
    } else {
        netcore_game_server_wait(s->game, wait);
        demo_registry_update(s->registry, load_now(s), now_ms());
    }
    netcore_game_server_stats before, after;
    netcore_game_server_get_stats(s->game, &before);
    uint64_t t0 = netcore_time_now_us();
    netcore_game_server_update(s->game, t0);
    uint64_t spent_us = netcore_time_now_us() - t0;
    netcore_game_server_get_stats(s->game, &after);
    /* Per tick, the update's network work included. */
    uint64_t ran = after.ticks_run - before.ticks_run;
    for (uint64_t i = 0; i < ran && s->tick_samples < TICK_SAMPLES; i++) {
        s->tick_ms[s->tick_samples++] = (float)spent_us / 1000.0f / (float)ran;
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
    int slot = client < DEMO_MAX_PLAYERS ? (int)client : -1; /* a player's slot is its index */
    if (slot < 0 || entity == s->mirror.players[slot] || entity == s->mirror.ships[slot]) {
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

/* Where players are sent (written in their tokens); port 0: the port bound. */
static netcore_address public_address(const demo_server *s)
{
    netcore_address a = s->config.bind;
    if (a.family == NETCORE_ADDRESS_NONE) {
        a = netcore_address_ipv4(0, 0, 0, 0, 0);
    }
    a.port = 0;
    if (s->config.register_lobby.family != NETCORE_ADDRESS_NONE) {
        if (s->config.game_address.family != NETCORE_ADDRESS_NONE) {
            a = s->config.game_address;
        } else if (a.family == NETCORE_ADDRESS_IPV4 && memcmp(a.bytes, "\0\0\0\0", 4) == 0) {
            /* No --game-address and no --bind: players are sent to the lobby's
             * host (the usual set-up, a game server beside its lobby), never
             * to 0.0.0.0. */
            a = s->config.register_lobby;
            a.port = 0;
        }
    }
    return a;
}

static bool make_game(demo_server *s)
{
    netcore_game_server_config gc;
    netcore_game_server_config_default(&gc);
    demo_net_game_desc(&s->schema, s->config.tick_rate_hz, s->config.snapshot_rate_hz, &gc.game);
    gc.game.write_state = write_state;
    gc.game.user = s;
    gc.bind_address = s->config.bind;
    gc.bind_address.port = s->config.game_port;
    gc.max_clients = s->config.max_players;
    gc.max_entities = DEMO_NET_MAX_ENTITIES;
    gc.interest = interest;
    gc.interest_user = s;
    gc.input_buffer_ticks = 128;
    gc.lagcomp_history_ticks = REWIND_TICKS_MAX + 8;
    gc.lagcomp_max_rewind_ticks = REWIND_TICKS_MAX;
    /* Tokens from the lobby, and only CONNECTs carrying the address proof it
     * gave the player (bound to the IP the lobby saw) get a peer slot. */
    gc.require_token = true;
    memcpy(gc.token_key, s->key, sizeof gc.token_key);
    gc.public_address = public_address(s);
    gc.token_accept = accept_token;
    gc.token_accept_user = s;
    gc.game_channels[DEMO_NET_CHANNEL_EVENTS] = NETCORE_DELIVERY_RELIABLE_ORDERED;
    gc.game_channel_count = DEMO_NET_GAME_CHANNELS;
    gc.on_tick = on_tick;
    gc.on_join = on_join;
    gc.on_leave = on_leave;
    gc.on_message = on_message;
    gc.user = s;
    /* The world step moves, fires and hits in one pass: the session takes
     * the inputs, on_tick steps the players. */
    gc.game_steps_players = true;
    netcore_result r = netcore_game_server_create(&gc, &s->game);
    memset(gc.token_key, 0, sizeof gc.token_key);
    if (r != NETCORE_OK) {
        fprintf(stderr, "demo-server: cannot open the game port %u: %s\n", s->config.game_port,
                netcore_result_str(r));
        return false;
    }
    netcore_address bound;
    netcore_game_server_address(s->game, &bound);
    s->game_address = gc.public_address;
    if (s->game_address.port == 0) {
        s->game_address.port = bound.port;
    }
    return true;
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
    s->config.snapshot_rate_hz =
        s->config.tick_rate_hz / (s->config.tick_rate_hz / s->config.snapshot_rate_hz);
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
        !demo_net_schema_create(&s->schema, s->config.snapshot_format) || !make_game(s) ||
        !(registering ? make_registry(s) : make_lobby(s))) {
        demo_server_destroy(s);
        return NULL;
    }
    s->start_us = s->last_stats_us = netcore_time_now_us();
    /* The session's clock starts here, with tick 1. */
    netcore_game_server_update(s->game, s->start_us);
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
    netcore_game_server_destroy(s->game);
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
