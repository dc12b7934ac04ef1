/* Sealing where only real sockets can tell: a token bound to the player's
 * IP is refused from another loopback address (127.0.0.2) over ENet, and the
 * player itself then connects sealed. Every other sealing rule (altered
 * bytes on each channel kind, a datagram twice, wrong keys, counter
 * exhaustion, the off switch, admission without keys, a corrupting link) is
 * part of the transport contract (transport_contract_seal.c, both
 * backends). Every loop is bounded; nothing asserts on timing. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

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
TestSuite(transport_seal_enet, .init = init_netcore, .fini = fini_netcore, .timeout = 60);

static const uint8_t lobby_key[NETCORE_TOKEN_KEY_BYTES] = {7, 7, 7, 1, 2, 3};

static bool client_settled(tl_side *client, tl_side *server, void *ctx)
{
    (void)server;
    (void)ctx;
    return client->connects > 0 || client->disconnects > 0;
}

static netcore_result admit_via_validator(void *user, netcore_peer_id peer,
                                          const netcore_address *from, const void *token,
                                          size_t token_size_bytes, netcore_admission_grant *grant)
{
    netcore_token_validator *const *validator = user;
    return netcore_token_admission(*validator, peer, from, token, token_size_bytes, grant);
}

Test(transport_seal_enet, a_token_bound_to_one_ip_is_refused_from_another)
{
    tl_side *server = tl_new_side(), *thief = tl_new_side(), *owner = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    /* The validator needs the server's port, known once the host exists. */
    netcore_token_validator *validator = NULL;
    scfg.admission = admit_via_validator;
    scfg.admission_user = &validator;
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address to = tl_address_of(server);
    netcore_token_validator_config vc;
    netcore_token_validator_config_default(&vc);
    memcpy(vc.key, lobby_key, sizeof lobby_key);
    vc.server_address = to;
    cr_assert_eq(netcore_token_validator_create(&vc, &validator), NETCORE_OK);

    /* The lobby saw its player at 127.0.0.1. */
    netcore_token_params params;
    memset(&params, 0, sizeof params);
    params.client_id = 1;
    params.match_id = 2;
    params.server_address = to;
    params.create_time_s = (uint64_t)time(NULL);
    params.lifetime_s = 30;
    cr_assert_eq(netcore_session_keys_generate(&params.session_keys), NETCORE_OK);
    netcore_address player_ip = netcore_address_ipv4(127, 0, 0, 1, 0);
    uint8_t token[NETCORE_TOKEN_BYTES];
    cr_assert_eq(netcore_token_create_for_client(lobby_key, &params, &player_ip, token),
                 NETCORE_OK);
    netcore_connect_options options;
    memset(&options, 0, sizeof options);
    options.token = token;
    options.token_size_bytes = sizeof token;
    options.session_keys = &params.session_keys;

    /* Someone else, holding token and keys, presents them from 127.0.0.2. */
    tl_client_config(&ccfg);
    ccfg.bind_address = netcore_address_ipv4(127, 0, 0, 2, 0);
    cr_assert_eq(netcore_host_create(&ccfg, &thief->host), NETCORE_OK);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(thief->host, &to, &options, &id), NETCORE_OK);
    cr_assert(tl_run_until(thief, server, client_settled, NULL));
    cr_assert_eq(thief->connects, 0);
    cr_assert_eq(thief->reason, NETCORE_DISCONNECT_REJECTED);
    cr_assert_eq(thief->code, NETCORE_ERR_ADDRESS);
    netcore_host_stats hs;
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.token_address_rejected, 1);
    cr_assert_eq(hs.admission_rejected, 1);
    cr_assert_eq(server->connects, 0);

    /* The player itself, from its own IP: the token was not spent. */
    tl_client_config(&ccfg);
    cr_assert_eq(netcore_host_create(&ccfg, &owner->host), NETCORE_OK);
    cr_assert_eq(netcore_host_connect(owner->host, &to, &options, &id), NETCORE_OK);
    cr_assert(tl_run_until(owner, server, tl_both_connected, NULL));
    netcore_peer_stats ps;
    cr_assert_eq(netcore_host_get_peer_stats(owner->host, id, &ps), NETCORE_OK);
    cr_assert(ps.sealed);
    uint8_t hello[64];
    tl_fill_payload(hello, 11, sizeof hello);
    cr_assert_eq(netcore_host_send(owner->host, id, 3, hello, sizeof hello), NETCORE_OK);
    uint32_t one = 1;
    cr_assert(tl_run_until(owner, server, tl_b_received_count, &one));
    cr_assert_eq(server->rx[0].seq, 11);
    cr_assert_eq(netcore_host_get_stats(server->host, &hs), NETCORE_OK);
    cr_assert_eq(hs.token_address_rejected, 1);
    cr_assert_eq(hs.peers_sealed, 1);
    cr_assert_eq(hs.crypto_auth_rejected, 0);

    tl_free_side(owner);
    tl_free_side(thief);
    tl_free_side(server);
    netcore_token_validator_destroy(validator);
}
