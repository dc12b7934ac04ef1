/* The range-coded snapshot format: every behaviour test of test_snapshot.c
 * again with a range-coded schema (round trips, loss, churn, budgets,
 * interest, hostile input), then the range coder itself and what only the
 * range-coded format does (its hash, its size, its fallback). */
#define SNAPSHOT_TEST_FORMAT NETCORE_SNAPSHOT_FORMAT_RANGE_CODED
#include "test_snapshot.c"

#include "replication/range_coder.h"

#define CODER_SYMBOLS 20000
#define CODER_MODELS 64

typedef struct coder_script {
    uint8_t model[CODER_SYMBOLS]; /* model index, or 0xff for 7 direct bits */
    uint32_t value[CODER_SYMBOLS];
} coder_script;

static coder_script script;
static uint8_t coded[CODER_SYMBOLS * 2];

/* Symbols whose statistics differ per model, some skewed, some not. */
static void make_script(uint64_t seed)
{
    nci_rng rng;
    nci_rng_seed(&rng, seed);
    for (uint32_t i = 0; i < CODER_SYMBOLS; i++) {
        uint32_t m = nci_rng_below(&rng, CODER_MODELS + 4);
        if (m >= CODER_MODELS) {
            script.model[i] = 0xff;
            script.value[i] = nci_rng_below(&rng, 128);
        } else {
            script.model[i] = (uint8_t)m;
            script.value[i] = nci_rng_below(&rng, 1000) < m * 15; /* P(1) = m * 1.5 % */
        }
    }
}

/* Bits the script's symbols carry: the binary entropy of each model's
 * probability, 7 per direct symbol. */
static double script_entropy_bits(void)
{
    double bits = 0.0;
    for (uint32_t i = 0; i < CODER_SYMBOLS; i++) {
        if (script.model[i] == 0xff) {
            bits += 7.0;
            continue;
        }
        double p = script.model[i] * 0.015;
        if (p > 0.0)
            bits -= p * log2(p) + (1.0 - p) * log2(1.0 - p);
    }
    return bits;
}

static size_t encode_script(size_t capacity, unsigned *out_dropped, bool *out_failed)
{
    static nci_bit_model models[CODER_MODELS];
    memset(models, 0, sizeof models);
    nci_range_encoder enc;
    nci_range_encoder_init(&enc, coded, capacity);
    for (uint32_t i = 0; i < CODER_SYMBOLS; i++) {
        if (script.model[i] == 0xff)
            nci_range_encode_direct(&enc, script.value[i], 7);
        else
            nci_range_encode_bit(&enc, &models[script.model[i]], script.value[i]);
    }
    size_t n = nci_range_encoder_finish(&enc);
    *out_dropped = enc.dropped;
    *out_failed = enc.failed;
    return n;
}

/* Decodes `size` bytes; true when every symbol matched and the end checks passed. */
static bool decode_script(size_t size, unsigned dropped)
{
    static nci_bit_model models[CODER_MODELS];
    memset(models, 0, sizeof models);
    nci_range_decoder dec;
    nci_range_decoder_init(&dec, coded, size);
    bool same = true;
    for (uint32_t i = 0; i < CODER_SYMBOLS; i++) {
        uint32_t v = script.model[i] == 0xff ? nci_range_decode_direct(&dec, 7)
                                             : nci_range_decode_bit(&dec, &models[script.model[i]]);
        same &= v == script.value[i];
    }
    return same && nci_range_decoder_finish(&dec, dropped);
}

Test(range_coder, round_trips_bit_exactly_and_compresses_skewed_bits)
{
    for (uint64_t seed = 1; seed <= 8; seed++) {
        make_script(seed);
        unsigned dropped;
        bool failed;
        size_t n = encode_script(sizeof coded, &dropped, &failed);
        cr_assert(!failed);
        cr_assert_leq(dropped, NCI_RC_MAX_PAD_BYTES);
        cr_assert(decode_script(n, dropped), "seed %llu", (unsigned long long)seed);
        /* Within a few percent of the entropy of the source. */
        double ideal = script_entropy_bits();
        cr_assert_lt((double)n * 8.0, ideal * 1.04 + 64.0, "%zu bytes for %.0f bits", n, ideal);
        cr_assert_gt((double)n * 8.0, ideal * 0.96, "%zu bytes for %.0f bits", n, ideal);
    }
}

Test(range_coder, truncated_extended_or_corrupt_input_is_refused)
{
    make_script(3);
    unsigned dropped;
    bool failed;
    size_t n = encode_script(sizeof coded, &dropped, &failed);
    cr_assert(!failed);
    for (size_t cut = 1; cut <= 8 && cut <= n; cut++)
        cr_assert(!decode_script(n - cut, dropped), "cut by %zu accepted", cut);
    coded[n] = 0x5a;
    cr_assert(!decode_script(n + 1, dropped), "a trailing byte accepted");
    cr_assert(!decode_script(n, dropped + 1), "a wrong padding count accepted");
    /* Code words no encoder writes fail at once; nothing reads past the end. */
    static const uint8_t ones[4] = {0xff, 0xff, 0xff, 0xff};
    nci_range_decoder dec;
    nci_range_decoder_init(&dec, ones, sizeof ones);
    cr_assert(dec.failed);
    nci_range_decoder_init(&dec, NULL, 0);
    nci_bit_model m = {0};
    for (int i = 0; i < 1000; i++)
        (void)nci_range_decode_bit(&dec, &m);
    cr_assert(dec.failed, "an empty input decoded 1000 symbols");
}

Test(range_coder, output_that_does_not_fit_fails_cleanly)
{
    make_script(5);
    unsigned dropped;
    bool failed;
    size_t n = encode_script(sizeof coded, &dropped, &failed);
    cr_assert(!failed);
    size_t small = encode_script(n / 2, &dropped, &failed);
    cr_assert(failed);
    cr_assert_eq(small, 0);
    /* Exactly the room it needs is enough. */
    cr_assert_eq(encode_script(n, &dropped, &failed), n);
    cr_assert(!failed);
}

Test(range_format, hash_differs_from_bitpacked_and_clients_cannot_mix)
{
    netcore_schema *range = make_schema(1.0f / 512.0f);
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cr_assert_eq(netcore_schema_snapshot_format(range), NETCORE_SNAPSHOT_FORMAT_RANGE_CODED);
    cr_assert_str_eq(netcore_snapshot_format_name(NETCORE_SNAPSHOT_FORMAT_RANGE_CODED),
                     "range_coded");
    cfg.snapshot_format = NETCORE_SNAPSHOT_FORMAT_COUNT;
    netcore_schema *bad = NULL;
    cr_assert_eq(netcore_schema_create(&cfg, &bad), NETCORE_ERR_INVALID_ARGUMENT);
    /* The same types and fields, bit-packed. */
    cfg.snapshot_format = NETCORE_SNAPSHOT_FORMAT_BITPACKED;
    netcore_schema *packed = NULL;
    cr_assert_eq(netcore_schema_create(&cfg, &packed), NETCORE_OK);
    uint16_t t;
    for (uint16_t type = 0; type < 3; type++) {
        cr_assert_eq(netcore_schema_add_type(packed, NULL, &t), NETCORE_OK);
        for (uint32_t f = 0; f < netcore_schema_field_count(range, type); f++) {
            netcore_field_desc d;
            cr_assert_eq(netcore_schema_field_get(range, type, (uint16_t)f, &d), NETCORE_OK);
            cr_assert_eq(netcore_schema_add_field(packed, type, &d, NULL), NETCORE_OK);
        }
    }
    cr_assert_eq(netcore_schema_finalize(packed), NETCORE_OK);
    uint64_t hr, hp;
    cr_assert_eq(netcore_schema_hash(range, &hr), NETCORE_OK);
    cr_assert_eq(netcore_schema_hash(packed, &hp), NETCORE_OK);
    cr_assert_neq(hr, hp);
    cr_assert_eq(netcore_schema_check_hash(packed, hr), NETCORE_ERR_MISMATCH);
    netcore_schema_destroy(packed);
    netcore_schema_destroy(range);
}

/* A moving crowd: range-coded deltas must be smaller than bit-packed ones of
 * the same world, and decode to the same world. */
static size_t crowd_bytes(netcore_snapshot_format format)
{
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cfg.snapshot_format = format;
    netcore_schema *s = NULL;
    uint16_t type;
    netcore_field_desc d = {
        .kind = NETCORE_FIELD_VEC2, .min = -256.0f, .max = 256.0f, .precision = 0.01f};
    cr_assert_eq(netcore_schema_create(&cfg, &s), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(s, "walker", &type), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_OK);
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = s;
    sc.budget_bytes = 60000;
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    cc.schema = s;
    netcore_snapshot_server *server = NULL;
    netcore_snapshot_client *client = NULL;
    uint32_t cid;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &server), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_create(&cc, &client), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_client_add(server, &cid), NETCORE_OK);
    netcore_entity_id ids[200];
    for (int i = 0; i < 200; i++)
        cr_assert_eq(netcore_snapshot_server_entity_create(server, type, &ids[i]), NETCORE_OK);
    size_t total = 0;
    for (uint32_t tick = 0; tick < 60; tick++) {
        for (int i = 0; i < 200; i += 2) { /* half of them walk in straight lines */
            float x = (float)i - 100.0f + 0.05f * (float)tick * (float)(i % 7);
            netcore_snapshot_server_set_vec3(server, ids[i], 0, (netcore_vec3){x, 0.5f * x, 0.0f});
        }
        size_t len;
        cr_assert_eq(netcore_snapshot_server_write(server, cid, tick, buf, BUF_BYTES, &len),
                     NETCORE_OK);
        cr_assert_eq(netcore_snapshot_client_read(client, buf, len, NULL), NETCORE_OK);
        uint16_t seq;
        cr_assert_eq(netcore_snapshot_client_sequence(client, &seq, NULL), NETCORE_OK);
        cr_assert_eq(netcore_snapshot_server_ack(server, cid, seq, NULL), NETCORE_OK);
        if (tick >= 10)
            total += len;
    }
    for (int i = 0; i < 200; i++) {
        netcore_vec3 a, b;
        cr_assert_eq(netcore_snapshot_server_get_vec3(server, ids[i], 0, &a), NETCORE_OK);
        cr_assert_eq(netcore_snapshot_client_get_vec3(client, ids[i], 0, &b), NETCORE_OK);
        cr_assert(memcmp(&a, &b, sizeof a) == 0);
    }
    netcore_snapshot_client_destroy(client);
    netcore_snapshot_server_destroy(server);
    netcore_schema_destroy(s);
    return total;
}

Test(range_format, moving_entities_cost_less_than_bitpacked)
{
    size_t packed = crowd_bytes(NETCORE_SNAPSHOT_FORMAT_BITPACKED);
    size_t range = crowd_bytes(NETCORE_SNAPSHOT_FORMAT_RANGE_CODED);
    cr_assert_lt(range, packed, "range-coded %zu bytes, bit-packed %zu", range, packed);
}

/* A creation of wide random values coded before the models have learned
 * anything costs more range-coded than bit-packed: at the smallest budget the
 * server must fall back to the bit-packed body, and the client must decode it. */
Test(range_format, a_body_that_does_not_fit_falls_back_to_bitpacked)
{
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cfg.snapshot_format = NETCORE_SNAPSHOT_FORMAT_RANGE_CODED;
    netcore_schema *s = NULL;
    uint16_t type;
    cr_assert_eq(netcore_schema_create(&cfg, &s), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(s, "noise", &type), NETCORE_OK);
    netcore_field_desc d = {.kind = NETCORE_FIELD_INT, .bits = 32, .is_signed = true};
    for (int f = 0; f < 10; f++)
        cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_OK);
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = s;
    sc.max_entities = 4;
    /* The smallest budget the server accepts: one bit-packed creation. */
    netcore_snapshot_server *server = NULL;
    for (sc.budget_bytes = 1; netcore_snapshot_server_create(&sc, &server) != NETCORE_OK;)
        sc.budget_bytes++;
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    cc.schema = s;
    cc.max_entities = 4;
    netcore_snapshot_client *client = NULL;
    uint32_t cid;
    cr_assert_eq(netcore_snapshot_client_create(&cc, &client), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_client_add(server, &cid), NETCORE_OK);
    netcore_entity_id id;
    cr_assert_eq(netcore_snapshot_server_entity_create(server, type, &id), NETCORE_OK);
    nci_rng rng;
    nci_rng_seed(&rng, 99);
    for (uint16_t f = 0; f < 10; f++) {
        int64_t v =
            (int64_t)(int32_t)(nci_rng_below(&rng, 0xffffu) << 16 | nci_rng_below(&rng, 0xffffu));
        cr_assert_eq(netcore_snapshot_server_set_int(server, id, f, v), NETCORE_OK);
    }
    size_t len;
    cr_assert_eq(netcore_snapshot_server_write(server, cid, 1, buf, BUF_BYTES, &len), NETCORE_OK);
    cr_assert_leq(len, sc.budget_bytes);
    cr_assert_eq(netcore_snapshot_client_read(client, buf, len, NULL), NETCORE_OK);
    netcore_snapshot_server_stats st;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(server, cid, &st), NETCORE_OK);
    cr_assert_eq(st.range_fallbacks, 1);
    cr_assert_eq(st.entities_created, 1);
    for (uint16_t f = 0; f < 10; f++) {
        int64_t a, b;
        cr_assert_eq(netcore_snapshot_server_get_int(server, id, f, &a), NETCORE_OK);
        cr_assert_eq(netcore_snapshot_client_get_int(client, id, f, &b), NETCORE_OK);
        cr_assert_eq(a, b);
    }
    netcore_snapshot_client_destroy(client);
    netcore_snapshot_server_destroy(server);
    netcore_schema_destroy(s);
}
