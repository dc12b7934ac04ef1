/* Simulated transport backend, level 4 (internal): transport_sim.c, the
 * backend operations (nci_backend_sim) on top of the connections, and the
 * hooks tests use. The levels below are listed in transport_sim_net.h. */
#ifndef NETCORE_TRANSPORT_SIM_INTERNAL_H
#define NETCORE_TRANSPORT_SIM_INTERNAL_H

#include "transport/transport_sim_conn.h"

/* ---- test hooks ---- */

/* Handles one datagram as if it had arrived from `from` now (no conditioner). */
void nci_sim_backend_inject(void *backend, const netcore_address *from, const void *data,
                            size_t size_bytes);
/* Copies the host's extra counters. */
void nci_sim_backend_counters(const void *backend, nci_sim_counters *out_counters);

#endif /* NETCORE_TRANSPORT_SIM_INTERNAL_H */
