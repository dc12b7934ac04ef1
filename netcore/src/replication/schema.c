/* Schema registration, hashing and the quantization of field values into
 * entity-state components (and back). */
#include <math.h>
#include <string.h>

#include "core/core_internal.h"
#include "replication/snapshot_internal.h"

#define DEFAULT_MAX_TYPES 64u
#define DEFAULT_MAX_FIELDS 1024u

static void copy_name(char *dst, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n > NETCORE_SCHEMA_NAME_MAX - 1)
        n = NETCORE_SCHEMA_NAME_MAX - 1;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

static unsigned comp_count_of(netcore_field_kind kind)
{
    switch (kind) {
    case NETCORE_FIELD_VEC2:
        return 2;
    case NETCORE_FIELD_VEC3:
        return 3;
    case NETCORE_FIELD_QUAT:
        return 4;
    default:
        return 1;
    }
}

/* ---- hashing: FNV-1a over a canonical little-endian serialization ---- */

static void hash_u32(uint64_t *hash, uint32_t value)
{
    for (unsigned i = 0; i < 4; i++) {
        *hash ^= (value >> (8 * i)) & 0xffu;
        *hash *= 0x100000001b3ull;
    }
}

static void hash_float(uint64_t *hash, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    hash_u32(hash, bits);
}

static uint64_t compute_hash(const netcore_schema *schema)
{
    uint64_t hash = 0xcbf29ce484222325ull;
    /* The bit-packed format keeps its version word alone, so its hashes did
     * not change when the range-coded format arrived. */
    hash_u32(&hash, schema->snapshot_format == NETCORE_SNAPSHOT_FORMAT_RANGE_CODED
                        ? NCI_RANGE_FORMAT_VERSION
                        : NCI_SNAPSHOT_FORMAT_VERSION);
    hash_u32(&hash, schema->type_count);
    for (uint32_t t = 0; t < schema->type_count; t++) {
        const nci_type *type = &schema->types[t];
        hash_u32(&hash, type->field_count);
        for (uint32_t f = 0; f < type->field_count; f++) {
            const netcore_field_desc *d = &schema->fields[type->first_field + f].desc;
            hash_u32(&hash, (uint32_t)d->kind);
            switch (d->kind) {
            case NETCORE_FIELD_INT:
                hash_u32(&hash, d->bits);
                hash_u32(&hash, d->is_signed ? 1u : 0u);
                break;
            case NETCORE_FIELD_ANGLE:
            case NETCORE_FIELD_QUAT:
                hash_u32(&hash, d->bits);
                break;
            case NETCORE_FIELD_FLOAT:
            case NETCORE_FIELD_VEC2:
            case NETCORE_FIELD_VEC3:
                hash_float(&hash, d->min);
                hash_float(&hash, d->max);
                hash_float(&hash, d->precision);
                break;
            default:
                break;
            }
        }
    }
    return hash;
}

uint16_t nci_schema_tag(uint64_t hash)
{
    return (uint16_t)(hash ^ (hash >> 16) ^ (hash >> 32) ^ (hash >> 48));
}

/* ---- public registration API ---- */

void netcore_schema_config_default(netcore_schema_config *config)
{
    if (!config)
        return;
    memset(config, 0, sizeof *config);
    config->max_types = DEFAULT_MAX_TYPES;
    config->max_fields = DEFAULT_MAX_FIELDS;
}

netcore_result netcore_schema_create(const netcore_schema_config *config,
                                     netcore_schema **out_schema)
{
    if (!config || !out_schema || config->max_types == 0 ||
        config->max_types > NETCORE_SCHEMA_MAX_TYPES || config->max_fields == 0 ||
        config->max_fields > (1u << 20) ||
        (unsigned)config->snapshot_format >= NETCORE_SNAPSHOT_FORMAT_COUNT)
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_schema = NULL;
    netcore_schema *schema = nci_calloc(&config->allocator, 1, sizeof *schema);
    if (!schema)
        return NETCORE_ERR_OUT_OF_MEMORY;
    schema->allocator = config->allocator;
    schema->log = config->log;
    schema->max_types = config->max_types;
    schema->max_fields = config->max_fields;
    schema->snapshot_format = config->snapshot_format;
    schema->types = nci_calloc(&schema->allocator, config->max_types, sizeof *schema->types);
    schema->fields = nci_calloc(&schema->allocator, config->max_fields, sizeof *schema->fields);
    schema->comp_bits = nci_calloc(&schema->allocator, config->max_fields, 4);
    schema->comp_default =
        nci_calloc(&schema->allocator, config->max_fields, 4 * sizeof *schema->comp_default);
    if (!schema->types || !schema->fields || !schema->comp_bits || !schema->comp_default) {
        netcore_schema_destroy(schema);
        return NETCORE_ERR_OUT_OF_MEMORY;
    }
    *out_schema = schema;
    return NETCORE_OK;
}

void netcore_schema_destroy(netcore_schema *schema)
{
    if (!schema)
        return;
    netcore_allocator allocator = schema->allocator;
    nci_free(&allocator, schema->types);
    nci_free(&allocator, schema->fields);
    nci_free(&allocator, schema->comp_bits);
    nci_free(&allocator, schema->comp_default);
    nci_free(&allocator, schema);
}

netcore_result netcore_schema_add_type(netcore_schema *schema, const char *name, uint16_t *out_type)
{
    if (!schema || !out_type)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (schema->finalized)
        return NETCORE_ERR_STATE;
    if (schema->type_count >= schema->max_types)
        return NETCORE_ERR_FULL;
    nci_type *type = &schema->types[schema->type_count];
    memset(type, 0, sizeof *type);
    copy_name(type->name, name);
    type->first_field = schema->field_total;
    *out_type = (uint16_t)schema->type_count++;
    return NETCORE_OK;
}

static bool desc_valid(const netcore_field_desc *desc, netcore_quant *out_quant)
{
    switch (desc->kind) {
    case NETCORE_FIELD_INT:
    case NETCORE_FIELD_ANGLE:
        return desc->bits >= 1 && desc->bits <= 32;
    case NETCORE_FIELD_BOOL:
        return true;
    case NETCORE_FIELD_QUAT:
        return desc->bits >= NETCORE_QUAT_BITS_MIN && desc->bits <= NETCORE_QUAT_BITS_MAX;
    case NETCORE_FIELD_FLOAT:
    case NETCORE_FIELD_VEC2:
    case NETCORE_FIELD_VEC3:
        return netcore_quant_init(out_quant, desc->min, desc->max, desc->precision) == NETCORE_OK;
    default:
        return false;
    }
}

netcore_result netcore_schema_add_field(netcore_schema *schema, uint16_t type,
                                        const netcore_field_desc *desc, uint16_t *out_field)
{
    if (!schema || !desc || type >= schema->type_count)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (schema->finalized)
        return NETCORE_ERR_STATE;
    netcore_quant quant;
    memset(&quant, 0, sizeof quant);
    if (!desc_valid(desc, &quant))
        return NETCORE_ERR_INVALID_ARGUMENT;
    nci_type *t = &schema->types[type];
    if (schema->field_total >= schema->max_fields ||
        t->field_count >= NETCORE_SCHEMA_MAX_FIELDS_PER_TYPE)
        return NETCORE_ERR_FULL;
    /* Fields stay grouped by type: open a hole at the end of this type's run
     * and shift the runs of later types up by one. */
    uint32_t at = t->first_field + t->field_count;
    memmove(&schema->fields[at + 1], &schema->fields[at],
            (schema->field_total - at) * sizeof *schema->fields);
    for (uint32_t i = at + 1; i <= schema->field_total; i++)
        schema->fields[i].desc.name = schema->fields[i].name;
    for (uint32_t u = type + 1u; u < schema->type_count; u++)
        schema->types[u].first_field++;
    nci_field *f = &schema->fields[at];
    memset(f, 0, sizeof *f);
    f->desc = *desc;
    copy_name(f->name, desc->name);
    f->desc.name = f->name;
    f->quant = quant;
    f->type = type;
    f->comp_count = (uint8_t)comp_count_of(desc->kind);
    if (out_field)
        *out_field = t->field_count;
    t->field_count++;
    schema->field_total++;
    return NETCORE_OK;
}

static unsigned comp_width(const nci_field *field, unsigned comp)
{
    switch (field->desc.kind) {
    case NETCORE_FIELD_INT:
    case NETCORE_FIELD_ANGLE:
        return field->desc.bits;
    case NETCORE_FIELD_BOOL:
        return 1;
    case NETCORE_FIELD_QUAT:
        return comp == 0 ? 2 : field->desc.bits;
    default:
        return field->quant.bits;
    }
}

netcore_result netcore_schema_finalize(netcore_schema *schema)
{
    if (!schema)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (schema->finalized || schema->type_count == 0)
        return NETCORE_ERR_STATE;
    uint32_t comp = 0;
    schema->max_comps = 1;
    schema->type_bits = netcore_bits_required(schema->type_count - 1);
    schema->max_entity_bits = 0;
    for (uint32_t t = 0; t < schema->type_count; t++) {
        nci_type *type = &schema->types[t];
        type->first_comp = comp;
        type->full_bits = type->field_count;
        for (uint32_t i = 0; i < type->field_count; i++) {
            nci_field *f = &schema->fields[type->first_field + i];
            f->first_comp = (uint16_t)(comp - type->first_comp);
            for (unsigned c = 0; c < f->comp_count; c++) {
                schema->comp_bits[comp + c] = (uint8_t)comp_width(f, c);
                type->full_bits += nci_comp_max_bits(comp_width(f, c), f->comp_count == 1);
            }
            comp += f->comp_count;
        }
        type->comp_count = (uint16_t)(comp - type->first_comp);
        if (type->comp_count > schema->max_comps)
            schema->max_comps = type->comp_count;
        uint32_t entity_bits =
            NCI_GAP_MAX_BITS + schema->type_bits + NCI_GENERATION_BITS + type->full_bits;
        if (entity_bits > schema->max_entity_bits)
            schema->max_entity_bits = entity_bits;
    }
    /* Zero values, computed with the setters so they match what set_* stores. */
    for (uint32_t t = 0; t < schema->type_count; t++) {
        const nci_type *type = &schema->types[t];
        uint32_t *state = &schema->comp_default[type->first_comp];
        for (uint32_t i = 0; i < type->field_count; i++) {
            const nci_field *f = &schema->fields[type->first_field + i];
            switch (f->desc.kind) {
            case NETCORE_FIELD_INT:
                nci_field_set_int(f, state, 0);
                break;
            case NETCORE_FIELD_FLOAT:
            case NETCORE_FIELD_ANGLE:
                nci_field_set_float(f, state, 0.0f);
                break;
            case NETCORE_FIELD_BOOL:
                nci_field_set_bool(f, state, false);
                break;
            case NETCORE_FIELD_VEC2:
            case NETCORE_FIELD_VEC3:
                nci_field_set_vec3(f, state, (netcore_vec3){0.0f, 0.0f, 0.0f});
                break;
            case NETCORE_FIELD_QUAT:
                nci_field_set_quat(f, state, (netcore_quat){0.0f, 0.0f, 0.0f, 1.0f});
                break;
            default:
                break;
            }
        }
    }
    schema->hash = compute_hash(schema);
    schema->tag = nci_schema_tag(schema->hash);
    schema->finalized = true;
    return NETCORE_OK;
}

netcore_snapshot_format netcore_schema_snapshot_format(const netcore_schema *schema)
{
    return schema ? schema->snapshot_format : NETCORE_SNAPSHOT_FORMAT_BITPACKED;
}

const char *netcore_snapshot_format_name(netcore_snapshot_format format)
{
    switch (format) {
    case NETCORE_SNAPSHOT_FORMAT_BITPACKED:
        return "bitpacked";
    case NETCORE_SNAPSHOT_FORMAT_RANGE_CODED:
        return "range_coded";
    default:
        return "unknown";
    }
}

bool netcore_schema_is_finalized(const netcore_schema *schema)
{
    return schema && schema->finalized;
}

netcore_result netcore_schema_hash(const netcore_schema *schema, uint64_t *out_hash)
{
    if (!schema || !out_hash)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!schema->finalized)
        return NETCORE_ERR_STATE;
    *out_hash = schema->hash;
    return NETCORE_OK;
}

netcore_result netcore_schema_check_hash(const netcore_schema *schema, uint64_t remote_hash)
{
    if (!schema)
        return NETCORE_ERR_INVALID_ARGUMENT;
    if (!schema->finalized)
        return NETCORE_ERR_STATE;
    return schema->hash == remote_hash ? NETCORE_OK : NETCORE_ERR_MISMATCH;
}

uint32_t netcore_schema_type_count(const netcore_schema *schema)
{
    return schema ? schema->type_count : 0;
}

uint32_t netcore_schema_field_count(const netcore_schema *schema, uint16_t type)
{
    const nci_type *t = nci_schema_type(schema, type);
    return t ? t->field_count : 0;
}

netcore_result netcore_schema_field_get(const netcore_schema *schema, uint16_t type, uint16_t field,
                                        netcore_field_desc *out_desc)
{
    if (!schema || !out_desc)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const nci_field *f = nci_schema_field(schema, type, field);
    if (!f)
        return NETCORE_ERR_NOT_FOUND;
    *out_desc = f->desc;
    return NETCORE_OK;
}

netcore_result netcore_schema_find_type(const netcore_schema *schema, const char *name,
                                        uint16_t *out_type)
{
    if (!schema || !name || !out_type)
        return NETCORE_ERR_INVALID_ARGUMENT;
    for (uint32_t t = 0; t < schema->type_count; t++) {
        if (strcmp(schema->types[t].name, name) == 0) {
            *out_type = (uint16_t)t;
            return NETCORE_OK;
        }
    }
    return NETCORE_ERR_NOT_FOUND;
}

netcore_result netcore_schema_find_field(const netcore_schema *schema, uint16_t type,
                                         const char *name, uint16_t *out_field)
{
    if (!schema || !name || !out_field)
        return NETCORE_ERR_INVALID_ARGUMENT;
    const nci_type *t = nci_schema_type(schema, type);
    if (!t)
        return NETCORE_ERR_NOT_FOUND;
    for (uint32_t i = 0; i < t->field_count; i++) {
        if (strcmp(schema->fields[t->first_field + i].name, name) == 0) {
            *out_field = (uint16_t)i;
            return NETCORE_OK;
        }
    }
    return NETCORE_ERR_NOT_FOUND;
}

uint32_t netcore_schema_type_full_bits(const netcore_schema *schema, uint16_t type)
{
    const nci_type *t = nci_schema_type(schema, type);
    return t && schema->finalized ? t->full_bits : 0;
}

/* ---- internal lookups ---- */

const nci_type *nci_schema_type(const netcore_schema *schema, uint16_t type)
{
    if (!schema || type >= schema->type_count)
        return NULL;
    return &schema->types[type];
}

const nci_field *nci_schema_field(const netcore_schema *schema, uint16_t type, uint16_t field)
{
    const nci_type *t = nci_schema_type(schema, type);
    if (!t || field >= t->field_count)
        return NULL;
    return &schema->fields[t->first_field + field];
}

void nci_schema_default_state(const netcore_schema *schema, uint16_t type, uint32_t *state)
{
    const nci_type *t = &schema->types[type];
    memset(state, 0, schema->max_comps * sizeof *state);
    memcpy(state, &schema->comp_default[t->first_comp], t->comp_count * sizeof *state);
}

netcore_result nci_state_field(const netcore_schema *schema, uint16_t type, uint16_t field,
                               netcore_field_kind kind, const nci_field **out_field)
{
    const nci_field *f = nci_schema_field(schema, type, field);
    if (!f || !nci_field_accepts(f, kind))
        return NETCORE_ERR_INVALID_ARGUMENT;
    *out_field = f;
    return NETCORE_OK;
}

/* ---- quantization ---- */

bool nci_field_accepts(const nci_field *field, netcore_field_kind setter_kind)
{
    netcore_field_kind kind = field->desc.kind;
    switch (setter_kind) {
    case NETCORE_FIELD_FLOAT:
        return kind == NETCORE_FIELD_FLOAT || kind == NETCORE_FIELD_ANGLE;
    case NETCORE_FIELD_VEC3:
        return kind == NETCORE_FIELD_VEC2 || kind == NETCORE_FIELD_VEC3;
    default:
        return kind == setter_kind;
    }
}

static uint32_t width_mask(unsigned bits)
{
    return bits >= 32 ? 0xffffffffu : (1u << bits) - 1u;
}

void nci_field_set_int(const nci_field *field, uint32_t *state, int64_t value)
{
    unsigned bits = field->desc.bits;
    int64_t lo = field->desc.is_signed ? -((int64_t)1 << (bits - 1)) : 0;
    int64_t hi = field->desc.is_signed ? ((int64_t)1 << (bits - 1)) - 1
                                       : (int64_t)(((uint64_t)1 << bits) - 1);
    if (value < lo)
        value = lo;
    if (value > hi)
        value = hi;
    /* Offset binary: code 0 is the lowest value, so deltas are plain differences. */
    state[field->first_comp] = (uint32_t)(value - lo);
}

int64_t nci_field_get_int(const nci_field *field, const uint32_t *state)
{
    unsigned bits = field->desc.bits;
    int64_t lo = field->desc.is_signed ? -((int64_t)1 << (bits - 1)) : 0;
    return (int64_t)(state[field->first_comp] & width_mask(bits)) + lo;
}

/* Angles and quaternions are converted to codes by running them through the
 * bit packer's own codecs and reading the raw bits back, so the codes (and
 * the values decoded from them) are exactly those of bitpack.h. */
static uint32_t angle_code(float radians, unsigned bits)
{
    uint8_t buf[8] = {0};
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buf, sizeof buf);
    netcore_bit_write_angle(&w, radians, bits);
    netcore_bit_writer_flush(&w);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buf, sizeof buf);
    return netcore_bit_read_bits(&r, bits);
}

static float angle_value(uint32_t code, unsigned bits)
{
    uint8_t buf[8] = {0};
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buf, sizeof buf);
    netcore_bit_write_bits(&w, code, bits);
    netcore_bit_writer_flush(&w);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buf, sizeof buf);
    return netcore_bit_read_angle(&r, bits);
}

void nci_field_set_float(const nci_field *field, uint32_t *state, float value)
{
    if (field->desc.kind == NETCORE_FIELD_ANGLE)
        state[field->first_comp] = angle_code(value, field->desc.bits);
    else
        state[field->first_comp] = netcore_quant_index(&field->quant, value);
}

float nci_field_get_float(const nci_field *field, const uint32_t *state)
{
    if (field->desc.kind == NETCORE_FIELD_ANGLE)
        return angle_value(state[field->first_comp], field->desc.bits);
    return netcore_quant_dequantize(&field->quant, state[field->first_comp]);
}

void nci_field_set_bool(const nci_field *field, uint32_t *state, bool value)
{
    state[field->first_comp] = value ? 1u : 0u;
}

bool nci_field_get_bool(const nci_field *field, const uint32_t *state)
{
    return (state[field->first_comp] & 1u) != 0;
}

void nci_field_set_vec3(const nci_field *field, uint32_t *state, netcore_vec3 value)
{
    float v[3] = {value.x, value.y, value.z};
    for (unsigned c = 0; c < field->comp_count; c++)
        state[field->first_comp + c] = netcore_quant_index(&field->quant, v[c]);
}

netcore_vec3 nci_field_get_vec3(const nci_field *field, const uint32_t *state)
{
    float v[3] = {0.0f, 0.0f, 0.0f};
    for (unsigned c = 0; c < field->comp_count; c++)
        v[c] = netcore_quant_dequantize(&field->quant, state[field->first_comp + c]);
    return (netcore_vec3){v[0], v[1], v[2]};
}

void nci_field_set_quat(const nci_field *field, uint32_t *state, netcore_quat value)
{
    uint8_t buf[16] = {0};
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buf, sizeof buf);
    netcore_bit_write_quat(&w, &value, field->desc.bits);
    netcore_bit_writer_flush(&w);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buf, sizeof buf);
    state[field->first_comp] = netcore_bit_read_bits(&r, 2);
    for (unsigned c = 1; c < 4; c++)
        state[field->first_comp + c] = netcore_bit_read_bits(&r, field->desc.bits);
}

/* Rebuilds the quaternion through the bit packer's reader; *valid is false
 * when the reader rejects the codes. */
static netcore_quat quat_decode(const nci_field *field, const uint32_t *state, bool *valid)
{
    uint8_t buf[16] = {0};
    netcore_bit_writer w;
    netcore_bit_writer_init(&w, buf, sizeof buf);
    netcore_bit_write_bits(&w, state[field->first_comp], 2);
    for (unsigned c = 1; c < 4; c++)
        netcore_bit_write_bits(&w, state[field->first_comp + c], field->desc.bits);
    netcore_bit_writer_flush(&w);
    netcore_bit_reader r;
    netcore_bit_reader_init(&r, buf, sizeof buf);
    netcore_quat q = netcore_bit_read_quat(&r, field->desc.bits);
    *valid = !netcore_bit_reader_failed(&r);
    return q;
}

netcore_quat nci_field_get_quat(const nci_field *field, const uint32_t *state)
{
    bool valid;
    return quat_decode(field, state, &valid);
}

bool nci_field_codes_valid(const nci_field *field, const uint32_t *state)
{
    switch (field->desc.kind) {
    case NETCORE_FIELD_FLOAT:
    case NETCORE_FIELD_VEC2:
    case NETCORE_FIELD_VEC3:
        for (unsigned c = 0; c < field->comp_count; c++)
            if (state[field->first_comp + c] > field->quant.steps)
                return false;
        return true;
    case NETCORE_FIELD_QUAT: {
        bool valid;
        (void)quat_decode(field, state, &valid);
        return valid;
    }
    default:
        return true;
    }
}
