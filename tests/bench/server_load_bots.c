/*
 * server_load's bots (see server_load.h): cheap clients, many per process.
 *
 * A netcore bot has its own host bound to 127.0.0.(2 + i % 64), mints its
 * connect token with the shared key as the lobby would, decodes every
 * snapshot, finds its own player once, acknowledges the snapshot and the
 * input the server applied, and sends one packet of redundant inputs per
 * 60 Hz tick. Nothing else: no interpolation, no prediction. A raw ENet bot
 * sends an unreliable packet of the measured input size per tick and drops
 * what it receives.
 *
 * Bot i of the run connects at storm_start + i / N seconds, so all N try
 * within one second; an attempt that fails is counted as refused and retried
 * a second later, as a player would.
 */
#define _GNU_SOURCE

#include <enet/enet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "netcore/input.h"
#include "netcore/snapshot.h"
#include "netcore/token.h"
#include "netcore/transport.h"
#include "server_load.h"

#define RETRY_US 1000000u
#define JOIN_LOOP_US 2000u /* loop period while some bot is still joining */
#define MAX_EVENTS_PER_BOT 64u
#define CLIENT_RING_LENGTH 16u /* a baseline within 16 snapshots (0.5 s): loopback */
/* Bots yield the CPU to the server: in a deployment the clients are other
 * machines, and the figures are the server's. */
#define BOT_NICE_INCREMENT 10

typedef enum bot_state { BOT_IDLE = 0, BOT_CONNECTING, BOT_CONNECTED } bot_state;

typedef struct bot {
    uint32_t index; /* 0..N-1 over the whole run */
    bot_state state;
    uint64_t connect_at_us;
    netcore_host *host;
    netcore_peer_id peer;
    netcore_snapshot_client *snapshots;
    netcore_input_client *inputs;
    netcore_entity_id own; /* own player, once found */
    uint32_t snapshot_tick;
    uint64_t snapshot_at_us;
    uint32_t input_tick;
    bool has_input;
    bool counted; /* connected when the window opened, not reconnected since */
    uint16_t window_sequence;
    uint64_t window_unique;
    ENetHost *raw_host; /* raw ENet bots */
    ENetPeer *raw_peer;
} bot;

typedef struct bot_process {
    sl_shared *shared;
    uint32_t proc;
    bot *bots;
    uint32_t count;
    netcore_schema *schema;
    netcore_address server;
    uint8_t *payload;
    bool window_open;
    bool window_closed;
    sl_bot_result *result;
} bot_process;

static void source_address(const sl_shared *shared, uint32_t index, char *text, size_t size)
{
    snprintf(text, size, "127.0.0.%u", 2u + index % shared->source_addresses);
}

/* ------------------------------------------------------------------ */
/* netcore bots                                                        */
/* ------------------------------------------------------------------ */

static void bot_connect(bot_process *process, bot *b, uint64_t now_us)
{
    netcore_token_params params;
    memset(&params, 0, sizeof params);
    params.client_id = (uint64_t)b->index + 1u;
    params.match_id = 1;
    params.server_address = process->server;
    params.create_time_s = (uint64_t)time(NULL);
    params.lifetime_s = 300;
    uint8_t token[NETCORE_TOKEN_BYTES];
    netcore_connect_options connect;
    memset(&connect, 0, sizeof connect);
    connect.token = token;
    connect.token_size_bytes = sizeof token;
    /* The bot plays the lobby's part: fresh session keys in every token, the
     * same keys handed to its own transport, so the game is sealed. */
    connect.session_keys = &params.session_keys;
    process->result->connect_attempts++;
    b->connect_at_us = now_us + RETRY_US;
    netcore_result result = netcore_session_keys_generate(&params.session_keys);
    if (result == NETCORE_OK) {
        result = netcore_token_create(process->shared->key, &params, token);
    }
    if (result == NETCORE_OK) {
        result = netcore_host_connect(b->host, &process->server, &connect, &b->peer);
    }
    netcore_session_keys_wipe(&params.session_keys);
    if (result != NETCORE_OK) {
        process->result->refused++;
        return;
    }
    netcore_snapshot_client_reset(b->snapshots);
    netcore_input_client_reset(b->inputs);
    b->own = NETCORE_ENTITY_NONE;
    b->has_input = false;
    b->snapshot_tick = 0;
    b->counted = false;
    b->state = BOT_CONNECTING;
}

static void find_own(bot_process *process, bot *b)
{
    uint32_t count = netcore_snapshot_client_entity_count(b->snapshots);
    for (uint32_t i = 0; i < count; i++) {
        netcore_entity_id id = NETCORE_ENTITY_NONE;
        int64_t owner = 0;
        if (netcore_snapshot_client_entity_at(b->snapshots, i, &id, NULL) == NETCORE_OK &&
            netcore_snapshot_client_get_int(b->snapshots, id, SL_FIELD_OWNER, &owner) ==
                NETCORE_OK &&
            owner == (int64_t)b->index + 1) {
            b->own = id;
            return;
        }
    }
    (void)process;
}

static void on_snapshot(bot_process *process, bot *b, const netcore_event *event, uint64_t now_us)
{
    netcore_snapshot_receive_outcome outcome;
    netcore_result result =
        netcore_snapshot_client_read(b->snapshots, event->data, event->size_bytes, &outcome);
    if (result == NETCORE_ERR_MALFORMED || result == NETCORE_ERR_MISMATCH) {
        process->result->decode_errors++;
        return;
    }
    uint32_t tick = 0;
    if (outcome != NETCORE_SNAPSHOT_RECEIVED_NEWEST ||
        netcore_snapshot_client_sequence(b->snapshots, NULL, &tick) != NETCORE_OK) {
        return;
    }
    b->snapshot_tick = tick;
    b->snapshot_at_us = now_us;
    int64_t last_input = 0;
    if (b->own == NETCORE_ENTITY_NONE ||
        netcore_snapshot_client_get_int(b->snapshots, b->own, SL_FIELD_LAST_INPUT, &last_input) !=
            NETCORE_OK) {
        find_own(process, b);
        return;
    }
    if (b->has_input) {
        /* The field holds the low 16 bits of the applied tick. */
        uint32_t applied = b->input_tick - (uint16_t)(b->input_tick - (uint32_t)last_input);
        (void)netcore_input_client_ack(b->inputs, applied);
    }
}

static void handle(bot_process *process, bot *b, const netcore_event *event, uint64_t now_us)
{
    if (event->type == NETCORE_EVENT_CONNECT) {
        b->state = BOT_CONNECTED;
    } else if (event->type == NETCORE_EVENT_DISCONNECT) {
        if (b->state == BOT_CONNECTING) {
            process->result->refused++;
        }
        b->state = BOT_IDLE;
        b->counted = false;
        b->connect_at_us = now_us + RETRY_US;
    } else if (event->type == NETCORE_EVENT_RECEIVE && b->state == BOT_CONNECTED &&
               event->channel == SL_CHANNEL) {
        on_snapshot(process, b, event, now_us);
    }
}

/* One input per tick for the server tick it should arrive at: the last
 * snapshot's tick advanced by the time since, plus two ticks of margin. */
static void send_input(bot *b, uint64_t now_us)
{
    if (b->state != BOT_CONNECTED || b->snapshot_tick == 0) {
        return;
    }
    uint32_t target =
        b->snapshot_tick + (uint32_t)((now_us - b->snapshot_at_us) * SL_TICK_HZ / 1000000u) + 2u;
    if (b->has_input && (int32_t)(target - b->input_tick) <= 0) {
        target = b->input_tick + 1u;
    }
    /* A direction that changes every two seconds, and the fire button once a second. */
    uint32_t phase = (target / 120u + b->index * 7u) % 8u;
    static const int8_t dx[8] = {1, 1, 0, -1, -1, -1, 0, 1};
    static const int8_t dy[8] = {0, 1, 1, 1, 0, -1, -1, -1};
    int8_t input[SL_INPUT_BYTES] = {dx[phase], dy[phase], (target + b->index) % 60u == 0, 0};
    if (netcore_input_client_add(b->inputs, target, input) != NETCORE_OK) {
        return;
    }
    b->input_tick = target;
    b->has_input = true;
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t ack_size = 0;
    uint8_t packet[1200];
    size_t written = 0;
    if (netcore_snapshot_client_write_ack(b->snapshots, ack, sizeof ack, &ack_size) == NETCORE_OK &&
        netcore_input_client_write(b->inputs, ack, ack_size, packet, sizeof packet, &written) ==
            NETCORE_OK) {
        (void)netcore_host_send(b->host, b->peer, SL_CHANNEL, packet, written);
    }
}

/* Snapshot loss over the window: sequence advance against distinct
 * snapshots received, for bots connected from its start to its end. */
static void window_mark(bot_process *process, bot *b, bool end)
{
    netcore_snapshot_client_stats stats;
    uint16_t sequence = 0;
    if (b->state != BOT_CONNECTED ||
        netcore_snapshot_client_get_stats(b->snapshots, &stats) != NETCORE_OK ||
        netcore_snapshot_client_sequence(b->snapshots, &sequence, NULL) != NETCORE_OK) {
        b->counted = false;
        return;
    }
    uint64_t unique = stats.snapshots_received - stats.ignored_duplicate;
    if (!end) {
        b->counted = true;
        b->window_sequence = sequence;
        b->window_unique = unique;
    } else if (b->counted) {
        process->result->snapshots_expected += (uint16_t)(sequence - b->window_sequence);
        process->result->snapshots_arrived += unique - b->window_unique;
    }
}

static bool netcore_bot_open(bot_process *process, bot *b)
{
    char text[32];
    source_address(process->shared, b->index, text, sizeof text);
    netcore_host_config host_config;
    netcore_host_config_default(&host_config);
    host_config.max_peers = 1;
    host_config.connect_timeout_ms = 10000;
    netcore_snapshot_client_config snapshot_config;
    netcore_snapshot_client_config_default(&snapshot_config);
    snapshot_config.schema = process->schema;
    snapshot_config.max_entities = process->shared->clients;
    snapshot_config.ring_length = CLIENT_RING_LENGTH;
    netcore_input_client_config input_config;
    netcore_input_client_config_default(&input_config);
    input_config.input_size_bytes = SL_INPUT_BYTES;
    return netcore_address_parse(text, 0, &host_config.bind_address) == NETCORE_OK &&
           netcore_host_create(&host_config, &b->host) == NETCORE_OK &&
           netcore_snapshot_client_create(&snapshot_config, &b->snapshots) == NETCORE_OK &&
           netcore_input_client_create(&input_config, &b->inputs) == NETCORE_OK;
}

static void netcore_bot_turn(bot_process *process, bot *b, uint64_t now_us, bool input_tick)
{
    if (b->state == BOT_IDLE) {
        if (now_us >= b->connect_at_us) {
            bot_connect(process, b, now_us);
        }
        return;
    }
    if (input_tick) {
        send_input(b, now_us);
    }
    netcore_event event;
    for (uint32_t n = 0; n < MAX_EVENTS_PER_BOT; n++) {
        if (netcore_host_poll(b->host, 0, &event) != NETCORE_OK ||
            event.type == NETCORE_EVENT_NONE) {
            break;
        }
        handle(process, b, &event, now_us);
    }
}

/* ------------------------------------------------------------------ */
/* raw ENet bots                                                       */
/* ------------------------------------------------------------------ */

static bool raw_bot_open(const sl_shared *shared, bot *b)
{
    char text[32];
    source_address(shared, b->index, text, sizeof text);
    ENetAddress address;
    memset(&address, 0, sizeof address);
    enet_address_set_host_ip(&address, text);
    b->raw_host = enet_host_create(&address, 1, SL_CHANNEL + 1u, 0, 0);
    return b->raw_host != NULL;
}

static void raw_bot_turn(bot_process *process, bot *b, uint64_t now_us, bool input_tick)
{
    if (b->state == BOT_IDLE) {
        if (now_us < b->connect_at_us) {
            return;
        }
        ENetAddress address;
        memset(&address, 0, sizeof address);
        enet_address_set_host_ip(&address, "127.0.0.1");
        address.port = (uint16_t)atomic_load(&process->shared->server_port);
        process->result->connect_attempts++;
        b->connect_at_us = now_us + RETRY_US;
        b->raw_peer = enet_host_connect(b->raw_host, &address, SL_CHANNEL + 1u, 0);
        if (b->raw_peer == NULL) {
            process->result->refused++;
            return;
        }
        b->state = BOT_CONNECTING;
    }
    if (input_tick && b->state == BOT_CONNECTED) {
        ENetPacket *packet =
            enet_packet_create(process->payload, process->shared->raw_input_bytes, 0);
        if (packet != NULL && enet_peer_send(b->raw_peer, SL_CHANNEL, packet) != 0) {
            enet_packet_destroy(packet);
        }
    }
    ENetEvent event;
    for (uint32_t n = 0; n < MAX_EVENTS_PER_BOT; n++) {
        if (enet_host_service(b->raw_host, &event, 0) <= 0) {
            break;
        }
        if (event.type == ENET_EVENT_TYPE_CONNECT) {
            b->state = BOT_CONNECTED;
        } else if (event.type == ENET_EVENT_TYPE_DISCONNECT) {
            process->result->refused += b->state == BOT_CONNECTING ? 1u : 0u;
            b->state = BOT_IDLE;
            b->connect_at_us = now_us + RETRY_US;
        } else if (event.type == ENET_EVENT_TYPE_RECEIVE) {
            enet_packet_destroy(event.packet);
        }
    }
}

/* ------------------------------------------------------------------ */
/* The process                                                         */
/* ------------------------------------------------------------------ */

static bool process_open(bot_process *process)
{
    sl_shared *shared = process->shared;
    process->count = 0;
    for (uint32_t i = process->proc; i < shared->clients; i += shared->procs) {
        process->count++;
    }
    process->bots = calloc(process->count ? process->count : 1u, sizeof *process->bots);
    process->payload = calloc(1400, 1);
    if (process->bots == NULL || process->payload == NULL ||
        sl_schema_create(sl_arena_m(shared->clients), &process->schema) != NETCORE_OK ||
        netcore_address_parse("127.0.0.1", (uint16_t)atomic_load(&shared->server_port),
                              &process->server) != NETCORE_OK) {
        return false;
    }
    uint64_t storm_start = atomic_load(&shared->storm_start_us);
    for (uint32_t k = 0; k < process->count; k++) {
        bot *b = &process->bots[k];
        b->index = process->proc + k * shared->procs;
        b->connect_at_us = storm_start + (uint64_t)b->index * 1000000u / shared->clients;
        bool ok = shared->kind == SL_KIND_NETCORE ? netcore_bot_open(process, b)
                                                  : raw_bot_open(shared, b);
        if (!ok) {
            fprintf(stderr, "server_load: bot %u setup failed\n", b->index);
            return false;
        }
    }
    return true;
}

static void process_close(bot_process *process)
{
    for (uint32_t k = 0; process->bots != NULL && k < process->count; k++) {
        bot *b = &process->bots[k];
        netcore_host_destroy(b->host);
        netcore_snapshot_client_destroy(b->snapshots);
        netcore_input_client_destroy(b->inputs);
        if (b->raw_host != NULL) {
            enet_host_destroy(b->raw_host);
        }
    }
    free(process->bots);
    free(process->payload);
    netcore_schema_destroy(process->schema);
}

/* Marks the window's edges for the snapshot loss count (netcore bots). */
static void mark_window(bot_process *process, uint64_t now_us)
{
    uint64_t start = atomic_load(&process->shared->measure_start_us);
    uint64_t end = atomic_load(&process->shared->measure_end_us);
    bool netcore = process->shared->kind == SL_KIND_NETCORE;
    if (!process->window_open && start != 0 && now_us >= start) {
        process->window_open = true;
        for (uint32_t k = 0; netcore && k < process->count; k++) {
            window_mark(process, &process->bots[k], false);
        }
    } else if (process->window_open && !process->window_closed && now_us >= end) {
        process->window_closed = true;
        for (uint32_t k = 0; k < process->count; k++) {
            bot *b = &process->bots[k];
            process->result->connected_at_end += b->state == BOT_CONNECTED ? 1u : 0u;
            if (netcore) {
                window_mark(process, b, true);
            }
        }
    }
}

static void run(bot_process *process)
{
    const uint64_t tick_us = 1000000u / SL_TICK_HZ;
    uint64_t next_tick = atomic_load(&process->shared->storm_start_us);
    while (atomic_load(&process->shared->stop) == 0) {
        uint64_t now = sl_now_us();
        bool input_tick = now >= next_tick;
        bool joining = false;
        for (uint32_t k = 0; k < process->count; k++) {
            bot *b = &process->bots[k];
            if (process->shared->kind == SL_KIND_NETCORE) {
                netcore_bot_turn(process, b, now, input_tick);
            } else {
                raw_bot_turn(process, b, now, input_tick);
            }
            joining = joining || b->state != BOT_CONNECTED;
        }
        mark_window(process, now);
        if (input_tick) {
            next_tick += tick_us;
            if (now > next_tick + tick_us) {
                next_tick = now + tick_us;
            }
        }
        /* Bots service their hosts every bot_poll_us (2 ms while some join).
         * Servicing only once per 60 Hz tick costs snapshots: the round trip
         * then swings between 0 and 17 ms and ENet's packet throttle drops
         * unreliable packets to such peers (7.5 % of snapshots at 256 clients,
         * none at a 4 ms period). */
        uint64_t wake = now + (joining ? JOIN_LOOP_US : process->shared->bot_poll_us);
        sl_sleep_until_us(wake < next_tick ? wake : next_tick);
    }
}

int sl_bots_main(sl_shared *shared, uint32_t proc)
{
    bot_process process;
    memset(&process, 0, sizeof process);
    process.shared = shared;
    process.proc = proc;
    process.result = &shared->bots[proc];
    errno = 0;
    int niceness = getpriority(PRIO_PROCESS, 0);
    if (errno == 0) {
        (void)setpriority(PRIO_PROCESS, 0, niceness + BOT_NICE_INCREMENT);
    }
    int status = 1;
    if (process_open(&process)) {
        process.result->bots = process.count;
        run(&process);
        process.result->cpu_s = (double)sl_process_cpu_us() / 1e6;
        process.result->ok = true;
        status = 0;
    }
    process_close(&process);
    return status;
}
