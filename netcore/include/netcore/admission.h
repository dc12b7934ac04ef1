/** @file
 * netcore admission: what a game server's admission callback tells the
 * transport about a peer that presented a connect token, and the session
 * keys that seal the peer's traffic afterwards.
 *
 * This header is shared by the transport (transport.h), which calls the
 * callback and seals messages, and by connect tokens (token.h), which
 * provide a ready-made callback (netcore_token_admission). Neither needs
 * the other's header for it.
 *
 * Session keys: per player and match the lobby draws two random 32-byte
 * keys, one per direction, writes them into the token's encrypted body and
 * hands them to the player beside the token. The client passes them in
 * netcore_connect_options; the game server learns them when its admission
 * callback opens the token and returns them in a netcore_admission_grant.
 * After admission every message on every channel is sealed with them
 * (docs/security.md, docs/transport-protocol.md).
 */
#ifndef NETCORE_ADMISSION_H
#define NETCORE_ADMISSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/address.h"
#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Identifies one connection on one host. 0 is never a valid id. A slot reused
 * by a later connection gets a new id, so a stale id fails with
 * NETCORE_ERR_NOT_CONNECTED instead of reaching the wrong player. */
typedef uint32_t netcore_peer_id;
/** The id that names no peer (never assigned to a connection). */
#define NETCORE_PEER_NONE ((netcore_peer_id)0)

/** Largest token a client may present in netcore_host_connect(). */
#define NETCORE_MAX_TOKEN_BYTES 1024
/** Bytes of one session key (ChaCha20-Poly1305-IETF key). */
#define NETCORE_SESSION_KEY_BYTES 32

/** The two keys of one player's session: each direction has its own, so a
 * message can never be reflected back to its sender. A plain value; wipe it
 * (netcore_session_keys_wipe) when done with it. */
typedef struct netcore_session_keys {
    uint8_t client_to_server[NETCORE_SESSION_KEY_BYTES]; /**< seals what the client sends */
    uint8_t server_to_client[NETCORE_SESSION_KEY_BYTES]; /**< seals what the server sends */
} netcore_session_keys;

/** Fills both keys from the operating system's secure random source
 * (libsodium randombytes). Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL),
 * NETCORE_ERR_BACKEND (libsodium could not initialise). */
netcore_result netcore_session_keys_generate(netcore_session_keys *out_keys);

/** Overwrites both keys with zeroes in a way the compiler keeps. NULL is ignored. */
void netcore_session_keys_wipe(netcore_session_keys *keys);

/** What an admission callback hands the transport besides its verdict. The
 * transport zeroes it before the call; a callback fills what it knows. */
typedef struct netcore_admission_grant {
    /** true: session_keys seal this peer's traffic. A server host with an
     * admission callback refuses a peer admitted without keys (fails closed)
     * unless netcore_host_config.seal_disabled is set. */
    bool has_session_keys;
    netcore_session_keys session_keys; /**< the peer's keys; read only when has_session_keys */
    /** true: the token was bound to this IP (port ignored: NAT rewrites it).
     * The transport refuses the peer if it connected from another IP and
     * counts token_address_rejected. */
    bool has_bound_address;
    netcore_address bound_address; /**< the IP the token names; read only when has_bound_address */

} netcore_admission_grant;

/**
 * Admission callback, called on a server once per pending peer with the
 * token that peer presented (size may be 0) and the address its datagrams
 * come from. Return NETCORE_OK to admit, filling *out_grant (never NULL);
 * any other code rejects the peer, is counted in stats and is reported to
 * the client as the code of a NETCORE_DISCONNECT_REJECTED. Returning
 * NETCORE_ERR_ADDRESS (token used from the wrong IP) is counted as
 * token_address_rejected. token and from are valid only during the call.
 */
typedef netcore_result (*netcore_admission_fn)(void *user, netcore_peer_id peer,
                                               const netcore_address *from, const void *token,
                                               size_t token_size_bytes,
                                               netcore_admission_grant *out_grant);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_ADMISSION_H */
