/* UDP impairment relay (internal): the engine of netcore-linkproxy and of the
 * ENet backend's link conditioner.
 *
 * Clients send to `listen`; each distinct client address gets a session with
 * its own upstream socket, so the forward target sees one source address per
 * client. Datagrams client -> target pass the upstream link, target -> client
 * the downstream link. Non-blocking; driven by nci_relay_update(now). */
#ifndef NETCORE_RELAY_H
#define NETCORE_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "netcore/transport.h"

typedef struct nci_relay nci_relay;

typedef struct nci_relay_config {
    netcore_allocator allocator;
    netcore_log log;
    netcore_address listen; /* port 0: ephemeral, read back with nci_relay_listen_address */
    netcore_address forward;
    /* Local address upstream sockets bind to (port 0 always); family NONE = any IPv4. */
    netcore_address upstream_bind;
    netcore_link_profile upstream;   /* client -> forward */
    netcore_link_profile downstream; /* forward -> client */
    uint64_t seed;
    uint32_t max_sessions;            /* default 256 */
    uint32_t session_idle_timeout_ms; /* default 60000: a silent session is closed */
    uint32_t max_datagram_bytes;      /* default 4096 */
    uint32_t max_queued;              /* per direction, default 65536 */
} nci_relay_config;

typedef struct nci_relay_stats {
    uint32_t sessions_active;
    uint64_t sessions_opened;
    uint64_t sessions_refused; /* max_sessions reached */
    uint64_t sessions_expired;
    netcore_conditioner_stats upstream;
    netcore_conditioner_stats downstream;
} nci_relay_stats;

void nci_relay_config_default(nci_relay_config *config);
/* Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_SOCKET, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result nci_relay_create(const nci_relay_config *config, nci_relay **out_relay);
void nci_relay_destroy(nci_relay *relay);

netcore_result nci_relay_listen_address(const nci_relay *relay, netcore_address *out_address);

/* Receives everything pending on every socket, passes it through the links
 * and sends whatever is due at now_us. Never blocks. */
netcore_result nci_relay_update(nci_relay *relay, uint64_t now_us);

/* Blocks until a socket is readable, the next datagram is due, or timeout_ms
 * passes, whichever comes first. */
void nci_relay_wait(nci_relay *relay, uint64_t now_us, uint32_t timeout_ms);

void nci_relay_set_profiles(nci_relay *relay, const netcore_link_profile *upstream,
                            const netcore_link_profile *downstream);

/* Maps the source address the forward target sees (a session's upstream
 * socket) back to the client's real address. NETCORE_ERR_NOT_FOUND if unknown. */
netcore_result nci_relay_origin(const nci_relay *relay, const netcore_address *upstream_address,
                                netcore_address *out_client_address);

void nci_relay_stats_get(const nci_relay *relay, nci_relay_stats *out_stats);

#endif /* NETCORE_RELAY_H */
