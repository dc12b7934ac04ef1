/*
 * demo-game networked client (see client.h).
 *
 * Per update: lobby traffic, then game events (snapshots are decoded, fed to
 * the clock sync and the interpolator, and the own ship's server state is
 * reconciled with the prediction), then the client ticks the clock sync says
 * are due (input, prediction step, one input packet per tick carrying the
 * snapshot ack), then the view for this frame.
 *
 * A match that ends under the client (the game server died, or the lobby
 * ended the match) takes the client back to its room: every per-game object
 * is made anew, and the room's ready/start cycle runs again.
 */
#include "client.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_proto.h"
#include "netcore/input.h"
#include "netcore/interp.h"
#include "netcore/predict.h"
#include "netcore/snapshot.h"
#include "netcore/timesync.h"

#define MAX_RETURNS_WITHOUT_PLAY                                                                   \
    3 /* back in the room this often in a row without playing: give up */

/* What the predictor steps: the own ship alone. */
typedef struct pred_state {
    demo_player player;
} pred_state;

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
    netcore_host *host;
    netcore_peer_id server;
    demo_net_schema schema;
    netcore_snapshot_client *snap;
    netcore_timesync *sync;
    netcore_interp *interp;
    netcore_input_client *input;
    netcore_predict *predict;
    int slot;
    bool have_snapshot;
    uint32_t newest_tick;
    demo_world server_world; /* exact, from the newest snapshot */
    uint32_t last_input[DEMO_MAX_PLAYERS];
    demo_world view;    /* what is drawn */
    demo_world scratch; /* the predictor's step runs the sim on it */
    bool prediction, interpolation, lag_compensation;
    const char *link_name;
    uint64_t last_frame_us;
    /* figures */
    uint64_t decode_errors, snapshots;
    uint64_t window_start_us, window_snapshots;
    float snapshot_rate_hz;
    uint64_t interp_frames_base, interp_extrap_base;
    float extrapolation_pct;
};

static void log_line(const demo_client *c, const char *what, const char *detail)
{
    if (!c->config.quiet) {
        fprintf(stderr, "demo-game [%s]: %s%s%s\n", c->name, what, detail ? ": " : "",
                detail ? detail : "");
    }
}

/* ---- prediction callbacks ---- */

static void predict_simulate(void *user, void *state, const void *input, uint32_t tick)
{
    demo_client *c = user;
    pred_state *st = state;
    demo_net_input in;
    (void)tick;
    demo_net_input_decode(input, &in);
    c->scratch.round_state = c->server_world.round_state;
    c->scratch.players[c->slot] = st->player;
    demo_sim_step_player(&c->scratch, c->slot, &in.input);
    st->player = c->scratch.players[c->slot];
}

static float predict_error(void *user, const void *predicted, const void *authoritative)
{
    (void)user;
    const demo_player *a = &((const pred_state *)predicted)->player;
    const demo_player *b = &((const pred_state *)authoritative)->player;
    if (a->alive != b->alive || a->active != b->active) {
        return 1000.0f;
    }
    double dx = fabs((double)a->x - b->x) / DEMO_FX_ONE;
    double dy = fabs((double)a->y - b->y) / DEMO_FX_ONE;
    double dv = (fabs((double)a->vx - b->vx) + fabs((double)a->vy - b->vy)) / DEMO_FX_ONE;
    /* Any difference in the exact state is an error: the kernel is
     * deterministic, so only a repeated input, a hit or a respawn differs. */
    double e = dx + dy + dv + (a->fire_cooldown != b->fire_cooldown ? 1.0 : 0.0);
    return (float)e;
}

static netcore_vec3 predict_position(void *user, const void *state)
{
    (void)user;
    const demo_player *p = &((const pred_state *)state)->player;
    netcore_vec3 v = {(float)p->x / DEMO_FX_ONE, (float)p->y / DEMO_FX_ONE, 0.0f};
    return v;
}

static pred_state own_state(const demo_client *c)
{
    pred_state st;
    memset(&st, 0, sizeof st); /* padding too: the predictor compares and copies bytes */
    st.player = c->server_world.players[c->slot];
    memset(st.player.name, 0, sizeof st.player.name);
    st.player.last_attacker = 0;
    return st;
}

/* ---- game connection ---- */

static bool make_netcode(demo_client *c, uint32_t tick_rate, uint32_t snapshot_rate)
{
    netcore_timesync_config tc;
    netcore_timesync_config_default(&tc);
    tc.tick_rate_hz = tick_rate;
    netcore_interp_config ic;
    netcore_interp_config_default(&ic);
    ic.schema = c->schema.schema;
    ic.max_entities = 1024;
    ic.tick_rate_hz = tick_rate;
    ic.snapshot_rate_hz = snapshot_rate;
    netcore_predict_config pc;
    netcore_predict_config_default(&pc);
    pc.state_size_bytes = sizeof(pred_state);
    pc.input_size_bytes = DEMO_NET_INPUT_BYTES;
    pc.tick_rate_hz = tick_rate;
    pc.simulate = predict_simulate;
    pc.error = predict_error;
    pc.position = predict_position;
    pc.user = c;
    pc.tolerance = 1e-6f;
    pc.snap_distance = 100.0f; /* units: a respawn is shown at once */
    if (netcore_timesync_create(&tc, &c->sync) != NETCORE_OK ||
        netcore_interp_create(&ic, &c->interp) != NETCORE_OK ||
        netcore_predict_create(&pc, &c->predict) != NETCORE_OK) {
        return false;
    }
    demo_net_interp_types(&c->schema, c->interp);
    return true;
}

/* Drops the game connection (with a bounded goodbye when still connected)
 * and every per-game object, so that the next match starts clean. The
 * snapshot and input clients are made anew; false if that fails. */
static bool reset_game(demo_client *c, bool goodbye)
{
    if (c->host) {
        if (goodbye && (c->state == DEMO_CLIENT_PLAYING || c->state == DEMO_CLIENT_JOINING)) {
            netcore_host_disconnect(c->host, c->server, 0);
            netcore_host_flush(c->host);
        }
        netcore_host_destroy(c->host);
        c->host = NULL;
    }
    netcore_predict_destroy(c->predict);
    netcore_interp_destroy(c->interp);
    netcore_timesync_destroy(c->sync);
    netcore_input_client_destroy(c->input);
    netcore_snapshot_client_destroy(c->snap);
    c->predict = NULL;
    c->interp = NULL;
    c->sync = NULL;
    c->input = NULL;
    c->snap = NULL;
    c->slot = -1;
    c->have_snapshot = false;
    c->newest_tick = 0;
    c->last_frame_us = 0;
    c->window_snapshots = 0;
    c->interp_frames_base = c->interp_extrap_base = 0;
    c->extrapolation_pct = 0.0f;
    memset(c->last_input, 0, sizeof c->last_input);
    demo_world_init(&c->server_world, NULL);
    demo_world_init(&c->view, NULL);
    netcore_snapshot_client_config sc;
    netcore_snapshot_client_config_default(&sc);
    sc.schema = c->schema.schema;
    netcore_input_client_config ic;
    netcore_input_client_config_default(&ic);
    ic.input_size_bytes = DEMO_NET_INPUT_BYTES;
    return netcore_snapshot_client_create(&sc, &c->snap) == NETCORE_OK &&
           netcore_input_client_create(&ic, &c->input) == NETCORE_OK;
}

/* Back to the room after the match ended under this client; the room's
 * ready/start cycle (on_lobby_event) starts the next match. */
static void back_to_room(demo_client *c, const char *why, bool goodbye)
{
    log_line(c, "back in the room", why);
    if (++c->returns_without_play > MAX_RETURNS_WITHOUT_PLAY || !reset_game(c, goodbye)) {
        log_line(c, "giving up", "no game server could be joined");
        c->state = DEMO_CLIENT_FAILED;
        return;
    }
    c->state = DEMO_CLIENT_LOBBY;
}

static void start_game(demo_client *c)
{
    netcore_address to = c->match.server_address;
    if (to.family == NETCORE_ADDRESS_IPV4 && !to.bytes[0] && !to.bytes[1] && !to.bytes[2] &&
        !to.bytes[3]) {
        uint16_t port = to.port;
        to = c->config.lobby;
        to.port = port;
    }
    netcore_host_config hc;
    netcore_host_config_default(&hc);
    hc.channel_count = DEMO_NET_CHANNELS;
    hc.max_peers = 1;
    /* Always enabled, so that the link presets can be switched in game. */
    hc.conditioner.enabled = true;
    hc.conditioner.seed = c->config.seed;
    hc.conditioner.inbound = c->config.link;
    hc.conditioner.outbound = c->config.link;
    netcore_connect_options opt;
    memset(&opt, 0, sizeof opt);
    opt.token = c->match.token;
    opt.token_size_bytes = c->match.token_size_bytes;
    opt.connect_data = c->match.connect_proof;
    /* The lobby's session keys seal the game traffic (a lobby of version 2
     * or less gives none: a sealing server then refuses the connection). */
    opt.session_keys = c->match.has_session_keys ? &c->match.session_keys : NULL;
    char text[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&to, text, sizeof text);
    if (netcore_host_create(&hc, &c->host) != NETCORE_OK ||
        netcore_host_connect(c->host, &to, &opt, &c->server) != NETCORE_OK) {
        log_line(c, "cannot connect to the game server", text);
        c->state = DEMO_CLIENT_FAILED;
        return;
    }
    log_line(c, "joining the game server", text);
    c->state = DEMO_CLIENT_JOINING;
}

static void on_snapshot(demo_client *c, const uint8_t *data, size_t size, uint64_t now_us)
{
    netcore_result r = netcore_snapshot_client_read(c->snap, data, size);
    if (r == NETCORE_ERR_MALFORMED || r == NETCORE_ERR_MISMATCH) {
        c->decode_errors++;
    }
    uint32_t tick = 0;
    if (r != NETCORE_OK || netcore_snapshot_client_sequence(c->snap, NULL, &tick) != NETCORE_OK ||
        (c->have_snapshot && (int32_t)(tick - c->newest_tick) <= 0)) {
        return; /* refused, or older than the newest: kept only as a baseline */
    }
    c->snapshots++;
    c->window_snapshots++;
    c->have_snapshot = true;
    c->newest_tick = tick;
    netcore_timesync_on_snapshot(c->sync, tick, now_us);
    netcore_interp_push(c->interp, c->snap, netcore_timesync_server_time_us(c->sync, now_us));
    demo_net_world_from_snapshot(&c->schema, c->snap, &c->server_world, c->last_input);
    c->server_world.tick = tick;
    if (c->slot < 0 || !c->server_world.players[c->slot].active) {
        return;
    }
    uint32_t applied = c->last_input[c->slot];
    if (applied > 0 && netcore_predict_is_started(c->predict)) {
        pred_state st = own_state(c);
        netcore_predict_reconcile(c->predict, applied, &st, NULL);
        netcore_input_client_ack(c->input, applied);
    }
}

static void on_control(demo_client *c, const uint8_t *data, size_t size)
{
    uint8_t slot = 0;
    uint16_t tick_rate = 0;
    uint16_t snap_rate = 0;
    if (size > 0 && data[0] == DEMO_MSG_WELCOME && c->slot < 0 &&
        demo_net_read_welcome(data, size, &slot, &tick_rate, &snap_rate)) {
        if (!make_netcode(c, tick_rate, snap_rate)) {
            log_line(c, "cannot set up the client netcode", NULL);
            c->state = DEMO_CLIENT_FAILED;
            return;
        }
        c->slot = slot;
        c->state = DEMO_CLIENT_PLAYING;
        c->returns_without_play = 0;
        log_line(c, "playing", NULL);
    } else if (size > 0 && data[0] == DEMO_MSG_ROSTER &&
               demo_net_read_roster(data, size, &c->server_world)) {
        for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
            memcpy(c->view.players[i].name, c->server_world.players[i].name, DEMO_NAME_MAX);
        }
    } else if (size > 0 && data[0] == DEMO_MSG_EVENTS) {
        demo_world ev;
        ev.event_count = 0;
        if (!demo_net_read_events(data, size, &ev)) {
            c->decode_errors++;
            return;
        }
        for (uint32_t i = 0; i < ev.event_count && c->view.event_count < DEMO_MAX_EVENTS; i++) {
            c->view.events[c->view.event_count++] = ev.events[i];
        }
    } else {
        c->decode_errors++;
    }
}

static void poll_game(demo_client *c, uint64_t now_us)
{
    netcore_event ev;
    for (int guard = 0; guard < 10000; guard++) {
        if (netcore_host_poll(c->host, 0, &ev) != NETCORE_OK || ev.type == NETCORE_EVENT_NONE) {
            return;
        }
        if (ev.type == NETCORE_EVENT_CONNECT) {
            uint8_t msg[DEMO_NET_MAX_MESSAGE];
            size_t n = demo_net_write_hello(c->schema.hash, c->name, msg);
            netcore_host_send(c->host, c->server, DEMO_NET_CHANNEL_CONTROL, msg, n);
        } else if (ev.type == NETCORE_EVENT_DISCONNECT) {
            char why[96];
            snprintf(why, sizeof why, "%s (code %u)", netcore_disconnect_reason_str(ev.reason),
                     (unsigned)ev.code);
            log_line(c, "left the game server", why);
            bool gone = ev.reason == NETCORE_DISCONNECT_TIMEOUT ||
                        ev.reason == NETCORE_DISCONNECT_CONNECT_FAILED;
            c->game_lost += gone;
            if (gone && c->lobby && netcore_lobby_client_is_connected(c->lobby)) {
                /* The game server died: the lobby still counts the match
                 * as playing, so the room's owner ends it; every member
                 * then gets MATCH_END. */
                back_to_room(c, "the game server is gone", false);
                if (c->state == DEMO_CLIENT_LOBBY &&
                    c->room_owner == netcore_lobby_client_id(c->lobby)) {
                    c->end_sent = netcore_lobby_client_end_match(c->lobby) == NETCORE_OK;
                }
                return;
            }
            c->state = c->state == DEMO_CLIENT_PLAYING ? DEMO_CLIENT_CLOSED : DEMO_CLIENT_FAILED;
            return;
        } else if (ev.type == NETCORE_EVENT_RECEIVE) {
            if (ev.channel == DEMO_NET_CHANNEL_GAME && c->slot >= 0) {
                on_snapshot(c, ev.data, ev.size_bytes, now_us);
            } else if (ev.channel == DEMO_NET_CHANNEL_CONTROL) {
                on_control(c, ev.data, ev.size_bytes);
            } else {
                c->decode_errors++;
            }
        }
    }
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
            back_to_room(c,
                         e->match_end_reason == NETCORE_LOBBY_MATCH_GAME_SERVER_LOST
                             ? "the game server was lost; the lobby ended the match"
                             : "the lobby ended the match",
                         true);
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

/* ---- ticks and view ---- */

static void run_tick(demo_client *c, uint32_t tick, demo_client_input_fn input_fn, void *user)
{
    if (!netcore_predict_is_started(c->predict)) {
        pred_state st = own_state(c);
        netcore_predict_reset(c->predict, tick - 1, &st);
    }
    demo_net_input in;
    memset(&in, 0, sizeof in);
    in.input.aim = c->view.players[c->slot].angle;
    if (input_fn) {
        in.input = input_fn(user, &c->view, c->slot, tick);
    }
    if (c->lag_compensation) {
        in.flags |= DEMO_NET_FLAG_LAGCOMP;
        double view_tick =
            c->interpolation ? netcore_interp_render_tick(c->interp) : (double)c->newest_tick;
        in.view_tick_q8 = view_tick > 0 ? (uint32_t)llround(view_tick * 256.0) : 0;
    }
    uint8_t bytes[DEMO_NET_INPUT_BYTES];
    demo_net_input_encode(&in, bytes);
    if (netcore_input_client_add(c->input, tick, bytes) != NETCORE_OK) {
        return;
    }
    if (netcore_predict_step(c->predict, tick, bytes) == NETCORE_ERR_STATE) {
        pred_state st = own_state(c);
        netcore_predict_reset(c->predict, tick - 1, &st);
        netcore_predict_step(c->predict, tick, bytes);
    }
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t ack_size = 0;
    if (netcore_snapshot_client_write_ack(c->snap, ack, sizeof ack, &ack_size) != NETCORE_OK) {
        ack_size = 0;
    }
    uint8_t packet[DEMO_NET_MAX_MESSAGE];
    size_t written = 0;
    if (netcore_input_client_write(c->input, ack, ack_size, packet, sizeof packet, &written) ==
        NETCORE_OK) {
        netcore_host_send(c->host, c->server, DEMO_NET_CHANNEL_GAME, packet, written);
    }
}

static void build_view(demo_client *c)
{
    demo_world *v = &c->view;
    uint32_t events = v->event_count;
    demo_event saved[DEMO_MAX_EVENTS];
    memcpy(saved, v->events, sizeof saved);
    if (c->interpolation) {
        demo_net_world_from_interp(&c->schema, c->interp, v);
        v->round_state = c->server_world.round_state;
        v->round_number = c->server_world.round_number;
        v->state_ticks_left = c->server_world.state_ticks_left;
    } else {
        *v = c->server_world;
    }
    v->tick = c->newest_tick;
    v->event_count = events;
    memcpy(v->events, saved, sizeof saved);
    const demo_player *srv = &c->server_world.players[c->slot];
    if (srv->active) {
        /* Scores, health and death come from the server even when predicted. */
        demo_player *me = &v->players[c->slot];
        *me = *srv;
        const pred_state *st = netcore_predict_state(c->predict, NULL);
        if (c->prediction && st && srv->alive && st->player.alive) {
            netcore_vec3 pos = netcore_predict_visual_position(c->predict);
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
    if (!c->host || c->state == DEMO_CLIENT_FAILED || c->state == DEMO_CLIENT_CLOSED) {
        return;
    }
    poll_game(c, now_us);
    if (!c->host) {
        return; /* back in the room */
    }
    if (c->state != DEMO_CLIENT_PLAYING || !c->have_snapshot) {
        netcore_host_flush(c->host);
        return;
    }
    netcore_peer_stats ps;
    if (netcore_host_get_peer_stats(c->host, c->server, &ps) == NETCORE_OK && ps.rtt_ms > 0.0f) {
        netcore_timesync_set_rtt(c->sync, ps.rtt_ms);
    }
    uint32_t first = 0;
    uint32_t count = 0;
    netcore_timesync_advance(c->sync, now_us, &first, &count);
    for (uint32_t i = 0; i < count && c->server_world.players[c->slot].active; i++) {
        run_tick(c, first + i, input_fn, user);
    }
    netcore_host_flush(c->host);
    netcore_interp_update(c->interp, netcore_timesync_server_time_us(c->sync, now_us));
    if (c->last_frame_us) {
        netcore_predict_update_visual(c->predict, now_us - c->last_frame_us);
    }
    c->last_frame_us = now_us;
    build_view(c);
    if (now_us - c->window_start_us >= 1000000) {
        c->snapshot_rate_hz =
            (float)c->window_snapshots * 1e6f / (float)(now_us - c->window_start_us);
        c->window_snapshots = 0;
        c->window_start_us = now_us;
        netcore_interp_stats is;
        netcore_interp_get_stats(c->interp, &is);
        uint64_t frames = is.frames - c->interp_frames_base;
        uint64_t extrap = is.frames_extrapolated + is.frames_starved - c->interp_extrap_base;
        c->extrapolation_pct = frames ? 100.0f * (float)extrap / (float)frames : 0.0f;
        c->interp_frames_base = is.frames;
        c->interp_extrap_base = is.frames_extrapolated + is.frames_starved;
    }
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
    demo_world_init(&c->scratch, NULL);
    netcore_snapshot_client_config sc;
    netcore_snapshot_client_config_default(&sc);
    netcore_input_client_config ic;
    netcore_input_client_config_default(&ic);
    ic.input_size_bytes = DEMO_NET_INPUT_BYTES;
    if (!demo_net_schema_create(&c->schema, config->snapshot_format)) {
        free(c);
        return NULL;
    }
    sc.schema = c->schema.schema;
    if (netcore_snapshot_client_create(&sc, &c->snap) != NETCORE_OK ||
        netcore_input_client_create(&ic, &c->input) != NETCORE_OK) {
        demo_client_destroy(c);
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
    if (c->host) {
        if (c->state == DEMO_CLIENT_PLAYING || c->state == DEMO_CLIENT_JOINING) {
            /* Say goodbye so the server frees the seat at once, not after a timeout. */
            netcore_host_disconnect(c->host, c->server, 0);
            /* Wait briefly for the server's acknowledgement (bounded), so the
             * seat is freed at once rather than after the peer timeout. */
            uint64_t until = netcore_time_now_us() + 300000;
            netcore_event ev;
            while (netcore_time_now_us() < until &&
                   netcore_host_poll(c->host, 10, &ev) == NETCORE_OK &&
                   ev.type != NETCORE_EVENT_DISCONNECT) {
            }
        }
        netcore_host_destroy(c->host);
    }
    if (c->lobby) {
        if (netcore_lobby_client_is_connected(c->lobby)) {
            netcore_lobby_client_disconnect(c->lobby);
            netcore_lobby_client_update(c->lobby, netcore_time_now_us());
        }
        netcore_lobby_client_destroy(c->lobby);
    }
    netcore_predict_destroy(c->predict);
    netcore_input_client_destroy(c->input);
    netcore_interp_destroy(c->interp);
    netcore_timesync_destroy(c->sync);
    netcore_snapshot_client_destroy(c->snap);
    demo_net_schema_destroy(&c->schema);
    free(c);
}

/* ---- accessors ---- */

const char *demo_client_state_name(demo_client_state state)
{
    switch (state) {
    case DEMO_CLIENT_LOBBY:
        return "lobby";
    case DEMO_CLIENT_JOINING:
        return "joining";
    case DEMO_CLIENT_PLAYING:
        return "playing";
    case DEMO_CLIENT_CLOSED:
        return "closed";
    default:
        return "failed";
    }
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
    return c->have_snapshot ? &c->view : NULL;
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
    if (c->host) {
        netcore_host_set_conditioner(c->host, profile, profile);
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
    out->snapshots = c->snapshots;
    netcore_peer_stats ps;
    if (c->host && netcore_host_get_peer_stats(c->host, c->server, &ps) == NETCORE_OK) {
        out->rtt_ms = ps.rtt_ms;
        out->loss_pct = ps.loss_pct;
        out->in_kbps = ps.traffic.in_bytes_per_s * 8.0f / 1000.0f;
        out->out_kbps = ps.traffic.out_bytes_per_s * 8.0f / 1000.0f;
        out->sealed = ps.sealed;
    }
    netcore_host_stats hs;
    if (c->host && netcore_host_get_stats(c->host, &hs) == NETCORE_OK) {
        out->crypto_auth_rejected = hs.crypto_auth_rejected;
    }
    netcore_predict_stats pst;
    if (c->predict && netcore_predict_get_stats(c->predict, &pst) == NETCORE_OK) {
        out->corrections = pst.corrections;
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
    f->snapshot_rate_hz = c->snapshot_rate_hz;
    netcore_interp_stats is;
    if (c->interp && netcore_interp_get_stats(c->interp, &is) == NETCORE_OK) {
        f->interp_delay_ms = c->interpolation ? is.delay_ms : 0.0f;
    }
    f->extrapolation_pct = c->extrapolation_pct;
    f->prediction_corrections = (uint32_t)st.corrections;
    f->prediction_on = c->prediction;
    f->interpolation_on = c->interpolation;
    f->lag_compensation_on = c->lag_compensation;
    f->link_preset = c->link_name;
    f->networked = c->host != NULL && st.connected;
    f->sealed = st.sealed;
    f->crypto_auth_rejected = st.crypto_auth_rejected;
    f->snapshot_format =
        netcore_snapshot_format_name(netcore_schema_snapshot_format(c->schema.schema));
}
