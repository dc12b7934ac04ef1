/* Demo game simulation: determinism, combat rules, rounds, bots. */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* Steps `world` by `ticks` with every active slot driven by its bot. */
static void run_bots(demo_world *world, demo_rng bots[DEMO_MAX_PLAYERS], uint32_t ticks)
{
    for (uint32_t t = 0; t < ticks; t++) {
        demo_input inputs[DEMO_MAX_PLAYERS] = {{0, 0}};
        uint32_t tick = world->tick + 1;
        for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
            if (world->players[i].active) {
                inputs[i] = demo_bot_think(world, i, tick, &bots[i]);
            }
        }
        cr_assert(demo_sim_step(world, inputs, tick));
    }
}

static void setup_bots(demo_world *world, demo_rng bots[DEMO_MAX_PLAYERS], int count, uint64_t seed,
                       const demo_sim_config *config)
{
    demo_sim_config cfg;
    demo_sim_config_default(&cfg);
    if (config) {
        cfg = *config;
    }
    cfg.seed = seed;
    demo_world_init(world, &cfg);
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        demo_rng_seed(&bots[i], seed * 1000 + (uint64_t)i);
    }
    for (int i = 0; i < count; i++) {
        cr_assert(demo_sim_add_player(world, i, NULL));
    }
}

/* A two-player world already in the playing state, ships placed by hand. */
static void setup_duel(demo_world *world, int ax, int ay, int bx, int by)
{
    demo_sim_config cfg;
    demo_sim_config_default(&cfg);
    cfg.warmup_ticks = 1;
    demo_world_init(world, &cfg);
    cr_assert(demo_sim_add_player(world, 0, "alice"));
    cr_assert(demo_sim_add_player(world, 1, "bob"));
    cr_assert(demo_sim_step(world, NULL, 1));
    cr_assert_eq(world->round_state, DEMO_ROUND_PLAYING);
    world->players[0].x = DEMO_FX(ax);
    world->players[0].y = DEMO_FX(ay);
    world->players[1].x = DEMO_FX(bx);
    world->players[1].y = DEMO_FX(by);
}

static int count_events(const demo_world *world, demo_event_kind kind)
{
    int n = 0;
    for (uint32_t i = 0; i < world->event_count; i++) {
        n += world->events[i].kind == kind ? 1 : 0;
    }
    return n;
}

static int active_projectiles(const demo_world *world)
{
    int n = 0;
    for (int i = 0; i < DEMO_MAX_PROJECTILES; i++) {
        n += world->projectiles[i].active ? 1 : 0;
    }
    return n;
}

Test(demo_math, trig_and_sqrt)
{
    cr_assert_eq(demo_sin(0), 0);
    cr_assert_eq(demo_sin(16384), DEMO_FX_ONE);
    cr_assert_eq(demo_sin(32768), 0);
    cr_assert_eq(demo_sin(49152), -DEMO_FX_ONE);
    cr_assert_eq(demo_cos(0), DEMO_FX_ONE);
    cr_assert_eq(demo_cos(32768), -DEMO_FX_ONE);
    /* sin(30 deg) = 0.5 within one unit in the last place. */
    cr_assert(labs((long)demo_sin(65536 / 12) - DEMO_FX_ONE / 2) <= 2);
    /* atan2 inverts sin/cos all around the circle. */
    for (uint32_t a = 0; a < 65536; a += 97) {
        uint16_t back = demo_atan2(demo_sin((uint16_t)a), demo_cos((uint16_t)a));
        int16_t err = (int16_t)(uint16_t)(back - a);
        cr_assert(err >= -3 && err <= 3, "angle %u came back as %u", a, back);
    }
    cr_assert_eq(demo_atan2(0, 0), 0);
    cr_assert_eq(demo_atan2(0, -5), 32768);
    cr_assert_eq(demo_isqrt(0), 0);
    cr_assert_eq(demo_isqrt(99), 9);
    cr_assert_eq(demo_isqrt(100), 10);
    cr_assert_eq(demo_isqrt(0xffffffffffffffffull), 0xffffffffu);
}

Test(demo_sim, same_inputs_give_the_same_hash_for_10000_ticks)
{
    static demo_world a, b;
    demo_rng bots_a[DEMO_MAX_PLAYERS], bots_b[DEMO_MAX_PLAYERS];
    setup_bots(&a, bots_a, 8, 42, NULL);
    setup_bots(&b, bots_b, 8, 42, NULL);
    for (int chunk = 0; chunk < 100; chunk++) {
        run_bots(&a, bots_a, 100);
        run_bots(&b, bots_b, 100);
        cr_assert_eq(demo_world_hash(&a), demo_world_hash(&b), "diverged by tick %u", a.tick);
    }
    cr_assert_eq(a.tick, 10000);
    /* The state did evolve: several rounds were played. */
    cr_assert_geq(a.round_number, 2);
}

Test(demo_sim, copied_world_continues_identically)
{
    static demo_world a, copy;
    demo_rng bots[DEMO_MAX_PLAYERS];
    setup_bots(&a, bots, 6, 7, NULL);
    run_bots(&a, bots, 1000);
    copy = a;
    demo_rng bots_copy[DEMO_MAX_PLAYERS];
    memcpy(bots_copy, bots, sizeof bots);
    cr_assert_eq(demo_world_hash(&a), demo_world_hash(&copy));
    run_bots(&a, bots, 2000);
    run_bots(&copy, bots_copy, 2000);
    cr_assert_eq(demo_world_hash(&a), demo_world_hash(&copy));
    /* And the hash notices a one-unit change. */
    copy.players[2].x += 1;
    cr_assert_neq(demo_world_hash(&a), demo_world_hash(&copy));
}

Test(demo_sim, different_seeds_differ)
{
    static demo_world a, b;
    demo_rng bots_a[DEMO_MAX_PLAYERS], bots_b[DEMO_MAX_PLAYERS];
    setup_bots(&a, bots_a, 8, 1, NULL);
    setup_bots(&b, bots_b, 8, 2, NULL);
    run_bots(&a, bots_a, 600);
    run_bots(&b, bots_b, 600);
    cr_assert_neq(demo_world_hash(&a), demo_world_hash(&b));
}

Test(demo_sim, step_rejects_a_tick_out_of_order)
{
    demo_world w;
    demo_world_init(&w, NULL);
    cr_assert_not(demo_sim_step(&w, NULL, 2));
    cr_assert_eq(w.tick, 0);
    cr_assert(demo_sim_step(&w, NULL, 1));
    cr_assert_not(demo_sim_step(&w, NULL, 1));
    cr_assert_eq(w.tick, 1);
}

Test(demo_sim, players_join_leave_and_spawn_clear_of_walls)
{
    static demo_world w;
    demo_world_init(&w, NULL);
    cr_assert_not(demo_sim_add_player(&w, -1, "x"));
    cr_assert_not(demo_sim_add_player(&w, DEMO_MAX_PLAYERS, "x"));
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        cr_assert(demo_sim_add_player(&w, i, i == 3 ? "a-very-long-name-indeed" : NULL));
        cr_assert(w.players[i].alive);
        cr_assert_not(
            demo_arena_blocked(w.players[i].x, w.players[i].y, DEMO_FX(DEMO_SHIP_RADIUS)));
        for (int j = 0; j < i; j++) {
            cr_assert(w.players[i].x != w.players[j].x || w.players[i].y != w.players[j].y,
                      "players %d and %d share a spawn point", i, j);
        }
    }
    cr_assert_not(demo_sim_add_player(&w, 5, "again"));
    cr_assert_str_eq(w.players[0].name, "player 1");
    cr_assert_str_eq(w.players[15].name, "player 16");
    cr_assert_eq(strlen(w.players[3].name), DEMO_NAME_MAX - 1);
    cr_assert_eq(demo_world_player_count(&w), DEMO_MAX_PLAYERS);
    demo_sim_remove_player(&w, 5);
    demo_sim_remove_player(&w, 99);
    cr_assert_eq(demo_world_player_count(&w), DEMO_MAX_PLAYERS - 1);
}

Test(demo_sim, a_shot_hits_damages_and_kills)
{
    static demo_world w;
    setup_duel(&w, 300, 450, 500, 450);
    demo_input inputs[DEMO_MAX_PLAYERS] = {{0, 0}};
    inputs[0].buttons = DEMO_BTN_FIRE;
    inputs[0].aim = 0; /* towards +x, at bob */
    inputs[1].aim = 32768;
    int hits = 0;
    int shots = 0;
    for (uint32_t t = 2; t < 400 && w.players[1].alive; t++) {
        cr_assert(demo_sim_step(&w, inputs, t));
        shots += count_events(&w, DEMO_EVENT_SHOT);
        hits += count_events(&w, DEMO_EVENT_HIT);
        if (hits == 1 && count_events(&w, DEMO_EVENT_HIT) == 1) {
            cr_assert_eq(w.players[1].health, DEMO_SHIP_MAX_HEALTH - DEMO_PROJECTILE_DAMAGE);
            cr_assert_eq(w.players[1].last_attacker, 0);
        }
    }
    int needed = DEMO_SHIP_MAX_HEALTH / DEMO_PROJECTILE_DAMAGE;
    cr_assert_eq(hits, needed);
    cr_assert_geq(shots, needed);
    cr_assert_not(w.players[1].alive);
    cr_assert_eq(w.players[1].health, 0);
    cr_assert_eq(w.players[1].deaths, 1);
    cr_assert_eq(w.players[1].respawn_ticks, DEMO_RESPAWN_TICKS);
    cr_assert_eq(w.players[0].score, 1);
    cr_assert_eq(w.players[0].deaths, 0);
    cr_assert_eq(count_events(&w, DEMO_EVENT_KILL), 1);
    /* Bob ranks below Alice. */
    int order[DEMO_MAX_PLAYERS];
    cr_assert_eq(demo_world_scoreboard(&w, order), 2);
    cr_assert_eq(order[0], 0);
    cr_assert_eq(order[1], 1);
}

Test(demo_sim, the_weapon_respects_its_cooldown)
{
    static demo_world w;
    setup_duel(&w, 100, 120, 1500, 800);
    demo_input inputs[DEMO_MAX_PLAYERS] = {{0, 0}};
    inputs[0].buttons = DEMO_BTN_FIRE;
    inputs[0].aim = 16384; /* down, along the left side: open space */
    int shots = 0;
    for (uint32_t t = 2; t < 2 + 5 * DEMO_FIRE_COOLDOWN_TICKS; t++) {
        cr_assert(demo_sim_step(&w, inputs, t));
        shots += count_events(&w, DEMO_EVENT_SHOT);
    }
    cr_assert_eq(shots, 5);
}

Test(demo_sim, the_dead_respawn_after_the_timer)
{
    static demo_world w;
    setup_duel(&w, 300, 450, 500, 450);
    w.players[1].health = DEMO_PROJECTILE_DAMAGE;
    demo_input inputs[DEMO_MAX_PLAYERS] = {{0, 0}};
    inputs[0].buttons = DEMO_BTN_FIRE;
    uint32_t t = 2;
    for (; t < 100 && w.players[1].alive; t++) {
        cr_assert(demo_sim_step(&w, inputs, t));
    }
    cr_assert_not(w.players[1].alive);
    inputs[0].buttons = 0;
    for (int k = 0; k < DEMO_RESPAWN_TICKS - 1; k++, t++) {
        cr_assert(demo_sim_step(&w, inputs, t));
        cr_assert_not(w.players[1].alive, "respawned early, %d ticks after death", k + 1);
    }
    cr_assert(demo_sim_step(&w, inputs, t));
    cr_assert(w.players[1].alive);
    cr_assert_eq(w.players[1].health, DEMO_SHIP_MAX_HEALTH);
    cr_assert_eq(count_events(&w, DEMO_EVENT_RESPAWN), 1);
    cr_assert_not(demo_arena_blocked(w.players[1].x, w.players[1].y, DEMO_FX(DEMO_SHIP_RADIUS)));
    /* Score and deaths are kept within the round. */
    cr_assert_eq(w.players[0].score, 1);
    cr_assert_eq(w.players[1].deaths, 1);
}

Test(demo_sim, rounds_go_warmup_playing_over_and_reset)
{
    static demo_world w;
    demo_sim_config cfg;
    demo_sim_config_default(&cfg);
    cfg.warmup_ticks = 60;
    cfg.round_ticks = 120;
    cfg.over_ticks = 30;
    demo_world_init(&w, &cfg);
    cr_assert(demo_sim_add_player(&w, 0, "a"));
    cr_assert(demo_sim_add_player(&w, 1, "b"));
    cr_assert_eq(demo_world_seconds_left(&w), 1);
    demo_input inputs[DEMO_MAX_PLAYERS] = {{0, 0}};
    inputs[0].buttons = DEMO_BTN_FIRE | DEMO_BTN_RIGHT;
    uint32_t t = 1;
    for (; t < 60; t++) {
        cr_assert(demo_sim_step(&w, inputs, t));
        cr_assert_eq(w.round_state, DEMO_ROUND_WARMUP);
    }
    /* Warmup: ships move but weapons are cold. */
    cr_assert_eq(active_projectiles(&w), 0);
    cr_assert_neq(w.players[0].vx, 0);
    cr_assert(demo_sim_step(&w, inputs, t++));
    cr_assert_eq(w.round_state, DEMO_ROUND_PLAYING);
    cr_assert_eq(demo_world_seconds_left(&w), 2);
    cr_assert_eq(active_projectiles(&w), 1);
    w.players[0].score = 3;
    for (int k = 0; k < 119; k++) {
        cr_assert(demo_sim_step(&w, inputs, t++));
        cr_assert_eq(w.round_state, DEMO_ROUND_PLAYING);
    }
    cr_assert(demo_sim_step(&w, inputs, t++));
    cr_assert_eq(w.round_state, DEMO_ROUND_OVER);
    cr_assert_eq(active_projectiles(&w), 0);
    cr_assert_eq(w.players[0].score, 3);
    /* Frozen: neither the step nor prediction moves a ship. */
    demo_fx x = w.players[0].x;
    cr_assert(demo_sim_step(&w, inputs, t++));
    cr_assert_not(demo_sim_step_player(&w, 0, &inputs[0]));
    cr_assert_eq(w.players[0].x, x);
    for (int k = 0; k < 28; k++) {
        cr_assert(demo_sim_step(&w, inputs, t++));
        cr_assert_eq(w.round_state, DEMO_ROUND_OVER);
    }
    cr_assert(demo_sim_step(&w, inputs, t++));
    cr_assert_eq(w.round_state, DEMO_ROUND_WARMUP);
    cr_assert_eq(w.round_number, 2);
    cr_assert_eq(w.players[0].score, 0);
    cr_assert(w.players[0].alive && w.players[1].alive);
}

Test(demo_sim, projectiles_stop_at_walls)
{
    static demo_world w;
    setup_duel(&w, 100, 450, 1500, 800);
    demo_input inputs[DEMO_MAX_PLAYERS] = {{0, 0}};
    inputs[0].buttons = DEMO_BTN_FIRE;
    inputs[0].aim = 32768; /* left, into the border wall 76 units away */
    cr_assert(demo_sim_step(&w, inputs, 2));
    cr_assert_eq(active_projectiles(&w), 1);
    inputs[0].buttons = 0;
    int walls = 0;
    uint32_t t = 3;
    for (; t < 3 + 20 && active_projectiles(&w) > 0; t++) {
        cr_assert(demo_sim_step(&w, inputs, t));
        walls += count_events(&w, DEMO_EVENT_WALL);
    }
    cr_assert_eq(walls, 1);
    cr_assert_eq(active_projectiles(&w), 0);
    cr_assert_lt(t, 3 + 10, "a 76-unit flight at 12 units per tick took %u ticks", t - 3);

    /* Towards the centre block: stopped there, never reaching bob behind it. */
    setup_duel(&w, 650, 450, 900, 450);
    inputs[0].buttons = DEMO_BTN_FIRE;
    inputs[0].aim = 0;
    walls = 0;
    for (t = 2; t < 2 + DEMO_PROJECTILE_LIFE_TICKS * 2; t++) {
        cr_assert(demo_sim_step(&w, inputs, t));
        walls += count_events(&w, DEMO_EVENT_WALL);
        for (int i = 0; i < DEMO_MAX_PROJECTILES; i++) {
            if (w.projectiles[i].active) {
                cr_assert_lt(w.projectiles[i].x, DEMO_FX(760));
            }
        }
    }
    cr_assert_gt(walls, 5);
    cr_assert_eq(w.players[1].health, DEMO_SHIP_MAX_HEALTH);
}

Test(demo_sim, ships_slide_along_walls_and_never_enter_them)
{
    static demo_world w;
    setup_duel(&w, 60, 450, 1500, 800);
    demo_input inputs[DEMO_MAX_PLAYERS] = {{0, 0}};
    inputs[0].buttons = DEMO_BTN_LEFT | DEMO_BTN_DOWN;
    for (uint32_t t = 2; t < 200; t++) {
        cr_assert(demo_sim_step(&w, inputs, t));
        cr_assert_not(
            demo_arena_blocked(w.players[0].x, w.players[0].y, DEMO_FX(DEMO_SHIP_RADIUS)));
    }
    /* Pressed against the left wall, still sliding down. */
    cr_assert_lt(w.players[0].x, DEMO_FX(24 + DEMO_SHIP_RADIUS + 2));
    cr_assert_gt(w.players[0].y, DEMO_FX(600));
}

Test(demo_sim, prediction_of_one_ship_matches_the_server)
{
    static demo_world server, client;
    setup_duel(&server, 200, 450, 1500, 800);
    client = server;
    demo_rng rng;
    demo_rng_seed(&rng, 99);
    demo_input inputs[DEMO_MAX_PLAYERS] = {{0, 0}};
    for (uint32_t t = 2; t < 1200; t++) {
        inputs[0].buttons = (uint8_t)demo_rng_below(&rng, 32);
        inputs[0].aim = (uint16_t)demo_rng_below(&rng, 65536);
        cr_assert(demo_sim_step(&server, inputs, t));
        demo_sim_step_player(&client, 0, &inputs[0]);
        const demo_player *s = &server.players[0];
        const demo_player *c = &client.players[0];
        cr_assert(s->x == c->x && s->y == c->y && s->vx == c->vx && s->vy == c->vy, "tick %u", t);
        cr_assert_eq(s->fire_cooldown, c->fire_cooldown);
        cr_assert_eq(s->angle, c->angle);
    }
}

Test(demo_bots, bots_move_shoot_and_score_in_30_seconds)
{
    static demo_world w;
    demo_rng bots[DEMO_MAX_PLAYERS];
    setup_bots(&w, bots, 4, 5, NULL);
    demo_fx start_x[4], start_y[4];
    for (int i = 0; i < 4; i++) {
        start_x[i] = w.players[i].x;
        start_y[i] = w.players[i].y;
    }
    int moved_far[4] = {0};
    int shots = 0;
    int hits = 0;
    for (uint32_t t = 1; t <= 30 * DEMO_TICK_RATE_HZ; t++) {
        run_bots(&w, bots, 1);
        shots += count_events(&w, DEMO_EVENT_SHOT);
        hits += count_events(&w, DEMO_EVENT_HIT);
        for (int i = 0; i < 4; i++) {
            int64_t dx = ((int64_t)w.players[i].x - start_x[i]) / DEMO_FX_ONE;
            int64_t dy = ((int64_t)w.players[i].y - start_y[i]) / DEMO_FX_ONE;
            if (dx * dx + dy * dy > 100 * 100) {
                moved_far[i] = 1;
            }
        }
    }
    int total_score = 0;
    for (int i = 0; i < 4; i++) {
        cr_assert(moved_far[i], "bot %d never went 100 units from its spawn point", i);
        total_score += w.players[i].score;
    }
    cr_assert_gt(shots, 50);
    cr_assert_gt(hits, 10);
    cr_assert_gt(total_score, 0);
}

Test(demo_bots, a_bot_aims_at_the_nearest_enemy)
{
    static demo_world w;
    setup_duel(&w, 300, 450, 500, 450);
    cr_assert(demo_sim_add_player(&w, 2, "far"));
    w.players[2].x = DEMO_FX(1400);
    w.players[2].y = DEMO_FX(800);
    demo_rng rng;
    demo_rng_seed(&rng, 3);
    demo_input in = demo_bot_think(&w, 0, 2, &rng);
    int16_t err = (int16_t)in.aim; /* bob is straight along +x */
    cr_assert(err > -1000 && err < 1000, "aim %u", in.aim);
    cr_assert(in.buttons & DEMO_BTN_FIRE);
    /* Same state, same generator: same decision. */
    demo_rng_seed(&rng, 3);
    demo_input again = demo_bot_think(&w, 0, 2, &rng);
    cr_assert_eq(in.aim, again.aim);
    cr_assert_eq(in.buttons, again.buttons);
}
