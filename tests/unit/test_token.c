/* Connect tokens: round trip, every rejection, replay cache bound, tampering,
 * connect proofs, key helpers. */
#include <criterion/criterion.h>
#include <string.h>

#include "netcore/token.h"
#include "netcore/transport.h"

static const uint8_t test_key[NETCORE_TOKEN_KEY_BYTES] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static netcore_address server_address(void)
{
    return netcore_address_ipv4(10, 0, 0, 7, 7778);
}

static netcore_token_params default_params(void)
{
    netcore_token_params p;
    memset(&p, 0, sizeof p);
    p.client_id = 0x1122334455667788ull;
    p.match_id = 42;
    p.server_address = server_address();
    p.create_time_s = 1000000;
    p.lifetime_s = 30;
    for (int i = 0; i < NETCORE_SESSION_KEY_BYTES; i++) {
        p.session_keys.client_to_server[i] = (uint8_t)(0x40 + i);
        p.session_keys.server_to_client[i] = (uint8_t)(0x80 + i);
    }
    return p;
}

static void make_token(const netcore_token_params *p, uint8_t *token)
{
    cr_assert_eq(netcore_token_create(test_key, p, token), NETCORE_OK);
}

static netcore_token_validator *make_validator(uint32_t capacity)
{
    netcore_token_validator_config cfg;
    netcore_token_validator_config_default(&cfg);
    memcpy(cfg.key, test_key, sizeof cfg.key);
    cfg.server_address = server_address();
    cfg.replay_capacity = capacity;
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&cfg, &v), NETCORE_OK);
    return v;
}

Test(token, round_trip_carries_every_field)
{
    netcore_token_params p = default_params();
    const char user[] = "team=blue";
    p.user_data = user;
    p.user_data_size_bytes = sizeof user;
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);

    netcore_token_info info;
    cr_assert_eq(netcore_token_open(test_key, token, sizeof token, &info), NETCORE_OK);
    cr_assert_eq(info.client_id, p.client_id);
    cr_assert_eq(info.match_id, 42);
    cr_assert(netcore_address_equal(&info.server_address, &p.server_address));
    cr_assert_eq(info.create_time_s, 1000000);
    cr_assert_eq(info.expire_time_s, 1000030);
    cr_assert_eq(info.user_data_size_bytes, sizeof user);
    cr_assert_str_eq((const char *)info.user_data, user);
    cr_assert_eq(memcmp(info.nonce, token + 1, NETCORE_TOKEN_NONCE_BYTES), 0);
}

Test(token, ipv6_server_address_round_trips)
{
    netcore_token_params p = default_params();
    cr_assert_eq(netcore_address_parse("[2001:db8::5]:9000", 0, &p.server_address), NETCORE_OK);
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);
    netcore_token_info info;
    cr_assert_eq(netcore_token_open(test_key, token, sizeof token, &info), NETCORE_OK);
    cr_assert(netcore_address_equal(&info.server_address, &p.server_address));
}

Test(token, two_tokens_differ_in_nonce_and_ciphertext)
{
    netcore_token_params p = default_params();
    uint8_t a[NETCORE_TOKEN_BYTES], b[NETCORE_TOKEN_BYTES];
    make_token(&p, a);
    make_token(&p, b);
    cr_assert_neq(memcmp(a + 1, b + 1, NETCORE_TOKEN_NONCE_BYTES), 0);
    cr_assert_neq(memcmp(a, b, sizeof a), 0);
}

Test(token, create_rejects_bad_params)
{
    uint8_t token[NETCORE_TOKEN_BYTES];
    netcore_token_params p = default_params();
    p.lifetime_s = 0;
    cr_assert_eq(netcore_token_create(test_key, &p, token), NETCORE_ERR_INVALID_ARGUMENT);
    p = default_params();
    p.user_data_size_bytes = NETCORE_TOKEN_USER_DATA_MAX + 1;
    p.user_data = token;
    cr_assert_eq(netcore_token_create(test_key, &p, token), NETCORE_ERR_INVALID_ARGUMENT);
    p = default_params();
    p.server_address.family = NETCORE_ADDRESS_NONE;
    cr_assert_eq(netcore_token_create(test_key, &p, token), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_token_create(NULL, &p, token), NETCORE_ERR_INVALID_ARGUMENT);
}

Test(token, validator_accepts_once_then_reports_replay)
{
    netcore_token_validator *v = make_validator(16);
    netcore_token_params p = default_params();
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);
    netcore_token_info info;
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000010, &info), NETCORE_OK);
    cr_assert_eq(info.client_id, p.client_id);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000011, NULL),
                 NETCORE_ERR_REPLAYED);
    netcore_token_validator_stats stats;
    cr_assert_eq(netcore_token_validator_get_stats(v, &stats), NETCORE_OK);
    cr_assert_eq(stats.accepted, 1);
    cr_assert_eq(stats.rejected_replayed, 1);
    cr_assert_eq(stats.replay_entries, 1);
    netcore_token_validator_destroy(v);
}

Test(token, validator_rejects_expired_and_future_tokens)
{
    netcore_token_validator *v = make_validator(16);
    netcore_token_params p = default_params();
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);
    /* expire 1000030 plus the default 5 s skew */
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000035, NULL),
                 NETCORE_ERR_EXPIRED);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 999990, NULL), NETCORE_ERR_EXPIRED);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000034, NULL), NETCORE_OK);
    netcore_token_validator_stats stats;
    netcore_token_validator_get_stats(v, &stats);
    cr_assert_eq(stats.rejected_expired, 2);
    netcore_token_validator_destroy(v);
}

Test(token, validator_rejects_other_server_address)
{
    netcore_token_validator *v = make_validator(16);
    netcore_token_params p = default_params();
    p.server_address.port = 7779;
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000001, NULL),
                 NETCORE_ERR_MISMATCH);
    netcore_token_validator_destroy(v);
}

Test(token, validator_rejects_other_key_as_forged)
{
    netcore_token_validator *v = make_validator(16);
    netcore_token_params p = default_params();
    uint8_t other_key[NETCORE_TOKEN_KEY_BYTES];
    cr_assert_eq(netcore_token_key_generate(other_key), NETCORE_OK);
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create(other_key, &p, token), NETCORE_OK);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000001, NULL), NETCORE_ERR_AUTH);
    netcore_token_validator_destroy(v);
}

Test(token, validator_rejects_malformed_sizes_and_version)
{
    netcore_token_validator *v = make_validator(16);
    uint8_t token[NETCORE_TOKEN_BYTES + 1];
    netcore_token_params p = default_params();
    make_token(&p, token);
    cr_assert_eq(netcore_token_validate(v, token, 0, 1000001, NULL), NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_token_validate(v, NULL, 0, 1000001, NULL), NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_token_validate(v, token, NETCORE_TOKEN_BYTES - 1, 1000001, NULL),
                 NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_token_validate(v, token, NETCORE_TOKEN_BYTES + 1, 1000001, NULL),
                 NETCORE_ERR_MALFORMED);
    token[0] = NETCORE_TOKEN_VERSION + 1;
    cr_assert_eq(netcore_token_validate(v, token, NETCORE_TOKEN_BYTES, 1000001, NULL),
                 NETCORE_ERR_MALFORMED);
    netcore_token_validator_stats stats;
    netcore_token_validator_get_stats(v, &stats);
    cr_assert_eq(stats.rejected_malformed, 5);
    cr_assert_eq(stats.accepted, 0);
    netcore_token_validator_destroy(v);
}

Test(token, tampering_any_bit_of_any_byte_is_rejected)
{
    netcore_token_validator *v = make_validator(16);
    netcore_token_params p = default_params();
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);
    for (size_t i = 0; i < NETCORE_TOKEN_BYTES; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t copy[NETCORE_TOKEN_BYTES];
            memcpy(copy, token, sizeof copy);
            copy[i] ^= (uint8_t)(1u << bit);
            netcore_result r = netcore_token_validate(v, copy, sizeof copy, 1000001, NULL);
            /* byte 0 is the version: changing it is malformed, everything else forged */
            cr_assert_eq(r, i == 0 ? NETCORE_ERR_MALFORMED : NETCORE_ERR_AUTH,
                         "byte %zu bit %d: %s", i, bit, netcore_result_str(r));
        }
    }
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000001, NULL), NETCORE_OK);
    netcore_token_validator_destroy(v);
}

Test(token, replay_cache_is_bounded_and_frees_expired_entries)
{
    const uint32_t capacity = 8;
    netcore_token_validator *v = make_validator(capacity);
    netcore_token_params p = default_params();
    uint8_t token[NETCORE_TOKEN_BYTES];
    for (uint32_t i = 0; i < capacity; i++) {
        make_token(&p, token);
        cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000001, NULL), NETCORE_OK);
    }
    /* Full of live tokens: fail closed. */
    make_token(&p, token);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000002, NULL), NETCORE_ERR_FULL);
    netcore_token_validator_stats stats;
    netcore_token_validator_get_stats(v, &stats);
    cr_assert_eq(stats.replay_entries, capacity);
    cr_assert_eq(stats.rejected_full, 1);

    /* Once the first batch has expired (1000030 + 5 s skew) their entries are
     * reclaimed and fresh tokens are accepted again. */
    p.create_time_s = 1000040;
    for (uint32_t i = 0; i < capacity; i++) {
        make_token(&p, token);
        cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000041, NULL), NETCORE_OK);
    }
    netcore_token_validator_get_stats(v, &stats);
    cr_assert_eq(stats.replay_entries, capacity);
    cr_assert_eq(stats.accepted, 2 * capacity);
    /* The last accepted token is still remembered after the rebuild. */
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000042, NULL),
                 NETCORE_ERR_REPLAYED);
    netcore_token_validator_destroy(v);
}

Test(token, many_tokens_through_a_large_cache_are_all_remembered)
{
    netcore_token_validator *v = make_validator(512);
    netcore_token_params p = default_params();
    static uint8_t tokens[300][NETCORE_TOKEN_BYTES];
    for (int i = 0; i < 300; i++) {
        make_token(&p, tokens[i]);
        cr_assert_eq(netcore_token_validate(v, tokens[i], NETCORE_TOKEN_BYTES, 1000001, NULL),
                     NETCORE_OK);
    }
    for (int i = 0; i < 300; i++)
        cr_assert_eq(netcore_token_validate(v, tokens[i], NETCORE_TOKEN_BYTES, 1000002, NULL),
                     NETCORE_ERR_REPLAYED);
    netcore_token_validator_destroy(v);
}

static uint64_t fixed_clock(void *user)
{
    return *(const uint64_t *)user;
}

Test(token, admission_helper_uses_configured_clock)
{
    uint64_t now_s = 1000005;
    netcore_token_validator_config cfg;
    netcore_token_validator_config_default(&cfg);
    memcpy(cfg.key, test_key, sizeof cfg.key);
    cfg.server_address = server_address();
    cfg.clock = fixed_clock;
    cfg.clock_user = &now_s;
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&cfg, &v), NETCORE_OK);

    netcore_admission_fn admission = netcore_token_admission;
    netcore_token_params p = default_params();
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);
    netcore_address from = netcore_address_ipv4(127, 0, 0, 1, 5000);
    netcore_admission_grant grant;
    memset(&grant, 0, sizeof grant);
    cr_assert_eq(admission(v, 1, &from, token, sizeof token, &grant), NETCORE_OK);
    cr_assert(grant.has_session_keys);
    cr_assert_eq(memcmp(&grant.session_keys, &p.session_keys, sizeof grant.session_keys), 0);
    cr_assert_not(grant.has_bound_address);
    cr_assert_eq(admission(v, 2, &from, token, sizeof token, &grant), NETCORE_ERR_REPLAYED);
    make_token(&p, token);
    now_s = 2000000;
    cr_assert_eq(admission(v, 3, &from, token, sizeof token, &grant), NETCORE_ERR_EXPIRED);
    cr_assert_eq(admission(v, 4, &from, NULL, 0, &grant), NETCORE_ERR_MALFORMED);
    cr_assert_eq(admission(NULL, 4, &from, token, sizeof token, &grant),
                 NETCORE_ERR_INVALID_ARGUMENT);
    netcore_token_validator_destroy(v);
}

Test(token, validator_create_rejects_bad_config)
{
    netcore_token_validator_config cfg;
    netcore_token_validator_config_default(&cfg);
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&cfg, &v), NETCORE_ERR_INVALID_ARGUMENT);
    cfg.server_address = server_address();
    cfg.replay_capacity = 0;
    cr_assert_eq(netcore_token_validator_create(&cfg, &v), NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_null(v);
}

Test(token, connect_proof_binds_token_and_client_ip)
{
    netcore_token_params p = default_params();
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);
    netcore_address client = netcore_address_ipv4(192, 0, 2, 10, 40000);
    uint32_t proof = netcore_token_connect_proof(test_key, token, sizeof token, &client);
    cr_assert_neq(proof, 0);

    /* Same IP, other port (NAT): still valid. */
    netcore_address other_port = client;
    other_port.port = 50000;
    cr_assert_eq(
        netcore_token_check_connect_proof(test_key, token, sizeof token, &other_port, proof),
        NETCORE_OK);
    netcore_address other_ip = netcore_address_ipv4(192, 0, 2, 11, 40000);
    cr_assert_eq(netcore_token_check_connect_proof(test_key, token, sizeof token, &other_ip, proof),
                 NETCORE_ERR_AUTH);
    cr_assert_eq(
        netcore_token_check_connect_proof(test_key, token, sizeof token, &client, proof ^ 1),
        NETCORE_ERR_AUTH);
    cr_assert_eq(netcore_token_check_connect_proof(test_key, token, sizeof token, &client, 0),
                 NETCORE_ERR_AUTH);
    uint8_t other_key[NETCORE_TOKEN_KEY_BYTES] = {0};
    cr_assert_eq(netcore_token_check_connect_proof(other_key, token, sizeof token, &client, proof),
                 NETCORE_ERR_AUTH);
    token[100] ^= 1;
    cr_assert_eq(netcore_token_check_connect_proof(test_key, token, sizeof token, &client, proof),
                 NETCORE_ERR_AUTH);
    netcore_address none;
    memset(&none, 0, sizeof none);
    cr_assert_eq(netcore_token_connect_proof(test_key, token, sizeof token, &none), 0);
}

Test(token, key_hex_parsing)
{
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    const char *hex = "  000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n";
    cr_assert_eq(netcore_token_key_from_hex(hex, key), NETCORE_OK);
    for (int i = 0; i < NETCORE_TOKEN_KEY_BYTES; i++)
        cr_assert_eq(key[i], i);
    cr_assert_eq(netcore_token_key_from_hex("0011", key), NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_token_key_from_hex(
                     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", key),
                 NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_token_key_from_hex(
                     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00", key),
                 NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_token_key_from_hex(NULL, key), NETCORE_ERR_INVALID_ARGUMENT);
}

Test(token, generated_keys_differ)
{
    uint8_t a[NETCORE_TOKEN_KEY_BYTES], b[NETCORE_TOKEN_KEY_BYTES];
    cr_assert_eq(netcore_token_key_generate(a), NETCORE_OK);
    cr_assert_eq(netcore_token_key_generate(b), NETCORE_OK);
    cr_assert_neq(memcmp(a, b, sizeof a), 0);
}

/* The validator plugged into a simulated game server as its admission callback. */
typedef struct host_events {
    int connects;
    int disconnects;
    netcore_disconnect_reason reason;
    uint32_t code;
} host_events;

static void poll_all(netcore_host *host, host_events *events)
{
    netcore_event ev;
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(netcore_host_poll(host, 0, &ev), NETCORE_OK);
        if (ev.type == NETCORE_EVENT_NONE)
            return;
        if (ev.type == NETCORE_EVENT_CONNECT)
            events->connects++;
        if (ev.type == NETCORE_EVENT_DISCONNECT) {
            events->disconnects++;
            events->reason = ev.reason;
            events->code = ev.code;
        }
    }
}

Test(token, admission_helper_admits_a_token_holder_on_a_simulated_host)
{
    netcore_sim_config simc;
    netcore_sim_config_default(&simc);
    simc.seed = 3;
    netcore_sim *sim = NULL;
    cr_assert_eq(netcore_sim_create(&simc, &sim), NETCORE_OK);

    uint64_t now_s = 1000001;
    netcore_token_validator_config vcfg;
    netcore_token_validator_config_default(&vcfg);
    memcpy(vcfg.key, test_key, sizeof vcfg.key);
    vcfg.server_address = server_address();
    vcfg.clock = fixed_clock;
    vcfg.clock_user = &now_s;
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&vcfg, &v), NETCORE_OK);

    netcore_host_config sc;
    netcore_host_config_default(&sc);
    sc.is_server = true;
    sc.sim = sim;
    sc.bind_address = server_address();
    sc.admission = netcore_token_admission;
    sc.admission_user = v;
    netcore_host *server = NULL;
    cr_assert_eq(netcore_host_create(&sc, &server), NETCORE_OK);
    netcore_address to;
    cr_assert_eq(netcore_host_address(server, &to), NETCORE_OK);

    netcore_token_params p = default_params();
    uint8_t token[NETCORE_TOKEN_BYTES];
    make_token(&p, token);
    netcore_connect_options options;
    memset(&options, 0, sizeof options);
    options.token = token;
    options.token_size_bytes = sizeof token;
    options.session_keys = &p.session_keys;

    /* Three clients: the token holder, a replay of the same token, no token. */
    netcore_host *clients[3] = {NULL, NULL, NULL};
    host_events events[3];
    memset(events, 0, sizeof events);
    for (int i = 0; i < 3; i++) {
        netcore_host_config cc;
        netcore_host_config_default(&cc);
        cc.sim = sim;
        cr_assert_eq(netcore_host_create(&cc, &clients[i]), NETCORE_OK);
        netcore_peer_id peer;
        cr_assert_eq(netcore_host_connect(clients[i], &to, i < 2 ? &options : NULL, &peer),
                     NETCORE_OK);
        /* The first is admitted before the replay is presented. */
        host_events server_events = {0, 0, 0, 0};
        for (int step = 0; step < 300; step++) {
            netcore_sim_advance(sim, 10000);
            poll_all(server, &server_events);
            for (int k = 0; k <= i; k++)
                poll_all(clients[k], &events[k]);
        }
    }
    cr_assert_eq(events[0].connects, 1);
    cr_assert_eq(events[0].disconnects, 0);
    cr_assert_eq(events[1].connects, 0);
    cr_assert_eq(events[1].reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(events[1].code, NETCORE_ERR_REPLAYED);
    cr_assert_eq(events[2].connects, 0);
    cr_assert_eq(events[2].reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(events[2].code, NETCORE_ERR_MALFORMED);

    for (int i = 0; i < 3; i++)
        netcore_host_destroy(clients[i]);
    netcore_host_destroy(server);
    netcore_sim_destroy(sim);
    netcore_token_validator_destroy(v);
}

static netcore_result only_match_42(void *user, const netcore_token_info *info)
{
    (*(int *)user)++;
    return info->match_id == 42 ? NETCORE_OK : NETCORE_ERR_NOT_FOUND;
}

Test(token, accept_callback_applies_the_game_servers_policy)
{
    int calls = 0;
    netcore_token_validator_config cfg;
    netcore_token_validator_config_default(&cfg);
    memcpy(cfg.key, test_key, sizeof cfg.key);
    cfg.server_address = server_address();
    cfg.accept = only_match_42;
    cfg.accept_user = &calls;
    netcore_token_validator *v = NULL;
    cr_assert_eq(netcore_token_validator_create(&cfg, &v), NETCORE_OK);
    netcore_token_params p = default_params();
    uint8_t token[NETCORE_TOKEN_BYTES];
    p.match_id = 43;
    make_token(&p, token);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000001, NULL),
                 NETCORE_ERR_NOT_FOUND);
    /* Refused tokens are not recorded: the same token is judged again. */
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000001, NULL),
                 NETCORE_ERR_NOT_FOUND);
    p.match_id = 42;
    make_token(&p, token);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000001, NULL), NETCORE_OK);
    cr_assert_eq(netcore_token_validate(v, token, sizeof token, 1000001, NULL),
                 NETCORE_ERR_REPLAYED);
    cr_assert_eq(calls, 3, "the callback only sees tokens that passed every other check");
    netcore_token_validator_stats stats;
    netcore_token_validator_get_stats(v, &stats);
    cr_assert_eq(stats.rejected_policy, 2);
    cr_assert_eq(stats.accepted, 1);
    netcore_token_validator_destroy(v);
}

Test(token, carries_session_keys_and_bound_ip_in_the_encrypted_body)
{
    netcore_token_params p = default_params();
    netcore_address client = netcore_address_ipv4(192, 168, 1, 20, 40000);
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create_for_client(test_key, &p, &client, token), NETCORE_OK);
    /* Neither key appears in clear anywhere in the token. */
    for (size_t at = 0; at + 8 <= sizeof token; at++) {
        cr_assert_neq(memcmp(token + at, p.session_keys.client_to_server, 8), 0);
        cr_assert_neq(memcmp(token + at, p.session_keys.server_to_client, 8), 0);
    }
    netcore_token_info info;
    cr_assert_eq(netcore_token_open(test_key, token, sizeof token, &info), NETCORE_OK);
    cr_assert_eq(memcmp(&info.session_keys, &p.session_keys, sizeof info.session_keys), 0);
    cr_assert_eq(info.bound_address.family, NETCORE_ADDRESS_IPV4);
    cr_assert_eq(memcmp(info.bound_address.bytes, client.bytes, 4), 0);
    netcore_admission_grant grant;
    cr_assert_eq(netcore_token_grant(&info, &grant), NETCORE_OK);
    cr_assert(grant.has_bound_address);
    cr_assert(grant.has_session_keys);
}

Test(token, create_refuses_all_zero_session_keys)
{
    netcore_token_params p = default_params();
    memset(&p.session_keys, 0, sizeof p.session_keys);
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create(test_key, &p, token), NETCORE_ERR_INVALID_ARGUMENT);
    p = default_params();
    memset(p.session_keys.server_to_client, 0, NETCORE_SESSION_KEY_BYTES);
    cr_assert_eq(netcore_token_create(test_key, &p, token), NETCORE_ERR_INVALID_ARGUMENT);
}

Test(token, bound_token_from_another_ip_is_refused_without_being_spent)
{
    netcore_token_validator *v = make_validator(16);
    netcore_token_params p = default_params();
    netcore_address client = netcore_address_ipv4(127, 0, 0, 1, 40000);
    netcore_address elsewhere = netcore_address_ipv4(127, 0, 0, 2, 40000);
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create_for_client(test_key, &p, &client, token), NETCORE_OK);
    cr_assert_eq(netcore_token_validate_from(v, token, sizeof token, &elsewhere, 1000001, NULL),
                 NETCORE_ERR_ADDRESS);
    /* Another port of the right IP (NAT) is fine, and the token was not spent. */
    netcore_address nat = netcore_address_ipv4(127, 0, 0, 1, 51000);
    cr_assert_eq(netcore_token_validate_from(v, token, sizeof token, &nat, 1000001, NULL),
                 NETCORE_OK);
    netcore_token_validator_stats st;
    cr_assert_eq(netcore_token_validator_get_stats(v, &st), NETCORE_OK);
    cr_assert_eq(st.rejected_address, 1);
    cr_assert_eq(st.accepted, 1);
    netcore_token_validator_destroy(v);
}

Test(token, session_keys_are_random_and_wiped)
{
    netcore_session_keys a, b;
    cr_assert_eq(netcore_session_keys_generate(&a), NETCORE_OK);
    cr_assert_eq(netcore_session_keys_generate(&b), NETCORE_OK);
    cr_assert_neq(memcmp(&a, &b, sizeof a), 0);
    cr_assert_neq(memcmp(a.client_to_server, a.server_to_client, NETCORE_SESSION_KEY_BYTES), 0);
    netcore_session_keys_wipe(&a);
    netcore_session_keys zero;
    memset(&zero, 0, sizeof zero);
    cr_assert_eq(memcmp(&a, &zero, sizeof a), 0);
    cr_assert_eq(netcore_session_keys_generate(NULL), NETCORE_ERR_INVALID_ARGUMENT);
}
