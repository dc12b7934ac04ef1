/* A game server under attack, on loopback: forged CONNECTs from many source
 * ports, garbage, lying ENet headers and oversized datagrams sprayed at a
 * server while a client holding a lobby token connects; plain ENet peers
 * without a proof; per-IP caps; CONNECT rate limits; half-open handshake
 * expiry; the guard switched off; the guard behind the conditioner relay.
 * Progress is counted in polling rounds, never in wall time; every loop is
 * bounded in count and in time. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <enet/enet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "transport/enet_guard.h"
#include "netcore/token.h"
#include "netcore/transport.h"
#include "transport_loop.h"

static void init_netcore(void)
{
    cr_assert_eq(netcore_init(), NETCORE_OK);
}
static void fini_netcore(void)
{
    netcore_shutdown();
}
TestSuite(attack, .init = init_netcore, .fini = fini_netcore, .timeout = 60);

#define SPRAY_SOCKETS 32
#define MAX_ROUNDS 2000
#define SAFETY_US (20u * 1000000u)

static const uint8_t lobby_key[NETCORE_TOKEN_KEY_BYTES] = {
    0x51, 0x02, 0x93, 0x44, 0x15, 0x26, 0x37, 0x48, 0x59, 0x6a, 0x7b, 0x8c, 0x9d, 0xae, 0xbf, 0xc0,
    0x01, 0x12, 0x23, 0x34, 0x45, 0x56, 0x67, 0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef, 0xf1};

/* --- Raw UDP attacker --- */

typedef struct sprayer {
    int fds[SPRAY_SOCKETS];
    struct sockaddr_in target;
    nci_rng rng;
    uint64_t sent;
} sprayer;

static void sprayer_open(sprayer *s, const netcore_address *target, uint64_t seed)
{
    memset(s, 0, sizeof *s);
    nci_rng_seed(&s->rng, seed);
    s->target.sin_family = AF_INET;
    memcpy(&s->target.sin_addr, target->bytes, 4);
    s->target.sin_port = htons(target->port);
    for (int i = 0; i < SPRAY_SOCKETS; i++) {
        s->fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        cr_assert_geq(s->fds[i], 0);
        struct sockaddr_in local;
        memset(&local, 0, sizeof local);
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        cr_assert_eq(bind(s->fds[i], (struct sockaddr *)&local, sizeof local), 0);
    }
}

static void sprayer_close(sprayer *s)
{
    for (int i = 0; i < SPRAY_SOCKETS; i++)
        close(s->fds[i]);
}

static void send_raw(sprayer *s, int socket_index, const uint8_t *data, size_t size)
{
    /* Loss under load is fine (it is UDP); the count is what was offered. */
    (void)sendto(s->fds[socket_index % SPRAY_SOCKETS], data, size, MSG_DONTWAIT,
                 (const struct sockaddr *)&s->target, sizeof s->target);
    s->sent++;
}

/* One forged datagram of a kind chosen by the generator: CONNECT with a
 * wrong proof, CONNECT without one, random bytes, a send whose dataLength
 * lies, a ping naming a random slot, or an oversized datagram. */
static void spray_one(sprayer *s)
{
    static uint8_t buf[9000];
    uint32_t kind = nci_rng_below(&s->rng, 6);
    size_t n = 0;
    switch (kind) {
    case 0:
        n = nci_enet_datagram_write_connect(buf, (uint32_t)nci_rng_next(&s->rng),
                                            (uint32_t)nci_rng_next(&s->rng) | 1u, 8);
        break;
    case 1:
        n = nci_enet_datagram_write_connect(buf, (uint32_t)nci_rng_next(&s->rng), 0, 8);
        break;
    case 2:
        n = 1 + nci_rng_below(&s->rng, 1400);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)nci_rng_next(&s->rng);
        break;
    case 3: {
        uint16_t peer = (uint16_t)nci_rng_below(&s->rng, 16);
        buf[0] = (uint8_t)(0x80 | (peer >> 8));
        buf[1] = (uint8_t)peer;
        buf[2] = buf[3] = 0;
        buf[4] = 6 | 0x80;
        buf[5] = 1;
        buf[6] = 0;
        buf[7] = 1;
        buf[8] = 0xFF; /* dataLength 65535, 20 bytes present */
        buf[9] = 0xFF;
        n = 30;
        break;
    }
    case 4: {
        uint16_t peer = (uint16_t)nci_rng_below(&s->rng, 16);
        uint8_t d[8] = {(uint8_t)(0x80 | (peer >> 8)), (uint8_t)peer, 0, 0, 5, 0xFF, 0, 1};
        memcpy(buf, d, sizeof d);
        n = sizeof d;
        break;
    }
    default:
        n = 5000 + nci_rng_below(&s->rng, 4000);
        memset(buf, 0xAB, n);
        break;
    }
    send_raw(s, (int)nci_rng_below(&s->rng, SPRAY_SOCKETS), buf, n);
}

/* --- Server with token admission --- */

typedef struct admission_ctx {
    netcore_token_validator *validator;
} admission_ctx;

static netcore_result admit_with_validator(void *user, netcore_peer_id peer,
                                           const netcore_address *from, const void *token,
                                           size_t token_size_bytes, netcore_admission_grant *grant)
{
    admission_ctx *ctx = user;
    return netcore_token_admission(ctx->validator, peer, from, token, token_size_bytes, grant);
}

static void guarded_server_config(netcore_host_config *cfg, admission_ctx *ctx)
{
    tl_server_config(cfg);
    cfg->max_peers = 16;
    cfg->admission = admit_with_validator;
    cfg->admission_user = ctx;
    cfg->guard.require_connect_proof = true;
    memcpy(cfg->guard.proof_key, lobby_key, sizeof lobby_key);
}

static void make_validator(admission_ctx *ctx, const netcore_address *server_address)
{
    netcore_token_validator_config vc;
    netcore_token_validator_config_default(&vc);
    memcpy(vc.key, lobby_key, sizeof lobby_key);
    vc.server_address = *server_address;
    cr_assert_eq(netcore_token_validator_create(&vc, &ctx->validator), NETCORE_OK);
}

/* The session keys every test token carries (the lobby draws fresh ones). */
static netcore_session_keys test_session_keys(void)
{
    netcore_session_keys keys;
    memset(keys.client_to_server, 0x5a, sizeof keys.client_to_server);
    memset(keys.server_to_client, 0xa5, sizeof keys.server_to_client);
    return keys;
}

/* A token as the lobby hands it to a client it sees at client_ip. */
static void make_client_token(const netcore_address *server_address,
                              const netcore_address *client_ip, uint64_t client_id,
                              uint8_t token[NETCORE_TOKEN_BYTES])
{
    netcore_token_params p;
    memset(&p, 0, sizeof p);
    p.session_keys = test_session_keys();
    p.client_id = client_id;
    p.match_id = 77;
    p.server_address = *server_address;
    p.create_time_s = (uint64_t)time(NULL);
    p.lifetime_s = 30;
    cr_assert_eq(netcore_token_create_for_client(lobby_key, &p, client_ip, token), NETCORE_OK);
}

static netcore_host_stats stats_of(const tl_side *side)
{
    netcore_host_stats s;
    cr_assert_eq(netcore_host_get_stats(side->host, &s), NETCORE_OK);
    return s;
}

/* --- Raw ENet client (no proof) --- */

typedef struct raw_enet {
    ENetHost *host;
    bool connected;
} raw_enet;

/* from: local address to bind (port 0), or NULL for any. */
static void raw_enet_connect(raw_enet *raw, const netcore_address *from, const netcore_address *to,
                             uint32_t data)
{
    memset(raw, 0, sizeof *raw);
    ENetAddress local = {0};
    if (from)
        memcpy(&local.host, from->bytes, 4);
    raw->host = enet_host_create(from ? &local : NULL, 1, 8, 0, 0);
    cr_assert_not_null(raw->host);
    ENetAddress target;
    memcpy(&target.host, to->bytes, 4);
    target.port = to->port;
    cr_assert_not_null(enet_host_connect(raw->host, &target, 8, data));
}

static void raw_enet_service(raw_enet *raw)
{
    ENetEvent ev;
    for (int i = 0; i < 64 && enet_host_service(raw->host, &ev, 0) > 0; i++) {
        if (ev.type == ENET_EVENT_TYPE_CONNECT)
            raw->connected = true;
        if (ev.type == ENET_EVENT_TYPE_RECEIVE)
            enet_packet_destroy(ev.packet);
    }
}

/* Runs rounds of: raw client service, server drain, a short sleep, until
 * the raw client connects or rounds run out. Returns whether it connected. */
static bool raw_enet_run(raw_enet *raw, tl_side *server, int rounds)
{
    for (int i = 0; i < rounds && !raw->connected; i++) {
        raw_enet_service(raw);
        tl_drain(server, 2);
    }
    return raw->connected;
}

/* --- Tests --- */

Test(attack, legit_client_connects_through_a_spray_of_forgeries_and_garbage)
{
    admission_ctx ctx = {NULL};
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    guarded_server_config(&scfg, &ctx);
    tl_client_config(&ccfg);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    make_validator(&ctx, &to);
    uint8_t token[NETCORE_TOKEN_BYTES];
    netcore_address loopback = netcore_address_ipv4(127, 0, 0, 1, 50000);
    make_client_token(&to, &loopback, 1, token);

    sprayer spray;
    sprayer_open(&spray, &to, 7);
    /* Warm up: the server is already under fire when the client arrives. */
    for (int i = 0; i < 2000; i++)
        spray_one(&spray);
    tl_drain(server, 0);

    netcore_session_keys keys = test_session_keys();
    netcore_connect_options options = {token, sizeof token,
                                       netcore_token_embedded_proof(token, sizeof token), &keys};
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, &options, &id), NETCORE_OK);
    uint64_t deadline = netcore_time_now_us() + SAFETY_US;
    int rounds = 0;
    uint32_t max_slots = 0;
    /* Each round: 100 forged datagrams, the server drained, the client polled
     * for up to 1 ms. 1000 rounds is one second of the client's polling. */
    while (client->connects == 0 && client->disconnects == 0 && rounds < 1000 &&
           netcore_time_now_us() < deadline) {
        for (int i = 0; i < 100; i++)
            spray_one(&spray);
        tl_drain(server, 0);
        tl_drain(client, 1);
        netcore_host_stats s = stats_of(server);
        if (s.slots_in_use > max_slots)
            max_slots = s.slots_in_use;
        rounds++;
    }
    cr_assert_eq(client->connects, 1, "client did not connect in %d rounds (%u disconnects)",
                 rounds, client->disconnects);
    cr_assert_lt(rounds, 1000);
    /* Keep spraying a little after: the admitted client stays, nothing else gets in. */
    for (int r = 0; r < 50; r++) {
        for (int i = 0; i < 100; i++)
            spray_one(&spray);
        tl_drain(server, 0);
        tl_drain(client, 1);
    }
    netcore_host_stats s = stats_of(server);
    cr_assert_leq(max_slots, 1, "forged CONNECTs took slots: %u", max_slots);
    cr_assert_eq(s.slots_in_use, 1);
    cr_assert_eq(s.peers_connected, 1);
    cr_assert_eq(server->connects, 1);
    cr_assert_eq(client->disconnects, 0);
    cr_assert_gt(s.guard_proof_dropped, 0);
    cr_assert_gt(s.guard_malformed_dropped, 0);
    cr_assert_gt(s.guard_unknown_dropped, 0);
    cr_assert_gt(s.receive_errors_dropped, 0); /* the oversized ones */
    cr_assert_eq(s.guard_rate_dropped + s.guard_ip_rate_dropped + s.guard_full_dropped, 0);
    cr_assert_eq(s.admission_accepted, 1);
    sprayer_close(&spray);
    tl_free_side(client);
    tl_free_side(server);
    netcore_token_validator_destroy(ctx.validator);
}

Test(attack, plain_enet_peer_without_proof_never_gets_a_slot)
{
    admission_ctx ctx = {NULL};
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    guarded_server_config(&scfg, &ctx);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    make_validator(&ctx, &to);
    raw_enet raw;
    raw_enet_connect(&raw, NULL, &to, 0);
    uint32_t max_slots = 0;
    for (int i = 0; i < 300 && !raw.connected; i++) {
        raw_enet_service(&raw);
        tl_drain(server, 2);
        netcore_host_stats s = stats_of(server);
        if (s.slots_in_use > max_slots)
            max_slots = s.slots_in_use;
    }
    cr_assert_not(raw.connected);
    cr_assert_eq(max_slots, 0);
    netcore_host_stats s = stats_of(server);
    cr_assert_geq(s.guard_proof_dropped, 1);
    cr_assert_eq(s.guard_passed, 0);
    cr_assert_eq(server->connects, 0);
    enet_host_destroy(raw.host);
    tl_free_side(server);
    netcore_token_validator_destroy(ctx.validator);
}

Test(attack, guard_off_lets_a_plain_enet_peer_take_a_slot)
{
    admission_ctx ctx = {NULL};
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    guarded_server_config(&scfg, &ctx);
    scfg.guard.disabled = true;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    make_validator(&ctx, &to);
    raw_enet raw;
    raw_enet_connect(&raw, NULL, &to, 0);
    /* Without the guard ENet completes the handshake: the slot is spent
     * before the token could be checked. */
    cr_assert(raw_enet_run(&raw, server, 300));
    netcore_host_stats s = stats_of(server);
    cr_assert_eq(s.guard_passed + s.guard_proof_dropped, 0);
    cr_assert_eq(s.peers_pending, 1);
    enet_host_destroy(raw.host);
    tl_free_side(server);
    netcore_token_validator_destroy(ctx.validator);
}

Test(attack, guard_without_proof_still_lets_plain_peers_in)
{
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    tl_server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    raw_enet raw;
    raw_enet_connect(&raw, NULL, &to, 0);
    cr_assert(raw_enet_run(&raw, server, 300));
    netcore_host_stats s = stats_of(server);
    cr_assert_gt(s.guard_passed, 0);
    cr_assert_eq(s.slots_in_use, 1);
    enet_host_destroy(raw.host);
    tl_free_side(server);
}

Test(attack, per_ip_peer_cap)
{
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    scfg.guard.max_peers_per_ip = 2;
    tl_client_config(&ccfg);
    ccfg.connect_timeout_ms = 3000;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    netcore_peer_id ids[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &ids[i]), NETCORE_OK);
    uint64_t deadline = netcore_time_now_us() + SAFETY_US;
    for (int i = 0; i < MAX_ROUNDS && client->connects + client->disconnects < 3 &&
                    netcore_time_now_us() < deadline;
         i++) {
        tl_drain(server, 0);
        tl_drain(client, 2);
    }
    cr_assert_eq(client->connects, 2);
    cr_assert_eq(client->disconnects, 1);
    cr_assert_eq(client->reason, NETCORE_DISCONNECT_CONNECT_FAILED);
    netcore_host_stats s = stats_of(server);
    cr_assert_geq(s.guard_ip_peers_dropped, 1);
    cr_assert_eq(s.slots_in_use, 2);
    tl_free_side(client);
    tl_free_side(server);
}

/* Polls the server until pred holds on its stats, bounded. */
static bool wait_stats(tl_side *server, bool (*pred)(const netcore_host_stats *))
{
    uint64_t deadline = netcore_time_now_us() + SAFETY_US;
    for (int i = 0; i < MAX_ROUNDS && netcore_time_now_us() < deadline; i++) {
        tl_drain(server, 5);
        netcore_host_stats s = stats_of(server);
        if (pred(&s))
            return true;
    }
    return false;
}

static bool six_connects_judged(const netcore_host_stats *s)
{
    return s->guard_passed + s->guard_ip_handshakes_dropped + s->guard_rate_dropped +
               s->guard_ip_rate_dropped >=
           6;
}

static bool no_slot_held(const netcore_host_stats *s)
{
    return s->slots_in_use == 0;
}

Test(attack, half_open_handshakes_are_capped_per_ip_and_expire)
{
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    tl_server_config(&scfg);
    scfg.guard.max_handshakes_per_ip = 2;
    scfg.guard.handshake_timeout_ms = 1500;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    sprayer spray;
    sprayer_open(&spray, &to, 3);
    uint8_t d[NCI_ENET_CONNECT_DATAGRAM_BYTES];
    for (int i = 0; i < 6; i++) {
        size_t n = nci_enet_datagram_write_connect(d, 1000u + (uint32_t)i, 0, 8);
        send_raw(&spray, i, d, n);
    }
    cr_assert(wait_stats(server, six_connects_judged));
    netcore_host_stats s = stats_of(server);
    cr_assert_eq(s.guard_passed, 2);
    cr_assert_eq(s.guard_ip_handshakes_dropped, 4);
    cr_assert_eq(s.slots_handshaking, 2);
    /* Nobody answers the server's VERIFY_CONNECT: both slots come back. */
    cr_assert(wait_stats(server, no_slot_held));
    s = stats_of(server);
    cr_assert_eq(s.guard_handshake_timeouts, 2);
    cr_assert_eq(server->connects, 0);
    sprayer_close(&spray);
    tl_free_side(server);
}

static bool ten_connects_judged(const netcore_host_stats *s)
{
    return s->guard_passed + s->guard_rate_dropped + s->guard_ip_rate_dropped >= 10;
}

Test(attack, connect_rate_limits_global_and_per_ip)
{
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    tl_server_config(&scfg);
    scfg.max_peers = 32;
    scfg.guard.connect_rate_per_s = 1;
    scfg.guard.connect_burst = 3;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    sprayer spray;
    sprayer_open(&spray, &to, 4);
    uint8_t d[NCI_ENET_CONNECT_DATAGRAM_BYTES];
    for (int i = 0; i < 10; i++) {
        size_t n = nci_enet_datagram_write_connect(d, 2000u + (uint32_t)i, 0, 8);
        send_raw(&spray, i, d, n);
    }
    cr_assert(wait_stats(server, ten_connects_judged));
    netcore_host_stats s = stats_of(server);
    /* 3 from the burst, at most one more if a second passed meanwhile. */
    cr_assert_geq(s.guard_passed, 3);
    cr_assert_leq(s.guard_passed, 4);
    cr_assert_eq(s.guard_rate_dropped, 10 - s.guard_passed);
    tl_free_side(server);

    server = tl_new_side();
    tl_server_config(&scfg);
    scfg.max_peers = 32;
    scfg.guard.ip_connect_rate_per_s = 1;
    scfg.guard.ip_connect_burst = 2;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    to = tl_address_of(server);
    spray.target.sin_port = htons(to.port);
    for (int i = 0; i < 10; i++) {
        size_t n = nci_enet_datagram_write_connect(d, 3000u + (uint32_t)i, 0, 8);
        send_raw(&spray, i, d, n);
    }
    cr_assert(wait_stats(server, ten_connects_judged));
    s = stats_of(server);
    cr_assert_geq(s.guard_passed, 2);
    cr_assert_leq(s.guard_passed, 3);
    cr_assert_eq(s.guard_ip_rate_dropped, 10 - s.guard_passed);
    sprayer_close(&spray);
    tl_free_side(server);
}

Test(attack, guard_sees_real_addresses_behind_the_relay)
{
    admission_ctx ctx = {NULL};
    tl_side *server = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    guarded_server_config(&scfg, &ctx);
    scfg.conditioner.enabled = true; /* perfect link, but through the relay */
    scfg.guard.max_peers_per_ip = 1;
    tl_client_config(&ccfg);
    /* The relay's sockets are on 127.0.0.1; the client is on 127.0.0.2, so
     * only the real address can carry its proof and its per-IP count. */
    ccfg.bind_address = netcore_address_ipv4(127, 0, 0, 2, 0);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    make_validator(&ctx, &to);
    netcore_address ip2 = netcore_address_ipv4(127, 0, 0, 2, 0);
    netcore_address ip1 = netcore_address_ipv4(127, 0, 0, 1, 0);
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_client_token(&to, &ip2, 2, token);
    netcore_session_keys keys = test_session_keys();
    netcore_connect_options options = {token, sizeof token,
                                       netcore_token_embedded_proof(token, sizeof token), &keys};
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, &options, &id), NETCORE_OK);
    cr_assert(tl_run_until(client, server, tl_both_connected, NULL));

    uint64_t expire_s = (uint64_t)time(NULL) + 30;
    uint32_t proof2 = netcore_token_address_proof(lobby_key, &ip2, expire_s);
    uint32_t proof1 = netcore_token_address_proof(lobby_key, &ip1, expire_s);
    /* 127.0.0.2's proof from 127.0.0.1: wrong IP. */
    raw_enet stolen;
    raw_enet_connect(&stolen, &ip1, &to, proof2);
    cr_assert_not(raw_enet_run(&stolen, server, 200));
    netcore_host_stats s = stats_of(server);
    cr_assert_geq(s.guard_proof_dropped, 1);
    /* A second peer from 127.0.0.2: over its IP's cap of 1. */
    raw_enet second;
    raw_enet_connect(&second, &ip2, &to, proof2);
    cr_assert_not(raw_enet_run(&second, server, 200));
    s = stats_of(server);
    cr_assert_geq(s.guard_ip_peers_dropped, 1);
    cr_assert_eq(s.slots_in_use, 1);
    /* 127.0.0.1 with its own proof is another IP, although every relay
     * socket is on 127.0.0.1 too. */
    raw_enet other;
    raw_enet_connect(&other, &ip1, &to, proof1);
    cr_assert(raw_enet_run(&other, server, 300));
    enet_host_destroy(stolen.host);
    enet_host_destroy(second.host);
    enet_host_destroy(other.host);
    tl_free_side(client);
    tl_free_side(server);
    netcore_token_validator_destroy(ctx.validator);
}

Test(attack, client_host_drops_connects)
{
    tl_side *client = tl_new_side();
    netcore_host_config ccfg;
    tl_client_config(&ccfg);
    ccfg.bind_address = netcore_address_ipv4(127, 0, 0, 1, 0);
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_address at = tl_address_of(client);
    sprayer spray;
    sprayer_open(&spray, &at, 5);
    uint8_t d[NCI_ENET_CONNECT_DATAGRAM_BYTES];
    for (int i = 0; i < 4; i++) {
        size_t n = nci_enet_datagram_write_connect(d, 4000u + (uint32_t)i, 0, 8);
        send_raw(&spray, i, d, n);
    }
    netcore_host_stats s;
    uint64_t deadline = netcore_time_now_us() + SAFETY_US;
    for (int i = 0; i < MAX_ROUNDS && netcore_time_now_us() < deadline; i++) {
        tl_drain(client, 5);
        s = stats_of(client);
        if (s.guard_unexpected_connect_dropped >= 4)
            break;
    }
    cr_assert_eq(s.guard_unexpected_connect_dropped, 4);
    cr_assert_eq(s.slots_in_use, 0);
    cr_assert_eq(client->connects, 0);
    sprayer_close(&spray);
    tl_free_side(client);
}
