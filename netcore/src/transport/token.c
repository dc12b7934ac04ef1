/* Connect tokens: creation, opening, connect proofs and the game server's
 * validator with its replay cache. */
#include <ctype.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "core/core_internal.h"
#include "netcore/token.h"

/* Clear header: version, nonce. It is the AEAD's additional data, so flipping
 * the version or the nonce breaks authentication like any body byte. */
#define TOKEN_HEADER_BYTES (1 + NETCORE_TOKEN_NONCE_BYTES)
/* Body: four u64, server address (family, 16 bytes, port), user data
 * length, user data, bound client IP (family, 16 bytes), session keys. */
#define TOKEN_BODY_BYTES                                                                           \
    (4 * 8 + 1 + 16 + 2 + 1 + NETCORE_TOKEN_USER_DATA_MAX + 1 + 16 + 2 * NETCORE_SESSION_KEY_BYTES)
#define BODY_BOUND_OFFSET (52 + NETCORE_TOKEN_USER_DATA_MAX)
#define BODY_KEYS_OFFSET (BODY_BOUND_OFFSET + 17)
#define TOKEN_MAC_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define TOKEN_MAX_LIFETIME_S 86400u
#define REPLAY_MAX_CAPACITY 1048576u

_Static_assert(TOKEN_HEADER_BYTES + TOKEN_BODY_BYTES + TOKEN_MAC_BYTES == NETCORE_TOKEN_BYTES,
               "NETCORE_TOKEN_BYTES must match the layout");
_Static_assert(NETCORE_TOKEN_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
               "nonce size");
_Static_assert(NETCORE_TOKEN_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");
_Static_assert(NETCORE_TOKEN_BYTES <= NETCORE_MAX_TOKEN_BYTES, "token fits the transport");
_Static_assert(BODY_KEYS_OFFSET + 2 * NETCORE_SESSION_KEY_BYTES == TOKEN_BODY_BYTES, "body layout");

typedef struct replay_entry {
    uint8_t nonce[NETCORE_TOKEN_NONCE_BYTES];
    uint64_t expire_s; /* 0: empty slot */
} replay_entry;

struct netcore_token_validator {
    netcore_token_validator_config config;
    /* Open addressing with linear probing; slot_count is a power of two at
     * least twice the capacity so probe runs stay short. Entries are never
     * deleted one by one: when the table reaches capacity it is rebuilt from
     * its live entries into spare (allocated at create, so no allocation
     * happens while validating). */
    replay_entry *slots;
    replay_entry *spare;
    uint32_t slot_count;
    uint32_t entry_count;
    netcore_token_validator_stats stats;
};

static bool sodium_ready(void)
{
    return sodium_init() >= 0;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static bool family_valid(uint8_t family)
{
    return family == NETCORE_ADDRESS_IPV4 || family == NETCORE_ADDRESS_IPV6;
}

static size_t address_ip_bytes(const netcore_address *address)
{
    return address->family == NETCORE_ADDRESS_IPV6 ? 16 : 4;
}

netcore_result netcore_token_key_generate(uint8_t key[NETCORE_TOKEN_KEY_BYTES])
{
    if (!key)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!sodium_ready())
        return NETCORE_ERR_BACKEND;
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    return NETCORE_OK;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

netcore_result netcore_token_key_from_hex(const char *hex, uint8_t key[NETCORE_TOKEN_KEY_BYTES])
{
    if (!hex || !key)
        return NETCORE_ERR_INVALID_ARGUMENT;
    while (isspace((unsigned char)*hex))
        hex++;
    uint8_t parsed[NETCORE_TOKEN_KEY_BYTES];
    for (size_t i = 0; i < NETCORE_TOKEN_KEY_BYTES; i++) {
        int high = hex_value((unsigned char)hex[2 * i]);
        int low = high < 0 ? -1 : hex_value((unsigned char)hex[2 * i + 1]);
        if (low < 0)
            return NETCORE_ERR_MALFORMED;
        parsed[i] = (uint8_t)(high * 16 + low);
    }
    for (const char *rest = hex + 2 * NETCORE_TOKEN_KEY_BYTES; *rest; rest++)
        if (!isspace((unsigned char)*rest))
            return NETCORE_ERR_MALFORMED;
    memcpy(key, parsed, sizeof parsed);
    sodium_memzero(parsed, sizeof parsed);
    return NETCORE_OK;
}

/* Stateless address proof layout: the top bits name the expiry epoch modulo
 * PROOF_TAG_EPOCHS, so the checker derives the one candidate epoch from its
 * clock and computes a single MAC; the other bits are that MAC. */
#define PROOF_TAG_BITS 4u
#define PROOF_TAG_EPOCHS (1u << PROOF_TAG_BITS)
#define PROOF_MAC_MASK ((1u << (32u - PROOF_TAG_BITS)) - 1u)
/* Where a client-bound token carries its proof: the last 4 nonce bytes. */
#define PROOF_NONCE_OFFSET (1 + NETCORE_TOKEN_NONCE_BYTES - 4)

_Static_assert(NETCORE_TOKEN_PROOF_MAX_LIFETIME_S + 2u * NETCORE_TOKEN_PROOF_EPOCH_S <
                   (PROOF_TAG_EPOCHS - 2u) * NETCORE_TOKEN_PROOF_EPOCH_S,
               "a fresh proof's epoch must stay inside the checker's tag window");

static netcore_result token_seal(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                 const netcore_token_params *params,
                                 const netcore_address *client_address,
                                 uint8_t out_token[NETCORE_TOKEN_BYTES]);

netcore_result netcore_token_create(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                    const netcore_token_params *params,
                                    uint8_t out_token[NETCORE_TOKEN_BYTES])
{
    return token_seal(key, params, NULL, out_token);
}

netcore_result netcore_token_create_for_client(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                               const netcore_token_params *params,
                                               const netcore_address *client_address,
                                               uint8_t out_token[NETCORE_TOKEN_BYTES])
{
    if (!client_address || !family_valid(client_address->family))
        return NETCORE_ERR_INVALID_ARGUMENT;
    return token_seal(key, params, client_address, out_token);
}

/* client_address NULL: a fully random nonce; otherwise its last 4 bytes are
 * the address proof (the rest stays random, 160 bits, so nonces never repeat). */
static netcore_result token_seal(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                 const netcore_token_params *params,
                                 const netcore_address *client_address,
                                 uint8_t out_token[NETCORE_TOKEN_BYTES])
{
    if (!key || !params || !out_token || params->lifetime_s == 0 ||
        params->lifetime_s > TOKEN_MAX_LIFETIME_S ||
        params->user_data_size_bytes > NETCORE_TOKEN_USER_DATA_MAX ||
        (params->user_data_size_bytes > 0 && !params->user_data) ||
        !family_valid(params->server_address.family) ||
        params->create_time_s > UINT64_MAX - params->lifetime_s)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!sodium_ready())
        return NETCORE_ERR_BACKEND;
    /* Zero keys mean the caller forgot to draw them: never seal with them. */
    if (sodium_is_zero(params->session_keys.client_to_server, NETCORE_SESSION_KEY_BYTES) ||
        sodium_is_zero(params->session_keys.server_to_client, NETCORE_SESSION_KEY_BYTES))
        return NETCORE_ERR_INVALID_ARGUMENT;

    uint8_t body[TOKEN_BODY_BYTES];
    memset(body, 0, sizeof body);
    const netcore_address *address = &params->server_address;
    put_u64(body + 0, params->client_id);
    put_u64(body + 8, params->match_id);
    put_u64(body + 16, params->create_time_s);
    put_u64(body + 24, params->create_time_s + params->lifetime_s);
    body[32] = address->family;
    /* Only the bytes the family uses, so IPv4 tokens are canonical (rest zero). */
    memcpy(body + 33, address->bytes, address_ip_bytes(address));
    body[49] = (uint8_t)(address->port & 0xff);
    body[50] = (uint8_t)(address->port >> 8);
    body[51] = (uint8_t)params->user_data_size_bytes;
    if (params->user_data_size_bytes > 0)
        memcpy(body + 52, params->user_data, params->user_data_size_bytes);
    if (client_address) {
        body[BODY_BOUND_OFFSET] = client_address->family;
        memcpy(body + BODY_BOUND_OFFSET + 1, client_address->bytes,
               address_ip_bytes(client_address));
    }
    memcpy(body + BODY_KEYS_OFFSET, params->session_keys.client_to_server,
           NETCORE_SESSION_KEY_BYTES);
    memcpy(body + BODY_KEYS_OFFSET + NETCORE_SESSION_KEY_BYTES,
           params->session_keys.server_to_client, NETCORE_SESSION_KEY_BYTES);

    out_token[0] = NETCORE_TOKEN_VERSION;
    randombytes_buf(out_token + 1, NETCORE_TOKEN_NONCE_BYTES);
    if (client_address) {
        uint64_t proof_expire_s = params->create_time_s + params->lifetime_s;
        if (params->lifetime_s > NETCORE_TOKEN_PROOF_MAX_LIFETIME_S)
            proof_expire_s = params->create_time_s + NETCORE_TOKEN_PROOF_MAX_LIFETIME_S;
        uint32_t proof = netcore_token_address_proof(key, client_address, proof_expire_s);
        for (int i = 0; i < 4; i++)
            out_token[PROOF_NONCE_OFFSET + i] = (uint8_t)(proof >> (8 * i));
    }
    unsigned long long cipher_size = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_encrypt(
        out_token + TOKEN_HEADER_BYTES, &cipher_size, body, sizeof body, out_token,
        TOKEN_HEADER_BYTES, NULL, out_token + 1, key);
    sodium_memzero(body, sizeof body);
    if (rc != 0 || cipher_size != TOKEN_BODY_BYTES + TOKEN_MAC_BYTES)
        return NETCORE_ERR_BACKEND;
    return NETCORE_OK;
}

/* Reads an authentic body; MALFORMED only if the key holder wrote nonsense. */
static netcore_result decode_body(const uint8_t *body, netcore_token_info *info)
{
    memset(info, 0, sizeof *info);
    info->client_id = get_u64(body + 0);
    info->match_id = get_u64(body + 8);
    info->create_time_s = get_u64(body + 16);
    info->expire_time_s = get_u64(body + 24);
    info->server_address.family = body[32];
    memcpy(info->server_address.bytes, body + 33, 16);
    info->server_address.port = (uint16_t)(body[49] | (body[50] << 8));
    info->user_data_size_bytes = body[51];
    uint8_t bound_family = body[BODY_BOUND_OFFSET];
    if (!family_valid(body[32]) || info->user_data_size_bytes > NETCORE_TOKEN_USER_DATA_MAX ||
        info->expire_time_s <= info->create_time_s ||
        (bound_family != NETCORE_ADDRESS_NONE && !family_valid(bound_family)))
        return NETCORE_ERR_MALFORMED;
    memcpy(info->user_data, body + 52, info->user_data_size_bytes);
    info->bound_address.family = bound_family;
    memcpy(info->bound_address.bytes, body + BODY_BOUND_OFFSET + 1, 16);
    memcpy(info->session_keys.client_to_server, body + BODY_KEYS_OFFSET, NETCORE_SESSION_KEY_BYTES);
    memcpy(info->session_keys.server_to_client, body + BODY_KEYS_OFFSET + NETCORE_SESSION_KEY_BYTES,
           NETCORE_SESSION_KEY_BYTES);
    return NETCORE_OK;
}

netcore_result netcore_token_open(const uint8_t key[NETCORE_TOKEN_KEY_BYTES], const void *token,
                                  size_t token_size_bytes, netcore_token_info *out_info)
{
    if (!key || (!token && token_size_bytes > 0))
        return NETCORE_ERR_INVALID_ARGUMENT;
    const uint8_t *bytes = token;
    if (token_size_bytes != NETCORE_TOKEN_BYTES || bytes[0] != NETCORE_TOKEN_VERSION)
        return NETCORE_ERR_MALFORMED;
    if (!sodium_ready())
        return NETCORE_ERR_BACKEND;
    uint8_t body[TOKEN_BODY_BYTES];
    unsigned long long body_size = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(body, &body_size, NULL,
                                                   bytes + TOKEN_HEADER_BYTES,
                                                   NETCORE_TOKEN_BYTES - TOKEN_HEADER_BYTES, bytes,
                                                   TOKEN_HEADER_BYTES, bytes + 1, key) != 0 ||
        body_size != TOKEN_BODY_BYTES)
        return NETCORE_ERR_AUTH;
    netcore_token_info info;
    netcore_result result = decode_body(body, &info);
    sodium_memzero(body, sizeof body);
    if (result == NETCORE_OK) {
        memcpy(info.nonce, bytes + 1, NETCORE_TOKEN_NONCE_BYTES);
        if (out_info)
            *out_info = info;
    }
    sodium_memzero(&info, sizeof info);
    return result;
}

uint32_t netcore_token_connect_proof(const uint8_t key[NETCORE_TOKEN_KEY_BYTES], const void *token,
                                     size_t token_size_bytes, const netcore_address *client_address)
{
    if (!key || (!token && token_size_bytes > 0) || !client_address ||
        !family_valid(client_address->family) || !sodium_ready())
        return 0;
    static const char domain[] = "netcore connect proof v1";
    uint8_t digest[crypto_generichash_BYTES_MIN];
    crypto_generichash_state state;
    crypto_generichash_init(&state, key, NETCORE_TOKEN_KEY_BYTES, sizeof digest);
    crypto_generichash_update(&state, (const uint8_t *)domain, sizeof domain);
    crypto_generichash_update(&state, &client_address->family, 1);
    crypto_generichash_update(&state, client_address->bytes, address_ip_bytes(client_address));
    if (token_size_bytes > 0)
        crypto_generichash_update(&state, token, token_size_bytes);
    crypto_generichash_final(&state, digest, sizeof digest);
    uint32_t proof = (uint32_t)digest[0] | ((uint32_t)digest[1] << 8) |
                     ((uint32_t)digest[2] << 16) | ((uint32_t)digest[3] << 24);
    /* 0 means "no proof" to the checker, so a real proof is never 0. */
    return proof ? proof : 1;
}

netcore_result netcore_token_check_connect_proof(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                                 const void *token, size_t token_size_bytes,
                                                 const netcore_address *client_address,
                                                 uint32_t proof)
{
    if (!key || (!token && token_size_bytes > 0) || !client_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint32_t expected = netcore_token_connect_proof(key, token, token_size_bytes, client_address);
    uint8_t a[4], b[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (uint8_t)(expected >> (8 * i));
        b[i] = (uint8_t)(proof >> (8 * i));
    }
    if (expected == 0 || sodium_memcmp(a, b, sizeof a) != 0)
        return NETCORE_ERR_AUTH;
    return NETCORE_OK;
}

static uint32_t address_proof_for_epoch(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                        const netcore_address *client_address, uint64_t epoch)
{
    static const char domain[] = "netcore address proof v1";
    uint8_t epoch_bytes[8];
    put_u64(epoch_bytes, epoch);
    uint8_t digest[crypto_generichash_BYTES_MIN];
    crypto_generichash_state state;
    crypto_generichash_init(&state, key, NETCORE_TOKEN_KEY_BYTES, sizeof digest);
    crypto_generichash_update(&state, (const uint8_t *)domain, sizeof domain);
    crypto_generichash_update(&state, &client_address->family, 1);
    crypto_generichash_update(&state, client_address->bytes, address_ip_bytes(client_address));
    crypto_generichash_update(&state, epoch_bytes, sizeof epoch_bytes);
    crypto_generichash_final(&state, digest, sizeof digest);
    uint32_t mac = ((uint32_t)digest[0] | ((uint32_t)digest[1] << 8) | ((uint32_t)digest[2] << 16) |
                    ((uint32_t)digest[3] << 24)) &
                   PROOF_MAC_MASK;
    uint32_t tag = (uint32_t)(epoch % PROOF_TAG_EPOCHS);
    /* 0 means "no proof", so a real proof is never 0. */
    if (tag == 0 && mac == 0)
        mac = 1;
    return (tag << (32u - PROOF_TAG_BITS)) | mac;
}

uint32_t netcore_token_address_proof(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                     const netcore_address *client_address, uint64_t proof_expire_s)
{
    if (!key || !client_address || !family_valid(client_address->family) || !sodium_ready() ||
        proof_expire_s > UINT64_MAX - NETCORE_TOKEN_PROOF_EPOCH_S)
        return 0;
    uint64_t epoch =
        (proof_expire_s + NETCORE_TOKEN_PROOF_EPOCH_S - 1) / NETCORE_TOKEN_PROOF_EPOCH_S;
    return address_proof_for_epoch(key, client_address, epoch);
}

netcore_result netcore_token_check_address_proof(const uint8_t key[NETCORE_TOKEN_KEY_BYTES],
                                                 const netcore_address *client_address,
                                                 uint64_t now_s, uint32_t clock_skew_s,
                                                 uint32_t proof)
{
    if (!key || !client_address)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (proof == 0 || !family_valid(client_address->family) || !sodium_ready())
        return NETCORE_ERR_AUTH;
    /* The one epoch with this tag in [low, low + PROOF_TAG_EPOCHS). */
    uint64_t low = (now_s > clock_skew_s ? now_s - clock_skew_s : 0) / NETCORE_TOKEN_PROOF_EPOCH_S;
    uint32_t tag = proof >> (32u - PROOF_TAG_BITS);
    uint64_t epoch = low + ((tag - (uint32_t)(low % PROOF_TAG_EPOCHS)) % PROOF_TAG_EPOCHS);
    /* Stale once now reaches the epoch's end plus the tolerated skew. */
    if (epoch * NETCORE_TOKEN_PROOF_EPOCH_S + clock_skew_s <= now_s)
        return NETCORE_ERR_AUTH;
    uint32_t expected = address_proof_for_epoch(key, client_address, epoch);
    uint8_t a[4], b[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (uint8_t)(expected >> (8 * i));
        b[i] = (uint8_t)(proof >> (8 * i));
    }
    return sodium_memcmp(a, b, sizeof a) == 0 ? NETCORE_OK : NETCORE_ERR_AUTH;
}

uint32_t netcore_token_embedded_proof(const void *token, size_t token_size_bytes)
{
    const uint8_t *bytes = token;
    if (!token || token_size_bytes != NETCORE_TOKEN_BYTES || bytes[0] != NETCORE_TOKEN_VERSION)
        return 0;
    uint32_t proof = 0;
    for (int i = 3; i >= 0; i--)
        proof = (proof << 8) | bytes[PROOF_NONCE_OFFSET + i];
    return proof;
}

/* ------------------------------------------------------------------ */
/* Validator                                                           */
/* ------------------------------------------------------------------ */

void netcore_token_validator_config_default(netcore_token_validator_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->replay_capacity = 4096;
    config->clock_skew_s = 5;
}

netcore_result netcore_token_validator_create(const netcore_token_validator_config *config,
                                              netcore_token_validator **out_validator)
{
    if (!config || !out_validator || config->replay_capacity == 0 ||
        config->replay_capacity > REPLAY_MAX_CAPACITY ||
        !family_valid(config->server_address.family))
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_validator = NULL;
    if (!sodium_ready())
        return NETCORE_ERR_BACKEND;
    netcore_token_validator *v = nci_calloc(&config->allocator, 1, sizeof *v);
    if (!v)
        return NETCORE_ERR_OUT_OF_MEMORY;
    v->config = *config;
    v->slot_count = 1;
    while (v->slot_count < 2 * config->replay_capacity)
        v->slot_count *= 2;
    v->slots = nci_calloc(&config->allocator, v->slot_count, sizeof *v->slots);
    v->spare = nci_calloc(&config->allocator, v->slot_count, sizeof *v->spare);
    if (!v->slots || !v->spare) {
        netcore_token_validator_destroy(v);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    *out_validator = v;
    return NETCORE_OK;
}

void netcore_token_validator_destroy(netcore_token_validator *validator)
{
    if (!validator)
        return;
    netcore_allocator allocator = validator->config.allocator;
    nci_free(&allocator, validator->slots);
    nci_free(&allocator, validator->spare);
    sodium_memzero(validator->config.key, sizeof validator->config.key);
    nci_free(&allocator, validator);
}

static uint32_t replay_home(const netcore_token_validator *v, const uint8_t *nonce)
{
    /* The nonce is uniformly random and authenticated, so its first bytes
     * already make a good hash; an attacker cannot choose them. */
    uint32_t h = (uint32_t)nonce[0] | ((uint32_t)nonce[1] << 8) | ((uint32_t)nonce[2] << 16) |
                 ((uint32_t)nonce[3] << 24);
    return h & (v->slot_count - 1);
}

/* Slot holding nonce, or the empty slot where it would go. */
static replay_entry *replay_find(netcore_token_validator *v, replay_entry *table,
                                 const uint8_t *nonce)
{
    uint32_t mask = v->slot_count - 1;
    for (uint32_t i = replay_home(v, nonce);; i = (i + 1) & mask) {
        replay_entry *e = &table[i];
        if (e->expire_s == 0 || memcmp(e->nonce, nonce, NETCORE_TOKEN_NONCE_BYTES) == 0)
            return e;
    }
}

/* Keeps only entries still live at now_s + skew. */
static void replay_rebuild(netcore_token_validator *v, uint64_t now_s)
{
    memset(v->spare, 0, (size_t)v->slot_count * sizeof *v->spare);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < v->slot_count; i++) {
        const replay_entry *e = &v->slots[i];
        if (e->expire_s != 0 && e->expire_s > now_s) {
            *replay_find(v, v->spare, e->nonce) = *e;
            kept++;
        }
    }
    replay_entry *old = v->slots;
    v->slots = v->spare;
    v->spare = old;
    v->entry_count = kept;
}

netcore_result netcore_token_validate(netcore_token_validator *validator, const void *token,
                                      size_t token_size_bytes, uint64_t now_s,
                                      netcore_token_info *out_info)
{
    return netcore_token_validate_from(validator, token, token_size_bytes, NULL, now_s, out_info);
}

/* A token presented from from may be used there: unbound, or bound to its IP. */
static bool address_allowed(const netcore_token_info *info, const netcore_address *from)
{
    if (!from || info->bound_address.family == NETCORE_ADDRESS_NONE)
        return true;
    return from->family == info->bound_address.family &&
           memcmp(from->bytes, info->bound_address.bytes, address_ip_bytes(from)) == 0;
}

/* The checks of netcore_token_validate_from; info is filled as soon as the
 * token opens, so the caller wipes it whatever the result. */
static netcore_result validate_into(netcore_token_validator *validator, const void *token,
                                    size_t token_size_bytes, const netcore_address *from,
                                    uint64_t now_s, netcore_token_info *info)
{
    if (!validator || (!token && token_size_bytes > 0))
        return NETCORE_ERR_INVALID_ARGUMENT;
    netcore_token_validator_stats *stats = &validator->stats;
    netcore_result result =
        netcore_token_open(validator->config.key, token, token_size_bytes, info);
    if (result == NETCORE_ERR_MALFORMED || result == NETCORE_ERR_INVALID_ARGUMENT) {
        stats->rejected_malformed++;
        return NETCORE_ERR_MALFORMED;
    }
    if (result == NETCORE_ERR_AUTH) {
        stats->rejected_auth++;
        return result;
    }
    if (result != NETCORE_OK)
        return result;
    if (!netcore_address_equal(&info->server_address, &validator->config.server_address)) {
        stats->rejected_mismatch++;
        return NETCORE_ERR_MISMATCH;
    }
    uint64_t skew = validator->config.clock_skew_s;
    /* Both tests are written so that no sum can overflow. */
    uint64_t live_until =
        info->expire_time_s > UINT64_MAX - skew ? UINT64_MAX : info->expire_time_s + skew;
    if (now_s >= live_until || (info->create_time_s > skew && now_s < info->create_time_s - skew)) {
        stats->rejected_expired++;
        return NETCORE_ERR_EXPIRED;
    }
    if (!address_allowed(info, from)) {
        stats->rejected_address++;
        return NETCORE_ERR_ADDRESS;
    }
    replay_entry *slot = replay_find(validator, validator->slots, info->nonce);
    if (slot->expire_s != 0 && slot->expire_s > now_s) {
        stats->rejected_replayed++;
        return NETCORE_ERR_REPLAYED;
    }
    if (validator->config.accept) {
        result = validator->config.accept(validator->config.accept_user, info);
        if (result != NETCORE_OK) {
            stats->rejected_policy++;
            return result;
        }
    }
    if (slot->expire_s == 0 && validator->entry_count >= validator->config.replay_capacity) {
        replay_rebuild(validator, now_s);
        if (validator->entry_count >= validator->config.replay_capacity) {
            stats->rejected_full++;
            return NETCORE_ERR_FULL;
        }
        slot = replay_find(validator, validator->slots, info->nonce);
    }
    if (slot->expire_s == 0)
        validator->entry_count++;
    /* Remembered until the token can no longer pass the expiry test above. */
    memcpy(slot->nonce, info->nonce, NETCORE_TOKEN_NONCE_BYTES);
    slot->expire_s = live_until;
    stats->accepted++;
    return NETCORE_OK;
}

netcore_result netcore_token_validate_from(netcore_token_validator *validator, const void *token,
                                           size_t token_size_bytes, const netcore_address *from,
                                           uint64_t now_s, netcore_token_info *out_info)
{
    netcore_token_info info;
    memset(&info, 0, sizeof info);
    netcore_result r = validate_into(validator, token, token_size_bytes, from, now_s, &info);
    if (r == NETCORE_OK && out_info)
        *out_info = info;
    sodium_memzero(&info, sizeof info);
    return r;
}

static uint64_t unix_time_s(void)
{
    time_t now = time(NULL);
    return now < 0 ? 0 : (uint64_t)now;
}

netcore_result netcore_token_grant(const netcore_token_info *info,
                                   netcore_admission_grant *out_grant)
{
    if (!info || !out_grant)
        return NETCORE_ERR_INVALID_ARGUMENT;
    memset(out_grant, 0, sizeof *out_grant);
    out_grant->has_session_keys = true;
    out_grant->session_keys = info->session_keys;
    if (info->bound_address.family != NETCORE_ADDRESS_NONE) {
        out_grant->has_bound_address = true;
        out_grant->bound_address = info->bound_address;
    }
    return NETCORE_OK;
}

netcore_result netcore_token_admission(void *user, netcore_peer_id peer,
                                       const netcore_address *from, const void *token,
                                       size_t token_size_bytes, netcore_admission_grant *out_grant)
{
    (void)peer;
    netcore_token_validator *validator = user;
    if (!validator || !out_grant)
        return NETCORE_ERR_INVALID_ARGUMENT;
    uint64_t now_s = validator->config.clock ? validator->config.clock(validator->config.clock_user)
                                             : unix_time_s();
    netcore_token_info info;
    netcore_result r =
        netcore_token_validate_from(validator, token, token_size_bytes, from, now_s, &info);
    if (r == NETCORE_OK)
        r = netcore_token_grant(&info, out_grant);
    sodium_memzero(&info, sizeof info);
    return r;
}

netcore_result netcore_token_validator_get_stats(const netcore_token_validator *validator,
                                                 netcore_token_validator_stats *out_stats)
{
    if (!validator || !out_stats)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_stats = validator->stats;
    out_stats->replay_entries = validator->entry_count;
    return NETCORE_OK;
}
