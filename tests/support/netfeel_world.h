/*
 * A tiny deterministic movement game over the simulated transport, shared by
 * the client netcode integration test and its benchmark.
 *
 * Server: a snapshot world with one PLAYER entity per client (position and
 * the last input tick applied) and scripted BOT entities; inputs are taken
 * per tick from netcore_input_server; bot and player positions are recorded
 * in a lag compensation history; shots are checked against it.
 * Clients: clock sync, interpolation of everything, prediction and
 * reconciliation of their own player, a scripted stream of inputs and shots
 * aimed at what they display.
 *
 * Everything runs in simulated time, event by event (server ticks and client
 * frames), so a minute of play takes well under a second of CPU. Header-only
 * (static inline) so that the test and the benchmark, which are built as
 * separate programs, share one copy.
 */
#ifndef NETFEEL_WORLD_H
#define NETFEEL_WORLD_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "netcore/bitpack.h"
#include "netcore/input.h"
#include "netcore/interp.h"
#include "netcore/lagcomp.h"
#include "netcore/predict.h"
#include "netcore/schema.h"
#include "netcore/snapshot.h"
#include "netcore/timesync.h"
#include "netcore/transport.h"

#define NF_MAX_CLIENTS 4
#define NF_MAX_BOTS 8
#define NF_INPUT_BYTES 16
#define NF_PLAYER_SPEED 0.1f /* units per tick */
#define NF_HIT_RADIUS 0.05f
#define NF_CHANNEL_CONTROL 0 /* reliable ordered: "your entity is ..." */
#define NF_CHANNEL_GAME 3    /* unreliable unordered: snapshots and inputs */
#define NF_FIRE_EVERY_TICKS 20u

typedef enum nf_path { NF_PATH_LINE = 0, NF_PATH_CIRCLE } nf_path;

typedef struct nf_config {
    netcore_link_preset preset;
    uint64_t seed;
    uint32_t clients; /* 1..NF_MAX_CLIENTS */
    uint32_t bots;    /* 0..NF_MAX_BOTS */
    nf_path path;
    uint32_t tick_rate_hz;
    uint32_t snapshot_every_ticks;
    uint32_t frame_rate_hz;
    uint32_t move_start_tick; /* inputs are idle before this tick */
    uint32_t move_stop_tick;  /* and after this one */
    bool fire;                /* clients shoot at bots */
    uint32_t knockback_tick;  /* 0: none; else the server pushes every player
                                 2 units along x at that tick, unknown to clients */
} nf_config;

typedef struct nf_state {
    float x, y;
} nf_state;

typedef struct nf_input {
    int8_t mx, my;
    uint8_t fire, target;
    uint32_t view_tick_q8; /* render tick * 256 */
    float aim_x, aim_y;
} nf_input;

typedef struct nf_client {
    netcore_host *host;
    netcore_peer_id server_peer;
    netcore_snapshot_client *snap;
    netcore_timesync *sync;
    netcore_interp *interp;
    netcore_input_client *input;
    netcore_predict *predict;
    uint32_t index;
    netcore_entity_id own;
    bool has_own_state;
    nf_state own_server;
    bool has_snapshot;
    uint32_t newest_tick;
    uint64_t next_frame_us;
    uint64_t last_frame_us;
    uint32_t frame;
    /* what the last frame displayed (shots aim at it) */
    bool shown;
    double shown_render_tick;
    netcore_vec3 shown_bot[NF_MAX_BOTS];
    bool shown_bot_valid[NF_MAX_BOTS];
    netcore_vec3 last_visual;
    bool has_last_visual;
    /* measurements */
    uint32_t backward_steps; /* displayed bot moved against a monotonic path */
    double largest_backward;
    uint64_t bot_samples;
    double sq_error_render; /* displayed vs true position at the render time */
    double sq_error_now;    /* displayed vs true position now */
    double delay_ms_sum;
    uint64_t delay_samples;
    int64_t move_tick_frame;      /* frame that ran the first moving input */
    int64_t move_shown_frame;     /* frame whose predicted position first moved */
    int64_t move_confirmed_frame; /* frame whose server-reported position first moved */
    nf_state start_state;
    uint32_t shots;
    uint32_t send_errors;
} nf_client;

typedef struct nf_player {
    bool active;
    netcore_peer_id peer;
    uint32_t slot;
    netcore_entity_id entity;
    nf_state state;
    nf_input input;
} nf_player;

typedef struct nf_server {
    netcore_host *host;
    netcore_snapshot_server *snap;
    netcore_input_server *input;
    netcore_lagcomp *lag;
    nf_player players[NF_MAX_CLIENTS];
    netcore_entity_id bots[NF_MAX_BOTS];
    uint32_t tick;
    uint64_t next_tick_us;
    uint32_t shots, hits, hits_uncompensated;
    double largest_shot_miss;
} nf_server;

typedef struct nf_world {
    nf_config config;
    netcore_sim *sim;
    netcore_schema *schema;
    uint16_t type_player, type_bot;
    uint16_t field_pos, field_last_input, field_bot_pos;
    netcore_quant quant;
    double tick_us;
    uint64_t t0_us;
    nf_server server;
    nf_client clients[NF_MAX_CLIENTS];
} nf_world;

static inline void nf_config_default(nf_config *c)
{
    memset(c, 0, sizeof *c);
    c->preset = NETCORE_LINK_LAN;
    c->seed = 1;
    c->clients = 2;
    c->bots = 3;
    c->path = NF_PATH_LINE;
    c->tick_rate_hz = 60;
    c->snapshot_every_ticks = 2;
    c->frame_rate_hz = 60;
    c->move_start_tick = 120;
    c->move_stop_tick = 1500;
    c->fire = true;
}

/* ---- game rules, shared by server and client ---- */

static inline void nf_input_encode(const nf_input *in, uint8_t *b)
{
    b[0] = (uint8_t)in->mx;
    b[1] = (uint8_t)in->my;
    b[2] = in->fire;
    b[3] = in->target;
    for (int i = 0; i < 4; i++)
        b[4 + i] = (uint8_t)(in->view_tick_q8 >> (8 * i));
    memcpy(b + 8, &in->aim_x, 4);
    memcpy(b + 12, &in->aim_y, 4);
}

static inline void nf_input_decode(const uint8_t *b, nf_input *in)
{
    in->mx = (int8_t)b[0];
    in->my = (int8_t)b[1];
    in->fire = b[2];
    in->target = b[3];
    in->view_tick_q8 = 0;
    for (int i = 0; i < 4; i++)
        in->view_tick_q8 |= (uint32_t)b[4 + i] << (8 * i);
    memcpy(&in->aim_x, b + 8, 4);
    memcpy(&in->aim_y, b + 12, 4);
}

/* One tick of movement. Positions are quantized exactly as the snapshot
 * field will be, so the server's state and the client's prediction match
 * bit for bit when they ran the same inputs. */
static inline void nf_simulate(void *user, void *state, const void *input_bytes, uint32_t tick)
{
    (void)tick;
    const nf_world *w = user;
    nf_state *s = state;
    nf_input in;
    nf_input_decode(input_bytes, &in);
    float mx = in.mx > 0 ? 1.0f : (in.mx < 0 ? -1.0f : 0.0f);
    float my = in.my > 0 ? 1.0f : (in.my < 0 ? -1.0f : 0.0f);
    s->x = netcore_quant_value(&w->quant, s->x + mx * NF_PLAYER_SPEED);
    s->y = netcore_quant_value(&w->quant, s->y + my * NF_PLAYER_SPEED);
}

static inline float nf_state_error(void *user, const void *predicted, const void *authoritative)
{
    (void)user;
    const nf_state *a = predicted, *b = authoritative;
    return hypotf(a->x - b->x, a->y - b->y);
}

static inline netcore_vec3 nf_state_position(void *user, const void *state)
{
    (void)user;
    const nf_state *s = state;
    netcore_vec3 v = {s->x, s->y, 0.0f};
    return v;
}

/* Where bot k truly is at (fractional) server tick t. LINE moves along +x at
 * constant speed (any displayed backward step is an error); CIRCLE turns. */
static inline netcore_vec3 nf_bot_position(nf_path path, uint32_t k, double t)
{
    netcore_vec3 v = {0.0f, 0.0f, 0.0f};
    if (path == NF_PATH_LINE) {
        v.x = (float)(-400.0 + (0.12 + 0.02 * k) * t);
        v.y = (float)(20.0 + 6.0 * k);
    } else {
        double a = (0.02 + 0.004 * k) * t;
        v.x = (float)(40.0 * k + 8.0 * cos(a));
        v.y = (float)(-30.0 + 8.0 * sin(a));
    }
    return v;
}

/* The scripted input of client c at tick t (before aim and fire). */
static inline nf_input nf_script_input(const nf_config *cfg, uint32_t c, uint32_t t)
{
    nf_input in;
    memset(&in, 0, sizeof in);
    if (t < cfg->move_start_tick || t >= cfg->move_stop_tick)
        return in;
    static const int8_t dirs[6][2] = {{1, 0}, {0, 1}, {-1, 0}, {0, -1}, {1, 1}, {0, 0}};
    uint32_t phase = ((t - cfg->move_start_tick) / (37u + 6u * c) + c) % 6u;
    in.mx = dirs[phase][0];
    in.my = dirs[phase][1];
    return in;
}

/* ---- server ---- */

/* The server's player of a client (slots follow connection order, not client order). */
static inline const nf_player *nf_player_of(const nf_world *w, const nf_client *c)
{
    for (uint32_t i = 0; i < NF_MAX_CLIENTS; i++)
        if (w->server.players[i].active && w->server.players[i].entity == c->own)
            return &w->server.players[i];
    return NULL;
}

static inline nf_player *nf_player_by_peer(nf_server *s, netcore_peer_id peer)
{
    for (uint32_t i = 0; i < NF_MAX_CLIENTS; i++)
        if (s->players[i].active && s->players[i].peer == peer)
            return &s->players[i];
    return NULL;
}

static inline void nf_server_handle_events(nf_world *w)
{
    nf_server *s = &w->server;
    netcore_event ev;
    for (uint32_t guard = 0; guard < 100000; guard++) {
        if (netcore_host_poll(s->host, 0, &ev) != NETCORE_OK || ev.type == NETCORE_EVENT_NONE)
            break;
        if (ev.type == NETCORE_EVENT_CONNECT) {
            uint32_t slot;
            if (netcore_snapshot_server_client_add(s->snap, &slot) != NETCORE_OK ||
                slot >= NF_MAX_CLIENTS)
                continue;
            nf_player *p = &s->players[slot];
            memset(p, 0, sizeof *p);
            p->active = true;
            p->peer = ev.peer;
            p->slot = slot;
            p->state.x = netcore_quant_value(&w->quant, 10.0f * (float)slot);
            p->state.y = 0.0f;
            netcore_input_server_client_reset(s->input, slot);
            netcore_snapshot_server_entity_create(s->snap, w->type_player, &p->entity);
            netcore_vec3 pos = {p->state.x, p->state.y, 0.0f};
            netcore_snapshot_server_set_vec3(s->snap, p->entity, w->field_pos, pos);
            uint8_t msg[4];
            for (int i = 0; i < 4; i++)
                msg[i] = (uint8_t)(p->entity >> (8 * i));
            netcore_host_send(s->host, ev.peer, NF_CHANNEL_CONTROL, msg, sizeof msg);
        } else if (ev.type == NETCORE_EVENT_RECEIVE && ev.channel == NF_CHANNEL_GAME) {
            nf_player *p = nf_player_by_peer(s, ev.peer);
            if (!p)
                continue;
            const uint8_t *ack = NULL;
            size_t ack_size = 0;
            if (netcore_input_server_read(s->input, p->slot, ev.data, ev.size_bytes, &ack,
                                          &ack_size) == NETCORE_OK &&
                ack_size)
                netcore_snapshot_server_read_ack(s->snap, p->slot, ack, ack_size, NULL);
        }
    }
}

static inline void nf_server_shot(nf_world *w, const nf_player *p, uint32_t tick)
{
    nf_server *s = &w->server;
    const nf_input *in = &p->input;
    if (in->target >= w->config.bots)
        return;
    s->shots++;
    float seen[3], present[3];
    double view_tick = (double)in->view_tick_q8 / 256.0;
    if (netcore_lagcomp_query(s->lag, s->bots[in->target], view_tick, seen, NULL) != NETCORE_OK)
        return;
    float miss = hypotf(seen[0] - in->aim_x, seen[1] - in->aim_y);
    if (miss > s->largest_shot_miss)
        s->largest_shot_miss = miss;
    if (miss <= NF_HIT_RADIUS)
        s->hits++;
    if (netcore_lagcomp_query(s->lag, s->bots[in->target], (double)tick, present, NULL) ==
            NETCORE_OK &&
        hypotf(present[0] - in->aim_x, present[1] - in->aim_y) <= NF_HIT_RADIUS)
        s->hits_uncompensated++;
}

static inline void nf_server_tick(nf_world *w)
{
    nf_server *s = &w->server;
    nf_server_handle_events(w);
    uint32_t t = ++s->tick;
    netcore_lagcomp_begin_tick(s->lag, t);
    for (uint32_t i = 0; i < NF_MAX_CLIENTS; i++) {
        nf_player *p = &s->players[i];
        if (!p->active)
            continue;
        uint8_t bytes[NF_INPUT_BYTES];
        if (netcore_input_server_take(s->input, p->slot, t, bytes, NULL) != NETCORE_OK)
            continue;
        nf_input_decode(bytes, &p->input);
        nf_simulate(w, &p->state, bytes, t);
        if (t == w->config.knockback_tick)
            p->state.x = netcore_quant_value(&w->quant, p->state.x + 2.0f);
        netcore_vec3 pos = {p->state.x, p->state.y, 0.0f};
        netcore_snapshot_server_set_vec3(s->snap, p->entity, w->field_pos, pos);
        netcore_snapshot_server_set_int(s->snap, p->entity, w->field_last_input, t);
        float rec[3] = {pos.x, pos.y, 0.0f};
        netcore_lagcomp_record(s->lag, p->entity, rec);
    }
    for (uint32_t k = 0; k < w->config.bots; k++) {
        netcore_vec3 v = nf_bot_position(w->config.path, k, (double)t);
        netcore_snapshot_server_set_vec3(s->snap, s->bots[k], w->field_bot_pos, v);
        /* Record what the snapshots carry (quantized), so a rewind matches
         * the client's interpolation exactly. */
        netcore_snapshot_server_get_vec3(s->snap, s->bots[k], w->field_bot_pos, &v);
        float rec[3] = {v.x, v.y, v.z};
        netcore_lagcomp_record(s->lag, s->bots[k], rec);
    }
    for (uint32_t i = 0; i < NF_MAX_CLIENTS; i++)
        if (s->players[i].active && s->players[i].input.fire)
            nf_server_shot(w, &s->players[i], t);
    if (t % w->config.snapshot_every_ticks == 0) {
        for (uint32_t i = 0; i < NF_MAX_CLIENTS; i++) {
            nf_player *p = &s->players[i];
            if (!p->active)
                continue;
            uint8_t buf[1400];
            size_t written = 0;
            if (netcore_snapshot_server_write(s->snap, p->slot, t, buf, sizeof buf, &written) ==
                NETCORE_OK)
                netcore_host_send(s->host, p->peer, NF_CHANNEL_GAME, buf, written);
        }
    }
    netcore_host_flush(s->host);
}

/* ---- client ---- */

static inline void nf_client_on_snapshot(nf_world *w, nf_client *c, const uint8_t *data,
                                         size_t size, uint64_t now)
{
    netcore_snapshot_receive_outcome outcome;
    if (netcore_snapshot_client_read(c->snap, data, size, &outcome) != NETCORE_OK ||
        outcome != NETCORE_SNAPSHOT_RECEIVED_NEWEST)
        return;
    uint32_t tick = 0;
    netcore_snapshot_client_sequence(c->snap, NULL, &tick);
    if (c->has_snapshot && (int32_t)(tick - c->newest_tick) <= 0)
        return; /* an older snapshot, kept only as a baseline */
    c->has_snapshot = true;
    c->newest_tick = tick;
    netcore_timesync_on_snapshot(c->sync, tick, now, NULL);
    netcore_interp_push(c->interp, c->snap, netcore_timesync_server_time_us(c->sync, now), NULL);
    netcore_vec3 pos;
    int64_t last_input = 0;
    if (c->own == NETCORE_ENTITY_NONE ||
        netcore_snapshot_client_get_vec3(c->snap, c->own, w->field_pos, &pos) != NETCORE_OK ||
        netcore_snapshot_client_get_int(c->snap, c->own, w->field_last_input, &last_input) !=
            NETCORE_OK)
        return;
    nf_state server_state = {pos.x, pos.y};
    if (c->has_own_state && c->move_confirmed_frame < 0 &&
        (server_state.x != c->start_state.x || server_state.y != c->start_state.y))
        c->move_confirmed_frame = c->frame;
    if (!c->has_own_state)
        c->start_state = server_state;
    c->own_server = server_state;
    c->has_own_state = true;
    if (last_input > 0 && netcore_predict_is_started(c->predict)) {
        netcore_predict_reconcile(c->predict, (uint32_t)last_input, &server_state, NULL);
        netcore_input_client_ack(c->input, (uint32_t)last_input);
    }
}

static inline void nf_client_tick(nf_world *w, nf_client *c, uint32_t t)
{
    if (!netcore_predict_is_started(c->predict)) {
        if (!c->has_own_state)
            return;
        /* Nothing moves the player before its first input reaches the
         * server, so the latest server state is the state before tick t. */
        netcore_predict_reset(c->predict, t - 1, &c->own_server);
    }
    nf_input in = nf_script_input(&w->config, c->index, t);
    if (c->move_tick_frame < 0 && (in.mx || in.my))
        c->move_tick_frame = c->frame;
    if (w->config.fire && w->config.bots && c->shown && t % NF_FIRE_EVERY_TICKS == 0 &&
        t >= w->config.move_start_tick) {
        uint32_t k = (t / NF_FIRE_EVERY_TICKS + c->index) % w->config.bots;
        if (c->shown_bot_valid[k]) {
            in.fire = 1;
            in.target = (uint8_t)k;
            in.view_tick_q8 = (uint32_t)llround(c->shown_render_tick * 256.0);
            in.aim_x = c->shown_bot[k].x;
            in.aim_y = c->shown_bot[k].y;
            c->shots++;
        }
    }
    uint8_t bytes[NF_INPUT_BYTES];
    nf_input_encode(&in, bytes);
    netcore_input_client_add(c->input, t, bytes);
    if (netcore_predict_step(c->predict, t, bytes) == NETCORE_ERR_STATE) {
        netcore_predict_reset(c->predict, t - 1, &c->own_server);
        netcore_predict_step(c->predict, t, bytes);
    }
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t ack_size = 0;
    if (netcore_snapshot_client_write_ack(c->snap, ack, sizeof ack, &ack_size) != NETCORE_OK)
        ack_size = 0;
    uint8_t packet[1200];
    size_t written = 0;
    if (netcore_input_client_write(c->input, ack, ack_size, packet, sizeof packet, &written) !=
            NETCORE_OK ||
        netcore_host_send(c->host, c->server_peer, NF_CHANNEL_GAME, packet, written) != NETCORE_OK)
        c->send_errors++;
}

/* What the client displays this frame, against the truth. */
static inline void nf_client_measure(nf_world *w, nf_client *c, uint64_t now)
{
    double render_tick = netcore_interp_render_tick(c->interp);
    double server_now_us = (double)(now - w->t0_us);
    /* Error figures start with the scripted play, after the first second or
     * so in which new entities hold their first state. */
    bool scored = w->server.tick >= w->config.move_start_tick;
    if (scored) {
        c->delay_ms_sum += (server_now_us - netcore_interp_render_time_us(c->interp)) / 1000.0;
        c->delay_samples++;
    }
    for (uint32_t k = 0; k < w->config.bots; k++) {
        netcore_vec3 v;
        bool valid = netcore_interp_get_vec3(c->interp, w->server.bots[k], w->field_bot_pos, &v) ==
                     NETCORE_OK;
        if (valid && c->shown_bot_valid[k] && w->config.path == NF_PATH_LINE) {
            double back = (double)c->shown_bot[k].x - (double)v.x;
            if (back > 1e-4) {
                c->backward_steps++;
                if (back > c->largest_backward)
                    c->largest_backward = back;
            }
        }
        if (valid && scored) {
            netcore_vec3 then = nf_bot_position(w->config.path, k, render_tick);
            netcore_vec3 live = nf_bot_position(w->config.path, k, server_now_us / w->tick_us);
            double er = hypot((double)v.x - then.x, (double)v.y - then.y);
            double en = hypot((double)v.x - live.x, (double)v.y - live.y);
            c->sq_error_render += er * er;
            c->sq_error_now += en * en;
            c->bot_samples++;
        }
        if (valid)
            c->shown_bot[k] = v;
        c->shown_bot_valid[k] = valid;
    }
    c->shown_render_tick = render_tick;
    c->shown = true;
    if (netcore_predict_is_started(c->predict)) {
        netcore_vec3 visual = netcore_predict_visual_position(c->predict);
        if (c->has_last_visual && c->move_shown_frame < 0 && c->move_tick_frame >= 0 &&
            (visual.x != c->last_visual.x || visual.y != c->last_visual.y))
            c->move_shown_frame = c->frame;
        c->last_visual = visual;
        c->has_last_visual = true;
    }
}

static inline void nf_client_frame(nf_world *w, nf_client *c, uint64_t now)
{
    /* RTT first, so that the very first clock estimate already includes it. */
    netcore_peer_stats ps;
    if (netcore_host_get_peer_stats(c->host, c->server_peer, &ps) == NETCORE_OK && ps.rtt_ms > 0.0f)
        netcore_timesync_set_rtt(c->sync, ps.rtt_ms);
    netcore_event ev;
    for (uint32_t guard = 0; guard < 100000; guard++) {
        if (netcore_host_poll(c->host, 0, &ev) != NETCORE_OK || ev.type == NETCORE_EVENT_NONE)
            break;
        if (ev.type != NETCORE_EVENT_RECEIVE)
            continue;
        if (ev.channel == NF_CHANNEL_CONTROL && ev.size_bytes == 4)
            c->own = (netcore_entity_id)ev.data[0] | (netcore_entity_id)ev.data[1] << 8 |
                     (netcore_entity_id)ev.data[2] << 16 | (netcore_entity_id)ev.data[3] << 24;
        else if (ev.channel == NF_CHANNEL_GAME)
            nf_client_on_snapshot(w, c, ev.data, ev.size_bytes, now);
    }
    if (netcore_timesync_is_synced(c->sync)) {
        uint32_t first = 0, count = 0;
        netcore_timesync_advance(c->sync, now, &first, &count);
        for (uint32_t i = 0; i < count; i++)
            nf_client_tick(w, c, first + i);
        netcore_host_flush(c->host);
        if (netcore_interp_update(c->interp, netcore_timesync_server_time_us(c->sync, now)) ==
            NETCORE_OK)
            nf_client_measure(w, c, now);
        netcore_predict_update_visual(c->predict, now - c->last_frame_us);
    }
    c->last_frame_us = now;
    c->frame++;
}

/* ---- world ---- */

static inline netcore_result nf_add_field(nf_world *w, uint16_t type, netcore_field_kind kind,
                                          unsigned bits, uint16_t *out)
{
    netcore_field_desc d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.bits = bits;
    d.min = -1024.0f;
    d.max = 1024.0f;
    d.precision = 1.0f / 256.0f;
    return netcore_schema_add_field(w->schema, type, &d, out);
}

/* Sealed like every admitted game: the server grants fixed session keys (a
 * lobby would draw them per player) to the token every client presents. */
#define NF_TOKEN "netfeel"
static inline netcore_session_keys nf_session_keys(void)
{
    netcore_session_keys keys;
    memset(keys.client_to_server, 0x6e, sizeof keys.client_to_server);
    memset(keys.server_to_client, 0xe6, sizeof keys.server_to_client);
    return keys;
}

static inline netcore_result nf_admit(void *user, netcore_peer_id peer, const netcore_address *from,
                                      const void *token, size_t token_size_bytes,
                                      netcore_admission_grant *grant)
{
    (void)user;
    (void)peer;
    (void)from;
    if (token_size_bytes != sizeof NF_TOKEN - 1 || memcmp(token, NF_TOKEN, token_size_bytes) != 0)
        return NETCORE_ERR_AUTH;
    grant->has_session_keys = true;
    grant->session_keys = nf_session_keys();
    return NETCORE_OK;
}

static inline netcore_result nf_client_create(nf_world *w, nf_client *c, uint32_t index)
{
    const nf_config *cfg = &w->config;
    memset(c, 0, sizeof *c);
    c->index = index;
    c->move_tick_frame = c->move_shown_frame = c->move_confirmed_frame = -1;
    netcore_result r;
    netcore_host_config hc;
    netcore_host_config_default(&hc);
    hc.sim = w->sim;
    hc.conditioner.enabled = true;
    hc.conditioner.seed = cfg->seed * 31u + index;
    hc.conditioner.inbound = netcore_link_preset_profile(cfg->preset);
    hc.conditioner.outbound = hc.conditioner.inbound;
    if ((r = netcore_host_create(&hc, &c->host)) != NETCORE_OK)
        return r;
    netcore_address to;
    netcore_session_keys keys = nf_session_keys();
    netcore_connect_options options;
    memset(&options, 0, sizeof options);
    options.token = NF_TOKEN;
    options.token_size_bytes = sizeof NF_TOKEN - 1;
    options.session_keys = &keys;
    if ((r = netcore_host_address(w->server.host, &to)) != NETCORE_OK ||
        (r = netcore_host_connect(c->host, &to, &options, &c->server_peer)) != NETCORE_OK)
        return r;
    netcore_snapshot_client_config sc;
    netcore_snapshot_client_config_default(&sc);
    sc.schema = w->schema;
    if ((r = netcore_snapshot_client_create(&sc, &c->snap)) != NETCORE_OK)
        return r;
    netcore_timesync_config tc;
    netcore_timesync_config_default(&tc);
    tc.tick_rate_hz = cfg->tick_rate_hz;
    /* Inputs leave only once a frame and the server reads them only once a
     * tick: the margin covers a frame plus a little. */
    tc.safety_margin_ms = 1000.0f / (float)cfg->frame_rate_hz + 4.0f;
    if ((r = netcore_timesync_create(&tc, &c->sync)) != NETCORE_OK)
        return r;
    netcore_interp_config ic;
    netcore_interp_config_default(&ic);
    ic.schema = w->schema;
    ic.tick_rate_hz = cfg->tick_rate_hz;
    ic.snapshot_rate_hz = cfg->tick_rate_hz / cfg->snapshot_every_ticks;
    if ((r = netcore_interp_create(&ic, &c->interp)) != NETCORE_OK)
        return r;
    netcore_input_client_config inc;
    netcore_input_client_config_default(&inc);
    inc.input_size_bytes = NF_INPUT_BYTES;
    if ((r = netcore_input_client_create(&inc, &c->input)) != NETCORE_OK)
        return r;
    netcore_predict_config pc;
    netcore_predict_config_default(&pc);
    pc.state_size_bytes = sizeof(nf_state);
    pc.input_size_bytes = NF_INPUT_BYTES;
    pc.tick_rate_hz = cfg->tick_rate_hz;
    pc.simulate = nf_simulate;
    pc.error = nf_state_error;
    pc.position = nf_state_position;
    pc.user = w;
    pc.tolerance = 0.001f;
    if ((r = netcore_predict_create(&pc, &c->predict)) != NETCORE_OK)
        return r;
    /* Spread the clients' frames over the frame interval. */
    c->next_frame_us = netcore_sim_now_us(w->sim) + 1000u + 3000u * index;
    c->last_frame_us = c->next_frame_us;
    return NETCORE_OK;
}

static inline netcore_result nf_world_create(nf_world *w, const nf_config *config)
{
    memset(w, 0, sizeof *w);
    w->config = *config;
    if (config->clients < 1 || config->clients > NF_MAX_CLIENTS || config->bots > NF_MAX_BOTS ||
        config->snapshot_every_ticks < 1 || config->tick_rate_hz < 1 || config->frame_rate_hz < 1)
        return NETCORE_ERR_INVALID_ARGUMENT;
    w->tick_us = 1e6 / (double)config->tick_rate_hz;
    netcore_result r;
    if ((r = netcore_quant_init(&w->quant, -1024.0f, 1024.0f, 1.0f / 256.0f)) != NETCORE_OK)
        return r;
    netcore_sim_config simc;
    netcore_sim_config_default(&simc);
    simc.seed = config->seed;
    if ((r = netcore_sim_create(&simc, &w->sim)) != NETCORE_OK)
        return r;
    netcore_schema_config schc;
    netcore_schema_config_default(&schc);
    if ((r = netcore_schema_create(&schc, &w->schema)) != NETCORE_OK ||
        (r = netcore_schema_add_type(w->schema, "player", &w->type_player)) != NETCORE_OK ||
        (r = netcore_schema_add_type(w->schema, "bot", &w->type_bot)) != NETCORE_OK ||
        (r = nf_add_field(w, w->type_player, NETCORE_FIELD_VEC2, 0, &w->field_pos)) != NETCORE_OK ||
        (r = nf_add_field(w, w->type_player, NETCORE_FIELD_INT, 32, &w->field_last_input)) !=
            NETCORE_OK ||
        (r = nf_add_field(w, w->type_bot, NETCORE_FIELD_VEC2, 0, &w->field_bot_pos)) !=
            NETCORE_OK ||
        (r = netcore_schema_finalize(w->schema)) != NETCORE_OK)
        return r;

    nf_server *s = &w->server;
    netcore_host_config hc;
    netcore_host_config_default(&hc);
    hc.sim = w->sim;
    hc.is_server = true;
    hc.bind_address.port = 7778;
    hc.admission = nf_admit;
    if ((r = netcore_host_create(&hc, &s->host)) != NETCORE_OK)
        return r;
    netcore_snapshot_server_config ssc;
    netcore_snapshot_server_config_default(&ssc);
    ssc.schema = w->schema;
    ssc.max_clients = NF_MAX_CLIENTS;
    if ((r = netcore_snapshot_server_create(&ssc, &s->snap)) != NETCORE_OK)
        return r;
    netcore_input_server_config isc;
    netcore_input_server_config_default(&isc);
    isc.input_size_bytes = NF_INPUT_BYTES;
    isc.max_clients = NF_MAX_CLIENTS;
    if ((r = netcore_input_server_create(&isc, &s->input)) != NETCORE_OK)
        return r;
    netcore_lagcomp_config lc;
    netcore_lagcomp_config_default(&lc);
    lc.max_entities = 1024;
    lc.history_ticks = config->tick_rate_hz + config->tick_rate_hz / 2; /* 1.5 s */
    if ((r = netcore_lagcomp_create(&lc, &s->lag)) != NETCORE_OK)
        return r;
    for (uint32_t k = 0; k < config->bots; k++)
        if ((r = netcore_snapshot_server_entity_create(s->snap, w->type_bot, &s->bots[k])) !=
            NETCORE_OK)
            return r;
    w->t0_us = netcore_sim_now_us(w->sim);
    s->next_tick_us = w->t0_us + (uint64_t)llround(w->tick_us);
    for (uint32_t i = 0; i < config->clients; i++)
        if ((r = nf_client_create(w, &w->clients[i], i)) != NETCORE_OK)
            return r;
    return NETCORE_OK;
}

static inline void nf_world_destroy(nf_world *w)
{
    for (uint32_t i = 0; i < NF_MAX_CLIENTS; i++) {
        nf_client *c = &w->clients[i];
        netcore_predict_destroy(c->predict);
        netcore_input_client_destroy(c->input);
        netcore_interp_destroy(c->interp);
        netcore_timesync_destroy(c->sync);
        netcore_snapshot_client_destroy(c->snap);
        netcore_host_destroy(c->host);
    }
    netcore_lagcomp_destroy(w->server.lag);
    netcore_input_server_destroy(w->server.input);
    netcore_snapshot_server_destroy(w->server.snap);
    netcore_host_destroy(w->server.host);
    netcore_schema_destroy(w->schema);
    netcore_sim_destroy(w->sim);
    memset(w, 0, sizeof *w);
}

/* Runs server ticks and client frames in time order until the server has
 * simulated `ticks` ticks in all. */
static inline void nf_world_run(nf_world *w, uint32_t ticks)
{
    uint64_t frame_us = 1000000u / w->config.frame_rate_hz;
    while (w->server.tick < ticks) {
        uint64_t next = w->server.next_tick_us;
        for (uint32_t i = 0; i < w->config.clients; i++)
            if (w->clients[i].next_frame_us < next)
                next = w->clients[i].next_frame_us;
        uint64_t now = netcore_sim_now_us(w->sim);
        if (next > now)
            netcore_sim_advance(w->sim, next - now);
        if (next == w->server.next_tick_us) {
            nf_server_tick(w);
            w->server.next_tick_us =
                w->t0_us + (uint64_t)llround((double)(w->server.tick + 1) * w->tick_us);
        }
        for (uint32_t i = 0; i < w->config.clients; i++) {
            nf_client *c = &w->clients[i];
            if (c->next_frame_us == next) {
                nf_client_frame(w, c, next);
                c->next_frame_us += frame_us;
            }
        }
    }
}

#endif /* NETFEEL_WORLD_H */
