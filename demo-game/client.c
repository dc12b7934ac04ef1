/*
 * demo-game networked client (see client.h), on the netcore session layer:
 * a netcore_game_client owns the game connection, the snapshots, clock
 * sync, interpolation, inputs and the prediction of the own ship; this file
 * adds the lobby, the demo's game description (net_proto.h), its messages
 * and the view to draw.
 *
 * A match that ends under the client (the game server died, or the lobby
 * ended the match) takes the client back to its room: the game client is
 * made anew, and the room's ready/start cycle runs again.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include "client.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net_proto.h"
#include "netcore/session.h"

#define MAX_RETURNS_WITHOUT_PLAY                                                                   \
    3                          /* back in the room this often in a row without playing: give up */
#define GOODBYE_WAIT_US 300000 /* how long destroy waits for the server's acknowledgement */

struct demo_client {
    demo_client_config config;
    char name[DEMO_NAME_MAX];
    demo_client_state state;
    netcore_lobby_client *lobby;
    bool ready_sent, start_sent;
    bool end_sent;       /* END_MATCH asked after losing the game server */
    uint64_t room_owner; /* of the own room, from the last ROOM_STATE */
    uint32_t matches, game_lost, returned, returns_without_play;
    netcore_lobby_match_start match;
    demo_net_schema schema;
    netcore_game_client *game; /* the current match's connection; NULL in the room */
    int slot;
    uint64_t snapshots_seen; /* worlds of this match (on_snapshot) */
    uint32_t newest_tick;
    demo_world server_world; /* exact, from the newest snapshot */
    demo_world view;         /* what is drawn */
    bool prediction, interpolation, lag_compensation;
    const char *link_name;
    demo_client_input_fn input_fn; /* of the update running, for sample_input */
    void *input_user;
    /* figures */
    uint64_t decode_errors; /* game messages refused */
};

static void log_line(const demo_client *c, const char *what, const char *detail)
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
static void reset_game(demo_client *c)
{
    netcore_game_client_destroy(c->game);
    c->game = NULL;
    c->slot = -1;
    c->snapshots_seen = 0;
    c->newest_tick = 0;
    demo_world_init(&c->server_world, NULL);
    demo_world_init(&c->view, NULL);
}

/* Back to the room after the match ended under this client; the room's
 * ready/start cycle (on_lobby_event) starts the next match. */
static void back_to_room(demo_client *c, const char *why)
{
    log_line(c, "back in the room", why);
    reset_game(c);
    if (++c->returns_without_play > MAX_RETURNS_WITHOUT_PLAY) {
        log_line(c, "giving up", "no game server could be joined");
        c->state = DEMO_CLIENT_FAILED;
        return;
    }
    c->state = DEMO_CLIENT_LOBBY;
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

static void start_game(demo_client *c)
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
        log_line(c, "cannot connect to the game server", text);
        c->state = DEMO_CLIENT_FAILED;
        return;
    }
    log_line(c, "joining the game server", text);
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
    log_line(c, "left the game server", why);
    bool gone = gs.disconnect_reason == NETCORE_DISCONNECT_TIMEOUT ||
                gs.disconnect_reason == NETCORE_DISCONNECT_CONNECT_FAILED;
    c->game_lost += gone;
    if (gone && c->lobby && netcore_lobby_client_is_connected(c->lobby)) {
        /* The lobby still counts the match as playing: the room's owner
         * ends it, and every member then gets MATCH_END. */
        back_to_room(c, "the game server is gone");
        if (c->state == DEMO_CLIENT_LOBBY && c->room_owner == netcore_lobby_client_id(c->lobby)) {
            c->end_sent = netcore_lobby_client_end_match(c->lobby) == NETCORE_OK;
        }
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
        log_line(c, "the game server gave a slot out of range", NULL);
        c->state = DEMO_CLIENT_FAILED;
        return;
    }
    netcore_game_client_send(c->game, DEMO_NET_CHANNEL_EVENTS, msg,
                             demo_net_write_name(c->name, msg));
    c->state = DEMO_CLIENT_PLAYING;
    c->returns_without_play = 0;
    log_line(c, "playing", NULL);
}

/* ---- lobby ---- */

static void on_lobby_event(void *user, const netcore_lobby_event *e)
{
    demo_client *c = user;
    if (e->type == NETCORE_LOBBY_EVENT_ROOM_STATE && e->room) {
        c->room_owner = e->room->owner_id;
    }
    if (e->type == NETCORE_LOBBY_EVENT_MATCH_END && c->match.match_id != 0 &&
        e->match_id == c->match.match_id && c->state != DEMO_CLIENT_FAILED) {
        /* The room is back from its match, every member unready: ready
         * again, and the owner starts the next match. */
        c->returned++;
        c->end_sent = false;
        c->ready_sent = c->start_sent = false;
        c->match.match_id = 0;
        if (c->state != DEMO_CLIENT_LOBBY) {
            back_to_room(c, e->match_end_reason == NETCORE_LOBBY_MATCH_GAME_SERVER_LOST
                                ? "the game server was lost; the lobby ended the match"
                                : "the lobby ended the match");
        }
        return;
    }
    if (e->type == NETCORE_LOBBY_EVENT_ERROR && c->end_sent &&
        e->error_code == NETCORE_LOBBY_ERR_STATE) {
        /* The match was already over when END_MATCH arrived: MATCH_END
         * is on its way. */
        c->end_sent = false;
        return;
    }
    if (c->state != DEMO_CLIENT_LOBBY) {
        return;
    }
    if (e->type == NETCORE_LOBBY_EVENT_WELCOME) {
        netcore_lobby_room_params p;
        memset(&p, 0, sizeof p);
        snprintf(p.name, sizeof p.name, "%s", c->name);
        p.max_players = 1;
        netcore_lobby_client_create_room(c->lobby, &p);
    } else if (e->type == NETCORE_LOBBY_EVENT_ROOM_STATE && e->room) {
        uint64_t me = netcore_lobby_client_id(c->lobby);
        bool all_ready = e->room->member_count > 0;
        for (uint8_t i = 0; i < e->room->member_count; i++) {
            all_ready = all_ready && e->room->members[i].ready;
        }
        if (!c->ready_sent) {
            c->ready_sent = netcore_lobby_client_set_ready(c->lobby, true) == NETCORE_OK;
        } else if (all_ready && e->room->owner_id == me && !e->room->in_match && !c->start_sent) {
            c->start_sent = netcore_lobby_client_start_match(c->lobby) == NETCORE_OK;
        }
    } else if (e->type == NETCORE_LOBBY_EVENT_MATCH_START && e->match) {
        c->match = *e->match;
        c->matches++;
        start_game(c);
    } else if (e->type == NETCORE_LOBBY_EVENT_ERROR ||
               e->type == NETCORE_LOBBY_EVENT_DISCONNECTED) {
        log_line(c, "lobby",
                 e->text && e->text[0] ? e->text : netcore_lobby_error_str(e->error_code));
        c->state = DEMO_CLIENT_FAILED;
    }
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

static demo_client *alloc_client(const demo_client_config *config)
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

demo_client *demo_client_create(const demo_client_config *config)
{
    demo_client *c = alloc_client(config);
    if (!c) {
        return NULL;
    }
    netcore_lobby_client_config lc;
    netcore_lobby_client_config_default(&lc);
    lc.on_event = on_lobby_event;
    lc.event_user = c;
    demo_trust_apply(config->trust, NULL, &lc);
    if (netcore_lobby_client_create(&lc, &c->lobby) != NETCORE_OK ||
        netcore_lobby_client_connect(c->lobby, &config->lobby, c->name, netcore_time_now_us()) !=
            NETCORE_OK) {
        fprintf(stderr, "demo-game: cannot reach the lobby\n");
        demo_client_destroy(c);
        return NULL;
    }
    return c;
}

demo_client *demo_client_create_for_match(const demo_client_config *config,
                                          const netcore_lobby_match_start *match)
{
    demo_client *c = alloc_client(config);
    if (!c) {
        return NULL;
    }
    c->match = *match;
    start_game(c);
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
