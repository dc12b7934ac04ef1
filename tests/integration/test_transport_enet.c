/* What only the ENet backend has: real sockets on loopback (an ephemeral
 * port read back, a port bound twice). What every backend promises is in
 * transport_contract.c, run over ENet as test_transport_contract_enet;
 * admission and the control protocol against raw ENet peers are in
 * test_transport_enet_admission.c, the long harsh run in
 * test_transport_enet_harsh.c. */
#include <criterion/criterion.h>

#include "netcore/transport.h"
#include "transport_loop.h"

static void init_netcore(void) { cr_assert_eq(netcore_init(), NETCORE_OK); }
static void fini_netcore(void) { netcore_shutdown(); }
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
