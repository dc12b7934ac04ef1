/* The transport contract, continued: netcore_host_max_unfragmented_bytes()
 * is exact on every backend. A message of exactly that size leaves the
 * sender as one datagram and one byte more is split, sealed or not, on
 * every delivery mode the figure is tight for. Fragmentation is read from
 * the sender's datagrams_sent around one send and one flush on a link with
 * nothing else in flight. Built into the transport_contract programs. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "netcore/transport.h"
#include "transport_contract.h"

#define CHANNELS 4u
/* Channels 2 and 3 are unreliable: a sealed message there carries the
 * explicit seal counter, so the figure is tight there. */
#define FIRST_UNRELIABLE_CHANNEL 2u
/* What each backend puts around a message in its datagram (the simulated
 * protocol, ENet: whether on loopback or on the virtual network). */
#define BACKEND_HEADER_BYTES (NETCORE_TC_BACKEND_SIM ? 25u : 28u)

static tc_net net;

static void open_net(void)
{
    tc_open(&net, 11);
}
static void close_net(void)
{
    tc_close(&net);
}
TestSuite(transport_contract_mtu, .init = open_net, .fini = close_net, .timeout = 120);

/* Datagrams the client's host sends for one message of size bytes on
 * channel, after the link went quiet; the server must then receive it. */
static uint64_t datagrams_for(tc_pair *p, uint8_t channel, size_t size)
{
    tc_run_ms(&net, p->client, p->server, 100);
    uint8_t *msg = malloc(size);
    cr_assert_not_null(msg);
    tl_fill_payload(msg, p->server->rx_total, size);
    uint64_t before = tc_host_stats(p->client).datagrams_sent;
    cr_assert_eq(netcore_host_send(p->client->host, p->client->last_connect, channel, msg, size),
                 NETCORE_OK);
    cr_assert_eq(netcore_host_flush(p->client->host), NETCORE_OK);
    uint64_t sent = tc_host_stats(p->client).datagrams_sent - before;
    free(msg);
    uint32_t want = p->server->rx_total + 1;
    cr_assert(tc_run_until(&net, p->client, p->server, tl_b_received_count, &want, 10000),
              "%s: the message of %zu bytes on channel %u arrives", tc_backend_name(), size,
              channel);
    return sent;
}

static void pair_with_quiet_pings(tc_pair *p)
{
    *p = tc_new_pair(&net);
    /* Keep-alives must not share the measured flush. */
    p->ccfg.ping_interval_ms = 60000;
    p->scfg.ping_interval_ms = 60000;
    p->ccfg.channel_count = p->scfg.channel_count = CHANNELS;
}

static void check_limit(tc_pair *p, uint8_t first_tight_channel)
{
    uint32_t limit = netcore_host_max_unfragmented_bytes(p->client->host);
    cr_assert_eq(limit, netcore_host_max_unfragmented_bytes(p->server->host),
                 "both ends use the same MTU and channels");
    for (uint8_t ch = 0; ch < CHANNELS; ch++)
        cr_assert_eq(datagrams_for(p, ch, limit), 1, "%s: %u bytes on channel %u: one datagram",
                     tc_backend_name(), limit, ch);
    for (uint8_t ch = first_tight_channel; ch < CHANNELS; ch++)
        cr_assert_geq(datagrams_for(p, ch, (size_t)limit + 1), 2,
                      "%s: %u bytes on channel %u are fragmented", tc_backend_name(), limit + 1,
                      ch);
}

Test(transport_contract_mtu, a_sealed_message_of_the_limit_is_one_datagram_and_one_more_is_not)
{
    tc_pair p;
    pair_with_quiet_pings(&p);
    tc_pair_connect(&net, &p, true);
    cr_assert_eq(netcore_host_max_unfragmented_bytes(p.client->host),
                 p.ccfg.mtu_bytes - BACKEND_HEADER_BYTES - NETCORE_SEAL_MAX_OVERHEAD_BYTES);
    check_limit(&p, FIRST_UNRELIABLE_CHANNEL);
    tc_free_pair(&p);
}

Test(transport_contract_mtu, an_unsealed_message_of_the_limit_is_one_datagram_on_every_channel)
{
    tc_pair p;
    pair_with_quiet_pings(&p);
    p.ccfg.seal_disabled = p.scfg.seal_disabled = true;
    p.ccfg.mtu_bytes = p.scfg.mtu_bytes = 1200;
    tc_pair_connect(&net, &p, false);
    cr_assert_eq(netcore_host_max_unfragmented_bytes(p.client->host), 1200u - BACKEND_HEADER_BYTES);
    check_limit(&p, 0);
    tc_free_pair(&p);
}

Test(transport_contract_mtu, the_limit_is_the_tighter_seal_overhead_and_never_above_max_message)
{
    netcore_host_config cfg;
    tc_client_config(&net, &cfg);
    cfg.channel_count = 1; /* reliable-ordered only: the seal needs no counter bytes */
    netcore_host *host = NULL;
    cr_assert_eq(netcore_host_create(&cfg, &host), NETCORE_OK);
    uint32_t ordered_only = netcore_host_max_unfragmented_bytes(host);
    netcore_host_destroy(host);
    cfg.channel_count = 3;
    cr_assert_eq(netcore_host_create(&cfg, &host), NETCORE_OK);
    cr_assert_eq(netcore_host_max_unfragmented_bytes(host),
                 ordered_only - (NETCORE_SEAL_MAX_OVERHEAD_BYTES - 16u));
    netcore_host_destroy(host);
    cfg.max_message_bytes = 100;
    cr_assert_eq(netcore_host_create(&cfg, &host), NETCORE_OK);
    cr_assert_eq(netcore_host_max_unfragmented_bytes(host), 100);
    netcore_host_destroy(host);
    cr_assert_eq(netcore_host_max_unfragmented_bytes(NULL), 0);
}
