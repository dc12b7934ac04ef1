/** @file
 * netcore connect tokens: the lobby's permission for one client to join one
 * match on one game server.
 *
 * The lobby and its game servers share a 32-byte key. At match start the lobby
 * makes one token per player (netcore_token_create) and hands it to the client,
 * which presents it, unread, to the game server in netcore_host_connect(). The
 * game server checks it with a netcore_token_validator, most simply by using
 * netcore_token_admission as the host's admission callback.
 *
 * A token is NETCORE_TOKEN_BYTES bytes: a clear header (format version and a
 * random 24-byte nonce) followed by the encrypted and authenticated body
 * (XChaCha20-Poly1305, the header as additional data). The body carries the
 * client id, the match id, the game server's address, the client IP the token
 * is bound to (if any), the creation and expiry times, the two session keys
 * (admission.h) and up to NETCORE_TOKEN_USER_DATA_MAX bytes of user data.
 * Clients can neither read nor change any of it; the lobby hands a client
 * its session keys beside the token.
 *
 * Time: token times are seconds on the lobby's clock, which is the UNIX time
 * (seconds since 1970, UTC) unless a clock function is configured. Validation
 * takes the game server's current time on the same scale, so the client's clock
 * never matters; the lobby and its game servers must agree on the time (same
 * machine, or NTP-synchronised machines) within the validator's
 * clock_skew_s, or short-lived tokens will be refused as expired.
 *
 * Single-use: a validator remembers the nonce of every token it accepted until
 * that token expires, and refuses a second presentation.
 */
#ifndef NETCORE_TOKEN_H
#define NETCORE_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/address.h"
#include "netcore/admission.h" /* session keys, netcore_admission_fn */
#include "netcore/netcore.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of the key shared by the lobby and its game servers (XChaCha20-Poly1305). */
#define NETCORE_TOKEN_KEY_BYTES 32
/** Bytes of a token's random nonce. */
#define NETCORE_TOKEN_NONCE_BYTES 24
/** Most bytes of game data a token carries. */
#define NETCORE_TOKEN_USER_DATA_MAX 64
/** Size of every token, whatever its user data. */
#define NETCORE_TOKEN_BYTES 238
/** Format version written in the first byte of every token (2: bound IP and
 * session keys in the body). */
#define NETCORE_TOKEN_VERSION 2

/** Fills key with NETCORE_TOKEN_KEY_BYTES bytes from the operating system's
 * secure random source. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL),
 * NETCORE_ERR_BACKEND (libsodium could not initialise). */
netcore_result netcore_token_key_generate(uint8_t key[NETCORE_TOKEN_KEY_BYTES]);

/** Parses exactly 64 hexadecimal digits (either case, surrounding white space
 * allowed) into key. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL),
 * NETCORE_ERR_MALFORMED (wrong length or a non-hex character). */
netcore_result netcore_token_key_from_hex(const char *hex, uint8_t key[NETCORE_TOKEN_KEY_BYTES]);

/** What the lobby puts in a token. */
typedef struct netcore_token_params {
    uint64_t client_id;             /**< the player, as the lobby names it */
    uint64_t match_id;              /**< the match the token admits to */
    netcore_address server_address; /**< the game server the client must connect to */
    uint64_t create_time_s;         /**< lobby clock, seconds */
    uint32_t lifetime_s;         /**< 1..86400; the token expires at create_time_s + lifetime_s */
    const void *user_data;       /**< may be NULL when user_data_size_bytes is 0; copied */
    size_t user_data_size_bytes; /**< 0..NETCORE_TOKEN_USER_DATA_MAX */
    /** Fresh keys for this player and match (netcore_session_keys_generate);
     * all-zero keys are refused. Copied into the encrypted body. */
    netcore_session_keys session_keys;
} netcore_token_params;

/** What a token says, once opened. */
typedef struct netcore_token_info {
    uint64_t client_id;                       /**< the player, as the lobby named it */
    uint64_t match_id;                        /**< the match the token admits to */
    netcore_address server_address;           /**< the game server the token is for */
    uint64_t create_time_s;                   /**< lobby clock, seconds */
    uint64_t expire_time_s;                   /**< create_time_s + lifetime_s */
    uint8_t nonce[NETCORE_TOKEN_NONCE_BYTES]; /**< the token's nonce (its replay identity) */
    uint8_t
        user_data[NETCORE_TOKEN_USER_DATA_MAX]; /**< the game's data, user_data_size_bytes of it */
    size_t user_data_size_bytes;                /**< 0..NETCORE_TOKEN_USER_DATA_MAX */
    /** The client IP the token is bound to (port 0); family NONE: unbound
     * (made by netcore_token_create). */
    netcore_address bound_address;
    netcore_session_keys session_keys; /**< wipe after use */
} netcore_token_info;

/**
 * Makes a token bound to no IP (fresh random nonce) and writes
 * NETCORE_TOKEN_BYTES bytes to out_token. Errors: NETCORE_ERR_INVALID_ARGUMENT
 * (NULL, lifetime out of range, user data too large, server address family
 * neither IPv4 nor IPv6, all-zero session keys),
 * NETCORE_ERR_BACKEND (libsodium could not initialise or encrypt).
 */
netcore_result netcore_token_create(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                    const netcore_token_params *params,
                                    uint8_t out_token[NETCORE_TOKEN_BYTES]);

/**
 * Authenticates, decrypts and decodes a token without any policy check (no
 * time, address or replay check). out_info may be NULL.
 * Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL key or token with size > 0),
 * NETCORE_ERR_MALFORMED (wrong size, unknown version, or an authentic body with
 * an impossible field), NETCORE_ERR_AUTH (forged, tampered or made with another
 * key), NETCORE_ERR_BACKEND (libsodium could not initialise).
 */
netcore_result netcore_token_open(const uint8_t key[NETCORE_TOKEN_KEY_BYTES], const void *token,
                                  size_t token_size_bytes, netcore_token_info *out_info);

/* ------------------------------------------------------------------ */
/* Connect proof                                                       */
/* ------------------------------------------------------------------ */

/**
 * A 32-bit keyed digest (BLAKE2b with the shared key) of the token's bytes and
 * the client's IP address. The port is left out on purpose: the lobby sees the
 * client's TCP port, the game server its UDP port, and NAT rewrites both. The
 * lobby sends it beside the token; the client puts it in the connect data of
 * its handshake, so a game server holding the token and the datagram's source
 * address can check it with the key alone, without any state.
 * Returns 0 when an argument is NULL or the address family is unknown (0 is
 * never accepted by netcore_token_check_connect_proof).
 */
uint32_t netcore_token_connect_proof(const uint8_t key[NETCORE_TOKEN_KEY_BYTES], const void *token,
                                     size_t token_size_bytes,
                                     const netcore_address *client_address);

/** NETCORE_OK if proof matches; NETCORE_ERR_AUTH otherwise (including proof 0),
 * NETCORE_ERR_INVALID_ARGUMENT for NULL arguments. Runs in constant time for a
 * given token size. */
netcore_result netcore_token_check_connect_proof(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                                 const void *token, size_t token_size_bytes,
                                                 const netcore_address *client_address,
                                                 uint32_t proof);

/* ------------------------------------------------------------------ */
/* Address proof (stateless, checked before a peer slot is given)     */
/* ------------------------------------------------------------------ */

/**
 * netcore_token_connect_proof above needs the token to be checked, and the
 * token only reaches the game server after the ENet handshake, when a peer
 * slot is already spent. The address proof needs nothing but the key, the
 * datagram's source IP and the clock, so the game server's datagram guard
 * (netcore_guard_config.require_connect_proof) checks it on the CONNECT
 * datagram itself:
 *   proof = (epoch mod 16) << 28 | MAC28(key, client IP, epoch),
 *   epoch = ceil(proof_expire_s / NETCORE_TOKEN_PROOF_EPOCH_S).
 * A proof is good from any port of that IP (NAT rewrites ports) until the end
 * of its epoch plus the checker's clock skew, and useless from another IP.
 * 28 MAC bits: a blind guess succeeds once in 2^28 tries.
 *
 * netcore_token_create_for_client puts the proof in the token's clear nonce;
 * the lobby sends the same value beside the token (MATCH_START's
 * connect_proof), and the client passes it as
 * netcore_connect_options.connect_data (netcore_token_embedded_proof reads
 * it from a token). The transport never parses the token itself.
 */
#define NETCORE_TOKEN_PROOF_EPOCH_S 120u
/** A client-bound token's proof expires with the token, or this long after
 * the token was made if that comes first. */
#define NETCORE_TOKEN_PROOF_MAX_LIFETIME_S 1200u

/** Same as netcore_token_create, for one client: the token is bound to
 * client_address's IP (validation with a source address refuses any other,
 * see netcore_token_validate_from), and the last 4 nonce bytes are
 * netcore_token_address_proof(key, client_address, expiry) with expiry
 * min(create + lifetime, create + NETCORE_TOKEN_PROOF_MAX_LIFETIME_S).
 * client_address is the client's IP as the lobby sees it (port ignored).
 * Errors: those of netcore_token_create; NETCORE_ERR_INVALID_ARGUMENT also for
 * a NULL client address or a family neither IPv4 nor IPv6. */
netcore_result netcore_token_create_for_client(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                               const netcore_token_params *params,
                                               const netcore_address *client_address,
                                               uint8_t out_token[NETCORE_TOKEN_BYTES]);

/** The address proof of client_address's IP valid until proof_expire_s
 * (seconds, lobby clock; rounded up to an epoch end). Never 0 for valid
 * arguments; 0 when key or address is NULL, the family unknown, or libsodium
 * cannot initialise. */
uint32_t netcore_token_address_proof(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                     const netcore_address *client_address,
                                     uint64_t proof_expire_s);

/** NETCORE_OK if proof is the address proof of client_address's IP for an
 * epoch that has not ended by now_s - clock_skew_s and lies less than 16
 * epochs ahead; NETCORE_ERR_AUTH otherwise (proof 0, wrong IP or key, stale,
 * unknown family); NETCORE_ERR_INVALID_ARGUMENT for NULL arguments. One MAC
 * computation, constant time in the proof. */
netcore_result netcore_token_check_address_proof(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                                 const netcore_address *client_address,
                                                 uint64_t now_s, uint32_t clock_skew_s,
                                                 uint32_t proof);

/** The proof a client-bound token carries in its clear header (no key needed;
 * a token made by netcore_token_create gives 4 random bytes instead). 0 when
 * token is NULL or not a token of this format. */
uint32_t netcore_token_embedded_proof(const void *token, size_t token_size_bytes);

/* ------------------------------------------------------------------ */
/* Validator (game server side)                                        */
/* ------------------------------------------------------------------ */

/** Opaque handle: made by netcore_token_validator_create(), freed by netcore_token_validator_destroy(). */
typedef struct netcore_token_validator netcore_token_validator;

/** Current time on the lobby's scale, in seconds. */
typedef uint64_t (*netcore_token_clock_fn)(void *user);

/** Game server policy, called for a token that passed every other check,
 * before it is recorded as used: e.g. refuse a match this server was not
 * assigned (NETCORE_ERR_NOT_FOUND) or a client already playing. Return
 * NETCORE_OK to accept; any other code is the validation's result. */
typedef netcore_result (*netcore_token_accept_fn)(void *user, const netcore_token_info *info);

/** Settings of a netcore_token_validator: fill with netcore_token_validator_config_default(), change
 * what you need, pass to netcore_token_validator_create() (which copies it). */
typedef struct netcore_token_validator_config {
    netcore_allocator allocator; /**< memory for this object; zeroed: malloc and free */
    uint8_t
        key[NETCORE_TOKEN_KEY_BYTES]; /**< the lobby's token key; the default is all zero: set it */
    /** This game server's public address, exactly as the lobby writes it in
     * tokens; a token for another address is refused with NETCORE_ERR_MISMATCH. */
    netcore_address server_address;
    /** Accepted tokens remembered until they expire; default 4096, 1..1048576.
     * When every entry holds a live token, new tokens are refused with
     * NETCORE_ERR_FULL (fail closed): size it above the number of tokens the
     * lobby issues for this server within one token lifetime. */
    uint32_t replay_capacity;
    /** Tolerated clock difference between lobby and game server; default 5.
     * A token is refused as expired when now >= expire + skew, or when it was
     * made more than skew seconds in the future. */
    uint32_t clock_skew_s;
    /** Clock for netcore_token_admission; NULL reads the UNIX time. */
    netcore_token_clock_fn clock;
    void *clock_user;               /**< passed to clock unchanged */
    netcore_token_accept_fn accept; /**< NULL: no further policy */
    void *accept_user;              /**< passed to accept unchanged */
} netcore_token_validator_config;

/** Zeroed key (set one), unset address, capacity 4096, skew 5 s, UNIX clock. */
void netcore_token_validator_config_default(netcore_token_validator_config *config);

/** Copies the config. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL, capacity out
 * of range, address family neither IPv4 nor IPv6), NETCORE_ERR_OUT_OF_MEMORY,
 * NETCORE_ERR_BACKEND (libsodium could not initialise). */
netcore_result netcore_token_validator_create(const netcore_token_validator_config *config,
                                              netcore_token_validator **out_validator);

/** Frees the validator and wipes its copy of the key. NULL is ignored. */
void netcore_token_validator_destroy(netcore_token_validator *validator);

/**
 * Checks a presented token at time now_s (lobby scale) and, when it is good,
 * records it as used. out_info may be NULL; it is filled only on NETCORE_OK.
 * Errors, in the order they are checked: NETCORE_ERR_INVALID_ARGUMENT,
 * NETCORE_ERR_MALFORMED (size or version), NETCORE_ERR_AUTH (forged, tampered,
 * other key), NETCORE_ERR_MISMATCH (token for another server address),
 * NETCORE_ERR_EXPIRED, NETCORE_ERR_REPLAYED (already accepted once),
 * whatever the accept callback returned, NETCORE_ERR_FULL (replay cache full
 * of live tokens). Each is counted.
 */
netcore_result netcore_token_validate(netcore_token_validator *validator, const void *token,
                                      size_t token_size_bytes, uint64_t now_s,
                                      netcore_token_info *out_info);

/**
 * netcore_token_validate for a token presented from the address from (port
 * ignored): a token bound to another IP is refused with NETCORE_ERR_ADDRESS
 * (counted as rejected_address) before it is recorded as used, so a stolen
 * token presented from elsewhere does not spend it. from NULL: no address
 * check. Same errors otherwise, NETCORE_ERR_ADDRESS checked after
 * NETCORE_ERR_EXPIRED.
 */
netcore_result netcore_token_validate_from(netcore_token_validator *validator, const void *token,
                                           size_t token_size_bytes, const netcore_address *from,
                                           uint64_t now_s, netcore_token_info *out_info);

/** Fills an admission grant from an accepted token: its session keys and
 * its bound IP. Errors: NETCORE_ERR_INVALID_ARGUMENT (NULL). */
netcore_result netcore_token_grant(const netcore_token_info *info,
                                   netcore_admission_grant *out_grant);

/**
 * netcore_token_validate_from at the configured clock's time, then
 * netcore_token_grant; its signature is netcore_admission_fn, so a game
 * server can set
 *   host_config.admission = netcore_token_admission;
 *   host_config.admission_user = validator;
 * user must be a netcore_token_validator; peer is not used. The token is
 * read, not kept; out_grant is filled only on NETCORE_OK. Errors: those of
 * netcore_token_validate_from (the peer is then refused with that code) and
 * NETCORE_ERR_INVALID_ARGUMENT (NULL user or out_grant).
 */
netcore_result netcore_token_admission(void *user, netcore_peer_id peer,
                                       const netcore_address *from, const void *token,
                                       size_t token_size_bytes, netcore_admission_grant *out_grant);

/** Counters of a netcore_token_validator since it was created (read with
 * netcore_token_validator_get_stats()). A plain value. */
typedef struct netcore_token_validator_stats {
    uint64_t accepted;           /**< tokens accepted */
    uint64_t rejected_malformed; /**< wrong size, version or field values */
    uint64_t rejected_auth;      /**< failed to decrypt: wrong key or tampered */
    uint64_t rejected_mismatch;  /**< made for another game server address */
    uint64_t rejected_expired;   /**< past expiry, or made too far in the future */
    uint64_t rejected_replayed;  /**< already accepted once */
    uint64_t rejected_policy;    /**< refused by the accept callback */
    uint64_t rejected_full;      /**< the replay table had no free entry (fail closed) */

    uint64_t rejected_address; /**< presented from an IP other than the bound one */
    uint32_t replay_entries;   /**< live entries now held */
} netcore_token_validator_stats;

/** Errors: NETCORE_ERR_INVALID_ARGUMENT. */
netcore_result netcore_token_validator_get_stats(const netcore_token_validator *validator,
                                                 netcore_token_validator_stats *out_stats);

#ifdef __cplusplus
}
#endif

#endif /* NETCORE_TOKEN_H */
