/* Fuzz target: the ENet datagram guard. The input's first byte picks which
 * of four peer slots are held (and by which source port); the rest is one
 * datagram as the server's socket delivers it. The parser must stay within
 * the input, accept a CONNECT only in its one exact shape, and the guard
 * must pass a non-CONNECT only when it names a slot held by its sender. */
#include <stdint.h>
#include <string.h>

#include "transport/enet_guard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t setup = data[0];
    const uint8_t *datagram = data + 1;
    size_t datagram_size = size - 1;

    nci_enet_datagram parsed;
    bool ok = nci_enet_datagram_parse(datagram, datagram_size, &parsed);
    if (ok && parsed.is_connect &&
        (datagram_size != NCI_ENET_CONNECT_DATAGRAM_BYTES || parsed.command_count != 1 ||
         parsed.peer_id != NCI_ENET_PEER_ID_NONE))
        __builtin_trap();
    if (ok && (parsed.command_count < 1 || parsed.command_count > NCI_ENET_MAX_COMMANDS))
        __builtin_trap();

    netcore_allocator allocator;
    memset(&allocator, 0, sizeof allocator);
    netcore_guard_config config;
    memset(&config, 0, sizeof config);
    config.max_peers_per_ip = 2;
    config.ip_table_entries = 16;
    nci_guard *guard = NULL;
    if (nci_guard_create(&allocator, &config, 4, true, 1, &guard) != NETCORE_OK)
        __builtin_trap();
    netcore_address sender = netcore_address_ipv4(127, 0, 0, 1, 4000);
    for (uint32_t slot = 0; slot < 4; slot++) {
        uint32_t bits = (setup >> (2 * slot)) & 3u;
        netcore_address holder = sender;
        holder.port = (uint16_t)(bits == 3 ? 4001 : 4000);
        if (bits != 0)
            nci_guard_set_slot(guard, slot,
                               bits == 1 ? NCI_GUARD_SLOT_HANDSHAKE : NCI_GUARD_SLOT_CONNECTED,
                               &holder, &holder, 0);
    }
    nci_guard_verdict v = nci_guard_check(guard, datagram, datagram_size, &sender, &sender, 1);
    if ((v == NCI_GUARD_MALFORMED) != !ok)
        __builtin_trap();
    if (v == NCI_GUARD_PASS && !parsed.is_connect) {
        uint32_t bits = parsed.peer_id < 4 ? (setup >> (2 * parsed.peer_id)) & 3u : 0;
        if (bits == 0 || bits == 3)
            __builtin_trap();
    }
    nci_guard_destroy(guard);
    return 0;
}
