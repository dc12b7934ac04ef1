/* Snapshot encoder with many clients: the server shares coded deltas between
 * clients that hold the same reference state of an entity, and skips ordering
 * when everything fits. Neither may change a byte: each client of a shared
 * server must get exactly the snapshots a server of its own would write for
 * the same world, interest, budget and acks, and the per-type and per-field
 * statistics must add up the same. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/core_internal.h"
#include "netcore/snapshot.h"

#define CLIENTS 3
#define MAX_ENTITIES 160
#define TICKS 240
#define BUF_BYTES 4096
#define WIDE_FIELDS 20 /* more fields than the delta cache keeps bits for */
#define LONG_FIELDS 10 /* more coded bits than the delta cache keeps */

enum { T_PLAYER, T_WIDE, T_LONG, T_COUNT };

static const uint32_t budgets[CLIENTS] = {BUF_BYTES, 160, 1200};
static const uint32_t ack_delay[CLIENTS] = {1, 3, 3}; /* clients 1 and 2 share baselines */
static const float centers[CLIENTS] = {-60.0f, 0.0f, 40.0f};

static netcore_schema *make_schema(void)
{
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    netcore_schema *s = NULL;
    cr_assert_eq(netcore_schema_create(&cfg, &s), NETCORE_OK);
    uint16_t type;
    cr_assert_eq(netcore_schema_add_type(s, "player", &type), NETCORE_OK);
    netcore_field_desc d = {.name = "pos",
                            .kind = NETCORE_FIELD_VEC3,
                            .min = -128.0f,
                            .max = 128.0f,
                            .precision = 0.01f};
    cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "rot", .kind = NETCORE_FIELD_QUAT, .bits = 10};
    cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "aim", .kind = NETCORE_FIELD_ANGLE, .bits = 12};
    cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "hp", .kind = NETCORE_FIELD_INT, .bits = 7};
    cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "alive", .kind = NETCORE_FIELD_BOOL};
    cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(s, "wide", &type), NETCORE_OK);
    for (int f = 0; f < WIDE_FIELDS; f++) {
        d = (netcore_field_desc){.name = "w", .kind = NETCORE_FIELD_INT, .bits = 4};
        cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    }
    cr_assert_eq(netcore_schema_add_type(s, "long", &type), NETCORE_OK);
    for (int f = 0; f < LONG_FIELDS; f++) {
        d = (netcore_field_desc){
            .name = "l", .kind = NETCORE_FIELD_INT, .bits = 32, .is_signed = true};
        cr_assert_eq(netcore_schema_add_field(s, type, &d, NULL), NETCORE_OK);
    }
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_OK);
    return s;
}

/* user points at the center of client 0 of that server: the shared server
 * passes centers and its client index, a server of one client passes
 * &centers[k] and client 0. Players are relevant within 70 m of the center
 * (nearer ones weigh more); two thirds of the others, chosen by slot and center. */
static float interest(void *user, const netcore_snapshot_server *server, uint32_t client,
                      netcore_entity_id entity, uint16_t type)
{
    const float *center = user;
    if (type != T_PLAYER)
        return ((entity & 0xffffu) + (uint32_t)(center[client] + 100.0f)) % 3 ? 1.0f : 0.0f;
    netcore_vec3 pos;
    cr_assert_eq(netcore_snapshot_server_get_vec3(server, entity, 0, &pos), NETCORE_OK);
    float d = pos.x - center[client];
    d = d < 0.0f ? -d : d;
    return d > 70.0f ? 0.0f : 1.0f + (70.0f - d) / 10.0f;
}

typedef struct world {
    netcore_schema *schema;
    netcore_snapshot_server *shared;
    netcore_snapshot_server *solo[CLIENTS];
    netcore_snapshot_client *client[CLIENTS];
    netcore_entity_id ids[MAX_ENTITIES];
    uint16_t types[MAX_ENTITIES];
    uint32_t count;
    nci_rng rng;
} world;

static netcore_snapshot_server *make_server(const netcore_schema *schema, uint32_t clients,
                                            const float *center)
{
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = schema;
    sc.max_entities = MAX_ENTITIES;
    sc.max_clients = clients;
    sc.max_view_entities = 96; /* smaller than the world: creations wait for room */
    sc.ring_length = 16;
    sc.budget_bytes = BUF_BYTES;
    sc.interest = interest;
    sc.interest_user = (void *)center;
    netcore_snapshot_server *server = NULL;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &server), NETCORE_OK);
    for (uint32_t c = 0; c < clients; c++) {
        uint32_t cid = 0;
        cr_assert_eq(netcore_snapshot_server_client_add(server, &cid), NETCORE_OK);
        cr_assert_eq(cid, c);
    }
    return server;
}

/* Every world operation goes to the shared server and to each solo one. */
#define EACH_SERVER(w, s, body)                                                                    \
    do {                                                                                           \
        netcore_snapshot_server *s = (w)->shared;                                                  \
        body;                                                                                      \
        for (int k_ = 0; k_ < CLIENTS; k_++) {                                                     \
            s = (w)->solo[k_];                                                                     \
            body;                                                                                  \
        }                                                                                          \
    } while (0)

static float frand(nci_rng *rng, float lo, float hi)
{
    return lo + (float)nci_rng_unit(rng) * (hi - lo);
}

static void randomize(world *w, uint32_t e)
{
    netcore_entity_id id = w->ids[e];
    nci_rng *rng = &w->rng;
    if (w->types[e] == T_PLAYER) {
        netcore_vec3 pos = {frand(rng, -128.0f, 128.0f), frand(rng, -5.0f, 5.0f), 0.0f};
        netcore_quat rot = {frand(rng, -1, 1), frand(rng, -1, 1), frand(rng, -1, 1), 1.0f};
        float aim = frand(rng, -3.0f, 3.0f);
        int64_t hp = (int64_t)(nci_rng_next(rng) % 128);
        bool alive = nci_rng_next(rng) % 2;
        EACH_SERVER(w, s, {
            netcore_snapshot_server_set_vec3(s, id, 0, pos);
            netcore_snapshot_server_set_quat(s, id, 1, rot);
            netcore_snapshot_server_set_float(s, id, 2, aim);
            netcore_snapshot_server_set_int(s, id, 3, hp);
            netcore_snapshot_server_set_bool(s, id, 4, alive);
        });
        return;
    }
    uint16_t fields = w->types[e] == T_WIDE ? WIDE_FIELDS : LONG_FIELDS;
    uint16_t f = (uint16_t)(nci_rng_next(rng) % fields);
    int64_t v = (int64_t)(nci_rng_next(rng) % 16);
    if (w->types[e] == T_LONG)
        v = (int64_t)(int32_t)nci_rng_next(rng);
    EACH_SERVER(w, s, netcore_snapshot_server_set_int(s, id, f, v));
}

/* A small step: players move a little, one field of the others changes. */
static void nudge(world *w, uint32_t e)
{
    netcore_entity_id id = w->ids[e];
    if (w->types[e] != T_PLAYER) {
        randomize(w, e);
        return;
    }
    netcore_vec3 pos;
    cr_assert_eq(netcore_snapshot_server_get_vec3(w->shared, id, 0, &pos), NETCORE_OK);
    pos.x += frand(&w->rng, -3.0f, 3.0f);
    pos.y += frand(&w->rng, -0.1f, 0.1f);
    EACH_SERVER(w, s, netcore_snapshot_server_set_vec3(s, id, 0, pos));
}

static void create_entity(world *w)
{
    uint16_t type =
        (uint16_t)(nci_rng_next(&w->rng) % 5 < 3 ? T_PLAYER : 1 + nci_rng_next(&w->rng) % 2);
    netcore_entity_id id = 0;
    cr_assert_eq(netcore_snapshot_server_entity_create(w->shared, type, &id), NETCORE_OK);
    for (int k = 0; k < CLIENTS; k++) {
        netcore_entity_id solo_id = 0;
        cr_assert_eq(netcore_snapshot_server_entity_create(w->solo[k], type, &solo_id), NETCORE_OK);
        cr_assert_eq(solo_id, id);
    }
    w->ids[w->count] = id;
    w->types[w->count] = type;
    randomize(w, w->count++);
}

static void destroy_entity(world *w, uint32_t e)
{
    netcore_entity_id id = w->ids[e];
    EACH_SERVER(w, s, cr_assert_eq(netcore_snapshot_server_entity_destroy(s, id), NETCORE_OK));
    w->ids[e] = w->ids[--w->count];
    w->types[e] = w->types[w->count];
}

static void step_world(world *w, uint32_t tick)
{
    if (w->count < MAX_ENTITIES - 20 && nci_rng_next(&w->rng) % 4 == 0)
        for (int n = 0; n < 6; n++)
            create_entity(w);
    if (w->count > 40 && nci_rng_next(&w->rng) % 4 == 0)
        for (int n = 0; n < 5; n++)
            destroy_entity(w, nci_rng_next(&w->rng) % w->count);
    /* Quiet ticks (nothing changes) alternate with busy ones. */
    uint32_t moves = tick % 7 == 0 ? 0 : w->count / 2;
    for (uint32_t m = 0; m < moves; m++)
        nudge(w, nci_rng_next(&w->rng) % w->count);
    if (tick % 11 == 0)
        for (int n = 0; n < 10 && w->count > 0; n++)
            randomize(w, nci_rng_next(&w->rng) % w->count);
}

Test(snapshot_shared, clients_of_one_server_get_the_bytes_of_a_server_of_their_own)
{
    world w;
    memset(&w, 0, sizeof w);
    nci_rng_seed(&w.rng, 20240611u);
    w.schema = make_schema();
    w.shared = make_server(w.schema, CLIENTS, centers);
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    cc.schema = w.schema;
    cc.max_entities = MAX_ENTITIES;
    cc.ring_length = 16;
    for (int k = 0; k < CLIENTS; k++) {
        w.solo[k] = make_server(w.schema, 1, &centers[k]);
        cr_assert_eq(netcore_snapshot_server_client_set_budget(w.shared, (uint32_t)k, budgets[k]),
                     NETCORE_OK);
        cr_assert_eq(netcore_snapshot_server_client_set_budget(w.solo[k], 0, budgets[k]),
                     NETCORE_OK);
        cr_assert_eq(netcore_snapshot_client_create(&cc, &w.client[k]), NETCORE_OK);
    }
    for (int n = 0; n < 60; n++)
        create_entity(&w);

    static uint8_t shared_buf[BUF_BYTES], solo_buf[BUF_BYTES];
    uint16_t pending[CLIENTS][TICKS];
    bool has_pending[CLIENTS][TICKS];
    memset(has_pending, 0, sizeof has_pending);
    uint64_t deferred = 0, full = 0, delta = 0;
    for (uint32_t t = 0; t < TICKS; t++) {
        step_world(&w, t);
        for (int k = 0; k < CLIENTS; k++) {
            if (t >= ack_delay[k] && has_pending[k][t - ack_delay[k]]) {
                uint16_t seq = pending[k][t - ack_delay[k]];
                netcore_snapshot_ack_outcome shared_outcome, solo_outcome;
                netcore_result a =
                    netcore_snapshot_server_ack(w.shared, (uint32_t)k, seq, &shared_outcome);
                cr_assert_eq(netcore_snapshot_server_ack(w.solo[k], 0, seq, &solo_outcome), a);
                cr_assert_eq(solo_outcome, shared_outcome);
            }
            size_t shared_len = 0, solo_len = 0;
            cr_assert_eq(netcore_snapshot_server_write(w.shared, (uint32_t)k, t, shared_buf,
                                                       sizeof shared_buf, &shared_len),
                         NETCORE_OK);
            cr_assert_eq(netcore_snapshot_server_write(w.solo[k], 0, t, solo_buf, sizeof solo_buf,
                                                       &solo_len),
                         NETCORE_OK);
            cr_assert_eq(shared_len, solo_len, "tick %u client %d: %zu vs %zu bytes", t, k,
                         shared_len, solo_len);
            cr_assert_eq(memcmp(shared_buf, solo_buf, shared_len), 0,
                         "tick %u client %d: bytes differ", t, k);
            cr_assert_leq(shared_len, budgets[k]);
            cr_assert_eq(netcore_snapshot_client_read(w.client[k], shared_buf, shared_len, NULL),
                         NETCORE_OK, "tick %u client %d", t, k);
            /* One ack in nine is lost, so baselines drift apart now and then. */
            if (nci_rng_next(&w.rng) % 9 != 0) {
                cr_assert_eq(netcore_snapshot_client_sequence(w.client[k], &pending[k][t], NULL),
                             NETCORE_OK);
                has_pending[k][t] = true;
            }
        }
    }
    for (int k = 0; k < CLIENTS; k++) {
        netcore_snapshot_server_stats st;
        cr_assert_eq(netcore_snapshot_server_get_client_stats(w.shared, (uint32_t)k, &st),
                     NETCORE_OK);
        deferred += st.entities_deferred;
        full += st.snapshots_full;
        delta += st.snapshots_delta;
    }
    /* The run exercised both selection paths and deltas. */
    cr_assert_gt(deferred, 0);
    cr_assert_gt(delta, full);
    for (uint16_t type = 0; type < T_COUNT; type++) {
        uint64_t bits = 0, entities = 0, sum_bits = 0, sum_entities = 0;
        cr_assert_eq(netcore_snapshot_server_get_type_stats(w.shared, type, &bits, &entities),
                     NETCORE_OK);
        uint16_t fields = type == T_PLAYER ? 5 : (type == T_WIDE ? WIDE_FIELDS : LONG_FIELDS);
        uint64_t field_bits[WIDE_FIELDS] = {0}, field_writes[WIDE_FIELDS] = {0};
        for (int k = 0; k < CLIENTS; k++) {
            uint64_t b = 0, e = 0;
            cr_assert_eq(netcore_snapshot_server_get_type_stats(w.solo[k], type, &b, &e),
                         NETCORE_OK);
            sum_bits += b;
            sum_entities += e;
            for (uint16_t f = 0; f < fields; f++) {
                uint64_t fb = 0, fw = 0;
                cr_assert_eq(netcore_snapshot_server_get_field_stats(w.solo[k], type, f, &fb, &fw),
                             NETCORE_OK);
                field_bits[f] += fb;
                field_writes[f] += fw;
            }
        }
        cr_assert_eq(bits, sum_bits, "type %u", type);
        cr_assert_eq(entities, sum_entities, "type %u", type);
        cr_assert_gt(entities, 0, "type %u was never written", type);
        for (uint16_t f = 0; f < fields; f++) {
            uint64_t fb = 0, fw = 0;
            cr_assert_eq(netcore_snapshot_server_get_field_stats(w.shared, type, f, &fb, &fw),
                         NETCORE_OK);
            cr_assert_eq(fb, field_bits[f], "type %u field %u", type, f);
            cr_assert_eq(fw, field_writes[f], "type %u field %u", type, f);
        }
    }
    for (int k = 0; k < CLIENTS; k++) {
        netcore_snapshot_client_destroy(w.client[k]);
        netcore_snapshot_server_destroy(w.solo[k]);
    }
    netcore_snapshot_server_destroy(w.shared);
    netcore_schema_destroy(w.schema);
}
