/*
 * snapshot_bench: snapshot replication on the "Snapshot Compression" cube
 * scene (Glenn Fiedler): 901 cubes sent at 60 snapshots per second, position
 * on a grid of about 1/508 m (x, y in [-256, 256], 18 bits each; height in
 * [0, 32], 14 bits: the reference's 512 values a metre, bit for bit; the
 * quantizer of bitpack.h keeps a margin for float rounding, so asking for
 * precision 1/512 would take 19 + 19 + 15 bits, and 1/500 gives this grid),
 * orientation as smallest three with 9 bits per component (29 bits), every
 * delta against a baseline 6 snapshots old (acks arrive 6 snapshots late).
 *
 * The scene is deterministic: 900 cubes rest on a 30 x 30 grid; a player cube
 * drives a Lissajous path through them for 80% of the frames, shoving the
 * cubes it meets (which shove their neighbours, hop, roll and settle), then
 * stops, so the last 20% show the idle cost.
 *
 * Figures: payload bytes per snapshot, kbps on the wire with 12 B of ENet
 * header (protocol header + unreliable command), 19 B of sealing (counter
 * and tag) and 28 B of UDP/IPv4 header per snapshot, beside naive quantized full snapshots (79 bits a cube); the
 * encode and decode time per snapshot (medians over --runs runs). Two
 * budgets: unbounded (pure compression) and 1200 bytes (one datagram; the
 * priority accumulator defers what does not fit). After every snapshot the
 * client's world is compared with the server's, exactly.
 * --messages sets the number of frames (default 1200 = 20 s).
 *
 * Every scene runs twice: with the bit-packed format ("unbounded",
 * "budget_1200", and the top-level arena and scale members) and with the
 * range-coded one ("range_coded", "range_coded_budget_1200",
 * "arena.range_coded", "scale.range_coded"), with the same keys.
 *
 * The same JSON object carries the multi-client scenes of snapshot_scenes.c:
 * "arena" (64 players and 200 projectiles at 20 Hz and 60 Hz: kbps per client)
 * and "scale" (server time per tick for 8 to 256 clients of 1024 entities).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "netcore/snapshot.h"
#include "snapshot_scenes.h"

#define CUBES 901
#define GRID 30
#define RATE_HZ 60
#define BASELINE_AGE 6
#define WIRE_OVERHEAD_BYTES SNAPSHOT_WIRE_OVERHEAD_BYTES
#define NAIVE_BITS_PER_CUBE (18 + 18 + 14 + 29)
#define POSITION_PRECISION_M (1.0f / 500.0f)
#define SNAPSHOT_BUFFER 65535
/* The first snapshots are full (no ack has come back yet): not in averages. */
#define WARMUP_FRAMES (2 * BASELINE_AGE)
#define DEFAULT_RUNS 5
#define DEFAULT_FRAMES 1200
#define QUICK_RUNS 1
#define QUICK_FRAMES 60
#define MAX_RUNS 64
#define MAX_FRAMES 100000

static const char usage[] =
    "usage: snapshot_bench [--quick] [--runs N] [--messages FRAMES]\n"
    "  Prints one JSON object: bandwidth and timing of snapshot replication on\n"
    "  the 901-cube scene at 60 Hz with a baseline 6 snapshots old (FRAMES\n"
    "  frames), on the arena scene (64 players, 200 projectiles, 20 and 60 Hz)\n"
    "  and the server time per tick of 8..256 clients of 1024 entities (scale).\n"
    "  --quick shrinks every scene.\n";

typedef struct cube {
    float p[3], v[3], w[3];
    float q[4]; /* x, y, z, w */
} cube;

typedef struct scene {
    cube cubes[CUBES];
    netcore_entity_id ids[CUBES];
} scene;

static void scene_init(scene *s)
{
    memset(s, 0, sizeof *s);
    for (int i = 0; i < CUBES; i++) {
        cube *c = &s->cubes[i];
        c->q[3] = 1.0f;
        c->p[2] = 0.5f;
        if (i > 0) {
            c->p[0] = -29.0f + 2.0f * (float)((i - 1) % GRID);
            c->p[1] = -29.0f + 2.0f * (float)((i - 1) / GRID);
        }
    }
}

/* Moves b out of a's way if they overlap and passes on part of a's motion,
 * so a chain of shoves loses energy and the cubes settle. */
static void shove(const cube *a, cube *b)
{
    float dx = b->p[0] - a->p[0], dy = b->p[1] - a->p[1];
    float d2 = dx * dx + dy * dy;
    if (d2 >= 1.44f || d2 < 1e-8f)
        return;
    float d = sqrtf(d2), push = 1.2f - d;
    dx /= d;
    dy /= d;
    b->p[0] += dx * push;
    b->p[1] += dy * push;
    float speed = sqrtf(a->v[0] * a->v[0] + a->v[1] * a->v[1]);
    b->v[0] = 0.5f * a->v[0] + 0.4f * speed * dx;
    b->v[1] = 0.5f * a->v[1] + 0.4f * speed * dy;
    if (b->p[2] <= 0.5f && speed > 2.0f)
        b->v[2] = 0.3f * speed < 2.0f ? 0.3f * speed : 2.0f;
    /* Rolling: spin about the horizontal axis perpendicular to the push. */
    b->w[0] = -dy * speed;
    b->w[1] = dx * speed;
}

static void integrate(cube *c, float dt)
{
    float speed2 = c->v[0] * c->v[0] + c->v[1] * c->v[1] + c->v[2] * c->v[2];
    float spin2 = c->w[0] * c->w[0] + c->w[1] * c->w[1] + c->w[2] * c->w[2];
    if (speed2 == 0.0f && spin2 == 0.0f && c->p[2] <= 0.5f)
        return;
    c->v[2] -= 9.8f * dt;
    for (int k = 0; k < 3; k++)
        c->p[k] += c->v[k] * dt;
    if (c->p[2] <= 0.5f) {
        c->p[2] = 0.5f;
        c->v[2] = c->v[2] < -1.0f ? -0.3f * c->v[2] : 0.0f;
        c->v[0] *= 0.92f;
        c->v[1] *= 0.92f;
        for (int k = 0; k < 3; k++)
            c->w[k] *= 0.92f;
    }
    float q[4] = {c->q[0], c->q[1], c->q[2], c->q[3]};
    float wx = c->w[0], wy = c->w[1], wz = c->w[2], h = 0.5f * dt;
    c->q[0] += h * (wx * q[3] + wy * q[2] - wz * q[1]);
    c->q[1] += h * (wy * q[3] + wz * q[0] - wx * q[2]);
    c->q[2] += h * (wz * q[3] + wx * q[1] - wy * q[0]);
    c->q[3] -= h * (wx * q[0] + wy * q[1] + wz * q[2]);
    float n = sqrtf(c->q[0] * c->q[0] + c->q[1] * c->q[1] + c->q[2] * c->q[2] + c->q[3] * c->q[3]);
    for (int k = 0; k < 4; k++)
        c->q[k] /= n;
    speed2 = c->v[0] * c->v[0] + c->v[1] * c->v[1] + c->v[2] * c->v[2];
    spin2 = c->w[0] * c->w[0] + c->w[1] * c->w[1] + c->w[2] * c->w[2];
    if (c->p[2] <= 0.5f && speed2 < 0.01f && spin2 < 0.01f) {
        memset(c->v, 0, sizeof c->v);
        memset(c->w, 0, sizeof c->w);
    }
}

static void scene_step(scene *s, uint32_t frame, uint32_t frames)
{
    const float dt = 1.0f / RATE_HZ;
    cube *player = &s->cubes[0];
    if (frame < frames * 4 / 5) {
        float t = (float)frame * dt;
        float x = 24.0f * sinf(0.31f * t), y = 24.0f * sinf(0.47f * t + 0.5f);
        player->v[0] = (x - player->p[0]) / dt;
        player->v[1] = (y - player->p[1]) / dt;
        player->p[0] = x;
        player->p[1] = y;
    } else {
        memset(player->v, 0, sizeof player->v);
    }
    /* Moving cubes shove what they touch (one level per frame). */
    for (int a = 0; a < CUBES; a++) {
        const cube *ca = &s->cubes[a];
        if (a != 0 && ca->v[0] * ca->v[0] + ca->v[1] * ca->v[1] < 1.0f)
            continue;
        for (int b = 1; b < CUBES; b++)
            if (b != a)
                shove(ca, &s->cubes[b]);
    }
    for (int i = 1; i < CUBES; i++)
        integrate(&s->cubes[i], dt);
}

static netcore_schema *make_schema(netcore_snapshot_format format)
{
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cfg.snapshot_format = format;
    netcore_schema *schema = NULL;
    uint16_t type;
    netcore_field_desc xy = {.name = "xy",
                             .kind = NETCORE_FIELD_VEC2,
                             .min = -256.0f,
                             .max = 256.0f,
                             .precision = POSITION_PRECISION_M};
    netcore_field_desc z = {.name = "z",
                            .kind = NETCORE_FIELD_FLOAT,
                            .min = 0.0f,
                            .max = 32.0f,
                            .precision = POSITION_PRECISION_M};
    netcore_field_desc rot = {.name = "rot", .kind = NETCORE_FIELD_QUAT, .bits = 9};
    if (netcore_schema_create(&cfg, &schema) != NETCORE_OK ||
        netcore_schema_add_type(schema, "cube", &type) != NETCORE_OK ||
        netcore_schema_add_field(schema, type, &xy, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, type, &z, NULL) != NETCORE_OK ||
        netcore_schema_add_field(schema, type, &rot, NULL) != NETCORE_OK ||
        netcore_schema_finalize(schema) != NETCORE_OK) {
        fprintf(stderr, "snapshot_bench: schema setup failed\n");
        exit(1);
    }
    return schema;
}

typedef struct run_result {
    double avg_payload_bytes, moving_payload_bytes, rest_payload_bytes;
    uint32_t max_payload_bytes, first_payload_bytes;
    double encode_us, decode_us;
    uint64_t deferred;
    uint32_t max_baseline_age;
    uint64_t mismatches;
    double moving_cubes; /* cubes in motion per frame, averaged over the moving phase */
} run_result;

static bool same_world(const netcore_snapshot_server *server, const netcore_snapshot_client *client,
                       const scene *s)
{
    if (netcore_snapshot_client_entity_count(client) != CUBES)
        return false;
    for (int i = 0; i < CUBES; i++) {
        netcore_vec3 a, b;
        netcore_quat qa, qb;
        float za, zb;
        if (netcore_snapshot_server_get_vec3(server, s->ids[i], 0, &a) != NETCORE_OK ||
            netcore_snapshot_client_get_vec3(client, s->ids[i], 0, &b) != NETCORE_OK ||
            netcore_snapshot_server_get_float(server, s->ids[i], 1, &za) != NETCORE_OK ||
            netcore_snapshot_client_get_float(client, s->ids[i], 1, &zb) != NETCORE_OK ||
            netcore_snapshot_server_get_quat(server, s->ids[i], 2, &qa) != NETCORE_OK ||
            netcore_snapshot_client_get_quat(client, s->ids[i], 2, &qb) != NETCORE_OK ||
            memcmp(&a, &b, sizeof a) != 0 || memcmp(&za, &zb, sizeof za) != 0 ||
            memcmp(&qa, &qb, sizeof qa) != 0)
            return false;
    }
    return true;
}

static void run_once(const netcore_schema *schema, uint32_t budget, uint32_t frames,
                     run_result *out)
{
    static scene s;
    static uint8_t buf[SNAPSHOT_BUFFER];
    scene_init(&s);
    netcore_snapshot_server_config sc;
    netcore_snapshot_server_config_default(&sc);
    sc.schema = schema;
    sc.max_entities = 1024;
    sc.max_clients = 1;
    sc.budget_bytes = budget;
    netcore_snapshot_client_config cc;
    netcore_snapshot_client_config_default(&cc);
    cc.schema = schema;
    cc.max_entities = 1024;
    netcore_snapshot_server *server = NULL;
    netcore_snapshot_client *client = NULL;
    uint32_t cid = 0;
    if (netcore_snapshot_server_create(&sc, &server) != NETCORE_OK ||
        netcore_snapshot_client_create(&cc, &client) != NETCORE_OK ||
        netcore_snapshot_server_client_add(server, &cid) != NETCORE_OK) {
        fprintf(stderr, "snapshot_bench: setup failed\n");
        exit(1);
    }
    for (int i = 0; i < CUBES; i++)
        netcore_snapshot_server_entity_create(server, 0, &s.ids[i]);
    memset(out, 0, sizeof *out);
    uint64_t total = 0, moving = 0, rest = 0, encode_ns = 0, decode_ns = 0;
    uint32_t moving_frames = 0, rest_frames = 0;
    uint16_t pending_acks[BASELINE_AGE];
    bool pending_valid[BASELINE_AGE] = {false};
    for (uint32_t f = 0; f < frames; f++) {
        scene_step(&s, f, frames);
        for (int i = 0; i < CUBES; i++) {
            const cube *c = &s.cubes[i];
            netcore_snapshot_server_set_vec3(server, s.ids[i], 0,
                                             (netcore_vec3){c->p[0], c->p[1], 0.0f});
            netcore_snapshot_server_set_float(server, s.ids[i], 1, c->p[2]);
            netcore_snapshot_server_set_quat(server, s.ids[i], 2,
                                             (netcore_quat){c->q[0], c->q[1], c->q[2], c->q[3]});
        }
        /* The ack sent BASELINE_AGE snapshots ago arrives now. */
        uint32_t slot = f % BASELINE_AGE;
        if (pending_valid[slot])
            netcore_snapshot_server_ack(server, cid, pending_acks[slot], NULL);
        size_t len = 0;
        uint64_t t0 = bench_now_ns();
        netcore_result wr = netcore_snapshot_server_write(server, cid, f, buf, sizeof buf, &len);
        uint64_t t1 = bench_now_ns();
        netcore_snapshot_receive_outcome outcome;
        netcore_result rr = netcore_snapshot_client_read(client, buf, len, &outcome);
        uint64_t t2 = bench_now_ns();
        if (wr != NETCORE_OK || rr != NETCORE_OK || outcome != NETCORE_SNAPSHOT_RECEIVED_NEWEST) {
            fprintf(stderr, "snapshot_bench: frame %u: write %s, read %s\n", f,
                    netcore_result_str(wr), netcore_result_str(rr));
            exit(1);
        }
        encode_ns += t1 - t0;
        decode_ns += t2 - t1;
        netcore_snapshot_client_sequence(client, &pending_acks[slot], NULL);
        pending_valid[slot] = true;
        if (f == 0)
            out->first_payload_bytes = (uint32_t)len;
        if (f < WARMUP_FRAMES) {
            /* not averaged */
        } else if (f < frames * 4 / 5) {
            moving += len;
            moving_frames++;
            for (int i = 0; i < CUBES; i++) {
                const cube *c = &s.cubes[i];
                out->moving_cubes += c->v[0] != 0.0f || c->v[1] != 0.0f || c->v[2] != 0.0f ||
                                     c->w[0] != 0.0f || c->w[1] != 0.0f;
            }
        } else {
            rest += len;
            rest_frames++;
        }
        if (f >= WARMUP_FRAMES)
            total += len;
        if (len > out->max_payload_bytes)
            out->max_payload_bytes = (uint32_t)len;
        if (budget >= SNAPSHOT_BUFFER && !same_world(server, client, &s))
            out->mismatches++;
    }
    netcore_snapshot_server_stats st;
    netcore_snapshot_server_get_client_stats(server, cid, &st);
    out->deferred = st.entities_deferred;
    out->max_baseline_age = st.max_baseline_age;
    out->avg_payload_bytes = (double)total / (frames - WARMUP_FRAMES);
    out->moving_cubes = moving_frames ? out->moving_cubes / moving_frames : NAN;
    out->moving_payload_bytes = moving_frames ? (double)moving / moving_frames : NAN;
    out->rest_payload_bytes = rest_frames ? (double)rest / rest_frames : NAN;
    out->encode_us = (double)encode_ns / frames / 1000.0;
    out->decode_us = (double)decode_ns / frames / 1000.0;
    netcore_snapshot_client_destroy(client);
    netcore_snapshot_server_destroy(server);
}

static double kbps(double payload_bytes)
{
    return snapshot_wire_kbps(payload_bytes, RATE_HZ);
}

static void report(bench_json *json, const char *key, const netcore_schema *schema, uint32_t budget,
                   uint32_t runs, uint32_t frames)
{
    double enc[MAX_RUNS], dec[MAX_RUNS];
    run_result r;
    memset(&r, 0, sizeof r);
    uint64_t mismatches = 0;
    for (uint32_t i = 0; i < runs; i++) {
        run_once(schema, budget, frames, &r);
        enc[i] = r.encode_us;
        dec[i] = r.decode_us;
        mismatches += r.mismatches;
    }
    /* The scene is deterministic: sizes are identical in every run. */
    bench_json_object_begin(json, key);
    bench_json_uint(json, "budget_bytes", budget);
    bench_json_uint(json, "full_snapshot_bytes", r.first_payload_bytes);
    bench_json_number(json, "avg_payload_bytes", r.avg_payload_bytes);
    bench_json_uint(json, "max_payload_bytes", r.max_payload_bytes);
    bench_json_number(json, "avg_kbps", kbps(r.avg_payload_bytes));
    bench_json_number(json, "moving_kbps", kbps(r.moving_payload_bytes));
    bench_json_number(json, "rest_kbps", kbps(r.rest_payload_bytes));
    bench_json_number(json, "moving_bits_per_cube", r.moving_payload_bytes * 8.0 / CUBES);
    bench_json_number(json, "moving_cubes_per_frame", r.moving_cubes);
    bench_json_uint(json, "entities_deferred", r.deferred);
    bench_json_uint(json, "max_baseline_age", r.max_baseline_age);
    if (budget >= SNAPSHOT_BUFFER) /* only checked when everything fits every time */
        bench_json_bool(json, "client_matches_server_exactly", mismatches == 0);
    bench_json_runs(json, "encode_us_per_snapshot", enc, runs);
    bench_json_runs(json, "decode_us_per_snapshot", dec, runs);
    bench_json_object_end(json);
}

int main(int argc, char **argv)
{
    bench_options options = {false, DEFAULT_RUNS, DEFAULT_FRAMES};
    bench_args_result args = bench_options_parse(argc, argv, usage, QUICK_RUNS, QUICK_FRAMES,
                                                 MAX_RUNS, MAX_FRAMES, &options);
    if (args != BENCH_ARGS_OK)
        return args == BENCH_ARGS_HELP ? 0 : 2;
    netcore_schema *schema = make_schema(NETCORE_SNAPSHOT_FORMAT_BITPACKED);
    netcore_schema *range_schema = make_schema(NETCORE_SNAPSHOT_FORMAT_RANGE_CODED);
    uint32_t frames = options.messages < 4 * WARMUP_FRAMES ? 4 * WARMUP_FRAMES : options.messages;
    double naive_bytes = (double)CUBES * NAIVE_BITS_PER_CUBE / 8.0;

    bench_json json;
    bench_json_init(&json, stdout);
    bench_json_object_begin(&json, NULL);
    bench_json_string(&json, "benchmark", "snapshot_bench");
    bench_json_uint(&json, "cubes", CUBES);
    bench_json_uint(&json, "rate_hz", RATE_HZ);
    bench_json_uint(&json, "frames", frames);
    bench_json_uint(&json, "runs", options.runs);
    bench_json_uint(&json, "baseline_age_snapshots", BASELINE_AGE);
    bench_json_uint(&json, "warmup_frames_not_averaged", WARMUP_FRAMES);
    bench_json_uint(&json, "wire_overhead_bytes_per_snapshot", WIRE_OVERHEAD_BYTES);
    bench_json_uint(&json, "seal_overhead_bytes_per_snapshot", SNAPSHOT_SEAL_OVERHEAD_BYTES);
    bench_json_uint(&json, "naive_bits_per_cube", NAIVE_BITS_PER_CUBE);
    bench_json_number(&json, "naive_full_kbps", kbps(naive_bytes));
    netcore_quant xy, z;
    netcore_quant_init(&xy, -256.0f, 256.0f, POSITION_PRECISION_M);
    netcore_quant_init(&z, 0.0f, 32.0f, POSITION_PRECISION_M);
    bench_json_uint(&json, "position_bits_per_xy_component", xy.bits);
    bench_json_uint(&json, "position_bits_z", z.bits);
    bench_json_number(&json, "position_grid_mm", 512.0 / xy.steps * 1000.0);
    report(&json, "unbounded", schema, SNAPSHOT_BUFFER, options.runs, frames);
    report(&json, "budget_1200", schema, 1200, options.runs, frames);
    /* The same scene, same keys, with the range-coded format. */
    report(&json, "range_coded", range_schema, SNAPSHOT_BUFFER, options.runs, frames);
    report(&json, "range_coded_budget_1200", range_schema, 1200, options.runs, frames);
    arena_report(&json, options.quick, options.runs);
    scale_report(&json, options.quick, options.runs);
    bench_json_machine(&json);
    bench_json_object_end(&json);
    bench_json_finish(&json);
    netcore_schema_destroy(range_schema);
    netcore_schema_destroy(schema);
    return 0;
}
