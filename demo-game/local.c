/*
 * demo-game, practice mode: one human and N bots on the shared simulation,
 * no network. Also a headless bot-only run and a screenshot mode for tests.
 * The game rules live in sim.c and bot.c, the drawing in render.c; this file
 * only reads the command line, the keyboard and mouse, and paces the loop.
 * main.c hands the command line over when it has no network flag.
 */
#define _POSIX_C_SOURCE 200809L
#define SDL_MAIN_HANDLED
#include <SDL.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "modes.h"
#include "render.h"
#include "sim.h"

#define HUMAN_ID 0
#define SCREENSHOT_TICKS (6 * DEMO_TICK_RATE_HZ) /* 3 s warmup, then 3 s of fighting */
#define MAX_FRAME_TICKS 8                        /* catch-up bound after a stall */

typedef struct options {
    int bots;
    bool headless;
    double duration_s; /* 0: until quit (window), 30 s (headless) */
    const char *screenshot;
    uint64_t seed;
    bool netgraph;
    bool software;
    uint32_t round_s;
    const char *name;
} options;

/* Reads the practice flags into o. Returns 0 to run, 1 for a usage error
 * (reason and usage on stderr), 2 after --help. */
static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->round_s = 120;
    o->name = "you";
    uint32_t bots = 5;
    uint32_t duration_s = 0;
    bool practice = false; /* the default of this mode; accepted for clarity */
    const nci_cli_flag flags[] = {
        NCI_CLI_SWITCH_FLAG("practice", &practice, "offline practice against bots (the default)"),
        NCI_CLI_U32_FLAG("bots", &bots, 0, DEMO_MAX_PLAYERS - 1, "N",
                         "computer players besides you (default 5, at most 63)"),
        NCI_CLI_SWITCH_FLAG("headless", &o->headless,
                            "no window: bots only, as fast as possible; prints a\nsummary"),
        NCI_CLI_U32_FLAG("duration", &duration_s, 0, 86400, "S",
                         "stop after S seconds (headless: game time, default 30)"),
        NCI_CLI_TEXT_FLAG("screenshot", &o->screenshot, "F",
                          "play 6 s of game time with bots, save F (.png or\n.bmp), exit"),
        NCI_CLI_U64_FLAG("seed", &o->seed, 0, UINT64_MAX, "N",
                         "seed of the world and the bots (default 1)"),
        NCI_CLI_U32_FLAG("round", &o->round_s, 1, 3600, "S",
                         "round length in seconds (default 120)"),
        NCI_CLI_TEXT_FLAG("name", &o->name, "NAME", "your name (default \"you\")"),
        NCI_CLI_SWITCH_FLAG("netgraph", &o->netgraph,
                            "start with the net graph shown (F1 toggles)"),
        NCI_CLI_SWITCH_FLAG("software", &o->software, "use SDL's software renderer"),
    };
    const nci_cli_spec spec = {
        .program = "demo-game",
        .usage_line =
            "usage: demo-game [--practice] [options]   (offline practice against bots)\n"
            "       demo-game --connect HOST[:PORT] [options]   (see --help with --connect)\n"
            "       demo-game --host [options]   (host a LAN game and play in it)",
        .epilogue = "keys: WASD/arrows move, mouse aims, click or space fires, Tab scoreboard,\n"
                    "      F1 net graph, Esc quits\n",
        .flags = flags,
        .flag_count = sizeof flags / sizeof flags[0],
    };
    nci_cli_status status = nci_cli_parse(&spec, argc, argv, stdout, stderr);
    if (status != NCI_CLI_OK) {
        return status == NCI_CLI_HELP ? 2 : 1;
    }
    o->bots = (int)bots;
    o->duration_s = (double)duration_s;
    return 0;
}

typedef struct game {
    demo_world world;
    demo_world prev; /* the world one tick earlier, for smooth drawing */
    demo_rng bots[DEMO_MAX_PLAYERS];
    bool human; /* slot HUMAN_ID is played from the keyboard */
} game;

static void game_init(game *g, const options *o, bool human)
{
    demo_sim_config cfg;
    demo_sim_config_default(&cfg);
    cfg.seed = o->seed;
    cfg.round_ticks = o->round_s * DEMO_TICK_RATE_HZ;
    demo_world_init(&g->world, &cfg);
    g->human = human;
    int first_bot = human ? 1 : 0;
    if (human) {
        demo_sim_add_player(&g->world, HUMAN_ID, o->name);
    }
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        demo_rng_seed(&g->bots[i], o->seed * 7919u + (uint64_t)i);
    }
    static const char *const bot_names[] = {"ada",    "bit",  "cog", "dot",  "echo", "flux",
                                            "glitch", "hex",  "ion", "jolt", "kilo", "lumen",
                                            "mux",    "nano", "ohm", "pixel"};
    int total = o->bots + first_bot;
    if (total > DEMO_MAX_PLAYERS) {
        total = DEMO_MAX_PLAYERS;
    }
    for (int i = first_bot; i < total; i++) {
        char name[DEMO_NAME_MAX];
        snprintf(name, sizeof name, "bot %s", bot_names[i]);
        demo_sim_add_player(&g->world, i, name);
    }
    g->prev = g->world;
}

/* One tick: bots think, the human's input (if any) is used for its slot. */
static void game_tick(game *g, const demo_input *human_input)
{
    demo_input inputs[DEMO_MAX_PLAYERS];
    memset(inputs, 0, sizeof inputs);
    uint32_t tick = g->world.tick + 1;
    for (int i = 0; i < DEMO_MAX_PLAYERS; i++) {
        if (!g->world.players[i].active) {
            continue;
        }
        if (i == HUMAN_ID && g->human && human_input) {
            inputs[i] = *human_input;
        } else {
            inputs[i] = demo_bot_think(&g->world, i, tick, &g->bots[i]);
        }
    }
    g->prev = g->world;
    demo_sim_step(&g->world, inputs, tick);
}

static int run_headless(const options *o)
{
    static game g;
    game_init(&g, o, false);
    double secs = o->duration_s > 0 ? o->duration_s : 30.0;
    uint32_t ticks = (uint32_t)(secs * DEMO_TICK_RATE_HZ);
    uint64_t shots = 0;
    uint64_t kills = 0;
    for (uint32_t t = 0; t < ticks && !nci_stop_requested(); t++) {
        game_tick(&g, NULL);
        for (uint32_t e = 0; e < g.world.event_count; e++) {
            shots += g.world.events[e].kind == DEMO_EVENT_SHOT;
            kills += g.world.events[e].kind == DEMO_EVENT_KILL;
        }
    }
    printf(
        "{\"ticks\": %u, \"round\": %u, \"shots\": %llu, \"kills\": %llu, \"hash\": \"%016llx\", \"scores\": [",
        (unsigned)g.world.tick, (unsigned)g.world.round_number, (unsigned long long)shots,
        (unsigned long long)kills, (unsigned long long)demo_world_hash(&g.world));
    int order[DEMO_MAX_PLAYERS];
    int n = demo_world_scoreboard(&g.world, order);
    for (int k = 0; k < n; k++) {
        const demo_player *p = &g.world.players[order[k]];
        printf("%s{\"id\": %d, \"name\": \"%s\", \"score\": %d, \"deaths\": %d}", k ? ", " : "",
               order[k], p->name, p->score, p->deaths);
    }
    printf("]}\n");
    return 0;
}

demo_input demo_read_human_input(const demo_renderer *r, const demo_player *me, uint16_t *aim)
{
    const Uint8 *keys = SDL_GetKeyboardState(NULL);
    int mx = 0;
    int my = 0;
    Uint32 mouse = SDL_GetMouseState(&mx, &my);
    demo_input in = {0, 0};
    if (keys[SDL_SCANCODE_W] || keys[SDL_SCANCODE_UP]) {
        in.buttons |= DEMO_BTN_UP;
    }
    if (keys[SDL_SCANCODE_S] || keys[SDL_SCANCODE_DOWN]) {
        in.buttons |= DEMO_BTN_DOWN;
    }
    if (keys[SDL_SCANCODE_A] || keys[SDL_SCANCODE_LEFT]) {
        in.buttons |= DEMO_BTN_LEFT;
    }
    if (keys[SDL_SCANCODE_D] || keys[SDL_SCANCODE_RIGHT]) {
        in.buttons |= DEMO_BTN_RIGHT;
    }
    if (keys[SDL_SCANCODE_SPACE] || (mouse & SDL_BUTTON(SDL_BUTTON_LEFT))) {
        in.buttons |= DEMO_BTN_FIRE;
    }
    float ax = 0;
    float ay = 0;
    demo_render_window_to_arena(r, mx, my, &ax, &ay);
    float dx = ax - (float)me->x / DEMO_FX_ONE;
    float dy = ay - (float)me->y / DEMO_FX_ONE;
    if (dx * dx + dy * dy > 4.0f) {
        /* Quantised here, once: from then on the aim is an integer, so the
         * server and every replay see exactly the same command. */
        float turns = SDL_atan2f(dy, dx) / 6.2831853f;
        *aim = (uint16_t)(int32_t)SDL_floorf(turns * 65536.0f + 0.5f);
    }
    in.aim = *aim;
    return in;
}

static demo_netgraph_figures local_figures(void)
{
    demo_netgraph_figures f;
    memset(&f, 0, sizeof f);
    f.snapshot_rate_hz = DEMO_TICK_RATE_HZ; /* the local view sees every tick */
    f.link_preset = "local (no network)";
    return f;
}

static int run_window(const options *o)
{
    static game g;
    bool screenshot_mode = o->screenshot != NULL;
    game_init(&g, o, true);
    demo_render_config rc;
    demo_render_config_default(&rc);
    rc.title = "netcore demo - local game";
    rc.software = o->software;
    rc.vsync = !screenshot_mode;
    demo_renderer *r = demo_render_create(&rc);
    if (!r) {
        return 1;
    }
    if (!demo_render_font_path(r)) {
        fprintf(stderr,
                "demo-game: DejaVuSans.ttf not found (install fonts-dejavu-core or set DEMO_FONT); "
                "using the built-in bitmap font\n");
    }
    char status[64];
    snprintf(status, sizeof status, "local game, %d bots", demo_world_player_count(&g.world) - 1);
    demo_render_view view = {HUMAN_ID, 1.0f, false, o->netgraph, status};
    demo_netgraph_figures figures = local_figures();
    int rc_exit = 0;

    if (screenshot_mode) {
        /* Game time, not wall time: the same seed gives the same picture.
         * The human slot is flown by the bot AI so the picture has action. */
        g.human = false;
        for (int t = 0; t < SCREENSHOT_TICKS && !nci_stop_requested(); t++) {
            game_tick(&g, NULL);
            demo_render_note_events(r, &g.world);
            demo_render_netgraph_push(r, &figures);
        }
        demo_render_frame(r, &g.prev, &g.world, &view);
        rc_exit = demo_render_screenshot(r, o->screenshot) ? 0 : 1;
        demo_render_present(r);
        demo_render_destroy(r);
        return rc_exit;
    }

    const Uint64 freq = SDL_GetPerformanceFrequency();
    const Uint64 tick_len = freq / DEMO_TICK_RATE_HZ;
    const Uint64 start = SDL_GetPerformanceCounter();
    Uint64 last = start;
    Uint64 accumulator = 0;
    uint16_t aim = g.world.players[HUMAN_ID].angle;
    const bool vsync = demo_render_has_vsync(r);
    bool running = true;
    while (running && !nci_stop_requested()) {
        SDL_Event ev;
        while (SDL_PollEvent(&ev)) {
            if (ev.type == SDL_QUIT) {
                running = false;
            } else if (ev.type == SDL_KEYDOWN && !ev.key.repeat) {
                if (ev.key.keysym.sym == SDLK_ESCAPE) {
                    running = false;
                } else if (ev.key.keysym.sym == SDLK_F1) {
                    view.show_netgraph = !view.show_netgraph;
                } else if (ev.key.keysym.sym == SDLK_TAB) {
                    view.show_scoreboard = true;
                }
            } else if (ev.type == SDL_KEYUP && ev.key.keysym.sym == SDLK_TAB) {
                view.show_scoreboard = false;
            }
        }
        Uint64 now = SDL_GetPerformanceCounter();
        accumulator += now - last;
        last = now;
        if (accumulator > tick_len * MAX_FRAME_TICKS) {
            accumulator = tick_len * MAX_FRAME_TICKS; /* after a stall, skip rather than spiral */
        }
        while (accumulator >= tick_len) {
            demo_input in = demo_read_human_input(r, &g.world.players[HUMAN_ID], &aim);
            game_tick(&g, &in);
            demo_render_note_events(r, &g.world);
            accumulator -= tick_len;
        }
        demo_render_netgraph_push(r, &figures);
        view.alpha = (float)accumulator / (float)tick_len;
        demo_render_frame(r, &g.prev, &g.world, &view);
        demo_render_present(r);
        if (o->duration_s > 0 && (double)(now - start) / (double)freq >= o->duration_s) {
            running = false;
        }
        /* Without vsync, or when presenting did not wait (headless video
         * drivers claim vsync and return at once), sleep to the next tick
         * instead of spinning. */
        Uint64 frame_ticks = SDL_GetPerformanceCounter() - now;
        if (!vsync || frame_ticks < freq / 500) {
            Uint64 spent = frame_ticks + accumulator;
            if (spent < tick_len) {
                SDL_Delay((Uint32)((tick_len - spent) * 1000 / freq));
            }
        }
    }
    demo_render_destroy(r);
    return rc_exit;
}

int demo_local_main(int argc, char **argv)
{
    options o;
    int parsed = parse_args(argc, argv, &o);
    if (parsed != 0) {
        return parsed == 2 ? 0 : 2;
    }
    nci_stop_signals_install();
    if (o.headless) {
        return run_headless(&o);
    }
    /* Our own handlers above turn Ctrl-C into a clean exit; keep SDL's off. */
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    SDL_SetMainReady();
    if (SDL_Init(0) != 0) {
        fprintf(stderr, "demo-game: SDL: %s\n", SDL_GetError());
        return 1;
    }
    int rc = run_window(&o);
    SDL_Quit();
    return rc;
}
