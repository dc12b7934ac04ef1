/*
 * soak_server: a small game server on netcore's session layer
 * (netcore_game_server, the code games use), for soak runs.
 *
 * The session admits bots that present a connect token made with the shared
 * key (and its address proof, checked by the datagram guard), seals their
 * traffic with the token's keys, steps each bot's player by its inputs with
 * the soak game's simulation (soak_common.h) and sends snapshots at
 * --snapshot-hz, delta-encoded against each bot's acknowledged baseline. On
 * every tick the soak adds K scripted entities whose state is a pure function
 * of index and tick. Each bot sees every scripted entity and its own player
 * entity only (interest), so a snapshot's size does not grow with the number
 * of players and hundreds of bots fit one budget. One JSON line of
 * statistics per second on --stats, a summary line at exit. Exits after
 * --duration seconds or on SIGINT/SIGTERM, freeing everything.
 *
 * The first stderr line is "soak_server: listening on ADDR:PORT" so a runner
 * can use --port 0.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/session.h"
#include "cli_args.h"
#include "platform/signals.h"
#include "soak_common.h"

#define MAX_TICK_SAMPLES 1024
#define SNAPSHOT_BUFFER_BYTES 1400
#define SNAPSHOT_RING_LENGTH 128
#define INPUT_BUFFER_TICKS 128

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

typedef struct soak_server {
    server_options options;
    netcore_game_server *game;
    netcore_schema *schema;
    netcore_entity_id *scripted;
    FILE *stats;
    uint32_t snapshot_every_ticks;
    uint64_t start_us;
    /* Counters over the whole run (the rest are the session's and the host's). */
    uint64_t deferred_removed; /* entities_deferred of clients already removed */
    uint64_t ticks_late;       /* updates that had to run more than one tick */
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

/* Interest: a bot checks every scripted entity and reads its own player
 * (the session reconciles its prediction with it); other players are of no
 * use to it, and sending them would make every snapshot grow with the player
 * count. */
static float soak_interest(void *user, const netcore_snapshot_server *snapshots, uint32_t client,
                           netcore_entity_id entity, uint16_t type)
{
    (void)snapshots;
    const soak_server *server = user;
    if (type == SOAK_TYPE_SCRIPTED) {
        return 1.0f;
    }
    return netcore_game_server_client_entity(server->game, client) == entity ? 2.0f : 0.0f;
}

/* A bot's player starts at the origin and carries the client id its token names. */
static void on_join(void *user, netcore_game_server *game, uint32_t client,
                    netcore_entity_id entity)
{
    (void)user;
    (void)entity;
    soak_player_state *player = netcore_game_server_client_state(game, client);
    netcore_token_info info;
    if (player != NULL && netcore_game_server_client_token(game, client, &info) == NETCORE_OK) {
        player->owner = (uint32_t)info.client_id;
    }
}

/* Entities still waiting for room when a player leaves stay in the report. */
static void on_leave(void *user, netcore_game_server *game, uint32_t client,
                     netcore_entity_id entity)
{
    (void)entity;
    soak_server *server = user;
    netcore_snapshot_server_stats stats;
    if (netcore_snapshot_server_get_client_stats(netcore_game_server_snapshot(game), client,
                                                 &stats) == NETCORE_OK) {
        server->deferred_removed += stats.entities_deferred;
    }
}

/* The rest of the world after the players moved: every scripted entity at
 * its state for this tick (the session sends the snapshot after this). */
static void on_tick(void *user, netcore_game_server *game, uint32_t tick)
{
    soak_server *server = user;
    netcore_snapshot_server *snapshots = netcore_game_server_snapshot(game);
    bool snapshot_tick = tick % server->snapshot_every_ticks == 0;
    for (uint32_t k = 0; k < server->options.entities; k++) {
        soak_scripted_state state = soak_scripted_at(k, tick);
        if (k == 0 && snapshot_tick && !server->corrupted && server->options.corrupt_tick != 0 &&
            tick >= server->options.corrupt_tick) {
            state.hash ^= 1U; /* one bit, the smallest lie the bots must catch */
            server->corrupted = true;
        }
        netcore_entity_id id = server->scripted[k];
        (void)netcore_snapshot_server_set_int(snapshots, id, SOAK_SCRIPTED_X, state.x);
        (void)netcore_snapshot_server_set_int(snapshots, id, SOAK_SCRIPTED_Y, state.y);
        (void)netcore_snapshot_server_set_int(snapshots, id, SOAK_SCRIPTED_HASH, state.hash);
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
        if (netcore_game_server_client_active(server->game, slot) &&
            netcore_snapshot_server_get_client_stats(netcore_game_server_snapshot(server->game),
                                                     slot, &stats) == NETCORE_OK) {
            total += stats.entities_deferred;
        }
    }
    return total;
}

/* Counters shared by the per-second line and the summary. The names predate
 * the session layer and docs/soak.md quotes them: connects are players
 * welcomed, decode_errors the input packets and acks refused. */
static void write_counters(soak_server *server, const netcore_game_server_stats *game)
{
    const netcore_host_stats *host = &game->host;
    uint64_t disconnects_other = game->leaves - game->leaves_requested - game->leaves_timeout;
    fprintf(
        server->stats,
        "\"tick\":%" PRIu32 ",\"clients\":%" PRIu32 ",\"decode_errors\":%" PRIu64
        ",\"ack_errors\":%" PRIu64 ",\"input_errors\":%" PRIu64 ",\"unknown_messages\":%" PRIu64
        ",\"snapshots_sent\":%" PRIu64 ",\"snapshot_bytes\":%" PRIu64 ",\"send_dropped\":%" PRIu64
        ",\"entities_deferred\":%" PRIu64 ",\"ticks_late\":%" PRIu64 ",\"ticks_skipped\":%" PRIu64
        ",\"inputs_repeated\":%" PRIu64 ",\"hello_rejected\":%" PRIu64 ",\"full_rejected\":%" PRIu64
        ",\"connects\":%" PRIu64 ",\"disconnects_requested\":%" PRIu64
        ",\"disconnects_timeout\":%" PRIu64 ",\"disconnects_other\":%" PRIu64
        ",\"admission_accepted\":%" PRIu64 ",\"admission_rejected\":%" PRIu64
        ",\"admission_timed_out\":%" PRIu64 ",\"pending_messages_dropped\":%" PRIu64
        ",\"malformed_dropped\":%" PRIu64 ",\"oversize_dropped\":%" PRIu64 ",\"timeouts\":%" PRIu64
        ",\"wire_bytes_sent\":%" PRIu64 ",\"wire_bytes_received\":%" PRIu64
        ",\"slots_in_use\":%" PRIu32 ",\"slots_handshaking\":%" PRIu32
        ",\"guard_malformed_dropped\":%" PRIu64 ",\"guard_unknown_dropped\":%" PRIu64
        ",\"guard_unexpected_connect_dropped\":%" PRIu64 ",\"guard_proof_dropped\":%" PRIu64
        ",\"guard_rate_dropped\":%" PRIu64 ",\"guard_ip_rate_dropped\":%" PRIu64
        ",\"guard_ip_peers_dropped\":%" PRIu64 ",\"guard_ip_handshakes_dropped\":%" PRIu64
        ",\"guard_full_dropped\":%" PRIu64 ",\"guard_handshake_timeouts\":%" PRIu64
        ",\"receive_errors_dropped\":%" PRIu64 ",\"peers_sealed\":%" PRIu32
        ",\"crypto_auth_rejected\":%" PRIu64 ",\"crypto_duplicate_dropped\":%" PRIu64
        ",\"crypto_stale_dropped\":%" PRIu64 ",\"crypto_disconnects\":%" PRIu64
        ",\"token_address_rejected\":%" PRIu64 ",\"seal_overhead_bytes_sent\":%" PRIu64,
        game->tick, game->clients, game->acks_rejected + game->input_rejected, game->acks_rejected,
        game->input_rejected, game->messages_dropped, game->snapshots_sent,
        game->snapshot_bytes_sent, game->snapshot_errors, entities_deferred(server),
        server->ticks_late, game->ticks_skipped, game->inputs_repeated, game->hello_rejected,
        game->full_rejected, game->joins, game->leaves_requested, game->leaves_timeout,
        disconnects_other, host->admission_accepted, host->admission_rejected,
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
    netcore_game_server_stats game;
    memset(&game, 0, sizeof(game));
    (void)netcore_game_server_get_stats(server->game, &game);
    double window_s = (double)(now_us - server->window_start_us) / 1e6;
    if (window_s <= 0.0) {
        window_s = 1e-3;
    }
    uint64_t cpu_us = soak_cpu_us();
    double cpu_pct = (double)(cpu_us - server->window_cpu_us) / 1e4 / window_s;
    uint64_t rss_kib = soak_rss_kib();
    double out_kbps =
        (double)(game.host.wire_bytes_sent - server->window_wire_sent) * 8.0 / 1000.0 / window_s;
    double in_kbps = (double)(game.host.wire_bytes_received - server->window_wire_received) * 8.0 /
                     1000.0 / window_s;
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
    write_counters(server, &game);
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
    server->window_wire_sent = game.host.wire_bytes_sent;
    server->window_wire_received = game.host.wire_bytes_received;
}

static void write_summary(soak_server *server, uint64_t now_us)
{
    netcore_game_server_stats game;
    memset(&game, 0, sizeof(game));
    (void)netcore_game_server_get_stats(server->game, &game);
    double elapsed_s = (double)(now_us - server->start_us) / 1e6;
    fprintf(server->stats, "{\"type\":\"summary\",\"elapsed_s\":%.3f,", elapsed_s);
    write_counters(server, &game);
    fprintf(server->stats,
            ",\"tick_ms_max\":%.3f,\"cpu_pct_max\":%.1f,\"rss_kib_max\":%" PRIu64
            ",\"cpu_s\":%.3f,\"entities\":%" PRIu32 ",\"tick_hz\":%" PRIu32
            ",\"snapshot_hz\":%" PRIu32 "}\n",
            server->tick_max_us_run / 1000.0, server->cpu_pct_max, server->rss_kib_max,
            (double)soak_cpu_us() / 1e6, server->options.entities, server->options.tick_hz,
            server->options.snapshot_hz);
    fflush(server->stats);
}

/* The session server's settings from the flags; false (message on stderr)
 * on a bad address. The key is copied in; the caller wipes its copy. */
static bool server_config(soak_server *server, const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                          netcore_game_server_config *config)
{
    const server_options *options = &server->options;
    netcore_game_server_config_default(config);
    soak_game_desc(&config->game, server->schema, options->tick_hz, options->snapshot_hz);
    if (netcore_address_parse(options->bind, (uint16_t)options->port, &config->bind_address) !=
        NETCORE_OK) {
        fprintf(stderr, "soak_server: bad --bind %s\n", options->bind);
        return false;
    }
    if (options->public_address != NULL &&
        netcore_address_parse(options->public_address, 0, &config->public_address) != NETCORE_OK) {
        fprintf(stderr, "soak_server: bad --public %s\n", options->public_address);
        return false;
    }
    config->max_clients = options->max_clients;
    config->max_entities = options->entities + options->max_clients + 1;
    /* Each bot sees the scripted entities and its own player (soak_interest):
     * sizing views by that keeps the ring at K + 1 entities per snapshot. */
    config->max_view_entities = options->entities + 1;
    /* 128 snapshots cover 2 s round trips at 60 Hz, so even the worst
     * preset keeps delta encoding instead of falling back to full snapshots. */
    config->snapshot_ring_length = SNAPSHOT_RING_LENGTH;
    config->snapshot_budget_bytes = options->budget_bytes; /* 0: one datagram's worth */
    config->input_buffer_ticks = INPUT_BUFFER_TICKS;
    config->interest = soak_interest;
    config->interest_user = server;
    config->timeout_ms = options->timeout_ms;
    config->handshake_timeout_ms = options->handshake_timeout_ms;
    config->require_token = true;
    memcpy(config->token_key, key, NETCORE_TOKEN_KEY_BYTES);
    config->on_tick = on_tick;
    config->on_join = on_join;
    config->on_leave = on_leave;
    config->user = server;
    return true;
}

/* The bots' convergence check needs every scripted entity in every snapshot:
 * refuses a world whose full snapshot (the scripted entities and the bot's
 * own player) might not fit the budget (64 bits per entity is a generous
 * allowance for its header and field mask). */
static bool world_fits(const soak_server *server)
{
    const server_options *options = &server->options;
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
    return true;
}

static bool create_scripted(soak_server *server)
{
    netcore_snapshot_server *snapshots = netcore_game_server_snapshot(server->game);
    server->scripted = calloc(server->options.entities + 1U, sizeof(*server->scripted));
    if (server->scripted == NULL) {
        fprintf(stderr, "soak_server: out of memory\n");
        return false;
    }
    for (uint32_t k = 0; k < server->options.entities; k++) {
        netcore_result result = netcore_snapshot_server_entity_create(snapshots, SOAK_TYPE_SCRIPTED,
                                                                      &server->scripted[k]);
        if (result != NETCORE_OK) {
            fprintf(stderr, "soak_server: entity: %s\n", netcore_result_str(result));
            return false;
        }
        (void)netcore_snapshot_server_set_int(snapshots, server->scripted[k], SOAK_SCRIPTED_INDEX,
                                              k);
    }
    return true;
}

static bool server_open(soak_server *server, const uint8_t key[NETCORE_TOKEN_KEY_BYTES])
{
    const server_options *options = &server->options;
    server->snapshot_every_ticks = options->tick_hz / options->snapshot_hz;
    netcore_result result =
        soak_schema_create(options->range_coded ? NETCORE_SNAPSHOT_FORMAT_RANGE_CODED
                                                : NETCORE_SNAPSHOT_FORMAT_BITPACKED,
                           &server->schema);
    if (result != NETCORE_OK) {
        fprintf(stderr, "soak_server: schema: %s\n", netcore_result_str(result));
        return false;
    }
    netcore_game_server_config config;
    bool configured = server_config(server, key, &config);
    result = configured ? netcore_game_server_create(&config, &server->game) : NETCORE_OK;
    memset(config.token_key, 0, sizeof(config.token_key));
    if (!configured) {
        return false;
    }
    if (result != NETCORE_OK) {
        fprintf(stderr, "soak_server: server: %s\n", netcore_result_str(result));
        return false;
    }
    if (server->options.budget_bytes == 0) {
        server->options.budget_bytes =
            netcore_host_max_unfragmented_bytes(netcore_game_server_host(server->game));
    }
    if (!world_fits(server)) {
        return false;
    }
    netcore_address bound;
    char text[NETCORE_ADDRESS_STRLEN];
    (void)netcore_game_server_address(server->game, &bound);
    (void)netcore_address_format(&bound, text, sizeof(text));
    fprintf(stderr, "soak_server: listening on %s\n", text);
    fflush(stderr);
    return create_scripted(server);
}

static void server_close(soak_server *server)
{
    netcore_game_server_destroy(server->game);
    netcore_schema_destroy(server->schema);
    free(server->scripted);
    if (server->stats != NULL && server->stats != stdout) {
        fclose(server->stats);
    }
}

/* Runs the ticks due now and records how long each took. */
static void run_ticks(soak_server *server, uint64_t now_us)
{
    uint32_t tick_before = netcore_game_server_tick(server->game);
    (void)netcore_game_server_update(server->game, now_us);
    uint32_t ran = netcore_game_server_tick(server->game) - tick_before;
    if (ran == 0) {
        return;
    }
    /* More than one tick in one update: the process was late by a period. */
    server->ticks_late += ran > 1 ? 1U : 0U;
    uint32_t spent_us = (uint32_t)((soak_now_us() - now_us) / ran);
    if (server->tick_sample_count < MAX_TICK_SAMPLES) {
        server->tick_samples_us[server->tick_sample_count++] = spent_us;
    }
    if (spent_us > server->tick_max_us_run) {
        server->tick_max_us_run = spent_us;
    }
}

static void run(soak_server *server)
{
    const uint64_t end_us = server->start_us + (uint64_t)server->options.duration_s * 1000000U;
    uint64_t next_stats_us = server->start_us + 1000000U;
    uint64_t now = soak_now_us();
    /* Bounded by the duration: each turn waits for traffic until the next
     * tick is due (handling it), then runs the ticks due. */
    while (!nci_stop_requested() && now < end_us) {
        uint64_t next_tick_us = netcore_game_server_next_tick_us(server->game);
        uint32_t wait_ms = next_tick_us > now ? (uint32_t)((next_tick_us - now) / 1000U) : 0U;
        (void)netcore_game_server_wait(server->game, wait_ms);
        now = soak_now_us();
        if (now >= next_tick_us) {
            run_ticks(server, now);
            now = soak_now_us();
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
    nci_stop_signals_install();
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
