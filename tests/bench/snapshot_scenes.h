/*
 * The "arena" and "scale" scenes of snapshot_bench (snapshot_scenes.c): many
 * clients of one snapshot server, each with a distance interest filter. The
 * cube scene stays in snapshot_bench.c.
 */
#ifndef NETCORE_SNAPSHOT_SCENES_H
#define NETCORE_SNAPSHOT_SCENES_H

#include <stdbool.h>
#include <stdint.h>

#include "netcore/transport.h"

#include "bench_util.h"

/* 12 B of ENet header (protocol header + unreliable command), sealing and
 * 28 B of UDP/IPv4 header per snapshot datagram. Sealing adds
 * NETCORE_SEAL_MAX_OVERHEAD_BYTES (19: 3 counter bytes and a 16-byte tag) to
 * every snapshot: they travel on an unreliable lane, and every admitted
 * connection is sealed. */
#define SNAPSHOT_SEAL_OVERHEAD_BYTES NETCORE_SEAL_MAX_OVERHEAD_BYTES
#define SNAPSHOT_WIRE_OVERHEAD_BYTES (12 + SNAPSHOT_SEAL_OVERHEAD_BYTES + 28)

/* kbps on the wire of one client receiving payload_bytes per snapshot at rate_hz. */
double snapshot_wire_kbps(double payload_bytes, double rate_hz);

/* Writes the "arena" member (64 players, 200 projectiles, 20 Hz and 60 Hz);
 * quick shrinks the scene for the smoke run. runs >= 1. Exits the process
 * with status 1 if a client rejects a snapshot. */
void arena_report(bench_json *json, bool quick, uint32_t runs);

/* Writes the "scale" member: server time per tick for 8 .. 256 clients of
 * 1024 entities; quick shrinks it. runs >= 1. */
void scale_report(bench_json *json, bool quick, uint32_t runs);

#endif /* NETCORE_SNAPSHOT_SCENES_H */
