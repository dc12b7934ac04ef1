/* Fuzz target: the LAN discovery datagram decoders. Each input is one UDP
 * datagram, handed to both the probe decoder (what a lobby does with a
 * datagram on its discovery port) and the answer decoder (what a searching
 * client does with a datagram on its socket), in both versions (1: 64-byte
 * probes; 2: 128-byte probes, answers with the TLS pin). Whatever decodes
 * must encode to the very same bytes (the format is canonical), and an
 * answer must never be larger than a probe of its version (no reflection
 * amplification). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lobby/lobby_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t encoded[NCI_LOBBY_PROBE_BYTES];
    uint64_t nonce = 0;
    uint16_t version = 0;
    if (nci_lobby_discovery_decode_probe(data, size, &nonce, &version)) {
        if (version == 1) {
            if (size != NCI_LOBBY_PROBE_V1_BYTES)
                __builtin_trap();
        } else {
            nci_lobby_discovery_encode_probe(nonce, encoded);
            if (version != 2 || size != sizeof encoded || memcmp(encoded, data, size) != 0)
                __builtin_trap();
        }
    }

    nci_lobby_discovery_answer answer;
    if (nci_lobby_discovery_decode_answer(data, size, &answer)) {
        if (!nci_lobby_text_valid(answer.name, NETCORE_LOBBY_NAME_MAX, false))
            __builtin_trap(); /* the client stores the name as text */
        size_t n = nci_lobby_discovery_encode_answer(&answer, encoded);
        size_t probe_size = answer.version == 1 ? NCI_LOBBY_PROBE_V1_BYTES : NCI_LOBBY_PROBE_BYTES;
        if (n != size || n > probe_size || memcmp(encoded, data, size) != 0)
            __builtin_trap();
        nci_lobby_discovery_answer again;
        if (!nci_lobby_discovery_decode_answer(encoded, n, &again) ||
            memcmp(&again, &answer, offsetof(nci_lobby_discovery_answer, name)) != 0 ||
            strcmp(again.name, answer.name) != 0)
            __builtin_trap();
    }
    return 0;
}
