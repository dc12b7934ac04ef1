/* Message sealing: nonce and associated data layout, counter
 * reconstruction and the replay window (docs/transport-protocol.md). */
#include <sodium.h>
#include <string.h>

#include "transport/seal.h"

_Static_assert(NETCORE_SESSION_KEY_BYTES == crypto_aead_chacha20poly1305_ietf_KEYBYTES,
               "session key size");
_Static_assert(NCI_SEAL_TAG_BYTES == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "nonce size");

#define COUNTER_MASK ((UINT64_C(1) << (8u * NCI_SEAL_COUNTER_BYTES)) - 1u)
#define COUNTER_HALF (UINT64_C(1) << (8u * NCI_SEAL_COUNTER_BYTES - 1u))
#define AD_BYTES 7u

/* Protocol id and version of the sealed format: changing the format changes
 * these, so a message of one format never opens under another. */
static const uint8_t seal_protocol_id[5] = {'N', 'C', 'S', 'L', 1};

netcore_result netcore_session_keys_generate(netcore_session_keys *out_keys)
{
    if (!out_keys)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (sodium_init() < 0)
        return NETCORE_ERR_BACKEND;
    crypto_aead_chacha20poly1305_ietf_keygen(out_keys->client_to_server);
    crypto_aead_chacha20poly1305_ietf_keygen(out_keys->server_to_client);
    return NETCORE_OK;
}

void netcore_session_keys_wipe(netcore_session_keys *keys)
{
    if (keys)
        sodium_memzero(keys, sizeof *keys);
}

/* Nonce: lane, counter (8 bytes little-endian), 3 zero bytes. The key is
 * per direction, so (lane, counter) alone must never repeat. */
static void make_nonce(const nci_seal_lane *lane, uint64_t counter, uint8_t nonce[12])
{
    memset(nonce, 0, 12);
    nonce[0] = lane->lane;
    for (unsigned i = 0; i < 8u; i++)
        nonce[1 + i] = (uint8_t)(counter >> (8u * i));
}

/* Associated data: protocol id, channel, delivery mode. */
static void make_ad(const nci_seal_lane *lane, uint8_t ad[AD_BYTES])
{
    memcpy(ad, seal_protocol_id, sizeof seal_protocol_id);
    ad[5] = lane->channel;
    ad[6] = lane->delivery;
}

size_t nci_seal(const uint8_t key[NETCORE_SESSION_KEY_BYTES], const nci_seal_lane *lane,
                uint64_t counter, const uint8_t *plain, size_t size, uint8_t *out)
{
    uint8_t nonce[12];
    uint8_t ad[AD_BYTES];
    make_nonce(lane, counter, nonce);
    make_ad(lane, ad);
    size_t head = 0;
    if (lane->explicit_counter) {
        for (unsigned i = 0; i < NCI_SEAL_COUNTER_BYTES; i++)
            out[i] = (uint8_t)(counter >> (8u * i));
        head = NCI_SEAL_COUNTER_BYTES;
    }
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(out + head, out + head + size, NULL, plain,
                                                       size, ad, sizeof ad, NULL, nonce, key);
    return head + size + NCI_SEAL_TAG_BYTES;
}

/* The full counter whose low bits are low, nearest to rx->next (within half
 * the truncated range either way). false when it would be negative. */
static bool rebuild_counter(const nci_seal_rx *rx, uint64_t low, uint64_t *out_counter)
{
    uint64_t delta = (low - rx->next) & COUNTER_MASK; /* forward distance, mod 2^24 */
    if (delta < COUNTER_HALF) {
        *out_counter = rx->next + delta;
        return true;
    }
    uint64_t back = (COUNTER_MASK + 1u) - delta;
    if (back > rx->next)
        return false;
    *out_counter = rx->next - back;
    return true;
}

static bool window_test(const nci_seal_rx *rx, uint64_t age)
{
    return (rx->seen[age / 64u] >> (age % 64u)) & 1u;
}

/* Records counter (opened): the window slides forward when it is new. */
static void window_mark(nci_seal_rx *rx, uint64_t counter)
{
    if (counter >= rx->next) {
        uint64_t shift = counter - rx->next + 1u;
        if (shift >= NCI_SEAL_WINDOW) {
            memset(rx->seen, 0, sizeof rx->seen);
        } else {
            /* Bit i moves to bit i + shift: the newest counter is bit 0. */
            unsigned words = (unsigned)(shift / 64u), bits = (unsigned)(shift % 64u);
            for (int w = (int)(NCI_SEAL_WINDOW / 64u) - 1; w >= 0; w--) {
                int from = w - (int)words;
                uint64_t v = from >= 0 ? rx->seen[from] << bits : 0;
                if (bits && from - 1 >= 0)
                    v |= rx->seen[from - 1] >> (64u - bits);
                rx->seen[w] = v;
            }
        }
        rx->next = counter + 1u;
    }
    uint64_t age = rx->next - 1u - counter;
    rx->seen[age / 64u] |= UINT64_C(1) << (age % 64u);
}

static bool decrypt(const uint8_t key[NETCORE_SESSION_KEY_BYTES], const nci_seal_lane *lane,
                    uint64_t counter, const uint8_t *cipher, size_t cipher_size, uint8_t *out)
{
    uint8_t nonce[12];
    uint8_t ad[AD_BYTES];
    make_nonce(lane, counter, nonce);
    make_ad(lane, ad);
    return crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, cipher, cipher_size,
                                                              cipher + cipher_size, ad, sizeof ad,
                                                              nonce, key) == 0;
}

nci_seal_verdict nci_seal_open(const uint8_t key[NETCORE_SESSION_KEY_BYTES],
                               const nci_seal_lane *lane, nci_seal_rx *rx, const uint8_t *sealed,
                               size_t size, uint8_t *out_plain, size_t *out_size)
{
    size_t overhead = nci_seal_overhead(lane);
    if (size < overhead)
        return NCI_SEAL_AUTH_FAILED;
    size_t plain_size = size - overhead;
    if (!lane->explicit_counter) {
        if (rx->next >= NCI_SEAL_COUNTER_LIMIT ||
            !decrypt(key, lane, rx->next, sealed, plain_size, out_plain))
            return NCI_SEAL_AUTH_FAILED;
        rx->next++;
        *out_size = plain_size;
        return NCI_SEAL_OPENED;
    }
    uint64_t low = (uint64_t)sealed[0] | ((uint64_t)sealed[1] << 8) | ((uint64_t)sealed[2] << 16);
    uint64_t counter = 0;
    if (!rebuild_counter(rx, low, &counter) || counter >= NCI_SEAL_COUNTER_LIMIT)
        return NCI_SEAL_STALE;
    bool seen = false;
    if (counter < rx->next) {
        uint64_t age = rx->next - 1u - counter;
        if (age >= NCI_SEAL_WINDOW)
            return NCI_SEAL_STALE;
        seen = window_test(rx, age);
    }
    /* A counter already seen is still authenticated: an authentic copy is a
     * network duplicate, anything else a forgery reusing the counter. */
    if (!decrypt(key, lane, counter, sealed + NCI_SEAL_COUNTER_BYTES, plain_size, out_plain))
        return NCI_SEAL_AUTH_FAILED;
    if (seen)
        return NCI_SEAL_DUPLICATE;
    window_mark(rx, counter);
    *out_size = plain_size;
    return NCI_SEAL_OPENED;
}
