/* Fuzz target: the snapshot decoder and the ack reader must never crash, read
 * or write out of bounds, or leave a client in a state its getters cannot
 * read. The input is one snapshot datagram, decoded by a client that holds a
 * few baselines (snapshots 0..3 of a fixed scene), and also one ack message.
 *
 * Seeds: running this program with NETCORE_SNAPSHOT_WRITE_SEEDS=<dir> (and
 * -runs=0) writes valid snapshots of the same scene into <dir>; the committed
 * corpus in tests/fuzz/corpus/fuzz_snapshot/ was made that way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "netcore/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_snapshot_range.c builds this target again with the range-coded format. */
#ifndef FUZZ_SNAPSHOT_FORMAT
#define FUZZ_SNAPSHOT_FORMAT NETCORE_SNAPSHOT_FORMAT_BITPACKED
#endif

#define SCENE_ENTITIES 40
#define BASELINES 4
#define SNAP_BYTES 1200

typedef struct scene {
    netcore_schema *schema;
    netcore_snapshot_server *server;
    netcore_snapshot_client *client;
    uint32_t cid;
    netcore_entity_id ids[SCENE_ENTITIES];
    nci_rng rng;
    uint8_t base[BASELINES][SNAP_BYTES];
    size_t base_len[BASELINES];
} scene;

static scene sc;

static void fail(void)
{
    __builtin_trap();
}

static bool decoded(netcore_snapshot_receive_outcome outcome)
{
    return outcome == NETCORE_SNAPSHOT_RECEIVED_NEWEST ||
           outcome == NETCORE_SNAPSHOT_RECEIVED_OLDER;
}

static void add_field(uint16_t type, netcore_field_desc d)
{
    if (netcore_schema_add_field(sc.schema, type, &d, NULL) != NETCORE_OK)
        fail();
}

static void move_some(unsigned count)
{
    for (unsigned i = 0; i < count; i++) {
        netcore_entity_id id = sc.ids[nci_rng_below(&sc.rng, SCENE_ENTITIES)];
        float x = (float)nci_rng_unit(&sc.rng) * 40.0f - 20.0f;
        netcore_snapshot_server_set_vec3(sc.server, id, 0, (netcore_vec3){x, -x, x * 0.5f});
        netcore_snapshot_server_set_quat(sc.server, id, 1, (netcore_quat){x, 1.0f, 0.5f, -x});
        netcore_snapshot_server_set_int(sc.server, id, 2, (int64_t)nci_rng_below(&sc.rng, 300));
        netcore_snapshot_server_set_float(sc.server, id, 3, x);
        netcore_snapshot_server_set_bool(sc.server, id, 4, x > 0.0f);
    }
}

static size_t write_snapshot(uint32_t tick, uint8_t *out)
{
    size_t len = 0;
    if (netcore_snapshot_server_write(sc.server, sc.cid, tick, out, SNAP_BYTES, &len) != NETCORE_OK)
        fail();
    return len;
}

static void write_seed(const char *dir, const char *name, const uint8_t *bytes, size_t size)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, size, f) != size)
        fail();
    fclose(f);
}

/* A fixed scene: every entity type, every field kind, churn between snapshots. */
static void scene_init(void)
{
    netcore_schema_config schema_cfg;
    netcore_schema_config_default(&schema_cfg);
    schema_cfg.snapshot_format = FUZZ_SNAPSHOT_FORMAT;
    uint16_t ship = 0, flag = 0;
    if (netcore_schema_create(&schema_cfg, &sc.schema) != NETCORE_OK ||
        netcore_schema_add_type(sc.schema, "ship", &ship) != NETCORE_OK ||
        netcore_schema_add_type(sc.schema, "flag", &flag) != NETCORE_OK)
        fail();
    add_field(ship, (netcore_field_desc){.kind = NETCORE_FIELD_VEC3,
                                         .min = -64.0f,
                                         .max = 64.0f,
                                         .precision = 1.0f / 256.0f});
    add_field(ship, (netcore_field_desc){.kind = NETCORE_FIELD_QUAT, .bits = 9});
    add_field(ship, (netcore_field_desc){.kind = NETCORE_FIELD_INT, .bits = 9, .is_signed = true});
    add_field(ship, (netcore_field_desc){.kind = NETCORE_FIELD_ANGLE, .bits = 10});
    add_field(ship, (netcore_field_desc){.kind = NETCORE_FIELD_BOOL});
    add_field(flag, (netcore_field_desc){
                        .kind = NETCORE_FIELD_VEC2, .min = 0.0f, .max = 10.0f, .precision = 0.1f});
    if (netcore_schema_finalize(sc.schema) != NETCORE_OK)
        fail();
    netcore_snapshot_server_config server_cfg;
    netcore_snapshot_server_config_default(&server_cfg);
    server_cfg.schema = sc.schema;
    server_cfg.max_entities = 64;
    server_cfg.max_clients = 1;
    netcore_snapshot_client_config client_cfg;
    netcore_snapshot_client_config_default(&client_cfg);
    client_cfg.schema = sc.schema;
    client_cfg.max_entities = 64;
    if (netcore_snapshot_server_create(&server_cfg, &sc.server) != NETCORE_OK ||
        netcore_snapshot_client_create(&client_cfg, &sc.client) != NETCORE_OK ||
        netcore_snapshot_server_client_add(sc.server, &sc.cid) != NETCORE_OK)
        fail();
    nci_rng_seed(&sc.rng, 12345);
    for (int i = 0; i < SCENE_ENTITIES; i++)
        if (netcore_snapshot_server_entity_create(sc.server, i % 5 ? ship : flag, &sc.ids[i]) !=
            NETCORE_OK)
            fail();
    for (uint16_t s = 0; s < BASELINES; s++) {
        move_some(12);
        if (s == 2) {
            netcore_snapshot_server_entity_destroy(sc.server, sc.ids[7]);
            netcore_snapshot_server_entity_create(sc.server, flag, &sc.ids[7]);
        }
        sc.base_len[s] = write_snapshot(100u + s, sc.base[s]);
        if (netcore_snapshot_server_ack(sc.server, sc.cid, s, NULL) != NETCORE_OK)
            fail();
    }

    const char *dir = getenv("NETCORE_SNAPSHOT_WRITE_SEEDS");
    if (!dir)
        return;
    static uint8_t snap[SNAP_BYTES];
    size_t len;
    write_seed(dir, "full_0", sc.base[0], sc.base_len[0]);
    move_some(10);
    len = write_snapshot(200, snap); /* delta against 3 */
    write_seed(dir, "delta_small", snap, len);
    move_some(30);
    netcore_snapshot_server_entity_destroy(sc.server, sc.ids[3]);
    netcore_snapshot_server_entity_destroy(sc.server, sc.ids[4]);
    netcore_snapshot_server_entity_create(sc.server, ship, &sc.ids[3]);
    len = write_snapshot(300, snap); /* delta against 3, with removals and a creation */
    write_seed(dir, "delta_churn", snap, len);
    netcore_snapshot_server_request_full(sc.server, sc.cid);
    len = write_snapshot(400, snap);
    write_seed(dir, "full_late", snap, len);
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t ack_len;
    netcore_snapshot_client_write_ack(sc.client, ack, sizeof ack, &ack_len);
    write_seed(dir, "ack", ack, ack_len);
    static const uint8_t script[] = {'O', 40, 0, 0, 0, 1, 0, 2, 2, 0, 3, 1, 5, 0, 4, 2, 6, 0,
                                     2,   1,  7, 0, 8, 0, 1, 0, 0, 4, 5, 0, 9, 0, 6, 0, 5, 0};
    write_seed(dir, "script", script, sizeof script);
}

/* Reads every field of every entity of the client's current world. */
static void read_world(void)
{
    uint32_t n = netcore_snapshot_client_entity_count(sc.client);
    if (n > 64)
        fail();
    for (uint32_t i = 0; i < n; i++) {
        netcore_entity_id id;
        uint16_t type;
        if (netcore_snapshot_client_entity_at(sc.client, i, &id, &type) != NETCORE_OK)
            fail();
        int64_t iv;
        float fv;
        bool bv;
        netcore_vec3 vv;
        netcore_quat qv;
        if (type == 0) {
            if (netcore_snapshot_client_get_vec3(sc.client, id, 0, &vv) != NETCORE_OK ||
                netcore_snapshot_client_get_quat(sc.client, id, 1, &qv) != NETCORE_OK ||
                netcore_snapshot_client_get_int(sc.client, id, 2, &iv) != NETCORE_OK ||
                netcore_snapshot_client_get_float(sc.client, id, 3, &fv) != NETCORE_OK ||
                netcore_snapshot_client_get_bool(sc.client, id, 4, &bv) != NETCORE_OK)
                fail();
            if (vv.x < -64.0f || vv.x > 64.0f || iv < -256 || iv > 255 || qv.w != qv.w)
                fail();
        } else if (netcore_snapshot_client_get_vec3(sc.client, id, 0, &vv) != NETCORE_OK ||
                   vv.y < 0.0f || vv.y > 10.0f) {
            fail();
        }
    }
}

/* Exact comparison of the client's world with the server's (all relevant). */
static bool worlds_equal(const netcore_snapshot_server *server,
                         const netcore_snapshot_client *client)
{
    uint32_t n = netcore_snapshot_client_entity_count(client);
    if (n != netcore_snapshot_server_entity_count(server))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        netcore_entity_id id;
        uint16_t type, server_type;
        if (netcore_snapshot_client_entity_at(client, i, &id, &type) != NETCORE_OK ||
            netcore_snapshot_server_entity_type(server, id, &server_type) != NETCORE_OK ||
            type != server_type)
            return false;
        netcore_vec3 va, vb;
        if (netcore_snapshot_server_get_vec3(server, id, 0, &va) != NETCORE_OK ||
            netcore_snapshot_client_get_vec3(client, id, 0, &vb) != NETCORE_OK ||
            memcmp(&va, &vb, sizeof va) != 0)
            return false;
        if (type != 0)
            continue;
        netcore_quat qa, qb;
        int64_t ia, ib;
        float fa, fb;
        bool ba, bb;
        if (netcore_snapshot_server_get_quat(server, id, 1, &qa) != NETCORE_OK ||
            netcore_snapshot_client_get_quat(client, id, 1, &qb) != NETCORE_OK ||
            netcore_snapshot_server_get_int(server, id, 2, &ia) != NETCORE_OK ||
            netcore_snapshot_client_get_int(client, id, 2, &ib) != NETCORE_OK ||
            netcore_snapshot_server_get_float(server, id, 3, &fa) != NETCORE_OK ||
            netcore_snapshot_client_get_float(client, id, 3, &fb) != NETCORE_OK ||
            netcore_snapshot_server_get_bool(server, id, 4, &ba) != NETCORE_OK ||
            netcore_snapshot_client_get_bool(client, id, 4, &bb) != NETCORE_OK ||
            memcmp(&qa, &qb, sizeof qa) != 0 || ia != ib || memcmp(&fa, &fb, sizeof fa) != 0 ||
            ba != bb)
            return false;
    }
    return true;
}

/* Writes a snapshot; delivers it unless lost, acks it if asked. */
/* The newest snapshot written by a script, and whether the client decoded it. */
typedef struct script_last {
    uint8_t bytes[SNAP_BYTES];
    size_t len;
    bool decoded;
} script_last;

static void script_send(netcore_snapshot_server *server, netcore_snapshot_client *client,
                        uint32_t tick, bool deliver, bool ack, script_last *last)
{
    if (netcore_snapshot_server_write(server, 0, tick, last->bytes, SNAP_BYTES, &last->len) !=
        NETCORE_OK)
        fail();
    last->decoded = false;
    if (!deliver)
        return;
    netcore_snapshot_receive_outcome outcome;
    netcore_result r = netcore_snapshot_client_read(client, last->bytes, last->len, &outcome);
    last->decoded = decoded(outcome);
    if (r != NETCORE_OK)
        fail(); /* the server's own snapshots are never malformed */
    uint8_t ack_bytes[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t ack_len;
    if (ack && netcore_snapshot_client_write_ack(client, ack_bytes, sizeof ack_bytes, &ack_len) ==
                   NETCORE_OK)
        netcore_snapshot_server_read_ack(server, 0, ack_bytes, ack_len, NULL);
}

static void run_script(const uint8_t *data, size_t size)
{
    netcore_snapshot_server_config server_cfg;
    netcore_snapshot_server_config_default(&server_cfg);
    server_cfg.schema = sc.schema;
    server_cfg.max_entities = 16;
    server_cfg.max_clients = 1;
    server_cfg.ring_length = 8;
    server_cfg.budget_bytes = 60u + (size > 1 ? data[1] : 0);
    netcore_snapshot_client_config client_cfg;
    netcore_snapshot_client_config_default(&client_cfg);
    client_cfg.schema = sc.schema;
    client_cfg.max_entities = 16;
    client_cfg.ring_length = 8;
    netcore_snapshot_server *server = NULL;
    netcore_snapshot_client *client = NULL;
    uint32_t cid;
    if (netcore_snapshot_server_create(&server_cfg, &server) != NETCORE_OK ||
        netcore_snapshot_client_create(&client_cfg, &client) != NETCORE_OK ||
        netcore_snapshot_server_client_add(server, &cid) != NETCORE_OK || cid != 0)
        fail();
    static script_last last;
    memset(&last, 0, sizeof last);
    netcore_entity_id ids[16] = {0};
    uint32_t tick = 0;
    for (size_t i = 2; i + 1 < size; i += 2) {
        uint8_t op = data[i], arg = data[i + 1];
        netcore_entity_id id = ids[arg % 16];
        float x = (float)(int8_t)arg * 0.37f;
        switch (op % 10) {
        case 0:
            netcore_snapshot_server_entity_create(server, arg & 1, &ids[arg % 16]);
            break;
        case 1:
            netcore_snapshot_server_entity_destroy(server, id);
            break;
        case 2:
            netcore_snapshot_server_set_vec3(server, id, 0, (netcore_vec3){x, -x, 1});
            break;
        case 3:
            netcore_snapshot_server_set_quat(server, id, 1, (netcore_quat){x, 1, -x, 0.5f});
            netcore_snapshot_server_set_int(server, id, 2, (int64_t)arg - 128);
            break;
        case 4:
            netcore_snapshot_server_set_float(server, id, 3, x);
            netcore_snapshot_server_set_bool(server, id, 4, arg & 1);
            break;
        case 5:
            script_send(server, client, tick++, true, true, &last);
            break;
        case 6:
            script_send(server, client, tick++, false, false, &last);
            break;
        case 7:
            script_send(server, client, tick++, true, false, &last);
            break;
        case 8: { /* (re)delivery of the newest snapshot, late if it was lost */
            netcore_snapshot_receive_outcome again;
            if (last.len &&
                netcore_snapshot_client_read(client, last.bytes, last.len, &again) == NETCORE_OK &&
                decoded(again)) {
                if (last.decoded)
                    fail(); /* decoding the same snapshot twice */
                last.decoded = true;
            }
            break;
        }
        default:
            netcore_snapshot_server_request_full(server, 0);
            break;
        }
    }
    /* Perfect link from here: the client must converge, exactly. */
    bool converged = false;
    for (int round = 0; round < 64 && !converged; round++) {
        script_send(server, client, tick++, true, true, &last);
        converged = worlds_equal(server, client);
    }
    if (!converged)
        fail();
    netcore_snapshot_client_destroy(client);
    netcore_snapshot_server_destroy(server);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!sc.schema)
        scene_init();
    if (size > 0 && data[0] == 'O') {
        run_script(data, size);
        return 0;
    }
    netcore_snapshot_client_reset(sc.client);
    netcore_snapshot_receive_outcome outcome;
    for (int s = 0; s < BASELINES; s++)
        if (netcore_snapshot_client_read(sc.client, sc.base[s], sc.base_len[s], &outcome) !=
                NETCORE_OK ||
            !decoded(outcome))
            fail();
    netcore_snapshot_client_stats before, after;
    netcore_snapshot_client_get_stats(sc.client, &before);
    netcore_result r = netcore_snapshot_client_read(sc.client, data, size, &outcome);
    netcore_snapshot_client_get_stats(sc.client, &after);
    if (after.snapshots_received != before.snapshots_received + 1)
        fail();
    if ((r == NETCORE_OK) != (outcome != NETCORE_SNAPSHOT_REJECTED))
        fail(); /* an error and only an error is a rejection */
    if (decoded(outcome) != (after.snapshots_decoded == before.snapshots_decoded + 1))
        fail();
    read_world();
    uint8_t ack[NETCORE_SNAPSHOT_ACK_BYTES];
    size_t ack_len;
    if (netcore_snapshot_client_write_ack(sc.client, ack, sizeof ack, &ack_len) != NETCORE_OK)
        fail();
    (void)netcore_snapshot_server_read_ack(sc.server, sc.cid, data, size, NULL);
    return 0;
}
