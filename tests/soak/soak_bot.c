/*
 * soak_bot: N bot clients in one process for soak runs, each a game client
 * of netcore's session layer (netcore_game_client, the code games use).
 *
 * Each bot owns its own game client (its own host and UDP port), mints its
 * connect token with the shared key as the lobby would (token.h: bound to
 * --client-ip, with the address proof the server's guard checks, and fresh
 * session keys that seal its traffic), connects to --connect (the server, or
 * a netcore-linkproxy in front of it) and plays: the session syncs its clock,
 * sends one input a tick (soak_input_at) carrying its snapshot ack, decodes
 * every snapshot, interpolates and predicts its own player with the soak
 * game's simulation. The bot checks convergence: after every snapshot that
 * becomes the current world (the session's on_snapshot), each scripted
 * entity must hold exactly soak_scripted_at(index, tick) for the tick that
 * snapshot carries, the world must hold exactly --entities of them, and the
 * own player must carry this bot's client id. Any difference is a
 * divergence. Prediction corrections are counted too: the simulation is
 * deterministic, so on a clean link there are none.
 *
 * A bot that loses its connection (other than at the end) counts an
 * unexpected disconnect and reconnects with a fresh client and token after a
 * second. One JSON line per second on --stats, a summary line at exit.
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netcore/session.h"
#include "cli_args.h"
#include "platform/signals.h"
#include "soak_common.h"

#define SNAPSHOT_RING_LENGTH 128 /* as the server's: long round trips keep baselines */
#define RECONNECT_DELAY_US 1000000U
#define END_GRACE_MS 5000U

typedef struct bot_options {
    const char *server_address; /* the address tokens name */
    const char *connect_address;
    const char *client_ip; /* the bots' IP as the server sees it, for the tokens */
    const char *key_hex;
    const char *key_file;
    const char *stats_path;
    uint32_t bots;
    uint32_t first_client_id;
    uint32_t entities;
    uint32_t range_coded; /* 1: range-coded snapshots */
    uint32_t tick_hz;
    uint32_t snapshot_hz;
    uint32_t duration_s;
    uint32_t timeout_ms;
    uint32_t connect_timeout_ms;
    uint32_t poll_ms;            /* how often every bot's client is updated */
    uint32_t server_max_clients; /* the server's --max-clients: sizes the clients' worlds */
} bot_options;

typedef enum bot_state { BOT_IDLE = 0, BOT_CONNECTING, BOT_CONNECTED } bot_state;

typedef struct bot_process bot_process;

typedef struct soak_bot {
    bot_process *process;
    uint64_t client_id;
    netcore_game_client *client; /* NULL while idle */
    bot_state state;
    uint64_t retry_at_us;
    uint32_t checked_tick; /* tick of the newest world checked */
    /* Counters. */
    uint64_t connects;
    uint64_t connect_failures;
    uint64_t unexpected_disconnects;
    uint64_t divergences;
    uint64_t worlds_checked;
    /* Counters of the game clients this bot already replaced. */
    uint64_t decode_errors_before;
    uint64_t baseline_missing_before;
    uint64_t corrections_before;
    uint64_t crypto_before[4];
    /* Snapshot loss over the last second, measured from the sequence numbers. */
    bool window_valid;
    uint16_t window_sequence;
    uint64_t window_unique;
    double snapshot_loss_pct;
} soak_bot;

struct bot_process {
    bot_options options;
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    netcore_address server_address;
    netcore_address connect_address;
    netcore_address client_ip;
    netcore_schema *schema;
    soak_bot *bots;
    FILE *stats;
    uint64_t start_us;
    uint32_t connected_at_end; /* bots connected when the run ended, before disconnecting */
    uint32_t sealed_at_end;    /* of which the traffic was sealed */
    uint8_t *seen;             /* --entities flags: scripted index present in the world checked */
};

/* Reads the flags into options. Returns 0 to run, 1 after --help (exit 0), 2
 * on a bad command line (the reason and the usage went to stderr). */
static int parse_options(int argc, char **argv, bot_options *options)
{
    memset(options, 0, sizeof(*options));
    options->bots = 4;
    options->first_client_id = 1;
    options->entities = 16;
    options->tick_hz = 30;
    options->snapshot_hz = 20;
    options->poll_ms = 4;
    options->server_max_clients = 1024;
    options->client_ip = "127.0.0.1";
    options->duration_s = 60;
    options->timeout_ms = 15000;
    options->connect_timeout_ms = 10000;
    options->stats_path = "-";
    const nci_cli_flag flags[] = {
        NCI_CLI_TEXT_FLAG("server", &options->server_address, "ADDR:PORT",
                          "the server's address, as the tokens name it (required)"),
        NCI_CLI_TEXT_FLAG("key", &options->key_hex, "HEX", "token key, 64 hex digits"),
        NCI_CLI_TEXT_FLAG("key-file", &options->key_file, "FILE",
                          "token key from a file's first line"),
        NCI_CLI_TEXT_FLAG("connect", &options->connect_address, "ADDR:PORT",
                          "where to send datagrams, e.g. a relay (default --server)"),
        NCI_CLI_U32_FLAG("bots", &options->bots, 1, 256, "N", "bots in this process (default 4)"),
        NCI_CLI_U32_FLAG("first-client-id", &options->first_client_id, 1, 1000000, "N",
                         "client id of the first bot (default 1)"),
        NCI_CLI_U32_FLAG("entities", &options->entities, 0, 4096, "K",
                         "scripted entities the server runs (default 16)"),
        NCI_CLI_TEXT_FLAG("client-ip", &options->client_ip, "ADDR",
                          "the bots' IP as the server sees it, which the\n"
                          "tokens are bound to (default 127.0.0.1)"),
        NCI_CLI_U32_FLAG("tick-hz", &options->tick_hz, 1, 240, "N",
                         "the server's tick rate (default 30)"),
        NCI_CLI_U32_FLAG("snapshot-hz", &options->snapshot_hz, 1, 240, "N",
                         "the server's snapshot rate (default 20)"),
        NCI_CLI_U32_FLAG("duration", &options->duration_s, 1, 7 * 86400, "S",
                         "run time (default 60)"),
        NCI_CLI_U32_FLAG("timeout-ms", &options->timeout_ms, 1000, 600000, "MS",
                         "a silent server is a disconnect (default 15000)"),
        NCI_CLI_U32_FLAG("connect-timeout-ms", &options->connect_timeout_ms, 1000, 600000, "MS",
                         "a connection attempt gives up (default 10000)"),
        NCI_CLI_U32_FLAG("server-max-clients", &options->server_max_clients, 1, 1024, "N",
                         "the server's --max-clients (default 1024): each\n"
                         "client holds room for the entity slots the server\n"
                         "may name, and its interpolation walks them all"),
        NCI_CLI_U32_FLAG("poll-ms", &options->poll_ms, 1, 100, "MS",
                         "every bot's client is updated this often (default 4)"),
        NCI_CLI_TEXT_FLAG("stats", &options->stats_path, "FILE|-",
                          "JSON Lines figures (default -: stdout)"),
        NCI_CLI_U32_FLAG("range-coded", &options->range_coded, 0, 1, "0|1",
                         "1: range-coded snapshots (as the server)"),
    };
    const nci_cli_spec spec = {
        .program = "soak_bot",
        .usage_line = "usage: soak_bot --server ADDR:PORT (--key HEX | --key-file FILE) [options]",
        .flags = flags,
        .flag_count = sizeof flags / sizeof flags[0],
    };
    nci_cli_status status = nci_cli_parse(&spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK) {
        return status == NCI_CLI_HELP ? 1 : 2;
    }
    if (options->server_address == NULL) {
        fprintf(stderr, "soak_bot: --server is required\n");
        nci_cli_print_usage(&spec, stderr);
        return 2;
    }
    if (options->snapshot_hz > options->tick_hz) {
        fprintf(stderr, "soak_bot: --snapshot-hz cannot exceed --tick-hz\n");
        nci_cli_print_usage(&spec, stderr);
        return 2;
    }
    if (options->connect_address == NULL) {
        options->connect_address = options->server_address;
    }
    return 0;
}

/* Compares the decoded world with the scripted motion at the snapshot's tick
 * (the session calls it for every snapshot that becomes the current world). */
static void check_world(void *user, netcore_game_client *game, uint32_t tick)
{
    soak_bot *bot = user;
    bot_process *process = bot->process;
    const netcore_snapshot_client *client = netcore_game_client_snapshot(game);
    netcore_entity_id own = netcore_game_client_entity(game);
    uint32_t count = netcore_snapshot_client_entity_count(client);
    uint32_t scripted = 0;
    bool diverged = false;
    memset(process->seen, 0, process->options.entities + 1U);
    for (uint32_t i = 0; i < count; i++) {
        netcore_entity_id id = NETCORE_ENTITY_NONE;
        uint16_t type = 0;
        if (netcore_snapshot_client_entity_at(client, i, &id, &type) != NETCORE_OK) {
            diverged = true;
            continue;
        }
        int64_t index = 0;
        int64_t x = 0;
        int64_t y = 0;
        int64_t value = 0;
        if (type == SOAK_TYPE_SCRIPTED) {
            scripted++;
            (void)netcore_snapshot_client_get_int(client, id, SOAK_SCRIPTED_INDEX, &index);
            (void)netcore_snapshot_client_get_int(client, id, SOAK_SCRIPTED_X, &x);
            (void)netcore_snapshot_client_get_int(client, id, SOAK_SCRIPTED_Y, &y);
            (void)netcore_snapshot_client_get_int(client, id, SOAK_SCRIPTED_HASH, &value);
            /* Each index exactly once: a lost entity cannot hide behind a duplicate. */
            if (index < 0 || index >= (int64_t)process->options.entities ||
                process->seen[index] != 0) {
                diverged = true;
                continue;
            }
            process->seen[index] = 1;
            soak_scripted_state expected = soak_scripted_at((uint32_t)index, tick);
            if ((uint32_t)x != expected.x || (uint32_t)y != expected.y ||
                (uint32_t)value != expected.hash) {
                diverged = true;
            }
        } else if (type == SOAK_TYPE_PLAYER) {
            /* The own player carries this bot's identity from its token. */
            (void)netcore_snapshot_client_get_int(client, id, SOAK_PLAYER_OWNER, &value);
            if (id == own && (uint64_t)value != bot->client_id) {
                diverged = true;
            }
        } else {
            diverged = true;
        }
    }
    if (scripted != process->options.entities) {
        diverged = true;
    }
    bot->checked_tick = tick;
    bot->worlds_checked++;
    if (diverged) {
        bot->divergences++;
    }
}

static void sample_input(void *user, netcore_game_client *game, uint32_t tick, void *out_input)
{
    (void)game;
    const soak_bot *bot = user;
    soak_input_at(bot->client_id, tick, out_input);
}

static netcore_result bot_create_client(bot_process *process, soak_bot *bot)
{
    const bot_options *options = &process->options;
    netcore_game_client_config config;
    netcore_game_client_config_default(&config);
    soak_game_desc(&config.game, process->schema, options->tick_hz, options->snapshot_hz);
    /* Room for every entity slot the server may name: its scripted
     * entities, one player per client and one spare (as the server sizes it). */
    config.max_entities = options->entities + options->server_max_clients + 1U;
    config.snapshot_ring_length = SNAPSHOT_RING_LENGTH;
    config.timeout_ms = options->timeout_ms;
    config.connect_timeout_ms = options->connect_timeout_ms;
    config.sample_input = sample_input;
    config.on_snapshot = check_world;
    config.user = bot;
    return netcore_game_client_create(&config, &bot->client);
}

static uint64_t crypto_counter(const netcore_host_stats *host, int which)
{
    const uint64_t values[4] = {host->crypto_auth_rejected, host->crypto_duplicate_dropped,
                                host->crypto_stale_dropped, host->crypto_disconnects};
    return values[which];
}

/* Folds the counters of the bot's game client into the bot's and frees it. */
static void bot_release(soak_bot *bot)
{
    if (bot->client == NULL) {
        return;
    }
    netcore_game_client_stats stats;
    if (netcore_game_client_get_stats(bot->client, &stats) == NETCORE_OK) {
        bot->decode_errors_before += stats.snapshots_rejected;
        bot->corrections_before += stats.corrections;
    }
    netcore_snapshot_client_stats snapshot;
    if (netcore_snapshot_client_get_stats(netcore_game_client_snapshot(bot->client), &snapshot) ==
        NETCORE_OK) {
        bot->baseline_missing_before += snapshot.rejected_baseline_missing;
    }
    netcore_host_stats host;
    if (netcore_host_get_stats(netcore_game_client_host(bot->client), &host) == NETCORE_OK) {
        for (int i = 0; i < 4; i++) {
            bot->crypto_before[i] += crypto_counter(&host, i);
        }
    }
    netcore_game_client_destroy(bot->client);
    bot->client = NULL;
}

static void bot_connect(bot_process *process, soak_bot *bot, uint64_t now_us)
{
    netcore_token_params params;
    memset(&params, 0, sizeof(params));
    params.client_id = bot->client_id;
    params.match_id = 1;
    params.server_address = process->server_address;
    params.create_time_s = (uint64_t)time(NULL);
    params.lifetime_s = 300;
    uint8_t token[NETCORE_TOKEN_BYTES];
    bot->retry_at_us = now_us + RECONNECT_DELAY_US;
    /* The bot plays the lobby's part: fresh session keys in every token, the
     * token bound to the bot's IP, its address proof for the server's guard. */
    netcore_result result = bot_create_client(process, bot);
    if (result == NETCORE_OK) {
        result = netcore_session_keys_generate(&params.session_keys);
    }
    if (result == NETCORE_OK) {
        result = netcore_token_create_for_client(process->key, &params, &process->client_ip, token);
    }
    if (result == NETCORE_OK) {
        netcore_connect_options connect;
        memset(&connect, 0, sizeof(connect));
        connect.token = token;
        connect.token_size_bytes = sizeof(token);
        connect.connect_data = netcore_token_embedded_proof(token, sizeof(token));
        connect.session_keys = &params.session_keys;
        result = netcore_game_client_connect(bot->client, &process->connect_address, &connect);
    }
    netcore_session_keys_wipe(&params.session_keys);
    if (result != NETCORE_OK) {
        bot->connect_failures++;
        bot_release(bot);
        return;
    }
    bot->window_valid = false;
    bot->checked_tick = 0;
    bot->state = BOT_CONNECTING;
}

/* Runs the bot's game client to now and follows its state. */
static void bot_update(soak_bot *bot, uint64_t now_us, bool ending)
{
    if (bot->client == NULL) {
        return;
    }
    (void)netcore_game_client_update(bot->client, now_us);
    netcore_game_client_state state = netcore_game_client_get_state(bot->client);
    if (state == NETCORE_GAME_CLIENT_PLAYING && bot->state == BOT_CONNECTING) {
        bot->state = BOT_CONNECTED;
        bot->connects++;
    }
    if (state != NETCORE_GAME_CLIENT_DISCONNECTED) {
        return;
    }
    netcore_game_client_stats stats;
    (void)netcore_game_client_get_stats(bot->client, &stats);
    if (bot->state == BOT_CONNECTED && !ending) {
        bot->unexpected_disconnects++;
        fprintf(stderr, "soak_bot: client %" PRIu64 " disconnected: %s (code %" PRIu32 ")\n",
                bot->client_id, netcore_disconnect_reason_str(stats.disconnect_reason),
                stats.disconnect_code);
    } else if (bot->state == BOT_CONNECTING && !ending) {
        bot->connect_failures++;
        fprintf(stderr, "soak_bot: client %" PRIu64 " could not connect: %s\n", bot->client_id,
                netcore_disconnect_reason_str(stats.disconnect_reason));
    }
    bot_release(bot);
    bot->state = BOT_IDLE;
    bot->retry_at_us = now_us + RECONNECT_DELAY_US;
}

/* ENet's loss figure (loss_pct) counts only reliable datagrams lost against
 * every datagram sent, so with mostly unreliable traffic it understates the
 * link; the share of snapshots that never arrived is measured here instead:
 * the sequence advance over the second against distinct snapshots received. */
static void update_snapshot_loss(soak_bot *bot)
{
    netcore_snapshot_client_stats stats;
    uint16_t sequence = 0;
    if (bot->state != BOT_CONNECTED) {
        return;
    }
    const netcore_snapshot_client *snapshots = netcore_game_client_snapshot(bot->client);
    if (netcore_snapshot_client_get_stats(snapshots, &stats) != NETCORE_OK ||
        netcore_snapshot_client_sequence(snapshots, &sequence, NULL) != NETCORE_OK) {
        return;
    }
    uint64_t unique = stats.snapshots_received - stats.ignored_duplicate;
    if (bot->window_valid) {
        uint16_t advance = (uint16_t)(sequence - bot->window_sequence);
        uint64_t arrived = unique - bot->window_unique;
        bot->snapshot_loss_pct = advance == 0 || arrived >= advance
                                     ? 0.0
                                     : 100.0 * (double)(advance - arrived) / advance;
    }
    bot->window_valid = true;
    bot->window_sequence = sequence;
    bot->window_unique = unique;
}

/* The bot's counters, its current game client's included. */
typedef struct bot_figures {
    netcore_game_client_stats client;
    uint64_t decode_errors;
    uint64_t baseline_missing;
    uint64_t corrections;
    uint64_t crypto[4];
} bot_figures;

static void bot_figures_get(const soak_bot *bot, bot_figures *out)
{
    memset(out, 0, sizeof(*out));
    out->decode_errors = bot->decode_errors_before;
    out->baseline_missing = bot->baseline_missing_before;
    out->corrections = bot->corrections_before;
    memcpy(out->crypto, bot->crypto_before, sizeof(out->crypto));
    if (bot->client == NULL) {
        return;
    }
    (void)netcore_game_client_get_stats(bot->client, &out->client);
    out->decode_errors += out->client.snapshots_rejected;
    out->corrections += out->client.corrections;
    netcore_snapshot_client_stats snapshot;
    if (netcore_snapshot_client_get_stats(netcore_game_client_snapshot(bot->client), &snapshot) ==
        NETCORE_OK) {
        out->baseline_missing += snapshot.rejected_baseline_missing;
    }
    netcore_host_stats host;
    if (netcore_host_get_stats(netcore_game_client_host(bot->client), &host) == NETCORE_OK) {
        for (int i = 0; i < 4; i++) {
            out->crypto[i] += crypto_counter(&host, i);
        }
    }
}

static void write_stats_line(bot_process *process, uint64_t now_us)
{
    fprintf(process->stats, "{\"type\":\"bots\",\"t_s\":%.3f,\"bots\":[",
            (double)(now_us - process->start_us) / 1e6);
    for (uint32_t i = 0; i < process->options.bots; i++) {
        soak_bot *bot = &process->bots[i];
        bot_figures figures;
        bot_figures_get(bot, &figures);
        update_snapshot_loss(bot);
        fprintf(process->stats,
                "%s{\"client_id\":%" PRIu64 ",\"connected\":%s,\"rtt_ms\":%.1f,\"loss_pct\":%.2f"
                ",\"snapshot_loss_pct\":%.1f"
                ",\"decode_errors\":%" PRIu64 ",\"divergences\":%" PRIu64
                ",\"worlds_checked\":%" PRIu64 ",\"unexpected_disconnects\":%" PRIu64
                ",\"corrections\":%" PRIu64 ",\"tick\":%" PRIu32 ",\"acked_input_tick\":%" PRIu32
                "}",
                i == 0 ? "" : ",", bot->client_id, bot->state == BOT_CONNECTED ? "true" : "false",
                (double)figures.client.rtt_ms, (double)figures.client.loss_pct,
                bot->snapshot_loss_pct, figures.decode_errors, bot->divergences,
                bot->worlds_checked, bot->unexpected_disconnects, figures.corrections,
                bot->checked_tick, figures.client.acked_input_tick);
    }
    fprintf(process->stats, "]}\n");
    fflush(process->stats);
}

static void write_summary(bot_process *process, uint64_t now_us)
{
    uint64_t totals[8] = {0};
    /* What sealing refused or dropped on the bots' side (docs/security.md). */
    uint64_t crypto[4] = {0};
    uint64_t corrections = 0;
    for (uint32_t i = 0; i < process->options.bots; i++) {
        const soak_bot *bot = &process->bots[i];
        bot_figures figures;
        bot_figures_get(bot, &figures);
        for (int k = 0; k < 4; k++) {
            crypto[k] += figures.crypto[k];
        }
        corrections += figures.corrections;
        totals[0] += bot->connects;
        totals[1] += bot->connect_failures;
        totals[2] += bot->unexpected_disconnects;
        totals[3] += figures.decode_errors;
        totals[4] += figures.baseline_missing;
        totals[5] += bot->divergences;
        totals[6] += bot->worlds_checked;
        totals[7] += bot->connects > 0 ? 1U : 0U;
    }
    fprintf(process->stats,
            "{\"type\":\"bots_summary\",\"elapsed_s\":%.3f,\"bots\":%" PRIu32
            ",\"connected_at_end\":%" PRIu32 ",\"bots_ever_connected\":%" PRIu64
            ",\"connects\":%" PRIu64 ",\"connect_failures\":%" PRIu64
            ",\"unexpected_disconnects\":%" PRIu64 ",\"decode_errors\":%" PRIu64
            ",\"baseline_missing\":%" PRIu64 ",\"divergences\":%" PRIu64
            ",\"worlds_checked\":%" PRIu64 ",\"sealed_at_end\":%" PRIu32
            ",\"crypto_auth_rejected\":%" PRIu64 ",\"crypto_duplicate_dropped\":%" PRIu64
            ",\"crypto_stale_dropped\":%" PRIu64 ",\"crypto_disconnects\":%" PRIu64
            ",\"corrections\":%" PRIu64 "}\n",
            (double)(now_us - process->start_us) / 1e6, process->options.bots,
            process->connected_at_end, totals[7], totals[0], totals[1], totals[2], totals[3],
            totals[4], totals[5], totals[6], process->sealed_at_end, crypto[0], crypto[1],
            crypto[2], crypto[3], corrections);
    fflush(process->stats);
}

static bool process_open(bot_process *process)
{
    const bot_options *options = &process->options;
    if (netcore_address_parse(options->server_address, 0, &process->server_address) != NETCORE_OK ||
        netcore_address_parse(options->connect_address, 0, &process->connect_address) !=
            NETCORE_OK ||
        netcore_address_parse(options->client_ip, 0, &process->client_ip) != NETCORE_OK) {
        fprintf(stderr, "soak_bot: bad --server, --connect or --client-ip address\n");
        return false;
    }
    if (soak_schema_create(process->options.range_coded ? NETCORE_SNAPSHOT_FORMAT_RANGE_CODED
                                                        : NETCORE_SNAPSHOT_FORMAT_BITPACKED,
                           &process->schema) != NETCORE_OK) {
        fprintf(stderr, "soak_bot: schema setup failed\n");
        return false;
    }
    process->bots = calloc(options->bots, sizeof(*process->bots));
    process->seen = calloc(options->entities + 1U, 1);
    if (process->bots == NULL || process->seen == NULL) {
        return false;
    }
    for (uint32_t i = 0; i < options->bots; i++) {
        process->bots[i].process = process;
        process->bots[i].client_id = (uint64_t)options->first_client_id + i;
    }
    return true;
}

static void process_close(bot_process *process)
{
    if (process->bots != NULL) {
        for (uint32_t i = 0; i < process->options.bots; i++) {
            netcore_game_client_destroy(process->bots[i].client);
        }
        free(process->bots);
    }
    free(process->seen);
    netcore_schema_destroy(process->schema);
    memset(process->key, 0, sizeof(process->key));
    if (process->stats != NULL && process->stats != stdout) {
        fclose(process->stats);
    }
}

static void update_bots(bot_process *process, uint64_t now_us, bool ending)
{
    for (uint32_t i = 0; i < process->options.bots; i++) {
        soak_bot *bot = &process->bots[i];
        bot_update(bot, now_us, ending);
        if (!ending && bot->state == BOT_IDLE && now_us >= bot->retry_at_us) {
            bot_connect(process, bot, now_us);
        }
    }
}

/* Graceful end: every bot disconnects and waits (bounded) until its client
 * says so, so the server sees requested disconnects rather than timeouts. A
 * graceful disconnect first delivers what the bot still has in flight, and
 * it ends as soon as every bot is done. */
static void disconnect_all(bot_process *process)
{
    for (uint32_t i = 0; i < process->options.bots; i++) {
        soak_bot *bot = &process->bots[i];
        if (bot->client != NULL) {
            (void)netcore_game_client_disconnect(bot->client);
        }
    }
    /* Under heavy loss a disconnect takes a few resends to be acknowledged;
     * a bot destroyed before then shows at the server as a shutdown (the
     * runner reports those, after the bots' end, as a warning). */
    uint64_t grace_ms = END_GRACE_MS;
    uint64_t deadline = soak_now_us() + grace_ms * 1000U;
    for (uint32_t turn = 0; turn < END_GRACE_MS / 5U; turn++) {
        uint64_t now = soak_now_us();
        update_bots(process, now, true);
        bool all_idle = true;
        for (uint32_t i = 0; i < process->options.bots; i++) {
            all_idle = all_idle && process->bots[i].state == BOT_IDLE;
        }
        if (all_idle || now >= deadline) {
            break;
        }
        soak_sleep_until_us(now + 5000U);
    }
}

static void count_at_end(bot_process *process)
{
    for (uint32_t i = 0; i < process->options.bots; i++) {
        const soak_bot *bot = &process->bots[i];
        bool connected = bot->state == BOT_CONNECTED;
        netcore_game_client_stats stats;
        process->connected_at_end += connected ? 1U : 0U;
        process->sealed_at_end +=
            connected && netcore_game_client_get_stats(bot->client, &stats) == NETCORE_OK &&
                    stats.sealed
                ? 1U
                : 0U;
    }
}

static void run(bot_process *process)
{
    const uint64_t end_us = process->start_us + (uint64_t)process->options.duration_s * 1000000U;
    uint64_t next_stats_us = process->start_us + 1000000U;
    /* Staggered first connects, as players of one match would arrive. */
    for (uint32_t i = 0; i < process->options.bots; i++) {
        process->bots[i].retry_at_us = process->start_us + (uint64_t)i * 20000U;
    }
    uint64_t now = soak_now_us();
    /* Each client runs its own ticks from its clock sync; the loop only has
     * to come round often enough (every --poll-ms). */
    while (!nci_stop_requested() && now < end_us) {
        update_bots(process, now, false);
        if (now >= next_stats_us) {
            write_stats_line(process, now);
            next_stats_us += 1000000U;
        }
        soak_sleep_until_us(now + (uint64_t)process->options.poll_ms * 1000U);
        now = soak_now_us();
    }
    count_at_end(process);
    disconnect_all(process);
}

int main(int argc, char **argv)
{
    bot_process *process = calloc(1, sizeof(*process));
    int parsed = process == NULL ? 2 : parse_options(argc, argv, &process->options);
    if (parsed != 0) {
        free(process);
        return parsed == 1 ? 0 : 2;
    }
    if (!soak_load_key(process->options.key_hex, process->options.key_file, process->key)) {
        free(process);
        return 2;
    }
    if (strcmp(process->options.stats_path, "-") == 0) {
        process->stats = stdout;
    } else {
        process->stats = fopen(process->options.stats_path, "w");
        if (process->stats == NULL) {
            fprintf(stderr, "soak_bot: cannot write %s\n", process->options.stats_path);
            free(process);
            return 2;
        }
    }
    if (netcore_init() != NETCORE_OK) {
        process_close(process);
        free(process);
        return 1;
    }
    nci_stop_signals_install();
    int status = 1;
    if (process_open(process)) {
        process->start_us = soak_now_us();
        run(process);
        write_summary(process, soak_now_us());
        status = 0;
    }
    process_close(process);
    netcore_shutdown();
    free(process);
    return status;
}
