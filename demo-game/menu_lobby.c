/* Lobby side of the menus: connecting, lobby events, reconnection, LAN
 * discovery, the per-frame update and the match hand-over; see menu.h. */
#include <string.h>

#include "menu_internal.h"

#define LOBBY_STALE_PROBES 3  /* a lobby silent for this many probe periods leaves the list */
#define RECONNECT_BASE_MS 500 /* first retry delay, doubled per attempt */
#define RECONNECT_MAX_DELAY_MS 4000

static bool room_has_member(const netcore_lobby_room_state *room, uint64_t client_id)
{
    for (uint8_t i = 0; i < room->member_count; i++) {
        if (room->members[i].client_id == client_id) {
            return true;
        }
    }
    return false;
}

static void lobby_event(void *user, const netcore_lobby_event *ev);

static bool pin_is_zero(const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    uint8_t any = 0;
    for (size_t i = 0; i < NETCORE_LOBBY_TLS_PIN_BYTES; i++) {
        any |= pin[i];
    }
    return any == 0;
}

/* The discovered lobby at address, if any. */
static const netcore_lobby_found *discovered(const demo_menu *m, const netcore_address *address)
{
    for (size_t i = 0; i < m->lobby_count; i++) {
        if (netcore_address_equal(&m->lobbies[i].found.lobby_address, address)) {
            return &m->lobbies[i].found;
        }
    }
    return NULL;
}

/* Fills the TLS fields of cfg for a connection to address (see
 * demo_menu_connect); false with the error screen shown when the lobby
 * cannot be trusted. */
static bool choose_trust(demo_menu *m, const netcore_address *address, const char *typed_host,
                         const uint8_t *host_pin, netcore_lobby_client_config *cfg)
{
    m->peer_tls = m->config.tls != NULL;
    m->peer_pinned = false;
    if (!m->config.tls) {
        return true;
    }
    const netcore_lobby_found *found = host_pin ? NULL : discovered(m, address);
    if (found && !found->tls) {
        demo_menu_show_error(m, DEMO_MENU_SCREEN_BROWSER,
                             "%s announces no TLS: start demo-game with "
                             "--insecure to join a plaintext lobby",
                             found->name);
        return false;
    }
    const uint8_t *pin = host_pin                                ? host_pin
                         : found && !pin_is_zero(found->tls_pin) ? found->tls_pin
                                                                 : NULL;
    uint8_t known[NETCORE_LOBBY_TLS_PIN_BYTES];
    if (!host_pin && demo_menu_known_pin(m, address, known)) {
        if (pin && memcmp(pin, known, sizeof known) != 0) {
            /* Trust on first use: what answered before stays the host. */
            demo_menu_show_error(
                m, DEMO_MENU_SCREEN_BROWSER,
                "The certificate of %s changed since you last joined it: refused (if its "
                "host made a new one, delete its line in the known pins file)",
                found ? found->name : "this lobby");
            return false;
        }
        pin = NULL;
        memcpy(m->peer_pin, known, sizeof known);
        cfg->tls_pin_set = true;
        memcpy(cfg->tls_pin_sha256, known, sizeof known);
        cfg->tls = m->config.tls;
        m->peer_pinned = true;
        m->peer_remember = false;
        return true;
    }
    m->peer_remember = pin != NULL && !host_pin;
    cfg->tls = m->config.tls;
    if (pin) {
        /* Trust on first use: the certificate the LAN announcement named. */
        cfg->tls_pin_set = true;
        memcpy(cfg->tls_pin_sha256, pin, NETCORE_LOBBY_TLS_PIN_BYTES);
        memcpy(m->peer_pin, pin, NETCORE_LOBBY_TLS_PIN_BYTES);
        m->peer_pinned = true;
        return true;
    }
    /* A typed address: the system store must vouch for its name. */
    SDL_strlcpy(cfg->tls_server_name, typed_host ? typed_host : "", sizeof cfg->tls_server_name);
    char *colon = SDL_strrchr(cfg->tls_server_name, ':');
    if (colon && !SDL_strchr(cfg->tls_server_name, '[')) {
        *colon = '\0';
    }
    if (!cfg->tls_server_name[0]) {
        netcore_address_format(address, cfg->tls_server_name, sizeof cfg->tls_server_name);
        colon = SDL_strrchr(cfg->tls_server_name, ':');
        if (colon) {
            *colon = '\0';
        }
    }
    return true;
}

void demo_menu_connect(demo_menu *m, const netcore_address *address, const char *typed_host,
                       const uint8_t *host_pin)
{
    /* A new client per lobby: each has its own trust (pin, name or none). */
    netcore_lobby_client_destroy(m->lobby);
    m->lobby = NULL;
    netcore_lobby_client_config cfg;
    netcore_lobby_client_config_default(&cfg);
    cfg.allocator = m->config.allocator;
    cfg.log = m->config.log;
    cfg.on_event = lobby_event;
    cfg.event_user = m;
    if (!choose_trust(m, address, typed_host, host_pin, &cfg)) {
        return;
    }
    netcore_result r = netcore_lobby_client_create(&cfg, &m->lobby);
    if (r != NETCORE_OK) {
        demo_menu_show_error(m, DEMO_MENU_SCREEN_BROWSER, "Cannot create the lobby client: %s",
                             netcore_result_str(r));
        return;
    }
    m->lobby_address = *address;
    m->welcomed = false;
    m->leaving = false;
    m->in_room = false;
    m->client_id = 0;
    r = netcore_lobby_client_connect(m->lobby, address, m->fields[FIELD_NAME].text,
                                     m->now_ms * 1000u);
    if (r != NETCORE_OK) {
        demo_menu_show_error(m, DEMO_MENU_SCREEN_BROWSER, "Cannot connect: %s",
                             netcore_result_str(r));
        return;
    }
    demo_menu_set_message(m, false, "%s", "");
    demo_menu_go_screen(m, DEMO_MENU_SCREEN_CONNECTING);
}

/* Drops the connection on purpose (cancel, disconnect): no reconnection. */
void demo_menu_drop_connection(demo_menu *m)
{
    if (m->lobby && netcore_lobby_client_is_connected(m->lobby)) {
        m->leaving = netcore_lobby_client_disconnect(m->lobby) == NETCORE_OK;
        if (!m->leaving) {
            netcore_lobby_client_destroy(m->lobby);
            m->lobby = NULL;
        }
    }
    m->welcomed = false;
    m->in_room = false;
    demo_menu_go_screen(m, DEMO_MENU_SCREEN_BROWSER);
}

void demo_menu_request_room_list(demo_menu *m)
{
    if (!m->lobby || !m->welcomed) {
        return;
    }
    netcore_lobby_room_filter filter;
    memset(&filter, 0, sizeof filter);
    SDL_strlcpy(filter.name_contains, m->fields[FIELD_FILTER].text, sizeof filter.name_contains);
    filter.hide_full = m->hide_full;
    filter.max_count = NETCORE_LOBBY_LIST_MAX;
    filter.offset = m->room_offset;
    netcore_lobby_client_list_rooms(m->lobby, &filter);
    m->next_room_list_ms = m->now_ms + m->config.room_list_interval_ms;
}

/* ------------------------------------------------------------------ */
/* Lobby events                                                        */
/* ------------------------------------------------------------------ */

static void on_room_state(demo_menu *m, const netcore_lobby_room_state *room)
{
    bool same_room = m->in_room && m->room.room_id == room->room_id;
    if (same_room) {
        /* Join and leave notices, from the difference with the last state. */
        for (uint8_t i = 0; i < room->member_count; i++) {
            if (!room_has_member(&m->room, room->members[i].client_id)) {
                demo_menu_chat_push(m, "* %s joined", room->members[i].nickname);
            }
        }
        for (uint8_t i = 0; i < m->room.member_count; i++) {
            if (!room_has_member(room, m->room.members[i].client_id)) {
                demo_menu_chat_push(m, "* %s left", m->room.members[i].nickname);
            }
        }
    } else {
        demo_menu_chat_push(m, "* You are in room \"%s\"", room->name);
    }
    m->room = *room;
    m->in_room = true;
    m->ready_sent = false;
    for (uint8_t i = 0; i < room->member_count; i++) {
        if (room->members[i].client_id == m->client_id) {
            m->ready_sent = room->members[i].ready;
        }
    }
    if (m->screen == DEMO_MENU_SCREEN_ROOMS || m->screen == DEMO_MENU_SCREEN_RECONNECTING) {
        demo_menu_go_screen(m, DEMO_MENU_SCREEN_ROOM);
    }
}

static void on_match_start(demo_menu *m, const netcore_lobby_match_start *match)
{
    if (m->screen != DEMO_MENU_SCREEN_ROOM || m->match_ready) {
        return;
    }
    demo_menu_outcome *o = &m->outcome;
    memset(o, 0, sizeof *o);
    o->lobby_address = m->lobby_address;
    o->local_client_id = m->client_id;
    SDL_strlcpy(o->nickname, m->fields[FIELD_NAME].text, sizeof o->nickname);
    o->room_id = m->room.room_id;
    SDL_strlcpy(o->room_name, m->room.name, sizeof o->room_name);
    o->match = *match;
    o->player_count = m->room.member_count;
    for (uint8_t i = 0; i < m->room.member_count; i++) {
        o->players[i].client_id = m->room.members[i].client_id;
        SDL_strlcpy(o->players[i].nickname, m->room.members[i].nickname,
                    sizeof o->players[i].nickname);
    }
    m->match_ready = true;
    m->match_ended = false;
    demo_menu_go_screen(m, DEMO_MENU_SCREEN_IN_MATCH);
}

static void on_disconnected(demo_menu *m, const netcore_lobby_event *ev)
{
    /* A refused certificate says which check failed in the text. */
    bool detailed = ev->error_code == NETCORE_LOBBY_ERR_TLS_FAILED && ev->text && ev->text[0];
    const char *why = detailed         ? ev->text
                      : ev->error_code ? netcore_lobby_error_str(ev->error_code)
                                       : (ev->text && ev->text[0] ? ev->text : "connection closed");
    if (m->leaving) {
        m->leaving = false;
        return;
    }
    if (m->screen == DEMO_MENU_SCREEN_IN_MATCH) {
        return; /* seen again on resume through is_connected */
    }
    if (m->screen == DEMO_MENU_SCREEN_RECONNECTING) {
        if (ev->error_code == NETCORE_LOBBY_ERR_RECONNECT_FAILED ||
            m->reconnect_attempt >= m->config.reconnect_attempts) {
            m->welcomed = false;
            m->in_room = false;
            demo_menu_show_error(m, DEMO_MENU_SCREEN_BROWSER, "Could not resume the session: %s",
                                 why);
            return;
        }
        uint32_t delay = RECONNECT_BASE_MS << (m->reconnect_attempt < 4 ? m->reconnect_attempt : 4);
        m->next_reconnect_ms =
            m->now_ms + (delay < RECONNECT_MAX_DELAY_MS ? delay : RECONNECT_MAX_DELAY_MS);
        return;
    }
    if (m->welcomed && m->config.reconnect_attempts > 0) {
        demo_menu_set_message(m, true, "Connection lost: %s", why);
        m->reconnect_attempt = 0;
        m->next_reconnect_ms = m->now_ms;
        demo_menu_go_screen(m, DEMO_MENU_SCREEN_RECONNECTING);
        return;
    }
    bool was_welcomed = m->welcomed;
    m->welcomed = false;
    m->in_room = false;
    demo_menu_show_error(m, DEMO_MENU_SCREEN_BROWSER,
                         was_welcomed ? "Connection lost: %s" : "Could not connect: %s", why);
}

static void lobby_event(void *user, const netcore_lobby_event *ev)
{
    demo_menu *m = user;
    switch (ev->type) {
    case NETCORE_LOBBY_EVENT_WELCOME:
        if (m->peer_remember) {
            /* Welcomed under the announced certificate: from now on it is this lobby's. */
            demo_menu_remember_pin(m, &m->lobby_address, m->peer_pin);
            m->peer_remember = false;
        }
        m->welcomed = true;
        m->client_id = ev->client_id;
        m->reconnect_attempt = 0;
        if (ev->resumed) {
            demo_menu_set_message(m, false, "%s", "Reconnected to the lobby");
        }
        if (m->screen == DEMO_MENU_SCREEN_CONNECTING ||
            m->screen == DEMO_MENU_SCREEN_RECONNECTING) {
            /* A resumed seat in a room gets its ROOM_STATE right after. */
            demo_menu_go_screen(m, ev->resumed && m->in_room ? DEMO_MENU_SCREEN_ROOM
                                                             : DEMO_MENU_SCREEN_ROOMS);
        }
        break;
    case NETCORE_LOBBY_EVENT_ROOM_LIST: {
        uint32_t selected_id = m->room_selected >= 0 ? m->rooms[m->room_selected].room_id : 0;
        size_t n = ev->room_list_count < NETCORE_LOBBY_LIST_MAX ? ev->room_list_count
                                                                : NETCORE_LOBBY_LIST_MAX;
        memcpy(m->rooms, ev->room_list, n * sizeof m->rooms[0]);
        m->room_count = n;
        m->rooms_total = ev->rooms_total;
        if (n == 0 && m->room_offset > 0) {
            m->room_offset = 0; /* rooms went away under the page: back to the first */
            m->next_room_list_ms = 0;
        }
        m->room_selected = -1;
        for (size_t i = 0; i < n; i++) {
            if (selected_id && m->rooms[i].room_id == selected_id) {
                m->room_selected = (int)i;
            }
        }
        break;
    }
    case NETCORE_LOBBY_EVENT_ROOM_STATE:
        on_room_state(m, ev->room);
        break;
    case NETCORE_LOBBY_EVENT_ROOM_LEFT:
        m->in_room = false;
        m->ready_sent = false;
        if (ev->leave_reason == NETCORE_LOBBY_KICKED) {
            demo_menu_set_message(m, true, "%s", "You were kicked from the room");
        }
        if (m->screen == DEMO_MENU_SCREEN_ROOM) {
            demo_menu_go_screen(m, DEMO_MENU_SCREEN_ROOMS);
        }
        break;
    case NETCORE_LOBBY_EVENT_CHAT:
        demo_menu_chat_push(m, "%s%s: %s",
                            ev->chat_scope == NETCORE_LOBBY_CHAT_LOBBY ? "[lobby] " : "",
                            ev->nickname ? ev->nickname : "?", ev->text ? ev->text : "");
        break;
    case NETCORE_LOBBY_EVENT_MATCH_START:
        on_match_start(m, ev->match);
        break;
    case NETCORE_LOBBY_EVENT_MATCH_END:
        if (ev->match_id == m->outcome.match.match_id) {
            m->match_ended = true;
        }
        demo_menu_chat_push(m, "%s",
                            ev->match_end_reason == NETCORE_LOBBY_MATCH_GAME_SERVER_LOST
                                ? "* The match is over: its game server was lost"
                                : "* The match is over");
        break;
    case NETCORE_LOBBY_EVENT_ERROR:
        demo_menu_set_message(m, true, "%s",
                              ev->text && ev->text[0] ? ev->text
                                                      : netcore_lobby_error_str(ev->error_code));
        break;
    case NETCORE_LOBBY_EVENT_DISCONNECTED:
        on_disconnected(m, ev);
        break;
    default:
        break; /* pong and game-server events: nothing to show */
    }
}

/* ------------------------------------------------------------------ */
/* Discovery                                                           */
/* ------------------------------------------------------------------ */

/* Rebuilds the list from the discovery results: keeps lobbies heard within
 * a few probe periods, and measures ping as the time from the last probe to
 * the update that read a fresh answer (so it includes up to one frame). */
static void refresh_lobbies(demo_menu *m)
{
    const netcore_lobby_found *found = NULL;
    size_t count = 0;
    if (netcore_lobby_discovery_results(m->discovery, &found, &count) != NETCORE_OK) {
        return;
    }
    menu_lobby_entry next[NETCORE_LOBBY_DISCOVERY_MAX];
    size_t n = 0;
    uint64_t stale_ms = (uint64_t)m->config.discovery_interval_ms * LOBBY_STALE_PROBES;
    for (size_t i = 0; i < count && n < NETCORE_LOBBY_DISCOVERY_MAX; i++) {
        if (found[i].last_seen_us / 1000u + stale_ms < m->now_ms) {
            continue;
        }
        menu_lobby_entry *e = &next[n++];
        e->found = found[i];
        e->ping_ms = 0;
        for (size_t j = 0; j < m->lobby_count; j++) {
            if (netcore_address_equal(&m->lobbies[j].found.lobby_address,
                                      &found[i].lobby_address)) {
                e->ping_ms = m->lobbies[j].ping_ms;
                if (m->lobbies[j].found.last_seen_us != found[i].last_seen_us &&
                    found[i].last_seen_us / 1000u >= m->probe_sent_ms) {
                    e->ping_ms = (uint32_t)(found[i].last_seen_us / 1000u - m->probe_sent_ms);
                }
            }
        }
    }
    memcpy(m->lobbies, next, n * sizeof next[0]);
    m->lobby_count = n;
    if (m->lobby_selected >= (int)n) {
        m->lobby_selected = -1;
    }
}

static void run_discovery(demo_menu *m)
{
    if (m->now_ms >= m->next_probe_ms) {
        netcore_address to = m->config.discovery_target;
        if (to.family == NETCORE_ADDRESS_NONE) {
            to = netcore_address_ipv4(255, 255, 255, 255, m->config.discovery_port);
        }
        if (netcore_lobby_discovery_probe(m->discovery, &to) == NETCORE_OK) {
            m->probe_sent_ms = m->now_ms;
        }
        m->next_probe_ms = m->now_ms + m->config.discovery_interval_ms;
    }
    netcore_lobby_discovery_update(m->discovery, m->now_ms * 1000u);
    refresh_lobbies(m);
}

void demo_menu_update(demo_menu *menu, uint64_t now_ms)
{
    menu->now_ms = now_ms;
    if (menu->screen == DEMO_MENU_SCREEN_BROWSER) {
        run_discovery(menu);
    }
    if (!menu->lobby || menu->screen == DEMO_MENU_SCREEN_IN_MATCH) {
        return;
    }
    if (menu->screen == DEMO_MENU_SCREEN_RECONNECTING &&
        !netcore_lobby_client_is_connected(menu->lobby) && now_ms >= menu->next_reconnect_ms) {
        menu->reconnect_attempt++;
        netcore_result r =
            netcore_lobby_client_reconnect(menu->lobby, &menu->lobby_address, now_ms * 1000u);
        if (r != NETCORE_OK) {
            menu->welcomed = false;
            menu->in_room = false;
            demo_menu_show_error(menu, DEMO_MENU_SCREEN_BROWSER, "Could not reconnect: %s",
                                 netcore_result_str(r));
        }
    }
    netcore_lobby_client_update(menu->lobby, now_ms * 1000u);
    if (menu->screen == DEMO_MENU_SCREEN_ROOMS && menu->now_ms >= menu->next_room_list_ms) {
        demo_menu_request_room_list(menu);
    }
}

demo_menu_status demo_menu_result(demo_menu *menu, demo_menu_outcome *out)
{
    /* Quit wins: a client not yet handed over is destroyed with the menu. */
    demo_menu_status status = DEMO_MENU_RUNNING;
    if (menu->quit) {
        status = DEMO_MENU_QUIT;
    } else if (menu->match_ready) {
        menu->match_ready = false;
        menu->handed_over = true;
        menu->outcome.lobby = menu->lobby;
        menu->lobby = NULL;
        status = DEMO_MENU_MATCH_STARTED;
    } else if (menu->handed_over) {
        status = DEMO_MENU_IN_MATCH;
    }
    if (out) {
        if (status == DEMO_MENU_MATCH_STARTED || status == DEMO_MENU_IN_MATCH) {
            *out = menu->outcome;
        } else {
            memset(out, 0, sizeof *out);
        }
        out->status = status;
    }
    menu->outcome.lobby = NULL; /* handed over once */
    return status;
}

void demo_menu_resume(demo_menu *menu, netcore_lobby_client *lobby)
{
    if (!menu->handed_over) {
        return;
    }
    menu->handed_over = false;
    menu->lobby = lobby;
    if (!lobby) {
        menu->welcomed = false;
        menu->in_room = false;
        demo_menu_go_screen(menu, DEMO_MENU_SCREEN_BROWSER);
    } else if (netcore_lobby_client_is_connected(lobby)) {
        demo_menu_go_screen(menu, menu->in_room ? DEMO_MENU_SCREEN_ROOM : DEMO_MENU_SCREEN_ROOMS);
    } else {
        menu->reconnect_attempt = 0;
        menu->next_reconnect_ms = menu->now_ms;
        demo_menu_go_screen(menu, DEMO_MENU_SCREEN_RECONNECTING);
    }
}

bool demo_menu_match_ended(const demo_menu *menu)
{
    return menu->match_ended;
}
