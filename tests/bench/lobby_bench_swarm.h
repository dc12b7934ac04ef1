/* lobby_bench's two sides: the lobby server in a child process (its memory
 * and CPU read from /proc) and the swarm of raw non-blocking clients in the
 * parent, one epoll loop, plaintext or TLS (the library's internal TLS layer
 * over each socket). See lobby_bench.c for what is measured. */
#ifndef LOBBY_BENCH_SWARM_H
#define LOBBY_BENCH_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lobby/lobby_internal.h"
#include "netcore/lobby.h"

#define FANOUT_CLIENTS 64
#define RX_BYTES 8192
#define PHASE_LIMIT_NS (120ull * 1000000000ull)
#define CHAT_LIMIT_NS (10ull * 1000000000ull)

typedef struct server_report {
    netcore_lobby_server_stats stats;
    uint64_t heap_live_bytes;
} server_report;

typedef struct server_proc {
    pid_t pid;
    int control_fd; /* write end: 'S' asks for a report, EOF ends the child */
    int reply_fd;   /* read end: the address, then reports */
    netcore_address address;
} server_proc;

/* Forks the lobby server on 127.0.0.1 (ephemeral port); with cert_file and
 * key_file (both or neither) it speaks TLS. */
bool server_start(server_proc *p, uint32_t max_connections, const char *cert_file,
                  const char *key_file);
/* A node of a lobby cluster (lobby_bench_cluster.c): the server joins the
 * Redis at redis_address as node "bench-<node_index>" and tells its address
 * once it has reached Redis; the children started before (others) have
 * their pipe ends closed in the new child. */
typedef struct server_cluster {
    const char *redis_address;
    int node_index;
    const server_proc *others;
    int other_count;
} server_cluster;
bool server_start_node(server_proc *p, uint32_t max_connections, const char *cert_file,
                       const char *key_file, const server_cluster *cluster);
bool server_report_get(const server_proc *p, server_report *out);
void server_stop(server_proc *p);
/* VmRSS of a process in bytes; NaN if unreadable. */
double process_rss_bytes(pid_t pid);
/* CPU time of a (one-thread) process in nanoseconds; 0 if unreadable. */
uint64_t process_cpu_ns(pid_t pid);

typedef enum bot_state {
    BOT_IDLE = 0,
    BOT_CONNECTING,
    BOT_HANDSHAKE, /* TLS only */
    BOT_HELLO_SENT,
    BOT_CREATE_SENT,
    BOT_JOIN_SENT,
    BOT_READY, /* in a room (or welcomed, for the lobby-scope fan-out) */
    BOT_FAILED
} bot_state;

typedef struct bot {
    int fd;
    uint8_t state;
    bool creator;    /* makes a room instead of joining one */
    bool lobby_only; /* stops at WELCOME */
    uint32_t room_index;
    uint32_t chats; /* CHAT_MESSAGEs read */
    uint64_t start_ns;
    nci_lobby_tls *tls; /* NULL on a plaintext run */
    bool resume;        /* connects with RECONNECT(token) instead of HELLO */
    uint8_t token[NETCORE_LOBBY_RECONNECT_TOKEN_BYTES]; /* of its last WELCOME (keep_tokens) */
    size_t rx_len;
    uint8_t rx[RX_BYTES];
} bot;

typedef struct swarm {
    bot *bots;
    uint32_t count;
    int epoll_fd;
    netcore_address server;
    const netcore_lobby_tls *tls; /* trust of the TLS runs (pinned), NULL: plaintext */
    uint32_t *room_ids;           /* per room index, learned from the creators' ROOM_STATE */
    uint32_t rooms;
    uint32_t in_flight;
    uint32_t done; /* bots that reached BOT_READY */
    uint32_t failed;
    uint64_t handshakes; /* TLS handshakes completed */
    double *join_ms;     /* per completed joiner */
    uint32_t join_count;
    uint64_t chat_wait_ns; /* when the chat being timed was sent */
    double *chat_ms;
    size_t chat_samples;
    size_t chat_capacity;
    uint32_t chat_sender;
    uint32_t fan_members[FANOUT_CLIENTS]; /* the members of the fan-out being timed */
    uint32_t fan_base[FANOUT_CLIENTS];    /* their CHAT_MESSAGE counts before it */
    uint32_t fan_count;
    nci_lobby_msg msg; /* scratch for encoding and the few decodes */
    /* Cluster runs (lobby_bench_cluster.c): bot i connects to
     * servers[node_of[i]], keeps its reconnect token, and only chats read
     * on another node than the sender's are sampled. NULL otherwise. */
    const netcore_address *servers;
    const uint8_t *node_of;
    bool keep_tokens;
} swarm;

/* tls (borrowed) makes every bot speak TLS. */
bool swarm_init(swarm *w, uint32_t count, const netcore_address *server,
                const netcore_lobby_tls *tls);
void swarm_free(swarm *w);
/* One epoll round: waits up to timeout_ms, handles what is ready. */
void swarm_poll(swarm *w, int timeout_ms);
/* Starts bots [first, first + count) with at most window in flight and waits
 * until each is ready or failed. false on the time limit. */
bool swarm_run(swarm *w, uint32_t first, uint32_t count, uint32_t window);
/* Prepares the timing of up to `messages` chats among members[]. */
bool fanout_begin(swarm *w, const uint32_t *members, uint32_t member_count, uint32_t messages);
/* Chat k (k = 0, 1, ... after fanout_begin) from members[k % count] with the
 * given scope, then waits until every member has read it, recording each
 * other member's receive delay; false when it could not be sent or the wait
 * ran out. */
bool fanout_one(swarm *w, uint8_t scope, uint32_t k);
/* fanout_begin, then `messages` fanout_one. Returns samples recorded. */
size_t measure_fanout(swarm *w, const uint32_t *members, uint32_t member_count, uint8_t scope,
                      uint32_t messages);

#endif
