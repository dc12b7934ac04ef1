/* Simulated transport backend, level 3 (internal): connections in
 * transport_sim_conn.c: the handshake, DISCONNECT and its ack, the dispatch
 * of every incoming datagram, per-peer timers and the work of one service
 * call. Calls the receive path, the lanes and the network below it. */
#ifndef NETCORE_TRANSPORT_SIM_CONN_H
#define NETCORE_TRANSPORT_SIM_CONN_H

#include "transport/transport_sim_recv.h"

#define NCI_SIM_CONNECT_RETRY_FIRST_US 200000u

/* Receives what is due, runs timers, then flushes every peer; stops early
 * as soon as an event is waiting. */
void nci_sim_host_work(nci_sim_host *host);
void nci_sim_send_connect(nci_sim_host *host, const nci_sim_peer *peer, uint32_t slot);
void nci_sim_send_disconnect(nci_sim_host *host, const nci_sim_peer *peer, uint32_t slot,
                             uint32_t data32);
/* Frees the slot and queues its DISCONNECT event. */
void nci_sim_close_with_event(nci_sim_host *host, nci_sim_peer *peer, uint32_t slot,
                              uint32_t data32);

#endif /* NETCORE_TRANSPORT_SIM_CONN_H */
