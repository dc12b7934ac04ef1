/*
 * Session layer: the control messages (HELLO, WELCOME) and the checks of a
 * game description shared by the game server and client.
 */
#include <string.h>

#include "netcode/session_internal.h"

static void put_u16(uint8_t *b, uint16_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *b, uint32_t v)
{
    put_u16(b, (uint16_t)v);
    put_u16(b + 2, (uint16_t)(v >> 16));
}

static uint16_t get_u16(const uint8_t *b)
{
    return (uint16_t)(b[0] | (uint16_t)(b[1] << 8));
}

static uint32_t get_u32(const uint8_t *b)
{
    return (uint32_t)get_u16(b) | (uint32_t)get_u16(b + 2) << 16;
}

void nci_session_write_hello(const nci_session_hello *hello, uint8_t out[NCI_SESSION_HELLO_BYTES])
{
    out[0] = NCI_SESSION_MSG_HELLO;
    out[1] = NETCORE_SESSION_VERSION;
    put_u32(out + 2, (uint32_t)hello->schema_hash);
    put_u32(out + 6, (uint32_t)(hello->schema_hash >> 32));
    put_u16(out + 10, hello->tick_rate_hz);
    out[12] = hello->snapshot_every_ticks;
    put_u16(out + 13, hello->input_size_bytes);
}

void nci_session_write_welcome(const nci_session_welcome *welcome,
                               uint8_t out[NCI_SESSION_WELCOME_BYTES])
{
    out[0] = NCI_SESSION_MSG_WELCOME;
    out[1] = NETCORE_SESSION_VERSION;
    put_u16(out + 2, welcome->client_index);
    put_u32(out + 4, welcome->entity);
    put_u16(out + 8, welcome->tick_rate_hz);
    out[10] = welcome->snapshot_every_ticks;
}

/* Type, exact size and version: a session message never has trailing bytes. */
static netcore_result check_header(const uint8_t *data, size_t size_bytes, uint8_t type,
                                   size_t expected)
{
    if (!data)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (size_bytes != expected || data[0] != type || data[1] != NETCORE_SESSION_VERSION)
        return NETCORE_ERR_MALFORMED;
    return NETCORE_OK;
}

netcore_result nci_session_read_hello(const uint8_t *data, size_t size_bytes,
                                      nci_session_hello *out)
{
    if (!out)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_result r =
        check_header(data, size_bytes, NCI_SESSION_MSG_HELLO, NCI_SESSION_HELLO_BYTES);
    if (r != NETCORE_OK)
        return r;
    out->schema_hash = (uint64_t)get_u32(data + 2) | (uint64_t)get_u32(data + 6) << 32;
    out->tick_rate_hz = get_u16(data + 10);
    out->snapshot_every_ticks = data[12];
    out->input_size_bytes = get_u16(data + 13);
    return NETCORE_OK;
}

netcore_result nci_session_read_welcome(const uint8_t *data, size_t size_bytes,
                                        nci_session_welcome *out)
{
    if (!out)
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_result r =
        check_header(data, size_bytes, NCI_SESSION_MSG_WELCOME, NCI_SESSION_WELCOME_BYTES);
    if (r != NETCORE_OK)
        return r;
    netcore_entity_id entity = get_u32(data + 4);
    if (entity == NETCORE_ENTITY_NONE)
        return NETCORE_ERR_MALFORMED;
    out->client_index = get_u16(data + 2);
    out->entity = entity;
    out->tick_rate_hz = get_u16(data + 8);
    out->snapshot_every_ticks = data[10];
    return NETCORE_OK;
}

nci_session_hello nci_session_hello_of(const netcore_game_desc *desc)
{
    nci_session_hello h;
    memset(&h, 0, sizeof h);
    netcore_schema_hash(desc->schema, &h.schema_hash);
    h.tick_rate_hz = (uint16_t)desc->tick_rate_hz;
    h.snapshot_every_ticks = (uint8_t)desc->snapshot_every_ticks;
    h.input_size_bytes = (uint16_t)desc->input_size_bytes;
    return h;
}

void netcore_game_desc_default(netcore_game_desc *desc)
{
    if (!desc)
        return;
    memset(desc, 0, sizeof *desc);
    desc->tick_rate_hz = 60;
    desc->snapshot_every_ticks = 2;
}

/* The ack path needs the whole tick: a 32-bit unsigned INT, nothing smaller. */
static bool tick_field_ok(const netcore_game_desc *desc)
{
    netcore_field_desc f;
    if (netcore_schema_field_get(desc->schema, desc->player_type, desc->player_tick_field, &f) !=
        NETCORE_OK)
        return false;
    return f.kind == NETCORE_FIELD_INT && f.bits == 32 && !f.is_signed;
}

netcore_result nci_session_check_desc(const netcore_game_desc *desc, bool server)
{
    if (!desc->schema || !netcore_schema_is_finalized(desc->schema) || !tick_field_ok(desc))
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (desc->tick_rate_hz < 1 || desc->tick_rate_hz > 1000 || desc->snapshot_every_ticks < 1 ||
        desc->snapshot_every_ticks > 255)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (desc->input_size_bytes < 1 || desc->input_size_bytes > NETCORE_SESSION_MAX_INPUT_BYTES ||
        desc->state_size_bytes < 1 || desc->state_size_bytes > NETCORE_SESSION_MAX_STATE_BYTES)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!desc->simulate || !desc->position || (server && !desc->write_state) ||
        (!server && !desc->read_state))
        return NETCORE_ERR_INVALID_ARGUMENT;
    return NETCORE_OK;
}

netcore_result nci_session_channels(netcore_host_config *host,
                                    const netcore_delivery *game_channels,
                                    uint32_t game_channel_count)
{
    if (game_channel_count > NETCORE_SESSION_MAX_GAME_CHANNELS)
        return NETCORE_ERR_INVALID_ARGUMENT;
    host->channel_count = NETCORE_SESSION_CHANNELS + game_channel_count;
    host->channels[NCI_SESSION_CHANNEL_CONTROL].delivery = NETCORE_DELIVERY_RELIABLE_ORDERED;
    host->channels[NCI_SESSION_CHANNEL_GAME].delivery = NETCORE_DELIVERY_UNRELIABLE_UNORDERED;
    for (uint32_t i = 0; i < game_channel_count; i++) {
        if ((unsigned)game_channels[i] > NETCORE_DELIVERY_UNRELIABLE_UNORDERED)
            return NETCORE_ERR_INVALID_ARGUMENT;
        host->channels[NETCORE_SESSION_CHANNELS + i].delivery = game_channels[i];
    }
    return NETCORE_OK;
}
