/* Internal pieces shared by the schema, the snapshot server and the snapshot
 * client: the schema's layout, field quantization, the per-entity delta codec
 * and the "view" (the set of entities one client holds after one snapshot).
 * Wire format: docs/snapshot-format.md. */
#ifndef NETCORE_SNAPSHOT_INTERNAL_H
#define NETCORE_SNAPSHOT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/bitpack.h"
#include "netcore/schema.h"
#include "netcore/snapshot.h"

/* Bumped whenever the snapshot wire format changes; part of the schema hash. */
#define NCI_SNAPSHOT_FORMAT_VERSION 1u
/* The same for the range-coded format (a word the bit-packed versions never
 * reach: "RC" and the version). */
#define NCI_RANGE_FORMAT_VERSION 0x52430001u
/* Longest slot-index gap code (see nci_gap_write). */
#define NCI_GAP_MAX_BITS 19u
/* Bits of an entity generation on the wire (creations only). */
#define NCI_GENERATION_BITS 16u

/* One field. An entity's state is an array of 32-bit components (quantized
 * codes); a field owns comp_count of them starting at first_comp. */
typedef struct nci_field {
    netcore_field_desc desc; /* desc.name points at name */
    char name[NETCORE_SCHEMA_NAME_MAX];
    netcore_quant quant; /* FLOAT, VEC2, VEC3 */
    uint16_t type;
    uint16_t first_comp;
    uint8_t comp_count;
} nci_field;

typedef struct nci_type {
    char name[NETCORE_SCHEMA_NAME_MAX];
    uint32_t first_field; /* into schema->fields (contiguous per type) */
    uint16_t field_count;
    uint16_t comp_count;
    uint32_t first_comp; /* into schema->comp_bits and schema->comp_default */
    uint32_t full_bits;  /* worst-case bits of the fields of a creation, mask included */
} nci_type;

struct netcore_schema {
    netcore_allocator allocator;
    netcore_log log;
    uint32_t max_types;
    uint32_t max_fields;
    netcore_snapshot_format snapshot_format;
    uint32_t type_count;
    uint32_t field_total;
    nci_type *types;        /* [max_types] */
    nci_field *fields;      /* [max_fields], grouped by type */
    uint8_t *comp_bits;     /* [4 * max_fields] wire width of each component */
    uint32_t *comp_default; /* [4 * max_fields] code of the zero value */
    bool finalized;
    uint64_t hash;
    uint16_t tag;             /* 16-bit fold of hash carried in every message */
    uint32_t max_comps;       /* largest comp_count of any type, at least 1 */
    unsigned type_bits;       /* bits of a type id on the wire */
    uint32_t max_entity_bits; /* worst-case bits of one creation, entity header included */
};

static inline bool nci_range_coded(const netcore_schema *schema)
{
    return schema->snapshot_format == NETCORE_SNAPSHOT_FORMAT_RANGE_CODED;
}

/* 16-bit tag folded from a 64-bit hash. */
uint16_t nci_schema_tag(uint64_t hash);
/* NULL for an unknown type. */
const nci_type *nci_schema_type(const netcore_schema *schema, uint16_t type);
/* NULL for an unknown type or field. */
const nci_field *nci_schema_field(const netcore_schema *schema, uint16_t type, uint16_t field);
/* Writes the zero state of a type (schema->max_comps components, unused ones 0). */
void nci_schema_default_state(const netcore_schema *schema, uint16_t type, uint32_t *state);

/* Quantize a value into an entity state / read it back. The kind must match
 * (checked by the callers: nci_field_accepts). */
bool nci_field_accepts(const nci_field *field, netcore_field_kind setter_kind);
void nci_field_set_int(const nci_field *field, uint32_t *state, int64_t value);
void nci_field_set_float(const nci_field *field, uint32_t *state, float value);
void nci_field_set_bool(const nci_field *field, uint32_t *state, bool value);
void nci_field_set_vec3(const nci_field *field, uint32_t *state, netcore_vec3 value);
void nci_field_set_quat(const nci_field *field, uint32_t *state, netcore_quat value);
int64_t nci_field_get_int(const nci_field *field, const uint32_t *state);
float nci_field_get_float(const nci_field *field, const uint32_t *state);
bool nci_field_get_bool(const nci_field *field, const uint32_t *state);
netcore_vec3 nci_field_get_vec3(const nci_field *field, const uint32_t *state);
netcore_quat nci_field_get_quat(const nci_field *field, const uint32_t *state);
/* False when decoded codes are not a value the field can hold (a float index
 * above its steps, an invalid quaternion). */
bool nci_field_codes_valid(const nci_field *field, const uint32_t *state);

/* Kind-checked field access shared by the server's and the client's getters:
 * NETCORE_ERR_INVALID_ARGUMENT on an unknown field or a kind mismatch. */
netcore_result nci_state_field(const netcore_schema *schema, uint16_t type, uint16_t field,
                               netcore_field_kind kind, const nci_field **out_field);

/* ---- delta codec (snapshot_codec.c) ---- */

/* Slot-index gaps (>= 1) between consecutive entities of a list. */
unsigned nci_gap_bits(uint32_t gap);
void nci_gap_write(netcore_bit_writer *writer, uint32_t gap);
/* Returns 0 (and the reader may be failed) on a bad code. */
uint32_t nci_gap_read(netcore_bit_reader *reader);

/* Worst-case bits of one component of width bits (see nci_comp_write). */
unsigned nci_comp_max_bits(unsigned bits, bool single);

/* Bits of the fields of an entity coded against ref (mask included); the
 * changed-field mask goes to *out_mask. */
uint32_t nci_entity_delta_bits(const netcore_schema *schema, const nci_type *type,
                               const uint32_t *ref, const uint32_t *cur, uint64_t *out_mask);
/* Writes what nci_entity_delta_bits measured. field_bits (may be NULL) gets
 * the bits of each field's values added, indexed by the field's position in
 * its type (0 .. type->field_count - 1). */
void nci_entity_delta_write(netcore_bit_writer *writer, const netcore_schema *schema,
                            const nci_type *type, const uint32_t *ref, const uint32_t *cur,
                            uint64_t mask, uint64_t *field_bits);
/* Reads the fields of an entity coded against ref into out (the type's
 * components; out must not overlap ref). Returns false on a value the field
 * cannot hold; read failures (truncation) are left in the reader's status. */
bool nci_entity_delta_read(netcore_bit_reader *reader, const netcore_schema *schema,
                           const nci_type *type, const uint32_t *ref, uint32_t *out);

/* ---- views ---- */

/* What a view's entity did in the snapshot that made the view, against that
 * snapshot's own baseline (range-coded format only; see nci_view_derive_motion). */
enum {
    NCI_MOTION_STILL = 0, /* equal to the baseline's state */
    NCI_MOTION_MOVED = 1, /* changed: motion holds cur - baseline per component */
    NCI_MOTION_NEW = 2    /* not in the baseline (or a full snapshot): no motion known */
};

/* The entities a client holds after one snapshot, sorted by slot index. */
typedef struct nci_view {
    bool valid;
    uint16_t seq;
    uint32_t tick;
    uint32_t count;
    uint32_t span_ticks;  /* tick - its baseline's tick; 0 for a full snapshot */
    uint16_t *index;      /* [capacity] */
    uint16_t *gen;        /* [capacity] */
    uint16_t *type;       /* [capacity] */
    uint32_t *state;      /* [capacity * stride] */
    uint8_t *motion_flag; /* [capacity] NCI_MOTION_*; NULL unless range-coded */
    int32_t *motion;      /* [capacity * stride] signed component deltas; NULL unless range-coded */
    struct nci_range_models *models; /* the range coder's models after this snapshot (the
                                        next one starts from them); NULL unless range-coded */
} nci_view;

/* Allocates count views of `capacity` entities with `stride` components each,
 * in one block (*out_block, freed with nci_free); with_motion adds the motion
 * arrays the range-coded format predicts from. Returns false on overflow or
 * allocation failure. */
bool nci_views_alloc(const netcore_allocator *allocator, nci_view *views, uint32_t count,
                     uint32_t capacity, uint32_t stride, bool with_motion, void **out_block);
/* Position of slot index in view, or -1. */
int32_t nci_view_find(const nci_view *view, uint32_t index);
/* Copies entry `from_pos` of `from` to the end of `to`. */
void nci_view_append(nci_view *to, const nci_view *from, uint32_t from_pos, uint32_t stride);

/* ---- range-coded bodies (snapshot_range.c) ---- */

/* The adaptive models of one range-coded snapshot: reset at the start of
 * every snapshot, so they adapt only on what that snapshot carries. */
typedef struct nci_range_models nci_range_models;
size_t nci_range_models_size(void);

/* Sets out->models to what both ends hold after the snapshot that made out:
 * the models that coded its range-coded body (coded), or for a bit-packed
 * body its baseline's models (base, NULL for a full snapshot: fresh ones). */
void nci_view_keep_models(nci_view *out, const nci_view *base, const nci_range_models *coded);

/* Fills out->motion_flag, out->motion and out->span_ticks from the view and
 * its baseline (base NULL for a full snapshot). Both ends call it on views
 * that are equal, so they derive equal motion: it depends on nothing else. */
void nci_view_derive_motion(const netcore_schema *schema, const nci_view *base, nci_view *out,
                            uint32_t stride);

/* What the encoder decided for one snapshot, in the terms of snapshot_encode.c. */
typedef struct nci_range_body_plan {
    const nci_view *base; /* baseline (the empty view for a full snapshot) */
    bool has_base;
    uint32_t span_ticks;               /* now_tick - base tick; 0 for a full snapshot */
    int64_t tick_delta;                /* now_tick - base tick as a signed 64-bit difference */
    const uint32_t *removals;          /* baseline positions, slot order */
    uint32_t removal_count;            /* the first removal_count are written */
    const uint8_t *removed;            /* [base count] 1 when removed */
    const struct nci_candidate *cands; /* slot order; selected ones are written */
    uint32_t cand_count;
    nci_range_models *models; /* where to code: the new ring record's models */
} nci_range_body_plan;

/* Bits of the header field that tells how many trailing zero bytes the range
 * coder dropped (0..4). */
#define NCI_RANGE_DROPPED_BITS 3u

/* Range-codes the body (everything after the header) into out; false when it
 * does not fit in capacity_bytes. *out_size gets its size (which may be 0)
 * and *out_dropped the trailing zero bytes left out. */
bool nci_range_body_write(netcore_snapshot_server *server, const nci_range_body_plan *plan,
                          uint8_t *out, size_t capacity_bytes, size_t *out_size,
                          unsigned *out_dropped);

/* One decode of a range-coded body (untrusted bytes). */
typedef struct nci_range_body_read {
    const netcore_schema *schema;
    const nci_view *base; /* the empty view for a full snapshot */
    bool has_base;
    nci_view *out;         /* filled (count, index, gen, type, state), in slot order */
    uint32_t max_entities; /* slot indexes and entities accepted */
    uint32_t stride;
    uint32_t tick;            /* full snapshot: the header's tick; else set from the body */
    uint32_t span_ticks;      /* set while decoding: tick - base tick */
    unsigned dropped_bytes;   /* from the header */
    uint8_t *removed;         /* scratch [max_entities] */
    uint16_t *created;        /* scratch [max_entities] */
    nci_range_models *models; /* where to decode: the new view's models */
    const uint8_t *eighths;   /* set while decoding: the snapshot's prediction scales */
} nci_range_body_read;

/* False on anything a range-coded body cannot hold (the caller counts it). */
bool nci_range_body_decode(nci_range_body_read *r, const uint8_t *bytes, size_t size_bytes);

/* ---- server internals (snapshot_server.c, snapshot_encode.c) ---- */

/* Worst-case header: tag, sequence, baseline flag, baseline distance varint
 * (<= 3 bytes), tick (varint of a 32-bit zigzag, <= 5 bytes), two count
 * varints (<= 3 bytes each). */
#define NCI_HEADER_MAX_BITS (16u + 16u + 1u + 24u + 40u + 24u + 24u)

typedef struct nci_world_slot {
    uint16_t gen; /* generation of the current (or next) occupant, never 0 */
    uint16_t type;
    bool alive;
} nci_world_slot;

/* An entity that differs from what the client holds: a creation (not in the
 * baseline, or its slot's old occupant removed in the same snapshot) or an
 * update of a baseline entity. */
typedef struct nci_candidate {
    float priority;
    uint16_t index;
    int32_t base_pos;     /* update: position in the baseline; creation: -1 */
    int32_t replaces_pos; /* creation over a removed occupant: its baseline position, else -1 */
    uint32_t bits;        /* fields and entity header, slot gap excluded */
    uint64_t mask;
    bool selected;
} nci_candidate;

typedef struct nci_priority_ref {
    float priority;
    uint32_t pos; /* into cands */
} nci_priority_ref;

typedef struct nci_client_slot {
    bool active;
    bool has_ack;
    bool need_full;
    uint16_t next_seq;
    uint16_t acked_seq;
    uint32_t budget_bytes;
    float *accum;   /* [max_entities] priority accumulators */
    nci_view *ring; /* [ring_length], slot = sequence % ring_length */
    void *ring_block;
    netcore_snapshot_server_stats stats;
} nci_client_slot;

/* The last delta coded for one world slot: clients that hold the same
 * reference state of an entity (the usual case: acks arrive at the same pace,
 * so their baselines come from the same snapshot) share its cost and its
 * bits. The key is the type and the reference and current components (kept
 * in the server's delta_ref and delta_cur), so a setter, a re-creation or
 * another baseline simply misses. */
#define NCI_DELTA_CACHE_BYTES 32u /* coded fields up to 256 bits keep their bits */
#define NCI_DELTA_CACHE_FIELDS 16u
typedef struct nci_delta_cache {
    bool valid;
    bool has_payload; /* payload and field_bits hold the coded fields */
    uint16_t type;
    uint32_t bits; /* nci_entity_delta_bits() of the pair */
    uint64_t mask;
    uint8_t field_bits[NCI_DELTA_CACHE_FIELDS];
    uint8_t payload[NCI_DELTA_CACHE_BYTES]; /* as nci_entity_delta_write() wrote them */
} nci_delta_cache;

struct netcore_snapshot_server {
    netcore_allocator allocator;
    netcore_log log;
    const netcore_schema *schema;
    uint32_t max_entities, max_clients, max_view, ring_length, budget_bytes, min_budget_bytes;
    uint32_t stride; /* components per entity state */
    netcore_interest_fn interest;
    void *interest_user;
    nci_world_slot *slots;
    uint32_t *world_state; /* [max_entities * stride] */
    uint16_t *free_ring;   /* FIFO of free slot indexes: reuse is as late as possible */
    uint32_t free_head, free_count, live_count;
    nci_client_slot *clients;
    /* Scratch for one write (single-threaded, so shared by all clients). */
    nci_candidate *cands;    /* [max_entities], in slot order */
    nci_priority_ref *order; /* [max_entities], candidates by priority */
    uint32_t *removals;      /* [max_view], baseline positions in slot order */
    uint8_t *removed;        /* [max_view], 1 when that baseline position is removed */
    nci_view empty_view;
    nci_delta_cache *delta_cache; /* [max_entities] */
    uint32_t *delta_ref;          /* [max_entities * stride] key of each delta_cache entry */
    uint32_t *delta_cur;          /* [max_entities * stride] */
    uint64_t *type_bits, *type_entities, *field_bits, *field_writes;
};

static inline netcore_entity_id nci_make_id(uint16_t gen, uint32_t index)
{
    return ((netcore_entity_id)gen << 16) | index;
}
/* The state (server->stride components) of world slot index. */
uint32_t *nci_world_state(const netcore_snapshot_server *server, uint32_t index);
/* The client slot if it is in use, else NULL. */
nci_client_slot *nci_active_client(const netcore_snapshot_server *server, uint32_t client);

#endif /* NETCORE_SNAPSHOT_INTERNAL_H */
