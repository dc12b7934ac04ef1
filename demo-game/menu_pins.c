/* The menu's remembered lobby certificates (trust on first use): one line
 * per lobby, "ADDRESS PIN" (ADDRESS as netcore_address_format writes it, PIN
 * as netcore_lobby_tls_pin_format), in the file config.known_pins_file. A
 * pin is remembered once a lobby welcomed us under it; a later announcement
 * of another certificate at that address is refused until the line is
 * deleted. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "menu_internal.h"

/* Known pins files stay small: more lobbies than this are not remembered. */
#define PINS_MAX_LINES 256
#define PINS_LINE_BYTES (NETCORE_ADDRESS_STRLEN + NETCORE_LOBBY_TLS_PIN_STRLEN + 8)

bool demo_menu_known_pin(const demo_menu *m, const netcore_address *address,
                         uint8_t out_pin[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    if (!m->config.known_pins_file) {
        return false;
    }
    FILE *f = fopen(m->config.known_pins_file, "r");
    if (!f) {
        return false;
    }
    char want[NETCORE_ADDRESS_STRLEN];
    netcore_address_format(address, want, sizeof want);
    char line[PINS_LINE_BYTES];
    bool found = false;
    for (int n = 0; n < PINS_MAX_LINES && !found && fgets(line, sizeof line, f); n++) {
        char *space = strchr(line, ' ');
        if (!space) {
            continue;
        }
        *space = '\0';
        char *pin = space + 1;
        pin[strcspn(pin, "\r\n")] = '\0';
        found = strcmp(line, want) == 0 && netcore_lobby_tls_pin_parse(pin, out_pin) == NETCORE_OK;
    }
    fclose(f);
    return found;
}

void demo_menu_remember_pin(const demo_menu *m, const netcore_address *address,
                            const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES])
{
    uint8_t known[NETCORE_LOBBY_TLS_PIN_BYTES];
    if (!m->config.known_pins_file || demo_menu_known_pin(m, address, known)) {
        return; /* a known lobby keeps its first pin */
    }
    FILE *f = fopen(m->config.known_pins_file, "a");
    if (!f) {
        return;
    }
    char text[NETCORE_ADDRESS_STRLEN];
    char pin_text[NETCORE_LOBBY_TLS_PIN_STRLEN];
    netcore_address_format(address, text, sizeof text);
    netcore_lobby_tls_pin_format(pin, pin_text, sizeof pin_text);
    fprintf(f, "%s %s\n", text, pin_text);
    fclose(f);
}
