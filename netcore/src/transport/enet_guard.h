/* Datagram guard of the ENet backend (internal): decides, from the raw bytes
 * of a datagram and its source address, whether ENet may see it at all, so a
 * forged handshake never costs a peer slot. It knows nothing of ENet's
 * structures: the backend tells it which slot is held by which address
 * (nci_guard_set_slot) and asks it about every received datagram
 * (nci_guard_check). Every table is sized at create; nothing is allocated
 * while checking. See netcore_guard_config in transport.h for the policy. */
#ifndef NETCORE_ENET_GUARD_H
#define NETCORE_ENET_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/transport.h"

/* ENet wire constants the guard relies on (enet/protocol.h, version 1.3). */
#define NCI_ENET_PEER_ID_NONE 0xFFFu /* header peer id of a datagram to no peer yet */
#define NCI_ENET_MAX_COMMANDS 32u    /* ENet never puts more in one datagram */
#define NCI_ENET_CONNECT_BYTES 48u   /* ENetProtocolConnect */

/* What a well-formed ENet datagram says, as far as the guard cares. */
typedef struct nci_enet_datagram {
    uint16_t peer_id;   /* 0..0xFFF; NCI_ENET_PEER_ID_NONE before a slot is known */
    uint8_t session_id; /* 0..3 */
    bool has_sent_time;
    uint32_t command_count; /* 1..NCI_ENET_MAX_COMMANDS */
    bool is_connect;        /* exactly one CONNECT command, to peer id 0xFFF */
    /* CONNECT only (host order). */
    uint32_t connect_channel_count;
    uint32_t connect_id;
    uint32_t connect_data;
} nci_enet_datagram;

/*
 * Strict parse of a datagram ENet would receive on a host without checksum
 * or compression: header (peer id, flags, optional sent time), then commands,
 * each of its full size, sends with their payload, nothing trailing, at most
 * NCI_ENET_MAX_COMMANDS. A CONNECT must be alone, to peer id 0xFFF, with a
 * sent time and 1..255 channels. Reads only data[0..size-1]. Returns false
 * for anything else (out is then unspecified); never allocates.
 */
bool nci_enet_datagram_parse(const uint8_t *data, size_t size, nci_enet_datagram *out);

/* Longest datagram nci_enet_datagram_write_connect writes. */
#define NCI_ENET_CONNECT_DATAGRAM_BYTES (4u + NCI_ENET_CONNECT_BYTES)

/* Writes the datagram an ENet 1.3 client sends to open a connection
 * (header with sent time, one CONNECT command) into out and returns its
 * size, NCI_ENET_CONNECT_DATAGRAM_BYTES. Tests and the attack benchmark use
 * it to forge handshakes the way an attacker would. */
size_t nci_enet_datagram_write_connect(uint8_t out[NCI_ENET_CONNECT_DATAGRAM_BYTES],
                                       uint32_t connect_id, uint32_t connect_data,
                                       uint32_t channel_count);

typedef enum nci_guard_verdict {
    NCI_GUARD_PASS = 0,
    NCI_GUARD_MALFORMED,
    NCI_GUARD_UNKNOWN,            /* not a CONNECT, and not from the slot it names */
    NCI_GUARD_UNEXPECTED_CONNECT, /* CONNECT to a host that accepts none */
    NCI_GUARD_PROOF,
    NCI_GUARD_RATE,
    NCI_GUARD_IP_RATE,
    NCI_GUARD_IP_PEERS,
    NCI_GUARD_IP_HANDSHAKES,
    NCI_GUARD_FULL
} nci_guard_verdict;

typedef enum nci_guard_slot_state {
    NCI_GUARD_SLOT_FREE = 0,
    NCI_GUARD_SLOT_HANDSHAKE, /* held, handshake not complete */
    NCI_GUARD_SLOT_CONNECTED  /* held, handshake complete (or ending) */
} nci_guard_slot_state;

typedef struct nci_guard nci_guard;

/*
 * Resolves the zero defaults of config against max_peers and copies it.
 * accept_connects: false for client hosts (every CONNECT is dropped).
 * seed: keys the per-IP rate table's hash (one generator per instance).
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, max_peers 0 or above 4095,
 * require_connect_proof with an all-zero key), NETCORE_ERR_OUT_OF_MEMORY.
 */
netcore_result nci_guard_create(const netcore_allocator *allocator,
                                const netcore_guard_config *config, uint32_t max_peers,
                                bool accept_connects, uint64_t seed, nci_guard **out_guard);

/* Frees everything and wipes the proof key. NULL is ignored. */
void nci_guard_destroy(nci_guard *guard);

/*
 * Judges one received datagram at now_us (any monotonic microsecond clock)
 * and counts the verdict. wire_from is the source as the socket saw it
 * (compared with slot addresses); real_from is the client's real address
 * (different only behind the conditioner relay), used for proofs, per-IP
 * caps and rates. A passed CONNECT is not counted against any slot: the
 * caller syncs slots with nci_guard_set_slot before the next check.
 */
nci_guard_verdict nci_guard_check(nci_guard *guard, const uint8_t *data, size_t size_bytes,
                                  const netcore_address *wire_from,
                                  const netcore_address *real_from, uint64_t now_us);

/* True if slot is tracked in state with this wire address (FREE ignores the
 * address): the caller can skip nci_guard_set_slot. Out-of-range slot: true. */
bool nci_guard_slot_matches(const nci_guard *guard, uint32_t slot, nci_guard_slot_state state,
                            const netcore_address *wire);

/* Records the state of a slot; real is the client's real address (ignored
 * for FREE). Entering HANDSHAKE starts the slot's handshake clock at now_us.
 * Out-of-range slots are ignored. */
void nci_guard_set_slot(nci_guard *guard, uint32_t slot, nci_guard_slot_state state,
                        const netcore_address *wire, const netcore_address *real, uint64_t now_us);

/* True if slot has been in HANDSHAKE for at least handshake_timeout_ms at
 * now_us. The caller frees it, marks it FREE and calls nci_guard_count_handshake_timeout. */
bool nci_guard_handshake_expired(const nci_guard *guard, uint32_t slot, uint64_t now_us);
void nci_guard_count_handshake_timeout(nci_guard *guard);

/* Writes the guard's counters and slot figures into the guard_* and slots_*
 * fields of out_stats (other fields untouched). */
void nci_guard_stats(const nci_guard *guard, netcore_host_stats *out_stats);

/* The config with every default resolved (for tests and logs). */
const netcore_guard_config *nci_guard_config_resolved(const nci_guard *guard);

#endif /* NETCORE_ENET_GUARD_H */
