/* Datagram guard of the ENet backend: strict ENet header parser, address
 * proof check, per-IP caps and CONNECT rate limits. */
#include <string.h>
#include <time.h>

#include "core/core_internal.h"
#include "transport/enet_guard.h"
#include "netcore/token.h"

/* ENet header: 16-bit peer id word (big-endian) whose top bits are flags. */
#define HEADER_FLAG_COMPRESSED 0x4000u
#define HEADER_FLAG_SENT_TIME 0x8000u
#define HEADER_SESSION_MASK 0x3000u
#define HEADER_SESSION_SHIFT 12u
#define HEADER_PEER_MASK 0x0FFFu

#define COMMAND_MASK 0x0Fu
#define COMMAND_ACKNOWLEDGE 1u
#define COMMAND_CONNECT 2u
#define COMMAND_VERIFY_CONNECT 3u
#define COMMAND_DISCONNECT 4u
#define COMMAND_PING 5u
#define COMMAND_SEND_RELIABLE 6u
#define COMMAND_SEND_UNRELIABLE 7u
#define COMMAND_SEND_FRAGMENT 8u
#define COMMAND_SEND_UNSEQUENCED 9u
#define COMMAND_BANDWIDTH_LIMIT 10u
#define COMMAND_THROTTLE_CONFIGURE 11u
#define COMMAND_SEND_UNRELIABLE_FRAGMENT 12u

#define DEFAULT_SKEW_S 5u
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 3000u
#define DEFAULT_IP_TABLE_ENTRIES 1024u
#define MAX_IP_TABLE_ENTRIES 65536u
#define RATE_WAYS 4u     /* per-IP rate table: set-associative, 4 ways */
#define MICRO 1000000ull /* token bucket units per token */

typedef struct ip_key {
    uint8_t family;
    uint8_t bytes[16];
} ip_key;

/* Slots held by one IP; open addressing, removed when it holds none. */
typedef struct ip_count {
    ip_key key;
    bool used;
    uint32_t peers;
    uint32_t handshakes;
} ip_count;

typedef struct token_bucket {
    uint64_t micro_tokens;
    uint64_t last_us;
} token_bucket;

typedef struct ip_bucket {
    ip_key key;
    bool used;
    token_bucket bucket;
} ip_bucket;

typedef struct slot_info {
    nci_guard_slot_state state;
    netcore_address wire;
    ip_key ip;
    uint64_t handshake_since_us;
} slot_info;

struct nci_guard {
    netcore_allocator allocator;
    netcore_guard_config config; /* defaults resolved */
    uint32_t max_peers;
    bool accept_connects;
    uint64_t hash_seed;
    slot_info *slots;
    ip_count *counts; /* count_mask + 1 entries */
    uint32_t count_mask;
    ip_bucket *buckets; /* ip_table_entries entries */
    uint32_t bucket_sets;
    token_bucket global;
    uint32_t slots_in_use;
    uint32_t slots_handshaking;
    netcore_host_stats counters; /* only the guard_* fields are used */
};

/* --- Parser --- */

static uint16_t read_u16_be(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t read_u32_be(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Bytes of the command at p as sent (its ENetProtocol* struct and, for the
 * send commands, the payload its dataLength announces), with left bytes from
 * p to the end; 0 for an unknown command or one whose fixed part is cut off.
 * Each size is a constant of its own case rather than a table entry, so the
 * CPU runs ahead on the predicted branch instead of waiting for one more
 * load per command. */
static size_t command_size(const uint8_t *p, size_t left)
{
    switch (p[0] & COMMAND_MASK) {
    case COMMAND_ACKNOWLEDGE:
        return 8;
    case COMMAND_CONNECT:
        return 48;
    case COMMAND_VERIFY_CONNECT:
        return 44;
    case COMMAND_DISCONNECT:
        return 8;
    case COMMAND_PING:
        return 4;
    case COMMAND_SEND_RELIABLE:
        return left < 6 ? 0 : 6u + read_u16_be(p + 4);
    case COMMAND_SEND_UNRELIABLE:
        return left < 8 ? 0 : 8u + read_u16_be(p + 6);
    case COMMAND_SEND_FRAGMENT:
        return left < 24 ? 0 : 24u + read_u16_be(p + 6);
    case COMMAND_SEND_UNSEQUENCED:
        return left < 8 ? 0 : 8u + read_u16_be(p + 6);
    case COMMAND_BANDWIDTH_LIMIT:
        return 12;
    case COMMAND_THROTTLE_CONFIGURE:
        return 16;
    case COMMAND_SEND_UNRELIABLE_FRAGMENT:
        return left < 24 ? 0 : 24u + read_u16_be(p + 6);
    default:
        return 0;
    }
}

bool nci_enet_datagram_parse(const uint8_t *data, size_t size, nci_enet_datagram *out)
{
    if (!data || !out || size < 2)
        return false;
    memset(out, 0, sizeof *out);
    uint16_t word = read_u16_be(data);
    /* No netcore host enables compression, so ENet would drop these anyway. */
    if (word & HEADER_FLAG_COMPRESSED)
        return false;
    out->peer_id = (uint16_t)(word & HEADER_PEER_MASK);
    out->session_id = (uint8_t)((word & HEADER_SESSION_MASK) >> HEADER_SESSION_SHIFT);
    out->has_sent_time = (word & HEADER_FLAG_SENT_TIME) != 0;
    size_t at = out->has_sent_time ? 4 : 2;
    if (at > size)
        return false;
    const uint8_t *connect = NULL;
    uint32_t count = 0;
    while (at < size) {
        /* Sizes are compared with "bytes left", never as at + n, so a lying
         * dataLength cannot overflow the arithmetic. */
        size_t left = size - at;
        if (count == NCI_ENET_MAX_COMMANDS)
            return false;
        size_t bytes = command_size(data + at, left);
        if (bytes == 0 || bytes > left)
            return false;
        if ((data[at] & COMMAND_MASK) == COMMAND_CONNECT)
            connect = data + at;
        at += bytes;
        count++;
    }
    out->command_count = count;
    if (count == 0)
        return false;
    if (connect) {
        out->connect_channel_count = read_u32_be(connect + 16);
        out->connect_id = read_u32_be(connect + 40);
        out->connect_data = read_u32_be(connect + 44);
        if (count != 1 || out->peer_id != NCI_ENET_PEER_ID_NONE || !out->has_sent_time ||
            out->connect_channel_count < 1 || out->connect_channel_count > 255)
            return false;
        out->is_connect = true;
    }
    return true;
}

static void write_u32_be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

size_t nci_enet_datagram_write_connect(uint8_t out[NCI_ENET_CONNECT_DATAGRAM_BYTES],
                                       uint32_t connect_id, uint32_t connect_data,
                                       uint32_t channel_count)
{
    memset(out, 0, NCI_ENET_CONNECT_DATAGRAM_BYTES);
    out[0] = (uint8_t)((HEADER_FLAG_SENT_TIME | NCI_ENET_PEER_ID_NONE) >> 8);
    out[1] = (uint8_t)(NCI_ENET_PEER_ID_NONE & 0xFF);
    uint8_t *c = out + 4;
    c[0] = COMMAND_CONNECT | 0x80; /* acknowledge flag, as ENet sends it */
    c[1] = 0xFF;                   /* channel id of control commands */
    c[3] = 1;                      /* reliable sequence number 1 */
    c[6] = 0xFF;                   /* session ids: none yet */
    c[7] = 0xFF;
    write_u32_be(c + 8, 1392);   /* mtu */
    write_u32_be(c + 12, 32768); /* window */
    write_u32_be(c + 16, channel_count);
    write_u32_be(c + 28, 5000); /* throttle interval */
    write_u32_be(c + 32, 2);
    write_u32_be(c + 36, 2);
    write_u32_be(c + 40, connect_id);
    write_u32_be(c + 44, connect_data);
    return NCI_ENET_CONNECT_DATAGRAM_BYTES;
}

/* --- Helpers --- */

/* netcore_address_equal, inlined with fixed-size compares: it runs for
 * every datagram. */
static bool same_address(const netcore_address *a, const netcore_address *b)
{
    if (a->family != b->family || a->port != b->port)
        return false;
    switch (a->family) {
    case NETCORE_ADDRESS_IPV4:
        return memcmp(a->bytes, b->bytes, 4) == 0;
    case NETCORE_ADDRESS_IPV6:
        return memcmp(a->bytes, b->bytes, 16) == 0;
    default:
        return true;
    }
}

static ip_key ip_of(const netcore_address *address)
{
    ip_key key;
    memset(&key, 0, sizeof key);
    key.family = address->family;
    memcpy(key.bytes, address->bytes, address->family == NETCORE_ADDRESS_IPV6 ? 16 : 4);
    return key;
}

static bool ip_equal(const ip_key *a, const ip_key *b)
{
    return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof a->bytes) == 0;
}

/* Keyed with a per-instance seed so a spoofing sender cannot aim many source
 * IPs at one rate-table set to evict a victim's bucket on purpose. */
static uint64_t ip_hash(const nci_guard *g, const ip_key *key)
{
    uint64_t h = g->hash_seed ^ key->family;
    for (size_t i = 0; i < sizeof key->bytes; i += 8) {
        uint64_t word = 0;
        memcpy(&word, key->bytes + i, 8);
        h ^= word;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
    }
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 29);
}

static uint32_t round_up_pow2(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p <<= 1;
    return p;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static void bucket_refill(token_bucket *b, uint32_t rate_per_s, uint32_t burst, uint64_t now_us)
{
    uint64_t cap = (uint64_t)burst * MICRO;
    if (now_us > b->last_us) {
        uint64_t elapsed = now_us - b->last_us;
        /* Beyond the time a refill from empty takes, the bucket is full anyway. */
        uint64_t full_after_us = (uint64_t)burst * MICRO / (rate_per_s ? rate_per_s : 1) + 1;
        uint64_t add = elapsed >= full_after_us ? cap : elapsed * rate_per_s;
        b->micro_tokens = b->micro_tokens + add > cap ? cap : b->micro_tokens + add;
    }
    b->last_us = now_us;
}

static bool bucket_take(token_bucket *b, uint32_t rate_per_s, uint32_t burst, uint64_t now_us)
{
    bucket_refill(b, rate_per_s, burst, now_us);
    if (b->micro_tokens < MICRO)
        return false;
    b->micro_tokens -= MICRO;
    return true;
}

/* The IP's bucket, made full when new; on a miss the least recently used
 * way of the set is taken over (the global bucket still bounds the total). */
static token_bucket *ip_bucket_for(nci_guard *g, const ip_key *key, uint64_t now_us)
{
    ip_bucket *set = &g->buckets[(ip_hash(g, key) & (g->bucket_sets - 1)) * RATE_WAYS];
    ip_bucket *victim = &set[0];
    for (uint32_t i = 0; i < RATE_WAYS; i++) {
        if (set[i].used && ip_equal(&set[i].key, key))
            return &set[i].bucket;
        if (!set[i].used)
            victim = &set[i];
        else if (victim->used && set[i].bucket.last_us < victim->bucket.last_us)
            victim = &set[i];
    }
    victim->used = true;
    victim->key = *key;
    victim->bucket.micro_tokens = (uint64_t)g->config.ip_connect_burst * MICRO;
    victim->bucket.last_us = now_us;
    return &victim->bucket;
}

static ip_count *count_find(nci_guard *g, const ip_key *key, bool create)
{
    uint32_t i = (uint32_t)ip_hash(g, key) & g->count_mask;
    for (uint32_t probes = 0; probes <= g->count_mask; probes++, i = (i + 1) & g->count_mask) {
        ip_count *e = &g->counts[i];
        if (!e->used) {
            if (!create)
                return NULL;
            memset(e, 0, sizeof *e);
            e->used = true;
            e->key = *key;
            return e;
        }
        if (ip_equal(&e->key, key))
            return e;
    }
    return NULL;
}

/* Backward-shift deletion keeps probe runs intact without tombstones. */
static void count_remove(nci_guard *g, ip_count *e)
{
    uint32_t hole = (uint32_t)(e - g->counts);
    uint32_t i = hole;
    for (;;) {
        i = (i + 1) & g->count_mask;
        ip_count *next = &g->counts[i];
        if (!next->used)
            break;
        uint32_t home = (uint32_t)ip_hash(g, &next->key) & g->count_mask;
        /* Move next into the hole unless its home lies cyclically in (hole, i]. */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            g->counts[hole] = *next;
            hole = i;
        }
    }
    memset(&g->counts[hole], 0, sizeof g->counts[hole]);
}

static void count_adjust(nci_guard *g, const ip_key *key, nci_guard_slot_state state, int delta)
{
    if (state == NCI_GUARD_SLOT_FREE)
        return;
    ip_count *e = count_find(g, key, delta > 0);
    if (!e)
        return;
    e->peers = (uint32_t)((int64_t)e->peers + delta);
    if (state == NCI_GUARD_SLOT_HANDSHAKE)
        e->handshakes = (uint32_t)((int64_t)e->handshakes + delta);
    g->slots_in_use = (uint32_t)((int64_t)g->slots_in_use + delta);
    if (state == NCI_GUARD_SLOT_HANDSHAKE)
        g->slots_handshaking = (uint32_t)((int64_t)g->slots_handshaking + delta);
    if (e->peers == 0)
        count_remove(g, e);
}

static uint64_t proof_now_s(const nci_guard *g)
{
    if (g->config.proof_clock_s)
        return g->config.proof_clock_s(g->config.proof_clock_user);
    time_t t = time(NULL);
    return t < 0 ? 0 : (uint64_t)t;
}

/* --- Public functions --- */

netcore_result nci_guard_create(const netcore_allocator *allocator,
                                const netcore_guard_config *config, uint32_t max_peers,
                                bool accept_connects, uint64_t seed, nci_guard **out_guard)
{
    if (!allocator || !config || !out_guard || max_peers == 0 || max_peers > 4095)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_guard = NULL;
    static const uint8_t zero_key[sizeof config->proof_key];
    if (config->require_connect_proof && memcmp(config->proof_key, zero_key, sizeof zero_key) == 0)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (config->ip_table_entries > MAX_IP_TABLE_ENTRIES)
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_guard *g = nci_calloc(allocator, 1, sizeof *g);
    if (!g)
        return NETCORE_ERR_OUT_OF_MEMORY;
    g->allocator = *allocator;
    g->config = *config;
    g->max_peers = max_peers;
    g->accept_connects = accept_connects;
    nci_rng rng;
    nci_rng_seed(&rng, seed);
    g->hash_seed = nci_rng_next(&rng);

    netcore_guard_config *c = &g->config;
    if (!c->proof_clock_skew_s)
        c->proof_clock_skew_s = DEFAULT_SKEW_S;
    if (!c->max_peers_per_ip)
        c->max_peers_per_ip = max_peers;
    if (!c->max_handshakes_per_ip)
        c->max_handshakes_per_ip = max_peers;
    if (!c->handshake_timeout_ms)
        c->handshake_timeout_ms = DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (!c->connect_rate_per_s)
        c->connect_rate_per_s = max_u32(1000u, 4u * max_peers);
    if (!c->connect_burst)
        c->connect_burst = max_u32(256u, 2u * max_peers);
    if (!c->ip_connect_rate_per_s)
        c->ip_connect_rate_per_s = max_u32(100u, max_peers);
    if (!c->ip_connect_burst)
        c->ip_connect_burst = max_u32(32u, max_peers + 16u);
    c->ip_table_entries = round_up_pow2(
        max_u32(c->ip_table_entries ? c->ip_table_entries : DEFAULT_IP_TABLE_ENTRIES, RATE_WAYS));
    g->bucket_sets = c->ip_table_entries / RATE_WAYS;
    /* At most max_peers IPs hold slots; twice that keeps probe runs short. */
    uint32_t count_entries = round_up_pow2(2u * max_peers);
    g->count_mask = count_entries - 1;
    g->slots = nci_calloc(allocator, max_peers, sizeof *g->slots);
    g->counts = nci_calloc(allocator, count_entries, sizeof *g->counts);
    g->buckets = nci_calloc(allocator, c->ip_table_entries, sizeof *g->buckets);
    if (!g->slots || !g->counts || !g->buckets) {
        nci_guard_destroy(g);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    g->global.micro_tokens = (uint64_t)c->connect_burst * MICRO;
    *out_guard = g;
    return NETCORE_OK;
}

void nci_guard_destroy(nci_guard *guard)
{
    if (!guard)
        return;
    nci_free(&guard->allocator, guard->slots);
    nci_free(&guard->allocator, guard->counts);
    nci_free(&guard->allocator, guard->buckets);
    volatile uint8_t *key = guard->config.proof_key;
    for (size_t i = 0; i < sizeof guard->config.proof_key; i++)
        key[i] = 0;
    netcore_allocator allocator = guard->allocator;
    nci_free(&allocator, guard);
}

static nci_guard_verdict check_connect(nci_guard *g, const nci_enet_datagram *d,
                                       const netcore_address *real_from, uint64_t now_us)
{
    const netcore_guard_config *c = &g->config;
    if (!g->accept_connects)
        return NCI_GUARD_UNEXPECTED_CONNECT;
    /* The proof comes first: it is the only check a sender without a token
     * cannot pass, so forged CONNECTs never drain the buckets legitimate
     * clients need. */
    if (c->require_connect_proof &&
        netcore_token_check_address_proof(c->proof_key, real_from, proof_now_s(g),
                                          c->proof_clock_skew_s, d->connect_data) != NETCORE_OK)
        return NCI_GUARD_PROOF;
    ip_key key = ip_of(real_from);
    const ip_count *held = count_find(g, &key, false);
    if (held && held->peers >= c->max_peers_per_ip)
        return NCI_GUARD_IP_PEERS;
    if (held && held->handshakes >= c->max_handshakes_per_ip)
        return NCI_GUARD_IP_HANDSHAKES;
    if (g->slots_in_use >= g->max_peers)
        return NCI_GUARD_FULL;
    bucket_refill(&g->global, c->connect_rate_per_s, c->connect_burst, now_us);
    if (g->global.micro_tokens < MICRO)
        return NCI_GUARD_RATE;
    if (!bucket_take(ip_bucket_for(g, &key, now_us), c->ip_connect_rate_per_s, c->ip_connect_burst,
                     now_us))
        return NCI_GUARD_IP_RATE;
    g->global.micro_tokens -= MICRO;
    return NCI_GUARD_PASS;
}

nci_guard_verdict nci_guard_check(nci_guard *guard, const uint8_t *data, size_t size_bytes,
                                  const netcore_address *wire_from,
                                  const netcore_address *real_from, uint64_t now_us)
{
    nci_enet_datagram d;
    nci_guard_verdict v;
    if (!nci_enet_datagram_parse(data, size_bytes, &d)) {
        v = NCI_GUARD_MALFORMED;
    } else if (d.is_connect) {
        v = check_connect(guard, &d, real_from, now_us);
    } else {
        const slot_info *s = d.peer_id < guard->max_peers ? &guard->slots[d.peer_id] : NULL;
        v = s && s->state != NCI_GUARD_SLOT_FREE && same_address(&s->wire, wire_from)
                ? NCI_GUARD_PASS
                : NCI_GUARD_UNKNOWN;
    }
    netcore_host_stats *n = &guard->counters;
    switch (v) {
    case NCI_GUARD_PASS:
        n->guard_passed++;
        break;
    case NCI_GUARD_MALFORMED:
        n->guard_malformed_dropped++;
        break;
    case NCI_GUARD_UNKNOWN:
        n->guard_unknown_dropped++;
        break;
    case NCI_GUARD_UNEXPECTED_CONNECT:
        n->guard_unexpected_connect_dropped++;
        break;
    case NCI_GUARD_PROOF:
        n->guard_proof_dropped++;
        break;
    case NCI_GUARD_RATE:
        n->guard_rate_dropped++;
        break;
    case NCI_GUARD_IP_RATE:
        n->guard_ip_rate_dropped++;
        break;
    case NCI_GUARD_IP_PEERS:
        n->guard_ip_peers_dropped++;
        break;
    case NCI_GUARD_IP_HANDSHAKES:
        n->guard_ip_handshakes_dropped++;
        break;
    case NCI_GUARD_FULL:
        n->guard_full_dropped++;
        break;
    }
    return v;
}

bool nci_guard_slot_matches(const nci_guard *guard, uint32_t slot, nci_guard_slot_state state,
                            const netcore_address *wire)
{
    if (slot >= guard->max_peers)
        return true;
    const slot_info *s = &guard->slots[slot];
    if (s->state != state)
        return false;
    return state == NCI_GUARD_SLOT_FREE || netcore_address_equal(&s->wire, wire);
}

void nci_guard_set_slot(nci_guard *guard, uint32_t slot, nci_guard_slot_state state,
                        const netcore_address *wire, const netcore_address *real, uint64_t now_us)
{
    if (slot >= guard->max_peers)
        return;
    slot_info *s = &guard->slots[slot];
    count_adjust(guard, &s->ip, s->state, -1);
    memset(s, 0, sizeof *s);
    if (state == NCI_GUARD_SLOT_FREE)
        return;
    s->state = state;
    s->wire = *wire;
    s->ip = ip_of(real);
    s->handshake_since_us = now_us;
    count_adjust(guard, &s->ip, state, +1);
}

bool nci_guard_handshake_expired(const nci_guard *guard, uint32_t slot, uint64_t now_us)
{
    if (slot >= guard->max_peers)
        return false;
    const slot_info *s = &guard->slots[slot];
    return s->state == NCI_GUARD_SLOT_HANDSHAKE && now_us >= s->handshake_since_us &&
           now_us - s->handshake_since_us >= (uint64_t)guard->config.handshake_timeout_ms * 1000u;
}

void nci_guard_count_handshake_timeout(nci_guard *guard)
{
    guard->counters.guard_handshake_timeouts++;
}

void nci_guard_stats(const nci_guard *guard, netcore_host_stats *out_stats)
{
    const netcore_host_stats *n = &guard->counters;
    out_stats->slots_in_use = guard->slots_in_use;
    out_stats->slots_handshaking = guard->slots_handshaking;
    out_stats->guard_passed = n->guard_passed;
    out_stats->guard_malformed_dropped = n->guard_malformed_dropped;
    out_stats->guard_unknown_dropped = n->guard_unknown_dropped;
    out_stats->guard_unexpected_connect_dropped = n->guard_unexpected_connect_dropped;
    out_stats->guard_proof_dropped = n->guard_proof_dropped;
    out_stats->guard_rate_dropped = n->guard_rate_dropped;
    out_stats->guard_ip_rate_dropped = n->guard_ip_rate_dropped;
    out_stats->guard_ip_peers_dropped = n->guard_ip_peers_dropped;
    out_stats->guard_ip_handshakes_dropped = n->guard_ip_handshakes_dropped;
    out_stats->guard_full_dropped = n->guard_full_dropped;
    out_stats->guard_handshake_timeouts = n->guard_handshake_timeouts;
}

const netcore_guard_config *nci_guard_config_resolved(const nci_guard *guard)
{
    return &guard->config;
}
