/* Helpers for transport tests over real ENet on loopback (tl_ = transport
 * loopback): a "side" records everything one host reports; tl_drain polls a
 * host until it has nothing more; tl_run_until polls two sides until a
 * condition holds, bounded by TL_MAX_WAIT_MS of wall time and an iteration
 * count. Failures are Criterion assertions, so these run inside tests only. */
#ifndef NETCORE_TESTS_TRANSPORT_LOOP_H
#define NETCORE_TESTS_TRANSPORT_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/transport.h"

#define TL_MAX_WAIT_MS 20000u
#define TL_MAX_RECORDED 4096u

typedef struct tl_received {
    netcore_peer_id peer;
    uint8_t channel;
    uint32_t seq;
    size_t size;
} tl_received;

/* Everything one host reported, in order. */
typedef struct tl_side {
    netcore_host *host;
    uint32_t connects;
    netcore_peer_id last_connect;
    uint32_t disconnects;
    netcore_peer_id last_disconnect;
    netcore_disconnect_reason reason;
    uint32_t code;
    tl_received rx[TL_MAX_RECORDED];
    uint32_t rx_count; /* recorded in rx */
    uint32_t rx_total; /* received, recorded or not */
    uint32_t corrupt;  /* payloads whose filler did not match */
} tl_side;

typedef bool (*tl_done_fn)(tl_side *a, tl_side *b, void *ctx);

/* Fills size bytes: the 4-byte seq (when size >= 4), then a pattern derived from seq. */
void tl_fill_payload(uint8_t *buf, uint32_t seq, size_t size);
/* Checks the pattern of tl_fill_payload and extracts seq; false if a byte differs. */
bool tl_payload_ok(const uint8_t *buf, size_t size, uint32_t *out_seq);
/* Polls until NONE (first poll waits up to timeout_ms) and records every event. */
void tl_drain(tl_side *s, uint32_t timeout_ms);
/* Polls a and b (either may be NULL) until done(a, b, ctx) or TL_MAX_WAIT_MS;
 * returns done's last answer. */
bool tl_run_until(tl_side *a, tl_side *b, tl_done_fn done, void *ctx);
/* Conditions for tl_run_until. tl_b_received_count: ctx points to a uint32_t count. */
bool tl_both_connected(tl_side *a, tl_side *b, void *ctx);
bool tl_a_disconnected(tl_side *a, tl_side *b, void *ctx);
bool tl_both_disconnected(tl_side *a, tl_side *b, void *ctx);
bool tl_b_received_count(tl_side *a, tl_side *b, void *ctx);
/* Defaults for a server on 127.0.0.1:0 (8 peers) and a client (4 peers). */
void tl_server_config(netcore_host_config *cfg);
void tl_client_config(netcore_host_config *cfg);
/* A zeroed side (heap: it is large); tl_free_side destroys its host too. NULL is ignored. */
tl_side *tl_new_side(void);
void tl_free_side(tl_side *s);
/* The address the side's host is bound to. */
netcore_address tl_address_of(const tl_side *s);
/* Creates both hosts and connects the client to the server; returns the client's peer id. */
netcore_peer_id tl_connect_pair(tl_side *server, const netcore_host_config *scfg, tl_side *client,
                                const netcore_host_config *ccfg);

/* Sealed pairs: fixed session keys both ends know, an admission callback
 * (user NULL) that admits the token TL_SEAL_TOKEN with those keys, and
 * connect options presenting it. */
#define TL_SEAL_TOKEN "sealed-test"
netcore_session_keys tl_session_keys(void);
netcore_result tl_admit_sealed(void *user, netcore_peer_id peer, const netcore_address *from,
                               const void *token, size_t token_size_bytes,
                               netcore_admission_grant *grant);
/* Options with TL_SEAL_TOKEN and *keys (keys must outlive the connect call). */
netcore_connect_options tl_sealed_options(const netcore_session_keys *keys);
/* tl_connect_pair with scfg's admission set to tl_admit_sealed and the
 * client presenting TL_SEAL_TOKEN with tl_session_keys(): every message sealed. */
netcore_peer_id tl_connect_pair_sealed(tl_side *server, const netcore_host_config *scfg,
                                       tl_side *client, const netcore_host_config *ccfg);

#endif /* NETCORE_TESTS_TRANSPORT_LOOP_H */
