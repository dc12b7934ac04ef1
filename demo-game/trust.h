/*
 * demo-game lobby trust: the host's TLS certificate and how a player's (or
 * a registering game server's) lobby connection decides to trust a lobby.
 *
 * A host (demo-server, or demo-game hosting from its menu) serves its lobby
 * over TLS with a self-signed certificate made on first run and kept in the
 * user's configuration directory ($XDG_CONFIG_HOME/netcore-demo, else
 * ~/.config/netcore-demo; the key file is readable by its owner only). Its
 * SHA-256 pin is printed and announced by LAN discovery.
 *
 * A joining player trusts:
 *   - a lobby found on the LAN by the pin it announced, remembered in
 *     known-lobbies once it welcomed the player (trust on first use: a
 *     changed pin is refused later; the pin is shown on the lobby screen),
 *   - a lobby given by name (--connect HOST) by the system trust store (or a
 *     CA file) and that name, or by a pin given with --pin.
 * Plaintext only with --insecure (both sides).
 */
#ifndef DEMO_TRUST_H
#define DEMO_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netcore/lobby.h"

#define DEMO_PATH_MAX 512

/* The host's certificate and key files and the certificate's pin. */
typedef struct demo_host_identity {
    char cert_file[DEMO_PATH_MAX];
    char key_file[DEMO_PATH_MAX];
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES];
} demo_host_identity;

/* Finds the host certificate in the configuration directory, making the
 * directory (0700) and a self-signed certificate on first use. Returns false
 * with a message on stderr when neither works. */
bool demo_host_identity_load(demo_host_identity *out);

/* The path of a file in the configuration directory (made, 0700, when
 * missing); false when there is no such directory (no HOME). */
bool demo_config_file(const char *name, char *out, size_t out_size);

/* Loads given certificate and key files instead (--tls-cert, --tls-key). */
bool demo_host_identity_from_files(const char *cert_file, const char *key_file,
                                   demo_host_identity *out);

/* How a connection trusts its lobby (command-line flags). */
typedef struct demo_trust_options {
    bool insecure;        /* plaintext, no TLS (--insecure) */
    const char *ca_file;  /* NULL: the system trust store (--ca / --lobby-ca) */
    const char *pin_text; /* NULL: none (--pin / --lobby-pin) */
} demo_trust_options;

/* A lobby connection's trust, resolved: the TLS context (NULL: plaintext)
 * and what to check for the lobby named by the user. */
typedef struct demo_trust {
    netcore_lobby_tls *tls; /* owned; NULL when insecure */
    bool pin_set;
    uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES];
    char server_name[NETCORE_LOBBY_TLS_SERVER_NAME_MAX + 1]; /* host part of HOST[:PORT] */
} demo_trust;

/* Builds the trust for a lobby given as host_text (HOST[:PORT], may be
 * NULL for a menu that picks lobbies later). Returns false with a message on
 * stderr (bad pin, unreadable CA file). Free with demo_trust_release. */
bool demo_trust_make(const demo_trust_options *options, const char *host_text, demo_trust *out);
void demo_trust_release(demo_trust *trust);

/* Sets the TLS fields of a lobby client config from trust (nothing when
 * plaintext); a pin, when given, replaces the name check. */
void demo_trust_apply(const demo_trust *trust, const uint8_t *pin,
                      netcore_lobby_client_config *config);

/* "AB:CD:EF:01" and so on: the first bytes of a pin, for a screen. */
void demo_trust_short_pin(const uint8_t pin[NETCORE_LOBBY_TLS_PIN_BYTES], char *out,
                          size_t out_size);

#endif
