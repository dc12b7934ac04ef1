/* Simulated transport backend, level 1 (internal): the data protocol of one
 * peer's lanes in transport_sim_lane.c: message queues, the sent-datagram
 * ring, acknowledgements, resends, fragmentation and the RTT estimate. Knows
 * nothing of connections; calls only the network below (transport_sim_net.h). */
#ifndef NETCORE_TRANSPORT_SIM_LANE_H
#define NETCORE_TRANSPORT_SIM_LANE_H

#include "transport/transport_sim_net.h"

/* Allocates the slot's lane tables on its first use (kept for later
 * connections). Errors: NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result nci_sim_peer_prepare(nci_sim_host *host, nci_sim_peer *peer);
/* Frees every queued message and assembly and clears the connection state;
 * keeps the tables. The slot is FREE afterwards. */
void nci_sim_peer_clear(nci_sim_host *host, nci_sim_peer *peer);
/* Frees the recycled message blocks (host destruction). */
void nci_sim_message_pool_release(nci_sim_host *host);
/* Frees the tables too (host destruction). */
void nci_sim_peer_release(nci_sim_host *host, nci_sim_peer *peer);
/* Queues a message (copied). Errors: NETCORE_ERR_INVALID_ARGUMENT (lane),
 * NETCORE_ERR_TOO_LARGE, NETCORE_ERR_FULL, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result nci_sim_lane_send(nci_sim_host *host, nci_sim_peer *peer, uint8_t lane,
                                 const void *data, size_t size_bytes);
/* Applies an ack field from the remote: releases acknowledged chunks,
 * samples the RTT, resends what the gap shows lost. */
void nci_sim_process_ack(nci_sim_host *host, nci_sim_peer *peer, uint16_t ack, uint32_t ack_bits,
                         uint64_t now_us);
/* Sends an ack-only datagram now. */
void nci_sim_send_ack(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot, uint64_t now_us);
/* Sends what is due to one peer: resends, new messages, pings, acks. */
void nci_sim_flush_peer(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot);
/* True when nothing reliable is queued or unacknowledged. */
bool nci_sim_peer_drained(const nci_sim_host *host, const nci_sim_peer *peer);
/* Feeds one round-trip sample (microseconds) into the smoothed estimate. */
void nci_sim_rtt_sample(nci_sim_peer *peer, double sample_us);
/* Retransmission timeout from the RTT estimate, in microseconds. */
uint64_t nci_sim_rto_us(const nci_sim_peer *peer);

#endif /* NETCORE_TRANSPORT_SIM_LANE_H */
