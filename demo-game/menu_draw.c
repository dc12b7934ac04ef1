/* Layout and drawing of the lobby menus; see menu.h and menu_internal.h. */
#include <stdio.h>
#include <string.h>

#include "menu_internal.h"
#include "render.h"

#define BAND_H 44
#define MEMBER_ROWS_SHOWN 16
#define CHAT_LINE_H 18

/* The game HUD's colours (render.c), so the menus look like the game. */
static const SDL_Color col_floor = {14, 17, 26, 255};
static const SDL_Color col_grid = {24, 29, 43, 255};
static const SDL_Color col_grid_major = {33, 40, 60, 255};
static const SDL_Color col_wall = {58, 66, 92, 255};
static const SDL_Color col_wall_edge = {104, 118, 160, 255};
static const SDL_Color col_hud = {20, 24, 36, 255};
static const SDL_Color col_text = {230, 234, 245, 255};
static const SDL_Color col_dim = {150, 158, 180, 255};
static const SDL_Color col_accent = {255, 210, 90, 255};
static const SDL_Color col_panel = {10, 12, 20, 215};
static const SDL_Color col_good = {120, 230, 140, 255};
static const SDL_Color col_bad = {255, 110, 90, 255};
static const SDL_Color col_selected = {40, 48, 72, 255};

/* Ship colours of the first slots (assets/palette), for member markers. */
static const SDL_Color member_colors[8] = {
    {80, 200, 255, 255},  {255, 100, 90, 255},  {120, 230, 110, 255}, {255, 200, 60, 255},
    {200, 120, 255, 255}, {255, 150, 200, 255}, {70, 230, 210, 255},  {255, 140, 40, 255},
};

/* ------------------------------------------------------------------ */
/* Layout                                                              */
/* ------------------------------------------------------------------ */

static menu_widget *add_widget(demo_menu *m, menu_widget_kind kind, menu_action action, int index,
                               int x, int y, int w, int h, const char *label)
{
    if (m->widget_count >= MENU_MAX_WIDGETS) {
        return NULL; /* layouts are bounded well below this; extra rows are simply not shown */
    }
    menu_widget *wd = &m->widgets[m->widget_count++];
    wd->kind = kind;
    wd->action = action;
    wd->index = index;
    wd->rect = (SDL_Rect){x, y, w, h};
    wd->label = label;
    wd->enabled = true;
    wd->active = false;
    return wd;
}

static void add_field(demo_menu *m, menu_field_id id, int x, int y, int w, int h)
{
    menu_widget *wd = add_widget(m, WIDGET_FIELD, ACT_FOCUS, id, x, y, w, h, m->fields[id].caption);
    if (wd) {
        wd->active = m->focus == id;
    }
}

static void add_button(demo_menu *m, menu_action action, int x, int y, int w, int h,
                       const char *label, bool enabled, bool primary)
{
    menu_widget *wd = add_widget(m, WIDGET_BUTTON, action, 0, x, y, w, h, label);
    if (wd) {
        wd->enabled = enabled;
        wd->active = primary;
    }
}

/* The list panel of the screen, shared by layout and drawing. */
static SDL_Rect list_panel(const demo_menu *menu)
{
    switch (menu->screen) {
    case DEMO_MENU_SCREEN_BROWSER:
        return (SDL_Rect){140, 90, 1000, 340};
    case DEMO_MENU_SCREEN_ROOMS:
        return (SDL_Rect){60, 132, 760, 490};
    case DEMO_MENU_SCREEN_ROOM:
        return (SDL_Rect){60, 90, 540, 460};
    default:
        return (SDL_Rect){0, 0, 0, 0};
    }
}

static bool room_all_ready(const netcore_lobby_room_state *room)
{
    for (uint8_t i = 0; i < room->member_count; i++) {
        if (!room->members[i].ready || !room->members[i].connected) {
            return false;
        }
    }
    return room->member_count > 0;
}

static void layout_rows(demo_menu *m, const SDL_Rect *panel, int first_y, int count,
                        menu_action action, int selected)
{
    for (int i = 0; i < count; i++) {
        int y = first_y + i * MENU_ROW_H;
        if (y + MENU_ROW_H > panel->y + panel->h) {
            break;
        }
        const char *label = "";
        if (action == ACT_LOBBY_ROW) {
            label = m->lobbies[i].found.name;
        } else if (action == ACT_ROOM_ROW) {
            label = m->rooms[i].name;
        } else {
            label = m->room.members[i].nickname;
        }
        menu_widget *wd = add_widget(m, WIDGET_ROW, action, i, panel->x + 8, y, panel->w - 16,
                                     MENU_ROW_H - 2, label);
        if (wd) {
            wd->active = i == selected;
        }
    }
}

void demo_menu_layout(demo_menu *m)
{
    m->widget_count = 0;
    SDL_Rect panel = list_panel(m);
    switch (m->screen) {
    case DEMO_MENU_SCREEN_NAME:
        add_field(m, FIELD_NAME, 440, 320, 400, 36);
        add_button(m, ACT_CONTINUE, 440, 384, 195, 40, "Continue",
                   m->fields[FIELD_NAME].text[0] != '\0', true);
        add_button(m, ACT_QUIT, 645, 384, 195, 40, "Quit", true, false);
        break;
    case DEMO_MENU_SCREEN_BROWSER:
        layout_rows(m, &panel, panel.y + 40, (int)m->lobby_count, ACT_LOBBY_ROW, m->lobby_selected);
        add_field(m, FIELD_ADDRESS, 140, 470, 480, 36);
        add_button(m, ACT_CONNECT, 630, 470, 160, 36, "Connect",
                   m->fields[FIELD_ADDRESS].text[0] != '\0', true);
        if (m->config.host) {
            add_button(m, ACT_HOST, 800, 470, 160, 36, "Host", true, false);
        }
        add_button(m, ACT_REFRESH, 970, 470, 170, 36, "Refresh", true, false);
        add_button(m, ACT_BACK, 140, 560, 160, 40, "Back", true, false);
        break;
    case DEMO_MENU_SCREEN_CONNECTING:
    case DEMO_MENU_SCREEN_RECONNECTING:
        add_button(m, ACT_BACK, 560, 420, 160, 40, "Cancel", true, false);
        break;
    case DEMO_MENU_SCREEN_ERROR:
        add_button(m, ACT_BACK, 560, 420, 160, 40, "Back", true, true);
        break;
    case DEMO_MENU_SCREEN_ROOMS: {
        add_field(m, FIELD_FILTER, 60, 90, 470, 32);
        menu_widget *toggle =
            add_widget(m, WIDGET_TOGGLE, ACT_HIDE_FULL, 0, 540, 90, 150, 32, "Hide full");
        if (toggle) {
            toggle->active = m->hide_full;
        }
        add_button(m, ACT_REFRESH, 700, 90, 120, 32, "Refresh", true, false);
        layout_rows(m, &panel, panel.y + 36, (int)m->room_count, ACT_ROOM_ROW, m->room_selected);
        if (m->rooms_total > NETCORE_LOBBY_LIST_MAX) {
            menu_widget *prev = add_widget(m, WIDGET_BUTTON, ACT_PAGE, -1, panel.x + panel.w - 200,
                                           panel.y + 4, 90, 26, "Prev");
            menu_widget *next = add_widget(m, WIDGET_BUTTON, ACT_PAGE, 1, panel.x + panel.w - 100,
                                           panel.y + 4, 90, 26, "Next");
            if (prev && next) {
                prev->enabled = m->room_offset > 0;
                next->enabled = m->room_offset + m->room_count < m->rooms_total;
            }
        }
        add_field(m, FIELD_ROOM_NAME, 880, 150, 320, 32);
        add_field(m, FIELD_MAX_PLAYERS, 880, 214, 320, 32);
        add_field(m, FIELD_PASSWORD, 880, 278, 320, 32);
        add_button(m, ACT_CREATE, 880, 326, 320, 38, "Create",
                   m->fields[FIELD_ROOM_NAME].text[0] != '\0', true);
        add_button(m, ACT_JOIN, 872, 444, 336, 40, "Join", m->room_selected >= 0, false);
        add_button(m, ACT_DISCONNECT, 860, 582, 360, 40, "Disconnect", true, false);
        break;
    }
    case DEMO_MENU_SCREEN_ROOM: {
        int count =
            m->room.member_count < MEMBER_ROWS_SHOWN ? m->room.member_count : MEMBER_ROWS_SHOWN;
        layout_rows(m, &panel, panel.y + 40, count, ACT_MEMBER_ROW, -1);
        bool owner = m->room.owner_id == m->client_id;
        for (int i = 0; i < count && owner; i++) {
            if (m->room.members[i].client_id != m->client_id) {
                add_widget(m, WIDGET_BUTTON, ACT_KICK, i, panel.x + panel.w - 84,
                           panel.y + 40 + i * MENU_ROW_H + 2, 70, MENU_ROW_H - 6, "Kick");
            }
        }
        add_field(m, FIELD_CHAT, 640, 514, 460, 36);
        add_button(m, ACT_SEND_CHAT, 1110, 514, 110, 36, "Send",
                   m->fields[FIELD_CHAT].text[0] != '\0', false);
        menu_widget *ready = add_widget(m, WIDGET_TOGGLE, ACT_READY, 0, 60, 576, 180, 44, "Ready");
        if (ready) {
            ready->active = m->ready_sent;
        }
        if (owner) {
            add_button(m, ACT_START, 250, 576, 180, 44, "Start match",
                       !m->room.in_match && room_all_ready(&m->room), true);
        }
        add_button(m, ACT_LEAVE, 440, 576, 160, 44, "Leave", true, false);
        break;
    }
    case DEMO_MENU_SCREEN_IN_MATCH:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Drawing                                                             */
/* ------------------------------------------------------------------ */

static void set_color(demo_menu *m, SDL_Color c)
{
    SDL_SetRenderDrawColor(m->config.renderer, c.r, c.g, c.b, c.a);
}

static void fill(demo_menu *m, SDL_Rect r, SDL_Color c)
{
    set_color(m, c);
    SDL_RenderFillRect(m->config.renderer, &r);
}

static void outline(demo_menu *m, SDL_Rect r, SDL_Color c)
{
    set_color(m, c);
    SDL_RenderDrawRect(m->config.renderer, &r);
}

static void panel(demo_menu *m, SDL_Rect r, const char *title)
{
    fill(m, r, col_panel);
    outline(m, r, col_wall_edge);
    if (title) {
        demo_text_draw(m->config.text, r.x + 12, r.y + 8, DEMO_TEXT_NORMAL, col_accent,
                       DEMO_ALIGN_LEFT, title);
    }
}

/* Draws text vertically centred in a box of height h starting at y. */
static void text_mid(demo_menu *m, int x, int y, int h, demo_text_size size, SDL_Color c,
                     demo_text_align align, const char *s)
{
    int tw = 0, th = 0;
    demo_text_measure(m->config.text, size, s, &tw, &th);
    demo_text_draw(m->config.text, x, y + (h - th) / 2, size, c, align, s);
}

static void draw_background(demo_menu *m)
{
    fill(m, (SDL_Rect){0, 0, DEMO_LOGICAL_W, DEMO_LOGICAL_H}, col_floor);
    for (int x = 0; x < DEMO_LOGICAL_W; x += 40) {
        fill(m, (SDL_Rect){x, 0, 1, DEMO_LOGICAL_H}, x % 200 == 0 ? col_grid_major : col_grid);
    }
    for (int y = 0; y < DEMO_LOGICAL_H; y += 40) {
        fill(m, (SDL_Rect){0, y, DEMO_LOGICAL_W, 1}, y % 200 == 0 ? col_grid_major : col_grid);
    }
}

static const char *screen_title(demo_menu_screen s)
{
    static const char *titles[] = {"Player", "LAN lobbies",  "Connecting", "Rooms",
                                   "Room",   "Reconnecting", "Error",      "In match"};
    return titles[s];
}

static void draw_band(demo_menu *m)
{
    fill(m, (SDL_Rect){0, 0, DEMO_LOGICAL_W, BAND_H}, col_hud);
    fill(m, (SDL_Rect){0, BAND_H, DEMO_LOGICAL_W, 1}, col_wall_edge);
    text_mid(m, 20, 0, BAND_H, DEMO_TEXT_NORMAL, col_accent, DEMO_ALIGN_LEFT, "NETCORE ARENA");
    text_mid(m, 640, 0, BAND_H, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_CENTER,
             screen_title(m->screen));
    if (m->screen != DEMO_MENU_SCREEN_NAME) {
        text_mid(m, DEMO_LOGICAL_W - 20, 0, BAND_H, DEMO_TEXT_NORMAL, col_dim, DEMO_ALIGN_RIGHT,
                 m->fields[FIELD_NAME].text);
    }
    /* How this lobby is trusted: the player compares the pin with what the
     * host printed (trust on first use). */
    if (m->screen == DEMO_MENU_SCREEN_CONNECTING || m->screen == DEMO_MENU_SCREEN_ROOMS ||
        m->screen == DEMO_MENU_SCREEN_ROOM || m->screen == DEMO_MENU_SCREEN_RECONNECTING) {
        char line[64];
        if (!m->peer_tls) {
            snprintf(line, sizeof line, "plaintext (--insecure)");
        } else if (m->peer_pinned) {
            char pin[NETCORE_LOBBY_TLS_PIN_STRLEN];
            netcore_lobby_tls_pin_format(m->peer_pin, pin, sizeof pin);
            snprintf(line, sizeof line, "TLS pinned %.17s", pin);
        } else {
            snprintf(line, sizeof line, "TLS verified by name");
        }
        text_mid(m, 230, 0, BAND_H, DEMO_TEXT_SMALL, m->peer_tls ? col_good : col_bad,
                 DEMO_ALIGN_LEFT, line);
    }
}

static void draw_field(demo_menu *m, const menu_widget *w)
{
    const menu_field *f = &m->fields[w->index];
    demo_text_draw(m->config.text, w->rect.x, w->rect.y - 16, DEMO_TEXT_SMALL, col_dim,
                   DEMO_ALIGN_LEFT, f->caption);
    fill(m, w->rect, col_hud);
    outline(m, w->rect, w->active ? col_accent : col_wall_edge);
    char shown[sizeof f->text + 2];
    size_t n = strlen(f->text);
    if (f->masked) {
        memset(shown, '*', n);
        shown[n] = '\0';
    } else {
        memcpy(shown, f->text, n + 1);
    }
    /* Keep the end of a long entry visible: drop leading characters (whole
     * UTF-8 sequences) until it fits. */
    const char *visible = shown;
    int tw = 0, th = 0;
    demo_text_measure(m->config.text, DEMO_TEXT_NORMAL, visible, &tw, &th);
    while (*visible && tw > w->rect.w - 24) {
        visible++;
        while ((*visible & 0xC0) == 0x80) {
            visible++;
        }
        demo_text_measure(m->config.text, DEMO_TEXT_NORMAL, visible, &tw, &th);
    }
    text_mid(m, w->rect.x + 8, w->rect.y, w->rect.h, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_LEFT,
             visible);
    if (w->active && (m->now_ms / 500) % 2 == 0) {
        fill(m, (SDL_Rect){w->rect.x + 10 + tw, w->rect.y + 7, 2, w->rect.h - 14}, col_accent);
    }
}

static void draw_button(demo_menu *m, const menu_widget *w)
{
    bool checked = w->kind == WIDGET_TOGGLE && w->active;
    SDL_Color face = checked ? (SDL_Color){50, 110, 70, 255} : col_wall;
    if (!w->enabled) {
        face = col_hud;
    } else if (SDL_PointInRect(&m->mouse, &w->rect)) {
        face = (SDL_Color){(Uint8)(face.r + 24), (Uint8)(face.g + 26), (Uint8)(face.b + 34), 255};
    }
    fill(m, w->rect, face);
    SDL_Color edge = col_wall_edge;
    if (w->enabled && (w->active || checked)) {
        edge = checked ? col_good : col_accent;
    }
    outline(m, w->rect, edge);
    char label[48];
    if (w->kind == WIDGET_TOGGLE) {
        snprintf(label, sizeof label, "[%s] %s", checked ? "x" : " ", w->label);
    } else {
        snprintf(label, sizeof label, "%s", w->label);
    }
    text_mid(m, w->rect.x + w->rect.w / 2, w->rect.y, w->rect.h, DEMO_TEXT_NORMAL,
             w->enabled ? col_text : col_dim, DEMO_ALIGN_CENTER, label);
}

static void draw_lobby_row(demo_menu *m, const menu_widget *w)
{
    const menu_lobby_entry *e = &m->lobbies[w->index];
    char addr[NETCORE_ADDRESS_STRLEN], players[16], rooms[16], ping[16];
    netcore_address_format(&e->found.lobby_address, addr, sizeof addr);
    snprintf(players, sizeof players, "%u", (unsigned)e->found.players);
    snprintf(rooms, sizeof rooms, "%u", (unsigned)e->found.rooms);
    snprintf(ping, sizeof ping, "%u ms", (unsigned)e->ping_ms);
    int x = w->rect.x, y = w->rect.y, h = w->rect.h;
    text_mid(m, x + 10, y, h, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_LEFT, e->found.name);
    text_mid(m, x + 420, y, h, DEMO_TEXT_SMALL, col_dim, DEMO_ALIGN_LEFT, addr);
    /* The certificate the lobby announced: pinned on joining. */
    char tls[40];
    if (e->found.tls) {
        char pin[NETCORE_LOBBY_TLS_PIN_STRLEN];
        netcore_lobby_tls_pin_format(e->found.tls_pin, pin, sizeof pin);
        snprintf(tls, sizeof tls, "TLS %.8s", pin);
    } else {
        snprintf(tls, sizeof tls, "no TLS");
    }
    text_mid(m, x + 580, y, h, DEMO_TEXT_SMALL, e->found.tls ? col_good : col_bad, DEMO_ALIGN_LEFT,
             tls);
    text_mid(m, x + 740, y, h, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_RIGHT, players);
    text_mid(m, x + 840, y, h, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_RIGHT, rooms);
    text_mid(m, x + 970, y, h, DEMO_TEXT_NORMAL, e->ping_ms < 60 ? col_good : col_accent,
             DEMO_ALIGN_RIGHT, ping);
}

static void draw_room_row(demo_menu *m, const menu_widget *w)
{
    const netcore_lobby_room_summary *r = &m->rooms[w->index];
    char count[16];
    snprintf(count, sizeof count, "%u / %u", (unsigned)r->players, (unsigned)r->max_players);
    int x = w->rect.x, y = w->rect.y, h = w->rect.h;
    bool full = r->players >= r->max_players;
    text_mid(m, x + 10, y, h, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_LEFT, r->name);
    text_mid(m, x + 470, y, h, DEMO_TEXT_NORMAL, full ? col_bad : col_text, DEMO_ALIGN_RIGHT,
             count);
    text_mid(m, x + 500, y, h, DEMO_TEXT_SMALL, col_accent, DEMO_ALIGN_LEFT,
             r->has_password ? "password" : "");
    text_mid(m, x + 610, y, h, DEMO_TEXT_SMALL, col_bad, DEMO_ALIGN_LEFT,
             r->in_match ? "playing" : "");
}

static void draw_member_row(demo_menu *m, const menu_widget *w)
{
    const netcore_lobby_member *mb = &m->room.members[w->index];
    int x = w->rect.x, y = w->rect.y, h = w->rect.h;
    fill(m, (SDL_Rect){x + 8, y + h / 2 - 6, 12, 12}, member_colors[w->index % 8]);
    bool owner = mb->client_id == m->room.owner_id;
    bool self = mb->client_id == m->client_id;
    text_mid(m, x + 30, y, h, DEMO_TEXT_NORMAL, self ? col_accent : col_text, DEMO_ALIGN_LEFT,
             mb->nickname);
    text_mid(m, x + 250, y, h, DEMO_TEXT_SMALL, col_accent, DEMO_ALIGN_LEFT,
             owner ? "* owner" : "");
    const char *state = !mb->connected ? "offline" : mb->ready ? "READY" : "not ready";
    SDL_Color c = !mb->connected ? col_bad : mb->ready ? col_good : col_dim;
    text_mid(m, x + 330, y, h, DEMO_TEXT_NORMAL, c, DEMO_ALIGN_LEFT, state);
}

static void draw_row(demo_menu *m, const menu_widget *w)
{
    if (w->active) {
        fill(m, w->rect, col_selected);
        outline(m, w->rect, col_accent);
    } else if (w->action != ACT_MEMBER_ROW && SDL_PointInRect(&m->mouse, &w->rect)) {
        fill(m, w->rect, col_hud);
    }
    if (w->action == ACT_LOBBY_ROW) {
        draw_lobby_row(m, w);
    } else if (w->action == ACT_ROOM_ROW) {
        draw_room_row(m, w);
    } else {
        draw_member_row(m, w);
    }
}

static void draw_chat(demo_menu *m)
{
    SDL_Rect r = {640, 90, 580, 400};
    panel(m, r, "Chat");
    int max_lines = (r.h - 44) / CHAT_LINE_H;
    size_t shown = m->chat_count < (size_t)max_lines ? m->chat_count : (size_t)max_lines;
    int y = r.y + r.h - 10 - (int)shown * CHAT_LINE_H;
    for (size_t i = m->chat_count - shown; i < m->chat_count; i++) {
        const char *line = demo_menu_chat_line(m, i);
        bool notice = line[0] == '*';
        demo_text_draw(m->config.text, r.x + 12, y, DEMO_TEXT_SMALL, notice ? col_dim : col_text,
                       DEMO_ALIGN_LEFT, line);
        y += CHAT_LINE_H;
    }
}

static void draw_screen_frame(demo_menu *m)
{
    SDL_Rect list = list_panel(m);
    char line[96];
    switch (m->screen) {
    case DEMO_MENU_SCREEN_NAME:
        panel(m, (SDL_Rect){400, 240, 480, 210}, "Choose a nickname");
        break;
    case DEMO_MENU_SCREEN_BROWSER:
        panel(m, list, "Lobbies on this network");
        demo_text_draw(m->config.text, list.x + 430, list.y + 12, DEMO_TEXT_SMALL, col_dim,
                       DEMO_ALIGN_LEFT, "Address");
        demo_text_draw(m->config.text, list.x + 748, list.y + 12, DEMO_TEXT_SMALL, col_dim,
                       DEMO_ALIGN_RIGHT, "Players");
        demo_text_draw(m->config.text, list.x + 848, list.y + 12, DEMO_TEXT_SMALL, col_dim,
                       DEMO_ALIGN_RIGHT, "Rooms");
        demo_text_draw(m->config.text, list.x + 978, list.y + 12, DEMO_TEXT_SMALL, col_dim,
                       DEMO_ALIGN_RIGHT, "Ping");
        if (m->lobby_count == 0) {
            demo_text_draw(m->config.text, list.x + list.w / 2, list.y + 150, DEMO_TEXT_NORMAL,
                           col_dim, DEMO_ALIGN_CENTER, "Searching the local network...");
        }
        break;
    case DEMO_MENU_SCREEN_CONNECTING:
    case DEMO_MENU_SCREEN_RECONNECTING:
    case DEMO_MENU_SCREEN_ERROR: {
        bool error = m->screen == DEMO_MENU_SCREEN_ERROR;
        panel(m, (SDL_Rect){340, 250, 600, 240}, error ? "Disconnected" : screen_title(m->screen));
        char addr[NETCORE_ADDRESS_STRLEN];
        netcore_address_format(&m->lobby_address, addr, sizeof addr);
        if (m->screen == DEMO_MENU_SCREEN_RECONNECTING) {
            unsigned attempt = m->reconnect_attempt ? m->reconnect_attempt : 1;
            snprintf(line, sizeof line, "Resuming the session: attempt %u of %u", attempt,
                     (unsigned)m->config.reconnect_attempts);
        } else {
            snprintf(line, sizeof line, "%s %s", error ? "Lobby" : "Connecting to", addr);
        }
        demo_text_draw(m->config.text, 640, 310, DEMO_TEXT_NORMAL, col_text, DEMO_ALIGN_CENTER,
                       line);
        demo_text_draw(m->config.text, 640, 350, DEMO_TEXT_NORMAL, error ? col_bad : col_dim,
                       DEMO_ALIGN_CENTER, m->message);
        break;
    }
    case DEMO_MENU_SCREEN_ROOMS:
        panel(m, list, NULL);
        if (m->rooms_total > NETCORE_LOBBY_LIST_MAX) {
            snprintf(line, sizeof line, "Rooms %u-%u of %u", (unsigned)m->room_offset + 1,
                     (unsigned)(m->room_offset + m->room_count), (unsigned)m->rooms_total);
        } else {
            snprintf(line, sizeof line, "Rooms (%u)", (unsigned)m->rooms_total);
        }
        demo_text_draw(m->config.text, list.x + 12, list.y + 8, DEMO_TEXT_NORMAL, col_accent,
                       DEMO_ALIGN_LEFT, line);
        demo_text_draw(m->config.text, list.x + 486, list.y + 10, DEMO_TEXT_SMALL, col_dim,
                       DEMO_ALIGN_RIGHT, "Players");
        if (m->room_count == 0) {
            demo_text_draw(m->config.text, list.x + list.w / 2, list.y + 200, DEMO_TEXT_NORMAL,
                           col_dim, DEMO_ALIGN_CENTER, "No rooms yet: create one");
        }
        panel(m, (SDL_Rect){860, 90, 360, 290}, "Create a room");
        panel(m, (SDL_Rect){860, 400, 360, 96}, NULL);
        demo_text_draw(m->config.text, 872, 412, DEMO_TEXT_SMALL, col_dim, DEMO_ALIGN_LEFT,
                       "Select a room; the password field is used to join");
        break;
    case DEMO_MENU_SCREEN_ROOM:
        snprintf(line, sizeof line, "%s  (%u / %u)", m->room.name, (unsigned)m->room.member_count,
                 (unsigned)m->room.max_players);
        panel(m, list, line);
        if (m->room.member_count > MEMBER_ROWS_SHOWN) {
            snprintf(line, sizeof line, "and %u more",
                     (unsigned)(m->room.member_count - MEMBER_ROWS_SHOWN));
            demo_text_draw(m->config.text, list.x + 12, list.y + list.h - 24, DEMO_TEXT_SMALL,
                           col_dim, DEMO_ALIGN_LEFT, line);
        }
        if (m->room.in_match) {
            demo_text_draw(m->config.text, list.x + list.w - 12, list.y + 10, DEMO_TEXT_SMALL,
                           col_bad, DEMO_ALIGN_RIGHT, "match in progress");
        }
        draw_chat(m);
        break;
    case DEMO_MENU_SCREEN_IN_MATCH:
        demo_text_draw(m->config.text, 640, 340, DEMO_TEXT_LARGE, col_text, DEMO_ALIGN_CENTER,
                       "Match in progress");
        break;
    }
}

void demo_menu_draw(demo_menu *menu)
{
    demo_menu_layout(menu);
    SDL_SetRenderDrawBlendMode(menu->config.renderer, SDL_BLENDMODE_BLEND);
    draw_background(menu);
    draw_band(menu);
    draw_screen_frame(menu);
    for (int i = 0; i < menu->widget_count; i++) {
        const menu_widget *w = &menu->widgets[i];
        if (w->kind == WIDGET_FIELD) {
            draw_field(menu, w);
        } else if (w->kind == WIDGET_ROW) {
            draw_row(menu, w);
        } else {
            draw_button(menu, w);
        }
    }
    bool in_panel_screen = menu->screen == DEMO_MENU_SCREEN_CONNECTING ||
                           menu->screen == DEMO_MENU_SCREEN_RECONNECTING ||
                           menu->screen == DEMO_MENU_SCREEN_ERROR;
    if (menu->message[0] && !in_panel_screen) {
        fill(menu, (SDL_Rect){0, DEMO_LOGICAL_H - 40, DEMO_LOGICAL_W, 40}, col_hud);
        fill(menu, (SDL_Rect){0, DEMO_LOGICAL_H - 40, DEMO_LOGICAL_W, 1}, col_wall_edge);
        text_mid(menu, 20, DEMO_LOGICAL_H - 40, 40, DEMO_TEXT_NORMAL,
                 menu->message_is_error ? col_bad : col_text, DEMO_ALIGN_LEFT, menu->message);
    }
    demo_text_end_frame(menu->config.text);
}
