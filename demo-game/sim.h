/*
 * demo-game simulation: the deterministic, fixed-tick game rules shared by the
 * server (authoritative world), the client (prediction of its own ship) and the
 * local single-player mode.
 *
 * Determinism: every quantity is an integer. Positions and velocities are
 * Q16.16 fixed point in arena units (demo_fx), angles are 16-bit binary angles
 * (65536 = one turn, 0 = +x, increasing towards +y, i.e. clockwise on screen
 * where y points down), trigonometry and square roots are integer code. The
 * same world plus the same inputs therefore give bit-identical worlds on every
 * machine and compiler; demo_world_hash() checks it.
 *
 * A demo_world is a plain value: no pointers, copy it with `=` or memcpy to
 * keep history for rollback, reconciliation or lag compensation.
 *
 * Single-threaded: a world must be used by one thread at a time.
 */
#ifndef DEMO_SIM_H
#define DEMO_SIM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DEMO_TICK_RATE_HZ 60
/* A server holds up to 64 players (humans and server bots); 16 is the
 * default and what the arena is drawn for. */
#define DEMO_MAX_PLAYERS 64
#define DEMO_DEFAULT_MAX_PLAYERS 16
#define DEMO_MAX_PROJECTILES 256
#define DEMO_MAX_EVENTS 64
#define DEMO_NAME_MAX 16 /* bytes including the terminating NUL */

/* Q16.16 fixed point. */
typedef int32_t demo_fx;
#define DEMO_FX_ONE 65536
#define DEMO_FX(units) ((demo_fx)((units)*DEMO_FX_ONE))

/* Arena size in units (the renderer maps it onto the screen). */
#define DEMO_ARENA_W 1600
#define DEMO_ARENA_H 900

/* Gameplay constants, in units, ticks and hit points. */
#define DEMO_SHIP_RADIUS 16
#define DEMO_SHIP_MAX_HEALTH 100
#define DEMO_PROJECTILE_RADIUS 3
#define DEMO_PROJECTILE_SPEED 12 /* units per tick */
#define DEMO_PROJECTILE_LIFE_TICKS 60
#define DEMO_PROJECTILE_DAMAGE 20
#define DEMO_FIRE_COOLDOWN_TICKS 12
#define DEMO_RESPAWN_TICKS 120

/* Input buttons (demo_input.buttons). Movement is in arena axes (WASD). */
enum {
    DEMO_BTN_UP = 1u << 0,    /* -y */
    DEMO_BTN_DOWN = 1u << 1,  /* +y */
    DEMO_BTN_LEFT = 1u << 2,  /* -x */
    DEMO_BTN_RIGHT = 1u << 3, /* +x */
    DEMO_BTN_FIRE = 1u << 4,
    DEMO_BTN_ALL = 0x1f
};

/* One player's command for one tick: 3 bytes on the wire (buttons, aim). */
typedef struct demo_input {
    uint8_t buttons; /* DEMO_BTN_* bits; other bits are ignored */
    uint16_t aim;    /* binary angle the ship faces and fires towards */
} demo_input;

typedef enum demo_round_state {
    DEMO_ROUND_WARMUP = 0,  /* ships move, weapons are cold */
    DEMO_ROUND_PLAYING = 1, /* hits count, dead ships respawn */
    DEMO_ROUND_OVER = 2     /* everything frozen, scoreboard shown */
} demo_round_state;

typedef struct demo_player {
    bool active; /* slot occupied by a connected player or bot */
    bool alive;
    demo_fx x, y;             /* centre, Q16.16 units */
    demo_fx vx, vy;           /* Q16.16 units per tick */
    uint16_t angle;           /* facing, binary angle */
    int16_t health;           /* 0..DEMO_SHIP_MAX_HEALTH */
    int16_t score;            /* kills this round */
    int16_t deaths;           /* deaths this round */
    uint16_t respawn_ticks;   /* ticks until respawn while dead */
    uint16_t fire_cooldown;   /* ticks until the weapon may fire again */
    uint8_t last_attacker;    /* id of the last player that hit this one */
    char name[DEMO_NAME_MAX]; /* display only; not part of the hash */
} demo_player;

typedef struct demo_projectile {
    bool active;
    uint8_t owner;       /* player id */
    uint16_t life_ticks; /* ticks left */
    demo_fx x, y;
    demo_fx vx, vy;
} demo_projectile;

typedef enum demo_event_kind {
    DEMO_EVENT_SHOT = 0,    /* a = shooter */
    DEMO_EVENT_HIT = 1,     /* a = shooter, b = victim */
    DEMO_EVENT_KILL = 2,    /* a = killer, b = victim */
    DEMO_EVENT_RESPAWN = 3, /* a = player */
    DEMO_EVENT_WALL = 4,    /* a = shooter; x, y = impact point */
    DEMO_EVENT_ROUND = 5    /* a = new demo_round_state */
} demo_event_kind;

/* Something that happened during the last step, for effects and kill feeds.
 * Events are derived data: they are not part of the hash. */
typedef struct demo_event {
    uint8_t kind; /* demo_event_kind */
    uint8_t a, b;
    demo_fx x, y;
} demo_event;

typedef struct demo_sim_config {
    uint32_t warmup_ticks; /* default 3 s */
    uint32_t round_ticks;  /* default 120 s */
    uint32_t over_ticks;   /* default 6 s */
    uint64_t seed;         /* spawn point choice */
} demo_sim_config;

/* An axis-aligned wall rectangle in whole units. */
typedef struct demo_wall {
    int32_t x, y, w, h;
} demo_wall;

typedef struct demo_world {
    uint32_t tick;             /* number of the last simulated tick */
    uint8_t round_state;       /* demo_round_state */
    uint16_t round_number;     /* 1 for the first round */
    uint32_t state_ticks_left; /* ticks until the round state changes */
    uint64_t rng_state;        /* spawn choice; part of the state */
    demo_sim_config config;
    demo_player players[DEMO_MAX_PLAYERS];
    demo_projectile projectiles[DEMO_MAX_PROJECTILES];
    uint32_t event_count;
    demo_event events[DEMO_MAX_EVENTS]; /* events of the last step */
    uint32_t events_dropped;            /* events that did not fit, in total */
} demo_world;

/* Seeded xorshift64* generator for bots and the world. Any seed works (0 is
 * remapped). A plain value: copy it to fork a sequence. */
typedef struct demo_rng {
    uint64_t state;
} demo_rng;

/* Seeds *rng. */
void demo_rng_seed(demo_rng *rng, uint64_t seed);
/* Next 64-bit value of *rng. */
uint64_t demo_rng_next(demo_rng *rng);
/* Uniform value in [0, bound); 0 when bound is 0. */
uint32_t demo_rng_below(demo_rng *rng, uint32_t bound);

/* Fills *config with the defaults listed on demo_sim_config (seed 1). */
void demo_sim_config_default(demo_sim_config *config);

/* Initialises *world (no players, warmup of round 1, tick 0) from *config,
 * which is copied. config may be NULL for the defaults. */
void demo_world_init(demo_world *world, const demo_sim_config *config);

/* Puts a player in slot id (0..DEMO_MAX_PLAYERS-1) and spawns it at once.
 * name is copied and truncated to DEMO_NAME_MAX-1 bytes (NULL: "player N").
 * Returns false when id is out of range or the slot is taken. */
bool demo_sim_add_player(demo_world *world, int id, const char *name);

/* Frees slot id and removes its projectiles. Out-of-range ids are ignored. */
void demo_sim_remove_player(demo_world *world, int id);

/* Advances *world by one tick to tick number `tick`, which must be
 * world->tick + 1 (returns false and leaves the world untouched otherwise).
 * inputs has DEMO_MAX_PLAYERS entries indexed by player id; entries of empty
 * slots are ignored. inputs may be NULL (no buttons pressed, aims kept).
 * Clears and refills world->events. */
bool demo_sim_step(demo_world *world, const demo_input inputs[DEMO_MAX_PLAYERS], uint32_t tick);

/* Lag compensation hook for demo_sim_step_rewind: where the projectiles of
 * `shooter` test ship `victim`. *x and *y hold the victim's present position
 * (Q16.16 units) on entry; the hook may replace them with the position the
 * shooter saw when it fired. Called during the step; it must not touch the
 * world. */
typedef struct demo_rewind {
    void (*target_position)(void *user, int shooter, int victim, demo_fx *x, demo_fx *y);
    void *user;
} demo_rewind;

/* demo_sim_step with lag-compensated hit tests: projectiles are tested
 * against the positions rewind->target_position gives (rewind may be NULL:
 * the present positions, exactly demo_sim_step). */
bool demo_sim_step_rewind(demo_world *world, const demo_input inputs[DEMO_MAX_PLAYERS],
                          uint32_t tick, const demo_rewind *rewind);

/* Movement kernel of one ship for one tick: faces input->aim, accelerates
 * along the pressed directions, applies drag, moves and slides along the
 * arena walls, counts down the weapon cooldown. It reads nothing else, so a
 * client can run it on its own ship for prediction and get exactly the
 * server's result while nothing else touches that ship. Returns true when
 * the fire button triggered a shot this tick (the cooldown is then reset);
 * the caller spawns the projectile. Does nothing and returns false for a
 * dead or inactive player. */
bool demo_sim_apply_input(demo_player *player, const demo_input *input);

/* Client-side prediction of one ship alone: applies the round rules (frozen
 * when the round is over, weapons cold in warmup) and demo_sim_apply_input()
 * to player id without touching anything else (no projectiles, no tick
 * change). Returns the result of demo_sim_apply_input(). */
bool demo_sim_step_player(demo_world *world, int id, const demo_input *input);

/* 64-bit FNV-1a hash of the simulated state (tick, round, rng, players,
 * projectiles; not names, events or config), over an explicit little-endian
 * serialisation, for desync checks between machines. */
uint64_t demo_world_hash(const demo_world *world);

/* Number of active players. */
int demo_world_player_count(const demo_world *world);

/* Writes the ids of the active players into order[DEMO_MAX_PLAYERS], best
 * first (score descending, deaths ascending, id ascending); returns how many. */
int demo_world_scoreboard(const demo_world *world, int order[DEMO_MAX_PLAYERS]);

/* Seconds left in the current round state, rounded up. */
uint32_t demo_world_seconds_left(const demo_world *world);

/* The arena's walls, constant; *count receives the number of entries. */
const demo_wall *demo_arena_walls(int *count);

/* True when the circle (x, y, radius), all in Q16.16 units, overlaps a wall. */
bool demo_arena_blocked(demo_fx x, demo_fx y, demo_fx radius);

/* Integer trigonometry on binary angles: results in Q16.16 (-65536..65536). */
demo_fx demo_sin(uint16_t angle);
demo_fx demo_cos(uint16_t angle);
/* Binary angle of the vector (dx, dy); 0 for (0, 0). Accurate to ~0.01 deg. */
uint16_t demo_atan2(int64_t dy, int64_t dx);
/* Floor of the square root. */
uint32_t demo_isqrt(uint64_t value);

/* Bot AI: the command bot `id` gives this tick, from the world as it is and
 * *rng (advanced). Moves to keep a fighting distance, strafes, avoids walls,
 * aims at the nearest living enemy and fires when it has line of sight.
 * Deterministic in (world, id, tick, rng state). */
demo_input demo_bot_think(const demo_world *world, int id, uint32_t tick, demo_rng *rng);

#ifdef __cplusplus
}
#endif

#endif
