/* Schema registration, validation, hashing and field quantization. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "netcore/schema.h"
#include "netcore/snapshot.h"
#include "replication/snapshot_internal.h"

static netcore_schema *new_schema(void)
{
    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    netcore_schema *schema = NULL;
    cr_assert_eq(netcore_schema_create(&cfg, &schema), NETCORE_OK);
    return schema;
}

static netcore_field_desc field(netcore_field_kind kind, const char *name)
{
    netcore_field_desc d;
    memset(&d, 0, sizeof d);
    d.kind = kind;
    d.name = name;
    return d;
}

/* Two types whose fields are added interleaved; variant changes one precision. */
static netcore_schema *sample_schema(const char *pos_name, float precision)
{
    netcore_schema *s = new_schema();
    uint16_t a, b, f;
    cr_assert_eq(netcore_schema_add_type(s, "ship", &a), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(s, "rock", &b), NETCORE_OK);
    netcore_field_desc pos = field(NETCORE_FIELD_VEC3, pos_name);
    pos.min = -100.0f;
    pos.max = 100.0f;
    pos.precision = precision;
    cr_assert_eq(netcore_schema_add_field(s, a, &pos, &f), NETCORE_OK);
    cr_assert_eq(f, 0);
    netcore_field_desc hp = field(NETCORE_FIELD_INT, "hp");
    hp.bits = 7;
    cr_assert_eq(netcore_schema_add_field(s, b, &hp, &f), NETCORE_OK);
    cr_assert_eq(f, 0);
    netcore_field_desc rot = field(NETCORE_FIELD_QUAT, "rot");
    rot.bits = 9;
    cr_assert_eq(netcore_schema_add_field(s, a, &rot, &f), NETCORE_OK);
    cr_assert_eq(f, 1);
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_OK);
    return s;
}

Test(schema, registration_and_lookup)
{
    netcore_schema *s = sample_schema("pos", 0.01f);
    cr_assert_eq(netcore_schema_type_count(s), 2);
    cr_assert_eq(netcore_schema_field_count(s, 0), 2);
    cr_assert_eq(netcore_schema_field_count(s, 1), 1);
    cr_assert_eq(netcore_schema_field_count(s, 9), 0);
    uint16_t t, f;
    cr_assert_eq(netcore_schema_find_type(s, "rock", &t), NETCORE_OK);
    cr_assert_eq(t, 1);
    cr_assert_eq(netcore_schema_find_type(s, "tree", &t), NETCORE_ERR_NOT_FOUND);
    cr_assert_eq(netcore_schema_find_field(s, 0, "rot", &f), NETCORE_OK);
    cr_assert_eq(f, 1);
    netcore_field_desc d;
    cr_assert_eq(netcore_schema_field_get(s, 0, 1, &d), NETCORE_OK);
    cr_assert_eq(d.kind, NETCORE_FIELD_QUAT);
    cr_assert_str_eq(d.name, "rot");
    cr_assert_eq(netcore_schema_field_get(s, 0, 2, &d), NETCORE_ERR_NOT_FOUND);
    /* Interleaved additions keep each type's fields together. */
    cr_assert_eq(netcore_schema_field_get(s, 1, 0, &d), NETCORE_OK);
    cr_assert_str_eq(d.name, "hp");
    cr_assert_gt(netcore_schema_type_full_bits(s, 0), 3 * 18 + 2 + 27);
    netcore_schema_destroy(s);
}

Test(schema, rejects_bad_fields_and_late_changes)
{
    netcore_schema *s = new_schema();
    uint16_t t;
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_ERR_STATE); /* no types */
    cr_assert_eq(netcore_schema_add_type(s, NULL, &t), NETCORE_OK);
    netcore_field_desc d = field(NETCORE_FIELD_INT, "x");
    d.bits = 0;
    cr_assert_eq(netcore_schema_add_field(s, t, &d, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    d.bits = 33;
    cr_assert_eq(netcore_schema_add_field(s, t, &d, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    d = field(NETCORE_FIELD_QUAT, "q");
    d.bits = 8;
    cr_assert_eq(netcore_schema_add_field(s, t, &d, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    d = field(NETCORE_FIELD_FLOAT, "f");
    d.min = 1.0f;
    d.max = 0.0f;
    d.precision = 0.1f;
    cr_assert_eq(netcore_schema_add_field(s, t, &d, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    d.max = 2.0f;
    d.precision = 0.0f;
    cr_assert_eq(netcore_schema_add_field(s, t, &d, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    d = field((netcore_field_kind)99, "bad");
    cr_assert_eq(netcore_schema_add_field(s, t, &d, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    d = field(NETCORE_FIELD_BOOL, "b");
    cr_assert_eq(netcore_schema_add_field(s, 5, &d, NULL), NETCORE_ERR_INVALID_ARGUMENT);
    for (int i = 0; i < NETCORE_SCHEMA_MAX_FIELDS_PER_TYPE; i++)
        cr_assert_eq(netcore_schema_add_field(s, t, &d, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_field(s, t, &d, NULL), NETCORE_ERR_FULL);
    uint64_t hash;
    cr_assert_eq(netcore_schema_hash(s, &hash), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_OK);
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_schema_add_type(s, "late", &t), NETCORE_ERR_STATE);
    cr_assert_eq(netcore_schema_add_field(s, 0, &d, NULL), NETCORE_ERR_STATE);
    netcore_schema_destroy(s);

    netcore_schema_config cfg;
    netcore_schema_config_default(&cfg);
    cfg.max_types = 0;
    netcore_schema *none = NULL;
    cr_assert_eq(netcore_schema_create(&cfg, &none), NETCORE_ERR_INVALID_ARGUMENT);
    cfg.max_types = 1;
    cr_assert_eq(netcore_schema_create(&cfg, &none), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(none, "a", &t), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_type(none, "b", &t), NETCORE_ERR_FULL);
    netcore_schema_destroy(none);
    netcore_schema_destroy(NULL);
}

Test(schema, hash_covers_wire_format_not_names)
{
    netcore_schema *a = sample_schema("pos", 0.01f);
    netcore_schema *b = sample_schema("position", 0.01f);
    netcore_schema *c = sample_schema("pos", 0.02f);
    uint64_t ha, hb, hc;
    cr_assert_eq(netcore_schema_hash(a, &ha), NETCORE_OK);
    cr_assert_eq(netcore_schema_hash(b, &hb), NETCORE_OK);
    cr_assert_eq(netcore_schema_hash(c, &hc), NETCORE_OK);
    cr_assert_eq(ha, hb);
    cr_assert_neq(ha, hc);
    cr_assert_eq(netcore_schema_check_hash(a, hb), NETCORE_OK);
    cr_assert_eq(netcore_schema_check_hash(a, hc), NETCORE_ERR_MISMATCH);

    /* Same fields, other order: another wire format. */
    netcore_schema *d = new_schema();
    uint16_t t;
    cr_assert_eq(netcore_schema_add_type(d, "t", &t), NETCORE_OK);
    netcore_field_desc x = field(NETCORE_FIELD_INT, "x");
    x.bits = 8;
    netcore_field_desc y = field(NETCORE_FIELD_BOOL, "y");
    cr_assert_eq(netcore_schema_add_field(d, t, &x, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_field(d, t, &y, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_finalize(d), NETCORE_OK);
    netcore_schema *e = new_schema();
    cr_assert_eq(netcore_schema_add_type(e, "t", &t), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_field(e, t, &y, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_add_field(e, t, &x, NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_finalize(e), NETCORE_OK);
    uint64_t hd, he;
    cr_assert_eq(netcore_schema_hash(d, &hd), NETCORE_OK);
    cr_assert_eq(netcore_schema_hash(e, &he), NETCORE_OK);
    cr_assert_neq(hd, he);
    netcore_schema_destroy(a);
    netcore_schema_destroy(b);
    netcore_schema_destroy(c);
    netcore_schema_destroy(d);
    netcore_schema_destroy(e);
}

Test(schema, quantization_matches_bitpack)
{
    netcore_schema *s = new_schema();
    uint16_t t;
    cr_assert_eq(netcore_schema_add_type(s, "t", &t), NETCORE_OK);
    netcore_field_desc fi = field(NETCORE_FIELD_INT, "i");
    fi.bits = 5;
    fi.is_signed = true;
    netcore_field_desc fu = field(NETCORE_FIELD_INT, "u");
    fu.bits = 32;
    netcore_field_desc ff = field(NETCORE_FIELD_FLOAT, "f");
    ff.min = -3.0f;
    ff.max = 7.0f;
    ff.precision = 0.003f;
    netcore_field_desc fa = field(NETCORE_FIELD_ANGLE, "a");
    fa.bits = 11;
    netcore_field_desc fq = field(NETCORE_FIELD_QUAT, "q");
    fq.bits = 12;
    netcore_field_desc fv = field(NETCORE_FIELD_VEC2, "v");
    fv.min = 0.0f;
    fv.max = 1.0f;
    fv.precision = 0.01f;
    netcore_field_desc fs = field(NETCORE_FIELD_INT, "s32");
    fs.bits = 32;
    fs.is_signed = true;
    const netcore_field_desc *all[] = {&fi, &fu, &ff, &fa, &fq, &fv, &fs};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        cr_assert_eq(netcore_schema_add_field(s, t, all[i], NULL), NETCORE_OK);
    cr_assert_eq(netcore_schema_finalize(s), NETCORE_OK);
    uint32_t state[16];
    nci_schema_default_state(s, t, state);
    const nci_field *f_i = nci_schema_field(s, t, 0), *f_u = nci_schema_field(s, t, 1);
    const nci_field *f_f = nci_schema_field(s, t, 2), *f_a = nci_schema_field(s, t, 3);
    const nci_field *f_q = nci_schema_field(s, t, 4), *f_v = nci_schema_field(s, t, 5);
    const nci_field *f_s = nci_schema_field(s, t, 6);
    cr_assert_eq(nci_field_get_int(f_i, state), 0);
    cr_assert_eq(nci_field_get_int(f_s, state), 0);
    netcore_quat id = nci_field_get_quat(f_q, state);
    cr_assert_eq(id.w, 1.0f);
    nci_field_set_int(f_i, state, -100);
    cr_assert_eq(nci_field_get_int(f_i, state), -16);
    nci_field_set_int(f_i, state, 100);
    cr_assert_eq(nci_field_get_int(f_i, state), 15);
    nci_field_set_int(f_u, state, 0xffffffffll);
    cr_assert_eq(nci_field_get_int(f_u, state), 0xffffffffll);
    nci_field_set_int(f_u, state, -5);
    cr_assert_eq(nci_field_get_int(f_u, state), 0);
    nci_field_set_int(f_s, state, INT32_MIN);
    cr_assert_eq(nci_field_get_int(f_s, state), INT32_MIN);
    nci_field_set_int(f_s, state, (int64_t)INT32_MAX + 9);
    cr_assert_eq(nci_field_get_int(f_s, state), INT32_MAX);
    for (int i = 0; i < 200; i++) {
        float v = -4.0f + 0.0573f * (float)i;
        nci_field_set_float(f_f, state, v);
        cr_assert_eq(nci_field_get_float(f_f, state), netcore_quant_value(&f_f->quant, v));
        nci_field_set_float(f_a, state, v * 3.0f);
        cr_assert_eq(nci_field_get_float(f_a, state), netcore_angle_quantized(v * 3.0f, 11));
        netcore_quat q = {sinf(v), cosf(v * 2.0f), 0.3f, v};
        nci_field_set_quat(f_q, state, q);
        netcore_quat want = netcore_quat_quantized(&q, 12), got = nci_field_get_quat(f_q, state);
        cr_assert(memcmp(&want, &got, sizeof want) == 0, "quaternion %d differs", i);
        cr_assert(nci_field_codes_valid(f_q, state));
        nci_field_set_vec3(f_v, state, (netcore_vec3){v, -v, 5.0f});
        netcore_vec3 vv = nci_field_get_vec3(f_v, state);
        cr_assert_eq(vv.x, netcore_quant_value(&f_v->quant, v));
        cr_assert_eq(vv.y, netcore_quant_value(&f_v->quant, -v));
        cr_assert_eq(vv.z, 0.0f);
    }
    /* Codes the decoder must refuse. */
    state[f_f->first_comp] = f_f->quant.steps + 1;
    cr_assert_not(nci_field_codes_valid(f_f, state));
    state[f_q->first_comp + 1] = (1u << 12) - 1;
    cr_assert_not(nci_field_codes_valid(f_q, state));
    cr_assert(nci_field_accepts(f_a, NETCORE_FIELD_FLOAT));
    cr_assert_not(nci_field_accepts(f_i, NETCORE_FIELD_FLOAT));
    netcore_schema_destroy(s);
}

Test(schema, gap_and_component_codes_round_trip)
{
    uint8_t buf[64];
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buf, sizeof buf);
    const uint32_t gaps[] = {1, 2, 17, 18, 273, 274, 65535};
    size_t expect = 0;
    for (size_t i = 0; i < sizeof gaps / sizeof gaps[0]; i++) {
        nci_gap_write(&w, gaps[i]);
        expect += nci_gap_bits(gaps[i]);
        cr_assert_eq(netcore_bit_writer_bits_written(&w), expect);
    }
    netcore_bit_writer_flush(&w);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buf, sizeof buf);
    for (size_t i = 0; i < sizeof gaps / sizeof gaps[0]; i++)
        cr_assert_eq(nci_gap_read(&r), gaps[i]);
    cr_assert_not(netcore_bit_reader_failed(&r));
}
