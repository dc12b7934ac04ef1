/*
 * demo-game --headless --connect HOST --bots N: N complete clients in one
 * process (each its own lobby connection, room, match, connect token and game
 * connection) flown by demo_bot_think on the world each of them shows.
 * Figures per bot as JSON Lines with --stats.
 */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "modes.h"
#include "netcore/netcore.h"
#include "stats_file.h"

#define MAX_SWARM 64

typedef struct bot {
    demo_client *client;
    demo_rng rng;
    char name[DEMO_NAME_MAX];
} bot;

static demo_input bot_input(void *user, const demo_world *view, int slot, uint32_t tick)
{
    bot *b = user;
    return demo_bot_think(view, slot, tick, &b->rng);
}

/* Appends to buf; returns false when full. */
static bool append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *len) {
        return false;
    }
    *len += (size_t)n;
    return true;
}

static void write_stats(FILE *f, const bot *bots, int n, double t_s)
{
    char line[32768];
    size_t len = 0;
    int connected = 0;
    unsigned long long decode_errors = 0;
    long score_total = 0;
    for (int i = 0; i < n; i++) {
        demo_client_stats st;
        demo_client_get_stats(bots[i].client, &st);
        connected += st.connected;
        decode_errors += st.decode_errors;
        score_total += st.score;
    }
    bool ok = append(line, sizeof line, &len,
                     "{\"t_s\": %.1f, \"bots\": %d, \"connected\": %d, \"decode_errors\": %llu, "
                     "\"score_total\": %ld, \"per_bot\": [",
                     t_s, n, connected, decode_errors, score_total);
    for (int i = 0; i < n && ok; i++) {
        demo_client_stats st;
        demo_client_get_stats(bots[i].client, &st);
        ok = append(
            line, sizeof line, &len,
            "%s{\"name\": \"%s\", \"connected\": %s, \"rtt_ms\": %.1f, \"loss_pct\": %.2f, "
            "\"decode_errors\": %llu, \"snapshots\": %llu, \"corrections\": %llu, \"in_kbps\": %.1f, "
            "\"out_kbps\": %.1f, \"score\": %d, \"deaths\": %d, \"state\": \"%s\", \"matches\": %u, "
            "\"game_lost\": %u, \"returned_to_room\": %u, \"sealed\": %s, "
            "\"crypto_auth_rejected\": %llu, \"game_port\": %u}",
            i ? ", " : "", bots[i].name, st.connected ? "true" : "false", (double)st.rtt_ms,
            (double)st.loss_pct, (unsigned long long)st.decode_errors,
            (unsigned long long)st.snapshots, (unsigned long long)st.corrections,
            (double)st.in_kbps, (double)st.out_kbps, st.score, st.deaths,
            demo_client_state_name(st.state), (unsigned)st.matches, (unsigned)st.game_lost,
            (unsigned)st.returned, st.sealed ? "true" : "false",
            (unsigned long long)st.crypto_auth_rejected, (unsigned)st.game_port);
    }
    if (ok && append(line, sizeof line, &len, "]}")) {
        demo_stats_line(f, line);
    }
}

int demo_swarm_run(const demo_net_options *o)
{
    int n = o->bots > MAX_SWARM ? MAX_SWARM : o->bots;
    demo_client_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.snapshot_format =
        o->range_coded ? NETCORE_SNAPSHOT_FORMAT_RANGE_CODED : NETCORE_SNAPSHOT_FORMAT_BITPACKED;
    if (netcore_address_parse(o->connect, 7777, &cfg.lobby) != NETCORE_OK ||
        cfg.lobby.family != NETCORE_ADDRESS_IPV4) {
        fprintf(stderr, "demo-game: cannot resolve the lobby address '%s' (IPv4)\n", o->connect);
        return 1;
    }
    /* One trust context for the whole swarm. */
    demo_trust trust;
    if (!demo_trust_make(&o->trust, o->connect, &trust)) {
        return 1;
    }
    cfg.trust = &trust;
    FILE *stats = NULL;
    if (o->stats && !(stats = demo_stats_open(o->stats))) {
        demo_trust_release(&trust);
        return 1;
    }
    if (netcore_init() != NETCORE_OK) {
        fprintf(stderr, "demo-game: cannot initialise the network\n");
        demo_stats_close(stats);
        demo_trust_release(&trust);
        return 1;
    }
    bot *bots = calloc((size_t)n, sizeof *bots);
    int made = 0;
    cfg.link = o->link;
    for (; bots && made < n; made++) {
        bot *b = &bots[made];
        snprintf(b->name, sizeof b->name, "%.11s%d", o->name, made + 1);
        demo_rng_seed(&b->rng, o->seed * 7919u + (uint64_t)made);
        cfg.name = b->name;
        cfg.seed = o->seed * 104729u + (uint64_t)made;
        cfg.quiet = n > 8;
        if (!(b->client = demo_client_create(&cfg))) {
            break;
        }
        demo_client_set_lag_compensation(b->client, !o->no_lag_compensation);
    }
    int rc = made == n ? 0 : 1;
    uint64_t start = netcore_time_now_us();
    uint64_t next_stats = start + 1000000;
    const struct timespec pause = {0, 1000000};
    while (rc == 0 && !nci_stop_requested()) {
        uint64_t now = netcore_time_now_us();
        for (int i = 0; i < made; i++) {
            demo_client_update(bots[i].client, now, bot_input, &bots[i]);
            demo_client_clear_events(bots[i].client);
        }
        double t = (double)(now - start) / 1e6;
        if (now >= next_stats) {
            if (stats) {
                write_stats(stats, bots, made, t);
            }
            next_stats += 1000000;
        }
        if (o->duration_s > 0 && t >= o->duration_s) {
            break;
        }
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < made; i++) {
        demo_client_state st = demo_client_get_state(bots[i].client);
        if (st == DEMO_CLIENT_FAILED || st == DEMO_CLIENT_CLOSED) {
            rc = 1;
        }
    }
    if (stats && made > 0) {
        write_stats(stats, bots, made, (double)(netcore_time_now_us() - start) / 1e6);
    }
    for (int i = 0; i < made; i++) {
        demo_client_destroy(bots[i].client);
    }
    free(bots);
    demo_trust_release(&trust);
    netcore_shutdown();
    demo_stats_close(stats);
    return rc;
}
