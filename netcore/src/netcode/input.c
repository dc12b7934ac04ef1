/* Input commands: redundant unreliable packets from the client, a per-client
 * tick buffer on the server that tolerates loss, lateness and duplication. */
#include "netcore/input.h"

#include <string.h>

#include "core/core_internal.h"

#define HEADER_FIXED_BYTES 7u /* version, ack size, newest tick (4), count */

/* Signed distance from b to a on the 32-bit tick circle. */
static int32_t tick_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static void write_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t read_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------------ */
/* Codec                                                               */
/* ------------------------------------------------------------------ */

size_t netcore_input_packet_size(uint32_t input_size_bytes, uint32_t count, size_t ack_size_bytes)
{
    return HEADER_FIXED_BYTES + ack_size_bytes + (count + 7u) / 8u +
           (size_t)count * input_size_bytes;
}

netcore_result netcore_input_decode(const void *bytes, size_t size_bytes, uint32_t input_size_bytes,
                                    uint8_t *out_inputs, size_t out_capacity_bytes,
                                    netcore_input_packet *out_packet)
{
    if ((!bytes && size_bytes) || !out_inputs || !out_packet || input_size_bytes < 1 ||
        input_size_bytes > NETCORE_INPUT_MAX_SIZE)
        return NETCORE_ERR_INVALID_ARGUMENT;
    memset(out_packet, 0, sizeof *out_packet);
    const uint8_t *p = bytes;
    size_t at = 0;
    if (size_bytes < 2 || p[0] != NETCORE_INPUT_VERSION || p[1] > NETCORE_INPUT_MAX_ACK_BYTES)
        return NETCORE_ERR_MALFORMED;
    size_t ack_size = p[1];
    at = 2;
    if (size_bytes - at < ack_size + 5u)
        return NETCORE_ERR_MALFORMED;
    const uint8_t *ack = p + at;
    at += ack_size;
    uint32_t newest = read_u32(p + at);
    at += 4;
    uint32_t count = p[at++];
    if (count < 1 || count > NETCORE_INPUT_MAX_REDUNDANCY)
        return NETCORE_ERR_MALFORMED;
    size_t mask_bytes = (count + 7u) / 8u;
    if (size_bytes - at < mask_bytes)
        return NETCORE_ERR_MALFORMED;
    const uint8_t *mask = p + at;
    at += mask_bytes;
    if (mask[0] & 1u)
        return NETCORE_ERR_MALFORMED;
    /* Unused high bits of the last mask byte must be clear: one packet, one encoding. */
    if (count % 8u && (mask[mask_bytes - 1] >> (count % 8u)))
        return NETCORE_ERR_MALFORMED;
    uint32_t sent = 0;
    for (uint32_t i = 0; i < count; i++)
        if (!(mask[i / 8u] >> (i % 8u) & 1u))
            sent++;
    if (size_bytes - at != (size_t)sent * input_size_bytes)
        return NETCORE_ERR_MALFORMED;
    if ((size_t)count * input_size_bytes > out_capacity_bytes)
        return NETCORE_ERR_TOO_LARGE;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *dst = out_inputs + (size_t)i * input_size_bytes;
        if (mask[i / 8u] >> (i % 8u) & 1u) {
            memcpy(dst, dst - input_size_bytes, input_size_bytes);
        } else {
            memcpy(dst, p + at, input_size_bytes);
            at += input_size_bytes;
        }
    }
    out_packet->newest_tick = newest;
    out_packet->count = count;
    out_packet->ack = ack_size ? ack : NULL;
    out_packet->ack_size_bytes = ack_size;
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */
/* ------------------------------------------------------------------ */

struct netcore_input_client {
    netcore_input_client_config config;
    uint8_t *ring; /* max_redundancy inputs, by tick % max_redundancy */
    bool has_input;
    uint32_t newest_tick;
    uint32_t held; /* consecutive ticks ending at newest_tick held in the ring */
    bool has_ack;
    netcore_input_client_stats stats;
};

static uint8_t *client_slot(netcore_input_client *c, uint32_t tick)
{
    return c->ring + (size_t)(tick % c->config.max_redundancy) * c->config.input_size_bytes;
}

void netcore_input_client_config_default(netcore_input_client_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->input_size_bytes = 8;
    config->max_redundancy = 32;
    config->mtu_bytes = 1200;
}

netcore_result netcore_input_client_create(const netcore_input_client_config *config,
                                           netcore_input_client **out_client)
{
    if (!out_client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_client = NULL;
    if (!config || config->input_size_bytes < 1 ||
        config->input_size_bytes > NETCORE_INPUT_MAX_SIZE || config->max_redundancy < 1 ||
        config->max_redundancy > NETCORE_INPUT_MAX_REDUNDANCY ||
        config->mtu_bytes < netcore_input_packet_size(config->input_size_bytes, 1, 0))
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_input_client *c = nci_calloc(&config->allocator, 1, sizeof *c);
    if (!c)
        return NETCORE_ERR_OUT_OF_MEMORY;
    c->config = *config;
    c->ring = nci_calloc(&config->allocator, config->max_redundancy, config->input_size_bytes);
    if (!c->ring) {
        nci_free(&config->allocator, c);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    *out_client = c;
    return NETCORE_OK;
}

void netcore_input_client_destroy(netcore_input_client *client)
{
    if (!client)
        return;
    netcore_allocator allocator = client->config.allocator;
    nci_free(&allocator, client->ring);
    nci_free(&allocator, client);
}

void netcore_input_client_reset(netcore_input_client *client)
{
    if (!client)
        return;
    client->has_input = false;
    client->has_ack = false;
    client->held = 0;
}

netcore_result netcore_input_client_add(netcore_input_client *client, uint32_t tick,
                                        const void *input)
{
    if (!client || !input)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint32_t size = client->config.input_size_bytes;
    if (client->has_input) {
        int32_t ahead = tick_diff(tick, client->newest_tick);
        if (ahead <= 0)
            return NETCORE_ERR_STATE;
        if ((uint32_t)ahead <= client->config.max_redundancy) {
            /* The server repeats the previous input for ticks it never got;
             * sending exactly that keeps both sides' simulations identical. */
            for (uint32_t t = client->newest_tick + 1; t != tick; t++) {
                memcpy(client_slot(client, t), client_slot(client, t - 1), size);
                client->stats.ticks_filled++;
            }
            client->held += (uint32_t)ahead;
        } else {
            client->held = 1;
        }
    } else {
        client->held = 1;
    }
    if (client->held > client->config.max_redundancy)
        client->held = client->config.max_redundancy;
    memcpy(client_slot(client, tick), input, size);
    client->newest_tick = tick;
    client->has_input = true;
    client->stats.inputs_added++;
    return NETCORE_OK;
}

netcore_result netcore_input_client_ack(netcore_input_client *client, uint32_t tick)
{
    if (!client)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!client->has_ack || tick_diff(tick, client->stats.acked_tick) > 0) {
        client->stats.acked_tick = tick;
        client->has_ack = true;
    }
    return NETCORE_OK;
}

netcore_result netcore_input_client_write(netcore_input_client *client, const void *ack,
                                          size_t ack_size_bytes, void *buffer, size_t size_bytes,
                                          size_t *out_written)
{
    if (out_written)
        *out_written = 0;
    if (!client || !buffer || !out_written || (!ack && ack_size_bytes) ||
        ack_size_bytes > NETCORE_INPUT_MAX_ACK_BYTES)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!client->has_input)
        return NETCORE_ERR_STATE;
    uint32_t size = client->config.input_size_bytes;
    size_t limit = size_bytes < client->config.mtu_bytes ? size_bytes : client->config.mtu_bytes;

    /* Unacknowledged inputs, newest included even when acknowledged (it keeps
     * the ack blob flowing every tick). */
    uint32_t count = client->held;
    if (client->has_ack) {
        int32_t unacked = tick_diff(client->newest_tick, client->stats.acked_tick);
        if (unacked < 1)
            unacked = 1;
        if ((uint32_t)unacked < count)
            count = (uint32_t)unacked;
    }
    /* Drop the oldest until the packet fits; repeats only make it smaller, so
     * sizing without them is safe. */
    while (count > 0 && netcore_input_packet_size(size, count, ack_size_bytes) > limit)
        count--;
    if (count == 0)
        return NETCORE_ERR_TOO_LARGE;

    uint8_t *p = buffer;
    size_t at = 0;
    p[at++] = NETCORE_INPUT_VERSION;
    p[at++] = (uint8_t)ack_size_bytes;
    if (ack_size_bytes)
        memcpy(p + at, ack, ack_size_bytes);
    at += ack_size_bytes;
    write_u32(p + at, client->newest_tick);
    at += 4;
    p[at++] = (uint8_t)count;
    size_t mask_bytes = (count + 7u) / 8u;
    uint8_t *mask = p + at;
    memset(mask, 0, mask_bytes);
    at += mask_bytes;
    uint32_t oldest = client->newest_tick - (count - 1);
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *input = client_slot(client, oldest + i);
        if (i > 0 && memcmp(input, client_slot(client, oldest + i - 1), size) == 0) {
            mask[i / 8u] |= (uint8_t)(1u << (i % 8u));
        } else {
            memcpy(p + at, input, size);
            at += size;
        }
    }
    client->stats.packets_written++;
    client->stats.inputs_written += count;
    *out_written = at;
    return NETCORE_OK;
}

netcore_result netcore_input_client_get_stats(const netcore_input_client *client,
                                              netcore_input_client_stats *out_stats)
{
    if (!client || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = client->stats;
    return NETCORE_OK;
}

/* ------------------------------------------------------------------ */
/* Server                                                              */
/* ------------------------------------------------------------------ */

typedef enum slot_state { SLOT_EMPTY = 0, SLOT_HELD, SLOT_MISSED } slot_state;

typedef struct input_slot {
    uint32_t tick;
    uint8_t state; /* slot_state */
} input_slot;

typedef struct client_inputs {
    input_slot *slots; /* buffer_ticks, by tick % buffer_ticks */
    uint8_t *inputs;   /* buffer_ticks inputs, same indexing */
    uint8_t *last;     /* the last input handed out */
    bool has_last;     /* some input was ever received */
    bool started;      /* some tick was processed */
    netcore_input_server_stats stats;
} client_inputs;

struct netcore_input_server {
    netcore_input_server_config config;
    client_inputs *clients;
    uint8_t *decode_scratch; /* NETCORE_INPUT_MAX_REDUNDANCY inputs */
};

void netcore_input_server_config_default(netcore_input_server_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->input_size_bytes = 8;
    config->max_clients = 16;
    config->buffer_ticks = 64;
}

netcore_result netcore_input_server_create(const netcore_input_server_config *config,
                                           netcore_input_server **out_server)
{
    if (!out_server)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_server = NULL;
    if (!config || config->input_size_bytes < 1 ||
        config->input_size_bytes > NETCORE_INPUT_MAX_SIZE || config->max_clients < 1 ||
        config->max_clients > 4096 || config->buffer_ticks < 2 || config->buffer_ticks > 1024)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const netcore_allocator *a = &config->allocator;
    netcore_input_server *s = nci_calloc(a, 1, sizeof *s);
    if (!s)
        return NETCORE_ERR_OUT_OF_MEMORY;
    s->config = *config;
    s->clients = nci_calloc(a, config->max_clients, sizeof *s->clients);
    s->decode_scratch = nci_calloc(a, NETCORE_INPUT_MAX_REDUNDANCY, config->input_size_bytes);
    if (!s->clients || !s->decode_scratch) {
        netcore_input_server_destroy(s);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t i = 0; i < config->max_clients; i++) {
        client_inputs *c = &s->clients[i];
        c->slots = nci_calloc(a, config->buffer_ticks, sizeof *c->slots);
        c->inputs = nci_calloc(a, config->buffer_ticks, config->input_size_bytes);
        c->last = nci_calloc(a, 1, config->input_size_bytes);
        if (!c->slots || !c->inputs || !c->last) {
            netcore_input_server_destroy(s);
            return NETCORE_ERR_OUT_OF_MEMORY;
        }
    }
    *out_server = s;
    return NETCORE_OK;
}

void netcore_input_server_destroy(netcore_input_server *server)
{
    if (!server)
        return;
    netcore_allocator allocator = server->config.allocator;
    if (server->clients) {
        for (uint32_t i = 0; i < server->config.max_clients; i++) {
            nci_free(&allocator, server->clients[i].slots);
            nci_free(&allocator, server->clients[i].inputs);
            nci_free(&allocator, server->clients[i].last);
        }
    }
    nci_free(&allocator, server->clients);
    nci_free(&allocator, server->decode_scratch);
    nci_free(&allocator, server);
}

netcore_result netcore_input_server_client_reset(netcore_input_server *server, uint32_t client)
{
    if (!server || client >= server->config.max_clients)
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_inputs *c = &server->clients[client];
    memset(c->slots, 0, server->config.buffer_ticks * sizeof *c->slots);
    memset(c->last, 0, server->config.input_size_bytes);
    c->has_last = false;
    c->started = false;
    memset(&c->stats, 0, sizeof c->stats);
    return NETCORE_OK;
}

static void store_input(netcore_input_server *s, client_inputs *c, uint32_t tick,
                        const uint8_t *input)
{
    uint32_t index = tick % s->config.buffer_ticks;
    input_slot *slot = &c->slots[index];
    if (c->started && tick_diff(tick, c->stats.last_tick) <= 0) {
        /* Already processed: a redundant copy, or one that came too late. */
        if (slot->tick == tick && slot->state == SLOT_MISSED) {
            slot->state = SLOT_EMPTY;
            c->stats.inputs_late++;
        } else {
            c->stats.inputs_redundant++;
        }
        return;
    }
    if (c->started && tick_diff(tick, c->stats.last_tick) > (int32_t)s->config.buffer_ticks) {
        c->stats.inputs_too_far++;
        return;
    }
    if (slot->state == SLOT_HELD && slot->tick == tick) {
        c->stats.inputs_redundant++;
        return;
    }
    slot->tick = tick;
    slot->state = SLOT_HELD;
    memcpy(c->inputs + (size_t)index * s->config.input_size_bytes, input,
           s->config.input_size_bytes);
    c->stats.inputs_received++;
}

netcore_result netcore_input_server_read(netcore_input_server *server, uint32_t client,
                                         const void *bytes, size_t size_bytes,
                                         const uint8_t **out_ack, size_t *out_ack_size_bytes)
{
    if (out_ack)
        *out_ack = NULL;
    if (out_ack_size_bytes)
        *out_ack_size_bytes = 0;
    if (!server || client >= server->config.max_clients)
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_inputs *c = &server->clients[client];
    c->stats.packets_received++;
    uint32_t size = server->config.input_size_bytes;
    netcore_input_packet packet;
    netcore_result r = netcore_input_decode(bytes, size_bytes, size, server->decode_scratch,
                                            (size_t)NETCORE_INPUT_MAX_REDUNDANCY * size, &packet);
    if (r != NETCORE_OK) {
        c->stats.packets_rejected++;
        /* No clock here: log the first rejection of every thousand. */
        if (c->stats.packets_rejected % 1000u == 1u)
            nci_logf(&server->config.log, NETCORE_LOG_WARN,
                     "input: rejected packet of %zu bytes from client %u (%s)", size_bytes,
                     (unsigned)client, netcore_result_str(r));
        return NETCORE_ERR_MALFORMED;
    }
    uint32_t oldest = packet.newest_tick - (packet.count - 1);
    for (uint32_t i = 0; i < packet.count; i++)
        store_input(server, c, oldest + i, server->decode_scratch + (size_t)i * size);
    if (out_ack)
        *out_ack = packet.ack;
    if (out_ack_size_bytes)
        *out_ack_size_bytes = packet.ack_size_bytes;
    return NETCORE_OK;
}

netcore_result netcore_input_server_take(netcore_input_server *server, uint32_t client,
                                         uint32_t tick, void *out_input,
                                         netcore_input_source *out_source)
{
    if (!server || client >= server->config.max_clients || !out_input)
        return NETCORE_ERR_INVALID_ARGUMENT;
    client_inputs *c = &server->clients[client];
    if (c->started && tick_diff(tick, c->stats.last_tick) <= 0)
        return NETCORE_ERR_STATE;
    uint32_t size = server->config.input_size_bytes;
    uint32_t index = tick % server->config.buffer_ticks;
    input_slot *slot = &c->slots[index];
    netcore_input_source source;
    if (slot->state == SLOT_HELD && slot->tick == tick) {
        memcpy(c->last, c->inputs + (size_t)index * size, size);
        c->has_last = true;
        slot->state = SLOT_EMPTY;
        source = NETCORE_INPUT_RECEIVED;
        c->stats.ticks_received++;
    } else {
        /* Missing: repeat the previous input (a held stick stays held) and
         * remember the tick so a late copy is told apart from a redundant one. */
        slot->tick = tick;
        slot->state = SLOT_MISSED;
        source = c->has_last ? NETCORE_INPUT_REPEATED : NETCORE_INPUT_EMPTY;
        if (c->has_last)
            c->stats.ticks_repeated++;
        else
            c->stats.ticks_empty++;
    }
    memcpy(out_input, c->last, size);
    c->stats.last_tick = tick;
    c->started = true;
    if (out_source)
        *out_source = source;
    return NETCORE_OK;
}

netcore_result netcore_input_server_last_tick(const netcore_input_server *server, uint32_t client,
                                              uint32_t *out_tick)
{
    if (!server || client >= server->config.max_clients || !out_tick)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const client_inputs *c = &server->clients[client];
    if (!c->started)
        return NETCORE_ERR_NOT_FOUND;
    *out_tick = c->stats.last_tick;
    return NETCORE_OK;
}

netcore_result netcore_input_server_get_client_stats(const netcore_input_server *server,
                                                     uint32_t client,
                                                     netcore_input_server_stats *out_stats)
{
    if (!server || client >= server->config.max_clients || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = server->clients[client].stats;
    return NETCORE_OK;
}
