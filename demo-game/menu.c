/* Lobby menus: fields, screens, actions and input; see menu.h. The lobby
 * side is in menu_lobby.c, layout and drawing in menu_draw.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "menu_internal.h"
#include "sim.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static void *menu_alloc(const netcore_allocator *a, size_t size)
{
    return a->alloc ? a->alloc(a->user, size) : malloc(size);
}

static void menu_free(const netcore_allocator *a, void *p)
{
    if (a->alloc) {
        a->free(a->user, p);
    } else {
        free(p);
    }
}

void demo_menu_set_message(demo_menu *m, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->message, sizeof m->message, fmt, ap);
    va_end(ap);
    m->message_is_error = error;
}

void demo_menu_chat_push(demo_menu *m, const char *fmt, ...)
{
    size_t slot = (m->chat_first + m->chat_count) % MENU_CHAT_LINES;
    if (m->chat_count == MENU_CHAT_LINES) {
        m->chat_first = (m->chat_first + 1) % MENU_CHAT_LINES; /* drop the oldest */
    } else {
        m->chat_count++;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->chat[slot], sizeof m->chat[slot], fmt, ap);
    va_end(ap);
}

/* Length of the UTF-8 sequence starting with byte b (1 for stray bytes). */
static size_t utf8_len(unsigned char b)
{
    if (b >= 0xF0) {
        return 4;
    }
    if (b >= 0xE0) {
        return 3;
    }
    return b >= 0xC0 ? 2 : 1;
}

/* Appends whole UTF-8 characters of utf8 to the field while they fit;
 * control characters (and non-digits in digit fields) are dropped. */
static void field_append(menu_field *f, const char *utf8)
{
    size_t len = strlen(f->text);
    for (const char *p = utf8; *p;) {
        size_t n = utf8_len((unsigned char)*p);
        for (size_t k = 1; k < n; k++) {
            if (p[k] == '\0') {
                return; /* truncated sequence */
            }
        }
        bool ok = n > 1 || ((unsigned char)*p >= 0x20 && *p != 0x7F);
        if (f->digits_only && (*p < '0' || *p > '9')) {
            ok = false;
        }
        if (ok) {
            if (len + n > f->max_bytes) {
                break;
            }
            memcpy(f->text + len, p, n);
            len += n;
            f->text[len] = '\0';
        }
        p += n;
    }
}

static void field_set(menu_field *f, const char *utf8)
{
    f->text[0] = '\0';
    field_append(f, utf8);
}

static void field_backspace(menu_field *f)
{
    size_t len = strlen(f->text);
    while (len > 0) {
        len--;
        if (((unsigned char)f->text[len] & 0xC0) != 0x80) {
            break; /* reached the first byte of the last character */
        }
    }
    f->text[len] = '\0';
}

static void init_field(demo_menu *m, menu_field_id id, const char *caption, size_t max_bytes,
                       const char *text)
{
    menu_field *f = &m->fields[id];
    f->caption = caption;
    f->max_bytes = max_bytes < sizeof f->text - 1 ? max_bytes : sizeof f->text - 1;
    field_set(f, text);
}

/* ------------------------------------------------------------------ */
/* Screens                                                             */
/* ------------------------------------------------------------------ */

void demo_menu_go_screen(demo_menu *m, demo_menu_screen screen)
{
    if ((m->match_ready || m->handed_over) && screen != DEMO_MENU_SCREEN_IN_MATCH) {
        return; /* the match owns the screen until demo_menu_resume */
    }
    m->screen = screen;
    switch (screen) {
    case DEMO_MENU_SCREEN_NAME:
        m->focus = FIELD_NAME;
        break;
    case DEMO_MENU_SCREEN_BROWSER:
        m->focus = FIELD_ADDRESS;
        m->next_probe_ms = 0;
        break;
    case DEMO_MENU_SCREEN_ROOMS:
        if (!m->fields[FIELD_ROOM_NAME].text[0]) {
            field_set(&m->fields[FIELD_ROOM_NAME], m->fields[FIELD_NAME].text);
            field_append(&m->fields[FIELD_ROOM_NAME], "'s room");
        }
        m->focus = FIELD_ROOM_NAME;
        m->room_selected = -1;
        m->room_offset = 0;
        m->next_room_list_ms = 0;
        break;
    case DEMO_MENU_SCREEN_ROOM:
        m->focus = FIELD_CHAT;
        break;
    default:
        m->focus = FIELD_NONE;
        break;
    }
}

void demo_menu_show_error(demo_menu *m, demo_menu_screen back, const char *fmt, const char *detail)
{
    demo_menu_set_message(m, true, fmt, detail);
    m->error_back = back;
    demo_menu_go_screen(m, DEMO_MENU_SCREEN_ERROR);
}

/* ------------------------------------------------------------------ */
/* Actions                                                             */
/* ------------------------------------------------------------------ */

static void connect_typed_address(demo_menu *m)
{
    netcore_address address;
    netcore_result r =
        netcore_address_parse(m->fields[FIELD_ADDRESS].text, m->config.lobby_port, &address);
    if (r != NETCORE_OK) {
        demo_menu_set_message(m, true, "Bad address \"%s\": %s", m->fields[FIELD_ADDRESS].text,
                              netcore_result_str(r));
        return;
    }
    demo_menu_connect(m, &address, m->fields[FIELD_ADDRESS].text, NULL);
}

static void host_game(demo_menu *m)
{
    uint16_t port = 0;
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES] = {0};
    bool tls = false;
    char error[MENU_MESSAGE_BYTES] = "";
    if (!m->config.host(m->config.host_user, &port, pin, &tls, error, sizeof error)) {
        demo_menu_set_message(m, true, "Cannot host: %s",
                              error[0] ? error : "the server did not start");
        return;
    }
    netcore_address address = netcore_address_ipv4(127, 0, 0, 1, port);
    char text[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&address, text, sizeof text);
    field_set(&m->fields[FIELD_ADDRESS], text);
    demo_menu_connect(m, &address, NULL, tls ? pin : NULL);
}

static void create_room(demo_menu *m)
{
    netcore_lobby_room_params params;
    memset(&params, 0, sizeof params);
    SDL_strlcpy(params.name, m->fields[FIELD_ROOM_NAME].text, sizeof params.name);
    int max_players = atoi(m->fields[FIELD_MAX_PLAYERS].text);
    /* A lobby room holds fewer players than a game server. */
    const int room_max =
        DEMO_MAX_PLAYERS < NETCORE_LOBBY_MAX_PLAYERS ? DEMO_MAX_PLAYERS : NETCORE_LOBBY_MAX_PLAYERS;
    if (max_players < 1 || max_players > room_max) {
        max_players = max_players < 1 ? 1 : room_max;
    }
    params.max_players = (uint8_t)max_players;
    SDL_strlcpy(params.password, m->fields[FIELD_PASSWORD].text, sizeof params.password);
    netcore_result r = netcore_lobby_client_create_room(m->lobby, &params);
    if (r != NETCORE_OK) {
        demo_menu_set_message(m, true, "Cannot create the room: %s", netcore_result_str(r));
    }
}

static void join_selected(demo_menu *m)
{
    if (m->room_selected < 0) {
        return;
    }
    const char *password = m->fields[FIELD_PASSWORD].text;
    netcore_result r = netcore_lobby_client_join_room(m->lobby, m->rooms[m->room_selected].room_id,
                                                      password[0] ? password : NULL);
    if (r != NETCORE_OK) {
        demo_menu_set_message(m, true, "Cannot join: %s", netcore_result_str(r));
    }
}

static void send_chat(demo_menu *m)
{
    menu_field *f = &m->fields[FIELD_CHAT];
    if (!f->text[0]) {
        return;
    }
    netcore_result r = netcore_lobby_client_chat(m->lobby, NETCORE_LOBBY_CHAT_ROOM, f->text);
    if (r != NETCORE_OK) {
        demo_menu_set_message(m, true, "Message not sent: %s", netcore_result_str(r));
        return;
    }
    f->text[0] = '\0';
}

static void select_lobby(demo_menu *m, int index)
{
    m->lobby_selected = index;
    char text[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&m->lobbies[index].found.lobby_address, text, sizeof text);
    field_set(&m->fields[FIELD_ADDRESS], text);
}

/* Runs an action; double is true for a double click on a row. Actions that
 * need a connection are refused quietly without one (their buttons exist only
 * on connected screens, but events may race with a drop). */
static void run_action(demo_menu *m, menu_action action, int index, bool double_click)
{
    bool online = m->lobby && m->welcomed && netcore_lobby_client_is_connected(m->lobby);
    switch (action) {
    case ACT_CONTINUE:
        if (m->fields[FIELD_NAME].text[0]) {
            demo_menu_set_message(m, false, "%s", "");
            demo_menu_go_screen(m, DEMO_MENU_SCREEN_BROWSER);
        }
        break;
    case ACT_QUIT:
        m->quit = true;
        break;
    case ACT_LOBBY_ROW:
        select_lobby(m, index);
        if (double_click) {
            connect_typed_address(m);
        }
        break;
    case ACT_CONNECT:
        connect_typed_address(m);
        break;
    case ACT_HOST:
        if (m->config.host) {
            host_game(m);
        }
        break;
    case ACT_REFRESH:
        if (m->screen == DEMO_MENU_SCREEN_BROWSER) {
            m->next_probe_ms = 0;
        } else {
            demo_menu_request_room_list(m);
        }
        break;
    case ACT_BACK:
        if (m->screen == DEMO_MENU_SCREEN_BROWSER) {
            demo_menu_go_screen(m, DEMO_MENU_SCREEN_NAME);
        } else if (m->screen == DEMO_MENU_SCREEN_ERROR) {
            demo_menu_set_message(m, false, "%s", "");
            demo_menu_go_screen(m, m->error_back);
        } else {
            demo_menu_drop_connection(m); /* cancel connecting or reconnecting */
        }
        break;
    case ACT_ROOM_ROW:
        m->room_selected = index;
        if (double_click && online) {
            join_selected(m);
        }
        break;
    case ACT_PAGE: {
        int offset = m->room_offset + index * NETCORE_LOBBY_LIST_MAX;
        if (m->screen == DEMO_MENU_SCREEN_ROOMS && offset >= 0 && offset < m->rooms_total) {
            m->room_offset = (uint16_t)offset;
            m->room_selected = -1;
            demo_menu_request_room_list(m);
        }
        break;
    }
    case ACT_HIDE_FULL:
        m->hide_full = !m->hide_full;
        m->room_offset = 0;
        demo_menu_request_room_list(m);
        break;
    case ACT_CREATE:
        if (online && m->fields[FIELD_ROOM_NAME].text[0]) {
            create_room(m);
        }
        break;
    case ACT_JOIN:
        if (online) {
            join_selected(m);
        }
        break;
    case ACT_DISCONNECT:
        demo_menu_drop_connection(m);
        break;
    case ACT_KICK:
        if (online && index < m->room.member_count) {
            netcore_lobby_client_kick(m->lobby, m->room.members[index].client_id);
        }
        break;
    case ACT_READY:
        if (online && netcore_lobby_client_set_ready(m->lobby, !m->ready_sent) == NETCORE_OK) {
            m->ready_sent = !m->ready_sent;
        }
        break;
    case ACT_START:
        if (online) {
            netcore_lobby_client_start_match(m->lobby);
        }
        break;
    case ACT_LEAVE:
        if (online) {
            netcore_lobby_client_leave_room(m->lobby);
        }
        break;
    case ACT_SEND_CHAT:
        if (online) {
            send_chat(m);
        }
        break;
    case ACT_FOCUS:
        m->focus = (menu_field_id)index;
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Input                                                               */
/* ------------------------------------------------------------------ */

static void cycle_focus(demo_menu *m, bool backwards)
{
    int fields[MENU_MAX_WIDGETS];
    int count = 0, current = -1;
    for (int i = 0; i < m->widget_count; i++) {
        if (m->widgets[i].kind == WIDGET_FIELD) {
            if (m->widgets[i].index == (int)m->focus) {
                current = count;
            }
            fields[count++] = m->widgets[i].index;
        }
    }
    if (count == 0) {
        return;
    }
    int next = current < 0 ? 0 : (current + (backwards ? count - 1 : 1)) % count;
    m->focus = (menu_field_id)fields[next];
}

static void press_enter(demo_menu *m)
{
    switch (m->screen) {
    case DEMO_MENU_SCREEN_NAME:
        run_action(m, ACT_CONTINUE, 0, false);
        break;
    case DEMO_MENU_SCREEN_BROWSER:
        run_action(m, ACT_CONNECT, 0, false);
        break;
    case DEMO_MENU_SCREEN_ROOMS:
        if (m->focus == FIELD_FILTER) {
            m->room_offset = 0; /* a new filter starts on its first page */
            run_action(m, ACT_REFRESH, 0, false);
        } else if (m->focus == FIELD_ROOM_NAME || m->focus == FIELD_MAX_PLAYERS ||
                   (m->focus == FIELD_PASSWORD && m->room_selected < 0)) {
            run_action(m, ACT_CREATE, 0, false);
        } else {
            run_action(m, ACT_JOIN, 0, false);
        }
        break;
    case DEMO_MENU_SCREEN_ROOM:
        run_action(m, ACT_SEND_CHAT, 0, false);
        break;
    case DEMO_MENU_SCREEN_ERROR:
        run_action(m, ACT_BACK, 0, false);
        break;
    default:
        break;
    }
}

static void press_escape(demo_menu *m)
{
    static const menu_action on_escape[] = {
        [DEMO_MENU_SCREEN_NAME] = ACT_QUIT,       [DEMO_MENU_SCREEN_BROWSER] = ACT_BACK,
        [DEMO_MENU_SCREEN_CONNECTING] = ACT_BACK, [DEMO_MENU_SCREEN_ROOMS] = ACT_DISCONNECT,
        [DEMO_MENU_SCREEN_ROOM] = ACT_LEAVE,      [DEMO_MENU_SCREEN_RECONNECTING] = ACT_BACK,
        [DEMO_MENU_SCREEN_ERROR] = ACT_BACK,      [DEMO_MENU_SCREEN_IN_MATCH] = ACT_NONE,
    };
    run_action(m, on_escape[m->screen], 0, false);
}

static void move_selection(demo_menu *m, int delta)
{
    if (m->screen == DEMO_MENU_SCREEN_BROWSER && m->lobby_count > 0) {
        int i = m->lobby_selected + delta;
        select_lobby(m, i < 0 ? 0 : i >= (int)m->lobby_count ? (int)m->lobby_count - 1 : i);
    } else if (m->screen == DEMO_MENU_SCREEN_ROOMS && m->room_count > 0) {
        int i = m->room_selected + delta;
        m->room_selected = i < 0 ? 0 : i >= (int)m->room_count ? (int)m->room_count - 1 : i;
    }
}

static bool handle_key(demo_menu *m, const SDL_KeyboardEvent *key)
{
    switch (key->keysym.sym) {
    case SDLK_BACKSPACE:
        if (m->focus == FIELD_NONE) {
            return false;
        }
        field_backspace(&m->fields[m->focus]);
        return true;
    case SDLK_TAB:
        cycle_focus(m, (key->keysym.mod & KMOD_SHIFT) != 0);
        return true;
    case SDLK_RETURN:
    case SDLK_KP_ENTER:
        press_enter(m);
        return true;
    case SDLK_ESCAPE:
        press_escape(m);
        return true;
    case SDLK_UP:
    case SDLK_DOWN:
        move_selection(m, key->keysym.sym == SDLK_UP ? -1 : 1);
        return true;
    case SDLK_PAGEUP:
    case SDLK_PAGEDOWN:
        run_action(m, ACT_PAGE, key->keysym.sym == SDLK_PAGEUP ? -1 : 1, false);
        return true;
    case SDLK_F5:
        run_action(m, ACT_REFRESH, 0, false);
        return true;
    default:
        return false;
    }
}

static bool handle_click(demo_menu *m, int x, int y, bool double_click)
{
    SDL_Point p = {x, y};
    /* Later widgets lie on top (kick buttons over member rows). */
    for (int i = m->widget_count - 1; i >= 0; i--) {
        const menu_widget *w = &m->widgets[i];
        if (SDL_PointInRect(&p, &w->rect)) {
            if (w->enabled) {
                run_action(m, w->action, w->index, double_click);
            }
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Public functions                                                    */
/* ------------------------------------------------------------------ */

void demo_menu_config_default(demo_menu_config *config)
{
    memset(config, 0, sizeof *config);
    config->player_name = "player";
    config->lobby_port = 7777;
    config->discovery_port = 7777;
    config->discovery_interval_ms = 2000;
    config->room_list_interval_ms = 3000;
    config->reconnect_attempts = 5;
    config->default_max_players = 8;
}

demo_menu *demo_menu_create(const demo_menu_config *config)
{
    if (!config || !config->renderer || !config->text) {
        return NULL;
    }
    demo_menu *m = menu_alloc(&config->allocator, sizeof *m);
    if (!m) {
        return NULL;
    }
    memset(m, 0, sizeof *m);
    m->config = *config;
    netcore_lobby_discovery_config discovery_config;
    netcore_lobby_discovery_config_default(&discovery_config);
    discovery_config.allocator = config->allocator;
    if (netcore_lobby_discovery_create(&discovery_config, &m->discovery) != NETCORE_OK) {
        menu_free(&config->allocator, m);
        return NULL;
    }
    char max_players[8];
    snprintf(max_players, sizeof max_players, "%u", (unsigned)config->default_max_players);
    init_field(m, FIELD_NAME, "Nickname", NETCORE_LOBBY_NAME_MAX,
               config->player_name ? config->player_name : "");
    init_field(m, FIELD_ADDRESS, "Lobby address (host or host:port)", NETCORE_ADDRESS_STRLEN - 1,
               "127.0.0.1");
    init_field(m, FIELD_FILTER, "Filter by name (Enter)", NETCORE_LOBBY_NAME_MAX, "");
    init_field(m, FIELD_ROOM_NAME, "Room name", NETCORE_LOBBY_NAME_MAX, "");
    init_field(m, FIELD_MAX_PLAYERS, "Max players (1-32)", 2, max_players);
    init_field(m, FIELD_PASSWORD, "Password (optional)", NETCORE_LOBBY_PASSWORD_MAX, "");
    init_field(m, FIELD_CHAT, "Message (Enter sends)", NETCORE_LOBBY_CHAT_MAX, "");
    m->fields[FIELD_MAX_PLAYERS].digits_only = true;
    m->fields[FIELD_PASSWORD].masked = true;
    m->lobby_selected = -1;
    m->room_selected = -1;
    m->mouse = (SDL_Point){-1, -1};
    demo_menu_go_screen(m, DEMO_MENU_SCREEN_NAME);
    if (!SDL_IsTextInputActive()) {
        SDL_StartTextInput();
    }
    return m;
}

void demo_menu_destroy(demo_menu *menu)
{
    if (!menu) {
        return;
    }
    netcore_lobby_client_destroy(menu->lobby);
    netcore_lobby_discovery_destroy(menu->discovery);
    netcore_allocator allocator = menu->config.allocator;
    menu_free(&allocator, menu);
}

bool demo_menu_handle_event(demo_menu *menu, const SDL_Event *event)
{
    if (menu->screen == DEMO_MENU_SCREEN_IN_MATCH && event->type != SDL_QUIT) {
        return false;
    }
    demo_menu_layout(menu);
    switch (event->type) {
    case SDL_QUIT:
        menu->quit = true;
        return true;
    case SDL_TEXTINPUT:
        if (menu->focus == FIELD_NONE) {
            return false;
        }
        field_append(&menu->fields[menu->focus], event->text.text);
        return true;
    case SDL_KEYDOWN:
        return handle_key(menu, &event->key);
    case SDL_MOUSEMOTION:
        menu->mouse = (SDL_Point){event->motion.x, event->motion.y};
        return true;
    case SDL_MOUSEBUTTONDOWN:
        menu->mouse = (SDL_Point){event->button.x, event->button.y};
        if (event->button.button != SDL_BUTTON_LEFT) {
            return false;
        }
        return handle_click(menu, event->button.x, event->button.y, event->button.clicks >= 2);
    default:
        return false;
    }
}

demo_menu_screen demo_menu_current_screen(const demo_menu *menu)
{
    return menu->screen;
}

const netcore_lobby_room_state *demo_menu_room(const demo_menu *menu)
{
    return menu->in_room ? &menu->room : NULL;
}

const char *demo_menu_chat_line(const demo_menu *menu, size_t index)
{
    if (index >= menu->chat_count) {
        return NULL;
    }
    return menu->chat[(menu->chat_first + index) % MENU_CHAT_LINES];
}

const char *demo_menu_message(const demo_menu *menu)
{
    return menu->message;
}

bool demo_menu_find_widget(demo_menu *menu, const char *label, SDL_Rect *out_rect)
{
    demo_menu_layout(menu);
    for (int i = 0; i < menu->widget_count; i++) {
        const menu_widget *w = &menu->widgets[i];
        if (w->label && strcmp(w->label, label) == 0) {
            *out_rect = w->rect;
            return true;
        }
    }
    return false;
}
