/** @file
 * netcore schema: the entity types a snapshot server replicates and the typed,
 * quantized fields of each type.
 *
 * Build a schema once at start-up, identically on the server and on every
 * client: create it, add types, add fields to each type, then finalize it.
 * A finalized schema is immutable and may be shared by any number of snapshot
 * servers and clients (it must outlive them).
 *
 * Field kinds and what they cost on the wire when sent in full:
 *   INT    bits (1..32), signed (two's complement range) or unsigned; values
 *          outside the range are clamped when set.
 *   FLOAT  min, max, precision: netcore_quant_init() from bitpack.h decides the
 *          bit count (e.g. [-256, 256] at 1/512 -> 18 bits).
 *   ANGLE  bits (1..32) around the circle, decoded into [-pi, pi).
 *   BOOL   1 bit.
 *   VEC2,
 *   VEC3   2 or 3 components, each a FLOAT with the field's min, max, precision.
 *   QUAT   "smallest three": 2 + 3 * bits, bits in 9..24 per component.
 * Deltas against a baseline are usually much cheaper (see docs/snapshot-format.md).
 *
 * Snapshot format: the schema also fixes how snapshots are coded on the wire
 * (netcore_schema_config.snapshot_format): bit-packed (the default) or
 * range-coded (adaptive arithmetic coding, smaller, a little more CPU). The
 * format is part of the hash, so a client and a server that pass the hash
 * check cannot disagree on it.
 *
 * Compatibility: netcore_schema_hash() covers everything that changes the wire
 * format (kinds, bit counts, ranges, precisions, field and type order, and the
 * snapshot format and its version), not names. Exchange the 64-bit hash at connect time
 * and compare it with netcore_schema_check_hash(); every snapshot and ack also
 * carries a 16-bit tag folded from the hash, so a mismatched pair that skipped the
 * check is still rejected with NETCORE_ERR_MISMATCH (with probability 1 - 2^-16).
 *
 * Single-threaded while being built; read-only (any thread) once finalized.
 */
#ifndef NETCORE_SCHEMA_H
#define NETCORE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hard limits of the format. */
#define NETCORE_SCHEMA_MAX_TYPES 256          /**< types per schema */
#define NETCORE_SCHEMA_MAX_FIELDS_PER_TYPE 64 /**< fields per type (one mask bit each) */
#define NETCORE_SCHEMA_NAME_MAX 32            /**< bytes of a name, NUL included */

/** Opaque handle: made by netcore_schema_create(), freed by netcore_schema_destroy(). */
typedef struct netcore_schema netcore_schema;

/** The kind of a field: what it holds and how it is coded on the wire. */
typedef enum netcore_field_kind {
    NETCORE_FIELD_INT = 0,   /**< integer of `bits` bits, signed or not */
    NETCORE_FIELD_FLOAT,     /**< float quantized to [min, max] at precision */
    NETCORE_FIELD_ANGLE,     /**< angle in radians in `bits` bits (netcore_bit_write_angle) */
    NETCORE_FIELD_BOOL,      /**< one bit */
    NETCORE_FIELD_VEC2,      /**< two floats, each quantized like FLOAT */
    NETCORE_FIELD_VEC3,      /**< three floats, each quantized like FLOAT */
    NETCORE_FIELD_QUAT,      /**< rotation, smallest three with `bits` per component */
    NETCORE_FIELD_KIND_COUNT /**< number of kinds; not a kind */
} netcore_field_kind;

/** Describes one field. Members a kind does not use are ignored (and not hashed). */
typedef struct netcore_field_desc {
    const char *name;        /**< copied (at most NETCORE_SCHEMA_NAME_MAX - 1 bytes); may be NULL */
    netcore_field_kind kind; /**< what the field holds */
    unsigned bits;           /**< INT, ANGLE: 1..32; QUAT: 9..24 per component */
    bool is_signed;          /**< INT */
    float min;       /**< FLOAT, VEC2, VEC3: range and precision as in netcore_quant_init() */
    float max;       /**< FLOAT, VEC2, VEC3: highest value */
    float precision; /**< FLOAT, VEC2, VEC3: twice the largest error, in the field's unit */
} netcore_field_desc;

/** How snapshots of a schema are coded (docs/snapshot-format.md). */
typedef enum netcore_snapshot_format {
    NETCORE_SNAPSHOT_FORMAT_BITPACKED = 0, /**< fixed prefix codes, bit-packed (default) */
    NETCORE_SNAPSHOT_FORMAT_RANGE_CODED,   /**< adaptive binary range coding: models carried
                                              from the acknowledged baseline, values
                                              predicted from the baseline's own motion */
    NETCORE_SNAPSHOT_FORMAT_COUNT          /**< number of formats; not a format */
} netcore_snapshot_format;

/** Settings of a netcore_schema: fill with netcore_schema_config_default(), change
 * what you need, pass to netcore_schema_create() (which copies it). */
typedef struct netcore_schema_config {
    netcore_allocator allocator;             /**< memory for this object; zeroed: malloc and free */
    netcore_log log;                         /**< where messages go; zeroed: nowhere */
    uint32_t max_types;                      /**< default 64, at most NETCORE_SCHEMA_MAX_TYPES */
    uint32_t max_fields;                     /**< fields over all types, default 1024 */
    netcore_snapshot_format snapshot_format; /**< default NETCORE_SNAPSHOT_FORMAT_BITPACKED */
} netcore_schema_config;

/** Fills *config with the defaults above. */
void netcore_schema_config_default(netcore_schema_config *config);

/** Makes an empty, unfinalized schema; the config is copied.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, zero or too large limits, an
 * unknown snapshot format),
 * NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result netcore_schema_create(const netcore_schema_config *config,
                                     netcore_schema **out_schema);

/** Frees the schema. Every server and client using it must be destroyed first.
 * NULL is ignored. */
void netcore_schema_destroy(netcore_schema *schema);

/** Adds a type; its id (0, 1, 2, ... in order of addition) goes to *out_type.
 * name is copied and may be NULL. Errors: NETCORE_ERR_INVALID_ARGUMENT,
 * NETCORE_ERR_STATE (already finalized), NETCORE_ERR_FULL (max_types reached). */
netcore_result netcore_schema_add_type(netcore_schema *schema, const char *name,
                                       uint16_t *out_type);

/** Adds a field to a type; its index within the type (0, 1, ... in order of
 * addition) goes to *out_field (may be NULL). Fields of different types may be
 * added in any order. Errors: NETCORE_ERR_INVALID_ARGUMENT (unknown type, bad
 * kind, bit count, range or precision), NETCORE_ERR_STATE (finalized),
 * NETCORE_ERR_FULL (max_fields or NETCORE_SCHEMA_MAX_FIELDS_PER_TYPE reached). */
netcore_result netcore_schema_add_field(netcore_schema *schema, uint16_t type,
                                        const netcore_field_desc *desc, uint16_t *out_field);

/** Freezes the schema and computes its hash. Needs at least one type; a type
 * may have no fields. Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE
 * (already finalized or no types). */
netcore_result netcore_schema_finalize(netcore_schema *schema);

/** True once netcore_schema_finalize() succeeded. */
bool netcore_schema_is_finalized(const netcore_schema *schema);

/** 64-bit hash of the wire format (see the top of this file).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_STATE (not finalized). */
netcore_result netcore_schema_hash(const netcore_schema *schema, uint64_t *out_hash);

/** Connect-time check: NETCORE_OK when remote_hash equals this schema's hash,
 * NETCORE_ERR_MISMATCH otherwise, NETCORE_ERR_STATE if not finalized. */
netcore_result netcore_schema_check_hash(const netcore_schema *schema, uint64_t remote_hash);

/** The snapshot format the schema was created with (the default for NULL). */
netcore_snapshot_format netcore_schema_snapshot_format(const netcore_schema *schema);
/** A short name of a format ("bitpacked", "range_coded"; "unknown" otherwise),
 * static storage: for logs, stats and the demo's net graph. */
const char *netcore_snapshot_format_name(netcore_snapshot_format format);

/** Number of types (0 for NULL). */
uint32_t netcore_schema_type_count(const netcore_schema *schema);
/** Number of fields of a type (0 for an unknown type). */
uint32_t netcore_schema_field_count(const netcore_schema *schema, uint16_t type);

/** Copies a field's description into *out_desc; its name points into the schema
 * (valid while the schema lives, "" when none was given).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND (no such type or field). */
netcore_result netcore_schema_field_get(const netcore_schema *schema, uint16_t type, uint16_t field,
                                        netcore_field_desc *out_desc);

/** Looks a type up by name (first match); *out_type is its index.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_NOT_FOUND. */
netcore_result netcore_schema_find_type(const netcore_schema *schema, const char *name,
                                        uint16_t *out_type);
/** Looks a field of `type` up by name (first match); *out_field is its index.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL), NETCORE_ERR_NOT_FOUND (no such type or field). */
netcore_result netcore_schema_find_field(const netcore_schema *schema, uint16_t type,

                                         const char *name, uint16_t *out_field);

/** Bits a full (uncompressed, creation-style) encoding of every field of the
 * type takes, field masks and entity header excluded; 0 for an unknown type or
 * an unfinalized schema. Useful to size budgets. */
uint32_t netcore_schema_type_full_bits(const netcore_schema *schema, uint16_t type);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_SCHEMA_H */
