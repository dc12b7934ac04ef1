/* What only the ENet backend has: real sockets on loopback (an ephemeral
 * port read back, a port bound twice) and a poll that really waits. What every backend promises is in
 * transport_contract.c, run over ENet as test_transport_contract_enet;
 * admission and the control protocol against raw ENet peers are in
 * test_transport_enet_admission.c, the long harsh run in
 * test_transport_enet_harsh.c. */
#include <criterion/criterion.h>

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
TestSuite(transport_enet, .init = init_netcore, .fini = fini_netcore, .timeout = 60);

Test(transport_enet, ephemeral_port_is_read_back_and_cannot_be_bound_twice)
{
    tl_side *server = tl_new_side();
    netcore_host_config scfg;
    tl_server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &server->host), NETCORE_OK);
    netcore_address a = tl_address_of(server);
    cr_assert_eq(a.family, NETCORE_ADDRESS_IPV4);
    cr_assert_neq(a.port, 0);
    cr_assert_eq(a.bytes[0], 127);
    netcore_host *second = NULL;
    scfg.bind_address = a;
    cr_assert_eq(netcore_host_create(&scfg, &second), NETCORE_ERR_SOCKET);
    cr_assert_null(second);
    tl_free_side(server);
}

/* Only ENet waits in netcore_host_poll (the simulated network ignores the
 * timeout): one long poll must end at the connect deadline with the event,
 * not sleep through it. */
Test(transport_enet, a_long_poll_returns_the_connect_failure)
{
    tl_side *gone = tl_new_side(), *client = tl_new_side();
    netcore_host_config scfg, ccfg;
    tl_server_config(&scfg);
    cr_assert_eq(netcore_host_create(&scfg, &gone->host), NETCORE_OK);
    netcore_address to = tl_address_of(gone);
    netcore_host_destroy(gone->host);
    gone->host = NULL;
    tl_client_config(&ccfg);
    ccfg.connect_timeout_ms = 300;
    cr_assert_eq(netcore_host_create(&ccfg, &client->host), NETCORE_OK);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, NULL, &id), NETCORE_OK);
    netcore_event ev;
    cr_assert_eq(netcore_host_poll(client->host, 15000, &ev), NETCORE_OK);
    cr_assert_eq(ev.type, NETCORE_EVENT_DISCONNECT);
    cr_assert_eq(ev.peer, id);
    cr_assert_eq(ev.reason, NETCORE_DISCONNECT_CONNECT_FAILED);
    cr_assert_eq(ev.code, NETCORE_ERR_TIMEOUT);
    tl_free_side(client);
    tl_free_side(gone);
}
