/* Control-lane codec: fixed little-endian layouts, exact sizes, every field
 * range-checked before use (docs/transport-protocol.md). */
#include <string.h>

#include "transport/transport_control.h"

static const uint8_t control_magic[4] = {'N', 'C', 'T', 'P'};

static void put_u16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v & 0xffu);
    p[1] = (uint8_t)(v >> 8);
}

static uint32_t get_u16(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
}

static size_t write_header(uint8_t *buffer, nci_control_type type)
{
    memcpy(buffer, control_magic, sizeof control_magic);
    put_u16(buffer + 4, NCI_CONTROL_VERSION);
    buffer[6] = (uint8_t)type;
    return NCI_CONTROL_HEADER_BYTES;
}

size_t nci_control_write_hello(const nci_hello *hello, uint8_t *buffer)
{
    if (hello->channel_count < 1 || hello->channel_count > NETCORE_MAX_CHANNELS ||
        hello->token_size_bytes > NETCORE_MAX_TOKEN_BYTES ||
        (hello->token_size_bytes > 0 && !hello->token))
        return 0;
    size_t n = write_header(buffer, NCI_CONTROL_HELLO);
    buffer[n++] = (uint8_t)hello->channel_count;
    memcpy(buffer + n, hello->modes, hello->channel_count);
    n += hello->channel_count;
    buffer[n++] = hello->sealed ? NCI_HELLO_FLAG_SEALED : 0u;
    put_u16(buffer + n, hello->token_size_bytes);
    n += 2;
    if (hello->token_size_bytes > 0)
        memcpy(buffer + n, hello->token, hello->token_size_bytes);
    return n + hello->token_size_bytes;
}

size_t nci_control_write_welcome(uint8_t *buffer)
{
    return write_header(buffer, NCI_CONTROL_WELCOME);
}

static netcore_result read_hello(const uint8_t *data, size_t size, nci_hello *out)
{
    size_t at = NCI_CONTROL_HEADER_BYTES;
    if (size < at + 1u)
        return NETCORE_ERR_MALFORMED;
    uint32_t channels = data[at++];
    if (channels < 1 || channels > NETCORE_MAX_CHANNELS || size < at + channels + 3u)
        return NETCORE_ERR_MALFORMED;
    for (uint32_t c = 0; c < channels; c++)
        if (data[at + c] > NETCORE_DELIVERY_UNRELIABLE_UNORDERED)
            return NETCORE_ERR_MALFORMED;
    memset(out, 0, sizeof *out);
    memcpy(out->modes, data + at, channels);
    at += channels;
    /* Unknown flag bits are refused, so a later meaning is never ignored. */
    if (data[at] & ~NCI_HELLO_FLAG_SEALED)
        return NETCORE_ERR_MALFORMED;
    out->sealed = (data[at++] & NCI_HELLO_FLAG_SEALED) != 0;
    uint32_t token_size = get_u16(data + at);
    at += 2;
    /* Exact size: nothing may trail the token, and it must all be there. */
    if (token_size > NETCORE_MAX_TOKEN_BYTES || size != at + token_size)
        return NETCORE_ERR_MALFORMED;
    out->channel_count = channels;
    out->token = token_size > 0 ? data + at : NULL;
    out->token_size_bytes = token_size;
    return NETCORE_OK;
}

netcore_result nci_control_read(const uint8_t *data, size_t size, nci_control_type *out_type,
                                nci_hello *out_hello)
{
    if (!data || size < NCI_CONTROL_HEADER_BYTES ||
        memcmp(data, control_magic, sizeof control_magic) != 0)
        return NETCORE_ERR_MALFORMED;
    /* The version comes first so that a later version may change the body. */
    if (get_u16(data + 4) != NCI_CONTROL_VERSION)
        return NETCORE_ERR_MISMATCH;
    switch (data[6]) {
    case NCI_CONTROL_HELLO:
        *out_type = NCI_CONTROL_HELLO;
        return read_hello(data, size, out_hello);
    case NCI_CONTROL_WELCOME:
        *out_type = NCI_CONTROL_WELCOME;
        return size == NCI_CONTROL_HEADER_BYTES ? NETCORE_OK : NETCORE_ERR_MALFORMED;
    default:
        return NETCORE_ERR_MALFORMED;
    }
}
