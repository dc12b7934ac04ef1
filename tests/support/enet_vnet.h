/* A datagram-level simulated network under real ENet, for deterministic tests.
 *
 * Debian's libenet.so reaches its socket and clock functions (enet_socket_*,
 * enet_time_get, enet_host_random_seed) through its PLT, so a program that
 * defines them itself takes those calls: this file does, for the test programs
 * that link it. While a vnet is active, sockets ENet creates are virtual:
 * datagrams go into per-direction link conditioners (the library's own,
 * seeded) and come out at virtual times; enet_time_get() reads the vnet's
 * clock, which only enet_vnet_advance_ms() moves. With no vnet active every
 * call goes to the real ENet function, so other tests in the same program are
 * unaffected.
 *
 * What this cannot do (and why it stays a test seam): a program linking ENet
 * statically, a shared library that does not export these names first in the
 * lookup order, and Windows DLL imports all bind ENet's internal calls at link
 * time, so there is nothing to interpose. See docs/transport-protocol.md.
 *
 * One vnet at a time per process, single-threaded, like the tests using it. */
#ifndef NETCORE_TEST_ENET_VNET_H
#define NETCORE_TEST_ENET_VNET_H

#include <stdbool.h>
#include <stdint.h>

#include "netcore/transport.h"

typedef struct enet_vnet_stats {
    uint64_t datagrams_sent;
    uint64_t datagrams_delivered;
    uint64_t datagrams_dropped; /* by the conditioner or for an unbound destination */
    uint64_t bytes_sent;
} enet_vnet_stats;

/* Activates a virtual network whose clock starts at start_ms and whose every
 * link (one per ordered pair of sockets) impairs datagrams as profile says,
 * seeded from seed. Returns false if one is active already or memory ran out. */
bool enet_vnet_begin(uint64_t seed, uint32_t start_ms, const netcore_link_profile *profile);

/* Deactivates the network and frees it; sockets still open become invalid. */
void enet_vnet_end(void);

/* Moves the virtual clock forward; datagrams due by then become receivable. */
void enet_vnet_advance_ms(uint32_t ms);

uint32_t enet_vnet_now_ms(void);

/* The virtual clock in microseconds, shaped for nci_clock (user unused), so
 * that a netcore_host's ENet backend runs on the same time as ENet. */
uint64_t enet_vnet_clock_us(void *user);

/* Replaces the profiles of the links of the socket bound to socket_address
 * (a host's local address): inbound impairs what arrives at it, outbound
 * what it sends (NULL leaves one alone). Each link keeps its own seeded
 * stream, derived from the vnet's seed and the socket's creation order.
 * False when no vnet is active or no socket has that address. */
bool enet_vnet_set_profiles(const netcore_address *socket_address,
                            const netcore_link_profile *inbound,
                            const netcore_link_profile *outbound);

/* The counters of that socket's inbound and outbound links. False as above. */
bool enet_vnet_link_stats(const netcore_address *socket_address,
                          netcore_conditioner_stats *out_inbound,
                          netcore_conditioner_stats *out_outbound);
void enet_vnet_get_stats(enet_vnet_stats *out_stats);

#endif /* NETCORE_TEST_ENET_VNET_H */
