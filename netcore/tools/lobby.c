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
#include "tool_args.h"

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

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: netcore-lobby --game-address HOST:PORT (--key-file FILE | --key-hex HEX) [options]\n"
            "       netcore-lobby --generate-key\n"
            "       netcore-lobby --probe ADDR[:PORT] [--seconds S]\n"
            "\n"
            "  --game-address HOST:PORT  game server written in connect tokens (required)\n"
            "  --key-file FILE           file holding the 32-byte key as 64 hex digits\n"
            "  --key-hex HEX             the key as 64 hex digits\n"
            "  --port N                  TCP port (default 7777; 0 picks a free one per address)\n"
            "  --bind ADDR               address to listen on, repeatable up to %d\n"
            "                            (default 0.0.0.0; e.g. --bind 0.0.0.0 --bind ::)\n"
            "  --token-lifetime S        connect token lifetime in seconds (default 30)\n"
            "  --max-connections N       default 256\n"
            "  --max-connections-per-ip N  open connections from one IP (default 0: no limit;\n"
            "                            4..16 on a public lobby)\n"
            "  --max-rooms N             default 128\n"
            "  --max-game-servers N      game servers that may register with the key (default 16;\n"
            "                            0: none, every match goes to --game-address)\n"
            "  --game-server-timeout S   a registered game server silent this long is dropped and\n"
            "                            its matches end (default 0: the idle timeout, 60 s)\n"
            "  --discovery               answer LAN discovery probes on UDP (those for the first\n"
            "                            --bind, IPv4, or for its broadcast addresses)\n"
            "  --discovery-port N        UDP port for discovery (default 7777)\n"
            "  --name TEXT               lobby name shown by discovery (default \"netcore lobby\")\n"
            "  --redis HOST:PORT|unix:PATH  share rooms, sessions and game servers with the other\n"
            "                            lobby nodes using this Redis (docs/lobby-cluster.md)\n"
            "  --redis-password-file FILE  Redis AUTH password (first line of FILE)\n"
            "  --node-id ID              this node's name in the cluster (required with --redis;\n"
            "                            1..32 of A-Z a-z 0-9 _ . -, unique among live nodes)\n"
            "  --tls-cert FILE           PEM certificate chain: with --tls-key, every connection\n"
            "                            (players and game servers) must speak TLS\n"
            "  --tls-key FILE            PEM private key of --tls-cert\n"
            "  --tls12                   also accept TLS 1.2 (default: TLS 1.3 only)\n"
            "  --rate-limit-ban S        bar an address that flooded for S seconds (default 10;\n"
            "                            0: off)\n"
            "  --seconds S               run time; 0 = until SIGINT/SIGTERM (default 0)\n"
            "  --generate-key            print a new random key as hex and exit\n"
            "  --probe ADDR[:PORT]       send LAN discovery probes to ADDR (a lobby or a broadcast\n"
            "                            address; port 7777 by default) for --seconds (default 2),\n"
            "                            print each lobby that answers as a JSON line, exit 0 if\n"
            "                            any answered, 1 otherwise\n"
            "  --verbose                 log connections and errors on stderr\n"
            "  --help\n",
            NETCORE_LOBBY_MAX_LISTEN);
}

static bool usage_error(const char *fmt, const char *what)
{
    return tool_usage_error("netcore-lobby", print_usage, fmt, what);
}

static bool parse_args(int argc, char **argv, options *opts, bool *out_help)
{
    memset(opts, 0, sizeof *opts);
    opts->port = 7777;
    opts->token_lifetime_s = 30;
    opts->max_connections = 256;
    opts->max_rooms = 128;
    opts->max_game_servers = 16;
    opts->discovery_port = 7777;
    opts->rate_limit_ban_s = 10;
    *out_help = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char name[64];
        const char *eq;
        if (!tool_split_flag(arg, name, sizeof name, &eq))
            return usage_error(strncmp(arg, "--", 2) == 0 ? "unknown flag '%s'" : "unexpected argument '%s'",
                               arg);
        if (strcmp(name, "help") == 0) {
            *out_help = true;
            return true;
        }
        if (strcmp(name, "verbose") == 0 || strcmp(name, "generate-key") == 0 ||
            strcmp(name, "discovery") == 0 || strcmp(name, "tls12") == 0) {
            if (eq)
                return usage_error("flag takes no value: '%s'", arg);
            if (name[0] == 'v')
                opts->verbose = true;
            else if (name[0] == 'g')
                opts->generate_key = true;
            else if (name[0] == 't')
                opts->tls12 = true;
            else
                opts->discovery = true;
            continue;
        }
        const char *value = tool_flag_value(argc, argv, &i, eq);
        if (!value)
            return usage_error("missing value for '%s'", arg);
        bool ok = true;
        if (strcmp(name, "bind") == 0) {
            if (opts->bind_count == NETCORE_LOBBY_MAX_LISTEN)
                return usage_error("too many '%s' flags", "--bind");
            opts->bind_text[opts->bind_count++] = value;
        } else if (strcmp(name, "port") == 0) {
            ok = tool_parse_u32(value, 65535, &opts->port);
        } else if (strcmp(name, "key-file") == 0) {
            opts->key_file = value;
        } else if (strcmp(name, "key-hex") == 0) {
            opts->key_hex = value;
        } else if (strcmp(name, "game-address") == 0) {
            opts->game_address_text = value;
        } else if (strcmp(name, "token-lifetime") == 0) {
            ok = tool_parse_u32(value, 86400, &opts->token_lifetime_s) && opts->token_lifetime_s > 0;
        } else if (strcmp(name, "max-connections") == 0) {
            ok = tool_parse_u32(value, 65536, &opts->max_connections) && opts->max_connections > 0;
        } else if (strcmp(name, "max-connections-per-ip") == 0) {
            ok = tool_parse_u32(value, 65536, &opts->max_connections_per_ip);
        } else if (strcmp(name, "max-rooms") == 0) {
            ok = tool_parse_u32(value, 65536, &opts->max_rooms) && opts->max_rooms > 0;
        } else if (strcmp(name, "discovery-port") == 0) {
            ok = tool_parse_u32(value, 65535, &opts->discovery_port);
        } else if (strcmp(name, "name") == 0) {
            opts->name = value;
        } else if (strcmp(name, "max-game-servers") == 0) {
            ok = tool_parse_u32(value, 4096, &opts->max_game_servers);
        } else if (strcmp(name, "game-server-timeout") == 0) {
            ok = tool_parse_u32(value, 3600, &opts->game_server_timeout_s);
        } else if (strcmp(name, "redis") == 0) {
            opts->redis = value;
        } else if (strcmp(name, "redis-password-file") == 0) {
            opts->redis_password_file = value;
        } else if (strcmp(name, "node-id") == 0) {
            opts->node_id = value;
        } else if (strcmp(name, "probe") == 0) {
            opts->probe_text = value;
        } else if (strcmp(name, "tls-cert") == 0) {
            opts->tls_cert = value;
        } else if (strcmp(name, "tls-key") == 0) {
            opts->tls_key = value;
        } else if (strcmp(name, "rate-limit-ban") == 0) {
            ok = tool_parse_u32(value, 86400, &opts->rate_limit_ban_s);
        } else if (strcmp(name, "seconds") == 0) {
            ok = tool_parse_double(value, 0.0, 1e9, &opts->seconds);
        } else {
            return usage_error("unknown flag '%s'", arg);
        }
        if (!ok)
            return usage_error("bad value for '%s'", arg);
    }
    if (opts->generate_key || opts->probe_text)
        return true;
    if (!opts->game_address_text)
        return usage_error("%s", "--game-address is required");
    if (opts->redis && !opts->node_id)
        return usage_error("%s", "--node-id is required with --redis");
    if (!opts->redis && (opts->node_id || opts->redis_password_file))
        return usage_error("%s", "--node-id and --redis-password-file need --redis");
    if (!opts->key_file == !opts->key_hex)
        return usage_error("%s", "exactly one of --key-file and --key-hex is required");
    if (!opts->tls_cert != !opts->tls_key)
        return usage_error("%s", "--tls-cert and --tls-key go together");
    return true;
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
    netcore_lobby_discovery *d = NULL;
    if (netcore_lobby_discovery_create(NULL, &d) != NETCORE_OK) {
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
        netcore_lobby_discovery_update(d, now);
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
    printf("{\"seconds\":%.3f,\"connections_accepted\":%llu,\"connections_rejected_full\":%llu,"
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
           (unsigned long long)s->connections_rejected_per_ip,
           (unsigned long long)s->accept_backoffs,
           (unsigned long long)s->frames_received, (unsigned long long)s->frames_sent,
           (unsigned long long)s->malformed_dropped, (unsigned long long)s->oversize_dropped,
           (unsigned long long)s->timeout_dropped, (unsigned long long)s->rate_limit_dropped,
           (unsigned long long)s->chat_rate_limited, (unsigned long long)s->slow_reader_dropped,
           (unsigned long long)s->version_rejected, (unsigned long long)s->reconnects,
           (unsigned long long)s->matches_started,
           (unsigned long long)s->match_tokens_reissued,
           (unsigned long long)s->registrations_rejected,
           (unsigned long long)s->game_servers_lost,
           (unsigned long long)s->matches_ended_server_lost,
           (unsigned long long)s->match_end_reports_ignored,
           (unsigned long long)s->discovery_answered, (unsigned long long)s->discovery_dropped,
           (unsigned long long)s->tls_handshakes, (unsigned long long)s->tls_handshakes_failed,
           (unsigned long long)s->tls_plaintext_refused,
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
    bool help = false;
    if (!parse_args(argc, argv, &opts, &help))
        return EXIT_USAGE;
    if (help) {
        print_usage(stdout);
        return 0;
    }
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
    uint64_t deadline_us = opts.seconds > 0 ? start_us + (uint64_t)(opts.seconds * 1e6) : UINT64_MAX;
    uint64_t now_us = start_us;
    int exit_code = 0;
    while (!nci_stop_requested()) {
        now_us = netcore_time_now_us();
        if (now_us >= deadline_us)
            break;
        uint64_t remaining_ms = deadline_us == UINT64_MAX ? POLL_SLICE_MS
                                                          : (deadline_us - now_us + 999) / 1000;
        uint32_t wait_ms = remaining_ms < POLL_SLICE_MS ? (uint32_t)remaining_ms : POLL_SLICE_MS;
        if (netcore_lobby_server_update(server, now_us / 1000, wait_ms) != NETCORE_OK) {
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
