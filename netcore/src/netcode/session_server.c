/*
 * Session layer, server side (see session.h): one host with token admission
 * and the guard keyed once, the snapshot server, the input server and the lag
 * compensation history, driven by one update call.
 *
 * Per update: network events (admission, HELLO -> WELCOME, input packets with
 * their snapshot acks, the game's messages), then every tick due: each
 * player's input is taken and its state stepped with the game's simulate,
 * the game's on_tick runs the rest of the world, the tick is recorded for lag
 * compensation, players are written into their entities with the input tick
 * (the client's reconciliation key), and every snapshot_every_ticks a
 * snapshot goes to each player.
 */
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "core/core_internal.h"
#include "netcode/session_internal.h"

/* A connected (admitted) peer; `client` is its player index once welcomed. */
typedef struct peer_rec {
    bool used;
    bool connected; /* CONNECT seen (admission alone reserves the record) */
    netcore_peer_id peer;
    int32_t client; /* -1: not playing */
    bool has_token;
    netcore_token_info token;
} peer_rec;

/* A playing client, by the index the snapshot server handed out. */
typedef struct client_rec {
    bool used;
    uint32_t peer_index;
    netcore_entity_id entity;
    netcore_input_source source;
    uint32_t view_tick_q8; /* render tick * 256 sent with the current input */
} client_rec;

typedef struct pending_record {
    netcore_entity_id entity;
    netcore_vec3 position;
} pending_record;

struct netcore_game_server {
    netcore_game_server_config config;
    netcore_host *host;
    netcore_token_validator *validator;
    netcore_snapshot_server *snapshots;
    netcore_input_server *inputs;
    netcore_lagcomp *lagcomp;
    nci_session_hello expected; /* what every client's HELLO must say */
    uint32_t max_peers;
    peer_rec *peers;
    client_rec *clients;
    uint8_t *states;      /* max_clients * state_size_bytes */
    uint8_t *game_inputs; /* max_clients * input_size_bytes, the current tick's */
    uint8_t *wire_input;  /* one input as carried: header + game input */
    uint8_t *snapshot_buffer;
    pending_record *pending; /* non-player lag compensation records of this tick */
    uint32_t pending_count;
    bool started;
    bool in_tick;
    uint32_t tick;
    uint64_t next_tick_us;
    uint64_t tick_us;
    netcore_game_server_stats stats;
};

/* ---- helpers ---- */

static size_t state_bytes(const netcore_game_server *s)
{
    return s->config.game.state_size_bytes;
}

static size_t input_bytes(const netcore_game_server *s)
{
    return s->config.game.input_size_bytes;
}

static bool client_ok(const netcore_game_server *s, uint32_t client)
{
    return s && client < s->config.max_clients && s->clients[client].used;
}

static peer_rec *find_peer(netcore_game_server *s, netcore_peer_id peer)
{
    for (uint32_t i = 0; i < s->max_peers; i++)
        if (s->peers[i].used && s->peers[i].peer == peer)
            return &s->peers[i];
    return NULL;
}

static peer_rec *take_peer(netcore_game_server *s, netcore_peer_id peer)
{
    for (uint32_t i = 0; i < s->max_peers; i++) {
        if (!s->peers[i].used) {
            memset(&s->peers[i], 0, sizeof s->peers[i]);
            s->peers[i].used = true;
            s->peers[i].peer = peer;
            s->peers[i].client = -1;
            return &s->peers[i];
        }
    }
    return NULL;
}

static uint64_t token_now_s(const netcore_game_server *s)
{
    if (s->config.token_clock)
        return s->config.token_clock(s->config.token_clock_user);
    time_t now = time(NULL);
    return now < 0 ? 0 : (uint64_t)now;
}

/* Token admission: the validator decides; the opened token is kept for the
 * game (netcore_game_server_client_token) in a record that the CONNECT
 * event then finds. */
static netcore_result admit(void *user, netcore_peer_id peer, const netcore_address *from,
                            const void *token, size_t token_size_bytes,
                            netcore_admission_grant *grant)
{
    netcore_game_server *s = user;
    netcore_token_info info;
    /* With from: a token bound to another IP is refused before it is spent. */
    netcore_result r = netcore_token_validate_from(s->validator, token, token_size_bytes, from,
                                                   token_now_s(s), &info);
    peer_rec *p = r == NETCORE_OK ? take_peer(s, peer) : NULL;
    if (r == NETCORE_OK && !p)
        r = NETCORE_ERR_FULL;
    /* The token's session keys seal this player's traffic (transport.h). */
    if (r == NETCORE_OK)
        r = netcore_token_grant(&info, grant);
    if (r == NETCORE_OK) {
        p->has_token = true;
        p->token = info;
        /* The game reads the token, never the keys. */
        netcore_session_keys_wipe(&p->token.session_keys);
    }
    netcore_session_keys_wipe(&info.session_keys);
    return r;
}

/* ---- players ---- */

static void welcome(netcore_game_server *s, peer_rec *p, uint32_t index)
{
    client_rec *c = &s->clients[index];
    nci_session_welcome w = {(uint16_t)index, c->entity, (uint16_t)s->config.game.tick_rate_hz,
                             (uint8_t)s->config.game.snapshot_every_ticks};
    uint8_t msg[NCI_SESSION_WELCOME_BYTES];
    nci_session_write_welcome(&w, msg);
    netcore_host_send(s->host, p->peer, NCI_SESSION_CHANNEL_CONTROL, msg, sizeof msg);
}

static bool hello_matches(const netcore_game_server *s, const nci_session_hello *h)
{
    return h->schema_hash == s->expected.schema_hash &&
           h->tick_rate_hz == s->expected.tick_rate_hz &&
           h->snapshot_every_ticks == s->expected.snapshot_every_ticks &&
           h->input_size_bytes == s->expected.input_size_bytes;
}

static void on_hello(netcore_game_server *s, peer_rec *p, const uint8_t *data, size_t size)
{
    nci_session_hello h;
    if (p->client >= 0 || nci_session_read_hello(data, size, &h) != NETCORE_OK ||
        !hello_matches(s, &h)) {
        s->stats.hello_rejected++;
        netcore_host_disconnect(s->host, p->peer, NETCORE_ERR_MISMATCH);
        return;
    }
    uint32_t index = 0;
    netcore_entity_id entity = NETCORE_ENTITY_NONE;
    if (netcore_snapshot_server_client_add(s->snapshots, &index) != NETCORE_OK)
        goto full;
    if (netcore_snapshot_server_entity_create(s->snapshots, s->config.game.player_type, &entity) !=
        NETCORE_OK) {
        netcore_snapshot_server_client_remove(s->snapshots, index);
        goto full;
    }
    netcore_input_server_client_reset(s->inputs, index);
    client_rec *c = &s->clients[index];
    memset(c, 0, sizeof *c);
    c->used = true;
    c->peer_index = (uint32_t)(p - s->peers);
    c->entity = entity;
    c->source = NETCORE_INPUT_EMPTY;
    memset(s->states + index * state_bytes(s), 0, state_bytes(s));
    memset(s->game_inputs + index * input_bytes(s), 0, input_bytes(s));
    p->client = (int32_t)index;
    s->stats.joins++;
    s->stats.clients++;
    if (s->config.on_join)
        s->config.on_join(s->config.user, s, index, entity);
    welcome(s, p, index);
    return;
full:
    s->stats.full_rejected++;
    netcore_host_disconnect(s->host, p->peer, NETCORE_ERR_FULL);
}

/* The input server's per-client counters restart when a slot is reused:
 * fold a leaving player's into the totals first. */
static void fold_input_stats(const netcore_game_server *s, uint32_t index, uint64_t *late,
                             uint64_t *too_far)
{
    netcore_input_server_stats is;
    if (netcore_input_server_get_client_stats(s->inputs, index, &is) != NETCORE_OK)
        return;
    *late += is.inputs_late;
    *too_far += is.inputs_too_far;
}

static void drop_client(netcore_game_server *s, peer_rec *p)
{
    if (p->client < 0)
        return;
    uint32_t index = (uint32_t)p->client;
    client_rec *c = &s->clients[index];
    fold_input_stats(s, index, &s->stats.inputs_late, &s->stats.inputs_too_far);
    if (s->config.on_leave)
        s->config.on_leave(s->config.user, s, index, c->entity);
    netcore_snapshot_server_entity_destroy(s->snapshots, c->entity);
    netcore_snapshot_server_client_remove(s->snapshots, index);
    memset(c, 0, sizeof *c);
    p->client = -1;
    s->stats.leaves++;
    s->stats.clients--;
}

static void on_input_packet(netcore_game_server *s, uint32_t index, const uint8_t *data,
                            size_t size)
{
    const uint8_t *ack = NULL;
    size_t ack_size = 0;
    if (netcore_input_server_read(s->inputs, index, data, size, &ack, &ack_size) != NETCORE_OK) {
        s->stats.input_rejected++;
        return;
    }
    if (ack_size == 0)
        return;
    /* An ack naming a snapshot that left the ring is normal under loss;
     * only bytes that do not parse (or another schema) are rejections. */
    netcore_result r = netcore_snapshot_server_read_ack(s->snapshots, index, ack, ack_size, NULL);
    if (r == NETCORE_ERR_MALFORMED || r == NETCORE_ERR_MISMATCH)
        s->stats.acks_rejected++;
}

static void on_receive(netcore_game_server *s, peer_rec *p, const netcore_event *ev)
{
    if (ev->channel == NCI_SESSION_CHANNEL_CONTROL) {
        on_hello(s, p, ev->data, ev->size_bytes);
    } else if (p->client < 0) {
        s->stats.messages_dropped++;
    } else if (ev->channel == NCI_SESSION_CHANNEL_GAME) {
        on_input_packet(s, (uint32_t)p->client, ev->data, ev->size_bytes);
    } else if (s->config.on_message) {
        s->config.on_message(s->config.user, s, (uint32_t)p->client,
                             (uint8_t)(ev->channel - NETCORE_SESSION_CHANNELS), ev->data,
                             ev->size_bytes);
    } else {
        s->stats.messages_dropped++;
    }
}

static void on_event(netcore_game_server *s, const netcore_event *ev)
{
    peer_rec *p = find_peer(s, ev->peer);
    if (ev->type == NETCORE_EVENT_CONNECT) {
        if (!p)
            p = take_peer(s, ev->peer);
        if (!p) {
            s->stats.full_rejected++;
            netcore_host_disconnect(s->host, ev->peer, NETCORE_ERR_FULL);
            return;
        }
        p->connected = true;
    } else if (ev->type == NETCORE_EVENT_DISCONNECT && p) {
        if (p->client >= 0) {
            s->stats.leaves_requested += ev->reason == NETCORE_DISCONNECT_REQUESTED;
            s->stats.leaves_timeout += ev->reason == NETCORE_DISCONNECT_TIMEOUT;
        }
        drop_client(s, p);
        memset(p, 0, sizeof *p);
    } else if (ev->type == NETCORE_EVENT_RECEIVE && p) {
        on_receive(s, p, ev);
    }
}

/* ---- the tick ---- */

static void step_players(netcore_game_server *s, uint32_t tick)
{
    const netcore_game_desc *g = &s->config.game;
    for (uint32_t i = 0; i < s->config.max_clients; i++) {
        client_rec *c = &s->clients[i];
        if (!c->used)
            continue;
        if (netcore_input_server_take(s->inputs, i, tick, s->wire_input, &c->source) != NETCORE_OK)
            continue;
        s->stats.inputs_repeated += c->source != NETCORE_INPUT_RECEIVED;
        c->view_tick_q8 = (uint32_t)s->wire_input[0] | (uint32_t)s->wire_input[1] << 8 |
                          (uint32_t)s->wire_input[2] << 16 | (uint32_t)s->wire_input[3] << 24;
        uint8_t *input = s->game_inputs + i * input_bytes(s);
        memcpy(input, s->wire_input + NETCORE_SESSION_INPUT_HEADER_BYTES, input_bytes(s));
        if (!s->config.game_steps_players)
            g->simulate(g->user, s->states + i * state_bytes(s), input, tick);
    }
}

/* After on_tick, so that the history holds the world exactly as it is sent. */
static void record_history(netcore_game_server *s, uint32_t tick)
{
    const netcore_game_desc *g = &s->config.game;
    netcore_lagcomp_begin_tick(s->lagcomp, tick);
    for (uint32_t i = 0; i < s->config.max_clients; i++) {
        if (!s->clients[i].used)
            continue;
        netcore_vec3 pos = g->position(g->user, s->states + i * state_bytes(s));
        float values[3] = {pos.x, pos.y, pos.z};
        netcore_lagcomp_record(s->lagcomp, s->clients[i].entity, values);
    }
    for (uint32_t i = 0; i < s->pending_count; i++) {
        float values[3] = {s->pending[i].position.x, s->pending[i].position.y,
                           s->pending[i].position.z};
        netcore_lagcomp_record(s->lagcomp, s->pending[i].entity, values);
    }
    s->pending_count = 0;
}

static void write_players(netcore_game_server *s, uint32_t tick)
{
    const netcore_game_desc *g = &s->config.game;
    for (uint32_t i = 0; i < s->config.max_clients; i++) {
        client_rec *c = &s->clients[i];
        if (!c->used)
            continue;
        g->write_state(g->user, s->snapshots, c->entity, s->states + i * state_bytes(s));
        /* The reconciliation key: this state is the one after input tick `tick`. */
        netcore_snapshot_server_set_int(s->snapshots, c->entity, g->player_tick_field, tick);
    }
}

static void send_snapshots(netcore_game_server *s, uint32_t tick)
{
    for (uint32_t i = 0; i < s->config.max_clients; i++) {
        if (!s->clients[i].used)
            continue;
        size_t n = 0;
        netcore_peer_id peer = s->peers[s->clients[i].peer_index].peer;
        if (netcore_snapshot_server_write(s->snapshots, i, tick, s->snapshot_buffer,
                                          s->config.snapshot_budget_bytes, &n) != NETCORE_OK ||
            netcore_host_send(s->host, peer, NCI_SESSION_CHANNEL_GAME, s->snapshot_buffer, n) !=
                NETCORE_OK)
            s->stats.snapshot_errors++;
        else {
            s->stats.snapshots_sent++;
            s->stats.snapshot_bytes_sent += n;
        }
    }
}

static void run_tick(netcore_game_server *s)
{
    uint32_t tick = s->tick + 1;
    s->tick = tick;
    step_players(s, tick);
    s->in_tick = true;
    if (s->config.on_tick)
        s->config.on_tick(s->config.user, s, tick);
    s->in_tick = false;
    record_history(s, tick);
    write_players(s, tick);
    if (tick % s->config.game.snapshot_every_ticks == 0)
        send_snapshots(s, tick);
    s->stats.ticks_run++;
}

/* Handles every pending event; the first poll may wait up to timeout_ms. */
static netcore_result handle_events(netcore_game_server *s, uint32_t timeout_ms)
{
    netcore_event ev;
    for (uint32_t i = 0; i < 100000; i++) {
        netcore_result r = netcore_host_poll(s->host, i == 0 ? timeout_ms : 0, &ev);
        if (r != NETCORE_OK)
            return r;
        if (ev.type == NETCORE_EVENT_NONE)
            break;
        on_event(s, &ev);
    }
    return NETCORE_OK;
}

netcore_result netcore_game_server_wait(netcore_game_server *s, uint32_t timeout_ms)
{
    if (!s)
        return NETCORE_ERR_INVALID_ARGUMENT;
    return handle_events(s, timeout_ms);
}

uint64_t netcore_game_server_next_tick_us(const netcore_game_server *s)
{
    return s && s->started ? s->next_tick_us : 0;
}

netcore_result netcore_game_server_update(netcore_game_server *s, uint64_t now_us)
{
    if (!s)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_result r = handle_events(s, 0);
    if (r != NETCORE_OK)
        return r;
    if (!s->started) {
        s->started = true;
        s->next_tick_us = now_us;
    }
    for (uint32_t ran = 0; s->next_tick_us <= now_us; ran++) {
        if (ran == NCI_SESSION_MAX_TICKS_PER_UPDATE) {
            /* A stalled server does not replay seconds of ticks in a burst. */
            uint64_t behind = (now_us - s->next_tick_us) / s->tick_us + 1;
            s->stats.ticks_skipped += behind;
            s->next_tick_us += behind * s->tick_us;
            break;
        }
        run_tick(s);
        s->next_tick_us += s->tick_us;
    }
    return netcore_host_flush(s->host);
}

/* ---- life cycle ---- */

void netcore_game_server_config_default(netcore_game_server_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    netcore_game_desc_default(&config->game);
    config->max_clients = 16;
    config->max_entities = 1024;
    config->input_buffer_ticks = 64;
    config->lagcomp_history_ticks = 72;
}

static netcore_result check_config(const netcore_game_server_config *c)
{
    if (c->max_clients < 1 || c->max_clients > 1024 || c->max_entities < c->max_clients ||
        c->max_entities > NETCORE_SNAPSHOT_MAX_ENTITIES ||
        c->game_channel_count > NETCORE_SESSION_MAX_GAME_CHANNELS)
        return NETCORE_ERR_INVALID_ARGUMENT;
    return nci_session_check_desc(&c->game, true);
}

static netcore_result make_modules(netcore_game_server *s)
{
    const netcore_game_server_config *c = &s->config;
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.allocator = c->allocator;
    sc.log = c->log;
    sc.schema = c->game.schema;
    sc.max_entities = c->max_entities;
    sc.max_clients = c->max_clients;
    sc.budget_bytes = c->snapshot_budget_bytes;
    sc.interest = c->interest;
    sc.interest_user = c->interest_user;
    sc.max_view_entities = c->max_view_entities;
    if (c->snapshot_ring_length)
        sc.ring_length = c->snapshot_ring_length;
    netcore_result r = netcore_snapshot_server_create(&sc, &s->snapshots);
    if (r != NETCORE_OK)
        return r;
    netcore_input_server_config ic;
    netcore_input_server_config_default(&ic);
    ic.allocator = c->allocator;
    ic.log = c->log;
    ic.input_size_bytes = c->game.input_size_bytes + NETCORE_SESSION_INPUT_HEADER_BYTES;
    ic.max_clients = c->max_clients;
    ic.buffer_ticks = c->input_buffer_ticks;
    r = netcore_input_server_create(&ic, &s->inputs);
    if (r != NETCORE_OK)
        return r;
    netcore_lagcomp_config lc;
    netcore_lagcomp_config_default(&lc);
    lc.allocator = c->allocator;
    lc.max_entities = c->max_entities;
    lc.components = 3;
    lc.history_ticks = c->lagcomp_history_ticks;
    lc.max_rewind_ticks = c->lagcomp_max_rewind_ticks;
    return netcore_lagcomp_create(&lc, &s->lagcomp);
}

static netcore_result make_host(netcore_game_server *s)
{
    const netcore_game_server_config *c = &s->config;
    netcore_host_config hc;
    netcore_host_config_default(&hc);
    hc.allocator = c->allocator;
    hc.log = c->log;
    hc.is_server = true;
    hc.bind_address = c->bind_address;
    hc.max_peers = s->max_peers;
    hc.conditioner = c->conditioner;
    hc.sim = c->sim;
    if (c->timeout_ms)
        hc.timeout_ms = c->timeout_ms;
    if (c->handshake_timeout_ms) {
        hc.guard.handshake_timeout_ms = c->handshake_timeout_ms;
        hc.admission_timeout_ms = c->handshake_timeout_ms;
    }
    netcore_result r = nci_session_channels(&hc, c->game_channels, c->game_channel_count);
    if (r != NETCORE_OK)
        return r;
    if (c->require_token) {
        hc.admission = admit;
        hc.admission_user = s;
        /* One key for both lines of defence: the guard checks the address
         * proof the lobby derived from it before a slot is spent. */
        hc.guard.require_connect_proof = true;
        memcpy(hc.guard.proof_key, c->token_key, sizeof hc.guard.proof_key);
        hc.guard.proof_clock_s = c->token_clock;
        hc.guard.proof_clock_user = c->token_clock_user;
    }
    r = netcore_host_create(&hc, &s->host);
    sodium_memzero(hc.guard.proof_key, sizeof hc.guard.proof_key);
    return r;
}

static netcore_result make_validator(netcore_game_server *s)
{
    netcore_token_validator_config vc;
    netcore_token_validator_config_default(&vc);
    vc.allocator = s->config.allocator;
    memcpy(vc.key, s->config.token_key, sizeof vc.key);
    vc.server_address = s->config.public_address;
    if (vc.server_address.family != NETCORE_ADDRESS_NONE && vc.server_address.port == 0) {
        netcore_address bound;
        netcore_host_address(s->host, &bound);
        vc.server_address.port = bound.port;
    } else if (vc.server_address.family == NETCORE_ADDRESS_NONE) {
        netcore_host_address(s->host, &vc.server_address);
        if (vc.server_address.family == NETCORE_ADDRESS_NONE) {
            uint16_t port = vc.server_address.port;
            vc.server_address = netcore_address_ipv4(0, 0, 0, 0, port);
        }
    }
    vc.clock = s->config.token_clock;
    vc.clock_user = s->config.token_clock_user;
    vc.accept = s->config.token_accept;
    vc.accept_user = s->config.token_accept_user;
    netcore_result r = netcore_token_validator_create(&vc, &s->validator);
    sodium_memzero(vc.key, sizeof vc.key);
    return r;
}

static netcore_result make_buffers(netcore_game_server *s)
{
    const netcore_allocator *a = &s->config.allocator;
    uint32_t n = s->config.max_clients;
    s->peers = nci_calloc(a, s->max_peers, sizeof *s->peers);
    s->clients = nci_calloc(a, n, sizeof *s->clients);
    s->states = nci_calloc(a, n, state_bytes(s));
    s->game_inputs = nci_calloc(a, n, input_bytes(s));
    s->wire_input = nci_calloc(a, 1, input_bytes(s) + NETCORE_SESSION_INPUT_HEADER_BYTES);
    s->snapshot_buffer = nci_calloc(a, 1, s->config.snapshot_budget_bytes);
    s->pending = nci_calloc(a, s->config.max_entities, sizeof *s->pending);
    if (!s->peers || !s->clients || !s->states || !s->game_inputs || !s->wire_input ||
        !s->snapshot_buffer || !s->pending)
        return NETCORE_ERR_OUT_OF_MEMORY;
    return NETCORE_OK;
}

netcore_result netcore_game_server_create(const netcore_game_server_config *config,
                                          netcore_game_server **out_server)
{
    if (!config || !out_server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_server = NULL;
    netcore_result r = check_config(config);
    if (r != NETCORE_OK)
        return r;
    netcore_game_server *s = nci_calloc(&config->allocator, 1, sizeof *s);
    if (!s)
        return NETCORE_ERR_OUT_OF_MEMORY;
    s->config = *config;
    /* Room for peers still handshaking or being refused beside the players. */
    s->max_peers = config->max_clients * 2 + 8;
    if (s->max_peers > 4095)
        s->max_peers = 4095;
    s->tick_us = 1000000u / config->game.tick_rate_hz;
    s->expected = nci_session_hello_of(&config->game);
    /* The host first: the snapshot budget defaults to what it sends whole. */
    r = make_host(s);
    if (r == NETCORE_OK && s->config.snapshot_budget_bytes == 0)
        s->config.snapshot_budget_bytes = netcore_host_max_unfragmented_bytes(s->host);
    if (r == NETCORE_OK)
        r = make_buffers(s);
    if (r == NETCORE_OK)
        r = make_modules(s);
    if (r == NETCORE_OK && config->require_token)
        r = make_validator(s);
    /* The key now lives in the guard and the validator only. */
    sodium_memzero(s->config.token_key, sizeof s->config.token_key);
    if (r != NETCORE_OK) {
        netcore_game_server_destroy(s);
        return r;
    }
    *out_server = s;
    return NETCORE_OK;
}

void netcore_game_server_destroy(netcore_game_server *s)
{
    if (!s)
        return;
    const netcore_allocator a = s->config.allocator;
    netcore_host_destroy(s->host);
    netcore_token_validator_destroy(s->validator);
    netcore_lagcomp_destroy(s->lagcomp);
    netcore_input_server_destroy(s->inputs);
    netcore_snapshot_server_destroy(s->snapshots);
    nci_free(&a, s->peers);
    nci_free(&a, s->clients);
    nci_free(&a, s->states);
    nci_free(&a, s->game_inputs);
    nci_free(&a, s->wire_input);
    nci_free(&a, s->snapshot_buffer);
    nci_free(&a, s->pending);
    nci_free(&a, s);
}

/* ---- accessors ---- */

netcore_result netcore_game_server_address(const netcore_game_server *s,
                                           netcore_address *out_address)
{
    if (!s || !out_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    return netcore_host_address(s->host, out_address);
}

uint32_t netcore_game_server_tick(const netcore_game_server *s)
{
    return s ? s->tick : 0;
}

bool netcore_game_server_client_active(const netcore_game_server *s, uint32_t client)
{
    return client_ok(s, client);
}

netcore_entity_id netcore_game_server_client_entity(const netcore_game_server *s, uint32_t client)
{
    return client_ok(s, client) ? s->clients[client].entity : NETCORE_ENTITY_NONE;
}

void *netcore_game_server_client_state(netcore_game_server *s, uint32_t client)
{
    return client_ok(s, client) ? s->states + client * state_bytes(s) : NULL;
}

const void *netcore_game_server_client_input(const netcore_game_server *s, uint32_t client,
                                             netcore_input_source *out_source)
{
    if (!client_ok(s, client))
        return NULL;
    if (out_source)
        *out_source = s->clients[client].source;
    return s->game_inputs + client * input_bytes(s);
}

netcore_result netcore_game_server_client_token(const netcore_game_server *s, uint32_t client,
                                                netcore_token_info *out_info)
{
    if (!s || !out_info)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!client_ok(s, client) || !s->peers[s->clients[client].peer_index].has_token)
        return NETCORE_ERR_NOT_FOUND;
    *out_info = s->peers[s->clients[client].peer_index].token;
    return NETCORE_OK;
}

netcore_result netcore_game_server_record(netcore_game_server *s, netcore_entity_id entity,
                                          netcore_vec3 position)
{
    if (!s || entity == NETCORE_ENTITY_NONE || (entity & 0xFFFFu) >= s->config.max_entities)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!s->in_tick)
        return NETCORE_ERR_STATE;
    if (s->pending_count >= s->config.max_entities)
        return NETCORE_ERR_FULL;
    s->pending[s->pending_count].entity = entity;
    s->pending[s->pending_count].position = position;
    s->pending_count++;
    return NETCORE_OK;
}

netcore_result netcore_game_server_rewind(netcore_game_server *s, uint32_t client,
                                          netcore_entity_id entity, netcore_vec3 *out_position,
                                          netcore_lagcomp_result *out_result)
{
    if (!s || !out_position)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!client_ok(s, client))
        return NETCORE_ERR_NOT_FOUND;
    /* The client's claim is untrusted; the history clamps it to the rewind limit. */
    double tick = (double)s->clients[client].view_tick_q8 / 256.0;
    float values[3];
    netcore_result r = netcore_lagcomp_query(s->lagcomp, entity, tick, values, out_result);
    if (r != NETCORE_OK)
        return r;
    out_position->x = values[0];
    out_position->y = values[1];
    out_position->z = values[2];
    return NETCORE_OK;
}

netcore_result netcore_game_server_send(netcore_game_server *s, uint32_t client, uint8_t channel,
                                        const void *data, size_t size_bytes)
{
    if (!s || channel >= s->config.game_channel_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!client_ok(s, client))
        return NETCORE_ERR_NOT_CONNECTED;
    netcore_peer_id peer = s->peers[s->clients[client].peer_index].peer;
    return netcore_host_send(s->host, peer, (uint8_t)(channel + NETCORE_SESSION_CHANNELS), data,
                             size_bytes);
}

netcore_result netcore_game_server_broadcast(netcore_game_server *s, uint8_t channel,
                                             const void *data, size_t size_bytes)
{
    if (!s || channel >= s->config.game_channel_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    /* Players only: a peer still saying HELLO has no world to apply it to. */
    for (uint32_t i = 0; i < s->config.max_clients; i++) {
        if (!s->clients[i].used)
            continue;
        netcore_result r = netcore_game_server_send(s, i, channel, data, size_bytes);
        if (r != NETCORE_OK && r != NETCORE_ERR_NOT_CONNECTED)
            return r;
    }
    return NETCORE_OK;
}

netcore_result netcore_game_server_kick(netcore_game_server *s, uint32_t client, uint32_t code)
{
    if (!s)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!client_ok(s, client))
        return NETCORE_ERR_NOT_CONNECTED;
    return netcore_host_disconnect(s->host, s->peers[s->clients[client].peer_index].peer, code);
}

netcore_snapshot_server *netcore_game_server_snapshot(netcore_game_server *s)
{
    return s ? s->snapshots : NULL;
}

netcore_host *netcore_game_server_host(netcore_game_server *s)
{
    return s ? s->host : NULL;
}

netcore_result netcore_game_server_get_stats(const netcore_game_server *s,
                                             netcore_game_server_stats *out_stats)
{
    if (!s || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = s->stats;
    out_stats->tick = s->tick;
    for (uint32_t i = 0; i < s->config.max_clients; i++)
        if (s->clients[i].used)
            fold_input_stats(s, i, &out_stats->inputs_late, &out_stats->inputs_too_far);
    if (s->validator)
        netcore_token_validator_get_stats(s->validator, &out_stats->token);
    return netcore_host_get_stats(s->host, &out_stats->host);
}
