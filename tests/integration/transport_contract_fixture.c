/* The transport contract's backend fixture; see transport_contract.h. */
#include <criterion/criterion.h>
#include <string.h>

#include "transport/seal.h"
#include "transport/transport_host.h"
#include "transport_contract.h"
#if NETCORE_TC_VNET
#include "enet_vnet.h"
#endif

/* Real time: ENet on loopback. Virtual time: the simulation or the vnet. */
#define TC_REAL_TIME (!NETCORE_TC_BACKEND_SIM && !NETCORE_TC_VNET)

/* Virtual time advances in steps this long: short against every latency a
 * test configures, long enough that a minute is 12,000 steps. */
#define SIM_STEP_US 5000u
/* Over ENet one round polls every side; the first live side waits up to
 * this long for its socket, so an idle loop does not spin. */
#define ENET_WAIT_MS 1u
#define MAX_ROUNDS 400000

const char *tc_backend_name(void)
{
    return NETCORE_TC_BACKEND_SIM ? "sim" : NETCORE_TC_VNET ? "enet_vnet" : "enet";
}

bool tc_virtual_time(void)
{
    return !TC_REAL_TIME;
}

void tc_open(tc_net *net, uint64_t seed)
{
    memset(net, 0, sizeof *net);
#if NETCORE_TC_BACKEND_SIM
    netcore_sim_config sc;
    netcore_sim_config_default(&sc);
    sc.seed = seed;
    cr_assert_eq(netcore_sim_create(&sc, &net->sim), NETCORE_OK);
#else
    cr_assert_eq(netcore_init(), NETCORE_OK);
#if NETCORE_TC_VNET
    /* The clock starts away from 0 so that ENet's time arithmetic never
     * meets its own zero. */
    cr_assert(enet_vnet_begin(seed, 1000, NULL));
#else
    (void)seed;
#endif
#endif
}

void tc_close(tc_net *net)
{
#if NETCORE_TC_BACKEND_SIM
    netcore_sim_destroy(net->sim);
    net->sim = NULL;
#else
    (void)net;
#if NETCORE_TC_VNET
    enet_vnet_end();
#endif
    netcore_shutdown();
#endif
}

void tc_server_config(const tc_net *net, netcore_host_config *cfg)
{
    tl_server_config(cfg);
    cfg->max_peers = 64;
    cfg->sim = net->sim;
}

void tc_client_config(const tc_net *net, netcore_host_config *cfg)
{
    tl_client_config(cfg);
    cfg->sim = net->sim;
}

void tc_host_create(const tc_net *net, const netcore_host_config *cfg, tl_side *side)
{
    (void)net;
#if NETCORE_TC_VNET
    netcore_host_config c = *cfg;
    c.conditioner.enabled = false;
    nci_clock clock = {enet_vnet_clock_us, NULL};
    cr_assert_eq(nci_host_create_clocked(&c, &clock, &side->host), NETCORE_OK);
    if (cfg->conditioner.enabled)
        cr_assert_eq(
            tc_set_conditioner(side, &cfg->conditioner.inbound, &cfg->conditioner.outbound),
            NETCORE_OK);
#else
    cr_assert_eq(netcore_host_create(cfg, &side->host), NETCORE_OK);
#endif
}

netcore_result tc_set_conditioner(tl_side *side, const netcore_link_profile *inbound,
                                  const netcore_link_profile *outbound)
{
#if NETCORE_TC_VNET
    netcore_address local;
    netcore_result r = netcore_host_address(side->host, &local);
    if (r != NETCORE_OK)
        return r;
    return enet_vnet_set_profiles(&local, inbound, outbound) ? NETCORE_OK : NETCORE_ERR_STATE;
#else
    return netcore_host_set_conditioner(side->host, inbound, outbound);
#endif
}

netcore_address tc_address_of(const tl_side *server)
{
    netcore_address to = tl_address_of(server);
#if !NETCORE_TC_BACKEND_SIM
    to.bytes[0] = 127; /* a server bound to any interface is reached on loopback */
    to.bytes[3] = 1;
#endif
    return to;
}

/* One round: the clock goes on (virtual time) and every side is drained. */
static void poll_round(tc_net *net, tl_side *const *sides, size_t count)
{
#if NETCORE_TC_BACKEND_SIM || NETCORE_TC_VNET
#if NETCORE_TC_BACKEND_SIM
    netcore_sim_advance(net->sim, SIM_STEP_US);
#else
    (void)net;
    enet_vnet_advance_ms(SIM_STEP_US / 1000u);
#endif
    for (size_t i = 0; i < count; i++)
        if (sides[i] && sides[i]->host)
            tl_drain(sides[i], 0);
#else
    (void)net;
    uint32_t wait_ms = ENET_WAIT_MS;
    for (size_t i = 0; i < count; i++)
        if (sides[i] && sides[i]->host) {
            tl_drain(sides[i], wait_ms);
            wait_ms = 0;
        }
#endif
}

static uint64_t clock_us(const tc_net *net)
{
#if NETCORE_TC_BACKEND_SIM
    return netcore_sim_now_us(net->sim);
#elif NETCORE_TC_VNET
    (void)net;
    return enet_vnet_clock_us(NULL);
#else
    (void)net;
    return netcore_time_now_us();
#endif
}

bool tc_run_all_until(tc_net *net, tl_side *const *sides, size_t count, tc_all_done_fn done,
                      void *ctx, uint32_t max_ms)
{
    if (TC_REAL_TIME && max_ms > TL_MAX_WAIT_MS)
        max_ms = TL_MAX_WAIT_MS;
    uint64_t end = clock_us(net) + (uint64_t)max_ms * 1000u;
    for (int i = 0; i < MAX_ROUNDS && clock_us(net) < end; i++) {
        if (done && done(sides, count, ctx))
            return true;
        poll_round(net, sides, count);
    }
    return done && done(sides, count, ctx);
}

typedef struct pair_done {
    tl_done_fn done;
    void *ctx;
} pair_done;

static bool pair_condition(tl_side *const *sides, size_t count, void *ctx)
{
    (void)count;
    const pair_done *p = ctx;
    return p->done(sides[0], sides[1], p->ctx);
}

bool tc_run_until(tc_net *net, tl_side *a, tl_side *b, tl_done_fn done, void *ctx, uint32_t max_ms)
{
    tl_side *sides[2] = {a, b};
    pair_done p = {done, ctx};
    return tc_run_all_until(net, sides, 2, pair_condition, &p, max_ms);
}

void tc_run_ms(tc_net *net, tl_side *a, tl_side *b, uint32_t ms)
{
    tl_side *sides[2] = {a, b};
    /* No condition: runs the whole duration (bounded by the round count). */
    tc_run_all_until(net, sides, 2, NULL, NULL, ms);
}

netcore_peer_id tc_connect_start(tl_side *client, const tl_side *server,
                                 const netcore_connect_options *options)
{
    netcore_address to = tc_address_of(server);
    netcore_peer_id id = NETCORE_PEER_NONE;
    cr_assert_eq(netcore_host_connect(client->host, &to, options, &id), NETCORE_OK);
    cr_assert_neq(id, NETCORE_PEER_NONE);
    return id;
}

netcore_peer_id tc_connect_pair(tc_net *net, tl_side *server, const netcore_host_config *scfg,
                                tl_side *client, const netcore_host_config *ccfg, bool sealed)
{
    netcore_host_config sc = *scfg;
    if (sealed) {
        sc.admission = tl_admit_sealed;
        sc.admission_user = NULL;
    }
    tc_host_create(net, &sc, server);
    tc_host_create(net, ccfg, client);
    netcore_session_keys keys = tl_session_keys();
    netcore_connect_options options = tl_sealed_options(&keys);
    netcore_peer_id id = tc_connect_start(client, server, sealed ? &options : NULL);
    cr_assert(tc_run_until(net, client, server, tl_both_connected, NULL, 60000),
              "%s: connect did not complete", tc_backend_name());
    cr_assert_eq(client->last_connect, id);
    if (sealed) {
        netcore_peer_stats ps;
        cr_assert_eq(netcore_host_get_peer_stats(client->host, id, &ps), NETCORE_OK);
        cr_assert(ps.sealed);
        cr_assert_eq(netcore_host_get_peer_stats(server->host, server->last_connect, &ps),
                     NETCORE_OK);
        cr_assert(ps.sealed);
    }
    return id;
}

bool tc_settled(tl_side *a, tl_side *b, void *ctx)
{
    (void)b;
    (void)ctx;
    return a->connects > 0 || a->disconnects > 0;
}

tc_pair tc_new_pair(const tc_net *net)
{
    tc_pair p;
    memset(&p, 0, sizeof p);
    p.server = tl_new_side();
    p.client = tl_new_side();
    tc_server_config(net, &p.scfg);
    tc_client_config(net, &p.ccfg);
    return p;
}

void tc_free_pair(tc_pair *p)
{
    tl_free_side(p->client);
    tl_free_side(p->server);
    p->client = p->server = NULL;
}

netcore_peer_id tc_pair_connect(tc_net *net, tc_pair *p, bool sealed)
{
    return tc_connect_pair(net, p->server, &p->scfg, p->client, &p->ccfg, sealed);
}

netcore_host_stats tc_host_stats(const tl_side *s)
{
    netcore_host_stats st;
    cr_assert_eq(netcore_host_get_stats(s->host, &st), NETCORE_OK);
#if NETCORE_TC_VNET
    netcore_address local;
    cr_assert_eq(netcore_host_address(s->host, &local), NETCORE_OK);
    cr_assert(enet_vnet_link_stats(&local, &st.conditioner_inbound, &st.conditioner_outbound));
#endif
    return st;
}

netcore_link_profile tc_link_profile(uint32_t latency_ms, uint32_t jitter_ms, float loss_pct,
                                     float duplicate_pct, float reorder_pct)
{
    netcore_link_profile p;
    memset(&p, 0, sizeof p);
    p.latency_ms = latency_ms;
    p.jitter_ms = jitter_ms;
    p.loss_pct = loss_pct;
    p.duplicate_pct = duplicate_pct;
    p.reorder_pct = reorder_pct;
    return p;
}

void tc_impair(netcore_host_config *cfg, netcore_link_profile profile, uint64_t seed)
{
    cfg->conditioner.enabled = true;
    cfg->conditioner.seed = seed;
    cfg->conditioner.inbound = profile;
    cfg->conditioner.outbound = profile;
}

/* --- Tampering: a copy of the host's backend operations with send wrapped --- */

static nci_backend_ops tamper_ops;
static const nci_backend_ops *tamper_inner;
static tc_tamper *tamper_state;

static netcore_result tamper_send(void *backend, uint32_t slot, uint8_t lane, const void *data,
                                  size_t size_bytes)
{
    static uint8_t altered[8192];
    tc_tamper *t = tamper_state;
    /* Lane 0 carries the control protocol; only user lanes are tampered. */
    if (lane != 0 && t->armed && size_bytes > 0 && size_bytes <= sizeof altered) {
        t->armed = false;
        memcpy(altered, data, size_bytes);
        altered[size_bytes - 1 - t->offset_from_end % size_bytes] ^= 0x10;
        return tamper_inner->send(backend, slot, lane, altered, size_bytes);
    }
    if (lane != 0 && t->repeat) {
        t->repeat = false;
        netcore_result r = tamper_inner->send(backend, slot, lane, data, size_bytes);
        if (r != NETCORE_OK)
            return r;
    }
    return tamper_inner->send(backend, slot, lane, data, size_bytes);
}

void tc_tamper_install(netcore_host *host, tc_tamper *state)
{
    tamper_inner = host->ops;
    tamper_ops = *host->ops;
    tamper_ops.send = tamper_send;
    tamper_state = state;
    host->ops = &tamper_ops;
}

netcore_result tc_seal_jump(netcore_host *host, netcore_peer_id peer, uint64_t value)
{
    return nci_host_seal_jump(host, peer, value);
}

uint64_t tc_seal_counter_limit(void)
{
    return NCI_SEAL_COUNTER_LIMIT;
}
