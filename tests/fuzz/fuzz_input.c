/* Fuzz target: the input packet decoder and the server's input buffer must
 * never crash, read out of bounds or accept a packet they cannot re-create.
 * The first byte chooses the input size (1..16 bytes), the rest is the packet.
 * Every accepted packet is re-encoded by a client from the decoded inputs
 * and decoded again: the inputs and ack must survive unchanged. */
#include <stdint.h>
#include <string.h>

#include "netcore/input.h"

#define MAX_SIZE 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t decoded[NETCORE_INPUT_MAX_REDUNDANCY * MAX_SIZE];
static uint8_t again[NETCORE_INPUT_MAX_REDUNDANCY * MAX_SIZE];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t input_size = 1u + data[0] % MAX_SIZE;
    const uint8_t *packet_bytes = data + 1;
    size_t packet_size = size - 1;

    netcore_input_server_config sc;
    netcore_input_server_config_default(&sc);
    sc.input_size_bytes = input_size;
    sc.max_clients = 1;
    sc.buffer_ticks = 32;
    netcore_input_server *server = NULL;
    if (netcore_input_server_create(&sc, &server) != NETCORE_OK)
        return 0;
    const uint8_t *ack = NULL;
    size_t ack_size = 0;
    netcore_result read =
        netcore_input_server_read(server, 0, packet_bytes, packet_size, &ack, &ack_size);
    uint8_t out[MAX_SIZE];
    for (uint32_t t = 0; t < 4; t++)
        netcore_input_server_take(server, 0, t * 7u, out, NULL);
    netcore_input_server_destroy(server);

    netcore_input_packet p;
    netcore_result r =
        netcore_input_decode(packet_bytes, packet_size, input_size, decoded, sizeof decoded, &p);
    if ((r == NETCORE_OK) != (read == NETCORE_OK))
        __builtin_trap();
    if (r != NETCORE_OK)
        return 0;
    if (p.count < 1 || p.count > NETCORE_INPUT_MAX_REDUNDANCY ||
        p.ack_size_bytes > NETCORE_INPUT_MAX_ACK_BYTES ||
        (p.ack_size_bytes && p.ack != packet_bytes + 2))
        __builtin_trap();

    netcore_input_client_config cc;
    netcore_input_client_config_default(&cc);
    cc.input_size_bytes = input_size;
    cc.max_redundancy = NETCORE_INPUT_MAX_REDUNDANCY;
    cc.mtu_bytes = 4096;
    netcore_input_client *client = NULL;
    if (netcore_input_client_create(&cc, &client) != NETCORE_OK)
        return 0;
    uint32_t oldest = p.newest_tick - (p.count - 1);
    for (uint32_t i = 0; i < p.count; i++)
        if (netcore_input_client_add(client, oldest + i, decoded + (size_t)i * input_size) !=
            NETCORE_OK)
            __builtin_trap();
    static uint8_t rewritten[4096];
    size_t written = 0;
    if (netcore_input_client_write(client, p.ack, p.ack_size_bytes, rewritten, sizeof rewritten,
                                   &written) != NETCORE_OK)
        __builtin_trap();
    netcore_input_client_destroy(client);
    netcore_input_packet q;
    if (netcore_input_decode(rewritten, written, input_size, again, sizeof again, &q) !=
            NETCORE_OK ||
        q.count != p.count || q.newest_tick != p.newest_tick ||
        q.ack_size_bytes != p.ack_size_bytes ||
        memcmp(decoded, again, (size_t)p.count * input_size) != 0 ||
        (p.ack_size_bytes && memcmp(p.ack, q.ack, p.ack_size_bytes) != 0))
        __builtin_trap();
    /* The canonical encoding is never larger than what was accepted. */
    if (written > packet_size)
        __builtin_trap();
    return 0;
}
