/*
 * soak_bot: N bot clients in one process for soak runs, built on netcore alone.
 *
 * Each bot owns its own ENet host (its own UDP port), mints its connect token
 * with the shared key as the lobby would (token.h), connects to --connect
 * (the server, or a netcore-linkproxy in front of it), decodes every snapshot,
 * sends one input packet per tick carrying its snapshot ack (input.h), and
 * checks convergence: after every snapshot that becomes the current world,
 * each scripted entity must hold exactly soak_scripted_at(index, tick) for the
 * tick that snapshot carries, and the world must hold exactly --entities of
 * them. Any difference is a divergence.
 *
 * A bot that loses its connection (other than at the end) counts an
 * unexpected disconnect and reconnects with a fresh token after a second.
 * One JSON line per second on --stats, a summary line at exit.
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

#define MAX_EVENTS_PER_POLL 256
#define POLL_INTERVAL_US 4000U
#define RECONNECT_DELAY_US 1000000U

typedef struct bot_options {
    const char *server_address; /* the address tokens name */
    const char *connect_address;
    const char *key_hex;
    const char *key_file;
    const char *stats_path;
    uint32_t bots;
    uint32_t first_client_id;
    uint32_t entities;
    uint32_t range_coded; /* 1: range-coded snapshots */
    uint32_t tick_hz;
    uint32_t duration_s;
    uint32_t timeout_ms;
    uint32_t connect_timeout_ms;
} bot_options;

typedef enum bot_state { BOT_IDLE = 0, BOT_CONNECTING, BOT_CONNECTED } bot_state;

typedef struct soak_bot {
    uint64_t client_id;
    netcore_host *host;
    netcore_snapshot_client *snapshots;
    netcore_input_client *inputs;
    netcore_peer_id peer;
    bot_state state;
    uint64_t retry_at_us;
    uint32_t checked_tick;  /* tick of the newest world checked */
    uint32_t snapshot_tick; /* newest tick received, and when */
    uint64_t snapshot_at_us;
    uint32_t input_tick;
    bool has_input;
    uint32_t acked_input_tick;
    /* Counters. */
    uint64_t connects;
    uint64_t connect_failures;
    uint64_t unexpected_disconnects;
    uint64_t decode_errors;
    uint64_t baseline_missing;
    uint64_t divergences;
    uint64_t worlds_checked;
    uint64_t send_errors;
    float rtt_ms;
    float loss_pct;
    /* Snapshot loss over the last second, measured from the sequence numbers. */
    bool window_valid;
    uint16_t window_sequence;
    uint64_t window_unique;
    double snapshot_loss_pct;
} soak_bot;

typedef struct bot_process {
    bot_options options;
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    netcore_address server_address;
    netcore_address connect_address;
    netcore_schema *schema;
    soak_bot *bots;
    FILE *stats;
    uint64_t start_us;
    uint32_t connected_at_end; /* bots connected when the run ended, before disconnecting */
    uint32_t sealed_at_end;    /* of which the traffic was sealed */
    uint8_t *seen;             /* --entities flags: scripted index present in the world checked */
} bot_process;

/* Reads the flags into options. Returns 0 to run, 1 after --help (exit 0), 2
 * on a bad command line (the reason and the usage went to stderr). */
static int parse_options(int argc, char **argv, bot_options *options)
{
    memset(options, 0, sizeof(*options));
    options->bots = 4;
    options->first_client_id = 1;
    options->entities = 16;
    options->tick_hz = 30;
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
        NCI_CLI_U32_FLAG("tick-hz", &options->tick_hz, 1, 240, "N", "input rate (default 30)"),
        NCI_CLI_U32_FLAG("duration", &options->duration_s, 1, 7 * 86400, "S",
                         "run time (default 60)"),
        NCI_CLI_U32_FLAG("timeout-ms", &options->timeout_ms, 1000, 600000, "MS",
                         "a silent server is a disconnect (default 15000)"),
        NCI_CLI_U32_FLAG("connect-timeout-ms", &options->connect_timeout_ms, 1000, 600000, "MS",
                         "a connection attempt gives up (default 10000)"),
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
    if (options->connect_address == NULL) {
        options->connect_address = options->server_address;
    }
    return 0;
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
    netcore_connect_options connect;
    memset(&connect, 0, sizeof(connect));
    connect.token = token;
    connect.token_size_bytes = sizeof(token);
    /* The bot plays the lobby's part: fresh session keys in every token,
     * the same keys handed to its own transport, so the game is sealed. */
    connect.session_keys = &params.session_keys;
    bot->retry_at_us = now_us + RECONNECT_DELAY_US;
    netcore_result result = netcore_session_keys_generate(&params.session_keys);
    if (result == NETCORE_OK) {
        result = netcore_token_create(process->key, &params, token);
    }
    if (result == NETCORE_OK) {
        result = netcore_host_connect(bot->host, &process->connect_address, &connect, &bot->peer);
    }
    netcore_session_keys_wipe(&params.session_keys);
    if (result != NETCORE_OK) {
        bot->connect_failures++;
        return;
    }
    netcore_snapshot_client_reset(bot->snapshots);
    netcore_input_client_reset(bot->inputs);
    bot->has_input = false;
    bot->window_valid = false;
    bot->checked_tick = 0;
    bot->snapshot_tick = 0;
    bot->state = BOT_CONNECTING;
}

/* Compares the decoded world with the scripted motion at the snapshot's tick. */
static void check_world(bot_process *process, soak_bot *bot, uint32_t tick)
{
    const netcore_snapshot_client *client = bot->snapshots;
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
            (void)netcore_snapshot_client_get_int(client, id, SOAK_PLAYER_OWNER, &index);
            (void)netcore_snapshot_client_get_int(client, id, SOAK_PLAYER_LAST_INPUT, &value);
            if ((uint64_t)index == bot->client_id && bot->has_input) {
                (void)netcore_input_client_ack(bot->inputs, (uint32_t)value);
                bot->acked_input_tick = (uint32_t)value;
            }
        } else {
            diverged = true;
        }
    }
    if (scripted != process->options.entities) {
        diverged = true;
    }
    bot->worlds_checked++;
    if (diverged) {
        bot->divergences++;
    }
}

static void on_snapshot(bot_process *process, soak_bot *bot, const netcore_event *event,
                        uint64_t now_us)
{
    netcore_result result =
        netcore_snapshot_client_read(bot->snapshots, event->data, event->size_bytes);
    if (result == NETCORE_ERR_MALFORMED || result == NETCORE_ERR_MISMATCH) {
        bot->decode_errors++;
        return;
    }
    if (result == NETCORE_ERR_NOT_FOUND) {
        bot->baseline_missing++;
        return;
    }
    if (result != NETCORE_OK) {
        return; /* duplicate or too old: ignored by design */
    }
    uint32_t tick = 0;
    if (netcore_snapshot_client_sequence(bot->snapshots, NULL, &tick) != NETCORE_OK) {
        return;
    }
    /* An older snapshot decoded as a baseline leaves the current world alone. */
    if (bot->checked_tick != 0 && (int32_t)(tick - bot->checked_tick) <= 0) {
        return;
    }
    bot->checked_tick = tick;
    bot->snapshot_tick = tick;
    bot->snapshot_at_us = now_us;
    check_world(process, bot, tick);
}

static void handle_event(bot_process *process, soak_bot *bot, const netcore_event *event,
                         uint64_t now_us, bool ending)
{
    switch (event->type) {
    case NETCORE_EVENT_CONNECT:
        bot->state = BOT_CONNECTED;
        bot->connects++;
        break;
    case NETCORE_EVENT_DISCONNECT:
        if (bot->state == BOT_CONNECTED && !ending) {
            bot->unexpected_disconnects++;
            fprintf(stderr, "soak_bot: client %" PRIu64 " disconnected: %s (code %" PRIu32 ")\n",
                    bot->client_id, netcore_disconnect_reason_str(event->reason), event->code);
        } else if (bot->state == BOT_CONNECTING) {
            bot->connect_failures++;
            fprintf(stderr, "soak_bot: client %" PRIu64 " could not connect: %s\n", bot->client_id,
                    netcore_disconnect_reason_str(event->reason));
        }
        bot->state = BOT_IDLE;
        bot->peer = NETCORE_PEER_NONE;
        bot->retry_at_us = now_us + RECONNECT_DELAY_US;
        break;
    case NETCORE_EVENT_RECEIVE:
        if (event->channel == SOAK_CHANNEL && bot->state == BOT_CONNECTED) {
            on_snapshot(process, bot, event, now_us);
        }
        break;
    case NETCORE_EVENT_NONE:
        break;
    }
}

/* One input per tick, stamped with the server tick it should reach the server
 * at: the last snapshot's tick, advanced by the time since it arrived and by
 * half a round trip, plus two ticks of margin. */
static void send_input(bot_process *process, soak_bot *bot, uint64_t now_us)
{
    if (bot->state != BOT_CONNECTED || bot->snapshot_tick == 0) {
        return;
    }
    uint32_t hz = process->options.tick_hz;
    uint64_t ahead_us = (now_us - bot->snapshot_at_us) + (uint64_t)(bot->rtt_ms * 500.0f);
    uint32_t target = bot->snapshot_tick + (uint32_t)(ahead_us * hz / 1000000U) + 2U;
    if (bot->has_input && (int32_t)(target - bot->input_tick) <= 0) {
        target = bot->input_tick + 1U;
    }
    int8_t input[SOAK_INPUT_BYTES];
    memset(input, 0, sizeof(input));
    input[0] = (int8_t)((target / 16U) % 2U == 0 ? 3 : -3);
    input[1] = (int8_t)((bot->client_id + target / 40U) % 3U) - 1;
    input[2] = (int8_t)(target & 0x7FU);
    if (netcore_input_client_add(bot->inputs, target, input) != NETCORE_OK) {
        return;
    }
    bot->input_tick = target;
    bot->has_input = true;
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t ack_size = 0;
    uint8_t packet[1200];
    size_t written = 0;
    if (netcore_snapshot_client_write_ack(bot->snapshots, ack, sizeof(ack), &ack_size) !=
            NETCORE_OK ||
        netcore_input_client_write(bot->inputs, ack, ack_size, packet, sizeof(packet), &written) !=
            NETCORE_OK ||
        netcore_host_send(bot->host, bot->peer, SOAK_CHANNEL, packet, written) != NETCORE_OK) {
        bot->send_errors++;
    }
}

static void update_link_stats(soak_bot *bot)
{
    netcore_peer_stats stats;
    if (bot->state == BOT_CONNECTED &&
        netcore_host_get_peer_stats(bot->host, bot->peer, &stats) == NETCORE_OK) {
        bot->rtt_ms = stats.rtt_ms;
        bot->loss_pct = stats.loss_pct;
    }
}

/* ENet's loss figure (loss_pct) counts only reliable datagrams lost against
 * every datagram sent, so with mostly unreliable traffic it understates the
 * link; the share of snapshots that never arrived is measured here instead:
 * the sequence advance over the second against distinct snapshots received. */
static void update_snapshot_loss(soak_bot *bot)
{
    netcore_snapshot_client_stats stats;
    uint16_t sequence = 0;
    if (bot->state != BOT_CONNECTED ||
        netcore_snapshot_client_get_stats(bot->snapshots, &stats) != NETCORE_OK ||
        netcore_snapshot_client_sequence(bot->snapshots, &sequence, NULL) != NETCORE_OK) {
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

static void write_stats_line(bot_process *process, uint64_t now_us)
{
    fprintf(process->stats, "{\"type\":\"bots\",\"t_s\":%.3f,\"bots\":[",
            (double)(now_us - process->start_us) / 1e6);
    for (uint32_t i = 0; i < process->options.bots; i++) {
        soak_bot *bot = &process->bots[i];
        update_link_stats(bot);
        update_snapshot_loss(bot);
        fprintf(process->stats,
                "%s{\"client_id\":%" PRIu64 ",\"connected\":%s,\"rtt_ms\":%.1f,\"loss_pct\":%.2f"
                ",\"snapshot_loss_pct\":%.1f"
                ",\"decode_errors\":%" PRIu64 ",\"divergences\":%" PRIu64
                ",\"worlds_checked\":%" PRIu64 ",\"unexpected_disconnects\":%" PRIu64
                ",\"tick\":%" PRIu32 ",\"acked_input_tick\":%" PRIu32 "}",
                i == 0 ? "" : ",", bot->client_id, bot->state == BOT_CONNECTED ? "true" : "false",
                (double)bot->rtt_ms, (double)bot->loss_pct, bot->snapshot_loss_pct,
                bot->decode_errors, bot->divergences, bot->worlds_checked,
                bot->unexpected_disconnects, bot->checked_tick, bot->acked_input_tick);
    }
    fprintf(process->stats, "]}\n");
    fflush(process->stats);
}

static void write_summary(bot_process *process, uint64_t now_us)
{
    uint64_t totals[9] = {0};
    /* What sealing refused or dropped on the bots' side (docs/security.md). */
    uint64_t crypto[4] = {0};
    for (uint32_t i = 0; i < process->options.bots; i++) {
        const soak_bot *bot = &process->bots[i];
        netcore_host_stats host;
        if (netcore_host_get_stats(bot->host, &host) == NETCORE_OK) {
            crypto[0] += host.crypto_auth_rejected;
            crypto[1] += host.crypto_duplicate_dropped;
            crypto[2] += host.crypto_stale_dropped;
            crypto[3] += host.crypto_disconnects;
        }
        totals[0] += bot->connects;
        totals[1] += bot->connect_failures;
        totals[2] += bot->unexpected_disconnects;
        totals[3] += bot->decode_errors;
        totals[4] += bot->baseline_missing;
        totals[5] += bot->divergences;
        totals[6] += bot->worlds_checked;
        totals[7] += bot->send_errors;
        totals[8] += bot->connects > 0 ? 1U : 0U;
    }
    fprintf(process->stats,
            "{\"type\":\"bots_summary\",\"elapsed_s\":%.3f,\"bots\":%" PRIu32
            ",\"connected_at_end\":%" PRIu32 ",\"bots_ever_connected\":%" PRIu64
            ",\"connects\":%" PRIu64 ",\"connect_failures\":%" PRIu64
            ",\"unexpected_disconnects\":%" PRIu64 ",\"decode_errors\":%" PRIu64
            ",\"baseline_missing\":%" PRIu64 ",\"divergences\":%" PRIu64
            ",\"worlds_checked\":%" PRIu64 ",\"send_errors\":%" PRIu64 ",\"sealed_at_end\":%" PRIu32
            ",\"crypto_auth_rejected\":%" PRIu64 ",\"crypto_duplicate_dropped\":%" PRIu64
            ",\"crypto_stale_dropped\":%" PRIu64 ",\"crypto_disconnects\":%" PRIu64 "}\n",
            (double)(now_us - process->start_us) / 1e6, process->options.bots,
            process->connected_at_end, totals[8], totals[0], totals[1], totals[2], totals[3],
            totals[4], totals[5], totals[6], totals[7], process->sealed_at_end, crypto[0],
            crypto[1], crypto[2], crypto[3]);
    fflush(process->stats);
}

static bool process_open(bot_process *process)
{
    const bot_options *options = &process->options;
    if (netcore_address_parse(options->server_address, 0, &process->server_address) != NETCORE_OK ||
        netcore_address_parse(options->connect_address, 0, &process->connect_address) !=
            NETCORE_OK) {
        fprintf(stderr, "soak_bot: bad --server or --connect address\n");
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
        soak_bot *bot = &process->bots[i];
        bot->client_id = (uint64_t)options->first_client_id + i;
        netcore_host_config host_config;
        netcore_host_config_default(&host_config);
        host_config.max_peers = 1;
        host_config.timeout_ms = options->timeout_ms;
        host_config.connect_timeout_ms = options->connect_timeout_ms;
        netcore_snapshot_client_config snapshot_config;
        netcore_snapshot_client_config_default(&snapshot_config);
        snapshot_config.schema = process->schema;
        snapshot_config.max_entities = options->entities + 1024U + 1U;
        snapshot_config.ring_length = 128; /* as the server's: long round trips keep baselines */
        netcore_input_client_config input_config;
        netcore_input_client_config_default(&input_config);
        input_config.input_size_bytes = SOAK_INPUT_BYTES;
        netcore_result result = netcore_host_create(&host_config, &bot->host);
        if (result == NETCORE_OK) {
            result = netcore_snapshot_client_create(&snapshot_config, &bot->snapshots);
        }
        if (result == NETCORE_OK) {
            result = netcore_input_client_create(&input_config, &bot->inputs);
        }
        if (result != NETCORE_OK) {
            fprintf(stderr, "soak_bot: bot setup: %s\n", netcore_result_str(result));
            return false;
        }
    }
    return true;
}

static void process_close(bot_process *process)
{
    if (process->bots != NULL) {
        for (uint32_t i = 0; i < process->options.bots; i++) {
            netcore_host_destroy(process->bots[i].host);
            netcore_snapshot_client_destroy(process->bots[i].snapshots);
            netcore_input_client_destroy(process->bots[i].inputs);
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

static void poll_bots(bot_process *process, uint64_t now_us, bool ending)
{
    for (uint32_t i = 0; i < process->options.bots; i++) {
        soak_bot *bot = &process->bots[i];
        for (uint32_t n = 0; n < MAX_EVENTS_PER_POLL; n++) {
            netcore_event event;
            if (netcore_host_poll(bot->host, 0, &event) != NETCORE_OK ||
                event.type == NETCORE_EVENT_NONE) {
                break;
            }
            handle_event(process, bot, &event, now_us, ending);
        }
        if (!ending && bot->state == BOT_IDLE && now_us >= bot->retry_at_us) {
            bot_connect(process, bot, now_us);
        }
    }
}

/* Graceful end: every bot disconnects and waits (bounded) for its event, so
 * the server sees requested disconnects rather than timeouts. A graceful
 * disconnect first delivers what the bot still has in flight: over a link
 * with a second's round trip and loss that takes a resend or two, so the
 * wait is 10 s (it ends as soon as every bot is done). */
static void disconnect_all(bot_process *process)
{
    for (uint32_t i = 0; i < process->options.bots; i++) {
        soak_bot *bot = &process->bots[i];
        if (bot->state != BOT_IDLE) {
            (void)netcore_host_disconnect(bot->host, bot->peer, 0);
        }
    }
    uint64_t deadline = soak_now_us() + 10000000U;
    for (uint32_t turn = 0; turn < 2500; turn++) {
        uint64_t now = soak_now_us();
        poll_bots(process, now, true);
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

static void run(bot_process *process)
{
    const uint64_t tick_us = 1000000U / process->options.tick_hz;
    const uint64_t end_us = process->start_us + (uint64_t)process->options.duration_s * 1000000U;
    uint64_t next_tick_us = process->start_us;
    uint64_t next_stats_us = process->start_us + 1000000U;
    /* Staggered first connects, as players of one match would arrive. */
    for (uint32_t i = 0; i < process->options.bots; i++) {
        process->bots[i].retry_at_us = process->start_us + (uint64_t)i * 20000U;
    }
    uint64_t now = soak_now_us();
    while (!soak_stop_requested() && now < end_us) {
        poll_bots(process, now, false);
        if (now >= next_tick_us) {
            for (uint32_t i = 0; i < process->options.bots; i++) {
                update_link_stats(&process->bots[i]);
                send_input(process, &process->bots[i], now);
            }
            next_tick_us += tick_us;
            if (now > next_tick_us + tick_us) {
                next_tick_us = now + tick_us;
            }
        }
        if (now >= next_stats_us) {
            write_stats_line(process, now);
            next_stats_us += 1000000U;
        }
        uint64_t wake = now + POLL_INTERVAL_US;
        soak_sleep_until_us(wake < next_tick_us ? wake : next_tick_us);
        now = soak_now_us();
    }
    for (uint32_t i = 0; i < process->options.bots; i++) {
        const soak_bot *bot = &process->bots[i];
        netcore_peer_stats peer;
        bool connected = bot->state == BOT_CONNECTED;
        process->connected_at_end += connected ? 1U : 0U;
        process->sealed_at_end +=
            connected && netcore_host_get_peer_stats(bot->host, bot->peer, &peer) == NETCORE_OK &&
                    peer.sealed
                ? 1U
                : 0U;
    }
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
    soak_install_stop_handlers();
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
