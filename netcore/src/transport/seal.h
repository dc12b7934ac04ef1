/* Sealing of one message (internal): ChaCha20-Poly1305-IETF from libsodium
 * with a per-lane counter nonce and a replay window, as specified in
 * docs/transport-protocol.md ("Sealed messages"). Pure functions on byte
 * buffers and the small per-lane state below; transport.c decides what a
 * verdict means for the peer.
 *
 * Two lane kinds:
 *   - implicit counter (reliable-ordered lanes): the backend delivers every
 *     message exactly once and in order, so the receiver knows the counter
 *     and none is sent; overhead 16 bytes (the tag);
 *   - explicit counter (every other lane): the low 24 bits of the counter
 *     lead the message and the receiver rebuilds the rest against the
 *     highest counter it has opened; a 256-counter window rejects replays.
 *     Overhead 19 bytes. */
#ifndef NETCORE_SEAL_H
#define NETCORE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/admission.h"

#define NCI_SEAL_TAG_BYTES 16u
#define NCI_SEAL_COUNTER_BYTES 3u
#define NCI_SEAL_WINDOW 256u
/* A send counter never reaches this: the peer is disconnected first, so a
 * nonce is never reused under a key (2^63 messages on one lane is centuries
 * at any rate a game sends, but the check costs nothing). */
#define NCI_SEAL_COUNTER_LIMIT (UINT64_C(1) << 63)
/* Channel byte of the control lane in the associated data. */
#define NCI_SEAL_CONTROL_CHANNEL 0xffu

/* What a sealed message is bound to (nonce and associated data). */
typedef struct nci_seal_lane {
    uint8_t lane;          /* in the nonce: a message cannot move to another lane */
    uint8_t channel;       /* in the associated data; NCI_SEAL_CONTROL_CHANNEL for lane 0 */
    uint8_t delivery;      /* netcore_delivery code, in the associated data */
    bool explicit_counter; /* false only on reliable-ordered lanes */
} nci_seal_lane;

/* Receive state of one lane: next is one past the highest counter opened
 * (implicit lanes: the counter expected next); bit i of seen marks counter
 * next - 1 - i as opened. */
typedef struct nci_seal_rx {
    uint64_t next;
    uint64_t seen[NCI_SEAL_WINDOW / 64u];
} nci_seal_rx;

typedef enum nci_seal_verdict {
    NCI_SEAL_OPENED = 0,
    NCI_SEAL_AUTH_FAILED, /* forged, altered, wrong key, too short, or a reused counter with other bytes */
    NCI_SEAL_DUPLICATE, /* an authentic copy of a message already opened */
    NCI_SEAL_STALE      /* counter older than the window (or before 0): not opened */
} nci_seal_verdict;

/* Bytes sealing adds on this lane. */
static inline size_t nci_seal_overhead(const nci_seal_lane *lane)
{
    return NCI_SEAL_TAG_BYTES + (lane->explicit_counter ? NCI_SEAL_COUNTER_BYTES : 0u);
}

/* Seals plain[0..size) with counter into out (at least size +
 * nci_seal_overhead bytes; may not overlap plain) and returns the sealed
 * size. The caller guarantees counter < NCI_SEAL_COUNTER_LIMIT and never
 * passes the same counter twice for one key and lane. */
size_t nci_seal(const uint8_t key[NETCORE_SESSION_KEY_BYTES], const nci_seal_lane *lane,
                uint64_t counter, const uint8_t *plain, size_t size, uint8_t *out);

/* Opens sealed[0..size) into out_plain (at least size bytes; no overlap)
 * and on NCI_SEAL_OPENED writes the plaintext size to *out_size and records
 * the counter in rx. rx changes only for an authentic message. Never reads
 * outside sealed[0..size). */
nci_seal_verdict nci_seal_open(const uint8_t key[NETCORE_SESSION_KEY_BYTES],
                               const nci_seal_lane *lane, nci_seal_rx *rx, const uint8_t *sealed,
                               size_t size, uint8_t *out_plain, size_t *out_size);

#endif /* NETCORE_SEAL_H */
