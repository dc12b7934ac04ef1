/*
 * The demo's lobby menus over TLS: LAN lobbies pinned by the certificate
 * they announce and remembered (trust on first use), typed addresses checked
 * against the system store or a remembered pin, plaintext lobbies refused.
 */
#define _POSIX_C_SOURCE 200809L
#include "demo_menu_rig.h"

/* Name screen, then the discovered lobby's row and Connect. */
static void join_discovered(rig *r)
{
    demo_menu *menu = r->seats[0].menu;
    type_text(menu, "tina");
    press_key(menu, SDLK_RETURN);
    widget_wait lobby_row = {0, "test lobby"};
    cr_assert(pump_until(r, widget_shown, &lobby_row), "the lobby was not discovered");
    click(menu, "test lobby");
    click(menu, "Connect");
}

Test(demo_menu, a_lan_lobby_is_joined_by_the_pin_it_announced)
{
    rig r;
    rig_open_tls(&r, true, false);
    join_discovered(&r);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOMS);
    assert_drawn(&r.seats[0], "rooms-tls-pinned");
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(r.server, &st);
    cr_assert_eq(st.tls_handshakes, 1);
    rig_close(&r);
}

Test(demo_menu, a_lan_lobby_without_tls_is_refused_unless_insecure)
{
    rig r;
    rig_open_tls(&r, false, false);
    join_discovered(&r);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ERROR);
    cr_assert(strstr(demo_menu_message(r.seats[0].menu), "--insecure"), "message: %s",
              demo_menu_message(r.seats[0].menu));
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(r.server, &st);
    cr_assert_eq(st.connections_accepted, 0, "nothing was sent in plaintext");
    rig_close(&r);
}

Test(demo_menu, a_typed_address_needs_a_certificate_the_system_trusts)
{
    rig r;
    rig_open_tls(&r, true, true); /* not discovered: no pin to go by */
    demo_menu *menu = r.seats[0].menu;
    demo_menu_update(menu,
                     now_ms()); /* the menu's clock, as a running game's first frame sets it */
    type_text(menu, "tina");
    press_key(menu, SDLK_RETURN);
    char address[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&r.lobby_address, address, sizeof address);
    clear_field(menu, "Lobby address (host or host:port)");
    type_text(menu, address);
    press_key(menu, SDLK_RETURN);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ERROR);
    cr_assert(strstr(demo_menu_message(menu), "certificate"), "message: %s",
              demo_menu_message(menu));
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(r.server, &st);
    cr_assert_eq(st.sessions, 0);
    rig_close(&r);
}

/* The pin file's line for the rig's lobby, or "" when there is none. */
static void known_line(const rig *r, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(r->known_pins, "r");
    if (!f) {
        return;
    }
    if (!fgets(out, (int)size, f)) {
        out[0] = '\0';
    }
    fclose(f);
}

static void write_known_pin(const rig *r, const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    char address[NETCORE_ADDRESS_STRLEN], text[NETCORE_LOBBY_TLS_PIN_STRLEN];
    netcore_address_format(&r->lobby_address, address, sizeof address);
    netcore_lobby_tls_pin_format(pin, text, sizeof text);
    FILE *f = fopen(r->known_pins, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s %s\n", address, text);
    fclose(f);
}

Test(demo_menu, a_first_join_remembers_the_lobby_pin)
{
    rig r;
    rig_open_tls(&r, true, false);
    join_discovered(&r);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOMS);
    char line[256], address[NETCORE_ADDRESS_STRLEN], pin_text[NETCORE_LOBBY_TLS_PIN_STRLEN];
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    cr_assert_eq(netcore_lobby_tls_cert_pin(r.cert, pin), NETCORE_OK);
    netcore_address_format(&r.lobby_address, address, sizeof address);
    netcore_lobby_tls_pin_format(pin, pin_text, sizeof pin_text);
    known_line(&r, line, sizeof line);
    char want[256];
    snprintf(want, sizeof want, "%s %s\n", address, pin_text);
    cr_assert_str_eq(line, want);
    rig_close(&r);
}

Test(demo_menu, a_lobby_whose_certificate_changed_is_refused)
{
    rig r;
    rig_open_tls(&r, true, false);
    /* Joined before with another certificate: someone else answers now. */
    uint8_t old_pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    memset(old_pin, 0x5a, sizeof old_pin);
    write_known_pin(&r, old_pin);
    join_discovered(&r);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ERROR);
    cr_assert(strstr(demo_menu_message(r.seats[0].menu), "changed"), "message: %s",
              demo_menu_message(r.seats[0].menu));
    netcore_lobby_server_stats st;
    netcore_lobby_server_get_stats(r.server, &st);
    cr_assert_eq(st.connections_accepted, 0);
    rig_close(&r);
}

Test(demo_menu, a_typed_address_with_a_remembered_pin_is_trusted_by_it)
{
    rig r;
    rig_open_tls(&r, true, true); /* not discovered */
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    cr_assert_eq(netcore_lobby_tls_cert_pin(r.cert, pin), NETCORE_OK);
    write_known_pin(&r, pin);
    demo_menu *menu = r.seats[0].menu;
    demo_menu_update(menu, now_ms());
    type_text(menu, "tina");
    press_key(menu, SDLK_RETURN);
    char address[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(&r.lobby_address, address, sizeof address);
    clear_field(menu, "Lobby address (host or host:port)");
    type_text(menu, address);
    press_key(menu, SDLK_RETURN);
    wait_screen(&r, 0, DEMO_MENU_SCREEN_ROOMS);
    rig_close(&r);
}
