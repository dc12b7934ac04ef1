/* Link conditioner: one direction of an impaired link (internal).
 * Shared by the simulated backend, the in-process relay of the ENet backend
 * and netcore-linkproxy. Every decision comes from the link's own seeded
 * generator, so a run is reproducible from its seed and its input sequence. */
#ifndef NETCORE_CONDITIONER_H
#define NETCORE_CONDITIONER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/transport.h"

typedef struct nci_link nci_link;

/* A datagram leaving the link. data is owned by the link and valid until the
 * next call on that link. tag is whatever the caller submitted with it
 * (a destination host, a relay session, ...). */
typedef struct nci_link_datagram {
    uint64_t deliver_at_us;
    uint64_t tag;
    const uint8_t *data;
    uint32_t size_bytes;
} nci_link_datagram;

/* max_datagram_bytes: larger submissions are dropped (counted as overflow).
 * max_queued: datagrams held at once; beyond it submissions are dropped
 * (counted). Memory grows with use up to max_queued * max_datagram_bytes.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT, NETCORE_ERR_OUT_OF_MEMORY. */
netcore_result nci_link_create(const netcore_allocator *allocator, uint64_t seed,
                               uint32_t max_datagram_bytes, uint32_t max_queued,
                               nci_link **out_link);
void nci_link_destroy(nci_link *link);

/* Takes effect for datagrams submitted from now on. */
void nci_link_set_profile(nci_link *link, const netcore_link_profile *profile);
void nci_link_get_profile(const nci_link *link, netcore_link_profile *out_profile);

/* True when the profile is all zeroes: callers may bypass the link entirely. */
bool nci_link_is_perfect(const nci_link *link);

/* Submits one datagram entering the link at now_us; data is copied. Returns
 * how many copies were queued (0 when dropped, 2 when duplicated). */
uint32_t nci_link_submit(nci_link *link, uint64_t now_us, uint64_t tag, const void *data,
                         size_t size_bytes);

/* Pops the next datagram due at or before now_us, earliest first (ties in
 * submission order). Returns false when none is due. */
bool nci_link_pop_due(nci_link *link, uint64_t now_us, nci_link_datagram *out_datagram);

/* Delivery time of the earliest queued datagram, UINT64_MAX when empty. */
uint64_t nci_link_next_due_us(const nci_link *link);

/* Drops everything queued with this tag (e.g. a closed session), not counted as loss. */
void nci_link_discard_tag(nci_link *link, uint64_t tag);

uint32_t nci_link_queued(const nci_link *link);
void nci_link_stats(const nci_link *link, netcore_conditioner_stats *out_stats);

#endif /* NETCORE_CONDITIONER_H */
