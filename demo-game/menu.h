/*
 * demo-game lobby menus: name entry, LAN lobby browser (discovery, connect by
 * address, host), room list with create and join, the room itself (members,
 * ready flags, chat, kick, start) and error, connecting and reconnecting
 * screens. Driven by the game's loop: feed it SDL events, call update with a
 * monotonic millisecond clock, draw, then ask for the result.
 *
 * The menu owns one netcore_lobby_client (created on the first connect) and
 * one netcore_lobby_discovery. It draws in the renderer's 1280x720 logical
 * coordinates (DEMO_LOGICAL_W x DEMO_LOGICAL_H); mouse events are expected in
 * the same coordinates, which SDL provides once SDL_RenderSetLogicalSize is set.
 * Single-threaded: use it from the thread that owns the renderer.
 */
#ifndef DEMO_MENU_H
#define DEMO_MENU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <SDL.h>

#include "netcore/lobby.h"
#include "render_text.h"

/* Starts an embedded lobby (and game server) for a player who hosts. Returns
 * true, the lobby's TCP port on 127.0.0.1 in *out_lobby_port and, when it
 * speaks TLS (*out_tls), its certificate's pin in out_pin (32 bytes); on
 * failure returns false with a NUL-terminated reason in error (error_size bytes). */
typedef bool (*demo_menu_host_fn)(void *user, uint16_t *out_lobby_port, uint8_t *out_pin,
                                  bool *out_tls, char *error, size_t error_size);

typedef struct demo_menu_config {
    SDL_Renderer *renderer;  /* borrowed; must outlive the menu; required */
    demo_text *text;         /* borrowed text context for renderer; required */
    const char *player_name; /* initial nickname (copied); default "player" */
    demo_menu_host_fn host;  /* NULL: no "Host" button */
    void *host_user;
    netcore_allocator
        allocator;       /* zeroed: malloc/free; also given to the lobby client and discovery */
    netcore_log log;     /* given to the lobby client; zeroed logs nothing */
    uint16_t lobby_port; /* port used when a typed address has none; default 7777 */
    /* Where discovery probes go: family 0 (default) means the broadcast
     * address 255.255.255.255 on discovery_port. */
    netcore_address discovery_target;
    uint16_t discovery_port;        /* default 7777 */
    uint32_t discovery_interval_ms; /* probe period on the browser screen; default 2000 */
    uint32_t room_list_interval_ms; /* room list refresh period; default 3000 */
    uint32_t reconnect_attempts;    /* after a lost connection; default 5, 0 never reconnects */
    uint8_t default_max_players;    /* prefilled in "create room"; default 8 */
    /* Lobby TLS (borrowed; must outlive the menu). NULL: plaintext only
     * (--insecure). With it, a LAN lobby is pinned to the certificate pin
     * its discovery answer announced (trust on first use, shown on the
     * screens), a typed address is verified against the context's store
     * under its host name, and a lobby announced without TLS is refused. */
    const netcore_lobby_tls *tls;
    /* Where the pins of lobbies joined before are remembered (trust on
     * first use; read and appended, never rewritten); NULL: nowhere. A LAN
     * announcement whose pin differs from the remembered one is refused
     * (the host's certificate changed, or someone else answers for it), and
     * a typed address with a remembered pin is trusted by it. */
    const char *known_pins_file;
} demo_menu_config;

typedef enum demo_menu_screen {
    DEMO_MENU_SCREEN_NAME = 0,
    DEMO_MENU_SCREEN_BROWSER, /* LAN lobbies, address field, host */
    DEMO_MENU_SCREEN_CONNECTING,
    DEMO_MENU_SCREEN_ROOMS,        /* room list, create, join */
    DEMO_MENU_SCREEN_ROOM,         /* members, chat, ready, start */
    DEMO_MENU_SCREEN_RECONNECTING, /* lost the lobby: resuming the session */
    DEMO_MENU_SCREEN_ERROR,        /* message with a way back */
    DEMO_MENU_SCREEN_IN_MATCH      /* the lobby client is with the caller */
} demo_menu_screen;

typedef enum demo_menu_status {
    DEMO_MENU_RUNNING = 0,
    DEMO_MENU_QUIT,          /* the player chose Quit (or closed the window) */
    DEMO_MENU_MATCH_STARTED, /* returned once per match, with the lobby client */
    DEMO_MENU_IN_MATCH       /* after MATCH_STARTED, until demo_menu_resume */
} demo_menu_status;

typedef struct demo_menu_player {
    uint64_t client_id;
    char nickname[NETCORE_LOBBY_NAME_MAX + 1];
} demo_menu_player;

typedef struct demo_menu_outcome {
    demo_menu_status status;
    /* MATCH_STARTED only: the connected lobby client. Ownership passes to the
     * caller, who keeps calling netcore_lobby_client_update on it during the
     * match and gives it back with demo_menu_resume (or destroys it). Its
     * events still reach the menu (room changes, chat, match end are kept for
     * the room screen), so destroy or resume it before destroying the menu. */
    netcore_lobby_client *lobby;
    netcore_address lobby_address;
    uint64_t local_client_id;
    char nickname[NETCORE_LOBBY_NAME_MAX + 1];
    uint32_t room_id;
    char room_name[NETCORE_LOBBY_NAME_MAX + 1];
    netcore_lobby_match_start match; /* game server address, connect token, match id */
    uint8_t player_count;            /* the room's members when the match started */
    demo_menu_player players[NETCORE_LOBBY_MAX_PLAYERS];
} demo_menu_outcome;

typedef struct demo_menu demo_menu;

/* Fills *config with the defaults listed above (renderer and text NULL). */
void demo_menu_config_default(demo_menu_config *config);

/* Creates the menu on the name screen and opens the discovery socket; copies
 * the config. Returns NULL when renderer or text is missing, memory runs out
 * or the discovery socket cannot be opened. Free with demo_menu_destroy. */
demo_menu *demo_menu_create(const demo_menu_config *config);

/* Destroys the lobby client the menu owns (not one handed to the caller) and
 * the discovery socket, then frees the menu. NULL is ignored. */
void demo_menu_destroy(demo_menu *menu);

/* Handles one SDL event: text input, keys (Tab, Enter, Esc, Backspace, arrows)
 * and mouse clicks in logical coordinates. Returns true when the menu used
 * it. SDL_QUIT makes the result QUIT. */
bool demo_menu_handle_event(demo_menu *menu, const SDL_Event *event);

/* Runs the lobby client and discovery the menu owns, timers (refreshes,
 * reconnection) and the screens' reactions to lobby events. now_ms: any
 * monotonic millisecond clock, the same one on every call. Never blocks. */
void demo_menu_update(demo_menu *menu, uint64_t now_ms);

/* Draws the current screen over the whole logical area. Does not present. */
void demo_menu_draw(demo_menu *menu);

/* Fills *out (may be NULL) and returns the status. MATCH_STARTED is reported
 * by one call only, which hands the lobby client over (see demo_menu_outcome);
 * later calls report IN_MATCH with lobby NULL until demo_menu_resume. QUIT
 * comes first: a client not handed over yet stays with the menu (destroyed
 * with it), one already handed over stays with the caller. */
demo_menu_status demo_menu_result(demo_menu *menu, demo_menu_outcome *out);

/* Gives the lobby client back after a match (ownership returns to the menu)
 * and shows the room screen; if the client lost its connection the menu
 * reconnects. A NULL lobby (the caller destroyed it) returns to the browser.
 * Ignored unless a client was handed over and not given back yet. */
void demo_menu_resume(demo_menu *menu, netcore_lobby_client *lobby);

/* True once the lobby reported the end of the match handed over last. */
bool demo_menu_match_ended(const demo_menu *menu);

/* The screen shown now. */
demo_menu_screen demo_menu_current_screen(const demo_menu *menu);

/* The room the player is in, or NULL; valid until the next update or event. */
const netcore_lobby_room_state *demo_menu_room(const demo_menu *menu);

/* Chat line index (0 = oldest kept; "nick: text" or a notice), or NULL past
 * the end. Valid until the next update. */
const char *demo_menu_chat_line(const demo_menu *menu, size_t index);

/* The last status or error message shown to the player ("" for none). */
const char *demo_menu_message(const demo_menu *menu);

/* Finds the button, field or list row on the current screen whose label is
 * label (rows: their first column text) and stores its rectangle in logical
 * coordinates: for scripted input and tests. Returns false when absent. */
bool demo_menu_find_widget(demo_menu *menu, const char *label, SDL_Rect *out_rect);

#endif
