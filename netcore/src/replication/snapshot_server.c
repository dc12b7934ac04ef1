/* Snapshot server: the authoritative world, clients, acks and stats. The
 * encoder (netcore_snapshot_server_write) is in snapshot_encode.c. */
#include <string.h>

#include "core/core_internal.h"
#include "replication/snapshot_internal.h"

#define DEFAULT_MAX_ENTITIES 1024u
#define DEFAULT_MAX_CLIENTS 16u
#define DEFAULT_RING_LENGTH 32u
#define DEFAULT_BUDGET_BYTES 1200u
#define MAX_RING_LENGTH 1024u

/* ---- small helpers ---- */

static const nci_world_slot *live_slot(const netcore_snapshot_server *server, netcore_entity_id id)
{
    uint32_t index = id & 0xffffu;
    if (!server || index >= server->max_entities)
        return NULL;
    const nci_world_slot *slot = &server->slots[index];
    return slot->alive && slot->gen == (id >> 16) ? slot : NULL;
}

uint32_t *nci_world_state(const netcore_snapshot_server *server, uint32_t index)
{
    return &server->world_state[(size_t)index * server->stride];
}

nci_client_slot *nci_active_client(const netcore_snapshot_server *server, uint32_t client)
{
    if (!server || client >= server->max_clients || !server->clients[client].active)
        return NULL;
    return &server->clients[client];
}

static bool is_power_of_two(uint32_t v)
{
    return v && !(v & (v - 1));
}

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
    nci_free(a, server->delta_cache);
    nci_free(a, server->delta_ref);
    nci_free(a, server->delta_cur);
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
        nci_client_slot *cl = &server->clients[c];
        cl->accum = nci_calloc(a, server->max_entities, sizeof *cl->accum);
        cl->ring = nci_calloc(a, server->ring_length, sizeof *cl->ring);
        if (!cl->accum || !cl->ring ||
            !nci_views_alloc(a, cl->ring, server->ring_length, server->max_view, server->stride,
                             nci_range_coded(server->schema), &cl->ring_block))
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
    /* The range-coded format adds one header bit (range or bit-packed body). */
    uint32_t min_budget =
        (NCI_HEADER_MAX_BITS + (nci_range_coded(schema) ? 1u : 0u) + schema->max_entity_bits + 7) /
        8;
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
    server->delta_cache = nci_calloc(a, server->max_entities, sizeof *server->delta_cache);
    server->delta_ref =
        nci_calloc(a, (size_t)server->max_entities * server->stride, sizeof(uint32_t));
    server->delta_cur =
        nci_calloc(a, (size_t)server->max_entities * server->stride, sizeof(uint32_t));
    server->type_bits = nci_calloc(a, schema->type_count, sizeof(uint64_t));
    server->type_entities = nci_calloc(a, schema->type_count, sizeof(uint64_t));
    server->field_bits = nci_calloc(a, schema->field_total + 1, sizeof(uint64_t));
    server->field_writes = nci_calloc(a, schema->field_total + 1, sizeof(uint64_t));
    if (!server->slots || !server->world_state || !server->free_ring || !server->cands ||
        !server->order || !server->removals || !server->removed || !server->delta_cache ||
        !server->delta_ref || !server->delta_cur || !server->type_bits || !server->type_entities ||
        !server->field_bits || !server->field_writes || !alloc_clients(server)) {
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
    nci_world_slot *slot = &server->slots[index];
    slot->alive = true;
    slot->type = type;
    nci_schema_default_state(server->schema, type, nci_world_state(server, index));
    server->live_count++;
    *out_id = nci_make_id(slot->gen, index);
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
    nci_world_slot *slot = &server->slots[index];
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
    const nci_world_slot *slot = live_slot(server, id);
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
    const nci_world_slot *slot = live_slot(server, id);
    if (!slot)
        return NETCORE_ERR_NOT_FOUND;
    netcore_result r = nci_state_field(server->schema, slot->type, field, kind, out_field);
    if (r == NETCORE_OK)
        *out_state = nci_world_state(server, id & 0xffffu);
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
        nci_client_slot *cl = &server->clients[c];
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
    nci_client_slot *cl = nci_active_client(server, client);
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
    nci_client_slot *cl = nci_active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    cl->budget_bytes = budget_bytes;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_ack(netcore_snapshot_server *server, uint32_t client,
                                           uint16_t sequence,
                                           netcore_snapshot_ack_outcome *out_outcome)
{
    netcore_snapshot_ack_outcome ignored;
    if (!out_outcome)
        out_outcome = &ignored;
    *out_outcome = NETCORE_SNAPSHOT_ACK_UNKNOWN;
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_client_slot *cl = nci_active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    const nci_view *v = &cl->ring[sequence % server->ring_length];
    if (!v->valid || v->seq != sequence) {
        /* Late acks over a long round trip name snapshots the ring dropped. */
        cl->stats.acks_unknown++;
        return NETCORE_OK;
    }
    if (cl->has_ack && !netcore_seq_greater(sequence, cl->acked_seq)) {
        cl->stats.acks_old++;
        *out_outcome = NETCORE_SNAPSHOT_ACK_OLD;
        return NETCORE_OK;
    }
    cl->has_ack = true;
    cl->acked_seq = sequence;
    cl->stats.acks_received++;
    *out_outcome = NETCORE_SNAPSHOT_ACK_APPLIED;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_request_full(netcore_snapshot_server *server,
                                                    uint32_t client)
{
    if (!server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_client_slot *cl = nci_active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    cl->need_full = true;
    cl->stats.full_requests++;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_read_ack(netcore_snapshot_server *server, uint32_t client,
                                                const void *bytes, size_t size_bytes,
                                                netcore_snapshot_ack_outcome *out_outcome)
{
    if (out_outcome)
        *out_outcome = NETCORE_SNAPSHOT_ACK_NONE;
    if (!server || (!bytes && size_bytes))
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_client_slot *cl = nci_active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, bytes, size_bytes);
    uint16_t tag = (uint16_t)netcore_bit_read_bits(&r, 16);
    uint32_t flags = netcore_bit_read_bits(&r, 8);
    uint16_t seq = (uint16_t)netcore_bit_read_bits(&r, 16);
    netcore_result verdict = NETCORE_OK;
    if (netcore_bit_reader_failed(&r) || size_bytes != NETCORE_SNAPSHOT_ACK_BYTES ||
        (flags & ~3u) != 0 || (!(flags & 1u) && seq != 0))
        verdict = NETCORE_ERR_MALFORMED;
    else if (tag != server->schema->tag)
        verdict = NETCORE_ERR_MISMATCH;
    if (verdict != NETCORE_OK) {
        uint64_t count = ++cl->stats.acks_rejected;
        if ((count & (count - 1)) == 0) /* 1st, 2nd, 4th, ...: no log flood */
            nci_logf(&server->log, NETCORE_LOG_WARN, "client %u: ack rejected: %s (%llu so far)",
                     (unsigned)client, netcore_result_str(verdict), (unsigned long long)count);
        return verdict;
    }
    if (flags & 2u)
        netcore_snapshot_server_request_full(server, client);
    if (flags & 1u)
        return netcore_snapshot_server_ack(server, client, seq, out_outcome);
    return NETCORE_OK;
}

/* ---- stats ---- */

netcore_result netcore_snapshot_server_get_client_stats(const netcore_snapshot_server *server,
                                                        uint32_t client,
                                                        netcore_snapshot_server_stats *out_stats)
{
    if (!server || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const nci_client_slot *cl = nci_active_client(server, client);
    if (!cl)
        return NETCORE_ERR_NOT_FOUND;
    *out_stats = cl->stats;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_server_get_type_stats(const netcore_snapshot_server *server,
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

netcore_result netcore_snapshot_server_get_field_stats(const netcore_snapshot_server *server,
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
