/* Shared pieces of the soak programs; see soak_common.h. */
#define _POSIX_C_SOURCE 200809L

#include "soak_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static netcore_result add_int_field(netcore_schema *schema, uint16_t type, const char *name,
                                    unsigned bits, bool is_signed)
{
    netcore_field_desc desc;
    memset(&desc, 0, sizeof(desc));
    desc.name = name;
    desc.kind = NETCORE_FIELD_INT;
    desc.bits = bits;
    desc.is_signed = is_signed;
    return netcore_schema_add_field(schema, type, &desc, NULL);
}

netcore_result soak_schema_create(netcore_snapshot_format format, netcore_schema **out_schema)
{
    netcore_schema_config config;
    netcore_schema_config_default(&config);
    config.snapshot_format = format;
    netcore_schema *schema = NULL;
    netcore_result result = netcore_schema_create(&config, &schema);
    if (result != NETCORE_OK) {
        return result;
    }
    uint16_t scripted = 0;
    uint16_t player = 0;
    result = netcore_schema_add_type(schema, "scripted", &scripted);
    if (result == NETCORE_OK) {
        result = netcore_schema_add_type(schema, "player", &player);
    }
    /* Field order must match the SOAK_SCRIPTED_* and SOAK_PLAYER_* enums. */
    if (result == NETCORE_OK) {
        result = add_int_field(schema, scripted, "index", 16, false);
    }
    if (result == NETCORE_OK) {
        result = add_int_field(schema, scripted, "x", 16, false);
    }
    if (result == NETCORE_OK) {
        result = add_int_field(schema, scripted, "y", 16, false);
    }
    if (result == NETCORE_OK) {
        result = add_int_field(schema, scripted, "hash", 32, false);
    }
    if (result == NETCORE_OK) {
        result = add_int_field(schema, player, "owner", 32, false);
    }
    if (result == NETCORE_OK) {
        result = add_int_field(schema, player, "x", 24, true);
    }
    if (result == NETCORE_OK) {
        result = add_int_field(schema, player, "y", 24, true);
    }
    if (result == NETCORE_OK) {
        result = add_int_field(schema, player, "last_input", 32, false);
    }
    if (result == NETCORE_OK) {
        result = netcore_schema_finalize(schema);
    }
    if (result != NETCORE_OK) {
        netcore_schema_destroy(schema);
        return result;
    }
    *out_schema = schema;
    return NETCORE_OK;
}

static uint32_t mix32(uint32_t value)
{
    value ^= value >> 16;
    value *= 0x7feb352dU;
    value ^= value >> 15;
    value *= 0x846ca68bU;
    value ^= value >> 16;
    return value;
}

soak_scripted_state soak_scripted_at(uint32_t index, uint32_t tick)
{
    soak_scripted_state state;
    /* Different speeds per entity, so neighbouring entities never move in step. */
    state.x = (index * 977U + tick * (1U + index % 7U)) & 0xFFFFU;
    state.y = (index * 131U + (tick / 3U) * (2U + index % 5U)) & 0xFFFFU;
    state.hash = mix32(index * 0x9E3779B9U ^ mix32(tick));
    return state;
}

/* Positions wrap inside the 24-bit signed field range instead of clamping. */
static int32_t wrap_position(int32_t position, int8_t step)
{
    return ((position + step) % 4000000 + 4000000) % 4000000 - 2000000;
}

static void soak_simulate(void *user, void *state, const void *input, uint32_t tick)
{
    (void)user;
    (void)tick;
    soak_player_state *player = state;
    const int8_t *move = input;
    player->x = wrap_position(player->x, move[0]);
    player->y = wrap_position(player->y, move[1]);
}

static netcore_vec3 soak_position(void *user, const void *state)
{
    (void)user;
    const soak_player_state *player = state;
    netcore_vec3 position = {(float)player->x, (float)player->y, 0.0f};
    return position;
}

/* Exact: any difference in any field is a correction, so a bot's count of
 * corrections says whether its prediction ran the server's simulation. */
static float soak_error(void *user, const void *predicted, const void *authoritative)
{
    (void)user;
    return memcmp(predicted, authoritative, sizeof(soak_player_state)) == 0 ? 0.0f : 1.0f;
}

static void soak_write_state(void *user, netcore_snapshot_server *snapshots,
                             netcore_entity_id entity, const void *state)
{
    (void)user;
    const soak_player_state *player = state;
    (void)netcore_snapshot_server_set_int(snapshots, entity, SOAK_PLAYER_OWNER, player->owner);
    (void)netcore_snapshot_server_set_int(snapshots, entity, SOAK_PLAYER_X, player->x);
    (void)netcore_snapshot_server_set_int(snapshots, entity, SOAK_PLAYER_Y, player->y);
}

static bool soak_read_state(void *user, const netcore_snapshot_client *snapshots,
                            netcore_entity_id entity, void *out_state)
{
    (void)user;
    soak_player_state *player = out_state;
    int64_t owner = 0;
    int64_t x = 0;
    int64_t y = 0;
    if (netcore_snapshot_client_get_int(snapshots, entity, SOAK_PLAYER_OWNER, &owner) !=
            NETCORE_OK ||
        netcore_snapshot_client_get_int(snapshots, entity, SOAK_PLAYER_X, &x) != NETCORE_OK ||
        netcore_snapshot_client_get_int(snapshots, entity, SOAK_PLAYER_Y, &y) != NETCORE_OK) {
        return false;
    }
    player->owner = (uint32_t)owner;
    player->x = (int32_t)x;
    player->y = (int32_t)y;
    return true;
}

void soak_game_desc(netcore_game_desc *desc, const netcore_schema *schema, uint32_t tick_hz,
                    uint32_t snapshot_hz)
{
    netcore_game_desc_default(desc);
    desc->schema = schema;
    desc->player_type = SOAK_TYPE_PLAYER;
    desc->player_tick_field = SOAK_PLAYER_LAST_INPUT;
    desc->tick_rate_hz = tick_hz;
    desc->snapshot_every_ticks =
        snapshot_hz > 0 && tick_hz >= snapshot_hz ? tick_hz / snapshot_hz : 1;
    desc->input_size_bytes = SOAK_INPUT_BYTES;
    desc->state_size_bytes = sizeof(soak_player_state);
    desc->simulate = soak_simulate;
    desc->position = soak_position;
    desc->error = soak_error;
    desc->write_state = soak_write_state;
    desc->read_state = soak_read_state;
}

void soak_input_at(uint64_t client_id, uint32_t tick, uint8_t out[SOAK_INPUT_BYTES])
{
    memset(out, 0, SOAK_INPUT_BYTES);
    int8_t dx = (int8_t)((tick / 16U) % 2U == 0 ? 3 : -3);
    int8_t dy = (int8_t)((int)((client_id + tick / 40U) % 3U) - 1);
    memcpy(&out[0], &dx, 1);
    memcpy(&out[1], &dy, 1);
    out[2] = (uint8_t)(tick & 0x7FU);
}

uint64_t soak_now_us(void)
{
    return netcore_time_now_us();
}

void soak_sleep_until_us(uint64_t deadline_us)
{
    uint64_t now = soak_now_us();
    if (deadline_us <= now) {
        return;
    }
    uint64_t wait_us = deadline_us - now;
    struct timespec request;
    request.tv_sec = (time_t)(wait_us / 1000000U);
    request.tv_nsec = (long)(wait_us % 1000000U) * 1000L;
    /* One attempt: a signal cutting the sleep short only shortens one loop turn. */
    (void)nanosleep(&request, NULL);
}

bool soak_load_key(const char *hex, const char *path, uint8_t key[NETCORE_TOKEN_KEY_BYTES])
{
    char line[256];
    if (hex == NULL && path != NULL) {
        FILE *file = fopen(path, "r");
        if (file == NULL) {
            fprintf(stderr, "cannot open key file %s: %s\n", path, strerror(errno));
            return false;
        }
        char *got = fgets(line, (int)sizeof(line), file);
        fclose(file);
        if (got == NULL) {
            fprintf(stderr, "key file %s is empty\n", path);
            return false;
        }
        hex = line;
    }
    if (hex == NULL) {
        fprintf(stderr, "a token key is required (--key HEX or --key-file FILE)\n");
        return false;
    }
    netcore_result result = netcore_token_key_from_hex(hex, key);
    if (result != NETCORE_OK) {
        fprintf(stderr, "bad token key: %s\n", netcore_result_str(result));
        return false;
    }
    return true;
}

uint64_t soak_rss_kib(void)
{
    FILE *file = fopen("/proc/self/status", "r");
    if (file == NULL) {
        return 0;
    }
    char line[256];
    uint64_t rss_kib = 0;
    while (fgets(line, (int)sizeof(line), file) != NULL) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            rss_kib = strtoull(line + 6, NULL, 10);
            break;
        }
    }
    fclose(file);
    return rss_kib;
}

uint64_t soak_cpu_us(void)
{
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) != 0) {
        return 0;
    }
    return (uint64_t)usage.ru_utime.tv_sec * 1000000U + (uint64_t)usage.ru_utime.tv_usec +
           (uint64_t)usage.ru_stime.tv_sec * 1000000U + (uint64_t)usage.ru_stime.tv_usec;
}
