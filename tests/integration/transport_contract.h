/* The transport contract's backend fixture (tc_ = transport contract).
 *
 * transport_contract.c states, once, what every backend of netcore_host must
 * do; it is compiled three times:
 *   - NETCORE_TC_BACKEND_SIM 1: the simulated network, virtual time (minutes
 *     of traffic take milliseconds, nothing sleeps);
 *   - NETCORE_TC_BACKEND_SIM 0: ENet over loopback, real time (every wait is
 *     bounded in wall time and in iterations);
 *   - NETCORE_TC_BACKEND_SIM 0 and NETCORE_TC_VNET 1: real ENet over
 *     tests/support/enet_vnet (virtual sockets, virtual time, the library's
 *     seeded conditioner on every link), deterministic like the first.
 * The tests see only this fixture and the public API; the recording of
 * events is transport_loop.h's tl_side. Hosts are made with tc_host_create
 * and impaired with tc_impair / tc_set_conditioner, which over the virtual
 * network condition the host's virtual links instead of ENet's relays, and
 * tc_host_stats reports those links as the host's conditioner.
 *
 * Durations given to the fixture are milliseconds of the backend's clock:
 * virtual for the simulated network and the virtual network, wall time for
 * ENet on loopback. Failures are Criterion assertions, so these helpers run
 * inside tests only. */
#ifndef NETCORE_TESTS_TRANSPORT_CONTRACT_H
#define NETCORE_TESTS_TRANSPORT_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/transport.h"
#include "transport_loop.h"

#ifndef NETCORE_TC_BACKEND_SIM
#error "build with NETCORE_TC_BACKEND_SIM set to 1 (simulated network) or 0 (ENet)"
#endif
#ifndef NETCORE_TC_VNET
#define NETCORE_TC_VNET 0
#endif
#if NETCORE_TC_VNET && NETCORE_TC_BACKEND_SIM
#error "NETCORE_TC_VNET runs ENet: build it with NETCORE_TC_BACKEND_SIM 0"
#endif

/* One test's network: the simulation (NULL over ENet). */
typedef struct tc_net {
    netcore_sim *sim;
} tc_net;

/* Done-condition over any number of sides; ctx is the test's. */
typedef bool (*tc_all_done_fn)(tl_side *const *sides, size_t count, void *ctx);

/* The backend's name, for messages ("sim", "enet" or "enet_vnet"). */
const char *tc_backend_name(void);
/* True when durations are virtual (the simulated or the virtual network): a
 * test may then check that something did not happen before a deadline. */
bool tc_virtual_time(void);
/* Sets up the backend: a simulation seeded with seed, netcore_init for ENet
 * (the seed then only seeds conditioners through the configs), or both
 * netcore_init and a virtual network seeded with seed. */
void tc_open(tc_net *net, uint64_t seed);
/* Tears down what tc_open made; every host must be destroyed first. */
void tc_close(tc_net *net);
/* Defaults of a server (127.0.0.1, ephemeral port, 64 peers) and of a client
 * (4 peers) on the backend. The conditioner is off; a test that impairs
 * the link sets conditioner.enabled, which ENet needs and the simulated
 * network ignores. */
void tc_server_config(const tc_net *net, netcore_host_config *cfg);
void tc_client_config(const tc_net *net, netcore_host_config *cfg);
/* Creates side's host with cfg on the backend (asserted to succeed). Over
 * the virtual network the host runs on the virtual clock, and a conditioner
 * in cfg is applied to its virtual links (its seed is not used: the links
 * draw from the network's seed). */
void tc_host_create(const tc_net *net, const netcore_host_config *cfg, tl_side *side);
/* netcore_host_set_conditioner, or the profiles of the side's virtual links. */
netcore_result tc_set_conditioner(tl_side *side, const netcore_link_profile *inbound,
                                  const netcore_link_profile *outbound);
/* The address a client connects to for this side's (server) host. */
netcore_address tc_address_of(const tl_side *server);
/* Polls every side (NULL sides or sides without a host are skipped) and lets
 * the backend's clock go on, until done() or max_ms; returns done()'s last
 * answer. Over ENet the wait is also capped at TL_MAX_WAIT_MS. */
bool tc_run_all_until(tc_net *net, tl_side *const *sides, size_t count, tc_all_done_fn done,
                      void *ctx, uint32_t max_ms);
/* The same for two sides with transport_loop's conditions. */
bool tc_run_until(tc_net *net, tl_side *a, tl_side *b, tl_done_fn done, void *ctx, uint32_t max_ms);
/* Polls a and b for ms of the backend's clock. */
void tc_run_ms(tc_net *net, tl_side *a, tl_side *b, uint32_t ms);
/* Creates both hosts and connects the client; sealed: the server admits
 * TL_SEAL_TOKEN with tl_session_keys() (its admission is replaced) and the
 * client presents them, and both ends are checked sealed. Returns the
 * client's peer id for the server. */
netcore_peer_id tc_connect_pair(tc_net *net, tl_side *server, const netcore_host_config *scfg,
                                tl_side *client, const netcore_host_config *ccfg, bool sealed);
/* Starts a connection from client (host created) to server with options
 * (NULL: none) and returns the peer id; does not wait. */
netcore_peer_id tc_connect_start(tl_side *client, const tl_side *server,
                                 const netcore_connect_options *options);

/* Conditions. tc_settled: a has connected or been refused. */
bool tc_settled(tl_side *a, tl_side *b, void *ctx);

/* A server and a client side (heap) with the backend's default configs,
 * which a test may change before tc_pair_connect. */
typedef struct tc_pair {
    tl_side *server;
    tl_side *client;
    netcore_host_config scfg;
    netcore_host_config ccfg;
} tc_pair;

tc_pair tc_new_pair(const tc_net *net);
/* Destroys both hosts (if any) and frees both sides. */
void tc_free_pair(tc_pair *p);
/* tc_connect_pair with the pair's configs. */
netcore_peer_id tc_pair_connect(tc_net *net, tc_pair *p, bool sealed);
/* The side's host statistics (asserted to succeed). */
netcore_host_stats tc_host_stats(const tl_side *s);
/* A link profile; every field not named is zero. */
netcore_link_profile tc_link_profile(uint32_t latency_ms, uint32_t jitter_ms, float loss_pct,
                                     float duplicate_pct, float reorder_pct);
/* Enables cfg's conditioner with profile both ways and the given seed. */
void tc_impair(netcore_host_config *cfg, netcore_link_profile profile, uint64_t seed);

/* Tampering below the API: what the next message on a user lane that the
 * tampered host hands its backend becomes. The backend then carries it
 * as it would any message, so the receiver's checks are the backend's own. */
typedef struct tc_tamper {
    bool armed;             /* alter one byte of the next message ... */
    size_t offset_from_end; /* ... this one: size - 1 - (offset % size) */
    bool repeat;            /* hand the next message to the backend twice */
} tc_tamper;

/* Routes host's sends through *state (one tampered host per test; state
 * must outlive the host). */
void tc_tamper_install(netcore_host *host, tc_tamper *state);
/* Moves the seal counters of host's peer to value in both directions (a
 * test cannot send 2^63 messages). Returns the host's verdict. */
netcore_result tc_seal_jump(netcore_host *host, netcore_peer_id peer, uint64_t value);
/* The counter value at which a peer's session ends. */
uint64_t tc_seal_counter_limit(void);

#endif /* NETCORE_TESTS_TRANSPORT_CONTRACT_H */
