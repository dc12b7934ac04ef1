/* Fuzz target: the lobby frame reader and message decoder. The input is a
 * TCP byte stream as a lobby server would receive it: frames are peeked,
 * decoded and, when valid, re-encoded; the re-encoding must decode to the same
 * bytes again (the codec is canonical). */
#include <stdint.h>
#include <string.h>

#include "lobby/lobby_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static nci_lobby_msg decoded;
static nci_lobby_msg redecoded;
static uint8_t encoded[NCI_LOBBY_FRAME_HARD_MAX / 16];
static uint8_t reencoded[NCI_LOBBY_FRAME_HARD_MAX / 16];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pos = 0;
    /* Bounded like a server connection: at most 64 frames per input. */
    for (int frames = 0; frames < 64; frames++) {
        size_t body = 0;
        nci_lobby_frame_status status =
            nci_lobby_frame_peek(data + pos, size - pos, sizeof encoded - 4, &body);
        if (status != NCI_LOBBY_FRAME_READY)
            break;
        const uint8_t *bytes = data + pos + NCI_LOBBY_LENGTH_BYTES;
        pos += NCI_LOBBY_LENGTH_BYTES + body;
        if (nci_lobby_decode(bytes, body, &decoded) != NETCORE_OK)
            continue;
        size_t first = 0, second = 0;
        if (nci_lobby_encode(&decoded, encoded, sizeof encoded, &first) != NETCORE_OK)
            __builtin_trap(); /* whatever decodes must encode */
        if (first != NCI_LOBBY_LENGTH_BYTES + body ||
            memcmp(encoded + NCI_LOBBY_LENGTH_BYTES, bytes, body) != 0)
            __builtin_trap(); /* and encode to the very same bytes */
        if (nci_lobby_decode(encoded + NCI_LOBBY_LENGTH_BYTES, first - NCI_LOBBY_LENGTH_BYTES,
                             &redecoded) != NETCORE_OK ||
            nci_lobby_encode(&redecoded, reencoded, sizeof reencoded, &second) != NETCORE_OK ||
            second != first || memcmp(encoded, reencoded, first) != 0)
            __builtin_trap();
    }
    return 0;
}
