/*
 * server_load: one game server under N real clients over UDP on loopback.
 *
 * The driver (server_load.c) forks one server process and several bot
 * processes per client count and coordinates them through a small shared
 * memory block (sl_shared): the server publishes its port and how many
 * players it admitted, the driver publishes the join storm's start and the
 * measurement window, every process writes its results back before it exits.
 * CLOCK_MONOTONIC is system-wide, so every process reads the same times.
 *
 * Two kinds of server and bot run the same timeline:
 *   - netcore (server_load_server.c, server_load_bots.c): the whole pipeline,
 *     ENet transport with the datagram guard and token admission, input
 *     buffers, snapshot replication with interest, lag-compensation history,
 *     60 Hz ticks and 30 Hz snapshots; bots decode and acknowledge snapshots
 *     and send redundant inputs;
 *   - raw ENet: a plain ENet host exchanging unreliable packets of the sizes
 *     the netcore run measured, at the same rates, as the baseline.
 */
#ifndef NETCORE_SERVER_LOAD_H
#define NETCORE_SERVER_LOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "netcore/schema.h"
#include "netcore/token.h"

#define SL_MAX_CLIENTS 1024u
#define SL_MAX_PROCS 16u
#define SL_TICK_HZ 60u
#define SL_SNAPSHOT_EVERY_TICKS 2u /* 30 Hz snapshots */
#define SL_INPUT_BYTES 8u
#define SL_CHANNEL 3u
#define SL_SOURCE_ADDRESSES 64u /* default: bots send from 127.0.0.2 .. 127.0.0.65 */
#define SL_MAX_SOURCE_ADDRESSES 250u
/* Mean area per player: with the 50 m interest radius about 31 other
 * players are in view whatever N is, so a client's cost stays comparable. */
#define SL_AREA_PER_PLAYER_M2 250.0f
#define SL_VIEW_RADIUS_M 50.0f
#define SL_MAX_VIEW_ENTITIES 128u
#define SL_PLAYER_SPEED_M_PER_S 6.0f

/* Player fields, in the order sl_schema_create adds them. */
enum {
    SL_FIELD_X = 0,
    SL_FIELD_Y,
    SL_FIELD_YAW,
    SL_FIELD_HEALTH,
    SL_FIELD_OWNER,
    SL_FIELD_LAST_INPUT
};

typedef enum sl_kind { SL_KIND_NETCORE = 0, SL_KIND_RAW_ENET } sl_kind;

typedef struct sl_server_result {
    bool ok;
    double tick_ms_p50; /* server thread CPU time per 60 Hz tick period */
    double tick_ms_p99;
    double tick_ms_max;
    double step_ms_p99;    /* wall time of the tick's own step (inputs, world, snapshots) */
    double cpu_pct;        /* process CPU over the window, % of one core */
    double rss_bytes;      /* at the end of the window */
    double rss_base_bytes; /* before anything was created */
    double out_kbps;       /* UDP payload bytes sent over the window */
    double in_kbps;
    uint64_t ticks;      /* ticks in the window */
    uint64_t ticks_late; /* ticks started more than one period late */
    uint32_t connected_at_end;
    uint64_t snapshots; /* snapshots (or raw packets) sent in the window */
    uint64_t snapshot_payload_bytes;
    uint64_t inputs; /* input packets received in the window */
    uint64_t input_payload_bytes;
    uint64_t admission_rejected;
    uint64_t admission_timed_out;
    uint64_t guard_dropped;         /* every guard_*_dropped counter together */
    uint64_t guard_per_ip_dropped;  /* of which per-IP limits: rate, peers, handshakes */
    uint64_t guard_unknown_dropped; /* of which datagrams naming no slot of their sender */
    uint64_t lagcomp_queries;
    uint64_t entities_deferred;
} sl_server_result;

typedef struct sl_bot_result {
    bool ok;
    uint32_t bots;
    uint32_t connected_at_end;
    uint64_t connect_attempts;
    uint64_t refused; /* attempts that ended without a connection */
    uint64_t decode_errors;
    uint64_t snapshots_expected; /* sequence advance over the window, bots connected throughout */
    uint64_t snapshots_arrived;
    double cpu_s;
} sl_bot_result;

typedef struct sl_shared {
    _Atomic uint32_t server_port; /* 0 until the server listens */
    _Atomic uint32_t admitted;    /* players admitted and connected now */
    _Atomic uint64_t last_admit_us;
    _Atomic uint64_t storm_start_us;
    _Atomic uint64_t measure_start_us; /* 0 until the driver sets the window */
    _Atomic uint64_t measure_end_us;
    _Atomic uint32_t stop;
    sl_kind kind;
    uint32_t clients;
    uint32_t procs;
    uint32_t raw_snapshot_bytes; /* raw ENet: payload sizes to mimic */
    uint32_t raw_input_bytes;
    uint64_t bot_poll_us;      /* how often a bot services its host */
    uint32_t source_addresses; /* bot i sends from 127.0.0.(2 + i % source_addresses) */
    uint8_t key[NETCORE_TOKEN_KEY_BYTES];
    sl_server_result server;
    sl_bot_result bots[SL_MAX_PROCS];
} sl_shared;

/* Monotonic microseconds (CLOCK_MONOTONIC, shared by every process). */
uint64_t sl_now_us(void);
/* Sleeps until the monotonic clock reaches deadline_us. */
void sl_sleep_until_us(uint64_t deadline_us);
/* Resident set size of this process in bytes (/proc/self/status), 0 if unknown. */
uint64_t sl_rss_bytes(void);
/* User plus system CPU time of this process, microseconds. */
uint64_t sl_process_cpu_us(void);
/* Side of the square arena for n players, metres. */
float sl_arena_m(uint32_t clients);
/* Builds the player schema (one type, fields as above) for an arena of the
 * given side. *out_schema is the caller's. Errors: the schema calls'. */
netcore_result sl_schema_create(float arena_m, netcore_schema **out_schema);

/* Runs the server of shared->kind until shared->stop; fills shared->server.
 * Returns the process exit status. */
int sl_server_main(sl_shared *shared);
/* Runs bot process `proc` (bots proc, proc + procs, ... of shared->clients)
 * until shared->stop; fills shared->bots[proc]. Returns the exit status. */
int sl_bots_main(sl_shared *shared, uint32_t proc);

#endif /* NETCORE_SERVER_LOAD_H */
