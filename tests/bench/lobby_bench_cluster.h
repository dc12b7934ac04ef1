/* lobby_bench's cluster part (lobby_bench_cluster.c): three lobby nodes
 * sharing a redis-server, with the swarm of lobby_bench_swarm.c spread over
 * them. */
#ifndef LOBBY_BENCH_CLUSTER_H
#define LOBBY_BENCH_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "lobby_bench_swarm.h"

typedef struct cluster_result {
    double joins_per_s;
    double join_ms_p50;
    double join_ms_p99;
    uint32_t room_members;
    uint32_t cross_node_samples; /* chat deliveries to another node than the sender's */
    double fanout_ms_p50;        /* of those deliveries */
    double fanout_ms_p99;
    uint32_t dead_node_players; /* connected to the node killed */
    uint32_t resumed;           /* of them, back in their room through another node */
    double resume_s;            /* from the SIGKILL to the last of them back */
    uint32_t failures;          /* clients that failed, not counting the kill itself */
} cluster_result;

/* True when redis-server can be started here. */
bool cluster_bench_available(void);
/* One run with clients in all; false when a phase did not complete. */
bool cluster_bench_run(uint32_t clients, uint32_t messages, cluster_result *out);

#endif
