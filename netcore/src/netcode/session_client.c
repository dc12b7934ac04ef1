/*
 * Session layer, client side (see session.h): one host, the snapshot client,
 * clock sync, interpolation, the input client and prediction, driven by one
 * update call.
 *
 * Per update: network events (WELCOME; each snapshot decoded, fed to the
 * clock and the interpolator, the own player read back and reconciled at the
 * input tick the server wrote into it, which also acknowledges the inputs up
 * to it), then every client tick the clock says is due (the game's input,
 * stamped with the render tick for lag compensation, one prediction step,
 * one input packet carrying the snapshot ack), then interpolation and the
 * visual smoothing move to now.
 */
#include <math.h>
#include <string.h>

#include "core/core_internal.h"
#include "netcode/session_internal.h"

#define PACKET_BYTES 1400u
#define PREDICT_RING_TICKS 128u

struct netcore_game_client {
    netcore_game_client_config config;
    netcore_host *host;
    netcore_peer_id server;
    netcore_snapshot_client *snapshots;
    netcore_timesync *sync;
    netcore_interp *interp;
    netcore_input_client *inputs;
    netcore_predict *predict;
    netcore_game_client_state state;
    uint32_t index;
    netcore_entity_id entity;
    bool have_snapshot;
    bool interp_pushed;
    uint32_t newest_tick;
    bool have_auth; /* auth_state holds the own player after auth_tick */
    uint32_t auth_tick;
    uint8_t *auth_state;    /* state_size_bytes */
    uint8_t *scratch_state; /* state_size_bytes */
    uint8_t *game_input;    /* input_size_bytes */
    uint8_t *zero_input;    /* input_size_bytes of zeros: what the server uses before any input */
    uint8_t *last_input;    /* input_size_bytes: the previous tick's game input */
    uint8_t *wire_input;    /* header + game input */
    uint8_t packet[PACKET_BYTES];
    uint64_t last_frame_us;
    double render_tick;
    /* the net-graph window: counts at its start (see update_window) */
    bool window_open;
    uint64_t window_start_us, window_snapshots, window_frames, window_extrapolated;
    netcore_game_client_stats stats;
};

/* ---- prediction callbacks: the game's, through this client ---- */

static void predict_simulate(void *user, void *state, const void *input, uint32_t tick)
{
    const netcore_game_desc *g = &((netcore_game_client *)user)->config.game;
    g->simulate(g->user, state, input, tick);
}

static netcore_vec3 predict_position(void *user, const void *state)
{
    const netcore_game_desc *g = &((netcore_game_client *)user)->config.game;
    return g->position(g->user, state);
}

static float predict_error(void *user, const void *predicted, const void *authoritative)
{
    const netcore_game_desc *g = &((netcore_game_client *)user)->config.game;
    if (g->error)
        return g->error(g->user, predicted, authoritative);
    netcore_vec3 a = g->position(g->user, predicted);
    netcore_vec3 b = g->position(g->user, authoritative);
    double dx = (double)a.x - b.x, dy = (double)a.y - b.y, dz = (double)a.z - b.z;
    return (float)sqrt(dx * dx + dy * dy + dz * dz);
}

/* ---- snapshots ---- */

static size_t state_bytes(const netcore_game_client *c)
{
    return c->config.game.state_size_bytes;
}

/* The own player as the server sent it, and the input tick it follows. */
static bool read_own(netcore_game_client *c, uint32_t *out_tick)
{
    const netcore_game_desc *g = &c->config.game;
    int64_t tick = 0;
    if (netcore_snapshot_client_get_int(c->snapshots, c->entity, g->player_tick_field, &tick) !=
            NETCORE_OK ||
        tick <= 0)
        return false;
    memset(c->scratch_state, 0, state_bytes(c));
    if (!g->read_state(g->user, c->snapshots, c->entity, c->scratch_state))
        return false;
    *out_tick = (uint32_t)tick;
    return true;
}

static void reconcile_own(netcore_game_client *c)
{
    uint32_t applied = 0;
    if (!read_own(c, &applied))
        return;
    memcpy(c->auth_state, c->scratch_state, state_bytes(c));
    c->auth_tick = applied;
    c->have_auth = true;
    netcore_input_client_ack(c->inputs, applied);
    c->stats.acked_input_tick = applied;
    if (netcore_predict_is_started(c->predict))
        netcore_predict_reconcile(c->predict, applied, c->auth_state, NULL);
}

static void on_snapshot(netcore_game_client *c, const uint8_t *data, size_t size, uint64_t now_us)
{
    netcore_snapshot_receive_outcome outcome;
    netcore_result r = netcore_snapshot_client_read(c->snapshots, data, size, &outcome);
    if (r == NETCORE_ERR_MALFORMED || r == NETCORE_ERR_MISMATCH)
        c->stats.snapshots_rejected++;
    uint32_t tick = 0;
    if (outcome != NETCORE_SNAPSHOT_RECEIVED_NEWEST ||
        netcore_snapshot_client_sequence(c->snapshots, NULL, &tick) != NETCORE_OK)
        return;
    if (c->have_snapshot && (int32_t)(tick - c->newest_tick) <= 0)
        return; /* decoded as a baseline only: not the current world */
    c->have_snapshot = true;
    c->newest_tick = tick;
    c->stats.snapshots_decoded++;
    netcore_timesync_on_snapshot(c->sync, tick, now_us, NULL);
    netcore_interp_push_outcome pushed;
    if (netcore_interp_push(c->interp, c->snapshots,
                            netcore_timesync_server_time_us(c->sync, now_us),
                            &pushed) == NETCORE_OK &&
        pushed == NETCORE_INTERP_PUSHED)
        c->interp_pushed = true;
    reconcile_own(c);
    if (c->config.on_snapshot)
        c->config.on_snapshot(c->config.user, c, tick);
}

/* ---- control ---- */

static void on_welcome(netcore_game_client *c, const uint8_t *data, size_t size)
{
    nci_session_welcome w;
    const netcore_game_desc *g = &c->config.game;
    if (c->state != NETCORE_GAME_CLIENT_CONNECTING ||
        nci_session_read_welcome(data, size, &w) != NETCORE_OK ||
        w.tick_rate_hz != g->tick_rate_hz || w.snapshot_every_ticks != g->snapshot_every_ticks) {
        c->stats.welcome_rejected++;
        netcore_host_disconnect(c->host, c->server, NETCORE_ERR_MISMATCH);
        return;
    }
    c->index = w.client_index;
    c->entity = w.entity;
    c->state = NETCORE_GAME_CLIENT_PLAYING;
}

static void send_hello(netcore_game_client *c)
{
    nci_session_hello h = nci_session_hello_of(&c->config.game);
    uint8_t msg[NCI_SESSION_HELLO_BYTES];
    nci_session_write_hello(&h, msg);
    netcore_host_send(c->host, c->server, NCI_SESSION_CHANNEL_CONTROL, msg, sizeof msg);
}

static void on_receive(netcore_game_client *c, const netcore_event *ev, uint64_t now_us)
{
    bool playing = c->state == NETCORE_GAME_CLIENT_PLAYING;
    if (ev->channel == NCI_SESSION_CHANNEL_CONTROL)
        on_welcome(c, ev->data, ev->size_bytes);
    else if (ev->channel == NCI_SESSION_CHANNEL_GAME && playing)
        on_snapshot(c, ev->data, ev->size_bytes, now_us);
    else if (ev->channel >= NETCORE_SESSION_CHANNELS && playing && c->config.on_message)
        c->config.on_message(c->config.user, c, (uint8_t)(ev->channel - NETCORE_SESSION_CHANNELS),
                             ev->data, ev->size_bytes);
    else
        c->stats.messages_dropped++;
}

static void on_event(netcore_game_client *c, const netcore_event *ev, uint64_t now_us)
{
    if (ev->peer != c->server)
        return;
    if (ev->type == NETCORE_EVENT_CONNECT) {
        send_hello(c);
    } else if (ev->type == NETCORE_EVENT_DISCONNECT) {
        c->state = NETCORE_GAME_CLIENT_DISCONNECTED;
        c->stats.disconnect_reason = ev->reason;
        c->stats.disconnect_code = ev->code;
    } else if (ev->type == NETCORE_EVENT_RECEIVE) {
        on_receive(c, ev, now_us);
    }
}

/* ---- ticks ---- */

/* Starts prediction from the newest server state of the own player. The
 * ticks between it and the first predicted tick had no input from this
 * client, so the server steps them with an empty one: so does the replay,
 * which makes the first comparison exact. */
static bool start_prediction(netcore_game_client *c, uint32_t tick)
{
    /* A client tick the server has already simulated is not predicted:
     * its input arrives late anyway. The clock runs ahead soon after. */
    if (!c->have_auth || (int32_t)(tick - c->auth_tick) <= 0)
        return false;
    if (tick - c->auth_tick >= PREDICT_RING_TICKS) {
        netcore_predict_reset(c->predict, tick - 1, c->auth_state);
        return true;
    }
    netcore_predict_reset(c->predict, c->auth_tick, c->auth_state);
    for (uint32_t t = c->auth_tick + 1; t < tick; t++)
        netcore_predict_step(c->predict, t, c->zero_input);
    return true;
}

static void send_inputs(netcore_game_client *c)
{
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t ack_size = 0;
    if (netcore_snapshot_client_write_ack(c->snapshots, ack, sizeof ack, &ack_size) != NETCORE_OK)
        ack_size = 0;
    size_t written = 0;
    if (netcore_input_client_write(c->inputs, ack, ack_size, c->packet, sizeof c->packet,
                                   &written) == NETCORE_OK)
        netcore_host_send(c->host, c->server, NCI_SESSION_CHANNEL_GAME, c->packet, written);
}

/* Ticks the clock skipped (a resync jumps forward): the input client fills
 * them with the previous input, which the server then applies; the
 * prediction must step them with the same. */
static void step_gap(netcore_game_client *c, uint32_t tick)
{
    uint32_t newest = 0;
    if (!netcore_predict_state(c->predict, &newest) || (int32_t)(tick - newest) <= 1 ||
        tick - newest >= PREDICT_RING_TICKS)
        return;
    for (uint32_t t = newest + 1; t < tick; t++)
        netcore_predict_step(c->predict, t, c->last_input);
}

static void run_tick(netcore_game_client *c, uint32_t tick)
{
    size_t n = c->config.game.input_size_bytes;
    memset(c->game_input, 0, n);
    if (c->config.sample_input)
        c->config.sample_input(c->config.user, c, tick, c->game_input);
    uint32_t view_q8 = c->render_tick > 0 ? (uint32_t)llround(c->render_tick * 256.0) : 0;
    for (int i = 0; i < 4; i++)
        c->wire_input[i] = (uint8_t)(view_q8 >> (8 * i));
    memcpy(c->wire_input + NETCORE_SESSION_INPUT_HEADER_BYTES, c->game_input, n);
    if (netcore_input_client_add(c->inputs, tick, c->wire_input) != NETCORE_OK)
        return;
    c->stats.ticks_run++;
    if (netcore_predict_is_started(c->predict) || start_prediction(c, tick)) {
        step_gap(c, tick);
        if (netcore_predict_step(c->predict, tick, c->game_input) == NETCORE_ERR_STATE) {
            /* Too far ahead of the ring after a clock jump: start again. */
            netcore_predict_reset(c->predict, tick - 1,
                                  c->have_auth ? c->auth_state : c->scratch_state);
            netcore_predict_step(c->predict, tick, c->game_input);
        }
    }
    memcpy(c->last_input, c->game_input, n);
    send_inputs(c);
}

static void run_ticks(netcore_game_client *c, uint64_t now_us)
{
    netcore_peer_stats ps;
    if (netcore_host_get_peer_stats(c->host, c->server, &ps) == NETCORE_OK && ps.rtt_ms > 0.0f)
        netcore_timesync_set_rtt(c->sync, ps.rtt_ms);
    netcore_timesync_stats ts;
    /* The clock's first placement then uses a settled offset and jitter
     * estimate, instead of starting short of the lead it needs and sending
     * late inputs (each a correction) while it slews there. */
    if (netcore_timesync_get_stats(c->sync, &ts) != NETCORE_OK ||
        ts.samples < c->config.sync_snapshots)
        return;
    uint32_t first = 0, count = 0;
    if (netcore_timesync_advance(c->sync, now_us, &first, &count) != NETCORE_OK)
        return;
    for (uint32_t i = 0; i < count; i++)
        run_tick(c, first + i);
}

static void update_view(netcore_game_client *c, uint64_t now_us)
{
    double server_time_us = netcore_timesync_server_time_us(c->sync, now_us);
    if (c->interp_pushed && netcore_interp_update(c->interp, server_time_us) == NETCORE_OK)
        c->render_tick = netcore_interp_render_tick(c->interp);
    if (c->last_frame_us && now_us > c->last_frame_us)
        netcore_predict_update_visual(c->predict, now_us - c->last_frame_us);
    c->last_frame_us = now_us;
}

/* Closes the one-second window of the rate figures once it is full: the
 * snapshot rate and the share of frames extrapolated or starved over it. */
static void update_window(netcore_game_client *c, uint64_t now_us)
{
    bool open = c->window_open && now_us >= c->window_start_us;
    if (open && now_us - c->window_start_us < 1000000)
        return;
    netcore_interp_stats is;
    if (netcore_interp_get_stats(c->interp, &is) != NETCORE_OK)
        return;
    uint64_t late = is.frames_extrapolated + is.frames_starved;
    if (open) {
        uint64_t span_us = now_us - c->window_start_us;
        uint64_t frames = is.frames - c->window_frames;
        c->stats.snapshot_rate_hz =
            (float)((double)(c->stats.snapshots_decoded - c->window_snapshots) * 1e6 /
                    (double)span_us);
        c->stats.recent_extrapolated_pct =
            frames ? (float)(100.0 * (double)(late - c->window_extrapolated) / (double)frames)
                   : 0.0f;
    }
    c->window_open = true;
    c->window_start_us = now_us;
    c->window_snapshots = c->stats.snapshots_decoded;
    c->window_frames = is.frames;
    c->window_extrapolated = late;
}

netcore_result netcore_game_client_update(netcore_game_client *c, uint64_t now_us)
{
    if (!c)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->state == NETCORE_GAME_CLIENT_IDLE)
        return NETCORE_OK;
    netcore_event ev;
    for (uint32_t i = 0; i < 100000; i++) {
        netcore_result r = netcore_host_poll(c->host, 0, &ev);
        if (r != NETCORE_OK)
            return r;
        if (ev.type == NETCORE_EVENT_NONE)
            break;
        on_event(c, &ev, now_us);
    }
    if (c->state == NETCORE_GAME_CLIENT_PLAYING && c->have_snapshot)
        run_ticks(c, now_us);
    if (c->state == NETCORE_GAME_CLIENT_PLAYING) {
        update_view(c, now_us);
        update_window(c, now_us);
    }
    return netcore_host_flush(c->host);
}

/* ---- life cycle ---- */

void netcore_game_client_config_default(netcore_game_client_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    netcore_game_desc_default(&config->game);
    config->max_entities = 1024;
    config->connect_timeout_ms = 5000;
    config->predict_tolerance = 0.001f;
    config->smoothing_half_life_ms = 50.0f;
    config->snap_distance = 5.0f;
    config->interp_initial_delay_intervals = 2.0f;
    config->sync_snapshots = 32;
}

static netcore_result make_host(netcore_game_client *c)
{
    netcore_host_config hc;
    netcore_host_config_default(&hc);
    hc.allocator = c->config.allocator;
    hc.log = c->config.log;
    hc.max_peers = 1;
    hc.sim = c->config.sim;
    hc.conditioner = c->config.conditioner;
    hc.connect_timeout_ms = c->config.connect_timeout_ms;
    if (c->config.timeout_ms)
        hc.timeout_ms = c->config.timeout_ms;
    netcore_result r =
        nci_session_channels(&hc, c->config.game_channels, c->config.game_channel_count);
    return r == NETCORE_OK ? netcore_host_create(&hc, &c->host) : r;
}

static netcore_result make_replication(netcore_game_client *c)
{
    const netcore_game_client_config *cfg = &c->config;
    netcore_snapshot_client_config sc;
    netcore_snapshot_client_config_default(&sc);
    sc.allocator = cfg->allocator;
    sc.log = cfg->log;
    sc.schema = cfg->game.schema;
    sc.max_entities = cfg->max_entities;
    if (cfg->snapshot_ring_length)
        sc.ring_length = cfg->snapshot_ring_length;
    netcore_result r = netcore_snapshot_client_create(&sc, &c->snapshots);
    if (r != NETCORE_OK)
        return r;
    netcore_input_client_config ic;
    netcore_input_client_config_default(&ic);
    ic.allocator = cfg->allocator;
    ic.input_size_bytes = cfg->game.input_size_bytes + NETCORE_SESSION_INPUT_HEADER_BYTES;
    /* An input packet is lost or arrives whole: never more than one datagram. */
    ic.mtu_bytes = netcore_host_max_unfragmented_bytes(c->host);
    return netcore_input_client_create(&ic, &c->inputs);
}

static netcore_result make_netcode(netcore_game_client *c)
{
    const netcore_game_client_config *cfg = &c->config;
    netcore_timesync_config tc;
    netcore_timesync_config_default(&tc);
    tc.allocator = cfg->allocator;
    tc.tick_rate_hz = cfg->game.tick_rate_hz;
    netcore_result r = netcore_timesync_create(&tc, &c->sync);
    if (r != NETCORE_OK)
        return r;
    netcore_interp_config ic;
    netcore_interp_config_default(&ic);
    ic.allocator = cfg->allocator;
    ic.schema = cfg->game.schema;
    ic.max_entities = cfg->max_entities;
    ic.tick_rate_hz = cfg->game.tick_rate_hz;
    ic.snapshot_rate_hz = cfg->game.tick_rate_hz / cfg->game.snapshot_every_ticks;
    if (ic.snapshot_rate_hz < 1)
        ic.snapshot_rate_hz = 1;
    ic.initial_delay_intervals = cfg->interp_initial_delay_intervals;
    r = netcore_interp_create(&ic, &c->interp);
    if (r != NETCORE_OK)
        return r;
    netcore_predict_config pc;
    netcore_predict_config_default(&pc);
    pc.allocator = cfg->allocator;
    pc.state_size_bytes = cfg->game.state_size_bytes;
    pc.input_size_bytes = cfg->game.input_size_bytes;
    pc.ring_length = PREDICT_RING_TICKS;
    pc.tick_rate_hz = cfg->game.tick_rate_hz;
    pc.simulate = predict_simulate;
    pc.error = predict_error;
    pc.position = predict_position;
    pc.user = c;
    pc.tolerance = cfg->predict_tolerance;
    pc.smoothing_half_life_ms = cfg->smoothing_half_life_ms;
    pc.snap_distance = cfg->snap_distance;
    return netcore_predict_create(&pc, &c->predict);
}

static netcore_result make_buffers(netcore_game_client *c)
{
    const netcore_allocator *a = &c->config.allocator;
    size_t in = c->config.game.input_size_bytes;
    c->auth_state = nci_calloc(a, 1, state_bytes(c));
    c->scratch_state = nci_calloc(a, 1, state_bytes(c));
    c->game_input = nci_calloc(a, 1, in);
    c->zero_input = nci_calloc(a, 1, in);
    c->last_input = nci_calloc(a, 1, in);
    c->wire_input = nci_calloc(a, 1, in + NETCORE_SESSION_INPUT_HEADER_BYTES);
    if (!c->auth_state || !c->scratch_state || !c->game_input || !c->zero_input || !c->last_input ||
        !c->wire_input)
        return NETCORE_ERR_OUT_OF_MEMORY;
    return NETCORE_OK;
}

netcore_result netcore_game_client_create(const netcore_game_client_config *config,
                                          netcore_game_client **out_client)
{
    if (!config || !out_client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_client = NULL;
    if (config->max_entities < 1 || config->max_entities > NETCORE_SNAPSHOT_MAX_ENTITIES ||
        config->sync_snapshots < 1 || config->sync_snapshots > 1024 ||
        config->game_channel_count > NETCORE_SESSION_MAX_GAME_CHANNELS)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_result r = nci_session_check_desc(&config->game, false);
    if (r != NETCORE_OK)
        return r;
    netcore_game_client *c = nci_calloc(&config->allocator, 1, sizeof *c);
    if (!c)
        return NETCORE_ERR_OUT_OF_MEMORY;
    c->config = *config;
    c->index = UINT32_MAX;
    r = make_buffers(c);
    if (r == NETCORE_OK)
        r = make_host(c); /* first: the input packet size derives from it */
    if (r == NETCORE_OK)
        r = make_replication(c);
    if (r == NETCORE_OK)
        r = make_netcode(c);
    if (r != NETCORE_OK) {
        netcore_game_client_destroy(c);
        return r;
    }
    *out_client = c;
    return NETCORE_OK;
}

void netcore_game_client_destroy(netcore_game_client *c)
{
    if (!c)
        return;
    const netcore_allocator a = c->config.allocator;
    if (c->host &&
        (c->state == NETCORE_GAME_CLIENT_CONNECTING || c->state == NETCORE_GAME_CLIENT_PLAYING)) {
        /* Best effort: the server frees the seat now rather than after a timeout. */
        netcore_host_disconnect(c->host, c->server, 0);
        netcore_host_flush(c->host);
    }
    netcore_host_destroy(c->host);
    netcore_predict_destroy(c->predict);
    netcore_interp_destroy(c->interp);
    netcore_timesync_destroy(c->sync);
    netcore_input_client_destroy(c->inputs);
    netcore_snapshot_client_destroy(c->snapshots);
    nci_free(&a, c->auth_state);
    nci_free(&a, c->scratch_state);
    nci_free(&a, c->game_input);
    nci_free(&a, c->zero_input);
    nci_free(&a, c->last_input);
    nci_free(&a, c->wire_input);
    nci_free(&a, c);
}

netcore_result netcore_game_client_connect(netcore_game_client *c, const netcore_address *server,
                                           const netcore_connect_options *options)
{
    if (!c || !server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->state != NETCORE_GAME_CLIENT_IDLE)
        return NETCORE_ERR_STATE;
    netcore_result r = netcore_host_connect(c->host, server, options, &c->server);
    if (r == NETCORE_OK)
        c->state = NETCORE_GAME_CLIENT_CONNECTING;
    return r;
}

netcore_result netcore_game_client_disconnect(netcore_game_client *c)
{
    if (!c)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->state != NETCORE_GAME_CLIENT_CONNECTING && c->state != NETCORE_GAME_CLIENT_PLAYING)
        return NETCORE_ERR_STATE;
    return netcore_host_disconnect(c->host, c->server, 0);
}

/* ---- accessors ---- */

const char *netcore_game_client_state_str(netcore_game_client_state state)
{
    switch (state) {
    case NETCORE_GAME_CLIENT_IDLE:
        return "idle";
    case NETCORE_GAME_CLIENT_CONNECTING:
        return "connecting";
    case NETCORE_GAME_CLIENT_PLAYING:
        return "playing";
    case NETCORE_GAME_CLIENT_DISCONNECTED:
        return "disconnected";
    }
    return "unknown";
}

netcore_game_client_state netcore_game_client_get_state(const netcore_game_client *c)
{
    return c ? c->state : NETCORE_GAME_CLIENT_IDLE;
}

uint32_t netcore_game_client_index(const netcore_game_client *c)
{
    return c ? c->index : UINT32_MAX;
}

netcore_entity_id netcore_game_client_entity(const netcore_game_client *c)
{
    return c ? c->entity : NETCORE_ENTITY_NONE;
}

const void *netcore_game_client_predicted_state(const netcore_game_client *c, uint32_t *out_tick)
{
    return c ? netcore_predict_state(c->predict, out_tick) : NULL;
}

netcore_vec3 netcore_game_client_predicted_position(const netcore_game_client *c)
{
    netcore_vec3 zero = {0.0f, 0.0f, 0.0f};
    if (!c || !netcore_predict_is_started(c->predict))
        return zero;
    return netcore_predict_visual_position(c->predict);
}

netcore_interp *netcore_game_client_interp(netcore_game_client *c)
{
    return c ? c->interp : NULL;
}

const netcore_snapshot_client *netcore_game_client_snapshot(const netcore_game_client *c)
{
    return c ? c->snapshots : NULL;
}

double netcore_game_client_render_tick(const netcore_game_client *c)
{
    return c ? c->render_tick : 0.0;
}

netcore_result netcore_game_client_send(netcore_game_client *c, uint8_t channel, const void *data,
                                        size_t size_bytes)
{
    if (!c || channel >= c->config.game_channel_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (c->state != NETCORE_GAME_CLIENT_PLAYING)
        return NETCORE_ERR_NOT_CONNECTED;
    return netcore_host_send(c->host, c->server, (uint8_t)(channel + NETCORE_SESSION_CHANNELS),
                             data, size_bytes);
}

netcore_host *netcore_game_client_host(netcore_game_client *c)
{
    return c ? c->host : NULL;
}

netcore_result netcore_game_client_get_stats(const netcore_game_client *c,
                                             netcore_game_client_stats *out_stats)
{
    if (!c || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = c->stats;
    out_stats->state = c->state;
    netcore_peer_stats ps;
    if (c->server != NETCORE_PEER_NONE &&
        netcore_host_get_peer_stats(c->host, c->server, &ps) == NETCORE_OK) {
        out_stats->rtt_ms = ps.rtt_ms;
        out_stats->loss_pct = ps.loss_pct;
        out_stats->sealed = ps.sealed;
    }
    netcore_predict_stats pst;
    if (netcore_predict_get_stats(c->predict, &pst) == NETCORE_OK)
        out_stats->corrections = pst.corrections;
    netcore_interp_stats is;
    if (netcore_interp_get_stats(c->interp, &is) == NETCORE_OK) {
        out_stats->interp_delay_ms = is.delay_ms;
        out_stats->extrapolated_pct = is.extrapolated_pct;
    }
    return NETCORE_OK;
}
