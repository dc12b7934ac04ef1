/*
 * The demo's lobby menus driven headlessly: SDL's dummy video driver, a
 * software renderer drawing into a surface, synthetic SDL events, and a real
 * netcore_lobby_server on 127.0.0.1 (ephemeral ports) in the same process.
 * Every wait is a bounded loop; nothing asserts on timing.
 */
#define _POSIX_C_SOURCE 200809L
#include "demo_menu_rig.h"

/* ------------------------------------------------------------------ */
/* Tests                                                               */
/* ------------------------------------------------------------------ */

static bool member_ready(rig *r, const void *arg)
{
    const netcore_lobby_room_state *room = demo_menu_room(r->seats[*(const int *)arg].menu);
    return room && room->member_count == 1 && room->members[0].ready;
}

static bool match_started(rig *r, const void *arg)
{
    demo_menu_outcome *out = (demo_menu_outcome *)arg;
    demo_menu_status status = demo_menu_result(r->seats[0].menu, out);
    if (status == DEMO_MENU_MATCH_STARTED) {
        r->held = out->lobby;
    }
    return status == DEMO_MENU_MATCH_STARTED;
}

static bool match_over(rig *r, const void *arg)
{
    (void)arg;
    return demo_menu_match_ended(r->seats[0].menu);
}

Test(demo_menu, discover_create_ready_start_and_resume)
{
    rig r;
    rig_open(&r, 1, 0);
    demo_menu *menu = r.seats[0].menu;
    demo_menu_resume(menu, NULL); /* nothing was handed over: ignored */
    cr_assert_eq(demo_menu_current_screen(menu), DEMO_MENU_SCREEN_NAME);

    /* Name: typed, corrected with Backspace, Enter continues. */
    type_text(menu, "alicex");
    press_key(menu, SDLK_BACKSPACE);
    press_key(menu, SDLK_RETURN);
    cr_assert_eq(demo_menu_current_screen(menu), DEMO_MENU_SCREEN_BROWSER);

    /* The lobby answers discovery; clicking its row fills the address. */
    widget_wait lobby_row = {0, "test lobby"};
    cr_assert(pump_until(&r, widget_shown, &lobby_row), "the lobby was not discovered");
    assert_drawn(&r.seats[0], "browser-found");
    click(menu, "test lobby");
    click(menu, "Connect");
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOMS);

    /* Create a 4-player room (the name is prefilled from the nickname). */
    clear_field(menu, "Max players (1-32)");
    type_text(menu, "4x"); /* the letter is refused by the digit field */
    click(menu, "Create");
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOM);
    const netcore_lobby_room_state *room = demo_menu_room(menu);
    cr_assert_not_null(room);
    cr_assert_str_eq(room->name, "alice's room");
    assert_drawn(&r.seats[0], "room-alone");
    cr_assert_eq(room->max_players, 4);
    cr_assert_str_eq(room->members[0].nickname, "alice");

    /* Start is refused until everyone is ready. */
    click(menu, "Start match");
    int seat0 = 0;
    click(menu, "Ready");
    cr_assert(pump_until(&r, member_ready, &seat0), "ready flag not confirmed");
    click(menu, "Start match");
    demo_menu_outcome out;
    cr_assert(pump_until(&r, match_started, &out), "no match start");
    cr_assert_not_null(out.lobby);
    cr_assert_gt(out.match.token_size_bytes, 0);
    cr_assert_neq(out.match.match_id, 0);
    cr_assert_eq(out.match.server_address.port, GAME_PORT);
    cr_assert_eq(out.player_count, 1);
    cr_assert_str_eq(out.players[0].nickname, "alice");
    cr_assert_eq(out.players[0].client_id, out.local_client_id);
    cr_assert_str_eq(out.nickname, "alice");
    cr_assert(netcore_address_equal(&out.lobby_address, &r.lobby_address));

    /* Handed over once: later calls report IN_MATCH without the client. */
    demo_menu_outcome again;
    cr_assert_eq(demo_menu_result(menu, &again), DEMO_MENU_IN_MATCH);
    cr_assert_null(again.lobby);
    assert_drawn(&r.seats[0], "in match");
    SDL_Event key_during_match;
    memset(&key_during_match, 0, sizeof key_during_match);
    key_during_match.type = SDL_KEYDOWN;
    key_during_match.key.keysym.sym = SDLK_ESCAPE;
    cr_assert_not(demo_menu_handle_event(menu, &key_during_match),
                  "the menu took input during the match");

    /* The lobby ends the match while the caller runs the client; the menu
     * hears of it and returns to the room with everyone unready. */
    cr_assert_eq(netcore_lobby_server_end_match(r.server, out.match.match_id), NETCORE_OK);
    cr_assert(pump_until(&r, match_over, NULL), "match end not seen");
    demo_menu_resume(menu, r.held);
    r.held = NULL;
    cr_assert_eq(demo_menu_current_screen(menu), DEMO_MENU_SCREEN_ROOM);
    cr_assert_eq(demo_menu_result(menu, NULL), DEMO_MENU_RUNNING);
    room = demo_menu_room(menu);
    cr_assert_not_null(room);
    cr_assert_not(room->members[0].ready);
    rig_close(&r);
}

typedef struct chat_wait {
    int seat;
    const char *line;
} chat_wait;

static bool chat_seen(rig *r, const void *arg)
{
    const chat_wait *w = arg;
    const char *line;
    for (size_t i = 0; (line = demo_menu_chat_line(r->seats[w->seat].menu, i)) != NULL; i++) {
        if (strcmp(line, w->line) == 0) {
            return true;
        }
    }
    return false;
}

static bool both_in_room(rig *r, const void *arg)
{
    (void)arg;
    const netcore_lobby_room_state *a = demo_menu_room(r->seats[0].menu);
    const netcore_lobby_room_state *b = demo_menu_room(r->seats[1].menu);
    return a && b && a->member_count == 2 && b->member_count == 2;
}

static bool bob_ready_for_alice(rig *r, const void *arg)
{
    (void)arg;
    const netcore_lobby_room_state *room = demo_menu_room(r->seats[0].menu);
    for (uint8_t i = 0; room && i < room->member_count; i++) {
        if (strcmp(room->members[i].nickname, "bob") == 0 && room->members[i].ready) {
            return true;
        }
    }
    return false;
}

Test(demo_menu, two_players_share_a_room_chat_and_kick)
{
    rig r;
    rig_open(&r, 2, 0);
    demo_menu *alice = r.seats[0].menu, *bob = r.seats[1].menu;
    connect_seat(&r, 0, "alice");
    clear_field(alice, "Room name");
    type_text(alice, "duel");
    press_key(alice, SDLK_TAB); /* max players */
    press_key(alice, SDLK_TAB); /* password */
    type_text(alice, "s3cret");
    press_key(alice, SDLK_RETURN);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOM);

    connect_seat(&r, 1, "bob");
    widget_wait listed = {1, "duel"};
    cr_assert(pump_until(&r, widget_shown, &listed), "bob does not see the room");
    assert_drawn(&r.seats[1], "rooms-listed");
    click(bob, "duel");
    click(bob, "Join"); /* without the password */
    int seat1 = 1;
    cr_assert(pump_until(&r, has_message, &seat1), "no answer to a join without the password");
    cr_assert_eq(demo_menu_current_screen(bob), DEMO_MENU_SCREEN_ROOMS);
    click(bob, "Password (optional)");
    type_text(bob, "s3cret");
    click(bob, "Join");
    cr_assert(pump_until(&r, both_in_room, NULL), "the two menus do not see each other");
    cr_assert_eq(demo_menu_current_screen(bob), DEMO_MENU_SCREEN_ROOM);

    type_text(alice, "hello bob");
    press_key(alice, SDLK_RETURN);
    chat_wait to_bob = {1, "alice: hello bob"};
    cr_assert(pump_until(&r, chat_seen, &to_bob), "bob did not get the chat");
    type_text(bob, "hi alice");
    click(bob, "Send");
    chat_wait to_alice = {0, "bob: hi alice"};
    cr_assert(pump_until(&r, chat_seen, &to_alice), "alice did not get the chat");
    chat_wait joined = {0, "* bob joined"};
    cr_assert(chat_seen(&r, &joined));

    /* Bob is ready, Alice not: her Start button stays disabled. */
    click(bob, "Ready");
    cr_assert(pump_until(&r, bob_ready_for_alice, NULL), "alice does not see bob ready");
    click(alice, "Start match");

    /* The room screen, as the documentation shows it. */
    type_text(alice, "gl hf");
    assert_drawn(&r.seats[0], "room");
    save_png(r.seats[0].surface, DEMO_MENU_SCREENSHOT_DIR "/menu.png");

    /* Only the owner has Kick buttons; kicking sends Bob back to the rooms. */
    SDL_Rect rect;
    cr_assert_not(demo_menu_find_widget(bob, "Kick", &rect));
    click(alice, "Kick");
    wait_screen(&r, 1, DEMO_MENU_SCREEN_ROOMS);
    cr_assert_str_eq(demo_menu_message(bob), "You were kicked from the room");
    cr_assert_null(demo_menu_room(bob));
    cr_assert_eq(demo_menu_result(alice, NULL), DEMO_MENU_RUNNING);
    rig_close(&r);
}

typedef struct reconnect_watch {
    bool saw_reconnecting;
} reconnect_watch;

static bool resumed_into_room(rig *r, const void *arg)
{
    reconnect_watch *w = (reconnect_watch *)arg;
    demo_menu_screen s = demo_menu_current_screen(r->seats[0].menu);
    if (s == DEMO_MENU_SCREEN_RECONNECTING) {
        w->saw_reconnecting = true;
    }
    return w->saw_reconnecting && s == DEMO_MENU_SCREEN_ROOM &&
           strcmp(demo_menu_message(r->seats[0].menu), "Reconnected to the lobby") == 0;
}

Test(demo_menu, dropped_connection_resumes_the_room)
{
    /* The server closes idle connections after 400 ms and the menu sends
     * nothing in a quiet room, so the connection drops; the seat survives
     * within the reconnect grace and the menu resumes it. */
    rig r;
    rig_open(&r, 1, 400);
    connect_seat(&r, 0, "carol");
    press_key(r.seats[0].menu, SDLK_RETURN);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOM);
    uint32_t room_id = demo_menu_room(r.seats[0].menu)->room_id;
    reconnect_watch watch = {false};
    cr_assert(pump_until(&r, resumed_into_room, &watch), "no resumed session (screen %d, \"%s\")",
              (int)demo_menu_current_screen(r.seats[0].menu), demo_menu_message(r.seats[0].menu));
    cr_assert_eq(demo_menu_room(r.seats[0].menu)->room_id, room_id);
    netcore_lobby_server_stats stats;
    cr_assert_eq(netcore_lobby_server_get_stats(r.server, &stats), NETCORE_OK);
    cr_assert_geq(stats.reconnects, 1);
    rig_close(&r);
}

Test(demo_menu, every_screen_draws_and_errors_lead_back)
{
    rig r;
    rig_open(&r, 1, 0);
    seat *s = &r.seats[0];
    assert_drawn(s, "name");
    type_text(s->menu, "dave");
    press_key(s->menu, SDLK_RETURN);
    assert_drawn(s, "browser");

    /* A bad address is refused on the spot. */
    clear_field(s->menu, "Lobby address (host or host:port)");
    type_text(s->menu, "1.2.3.4:99999");
    click(s->menu, "Connect");
    cr_assert_eq(demo_menu_current_screen(s->menu), DEMO_MENU_SCREEN_BROWSER);
    cr_assert_neq(demo_menu_message(s->menu)[0], '\0');

    /* Nothing listens on the game port's TCP side: connecting fails into the
     * error screen, whose Back returns to the browser. */
    clear_field(s->menu, "Lobby address (host or host:port)");
    type_text(s->menu, "127.0.0.1:1");
    click(s->menu, "Connect");
    cr_assert_eq(demo_menu_current_screen(s->menu), DEMO_MENU_SCREEN_CONNECTING);
    assert_drawn(s, "connecting");
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ERROR);
    assert_drawn(s, "error");
    press_key(s->menu, SDLK_RETURN);
    cr_assert_eq(demo_menu_current_screen(s->menu), DEMO_MENU_SCREEN_BROWSER);

    /* Keyboard only: Down picks the discovered lobby, Enter connects. */
    widget_wait lobby_row = {0, "test lobby"};
    cr_assert(pump_until(&r, widget_shown, &lobby_row), "the lobby was not discovered");
    press_key(s->menu, SDLK_DOWN);
    press_key(s->menu, SDLK_RETURN);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOMS);
    assert_drawn(s, "rooms");
    press_key(s->menu, SDLK_RETURN);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOM);
    assert_drawn(s, "room");

    /* The lobby goes away: the menu tries to resume, then reports it. */
    netcore_lobby_server_destroy(r.server);
    r.server = NULL;
    start_server(&r, 0); /* a fresh lobby elsewhere keeps pump_until running */
    wait_screen(&r, 0, DEMO_MENU_SCREEN_RECONNECTING);
    assert_drawn(s, "reconnecting");
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ERROR);
    click(s->menu, "Back");
    cr_assert_eq(demo_menu_current_screen(s->menu), DEMO_MENU_SCREEN_BROWSER);

    /* Escape walks back to the name screen, and from there quits. */
    press_key(s->menu, SDLK_ESCAPE);
    cr_assert_eq(demo_menu_current_screen(s->menu), DEMO_MENU_SCREEN_NAME);
    cr_assert_eq(demo_menu_result(s->menu, NULL), DEMO_MENU_RUNNING);
    press_key(s->menu, SDLK_ESCAPE);
    cr_assert_eq(demo_menu_result(s->menu, NULL), DEMO_MENU_QUIT);
    rig_close(&r);
}

static void ignore_event(void *user, const netcore_lobby_event *ev)
{
    (void)user;
    (void)ev;
}

/* How many of the rooms r00..r16 the menu lists now. */
static int rooms_listed(demo_menu *menu)
{
    int count = 0;
    for (int i = 0; i < 17; i++) {
        char name[8];
        SDL_Rect rect;
        snprintf(name, sizeof name, "r%02d", i);
        count += demo_menu_find_widget(menu, name, &rect);
    }
    return count;
}

static bool rooms_listed_is(rig *r, const void *arg)
{
    return rooms_listed(r->seats[0].menu) == *(const int *)arg;
}

Test(demo_menu, room_list_pages)
{
    /* 17 rooms, one page holds NETCORE_LOBBY_LIST_MAX (16). */
    rig r;
    rig_open(&r, 1, 0);
    netcore_lobby_client *owners[17];
    netcore_lobby_client_config cfg;
    netcore_lobby_client_config_default(&cfg);
    cfg.on_event = ignore_event;
    for (int i = 0; i < 17; i++) {
        char name[8];
        snprintf(name, sizeof name, "r%02d", i);
        cr_assert_eq(netcore_lobby_client_create(&cfg, &owners[i]), NETCORE_OK);
        cr_assert_eq(netcore_lobby_client_connect(owners[i], &r.lobby_address, name, now_us()),
                     NETCORE_OK);
        netcore_lobby_room_params params;
        memset(&params, 0, sizeof params);
        snprintf(params.name, sizeof params.name, "%s", name);
        params.max_players = 2;
        cr_assert_eq(netcore_lobby_client_create_room(owners[i], &params), NETCORE_OK);
    }
    int rooms = 0;
    for (int i = 0; i < 400 && rooms < 17; i++) {
        netcore_lobby_server_update(r.server, now_us(), 2);
        for (int c = 0; c < 17; c++) {
            netcore_lobby_client_update(owners[c], now_us());
        }
        netcore_lobby_server_stats stats;
        netcore_lobby_server_get_stats(r.server, &stats);
        rooms = (int)stats.rooms;
    }
    cr_assert_eq(rooms, 17);

    connect_seat(&r, 0, "frank");
    demo_menu *menu = r.seats[0].menu;
    int full_page = NETCORE_LOBBY_LIST_MAX, last_page = 17 - NETCORE_LOBBY_LIST_MAX;
    cr_assert(pump_until(&r, rooms_listed_is, &full_page), "first page not listed");
    assert_drawn(&r.seats[0], "rooms-paged");
    click(menu, "Next");
    cr_assert(pump_until(&r, rooms_listed_is, &last_page), "second page not listed");
    press_key(menu, SDLK_PAGEUP);
    cr_assert(pump_until(&r, rooms_listed_is, &full_page), "back to the first page");
    for (int i = 0; i < 17; i++) {
        netcore_lobby_client_destroy(owners[i]);
    }
    rig_close(&r);
}

static bool host_on_test_server(void *user, uint16_t *out_lobby_port, uint8_t *out_pin,
                                bool *out_tls, char *error, size_t error_size)
{
    const rig *r = user;
    (void)error;
    (void)error_size;
    (void)out_pin;
    *out_tls = false;
    *out_lobby_port = r->lobby_address.port;
    return true;
}

static bool host_fails(void *user, uint16_t *out_lobby_port, uint8_t *out_pin, bool *out_tls,
                       char *error, size_t error_size)
{
    (void)user;
    (void)out_lobby_port;
    (void)out_pin;
    (void)out_tls;
    snprintf(error, error_size, "%s", "port in use");
    return false;
}

Test(demo_menu, host_button_connects_to_the_embedded_lobby)
{
    rig r;
    rig_open(&r, 0, 0);
    for (int attempt = 0; attempt < 2; attempt++) {
        seat *s = &r.seats[attempt];
        s->surface = SDL_CreateRGBSurfaceWithFormat(0, DEMO_LOGICAL_W, DEMO_LOGICAL_H, 32,
                                                    SDL_PIXELFORMAT_RGBA32);
        s->renderer = SDL_CreateSoftwareRenderer(s->surface);
        s->text = demo_text_create(s->renderer, NULL);
        demo_menu_config cfg;
        demo_menu_config_default(&cfg);
        cfg.renderer = s->renderer;
        cfg.text = s->text;
        cfg.player_name = "erin";
        cfg.host = attempt == 0 ? host_fails : host_on_test_server;
        cfg.host_user = &r;
        s->menu = demo_menu_create(&cfg);
        cr_assert_not_null(s->menu);
        press_key(s->menu, SDLK_RETURN);
        click(s->menu, "Host");
    }
    cr_assert_eq(demo_menu_current_screen(r.seats[0].menu), DEMO_MENU_SCREEN_BROWSER);
    cr_assert_str_eq(demo_menu_message(r.seats[0].menu), "Cannot host: port in use");
    wait_screen(&r, 1, DEMO_MENU_SCREEN_ROOMS);
    rig_close(&r);
}

Test(demo_menu, config_without_renderer_is_refused)
{
    demo_menu_config cfg;
    demo_menu_config_default(&cfg);
    cr_assert_null(demo_menu_create(&cfg));
    demo_menu_destroy(NULL);
}
