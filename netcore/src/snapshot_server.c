/* Snapshot server: the authoritative world, per-client views (a ring of sent
 * snapshots and the newest acknowledged one), and the writer that encodes each
 * client's snapshot as a delta against that baseline within a byte budget. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"
#include "snapshot_internal.h"

#define DEFAULT_MAX_ENTITIES 1024u
#define DEFAULT_MAX_CLIENTS 16u
#define DEFAULT_RING_LENGTH 32u
#define DEFAULT_BUDGET_BYTES 1200u
#define MAX_RING_LENGTH 1024u
#define MIN_WEIGHT 1e-3f
#define MAX_WEIGHT 1e6f
/* Worst-case header: tag, sequence, baseline flag, baseline distance varint
 * (<= 3 bytes), tick (varint of a 32-bit zigzag, <= 5 bytes), two count
 * varints (<= 3 bytes each). */
#define HEADER_MAX_BITS (16u + 16u + 1u + 24u + 40u + 24u + 24u)

typedef struct world_slot {
    uint16_t gen; /* generation of the current (or next) occupant, never 0 */
    uint16_t type;
    bool alive;
} world_slot;

/* An entity that differs from what the client holds: a creation (not in the
 * baseline, or its slot's old occupant removed in the same snapshot) or an
 * update of a baseline entity. */
typedef struct candidate {
    float priority;
    uint16_t index;
    int32_t base_pos;     /* update: position in the baseline; creation: -1 */
    int32_t replaces_pos; /* creation over a removed occupant: its baseline position, else -1 */
    uint32_t bits;        /* fields and entity header, slot gap excluded */
    uint64_t mask;
    bool selected;
} candidate;

typedef struct priority_ref {
    float priority;
    uint32_t pos; /* into cands */
} priority_ref;

typedef struct client_slot {
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
} client_slot;

struct netcore_snapshot_server {
    netcore_allocator allocator;
    netcore_log log;
    const netcore_schema *schema;
    uint32_t max_entities, max_clients, max_view, ring_length, budget_bytes, min_budget_bytes;
    uint32_t stride; /* components per entity state */
    netcore_interest_fn interest;
    void *interest_user;
    world_slot *slots;
    uint32_t *world_state; /* [max_entities * stride] */
    uint16_t *free_ring;   /* FIFO of free slot indexes: reuse is as late as possible */
    uint32_t free_head, free_count, live_count;
    client_slot *clients;
    /* Scratch for one write (single-threaded, so shared by all clients). */
    candidate *cands;    /* [max_entities], in slot order */
    priority_ref *order; /* [max_entities], candidates by priority */
    uint32_t *removals;  /* [max_view], baseline positions in slot order */
    uint8_t *removed;    /* [max_view], 1 when that baseline position is removed */
    nci_view empty_view;
    uint64_t *type_bits, *type_entities, *field_bits, *field_writes;
};

/* ---- small helpers ---- */

static netcore_entity_id make_id(uint16_t gen, uint32_t index)
{
    return ((netcore_entity_id)gen << 16) | index;
}

static const world_slot *live_slot(const netcore_snapshot_server *server, netcore_entity_id id)
{
    uint32_t index = id & 0xffffu;
    if (!server || index >= server->max_entities)
        return NULL;
    const world_slot *slot = &server->slots[index];
    return slot->alive && slot->gen == (id >> 16) ? slot : NULL;
}

static uint32_t *state_of(const netcore_snapshot_server *server, uint32_t index)
{
    return &server->world_state[(size_t)index * server->stride];
}

static client_slot *active_client(const netcore_snapshot_server *server, uint32_t client)
{
    if (!server || client >= server->max_clients || !server->clients[client].active)
        return NULL;
    return &server->clients[client];
}

static bool is_power_of_two(uint32_t v) { return v && !(v & (v - 1)); }

/* ---- create / destroy ---- */

void netcore_snapshot_server_config_default(netcore_snapshot_server_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->max_entities = DEFAULT_MAX_ENTITIES;
    config->max_clients = DEFAULT_MAX_CLIENTS;
    config->ring_length = DEFAULT_RING_LENGTH;
    config->budget_bytes = DEFAULT_BUDGET_BYTES;
}

void netcore_snapshot_server_destroy(netcore_snapshot_server *server)
{
    if (!server)
        return;
    const netcore_allocator *a = &server->allocator;
    if (server->clients) {
        for (uint32_t c = 0; c < server->max_clients; c++) {
            nci_free(a, server->clients[c].accum);
            nci_free(a, server->clients[c].ring_block);
            nci_free(a, server->clients[c].ring);
        }
    }
    nci_free(a, server->clients);
    nci_free(a, server->slots);
    nci_free(a, server->world_state);
    nci_free(a, server->free_ring);
    nci_free(a, server->cands);
    nci_free(a, server->order);
    nci_free(a, server->removals);
    nci_free(a, server->removed);
    nci_free(a, server->type_bits);
    nci_free(a, server->type_entities);
    nci_free(a, server->field_bits);
    nci_free(a, server->field_writes);
    netcore_allocator allocator = server->allocator;
    nci_free(&allocator, server);
}

static bool alloc_clients(netcore_snapshot_server *server)
{
    const netcore_allocator *a = &server->allocator;
    server->clients = nci_calloc(a, server->max_clients, sizeof *server->clients);
    if (!server->clients)
        return false;
    for (uint32_t c = 0; c < server->max_clients; c++) {
        client_slot *cl = &server->clients[c];
        cl->accum = nci_calloc(a, server->max_entities, sizeof *cl->accum);
        cl->ring = nci_calloc(a, server->ring_length, sizeof *cl->ring);
        if (!cl->accum || !cl->ring ||
            !nci_views_alloc(a, cl->ring, server->ring_length, server->max_view, server->stride,
                             &cl->ring_block))
            return false;
    }
    return true;
}

netcore_result netcore_snapshot_server_create(const netcore_snapshot_server_config *config,
                                              netcore_snapshot_server **out_server)
{
    if (!config || !out_server || !netcore_schema_is_finalized(config->schema) ||
        config->max_entities == 0 || config->max_entities > NETCORE_SNAPSHOT_MAX_ENTITIES ||
        config->max_clients == 0 || config->max_clients > 65536 ||
        config->max_view_entities > config->max_entities || !is_power_of_two(config->ring_length) ||
        config->ring_length < 2 || config->ring_length > MAX_RING_LENGTH)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const netcore_schema *schema = config->schema;
    uint32_t min_budget = (HEADER_MAX_BITS + schema->max_entity_bits + 7) / 8;
    if (config->budget_bytes < min_budget)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_server = NULL;
    netcore_snapshot_server *server = nci_calloc(&config->allocator, 1, sizeof *server);
    if (!server)
        return NETCORE_ERR_OUT_OF_MEMORY;
    server->allocator = config->allocator;
    server->log = config->log;
    server->schema = schema;
    server->max_entities = config->max_entities;
    server->max_clients = config->max_clients;
    server->max_view = config->max_view_entities ? config->max_view_entities : config->max_entities;
    server->ring_length = config->ring_length;
    server->budget_bytes = config->budget_bytes;
    server->min_budget_bytes = min_budget;
    server->stride = schema->max_comps;
    server->interest = config->interest;
    server->interest_user = config->interest_user;
    const netcore_allocator *a = &server->allocator;
    server->slots = nci_calloc(a, server->max_entities, sizeof *server->slots);
    server->world_state =
        nci_calloc(a, (size_t)server->max_entities * server->stride, sizeof(uint32_t));
    server->free_ring = nci_calloc(a, server->max_entities, sizeof *server->free_ring);
    server->cands = nci_calloc(a, server->max_entities, sizeof *server->cands);
    server->order = nci_calloc(a, server->max_entities, sizeof *server->order);
    server->removals = nci_calloc(a, server->max_view, sizeof *server->removals);
    server->removed = nci_calloc(a, server->max_view, 1);
    server->type_bits = nci_calloc(a, schema->type_count, sizeof(uint64_t));
    server->type_entities = nci_calloc(a, schema->type_count, sizeof(uint64_t));
    server->field_bits = nci_calloc(a, schema->field_total + 1, sizeof(uint64_t));
    server->field_writes = nci_calloc(a, schema->field_total + 1, sizeof(uint64_t));
    if (!server->slots || !server->world_state || !server->free_ring || !server->cands ||
        !server->order || !server->removals || !server->removed || !server->type_bits ||
        !server->type_entities || !server->field_bits || !server->field_writes ||
        !alloc_clients(server)) {
        netcore_snapshot_server_destroy(server);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < server->max_entities; i++) {
        server->slots[i].gen = 1;
        server->free_ring[i] = (uint16_t)i;
    }
    server->free_count = server->max_entities;
    *out_server = server;
    return NETCORE_OK;
}

/* ---- world ---- */

netcore_result netcore_snapshot_server_entity_create(netcore_snapshot_server *server, uint16_t type,
                                                     netcore_entity_id *out_id)
{
    if (!server || !out_id || !nci_schema_type(server->schema, type))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (server->free_count == 0)
        return NETCORE_ERR_FULL;
    uint32_t index = server->free_ring[server->free_head];
    server->free_head = (server->free_head + 1) % server->max_entities;
    server->free_count--;
    world_slot *slot = &server->slots[index];
    slot->alive = true;
    slot->type = type;
    nci_schema_default_state(server->schema, type, state_of(server, index));
    server->live_count++;
    *out_id = make_id(slot->gen, index);
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_entity_destroy(netcore_snapshot_server *server,
                                                      netcore_entity_id id)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!live_slot(server, id))
        return NETCORE_ERR_NOT_FOUND;
    uint32_t index = id & 0xffffu;
    world_slot *slot = &server->slots[index];
    slot->alive = false;
    slot->gen = (uint16_t)(slot->gen == 0xffffu ? 1u : slot->gen + 1u);
    uint32_t tail = (server->free_head + server->free_count) % server->max_entities;
    server->free_ring[tail] = (uint16_t)index;
    server->free_count++;
    server->live_count--;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_entity_type(const netcore_snapshot_server *server,
                                                   netcore_entity_id id, uint16_t *out_type)
{
    if (!server || !out_type)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const world_slot *slot = live_slot(server, id);
    if (!slot)
        return NETCORE_ERR_NOT_FOUND;
    *out_type = slot->type;
    return NETCORE_OK;
}

uint32_t netcore_snapshot_server_entity_count(const netcore_snapshot_server *server)
{
    return server ? server->live_count : 0;
}

/* Resolves (id, field, kind) for the setters and getters. */
static netcore_result resolve(const netcore_snapshot_server *server, netcore_entity_id id,
                              uint16_t field, netcore_field_kind kind, const nci_field **out_field,
                              uint32_t **out_state)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const world_slot *slot = live_slot(server, id);
    if (!slot)
        return NETCORE_ERR_NOT_FOUND;
    netcore_result r = nci_state_field(server->schema, slot->type, field, kind, out_field);
    if (r == NETCORE_OK)
        *out_state = state_of(server, id & 0xffffu);
    return r;
}

#define SERVER_SETTER(name, kind, ctype, setter)                                                   \
    netcore_result name(netcore_snapshot_server *server, netcore_entity_id id, uint16_t field,     \
                        ctype value)                                                               \
    {                                                                                              \
        const nci_field *f;                                                                        \
        uint32_t *state;                                                                           \
        netcore_result r = resolve(server, id, field, kind, &f, &state);                           \
        if (r == NETCORE_OK)                                                                       \
            setter(f, state, value);                                                               \
        return r;                                                                                  \
    }

#define SERVER_GETTER(name, kind, ctype, getter)                                                   \
    netcore_result name(const netcore_snapshot_server *server, netcore_entity_id id,               \
                        uint16_t field, ctype *out_value)                                          \
    {                                                                                              \
        const nci_field *f;                                                                        \
        uint32_t *state;                                                                           \
        if (!out_value)                                                                            \
            return NETCORE_ERR_INVALID_ARGUMENT;                                                   \
        netcore_result r = resolve(server, id, field, kind, &f, &state);                           \
        if (r == NETCORE_OK)                                                                       \
            *out_value = getter(f, state);                                                         \
        return r;                                                                                  \
    }

SERVER_SETTER(netcore_snapshot_server_set_int, NETCORE_FIELD_INT, int64_t, nci_field_set_int)
SERVER_SETTER(netcore_snapshot_server_set_float, NETCORE_FIELD_FLOAT, float, nci_field_set_float)
SERVER_SETTER(netcore_snapshot_server_set_bool, NETCORE_FIELD_BOOL, bool, nci_field_set_bool)
SERVER_SETTER(netcore_snapshot_server_set_vec3, NETCORE_FIELD_VEC3, netcore_vec3,
              nci_field_set_vec3)
SERVER_SETTER(netcore_snapshot_server_set_quat, NETCORE_FIELD_QUAT, netcore_quat,
              nci_field_set_quat)
SERVER_GETTER(netcore_snapshot_server_get_int, NETCORE_FIELD_INT, int64_t, nci_field_get_int)
SERVER_GETTER(netcore_snapshot_server_get_float, NETCORE_FIELD_FLOAT, float, nci_field_get_float)
SERVER_GETTER(netcore_snapshot_server_get_bool, NETCORE_FIELD_BOOL, bool, nci_field_get_bool)
SERVER_GETTER(netcore_snapshot_server_get_vec3, NETCORE_FIELD_VEC3, netcore_vec3,
              nci_field_get_vec3)
SERVER_GETTER(netcore_snapshot_server_get_quat, NETCORE_FIELD_QUAT, netcore_quat,
              nci_field_get_quat)

/* ---- clients and acks ---- */

netcore_result netcore_snapshot_server_client_add(netcore_snapshot_server *server,
                                                  uint32_t *out_client)
{
    if (!server || !out_client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    for (uint32_t c = 0; c < server->max_clients; c++) {
        client_slot *cl = &server->clients[c];
        if (cl->active)
            continue;
        cl->active = true;
        cl->has_ack = false;
        cl->need_full = false;
        cl->next_seq = 0;
        cl->budget_bytes = server->budget_bytes;
        memset(cl->accum, 0, server->max_entities * sizeof *cl->accum);
        for (uint32_t s = 0; s < server->ring_length; s++)
            cl->ring[s].valid = false;
        memset(&cl->stats, 0, sizeof cl->stats);
        *out_client = c;
        return NETCORE_OK;
    }
    return NETCORE_ERR_FULL;
}

netcore_result netcore_snapshot_server_client_remove(netcore_snapshot_server *server,
                                                     uint32_t client)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_slot *cl = active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    cl->active = false;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_client_set_budget(netcore_snapshot_server *server,
                                                         uint32_t client, uint32_t budget_bytes)
{
    if (!server || budget_bytes < server->min_budget_bytes)
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_slot *cl = active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    cl->budget_bytes = budget_bytes;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_ack(netcore_snapshot_server *server, uint32_t client,
                                           uint16_t sequence)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_slot *cl = active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    const nci_view *v = &cl->ring[sequence % server->ring_length];
    if (!v->valid || v->seq != sequence) {
        cl->stats.acks_unknown++;
        return NETCORE_ERR_NOT_FOUND;
    }
    if (cl->has_ack && !netcore_seq_greater(sequence, cl->acked_seq)) {
        cl->stats.acks_old++;
        return NETCORE_OK;
    }
    cl->has_ack = true;
    cl->acked_seq = sequence;
    cl->stats.acks_received++;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_request_full(netcore_snapshot_server *server,
                                                    uint32_t client)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_slot *cl = active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    cl->need_full = true;
    cl->stats.full_requests++;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_read_ack(netcore_snapshot_server *server, uint32_t client,
                                                const void *bytes, size_t size_bytes)
{
    if (!server || (!bytes && size_bytes))
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_slot *cl = active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, bytes, size_bytes);
    uint16_t tag = (uint16_t)netcore_bit_read_bits(&r, 16);
    uint32_t flags = netcore_bit_read_bits(&r, 8);
    uint16_t seq = (uint16_t)netcore_bit_read_bits(&r, 16);
    if (netcore_bit_reader_failed(&r) || size_bytes != NETCORE_SNAPSHOT_ACK_BYTES ||
        (flags & ~3u) != 0 || (!(flags & 1u) && seq != 0)) {
        cl->stats.acks_rejected++;
        return NETCORE_ERR_MALFORMED;
    }
    if (tag != server->schema->tag) {
        cl->stats.acks_rejected++;
        return NETCORE_ERR_MISMATCH;
    }
    if (flags & 2u)
        netcore_snapshot_server_request_full(server, client);
    if (flags & 1u) {
        netcore_result res = netcore_snapshot_server_ack(server, client, seq);
        if (res != NETCORE_OK)
            return res;
    }
    return NETCORE_OK;
}

/* ---- stats ---- */

netcore_result netcore_snapshot_server_client_stats(const netcore_snapshot_server *server,
                                                    uint32_t client,
                                                    netcore_snapshot_server_stats *out_stats)
{
    if (!server || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const client_slot *cl = active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    *out_stats = cl->stats;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_type_stats(const netcore_snapshot_server *server,
                                                  uint16_t type, uint64_t *out_bits,
                                                  uint64_t *out_entities)
{
    if (!server || !nci_schema_type(server->schema, type))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (out_bits)
        *out_bits = server->type_bits[type];
    if (out_entities)
        *out_entities = server->type_entities[type];
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_field_stats(const netcore_snapshot_server *server,
                                                   uint16_t type, uint16_t field,
                                                   uint64_t *out_bits, uint64_t *out_writes)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const nci_type *t = nci_schema_type(server->schema, type);
    if (!t || field >= t->field_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (out_bits)
        *out_bits = server->field_bits[t->first_field + field];
    if (out_writes)
        *out_writes = server->field_writes[t->first_field + field];
    return NETCORE_OK;
}

/* ---- the encoder ---- */

/* What one write decided before any bit is written. */
typedef struct write_plan {
    const nci_view *base; /* the baseline, or the empty view for a full snapshot */
    bool has_base;
    uint32_t age; /* snapshots between this one and the baseline */
    uint32_t cand_count;
    uint32_t removal_count;     /* removal candidates */
    uint32_t removals_selected; /* the first removals_selected of them are written */
    uint32_t selected;          /* candidates written */
    size_t header_bits;
} write_plan;

static float interest_weight(const netcore_snapshot_server *server, uint32_t client, uint32_t index)
{
    const world_slot *slot = &server->slots[index];
    if (!server->interest)
        return 1.0f;
    float w = server->interest(server->interest_user, server, client, make_id(slot->gen, index),
                               slot->type);
    if (!(w > 0.0f)) /* NaN too */
        return 0.0f;
    return w < MIN_WEIGHT ? MIN_WEIGHT : (w > MAX_WEIGHT ? MAX_WEIGHT : w);
}

/* The newest acknowledged snapshot if it is still in the ring and usable. */
static void pick_baseline(netcore_snapshot_server *server, client_slot *cl, write_plan *plan)
{
    plan->base = &server->empty_view;
    plan->has_base = false;
    plan->age = 0;
    if (cl->need_full) {
        cl->need_full = false;
        cl->has_ack = false;
        return;
    }
    if (!cl->has_ack)
        return;
    const nci_view *v = &cl->ring[cl->acked_seq % server->ring_length];
    uint32_t age = (uint16_t)(cl->next_seq - cl->acked_seq);
    /* age >= ring_length: the new snapshot would overwrite the baseline's slot,
     * and the client has acknowledged nothing newer for a whole ring. */
    if (!v->valid || v->seq != cl->acked_seq || age == 0 || age >= server->ring_length) {
        cl->has_ack = false;
        cl->stats.baselines_expired++;
        return;
    }
    plan->base = v;
    plan->has_base = true;
    plan->age = age;
}

/* Lists removals (baseline entities the client must drop) and candidates
 * (entities that differ from the baseline), and grows priorities. */
static void classify(netcore_snapshot_server *server, uint32_t client, client_slot *cl,
                     write_plan *plan)
{
    const netcore_schema *schema = server->schema;
    const nci_view *b = plan->base;
    uint32_t bp = 0, nc = 0, nr = 0;
    memset(server->removed, 0, b->count);
    for (uint32_t i = 0; i < server->max_entities; i++) {
        bool in_base = bp < b->count && b->index[bp] == i;
        const world_slot *slot = &server->slots[i];
        float w = slot->alive ? interest_weight(server, client, i) : 0.0f;
        bool same = in_base && w > 0.0f && b->gen[bp] == slot->gen;
        if (in_base && !same)
            server->removals[nr++] = bp;
        if (w > 0.0f) {
            const nci_type *t = &schema->types[slot->type];
            const uint32_t *cur = state_of(server, i);
            candidate *c = &server->cands[nc];
            if (same) {
                c->bits = nci_entity_delta_bits(schema, t, &b->state[(size_t)bp * server->stride],
                                                cur, &c->mask);
                c->base_pos = (int32_t)bp;
                c->replaces_pos = -1;
            } else {
                c->bits = schema->type_bits + NCI_GENERATION_BITS +
                          nci_entity_delta_bits(schema, t, &schema->comp_default[t->first_comp],
                                                cur, &c->mask);
                c->base_pos = -1;
                c->replaces_pos = in_base ? (int32_t)bp : -1;
            }
            if (same && c->mask == 0) {
                cl->accum[i] = 0.0f; /* unchanged: nothing to send, nothing to wait for */
            } else {
                cl->accum[i] += w;
                c->priority = cl->accum[i];
                c->index = (uint16_t)i;
                c->selected = false;
                nc++;
            }
        } else {
            cl->accum[i] = 0.0f;
        }
        if (in_base)
            bp++;
    }
    plan->cand_count = nc;
    plan->removal_count = nr;
}

static int compare_priority(const void *a, const void *b)
{
    const priority_ref *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority > y->priority ? -1 : 1;
    return x->pos < y->pos ? -1 : (x->pos > y->pos ? 1 : 0);
}

/* Greedy pass over candidates by priority, charging the longest slot gap. */
static void select_pass(netcore_snapshot_server *server, uint32_t count, size_t *avail,
                        uint32_t *view_count)
{
    for (uint32_t k = 0; k < count; k++) {
        candidate *c = &server->cands[server->order[k].pos];
        if (c->selected)
            continue;
        if (c->replaces_pos >= 0 && !server->removed[c->replaces_pos])
            continue; /* the slot's old occupant is still on the client */
        if (c->base_pos < 0 && *view_count >= server->max_view)
            continue;
        size_t cost = (size_t)c->bits + NCI_GAP_MAX_BITS;
        if (cost > *avail)
            continue;
        *avail -= cost;
        c->selected = true;
        if (c->base_pos < 0)
            (*view_count)++;
    }
}

/* Chooses what fits in budget_bits: removals first (cheap, and they free view
 * room), then candidates by priority. Costs of candidates use the longest
 * gap code, so the choice always fits; a second pass spends what that
 * pessimism left over. */
static void select_entities(netcore_snapshot_server *server, write_plan *plan, size_t budget_bits)
{
    const nci_view *b = plan->base;
    size_t avail = budget_bits - plan->header_bits;
    int64_t prev = -1;
    uint32_t r = 0;
    for (; r < plan->removal_count; r++) {
        uint32_t index = b->index[server->removals[r]];
        unsigned cost = nci_gap_bits((uint32_t)(index - prev));
        if (cost > avail)
            break;
        avail -= cost;
        server->removed[server->removals[r]] = 1;
        prev = index;
    }
    plan->removals_selected = r;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        server->order[k].priority = server->cands[k].priority;
        server->order[k].pos = k;
    }
    qsort(server->order, plan->cand_count, sizeof *server->order, compare_priority);
    uint32_t view_count = b->count - r;
    size_t pass_avail = avail;
    select_pass(server, plan->cand_count, &pass_avail, &view_count);
    size_t used = 0;
    prev = -1;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        used += c->bits + nci_gap_bits((uint32_t)(c->index - prev));
        prev = c->index;
    }
    pass_avail = avail - used;
    select_pass(server, plan->cand_count, &pass_avail, &view_count);
    plan->selected = 0;
    for (uint32_t k = 0; k < plan->cand_count; k++)
        plan->selected += server->cands[k].selected;
}

static void write_entities(netcore_snapshot_server *server, const write_plan *plan,
                           netcore_bit_writer *w)
{
    const netcore_schema *schema = server->schema;
    const nci_view *b = plan->base;
    netcore_bit_write_varint(w, plan->removals_selected);
    int64_t prev = -1;
    for (uint32_t r = 0; r < plan->removals_selected; r++) {
        uint32_t index = b->index[server->removals[r]];
        nci_gap_write(w, (uint32_t)(index - prev));
        prev = index;
    }
    netcore_bit_write_varint(w, plan->selected);
    prev = -1;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        const world_slot *slot = &server->slots[c->index];
        const nci_type *t = &schema->types[slot->type];
        size_t before = netcore_bit_writer_bits_written(w);
        nci_gap_write(w, (uint32_t)(c->index - prev));
        prev = c->index;
        const uint32_t *ref;
        if (c->base_pos >= 0) {
            ref = &b->state[(size_t)c->base_pos * server->stride];
        } else {
            netcore_bit_write_bits(w, slot->type, schema->type_bits);
            netcore_bit_write_bits(w, slot->gen, NCI_GENERATION_BITS);
            ref = &schema->comp_default[t->first_comp];
        }
        nci_entity_delta_write(w, schema, t, ref, state_of(server, c->index), c->mask,
                               server->field_bits);
        server->type_bits[slot->type] += netcore_bit_writer_bits_written(w) - before;
        server->type_entities[slot->type]++;
        for (uint32_t f = 0; f < t->field_count; f++)
            server->field_writes[t->first_field + f] += (c->mask >> f) & 1u;
    }
}

/* Records what the client will hold once it decodes this snapshot: the
 * baseline minus removals, with written entities replaced or inserted. */
static void build_view(netcore_snapshot_server *server, const write_plan *plan, nci_view *out)
{
    const nci_view *b = plan->base;
    uint32_t stride = server->stride;
    uint32_t bp = 0;
    out->count = 0;
    for (uint32_t k = 0; k < plan->cand_count; k++) {
        const candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        for (; bp < b->count && b->index[bp] < c->index; bp++)
            if (!server->removed[bp])
                nci_view_append(out, b, bp, stride);
        if (bp < b->count && b->index[bp] == c->index)
            bp++;
        uint32_t at = out->count++;
        out->index[at] = c->index;
        out->gen[at] = server->slots[c->index].gen;
        out->type[at] = server->slots[c->index].type;
        memcpy(&out->state[(size_t)at * stride], state_of(server, c->index),
               stride * sizeof(uint32_t));
    }
    for (; bp < b->count; bp++)
        if (!server->removed[bp])
            nci_view_append(out, b, bp, stride);
}

static void update_stats(client_slot *cl, const write_plan *plan, size_t written)
{
    netcore_snapshot_server_stats *s = &cl->stats;
    if (plan->has_base)
        s->snapshots_delta++;
    else
        s->snapshots_full++;
    s->bytes_total += written;
    s->last_snapshot_bytes = (uint32_t)written;
    if (written > s->max_snapshot_bytes)
        s->max_snapshot_bytes = (uint32_t)written;
    s->last_baseline_age = plan->age;
    if (plan->age > s->max_baseline_age)
        s->max_baseline_age = plan->age;
    s->entities_removed += plan->removals_selected;
    s->removals_deferred += plan->removal_count - plan->removals_selected;
    s->entities_deferred += plan->cand_count - plan->selected;
}

netcore_result netcore_snapshot_server_write(netcore_snapshot_server *server, uint32_t client,
                                             uint32_t now_tick, void *buffer, size_t size_bytes,
                                             size_t *out_written)
{
    if (!server || !buffer || !out_written)
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_slot *cl = active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    size_t budget = size_bytes < cl->budget_bytes ? size_bytes : cl->budget_bytes;
    if (budget < server->min_budget_bytes)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_written = 0;

    write_plan plan;
    memset(&plan, 0, sizeof plan);
    pick_baseline(server, cl, &plan);
    classify(server, client, cl, &plan);
    int64_t tick_delta = (int64_t)now_tick - (int64_t)plan.base->tick;
    plan.header_bits = 16 + 16 + 1 +
                       (plan.has_base ? netcore_varint_bits(plan.age) +
                                            netcore_varint_bits(netcore_zigzag_encode(tick_delta))
                                      : 32) +
                       netcore_varint_bits(plan.removal_count) +
                       netcore_varint_bits(plan.cand_count);
    select_entities(server, &plan, budget * 8);

    uint16_t seq = cl->next_seq;
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, budget);
    netcore_bit_write_bits(&w, server->schema->tag, 16);
    netcore_bit_write_bits(&w, seq, 16);
    netcore_bit_write_bool(&w, plan.has_base);
    if (plan.has_base) {
        netcore_bit_write_varint(&w, plan.age);
        netcore_bit_write_varint_signed(&w, tick_delta);
    } else {
        netcore_bit_write_bits(&w, now_tick, 32);
    }
    write_entities(server, &plan, &w);
    size_t written = netcore_bit_writer_flush(&w);
    if (netcore_bit_writer_failed(&w)) {
        /* Unreachable if the cost model is right; never send a cut snapshot. */
        nci_logf(&server->log, NETCORE_LOG_ERROR, "snapshot for client %u overflowed its budget",
                 (unsigned)client);
        return NETCORE_ERR_TOO_LARGE;
    }

    nci_view *out = &cl->ring[seq % server->ring_length];
    build_view(server, &plan, out);
    out->valid = true;
    out->seq = seq;
    out->tick = now_tick;
    cl->next_seq++;
    for (uint32_t k = 0; k < plan.cand_count; k++) {
        const candidate *c = &server->cands[k];
        if (!c->selected)
            continue;
        cl->accum[c->index] = 0.0f;
        if (c->base_pos >= 0)
            cl->stats.entities_updated++;
        else
            cl->stats.entities_created++;
    }
    update_stats(cl, &plan, written);
    *out_written = written;
    return NETCORE_OK;
}
