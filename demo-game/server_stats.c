/*
 * demo-game server figures: the JSON object demo_server_stats_json writes
 * once a second (see server.h), from the counters server.c keeps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a;
    float y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Appends `"key": value` to the buffer; false when it does not fit. */
static bool put(char *buf, size_t size, size_t *len, const char *key, unsigned long long v)
{
    int n = snprintf(buf + *len, size - *len, ", \"%s\": %llu", key, v);
    if (n < 0 || (size_t)n >= size - *len) {
        return false;
    }
    *len += (size_t)n;
    return true;
}

size_t demo_server_stats_json(demo_server *s, double t_s, char *buf, size_t size)
{
    netcore_game_server_stats gs;
    netcore_lobby_server_stats ls;
    demo_registry_stats rs;
    memset(&ls, 0, sizeof ls);
    memset(&rs, 0, sizeof rs);
    if (s->registry) {
        demo_registry_get_stats(s->registry, &rs);
    }
    netcore_game_server_get_stats(s->game, &gs);
    const netcore_host_stats *hs = &gs.host;
    const netcore_token_validator_stats *vs = &gs.token;
    if (s->lobby) {
        netcore_lobby_server_get_stats(s->lobby, &ls);
    }
    uint64_t now = netcore_time_now_us();
    double secs = (double)(now - s->last_stats_us) / 1e6;
    if (secs <= 0) {
        secs = 1;
    }
    qsort(s->tick_ms, s->tick_samples, sizeof s->tick_ms[0], cmp_float);
    float p99 = s->tick_samples ? s->tick_ms[(s->tick_samples * 99) / 100] : 0.0f;
    float max = s->tick_samples ? s->tick_ms[s->tick_samples - 1] : 0.0f;
    int score_total = 0;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        score_total += s->world.players[i].active ? s->world.players[i].score : 0;
    }
    int n = snprintf(
        buf, size,
        "{\"t_s\": %.1f, \"clients\": %d, \"players\": %d, \"tick\": %u, \"round\": %u, "
        "\"tick_ms_p99\": %.3f, \"tick_ms_max\": %.3f, \"out_kbps\": %.1f, \"in_kbps\": %.1f",
        t_s, (int)gs.clients, demo_world_player_count(&s->world), (unsigned)s->world.tick,
        (unsigned)s->world.round_number, (double)p99, (double)max,
        (double)(hs->wire_bytes_sent - s->last_wire_out) * 8.0 / 1000.0 / secs,
        (double)(hs->wire_bytes_received - s->last_wire_in) * 8.0 / 1000.0 / secs);
    if (n < 0 || (size_t)n >= size) {
        return 0;
    }
    size_t len = (size_t)n;
    double rewind_ms = s->rewinds ? (double)s->rewind_ticks_sum * 1000.0 /
                                        ((double)s->rewinds * s->config.tick_rate_hz)
                                  : 0.0;
    n = snprintf(buf + len, size - len, ", \"lagcomp_rewind_ms_avg\": %.1f", rewind_ms);
    if (n < 0 || (size_t)n >= size - len) {
        return 0;
    }
    len += (size_t)n;
    s->rewind_ticks_sum = s->rewinds = 0;
    s->tick_samples = 0;
    s->last_stats_us = now;
    s->last_wire_out = hs->wire_bytes_sent;
    s->last_wire_in = hs->wire_bytes_received;
    bool ok =
        put(buf, size, &len, "decode_errors",
            s->decode_errors + gs.input_rejected + gs.acks_rejected) &&
        put(buf, size, &len, "score_total", (unsigned long long)score_total) &&
        put(buf, size, &len, "kills", s->kills) && put(buf, size, &len, "shots", s->shots) &&
        put(buf, size, &len, "hits", s->hits) &&
        put(buf, size, &len, "snapshots_sent", gs.snapshots_sent) &&
        put(buf, size, &len, "snapshot_send_errors", gs.snapshot_errors) &&
        put(buf, size, &len, "ticks_skipped", gs.ticks_skipped) &&
        (s->lobby ? put(buf, size, &len, "lobby_connections", ls.connections)
                  : put(buf, size, &len, "registered", rs.registered)) &&
        put(buf, size, &len, "matches_started", s->lobby ? ls.matches_started : rs.assigned) &&
        put(buf, size, &len, "admission_accepted", hs->admission_accepted) &&
        /* Everything dropped or refused, one counter per reason. */
        put(buf, size, &len, "admission_rejected", hs->admission_rejected) &&
        put(buf, size, &len, "admission_timeout_dropped", hs->admission_timed_out) &&
        put(buf, size, &len, "pending_messages_dropped", hs->pending_messages_dropped) &&
        put(buf, size, &len, "malformed_dropped", hs->malformed_dropped) &&
        put(buf, size, &len, "oversize_dropped", hs->oversize_dropped) &&
        put(buf, size, &len, "peer_timeouts_dropped", hs->timeouts) &&
        put(buf, size, &len, "guard_malformed_dropped", hs->guard_malformed_dropped) &&
        put(buf, size, &len, "guard_unknown_dropped", hs->guard_unknown_dropped) &&
        put(buf, size, &len, "guard_unexpected_connect_dropped",
            hs->guard_unexpected_connect_dropped) &&
        put(buf, size, &len, "guard_proof_dropped", hs->guard_proof_dropped) &&
        put(buf, size, &len, "guard_rate_dropped", hs->guard_rate_dropped) &&
        put(buf, size, &len, "guard_ip_rate_dropped", hs->guard_ip_rate_dropped) &&
        put(buf, size, &len, "guard_ip_peers_dropped", hs->guard_ip_peers_dropped) &&
        put(buf, size, &len, "guard_ip_handshakes_dropped", hs->guard_ip_handshakes_dropped) &&
        put(buf, size, &len, "guard_full_dropped", hs->guard_full_dropped) &&
        put(buf, size, &len, "guard_handshake_timeouts_dropped", hs->guard_handshake_timeouts) &&
        put(buf, size, &len, "token_malformed_rejected", vs->rejected_malformed) &&
        put(buf, size, &len, "token_auth_rejected", vs->rejected_auth) &&
        put(buf, size, &len, "token_mismatch_rejected", vs->rejected_mismatch) &&
        put(buf, size, &len, "token_expired_rejected", vs->rejected_expired) &&
        put(buf, size, &len, "token_replayed_rejected", vs->rejected_replayed) &&
        put(buf, size, &len, "token_policy_rejected", vs->rejected_policy) &&
        put(buf, size, &len, "token_full_rejected", vs->rejected_full) &&
        put(buf, size, &len, "token_address_rejected", hs->token_address_rejected) &&
        put(buf, size, &len, "token_validator_address_rejected", vs->rejected_address) &&
        put(buf, size, &len, "peers_sealed", hs->peers_sealed) &&
        put(buf, size, &len, "crypto_auth_rejected", hs->crypto_auth_rejected) &&
        put(buf, size, &len, "crypto_duplicate_dropped", hs->crypto_duplicate_dropped) &&
        put(buf, size, &len, "crypto_stale_dropped", hs->crypto_stale_dropped) &&
        put(buf, size, &len, "crypto_disconnects", hs->crypto_disconnects) &&
        put(buf, size, &len, "seal_overhead_bytes_sent", hs->seal_overhead_bytes_sent) &&
        put(buf, size, &len, "hello_rejected", gs.hello_rejected) &&
        put(buf, size, &len, "server_full_rejected", gs.full_rejected) &&
        put(buf, size, &len, "messages_dropped", gs.messages_dropped) &&
        put(buf, size, &len, "inputs_late_dropped", gs.inputs_late) &&
        put(buf, size, &len, "inputs_too_far_dropped", gs.inputs_too_far);
    if (ok && !s->lobby) {
        /* Register mode: the link to the remote lobby instead of a lobby. */
        ok = put(buf, size, &len, "game_port", s->game_address.port) &&
             put(buf, size, &len, "load_reported", rs.load_reported) &&
             put(buf, size, &len, "lobby_registrations", rs.registrations) &&
             put(buf, size, &len, "lobby_registration_failures", rs.failures) &&
             put(buf, size, &len, "lobby_connection_lost", rs.lost) &&
             put(buf, size, &len, "matches_assigned", rs.assigned) &&
             put(buf, size, &len, "matches_ended_reported", rs.ended) &&
             put(buf, size, &len, "matches_assign_refused", s->assign_refused) &&
             put(buf, size, &len, "lobby_errors", rs.errors);
    } else if (ok) {
        ok = put(buf, size, &len, "lobby_full_rejected", ls.connections_rejected_full) &&
             put(buf, size, &len, "lobby_malformed_dropped", ls.malformed_dropped) &&
             put(buf, size, &len, "lobby_oversize_dropped", ls.oversize_dropped) &&
             put(buf, size, &len, "lobby_timeout_dropped", ls.timeout_dropped) &&
             put(buf, size, &len, "lobby_rate_limit_dropped", ls.rate_limit_dropped) &&
             put(buf, size, &len, "lobby_chat_rate_rejected", ls.chat_rate_limited) &&
             put(buf, size, &len, "lobby_slow_reader_dropped", ls.slow_reader_dropped) &&
             put(buf, size, &len, "lobby_version_rejected", ls.version_rejected) &&
             put(buf, size, &len, "lobby_registrations_rejected", ls.registrations_rejected) &&
             put(buf, size, &len, "lobby_discovery_dropped", ls.discovery_dropped);
    }
    if (!ok || len + 2 > size) {
        return 0;
    }
    buf[len++] = '}';
    buf[len] = '\0';
    return len;
}
