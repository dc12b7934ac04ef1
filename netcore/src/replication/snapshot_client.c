/* Snapshot client: decodes untrusted snapshot bytes against the baseline they
 * name, keeps a ring of decoded snapshots (possible baselines), acknowledges
 * the newest and exposes it as the current world. */
#include <string.h>

#include "core/core_internal.h"
#include "replication/range_coder.h"
#include "replication/snapshot_internal.h"

#define DEFAULT_MAX_ENTITIES 1024u
#define DEFAULT_RING_LENGTH 32u
#define MAX_RING_LENGTH 1024u
#define MAX_BASELINE_DISTANCE 32767u

struct netcore_snapshot_client {
    netcore_allocator allocator;
    netcore_log log;
    const netcore_schema *schema;
    uint32_t max_entities, ring_length, stride;
    nci_view *views;     /* [ring_length + 1]: the ring plus one spare to decode into */
    uint32_t *slot_view; /* [ring_length] which view holds ring slot s (= sequence % ring_length) */
    uint32_t spare;      /* index of the spare view */
    void *block;
    uint8_t *removed;  /* [max_entities] scratch: baseline positions removed by the snapshot */
    uint16_t *created; /* [max_entities] scratch: creation slots (range-coded) */
    bool has_newest;
    uint16_t newest_seq;
    bool need_full;
    netcore_snapshot_client_stats stats;
};

static bool is_power_of_two(uint32_t v)
{
    return v && !(v & (v - 1));
}

static nci_view *slot_view(const netcore_snapshot_client *client, uint16_t seq)
{
    return &client->views[client->slot_view[seq % client->ring_length]];
}

static const nci_view *current_view(const netcore_snapshot_client *client)
{
    if (!client || !client->has_newest)
        return NULL;
    return slot_view(client, client->newest_seq);
}

void netcore_snapshot_client_config_default(netcore_snapshot_client_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->max_entities = DEFAULT_MAX_ENTITIES;
    config->ring_length = DEFAULT_RING_LENGTH;
}

void netcore_snapshot_client_destroy(netcore_snapshot_client *client)
{
    if (!client)
        return;
    netcore_allocator allocator = client->allocator;
    nci_free(&allocator, client->views);
    nci_free(&allocator, client->slot_view);
    nci_free(&allocator, client->block);
    nci_free(&allocator, client->removed);
    nci_free(&allocator, client->created);
    nci_free(&allocator, client);
}

netcore_result netcore_snapshot_client_create(const netcore_snapshot_client_config *config,
                                              netcore_snapshot_client **out_client)
{
    if (!config || !out_client || !netcore_schema_is_finalized(config->schema) ||
        config->max_entities == 0 || config->max_entities > NETCORE_SNAPSHOT_MAX_ENTITIES ||
        !is_power_of_two(config->ring_length) || config->ring_length < 2 ||
        config->ring_length > MAX_RING_LENGTH)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_client = NULL;
    netcore_snapshot_client *client = nci_calloc(&config->allocator, 1, sizeof *client);
    if (!client)
        return NETCORE_ERR_OUT_OF_MEMORY;
    client->allocator = config->allocator;
    client->log = config->log;
    client->schema = config->schema;
    client->max_entities = config->max_entities;
    client->ring_length = config->ring_length;
    client->stride = config->schema->max_comps;
    const netcore_allocator *a = &client->allocator;
    client->views = nci_calloc(a, client->ring_length + 1, sizeof *client->views);
    client->slot_view = nci_calloc(a, client->ring_length, sizeof *client->slot_view);
    client->removed = nci_calloc(a, client->max_entities, 1);
    bool range = nci_range_coded(client->schema), range_ok = true;
    if (range) {
        client->created = nci_calloc(a, client->max_entities, sizeof *client->created);
        range_ok = client->created != NULL;
    }
    if (!client->views || !client->slot_view || !client->removed || !range_ok ||
        !nci_views_alloc(a, client->views, client->ring_length + 1, client->max_entities,
                         client->stride, range, &client->block)) {
        netcore_snapshot_client_destroy(client);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    netcore_snapshot_client_reset(client);
    *out_client = client;
    return NETCORE_OK;
}

void netcore_snapshot_client_reset(netcore_snapshot_client *client)
{
    if (!client)
        return;
    for (uint32_t s = 0; s < client->ring_length; s++)
        client->slot_view[s] = s;
    client->spare = client->ring_length;
    for (uint32_t v = 0; v <= client->ring_length; v++)
        client->views[v].valid = false;
    client->has_newest = false;
    client->need_full = false;
}

/* ---- decoding ---- */

/* One decode in progress. */
typedef struct decode_ctx {
    netcore_snapshot_client *client;
    netcore_bit_reader reader;
    const nci_view *base;
    nci_view *out;
} decode_ctx;

/* Reads the removal list; marks client->removed for baseline positions. */
static bool read_removals(decode_ctx *d)
{
    netcore_snapshot_client *client = d->client;
    const nci_view *b = d->base;
    uint64_t count = netcore_bit_read_varint(&d->reader);
    if (count > b->count)
        return false;
    memset(client->removed, 0, b->count);
    int64_t prev = -1;
    uint32_t bp = 0;
    for (uint64_t n = 0; n < count; n++) {
        uint32_t gap = nci_gap_read(&d->reader);
        if (gap == 0 || netcore_bit_reader_failed(&d->reader))
            return false;
        int64_t index = prev + gap;
        while (bp < b->count && b->index[bp] < index)
            bp++;
        if (bp == b->count || b->index[bp] != index)
            return false; /* removing something the baseline does not hold */
        client->removed[bp] = 1;
        prev = index;
    }
    return true;
}

/* Copies baseline entries below `index` (not removed) to the output. */
static bool carry_below(decode_ctx *d, uint32_t *bp, int64_t index)
{
    const nci_view *b = d->base;
    for (; *bp < b->count && b->index[*bp] < index; (*bp)++) {
        if (d->client->removed[*bp])
            continue;
        if (d->out->count >= d->client->max_entities)
            return false;
        nci_view_append(d->out, b, *bp, d->client->stride);
    }
    return true;
}

static bool read_updates(decode_ctx *d)
{
    netcore_snapshot_client *client = d->client;
    const netcore_schema *schema = client->schema;
    const nci_view *b = d->base;
    uint64_t count = netcore_bit_read_varint(&d->reader);
    if (count > client->max_entities)
        return false;
    int64_t prev = -1;
    uint32_t bp = 0;
    for (uint64_t n = 0; n < count; n++) {
        uint32_t gap = nci_gap_read(&d->reader);
        int64_t index = prev + gap;
        if (gap == 0 || netcore_bit_reader_failed(&d->reader) || index >= client->max_entities)
            return false;
        if (!carry_below(d, &bp, index) || d->out->count >= client->max_entities)
            return false;
        uint32_t at = d->out->count;
        uint32_t *state = &d->out->state[(size_t)at * client->stride];
        memset(state, 0, client->stride * sizeof *state);
        const uint32_t *ref;
        uint16_t type, gen;
        bool in_base = bp < b->count && b->index[bp] == index;
        if (in_base && !client->removed[bp]) {
            /* An update of the entity the baseline holds in this slot. */
            type = b->type[bp];
            gen = b->gen[bp];
            ref = &b->state[(size_t)bp * client->stride];
        } else {
            /* A creation: the slot is empty (or emptied by this snapshot). */
            type = (uint16_t)netcore_bit_read_bits(&d->reader, schema->type_bits);
            gen = (uint16_t)netcore_bit_read_bits(&d->reader, NCI_GENERATION_BITS);
            if (netcore_bit_reader_failed(&d->reader) || type >= schema->type_count || gen == 0)
                return false;
            ref = &schema->comp_default[schema->types[type].first_comp];
        }
        if (in_base)
            bp++;
        if (!nci_entity_delta_read(&d->reader, schema, &schema->types[type], ref, state) ||
            netcore_bit_reader_failed(&d->reader))
            return false;
        d->out->index[at] = (uint16_t)index;
        d->out->gen[at] = gen;
        d->out->type[at] = type;
        d->out->count++;
        prev = index;
    }
    return carry_below(d, &bp, (int64_t)1 << 32);
}

static netcore_result reject(netcore_snapshot_client *client, netcore_result result,
                             const char *why)
{
    uint64_t count = result == NETCORE_ERR_MISMATCH ? ++client->stats.rejected_mismatch
                                                    : ++client->stats.rejected_malformed;
    /* Hostile input must not flood the log: the 1st, 2nd, 4th, 8th, ... of a kind. */
    if ((count & (count - 1)) == 0)
        nci_logf(&client->log, NETCORE_LOG_WARN, "snapshot rejected: %s (%llu of this kind)", why,
                 (unsigned long long)count);
    return result;
}

const char *netcore_snapshot_receive_outcome_str(netcore_snapshot_receive_outcome outcome)
{
    switch (outcome) {
    case NETCORE_SNAPSHOT_RECEIVED_NEWEST:
        return "newest";
    case NETCORE_SNAPSHOT_RECEIVED_OLDER:
        return "older";
    case NETCORE_SNAPSHOT_IGNORED_DUPLICATE:
        return "duplicate";
    case NETCORE_SNAPSHOT_IGNORED_STALE:
        return "stale";
    case NETCORE_SNAPSHOT_BASELINE_MISSING:
        return "baseline missing";
    case NETCORE_SNAPSHOT_REJECTED:
        return "rejected";
    }
    return "unknown";
}

/* Decodes into *outcome when it returns NETCORE_OK; errors are counted by reject(). */
static netcore_result client_read(netcore_snapshot_client *client, const void *bytes,
                                  size_t size_bytes, netcore_snapshot_receive_outcome *outcome)
{
    if (!client || (!bytes && size_bytes))
        return NETCORE_ERR_INVALID_ARGUMENT;
    client->stats.snapshots_received++;
    client->stats.bytes_received += size_bytes;
    decode_ctx d = {.client = client};
    netcore_bit_reader *r = &d.reader;
    netcore_bit_reader_init(r, bytes, size_bytes);
    uint16_t tag = (uint16_t)netcore_bit_read_bits(r, 16);
    uint16_t seq = (uint16_t)netcore_bit_read_bits(r, 16);
    bool has_base = netcore_bit_read_bool(r);
    uint64_t distance = has_base ? netcore_bit_read_varint(r) : 0;
    if (netcore_bit_reader_failed(r))
        return reject(client, NETCORE_ERR_MALFORMED, "truncated header");
    if (tag != client->schema->tag)
        return reject(client, NETCORE_ERR_MISMATCH, "schema tag differs");
    if (has_base && (distance == 0 || distance > MAX_BASELINE_DISTANCE))
        return reject(client, NETCORE_ERR_MALFORMED, "bad baseline distance");

    const nci_view *at_slot = slot_view(client, seq);
    if (at_slot->valid && at_slot->seq == seq) {
        client->stats.ignored_duplicate++;
        *outcome = NETCORE_SNAPSHOT_IGNORED_DUPLICATE;
        return NETCORE_OK;
    }
    bool newer = !client->has_newest || netcore_seq_greater(seq, client->newest_seq);
    int32_t behind = netcore_seq_diff(client->newest_seq, seq);
    if (!newer && (behind <= 0 || behind >= (int32_t)client->ring_length)) {
        client->stats.ignored_stale++;
        *outcome = NETCORE_SNAPSHOT_IGNORED_STALE;
        return NETCORE_OK;
    }

    static const nci_view empty_view = {0};
    d.base = &empty_view;
    if (has_base) {
        uint16_t base_seq = (uint16_t)(seq - distance);
        const nci_view *bv = slot_view(client, base_seq);
        if (!bv->valid || bv->seq != base_seq) {
            if (newer)
                client->need_full = true;
            /* Normal after loss or a late ack; the next ack asks for a full one. */
            client->stats.rejected_baseline_missing++;
            *outcome = NETCORE_SNAPSHOT_BASELINE_MISSING;
            return NETCORE_OK;
        }
        d.base = bv;
    }
    /* The range-coded format puts its body flag before the tick delta, which a
     * range-coded body carries itself. */
    bool range = nci_range_coded(client->schema);
    uint32_t tick = has_base ? 0 : netcore_bit_read_bits(r, 32);
    bool range_body = range && netcore_bit_read_bool(r);
    if (has_base && !range_body) {
        int64_t tick_delta = netcore_bit_read_varint_signed(r);
        if (tick_delta > (int64_t)UINT32_MAX || tick_delta < -(int64_t)UINT32_MAX)
            return reject(client, NETCORE_ERR_MALFORMED, "bad tick");
        tick = (uint32_t)((int64_t)d.base->tick + tick_delta);
    }
    d.out = &client->views[client->spare];
    d.out->count = 0;
    if (range_body) {
        unsigned dropped = netcore_bit_read_bits(r, NCI_RANGE_DROPPED_BITS);
        netcore_bit_reader_align(r);
        if (netcore_bit_reader_failed(r))
            return reject(client, NETCORE_ERR_MALFORMED, "truncated header");
        if (dropped > NCI_RC_MAX_PAD_BYTES)
            return reject(client, NETCORE_ERR_MALFORMED, "bad range coder padding");
        size_t head = netcore_bit_reader_bytes_read(r);
        nci_range_body_read rb = {
            .schema = client->schema,
            .base = d.base,
            .has_base = has_base,
            .out = d.out,
            .max_entities = client->max_entities,
            .stride = client->stride,
            .tick = tick,
            .dropped_bytes = dropped,
            .removed = client->removed,
            .created = client->created,
            .models = d.out->models,
        };
        if (!nci_range_body_decode(&rb, (const uint8_t *)bytes + head, size_bytes - head))
            return reject(client, NETCORE_ERR_MALFORMED, "bad range-coded body");
        tick = rb.tick;
    } else {
        if (netcore_bit_reader_failed(r) || !read_removals(&d) || !read_updates(&d))
            return reject(client, NETCORE_ERR_MALFORMED, "bad entity data");
        netcore_bit_reader_align(r);
        if (netcore_bit_reader_failed(r) || netcore_bit_reader_bits_remaining(r) != 0)
            return reject(client, NETCORE_ERR_MALFORMED, "trailing bytes");
    }
    if (range) {
        d.out->tick = tick;
        const nci_view *base = has_base ? d.base : NULL;
        nci_view_derive_motion(client->schema, base, d.out, client->stride);
        nci_view_keep_models(d.out, base, range_body ? d.out->models : NULL);
    }

    /* Commit: the spare becomes the ring slot's view, the old one the spare. */
    d.out->valid = true;
    d.out->seq = seq;
    d.out->tick = tick;
    uint32_t slot = seq % client->ring_length;
    uint32_t old = client->slot_view[slot];
    client->slot_view[slot] = client->spare;
    client->spare = old;
    client->views[old].valid = false;
    client->stats.snapshots_decoded++;
    if (has_base)
        client->stats.delta_decoded++;
    else
        client->stats.full_decoded++;
    if (newer) {
        client->has_newest = true;
        client->newest_seq = seq;
        client->need_full = false;
        client->stats.last_baseline_age = (uint32_t)distance;
        *outcome = NETCORE_SNAPSHOT_RECEIVED_NEWEST;
    } else {
        client->stats.older_decoded++;
        *outcome = NETCORE_SNAPSHOT_RECEIVED_OLDER;
    }
    return NETCORE_OK;
}

netcore_result netcore_snapshot_client_read(netcore_snapshot_client *client, const void *bytes,
                                            size_t size_bytes,
                                            netcore_snapshot_receive_outcome *out_outcome)
{
    netcore_snapshot_receive_outcome outcome = NETCORE_SNAPSHOT_REJECTED;
    netcore_result r = client_read(client, bytes, size_bytes, &outcome);
    if (out_outcome)
        *out_outcome = r == NETCORE_OK ? outcome : NETCORE_SNAPSHOT_REJECTED;
    return r;
}

/* ---- acks and the decoded world ---- */

netcore_result netcore_snapshot_client_sequence(const netcore_snapshot_client *client,
                                                uint16_t *out_sequence, uint32_t *out_tick)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const nci_view *v = current_view(client);
    if (!v)
        return NETCORE_ERR_NOT_FOUND;
    if (out_sequence)
        *out_sequence = v->seq;
    if (out_tick)
        *out_tick = v->tick;
    return NETCORE_OK;
}

netcore_result netcore_snapshot_client_write_ack(netcore_snapshot_client *client, void *buffer,
                                                 size_t size_bytes, size_t *out_written)
{
    if (!client || !buffer || !out_written || size_bytes < NETCORE_SNAPSHOT_ACK_BYTES)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buffer, NETCORE_SNAPSHOT_ACK_BYTES);
    netcore_bit_write_bits(&w, client->schema->tag, 16);
    netcore_bit_write_bits(&w, (client->has_newest ? 1u : 0u) | (client->need_full ? 2u : 0u), 8);
    netcore_bit_write_bits(&w, client->has_newest ? client->newest_seq : 0u, 16);
    *out_written = netcore_bit_writer_flush(&w);
    return NETCORE_OK;
}

uint32_t netcore_snapshot_client_entity_count(const netcore_snapshot_client *client)
{
    const nci_view *v = current_view(client);
    return v ? v->count : 0;
}

netcore_result netcore_snapshot_client_entity_at(const netcore_snapshot_client *client,
                                                 uint32_t index, netcore_entity_id *out_id,
                                                 uint16_t *out_type)
{
    const nci_view *v = current_view(client);
    if (!v || index >= v->count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (out_id)
        *out_id = ((netcore_entity_id)v->gen[index] << 16) | v->index[index];
    if (out_type)
        *out_type = v->type[index];
    return NETCORE_OK;
}

/* Position of a live entity of the current world, or -1. */
static int32_t find_entity(const netcore_snapshot_client *client, netcore_entity_id id)
{
    const nci_view *v = current_view(client);
    if (!v)
        return -1;
    int32_t pos = nci_view_find(v, id & 0xffffu);
    return pos >= 0 && v->gen[pos] == (id >> 16) ? pos : -1;
}

netcore_result netcore_snapshot_client_entity_type(const netcore_snapshot_client *client,
                                                   netcore_entity_id id, uint16_t *out_type)
{
    if (!client || !out_type)
        return NETCORE_ERR_INVALID_ARGUMENT;
    int32_t pos = find_entity(client, id);
    if (pos < 0)
        return NETCORE_ERR_NOT_FOUND;
    *out_type = current_view(client)->type[pos];
    return NETCORE_OK;
}

static netcore_result resolve(const netcore_snapshot_client *client, netcore_entity_id id,
                              uint16_t field, netcore_field_kind kind, const nci_field **out_field,
                              const uint32_t **out_state)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    int32_t pos = find_entity(client, id);
    if (pos < 0)
        return NETCORE_ERR_NOT_FOUND;
    const nci_view *v = current_view(client);
    netcore_result r = nci_state_field(client->schema, v->type[pos], field, kind, out_field);
    if (r == NETCORE_OK)
        *out_state = &v->state[(size_t)pos * client->stride];
    return r;
}

#define CLIENT_GETTER(name, kind, ctype, getter)                                                   \
    netcore_result name(const netcore_snapshot_client *client, netcore_entity_id id,               \
                        uint16_t field, ctype *out_value)                                          \
    {                                                                                              \
        const nci_field *f;                                                                        \
        const uint32_t *state;                                                                     \
        if (!out_value)                                                                            \
            return NETCORE_ERR_INVALID_ARGUMENT;                                                   \
        netcore_result r = resolve(client, id, field, kind, &f, &state);                           \
        if (r == NETCORE_OK)                                                                       \
            *out_value = getter(f, state);                                                         \
        return r;                                                                                  \
    }

CLIENT_GETTER(netcore_snapshot_client_get_int, NETCORE_FIELD_INT, int64_t, nci_field_get_int)
CLIENT_GETTER(netcore_snapshot_client_get_float, NETCORE_FIELD_FLOAT, float, nci_field_get_float)
CLIENT_GETTER(netcore_snapshot_client_get_bool, NETCORE_FIELD_BOOL, bool, nci_field_get_bool)
CLIENT_GETTER(netcore_snapshot_client_get_vec3, NETCORE_FIELD_VEC3, netcore_vec3,
              nci_field_get_vec3)
CLIENT_GETTER(netcore_snapshot_client_get_quat, NETCORE_FIELD_QUAT, netcore_quat,
              nci_field_get_quat)

netcore_result netcore_snapshot_client_get_stats(const netcore_snapshot_client *client,
                                                 netcore_snapshot_client_stats *out_stats)
{
    if (!client || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = client->stats;
    return NETCORE_OK;
}
