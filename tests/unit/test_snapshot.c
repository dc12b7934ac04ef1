/* Snapshot replication: round trips of random worlds, convergence through a
 * lossy, reordering, duplicating channel, entity churn, budget and priority,
 * interest, schema mismatch, hostile input. Every comparison is exact: the
 * server stores quantized values, so the client must hold identical bits. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "netcore/snapshot.h"

/* test_snapshot_range.c runs every test here again with the range-coded format. */
#ifndef SNAPSHOT_TEST_FORMAT
#define SNAPSHOT_TEST_FORMAT NETCORE_SNAPSHOT_FORMAT_BITPACKED
#endif

#define MAX_FIELDS 8
#define COPY_CAP 512
#define BUF_BYTES 65536

enum { T_PLAYER, T_SHOT, T_MARKER };

/* ---- schema and world helpers ---- */

static netcore_schema *make_schema(float pos_precision)
{
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cfg.snapshot_format = SNAPSHOT_TEST_FORMAT;
    netcore_schema *s = NULL;
    cr_assert_eq(netcore_schema_create(&cfg, &s), NETCORE_OK);
    uint16_t player, shot, marker;
    cr_assert_eq(netcore_schema_add_type(s, "player", &player), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(s, "shot", &shot), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(s, "marker", &marker), NETCORE_OK);
    netcore_field_desc d;
    memset(&d, 0, sizeof d);
    d = (netcore_field_desc){.name = "pos",
                             .kind = NETCORE_FIELD_VEC3,
                             .min = -256.0f,
                             .max = 256.0f,
                             .precision = pos_precision};
    cr_assert_eq(netcore_schema_add_field(s, player, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "rot", .kind = NETCORE_FIELD_QUAT, .bits = 10};
    cr_assert_eq(netcore_schema_add_field(s, player, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "health", .kind = NETCORE_FIELD_INT, .bits = 8};
    cr_assert_eq(netcore_schema_add_field(s, player, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){
        .name = "team", .kind = NETCORE_FIELD_INT, .bits = 3, .is_signed = true};
    cr_assert_eq(netcore_schema_add_field(s, player, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "yaw", .kind = NETCORE_FIELD_ANGLE, .bits = 12};
    cr_assert_eq(netcore_schema_add_field(s, player, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "alive", .kind = NETCORE_FIELD_BOOL};
    cr_assert_eq(netcore_schema_add_field(s, player, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "speed",
                             .kind = NETCORE_FIELD_FLOAT,
                             .min = 0.0f,
                             .max = 20.0f,
                             .precision = 0.01f};
    cr_assert_eq(netcore_schema_add_field(s, player, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "pos",
                             .kind = NETCORE_FIELD_VEC2,
                             .min = -100.0f,
                             .max = 100.0f,
                             .precision = 0.05f};
    cr_assert_eq(netcore_schema_add_field(s, shot, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){.name = "ttl", .kind = NETCORE_FIELD_INT, .bits = 16};
    cr_assert_eq(netcore_schema_add_field(s, shot, &d, NULL), NETCORE_OK);
    d = (netcore_field_desc){
        .name = "owner", .kind = NETCORE_FIELD_INT, .bits = 32, .is_signed = true};
    cr_assert_eq(netcore_schema_add_field(s, shot, &d, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_OK);
    return s;
}

typedef struct fixture {
    netcore_schema *schema;
    netcore_snapshot_server *server;
    netcore_snapshot_client *client;
    uint32_t cid;
    nci_rng rng;
} fixture;

static void fixture_init(fixture *fx, uint32_t max_entities, uint32_t budget, uint64_t seed,
                         netcore_interest_fn interest, void *interest_user)
{
    memset(fx, 0, sizeof *fx);
    fx->schema = make_schema(1.0f / 512.0f);
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = fx->schema;
    sc.max_entities = max_entities;
    sc.max_clients = 4;
    sc.budget_bytes = budget;
    sc.interest = interest;
    sc.interest_user = interest_user;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &fx->server), NETCORE_OK);
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    cc.schema = fx->schema;
    cc.max_entities = max_entities;
    cr_assert_eq(netcore_snapshot_client_create(&cc, &fx->client), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_client_add(fx->server, &fx->cid), NETCORE_OK);
    nci_rng_seed(&fx->rng, seed);
}

static void fixture_fini(fixture *fx)
{
    netcore_snapshot_client_destroy(fx->client);
    netcore_snapshot_server_destroy(fx->server);
    netcore_schema_destroy(fx->schema);
}

static float frand(nci_rng *rng, float lo, float hi)
{
    return lo + (float)nci_rng_unit(rng) * (hi - lo);
}

/* Sets one field (or, with field < 0, every field) of an entity at random. */
static void randomize(fixture *fx, netcore_entity_id id, int only_field)
{
    netcore_snapshot_server *s = fx->server;
    nci_rng *rng = &fx->rng;
    uint16_t type;
    cr_assert_eq(netcore_snapshot_server_entity_type(s, id, &type), NETCORE_OK);
    uint32_t n = netcore_schema_field_count(fx->schema, type);
    for (uint32_t f = 0; f < n; f++) {
        if (only_field >= 0 && (uint32_t)only_field != f)
            continue;
        netcore_field_desc d;
        cr_assert_eq(netcore_schema_field_get(fx->schema, type, (uint16_t)f, &d), NETCORE_OK);
        netcore_result r = NETCORE_OK;
        switch (d.kind) {
        case NETCORE_FIELD_INT:
            r = netcore_snapshot_server_set_int(
                s, id, (uint16_t)f, (int64_t)nci_rng_next(rng) >> (nci_rng_below(rng, 64)));
            break;
        case NETCORE_FIELD_FLOAT:
        case NETCORE_FIELD_ANGLE:
            r = netcore_snapshot_server_set_float(s, id, (uint16_t)f, frand(rng, -30.0f, 30.0f));
            break;
        case NETCORE_FIELD_BOOL:
            r = netcore_snapshot_server_set_bool(s, id, (uint16_t)f, nci_rng_below(rng, 2));
            break;
        case NETCORE_FIELD_VEC2:
        case NETCORE_FIELD_VEC3:
            r = netcore_snapshot_server_set_vec3(
                s, id, (uint16_t)f,
                (netcore_vec3){frand(rng, -300, 300), frand(rng, -50, 50), frand(rng, -1, 1)});
            break;
        case NETCORE_FIELD_QUAT:
            r = netcore_snapshot_server_set_quat(
                s, id, (uint16_t)f,
                (netcore_quat){frand(rng, -1, 1), frand(rng, -1, 1), frand(rng, -1, 1),
                               frand(rng, -1, 1)});
            break;
        default:
            break;
        }
        cr_assert_eq(r, NETCORE_OK);
    }
}

/* Small change of a position (the common case the delta coder is tuned for). */
static void nudge(fixture *fx, netcore_entity_id id)
{
    uint16_t type;
    cr_assert_eq(netcore_snapshot_server_entity_type(fx->server, id, &type), NETCORE_OK);
    if (type == T_MARKER)
        return;
    netcore_vec3 p;
    cr_assert_eq(netcore_snapshot_server_get_vec3(fx->server, id, 0, &p), NETCORE_OK);
    p.x += frand(&fx->rng, -0.05f, 0.05f);
    p.y += frand(&fx->rng, -0.05f, 0.05f);
    cr_assert_eq(netcore_snapshot_server_set_vec3(fx->server, id, 0, p), NETCORE_OK);
}

/* ---- exact copies of a world, taken through the public getters ---- */

typedef struct field_value {
    int64_t i;
    float f[4];
} field_value;

typedef struct world_copy {
    bool valid;
    uint16_t seq;
    uint32_t count;
    netcore_entity_id id[COPY_CAP];
    uint16_t type[COPY_CAP];
    field_value v[COPY_CAP][MAX_FIELDS];
} world_copy;

static field_value read_field(const netcore_schema *schema, const netcore_snapshot_server *s,
                              const netcore_snapshot_client *c, netcore_entity_id id, uint16_t type,
                              uint16_t f)
{
    field_value v;
    memset(&v, 0, sizeof v);
    netcore_field_desc d;
    cr_assert_eq(netcore_schema_field_get(schema, type, f, &d), NETCORE_OK);
    netcore_result r = NETCORE_ERR_STATE;
    switch (d.kind) {
    case NETCORE_FIELD_INT:
        r = s ? netcore_snapshot_server_get_int(s, id, f, &v.i)
              : netcore_snapshot_client_get_int(c, id, f, &v.i);
        break;
    case NETCORE_FIELD_FLOAT:
    case NETCORE_FIELD_ANGLE:
        r = s ? netcore_snapshot_server_get_float(s, id, f, &v.f[0])
              : netcore_snapshot_client_get_float(c, id, f, &v.f[0]);
        break;
    case NETCORE_FIELD_BOOL: {
        bool b = false;
        r = s ? netcore_snapshot_server_get_bool(s, id, f, &b)
              : netcore_snapshot_client_get_bool(c, id, f, &b);
        v.i = b;
        break;
    }
    case NETCORE_FIELD_VEC2:
    case NETCORE_FIELD_VEC3: {
        netcore_vec3 x = {0, 0, 0};
        r = s ? netcore_snapshot_server_get_vec3(s, id, f, &x)
              : netcore_snapshot_client_get_vec3(c, id, f, &x);
        memcpy(v.f, &x, sizeof x);
        break;
    }
    case NETCORE_FIELD_QUAT: {
        netcore_quat q = {0, 0, 0, 1};
        r = s ? netcore_snapshot_server_get_quat(s, id, f, &q)
              : netcore_snapshot_client_get_quat(c, id, f, &q);
        memcpy(v.f, &q, sizeof q);
        break;
    }
    default:
        break;
    }
    cr_assert_eq(r, NETCORE_OK);
    return v;
}

static void copy_entity(world_copy *w, const netcore_schema *schema,
                        const netcore_snapshot_server *s, const netcore_snapshot_client *c,
                        netcore_entity_id id, uint16_t type)
{
    cr_assert_lt(w->count, COPY_CAP);
    uint32_t k = w->count++;
    w->id[k] = id;
    w->type[k] = type;
    memset(w->v[k], 0, sizeof w->v[k]);
    for (uint16_t f = 0; f < netcore_schema_field_count(schema, type); f++)
        w->v[k][f] = read_field(schema, s, c, id, type, f);
}

/* The client's current world, in slot order. */
static void copy_client(const fixture *fx, world_copy *w)
{
    w->count = 0;
    w->valid = true;
    uint32_t n = netcore_snapshot_client_entity_count(fx->client);
    for (uint32_t i = 0; i < n; i++) {
        netcore_entity_id id;
        uint16_t type;
        cr_assert_eq(netcore_snapshot_client_entity_at(fx->client, i, &id, &type), NETCORE_OK);
        copy_entity(w, fx->schema, NULL, fx->client, id, type);
    }
    cr_assert_eq(netcore_snapshot_client_sequence(fx->client, &w->seq, NULL), NETCORE_OK);
}

/* The server's live entities in slot order, given the ids it has handed out. */
static int compare_slot(const void *a, const void *b)
{
    uint32_t x = *(const netcore_entity_id *)a & 0xffffu,
             y = *(const netcore_entity_id *)b & 0xffffu;
    return x < y ? -1 : (x > y ? 1 : 0);
}

/* The server's live entities among ids (those keep accepts), in slot order. */
static void copy_server(const fixture *fx, const netcore_entity_id *ids, uint32_t n,
                        bool (*keep)(const fixture *, netcore_entity_id), world_copy *w)
{
    netcore_entity_id live[COPY_CAP];
    uint32_t count = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t type;
        if (netcore_snapshot_server_entity_type(fx->server, ids[i], &type) == NETCORE_OK &&
            (!keep || keep(fx, ids[i]))) {
            cr_assert_lt(count, COPY_CAP);
            live[count++] = ids[i];
        }
    }
    qsort(live, count, sizeof live[0], compare_slot);
    w->count = 0;
    w->valid = true;
    for (uint32_t i = 0; i < count; i++) {
        uint16_t type = 0;
        cr_assert_eq(netcore_snapshot_server_entity_type(fx->server, live[i], &type), NETCORE_OK);
        copy_entity(w, fx->schema, fx->server, NULL, live[i], type);
    }
}

static void assert_same_world(const world_copy *a, const world_copy *b)
{
    cr_assert_eq(a->count, b->count, "entity count %u vs %u", a->count, b->count);
    for (uint32_t k = 0; k < a->count; k++) {
        cr_assert_eq(a->id[k], b->id[k], "entity %u: id %08x vs %08x", k, a->id[k], b->id[k]);
        cr_assert_eq(a->type[k], b->type[k]);
        cr_assert(memcmp(a->v[k], b->v[k], sizeof a->v[k]) == 0, "entity %08x differs", a->id[k]);
    }
}

/* Writes a snapshot, decodes it, acks it. */
static size_t exchange(fixture *fx, uint32_t tick, uint8_t *buf, netcore_result *read_result)
{
    size_t n = 0;
    cr_assert_eq(netcore_snapshot_server_write(fx->server, fx->cid, tick, buf, BUF_BYTES, &n),
                 NETCORE_OK);
    *read_result = netcore_snapshot_client_read(fx->client, buf, n, NULL);
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t an = 0;
    cr_assert_eq(netcore_snapshot_client_write_ack(fx->client, ack, sizeof ack, &an), NETCORE_OK);
    netcore_snapshot_server_read_ack(fx->server, fx->cid, ack, an, NULL);
    return n;
}

static world_copy copy_a, copy_b;
static uint8_t buf[BUF_BYTES];

/* ---- tests ---- */

Test(snapshot, random_worlds_round_trip_exactly)
{
    for (uint64_t seed = 1; seed <= 6; seed++) {
        fixture fx;
        fixture_init(&fx, 400, 60000, seed, NULL, NULL);
        netcore_entity_id ids[400];
        uint32_t n = 0;
        for (; n < 150 + seed * 20; n++) {
            cr_assert_eq(netcore_snapshot_server_entity_create(
                             fx.server, (uint16_t)nci_rng_below(&fx.rng, 3), &ids[n]),
                         NETCORE_OK);
            randomize(&fx, ids[n], -1);
        }
        for (uint32_t tick = 0; tick < 40; tick++) {
            netcore_result rr;
            exchange(&fx, tick, buf, &rr);
            cr_assert_eq(rr, NETCORE_OK, "seed %llu tick %u: %s", (unsigned long long)seed, tick,
                         netcore_result_str(rr));
            copy_server(&fx, ids, n, NULL, &copy_a);
            copy_client(&fx, &copy_b);
            assert_same_world(&copy_a, &copy_b);
            uint32_t changes = nci_rng_below(&fx.rng, 60);
            for (uint32_t c = 0; c < changes; c++) {
                netcore_entity_id id = ids[nci_rng_below(&fx.rng, n)];
                if (nci_rng_below(&fx.rng, 2))
                    randomize(&fx, id, (int)nci_rng_below(&fx.rng, MAX_FIELDS));
                else if (netcore_snapshot_server_entity_type(fx.server, id, &(uint16_t){0}) ==
                         NETCORE_OK)
                    nudge(&fx, id);
            }
        }
        netcore_snapshot_server_stats st;
        cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
        cr_assert_eq(st.snapshots_full, 1);
        cr_assert_eq(st.snapshots_delta, 39);
        cr_assert_eq(st.last_baseline_age, 1);
        cr_assert_eq(st.entities_deferred, 0);
        fixture_fini(&fx);
    }
}

Test(snapshot, unchanged_world_costs_almost_nothing)
{
    fixture fx;
    fixture_init(&fx, 1024, 1200, 7, NULL, NULL);
    netcore_entity_id id;
    for (int i = 0; i < 900; i++) {
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_PLAYER, &id), NETCORE_OK);
        randomize(&fx, id, -1);
    }
    netcore_result rr;
    size_t sizes[80];
    for (uint32_t tick = 0; tick < 80; tick++) {
        sizes[tick] = exchange(&fx, tick, buf, &rr);
        cr_assert_eq(rr, NETCORE_OK);
        cr_assert_leq(sizes[tick], 1200);
    }
    /* Everything has been delivered long before the end: idle snapshots are a header. */
    cr_assert_leq(sizes[79], 10, "idle snapshot is %zu bytes", sizes[79]);
    netcore_snapshot_server_stats st;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
    cr_assert_gt(st.entities_deferred, 0);
    cr_assert_eq(netcore_snapshot_client_entity_count(fx.client), 900);
    uint64_t bits = 0, writes = 0, ents = 0;
    cr_assert_eq(netcore_snapshot_server_get_field_stats(fx.server, T_PLAYER, 0, &bits, &writes),
                 NETCORE_OK);
    if (SNAPSHOT_TEST_FORMAT == NETCORE_SNAPSHOT_FORMAT_BITPACKED)
        cr_assert_gt(bits, writes * 20); /* range-coded bits are not split per field */
    cr_assert_eq(netcore_snapshot_server_get_type_stats(fx.server, T_PLAYER, &bits, &ents),
                 NETCORE_OK);
    cr_assert_eq(ents, 900);
    fixture_fini(&fx);
}

/* ---- an in-test channel: loss, reordering, duplication ---- */

#define CHAN_CAP 64
typedef struct packet {
    uint32_t deliver_at;
    size_t size;
    uint8_t data[1400];
} packet;

typedef struct channel {
    packet q[CHAN_CAP];
    uint32_t count;
} channel;

static void chan_send(channel *ch, nci_rng *rng, uint32_t now, const uint8_t *data, size_t size)
{
    if (nci_rng_chance_pct(rng, 25.0f))
        return;
    int copies = nci_rng_chance_pct(rng, 20.0f) ? 2 : 1;
    for (int c = 0; c < copies && ch->count < CHAN_CAP; c++) {
        packet *p = &ch->q[ch->count++];
        p->deliver_at = now + 1 + nci_rng_below(rng, 6); /* 1..6 ticks: reorders often */
        p->size = size;
        cr_assert_leq(size, sizeof p->data);
        memcpy(p->data, data, size);
    }
}

/* Queues a packet for delivery at deliver_at, without impairment. */
static void chan_push(channel *ch, uint32_t deliver_at, const uint8_t *data, size_t size)
{
    cr_assert_lt(ch->count, CHAN_CAP);
    packet *p = &ch->q[ch->count++];
    cr_assert_leq(size, sizeof p->data);
    p->deliver_at = deliver_at;
    p->size = size;
    memcpy(p->data, data, size);
}

/* Pops one packet due by now (any order among due ones); false when none. */
static bool chan_recv(channel *ch, nci_rng *rng, uint32_t now, packet *out)
{
    uint32_t due[CHAN_CAP], n = 0;
    for (uint32_t i = 0; i < ch->count; i++)
        if (ch->q[i].deliver_at <= now)
            due[n++] = i;
    if (n == 0)
        return false;
    uint32_t pick = due[nci_rng_below(rng, n)];
    *out = ch->q[pick];
    ch->q[pick] = ch->q[--ch->count];
    return true;
}

static world_copy history[32];
static channel down, up;

static void run_lossy(uint64_t seed, uint32_t budget, bool churn)
{
    fixture fx;
    fixture_init(&fx, 512, budget, seed, NULL, NULL);
    netcore_entity_id ids[COPY_CAP];
    uint32_t n = 0;
    for (; n < 120; n++) {
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, (uint16_t)(n % 3), &ids[n]),
                     NETCORE_OK);
        randomize(&fx, ids[n], -1);
    }
    memset(&down, 0, sizeof down);
    memset(&up, 0, sizeof up);
    memset(history, 0, sizeof history);
    uint32_t compared = 0;
    static packet p;
    for (uint32_t tick = 0; tick < 600; tick++) {
        bool lossy = tick < 560;
        /* The world moves (and rests during the lossless tail). */
        for (uint32_t c = 0; lossy && c < 25; c++) {
            netcore_entity_id id = ids[nci_rng_below(&fx.rng, n)];
            if (netcore_snapshot_server_entity_type(fx.server, id, &(uint16_t){0}) != NETCORE_OK)
                continue;
            if (nci_rng_below(&fx.rng, 4) == 0)
                randomize(&fx, id, (int)nci_rng_below(&fx.rng, MAX_FIELDS));
            else
                nudge(&fx, id);
        }
        if (churn && lossy) {
            for (uint32_t c = 0; c < 6; c++) {
                uint32_t k = nci_rng_below(&fx.rng, n);
                netcore_snapshot_server_entity_destroy(fx.server, ids[k]);
                cr_assert_eq(netcore_snapshot_server_entity_create(
                                 fx.server, (uint16_t)nci_rng_below(&fx.rng, 3), &ids[k]),
                             NETCORE_OK);
                randomize(&fx, ids[k], -1);
            }
        }
        /* Server sends; the world as of that snapshot is remembered by sequence. */
        size_t len = 0;
        cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, tick, buf, budget, &len),
                     NETCORE_OK);
        cr_assert_leq(len, budget);
        uint16_t seq = (uint16_t)tick;
        world_copy *h = &history[seq % 32];
        copy_server(&fx, ids, n, NULL, h);
        h->seq = seq;
        if (lossy)
            chan_send(&down, &fx.rng, tick, buf, len);
        else
            chan_push(&down, tick, buf, len);
        /* Client receives whatever is due, decodes, acks. */
        while (chan_recv(&down, &fx.rng, tick, &p)) {
            uint16_t before_seq = 0;
            bool had = netcore_snapshot_client_sequence(fx.client, &before_seq, NULL) == NETCORE_OK;
            netcore_snapshot_receive_outcome outcome;
            netcore_result r = netcore_snapshot_client_read(fx.client, p.data, p.size, &outcome);
            cr_assert_eq(r, NETCORE_OK,
                         "tick %u: %s (%s): loss, duplicates and reordering are "
                         "outcomes, not errors",
                         tick, netcore_result_str(r),
                         netcore_snapshot_receive_outcome_str(outcome));
            uint16_t now_seq;
            if (r == NETCORE_OK &&
                netcore_snapshot_client_sequence(fx.client, &now_seq, NULL) == NETCORE_OK &&
                (!had || now_seq != before_seq)) {
                /* With a budget large enough for everything, the client's world is the
                 * server's world as of the decoded snapshot, bit for bit. */
                const world_copy *want = &history[now_seq % 32];
                cr_assert_eq(want->seq, now_seq);
                if (budget >= 30000) {
                    copy_client(&fx, &copy_b);
                    assert_same_world(want, &copy_b);
                    compared++;
                }
            }
            uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
            size_t an;
            cr_assert_eq(netcore_snapshot_client_write_ack(fx.client, ack, sizeof ack, &an),
                         NETCORE_OK);
            if (lossy)
                chan_send(&up, &fx.rng, tick, ack, an);
            else
                netcore_snapshot_server_read_ack(fx.server, fx.cid, ack, an, NULL);
        }
        while (chan_recv(&up, &fx.rng, tick, &p))
            netcore_snapshot_server_read_ack(fx.server, fx.cid, p.data, p.size, NULL);
    }
    /* After the lossless tail the client holds exactly the server's final world. */
    copy_server(&fx, ids, n, NULL, &copy_a);
    copy_client(&fx, &copy_b);
    assert_same_world(&copy_a, &copy_b);
    netcore_snapshot_client_stats cs;
    cr_assert_eq(netcore_snapshot_client_get_stats(fx.client, &cs), NETCORE_OK);
    cr_assert_eq(cs.snapshots_received, cs.snapshots_decoded + cs.rejected_malformed +
                                            cs.rejected_mismatch + cs.rejected_baseline_missing +
                                            cs.ignored_duplicate + cs.ignored_stale);
    cr_assert_eq(cs.rejected_malformed, 0);
    cr_assert_gt(cs.ignored_duplicate, 0);
    if (budget >= 30000)
        cr_assert_gt(compared, 250, "only %u comparisons", compared);
    netcore_snapshot_server_stats ss;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &ss), NETCORE_OK);
    cr_assert_gt(ss.snapshots_delta, ss.snapshots_full);
    cr_assert_gt(ss.max_baseline_age, 2);
    fixture_fini(&fx);
}

Test(snapshot, converges_through_loss_reordering_duplication)
{
    run_lossy(11, 60000, false);
    run_lossy(12, 60000, false);
}

Test(snapshot, converges_under_entity_churn)
{
    run_lossy(21, 60000, true);
    run_lossy(22, 60000, true);
}

Test(snapshot, converges_with_tight_budget)
{
    run_lossy(31, 400, true);
}

/* ---- budget and priority ---- */

typedef struct weights {
    float w[1024];
} weights;

static float weight_interest(void *user, const netcore_snapshot_server *server, uint32_t client,
                             netcore_entity_id entity, uint16_t type)
{
    (void)server;
    (void)client;
    (void)type;
    return ((const weights *)user)->w[entity & 0xffffu];
}

Test(snapshot, tight_budget_never_starves)
{
    static weights wt;
    for (int i = 0; i < 1024; i++)
        wt.w[i] = (i % 10 == 0) ? 20.0f : (i % 10 == 1 ? 0.2f : 1.0f);
    fixture fx;
    fixture_init(&fx, 1024, 300, 5, weight_interest, &wt);
    enum { N = 300 };
    netcore_entity_id ids[N];
    for (int i = 0; i < N; i++)
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_SHOT, &ids[i]), NETCORE_OK);
    /* Every entity changes every tick: the ttl field carries the tick, so the
     * client can tell how old each entity's state is. */
    uint32_t worst = 0, worst_low = 0;
    for (uint32_t tick = 1; tick <= 400; tick++) {
        for (int i = 0; i < N; i++)
            cr_assert_eq(netcore_snapshot_server_set_int(fx.server, ids[i], 1, tick), NETCORE_OK);
        netcore_result rr;
        size_t len = exchange(&fx, tick, buf, &rr);
        cr_assert_eq(rr, NETCORE_OK);
        cr_assert_leq(len, 300);
        if (tick < 100)
            continue; /* after the initial creations have drained */
        for (int i = 0; i < N; i++) {
            int64_t seen = 0;
            cr_assert_eq(netcore_snapshot_client_get_int(fx.client, ids[i], 1, &seen), NETCORE_OK);
            uint32_t age = tick - (uint32_t)seen;
            if (age > worst)
                worst = age;
            if (i % 10 == 1 && age > worst_low)
                worst_low = age;
        }
    }
    netcore_snapshot_server_stats st;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
    cr_assert_gt(st.entities_deferred, 10000, "the budget was not tight");
    /* 300 changed entities of a few bytes each against ~290 bytes a snapshot
     * (about a third fit each time): every entity, the lowest-weight ones
     * included (100 times less than the highest), must come round within a
     * few snapshots (9 measured). */
    cr_assert_lt(worst, 30, "an entity waited %u snapshots", worst);
    cr_assert_gt(worst_low, 0);
    fixture_fini(&fx);
}

/* ---- interest ---- */

static float left_half_interest(void *user, const netcore_snapshot_server *server, uint32_t client,
                                netcore_entity_id entity, uint16_t type)
{
    (void)user;
    (void)client;
    if (type == T_MARKER)
        return 1.0f;
    netcore_vec3 p;
    if (netcore_snapshot_server_get_vec3(server, entity, 0, &p) != NETCORE_OK)
        return 0.0f;
    return p.x <= 0.0f ? 1.0f / (1.0f + fabsf(p.x)) : 0.0f;
}

static bool in_left_half(const fixture *fx, netcore_entity_id id)
{
    uint16_t type = T_MARKER;
    cr_assert_eq(netcore_snapshot_server_entity_type(fx->server, id, &type), NETCORE_OK);
    return left_half_interest(NULL, fx->server, 0, id, type) > 0.0f;
}

Test(snapshot, interest_adds_and_removes)
{
    fixture fx;
    fixture_init(&fx, 256, 60000, 9, left_half_interest, NULL);
    netcore_entity_id ids[100];
    for (int i = 0; i < 100; i++) {
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_PLAYER, &ids[i]),
                     NETCORE_OK);
        randomize(&fx, ids[i], 0);
    }
    netcore_result rr;
    for (uint32_t tick = 0; tick < 30; tick++) {
        for (int c = 0; c < 20; c++)
            randomize(&fx, ids[nci_rng_below(&fx.rng, 100)], 0);
        exchange(&fx, tick, buf, &rr);
        cr_assert_eq(rr, NETCORE_OK);
        copy_server(&fx, ids, 100, in_left_half, &copy_a);
        copy_client(&fx, &copy_b);
        assert_same_world(&copy_a, &copy_b);
        cr_assert_lt(copy_b.count, 100);
    }
    /* Leaving interest removes; coming back re-creates with the same id. */
    cr_assert_eq(netcore_snapshot_server_set_vec3(fx.server, ids[0], 0, (netcore_vec3){-5, 0, 0}),
                 NETCORE_OK);
    exchange(&fx, 100, buf, &rr);
    uint16_t type;
    cr_assert_eq(netcore_snapshot_client_entity_type(fx.client, ids[0], &type), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_set_vec3(fx.server, ids[0], 0, (netcore_vec3){5, 0, 0}),
                 NETCORE_OK);
    exchange(&fx, 101, buf, &rr);
    cr_assert_eq(netcore_snapshot_client_entity_type(fx.client, ids[0], &type),
                 NETCORE_ERR_NOT_FOUND);
    cr_assert_eq(netcore_snapshot_server_set_vec3(fx.server, ids[0], 0, (netcore_vec3){-1, 0, 0}),
                 NETCORE_OK);
    exchange(&fx, 102, buf, &rr);
    netcore_vec3 p, want;
    cr_assert_eq(netcore_snapshot_client_get_vec3(fx.client, ids[0], 0, &p), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_get_vec3(fx.server, ids[0], 0, &want), NETCORE_OK);
    cr_assert(memcmp(&p, &want, sizeof p) == 0);
    fixture_fini(&fx);
}

/* ---- ids, generations, re-creation ---- */

Test(snapshot, reused_slots_never_alias)
{
    fixture fx;
    fixture_init(&fx, 4, 60000, 3, NULL, NULL);
    netcore_entity_id a, b, c;
    cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_PLAYER, &a), NETCORE_OK);
    cr_assert_neq(a, NETCORE_ENTITY_NONE);
    cr_assert_eq(netcore_snapshot_server_set_int(fx.server, a, 2, 77), NETCORE_OK);
    netcore_result rr;
    exchange(&fx, 1, buf, &rr);
    cr_assert_eq(rr, NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_entity_destroy(fx.server, a), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_entity_destroy(fx.server, a), NETCORE_ERR_NOT_FOUND);
    /* Fill every slot so the old one is reused. */
    netcore_entity_id more[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_PLAYER, &more[i]),
                     NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_PLAYER, &c), NETCORE_ERR_FULL);
    b = more[3];
    cr_assert_eq(b & 0xffffu, a & 0xffffu, "the freed slot is reused last");
    cr_assert_neq(b, a);
    cr_assert_eq(netcore_snapshot_server_set_int(fx.server, a, 2, 1), NETCORE_ERR_NOT_FOUND);
    int64_t v;
    cr_assert_eq(netcore_snapshot_server_get_int(fx.server, b, 2, &v), NETCORE_OK);
    cr_assert_eq(v, 0, "a new entity starts from zero values");
    exchange(&fx, 2, buf, &rr);
    cr_assert_eq(rr, NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_get_int(fx.client, a, 2, &v), NETCORE_ERR_NOT_FOUND);
    cr_assert_eq(netcore_snapshot_client_get_int(fx.client, b, 2, &v), NETCORE_OK);
    cr_assert_eq(v, 0);
    netcore_snapshot_server_stats st;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
    cr_assert_eq(st.entities_removed, 1);
    cr_assert_eq(st.entities_created, 5);
    /* Wrong kinds and fields are refused on both ends. */
    float f;
    cr_assert_eq(netcore_snapshot_server_get_float(fx.server, b, 2, &f),
                 NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_snapshot_server_set_int(fx.server, b, 40, 1),
                 NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_snapshot_client_get_float(fx.client, b, 2, &f),
                 NETCORE_ERR_INVALID_ARGUMENT);
    fixture_fini(&fx);
}

/* ---- acks, baselines, duplicates, reordering ---- */

Test(snapshot, baseline_expiry_and_full_requests)
{
    fixture fx;
    fixture_init(&fx, 64, 60000, 4, NULL, NULL);
    netcore_entity_id id;
    for (int i = 0; i < 10; i++) {
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_PLAYER, &id), NETCORE_OK);
        randomize(&fx, id, -1);
    }
    netcore_result rr;
    exchange(&fx, 0, buf, &rr);
    cr_assert_eq(rr, NETCORE_OK);
    /* Acks stop: deltas against snapshot 0 until it would leave the ring. */
    size_t len;
    for (uint32_t t = 1; t <= 40; t++) {
        nudge(&fx, id);
        cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, t, buf, BUF_BYTES, &len),
                     NETCORE_OK);
        cr_assert_eq(netcore_snapshot_client_read(fx.client, buf, len, NULL), NETCORE_OK);
    }
    netcore_snapshot_server_stats st;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
    cr_assert_eq(st.baselines_expired, 1);
    cr_assert_eq(st.max_baseline_age, 31);
    cr_assert_eq(st.snapshots_full, 1 + 9); /* 32 snapshots after 0, then no baseline */
    /* Unknown and old acks are ignored and counted: outcomes, not errors. */
    netcore_snapshot_ack_outcome acked;
    cr_assert_eq(netcore_snapshot_server_ack(fx.server, fx.cid, 1000, &acked), NETCORE_OK);
    cr_assert_eq(acked, NETCORE_SNAPSHOT_ACK_UNKNOWN);
    cr_assert_eq(netcore_snapshot_server_ack(fx.server, fx.cid, 40, &acked), NETCORE_OK);
    cr_assert_eq(acked, NETCORE_SNAPSHOT_ACK_APPLIED);
    cr_assert_eq(netcore_snapshot_server_ack(fx.server, fx.cid, 39, &acked), NETCORE_OK);
    cr_assert_eq(acked, NETCORE_SNAPSHOT_ACK_OLD);
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
    cr_assert_eq(st.acks_unknown, 1);
    cr_assert_eq(st.acks_old, 1);

    /* A client that lost its baselines asks for a full snapshot in its ack. */
    cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, 41, buf, BUF_BYTES, &len),
                 NETCORE_OK);
    netcore_snapshot_client_reset(fx.client);
    netcore_snapshot_receive_outcome outcome;
    cr_assert_eq(netcore_snapshot_client_read(fx.client, buf, len, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_SNAPSHOT_BASELINE_MISSING);
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t an;
    cr_assert_eq(netcore_snapshot_client_write_ack(fx.client, ack, sizeof ack, &an), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_read_ack(fx.server, fx.cid, ack, an, NULL), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, 42, buf, BUF_BYTES, &len),
                 NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_read(fx.client, buf, len, NULL), NETCORE_OK);
    netcore_snapshot_client_stats cs;
    cr_assert_eq(netcore_snapshot_client_get_stats(fx.client, &cs), NETCORE_OK);
    cr_assert_eq(cs.rejected_baseline_missing, 1);
    cr_assert_eq(cs.last_baseline_age, 0);
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
    cr_assert_eq(st.full_requests, 1);
    /* Malformed and foreign acks are refused and counted. */
    cr_assert_eq(netcore_snapshot_server_read_ack(fx.server, fx.cid, ack, an - 1, NULL),
                 NETCORE_ERR_MALFORMED);
    ack[2] = 0x80;
    cr_assert_eq(netcore_snapshot_server_read_ack(fx.server, fx.cid, ack, an, NULL),
                 NETCORE_ERR_MALFORMED);
    ack[2] = 1;
    ack[0] ^= 1;
    cr_assert_eq(netcore_snapshot_server_read_ack(fx.server, fx.cid, ack, an, NULL),
                 NETCORE_ERR_MISMATCH);
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
    cr_assert_eq(st.acks_rejected, 3);
    fixture_fini(&fx);
}

Test(snapshot, duplicates_and_older_snapshots)
{
    fixture fx;
    fixture_init(&fx, 64, 60000, 8, NULL, NULL);
    netcore_entity_id id;
    cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_PLAYER, &id), NETCORE_OK);
    netcore_result rr;
    exchange(&fx, 0, buf, &rr); /* snapshot 0, acked */
    static uint8_t s1[BUF_BYTES], s2[BUF_BYTES];
    size_t n1, n2;
    cr_assert_eq(netcore_snapshot_server_set_int(fx.server, id, 2, 10), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, 1, s1, BUF_BYTES, &n1),
                 NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_set_int(fx.server, id, 2, 20), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, 2, s2, BUF_BYTES, &n2),
                 NETCORE_OK);
    /* Newest first, then the older one: it is decoded but the world stays at 2. */
    netcore_snapshot_receive_outcome outcome;
    cr_assert_eq(netcore_snapshot_client_read(fx.client, s2, n2, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_SNAPSHOT_RECEIVED_NEWEST);
    cr_assert_eq(netcore_snapshot_client_read(fx.client, s1, n1, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_SNAPSHOT_RECEIVED_OLDER);
    cr_assert_eq(netcore_snapshot_client_read(fx.client, s2, n2, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_SNAPSHOT_IGNORED_DUPLICATE);
    cr_assert_eq(netcore_snapshot_client_read(fx.client, s1, n1, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_SNAPSHOT_IGNORED_DUPLICATE);
    int64_t v;
    uint16_t seq;
    uint32_t tick;
    cr_assert_eq(netcore_snapshot_client_get_int(fx.client, id, 2, &v), NETCORE_OK);
    cr_assert_eq(v, 20);
    cr_assert_eq(netcore_snapshot_client_sequence(fx.client, &seq, &tick), NETCORE_OK);
    cr_assert_eq(seq, 2);
    cr_assert_eq(tick, 2);
    netcore_snapshot_client_stats cs;
    cr_assert_eq(netcore_snapshot_client_get_stats(fx.client, &cs), NETCORE_OK);
    cr_assert_eq(cs.older_decoded, 1);
    cr_assert_eq(cs.ignored_duplicate, 2);
    /* Once the ring (32 by default) has moved past it, s1 is stale: still no error. */
    for (uint32_t t = 3; t < 3 + 32; t++) {
        exchange(&fx, t, buf, &rr);
        cr_assert_eq(rr, NETCORE_OK);
    }
    cr_assert_eq(netcore_snapshot_client_read(fx.client, s1, n1, &outcome), NETCORE_OK);
    cr_assert_eq(outcome, NETCORE_SNAPSHOT_IGNORED_STALE);
    cr_assert_eq(netcore_snapshot_client_get_stats(fx.client, &cs), NETCORE_OK);
    cr_assert_eq(cs.ignored_stale, 1);
    cr_assert_str_eq(netcore_snapshot_receive_outcome_str(outcome), "stale");
    fixture_fini(&fx);
}

/* ---- schema mismatch and hostile input ---- */

Test(snapshot, schema_mismatch_is_detected)
{
    fixture fx;
    fixture_init(&fx, 64, 1200, 2, NULL, NULL);
    netcore_schema *other = make_schema(1.0f / 256.0f);
    uint64_t h1, h2;
    cr_assert_eq(netcore_schema_hash(fx.schema, &h1), NETCORE_OK);
    cr_assert_eq(netcore_schema_hash(other, &h2), NETCORE_OK);
    cr_assert_eq(netcore_schema_check_hash(other, h1), NETCORE_ERR_MISMATCH);
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    cc.schema = other;
    netcore_snapshot_client *wrong = NULL;
    cr_assert_eq(netcore_snapshot_client_create(&cc, &wrong), NETCORE_OK);
    netcore_entity_id id;
    cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_PLAYER, &id), NETCORE_OK);
    size_t len;
    cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, 1, buf, 1200, &len), NETCORE_OK);
    netcore_snapshot_receive_outcome outcome = NETCORE_SNAPSHOT_RECEIVED_NEWEST;
    cr_assert_eq(netcore_snapshot_client_read(wrong, buf, len, &outcome), NETCORE_ERR_MISMATCH);
    cr_assert_eq(outcome, NETCORE_SNAPSHOT_REJECTED, "an error is reported as a rejection too");
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t an;
    cr_assert_eq(netcore_snapshot_client_write_ack(wrong, ack, sizeof ack, &an), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_read_ack(fx.server, fx.cid, ack, an, NULL),
                 NETCORE_ERR_MISMATCH);
    netcore_snapshot_client_stats cs;
    cr_assert_eq(netcore_snapshot_client_get_stats(wrong, &cs), NETCORE_OK);
    cr_assert_eq(cs.rejected_mismatch, 1);
    cr_assert_eq(netcore_snapshot_client_entity_count(wrong), 0);
    netcore_snapshot_client_destroy(wrong);
    netcore_schema_destroy(other);
    fixture_fini(&fx);
}

Test(snapshot, truncations_and_bit_flips_are_rejected)
{
    fixture fx;
    fixture_init(&fx, 128, 60000, 6, NULL, NULL);
    netcore_entity_id ids[60];
    for (int i = 0; i < 60; i++) {
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, (uint16_t)(i % 3), &ids[i]),
                     NETCORE_OK);
        randomize(&fx, ids[i], -1);
    }
    static uint8_t snap[BUF_BYTES], mutated[BUF_BYTES], base_snap[BUF_BYTES];
    size_t base_len = 0;
    uint64_t attempts = 0, restores = 0;
    for (uint32_t round = 0; round < 6; round++) {
        /* A valid snapshot (full in round 0, deltas later, churn included). */
        for (int c = 0; c < 15; c++)
            randomize(&fx, ids[nci_rng_below(&fx.rng, 60)], (int)nci_rng_below(&fx.rng, 8));
        uint32_t k = nci_rng_below(&fx.rng, 60);
        cr_assert_eq(netcore_snapshot_server_entity_destroy(fx.server, ids[k]), NETCORE_OK);
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_SHOT, &ids[k]), NETCORE_OK);
        size_t len;
        cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, round, snap, BUF_BYTES, &len),
                     NETCORE_OK);
        if (round > 0)
            copy_client(&fx, &copy_a);
        for (size_t cut = 0; cut < len; cut++) {
            cr_assert_neq(netcore_snapshot_client_read(fx.client, snap, cut, NULL), NETCORE_OK,
                          "round %u: truncation to %zu of %zu bytes accepted", round, cut, len);
            attempts++;
        }
        /* Trailing garbage is refused too. */
        memcpy(mutated, snap, len);
        mutated[len] = 0;
        cr_assert_eq(netcore_snapshot_client_read(fx.client, mutated, len + 1, NULL),
                     NETCORE_ERR_MALFORMED);
        attempts++;
        if (round > 0) {
            copy_client(&fx, &copy_b);
            assert_same_world(&copy_a, &copy_b); /* failed reads change nothing */
        }
        for (int flip = 0; flip < 300; flip++) {
            memcpy(mutated, snap, len);
            int nflips = 1 + (int)nci_rng_below(&fx.rng, 3);
            for (int f = 0; f < nflips; f++) {
                uint32_t bit = nci_rng_below(&fx.rng, (uint32_t)len * 8);
                mutated[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            }
            netcore_result r = netcore_snapshot_client_read(fx.client, mutated, len, NULL);
            attempts++;
            if (r == NETCORE_OK) {
                /* A flip may still spell a valid snapshot: go back to the baseline
                 * (the full snapshot of the previous round). */
                netcore_snapshot_client_reset(fx.client);
                if (base_len) {
                    cr_assert_eq(netcore_snapshot_client_read(fx.client, base_snap, base_len, NULL),
                                 NETCORE_OK);
                    restores++;
                }
            }
        }
        /* Resynchronize with a full snapshot, then deliver the real one. */
        netcore_snapshot_client_reset(fx.client);
        cr_assert_eq(netcore_snapshot_server_request_full(fx.server, fx.cid), NETCORE_OK);
        netcore_result rr;
        base_len = exchange(&fx, 1000 + round, base_snap, &rr);
        cr_assert_eq(rr, NETCORE_OK);
    }
    netcore_snapshot_client_stats cs;
    cr_assert_eq(netcore_snapshot_client_get_stats(fx.client, &cs), NETCORE_OK);
    cr_assert_eq(cs.snapshots_received, attempts + 6 + restores);
    cr_assert_gt(cs.rejected_malformed, attempts / 2,
                 "malformed %llu of %llu (mismatch %llu, baseline %llu, ignored %llu)",
                 (unsigned long long)cs.rejected_malformed, (unsigned long long)attempts,
                 (unsigned long long)cs.rejected_mismatch,
                 (unsigned long long)cs.rejected_baseline_missing,
                 (unsigned long long)(cs.ignored_duplicate + cs.ignored_stale));
    cr_assert_eq(cs.snapshots_received, cs.snapshots_decoded + cs.rejected_malformed +
                                            cs.rejected_mismatch + cs.rejected_baseline_missing +
                                            cs.ignored_duplicate + cs.ignored_stale);
    cr_assert_eq(netcore_snapshot_client_read(fx.client, NULL, 0, NULL), NETCORE_ERR_MALFORMED);
    cr_assert_eq(netcore_snapshot_client_read(fx.client, NULL, 3, NULL),
                 NETCORE_ERR_INVALID_ARGUMENT);
    fixture_fini(&fx);
}

Test(snapshot, config_validation)
{
    netcore_schema *schema = make_schema(0.01f);
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    netcore_snapshot_server *s = NULL;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &s), NETCORE_ERR_INVALID_ARGUMENT);
    sc.schema = schema;
    sc.ring_length = 24;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &s), NETCORE_ERR_INVALID_ARGUMENT);
    sc.ring_length = 32;
    sc.budget_bytes = 20;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &s), NETCORE_ERR_INVALID_ARGUMENT);
    sc.budget_bytes = 1200;
    sc.max_entities = 70000;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &s), NETCORE_ERR_INVALID_ARGUMENT);
    sc.max_entities = 16;
    sc.max_clients = 1;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &s), NETCORE_OK);
    uint32_t c;
    cr_assert_eq(netcore_snapshot_server_client_add(s, &c), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_client_add(s, &c), NETCORE_ERR_FULL);
    cr_assert_eq(netcore_snapshot_server_client_set_budget(s, c, 10), NETCORE_ERR_INVALID_ARGUMENT);
    size_t len;
    cr_assert_eq(netcore_snapshot_server_write(s, c, 0, buf, 10, &len),
                 NETCORE_ERR_INVALID_ARGUMENT);
    cr_assert_eq(netcore_snapshot_server_write(s, 3, 0, buf, 100, &len), NETCORE_ERR_NOT_FOUND);
    cr_assert_eq(netcore_snapshot_server_client_remove(s, c), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_client_remove(s, c), NETCORE_ERR_NOT_FOUND);
    netcore_entity_id id;
    cr_assert_eq(netcore_snapshot_server_entity_create(s, 7, &id), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_snapshot_server_destroy(s);
    netcore_snapshot_server_destroy(NULL);
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    netcore_snapshot_client *cl = NULL;
    cr_assert_eq(netcore_snapshot_client_create(&cc, &cl), NETCORE_ERR_INVALID_ARGUMENT);
    cc.schema = schema;
    cc.ring_length = 3;
    cr_assert_eq(netcore_snapshot_client_create(&cc, &cl), NETCORE_ERR_INVALID_ARGUMENT);
    netcore_snapshot_client_destroy(NULL);
    netcore_schema_destroy(schema);
}

Test(snapshot, sequence_numbers_wrap)
{
    fixture fx;
    fixture_init(&fx, 16, 1200, 13, NULL, NULL);
    netcore_entity_id ids[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(netcore_snapshot_server_entity_create(fx.server, T_SHOT, &ids[i]), NETCORE_OK);
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t len, an;
    for (uint32_t tick = 0; tick < 70000; tick++) {
        cr_assert_eq(netcore_snapshot_server_set_int(fx.server, ids[tick % 4], 1, tick & 0xffffu),
                     NETCORE_OK);
        cr_assert_eq(netcore_snapshot_server_write(fx.server, fx.cid, tick, buf, 1200, &len),
                     NETCORE_OK);
        if (tick % 7 == 3)
            continue; /* lost */
        cr_assert_eq(netcore_snapshot_client_read(fx.client, buf, len, NULL), NETCORE_OK, "tick %u",
                     tick);
        if (tick % 5 == 1)
            continue; /* ack lost */
        cr_assert_eq(netcore_snapshot_client_write_ack(fx.client, ack, sizeof ack, &an),
                     NETCORE_OK);
        cr_assert_eq(netcore_snapshot_server_read_ack(fx.server, fx.cid, ack, an, NULL),
                     NETCORE_OK);
    }
    uint16_t seq;
    uint32_t tick;
    cr_assert_eq(netcore_snapshot_client_sequence(fx.client, &seq, &tick), NETCORE_OK);
    cr_assert_eq(seq, (uint16_t)69999);
    cr_assert_eq(tick, 69999);
    for (int i = 0; i < 4; i++) {
        int64_t a, b;
        cr_assert_eq(netcore_snapshot_server_get_int(fx.server, ids[i], 1, &a), NETCORE_OK);
        cr_assert_eq(netcore_snapshot_client_get_int(fx.client, ids[i], 1, &b), NETCORE_OK);
        cr_assert_eq(a, b);
    }
    netcore_snapshot_server_stats st;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(fx.server, fx.cid, &st), NETCORE_OK);
    cr_assert_eq(st.snapshots_full, 1);
    cr_assert_eq(st.baselines_expired, 0);
    fixture_fini(&fx);
}

Test(snapshot, view_size_limit_defers_creations)
{
    netcore_schema *schema = make_schema(0.01f);
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = schema;
    sc.max_entities = 64;
    sc.max_view_entities = 10;
    netcore_snapshot_server *server = NULL;
    cr_assert_eq(netcore_snapshot_server_create(&sc, &server), NETCORE_OK);
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    cc.schema = schema;
    cc.max_entities = 64;
    netcore_snapshot_client *client = NULL;
    cr_assert_eq(netcore_snapshot_client_create(&cc, &client), NETCORE_OK);
    uint32_t cid;
    cr_assert_eq(netcore_snapshot_server_client_add(server, &cid), NETCORE_OK);
    netcore_entity_id ids[20];
    for (int i = 0; i < 20; i++)
        cr_assert_eq(netcore_snapshot_server_entity_create(server, T_MARKER, &ids[i]), NETCORE_OK);
    size_t len;
    for (uint16_t s = 0; s < 3; s++) {
        cr_assert_eq(netcore_snapshot_server_write(server, cid, s, buf, 1200, &len), NETCORE_OK);
        cr_assert_eq(netcore_snapshot_client_read(client, buf, len, NULL), NETCORE_OK);
        cr_assert_eq(netcore_snapshot_server_ack(server, cid, s, NULL), NETCORE_OK);
        cr_assert_eq(netcore_snapshot_client_entity_count(client), 10);
    }
    /* Destroying visible entities makes room for the waiting ones. */
    for (int i = 0; i < 5; i++)
        cr_assert_eq(netcore_snapshot_server_entity_destroy(server, ids[i]), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_write(server, cid, 3, buf, 1200, &len), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_read(client, buf, len, NULL), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_entity_count(client), 10);
    netcore_entity_id id;
    cr_assert_eq(netcore_snapshot_client_entity_at(client, 9, &id, NULL), NETCORE_OK);
    cr_assert_eq(id, ids[14]);
    netcore_snapshot_server_stats st;
    cr_assert_eq(netcore_snapshot_server_get_client_stats(server, cid, &st), NETCORE_OK);
    cr_assert_eq(st.entities_deferred, 10 * 3 + 5);
    cr_assert_eq(st.entities_removed, 5);
    /* A client smaller than the server's slots refuses indexes beyond it. */
    cc.max_entities = 8;
    netcore_snapshot_client *small = NULL;
    cr_assert_eq(netcore_snapshot_client_create(&cc, &small), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_request_full(server, cid), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_server_write(server, cid, 4, buf, 1200, &len), NETCORE_OK);
    cr_assert_eq(netcore_snapshot_client_read(small, buf, len, NULL), NETCORE_ERR_MALFORMED);
    netcore_snapshot_client_destroy(small);
    netcore_snapshot_client_destroy(client);
    netcore_snapshot_server_destroy(server);
    netcore_schema_destroy(schema);
}
