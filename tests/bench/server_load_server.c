/*
 * server_load's servers (see server_load.h): the netcore game server with the
 * whole pipeline, and the raw ENet baseline server.
 *
 * Both run 60 Hz ticks until shared->stop and measure only inside the
 * driver's window. tick_ms is the server thread's CPU time over one tick
 * period (CLOCK_THREAD_CPUTIME_ID from one tick's start to the next): the
 * work the tick caused, receiving included, unaffected by other processes
 * taking the core away; step_ms is the wall time of the tick's own step.
 */
#define _GNU_SOURCE

#include <enet/enet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netcore/input.h"
#include "netcore/lagcomp.h"
#include "netcore/snapshot.h"
#include "netcore/token.h"
#include "netcore/transport.h"
#include "server_load.h"

#define MAX_TICK_SAMPLES (SL_TICK_HZ * 3700u)
#define MAX_EVENTS_PER_DRAIN 65536u
#define SNAPSHOT_BUFFER_BYTES 1400u
#define HISTORY_TICKS 72u /* 1.2 s of lag compensation at 60 Hz */
#define FIRE_REWIND_TICKS 6.5

typedef struct player {
    bool used;
    netcore_peer_id peer;
    netcore_entity_id entity;
    float x, y;
} player;

typedef struct peer_slot { /* open-addressing map from peer id to client slot */
    netcore_peer_id peer;
    uint32_t slot;
} peer_slot;

/* Per-window measurements shared by both servers. */
typedef struct window {
    bool open;
    bool closed;
    uint64_t cpu_us;
    uint64_t start_us;
    double *tick_ms;
    double *step_ms;
    uint32_t samples;
    uint64_t last_thread_cpu_ns;
    uint64_t wire_sent, wire_received;
} window;

typedef struct load_server {
    sl_shared *shared;
    uint32_t clients;
    float arena_m;
    netcore_host *host;
    netcore_token_validator *validator;
    netcore_schema *schema;
    netcore_snapshot_server *snapshots;
    netcore_input_server *inputs;
    netcore_lagcomp *lagcomp;
    player *players; /* by snapshot client slot */
    float *entity_x; /* by entity slot index (id & 0xFFFF) */
    float *entity_y;
    peer_slot *peers; /* capacity peer_mask + 1 */
    uint32_t peer_mask;
    uint64_t *pending_ids; /* admission: peer -> client id, small linear table */
    netcore_peer_id *pending_peers;
    uint32_t tick;
    uint32_t admitted;
    window win;
    sl_server_result *result;
} load_server;

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

static double percentile(double *values, uint32_t count, double pct)
{
    if (count == 0) {
        return NAN;
    }
    qsort(values, count, sizeof *values, compare_double);
    uint32_t index = (uint32_t)ceil(pct / 100.0 * count);
    return values[index == 0 ? 0 : index - 1];
}

/* ------------------------------------------------------------------ */
/* Measurement window                                                  */
/* ------------------------------------------------------------------ */

static bool window_alloc(window *win)
{
    memset(win, 0, sizeof *win);
    win->tick_ms = calloc(MAX_TICK_SAMPLES, sizeof *win->tick_ms);
    win->step_ms = calloc(MAX_TICK_SAMPLES, sizeof *win->step_ms);
    return win->tick_ms != NULL && win->step_ms != NULL;
}

static void window_free(window *win)
{
    free(win->tick_ms);
    free(win->step_ms);
}

/* Called at each tick start: opens and closes the window on the driver's
 * times and records the CPU the previous tick period used. */
static void window_tick(window *win, const sl_shared *shared, uint64_t now_us, uint64_t wire_sent,
                        uint64_t wire_received, uint32_t connected, sl_server_result *result)
{
    uint64_t cpu_ns = thread_cpu_ns();
    uint64_t start = atomic_load(&shared->measure_start_us);
    uint64_t end = atomic_load(&shared->measure_end_us);
    if (win->open && !win->closed && win->samples < MAX_TICK_SAMPLES) {
        win->tick_ms[win->samples++] = (double)(cpu_ns - win->last_thread_cpu_ns) / 1e6;
    }
    win->last_thread_cpu_ns = cpu_ns;
    if (!win->open && start != 0 && now_us >= start) {
        win->open = true;
        win->start_us = now_us;
        win->cpu_us = sl_process_cpu_us();
        win->wire_sent = wire_sent;
        win->wire_received = wire_received;
    } else if (win->open && !win->closed && now_us >= end) {
        win->closed = true;
        double seconds = (double)(now_us - win->start_us) / 1e6;
        result->cpu_pct = (double)(sl_process_cpu_us() - win->cpu_us) / 1e4 / seconds;
        result->out_kbps = (double)(wire_sent - win->wire_sent) * 8.0 / 1000.0 / seconds;
        result->in_kbps = (double)(wire_received - win->wire_received) * 8.0 / 1000.0 / seconds;
        result->rss_bytes = (double)sl_rss_bytes();
        /* At the window's end: after it, bots leave as the run stops. */
        result->connected_at_end = connected;
        result->ticks = win->samples;
        result->tick_ms_max = win->samples ? win->tick_ms[0] : NAN;
        for (uint32_t i = 0; i < win->samples; i++) {
            result->tick_ms_max = fmax(result->tick_ms_max, win->tick_ms[i]);
        }
        result->step_ms_p99 = percentile(win->step_ms, win->samples, 99.0);
        result->tick_ms_p50 = percentile(win->tick_ms, win->samples, 50.0);
        result->tick_ms_p99 = percentile(win->tick_ms, win->samples, 99.0);
        result->ok = win->samples > 0;
    }
}

static bool window_measuring(const window *win)
{
    return win->open && !win->closed;
}

/* Runs `step` at 60 Hz until stop; between ticks waits in `wait` (which
 * handles whatever arrives). A stalled process skips ticks instead of bursting. */
typedef void (*tick_fn)(void *server, uint64_t now_us);
typedef void (*wait_fn)(void *server, uint32_t timeout_ms);

static void run_ticks(void *server, window *win, const sl_shared *shared, tick_fn step,
                      wait_fn wait, sl_server_result *result)
{
    const uint64_t tick_us = 1000000u / SL_TICK_HZ;
    uint64_t next_tick = sl_now_us();
    while (atomic_load(&shared->stop) == 0) {
        uint64_t now = sl_now_us();
        if (now < next_tick) {
            uint64_t left_us = next_tick - now;
            if (left_us >= 1000u) {
                wait(server, (uint32_t)(left_us / 1000u));
            } else {
                sl_sleep_until_us(next_tick);
            }
            continue;
        }
        step(server, now);
        uint64_t done = sl_now_us();
        if (window_measuring(win) && win->samples > 0) {
            win->step_ms[win->samples - 1] = (double)(done - now) / 1e3;
        }
        next_tick += tick_us;
        if (done > next_tick + tick_us) {
            if (window_measuring(win)) {
                result->ticks_late++;
            }
            next_tick = done + tick_us;
        }
    }
}

/* ------------------------------------------------------------------ */
/* netcore server                                                      */
/* ------------------------------------------------------------------ */

static uint32_t peer_hash(netcore_peer_id peer)
{
    return (peer * 2654435761u);
}

static peer_slot *peer_find(load_server *server, netcore_peer_id peer, bool insert)
{
    for (uint32_t i = peer_hash(peer) & server->peer_mask, n = 0; n <= server->peer_mask;
         i = (i + 1) & server->peer_mask, n++) {
        peer_slot *entry = &server->peers[i];
        if (entry->peer == peer) {
            return entry;
        }
        if (entry->peer == NETCORE_PEER_NONE) {
            return insert ? entry : NULL;
        }
    }
    return NULL;
}

/* Removal with backward shift keeps every probe run unbroken. */
static void peer_remove(load_server *server, peer_slot *entry)
{
    uint32_t hole = (uint32_t)(entry - server->peers);
    for (uint32_t i = (hole + 1) & server->peer_mask;; i = (i + 1) & server->peer_mask) {
        peer_slot *next = &server->peers[i];
        if (next->peer == NETCORE_PEER_NONE) {
            break;
        }
        uint32_t home = peer_hash(next->peer) & server->peer_mask;
        bool movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
        if (movable) {
            server->peers[hole] = *next;
            hole = i;
        }
    }
    server->peers[hole].peer = NETCORE_PEER_NONE;
}

static netcore_result admit_peer(void *user, netcore_peer_id peer, const netcore_address *from,
                                 const void *token, size_t token_size_bytes,
                                 netcore_admission_grant *grant)
{
    load_server *server = user;
    netcore_token_info info;
    netcore_result result = netcore_token_validate_from(server->validator, token, token_size_bytes,
                                                        from, (uint64_t)time(NULL), &info);
    if (result == NETCORE_OK) {
        /* The bot's session keys from its token: its traffic is sealed. */
        result = netcore_token_grant(&info, grant);
    }
    netcore_session_keys_wipe(&info.session_keys);
    if (result != NETCORE_OK) {
        return result;
    }
    for (uint32_t i = 0; i < server->clients; i++) {
        if (server->pending_peers[i] == NETCORE_PEER_NONE || server->pending_peers[i] == peer) {
            server->pending_peers[i] = peer;
            server->pending_ids[i] = info.client_id;
            return NETCORE_OK;
        }
    }
    return NETCORE_ERR_FULL;
}

static float interest(void *user, const netcore_snapshot_server *snapshots, uint32_t client,
                      netcore_entity_id entity, uint16_t type)
{
    (void)snapshots;
    (void)type;
    const load_server *server = user;
    const player *viewer = &server->players[client];
    if (entity == viewer->entity) {
        return 8.0f;
    }
    uint32_t index = entity & 0xFFFFu;
    float dx = server->entity_x[index] - viewer->x;
    float dy = server->entity_y[index] - viewer->y;
    float d2 = dx * dx + dy * dy;
    const float r2 = SL_VIEW_RADIUS_M * SL_VIEW_RADIUS_M;
    return d2 >= r2 ? 0.0f : 1.0f + 4.0f * (1.0f - d2 / r2);
}

static void on_connect(load_server *server, netcore_peer_id peer)
{
    uint64_t client_id = 0;
    bool pending = false;
    for (uint32_t i = 0; i < server->clients && !pending; i++) {
        if (server->pending_peers[i] == peer) {
            client_id = server->pending_ids[i];
            server->pending_peers[i] = NETCORE_PEER_NONE;
            pending = true;
        }
    }
    uint32_t slot = 0;
    netcore_entity_id entity = NETCORE_ENTITY_NONE;
    peer_slot *entry = peer_find(server, peer, true);
    if (!pending || entry == NULL ||
        netcore_snapshot_server_client_add(server->snapshots, &slot) != NETCORE_OK) {
        (void)netcore_host_disconnect(server->host, peer, 1);
        return;
    }
    if (netcore_snapshot_server_entity_create(server->snapshots, 0, &entity) != NETCORE_OK) {
        (void)netcore_snapshot_server_client_remove(server->snapshots, slot);
        (void)netcore_host_disconnect(server->host, peer, 1);
        return;
    }
    entry->peer = peer;
    entry->slot = slot;
    player *p = &server->players[slot];
    p->used = true;
    p->peer = peer;
    p->entity = entity;
    /* Spawn points spread by client id, so the world's density is even. */
    p->x = fmodf((float)(client_id * 7919u % 10007u) * 0.618034f, 1.0f) * server->arena_m;
    p->y = fmodf((float)(client_id * 104729u % 10009u) * 0.381966f, 1.0f) * server->arena_m;
    (void)netcore_input_server_client_reset(server->inputs, slot);
    (void)netcore_snapshot_server_set_int(server->snapshots, entity, SL_FIELD_OWNER,
                                          (int64_t)client_id);
    (void)netcore_snapshot_server_set_int(server->snapshots, entity, SL_FIELD_HEALTH, 100);
    server->admitted++;
    atomic_store(&server->shared->admitted, server->admitted);
    atomic_store(&server->shared->last_admit_us, sl_now_us());
}

static void on_disconnect(load_server *server, netcore_peer_id peer)
{
    for (uint32_t i = 0; i < server->clients; i++) {
        if (server->pending_peers[i] == peer) {
            server->pending_peers[i] = NETCORE_PEER_NONE;
        }
    }
    peer_slot *entry = peer_find(server, peer, false);
    if (entry == NULL) {
        return;
    }
    player *p = &server->players[entry->slot];
    (void)netcore_snapshot_server_entity_destroy(server->snapshots, p->entity);
    (void)netcore_snapshot_server_client_remove(server->snapshots, entry->slot);
    p->used = false;
    peer_remove(server, entry);
    server->admitted--;
    atomic_store(&server->shared->admitted, server->admitted);
}

static void on_receive(load_server *server, const netcore_event *event)
{
    peer_slot *entry = peer_find(server, event->peer, false);
    if (entry == NULL || event->channel != SL_CHANNEL) {
        return;
    }
    if (window_measuring(&server->win)) {
        server->result->inputs++;
        server->result->input_payload_bytes += event->size_bytes;
    }
    const uint8_t *ack = NULL;
    size_t ack_size = 0;
    if (netcore_input_server_read(server->inputs, entry->slot, event->data, event->size_bytes, &ack,
                                  &ack_size) == NETCORE_OK &&
        ack_size > 0) {
        (void)netcore_snapshot_server_read_ack(server->snapshots, entry->slot, ack, ack_size, NULL);
    }
}

static void handle(load_server *server, const netcore_event *event)
{
    if (event->type == NETCORE_EVENT_CONNECT) {
        on_connect(server, event->peer);
    } else if (event->type == NETCORE_EVENT_DISCONNECT) {
        on_disconnect(server, event->peer);
    } else if (event->type == NETCORE_EVENT_RECEIVE) {
        on_receive(server, event);
    }
}

static void netcore_wait(void *opaque, uint32_t timeout_ms)
{
    load_server *server = opaque;
    netcore_event event;
    for (uint32_t n = 0; n < MAX_EVENTS_PER_DRAIN; n++) {
        if (netcore_host_poll(server->host, n == 0 ? timeout_ms : 0, &event) != NETCORE_OK ||
            event.type == NETCORE_EVENT_NONE) {
            break;
        }
        handle(server, &event);
    }
}

/* One player's tick: its buffered input moves it; the lag-compensation
 * history records where it is; a fire button rewinds another player. */
static void step_player(load_server *server, uint32_t slot)
{
    player *p = &server->players[slot];
    int8_t input[SL_INPUT_BYTES];
    if (netcore_input_server_take(server->inputs, slot, server->tick, input, NULL) != NETCORE_OK) {
        return;
    }
    const float step_m = SL_PLAYER_SPEED_M_PER_S / (float)SL_TICK_HZ;
    p->x = fminf(fmaxf(p->x + (float)input[0] * step_m, 0.0f), server->arena_m);
    p->y = fminf(fmaxf(p->y + (float)input[1] * step_m, 0.0f), server->arena_m);
    uint32_t index = p->entity & 0xFFFFu;
    server->entity_x[index] = p->x;
    server->entity_y[index] = p->y;
    uint32_t last_tick = 0;
    (void)netcore_input_server_last_tick(server->inputs, slot, &last_tick);
    netcore_snapshot_server *snapshots = server->snapshots;
    (void)netcore_snapshot_server_set_float(snapshots, p->entity, SL_FIELD_X, p->x);
    (void)netcore_snapshot_server_set_float(snapshots, p->entity, SL_FIELD_Y, p->y);
    (void)netcore_snapshot_server_set_float(snapshots, p->entity, SL_FIELD_YAW,
                                            atan2f((float)input[1], (float)input[0]));
    (void)netcore_snapshot_server_set_int(snapshots, p->entity, SL_FIELD_LAST_INPUT,
                                          last_tick & 0xFFFFu);
    const float position[2] = {p->x, p->y};
    (void)netcore_lagcomp_record(server->lagcomp, slot, position);
    if (input[2] != 0) {
        float rewound[2];
        uint32_t target = (slot + 1u) % server->clients;
        if (netcore_lagcomp_query(server->lagcomp, target, server->tick - FIRE_REWIND_TICKS,
                                  rewound, NULL) == NETCORE_OK &&
            window_measuring(&server->win)) {
            server->result->lagcomp_queries++;
        }
    }
}

/* Staggered snapshots: every client gets one every SL_SNAPSHOT_EVERY_TICKS
 * ticks (30 Hz), but each tick serves only the clients of its phase, so the
 * encoding work is spread over every tick instead of piling up on every
 * second one (which would double the p99 tick for the same CPU). */
static bool snapshot_phase(uint32_t slot, uint32_t tick)
{
    return slot % SL_SNAPSHOT_EVERY_TICKS == tick % SL_SNAPSHOT_EVERY_TICKS;
}

static void send_snapshots(load_server *server)
{
    uint8_t buffer[SNAPSHOT_BUFFER_BYTES];
    bool measuring = window_measuring(&server->win);
    for (uint32_t slot = 0; slot < server->clients; slot++) {
        const player *p = &server->players[slot];
        if (!snapshot_phase(slot, server->tick)) {
            continue;
        }
        size_t written = 0;
        if (!p->used || netcore_snapshot_server_write(server->snapshots, slot, server->tick, buffer,
                                                      sizeof buffer, &written) != NETCORE_OK) {
            continue;
        }
        if (netcore_host_send(server->host, p->peer, SL_CHANNEL, buffer, written) == NETCORE_OK &&
            measuring) {
            server->result->snapshots++;
            server->result->snapshot_payload_bytes += written;
        }
    }
    (void)netcore_host_flush(server->host);
}

static void netcore_tick(void *opaque, uint64_t now_us)
{
    load_server *server = opaque;
    netcore_host_stats stats;
    memset(&stats, 0, sizeof stats);
    (void)netcore_host_get_stats(server->host, &stats);
    window_tick(&server->win, server->shared, now_us, stats.wire_bytes_sent,
                stats.wire_bytes_received, server->admitted, server->result);
    netcore_wait(server, 0); /* whatever arrived since the last wait */
    server->tick++;
    (void)netcore_lagcomp_begin_tick(server->lagcomp, server->tick);
    for (uint32_t slot = 0; slot < server->clients; slot++) {
        if (server->players[slot].used) {
            step_player(server, slot);
        }
    }
    send_snapshots(server);
}

static bool netcore_open(load_server *server)
{
    const uint32_t n = server->clients;
    netcore_host_config host_config;
    netcore_host_config_default(&host_config);
    host_config.is_server = true;
    host_config.max_peers = n + n / 8u + 8u; /* room for reconnects in flight */
    host_config.admission = admit_peer;
    host_config.admission_user = server;
    if (netcore_address_parse("127.0.0.1", 0, &host_config.bind_address) != NETCORE_OK ||
        netcore_host_create(&host_config, &server->host) != NETCORE_OK) {
        return false;
    }
    netcore_token_validator_config validator_config;
    netcore_token_validator_config_default(&validator_config);
    memcpy(validator_config.key, server->shared->key, NETCORE_TOKEN_KEY_BYTES);
    (void)netcore_host_address(server->host, &validator_config.server_address);
    netcore_snapshot_server_config snapshot_config;
    netcore_snapshot_server_config_default(&snapshot_config);
    snapshot_config.max_entities = n;
    snapshot_config.max_clients = n;
    snapshot_config.max_view_entities = n < SL_MAX_VIEW_ENTITIES ? n : SL_MAX_VIEW_ENTITIES;
    snapshot_config.interest = interest;
    snapshot_config.interest_user = server;
    netcore_input_server_config input_config;
    netcore_input_server_config_default(&input_config);
    input_config.input_size_bytes = SL_INPUT_BYTES;
    input_config.max_clients = n;
    netcore_lagcomp_config lagcomp_config;
    netcore_lagcomp_config_default(&lagcomp_config);
    lagcomp_config.max_entities = n;
    lagcomp_config.components = 2;
    lagcomp_config.history_ticks = HISTORY_TICKS;
    server->peer_mask = 1;
    while (server->peer_mask < 2u * host_config.max_peers) {
        server->peer_mask <<= 1;
    }
    server->peers = calloc(server->peer_mask, sizeof *server->peers);
    server->peer_mask -= 1;
    server->players = calloc(n, sizeof *server->players);
    server->entity_x = calloc(NETCORE_SNAPSHOT_MAX_ENTITIES + 1u, sizeof(float));
    server->entity_y = calloc(NETCORE_SNAPSHOT_MAX_ENTITIES + 1u, sizeof(float));
    server->pending_ids = calloc(n, sizeof *server->pending_ids);
    server->pending_peers = calloc(n, sizeof *server->pending_peers);
    if (server->peers == NULL || server->players == NULL || server->entity_x == NULL ||
        server->entity_y == NULL || server->pending_ids == NULL || server->pending_peers == NULL ||
        netcore_token_validator_create(&validator_config, &server->validator) != NETCORE_OK ||
        sl_schema_create(server->arena_m, &server->schema) != NETCORE_OK) {
        return false;
    }
    snapshot_config.schema = server->schema;
    return netcore_snapshot_server_create(&snapshot_config, &server->snapshots) == NETCORE_OK &&
           netcore_input_server_create(&input_config, &server->inputs) == NETCORE_OK &&
           netcore_lagcomp_create(&lagcomp_config, &server->lagcomp) == NETCORE_OK;
}

static void netcore_close(load_server *server)
{
    netcore_host_destroy(server->host);
    netcore_snapshot_server_destroy(server->snapshots);
    netcore_input_server_destroy(server->inputs);
    netcore_lagcomp_destroy(server->lagcomp);
    netcore_token_validator_destroy(server->validator);
    netcore_schema_destroy(server->schema);
    free(server->peers);
    free(server->players);
    free(server->entity_x);
    free(server->entity_y);
    free(server->pending_ids);
    free(server->pending_peers);
}

static void netcore_finish(load_server *server)
{
    sl_server_result *result = server->result;
    netcore_host_stats stats;
    memset(&stats, 0, sizeof stats);
    (void)netcore_host_get_stats(server->host, &stats);
    result->admission_rejected = stats.admission_rejected;
    result->admission_timed_out = stats.admission_timed_out;
    result->guard_dropped = stats.guard_malformed_dropped + stats.guard_unknown_dropped +
                            stats.guard_unexpected_connect_dropped + stats.guard_proof_dropped +
                            stats.guard_rate_dropped + stats.guard_ip_rate_dropped +
                            stats.guard_ip_peers_dropped + stats.guard_ip_handshakes_dropped +
                            stats.guard_full_dropped;
    result->guard_per_ip_dropped = stats.guard_ip_rate_dropped + stats.guard_ip_peers_dropped +
                                   stats.guard_ip_handshakes_dropped;
    result->guard_unknown_dropped = stats.guard_unknown_dropped;
    for (uint32_t slot = 0; slot < server->clients; slot++) {
        netcore_snapshot_server_stats client;
        if (server->players[slot].used && netcore_snapshot_server_get_client_stats(
                                              server->snapshots, slot, &client) == NETCORE_OK) {
            result->entities_deferred += client.entities_deferred;
        }
    }
}

static int netcore_server_main(sl_shared *shared)
{
    load_server *server = calloc(1, sizeof *server);
    if (server == NULL) {
        return 1;
    }
    server->shared = shared;
    server->clients = shared->clients;
    server->arena_m = sl_arena_m(shared->clients);
    server->result = &shared->server;
    server->result->rss_base_bytes = (double)sl_rss_bytes();
    int status = 1;
    if (window_alloc(&server->win) && netcore_open(server)) {
        netcore_address bound;
        (void)netcore_host_address(server->host, &bound);
        atomic_store(&shared->server_port, bound.port);
        run_ticks(server, &server->win, shared, netcore_tick, netcore_wait, server->result);
        netcore_finish(server);
        status = 0;
    } else {
        fprintf(stderr, "server_load: netcore server setup failed\n");
    }
    netcore_close(server);
    window_free(&server->win);
    free(server);
    return status;
}

/* ------------------------------------------------------------------ */
/* raw ENet server                                                     */
/* ------------------------------------------------------------------ */

typedef struct raw_server {
    sl_shared *shared;
    ENetHost *host;
    uint32_t tick;
    uint32_t connected;
    uint8_t *payload;
    window win;
    sl_server_result *result;
} raw_server;

static void raw_wait(void *opaque, uint32_t timeout_ms)
{
    raw_server *server = opaque;
    ENetEvent event;
    for (uint32_t n = 0; n < MAX_EVENTS_PER_DRAIN; n++) {
        if (enet_host_service(server->host, &event, n == 0 ? timeout_ms : 0) <= 0) {
            break;
        }
        if (event.type == ENET_EVENT_TYPE_CONNECT) {
            server->connected++;
            atomic_store(&server->shared->admitted, server->connected);
            atomic_store(&server->shared->last_admit_us, sl_now_us());
        } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
            server->connected--;
            atomic_store(&server->shared->admitted, server->connected);
        } else if (event.type == ENET_EVENT_TYPE_RECEIVE) {
            if (window_measuring(&server->win)) {
                server->result->inputs++;
                server->result->input_payload_bytes += event.packet->dataLength;
            }
            enet_packet_destroy(event.packet);
        }
    }
}

static void raw_tick(void *opaque, uint64_t now_us)
{
    raw_server *server = opaque;
    window_tick(&server->win, server->shared, now_us, server->host->totalSentData,
                server->host->totalReceivedData, server->connected, server->result);
    raw_wait(server, 0);
    server->tick++;
    uint32_t size = server->shared->raw_snapshot_bytes;
    for (size_t i = 0; i < server->host->peerCount; i++) {
        ENetPeer *peer = &server->host->peers[i];
        if (peer->state != ENET_PEER_STATE_CONNECTED ||
            !snapshot_phase((uint32_t)i, server->tick)) {
            continue;
        }
        ENetPacket *packet = enet_packet_create(server->payload, size, 0);
        if (packet != NULL && enet_peer_send(peer, SL_CHANNEL, packet) == 0) {
            if (window_measuring(&server->win)) {
                server->result->snapshots++;
                server->result->snapshot_payload_bytes += size;
            }
        } else if (packet != NULL) {
            enet_packet_destroy(packet);
        }
    }
    enet_host_flush(server->host);
}

static int raw_server_main(sl_shared *shared)
{
    raw_server server;
    memset(&server, 0, sizeof server);
    server.shared = shared;
    server.result = &shared->server;
    server.result->rss_base_bytes = (double)sl_rss_bytes();
    server.payload = calloc(SNAPSHOT_BUFFER_BYTES, 1);
    ENetAddress address;
    memset(&address, 0, sizeof address);
    enet_address_set_host_ip(&address, "127.0.0.1");
    size_t peers = shared->clients + shared->clients / 8u + 8u;
    server.host = enet_host_create(&address, peers, SL_CHANNEL + 1u, 0, 0);
    int status = 1;
    if (server.payload != NULL && server.host != NULL && window_alloc(&server.win) &&
        enet_socket_get_address(server.host->socket, &address) == 0) {
        /* The netcore host counts UDP payload bytes; so do these totals. */
        server.host->totalSentData = 0;
        server.host->totalReceivedData = 0;
        atomic_store(&shared->server_port, address.port);
        run_ticks(&server, &server.win, shared, raw_tick, raw_wait, server.result);
        status = 0;
    } else {
        fprintf(stderr, "server_load: raw ENet server setup failed\n");
    }
    if (server.host != NULL) {
        enet_host_destroy(server.host);
    }
    window_free(&server.win);
    free(server.payload);
    return status;
}

int sl_server_main(sl_shared *shared)
{
    return shared->kind == SL_KIND_NETCORE ? netcore_server_main(shared) : raw_server_main(shared);
}
