/*
 * demo-game networked client (see client.h), on the netcore session layer:
 * a netcore_game_client owns the game connection, the snapshots, clock
 * sync, interpolation, inputs and the prediction of the own ship; this file
 * adds the demo's game description (net_proto.h), its messages and the view
 * to draw. client_room.c has the lobby side.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

#define GOODBYE_WAIT_US 300000 /* how long destroy waits for the server's acknowledgement */

void demo_client_log(const demo_client *c, const char *what, const char *detail)
{
    if (!c->config.quiet) {
        fprintf(stderr, "demo-game [%s]: %s%s%s\n", c->name, what, detail ? ": " : "",
                detail ? detail : "");
    }
}

/* ---- the session's callbacks ---- */

static void sample_input(void *user, netcore_game_client *game, uint32_t tick, void *out)
{
    demo_client *c = user;
    (void)game;
    demo_net_input in;
    memset(&in, 0, sizeof in);
    if (c->slot < 0) { /* welcomed within this very update: no ship known yet */
        demo_net_input_encode(&in, out);
        return;
    }
    in.input.aim = c->view.players[c->slot].angle;
    if (c->input_fn && c->server_world.players[c->slot].active) {
        in.input = c->input_fn(c->input_user, &c->view, c->slot, tick);
    }
    in.flags = c->lag_compensation ? DEMO_NET_FLAG_LAGCOMP : 0;
    demo_net_input_encode(&in, out);
}

static bool read_state(void *user, const netcore_snapshot_client *snapshots,
                       netcore_entity_id entity, void *out_state)
{
    const demo_client *c = user;
    return demo_net_read_ship(&c->schema, snapshots, entity, out_state);
}

static void on_message(void *user, netcore_game_client *game, uint8_t channel, const uint8_t *data,
                       size_t size)
{
    demo_client *c = user;
    (void)game;
    demo_world ev;
    if (channel == DEMO_NET_CHANNEL_EVENTS && size > 0 && data[0] == DEMO_MSG_ROSTER &&
        demo_net_read_roster(data, size, &c->server_world)) {
        for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
            memcpy(c->view.players[i].name, c->server_world.players[i].name, DEMO_NAME_MAX);
        }
    } else if (channel == DEMO_NET_CHANNEL_EVENTS && size > 0 && data[0] == DEMO_MSG_EVENTS &&
               demo_net_read_events(data, size, &ev)) {
        for (uint32_t i = 0; i < ev.event_count && c->view.event_count < DEMO_MAX_EVENTS; i++) {
            c->view.events[c->view.event_count++] = ev.events[i];
        }
    } else {
        c->decode_errors++;
    }
}

/* A new world: the exact one, for the own ship's figures and the view. */
static void on_snapshot(void *user, netcore_game_client *game, uint32_t tick)
{
    demo_client *c = user;
    c->snapshots_seen++;
    c->newest_tick = tick;
    demo_net_world_from_snapshot(&c->schema, netcore_game_client_snapshot(game), &c->server_world);
    c->server_world.tick = tick;
}

/* ---- game connection ---- */

/* Drops the game connection and everything of the match, so that the next
 * match starts clean. */
void demo_client_reset_game(demo_client *c)
{
    netcore_game_client_destroy(c->game);
    c->game = NULL;
    c->slot = -1;
    c->snapshots_seen = 0;
    c->newest_tick = 0;
    demo_world_init(&c->server_world, NULL);
    demo_world_init(&c->view, NULL);
}

static netcore_result make_game(demo_client *c)
{
    netcore_game_client_config cc;
    netcore_game_client_config_default(&cc);
    demo_net_game_desc(&c->schema, DEMO_TICK_RATE_HZ, DEMO_NET_SNAPSHOT_RATE_HZ, &cc.game);
    cc.game.read_state = read_state;
    cc.game.user = c;
    /* Always enabled, so that the link presets can be switched in game. */
    cc.conditioner.enabled = true;
    cc.conditioner.seed = c->config.seed;
    cc.conditioner.inbound = c->config.link;
    cc.conditioner.outbound = c->config.link;
    cc.sample_input = sample_input;
    cc.on_message = on_message;
    cc.on_snapshot = on_snapshot;
    cc.user = c;
    cc.game_channels[DEMO_NET_CHANNEL_EVENTS] = NETCORE_DELIVERY_RELIABLE_ORDERED;
    cc.game_channel_count = DEMO_NET_GAME_CHANNELS;
    cc.predict_tolerance = 1e-6f; /* the step is exact: any difference is a correction */
    cc.snap_distance = 100.0f;    /* units: a respawn is shown at once */
    netcore_result r = netcore_game_client_create(&cc, &c->game);
    if (r == NETCORE_OK) {
        demo_net_interp_types(&c->schema, netcore_game_client_interp(c->game));
    }
    return r;
}

void demo_client_start_game(demo_client *c)
{
    /* The lobby's token, proof and session keys seal the game traffic (a
     * lobby of version 2 or less gives no keys: a sealing server then
     * refuses the connection). */
    netcore_address to;
    netcore_connect_options opt;
    char text[NETCORE_ADDRESS_STRLEN] = "(no token)";
    netcore_result r = netcore_lobby_match_connect_options(&c->match, &c->config.lobby, &to, &opt);
    if (r == NETCORE_OK) {
        netcore_address_format(&to, text, sizeof text);
    }
    if (r != NETCORE_OK || make_game(c) != NETCORE_OK ||
        netcore_game_client_connect(c->game, &to, &opt) != NETCORE_OK) {
        demo_client_log(c, "cannot connect to the game server", text);
        c->state = DEMO_CLIENT_FAILED;
        return;
    }
    demo_client_log(c, "joining the game server", text);
    c->state = DEMO_CLIENT_JOINING;
}

/* The game connection ended: a server that went silent sends the client
 * back to its room (and the room's owner ends the match there); anything
 * else ends the client. */
static void on_game_over(demo_client *c)
{
    netcore_game_client_stats gs;
    netcore_game_client_get_stats(c->game, &gs);
    char why[96];
    snprintf(why, sizeof why, "%s (code %u)", netcore_disconnect_reason_str(gs.disconnect_reason),
             (unsigned)gs.disconnect_code);
    demo_client_log(c, "left the game server", why);
    bool gone = gs.disconnect_reason == NETCORE_DISCONNECT_TIMEOUT ||
                gs.disconnect_reason == NETCORE_DISCONNECT_CONNECT_FAILED;
    c->game_lost += gone;
    if (gone && demo_client_room_game_lost(c)) {
        return;
    }
    c->state = c->state == DEMO_CLIENT_PLAYING ? DEMO_CLIENT_CLOSED : DEMO_CLIENT_FAILED;
}

/* Welcomed: the ship's slot is the session's client index; the server
 * learns the nickname from a NAME message. */
static void on_playing(demo_client *c)
{
    uint8_t msg[DEMO_NET_MAX_MESSAGE];
    c->slot = (int)netcore_game_client_index(c->game);
    if (c->slot < 0 || c->slot >= DEMO_MAX_PLAYERS) {
        demo_client_log(c, "the game server gave a slot out of range", NULL);
        c->state = DEMO_CLIENT_FAILED;
        return;
    }
    netcore_game_client_send(c->game, DEMO_NET_CHANNEL_EVENTS, msg,
                             demo_net_write_name(c->name, msg));
    c->state = DEMO_CLIENT_PLAYING;
    c->returns_without_play = 0;
    demo_client_log(c, "playing", NULL);
}

/* ---- view ---- */

static void build_view(demo_client *c)
{
    /* The view keeps its events (received since demo_client_clear_events). */
    demo_world *v = &c->view;
    if (c->interpolation) {
        demo_net_world_from_interp(&c->schema, netcore_game_client_interp(c->game), v);
    } else {
        memcpy(v->players, c->server_world.players, sizeof v->players);
        memcpy(v->projectiles, c->server_world.projectiles, sizeof v->projectiles);
    }
    v->round_state = c->server_world.round_state;
    v->round_number = c->server_world.round_number;
    v->state_ticks_left = c->server_world.state_ticks_left;
    v->tick = c->newest_tick;
    const demo_player *srv = &c->server_world.players[c->slot];
    if (srv->active) {
        /* Scores, health and death come from the server even when predicted. */
        demo_player *me = &v->players[c->slot];
        *me = *srv;
        const demo_net_ship *st = netcore_game_client_predicted_state(c->game, NULL);
        if (c->prediction && st && srv->alive && st->player.alive) {
            netcore_vec3 pos = netcore_game_client_predicted_position(c->game);
            me->x = (demo_fx)lround((double)pos.x * DEMO_FX_ONE);
            me->y = (demo_fx)lround((double)pos.y * DEMO_FX_ONE);
            me->vx = st->player.vx;
            me->vy = st->player.vy;
            me->angle = st->player.angle;
        }
    }
}

void demo_client_update(demo_client *c, uint64_t now_us, demo_client_input_fn input_fn, void *user)
{
    if (c->lobby) {
        netcore_lobby_client_update(c->lobby, now_us);
    }
    if (!c->game || c->state == DEMO_CLIENT_FAILED || c->state == DEMO_CLIENT_CLOSED) {
        return;
    }
    c->input_fn = input_fn;
    c->input_user = user;
    netcore_game_client_update(c->game, now_us);
    netcore_game_client_state gs = netcore_game_client_get_state(c->game);
    if (gs == NETCORE_GAME_CLIENT_DISCONNECTED) {
        on_game_over(c);
        return;
    }
    if (gs == NETCORE_GAME_CLIENT_PLAYING && c->state == DEMO_CLIENT_JOINING) {
        on_playing(c);
    }
    if (c->state != DEMO_CLIENT_PLAYING || c->snapshots_seen == 0) {
        return;
    }
    build_view(c);
}

/* ---- life cycle ---- */

demo_client *demo_client_alloc(const demo_client_config *config)
{
    demo_client *c = calloc(1, sizeof *c);
    if (!c) {
        return NULL;
    }
    c->config = *config;
    snprintf(c->name, sizeof c->name, "%s",
             config->name && config->name[0] ? config->name : "player");
    c->config.name = c->name;
    c->slot = -1;
    c->prediction = c->interpolation = c->lag_compensation = true;
    c->link_name = "custom";
    demo_world_init(&c->server_world, NULL);
    demo_world_init(&c->view, NULL);
    if (!demo_net_schema_create(&c->schema, config->snapshot_format)) {
        free(c);
        return NULL;
    }
    return c;
}

demo_client *demo_client_create_for_match(const demo_client_config *config,
                                          const netcore_lobby_match_start *match)
{
    demo_client *c = demo_client_alloc(config);
    if (!c) {
        return NULL;
    }
    c->match = *match;
    demo_client_start_game(c);
    return c;
}

void demo_client_destroy(demo_client *c)
{
    if (!c) {
        return;
    }
    if (c->game && netcore_game_client_disconnect(c->game) == NETCORE_OK) {
        /* Wait briefly (bounded) for the server's acknowledgement, so the
         * seat is freed at once rather than after the peer timeout. */
        uint64_t until = netcore_time_now_us() + GOODBYE_WAIT_US;
        struct timespec pause = {0, 2000000};
        while (netcore_time_now_us() < until &&
               netcore_game_client_get_state(c->game) != NETCORE_GAME_CLIENT_DISCONNECTED &&
               netcore_game_client_update(c->game, netcore_time_now_us()) == NETCORE_OK) {
            nanosleep(&pause, NULL);
        }
    }
    netcore_game_client_destroy(c->game);
    if (c->lobby) {
        if (netcore_lobby_client_is_connected(c->lobby)) {
            netcore_lobby_client_disconnect(c->lobby);
            netcore_lobby_client_update(c->lobby, netcore_time_now_us());
        }
        netcore_lobby_client_destroy(c->lobby);
    }
    demo_net_schema_destroy(&c->schema);
    free(c);
}

/* ---- accessors ---- */

const char *demo_client_state_name(demo_client_state state)
{
    static const char *const names[] = {"lobby", "joining", "playing", "closed"};
    return (unsigned)state < sizeof names / sizeof names[0] ? names[state] : "failed";
}

demo_client_state demo_client_get_state(const demo_client *c)
{
    return c->state;
}

int demo_client_slot(const demo_client *c)
{
    return c->slot;
}

const demo_world *demo_client_view(const demo_client *c)
{
    return c->snapshots_seen > 0 ? &c->view : NULL;
}

void demo_client_clear_events(demo_client *c)
{
    c->view.event_count = 0;
}

void demo_client_set_prediction(demo_client *c, bool on)
{
    c->prediction = on;
}

void demo_client_set_interpolation(demo_client *c, bool on)
{
    c->interpolation = on;
}

void demo_client_set_lag_compensation(demo_client *c, bool on)
{
    c->lag_compensation = on;
}

void demo_client_set_link(demo_client *c, const netcore_link_profile *profile, const char *name)
{
    c->config.link = *profile;
    c->link_name = name;
    if (c->game) {
        netcore_host_set_conditioner(netcore_game_client_host(c->game), profile, profile);
    }
}

void demo_client_get_stats(const demo_client *c, demo_client_stats *out)
{
    memset(out, 0, sizeof *out);
    out->connected = c->state == DEMO_CLIENT_PLAYING;
    out->state = c->state;
    out->matches = c->matches;
    out->game_lost = c->game_lost;
    out->returned = c->returned;
    out->game_port = c->matches > 0 ? c->match.server_address.port : 0;
    out->decode_errors = c->decode_errors;
    netcore_game_client_stats gs;
    if (c->game && netcore_game_client_get_stats(c->game, &gs) == NETCORE_OK) {
        out->decode_errors += gs.snapshots_rejected + gs.welcome_rejected;
        out->snapshots = gs.snapshots_decoded;
        out->corrections = gs.corrections;
        out->rtt_ms = gs.rtt_ms;
        out->loss_pct = gs.loss_pct;
        out->sealed = gs.sealed;
    }
    netcore_host_stats hs;
    if (c->game && netcore_host_get_stats(netcore_game_client_host(c->game), &hs) == NETCORE_OK) {
        /* One peer, the game server: the host's totals are that connection's. */
        out->in_kbps = hs.traffic.in_bytes_per_s * 8.0f / 1000.0f;
        out->out_kbps = hs.traffic.out_bytes_per_s * 8.0f / 1000.0f;
        out->crypto_auth_rejected = hs.crypto_auth_rejected;
    }
    if (c->slot >= 0) {
        out->score = c->server_world.players[c->slot].score;
        out->deaths = c->server_world.players[c->slot].deaths;
    }
}

void demo_client_figures(demo_client *c, demo_netgraph_figures *f)
{
    demo_client_stats st;
    demo_client_get_stats(c, &st);
    memset(f, 0, sizeof *f);
    f->rtt_ms = st.rtt_ms;
    f->loss_pct = st.loss_pct;
    f->in_kbps = st.in_kbps;
    f->out_kbps = st.out_kbps;
    netcore_game_client_stats gs;
    if (c->game && netcore_game_client_get_stats(c->game, &gs) == NETCORE_OK) {
        f->snapshot_rate_hz = gs.snapshot_rate_hz;
        f->interp_delay_ms = c->interpolation ? gs.interp_delay_ms : 0.0f;
        f->extrapolation_pct = gs.recent_extrapolated_pct;
    }
    f->prediction_corrections = (uint32_t)st.corrections;
    f->prediction_on = c->prediction;
    f->interpolation_on = c->interpolation;
    f->lag_compensation_on = c->lag_compensation;
    f->link_preset = c->link_name;
    f->networked = c->game != NULL && st.connected;
    f->sealed = st.sealed;
    f->crypto_auth_rejected = st.crypto_auth_rejected;
    f->snapshot_format =
        netcore_snapshot_format_name(netcore_schema_snapshot_format(c->schema.schema));
}
