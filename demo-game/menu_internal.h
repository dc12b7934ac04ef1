/*
 * Shared between menu.c (state, events, lobby) and menu_draw.c (drawing):
 * the menu's state and the widget layout. Each screen's widgets are laid out
 * by one function, demo_menu_layout(), used both to draw and to hit-test
 * clicks, so what is drawn is exactly what can be clicked.
 */
#ifndef DEMO_MENU_INTERNAL_H
#define DEMO_MENU_INTERNAL_H

#include "menu.h"

#define MENU_CHAT_LINES 64
#define MENU_CHAT_LINE_BYTES (2 * NETCORE_LOBBY_NAME_MAX + NETCORE_LOBBY_CHAT_MAX + 8)
#define MENU_MAX_WIDGETS 64
#define MENU_ROW_H 28
#define MENU_MESSAGE_BYTES 160

typedef enum menu_field_id {
    FIELD_NAME = 0,
    FIELD_ADDRESS,
    FIELD_FILTER,
    FIELD_ROOM_NAME,
    FIELD_MAX_PLAYERS,
    FIELD_PASSWORD,
    FIELD_CHAT,
    FIELD_COUNT,
    FIELD_NONE = -1
} menu_field_id;

typedef struct menu_field {
    char text[NETCORE_LOBBY_CHAT_MAX + 1];
    size_t max_bytes; /* at most sizeof text - 1 */
    bool digits_only;
    bool masked; /* drawn as asterisks */
    const char *caption;
} menu_field;

typedef enum menu_action {
    ACT_NONE = 0,
    ACT_CONTINUE, /* name screen */
    ACT_QUIT,
    ACT_LOBBY_ROW, /* index: discovered lobby */
    ACT_CONNECT,
    ACT_HOST,
    ACT_REFRESH,
    ACT_BACK,     /* browser -> name, error -> back target, cancel connecting */
    ACT_ROOM_ROW, /* index: room in the list */
    ACT_HIDE_FULL,
    ACT_PAGE, /* index: -1 previous page, +1 next page of rooms */
    ACT_CREATE,
    ACT_JOIN,
    ACT_DISCONNECT,
    ACT_MEMBER_ROW, /* index: member (not clickable) */
    ACT_KICK,       /* index: member */
    ACT_READY,
    ACT_START,
    ACT_LEAVE,
    ACT_SEND_CHAT,
    ACT_FOCUS /* index: field id */
} menu_action;

typedef enum menu_widget_kind {
    WIDGET_BUTTON = 0,
    WIDGET_FIELD,
    WIDGET_ROW,
    WIDGET_TOGGLE
} menu_widget_kind;

typedef struct menu_widget {
    menu_widget_kind kind;
    menu_action action;
    int index;
    SDL_Rect rect; /* logical pixels */
    const char *label;
    bool enabled;
    bool active; /* selected row, checked toggle, primary button */
} menu_widget;

/* A lobby found on the LAN, with the ping measured from the last probe. */
typedef struct menu_lobby_entry {
    netcore_lobby_found found;
    uint32_t ping_ms;
} menu_lobby_entry;

struct demo_menu {
    demo_menu_config config;
    demo_menu_screen screen;
    bool quit; /* the player chose Quit */
    uint64_t now_ms;

    menu_field fields[FIELD_COUNT];
    menu_field_id focus;

    netcore_lobby_client *lobby; /* NULL before the first connect and while handed over */
    netcore_lobby_discovery *discovery;
    netcore_address lobby_address;
    /* How the current lobby connection is secured, for the screens. */
    bool peer_tls;      /* TLS (else plaintext, --insecure) */
    bool peer_pinned;   /* trusted by peer_pin (LAN announcement, remembered, own host) */
    bool peer_remember; /* a first join by an announced pin: remember it on WELCOME */
    uint8_t peer_pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    bool welcomed; /* a WELCOME arrived on this session */
    bool leaving;  /* we asked to disconnect: no reconnection */
    uint64_t client_id;

    menu_lobby_entry lobbies[NETCORE_LOBBY_DISCOVERY_MAX];
    size_t lobby_count;
    int lobby_selected;
    uint64_t probe_sent_ms;
    uint64_t next_probe_ms;

    netcore_lobby_room_summary rooms[NETCORE_LOBBY_LIST_MAX];
    size_t room_count;
    uint16_t rooms_total;
    uint16_t room_offset; /* first room of the page shown */
    int room_selected;
    bool hide_full;
    uint64_t next_room_list_ms;

    bool in_room;
    netcore_lobby_room_state room;
    bool ready_sent; /* the ready flag we asked for last */

    char chat[MENU_CHAT_LINES][MENU_CHAT_LINE_BYTES];
    size_t chat_first; /* ring: index of the oldest line */
    size_t chat_count;

    uint32_t reconnect_attempt;
    uint64_t next_reconnect_ms;
    demo_menu_screen error_back; /* where "Back" leads from the error screen */

    char message[MENU_MESSAGE_BYTES];
    bool message_is_error;

    bool match_ready; /* MATCH_STARTED waiting for demo_menu_result */
    bool handed_over; /* the caller holds the lobby client until demo_menu_resume */
    bool match_ended;
    demo_menu_outcome outcome;

    SDL_Point mouse; /* last pointer position, logical pixels, for hover */

    menu_widget widgets[MENU_MAX_WIDGETS];
    int widget_count;
};

/* menu.c. Status line text (printf format), shown until replaced. */
void demo_menu_set_message(demo_menu *menu, bool error, const char *fmt, ...);

/* menu.c. Appends a line to the room's chat log (printf format); the oldest
 * of MENU_CHAT_LINES is dropped. Notices start with '*'. */
void demo_menu_chat_push(demo_menu *menu, const char *fmt, ...);

/* menu.c. Switches screens and sets the screen's default focus and timers.
 * Refused while the caller holds the lobby client (IN_MATCH). */
void demo_menu_go_screen(demo_menu *menu, demo_menu_screen screen);

/* menu.c. Shows the error screen with fmt (one %s: detail); Back leads to back. */
void demo_menu_show_error(demo_menu *menu, demo_menu_screen back, const char *fmt,
                          const char *detail);

/* menu_lobby.c. Connects to the lobby at address with the nickname field
 * (a new client each time) and shows the connecting screen; failures show
 * the error screen. Trust (with config.tls): host_pin when given (the own
 * embedded lobby), else the pin a LAN lobby at that address announced, else
 * the system store and typed_host (HOST[:PORT] as typed; may be NULL). */
void demo_menu_connect(demo_menu *menu, const netcore_address *address, const char *typed_host,
                       const uint8_t *host_pin);

/* menu_pins.c. The pin remembered for a lobby address (false: none, or no
 * config.known_pins_file). */
bool demo_menu_known_pin(const demo_menu *menu, const netcore_address *address,
                         uint8_t out_pin[NETCORE_LOBBY_TLS_PIN_BYTES]);
/* menu_pins.c. Remembers a lobby's pin unless one is known for its address. */
void demo_menu_remember_pin(const demo_menu *menu, const netcore_address *address,
                            const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES]);

/* menu_lobby.c. Leaves the lobby on purpose (GOODBYE, no reconnection) and
 * returns to the browser. */
void demo_menu_drop_connection(demo_menu *menu);

/* menu_lobby.c. Asks for the room list with the filter fields; no-op offline. */
void demo_menu_request_room_list(demo_menu *menu);

/* menu_draw.c. Lays out the current screen's widgets into menu->widgets (count in
 * menu->widget_count). Pure function of the menu state. */
void demo_menu_layout(demo_menu *menu);

#endif
