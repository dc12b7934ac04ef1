/*
 * soak_server: a small game server built on netcore alone, for soak runs.
 *
 * An ENet host admits bots that present a connect token made with the shared
 * key; a snapshot world holds K scripted entities (state a pure function of
 * index and tick, see soak_common.h) plus one player entity per bot, moved by
 * that bot's inputs (input.h). Snapshots go to every bot at --snapshot-hz,
 * delta-encoded against each bot's acknowledged baseline; acks ride in the
 * input packets. Each bot sees every scripted entity and its own player
 * entity only (interest), so a snapshot's size does not grow with the number
 * of players and hundreds of bots fit one budget. One JSON line of statistics
 * per second on --stats, a summary line at exit. Exits after --duration seconds or on SIGINT/SIGTERM, freeing
 * everything.
 *
 * The first stderr line is "soak_server: listening on ADDR:PORT" so a runner
 * can use --port 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netcore/input.h"
#include "netcore/snapshot.h"
#include "netcore/token.h"
#include "netcore/transport.h"
#include "cli_args.h"
#include "soak_common.h"

#define MAX_TICK_SAMPLES 1024
#define MAX_EVENTS_PER_POLL 4096
#define SNAPSHOT_BUFFER_BYTES 1400
#define SNAPSHOT_RING_LENGTH 128

typedef struct server_options {
    const char *bind;
    const char *public_address;
    const char *key_hex;
    const char *key_file;
    const char *stats_path;
    uint32_t port;
    uint32_t entities;
    uint32_t range_coded; /* 1: range-coded snapshots */
    uint32_t max_clients;
    uint32_t tick_hz;
    uint32_t snapshot_hz;
    uint32_t budget_bytes;
    uint32_t duration_s;
    uint32_t timeout_ms;
    uint32_t handshake_timeout_ms;
    uint32_t corrupt_tick; /* 0: never; else the first snapshot tick from here on lies once */
} server_options;

typedef struct soak_client {
    bool used;
    netcore_peer_id peer;
    uint64_t client_id;
    netcore_entity_id entity;
    int32_t x;
    int32_t y;
} soak_client;

typedef struct pending_admission {
    netcore_peer_id peer;
    uint64_t client_id;
} pending_admission;

typedef struct soak_server {
    server_options options;
    netcore_host *host;
    netcore_schema *schema;
    netcore_snapshot_server *snapshots;
    netcore_input_server *inputs;
    netcore_token_validator *validator;
    netcore_entity_id *scripted;
    soak_client *clients;          /* indexed by snapshot client slot */
    pending_admission *admissions; /* max_clients entries; peer 0 = free */
    FILE *stats;
    uint32_t tick;
    uint64_t start_us;
    /* Counters over the whole run. */
    uint64_t connects;
    uint64_t disconnects_requested;
    uint64_t disconnects_timeout;
    uint64_t disconnects_other;
    uint64_t ack_errors;
    uint64_t input_errors;
    uint64_t unknown_messages;
    uint64_t send_dropped;
    uint64_t snapshots_sent;
    uint64_t snapshot_bytes;
    uint64_t deferred_removed; /* entities_deferred of clients already removed */
    uint64_t ticks_late;       /* ticks started more than one period late */
    uint64_t admission_without_slot;
    bool corrupted;
    /* Per-second window. */
    uint32_t tick_samples_us[MAX_TICK_SAMPLES];
    uint32_t tick_sample_count;
    uint32_t tick_max_us_run;
    uint64_t window_start_us;
    uint64_t window_cpu_us;
    uint64_t window_wire_sent;
    uint64_t window_wire_received;
    double cpu_pct_max;
    uint64_t rss_kib_max;
} soak_server;

/* Reads the flags into options. Returns 0 to run, 1 after --help (exit 0), 2
 * on a bad command line (the reason and the usage went to stderr). */
static int parse_options(int argc, char **argv, server_options *options)
{
    memset(options, 0, sizeof(*options));
    options->bind = "127.0.0.1";
    options->entities = 16;
    options->max_clients = 24;
    options->tick_hz = 30;
    options->snapshot_hz = 20;
    options->budget_bytes = 0; /* one datagram: the host's max_unfragmented_bytes */
    options->duration_s = 60;
    options->timeout_ms = 15000;
    options->handshake_timeout_ms = 3000;
    options->stats_path = "-";
    const nci_cli_flag flags[] = {
        NCI_CLI_TEXT_FLAG("key", &options->key_hex, "HEX", "token key, 64 hex digits"),
        NCI_CLI_TEXT_FLAG("key-file", &options->key_file, "FILE",
                          "token key from a file's first line"),
        NCI_CLI_TEXT_FLAG("bind", &options->bind, "ADDR", "local address (default 127.0.0.1)"),
        NCI_CLI_U32_FLAG("port", &options->port, 0, 65535, "N", "UDP port (default 0: any)"),
        NCI_CLI_TEXT_FLAG("public", &options->public_address, "ADDR:PORT",
                          "address the bots' tokens name (default: the bound one)"),
        NCI_CLI_U32_FLAG("entities", &options->entities, 0, 4096, "K",
                         "scripted entities (default 16)"),
        NCI_CLI_U32_FLAG("max-clients", &options->max_clients, 1, 1024, "N", "peers (default 24)"),
        NCI_CLI_U32_FLAG("tick-hz", &options->tick_hz, 1, 240, "N", "simulation rate (default 30)"),
        NCI_CLI_U32_FLAG("snapshot-hz", &options->snapshot_hz, 1, 240, "N",
                         "snapshot rate, at most --tick-hz (default 20)"),
        NCI_CLI_U32_FLAG("budget", &options->budget_bytes, 200, SNAPSHOT_BUFFER_BYTES, "BYTES",
                         "snapshot size budget (default: what one datagram carries)"),
        NCI_CLI_U32_FLAG("duration", &options->duration_s, 1, 7 * 86400, "S",
                         "run time (default 60)"),
        NCI_CLI_U32_FLAG("timeout-ms", &options->timeout_ms, 1000, 600000, "MS",
                         "a silent peer is dropped (default 15000)"),
        NCI_CLI_U32_FLAG("handshake-timeout-ms", &options->handshake_timeout_ms, 1000, 600000, "MS",
                         "the ENet handshake and the token admission must\n"
                         "each finish within MS (raise it above a few round\n"
                         "trips on slow links; default 3000)"),
        NCI_CLI_TEXT_FLAG("stats", &options->stats_path, "FILE|-",
                          "JSON Lines figures (default -: stdout)"),
        NCI_CLI_U32_FLAG("corrupt-tick", &options->corrupt_tick, 1, UINT32_MAX, "N",
                         "fault injection for testing the soak's checks: the\n"
                         "first snapshot at or after tick N carries one\n"
                         "scripted value that breaks the motion"),
        NCI_CLI_U32_FLAG("range-coded", &options->range_coded, 0, 1, "0|1",
                         "1: range-coded snapshots (the bots need\n--range-coded 1 too)"),
    };
    const nci_cli_spec spec = {
        .program = "soak_server",
        .usage_line = "usage: soak_server (--key HEX | --key-file FILE) [options]",
        .flags = flags,
        .flag_count = sizeof flags / sizeof flags[0],
    };
    nci_cli_status status = nci_cli_parse(&spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK) {
        return status == NCI_CLI_HELP ? 1 : 2;
    }
    if (options->snapshot_hz > options->tick_hz) {
        fprintf(stderr, "soak_server: --snapshot-hz cannot exceed --tick-hz\n");
        nci_cli_print_usage(&spec, stderr);
        return 2;
    }
    return 0;
}

/* Admission: validate the token and remember its client id for the CONNECT
 * event that follows, so the player entity can carry the bot's identity. */
static netcore_result admit_peer(void *user, netcore_peer_id peer, const netcore_address *from,
                                 const void *token, size_t token_size_bytes,
                                 netcore_admission_grant *grant)
{
    soak_server *server = user;
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
    for (uint32_t i = 0; i < server->options.max_clients; i++) {
        if (server->admissions[i].peer == NETCORE_PEER_NONE || server->admissions[i].peer == peer) {
            server->admissions[i].peer = peer;
            server->admissions[i].client_id = info.client_id;
            return NETCORE_OK;
        }
    }
    server->admission_without_slot++;
    return NETCORE_ERR_FULL;
}

static bool take_admission(soak_server *server, netcore_peer_id peer, uint64_t *out_client_id)
{
    for (uint32_t i = 0; i < server->options.max_clients; i++) {
        if (server->admissions[i].peer == peer) {
            *out_client_id = server->admissions[i].client_id;
            server->admissions[i].peer = NETCORE_PEER_NONE;
            return true;
        }
    }
    return false;
}

static soak_client *find_client(soak_server *server, netcore_peer_id peer, uint32_t *out_slot)
{
    for (uint32_t i = 0; i < server->options.max_clients; i++) {
        if (server->clients[i].used && server->clients[i].peer == peer) {
            *out_slot = i;
            return &server->clients[i];
        }
    }
    return NULL;
}

/* Interest: a bot checks every scripted entity and reads its own player's
 * last processed input; other players are of no use to it, and sending them
 * would make every snapshot grow with the player count. */
static float soak_interest(void *user, const netcore_snapshot_server *snapshots, uint32_t client,
                           netcore_entity_id entity, uint16_t type)
{
    (void)snapshots;
    const soak_server *server = user;
    if (type == SOAK_TYPE_SCRIPTED) {
        return 1.0f;
    }
    return client < server->options.max_clients && server->clients[client].used &&
                   server->clients[client].entity == entity
               ? 2.0f
               : 0.0f;
}

static void on_connect(soak_server *server, netcore_peer_id peer)
{
    uint64_t client_id = 0;
    uint32_t slot = 0;
    netcore_entity_id entity = NETCORE_ENTITY_NONE;
    if (!take_admission(server, peer, &client_id) ||
        netcore_snapshot_server_client_add(server->snapshots, &slot) != NETCORE_OK) {
        (void)netcore_host_disconnect(server->host, peer, 1);
        return;
    }
    if (netcore_snapshot_server_entity_create(server->snapshots, SOAK_TYPE_PLAYER, &entity) !=
        NETCORE_OK) {
        (void)netcore_snapshot_server_client_remove(server->snapshots, slot);
        (void)netcore_host_disconnect(server->host, peer, 1);
        return;
    }
    (void)netcore_input_server_client_reset(server->inputs, slot);
    (void)netcore_snapshot_server_set_int(server->snapshots, entity, SOAK_PLAYER_OWNER,
                                          (int64_t)client_id);
    soak_client *client = &server->clients[slot];
    memset(client, 0, sizeof(*client));
    client->used = true;
    client->peer = peer;
    client->client_id = client_id;
    client->entity = entity;
    server->connects++;
}

static void on_disconnect(soak_server *server, const netcore_event *event)
{
    uint64_t ignored = 0;
    (void)take_admission(server, event->peer, &ignored);
    uint32_t slot = 0;
    soak_client *client = find_client(server, event->peer, &slot);
    if (client == NULL) {
        return; /* never got a slot (refused in on_connect) */
    }
    if (event->reason == NETCORE_DISCONNECT_REQUESTED) {
        server->disconnects_requested++;
    } else if (event->reason == NETCORE_DISCONNECT_TIMEOUT) {
        server->disconnects_timeout++;
    } else {
        server->disconnects_other++;
    }
    netcore_snapshot_server_stats stats;
    if (netcore_snapshot_server_get_client_stats(server->snapshots, slot, &stats) == NETCORE_OK) {
        server->deferred_removed += stats.entities_deferred;
    }
    (void)netcore_snapshot_server_entity_destroy(server->snapshots, client->entity);
    (void)netcore_snapshot_server_client_remove(server->snapshots, slot);
    client->used = false;
}

static void on_receive(soak_server *server, const netcore_event *event)
{
    uint32_t slot = 0;
    if (event->channel != SOAK_CHANNEL || find_client(server, event->peer, &slot) == NULL) {
        server->unknown_messages++;
        return;
    }
    const uint8_t *ack = NULL;
    size_t ack_size = 0;
    if (netcore_input_server_read(server->inputs, slot, event->data, event->size_bytes, &ack,
                                  &ack_size) != NETCORE_OK) {
        server->input_errors++;
        return;
    }
    if (ack_size == 0) {
        return;
    }
    netcore_result result =
        netcore_snapshot_server_read_ack(server->snapshots, slot, ack, ack_size);
    /* NOT_FOUND is an ack for a snapshot that already left the ring (a long
     * round trip): counted by the library, not a decode error. */
    if (result == NETCORE_ERR_MALFORMED || result == NETCORE_ERR_MISMATCH) {
        server->ack_errors++;
    }
}

static void handle_event(soak_server *server, const netcore_event *event)
{
    switch (event->type) {
    case NETCORE_EVENT_CONNECT:
        on_connect(server, event->peer);
        break;
    case NETCORE_EVENT_DISCONNECT:
        on_disconnect(server, event);
        break;
    case NETCORE_EVENT_RECEIVE:
        on_receive(server, event);
        break;
    case NETCORE_EVENT_NONE:
        break;
    }
}

static void step_world(soak_server *server, bool snapshot_tick)
{
    server->tick++;
    for (uint32_t k = 0; k < server->options.entities; k++) {
        soak_scripted_state state = soak_scripted_at(k, server->tick);
        if (k == 0 && snapshot_tick && !server->corrupted && server->options.corrupt_tick != 0 &&
            server->tick >= server->options.corrupt_tick) {
            state.hash ^= 1U; /* one bit, the smallest lie the bots must catch */
            server->corrupted = true;
        }
        netcore_entity_id id = server->scripted[k];
        (void)netcore_snapshot_server_set_int(server->snapshots, id, SOAK_SCRIPTED_X, state.x);
        (void)netcore_snapshot_server_set_int(server->snapshots, id, SOAK_SCRIPTED_Y, state.y);
        (void)netcore_snapshot_server_set_int(server->snapshots, id, SOAK_SCRIPTED_HASH,
                                              state.hash);
    }
    for (uint32_t slot = 0; slot < server->options.max_clients; slot++) {
        soak_client *client = &server->clients[slot];
        if (!client->used) {
            continue;
        }
        int8_t input[SOAK_INPUT_BYTES];
        if (netcore_input_server_take(server->inputs, slot, server->tick, input, NULL) !=
            NETCORE_OK) {
            continue;
        }
        /* Positions wrap inside the 24-bit signed field range instead of clamping. */
        client->x = ((client->x + input[0]) % 4000000 + 4000000) % 4000000 - 2000000;
        client->y = ((client->y + input[1]) % 4000000 + 4000000) % 4000000 - 2000000;
        uint32_t last_tick = 0;
        (void)netcore_input_server_last_tick(server->inputs, slot, &last_tick);
        (void)netcore_snapshot_server_set_int(server->snapshots, client->entity, SOAK_PLAYER_X,
                                              client->x);
        (void)netcore_snapshot_server_set_int(server->snapshots, client->entity, SOAK_PLAYER_Y,
                                              client->y);
        (void)netcore_snapshot_server_set_int(server->snapshots, client->entity,
                                              SOAK_PLAYER_LAST_INPUT, last_tick);
    }
}

static void send_snapshots(soak_server *server)
{
    uint8_t buffer[SNAPSHOT_BUFFER_BYTES];
    for (uint32_t slot = 0; slot < server->options.max_clients; slot++) {
        soak_client *client = &server->clients[slot];
        if (!client->used) {
            continue;
        }
        size_t written = 0;
        if (netcore_snapshot_server_write(server->snapshots, slot, server->tick, buffer,
                                          sizeof(buffer), &written) != NETCORE_OK) {
            continue;
        }
        if (netcore_host_send(server->host, client->peer, SOAK_CHANNEL, buffer, written) ==
            NETCORE_OK) {
            server->snapshots_sent++;
            server->snapshot_bytes += written;
        } else {
            server->send_dropped++;
        }
    }
}

static int compare_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a;
    uint32_t y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static uint64_t entities_deferred(const soak_server *server)
{
    uint64_t total = server->deferred_removed;
    for (uint32_t slot = 0; slot < server->options.max_clients; slot++) {
        netcore_snapshot_server_stats stats;
        if (server->clients[slot].used && netcore_snapshot_server_get_client_stats(
                                              server->snapshots, slot, &stats) == NETCORE_OK) {
            total += stats.entities_deferred;
        }
    }
    return total;
}

static uint32_t count_clients(const soak_server *server)
{
    uint32_t count = 0;
    for (uint32_t slot = 0; slot < server->options.max_clients; slot++) {
        count += server->clients[slot].used ? 1U : 0U;
    }
    return count;
}

/* Counters shared by the per-second line and the summary. */
static void write_counters(soak_server *server, const netcore_host_stats *host)
{
    fprintf(
        server->stats,
        "\"tick\":%" PRIu32 ",\"clients\":%" PRIu32 ",\"decode_errors\":%" PRIu64
        ",\"ack_errors\":%" PRIu64 ",\"input_errors\":%" PRIu64 ",\"unknown_messages\":%" PRIu64
        ",\"snapshots_sent\":%" PRIu64 ",\"snapshot_bytes\":%" PRIu64 ",\"send_dropped\":%" PRIu64
        ",\"entities_deferred\":%" PRIu64 ",\"ticks_late\":%" PRIu64 ",\"connects\":%" PRIu64
        ",\"disconnects_requested\":%" PRIu64 ",\"disconnects_timeout\":%" PRIu64
        ",\"disconnects_other\":%" PRIu64 ",\"admission_accepted\":%" PRIu64
        ",\"admission_rejected\":%" PRIu64 ",\"admission_timed_out\":%" PRIu64
        ",\"pending_messages_dropped\":%" PRIu64 ",\"malformed_dropped\":%" PRIu64
        ",\"oversize_dropped\":%" PRIu64 ",\"timeouts\":%" PRIu64 ",\"wire_bytes_sent\":%" PRIu64
        ",\"wire_bytes_received\":%" PRIu64 ",\"slots_in_use\":%" PRIu32
        ",\"slots_handshaking\":%" PRIu32 ",\"guard_malformed_dropped\":%" PRIu64
        ",\"guard_unknown_dropped\":%" PRIu64 ",\"guard_unexpected_connect_dropped\":%" PRIu64
        ",\"guard_proof_dropped\":%" PRIu64 ",\"guard_rate_dropped\":%" PRIu64
        ",\"guard_ip_rate_dropped\":%" PRIu64 ",\"guard_ip_peers_dropped\":%" PRIu64
        ",\"guard_ip_handshakes_dropped\":%" PRIu64 ",\"guard_full_dropped\":%" PRIu64
        ",\"guard_handshake_timeouts\":%" PRIu64 ",\"receive_errors_dropped\":%" PRIu64
        ",\"peers_sealed\":%" PRIu32 ",\"crypto_auth_rejected\":%" PRIu64
        ",\"crypto_duplicate_dropped\":%" PRIu64 ",\"crypto_stale_dropped\":%" PRIu64
        ",\"crypto_disconnects\":%" PRIu64 ",\"token_address_rejected\":%" PRIu64
        ",\"seal_overhead_bytes_sent\":%" PRIu64,
        server->tick, count_clients(server), server->ack_errors + server->input_errors,
        server->ack_errors, server->input_errors, server->unknown_messages, server->snapshots_sent,
        server->snapshot_bytes, server->send_dropped, entities_deferred(server), server->ticks_late,
        server->connects, server->disconnects_requested, server->disconnects_timeout,
        server->disconnects_other, host->admission_accepted, host->admission_rejected,
        host->admission_timed_out, host->pending_messages_dropped, host->malformed_dropped,
        host->oversize_dropped, host->timeouts, host->wire_bytes_sent, host->wire_bytes_received,
        host->slots_in_use, host->slots_handshaking, host->guard_malformed_dropped,
        host->guard_unknown_dropped, host->guard_unexpected_connect_dropped,
        host->guard_proof_dropped, host->guard_rate_dropped, host->guard_ip_rate_dropped,
        host->guard_ip_peers_dropped, host->guard_ip_handshakes_dropped, host->guard_full_dropped,
        host->guard_handshake_timeouts, host->receive_errors_dropped, host->peers_sealed,
        host->crypto_auth_rejected, host->crypto_duplicate_dropped, host->crypto_stale_dropped,
        host->crypto_disconnects, host->token_address_rejected, host->seal_overhead_bytes_sent);
}

static void write_stats_line(soak_server *server, uint64_t now_us)
{
    netcore_host_stats host;
    memset(&host, 0, sizeof(host));
    (void)netcore_host_get_stats(server->host, &host);
    double window_s = (double)(now_us - server->window_start_us) / 1e6;
    if (window_s <= 0.0) {
        window_s = 1e-3;
    }
    uint64_t cpu_us = soak_cpu_us();
    double cpu_pct = (double)(cpu_us - server->window_cpu_us) / 1e4 / window_s;
    uint64_t rss_kib = soak_rss_kib();
    double out_kbps =
        (double)(host.wire_bytes_sent - server->window_wire_sent) * 8.0 / 1000.0 / window_s;
    double in_kbps =
        (double)(host.wire_bytes_received - server->window_wire_received) * 8.0 / 1000.0 / window_s;
    double p99_ms = 0.0;
    double max_ms = 0.0;
    if (server->tick_sample_count > 0) {
        qsort(server->tick_samples_us, server->tick_sample_count, sizeof(uint32_t), compare_u32);
        uint32_t index = (server->tick_sample_count * 99U) / 100U;
        if (index >= server->tick_sample_count) {
            index = server->tick_sample_count - 1;
        }
        p99_ms = server->tick_samples_us[index] / 1000.0;
        max_ms = server->tick_samples_us[server->tick_sample_count - 1] / 1000.0;
    }
    fprintf(server->stats, "{\"type\":\"stats\",\"t_s\":%.3f,",
            (double)(now_us - server->start_us) / 1e6);
    write_counters(server, &host);
    fprintf(server->stats,
            ",\"tick_ms_p99\":%.3f,\"tick_ms_max\":%.3f,\"out_kbps\":%.1f,\"in_kbps\":%.1f"
            ",\"rss_kib\":%" PRIu64 ",\"cpu_pct\":%.1f}\n",
            p99_ms, max_ms, out_kbps, in_kbps, rss_kib, cpu_pct);
    fflush(server->stats);
    if (cpu_pct > server->cpu_pct_max) {
        server->cpu_pct_max = cpu_pct;
    }
    if (rss_kib > server->rss_kib_max) {
        server->rss_kib_max = rss_kib;
    }
    server->tick_sample_count = 0;
    server->window_start_us = now_us;
    server->window_cpu_us = cpu_us;
    server->window_wire_sent = host.wire_bytes_sent;
    server->window_wire_received = host.wire_bytes_received;
}

static void write_summary(soak_server *server, uint64_t now_us)
{
    netcore_host_stats host;
    memset(&host, 0, sizeof(host));
    (void)netcore_host_get_stats(server->host, &host);
    double elapsed_s = (double)(now_us - server->start_us) / 1e6;
    fprintf(server->stats, "{\"type\":\"summary\",\"elapsed_s\":%.3f,", elapsed_s);
    write_counters(server, &host);
    fprintf(server->stats,
            ",\"tick_ms_max\":%.3f,\"cpu_pct_max\":%.1f,\"rss_kib_max\":%" PRIu64
            ",\"cpu_s\":%.3f,\"entities\":%" PRIu32 ",\"tick_hz\":%" PRIu32
            ",\"snapshot_hz\":%" PRIu32 "}\n",
            server->tick_max_us_run / 1000.0, server->cpu_pct_max, server->rss_kib_max,
            (double)soak_cpu_us() / 1e6, server->options.entities, server->options.tick_hz,
            server->options.snapshot_hz);
    fflush(server->stats);
}

static bool server_open(soak_server *server, const uint8_t key[NETCORE_TOKEN_KEY_BYTES])
{
    const server_options *options = &server->options;
    netcore_host_config host_config;
    netcore_host_config_default(&host_config);
    host_config.is_server = true;
    host_config.max_peers = options->max_clients;
    host_config.timeout_ms = options->timeout_ms;
    host_config.guard.handshake_timeout_ms = options->handshake_timeout_ms;
    host_config.admission_timeout_ms = options->handshake_timeout_ms;
    host_config.admission = admit_peer;
    host_config.admission_user = server;
    if (netcore_address_parse(options->bind, (uint16_t)options->port, &host_config.bind_address) !=
        NETCORE_OK) {
        fprintf(stderr, "soak_server: bad --bind %s\n", options->bind);
        return false;
    }
    netcore_token_validator_config validator_config;
    netcore_token_validator_config_default(&validator_config);
    memcpy(validator_config.key, key, NETCORE_TOKEN_KEY_BYTES);
    netcore_result result = netcore_host_create(&host_config, &server->host);
    if (result != NETCORE_OK) {
        fprintf(stderr, "soak_server: host: %s\n", netcore_result_str(result));
        return false;
    }
    if (server->options.budget_bytes == 0)
        server->options.budget_bytes = netcore_host_max_unfragmented_bytes(server->host);
    netcore_address bound;
    (void)netcore_host_address(server->host, &bound);
    validator_config.server_address = bound;
    if (options->public_address != NULL &&
        netcore_address_parse(options->public_address, 0, &validator_config.server_address) !=
            NETCORE_OK) {
        fprintf(stderr, "soak_server: bad --public %s\n", options->public_address);
        return false;
    }
    char text[NETCORE_ADDRESS_STRLEN];
    (void)netcore_address_format(&bound, text, sizeof(text));
    fprintf(stderr, "soak_server: listening on %s\n", text);
    fflush(stderr);

    result = netcore_token_validator_create(&validator_config, &server->validator);
    memset(validator_config.key, 0, sizeof(validator_config.key));
    if (result == NETCORE_OK) {
        result =
            soak_schema_create(server->options.range_coded ? NETCORE_SNAPSHOT_FORMAT_RANGE_CODED
                                                           : NETCORE_SNAPSHOT_FORMAT_BITPACKED,
                               &server->schema);
    }
    if (result == NETCORE_OK) {
        netcore_snapshot_server_config config;
        netcore_snapshot_server_config_default(&config);
        config.schema = server->schema;
        config.max_clients = options->max_clients;
        config.max_entities = options->entities + options->max_clients + 1;
        /* Each bot sees the scripted entities and its own player (soak_interest):
         * sizing views by that keeps the ring at K + 1 entities per snapshot. */
        config.max_view_entities = options->entities + 1;
        config.budget_bytes = options->budget_bytes;
        config.interest = soak_interest;
        config.interest_user = server;
        /* 128 snapshots cover 2 s round trips at 60 Hz, so even the worst
         * preset keeps delta encoding instead of falling back to full snapshots. */
        config.ring_length = SNAPSHOT_RING_LENGTH;
        result = netcore_snapshot_server_create(&config, &server->snapshots);
    }
    if (result == NETCORE_OK) {
        netcore_input_server_config config;
        netcore_input_server_config_default(&config);
        config.input_size_bytes = SOAK_INPUT_BYTES;
        config.max_clients = options->max_clients;
        config.buffer_ticks = 128;
        result = netcore_input_server_create(&config, &server->inputs);
    }
    if (result != NETCORE_OK) {
        fprintf(stderr, "soak_server: setup: %s\n", netcore_result_str(result));
        return false;
    }
    /* The bots' convergence check needs every scripted entity in every
     * snapshot: refuse a world whose full snapshot (the scripted entities and
     * the bot's own player) might not fit the budget (64 bits per entity is a
     * generous allowance for its header and field mask). */
    uint64_t full_bits =
        (uint64_t)options->entities *
            (netcore_schema_type_full_bits(server->schema, SOAK_TYPE_SCRIPTED) + 64U) +
        (netcore_schema_type_full_bits(server->schema, SOAK_TYPE_PLAYER) + 64U);
    if (full_bits / 8U + 64U > options->budget_bytes) {
        fprintf(stderr,
                "soak_server: %" PRIu32 " entities and %" PRIu32 " clients may not fit a %" PRIu32
                "-byte snapshot: raise --budget or lower --entities/--max-clients\n",
                options->entities, options->max_clients, options->budget_bytes);
        return false;
    }
    server->scripted = calloc(options->entities + 1U, sizeof(*server->scripted));
    server->clients = calloc(options->max_clients, sizeof(*server->clients));
    server->admissions = calloc(options->max_clients, sizeof(*server->admissions));
    if (server->scripted == NULL || server->clients == NULL || server->admissions == NULL) {
        fprintf(stderr, "soak_server: out of memory\n");
        return false;
    }
    for (uint32_t k = 0; k < options->entities; k++) {
        result = netcore_snapshot_server_entity_create(server->snapshots, SOAK_TYPE_SCRIPTED,
                                                       &server->scripted[k]);
        if (result != NETCORE_OK) {
            fprintf(stderr, "soak_server: entity: %s\n", netcore_result_str(result));
            return false;
        }
        (void)netcore_snapshot_server_set_int(server->snapshots, server->scripted[k],
                                              SOAK_SCRIPTED_INDEX, k);
    }
    return true;
}

static void server_close(soak_server *server)
{
    netcore_host_destroy(server->host);
    netcore_snapshot_server_destroy(server->snapshots);
    netcore_input_server_destroy(server->inputs);
    netcore_token_validator_destroy(server->validator);
    netcore_schema_destroy(server->schema);
    free(server->scripted);
    free(server->clients);
    free(server->admissions);
    if (server->stats != NULL && server->stats != stdout) {
        fclose(server->stats);
    }
}

static void run(soak_server *server)
{
    const uint64_t tick_us = 1000000U / server->options.tick_hz;
    const uint32_t ticks_per_snapshot = server->options.tick_hz / server->options.snapshot_hz;
    const uint64_t end_us = server->start_us + (uint64_t)server->options.duration_s * 1000000U;
    uint64_t next_tick_us = server->start_us + tick_us;
    uint64_t next_stats_us = server->start_us + 1000000U;
    uint64_t now = soak_now_us();
    /* Bounded by the duration: each turn either waits in poll or runs a tick. */
    while (!soak_stop_requested() && now < end_us) {
        uint32_t wait_ms = next_tick_us > now ? (uint32_t)((next_tick_us - now) / 1000U) : 0U;
        for (uint32_t n = 0; n < MAX_EVENTS_PER_POLL; n++) {
            netcore_event event;
            if (netcore_host_poll(server->host, n == 0 ? wait_ms : 0, &event) != NETCORE_OK ||
                event.type == NETCORE_EVENT_NONE) {
                break;
            }
            handle_event(server, &event);
        }
        now = soak_now_us();
        if (now >= next_tick_us) {
            uint64_t started = now;
            bool snapshot_tick = (server->tick + 1U) % ticks_per_snapshot == 0;
            step_world(server, snapshot_tick);
            if (snapshot_tick) {
                send_snapshots(server);
                (void)netcore_host_flush(server->host);
            }
            now = soak_now_us();
            uint32_t spent_us = (uint32_t)(now - started);
            if (server->tick_sample_count < MAX_TICK_SAMPLES) {
                server->tick_samples_us[server->tick_sample_count++] = spent_us;
            }
            if (spent_us > server->tick_max_us_run) {
                server->tick_max_us_run = spent_us;
            }
            next_tick_us += tick_us;
            /* A stalled process (stopped, starved) catches up by skipping, not bursting. */
            if (now > next_tick_us + tick_us) {
                server->ticks_late++;
                next_tick_us = now + tick_us;
            }
        }
        if (now >= next_stats_us) {
            write_stats_line(server, now);
            next_stats_us += 1000000U;
        }
    }
}

int main(int argc, char **argv)
{
    soak_server *server = calloc(1, sizeof(*server));
    int parsed = server == NULL ? 2 : parse_options(argc, argv, &server->options);
    if (parsed != 0) {
        free(server);
        return parsed == 1 ? 0 : 2;
    }
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    if (!soak_load_key(server->options.key_hex, server->options.key_file, key)) {
        free(server);
        return 2;
    }
    if (strcmp(server->options.stats_path, "-") == 0) {
        server->stats = stdout;
    } else {
        server->stats = fopen(server->options.stats_path, "w");
        if (server->stats == NULL) {
            fprintf(stderr, "soak_server: cannot write %s\n", server->options.stats_path);
            free(server);
            return 2;
        }
    }
    if (netcore_init() != NETCORE_OK) {
        fprintf(stderr, "soak_server: netcore_init failed\n");
        server_close(server);
        free(server);
        return 1;
    }
    soak_install_stop_handlers();
    int status = 1;
    if (server_open(server, key)) {
        server->start_us = soak_now_us();
        server->window_start_us = server->start_us;
        server->window_cpu_us = soak_cpu_us();
        run(server);
        write_summary(server, soak_now_us());
        status = 0;
    }
    memset(key, 0, sizeof(key));
    server_close(server);
    netcore_shutdown();
    free(server);
    return status;
}
