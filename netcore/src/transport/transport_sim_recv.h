/* Simulated transport backend, level 2 (internal): the receive path in
 * transport_sim_recv.c: a DATA datagram's chunks (parsed as hostile) into
 * assemblies and RECEIVE events. Calls the lanes (acks) and the network. */
#ifndef NETCORE_TRANSPORT_SIM_RECV_H
#define NETCORE_TRANSPORT_SIM_RECV_H

#include "transport/transport_sim_lane.h"

/* Parses the part of a DATA datagram after the common header (hostile input).
 * Returns false when it was malformed (nothing applied). */
bool nci_sim_receive_data(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot,
                          const uint8_t *body, size_t body_bytes);
/* Queues an event for the next complete reliable message of the peer.
 * false when there is none. */
bool nci_sim_take_ready(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot);
/* Abandons incomplete unreliable messages older than the assembly timeout. */
void nci_sim_expire_assemblies(nci_sim_host *host, nci_sim_peer *peer);

#endif /* NETCORE_TRANSPORT_SIM_RECV_H */
