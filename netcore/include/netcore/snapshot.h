/** @file
 * netcore snapshot replication: a server-authoritative world of typed entities
 * (see schema.h), encoded per client as a delta against the newest snapshot
 * that client acknowledged, and decoded on the client into the same state.
 *
 * This module only turns state into bytes and bytes into state; it never
 * touches the network. A game (or an integration layer):
 *   server: creates entities and sets fields as its simulation runs; whenever it
 *           wants to send (any rate, independent of the tick rate) it calls
 *           netcore_snapshot_server_write() for a client and sends the bytes
 *           unreliably; acks coming back go to netcore_snapshot_server_read_ack()
 *           (or netcore_snapshot_server_ack() with a number carried some other way).
 *   client: passes every snapshot datagram to netcore_snapshot_client_read(),
 *           sends netcore_snapshot_client_write_ack() back (after each read, or
 *           with its next input packet), and reads the decoded world.
 *
 * Values are quantized when set: the server stores exactly what clients will
 * decode, so the getters on both ends return bit-identical values.
 *
 * Entity ids: a netcore_entity_id is (generation << 16) | slot index. A slot
 * reused after a destroy gets the next generation, so a stale id fails with
 * NETCORE_ERR_NOT_FOUND instead of reaching the new entity, and a client sees a
 * re-created entity as a new one (the old one disappears, the new one appears
 * with its own id), never as an update of the old one. Generations wrap after
 * 65535 reuses of one slot. 0 is never a valid id.
 *
 * Bandwidth: each snapshot fits a per-client byte budget. Entities whose
 * state equals the baseline cost nothing; the others are sent by priority (an
 * accumulator that grows by the interest weight every snapshot an entity waits),
 * so every relevant entity is sent within a bounded number of snapshots.
 *
 * Memory is allocated at create only (no allocation per snapshot). Roughly:
 * server: max_clients * ring_length * max_view_entities * (6 + 4 * C) bytes
 * plus max_entities * (64 + 8 * C) bytes of per-entity delta cache,
 * client: ring_length * max_entities * (6 + 4 * C) bytes, where C is the
 * largest number of 32-bit components of any type (1 per INT/FLOAT/ANGLE/BOOL,
 * 2 per VEC2, 3 per VEC3, 4 per QUAT). The range-coded format (schema.h)
 * adds, to every ring record on both ends, 1 + 4 * C bytes per entity (the
 * motion the next snapshot predicts from) and about 9.5 KiB (the coder's
 * models, which the next snapshot starts from).
 *
 * Single-threaded: one server or client is used by one thread at a time.
 */
#ifndef NETCORE_SNAPSHOT_H
#define NETCORE_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/bitpack.h"
#include "netcore/netcore.h"
#include "netcore/schema.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Names one entity of a snapshot server's world: the slot index in the low
 * 16 bits, a generation above it, so a reused slot gets a new id. 0 is never valid. */
typedef uint32_t netcore_entity_id;
/** The id that names no entity. */
#define NETCORE_ENTITY_NONE ((netcore_entity_id)0)
#define NETCORE_SNAPSHOT_MAX_ENTITIES 65535u /**< slot indexes are 16 bits */
#define NETCORE_SNAPSHOT_ACK_BYTES 5         /**< size of an ack message */

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

/** Opaque handle: made by netcore_snapshot_server_create(), freed by netcore_snapshot_server_destroy(). */
typedef struct netcore_snapshot_server netcore_snapshot_server;

/**
 * Interest: called once per live entity per netcore_snapshot_server_write()
 * for that client. Return 0 (or anything not above 0, NaN included) when the
 * entity is irrelevant to the client (it is then removed from, or never
 * created on, that client), or a priority weight above 0: 1 is normal, larger
 * values are sent sooner when the budget is tight (e.g. 1 / (1 + distance)
 * scaled up for nearby entities). Weights are clamped to [1e-3, 1e6]. The
 * callback may read the server with the getters below, not change it.
 */
typedef float (*netcore_interest_fn)(void *user, const netcore_snapshot_server *server,
                                     uint32_t client, netcore_entity_id entity, uint16_t type);

/** Settings of a netcore_snapshot_server: fill with netcore_snapshot_server_config_default(), change
 * what you need, pass to netcore_snapshot_server_create() (which copies it). */
typedef struct netcore_snapshot_server_config {
    netcore_allocator allocator;  /**< memory for this object; zeroed: malloc and free */
    netcore_log log;              /**< where messages go; zeroed: nowhere */
    const netcore_schema *schema; /**< required, finalized; borrowed, must outlive the server */
    uint32_t max_entities;        /**< world capacity, default 1024, at most 65535 */
    uint32_t max_clients;         /**< default 16 */
    uint32_t max_view_entities; /**< entities one client sees at most; 0 (default): max_entities */
    uint32_t ring_length;       /**< sent snapshots kept per client: a power of two, 2..1024,
                                     default 32 */
    /** Per-client snapshot size limit in bytes, default 1200. Over a
     *  netcore_host, netcore_host_max_unfragmented_bytes() is the largest
     *  snapshot that travels as one datagram (the session layer's default). */
    uint32_t budget_bytes;
    netcore_interest_fn interest; /**< NULL: every entity is relevant with weight 1 */
    void *interest_user;          /**< passed to interest unchanged */
} netcore_snapshot_server_config;

/** Per-client counters (since the client was added). */
typedef struct netcore_snapshot_server_stats {
    uint64_t snapshots_full;      /**< written without a baseline */
    uint64_t snapshots_delta;     /**< written against an acknowledged baseline */
    uint64_t bytes_total;         /**< payload bytes written */
    uint32_t last_snapshot_bytes; /**< size of the newest snapshot written */
    uint32_t max_snapshot_bytes;  /**< largest snapshot written */
    uint32_t last_baseline_age;   /**< snapshots between the last one and its baseline; 0 if full */
    uint32_t max_baseline_age;    /**< largest last_baseline_age seen */
    uint64_t entities_created;  /**< creations written (new to the client, or a re-created slot) */
    uint64_t entities_updated;  /**< updates written */
    uint64_t entities_removed;  /**< removals written */
    uint64_t entities_deferred; /**< creations/updates that did not fit (budget or view size) */
    uint64_t removals_deferred; /**< removals that did not fit */
    uint64_t baselines_expired; /**< baseline left the ring (acks stopped): full sent */
    uint64_t full_requests;     /**< acks asking for a full snapshot */
    uint64_t acks_received;     /**< acks that moved the baseline forward */
    uint64_t acks_old;          /**< acks not newer than the current baseline (ignored) */
    uint64_t acks_unknown;      /**< acks naming a sequence not in the ring (ignored) */
    uint64_t acks_rejected;     /**< ack messages that were malformed or had the wrong schema tag */
    uint64_t range_fallbacks;   /**< range-coded format: snapshots whose range-coded body did not
                                   fit the budget or was larger than the bit-packed one, sent
                                   with the bit-packed body instead */
} netcore_snapshot_server_stats;

/** Fills *config with the defaults above (schema NULL: the caller must set it). */
void netcore_snapshot_server_config_default(netcore_snapshot_server_config *config);

/** Makes a server with an empty world and no clients; the config is copied.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, unfinalized schema, limits out of
 * range, a budget too small for the header plus the largest entity creation),
 * NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_snapshot_server_create(const netcore_snapshot_server_config *config,
                                              netcore_snapshot_server **out_server);
/** NULL is ignored. */
void netcore_snapshot_server_destroy(netcore_snapshot_server *server);

/** Creates an entity of `type` with every field at its zero value (0, false,
 * identity, or the float nearest 0 within the field's range).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (unknown type), NETCORE_ERR_FULL. */
netcore_result netcore_snapshot_server_entity_create(netcore_snapshot_server *server, uint16_t type,
                                                     netcore_entity_id *out_id);
/** Destroys an entity; clients see it removed in their next snapshots.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND (stale or unknown id). */
netcore_result netcore_snapshot_server_entity_destroy(netcore_snapshot_server *server,
                                                      netcore_entity_id id);
/** Type of a live entity. Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND. */
netcore_result netcore_snapshot_server_entity_type(const netcore_snapshot_server *server,
                                                   netcore_entity_id id, uint16_t *out_type);
/** Live entities in the world. */
uint32_t netcore_snapshot_server_entity_count(const netcore_snapshot_server *server);

/**
 * Field setters: the value is quantized (and clamped to the field's range)
 * before it is stored. set_float serves FLOAT and ANGLE (radians) fields,
 * set_vec3 VEC2 (z ignored) and VEC3, set_int INT fields (clamped to the
 * field's bit range), set_bool BOOL, set_quat QUAT (normalised first).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, field index out of range, or a
 * field of another kind), NETCORE_ERR_NOT_FOUND (stale or unknown id).
 */
netcore_result netcore_snapshot_server_set_int(netcore_snapshot_server *server,
                                               netcore_entity_id id, uint16_t field, int64_t value);
/** Sets a FLOAT or ANGLE (radians) field; stores the quantized value. Errors as above. */
netcore_result netcore_snapshot_server_set_float(netcore_snapshot_server *server,
                                                 netcore_entity_id id, uint16_t field, float value);
/** Sets a BOOL field. Errors as above. */
netcore_result netcore_snapshot_server_set_bool(netcore_snapshot_server *server,
                                                netcore_entity_id id, uint16_t field, bool value);
/** Sets a VEC2 (z ignored) or VEC3 field; stores the quantized value. Errors as above. */
netcore_result netcore_snapshot_server_set_vec3(netcore_snapshot_server *server,
                                                netcore_entity_id id, uint16_t field,
                                                netcore_vec3 value);
/** Sets a QUAT field; normalised and quantized before it is stored. Errors as above. */
netcore_result netcore_snapshot_server_set_quat(netcore_snapshot_server *server,
                                                netcore_entity_id id, uint16_t field,
                                                netcore_quat value);

/** Getters: the stored (quantized) value, bit-identical to what a client
 * decodes. Same kinds and errors as the setters. */
netcore_result netcore_snapshot_server_get_int(const netcore_snapshot_server *server,
                                               netcore_entity_id id, uint16_t field,
                                               int64_t *out_value);
/** Reads a stored FLOAT or ANGLE field into *out_value. Errors as the setters. */
netcore_result netcore_snapshot_server_get_float(const netcore_snapshot_server *server,
                                                 netcore_entity_id id, uint16_t field,
                                                 float *out_value);
/** Reads a stored BOOL field into *out_value. Errors as the setters. */
netcore_result netcore_snapshot_server_get_bool(const netcore_snapshot_server *server,
                                                netcore_entity_id id, uint16_t field,
                                                bool *out_value);
/** Reads a stored VEC2 or VEC3 field into *out_value. Errors as the setters. */
netcore_result netcore_snapshot_server_get_vec3(const netcore_snapshot_server *server,
                                                netcore_entity_id id, uint16_t field,
                                                netcore_vec3 *out_value);
/** Reads a stored QUAT field into *out_value. Errors as the setters. */
netcore_result netcore_snapshot_server_get_quat(const netcore_snapshot_server *server,
                                                netcore_entity_id id, uint16_t field,
                                                netcore_quat *out_value);

/** Takes a free client slot (index 0 .. max_clients - 1 into *out_client) with
 * no baseline, so its first snapshot is full. Errors: NETCORE_ERR_INVALID_ARGUMENT,
 * NETCORE_ERR_FULL. */
netcore_result netcore_snapshot_server_client_add(netcore_snapshot_server *server,
                                                  uint32_t *out_client);
/** Frees a client slot (its index may be handed out again).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND (slot not in use). */
netcore_result netcore_snapshot_server_client_remove(netcore_snapshot_server *server,
                                                     uint32_t client);
/** Changes one client's byte budget (e.g. from its measured bandwidth).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (too small, see create), NETCORE_ERR_NOT_FOUND. */
netcore_result netcore_snapshot_server_client_set_budget(netcore_snapshot_server *server,
                                                         uint32_t client, uint32_t budget_bytes);

/**
 * Writes the next snapshot for a client into buffer (at most
 * min(size_bytes, the client's budget) bytes; *out_written gets the size).
 * now_tick is any 32-bit time stamp of the game's choosing (usually the
 * simulation tick), carried to the client. The snapshot is a delta against the
 * client's newest acknowledged snapshot, or full when there is none, the
 * client asked for one, or it left the ring (acks stopped advancing).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, or min(size_bytes, budget) below the
 * smallest budget the schema allows, see create),
 * NETCORE_ERR_NOT_FOUND (client slot not in use). Nothing is allocated.
 */
netcore_result netcore_snapshot_server_write(netcore_snapshot_server *server, uint32_t client,
                                             uint32_t now_tick, void *buffer, size_t size_bytes,
                                             size_t *out_written);

/** What the server did with an acknowledgement. Every value is a normal
 * event of an unreliable network (acks arrive late, twice, or after their
 * snapshot left the ring) and comes with NETCORE_OK; each is counted. */
typedef enum netcore_snapshot_ack_outcome {
    NETCORE_SNAPSHOT_ACK_APPLIED = 0, /**< the baseline moved to this sequence (acks_received) */
    NETCORE_SNAPSHOT_ACK_OLD, /**< not newer than the current baseline: ignored (acks_old) */
    /** A sequence no longer (or never) in the ring: ignored (acks_unknown). */
    NETCORE_SNAPSHOT_ACK_UNKNOWN,
    /** read_ack: the message holds no sequence (a client with nothing
     *  decoded); a full-snapshot request it carries was applied. */
    NETCORE_SNAPSHOT_ACK_NONE
} netcore_snapshot_ack_outcome;

/** Records that the client holds snapshot `sequence` (from its ack). Newer acks
 * move the baseline; older, repeated and unknown ones are ignored: NETCORE_OK,
 * counted, and *out_outcome (may be NULL) says which. Errors:
 * NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND (client slot not in use). */
netcore_result netcore_snapshot_server_ack(netcore_snapshot_server *server, uint32_t client,
                                           uint16_t sequence,
                                           netcore_snapshot_ack_outcome *out_outcome);
/** Makes the client's next snapshot full. Errors: INVALID_ARGUMENT, NOT_FOUND. */
netcore_result netcore_snapshot_server_request_full(netcore_snapshot_server *server,
                                                    uint32_t client);
/** Reads an ack message made by netcore_snapshot_client_write_ack() (untrusted
 * bytes) and applies it as netcore_snapshot_server_ack() and, if it asks for one,
 * netcore_snapshot_server_request_full() would; *out_outcome (may be NULL) is
 * as for netcore_snapshot_server_ack(), NETCORE_SNAPSHOT_ACK_NONE when the
 * message names no sequence. Errors: NETCORE_ERR_INVALID_ARGUMENT,
 * NETCORE_ERR_NOT_FOUND (client slot not in use), NETCORE_ERR_MALFORMED,
 * NETCORE_ERR_MISMATCH (schema tag differs); rejected acks are counted. */
netcore_result netcore_snapshot_server_read_ack(netcore_snapshot_server *server, uint32_t client,
                                                const void *bytes, size_t size_bytes,
                                                netcore_snapshot_ack_outcome *out_outcome);

/** Copies a client's counters. Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND. */
netcore_result netcore_snapshot_server_get_client_stats(const netcore_snapshot_server *server,
                                                        uint32_t client,
                                                        netcore_snapshot_server_stats *out_stats);
/** Bits written for one type over all clients since create: entity headers,
 * masks and field values (*out_bits; bit-packed bodies only: range-coded bits
 * are not split by type or field), and the number of creations plus updates
 * written (*out_entities). Either pointer may be NULL.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (unknown type). */
netcore_result netcore_snapshot_server_get_type_stats(const netcore_snapshot_server *server,
                                                      uint16_t type, uint64_t *out_bits,
                                                      uint64_t *out_entities);
/** Bits written for one field's values (over all clients; bit-packed bodies
 * only), and how many times it was written. Either pointer may be NULL.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (unknown type or field). */
netcore_result netcore_snapshot_server_get_field_stats(const netcore_snapshot_server *server,
                                                       uint16_t type, uint16_t field,
                                                       uint64_t *out_bits, uint64_t *out_writes);

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

/** Opaque handle: made by netcore_snapshot_client_create(), freed by netcore_snapshot_client_destroy(). */
typedef struct netcore_snapshot_client netcore_snapshot_client;

/** Settings of a netcore_snapshot_client: fill with netcore_snapshot_client_config_default(), change
 * what you need, pass to netcore_snapshot_client_create() (which copies it). */
typedef struct netcore_snapshot_client_config {
    netcore_allocator allocator;  /**< memory for this object; zeroed: malloc and free */
    netcore_log log;              /**< where messages go; zeroed: nowhere */
    const netcore_schema *schema; /**< required, finalized; borrowed, must outlive the client */
    uint32_t max_entities;        /**< slot indexes and view size accepted; >= the server's
                                     max_entities and max_view_entities; default 1024 */
    uint32_t ring_length;         /**< decoded snapshots kept: power of two, 2..1024, default 32 */
} netcore_snapshot_client_config;

/** Client counters since create (or the last reset). Every snapshot passed to
 * netcore_snapshot_client_read() lands in exactly one of decoded, rejected_* and
 * ignored_*. */
typedef struct netcore_snapshot_client_stats {
    uint64_t snapshots_received; /**< snapshots passed to netcore_snapshot_client_read */
    uint64_t bytes_received;     /**< their bytes */
    uint64_t snapshots_decoded;  /**< full + delta */
    uint64_t full_decoded;       /**< decoded without a baseline */
    uint64_t delta_decoded;      /**< decoded against a baseline */
    uint64_t older_decoded;      /**< decoded although older than the newest (kept as a baseline) */
    uint64_t rejected_malformed; /**< truncated, bad values, trailing garbage, over capacity */
    uint64_t rejected_mismatch;  /**< schema tag differs */
    uint64_t rejected_baseline_missing; /**< names a baseline this client no longer holds */
    uint64_t ignored_duplicate;         /**< a sequence already decoded */
    uint64_t ignored_stale;             /**< older than the ring can hold */
    uint32_t last_baseline_age;         /**< sequence - baseline of the newest decoded; 0 if full */
} netcore_snapshot_client_stats;

/** Fills *config with the defaults above (schema NULL: the caller must set it). */
void netcore_snapshot_client_config_default(netcore_snapshot_client_config *config);
/** Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_snapshot_client_create(const netcore_snapshot_client_config *config,
                                              netcore_snapshot_client **out_client);
/** NULL is ignored. */
void netcore_snapshot_client_destroy(netcore_snapshot_client *client);
/** Forgets every snapshot (e.g. on reconnect): the next one must be full. Keeps stats. */
void netcore_snapshot_client_reset(netcore_snapshot_client *client);

/** What netcore_snapshot_client_read() did with a snapshot. Every value but
 * REJECTED is a normal event of an unreliable network (reordering, loss,
 * duplication) and comes with NETCORE_OK; each is counted in the stats. */
typedef enum netcore_snapshot_receive_outcome {
    /** Decoded; it is the current world now. */
    NETCORE_SNAPSHOT_RECEIVED_NEWEST = 0,
    /** Decoded although older than the newest (it arrived late): kept as a
     *  possible baseline, the current world is unchanged. */
    NETCORE_SNAPSHOT_RECEIVED_OLDER,
    /** Not decoded: a copy of a sequence already decoded. */
    NETCORE_SNAPSHOT_IGNORED_DUPLICATE,
    /** Not decoded: older than the ring of snapshots can hold. */
    NETCORE_SNAPSHOT_IGNORED_STALE,
    /** Not decoded: a delta against a baseline this client no longer holds;
     *  the next ack asks the server for a full snapshot. */
    NETCORE_SNAPSHOT_BASELINE_MISSING,
    /** Not decoded because of an error (the returned netcore_result says which). */
    NETCORE_SNAPSHOT_REJECTED
} netcore_snapshot_receive_outcome;

/** "newest", "older", "duplicate", "stale", "baseline missing", "rejected";
 * "unknown" otherwise. Static storage. */
const char *netcore_snapshot_receive_outcome_str(netcore_snapshot_receive_outcome outcome);

/**
 * Decodes one snapshot (untrusted bytes, any size; not kept after the call).
 * A snapshot newer than the newest becomes the current world; an older one
 * whose baseline is still held is decoded and kept as a possible baseline
 * without changing the current world. Nothing is allocated; unless it was
 * decoded the client's state is unchanged.
 * *out_outcome (may be NULL) says what happened, on success and on error
 * (NETCORE_SNAPSHOT_REJECTED). Returns NETCORE_OK for every outcome of an
 * unreliable network (decoded, duplicate, stale, baseline missing); errors:
 * NETCORE_ERR_MALFORMED, NETCORE_ERR_MISMATCH (schema tag),
 * NETCORE_ERR_INVALID_ARGUMENT (NULL client, or NULL bytes with a non-zero
 * size). Each outcome and error is counted in the stats.
 */
netcore_result netcore_snapshot_client_read(netcore_snapshot_client *client, const void *bytes,
                                            size_t size_bytes,
                                            netcore_snapshot_receive_outcome *out_outcome);

/** Sequence number of the newest decoded snapshot (what to acknowledge) and the
 * tick it carries. Either pointer may be NULL.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND (nothing decoded yet). */
netcore_result netcore_snapshot_client_sequence(const netcore_snapshot_client *client,
                                                uint16_t *out_sequence, uint32_t *out_tick);
/** Writes an ack message (NETCORE_SNAPSHOT_ACK_BYTES bytes: schema tag, newest
 * decoded sequence if any, and a "send me a full snapshot" flag after a
 * missing baseline) for netcore_snapshot_server_read_ack().
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, size below NETCORE_SNAPSHOT_ACK_BYTES). */
netcore_result netcore_snapshot_client_write_ack(netcore_snapshot_client *client, void *buffer,
                                                 size_t size_bytes, size_t *out_written);

/** Entities in the current world, in slot order. */
uint32_t netcore_snapshot_client_entity_count(const netcore_snapshot_client *client);
/** The i-th entity (0 <= i < entity_count) of the current world. Either output may be NULL.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL or i out of range). */
netcore_result netcore_snapshot_client_entity_at(const netcore_snapshot_client *client,
                                                 uint32_t index, netcore_entity_id *out_id,
                                                 uint16_t *out_type);
/** Type of an entity of the current world. Errors: INVALID_ARGUMENT, NOT_FOUND. */
netcore_result netcore_snapshot_client_entity_type(const netcore_snapshot_client *client,
                                                   netcore_entity_id id, uint16_t *out_type);

/** Field getters on the current world; kinds as for the server's getters.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, bad field or kind),
 * NETCORE_ERR_NOT_FOUND (entity not in the current world). */
netcore_result netcore_snapshot_client_get_int(const netcore_snapshot_client *client,
                                               netcore_entity_id id, uint16_t field,
                                               int64_t *out_value);
/** Reads a FLOAT or ANGLE field of the current world. Errors as netcore_snapshot_client_get_int(). */
netcore_result netcore_snapshot_client_get_float(const netcore_snapshot_client *client,
                                                 netcore_entity_id id, uint16_t field,
                                                 float *out_value);
/** Reads a BOOL field of the current world. Errors as netcore_snapshot_client_get_int(). */
netcore_result netcore_snapshot_client_get_bool(const netcore_snapshot_client *client,
                                                netcore_entity_id id, uint16_t field,
                                                bool *out_value);
/** Reads a VEC2 or VEC3 field of the current world. Errors as netcore_snapshot_client_get_int(). */
netcore_result netcore_snapshot_client_get_vec3(const netcore_snapshot_client *client,
                                                netcore_entity_id id, uint16_t field,
                                                netcore_vec3 *out_value);
/** Reads a QUAT field of the current world. Errors as netcore_snapshot_client_get_int(). */
netcore_result netcore_snapshot_client_get_quat(const netcore_snapshot_client *client,
                                                netcore_entity_id id, uint16_t field,
                                                netcore_quat *out_value);

/** Copies the counters. Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_snapshot_client_get_stats(const netcore_snapshot_client *client,
                                                 netcore_snapshot_client_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_SNAPSHOT_H */
