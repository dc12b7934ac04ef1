/* Fuzz target: the opener of sealed messages (transport/seal.c), the first
 * thing a sealed peer's received bytes meet.
 *
 * Input: byte 0 picks the lane binding (bit 0: explicit counter; bits 1-2:
 * delivery mode; bit 7: round-trip mode), bytes 1-8 the receive state's next
 * counter (little-endian), byte 9 a position; the rest is the message.
 *   - Open mode: the rest is opened as a sealed message. It must never open
 *     (nobody without the key can make a valid tag) and must leave the
 *     receive state untouched.
 *   - Round-trip mode: the rest is sealed as a plaintext under the next
 *     counter and opened: it must open to the same bytes; opened again, it
 *     must not be delivered twice; with the byte at the chosen position
 *     altered, it must not open. */
#include <stdint.h>
#include <string.h>

#include "transport/seal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PLAIN 4096u

static uint8_t sealed_buf[MAX_PLAIN + NCI_SEAL_TAG_BYTES + NCI_SEAL_COUNTER_BYTES];
static uint8_t plain_buf[MAX_PLAIN + NCI_SEAL_TAG_BYTES + NCI_SEAL_COUNTER_BYTES];

static const uint8_t fuzz_key[NETCORE_SESSION_KEY_BYTES] = {0x42, 0x13, 0x37};

static void round_trip(const nci_seal_lane *lane, nci_seal_rx *rx, uint8_t position,
                       const uint8_t *plain, size_t plain_size)
{
    if (rx->next >= NCI_SEAL_COUNTER_LIMIT)
        return;
    size_t n = nci_seal(fuzz_key, lane, rx->next, plain, plain_size, sealed_buf);
    if (n != plain_size + nci_seal_overhead(lane))
        __builtin_trap();
    nci_seal_rx before = *rx;
    size_t out = 0;
    if (nci_seal_open(fuzz_key, lane, rx, sealed_buf, n, plain_buf, &out) != NCI_SEAL_OPENED ||
        out != plain_size || memcmp(plain_buf, plain, plain_size) != 0 ||
        rx->next != before.next + 1u)
        __builtin_trap();
    if (nci_seal_open(fuzz_key, lane, rx, sealed_buf, n, plain_buf, &out) == NCI_SEAL_OPENED)
        __builtin_trap();
    *rx = before;
    sealed_buf[position % n] ^= 0x01;
    if (nci_seal_open(fuzz_key, lane, rx, sealed_buf, n, plain_buf, &out) == NCI_SEAL_OPENED)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10 || size - 10 > MAX_PLAIN)
        return 0;
    nci_seal_lane lane = {5, 2, (uint8_t)((data[0] >> 1) & 3u), (data[0] & 1u) != 0};
    nci_seal_rx rx;
    memset(&rx, 0, sizeof rx);
    for (unsigned i = 0; i < 8u; i++)
        rx.next |= (uint64_t)data[1 + i] << (8u * i);
    uint8_t position = data[9];
    const uint8_t *rest = data + 10;
    size_t rest_size = size - 10;
    if (data[0] & 0x80u) {
        round_trip(&lane, &rx, position, rest, rest_size);
        return 0;
    }
    nci_seal_rx before = rx;
    size_t out = 0;
    if (nci_seal_open(fuzz_key, &lane, &rx, rest, rest_size, plain_buf, &out) == NCI_SEAL_OPENED ||
        memcmp(&before, &rx, sizeof rx) != 0)
        __builtin_trap();
    return 0;
}
