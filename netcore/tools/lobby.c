/* netcore-lobby: the TCP lobby as a stand-alone program. Players meet in
 * rooms; a started room receives the configured game server's address and
 * connect tokens sealed with the key shared with that game server (or with
 * the least loaded game server registered with the same key). Prints one
 * JSON summary on stdout at exit. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netcore/lobby.h"
#include "netcore/netcore.h"
#include "netcore/token.h"
#include "platform/signals.h"
#include "cli_args.h"

#define EXIT_USAGE 2
#define POLL_SLICE_MS 250u
#define KEY_FILE_MAX_BYTES 4096

typedef struct options {
    const char *bind_text[NETCORE_LOBBY_MAX_LISTEN];
    uint32_t bind_count;
    uint32_t port;
    const char *key_file;
    const char *key_hex;
    const char *game_address_text;
    uint32_t token_lifetime_s;
    uint32_t max_connections;
    uint32_t max_connections_per_ip;
    uint32_t max_rooms;
    uint32_t max_game_servers;
    uint32_t game_server_timeout_s;
    uint32_t discovery_port;
    const char *name;
    const char *redis;
    const char *redis_password_file;
    const char *node_id;
    const char *tls_cert;
    const char *tls_key;
    const char *probe_text;
    uint32_t rate_limit_ban_s;
    double seconds;
    bool tls12;
    bool discovery;
    bool generate_key;
    bool verbose;
} options;

/* --bind, repeatable up to NETCORE_LOBBY_MAX_LISTEN times. */
static bool parse_bind(const nci_cli_flag *flag, const char *value)
{
    options *opts = flag->target;
    if (opts->bind_count == NETCORE_LOBBY_MAX_LISTEN) {
        fprintf(stderr, "netcore-lobby: too many '--bind' flags (at most %d)\n",
                NETCORE_LOBBY_MAX_LISTEN);
        return false;
    }
    opts->bind_text[opts->bind_count++] = value;
    return true;
}

enum { FLAG_COUNT = 25 };
/* NETCORE_LOBBY_MAX_LISTEN as text, for the usage. */
#define LOBBY_TEXT_OF(x) #x
#define LOBBY_NUMBER_TEXT(x) LOBBY_TEXT_OF(x)

/* The flag table over opts; the same table prints the usage. */
static nci_cli_spec lobby_spec(options *opts, nci_cli_flag flags[FLAG_COUNT])
{
    const nci_cli_flag table[] = {
        NCI_CLI_TEXT_FLAG("game-address", &opts->game_address_text, "HOST:PORT",
                          "game server written in connect tokens (required)"),
        NCI_CLI_TEXT_FLAG("key-file", &opts->key_file, "FILE",
                          "file holding the 32-byte key as 64 hex digits"),
        NCI_CLI_TEXT_FLAG("key-hex", &opts->key_hex, "HEX", "the key as 64 hex digits"),
        NCI_CLI_U32_FLAG("port", &opts->port, 0, 65535, "N",
                         "TCP port (default 7777; 0 picks a free one per address)"),
        NCI_CLI_CUSTOM_FLAG(
            "bind", parse_bind, opts, "ADDR",
            "address to listen on, repeatable up to " LOBBY_NUMBER_TEXT(
                NETCORE_LOBBY_MAX_LISTEN) "\n"
                                          "(default 0.0.0.0; e.g. --bind 0.0.0.0 --bind ::)"),
        NCI_CLI_U32_FLAG("token-lifetime", &opts->token_lifetime_s, 1, 86400, "S",
                         "connect token lifetime in seconds (default 30)"),
        NCI_CLI_U32_FLAG("max-connections", &opts->max_connections, 1, 65536, "N", "default 256"),
        NCI_CLI_U32_FLAG(
            "max-connections-per-ip", &opts->max_connections_per_ip, 0, 65536, "N",
            "open connections from one IP (default 0: no limit;\n4..16 on a public lobby)"),
        NCI_CLI_U32_FLAG("max-rooms", &opts->max_rooms, 1, 65536, "N", "default 128"),
        NCI_CLI_U32_FLAG("max-game-servers", &opts->max_game_servers, 0, 4096, "N",
                         "game servers that may register with the key (default 16;\n"
                         "0: none, every match goes to --game-address)"),
        NCI_CLI_U32_FLAG("game-server-timeout", &opts->game_server_timeout_s, 0, 3600, "S",
                         "a registered game server silent this long is dropped and\n"
                         "its matches end (default 0: the idle timeout, 60 s)"),
        NCI_CLI_SWITCH_FLAG("discovery", &opts->discovery,
                            "answer LAN discovery probes on UDP (those for the first\n"
                            "--bind, IPv4, or for its broadcast addresses)"),
        NCI_CLI_U32_FLAG("discovery-port", &opts->discovery_port, 0, 65535, "N",
                         "UDP port for discovery (default 7777)"),
        NCI_CLI_TEXT_FLAG("name", &opts->name, "TEXT",
                          "lobby name shown by discovery (default \"netcore lobby\")"),
        NCI_CLI_TEXT_FLAG("redis", &opts->redis, "HOST:PORT|unix:PATH",
                          "share rooms, sessions and game servers with the other\n"
                          "lobby nodes using this Redis (docs/lobby-cluster.md)"),
        NCI_CLI_TEXT_FLAG("redis-password-file", &opts->redis_password_file, "FILE",
                          "Redis AUTH password (first line of FILE)"),
        NCI_CLI_TEXT_FLAG("node-id", &opts->node_id, "ID",
                          "this node's name in the cluster (required with --redis;\n"
                          "1..32 of A-Z a-z 0-9 _ . -, unique among live nodes)"),
        NCI_CLI_TEXT_FLAG("tls-cert", &opts->tls_cert, "FILE",
                          "PEM certificate chain: with --tls-key, every connection\n"
                          "(players and game servers) must speak TLS"),
        NCI_CLI_TEXT_FLAG("tls-key", &opts->tls_key, "FILE", "PEM private key of --tls-cert"),
        NCI_CLI_SWITCH_FLAG("tls12", &opts->tls12, "also accept TLS 1.2 (default: TLS 1.3 only)"),
        NCI_CLI_U32_FLAG("rate-limit-ban", &opts->rate_limit_ban_s, 0, 86400, "S",
                         "bar an address that flooded for S seconds (default 10;\n0: off)"),
        NCI_CLI_DOUBLE_FLAG("seconds", &opts->seconds, 0.0, 1e9, "S",
                            "run time; 0 = until SIGINT/SIGTERM (default 0)"),
        NCI_CLI_SWITCH_FLAG("generate-key", &opts->generate_key,
                            "print a new random key as hex and exit"),
        NCI_CLI_TEXT_FLAG("probe", &opts->probe_text, "ADDR[:PORT]",
                          "send LAN discovery probes to ADDR (a lobby or a broadcast\n"
                          "address; port 7777 by default) for --seconds (default 2),\n"
                          "print each lobby that answers as a JSON line, exit 0 if\n"
                          "any answered, 1 otherwise"),
        NCI_CLI_SWITCH_FLAG("verbose", &opts->verbose, "log connections and errors on stderr"),
    };
    _Static_assert(sizeof table / sizeof table[0] == FLAG_COUNT, "FLAG_COUNT matches the table");
    memcpy(flags, table, sizeof table);
    return (nci_cli_spec){
        .program = "netcore-lobby",
        .usage_line =
            "usage: netcore-lobby --game-address HOST:PORT (--key-file FILE | --key-hex HEX) [options]\n"
            "       netcore-lobby --generate-key\n"
            "       netcore-lobby --probe ADDR[:PORT] [--seconds S]\n",
        .preamble = "\n",
        .flags = flags,
        .flag_count = FLAG_COUNT,
    };
}

static void print_usage(FILE *out)
{
    options unused;
    nci_cli_flag flags[FLAG_COUNT];
    nci_cli_spec spec = lobby_spec(&unused, flags);
    nci_cli_print_usage(&spec, out);
}

/* "netcore-lobby: <fmt with what>" and the usage on stderr; returns false. */
static bool usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "netcore-lobby: ");
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    print_usage(stderr);
    return false;
}

/* Fills opts from argv. Returns 0 to run, 1 after --help (usage on stdout),
 * 2 on a bad command line (reason and usage on stderr). */
static int parse_args(int argc, char **argv, options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->port = 7777;
    opts->token_lifetime_s = 30;
    opts->max_connections = 256;
    opts->max_rooms = 128;
    opts->max_game_servers = 16;
    opts->discovery_port = 7777;
    opts->rate_limit_ban_s = 10;
    nci_cli_flag flags[FLAG_COUNT];
    nci_cli_spec spec = lobby_spec(opts, flags);
    nci_cli_status status = nci_cli_parse(&spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK)
        return status == NCI_CLI_HELP ? 1 : EXIT_USAGE;
    if (opts->generate_key || opts->probe_text)
        return 0;
    const char *problem = NULL;
    if (!opts->game_address_text)
        problem = "--game-address is required";
    else if (opts->redis && !opts->node_id)
        problem = "--node-id is required with --redis";
    else if (!opts->redis && (opts->node_id || opts->redis_password_file))
        problem = "--node-id and --redis-password-file need --redis";
    else if (!opts->key_file == !opts->key_hex)
        problem = "exactly one of --key-file and --key-hex is required";
    else if (!opts->tls_cert != !opts->tls_key)
        problem = "--tls-cert and --tls-key go together";
    if (problem) {
        usage_error("%s", problem);
        return EXIT_USAGE;
    }
    return 0;
}

static bool load_key(const options *opts, uint8_t key[NETCORE_TOKEN_KEY_BYTES])
{
    char text[KEY_FILE_MAX_BYTES + 1];
    const char *hex = opts->key_hex;
    if (opts->key_file) {
        FILE *f = fopen(opts->key_file, "r");
        if (!f) {
            fprintf(stderr, "netcore-lobby: cannot open %s: %s\n", opts->key_file, strerror(errno));
            return false;
        }
        size_t n = fread(text, 1, KEY_FILE_MAX_BYTES, f);
        fclose(f);
        text[n] = '\0';
        hex = text;
    }
    if (netcore_token_key_from_hex(hex, key) != NETCORE_OK) {
        fprintf(stderr, "netcore-lobby: the key must be 64 hexadecimal digits\n");
        return false;
    }
    return true;
}

static int generate_key(void)
{
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    if (netcore_token_key_generate(key) != NETCORE_OK) {
        fprintf(stderr, "netcore-lobby: no secure random source\n");
        return 1;
    }
    for (int i = 0; i < NETCORE_TOKEN_KEY_BYTES; i++)
        printf("%02x", key[i]);
    printf("\n");
    return 0;
}

/* The first line of the password file, without its line end. */
static bool load_redis_password(const char *path, char *out, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "netcore-lobby: cannot open %s: %s\n", path, strerror(errno));
        return false;
    }
    bool ok = fgets(out, (int)size, f) != NULL;
    fclose(f);
    if (!ok) {
        fprintf(stderr, "netcore-lobby: %s is empty\n", path);
        return false;
    }
    out[strcspn(out, "\r\n")] = '\0';
    return true;
}

/* --probe: discovery probes every 250 ms, answers printed once per lobby. */
static int probe(const options *opts)
{
    netcore_address to;
    if (netcore_address_parse(opts->probe_text, 7777, &to) != NETCORE_OK ||
        to.family != NETCORE_ADDRESS_IPV4) {
        usage_error("cannot parse --probe '%s' (an IPv4 address)", opts->probe_text);
        return EXIT_USAGE;
    }
    netcore_lobby_discovery_config discovery_config;
    netcore_lobby_discovery_config_default(&discovery_config);
    netcore_lobby_discovery *d = NULL;
    if (netcore_lobby_discovery_create(&discovery_config, &d) != NETCORE_OK) {
        fprintf(stderr, "netcore-lobby: cannot open a UDP socket\n");
        return 1;
    }
    double seconds = opts->seconds > 0 ? opts->seconds : 2.0;
    uint64_t start_ms = netcore_time_now_us() / 1000;
    uint64_t end_ms = start_ms + (uint64_t)(seconds * 1000.0);
    uint64_t next_probe_ms = start_ms;
    size_t printed = 0;
    for (uint64_t now = start_ms; now < end_ms && !nci_stop_requested();
         now = netcore_time_now_us() / 1000) {
        if (now >= next_probe_ms) {
            if (netcore_lobby_discovery_probe(d, &to) != NETCORE_OK)
                fprintf(stderr, "netcore-lobby: cannot send a probe to %s: %s\n", opts->probe_text,
                        strerror(errno));
            next_probe_ms = now + 250;
        }
        netcore_lobby_discovery_update(d, now * 1000u);
        const netcore_lobby_found *found = NULL;
        size_t count = 0;
        netcore_lobby_discovery_results(d, &found, &count);
        for (; printed < count; printed++) {
            char address[NETCORE_ADDRESS_STRLEN];
            char pin[NETCORE_LOBBY_TLS_PIN_STRLEN];
            netcore_address_format(&found[printed].lobby_address, address, sizeof address);
            netcore_lobby_tls_pin_format(found[printed].tls_pin, pin, sizeof pin);
            /* The name is valid text without controls; quotes and backslashes are escaped. */
            char name[2 * NETCORE_LOBBY_NAME_MAX + 1];
            size_t w = 0;
            for (const char *c = found[printed].name; *c; c++) {
                if (*c == '"' || *c == '\\')
                    name[w++] = '\\';
                name[w++] = *c;
            }
            name[w] = '\0';
            printf("{\"lobby\":\"%s\",\"name\":\"%s\",\"players\":%u,\"rooms\":%u,\"tls\":%s,"
                   "\"pin\":\"%s\"}\n",
                   address, name, (unsigned)found[printed].players, (unsigned)found[printed].rooms,
                   found[printed].tls ? "true" : "false", found[printed].tls ? pin : "");
            fflush(stdout);
        }
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    netcore_lobby_discovery_destroy(d);
    return printed > 0 ? 0 : 1;
}

/* Turns options into a server config; false (reason printed) on a bad value. */
static bool make_config(const options *opts, netcore_lobby_server_config *cfg)
{
    netcore_lobby_server_config_default(cfg);
    if (opts->verbose) {
        cfg->log.fn = netcore_log_stderr;
        cfg->log.min_level = NETCORE_LOG_INFO;
    }
    cfg->listen_count = opts->bind_count ? opts->bind_count : 1;
    for (uint32_t i = 0; i < cfg->listen_count; i++) {
        const char *text = opts->bind_count ? opts->bind_text[i] : "0.0.0.0";
        if (netcore_address_parse(text, (uint16_t)opts->port, &cfg->listen[i]) != NETCORE_OK)
            return usage_error("cannot parse --bind '%s'", text);
        cfg->listen[i].port = (uint16_t)opts->port;
    }
    if (netcore_address_parse(opts->game_address_text, 7778, &cfg->game_address) != NETCORE_OK)
        return usage_error("cannot parse --game-address '%s'", opts->game_address_text);
    cfg->token_lifetime_s = opts->token_lifetime_s;
    cfg->max_connections = opts->max_connections;
    cfg->max_connections_per_ip = opts->max_connections_per_ip;
    cfg->max_rooms = opts->max_rooms;
    cfg->max_game_servers = opts->max_game_servers;
    cfg->game_server_timeout_ms = opts->game_server_timeout_s * 1000u;
    cfg->discovery_enabled = opts->discovery;
    cfg->discovery_port = (uint16_t)opts->discovery_port;
    cfg->rate_limit_ban_ms = opts->rate_limit_ban_s * 1000u;
    cfg->tls_cert_file = opts->tls_cert;
    cfg->tls_key_file = opts->tls_key;
    cfg->tls_allow_tls12 = opts->tls12;
    if (opts->tls_cert) {
        /* LAN players pin what discovery tells them (trust on first use). */
        if (netcore_lobby_tls_cert_pin(opts->tls_cert, cfg->discovery_tls_pin) != NETCORE_OK)
            return usage_error("cannot read a certificate from '%s'", opts->tls_cert);
    }
    if (opts->name) {
        if (strlen(opts->name) > NETCORE_LOBBY_NAME_MAX)
            return usage_error("--name '%s' is longer than 32 bytes", opts->name);
        snprintf(cfg->lobby_name, sizeof cfg->lobby_name, "%s", opts->name);
    }
    if (opts->redis) {
        if (strlen(opts->redis) >= sizeof cfg->cluster_redis)
            return usage_error("--redis '%s' is too long", opts->redis);
        if (strlen(opts->node_id) >= sizeof cfg->cluster_node_id)
            return usage_error("--node-id '%s' is longer than 32 bytes", opts->node_id);
        snprintf(cfg->cluster_redis, sizeof cfg->cluster_redis, "%s", opts->redis);
        snprintf(cfg->cluster_node_id, sizeof cfg->cluster_node_id, "%s", opts->node_id);
        if (opts->redis_password_file &&
            !load_redis_password(opts->redis_password_file, cfg->cluster_redis_password,
                                 sizeof cfg->cluster_redis_password))
            return false;
    }
    return load_key(opts, cfg->key);
}

static void print_summary(double seconds, const netcore_lobby_server_stats *s, bool cluster)
{
    printf(
        "{\"seconds\":%.3f,\"connections_accepted\":%llu,\"connections_rejected_full\":%llu,"
        "\"connections_rejected_per_ip\":%llu,\"accept_backoffs\":%llu,"
        "\"frames_received\":%llu,\"frames_sent\":%llu,\"malformed_dropped\":%llu,"
        "\"oversize_dropped\":%llu,\"timeout_dropped\":%llu,\"rate_limit_dropped\":%llu,"
        "\"chat_rate_limited\":%llu,\"slow_reader_dropped\":%llu,\"version_rejected\":%llu,"
        "\"reconnects\":%llu,\"matches_started\":%llu,\"match_tokens_reissued\":%llu,"
        "\"registrations_rejected\":%llu,\"game_servers_lost\":%llu,"
        "\"matches_ended_server_lost\":%llu,\"match_end_reports_ignored\":%llu,"
        "\"discovery_answered\":%llu,\"discovery_dropped\":%llu,\"tls_handshakes\":%llu,"
        "\"tls_handshakes_failed\":%llu,\"tls_plaintext_refused\":%llu,"
        "\"connections_rejected_banned\":%llu",
        seconds, (unsigned long long)s->connections_accepted,
        (unsigned long long)s->connections_rejected_full,
        (unsigned long long)s->connections_rejected_per_ip, (unsigned long long)s->accept_backoffs,
        (unsigned long long)s->frames_received, (unsigned long long)s->frames_sent,
        (unsigned long long)s->malformed_dropped, (unsigned long long)s->oversize_dropped,
        (unsigned long long)s->timeout_dropped, (unsigned long long)s->rate_limit_dropped,
        (unsigned long long)s->chat_rate_limited, (unsigned long long)s->slow_reader_dropped,
        (unsigned long long)s->version_rejected, (unsigned long long)s->reconnects,
        (unsigned long long)s->matches_started, (unsigned long long)s->match_tokens_reissued,
        (unsigned long long)s->registrations_rejected, (unsigned long long)s->game_servers_lost,
        (unsigned long long)s->matches_ended_server_lost,
        (unsigned long long)s->match_end_reports_ignored, (unsigned long long)s->discovery_answered,
        (unsigned long long)s->discovery_dropped, (unsigned long long)s->tls_handshakes,
        (unsigned long long)s->tls_handshakes_failed, (unsigned long long)s->tls_plaintext_refused,
        (unsigned long long)s->connections_rejected_banned);
    if (cluster)
        printf(",\"cluster_up\":%s,\"cluster_remote_members\":%u,\"cluster_events\":%llu,"
               "\"cluster_events_dropped\":%llu,\"cluster_refused\":%llu,\"cluster_claims\":%llu",
               s->cluster_up ? "true" : "false", (unsigned)s->cluster_remote_members,
               (unsigned long long)s->cluster_events, (unsigned long long)s->cluster_events_dropped,
               (unsigned long long)s->cluster_refused, (unsigned long long)s->cluster_claims);
    printf("}\n");
}

int main(int argc, char **argv)
{
    options opts;
    int parsed = parse_args(argc, argv, &opts);
    if (parsed != 0)
        return parsed == 1 ? 0 : EXIT_USAGE;
    if (opts.generate_key)
        return generate_key();
    /* Ctrl-C and SIGTERM interrupt the wait, so the loop stops at once. */
    nci_stop_signals_install();
    if (opts.probe_text)
        return probe(&opts);
    netcore_lobby_server_config cfg;
    if (!make_config(&opts, &cfg))
        return EXIT_USAGE;

    netcore_lobby_server *server = NULL;
    netcore_result result = netcore_lobby_server_create(&cfg, &server);
    memset(cfg.key, 0, sizeof cfg.key);
    memset(cfg.cluster_redis_password, 0, sizeof cfg.cluster_redis_password);
    if (result != NETCORE_OK) {
        fprintf(stderr, "netcore-lobby: cannot start: %s\n", netcore_result_str(result));
        return 1;
    }
    char game_text[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&cfg.game_address, game_text, sizeof game_text);
    for (uint32_t i = 0; i < cfg.listen_count; i++) {
        netcore_address bound;
        char text[NETCORE_ADDRESS_STRLEN];
        netcore_lobby_server_address(server, i, &bound);
        netcore_address_format(&bound, text, sizeof text);
        /* Scripts and tests read the actual port (--port 0) from this line. */
        fprintf(stderr, "netcore-lobby: listening on %s, game server %s\n", text, game_text);
    }
    if (opts.redis)
        fprintf(stderr, "netcore-lobby: cluster node %s, state in redis %s\n", opts.node_id,
                opts.redis);
    if (opts.tls_cert) {
        char pin[NETCORE_LOBBY_TLS_PIN_STRLEN];
        netcore_lobby_tls_pin_format(cfg.discovery_tls_pin, pin, sizeof pin);
        fprintf(stderr, "netcore-lobby: TLS %s, certificate SHA-256 %s\n",
                opts.tls12 ? "1.2 and 1.3" : "1.3", pin);
    }
    netcore_address discovery;
    if (netcore_lobby_server_discovery_address(server, &discovery) == NETCORE_OK) {
        char text[NETCORE_ADDRESS_STRLEN];
        netcore_address_format(&discovery, text, sizeof text);
        fprintf(stderr, "netcore-lobby: answering discovery probes on UDP %s\n", text);
    }

    uint64_t start_us = netcore_time_now_us();
    uint64_t deadline_us =
        opts.seconds > 0 ? start_us + (uint64_t)(opts.seconds * 1e6) : UINT64_MAX;
    uint64_t now_us = start_us;
    int exit_code = 0;
    while (!nci_stop_requested()) {
        now_us = netcore_time_now_us();
        if (now_us >= deadline_us)
            break;
        uint64_t remaining_ms =
            deadline_us == UINT64_MAX ? POLL_SLICE_MS : (deadline_us - now_us + 999) / 1000;
        uint32_t wait_ms = remaining_ms < POLL_SLICE_MS ? (uint32_t)remaining_ms : POLL_SLICE_MS;
        if (netcore_lobby_server_update(server, now_us, wait_ms) != NETCORE_OK) {
            fprintf(stderr, "netcore-lobby: poll failed: %s\n", strerror(errno));
            exit_code = 1;
            break;
        }
    }
    netcore_lobby_server_stats stats;
    netcore_lobby_server_get_stats(server, &stats);
    print_summary((double)(now_us - start_us) / 1e6, &stats, opts.redis != NULL);
    netcore_lobby_server_destroy(server);
    return exit_code;
}
